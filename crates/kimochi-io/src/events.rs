//! Behavioural data files (issue 6, T1): survey answers, web access logs and email open/click
//! logs, as CSV (Japanese or English headers) or JSON lines (one object per line, the same
//! names as keys). Each row names its customer by external id, email or phone (the first it
//! fills); whether that customer exists is the store's check.

use kimochi_domain::behavior::{CustomerKey, EventDetail, EventImport, EventKind, parse_email_event, parse_url};
use kimochi_domain::datetime::parse_datetime;
use kimochi_domain::model::short_text;
use kimochi_domain::{Email, ExternalId, PhoneNumber};

use crate::columns::ImportKind;
use crate::error::FileError;
use crate::rows::{Parsed, RowReader, read_json_lines, read_rows};

/// Parses an events file of `kind`; JSON lines when its first non-blank character is `{`.
pub fn parse_events(kind: EventKind, text: &str) -> Result<Parsed<EventImport>, FileError> {
    let import_kind = match kind {
        EventKind::Survey => ImportKind::SurveyEvents,
        EventKind::Web => ImportKind::WebEvents,
        EventKind::Email => ImportKind::EmailEvents,
    };
    let build = |row: &mut RowReader<'_>| {
        let customer = customer_key(row);
        let (detail, occurred_at) = match kind {
            EventKind::Survey => {
                let survey = row.required("survey", |v| short_text("survey", v));
                let question = row.required("question", |v| short_text("question", v));
                let answer = row.required("answer", |v| short_text("answer", v));
                let at = row.required("answered_at", |v| parse_datetime("answered_at", v));
                (Some(EventDetail::Survey { survey: survey?, question: question?, answer: answer? }), at)
            }
            EventKind::Web => {
                let url = row.required("url", |v| parse_url("url", v));
                let at = row.required("accessed_at", |v| parse_datetime("accessed_at", v));
                let referrer = row.optional("referrer", |v| parse_url("referrer", v));
                (url.map(|url| EventDetail::Web { url, referrer }), at)
            }
            EventKind::Email => {
                let event = row.required("event", parse_email_event);
                let at = row.required("occurred_at", |v| parse_datetime("occurred_at", v));
                let url = row.optional("url", |v| parse_url("url", v));
                let campaign = row.optional("campaign", |v| short_text("campaign", v));
                (event.map(|event| EventDetail::Email { event, url, campaign }), at)
            }
        };
        Some(EventImport { customer: customer?, occurred_at: occurred_at?, detail: detail? })
    };
    if text.trim_start_matches('\u{FEFF}').trim_start().starts_with('{') {
        read_json_lines(import_kind, text, build)
    } else {
        read_rows(import_kind, text, build)
    }
}

fn customer_key(row: &mut RowReader<'_>) -> Option<CustomerKey> {
    let before = row.problems.len();
    if let Some(id) = row.optional("customer_external_id", ExternalId::parse) {
        return Some(CustomerKey::ExternalId(id));
    }
    if let Some(email) = row.optional("email", Email::parse) {
        return Some(CustomerKey::Email(email));
    }
    if let Some(phone) = row.optional("phone", PhoneNumber::parse) {
        return Some(CustomerKey::Phone(phone));
    }
    if row.problems.len() == before {
        row.problem(
            "customer_external_id",
            "",
            "the customer is required: customer_external_id (顧客ID), email or phone",
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use kimochi_domain::Outcome;

    use super::*;

    #[test]
    fn survey_csv_with_japanese_headers() {
        let text = "顧客ID,アンケート,設問,回答,回答日時\nC1,満足度調査,Q1 使い心地,とても良い,2026/11/01 10:00\n,満足度調査,Q1,良い,2026-11-01\nC3,満足度調査,Q1,良い,昨日\n";
        let parsed = parse_events(EventKind::Survey, text).unwrap();
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].line, 2);
        assert_eq!(parsed.rows[0].record.customer, CustomerKey::ExternalId(ExternalId::parse("C1").unwrap()));
        assert!(matches!(&parsed.rows[0].record.detail, EventDetail::Survey { answer, .. } if answer == "とても良い"));
        let problems: Vec<(u64, &str)> = parsed.problems.iter().map(|p| (p.line, p.column.as_str())).collect();
        assert_eq!(problems, [(3, "customer_external_id"), (4, "回答日時")]);
    }

    #[test]
    fn web_and_email_json_lines() {
        let text = "{\"email\": \"Hanako@Example.JP\", \"url\": \"https://shop.example.jp/a\", \"accessed_at\": \"2026-11-01 10:00\"}\n\n[1]\n{\"phone\": \"090-1234-5678\", \"url\": \"ftp://x\", \"accessed_at\": \"2026-11-01\"}\n{\"phone\": \"03-1111-2222\", \"page\": \"x\"}\n";
        let parsed = parse_events(EventKind::Web, text).unwrap();
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].record.customer, CustomerKey::Email(Email::parse("Hanako@example.jp").unwrap()));
        let problems: Vec<(u64, &str)> = parsed.problems.iter().map(|p| (p.line, p.column.as_str())).collect();
        assert_eq!(problems, [(3, "(row)"), (4, "url"), (5, "(row)")]);

        let text = "customer_external_id,event,occurred_at,url,campaign\nC1,開封,2026-11-01 09:00,,秋の定期便\nC1,click,2026-11-01 09:05,https://shop.example.jp/x,秋の定期便\nC1,sent,2026-11-01,,\n";
        let parsed = parse_events(EventKind::Email, text).unwrap();
        let events: Vec<Outcome> = parsed
            .rows
            .iter()
            .map(|r| match &r.record.detail {
                EventDetail::Email { event, .. } => *event,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(events, [Outcome::Opened, Outcome::Clicked]);
        assert_eq!((parsed.problems[0].line, parsed.problems[0].column.as_str()), (4, "event"));
    }
}
