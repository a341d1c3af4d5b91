//! Potential screening (ポテンシャル判定, issue 6 S3): an explainable 0–100 score of how
//! promising a customer is for a sales approach, from what operators heard (hearing-point soft
//! facts, each worth its question's weight) and from behaviour (purchase recency and frequency,
//! P(alive) when a scoring run has one, kimochi `potential` notes, positive contacts), with the
//! suggested timing of the next approach.
//!
//! Every point comes with a reason, so a salesperson can see why a customer is on top. The
//! points (documented on [`PotentialConfig`] and in [`potential`]):
//!
//! | part | points |
//! | --- | --- |
//! | each answered soft fact | its question's weight (default 10), together at most `hearing_cap` (40) |
//! | a dated life event (a date answer) within the horizon | 10 |
//! | last purchase within 30 / 90 / 180 days | 15 / 10 / 5 |
//! | purchase days ≥ 5 / ≥ 2 / 1 | 15 / 10 / 5 |
//! | P(alive), with a repeat purchase | round(10 × P(alive)) |
//! | kimochi `potential` notes | 5 each, at most 10 |
//! | positive contacts ≥ 3 / ≥ 1 | 10 / 5 |
//!
//! clamped to 0–100. Timing: the earliest of an overdue purchase cycle (now), a window
//! `event_lead_days` before a dated life event (now when the window has opened), a recent
//! positive contact (soon); `default_wait_days` from today only without any of these.

use kimochi_domain::hearing::{AnswerValue, SoftFact};
use time::{Date, Duration};

/// How the score and the timing are computed; the defaults are documented in the module table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PotentialConfig {
    /// Most points all soft facts together may add.
    pub hearing_cap: u32,
    /// A date answer this many days ahead or fewer counts as an upcoming life event.
    pub event_horizon_days: i64,
    /// Approach this many days before a dated life event (a wedding: gifts, skin care before it).
    pub event_lead_days: i64,
    /// A positive contact this recent makes the customer worth calling soon.
    pub positive_recent_days: i64,
    /// "Soon": this many days from today.
    pub soon_days: i64,
    /// Without any other signal, approach after this many days.
    pub default_wait_days: i64,
}

impl Default for PotentialConfig {
    fn default() -> Self {
        PotentialConfig {
            hearing_cap: 40,
            event_horizon_days: 365,
            event_lead_days: 60,
            positive_recent_days: 14,
            soon_days: 3,
            default_wait_days: 30,
        }
    }
}

/// What the screening reads of one customer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PotentialInput {
    pub soft_facts: Vec<SoftFact>,
    /// First and last purchase days (JST).
    pub first_purchase: Option<Date>,
    pub last_purchase: Option<Date>,
    /// Distinct purchase days.
    pub purchase_days: i64,
    pub potential_notes: i64,
    pub positive_contacts: i64,
    pub last_positive_contact: Option<Date>,
    /// From the latest scoring run, if any.
    pub p_alive: Option<f64>,
}

/// One line of the explanation: what was seen and how many points it gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PotentialReason {
    /// Stable code (`hearing`, `life_event`, `recency`, `frequency`, `p_alive`,
    /// `potential_notes`, `positive_contacts`, `hearing_cap`).
    pub code: &'static str,
    pub points: i32,
    /// In Japanese, for the list.
    pub text: String,
}

/// Why the suggested date is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimingKind {
    /// The purchase cycle is overdue: approach now.
    OverdueCycle,
    /// A window before a dated life event.
    LifeEvent,
    /// A recent positive contact: approach while the mood lasts.
    RecentPositive,
    /// No signal: approach after the default wait.
    Default,
}

impl TimingKind {
    pub fn code(self) -> &'static str {
        match self {
            TimingKind::OverdueCycle => "overdue_cycle",
            TimingKind::LifeEvent => "life_event",
            TimingKind::RecentPositive => "recent_positive",
            TimingKind::Default => "default",
        }
    }
}

/// The suggested timing of the next approach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApproachTiming {
    pub date: Date,
    pub kind: TimingKind,
    /// In Japanese, for the list.
    pub text: String,
}

/// A customer's potential: the score, its reasons (largest first) and the timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Potential {
    pub score: u8,
    pub reasons: Vec<PotentialReason>,
    pub timing: ApproachTiming,
}

/// Scores one customer as of `as_of` (today in JST).
pub fn potential(input: &PotentialInput, as_of: Date, config: &PotentialConfig) -> Potential {
    let mut reasons: Vec<PotentialReason> = Vec::new();

    // Hearing: each answered soft fact is worth its question's weight, capped together.
    let mut hearing_points = 0i32;
    for fact in &input.soft_facts {
        if fact.weight == 0 {
            continue;
        }
        let points = i32::try_from(fact.weight).unwrap_or(0);
        hearing_points += points;
        reasons.push(PotentialReason {
            code: "hearing",
            points,
            text: format!("聞き出し: {} = {}", fact.label, fact_text(fact)),
        });
    }
    let cap = i32::try_from(config.hearing_cap).unwrap_or(i32::MAX);
    if hearing_points > cap {
        reasons.push(PotentialReason {
            code: "hearing_cap",
            points: cap - hearing_points,
            text: format!("聞き出しの上限 {cap} 点"),
        });
    }

    let upcoming = upcoming_event(input, as_of, config);
    if let Some((fact, date)) = &upcoming {
        reasons.push(PotentialReason {
            code: "life_event",
            points: 10,
            text: format!("近いライフイベント: {} {}", fact.label, date),
        });
    }

    if let Some(last) = input.last_purchase {
        let days = (as_of - last).whole_days();
        let points = match days {
            ..=30 => 15,
            31..=90 => 10,
            91..=180 => 5,
            _ => 0,
        };
        if points > 0 {
            reasons.push(PotentialReason { code: "recency", points, text: format!("最終購入から {days} 日") });
        }
    }
    let frequency = match input.purchase_days {
        5.. => 15,
        2..=4 => 10,
        1 => 5,
        _ => 0,
    };
    if frequency > 0 {
        reasons.push(PotentialReason {
            code: "frequency",
            points: frequency,
            text: format!("購入 {} 日", input.purchase_days),
        });
    }
    // The BG/NBD P(alive) of a one-time buyer is 1 by construction: it says nothing there.
    if let Some(p_alive) = input.p_alive.filter(|p| p.is_finite() && input.purchase_days >= 2) {
        let points = (p_alive.clamp(0.0, 1.0) * 10.0).round() as i32;
        if points > 0 {
            reasons.push(PotentialReason {
                code: "p_alive",
                points,
                text: format!("継続見込み P(alive) {:.0}%", p_alive * 100.0),
            });
        }
    }
    if input.potential_notes > 0 {
        let points = (input.potential_notes.min(2) * 5) as i32;
        reasons.push(PotentialReason {
            code: "potential_notes",
            points,
            text: format!("潜在ニーズのキモチ {} 件", input.potential_notes),
        });
    }
    let positive = match input.positive_contacts {
        3.. => 10,
        1..=2 => 5,
        _ => 0,
    };
    if positive > 0 {
        reasons.push(PotentialReason {
            code: "positive_contacts",
            points: positive,
            text: format!("ポジティブな応対 {} 件", input.positive_contacts),
        });
    }

    let total: i32 = reasons.iter().map(|r| r.points).sum();
    // Largest contributions first; the cap (negative) last. Stable, so equal points keep the
    // order above.
    reasons.sort_by_key(|r| std::cmp::Reverse(r.points));
    Potential { score: total.clamp(0, 100) as u8, reasons, timing: timing(input, as_of, config, upcoming) }
}

/// The earliest dated soft fact within the horizon (today or later).
fn upcoming_event<'a>(
    input: &'a PotentialInput,
    as_of: Date,
    config: &PotentialConfig,
) -> Option<(&'a SoftFact, Date)> {
    input
        .soft_facts
        .iter()
        .filter_map(|fact| match fact.value {
            AnswerValue::Date(date) => Some((fact, date)),
            _ => None,
        })
        .filter(|(_, date)| {
            let ahead = (*date - as_of).whole_days();
            (0..=config.event_horizon_days).contains(&ahead)
        })
        .min_by_key(|(_, date)| *date)
}

fn timing(
    input: &PotentialInput,
    as_of: Date,
    config: &PotentialConfig,
    upcoming: Option<(&SoftFact, Date)>,
) -> ApproachTiming {
    let mut candidates: Vec<ApproachTiming> = Vec::new();
    if let Some((days_since, interval)) = overdue_cycle(input, as_of) {
        candidates.push(ApproachTiming {
            date: as_of,
            kind: TimingKind::OverdueCycle,
            text: format!("購入サイクル超過(平均 {interval} 日ごと、最終購入から {days_since} 日): 今すぐ"),
        });
    }
    if let Some((fact, date)) = upcoming {
        let window = date - Duration::days(config.event_lead_days);
        candidates.push(ApproachTiming {
            date: window.max(as_of),
            kind: TimingKind::LifeEvent,
            text: format!("{} {} の {} 日前から", fact.label, date, config.event_lead_days),
        });
    }
    if let Some(last) = input.last_positive_contact {
        let days = (as_of - last).whole_days();
        if (0..=config.positive_recent_days).contains(&days) {
            candidates.push(ApproachTiming {
                date: as_of + Duration::days(config.soon_days),
                kind: TimingKind::RecentPositive,
                text: format!("{days} 日前にポジティブな応対: 近日中に"),
            });
        }
    }
    // The earliest signal; on a tie, the stronger reason (the enum's order). The default wait
    // applies only without any signal: a wedding in three months is a better date than "in 30
    // days".
    candidates.into_iter().min_by_key(|c| (c.date, c.kind)).unwrap_or_else(|| ApproachTiming {
        date: as_of + Duration::days(config.default_wait_days),
        kind: TimingKind::Default,
        text: format!("特段のきっかけなし: {} 日後", config.default_wait_days),
    })
}

/// (days since the last purchase, the average interval) when the customer is past their
/// average purchase interval plus a quarter of it (at least 7 days).
fn overdue_cycle(input: &PotentialInput, as_of: Date) -> Option<(i64, i64)> {
    let (first, last) = (input.first_purchase?, input.last_purchase?);
    if input.purchase_days < 2 {
        return None;
    }
    let interval = (last - first).whole_days() / (input.purchase_days - 1);
    if interval <= 0 {
        return None;
    }
    let days_since = (as_of - last).whole_days();
    let tolerance = (interval / 4).max(7);
    (days_since > interval + tolerance).then_some((days_since, interval))
}

fn fact_text(fact: &SoftFact) -> String {
    match &fact.unit {
        Some(unit) if matches!(fact.value, AnswerValue::Number(_)) => format!("{}{unit}", fact.value.display()),
        _ => fact.value.display(),
    }
}

/// The order of the prospect list: highest score first, then the earliest suggested date, then
/// the caller's key (a customer id) so that the order never depends on the input's.
pub fn prospect_order(a: (&Potential, i64), b: (&Potential, i64)) -> std::cmp::Ordering {
    b.0.score.cmp(&a.0.score).then(a.0.timing.date.cmp(&b.0.timing.date)).then(a.1.cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use kimochi_domain::hearing::HearingQuestionId;
    use kimochi_domain::{ContactId, datetime::from_unix};
    use time::macros::date;

    use super::*;

    fn fact(soft_attribute: &str, label: &str, value: AnswerValue, weight: u32) -> SoftFact {
        SoftFact {
            soft_attribute: soft_attribute.into(),
            question_id: HearingQuestionId(1),
            label: label.into(),
            value,
            unit: None,
            weight,
            answered_at: from_unix(0),
            agent_id: None,
            contact_id: ContactId(1),
        }
    }

    const TODAY: Date = date!(2026 - 12 - 02);

    fn check(input: &PotentialInput, score: u8, codes: &[&str], timing: (Date, TimingKind)) {
        let result = potential(input, TODAY, &PotentialConfig::default());
        let found: Vec<&str> = result.reasons.iter().map(|r| r.code).collect();
        assert_eq!(result.score, score, "{result:#?}");
        assert_eq!(found, codes, "{result:#?}");
        assert_eq!((result.timing.date, result.timing.kind), timing, "{result:#?}");
        let sum: i32 = result.reasons.iter().map(|r| r.points).sum();
        assert_eq!(sum.clamp(0, 100), i32::from(result.score), "the reasons add up to the score");
    }

    #[test]
    fn nothing_known_scores_zero_and_waits() {
        check(&PotentialInput::default(), 0, &[], (date!(2027 - 01 - 01), TimingKind::Default));
    }

    #[test]
    fn a_wedding_date_opens_a_window_before_it() {
        let input = PotentialInput {
            soft_facts: vec![
                fact("wedding_date", "ご結婚の予定日", AnswerValue::Date(date!(2027 - 03 - 20)), 15),
                fact("what_matters_most", "重視すること", AnswerValue::Choice("品質".into()), 10),
            ],
            ..PotentialInput::default()
        };
        // 15 + 10 hearing, 10 life event; the window opens 60 days before the wedding.
        check(&input, 35, &["hearing", "hearing", "life_event"], (date!(2027 - 01 - 19), TimingKind::LifeEvent));
        // Within 60 days of the wedding the window is open: now.
        let soon = PotentialInput {
            soft_facts: vec![fact("wedding_date", "ご結婚の予定日", AnswerValue::Date(date!(2026 - 12 - 24)), 15)],
            ..PotentialInput::default()
        };
        check(&soon, 25, &["hearing", "life_event"], (TODAY, TimingKind::LifeEvent));
        // A past date is a fact, not an event.
        let past = PotentialInput {
            soft_facts: vec![fact("wedding_date", "ご結婚の予定日", AnswerValue::Date(date!(2025 - 05 - 01)), 15)],
            ..PotentialInput::default()
        };
        check(&past, 15, &["hearing"], (date!(2027 - 01 - 01), TimingKind::Default));
    }

    #[test]
    fn an_overdue_purchase_cycle_means_now() {
        // Five purchase days over 120 days: every 30 days; the last was 60 days ago (> 30 + 7).
        let input = PotentialInput {
            first_purchase: Some(date!(2026 - 06 - 05)),
            last_purchase: Some(date!(2026 - 10 - 03)),
            purchase_days: 5,
            p_alive: Some(0.62),
            ..PotentialInput::default()
        };
        check(&input, 31, &["frequency", "recency", "p_alive"], (TODAY, TimingKind::OverdueCycle));
        // 35 days after the last purchase is within the tolerance: no cycle signal.
        let on_time = PotentialInput { last_purchase: Some(date!(2026 - 10 - 28)), ..input };
        let result = potential(&on_time, TODAY, &PotentialConfig::default());
        assert_eq!(result.timing.kind, TimingKind::Default);
    }

    #[test]
    fn a_recent_positive_contact_means_soon_and_notes_count() {
        let input = PotentialInput {
            positive_contacts: 3,
            last_positive_contact: Some(date!(2026 - 11 - 28)),
            potential_notes: 4,
            ..PotentialInput::default()
        };
        check(
            &input,
            20,
            &["potential_notes", "positive_contacts"],
            (date!(2026 - 12 - 05), TimingKind::RecentPositive),
        );
        let old = PotentialInput { last_positive_contact: Some(date!(2026 - 10 - 01)), ..input };
        assert_eq!(potential(&old, TODAY, &PotentialConfig::default()).timing.kind, TimingKind::Default);
    }

    #[test]
    fn hearing_points_are_capped_and_the_score_is_bounded() {
        let many: Vec<SoftFact> =
            (0..6).map(|i| fact(&format!("a{i}"), "項目", AnswerValue::Text("はい".into()), 20)).collect();
        let input = PotentialInput {
            soft_facts: many,
            first_purchase: Some(date!(2026 - 01 - 01)),
            last_purchase: Some(date!(2026 - 11 - 30)),
            purchase_days: 12,
            potential_notes: 2,
            positive_contacts: 5,
            last_positive_contact: Some(date!(2026 - 12 - 01)),
            p_alive: Some(1.0),
        };
        let result = potential(&input, TODAY, &PotentialConfig::default());
        // 120 hearing − 80 cap + 15 + 15 + 10 + 10 + 10 = 100.
        assert_eq!(result.score, 100);
        assert_eq!(result.reasons.last().map(|r| (r.code, r.points)), Some(("hearing_cap", -80)));
        assert_eq!(result.timing.kind, TimingKind::RecentPositive);
    }

    #[test]
    fn p_alive_counts_only_with_a_repeat_purchase() {
        let one_time = PotentialInput {
            first_purchase: Some(date!(2026 - 11 - 20)),
            last_purchase: Some(date!(2026 - 11 - 20)),
            purchase_days: 1,
            p_alive: Some(1.0),
            ..PotentialInput::default()
        };
        check(&one_time, 20, &["recency", "frequency"], (date!(2027 - 01 - 01), TimingKind::Default));
    }

    #[test]
    fn the_list_order_is_score_then_date_then_id() {
        let at = |score: u8, date: Date| Potential {
            score,
            reasons: Vec::new(),
            timing: ApproachTiming { date, kind: TimingKind::Default, text: String::new() },
        };
        let mut list = [
            (at(40, date!(2026 - 12 - 10)), 3),
            (at(70, date!(2026 - 12 - 20)), 2),
            (at(40, date!(2026 - 12 - 02)), 5),
            (at(40, date!(2026 - 12 - 02)), 4),
        ];
        list.sort_by(|a, b| prospect_order((&a.0, a.1), (&b.0, b.1)));
        assert_eq!(list.iter().map(|(_, id)| *id).collect::<Vec<_>>(), [2, 4, 5, 3]);
    }
}
