//! What can go wrong in the store, in the caller's terms.

use kimochi_domain::import::RowProblem;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist for this tenant (it may exist for another; callers must not tell).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique key is taken, e.g. a tenant slug, a login or an external id.
    #[error("{0} already exists")]
    Conflict(String),
    /// A reference to another record of the tenant that does not exist (a product on an order,
    /// the thread a contact continues).
    #[error("{field} refers to a record that does not exist")]
    UnknownReference { field: &'static str },
    /// A value the domain refuses (too long, out of range, malformed).
    #[error("{0}")]
    Invalid(kimochi_domain::ValidationError),
    /// A segment rule the store refuses (e.g. naming another tenant's product), with the path
    /// of the bad node.
    #[error("{0}")]
    InvalidRule(kimochi_domain::segment::SegmentRuleError),
    /// An import had bad rows and nothing was written.
    #[error("{} rows were refused; nothing was imported", .0.len())]
    ImportRejected(Vec<RowProblem>),
    /// A stored value that the domain does not accept: the database was changed by hand or is
    /// from a newer version.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// A bulk write whose input stopped before its end (the producer failed); nothing was
    /// written.
    #[error("{0} stopped before the end; nothing was written")]
    Incomplete(&'static str),
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Maps unique-violation errors to `Conflict`, keeping the rest.
    pub(crate) fn from_write(error: sqlx::Error, what: &str) -> StoreError {
        if let sqlx::Error::Database(db) = &error {
            if db.is_unique_violation() {
                return StoreError::Conflict(what.to_owned());
            }
            if db.is_foreign_key_violation() {
                return StoreError::UnknownReference { field: "reference" };
            }
        }
        StoreError::Database(error)
    }
}
