//! The expectation-gap timeline (期待と現実のギャップ, K1, K2): a customer's original expectation
//! linked with the experiences that followed it, a gap score, and — when the customer says they
//! want to leave — rule-based retention points. Pure: events and the "as of" time are parameters.
//!
//! **The expectation** is the earliest event that is an expectation: a contact tagged
//! `expectation` or a kimochi note of kind `expectation`. With none, the timeline is anchored at
//! the first order (the purchase is the moment an expectation was formed, even unsaid), else at
//! the first event.
//!
//! **Experiences** are the events after the anchor (the expectation event itself excluded), oldest
//! first. Each one's valence: a contact's polarity when it was analysed (`mixed` counts half
//! negative); otherwise, or when neutral, its kinds decide — any of dissatisfaction, anger,
//! anxiety, churn intent or gap makes it negative, else any of satisfaction, gratitude or advocacy
//! makes it positive. Notes of kind `gap` or `concern` are negative; other notes are neutral.
//!
//! **The gap score** in [0, 1], with `w = 0.5^(age_days / 90)` the recency weight of an experience
//! (age counted to "as of", a half-life of 90 days) and `n` its negativity (1 negative, 0.5 mixed,
//! 0 positive; neutral experiences are left out):
//!
//! ```text
//! base = Σ w·n / Σ w                       (0 when there is no polar experience)
//! gap  = 1 − (1 − base) · Π (1 − w/2)      over the experiences carrying an explicit gap
//! ```
//!
//! so the score is the recency-weighted share of negative experiences, and each explicit `gap`
//! (a contact tagged `gap` or a `gap` note) closes half of the remaining distance to 1 (less when
//! old). No experience at all gives no score (`None`), not a zero. The gap history is the same
//! score computed as of each experience, over the experiences up to it.

use kimochi_domain::normalize::normalize_text;
use kimochi_domain::{KimochiKind, KimochiTag, Polarity};
use time::OffsetDateTime;

/// Half-life of an experience's weight in the gap score, in days.
pub const HALF_LIFE_DAYS: f64 = 90.0;

/// Where an event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A contact (its id).
    Contact(i64),
    /// An operator's kimochi note (its id).
    Note(i64),
}

/// One dated kimochi event of a customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub at: OffsetDateTime,
    pub source: Source,
    pub text: String,
    /// A contact's polarity (`None` for notes and unanalysed contacts).
    pub polarity: Option<Polarity>,
    /// A contact's kimochi tags (empty for notes).
    pub tags: Vec<KimochiTag>,
    /// A note's kind (`None` for contacts).
    pub note_kind: Option<KimochiKind>,
}

impl Event {
    fn is_expectation(&self) -> bool {
        self.tags.contains(&KimochiTag::Expectation) || self.note_kind == Some(KimochiKind::Expectation)
    }

    fn has_explicit_gap(&self) -> bool {
        self.tags.contains(&KimochiTag::Gap) || self.note_kind == Some(KimochiKind::Gap)
    }

    fn valence(&self) -> Valence {
        match self.polarity {
            Some(Polarity::Positive) => return Valence::Positive,
            Some(Polarity::Negative) => return Valence::Negative,
            Some(Polarity::Mixed) => return Valence::Mixed,
            Some(Polarity::Neutral) | None => {}
        }
        match self.note_kind {
            Some(KimochiKind::Gap | KimochiKind::Concern) => return Valence::Negative,
            Some(_) => return Valence::Neutral,
            None => {}
        }
        if self.tags.iter().any(|t| NEGATIVE_TAGS.contains(t)) {
            Valence::Negative
        } else if self.tags.iter().any(|t| POSITIVE_TAGS.contains(t)) {
            Valence::Positive
        } else {
            Valence::Neutral
        }
    }
}

const NEGATIVE_TAGS: &[KimochiTag] =
    &[KimochiTag::Dissatisfaction, KimochiTag::Anger, KimochiTag::Anxiety, KimochiTag::ChurnIntent, KimochiTag::Gap];
const POSITIVE_TAGS: &[KimochiTag] = &[KimochiTag::Satisfaction, KimochiTag::Gratitude, KimochiTag::Advocacy];

/// How an experience felt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Valence {
    Positive,
    Negative,
    Mixed,
    Neutral,
}

impl Valence {
    pub fn code(self) -> &'static str {
        match self {
            Valence::Positive => "positive",
            Valence::Negative => "negative",
            Valence::Mixed => "mixed",
            Valence::Neutral => "neutral",
        }
    }

    /// 1 negative, 0.5 mixed, 0 positive; neutral does not count.
    fn negativity(self) -> Option<f64> {
        match self {
            Valence::Negative => Some(1.0),
            Valence::Mixed => Some(0.5),
            Valence::Positive => Some(0.0),
            Valence::Neutral => None,
        }
    }
}

/// An experience after the expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct Experience {
    pub event: Event,
    pub valence: Valence,
    pub explicit_gap: bool,
}

/// The gap score as of one experience.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GapPoint {
    pub at: OffsetDateTime,
    pub score: f64,
}

/// A suggested retention point (引き留めのポイント), from rules on the experiences' kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RetentionPoint {
    /// The expectation was not met (negative experiences or an explicit gap after it): guide the
    /// customer through the product's use and send the matching FAQ.
    UsageGuidance,
    /// Dissatisfaction about price: propose a plan change (cheaper course, longer cycle).
    PlanChange,
    /// Too much product, or the delivery cycle does not fit: propose skipping or pausing.
    SkipOrPause,
    /// Anger: apologise first and offer a supervisor.
    Apology,
    /// Anxiety or a concern: answer it with facts (ingredients, safety, time until effect).
    Reassurance,
    /// Earlier positive experiences: remind the customer of what they liked.
    RemindValue,
    /// Always: ask the reason and reconfirm what they expected.
    HearReason,
}

impl RetentionPoint {
    pub fn code(self) -> &'static str {
        match self {
            RetentionPoint::UsageGuidance => "usage_guidance",
            RetentionPoint::PlanChange => "plan_change",
            RetentionPoint::SkipOrPause => "skip_or_pause",
            RetentionPoint::Apology => "apology",
            RetentionPoint::Reassurance => "reassurance",
            RetentionPoint::RemindValue => "remind_value",
            RetentionPoint::HearReason => "hear_reason",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            RetentionPoint::UsageGuidance => "使い方のご案内と FAQ のご紹介(期待が満たされていない)",
            RetentionPoint::PlanChange => "プラン・コース変更のご提案(価格へのご不満)",
            RetentionPoint::SkipOrPause => "お届け周期の変更・スキップ・一時休止のご提案",
            RetentionPoint::Apology => "まずお詫びし、必要なら責任者が対応",
            RetentionPoint::Reassurance => "ご不安な点に事実でお答えする(成分・安全性・効果までの期間)",
            RetentionPoint::RemindValue => "以前ご満足いただいた点を振り返る",
            RetentionPoint::HearReason => "解約理由を伺い、最初のご期待を再確認する",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            RetentionPoint::UsageGuidance => "Guide the customer through use and send the FAQ (expectation not met)",
            RetentionPoint::PlanChange => "Propose a plan or course change (unhappy with the price)",
            RetentionPoint::SkipOrPause => "Propose a longer delivery cycle, a skip or a pause",
            RetentionPoint::Apology => "Apologise first; a supervisor takes over if needed",
            RetentionPoint::Reassurance => "Answer the worry with facts (ingredients, safety, time until effect)",
            RetentionPoint::RemindValue => "Recall what the customer liked before",
            RetentionPoint::HearReason => "Ask the reason and reconfirm the original expectation",
        }
    }
}

/// Words (normalised) that make a negative experience about price.
const PRICE_WORDS: &[&str] =
    &["高い", "高すぎ", "価格", "値段", "料金", "費用", "値上げ", "お金", "コスト", "割高", "安く"];
/// Words (normalised) that make a negative experience about quantity or cycle.
const SURPLUS_WORDS: &[&str] = &["余って", "余る", "使い切れ", "多すぎ", "溜まって", "たまって", "周期", "届くのが早"];

/// The timeline of one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// The original expectation, when one was said or noted.
    pub expectation: Option<Event>,
    /// When the timeline starts: the expectation, else the first order, else the first event.
    pub anchor: Option<OffsetDateTime>,
    pub experiences: Vec<Experience>,
    /// `None` when there is no experience to judge.
    pub gap_score: Option<f64>,
    pub gap_history: Vec<GapPoint>,
    /// Whether the latest contact carries churn intent.
    pub churn_intent: bool,
    /// Retention points, in order of priority; empty unless `churn_intent`.
    pub retention: Vec<RetentionPoint>,
}

/// Builds the timeline from a customer's events (any order), the first order's date and the
/// time the score is taken at.
pub fn timeline(events: &[Event], first_order_at: Option<OffsetDateTime>, as_of: OffsetDateTime) -> Timeline {
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by_key(|e| (e.at, source_order(e.source)));
    let expectation_index = sorted.iter().position(|e| e.is_expectation());
    let expectation = expectation_index.map(|i| sorted[i].clone());
    let anchor = expectation.as_ref().map(|e| e.at).or(first_order_at).or(sorted.first().map(|e| e.at));
    let experiences: Vec<Experience> = sorted
        .iter()
        .enumerate()
        .filter(|(i, e)| Some(*i) != expectation_index && anchor.is_none_or(|a| e.at >= a))
        .map(|(_, e)| Experience { event: (*e).clone(), valence: e.valence(), explicit_gap: e.has_explicit_gap() })
        .collect();
    let gap_history = gap_history(&experiences);
    let gap_score = gap_score(&experiences, as_of);
    let churn_intent = sorted
        .iter()
        .rev()
        .find(|e| matches!(e.source, Source::Contact(_)))
        .is_some_and(|e| e.tags.contains(&KimochiTag::ChurnIntent));
    let retention = if churn_intent { retention_points(expectation.is_some(), &experiences) } else { Vec::new() };
    Timeline { expectation, anchor, experiences, gap_score, gap_history, churn_intent, retention }
}

/// Contacts before notes at the same instant, then by id: a stable order.
fn source_order(source: Source) -> (u8, i64) {
    match source {
        Source::Contact(id) => (0, id),
        Source::Note(id) => (1, id),
    }
}

fn weight(at: OffsetDateTime, as_of: OffsetDateTime) -> f64 {
    let age_days = ((as_of - at).as_seconds_f64() / 86_400.0).max(0.0);
    0.5f64.powf(age_days / HALF_LIFE_DAYS)
}

/// The gap score of these experiences as of a time (the formula in the module's documentation).
pub fn gap_score(experiences: &[Experience], as_of: OffsetDateTime) -> Option<f64> {
    let mut weighted = 0.0;
    let mut total = 0.0;
    let mut remaining = 1.0;
    let mut counted = false;
    for experience in experiences {
        let w = weight(experience.event.at, as_of);
        if let Some(n) = experience.valence.negativity() {
            weighted += w * n;
            total += w;
            counted = true;
        }
        if experience.explicit_gap {
            remaining *= 1.0 - w / 2.0;
            counted = true;
        }
    }
    if !counted {
        return None;
    }
    let base = if total > 0.0 { weighted / total } else { 0.0 };
    Some((1.0 - (1.0 - base) * remaining).clamp(0.0, 1.0))
}

/// `gap_score` as of each experience over the experiences up to it, in one pass: the weighted
/// sums decay by the time since the previous experience (the same weights as computing each point
/// afresh, without the quadratic cost); only the explicit gaps, which are few, are revisited.
fn gap_history(experiences: &[Experience]) -> Vec<GapPoint> {
    let mut history = Vec::new();
    let mut weighted = 0.0;
    let mut total = 0.0;
    let mut counted = false;
    let mut previous: Option<OffsetDateTime> = None;
    let mut gaps: Vec<OffsetDateTime> = Vec::new();
    for experience in experiences {
        let at = experience.event.at;
        if let Some(previous) = previous {
            let decay = weight(previous, at);
            weighted *= decay;
            total *= decay;
        }
        previous = Some(at);
        if let Some(n) = experience.valence.negativity() {
            weighted += n;
            total += 1.0;
            counted = true;
        }
        if experience.explicit_gap {
            gaps.push(at);
            counted = true;
        }
        if counted {
            let base = if total > 0.0 { weighted / total } else { 0.0 };
            let remaining: f64 = gaps.iter().map(|gap| 1.0 - weight(*gap, at) / 2.0).product();
            history.push(GapPoint { at, score: (1.0 - (1.0 - base) * remaining).clamp(0.0, 1.0) });
        }
    }
    history
}

fn mentions(text: &str, words: &[&str]) -> bool {
    let text = normalize_text(text);
    words.iter().any(|w| text.contains(&normalize_text(w)))
}

/// The retention rules, each firing at most once, in this order of priority:
/// 1. `usage_guidance` — an expectation exists and a negative or mixed experience or an explicit
///    gap follows it (the expectation is unmet);
/// 2. `plan_change` — a negative/mixed experience mentions price (高い, 価格, 値段, 料金 …);
/// 3. `skip_or_pause` — a negative/mixed experience mentions surplus or cycle (余って, 使い切れ …);
/// 4. `apology` — any experience tagged anger;
/// 5. `reassurance` — any experience tagged anxiety, or a `concern` note;
/// 6. `remind_value` — any positive experience (satisfaction, gratitude, advocacy);
/// 7. `hear_reason` — always, last.
pub fn retention_points(has_expectation: bool, experiences: &[Experience]) -> Vec<RetentionPoint> {
    let negative = |e: &&Experience| matches!(e.valence, Valence::Negative | Valence::Mixed);
    let mut points = Vec::new();
    if has_expectation && experiences.iter().any(|e| negative(&e) || e.explicit_gap) {
        points.push(RetentionPoint::UsageGuidance);
    }
    if experiences.iter().filter(negative).any(|e| mentions(&e.event.text, PRICE_WORDS)) {
        points.push(RetentionPoint::PlanChange);
    }
    if experiences.iter().filter(negative).any(|e| mentions(&e.event.text, SURPLUS_WORDS)) {
        points.push(RetentionPoint::SkipOrPause);
    }
    if experiences.iter().any(|e| e.event.tags.contains(&KimochiTag::Anger)) {
        points.push(RetentionPoint::Apology);
    }
    if experiences
        .iter()
        .any(|e| e.event.tags.contains(&KimochiTag::Anxiety) || e.event.note_kind == Some(KimochiKind::Concern))
    {
        points.push(RetentionPoint::Reassurance);
    }
    if experiences.iter().any(|e| e.valence == Valence::Positive) {
        points.push(RetentionPoint::RemindValue);
    }
    points.push(RetentionPoint::HearReason);
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

    fn contact(id: i64, days: i64, text: &str, polarity: Option<Polarity>, tags: &[KimochiTag]) -> Event {
        Event {
            at: T0 + Duration::days(days),
            source: Source::Contact(id),
            text: text.to_owned(),
            polarity,
            tags: tags.to_vec(),
            note_kind: None,
        }
    }

    fn note(id: i64, days: i64, kind: KimochiKind, text: &str) -> Event {
        Event {
            at: T0 + Duration::days(days),
            source: Source::Note(id),
            text: text.to_owned(),
            polarity: None,
            tags: Vec::new(),
            note_kind: Some(kind),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn the_earliest_expectation_anchors_and_later_events_are_experiences() {
        let events = vec![
            contact(3, 30, "肌がしっとりして満足", Some(Polarity::Positive), &[KimochiTag::Satisfaction]),
            note(1, 0, KimochiKind::Expectation, "乾燥肌が治ると期待して購入"),
            contact(2, -10, "資料がほしい", Some(Polarity::Neutral), &[]),
            contact(4, 60, "効果が感じられない", Some(Polarity::Negative), &[KimochiTag::Dissatisfaction]),
            contact(5, 5, "もっと潤うと期待していた", Some(Polarity::Neutral), &[KimochiTag::Expectation]),
        ];
        let t = timeline(&events, None, T0 + Duration::days(60));
        let expectation = t.expectation.expect("expectation");
        assert_eq!(expectation.source, Source::Note(1));
        assert_eq!(expectation.text, "乾燥肌が治ると期待して購入");
        assert_eq!(t.anchor, Some(T0));
        let ids: Vec<Source> = t.experiences.iter().map(|e| e.event.source).collect();
        // The contact before the expectation is not an experience of it; a later expectation is.
        assert_eq!(ids, vec![Source::Contact(5), Source::Contact(3), Source::Contact(4)]);
        let valences: Vec<Valence> = t.experiences.iter().map(|e| e.valence).collect();
        // A neutral contact tagged only `expectation` is neutral.
        assert_eq!(valences, vec![Valence::Neutral, Valence::Positive, Valence::Negative]);
        assert!(!t.churn_intent);
        assert!(t.retention.is_empty());
    }

    #[test]
    fn the_gap_score_is_the_recency_weighted_share_of_negative_experiences() {
        let events = vec![
            contact(1, 0, "期待して購入", Some(Polarity::Positive), &[KimochiTag::Expectation]),
            contact(2, 0, "満足", Some(Polarity::Positive), &[KimochiTag::Satisfaction]),
            contact(3, 90, "不満", Some(Polarity::Negative), &[KimochiTag::Dissatisfaction]),
        ];
        let t = timeline(&events, None, T0 + Duration::days(90));
        // Weights: the positive one is one half-life old (0.5), the negative one is new (1.0).
        let expected = 1.0 / 1.5;
        assert!(close(t.gap_score.unwrap(), expected), "{:?}", t.gap_score);
        // History: as of the first experience only the positive one (0), then the same as now.
        let history: Vec<f64> = t.gap_history.iter().map(|p| p.score).collect();
        assert_eq!(history.len(), 2);
        assert!(close(history[0], 0.0));
        assert!(close(history[1], expected));
    }

    #[test]
    fn the_gap_history_is_the_score_as_of_each_experience() {
        let polarities = [Polarity::Positive, Polarity::Negative, Polarity::Neutral, Polarity::Mixed];
        let events: Vec<Event> = (0..40)
            .map(|i| {
                let tags = if i % 7 == 3 { vec![KimochiTag::Gap] } else { Vec::new() };
                contact(i, i * i % 97 + i, "体験", Some(polarities[(i % 4) as usize]), &tags)
            })
            .collect();
        let t = timeline(&events, Some(T0), T0 + Duration::days(200));
        let mut expected = Vec::new();
        for i in 0..t.experiences.len() {
            let at = t.experiences[i].event.at;
            if let Some(score) = gap_score(&t.experiences[..=i], at) {
                expected.push(GapPoint { at, score });
            }
        }
        assert_eq!(t.gap_history.len(), expected.len());
        for (got, want) in t.gap_history.iter().zip(&expected) {
            assert_eq!(got.at, want.at);
            assert!((got.score - want.score).abs() < 1e-9, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn explicit_gaps_raise_the_score_and_it_stays_in_range() {
        let positive = contact(2, 10, "良い", Some(Polarity::Positive), &[KimochiTag::Satisfaction]);
        let as_of = T0 + Duration::days(10);
        let t = timeline(std::slice::from_ref(&positive), Some(T0), as_of);
        assert!(close(t.gap_score.unwrap(), 0.0));
        // A gap note the same day is negative (base 0.5) and explicit (half the rest): 0.75.
        let gap = note(1, 10, KimochiKind::Gap, "思っていたのと違う");
        let t = timeline(&[positive.clone(), gap], Some(T0), as_of);
        assert!(close(t.gap_score.unwrap(), 1.0 - 0.5 * 0.5), "{:?}", t.gap_score);
        // Many explicit gaps approach 1 and never pass it.
        let many: Vec<Event> =
            (0..40).map(|i| contact(10 + i, 10, "ギャップ", Some(Polarity::Negative), &[KimochiTag::Gap])).collect();
        let score = timeline(&many, Some(T0), as_of).gap_score.unwrap();
        assert!(score <= 1.0 && score > 0.999, "{score}");
    }

    #[test]
    fn no_experience_means_no_score_and_the_first_order_anchors_without_expectation() {
        let t = timeline(&[], None, T0);
        assert_eq!(t.gap_score, None);
        assert_eq!(t.expectation, None);
        let before = contact(1, -5, "不満", Some(Polarity::Negative), &[KimochiTag::Dissatisfaction]);
        let after = contact(2, 5, "ありがとう", Some(Polarity::Positive), &[KimochiTag::Gratitude]);
        let t = timeline(&[before, after], Some(T0), T0 + Duration::days(5));
        assert_eq!(t.anchor, Some(T0));
        assert_eq!(t.experiences.len(), 1);
        assert!(close(t.gap_score.unwrap(), 0.0));
        // Neutral experiences alone give no score.
        let neutral = note(3, 1, KimochiKind::Preference, "無香料が好み");
        assert_eq!(timeline(&[neutral], Some(T0), T0).gap_score, None);
    }

    #[test]
    fn mixed_and_untagged_polarities_fall_back_to_kinds() {
        let mixed = contact(1, 1, "良いけど高い", Some(Polarity::Mixed), &[]);
        assert_eq!(mixed.valence(), Valence::Mixed);
        let unanalysed = contact(2, 1, "怒っている", None, &[KimochiTag::Anger]);
        assert_eq!(unanalysed.valence(), Valence::Negative);
        let thanks = contact(3, 1, "ありがとう", Some(Polarity::Neutral), &[KimochiTag::Gratitude]);
        assert_eq!(thanks.valence(), Valence::Positive);
        assert_eq!(note(4, 1, KimochiKind::Concern, "肌荒れが心配").valence(), Valence::Negative);
        assert_eq!(note(5, 1, KimochiKind::Experience, "使用感メモ").valence(), Valence::Neutral);
    }

    #[test]
    fn churn_intent_in_the_latest_contact_brings_retention_points_by_rule() {
        let events = vec![
            note(1, 0, KimochiKind::Expectation, "シミが薄くなると期待"),
            contact(2, 20, "使いやすくて満足です", Some(Polarity::Positive), &[KimochiTag::Satisfaction]),
            contact(3, 40, "この値段だと続けられません", Some(Polarity::Negative), &[KimochiTag::Dissatisfaction]),
            contact(4, 50, "不安です", Some(Polarity::Negative), &[KimochiTag::Anxiety]),
            contact(5, 60, "解約したい", Some(Polarity::Negative), &[KimochiTag::ChurnIntent]),
        ];
        let t = timeline(&events, None, T0 + Duration::days(60));
        assert!(t.churn_intent);
        assert_eq!(
            t.retention,
            vec![
                RetentionPoint::UsageGuidance,
                RetentionPoint::PlanChange,
                RetentionPoint::Reassurance,
                RetentionPoint::RemindValue,
                RetentionPoint::HearReason
            ]
        );
        // Churn intent only counts when it is in the latest contact; a later note does not hide it.
        let mut later = events.clone();
        later.push(note(6, 70, KimochiKind::Experience, "電話で説明"));
        assert!(timeline(&later, None, T0).churn_intent);
        later.push(contact(7, 80, "続けます、ありがとう", Some(Polarity::Positive), &[KimochiTag::Gratitude]));
        let t = timeline(&later, None, T0 + Duration::days(80));
        assert!(!t.churn_intent);
        assert!(t.retention.is_empty());
    }

    #[test]
    fn the_result_does_not_depend_on_input_order() {
        let events = vec![
            note(1, 0, KimochiKind::Expectation, "期待"),
            contact(2, 0, "同時刻の応対", Some(Polarity::Negative), &[KimochiTag::Expectation, KimochiTag::Gap]),
            contact(3, 10, "満足", Some(Polarity::Positive), &[KimochiTag::Satisfaction]),
            note(4, 10, KimochiKind::Gap, "思っていたのと違う"),
            contact(5, 20, "解約したい", Some(Polarity::Negative), &[KimochiTag::ChurnIntent]),
        ];
        let as_of = T0 + Duration::days(30);
        let forward = timeline(&events, Some(T0), as_of);
        let mut reversed = events.clone();
        reversed.reverse();
        assert_eq!(timeline(&reversed, Some(T0), as_of), forward);
        // At the same instant a contact comes before a note: the contact is the expectation.
        assert_eq!(forward.expectation.map(|e| e.source), Some(Source::Contact(2)));
    }

    #[test]
    fn retention_rules_for_surplus_anger_and_no_expectation() {
        let angry =
            contact(1, 1, "商品が余っているのに届く。怒っています", Some(Polarity::Negative), &[KimochiTag::Anger]);
        let leave = contact(2, 2, "もう解約", Some(Polarity::Negative), &[KimochiTag::ChurnIntent]);
        let t = timeline(&[angry, leave], Some(T0), T0 + Duration::days(2));
        assert_eq!(t.expectation, None);
        assert_eq!(t.retention, vec![RetentionPoint::SkipOrPause, RetentionPoint::Apology, RetentionPoint::HearReason]);
        for point in &t.retention {
            assert!(!point.label_ja().is_empty() && !point.label_en().is_empty() && !point.code().is_empty());
        }
    }
}
