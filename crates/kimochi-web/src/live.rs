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

/// One broadcast channel per tenant with subscribers.
#[derive(Debug, Clone, Default)]
pub struct LiveHub {
    tenants: Arc<Mutex<HashMap<TenantId, broadcast::Sender<LiveEvent>>>>,
}

impl LiveHub {
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
    let receiver = state.alerts.live.subscribe(principal.tenant_id);
    let stream = futures_util::stream::unfold(Some(receiver), |receiver| async move {
        let mut receiver = receiver?;
        match receiver.recv().await {
            Ok(event) => {
                let sse = Event::default().event(event.kind).id(event.id.to_string()).data(&*event.json);
                Some((Ok::<Event, Infallible>(sse), Some(receiver)))
            }
            // Too slow: say so and end the stream; the client reconnects and reloads.
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                Some((Ok(Event::default().event("lagged").data(missed.to_string())), None))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    });
    let keep_alive = KeepAlive::new().interval(Duration::from_secs(15)).text("heartbeat");
    Ok(Sse::new(stream).keep_alive(keep_alive).into_response())
}
