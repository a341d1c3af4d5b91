//! Topic churn drivers (話題別の離反要因, B2): which words subscribers used while subscribed go
//! with leaving, and by how much.
//!
//! **Data.** For each current or former subscriber: the distinct terms ([`TermExtractor`]) of the
//! inbound contacts they made between their first and their last subscription delivery (the
//! store's `VocContacts::Subscribed`), their renewal decisions faced (deliveries, one less for
//! those still subscribed: the same exposure as the churn model's) and whether they left. The
//! contact that cancels comes after the last delivery and is never read, so 「解約」 cannot
//! explain churn by definition.
//!
//! **Statistic.** For a term, the cancellation *rate per renewal decision* of the subscribers who
//! used it against that of those who did not: RR = (d₁ / E₁) / (d₀ / E₀), with the 95% interval
//! exp(ln RR ± 1.96 · √(1/d₁ + 1/d₀)) and the two-sided Wald p-value (the Poisson rate ratio; a
//! half is added to a zero count). This is the churn model's relative risk for one indicator,
//! fitted alone: terms are not adjusted for each other or for the kimochi drivers, and a term
//! heard more often from long-tenured subscribers leans protective (they have had more time to
//! say it). Many terms are tested: read a lone term near the edge of significance with care.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::voc::{TermExtractor, customer_speech};

/// What the report keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TopicChurnConfig {
    /// Fewest subscribers who used a term for it to be rated.
    pub min_customers: u64,
    /// Fewest of them who left.
    pub min_churned: u64,
    /// Terms kept, most risk-raising first.
    pub top: usize,
}

impl Default for TopicChurnConfig {
    fn default() -> Self {
        TopicChurnConfig { min_customers: 30, min_churned: 5, top: 15 }
    }
}

/// One term's rate ratio of leaving.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicDriver {
    pub term: String,
    /// Subscribers who used it, and those of them who left.
    pub customers_with: u64,
    pub churned_with: u64,
    pub relative_risk: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
}

/// The topic drivers of a tenant's subscribers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicChurnReport {
    pub subscribers: u64,
    pub churned: u64,
    /// Subscribers with at least one contact read.
    pub with_contacts: u64,
    /// Ranked by relative risk; only those whose interval lies above 1.
    pub drivers: Vec<TopicDriver>,
}

/// Collects each subscriber's terms page by page, then rates them against the outcomes.
#[derive(Debug, Default)]
pub struct TopicChurnMiner {
    /// Term ids per customer.
    customers: HashMap<i64, HashSet<u32>>,
    terms: HashMap<String, u32>,
}

impl TopicChurnMiner {
    pub fn new() -> TopicChurnMiner {
        TopicChurnMiner::default()
    }

    /// Reads one contact of `customer`: only what the customer said ([`customer_speech`]).
    pub fn add(&mut self, extractor: &mut TermExtractor<'_>, customer: i64, text: &str) {
        let terms = extractor.terms(&customer_speech(text));
        if terms.is_empty() {
            return;
        }
        let ids = self.customers.entry(customer).or_default();
        for term in terms {
            let next = u32::try_from(self.terms.len()).unwrap_or(u32::MAX);
            ids.insert(*self.terms.entry(term).or_insert(next));
        }
    }

    /// Rates every term used by enough subscribers. `subscribers` are every current or former
    /// subscriber: (customer, renewal decisions faced, left).
    pub fn finish(self, subscribers: &[(i64, u32, bool)], config: &TopicChurnConfig) -> TopicChurnReport {
        let total_decisions: f64 = subscribers.iter().map(|(_, decisions, _)| f64::from(*decisions)).sum();
        let total_churned = subscribers.iter().filter(|(_, _, left)| *left).count() as u64;
        // Per term: subscribers with it, of them churned, and their decisions.
        let mut with: HashMap<u32, (u64, u64, f64)> = HashMap::new();
        let mut with_contacts = 0;
        for (customer, decisions, left) in subscribers {
            let Some(ids) = self.customers.get(customer) else { continue };
            with_contacts += 1;
            for id in ids {
                let entry = with.entry(*id).or_insert((0, 0, 0.0));
                entry.0 += 1;
                entry.1 += u64::from(*left);
                entry.2 += f64::from(*decisions);
            }
        }
        let names: HashMap<u32, &String> = self.terms.iter().map(|(term, id)| (*id, term)).collect();
        let mut drivers: Vec<TopicDriver> = with
            .into_iter()
            .filter(|(_, (customers, churned, _))| *customers >= config.min_customers && *churned >= config.min_churned)
            .filter_map(|(id, (customers, churned, decisions))| {
                let rest_churned = total_churned - churned;
                let rest_decisions = total_decisions - decisions;
                let rate = rate_ratio(churned as f64, decisions, rest_churned as f64, rest_decisions)?;
                Some(TopicDriver {
                    term: (*names.get(&id)?).clone(),
                    customers_with: customers,
                    churned_with: churned,
                    relative_risk: rate.0,
                    ci_low: rate.1,
                    ci_high: rate.2,
                    p_value: rate.3,
                })
            })
            .filter(|driver| driver.ci_low > 1.0)
            .collect();
        drivers.sort_by(|a, b| b.relative_risk.total_cmp(&a.relative_risk).then_with(|| a.term.cmp(&b.term)));
        drivers.truncate(config.top);
        TopicChurnReport { subscribers: subscribers.len() as u64, churned: total_churned, with_contacts, drivers }
    }
}

/// The Poisson rate ratio (d₁/E₁)/(d₀/E₀) with its 95% interval and two-sided p-value; a zero
/// count gets a half. `None` without exposure on either side.
pub fn rate_ratio(d1: f64, e1: f64, d0: f64, e0: f64) -> Option<(f64, f64, f64, f64)> {
    if e1 <= 0.0 || e0 <= 0.0 {
        return None;
    }
    let (d1, d0) = (if d1 == 0.0 { 0.5 } else { d1 }, if d0 == 0.0 { 0.5 } else { d0 });
    let log_rr = (d1 / e1).ln() - (d0 / e0).ln();
    let se = (1.0 / d1 + 1.0 / d0).sqrt();
    let z = log_rr / se;
    Some((
        log_rr.exp(),
        (log_rr - 1.96 * se).exp(),
        (log_rr + 1.96 * se).exp(),
        erfc(z.abs() / std::f64::consts::SQRT_2),
    ))
}

/// The complementary error function (Numerical Recipes' `erfcc`, fractional error below 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Analyzer;

    #[test]
    fn rate_ratio_matches_a_hand_computation() {
        // 20 churned in 200 decisions against 30 in 1,200: rates 0.1 and 0.025, RR 4.
        let (rr, low, high, p) = rate_ratio(20.0, 200.0, 30.0, 1200.0).unwrap();
        assert!((rr - 4.0).abs() < 1e-12);
        let se = (1.0_f64 / 20.0 + 1.0 / 30.0).sqrt();
        assert!((low - (4.0_f64.ln() - 1.96 * se).exp()).abs() < 1e-12);
        assert!((high - (4.0_f64.ln() + 1.96 * se).exp()).abs() < 1e-12);
        // z = ln 4 / 0.2887 = 4.80: p ≈ 1.6e-6.
        assert!(p > 1e-6 && p < 2e-6, "{p}");
        assert!((erfc(0.0) - 1.0).abs() < 1e-7 && (erfc(1.959_964 / std::f64::consts::SQRT_2) - 0.05).abs() < 1e-6);
        assert_eq!(rate_ratio(1.0, 0.0, 1.0, 1.0), None);
    }

    #[test]
    fn a_planted_word_comes_out_on_top_and_a_neutral_one_does_not() {
        let analyzer = Analyzer::builtin().unwrap();
        let mut extractor = TermExtractor::new(&analyzer);
        let mut miner = TopicChurnMiner::new();
        let mut subscribers = Vec::new();
        // 400 subscribers, 12 decisions each. Half mention 「べたつき」; of those 60 % leave,
        // of the others 15 %. Everyone asks about delivery (配送), which says nothing.
        for customer in 0..400_i64 {
            let sticky = customer % 2 == 0;
            let left = if sticky { customer % 10 < 6 } else { customer % 40 < 6 };
            miner.add(&mut extractor, customer, "配送日を確認したいとのこと。");
            if sticky {
                miner.add(&mut extractor, customer, "塗った後のべたつきが気になるとのこと。");
            }
            subscribers.push((customer, 12, left));
        }
        let config = TopicChurnConfig { min_customers: 30, min_churned: 5, top: 10 };
        let report = miner.finish(&subscribers, &config);
        assert_eq!((report.subscribers, report.with_contacts), (400, 400));
        assert_eq!(report.churned, 120 + 30);
        let top = report.drivers.first().expect("a driver");
        // IPADIC reads 「べたつき」 as べた + つき: every term of the planted sentence ties.
        assert!(report.drivers.iter().any(|d| d.term == "べた"), "{:?}", report.drivers);
        assert_eq!((top.customers_with, top.churned_with), (200, 120));
        assert!((top.relative_risk - 4.0).abs() < 1e-9, "{top:?}");
        assert!(top.ci_low > 1.0);
        assert!(report.drivers.iter().all(|d| !d.term.contains("配送")), "a word everyone uses is no driver");
    }

    #[test]
    fn subscribers_without_contacts_count_in_the_baseline() {
        let miner = TopicChurnMiner::new();
        let report = miner.finish(&[(1, 3, true), (2, 5, false)], &TopicChurnConfig::default());
        assert_eq!((report.subscribers, report.churned, report.with_contacts), (2, 1, 0));
        assert!(report.drivers.is_empty());
    }
}
