//! The two tantivy tokenizers over kimochi-text: words (形態素, base forms of content words, from
//! the IPADIC analyzer) for precision, and overlapping character bigrams for recall (unknown
//! product names, typos in segmentation, partial words). Both read the text through kimochi-text's
//! normalisation, so width, kana variants, long-vowel marks and case never hide a match.
//! Offsets point into the original text.

use kimochi_text::{Dictionary, PartOfSpeech, Scratch, normalize, tokenize};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Registered name of the word tokenizer.
pub const WORDS: &str = "kimochi_ja_words";
/// Registered name of the bigram tokenizer.
pub const BIGRAMS: &str = "kimochi_ja_bigrams";

/// Words that carry grammar rather than content (「解約したい」 is about 解約, not する): a query
/// that kept them would miss 「解約できます」. 「ない」 is an adjective in 「効果がない」 but an
/// auxiliary in 「効果が出ない」; dropping it lets either find the other.
const LIGHT_WORDS: [&str; 10] = ["する", "いる", "ある", "なる", "できる", "れる", "られる", "せる", "させる", "ない"];

/// Words of `text` as the index stores them: base forms of everything but particles, auxiliary
/// verbs, dependent verbs and adjectives, light verbs, symbols and whitespace. Pure; `scratch`
/// is reused between calls.
pub fn words(dictionary: &Dictionary, text: &str, scratch: &mut Scratch) -> Vec<Token> {
    let normalized = normalize(text);
    let tokens = tokenize(dictionary, &normalized.text, scratch);
    let mut out = Vec::with_capacity(tokens.len());
    for token in &tokens {
        if matches!(token.part_of_speech(), PartOfSpeech::Particle | PartOfSpeech::AuxiliaryVerb | PartOfSpeech::Symbol)
        {
            continue;
        }
        let dependent = matches!(token.part_of_speech(), PartOfSpeech::Verb | PartOfSpeech::Adjective)
            && token.feature.pos[1] != "自立";
        let base = token.base(&normalized.text);
        if dependent || base.trim().is_empty() || LIGHT_WORDS.contains(&base) {
            continue;
        }
        let (offset_from, offset_to) = normalized.original_range(token.start, token.end);
        out.push(Token { offset_from, offset_to, position: out.len(), text: base.to_owned(), position_length: 1 });
    }
    out
}

/// Characters that end a run for the bigram field: whitespace and punctuation carry no content,
/// and a bigram across them would match phrases nobody wrote.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || c.is_ascii_punctuation()
        || matches!(c, '。' | '、' | '「' | '」' | '（' | '）' | '・' | '…' | '！' | '？' | '『' | '』' | '【' | '】')
}

/// Character bigrams of the normalised `text`, run by run; a run of one character gives that
/// character. Positions leave a gap between runs, so a phrase never spans a separator.
pub fn bigrams(text: &str) -> Vec<Token> {
    let normalized = normalize(text);
    let mut out = Vec::new();
    let mut position = 0usize;
    let mut run: Vec<(usize, char)> = Vec::new();
    let flush = |run: &mut Vec<(usize, char)>, out: &mut Vec<Token>, position: &mut usize| {
        if run.len() == 1 {
            let (start, c) = run[0];
            let (offset_from, offset_to) = normalized.original_range(start, start + c.len_utf8());
            out.push(Token { offset_from, offset_to, position: *position, text: c.to_string(), position_length: 1 });
            *position += 1;
        }
        for pair in run.windows(2) {
            let (start, first) = pair[0];
            let (second_start, second) = pair[1];
            let (offset_from, offset_to) = normalized.original_range(start, second_start + second.len_utf8());
            let mut gram = String::with_capacity(first.len_utf8() + second.len_utf8());
            gram.push(first);
            gram.push(second);
            out.push(Token { offset_from, offset_to, position: *position, text: gram, position_length: 1 });
            *position += 1;
        }
        if !run.is_empty() {
            *position += 1;
        }
        run.clear();
    };
    for (index, c) in normalized.text.char_indices() {
        if is_separator(c) {
            flush(&mut run, &mut out, &mut position);
        } else {
            run.push((index, c));
        }
    }
    flush(&mut run, &mut out, &mut position);
    out
}

/// The word tokenizer for tantivy.
#[derive(Clone)]
pub struct WordTokenizer {
    dictionary: &'static Dictionary,
    scratch: std::sync::Arc<std::sync::Mutex<Scratch>>,
}

impl std::fmt::Debug for WordTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordTokenizer").finish_non_exhaustive()
    }
}

impl WordTokenizer {
    pub fn new(dictionary: &'static Dictionary) -> WordTokenizer {
        WordTokenizer { dictionary, scratch: Default::default() }
    }
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        // tantivy clones a tokenizer per indexing thread, so this lock is not contended; a
        // poisoned one only means another thread panicked mid-analysis, and a fresh scratch is
        // as good as the old.
        let tokens = match self.scratch.try_lock() {
            Ok(mut scratch) => words(self.dictionary, text, &mut scratch),
            Err(_) => words(self.dictionary, text, &mut Scratch::default()),
        };
        VecTokenStream::new(tokens)
    }
}

/// The bigram tokenizer for tantivy.
#[derive(Debug, Clone, Default)]
pub struct BigramTokenizer;

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream::new(bigrams(text))
    }
}

/// Tokens computed up front and handed out one by one.
#[derive(Debug)]
pub struct VecTokenStream {
    tokens: Vec<Token>,
    /// One past the current token; 0 before the first `advance`.
    next: usize,
}

impl VecTokenStream {
    fn new(tokens: Vec<Token>) -> VecTokenStream {
        VecTokenStream { tokens, next: 0 }
    }
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next.saturating_sub(1)]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next.saturating_sub(1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(tokens: &[Token]) -> Vec<&str> {
        tokens.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn bigrams_follow_runs_and_normalise_width() {
        assert_eq!(texts(&bigrams("返品方法")), ["返品", "品方", "方法"]);
        assert_eq!(texts(&bigrams("ＡＢＣ　肌")), ["ab", "bc", "肌"]);
        let tokens = bigrams("ＡＢＣ　肌");
        // Positions leave a gap across the separator; offsets are in the original text.
        assert_eq!(tokens[2].position, 3);
        assert_eq!(&"ＡＢＣ　肌"[tokens[2].offset_from..tokens[2].offset_to], "肌");
        assert!(bigrams("").is_empty());
        assert!(bigrams("。、！").is_empty());
    }

    #[test]
    fn words_are_base_forms_without_particles() {
        let dictionary = Dictionary::embedded().unwrap();
        let mut scratch = Scratch::default();
        let tokens = words(dictionary, "化粧水が肌に合わなかった", &mut scratch);
        let words = texts(&tokens);
        assert!(words.contains(&"化粧水") || words.contains(&"化粧"), "{words:?}");
        assert!(words.contains(&"肌"), "{words:?}");
        assert!(words.contains(&"合う"), "{words:?}");
        assert!(!words.contains(&"が"), "{words:?}");
        for token in &tokens {
            assert!("化粧水が肌に合わなかった".get(token.offset_from..token.offset_to).is_some());
        }
    }
}
