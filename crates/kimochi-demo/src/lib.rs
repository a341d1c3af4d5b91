//! Deterministic demo data for kimochi: a Japanese single-product mail-order business (単品通販)
//! selling 「うるおい美容液」, with customers who come from seven ad media, request samples, buy
//! the trial set, are called about the main product, subscribe and eventually leave — and with
//! documented effects planted in that history ([`PLANTED`]) for analytics to rediscover.
//!
//! Pure: the end of the history and the seed are parameters; nothing reads the clock. Each
//! customer's data depends only on the seed and the customer's global index, so any split of
//! the customers into chunks, generated on any number of threads, gives the same data.
//! See `docs/demo-data.md`.

mod catalog;
mod effects;
mod hearing;
mod journey;
mod people;
mod random;
mod voice;

use kimochi_domain::hearing::{HearingQuestionId, HearingSetId};
use kimochi_domain::import::BulkChunk;
use kimochi_domain::{ProductId, UserId};
use time::Date;

pub use catalog::{DEMO_PASSWORD, DemoUser, demo_faq, demo_products, demo_teams, demo_users, product, team};
pub use effects::{AdMedium, LostOrderReason, PLANTED, PlantedEffects};
pub use hearing::demo_hearing_set;

/// Words that mark a crisis post (危機ワード, F5); the generator writes them only into the posts
/// and emails it flags in [`CustomerTruth::crisis`].
pub const CRISIS_WORDS: [&str; 5] = ["消費者センター", "訴える", "返金しろ", "炎上", "最悪"];

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// Number of customers in the whole data set; the caller splits `0..customers` into the
    /// ranges it passes to [`generate_chunk`].
    pub customers: u64,
    pub seed: u64,
    /// The end of the simulated history (exclusive): everything happens before midnight JST
    /// starting this day.
    pub as_of: Date,
    /// Length of the history in days.
    pub history_days: u32,
}

impl DemoConfig {
    /// Three years of history.
    pub const DEFAULT_HISTORY_DAYS: u32 = 3 * 365;

    pub fn new(customers: u64, seed: u64, as_of: Date) -> DemoConfig {
        DemoConfig { customers, seed, as_of, history_days: DemoConfig::DEFAULT_HISTORY_DAYS }
    }
}

/// Ids the store gave to the fixed records, which the generated records reference.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DemoIds {
    /// The ids of [`demo_products`], in the same order; all eight are required.
    pub products: Vec<ProductId>,
    /// The ids of the operators (role agent) of [`demo_users`], in the same order. With that
    /// exact list, contacts go to the right team (outbound calls to アウトバウンドケア, emails
    /// to メール・SNS対応 …); any other non-empty list is used for every kind of contact; an
    /// empty one leaves contacts without an agent.
    pub agents: Vec<UserId>,
    /// The store's ids of [`demo_hearing_set`] and of its questions in order; without them no
    /// hearing answers are generated.
    pub hearing_set: Option<HearingSetId>,
    pub hearing_questions: Vec<HearingQuestionId>,
}

/// How far a customer went down the funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// Requested a sample and bought nothing.
    SampleOnly,
    /// Bought the trial set and not the main product.
    TrialOnly,
    /// Bought the main product, never subscribed.
    MainOnly,
    /// Subscribed (定期) at some point.
    Subscriber,
}

/// What the generator knows about a customer that the database does not store: the planted
/// traits and outcomes, so analytics can be checked against the truth.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerTruth {
    /// Global index; the customer's external id is `C` and `index + 1` in 7 digits.
    pub index: u64,
    pub ad_medium: AdMedium,
    pub segment: Segment,
    pub acquired_on: Date,
    /// The expectation was not met (effect 1). A `Gap` kimochi note says so once it was heard.
    pub expectation_unmet: bool,
    /// Recommends the product to others (effect 4); one contact says 「…勧め…」 once heard.
    pub advocate: bool,
    /// The data holds at least [`PlantedEffects::no_contact_streak_min`] consecutive
    /// no-contact outbound attempts (effect 5).
    pub no_contact_streak: bool,
    /// The customer sent a post or email with a [`CRISIS_WORDS`] word.
    pub crisis: bool,
    /// The reason given on the lost-order call (effect 2), if there was one.
    pub lost_order_reason: Option<LostOrderReason>,
    pub subscribed_on: Option<Date>,
    /// Date of the cancellation contact, for subscribers who left.
    pub churned_on: Option<Date>,
    /// The monthly churn hazard the subscription was simulated with.
    pub monthly_churn_hazard: Option<f64>,
}

/// Generates the customers with global indexes `first_customer..first_customer + count`, with
/// their orders, contacts, kimochi notes, handover notes, hearing answers and behavioural
/// events, and the truth about each (same
/// order as `BulkChunk::customers`). The result does not depend on how a range is split.
pub fn generate_chunk(
    config: &DemoConfig,
    ids: &DemoIds,
    first_customer: u64,
    count: u64,
) -> (BulkChunk, Vec<CustomerTruth>) {
    let capacity = usize::try_from(count).unwrap_or(0);
    let mut chunk = BulkChunk {
        customers: Vec::with_capacity(capacity),
        orders: Vec::with_capacity(capacity.saturating_mul(11)),
        contacts: Vec::with_capacity(capacity.saturating_mul(6)),
        kimochi_notes: Vec::with_capacity(capacity.saturating_mul(3)),
        handover_notes: Vec::with_capacity(capacity / 4),
        hearing_answers: Vec::with_capacity(capacity.saturating_mul(3)),
        behavior_events: Vec::with_capacity(capacity),
    };
    let mut truths = Vec::with_capacity(capacity);
    let mut simulation = journey::Simulation::new(config, ids);
    for index in first_customer..first_customer.saturating_add(count) {
        truths.push(simulation.customer(index, &mut chunk));
    }
    (chunk, truths)
}
