//! Cost of the expectation-gap timeline for one customer, at the karte's window (50 contacts and
//! 100 notes) and at the API endpoint's (1,000 of each): builds a deterministic history, then
//! computes the timeline repeatedly and prints the mean and p99 per customer.
//!
//!     cargo run --release -p kimochi-analytics --example timeline_bench

use std::time::Instant;

use kimochi_analytics::timeline::{Event, Source, timeline};
use kimochi_domain::{KimochiKind, KimochiTag, Polarity};
use time::{Duration, OffsetDateTime};

fn history(contacts: i64, notes: i64) -> Vec<Event> {
    let start = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
    let tags = [
        (Polarity::Positive, KimochiTag::Satisfaction),
        (Polarity::Negative, KimochiTag::Dissatisfaction),
        (Polarity::Neutral, KimochiTag::Expectation),
        (Polarity::Mixed, KimochiTag::Gap),
        (Polarity::Negative, KimochiTag::ChurnIntent),
    ];
    let mut events: Vec<Event> = (0..contacts)
        .map(|i| {
            let (polarity, tag) = tags[(i * 7 % 5) as usize];
            Event {
                at: start + Duration::hours(i * 37),
                source: Source::Contact(i),
                text: "効果が感じられず、値段も高くて不満です".to_owned(),
                polarity: Some(polarity),
                tags: vec![tag],
                note_kind: None,
            }
        })
        .collect();
    events.extend((0..notes).map(|i| Event {
        at: start + Duration::hours(i * 23),
        source: Source::Note(i),
        text: "使用感のメモ".to_owned(),
        polarity: None,
        tags: Vec::new(),
        note_kind: Some(KimochiKind::ALL[(i % 7) as usize]),
    }));
    events
}

fn main() {
    let as_of = OffsetDateTime::UNIX_EPOCH + Duration::days(21_000);
    for (label, contacts, notes, rounds) in [("karte window", 50, 100, 20_000), ("API window", 1000, 1000, 200)] {
        let events = history(contacts, notes);
        let mut times = Vec::with_capacity(rounds);
        let mut checksum = 0.0;
        for _ in 0..rounds {
            let started = Instant::now();
            let t = timeline(&events, None, as_of);
            times.push(started.elapsed().as_secs_f64() * 1e6);
            checksum += t.gap_score.unwrap_or(0.0);
        }
        times.sort_by(f64::total_cmp);
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
        println!(
            "{label}: {} events, mean {mean:.1} µs, p99 {p99:.1} µs per customer (checksum {checksum:.3})",
            contacts + notes
        );
    }
}
