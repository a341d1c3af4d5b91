//! `kimochi rfm` and `kimochi clv`: the analyst's commands on plain transactions files, no
//! database needed.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use kimochi_analytics::clv::{
    BgNbdParams, DiscountedValueConfig, FitConfig, FitReport, GammaGammaParams, ParetoNbdParams, RfmSummary,
    Transaction, customer_lifetime_value, fit_bg_nbd, fit_gamma_gamma, fit_pareto_nbd, summarize_transactions,
};
use kimochi_analytics::rfm::{RfmConfig, RfmInput, TieRule, rfm_scores};
use kimochi_domain::datetime::parse_date;
use kimochi_io::{Encoding, TransactionColumns, TransactionRow};

use crate::cli::{ClvCommand, ClvModelArg, EncodingArg, RfmArgs, TransactionsArgs};

/// Reads and validates the transactions; `None` (after reporting every bad row) when the file
/// has bad rows and `--skip-invalid` was not given.
fn read_transactions(input: &TransactionsArgs) -> anyhow::Result<Option<Vec<TransactionRow>>> {
    let file = input.transactions.display().to_string();
    let bytes = std::fs::read(&input.transactions).with_context(|| format!("reading {file}"))?;
    let encoding = match input.encoding {
        EncodingArg::Auto => Encoding::Auto,
        EncodingArg::Utf8 => Encoding::Utf8,
        EncodingArg::ShiftJis => Encoding::ShiftJis,
    };
    let text = kimochi_io::decode(&bytes, encoding).map_err(|e| anyhow::anyhow!("{file}: {e}"))?.text;
    let columns = TransactionColumns {
        customer: input.customer_column.clone(),
        date: input.date_column.clone(),
        amount: input.amount_column.clone(),
    };
    let parsed = kimochi_io::parse_transactions(&text, &columns).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    for problem in &parsed.problems {
        eprintln!("{file}:{}: column {}: {} (value {:?})", problem.line, problem.column, problem.reason, problem.value);
    }
    if !parsed.problems.is_empty() && !input.skip_invalid {
        eprintln!(
            "{file}: {} bad rows; nothing was computed (fix them, or pass --skip-invalid)",
            parsed.problems.len()
        );
        return Ok(None);
    }
    Ok(Some(parsed.rows.into_iter().map(|line| line.record).collect()))
}

fn output(path: Option<&std::path::Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

pub fn rfm(args: RfmArgs) -> anyhow::Result<ExitCode> {
    let as_of = parse_date("as_of", &args.as_of).map_err(|e| anyhow::anyhow!("--as-of: {e}"))?;
    let Some(transactions) = read_transactions(&args.input)? else { return Ok(ExitCode::FAILURE) };
    // Purchases on one day are one purchase, as in the CLV summary.
    let mut days: BTreeMap<&str, BTreeMap<time::Date, f64>> = BTreeMap::new();
    for transaction in transactions.iter().filter(|t| t.date <= as_of) {
        *days.entry(&transaction.customer).or_default().entry(transaction.date).or_default() += transaction.amount;
    }
    let inputs: Vec<RfmInput<&str>> = days
        .iter()
        .filter_map(|(customer, purchases)| {
            let (last, _) = purchases.last_key_value()?;
            Some(RfmInput {
                customer: *customer,
                last_purchase: *last,
                frequency: purchases.len() as u64,
                monetary: purchases.values().sum::<f64>().round() as i64,
            })
        })
        .collect();
    let config = RfmConfig { tie_rule: if args.keep_ties { TieRule::KeepTiesTogether } else { TieRule::SplitByRank } };
    let scores = rfm_scores(&inputs, as_of, &config).context("scoring")?;
    let mut out = output(args.out.as_deref())?;
    writeln!(out, "customer_id,recency_days,frequency,monetary,r,f,m,cell")?;
    for score in &scores {
        let cell = score.cell;
        writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            csv_field(score.customer),
            score.recency_days,
            score.frequency,
            score.monetary,
            cell.r(),
            cell.f(),
            cell.m(),
            cell
        )?;
    }
    out.flush()?;
    let filled = kimochi_analytics::rfm::RfmReport::from_scores(&scores).filled_cells();
    eprintln!("{} customers scored; {filled} of 125 cells filled", scores.len());
    Ok(ExitCode::SUCCESS)
}

/// Quotes a CSV field when it needs it.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

fn summaries(
    transactions: &[TransactionRow],
    calibration_end: time::Date,
) -> anyhow::Result<BTreeMap<String, RfmSummary>> {
    let transactions: Vec<Transaction<String>> = transactions
        .iter()
        .map(|t| Transaction { customer: t.customer.clone(), date: t.date, amount: t.amount })
        .collect();
    let summaries = summarize_transactions(&transactions, calibration_end).context("summarising")?;
    if summaries.is_empty() {
        bail!("no purchases on or before the calibration end");
    }
    Ok(summaries)
}

/// The fit as JSON, with the parameter names of the papers (and of `lifetimes`).
fn report_json<P>(model: &str, report: &FitReport<P>, params: fn(&P) -> serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "model": model,
        "params": params(&report.params),
        "log_likelihood": report.log_likelihood,
        "n_customers": report.n_customers,
        "standard_errors": report.standard_errors.as_ref().map(params),
        "iterations": report.iterations,
        "converged": report.converged,
    })
}

fn bg_nbd_json(p: &BgNbdParams) -> serde_json::Value {
    serde_json::json!({ "r": p.r, "alpha": p.alpha, "a": p.a, "b": p.b })
}

fn pareto_nbd_json(p: &ParetoNbdParams) -> serde_json::Value {
    serde_json::json!({ "r": p.r, "alpha": p.alpha, "s": p.s, "beta": p.beta })
}

fn gamma_gamma_json(p: &GammaGammaParams) -> serde_json::Value {
    serde_json::json!({ "p": p.p, "q": p.q, "gamma": p.gamma })
}

pub fn clv(command: ClvCommand) -> anyhow::Result<ExitCode> {
    match command {
        ClvCommand::Fit { input, calibration_end, model, json } => {
            let end = parse_date("calibration_end", &calibration_end)
                .map_err(|e| anyhow::anyhow!("--calibration-end: {e}"))?;
            let Some(transactions) = read_transactions(&input)? else { return Ok(ExitCode::FAILURE) };
            let summaries: Vec<RfmSummary> = summaries(&transactions, end)?.into_values().collect();
            let config = FitConfig::default();
            let value = match model {
                ClvModelArg::Bgnbd => {
                    report_json("bgnbd", &fit_bg_nbd(&summaries, &config).context("fitting BG/NBD")?, bg_nbd_json)
                }
                ClvModelArg::Pnbd => report_json(
                    "pnbd",
                    &fit_pareto_nbd(&summaries, &config).context("fitting Pareto/NBD")?,
                    pareto_nbd_json,
                ),
                ClvModelArg::Gg => report_json(
                    "gg",
                    &fit_gamma_gamma(&summaries, &config).context("fitting Gamma-Gamma")?,
                    gamma_gamma_json,
                ),
            };
            if json {
                println!("{value}");
            } else {
                println!("{}", serde_json::to_string_pretty(&value)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        ClvCommand::Predict { input, calibration_end, horizon_weeks, monthly_discount_rate, out } => {
            let end = parse_date("calibration_end", &calibration_end)
                .map_err(|e| anyhow::anyhow!("--calibration-end: {e}"))?;
            if !(horizon_weeks.is_finite() && horizon_weeks > 0.0) {
                bail!("--horizon-weeks must be a positive number of weeks");
            }
            let Some(transactions) = read_transactions(&input)? else { return Ok(ExitCode::FAILURE) };
            let summaries = summaries(&transactions, end)?;
            let list: Vec<RfmSummary> = summaries.values().copied().collect();
            let config = FitConfig::default();
            let bg = fit_bg_nbd(&list, &config).context("fitting BG/NBD")?.params;
            let gg = fit_gamma_gamma(&list, &config).context("fitting Gamma-Gamma")?.params;
            // Months of about 4.345 weeks, stretched so that the periods cover the horizon exactly.
            let periods = (horizon_weeks / 4.345).round().max(1.0) as u32;
            let value_config = DiscountedValueConfig {
                periods,
                period_length_weeks: horizon_weeks / f64::from(periods),
                discount_rate: monthly_discount_rate,
            };
            let mut out = output(out.as_deref())?;
            writeln!(out, "customer_id,frequency,recency,T,p_alive,expected_purchases,expected_spend,clv")?;
            for (customer, summary) in &summaries {
                let expected =
                    bg.conditional_expected_purchases(summary, horizon_weeks).context("predicting purchases")?;
                let spend = gg.conditional_expected_average_profit(summary).context("predicting spend")?;
                let clv = customer_lifetime_value(&bg, &gg, summary, &value_config).context("computing CLV")?;
                writeln!(
                    out,
                    "{},{},{:.4},{:.4},{:.6},{:.6},{:.4},{:.4}",
                    csv_field(customer),
                    summary.frequency,
                    summary.recency,
                    summary.t,
                    bg.probability_alive(summary),
                    expected,
                    spend,
                    clv
                )?;
            }
            out.flush()?;
            eprintln!("{} customers predicted over {horizon_weeks} weeks", summaries.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}
