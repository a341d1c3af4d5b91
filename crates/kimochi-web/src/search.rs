//! Full-text search (E2): `GET /api/v1/search/faq` and `GET /api/v1/search/voc`, and the hooks
//! that keep the index in step with what the API and pages write. The index itself is
//! `kimochi-search`; its work is CPU-bound, so it runs on Tokio's blocking threads.
//!
//! Invariants: the tenant comes from the principal and `kimochi-search` requires it in every
//! query; VOC texts are masked for roles that do not see personal data (B5) before a snippet is
//! cut, and VOC searches are audited; snippets are escaped (`snippet_html` only adds `<mark>`).
//! An index write that fails is logged and does not fail the request: the store is the truth,
//! and the catch-up (or `kimochi search reindex`) repairs the index.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use kimochi_domain::datetime::{JST, format_jst, parse_date, parse_datetime, to_unix};
use kimochi_domain::{Channel, Contact, CustomerId, Faq, FaqId, KimochiTag, Role, TenantId, ValidationError};
use kimochi_search::{SearchIndex, SearchQuery, Snippet, VocQuery};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Principal;
use crate::error::AppError;
use crate::extract::ApiQuery;

/// How often a server looks for contacts written by others (imports, the demo, other servers).
pub const CATCH_UP_EVERY: Duration = Duration::from_secs(10);

async fn blocking<T: Send + 'static>(
    index: &Arc<SearchIndex>,
    work: impl FnOnce(&SearchIndex) -> kimochi_search::Result<T> + Send + 'static,
) -> kimochi_search::Result<T> {
    let index = index.clone();
    tokio::task::spawn_blocking(move || work(&index))
        .await
        .map_err(|error| kimochi_search::SearchError::Task(error.to_string()))?
}

fn index_of(state: &AppState) -> Result<&Arc<SearchIndex>, AppError> {
    state.search.as_ref().ok_or_else(|| {
        tracing::error!("search requested but this server has no search index");
        AppError::internal()
    })
}

fn search_failed(error: kimochi_search::SearchError) -> AppError {
    tracing::error!(%error, "search failed");
    AppError::internal()
}

/// Runs an index write after the store's; a failure is logged, not returned (see the module doc).
async fn keep_in_step(
    state: &AppState,
    what: &'static str,
    work: impl FnOnce(&SearchIndex) -> kimochi_search::Result<()> + Send + 'static,
) {
    let Some(index) = &state.search else { return };
    let outcome = blocking(index, move |index| {
        work(index)?;
        index.commit()
    })
    .await;
    if let Err(error) = outcome {
        tracing::warn!(%error, what, "search index not updated; the catch-up or `kimochi search reindex` repairs it");
    }
}

/// After an FAQ article was created or updated.
pub async fn faq_written(state: &AppState, tenant: TenantId, faq: &Faq) {
    let faq = faq.clone();
    keep_in_step(state, "faq", move |index| index.put_faq(tenant, &faq)).await;
}

/// After an FAQ article was deleted.
pub async fn faq_deleted(state: &AppState, tenant: TenantId, id: FaqId) {
    keep_in_step(state, "faq", move |index| {
        index.delete_faq(tenant, id);
        Ok(())
    })
    .await;
}

/// After a contact was recorded.
pub async fn contact_written(state: &AppState, tenant: TenantId, contact: &Contact) {
    let contact = contact.clone();
    keep_in_step(state, "contact", move |index| index.put_contacts(tenant, std::slice::from_ref(&contact))).await;
}

/// After a customer (and so their contacts) was deleted.
pub async fn customer_deleted(state: &AppState, tenant: TenantId, customer: CustomerId) {
    keep_in_step(state, "customer", move |index| index.delete_customer(tenant, customer)).await;
}

/// Indexes what other processes wrote, every [`CATCH_UP_EVERY`], until the process ends; the
/// first round also refreshes every tenant's FAQ. Call once, from `serve`.
pub fn spawn_catch_up(state: &AppState) {
    let Some(index) = state.search.clone() else { return };
    let store = state.store.clone();
    tokio::spawn(async move {
        let mut first = true;
        loop {
            match kimochi_search::sync::catch_up_all(store.as_ref(), &index, first).await {
                Ok(indexed) if indexed.contacts > 0 || first => {
                    tracing::info!(faq = indexed.faq, contacts = indexed.contacts, "search index caught up");
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "search index catch-up failed; retrying"),
            }
            first = false;
            tokio::time::sleep(CATCH_UP_EVERY).await;
        }
    });
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaqSearchParams {
    #[serde(default)]
    q: String,
    limit: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VocSearchParams {
    #[serde(default)]
    q: String,
    limit: Option<u32>,
    from: Option<String>,
    to: Option<String>,
    channel: Option<String>,
    kimochi: Option<String>,
}

/// A snippet in the API: the plain text, the same escaped with matches in `<mark>`, and the
/// matched pieces for clients that render it themselves.
#[derive(Debug, Serialize)]
pub struct SnippetJson {
    pub text: String,
    pub html: String,
    pub matches: Vec<String>,
}

impl From<&Snippet> for SnippetJson {
    fn from(snippet: &Snippet) -> Self {
        SnippetJson {
            text: snippet.text(),
            html: snippet.to_html(),
            matches: snippet.fragments.iter().filter(|f| f.hit).map(|f| f.text.clone()).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct FaqHitJson {
    pub id: i64,
    pub title: String,
    pub title_snippet: SnippetJson,
    pub snippet: SnippetJson,
    pub score: f32,
}

#[derive(Debug, Serialize)]
pub struct VocHitJson {
    pub contact_id: i64,
    pub customer_id: i64,
    pub started_at: String,
    pub channel: Option<&'static str>,
    pub kimochi: Vec<&'static str>,
    pub snippet: SnippetJson,
    pub score: f32,
    /// True when personal data in the text was masked for the caller's role.
    pub masked: bool,
}

/// The query text, checked: at most [`kimochi_search::MAX_QUERY_CHARS`] characters.
pub fn query_text(q: &str) -> Result<String, AppError> {
    let text = q.trim();
    if text.chars().count() > kimochi_search::MAX_QUERY_CHARS {
        return Err(AppError::invalid(ValidationError::new("q", text, "is longer than 200 characters")));
    }
    Ok(text.to_owned())
}

fn limit(limit: Option<u32>) -> Result<usize, AppError> {
    match limit {
        None => Ok(10),
        Some(n @ 1..=50) => Ok(n as usize),
        Some(n) => Err(AppError::invalid(ValidationError::new("limit", &n.to_string(), "must be between 1 and 50"))),
    }
}

/// Searches a tenant's FAQ (used by the API and the karte's FAQ panel).
pub async fn faq_hits(
    state: &AppState,
    tenant: TenantId,
    text: String,
    limit: usize,
) -> Result<Vec<kimochi_search::FaqHit>, AppError> {
    let index = index_of(state)?;
    blocking(index, move |index| index.search_faq(tenant, &SearchQuery { text, limit })).await.map_err(search_failed)
}

/// `GET /api/v1/search/faq?q=&limit=`: FAQ articles matching `q`, best first.
pub async fn search_faq_get(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<FaqSearchParams>,
) -> Result<Response, AppError> {
    let text = query_text(&params.q)?;
    let limit = limit(params.limit)?;
    let hits = faq_hits(&state, principal.tenant_id, text, limit).await?;
    let hits: Vec<FaqHitJson> = hits
        .iter()
        .map(|hit| FaqHitJson {
            id: hit.id.0,
            title: hit.title.clone(),
            title_snippet: SnippetJson::from(&hit.title_snippet),
            snippet: SnippetJson::from(&hit.snippet),
            score: hit.score,
        })
        .collect();
    Ok(Json(serde_json::json!({ "hits": hits })).into_response())
}

/// A period bound: a date (a whole day in JST) or a date and time.
fn period_bound(field: &'static str, input: &str, end: bool) -> Result<i64, AppError> {
    if let Ok(date) = parse_date(field, input) {
        let day = if end { date.next_day().unwrap_or(date) } else { date };
        return Ok(to_unix(time::PrimitiveDateTime::new(day, time::Time::MIDNIGHT).assume_offset(JST)));
    }
    parse_datetime(field, input).map(to_unix).map_err(AppError::invalid)
}

fn codes<T>(input: Option<&str>, parse: impl Fn(&str) -> Result<T, ValidationError>) -> Result<Vec<T>, AppError> {
    let Some(input) = input else { return Ok(Vec::new()) };
    input
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .take(20)
        .map(|c| parse(c).map_err(AppError::invalid))
        .collect()
}

/// `GET /api/v1/search/voc?q=&from=&to=&channel=&kimochi=&limit=`: contacts whose VOC text
/// matches `q`, best first; `from`/`to` are dates (JST, both included) or date-times, `channel`
/// and `kimochi` comma-separated codes (any of them). Personal data in the text is masked for
/// roles without access; every search is audited.
pub async fn search_voc_get(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<VocSearchParams>,
) -> Result<Response, AppError> {
    let text = query_text(&params.q)?;
    let query = VocQuery {
        search: SearchQuery { text, limit: limit(params.limit)? },
        from: params
            .from
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| period_bound("from", s, false))
            .transpose()?,
        to: params.to.as_deref().filter(|s| !s.trim().is_empty()).map(|s| period_bound("to", s, true)).transpose()?,
        channels: codes(params.channel.as_deref(), Channel::parse)?,
        kimochi: codes(params.kimochi.as_deref(), KimochiTag::parse)?,
    };
    let hits = voc_hits(&state, principal.tenant_id, principal.role, query).await?;
    let entry = kimochi_domain::AuditEntry {
        at: crate::now(),
        actor: principal.actor,
        action: "voc.search".to_owned(),
        customer_id: None,
        detail: format!("{} hits", hits.len()),
    };
    state.audit.record(principal.tenant_id, entry).await?;
    Ok(Json(serde_json::json!({ "hits": hits })).into_response())
}

async fn voc_hits(
    state: &AppState,
    tenant: TenantId,
    role: Role,
    query: VocQuery,
) -> Result<Vec<VocHitJson>, AppError> {
    let index = index_of(state)?;
    let masked = !role.sees_personal_data();
    let hits = blocking(index, move |index| {
        let mask = |text: &str| if masked { kimochi_text::mask_pii(text).text } else { text.to_owned() };
        index.search_voc(tenant, &query, &mask)
    })
    .await
    .map_err(search_failed)?;
    Ok(hits
        .iter()
        .map(|hit| VocHitJson {
            contact_id: hit.contact_id.0,
            customer_id: hit.customer_id.0,
            started_at: format_jst(hit.at),
            channel: hit.channel.map(Channel::code),
            kimochi: hit.kimochi.iter().map(|k| k.code()).collect(),
            snippet: SnippetJson::from(&hit.snippet),
            score: hit.score,
            masked,
        })
        .collect())
}
