//! Exports: tables of cells written as CSV for Excel on Japanese Windows (UTF-8 with BOM, CRLF)
//! or as an xlsx workbook. The customer, order and contact exports use the same column names as
//! the imports, so a file can be exported, corrected in a spreadsheet and imported again.

use std::io::Write;

use kimochi_domain::datetime::{JST, format_date, format_jst};
use kimochi_domain::{Contact, Customer, CustomerProfile, CustomerStats, Order, ProductId};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet};
use time::{Date, OffsetDateTime};

use crate::columns::{CONTACT_COLUMNS, CUSTOMER_AGGREGATE_COLUMNS, CUSTOMER_COLUMNS, ORDER_COLUMNS};
use crate::error::ExportError;

/// Excel's limit on the rows of one sheet, header included.
pub const XLSX_MAX_ROWS: u32 = 1_048_576;

/// One cell of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Empty,
    Text(String),
    Integer(i64),
    /// Written `YYYY-MM-DD` in CSV, as a date in xlsx.
    Date(Date),
    /// Written RFC 3339 in JST in CSV (`2024-01-05T10:30:00+09:00`), as a JST date-time in xlsx.
    DateTime(OffsetDateTime),
}

impl Cell {
    fn text(value: impl Into<String>) -> Cell {
        Cell::Text(value.into())
    }

    fn optional_text(value: Option<&str>) -> Cell {
        value.map_or(Cell::Empty, Cell::text)
    }

    fn flag(value: bool) -> Cell {
        Cell::Integer(i64::from(value))
    }

    fn optional_date_time(value: Option<OffsetDateTime>) -> Cell {
        value.map_or(Cell::Empty, Cell::DateTime)
    }

    /// The text a CSV file holds for this cell.
    fn csv_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(text) => escape_formula(text),
            Cell::Integer(number) => number.to_string(),
            Cell::Date(date) => format_date(*date),
            Cell::DateTime(at) => format_jst(*at),
        }
    }
}

/// Text that starts like a formula is prefixed with `'` so that a spreadsheet shows it instead
/// of running it (CSV injection: VOC text and SNS posts are written by strangers). The imports
/// remove the mark again.
fn escape_formula(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() }
}

/// Anything rows can be written to, so callers can stream a large export in pages to either
/// format.
pub trait RowSink {
    fn write_row(&mut self, cells: &[Cell]) -> Result<(), ExportError>;
}

/// A small export held in memory: column names and rows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn to_csv(&self) -> Result<Vec<u8>, ExportError> {
        let mut sink = CsvSink::new(Vec::new(), &self.columns)?;
        for row in &self.rows {
            sink.write_row(row)?;
        }
        sink.finish()
    }

    pub fn to_xlsx(&self, sheet_name: &str) -> Result<Vec<u8>, ExportError> {
        let mut sink = XlsxSink::new(sheet_name, &self.columns)?;
        for row in &self.rows {
            sink.write_row(row)?;
        }
        sink.finish()
    }
}

/// CSV as Excel on Japanese Windows opens it without garbling: UTF-8 with a BOM (without one,
/// Excel assumes Shift_JIS) and CRLF line ends.
pub struct CsvSink<W: Write> {
    writer: csv::Writer<W>,
    width: usize,
}

impl<W: Write> CsvSink<W> {
    /// Writes the BOM and the header row.
    pub fn new(mut out: W, columns: &[impl AsRef<str>]) -> Result<CsvSink<W>, ExportError> {
        out.write_all(b"\xEF\xBB\xBF")?;
        let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out);
        writer.write_record(columns.iter().map(AsRef::as_ref))?;
        Ok(CsvSink { writer, width: columns.len() })
    }

    pub fn write_row(&mut self, cells: &[Cell]) -> Result<(), ExportError> {
        check_width(self.width, cells)?;
        self.writer.write_record(cells.iter().map(Cell::csv_text))?;
        Ok(())
    }

    /// Flushes and hands back the writer.
    pub fn finish(self) -> Result<W, ExportError> {
        self.writer.into_inner().map_err(|error| ExportError::Io(error.into_error()))
    }
}

impl<W: Write> RowSink for CsvSink<W> {
    fn write_row(&mut self, cells: &[Cell]) -> Result<(), ExportError> {
        CsvSink::write_row(self, cells)
    }
}

/// One xlsx sheet with a bold, frozen header row, built in memory.
pub struct XlsxSink {
    worksheet: Worksheet,
    width: usize,
    next_row: u32,
    /// [`XLSX_MAX_ROWS`]; a field so the limit can be tested without a million rows.
    max_rows: u32,
    date_format: Format,
    date_time_format: Format,
}

impl XlsxSink {
    /// Starts a sheet named `sheet_name` (Excel allows 31 characters, without `[]:*?/\`).
    pub fn new(sheet_name: &str, columns: &[impl AsRef<str>]) -> Result<XlsxSink, ExportError> {
        let mut worksheet = Worksheet::new();
        worksheet.set_name(sheet_name)?;
        let bold = Format::new().set_bold();
        for (index, column) in columns.iter().enumerate() {
            worksheet.write_string_with_format(0, column_number(index)?, column.as_ref(), &bold)?;
        }
        worksheet.set_freeze_panes(1, 0)?;
        Ok(XlsxSink {
            worksheet,
            width: columns.len(),
            next_row: 1,
            max_rows: XLSX_MAX_ROWS,
            date_format: Format::new().set_num_format("yyyy-mm-dd"),
            date_time_format: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
        })
    }

    pub fn write_row(&mut self, cells: &[Cell]) -> Result<(), ExportError> {
        check_width(self.width, cells)?;
        if self.next_row >= self.max_rows {
            return Err(ExportError::TooManyRows { max: self.max_rows });
        }
        let row = self.next_row;
        for (index, cell) in cells.iter().enumerate() {
            let column = column_number(index)?;
            match cell {
                Cell::Empty => {}
                // xlsx cells are typed: text is never run as a formula, so no escaping.
                Cell::Text(text) => {
                    self.worksheet.write_string(row, column, text.as_str())?;
                }
                // Amounts stay far below 2^53, where f64 is exact.
                Cell::Integer(number) => {
                    self.worksheet.write_number(row, column, *number as f64)?;
                }
                Cell::Date(date) => {
                    let excel = excel_date(*date)?;
                    self.worksheet.write_datetime_with_format(row, column, &excel, &self.date_format)?;
                }
                // Spreadsheets have no time zones; the cell shows the time in Tokyo.
                Cell::DateTime(at) => {
                    let local = at.to_offset(JST);
                    let excel = excel_date(local.date())?.and_hms(
                        u16::from(local.hour()),
                        local.minute(),
                        f64::from(local.second()),
                    )?;
                    self.worksheet.write_datetime_with_format(row, column, &excel, &self.date_time_format)?;
                }
            }
        }
        self.next_row += 1;
        Ok(())
    }

    /// The finished workbook, as the bytes of an .xlsx file.
    pub fn finish(self) -> Result<Vec<u8>, ExportError> {
        let mut workbook = Workbook::new();
        workbook.push_worksheet(self.worksheet);
        Ok(workbook.save_to_buffer()?)
    }
}

impl RowSink for XlsxSink {
    fn write_row(&mut self, cells: &[Cell]) -> Result<(), ExportError> {
        XlsxSink::write_row(self, cells)
    }
}

fn excel_date(date: Date) -> Result<ExcelDateTime, ExportError> {
    // Domain dates are bounded to 1900–2100, inside both u16 and Excel's range.
    let year = u16::try_from(date.year()).unwrap_or(0);
    Ok(ExcelDateTime::from_ymd(year, u8::from(date.month()), date.day())?)
}

fn column_number(index: usize) -> Result<u16, ExportError> {
    u16::try_from(index).map_err(|_| ExportError::Xlsx(rust_xlsxwriter::XlsxError::RowColumnLimitError))
}

fn check_width(expected: usize, cells: &[Cell]) -> Result<(), ExportError> {
    if cells.len() == expected { Ok(()) } else { Err(ExportError::RowWidth { expected, got: cells.len() }) }
}

/// Every attribute key of the given customers, sorted: the `attr:<key>` columns of an export
/// that keeps all attributes.
pub fn attribute_keys<'a>(profiles: impl IntoIterator<Item = &'a CustomerProfile>) -> Vec<String> {
    let mut keys: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for profile in profiles {
        keys.extend(profile.attributes.keys().map(String::as_str));
    }
    keys.into_iter().map(str::to_owned).collect()
}

/// The columns of a customer export: the import's columns, one `attr:<key>` column per
/// attribute key asked for, then the read-only aggregates the import skips.
pub fn customer_columns(attribute_keys: &[String]) -> Vec<String> {
    CUSTOMER_COLUMNS
        .iter()
        .map(|spec| spec.name.to_owned())
        .chain(attribute_keys.iter().map(|key| format!("attr:{key}")))
        .chain(CUSTOMER_AGGREGATE_COLUMNS.iter().map(|name| (*name).to_owned()))
        .collect()
}

/// One customer, in the order of [`customer_columns`] with the same `attribute_keys`.
pub fn customer_row(customer: &Customer, stats: &CustomerStats, attribute_keys: &[String]) -> Vec<Cell> {
    let profile = &customer.profile;
    let phones: Vec<String> = profile.phones.iter().map(ToString::to_string).collect();
    let emails: Vec<&str> = profile.emails.iter().map(|email| email.as_str()).collect();
    let mut row = vec![
        Cell::optional_text(profile.external_id.as_ref().map(|id| id.as_str())),
        Cell::text(&profile.name),
        Cell::optional_text(profile.kana.as_deref()),
        Cell::text(phones.join(";")),
        Cell::text(emails.join(";")),
        profile.birth_date.map_or(Cell::Empty, Cell::Date),
        Cell::text(profile.gender.code()),
        Cell::optional_text(profile.prefecture.as_deref()),
        Cell::optional_text(profile.address.as_deref()),
        Cell::flag(profile.consent.phone),
        Cell::flag(profile.consent.email),
        Cell::flag(profile.consent.dm),
        Cell::flag(profile.do_not_call),
        Cell::optional_text(profile.ad_medium.as_deref()),
    ];
    row.extend(attribute_keys.iter().map(|key| Cell::optional_text(profile.attributes.get(key).map(String::as_str))));
    row.extend([
        Cell::Integer(stats.order_count),
        Cell::Integer(stats.total_amount),
        Cell::optional_date_time(stats.first_order_at),
        Cell::optional_date_time(stats.last_order_at),
        Cell::optional_date_time(stats.last_contact_at),
        Cell::optional_text(stats.last_outcome.map(|outcome| outcome.code())),
        Cell::Integer(stats.consecutive_no_contact),
        Cell::Integer(stats.contact_count),
    ]);
    row
}

/// The columns of an order export, the same as the order import's.
pub fn order_columns() -> Vec<String> {
    ORDER_COLUMNS.iter().map(|spec| spec.name.to_owned()).collect()
}

/// One row per line of `order`, in the order of [`order_columns`]. An order without an external
/// id exports with a blank one; importing that file asks for one.
pub fn order_rows(
    order: &Order,
    customer_external_id: &str,
    product_external_id: &dyn Fn(ProductId) -> String,
) -> Vec<Vec<Cell>> {
    order
        .lines
        .iter()
        .map(|line| {
            vec![
                Cell::optional_text(order.external_id.as_ref().map(|id| id.as_str())),
                Cell::text(customer_external_id),
                Cell::DateTime(order.ordered_at),
                Cell::text(product_external_id(line.product_id)),
                Cell::Integer(line.quantity),
                Cell::Integer(line.amount),
                Cell::optional_text(order.channel.map(|channel| channel.code())),
                Cell::optional_text(order.ad_medium.as_deref()),
                Cell::flag(order.is_subscription),
            ]
        })
        .collect()
}

/// The columns of a contact export, the same as the contact import's.
pub fn contact_columns() -> Vec<String> {
    CONTACT_COLUMNS.iter().map(|spec| spec.name.to_owned()).collect()
}

/// What a contact row shows by external id or login rather than by internal id.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContactRefs<'a> {
    pub customer_external_id: &'a str,
    /// External id of the contact that started the thread; `None` for a contact that starts
    /// one itself.
    pub thread_external_id: Option<&'a str>,
    /// Login of the operator who handled it.
    pub agent_login: Option<&'a str>,
}

/// One contact, in the order of [`contact_columns`].
pub fn contact_row(contact: &Contact, refs: ContactRefs<'_>) -> Vec<Cell> {
    vec![
        Cell::optional_text(contact.external_id.as_ref().map(|id| id.as_str())),
        Cell::text(refs.customer_external_id),
        Cell::text(contact.channel.code()),
        Cell::text(contact.direction.code()),
        Cell::DateTime(contact.started_at),
        Cell::optional_date_time(contact.ended_at),
        Cell::optional_text(contact.reason.as_deref()),
        Cell::optional_text(contact.outcome.map(|outcome| outcome.code())),
        Cell::text(&contact.text),
        Cell::optional_text(refs.thread_external_id),
        Cell::optional_text(refs.agent_login),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cell: Cell, expected: &str) {
        assert_eq!(cell.csv_text(), expected, "{cell:?}");
    }

    #[test]
    fn cells_as_csv_text() {
        check(Cell::Empty, "");
        check(Cell::text("山田"), "山田");
        check(Cell::text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        check(Cell::text("-1"), "'-1");
        check(Cell::Integer(-1), "-1");
        check(Cell::Date(time::macros::date!(2024 - 01 - 05)), "2024-01-05");
        check(Cell::DateTime(time::macros::datetime!(2024-01-05 01:30 UTC)), "2024-01-05T10:30:00+09:00");
    }

    #[test]
    fn csv_has_bom_crlf_and_refuses_ragged_rows() {
        let table = Table {
            columns: vec!["a".to_owned(), "b".to_owned()],
            rows: vec![vec![Cell::text("x,y"), Cell::Integer(1)]],
        };
        let bytes = table.to_csv().unwrap();
        assert_eq!(bytes, b"\xEF\xBB\xBFa,b\r\n\"x,y\",1\r\n");
        let ragged = Table { columns: vec!["a".to_owned()], rows: vec![vec![]] };
        assert!(matches!(ragged.to_csv(), Err(ExportError::RowWidth { expected: 1, got: 0 })));
    }

    #[test]
    fn xlsx_stops_at_the_sheet_row_limit() {
        let mut sink = XlsxSink::new("顧客", &["a"]).unwrap();
        sink.max_rows = 3;
        sink.write_row(&[Cell::Integer(1)]).unwrap();
        sink.write_row(&[Cell::Integer(2)]).unwrap();
        assert!(matches!(sink.write_row(&[Cell::Integer(3)]), Err(ExportError::TooManyRows { max: 3 })));
        assert!(sink.finish().unwrap().starts_with(b"PK"));
    }

    #[test]
    fn xlsx_refuses_a_bad_sheet_name() {
        assert!(matches!(XlsxSink::new("a/b", &["a"]), Err(ExportError::Xlsx(_))));
    }
}
