//! Personal data in free text (個人情報): phone numbers, e-mail addresses and card-like numbers,
//! found in half- or full-width writing and masked for analytics and for roles without access.

use serde::Serialize;

/// What kind of personal data was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    Phone,
    Email,
    Card,
}

impl PiiKind {
    /// The placeholder written in place of the data.
    pub fn mask(self) -> &'static str {
        match self {
            PiiKind::Phone => "[電話番号]",
            PiiKind::Email => "[メール]",
            PiiKind::Card => "[カード番号]",
        }
    }
}

/// One piece of personal data: byte range in the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PiiSpan {
    pub kind: PiiKind,
    pub start: usize,
    pub end: usize,
}

/// Text with its personal data replaced by placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    pub text: String,
    /// Where the data was, in the input text.
    pub found: Vec<PiiSpan>,
}

/// ASCII value of a half- or full-width digit.
fn digit(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '０'..='９' => Some((c as u32 - '０' as u32) as u8),
        _ => None,
    }
}

fn is_separator(c: char) -> bool {
    matches!(c, '-' | '－' | '‐' | '―' | '−' | 'ー' | ' ' | '　' | '(' | ')' | '（' | '）' | '.')
}

fn is_email_local(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '.' | '_' | '%' | '+' | '-')
        || ('ａ'..='ｚ').contains(&c)
        || ('Ａ'..='Ｚ').contains(&c)
        || digit(c).is_some()
}

fn is_email_domain(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '.' | '-' | '．')
        || ('ａ'..='ｚ').contains(&c)
        || ('Ａ'..='Ｚ').contains(&c)
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Finds personal data in `text`, spans sorted and not overlapping.
pub fn find_pii(text: &str) -> Vec<PiiSpan> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        if c == '@' || c == '＠' {
            let mut left = i;
            while left > 0 && is_email_local(chars[left - 1].1) {
                left -= 1;
            }
            let mut right = i + 1;
            while right < chars.len() && is_email_domain(chars[right].1) {
                right += 1;
            }
            while right > i + 1 && matches!(chars[right - 1].1, '.' | '．' | '-') {
                right -= 1;
            }
            let domain: String = chars[i + 1..right].iter().map(|&(_, c)| c).collect();
            if left < i && (domain.contains('.') || domain.contains('．')) && domain.chars().count() >= 4 {
                found.retain(|s: &PiiSpan| s.end <= chars[left].0);
                found.push(PiiSpan { kind: PiiKind::Email, start: chars[left].0, end: end_of(right) });
                i = right;
                continue;
            }
        }
        let starts_number =
            digit(c).is_some() || ((c == '+' || c == '＋') && chars.get(i + 1).is_some_and(|x| digit(x.1).is_some()));
        let after_word = i > 0 && (chars[i - 1].1.is_ascii_alphanumeric() || digit(chars[i - 1].1).is_some());
        if !starts_number || after_word {
            i += 1;
            continue;
        }
        // A run of digits with single separators between groups: 090-1234-5678, 4111 1111 1111 1111.
        let mut digits = Vec::new();
        let mut j = i;
        let mut last_digit = i;
        let plus = c == '+' || c == '＋';
        if plus {
            j += 1;
        }
        while j < chars.len() {
            let c = chars[j].1;
            if let Some(d) = digit(c) {
                digits.push(d);
                last_digit = j;
                j += 1;
            } else if !digits.is_empty()
                && j == last_digit + 1
                && is_separator(c)
                && chars.get(j + 1).is_some_and(|x| digit(x.1).is_some())
            {
                j += 1;
            } else {
                break;
            }
            if digits.len() > 24 {
                break;
            }
        }
        let kind = if plus && digits.starts_with(&[8, 1]) && (11..=12).contains(&digits.len()) {
            Some(PiiKind::Phone)
        } else if (13..=19).contains(&digits.len()) && luhn(&digits) {
            Some(PiiKind::Card)
        } else if digits.first() == Some(&0) && (10..=11).contains(&digits.len()) {
            Some(PiiKind::Phone)
        } else if (14..=19).contains(&digits.len()) {
            // Card-like even when the check digit fails: a mistyped card number is still one.
            Some(PiiKind::Card)
        } else {
            None
        };
        if let Some(kind) = kind {
            found.push(PiiSpan { kind, start: chars[i].0, end: end_of(last_digit + 1) });
        }
        i = last_digit.max(i) + 1;
    }
    found
}

/// Replaces personal data in `text` by placeholders (「[電話番号]」…).
pub fn mask_pii(text: &str) -> Masked {
    let found = find_pii(text);
    let mut masked = String::with_capacity(text.len());
    let mut at = 0;
    for span in &found {
        masked.push_str(&text[at..span.start]);
        masked.push_str(span.kind.mask());
        at = span.end;
    }
    masked.push_str(&text[at..]);
    Masked { text: masked, found }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        assert_eq!(mask_pii(input).text, expected, "input {input:?}");
    }

    #[test]
    fn masks_phones_emails_and_cards() {
        check("電話は090-1234-5678です", "電話は[電話番号]です");
        check("０３－１２３４－５６７８にお願いします", "[電話番号]にお願いします");
        check("+81 90 1234 5678", "[電話番号]");
        check("メールはhanako.yamada@example.co.jpまで", "メールは[メール]まで");
        check("カードは4111 1111 1111 1111です", "カードは[カード番号]です");
        check("４１１１－１１１１－１１１１－１１１１", "[カード番号]");
    }

    #[test]
    fn leaves_ordinary_numbers() {
        check("注文番号12345の件です", "注文番号12345の件です");
        check("2024年3月15日に3個", "2024年3月15日に3個");
        check("〒100-0001", "〒100-0001");
        check("a@b", "a@b");
    }
}
