//! Storage of kimochi. One [`Store`] trait, implemented twice: [`SqliteStore`] (embedded, the
//! default: one file in a data directory) and [`PostgresStore`] (production, several kimochi
//! instances share one database). Each engine has its own migrations under `migrations/`.
//!
//! Invariants: every method takes the tenant and every query filters on it, so an id of another
//! tenant reads as "not found"; every write that changes a customer's orders or contacts
//! recomputes that customer's aggregates in the same transaction; nothing outside this crate
//! writes SQL.

mod admin;
mod alerts;
mod behavior;
mod campaigns;
mod email;
mod error;
mod hearing;
mod karte;
mod migrate;
mod postgres;
mod scores;
mod segments;
mod shared;
mod sqlite;
mod voc;

use async_trait::async_trait;
use kimochi_domain::import::*;
use kimochi_domain::segment::{NewSegment, Segment, SegmentId, SegmentRule};
use kimochi_domain::*;
use time::OffsetDateTime;

pub use admin::{UserAccount, UserChange};
pub use campaigns::{
    CallAttempt, CallRecorded, CallTask, CampaignEmailsQueued, CampaignMember, CampaignMemberFacts, CampaignRunReport,
    lease_holder,
};
pub use email::{EmailQuery, MAX_EMAILS};
pub use error::StoreError;
pub use hearing::{MAX_PROSPECTS, ProspectRow};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use voc::{ReasonDayCount, SubscriberOutcome, VocContacts, VocPeriod, VocText};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How a customer search is asked: free text matched against name, kana, phone digits and email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerQuery {
    pub text: String,
    pub limit: u32,
}

/// One hit of a customer search: enough to choose the right person from a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerSummary {
    pub id: CustomerId,
    pub external_id: Option<ExternalId>,
    pub name: String,
    pub kana: Option<String>,
    pub phones: Vec<PhoneNumber>,
    pub emails: Vec<Email>,
    pub prefecture: Option<String>,
    pub birth_date: Option<time::Date>,
    pub last_contact_at: Option<OffsetDateTime>,
}

/// Limits of the karte read, so that a customer with ten thousand contacts still answers fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KarteLimits {
    pub orders: u32,
    pub contacts: u32,
    pub kimochi_notes: u32,
    pub handover_notes: u32,
}

impl Default for KarteLimits {
    fn default() -> Self {
        KarteLimits { orders: 20, contacts: 50, kimochi_notes: 100, handover_notes: 20 }
    }
}

/// The principal behind an API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPrincipal {
    pub token_id: ApiTokenId,
    pub tenant_id: TenantId,
    pub role: Role,
}

/// A login session of a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: OffsetDateTime,
}

/// A user with the password hash needed to check a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

/// A page of a tenant's rows in id order, for exports that must not hold a million rows at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows with an id greater than this.
    pub after_id: i64,
    pub limit: u32,
}

/// How many rows a tenant holds, for the demo summary and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TenantCounts {
    pub customers: i64,
    pub orders: i64,
    pub contacts: i64,
    pub kimochi_notes: i64,
}

/// How many of a webhook's deliveries are done, waiting (or retrying), or given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WebhookCounts {
    pub delivered: i64,
    pub pending: i64,
    pub given_up: i64,
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered {
        at: OffsetDateTime,
    },
    /// `retry_at` is `None` when the worker gives up.
    Failed {
        error: String,
        retry_at: Option<OffsetDateTime>,
    },
}

pub use alerts::MAX_ALERTS;

/// The storage contract. Both engines pass the same conformance suite (`tests/conformance.rs`).
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Which engine this is (`sqlite` or `postgres`), for logs and metrics.
    fn engine(&self) -> &'static str;

    // Tenants, teams, users, credentials.
    async fn tenant_create(&self, slug: &TenantSlug, name: &str, now: OffsetDateTime) -> Result<Tenant>;
    async fn tenant_list(&self) -> Result<Vec<Tenant>>;
    async fn tenant_by_slug(&self, slug: &str) -> Result<Tenant>;
    async fn team_create(&self, tenant: TenantId, name: &str) -> Result<Team>;
    async fn team_list(&self, tenant: TenantId) -> Result<Vec<Team>>;
    async fn user_create(&self, tenant: TenantId, user: &NewUser, now: OffsetDateTime) -> Result<User>;
    async fn user_list(&self, tenant: TenantId) -> Result<Vec<User>>;
    async fn user_get(&self, tenant: TenantId, id: UserId) -> Result<User>;
    async fn user_credentials(&self, tenant: TenantId, login: &str) -> Result<UserCredentials>;
    async fn api_token_create(
        &self,
        tenant: TenantId,
        role: Role,
        label: &str,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<ApiTokenId>;
    async fn api_token_principal(&self, token_hash: &str) -> Result<TokenPrincipal>;
    async fn session_create(
        &self,
        session_hash: &str,
        tenant: TenantId,
        user: UserId,
        csrf_token: &str,
        expires_at: OffsetDateTime,
    ) -> Result<()>;
    async fn session_get(&self, session_hash: &str, now: OffsetDateTime) -> Result<Session>;
    async fn session_delete(&self, session_hash: &str) -> Result<()>;

    // Customers.
    async fn customer_create(
        &self,
        tenant: TenantId,
        profile: &CustomerProfile,
        now: OffsetDateTime,
    ) -> Result<Customer>;
    async fn customer_update(
        &self,
        tenant: TenantId,
        id: CustomerId,
        profile: &CustomerProfile,
        now: OffsetDateTime,
    ) -> Result<Customer>;
    async fn customer_delete(&self, tenant: TenantId, id: CustomerId) -> Result<()>;
    async fn customer_get(&self, tenant: TenantId, id: CustomerId) -> Result<Customer>;
    async fn customer_stats(&self, tenant: TenantId, id: CustomerId) -> Result<CustomerStats>;
    async fn customer_search(&self, tenant: TenantId, query: &CustomerQuery) -> Result<Vec<CustomerSummary>>;
    async fn customer_page(&self, tenant: TenantId, page: Page) -> Result<Vec<(Customer, CustomerStats)>>;
    async fn karte(&self, tenant: TenantId, id: CustomerId, limits: KarteLimits) -> Result<Karte>;

    // Products.
    async fn product_create(&self, tenant: TenantId, product: &NewProduct) -> Result<Product>;
    async fn product_list(&self, tenant: TenantId) -> Result<Vec<Product>>;
    async fn product_get(&self, tenant: TenantId, id: ProductId) -> Result<Product>;

    // Orders and contacts: each write recomputes the customer's aggregates in its transaction.
    async fn order_create(&self, tenant: TenantId, order: &NewOrder) -> Result<Order>;
    async fn order_get(&self, tenant: TenantId, id: OrderId) -> Result<Order>;
    async fn order_list(&self, tenant: TenantId, customer: CustomerId, limit: u32) -> Result<Vec<Order>>;
    async fn order_page(&self, tenant: TenantId, page: Page) -> Result<Vec<Order>>;
    async fn contact_create(&self, tenant: TenantId, contact: &NewContact) -> Result<Contact>;
    async fn contact_get(&self, tenant: TenantId, id: ContactId) -> Result<Contact>;
    async fn contact_list(&self, tenant: TenantId, customer: CustomerId, limit: u32) -> Result<Vec<Contact>>;
    async fn contact_page(&self, tenant: TenantId, page: Page) -> Result<Vec<Contact>>;

    // Kimochi, handover notes, FAQ.
    async fn kimochi_note_create(&self, tenant: TenantId, note: &NewKimochiNote) -> Result<KimochiNote>;
    async fn kimochi_note_list(&self, tenant: TenantId, customer: CustomerId, limit: u32) -> Result<Vec<KimochiNote>>;
    async fn handover_note_create(&self, tenant: TenantId, note: &NewHandoverNote) -> Result<HandoverNote>;
    async fn handover_note_list(&self, tenant: TenantId, customer: CustomerId, limit: u32)
    -> Result<Vec<HandoverNote>>;
    async fn faq_create(&self, tenant: TenantId, faq: &NewFaq, now: OffsetDateTime) -> Result<Faq>;
    async fn faq_update(&self, tenant: TenantId, id: FaqId, faq: &NewFaq, now: OffsetDateTime) -> Result<Faq>;
    async fn faq_delete(&self, tenant: TenantId, id: FaqId) -> Result<()>;
    async fn faq_get(&self, tenant: TenantId, id: FaqId) -> Result<Faq>;
    async fn faq_list(&self, tenant: TenantId) -> Result<Vec<Faq>>;

    // Audit.
    async fn audit_append(&self, tenant: TenantId, entry: &AuditEntry) -> Result<()>;
    /// Appends many entries (of any tenants) in one transaction: the web edge groups the audit
    /// rows of concurrent requests into one commit.
    async fn audit_append_batch(&self, entries: &[(TenantId, AuditEntry)]) -> Result<()>;
    async fn audit_list(&self, tenant: TenantId, limit: u32) -> Result<Vec<AuditEntry>>;

    // Imports: all-or-nothing per call unless `options.on_invalid` is `Skip`.
    async fn import_customers(
        &self,
        tenant: TenantId,
        rows: &[Line<CustomerProfile>],
        options: ImportOptions,
        now: OffsetDateTime,
    ) -> Result<ImportReport>;
    async fn import_products(
        &self,
        tenant: TenantId,
        rows: &[Line<ProductImport>],
        options: ImportOptions,
    ) -> Result<ImportReport>;
    async fn import_orders(
        &self,
        tenant: TenantId,
        rows: &[Line<OrderImport>],
        options: ImportOptions,
    ) -> Result<ImportReport>;
    async fn import_contacts(
        &self,
        tenant: TenantId,
        rows: &[Line<ContactImport>],
        options: ImportOptions,
    ) -> Result<ImportReport>;

    // Bulk loading of generated data and set-based upkeep.
    async fn bulk_load(&self, tenant: TenantId, chunk: &BulkChunk, now: OffsetDateTime) -> Result<()>;
    async fn tenant_counts(&self, tenant: TenantId) -> Result<TenantCounts>;
    /// Refreshes the query planner's statistics; call after bulk loads.
    async fn analyze(&self) -> Result<()>;

    // Scoring (`kimochi analyze`).
    /// Up to `limit` customers with ids above `after`, in id order, with the aggregates scoring
    /// reads (kept current at write time, so no history is rescanned).
    async fn scoring_rows(&self, tenant: TenantId, after: Option<CustomerId>, limit: u32) -> Result<Vec<ScoringRow>>;
    /// Writes (replaces) the scores of the given customers, all in one transaction.
    async fn scores_write(&self, tenant: TenantId, scores: &[CustomerScore]) -> Result<()>;
    /// Records a finished scoring run.
    async fn score_run_record(
        &self,
        tenant: TenantId,
        as_of: time::Date,
        scored_at: OffsetDateTime,
        customers: i64,
        summary: &str,
    ) -> Result<ScoreRun>;
    /// The latest scoring run of a tenant, if any.
    async fn score_run_latest(&self, tenant: TenantId) -> Result<Option<ScoreRun>>;
    /// The latest scores of one customer, if a run has scored them.
    async fn customer_score(&self, tenant: TenantId, id: CustomerId) -> Result<Option<CustomerScore>>;
    /// Up to `limit` customers whose latest score is in one RFM cell (111–555), in id order after
    /// `after`, with their scores: the list behind a cell of the heat map and its export.
    async fn scores_by_cell(
        &self,
        tenant: TenantId,
        rfm_cell: u16,
        after: Option<CustomerId>,
        limit: u32,
    ) -> Result<Vec<(CustomerSummary, CustomerScore)>>;

    // Administration (migration 0008, `admin.rs`).
    /// Every user of a tenant, deactivated ones too, by login.
    async fn user_accounts(&self, tenant: TenantId) -> Result<Vec<UserAccount>>;
    /// Changes a user's role, team and active flag; deactivating deletes their sessions in the
    /// same transaction, and a deactivated user can no longer log in.
    async fn user_update(
        &self,
        tenant: TenantId,
        id: UserId,
        change: &UserChange,
        now: OffsetDateTime,
    ) -> Result<UserAccount>;
    /// The tenant's stage thresholds; the defaults until an administrator sets them.
    async fn stage_thresholds(&self, tenant: TenantId) -> Result<StageThresholds>;
    /// Validates and stores the tenant's stage thresholds.
    async fn stage_thresholds_set(
        &self,
        tenant: TenantId,
        thresholds: &StageThresholds,
        now: OffsetDateTime,
    ) -> Result<()>;
    /// The tenant's own kimochi lexicon (TSV, the built-in lexicons' format), if it set one.
    async fn tenant_lexicon(&self, tenant: TenantId) -> Result<Option<String>>;
    /// Replaces the tenant's own lexicon; the caller has checked it parses (the store keeps text).
    async fn tenant_lexicon_set(&self, tenant: TenantId, source: &str, now: OffsetDateTime) -> Result<()>;

    // Crisis words, alerts and webhooks (migration 0003). A contact whose tags carry crisis
    // matches gets its alert, and one outbox row per webhook, in the transaction that stores it.
    /// Adds a tenant's own crisis word; `Conflict("phrase")` when its matching key is taken.
    async fn crisis_word_create(
        &self,
        tenant: TenantId,
        word: &NewCrisisWord,
        now: OffsetDateTime,
    ) -> Result<CrisisWord>;
    async fn crisis_word_update(&self, tenant: TenantId, id: CrisisWordId, word: &NewCrisisWord) -> Result<CrisisWord>;
    async fn crisis_word_delete(&self, tenant: TenantId, id: CrisisWordId) -> Result<()>;
    async fn crisis_word_get(&self, tenant: TenantId, id: CrisisWordId) -> Result<CrisisWord>;
    async fn crisis_word_list(&self, tenant: TenantId) -> Result<Vec<CrisisWord>>;
    /// Alerts newest first (at most [`MAX_ALERTS`]).
    async fn alert_list(&self, tenant: TenantId, query: &AlertQuery) -> Result<Vec<Alert>>;
    async fn alert_get(&self, tenant: TenantId, id: AlertId) -> Result<Alert>;
    async fn alert_of_contact(&self, tenant: TenantId, contact: ContactId) -> Result<Option<Alert>>;
    /// Marks an alert acknowledged; the first acknowledgement stands.
    async fn alert_acknowledge(
        &self,
        tenant: TenantId,
        id: AlertId,
        by: Option<UserId>,
        now: OffsetDateTime,
    ) -> Result<Alert>;
    /// Adds a webhook; `Conflict("url")` when the tenant has it already.
    async fn webhook_create(&self, tenant: TenantId, url: &str, secret: &str, now: OffsetDateTime) -> Result<Webhook>;
    async fn webhook_list(&self, tenant: TenantId) -> Result<Vec<(Webhook, WebhookCounts)>>;
    async fn webhook_delete(&self, tenant: TenantId, id: WebhookId) -> Result<()>;
    /// Claims up to `limit` due deliveries of every tenant for `lease` (the delivery worker is
    /// process-wide, like the audit writer): a claimed row is not handed out again until the
    /// lease runs out or it is finished.
    async fn webhook_deliveries_claim(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>>;
    async fn webhook_delivery_finish(&self, id: WebhookDeliveryId, outcome: &DeliveryOutcome) -> Result<()>;
    /// Contacts per operator, channel and reason, and alerts, in `[from, to)`.
    async fn board_counts(&self, tenant: TenantId, from: OffsetDateTime, to: OffsetDateTime) -> Result<BoardCounts>;

    // Voice-of-customer reports (`voc.rs`): period-filtered, bounded reads.
    /// Up to `limit` texts of `which` contacts started in `period`, with ids above `after`, in
    /// id order.
    async fn voc_texts(
        &self,
        tenant: TenantId,
        which: VocContacts,
        period: VocPeriod,
        after: Option<ContactId>,
        limit: u32,
    ) -> Result<Vec<VocText>>;
    /// Inbound contacts of `period` counted per call reason and JST day, in day order; at most
    /// `limit` rows.
    async fn voc_reason_days(&self, tenant: TenantId, period: VocPeriod, limit: u32) -> Result<Vec<ReasonDayCount>>;
    /// Current and former subscribers with a score, in id order after `after`, at most `limit`
    /// (≤ 10,000): deliveries received and whether the latest scores see them as having left.
    async fn voc_subscribers(
        &self,
        tenant: TenantId,
        after: Option<CustomerId>,
        limit: u32,
    ) -> Result<Vec<SubscriberOutcome>>;

    // --- email (issue 6) --- the outbox and its tracking (migration 0012, `email.rs`).
    /// Queues one email per row, all or nothing: a row whose customer is unknown, has no email
    /// address or no email consent, or whose subject/body is invalid refuses the whole batch with
    /// `ImportRejected`, each refused row named by its 1-based position (`line`) and field. The
    /// links of the bodies are recorded per message (the only click targets), and each message
    /// gets a random tracking token and a Message-ID. Returns the ids in row order.
    async fn email_enqueue(
        &self,
        tenant: TenantId,
        emails: &[kimochi_domain::mail::NewEmail],
        now: OffsetDateTime,
    ) -> Result<Vec<kimochi_domain::mail::EmailMessageId>>;
    async fn email_get(
        &self,
        tenant: TenantId,
        id: kimochi_domain::mail::EmailMessageId,
    ) -> Result<kimochi_domain::mail::EmailMessage>;
    /// Messages newest first (at most [`MAX_EMAILS`]), optionally of one customer or campaign.
    async fn email_list(&self, tenant: TenantId, query: &EmailQuery)
    -> Result<Vec<kimochi_domain::mail::EmailMessage>>;
    /// Claims up to `limit` due messages of every tenant for `lease` (the sender is
    /// process-wide): a claimed message is not handed out again until the lease runs out or it
    /// is finished. Messages whose customer withdrew email consent end `failed` instead.
    async fn email_claim(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: u32,
    ) -> Result<Vec<kimochi_domain::mail::OutgoingEmail>>;
    /// Records how an attempt ended; `Sent` and `Bounced` record their contact in the same
    /// transaction. A message no longer `sending` (finished by another sender) is left alone.
    async fn email_finish(
        &self,
        tenant: TenantId,
        id: kimochi_domain::mail::EmailMessageId,
        outcome: &kimochi_domain::mail::EmailSendOutcome,
    ) -> Result<()>;
    /// Records an open, click or one-click unsubscribe of the message with this tracking token
    /// (the tenant is the message's). `NotFound` for a malformed or unknown token or link
    /// number, with nothing recorded. Opens within an hour of the last recorded one and a second
    /// unsubscribe are answered but not recorded again; an unsubscribe sets the customer's email
    /// consent to false.
    async fn email_track(
        &self,
        token: &str,
        event: kimochi_domain::mail::TrackEvent,
        now: OffsetDateTime,
    ) -> Result<kimochi_domain::mail::TrackResult>;
    /// Imports behavioural data (T1) in one transaction, all or nothing unless `options` skip bad
    /// rows: survey answers and web visits into `behavior_events`, email opens and clicks as
    /// email-event contacts. A row whose customer (external id, email or phone) is not found or
    /// is ambiguous is a bad row. Rows imported before are left alone and not counted.
    async fn import_events(
        &self,
        tenant: TenantId,
        rows: &[Line<kimochi_domain::behavior::EventImport>],
        options: ImportOptions,
    ) -> Result<ImportReport>;
    /// A customer's survey answers and web visits, newest first (at most 500).
    async fn behavior_event_list(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        limit: u32,
    ) -> Result<Vec<kimochi_domain::behavior::BehaviorEvent>>;

    // --- campaigns (issue 6) ---
    // Outbound care campaigns (migration 0011, `campaigns.rs`).
    /// Creates a campaign with a snapshot of `members` (every one a customer of the tenant, at
    /// least one) split into treatment and a holdout by the stored seed.
    async fn campaign_create(
        &self,
        tenant: TenantId,
        campaign: &kimochi_domain::campaign::NewCampaign,
        now: OffsetDateTime,
    ) -> Result<kimochi_domain::campaign::Campaign>;
    /// The tenant's campaigns, newest first.
    async fn campaign_list(&self, tenant: TenantId) -> Result<Vec<kimochi_domain::campaign::Campaign>>;
    async fn campaign_get(
        &self,
        tenant: TenantId,
        id: kimochi_domain::campaign::CampaignId,
    ) -> Result<kimochi_domain::campaign::Campaign>;
    /// Renames a campaign or changes its purpose (members, holdout and steps are fixed).
    async fn campaign_update(
        &self,
        tenant: TenantId,
        id: kimochi_domain::campaign::CampaignId,
        name: &str,
        purpose: &str,
    ) -> Result<kimochi_domain::campaign::Campaign>;
    /// Deletes a campaign with its members, due emails and attempt log (the contacts stay).
    async fn campaign_delete(&self, tenant: TenantId, id: kimochi_domain::campaign::CampaignId) -> Result<()>;
    /// Up to `limit` (≤ 1,000) members after `after`, in member id order.
    async fn campaign_members(
        &self,
        tenant: TenantId,
        id: kimochi_domain::campaign::CampaignId,
        after: Option<kimochi_domain::campaign::CampaignMemberId>,
        limit: u32,
    ) -> Result<Vec<CampaignMember>>;
    /// The step runner: moves every treatment member of the tenant's campaigns as far as `now`
    /// allows (`kimochi_domain::campaign::advance`), recording due emails and opening call lists.
    async fn campaign_run(&self, tenant: TenantId, now: OffsetDateTime) -> Result<CampaignRunReport>;
    /// Takes up to `limit` (≤ 1,000) due campaign emails and queues them in the email outbox in
    /// one transaction (never taken without being queued); refused rows (consent or address gone
    /// since the step) are taken and reported, not queued.
    async fn campaign_emails_queue(
        &self,
        tenant: TenantId,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<CampaignEmailsQueued>;
    /// Leases the next member to call to `holder` (see [`lease_holder`]) until `now + lease`:
    /// the one they hold already if it may still be served, else the next eligible one that
    /// nobody holds. Consent, do-not-call, attempts, spacing and allowed hours are checked in
    /// the query every time. `None` when nobody may be called now.
    async fn campaign_call_next(
        &self,
        tenant: TenantId,
        holder: &str,
        campaign: Option<kimochi_domain::campaign::CampaignId>,
        now: OffsetDateTime,
        lease: time::Duration,
    ) -> Result<Option<CallTask>>;
    /// Gives back whatever `holder` has leased.
    async fn campaign_call_release(&self, tenant: TenantId, holder: &str) -> Result<()>;
    /// Records an attempt on a member leased to `holder`: the contact (phone, outbound) and the
    /// bookkeeping (attempts, spacing, step end) in one transaction. `Conflict` without the lease.
    async fn campaign_call_record(
        &self,
        tenant: TenantId,
        campaign: kimochi_domain::campaign::CampaignId,
        member: kimochi_domain::campaign::CampaignMemberId,
        holder: &str,
        attempt: &CallAttempt,
    ) -> Result<CallRecorded>;
    /// What each member did in `[start, start + window)`: the input of the results.
    async fn campaign_results_facts(
        &self,
        tenant: TenantId,
        id: kimochi_domain::campaign::CampaignId,
        window: time::Duration,
    ) -> Result<(kimochi_domain::campaign::Campaign, Vec<CampaignMemberFacts>)>;

    // --- segments (issue 6) ---
    // A validated rule (`kimochi_domain::segment`) compiled to one SQL condition (`segments.rs`);
    // time windows count back from `as_of`. A product of another tenant is `InvalidRule`.
    /// How many of the tenant's customers the rule selects.
    async fn segment_count(&self, tenant: TenantId, rule: &SegmentRule, as_of: OffsetDateTime) -> Result<i64>;
    /// Up to `limit` (at most 10,000) customer ids the rule selects, above `after`, in id order.
    async fn segment_members(
        &self,
        tenant: TenantId,
        rule: &SegmentRule,
        as_of: OffsetDateTime,
        after: Option<CustomerId>,
        limit: u32,
    ) -> Result<Vec<CustomerId>>;
    /// Like [`Store::segment_members`], as summaries for lists and exports.
    async fn segment_member_summaries(
        &self,
        tenant: TenantId,
        rule: &SegmentRule,
        as_of: OffsetDateTime,
        after: Option<CustomerId>,
        limit: u32,
    ) -> Result<Vec<CustomerSummary>>;
    /// Saves a segment; `Conflict("segment name")` when the tenant has the name already.
    async fn segment_create(
        &self,
        tenant: TenantId,
        segment: &NewSegment,
        created_by: Option<UserId>,
        now: OffsetDateTime,
    ) -> Result<Segment>;
    async fn segment_update(
        &self,
        tenant: TenantId,
        id: SegmentId,
        segment: &NewSegment,
        now: OffsetDateTime,
    ) -> Result<Segment>;
    async fn segment_delete(&self, tenant: TenantId, id: SegmentId) -> Result<()>;
    async fn segment_get(&self, tenant: TenantId, id: SegmentId) -> Result<Segment>;
    /// The tenant's segments by name (at most 1,000).
    async fn segment_list(&self, tenant: TenantId) -> Result<Vec<Segment>>;

    // --- hearing points (issue 6) --- (migration 0010, `hearing.rs`)
    /// Validates and stores a hearing-point set; `Conflict("hearing set name")` when the name is
    /// taken. A set marked `default_inbound` takes that mark from the tenant's other sets.
    async fn hearing_set_create(
        &self,
        tenant: TenantId,
        set: &kimochi_domain::hearing::NewHearingSet,
        now: OffsetDateTime,
    ) -> Result<kimochi_domain::hearing::HearingSet>;
    /// Replaces a set's name, flags and questions; questions keep their answers by id, a
    /// question left out is deleted, or retired when it has answers.
    async fn hearing_set_update(
        &self,
        tenant: TenantId,
        id: kimochi_domain::hearing::HearingSetId,
        set: &kimochi_domain::hearing::NewHearingSet,
        now: OffsetDateTime,
    ) -> Result<kimochi_domain::hearing::HearingSet>;
    /// Deletes a set nobody answered; `Conflict("hearing set answers")` otherwise.
    async fn hearing_set_delete(&self, tenant: TenantId, id: kimochi_domain::hearing::HearingSetId) -> Result<()>;
    /// A set with its current (not retired) questions in order.
    async fn hearing_set_get(
        &self,
        tenant: TenantId,
        id: kimochi_domain::hearing::HearingSetId,
    ) -> Result<kimochi_domain::hearing::HearingSet>;
    async fn hearing_set_list(&self, tenant: TenantId) -> Result<Vec<kimochi_domain::hearing::HearingSet>>;
    /// The set shown on inbound contacts, if the tenant chose one.
    async fn hearing_set_default_inbound(
        &self,
        tenant: TenantId,
    ) -> Result<Option<kimochi_domain::hearing::HearingSet>>;
    /// Records a contact and its hearing checklist in one transaction: the capture is checked
    /// against its set inside it, and a bad answer stores neither.
    async fn contact_create_with_hearing(
        &self,
        tenant: TenantId,
        contact: &NewContact,
        capture: &kimochi_domain::hearing::HearingCapture,
    ) -> Result<(Contact, Vec<kimochi_domain::hearing::HearingAnswer>)>;
    async fn hearing_answers_of_contact(
        &self,
        tenant: TenantId,
        contact: ContactId,
    ) -> Result<Vec<kimochi_domain::hearing::HearingAnswer>>;
    /// The customer's latest answer per soft attribute, newest first.
    async fn hearing_soft_facts(
        &self,
        tenant: TenantId,
        customer: CustomerId,
    ) -> Result<Vec<kimochi_domain::hearing::SoftFact>>;
    /// Per operator and question: shown, asked and answered counts of answers heard in `[from, to)`.
    async fn hearing_asked_rates(
        &self,
        tenant: TenantId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<kimochi_domain::hearing::AskedRate>>;
    /// What the potential screening reads: customers with answered hearing points or potential
    /// notes (at most `limit` of each, bounded by [`MAX_PROSPECTS`]), in id order.
    async fn prospect_rows(&self, tenant: TenantId, limit: u32) -> Result<Vec<ProspectRow>>;
}

/// Opens a store from a URL: `sqlite://path/to/file.db` (created if missing) or
/// `postgres://…`. Migrations run on open.
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(PostgresStore::open(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(std::sync::Arc::new(SqliteStore::open(url).await?))
    } else {
        Err(StoreError::Config(format!("unsupported database URL {url:?}: use sqlite://FILE or postgres://…")))
    }
}
