//! Churn drivers and churn risk as callers see them: subscribers simulated with a known sBG
//! baseline and the demo's planted relative risks (expectation gap 3.0, advocate 0.5, no-contact
//! streak 2.0, ad-medium factors), recovered with confidence intervals that cover the truth;
//! then the per-customer risk, its reasons and the errors on bad input.

use kimochi_analytics::churn::{
    ChurnBaseline, ChurnBasis, ChurnConfig, ChurnDriverModel, ChurnError, ChurnLevel, ChurnModel, DropReason,
    KimochiDriver, SubscriptionHistory, churn_list, churn_risk, fit_churn_driver_model, fit_churn_model,
    subscription_histories,
};
use kimochi_analytics::clv::SbgParams;
use kimochi_analytics::features::{CustomerFeatures, KimochiSignals};
use kimochi_analytics::stage::Stage;
use kimochi_domain::CustomerId;

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny deterministic generator, enough for simulation.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.uniform() < probability
    }
}

/// Ad media with their share among subscribers and the demo's churn factor. TV通販 is the most
/// common, so it is the reference and the true relative risk of a medium is factor / 1.5.
const MEDIA: [(&str, f64, f64); 7] = [
    ("TV通販", 0.30, 1.5),
    ("Web広告", 0.20, 1.2),
    ("SNS広告", 0.14, 1.1),
    ("アフィリエイト", 0.10, 1.3),
    ("雑誌", 0.10, 1.0),
    ("新聞広告", 0.08, 0.9),
    ("紹介", 0.08, 0.6),
];
const GAP_RELATIVE_RISK: f64 = 3.0;
const ADVOCATE_RELATIVE_RISK: f64 = 0.5;
const UNREACHABLE_RELATIVE_RISK: f64 = 2.0;
/// The reference group's hazard per renewal decision: h(t) = γ / (γ + δ + t − 1), 3.8% at the
/// first decision falling to 1.8% at the 24th.
const TRUE_BASELINE: SbgParams = SbgParams { gamma: 0.8, delta: 20.0 };
/// Subscribers join uniformly over this many months before the "as of" date.
const WINDOW_MONTHS: u32 = 36;

fn features(id: i64) -> CustomerFeatures {
    CustomerFeatures {
        customer: CustomerId(id),
        stage: Stage::Repeater,
        rfm: None,
        recency_days: Some(30),
        purchase_days: 3,
        monetary: 12_000,
        tenure_days: Some(400),
        p_alive: Some(0.8),
        expected_purchases: None,
        clv: None,
        active_subscriber: false,
        subscription_orders: 0,
        lapsed_subscriber: false,
        overdue_days: None,
        consecutive_no_contact: 0,
        outbound_attempts: 0,
        outbound_reached: 0,
        ad_medium: Some("TV通販".to_owned()),
        kimochi: KimochiSignals::default(),
    }
}

fn true_relative_risk(code: &str) -> f64 {
    match code {
        "expectation_gap" => GAP_RELATIVE_RISK,
        "advocate" => ADVOCATE_RELATIVE_RISK,
        "unreachable" => UNREACHABLE_RELATIVE_RISK,
        "complaint" | "negative_tone" => 1.0,
        medium => {
            let name = medium.strip_prefix("medium:").unwrap();
            MEDIA.iter().find(|(candidate, _, _)| *candidate == name).unwrap().2 / MEDIA[0].2
        }
    }
}

/// `n` subscribers with planted drivers, simulated decision by decision over staggered tenures:
/// each decision cancels with h(t) × the product of the true relative risks. Complaints and a
/// negative tone are planted with no effect; nobody voiced churn intent.
fn simulate(
    seed: u64,
    n: usize,
    baseline: impl Fn(u32) -> f64,
) -> (Vec<CustomerFeatures>, Vec<Option<SubscriptionHistory>>) {
    let mut rng = SplitMix64(seed);
    let mut all_features = Vec::with_capacity(n);
    let mut histories = Vec::with_capacity(n);
    for id in 0..n {
        let mut customer = features(id as i64);
        let mut pick = rng.uniform();
        let (medium, _, medium_factor) = *MEDIA
            .iter()
            .find(|(_, share, _)| {
                pick -= share;
                pick < 0.0
            })
            .unwrap_or(&MEDIA[6]);
        customer.ad_medium = Some(medium.to_owned());
        let gap = rng.chance(0.22);
        let advocate = !gap && rng.chance(0.3);
        let unreachable = rng.chance(0.12);
        customer.kimochi.gap_notes = u32::from(gap);
        customer.kimochi.advocacy = u32::from(advocate);
        customer.kimochi.complaints = u32::from(rng.chance(0.08));
        customer.kimochi.negative_contacts = u32::from(rng.chance(0.10));
        if unreachable {
            // Half are found by the streak, half by attempts none of which reached them.
            if rng.chance(0.5) {
                customer.consecutive_no_contact = 3 + (rng.next_u64() % 3) as u32;
            } else {
                customer.outbound_attempts = 3;
            }
        }
        let mut relative_risk = medium_factor / MEDIA[0].2;
        if gap {
            relative_risk *= GAP_RELATIVE_RISK;
        }
        if advocate {
            relative_risk *= ADVOCATE_RELATIVE_RISK;
        }
        if unreachable {
            relative_risk *= UNREACHABLE_RELATIVE_RISK;
        }
        let available = (rng.next_u64() % u64::from(WINDOW_MONTHS)) as u32;
        let mut history = SubscriptionHistory { deliveries: available + 1, churned: false };
        for decision in 1..=available {
            if rng.chance((baseline(decision) * relative_risk).min(0.95)) {
                history = SubscriptionHistory { deliveries: decision, churned: true };
                break;
            }
        }
        customer.stage = if history.churned { Stage::Repeater } else { Stage::Subscription };
        customer.active_subscriber = !history.churned;
        customer.lapsed_subscriber = history.churned;
        customer.subscription_orders = history.deliveries;
        all_features.push(customer);
        histories.push(Some(history));
    }
    (all_features, histories)
}

fn sbg_hazard(params: SbgParams) -> impl Fn(u32) -> f64 {
    move |decision| 1.0 - params.retention_rate(decision)
}

fn config_with(baseline: ChurnBaseline) -> ChurnConfig {
    let mut config = ChurnConfig::default();
    config.fit.baseline = baseline;
    config
}

/// Every planted effect is in the model; each estimate is within 4 standard errors and 15% of
/// the truth.
fn check_recovered(model: &ChurnDriverModel, what: &str) {
    let expected_codes = [
        "expectation_gap",
        "advocate",
        "unreachable",
        "complaint",
        "negative_tone",
        "medium:Web広告",
        "medium:SNS広告",
        "medium:アフィリエイト",
        "medium:雑誌",
        "medium:新聞広告",
        "medium:紹介",
    ];
    assert_eq!(model.drivers.len(), expected_codes.len(), "{what}: {:?}", model.drivers);
    for code in expected_codes {
        let driver = model.driver(code).unwrap_or_else(|| panic!("{what}: {code} missing"));
        let truth = true_relative_risk(code);
        let error = (driver.coefficient - truth.ln()).abs();
        assert!(
            error <= 4.0 * driver.standard_error && (driver.relative_risk / truth - 1.0).abs() <= 0.15,
            "{what}: {code} relative risk {:.3} (95% CI {:.3}–{:.3}), truth {truth}",
            driver.relative_risk,
            driver.ci_low,
            driver.ci_high
        );
        assert!(driver.ci_low < driver.relative_risk && driver.relative_risk < driver.ci_high, "{what}: {code}");
        assert!((0.0..=1.0).contains(&driver.p_value), "{what}: {code}");
    }
    // The planted strong effects are unmistakable; the null ones are not reported as such.
    for code in ["expectation_gap", "advocate", "unreachable"] {
        assert!(model.driver(code).unwrap().p_value < 1e-6, "{what}: {code}");
    }
    let ranked: Vec<f64> = model.drivers.iter().map(|driver| driver.relative_risk).collect();
    assert!(ranked.windows(2).all(|pair| pair[0] >= pair[1]), "{what}: ranked by relative risk: {ranked:?}");
    assert_eq!(model.drivers[0].code.as_ref(), "expectation_gap", "{what}");
    assert_eq!(model.reference_medium, Some(Some("TV通販".into())), "{what}");
}

#[test]
fn planted_relative_risks_and_the_sbg_baseline_are_recovered() {
    let (features, histories) = simulate(7, 60_000, sbg_hazard(TRUE_BASELINE));
    let model = fit_churn_driver_model(&features, &histories, &ChurnConfig::default()).unwrap();
    eprintln!("{model:#?}");
    assert!(model.converged);
    check_recovered(&model, "fitted sBG");
    assert!(model.churned > 5_000 && model.churned < model.subscribers, "{} churned", model.churned);
    let baseline = model.baseline.expect("a fitted sBG curve");
    assert_eq!(model.baseline_multiplier, 1.0);
    for decision in [1, 6, 12, 24, 35] {
        let fitted = model.reference_hazard(decision);
        let truth = 1.0 - TRUE_BASELINE.retention_rate(decision);
        assert!(
            (fitted / truth - 1.0).abs() < 0.12,
            "h({decision}): fitted {fitted:.4}, truth {truth:.4} ({baseline:?})"
        );
    }
    // Nobody voiced churn intent: the driver has no variation and is reported as dropped.
    let churn_intent = model.dropped.iter().find(|dropped| &*dropped.code == "churn_intent").unwrap();
    assert_eq!((churn_intent.reason, churn_intent.customers_with), (DropReason::NoVariation, 0));
    assert_eq!(model.dropped.len(), 1, "{:?}", model.dropped);
    let gap = model.driver("expectation_gap").unwrap();
    // In the fit: everyone who faced a renewal decision, i.e. cancelled or past the first delivery.
    let in_fit = |f: &&CustomerFeatures| f.lapsed_subscriber || f.subscription_orders > 1;
    let with_gap = features.iter().filter(in_fit).filter(|f| f.kimochi.gap_notes > 0).count() as u64;
    assert_eq!(gap.customers_with, with_gap);
    assert_eq!(gap.label_ja.as_ref(), "期待とのギャップ");
}

#[test]
fn ninety_five_percent_intervals_cover_the_truth_about_95_percent_of_the_time() {
    let mut covered = 0;
    let mut intervals = 0;
    for replicate in 0..20 {
        let (features, histories) = simulate(1_000 + replicate, 8_000, sbg_hazard(TRUE_BASELINE));
        let model = fit_churn_driver_model(&features, &histories, &ChurnConfig::default()).unwrap();
        for driver in &model.drivers {
            let truth = true_relative_risk(&driver.code);
            intervals += 1;
            if driver.ci_low <= truth && truth <= driver.ci_high {
                covered += 1;
            }
        }
    }
    let coverage = f64::from(covered) / f64::from(intervals);
    eprintln!("coverage {covered}/{intervals} = {coverage:.3}");
    // 220 intervals: 95% coverage gives 209 ± 3; below 88% or at 100% the intervals are wrong.
    assert!(intervals >= 200, "{intervals}");
    assert!((0.88..0.995).contains(&coverage), "coverage {coverage:.3} of {intervals} intervals");
}

#[test]
fn a_given_baseline_is_scaled_and_a_constant_one_fits_a_constant_hazard() {
    let (features, histories) = simulate(11, 40_000, sbg_hazard(TRUE_BASELINE));
    let model =
        fit_churn_driver_model(&features, &histories, &config_with(ChurnBaseline::Given(TRUE_BASELINE))).unwrap();
    check_recovered(&model, "given sBG");
    assert_eq!(model.baseline, Some(TRUE_BASELINE));
    assert!((model.baseline_multiplier - 1.0).abs() < 0.1, "multiplier {}", model.baseline_multiplier);

    // A constant 3% per decision: the plain exposure offset recovers it and the drivers.
    let (features, histories) = simulate(12, 40_000, |_| 0.03);
    let model = fit_churn_driver_model(&features, &histories, &config_with(ChurnBaseline::Exposure)).unwrap();
    check_recovered(&model, "exposure");
    assert_eq!(model.baseline, None);
    assert!((model.baseline_multiplier / 0.03 - 1.0).abs() < 0.1, "hazard {}", model.baseline_multiplier);
    assert!((model.reference_hazard(30) - model.baseline_multiplier).abs() < 1e-15);

    // The fitted sBG finds the hazard flat: its curve at decision 30 is within 15% of decision 1.
    let fitted = fit_churn_driver_model(&features, &histories, &ChurnConfig::default()).unwrap();
    check_recovered(&fitted, "fitted sBG on a constant hazard");
    let (first, late) = (fitted.reference_hazard(1), fitted.reference_hazard(30));
    assert!(late / first > 0.85 && (first / 0.03 - 1.0).abs() < 0.15, "h(1) {first:.4}, h(30) {late:.4}");
}

#[test]
fn drivers_without_variation_too_few_or_excluded_are_reported_as_dropped() {
    let (mut features, histories) = simulate(3, 5_000, sbg_hazard(TRUE_BASELINE));
    for customer in &mut features {
        customer.kimochi.complaints = 1; // everyone: no variation
        customer.kimochi.negative_contacts = 0; // nobody: no variation
    }
    features[0].kimochi.churn_intent = 1; // one customer: too few
    features[1].ad_medium = Some("ラジオ".to_owned()); // one customer: too few
    let mut config = ChurnConfig::default();
    config.fit.excluded_drivers = vec!["unreachable".to_owned(), "medium:雑誌".to_owned()];
    let model = fit_churn_driver_model(&features, &histories, &config).unwrap();
    let dropped: Vec<(&str, DropReason)> = model.dropped.iter().map(|d| (d.code.as_ref(), d.reason)).collect();
    for expected in [
        ("complaint", DropReason::NoVariation),
        ("negative_tone", DropReason::NoVariation),
        ("churn_intent", DropReason::TooFew),
        ("unreachable", DropReason::Excluded),
        ("medium:雑誌", DropReason::Excluded),
        ("medium:ラジオ", DropReason::TooFew),
    ] {
        assert!(dropped.contains(&expected), "{expected:?} not in {dropped:?}");
    }
    for dropped in &model.dropped {
        assert!(model.driver(&dropped.code).is_none(), "{} both dropped and fitted", dropped.code);
    }
    assert!(model.driver("expectation_gap").is_some() && model.driver("medium:紹介").is_some());
}

fn subscriber(id: i64, deliveries: u32) -> CustomerFeatures {
    let mut customer = features(id);
    customer.stage = Stage::Subscription;
    customer.active_subscriber = true;
    customer.subscription_orders = deliveries;
    customer
}

fn fitted_model() -> (ChurnModel, ChurnConfig) {
    let (features, histories) = simulate(5, 30_000, sbg_hazard(TRUE_BASELINE));
    let config = ChurnConfig::default();
    (fit_churn_model(&features, &histories, &config).unwrap(), config)
}

#[test]
fn subscriber_risk_combines_the_baseline_and_the_drivers_with_ordered_reasons() {
    let (model, config) = fitted_model();
    let driver_model = model.driver_model.as_ref().unwrap();

    // No driver, reference medium: 1 − Π (1 − h(t)) over decisions 4, 5, 6, one reason.
    let plain = churn_risk(&subscriber(1, 4), &model, &config).unwrap().unwrap();
    let expected = 1.0 - (4..7).map(|t| 1.0 - driver_model.reference_hazard(t)).product::<f64>();
    assert!((plain.probability - expected).abs() < 1e-12, "{} vs {expected}", plain.probability);
    assert_eq!(plain.basis, ChurnBasis::Subscription);
    assert_eq!(plain.reasons.len(), 1);
    assert_eq!(plain.reasons[0].code(), "subscription_baseline");
    assert!(plain.reasons[0].text_ja().starts_with("定期便4回受取済み"), "{}", plain.reasons[0].text_ja());

    // Gap, a four-call streak, an advocate and the 紹介 medium.
    let mut customer = subscriber(2, 4);
    customer.kimochi.gap_notes = 1;
    customer.kimochi.advocacy = 2;
    customer.consecutive_no_contact = 4;
    customer.ad_medium = Some("紹介".to_owned());
    let risk = churn_risk(&customer, &model, &config).unwrap().unwrap();
    let codes: Vec<&str> = risk.reasons.iter().map(|reason| reason.code()).collect();
    for code in ["expectation_gap", "unreachable", "advocate", "medium:紹介", "subscription_baseline"] {
        assert!(codes.contains(&code), "{code} not in {codes:?}");
    }
    let contributions: Vec<f64> = risk.reasons.iter().map(|reason| reason.contribution).collect();
    assert!(contributions.windows(2).all(|pair| pair[0] >= pair[1]), "sorted: {contributions:?}");
    // The base probability comes first here (the protective advocacy and 紹介 offset the
    // gap); among the drivers the 3× gap contributes most.
    assert_eq!(codes[0], "subscription_baseline", "{codes:?}");
    assert_eq!(codes[1], "expectation_gap", "{codes:?}");
    // Protective factors lower the risk: negative contributions, at the end.
    let advocate = risk.reasons.iter().find(|reason| reason.code() == "advocate").unwrap();
    assert!(advocate.contribution < 0.0);
    let texts: Vec<String> = risk.reasons.iter().map(|reason| reason.text_ja()).collect();
    assert!(
        texts.iter().any(|text| text.starts_with("期待とのギャップあり(解約リスク ") && text.ends_with("倍)")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|text| text.starts_with("4回連続で不通(解約リスク ")), "{texts:?}");
    assert!(texts.iter().any(|text| text.starts_with("広告媒体 紹介(解約リスク 0.")), "{texts:?}");
    // The product of the customer's relative risks, applied per decision.
    let product: f64 = ["expectation_gap", "unreachable", "advocate", "medium:紹介"]
        .iter()
        .map(|code| driver_model.driver(code).unwrap().relative_risk)
        .product();
    let expected = 1.0 - (4..7).map(|t| 1.0 - driver_model.reference_hazard(t) * product).product::<f64>();
    assert!((risk.probability - expected).abs() < 1e-12);
    assert!(risk.probability > plain.probability);

    // A longer horizon, a higher risk; drivers never push the hazard past the cap.
    let longer = ChurnConfig { horizon_days: 365, ..config.clone() };
    assert!(churn_risk(&customer, &model, &longer).unwrap().unwrap().probability > risk.probability);
    let capped = ChurnConfig { max_period_hazard: 0.01, ..config.clone() };
    let capped_risk = churn_risk(&customer, &model, &capped).unwrap().unwrap().probability;
    assert!((capped_risk - (1.0 - 0.99_f64.powi(3))).abs() < 1e-12, "{capped_risk}");
}

#[test]
fn non_contractual_risk_without_drivers_is_one_minus_p_alive() {
    let (fitted, config) = fitted_model();
    for model in [&fitted, &ChurnModel::without_subscribers()] {
        for p_alive in [0.0, 0.01, 0.18, 0.5, 0.93, 1.0] {
            for overdue_days in [None, Some(-12), Some(0)] {
                let mut customer = features(1);
                customer.p_alive = Some(p_alive);
                customer.overdue_days = overdue_days;
                let risk = churn_risk(&customer, model, &config).unwrap().unwrap();
                assert!((risk.probability - (1.0 - p_alive)).abs() < 1e-12, "p_alive {p_alive}: {}", risk.probability);
                assert_eq!(risk.basis, ChurnBasis::NonContractual);
                assert_eq!(risk.reasons.len(), 1);
                assert_eq!(risk.reasons[0].code(), "p_alive");
            }
        }
    }
    let mut customer = features(1);
    customer.p_alive = Some(0.18);
    let risk = churn_risk(&customer, &fitted, &config).unwrap().unwrap();
    assert_eq!(risk.reasons[0].text_ja(), "生存確率 18%");
    assert_eq!(risk.level, ChurnLevel::High);
}

#[test]
fn non_contractual_risk_rises_as_p_alive_falls_and_overdue_days_grow() {
    let (model, config) = fitted_model();
    let risk_of = |p_alive: f64, overdue_days: i64, gap: bool| {
        let mut customer = features(1);
        customer.stage = Stage::Dormant;
        customer.p_alive = Some(p_alive);
        customer.overdue_days = Some(overdue_days);
        customer.kimochi.gap_notes = u32::from(gap);
        churn_risk(&customer, &model, &config).unwrap().unwrap()
    };
    for gap in [false, true] {
        for overdue in [0, 24, 90] {
            let by_p_alive: Vec<f64> =
                (1..20).map(|step| risk_of(f64::from(step) * 0.05, overdue, gap).probability).collect();
            assert!(
                by_p_alive.windows(2).all(|pair| pair[0] > pair[1]),
                "overdue {overdue}, gap {gap}: {by_p_alive:?}"
            );
        }
        for p_alive in [0.1, 0.5, 0.9] {
            let by_overdue: Vec<f64> = (0..12).map(|step| risk_of(p_alive, step * 15, gap).probability).collect();
            assert!(
                by_overdue.windows(2).all(|pair| pair[0] < pair[1]),
                "p_alive {p_alive}, gap {gap}: {by_overdue:?}"
            );
        }
    }
    let risk = risk_of(0.5, 24, true);
    let texts: Vec<String> = risk.reasons.iter().map(|reason| reason.text_ja()).collect();
    assert!(texts.contains(&"購入周期を 24日超過".to_owned()), "{texts:?}");
    assert!(texts.iter().any(|text| text.starts_with("期待とのギャップあり(解約リスク ")), "{texts:?}");
    let gap_risk = model.driver_model.as_ref().unwrap().driver("expectation_gap").unwrap().relative_risk;
    let odds = 1.0 * 1.5_f64.powf(24.0 / 30.0) * gap_risk;
    assert!((risk.probability - odds / (1.0 + odds)).abs() < 1e-12, "odds multiplied: {}", risk.probability);
    // The medium only moves subscribers: a 紹介 buyer's risk is the same.
    let mut referred = features(1);
    referred.ad_medium = Some("紹介".to_owned());
    referred.p_alive = Some(0.4);
    assert!((churn_risk(&referred, &model, &config).unwrap().unwrap().probability - 0.6).abs() < 1e-12);
}

#[test]
fn customers_who_cannot_churn_get_no_number() {
    let (model, config) = fitted_model();
    let mut prospect = features(1);
    prospect.stage = Stage::NotPurchased;
    prospect.purchase_days = 0;
    prospect.p_alive = None;
    let mut excluded = subscriber(2, 5);
    excluded.stage = Stage::Excluded;
    let mut no_p_alive = features(3);
    no_p_alive.p_alive = None;
    for customer in [&prospect, &excluded, &no_p_alive] {
        assert_eq!(churn_risk(customer, &model, &config).unwrap(), None, "{customer:?}");
    }
    // Without a fitted driver model subscribers are not scored either.
    assert_eq!(churn_risk(&subscriber(4, 5), &ChurnModel::without_subscribers(), &config).unwrap(), None);
}

#[test]
fn the_churn_list_is_ordered_gives_every_high_customer_a_reason_and_ignores_input_order() {
    let (model, config) = fitted_model();
    let (mut customers, _) = simulate(99, 2_000, sbg_hazard(TRUE_BASELINE));
    for (index, customer) in customers.iter_mut().enumerate().filter(|(index, _)| index % 3 == 0) {
        // A third are non-contractual buyers with a spread of p_alive.
        customer.stage = Stage::Repeater;
        customer.active_subscriber = false;
        customer.p_alive = Some((index % 97) as f64 / 96.0);
    }
    customers[1].stage = Stage::NotPurchased;
    customers[1].active_subscriber = false;
    customers[1].purchase_days = 0;
    let list = churn_list(&customers, &model, &config).unwrap();
    let scored = customers.iter().filter(|customer| churn_risk(customer, &model, &config).unwrap().is_some()).count();
    assert_eq!(list.len(), scored);
    assert!(list.len() < customers.len(), "the prospect and lapsed non-buyers are left out");
    assert!(list.windows(2).all(|pair| pair[0].1.probability >= pair[1].1.probability));
    let high: Vec<_> = list.iter().filter(|(_, risk)| risk.level == ChurnLevel::High).collect();
    assert!(!high.is_empty());
    assert!(high.iter().all(|(_, risk)| !risk.reasons.is_empty() && risk.probability >= config.high_from));
    assert!(list.iter().all(|(_, risk)| (0.0..=1.0).contains(&risk.probability)));

    customers.reverse();
    let reversed = churn_list(&customers, &model, &config).unwrap();
    assert_eq!(reversed, list);
}

#[test]
fn histories_can_be_read_from_the_features() {
    let (features, histories) = simulate(21, 3_000, sbg_hazard(TRUE_BASELINE));
    assert_eq!(subscription_histories(&features), histories);
    let mut prospect = features[0].clone();
    prospect.active_subscriber = false;
    prospect.lapsed_subscriber = false;
    assert_eq!(subscription_histories(&[prospect]), vec![None]);
}

#[test]
fn bad_input_is_an_error_not_a_nan() {
    let config = ChurnConfig::default();
    assert_eq!(fit_churn_driver_model(&[], &[], &config), Err(ChurnError::NoSubscribers));
    let (subscribers, mut histories) = simulate(8, 500, sbg_hazard(TRUE_BASELINE));
    assert_eq!(
        fit_churn_driver_model(&subscribers, &histories[..10], &config),
        Err(ChurnError::LengthMismatch { features: 500, histories: 10 })
    );
    // Only non-subscribers, or subscribers who have not faced a renewal yet: nothing to fit.
    let none = vec![None; subscribers.len()];
    assert_eq!(fit_churn_driver_model(&subscribers, &none, &config), Err(ChurnError::NoSubscribers));
    let first_month = vec![Some(SubscriptionHistory { deliveries: 1, churned: false }); subscribers.len()];
    assert_eq!(fit_churn_driver_model(&subscribers, &first_month, &config), Err(ChurnError::NoSubscribers));
    let nobody_left = vec![Some(SubscriptionHistory { deliveries: 6, churned: false }); subscribers.len()];
    assert_eq!(fit_churn_driver_model(&subscribers, &nobody_left, &config), Err(ChurnError::NoChurn));
    assert!(ChurnError::NoChurn.is_insufficient_data() && ChurnError::NoSubscribers.is_insufficient_data());
    assert!(!ChurnError::InvalidConfig("x").is_insufficient_data());
    histories[7] = Some(SubscriptionHistory { deliveries: 0, churned: true });
    assert!(matches!(
        fit_churn_driver_model(&subscribers, &histories, &config),
        Err(ChurnError::InvalidHistory { customer: CustomerId(7), .. })
    ));
    histories[7] = Some(SubscriptionHistory { deliveries: u32::MAX, churned: false });
    assert!(matches!(
        fit_churn_driver_model(&subscribers, &histories, &config),
        Err(ChurnError::InvalidHistory { .. })
    ));

    let model = ChurnModel::without_subscribers();
    for p_alive in [f64::NAN, -0.1, 1.5, f64::INFINITY] {
        let mut customer = features(1);
        customer.p_alive = Some(p_alive);
        let error = churn_risk(&customer, &model, &config).unwrap_err();
        assert!(matches!(error, ChurnError::InvalidProbability { customer: CustomerId(1), .. }), "{error}");
        assert!(churn_list(&[customer], &model, &config).is_err());
    }
    // Extreme but valid inputs stay probabilities.
    for (p_alive, overdue_days) in [(1e-300, i64::MAX), (f64::MIN_POSITIVE, 36_500), (1.0, i64::MAX), (0.0, 10)] {
        let mut customer = features(1);
        customer.p_alive = Some(p_alive);
        customer.overdue_days = Some(overdue_days);
        customer.kimochi.gap_notes = 1;
        let risk = churn_risk(&customer, &model, &config).unwrap().unwrap();
        assert!((0.0..=1.0).contains(&risk.probability), "{p_alive} {overdue_days}: {risk:?}");
        assert!(risk.reasons.iter().all(|reason| reason.contribution.is_finite()), "{risk:?}");
    }
    let (fitted, _) = fitted_model();
    let broken = subscriber(9, 0);
    assert!(matches!(churn_risk(&broken, &fitted, &config), Err(ChurnError::InvalidFeatures { .. })));
    for bad in [
        ChurnConfig { horizon_days: 0, ..ChurnConfig::default() },
        ChurnConfig { horizon_days: 100_000, ..ChurnConfig::default() },
        ChurnConfig { medium_from: 0.5, high_from: 0.2, ..ChurnConfig::default() },
        ChurnConfig { max_period_hazard: 1.0, ..ChurnConfig::default() },
        ChurnConfig { overdue_odds_ratio_per_30_days: f64::NAN, ..ChurnConfig::default() },
    ] {
        assert!(matches!(churn_risk(&features(1), &model, &bad), Err(ChurnError::InvalidConfig(_))), "{bad:?}");
    }
    let mut negative_ridge = ChurnConfig::default();
    negative_ridge.fit.ridge = -1.0;
    assert!(matches!(fit_churn_driver_model(&[], &[], &negative_ridge), Err(ChurnError::InvalidConfig(_))));
}

#[test]
fn kimochi_drivers_read_the_features_as_documented() {
    let check = |edit: fn(&mut CustomerFeatures), expected: &[KimochiDriver]| {
        let mut customer = features(1);
        edit(&mut customer);
        let found: Vec<KimochiDriver> = KimochiDriver::ALL.into_iter().filter(|d| d.applies(&customer)).collect();
        assert_eq!(found, expected);
    };
    check(|_| {}, &[]);
    check(|c| c.kimochi.gap_notes = 2, &[KimochiDriver::ExpectationGap]);
    check(|c| c.kimochi.advocacy = 1, &[KimochiDriver::Advocate]);
    check(|c| c.consecutive_no_contact = 2, &[]);
    check(|c| c.consecutive_no_contact = 3, &[KimochiDriver::Unreachable]);
    check(|c| (c.outbound_attempts, c.outbound_reached) = (3, 0), &[KimochiDriver::Unreachable]);
    check(|c| (c.outbound_attempts, c.outbound_reached) = (5, 1), &[]);
    check(|c| c.kimochi.complaints = 1, &[KimochiDriver::Complaint]);
    check(|c| c.kimochi.churn_intent = 1, &[KimochiDriver::ChurnIntent]);
    check(|c| (c.kimochi.negative_contacts, c.kimochi.positive_contacts) = (2, 1), &[KimochiDriver::NegativeTone]);
    check(|c| (c.kimochi.negative_contacts, c.kimochi.positive_contacts) = (2, 2), &[]);
    let codes: Vec<&str> = KimochiDriver::ALL.iter().map(|d| d.code()).collect();
    assert_eq!(codes, ["expectation_gap", "advocate", "unreachable", "complaint", "churn_intent", "negative_tone"]);
    assert_eq!(ChurnLevel::High.label_ja(), "高");
    assert_eq!((ChurnLevel::Low.code(), ChurnLevel::Medium.label_ja()), ("low", "中"));
}

#[test]
fn small_tenants_get_finite_estimates_or_an_insufficient_data_error() {
    let mut fitted = 0;
    for n in [10, 25, 60, 200] {
        for seed in 0..10 {
            let (features, histories) = simulate(500 + seed, n, sbg_hazard(TRUE_BASELINE));
            match fit_churn_driver_model(&features, &histories, &ChurnConfig::default()) {
                Ok(model) => {
                    fitted += 1;
                    assert!(model.log_likelihood.is_finite(), "n {n}, seed {seed}: {model:?}");
                    assert!((1..=35).all(|t| model.reference_hazard(t) > 0.0 && model.reference_hazard(t) < 1.0));
                    for driver in &model.drivers {
                        let numbers = [driver.relative_risk, driver.ci_low, driver.ci_high, driver.p_value];
                        assert!(numbers.iter().all(|x| x.is_finite()), "n {n}, seed {seed}: {driver:?}");
                    }
                    let model = ChurnModel::new(model);
                    let risk = churn_risk(&features[0], &model, &ChurnConfig::default()).unwrap();
                    assert!(risk.is_none_or(|risk| (0.0..=1.0).contains(&risk.probability)));
                }
                Err(error) => assert!(error.is_insufficient_data(), "n {n}, seed {seed}: {error}"),
            }
        }
    }
    assert!(fitted >= 20, "{fitted} of 40 small tenants fitted");
}

#[test]
fn everyone_leaving_at_the_first_decision_is_a_degenerate_baseline_error() {
    let (features, _) = simulate(1, 100, sbg_hazard(TRUE_BASELINE));
    let mut histories = vec![Some(SubscriptionHistory { deliveries: 1, churned: true }); 100];
    let error = fit_churn_driver_model(&features, &histories, &ChurnConfig::default()).unwrap_err();
    assert_eq!(error, ChurnError::DegenerateBaseline);
    assert!(error.is_insufficient_data());
    // The constant baseline has no such limit: a hazard of 1 per decision is its estimate.
    let constant = fit_churn_driver_model(&features, &histories, &config_with(ChurnBaseline::Exposure)).unwrap();
    assert!((constant.baseline_multiplier - 1.0).abs() < 1e-9, "{}", constant.baseline_multiplier);
    // One subscriber who stayed is enough for an sBG curve.
    histories[0] = Some(SubscriptionHistory { deliveries: 5, churned: false });
    let model = fit_churn_driver_model(&features, &histories, &ChurnConfig::default()).unwrap();
    assert!(model.reference_hazard(1) < 1.0 && model.reference_hazard(1) > 0.9, "{model:?}");
}

#[test]
fn the_fit_does_not_depend_on_input_order() {
    let (mut features, mut histories) = simulate(31, 5_000, sbg_hazard(TRUE_BASELINE));
    let model = fit_churn_driver_model(&features, &histories, &ChurnConfig::default()).unwrap();
    features.reverse();
    histories.reverse();
    assert_eq!(fit_churn_driver_model(&features, &histories, &ChurnConfig::default()).unwrap(), model);
}
