//! Benchmark of the churn module: fit the driver model on 500,000 simulated subscribers and
//! score 1,000,000 customers (half subscribers, half non-contractual buyers), on one thread.
//!
//! Run: `cargo run --release -p kimochi-analytics --example churn_bench [subscribers] [customers]`

use std::time::Instant;

use kimochi_analytics::churn::{
    ChurnBaseline, ChurnConfig, SubscriptionHistory, churn_list, churn_risk, fit_churn_model, subscription_histories,
};
use kimochi_analytics::features::{CustomerFeatures, KimochiSignals};
use kimochi_analytics::stage::Stage;
use kimochi_domain::CustomerId;

/// SplitMix64: a tiny deterministic generator for the simulated customers.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
    }
}

const MEDIA: [(&str, f64); 7] = [
    ("TV通販", 1.5),
    ("新聞広告", 0.9),
    ("Web広告", 1.2),
    ("アフィリエイト", 1.3),
    ("雑誌", 1.0),
    ("SNS広告", 1.1),
    ("紹介", 0.6),
];

/// One customer with the demo's planted monthly hazard: subscribers (even ids) are simulated
/// month by month over up to 36 months, the others are non-contractual buyers.
fn customer(rng: &mut SplitMix64, id: i64, subscriber: bool) -> CustomerFeatures {
    let (medium, factor) = MEDIA[(rng.next_u64() % 7) as usize];
    let gap = rng.uniform() < 0.22;
    let advocate = !gap && rng.uniform() < 0.3;
    let unreachable = rng.uniform() < 0.12;
    let mut hazard = 0.02 * factor;
    hazard *= if gap { 3.0 } else { 1.0 } * if advocate { 0.5 } else { 1.0 } * if unreachable { 2.0 } else { 1.0 };
    let mut features = CustomerFeatures {
        customer: CustomerId(id),
        stage: Stage::Repeater,
        rfm: None,
        recency_days: Some(40),
        purchase_days: 2,
        monetary: 9_800,
        tenure_days: Some(300),
        p_alive: Some(rng.uniform()),
        expected_purchases: None,
        clv: None,
        active_subscriber: false,
        subscription_orders: 0,
        lapsed_subscriber: false,
        overdue_days: Some((rng.next_u64() % 120) as i64 - 60),
        consecutive_no_contact: if unreachable { 3 } else { 0 },
        outbound_attempts: 0,
        outbound_reached: 0,
        ad_medium: Some(medium.to_owned()),
        kimochi: KimochiSignals {
            gap_notes: u32::from(gap),
            advocacy: u32::from(advocate),
            complaints: u32::from(rng.uniform() < 0.05),
            ..KimochiSignals::default()
        },
    };
    if subscriber {
        let available = (rng.next_u64() % 36) as u32;
        let mut history = SubscriptionHistory { deliveries: available + 1, churned: false };
        for decision in 1..=available {
            if rng.uniform() < hazard {
                history = SubscriptionHistory { deliveries: decision, churned: true };
                break;
            }
        }
        features.subscription_orders = history.deliveries;
        features.active_subscriber = !history.churned;
        features.lapsed_subscriber = history.churned;
        if !history.churned {
            features.stage = Stage::Subscription;
        }
    }
    features
}

fn main() {
    let mut arguments = std::env::args().skip(1).map(|argument| argument.parse::<usize>());
    let subscribers = arguments.next().and_then(Result::ok).unwrap_or(500_000);
    let customers = arguments.next().and_then(Result::ok).unwrap_or(1_000_000);
    let mut rng = SplitMix64(42);
    let fit_set: Vec<CustomerFeatures> = (0..subscribers).map(|id| customer(&mut rng, id as i64, true)).collect();
    let histories = subscription_histories(&fit_set);
    let score_set: Vec<CustomerFeatures> =
        (0..customers).map(|id| customer(&mut rng, id as i64, id % 2 == 0)).collect();

    // All fits first: after a million reason vectors have been freed, glibc's allocator spends
    // hundreds of milliseconds consolidating its heap on the next large allocation, which would
    // be charged to whichever step came next. The pipeline fits once, then scores.
    let mut models = Vec::new();
    for (name, baseline) in [("fitted sBG", ChurnBaseline::FitSbg), ("exposure", ChurnBaseline::Exposure)] {
        let mut config = ChurnConfig::default();
        config.fit.baseline = baseline;
        let start = Instant::now();
        let model = match fit_churn_model(&fit_set, &histories, &config) {
            Ok(model) => model,
            Err(error) => {
                eprintln!("fit failed: {error}");
                std::process::exit(1);
            }
        };
        let fit_time = start.elapsed();
        println!("fit ({name}) on {subscribers} subscribers: {:.1} ms", fit_time.as_secs_f64() * 1e3);
        if let Some(driver_model) = &model.driver_model {
            for driver in &driver_model.drivers {
                println!(
                    "  {:<22} RR {:.3} (95% CI {:.3}–{:.3}), {} with",
                    driver.code, driver.relative_risk, driver.ci_low, driver.ci_high, driver.customers_with
                );
            }
            println!(
                "  baseline {:?} × {:.4}, h(1) = {:.4}, h(24) = {:.4}",
                driver_model.baseline,
                driver_model.baseline_multiplier,
                driver_model.reference_hazard(1),
                driver_model.reference_hazard(24)
            );
        }
        models.push((name, model, config));
    }
    // Wall-clock times on a shared machine: each step runs five times and the fastest and the
    // median are printed; the fastest is the one least disturbed by other processes.
    for (name, model, config) in &models {
        let mut score_times = Vec::new();
        let mut list_times = Vec::new();
        let mut drop_times = Vec::new();
        let (mut scored, mut reasons, mut length) = (0_usize, 0_usize, 0_usize);
        for _ in 0..REPETITIONS {
            let start = Instant::now();
            (scored, reasons) = (0, 0);
            for features in &score_set {
                if let Ok(Some(risk)) = churn_risk(features, model, config) {
                    scored += 1;
                    reasons += risk.reasons.len();
                }
            }
            score_times.push(start.elapsed().as_secs_f64() * 1e3);
            let start = Instant::now();
            let list = churn_list(&score_set, model, config).unwrap_or_default();
            list_times.push(start.elapsed().as_secs_f64() * 1e3);
            let start = Instant::now();
            length = list.len();
            drop(list);
            drop_times.push(start.elapsed().as_secs_f64() * 1e3);
        }
        println!("score ({name}) {customers} customers: {scored} scored, {reasons} reasons, list of {length}");
        for (step, times) in
            [("churn_risk one by one", score_times), ("churn_list", list_times), ("drop list", drop_times)]
        {
            let (fastest, median) = fastest_and_median(times);
            println!("  {step:<22} fastest {fastest:.1} ms, median {median:.1} ms");
        }
    }
}

const REPETITIONS: usize = 5;

fn fastest_and_median(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    (times[0], times[times.len() / 2])
}
