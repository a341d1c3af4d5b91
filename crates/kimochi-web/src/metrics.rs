//! Prometheus metrics: requests by route, method and status, and latency by route, at `/metrics`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::AppState;

type Labels = Vec<(String, String)>;

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram, fn() -> Histogram>,
    email_tracking_rejected: Family<Labels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kimochi");
        let requests = Family::<Labels, Counter>::default();
        let latency = Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register("http_requests", "HTTP requests by route, method and status", requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency by route", latency.clone());
        let email_tracking_rejected = Family::<Labels, Counter>::default();
        registry.register(
            "email_tracking_rejected",
            "Email tracking requests with a malformed, forged or unknown token, by route",
            email_tracking_rejected.clone(),
        );
        Metrics { registry: Arc::new(registry), requests, latency, email_tracking_rejected }
    }
}

impl Metrics {
    /// Counts a tracking request that recorded nothing (`open`, `click`, `unsubscribe`).
    pub fn email_tracking_rejected(&self, route: &str) {
        self.email_tracking_rejected.get_or_create(&vec![("route".into(), route.to_owned())]).inc();
    }
}

/// Counts and times every request under its route template (`/api/v1/customers/{id}`), never
/// the raw path, so that ids do not explode the label set.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = response.status().as_u16().to_string();
    state
        .metrics
        .requests
        .get_or_create(&vec![("route".into(), route.clone()), ("method".into(), method), ("status".into(), status)])
        .inc();
    state.metrics.latency.get_or_create(&vec![("route".into(), route)]).observe(elapsed);
    response
}

pub async fn metrics_get(State(state): State<AppState>) -> Response {
    let mut body = String::new();
    if encode(&mut body, &state.metrics.registry).is_err() {
        return crate::error::AppError::internal().into_response();
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body).into_response()
}
