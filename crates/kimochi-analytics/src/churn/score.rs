//! Scoring one customer's churn risk (T3) with the reasons shown on the karte, and the churn
//! list of a tenant ordered by probability.

use kimochi_domain::CustomerId;

use super::drivers::{KimochiDriver, medium_label};
use super::{
    ChurnBasis, ChurnConfig, ChurnDriverModel, ChurnError, ChurnLevel, ChurnModel, ChurnReason, ChurnReasonKind,
    ChurnRisk,
};
use crate::features::CustomerFeatures;
use crate::stage::Stage;

/// Days per step of the overdue odds ratio.
const OVERDUE_STEP_DAYS: f64 = 30.0;
/// The largest overdue odds ratio applied.
const MAX_OVERDUE_ODDS_RATIO: f64 = 1e12;

/// The churn risk of one customer, or `None` when the customer cannot churn in the sense of
/// this model (not purchased, excluded, a non-contractual customer without p_alive, or a
/// subscriber when the model has no subscribers). See the module documentation for the rules.
pub fn churn_risk(
    features: &CustomerFeatures,
    model: &ChurnModel,
    config: &ChurnConfig,
) -> Result<Option<ChurnRisk>, ChurnError> {
    config.validate()?;
    score(features, model, config)
}

/// Every scored customer's churn risk, highest probability first (ties by customer id, so the
/// order does not depend on the input order).
pub fn churn_list(
    features: &[CustomerFeatures],
    model: &ChurnModel,
    config: &ChurnConfig,
) -> Result<Vec<(CustomerId, ChurnRisk)>, ChurnError> {
    config.validate()?;
    let mut list = Vec::with_capacity(features.len());
    for customer in features {
        if let Some(risk) = score(customer, model, config)? {
            list.push((customer.customer, risk));
        }
    }
    // Unstable sorting is deterministic here because the customer id breaks every tie.
    list.sort_unstable_by(|(a_id, a), (b_id, b)| b.probability.total_cmp(&a.probability).then(a_id.cmp(b_id)));
    Ok(list)
}

fn score(
    features: &CustomerFeatures,
    model: &ChurnModel,
    config: &ChurnConfig,
) -> Result<Option<ChurnRisk>, ChurnError> {
    match features.stage {
        Stage::Excluded | Stage::NotPurchased => Ok(None),
        Stage::Subscription => subscriber_risk(features, model, config),
        _ if features.active_subscriber => subscriber_risk(features, model, config),
        Stage::Dormant | Stage::Repeater | Stage::MainProduct | Stage::Trial => {
            non_contractual_risk(features, model, config)
        }
    }
}

fn level(probability: f64, config: &ChurnConfig) -> ChurnLevel {
    if probability >= config.high_from {
        ChurnLevel::High
    } else if probability >= config.medium_from {
        ChurnLevel::Medium
    } else {
        ChurnLevel::Low
    }
}

/// The kimochi drivers the customer has that are in the model, as reasons with no
/// contribution yet, and the product of their relative risks.
fn kimochi_reasons(features: &CustomerFeatures, model: &ChurnModel, reasons: &mut Vec<ChurnReason>) -> f64 {
    let mut product = 1.0;
    for driver in KimochiDriver::ALL {
        let Some(relative_risk) = model.kimochi_relative_risks[driver.index()] else { continue };
        if driver.applies(features) {
            product *= relative_risk;
            let count = driver.count(features);
            reasons.push(ChurnReason {
                kind: ChurnReasonKind::Kimochi { driver, count, relative_risk },
                contribution: 0.0,
            });
        }
    }
    product
}

/// An upper bound on the reasons: the starting point, the kimochi drivers in the model that
/// the customer has, and one for the medium or the overdue cycle. Sizing the vector once keeps
/// a million scores from reallocating or holding unused capacity.
fn reason_capacity(features: &CustomerFeatures, model: &ChurnModel) -> usize {
    let drivers = KimochiDriver::ALL
        .iter()
        .filter(|driver| model.kimochi_relative_risks[driver.index()].is_some() && driver.applies(features))
        .count();
    2 + drivers
}

fn relative_risk_of(kind: &ChurnReasonKind) -> Option<f64> {
    match kind {
        ChurnReasonKind::Kimochi { relative_risk, .. } | ChurnReasonKind::Medium { relative_risk, .. } => {
            Some(*relative_risk)
        }
        ChurnReasonKind::OverdueCycle { odds_ratio, .. } => Some(*odds_ratio),
        ChurnReasonKind::SubscriptionBaseline { .. } | ChurnReasonKind::SurvivalProbability { .. } => None,
    }
}

/// Sets each factor's contribution to P(all factors) − P(all factors but this one), sorts the
/// reasons and dresses the result.
fn finish(
    mut reasons: Vec<ChurnReason>,
    multiplier: f64,
    probability_with: impl Fn(f64) -> f64,
    basis: ChurnBasis,
    config: &ChurnConfig,
) -> ChurnRisk {
    let probability = probability_with(multiplier);
    for reason in &mut reasons {
        if let Some(factor) = relative_risk_of(&reason.kind) {
            reason.contribution = probability - probability_with(multiplier / factor);
        }
    }
    reasons.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    ChurnRisk { probability, level: level(probability, config), basis, reasons }
}

fn subscriber_risk(
    features: &CustomerFeatures,
    model: &ChurnModel,
    config: &ChurnConfig,
) -> Result<Option<ChurnRisk>, ChurnError> {
    let Some(driver_model) = &model.driver_model else { return Ok(None) };
    let deliveries = features.subscription_orders;
    if deliveries == 0 {
        return Err(ChurnError::InvalidFeatures {
            customer: features.customer,
            reason: "an active subscriber without any subscription delivery",
        });
    }
    let periods = config.horizon_periods();
    let cap = config.max_period_hazard;
    // With n deliveries received, decisions 1 … n − 1 are behind; the next is decision n.
    let probability_with =
        |relative_risk: f64| subscriber_probability(driver_model, deliveries, periods, relative_risk, cap);
    let mut reasons = Vec::with_capacity(reason_capacity(features, model));
    reasons.push(ChurnReason {
        kind: ChurnReasonKind::SubscriptionBaseline { deliveries, probability: probability_with(1.0) },
        contribution: probability_with(1.0),
    });
    let mut multiplier = kimochi_reasons(features, model, &mut reasons);
    let medium = features.ad_medium.as_deref();
    if let Some((driver, relative_risk)) = model.media.iter().find(|(driver, _)| driver.medium.as_deref() == medium) {
        multiplier *= relative_risk;
        reasons.push(ChurnReason {
            kind: ChurnReasonKind::Medium { driver: driver.clone(), relative_risk: *relative_risk },
            contribution: 0.0,
        });
    }
    Ok(Some(finish(reasons, multiplier, probability_with, ChurnBasis::Subscription, config)))
}

/// 1 − Π_{t = n … n + H − 1} (1 − min(h(t) · RR, cap)).
fn subscriber_probability(model: &ChurnDriverModel, next: u32, periods: u32, relative_risk: f64, cap: f64) -> f64 {
    let mut staying = 1.0;
    for decision in next..next.saturating_add(periods) {
        staying *= 1.0 - (model.reference_hazard(decision) * relative_risk).min(cap);
    }
    1.0 - staying
}

fn non_contractual_risk(
    features: &CustomerFeatures,
    model: &ChurnModel,
    config: &ChurnConfig,
) -> Result<Option<ChurnRisk>, ChurnError> {
    if features.purchase_days == 0 {
        return Ok(None);
    }
    let Some(p_alive) = features.p_alive else { return Ok(None) };
    if !(0.0..=1.0).contains(&p_alive) {
        return Err(ChurnError::InvalidProbability { customer: features.customer, value: p_alive });
    }
    let odds_of_having_left = (1.0 - p_alive) / p_alive;
    let probability_with = |multiplier: f64| {
        if p_alive == 0.0 {
            return 1.0;
        }
        let odds = odds_of_having_left * multiplier;
        // A p_alive of 1e-300 gives odds beyond f64: the customer has left for certain.
        if odds.is_infinite() { 1.0 } else { odds / (1.0 + odds) }
    };
    let mut reasons = Vec::with_capacity(reason_capacity(features, model));
    reasons.push(ChurnReason { kind: ChurnReasonKind::SurvivalProbability { p_alive }, contribution: 1.0 - p_alive });
    let mut multiplier = kimochi_reasons(features, model, &mut reasons);
    if let Some(days) = features.overdue_days.filter(|&days| days > 0) {
        // Capped so that decades overdue give a probability of practically 1, not ∞ / ∞.
        let odds_ratio =
            config.overdue_odds_ratio_per_30_days.powf(days as f64 / OVERDUE_STEP_DAYS).min(MAX_OVERDUE_ODDS_RATIO);
        multiplier *= odds_ratio;
        reasons.push(ChurnReason { kind: ChurnReasonKind::OverdueCycle { days, odds_ratio }, contribution: 0.0 });
    }
    Ok(Some(finish(reasons, multiplier, probability_with, ChurnBasis::NonContractual, config)))
}

/// A probability as the karte prints it: one decimal under 10%, none above.
fn percent(probability: f64) -> String {
    let percent = probability * 100.0;
    if percent < 10.0 { format!("{percent:.1}%") } else { format!("{percent:.0}%") }
}

impl ChurnReason {
    /// Stable code of the reason: the driver code, or `subscription_baseline`, `p_alive`,
    /// `overdue_cycle`.
    pub fn code(&self) -> &str {
        match &self.kind {
            ChurnReasonKind::SubscriptionBaseline { .. } => "subscription_baseline",
            ChurnReasonKind::SurvivalProbability { .. } => "p_alive",
            ChurnReasonKind::OverdueCycle { .. } => "overdue_cycle",
            ChurnReasonKind::Kimochi { driver, .. } => driver.code(),
            ChurnReasonKind::Medium { driver, .. } => &driver.code,
        }
    }

    /// The sentence shown on the karte, e.g. 「期待とのギャップあり(解約リスク 3.0倍)」.
    pub fn text_ja(&self) -> String {
        match &self.kind {
            ChurnReasonKind::SubscriptionBaseline { deliveries, probability } => {
                format!("定期便{deliveries}回受取済み(この時期の基準の解約確率 {})", percent(*probability))
            }
            ChurnReasonKind::SurvivalProbability { p_alive } => format!("生存確率 {}", percent(*p_alive)),
            ChurnReasonKind::OverdueCycle { days, .. } => format!("購入周期を {days}日超過"),
            ChurnReasonKind::Kimochi { driver, count, relative_risk } => driver.sentence_ja(*count, *relative_risk),
            ChurnReasonKind::Medium { driver, relative_risk } => {
                format!("{}(解約リスク {relative_risk:.1}倍)", medium_label(driver.medium.as_deref()))
            }
        }
    }
}
