//! Transactions files for the analyst's commands (`kimochi rfm`, `kimochi clv`): one purchase a
//! row, `customer_id,date,amount` by default, the column names configurable because every BI
//! export names them differently. Amounts may have decimals (currencies other than yen).

use std::borrow::Cow;

use csv::ReaderBuilder;
use kimochi_domain::datetime::{PLAUSIBLE_YEARS, parse_date};
use kimochi_domain::import::{Line, RowProblem};
use kimochi_domain::normalize::normalize_text;
use time::{Date, Month};

use crate::error::FileError;
use crate::rows::{Parsed, WHOLE_ROW, record_start};

/// Which columns hold the customer, the date and the amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionColumns {
    pub customer: String,
    pub date: String,
    pub amount: String,
}

impl Default for TransactionColumns {
    fn default() -> Self {
        TransactionColumns { customer: "customer_id".into(), date: "date".into(), amount: "amount".into() }
    }
}

/// One purchase.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionRow {
    pub customer: String,
    pub date: Date,
    pub amount: f64,
}

fn header_key(text: &str) -> String {
    normalize_text(text).to_lowercase()
}

/// One purchase as read, borrowing the customer id from the file's text when it needs no
/// normalising (the common case), so that reading ten million rows does not allocate ten
/// million strings.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionRef<'text> {
    pub customer: Cow<'text, str>,
    pub date: Date,
    pub amount: f64,
}

/// Reads a transactions file. Rows that cannot be read are listed with their line, column,
/// value and reason; the others are returned.
pub fn parse_transactions(text: &str, columns: &TransactionColumns) -> Result<Parsed<TransactionRow>, FileError> {
    let (states, problems) = read_transactions(text, columns, 1, Vec::new, |rows, line, transaction| {
        let TransactionRef { customer, date, amount } = transaction;
        rows.push(Line { line, record: TransactionRow { customer: customer.into_owned(), date, amount } });
    })?;
    let rows = states.into_iter().flatten().collect();
    Ok(Parsed { rows, problems })
}

/// Reads a transactions file like [`parse_transactions`], handing each good row with its line
/// number to `each` instead of collecting them, on up to `threads` threads.
///
/// Each thread reads one contiguous part of the file into its own state, made by `init`; the
/// states come back in file order, so a caller that concatenates them sees the rows in file
/// order. Splitting needs rows that are lines, so a file with a quote character (where a field
/// may span lines) or a lone carriage return is read on one thread by the `csv` crate, as are
/// all files when `threads` is 1 and the fast path does not apply. The problems are the same,
/// in line order, whichever way the file is read.
pub fn read_transactions<'text, State: Send>(
    text: &'text str,
    columns: &TransactionColumns,
    threads: usize,
    init: impl Fn() -> State + Sync,
    each: impl Fn(&mut State, u64, TransactionRef<'text>) + Sync,
) -> Result<(Vec<State>, Vec<RowProblem>), FileError> {
    let mut reader = ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| FileError::Csv { line: 1, message: e.to_string() })?.clone();
    if header.is_empty() || (header.len() == 1 && header[0].trim().is_empty()) {
        return Err(FileError::Empty);
    }
    let found = header.iter().map(str::to_owned).collect::<Vec<_>>().join(", ");
    let position = |wanted: &str, column: &'static str| {
        header.iter().position(|h| header_key(h) == header_key(wanted)).ok_or_else(|| FileError::MissingColumn {
            column,
            aliases: format!("{wanted:?}"),
            found: found.clone(),
        })
    };
    let layout = Layout {
        names: header.iter().map(str::to_owned).collect(),
        customer_at: position(&columns.customer, "customer")?,
        date_at: position(&columns.date, "date")?,
        amount_at: position(&columns.amount, "amount")?,
    };
    let rows_are_lines = !text.contains('"') && text.matches('\r').count() == text.matches("\r\n").count();
    if !rows_are_lines {
        let mut state = init();
        let mut problems = Vec::new();
        read_with_csv(text, reader, &layout, &mut problems, |line, transaction| each(&mut state, line, transaction));
        return Ok((vec![state], problems));
    }
    // Without quotes the header is the first line, and the data starts on the next one.
    let position = reader.position();
    let body_start = usize::try_from(position.byte()).unwrap_or(text.len()).min(text.len());
    let body = &text[body_start..];
    let parts = split_at_lines(body, threads.clamp(1, 64));
    // Line numbers: the header's lines, then each part's own, counted before the parts are read
    // so that every thread numbers its rows as the file does.
    let mut first_lines = Vec::with_capacity(parts.len());
    let mut next_line = position.line();
    for part in &parts {
        first_lines.push(next_line);
        next_line += part.bytes().filter(|&b| b == b'\n').count() as u64;
    }
    let results: Vec<(State, Vec<RowProblem>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .iter()
            .zip(first_lines)
            .map(|(part, first_line)| {
                let (layout, init, each) = (&layout, &init, &each);
                scope.spawn(move || {
                    let mut state = init();
                    let mut problems = Vec::new();
                    read_lines(part, first_line, layout, &mut problems, |line, transaction| {
                        each(&mut state, line, transaction)
                    });
                    (state, problems)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    });
    let (states, problems): (Vec<State>, Vec<Vec<RowProblem>>) = results.into_iter().unzip();
    Ok((states, problems.into_iter().flatten().collect()))
}

/// Where the three columns are, and the header's names for the problems.
struct Layout {
    names: Vec<String>,
    customer_at: usize,
    date_at: usize,
    amount_at: usize,
}

/// Splits `body` into at most `parts` pieces that each end at a line break.
fn split_at_lines(body: &str, parts: usize) -> Vec<&str> {
    let mut pieces = Vec::with_capacity(parts);
    let mut rest = body;
    for remaining in (1..=parts).rev() {
        if remaining == 1 || rest.is_empty() {
            pieces.push(rest);
            break;
        }
        let target = rest.len() / remaining;
        let cut = rest.as_bytes()[target..].iter().position(|&b| b == b'\n').map_or(rest.len(), |at| target + at + 1);
        let (piece, after) = rest.split_at(cut);
        pieces.push(piece);
        rest = after;
    }
    pieces
}

/// Reads rows that are lines (no quotes anywhere); the first line of `part` is line
/// `first_line` of the file.
fn read_lines<'text>(
    part: &'text str,
    first_line: u64,
    layout: &Layout,
    problems: &mut Vec<RowProblem>,
    mut each: impl FnMut(u64, TransactionRef<'text>),
) {
    let width = layout.names.len();
    let mut line = first_line - 1;
    let mut cells: Vec<&str> = Vec::with_capacity(width);
    for raw in part.split_terminator('\n') {
        line += 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        cells.clear();
        cells.extend(raw.split(','));
        if cells.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if cells.len() != width {
            problems.push(RowProblem {
                line,
                column: WHOLE_ROW.into(),
                value: String::new(),
                reason: format!("has {} fields where the header has {}", cells.len(), width),
            });
            continue;
        }
        if let Some(transaction) = read_row(&cells, line, layout, problems) {
            each(line, transaction);
        }
    }
}

/// Reads the rows with the `csv` crate: quoted fields, line breaks inside them.
fn read_with_csv<'text>(
    text: &'text str,
    mut reader: csv::Reader<&'text [u8]>,
    layout: &Layout,
    problems: &mut Vec<RowProblem>,
    mut each: impl FnMut(u64, TransactionRef<'text>),
) {
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                problems.push(RowProblem {
                    line,
                    column: WHOLE_ROW.into(),
                    value: String::new(),
                    reason: error.to_string(),
                });
                break;
            }
        }
        let (line, _) = record_start(text, &record);
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if record.len() != layout.names.len() {
            problems.push(RowProblem {
                line,
                column: WHOLE_ROW.into(),
                value: String::new(),
                reason: format!("has {} fields where the header has {}", record.len(), layout.names.len()),
            });
            continue;
        }
        let cells: Vec<&str> = record.iter().collect();
        // The record's cells borrow the record, not the text: hand over an owned customer id.
        if let Some(TransactionRef { customer, date, amount }) = read_row(&cells, line, layout, problems) {
            each(line, TransactionRef { customer: Cow::Owned(customer.into_owned()), date, amount });
        }
    }
}

/// A cell that normalising would leave as it is: printable ASCII without spaces (NFKC maps
/// ASCII to itself, and only white space and control characters are changed).
fn is_plain(cell: &str) -> bool {
    !cell.is_empty() && cell.bytes().all(|b| b.is_ascii_graphic())
}

/// `YYYY-MM-DD`, the shape nearly every export writes, without the general parser's
/// allocations; anything else (and any invalid date, for its error message) goes to
/// [`parse_date`].
fn parse_iso_date(cell: &str) -> Option<Date> {
    let bytes = cell.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| {
        bytes[range].iter().try_fold(0_i32, |value, &b| b.is_ascii_digit().then(|| value * 10 + i32::from(b - b'0')))
    };
    let year = digits(0..4)?;
    if !PLAUSIBLE_YEARS.contains(&year) {
        return None;
    }
    let month = Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(digits(8..10)?).ok()?).ok()
}

/// One row's three cells, or `None` after recording what is wrong with them.
fn read_row<'cell>(
    cells: &[&'cell str],
    line: u64,
    layout: &Layout,
    problems: &mut Vec<RowProblem>,
) -> Option<TransactionRef<'cell>> {
    let cell = |at: usize| cells.get(at).copied().unwrap_or("").trim();
    let mut problem = |at: usize, value: &str, reason: String| {
        problems.push(RowProblem {
            line,
            column: layout.names[at].clone(),
            value: value.chars().take(80).collect(),
            reason,
        })
    };
    let customer_cell = cell(layout.customer_at);
    let customer: Cow<'cell, str> =
        if is_plain(customer_cell) { Cow::Borrowed(customer_cell) } else { Cow::Owned(normalize_text(customer_cell)) };
    if customer.is_empty() {
        problem(layout.customer_at, "", "is empty".into());
    }
    let date_cell = cell(layout.date_at);
    let date = match parse_iso_date(date_cell) {
        Some(date) => Some(date),
        None => parse_date("date", date_cell).map_err(|e| problem(layout.date_at, date_cell, e.reason)).ok(),
    };
    let amount_cell = cell(layout.amount_at);
    let parsed = if is_plain(amount_cell) && !amount_cell.contains([',', '$']) {
        amount_cell.parse::<f64>().ok()
    } else {
        let amount_text: String =
            normalize_text(amount_cell).chars().filter(|c| !matches!(c, ',' | '¥' | '円' | '$')).collect();
        amount_text.parse::<f64>().ok()
    };
    let amount = match parsed {
        Some(value) if value.is_finite() && value.abs() < 1e12 => Some(value),
        _ => {
            problem(layout.amount_at, amount_cell, "is not an amount".into());
            None
        }
    };
    match (customer.is_empty(), date, amount) {
        (false, Some(date), Some(amount)) => Some(TransactionRef { customer, date, amount }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_reports_bad_ones_by_line() {
        let text = "customer_id,date,amount\nA,2024-01-05,1980\nB,2024/1/6,\"1,200.50\"\nC,2024-02-30,10\nD,2024-01-07,abc\n,2024-01-07,5\n";
        let parsed = parse_transactions(text, &TransactionColumns::default()).unwrap();
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(parsed.rows[1].record.amount, 1200.5);
        assert_eq!(parsed.rows[1].line, 3);
        let problems: Vec<(u64, &str)> = parsed.problems.iter().map(|p| (p.line, p.column.as_str())).collect();
        assert_eq!(problems, vec![(4, "date"), (5, "amount"), (6, "customer_id")]);
    }

    #[test]
    fn column_names_are_configurable_and_missing_ones_named() {
        let columns =
            TransactionColumns { customer: "顧客ID".into(), date: "購入日".into(), amount: "金額".into() };
        let parsed = parse_transactions("顧客ID,購入日,金額\nC1,20240105,３９８０\n", &columns).unwrap();
        assert_eq!(parsed.rows[0].record.amount, 3980.0);
        let error = parse_transactions("id,day\n1,2024-01-01\n", &TransactionColumns::default()).unwrap_err();
        assert!(error.to_string().contains("customer_id"), "{error}");
    }
}

#[cfg(test)]
mod line_tests {
    use super::*;

    #[test]
    fn line_numbers_hold_with_crlf_and_quoted_line_breaks() {
        let text = "customer_id,date,amount\r\nA,2024-01-05,1980\r\n\"B\nB\",2024-01-06,1\r\nC,2024-02-30,10\r\n";
        let parsed = parse_transactions(text, &TransactionColumns::default()).unwrap();
        assert_eq!(parsed.rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(parsed.problems.iter().map(|p| p.line).collect::<Vec<_>>(), vec![5]);
    }
}

#[cfg(test)]
mod parallel_tests {
    use super::*;

    /// The rows (line, customer, date, amount) and the problems (line, column).
    type Read = (Vec<(u64, String, Date, f64)>, Vec<(u64, String)>);

    fn read(text: &str, threads: usize) -> Read {
        let (states, problems) =
            read_transactions(text, &TransactionColumns::default(), threads, Vec::new, |rows, line, t| {
                rows.push((line, t.customer.into_owned(), t.date, t.amount))
            })
            .unwrap();
        let rows = states.into_iter().flatten().collect();
        (rows, problems.into_iter().map(|p| (p.line, p.column)).collect())
    }

    #[test]
    fn threads_read_the_same_rows_and_problems_as_one_thread() {
        let mut text = String::from("customer_id,date,amount\r\n");
        for i in 0..200 {
            match i % 50 {
                7 => text.push_str("X,2024-02-30,1\r\n"),
                19 => text.push_str("\r\n"),
                23 => text.push_str("Y,2024-01-01\r\n"),
                31 => text.push_str(" ｚ  1 ,2024/1/5,\"\"\r\n".replace("\"\"", "¥1,200").as_str()),
                _ => text.push_str(&format!("C{},2024-01-{:02},{}.5\r\n", i % 13, i % 28 + 1, i)),
            }
        }
        let (one_rows, one_problems) = read(&text, 1);
        assert_eq!(one_rows.len(), 200 - 4 * 3 - 4);
        assert_eq!(one_problems.iter().filter(|(_, column)| column == "date").count(), 4);
        assert_eq!(one_problems[0].0, 9, "line of the first bad date");
        for threads in [2, 3, 7] {
            assert_eq!(read(&text, threads), (one_rows.clone(), one_problems.clone()), "{threads} threads");
        }
        // Quotes send the file to the csv crate; the answers stay the same.
        let quoted = text.replace("C1,", "\"C1\",");
        assert_eq!(read(&quoted, 2), (one_rows, one_problems));
    }
}
