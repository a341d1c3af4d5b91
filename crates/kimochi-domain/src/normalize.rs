//! Text normalisation for Japanese input: full-width/half-width (全角/半角), kana variants and
//! spacing, so that `０３（１２３４）` and `03(1234)` or `ヤマダ　タロウ` and `やまだたろう` compare equal.

use unicode_normalization::UnicodeNormalization;

/// NFKC, then every run of white space (including the ideographic space `　`) folded to one
/// ASCII space, trimmed. Half-width katakana become full-width, full-width ASCII becomes ASCII.
pub fn normalize_text(input: &str) -> String {
    let nfkc: String = input.nfkc().collect();
    let mut out = String::with_capacity(nfkc.len());
    let mut pending_space = false;
    for ch in nfkc.chars() {
        if ch.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if ch.is_control() {
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(ch);
    }
    out
}

/// The key customer search matches on: normalised text, hiragana folded to katakana, ASCII
/// lower-cased, and spaces and middle dots removed. `山田 太郎`, `ヤマダタロウ` and `やまだ　たろう`
/// each become one comparable string.
pub fn search_key(input: &str) -> String {
    normalize_text(input)
        .chars()
        .filter(|ch| !matches!(ch, ' ' | '・' | '･' | '.'))
        .map(|ch| match ch {
            // Hiragana ぁ (U+3041) … ゖ (U+3096) map one-to-one onto katakana U+30A1 … U+30F6.
            '\u{3041}'..='\u{3096}' => char::from_u32(ch as u32 + 0x60).unwrap_or(ch),
            _ => ch.to_ascii_lowercase(),
        })
        .collect()
}

/// Whether a string is written in kana (hiragana, katakana, the long-vowel mark and spaces) —
/// what a フリガナ column must hold.
pub fn is_kana(input: &str) -> bool {
    input.chars().all(|ch| {
        matches!(ch, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | 'ー' | '・' | ' ' | 'ゝ' | 'ゞ' | 'ヽ' | 'ヾ')
    })
}

/// Kana as stored: normalised and in katakana (the form Japanese CRMs print in フリガナ).
pub fn to_katakana(input: &str) -> String {
    normalize_text(input)
        .chars()
        .map(|ch| match ch {
            '\u{3041}'..='\u{3096}' => char::from_u32(ch as u32 + 0x60).unwrap_or(ch),
            _ => ch,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        assert_eq!(search_key(input), expected, "search_key({input:?})");
    }

    #[test]
    fn search_keys_fold_width_kana_and_spaces() {
        check("山田　太郎", "山田太郎");
        check("やまだ たろう", "ヤマダタロウ");
        check("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダタロウ");
        check("ＹＡＭＡＤＡ", "yamada");
        check("  Tarō  ", "tarō");
    }

    #[test]
    fn normalize_text_folds_whitespace_and_width() {
        assert_eq!(normalize_text("　ＡＢＣ　　１２３\t"), "ABC 123");
        assert_eq!(normalize_text("a\u{0000}b"), "ab");
    }

    #[test]
    fn kana_detection() {
        assert!(is_kana("ヤマダ タロウ"));
        assert!(is_kana("やまだ"));
        assert!(!is_kana("山田"));
        assert_eq!(to_katakana("やまだ　はなこ"), "ヤマダ ハナコ");
    }
}
