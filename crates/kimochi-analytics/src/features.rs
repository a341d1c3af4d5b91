//! What scoring knows about one customer: the behavioural figures derived from the purchase
//! aggregates and the kimochi signals heard in their contacts. Churn risk, the loyalty matrix,
//! positive dormants and clustering all read this one record, so they never disagree on a
//! customer's facts.

use kimochi_domain::CustomerId;

use crate::rfm::RfmCell;
use crate::stage::Stage;

/// Counts of what the customer's contacts and kimochi notes said, up to the "as of" date.
///
/// Note kinds come from operators' kimochi notes (`KimochiKind`); the contact counts come from
/// the text engine's tags stored with each contact (zero where a contact was not tagged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KimochiSignals {
    /// Expectation notes (購入動機・期待) captured.
    pub expectation_notes: u32,
    /// Gap notes (期待とのギャップ): an expectation the product did not meet.
    pub gap_notes: u32,
    /// Concern notes (悩み・不安).
    pub concern_notes: u32,
    /// Potential notes (ポテンシャル).
    pub potential_notes: u32,
    /// Contacts whose text was tagged positive overall.
    pub positive_contacts: u32,
    /// Contacts whose text was tagged negative overall.
    pub negative_contacts: u32,
    /// Contacts or notes in which the customer recommends the product to others (推奨・紹介).
    pub advocacy: u32,
    /// Contacts in which the customer said they want to cancel or leave (解約・離反の意向).
    pub churn_intent: u32,
    /// Complaints: contacts escalated or filed under a complaint reason (クレーム・苦情).
    pub complaints: u32,
    /// Contacts that raised a crisis-word alert.
    pub crisis: u32,
}

impl KimochiSignals {
    /// Net emotional tone in [-1, 1]: (positive − negative) over the contacts that carried a
    /// tone, with advocacy counted as positive and complaints, gaps and churn intent as
    /// negative; 0 when nothing was heard.
    pub fn tone(&self) -> f64 {
        let positive = f64::from(self.positive_contacts) + f64::from(self.advocacy);
        let negative = f64::from(self.negative_contacts)
            + f64::from(self.complaints)
            + f64::from(self.gap_notes)
            + f64::from(self.churn_intent);
        let total = positive + negative;
        if total == 0.0 { 0.0 } else { (positive - negative) / total }
    }

    /// Whether anything with a tone was heard at all.
    pub fn heard(&self) -> bool {
        self.positive_contacts
            + self.negative_contacts
            + self.advocacy
            + self.complaints
            + self.gap_notes
            + self.churn_intent
            > 0
    }
}

/// One customer as scoring sees them, as of one date.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerFeatures {
    pub customer: CustomerId,
    pub stage: Stage,
    /// RFM cell among the tenant's purchasing customers; `None` without purchases.
    pub rfm: Option<RfmCell>,
    /// Days since the last purchase; `None` without purchases.
    pub recency_days: Option<i64>,
    /// Distinct purchase days.
    pub purchase_days: u32,
    /// Total spend in yen.
    pub monetary: i64,
    /// Days since the first purchase; `None` without purchases.
    pub tenure_days: Option<i64>,
    /// BG/NBD probability that the customer is still alive (non-contractual view).
    pub p_alive: Option<f64>,
    /// Expected purchases over the scoring horizon.
    pub expected_purchases: Option<f64>,
    /// Discounted customer lifetime value over the horizon, in yen.
    pub clv: Option<f64>,
    /// Whether the customer has an active subscription (stage `Subscription`).
    pub active_subscriber: bool,
    /// Subscription deliveries received so far (the sBG period the subscriber is in).
    pub subscription_orders: u32,
    /// Whether the customer once subscribed and no longer does.
    pub lapsed_subscriber: bool,
    /// The largest number of days a product purchase is past its expected date beyond the
    /// tolerance (positive = overdue); `None` when no product has a cycle.
    pub overdue_days: Option<i64>,
    /// Trailing run of unanswered outbound attempts (no contact or busy).
    pub consecutive_no_contact: u32,
    /// Outbound calls attempted and how many of them reached the customer.
    pub outbound_attempts: u32,
    pub outbound_reached: u32,
    /// Ad medium of acquisition (広告媒体), as stored.
    pub ad_medium: Option<String>,
    pub kimochi: KimochiSignals,
}
