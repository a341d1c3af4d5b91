//! File formats of kimochi: CSV imports in UTF-8 or Shift_JIS with Japanese or English headers,
//! and CSV (UTF-8 with BOM, CRLF) and xlsx exports whose columns the imports read back.
//!
//! Reading a file is two steps: [`decode`] its bytes, then parse the text with one of
//! [`parse_customers`], [`parse_products`], [`parse_orders`], [`parse_contacts`]. A problem with
//! the file as a whole is a [`FileError`]; problems with single rows are listed, each with its
//! line and column, next to the rows that are valid.

pub mod columns;
pub mod decode;
pub mod error;
pub mod events;
pub mod export;
pub mod import;
mod rows;
pub mod transactions;

pub use columns::{CUSTOMER_AGGREGATE_COLUMNS, ColumnSpec, ImportKind};
pub use decode::{Decoded, DetectedEncoding, Encoding, decode};
pub use error::{ExportError, FileError};
pub use events::parse_events;
pub use export::{
    Cell, ContactRefs, CsvSink, RowSink, Table, XLSX_MAX_ROWS, XlsxSink, attribute_keys, contact_columns, contact_row,
    customer_columns, customer_row, order_columns, order_rows,
};
pub use import::{parse_contacts, parse_customers, parse_orders, parse_products};
pub use rows::{Parsed, WHOLE_ROW};
pub use transactions::{TransactionColumns, TransactionRow, parse_transactions};
