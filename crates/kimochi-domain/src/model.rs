//! The records of kimochi: what a tenant stores about its customers, their orders and every
//! contact with them. `New…` types are validated input; the plain types are stored rows.

use std::collections::BTreeMap;

use time::{Date, OffsetDateTime};

use crate::email::Email;
use crate::error::ValidationError;
use crate::ids::*;
use crate::normalize::normalize_text;
use crate::phone::PhoneNumber;
use crate::vocab::*;

/// Longest free text kept in one field (a VOC utterance, a note, an FAQ body). Longer input is
/// refused, not truncated, so that nothing is silently lost.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Longest short text (names, reasons, media, categories).
pub const MAX_SHORT_CHARS: usize = 200;
/// Most custom attributes one customer may carry.
pub const MAX_ATTRIBUTES: usize = 100;
/// Largest amount of one order line, in yen. A larger figure is a typo, not a sale.
pub const MAX_LINE_AMOUNT_YEN: i64 = 100_000_000;
/// Largest quantity on one order line.
pub const MAX_QUANTITY: i64 = 100_000;

/// Validates a required short text: normalised, non-empty, bounded.
pub fn short_text(field: &'static str, input: &str) -> Result<String, ValidationError> {
    let text = normalize_text(input);
    if text.is_empty() {
        return Err(ValidationError::new(field, input, "is empty"));
    }
    if text.chars().count() > MAX_SHORT_CHARS {
        return Err(ValidationError::new(field, input, format!("is longer than {MAX_SHORT_CHARS} characters")));
    }
    Ok(text)
}

/// Validates an optional short text: blank means absent.
pub fn optional_short_text(field: &'static str, input: Option<&str>) -> Result<Option<String>, ValidationError> {
    match input.map(normalize_text) {
        None => Ok(None),
        Some(text) if text.is_empty() => Ok(None),
        Some(_) => short_text(field, input.unwrap_or_default()).map(Some),
    }
}

/// Validates free text (voice of the customer, notes): kept as written apart from control
/// characters other than line breaks and tabs, bounded.
pub fn long_text(field: &'static str, input: &str) -> Result<String, ValidationError> {
    if input.chars().count() > MAX_TEXT_CHARS {
        return Err(ValidationError::new(field, input, format!("is longer than {MAX_TEXT_CHARS} characters")));
    }
    Ok(input.chars().filter(|ch| !ch.is_control() || matches!(ch, '\n' | '\t')).collect::<String>().trim().to_owned())
}

/// A URL-safe short name for a tenant (`acme-cosmetics`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantSlug(String);

impl TenantSlug {
    pub fn parse(input: &str) -> Result<TenantSlug, ValidationError> {
        let ok = (2..=40).contains(&input.len())
            && input.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !input.starts_with('-')
            && !input.ends_with('-');
        if ok {
            Ok(TenantSlug(input.to_owned()))
        } else {
            Err(ValidationError::new("slug", input, "must be 2–40 characters of a-z, 0-9 and inner hyphens"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An id a tenant's own systems use for a record (顧客ID, 注文番号); imports are idempotent by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalId(String);

impl ExternalId {
    pub fn parse(input: &str) -> Result<ExternalId, ValidationError> {
        let text = normalize_text(input);
        if text.is_empty() || text.chars().count() > 64 {
            return Err(ValidationError::new("external_id", input, "must be 1–64 characters"));
        }
        Ok(ExternalId(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An amount in yen, checked against absurd values.
pub fn parse_amount(field: &'static str, input: &str) -> Result<i64, ValidationError> {
    let text: String = normalize_text(input).chars().filter(|c| !matches!(c, ',' | '¥' | '円' | '\\')).collect();
    let amount: i64 = text.parse().map_err(|_| ValidationError::new(field, input, "is not a whole number of yen"))?;
    check_amount(field, amount)
}

pub fn check_amount(field: &'static str, amount: i64) -> Result<i64, ValidationError> {
    if !(0..=MAX_LINE_AMOUNT_YEN).contains(&amount) {
        return Err(ValidationError::new(
            field,
            &amount.to_string(),
            format!("must be between 0 and {MAX_LINE_AMOUNT_YEN} yen"),
        ));
    }
    Ok(amount)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: TenantSlug,
    pub name: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub team_id: Option<TeamId>,
    /// An argon2id PHC string; the store never sees a password.
    pub password_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub team_id: Option<TeamId>,
}

/// Permission to contact a customer through each outbound channel (APPI: 本人同意).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Consent {
    pub phone: bool,
    pub email: bool,
    /// Direct mail (DM).
    pub dm: bool,
}

/// What a customer is, as entered or imported. Personal data: name, kana, birth date, address,
/// phones, emails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerProfile {
    pub external_id: Option<ExternalId>,
    pub name: String,
    /// Reading (フリガナ) in katakana.
    pub kana: Option<String>,
    pub birth_date: Option<Date>,
    pub gender: Gender,
    pub prefecture: Option<String>,
    pub address: Option<String>,
    pub phones: Vec<PhoneNumber>,
    pub emails: Vec<Email>,
    pub consent: Consent,
    /// Do-not-call (架電禁止): overrides phone consent.
    pub do_not_call: bool,
    /// The advertising medium the customer came from (広告媒体), for media analysis (F10).
    pub ad_medium: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

impl CustomerProfile {
    /// A profile with only a name, everything else empty; callers fill in what they have.
    pub fn named(name: &str) -> Result<CustomerProfile, ValidationError> {
        Ok(CustomerProfile {
            external_id: None,
            name: short_text("name", name)?,
            kana: None,
            birth_date: None,
            gender: Gender::Unknown,
            prefecture: None,
            address: None,
            phones: Vec::new(),
            emails: Vec::new(),
            consent: Consent::default(),
            do_not_call: false,
            ad_medium: None,
            attributes: BTreeMap::new(),
        })
    }

    /// Checks the invariants a profile built field by field must hold.
    pub fn validate(&self) -> Result<(), ValidationError> {
        short_text("name", &self.name)?;
        if let Some(kana) = &self.kana
            && !crate::normalize::is_kana(kana)
        {
            return Err(ValidationError::new("kana", kana, "must be written in kana"));
        }
        if self.attributes.len() > MAX_ATTRIBUTES {
            return Err(ValidationError::new("attributes", "", format!("more than {MAX_ATTRIBUTES} attributes")));
        }
        for (key, value) in &self.attributes {
            short_text("attributes", key)?;
            if value.chars().count() > MAX_SHORT_CHARS {
                return Err(ValidationError::new("attributes", value, "value longer than 200 characters"));
            }
        }
        if self.phones.len() > 10 || self.emails.len() > 10 {
            return Err(ValidationError::new("phones", "", "at most 10 phones and 10 emails"));
        }
        Ok(())
    }

    /// Whether an outbound contact through `channel` is allowed (B5): do-not-call and consent are
    /// honoured everywhere, so this is the one rule every caller asks.
    pub fn outbound_allowed(&self, channel: Channel) -> Result<(), ConsentRefusal> {
        match channel {
            Channel::Phone if self.do_not_call => Err(ConsentRefusal::DoNotCall),
            Channel::Phone if !self.consent.phone => Err(ConsentRefusal::NoConsent(channel)),
            Channel::Email if !self.consent.email => Err(ConsentRefusal::NoConsent(channel)),
            Channel::Letter | Channel::Fax if !self.consent.dm => Err(ConsentRefusal::NoConsent(channel)),
            _ => Ok(()),
        }
    }
}

/// Why an outbound contact was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConsentRefusal {
    #[error("the customer is on the do-not-call list")]
    DoNotCall,
    #[error("the customer has not consented to contact by {0}")]
    NoConsent(Channel),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    pub profile: CustomerProfile,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Per-customer aggregates, kept current in the same transaction as each order or contact write,
/// so that scoring reads one row instead of rescanning history.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomerStats {
    pub first_order_at: Option<OffsetDateTime>,
    pub last_order_at: Option<OffsetDateTime>,
    pub order_count: i64,
    pub total_amount: i64,
    pub last_contact_at: Option<OffsetDateTime>,
    pub last_outcome: Option<Outcome>,
    /// Outbound or inbound attempts since the last one that reached the customer (T2).
    pub consecutive_no_contact: i64,
    pub contact_count: i64,
}

impl CustomerStats {
    /// Average order amount in yen, rounded down; zero without orders.
    pub fn average_amount(&self) -> i64 {
        if self.order_count == 0 { 0 } else { self.total_amount / self.order_count }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    pub external_id: Option<ExternalId>,
    pub name: String,
    pub kind: ProductKind,
    pub category: Option<String>,
    pub price: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub external_id: Option<ExternalId>,
    pub name: String,
    pub kind: ProductKind,
    pub category: Option<String>,
    pub price: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrderLine {
    pub product_id: ProductId,
    pub quantity: i64,
    /// Amount of the line in yen (not the unit price).
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub external_id: Option<ExternalId>,
    pub customer_id: CustomerId,
    pub ordered_at: OffsetDateTime,
    pub channel: Option<Channel>,
    pub ad_medium: Option<String>,
    pub is_subscription: bool,
    pub lines: Vec<NewOrderLine>,
}

impl NewOrder {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.lines.is_empty() {
            return Err(ValidationError::new("lines", "", "an order needs at least one line"));
        }
        if self.lines.len() > 1000 {
            return Err(ValidationError::new("lines", "", "an order has at most 1000 lines"));
        }
        for line in &self.lines {
            if !(1..=MAX_QUANTITY).contains(&line.quantity) {
                return Err(ValidationError::new(
                    "quantity",
                    &line.quantity.to_string(),
                    format!("must be between 1 and {MAX_QUANTITY}"),
                ));
            }
            check_amount("amount", line.amount)?;
        }
        if !crate::datetime::PLAUSIBLE_YEARS.contains(&self.ordered_at.year()) {
            return Err(ValidationError::new(
                "ordered_at",
                &self.ordered_at.to_string(),
                "has a year outside 1900–2100",
            ));
        }
        Ok(())
    }

    pub fn total_amount(&self) -> i64 {
        self.lines.iter().map(|line| line.amount).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub product_id: ProductId,
    pub product_name: String,
    pub product_kind: ProductKind,
    pub quantity: i64,
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub external_id: Option<ExternalId>,
    pub customer_id: CustomerId,
    pub ordered_at: OffsetDateTime,
    pub channel: Option<Channel>,
    pub ad_medium: Option<String>,
    pub is_subscription: bool,
    pub total_amount: i64,
    pub lines: Vec<OrderLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    pub external_id: Option<ExternalId>,
    pub customer_id: CustomerId,
    pub channel: Channel,
    pub direction: Direction,
    pub started_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
    pub agent_id: Option<UserId>,
    /// Call reason category (コールリーズン, E4), tenant-defined.
    pub reason: Option<String>,
    pub outcome: Option<Outcome>,
    /// The voice of the customer (VOC) as the operator recorded it, or the post/email text.
    pub text: String,
    /// Any contact of the thread this one continues, e.g. the SNS post a phone call answers (F3).
    pub thread_of: Option<ContactId>,
    /// What the text engine heard in `text`; set by whoever records the contact.
    pub tags: ContactTags,
}

/// What the text engine heard in a contact's text: stored with the contact, counted into the
/// customer's kimochi signals, shown in the karte.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactTags {
    /// `None` when the text was not analysed.
    pub polarity: Option<Polarity>,
    /// Kinds found, each once.
    pub kimochi: Vec<KimochiTag>,
    /// Crisis words matched (NG ワード).
    pub crisis_words: u32,
    /// The matches behind `crisis_words`, when the contact is recorded: the store writes them
    /// into the contact's alert in the same transaction. Reads leave this empty (the alert keeps
    /// them).
    pub crisis: Vec<crate::alert::CrisisMatch>,
}

impl ContactTags {
    /// Stored form of `kimochi`: codes framed by commas (`,advocacy,gap,`), so one kind is found
    /// with `LIKE '%,kind,%'`; empty when there are none.
    pub fn kimochi_codes(&self) -> String {
        if self.kimochi.is_empty() {
            return String::new();
        }
        let codes: Vec<&str> = self.kimochi.iter().map(|k| k.code()).collect();
        format!(",{},", codes.join(","))
    }

    /// Parses the stored form; unknown codes are reported by the caller as corruption.
    pub fn parse_kimochi_codes(text: &str) -> Option<Vec<KimochiTag>> {
        text.split(',').filter(|code| !code.is_empty()).map(KimochiTag::from_code).collect()
    }
}

impl NewContact {
    pub fn validate(&self) -> Result<(), ValidationError> {
        long_text("text", &self.text)?;
        if let Some(ended_at) = self.ended_at {
            if ended_at < self.started_at {
                return Err(ValidationError::new("ended_at", &ended_at.to_string(), "is before started_at"));
            }
            if ended_at - self.started_at > time::Duration::days(1) {
                return Err(ValidationError::new(
                    "ended_at",
                    &ended_at.to_string(),
                    "is more than a day after started_at",
                ));
            }
        }
        if !crate::datetime::PLAUSIBLE_YEARS.contains(&self.started_at.year()) {
            return Err(ValidationError::new(
                "started_at",
                &self.started_at.to_string(),
                "has a year outside 1900–2100",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: ContactId,
    pub external_id: Option<ExternalId>,
    pub customer_id: CustomerId,
    pub channel: Channel,
    pub direction: Direction,
    pub started_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
    pub agent_id: Option<UserId>,
    pub reason: Option<String>,
    pub outcome: Option<Outcome>,
    pub text: String,
    /// The first contact of the thread; equal to `id` for a contact that starts one.
    pub thread_id: ContactId,
    pub tags: ContactTags,
}

impl Contact {
    /// Handling time (処理時間) in seconds, when the contact has an end.
    pub fn handling_seconds(&self) -> Option<i64> {
        self.ended_at.map(|end| (end - self.started_at).whole_seconds())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKimochiNote {
    pub customer_id: CustomerId,
    pub kind: KimochiKind,
    pub text: String,
    pub captured_by: Option<UserId>,
    pub captured_at: OffsetDateTime,
    pub contact_id: Option<ContactId>,
    pub product_id: Option<ProductId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KimochiNote {
    pub id: KimochiNoteId,
    pub customer_id: CustomerId,
    pub kind: KimochiKind,
    pub text: String,
    pub captured_by: Option<UserId>,
    pub captured_at: OffsetDateTime,
    pub contact_id: Option<ContactId>,
    pub product_id: Option<ProductId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHandoverNote {
    pub customer_id: CustomerId,
    pub kind: HandoverKind,
    pub text: String,
    pub author_id: Option<UserId>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoverNote {
    pub id: HandoverNoteId,
    pub customer_id: CustomerId,
    pub kind: HandoverKind,
    pub text: String,
    pub author_id: Option<UserId>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFaq {
    pub title: String,
    pub body: String,
    pub category: Option<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Faq {
    pub id: FaqId,
    pub title: String,
    pub body: String,
    pub category: Option<String>,
    pub tags: Vec<String>,
    pub updated_at: OffsetDateTime,
}

/// Who did something: a logged-in person or an integration's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    User(UserId),
    Token(ApiTokenId),
    /// The command line, run by whoever has the database.
    Cli,
}

/// One line of the audit log (B5): every read of personal data and every write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: OffsetDateTime,
    pub actor: Actor,
    /// What was done, e.g. `customer.read`, `karte.read`, `customers.export`.
    pub action: String,
    pub customer_id: Option<CustomerId>,
    /// Free detail, e.g. the search text or the number of rows exported.
    pub detail: String,
}

/// Everything an operator needs about one customer, in one read (顧客カルテ, F14).
#[derive(Debug, Clone, PartialEq)]
pub struct Karte {
    pub customer: Customer,
    pub stats: CustomerStats,
    pub purchases: Vec<ProductPurchases>,
    pub recent_orders: Vec<Order>,
    pub recent_contacts: Vec<Contact>,
    pub kimochi: Vec<KimochiNote>,
    pub handover_notes: Vec<HandoverNote>,
    /// The latest scores (`kimochi analyze`); `None` before the first run that saw the customer.
    pub score: Option<crate::score::CustomerScore>,
}

/// Purchase history of one product by one customer (F15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPurchases {
    pub product_id: ProductId,
    pub product_name: String,
    pub product_kind: ProductKind,
    pub order_count: i64,
    pub quantity: i64,
    pub total_amount: i64,
    pub first_at: OffsetDateTime,
    pub last_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_rules() {
        let mut profile = CustomerProfile::named("山田 花子").unwrap();
        assert_eq!(profile.outbound_allowed(Channel::Phone), Err(ConsentRefusal::NoConsent(Channel::Phone)));
        profile.consent.phone = true;
        assert_eq!(profile.outbound_allowed(Channel::Phone), Ok(()));
        profile.do_not_call = true;
        assert_eq!(profile.outbound_allowed(Channel::Phone), Err(ConsentRefusal::DoNotCall));
        assert_eq!(profile.outbound_allowed(Channel::Chat), Ok(()));
    }

    #[test]
    fn amounts_and_ids() {
        assert_eq!(parse_amount("amount", "１２,８００円").unwrap(), 12_800);
        assert_eq!(parse_amount("amount", "¥3,980").unwrap(), 3_980);
        assert!(parse_amount("amount", "-5").is_err());
        assert!(parse_amount("amount", "999999999999").is_err());
        assert!(parse_amount("amount", "12.5").is_err());
        assert!(ExternalId::parse("  ").is_err());
        assert_eq!(ExternalId::parse(" Ｃ００１ ").unwrap().as_str(), "C001");
        assert!(TenantSlug::parse("acme-cosmetics").is_ok());
        assert!(TenantSlug::parse("Acme").is_err());
    }

    #[test]
    fn long_text_keeps_lines_and_drops_controls() {
        assert_eq!(long_text("text", " a\u{7}b\nc ").unwrap(), "ab\nc");
        assert!(long_text("text", &"あ".repeat(MAX_TEXT_CHARS + 1)).is_err());
    }
}
