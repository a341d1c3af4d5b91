//! `kimochi rfm` and `kimochi clv`: the analyst's commands on plain transactions files, no
//! database needed.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use kimochi_analytics::clv::{
    BgNbdParams, DiscountedValueConfig, FitConfig, FitReport, GammaGammaParams, ParetoNbdParams, RfmSummary,
    customer_lifetime_value, fit_bg_nbd, fit_gamma_gamma, fit_pareto_nbd, summarize_purchase_days,
};
use kimochi_analytics::rfm::{RfmConfig, RfmInput, TieRule, rfm_scores};
use kimochi_domain::datetime::parse_date;
use kimochi_io::{Encoding, TransactionColumns};

use crate::cli::{ClvCommand, ClvInputArgs, ClvModelArg, EncodingArg, RfmArgs, TransactionsFormat};

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
    let bytes = read_file(&args.input.transactions)?;
    let Some(table) = read_purchases(&args.input.transactions, &args.input.format, &bytes, as_of)? else {
        return Ok(ExitCode::FAILURE);
    };
    // Purchases on one day are one purchase, as in the CLV summary.
    let customers = table.customers(threads(&args.input.format), |_, days| {
        let &(last, _) = days.last()?;
        let monetary = days.iter().map(|&(_, amount)| amount).sum::<f64>().round() as i64;
        Some((last, days.len() as u64, monetary))
    });
    drop(table);
    // In customer order, as it was when the days were kept in an ordered map.
    let inputs: Vec<RfmInput<&str>> = customers
        .iter()
        .map(|&(ref customer, (last_purchase, frequency, monetary))| RfmInput {
            customer: customer.as_str(),
            last_purchase,
            frequency,
            monetary,
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

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// FxHash (rustc's hasher) with a final mix: several times faster than the default SipHash
/// on short customer ids. SipHash's protection against crafted collisions is not needed for an analyst's own
/// file on their own machine.
#[derive(Clone, Copy, Default)]
struct FxBuildHasher;

struct FxHasher(u64);

impl std::hash::BuildHasher for FxBuildHasher {
    type Hasher = FxHasher;
    fn build_hasher(&self) -> FxHasher {
        FxHasher(0)
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let mut word = [0; 8];
        word[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.add(u64::from_le_bytes(word));
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        // The multiply only carries low bits upwards, and ids such as C0000001 differ in their
        // last bytes (the high bits of the little-endian word): this final mix (MurmurHash3's)
        // makes every bit of the hash depend on every byte.
        let mut hash = self.0;
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        hash ^ (hash >> 33)
    }
}

/// Partitions of the purchase rows, by a hash of the customer id: every customer's rows fall
/// in one partition, and one partition's customers fit in cache while they are grouped.
const PARTITIONS: usize = 64;

/// One purchase row. The customer is its id's bytes packed into `key` (ids of up to 16 bytes,
/// nearly all), or for a longer id an index into [`PurchaseTable::long_ids`] (`long`). Keeping
/// the id inside the row means grouping never goes back to the id's place in the file, which
/// is far larger than the cache: with the ids behind pointers, cache misses took most of the
/// time.
#[derive(Clone, Copy)]
struct Purchase {
    key: u128,
    amount: f64,
    date: time::Date,
    long: bool,
}

/// The purchases of a transactions file up to a date, read without one allocation per row.
struct PurchaseTable<'text> {
    partitions: Vec<Vec<Purchase>>,
    long_index: HashMap<Cow<'text, str>, u32, FxBuildHasher>,
    long_ids: Vec<Cow<'text, str>>,
}

impl Default for PurchaseTable<'_> {
    fn default() -> Self {
        Self { partitions: vec![Vec::new(); PARTITIONS], long_index: HashMap::default(), long_ids: Vec::new() }
    }
}

/// The id's bytes, zero-padded, big-endian so that the numbers sort like the ids; `None` for
/// ids longer than 16 bytes, and for ids with a NUL byte, which the padding would make
/// ambiguous.
fn packed_id(customer: &str) -> Option<u128> {
    let bytes = customer.as_bytes();
    if bytes.len() > 16 || bytes.contains(&0) {
        return None;
    }
    let mut word = [0; 16];
    word[..bytes.len()].copy_from_slice(bytes);
    Some(u128::from_be_bytes(word))
}

/// The first 16 bytes of any id, packed like [`packed_id`]: a sort key that decides nearly every
/// comparison without following the id's pointer.
fn id_prefix(customer: &str) -> u128 {
    let bytes = &customer.as_bytes()[..customer.len().min(16)];
    let mut word = [0; 16];
    word[..bytes.len()].copy_from_slice(bytes);
    u128::from_be_bytes(word)
}

fn partition_of(customer: &str) -> usize {
    use std::hash::BuildHasher;
    (FxBuildHasher.hash_one(customer) >> 58) as usize % PARTITIONS
}

impl<'text> PurchaseTable<'text> {
    fn push(&mut self, customer: Cow<'text, str>, date: time::Date, amount: f64) {
        let partition = partition_of(&customer);
        let (key, long) = match packed_id(&customer) {
            Some(packed) => (packed, false),
            None => (u128::from(self.intern_long(customer)), true),
        };
        self.partitions[partition].push(Purchase { key, amount, date, long });
    }

    fn intern_long(&mut self, customer: Cow<'text, str>) -> u32 {
        if let Some(&index) = self.long_index.get(customer.as_ref()) {
            return index;
        }
        let index = self.long_ids.len() as u32;
        self.long_ids.push(customer.clone());
        self.long_index.insert(customer, index);
        index
    }

    /// Appends `other`'s purchases after this table's, so each partition stays in file order.
    fn append(&mut self, other: PurchaseTable<'text>) {
        let remap: Vec<u32> = other.long_ids.into_iter().map(|customer| self.intern_long(customer)).collect();
        for (mine, theirs) in self.partitions.iter_mut().zip(other.partitions) {
            mine.extend(theirs.into_iter().map(|purchase| {
                let key = if purchase.long { u128::from(remap[purchase.key as usize]) } else { purchase.key };
                Purchase { key, ..purchase }
            }));
        }
    }

    fn id(&self, purchase: &Purchase) -> String {
        if purchase.long {
            return self.long_ids[purchase.key as usize].to_string();
        }
        let bytes = purchase.key.to_be_bytes();
        let length = bytes.iter().rposition(|&b| b != 0).map_or(0, |last| last + 1);
        // Packed from a &str, so the bytes are UTF-8; the lossy conversion never replaces.
        String::from_utf8_lossy(&bytes[..length]).into_owned()
    }

    /// Calls `each` with every customer and their purchase days in date order, each day with
    /// the sum of its amounts in file order: the same sums, in the same order, as the ordered
    /// maps of [`kimochi_analytics::clv::summarize_transactions`], so the rounding is the same.
    /// The partitions are grouped on `threads` threads; the results come back sorted by id.
    fn customers<T: Send>(
        &self,
        threads: usize,
        each: impl Fn(&str, &[(time::Date, f64)]) -> Option<T> + Sync,
    ) -> Vec<(String, T)> {
        let next_partition = std::sync::atomic::AtomicUsize::new(0);
        let mut grouped: Vec<(u128, String, T)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads.clamp(1, PARTITIONS))
                .map(|_| {
                    scope.spawn(|| {
                        let mut results = Vec::new();
                        loop {
                            let partition = next_partition.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(rows) = self.partitions.get(partition) else { break };
                            self.group_partition(rows, &each, &mut results);
                        }
                        results
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect()
        });
        grouped.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        grouped.into_iter().map(|(_, id, value)| (id, value)).collect()
    }

    fn group_partition<T>(
        &self,
        rows: &[Purchase],
        each: &impl Fn(&str, &[(time::Date, f64)]) -> Option<T>,
        results: &mut Vec<(u128, String, T)>,
    ) {
        // Number the partition's customers in order of first appearance.
        let mut index: HashMap<(u128, bool), u32, FxBuildHasher> = HashMap::default();
        let mut first_rows: Vec<usize> = Vec::new();
        let customer_of: Vec<u32> = rows
            .iter()
            .enumerate()
            .map(|(row, purchase)| {
                let next = first_rows.len() as u32;
                let customer = *index.entry((purchase.key, purchase.long)).or_insert(next);
                if customer == next {
                    first_rows.push(row);
                }
                customer
            })
            .collect();
        // A stable counting sort by customer keeps each customer's rows in file order.
        let mut starts = vec![0_usize; first_rows.len() + 1];
        for &customer in &customer_of {
            starts[customer as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        let mut sorted = vec![(time::Date::MIN, 0.0_f64); rows.len()];
        for (purchase, &customer) in rows.iter().zip(&customer_of) {
            let slot = &mut next[customer as usize];
            sorted[*slot] = (purchase.date, purchase.amount);
            *slot += 1;
        }
        let mut days: Vec<(time::Date, f64)> = Vec::new();
        for (customer, &first_row) in first_rows.iter().enumerate() {
            let purchases = &mut sorted[starts[customer]..starts[customer + 1]];
            purchases.sort_by_key(|&(date, _)| date);
            days.clear();
            for &(date, amount) in purchases.iter() {
                match days.last_mut() {
                    Some((last, sum)) if *last == date => *sum += amount,
                    _ => days.push((date, 0.0 + amount)),
                }
            }
            let id = self.id(&rows[first_row]);
            if let Some(value) = each(&id, &days) {
                results.push((id_prefix(&id), id, value));
            }
        }
    }
}

fn threads(input: &TransactionsFormat) -> usize {
    input.threads.map_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()), usize::from)
}

/// Reads the purchases on or before `until`, on `--threads` threads; `None` (after reporting
/// every bad row) when the file has bad rows and `--skip-invalid` was not given.
fn read_purchases<'text>(
    path: &Path,
    input: &TransactionsFormat,
    bytes: &'text [u8],
    until: time::Date,
) -> anyhow::Result<Option<PurchaseTable<'text>>> {
    let file = path.display().to_string();
    // A UTF-8 file is read in place; anything else is decoded into a copy first.
    let text: Cow<'text, str> =
        match (input.encoding, std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))) {
            (EncodingArg::Auto | EncodingArg::Utf8, Ok(text)) => Cow::Borrowed(text),
            (encoding, _) => {
                let encoding = match encoding {
                    EncodingArg::Auto => Encoding::Auto,
                    EncodingArg::Utf8 => Encoding::Utf8,
                    EncodingArg::ShiftJis => Encoding::ShiftJis,
                };
                Cow::Owned(kimochi_io::decode(bytes, encoding).map_err(|e| anyhow::anyhow!("{file}: {e}"))?.text)
            }
        };
    let columns = TransactionColumns {
        customer: input.customer_column.clone(),
        date: input.date_column.clone(),
        amount: input.amount_column.clone(),
    };
    let threads = threads(input);
    let read = |text: &'text str| {
        kimochi_io::transactions::read_transactions(
            text,
            &columns,
            threads,
            PurchaseTable::default,
            |table: &mut PurchaseTable<'text>, _line, transaction| {
                if transaction.date <= until {
                    table.push(transaction.customer, transaction.date, transaction.amount);
                }
            },
        )
        .map_err(|e| anyhow::anyhow!("{file}: {e}"))
    };
    let (tables, problems) = match &text {
        Cow::Borrowed(text) => read(text)?,
        Cow::Owned(decoded) => {
            // A decoded copy does not live as long as the bytes: own every customer id.
            let (tables, problems) = kimochi_io::transactions::read_transactions(
                decoded,
                &columns,
                threads,
                PurchaseTable::default,
                |table: &mut PurchaseTable<'text>, _line, transaction| {
                    if transaction.date <= until {
                        table.push(Cow::Owned(transaction.customer.into_owned()), transaction.date, transaction.amount);
                    }
                },
            )
            .map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
            (tables, problems)
        }
    };
    for problem in &problems {
        eprintln!("{file}:{}: column {}: {} (value {:?})", problem.line, problem.column, problem.reason, problem.value);
    }
    if !problems.is_empty() && !input.skip_invalid {
        eprintln!("{file}: {} bad rows; nothing was computed (fix them, or pass --skip-invalid)", problems.len());
        return Ok(None);
    }
    let mut tables = tables.into_iter();
    let mut table = tables.next().unwrap_or_default();
    for other in tables {
        table.append(other);
    }
    Ok(Some(table))
}

/// Quotes a CSV field when it needs it.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

/// The CLV summary of every customer: from `--summary` as given, or from `--transactions` for
/// every customer with a purchase on or before the calibration end, in customer order; `None`
/// when the file has bad rows (already reported).
fn summaries(input: &ClvInputArgs, calibration_end: Option<&str>) -> anyhow::Result<Option<Vec<(String, RfmSummary)>>> {
    let summaries = match (&input.summary, &input.transactions) {
        (Some(path), _) => {
            let bytes = read_file(path)?;
            let file = path.display().to_string();
            match read_summary(&file, &bytes, input.format.skip_invalid)? {
                Some(summaries) => summaries,
                None => return Ok(None),
            }
        }
        (None, Some(path)) => {
            let text = calibration_end.context("--calibration-end is needed with --transactions")?;
            let end = parse_date("calibration_end", text).map_err(|e| anyhow::anyhow!("--calibration-end: {e}"))?;
            let bytes = read_file(path)?;
            let Some(table) = read_purchases(path, &input.format, &bytes, end)? else { return Ok(None) };
            table.customers(threads(&input.format), |_, days| summarize_purchase_days(days, end))
        }
        (None, None) => bail!("give --transactions FILE or --summary FILE"),
    };
    if summaries.is_empty() {
        bail!("no customers with a purchase to fit on");
    }
    Ok(Some(summaries))
}

/// Reads a summary CSV (customer_id,frequency,recency,T,monetary_value; UTF-8 with or without
/// BOM), checking every row; `None` after reporting the bad rows unless `skip_invalid`.
fn read_summary(file: &str, bytes: &[u8], skip_invalid: bool) -> anyhow::Result<Option<Vec<(String, RfmSummary)>>> {
    const COLUMNS: [&str; 5] = ["customer_id", "frequency", "recency", "T", "monetary_value"];
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .map_err(|e| anyhow::anyhow!("{file}: not UTF-8 ({e})"))?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let headers = reader.headers().with_context(|| format!("{file}: reading the header"))?.clone();
    let mut index = [0_usize; 5];
    for (slot, name) in index.iter_mut().zip(COLUMNS) {
        *slot = headers
            .iter()
            .position(|h| h.trim() == name)
            .with_context(|| format!("{file}:1: no column {name:?} (the columns are {})", COLUMNS.join(",")))?;
    }
    let mut summaries = Vec::new();
    let mut problems = 0_usize;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => bail!("{file}: {e}"),
        }
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(index[i]).unwrap_or("").trim();
        let number = |i: usize| -> Result<f64, String> {
            field(i).parse::<f64>().map_err(|_| format!("column {}: not a number (value {:?})", COLUMNS[i], field(i)))
        };
        let parsed = (|| -> Result<(String, RfmSummary), String> {
            let customer = field(0);
            if customer.is_empty() {
                return Err("column customer_id: empty".to_owned());
            }
            let summary =
                RfmSummary { frequency: number(1)?, recency: number(2)?, t: number(3)?, monetary_value: number(4)? };
            summary.check().map_err(|reason| format!("{reason} (row {customer})"))?;
            Ok((customer.to_owned(), summary))
        })();
        match parsed {
            Ok(row) => summaries.push(row),
            Err(reason) => {
                eprintln!("{file}:{line}: {reason}");
                problems += 1;
            }
        }
    }
    if problems > 0 && !skip_invalid {
        eprintln!("{file}: {problems} bad rows; nothing was computed (fix them, or pass --skip-invalid)");
        return Ok(None);
    }
    Ok(Some(summaries))
}

/// The prediction lines of `clv predict` for these customers.
fn predict_lines(
    customers: &[(String, RfmSummary)],
    bg: &BgNbdParams,
    gg: &GammaGammaParams,
    horizon_weeks: f64,
    value_config: &DiscountedValueConfig,
) -> anyhow::Result<String> {
    use std::fmt::Write as _;
    let mut lines = String::new();
    for (customer, summary) in customers {
        let expected = bg.conditional_expected_purchases(summary, horizon_weeks).context("predicting purchases")?;
        let spend = gg.conditional_expected_average_profit(summary).context("predicting spend")?;
        let clv = customer_lifetime_value(bg, gg, summary, value_config).context("computing CLV")?;
        writeln!(
            lines,
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
    Ok(lines)
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
            let Some(summaries) = summaries(&input, calibration_end.as_deref())? else {
                return Ok(ExitCode::FAILURE);
            };
            let summaries: Vec<RfmSummary> = summaries.into_iter().map(|(_, summary)| summary).collect();
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
            if !(horizon_weeks.is_finite() && horizon_weeks > 0.0) {
                bail!("--horizon-weeks must be a positive number of weeks");
            }
            let Some(summaries) = summaries(&input, calibration_end.as_deref())? else {
                return Ok(ExitCode::FAILURE);
            };
            let list: Vec<RfmSummary> = summaries.iter().map(|(_, summary)| *summary).collect();
            let config = FitConfig::default();
            // The two models are independent: fit them side by side.
            let (bg, gg) = std::thread::scope(|scope| {
                let gg = scope.spawn(|| fit_gamma_gamma(&list, &config));
                let bg = fit_bg_nbd(&list, &config);
                (bg, gg.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            });
            let bg = bg.context("fitting BG/NBD")?.params;
            let gg = gg.context("fitting Gamma-Gamma")?.params;
            // Months of about 4.345 weeks, stretched so that the periods cover the horizon exactly.
            let periods = (horizon_weeks / 4.345).round().max(1.0) as u32;
            let value_config = DiscountedValueConfig {
                periods,
                period_length_weeks: horizon_weeks / f64::from(periods),
                discount_rate: monthly_discount_rate,
            };
            let mut out = output(out.as_deref())?;
            writeln!(out, "customer_id,frequency,recency,T,p_alive,expected_purchases,expected_spend,clv")?;
            // Customers are independent: each thread formats its share of the lines, written in order.
            let threads = threads(&input.format);
            let chunk = summaries.len().div_ceil(threads).max(1);
            let chunks: Vec<anyhow::Result<String>> = std::thread::scope(|scope| {
                let workers: Vec<_> = summaries
                    .chunks(chunk)
                    .map(|customers| scope.spawn(|| predict_lines(customers, &bg, &gg, horizon_weeks, &value_config)))
                    .collect();
                workers
                    .into_iter()
                    .map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                    .collect()
            });
            for lines in chunks {
                out.write_all(lines?.as_bytes())?;
            }
            out.flush()?;
            eprintln!("{} customers predicted over {horizon_weeks} weeks", summaries.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}
