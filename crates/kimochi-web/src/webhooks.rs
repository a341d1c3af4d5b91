//! Webhook delivery: a process-wide worker that takes due rows from the outbox
//! (`webhook_deliveries`, written with each alert in the contact's transaction), posts the alert
//! as JSON signed with HMAC-SHA256, and records the outcome: delivered, or retried later with
//! exponential backoff, or given up after `max_attempts`. A receiver that is down gets the alert
//! when it is back.
//!
//! Delivery is at least once: a row is marked delivered only after a 2xx answer, so a crash
//! between the answer and the mark sends it again. Each request carries the delivery id
//! (`X-Kimochi-Delivery`), unique per (alert, webhook), for the receiver to drop repeats.
//!
//! Signature: `X-Kimochi-Signature: sha256=<hex>` is HMAC-SHA256 under the webhook's secret of
//! `<X-Kimochi-Timestamp>.<body>`, so a receiver can also refuse old replays. Plain `http://`
//! only for now (no TLS stack in the binary).

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Request, Uri, header};
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use kimochi_domain::{WebhookDelivery, datetime};
use kimochi_store::{DeliveryOutcome, Store};
use sha2::Sha256;
use tokio::sync::Notify;

/// How the worker paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Between looks at the outbox when nothing wakes the worker (retries come due this way).
    pub poll_interval: Duration,
    /// Wait after the first failure; doubled after each further one, up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Attempts before a delivery is given up.
    pub max_attempts: u32,
    /// Per attempt: connect, send, and read the status.
    pub timeout: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            poll_interval: Duration::from_secs(2),
            base_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(3600),
            max_attempts: 15,
            timeout: Duration::from_secs(10),
        }
    }
}

impl WebhookConfig {
    /// The wait before the next attempt after `failures` failed ones, `None` to give up.
    pub fn backoff(&self, failures: u32) -> Option<Duration> {
        if failures >= self.max_attempts {
            return None;
        }
        let factor = 2u32.saturating_pow(failures.saturating_sub(1));
        Some(self.base_backoff.saturating_mul(factor).min(self.max_backoff))
    }
}

/// Deliveries claimed per look at the outbox, posted concurrently.
const BATCH: u32 = 32;

/// The handle to the worker: ingest wakes it when an alert is committed.
#[derive(Debug, Clone)]
pub struct WebhookWorker {
    wake: Arc<Notify>,
}

impl WebhookWorker {
    /// Starts the worker on the current Tokio runtime.
    pub fn spawn(store: Arc<dyn Store>, config: WebhookConfig) -> WebhookWorker {
        let wake = Arc::new(Notify::new());
        tokio::spawn(run(store, config, wake.clone()));
        WebhookWorker { wake }
    }

    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

async fn run(store: Arc<dyn Store>, config: WebhookConfig, wake: Arc<Notify>) {
    loop {
        let lease = time::Duration::try_from(config.timeout * 3).unwrap_or(time::Duration::minutes(1));
        match store.webhook_deliveries_claim(crate::now(), lease, BATCH).await {
            Ok(deliveries) if !deliveries.is_empty() => {
                let full = deliveries.len() == BATCH as usize;
                let mut attempts = tokio::task::JoinSet::new();
                for delivery in deliveries {
                    let store = store.clone();
                    attempts.spawn(async move { attempt(store.as_ref(), &config, delivery).await });
                }
                while attempts.join_next().await.is_some() {}
                if full {
                    continue; // more may be due
                }
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "webhook outbox could not be read"),
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(config.poll_interval) => {}
        }
    }
}

async fn attempt(store: &dyn Store, config: &WebhookConfig, delivery: WebhookDelivery) {
    let outcome = match post(config, &delivery).await {
        Ok(()) => DeliveryOutcome::Delivered { at: crate::now() },
        Err(error) => {
            let failures = delivery.attempts + 1;
            let retry_at = config
                .backoff(failures)
                .map(|wait| crate::now() + time::Duration::try_from(wait).unwrap_or(time::Duration::hours(1)));
            tracing::warn!(delivery = delivery.id.0, url = %delivery.url, %error, failures, gave_up = retry_at.is_none(), "webhook delivery failed");
            DeliveryOutcome::Failed { error, retry_at }
        }
    };
    if let Err(error) = store.webhook_delivery_finish(delivery.id, &outcome).await {
        // The lease runs out and the delivery is tried again: at least once, never lost.
        tracing::error!(%error, delivery = delivery.id.0, "webhook outcome could not be recorded");
    }
}

/// The body posted for an alert. Personal data (the customer's name, the contact's text) is
/// left out: the receiver reads them through the API with its own token if it may.
pub fn payload(delivery: &WebhookDelivery) -> String {
    let alert = &delivery.alert;
    serde_json::json!({
        "event": "alert",
        "delivery_id": delivery.id.0,
        "tenant_id": delivery.tenant_id.0,
        "alert": {
            "id": alert.id.0,
            "contact_id": alert.contact_id.0,
            "customer_id": alert.customer_id.0,
            "channel": alert.channel.code(),
            "severity": alert.severity.code(),
            "words": alert.matches.iter().map(|m| serde_json::json!({"phrase": m.phrase, "severity": m.severity.code()})).collect::<Vec<_>>(),
            "created_at": datetime::format_jst(alert.created_at),
        }
    })
    .to_string()
}

/// `sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let digest = mac.finalize().into_bytes();
    format!("sha256={}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// One HTTP/1.1 POST; any answer but 2xx is a failure.
async fn post(config: &WebhookConfig, delivery: &WebhookDelivery) -> Result<(), String> {
    let uri: Uri = delivery.url.parse().map_err(|_| "invalid URL".to_owned())?;
    if uri.scheme_str() != Some("http") {
        return Err("only http:// is supported".to_owned());
    }
    let host = uri.host().ok_or("no host")?.to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let body = payload(delivery);
    let timestamp = crate::now().unix_timestamp();
    let request = Request::post(path)
        .header(header::HOST, uri.authority().map_or(host.as_str(), |a| a.as_str()))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, concat!("kimochi/", env!("CARGO_PKG_VERSION")))
        .header("x-kimochi-event", "alert")
        .header("x-kimochi-delivery", delivery.id.0.to_string())
        .header("x-kimochi-timestamp", timestamp.to_string())
        .header("x-kimochi-signature", signature(&delivery.secret, timestamp, &body))
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("request: {e}"))?;
    let exchange = async {
        let stream =
            tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| format!("connect: {e}"))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("handshake: {e}"))?;
        let driver = tokio::spawn(connection);
        let response = sender.send_request(request).await.map_err(|e| format!("send: {e}"))?;
        let status = response.status();
        // Read (and drop) the answer so the connection closes cleanly.
        let _ = response.into_body().collect().await;
        driver.abort();
        if status.is_success() { Ok(()) } else { Err(format!("HTTP {}", status.as_u16())) }
    };
    tokio::time::timeout(config.timeout, exchange).await.map_err(|_| "timed out".to_owned())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_then_gives_up() {
        let config = WebhookConfig {
            base_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(60),
            max_attempts: 5,
            ..WebhookConfig::default()
        };
        let waits: Vec<Option<u64>> = (1..=5).map(|n| config.backoff(n).map(|d| d.as_secs())).collect();
        assert_eq!(waits, [Some(10), Some(20), Some(40), Some(60), None]);
    }

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_and_body() {
        // Checked against Python: hmac.new(b"Jefe", b"1700000000.what do ya want for nothing?", sha256).
        assert_eq!(
            signature("Jefe", 1_700_000_000, "what do ya want for nothing?"),
            "sha256=1cdd0650c8be1cb0974b1788d458b1e781206cfef59b85faafc582d2e182c57e"
        );
    }
}
