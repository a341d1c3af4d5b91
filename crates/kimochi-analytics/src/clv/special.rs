//! Special functions the likelihoods need and `libm` lacks: digamma and the Gaussian
//! hypergeometric function 2F1 on the part of its domain the BG/NBD model uses.

use super::error::ClvError;

/// ln Γ(x), from `libm`, named for readability in the likelihood formulas.
pub(crate) fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// Digamma ψ(x) = d ln Γ(x) / dx for x > 0 (NaN otherwise).
///
/// The recurrence ψ(x) = ψ(x + 1) − 1/x moves the argument above 10, where the asymptotic
/// series truncated after the x⁻¹⁰ term is accurate to about 1e-14.
pub(crate) fn digamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 || x.is_infinite() {
        return f64::NAN;
    }
    let mut shifted = x;
    let mut result = 0.0;
    while shifted < 10.0 {
        result -= 1.0 / shifted;
        shifted += 1.0;
    }
    let inverse_square = 1.0 / (shifted * shifted);
    let series = inverse_square
        * (1.0 / 12.0
            - inverse_square
                * (1.0 / 120.0
                    - inverse_square * (1.0 / 252.0 - inverse_square * (1.0 / 240.0 - inverse_square / 132.0))));
    result + shifted.ln() - 0.5 / shifted - series
}

/// Largest number of series terms before giving up: enough for z up to about 0.9997.
const HYPERGEOMETRIC_MAX_TERMS: usize = 100_000;

/// Gaussian hypergeometric function 2F1(a, b; c; z) for 0 ≤ z < 1, summed as its power series.
///
/// The BG/NBD expectations only need z = t / (α + T + t), which lies in [0, 1), where the series
/// converges. The ratio of consecutive terms tends to z, so once it is below one the remaining
/// tail is bounded by a geometric series with ratio max(current ratio, z); summation stops when
/// that bound is below machine precision relative to the sum. The series converges slowly as z
/// approaches 1 (horizons much longer than the customer's age), and an error is returned rather
/// than a silently truncated value if it has not converged in `HYPERGEOMETRIC_MAX_TERMS` terms.
pub(crate) fn hypergeometric_2f1(a: f64, b: f64, c: f64, z: f64) -> Result<f64, ClvError> {
    let not_converged = |terms| ClvError::HypergeometricNotConverged { a, b, c, z, terms };
    let arguments_finite = a.is_finite() && b.is_finite() && c.is_finite();
    if !(0.0..1.0).contains(&z) || !arguments_finite {
        return Err(not_converged(0));
    }
    let mut sum = 1.0;
    let mut term = 1.0;
    for n in 0..HYPERGEOMETRIC_MAX_TERMS {
        let n = n as f64;
        let denominator = (c + n) * (n + 1.0);
        if denominator == 0.0 {
            // c is a non-positive integer: the function has a pole there.
            return Err(not_converged(n as usize));
        }
        let ratio = (a + n) * (b + n) / denominator * z;
        term *= ratio;
        sum += term;
        if !sum.is_finite() {
            return Err(not_converged(n as usize));
        }
        let tail_ratio = ratio.abs().max(z);
        if tail_ratio < 1.0 && term.abs() * tail_ratio / (1.0 - tail_ratio) <= f64::EPSILON * sum.abs() {
            return Ok(sum);
        }
    }
    Err(not_converged(HYPERGEOMETRIC_MAX_TERMS))
}

/// 2F1(a, b; c; zᵢ) for several zᵢ at once, written into `out`: the coefficients
/// (a)ₙ(b)ₙ/((c)ₙ n!) are shared, so each further z costs a multiply-add per term instead of a
/// whole series. Same convergence rule and errors as [`hypergeometric_2f1`], applied to each z.
pub(crate) fn hypergeometric_2f1_many(a: f64, b: f64, c: f64, zs: &[f64], out: &mut [f64]) -> Result<(), ClvError> {
    debug_assert_eq!(zs.len(), out.len());
    let arguments_finite = a.is_finite() && b.is_finite() && c.is_finite();
    if let Some(&z) = zs.iter().find(|z| !(0.0..1.0).contains(*z)).or(if arguments_finite { None } else { zs.first() })
    {
        return Err(ClvError::HypergeometricNotConverged { a, b, c, z, terms: 0 });
    }
    // Up to 16 horizons on the stack: each z's power and whether its sum has converged.
    const MAX: usize = 16;
    if zs.len() > MAX {
        for (z, out) in zs.iter().zip(out.iter_mut()) {
            *out = hypergeometric_2f1(a, b, c, *z)?;
        }
        return Ok(());
    }
    let mut power = [1.0_f64; MAX];
    let mut done = [false; MAX];
    let mut left = zs.len();
    out.iter_mut().for_each(|sum| *sum = 1.0);
    let mut coefficient = 1.0_f64;
    for n in 0..HYPERGEOMETRIC_MAX_TERMS {
        let n = n as f64;
        let denominator = (c + n) * (n + 1.0);
        if denominator == 0.0 {
            return Err(ClvError::HypergeometricNotConverged { a, b, c, z: zs[0], terms: n as usize });
        }
        let step = (a + n) * (b + n) / denominator;
        coefficient *= step;
        for (i, &z) in zs.iter().enumerate() {
            if done[i] {
                continue;
            }
            power[i] *= z;
            let term = coefficient * power[i];
            out[i] += term;
            if !out[i].is_finite() {
                return Err(ClvError::HypergeometricNotConverged { a, b, c, z, terms: n as usize });
            }
            let tail_ratio = (step * z).abs().max(z);
            if tail_ratio < 1.0 && term.abs() * tail_ratio / (1.0 - tail_ratio) <= f64::EPSILON * out[i].abs() {
                done[i] = true;
                left -= 1;
            }
        }
        if left == 0 {
            return Ok(());
        }
    }
    let z = zs.iter().zip(&done).find(|(_, done)| !**done).map_or(zs[0], |(z, _)| *z);
    Err(ClvError::HypergeometricNotConverged { a, b, c, z, terms: HYPERGEOMETRIC_MAX_TERMS })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digamma_matches_known_values() {
        let euler_mascheroni = 0.577_215_664_901_532_9;
        assert!((digamma(1.0) + euler_mascheroni).abs() < 1e-13);
        assert!((digamma(0.5) + euler_mascheroni + 2.0 * std::f64::consts::LN_2).abs() < 1e-13);
        // ψ(n) = H(n−1) − γ for whole n.
        let harmonic_4 = 1.0 + 0.5 + 1.0 / 3.0 + 0.25;
        assert!((digamma(5.0) - (harmonic_4 - euler_mascheroni)).abs() < 1e-13);
    }

    #[test]
    fn hypergeometric_matches_closed_forms() -> Result<(), ClvError> {
        // 2F1(1, 1; 2; z) = −ln(1 − z) / z.
        for z in [0.1_f64, 0.5, 0.9, 0.99] {
            let expected = -(1.0 - z).ln() / z;
            assert!((hypergeometric_2f1(1.0, 1.0, 2.0, z)? - expected).abs() < 1e-12 * expected);
        }
        // 2F1(a, b; b; z) = (1 − z)^(−a).
        let expected = 0.3_f64.powf(-0.7);
        assert!((hypergeometric_2f1(0.7, 2.5, 2.5, 0.7)? - expected).abs() < 1e-12 * expected);
        assert_eq!(hypergeometric_2f1(0.7, 2.5, 2.5, 0.0)?, 1.0);
        Ok(())
    }

    #[test]
    fn hypergeometric_many_agrees_with_one_at_a_time() -> Result<(), ClvError> {
        for (a, b, c) in [(1.0, 1.0, 2.0), (2.3, 4.1, 6.2), (0.24, 2.4, 2.2), (12.5, 9.0, 20.0)] {
            let zs = [0.0, 0.05, 0.3, 0.5, 0.7, 0.9, 0.99];
            let mut many = [0.0; 7];
            hypergeometric_2f1_many(a, b, c, &zs, &mut many)?;
            for (z, value) in zs.iter().zip(many) {
                let one = hypergeometric_2f1(a, b, c, *z)?;
                assert!((value - one).abs() <= 1e-13 * one.abs(), "2F1({a}, {b}; {c}; {z}): {value} vs {one}");
            }
        }
        let mut out = [0.0; 2];
        assert!(hypergeometric_2f1_many(1.0, 1.0, 2.0, &[0.5, 1.0], &mut out).is_err());
        assert!(hypergeometric_2f1_many(f64::NAN, 1.0, 2.0, &[0.5], &mut out[..1]).is_err());
        Ok(())
    }

    #[test]
    fn hypergeometric_refuses_z_outside_the_unit_interval() {
        assert!(hypergeometric_2f1(1.0, 1.0, 2.0, 1.0).is_err());
        assert!(hypergeometric_2f1(1.0, 1.0, 2.0, -0.5).is_err());
    }
}
