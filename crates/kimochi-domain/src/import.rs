//! Records as an import file states them: each with the line it came from, and with references
//! to other records by the tenant's external ids, which the store resolves inside the import's
//! transaction. Also the bulk records the demo loader writes, which reference each other by
//! position in their chunk.

use time::OffsetDateTime;

use crate::model::*;
use crate::vocab::*;

/// A record and the 1-based line of the file it was read from (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<T> {
    pub line: u64,
    pub record: T,
}

/// One thing wrong with one row of an import: where, which column, what value, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub line: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}: {} (value {:?})", self.line, self.column, self.reason, self.value)
    }
}

/// A product row; idempotent by `external_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductImport {
    pub external_id: ExternalId,
    pub name: String,
    pub kind: ProductKind,
    pub category: Option<String>,
    pub price: i64,
}

/// One line of an order. Rows that share `external_id` are the lines of one order, in file order;
/// re-importing an order replaces its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderImport {
    pub external_id: ExternalId,
    pub customer_external_id: ExternalId,
    pub ordered_at: OffsetDateTime,
    pub product_external_id: ExternalId,
    pub quantity: i64,
    pub amount: i64,
    pub channel: Option<Channel>,
    pub ad_medium: Option<String>,
    pub is_subscription: bool,
}

/// A contact row; idempotent by `external_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactImport {
    pub external_id: ExternalId,
    pub customer_external_id: ExternalId,
    pub channel: Channel,
    pub direction: Direction,
    pub started_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
    pub reason: Option<String>,
    pub outcome: Option<Outcome>,
    pub text: String,
    /// External id of an earlier contact this one continues (same thread).
    pub thread_external_id: Option<ExternalId>,
    /// Login of the operator who handled it.
    pub agent_login: Option<String>,
    /// What the text engine heard in `text` (set by the importer, not read from the file).
    pub tags: crate::model::ContactTags,
}

/// What to do with rows that fail validation or reference unknown records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnInvalid {
    /// Import nothing if any row is bad (the default: nothing is ever half-written).
    #[default]
    Reject,
    /// Import the good rows and report the bad ones.
    Skip,
}

/// Whether an import writes or only checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportMode {
    #[default]
    Commit,
    /// Run every check, including references, then roll back.
    DryRun,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportOptions {
    pub on_invalid: OnInvalid,
    pub mode: ImportMode,
}

/// What an import did (or, in a dry run, would have done).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportReport {
    pub inserted: u64,
    pub updated: u64,
    pub skipped: u64,
    pub problems: Vec<RowProblem>,
}

/// A slice of generated data written in one transaction by the bulk loader. References between
/// records are positions in this chunk's vectors; products and users are referenced by id, as
/// they are created before any chunk.
#[derive(Debug, Clone, Default)]
pub struct BulkChunk {
    pub customers: Vec<CustomerProfile>,
    pub orders: Vec<BulkOrder>,
    pub contacts: Vec<BulkContact>,
    pub kimochi_notes: Vec<BulkKimochiNote>,
    pub handover_notes: Vec<BulkHandoverNote>,
    pub hearing_answers: Vec<BulkHearingAnswer>,
    pub behavior_events: Vec<BulkBehaviorEvent>,
}

/// One line of a hearing-point checklist recorded on a contact of the chunk; the answer's
/// customer, operator and time are the contact's.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkHearingAnswer {
    /// Position in [`BulkChunk::contacts`].
    pub contact: usize,
    pub set_id: crate::hearing::HearingSetId,
    pub question_id: crate::hearing::HearingQuestionId,
    pub asked: bool,
    pub value: Option<crate::hearing::AnswerValue>,
}

/// A survey answer or a web visit (email events are contacts).
#[derive(Debug, Clone, PartialEq)]
pub struct BulkBehaviorEvent {
    /// Position in [`BulkChunk::customers`].
    pub customer: usize,
    pub occurred_at: OffsetDateTime,
    pub detail: BulkEventDetail,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BulkEventDetail {
    Survey { survey: String, question: String, answer: String },
    Web { url: String },
}

#[derive(Debug, Clone)]
pub struct BulkOrder {
    /// Position in [`BulkChunk::customers`].
    pub customer: usize,
    pub ordered_at: OffsetDateTime,
    pub channel: Option<Channel>,
    pub ad_medium: Option<String>,
    pub is_subscription: bool,
    pub lines: Vec<NewOrderLine>,
}

#[derive(Debug, Clone)]
pub struct BulkContact {
    pub customer: usize,
    pub channel: Channel,
    pub direction: Direction,
    pub started_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
    pub agent_id: Option<crate::ids::UserId>,
    pub reason: Option<String>,
    pub outcome: Option<Outcome>,
    pub text: String,
    /// Position in [`BulkChunk::contacts`] of the contact that started the thread; it must come
    /// earlier in the vector.
    pub thread_of: Option<usize>,
    /// What the text engine heard in `text`.
    pub tags: crate::model::ContactTags,
}

#[derive(Debug, Clone)]
pub struct BulkKimochiNote {
    pub customer: usize,
    pub kind: KimochiKind,
    pub text: String,
    pub captured_by: Option<crate::ids::UserId>,
    pub captured_at: OffsetDateTime,
    /// Position in [`BulkChunk::contacts`] of the contact where it was heard.
    pub contact: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct BulkHandoverNote {
    pub customer: usize,
    pub kind: HandoverKind,
    pub text: String,
    pub author_id: Option<crate::ids::UserId>,
    pub created_at: OffsetDateTime,
}
