//! Prints MeCab-style output (`surface\tpos,pos,pos,pos,ctype,cform,base`) for each stdin line,
//! or with `--bench` only counts tokens and characters (for `bench/text/tokenize.py`).

use std::io::{BufRead, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bench = std::env::args().any(|a| a == "--bench");
    let dictionary = kimochi_text::Dictionary::embedded()?;
    let mut scratch = kimochi_text::Scratch::default();
    let mut tokens = Vec::new();
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let lines: Vec<String> = stdin.lock().lines().collect::<Result<_, _>>()?;
    let started = std::time::Instant::now();
    let cpu_started = thread_cpu_seconds();
    let (mut token_count, mut char_count) = (0usize, 0usize);
    for line in &lines {
        kimochi_text::tokenize_into(dictionary, line, &mut scratch, &mut tokens);
        token_count += tokens.len();
        char_count += line.chars().count();
        if !bench {
            for t in &tokens {
                let f = t.feature;
                writeln!(
                    out,
                    "{}\t{},{},{}",
                    t.surface(line),
                    f.pos.join(","),
                    f.conjugation_type,
                    f.conjugation_form
                )?;
            }
            writeln!(out, "EOS")?;
        }
    }
    if bench {
        let seconds = started.elapsed().as_secs_f64();
        let cpu = thread_cpu_seconds().zip(cpu_started).map_or(seconds, |(end, start)| end - start);
        writeln!(
            out,
            "{{\"tokens\":{token_count},\"chars\":{char_count},\"seconds\":{seconds},\"cpu_seconds\":{cpu}}}"
        )?;
    }
    Ok(())
}

/// CPU time of this thread (Linux), so figures hold on a machine shared with other work.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse::<f64>().ok().map(|ns| ns / 1e9)
}
