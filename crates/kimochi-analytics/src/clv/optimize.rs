//! Maximum-likelihood fitting shared by the CLV models: a BFGS quasi-Newton minimiser with a
//! backtracking line search, run on log-parameters so that every parameter stays positive, and
//! standard errors from the inverse of a numerically differentiated Hessian.

use super::error::ClvError;

/// How hard the maximum-likelihood fit tries.
#[derive(Debug, Clone, PartialEq)]
pub struct FitConfig {
    /// Quasi-Newton iterations before giving up (the report then says `converged: false`).
    pub max_iterations: usize,
    /// The fit has converged when every component of the gradient of the mean negative
    /// log-likelihood per customer, taken with respect to the log-parameters, is below this.
    pub gradient_tolerance: f64,
}

impl Default for FitConfig {
    fn default() -> Self {
        Self { max_iterations: 1_000, gradient_tolerance: 1e-9 }
    }
}

/// The outcome of a maximum-likelihood fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FitReport<Params> {
    pub params: Params,
    /// Total log-likelihood over the customers at `params`.
    pub log_likelihood: f64,
    /// Customers the model was fitted on.
    pub n_customers: usize,
    /// Asymptotic standard errors of `params`, from the inverse of the observed information
    /// matrix; `None` when that matrix is not positive definite (the likelihood is flat or the
    /// optimiser stopped away from a maximum), in which case no honest error bar exists.
    pub standard_errors: Option<Params>,
    pub iterations: usize,
    /// Whether the gradient tolerance was reached; a non-converged fit is still reported so the
    /// caller can decide whether the parameters are good enough.
    pub converged: bool,
}

/// Result of [`fit_positive_parameters`] before it is dressed in the model's parameter type.
pub(crate) struct PositiveFit<const N: usize> {
    pub params: [f64; N],
    pub log_likelihood: f64,
    pub standard_errors: Option<[f64; N]>,
    pub iterations: usize,
    pub converged: bool,
}

/// Fits positive parameters by maximum likelihood.
///
/// `negative_log_likelihood` returns the total negative log-likelihood and its gradient with
/// respect to the natural parameters, or `None` where it is not finite. The optimiser works on
/// θ = ln(parameter) so that no constraint is needed, and on the mean per customer so that the
/// gradient tolerance does not depend on the number of customers.
pub(crate) fn fit_positive_parameters<const N: usize>(
    negative_log_likelihood: impl Fn(&[f64; N]) -> Option<(f64, [f64; N])>,
    n_customers: usize,
    start: [f64; N],
    config: &FitConfig,
) -> Result<PositiveFit<N>, ClvError> {
    let scale = 1.0 / n_customers.max(1) as f64;
    let objective = |theta: &[f64; N]| {
        let params = theta.map(f64::exp);
        let (value, gradient) = negative_log_likelihood(&params)?;
        let mut theta_gradient = [0.0; N];
        for i in 0..N {
            // Chain rule for p = exp(θ): ∂f/∂θ = p · ∂f/∂p.
            theta_gradient[i] = gradient[i] * params[i] * scale;
        }
        let finite = value.is_finite() && theta_gradient.iter().all(|g| g.is_finite());
        finite.then_some((value * scale, theta_gradient))
    };
    let minimum = minimize_bfgs(objective, start.map(f64::ln), config).ok_or(ClvError::NonFiniteLikelihood)?;
    let params = minimum.x.map(f64::exp);
    let standard_errors = numerical_hessian(&negative_log_likelihood, &params)
        .and_then(|hessian| invert(&hessian))
        .and_then(|covariance| {
            let mut errors = [0.0; N];
            for i in 0..N {
                if covariance[i][i].is_nan() || covariance[i][i] <= 0.0 {
                    return None;
                }
                errors[i] = covariance[i][i].sqrt();
            }
            Some(errors)
        });
    Ok(PositiveFit {
        params,
        log_likelihood: -minimum.value / scale,
        standard_errors,
        iterations: minimum.iterations,
        converged: minimum.converged,
    })
}

struct Minimum<const N: usize> {
    x: [f64; N],
    value: f64,
    iterations: usize,
    converged: bool,
}

/// Largest step, in log-parameter units, tried by one line search: a factor of e³ per
/// iteration is plenty, and a larger first trial only overflows the special functions.
const MAX_STEP: f64 = 3.0;
/// Armijo sufficient-decrease constant.
const ARMIJO: f64 = 1e-4;

/// Minimises `objective` (value and gradient, `None` where undefined) with BFGS on the inverse
/// Hessian and a backtracking line search; `None` if the objective is undefined at `start`.
fn minimize_bfgs<const N: usize>(
    objective: impl Fn(&[f64; N]) -> Option<(f64, [f64; N])>,
    start: [f64; N],
    config: &FitConfig,
) -> Option<Minimum<N>> {
    let mut x = start;
    let (mut value, mut gradient) = objective(&x)?;
    let mut inverse_hessian = identity::<N>();
    let mut first_update = true;
    let mut iterations = 0;
    while iterations < config.max_iterations {
        if max_abs(&gradient) < config.gradient_tolerance {
            return Some(Minimum { x, value, iterations, converged: true });
        }
        iterations += 1;
        let mut direction = mat_vec(&inverse_hessian, &gradient).map(|v| -v);
        let mut slope = dot(&gradient, &direction);
        if slope.is_nan() || slope >= 0.0 {
            // The approximation lost positive definiteness: restart from steepest descent.
            inverse_hessian = identity::<N>();
            first_update = true;
            direction = gradient.map(|g| -g);
            slope = dot(&gradient, &direction);
        }
        let mut step = (MAX_STEP / max_abs(&direction)).min(1.0);
        let accepted = loop {
            let candidate = add_scaled(&x, step, &direction);
            if let Some((candidate_value, candidate_gradient)) = objective(&candidate)
                && (candidate_value <= value + ARMIJO * step * slope
                    || flat_but_better(value, candidate_value, &gradient, &candidate_gradient))
            {
                break Some((candidate, candidate_value, candidate_gradient));
            }
            step *= 0.5;
            if step < 1e-20 {
                break None;
            }
        };
        let Some((next_x, next_value, next_gradient)) = accepted else {
            // No decrease is possible along the search direction: we are at the optimum up to
            // rounding, or the problem is badly conditioned; the gradient tells which.
            let converged = max_abs(&gradient) < config.gradient_tolerance;
            return Some(Minimum { x, value, iterations, converged });
        };
        let s: [f64; N] = std::array::from_fn(|i| next_x[i] - x[i]);
        let y: [f64; N] = std::array::from_fn(|i| next_gradient[i] - gradient[i]);
        let curvature = dot(&s, &y);
        if curvature > 1e-12 * dot(&s, &s).sqrt() * dot(&y, &y).sqrt() {
            if first_update {
                // Nocedal & Wright (6.20): scale the initial guess to the observed curvature so
                // the first quasi-Newton step has a sensible length.
                let factor = curvature / dot(&y, &y);
                inverse_hessian = identity::<N>().map(|row| row.map(|v| v * factor));
                first_update = false;
            }
            inverse_hessian = bfgs_update(&inverse_hessian, &s, &y, curvature);
        }
        x = next_x;
        value = next_value;
        gradient = next_gradient;
    }
    let converged = max_abs(&gradient) < config.gradient_tolerance;
    Some(Minimum { x, value, iterations, converged })
}

/// Relative rounding noise of a log-likelihood summed over thousands of customers.
const VALUE_NOISE: f64 = 1e-12;

/// Near the optimum the objective changes by less than its rounding noise, so the Armijo test
/// cannot tell a good step from a bad one although the analytic gradient is still far more
/// precise. There a step is accepted when the value has not grown beyond the noise and the
/// gradient has shrunk: the "approximate Wolfe" idea of Hager & Zhang (2005). Without it the
/// fit stalls with a gradient near √ε instead of reaching the tolerance.
fn flat_but_better<const N: usize>(
    value: f64,
    candidate_value: f64,
    gradient: &[f64; N],
    candidate_gradient: &[f64; N],
) -> bool {
    candidate_value <= value + VALUE_NOISE * value.abs() && max_abs(candidate_gradient) < max_abs(gradient)
}

/// H⁺ = (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ with ρ = 1 / (yᵀ s).
fn bfgs_update<const N: usize>(h: &[[f64; N]; N], s: &[f64; N], y: &[f64; N], curvature: f64) -> [[f64; N]; N] {
    let rho = 1.0 / curvature;
    let hy = mat_vec(h, y);
    let yhy = dot(y, &hy);
    std::array::from_fn(|i| {
        std::array::from_fn(|j| h[i][j] - rho * (hy[i] * s[j] + s[i] * hy[j]) + (rho * rho * yhy + rho) * s[i] * s[j])
    })
}

/// Hessian of the negative log-likelihood in the natural parameters by central differences of
/// its analytic gradient, symmetrised. At the optimum it is the observed information matrix.
fn numerical_hessian<const N: usize>(
    negative_log_likelihood: &impl Fn(&[f64; N]) -> Option<(f64, [f64; N])>,
    params: &[f64; N],
) -> Option<[[f64; N]; N]> {
    let mut hessian = [[0.0; N]; N];
    for j in 0..N {
        // A relative step near the cube root of machine epsilon balances truncation and
        // rounding error for a central difference.
        let step = 1e-5 * params[j];
        let mut forward = *params;
        forward[j] += step;
        let mut backward = *params;
        backward[j] -= step;
        let (_, gradient_forward) = negative_log_likelihood(&forward)?;
        let (_, gradient_backward) = negative_log_likelihood(&backward)?;
        for i in 0..N {
            hessian[i][j] = (gradient_forward[i] - gradient_backward[i]) / (2.0 * step);
        }
    }
    Some(std::array::from_fn(|i| std::array::from_fn(|j| 0.5 * (hessian[i][j] + hessian[j][i]))))
}

/// Inverse by Gauss-Jordan elimination with partial pivoting; `None` if singular.
fn invert<const N: usize>(matrix: &[[f64; N]; N]) -> Option<[[f64; N]; N]> {
    let mut left = *matrix;
    let mut right = identity::<N>();
    for column in 0..N {
        let pivot_row = (column..N).max_by(|&a, &b| left[a][column].abs().total_cmp(&left[b][column].abs()))?;
        let pivot = left[pivot_row][column];
        if !pivot.is_finite() || pivot.abs() <= 1e-300 {
            return None;
        }
        left.swap(column, pivot_row);
        right.swap(column, pivot_row);
        for k in 0..N {
            left[column][k] /= pivot;
            right[column][k] /= pivot;
        }
        for row in 0..N {
            if row != column {
                let factor = left[row][column];
                for k in 0..N {
                    left[row][k] -= factor * left[column][k];
                    right[row][k] -= factor * right[column][k];
                }
            }
        }
    }
    Some(right)
}

fn identity<const N: usize>() -> [[f64; N]; N] {
    std::array::from_fn(|i| std::array::from_fn(|j| if i == j { 1.0 } else { 0.0 }))
}

fn mat_vec<const N: usize>(matrix: &[[f64; N]; N], vector: &[f64; N]) -> [f64; N] {
    std::array::from_fn(|i| dot(&matrix[i], vector))
}

fn dot<const N: usize>(left: &[f64; N], right: &[f64; N]) -> f64 {
    left.iter().zip(right).map(|(l, r)| l * r).sum()
}

fn add_scaled<const N: usize>(x: &[f64; N], step: f64, direction: &[f64; N]) -> [f64; N] {
    std::array::from_fn(|i| x[i] + step * direction[i])
}

fn max_abs<const N: usize>(vector: &[f64; N]) -> f64 {
    vector.iter().fold(0.0, |max, v| max.max(v.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bfgs_finds_the_minimum_of_the_rosenbrock_function() {
        let rosenbrock = |x: &[f64; 2]| {
            let value = (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
            let gradient = [-2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] * x[0]), 200.0 * (x[1] - x[0] * x[0])];
            Some((value, gradient))
        };
        let minimum = minimize_bfgs(rosenbrock, [-1.2, 1.0], &FitConfig::default());
        let Some(minimum) = minimum else { panic!("objective is defined at the start") };
        assert!(minimum.converged);
        assert!((minimum.x[0] - 1.0).abs() < 1e-6 && (minimum.x[1] - 1.0).abs() < 1e-6, "{:?}", minimum.x);
    }

    #[test]
    fn invert_recovers_the_identity() {
        let matrix = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]];
        let Some(inverse) = invert(&matrix) else { panic!("matrix is invertible") };
        for (i, row) in matrix.iter().enumerate() {
            for j in 0..3 {
                let product: f64 = row.iter().zip(&inverse).map(|(m, inverse_row)| m * inverse_row[j]).sum();
                assert!((product - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        assert!(invert(&[[1.0, 2.0], [2.0, 4.0]]).is_none());
    }
}
