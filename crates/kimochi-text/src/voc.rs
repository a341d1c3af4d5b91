//! Voice-of-customer mining (VOC分析, issue 4): the words that separate lost from won sales
//! contacts (失注理由, K4), call reasons by category and period with the topics that are rising
//! (コールリーズン, E4). Pure: the edge pages contacts out of the store and feeds them here, so
//! memory holds term counts, never the contacts; periods are calendar days given by the caller.
//!
//! Terms are the content words of the morphological analysis as base forms (the same filter as
//! [`content_terms`](crate::content_terms)) and the bigrams of consecutive content words within a
//! sentence (「効果 出る」), after normalisation. Each contact counts a term once, so counts are
//! "contacts that mention it" and one talkative contact cannot outweigh many short ones.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use time::{Date, Duration, Month};

use crate::dict::PartOfSpeech;
use crate::logodds::{LogOddsConfig, weighted_log_odds};
use crate::normalize::{bound, normalize};
use crate::tagger::Analyzer;
use crate::tokenize::{Scratch, Token, tokenize_into};

/// Lemmas too common in contact notes to say anything (light verbs and the like).
const STOP_LEMMAS: &[&str] =
    &["する", "いる", "ある", "なる", "ない", "できる", "思う", "いう", "言う", "れる", "られる"];

/// Extracts the distinct terms of texts; keeps its buffers between calls.
pub struct TermExtractor<'a> {
    analyzer: &'a Analyzer<'a>,
    scratch: Scratch,
    tokens: Vec<Token<'a>>,
}

impl std::fmt::Debug for TermExtractor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TermExtractor").finish_non_exhaustive()
    }
}

impl<'a> TermExtractor<'a> {
    pub fn new(analyzer: &'a Analyzer<'a>) -> TermExtractor<'a> {
        TermExtractor { analyzer, scratch: Scratch::default(), tokens: Vec::new() }
    }

    /// The distinct unigrams and bigrams of `text`, in order of first appearance.
    pub fn terms(&mut self, text: &str) -> Vec<String> {
        let normalized = normalize(bound(text));
        let text = normalized.text.as_str();
        tokenize_into(self.analyzer.dictionary(), text, &mut self.scratch, &mut self.tokens);
        // Content words in order, with consecutive nouns joined into one compound (IPADIC cuts
        // 「説明書」 into 説明 + 書 and 「定期便」 into 定期 + 便); `None` marks a sentence end.
        let mut words: Vec<Option<String>> = Vec::new();
        let mut compound_end: Option<usize> = None;
        for token in &self.tokens {
            let surface = token.surface(text);
            // Markup, code and emoticons are not words: they end the phrase like a full stop.
            if is_sentence_end(token, surface) || !surface.chars().all(is_word_char) {
                words.push(None);
                compound_end = None;
                continue;
            }
            let noun = is_compound_part(token, surface);
            if noun && compound_end == Some(token.start) {
                if let Some(Some(last)) = words.last_mut() {
                    last.push_str(surface);
                }
                compound_end = Some(token.end);
                continue;
            }
            if !is_content(token) {
                compound_end = None;
                continue;
            }
            words.push(Some(token.base(text).to_owned()));
            compound_end = (token.part_of_speech() == PartOfSpeech::Noun).then_some(token.end);
        }
        let mut seen = HashSet::new();
        let mut terms = Vec::new();
        let mut previous: Option<String> = None;
        for word in words {
            let Some(lemma) = word else {
                previous = None;
                continue;
            };
            if STOP_LEMMAS.contains(&lemma.as_str()) || lemma.chars().count() < 2 && !is_kanji(&lemma) {
                continue;
            }
            if let Some(before) = previous.as_ref().filter(|before| **before != lemma) {
                let bigram = format!("{before} {lemma}");
                if seen.insert(bigram.clone()) {
                    terms.push(bigram);
                }
            }
            if seen.insert(lemma.clone()) {
                terms.push(lemma.clone());
            }
            previous = Some(lemma);
        }
        terms
    }
}

/// Letters and digits of any script, the long-vowel mark and the kanji repetition mark.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, 'ー' | '々' | 'ヶ')
}

fn is_kanji(word: &str) -> bool {
    word.chars().all(|c| matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}'))
}

fn is_sentence_end(token: &Token<'_>, surface: &str) -> bool {
    token.part_of_speech() == PartOfSpeech::Symbol && matches!(surface, "。" | "!" | "?" | "." | "」" | "「")
}

/// A noun that continues a compound: a content noun or a one-kanji suffix (「書」「便」「感」);
/// kana suffixes (「どおり」「ずつ」) are grammar, not part of the thing named.
fn is_compound_part(token: &Token<'_>, surface: &str) -> bool {
    token.part_of_speech() == PartOfSpeech::Noun
        && match token.feature.pos[1].as_str() {
            "数" | "代名詞" | "非自立" | "副詞可能" | "特殊" => false,
            "接尾" => surface.chars().count() == 1 && is_kanji(surface),
            _ => true,
        }
}

/// Nouns (not numbers, pronouns, dependent or suffix nouns), independent verbs and adjectives,
/// adverbs: the words that carry what was said.
fn is_content(token: &Token<'_>) -> bool {
    let pos2 = token.feature.pos[1].as_str();
    match token.part_of_speech() {
        PartOfSpeech::Noun => !matches!(pos2, "数" | "代名詞" | "非自立" | "接尾" | "副詞可能" | "特殊"),
        PartOfSpeech::Verb | PartOfSpeech::Adjective => pos2 == "自立",
        PartOfSpeech::Adverb => true,
        _ => false,
    }
}

/// A sales contact's result: lost order (失注) or won (受注).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SalesResult {
    Lost,
    Won,
}

/// How the lost-order terms are chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LostOrderConfig {
    pub log_odds: LogOddsConfig,
    /// Terms reported, most lost-leaning first.
    pub top: usize,
    /// Only terms at least this far toward lost (z of the weighted log-odds; 1.96 ≈ 95 %).
    pub min_z: f64,
    /// Example contacts kept per term.
    pub examples: usize,
    /// Words that state the outcome rather than a reason (「見送る」「結構」「購入」): they separate
    /// lost from won by definition, so terms made of them are left out of the ranking.
    pub outcome_words: &'static [&'static str],
}

/// How Japanese sales notes say that an order was declined or placed, as lemmas: the label
/// itself, not why.
pub const OUTCOME_WORDS: &[&str] = &[
    "見送る",
    "見送り",
    "結構",
    "遠慮",
    "断る",
    "お断り",
    "検討",
    "機会",
    "今回",
    "購入",
    "注文",
    "申し込む",
    "申込み",
    "申込",
    "契約",
    "やめる",
    "止める",
    "終了",
];

impl Default for LostOrderConfig {
    fn default() -> Self {
        LostOrderConfig {
            log_odds: LogOddsConfig { prior_total: 500.0, min_count: 3 },
            top: 20,
            min_z: 1.96,
            examples: 3,
            outcome_words: OUTCOME_WORDS,
        }
    }
}

/// Whether a term (a word or a bigram) has a word of `outcome_words` in it.
fn states_the_outcome(term: &str, outcome_words: &[&str]) -> bool {
    term.split(' ').any(|word| outcome_words.contains(&word))
}

/// Counts of the terms of lost and won contacts, fed page by page.
#[derive(Debug, Default)]
pub struct LostOrderMiner {
    lost: HashMap<String, u64>,
    won: HashMap<String, u64>,
    lost_contacts: u64,
    won_contacts: u64,
    /// The first lost contacts (by the order they were fed) that mention each term.
    examples: HashMap<String, Vec<i64>>,
    examples_per_term: usize,
}

/// One word or phrase that separates lost from won contacts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LostOrderTerm {
    pub term: String,
    /// Lost contacts that mention it.
    pub lost: u64,
    /// Won contacts that mention it.
    pub won: u64,
    /// Share of lost contacts that mention it.
    pub lost_share: f64,
    pub won_share: f64,
    /// Weighted log-odds (lost against won) with the informative Dirichlet prior, and its z.
    pub log_odds: f64,
    pub z: f64,
    /// Ids of lost contacts that mention it, for example utterances.
    pub example_contacts: Vec<i64>,
}

/// The lost-order reasons of a set of sales contacts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LostOrderReport {
    pub lost_contacts: u64,
    pub won_contacts: u64,
    pub terms: Vec<LostOrderTerm>,
}

impl LostOrderMiner {
    pub fn new(config: &LostOrderConfig) -> LostOrderMiner {
        LostOrderMiner { examples_per_term: config.examples, ..LostOrderMiner::default() }
    }

    /// Counts one contact. `contact` identifies it for the examples. Only what the customer
    /// said is counted ([`customer_speech`]): the operator's own script (「本品のご案内のため架電」)
    /// differs between lost and won calls without being a reason.
    pub fn add(&mut self, extractor: &mut TermExtractor<'_>, contact: i64, result: SalesResult, text: &str) {
        let terms = extractor.terms(&customer_speech(text));
        let counts = match result {
            SalesResult::Lost => {
                self.lost_contacts += 1;
                &mut self.lost
            }
            SalesResult::Won => {
                self.won_contacts += 1;
                &mut self.won
            }
        };
        for term in &terms {
            *counts.entry(term.clone()).or_insert(0) += 1;
        }
        if result == SalesResult::Lost {
            for term in terms {
                let ids = self.examples.entry(term).or_default();
                if ids.len() < self.examples_per_term {
                    ids.push(contact);
                }
            }
        }
    }

    /// The terms that lean to lost, ranked by the z of their weighted log-odds.
    pub fn finish(mut self, config: &LostOrderConfig) -> LostOrderReport {
        let scores =
            weighted_log_odds(&self.lost, &self.won, None, scaled_prior(config.log_odds, &self.lost, &self.won));
        let share = |count: u64, of: u64| if of == 0 { 0.0 } else { count as f64 / of as f64 };
        let terms = scores
            .into_iter()
            .filter(|score| score.z >= config.min_z && !states_the_outcome(&score.term, config.outcome_words))
            .take(config.top)
            .map(|score| LostOrderTerm {
                lost_share: share(score.count_a, self.lost_contacts),
                won_share: share(score.count_b, self.won_contacts),
                lost: score.count_a,
                won: score.count_b,
                log_odds: score.delta,
                z: score.z,
                example_contacts: self.examples.remove(&score.term).unwrap_or_default(),
                term: score.term,
            })
            .collect();
        LostOrderReport { lost_contacts: self.lost_contacts, won_contacts: self.won_contacts, terms }
    }
}

/// Markers of reported speech in contact notes: what follows or precedes them is the customer's.
const SPEECH_MARKERS: &[&str] = &["とのこと", "との事", "と言われ", "といわれ", "とおっしゃ", "と仰", "「"];

/// What the customer said in an operator's note: the sentences written as reported speech
/// (「…とのこと」「…と言われた」, quotes), which is how Japanese contact-center notes separate the
/// customer's words from the operator's actions. A text with no such sentence is the customer's
/// own (an e-mail, a form, an SNS post) and is kept whole.
pub fn customer_speech(text: &str) -> String {
    let sentences: Vec<&str> = text.split_inclusive(['。', '!', '?', '！', '？', '\n']).collect();
    let spoken: Vec<&str> =
        sentences.iter().copied().filter(|s| SPEECH_MARKERS.iter().any(|marker| s.contains(marker))).collect();
    if spoken.is_empty() { text.to_owned() } else { spoken.concat() }
}

/// Share of the counted words the prior may weigh at most.
pub const MAX_PRIOR_SHARE: f64 = 0.1;

/// The prior of `config`, its total capped at a tenth of the words counted in both groups: a
/// small tenant's prior must not outweigh its data (with 300 mentions in all, a prior of 500
/// would hide a topic said in half of the latest contacts), while a large tenant keeps the
/// configured strength that shrinks rare words.
pub fn scaled_prior(config: LogOddsConfig, a: &HashMap<String, u64>, b: &HashMap<String, u64>) -> LogOddsConfig {
    let total = a.values().sum::<u64>() + b.values().sum::<u64>();
    LogOddsConfig { prior_total: config.prior_total.min(MAX_PRIOR_SHARE * total as f64).max(1.0), ..config }
}

/// The length of a reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodUnit {
    Day,
    /// Monday to Sunday.
    Week,
    Month,
}

impl PeriodUnit {
    pub fn code(self) -> &'static str {
        match self {
            PeriodUnit::Day => "day",
            PeriodUnit::Week => "week",
            PeriodUnit::Month => "month",
        }
    }

    pub fn from_code(code: &str) -> Option<PeriodUnit> {
        match code {
            "day" => Some(PeriodUnit::Day),
            "week" => Some(PeriodUnit::Week),
            "month" => Some(PeriodUnit::Month),
            _ => None,
        }
    }

    /// The first day of the period holding `day`.
    pub fn start_of(self, day: Date) -> Date {
        match self {
            PeriodUnit::Day => day,
            PeriodUnit::Week => day - Duration::days(i64::from(day.weekday().number_days_from_monday())),
            PeriodUnit::Month => day.replace_day(1).unwrap_or(day),
        }
    }

    /// The first day of the period after the one starting on `start`.
    pub fn next(self, start: Date) -> Date {
        match self {
            PeriodUnit::Day => start.next_day().unwrap_or(start),
            PeriodUnit::Week => start + Duration::days(7),
            PeriodUnit::Month => {
                let (year, month) = if start.month() == Month::December {
                    (start.year() + 1, Month::January)
                } else {
                    (start.year(), start.month().next())
                };
                Date::from_calendar_date(year, month, 1).unwrap_or(start)
            }
        }
    }

    /// The first day of the period before the one starting on `start`.
    pub fn previous(self, start: Date) -> Date {
        match self {
            PeriodUnit::Day => start.previous_day().unwrap_or(start),
            PeriodUnit::Week => start - Duration::days(7),
            PeriodUnit::Month => self.start_of(start.previous_day().unwrap_or(start)),
        }
    }
}

/// Contacts of one reason on one day (Japan time), as the store counts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonDay {
    /// `None`: the contact has no reason recorded.
    pub reason: Option<String>,
    pub day: Date,
    pub contacts: u64,
}

/// One reason's contacts per period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonSeries {
    /// The reason as recorded; [`UNCLASSIFIED`] for contacts without one.
    pub reason: String,
    pub total: u64,
    /// Aligned with [`CallReasonTable::periods`].
    pub counts: Vec<u64>,
}

/// The label of contacts without a reason.
pub const UNCLASSIFIED: &str = "(未分類)";

/// Call reasons by period, the largest reason first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallReasonTable {
    pub unit: PeriodUnit,
    /// First day of every period from the first to the last with contacts, gaps included.
    #[serde(serialize_with = "serialize_dates")]
    pub periods: Vec<Date>,
    pub totals: Vec<u64>,
    pub reasons: Vec<ReasonSeries>,
}

fn serialize_dates<S: serde::Serializer>(dates: &[Date], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(dates.iter().map(|d| kimochi_domain::datetime::format_date(*d)))
}

/// Most periods a table holds; a longer range is cut to its latest periods (a daily table of
/// ten years would be unreadable and unbounded).
pub const MAX_PERIODS: usize = 400;

/// Groups per-day counts into periods of `unit`.
pub fn call_reason_table(days: &[ReasonDay], unit: PeriodUnit) -> CallReasonTable {
    let Some(last) = days.iter().map(|d| d.day).max() else {
        return CallReasonTable { unit, periods: Vec::new(), totals: Vec::new(), reasons: Vec::new() };
    };
    let first = days.iter().map(|d| d.day).min().unwrap_or(last);
    let mut periods = vec![unit.start_of(last)];
    let first_start = unit.start_of(first);
    while periods.len() < MAX_PERIODS && *periods.last().unwrap_or(&first_start) > first_start {
        let before = unit.previous(*periods.last().unwrap_or(&first_start));
        periods.push(before);
    }
    periods.reverse();
    let index: HashMap<Date, usize> = periods.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    let mut by_reason: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut totals = vec![0; periods.len()];
    for day in days {
        let Some(&i) = index.get(&unit.start_of(day.day)) else { continue };
        let name = day.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).unwrap_or(UNCLASSIFIED);
        by_reason.entry(name.to_owned()).or_insert_with(|| vec![0; periods.len()])[i] += day.contacts;
        totals[i] += day.contacts;
    }
    let mut reasons: Vec<ReasonSeries> = by_reason
        .into_iter()
        .map(|(reason, counts)| ReasonSeries { total: counts.iter().sum(), reason, counts })
        .collect();
    reasons.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.reason.cmp(&b.reason)));
    CallReasonTable { unit, periods, totals, reasons }
}

/// The latest period of a window ending (exclusive) on `end`, and the periods before it that
/// emerging topics compare with: `[baseline_start, latest_start)` and `[latest_start, end)`.
pub fn emerging_window(end: Date, unit: PeriodUnit, baseline_periods: u32) -> (Date, Date) {
    let last_day = end.previous_day().unwrap_or(end);
    let latest_start = unit.start_of(last_day);
    let mut baseline_start = latest_start;
    for _ in 0..baseline_periods {
        baseline_start = unit.previous(baseline_start);
    }
    (baseline_start, latest_start)
}

/// How a topic qualifies as emerging.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmergingConfig {
    pub log_odds: LogOddsConfig,
    /// z of the weighted log-odds (latest against before) at least this: 3.0 is p ≈ 0.0013 one
    /// sided, strict because thousands of terms are tested at once.
    pub min_z: f64,
    /// The share of contacts mentioning it must have grown at least this many times.
    pub min_ratio: f64,
    /// Contacts in the latest period that mention it, at least.
    pub min_latest: u64,
    pub top: usize,
}

impl Default for EmergingConfig {
    fn default() -> Self {
        EmergingConfig {
            log_odds: LogOddsConfig { prior_total: 500.0, min_count: 5 },
            min_z: 3.0,
            min_ratio: 1.5,
            min_latest: 5,
            top: 15,
        }
    }
}

/// Counts terms of the latest period and of the periods before it.
#[derive(Debug, Default)]
pub struct TopicShift {
    latest: HashMap<String, u64>,
    before: HashMap<String, u64>,
    latest_contacts: u64,
    before_contacts: u64,
}

/// A term whose share of contacts rose in the latest period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmergingTopic {
    pub term: String,
    pub latest: u64,
    pub before: u64,
    pub latest_share: f64,
    pub before_share: f64,
    /// latest_share / before_share; infinite shares are reported as `null` in JSON.
    pub ratio: Option<f64>,
    pub z: f64,
}

/// What [`TopicShift::finish`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmergingTopics {
    pub latest_contacts: u64,
    pub before_contacts: u64,
    pub topics: Vec<EmergingTopic>,
}

impl TopicShift {
    pub fn add(&mut self, extractor: &mut TermExtractor<'_>, in_latest: bool, text: &str) {
        let terms = extractor.terms(text);
        let counts = if in_latest {
            self.latest_contacts += 1;
            &mut self.latest
        } else {
            self.before_contacts += 1;
            &mut self.before
        };
        for term in terms {
            *counts.entry(term).or_insert(0) += 1;
        }
    }

    pub fn finish(self, config: &EmergingConfig) -> EmergingTopics {
        let share = |count: u64, of: u64| if of == 0 { 0.0 } else { count as f64 / of as f64 };
        let topics = if self.latest_contacts == 0 || self.before_contacts == 0 {
            Vec::new()
        } else {
            weighted_log_odds(
                &self.latest,
                &self.before,
                None,
                scaled_prior(config.log_odds, &self.latest, &self.before),
            )
            .into_iter()
            .filter_map(|score| {
                let latest_share = share(score.count_a, self.latest_contacts);
                let before_share = share(score.count_b, self.before_contacts);
                let ratio = (before_share > 0.0).then(|| latest_share / before_share);
                let rising = ratio.is_none_or(|r| r >= config.min_ratio);
                (score.z >= config.min_z && score.count_a >= config.min_latest && rising).then_some(EmergingTopic {
                    term: score.term,
                    latest: score.count_a,
                    before: score.count_b,
                    latest_share,
                    before_share,
                    ratio,
                    z: score.z,
                })
            })
            .take(config.top)
            .collect()
        };
        EmergingTopics { latest_contacts: self.latest_contacts, before_contacts: self.before_contacts, topics }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn analyzer() -> &'static Analyzer<'static> {
        static ANALYZER: std::sync::OnceLock<Analyzer<'static>> = std::sync::OnceLock::new();
        ANALYZER.get_or_init(|| Analyzer::builtin().unwrap())
    }

    #[test]
    fn terms_are_normalised_lemmas_and_bigrams_within_a_sentence() {
        let mut extractor = TermExtractor::new(analyzer());
        let terms = extractor.terms("説明書どおりに使っても効果が出ない。価格が高い");
        for expected in ["説明書", "使う", "効果", "出る", "効果 出る", "価格", "高い", "価格 高い"]
        {
            assert!(terms.contains(&expected.to_owned()), "{expected} missing from {terms:?}");
        }
        assert!(!terms.iter().any(|t| t.contains("出る 価格")), "no bigram across sentences: {terms:?}");
        // Full-width letters and half-width kana are normalised before analysis.
        let wide = extractor.terms("ｺｰﾙｾﾝﾀｰの対応");
        assert!(
            wide.contains(&"コールセンター".to_owned()) || wide.iter().any(|t| t.starts_with("コール")),
            "{wide:?}"
        );
        assert!(extractor.terms("").is_empty());
        // Markup is no word and does not glue words into a phrase.
        let hostile = extractor.terms("<script>alert(1)</script>価格が高い");
        assert!(hostile.iter().all(|t| t.chars().all(|c| is_word_char(c) || c == ' ')), "{hostile:?}");
        assert!(hostile.contains(&"価格".to_owned()), "{hostile:?}");
        // Each term once per text.
        let repeated = extractor.terms("効果。効果。効果。");
        assert_eq!(repeated.iter().filter(|t| *t == "効果").count(), 1);
    }

    #[test]
    fn customer_speech_drops_the_operators_script() {
        assert_eq!(
            customer_speech("本品のご案内のため架電。価格が高いとのこと。ご案内は終了。"),
            "価格が高いとのこと。"
        );
        assert_eq!(customer_speech("夫に「無駄遣い」と言われた。今回は見送り。"), "夫に「無駄遣い」と言われた。");
        assert_eq!(customer_speech("商品が届きません。"), "商品が届きません。");
        assert_eq!(customer_speech(""), "");
    }

    #[test]
    fn lost_order_terms_lean_to_lost_with_examples() {
        let mut extractor = TermExtractor::new(analyzer());
        let config = LostOrderConfig::default();
        let mut miner = LostOrderMiner::new(&config);
        for i in 0..60 {
            let text = if i % 2 == 0 {
                "価格が高いので購入は見送り。"
            } else {
                "家族に反対されたとのこと。"
            };
            miner.add(&mut extractor, i, SalesResult::Lost, text);
        }
        for i in 100..300 {
            miner.add(&mut extractor, i, SalesResult::Won, "効果を感じたので定期便をお申込み。");
        }
        miner.add(&mut extractor, 999, SalesResult::Lost, "珍品の話。");
        let report = miner.finish(&config);
        assert_eq!((report.lost_contacts, report.won_contacts), (61, 200));
        let terms: Vec<&str> = report.terms.iter().map(|t| t.term.as_str()).collect();
        assert!(terms.contains(&"価格") && terms.contains(&"反対"), "{terms:?}");
        assert!(!terms.contains(&"効果") && !terms.contains(&"珍品"), "{terms:?}");
        assert!(
            !terms.iter().any(|t| t.contains("見送") || t.contains("購入")),
            "outcome words are no reason: {terms:?}"
        );
        let price = report.terms.iter().find(|t| t.term == "価格").unwrap();
        assert_eq!((price.lost, price.won), (30, 0));
        assert_eq!(price.example_contacts, vec![0, 2, 4]);
        assert!((price.lost_share - 30.0 / 61.0).abs() < 1e-12);
        assert!(report.terms.windows(2).all(|w| w[0].z >= w[1].z));
    }

    #[test]
    fn periods_of_days_weeks_and_months() {
        let day = date!(2026 - 03 - 05); // a Thursday
        assert_eq!(PeriodUnit::Week.start_of(day), date!(2026 - 03 - 02));
        assert_eq!(PeriodUnit::Month.start_of(day), date!(2026 - 03 - 01));
        assert_eq!(PeriodUnit::Month.next(date!(2026 - 12 - 01)), date!(2027 - 01 - 01));
        assert_eq!(PeriodUnit::Month.previous(date!(2026 - 01 - 01)), date!(2025 - 12 - 01));
        assert_eq!(PeriodUnit::Week.previous(date!(2026 - 03 - 02)), date!(2026 - 02 - 23));
        assert_eq!(
            emerging_window(date!(2026 - 04 - 01), PeriodUnit::Month, 3),
            (date!(2025 - 12 - 01), date!(2026 - 03 - 01))
        );
        for code in ["day", "week", "month"] {
            assert_eq!(PeriodUnit::from_code(code).unwrap().code(), code);
        }
        assert_eq!(PeriodUnit::from_code("year"), None);
    }

    #[test]
    fn call_reasons_by_period_with_gaps_and_unclassified() {
        let row =
            |reason: Option<&str>, day: Date, contacts| ReasonDay { reason: reason.map(str::to_owned), day, contacts };
        let days = [
            row(Some("配送"), date!(2026 - 01 - 15), 3),
            row(Some("配送"), date!(2026 - 03 - 02), 4),
            row(Some("支払い"), date!(2026 - 03 - 31), 2),
            row(None, date!(2026 - 03 - 01), 1),
            row(Some("  "), date!(2026 - 01 - 01), 1),
        ];
        let table = call_reason_table(&days, PeriodUnit::Month);
        assert_eq!(table.periods, vec![date!(2026 - 01 - 01), date!(2026 - 02 - 01), date!(2026 - 03 - 01)]);
        assert_eq!(table.totals, vec![4, 0, 7]);
        assert_eq!(table.reasons[0].reason, "配送");
        assert_eq!(table.reasons[0].counts, vec![3, 0, 4]);
        let unclassified = table.reasons.iter().find(|r| r.reason == UNCLASSIFIED).unwrap();
        assert_eq!(unclassified.counts, vec![1, 0, 1]);
        assert_eq!(call_reason_table(&[], PeriodUnit::Day).periods.len(), 0);
        // A long daily range is cut to its latest periods.
        let long = [row(Some("x"), date!(2020 - 01 - 01), 1), row(Some("x"), date!(2026 - 01 - 01), 1)];
        let table = call_reason_table(&long, PeriodUnit::Day);
        assert_eq!(table.periods.len(), MAX_PERIODS);
        assert_eq!(*table.periods.last().unwrap(), date!(2026 - 01 - 01));
        assert_eq!(table.totals.iter().sum::<u64>(), 1);
    }

    #[test]
    fn the_prior_is_capped_by_the_data() {
        let counts = |n: u64| HashMap::from([("x".to_owned(), n)]);
        assert_eq!(scaled_prior(LogOddsConfig::default(), &counts(300), &counts(700)).prior_total, 100.0);
        assert_eq!(scaled_prior(LogOddsConfig::default(), &counts(30_000), &counts(70_000)).prior_total, 500.0);
        assert_eq!(scaled_prior(LogOddsConfig::default(), &counts(0), &counts(0)).prior_total, 1.0);
        // A rare word stays shrunk: 5 mentions against none in a large corpus is no topic.
        let mut latest = HashMap::from([("common".to_owned(), 8_000)]);
        latest.insert("rare".to_owned(), 5);
        let before = HashMap::from([("common".to_owned(), 24_000)]);
        let config = scaled_prior(LogOddsConfig { prior_total: 500.0, min_count: 1 }, &latest, &before);
        let rare = weighted_log_odds(&latest, &before, None, config).into_iter().find(|s| s.term == "rare").unwrap();
        assert!(rare.z < 3.0, "{rare:?}");
    }

    #[test]
    fn a_new_complaint_emerges_and_steady_topics_do_not() {
        let mut extractor = TermExtractor::new(analyzer());
        let mut shift = TopicShift::default();
        for i in 0..300 {
            let text =
                if i % 3 == 0 { "お届け日を変更したい。" } else { "支払い方法を確認したい。" };
            shift.add(&mut extractor, false, text);
        }
        for i in 0..100 {
            let text = match i % 4 {
                0 => "お届け日を変更したい。",
                1 => "箱が破損して届いた。",
                _ => "支払い方法を確認したい。",
            };
            shift.add(&mut extractor, true, text);
        }
        let found = shift.finish(&EmergingConfig::default());
        assert_eq!((found.latest_contacts, found.before_contacts), (100, 300));
        let terms: Vec<&str> = found.topics.iter().map(|t| t.term.as_str()).collect();
        assert!(terms.contains(&"破損"), "{terms:?}");
        assert!(!terms.contains(&"支払い") && !terms.contains(&"変更"), "{terms:?}");
        let broken = found.topics.iter().find(|t| t.term == "破損").unwrap();
        assert_eq!((broken.latest, broken.before, broken.ratio), (25, 0, None));
        assert!(TopicShift::default().finish(&EmergingConfig::default()).topics.is_empty());
    }
}
