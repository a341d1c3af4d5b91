//! Cohort retention curves (コホート別の継続率) of a subscription business: subscribers grouped
//! by the month of their first subscription delivery (in JST), and for each group the share still
//! subscribed after 1, 2, … renewal decisions.
//!
//! Each subscriber is a [`SubscriptionHistory`] (deliveries received, whether they cancelled),
//! the same record the churn drivers are fitted on: a subscriber with *n* deliveries faced
//! *n* − 1 renewal decisions if still active (censored there: we do not know the next one yet)
//! and *n* if they cancelled (the last one was the cancellation). Young cohorts have faced fewer
//! decisions, so a plain "share still active" would mix survival with age. The curve is therefore
//! the **Kaplan–Meier** estimate S(t) = Π_{s ≤ t} (1 − d_s / n_s), where n_s is the number of the
//! cohort's subscribers who faced decision s and d_s those who cancelled at it. With no censoring
//! it is exactly the share still subscribed.
//!
//! A point is only reported while at least `min_at_risk` subscribers faced the decision: beyond
//! that the estimate is noise, and a curve that stops says so honestly.

use std::collections::BTreeMap;

use time::Date;

use crate::churn::SubscriptionHistory;

/// What the curves cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CohortConfig {
    /// Renewal decisions shown per curve.
    pub max_periods: u32,
    /// Fewest subscribers facing a decision for its point to be shown.
    pub min_at_risk: u64,
    /// The most recent cohorts kept (older ones still count in the pooled curve).
    pub max_cohorts: usize,
}

impl Default for CohortConfig {
    fn default() -> Self {
        CohortConfig { max_periods: 12, min_at_risk: 20, max_cohorts: 12 }
    }
}

/// One curve: `survival[t]` is the share still subscribed after `t` renewal decisions
/// (`survival[0]` = 1), `at_risk[t]` the subscribers who faced decision `t` (`at_risk[0]` = all).
#[derive(Debug, Clone, PartialEq)]
pub struct CohortCurve {
    /// Year and month of the first delivery; `None` for the curve of all subscribers.
    pub start: Option<(i32, u8)>,
    pub subscribers: u64,
    pub cancelled: u64,
    pub survival: Vec<f64>,
    pub at_risk: Vec<u64>,
}

impl CohortCurve {
    /// `2025-04`, or `all` for the pooled curve.
    pub fn label(&self) -> String {
        match self.start {
            Some((year, month)) => format!("{year:04}-{month:02}"),
            None => "all".to_owned(),
        }
    }
}

/// The curves of the most recent cohorts, oldest first, and of all subscribers together.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CohortRetention {
    pub cohorts: Vec<CohortCurve>,
    pub pooled: Option<CohortCurve>,
}

/// Kaplan–Meier retention curves per start month; `subscribers` pairs each subscriber's first
/// delivery day (JST) with their history. Input order does not matter.
pub fn subscription_cohorts(subscribers: &[(Date, SubscriptionHistory)], config: &CohortConfig) -> CohortRetention {
    let mut by_month: BTreeMap<(i32, u8), Vec<SubscriptionHistory>> = BTreeMap::new();
    for (start, history) in subscribers {
        by_month.entry((start.year(), u8::from(start.month()))).or_default().push(*history);
    }
    let all: Vec<SubscriptionHistory> = subscribers.iter().map(|(_, history)| *history).collect();
    let pooled = (!all.is_empty()).then(|| kaplan_meier(None, &all, config));
    let skip = by_month.len().saturating_sub(config.max_cohorts);
    let cohorts =
        by_month.iter().skip(skip).map(|(&month, histories)| kaplan_meier(Some(month), histories, config)).collect();
    CohortRetention { cohorts, pooled }
}

fn kaplan_meier(start: Option<(i32, u8)>, histories: &[SubscriptionHistory], config: &CohortConfig) -> CohortCurve {
    let horizon = config.max_periods as usize;
    // faced[t]: subscribers whose exposure reaches decision t; cancelled_at[t]: cancelled at t.
    let mut faced = vec![0_u64; horizon + 2];
    let mut cancelled_at = vec![0_u64; horizon + 2];
    for history in histories {
        let decisions = (history.decisions() as usize).min(horizon + 1);
        faced[decisions] += 1;
        if history.churned && (history.decisions() as usize) <= horizon {
            cancelled_at[decisions] += 1;
        }
    }
    // Turn "exposure ends at t" counts into "faced decision t" counts: a suffix sum.
    for t in (0..=horizon).rev() {
        faced[t] += faced[t + 1];
    }
    let subscribers = histories.len() as u64;
    let mut survival = vec![1.0];
    let mut at_risk = vec![subscribers];
    let mut current = 1.0;
    for t in 1..=horizon {
        let n = faced[t];
        if n < config.min_at_risk.max(1) {
            break;
        }
        current *= 1.0 - cancelled_at[t] as f64 / n as f64;
        survival.push(current);
        at_risk.push(n);
    }
    CohortCurve {
        start,
        subscribers,
        cancelled: histories.iter().filter(|history| history.churned).count() as u64,
        survival,
        at_risk,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn history(deliveries: u32, churned: bool) -> SubscriptionHistory {
        SubscriptionHistory { deliveries, churned }
    }

    fn config(min_at_risk: u64) -> CohortConfig {
        CohortConfig { max_periods: 6, min_at_risk, max_cohorts: 12 }
    }

    #[test]
    fn without_censoring_the_curve_is_the_share_still_subscribed() {
        // Ten subscribers who all had the chance to face 4 decisions: 2 cancel at the first,
        // 1 at the second, 1 at the fourth; 6 are still active after 5 deliveries.
        let mut subscribers = Vec::new();
        for _ in 0..2 {
            subscribers.push((date!(2026 - 01 - 10), history(1, true)));
        }
        subscribers.push((date!(2026 - 01 - 11), history(2, true)));
        subscribers.push((date!(2026 - 01 - 12), history(4, true)));
        for _ in 0..6 {
            subscribers.push((date!(2026 - 01 - 20), history(5, false)));
        }
        let result = subscription_cohorts(&subscribers, &config(1));
        assert_eq!(result.cohorts.len(), 1);
        let curve = &result.cohorts[0];
        assert_eq!(curve.label(), "2026-01");
        assert_eq!((curve.subscribers, curve.cancelled), (10, 4));
        let expected = [1.0, 0.8, 0.7, 0.7, 0.6];
        assert_eq!(curve.survival.len(), expected.len(), "{curve:?}");
        for (got, want) in curve.survival.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{curve:?}");
        }
        assert_eq!(curve.at_risk, vec![10, 10, 8, 7, 7]);
    }

    #[test]
    fn censored_subscribers_leave_the_risk_set_without_counting_as_cancelled() {
        // Four subscribers: two active after 2 deliveries (1 decision survived, then censored),
        // two who faced 3 decisions; one of those cancelled at the third.
        let subscribers = vec![
            (date!(2026 - 02 - 01), history(2, false)),
            (date!(2026 - 02 - 02), history(2, false)),
            (date!(2026 - 02 - 03), history(4, false)),
            (date!(2026 - 02 - 04), history(3, true)),
        ];
        let curve = subscription_cohorts(&subscribers, &config(1)).cohorts.remove(0);
        // S(1) = 1, S(2) = 1 (two at risk, none cancelled), S(3) = 1 − 1/2.
        assert_eq!(curve.survival, vec![1.0, 1.0, 1.0, 0.5]);
        assert_eq!(curve.at_risk, vec![4, 4, 2, 2]);
    }

    #[test]
    fn points_with_too_few_subscribers_are_not_shown() {
        let subscribers: Vec<_> =
            (0..30).map(|i| (date!(2026 - 03 - 01), history(if i < 5 { 8 } else { 2 }, false))).collect();
        let curve = subscription_cohorts(&subscribers, &config(10)).cohorts.remove(0);
        // 30 faced decision 1; only 5 faced decision 2, fewer than 10.
        assert_eq!(curve.at_risk, vec![30, 30]);
    }

    #[test]
    fn cohorts_by_month_newest_kept_pooled_over_all_and_order_free() {
        let mut subscribers = Vec::new();
        for month in 1..=14_u8 {
            let day = Date::from_calendar_date(2025, time::Month::January, 1).unwrap();
            let start = day.replace_month(time::Month::try_from(((month - 1) % 12) + 1).unwrap()).unwrap();
            let start = if month > 12 { start.replace_year(2026).unwrap() } else { start };
            subscribers.push((start, history(3, month % 2 == 0)));
        }
        let forward =
            subscription_cohorts(&subscribers, &CohortConfig { max_periods: 6, min_at_risk: 1, max_cohorts: 12 });
        subscribers.reverse();
        let backward =
            subscription_cohorts(&subscribers, &CohortConfig { max_periods: 6, min_at_risk: 1, max_cohorts: 12 });
        assert_eq!(forward, backward);
        let labels: Vec<String> = forward.cohorts.iter().map(CohortCurve::label).collect();
        assert_eq!(labels.first().map(String::as_str), Some("2025-03"));
        assert_eq!(labels.last().map(String::as_str), Some("2026-02"));
        assert_eq!(labels.len(), 12);
        let pooled = forward.pooled.unwrap();
        assert_eq!((pooled.subscribers, pooled.cancelled), (14, 7));
        assert_eq!(pooled.label(), "all");
    }

    #[test]
    fn no_subscribers_no_curves() {
        assert_eq!(subscription_cohorts(&[], &CohortConfig::default()), CohortRetention::default());
    }
}
