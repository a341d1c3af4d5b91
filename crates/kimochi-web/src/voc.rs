//! Voice-of-customer reports (VOC分析, issue 4): lost-order reasons, call reasons with emerging
//! topics, churn drivers. The one place that pages contacts out of the store into the pure cores
//! of `kimochi_text::voc`; the API, the analyst pages and `kimochi voc report` all call it, so
//! the three show the same numbers.
//!
//! Tokenising is CPU work: each page of texts is analysed on the blocking pool, never on the
//! async workers, and only term counts stay in memory between pages.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use kimochi_domain::datetime::{JST, format_date, format_jst, parse_date};
use kimochi_domain::{ContactId, Outcome, Role, TenantId, ValidationError};
use kimochi_store::{Store, StoreError, VocContacts, VocPeriod};
use kimochi_text::topic_churn::{TopicChurnConfig, TopicChurnMiner, TopicChurnReport};
use kimochi_text::voc::{
    CallReasonTable, EmergingConfig, EmergingTopic, LostOrderConfig, LostOrderMiner, PeriodUnit, ReasonDay,
    SalesResult, TermExtractor, TopicShift, call_reason_table, emerging_window,
};
use kimochi_text::{ContactTagger, TextError, mask_pii};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, Time};

use crate::AppState;
use crate::auth::Principal;
use crate::error::AppError;
use crate::extract::ApiQuery;

/// Contacts read per store call.
const PAGE: u32 = 5_000;
/// Rows of per-day reason counts read at most (reasons × days).
pub const MAX_REASON_ROWS: u32 = 200_000;
/// Periods the emerging topics compare the latest one with.
pub const BASELINE_PERIODS: u32 = 3;
/// Longest example utterance shown, in characters.
const EXAMPLE_CHARS: usize = 160;
/// Longest range a report covers.
const MAX_RANGE_DAYS: i64 = 3_660;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum VocError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Text(#[from] TextError),
    #[error("the analysis thread stopped")]
    Stopped,
}

impl From<VocError> for AppError {
    fn from(error: VocError) -> Self {
        match error {
            VocError::Store(error) => error.into(),
            other => {
                tracing::error!(error = %other, "VOC report failed");
                AppError::internal()
            }
        }
    }
}

/// The days a report covers (both ends included, Japan time) and the length of its periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportWindow {
    pub from: Date,
    pub to: Date,
    pub unit: PeriodUnit,
}

impl ReportWindow {
    /// From `from` and `to` as typed (YYYY-MM-DD, either may be missing) and a period code;
    /// without dates, the twelve months up to `end` (see [`default_end`]).
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        unit: Option<&str>,
        today: Date,
    ) -> Result<ReportWindow, ValidationError> {
        let to = match to.filter(|t| !t.is_empty()) {
            Some(text) => parse_date("to", text)?,
            None => today,
        };
        let from = match from.filter(|f| !f.is_empty()) {
            Some(text) => parse_date("from", text)?,
            // 29 February has no twin a year before: the year starts on 1 March then.
            None => match to.replace_year(to.year() - 1) {
                Ok(year_before) => year_before.next_day().unwrap_or(to),
                Err(_) => Date::from_calendar_date(to.year() - 1, time::Month::March, 1).unwrap_or(to),
            },
        };
        if from > to {
            return Err(ValidationError::new("from", &format_date(from), "is after `to`"));
        }
        if (to - from).whole_days() > MAX_RANGE_DAYS {
            return Err(ValidationError::new("from", &format_date(from), "the range may span at most ten years"));
        }
        let unit = match unit.filter(|u| !u.is_empty()) {
            Some(code) => PeriodUnit::from_code(code)
                .ok_or_else(|| ValidationError::new("period", code, "must be day, week or month"))?,
            None => PeriodUnit::Month,
        };
        Ok(ReportWindow { from, to, unit })
    }

    /// `[from 00:00, the day after to 00:00)` in Japan time.
    pub fn period(&self) -> VocPeriod {
        VocPeriod { from: midnight(self.from), to: midnight(self.to.next_day().unwrap_or(self.to)) }
    }
}

fn midnight(day: Date) -> OffsetDateTime {
    day.with_time(Time::MIDNIGHT).assume_offset(JST)
}

/// The range a report covered, as shown with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RangeJson {
    pub from: String,
    pub to: String,
}

impl From<&ReportWindow> for RangeJson {
    fn from(window: &ReportWindow) -> Self {
        RangeJson { from: format_date(window.from), to: format_date(window.to) }
    }
}

/// One lost-order term with its example utterances.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LostOrderTermJson {
    pub term: String,
    pub lost: u64,
    pub won: u64,
    pub lost_share: f64,
    pub won_share: f64,
    pub log_odds: f64,
    pub z: f64,
    /// Lost-order texts that mention the term, personal data masked, cut to 160 characters.
    pub examples: Vec<String>,
}

/// `GET /api/v1/voc/lost-order-reasons`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LostOrderReasons {
    pub range: RangeJson,
    pub method: &'static str,
    pub lost_contacts: u64,
    pub won_contacts: u64,
    pub terms: Vec<LostOrderTermJson>,
}

pub const LOST_ORDER_METHOD: &str = "Outbound contacts ending in lost_order (失注) against those ending in ordered (受注). \
Terms are content words of the IPADIC analysis as base forms, compound nouns joined, and bigrams of consecutive content words \
within a sentence; each contact counts a term once. Ranked by the z of the weighted log-odds ratio with an informative \
Dirichlet prior (Monroe, Colaresi & Quinn 2008; prior spread over both groups' frequencies, its total 500 or a tenth of the words counted, whichever is smaller); terms with z ≥ 1.96 and \
at least 3 mentions. Only the customer's reported speech is counted (sentences with 〜とのこと, 〜と言われた or quotes; \
texts without any are counted whole), and terms that merely state the outcome (見送る, 結構, 遠慮, 購入, 注文, 機会, \
今回 …) are left out: they separate lost from won by definition.";

/// Lost-order reasons (失注理由, K4) of the window.
pub async fn lost_order_reasons(
    store: &dyn Store,
    tenant: TenantId,
    window: &ReportWindow,
) -> Result<LostOrderReasons, VocError> {
    let analyzer = ContactTagger::shared()?.analyzer();
    let config = LostOrderConfig::default();
    let mut miner = LostOrderMiner::new(&config);
    let mut after: Option<ContactId> = None;
    loop {
        let page = store.voc_texts(tenant, VocContacts::SalesOutcomes, window.period(), after, PAGE).await?;
        let done = page.len() < PAGE as usize;
        after = page.last().map(|text| text.id);
        miner = tokio::task::spawn_blocking(move || {
            let mut extractor = TermExtractor::new(analyzer);
            for text in &page {
                let result =
                    if text.outcome == Some(Outcome::LostOrder) { SalesResult::Lost } else { SalesResult::Won };
                miner.add(&mut extractor, text.id.0, result, &text.text);
            }
            miner
        })
        .await
        .map_err(|_| VocError::Stopped)?;
        if done {
            break;
        }
    }
    let report = miner.finish(&config);
    let mut terms = Vec::with_capacity(report.terms.len());
    for term in report.terms {
        let mut examples = Vec::new();
        for id in &term.example_contacts {
            match store.contact_get(tenant, ContactId(*id)).await {
                Ok(contact) => examples.push(example_text(&contact.text)),
                // Deleted since it was counted: the example is simply missing.
                Err(StoreError::NotFound(_)) => {}
                Err(error) => return Err(error.into()),
            }
        }
        terms.push(LostOrderTermJson {
            term: term.term,
            lost: term.lost,
            won: term.won,
            lost_share: term.lost_share,
            won_share: term.won_share,
            log_odds: term.log_odds,
            z: term.z,
            examples,
        });
    }
    Ok(LostOrderReasons {
        range: window.into(),
        method: LOST_ORDER_METHOD,
        lost_contacts: report.lost_contacts,
        won_contacts: report.won_contacts,
        terms,
    })
}

/// An utterance as shown: personal data masked, cut to [`EXAMPLE_CHARS`].
fn example_text(text: &str) -> String {
    let masked = mask_pii(kimochi_text::normalize::bound(text)).text;
    let mut chars = masked.chars();
    let mut shown: String = chars.by_ref().take(EXAMPLE_CHARS).collect();
    if chars.next().is_some() {
        shown.push('…');
    }
    shown
}

/// `GET /api/v1/voc/call-reasons`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallReasons {
    pub range: RangeJson,
    pub method: &'static str,
    pub table: CallReasonTable,
    /// The per-day counts stopped at [`MAX_REASON_ROWS`]; the table misses the latest days.
    pub truncated: bool,
    pub emerging: EmergingJson,
}

/// Emerging topics of the latest period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmergingJson {
    /// The latest period `[latest_from, to]` and the baseline `[baseline_from, latest_from)`.
    pub latest_from: String,
    pub baseline_from: String,
    pub latest_contacts: u64,
    pub baseline_contacts: u64,
    pub method: &'static str,
    pub topics: Vec<EmergingTopic>,
}

pub const CALL_REASON_METHOD: &str = "Inbound contacts counted by their recorded reason (コールリーズン) and period \
(JST days; weeks start on Monday); contacts without a reason are (未分類).";

pub const EMERGING_METHOD: &str = "Terms (as for lost-order reasons) of inbound contacts in the latest period against \
the three periods before it (within the range). A topic emerges when the weighted log-odds z (latest against before, \
informative Dirichlet prior as for lost-order reasons) is at least 3.0 — strict, because thousands of terms are tested at once — the share of \
contacts mentioning it grew at least 1.5 times, and at least 5 contacts in the latest period mention it.";

/// Call reasons (コールリーズン, E4) by period, and the topics rising in the latest period.
pub async fn call_reasons(store: &dyn Store, tenant: TenantId, window: &ReportWindow) -> Result<CallReasons, VocError> {
    let rows = store.voc_reason_days(tenant, window.period(), MAX_REASON_ROWS).await?;
    let truncated = rows.len() >= MAX_REASON_ROWS as usize;
    let days: Vec<ReasonDay> = rows
        .into_iter()
        .map(|row| ReasonDay { reason: row.reason, day: row.day, contacts: u64::try_from(row.contacts).unwrap_or(0) })
        .collect();
    let table = call_reason_table(&days, window.unit);

    let end = window.to.next_day().unwrap_or(window.to);
    let (baseline_start, latest_start) = emerging_window(end, window.unit, BASELINE_PERIODS);
    let baseline_start = baseline_start.max(window.from);
    let period = VocPeriod { from: midnight(baseline_start), to: midnight(end) };
    let latest_at = midnight(latest_start);
    let analyzer = ContactTagger::shared()?.analyzer();
    let mut shift = TopicShift::default();
    let mut after: Option<ContactId> = None;
    loop {
        let page = store.voc_texts(tenant, VocContacts::Inbound, period, after, PAGE).await?;
        let done = page.len() < PAGE as usize;
        after = page.last().map(|text| text.id);
        shift = tokio::task::spawn_blocking(move || {
            let mut extractor = TermExtractor::new(analyzer);
            for text in &page {
                shift.add(&mut extractor, text.started_at >= latest_at, &text.text);
            }
            shift
        })
        .await
        .map_err(|_| VocError::Stopped)?;
        if done {
            break;
        }
    }
    let found = shift.finish(&EmergingConfig::default());
    Ok(CallReasons {
        range: window.into(),
        method: CALL_REASON_METHOD,
        table,
        truncated,
        emerging: EmergingJson {
            latest_from: format_date(latest_start.max(window.from)),
            baseline_from: format_date(baseline_start),
            latest_contacts: found.latest_contacts,
            baseline_contacts: found.before_contacts,
            method: EMERGING_METHOD,
            topics: found.topics,
        },
    })
}

/// One driver of churn from the latest scoring run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChurnDriverJson {
    pub code: String,
    pub label: String,
    /// `kimochi` (a kimochi signal) or `medium` (the ad medium, against the most common one).
    pub kind: String,
    pub relative_risk: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: Option<f64>,
    pub customers_with: Option<u64>,
    pub churned_with: Option<u64>,
}

/// The scoring run the drivers come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunJson {
    pub as_of: String,
    pub scored_at: String,
}

/// `GET /api/v1/voc/churn-drivers`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChurnDrivers {
    /// `None` when no scoring run exists yet (`kimochi analyze`).
    pub run: Option<RunJson>,
    pub method: &'static str,
    pub subscribers: Option<u64>,
    pub churned: Option<u64>,
    /// Most risk-raising first.
    pub drivers: Vec<ChurnDriverJson>,
    /// Words subscribers used while subscribed that go with leaving (kind `topic`, code
    /// `topic:<term>`), most risk-raising first; only those whose interval lies above 1.
    pub topics: Vec<ChurnDriverJson>,
    /// Subscribers whose contacts while subscribed were read for the topics.
    pub topic_subscribers_with_contacts: Option<u64>,
    pub topic_method: &'static str,
}

pub const CHURN_METHOD: &str = "From the latest scoring run (kimochi analyze): relative risks of cancelling a \
subscription at a monthly renewal decision, from a proportional-hazards (piecewise Poisson) model over every \
subscriber's renewals with a shifted-beta-geometric baseline, all drivers fitted jointly; 95% confidence interval \
exp(β ± 1.96·SE) and two-sided Wald p-value. Ad media are against the most common medium. A relative risk above 1 \
raises the risk of leaving; ranked by relative risk.";

pub const TOPIC_METHOD: &str = "Topics: the terms (content words and bigrams of the IPADIC analysis, the customer's \
reported speech only) of each subscriber's inbound contacts made between their first and their last subscription delivery \
- never the contact that cancels, which comes after the last delivery. For each term used by at least 30 subscribers of \
whom at least 5 left: the cancellation rate per renewal decision of those who used it against those who did not \
(Poisson rate ratio, 95% interval exp(ln RR ± 1.96·√(1/d₁ + 1/d₀))), the same exposure as the model above but one term \
at a time, not adjusted for the other drivers; terms whose interval lies above 1, top 15. Many terms are tested: a lone \
term near the edge of significance may be chance.";

/// Churn drivers (離反要因, B2): the latest scoring run's, ranked by relative risk, and the
/// topics (words) that go with leaving, read from the subscribers' contacts as of that run.
pub async fn churn_drivers(store: &dyn Store, tenant: TenantId) -> Result<ChurnDrivers, VocError> {
    let run = store.score_run_latest(tenant).await?;
    let Some(run) = run else {
        return Ok(ChurnDrivers {
            run: None,
            method: CHURN_METHOD,
            subscribers: None,
            churned: None,
            drivers: Vec::new(),
            topics: Vec::new(),
            topic_subscribers_with_contacts: None,
            topic_method: TOPIC_METHOD,
        });
    };
    let topics = topic_drivers(store, tenant, run.as_of).await?;
    let summary: serde_json::Value = serde_json::from_str(&run.summary).unwrap_or_default();
    let churn = &summary["churn"];
    let mut drivers = drivers_from_summary(&summary);
    drivers.sort_by(|a, b| b.relative_risk.total_cmp(&a.relative_risk).then_with(|| a.code.cmp(&b.code)));
    Ok(ChurnDrivers {
        run: Some(RunJson { as_of: format_date(run.as_of), scored_at: format_jst(run.scored_at) }),
        method: CHURN_METHOD,
        subscribers: churn["subscribers"].as_u64(),
        churned: churn["churned"].as_u64(),
        drivers,
        topics: topics
            .drivers
            .into_iter()
            .map(|topic| ChurnDriverJson {
                code: format!("topic:{}", topic.term),
                label: topic.term,
                kind: "topic".to_owned(),
                relative_risk: topic.relative_risk,
                ci_low: topic.ci_low,
                ci_high: topic.ci_high,
                p_value: Some(topic.p_value),
                customers_with: Some(topic.customers_with),
                churned_with: Some(topic.churned_with),
            })
            .collect(),
        topic_subscribers_with_contacts: Some(topics.with_contacts),
        topic_method: TOPIC_METHOD,
    })
}

/// The topic drivers of the subscribers as of `as_of` (see [`TOPIC_METHOD`]): their contacts
/// while subscribed, tokenised page by page on the blocking pool, against the latest scores'
/// view of who left.
pub async fn topic_drivers(store: &dyn Store, tenant: TenantId, as_of: Date) -> Result<TopicChurnReport, VocError> {
    let analyzer = ContactTagger::shared()?.analyzer();
    let period = VocPeriod { from: OffsetDateTime::UNIX_EPOCH, to: midnight(as_of.next_day().unwrap_or(as_of)) };
    let mut miner = TopicChurnMiner::new();
    let mut after: Option<ContactId> = None;
    loop {
        let page = store.voc_texts(tenant, VocContacts::Subscribed, period, after, PAGE).await?;
        let done = page.len() < PAGE as usize;
        after = page.last().map(|text| text.id);
        miner = tokio::task::spawn_blocking(move || {
            let mut extractor = TermExtractor::new(analyzer);
            for text in &page {
                miner.add(&mut extractor, text.customer_id.0, &text.text);
            }
            miner
        })
        .await
        .map_err(|_| VocError::Stopped)?;
        if done {
            break;
        }
    }
    let mut subscribers = Vec::new();
    let mut after: Option<kimochi_domain::CustomerId> = None;
    loop {
        let page = store.voc_subscribers(tenant, after, PAGE).await?;
        let done = page.len() < PAGE as usize;
        after = page.last().map(|s| s.customer_id);
        subscribers.extend(page.iter().map(|s| {
            // Renewal decisions faced, as in the churn model: one less for those still subscribed.
            let decisions = if s.churned { s.deliveries } else { s.deliveries.saturating_sub(1) };
            (s.customer_id.0, decisions, s.churned)
        }));
        if done {
            break;
        }
    }
    tokio::task::spawn_blocking(move || miner.finish(&subscribers, &TopicChurnConfig::default()))
        .await
        .map_err(|_| VocError::Stopped)
}

/// The drivers of a run summary's `churn.drivers`; entries without a finite relative risk and
/// interval are left out rather than drawn wrong.
pub fn drivers_from_summary(summary: &serde_json::Value) -> Vec<ChurnDriverJson> {
    let Some(list) = summary["churn"]["drivers"].as_array() else { return Vec::new() };
    list.iter()
        .filter_map(|d| {
            let code = d["code"].as_str()?.to_owned();
            let finite = |key: &str| d[key].as_f64().filter(|v| v.is_finite());
            Some(ChurnDriverJson {
                kind: if code.starts_with("medium:") { "medium" } else { "kimochi" }.to_owned(),
                label: d["label"].as_str().unwrap_or(&code).to_owned(),
                relative_risk: finite("relative_risk")?,
                ci_low: finite("ci_low")?,
                ci_high: finite("ci_high")?,
                p_value: finite("p_value"),
                customers_with: d["customers_with"].as_u64(),
                churned_with: d["churned_with"].as_u64(),
                code,
            })
        })
        .collect()
}

/// How long a computed report is served again before it is recomputed: the reports read every
/// contact of their range (seconds at a million customers), and analysts move between views and
/// back; ten minutes old is fresh enough for trends over months.
pub const CACHE_SECONDS: u64 = 600;
/// Reports kept at most; the oldest goes first.
const CACHE_ENTRIES: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ReportKind {
    LostOrders,
    CallReasons,
    ChurnDrivers,
}

type CacheKey = (TenantId, ReportKind, Date, Date, &'static str);

#[derive(Debug, Clone)]
enum CachedReport {
    LostOrders(Arc<LostOrderReasons>),
    CallReasons(Arc<CallReasons>),
    ChurnDrivers(Arc<ChurnDrivers>),
}

/// The reports this process made recently, per tenant, report and range (part of the web
/// state, so each server and each test has its own).
#[derive(Debug, Default)]
pub struct VocCache {
    entries: std::sync::Mutex<HashMap<CacheKey, (Instant, CachedReport)>>,
}

impl VocCache {
    fn get(&self, key: &CacheKey) -> Option<CachedReport> {
        let entries = self.entries.lock().ok()?;
        let (made, report) = entries.get(key)?;
        (made.elapsed().as_secs() < CACHE_SECONDS).then(|| report.clone())
    }

    fn put(&self, key: CacheKey, report: CachedReport) {
        let Ok(mut entries) = self.entries.lock() else { return };
        entries.retain(|_, (made, _)| made.elapsed().as_secs() < CACHE_SECONDS);
        if entries.len() >= CACHE_ENTRIES
            && let Some(oldest) = entries.iter().min_by_key(|(_, (made, _))| *made).map(|(key, _)| *key)
        {
            entries.remove(&oldest);
        }
        entries.insert(key, (Instant::now(), report));
    }

    /// [`lost_order_reasons`], or the same report made less than [`CACHE_SECONDS`] ago.
    pub async fn lost_order_reasons(
        &self,
        store: &dyn Store,
        tenant: TenantId,
        window: &ReportWindow,
    ) -> Result<Arc<LostOrderReasons>, VocError> {
        let key = (tenant, ReportKind::LostOrders, window.from, window.to, window.unit.code());
        if let Some(CachedReport::LostOrders(report)) = self.get(&key) {
            return Ok(report);
        }
        let report = Arc::new(lost_order_reasons(store, tenant, window).await?);
        self.put(key, CachedReport::LostOrders(report.clone()));
        Ok(report)
    }

    /// [`churn_drivers`], or the same report made less than [`CACHE_SECONDS`] ago (its topics
    /// read every subscriber's contacts).
    pub async fn churn_drivers(&self, store: &dyn Store, tenant: TenantId) -> Result<Arc<ChurnDrivers>, VocError> {
        let as_of = store.score_run_latest(tenant).await?.map(|run| run.as_of);
        let day = as_of.unwrap_or(Date::MIN);
        let key = (tenant, ReportKind::ChurnDrivers, day, day, "run");
        if let Some(CachedReport::ChurnDrivers(report)) = self.get(&key) {
            return Ok(report);
        }
        let report = Arc::new(churn_drivers(store, tenant).await?);
        self.put(key, CachedReport::ChurnDrivers(report.clone()));
        Ok(report)
    }

    /// [`call_reasons`], or the same report made less than [`CACHE_SECONDS`] ago.
    pub async fn call_reasons(
        &self,
        store: &dyn Store,
        tenant: TenantId,
        window: &ReportWindow,
    ) -> Result<Arc<CallReasons>, VocError> {
        let key = (tenant, ReportKind::CallReasons, window.from, window.to, window.unit.code());
        if let Some(CachedReport::CallReasons(report)) = self.get(&key) {
            return Ok(report);
        }
        let report = Arc::new(call_reasons(store, tenant, window).await?);
        self.put(key, CachedReport::CallReasons(report.clone()));
        Ok(report)
    }
}

/// Query of the three report endpoints.
#[derive(Debug, Default, Deserialize)]
pub struct ReportParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub period: Option<String>,
}

impl ReportParams {
    pub fn window(&self, today: Date) -> Result<ReportWindow, ValidationError> {
        ReportWindow::parse(self.from.as_deref(), self.to.as_deref(), self.period.as_deref(), today)
    }
}

/// The default last day of a report: the day the latest scoring run was made as of (the data's
/// "today", which for imported or demo data may lie in the past), else `today`.
pub async fn default_end(store: &dyn Store, tenant: TenantId, today: Date) -> Result<Date, VocError> {
    Ok(store.score_run_latest(tenant).await?.map_or(today, |run| run.as_of))
}

/// Today in Japan.
pub fn today() -> Date {
    crate::now().to_offset(JST).date()
}

fn require_analytics(principal: &Principal) -> Result<(), AppError> {
    match principal.role {
        Role::Analyst | Role::Supervisor | Role::Admin => Ok(()),
        Role::Agent => Err(AppError::forbidden()),
    }
}

type ApiResult = Result<axum::response::Response, AppError>;

fn ok<T: Serialize>(value: T) -> ApiResult {
    use axum::response::IntoResponse;
    Ok(axum::Json(value).into_response())
}

/// `GET /api/v1/voc/lost-order-reasons?from&to`.
pub async fn voc_lost_order_reasons_get(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> ApiResult {
    require_analytics(&principal)?;
    let window = params.window(default_end(state.store.as_ref(), principal.tenant_id, today()).await?)?;
    ok(state.voc_cache.lost_order_reasons(state.store.as_ref(), principal.tenant_id, &window).await?)
}

/// `GET /api/v1/voc/call-reasons?from&to&period`.
pub async fn voc_call_reasons_get(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> ApiResult {
    require_analytics(&principal)?;
    let window = params.window(default_end(state.store.as_ref(), principal.tenant_id, today()).await?)?;
    ok(state.voc_cache.call_reasons(state.store.as_ref(), principal.tenant_id, &window).await?)
}

/// `GET /api/v1/voc/churn-drivers`.
pub async fn voc_churn_drivers_get(State(state): State<AppState>, principal: Principal) -> ApiResult {
    require_analytics(&principal)?;
    ok(state.voc_cache.churn_drivers(state.store.as_ref(), principal.tenant_id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn windows_default_to_a_year_and_reject_nonsense() {
        let today = date!(2026 - 11 - 30);
        let window = ReportWindow::parse(None, None, None, today).unwrap();
        assert_eq!((window.from, window.to, window.unit), (date!(2025 - 12 - 01), today, PeriodUnit::Month));
        let window = ReportWindow::parse(Some("2026-03-01"), Some("2026-03-31"), Some("week"), today).unwrap();
        assert_eq!(window.period().from, midnight(date!(2026 - 03 - 01)));
        assert_eq!(window.period().to, midnight(date!(2026 - 04 - 01)));
        assert_eq!(window.period().from.offset(), JST);
        let leap = ReportWindow::parse(None, Some("2028-02-29"), None, today).unwrap();
        assert_eq!(leap.from, date!(2027 - 03 - 01));
        let error = |from, to, unit| ReportWindow::parse(from, to, unit, today).unwrap_err().field;
        assert_eq!(error(Some("2026-04-01"), Some("2026-03-01"), None), "from");
        assert_eq!(error(Some("2026-13-01"), None, None), "from");
        assert_eq!(error(None, Some("tomorrow"), None), "to");
        assert_eq!(error(None, None, Some("year")), "period");
        assert_eq!(error(Some("2000-01-01"), None, None), "from");
    }

    #[test]
    fn examples_are_masked_and_cut() {
        let shown = example_text("090-1234-5678 にお電話ください。");
        assert!(!shown.contains("1234") && shown.contains("[電話番号]"), "{shown}");
        let long = "あ".repeat(400);
        assert_eq!(example_text(&long).chars().count(), EXAMPLE_CHARS + 1);
    }

    #[test]
    fn drivers_are_read_from_the_summary() {
        let summary = serde_json::json!({"churn": {"drivers": [
            {"code": "advocate", "label": "推奨意向", "relative_risk": 0.5, "ci_low": 0.4, "ci_high": 0.6, "p_value": 0.001, "customers_with": 10, "churned_with": 2},
            {"code": "medium:紹介", "label": "広告媒体 紹介", "relative_risk": 0.4, "ci_low": 0.3, "ci_high": 0.5},
            {"code": "broken", "label": "x", "relative_risk": null, "ci_low": 1.0, "ci_high": 2.0}
        ]}});
        let drivers = drivers_from_summary(&summary);
        assert_eq!(drivers.len(), 2);
        assert_eq!((drivers[0].kind.as_str(), drivers[1].kind.as_str()), ("kimochi", "medium"));
        assert_eq!(drivers[0].customers_with, Some(10));
        assert!(drivers_from_summary(&serde_json::json!({})).is_empty());
    }
}
