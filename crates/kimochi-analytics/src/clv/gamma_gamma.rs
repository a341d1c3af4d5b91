//! The Gamma-Gamma spend model of Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value
//! Curves for Customer Base Analysis": each purchase amount is Gamma(p, ν) with a customer's own
//! ν ~ Gamma(q, γ), independent of how often the customer buys.

use super::error::ClvError;
use super::optimize::{FitConfig, FitReport, fit_positive_parameters};
use super::special::{digamma, ln_gamma};
use super::summary::RfmSummary;

/// Gamma-Gamma parameters: purchase-amount shape `p`, and shape `q` and scale `gamma` of the
/// customers' rate parameters (called v in `lifetimes`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGammaParams {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

impl GammaGammaParams {
    /// Checks that every parameter is a positive finite number.
    pub fn new(p: f64, q: f64, gamma: f64) -> Result<Self, ClvError> {
        for (name, value) in [("p", p), ("q", q), ("gamma", gamma)] {
            if !(value > 0.0 && value.is_finite()) {
                return Err(ClvError::InvalidParameter { name, value });
            }
        }
        Ok(Self { p, q, gamma })
    }

    fn to_array(self) -> [f64; 3] {
        [self.p, self.q, self.gamma]
    }

    fn from_array([p, q, gamma]: [f64; 3]) -> Self {
        Self { p, q, gamma }
    }

    /// Total log-likelihood of the mean repeat spend of the customers with repeat purchases;
    /// customers without any carry no information about spend and are skipped.
    pub fn log_likelihood(&self, summaries: &[RfmSummary]) -> Result<f64, ClvError> {
        validate_spenders(summaries)?;
        Ok(summaries.iter().filter(|s| s.frequency > 0.0).map(|s| self.customer_log_likelihood(s).0).sum())
    }

    /// Gradient of [`Self::log_likelihood`] with respect to (p, q, gamma), in that order.
    pub fn log_likelihood_gradient(&self, summaries: &[RfmSummary]) -> Result<[f64; 3], ClvError> {
        validate_spenders(summaries)?;
        let mut total = [0.0; 3];
        for summary in summaries.iter().filter(|s| s.frequency > 0.0) {
            let (_, gradient) = self.customer_log_likelihood(summary);
            for (sum, component) in total.iter_mut().zip(gradient) {
                *sum += component;
            }
        }
        Ok(total)
    }

    /// Log-density of the mean spend m of x purchases, whose sum is Gamma(p·x, ν):
    /// ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m + px ln x − (px+q) ln(γ + m x).
    /// This is the same function `lifetimes` maximises, so its fitted values are comparable.
    fn customer_log_likelihood(&self, summary: &RfmSummary) -> (f64, [f64; 3]) {
        self.customer_log_likelihood_given(summary, &self.frequency_terms(summary.frequency))
    }

    /// The parts of a customer's log-likelihood that depend on the frequency alone (log-gamma
    /// and digamma of p·x and p·x + q): computed once per distinct x while fitting.
    fn frequency_terms(&self, x: f64) -> SpendFrequencyTerms {
        let Self { p, q, gamma } = *self;
        let px = p * x;
        SpendFrequencyTerms {
            x,
            ln_x: x.ln(),
            constant: ln_gamma(px + q) - ln_gamma(px) - ln_gamma(q) + q * gamma.ln(),
            digamma_px_q: digamma(px + q),
            digamma_px: digamma(px),
            digamma_q: digamma(q),
        }
    }

    fn customer_log_likelihood_given(&self, summary: &RfmSummary, terms: &SpendFrequencyTerms) -> (f64, [f64; 3]) {
        let Self { p, q, gamma } = *self;
        let x = summary.frequency;
        debug_assert_eq!(x, terms.x);
        let m = summary.monetary_value;
        let px = p * x;
        let ln_m = m.ln();
        let ln_total_rate = (gamma + m * x).ln();
        let value = terms.constant + (px - 1.0) * ln_m + px * terms.ln_x - (px + q) * ln_total_rate;
        let gradient = [
            x * (terms.digamma_px_q - terms.digamma_px + ln_m + terms.ln_x - ln_total_rate),
            terms.digamma_px_q - terms.digamma_q + gamma.ln() - ln_total_rate,
            q / gamma - (px + q) / (gamma + m * x),
        ];
        (value, gradient)
    }

    /// Expected mean spend per purchase (平均購入単価) of this customer (eq. 5 of the paper):
    /// p(γ + x·m) / (p·x + q − 1), a weighted average of the population mean pγ/(q−1) and the
    /// customer's observed mean m, which gets more weight the more purchases back it up. A
    /// customer without repeat purchases gets the population mean.
    pub fn conditional_expected_average_profit(&self, summary: &RfmSummary) -> Result<f64, ClvError> {
        summary.validate(0)?;
        let Self { p, q, gamma } = *self;
        let x = summary.frequency;
        let denominator = p * x + q - 1.0;
        if denominator.is_nan() || denominator <= 0.0 {
            return Err(ClvError::UndefinedExpectedSpend { p, q, frequency: x });
        }
        let observed_total = if x > 0.0 { x * summary.monetary_value } else { 0.0 };
        Ok(p * (gamma + observed_total) / denominator)
    }
}

/// Checks the summaries the Gamma-Gamma model uses: a mean spend is needed, and it must be
/// positive because the model is a density on positive amounts.
fn validate_spenders(summaries: &[RfmSummary]) -> Result<(), ClvError> {
    for (index, summary) in summaries.iter().enumerate() {
        summary.validate(index)?;
        if summary.frequency > 0.0 && !(summary.monetary_value > 0.0 && summary.monetary_value.is_finite()) {
            return Err(ClvError::InvalidSummary {
                index,
                reason: "customers with repeat purchases need a positive finite mean spend",
            });
        }
    }
    Ok(())
}

/// See [`GammaGammaParams::frequency_terms`].
struct SpendFrequencyTerms {
    x: f64,
    ln_x: f64,
    constant: f64,
    digamma_px_q: f64,
    digamma_px: f64,
    digamma_q: f64,
}

/// Fits Gamma-Gamma by maximum likelihood on the customers with at least one repeat purchase,
/// starting from p = q = γ = 1 like `lifetimes`.
pub fn fit_gamma_gamma(summaries: &[RfmSummary], config: &FitConfig) -> Result<FitReport<GammaGammaParams>, ClvError> {
    validate_spenders(summaries)?;
    let spenders: Vec<&RfmSummary> = summaries.iter().filter(|s| s.frequency > 0.0).collect();
    if spenders.is_empty() {
        return Err(ClvError::NoCustomers);
    }
    // The likelihood depends on (x, m) only: each distinct pair is evaluated once.
    let distinct =
        super::summary::distinct_with_counts(spenders.iter().map(|s| **s), |s| [s.frequency, s.monetary_value]);
    let negative_log_likelihood = |params: &[f64; 3]| {
        let model = GammaGammaParams::from_array(*params);
        let mut value = 0.0;
        let mut gradient = [0.0; 3];
        // `distinct` is sorted by frequency first: its terms change only when x does.
        let mut terms = model.frequency_terms(distinct.first().map_or(1.0, |(s, _)| s.frequency));
        for (summary, count) in &distinct {
            if summary.frequency != terms.x {
                terms = model.frequency_terms(summary.frequency);
            }
            let (customer_value, customer_gradient) = model.customer_log_likelihood_given(summary, &terms);
            value -= count * customer_value;
            for (sum, component) in gradient.iter_mut().zip(customer_gradient) {
                *sum -= count * component;
            }
        }
        Some((value, gradient))
    };
    let start = GammaGammaParams { p: 1.0, q: 1.0, gamma: 1.0 }.to_array();
    let fit = fit_positive_parameters(negative_log_likelihood, spenders.len(), start, config)?;
    Ok(FitReport {
        params: GammaGammaParams::from_array(fit.params),
        log_likelihood: fit.log_likelihood,
        n_customers: spenders.len(),
        standard_errors: fit.standard_errors.map(GammaGammaParams::from_array),
        iterations: fit.iterations,
        converged: fit.converged,
    })
}
