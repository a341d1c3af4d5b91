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
        let (mut fit_walls, mut fit_cpus) = (Vec::new(), Vec::new());
        let mut fitted = None;
        for _ in 0..REPETITIONS {
            let (result, wall, cpu) = timed(|| fit_churn_model(&fit_set, &histories, &config));
            match result {
                Ok(model) => fitted = Some(model),
                Err(error) => {
                    eprintln!("fit failed: {error}");
                    std::process::exit(1);
                }
            }
            fit_walls.push(wall);
            fit_cpus.push(cpu);
        }
        let Some(model) = fitted else { return };
        println!("fit ({name}) on {subscribers} subscribers: {}", summary(fit_walls, fit_cpus));
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
        let mut times: [(Vec<f64>, Vec<f64>); 3] = Default::default();
        let (mut scored, mut reasons, mut length) = (0_usize, 0_usize, 0_usize);
        for _ in 0..REPETITIONS {
            let ((one_by_one, reason_count), wall, cpu) = timed(|| {
                let (mut scored, mut reasons) = (0, 0);
                for features in &score_set {
                    if let Ok(Some(risk)) = churn_risk(features, model, config) {
                        scored += 1;
                        reasons += risk.reasons.len();
                    }
                }
                (scored, reasons)
            });
            (scored, reasons) = (one_by_one, reason_count);
            times[0].0.push(wall);
            times[0].1.push(cpu);
            let (list, wall, cpu) = timed(|| churn_list(&score_set, model, config).unwrap_or_default());
            times[1].0.push(wall);
            times[1].1.push(cpu);
            length = list.len();
            let ((), wall, cpu) = timed(|| drop(list));
            times[2].0.push(wall);
            times[2].1.push(cpu);
        }
        println!("score ({name}) {customers} customers: {scored} scored, {reasons} reasons, list of {length}");
        let steps = ["churn_risk one by one", "churn_list", "drop the list"];
        for (step, (walls, cpus)) in steps.into_iter().zip(times) {
            println!("  {step:<22} {}", summary(walls, cpus));
        }
    }
}

/// Wall time fastest and median, CPU time median, of the repetitions.
fn summary(mut walls: Vec<f64>, mut cpus: Vec<f64>) -> String {
    walls.sort_by(f64::total_cmp);
    cpus.sort_by(f64::total_cmp);
    format!(
        "CPU median {:.1} ms, wall fastest {:.1} ms, median {:.1} ms",
        cpus[cpus.len() / 2],
        walls[0],
        walls[walls.len() / 2]
    )
}

const REPETITIONS: usize = 5;

/// Nanoseconds this thread has spent on a CPU (Linux `/proc/thread-self/schedstat`), which
/// other processes on a shared machine do not inflate; 0 where the file is missing.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next().and_then(|field| field.parse().ok()))
        .unwrap_or(0)
}

/// Runs `step`, returning its result, wall milliseconds and CPU milliseconds.
fn timed<T>(step: impl FnOnce() -> T) -> (T, f64, f64) {
    let (start, cpu_start) = (Instant::now(), thread_cpu_ns());
    let result = step();
    let cpu = (thread_cpu_ns().saturating_sub(cpu_start)) as f64 / 1e6;
    (result, start.elapsed().as_secs_f64() * 1e3, cpu)
}
