//! The supervisor live board (issue 5): crisis-word alerts and incoming contacts as they are
//! committed, with an acknowledge button, and today's contacts per operator, channel and reason.
//!
//! The page subscribes to `/api/v1/events` with a small script of its own (`static/board.js`):
//! it builds each new entry from a `<template>` on the page and fills it with `textContent`
//! only, so what a customer wrote can never become markup, and the Content-Security-Policy stays
//! as strict as on every other page. The counts are re-fetched (htmx) when contacts arrive.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use kimochi_domain::datetime::JST;
use kimochi_domain::{AlertId, AlertQuery, BoardCounts, Channel, CrisisSeverity};
use time::OffsetDateTime;

use super::i18n::{Lang, Strings};
use super::view::Layout;
use super::{ForPage, PageError, PageUser, render};
use crate::AppState;
use crate::alerts::{AlertJson, Segment};
use crate::error::AppError;

/// Open alerts shown when the board opens.
const OPEN_ALERTS: u32 = 50;

/// One alert as the board shows it.
#[derive(Debug, Clone)]
pub struct AlertView {
    pub id: i64,
    pub severity: &'static str,
    pub severity_label: &'static str,
    pub time: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub channel: String,
    pub words: String,
    pub excerpt: Vec<Segment>,
    pub acknowledged: bool,
    pub acknowledged_at: String,
}

impl AlertView {
    fn new(alert: &AlertJson, lang: Lang) -> AlertView {
        let severity = CrisisSeverity::from_code(alert.severity).unwrap_or(CrisisSeverity::Low);
        let mut words: Vec<&str> = Vec::new();
        for m in &alert.matches {
            if !words.contains(&m.phrase.as_str()) {
                words.push(&m.phrase);
            }
        }
        AlertView {
            id: alert.id,
            severity: alert.severity,
            severity_label: severity_label(lang, severity),
            time: clock(&alert.created_at),
            customer_id: alert.customer_id,
            customer_name: alert.customer_name.clone(),
            channel: lang.channel(alert.channel),
            words: words.join("・"),
            excerpt: alert.excerpt.clone(),
            acknowledged: alert.acknowledged_at.is_some(),
            acknowledged_at: alert.acknowledged_at.as_deref().map(clock).unwrap_or_default(),
        }
    }
}

/// `HH:MM` of an RFC 3339 JST timestamp.
fn clock(text: &str) -> String {
    text.get(11..16).unwrap_or(text).to_owned()
}

pub fn severity_label(lang: Lang, severity: CrisisSeverity) -> &'static str {
    let t = lang.strings();
    match severity {
        CrisisSeverity::Low => t.severity_low,
        CrisisSeverity::Medium => t.severity_medium,
        CrisisSeverity::High => t.severity_high,
        CrisisSeverity::Critical => t.severity_critical,
    }
}

/// A (label, count) row of a count table.
#[derive(Debug, Clone)]
pub struct CountRow {
    pub label: String,
    pub count: i64,
}

/// Today's counts, as shown.
#[derive(Debug, Clone)]
pub struct CountsView {
    pub date: String,
    pub contacts: i64,
    pub alerts: i64,
    pub open_alerts: i64,
    pub by_operator: Vec<CountRow>,
    pub by_channel: Vec<CountRow>,
    pub by_reason: Vec<CountRow>,
}

impl CountsView {
    fn new(counts: &BoardCounts, date: time::Date, lang: Lang) -> CountsView {
        let t = lang.strings();
        let named = |name: &Option<String>, none: &str| name.clone().unwrap_or_else(|| none.to_owned());
        CountsView {
            date: kimochi_domain::datetime::format_date(date),
            contacts: counts.contacts,
            alerts: counts.alerts,
            open_alerts: counts.unacknowledged_alerts,
            by_operator: counts
                .by_operator
                .iter()
                .map(|(name, count)| CountRow { label: named(name, t.board_no_operator), count: *count })
                .collect(),
            by_channel: counts
                .by_channel
                .iter()
                .map(|(channel, count)| CountRow { label: lang.channel(channel.code()), count: *count })
                .collect(),
            by_reason: counts
                .by_reason
                .iter()
                .map(|(reason, count)| CountRow { label: named(reason, t.board_no_reason), count: *count })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "supervisor/board.html")]
struct BoardPage {
    l: Layout,
    alerts: Vec<AlertView>,
    counts: CountsView,
    board_js: String,
    /// `{"phone": "電話", …}` and `{"high": "高", …}` for the script, as data attributes.
    channel_labels: String,
    severity_labels: String,
}

#[derive(Template)]
#[template(path = "supervisor/alert.html")]
struct AlertFragment {
    t: &'static Strings,
    alert: AlertView,
}

#[derive(Template)]
#[template(path = "supervisor/counts.html")]
struct CountsFragment {
    t: &'static Strings,
    counts: CountsView,
}

/// The board is for supervisors and administrators.
fn require_board(user: &PageUser) -> Result<(), PageError> {
    user.principal.require_supervisor_or_admin().map_err(|error| user.error(error))
}

/// Today in Japan, as `[midnight, next midnight)`.
fn today() -> (time::Date, OffsetDateTime, OffsetDateTime) {
    let date = crate::now().to_offset(JST).date();
    let start = date.midnight().assume_offset(JST);
    (date, start, start + time::Duration::days(1))
}

async fn counts(state: &AppState, user: &PageUser) -> Result<CountsView, PageError> {
    let (date, from, to) = today();
    let counts = state.store.board_counts(user.principal.tenant_id, from, to).await.for_page(user)?;
    Ok(CountsView::new(&counts, date, user.lang))
}

/// `GET /supervisor`.
pub async fn board_page(State(state): State<AppState>, user: PageUser) -> Result<Response, PageError> {
    require_board(&user)?;
    let query = AlertQuery { since: None, unacknowledged_only: true, limit: OPEN_ALERTS };
    let alerts = state.store.alert_list(user.principal.tenant_id, &query).await.for_page(&user)?;
    user.audit(&state, "board.read", None, format!("{} alerts", alerts.len())).await?;
    let alerts = alerts.iter().map(|a| AlertView::new(&AlertJson::from(a), user.lang)).collect();
    let counts = counts(&state, &user).await?;
    let channel_labels = serde_json::Value::Object(
        Channel::ALL.iter().map(|c| (c.code().to_owned(), user.lang.channel(c.code()).into())).collect(),
    )
    .to_string();
    let severity_labels = serde_json::Value::Object(
        CrisisSeverity::ALL.iter().map(|s| (s.code().to_owned(), severity_label(user.lang, *s).into())).collect(),
    )
    .to_string();
    let title = user.t().board_title;
    Ok(render(&BoardPage {
        l: user.layout(title),
        alerts,
        counts,
        board_js: super::assets::url("board.js"),
        channel_labels,
        severity_labels,
    }))
}

/// `GET /supervisor/counts`: the counts section, for htmx.
pub async fn board_counts(State(state): State<AppState>, user: PageUser) -> Result<Response, PageError> {
    require_board(&user)?;
    let counts = counts(&state, &user).await?;
    Ok(render(&CountsFragment { t: user.t(), counts }))
}

/// `POST /supervisor/alerts/{id}/ack`: acknowledges and answers the alert's entry.
pub async fn alert_ack(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = id.parse::<i64>().map_err(|_| user.error(AppError::not_found("alert")))?;
    let alert = crate::alerts::acknowledge(&state, &user.principal, AlertId(id)).await.for_page(&user)?;
    let alert = AlertView::new(&AlertJson::from(&alert), user.lang);
    Ok(render(&AlertFragment { t: user.t(), alert }))
}
