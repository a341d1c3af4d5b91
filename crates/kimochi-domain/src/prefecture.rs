//! The 47 prefectures (都道府県). Files write them with or without the suffix (`東京` / `東京都`).

use crate::error::ValidationError;
use crate::normalize::normalize_text;

/// The 47 prefectures in JIS X 0401 order (code = index + 1).
pub const PREFECTURES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

/// Returns the prefecture's full name (`東京` → `東京都`), or an error naming the value.
pub fn parse_prefecture(input: &str) -> Result<&'static str, ValidationError> {
    let text = normalize_text(input);
    PREFECTURES
        .iter()
        .find(|name| {
            **name == text
                || (text.chars().count() >= 2 && name.strip_suffix(['都', '道', '府', '県']) == Some(text.as_str()))
        })
        .copied()
        .ok_or_else(|| ValidationError::new("prefecture", input, "is not one of the 47 prefectures"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_names_with_and_without_suffix() {
        assert_eq!(parse_prefecture("東京").unwrap(), "東京都");
        assert_eq!(parse_prefecture("東京都").unwrap(), "東京都");
        assert_eq!(parse_prefecture("北海道").unwrap(), "北海道");
        assert_eq!(parse_prefecture("大阪").unwrap(), "大阪府");
        assert_eq!(parse_prefecture("京都").unwrap(), "京都府");
        assert_eq!(parse_prefecture("京都府").unwrap(), "京都府");
        assert!(parse_prefecture("京").is_err());
        assert!(parse_prefecture("東京市").is_err());
        assert!(parse_prefecture("").is_err());
    }
}
