//! Behavioural data (issue 6, T1): survey answers, web visits and email opens/clicks from
//! outside tools, imported from files and linked to customers by external id, email or phone.
//! Survey answers and web visits become behaviour events (for segment conditions such as
//! "visited a URL containing X in the last N days" or "answered Q with V"); email opens and
//! clicks become email-event contacts, one history with the ones kimochi tracks itself.

use time::OffsetDateTime;

use crate::{Email, ExternalId, Outcome, PhoneNumber, ValidationError};

/// What an events file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Survey answers (アンケート回答).
    Survey,
    /// Web access log lines (アクセスログ).
    Web,
    /// Email opens and clicks from an outside mail tool (メール開封・クリック).
    Email,
}

impl EventKind {
    pub fn code(self) -> &'static str {
        match self {
            EventKind::Survey => "survey",
            EventKind::Web => "web",
            EventKind::Email => "email",
        }
    }

    pub fn from_code(code: &str) -> Option<EventKind> {
        Some(match code {
            "survey" => EventKind::Survey,
            "web" => EventKind::Web,
            "email" => EventKind::Email,
            _ => return None,
        })
    }
}

/// How a row names its customer; the first of external id, email, phone that the row fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerKey {
    ExternalId(ExternalId),
    Email(Email),
    Phone(PhoneNumber),
}

impl CustomerKey {
    /// The column a "not found" problem names.
    pub fn column(&self) -> &'static str {
        match self {
            CustomerKey::ExternalId(_) => "customer_external_id",
            CustomerKey::Email(_) => "email",
            CustomerKey::Phone(_) => "phone",
        }
    }

    pub fn value(&self) -> String {
        match self {
            CustomerKey::ExternalId(id) => id.as_str().to_owned(),
            CustomerKey::Email(email) => email.as_str().to_owned(),
            CustomerKey::Phone(phone) => phone.digits().to_owned(),
        }
    }
}

/// What happened, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventDetail {
    Survey {
        survey: String,
        question: String,
        answer: String,
    },
    Web {
        url: String,
        referrer: Option<String>,
    },
    /// `event` is `Opened` or `Clicked`.
    Email {
        event: Outcome,
        url: Option<String>,
        campaign: Option<String>,
    },
}

/// One imported row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventImport {
    pub customer: CustomerKey,
    pub occurred_at: OffsetDateTime,
    pub detail: EventDetail,
}

impl EventImport {
    pub fn kind(&self) -> EventKind {
        match self.detail {
            EventDetail::Survey { .. } => EventKind::Survey,
            EventDetail::Web { .. } => EventKind::Web,
            EventDetail::Email { .. } => EventKind::Email,
        }
    }
}

/// A stored survey answer or web visit (`behavior_events`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BehaviorEvent {
    pub customer_id: crate::CustomerId,
    pub kind: EventKind,
    pub occurred_at: OffsetDateTime,
    /// Survey: the question; web: empty.
    pub key: String,
    /// Survey: the answer; web: empty.
    pub value: String,
    pub url: Option<String>,
    /// Survey: `survey`; web: `referrer`.
    pub attributes: std::collections::BTreeMap<String, String>,
}

/// Longest URL kept, in characters.
pub const MAX_URL_CHARS: usize = 2000;

/// A URL of a web log or click: `http(s)://…`, at most 2,000 characters, no spaces.
pub fn parse_url(field: &'static str, input: &str) -> Result<String, ValidationError> {
    let url = input.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ValidationError::new(field, input, "must start with http:// or https://"));
    }
    if url.chars().count() > MAX_URL_CHARS || url.chars().any(char::is_whitespace) {
        return Err(ValidationError::new(field, input, "must be one URL of at most 2,000 characters"));
    }
    Ok(url.to_owned())
}

/// An email event word: opened (開封, open) or clicked (クリック, click).
pub fn parse_email_event(input: &str) -> Result<Outcome, ValidationError> {
    match crate::normalize::normalize_text(input).to_lowercase().as_str() {
        "opened" | "open" | "開封" => Ok(Outcome::Opened),
        "clicked" | "click" | "クリック" => Ok(Outcome::Clicked),
        _ => Err(ValidationError::new("event", input, "must be opened (開封) or clicked (クリック)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_events_are_checked() {
        assert_eq!(parse_url("url", " https://a.jp/x?y=1 ").unwrap(), "https://a.jp/x?y=1");
        assert_eq!(parse_url("url", "a.jp").unwrap_err().field, "url");
        assert!(parse_url("url", "https://a.jp/x y").is_err());
        assert_eq!(parse_email_event("開封").unwrap(), Outcome::Opened);
        assert_eq!(parse_email_event("ＣＬＩＣＫ").unwrap(), Outcome::Clicked);
        assert!(parse_email_event("sent").is_err());
    }
}
