//! kimochi-text: the Japanese text engine — normalisation, personal-data masking, morphological
//! analysis over IPADIC, explainable kimochi tagging, crisis words, and the weighted log-odds
//! statistic for the words that separate lost from won contacts. Pure: no clock, no
//! network, no disk unless asked ([`Dictionary::from_dir`]); the dictionary is embedded.
//!
//! ```no_run
//! let analyzer = kimochi_text::Analyzer::builtin().unwrap();
//! let line = kimochi_text::analyze_line(&analyzer, "全然効果を感じないので解約したいです");
//! assert_eq!(line.polarity, kimochi_text::Polarity::Negative);
//! ```

pub mod crisis;
pub mod dict;
pub mod lexicon;
pub mod logodds;
pub mod normalize;
pub mod pii;
pub mod tagger;
pub mod tokenize;
pub mod topic_churn;
pub mod voc;

use serde::Serialize;

pub use crisis::{CrisisHit, CrisisList, CrisisListError, Severity};
pub use dict::{Dictionary, DictionaryError, Feature, PartOfSpeech};
pub use lexicon::{Kimochi, Lexicon, LexiconEntry, LexiconError, Tag};
pub use logodds::{LogOddsConfig, TermScore, content_terms, count_terms, weighted_log_odds};
pub use normalize::{MAX_INPUT_BYTES, Normalized, normalize};
pub use pii::{Masked, PiiKind, PiiSpan, find_pii, mask_pii};
pub use tagger::{Analysis, Analyzer, Polarity, Span};
pub use tokenize::{Scratch, Token, tokenize, tokenize_into};

/// The engine could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error(transparent)]
    Dictionary(#[from] DictionaryError),
    #[error(transparent)]
    Lexicon(#[from] LexiconError),
    #[error(transparent)]
    Crisis(CrisisListError),
}

impl Analyzer<'static> {
    /// The embedded dictionary with the built-in lexicons.
    pub fn builtin() -> Result<Analyzer<'static>, TextError> {
        Ok(Analyzer::new(Dictionary::embedded()?, &Lexicon::builtin()?))
    }

    /// The embedded dictionary with the built-in lexicons and a tenant's own (same format).
    pub fn with_tenant_lexicon(source_name: &str, text: &str) -> Result<Analyzer<'static>, TextError> {
        let mut lexicon = Lexicon::builtin()?;
        lexicon.merge(Lexicon::parse(source_name, text)?);
        Ok(Analyzer::new(Dictionary::embedded()?, &lexicon))
    }
}

/// One line of `kimochi text analyze` output:
/// `{"text":…,"polarity":…,"score":…,"kimochi":[…],"spans":[…]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineResult {
    /// The input with personal data masked (「[電話番号]」…), bounded to [`MAX_INPUT_BYTES`].
    pub text: String,
    pub polarity: Polarity,
    /// In [-1, 1], rounded to 3 decimals.
    pub score: f32,
    pub kimochi: Vec<Kimochi>,
    /// Byte offsets into `text` (the masked text), with the rule behind each tag.
    pub spans: Vec<Span>,
}

/// Analyses one line for the CLI and analytics: personal data is masked first, so neither
/// `text` nor any span shows it.
pub fn analyze_line(analyzer: &Analyzer<'_>, line: &str) -> LineResult {
    let masked = mask_pii(normalize::bound(line));
    let analysis = analyzer.analyze(&masked.text);
    LineResult {
        polarity: analysis.polarity,
        score: (analysis.score * 1000.0).round() / 1000.0,
        kimochi: analysis.kimochi,
        spans: analysis.spans,
        text: masked.text,
    }
}

/// [`analyze_line`] for raw bytes from stdin or a file: invalid UTF-8 (a Shift_JIS line, a cut
/// multi-byte character) is replaced, not an error, so one bad line cannot stop a stream.
pub fn analyze_line_bytes(analyzer: &Analyzer<'_>, line: &[u8]) -> LineResult {
    let bounded = &line[..line.len().min(MAX_INPUT_BYTES)];
    analyze_line(analyzer, &String::from_utf8_lossy(bounded))
}

/// The built-in crisis words, used when a tenant has set none of its own.
pub const BUILTIN_CRISIS_WORDS: &str = include_str!("../lexicon/crisis.tsv");

/// What every ingest path (API, import, demo) runs on a contact's text: the analyzer and the
/// crisis words. Built once per process, because indexing the dictionary takes a fraction of a
/// second and tens of megabytes.
pub struct ContactTagger {
    analyzer: Analyzer<'static>,
    crisis: CrisisList,
}

impl std::fmt::Debug for ContactTagger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContactTagger").field("crisis_words", &self.crisis.len()).finish_non_exhaustive()
    }
}

impl ContactTagger {
    /// The process-wide tagger with the built-in lexicons and crisis words.
    pub fn shared() -> Result<&'static ContactTagger, TextError> {
        static SHARED: std::sync::OnceLock<Result<ContactTagger, TextError>> = std::sync::OnceLock::new();
        SHARED
            .get_or_init(|| {
                let crisis = CrisisList::parse("crisis.tsv", BUILTIN_CRISIS_WORDS).map_err(TextError::Crisis)?;
                Ok(ContactTagger { analyzer: Analyzer::builtin()?, crisis })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    pub fn analyzer(&self) -> &Analyzer<'static> {
        &self.analyzer
    }

    /// The built-in crisis words; a tenant's list is built from it with
    /// [`CrisisList::with_tenant_words`].
    pub fn builtin_crisis(&self) -> &CrisisList {
        &self.crisis
    }

    /// The tags stored with a contact: polarity, kimochi kinds and the number of crisis words.
    /// Personal data is masked before analysis, like everything the engine reads.
    pub fn contact_tags(&self, text: &str) -> kimochi_domain::ContactTags {
        self.contact_tags_with(text, &self.crisis)
    }

    /// [`ContactTagger::contact_tags`] with a tenant's crisis words (built-in and its own): the
    /// matches, with byte spans into `text`, become the contact's alert when it is stored.
    pub fn contact_tags_with(&self, text: &str, crisis: &CrisisList) -> kimochi_domain::ContactTags {
        contact_tags_using(&self.analyzer, text, crisis)
    }
}

/// The tags of a contact read with `analyzer` (e.g. one with a tenant's own lexicon, see
/// [`Analyzer::with_tenant_lexicon`]) and `crisis`: what [`ContactTagger::contact_tags_with`] does
/// with the built-in lexicons.
pub fn contact_tags_using(analyzer: &Analyzer<'_>, text: &str, crisis: &CrisisList) -> kimochi_domain::ContactTags {
    let bounded = normalize::bound(text);
    let masked = mask_pii(bounded);
    let analysis = analyzer.analyze(&masked.text);
    let matches = crisis_matches(crisis, bounded);
    kimochi_domain::ContactTags {
        polarity: kimochi_domain::Polarity::from_code(analysis.polarity.code()),
        kimochi: analysis.kimochi.iter().filter_map(|k| kimochi_domain::KimochiTag::from_code(k.code())).collect(),
        crisis_words: u32::try_from(matches.len()).unwrap_or(u32::MAX),
        crisis: matches,
    }
}

/// The crisis words of `text` as the domain records them (spans are byte offsets into `text`,
/// which is at most [`MAX_INPUT_BYTES`] long, so they fit in `u32`).
pub fn crisis_matches(crisis: &CrisisList, text: &str) -> Vec<kimochi_domain::CrisisMatch> {
    crisis
        .scan(normalize::bound(text))
        .into_iter()
        .map(|hit| kimochi_domain::CrisisMatch {
            phrase: hit.phrase,
            severity: hit.severity.to_domain(),
            start: u32::try_from(hit.start).unwrap_or(u32::MAX),
            end: u32::try_from(hit.end).unwrap_or(u32::MAX),
        })
        .collect()
}
