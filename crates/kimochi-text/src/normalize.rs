//! Normalisation (正規化) for analysis: NFKC (full/half width, half-width kana), old kana, invisible and
//! control characters removed, long-vowel variants after kana unified to 「ー」, repeated
//! punctuation and emoji collapsed, whitespace runs folded, ASCII lowercased — with a map from
//! every normalised byte back to the original text, so spans point into what the user wrote.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Longest input analysed, in bytes; longer input is cut at the last character boundary before
/// it. Contact-center utterances are far shorter; the bound keeps time and memory per call flat.
pub const MAX_INPUT_BYTES: usize = 16 * 1024;

/// Combining marks kept after one base character; the rest (Zalgo text) are dropped.
const MAX_COMBINING_MARKS: usize = 4;

/// Text normalised for analysis, with the way back to the original.
#[derive(Debug, Clone, Default)]
pub struct Normalized {
    pub text: String,
    /// For each byte of `text`, the original byte range of the character(s) it came from.
    origin: Vec<(u32, u32)>,
}

impl Normalized {
    /// The original byte range that normalised bytes `start..end` came from.
    pub fn original_range(&self, start: usize, end: usize) -> (usize, usize) {
        if start >= end || end > self.origin.len() {
            return (0, 0);
        }
        (self.origin[start].0 as usize, self.origin[end - 1].1 as usize)
    }
}

/// Cuts `text` to at most [`MAX_INPUT_BYTES`] on a character boundary.
pub fn bound(text: &str) -> &str {
    if text.len() <= MAX_INPUT_BYTES {
        return text;
    }
    let mut cut = MAX_INPUT_BYTES;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

/// Characters that change nothing visible but can hide words from matching: zero-width
/// characters, bidirectional overrides, variation selectors, byte-order marks, controls, and the
/// replacement character left by mis-decoded bytes.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFD}'
        | '\u{E0000}'..='\u{E0FFF}')
        || (c.is_control() && !c.is_whitespace())
}

fn is_kana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | 'ー')
}

/// Dashes, tildes and wave dashes that people type for a long vowel (「すご〜い」「ス－パー」).
fn is_long_vowel_variant(c: char) -> bool {
    matches!(c, '~' | '〜' | '-' | '‐' | '‑' | '–' | '—' | '―' | '−' | 'ー' | '～')
}

/// Characters whose repetition adds emphasis but no words (「！！！」「。。」「ーーー」, emoji).
fn collapses_when_repeated(c: char) -> bool {
    matches!(c, '!' | '?' | '。' | '、' | '.' | ',' | 'ー' | '…' | '・' | '~' | ' ')
        || matches!(c, '\u{2600}'..='\u{27BF}' | '\u{1F000}'..='\u{1FAFF}')
}

/// Marks that belong to the preceding character, including half-width (semi-)voiced sound marks
/// that NFKC composes with the kana before them (「ｶﾞ」→「ガ」).
fn attaches_to_previous(c: char) -> bool {
    is_combining_mark(c) || matches!(c, '\u{FF9E}' | '\u{FF9F}' | '\u{3099}' | '\u{309A}')
}

/// Normalises `text` (first bounded by [`bound`]).
pub fn normalize(text: &str) -> Normalized {
    let text = bound(text);
    let mut out = Normalized { text: String::with_capacity(text.len()), origin: Vec::with_capacity(text.len()) };
    let mut cluster = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, first)) = chars.next() {
        cluster.clear();
        let mut end = start + first.len_utf8();
        if !is_invisible(first) {
            cluster.push(first);
        }
        let mut marks = 0;
        while let Some(&(i, c)) = chars.peek() {
            if !attaches_to_previous(c) && !is_invisible(c) {
                break;
            }
            chars.next();
            end = i + c.len_utf8();
            if !is_invisible(c) && marks < MAX_COMBINING_MARKS {
                cluster.push(c);
                marks += 1;
            }
        }
        for c in cluster.nfkc() {
            push(&mut out, c, start, end);
        }
    }
    out
}

fn push(out: &mut Normalized, c: char, start: usize, end: usize) {
    let previous = out.text.chars().next_back();
    let mut c = if c.is_whitespace() { ' ' } else { c.to_ascii_lowercase() };
    // Old kana (ゐ, ゑ) that people still type for effect read as their modern sounds.
    c = match c {
        'ゐ' => 'い',
        'ゑ' => 'え',
        'ヰ' => 'イ',
        'ヱ' => 'エ',
        _ => c,
    };
    if is_long_vowel_variant(c) && previous.is_some_and(is_kana) {
        c = 'ー';
    }
    if c == ' ' && previous.is_none() {
        return;
    }
    if previous == Some(c) && collapses_when_repeated(c) {
        // The kept character now stands for the whole run, so its span covers it.
        let len = c.len_utf8();
        let from = out.origin.len() - len;
        for origin in &mut out.origin[from..] {
            origin.1 = end as u32;
        }
        return;
    }
    out.text.push(c);
    for _ in 0..c.len_utf8() {
        out.origin.push((start as u32, end as u32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        assert_eq!(normalize(input).text, expected, "input {input:?}");
    }

    #[test]
    fn normalises_width_kana_marks_and_repeats() {
        check("ＡＢＣ１２３", "abc123");
        check("ｶﾞｲﾄﾞ", "ガイド");
        check("すご〜〜いーーー！！！", "すごーいー!");
        check("良\u{200B}く\u{202E}ない", "良くない");
        check("満足　　してます", "満足 してます");
        check("か\u{3099}", "が");
        check("😡😡😡", "😡");
        check("ゐゑヰヱ", "いえイエ");
        check("", "");
    }

    #[test]
    fn maps_back_to_the_original() {
        let input = "ＡＢ！！良\u{200B}い";
        let normalized = normalize(input);
        let at = normalized.text.find('良').unwrap();
        let (start, end) = normalized.original_range(at, normalized.text.len());
        assert_eq!(&input[start..end], "良\u{200B}い");
        let bang = normalized.text.find('!').unwrap();
        let (start, end) = normalized.original_range(bang, bang + 1);
        assert_eq!(&input[start..end], "！！");
    }

    #[test]
    fn bounds_huge_input_on_a_char_boundary() {
        let huge = "あ".repeat(MAX_INPUT_BYTES);
        let bounded = bound(&huge);
        assert!(bounded.len() <= MAX_INPUT_BYTES);
        assert!(bounded.len() > MAX_INPUT_BYTES - 3);
    }
}
