//! The Pareto/NBD model of Schmittlein, Morrison & Colombo (1987), with the likelihood as
//! written by Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related
//! Expressions": purchases are Poisson with rate λ ~ Gamma(r, α) and the customer's lifetime is
//! exponential with rate μ ~ Gamma(s, β), so dropout can happen at any time.

use super::error::ClvError;
use super::optimize::{FitConfig, FitReport, fit_positive_parameters};
use super::special::{hypergeometric_2f1, ln_gamma};
use super::summary::RfmSummary;

/// Pareto/NBD parameters: purchase rate shape `r` and scale `alpha`, dropout rate shape `s` and
/// scale `beta` (scales in weeks).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParetoNbdParams {
    pub r: f64,
    pub alpha: f64,
    pub s: f64,
    pub beta: f64,
}

/// The pieces of the likelihood both the fit and the predictions need, in logarithms because
/// the powers (α+T)^(r+x) overflow for frequent buyers.
struct LikelihoodTerms {
    /// ln of the "still alive at T" term 1 / ((α+T)^(r+x) (β+T)^s).
    ln_alive: f64,
    /// ln of the "died between tₓ and T" term s/(r+s+x) · A₀.
    ln_died: f64,
}

impl ParetoNbdParams {
    /// Checks that every parameter is a positive finite number.
    pub fn new(r: f64, alpha: f64, s: f64, beta: f64) -> Result<Self, ClvError> {
        for (name, value) in [("r", r), ("alpha", alpha), ("s", s), ("beta", beta)] {
            if !(value > 0.0 && value.is_finite()) {
                return Err(ClvError::InvalidParameter { name, value });
            }
        }
        Ok(Self { r, alpha, s, beta })
    }

    fn to_array(self) -> [f64; 4] {
        [self.r, self.alpha, self.s, self.beta]
    }

    fn from_array([r, alpha, s, beta]: [f64; 4]) -> Self {
        Self { r, alpha, s, beta }
    }

    /// Fader & Hardie's eq. (22)-(24). A₀ is a difference of two hypergeometric terms; the
    /// function's first argument is chosen so that its z = |α−β|/(max(α,β)+t) stays in [0, 1),
    /// where the series converges.
    fn likelihood_terms(&self, summary: &RfmSummary) -> Result<LikelihoodTerms, ClvError> {
        let Self { r, alpha, s, beta } = *self;
        let RfmSummary { frequency: x, recency: t_x, t, .. } = *summary;
        let shape = r + s + x;
        let (larger, second_argument) = if alpha >= beta { (alpha, s + 1.0) } else { (beta, r + x) };
        let difference = (alpha - beta).abs();
        let ln_term = |at: f64| -> Result<f64, ClvError> {
            let hypergeometric = hypergeometric_2f1(shape, second_argument, shape + 1.0, difference / (larger + at))?;
            Ok(hypergeometric.ln() - shape * (larger + at).ln())
        };
        let ln_at_recency = ln_term(t_x)?;
        let ln_at_age = ln_term(t)?;
        // A₀ = e^(ln_at_recency) − e^(ln_at_age) ≥ 0, computed without leaving log space; it
        // is 0 when tₓ = T, and rounding must not turn that into the log of a negative number.
        let ln_a0 = if ln_at_age >= ln_at_recency {
            f64::NEG_INFINITY
        } else {
            ln_at_recency + (-(ln_at_age - ln_at_recency).exp()).ln_1p()
        };
        Ok(LikelihoodTerms {
            ln_alive: -(r + x) * (alpha + t).ln() - s * (beta + t).ln(),
            ln_died: s.ln() - shape.ln() + ln_a0,
        })
    }

    fn customer_log_likelihood(&self, summary: &RfmSummary) -> Result<f64, ClvError> {
        let Self { r, alpha, s, beta } = *self;
        let terms = self.likelihood_terms(summary)?;
        let largest = terms.ln_alive.max(terms.ln_died);
        let ln_mixture = if terms.ln_died == f64::NEG_INFINITY {
            // tₓ = T: nobody can have died in an empty interval.
            terms.ln_alive
        } else {
            largest + ((terms.ln_alive - largest).exp() + (terms.ln_died - largest).exp()).ln()
        };
        Ok(ln_gamma(r + summary.frequency) - ln_gamma(r) + r * alpha.ln() + s * beta.ln() + ln_mixture)
    }

    /// Total log-likelihood of the summaries.
    pub fn log_likelihood(&self, summaries: &[RfmSummary]) -> Result<f64, ClvError> {
        validate_all(summaries)?;
        summaries.iter().map(|summary| self.customer_log_likelihood(summary)).sum()
    }

    /// Probability that the customer is still alive at the calibration end: the share of the
    /// likelihood that comes from the "alive at T" branch.
    pub fn probability_alive(&self, summary: &RfmSummary) -> Result<f64, ClvError> {
        summary.validate(0)?;
        let terms = self.likelihood_terms(summary)?;
        Ok(1.0 / (1.0 + (terms.ln_died - terms.ln_alive).exp()))
    }

    /// Expected number of purchases in the next `horizon` weeks (Fader & Hardie's note, eq. 20):
    /// P(alive) · (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)]. For s = 1 the bracket
    /// over s − 1 is replaced by its limit ln((β+T+t)/(β+T)).
    pub fn conditional_expected_purchases(&self, summary: &RfmSummary, horizon: f64) -> Result<f64, ClvError> {
        if !(horizon >= 0.0 && horizon.is_finite()) {
            return Err(ClvError::InvalidHorizon(horizon));
        }
        let Self { r, alpha, s, beta } = *self;
        let RfmSummary { frequency: x, t, .. } = *summary;
        let ln_ratio = (beta + t + horizon).ln() - (beta + t).ln();
        let lifetime_factor = if s == 1.0 { ln_ratio } else { -(-(s - 1.0) * ln_ratio).exp_m1() / (s - 1.0) };
        Ok(self.probability_alive(summary)? * (r + x) * (beta + t) / (alpha + t) * lifetime_factor)
    }
}

fn validate_all(summaries: &[RfmSummary]) -> Result<(), ClvError> {
    summaries.iter().enumerate().try_for_each(|(index, summary)| summary.validate(index))
}

/// Relative step of the central differences that stand in for the analytic gradient: the
/// derivatives of 2F1 in its parameters have no convenient closed form.
const GRADIENT_STEP: f64 = 1e-6;

/// Fits Pareto/NBD by maximum likelihood, starting from r = α = s = β = 1. The gradient is
/// taken by central differences, so the fit is slower than BG/NBD's and converges to a slightly
/// looser tolerance (a gradient tolerance of 1e-7 is realistic).
pub fn fit_pareto_nbd(summaries: &[RfmSummary], config: &FitConfig) -> Result<FitReport<ParetoNbdParams>, ClvError> {
    if summaries.is_empty() {
        return Err(ClvError::NoCustomers);
    }
    validate_all(summaries)?;
    let negative_log_likelihood_value = |params: &[f64; 4]| -> Option<f64> {
        let model = ParetoNbdParams::from_array(*params);
        let mut total = 0.0;
        for summary in summaries {
            total -= model.customer_log_likelihood(summary).ok()?;
        }
        total.is_finite().then_some(total)
    };
    let negative_log_likelihood = |params: &[f64; 4]| {
        let value = negative_log_likelihood_value(params)?;
        let mut gradient = [0.0; 4];
        for i in 0..4 {
            let step = GRADIENT_STEP * params[i];
            let mut forward = *params;
            forward[i] += step;
            let mut backward = *params;
            backward[i] -= step;
            gradient[i] =
                (negative_log_likelihood_value(&forward)? - negative_log_likelihood_value(&backward)?) / (2.0 * step);
        }
        Some((value, gradient))
    };
    let start = ParetoNbdParams { r: 1.0, alpha: 1.0, s: 1.0, beta: 1.0 }.to_array();
    let fit = fit_positive_parameters(negative_log_likelihood, summaries.len(), start, config)?;
    Ok(FitReport {
        params: ParetoNbdParams::from_array(fit.params),
        log_likelihood: fit.log_likelihood,
        n_customers: summaries.len(),
        standard_errors: fit.standard_errors.map(ParetoNbdParams::from_array),
        iterations: fit.iterations,
        converged: fit.converged,
    })
}
