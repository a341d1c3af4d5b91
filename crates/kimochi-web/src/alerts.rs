//! Crisis-word alerts at the web edge (issue 4 F5): each tenant's matcher (the built-in words
//! and its own, cached and rebuilt when they change), the tags every contact recorded through
//! the API or the pages gets, what happens once it is committed (the live stream, the webhook
//! worker), and the API: `/api/v1/crisis-words` (admin), `/api/v1/alerts` (supervisor, admin),
//! `/api/v1/webhooks` (admin).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kimochi_domain::*;
use kimochi_store::{Store, StoreError};
use kimochi_text::{CrisisList, Severity};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::AppState;
use crate::auth::Principal;
use crate::error::AppError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::live::{LiveEvent, LiveHub};
use crate::webhooks::WebhookWorker;

type ApiResult = Result<Response, AppError>;

/// How long a tenant's matcher is trusted without asking the database again. Changes made
/// through this process rebuild it at once; this bounds how long another instance sharing the
/// database keeps matching with an old list.
const CRISIS_CACHE_SECONDS: i64 = 60;

/// Everything alerts need in the application state.
#[derive(Debug, Clone)]
pub struct AlertHub {
    pub crisis: Arc<CrisisCache>,
    /// Each tenant's analyzer with its own lexicon (`tagging.rs`).
    pub lexicons: Arc<crate::tagging::LexiconCache>,
    pub live: LiveHub,
    pub webhooks: WebhookWorker,
}

impl AlertHub {
    /// Must be called inside a Tokio runtime: it starts the webhook worker.
    pub fn new(store: Arc<dyn Store>, config: crate::webhooks::WebhookConfig) -> AlertHub {
        AlertHub {
            crisis: Arc::new(CrisisCache::default()),
            lexicons: Arc::default(),
            live: LiveHub::default(),
            webhooks: WebhookWorker::spawn(store, config),
        }
    }
}

/// Each tenant's crisis-word matcher: built-in words merged with the tenant's own.
#[derive(Debug, Default)]
pub struct CrisisCache {
    entries: Mutex<CacheEntries>,
}

#[derive(Debug, Default)]
struct CacheEntries {
    lists: HashMap<TenantId, (Arc<CrisisList>, OffsetDateTime)>,
    /// Bumped by every change: a list loaded before a change is not cached after it.
    generations: HashMap<TenantId, u64>,
}

impl CrisisCache {
    /// The matcher of a tenant, loaded and built on first use and after a change.
    pub async fn list(&self, store: &dyn Store, tenant: TenantId) -> Result<Arc<CrisisList>, AppError> {
        let now = crate::now();
        let generation = {
            let entries = self.lock();
            if let Some((list, loaded_at)) = entries.lists.get(&tenant)
                && now - *loaded_at < time::Duration::seconds(CRISIS_CACHE_SECONDS)
            {
                return Ok(list.clone());
            }
            entries.generations.get(&tenant).copied().unwrap_or(0)
        };
        let words = store.crisis_word_list(tenant).await?;
        let builtin = crate::tagging::tagger()?.builtin_crisis();
        let list = builtin
            .with_tenant_words(words.iter().map(|w| (w.phrase.as_str(), Severity::from_domain(w.severity))))
            .map_err(|error| {
                tracing::error!(%error, tenant = tenant.0, "crisis words could not be compiled");
                AppError::internal()
            })?;
        let list = Arc::new(list);
        let mut entries = self.lock();
        if entries.generations.get(&tenant).copied().unwrap_or(0) == generation {
            entries.lists.insert(tenant, (list.clone(), now));
        }
        Ok(list)
    }

    /// Forgets a tenant's matcher after its words changed.
    pub fn invalidate(&self, tenant: TenantId) {
        let mut entries = self.lock();
        entries.lists.remove(&tenant);
        *entries.generations.entry(tenant).or_insert(0) += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheEntries> {
        // A panic while holding this lock leaves plain data behind: keep using it.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The tags of a contact about to be recorded for `tenant`: kimochi, polarity and the tenant's
/// crisis words with their spans (which the store turns into the contact's alert).
pub async fn contact_tags(state: &AppState, tenant: TenantId, text: &str) -> Result<ContactTags, AppError> {
    let list = state.alerts.crisis.list(state.store.as_ref(), tenant).await?;
    let analyzer = state.alerts.lexicons.analyzer(state.store.as_ref(), tenant).await?;
    Ok(kimochi_text::contact_tags_using(&analyzer, text, &list))
}

/// After a contact (and its alert, if any) is committed: tell the tenant's live board and
/// wake the webhook worker. Never fails the request: the contact is stored whatever happens here.
pub async fn contact_recorded(
    state: &AppState,
    tenant: TenantId,
    contact: &Contact,
    customer_name: &str,
    recorded_by: &str,
) {
    state.alerts.live.publish(tenant, LiveEvent::contact(contact, customer_name, recorded_by));
    if contact.tags.crisis_words == 0 {
        return;
    }
    match state.store.alert_of_contact(tenant, contact.id).await {
        Ok(Some(alert)) => {
            state.alerts.live.publish(tenant, LiveEvent::alert(&alert));
            state.alerts.webhooks.wake();
        }
        Ok(None) => {}
        Err(error) => tracing::error!(%error, "could not read the alert just stored"),
    }
}

/// An alert as the API, the live stream and the board show it.
#[derive(Debug, Serialize)]
pub struct AlertJson {
    pub id: i64,
    pub contact_id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub channel: &'static str,
    /// The most severe of the matched words: `low`, `medium`, `high` or `critical`.
    pub severity: &'static str,
    /// Each word found, with its byte span in `text`.
    pub matches: Vec<MatchJson>,
    pub text: String,
    /// A window of `text` around the first word, cut into plain and matched pieces, for
    /// screens that highlight the words (the board); each piece is text, never markup.
    pub excerpt: Vec<Segment>,
    pub created_at: String,
    pub acknowledged_by: Option<i64>,
    pub acknowledged_at: Option<String>,
}

/// A piece of an excerpt: `mark` when it is (part of) a crisis word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub text: String,
    pub mark: bool,
}

/// Characters of context kept before the first word and in the whole excerpt.
const EXCERPT_BEFORE: usize = 40;
const EXCERPT_CHARS: usize = 240;

/// `text` around its first crisis word, with the (merged) word spans marked. Spans are byte
/// offsets; one that does not fall on character boundaries (a damaged row) is ignored.
pub fn excerpt(text: &str, matches: &[CrisisMatch]) -> Vec<Segment> {
    let mut spans: Vec<(usize, usize)> = matches
        .iter()
        .map(|m| (m.start as usize, m.end as usize))
        .filter(|(start, end)| start < end && text.get(*start..*end).is_some())
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    let first = merged.first().map_or(0, |span| span.0);
    let window_start = text[..first].char_indices().rev().nth(EXCERPT_BEFORE.saturating_sub(1)).map_or(0, |(i, _)| i);
    let window_end =
        text[window_start..].char_indices().nth(EXCERPT_CHARS).map_or(text.len(), |(i, _)| window_start + i);
    let mut segments = Vec::new();
    if window_start > 0 {
        segments.push(Segment { text: "…".to_owned(), mark: false });
    }
    let mut at = window_start;
    for (start, end) in merged {
        let (start, end) = (start.max(at), end.min(window_end));
        if start >= end {
            continue;
        }
        if start > at {
            segments.push(Segment { text: text[at..start].to_owned(), mark: false });
        }
        segments.push(Segment { text: text[start..end].to_owned(), mark: true });
        at = end;
    }
    if at < window_end {
        segments.push(Segment { text: text[at..window_end].to_owned(), mark: false });
    }
    if window_end < text.len() {
        segments.push(Segment { text: "…".to_owned(), mark: false });
    }
    segments
}

#[derive(Debug, Serialize)]
pub struct MatchJson {
    pub phrase: String,
    pub severity: &'static str,
    pub start: u32,
    pub end: u32,
}

impl From<&Alert> for AlertJson {
    fn from(alert: &Alert) -> Self {
        AlertJson {
            id: alert.id.0,
            contact_id: alert.contact_id.0,
            customer_id: alert.customer_id.0,
            customer_name: alert.customer_name.clone(),
            channel: alert.channel.code(),
            severity: alert.severity.code(),
            matches: alert
                .matches
                .iter()
                .map(|m| MatchJson {
                    phrase: m.phrase.clone(),
                    severity: m.severity.code(),
                    start: m.start,
                    end: m.end,
                })
                .collect(),
            text: alert.text.clone(),
            excerpt: excerpt(&alert.text, &alert.matches),
            created_at: datetime::format_jst(alert.created_at),
            acknowledged_by: alert.acknowledged_by.map(|u| u.0),
            acknowledged_at: alert.acknowledged_at.map(datetime::format_jst),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CrisisWordJson {
    pub id: i64,
    pub phrase: String,
    pub severity: &'static str,
    pub note: String,
    pub created_at: String,
}

impl From<&CrisisWord> for CrisisWordJson {
    fn from(word: &CrisisWord) -> Self {
        CrisisWordJson {
            id: word.id.0,
            phrase: word.phrase.clone(),
            severity: word.severity.code(),
            note: word.note.clone(),
            created_at: datetime::format_jst(word.created_at),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrisisWordInput {
    pub(crate) phrase: String,
    pub(crate) severity: String,
    #[serde(default)]
    pub(crate) note: String,
}

impl CrisisWordInput {
    /// The checked word, by the rules the API and the admin page share.
    pub(crate) fn into_new(self) -> Result<NewCrisisWord, AppError> {
        let severity = CrisisSeverity::from_code(&self.severity).ok_or_else(|| {
            AppError::invalid(ValidationError::new("severity", &self.severity, "is not low, medium, high or critical"))
        })?;
        let word = NewCrisisWord {
            key: kimochi_text::crisis::matching_key(self.phrase.trim()),
            phrase: self.phrase.trim().to_owned(),
            severity,
            note: self.note,
        };
        word.validate().map_err(AppError::invalid)?;
        Ok(word)
    }
}

/// A unique key taken, answered 409 with the field at fault.
pub(crate) fn conflict_with_field(error: StoreError) -> AppError {
    match error {
        StoreError::Conflict(field) => {
            let (ja, en) = match field.as_str() {
                "phrase" => (
                    "同じ語（表記ゆれを含む）が既に登録されています。",
                    "this word (or a spelling of it) is already listed",
                ),
                _ => ("同じデータが既にあります。", "this already exists"),
            };
            AppError { field: Some(field.into_boxed_str()), ..AppError::new(StatusCode::CONFLICT, "conflict", ja, en) }
        }
        other => other.into(),
    }
}

fn ok<T: Serialize>(value: T) -> ApiResult {
    Ok(axum::Json(value).into_response())
}

pub async fn crisis_word_list(State(state): State<AppState>, principal: Principal) -> ApiResult {
    principal.require_admin()?;
    let words = state.store.crisis_word_list(principal.tenant_id).await?;
    ok(serde_json::json!({
        "crisis_words": words.iter().map(CrisisWordJson::from).collect::<Vec<_>>(),
    }))
}

pub async fn crisis_word_create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<CrisisWordInput>,
) -> ApiResult {
    principal.require_admin()?;
    let word = input.into_new()?;
    let word =
        state.store.crisis_word_create(principal.tenant_id, &word, crate::now()).await.map_err(conflict_with_field)?;
    state.alerts.crisis.invalidate(principal.tenant_id);
    Ok((StatusCode::CREATED, axum::Json(CrisisWordJson::from(&word))).into_response())
}

pub async fn crisis_word_get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult {
    let word = state.store.crisis_word_get(principal.tenant_id, CrisisWordId(id)).await?;
    principal.require_admin()?;
    ok(CrisisWordJson::from(&word))
}

pub async fn crisis_word_update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<CrisisWordInput>,
) -> ApiResult {
    state.store.crisis_word_get(principal.tenant_id, CrisisWordId(id)).await?;
    principal.require_admin()?;
    let word = input.into_new()?;
    let word = state
        .store
        .crisis_word_update(principal.tenant_id, CrisisWordId(id), &word)
        .await
        .map_err(conflict_with_field)?;
    state.alerts.crisis.invalidate(principal.tenant_id);
    ok(CrisisWordJson::from(&word))
}

pub async fn crisis_word_delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult {
    state.store.crisis_word_get(principal.tenant_id, CrisisWordId(id)).await?;
    principal.require_admin()?;
    state.store.crisis_word_delete(principal.tenant_id, CrisisWordId(id)).await?;
    state.alerts.crisis.invalidate(principal.tenant_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
pub struct AlertParams {
    /// RFC 3339 or `YYYY-MM-DD HH:MM` (JST).
    since: Option<String>,
    #[serde(default)]
    unacknowledged: Option<String>,
    limit: Option<u32>,
}

pub async fn alert_list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<AlertParams>,
) -> ApiResult {
    principal.require_supervisor_or_admin()?;
    let since = params
        .since
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| datetime::parse_datetime("since", s))
        .transpose()
        .map_err(AppError::invalid)?;
    let unacknowledged_only = match params.unacknowledged.as_deref() {
        None | Some("") | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(other) => {
            return Err(AppError::invalid(ValidationError::new("unacknowledged", other, "is not true or false")));
        }
    };
    let query = AlertQuery {
        since,
        unacknowledged_only,
        limit: params.limit.unwrap_or(100).clamp(1, kimochi_store::MAX_ALERTS),
    };
    let alerts = state.store.alert_list(principal.tenant_id, &query).await?;
    audit(&state, &principal, "alerts.read", format!("{} alerts", alerts.len())).await?;
    ok(serde_json::json!({ "alerts": alerts.iter().map(AlertJson::from).collect::<Vec<_>>() }))
}

pub async fn alert_get(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    let alert = state.store.alert_get(principal.tenant_id, AlertId(id)).await?;
    principal.require_supervisor_or_admin()?;
    audit(&state, &principal, "alert.read", format!("alert {id}")).await?;
    ok(AlertJson::from(&alert))
}

/// `POST /api/v1/alerts/{id}/ack`: supervisors and administrators; agents may not.
pub async fn alert_ack(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    let alert = acknowledge(&state, &principal, AlertId(id)).await?;
    ok(AlertJson::from(&alert))
}

/// Acknowledges an alert for the API and the board, and tells the other boards.
pub async fn acknowledge(state: &AppState, principal: &Principal, id: AlertId) -> Result<Alert, AppError> {
    state.store.alert_get(principal.tenant_id, id).await?;
    principal.require_supervisor_or_admin()?;
    let alert = state.store.alert_acknowledge(principal.tenant_id, id, principal.user_id, crate::now()).await?;
    state.alerts.live.publish(principal.tenant_id, LiveEvent::acknowledged(&alert, &principal.display_name));
    Ok(alert)
}

async fn audit(state: &AppState, principal: &Principal, action: &str, detail: String) -> Result<(), AppError> {
    let entry =
        AuditEntry { at: crate::now(), actor: principal.actor, action: action.to_owned(), customer_id: None, detail };
    state.audit.record(principal.tenant_id, entry).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    url: String,
}

/// Checks a webhook URL: `http://host[:port]/path` (TLS is not supported yet, see the README).
pub fn parse_webhook_url(url: &str) -> Result<axum::http::Uri, AppError> {
    let refuse = |reason: &str| AppError::invalid(ValidationError::new("url", url, reason));
    if url.len() > 2000 {
        return Err(refuse("is longer than 2000 characters"));
    }
    let uri: axum::http::Uri = url.parse().map_err(|_| refuse("is not a URL"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => return Err(refuse("https is not supported yet: use http:// (e.g. to a local relay)")),
        _ => return Err(refuse("must start with http://")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(refuse("has no host"));
    }
    Ok(uri)
}

pub async fn webhook_list(State(state): State<AppState>, principal: Principal) -> ApiResult {
    principal.require_admin()?;
    let hooks = state.store.webhook_list(principal.tenant_id).await?;
    ok(serde_json::json!({ "webhooks": hooks.iter().map(|(hook, counts)| serde_json::json!({
        "id": hook.id.0, "url": hook.url, "created_at": datetime::format_jst(hook.created_at),
        "delivered": counts.delivered, "pending": counts.pending, "given_up": counts.given_up,
    })).collect::<Vec<_>>() }))
}

/// Adds a webhook; the answer holds its signing secret, shown this once.
pub async fn webhook_create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<WebhookInput>,
) -> ApiResult {
    principal.require_admin()?;
    parse_webhook_url(&input.url)?;
    let secret = crate::auth::random_token(32);
    let hook = state
        .store
        .webhook_create(principal.tenant_id, &input.url, &secret, crate::now())
        .await
        .map_err(conflict_with_field)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(serde_json::json!({
            "id": hook.id.0, "url": hook.url, "created_at": datetime::format_jst(hook.created_at), "secret": secret,
        })),
    )
        .into_response())
}

pub async fn webhook_delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult {
    // Existence first, so that another tenant's id answers 404 whatever the caller's role.
    let hooks = state.store.webhook_list(principal.tenant_id).await?;
    if !hooks.iter().any(|(hook, _)| hook.id.0 == id) {
        return Err(AppError::not_found("webhook"));
    }
    principal.require_admin()?;
    state.store.webhook_delete(principal.tenant_id, WebhookId(id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(start: usize, end: usize) -> CrisisMatch {
        CrisisMatch { phrase: String::new(), severity: CrisisSeverity::High, start: start as u32, end: end as u32 }
    }

    fn shown(segments: &[Segment]) -> String {
        segments.iter().map(|s| if s.mark { format!("[{}]", s.text) } else { s.text.clone() }).collect()
    }

    #[test]
    fn excerpts_mark_merged_words_around_the_first() {
        let text = "今すぐ返金しろ、訴える";
        let start = text.find("返金").unwrap();
        let overlapping = [word(start, start + "返金しろ".len()), word(start, start + "返金".len())];
        assert_eq!(shown(&excerpt(text, &overlapping)), "今すぐ[返金しろ]、訴える");
        let long = format!("{}訴える{}", "あ".repeat(100), "い".repeat(300));
        let start = long.find("訴える").unwrap();
        let shown = shown(&excerpt(&long, &[word(start, start + "訴える".len())]));
        assert!(shown.starts_with(&format!("…{}[訴える]", "あ".repeat(40))), "{shown}");
        assert!(shown.ends_with("い…"), "{shown}");
        // A span off a character boundary is ignored rather than cutting a character.
        assert_eq!(shown_plain(&excerpt("返金", &[word(1, 4)])), "返金");
    }

    fn shown_plain(segments: &[Segment]) -> String {
        segments.iter().map(|s| s.text.as_str()).collect()
    }
}
