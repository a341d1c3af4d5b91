//! Scores of a customer as the scoring run (`kimochi analyze`) left them: what the karte shows
//! and what segments select on. The store keeps them; `kimochi_analytics` computes them.

use time::{Date, OffsetDateTime};

use crate::ids::{CustomerId, ProductId};
use crate::vocab::{ChurnLevel, LoyaltyQuadrant, ProductKind, Stage};

/// One reason that put a customer on the churn list, as an operator reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreReason {
    /// Stable code, e.g. `expectation_gap`, `overdue_cycle`, `low_p_alive`.
    pub code: String,
    /// A Japanese sentence, e.g. 「期待とのギャップあり(解約リスク 3.0倍)」.
    pub text: String,
    /// How much it contributed (a relative risk or a share of the probability; larger first).
    pub weight: f64,
}

/// A product the customer is overdue to rebuy (リピート促進アラート, F15).
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatAlertScore {
    pub product_id: ProductId,
    pub product_name: String,
    pub product_kind: ProductKind,
    /// Typical interval between purchase days of this product.
    pub interval_days: i64,
    pub next_expected: Date,
    /// Days past the expected date (beyond it, not beyond the tolerance).
    pub days_overdue: i64,
}

/// The scores of one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerScore {
    pub customer_id: CustomerId,
    /// The date the scores were computed for.
    pub as_of: Date,
    pub stage: Stage,
    /// RFM cell code 111–555; `None` without purchases.
    pub rfm_cell: Option<u16>,
    pub recency_days: Option<i64>,
    /// BG/NBD probability of being alive (non-contractual customers with purchases).
    pub p_alive: Option<f64>,
    /// Expected purchases over the scoring horizon.
    pub expected_purchases: Option<f64>,
    /// Expected spend per purchase (Gamma-Gamma), in yen.
    pub expected_spend: Option<f64>,
    /// Discounted customer lifetime value over the horizon, in yen.
    pub clv: Option<f64>,
    /// Probability of leaving within the churn horizon.
    pub churn_probability: Option<f64>,
    pub churn_level: Option<ChurnLevel>,
    pub churn_reasons: Vec<ScoreReason>,
    pub loyalty: Option<LoyaltyQuadrant>,
    /// Why the customer is one step from true loyalty (ロイヤル予備軍), if they are.
    pub near_loyal: Option<String>,
    /// A dormant or low-RFM customer whose kimochi is positive (ポジティブ休眠, F13).
    pub positive_dormant: bool,
    /// Customer type (K3) of the latest run: index and the name the run gave it.
    pub cluster: Option<u32>,
    pub cluster_label: Option<String>,
    pub repeat_alerts: Vec<RepeatAlertScore>,
    pub scored_at: OffsetDateTime,
}

/// One scoring run of a tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRun {
    pub id: i64,
    pub as_of: Date,
    pub scored_at: OffsetDateTime,
    pub customers: i64,
    /// JSON document: fitted models, counts per RFM cell and stage, churn drivers, clusters.
    pub summary: String,
}

/// What the store keeps about one customer for scoring, maintained at write time.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringRow {
    pub customer_id: CustomerId,
    pub do_not_call: bool,
    pub consent_phone: bool,
    pub consent_email: bool,
    pub consent_dm: bool,
    pub ad_medium: Option<String>,
    pub first_order_at: Option<OffsetDateTime>,
    pub last_order_at: Option<OffsetDateTime>,
    /// First and last purchase: an order with a positive amount (a free sample is not one).
    pub first_purchase_at: Option<OffsetDateTime>,
    pub last_purchase_at: Option<OffsetDateTime>,
    pub order_count: i64,
    pub total_amount: i64,
    /// Distinct purchase days in Japan time (orders with a positive amount).
    pub purchase_days: i64,
    /// Spend on the first purchase day (total_amount includes free orders, which add 0).
    pub first_day_amount: i64,
    /// Orders holding a line of each kind: sample, trial, main, subscription, other.
    pub sample_orders: i64,
    pub trial_orders: i64,
    pub main_orders: i64,
    pub subscription_kind_orders: i64,
    pub other_orders: i64,
    /// Subscription deliveries.
    pub subscription_orders: i64,
    pub first_subscription_at: Option<OffsetDateTime>,
    pub last_subscription_at: Option<OffsetDateTime>,
    pub consecutive_no_contact: i64,
    pub outbound_attempts: i64,
    pub outbound_reached: i64,
    pub expectation_notes: i64,
    pub gap_notes: i64,
    pub concern_notes: i64,
    pub potential_notes: i64,
    pub positive_contacts: i64,
    pub negative_contacts: i64,
    pub advocacy: i64,
    pub churn_intent: i64,
    pub complaints: i64,
    pub crisis: i64,
    pub products: Vec<ProductScoringRow>,
}

/// One product of one customer, for purchase cycles.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductScoringRow {
    pub product_id: ProductId,
    pub first_order_at: OffsetDateTime,
    pub last_order_at: OffsetDateTime,
    pub purchase_days: i64,
    pub quantity: i64,
}
