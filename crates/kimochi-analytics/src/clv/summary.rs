//! Per-customer frequency, recency, age and mean spend (the "RFM summary" of the BTYD models),
//! built from raw transactions up to a calibration end date.

use std::collections::BTreeMap;

use time::Date;

use super::error::ClvError;

/// Days in the model's time unit. Fader, Hardie & Lee (2005) measure CDNOW time in weeks of
/// seven days (recency 30.43 = 213 days / 7), so every duration here is in these weeks.
pub const DAYS_PER_WEEK: f64 = 7.0;

/// One purchase (購入) by one customer, as the CLV models need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction<CustomerKey> {
    pub customer: CustomerKey,
    pub date: Date,
    pub amount: f64,
}

/// What the BG/NBD and Gamma-Gamma models know about one customer at the calibration end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RfmSummary {
    /// Number of repeat purchases: purchase days after the first one. The first purchase only
    /// tells us when the customer was acquired, so it is not counted.
    pub frequency: f64,
    /// Weeks from the first purchase to the last one (0 when there was no repeat purchase).
    pub recency: f64,
    /// Weeks from the first purchase to the calibration end: how long we have been watching.
    pub t: f64,
    /// Mean amount of the repeat purchases (0 when there were none). The first purchase is left
    /// out because Gamma-Gamma models the spend of repeat purchases only.
    pub monetary_value: f64,
}

impl RfmSummary {
    /// Checks that the summary could come from real purchases; `index` names it in the error.
    pub(crate) fn validate(&self, index: usize) -> Result<(), ClvError> {
        self.check_timing().map_err(|reason| ClvError::InvalidSummary { index, reason })
    }

    fn check_timing(&self) -> Result<(), &'static str> {
        if !(self.frequency.is_finite() && self.recency.is_finite() && self.t.is_finite()) {
            return Err("frequency, recency and T must be finite numbers");
        }
        if self.frequency < 0.0 || self.frequency.fract() != 0.0 {
            return Err("frequency must be a non-negative whole number of repeat purchases");
        }
        if self.recency < 0.0 || self.recency > self.t {
            return Err("recency must lie between 0 and T");
        }
        Ok(())
    }

    /// Checks a summary read from outside (a file): the timing rules of the fits, plus a
    /// finite, non-negative spend that is 0 when there was no repeat purchase, and a customer
    /// with repeat purchases has spent something on them.
    pub fn check(&self) -> Result<(), &'static str> {
        self.check_timing()?;
        if !(self.monetary_value.is_finite() && self.monetary_value >= 0.0) {
            return Err("monetary_value must be a finite, non-negative amount");
        }
        if self.frequency == 0.0 && self.recency != 0.0 {
            return Err("recency must be 0 when frequency is 0 (no repeat purchase)");
        }
        Ok(())
    }
}

/// Builds one [`RfmSummary`] per customer from the transactions on or before `calibration_end`.
///
/// Purchases on the same day are merged into one purchase whose amount is their sum, because an
/// order split over several lines is one buying decision. Transactions after `calibration_end`
/// are ignored, so the same input can feed a calibration/holdout split; customers whose first
/// purchase is after it do not appear. The result is ordered by customer key.
pub fn summarize_transactions<CustomerKey: Ord + Clone>(
    transactions: &[Transaction<CustomerKey>],
    calibration_end: Date,
) -> Result<BTreeMap<CustomerKey, RfmSummary>, ClvError> {
    let mut purchase_days: BTreeMap<CustomerKey, BTreeMap<Date, f64>> = BTreeMap::new();
    for (index, transaction) in transactions.iter().enumerate() {
        if !transaction.amount.is_finite() {
            return Err(ClvError::NonFiniteAmount { index, amount: transaction.amount });
        }
        if transaction.date > calibration_end {
            continue;
        }
        *purchase_days.entry(transaction.customer.clone()).or_default().entry(transaction.date).or_insert(0.0) +=
            transaction.amount;
    }

    let summaries = purchase_days
        .into_iter()
        .filter_map(|(customer, days)| {
            let days: Vec<(Date, f64)> = days.into_iter().collect();
            Some((customer, summarize_purchase_days(&days, calibration_end)?))
        })
        .collect();
    Ok(summaries)
}

/// The summary of one customer from their purchase days in date order, each with the day's
/// total; `None` without any. [`summarize_transactions`] is this after merging same-day
/// purchases; callers that have merged them already (the CLI, which reads ten million rows
/// without one map per customer) use it directly and get the same numbers.
pub fn summarize_purchase_days(days: &[(Date, f64)], calibration_end: Date) -> Option<RfmSummary> {
    let weeks_between = |from: Date, to: Date| (to - from).whole_days() as f64 / DAYS_PER_WEEK;
    let (first_day, _) = *days.first()?;
    let (last_day, _) = *days.last()?;
    let repeat_amounts = &days[1..];
    let frequency = repeat_amounts.len() as f64;
    let monetary_value = if repeat_amounts.is_empty() {
        0.0
    } else {
        repeat_amounts.iter().map(|&(_, amount)| amount).sum::<f64>() / frequency
    };
    Some(RfmSummary {
        frequency,
        recency: weeks_between(first_day, last_day),
        t: weeks_between(first_day, calibration_end),
        monetary_value,
    })
}

/// The distinct values of `key` among `summaries` with how many summaries share each, in the
/// order of the keys' bits (so the result does not depend on the input order). A likelihood is a
/// sum over customers, and customers with the same figures contribute the same term: fitting on
/// the distinct terms times their counts gives the same maximum for a fraction of the work —
/// day-granular data of a million customers has far fewer distinct (x, tₓ, T) than customers.
pub(crate) fn distinct_with_counts<const N: usize>(
    summaries: impl Iterator<Item = RfmSummary>,
    key: impl Fn(&RfmSummary) -> [f64; N],
) -> Vec<(RfmSummary, f64)> {
    let mut keyed: Vec<([u64; N], RfmSummary)> =
        summaries.map(|summary| (key(&summary).map(f64::to_bits), summary)).collect();
    keyed.sort_unstable_by_key(|entry| entry.0);
    let mut distinct: Vec<(RfmSummary, f64)> = Vec::new();
    let mut last_key: Option<[u64; N]> = None;
    for (bits, summary) in keyed {
        match distinct.last_mut() {
            Some((_, count)) if last_key == Some(bits) => *count += 1.0,
            _ => distinct.push((summary, 1.0)),
        }
        last_key = Some(bits);
    }
    distinct
}
