//! `kimochi text analyze`: the text engine on standard input, one JSON line per input line.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::Context;
use kimochi_text::Analyzer;

use crate::cli::TextCommand;

pub fn run(command: TextCommand) -> anyhow::Result<ExitCode> {
    let TextCommand::Analyze { lexicon } = command;
    let analyzer = match &lexicon {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            Analyzer::with_tenant_lexicon(&path.display().to_string(), &text)?
        }
        None => Analyzer::builtin()?,
    };
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.split(b'\n') {
        let mut line = line.context("reading standard input")?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let result = kimochi_text::analyze_line_bytes(&analyzer, &line);
        serde_json::to_writer(&mut out, &result).context("writing the result")?;
        out.write_all(b"\n").context("writing the result")?;
    }
    out.flush().context("writing the result")?;
    Ok(ExitCode::SUCCESS)
}
