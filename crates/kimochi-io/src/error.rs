//! The errors of kimochi-io: what makes a whole file unreadable ([`FileError`]) and what makes an
//! export fail ([`ExportError`]). Problems with single rows are not errors but
//! [`RowProblem`](kimochi_domain::import::RowProblem)s, so that one bad row never hides the others.

/// A problem with the file as a whole: nothing in it can be imported until it is fixed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty")]
    Empty,
    /// The caller asked for one encoding (`UTF-8` or `Shift_JIS`) and the file is not in it.
    #[error("the file is not valid {encoding}: the first byte that cannot be read is on line {line}")]
    Undecodable { encoding: &'static str, line: u64 },
    #[error("the file is neither UTF-8 nor Shift_JIS: the first byte that cannot be read is on line {line}")]
    UnknownEncoding { line: u64 },
    #[error("the file is UTF-16 text; save it as CSV in UTF-8 or Shift_JIS instead")]
    Utf16,
    #[error("the file is an Excel workbook, not CSV; save it as CSV (UTF-8) and import that")]
    Workbook,
    #[error("the required column {column} (also written {aliases}) is missing; the file has the columns {found}")]
    MissingColumn { column: &'static str, aliases: String, found: String },
    #[error("the columns {first:?} and {second:?} both mean {column}; keep only one")]
    DuplicateColumn { column: String, first: String, second: String },
    #[error("the column {column:?} is unknown; accepted columns are {accepted}")]
    UnknownColumn { column: String, accepted: String },
    #[error("the column {column:?} cannot be used: {reason}")]
    InvalidColumn { column: String, reason: String },
    #[error("the file cannot be read as CSV at line {line}: {message}")]
    Csv { line: u64, message: String },
}

/// An export that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing the export failed")]
    Io(#[from] std::io::Error),
    #[error("writing the CSV export failed")]
    Csv(#[from] csv::Error),
    #[error("building the xlsx workbook failed")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// Excel cannot open a sheet longer than this; the caller should split or use CSV.
    #[error("an xlsx sheet holds at most {max} rows including the header; export fewer rows or use CSV")]
    TooManyRows { max: u32 },
    #[error("a row has {got} cells but the export has {expected} columns")]
    RowWidth { expected: usize, got: usize },
}
