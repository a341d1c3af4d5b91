//! Email (issue 6, F6): the API that queues a message and lists them, the SMTP sender, and the
//! public tracking routes (open pixel, click redirect, RFC 8058 one-click unsubscribe).
//!
//! Sending: a process-wide worker (in `kimochi serve`, or one pass of [`send_due`] in `kimochi
//! email send-queued`) claims due messages of every tenant with a lease, hands each to the
//! configured SMTP server through lettre (one connection per message, so a server that goes down
//! mid-batch costs the messages in flight and no others), and records the outcome: `sent` only
//! after the server accepted the message (with its `sent` contact, in one transaction);
//! a transient failure (connection refused, timeout, 4xx) is retried with exponential backoff
//! and given up (`failed`) after `max_attempts`; a permanent 5xx is `bounced` (with a `bounced`
//! contact). At least once: if the process dies between the server's OK and the commit, the
//! lease runs out and the message is sent again with the same Message-ID (fixed at enqueue), by
//! which receiving systems drop the repeat; the window is one SMTP exchange.
//!
//! TLS: none in the binary. kimochi hands mail to a relay it trusts (a local Postfix, an internal
//! smarthost) over plain SMTP, optionally with AUTH; the relay does TLS, DKIM (which RFC 8058
//! asks to cover the List-Unsubscribe headers) and delivery to the world.
//!
//! Tracking: the token in a URL is the only key; it finds the message and its tenant. A
//! malformed, forged or unknown token (or a link number the message does not have) records
//! nothing, is logged at `warn` and counted in `/metrics`
//! (`kimochi_email_tracking_rejected_total{route}`), and is answered neutrally: the pixel is
//! still a GIF, a click gets a 404 page, an unsubscribe the same confirmation.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kimochi_domain::mail::*;
use kimochi_domain::{Channel, ConsentRefusal, CustomerId, ValidationError};
use kimochi_store::{EmailQuery, Store, StoreError};
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use tokio::sync::Notify;

use crate::AppState;
use crate::auth::Principal;
use crate::error::AppError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};

/// The SMTP server kimochi hands mail to (`[smtp]` in `kimochi.toml`).
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// The From address, e.g. `"ショップ <info@shop.example.jp>"`.
    pub from: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// How email is sent and tracked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailConfig {
    /// No SMTP server: messages are queued and wait (the API still accepts them).
    pub smtp: Option<SmtpConfig>,
    /// Where readers' mail clients reach kimochi's tracking routes (`https://crm.example.jp`).
    pub public_url: String,
    /// Between looks at the outbox when nothing wakes the sender (retries come due this way).
    pub poll_interval: Duration,
    /// Wait after the first failure; doubled after each further one, up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Attempts before a message is given up (`failed`).
    pub max_attempts: u32,
    /// Per attempt: connect, the SMTP exchange, and the server's answer.
    pub timeout: Duration,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            smtp: None,
            public_url: "http://127.0.0.1:8080".to_owned(),
            poll_interval: Duration::from_secs(5),
            base_backoff: Duration::from_secs(60),
            max_backoff: Duration::from_secs(3600),
            max_attempts: 10,
            timeout: Duration::from_secs(30),
        }
    }
}

impl EmailConfig {
    /// The wait before the next attempt after `failures` failed ones, `None` to give up.
    pub fn backoff(&self, failures: u32) -> Option<Duration> {
        if failures >= self.max_attempts {
            return None;
        }
        let factor = 2u32.saturating_pow(failures.saturating_sub(1));
        Some(self.base_backoff.saturating_mul(factor).min(self.max_backoff))
    }
}

/// Messages claimed per look at the outbox, sent one connection each, concurrently.
const BATCH: u32 = 16;

/// What one pass over the due messages did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SendSummary {
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
    pub bounced: u64,
}

/// The handle to the sender: the API wakes it when it queues a message.
#[derive(Debug, Clone)]
pub struct EmailSender {
    wake: Arc<Notify>,
}

impl EmailSender {
    /// Starts the sender on the current Tokio runtime; `None` when no SMTP server is configured.
    pub fn spawn(store: Arc<dyn Store>, config: EmailConfig) -> Option<EmailSender> {
        config.smtp.as_ref()?;
        let wake = Arc::new(Notify::new());
        tokio::spawn(run(store, config, wake.clone()));
        Some(EmailSender { wake })
    }

    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

async fn run(store: Arc<dyn Store>, config: EmailConfig, wake: Arc<Notify>) {
    loop {
        if let Err(error) = send_due(store.clone(), &config).await {
            tracing::error!(%error, "email outbox could not be read");
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(config.poll_interval) => {}
        }
    }
}

/// Sends every message due now, batch after batch, until none is left to claim. Messages that
/// fail are rescheduled (not retried within this pass).
pub async fn send_due(store: Arc<dyn Store>, config: &EmailConfig) -> Result<SendSummary, String> {
    let Some(smtp) = &config.smtp else { return Err("no SMTP server is configured ([smtp] in kimochi.toml)".into()) };
    // A From the message format refuses is the configuration's fault, not the customers': check
    // it before claiming anything, so no message is bounced for it.
    smtp.from
        .parse::<lettre::message::Mailbox>()
        .map_err(|e| format!("[smtp] from {:?} is not a valid address: {e}", smtp.from))?;
    let transport = transport(smtp, config.timeout);
    let mut summary = SendSummary::default();
    // Claims are made "as of" the start of the pass, so a message that failed in this pass (its
    // retry is due at least a second later) waits for the next pass instead of looping here.
    let started = crate::now();
    // The lease outlives an attempt's timeout, so a slow attempt is never sent twice at once.
    let lease = time::Duration::try_from(config.timeout * 3).unwrap_or(time::Duration::minutes(5));
    loop {
        let claimed = store.email_claim(started, lease, BATCH).await.map_err(|e| e.to_string())?;
        if claimed.is_empty() {
            return Ok(summary);
        }
        let mut attempts = tokio::task::JoinSet::new();
        for outgoing in claimed {
            let (store, config, transport, from) =
                (store.clone(), config.clone(), transport.clone(), smtp.from.clone());
            attempts.spawn(async move { attempt(store.as_ref(), &config, &transport, &from, outgoing).await });
        }
        while let Some(outcome) = attempts.join_next().await {
            match outcome {
                Ok(EmailSendOutcome::Sent { .. }) => summary.sent += 1,
                Ok(EmailSendOutcome::Bounced { .. }) => summary.bounced += 1,
                Ok(EmailSendOutcome::Retry { retry_at: Some(_), .. }) => summary.retried += 1,
                Ok(EmailSendOutcome::Retry { retry_at: None, .. }) => summary.failed += 1,
                Err(error) => tracing::error!(%error, "email attempt panicked"),
            }
        }
    }
}

fn transport(smtp: &SmtpConfig, timeout: Duration) -> AsyncSmtpTransport<Tokio1Executor> {
    // `builder_dangerous` is lettre's name for plain SMTP without TLS: see the module comment.
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.clone())
        .port(smtp.port)
        .timeout(Some(timeout));
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    builder.build()
}

async fn attempt(
    store: &dyn Store,
    config: &EmailConfig,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &str,
    outgoing: OutgoingEmail,
) -> EmailSendOutcome {
    let id = outgoing.message.id;
    let outcome = match build_message(from, &config.public_url, &outgoing) {
        // An address the message format refuses can never be sent (From was checked before).
        Err(error) => EmailSendOutcome::Bounced { error, at: crate::now() },
        Ok(message) => match tokio::time::timeout(config.timeout, transport.send(message)).await {
            Ok(Ok(_)) => EmailSendOutcome::Sent { at: crate::now() },
            Ok(Err(error)) if error.is_permanent() => {
                EmailSendOutcome::Bounced { error: error.to_string(), at: crate::now() }
            }
            Ok(Err(error)) => retry(config, &outgoing, error.to_string()),
            Err(_) => retry(config, &outgoing, "timed out".to_owned()),
        },
    };
    match &outcome {
        EmailSendOutcome::Sent { .. } => tracing::info!(tenant = outgoing.tenant_id.0, email = id.0, "email sent"),
        EmailSendOutcome::Bounced { error, .. } => {
            tracing::warn!(tenant = outgoing.tenant_id.0, email = id.0, %error, "email bounced")
        }
        EmailSendOutcome::Retry { error, retry_at, .. } => {
            tracing::warn!(tenant = outgoing.tenant_id.0, email = id.0, %error, gave_up = retry_at.is_none(), "email not sent")
        }
    }
    if let Err(error) = store.email_finish(outgoing.tenant_id, id, &outcome).await {
        // The lease runs out and the message is tried again: at least once, never lost.
        tracing::error!(%error, email = id.0, "email outcome could not be recorded");
    }
    outcome
}

fn retry(config: &EmailConfig, outgoing: &OutgoingEmail, error: String) -> EmailSendOutcome {
    let failures = u32::try_from(outgoing.message.attempts).unwrap_or(u32::MAX).saturating_add(1);
    let now = crate::now();
    let retry_at =
        config.backoff(failures).map(|wait| now + time::Duration::try_from(wait).unwrap_or(time::Duration::hours(1)));
    EmailSendOutcome::Retry { error, retry_at, at: now }
}

/// The message as sent: tracked links, pixel, the stable Message-ID and the RFC 8058 headers.
pub fn build_message(from: &str, public_url: &str, outgoing: &OutgoingEmail) -> Result<Message, String> {
    let message = &outgoing.message;
    let urls = TrackingUrls::new(public_url, &outgoing.token);
    let (text, html) = render_bodies(message, &urls);
    let from = from.parse().map_err(|e| format!("from address: {e}"))?;
    let to = message.to_address.parse().map_err(|e| format!("to address: {e}"))?;
    // Base64 bodies: Japanese text is not 7-bit, and quoted-printable would fold long URLs.
    let plain = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(Body::new_with_encoding(text, ContentTransferEncoding::Base64).map_err(|_| "text body")?);
    let builder = Message::builder()
        .from(from)
        .to(to)
        .subject(message.subject.clone())
        .message_id(Some(format!("<{}>", message.message_id)));
    let mut email = match html {
        Some(html) => {
            let html = SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(Body::new_with_encoding(html, ContentTransferEncoding::Base64).map_err(|_| "html body")?);
            builder.multipart(MultiPart::alternative().singlepart(plain).singlepart(html))
        }
        None => builder.singlepart(plain),
    }
    .map_err(|e| format!("message: {e}"))?;
    let header = |name: &str, value: String| {
        HeaderName::new_from_ascii(name.to_owned()).map(|name| HeaderValue::new(name, value)).map_err(|_| "header name")
    };
    email.headers_mut().insert_raw(header("List-Unsubscribe", format!("<{}>", urls.unsubscribe()))?);
    email.headers_mut().insert_raw(header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".to_owned())?);
    Ok(email)
}

// --- API ---

/// `POST /api/v1/customers/{id}/emails`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailInput {
    subject: String,
    body: String,
    body_html: Option<String>,
}

/// `GET /api/v1/emails` filters.
#[derive(Debug, Deserialize)]
pub struct EmailListParams {
    customer_id: Option<i64>,
    campaign_id: Option<i64>,
    limit: Option<u32>,
}

fn email_json(message: &EmailMessage, sees_personal_data: bool) -> serde_json::Value {
    let ts = |at: Option<time::OffsetDateTime>| at.map(kimochi_domain::datetime::format_jst);
    let to = if sees_personal_data {
        message.to_address.clone()
    } else {
        kimochi_domain::Email::parse(&message.to_address).map_or_else(|_| "***".to_owned(), |e| e.masked())
    };
    serde_json::json!({
        "id": message.id.0,
        "customer_id": message.customer_id.0,
        "campaign_id": message.campaign_id,
        "campaign_step": message.campaign_step,
        "to": to,
        "subject": message.subject,
        "status": message.status.code(),
        "status_label": message.status.label_ja(),
        "attempts": message.attempts,
        "last_error": message.last_error,
        "links": message.links.len(),
        "created_at": kimochi_domain::datetime::format_jst(message.created_at),
        "next_attempt_at": ts(message.next_attempt_at),
        "sent_at": ts(message.sent_at),
        "opened_at": ts(message.opened_at),
        "clicked_at": ts(message.clicked_at),
        "unsubscribed_at": ts(message.unsubscribed_at),
    })
}

/// Queues one email to a customer (202): consent and address are checked now and again at
/// sending time.
pub async fn customer_emails_create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<EmailInput>,
) -> Result<Response, AppError> {
    let customer = state.store.customer_get(principal.tenant_id, CustomerId(id)).await?;
    principal.require_write()?;
    customer.profile.outbound_allowed(Channel::Email)?;
    let email = NewEmail {
        customer_id: customer.id,
        campaign_id: None,
        campaign_step: None,
        subject: input.subject,
        body_text: input.body,
        body_html: input.body_html,
    };
    email.validate().map_err(AppError::invalid)?;
    let ids = match state.store.email_enqueue(principal.tenant_id, &[email], crate::now()).await {
        Ok(ids) => ids,
        Err(StoreError::ImportRejected(problems)) => {
            // One row: say what was wrong with it in the API's own terms.
            return Err(match problems.first().map(|p| p.column.as_str()) {
                Some("consent_email") => ConsentRefusal::NoConsent(Channel::Email).into(),
                Some("email") => {
                    AppError::invalid(ValidationError::new("email", "", "the customer has no email address"))
                }
                _ => StoreError::ImportRejected(problems).into(),
            });
        }
        Err(error) => return Err(error.into()),
    };
    let message = state.store.email_get(principal.tenant_id, ids[0]).await?;
    if let Some(sender) = &state.email {
        sender.wake();
    }
    Ok((StatusCode::ACCEPTED, Json(email_json(&message, principal.role.sees_personal_data()))).into_response())
}

/// Lists messages, newest first, with their delivery status and first open/click times.
pub async fn email_list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<EmailListParams>,
) -> Result<Response, AppError> {
    let query = EmailQuery {
        customer_id: params.customer_id.map(CustomerId),
        campaign_id: params.campaign_id,
        limit: params.limit.unwrap_or(100).clamp(1, kimochi_store::MAX_EMAILS),
    };
    let messages = state.store.email_list(principal.tenant_id, &query).await?;
    let clear = principal.role.sees_personal_data();
    if clear && !messages.is_empty() {
        let entry = kimochi_domain::AuditEntry {
            at: crate::now(),
            actor: principal.actor,
            action: "emails.list".to_owned(),
            customer_id: query.customer_id,
            detail: format!("{} emails", messages.len()),
        };
        state.audit.record(principal.tenant_id, entry).await?;
    }
    Ok(Json(serde_json::json!({ "emails": messages.iter().map(|m| email_json(m, clear)).collect::<Vec<_>>() }))
        .into_response())
}

// --- Tracking (public, no login) ---

/// A transparent 1×1 GIF.
const PIXEL_GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
    0x02, 0x44, 0x01, 0x00, 0x3b,
];

async fn track(state: &AppState, route: &'static str, token: &str, event: TrackEvent) -> Option<TrackResult> {
    match state.store.email_track(token, event, crate::now()).await {
        Ok(result) => Some(result),
        Err(StoreError::NotFound(what)) => {
            // Never log the token itself: it may be a real one mistyped, and it is a capability.
            tracing::warn!(route, what, token_len = token.len(), "email tracking with an unknown token ignored");
            state.metrics.email_tracking_rejected(route);
            None
        }
        Err(error) => {
            tracing::error!(%error, route, "email tracking could not be recorded");
            None
        }
    }
}

/// `GET /t/o/{token}.gif`: records an open and answers the pixel, whatever the token.
pub async fn track_open(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    match file.strip_suffix(".gif") {
        Some(token) => {
            track(&state, "open", token, TrackEvent::Open).await;
        }
        None => {
            tracing::warn!(route = "open", "email tracking pixel without .gif ignored");
            state.metrics.email_tracking_rejected("open");
        }
    }
    (
        [
            (header::CONTENT_TYPE, "image/gif"),
            (header::CACHE_CONTROL, "no-store, no-cache, must-revalidate, private"),
            (header::PRAGMA, "no-cache"),
        ],
        PIXEL_GIF,
    )
        .into_response()
}

/// `GET /t/c/{token}/{n}`: records a click and redirects (303) to link `n` of that message.
pub async fn track_click(State(state): State<AppState>, Path((token, n)): Path<(String, String)>) -> Response {
    let result = match n.parse::<u32>() {
        Ok(n) => track(&state, "click", &token, TrackEvent::Click(n)).await,
        Err(_) => {
            tracing::warn!(route = "click", "email click with a malformed link number ignored");
            state.metrics.email_tracking_rejected("click");
            None
        }
    };
    match result.and_then(|r| r.redirect_to) {
        Some(url) => Redirect::to(&url).into_response(),
        None => public_page(
            StatusCode::NOT_FOUND,
            "リンクが見つかりません",
            "Link not found",
            "このリンクは無効です。",
            "This link is not valid.",
        ),
    }
}

/// `GET /t/u/{token}`: asks to confirm (a mail scanner following links must not unsubscribe
/// anyone); the form posts back to the same URL.
pub async fn unsubscribe_form() -> Response {
    let body = r#"<p>今後のメール配信を停止しますか？</p><p lang="en">Stop receiving these emails?</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">配信を停止する / Unsubscribe</button></form>"#;
    page(StatusCode::OK, "配信停止 / Unsubscribe", body)
}

/// `POST /t/u/{token}`: one-click unsubscribe (RFC 8058, also the form's target). Email consent
/// is withdrawn; the answer is the same for any token.
pub async fn unsubscribe_post(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    track(&state, "unsubscribe", &token, TrackEvent::Unsubscribe).await;
    public_page(
        StatusCode::OK,
        "配信を停止しました",
        "Unsubscribed",
        "今後、このアドレスへのメール配信を停止しました。",
        "You will no longer receive these emails at this address.",
    )
}

fn public_page(status: StatusCode, title_ja: &str, title_en: &str, text_ja: &str, text_en: &str) -> Response {
    // Only our own constant texts go into these pages; nothing from the request.
    page(status, &format!("{title_ja} / {title_en}"), &format!("<p>{text_ja}</p><p lang=\"en\">{text_en}</p>"))
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<style>body{{font-family:system-ui,"Hiragino Sans","Noto Sans JP",sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.6}}button{{padding:.6rem 1.2rem;font-size:1rem}}</style>
</head><body><main><h1>{title}</h1>{body}</main></body></html>"#
    );
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
        ],
        Html(html),
    )
        .into_response()
}
