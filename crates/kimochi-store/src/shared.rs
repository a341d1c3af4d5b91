//! The one implementation of [`Store`](crate::Store), written once and instantiated for each
//! engine by `store_impl!`. The SQL is the common subset of SQLite and PostgreSQL (`$n`
//! placeholders, `ON CONFLICT`, `RETURNING`, integer timestamps), so the same text runs on both;
//! the few real differences (connection pools, id reservation for bulk loads) are inherent
//! methods of each engine's store type. A macro rather than generics over `sqlx::Database`:
//! the generic bounds sqlx needs (`Encode`/`Decode`/`Type` for every column type, executor
//! lifetimes) would repeat on every function and hide the SQL, which is what a reader of this
//! file needs to see.

use std::collections::BTreeMap;

use kimochi_domain::datetime::{format_date, from_unix, parse_date, to_unix};
use kimochi_domain::normalize::search_key;
use kimochi_domain::phone::phone_digits;
use kimochi_domain::*;

use crate::{Result, StoreError};

pub(crate) const CUSTOMER_COLUMNS: &str = "c.id, c.external_id, c.name, c.kana, c.birth_date, c.gender, \
     c.prefecture, c.address, c.phones, c.emails, c.consent_phone, c.consent_email, c.consent_dm, \
     c.do_not_call, c.ad_medium, c.attributes, c.created_at, c.updated_at";

pub(crate) const STATS_COLUMNS: &str = "s.first_order_at, s.last_order_at, s.order_count, s.total_amount, \
     s.last_contact_at, s.last_outcome, s.consecutive_no_contact, s.contact_count";

pub(crate) const CONTACT_COLUMNS: &str = "k.id, k.external_id, k.customer_id, k.channel, k.direction, \
     k.started_at, k.ended_at, k.agent_id, k.reason, k.outcome, k.text, COALESCE(k.thread_id, k.id) AS thread_key, \
     k.polarity, k.kimochi, k.crisis";

pub(crate) const ORDER_COLUMNS: &str = "o.id, o.external_id, o.customer_id, o.ordered_at, o.channel, o.ad_medium, \
     o.is_subscription, o.total_amount";

/// Recomputes `customer_stats` for the customers of a tenant with ids in `$2..=$3`, from their
/// orders, contacts and kimochi notes. Email events recorded by the system (`sent`, `opened`,
/// `clicked`, `unsubscribed`, `bounced`: `Outcome::is_email_event`) count as contacts but are
/// not a "last outcome" and neither end nor extend a no-contact streak: an email sent between
/// two unanswered calls must not hide them from "no answer on the last two calls" (T2). One statement for a single customer (after each write)
/// and for a range (after a bulk load): each source table is grouped once over the range through
/// its (tenant_id, customer_id, time) index, then joined to the customers. A purchase day is a
/// calendar day in Japan time: (Unix seconds + 9 h) / 1 day, integer division on both engines.
/// Email tracking events (`Outcome::is_email_event`) are not calls: they are never the last
/// outcome and neither end nor extend a streak of no-contacts.
pub(crate) const RECOMPUTE_STATS: &str = "
INSERT INTO customer_stats (tenant_id, customer_id, first_order_at, last_order_at, order_count, total_amount,
    last_contact_at, last_outcome, consecutive_no_contact, contact_count,
    first_purchase_at, last_purchase_at, purchase_days, first_day_amount, sample_orders, trial_orders, main_orders, subscription_kind_orders, other_orders,
    subscription_orders, first_subscription_at, last_subscription_at, outbound_attempts, outbound_reached,
    expectation_notes, gap_notes, concern_notes, potential_notes, positive_contacts, negative_contacts,
    advocacy, churn_intent, complaints, crisis, consent_phone, consent_email, consent_dm, do_not_call)
SELECT c.tenant_id, c.id, o.first_at, o.last_at, COALESCE(o.orders, 0), COALESCE(o.total, 0),
  k.last_at,
  (SELECT l.outcome FROM contacts l WHERE l.tenant_id = c.tenant_id AND l.customer_id = c.id
     AND (l.outcome IS NULL OR l.outcome NOT IN ('sent', 'opened', 'clicked', 'unsubscribed', 'bounced'))
     ORDER BY l.started_at DESC, l.id DESC LIMIT 1),
  CASE WHEN k.contacts IS NULL THEN 0 ELSE
  (SELECT COUNT(*) FROM contacts l WHERE l.tenant_id = c.tenant_id AND l.customer_id = c.id
     AND l.outcome IN ('no_contact', 'busy')
     AND l.started_at > COALESCE((SELECT MAX(r.started_at) FROM contacts r
         WHERE r.tenant_id = c.tenant_id AND r.customer_id = c.id
           AND (r.outcome IS NULL OR r.outcome NOT IN ('no_contact', 'busy', 'sent', 'opened', 'clicked', 'unsubscribed', 'bounced'))),
         -9223372036854775807)) END,
  COALESCE(k.contacts, 0),
  o.first_purchase_at, o.last_purchase_at, COALESCE(o.days, 0), COALESCE(f.amount, 0),
  COALESCE(p.sample, 0), COALESCE(p.trial, 0), COALESCE(p.main, 0), COALESCE(p.subscription, 0), COALESCE(p.other, 0),
  COALESCE(o.subscription_orders, 0), o.first_subscription_at, o.last_subscription_at,
  COALESCE(k.outbound_attempts, 0), COALESCE(k.outbound_reached, 0),
  COALESCE(n.expectation, 0), COALESCE(n.gap, 0), COALESCE(n.concern, 0), COALESCE(n.potential, 0),
  COALESCE(k.positive, 0), COALESCE(k.negative, 0), COALESCE(k.advocacy, 0), COALESCE(k.churn_intent, 0),
  COALESCE(k.complaints, 0), COALESCE(k.crisis, 0), c.consent_phone, c.consent_email, c.consent_dm, c.do_not_call
FROM customers c
LEFT JOIN (SELECT customer_id, MIN(ordered_at) AS first_at, MAX(ordered_at) AS last_at, COUNT(*) AS orders,
             CAST(SUM(total_amount) AS BIGINT) AS total,
             MIN(CASE WHEN total_amount > 0 THEN ordered_at END) AS first_purchase_at,
             MAX(CASE WHEN total_amount > 0 THEN ordered_at END) AS last_purchase_at,
             COUNT(DISTINCT CASE WHEN total_amount > 0 THEN (ordered_at + 32400) / 86400 END) AS days,
             SUM(CASE WHEN is_subscription THEN 1 ELSE 0 END) AS subscription_orders,
             MIN(CASE WHEN is_subscription THEN ordered_at END) AS first_subscription_at,
             MAX(CASE WHEN is_subscription THEN ordered_at END) AS last_subscription_at
           FROM orders WHERE tenant_id = $1 AND customer_id >= $2 AND customer_id <= $3
           GROUP BY customer_id) o ON o.customer_id = c.id
LEFT JOIN (SELECT d.customer_id, CAST(SUM(d.total_amount) AS BIGINT) AS amount
           FROM orders d
           JOIN (SELECT customer_id, MIN(ordered_at) AS first_at FROM orders
                 WHERE tenant_id = $1 AND customer_id >= $2 AND customer_id <= $3 AND total_amount > 0
                 GROUP BY customer_id) m
             ON m.customer_id = d.customer_id AND (d.ordered_at + 32400) / 86400 = (m.first_at + 32400) / 86400
           WHERE d.tenant_id = $1 AND d.customer_id >= $2 AND d.customer_id <= $3 AND d.total_amount > 0
           GROUP BY d.customer_id) f ON f.customer_id = c.id
LEFT JOIN (SELECT o.customer_id,
             COUNT(DISTINCT CASE WHEN pr.kind = 'sample' THEN o.id END) AS sample,
             COUNT(DISTINCT CASE WHEN pr.kind = 'trial' THEN o.id END) AS trial,
             COUNT(DISTINCT CASE WHEN pr.kind = 'main' THEN o.id END) AS main,
             COUNT(DISTINCT CASE WHEN pr.kind = 'subscription' THEN o.id END) AS subscription,
             COUNT(DISTINCT CASE WHEN pr.kind = 'other' THEN o.id END) AS other
           FROM orders o
           JOIN order_lines ol ON ol.tenant_id = o.tenant_id AND ol.order_id = o.id
           JOIN products pr ON pr.tenant_id = ol.tenant_id AND pr.id = ol.product_id
           WHERE o.tenant_id = $1 AND o.customer_id >= $2 AND o.customer_id <= $3
           GROUP BY o.customer_id) p ON p.customer_id = c.id
LEFT JOIN (SELECT customer_id, MAX(started_at) AS last_at, COUNT(*) AS contacts,
             SUM(CASE WHEN direction = 'outbound' AND channel = 'phone' THEN 1 ELSE 0 END) AS outbound_attempts,
             SUM(CASE WHEN direction = 'outbound' AND channel = 'phone'
                       AND (outcome IS NULL OR outcome NOT IN ('no_contact', 'busy')) THEN 1 ELSE 0 END) AS outbound_reached,
             SUM(CASE WHEN polarity = 'positive' THEN 1 ELSE 0 END) AS positive,
             SUM(CASE WHEN polarity = 'negative' THEN 1 ELSE 0 END) AS negative,
             SUM(CASE WHEN kimochi LIKE '%,advocacy,%' THEN 1 ELSE 0 END) AS advocacy,
             SUM(CASE WHEN kimochi LIKE '%,churn_intent,%' THEN 1 ELSE 0 END) AS churn_intent,
             SUM(CASE WHEN outcome = 'escalated' OR reason LIKE '%クレーム%' OR reason LIKE '%苦情%'
                      THEN 1 ELSE 0 END) AS complaints,
             SUM(CASE WHEN crisis > 0 THEN 1 ELSE 0 END) AS crisis
           FROM contacts WHERE tenant_id = $1 AND customer_id >= $2 AND customer_id <= $3
           GROUP BY customer_id) k ON k.customer_id = c.id
LEFT JOIN (SELECT customer_id,
             SUM(CASE WHEN kind = 'expectation' THEN 1 ELSE 0 END) AS expectation,
             SUM(CASE WHEN kind = 'gap' THEN 1 ELSE 0 END) AS gap,
             SUM(CASE WHEN kind = 'concern' THEN 1 ELSE 0 END) AS concern,
             SUM(CASE WHEN kind = 'potential' THEN 1 ELSE 0 END) AS potential
           FROM kimochi_notes WHERE tenant_id = $1 AND customer_id >= $2 AND customer_id <= $3
           GROUP BY customer_id) n ON n.customer_id = c.id
WHERE c.tenant_id = $1 AND c.id >= $2 AND c.id <= $3
ON CONFLICT (tenant_id, customer_id) DO UPDATE SET
  first_order_at = excluded.first_order_at, last_order_at = excluded.last_order_at,
  order_count = excluded.order_count, total_amount = excluded.total_amount,
  last_contact_at = excluded.last_contact_at, last_outcome = excluded.last_outcome,
  consecutive_no_contact = excluded.consecutive_no_contact, contact_count = excluded.contact_count,
  first_purchase_at = excluded.first_purchase_at, last_purchase_at = excluded.last_purchase_at,
  purchase_days = excluded.purchase_days, first_day_amount = excluded.first_day_amount,
  sample_orders = excluded.sample_orders, trial_orders = excluded.trial_orders, main_orders = excluded.main_orders,
  subscription_kind_orders = excluded.subscription_kind_orders, other_orders = excluded.other_orders,
  subscription_orders = excluded.subscription_orders, first_subscription_at = excluded.first_subscription_at,
  last_subscription_at = excluded.last_subscription_at, outbound_attempts = excluded.outbound_attempts,
  outbound_reached = excluded.outbound_reached, expectation_notes = excluded.expectation_notes,
  gap_notes = excluded.gap_notes, concern_notes = excluded.concern_notes, potential_notes = excluded.potential_notes,
  positive_contacts = excluded.positive_contacts, negative_contacts = excluded.negative_contacts,
  advocacy = excluded.advocacy, churn_intent = excluded.churn_intent, complaints = excluded.complaints,
  crisis = excluded.crisis, consent_phone = excluded.consent_phone, consent_email = excluded.consent_email,
  consent_dm = excluded.consent_dm, do_not_call = excluded.do_not_call";

/// Clears `customer_product_stats` of the customers `$2..=$3` before [`RECOMPUTE_PRODUCT_STATS`].
pub(crate) const CLEAR_PRODUCT_STATS: &str =
    "DELETE FROM customer_product_stats WHERE tenant_id = $1 AND customer_id >= $2 AND customer_id <= $3";

/// Per customer and product: first and last order, distinct purchase days (JST) and quantity.
pub(crate) const RECOMPUTE_PRODUCT_STATS: &str = "
INSERT INTO customer_product_stats (tenant_id, customer_id, product_id, first_order_at, last_order_at,
                                    purchase_days, quantity)
SELECT o.tenant_id, o.customer_id, ol.product_id, MIN(o.ordered_at), MAX(o.ordered_at),
       COUNT(DISTINCT (o.ordered_at + 32400) / 86400), CAST(SUM(ol.quantity) AS BIGINT)
FROM orders o JOIN order_lines ol ON ol.tenant_id = o.tenant_id AND ol.order_id = o.id
WHERE o.tenant_id = $1 AND o.customer_id >= $2 AND o.customer_id <= $3
GROUP BY o.tenant_id, o.customer_id, ol.product_id";

/// Clears the call facts of `customer_stats` (migration 0017) of the customers `$2..=$3` before
/// [`RECOMPUTE_CALL_FACTS`] (only rows that have any: a customer never called is left alone).
pub(crate) const CLEAR_CALL_FACTS: &str = "UPDATE customer_stats SET last_call_at = NULL, last_call_outcome = NULL, \
     last_reached_at = NULL, listened_well = 0 \
     WHERE tenant_id = $1 AND customer_id >= $2 AND customer_id <= $3 AND last_call_at IS NOT NULL";

/// The call facts of `customer_stats` (migrations 0014 and 0017, for segments) of each customer
/// in `$2..=$3` with a phone call: the last call and its outcome, the last reached call (outcome
/// other than no contact, busy or hung up) and whether it listened well: at least
/// `LISTENED_WELL_SECONDS` (300) long, tagged gratitude or satisfaction, or positive. Latest is
/// by start time, then id, as in the segment rules' own subqueries (`segments.rs`), which a unit
/// test there holds to the same definition. Window functions rather than a subquery per
/// customer: a bulk load's range has no planner statistics yet.
pub(crate) const RECOMPUTE_CALL_FACTS: &str = "
UPDATE customer_stats SET last_call_at = f.last_call_at, last_call_outcome = f.last_call_outcome,
  last_reached_at = f.last_reached_at, listened_well = f.listened_well
FROM (SELECT tenant_id, customer_id, MAX(started_at) AS last_call_at,
        MAX(CASE WHEN call_rank = 1 THEN outcome END) AS last_call_outcome,
        MAX(CASE WHEN reached = 1 THEN started_at END) AS last_reached_at,
        COALESCE(MAX(CASE WHEN reached = 1 AND reached_rank = 1 THEN listened END), 0) AS listened_well
  FROM (SELECT tenant_id, customer_id, started_at, outcome, reached, listened,
          ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY started_at DESC, id DESC) AS call_rank,
          ROW_NUMBER() OVER (PARTITION BY customer_id, reached ORDER BY started_at DESC, id DESC) AS reached_rank
        FROM (SELECT tenant_id, customer_id, id, started_at, outcome,
                CASE WHEN outcome IS NULL OR outcome NOT IN ('no_contact', 'busy', 'hung_up') THEN 1 ELSE 0 END AS reached,
                CASE WHEN ended_at - started_at >= 300 OR kimochi LIKE '%,gratitude,%'
                       OR kimochi LIKE '%,satisfaction,%' OR polarity = 'positive' THEN 1 ELSE 0 END AS listened
              FROM contacts WHERE tenant_id = $1 AND customer_id >= $2 AND customer_id <= $3 AND channel = 'phone') calls
       ) ranked
  GROUP BY tenant_id, customer_id) f
WHERE customer_stats.tenant_id = f.tenant_id AND customer_stats.customer_id = f.customer_id";

/// Clears `customer_tag_facts` of the customers `$2..=$3` before [`RECOMPUTE_TAG_FACTS`].
pub(crate) const CLEAR_TAG_FACTS: &str =
    "DELETE FROM customer_tag_facts WHERE tenant_id = $1 AND customer_id >= $2 AND customer_id <= $3";

/// Per customer and kimochi tag seen on their contacts (migration 0014, for segments): when it
/// was last seen. The list is [`KimochiTag::ALL`] (a test holds them equal).
pub(crate) const RECOMPUTE_TAG_FACTS: &str = "
INSERT INTO customer_tag_facts (tenant_id, customer_id, tag, last_at)
SELECT k.tenant_id, k.customer_id, t.column1, MAX(k.started_at)
FROM contacts k
JOIN (VALUES ('expectation'), ('satisfaction'), ('dissatisfaction'), ('anxiety'), ('anger'), ('gratitude'),
             ('churn_intent'), ('advocacy'), ('gap')) AS t ON k.kimochi LIKE '%,' || t.column1 || ',%'
WHERE k.tenant_id = $1 AND k.customer_id >= $2 AND k.customer_id <= $3 AND k.kimochi <> ''
GROUP BY k.tenant_id, k.customer_id, t.column1";

/// A contact's stored tags back as [`ContactTags`].
pub(crate) fn contact_tags(polarity: Option<String>, kimochi: String, crisis: i64) -> Result<ContactTags> {
    Ok(ContactTags {
        polarity: optional_vocab("polarity", polarity, Polarity::from_code)?,
        kimochi: match ContactTags::parse_kimochi_codes(&kimochi) {
            Some(tags) => tags,
            None => return corrupt("kimochi", &kimochi),
        },
        crisis_words: u32::try_from(crisis).or_else(|_| corrupt("crisis", &crisis.to_string()))?,
        crisis: Vec::new(),
    })
}

pub(crate) fn corrupt<T>(what: &str, value: &str) -> Result<T> {
    Err(StoreError::Corrupt(format!("{what} {value:?}")))
}

pub(crate) fn vocab<T>(what: &str, code: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    match parse(code) {
        Some(value) => Ok(value),
        None => corrupt(what, code),
    }
}

pub(crate) fn optional_vocab<T>(what: &str, code: Option<String>, parse: fn(&str) -> Option<T>) -> Result<Option<T>> {
    code.map(|code| vocab(what, &code, parse)).transpose()
}

pub(crate) fn join_phones(phones: &[PhoneNumber]) -> String {
    phones.iter().map(|p| p.digits()).collect::<Vec<_>>().join(";")
}

pub(crate) fn join_emails(emails: &[Email]) -> String {
    emails.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(";")
}

pub(crate) fn split_phones(text: &str) -> Result<Vec<PhoneNumber>> {
    text.split(';').filter(|s| !s.is_empty()).map(|s| PhoneNumber::parse(s).or_else(|_| corrupt("phone", s))).collect()
}

pub(crate) fn split_emails(text: &str) -> Result<Vec<Email>> {
    text.split(';').filter(|s| !s.is_empty()).map(|s| Email::parse(s).or_else(|_| corrupt("email", s))).collect()
}

/// Distinct index keys of a profile's phones, in order.
pub(crate) fn phone_keys(profile: &CustomerProfile) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for phone in &profile.phones {
        if !keys.iter().any(|k| k == phone.digits()) {
            keys.push(phone.digits().to_owned());
        }
    }
    keys
}

/// Distinct index keys of a profile's emails (lower-cased whole, so search ignores case).
pub(crate) fn email_keys(profile: &CustomerProfile) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for email in &profile.emails {
        let key = email.as_str().to_lowercase();
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

pub(crate) fn attributes_json(attributes: &BTreeMap<String, String>) -> String {
    serde_json::to_string(attributes).unwrap_or_else(|_| "{}".to_owned())
}

pub(crate) fn parse_attributes(text: &str) -> Result<BTreeMap<String, String>> {
    serde_json::from_str(text).or_else(|_| corrupt("attributes", text))
}

pub(crate) fn parse_birth_date(text: Option<String>) -> Result<Option<time::Date>> {
    text.map(|t| parse_date("birth_date", &t).or_else(|_| corrupt("birth_date", &t))).transpose()
}

pub(crate) fn birth_date_text(date: Option<time::Date>) -> Option<String> {
    date.map(format_date)
}

pub(crate) fn unix(at: time::OffsetDateTime) -> i64 {
    to_unix(at)
}

pub(crate) fn at(seconds: i64) -> time::OffsetDateTime {
    from_unix(seconds)
}

pub(crate) fn optional_at(seconds: Option<i64>) -> Option<time::OffsetDateTime> {
    seconds.map(from_unix)
}

/// What kind of search a free-text query is: a phone number, an email, or a name/kana/id.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SearchKind {
    /// Prefix of the domestic digits.
    Phone(String),
    /// Prefix of the lower-cased address.
    Email(String),
    /// Prefix of the name or kana search key, or an exact external id.
    Name { key: String, external_id: String },
}

pub(crate) fn classify_query(text: &str) -> Option<SearchKind> {
    let normalized = kimochi_domain::normalize::normalize_text(text);
    if normalized.is_empty() {
        return None;
    }
    if let Some(digits) = phone_digits(&normalized)
        && digits.len() >= 3
    {
        let digits = match digits.strip_prefix("81") {
            Some(rest) if normalized.starts_with('+') => format!("0{rest}"),
            _ => digits,
        };
        return Some(SearchKind::Phone(digits));
    }
    if normalized.contains('@') {
        return Some(SearchKind::Email(normalized.to_lowercase()));
    }
    Some(SearchKind::Name { key: search_key(&normalized), external_id: normalized })
}

/// The exclusive upper bound of a prefix range: every string that starts with `prefix` sorts
/// below it in code-point order (SQLite's BINARY, PostgreSQL's "C" collation).
pub(crate) fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

macro_rules! store_impl {
    ($store:ty, $db:ty) => {
        use std::collections::{BTreeMap as StoreMap, HashMap};

        use async_trait::async_trait;
        use kimochi_domain::import::*;
        use kimochi_domain::*;
        use sqlx::{QueryBuilder, Row as _};
        use time::OffsetDateTime;

        use crate::shared::*;
        use crate::*;

        type DbRow = <$db as sqlx::Database>::Row;
        type Tx<'a> = sqlx::Transaction<'a, $db>;

        fn customer_from_row(row: &DbRow) -> Result<Customer> {
            let gender: String = row.try_get("gender")?;
            let phones: String = row.try_get("phones")?;
            let emails: String = row.try_get("emails")?;
            let attributes: String = row.try_get("attributes")?;
            let external_id: Option<String> = row.try_get("external_id")?;
            Ok(Customer {
                id: CustomerId(row.try_get("id")?),
                profile: CustomerProfile {
                    external_id: external_id.map(|e| ExternalId::parse(&e).or_else(|_| corrupt("external_id", &e))).transpose()?,
                    name: row.try_get("name")?,
                    kana: row.try_get("kana")?,
                    birth_date: parse_birth_date(row.try_get("birth_date")?)?,
                    gender: vocab("gender", &gender, Gender::from_code)?,
                    prefecture: row.try_get("prefecture")?,
                    address: row.try_get("address")?,
                    phones: split_phones(&phones)?,
                    emails: split_emails(&emails)?,
                    consent: Consent {
                        phone: row.try_get("consent_phone")?,
                        email: row.try_get("consent_email")?,
                        dm: row.try_get("consent_dm")?,
                    },
                    do_not_call: row.try_get("do_not_call")?,
                    ad_medium: row.try_get("ad_medium")?,
                    attributes: parse_attributes(&attributes)?,
                },
                created_at: at(row.try_get("created_at")?),
                updated_at: at(row.try_get("updated_at")?),
            })
        }

        fn stats_from_row(row: &DbRow) -> Result<CustomerStats> {
            Ok(CustomerStats {
                first_order_at: optional_at(row.try_get("first_order_at")?),
                last_order_at: optional_at(row.try_get("last_order_at")?),
                order_count: row.try_get::<Option<i64>, _>("order_count")?.unwrap_or(0),
                total_amount: row.try_get::<Option<i64>, _>("total_amount")?.unwrap_or(0),
                last_contact_at: optional_at(row.try_get("last_contact_at")?),
                last_outcome: optional_vocab("outcome", row.try_get("last_outcome")?, Outcome::from_code)?,
                consecutive_no_contact: row.try_get::<Option<i64>, _>("consecutive_no_contact")?.unwrap_or(0),
                contact_count: row.try_get::<Option<i64>, _>("contact_count")?.unwrap_or(0),
            })
        }

        fn contact_from_row(row: &DbRow) -> Result<Contact> {
            let channel: String = row.try_get("channel")?;
            let direction: String = row.try_get("direction")?;
            let external_id: Option<String> = row.try_get("external_id")?;
            Ok(Contact {
                id: ContactId(row.try_get("id")?),
                external_id: external_id.map(|e| ExternalId::parse(&e).or_else(|_| corrupt("external_id", &e))).transpose()?,
                customer_id: CustomerId(row.try_get("customer_id")?),
                channel: vocab("channel", &channel, Channel::from_code)?,
                direction: vocab("direction", &direction, Direction::from_code)?,
                started_at: at(row.try_get("started_at")?),
                ended_at: optional_at(row.try_get("ended_at")?),
                agent_id: row.try_get::<Option<i64>, _>("agent_id")?.map(UserId),
                reason: row.try_get("reason")?,
                outcome: optional_vocab("outcome", row.try_get("outcome")?, Outcome::from_code)?,
                text: row.try_get("text")?,
                thread_id: ContactId(row.try_get("thread_key")?),
                tags: contact_tags(row.try_get("polarity")?, row.try_get("kimochi")?, row.try_get("crisis")?)?,
            })
        }

        fn order_from_row(row: &DbRow) -> Result<Order> {
            let channel: Option<String> = row.try_get("channel")?;
            let external_id: Option<String> = row.try_get("external_id")?;
            Ok(Order {
                id: OrderId(row.try_get("id")?),
                external_id: external_id.map(|e| ExternalId::parse(&e).or_else(|_| corrupt("external_id", &e))).transpose()?,
                customer_id: CustomerId(row.try_get("customer_id")?),
                ordered_at: at(row.try_get("ordered_at")?),
                channel: optional_vocab("channel", channel, Channel::from_code)?,
                ad_medium: row.try_get("ad_medium")?,
                is_subscription: row.try_get("is_subscription")?,
                total_amount: row.try_get("total_amount")?,
                lines: Vec::new(),
            })
        }

        fn product_from_row(row: &DbRow) -> Result<Product> {
            let kind: String = row.try_get("kind")?;
            let external_id: Option<String> = row.try_get("external_id")?;
            Ok(Product {
                id: ProductId(row.try_get("id")?),
                external_id: external_id.map(|e| ExternalId::parse(&e).or_else(|_| corrupt("external_id", &e))).transpose()?,
                name: row.try_get("name")?,
                kind: vocab("kind", &kind, ProductKind::from_code)?,
                category: row.try_get("category")?,
                price: row.try_get("price")?,
            })
        }

        fn user_from_row(row: &DbRow) -> Result<User> {
            let role: String = row.try_get("role")?;
            Ok(User {
                id: UserId(row.try_get("id")?),
                tenant_id: TenantId(row.try_get("tenant_id")?),
                login: row.try_get("login")?,
                display_name: row.try_get("display_name")?,
                role: vocab("role", &role, Role::from_code)?,
                team_id: row.try_get::<Option<i64>, _>("team_id")?.map(TeamId),
            })
        }

        fn tenant_from_row(row: &DbRow) -> Result<Tenant> {
            let slug: String = row.try_get("slug")?;
            Ok(Tenant {
                id: TenantId(row.try_get("id")?),
                slug: TenantSlug::parse(&slug).or_else(|_| corrupt("slug", &slug))?,
                name: row.try_get("name")?,
                created_at: at(row.try_get("created_at")?),
            })
        }

        fn kimochi_from_row(row: &DbRow) -> Result<KimochiNote> {
            let kind: String = row.try_get("kind")?;
            Ok(KimochiNote {
                id: KimochiNoteId(row.try_get("id")?),
                customer_id: CustomerId(row.try_get("customer_id")?),
                kind: vocab("kind", &kind, KimochiKind::from_code)?,
                text: row.try_get("text")?,
                captured_by: row.try_get::<Option<i64>, _>("captured_by")?.map(UserId),
                captured_at: at(row.try_get("captured_at")?),
                contact_id: row.try_get::<Option<i64>, _>("contact_id")?.map(ContactId),
                product_id: row.try_get::<Option<i64>, _>("product_id")?.map(ProductId),
            })
        }

        fn handover_from_row(row: &DbRow) -> Result<HandoverNote> {
            let kind: String = row.try_get("kind")?;
            Ok(HandoverNote {
                id: HandoverNoteId(row.try_get("id")?),
                customer_id: CustomerId(row.try_get("customer_id")?),
                kind: vocab("kind", &kind, HandoverKind::from_code)?,
                text: row.try_get("text")?,
                author_id: row.try_get::<Option<i64>, _>("author_id")?.map(UserId),
                created_at: at(row.try_get("created_at")?),
            })
        }

        /// A `customer_scores` row read with [`crate::scores::SCORE_COLUMNS`] by name.
        fn score_from_row(row: &DbRow) -> Result<CustomerScore> {
            crate::scores::ScoreDoc {
                customer_id: row.try_get("customer_id")?,
                as_of: row.try_get("as_of")?,
                stage: row.try_get("stage")?,
                rfm_cell: row.try_get("rfm_cell")?,
                recency_days: row.try_get("recency_days")?,
                p_alive: row.try_get("p_alive")?,
                expected_purchases: row.try_get("expected_purchases")?,
                expected_spend: row.try_get("expected_spend")?,
                clv: row.try_get("clv")?,
                churn_probability: row.try_get("churn_probability")?,
                churn_level: row.try_get("churn_level")?,
                churn_reasons: row.try_get("churn_reasons")?,
                loyalty: row.try_get("loyalty")?,
                near_loyal: row.try_get("near_loyal")?,
                positive_dormant: row.try_get::<i64, _>("positive_dormant")? != 0,
                cluster: row.try_get("cluster")?,
                cluster_label: row.try_get("cluster_label")?,
                repeat_alerts: row.try_get("repeat_alerts")?,
                scored_at: row.try_get("scored_at")?,
            }
            .into_score()
        }

        fn faq_from_row(row: &DbRow) -> Result<Faq> {
            let tags: String = row.try_get("tags")?;
            Ok(Faq {
                id: FaqId(row.try_get("id")?),
                title: row.try_get("title")?,
                body: row.try_get("body")?,
                category: row.try_get("category")?,
                tags: serde_json::from_str(&tags).or_else(|_| corrupt("tags", &tags))?,
                updated_at: at(row.try_get("updated_at")?),
            })
        }

        async fn recompute_stats(tx: &mut Tx<'_>, tenant: TenantId, first: i64, last: i64) -> Result<()> {
            if <$store>::ENGINE == "postgres" {
                // RECOMPUTE_STATS joins the customers to per-source aggregates, which have no
                // index. Right after a bulk insert PostgreSQL has no statistics and plans nested
                // loops over them: quadratic in the range (minutes for 10,000 customers, measured).
                // Hash joins are linear, and just as quick for one customer.
                sqlx::query("SET LOCAL enable_nestloop = off").execute(&mut **tx).await?;
            }
            for sql in [
                RECOMPUTE_STATS,
                CLEAR_PRODUCT_STATS,
                RECOMPUTE_PRODUCT_STATS,
                CLEAR_CALL_FACTS,
                RECOMPUTE_CALL_FACTS,
                CLEAR_TAG_FACTS,
                RECOMPUTE_TAG_FACTS,
            ] {
                sqlx::query(sql).bind(tenant.0).bind(first).bind(last).execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// The newest migration applied to the database; `None` for a new database.
        async fn applied_migration(pool: &sqlx::Pool<$db>) -> Option<i64> {
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(pool).await.ok().flatten()
        }

        /// Whether migration `version` is among those applied (false for a new database). Asked
        /// before migrating: migrations are numbered in the order they were written, not always
        /// merged in that order, so "the newest applied" does not say whether one was.
        async fn migration_applied(pool: &sqlx::Pool<$db>, version: i64) -> bool {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = $1")
                .bind(version)
                .fetch_one(pool)
                .await
                .is_ok_and(|count| count > 0)
        }

        /// Migration 2 added aggregate columns that start at zero: a database that already held
        /// customers gets them computed once, tenant by tenant, in ranges of customer ids.
        async fn backfill_stats_after_migration(pool: &sqlx::Pool<$db>, applied_before: Option<i64>) -> Result<()> {
            if applied_before != Some(1) {
                return Ok(());
            }
            for (tenant, start, end) in customer_ranges(pool, 5_000).await? {
                let mut tx = pool.begin().await?;
                recompute_stats(&mut tx, TenantId(tenant), start, end).await?;
                tx.commit().await?;
            }
            Ok(())
        }

        /// Every tenant's customer ids cut into ranges of at most `size` ids, `(tenant, first,
        /// last)`: what a backfill recomputes one transaction at a time.
        async fn customer_ranges(pool: &sqlx::Pool<$db>, size: i64) -> Result<Vec<(i64, i64, i64)>> {
            let mut ranges = Vec::new();
            let tenants: Vec<i64> = sqlx::query_scalar("SELECT id FROM tenants ORDER BY id").fetch_all(pool).await?;
            for tenant in tenants {
                let (first, last): (Option<i64>, Option<i64>) =
                    sqlx::query_as("SELECT MIN(id), MAX(id) FROM customers WHERE tenant_id = $1").bind(tenant).fetch_one(pool).await?;
                let (Some(mut start), Some(last)) = (first, last) else { continue };
                while start <= last {
                    let end = start.saturating_add(size - 1).min(last);
                    ranges.push((tenant, start, end));
                    start = end.saturating_add(1);
                }
            }
            Ok(ranges)
        }

        /// Migration 14 added the segment facts (the call facts, which migration 17 moved into
        /// `customer_stats`, and `customer_tag_facts`), which start empty: a database that
        /// already held contacts gets them computed once, in ranges of customer ids. After
        /// either migration the planner gets statistics for the tables and their new indexes,
        /// and on PostgreSQL the rewritten tables are vacuumed, so that counts read their
        /// indexes only. A database at migration 1 got the facts from
        /// [`backfill_stats_after_migration`].
        async fn backfill_segment_facts_after_migration(
            pool: &sqlx::Pool<$db>,
            applied_before: Option<i64>,
            had_segment_facts: bool,
            had_segment_row: bool,
        ) -> Result<()> {
            if (had_segment_facts && had_segment_row) || !matches!(applied_before, Some(2..)) {
                return Ok(());
            }
            if !had_segment_facts {
                for (tenant, start, end) in customer_ranges(pool, 20_000).await? {
                    let mut tx = pool.begin().await?;
                    for sql in [CLEAR_CALL_FACTS, RECOMPUTE_CALL_FACTS, CLEAR_TAG_FACTS, RECOMPUTE_TAG_FACTS] {
                        sqlx::query(sql).bind(tenant).bind(start).bind(end).execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                }
            }
            let mut connection = pool.acquire().await?;
            if <$store>::ENGINE == "sqlite" {
                // Samples each index instead of reading it whole, as after a bulk load.
                sqlx::query("PRAGMA analysis_limit = 1000").execute(&mut *connection).await?;
            }
            for table in ["customer_tag_facts", "customer_stats", "customer_scores", "contacts"] {
                let rewritten = table == "customer_stats" || (table == "customer_tag_facts" && !had_segment_facts);
                let sql = if <$store>::ENGINE == "postgres" && rewritten {
                    format!("VACUUM (ANALYZE) {table}")
                } else {
                    format!("ANALYZE {table}")
                };
                sqlx::query(&sql).execute(&mut *connection).await?;
            }
            Ok(())
        }

        async fn customer_exists(tx: &mut Tx<'_>, tenant: TenantId, id: CustomerId) -> Result<()> {
            let found = sqlx::query("SELECT 1 FROM customers WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.0)
                .bind(id.0)
                .fetch_optional(&mut **tx)
                .await?;
            found.map(|_| ()).ok_or(StoreError::NotFound("customer"))
        }

        async fn reference_exists(tx: &mut Tx<'_>, table: &'static str, field: &'static str, tenant: TenantId, id: i64) -> Result<()> {
            // `table` is one of our own constants, never input.
            let sql = format!("SELECT 1 FROM {table} WHERE tenant_id = $1 AND id = $2");
            let found = sqlx::query(&sql).bind(tenant.0).bind(id).fetch_optional(&mut **tx).await?;
            found.map(|_| ()).ok_or(StoreError::UnknownReference { field })
        }

        async fn write_customer_keys(tx: &mut Tx<'_>, tenant: TenantId, id: i64, profile: &CustomerProfile) -> Result<()> {
            sqlx::query("DELETE FROM customer_phones WHERE tenant_id = $1 AND customer_id = $2")
                .bind(tenant.0).bind(id).execute(&mut **tx).await?;
            sqlx::query("DELETE FROM customer_emails WHERE tenant_id = $1 AND customer_id = $2")
                .bind(tenant.0).bind(id).execute(&mut **tx).await?;
            for phone in phone_keys(profile) {
                sqlx::query("INSERT INTO customer_phones (tenant_id, phone, customer_id) VALUES ($1, $2, $3)")
                    .bind(tenant.0).bind(phone).bind(id).execute(&mut **tx).await?;
            }
            for email in email_keys(profile) {
                sqlx::query("INSERT INTO customer_emails (tenant_id, email, customer_id) VALUES ($1, $2, $3)")
                    .bind(tenant.0).bind(email).bind(id).execute(&mut **tx).await?;
            }
            Ok(())
        }

        type BoundQuery<'q> = sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>;

        /// Binds a profile's seventeen columns, in the order both the insert and the update list
        /// them (external_id … attributes).
        fn bind_profile<'q>(query: BoundQuery<'q>, profile: &'q CustomerProfile) -> BoundQuery<'q> {
            query
                .bind(profile.external_id.as_ref().map(|e| e.as_str().to_owned()))
                .bind(&profile.name)
                .bind(&profile.kana)
                .bind(kimochi_domain::normalize::search_key(&profile.name))
                .bind(profile.kana.as_deref().map(kimochi_domain::normalize::search_key))
                .bind(birth_date_text(profile.birth_date))
                .bind(profile.gender.code())
                .bind(&profile.prefecture)
                .bind(&profile.address)
                .bind(join_phones(&profile.phones))
                .bind(join_emails(&profile.emails))
                .bind(profile.consent.phone)
                .bind(profile.consent.email)
                .bind(profile.consent.dm)
                .bind(profile.do_not_call)
                .bind(&profile.ad_medium)
                .bind(attributes_json(&profile.attributes))
        }

        async fn insert_customer(tx: &mut Tx<'_>, tenant: TenantId, profile: &CustomerProfile, now: OffsetDateTime) -> Result<i64> {
            profile.validate().map_err(StoreError::Invalid)?;
            let query = sqlx::query(
                "INSERT INTO customers (tenant_id, external_id, name, kana, name_key, kana_key, birth_date, gender,
                    prefecture, address, phones, emails, consent_phone, consent_email, consent_dm, do_not_call,
                    ad_medium, attributes, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)
                 RETURNING id",
            );
            let row = bind_profile(query.bind(tenant.0), profile)
                .bind(unix(now))
                .fetch_one(&mut **tx)
                .await
                .map_err(|e| StoreError::from_write(e, "customer external_id"))?;
            let id: i64 = row.try_get("id")?;
            write_customer_keys(tx, tenant, id, profile).await?;
            recompute_stats(tx, tenant, id, id).await?;
            Ok(id)
        }

        async fn update_customer(tx: &mut Tx<'_>, tenant: TenantId, id: i64, profile: &CustomerProfile, now: OffsetDateTime) -> Result<()> {
            profile.validate().map_err(StoreError::Invalid)?;
            let query = sqlx::query(
                "UPDATE customers SET external_id = $3, name = $4, kana = $5, name_key = $6, kana_key = $7,
                    birth_date = $8, gender = $9, prefecture = $10, address = $11, phones = $12, emails = $13,
                    consent_phone = $14, consent_email = $15, consent_dm = $16, do_not_call = $17,
                    ad_medium = $18, attributes = $19, updated_at = $20
                 WHERE tenant_id = $1 AND id = $2",
            );
            let done = bind_profile(query.bind(tenant.0).bind(id), profile)
                .bind(unix(now))
                .execute(&mut **tx)
                .await
                .map_err(|e| StoreError::from_write(e, "customer external_id"))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound("customer"));
            }
            // The segment row's copy of the flags (migration 0017).
            sqlx::query(
                "UPDATE customer_stats SET consent_phone = $3, consent_email = $4, consent_dm = $5, do_not_call = $6
                 WHERE tenant_id = $1 AND customer_id = $2",
            )
            .bind(tenant.0)
            .bind(id)
            .bind(profile.consent.phone)
            .bind(profile.consent.email)
            .bind(profile.consent.dm)
            .bind(profile.do_not_call)
            .execute(&mut **tx)
            .await?;
            write_customer_keys(tx, tenant, id, profile).await
        }

        async fn fetch_customer(conn: &mut <$db as sqlx::Database>::Connection, tenant: TenantId, id: CustomerId) -> Result<(Customer, CustomerStats)> {
            let sql = format!(
                "SELECT {CUSTOMER_COLUMNS}, {STATS_COLUMNS} FROM customers c
                 LEFT JOIN customer_stats s ON s.tenant_id = c.tenant_id AND s.customer_id = c.id
                 WHERE c.tenant_id = $1 AND c.id = $2"
            );
            let row = sqlx::query(&sql).bind(tenant.0).bind(id.0).fetch_optional(&mut *conn).await?;
            let row = row.ok_or(StoreError::NotFound("customer"))?;
            Ok((customer_from_row(&row)?, stats_from_row(&row)?))
        }

        /// Orders with their lines, newest first. `filter` is a WHERE fragment on `o` using `$1`
        /// (tenant) and `$2`; `limit` is `$3`.
        async fn fetch_orders(conn: &mut <$db as sqlx::Database>::Connection, tenant: TenantId, filter: &str, value: i64, limit: i64, order_by: &str) -> Result<Vec<Order>> {
            let sql = format!(
                "SELECT {ORDER_COLUMNS}, l.line_no, l.product_id, l.quantity, l.amount AS line_amount,
                        p.name AS product_name, p.kind AS product_kind
                 FROM (SELECT * FROM orders o WHERE o.tenant_id = $1 AND {filter} ORDER BY {order_by} LIMIT $3) o
                 JOIN order_lines l ON l.tenant_id = o.tenant_id AND l.order_id = o.id
                 JOIN products p ON p.tenant_id = l.tenant_id AND p.id = l.product_id
                 ORDER BY {order_by}, l.line_no"
            );
            let rows = sqlx::query(&sql).bind(tenant.0).bind(value).bind(limit).fetch_all(&mut *conn).await?;
            let mut orders: Vec<Order> = Vec::new();
            for row in &rows {
                let id: i64 = row.try_get("id")?;
                if orders.last().map(|o| o.id.0) != Some(id) {
                    orders.push(order_from_row(row)?);
                }
                let kind: String = row.try_get("product_kind")?;
                if let Some(order) = orders.last_mut() {
                    order.lines.push(OrderLine {
                        product_id: ProductId(row.try_get("product_id")?),
                        product_name: row.try_get("product_name")?,
                        product_kind: vocab("kind", &kind, ProductKind::from_code)?,
                        quantity: row.try_get("quantity")?,
                        amount: row.try_get("line_amount")?,
                    });
                }
            }
            Ok(orders)
        }

        async fn insert_order_lines(tx: &mut Tx<'_>, tenant: TenantId, order_id: i64, lines: &[NewOrderLine]) -> Result<()> {
            for (index, line) in lines.iter().enumerate() {
                reference_exists(tx, "products", "product_id", tenant, line.product_id.0).await?;
                sqlx::query(
                    "INSERT INTO order_lines (tenant_id, order_id, line_no, product_id, quantity, amount)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(tenant.0)
                .bind(order_id)
                .bind(index as i64 + 1)
                .bind(line.product_id.0)
                .bind(line.quantity)
                .bind(line.amount)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        /// The thread a new contact joins: the thread of `thread_of`, which must be a contact of
        /// the same customer.
        async fn resolve_thread(tx: &mut Tx<'_>, tenant: TenantId, customer: CustomerId, thread_of: Option<ContactId>) -> Result<Option<i64>> {
            let Some(thread_of) = thread_of else { return Ok(None) };
            let row = sqlx::query("SELECT COALESCE(thread_id, id) AS thread_key, customer_id FROM contacts WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.0)
                .bind(thread_of.0)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::UnknownReference { field: "thread_of" })?;
            let thread_customer: i64 = row.try_get("customer_id")?;
            if thread_customer != customer.0 {
                return Err(StoreError::UnknownReference { field: "thread_of" });
            }
            Ok(Some(row.try_get("thread_key")?))
        }

        async fn insert_contact(tx: &mut Tx<'_>, tenant: TenantId, contact: &NewContact, thread: Option<i64>) -> Result<i64> {
            let row = sqlx::query(
                "INSERT INTO contacts (tenant_id, external_id, customer_id, channel, direction, started_at, ended_at,
                    agent_id, reason, outcome, text, thread_id, polarity, kimochi, crisis)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
            )
            .bind(tenant.0)
            .bind(contact.external_id.as_ref().map(|e| e.as_str().to_owned()))
            .bind(contact.customer_id.0)
            .bind(contact.channel.code())
            .bind(contact.direction.code())
            .bind(unix(contact.started_at))
            .bind(contact.ended_at.map(unix))
            .bind(contact.agent_id.map(|a| a.0))
            .bind(&contact.reason)
            .bind(contact.outcome.map(|o| o.code()))
            .bind(&contact.text)
            .bind(thread)
            .bind(contact.tags.polarity.map(|p| p.code()))
            .bind(contact.tags.kimochi_codes())
            .bind(i64::from(contact.tags.crisis_words))
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| StoreError::from_write(e, "contact external_id"))?;
            let id: i64 = row.try_get("id")?;
            insert_contact_alert(tx, tenant, id, contact).await?;
            Ok(id)
        }

        async fn fetch_contact(conn: &mut <$db as sqlx::Database>::Connection, tenant: TenantId, id: i64) -> Result<Contact> {
            let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts k WHERE k.tenant_id = $1 AND k.id = $2");
            let row = sqlx::query(&sql).bind(tenant.0).bind(id).fetch_optional(&mut *conn).await?;
            contact_from_row(&row.ok_or(StoreError::NotFound("contact"))?)
        }

        /// Ends an import transaction as the options and the problems found say.
        async fn finish_import(tx: Tx<'_>, options: ImportOptions, report: ImportReport) -> Result<ImportReport> {
            if options.on_invalid == OnInvalid::Reject && !report.problems.is_empty() {
                tx.rollback().await?;
                return Err(StoreError::ImportRejected(report.problems));
            }
            match options.mode {
                ImportMode::DryRun => tx.rollback().await?,
                ImportMode::Commit => tx.commit().await?,
            }
            Ok(report)
        }

        fn problem(line: u64, column: &str, value: &str, reason: &str) -> RowProblem {
            RowProblem { line, column: column.to_owned(), value: value.chars().take(80).collect(), reason: reason.to_owned() }
        }

        async fn customer_id_by_external(tx: &mut Tx<'_>, tenant: TenantId, external_id: &ExternalId, cache: &mut HashMap<String, Option<i64>>) -> Result<Option<i64>> {
            if let Some(found) = cache.get(external_id.as_str()) {
                return Ok(*found);
            }
            let row = sqlx::query("SELECT id FROM customers WHERE tenant_id = $1 AND external_id = $2")
                .bind(tenant.0)
                .bind(external_id.as_str())
                .fetch_optional(&mut **tx)
                .await?;
            let found = row.map(|r| r.try_get::<i64, _>("id")).transpose()?;
            cache.insert(external_id.as_str().to_owned(), found);
            Ok(found)
        }

        crate::alerts::alert_sql!($db);
        crate::admin::admin_sql!($db);
        crate::email::email_sql!($db);
        crate::behavior::behavior_sql!($db);
        crate::campaigns::campaign_sql!($db);
        crate::segments::segments_sql!($db);
        crate::hearing::hearing_sql!($db);

        /// Rows per multi-row INSERT in bulk loads: well under both engines' bind-parameter limits
        /// (SQLite 32,766, PostgreSQL 65,535) for the widest table (20 columns).
        const BULK_ROWS: usize = 1000;

        #[async_trait]
        impl Store for $store {
            fn engine(&self) -> &'static str {
                Self::ENGINE
            }

            // Administration: SQL in `admin.rs`.
            async fn user_accounts(&self, tenant: TenantId) -> Result<Vec<UserAccount>> {
                sql_user_accounts(self.reader(), tenant).await
            }
            async fn user_update(&self, tenant: TenantId, id: UserId, change: &UserChange, now: OffsetDateTime) -> Result<UserAccount> {
                sql_user_update(self.writer(), tenant, id, change, now).await
            }
            async fn stage_thresholds(&self, tenant: TenantId) -> Result<StageThresholds> {
                sql_stage_thresholds(self.reader(), tenant).await
            }
            async fn stage_thresholds_set(&self, tenant: TenantId, thresholds: &StageThresholds, now: OffsetDateTime) -> Result<()> {
                sql_stage_thresholds_set(self.writer(), tenant, thresholds, now).await
            }
            async fn tenant_lexicon(&self, tenant: TenantId) -> Result<Option<String>> {
                sql_tenant_lexicon(self.reader(), tenant).await
            }
            async fn tenant_lexicon_set(&self, tenant: TenantId, source: &str, now: OffsetDateTime) -> Result<()> {
                sql_tenant_lexicon_set(self.writer(), tenant, source, now).await
            }

            // Crisis words, alerts, webhooks, board counts: SQL in `alerts.rs`.
            async fn crisis_word_create(&self, tenant: TenantId, word: &NewCrisisWord, now: OffsetDateTime) -> Result<CrisisWord> {
                sql_crisis_word_create(self.writer(), tenant, word, now).await
            }
            async fn crisis_word_update(&self, tenant: TenantId, id: CrisisWordId, word: &NewCrisisWord) -> Result<CrisisWord> {
                sql_crisis_word_update(self.writer(), tenant, id, word).await
            }
            async fn crisis_word_delete(&self, tenant: TenantId, id: CrisisWordId) -> Result<()> {
                sql_crisis_word_delete(self.writer(), tenant, id).await
            }
            async fn crisis_word_get(&self, tenant: TenantId, id: CrisisWordId) -> Result<CrisisWord> {
                sql_crisis_word_get(self.reader(), tenant, id).await
            }
            async fn crisis_word_list(&self, tenant: TenantId) -> Result<Vec<CrisisWord>> {
                sql_crisis_word_list(self.reader(), tenant).await
            }
            async fn alert_list(&self, tenant: TenantId, query: &AlertQuery) -> Result<Vec<Alert>> {
                sql_alert_list(self.reader(), tenant, query).await
            }
            async fn alert_get(&self, tenant: TenantId, id: AlertId) -> Result<Alert> {
                fetch_alert(self.reader(), tenant, "a.id", id.0).await?.ok_or(StoreError::NotFound("alert"))
            }
            async fn alert_of_contact(&self, tenant: TenantId, contact: ContactId) -> Result<Option<Alert>> {
                fetch_alert(self.reader(), tenant, "a.contact_id", contact.0).await
            }
            async fn alert_acknowledge(&self, tenant: TenantId, id: AlertId, by: Option<UserId>, now: OffsetDateTime) -> Result<Alert> {
                sql_alert_acknowledge(self.writer(), tenant, id, by, now).await
            }
            async fn webhook_create(&self, tenant: TenantId, url: &str, secret: &str, now: OffsetDateTime) -> Result<Webhook> {
                sql_webhook_create(self.writer(), tenant, url, secret, now).await
            }
            async fn webhook_list(&self, tenant: TenantId) -> Result<Vec<(Webhook, WebhookCounts)>> {
                sql_webhook_list(self.reader(), tenant).await
            }
            async fn webhook_delete(&self, tenant: TenantId, id: WebhookId) -> Result<()> {
                sql_webhook_delete(self.writer(), tenant, id).await
            }
            async fn webhook_deliveries_claim(&self, now: OffsetDateTime, lease: time::Duration, limit: u32) -> Result<Vec<WebhookDelivery>> {
                sql_webhook_deliveries_claim(self.writer(), now, lease, limit).await
            }
            async fn webhook_delivery_finish(&self, id: WebhookDeliveryId, outcome: &DeliveryOutcome) -> Result<()> {
                sql_webhook_delivery_finish(self.writer(), id, outcome).await
            }
            async fn board_counts(&self, tenant: TenantId, from: OffsetDateTime, to: OffsetDateTime) -> Result<BoardCounts> {
                sql_board_counts(self.reader(), tenant, from, to).await
            }

            async fn tenant_create(&self, slug: &TenantSlug, name: &str, now: OffsetDateTime) -> Result<Tenant> {
                let name = short_text("name", name).map_err(StoreError::Invalid)?;
                let row = sqlx::query("INSERT INTO tenants (slug, name, created_at) VALUES ($1, $2, $3) RETURNING id, slug, name, created_at")
                    .bind(slug.as_str())
                    .bind(&name)
                    .bind(unix(now))
                    .fetch_one(self.writer())
                    .await
                    .map_err(|e| StoreError::from_write(e, &format!("tenant {slug}")))?;
                tenant_from_row(&row)
            }

            async fn tenant_list(&self) -> Result<Vec<Tenant>> {
                let rows = sqlx::query("SELECT id, slug, name, created_at FROM tenants ORDER BY slug").fetch_all(self.reader()).await?;
                rows.iter().map(tenant_from_row).collect()
            }

            async fn tenant_by_slug(&self, slug: &str) -> Result<Tenant> {
                let row = sqlx::query("SELECT id, slug, name, created_at FROM tenants WHERE slug = $1")
                    .bind(slug)
                    .fetch_optional(self.reader())
                    .await?;
                tenant_from_row(&row.ok_or(StoreError::NotFound("tenant"))?)
            }

            async fn team_create(&self, tenant: TenantId, name: &str) -> Result<Team> {
                let name = short_text("name", name).map_err(StoreError::Invalid)?;
                let row = sqlx::query("INSERT INTO teams (tenant_id, name) VALUES ($1, $2) RETURNING id")
                    .bind(tenant.0)
                    .bind(&name)
                    .fetch_one(self.writer())
                    .await
                    .map_err(|e| StoreError::from_write(e, &format!("team {name}")))?;
                Ok(Team { id: TeamId(row.try_get("id")?), name })
            }

            async fn team_list(&self, tenant: TenantId) -> Result<Vec<Team>> {
                let rows = sqlx::query("SELECT id, name FROM teams WHERE tenant_id = $1 ORDER BY name").bind(tenant.0).fetch_all(self.reader()).await?;
                rows.iter().map(|r| Ok(Team { id: TeamId(r.try_get("id")?), name: r.try_get("name")? })).collect()
            }

            async fn user_create(&self, tenant: TenantId, user: &NewUser, now: OffsetDateTime) -> Result<User> {
                let login = short_text("login", &user.login).map_err(StoreError::Invalid)?;
                let display_name = short_text("display_name", &user.display_name).map_err(StoreError::Invalid)?;
                let mut tx = self.writer().begin().await?;
                if let Some(team) = user.team_id {
                    reference_exists(&mut tx, "teams", "team_id", tenant, team.0).await?;
                }
                let row = sqlx::query(
                    "INSERT INTO users (tenant_id, login, display_name, role, team_id, password_hash, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, tenant_id, login, display_name, role, team_id",
                )
                .bind(tenant.0)
                .bind(&login)
                .bind(&display_name)
                .bind(user.role.code())
                .bind(user.team_id.map(|t| t.0))
                .bind(&user.password_hash)
                .bind(unix(now))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| StoreError::from_write(e, &format!("user {login}")))?;
                let created = user_from_row(&row)?;
                tx.commit().await?;
                Ok(created)
            }

            async fn user_list(&self, tenant: TenantId) -> Result<Vec<User>> {
                let rows = sqlx::query("SELECT id, tenant_id, login, display_name, role, team_id FROM users WHERE tenant_id = $1 ORDER BY login")
                    .bind(tenant.0)
                    .fetch_all(self.reader())
                    .await?;
                rows.iter().map(user_from_row).collect()
            }

            async fn user_get(&self, tenant: TenantId, id: UserId) -> Result<User> {
                let row = sqlx::query("SELECT id, tenant_id, login, display_name, role, team_id FROM users WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.0)
                    .bind(id.0)
                    .fetch_optional(self.reader())
                    .await?;
                user_from_row(&row.ok_or(StoreError::NotFound("user"))?)
            }

            async fn user_credentials(&self, tenant: TenantId, login: &str) -> Result<UserCredentials> {
                let row = sqlx::query("SELECT id, tenant_id, login, display_name, role, team_id, password_hash FROM users WHERE tenant_id = $1 AND login = $2 AND deactivated_at IS NULL")
                    .bind(tenant.0)
                    .bind(login)
                    .fetch_optional(self.reader())
                    .await?;
                let row = row.ok_or(StoreError::NotFound("user"))?;
                Ok(UserCredentials { user: user_from_row(&row)?, password_hash: row.try_get("password_hash")? })
            }

            async fn api_token_create(&self, tenant: TenantId, role: Role, label: &str, token_hash: &str, now: OffsetDateTime) -> Result<ApiTokenId> {
                let row = sqlx::query("INSERT INTO api_tokens (tenant_id, role, label, token_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                    .bind(tenant.0)
                    .bind(role.code())
                    .bind(label)
                    .bind(token_hash)
                    .bind(unix(now))
                    .fetch_one(self.writer())
                    .await
                    .map_err(|e| StoreError::from_write(e, "token"))?;
                Ok(ApiTokenId(row.try_get("id")?))
            }

            async fn api_token_principal(&self, token_hash: &str) -> Result<TokenPrincipal> {
                let row = sqlx::query("SELECT id, tenant_id, role FROM api_tokens WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(self.reader())
                    .await?;
                let row = row.ok_or(StoreError::NotFound("token"))?;
                let role: String = row.try_get("role")?;
                Ok(TokenPrincipal {
                    token_id: ApiTokenId(row.try_get("id")?),
                    tenant_id: TenantId(row.try_get("tenant_id")?),
                    role: vocab("role", &role, Role::from_code)?,
                })
            }

            async fn session_create(&self, session_hash: &str, tenant: TenantId, user: UserId, csrf_token: &str, expires_at: OffsetDateTime) -> Result<()> {
                sqlx::query("INSERT INTO sessions (session_hash, tenant_id, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(session_hash)
                    .bind(tenant.0)
                    .bind(user.0)
                    .bind(csrf_token)
                    .bind(unix(expires_at))
                    .execute(self.writer())
                    .await
                    .map_err(|e| StoreError::from_write(e, "session"))?;
                Ok(())
            }

            async fn session_get(&self, session_hash: &str, now: OffsetDateTime) -> Result<Session> {
                let row = sqlx::query(
                    "SELECT u.id, u.tenant_id, u.login, u.display_name, u.role, u.team_id, s.csrf_token, s.expires_at
                     FROM sessions s JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
                     WHERE s.session_hash = $1 AND s.expires_at > $2 AND u.deactivated_at IS NULL",
                )
                .bind(session_hash)
                .bind(unix(now))
                .fetch_optional(self.reader())
                .await?;
                let row = row.ok_or(StoreError::NotFound("session"))?;
                Ok(Session { user: user_from_row(&row)?, csrf_token: row.try_get("csrf_token")?, expires_at: at(row.try_get("expires_at")?) })
            }

            async fn session_delete(&self, session_hash: &str) -> Result<()> {
                sqlx::query("DELETE FROM sessions WHERE session_hash = $1").bind(session_hash).execute(self.writer()).await?;
                Ok(())
            }

            async fn customer_create(&self, tenant: TenantId, profile: &CustomerProfile, now: OffsetDateTime) -> Result<Customer> {
                let mut tx = self.writer().begin().await?;
                let id = insert_customer(&mut tx, tenant, profile, now).await?;
                let (customer, _) = fetch_customer(&mut *tx, tenant, CustomerId(id)).await?;
                tx.commit().await?;
                Ok(customer)
            }

            async fn customer_update(&self, tenant: TenantId, id: CustomerId, profile: &CustomerProfile, now: OffsetDateTime) -> Result<Customer> {
                let mut tx = self.writer().begin().await?;
                update_customer(&mut tx, tenant, id.0, profile, now).await?;
                let (customer, _) = fetch_customer(&mut *tx, tenant, id).await?;
                tx.commit().await?;
                Ok(customer)
            }

            async fn customer_delete(&self, tenant: TenantId, id: CustomerId) -> Result<()> {
                let mut tx = self.writer().begin().await?;
                Self::lock_scores_for_customer_delete(&mut tx).await?;
                // Notes reference contacts; delete them before the cascade reaches contacts.
                // Scores have no foreign key on PostgreSQL (migration 0015).
                for table in ["kimochi_notes", "handover_notes", "contacts", "orders", "customer_scores"] {
                    let sql = format!("DELETE FROM {table} WHERE tenant_id = $1 AND customer_id = $2");
                    sqlx::query(&sql).bind(tenant.0).bind(id.0).execute(&mut *tx).await?;
                }
                let done = sqlx::query("DELETE FROM customers WHERE tenant_id = $1 AND id = $2").bind(tenant.0).bind(id.0).execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("customer"));
                }
                tx.commit().await?;
                Ok(())
            }

            async fn customer_get(&self, tenant: TenantId, id: CustomerId) -> Result<Customer> {
                let mut conn = self.reader().acquire().await?;
                Ok(fetch_customer(&mut *conn, tenant, id).await?.0)
            }

            async fn customer_stats(&self, tenant: TenantId, id: CustomerId) -> Result<CustomerStats> {
                let mut conn = self.reader().acquire().await?;
                Ok(fetch_customer(&mut *conn, tenant, id).await?.1)
            }

            async fn customer_search(&self, tenant: TenantId, query: &CustomerQuery) -> Result<Vec<CustomerSummary>> {
                let Some(kind) = classify_query(&query.text) else { return Ok(Vec::new()) };
                let limit = i64::from(query.limit.clamp(1, 200));
                // Each kind of search walks one index in its own order (phone numbers by number, names by
                // kana), so a broad prefix stops after `limit` rows instead of sorting every match.
                let select = format!("SELECT {CUSTOMER_COLUMNS}, s.last_contact_at FROM customers c
                    LEFT JOIN customer_stats s ON s.tenant_id = c.tenant_id AND s.customer_id = c.id");
                let rows = match kind {
                    SearchKind::Phone(digits) => {
                        let sql = format!("{select} JOIN customer_phones p ON p.tenant_id = c.tenant_id AND p.customer_id = c.id
                            WHERE p.tenant_id = $1 AND p.phone >= $2 AND p.phone < $3 ORDER BY p.phone, p.customer_id LIMIT $4");
                        sqlx::query(&sql).bind(tenant.0).bind(&digits).bind(prefix_end(&digits)).bind(limit).fetch_all(self.reader()).await?
                    }
                    SearchKind::Email(email) => {
                        let sql = format!("{select} JOIN customer_emails e ON e.tenant_id = c.tenant_id AND e.customer_id = c.id
                            WHERE e.tenant_id = $1 AND e.email >= $2 AND e.email < $3 ORDER BY e.email, e.customer_id LIMIT $4");
                        sqlx::query(&sql).bind(tenant.0).bind(&email).bind(prefix_end(&email)).bind(limit).fetch_all(self.reader()).await?
                    }
                    SearchKind::Name { key, external_id } => {
                        // The matches first, materialised, then sorted: walking the kana index in
                        // order and testing each customer would read the whole tenant for a prefix
                        // that sorts late.
                        let sql = format!("WITH hits AS MATERIALIZED (
                                SELECT id FROM customers WHERE tenant_id = $1 AND name_key >= $2 AND name_key < $3
                                UNION SELECT id FROM customers WHERE tenant_id = $1 AND kana_key >= $2 AND kana_key < $3
                                UNION SELECT id FROM customers WHERE tenant_id = $1 AND external_id = $4)
                            {select} JOIN hits ON hits.id = c.id WHERE c.tenant_id = $1 ORDER BY c.kana_key, c.id LIMIT $5");
                        sqlx::query(&sql).bind(tenant.0).bind(&key).bind(prefix_end(&key)).bind(&external_id).bind(limit).fetch_all(self.reader()).await?
                    }
                };
                let mut seen = std::collections::HashSet::new();
                rows.iter()
                    .filter(|row| row.try_get::<i64, _>("id").is_ok_and(|id| seen.insert(id)))
                    .map(|row| {
                        let customer = customer_from_row(row)?;
                        Ok(CustomerSummary {
                            id: customer.id,
                            external_id: customer.profile.external_id,
                            name: customer.profile.name,
                            kana: customer.profile.kana,
                            phones: customer.profile.phones,
                            emails: customer.profile.emails,
                            prefecture: customer.profile.prefecture,
                            birth_date: customer.profile.birth_date,
                            last_contact_at: optional_at(row.try_get("last_contact_at")?),
                        })
                    })
                    .collect()
            }

            async fn customer_page(&self, tenant: TenantId, page: Page) -> Result<Vec<(Customer, CustomerStats)>> {
                let sql = format!(
                    "SELECT {CUSTOMER_COLUMNS}, {STATS_COLUMNS} FROM customers c
                     LEFT JOIN customer_stats s ON s.tenant_id = c.tenant_id AND s.customer_id = c.id
                     WHERE c.tenant_id = $1 AND c.id > $2 ORDER BY c.id LIMIT $3"
                );
                let rows = sqlx::query(&sql).bind(tenant.0).bind(page.after_id).bind(i64::from(page.limit)).fetch_all(self.reader()).await?;
                rows.iter().map(|row| Ok((customer_from_row(row)?, stats_from_row(row)?))).collect()
            }

            async fn karte(&self, tenant: TenantId, id: CustomerId, limits: KarteLimits) -> Result<Karte> {
                // One statement, one snapshot, one round trip (see karte.rs).
                static KARTE_SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let sql = KARTE_SQL.get_or_init(|| crate::karte::karte_sql(&Self::JSON));
                let [orders, contacts, kimochi, handover] = crate::karte::limits_as_binds(limits);
                let text: Option<String> = sqlx::query_scalar(sql)
                    .bind(tenant.0)
                    .bind(id.0)
                    .bind(orders)
                    .bind(contacts)
                    .bind(kimochi)
                    .bind(handover)
                    .fetch_one(self.reader())
                    .await?;
                crate::karte::karte_from_json(text)
            }

            async fn product_create(&self, tenant: TenantId, product: &NewProduct) -> Result<Product> {
                let name = short_text("name", &product.name).map_err(StoreError::Invalid)?;
                check_amount("price", product.price).map_err(StoreError::Invalid)?;
                let row = sqlx::query(
                    "INSERT INTO products (tenant_id, external_id, name, kind, category, price) VALUES ($1, $2, $3, $4, $5, $6)
                     RETURNING id, external_id, name, kind, category, price",
                )
                .bind(tenant.0)
                .bind(product.external_id.as_ref().map(|e| e.as_str().to_owned()))
                .bind(&name)
                .bind(product.kind.code())
                .bind(&product.category)
                .bind(product.price)
                .fetch_one(self.writer())
                .await
                .map_err(|e| StoreError::from_write(e, "product external_id"))?;
                product_from_row(&row)
            }

            async fn product_list(&self, tenant: TenantId) -> Result<Vec<Product>> {
                let rows = sqlx::query("SELECT id, external_id, name, kind, category, price FROM products WHERE tenant_id = $1 ORDER BY id")
                    .bind(tenant.0)
                    .fetch_all(self.reader())
                    .await?;
                rows.iter().map(product_from_row).collect()
            }

            async fn product_get(&self, tenant: TenantId, id: ProductId) -> Result<Product> {
                let row = sqlx::query("SELECT id, external_id, name, kind, category, price FROM products WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.0)
                    .bind(id.0)
                    .fetch_optional(self.reader())
                    .await?;
                product_from_row(&row.ok_or(StoreError::NotFound("product"))?)
            }

            async fn order_create(&self, tenant: TenantId, order: &NewOrder) -> Result<Order> {
                order.validate().map_err(StoreError::Invalid)?;
                let mut tx = self.writer().begin().await?;
                customer_exists(&mut tx, tenant, order.customer_id).await?;
                let row = sqlx::query(
                    "INSERT INTO orders (tenant_id, external_id, customer_id, ordered_at, channel, ad_medium, is_subscription, total_amount)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(tenant.0)
                .bind(order.external_id.as_ref().map(|e| e.as_str().to_owned()))
                .bind(order.customer_id.0)
                .bind(unix(order.ordered_at))
                .bind(order.channel.map(|c| c.code()))
                .bind(&order.ad_medium)
                .bind(order.is_subscription)
                .bind(order.total_amount())
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| StoreError::from_write(e, "order external_id"))?;
                let id: i64 = row.try_get("id")?;
                insert_order_lines(&mut tx, tenant, id, &order.lines).await?;
                recompute_stats(&mut tx, tenant, order.customer_id.0, order.customer_id.0).await?;
                let mut orders = fetch_orders(&mut *tx, tenant, "o.id = $2", id, 1, "o.id").await?;
                tx.commit().await?;
                orders.pop().ok_or(StoreError::NotFound("order"))
            }

            async fn order_get(&self, tenant: TenantId, id: OrderId) -> Result<Order> {
                let mut conn = self.reader().acquire().await?;
                let mut orders = fetch_orders(&mut *conn, tenant, "o.id = $2", id.0, 1, "o.id").await?;
                orders.pop().ok_or(StoreError::NotFound("order"))
            }

            async fn order_list(&self, tenant: TenantId, customer: CustomerId, limit: u32) -> Result<Vec<Order>> {
                let mut conn = self.reader().acquire().await?;
                fetch_orders(&mut *conn, tenant, "o.customer_id = $2", customer.0, i64::from(limit), "o.ordered_at DESC, o.id DESC").await
            }

            async fn order_page(&self, tenant: TenantId, page: Page) -> Result<Vec<Order>> {
                let mut conn = self.reader().acquire().await?;
                fetch_orders(&mut *conn, tenant, "o.id > $2", page.after_id, i64::from(page.limit), "o.id").await
            }

            async fn contact_create(&self, tenant: TenantId, contact: &NewContact) -> Result<Contact> {
                contact.validate().map_err(StoreError::Invalid)?;
                let mut tx = self.writer().begin().await?;
                customer_exists(&mut tx, tenant, contact.customer_id).await?;
                if let Some(agent) = contact.agent_id {
                    reference_exists(&mut tx, "users", "agent_id", tenant, agent.0).await?;
                }
                let thread = resolve_thread(&mut tx, tenant, contact.customer_id, contact.thread_of).await?;
                let id = insert_contact(&mut tx, tenant, contact, thread).await?;
                recompute_stats(&mut tx, tenant, contact.customer_id.0, contact.customer_id.0).await?;
                let created = fetch_contact(&mut *tx, tenant, id).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn contact_get(&self, tenant: TenantId, id: ContactId) -> Result<Contact> {
                let mut conn = self.reader().acquire().await?;
                fetch_contact(&mut *conn, tenant, id.0).await
            }

            async fn contact_list(&self, tenant: TenantId, customer: CustomerId, limit: u32) -> Result<Vec<Contact>> {
                let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts k WHERE k.tenant_id = $1 AND k.customer_id = $2 ORDER BY k.started_at DESC, k.id DESC LIMIT $3");
                let rows = sqlx::query(&sql).bind(tenant.0).bind(customer.0).bind(i64::from(limit)).fetch_all(self.reader()).await?;
                rows.iter().map(contact_from_row).collect()
            }

            async fn contact_page(&self, tenant: TenantId, page: Page) -> Result<Vec<Contact>> {
                let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts k WHERE k.tenant_id = $1 AND k.id > $2 ORDER BY k.id LIMIT $3");
                let rows = sqlx::query(&sql).bind(tenant.0).bind(page.after_id).bind(i64::from(page.limit)).fetch_all(self.reader()).await?;
                rows.iter().map(contact_from_row).collect()
            }

            async fn kimochi_note_create(&self, tenant: TenantId, note: &NewKimochiNote) -> Result<KimochiNote> {
                let text = long_text("text", &note.text).map_err(StoreError::Invalid)?;
                if text.is_empty() {
                    return Err(StoreError::Invalid(ValidationError::new("text", "", "is empty")));
                }
                let mut tx = self.writer().begin().await?;
                customer_exists(&mut tx, tenant, note.customer_id).await?;
                if let Some(user) = note.captured_by {
                    reference_exists(&mut tx, "users", "captured_by", tenant, user.0).await?;
                }
                if let Some(product) = note.product_id {
                    reference_exists(&mut tx, "products", "product_id", tenant, product.0).await?;
                }
                if let Some(contact) = note.contact_id {
                    let row = sqlx::query("SELECT customer_id FROM contacts WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant.0).bind(contact.0).fetch_optional(&mut *tx).await?;
                    let owner: Option<i64> = row.map(|r| r.try_get("customer_id")).transpose()?;
                    if owner != Some(note.customer_id.0) {
                        return Err(StoreError::UnknownReference { field: "contact_id" });
                    }
                }
                let row = sqlx::query(
                    "INSERT INTO kimochi_notes (tenant_id, customer_id, kind, text, captured_by, captured_at, contact_id, product_id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
                )
                .bind(tenant.0)
                .bind(note.customer_id.0)
                .bind(note.kind.code())
                .bind(&text)
                .bind(note.captured_by.map(|u| u.0))
                .bind(unix(note.captured_at))
                .bind(note.contact_id.map(|c| c.0))
                .bind(note.product_id.map(|p| p.0))
                .fetch_one(&mut *tx)
                .await?;
                let created = kimochi_from_row(&row)?;
                // Kimochi signals are part of the aggregates scoring reads.
                recompute_stats(&mut tx, tenant, note.customer_id.0, note.customer_id.0).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn kimochi_note_list(&self, tenant: TenantId, customer: CustomerId, limit: u32) -> Result<Vec<KimochiNote>> {
                let rows = sqlx::query("SELECT * FROM kimochi_notes WHERE tenant_id = $1 AND customer_id = $2 ORDER BY captured_at DESC, id DESC LIMIT $3")
                    .bind(tenant.0).bind(customer.0).bind(i64::from(limit)).fetch_all(self.reader()).await?;
                rows.iter().map(kimochi_from_row).collect()
            }

            async fn handover_note_create(&self, tenant: TenantId, note: &NewHandoverNote) -> Result<HandoverNote> {
                let text = long_text("text", &note.text).map_err(StoreError::Invalid)?;
                if text.is_empty() {
                    return Err(StoreError::Invalid(ValidationError::new("text", "", "is empty")));
                }
                let mut tx = self.writer().begin().await?;
                customer_exists(&mut tx, tenant, note.customer_id).await?;
                if let Some(user) = note.author_id {
                    reference_exists(&mut tx, "users", "author_id", tenant, user.0).await?;
                }
                let row = sqlx::query(
                    "INSERT INTO handover_notes (tenant_id, customer_id, kind, text, author_id, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
                )
                .bind(tenant.0)
                .bind(note.customer_id.0)
                .bind(note.kind.code())
                .bind(&text)
                .bind(note.author_id.map(|u| u.0))
                .bind(unix(note.created_at))
                .fetch_one(&mut *tx)
                .await?;
                let created = handover_from_row(&row)?;
                tx.commit().await?;
                Ok(created)
            }

            async fn handover_note_list(&self, tenant: TenantId, customer: CustomerId, limit: u32) -> Result<Vec<HandoverNote>> {
                let rows = sqlx::query("SELECT * FROM handover_notes WHERE tenant_id = $1 AND customer_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3")
                    .bind(tenant.0).bind(customer.0).bind(i64::from(limit)).fetch_all(self.reader()).await?;
                rows.iter().map(handover_from_row).collect()
            }

            async fn faq_create(&self, tenant: TenantId, faq: &NewFaq, now: OffsetDateTime) -> Result<Faq> {
                let (title, body) = validate_faq(faq)?;
                let row = sqlx::query(
                    "INSERT INTO faq_articles (tenant_id, title, body, category, tags, updated_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
                )
                .bind(tenant.0)
                .bind(&title)
                .bind(&body)
                .bind(&faq.category)
                .bind(serde_json::to_string(&faq.tags).unwrap_or_else(|_| "[]".to_owned()))
                .bind(unix(now))
                .fetch_one(self.writer())
                .await?;
                faq_from_row(&row)
            }

            async fn faq_update(&self, tenant: TenantId, id: FaqId, faq: &NewFaq, now: OffsetDateTime) -> Result<Faq> {
                let (title, body) = validate_faq(faq)?;
                let row = sqlx::query(
                    "UPDATE faq_articles SET title = $3, body = $4, category = $5, tags = $6, updated_at = $7
                     WHERE tenant_id = $1 AND id = $2 RETURNING *",
                )
                .bind(tenant.0)
                .bind(id.0)
                .bind(&title)
                .bind(&body)
                .bind(&faq.category)
                .bind(serde_json::to_string(&faq.tags).unwrap_or_else(|_| "[]".to_owned()))
                .bind(unix(now))
                .fetch_optional(self.writer())
                .await?;
                faq_from_row(&row.ok_or(StoreError::NotFound("faq"))?)
            }

            async fn faq_delete(&self, tenant: TenantId, id: FaqId) -> Result<()> {
                let done = sqlx::query("DELETE FROM faq_articles WHERE tenant_id = $1 AND id = $2").bind(tenant.0).bind(id.0).execute(self.writer()).await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("faq"));
                }
                Ok(())
            }

            async fn faq_get(&self, tenant: TenantId, id: FaqId) -> Result<Faq> {
                let row = sqlx::query("SELECT * FROM faq_articles WHERE tenant_id = $1 AND id = $2").bind(tenant.0).bind(id.0).fetch_optional(self.reader()).await?;
                faq_from_row(&row.ok_or(StoreError::NotFound("faq"))?)
            }

            async fn faq_list(&self, tenant: TenantId) -> Result<Vec<Faq>> {
                let rows = sqlx::query("SELECT * FROM faq_articles WHERE tenant_id = $1 ORDER BY id").bind(tenant.0).fetch_all(self.reader()).await?;
                rows.iter().map(faq_from_row).collect()
            }

            async fn audit_append(&self, tenant: TenantId, entry: &AuditEntry) -> Result<()> {
                self.audit_append_batch(&[(tenant, entry.clone())]).await
            }

            async fn audit_append_batch(&self, entries: &[(TenantId, AuditEntry)]) -> Result<()> {
                let mut tx = self.writer().begin().await?;
                for block in entries.chunks(BULK_ROWS) {
                    let mut builder: QueryBuilder<'_, $db> =
                        QueryBuilder::new("INSERT INTO audit_log (tenant_id, at, actor_kind, actor_id, action, customer_id, detail) ");
                    builder.push_values(block, |mut values, (tenant, entry)| {
                        let (kind, actor_id) = match entry.actor {
                            Actor::User(user) => ("user", Some(user.0)),
                            Actor::Token(token) => ("token", Some(token.0)),
                            Actor::Cli => ("cli", None),
                        };
                        values
                            .push_bind(tenant.0)
                            .push_bind(unix(entry.at))
                            .push_bind(kind)
                            .push_bind(actor_id)
                            .push_bind(entry.action.clone())
                            .push_bind(entry.customer_id.map(|c| c.0))
                            .push_bind(entry.detail.clone());
                    });
                    builder.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn audit_list(&self, tenant: TenantId, limit: u32) -> Result<Vec<AuditEntry>> {
                let rows = sqlx::query("SELECT * FROM audit_log WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2")
                    .bind(tenant.0).bind(i64::from(limit)).fetch_all(self.reader()).await?;
                rows.iter()
                    .map(|row| {
                        let kind: String = row.try_get("actor_kind")?;
                        let actor_id: Option<i64> = row.try_get("actor_id")?;
                        let actor = match (kind.as_str(), actor_id) {
                            ("user", Some(id)) => Actor::User(UserId(id)),
                            ("token", Some(id)) => Actor::Token(ApiTokenId(id)),
                            ("cli", _) => Actor::Cli,
                            _ => return corrupt("actor", &kind),
                        };
                        Ok(AuditEntry {
                            at: at(row.try_get("at")?),
                            actor,
                            action: row.try_get("action")?,
                            customer_id: row.try_get::<Option<i64>, _>("customer_id")?.map(CustomerId),
                            detail: row.try_get("detail")?,
                        })
                    })
                    .collect()
            }

            async fn import_customers(&self, tenant: TenantId, rows: &[Line<CustomerProfile>], options: ImportOptions, now: OffsetDateTime) -> Result<ImportReport> {
                let mut tx = self.writer().begin().await?;
                let mut report = ImportReport::default();
                let mut known = HashMap::new();
                for Line { line, record } in rows {
                    let Some(external_id) = &record.external_id else {
                        report.problems.push(problem(*line, "external_id", "", "is required for an import"));
                        continue;
                    };
                    if let Err(error) = record.validate() {
                        report.problems.push(problem(*line, error.field, &error.value, &error.reason));
                        continue;
                    }
                    match customer_id_by_external(&mut tx, tenant, external_id, &mut known).await? {
                        Some(id) => {
                            update_customer(&mut tx, tenant, id, record, now).await?;
                            report.updated += 1;
                        }
                        None => {
                            let id = insert_customer(&mut tx, tenant, record, now).await?;
                            known.insert(external_id.as_str().to_owned(), Some(id));
                            report.inserted += 1;
                        }
                    }
                }
                report.skipped = report.problems.len() as u64;
                finish_import(tx, options, report).await
            }

            async fn import_products(&self, tenant: TenantId, rows: &[Line<ProductImport>], options: ImportOptions) -> Result<ImportReport> {
                let mut tx = self.writer().begin().await?;
                let mut report = ImportReport::default();
                for Line { line, record } in rows {
                    if let Err(error) = short_text("name", &record.name).and_then(|_| check_amount("price", record.price)) {
                        report.problems.push(problem(*line, error.field, &error.value, &error.reason));
                        continue;
                    }
                    let existing = sqlx::query("SELECT id FROM products WHERE tenant_id = $1 AND external_id = $2")
                        .bind(tenant.0).bind(record.external_id.as_str()).fetch_optional(&mut *tx).await?;
                    match existing {
                        Some(row) => {
                            let id: i64 = row.try_get("id")?;
                            sqlx::query("UPDATE products SET name = $3, kind = $4, category = $5, price = $6 WHERE tenant_id = $1 AND id = $2")
                                .bind(tenant.0).bind(id).bind(&record.name).bind(record.kind.code()).bind(&record.category).bind(record.price)
                                .execute(&mut *tx).await?;
                            report.updated += 1;
                        }
                        None => {
                            sqlx::query("INSERT INTO products (tenant_id, external_id, name, kind, category, price) VALUES ($1, $2, $3, $4, $5, $6)")
                                .bind(tenant.0).bind(record.external_id.as_str()).bind(&record.name).bind(record.kind.code()).bind(&record.category).bind(record.price)
                                .execute(&mut *tx).await?;
                            report.inserted += 1;
                        }
                    }
                }
                report.skipped = report.problems.len() as u64;
                finish_import(tx, options, report).await
            }

            async fn import_orders(&self, tenant: TenantId, rows: &[Line<OrderImport>], options: ImportOptions) -> Result<ImportReport> {
                let mut tx = self.writer().begin().await?;
                let mut report = ImportReport::default();
                let mut products: HashMap<String, i64> = HashMap::new();
                for row in sqlx::query("SELECT id, external_id FROM products WHERE tenant_id = $1 AND external_id IS NOT NULL").bind(tenant.0).fetch_all(&mut *tx).await? {
                    products.insert(row.try_get("external_id")?, row.try_get("id")?);
                }
                // Lines of one order, in file order of their first appearance.
                let mut groups: StoreMap<String, (usize, Vec<&Line<OrderImport>>)> = StoreMap::new();
                for (position, row) in rows.iter().enumerate() {
                    groups.entry(row.record.external_id.as_str().to_owned()).or_insert_with(|| (position, Vec::new())).1.push(row);
                }
                let mut ordered: Vec<(usize, Vec<&Line<OrderImport>>)> = groups.into_values().collect();
                ordered.sort_by_key(|(position, _)| *position);
                let mut customers = HashMap::new();
                let mut touched: Vec<i64> = Vec::new();
                for (_, lines) in ordered {
                    let first = &lines[0].record;
                    let mut bad = false;
                    let customer = customer_id_by_external(&mut tx, tenant, &first.customer_external_id, &mut customers).await?;
                    if customer.is_none() {
                        for line in &lines {
                            report.problems.push(problem(line.line, "customer_external_id", line.record.customer_external_id.as_str(), "no customer has this id"));
                        }
                        bad = true;
                    }
                    let mut new_lines = Vec::new();
                    for line in &lines {
                        if line.record.customer_external_id != first.customer_external_id || line.record.ordered_at != first.ordered_at {
                            report.problems.push(problem(line.line, "external_id", line.record.external_id.as_str(), "lines of one order disagree on customer or date"));
                            bad = true;
                        }
                        match products.get(line.record.product_external_id.as_str()) {
                            Some(product) => new_lines.push(NewOrderLine { product_id: ProductId(*product), quantity: line.record.quantity, amount: line.record.amount }),
                            None => {
                                report.problems.push(problem(line.line, "product_external_id", line.record.product_external_id.as_str(), "no product has this id"));
                                bad = true;
                            }
                        }
                    }
                    let Some(customer) = customer else { continue };
                    if bad {
                        continue;
                    }
                    let order = NewOrder {
                        external_id: Some(first.external_id.clone()),
                        customer_id: CustomerId(customer),
                        ordered_at: first.ordered_at,
                        channel: first.channel,
                        ad_medium: first.ad_medium.clone(),
                        is_subscription: lines.iter().any(|l| l.record.is_subscription),
                        lines: new_lines,
                    };
                    if let Err(error) = order.validate() {
                        report.problems.push(problem(lines[0].line, error.field, &error.value, &error.reason));
                        continue;
                    }
                    let existing = sqlx::query("SELECT id, customer_id FROM orders WHERE tenant_id = $1 AND external_id = $2")
                        .bind(tenant.0).bind(first.external_id.as_str()).fetch_optional(&mut *tx).await?;
                    let order_id = match existing {
                        Some(row) => {
                            let id: i64 = row.try_get("id")?;
                            touched.push(row.try_get("customer_id")?);
                            sqlx::query("UPDATE orders SET customer_id = $3, ordered_at = $4, channel = $5, ad_medium = $6, is_subscription = $7, total_amount = $8 WHERE tenant_id = $1 AND id = $2")
                                .bind(tenant.0).bind(id).bind(customer).bind(unix(order.ordered_at)).bind(order.channel.map(|c| c.code()))
                                .bind(&order.ad_medium).bind(order.is_subscription).bind(order.total_amount())
                                .execute(&mut *tx).await?;
                            sqlx::query("DELETE FROM order_lines WHERE tenant_id = $1 AND order_id = $2").bind(tenant.0).bind(id).execute(&mut *tx).await?;
                            report.updated += 1;
                            id
                        }
                        None => {
                            let row = sqlx::query(
                                "INSERT INTO orders (tenant_id, external_id, customer_id, ordered_at, channel, ad_medium, is_subscription, total_amount)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                            )
                            .bind(tenant.0).bind(first.external_id.as_str()).bind(customer).bind(unix(order.ordered_at))
                            .bind(order.channel.map(|c| c.code())).bind(&order.ad_medium).bind(order.is_subscription).bind(order.total_amount())
                            .fetch_one(&mut *tx).await?;
                            report.inserted += 1;
                            row.try_get("id")?
                        }
                    };
                    insert_order_lines(&mut tx, tenant, order_id, &order.lines).await?;
                    touched.push(customer);
                }
                touched.sort_unstable();
                touched.dedup();
                for customer in touched {
                    recompute_stats(&mut tx, tenant, customer, customer).await?;
                }
                report.skipped = report.problems.iter().map(|p| p.line).collect::<std::collections::BTreeSet<_>>().len() as u64;
                finish_import(tx, options, report).await
            }

            async fn import_contacts(&self, tenant: TenantId, rows: &[Line<ContactImport>], options: ImportOptions) -> Result<ImportReport> {
                let mut tx = self.writer().begin().await?;
                let mut report = ImportReport::default();
                let mut agents: HashMap<String, i64> = HashMap::new();
                for row in sqlx::query("SELECT id, login FROM users WHERE tenant_id = $1").bind(tenant.0).fetch_all(&mut *tx).await? {
                    agents.insert(row.try_get("login")?, row.try_get("id")?);
                }
                let mut customers = HashMap::new();
                let mut touched: Vec<i64> = Vec::new();
                for Line { line, record } in rows {
                    let line = *line;
                    let before = report.problems.len();
                    let customer = customer_id_by_external(&mut tx, tenant, &record.customer_external_id, &mut customers).await?;
                    if customer.is_none() {
                        report.problems.push(problem(line, "customer_external_id", record.customer_external_id.as_str(), "no customer has this id"));
                    }
                    let agent = match &record.agent_login {
                        Some(login) => match agents.get(login) {
                            Some(id) => Some(UserId(*id)),
                            None => {
                                report.problems.push(problem(line, "agent_login", login, "no user has this login"));
                                None
                            }
                        },
                        None => None,
                    };
                    let mut thread_of = None;
                    if let Some(thread) = &record.thread_external_id {
                        let row = sqlx::query("SELECT id, customer_id FROM contacts WHERE tenant_id = $1 AND external_id = $2")
                            .bind(tenant.0).bind(thread.as_str()).fetch_optional(&mut *tx).await?;
                        match row {
                            Some(row) if customer == Some(row.try_get::<i64, _>("customer_id")?) => thread_of = Some(ContactId(row.try_get("id")?)),
                            _ => report.problems.push(problem(line, "thread_external_id", thread.as_str(), "no earlier contact of this customer has this id")),
                        }
                    }
                    let Some(customer) = customer else { continue };
                    let contact = NewContact {
                        external_id: Some(record.external_id.clone()),
                        customer_id: CustomerId(customer),
                        channel: record.channel,
                        direction: record.direction,
                        started_at: record.started_at,
                        ended_at: record.ended_at,
                        agent_id: agent,
                        reason: record.reason.clone(),
                        outcome: record.outcome,
                        text: record.text.clone(),
                        thread_of,
                        tags: record.tags.clone(),
                    };
                    if let Err(error) = contact.validate() {
                        report.problems.push(problem(line, error.field, &error.value, &error.reason));
                    }
                    if report.problems.len() > before {
                        continue;
                    }
                    let thread = resolve_thread(&mut tx, tenant, contact.customer_id, contact.thread_of).await?;
                    let existing = sqlx::query("SELECT id, customer_id FROM contacts WHERE tenant_id = $1 AND external_id = $2")
                        .bind(tenant.0).bind(record.external_id.as_str()).fetch_optional(&mut *tx).await?;
                    match existing {
                        Some(row) => {
                            let id: i64 = row.try_get("id")?;
                            touched.push(row.try_get("customer_id")?);
                            sqlx::query(
                                "UPDATE contacts SET customer_id = $3, channel = $4, direction = $5, started_at = $6, ended_at = $7,
                                    agent_id = $8, reason = $9, outcome = $10, text = $11, thread_id = $12 WHERE tenant_id = $1 AND id = $2",
                            )
                            .bind(tenant.0).bind(id).bind(customer).bind(contact.channel.code()).bind(contact.direction.code())
                            .bind(unix(contact.started_at)).bind(contact.ended_at.map(unix)).bind(contact.agent_id.map(|a| a.0))
                            .bind(&contact.reason).bind(contact.outcome.map(|o| o.code())).bind(&contact.text)
                            .bind(thread.filter(|t| *t != id))
                            .execute(&mut *tx).await?;
                            report.updated += 1;
                        }
                        None => {
                            insert_contact(&mut tx, tenant, &contact, thread).await?;
                            report.inserted += 1;
                        }
                    }
                    touched.push(customer);
                }
                touched.sort_unstable();
                touched.dedup();
                for customer in touched {
                    recompute_stats(&mut tx, tenant, customer, customer).await?;
                }
                report.skipped = report.problems.iter().map(|p| p.line).collect::<std::collections::BTreeSet<_>>().len() as u64;
                finish_import(tx, options, report).await
            }

            async fn bulk_load(&self, tenant: TenantId, chunk: &BulkChunk, now: OffsetDateTime) -> Result<()> {
                if chunk.customers.is_empty() {
                    return Ok(());
                }
                let mut tx = self.writer().begin().await?;
                let customer_base = Self::reserve_ids(&mut tx, "customers", chunk.customers.len() as i64).await?;
                for (block_index, block) in chunk.customers.chunks(BULK_ROWS).enumerate() {
                    let offset = (block_index * BULK_ROWS) as i64;
                    let mut builder: QueryBuilder<'_, $db> = QueryBuilder::new(
                        "INSERT INTO customers (id, tenant_id, external_id, name, kana, name_key, kana_key, birth_date, gender,
                            prefecture, address, phones, emails, consent_phone, consent_email, consent_dm, do_not_call,
                            ad_medium, attributes, created_at, updated_at) ",
                    );
                    builder.push_values(block.iter().enumerate(), |mut values, (index, profile)| {
                        values
                            .push_bind(customer_base + offset + index as i64)
                            .push_bind(tenant.0)
                            .push_bind(profile.external_id.as_ref().map(|e| e.as_str().to_owned()))
                            .push_bind(profile.name.clone())
                            .push_bind(profile.kana.clone())
                            .push_bind(kimochi_domain::normalize::search_key(&profile.name))
                            .push_bind(profile.kana.as_deref().map(kimochi_domain::normalize::search_key))
                            .push_bind(birth_date_text(profile.birth_date))
                            .push_bind(profile.gender.code())
                            .push_bind(profile.prefecture.clone())
                            .push_bind(profile.address.clone())
                            .push_bind(join_phones(&profile.phones))
                            .push_bind(join_emails(&profile.emails))
                            .push_bind(profile.consent.phone)
                            .push_bind(profile.consent.email)
                            .push_bind(profile.consent.dm)
                            .push_bind(profile.do_not_call)
                            .push_bind(profile.ad_medium.clone())
                            .push_bind(attributes_json(&profile.attributes))
                            .push_bind(unix(now))
                            .push_bind(unix(now));
                    });
                    builder.build().execute(&mut *tx).await.map_err(|e| StoreError::from_write(e, "customer external_id"))?;
                }
                let mut phones: Vec<(String, i64)> = Vec::new();
                let mut emails: Vec<(String, i64)> = Vec::new();
                for (index, profile) in chunk.customers.iter().enumerate() {
                    let id = customer_base + index as i64;
                    phones.extend(phone_keys(profile).into_iter().map(|p| (p, id)));
                    emails.extend(email_keys(profile).into_iter().map(|e| (e, id)));
                }
                for (table, column, keys) in [("customer_phones", "phone", &phones), ("customer_emails", "email", &emails)] {
                    for block in keys.chunks(BULK_ROWS) {
                        let mut builder: QueryBuilder<'_, $db> = QueryBuilder::new(format!("INSERT INTO {table} (tenant_id, {column}, customer_id) "));
                        builder.push_values(block, |mut values, (key, id)| {
                            values.push_bind(tenant.0).push_bind(key.clone()).push_bind(*id);
                        });
                        builder.build().execute(&mut *tx).await?;
                    }
                }
                if !chunk.orders.is_empty() {
                    let order_base = Self::reserve_ids(&mut tx, "orders", chunk.orders.len() as i64).await?;
                    for (block_index, block) in chunk.orders.chunks(BULK_ROWS).enumerate() {
                        let offset = (block_index * BULK_ROWS) as i64;
                        let mut builder: QueryBuilder<'_, $db> = QueryBuilder::new(
                            "INSERT INTO orders (id, tenant_id, external_id, customer_id, ordered_at, channel, ad_medium, is_subscription, total_amount) ",
                        );
                        builder.push_values(block.iter().enumerate(), |mut values, (index, order)| {
                            values
                                .push_bind(order_base + offset + index as i64)
                                .push_bind(tenant.0)
                                .push_bind(None::<String>)
                                .push_bind(customer_base + order.customer as i64)
                                .push_bind(unix(order.ordered_at))
                                .push_bind(order.channel.map(|c| c.code()))
                                .push_bind(order.ad_medium.clone())
                                .push_bind(order.is_subscription)
                                .push_bind(order.lines.iter().map(|l| l.amount).sum::<i64>());
                        });
                        builder.build().execute(&mut *tx).await?;
                    }
                    let lines: Vec<(i64, i64, &NewOrderLine)> = chunk
                        .orders
                        .iter()
                        .enumerate()
                        .flat_map(|(index, order)| order.lines.iter().enumerate().map(move |(line_no, line)| (order_base + index as i64, line_no as i64 + 1, line)))
                        .collect();
                    for block in lines.chunks(BULK_ROWS) {
                        let mut builder: QueryBuilder<'_, $db> = QueryBuilder::new("INSERT INTO order_lines (tenant_id, order_id, line_no, product_id, quantity, amount) ");
                        builder.push_values(block, |mut values, (order_id, line_no, line)| {
                            values.push_bind(tenant.0).push_bind(*order_id).push_bind(*line_no).push_bind(line.product_id.0).push_bind(line.quantity).push_bind(line.amount);
                        });
                        builder.build().execute(&mut *tx).await.map_err(|e| StoreError::from_write(e, "order line"))?;
                    }
                }
                let contact_base = if chunk.contacts.is_empty() { 0 } else { Self::reserve_ids(&mut tx, "contacts", chunk.contacts.len() as i64).await? };
                for (block_index, block) in chunk.contacts.chunks(BULK_ROWS).enumerate() {
                    let offset = (block_index * BULK_ROWS) as i64;
                    let mut builder: QueryBuilder<'_, $db> = QueryBuilder::new(
                        "INSERT INTO contacts (id, tenant_id, external_id, customer_id, channel, direction, started_at, ended_at, agent_id, reason, outcome, text, thread_id, polarity, kimochi, crisis) ",
                    );
                    builder.push_values(block.iter().enumerate(), |mut values, (index, contact)| {
                        values
                            .push_bind(contact_base + offset + index as i64)
                            .push_bind(tenant.0)
                            .push_bind(None::<String>)
                            .push_bind(customer_base + contact.customer as i64)
                            .push_bind(contact.channel.code())
                            .push_bind(contact.direction.code())
                            .push_bind(unix(contact.started_at))
                            .push_bind(contact.ended_at.map(unix))
                            .push_bind(contact.agent_id.map(|a| a.0))
                            .push_bind(contact.reason.clone())
                            .push_bind(contact.outcome.map(|o| o.code()))
                            .push_bind(contact.text.clone())
                            .push_bind(contact.thread_of.map(|t| contact_base + t as i64))
                            .push_bind(contact.tags.polarity.map(|p| p.code()))
                            .push_bind(contact.tags.kimochi_codes())
                            .push_bind(i64::from(contact.tags.crisis_words));
                    });
                    builder.build().execute(&mut *tx).await.map_err(|e| StoreError::from_write(e, "contact"))?;
                }
                let alerts: Vec<(i64, i64, &[CrisisMatch])> = chunk
                    .contacts
                    .iter()
                    .enumerate()
                    .filter(|(_, contact)| !contact.tags.crisis.is_empty())
                    .map(|(index, contact)| (contact_base + index as i64, customer_base + contact.customer as i64, contact.tags.crisis.as_slice()))
                    .collect();
                insert_bulk_alerts(&mut tx, tenant, &alerts).await?;
                if !chunk.kimochi_notes.is_empty() {
                    let base = Self::reserve_ids(&mut tx, "kimochi_notes", chunk.kimochi_notes.len() as i64).await?;
                    for (block_index, block) in chunk.kimochi_notes.chunks(BULK_ROWS).enumerate() {
                        let offset = (block_index * BULK_ROWS) as i64;
                        let mut builder: QueryBuilder<'_, $db> = QueryBuilder::new(
                            "INSERT INTO kimochi_notes (id, tenant_id, customer_id, kind, text, captured_by, captured_at, contact_id, product_id) ",
                        );
                        builder.push_values(block.iter().enumerate(), |mut values, (index, note)| {
                            values
                                .push_bind(base + offset + index as i64)
                                .push_bind(tenant.0)
                                .push_bind(customer_base + note.customer as i64)
                                .push_bind(note.kind.code())
                                .push_bind(note.text.clone())
                                .push_bind(note.captured_by.map(|u| u.0))
                                .push_bind(unix(note.captured_at))
                                .push_bind(note.contact.map(|c| contact_base + c as i64))
                                .push_bind(None::<i64>);
                        });
                        builder.build().execute(&mut *tx).await.map_err(|e| StoreError::from_write(e, "kimochi note"))?;
                    }
                }
                if !chunk.handover_notes.is_empty() {
                    let base = Self::reserve_ids(&mut tx, "handover_notes", chunk.handover_notes.len() as i64).await?;
                    for (block_index, block) in chunk.handover_notes.chunks(BULK_ROWS).enumerate() {
                        let offset = (block_index * BULK_ROWS) as i64;
                        let mut builder: QueryBuilder<'_, $db> = QueryBuilder::new(
                            "INSERT INTO handover_notes (id, tenant_id, customer_id, kind, text, author_id, created_at) ",
                        );
                        builder.push_values(block.iter().enumerate(), |mut values, (index, note)| {
                            values
                                .push_bind(base + offset + index as i64)
                                .push_bind(tenant.0)
                                .push_bind(customer_base + note.customer as i64)
                                .push_bind(note.kind.code())
                                .push_bind(note.text.clone())
                                .push_bind(note.author_id.map(|u| u.0))
                                .push_bind(unix(note.created_at));
                        });
                        builder.build().execute(&mut *tx).await.map_err(|e| StoreError::from_write(e, "handover note"))?;
                    }
                }
                // Hearing answers take their customer, operator and time from their contact.
                for block in chunk.hearing_answers.chunks(BULK_ROWS) {
                    let mut rows = Vec::with_capacity(block.len());
                    for answer in block {
                        let contact = chunk.contacts.get(answer.contact).ok_or(StoreError::UnknownReference { field: "hearing_answers.contact" })?;
                        let (text, number, date) = $crate::hearing::answer_columns(answer.value.as_ref());
                        rows.push((answer, contact, text, number, date));
                    }
                    let mut builder: QueryBuilder<'_, $db> = QueryBuilder::new(
                        "INSERT INTO hearing_answers (tenant_id, customer_id, contact_id, set_id, question_id, agent_id, asked,
                            answered, value_text, value_number, value_date, answered_at) ",
                    );
                    builder.push_values(rows, |mut values, (answer, contact, text, number, date)| {
                        values
                            .push_bind(tenant.0)
                            .push_bind(customer_base + contact.customer as i64)
                            .push_bind(contact_base + answer.contact as i64)
                            .push_bind(answer.set_id.0)
                            .push_bind(answer.question_id.0)
                            .push_bind(contact.agent_id.map(|a| a.0))
                            .push_bind(answer.asked)
                            .push_bind(answer.value.is_some())
                            .push_bind(text)
                            .push_bind(number)
                            .push_bind(date)
                            .push_bind(unix(contact.started_at));
                    });
                    builder.build().execute(&mut *tx).await.map_err(|e| StoreError::from_write(e, "hearing answer"))?;
                }
                for block in chunk.behavior_events.chunks(BULK_ROWS) {
                    let mut builder: QueryBuilder<'_, $db> = QueryBuilder::new(
                        "INSERT INTO behavior_events (tenant_id, customer_id, kind, occurred_at, key, value, url, attributes, dedupe_key) ",
                    );
                    builder.push_values(block, |mut values, event| {
                        let customer = customer_base + event.customer as i64;
                        let (customer_text, at_text) = (customer.to_string(), unix(event.occurred_at).to_string());
                        // The same dedupe keys as `import_events`, so importing the same rows adds nothing.
                        let (kind, key, value, url, attributes, dedupe) = match &event.detail {
                            kimochi_domain::import::BulkEventDetail::Survey { survey, question, answer } => (
                                "survey",
                                question.clone(),
                                answer.clone(),
                                None,
                                attributes_json(&StoreMap::from([("survey".to_owned(), survey.clone())])),
                                crate::behavior::content_key(&["survey", &customer_text, &at_text, survey, question, answer]),
                            ),
                            kimochi_domain::import::BulkEventDetail::Web { url } => (
                                "web",
                                String::new(),
                                String::new(),
                                Some(url.clone()),
                                "{}".to_owned(),
                                crate::behavior::content_key(&["web", &customer_text, &at_text, url, ""]),
                            ),
                        };
                        values
                            .push_bind(tenant.0)
                            .push_bind(customer)
                            .push_bind(kind)
                            .push_bind(unix(event.occurred_at))
                            .push_bind(key)
                            .push_bind(value)
                            .push_bind(url)
                            .push_bind(attributes)
                            .push_bind(dedupe);
                    });
                    // An event identical to one already stored (or earlier in the chunk) is the
                    // same event, as in `import_events`.
                    builder.push(" ON CONFLICT (tenant_id, dedupe_key) DO NOTHING");
                    builder.build().execute(&mut *tx).await.map_err(|e| StoreError::from_write(e, "behaviour event"))?;
                }
                recompute_stats(&mut tx, tenant, customer_base, customer_base + chunk.customers.len() as i64 - 1).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn analyze(&self) -> Result<()> {
                <$store>::analyze(self).await
            }

            async fn tenant_counts(&self, tenant: TenantId) -> Result<TenantCounts> {
                let row = sqlx::query(
                    "SELECT (SELECT COUNT(*) FROM customers WHERE tenant_id = $1) AS customers,
                            (SELECT COUNT(*) FROM orders WHERE tenant_id = $1) AS orders,
                            (SELECT COUNT(*) FROM contacts WHERE tenant_id = $1) AS contacts,
                            (SELECT COUNT(*) FROM kimochi_notes WHERE tenant_id = $1) AS kimochi_notes",
                )
                .bind(tenant.0)
                .fetch_one(self.reader())
                .await?;
                Ok(TenantCounts {
                    customers: row.try_get("customers")?,
                    orders: row.try_get("orders")?,
                    contacts: row.try_get("contacts")?,
                    kimochi_notes: row.try_get("kimochi_notes")?,
                })
            }

            async fn scoring_rows(&self, tenant: TenantId, after: Option<CustomerId>, limit: u32) -> Result<Vec<ScoringRow>> {
                // Each engine has its fastest bulk read: `scoring_page` in sqlite.rs and postgres.rs.
                self.scoring_page(tenant, after.map_or(i64::MIN, |id| id.0), i64::MAX, limit).await
            }

            async fn scoring_rows_up_to(
                &self,
                tenant: TenantId,
                after: Option<CustomerId>,
                up_to: CustomerId,
                limit: u32,
            ) -> Result<Vec<ScoringRow>> {
                self.scoring_page(tenant, after.map_or(i64::MIN, |id| id.0), up_to.0, limit).await
            }

            async fn customer_id_bounds(&self, tenant: TenantId) -> Result<Option<(CustomerId, CustomerId)>> {
                let (low, high): (Option<i64>, Option<i64>) =
                    sqlx::query_as("SELECT MIN(id), MAX(id) FROM customers WHERE tenant_id = $1")
                        .bind(tenant.0)
                        .fetch_one(self.reader())
                        .await?;
                Ok(low.zip(high).map(|(low, high)| (CustomerId(low), CustomerId(high))))
            }

            async fn scores_replace(
                &self,
                tenant: TenantId,
                mut batches: tokio::sync::mpsc::Receiver<ScoreBatch>,
            ) -> Result<u64> {
                // Each engine replaces in its fastest way inside the one transaction: see
                // `replace_scores_*` in postgres.rs and sqlite.rs. Dropping `tx` on any early
                // return rolls everything back.
                let mut tx = self.writer().begin().await?;
                Self::replace_scores_start(&mut tx, tenant).await?;
                let mut previous = i64::MIN;
                let mut written = 0_u64;
                loop {
                    match batches.recv().await {
                        Some(ScoreBatch::Scores(scores)) => {
                            let after = previous;
                            for score in &scores {
                                if score.customer_id.0 <= previous {
                                    return Err(StoreError::Invalid(ValidationError::new(
                                        "customer_id",
                                        &score.customer_id.0.to_string(),
                                        "scores must come in increasing customer id order, each customer once",
                                    )));
                                }
                                previous = score.customer_id.0;
                            }
                            written += scores.len() as u64;
                            if !scores.is_empty() {
                                Self::replace_score_rows(&mut tx, tenant, after, &scores).await?;
                            }
                        }
                        Some(ScoreBatch::End) => break,
                        None => return Err(StoreError::Incomplete("the customer scores")),
                    }
                }
                Self::replace_scores_finish(&mut tx, tenant, previous).await?;
                tx.commit().await?;
                Ok(written)
            }

            async fn scores_write(&self, tenant: TenantId, scores: &[CustomerScore]) -> Result<()> {
                // Each engine has its fastest bulk path (COPY on PostgreSQL, multi-row VALUES on
                // SQLite): see `write_score_rows` in postgres.rs and sqlite.rs.
                let mut tx = self.writer().begin().await?;
                Self::write_score_rows(&mut tx, tenant, scores).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn score_run_record(
                &self,
                tenant: TenantId,
                as_of: time::Date,
                scored_at: OffsetDateTime,
                customers: i64,
                summary: &str,
            ) -> Result<ScoreRun> {
                let row = sqlx::query(
                    "INSERT INTO score_runs (tenant_id, as_of, scored_at, customers, summary) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(tenant.0)
                .bind(datetime::format_date(as_of))
                .bind(unix(scored_at))
                .bind(customers)
                .bind(summary)
                .fetch_one(self.writer())
                .await?;
                Ok(ScoreRun { id: row.try_get("id")?, as_of, scored_at, customers, summary: summary.to_owned() })
            }

            async fn score_run_latest(&self, tenant: TenantId) -> Result<Option<ScoreRun>> {
                let row = sqlx::query(
                    "SELECT id, as_of, scored_at, customers, summary FROM score_runs WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1",
                )
                .bind(tenant.0)
                .fetch_optional(self.reader())
                .await?;
                let Some(row) = row else { return Ok(None) };
                let as_of: String = row.try_get("as_of")?;
                Ok(Some(ScoreRun {
                    id: row.try_get("id")?,
                    as_of: datetime::parse_date("as_of", &as_of).or_else(|_| corrupt("as_of", &as_of))?,
                    scored_at: at(row.try_get("scored_at")?),
                    customers: row.try_get("customers")?,
                    summary: row.try_get("summary")?,
                }))
            }

            async fn customer_score(&self, tenant: TenantId, id: CustomerId) -> Result<Option<CustomerScore>> {
                let sql = format!(
                    "SELECT {} FROM customer_scores WHERE tenant_id = $1 AND customer_id = $2",
                    crate::scores::SCORE_COLUMNS.join(", ")
                );
                let row = sqlx::query(&sql).bind(tenant.0).bind(id.0).fetch_optional(self.reader()).await?;
                let Some(row) = row else { return Ok(None) };
                score_from_row(&row).map(Some)
            }

            async fn scores_by_cell(
                &self,
                tenant: TenantId,
                rfm_cell: u16,
                after: Option<CustomerId>,
                limit: u32,
            ) -> Result<Vec<(CustomerSummary, CustomerScore)>> {
                // Score and customer column names do not collide, so both sets are read by name.
                // The walk follows the (tenant_id, rfm_cell) index in customer id order.
                let score_columns: Vec<String> =
                    crate::scores::SCORE_COLUMNS.iter().map(|column| format!("sc.{column}")).collect();
                let sql = format!(
                    "SELECT {CUSTOMER_COLUMNS}, s.last_contact_at, {} FROM customer_scores sc
                     JOIN customers c ON c.tenant_id = sc.tenant_id AND c.id = sc.customer_id
                     LEFT JOIN customer_stats s ON s.tenant_id = c.tenant_id AND s.customer_id = c.id
                     WHERE sc.tenant_id = $1 AND sc.rfm_cell = $2 AND sc.customer_id > $3
                     ORDER BY sc.customer_id LIMIT $4",
                    score_columns.join(", ")
                );
                let rows = sqlx::query(&sql)
                    .bind(tenant.0)
                    .bind(i64::from(rfm_cell))
                    .bind(after.map_or(0, |id| id.0))
                    .bind(i64::from(limit.clamp(1, 10_000)))
                    .fetch_all(self.reader())
                    .await?;
                rows.iter()
                    .map(|row| {
                        let customer = customer_from_row(row)?;
                        let summary = CustomerSummary {
                            id: customer.id,
                            external_id: customer.profile.external_id,
                            name: customer.profile.name,
                            kana: customer.profile.kana,
                            phones: customer.profile.phones,
                            emails: customer.profile.emails,
                            prefecture: customer.profile.prefecture,
                            birth_date: customer.profile.birth_date,
                            last_contact_at: optional_at(row.try_get("last_contact_at")?),
                        };
                        Ok((summary, score_from_row(row)?))
                    })
                    .collect()
            }

            async fn voc_texts(
                &self,
                tenant: TenantId,
                which: VocContacts,
                period: VocPeriod,
                after: Option<ContactId>,
                limit: u32,
            ) -> Result<Vec<VocText>> {
                let sql = match which {
                    VocContacts::SalesOutcomes => crate::voc::SALES_TEXTS,
                    VocContacts::Inbound => crate::voc::INBOUND_TEXTS,
                    VocContacts::Subscribed => crate::voc::SUBSCRIBED_TEXTS,
                };
                let rows = sqlx::query(sql)
                    .bind(tenant.0)
                    .bind(after.map_or(0, |id| id.0))
                    .bind(unix(period.from))
                    .bind(unix(period.to))
                    .bind(i64::from(limit.clamp(1, 10_000)))
                    .fetch_all(self.reader())
                    .await?;
                rows.iter()
                    .map(|row| {
                        Ok(VocText {
                            id: ContactId(row.try_get("id")?),
                            customer_id: CustomerId(row.try_get("customer_id")?),
                            started_at: at(row.try_get("started_at")?),
                            outcome: optional_vocab("outcome", row.try_get("outcome")?, Outcome::from_code)?,
                            text: row.try_get("text")?,
                        })
                    })
                    .collect()
            }

            async fn voc_subscribers(
                &self,
                tenant: TenantId,
                after: Option<CustomerId>,
                limit: u32,
            ) -> Result<Vec<SubscriberOutcome>> {
                let rows = sqlx::query(crate::voc::SUBSCRIBERS)
                    .bind(tenant.0)
                    .bind(after.map_or(0, |id| id.0))
                    .bind(i64::from(limit.clamp(1, 10_000)))
                    .fetch_all(self.reader())
                    .await?;
                rows.iter()
                    .map(|row| {
                        let deliveries: i64 = row.try_get("subscription_orders")?;
                        Ok(SubscriberOutcome {
                            customer_id: CustomerId(row.try_get("customer_id")?),
                            deliveries: u32::try_from(deliveries).unwrap_or(u32::MAX),
                            churned: row.try_get::<i64, _>("churned")? != 0,
                        })
                    })
                    .collect()
            }

            async fn voc_reason_days(&self, tenant: TenantId, period: VocPeriod, limit: u32) -> Result<Vec<ReasonDayCount>> {
                let rows = sqlx::query(crate::voc::REASON_DAYS)
                    .bind(tenant.0)
                    .bind(unix(period.from))
                    .bind(unix(period.to))
                    .bind(i64::from(limit.max(1)))
                    .fetch_all(self.reader())
                    .await?;
                rows.iter()
                    .map(|row| {
                        Ok(ReasonDayCount {
                            reason: row.try_get("reason")?,
                            day: crate::voc::day_from_number(row.try_get("day")?)?,
                            contacts: row.try_get("contacts")?,
                        })
                    })
                    .collect()
            }

            // --- email (issue 6) --- SQL in `email.rs`.
            async fn email_enqueue(&self, tenant: TenantId, emails: &[NewEmail], now: OffsetDateTime) -> Result<Vec<EmailMessageId>> {
                sql_email_enqueue(self.writer(), tenant, emails, now).await
            }
            async fn email_get(&self, tenant: TenantId, id: EmailMessageId) -> Result<EmailMessage> {
                sql_email_get(self.reader(), tenant, id).await
            }
            async fn email_list(&self, tenant: TenantId, query: &EmailQuery) -> Result<Vec<EmailMessage>> {
                sql_email_list(self.reader(), tenant, query).await
            }
            async fn email_claim(&self, now: OffsetDateTime, lease: time::Duration, limit: u32) -> Result<Vec<OutgoingEmail>> {
                sql_email_claim(self.writer(), now, lease, limit).await
            }
            async fn email_finish(&self, tenant: TenantId, id: EmailMessageId, outcome: &EmailSendOutcome) -> Result<()> {
                sql_email_finish(self.writer(), tenant, id, outcome).await
            }
            async fn email_track(&self, token: &str, event: TrackEvent, now: OffsetDateTime) -> Result<TrackResult> {
                sql_email_track(self.writer(), token, event, now).await
            }
            async fn import_events(&self, tenant: TenantId, rows: &[Line<EventImport>], options: ImportOptions) -> Result<ImportReport> {
                sql_import_events(self.writer(), tenant, rows, options).await
            }
            async fn behavior_event_list(&self, tenant: TenantId, customer: CustomerId, limit: u32) -> Result<Vec<BehaviorEvent>> {
                sql_behavior_event_list(self.reader(), tenant, customer, limit).await
            }
            // --- campaigns (issue 6) ---: SQL in `campaigns.rs`.
            async fn campaign_create(&self, tenant: TenantId, campaign: &NewCampaign, now: OffsetDateTime) -> Result<Campaign> {
                sql_campaign_create(self.writer(), tenant, campaign, now).await
            }
            async fn campaign_list(&self, tenant: TenantId) -> Result<Vec<Campaign>> {
                sql_campaign_list(self.reader(), tenant).await
            }
            async fn campaign_get(&self, tenant: TenantId, id: CampaignId) -> Result<Campaign> {
                sql_campaign_get(self.reader(), tenant, id).await
            }
            async fn campaign_update(&self, tenant: TenantId, id: CampaignId, name: &str, purpose: &str) -> Result<Campaign> {
                sql_campaign_update(self.writer(), tenant, id, name, purpose).await
            }
            async fn campaign_delete(&self, tenant: TenantId, id: CampaignId) -> Result<()> {
                sql_campaign_delete(self.writer(), tenant, id).await
            }
            async fn campaign_members(&self, tenant: TenantId, id: CampaignId, after: Option<CampaignMemberId>, limit: u32) -> Result<Vec<CampaignMember>> {
                sql_campaign_members(self.reader(), tenant, id, after, limit).await
            }
            async fn campaign_run(&self, tenant: TenantId, now: OffsetDateTime) -> Result<CampaignRunReport> {
                sql_campaign_run(self.writer(), tenant, now).await
            }
            async fn campaign_emails_queue(&self, tenant: TenantId, now: OffsetDateTime, limit: u32) -> Result<CampaignEmailsQueued> {
                sql_campaign_emails_queue(self.writer(), tenant, now, limit).await
            }
            async fn campaign_call_next(&self, tenant: TenantId, holder: &str, campaign: Option<CampaignId>, now: OffsetDateTime, lease: time::Duration) -> Result<Option<CallTask>> {
                sql_campaign_call_next(self.writer(), tenant, holder, campaign, now, lease).await
            }
            async fn campaign_call_release(&self, tenant: TenantId, holder: &str) -> Result<()> {
                sql_campaign_call_release(self.writer(), tenant, holder).await
            }
            async fn campaign_call_record(&self, tenant: TenantId, campaign: CampaignId, member: CampaignMemberId, holder: &str, attempt: &CallAttempt) -> Result<CallRecorded> {
                sql_campaign_call_record(self.writer(), tenant, campaign, member, holder, attempt).await
            }
            async fn campaign_results_facts(&self, tenant: TenantId, id: CampaignId, window: time::Duration) -> Result<(Campaign, Vec<CampaignMemberFacts>)> {
                sql_campaign_results_facts(self.reader(), tenant, id, window).await
            }
            // --- segments (issue 6) --- SQL in `segments.rs`.
            async fn segment_count(&self, tenant: TenantId, rule: &SegmentRule, as_of: OffsetDateTime) -> Result<i64> {
                sql_segment_count(self.reader(), tenant, rule, as_of).await
            }
            async fn segment_members(
                &self,
                tenant: TenantId,
                rule: &SegmentRule,
                as_of: OffsetDateTime,
                after: Option<CustomerId>,
                limit: u32,
            ) -> Result<Vec<CustomerId>> {
                sql_segment_members(self.reader(), tenant, rule, as_of, after, limit).await
            }
            async fn segment_member_summaries(
                &self,
                tenant: TenantId,
                rule: &SegmentRule,
                as_of: OffsetDateTime,
                after: Option<CustomerId>,
                limit: u32,
            ) -> Result<Vec<CustomerSummary>> {
                sql_segment_member_summaries(self.reader(), tenant, rule, as_of, after, limit).await
            }
            async fn segment_create(
                &self,
                tenant: TenantId,
                segment: &NewSegment,
                created_by: Option<UserId>,
                now: OffsetDateTime,
            ) -> Result<Segment> {
                sql_segment_create(self.writer(), tenant, segment, created_by, now).await
            }
            async fn segment_update(&self, tenant: TenantId, id: SegmentId, segment: &NewSegment, now: OffsetDateTime) -> Result<Segment> {
                sql_segment_update(self.writer(), tenant, id, segment, now).await
            }
            async fn segment_delete(&self, tenant: TenantId, id: SegmentId) -> Result<()> {
                sql_segment_delete(self.writer(), tenant, id).await
            }
            async fn segment_get(&self, tenant: TenantId, id: SegmentId) -> Result<Segment> {
                sql_segment_get(self.reader(), tenant, id).await
            }
            async fn segment_list(&self, tenant: TenantId) -> Result<Vec<Segment>> {
                sql_segment_list(self.reader(), tenant).await
            }
            // --- hearing points (issue 6) ---: SQL in `hearing.rs`.
            async fn hearing_set_create(&self, tenant: TenantId, set: &kimochi_domain::hearing::NewHearingSet, now: OffsetDateTime) -> Result<kimochi_domain::hearing::HearingSet> {
                sql_hearing_set_create(self.writer(), tenant, set, now).await
            }
            async fn hearing_set_update(&self, tenant: TenantId, id: kimochi_domain::hearing::HearingSetId, set: &kimochi_domain::hearing::NewHearingSet, now: OffsetDateTime) -> Result<kimochi_domain::hearing::HearingSet> {
                sql_hearing_set_update(self.writer(), tenant, id, set, now).await
            }
            async fn hearing_set_delete(&self, tenant: TenantId, id: kimochi_domain::hearing::HearingSetId) -> Result<()> {
                sql_hearing_set_delete(self.writer(), tenant, id).await
            }
            async fn hearing_set_get(&self, tenant: TenantId, id: kimochi_domain::hearing::HearingSetId) -> Result<kimochi_domain::hearing::HearingSet> {
                sql_hearing_set_get(self.reader(), tenant, id).await
            }
            async fn hearing_set_list(&self, tenant: TenantId) -> Result<Vec<kimochi_domain::hearing::HearingSet>> {
                sql_hearing_set_list(self.reader(), tenant).await
            }
            async fn hearing_set_default_inbound(&self, tenant: TenantId) -> Result<Option<kimochi_domain::hearing::HearingSet>> {
                sql_hearing_set_default_inbound(self.reader(), tenant).await
            }
            async fn contact_create_with_hearing(&self, tenant: TenantId, contact: &NewContact, capture: &kimochi_domain::hearing::HearingCapture) -> Result<(Contact, Vec<kimochi_domain::hearing::HearingAnswer>)> {
                sql_contact_create_with_hearing(self.writer(), tenant, contact, capture).await
            }
            async fn hearing_answers_of_contact(&self, tenant: TenantId, contact: ContactId) -> Result<Vec<kimochi_domain::hearing::HearingAnswer>> {
                sql_hearing_answers_of_contact(self.reader(), tenant, contact).await
            }
            async fn hearing_soft_facts(&self, tenant: TenantId, customer: CustomerId) -> Result<Vec<kimochi_domain::hearing::SoftFact>> {
                sql_hearing_soft_facts(self.reader(), tenant, customer).await
            }
            async fn hearing_asked_rates(&self, tenant: TenantId, from: OffsetDateTime, to: OffsetDateTime) -> Result<Vec<kimochi_domain::hearing::AskedRate>> {
                sql_hearing_asked_rates(self.reader(), tenant, from, to).await
            }
            async fn prospect_rows(&self, tenant: TenantId, limit: u32) -> Result<Vec<ProspectRow>> {
                sql_prospect_rows(self.reader(), tenant, limit).await
            }
        }

        fn validate_faq(faq: &NewFaq) -> Result<(String, String)> {
            let title = short_text("title", &faq.title).map_err(StoreError::Invalid)?;
            let body = long_text("body", &faq.body).map_err(StoreError::Invalid)?;
            if body.is_empty() {
                return Err(StoreError::Invalid(ValidationError::new("body", "", "is empty")));
            }
            if faq.tags.len() > 50 {
                return Err(StoreError::Invalid(ValidationError::new("tags", "", "at most 50 tags")));
            }
            Ok((title, body))
        }
    };
}

pub(crate) use store_impl;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_classified() {
        assert_eq!(classify_query("０３（１２３４）"), Some(SearchKind::Phone("031234".into())));
        assert_eq!(classify_query("+81 90 1234"), Some(SearchKind::Phone("0901234".into())));
        assert_eq!(classify_query("Taro@Example.jp"), Some(SearchKind::Email("taro@example.jp".into())));
        assert_eq!(
            classify_query("やまだ たろう"),
            Some(SearchKind::Name { key: "ヤマダタロウ".into(), external_id: "やまだ たろう".into() })
        );
        assert_eq!(classify_query("  "), None);
    }
}
