//! Search benchmark (issue 4: "search p99 ≤ 20 ms over 1M VOC documents"): indexes VOC texts
//! from the demo generator into a folder index and times a fixed set of queries.
//!
//! ```sh
//! cargo run --release -p kimochi-search --example search_bench -- [DOCUMENTS] [INDEX_DIR] [THREADS]
//! ```
//!
//! Defaults: 1,000,000 documents, `target/bench/search-index`, 2 indexing threads. The texts are
//! the demo business's (seed 1), tagged by the text engine (not timed); an existing index of the
//! same size in the folder is reused, so the queries can be rerun without indexing again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::time::Instant;

use kimochi_demo::{DemoConfig, DemoIds};
use kimochi_domain::*;
use kimochi_search::{IndexConfig, SearchIndex, SearchQuery, VocQuery};
use time::macros::date;

const TENANT: TenantId = TenantId(1);

/// The query set: words and phrases operators and analysts look for in the demo business's VOC,
/// alone and with the filters the API offers.
fn queries() -> Vec<(&'static str, VocQuery)> {
    let plain =
        |text: &str| VocQuery { search: SearchQuery { text: text.to_owned(), limit: 10 }, ..VocQuery::default() };
    let mut set: Vec<(&'static str, VocQuery)> = [
        "解約",
        "届かない",
        "効果",
        "肌に合わない",
        "返品",
        "定期便 解約",
        "乾燥",
        "テレビ",
        "ありがとう",
        "使い方",
        "美容液",
        "説明書どおりに使っても効果がない",
        "値段が高い",
        "消費者センター",
        "サンプル",
        "ﾃﾚﾋﾞ",
        "肌荒れ",
        "お届け日を変更",
        "もう少し様子を見たい",
        "友達に勧め",
    ]
    .iter()
    .map(|text| (*text, plain(text)))
    .collect();
    let mut by_channel = plain("解約");
    by_channel.channels = vec![Channel::Phone];
    set.push(("解約 channel=phone", by_channel));
    let mut by_kind = plain("効果");
    by_kind.kimochi = vec![KimochiTag::Dissatisfaction, KimochiTag::ChurnIntent];
    set.push(("効果 kimochi=dissatisfaction,churn_intent", by_kind));
    let mut by_period = plain("乾燥");
    by_period.from = Some(time::macros::datetime!(2025-06-01 00:00 +09:00).unix_timestamp());
    by_period.to = Some(time::macros::datetime!(2025-07-01 00:00 +09:00).unix_timestamp());
    set.push(("乾燥 2025-06", by_period));
    set
}

fn demo_contacts(wanted: usize) -> Vec<Contact> {
    let config = DemoConfig::new(u64::MAX / 2, 1, date!(2026 - 11 - 01));
    let ids = DemoIds { products: (1..=8).map(ProductId).collect(), ..DemoIds::default() };
    let tagger = kimochi_text::ContactTagger::shared().unwrap();
    let mut contacts = Vec::with_capacity(wanted);
    let mut first = 0;
    while contacts.len() < wanted {
        let (chunk, _) = kimochi_demo::generate_chunk(&config, &ids, first, 1_000);
        for bulk in chunk.contacts {
            if bulk.text.trim().is_empty() || contacts.len() == wanted {
                continue;
            }
            let id = contacts.len() as i64 + 1;
            contacts.push(Contact {
                id: ContactId(id),
                external_id: None,
                customer_id: CustomerId((first + bulk.customer as u64) as i64 + 1),
                channel: bulk.channel,
                direction: bulk.direction,
                started_at: bulk.started_at,
                ended_at: bulk.ended_at,
                agent_id: None,
                reason: bulk.reason,
                outcome: bulk.outcome,
                tags: tagger.contact_tags(&bulk.text),
                text: bulk.text,
                thread_id: ContactId(id),
            });
        }
        first += 1_000;
    }
    contacts
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let documents: usize = args.next().map_or(1_000_000, |a| a.parse().expect("DOCUMENTS is a number"));
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "target/bench/search-index".to_owned()));
    let threads: usize = args.next().map_or(2, |a| a.parse().expect("THREADS is a number"));

    let index = SearchIndex::open(&dir, IndexConfig { threads }).unwrap();
    let present = index.count(TENANT).unwrap();
    if present != documents {
        eprintln!("generating and tagging {documents} VOC texts from the demo business…");
        let started = Instant::now();
        let contacts = demo_contacts(documents);
        let bytes: usize = contacts.iter().map(|c| c.text.len()).sum();
        eprintln!(
            "  {:.1} s; {:.1} MB of text, {:.0} bytes a text",
            started.elapsed().as_secs_f64(),
            bytes as f64 / 1e6,
            bytes as f64 / documents as f64
        );
        index.delete_tenant(TENANT).unwrap();
        index.commit().unwrap();
        let started = Instant::now();
        for batch in contacts.chunks(10_000) {
            index.put_contacts(TENANT, batch).unwrap();
        }
        index.commit().unwrap();
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "indexed {documents} VOC documents in {seconds:.1} s: {:.0} documents/s ({threads} threads, commit included)",
            documents as f64 / seconds
        );
    } else {
        println!("reusing the index of {present} documents in {}", dir.display());
    }
    let size: u64 = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum();
    println!("index size: {:.0} MB", size as f64 / 1e6);

    let queries = queries();
    let mask = |text: &str| text.to_owned();
    // Warm-up: one round (the first touches the memory-mapped files).
    for (_, query) in &queries {
        index.search_voc(TENANT, query, &mask).unwrap();
    }
    let rounds = 40;
    let mut all = Vec::new();
    println!("| query | hits | p50 ms | max ms |\n| --- | ---: | ---: | ---: |");
    for (name, query) in &queries {
        let mut times = Vec::with_capacity(rounds);
        let mut hits = 0;
        for _ in 0..rounds {
            let started = Instant::now();
            hits = index.search_voc(TENANT, query, &mask).unwrap().len();
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
        all.extend_from_slice(&times);
        times.sort_by(f64::total_cmp);
        println!("| {name} | {hits} | {:.2} | {:.2} |", percentile(&times, 0.5), times[times.len() - 1]);
    }
    all.sort_by(f64::total_cmp);
    println!(
        "all {} searches (top 10 with snippets, one thread): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        all.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.9),
        percentile(&all, 0.99),
        all[all.len() - 1]
    );
}
