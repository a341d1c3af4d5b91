//! The BG/NBD model of Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way":
//! while alive, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each
//! purchase they drop out (離反) with probability p ~ Beta(a, b).

use super::error::ClvError;
use super::optimize::{FitConfig, FitReport, fit_positive_parameters};
use super::special::{digamma, ln_gamma};
use super::summary::RfmSummary;

/// BG/NBD parameters: purchase rate shape `r` and scale `alpha` (in weeks), dropout shape `a`
/// and `b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbdParams {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

impl BgNbdParams {
    /// Checks that every parameter is a positive finite number.
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self, ClvError> {
        for (name, value) in [("r", r), ("alpha", alpha), ("a", a), ("b", b)] {
            if !(value > 0.0 && value.is_finite()) {
                return Err(ClvError::InvalidParameter { name, value });
            }
        }
        Ok(Self { r, alpha, a, b })
    }

    fn to_array(self) -> [f64; 4] {
        [self.r, self.alpha, self.a, self.b]
    }

    fn from_array([r, alpha, a, b]: [f64; 4]) -> Self {
        Self { r, alpha, a, b }
    }

    /// Total log-likelihood of the summaries (eq. 6 of the paper).
    pub fn log_likelihood(&self, summaries: &[RfmSummary]) -> Result<f64, ClvError> {
        validate_all(summaries)?;
        Ok(summaries.iter().map(|summary| self.customer_log_likelihood(summary).0).sum())
    }

    /// Gradient of [`Self::log_likelihood`] with respect to (r, alpha, a, b), in that order.
    pub fn log_likelihood_gradient(&self, summaries: &[RfmSummary]) -> Result<[f64; 4], ClvError> {
        validate_all(summaries)?;
        let mut total = [0.0; 4];
        for summary in summaries {
            let (_, gradient) = self.customer_log_likelihood(summary);
            for (sum, component) in total.iter_mut().zip(gradient) {
                *sum += component;
            }
        }
        Ok(total)
    }

    /// Log-likelihood of one customer and its gradient.
    ///
    /// The paper writes the likelihood as A₁·A₂·(A₃ + δ(x>0)·A₄); it is evaluated here with
    /// log-gamma functions and a log-sum-exp, because the product form overflows for frequent
    /// buyers (the "#NUM! error" of Fader & Hardie's spreadsheet note).
    fn customer_log_likelihood(&self, summary: &RfmSummary) -> (f64, [f64; 4]) {
        self.customer_log_likelihood_given(summary, &self.frequency_terms(summary.frequency))
    }

    /// The parts of a customer's log-likelihood (A₁ + A₂ and their gradients) that depend on the
    /// frequency alone: computed once per distinct x while fitting, they save eight log-gamma
    /// and digamma evaluations per customer.
    fn frequency_terms(&self, x: f64) -> FrequencyTerms {
        let Self { r, alpha, a, b } = *self;
        let ln_a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let ln_a2 = ln_gamma(a + b) + ln_gamma(b + x) - ln_gamma(b) - ln_gamma(a + b + x);
        let gradient = [
            digamma(r + x) - digamma(r) + alpha.ln(),
            r / alpha,
            digamma(a + b) - digamma(a + b + x),
            digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x),
        ];
        FrequencyTerms { x, ln_a1_a2: ln_a1 + ln_a2, gradient, ln_b_x_1: (b + x - 1.0).ln() }
    }

    fn customer_log_likelihood_given(&self, summary: &RfmSummary, terms: &FrequencyTerms) -> (f64, [f64; 4]) {
        let Self { r, alpha, a, b } = *self;
        let RfmSummary { frequency: x, recency: t_x, t, .. } = *summary;
        debug_assert_eq!(x, terms.x);
        let ln_alpha_t = (alpha + t).ln();
        let ln_a3 = -(r + x) * ln_alpha_t;
        let gradient_a3 = [-ln_alpha_t, -(r + x) / (alpha + t), 0.0, 0.0];
        let (ln_mixture, gradient_mixture) = if x > 0.0 {
            // A₄: the customer dropped out right after the last purchase and bought nothing since.
            let ln_alpha_t_x = (alpha + t_x).ln();
            let ln_a4 = a.ln() - terms.ln_b_x_1 - (r + x) * ln_alpha_t_x;
            let gradient_a4 = [-ln_alpha_t_x, -(r + x) / (alpha + t_x), 1.0 / a, -1.0 / (b + x - 1.0)];
            // ln(e^A₃ + e^A₄) with one exp: the weights are 1/(1+e^d) and e^d/(1+e^d).
            let (largest, difference) = if ln_a3 >= ln_a4 { (ln_a3, ln_a4 - ln_a3) } else { (ln_a4, ln_a3 - ln_a4) };
            let ratio = difference.exp();
            let ln_sum = largest + ratio.ln_1p();
            let (weight_large, weight_small) = (1.0 / (1.0 + ratio), ratio / (1.0 + ratio));
            let (weight_a3, weight_a4) =
                if ln_a3 >= ln_a4 { (weight_large, weight_small) } else { (weight_small, weight_large) };
            (ln_sum, std::array::from_fn(|i| weight_a3 * gradient_a3[i] + weight_a4 * gradient_a4[i]))
        } else {
            (ln_a3, gradient_a3)
        };
        let gradient = std::array::from_fn(|i| terms.gradient[i] + gradient_mixture[i]);
        (terms.ln_a1_a2 + ln_mixture, gradient)
    }

    /// Probability that the customer is still alive (生存確率) at the calibration end (eq. 11).
    /// A customer without repeat purchases cannot have dropped out yet in this model, because
    /// dropout only happens right after a purchase, so their probability is 1.
    pub fn probability_alive(&self, summary: &RfmSummary) -> f64 {
        let Self { r, alpha, a, b } = *self;
        let RfmSummary { frequency: x, recency: t_x, t, .. } = *summary;
        if x == 0.0 {
            return 1.0;
        }
        let ln_odds_dead = a.ln() - (b + x - 1.0).ln() + (r + x) * ((alpha + t).ln() - (alpha + t_x).ln());
        1.0 / (1.0 + ln_odds_dead.exp())
    }

    /// Expected number of repeat purchases in the first `horizon` weeks of a new customer
    /// (eq. 9): (a+b−1)/(a−1) · [1 − (α/(α+t))^r · 2F1(r, b; a+b−1; t/(α+t))].
    pub fn expected_purchases(&self, horizon: f64) -> Result<f64, ClvError> {
        let new_customer = RfmSummary { frequency: 0.0, recency: 0.0, t: 0.0, monetary_value: 0.0 };
        self.conditional_expected_purchases(&new_customer, horizon)
    }

    /// Expected number of purchases in the next `horizon` weeks after the calibration end, given
    /// the customer's history (eq. 10):
    ///
    /// E[Y(t) | x, tₓ, T] = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ·
    /// 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))] / [1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+tₓ))^(r+x)].
    ///
    /// The formula divides by a − 1 and is ill-conditioned for `a` very close to 1.
    pub fn conditional_expected_purchases(&self, summary: &RfmSummary, horizon: f64) -> Result<f64, ClvError> {
        if !(horizon >= 0.0 && horizon.is_finite()) {
            return Err(ClvError::InvalidHorizon(horizon));
        }
        let mut expected = [0.0];
        self.conditional_expected_purchases_curve(summary, &[horizon], &mut expected)?;
        Ok(expected[0])
    }

    /// [`Self::conditional_expected_purchases`] at several horizons at once, into `out`: the
    /// probability of being alive and the hypergeometric series' coefficients are computed once
    /// (a CLV needs twelve monthly horizons for every customer).
    pub fn conditional_expected_purchases_curve(
        &self,
        summary: &RfmSummary,
        horizons: &[f64],
        out: &mut [f64],
    ) -> Result<(), ClvError> {
        assert_eq!(horizons.len(), out.len(), "one output per horizon");
        if let Some(&horizon) = horizons.iter().find(|h| !(**h >= 0.0 && h.is_finite())) {
            return Err(ClvError::InvalidHorizon(horizon));
        }
        summary.validate(0)?;
        let Self { r, alpha, a, b } = *self;
        let RfmSummary { frequency: x, t, .. } = *summary;
        let mut zs = [0.0_f64; 16];
        let zs =
            if horizons.len() <= zs.len() { &mut zs[..horizons.len()] } else { &mut vec![0.0; horizons.len()][..] };
        for (z, horizon) in zs.iter_mut().zip(horizons) {
            *z = horizon / (alpha + t + horizon);
        }
        super::special::hypergeometric_2f1_many(r + x, b + x, a + b + x - 1.0, zs, out)?;
        let p_alive = self.probability_alive(summary);
        for (value, horizon) in out.iter_mut().zip(horizons) {
            let ln_survival_ratio = (r + x) * ((alpha + t).ln() - (alpha + t + horizon).ln());
            let alive_expectation = (a + b + x - 1.0) / (a - 1.0) * (1.0 - ln_survival_ratio.exp() * *value);
            // The denominator of eq. 10 is 1 / P(alive).
            *value = alive_expectation * p_alive;
        }
        Ok(())
    }
}

/// See [`BgNbdParams::frequency_terms`].
struct FrequencyTerms {
    x: f64,
    ln_a1_a2: f64,
    gradient: [f64; 4],
    ln_b_x_1: f64,
}

fn validate_all(summaries: &[RfmSummary]) -> Result<(), ClvError> {
    summaries.iter().enumerate().try_for_each(|(index, summary)| summary.validate(index))
}

/// Fits BG/NBD by maximum likelihood, starting from r = α = a = b = 1 like `lifetimes`.
pub fn fit_bg_nbd(summaries: &[RfmSummary], config: &FitConfig) -> Result<FitReport<BgNbdParams>, ClvError> {
    if summaries.is_empty() {
        return Err(ClvError::NoCustomers);
    }
    validate_all(summaries)?;
    // The likelihood depends on (x, tₓ, T) only: each distinct triple is evaluated once.
    let distinct = super::summary::distinct_with_counts(summaries.iter().copied(), |s| [s.frequency, s.recency, s.t]);
    let negative_log_likelihood = |params: &[f64; 4]| {
        let model = BgNbdParams::from_array(*params);
        let mut value = 0.0;
        let mut gradient = [0.0; 4];
        // `distinct` is sorted by frequency first: its terms change only when x does.
        let mut terms = model.frequency_terms(distinct.first().map_or(0.0, |(s, _)| s.frequency));
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
    let start = BgNbdParams { r: 1.0, alpha: 1.0, a: 1.0, b: 1.0 }.to_array();
    let fit = fit_positive_parameters(negative_log_likelihood, summaries.len(), start, config)?;
    Ok(FitReport {
        params: BgNbdParams::from_array(fit.params),
        log_likelihood: fit.log_likelihood,
        n_customers: summaries.len(),
        standard_errors: fit.standard_errors.map(BgNbdParams::from_array),
        iterations: fit.iterations,
        converged: fit.converged,
    })
}
