//! Churn (離反・解約) for the contact center: which kimochi signals and ad media drive
//! subscribers to cancel, as relative risks with confidence intervals (B2), and each customer's
//! chance of leaving within a horizon with the reasons an operator can read on the karte (T3).
//!
//! # Churn drivers (B2): a proportional-hazards model over subscription periods
//!
//! **Data.** Each current or former subscriber is one [`SubscriptionHistory`]: the subscription
//! deliveries received (定期便の受取回数, first delivery included) and whether they cancelled.
//! A renewal decision (継続判断) sits between two deliveries: a subscriber with *n* deliveries
//! who cancelled survived decisions 1 … n − 1 and cancelled at decision *n*; one still active has
//! survived decisions 1 … n − 1 and is censored (打ち切り) there. The decisions a subscriber faced
//! are their exposure; an active subscriber with one delivery has faced none and adds nothing.
//! [`subscription_histories`] reads these from the features (`subscription_orders`, and
//! `lapsed_subscriber` without `active_subscriber` for a cancellation).
//!
//! **Baseline hazard.** The chance that a subscriber of the reference group (no driver, the
//! reference medium) cancels at decision *t* is the shifted-beta-geometric (sBG) conditional
//! churn probability h(t) = 1 − r_t = γ / (γ + δ + t − 1) ([`SbgParams::retention_rate`]).
//! The cumulative baseline hazard over a subscriber's exposure is E_i = Σ_{t=1..decisions_i} h(t).
//! Adding the per-decision probabilities is the usual piecewise Poisson (ポアソン) approximation
//! of a discrete-time hazard: for a constant hazard it gives exactly the geometric maximum
//! likelihood estimate (events / decisions), and it stays close while the hazard per period is
//! small, which is the case for monthly subscriptions (a few percent).
//!
//! **Model.** churned_i ~ Poisson(E_i · exp(β₀ + β·x_i)), where x_i are 0/1 driver indicators.
//! β is fitted by Newton–Raphson with the analytic gradient Σ x (d − μ) and Hessian −Σ μ x xᵀ,
//! on counts aggregated by (driver pattern, exposure): fitting 500,000 subscribers costs one
//! sort of packed keys, and each Newton iteration runs over the distinct driver patterns (at
//! most a few hundred), not the subscribers. A ridge penalty (λ/2)·Σ β_j² (default λ = 0.01,
//! not on the intercept β₀) keeps estimates finite when a driver separates the data (e.g. every
//! subscriber with it cancelled); against thousands of events it moves a real effect by far less
//! than its standard error. The relative risk of driver j is exp(β_j), its 95% confidence
//! interval exp(β_j ± 1.96·SE_j), SE from the inverse of the penalised observed information,
//! and the two-sided Wald p-value erfc(|β_j / SE_j| / √2).
//!
//! Where the baseline comes from ([`ChurnBaseline`]):
//! - `FitSbg` (default): the sBG curve is fitted together with the drivers. For a fixed sBG
//!   concentration κ = γ + δ the hazard is h(t) = m · κ / (κ + t − 1), so the model is a plain
//!   Poisson regression with offset Σ κ / (κ + t − 1) whose intercept gives m = γ / (γ + δ); κ is
//!   chosen by maximising the profile likelihood of the piecewise Poisson model,
//!   ℓ(κ) = max_β Σ_i [d_i (ln h_κ(decisions_i) + η_i) − E_i(κ) · exp(η_i)] with
//!   η_i = β₀ + β·x_i, over ln κ in [ln 0.01, ln 100,000] (a grid in steps of 0.5, then
//!   golden-section search between the best point's neighbours). κ at the upper end means a hazard
//!   that hardly changes with tenure. Standard errors are conditional on the chosen κ, which
//!   narrows them a little. Fitting the curve jointly (rather than first fitting an sBG to all
//!   subscribers) matters: a baseline fitted to the pooled data falls with tenure partly because
//!   high-risk subscribers leave first, and using it as a fixed offset would shrink the relative
//!   risks of exactly those drivers.
//! - `Given(SbgParams)`: a curve fitted elsewhere (e.g. [`crate::clv::fit_sbg`] on a cohort); the
//!   intercept becomes a multiplier of it for the reference group (`baseline_multiplier`).
//! - `Exposure`: no curve, E_i = decisions_i; the intercept is a constant hazard per decision.
//!
//! **Drivers** ([`KimochiDriver`]), fixed, each a 0/1 reading of
//! [`CustomerFeatures`](crate::features::CustomerFeatures):
//! `expectation_gap` (期待とのギャップ: a gap note), `advocate` (推奨意向: any advocacy),
//! `unreachable` (連続不通: three or more unanswered outbound attempts in a row, or three or more
//! attempts and none reached), `complaint` (クレーム), `churn_intent` (解約の意向),
//! `negative_tone` (否定的な応対: more negative than positive contacts), and the ad medium of
//! acquisition (広告媒体) as one indicator per medium, `medium:<name>` (`medium:unknown` for no
//! medium), against the most common medium among the subscribers (ties: the first by name, no
//! medium before any).
//! A driver is dropped, and listed in [`ChurnDriverModel::dropped`] with the reason, when all or
//! none of the subscribers have it, when fewer than `min_customers_with` have it or lack it (a
//! handful of customers gives an interval too wide to read), or when the configuration excludes
//! it. A dropped medium counts as the reference medium; when scoring, a medium that is not in
//! the model (the reference, a dropped one, or one the fit never saw) applies no factor.
//!
//! **Caution, `churn_intent`:** a subscriber who cancels usually says so in the contact that
//! cancels. If the features are counted up to the "as of" date, every cancelled subscriber has
//! churn intent and its relative risk is a tautology. Count the signals before each subscriber's
//! cancellation, or exclude the driver with [`ChurnFitConfig::excluded_drivers`].
//!
//! # Churn risk per customer (T3)
//!
//! [`churn_risk`] gives the probability of leaving within `horizon_days` (default 90), a level
//! (低/中/高 by `medium_from` and `high_from`, defaults 15% and 35%, a judgement to tune per
//! tenant) and the reasons. Which rule applies:
//!
//! - **Active subscribers** (`active_subscriber` or stage 定期): the next decisions are
//!   t = n … n + H − 1, where n is the deliveries received and H = ⌈horizon / period⌉ (default
//!   90 / 30 = 3). Per decision the hazard is the reference hazard × the relative risks of the
//!   customer's drivers, capped at `max_period_hazard` (default 0.95), and the probability of
//!   leaving is 1 − Π (1 − hazard). Without a fitted driver model subscribers are not scored.
//! - **Non-contractual purchasers** (stages repeater, main product, trial, dormant, with
//!   purchase days and a BG/NBD `p_alive`): the odds of having left, (1 − p_alive) / p_alive,
//!   are multiplied by `overdue_odds_ratio_per_30_days` (default 1.5) per 30 days overdue on the
//!   purchase cycle and by the relative risks of the customer's kimochi drivers (not the medium:
//!   p_alive already reflects how that medium's buyers buy); probability = odds / (1 + odds).
//!   With no driver and nothing overdue the probability is exactly 1 − p_alive. Borrowing the
//!   subscribers' hazard ratios as odds ratios for buyers, and the overdue factor, are stated
//!   assumptions, not fitted: non-contractual customers never tell us that they left, so there
//!   is no outcome to fit them on. p_alive = 1 gives 0 and p_alive = 0 gives 1 whatever else.
//!   Unlike the subscriber rule this is a probability of having already left, not of leaving
//!   within the horizon.
//! - **Not purchased, excluded (対象外), or no p_alive:** `None`. No number is made up.
//!   Bad input is an error, never NaN: a p_alive that is NaN or outside [0, 1], an active
//!   subscriber with no delivery, a configuration out of range.
//!
//! **Reasons** ([`ChurnReason`]): the starting point is always a reason (the subscriber's base
//! probability for their tenure, or 「生存確率 18%」), so every scored customer has at least
//! one; then one per driver the customer has (「期待とのギャップあり(解約リスク 3.0倍)」), and
//! 「購入周期を 24日超過」 when overdue. A starting point contributes its own probability; any
//! other factor contributes the probability minus the probability without that factor, in
//! probability points (negative for protective factors such as advocacy). Reasons are sorted by
//! contribution, largest first.

mod drivers;
mod fit;
mod linalg;
mod score;

use std::sync::Arc;

use kimochi_domain::CustomerId;

use crate::clv::SbgParams;

pub use drivers::KimochiDriver;
pub use fit::{fit_churn_driver_model, fit_churn_model, subscription_histories};
pub use score::{churn_list, churn_risk};

/// What went wrong while fitting churn drivers or scoring a customer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChurnError {
    /// No subscriber with at least one renewal decision was given.
    #[error("no subscribers with a renewal decision to fit the churn drivers on")]
    NoSubscribers,
    /// Nobody cancelled, so no churn rate can be estimated.
    #[error("no subscriber cancelled, so the churn rate cannot be estimated")]
    NoChurn,
    /// Features and subscription histories are paired by position and must be as many.
    #[error("{features} feature records but {histories} subscription histories; they are paired by position")]
    LengthMismatch { features: usize, histories: usize },
    /// A subscription history cannot be real.
    #[error("customer {customer}: subscription history {reason}")]
    InvalidHistory { customer: CustomerId, reason: &'static str },
    /// A customer's p_alive was NaN or outside [0, 1].
    #[error("customer {customer}: p_alive {value} is not a probability")]
    InvalidProbability { customer: CustomerId, value: f64 },
    /// A customer's features contradict each other.
    #[error("customer {customer}: {reason}")]
    InvalidFeatures { customer: CustomerId, reason: &'static str },
    /// A configuration value was out of range.
    #[error("churn configuration: {0}")]
    InvalidConfig(&'static str),
    /// The reference group's fitted hazard at the first decision is 1 or more, which no sBG
    /// curve can express: (nearly) every subscriber cancelled at their first decision.
    #[error("the subscribers cancelled at their first renewal decision so uniformly that no sBG baseline fits")]
    DegenerateBaseline,
    /// The fit produced no finite estimate.
    #[error("churn driver fit failed: {0}")]
    FitFailed(&'static str),
}

impl ChurnError {
    /// Whether the data are too thin or too uniform to fit (no subscriber past a renewal
    /// decision, no cancellation yet, or everybody cancelling at once), as with a tenant that has
    /// just started subscriptions. A pipeline can then score with
    /// [`ChurnModel::without_subscribers`] instead of failing the whole run.
    pub fn is_insufficient_data(&self) -> bool {
        matches!(self, ChurnError::NoSubscribers | ChurnError::NoChurn | ChurnError::DegenerateBaseline)
    }
}

/// Where the baseline hazard of the driver model comes from (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChurnBaseline {
    /// Fit an sBG curve for the reference group together with the drivers.
    FitSbg,
    /// Use this sBG curve, scaled by a fitted multiplier for the reference group.
    Given(SbgParams),
    /// A constant hazard per renewal decision (E_i = decisions_i).
    Exposure,
}

/// How the driver model is fitted.
#[derive(Debug, Clone, PartialEq)]
pub struct ChurnFitConfig {
    pub baseline: ChurnBaseline,
    /// Ridge penalty λ on the driver coefficients (not the intercept).
    pub ridge: f64,
    /// A driver needs at least this many subscribers with it and without it.
    pub min_customers_with: u64,
    /// Driver codes left out of the model (e.g. `churn_intent`, `medium:紹介`).
    pub excluded_drivers: Vec<String>,
    /// Newton iterations per fit before giving up.
    pub max_iterations: usize,
}

impl Default for ChurnFitConfig {
    fn default() -> Self {
        Self {
            baseline: ChurnBaseline::FitSbg,
            ridge: 0.01,
            min_customers_with: 20,
            excluded_drivers: Vec::new(),
            max_iterations: 100,
        }
    }
}

/// How churn is fitted and scored.
#[derive(Debug, Clone, PartialEq)]
pub struct ChurnConfig {
    /// The horizon of the subscriber probability, in days.
    pub horizon_days: u32,
    /// Days between subscription deliveries.
    pub subscription_period_days: u32,
    /// Probability from which the level is 中 (medium).
    pub medium_from: f64,
    /// Probability from which the level is 高 (high).
    pub high_from: f64,
    /// Cap on a subscriber's hazard per decision, so that relative risks multiplied together
    /// cannot make leaving certain.
    pub max_period_hazard: f64,
    /// Factor on a non-contractual customer's odds of having left per 30 days overdue.
    pub overdue_odds_ratio_per_30_days: f64,
    pub fit: ChurnFitConfig,
}

impl Default for ChurnConfig {
    fn default() -> Self {
        Self {
            horizon_days: 90,
            subscription_period_days: 30,
            medium_from: 0.15,
            high_from: 0.35,
            max_period_hazard: 0.95,
            overdue_odds_ratio_per_30_days: 1.5,
            fit: ChurnFitConfig::default(),
        }
    }
}

impl ChurnConfig {
    /// The longest horizon: ten years, far beyond what a churn list plans for, and a bound on
    /// the work per customer.
    pub const MAX_HORIZON_DAYS: u32 = 3_650;

    /// Renewal decisions within the horizon: ⌈horizon / period⌉, at least one.
    pub fn horizon_periods(&self) -> u32 {
        self.horizon_days.div_ceil(self.subscription_period_days.max(1)).max(1)
    }

    fn validate(&self) -> Result<(), ChurnError> {
        let probability = |value: f64| value > 0.0 && value <= 1.0;
        if self.horizon_days == 0 || self.subscription_period_days == 0 {
            return Err(ChurnError::InvalidConfig("horizon and subscription period must be at least one day"));
        }
        if self.horizon_days > Self::MAX_HORIZON_DAYS {
            return Err(ChurnError::InvalidConfig("the horizon may be at most ten years (3,650 days)"));
        }
        if !(probability(self.medium_from) && probability(self.high_from) && self.medium_from <= self.high_from) {
            return Err(ChurnError::InvalidConfig("levels need 0 < medium_from ≤ high_from ≤ 1"));
        }
        if !(self.max_period_hazard > 0.0 && self.max_period_hazard < 1.0) {
            return Err(ChurnError::InvalidConfig("max_period_hazard must be in (0, 1)"));
        }
        if !(self.overdue_odds_ratio_per_30_days >= 1.0 && self.overdue_odds_ratio_per_30_days.is_finite()) {
            return Err(ChurnError::InvalidConfig("overdue_odds_ratio_per_30_days must be a finite number ≥ 1"));
        }
        if !(self.fit.ridge >= 0.0 && self.fit.ridge.is_finite()) {
            return Err(ChurnError::InvalidConfig("ridge must be a finite number ≥ 0"));
        }
        if let ChurnBaseline::Given(params) = self.fit.baseline {
            SbgParams::new(params.gamma, params.delta)
                .map_err(|_| ChurnError::InvalidConfig("the given sBG parameters must be positive"))?;
        }
        Ok(())
    }
}

/// One subscriber's outcome: deliveries received (first included) and whether they cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionHistory {
    pub deliveries: u32,
    pub churned: bool,
}

impl SubscriptionHistory {
    /// The largest delivery count accepted: 100,000 monthly periods is already far beyond any
    /// real subscription, so a larger number is a data error.
    pub const MAX_DELIVERIES: u32 = 100_000;

    /// Renewal decisions faced: all deliveries for a cancelled subscriber (the last decision
    /// was the cancellation), one less for an active one.
    pub fn decisions(&self) -> u32 {
        if self.churned { self.deliveries } else { self.deliveries.saturating_sub(1) }
    }
}

/// What a driver is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChurnDriverKind {
    Kimochi(KimochiDriver),
    /// The ad medium of acquisition; `None` for customers without one.
    Medium(Option<Arc<str>>),
}

/// One driver's relative risk (相対リスク) of cancelling per renewal decision.
#[derive(Debug, Clone, PartialEq)]
pub struct ChurnDriver {
    pub kind: ChurnDriverKind,
    /// Stable code: `expectation_gap`, `medium:TV通販`, ….
    pub code: Arc<str>,
    pub label_ja: Arc<str>,
    /// β, the log relative risk, and its standard error.
    pub coefficient: f64,
    pub standard_error: f64,
    pub relative_risk: f64,
    /// 95% confidence interval of the relative risk.
    pub ci_low: f64,
    pub ci_high: f64,
    /// Two-sided Wald p-value of "no effect".
    pub p_value: f64,
    /// Subscribers in the fit with this driver, and how many of them cancelled.
    pub customers_with: u64,
    pub churned_with: u64,
}

/// Why a driver is not in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// All or none of the subscribers have it.
    NoVariation,
    /// Fewer than `min_customers_with` subscribers have it, or lack it.
    TooFew,
    /// The configuration excludes it.
    Excluded,
}

/// A driver left out of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct DroppedDriver {
    pub code: Arc<str>,
    pub label_ja: Arc<str>,
    pub customers_with: u64,
    pub reason: DropReason,
}

/// The fitted churn drivers (B2), ranked by relative risk, largest first.
#[derive(Debug, Clone, PartialEq)]
pub struct ChurnDriverModel {
    pub drivers: Vec<ChurnDriver>,
    pub dropped: Vec<DroppedDriver>,
    /// The reference medium (`None`: customers without a medium), if any subscriber had one.
    pub reference_medium: Option<Option<Arc<str>>>,
    /// How the baseline was obtained.
    pub baseline_kind: ChurnBaseline,
    /// The sBG curve of the reference group's hazard per decision; `None` for a constant one.
    pub baseline: Option<SbgParams>,
    /// Multiplier of the curve (1 for a fitted curve, which carries its own level); for a
    /// constant baseline, the hazard per decision itself.
    pub baseline_multiplier: f64,
    /// Subscribers with at least one decision, cancellations and decisions in the fit.
    pub subscribers: u64,
    pub churned: u64,
    pub decisions: u64,
    /// Penalised piecewise-Poisson log-likelihood at the estimates.
    pub log_likelihood: f64,
    pub iterations: usize,
    pub converged: bool,
}

impl ChurnDriverModel {
    /// The reference group's hazard at renewal decision `t` (1-based), before any cap.
    pub fn reference_hazard(&self, decision: u32) -> f64 {
        let curve = match self.baseline {
            Some(params) => 1.0 - params.retention_rate(decision.max(1)),
            None => 1.0,
        };
        self.baseline_multiplier * curve
    }

    /// The driver with this code, if it is in the model.
    pub fn driver(&self, code: &str) -> Option<&ChurnDriver> {
        self.drivers.iter().find(|driver| &*driver.code == code)
    }
}

/// Everything scoring needs: the fitted driver model (with its baseline), or none when the
/// tenant has no subscribers to fit it on.
#[derive(Debug, Clone, PartialEq)]
pub struct ChurnModel {
    pub driver_model: Option<ChurnDriverModel>,
    /// Relative risk per kimochi driver, by [`KimochiDriver::index`]; `None` when dropped.
    kimochi_relative_risks: [Option<f64>; KimochiDriver::COUNT],
    /// Media in the model with their relative risks.
    media: Vec<(Arc<MediumDriver>, f64)>,
}

impl ChurnModel {
    /// Wraps a fitted driver model for scoring.
    pub fn new(driver_model: ChurnDriverModel) -> Self {
        let mut kimochi_relative_risks = [None; KimochiDriver::COUNT];
        let mut media = Vec::new();
        for driver in &driver_model.drivers {
            match &driver.kind {
                ChurnDriverKind::Kimochi(kimochi) => {
                    kimochi_relative_risks[kimochi.index()] = Some(driver.relative_risk)
                }
                ChurnDriverKind::Medium(medium) => {
                    let medium = MediumDriver { code: driver.code.clone(), medium: medium.clone() };
                    media.push((Arc::new(medium), driver.relative_risk));
                }
            }
        }
        Self { driver_model: Some(driver_model), kimochi_relative_risks, media }
    }

    /// A model with no subscribers: non-contractual customers are scored from p_alive and
    /// overdue cycles alone, subscribers are not scored.
    pub fn without_subscribers() -> Self {
        Self { driver_model: None, kimochi_relative_risks: [None; KimochiDriver::COUNT], media: Vec::new() }
    }
}

/// The level of a churn risk.
///
/// The discriminants are stable (0, 1, 2), so `level as usize` may index a count per level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChurnLevel {
    Low = 0,
    Medium = 1,
    High = 2,
}

impl ChurnLevel {
    pub fn code(self) -> &'static str {
        match self {
            ChurnLevel::Low => "low",
            ChurnLevel::Medium => "medium",
            ChurnLevel::High => "high",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            ChurnLevel::Low => "低",
            ChurnLevel::Medium => "中",
            ChurnLevel::High => "高",
        }
    }
}

/// Which rule scored the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChurnBasis {
    /// An active subscriber: probability of cancelling within the horizon.
    Subscription,
    /// A non-contractual purchaser: probability of having already left.
    NonContractual,
}

/// What a reason is about, with the figures its sentence quotes.
#[derive(Debug, Clone, PartialEq)]
pub enum ChurnReasonKind {
    /// A subscriber's probability from tenure alone (the reference group's hazard).
    SubscriptionBaseline { deliveries: u32, probability: f64 },
    /// A purchaser's BG/NBD probability of still being a customer.
    SurvivalProbability { p_alive: f64 },
    /// Days past the expected repurchase date.
    OverdueCycle { days: i64, odds_ratio: f64 },
    /// A kimochi driver, with the count it quotes (notes, complaints, unanswered calls …).
    Kimochi { driver: KimochiDriver, count: u32, relative_risk: f64 },
    /// The ad medium of acquisition.
    Medium { driver: Arc<MediumDriver>, relative_risk: f64 },
}

/// An ad medium in the driver model. Reasons share it rather than copy its strings, which keeps
/// a reason at 32 bytes and scoring free of allocations beyond the reasons vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediumDriver {
    /// `medium:<name>`.
    pub code: Arc<str>,
    /// `None` for customers without a medium.
    pub medium: Option<Arc<str>>,
}

/// One reason for a churn risk, with its contribution in probability points.
#[derive(Debug, Clone, PartialEq)]
pub struct ChurnReason {
    pub kind: ChurnReasonKind,
    pub contribution: f64,
}

/// A customer's churn risk.
#[derive(Debug, Clone, PartialEq)]
pub struct ChurnRisk {
    pub probability: f64,
    pub level: ChurnLevel,
    pub basis: ChurnBasis,
    /// Sorted by contribution, largest first; never empty.
    pub reasons: Vec<ChurnReason>,
}
