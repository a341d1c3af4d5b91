//! How customer scores are kept: the JSON of their list columns (churn reasons, repeat alerts)
//! and the record the karte statement returns. Shared by both engines.

use kimochi_domain::datetime::{format_date, parse_date};
use kimochi_domain::*;
use serde::{Deserialize, Serialize};

use crate::Result;
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
