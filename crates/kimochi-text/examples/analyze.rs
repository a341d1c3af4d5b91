//! Reads UTF-8 lines on stdin and prints one JSON object per line — what `kimochi text analyze`
//! will print. With `--tsv`, reads the dev-set format (`id, split, polarity, kimochi, text`) and
//! analyses the text column. With `--bench`, prints only the throughput.

use std::io::{BufRead, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let tsv = args.iter().any(|a| a == "--tsv");
    let bench = args.iter().any(|a| a == "--bench");
    let analyzer = kimochi_text::Analyzer::builtin()?;
    let mut lines = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if tsv {
            if line.starts_with('#') {
                continue;
            }
            if let Some(text) = line.split('\t').nth(4) {
                lines.push(text.to_owned());
            }
        } else {
            lines.push(line);
        }
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if bench {
        // Repeat the input until a few seconds' worth of work, on this one thread.
        let started = std::time::Instant::now();
        let cpu_started = thread_cpu_seconds();
        let mut count = 0usize;
        let mut scratch = kimochi_text::Scratch::default();
        while started.elapsed().as_secs_f64() < 3.0 {
            for line in &lines {
                std::hint::black_box(analyzer.analyze_with(line, &mut scratch));
                count += 1;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let cpu = thread_cpu_seconds().zip(cpu_started).map_or(seconds, |(end, start)| end - start);
        writeln!(
            out,
            "{{\"utterances\":{count},\"seconds\":{seconds:.3},\"cpu_seconds\":{cpu:.3},\"per_cpu_second\":{:.0}}}",
            count as f64 / cpu
        )?;
        return Ok(());
    }
    for line in &lines {
        let result = kimochi_text::analyze_line(&analyzer, line);
        writeln!(out, "{}", serde_json::to_string(&result)?)?;
    }
    Ok(())
}

/// CPU time of this thread (Linux), so figures hold on a machine shared with other work.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse::<f64>().ok().map(|ns| ns / 1e9)
}
