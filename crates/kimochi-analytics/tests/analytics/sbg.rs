//! The shifted-beta-geometric retention model against the published fits of Fader & Hardie (2007),
//! plus internal consistency checks: probabilities that add up, the analytic gradient against
//! finite differences, and the closed-form DERL against a brute-force discounted sum.

use kimochi_analytics::clv::{ClvError, FitConfig, SbgParams, fit_sbg};

/// Survivors of 1,000 customers acquired in year 0, years 0–7, from Fader & Hardie (2007).
const HIGH_END: [u64; 8] = [1000, 869, 743, 653, 593, 551, 517, 491];
const REGULAR: [u64; 8] = [1000, 631, 468, 382, 326, 289, 262, 241];

fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    assert!((actual - expected).abs() <= tolerance, "{what}: got {actual}, expected {expected} ± {tolerance}");
}

fn params(gamma: f64, delta: f64) -> SbgParams {
    SbgParams::new(gamma, delta).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn fit_reproduces_fader_hardie_2007() -> Result<(), ClvError> {
    for (name, survivors, gamma, delta) in [("high end", HIGH_END, 0.668, 3.806), ("regular", REGULAR, 0.704, 1.182)] {
        let report = fit_sbg(&survivors, &FitConfig::default())?;
        eprintln!("sBG fit, {name}: {report:?}");
        assert!(report.converged, "{name}");
        assert_eq!(report.n_customers, 1000);
        // The paper prints three decimals.
        assert_close(report.params.gamma, gamma, 0.0005, &format!("{name} gamma"));
        assert_close(report.params.delta, delta, 0.0005, &format!("{name} delta"));
        assert_close(report.params.log_likelihood(&survivors)?, report.log_likelihood, 1e-9, "reported likelihood");
        let Some(errors) = report.standard_errors else { panic!("{name}: the optimum is a proper maximum") };
        assert!(errors.gamma > 0.0 && errors.gamma < report.params.gamma, "{name}: {errors:?}");
        assert!(errors.delta > 0.0 && errors.delta < report.params.delta, "{name}: {errors:?}");
    }
    Ok(())
}

#[test]
fn survival_curve_starts_at_one_and_matches_the_closed_forms() {
    let model = params(0.704, 1.182);
    let curve = model.survival_curve(12);
    assert_eq!(curve.len(), 13);
    assert_eq!(curve[0], 1.0);
    assert_eq!(model.survival(0), 1.0);
    assert_eq!(model.churn_probability(0), 0.0);
    assert_eq!(model.retention_rate(0), 1.0);
    // P(T = 1) = γ / (γ + δ) and r_t = (δ + t − 1) / (γ + δ + t − 1).
    assert_close(model.churn_probability(1), 0.704 / 1.886, 1e-15, "P(T = 1)");
    assert_close(model.retention_rate(3), 3.182 / 3.886, 1e-15, "r_3");
    let rates = model.retention_rates(12);
    assert_eq!(rates.len(), 12);
    for (t, rate) in rates.iter().enumerate() {
        let period = t as u32 + 1;
        assert_close(curve[t + 1] / curve[t], *rate, 1e-14, &format!("S({period}) / S({}) = r", period - 1));
        assert_close(model.survival(period), curve[t + 1], 1e-15, &format!("S({period})"));
    }
    // Heterogeneity makes the cohort's retention rate rise as the churn-prone leave first.
    assert!(rates.windows(2).all(|pair| pair[1] > pair[0]), "{rates:?}");
}

#[test]
fn churn_probabilities_and_survival_add_up_to_one() {
    for model in [params(0.668, 3.806), params(0.704, 1.182), params(5.0, 0.3), params(0.05, 20.0)] {
        let probabilities = model.churn_probabilities(60);
        for n in [1_u32, 2, 7, 60] {
            let churned: f64 = probabilities[..n as usize].iter().sum();
            assert_close(churned + model.survival(n), 1.0, 1e-13, &format!("{model:?} through period {n}"));
        }
        for (t, probability) in probabilities.iter().enumerate() {
            let period = t as u32 + 1;
            assert_close(model.churn_probability(period), *probability, 1e-15 + 1e-13 * probability, "recursions");
        }
    }
}

#[test]
fn gradient_matches_finite_differences() -> Result<(), ClvError> {
    let points = [[0.668, 3.806], [0.704, 1.182], [1.0, 1.0], [7.5, 0.2], [0.03, 40.0]];
    for survivors in [&HIGH_END[..], &REGULAR[..], &[50, 50, 10, 10, 0][..], &[20, 20][..]] {
        for [gamma, delta] in points {
            let analytic = params(gamma, delta).log_likelihood_gradient(survivors)?;
            let values = [gamma, delta];
            for i in 0..2 {
                let step = 1e-6 * values[i];
                let shifted = |sign: f64| -> Result<f64, ClvError> {
                    let mut moved = values;
                    moved[i] += sign * step;
                    SbgParams::new(moved[0], moved[1])?.log_likelihood(survivors)
                };
                let numeric = (shifted(1.0)? - shifted(-1.0)?) / (2.0 * step);
                let tolerance = 1e-5 * analytic[i].abs().max(1.0);
                assert_close(analytic[i], numeric, tolerance, &format!("component {i} at {values:?} on {survivors:?}"));
            }
        }
    }
    Ok(())
}

#[test]
fn projected_survival_beyond_the_calibration_years_keeps_decreasing() -> Result<(), ClvError> {
    for survivors in [HIGH_END, REGULAR] {
        let model = fit_sbg(&survivors, &FitConfig::default())?.params;
        let curve = model.survival_curve(12);
        // Years 8–12 are projections: each below the year before, and still above zero.
        for year in 8..=12 {
            assert!(curve[year] < curve[year - 1], "year {year}: {curve:?}");
            assert!(curve[year] > 0.0, "year {year}: {curve:?}");
        }
        // Inside the calibration years the fitted curve follows the data closely.
        for (year, count) in survivors.iter().enumerate() {
            let observed = *count as f64 / 1000.0;
            assert_close(curve[year], observed, 0.02, &format!("year {year} of {survivors:?}"));
        }
    }
    Ok(())
}

/// Σ_{t > n} S(t) / S(n) · (1 + d)^−(t − n − 1), summed until the terms are negligible.
fn brute_force_residual_lifetime(model: &SbgParams, renewals: u32, discount_rate: f64) -> f64 {
    let mut total = 0.0;
    let mut conditional_survival = 1.0;
    let mut discount = 1.0;
    for period in renewals + 1..renewals + 20_000 {
        conditional_survival *= model.retention_rate(period);
        total += conditional_survival * discount;
        discount /= 1.0 + discount_rate;
    }
    total
}

#[test]
fn discounted_expected_residual_lifetime_matches_a_brute_force_sum() -> Result<(), ClvError> {
    for model in [params(0.668, 3.806), params(0.704, 1.182), params(3.0, 0.5), params(0.2, 12.0)] {
        for renewals in [0_u32, 1, 4, 30] {
            for discount_rate in [0.01, 0.1, 0.5] {
                let closed_form = model.discounted_expected_residual_lifetime(renewals, discount_rate)?;
                let expected = brute_force_residual_lifetime(&model, renewals, discount_rate);
                assert_close(
                    closed_form,
                    expected,
                    1e-10 * expected,
                    &format!("{model:?}, {renewals}, {discount_rate}"),
                );
            }
        }
    }
    // Customers who have renewed more often are the more loyal ones, so they are worth more.
    let model = params(0.704, 1.182);
    let by_renewals: Vec<f64> =
        (0..6).map(|renewals| model.discounted_expected_residual_lifetime(renewals, 0.1)).collect::<Result<_, _>>()?;
    assert!(by_renewals.windows(2).all(|pair| pair[1] > pair[0]), "{by_renewals:?}");
    Ok(())
}

#[test]
fn refuses_impossible_input() {
    let config = FitConfig::default();
    assert!(matches!(fit_sbg(&[], &config), Err(ClvError::NoCustomers)));
    assert!(matches!(fit_sbg(&[0, 0], &config), Err(ClvError::NoCustomers)));
    assert!(matches!(fit_sbg(&[100], &config), Err(ClvError::InvalidCohort { period: 1, .. })));
    assert!(matches!(fit_sbg(&[100, 80, 81], &config), Err(ClvError::InvalidCohort { period: 2, .. })));
    assert!(matches!(SbgParams::new(0.0, 1.0), Err(ClvError::InvalidParameter { name: "gamma", .. })));
    assert!(matches!(SbgParams::new(1.0, f64::NAN), Err(ClvError::InvalidParameter { name: "delta", .. })));
    let model = params(0.704, 1.182);
    for discount_rate in [0.0, -0.1, f64::INFINITY, f64::NAN] {
        assert!(matches!(
            model.discounted_expected_residual_lifetime(2, discount_rate),
            Err(ClvError::InvalidDiscountRate(_))
        ));
    }
}

#[test]
fn cohorts_without_a_finite_optimum_fit_to_the_obvious_extreme() -> Result<(), ClvError> {
    // Nobody left: the mean churn probability goes to 0; everybody left at once: it goes to 1.
    for (survivors, mean_churn) in [(&[20_u64, 20, 20][..], 0.0), (&[20, 0, 0][..], 1.0)] {
        let report = fit_sbg(survivors, &FitConfig::default())?;
        let SbgParams { gamma, delta } = report.params;
        assert_close(gamma / (gamma + delta), mean_churn, 1e-3, &format!("{survivors:?}: {report:?}"));
        assert!(report.standard_errors.is_none(), "{survivors:?}: {report:?}");
    }
    Ok(())
}
