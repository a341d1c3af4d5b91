//! Crisis words (NGワード): per-tenant phrases with a severity, matched on a key that ignores
//! width, kana script, case, spacing and symbols, so 「ﾀﾋ ね」「タ・ヒ・ネ」 match 「たひね」.

use aho_corasick::AhoCorasick;
use serde::Serialize;

use crate::normalize::{self, normalize};

/// How urgent a crisis word is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn code(self) -> &'static str {
        self.to_domain().code()
    }

    pub fn to_domain(self) -> kimochi_domain::CrisisSeverity {
        match self {
            Severity::Low => kimochi_domain::CrisisSeverity::Low,
            Severity::Medium => kimochi_domain::CrisisSeverity::Medium,
            Severity::High => kimochi_domain::CrisisSeverity::High,
            Severity::Critical => kimochi_domain::CrisisSeverity::Critical,
        }
    }

    pub fn from_domain(severity: kimochi_domain::CrisisSeverity) -> Severity {
        match severity {
            kimochi_domain::CrisisSeverity::Low => Severity::Low,
            kimochi_domain::CrisisSeverity::Medium => Severity::Medium,
            kimochi_domain::CrisisSeverity::High => Severity::High,
            kimochi_domain::CrisisSeverity::Critical => Severity::Critical,
        }
    }

    pub fn parse(code: &str) -> Option<Severity> {
        Some(match code {
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

/// A crisis-word list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("crisis words {source_name} line {line}: {reason}")]
pub struct CrisisListError {
    pub source_name: String,
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CrisisWord {
    phrase: String,
    key: String,
    severity: Severity,
}

/// A tenant's crisis words.
#[derive(Debug, Clone, Default)]
pub struct CrisisList {
    words: Vec<CrisisWord>,
    /// One automaton over every key: a scan costs one pass over the text, however long the list.
    automaton: Option<AhoCorasick>,
}

/// One crisis word found: byte range in the original text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrisisHit {
    pub phrase: String,
    pub severity: Severity,
    pub start: usize,
    pub end: usize,
}

/// The key a phrase is matched on: width, kana script, case, spacing and symbols folded, so
/// 「ﾀﾋ ね」 and 「たひね」 have one key. Empty when the phrase has no letters or digits. Two crisis
/// words with one key are one word (the store refuses the second).
pub fn matching_key(phrase: &str) -> String {
    crisis_key(normalize::bound(phrase)).0
}

/// The matching key of `text`, with each key character's original byte range.
fn crisis_key(text: &str) -> (String, Vec<(usize, usize)>) {
    let normalized = normalize(text);
    let mut key = String::with_capacity(normalized.text.len());
    let mut origin = Vec::new();
    for (i, c) in normalized.text.char_indices() {
        if c.is_whitespace() || (!c.is_alphanumeric() && c != 'ー') {
            continue;
        }
        let range = normalized.original_range(i, i + c.len_utf8());
        // Katakana to hiragana, so the script chosen to write a word does not hide it.
        let c = if ('\u{30A1}'..='\u{30F6}').contains(&c) { char::from_u32(c as u32 - 0x60).unwrap_or(c) } else { c };
        key.push(c);
        for _ in 0..c.len_utf8() {
            origin.push(range);
        }
    }
    (key, origin)
}

impl CrisisList {
    /// Reads `phrase<TAB>severity` lines (`low|medium|high|critical`), `#` comments.
    pub fn parse(source_name: &str, text: &str) -> Result<CrisisList, CrisisListError> {
        let mut words = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let err = |reason: String| CrisisListError { source_name: source_name.to_owned(), line: n + 1, reason };
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let (phrase, severity) =
                content.split_once('\t').ok_or_else(|| err("expected `phrase<TAB>severity`".into()))?;
            let severity = Severity::parse(severity.trim())
                .ok_or_else(|| err(format!("unknown severity `{}` (low, medium, high, critical)", severity.trim())))?;
            let (key, _) = crisis_key(phrase.trim());
            if key.is_empty() {
                return Err(err("phrase has no letters".into()));
            }
            words.push(CrisisWord { phrase: phrase.trim().to_owned(), key, severity });
        }
        CrisisList::from_words(source_name, words)
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// `self` (the built-in list) extended with a tenant's own words. A tenant word with the key
    /// of a built-in one replaces it, so a tenant can raise or lower a built-in word's severity.
    pub fn with_tenant_words<'a>(
        &self,
        tenant_words: impl IntoIterator<Item = (&'a str, Severity)>,
    ) -> Result<CrisisList, CrisisListError> {
        let mut words: Vec<CrisisWord> = Vec::new();
        let mut keys = std::collections::HashSet::new();
        for (phrase, severity) in tenant_words {
            let (key, _) = crisis_key(normalize::bound(phrase.trim()));
            if key.is_empty() || !keys.insert(key.clone()) {
                continue;
            }
            words.push(CrisisWord { phrase: phrase.trim().to_owned(), key, severity });
        }
        for word in &self.words {
            if keys.insert(word.key.clone()) {
                words.push(word.clone());
            }
        }
        CrisisList::from_words("tenant crisis words", words)
    }

    fn from_words(source_name: &str, words: Vec<CrisisWord>) -> Result<CrisisList, CrisisListError> {
        let automaton = if words.is_empty() {
            None
        } else {
            let keys = words.iter().map(|w| w.key.as_str());
            Some(AhoCorasick::new(keys).map_err(|e| CrisisListError {
                source_name: source_name.to_owned(),
                line: 0,
                reason: format!("list too large: {e}"),
            })?)
        };
        Ok(CrisisList { words, automaton })
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Every crisis word in `text`, most severe first.
    pub fn scan(&self, text: &str) -> Vec<CrisisHit> {
        let Some(automaton) = &self.automaton else { return Vec::new() };
        let (key, origin) = crisis_key(text);
        let mut hits = Vec::new();
        for found in automaton.find_overlapping_iter(&key) {
            let word = &self.words[found.pattern().as_usize()];
            let (start, _) = origin[found.start()];
            let (_, end) = origin[found.end() - 1];
            hits.push(CrisisHit { phrase: word.phrase.clone(), severity: word.severity, start, end });
        }
        hits.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.start.cmp(&b.start)));
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_through_width_kana_spacing_and_symbols() {
        let list = CrisisList::parse("t", "訴える\thigh\n死ね\tcritical\nバカ\tmedium\n").unwrap();
        for text in ["お前ら訴えるぞ", "ふざけんな、死・ね", "ﾊﾞｶじゃないの", "ば か", "バ\u{200B}カ"]
        {
            assert!(!list.scan(text).is_empty(), "{text}");
        }
        let hits = list.scan("ﾊﾞｶ");
        assert_eq!(hits[0].severity, Severity::Medium);
        assert_eq!((hits[0].start, hits[0].end), (0, "ﾊﾞｶ".len()));
        assert!(list.scan("ありがとうございました").is_empty());
    }

    #[test]
    fn tenant_words_extend_and_override_the_builtin_list() {
        let builtin = CrisisList::parse("t", "訴える\thigh\n最悪\tmedium\n").unwrap();
        let tenant = builtin.with_tenant_words([("ﾍﾝｷﾝ", Severity::Low), ("最　悪", Severity::Critical)]).unwrap();
        assert_eq!(tenant.len(), 3);
        let hits = tenant.scan("返金しないなら最悪だ、へんきん！");
        let found: Vec<(&str, Severity)> = hits.iter().map(|h| (h.phrase.as_str(), h.severity)).collect();
        assert_eq!(found, [("最　悪", Severity::Critical), ("ﾍﾝｷﾝ", Severity::Low)]);
        // The built-in list itself is untouched: another tenant does not see these words.
        assert!(builtin.scan("へんきん").is_empty());
        assert_eq!(matching_key("ヘ ン・キ ン"), matching_key("ﾍﾝｷﾝ"));
        assert_eq!(matching_key("!!! ・・"), "");
    }

    #[test]
    fn errors_name_the_line() {
        let err = CrisisList::parse("t", "訴える\thigh\n炎上\turgent\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.to_string().contains("unknown severity"));
    }
}
