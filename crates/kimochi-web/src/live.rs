//! The live stream of a tenant (issue 5, supervisor live board): `GET /api/v1/events`, server-sent
//! events of the contacts and alerts committed by this process, for supervisors and
//! administrators of that tenant only.
//!
//! Events: `contact` (a contact was recorded), `alert` (a contact raised a crisis-word alert),
//! `alert_acknowledged`, and `lagged` when the client fell too far behind: the stream then ends
//! and the client reconnects and reloads what it shows. A comment line (`: heartbeat`) every
//! 15 seconds keeps proxies from closing an idle stream. Each tenant has one
//! `tokio::sync::broadcast` channel: publishing never waits for a subscriber, so a slow board can
//! never hold up ingest.
//!
//! One process only: contacts recorded by another `kimochi serve` sharing the database, or by
//! `kimochi import`, are not pushed (the board shows them on reload). Several instances would
//! publish through PostgreSQL `LISTEN/NOTIFY` (see ARCHITECTURE.md).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use kimochi_domain::{Alert, AuditEntry, Contact, TenantId, datetime};
use tokio::sync::broadcast;

use crate::AppState;
use crate::alerts::AlertJson;
use crate::auth::Principal;
use crate::error::AppError;

/// Events a subscriber may fall behind by before it is dropped with `lagged`.
const CHANNEL_CAPACITY: usize = 1024;
/// Longest contact text sent in a `contact` event, in characters.
const EXCERPT_CHARS: usize = 200;

/// One event, serialised once for every subscriber.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub kind: &'static str,
    pub id: i64,
    pub json: Arc<str>,
}

impl LiveEvent {
    pub fn contact(contact: &Contact, customer_name: &str, recorded_by: &str) -> LiveEvent {
        let text: String = contact.text.chars().take(EXCERPT_CHARS).collect();
        let json = serde_json::json!({
            "id": contact.id.0,
            "customer_id": contact.customer_id.0,
            "customer_name": customer_name,
            "channel": contact.channel.code(),
            "direction": contact.direction.code(),
            "started_at": datetime::format_jst(contact.started_at),
            "recorded_by": recorded_by,
            "reason": contact.reason,
            "text": text,
            "polarity": contact.tags.polarity.map(|p| p.code()),
            "crisis_words": contact.tags.crisis_words,
        });
        LiveEvent { kind: "contact", id: contact.id.0, json: json.to_string().into() }
    }

    pub fn alert(alert: &Alert) -> LiveEvent {
        let json = serde_json::to_string(&AlertJson::from(alert)).unwrap_or_default();
        LiveEvent { kind: "alert", id: alert.id.0, json: json.into() }
    }

    pub fn acknowledged(alert: &Alert, by: &str) -> LiveEvent {
        let json = serde_json::json!({
            "id": alert.id.0,
            "acknowledged_by_name": by,
            "acknowledged_at": alert.acknowledged_at.map(datetime::format_jst),
        });
        LiveEvent { kind: "alert_acknowledged", id: alert.id.0, json: json.to_string().into() }
    }
}

/// What a subscriber's stream yields.
#[derive(Debug, Clone)]
pub enum Outgoing {
    Event(LiveEvent),
    /// The subscriber missed this many events; the stream ends after it.
    Lagged(u64),
}

/// One broadcast channel per tenant with subscribers.
#[derive(Debug, Clone)]
pub struct LiveHub {
    tenants: Arc<Mutex<HashMap<TenantId, broadcast::Sender<LiveEvent>>>>,
    /// Set when the server shuts down: streams end, so the graceful shutdown does not wait for
    /// boards that would stay open all day.
    closing: tokio::sync::watch::Sender<bool>,
}

impl Default for LiveHub {
    fn default() -> Self {
        LiveHub { tenants: Arc::default(), closing: tokio::sync::watch::channel(false).0 }
    }
}

impl LiveHub {
    /// Ends every stream (at shutdown).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    pub fn subscribe(&self, tenant: TenantId) -> broadcast::Receiver<LiveEvent> {
        let mut tenants = self.lock();
        tenants.entry(tenant).or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0).subscribe()
    }

    /// Sends to the tenant's subscribers, if any; never waits.
    pub fn publish(&self, tenant: TenantId, event: LiveEvent) {
        let mut tenants = self.lock();
        if let Some(sender) = tenants.get(&tenant) {
            if sender.receiver_count() == 0 {
                tenants.remove(&tenant);
            } else {
                let _ = sender.send(event);
            }
        }
    }

    /// A tenant's events from now on: ends after `Lagged` (the subscriber fell
    /// [`CHANNEL_CAPACITY`] events behind) and when the hub closes.
    pub fn stream(&self, tenant: TenantId) -> impl futures_util::Stream<Item = Outgoing> + Send + 'static {
        let receiver = self.subscribe(tenant);
        let closing = self.closing.subscribe();
        futures_util::stream::unfold(Some((receiver, closing)), |open| async move {
            let (mut receiver, mut closing) = open?;
            let received = tokio::select! {
                received = receiver.recv() => received,
                _ = closing.wait_for(|closing| *closing) => return None,
            };
            match received {
                Ok(event) => Some((Outgoing::Event(event), Some((receiver, closing)))),
                // Too slow: say so and end the stream; the client reconnects and reloads.
                Err(broadcast::error::RecvError::Lagged(missed)) => Some((Outgoing::Lagged(missed), None)),
                Err(broadcast::error::RecvError::Closed) => None,
            }
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, broadcast::Sender<LiveEvent>>> {
        self.tenants.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `GET /api/v1/events`: the caller's tenant's live events (supervisor, admin).
pub async fn events_get(State(state): State<AppState>, principal: Principal) -> Result<Response, AppError> {
    principal.require_supervisor_or_admin()?;
    // The stream carries customers' names and words: opening it is a read of personal data.
    let entry = AuditEntry {
        at: crate::now(),
        actor: principal.actor,
        action: "events.subscribe".to_owned(),
        customer_id: None,
        detail: String::new(),
    };
    state.audit.record(principal.tenant_id, entry).await?;
    let stream = state.alerts.live.stream(principal.tenant_id).map(|item| {
        Ok::<Event, Infallible>(match item {
            Outgoing::Event(event) => Event::default().event(event.kind).id(event.id.to_string()).data(&*event.json),
            Outgoing::Lagged(missed) => Event::default().event("lagged").data(missed.to_string()),
        })
    });
    let keep_alive = KeepAlive::new().interval(Duration::from_secs(15)).text("heartbeat");
    Ok(Sse::new(stream).keep_alive(keep_alive).into_response())
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    fn event(id: i64) -> LiveEvent {
        LiveEvent { kind: "contact", id, json: Arc::from("{}") }
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_dropped_with_lagged_and_publishing_never_waits() {
        let hub = LiveHub::default();
        let (a, b) = (TenantId(1), TenantId(2));
        let mut slow = Box::pin(hub.stream(a));
        let mut other = Box::pin(hub.stream(b));
        // Nobody reads tenant a's stream while far more than its capacity is published.
        for id in 0..(CHANNEL_CAPACITY as i64 + 100) {
            hub.publish(a, event(id));
        }
        hub.publish(b, event(7));
        match slow.next().await {
            Some(Outgoing::Lagged(missed)) => assert_eq!(missed, 100),
            other => panic!("expected lagged, got {other:?}"),
        }
        assert!(slow.next().await.is_none(), "the stream ends after lagged");
        // Tenant b saw only its own event.
        match other.next().await {
            Some(Outgoing::Event(event)) => assert_eq!(event.id, 7),
            other => panic!("expected tenant b's event, got {other:?}"),
        }
        // Closing the hub (shutdown) ends open streams.
        hub.close();
        assert!(other.next().await.is_none());
    }
}
