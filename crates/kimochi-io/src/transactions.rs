//! Transactions files for the analyst's commands (`kimochi rfm`, `kimochi clv`): one purchase a
//! row, `customer_id,date,amount` by default, the column names configurable because every BI
//! export names them differently. Amounts may have decimals (currencies other than yen).

use csv::ReaderBuilder;
use kimochi_domain::datetime::parse_date;
use kimochi_domain::import::{Line, RowProblem};
use kimochi_domain::normalize::normalize_text;
use time::Date;

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

/// Reads a transactions file. Rows that cannot be read are listed with their line, column,
/// value and reason; the others are returned.
pub fn parse_transactions(text: &str, columns: &TransactionColumns) -> Result<Parsed<TransactionRow>, FileError> {
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
    let customer_at = position(&columns.customer, "customer")?;
    let date_at = position(&columns.date, "date")?;
    let amount_at = position(&columns.amount, "amount")?;
    let mut parsed = Parsed { rows: Vec::new(), problems: Vec::new() };
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                parsed.problems.push(RowProblem {
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
        if record.len() != header.len() {
            parsed.problems.push(RowProblem {
                line,
                column: WHOLE_ROW.into(),
                value: String::new(),
                reason: format!("has {} fields where the header has {}", record.len(), header.len()),
            });
            continue;
        }
        let cell = |at: usize| record.get(at).unwrap_or("").trim();
        let mut problem = |column: &str, value: &str, reason: String| {
            parsed.problems.push(RowProblem {
                line,
                column: column.to_owned(),
                value: value.chars().take(80).collect(),
                reason,
            })
        };
        let customer = normalize_text(cell(customer_at));
        if customer.is_empty() {
            problem(&header[customer_at], "", "is empty".into());
        }
        let date =
            parse_date("date", cell(date_at)).map_err(|e| problem(&header[date_at], cell(date_at), e.reason)).ok();
        let amount_text: String =
            normalize_text(cell(amount_at)).chars().filter(|c| !matches!(c, ',' | '¥' | '円' | '$')).collect();
        let amount = match amount_text.parse::<f64>() {
            Ok(value) if value.is_finite() && value.abs() < 1e12 => Some(value),
            _ => {
                problem(&header[amount_at], cell(amount_at), "is not an amount".into());
                None
            }
        };
        if let (false, Some(date), Some(amount)) = (customer.is_empty(), date, amount) {
            parsed.rows.push(Line { line, record: TransactionRow { customer, date, amount } });
        }
    }
    Ok(parsed)
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
