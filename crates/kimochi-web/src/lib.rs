//! The HTTP edge of kimochi: the JSON API under `/api/v1` (with its OpenAPI document), the
//! server-rendered pages people work in (`pages`), login sessions for people and bearer tokens
//! for integrations, health and Prometheus metrics.
//!
//! Invariants: only this crate knows HTTP and JSON shapes; every API handler takes the tenant
//! from the authenticated principal, never from the request; an id of another tenant answers 404.

pub mod alerts;
pub mod api;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod email;
pub mod error;
pub mod events;
pub mod extract;
pub mod hearing;
pub mod json;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod search;
pub mod segments;
pub mod tagging;
pub mod throttle;
pub mod timeline;
pub mod voc;
pub mod webhooks;

/// The current time. The one place the web edge reads the clock.
#[allow(clippy::disallowed_methods)]
pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use kimochi_store::Store;

/// Largest request body accepted (JSON bodies and forms). A VOC text is at most 20,000
/// characters; 1 MiB leaves room for any legitimate request and none for abuse.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when kimochi is served over HTTPS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Pacing of webhook delivery (retries, backoff, timeouts).
    pub webhooks: webhooks::WebhookConfig,
    /// SMTP sending and the public URL of the tracking links (issue 6).
    pub email: email::EmailConfig,
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: WebConfig,
    pub metrics: metrics::Metrics,
    pub audit: audit::AuditWriter,
    pub login_throttle: Arc<throttle::LoginThrottle>,
    /// Crisis-word matchers, the live stream and the webhook worker.
    pub alerts: alerts::AlertHub,
    /// The FAQ and VOC search index (in memory unless `with_search` gives one on disk).
    pub search: Option<Arc<kimochi_search::SearchIndex>>,
    /// VOC reports made in the last minutes (`voc.rs`).
    pub voc_cache: Arc<voc::VocCache>,
    /// The SMTP sender, when an SMTP server is configured (issue 6).
    pub email: Option<email::EmailSender>,
}

impl AppState {
    /// Must be called inside a Tokio runtime: it starts the audit writer and webhook tasks.
    pub fn new(store: Arc<dyn Store>, config: WebConfig) -> AppState {
        let audit = audit::AuditWriter::spawn(store.clone());
        let login_throttle = Arc::new(throttle::LoginThrottle::new(throttle::ThrottlePolicy::default()));
        let alerts = alerts::AlertHub::new(store.clone(), config.webhooks);
        let search = match kimochi_search::SearchIndex::in_memory() {
            Ok(index) => Some(Arc::new(index)),
            Err(error) => {
                tracing::error!(%error, "the search index could not be created; search is off");
                None
            }
        };
        AppState {
            email: email::EmailSender::spawn(store.clone(), config.email.clone()),
            store,
            config,
            metrics: metrics::Metrics::default(),
            audit,
            login_throttle,
            alerts,
            search,
            voc_cache: Arc::new(voc::VocCache::default()),
        }
    }

    /// Uses `index` (a folder index, kept across restarts) for search.
    pub fn with_search(mut self, index: Arc<kimochi_search::SearchIndex>) -> AppState {
        self.search = Some(index);
        self
    }
}

/// The whole application as one router.
pub fn router(state: AppState) -> Router {
    use api::*;
    let api = Router::new()
        .route("/session", get(session_get))
        .route("/customers", get(customer_search).post(customer_create))
        .route("/customers/{id}", get(customer_get).put(customer_update).delete(customer_delete))
        .route("/customers/{id}/karte", get(karte_get))
        .route("/customers/{id}/kimochi-timeline", get(timeline::kimochi_timeline_get))
        .route("/customers/{id}/orders", get(customer_orders_list).post(customer_orders_create))
        .route("/customers/{id}/contacts", get(customer_contacts_list).post(customer_contacts_create))
        .route("/customers/{id}/kimochi", get(customer_kimochi_list).post(customer_kimochi_create))
        .route("/customers/{id}/handover-notes", get(customer_handover_list).post(customer_handover_create))
        .route("/orders/{id}", get(order_get))
        .route("/contacts/{id}", get(contact_get))
        .route("/products", get(product_list).post(product_create))
        .route("/products/{id}", get(product_get))
        .route("/faq", get(faq_list).post(faq_create))
        .route("/faq/{id}", get(faq_get).put(faq_update).delete(faq_delete))
        .route("/search/faq", get(search::search_faq_get))
        .route("/search/voc", get(search::search_voc_get))
        .route("/users", get(user_list))
        .route("/audit", get(audit_list))
        .route("/crisis-words", get(alerts::crisis_word_list).post(alerts::crisis_word_create))
        .route(
            "/crisis-words/{id}",
            get(alerts::crisis_word_get).put(alerts::crisis_word_update).delete(alerts::crisis_word_delete),
        )
        .route("/alerts", get(alerts::alert_list))
        .route("/alerts/{id}", get(alerts::alert_get))
        .route("/alerts/{id}/ack", post(alerts::alert_ack))
        .route("/webhooks", get(alerts::webhook_list).post(alerts::webhook_create))
        .route("/webhooks/{id}", axum::routing::delete(alerts::webhook_delete))
        .route("/events", get(live::events_get))
        .route("/voc/lost-order-reasons", get(voc::voc_lost_order_reasons_get))
        .route("/voc/call-reasons", get(voc::voc_call_reasons_get))
        .route("/voc/churn-drivers", get(voc::voc_churn_drivers_get))
        .route("/lexicon", get(tagging::lexicon_get).put(tagging::lexicon_put))
        // --- email (issue 6) ---
        .route("/customers/{id}/emails", post(email::customer_emails_create))
        .route("/emails", get(email::email_list))
        .route("/imports/events", post(events::imports_events_post))
        .route("/customers/{id}/behavior-events", get(events::customer_behavior_events_list))
        // --- campaigns (issue 6) ---
        .route("/campaigns", get(campaigns::campaign_list).post(campaigns::campaign_create))
        .route(
            "/campaigns/{id}",
            get(campaigns::campaign_get).put(campaigns::campaign_update).delete(campaigns::campaign_delete),
        )
        .route("/campaigns/{id}/members", get(campaigns::campaign_members))
        .route("/campaigns/{id}/results", get(campaigns::campaign_results))
        .route("/campaigns/{id}/results.csv", get(campaigns::campaign_results_csv))
        .route("/campaigns/{id}/calls/next", post(campaigns::campaign_call_next))
        .route("/campaigns/{id}/calls/{task}/outcome", post(campaigns::campaign_call_outcome))
        // Segments (issue 6): live count, saved segments, members and exports.
        .route("/segments", get(segments::segment_list).post(segments::segment_create))
        .route("/segments/count", post(segments::segment_count_post))
        .route("/segments/fields", get(segments::segment_fields_get))
        .route(
            "/segments/{id}",
            get(segments::segment_get).put(segments::segment_update).delete(segments::segment_delete),
        )
        .route("/segments/{id}/members", get(segments::segment_members_get))
        .route("/segments/{id}/export.csv", get(segments::segment_export_csv))
        .route("/segments/{id}/export.xlsx", get(segments::segment_export_xlsx))
        // Hearing points and potential screening (issue 6): `hearing.rs`.
        .route("/hearing-sets", get(hearing::hearing_set_list).post(hearing::hearing_set_create))
        .route(
            "/hearing-sets/{id}",
            get(hearing::hearing_set_get).put(hearing::hearing_set_update).delete(hearing::hearing_set_delete),
        )
        .route("/customers/{id}/soft-facts", get(hearing::customer_soft_facts_get))
        .route("/hearing/asked-rates", get(hearing::hearing_asked_rates_get))
        .route("/prospects", get(hearing::prospect_list));
    Router::new()
        .nest("/api/v1", api)
        .route("/api/openapi.json", get(openapi::openapi_get))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::metrics_get))
        .route("/login", get(auth::login_form).post(auth::login_submit))
        .route("/logout", post(auth::logout))
        // Email tracking (issue 6): public, the token is the key.
        .route("/t/o/{file}", get(email::track_open))
        .route("/t/c/{token}/{n}", get(email::track_click))
        .route("/t/u/{token}", get(email::unsubscribe_form).post(email::unsubscribe_post))
        .merge(pages::routes())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(axum::middleware::from_fn(error::render_errors))
        .with_state(state)
}

async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.store.tenant_list().await {
        Ok(_) => axum::Json(serde_json::json!({ "status": "ok", "engine": state.store.engine() })).into_response(),
        Err(error) => {
            tracing::error!(%error, "health check failed");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, axum::Json(serde_json::json!({ "status": "unavailable" })))
                .into_response()
        }
    }
}

/// Serves until Ctrl-C / SIGTERM, then finishes the requests in flight.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let live = state.alerts.live.clone();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    // Live streams never end by themselves: close them, or the shutdown would wait for them.
    let shutdown = async move {
        shutdown_signal().await;
        live.close();
    };
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
