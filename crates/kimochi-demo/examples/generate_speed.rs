//! Times the generator on one core: `cargo run --release -p kimochi-demo --example generate_speed -- 100000`.
//! A benchmark, not a test: it prints, it asserts nothing.

use std::time::Instant;

use kimochi_demo::{DemoConfig, DemoIds, demo_products, generate_chunk};
use kimochi_domain::{ProductId, UserId};

fn main() {
    let customers: u64 = std::env::args().nth(1).and_then(|arg| arg.parse().ok()).unwrap_or(100_000);
    let config = DemoConfig::new(customers, 1, time::macros::date!(2025 - 04 - 01));
    let ids = DemoIds {
        products: (1..=demo_products().len() as i64).map(ProductId).collect(),
        agents: (1..=24).map(UserId).collect(),
        ..DemoIds::default()
    };
    let started = Instant::now();
    let mut orders = 0;
    let mut contacts = 0;
    let mut first = 0;
    while first < customers {
        let count = (customers - first).min(10_000);
        let (chunk, _) = generate_chunk(&config, &ids, first, count);
        orders += chunk.orders.len();
        contacts += chunk.contacts.len();
        first += count;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{customers} customers, {orders} orders, {contacts} contacts in {seconds:.2} s ({:.0} customers/s)",
        customers as f64 / seconds
    );
}
