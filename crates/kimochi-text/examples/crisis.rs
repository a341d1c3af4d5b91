//! Crisis-word scan cost per contact: a tenant list of `--words N` phrases (default 1000),
//! scanned over the dev-set utterances given on stdin (TSV), repeated; prints mean and p99.

use std::io::BufRead;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let words: usize =
        args.iter().position(|a| a == "--words").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(1000);
    let texts: Vec<String> = std::io::stdin()
        .lock()
        .lines()
        .map_while(Result::ok)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split('\t').nth(4).map(str::to_owned))
        .collect();
    // A synthetic list: real crisis words plus generated kana/kanji phrases, so the list is as
    // long as asked without shipping one.
    let seeds =
        ["訴える", "死ね", "消費者センター", "弁護士", "炎上", "詐欺", "警察", "ネットに書く", "返金しろ", "責任者"];
    let kana: Vec<char> = ('あ'..='ん').collect();
    let mut list = String::new();
    for i in 0..words {
        if i < seeds.len() {
            list.push_str(seeds[i]);
        } else {
            let (a, b, c) = (kana[i % kana.len()], kana[(i / 7) % kana.len()], kana[(i / 49) % kana.len()]);
            list.push_str(&format!("{a}{b}{c}{}", seeds[i % seeds.len()]));
        }
        list.push_str(if i % 3 == 0 { "\thigh\n" } else { "\tmedium\n" });
    }
    let crisis = kimochi_text::CrisisList::parse("bench", &list)?;
    // What the web edge does when a tenant's words change: the built-in list merged with the
    // tenant's own, compiled into one automaton (then cached until the next change).
    let builtin = kimochi_text::CrisisList::parse("crisis.tsv", kimochi_text::BUILTIN_CRISIS_WORDS)?;
    let tenant_words: Vec<(&str, kimochi_text::Severity)> =
        list.lines().filter_map(|l| l.split_once('\t')).map(|(p, _)| (p, kimochi_text::Severity::High)).collect();
    let started = Instant::now();
    let merged = builtin.with_tenant_words(tenant_words.iter().copied())?;
    let build_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut timings = Vec::new();
    let mut hits = 0usize;
    for _ in 0..20 {
        for text in &texts {
            let started = Instant::now();
            hits += crisis.scan(text).len();
            timings.push(started.elapsed().as_secs_f64() * 1e6);
        }
    }
    timings.sort_by(f64::total_cmp);
    let mean = timings.iter().sum::<f64>() / timings.len() as f64;
    let p99 = timings[timings.len() * 99 / 100];
    println!(
        "{{\"words\":{},\"contacts\":{},\"mean_us\":{mean:.1},\"p99_us\":{p99:.1},\"hits\":{hits},\"tenant_matcher_words\":{},\"tenant_matcher_build_ms\":{build_ms:.2}}}",
        crisis.len(),
        timings.len(),
        merged.len()
    );
    Ok(())
}
