//! How customer scores are kept: the JSON of their list columns (churn reasons, repeat alerts)
//! and the record the karte statement returns. Shared by both engines.

use kimochi_domain::datetime::{format_date, parse_date};
use kimochi_domain::*;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::karte::JsonDialect;
use crate::shared::{at, corrupt, vocab};

/// Columns of `customer_scores` in the order [`ScoreDoc`] and the row mappers read them.
pub(crate) const SCORE_COLUMNS: &[&str] = &[
    "customer_id",
    "as_of",
    "stage",
    "rfm_cell",
    "recency_days",
    "p_alive",
    "expected_purchases",
    "expected_spend",
    "clv",
    "churn_probability",
    "churn_level",
    "churn_reasons",
    "loyalty",
    "near_loyal",
    "positive_dormant",
    "cluster",
    "cluster_label",
    "repeat_alerts",
    "scored_at",
];

#[derive(Debug, Serialize, Deserialize)]
struct ReasonJson {
    code: String,
    text: String,
    weight: f64,
}

#[derive(Debug, Serialize, Deserialize)]
struct AlertJson {
    product_id: i64,
    product_name: String,
    product_kind: String,
    interval_days: i64,
    next_expected: String,
    days_overdue: i64,
}

pub(crate) fn reasons_json(reasons: &[ScoreReason]) -> String {
    let list: Vec<ReasonJson> = reasons
        .iter()
        .map(|r| ReasonJson { code: r.code.clone(), text: r.text.clone(), weight: finite_or_zero(r.weight) })
        .collect();
    serde_json::to_string(&list).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn alerts_json(alerts: &[RepeatAlertScore]) -> String {
    let list: Vec<AlertJson> = alerts
        .iter()
        .map(|a| AlertJson {
            product_id: a.product_id.0,
            product_name: a.product_name.clone(),
            product_kind: a.product_kind.code().to_owned(),
            interval_days: a.interval_days,
            next_expected: format_date(a.next_expected),
            days_overdue: a.days_overdue,
        })
        .collect();
    serde_json::to_string(&list).unwrap_or_else(|_| "[]".to_owned())
}

/// JSON has no NaN or infinity; a weight that is not finite is stored as 0.
fn finite_or_zero(value: f64) -> f64 {
    if value.is_finite() { value } else { 0.0 }
}

/// A score column that must be a finite number, or NULL.
pub(crate) fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

fn parse_reasons(text: &str) -> Result<Vec<ScoreReason>> {
    let list: Vec<ReasonJson> = serde_json::from_str(text).or_else(|_| corrupt("churn_reasons", text))?;
    Ok(list.into_iter().map(|r| ScoreReason { code: r.code, text: r.text, weight: r.weight }).collect())
}

fn parse_alerts(text: &str) -> Result<Vec<RepeatAlertScore>> {
    let list: Vec<AlertJson> = serde_json::from_str(text).or_else(|_| corrupt("repeat_alerts", text))?;
    list.into_iter()
        .map(|a| {
            Ok(RepeatAlertScore {
                product_id: ProductId(a.product_id),
                product_name: a.product_name,
                product_kind: vocab("kind", &a.product_kind, ProductKind::from_code)?,
                interval_days: a.interval_days,
                next_expected: parse_date("next_expected", &a.next_expected)
                    .or_else(|_| corrupt("next_expected", &a.next_expected))?,
                days_overdue: a.days_overdue,
            })
        })
        .collect()
}

/// One `customer_scores` row as plain values, from either a row or the karte's JSON.
#[derive(Debug, Deserialize)]
pub(crate) struct ScoreDoc {
    pub customer_id: i64,
    pub as_of: String,
    pub stage: String,
    pub rfm_cell: Option<i64>,
    pub recency_days: Option<i64>,
    pub p_alive: Option<f64>,
    pub expected_purchases: Option<f64>,
    pub expected_spend: Option<f64>,
    pub clv: Option<f64>,
    pub churn_probability: Option<f64>,
    pub churn_level: Option<String>,
    pub churn_reasons: String,
    pub loyalty: Option<String>,
    pub near_loyal: Option<String>,
    #[serde(deserialize_with = "crate::karte::flag")]
    pub positive_dormant: bool,
    pub cluster: Option<i64>,
    pub cluster_label: Option<String>,
    pub repeat_alerts: String,
    pub scored_at: i64,
}

impl ScoreDoc {
    pub(crate) fn into_score(self) -> Result<CustomerScore> {
        let rfm_cell = match self.rfm_cell {
            None => None,
            Some(code) => match u16::try_from(code) {
                Ok(code) if (111..=555).contains(&code) => Some(code),
                _ => return corrupt("rfm_cell", &code.to_string()),
            },
        };
        let cluster = match self.cluster {
            None => None,
            Some(index) => Some(u32::try_from(index).or_else(|_| corrupt("cluster", &index.to_string()))?),
        };
        Ok(CustomerScore {
            customer_id: CustomerId(self.customer_id),
            as_of: parse_date("as_of", &self.as_of).or_else(|_| corrupt("as_of", &self.as_of))?,
            stage: vocab("stage", &self.stage, Stage::from_code)?,
            rfm_cell,
            recency_days: self.recency_days,
            p_alive: self.p_alive,
            expected_purchases: self.expected_purchases,
            expected_spend: self.expected_spend,
            clv: self.clv,
            churn_probability: self.churn_probability,
            churn_level: self.churn_level.map(|c| vocab("churn_level", &c, ChurnLevel::from_code)).transpose()?,
            churn_reasons: parse_reasons(&self.churn_reasons)?,
            loyalty: self.loyalty.map(|c| vocab("loyalty", &c, LoyaltyQuadrant::from_code)).transpose()?,
            near_loyal: self.near_loyal,
            positive_dormant: self.positive_dormant,
            cluster,
            cluster_label: self.cluster_label,
            repeat_alerts: parse_alerts(&self.repeat_alerts)?,
            scored_at: at(self.scored_at),
        })
    }
}

/// Columns of a scoring row, in the order of [`ScoringDoc`]'s fields.
const SCORING_COLUMNS: &[&str] = &[
    "c.id",
    "c.do_not_call",
    "c.consent_phone",
    "c.consent_email",
    "c.consent_dm",
    "c.ad_medium",
    "s.first_order_at",
    "s.last_order_at",
    "s.first_purchase_at",
    "s.last_purchase_at",
    "s.order_count",
    "s.total_amount",
    "s.purchase_days",
    "s.first_day_amount",
    "s.sample_orders",
    "s.trial_orders",
    "s.main_orders",
    "s.subscription_kind_orders",
    "s.other_orders",
    "s.subscription_orders",
    "s.first_subscription_at",
    "s.last_subscription_at",
    "s.consecutive_no_contact",
    "s.outbound_attempts",
    "s.outbound_reached",
    "s.expectation_notes",
    "s.gap_notes",
    "s.concern_notes",
    "s.potential_notes",
    "s.positive_contacts",
    "s.negative_contacts",
    "s.advocacy",
    "s.churn_intent",
    "s.complaints",
    "s.crisis",
];

/// The two statements of a scoring page: customers with their aggregates ($1 tenant, $2 after
/// id, $3 limit, $4 last id of the range) and the products of an id range ($1 tenant, $2..=$3 ids), each returning one JSON
/// array of arrays. One value per page instead of one row per customer: the driver's cost per
/// row (a hop between threads for SQLite) was most of a million-customer run; building and
/// parsing the document costs a fraction of it.
pub(crate) fn scoring_sql(dialect: &JsonDialect) -> (String, String) {
    let row = format!("{}({})", dialect.list, SCORING_COLUMNS.join(", "));
    let customers = format!(
        "SELECT {}{} FROM (SELECT {row} AS r FROM customers c
           LEFT JOIN customer_stats s ON s.tenant_id = c.tenant_id AND s.customer_id = c.id
           WHERE c.tenant_id = $1 AND c.id > $2 AND c.id <= $4 ORDER BY c.id LIMIT $3) page",
        (dialect.array)(&(dialect.nested)("page.r")),
        dialect.as_text
    );
    let products = format!(
        "SELECT {}{} FROM customer_product_stats p
         WHERE p.tenant_id = $1 AND p.customer_id >= $2 AND p.customer_id <= $3",
        (dialect.array)(&format!(
            "{}(p.customer_id, p.product_id, p.first_order_at, p.last_order_at, p.purchase_days, p.quantity)",
            dialect.list
        )),
        dialect.as_text
    );
    (customers, products)
}

/// One scoring row as the page document holds it: an array in [`SCORING_COLUMNS`] order.
#[derive(Debug, Deserialize)]
struct ScoringDoc(
    i64,
    #[serde(deserialize_with = "crate::karte::flag")] bool,
    #[serde(deserialize_with = "crate::karte::flag")] bool,
    #[serde(deserialize_with = "crate::karte::flag")] bool,
    #[serde(deserialize_with = "crate::karte::flag")] bool,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

pub(crate) fn parse_scoring_rows(text: &str) -> Result<Vec<ScoringRow>> {
    let docs: Vec<ScoringDoc> = serde_json::from_str(text).or_else(|e| corrupt("scoring page", &e.to_string()))?;
    let mut rows: Vec<ScoringRow> = docs.into_iter().map(row_from_doc).collect();
    // An aggregate carries no order in SQL.
    rows.sort_unstable_by_key(|row| row.customer_id);
    Ok(rows)
}

fn row_from_doc(d: ScoringDoc) -> ScoringRow {
    let n = |value: Option<i64>| value.unwrap_or(0);
    ScoringRow {
        customer_id: CustomerId(d.0),
        do_not_call: d.1,
        consent_phone: d.2,
        consent_email: d.3,
        consent_dm: d.4,
        ad_medium: d.5,
        first_order_at: d.6.map(at),
        last_order_at: d.7.map(at),
        first_purchase_at: d.8.map(at),
        last_purchase_at: d.9.map(at),
        order_count: n(d.10),
        total_amount: n(d.11),
        purchase_days: n(d.12),
        first_day_amount: n(d.13),
        sample_orders: n(d.14),
        trial_orders: n(d.15),
        main_orders: n(d.16),
        subscription_kind_orders: n(d.17),
        other_orders: n(d.18),
        subscription_orders: n(d.19),
        first_subscription_at: d.20.map(at),
        last_subscription_at: d.21.map(at),
        consecutive_no_contact: n(d.22),
        outbound_attempts: n(d.23),
        outbound_reached: n(d.24),
        expectation_notes: n(d.25),
        gap_notes: n(d.26),
        concern_notes: n(d.27),
        potential_notes: n(d.28),
        positive_contacts: n(d.29),
        negative_contacts: n(d.30),
        advocacy: n(d.31),
        churn_intent: n(d.32),
        complaints: n(d.33),
        crisis: n(d.34),
        products: Vec::new(),
    }
}

/// The customers of a scoring page, `COPY (…) TO STDOUT` on PostgreSQL ($1..$3 of
/// [`scoring_sql`] written into the text: COPY takes no parameters; all three are integers).
pub(crate) fn scoring_copy_sql(tenant: TenantId, after: i64, up_to: i64, limit: u32) -> (String, String) {
    let customers = format!(
        "COPY (SELECT {} FROM customers c
           LEFT JOIN customer_stats s ON s.tenant_id = c.tenant_id AND s.customer_id = c.id
           WHERE c.tenant_id = {} AND c.id > {after} AND c.id <= {up_to} ORDER BY c.id LIMIT {limit}) TO STDOUT",
        SCORING_COLUMNS.join(", "),
        tenant.0
    );
    let products = format!(
        "COPY (SELECT p.customer_id, p.product_id, p.first_order_at, p.last_order_at, p.purchase_days, p.quantity
           FROM customer_product_stats p WHERE p.tenant_id = {} AND p.customer_id >= {{first}} AND p.customer_id <= {{last}}
           ORDER BY p.customer_id, p.product_id) TO STDOUT",
        tenant.0
    );
    (customers, products)
}

/// One field of PostgreSQL's COPY text format: `None` for `\N`, otherwise unescaped.
fn copy_field(field: &[u8]) -> Result<Option<std::borrow::Cow<'_, str>>> {
    if field == b"\\N" {
        return Ok(None);
    }
    let text = std::str::from_utf8(field).or_else(|_| corrupt("copy field", &String::from_utf8_lossy(field)))?;
    if !text.contains('\\') {
        return Ok(Some(std::borrow::Cow::Borrowed(text)));
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('v') => out.push('\u{b}'),
            Some(other) => out.push(other),
            None => return corrupt("copy field", text),
        }
    }
    Ok(Some(std::borrow::Cow::Owned(out)))
}

fn copy_int(field: &[u8]) -> Result<Option<i64>> {
    match copy_field(field)? {
        None => Ok(None),
        Some(text) => text.parse().map(Some).or_else(|_| corrupt("copy integer", &text)),
    }
}

fn copy_flag(field: &[u8]) -> Result<bool> {
    match field {
        b"t" | b"1" => Ok(true),
        b"f" | b"0" => Ok(false),
        other => corrupt("copy boolean", &String::from_utf8_lossy(other)),
    }
}

/// The customers of [`scoring_copy_sql`]'s output, in id order.
pub(crate) fn parse_scoring_copy(data: &[u8]) -> Result<Vec<ScoringRow>> {
    let mut rows = Vec::new();
    for line in data.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
        let fields: Vec<&[u8]> = line.split(|&b| b == b'\t').collect();
        if fields.len() != SCORING_COLUMNS.len() {
            return corrupt("scoring row", &String::from_utf8_lossy(line));
        }
        let mut n = [None; 29];
        for (slot, field) in n.iter_mut().zip(&fields[6..]) {
            *slot = copy_int(field)?;
        }
        let id = copy_int(fields[0])?.map_or_else(|| corrupt("customer id", "null"), Ok)?;
        rows.push(row_from_doc(ScoringDoc(
            id,
            copy_flag(fields[1])?,
            copy_flag(fields[2])?,
            copy_flag(fields[3])?,
            copy_flag(fields[4])?,
            copy_field(fields[5])?.map(|medium| medium.into_owned()),
            n[0],
            n[1],
            n[2],
            n[3],
            n[4],
            n[5],
            n[6],
            n[7],
            n[8],
            n[9],
            n[10],
            n[11],
            n[12],
            n[13],
            n[14],
            n[15],
            n[16],
            n[17],
            n[18],
            n[19],
            n[20],
            n[21],
            n[22],
            n[23],
            n[24],
            n[25],
            n[26],
            n[27],
            n[28],
        )));
    }
    Ok(rows)
}

/// Attaches the product rows of the products COPY (ordered by customer) to their customers.
pub(crate) fn attach_products_copy(rows: &mut [ScoringRow], data: &[u8]) -> Result<()> {
    let mut position = 0;
    for line in data.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
        let fields: Vec<Option<i64>> = line.split(|&b| b == b'\t').map(copy_int).collect::<Result<_>>()?;
        let [Some(customer), Some(product), Some(first), Some(last), Some(days), Some(quantity)] = fields[..] else {
            return corrupt("scoring product row", &String::from_utf8_lossy(line));
        };
        while position < rows.len() && rows[position].customer_id.0 < customer {
            position += 1;
        }
        if let Some(row) = rows.get_mut(position).filter(|row| row.customer_id.0 == customer) {
            row.products.push(ProductScoringRow {
                product_id: ProductId(product),
                first_order_at: at(first),
                last_order_at: at(last),
                purchase_days: days,
                quantity,
            });
        }
    }
    Ok(())
}

/// Attaches each product row of the page document to its customer.
pub(crate) fn attach_products(rows: &mut [ScoringRow], text: &str) -> Result<()> {
    let mut products: Vec<(i64, i64, i64, i64, i64, i64)> =
        serde_json::from_str(text).or_else(|e| corrupt("scoring products", &e.to_string()))?;
    products.sort_unstable_by_key(|p| (p.0, p.1));
    let mut position = 0;
    for (customer, product, first, last, days, quantity) in products {
        while position < rows.len() && rows[position].customer_id.0 < customer {
            position += 1;
        }
        if let Some(row) = rows.get_mut(position).filter(|row| row.customer_id.0 == customer) {
            row.products.push(ProductScoringRow {
                product_id: ProductId(product),
                first_order_at: at(first),
                last_order_at: at(last),
                purchase_days: days,
                quantity,
            });
        }
    }
    Ok(())
}

/// Appends one score as a line of PostgreSQL's COPY text format, in `tenant_id` +
/// [`SCORE_COLUMNS`] order: tab-separated, `\N` for NULL, backslash escapes in text.
pub(crate) fn copy_text_row(out: &mut String, tenant: TenantId, score: &CustomerScore) {
    use std::fmt::Write as _;
    fn text(out: &mut String, value: Option<&str>) {
        match value {
            None => out.push_str("\\N"),
            Some(value) => {
                for c in value.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            }
        }
        out.push('\t');
    }
    fn number<T: std::fmt::Display>(out: &mut String, value: Option<T>) {
        match value {
            // Display of an f64 is its shortest exact decimal form, which PostgreSQL reads back
            // to the same double.
            Some(value) => {
                let _ = write!(out, "{value}");
            }
            None => out.push_str("\\N"),
        }
        out.push('\t');
    }
    number(out, Some(tenant.0));
    number(out, Some(score.customer_id.0));
    text(out, Some(&format_date(score.as_of)));
    text(out, Some(score.stage.code()));
    number(out, score.rfm_cell);
    number(out, score.recency_days);
    number(out, finite(score.p_alive));
    number(out, finite(score.expected_purchases));
    number(out, finite(score.expected_spend));
    number(out, finite(score.clv));
    number(out, finite(score.churn_probability));
    text(out, score.churn_level.map(|level| level.code()));
    text(out, Some(&reasons_json(&score.churn_reasons)));
    text(out, score.loyalty.map(|quadrant| quadrant.code()));
    text(out, score.near_loyal.as_deref());
    number(out, Some(i64::from(score.positive_dormant)));
    number(out, score.cluster);
    text(out, score.cluster_label.as_deref());
    text(out, Some(&alerts_json(&score.repeat_alerts)));
    number(out, Some(kimochi_domain::datetime::to_unix(score.scored_at)));
    // The last field ends the line instead of a tab.
    out.pop();
    out.push('\n');
}
