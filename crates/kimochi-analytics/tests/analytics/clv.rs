//! CLV models against the published CDNOW results of Fader, Hardie & Lee (2005) and of the
//! `lifetimes` package, plus internal consistency checks (analytic gradients against finite
//! differences, closed forms against numerical integration).

use kimochi_analytics::clv::{
    BgNbdParams, ClvError, DiscountedValueConfig, FitConfig, GammaGammaParams, ParetoNbdParams, RfmSummary,
    Transaction, customer_lifetime_value, fit_bg_nbd, fit_gamma_gamma, fit_pareto_nbd, summarize_transactions,
};
use time::{Date, Month};

const SUMMARY_CSV: &str = include_str!("../fixtures/cdnow_customers_summary.csv");
const CDNOW_SAMPLE: &str = include_str!("../fixtures/CDNOW_sample.txt");

/// The FHL summary: (customer id in the master file, summary without monetary value).
fn published_summaries() -> Vec<(u32, RfmSummary)> {
    SUMMARY_CSV
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 4, "line {line:?}");
            let number = |i: usize| fields[i].parse::<f64>().unwrap_or_else(|e| panic!("{line:?}: {e}"));
            let id = fields[0].parse::<u32>().unwrap_or_else(|e| panic!("{line:?}: {e}"));
            (id, RfmSummary { frequency: number(1), recency: number(2), t: number(3), monetary_value: 0.0 })
        })
        .collect()
}

fn cdnow_transactions() -> Vec<Transaction<u32>> {
    CDNOW_SAMPLE
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields.len(), 5, "line {line:?}");
            let customer = fields[1].parse::<u32>().unwrap_or_else(|e| panic!("{line:?}: {e}"));
            let date_number = fields[2].parse::<u32>().unwrap_or_else(|e| panic!("{line:?}: {e}"));
            let month = Month::try_from((date_number / 100 % 100) as u8).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            let date = Date::from_calendar_date((date_number / 10_000) as i32, month, (date_number % 100) as u8)
                .unwrap_or_else(|e| panic!("{line:?}: {e}"));
            let amount = fields[4].parse::<f64>().unwrap_or_else(|e| panic!("{line:?}: {e}"));
            Transaction { customer, date, amount }
        })
        .collect()
}

fn calibration_end() -> Date {
    Date::from_calendar_date(1997, Month::September, 30).unwrap_or_else(|e| panic!("{e}"))
}

fn cdnow_built_summaries() -> Vec<(u32, RfmSummary)> {
    summarize_transactions(&cdnow_transactions(), calibration_end())
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .collect()
}

fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    assert!((actual - expected).abs() <= tolerance, "{what}: got {actual}, expected {expected} ± {tolerance}");
}

/// Parameters near the CDNOW optimum, for tests that need a fitted-looking model without fitting.
fn cdnow_bg_nbd() -> BgNbdParams {
    BgNbdParams::new(0.242593, 4.413532, 0.792886, 2.425752).unwrap_or_else(|e| panic!("{e}"))
}

fn summary(frequency: f64, recency: f64, t: f64, monetary_value: f64) -> RfmSummary {
    RfmSummary { frequency, recency, t, monetary_value }
}

#[test]
fn summary_built_from_cdnow_transactions_matches_the_published_summary() {
    let built = cdnow_built_summaries();
    let published = published_summaries();
    assert_eq!(built.len(), 2357);
    assert_eq!(published.len(), 2357);
    for ((built_id, built), (published_id, published)) in built.iter().zip(&published) {
        assert_eq!(built_id, published_id);
        assert_eq!(built.frequency, published.frequency, "customer {built_id}");
        // The published file rounds weeks to two decimals.
        assert_close(built.recency, published.recency, 0.005 + 1e-9, &format!("recency of {built_id}"));
        assert_close(built.t, published.t, 0.005 + 1e-9, &format!("T of {built_id}"));
    }
}

#[test]
fn summary_merges_same_day_purchases_and_ignores_the_holdout_period() -> Result<(), ClvError> {
    let day = |d: u8| Date::from_calendar_date(2024, Month::January, d).unwrap_or_else(|e| panic!("{e}"));
    let transactions = vec![
        Transaction { customer: "a", date: day(1), amount: 10.0 },
        Transaction { customer: "a", date: day(15), amount: 5.0 },
        Transaction { customer: "a", date: day(15), amount: 7.0 },
        Transaction { customer: "a", date: day(22), amount: 30.0 },
        Transaction { customer: "a", date: day(30), amount: 99.0 },
        Transaction { customer: "b", date: day(8), amount: 3.0 },
        Transaction { customer: "c", date: day(29), amount: 3.0 },
    ];
    let summaries = summarize_transactions(&transactions, day(29))?;
    assert_eq!(summaries.len(), 3);
    assert_eq!(summaries["a"], summary(2.0, 3.0, 4.0, 21.0));
    assert_eq!(summaries["b"], summary(0.0, 0.0, 3.0, 0.0));
    assert_eq!(summaries["c"], summary(0.0, 0.0, 0.0, 0.0));

    let bad = vec![Transaction { customer: "a", date: day(1), amount: f64::NAN }];
    assert!(matches!(summarize_transactions(&bad, day(29)), Err(ClvError::NonFiniteAmount { index: 0, .. })));
    Ok(())
}

#[test]
fn bg_nbd_fit_reproduces_fader_hardie_lee_2005() -> Result<(), ClvError> {
    let summaries: Vec<RfmSummary> = published_summaries().into_iter().map(|(_, s)| s).collect();
    let report = fit_bg_nbd(&summaries, &FitConfig::default())?;
    eprintln!("BG/NBD fit: {report:?}");
    assert!(report.converged);
    assert_eq!(report.n_customers, 2357);
    let params = report.params;
    assert_close(params.r, 0.243, 0.0005, "r");
    assert_close(params.alpha, 4.414, 0.0005, "alpha");
    assert_close(params.a, 0.793, 0.0005, "a");
    assert_close(params.b, 2.426, 0.0005, "b");
    assert_close(report.log_likelihood, -9582.4, 0.1, "log-likelihood");
    assert_close(params.log_likelihood(&summaries)?, report.log_likelihood, 1e-9, "reported log-likelihood");

    // The standard errors `lifetimes` prints in its README for this fit.
    let Some(errors) = report.standard_errors else { panic!("the CDNOW optimum is a proper maximum") };
    assert_close(errors.r, 0.012557, 1e-5, "standard error of r");
    assert_close(errors.alpha, 0.378221, 1e-4, "standard error of alpha");
    assert_close(errors.a, 0.185719, 1e-4, "standard error of a");
    assert_close(errors.b, 0.705345, 1e-4, "standard error of b");
    Ok(())
}

#[test]
fn bg_nbd_gradient_matches_finite_differences() -> Result<(), ClvError> {
    let summaries: Vec<RfmSummary> = published_summaries().into_iter().map(|(_, s)| s).take(300).collect();
    let points = [[0.243, 4.414, 0.793, 2.426], [1.0, 1.0, 1.0, 1.0], [2.7, 0.3, 5.1, 0.4], [0.05, 17.0, 0.2, 9.0]];
    for [r, alpha, a, b] in points {
        let params = BgNbdParams::new(r, alpha, a, b)?;
        let analytic = params.log_likelihood_gradient(&summaries)?;
        let values = [r, alpha, a, b];
        for i in 0..4 {
            let step = 1e-6 * values[i];
            let shifted = |sign: f64| -> Result<f64, ClvError> {
                let mut moved = values;
                moved[i] += sign * step;
                BgNbdParams::new(moved[0], moved[1], moved[2], moved[3])?.log_likelihood(&summaries)
            };
            let numeric = (shifted(1.0)? - shifted(-1.0)?) / (2.0 * step);
            let tolerance = 1e-5 * analytic[i].abs().max(1.0);
            assert_close(analytic[i], numeric, tolerance, &format!("component {i} at {values:?}"));
        }
    }
    Ok(())
}

#[test]
fn bg_nbd_probability_alive() {
    let params = cdnow_bg_nbd();
    for t in [0.0, 1.0, 38.86] {
        assert_eq!(params.probability_alive(&summary(0.0, 0.0, t, 0.0)), 1.0);
    }
    // Hand-evaluated eq. 11 for the first CDNOW customer: 1 / (1 + a/(b+x−1) ((α+T)/(α+tₓ))^(r+x)).
    let (r, alpha, a, b) = (0.242593_f64, 4.413532_f64, 0.792886_f64, 2.425752_f64);
    let expected = 1.0 / (1.0 + a / (b + 1.0) * ((alpha + 38.86) / (alpha + 30.43)).powf(r + 2.0));
    assert_close(params.probability_alive(&summary(2.0, 30.43, 38.86, 0.0)), expected, 1e-14, "P(alive)");
    // A recent purchase keeps the customer alive; a long silence makes death likely.
    let recent = params.probability_alive(&summary(5.0, 38.0, 38.86, 0.0));
    let silent = params.probability_alive(&summary(5.0, 2.0, 38.86, 0.0));
    assert!(recent > 0.8 && silent < 0.01 && silent > 0.0, "recent {recent}, silent {silent}");
}

/// E[Y(t) | x, tₓ, T] by numerical integration instead of eq. 10: given alive, λ ~ Gamma(r+x,
/// α+T) and p ~ Beta(a, b+x) a posteriori, and a customer with (λ, p) makes (1 − e^(−λpt))/p
/// purchases on average in t weeks. Integrating out λ in closed form leaves a one-dimensional
/// integral over p.
fn expected_purchases_by_integration(params: &BgNbdParams, customer: &RfmSummary, horizon: f64) -> f64 {
    let BgNbdParams { r, alpha, a, b } = *params;
    let RfmSummary { frequency: x, t, .. } = *customer;
    let shape = r + x;
    let per_dropout = |p: f64| {
        if p == 0.0 {
            shape * horizon / (alpha + t)
        } else {
            -(-shape * (p * horizon / (alpha + t)).ln_1p()).exp_m1() / p
        }
    };
    params.probability_alive(customer) * beta_expectation(per_dropout, a, b + x)
}

/// E[f(p)] for p ~ Beta(a, b), by Simpson's rule on [0, ½] and [½, 1]. Where an exponent is
/// below one the density is singular at that end, and the substitution u = p^a (or (1−p)^b)
/// turns the singular weight into a constant one.
fn beta_expectation(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    let left_power = a.min(1.0);
    let right_power = b.min(1.0);
    let left = |u: f64| {
        let p = u.powf(1.0 / left_power);
        f(p) * p.powf(a - left_power) * (1.0 - p).powf(b - 1.0) / left_power
    };
    let right = |v: f64| {
        let q = v.powf(1.0 / right_power);
        f(1.0 - q) * (1.0 - q).powf(a - 1.0) * q.powf(b - right_power) / right_power
    };
    let ln_beta = libm::lgamma(a) + libm::lgamma(b) - libm::lgamma(a + b);
    (simpson(left, 0.5_f64.powf(left_power)) + simpson(right, 0.5_f64.powf(right_power))) / ln_beta.exp()
}

fn simpson(f: impl Fn(f64) -> f64, upper: f64) -> f64 {
    let intervals = 20_000;
    let width = upper / intervals as f64;
    let mut sum = f(0.0) + f(upper);
    for k in 1..intervals {
        sum += f(k as f64 * width) * if k % 2 == 1 { 4.0 } else { 2.0 };
    }
    sum * width / 3.0
}

#[test]
fn bg_nbd_conditional_expectation_matches_numerical_integration() -> Result<(), ClvError> {
    let fitted = cdnow_bg_nbd();
    let other = BgNbdParams::new(1.7, 2.5, 3.2, 0.6)?;
    let customers = [
        summary(0.0, 0.0, 38.86, 0.0),
        summary(2.0, 30.43, 38.86, 0.0),
        summary(7.0, 35.0, 38.0, 0.0),
        summary(1.0, 1.71, 38.86, 0.0),
    ];
    for params in [fitted, other] {
        for customer in &customers {
            for horizon in [1.0, 10.0, 39.0, 150.0] {
                let closed_form = params.conditional_expected_purchases(customer, horizon)?;
                let integrated = expected_purchases_by_integration(&params, customer, horizon);
                assert_close(
                    closed_form,
                    integrated,
                    1e-6 * integrated.max(1.0),
                    &format!("{params:?}, {customer:?}, t = {horizon}"),
                );
            }
        }
        let newcomer = summary(0.0, 0.0, 0.0, 0.0);
        let unconditional = params.expected_purchases(52.0)?;
        assert_close(unconditional, expected_purchases_by_integration(&params, &newcomer, 52.0), 1e-6, "eq. 9");
    }
    Ok(())
}

#[test]
fn bg_nbd_conditional_expectation_starts_at_the_alive_purchase_rate() -> Result<(), ClvError> {
    // For a short horizon h, E[Y(h)] ≈ P(alive) · E[λ | data] · h = P(alive) · (r+x)/(α+T) · h.
    let params = cdnow_bg_nbd();
    let customer = summary(2.0, 30.43, 38.86, 0.0);
    let horizon = 1e-4;
    let rate = params.probability_alive(&customer) * (params.r + 2.0) / (params.alpha + 38.86);
    let expected = params.conditional_expected_purchases(&customer, horizon)?;
    assert_close(expected / horizon, rate, 1e-4 * rate, "initial purchase rate");
    assert_eq!(params.conditional_expected_purchases(&customer, 0.0)?, 0.0);
    assert!(matches!(params.conditional_expected_purchases(&customer, -1.0), Err(ClvError::InvalidHorizon(_))));
    Ok(())
}

#[test]
fn bg_nbd_refuses_impossible_input() {
    assert!(matches!(fit_bg_nbd(&[], &FitConfig::default()), Err(ClvError::NoCustomers)));
    let recency_after_age = [summary(1.0, 0.0, 5.0, 0.0), summary(1.0, 6.0, 5.0, 0.0)];
    assert!(matches!(
        fit_bg_nbd(&recency_after_age, &FitConfig::default()),
        Err(ClvError::InvalidSummary { index: 1, .. })
    ));
    assert!(matches!(BgNbdParams::new(0.0, 1.0, 1.0, 1.0), Err(ClvError::InvalidParameter { name: "r", .. })));
}

fn cdnow_spenders() -> Vec<RfmSummary> {
    cdnow_built_summaries().into_iter().map(|(_, s)| s).collect()
}

#[test]
fn gamma_gamma_fit_reproduces_lifetimes_on_cdnow() -> Result<(), ClvError> {
    let summaries = cdnow_spenders();
    let report = fit_gamma_gamma(&summaries, &FitConfig::default())?;
    eprintln!("Gamma-Gamma fit: {report:?}");
    assert!(report.converged);
    assert_eq!(report.n_customers, 946);
    assert_close(report.params.p, 6.25, 0.005, "p");
    assert_close(report.params.q, 3.74, 0.005, "q");
    assert_close(report.params.gamma, 15.44, 0.01, "gamma");
    assert!(report.standard_errors.is_some());
    Ok(())
}

#[test]
fn gamma_gamma_gradient_matches_finite_differences() -> Result<(), ClvError> {
    let summaries = cdnow_spenders();
    for [p, q, gamma] in [[6.25, 3.74, 15.44], [1.0, 1.0, 1.0], [0.4, 12.0, 80.0]] {
        let params = GammaGammaParams::new(p, q, gamma)?;
        let analytic = params.log_likelihood_gradient(&summaries)?;
        let values = [p, q, gamma];
        for i in 0..3 {
            let step = 1e-6 * values[i];
            let shifted = |sign: f64| -> Result<f64, ClvError> {
                let mut moved = values;
                moved[i] += sign * step;
                GammaGammaParams::new(moved[0], moved[1], moved[2])?.log_likelihood(&summaries)
            };
            let numeric = (shifted(1.0)? - shifted(-1.0)?) / (2.0 * step);
            let tolerance = 1e-5 * analytic[i].abs().max(1.0);
            assert_close(analytic[i], numeric, tolerance, &format!("component {i} at {values:?}"));
        }
    }
    Ok(())
}

#[test]
fn gamma_gamma_expected_spend_shrinks_towards_the_population_mean() -> Result<(), ClvError> {
    let params = GammaGammaParams::new(6.25, 3.74, 15.44)?;
    let population_mean = 6.25 * 15.44 / (3.74 - 1.0);
    let newcomer = params.conditional_expected_average_profit(&summary(0.0, 0.0, 10.0, 0.0))?;
    assert_close(newcomer, population_mean, 1e-12, "population mean");
    // Eq. 5 as a weighted average: weight p·x / (p·x + q − 1) on the observed mean.
    for (frequency, observed) in [(1.0, 10.0), (5.0, 10.0), (5.0, 200.0)] {
        let weight = 6.25 * frequency / (6.25 * frequency + 3.74 - 1.0);
        let expected = (1.0 - weight) * population_mean + weight * observed;
        let actual = params.conditional_expected_average_profit(&summary(frequency, 1.0, 10.0, observed))?;
        assert_close(actual, expected, 1e-9, "expected average profit");
    }
    let heavy_tailed = GammaGammaParams::new(6.25, 0.5, 15.44)?;
    assert!(matches!(
        heavy_tailed.conditional_expected_average_profit(&summary(0.0, 0.0, 10.0, 0.0)),
        Err(ClvError::UndefinedExpectedSpend { .. })
    ));
    Ok(())
}

#[test]
fn discounted_value_sums_discounted_monthly_purchases() -> Result<(), ClvError> {
    let purchases = cdnow_bg_nbd();
    let spend = GammaGammaParams::new(6.25, 3.74, 15.44)?;
    let customer = summary(2.0, 30.43, 38.86, 22.5);
    let expected_spend = spend.conditional_expected_average_profit(&customer)?;

    let undiscounted = DiscountedValueConfig { discount_rate: 0.0, ..DiscountedValueConfig::default() };
    let value = customer_lifetime_value(&purchases, &spend, &customer, &undiscounted)?;
    let horizon = 12.0 * 4.345;
    let expected = expected_spend * purchases.conditional_expected_purchases(&customer, horizon)?;
    assert_close(value, expected, 1e-9 * expected, "undiscounted value");

    // One period of a year at 10 %: everything is discounted once.
    let yearly = DiscountedValueConfig { periods: 1, period_length_weeks: horizon, discount_rate: 0.1 };
    let value_yearly = customer_lifetime_value(&purchases, &spend, &customer, &yearly)?;
    assert_close(value_yearly, expected / 1.1, 1e-9 * expected, "one discounted period");

    let discounted = customer_lifetime_value(&purchases, &spend, &customer, &DiscountedValueConfig::default())?;
    assert!(discounted < value && discounted > value / 1.01_f64.powi(12), "{discounted} vs {value}");

    let broken = DiscountedValueConfig { period_length_weeks: 0.0, ..DiscountedValueConfig::default() };
    assert!(matches!(
        customer_lifetime_value(&purchases, &spend, &customer, &broken),
        Err(ClvError::InvalidDiscount(_))
    ));
    Ok(())
}

#[test]
fn pareto_nbd_fit_reproduces_fader_hardie() -> Result<(), ClvError> {
    let summaries: Vec<RfmSummary> = published_summaries().into_iter().map(|(_, s)| s).collect();
    let config = FitConfig { gradient_tolerance: 1e-7, ..FitConfig::default() };
    let report = fit_pareto_nbd(&summaries, &config)?;
    eprintln!("Pareto/NBD fit: {report:?}");
    assert!(report.converged);
    // Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions".
    let params = report.params;
    assert_close(params.r, 0.55, 0.005, "r");
    assert_close(params.alpha, 10.58, 0.005, "alpha");
    assert_close(params.s, 0.61, 0.005, "s");
    assert_close(params.beta, 11.67, 0.005, "beta");
    assert_close(report.log_likelihood, -9595.0, 0.05, "log-likelihood");
    assert!(report.standard_errors.is_some());
    Ok(())
}

#[test]
fn pareto_nbd_predictions() -> Result<(), ClvError> {
    let params = ParetoNbdParams::new(0.5533, 10.5776, 0.6061, 11.6650)?;
    // Nobody can have died between the last purchase and the calibration end if they coincide.
    let just_bought = summary(3.0, 38.86, 38.86, 0.0);
    assert_close(params.probability_alive(&just_bought)?, 1.0, 1e-12, "P(alive) at tₓ = T");
    let recent = params.probability_alive(&summary(5.0, 38.0, 38.86, 0.0))?;
    let silent = params.probability_alive(&summary(5.0, 2.0, 38.86, 0.0))?;
    assert!(recent > 0.8 && silent < 0.05 && silent > 0.0, "recent {recent}, silent {silent}");
    let customer = summary(2.0, 30.43, 38.86, 0.0);
    let short = params.conditional_expected_purchases(&customer, 1.0)?;
    let long = params.conditional_expected_purchases(&customer, 39.0)?;
    assert!(short > 0.0 && short < long && long < 39.0 * short, "short {short}, long {long}");
    assert!(matches!(params.conditional_expected_purchases(&customer, f64::NAN), Err(ClvError::InvalidHorizon(_))));
    Ok(())
}

#[test]
fn one_purchase_curve_gives_the_horizon_and_the_clv_of_the_separate_calls() -> Result<(), ClvError> {
    let purchases = cdnow_bg_nbd();
    let spend = kimochi_analytics::clv::GammaGammaParams { p: 6.25, q: 3.74, gamma: 15.44 };
    let config = kimochi_analytics::clv::DiscountedValueConfig::default();
    for (_, customer) in published_summaries().into_iter().take(300) {
        let expected_spend = spend.conditional_expected_average_profit(&customer)?;
        let (expected, value) = kimochi_analytics::clv::expected_purchases_and_value(
            &purchases,
            &customer,
            39.0,
            Some(expected_spend),
            &config,
        )?;
        assert_close(expected, purchases.conditional_expected_purchases(&customer, 39.0)?, 1e-12, "E[Y(39)]");
        let clv = kimochi_analytics::clv::customer_lifetime_value(&purchases, &spend, &customer, &config)?;
        assert_close(value.unwrap_or(f64::NAN), clv, 1e-9, "CLV");
        let (alone, none) =
            kimochi_analytics::clv::expected_purchases_and_value(&purchases, &customer, 39.0, None, &config)?;
        assert_eq!((alone, none), (expected, None));
    }
    Ok(())
}
