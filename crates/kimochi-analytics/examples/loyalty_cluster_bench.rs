//! Times the loyalty matrix, the positive-dormant list and the customer clustering on a
//! deterministic synthetic population, and prints what they found.
//!
//! ```text
//! cargo run --release -p kimochi-analytics --example loyalty_cluster_bench -- 1000000 1
//! ```
//! Arguments: number of customers (default 1,000,000), the seed (default 1) and how many times
//! each step is repeated (default 5). Printed per step: the fastest and the median wall time,
//! and the median CPU time of the thread, which is what to compare on a shared machine (the
//! steps run on one thread). The population
//! is a mixture, not planted clusters: one-time buyers, repeaters, subscribers and dormant
//! customers, with heavy-tailed spend and, for most, nothing heard.

use std::time::Instant;

use kimochi_analytics::cluster::{ClusterConfig, cluster_customers};
use kimochi_analytics::features::{CustomerFeatures, KimochiSignals};
use kimochi_analytics::loyalty::{LoyaltyConfig, LoyaltyQuadrant, NearLoyalKind, loyalty_report, positive_dormants};
use kimochi_analytics::rfm::RfmCell;
use kimochi_analytics::stage::Stage;
use kimochi_domain::CustomerId;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n)) as u32
    }

    /// Poisson-ish small count with the given mean (inversion of the exponential gaps).
    fn count(&mut self, mean: f64) -> u32 {
        let mut total = 0.0;
        let mut n = 0;
        loop {
            total += -(1.0 - self.unit()).ln();
            if total > mean || n >= 20 {
                return n;
            }
            n += 1;
        }
    }
}

fn synthetic(n: usize, seed: u64) -> Vec<CustomerFeatures> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|index| {
            let kind = rng.below(100);
            let (stage, purchase_days, recency) = match kind {
                0..=9 => (Stage::NotPurchased, 0, None),
                10..=39 => (Stage::MainProduct, 1, Some(rng.below(300) as i64)),
                40..=59 => (Stage::Repeater, 2 + rng.below(10), Some(rng.below(120) as i64)),
                60..=69 => (Stage::Subscription, 3 + rng.below(20), Some(rng.below(40) as i64)),
                70..=94 => (Stage::Dormant, 1 + rng.below(4), Some(365 + rng.below(700) as i64)),
                _ => (Stage::Trial, 1, Some(rng.below(200) as i64)),
            };
            let purchased = purchase_days > 0;
            let r = recency.map_or(1, |days| 5 - (days.min(799) / 160) as u8);
            let f = purchase_days.clamp(1, 5) as u8;
            let unit_price = 2_000.0 * (1.0 + 4.0 * rng.unit() * rng.unit());
            let heard_anything = rng.unit() < 0.35;
            let warmth = rng.unit();
            let kimochi = if heard_anything {
                KimochiSignals {
                    positive_contacts: rng.count(2.0 * warmth),
                    negative_contacts: rng.count(1.5 * (1.0 - warmth)),
                    advocacy: rng.count(0.6 * warmth * warmth),
                    complaints: rng.count(0.4 * (1.0 - warmth)),
                    gap_notes: rng.count(0.3 * (1.0 - warmth)),
                    churn_intent: rng.count(0.1),
                    ..KimochiSignals::default()
                }
            } else {
                KimochiSignals::default()
            };
            let no_contact = if rng.unit() < 0.2 { rng.below(6) } else { 0 };
            CustomerFeatures {
                customer: CustomerId(index as i64 + 1),
                stage,
                rfm: if purchased { RfmCell::new(r, f, f) } else { None },
                recency_days: recency,
                purchase_days,
                monetary: (f64::from(purchase_days) * unit_price) as i64,
                tenure_days: recency.map(|days| days + i64::from(rng.below(900))),
                p_alive: purchased
                    .then(|| if stage == Stage::Dormant { 0.3 * rng.unit() } else { 0.4 + 0.6 * rng.unit() }),
                expected_purchases: None,
                clv: None,
                active_subscriber: stage == Stage::Subscription,
                subscription_orders: 0,
                lapsed_subscriber: false,
                overdue_days: None,
                consecutive_no_contact: no_contact,
                outbound_attempts: no_contact,
                outbound_reached: 0,
                ad_medium: None,
                kimochi,
            }
        })
        .collect()
}

/// Time this thread has spent on a CPU, in seconds (Linux: `/proc/thread-self/schedstat`), or
/// NaN elsewhere. On a shared machine it is steadier than wall time: waiting for a core while
/// other processes run does not count.
fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |nanoseconds| nanoseconds / 1e9)
}

/// Runs `step` `repeat` times: the last result, the fastest wall time, the median wall time and
/// the median CPU time in seconds, and whether every run gave the same result.
fn timed<T: PartialEq>(repeat: usize, mut step: impl FnMut() -> T) -> (T, [f64; 3], bool) {
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    let mut results: Vec<T> = Vec::new();
    for _ in 0..repeat.max(1) {
        let cpu_started = thread_cpu_seconds();
        let started = Instant::now();
        let result = step();
        wall.push(started.elapsed().as_secs_f64());
        cpu.push(thread_cpu_seconds() - cpu_started);
        results.push(result);
    }
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    let same = results.windows(2).all(|pair| pair[0] == pair[1]);
    (results.swap_remove(results.len() - 1), [wall[0], wall[wall.len() / 2], cpu[cpu.len() / 2]], same)
}

fn seconds([fastest, median, cpu]: [f64; 3]) -> String {
    format!("wall {fastest:.3} s fastest, {median:.3} s median; CPU {cpu:.3} s median")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|arg| arg.parse().ok()).unwrap_or(1_000_000);
    let seed: u64 = args.next().and_then(|arg| arg.parse().ok()).unwrap_or(1);
    let repeat: usize = args.next().and_then(|arg| arg.parse().ok()).unwrap_or(5);
    let customers = synthetic(n, seed);
    println!("customers: {n}, seed {seed}, {repeat} repetitions");

    let config = LoyaltyConfig::default();
    let (report, times, same) = timed(repeat, || loyalty_report(&customers, &config));
    let report = match report {
        Ok(report) => report,
        Err(error) => return eprintln!("loyalty: {error}"),
    };
    println!("loyalty matrix: {}, identical results: {same}", seconds(times));
    for quadrant in LoyaltyQuadrant::ALL {
        println!("  {:<10} {:>9}  {}", quadrant.code(), report.matrix.count(quadrant), quadrant.label_ja());
    }
    for kind in NearLoyalKind::ALL {
        println!("  near-loyal {:<22} {:>9}", kind.code(), report.matrix.near_loyal_count(kind));
    }

    let (dormants, times, same) = timed(repeat, || positive_dormants(&customers, &config));
    let dormants = match dormants {
        Ok(dormants) => dormants,
        Err(error) => return eprintln!("positive dormants: {error}"),
    };
    println!("positive dormants: {}, identical results: {same}; {} customers", seconds(times), dormants.len());
    if let Some(first) = dormants.first() {
        println!("  best: {} score {:.2} — {}", first.customer, first.score, first.why);
    }

    let cluster_config = ClusterConfig { seed, ..ClusterConfig::default() };
    let (clustering, times, same) = timed(repeat, || cluster_customers(&customers, &cluster_config));
    let clustering = match clustering {
        Ok(clustering) => clustering,
        Err(error) => return eprintln!("clustering: {error}"),
    };
    println!(
        "clustering: {}, identical results: {same}; k = {} (fit sample {}, silhouette sample {})",
        seconds(times),
        clustering.k,
        clustering.fit_sample_size,
        clustering.silhouette_sample_size
    );
    for score in &clustering.k_scores {
        println!("  k = {}: silhouette {:.3}", score.k, score.silhouette);
    }
    for cluster in &clustering.clusters {
        println!(
            "  #{} {:>8} ({:>4.1}%) {} — {}",
            cluster.id,
            cluster.size,
            cluster.share * 100.0,
            cluster.name_ja,
            cluster.description_ja
        );
    }
}
