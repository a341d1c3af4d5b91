//! The expectation-gap timeline (K1, K2) over HTTP: `GET /api/v1/customers/{id}/kimochi-timeline`
//! (over the latest 1,000 contacts and 1,000 kimochi notes), and the same document inside the
//! karte (over the karte's window: `KarteLimits::default()`, 50 contacts and 100 notes). The
//! computation is `kimochi_analytics::timeline`.
//! Texts are masked (phone numbers, emails, card numbers) for roles that do not see personal data.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use kimochi_analytics::timeline::{self as core, Event, Experience, Source, Timeline};
use kimochi_domain::datetime::format_jst;
use kimochi_domain::*;
use kimochi_store::KarteLimits;
use serde::Serialize;
use time::OffsetDateTime;

use crate::AppState;
use crate::auth::Principal;
use crate::error::AppError;
use crate::extract::ApiPath;

/// The customer's dated kimochi events: every contact in the karte with its tags and polarity,
/// and every kimochi note.
pub fn events_of(karte: &Karte) -> Vec<Event> {
    let contacts = karte.recent_contacts.iter().map(|c| Event {
        at: c.started_at,
        source: Source::Contact(c.id.0),
        text: c.text.clone(),
        polarity: c.tags.polarity,
        tags: c.tags.kimochi.clone(),
        note_kind: None,
    });
    let notes = karte.kimochi.iter().map(|n| Event {
        at: n.captured_at,
        source: Source::Note(n.id.0),
        text: n.text.clone(),
        polarity: None,
        tags: Vec::new(),
        note_kind: Some(n.kind),
    });
    contacts.chain(notes).collect()
}

pub fn timeline_of(karte: &Karte, as_of: OffsetDateTime) -> Timeline {
    core::timeline(&events_of(karte), karte.stats.first_order_at, as_of)
}

/// One event as the API sends it.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEventJson {
    pub at: String,
    /// `contact` or `note`.
    pub source: &'static str,
    /// The contact's or the note's id.
    pub id: i64,
    pub text: String,
    /// `positive`, `negative`, `mixed` or `neutral`.
    pub valence: &'static str,
    /// A contact's kimochi tags, or a note's kind.
    pub kinds: Vec<&'static str>,
    /// Carries an explicit `gap` (tag or note kind).
    pub explicit_gap: bool,
    /// Unix seconds, for drawing.
    #[serde(skip)]
    pub unix: i64,
}

impl TimelineEventJson {
    fn new(event: &Event, valence: core::Valence, explicit_gap: bool, masked: bool) -> TimelineEventJson {
        let (source, id) = match event.source {
            Source::Contact(id) => ("contact", id),
            Source::Note(id) => ("note", id),
        };
        let kinds = match event.note_kind {
            Some(kind) => vec![kind.code()],
            None => event.tags.iter().map(|t| t.code()).collect(),
        };
        let text = if masked { kimochi_text::mask_pii(&event.text).text } else { event.text.clone() };
        TimelineEventJson {
            at: format_jst(event.at),
            source,
            id,
            text,
            valence: valence.code(),
            kinds,
            explicit_gap,
            unix: event.at.unix_timestamp(),
        }
    }

    fn experience(experience: &Experience, masked: bool) -> TimelineEventJson {
        TimelineEventJson::new(&experience.event, experience.valence, experience.explicit_gap, masked)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GapPointJson {
    pub at: String,
    pub score: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RetentionPointJson {
    pub code: &'static str,
    pub label_ja: &'static str,
    pub label_en: &'static str,
}

/// What an operator needs when the customer says they want to leave.
#[derive(Debug, Clone, Serialize)]
pub struct RetentionJson {
    /// The original expectation (null when none was said or noted).
    pub expectation: Option<TimelineEventJson>,
    pub gap_history: Vec<GapPointJson>,
    /// Suggested retention points, most relevant first (rules in `kimochi_analytics::timeline`).
    pub points: Vec<RetentionPointJson>,
}

/// The expectation-gap timeline document.
#[derive(Debug, Clone, Serialize)]
pub struct KimochiTimelineJson {
    pub as_of: String,
    /// The earliest expectation-tagged contact or expectation note.
    pub expectation: Option<TimelineEventJson>,
    /// When the timeline starts: the expectation, else the first order, else the first event.
    pub anchor: Option<String>,
    /// Experiences after the anchor, oldest first.
    pub events: Vec<TimelineEventJson>,
    /// In [0, 1]; null when there is no experience to judge.
    pub gap_score: Option<f64>,
    pub gap_history: Vec<GapPointJson>,
    /// The latest contact carries `churn_intent`.
    pub churn_intent: bool,
    /// Present only with churn intent.
    pub retention: Option<RetentionJson>,
    /// Texts were masked for the caller's role.
    pub masked: bool,
    /// How the gap score is computed.
    pub method: &'static str,
    /// The anchor in Unix seconds, for drawing.
    #[serde(skip)]
    pub anchor_unix: Option<i64>,
}

pub const METHOD: &str = "gap = 1 − (1 − base) · Π(1 − w/2) over experiences with an explicit gap; \
base = Σ w·n / Σ w over polar experiences after the expectation (n: negative 1, mixed 0.5, positive 0); \
w = 0.5^(age in days / 90).";

impl KimochiTimelineJson {
    pub fn new(karte: &Karte, role: Role, as_of: OffsetDateTime) -> KimochiTimelineJson {
        let masked = !role.sees_personal_data();
        let timeline = timeline_of(karte, as_of);
        let expectation =
            timeline.expectation.as_ref().map(|e| TimelineEventJson::new(e, core::Valence::Neutral, false, masked));
        let gap_history: Vec<GapPointJson> =
            timeline.gap_history.iter().map(|p| GapPointJson { at: format_jst(p.at), score: round(p.score) }).collect();
        let retention = timeline.churn_intent.then(|| RetentionJson {
            expectation: expectation.clone(),
            gap_history: gap_history.clone(),
            points: timeline
                .retention
                .iter()
                .map(|p| RetentionPointJson { code: p.code(), label_ja: p.label_ja(), label_en: p.label_en() })
                .collect(),
        });
        KimochiTimelineJson {
            as_of: format_jst(as_of),
            expectation,
            anchor: timeline.anchor.map(format_jst),
            events: timeline.experiences.iter().map(|e| TimelineEventJson::experience(e, masked)).collect(),
            gap_score: timeline.gap_score.map(round),
            gap_history,
            churn_intent: timeline.churn_intent,
            retention,
            masked,
            method: METHOD,
            anchor_unix: timeline.anchor.map(OffsetDateTime::unix_timestamp),
        }
    }
}

/// Three decimals are plenty for people and keep the JSON stable.
fn round(score: f64) -> f64 {
    (score * 1000.0).round() / 1000.0
}

/// How many of a customer's latest contacts, and of their kimochi notes, the endpoint reads.
pub const HISTORY_LIMIT: u32 = 1000;

/// `GET /api/v1/customers/{id}/kimochi-timeline`: over the latest `HISTORY_LIMIT` contacts and
/// notes (the karte's `expectation_gap` is over the karte's own, shorter window).
pub async fn kimochi_timeline_get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, AppError> {
    let mut karte = state.store.karte(principal.tenant_id, CustomerId(id), KarteLimits::default()).await?;
    // The karte holds its window; the timeline reads further back, so that a long-standing
    // customer's expectation at purchase is still found.
    karte.recent_contacts = state.store.contact_list(principal.tenant_id, CustomerId(id), HISTORY_LIMIT).await?;
    karte.kimochi = state.store.kimochi_note_list(principal.tenant_id, CustomerId(id), HISTORY_LIMIT).await?;
    let entry = AuditEntry {
        at: crate::now(),
        actor: principal.actor,
        action: "kimochi_timeline.read".to_owned(),
        customer_id: Some(CustomerId(id)),
        detail: String::new(),
    };
    state.audit.record(principal.tenant_id, entry).await?;
    Ok(Json(KimochiTimelineJson::new(&karte, principal.role, crate::now())).into_response())
}
