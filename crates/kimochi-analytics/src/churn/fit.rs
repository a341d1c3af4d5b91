//! Fitting the churn driver model: subscribers aggregated into (driver pattern, exposure) cells,
//! a ridge-penalised Poisson regression by Newton–Raphson for a given baseline curve, and the
//! profile-likelihood search over the sBG concentration when the curve is fitted too.

use std::collections::HashMap;
use std::sync::Arc;

use super::drivers::{KimochiDriver, medium_code, medium_label};
use super::linalg::{cholesky, cholesky_solve, inverse_diagonal};
use super::{
    ChurnBaseline, ChurnConfig, ChurnDriver, ChurnDriverKind, ChurnDriverModel, ChurnError, ChurnModel, DropReason,
    DroppedDriver, SubscriptionHistory,
};
use crate::clv::SbgParams;
use crate::features::CustomerFeatures;

/// z of a two-sided 95% interval.
const Z_95: f64 = 1.959_963_984_540_054;

/// The range of ln κ searched when the sBG curve is fitted: κ from 0.01 (a hazard that falls
/// steeply with tenure) to 100,000 (practically constant over any real subscription).
const LN_CONCENTRATION_RANGE: (f64, f64) = (-4.605_170_185_988_091, 11.512_925_464_970_229);
const GRID_STEP: f64 = 0.5;
const GOLDEN_ITERATIONS: usize = 30;

/// The subscription history of each customer who ever subscribed, read from the features alone:
/// `subscription_orders` deliveries, cancelled when `lapsed_subscriber` and not active again.
/// `None` for customers who never received a subscription delivery.
pub fn subscription_histories(features: &[CustomerFeatures]) -> Vec<Option<SubscriptionHistory>> {
    features
        .iter()
        .map(|customer| {
            let subscribed = customer.active_subscriber || customer.lapsed_subscriber;
            (subscribed && customer.subscription_orders > 0).then_some(SubscriptionHistory {
                deliveries: customer.subscription_orders,
                churned: customer.lapsed_subscriber && !customer.active_subscriber,
            })
        })
        .collect()
}

/// Fits the churn drivers and wraps them for scoring; see [`fit_churn_driver_model`].
pub fn fit_churn_model(
    features: &[CustomerFeatures],
    histories: &[Option<SubscriptionHistory>],
    config: &ChurnConfig,
) -> Result<ChurnModel, ChurnError> {
    Ok(ChurnModel::new(fit_churn_driver_model(features, histories, config)?))
}

/// Fits the churn drivers (B2) on the subscribers: `histories[i]` is the subscription of the
/// customer `features[i]` (`None` for non-subscribers, who are ignored). See the module
/// documentation for the model.
pub fn fit_churn_driver_model(
    features: &[CustomerFeatures],
    histories: &[Option<SubscriptionHistory>],
    config: &ChurnConfig,
) -> Result<ChurnDriverModel, ChurnError> {
    config.validate()?;
    if features.len() != histories.len() {
        return Err(ChurnError::LengthMismatch { features: features.len(), histories: histories.len() });
    }
    let (subscribers, media_names) = collect_subscribers(features, histories)?;
    let fit_config = &config.fit;
    let n = subscribers.len() as u64;
    if n == 0 {
        return Err(ChurnError::NoSubscribers);
    }
    // Subscribers and cancellations per kimochi driver and per medium, in one pass.
    let mut kimochi_counts = [(0_u64, 0_u64); KimochiDriver::COUNT];
    let mut medium_counts = vec![(0_u64, 0_u64); media_names.len()];
    for subscriber in &subscribers {
        let churned = u64::from(subscriber.churned);
        for driver in KimochiDriver::ALL {
            if subscriber.mask & (1 << driver.index()) != 0 {
                kimochi_counts[driver.index()].0 += 1;
                kimochi_counts[driver.index()].1 += churned;
            }
        }
        medium_counts[subscriber.medium as usize].0 += 1;
        medium_counts[subscriber.medium as usize].1 += churned;
    }
    let churned = subscribers.iter().filter(|subscriber| subscriber.churned).count() as u64;
    if churned == 0 {
        return Err(ChurnError::NoChurn);
    }
    let excluded = |code: &str| fit_config.excluded_drivers.iter().any(|excluded| excluded == code);
    let keep = |code: &str, with: u64| {
        if excluded(code) {
            Some(DropReason::Excluded)
        } else if with == 0 || with == n {
            Some(DropReason::NoVariation)
        } else if with < fit_config.min_customers_with || n - with < fit_config.min_customers_with {
            Some(DropReason::TooFew)
        } else {
            None
        }
    };

    // Columns: 0 is the intercept, then the kept kimochi drivers, then the kept media.
    let mut columns: Vec<(ChurnDriverKind, Arc<str>, Arc<str>)> = Vec::new();
    // (customers with, churned with) per column.
    let mut column_counts: Vec<(u64, u64)> = Vec::new();
    let mut dropped = Vec::new();
    let mut kept_mask = 0_u8;
    for driver in KimochiDriver::ALL {
        let bit = 1 << driver.index();
        let with = kimochi_counts[driver.index()].0;
        let (code, label): (Arc<str>, Arc<str>) = (driver.code().into(), driver.label_ja().into());
        match keep(driver.code(), with) {
            Some(reason) => dropped.push(DroppedDriver { code, label_ja: label, customers_with: with, reason }),
            None => {
                kept_mask |= bit;
                columns.push((ChurnDriverKind::Kimochi(driver), code, label));
                column_counts.push(kimochi_counts[driver.index()]);
            }
        }
    }

    let mut media: Vec<(usize, Option<&str>, u64)> =
        media_names.iter().enumerate().map(|(level, &name)| (level, name, medium_counts[level].0)).collect();
    // The most common medium is the reference; ties go to the first by name, so the result
    // does not depend on input order.
    media.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)));
    let reference_medium = media.first().map(|(_, medium, _)| medium.map(Arc::<str>::from));
    // Medium slot per medium: 0 for the reference (and dropped media), else 1 + column offset.
    let mut medium_slots = vec![0_u32; media_names.len()];
    let first_medium_column = columns.len();
    for &(level, medium, with) in media.iter().skip(1) {
        let code = medium_code(medium);
        let label: Arc<str> = medium_label(medium).into();
        match keep(&code, with) {
            Some(reason) => {
                dropped.push(DroppedDriver { code: code.into(), label_ja: label, customers_with: with, reason })
            }
            None => {
                medium_slots[level] = (columns.len() - first_medium_column + 1) as u32;
                columns.push((ChurnDriverKind::Medium(medium.map(Arc::from)), code.into(), label));
                column_counts.push(medium_counts[level]);
            }
        }
    }
    let k = columns.len() + 1;

    let cells = Cells::build(&subscribers, kept_mask, &medium_slots, first_medium_column)?;
    let ridge = fit_config.ridge;
    let max_iterations = fit_config.max_iterations;
    let (baseline, fit, constant) = match fit_config.baseline {
        ChurnBaseline::Exposure => {
            let (fit, constant) = cells.fit(|_| 1.0, k, ridge, max_iterations, None)?;
            (None, fit, constant)
        }
        ChurnBaseline::Given(params) => {
            let (fit, constant) = cells.fit(|t| 1.0 - params.retention_rate(t), k, ridge, max_iterations, None)?;
            (Some(params), fit, constant)
        }
        ChurnBaseline::FitSbg => {
            let concentration = cells.best_concentration(k, ridge, max_iterations)?;
            let (fit, constant) =
                cells.fit(|t| concentration / (concentration + f64::from(t) - 1.0), k, ridge, max_iterations, None)?;
            // h(t) = m κ / (κ + t − 1) is the sBG conditional churn probability with γ = m κ
            // and δ = (1 − m) κ, which needs a first-period hazard m below 1.
            let first_period_hazard = fit.beta[0].exp();
            if first_period_hazard.is_nan() || first_period_hazard >= 1.0 {
                return Err(ChurnError::DegenerateBaseline);
            }
            let params =
                SbgParams::new(first_period_hazard * concentration, (1.0 - first_period_hazard) * concentration)
                    .map_err(|_| ChurnError::FitFailed("the fitted sBG parameters are not positive"))?;
            (Some(params), fit, constant)
        }
    };
    let baseline_multiplier = match fit_config.baseline {
        ChurnBaseline::FitSbg => 1.0,
        ChurnBaseline::Given(_) | ChurnBaseline::Exposure => fit.beta[0].exp(),
    };

    let variances = inverse_diagonal(&fit.information_factor, k);
    let mut drivers: Vec<ChurnDriver> = columns
        .into_iter()
        .zip(column_counts)
        .enumerate()
        .map(|(offset, ((kind, code, label_ja), (customers_with, churned_with)))| {
            let column = offset + 1;
            let coefficient = fit.beta[column];
            let standard_error = variances[column].max(0.0).sqrt();
            let z = if standard_error > 0.0 { coefficient / standard_error } else { 0.0 };
            ChurnDriver {
                kind,
                code,
                label_ja,
                coefficient,
                standard_error,
                relative_risk: coefficient.exp(),
                ci_low: (coefficient - Z_95 * standard_error).exp(),
                ci_high: (coefficient + Z_95 * standard_error).exp(),
                p_value: libm::erfc(z.abs() / std::f64::consts::SQRT_2),
                customers_with,
                churned_with,
            }
        })
        .collect();
    drivers.sort_by(|a, b| b.relative_risk.total_cmp(&a.relative_risk).then_with(|| a.code.cmp(&b.code)));

    Ok(ChurnDriverModel {
        drivers,
        dropped,
        reference_medium,
        baseline_kind: fit_config.baseline,
        baseline,
        baseline_multiplier,
        subscribers: n,
        churned,
        decisions: subscribers.iter().map(|subscriber| u64::from(subscriber.decisions)).sum(),
        log_likelihood: constant + fit.log_likelihood,
        iterations: fit.iterations,
        converged: fit.converged,
    })
}

/// A subscriber as the fit sees them.
struct Subscriber {
    mask: u8,
    /// Index of the medium in the list of media met.
    medium: u32,
    decisions: u32,
    churned: bool,
}

/// The subscribers with at least one decision, and the media they came from (`None`: no
/// medium). Each medium is hashed once per subscriber here and handled by index afterwards.
fn collect_subscribers<'a>(
    features: &'a [CustomerFeatures],
    histories: &[Option<SubscriptionHistory>],
) -> Result<(Vec<Subscriber>, Vec<Option<&'a str>>), ChurnError> {
    let mut subscribers = Vec::new();
    let mut media: Vec<Option<&str>> = Vec::new();
    let mut medium_index: HashMap<Option<&str>, u32> = HashMap::new();
    for (customer, history) in features.iter().zip(histories) {
        let Some(history) = history else { continue };
        if history.deliveries == 0 {
            return Err(ChurnError::InvalidHistory {
                customer: customer.customer,
                reason: "has no delivery, so no renewal decision can be counted",
            });
        }
        if history.deliveries > SubscriptionHistory::MAX_DELIVERIES {
            return Err(ChurnError::InvalidHistory {
                customer: customer.customer,
                reason: "has more deliveries than SubscriptionHistory::MAX_DELIVERIES",
            });
        }
        let decisions = history.decisions();
        if decisions == 0 {
            // Active after the first delivery: no decision faced yet, nothing to learn from.
            continue;
        }
        let medium = customer.ad_medium.as_deref();
        let medium = *medium_index.entry(medium).or_insert_with(|| {
            media.push(medium);
            (media.len() - 1) as u32
        });
        subscribers.push(Subscriber {
            mask: KimochiDriver::mask(customer),
            medium,
            decisions,
            churned: history.churned,
        });
    }
    Ok((subscribers, media))
}

/// Subscribers with the same driver pattern: their columns and their cancellations.
struct Pattern {
    /// Driver columns set (column 0, the intercept, is implied).
    columns: Vec<usize>,
    events: f64,
}

/// Subscribers with the same pattern, exposure and outcome.
struct Cell {
    pattern: usize,
    decisions: u32,
    count: f64,
    churned: bool,
}

struct Cells {
    patterns: Vec<Pattern>,
    cells: Vec<Cell>,
    max_decisions: u32,
}

/// The result of one penalised Poisson fit.
struct PoissonFit {
    beta: Vec<f64>,
    /// Σ_p (D_p η_p − μ_p) − penalty, without the Σ d ln h term.
    log_likelihood: f64,
    /// Cholesky factor of the penalised information at `beta`.
    information_factor: Vec<f64>,
    iterations: usize,
    converged: bool,
}

impl Cells {
    /// Aggregates subscribers by sorting one packed key per subscriber: pattern, decisions,
    /// outcome. Sorting is cheaper than hashing half a million keys and gives a fixed order.
    fn build(
        subscribers: &[Subscriber],
        kept_mask: u8,
        medium_slots: &[u32],
        first_medium_column: usize,
    ) -> Result<Self, ChurnError> {
        let mut keys: Vec<u64> = subscribers
            .iter()
            .map(|subscriber| {
                let slot = medium_slots[subscriber.medium as usize];
                let pattern = u64::from(subscriber.mask & kept_mask) | (u64::from(slot) << 8);
                (pattern << 33) | (u64::from(subscriber.decisions) << 1) | u64::from(subscriber.churned)
            })
            .collect();
        keys.sort_unstable();
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut cells: Vec<Cell> = Vec::new();
        let mut previous_pattern = None;
        let mut max_decisions = 0;
        for key in keys {
            let pattern_key = key >> 33;
            let decisions = ((key >> 1) & 0xFFFF_FFFF) as u32;
            let churned = key & 1 == 1;
            max_decisions = max_decisions.max(decisions);
            if previous_pattern != Some(pattern_key) {
                previous_pattern = Some(pattern_key);
                let mask = (pattern_key & 0xFF) as u8;
                let slot = (pattern_key >> 8) as usize;
                // Kept kimochi drivers take columns 1.. in the order of `KimochiDriver::ALL`.
                let mut columns = Vec::new();
                let mut column = 1;
                for driver in KimochiDriver::ALL {
                    let bit = 1 << driver.index();
                    if kept_mask & bit != 0 {
                        if mask & bit != 0 {
                            columns.push(column);
                        }
                        column += 1;
                    }
                }
                if slot > 0 {
                    columns.push(first_medium_column + slot);
                }
                patterns.push(Pattern { columns, events: 0.0 });
            }
            let pattern = patterns.len() - 1;
            match cells.last_mut() {
                Some(cell) if cell.pattern == pattern && cell.decisions == decisions && cell.churned == churned => {
                    cell.count += 1.0;
                }
                _ => cells.push(Cell { pattern, decisions, count: 1.0, churned }),
            }
            if churned {
                patterns[pattern].events += 1.0;
            }
        }
        if cells.is_empty() {
            return Err(ChurnError::NoSubscribers);
        }
        Ok(Self { patterns, cells, max_decisions })
    }

    /// Fits the Poisson regression with per-decision baseline `hazard(t)` (t = 1, 2, …).
    /// Returns the fit and the constant Σ d_i ln h(decisions_i) of the piecewise Poisson
    /// likelihood, which does not depend on β but does on the baseline curve.
    fn fit(
        &self,
        hazard: impl Fn(u32) -> f64,
        k: usize,
        ridge: f64,
        max_iterations: usize,
        start: Option<&[f64]>,
    ) -> Result<(PoissonFit, f64), ChurnError> {
        // Cumulative baseline hazard H(e) = Σ_{t ≤ e} h(t), and ln h(e) for the event term.
        let mut cumulative = Vec::with_capacity(self.max_decisions as usize + 1);
        let mut log_hazard = Vec::with_capacity(self.max_decisions as usize + 1);
        cumulative.push(0.0);
        log_hazard.push(0.0);
        let mut sum = 0.0;
        for t in 1..=self.max_decisions {
            let h = hazard(t);
            if !(h > 0.0 && h.is_finite()) {
                return Err(ChurnError::FitFailed("the baseline hazard is not a positive number"));
            }
            sum += h;
            cumulative.push(sum);
            log_hazard.push(h.ln());
        }
        let mut exposure = vec![0.0; self.patterns.len()];
        let mut constant = 0.0;
        for cell in &self.cells {
            exposure[cell.pattern] += cell.count * cumulative[cell.decisions as usize];
            if cell.churned {
                constant += cell.count * log_hazard[cell.decisions as usize];
            }
        }
        let fit = self.newton(&exposure, k, ridge, max_iterations, start)?;
        Ok((fit, constant))
    }

    /// Penalised log-likelihood, gradient and information at `beta`.
    fn evaluate(
        &self,
        exposure: &[f64],
        beta: &[f64],
        ridge: f64,
        with_derivatives: bool,
    ) -> (f64, Vec<f64>, Vec<f64>) {
        let k = beta.len();
        let mut value = 0.0;
        let mut gradient = vec![0.0; if with_derivatives { k } else { 0 }];
        let mut information = vec![0.0; if with_derivatives { k * k } else { 0 }];
        for (pattern, &e) in self.patterns.iter().zip(exposure) {
            if e == 0.0 {
                continue;
            }
            let eta = beta[0] + pattern.columns.iter().map(|&column| beta[column]).sum::<f64>();
            let mu = e * eta.exp();
            value += pattern.events * eta - mu;
            if with_derivatives {
                let residual = pattern.events - mu;
                // x is 0/1 with the intercept always set, so x xᵀ touches only set columns.
                gradient[0] += residual;
                information[0] += mu;
                for (position, &i) in pattern.columns.iter().enumerate() {
                    gradient[i] += residual;
                    information[i * k] += mu;
                    information[i] += mu;
                    for &j in &pattern.columns[..=position] {
                        information[i * k + j] += mu;
                        if i != j {
                            information[j * k + i] += mu;
                        }
                    }
                }
            }
        }
        for j in 1..k {
            value -= 0.5 * ridge * beta[j] * beta[j];
            if with_derivatives {
                gradient[j] -= ridge * beta[j];
                information[j * k + j] += ridge;
            }
        }
        (value, gradient, information)
    }

    /// Newton–Raphson with step halving; the penalised likelihood is concave, so the full
    /// step is almost always taken and halving only guards the first steps from far away.
    fn newton(
        &self,
        exposure: &[f64],
        k: usize,
        ridge: f64,
        max_iterations: usize,
        start: Option<&[f64]>,
    ) -> Result<PoissonFit, ChurnError> {
        let total_events: f64 = self.patterns.iter().map(|pattern| pattern.events).sum();
        let total_exposure: f64 = exposure.iter().sum();
        if !(total_exposure > 0.0 && total_events > 0.0) {
            return Err(ChurnError::NoChurn);
        }
        let mut beta = match start {
            Some(start) => start.to_vec(),
            None => {
                let mut beta = vec![0.0; k];
                beta[0] = (total_events / total_exposure).ln();
                beta
            }
        };
        let (mut value, mut gradient, mut information) = self.evaluate(exposure, &beta, ridge, true);
        let mut iterations = 0;
        let mut converged = false;
        while iterations < max_iterations {
            iterations += 1;
            let lower = cholesky(&information, k)
                .ok_or(ChurnError::FitFailed("the information matrix is not positive definite"))?;
            let step = cholesky_solve(&lower, k, &gradient);
            let mut scale = 1.0;
            let mut accepted = None;
            for _ in 0..40 {
                let candidate: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + scale * s).collect();
                let (candidate_value, _, _) = self.evaluate(exposure, &candidate, ridge, false);
                if candidate_value.is_finite() && candidate_value >= value - 1e-12 * value.abs() {
                    accepted = Some((candidate, candidate_value));
                    break;
                }
                scale *= 0.5;
            }
            let Some((candidate, _)) = accepted else { break };
            let largest_step = step.iter().fold(0.0_f64, |largest, s| largest.max((scale * s).abs()));
            beta = candidate;
            (value, gradient, information) = self.evaluate(exposure, &beta, ridge, true);
            if largest_step < 1e-10 {
                converged = true;
                break;
            }
        }
        if !(value.is_finite() && beta.iter().all(|b| b.is_finite())) {
            return Err(ChurnError::FitFailed("the estimates are not finite"));
        }
        let information_factor = cholesky(&information, k)
            .ok_or(ChurnError::FitFailed("the information matrix is not positive definite"))?;
        Ok(PoissonFit { beta, log_likelihood: value, information_factor, iterations, converged })
    }

    /// The sBG concentration κ = γ + δ that maximises the profile likelihood: a grid over ln κ,
    /// then golden-section search between the neighbours of the best grid point.
    fn best_concentration(&self, k: usize, ridge: f64, max_iterations: usize) -> Result<f64, ChurnError> {
        let mut warm: Option<Vec<f64>> = None;
        let mut profile = |ln_concentration: f64| -> Result<f64, ChurnError> {
            let concentration = ln_concentration.exp();
            let (fit, constant) = self.fit(
                |t| concentration / (concentration + f64::from(t) - 1.0),
                k,
                ridge,
                max_iterations,
                warm.as_deref(),
            )?;
            let value = constant + fit.log_likelihood;
            warm = Some(fit.beta);
            Ok(value)
        };
        let (low, high) = LN_CONCENTRATION_RANGE;
        let steps = ((high - low) / GRID_STEP).ceil() as usize;
        let grid: Vec<f64> = (0..=steps).map(|i| (low + i as f64 * GRID_STEP).min(high)).collect();
        let mut best = (0, f64::NEG_INFINITY);
        for (index, &u) in grid.iter().enumerate() {
            let value = profile(u)?;
            if value > best.1 {
                best = (index, value);
            }
        }
        let mut a = grid[best.0.saturating_sub(1)];
        let mut b = grid[(best.0 + 1).min(grid.len() - 1)];
        let ratio = (5.0_f64.sqrt() - 1.0) / 2.0;
        let mut c = b - ratio * (b - a);
        let mut d = a + ratio * (b - a);
        let mut value_c = profile(c)?;
        let mut value_d = profile(d)?;
        for _ in 0..GOLDEN_ITERATIONS {
            if value_c >= value_d {
                b = d;
                d = c;
                value_d = value_c;
                c = b - ratio * (b - a);
                value_c = profile(c)?;
            } else {
                a = c;
                c = d;
                value_c = value_d;
                d = a + ratio * (b - a);
                value_d = profile(d)?;
            }
        }
        let (u, value) = if value_c >= value_d { (c, value_c) } else { (d, value_d) };
        // The grid point itself may beat the refined one when the profile is flat or at the edge.
        Ok(if value >= best.1 { u.exp() } else { grid[best.0].exp() })
    }
}
