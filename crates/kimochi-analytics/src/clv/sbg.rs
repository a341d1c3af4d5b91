//! The shifted-beta-geometric (sBG) model of Fader & Hardie (2007), "How to Project Customer
//! Retention", for contractual customers (契約型顧客) such as subscribers, whose churn we observe
//! because they fail to renew: each customer cancels at the end of every period with their own
//! probability θ, and θ varies across the cohort as Beta(γ, δ). Discounted expected residual
//! lifetimes follow Fader & Hardie (2010), "Customer-Base Valuation in a Contractual Setting".
//!
//! Periods are whole contract periods (years in the paper's example). Period 0 is acquisition;
//! a customer "alive at period t" has renewed t times, i.e. their churn period T is after t.

use super::error::ClvError;
use super::optimize::{FitConfig, FitReport, fit_positive_parameters};
use super::special::{digamma, hypergeometric_2f1};

/// sBG parameters: the shapes of the Beta(γ, δ) distribution of per-period churn probabilities.
///
/// The names follow Fader & Hardie (2007, 2010), who write γ and δ; other texts (and some
/// packages) call the same two numbers α and β. The mean churn probability of a new customer is
/// γ / (γ + δ); the smaller γ + δ, the more customers differ from each other, which is what makes
/// the cohort's retention rate rise over time as the churn-prone customers leave first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SbgParams {
    pub gamma: f64,
    pub delta: f64,
}

impl SbgParams {
    /// Checks that both parameters are positive finite numbers.
    pub fn new(gamma: f64, delta: f64) -> Result<Self, ClvError> {
        for (name, value) in [("gamma", gamma), ("delta", delta)] {
            if !(value > 0.0 && value.is_finite()) {
                return Err(ClvError::InvalidParameter { name, value });
            }
        }
        Ok(Self { gamma, delta })
    }

    fn to_array(self) -> [f64; 2] {
        [self.gamma, self.delta]
    }

    fn from_array([gamma, delta]: [f64; 2]) -> Self {
        Self { gamma, delta }
    }

    /// Retention rate r_t = (δ + t − 1) / (γ + δ + t − 1): the share of customers alive at
    /// period t − 1 who renew for period t. `period` 0 gives 1: nobody can leave at acquisition,
    /// which keeps S(t) = r₀ · r₁ ⋯ r_t and P(T = 0) = 0 consistent.
    pub fn retention_rate(&self, period: u32) -> f64 {
        if period == 0 {
            return 1.0;
        }
        let t = f64::from(period);
        (self.delta + t - 1.0) / (self.gamma + self.delta + t - 1.0)
    }

    /// Retention rates r₁ … r_horizon.
    pub fn retention_rates(&self, horizon: u32) -> Vec<f64> {
        (1..=horizon).map(|period| self.retention_rate(period)).collect()
    }

    /// Survival S(t) = P(T > t) = B(γ, δ + t) / B(γ, δ): the share of the cohort still a
    /// customer after `period` renewal decisions; S(0) = 1.
    pub fn survival(&self, period: u32) -> f64 {
        // S(t) = S(t − 1) · r_t. The paper's S(t) = S(t − 1) − P(T = t) is equivalent, but the
        // product never subtracts nearly equal numbers, so it keeps full relative precision far
        // into the tail.
        (1..=period).map(|t| self.retention_rate(t)).product()
    }

    /// Survival curve S(0) = 1, S(1), …, S(horizon): `horizon + 1` values, which may extend past
    /// the periods the model was fitted on to project the cohort.
    pub fn survival_curve(&self, horizon: u32) -> Vec<f64> {
        let mut curve = Vec::with_capacity(horizon as usize + 1);
        let mut survival = 1.0;
        curve.push(survival);
        for period in 1..=horizon {
            survival *= self.retention_rate(period);
            curve.push(survival);
        }
        curve
    }

    /// P(T = t) = B(γ + 1, δ + t − 1) / B(γ, δ): the probability that a new customer churns
    /// (does not renew) at the end of period t; 0 for t = 0, when nobody can have churned yet.
    pub fn churn_probability(&self, period: u32) -> f64 {
        if period == 0 {
            return 0.0;
        }
        // P(T = t) = S(t − 1) · (1 − r_t), which is the paper's recursion
        // P(T = t) = (δ + t − 2) / (γ + δ + t − 1) · P(T = t − 1) written as a product.
        self.survival(period - 1) * self.gamma / (self.gamma + self.delta + f64::from(period) - 1.0)
    }

    /// P(T = 1) … P(T = horizon), by the recursion of Fader & Hardie (2007, eq. 7):
    /// P(T = 1) = γ / (γ + δ), P(T = t) = (δ + t − 2) / (γ + δ + t − 1) · P(T = t − 1).
    pub fn churn_probabilities(&self, horizon: u32) -> Vec<f64> {
        let Self { gamma, delta } = *self;
        let mut probabilities = Vec::with_capacity(horizon as usize);
        let mut probability = gamma / (gamma + delta);
        for period in 1..=horizon {
            if period > 1 {
                let t = f64::from(period);
                probability *= (delta + t - 2.0) / (gamma + delta + t - 1.0);
            }
            probabilities.push(probability);
        }
        probabilities
    }

    /// Discounted expected residual lifetime (DERL, 割引後期待残存期間) of a customer who has
    /// renewed `renewals` times, at `discount_rate` d per period (Fader & Hardie 2010, eq. 6):
    ///
    /// DERL = Σ_{t > n} S(t) / S(n) · (1 + d)^−(t − n − 1)
    ///      = (δ + n) / (γ + δ + n) · 2F1(1, δ + n + 1; γ + δ + n + 1; 1 / (1 + d)).
    ///
    /// The timing is the paper's: we stand just before the customer's next renewal decision, so
    /// that renewal counts undiscounted and each later one is discounted one more period. It is
    /// the number of future payments, in today's money; multiply by the payment per period for
    /// the discounted expected residual value of the customer.
    pub fn discounted_expected_residual_lifetime(&self, renewals: u32, discount_rate: f64) -> Result<f64, ClvError> {
        if !(discount_rate > 0.0 && discount_rate.is_finite()) {
            return Err(ClvError::InvalidDiscountRate(discount_rate));
        }
        let Self { gamma, delta } = *self;
        let n = f64::from(renewals);
        // z = 1/(1 + d) is in (0, 1), where the series of `hypergeometric_2f1` converges; it
        // still reports an error rather than a truncated sum for tiny d (z very close to 1).
        let hypergeometric =
            hypergeometric_2f1(1.0, delta + n + 1.0, gamma + delta + n + 1.0, 1.0 / (1.0 + discount_rate))?;
        Ok((delta + n) / (gamma + delta + n) * hypergeometric)
    }

    /// Log-likelihood of a cohort's survivor counts (Fader & Hardie 2007, eq. 8):
    /// Σ_t (lost in period t) · ln P(T = t) + (alive at the last period n) · ln S(n).
    ///
    /// `survivors[0]` is the cohort size at acquisition and `survivors[t]` the customers still
    /// active at the end of period t; counts may not grow from one period to the next.
    pub fn log_likelihood(&self, survivors: &[u64]) -> Result<f64, ClvError> {
        validate_cohort(survivors)?;
        Ok(self.cohort_log_likelihood(survivors).0)
    }

    /// Gradient of [`Self::log_likelihood`] with respect to (gamma, delta), in that order.
    pub fn log_likelihood_gradient(&self, survivors: &[u64]) -> Result<[f64; 2], ClvError> {
        validate_cohort(survivors)?;
        Ok(self.cohort_log_likelihood(survivors).1)
    }

    /// Log-likelihood of valid survivor counts and its gradient.
    ///
    /// The values use the recursions in log form, which cannot underflow however long the
    /// cohort is observed. The derivatives come from the Beta-function forms
    /// ln P(T = t) = ln B(γ + 1, δ + t − 1) − ln B(γ, δ) and ln S(t) = ln B(γ, δ + t) − ln B(γ, δ)
    /// with ∂ ln B(a, b)/∂a = ψ(a) − ψ(a + b):
    ///
    /// ∂ ln P(T = t)/∂γ = 1/γ + ψ(γ + δ) − ψ(γ + δ + t),
    /// ∂ ln P(T = t)/∂δ = ψ(δ + t − 1) − ψ(δ) + ψ(γ + δ) − ψ(γ + δ + t),
    /// ∂ ln S(t)/∂γ = ψ(γ + δ) − ψ(γ + δ + t),
    /// ∂ ln S(t)/∂δ = ψ(δ + t) − ψ(δ) + ψ(γ + δ) − ψ(γ + δ + t).
    fn cohort_log_likelihood(&self, survivors: &[u64]) -> (f64, [f64; 2]) {
        let Self { gamma, delta } = *self;
        let psi_sum = digamma(gamma + delta);
        let psi_delta = digamma(delta);
        let mut value = 0.0;
        let mut gradient = [0.0; 2];
        // ln S(t − 1) carried through the loop; ln P(T = t) = ln S(t − 1) + ln(1 − r_t).
        let mut ln_survival = 0.0;
        for (index, pair) in survivors.windows(2).enumerate() {
            let t = (index + 1) as f64;
            let lost = (pair[0] - pair[1]) as f64;
            let psi_sum_t = digamma(gamma + delta + t);
            if lost > 0.0 {
                let ln_churn = ln_survival + gamma.ln() - (gamma + delta + t - 1.0).ln();
                value += lost * ln_churn;
                gradient[0] += lost * (1.0 / gamma + psi_sum - psi_sum_t);
                gradient[1] += lost * (digamma(delta + t - 1.0) - psi_delta + psi_sum - psi_sum_t);
            }
            ln_survival += (delta + t - 1.0).ln() - (gamma + delta + t - 1.0).ln();
            if index + 2 == survivors.len() {
                let alive = pair[1] as f64;
                if alive > 0.0 {
                    value += alive * ln_survival;
                    gradient[0] += alive * (psi_sum - psi_sum_t);
                    gradient[1] += alive * (digamma(delta + t) - psi_delta + psi_sum - psi_sum_t);
                }
            }
        }
        (value, gradient)
    }
}

/// Checks that survivor counts describe one cohort observed for at least one period.
fn validate_cohort(survivors: &[u64]) -> Result<(), ClvError> {
    match survivors {
        [] | [0, ..] => Err(ClvError::NoCustomers),
        [_] => Err(ClvError::InvalidCohort { period: 1, reason: "no period after acquisition was observed" }),
        _ => match survivors.windows(2).position(|pair| pair[1] > pair[0]) {
            Some(index) => Err(ClvError::InvalidCohort {
                period: index + 1,
                reason: "more customers than in the period before; a cohort can only shrink",
            }),
            None => Ok(()),
        },
    }
}

/// Fits the sBG model to one cohort's survivor counts by maximum likelihood, starting from
/// γ = δ = 1 (churn probabilities uniform on [0, 1]) as in the paper's spreadsheet.
///
/// `survivors[0]` is the cohort size at acquisition and `survivors[t]` the customers still active
/// at the end of period t. The report's `n_customers` is the cohort size.
///
/// A cohort in which nobody churned, or everybody churned in the first period, has no finite
/// maximum: the likelihood keeps rising towards γ → 0 (or δ → 0). The fit then drifts to
/// extreme parameters until the likelihood is flat within the gradient tolerance, so it may
/// report `converged: true`; such a fit has no standard errors, and its mean churn probability
/// γ / (γ + δ) is 0 or 1, which is the honest reading of such data.
pub fn fit_sbg(survivors: &[u64], config: &FitConfig) -> Result<FitReport<SbgParams>, ClvError> {
    validate_cohort(survivors)?;
    let negative_log_likelihood = |params: &[f64; 2]| {
        let (value, gradient) = SbgParams::from_array(*params).cohort_log_likelihood(survivors);
        Some((-value, gradient.map(|component| -component)))
    };
    let n_customers = usize::try_from(survivors[0]).unwrap_or(usize::MAX);
    let start = SbgParams { gamma: 1.0, delta: 1.0 }.to_array();
    let fit = fit_positive_parameters(negative_log_likelihood, n_customers, start, config)?;
    Ok(FitReport {
        params: SbgParams::from_array(fit.params),
        log_likelihood: fit.log_likelihood,
        n_customers,
        standard_errors: fit.standard_errors.map(SbgParams::from_array),
        iterations: fit.iterations,
        converged: fit.converged,
    })
}
