//! Reading a CSV text record by record, with the physical line each record starts on, and
//! collecting every problem of every row instead of stopping at the first. The per-kind parsers
//! in [`crate::import`] only say how one row becomes one record.

use csv::{ReaderBuilder, StringRecord};
use kimochi_domain::ValidationError;
use kimochi_domain::import::{Line, RowProblem};

use crate::columns::{ColumnRole, Header, ImportKind};
use crate::error::FileError;

/// The column a problem names when it concerns the whole row (wrong number of fields, a quote
/// that is never closed) rather than one cell.
pub const WHOLE_ROW: &str = "(row)";

/// Longest value quoted back in a problem; a runaway cell can be megabytes.
const MAX_VALUE_CHARS: usize = 80;

/// What a file held: the rows that are valid, and every problem found in the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<T> {
    pub rows: Vec<Line<T>>,
    pub problems: Vec<RowProblem>,
}

impl<T> Parsed<T> {
    /// Whether every row of the file was valid.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One data row, seen through the header.
pub(crate) struct RowReader<'a> {
    header: &'a Header,
    record: &'a StringRecord,
    pub line: u64,
    pub problems: Vec<RowProblem>,
}

impl<'a> RowReader<'a> {
    /// Every cell of a column (several for repeatable ones), as `(header as written, value)`.
    pub fn cells(&self, field: &'static str) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a> {
        let (header, record) = (self.header, self.record);
        header
            .columns
            .iter()
            .zip(record.iter())
            .filter(move |(column, _)| column.role == ColumnRole::Field(field))
            .map(|(column, value)| (column.written.as_str(), unescape_formula(value)))
    }

    /// The cell of a column, if the file has that column.
    pub fn cell(&self, field: &'static str) -> Option<(&'a str, &'a str)> {
        self.cells(field).next()
    }

    /// The header text of a column as the file writes it, or the column's English name when the
    /// file does not have it.
    pub fn column_name(&self, field: &'static str) -> &'a str {
        self.cell(field).map_or(field, |(column, _)| column)
    }

    /// `(header as written, attribute key, value)` of every `attr:<key>` column.
    pub fn attributes(&self) -> impl Iterator<Item = (&'a str, &'a str, &'a str)> + use<'a> {
        let (header, record) = (self.header, self.record);
        header.columns.iter().zip(record.iter()).filter_map(|(column, value)| match &column.role {
            ColumnRole::Attribute(key) => Some((column.written.as_str(), key.as_str(), unescape_formula(value))),
            _ => None,
        })
    }

    pub fn problem(&mut self, column: &str, value: &str, reason: impl Into<String>) {
        self.problems.push(RowProblem {
            line: self.line,
            column: column.to_owned(),
            value: value.chars().take(MAX_VALUE_CHARS).collect(),
            reason: reason.into(),
        });
    }

    /// A cell that must hold a value; a blank cell or one `parse` refuses becomes a problem.
    pub fn required<T>(
        &mut self,
        field: &'static str,
        parse: impl FnOnce(&str) -> Result<T, ValidationError>,
    ) -> Option<T> {
        let Some((column, value)) = self.cell(field) else {
            // The header check refuses files without required columns, so this is only reached
            // through a programming error; say so instead of panicking.
            self.problem(field, "", "is required but the file has no such column");
            return None;
        };
        if value.trim().is_empty() {
            self.problem(column, value, "is required");
            return None;
        }
        self.parsed(column, value, parse)
    }

    /// A cell that may be blank or absent (both give `None`); a value `parse` refuses becomes a
    /// problem, and also gives `None`, so callers check [`RowReader::problems`] before use.
    pub fn optional<T>(
        &mut self,
        field: &'static str,
        parse: impl FnOnce(&str) -> Result<T, ValidationError>,
    ) -> Option<T> {
        let (column, value) = self.cell(field)?;
        if value.trim().is_empty() {
            return None;
        }
        self.parsed(column, value, parse)
    }

    pub fn parsed<T>(
        &mut self,
        column: &str,
        value: &str,
        parse: impl FnOnce(&str) -> Result<T, ValidationError>,
    ) -> Option<T> {
        match parse(value) {
            Ok(parsed) => Some(parsed),
            Err(error) => {
                self.problem(column, value, error.reason);
                None
            }
        }
    }
}

/// Exports put a `'` before text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`);
/// reading it back removes that mark so that export → import gives back what was exported.
fn unescape_formula(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => value,
    }
}

/// Reads `text` as a CSV file of `kind` and turns each data row into a record with `build`,
/// which reports the row's problems on the [`RowReader`]. A row becomes a record only if it has
/// no problem at all.
pub(crate) fn read_rows<T>(
    kind: ImportKind,
    text: &str,
    mut build: impl FnMut(&mut RowReader<'_>) -> Option<T>,
) -> Result<Parsed<T>, FileError> {
    // `decode` removes the BOM, but callers may hand over text read some other way.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    let delimiter = sniff_delimiter(text);
    let mut records = ReaderBuilder::new()
        .has_headers(false)
        // Rows of the wrong width are reported one by one instead of failing the whole file.
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
        .into_records()
        .peekable();

    let header_record = match records.next() {
        None => return Err(FileError::Empty),
        Some(record) => record.map_err(csv_error)?,
    };
    if records.peek().is_none() && starts_unclosed_quote(text, record_start(text, &header_record).1, delimiter) {
        return Err(FileError::Csv { line: 1, message: "a quote in the header row is never closed".to_owned() });
    }
    let header = Header::resolve(kind, &header_record)?;

    let mut parsed = Parsed { rows: Vec::new(), problems: Vec::new() };
    while let Some(record) = records.next() {
        let record = record.map_err(csv_error)?;
        let (line, start) = record_start(text, &record);
        let is_last = records.peek().is_none();
        if is_last && starts_unclosed_quote(text, start, delimiter) {
            parsed.problems.push(RowProblem {
                line,
                column: WHOLE_ROW.to_owned(),
                value: record.iter().collect::<Vec<_>>().join(",").chars().take(MAX_VALUE_CHARS).collect(),
                reason: "opens a quote (\") that is never closed, so the rest of the file was read as part of this row"
                    .to_owned(),
            });
            continue;
        }
        // Spreadsheets leave rows of empty cells behind (`,,,,`); they hold nothing to lose.
        if record.iter().all(|value| value.trim().is_empty()) {
            continue;
        }
        if record.len() != header.columns.len() {
            parsed.problems.push(width_problem(&record, line, header.columns.len()));
            continue;
        }
        let mut row = RowReader { header: &header, record: &record, line, problems: Vec::new() };
        for (column, value) in header.columns.iter().zip(record.iter()) {
            if column.role == ColumnRole::Unnamed && !value.trim().is_empty() {
                row.problem(&column.written, value, "is in a column without a header");
            }
        }
        let built = build(&mut row);
        if row.problems.is_empty() {
            if let Some(record) = built {
                parsed.rows.push(Line { line, record });
            }
        } else {
            parsed.problems.append(&mut row.problems);
        }
    }
    Ok(parsed)
}

/// Reads JSON lines (one object per line, keys named like the CSV columns) the way
/// [`read_rows`] reads CSV: every problem of every line, with its line number. A line that is
/// not a JSON object of plain values, or whose keys the import does not know, is one problem.
pub(crate) fn read_json_lines<T>(
    kind: ImportKind,
    text: &str,
    mut build: impl FnMut(&mut RowReader<'_>) -> Option<T>,
) -> Result<Parsed<T>, FileError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    let mut parsed = Parsed { rows: Vec::new(), problems: Vec::new() };
    for (index, source) in text.lines().enumerate() {
        let line = index as u64 + 1;
        if source.trim().is_empty() {
            continue;
        }
        let whole_row = |reason: String| RowProblem {
            line,
            column: WHOLE_ROW.to_owned(),
            value: source.chars().take(MAX_VALUE_CHARS).collect(),
            reason,
        };
        let object = match serde_json::from_str::<serde_json::Value>(source) {
            Ok(serde_json::Value::Object(object)) => object,
            Ok(_) => {
                parsed.problems.push(whole_row("is not a JSON object".to_owned()));
                continue;
            }
            Err(error) => {
                parsed.problems.push(whole_row(format!("is not valid JSON: {error}")));
                continue;
            }
        };
        let mut keys = StringRecord::new();
        let mut values = StringRecord::new();
        let mut nested = None;
        for (key, value) in &object {
            keys.push_field(key);
            match value {
                serde_json::Value::String(text) => values.push_field(text),
                serde_json::Value::Null => values.push_field(""),
                serde_json::Value::Number(_) | serde_json::Value::Bool(_) => values.push_field(&value.to_string()),
                _ => {
                    nested.get_or_insert_with(|| key.clone());
                    values.push_field("");
                }
            }
        }
        if let Some(key) = nested {
            parsed.problems.push(RowProblem {
                line,
                column: key,
                value: String::new(),
                reason: "holds a list or an object; only text, numbers and true/false are read".to_owned(),
            });
            continue;
        }
        let header = match Header::resolve(kind, &keys) {
            Ok(header) => header,
            Err(error) => {
                parsed.problems.push(whole_row(error.to_string()));
                continue;
            }
        };
        let mut row = RowReader { header: &header, record: &values, line, problems: Vec::new() };
        let built = build(&mut row);
        if row.problems.is_empty() {
            if let Some(record) = built {
                parsed.rows.push(Line { line, record });
            }
        } else {
            parsed.problems.append(&mut row.problems);
        }
    }
    Ok(parsed)
}

/// The 1-based line and the byte offset where `record` starts. The reader reports the position
/// where it stopped after the previous record, which with CRLF line ends (and after blank lines)
/// is before line breaks it has yet to consume; those are skipped here.
pub(crate) fn record_start(text: &str, record: &StringRecord) -> (u64, usize) {
    let (mut line, mut byte) = record
        .position()
        .map_or((1, 0), |position| (position.line(), usize::try_from(position.byte()).unwrap_or(usize::MAX)));
    while let Some(&next) = text.as_bytes().get(byte) {
        match next {
            b'\n' => line += 1,
            b'\r' => {}
            _ => break,
        }
        byte += 1;
    }
    (line, byte)
}

fn csv_error(error: csv::Error) -> FileError {
    let line = error.position().map_or(0, csv::Position::line);
    FileError::Csv { line, message: error.to_string() }
}

fn width_problem(record: &StringRecord, line: u64, expected: usize) -> RowProblem {
    let embedded_lines: usize = record.iter().map(|value| value.matches('\n').count()).sum();
    let mut reason = format!("has {} fields but the header has {expected}", record.len());
    if embedded_lines > 0 {
        // The usual cause: a stray quote that is closed only by another one lines later.
        reason.push_str(&format!(
            "; it runs over lines {line}–{}, so a quote (\") may be missing or extra",
            line + embedded_lines as u64
        ));
    }
    RowProblem {
        line,
        column: WHOLE_ROW.to_owned(),
        value: record.iter().collect::<Vec<_>>().join(",").chars().take(MAX_VALUE_CHARS).collect(),
        reason,
    }
}

/// Tab-separated text (what spreadsheets put on the clipboard) is read too: a first line with
/// tabs and no commas is taken as TSV.
fn sniff_delimiter(text: &str) -> u8 {
    let first_line = text.lines().next().unwrap_or_default();
    if first_line.contains('\t') && !first_line.contains(',') { b'\t' } else { b',' }
}

/// Whether the record that starts at byte `start` opens a quoted field that the text
/// never closes. The CSV reader then silently takes the rest of the file as that field, so the
/// raw text is scanned again with the same rules (RFC 4180 with the reader's leniency: a quote
/// inside an unquoted field is an ordinary character).
fn starts_unclosed_quote(text: &str, start: usize, delimiter: u8) -> bool {
    #[derive(Clone, Copy)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let Some(bytes) = text.as_bytes().get(start..) else {
        return false;
    };
    let mut state = State::FieldStart;
    for &byte in bytes {
        state = match (state, byte) {
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::QuoteInQuoted, b'"') => State::Quoted,
            (State::FieldStart, b'"') => State::Quoted,
            (_, b'\n' | b'\r') => return false,
            (_, byte) if byte == delimiter => State::FieldStart,
            _ => State::Unquoted,
        };
    }
    matches!(state, State::Quoted)
}
