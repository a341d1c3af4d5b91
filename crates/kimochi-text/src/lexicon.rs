//! Lexicons (辞書): the phrases that carry kimochi and the modifiers around them, as data.
//!
//! One line per phrase: `phrase<TAB>tag[<TAB>weight]`, `#` starts a comment. The phrase is
//! written naturally (「使いやすい」「効果を感じる」); the analyzer reads it with the
//! morphological analyzer and matches base forms, so 「使いやすかった」 matches too. A tenant
//! extends the built-in lexicons with its own domain words in the same format
//! ([`Lexicon::parse`] then [`Lexicon::merge`]).

use serde::Serialize;

const BUILTIN: &[(&str, &str)] = &[
    ("kimochi.tsv", include_str!("../lexicon/kimochi.tsv")),
    ("modifiers.tsv", include_str!("../lexicon/modifiers.tsv")),
];

/// Kimochi kinds (気持ちの種類) an utterance can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kimochi {
    /// Expectation and purchase motive (期待・購入動機).
    Expectation,
    /// Satisfaction (満足).
    Satisfaction,
    /// Dissatisfaction (不満).
    Dissatisfaction,
    /// Anxiety, worry (不安・心配).
    Anxiety,
    /// Anger (怒り).
    Anger,
    /// Gratitude (感謝).
    Gratitude,
    /// Intent to cancel or leave (解約・離反の意向).
    ChurnIntent,
    /// Wanting to recommend to others (推奨).
    Advocacy,
    /// Gap between expectation and reality (期待と現実の差).
    Gap,
}

impl Kimochi {
    pub const ALL: [Kimochi; 9] = [
        Kimochi::Expectation,
        Kimochi::Satisfaction,
        Kimochi::Dissatisfaction,
        Kimochi::Anxiety,
        Kimochi::Anger,
        Kimochi::Gratitude,
        Kimochi::ChurnIntent,
        Kimochi::Advocacy,
        Kimochi::Gap,
    ];

    /// Stable code, as in the JSON output and the lexicon files.
    pub fn code(self) -> &'static str {
        match self {
            Kimochi::Expectation => "expectation",
            Kimochi::Satisfaction => "satisfaction",
            Kimochi::Dissatisfaction => "dissatisfaction",
            Kimochi::Anxiety => "anxiety",
            Kimochi::Anger => "anger",
            Kimochi::Gratitude => "gratitude",
            Kimochi::ChurnIntent => "churn_intent",
            Kimochi::Advocacy => "advocacy",
            Kimochi::Gap => "gap",
        }
    }

    pub fn parse(code: &str) -> Option<Kimochi> {
        Kimochi::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Polarity weight when a lexicon line gives none.
    fn default_weight(self) -> f32 {
        match self {
            Kimochi::Expectation | Kimochi::Gap => 0.0,
            Kimochi::Satisfaction | Kimochi::Gratitude | Kimochi::Advocacy => 1.0,
            Kimochi::Dissatisfaction | Kimochi::Anxiety | Kimochi::ChurnIntent => -1.0,
            Kimochi::Anger => -1.5,
        }
    }
}

/// What a lexicon phrase does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// Carries this kimochi (and its weight in polarity).
    Kind(Kimochi),
    /// Polarity only, no kind.
    Positive,
    Negative,
    /// Reverses what comes before it (「ない」「ません」).
    Negator,
    /// Scales the next kimochi phrase by its weight (「とても」 1.5, 「少し」 0.6).
    Intensifier,
    /// Scales every kimochi of its sentence by its weight (「かもしれない」「気がする」).
    Hedge,
    /// Operator formula (「お電話ありがとうございます」): thanks in its sentence are not gratitude.
    Ritual,
    /// Turns a question into an assertion (「じゃないですか」).
    Rhetorical,
    /// What was expected or promised (「思っていた」「広告」): with a contrast, a gap.
    GapReference,
    /// Contrast with it (「ほど」「のに」「違う」「以上」).
    GapContrast,
    /// Buying (「注文する」「購入する」): with a motive, an expectation.
    Purchase,
    /// Why (「と思って」「聞いて」「ために」).
    Motive,
    /// 「気になる」: a purchase motive next to a purchase, otherwise a worry.
    Concern,
    /// Looks like kimochi but is not (「ご解約」 said by an operator, 「紹介される」): matched
    /// so that nothing shorter matches inside it, then dropped.
    Ignore,
}

impl Tag {
    fn parse(code: &str) -> Option<Tag> {
        Some(match code {
            "positive" => Tag::Positive,
            "negative" => Tag::Negative,
            "negator" => Tag::Negator,
            "intensifier" => Tag::Intensifier,
            "hedge" => Tag::Hedge,
            "ritual" => Tag::Ritual,
            "rhetorical" => Tag::Rhetorical,
            "gap_reference" => Tag::GapReference,
            "gap_contrast" => Tag::GapContrast,
            "purchase" => Tag::Purchase,
            "motive" => Tag::Motive,
            "concern" => Tag::Concern,
            "ignore" => Tag::Ignore,
            other => Tag::Kind(Kimochi::parse(other)?),
        })
    }

    pub fn code(self) -> &'static str {
        match self {
            Tag::Kind(kind) => kind.code(),
            Tag::Positive => "positive",
            Tag::Negative => "negative",
            Tag::Negator => "negator",
            Tag::Intensifier => "intensifier",
            Tag::Hedge => "hedge",
            Tag::Ritual => "ritual",
            Tag::Rhetorical => "rhetorical",
            Tag::GapReference => "gap_reference",
            Tag::GapContrast => "gap_contrast",
            Tag::Purchase => "purchase",
            Tag::Motive => "motive",
            Tag::Concern => "concern",
            Tag::Ignore => "ignore",
        }
    }

    /// The sign a weight takes for this tag: kinds with a direction fix it, so lexicon authors
    /// write magnitudes (`残念<TAB>dissatisfaction<TAB>0.8` means −0.8).
    fn signed(self, weight: f32) -> f32 {
        match self {
            Tag::Kind(Kimochi::Satisfaction | Kimochi::Gratitude | Kimochi::Advocacy) | Tag::Positive => weight.abs(),
            Tag::Kind(Kimochi::Dissatisfaction | Kimochi::Anxiety | Kimochi::Anger | Kimochi::ChurnIntent)
            | Tag::Negative => -weight.abs(),
            _ => weight,
        }
    }

    fn default_weight(self) -> f32 {
        match self {
            Tag::Kind(kind) => kind.default_weight(),
            Tag::Positive => 1.0,
            Tag::Negative => -1.0,
            Tag::Intensifier => 1.5,
            Tag::Hedge => 0.6,
            Tag::Concern => -0.5,
            _ => 0.0,
        }
    }
}

/// One lexicon line.
#[derive(Debug, Clone, PartialEq)]
pub struct LexiconEntry {
    pub phrase: String,
    pub tag: Tag,
    pub weight: f32,
    /// Where it came from, for explanations: `kimochi.tsv:12`.
    pub origin: String,
}

/// A lexicon line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lexicon {source_name} line {line}: {reason}")]
pub struct LexiconError {
    pub source_name: String,
    pub line: usize,
    pub reason: String,
}

/// A set of lexicon entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lexicon {
    pub entries: Vec<LexiconEntry>,
}

impl Lexicon {
    /// The lexicons shipped with kimochi (`crates/kimochi-text/lexicon/`).
    pub fn builtin() -> Result<Lexicon, LexiconError> {
        let mut lexicon = Lexicon::default();
        for (name, text) in BUILTIN {
            lexicon.merge(Lexicon::parse(name, text)?);
        }
        Ok(lexicon)
    }

    /// Reads lexicon text; `source_name` names it in errors and explanations.
    pub fn parse(source_name: &str, text: &str) -> Result<Lexicon, LexiconError> {
        let mut entries = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            let err = |reason: String| LexiconError { source_name: source_name.to_owned(), line, reason };
            let content = raw.split('#').next().unwrap_or("").trim_end();
            if content.trim().is_empty() {
                continue;
            }
            let columns: Vec<&str> = content.split('\t').map(str::trim).collect();
            if columns.len() < 2 || columns.len() > 3 {
                return Err(err(format!("expected `phrase<TAB>tag[<TAB>weight]`, found {} column(s)", columns.len())));
            }
            let phrase = columns[0];
            if phrase.is_empty() {
                return Err(err("empty phrase".into()));
            }
            if phrase.chars().count() > 64 {
                return Err(err("phrase longer than 64 characters".into()));
            }
            let tag = Tag::parse(columns[1]).ok_or_else(|| err(format!("unknown tag `{}`", columns[1])))?;
            let weight = match columns.get(2) {
                Some(w) => w
                    .parse::<f32>()
                    .ok()
                    .filter(|w| w.is_finite() && w.abs() <= 5.0)
                    .ok_or_else(|| err(format!("weight `{w}` is not a number in [-5, 5]")))?,
                None => tag.default_weight(),
            };
            entries.push(LexiconEntry {
                phrase: phrase.to_owned(),
                tag,
                weight: tag.signed(weight),
                origin: format!("{source_name}:{line}"),
            });
        }
        Ok(Lexicon { entries })
    }

    /// Adds `other`'s entries; a phrase in both keeps every tag, so a tenant can add a kind
    /// to a built-in phrase (and can override a weight by tagging it again with its own).
    pub fn merge(&mut self, other: Lexicon) {
        self.entries.extend(other.entries);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_lexicons_parse() {
        let lexicon = Lexicon::builtin().unwrap();
        assert!(lexicon.entries.len() > 100);
    }

    #[test]
    fn errors_name_the_line() {
        let err = Lexicon::parse("tenant.tsv", "# comment\n満足\tsatisfaction\n解約\tchurn\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.to_string().contains("tenant.tsv line 3: unknown tag `churn`"), "{err}");
        let err = Lexicon::parse("t", "良い\tpositive\tlots\n").unwrap_err();
        assert_eq!(err.line, 1);
        let err = Lexicon::parse("t", "no tag here\n").unwrap_err();
        assert!(err.reason.contains("column"), "{err}");
    }

    #[test]
    fn parses_weights_and_defaults() {
        let lexicon =
            Lexicon::parse("t", "神対応\tsatisfaction\t2\n激おこ\tanger\n残念\tdissatisfaction\t0.8\n").unwrap();
        assert_eq!(lexicon.entries[0].weight, 2.0);
        assert_eq!(lexicon.entries[1].weight, -1.5);
        assert_eq!(lexicon.entries[2].weight, -0.8);
        assert_eq!(lexicon.entries[1].origin, "t:2");
    }
}
