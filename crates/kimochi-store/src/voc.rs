//! The reads behind the voice-of-customer reports (VOC分析): contact texts of a period page by
//! page, and call-reason counts per day. Every read takes the tenant and a period, and is
//! bounded: texts come in pages in id order (a million contacts never sit in memory at once),
//! reason counts are one row per reason and day, capped by the caller's limit.

use kimochi_domain::{ContactId, CustomerId, Outcome};
use time::{Date, OffsetDateTime};

use crate::Result;
use crate::shared::corrupt;

/// A time range `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VocPeriod {
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
}

/// Which contacts' texts a report reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VocContacts {
    /// Outbound contacts that ended in an order (受注) or a lost order (失注): the sales calls
    /// whose words separate lost from won.
    SalesOutcomes,
    /// Contacts the customer started (入電, mail, forms, SNS): what call reasons are about.
    Inbound,
    /// Contacts with subscribers (inbound, and outbound care calls) made while they were subscribed: from their first
    /// subscription delivery up to, not including, their last one. What a subscriber said before
    /// the renewal decision that lost them, never the call that cancelled (it comes after the
    /// last delivery), and the same window for those still subscribed.
    Subscribed,
}

/// One contact's text, with what the reports group it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VocText {
    pub id: ContactId,
    pub customer_id: CustomerId,
    pub started_at: OffsetDateTime,
    pub outcome: Option<Outcome>,
    pub text: String,
}

/// Contacts of one call reason (コールリーズン) on one day in Japan time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonDayCount {
    /// As recorded; `None` when the contact has none.
    pub reason: Option<String>,
    pub day: Date,
    pub contacts: i64,
}

/// Texts of sales outcomes: `$1` tenant, `$2` after id, `$3`/`$4` period, `$5` limit. Paged by id
/// through the `(tenant_id, id)` key, so each page resumes where the last one stopped.
pub(crate) const SALES_TEXTS: &str = "SELECT id, customer_id, started_at, outcome, text FROM contacts
     WHERE tenant_id = $1 AND id > $2 AND started_at >= $3 AND started_at < $4
       AND direction = 'outbound' AND outcome IN ('ordered', 'lost_order')
     ORDER BY id LIMIT $5";

/// Texts of inbound contacts, same parameters as [`SALES_TEXTS`].
pub(crate) const INBOUND_TEXTS: &str = "SELECT id, customer_id, started_at, outcome, text FROM contacts
     WHERE tenant_id = $1 AND id > $2 AND started_at >= $3 AND started_at < $4
       AND direction = 'inbound'
     ORDER BY id LIMIT $5";

/// Texts of subscribers' inbound contacts while subscribed ([`VocContacts::Subscribed`]), same
/// parameters as [`SALES_TEXTS`].
pub(crate) const SUBSCRIBED_TEXTS: &str = "SELECT k.id, k.customer_id, k.started_at, k.outcome, k.text
     FROM contacts k
     JOIN customer_stats s ON s.tenant_id = k.tenant_id AND s.customer_id = k.customer_id
     WHERE k.tenant_id = $1 AND k.id > $2 AND k.started_at >= $3 AND k.started_at < $4
       AND s.subscription_orders > 0
       AND k.started_at >= s.first_subscription_at AND k.started_at < s.last_subscription_at
     ORDER BY k.id LIMIT $5";

/// A current or former subscriber as the latest scores see them: deliveries received and
/// whether they have left (scored in a stage other than subscription).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriberOutcome {
    pub customer_id: CustomerId,
    pub deliveries: u32,
    pub churned: bool,
}

/// Scored subscribers after `$2` in id order: `$1` tenant, `$3` limit.
pub(crate) const SUBSCRIBERS: &str = "SELECT s.customer_id, s.subscription_orders,
       CAST(CASE WHEN c.stage = 'subscription' THEN 0 ELSE 1 END AS BIGINT) AS churned
     FROM customer_stats s
     JOIN customer_scores c ON c.tenant_id = s.tenant_id AND c.customer_id = s.customer_id
     WHERE s.tenant_id = $1 AND s.customer_id > $2 AND s.subscription_orders > 0
     ORDER BY s.customer_id LIMIT $3";

/// Inbound contacts per reason and JST day (Unix seconds + 9 h, integer division on both
/// engines): `$1` tenant, `$2`/`$3` period, `$4` limit.
pub(crate) const REASON_DAYS: &str = "SELECT reason, (started_at + 32400) / 86400 AS day, COUNT(*) AS contacts
     FROM contacts
     WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3 AND direction = 'inbound'
     GROUP BY reason, (started_at + 32400) / 86400
     ORDER BY day, reason
     LIMIT $4";

/// A JST day number (days since 1970-01-01 in Japan) as a date.
pub(crate) fn day_from_number(number: i64) -> Result<Date> {
    let epoch = time::macros::date!(1970 - 01 - 01);
    epoch.checked_add(time::Duration::days(number)).map_or_else(|| corrupt("day", &number.to_string()), Ok)
}
