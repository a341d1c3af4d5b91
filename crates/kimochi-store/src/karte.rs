//! The karte in one statement: the database assembles the whole document (customer and
//! aggregates, purchases per product, recent orders with lines, contacts, kimochi notes,
//! handover notes) as one JSON value. One statement is one snapshot, so no transaction is
//! needed, and one round trip instead of eight: with sqlx's SQLite driver every statement is a
//! hop to the connection's thread (measured: +31% karte/s on SQLite, +18% on PostgreSQL; see
//! BENCHMARKS.md). The SQL is written once and rendered for each engine's JSON functions.

use kimochi_domain::*;
use serde::Deserialize;

use crate::scores::{SCORE_COLUMNS, ScoreDoc};
use crate::shared::{at, corrupt, optional_at, parse_attributes, parse_birth_date, split_emails, split_phones, vocab};
use crate::{KarteLimits, Result, StoreError};

/// How an engine spells JSON construction.
#[derive(Debug)]
pub(crate) struct JsonDialect {
    /// `json_object` (SQLite) or `json_build_object` (PostgreSQL).
    pub object: &'static str,
    /// Wraps an aggregate of objects into an array that is `[]` when empty.
    pub array: fn(&str) -> String,
    /// Wraps a scalar subquery's JSON so that it nests as JSON, not as a string.
    pub nested: fn(&str) -> String,
    /// Appended to the whole expression to return text.
    pub as_text: &'static str,
    /// Builds a JSON array from values: `json_array` (SQLite) or `json_build_array` (PostgreSQL).
    pub list: &'static str,
}

pub(crate) const SQLITE_JSON: JsonDialect = JsonDialect {
    object: "json_object",
    array: |inner| format!("json_group_array({inner})"),
    nested: |inner| format!("json(({inner}))"),
    as_text: "",
    list: "json_array",
};

pub(crate) const POSTGRES_JSON: JsonDialect = JsonDialect {
    object: "json_build_object",
    array: |inner| format!("COALESCE(json_agg({inner}), '[]'::json)"),
    nested: |inner| format!("({inner})"),
    as_text: "::text",
    list: "json_build_array",
};

fn object(dialect: &JsonDialect, fields: &[(&str, &str)]) -> String {
    let pairs: Vec<String> = fields.iter().map(|(key, expression)| format!("'{key}', {expression}")).collect();
    format!("{}({})", dialect.object, pairs.join(", "))
}

/// The karte statement. Parameters: $1 tenant, $2 customer, $3 orders, $4 contacts, $5 kimochi
/// notes, $6 handover notes (limits).
pub(crate) fn karte_sql(dialect: &JsonDialect) -> String {
    let customer = object(
        dialect,
        &[
            ("id", "c.id"),
            ("external_id", "c.external_id"),
            ("name", "c.name"),
            ("kana", "c.kana"),
            ("birth_date", "c.birth_date"),
            ("gender", "c.gender"),
            ("prefecture", "c.prefecture"),
            ("address", "c.address"),
            ("phones", "c.phones"),
            ("emails", "c.emails"),
            ("consent_phone", "c.consent_phone"),
            ("consent_email", "c.consent_email"),
            ("consent_dm", "c.consent_dm"),
            ("do_not_call", "c.do_not_call"),
            ("ad_medium", "c.ad_medium"),
            ("attributes", "c.attributes"),
            ("created_at", "c.created_at"),
            ("updated_at", "c.updated_at"),
            ("first_order_at", "s.first_order_at"),
            ("last_order_at", "s.last_order_at"),
            ("order_count", "s.order_count"),
            ("total_amount", "s.total_amount"),
            ("last_contact_at", "s.last_contact_at"),
            ("last_outcome", "s.last_outcome"),
            ("consecutive_no_contact", "s.consecutive_no_contact"),
            ("contact_count", "s.contact_count"),
        ],
    );
    let purchase = object(
        dialect,
        &[
            ("product_id", "x.product_id"),
            ("name", "x.name"),
            ("kind", "x.kind"),
            ("order_count", "x.order_count"),
            ("quantity", "x.quantity"),
            ("total_amount", "x.total_amount"),
            ("first_at", "x.first_at"),
            ("last_at", "x.last_at"),
        ],
    );
    let order_line = object(
        dialect,
        &[
            ("id", "o.id"),
            ("external_id", "o.external_id"),
            ("ordered_at", "o.ordered_at"),
            ("channel", "o.channel"),
            ("ad_medium", "o.ad_medium"),
            ("is_subscription", "o.is_subscription"),
            ("total_amount", "o.total_amount"),
            ("line_no", "l.line_no"),
            ("product_id", "l.product_id"),
            ("quantity", "l.quantity"),
            ("amount", "l.amount"),
            ("product_name", "p.name"),
            ("product_kind", "p.kind"),
        ],
    );
    let contact = object(
        dialect,
        &[
            ("id", "k.id"),
            ("external_id", "k.external_id"),
            ("channel", "k.channel"),
            ("direction", "k.direction"),
            ("started_at", "k.started_at"),
            ("ended_at", "k.ended_at"),
            ("agent_id", "k.agent_id"),
            ("reason", "k.reason"),
            ("outcome", "k.outcome"),
            ("text", "k.text"),
            ("thread_id", "COALESCE(k.thread_id, k.id)"),
            ("polarity", "k.polarity"),
            ("kimochi", "k.kimochi"),
            ("crisis", "k.crisis"),
        ],
    );
    let kimochi = object(
        dialect,
        &[
            ("id", "n.id"),
            ("kind", "n.kind"),
            ("text", "n.text"),
            ("captured_by", "n.captured_by"),
            ("captured_at", "n.captured_at"),
            ("contact_id", "n.contact_id"),
            ("product_id", "n.product_id"),
        ],
    );
    let handover = object(
        dialect,
        &[
            ("id", "h.id"),
            ("kind", "h.kind"),
            ("text", "h.text"),
            ("author_id", "h.author_id"),
            ("created_at", "h.created_at"),
        ],
    );
    let score_columns: Vec<(String, String)> =
        SCORE_COLUMNS.iter().map(|column| ((*column).to_owned(), format!("sc.{column}"))).collect();
    let score_fields: Vec<(&str, &str)> =
        score_columns.iter().map(|(key, expression)| (key.as_str(), expression.as_str())).collect();
    let array = dialect.array;
    let nested = dialect.nested;
    let parts = [
        (
            "customer",
            nested(&format!(
                "SELECT {customer} FROM customers c
                 LEFT JOIN customer_stats s ON s.tenant_id = c.tenant_id AND s.customer_id = c.id
                 WHERE c.tenant_id = $1 AND c.id = $2"
            )),
        ),
        (
            "purchases",
            // The customer's orders first, materialised: without table statistics SQLite would
            // otherwise drive the join from all of the tenant's order lines.
            nested(&format!(
                "SELECT {} FROM (
                   WITH o AS MATERIALIZED (SELECT id, tenant_id, ordered_at FROM orders WHERE tenant_id = $1 AND customer_id = $2)
                   SELECT l.product_id, p.name, p.kind, COUNT(DISTINCT o.id) AS order_count,
                          CAST(SUM(l.quantity) AS BIGINT) AS quantity, CAST(SUM(l.amount) AS BIGINT) AS total_amount,
                          MIN(o.ordered_at) AS first_at, MAX(o.ordered_at) AS last_at
                   FROM o
                   JOIN order_lines l ON l.tenant_id = o.tenant_id AND l.order_id = o.id
                   JOIN products p ON p.tenant_id = l.tenant_id AND p.id = l.product_id
                   GROUP BY l.product_id, p.name, p.kind) x",
                array(&purchase)
            )),
        ),
        (
            "orders",
            nested(&format!(
                "SELECT {} FROM (SELECT * FROM orders WHERE tenant_id = $1 AND customer_id = $2
                                 ORDER BY ordered_at DESC, id DESC LIMIT $3) o
                 JOIN order_lines l ON l.tenant_id = o.tenant_id AND l.order_id = o.id
                 JOIN products p ON p.tenant_id = l.tenant_id AND p.id = l.product_id",
                array(&order_line)
            )),
        ),
        (
            "contacts",
            nested(&format!(
                "SELECT {} FROM (SELECT * FROM contacts WHERE tenant_id = $1 AND customer_id = $2
                                 ORDER BY started_at DESC, id DESC LIMIT $4) k",
                array(&contact)
            )),
        ),
        (
            "kimochi",
            nested(&format!(
                "SELECT {} FROM (SELECT * FROM kimochi_notes WHERE tenant_id = $1 AND customer_id = $2
                                 ORDER BY captured_at DESC, id DESC LIMIT $5) n",
                array(&kimochi)
            )),
        ),
        (
            "score",
            nested(&format!(
                "SELECT {} FROM customer_scores sc WHERE sc.tenant_id = $1 AND sc.customer_id = $2",
                object(dialect, &score_fields)
            )),
        ),
        (
            "handover",
            nested(&format!(
                "SELECT {} FROM (SELECT * FROM handover_notes WHERE tenant_id = $1 AND customer_id = $2
                                 ORDER BY created_at DESC, id DESC LIMIT $6) h",
                array(&handover)
            )),
        ),
    ];
    let fields: Vec<(&str, &str)> = parts.iter().map(|(key, sql)| (*key, sql.as_str())).collect();
    format!("SELECT {}{} AS karte", object(dialect, &fields), dialect.as_text)
}

pub(crate) fn limits_as_binds(limits: KarteLimits) -> [i64; 4] {
    [limits.orders, limits.contacts, limits.kimochi_notes, limits.handover_notes].map(i64::from)
}

/// SQLite has no booleans: its JSON says 0/1 where PostgreSQL's says false/true.
pub(crate) fn flag<'de, D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Int(i64),
    }
    Ok(match Flag::deserialize(deserializer)? {
        Flag::Bool(value) => value,
        Flag::Int(value) => value != 0,
    })
}

#[derive(Debug, Deserialize)]
struct KarteDoc {
    customer: Option<CustomerDoc>,
    purchases: Vec<PurchaseDoc>,
    orders: Vec<OrderLineDoc>,
    contacts: Vec<ContactDoc>,
    kimochi: Vec<KimochiDoc>,
    handover: Vec<HandoverDoc>,
    score: Option<ScoreDoc>,
}

#[derive(Debug, Deserialize)]
struct CustomerDoc {
    id: i64,
    external_id: Option<String>,
    name: String,
    kana: Option<String>,
    birth_date: Option<String>,
    gender: String,
    prefecture: Option<String>,
    address: Option<String>,
    phones: String,
    emails: String,
    #[serde(deserialize_with = "flag")]
    consent_phone: bool,
    #[serde(deserialize_with = "flag")]
    consent_email: bool,
    #[serde(deserialize_with = "flag")]
    consent_dm: bool,
    #[serde(deserialize_with = "flag")]
    do_not_call: bool,
    ad_medium: Option<String>,
    attributes: String,
    created_at: i64,
    updated_at: i64,
    first_order_at: Option<i64>,
    last_order_at: Option<i64>,
    order_count: Option<i64>,
    total_amount: Option<i64>,
    last_contact_at: Option<i64>,
    last_outcome: Option<String>,
    consecutive_no_contact: Option<i64>,
    contact_count: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct PurchaseDoc {
    product_id: i64,
    name: String,
    kind: String,
    order_count: i64,
    quantity: i64,
    total_amount: i64,
    first_at: i64,
    last_at: i64,
}

#[derive(Debug, Deserialize)]
struct OrderLineDoc {
    id: i64,
    external_id: Option<String>,
    ordered_at: i64,
    channel: Option<String>,
    ad_medium: Option<String>,
    #[serde(deserialize_with = "flag")]
    is_subscription: bool,
    total_amount: i64,
    line_no: i64,
    product_id: i64,
    quantity: i64,
    amount: i64,
    product_name: String,
    product_kind: String,
}

#[derive(Debug, Deserialize)]
struct ContactDoc {
    id: i64,
    external_id: Option<String>,
    channel: String,
    direction: String,
    started_at: i64,
    ended_at: Option<i64>,
    agent_id: Option<i64>,
    reason: Option<String>,
    outcome: Option<String>,
    text: String,
    thread_id: i64,
    polarity: Option<String>,
    kimochi: String,
    crisis: i64,
}

#[derive(Debug, Deserialize)]
struct KimochiDoc {
    id: i64,
    kind: String,
    text: String,
    captured_by: Option<i64>,
    captured_at: i64,
    contact_id: Option<i64>,
    product_id: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct HandoverDoc {
    id: i64,
    kind: String,
    text: String,
    author_id: Option<i64>,
    created_at: i64,
}

fn external_id(value: Option<String>) -> Result<Option<ExternalId>> {
    value.map(|e| ExternalId::parse(&e).or_else(|_| corrupt("external_id", &e))).transpose()
}

/// Turns the statement's JSON into the karte. Aggregated arrays carry no order in SQL, so every
/// list is sorted here, newest first.
pub(crate) fn karte_from_json(text: Option<String>) -> Result<Karte> {
    let text = text.ok_or(StoreError::NotFound("customer"))?;
    let doc: KarteDoc = serde_json::from_str(&text).or_else(|e| corrupt("karte", &e.to_string()))?;
    let c = doc.customer.ok_or(StoreError::NotFound("customer"))?;
    let customer_id = CustomerId(c.id);
    let customer = Customer {
        id: customer_id,
        profile: CustomerProfile {
            external_id: external_id(c.external_id)?,
            name: c.name,
            kana: c.kana,
            birth_date: parse_birth_date(c.birth_date)?,
            gender: vocab("gender", &c.gender, Gender::from_code)?,
            prefecture: c.prefecture,
            address: c.address,
            phones: split_phones(&c.phones)?,
            emails: split_emails(&c.emails)?,
            consent: Consent { phone: c.consent_phone, email: c.consent_email, dm: c.consent_dm },
            do_not_call: c.do_not_call,
            ad_medium: c.ad_medium,
            attributes: parse_attributes(&c.attributes)?,
        },
        created_at: at(c.created_at),
        updated_at: at(c.updated_at),
    };
    let stats = CustomerStats {
        first_order_at: optional_at(c.first_order_at),
        last_order_at: optional_at(c.last_order_at),
        order_count: c.order_count.unwrap_or(0),
        total_amount: c.total_amount.unwrap_or(0),
        last_contact_at: optional_at(c.last_contact_at),
        last_outcome: c.last_outcome.map(|o| vocab("outcome", &o, Outcome::from_code)).transpose()?,
        consecutive_no_contact: c.consecutive_no_contact.unwrap_or(0),
        contact_count: c.contact_count.unwrap_or(0),
    };
    let mut purchases = doc
        .purchases
        .into_iter()
        .map(|p| {
            Ok(ProductPurchases {
                product_id: ProductId(p.product_id),
                product_name: p.name,
                product_kind: vocab("kind", &p.kind, ProductKind::from_code)?,
                order_count: p.order_count,
                quantity: p.quantity,
                total_amount: p.total_amount,
                first_at: at(p.first_at),
                last_at: at(p.last_at),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    purchases.sort_by(|a, b| b.last_at.cmp(&a.last_at).then(a.product_id.cmp(&b.product_id)));

    let mut lines = doc.orders;
    lines.sort_by(|a, b| b.ordered_at.cmp(&a.ordered_at).then(b.id.cmp(&a.id)).then(a.line_no.cmp(&b.line_no)));
    let mut recent_orders: Vec<Order> = Vec::new();
    for line in lines {
        if recent_orders.last().map(|o| o.id.0) != Some(line.id) {
            recent_orders.push(Order {
                id: OrderId(line.id),
                external_id: external_id(line.external_id)?,
                customer_id,
                ordered_at: at(line.ordered_at),
                channel: line.channel.map(|c| vocab("channel", &c, Channel::from_code)).transpose()?,
                ad_medium: line.ad_medium,
                is_subscription: line.is_subscription,
                total_amount: line.total_amount,
                lines: Vec::new(),
            });
        }
        if let Some(order) = recent_orders.last_mut() {
            order.lines.push(OrderLine {
                product_id: ProductId(line.product_id),
                product_name: line.product_name,
                product_kind: vocab("kind", &line.product_kind, ProductKind::from_code)?,
                quantity: line.quantity,
                amount: line.amount,
            });
        }
    }

    let mut recent_contacts = doc
        .contacts
        .into_iter()
        .map(|k| {
            Ok(Contact {
                id: ContactId(k.id),
                external_id: external_id(k.external_id)?,
                customer_id,
                channel: vocab("channel", &k.channel, Channel::from_code)?,
                direction: vocab("direction", &k.direction, Direction::from_code)?,
                started_at: at(k.started_at),
                ended_at: optional_at(k.ended_at),
                agent_id: k.agent_id.map(UserId),
                reason: k.reason,
                outcome: k.outcome.map(|o| vocab("outcome", &o, Outcome::from_code)).transpose()?,
                text: k.text,
                thread_id: ContactId(k.thread_id),
                tags: crate::shared::contact_tags(k.polarity, k.kimochi, k.crisis)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    recent_contacts.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(b.id.cmp(&a.id)));

    let mut kimochi = doc
        .kimochi
        .into_iter()
        .map(|n| {
            Ok(KimochiNote {
                id: KimochiNoteId(n.id),
                customer_id,
                kind: vocab("kind", &n.kind, KimochiKind::from_code)?,
                text: n.text,
                captured_by: n.captured_by.map(UserId),
                captured_at: at(n.captured_at),
                contact_id: n.contact_id.map(ContactId),
                product_id: n.product_id.map(ProductId),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    kimochi.sort_by(|a, b| b.captured_at.cmp(&a.captured_at).then(b.id.cmp(&a.id)));

    let mut handover_notes = doc
        .handover
        .into_iter()
        .map(|h| {
            Ok(HandoverNote {
                id: HandoverNoteId(h.id),
                customer_id,
                kind: vocab("kind", &h.kind, HandoverKind::from_code)?,
                text: h.text,
                author_id: h.author_id.map(UserId),
                created_at: at(h.created_at),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    handover_notes.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));

    let score = doc.score.map(ScoreDoc::into_score).transpose()?;
    Ok(Karte { customer, stats, purchases, recent_orders, recent_contacts, kimochi, handover_notes, score })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_render_every_part_and_parameter() {
        for (dialect, marker) in [(&SQLITE_JSON, "json_group_array("), (&POSTGRES_JSON, "json_agg(")] {
            let sql = karte_sql(dialect);
            if std::env::var("KIMOCHI_PRINT_SQL").is_ok() {
                println!("{sql};");
            }
            assert!(sql.contains(marker), "{sql}");
            for part in ["'customer'", "'purchases'", "'orders'", "'contacts'", "'kimochi'", "'handover'"] {
                assert!(sql.contains(part), "{part} missing");
            }
            for parameter in ["$1", "$2", "$3", "$4", "$5", "$6"] {
                assert!(sql.contains(parameter), "{parameter} missing");
            }
        }
    }

    #[test]
    fn a_missing_customer_is_not_found() {
        assert!(matches!(karte_from_json(None), Err(StoreError::NotFound("customer"))));
        let empty = r#"{"customer":null,"purchases":[],"orders":[],"contacts":[],"kimochi":[],"handover":[]}"#;
        assert!(matches!(karte_from_json(Some(empty.to_owned())), Err(StoreError::NotFound("customer"))));
    }
}
