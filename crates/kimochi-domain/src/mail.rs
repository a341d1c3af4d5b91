//! Outbound email (issue 6, F6): the outbox records and the pure rules of a tracked message —
//! which links a body holds, how they are rewritten to tracked links, and where the open pixel
//! and the unsubscribe link go. The store keeps the messages; the web edge sends them over SMTP
//! and answers the tracking URLs.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{CustomerId, TenantId, ValidationError};

/// One email of the outbox (`email_messages`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailMessageId(pub i64);

impl std::fmt::Display for EmailMessageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Longest subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Longest text or HTML body, in bytes.
pub const MAX_BODY_BYTES: usize = 100 * 1024;
/// Most distinct links one message may carry (each becomes a tracked link).
pub const MAX_LINKS: usize = 50;

/// An email to enqueue for one customer. The address is the customer's first email and is
/// looked up (with the email consent) by the store at enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmail {
    pub customer_id: CustomerId,
    /// The campaign and step that sent it, if any (plain numbers: campaigns live elsewhere).
    pub campaign_id: Option<i64>,
    pub campaign_step: Option<i64>,
    pub subject: String,
    pub body_text: String,
    /// An optional HTML alternative; it gets the open pixel.
    pub body_html: Option<String>,
}

impl NewEmail {
    /// Checks sizes and the subject (one line), and returns the distinct links of the bodies.
    pub fn validate(&self) -> Result<Vec<String>, ValidationError> {
        let subject = self.subject.trim();
        if subject.is_empty() {
            return Err(ValidationError::new("subject", &self.subject, "is empty"));
        }
        if subject.chars().count() > MAX_SUBJECT_CHARS {
            return Err(ValidationError::new("subject", &self.subject, "is longer than 200 characters"));
        }
        if subject.contains(['\r', '\n']) {
            return Err(ValidationError::new("subject", &self.subject, "must be one line"));
        }
        if self.body_text.trim().is_empty() {
            return Err(ValidationError::new("body", "", "is empty"));
        }
        if self.body_text.len() > MAX_BODY_BYTES {
            return Err(ValidationError::new("body", "", "is larger than 100 KiB"));
        }
        if self.body_html.as_ref().is_some_and(|html| html.len() > MAX_BODY_BYTES) {
            return Err(ValidationError::new("body_html", "", "is larger than 100 KiB"));
        }
        let links = message_links(&self.body_text, self.body_html.as_deref());
        if links.len() > MAX_LINKS {
            return Err(ValidationError::new("body", "", "has more than 50 distinct links"));
        }
        Ok(links)
    }
}

/// Where a message is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmailStatus {
    /// Waiting for its (next) attempt.
    Queued,
    /// Claimed by a sender (leased); back to due when the lease runs out.
    Sending,
    /// Accepted by the SMTP server.
    Sent,
    /// Given up after temporary failures.
    Failed,
    /// Refused permanently by the SMTP server (5xx).
    Bounced,
}

impl EmailStatus {
    pub fn code(self) -> &'static str {
        match self {
            EmailStatus::Queued => "queued",
            EmailStatus::Sending => "sending",
            EmailStatus::Sent => "sent",
            EmailStatus::Failed => "failed",
            EmailStatus::Bounced => "bounced",
        }
    }

    pub fn from_code(code: &str) -> Option<EmailStatus> {
        Some(match code {
            "queued" => EmailStatus::Queued,
            "sending" => EmailStatus::Sending,
            "sent" => EmailStatus::Sent,
            "failed" => EmailStatus::Failed,
            "bounced" => EmailStatus::Bounced,
            _ => return None,
        })
    }

    /// Japanese label for screens.
    pub fn label_ja(self) -> &'static str {
        match self {
            EmailStatus::Queued => "送信待ち",
            EmailStatus::Sending => "送信中",
            EmailStatus::Sent => "送信済み",
            EmailStatus::Failed => "送信失敗",
            EmailStatus::Bounced => "不達",
        }
    }
}

/// A message of the outbox as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    pub id: EmailMessageId,
    pub customer_id: CustomerId,
    pub campaign_id: Option<i64>,
    pub campaign_step: Option<i64>,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// The distinct links of the bodies at enqueue, in order: tracked link `n` redirects to
    /// `links[n]` and nowhere else.
    pub links: Vec<String>,
    /// The RFC 5322 Message-ID (without angle brackets), fixed at enqueue so that a resend after
    /// a crash carries the same id and receivers can drop the repeat.
    pub message_id: String,
    pub status: EmailStatus,
    pub attempts: i64,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
    pub opened_at: Option<OffsetDateTime>,
    pub clicked_at: Option<OffsetDateTime>,
    pub unsubscribed_at: Option<OffsetDateTime>,
}

/// A message claimed for sending, with what only the sender needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub tenant_id: TenantId,
    /// The tracking token of the message (in its tracked URLs).
    pub token: String,
    pub message: EmailMessage,
}

/// How one send attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailSendOutcome {
    /// The server accepted the message: marked sent, with a `sent` contact, in one transaction.
    Sent { at: OffsetDateTime },
    /// A temporary failure (connection, 4xx): try again at `retry_at`, or give up (`failed`)
    /// when it is `None`.
    Retry { error: String, retry_at: Option<OffsetDateTime>, at: OffsetDateTime },
    /// A permanent refusal (5xx): `bounced`, with a `bounced` contact.
    Bounced { error: String, at: OffsetDateTime },
}

/// What a tracking URL reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackEvent {
    Open,
    /// Link `n` (0-based) of the message.
    Click(u32),
    Unsubscribe,
}

/// What the store did with a tracking event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackResult {
    pub tenant_id: TenantId,
    pub message_id: EmailMessageId,
    pub customer_id: CustomerId,
    /// Whether a contact was recorded (repeated opens within an hour and repeated unsubscribes
    /// are not).
    pub recorded: bool,
    /// For a click: the link to redirect to.
    pub redirect_to: Option<String>,
}

/// Repeated opens of one message within this many seconds are one open.
pub const OPEN_DEDUPE_SECONDS: i64 = 3600;

/// Byte ranges of the `http://` and `https://` links in `text`. A link ends at whitespace,
/// quotes, angle brackets or the first non-ASCII character (Japanese text often runs straight
/// on after a URL); trailing sentence punctuation is not part of it.
pub fn find_links(text: &str) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let bytes = text.as_bytes();
    let mut position = 0;
    while position < bytes.len() {
        let rest = &text[position..];
        let start = match (rest.find("http://"), rest.find("https://")) {
            (Some(a), Some(b)) => position + a.min(b),
            (Some(a), None) | (None, Some(a)) => position + a,
            (None, None) => break,
        };
        let mut end = start;
        while end < bytes.len() {
            let byte = bytes[end];
            if !byte.is_ascii_graphic() || matches!(byte, b'"' | b'\'' | b'<' | b'>' | b'`') {
                break;
            }
            end += 1;
        }
        while end > start && matches!(bytes[end - 1], b'.' | b',' | b';' | b':' | b'!' | b'?' | b')' | b']') {
            end -= 1;
        }
        let scheme_len = if text[start..].starts_with("https://") { 8 } else { 7 };
        if end > start + scheme_len {
            ranges.push((start, end));
        }
        position = end.max(start + scheme_len);
    }
    ranges
}

/// An HTML alternative of a plain-text body, so that opens can be tracked (the pixel goes in the
/// HTML part): the text escaped, its links made clickable, line breaks kept.
pub fn html_from_text(text: &str) -> String {
    fn escape(text: &str, out: &mut String) {
        for ch in text.chars() {
            match ch {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                '\n' => out.push_str("<br>\n"),
                '\r' => {}
                _ => out.push(ch),
            }
        }
    }
    let mut out = String::from("<html><body><p>");
    let mut last = 0;
    for (start, end) in find_links(text) {
        escape(&text[last..start], &mut out);
        let mut link = String::new();
        escape(&text[start..end], &mut link);
        out.push_str(&format!("<a href=\"{link}\">{link}</a>"));
        last = end;
    }
    escape(&text[last..], &mut out);
    out.push_str("</p></body></html>");
    out
}

/// The distinct links of a message's bodies, text first, in order of appearance. In HTML, `&amp;`
/// inside a link is read as `&` (the URL the reader's browser would follow).
pub fn message_links(text: &str, html: Option<&str>) -> Vec<String> {
    let mut links: Vec<String> = Vec::new();
    let mut add = |link: String| {
        if !links.contains(&link) {
            links.push(link);
        }
    };
    for (start, end) in find_links(text) {
        add(text[start..end].to_owned());
    }
    if let Some(html) = html {
        for (start, end) in find_links(html) {
            add(html[start..end].replace("&amp;", "&"));
        }
    }
    links
}

/// The URLs of one message's tracking, under the server's public URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingUrls {
    base: String,
    token: String,
}

impl TrackingUrls {
    /// `public_url` is where kimochi is reachable from the readers' mail clients
    /// (`https://crm.example.jp`); a trailing slash is ignored.
    pub fn new(public_url: &str, token: &str) -> TrackingUrls {
        TrackingUrls { base: public_url.trim_end_matches('/').to_owned(), token: token.to_owned() }
    }

    pub fn open_pixel(&self) -> String {
        format!("{}/t/o/{}.gif", self.base, self.token)
    }

    pub fn click(&self, n: usize) -> String {
        format!("{}/t/c/{}/{n}", self.base, self.token)
    }

    pub fn unsubscribe(&self) -> String {
        format!("{}/t/u/{}", self.base, self.token)
    }
}

/// The bodies as sent: every link replaced by its tracked link, an unsubscribe line at the end
/// of the text, and the open pixel and unsubscribe link at the end of the HTML.
pub fn render_bodies(message: &EmailMessage, urls: &TrackingUrls) -> (String, Option<String>) {
    let index = |link: &str| message.links.iter().position(|l| l == link);
    let text = replace_links(&message.body_text, |link| index(link).map(|n| urls.click(n)));
    let text = format!("{}\n\n--\n配信停止 / Unsubscribe: {}\n", text.trim_end(), urls.unsubscribe());
    let html = message.body_html.as_ref().map(|html| {
        let html = replace_links(html, |link| index(&link.replace("&amp;", "&")).map(|n| urls.click(n)));
        let footer = format!(
            "<p style=\"font-size:small\"><a href=\"{}\">配信停止 / Unsubscribe</a></p><img src=\"{}\" width=\"1\" height=\"1\" alt=\"\">",
            urls.unsubscribe(),
            urls.open_pixel()
        );
        match html.rfind("</body>") {
            Some(at) => format!("{}{footer}{}", &html[..at], &html[at..]),
            None => format!("{html}{footer}"),
        }
    });
    (text, html)
}

fn replace_links(body: &str, mut tracked: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(body.len());
    let mut last = 0;
    for (start, end) in find_links(body) {
        out.push_str(&body[last..start]);
        match tracked(&body[start..end]) {
            Some(url) => out.push_str(&url),
            None => out.push_str(&body[start..end]),
        }
        last = end;
    }
    out.push_str(&body[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_links(text: &str, expected: &[&str]) {
        let found: Vec<&str> = find_links(text).into_iter().map(|(s, e)| &text[s..e]).collect();
        assert_eq!(found, expected, "{text:?}");
    }

    #[test]
    fn html_from_text_escapes_and_links() {
        let html = html_from_text("<b>お得</b>\nこちら https://shop.example.jp/a?x=1&y=2 です");
        assert_eq!(
            html,
            "<html><body><p>&lt;b&gt;お得&lt;/b&gt;<br>\nこちら <a href=\"https://shop.example.jp/a?x=1&amp;y=2\">https://shop.example.jp/a?x=1&amp;y=2</a> です</p></body></html>"
        );
        assert_eq!(
            message_links("こちら https://shop.example.jp/a?x=1&y=2 です", Some(&html)),
            ["https://shop.example.jp/a?x=1&y=2"]
        );
    }

    #[test]
    fn links_are_found_in_text_and_html() {
        check_links("詳しくは https://example.jp/a?b=1 をご覧ください。", &["https://example.jp/a?b=1"]);
        check_links("こちら→https://example.jp/x。ありがとう", &["https://example.jp/x"]);
        check_links("(see http://a.jp/b).", &["http://a.jp/b"]);
        check_links("<a href=\"https://a.jp/?x=1&amp;y=2\">go</a>", &["https://a.jp/?x=1&amp;y=2"]);
        check_links("no link http:// here https://", &[]);
        check_links("", &[]);
    }

    #[test]
    fn links_are_distinct_and_html_entities_read() {
        let links = message_links(
            "https://a.jp/1 and https://a.jp/2 and https://a.jp/1",
            Some("<a href=\"https://a.jp/2\">x</a><a href=\"https://a.jp/3?p=1&amp;q=2\">y</a>"),
        );
        assert_eq!(links, ["https://a.jp/1", "https://a.jp/2", "https://a.jp/3?p=1&q=2"]);
    }

    #[test]
    fn bodies_get_tracked_links_pixel_and_unsubscribe() {
        let message = EmailMessage {
            id: EmailMessageId(1),
            customer_id: CustomerId(1),
            campaign_id: None,
            campaign_step: None,
            to_address: "a@example.jp".into(),
            subject: "s".into(),
            body_text: "見る https://a.jp/1 と https://a.jp/2".into(),
            body_html: Some("<html><body><a href=\"https://a.jp/2\">2</a></body></html>".into()),
            links: vec!["https://a.jp/1".into(), "https://a.jp/2".into()],
            message_id: "m@kimochi".into(),
            status: EmailStatus::Queued,
            attempts: 0,
            next_attempt_at: None,
            last_error: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            sent_at: None,
            opened_at: None,
            clicked_at: None,
            unsubscribed_at: None,
        };
        let urls = TrackingUrls::new("https://crm.example.jp/", "tok");
        let (text, html) = render_bodies(&message, &urls);
        assert!(
            text.starts_with("見る https://crm.example.jp/t/c/tok/0 と https://crm.example.jp/t/c/tok/1"),
            "{text}"
        );
        assert!(text.contains("https://crm.example.jp/t/u/tok"));
        let html = html.unwrap();
        assert!(html.contains("<a href=\"https://crm.example.jp/t/c/tok/1\">2</a>"), "{html}");
        assert!(html.contains("<img src=\"https://crm.example.jp/t/o/tok.gif\""));
        assert!(html.ends_with("</body></html>"));
    }

    #[test]
    fn subject_and_body_are_checked() {
        let email = |subject: &str, body: &str| NewEmail {
            customer_id: CustomerId(1),
            campaign_id: None,
            campaign_step: None,
            subject: subject.into(),
            body_text: body.into(),
            body_html: None,
        };
        assert_eq!(email("件名", "本文 https://a.jp").validate().unwrap(), ["https://a.jp"]);
        assert_eq!(email(" ", "本文").validate().unwrap_err().field, "subject");
        assert_eq!(email("a\r\nBcc: x@y", "本文").validate().unwrap_err().field, "subject");
        assert_eq!(email("件名", "  ").validate().unwrap_err().field, "body");
        let many: String = (0..51).map(|n| format!("https://a.jp/{n} ")).collect();
        assert_eq!(email("件名", &many).validate().unwrap_err().field, "body");
    }
}
