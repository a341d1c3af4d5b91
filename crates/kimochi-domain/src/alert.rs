//! Crisis words (NGワード) and the alerts they raise: a tenant's own words, the matches the text
//! engine found in a contact, the stored alert with its acknowledgement, and the webhooks alerts
//! are delivered to.

use time::OffsetDateTime;

use crate::error::ValidationError;
use crate::ids::{ContactId, CustomerId, UserId};

macro_rules! alert_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

alert_id!(
    /// A tenant's own crisis word.
    CrisisWordId
);
alert_id!(
    /// An alert raised by a contact with crisis words.
    AlertId
);
alert_id!(
    /// A URL a tenant's alerts are posted to.
    WebhookId
);
alert_id!(
    /// One (alert, webhook) row of the delivery outbox.
    WebhookDeliveryId
);

/// How urgent a crisis word is; an alert takes the highest of its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CrisisSeverity {
    Low,
    Medium,
    High,
    Critical,
}

impl CrisisSeverity {
    pub const ALL: [CrisisSeverity; 4] =
        [CrisisSeverity::Low, CrisisSeverity::Medium, CrisisSeverity::High, CrisisSeverity::Critical];

    pub fn code(self) -> &'static str {
        match self {
            CrisisSeverity::Low => "low",
            CrisisSeverity::Medium => "medium",
            CrisisSeverity::High => "high",
            CrisisSeverity::Critical => "critical",
        }
    }

    pub fn from_code(code: &str) -> Option<CrisisSeverity> {
        CrisisSeverity::ALL.into_iter().find(|s| s.code() == code)
    }

    /// 低・中・高・緊急.
    pub fn label_ja(self) -> &'static str {
        match self {
            CrisisSeverity::Low => "低",
            CrisisSeverity::Medium => "中",
            CrisisSeverity::High => "高",
            CrisisSeverity::Critical => "緊急",
        }
    }
}

/// One crisis word found in a contact's text: byte range into that text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrisisMatch {
    pub phrase: String,
    pub severity: CrisisSeverity,
    pub start: u32,
    pub end: u32,
}

/// The most severe of some matches, `None` when there are none.
pub fn max_severity(matches: &[CrisisMatch]) -> Option<CrisisSeverity> {
    matches.iter().map(|m| m.severity).max()
}

/// Longest crisis word, in characters.
pub const MAX_CRISIS_PHRASE_CHARS: usize = 100;
/// Longest note on a crisis word, in characters.
pub const MAX_CRISIS_NOTE_CHARS: usize = 500;

/// A crisis word as a tenant enters it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCrisisWord {
    pub phrase: String,
    /// The text engine's matching key of `phrase` (`kimochi_text::crisis::matching_key`): two
    /// phrases with one key are the same word, and the store refuses the second.
    pub key: String,
    pub severity: CrisisSeverity,
    pub note: String,
}

impl NewCrisisWord {
    pub fn validate(&self) -> Result<(), ValidationError> {
        let phrase = self.phrase.trim();
        if phrase.is_empty() {
            return Err(ValidationError::new("phrase", &self.phrase, "is empty"));
        }
        if phrase.chars().count() > MAX_CRISIS_PHRASE_CHARS {
            return Err(ValidationError::new(
                "phrase",
                &self.phrase,
                format!("is longer than {MAX_CRISIS_PHRASE_CHARS} characters"),
            ));
        }
        if self.key.is_empty() {
            return Err(ValidationError::new("phrase", &self.phrase, "has no letters or digits to match"));
        }
        if self.note.chars().count() > MAX_CRISIS_NOTE_CHARS {
            return Err(ValidationError::new(
                "note",
                &self.note,
                format!("is longer than {MAX_CRISIS_NOTE_CHARS} characters"),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrisisWord {
    pub id: CrisisWordId,
    pub phrase: String,
    pub severity: CrisisSeverity,
    pub note: String,
    pub created_at: OffsetDateTime,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: AlertId,
    pub contact_id: ContactId,
    pub customer_id: CustomerId,
    pub severity: CrisisSeverity,
    pub matches: Vec<CrisisMatch>,
    pub created_at: OffsetDateTime,
    /// What a supervisor needs to act: who, on which channel, and the text the spans point into.
    pub customer_name: String,
    pub channel: crate::vocab::Channel,
    pub text: String,
    /// `None` when acknowledged through an integration token rather than by a person.
    pub acknowledged_by: Option<UserId>,
    pub acknowledged_at: Option<OffsetDateTime>,
}

/// Which alerts to list: newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertQuery {
    /// Alerts stored at or after this time.
    pub since: Option<OffsetDateTime>,
    pub unacknowledged_only: bool,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: String,
    pub created_at: OffsetDateTime,
}

/// A due delivery, claimed by a worker until `leased_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: WebhookDeliveryId,
    pub tenant_id: crate::ids::TenantId,
    pub webhook_id: WebhookId,
    pub url: String,
    pub secret: String,
    pub alert: Alert,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// What the supervisor board counts over a period (today, in JST).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BoardCounts {
    /// (operator's display name, or `None` for contacts without one; contacts), most first.
    pub by_operator: Vec<(Option<String>, i64)>,
    /// (channel, contacts), most first.
    pub by_channel: Vec<(crate::vocab::Channel, i64)>,
    /// (reason, or `None`; contacts), most first.
    pub by_reason: Vec<(Option<String>, i64)>,
    pub contacts: i64,
    pub alerts: i64,
    pub unacknowledged_alerts: i64,
}
