//! Purchase cycle (購入サイクル, F15): how often a customer rebuys a product, when the next purchase
//! is due, and the repeat-purchase alerts (リピート促進アラート) operators call from when a
//! customer is overdue.
//!
//! The typical interval is the median of the gaps between distinct purchase days. The median
//! rather than the mean, because one gap of a year (a holiday, a stockpile) would otherwise
//! push the next expected date far out and silence the alert for exactly the customers who
//! drifted away.

use std::fmt;

use kimochi_domain::{CustomerId, ProductId};
use time::{Date, Duration};

/// How cycles are estimated and when a customer counts as overdue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CycleConfig {
    /// Overdue tolerance as a share of the typical interval. Default 0.25: a customer on a
    /// 30-day cycle is given until day 38 (30 + ⌈7.5⌉) before the alert.
    pub tolerance_ratio: f64,
    /// The tolerance is never shorter than this, so that short cycles do not alert on a
    /// delivery that is a day or two late. Default 7.
    pub min_tolerance_days: u32,
    /// Intervals (distinct purchase days − 1) needed before a cycle is estimated. Default 1: a
    /// customer who bought twice already shows a rhythm, and waiting for a third purchase would
    /// miss exactly the customers the alert is for — those who never make it. With one interval
    /// the "median" is that interval; `PurchaseCycle::interval_count` tells the operator how
    /// much history stands behind it. Values below 1 are treated as 1.
    pub min_intervals: usize,
}

impl Default for CycleConfig {
    fn default() -> CycleConfig {
        CycleConfig { tolerance_ratio: 0.25, min_tolerance_days: 7, min_intervals: 1 }
    }
}

impl CycleConfig {
    fn validate(&self) -> Result<(), CycleError> {
        if self.tolerance_ratio.is_finite() && self.tolerance_ratio >= 0.0 {
            Ok(())
        } else {
            Err(CycleError::InvalidToleranceRatio(self.tolerance_ratio))
        }
    }
}

/// What went wrong estimating a cycle.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CycleError {
    #[error("tolerance ratio {0} is not a finite number of at least 0")]
    InvalidToleranceRatio(f64),
    /// The next expected date would fall outside the calendar `time` supports (year ±9999).
    #[error("the next purchase after {last_purchase} in {interval_days} days is outside the supported calendar")]
    DateOutOfRange { last_purchase: Date, interval_days: i64 },
}

/// The rhythm of one customer's purchases of one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurchaseCycle {
    /// Median interval between distinct purchase days, in days. With an even number of
    /// intervals it is the mean of the two middle ones rounded up: an alert a day late costs
    /// less than a call while the customer still has product left.
    pub typical_interval_days: i64,
    /// Intervals the median was taken over.
    pub interval_count: usize,
    pub last_purchase: Date,
    /// `last_purchase` + `typical_interval_days`.
    pub next_expected: Date,
    /// Days after `next_expected` before the customer is overdue:
    /// max(`min_tolerance_days`, ⌈`tolerance_ratio` × interval⌉).
    pub tolerance_days: i64,
}

impl PurchaseCycle {
    /// Days from the expected date to `as_of`; negative while the purchase is not yet due.
    pub fn days_past_expected(&self, as_of: Date) -> i64 {
        (as_of - self.next_expected).whole_days()
    }

    /// Whether the customer is overdue: more than `tolerance_days` past the expected date.
    /// On the last day of the tolerance they are not yet.
    pub fn is_overdue(&self, as_of: Date) -> bool {
        self.days_past_expected(as_of) > self.tolerance_days
    }
}

/// The cycle of one customer and product from its purchase dates, in any order, duplicates
/// allowed (several orders on one day are one purchase). `None` when there are fewer distinct
/// days than `min_intervals + 1`.
pub fn purchase_cycle(purchase_dates: &[Date], config: &CycleConfig) -> Result<Option<PurchaseCycle>, CycleError> {
    config.validate()?;
    let mut days: Vec<Date> = purchase_dates.to_vec();
    days.sort_unstable();
    days.dedup();
    let (Some(&last_purchase), true) = (days.last(), days.len() > config.min_intervals.max(1)) else {
        return Ok(None);
    };

    let mut intervals: Vec<i64> = days.windows(2).map(|pair| (pair[1] - pair[0]).whole_days()).collect();
    intervals.sort_unstable();
    let middle = intervals.len() / 2;
    let typical_interval_days =
        if intervals.len() % 2 == 1 { intervals[middle] } else { (intervals[middle - 1] + intervals[middle] + 1) / 2 };

    Ok(Some(cycle_from(typical_interval_days, intervals.len(), last_purchase, config)?))
}

/// The cycle of one customer and product from the aggregates the store keeps at write time:
/// first and last purchase day and the number of distinct purchase days. Without the days in
/// between the median is unknown, so the typical interval is the mean, (last − first) / (days −
/// 1), rounded to the nearest day. It answers like [`purchase_cycle`] whenever the intervals are
/// regular, which is the case the alert is for; a single long gap lengthens it, which the median
/// would not. `None` with fewer than `min_intervals + 1` purchase days.
pub fn purchase_cycle_from_span(
    first_purchase: Date,
    last_purchase: Date,
    purchase_days: u32,
    config: &CycleConfig,
) -> Result<Option<PurchaseCycle>, CycleError> {
    config.validate()?;
    let intervals = purchase_days.saturating_sub(1) as usize;
    if intervals < config.min_intervals.max(1) || last_purchase < first_purchase {
        return Ok(None);
    }
    let span = (last_purchase - first_purchase).whole_days();
    let count = intervals as i64;
    let typical_interval_days = ((span + count / 2) / count).max(1);
    Ok(Some(cycle_from(typical_interval_days, intervals, last_purchase, config)?))
}

fn cycle_from(
    typical_interval_days: i64,
    interval_count: usize,
    last_purchase: Date,
    config: &CycleConfig,
) -> Result<PurchaseCycle, CycleError> {
    let next_expected = last_purchase
        .checked_add(Duration::days(typical_interval_days))
        .ok_or(CycleError::DateOutOfRange { last_purchase, interval_days: typical_interval_days })?;
    // Intervals are whole days far below 2^53, so the float product is exact enough; the
    // ceiling makes a quarter of a 30-day cycle 8 days, never 7.5 rounded down.
    let ratio_days = (config.tolerance_ratio * typical_interval_days as f64).ceil();
    let ratio_days = if ratio_days >= i64::MAX as f64 { i64::MAX } else { ratio_days as i64 };
    let tolerance_days = ratio_days.max(i64::from(config.min_tolerance_days));
    Ok(PurchaseCycle { typical_interval_days, interval_count, last_purchase, next_expected, tolerance_days })
}

/// Every purchase of one product by one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseHistory {
    pub customer: CustomerId,
    pub product: ProductId,
    /// Purchase days (in JST), any order, duplicates allowed.
    pub purchase_dates: Vec<Date>,
}

/// A customer overdue for a product, for an operator's call list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatAlert {
    pub customer: CustomerId,
    pub product: ProductId,
    pub cycle: PurchaseCycle,
    /// Days from the expected date to the "as of" date; always more than `cycle.tolerance_days`.
    pub days_past_expected: i64,
}

impl fmt::Display for RepeatAlert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "customer {} product {}: expected {} (every {} days), {} days overdue",
            self.customer,
            self.product,
            self.cycle.next_expected,
            self.cycle.typical_interval_days,
            self.days_past_expected
        )
    }
}

/// The repeat alerts as of `as_of`, most overdue first; equally overdue alerts in customer then
/// product order, so the list is the same on every run.
///
/// Purchases dated after `as_of` are taken as given (they only move the expected date later);
/// a caller replaying history filters them out first.
pub fn repeat_alerts(
    histories: &[PurchaseHistory],
    as_of: Date,
    config: &CycleConfig,
) -> Result<Vec<RepeatAlert>, CycleError> {
    config.validate()?;
    let mut alerts = Vec::new();
    for history in histories {
        let Some(cycle) = purchase_cycle(&history.purchase_dates, config)? else {
            continue;
        };
        if cycle.is_overdue(as_of) {
            alerts.push(RepeatAlert {
                customer: history.customer,
                product: history.product,
                cycle,
                days_past_expected: cycle.days_past_expected(as_of),
            });
        }
    }
    alerts.sort_by(|a, b| {
        b.days_past_expected
            .cmp(&a.days_past_expected)
            .then(a.customer.cmp(&b.customer))
            .then(a.product.cmp(&b.product))
    });
    Ok(alerts)
}
