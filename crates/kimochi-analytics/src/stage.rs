//! Customer stage (顧客ステージ, F11): where a customer stands in the single-product mail-order
//! funnel (sample → trial → main product → repeat → subscription), or outside it, computed from
//! a small purchase summary and the "as of" date.
//!
//! Every customer gets exactly one stage. When several rules match, the first in this order wins:
//!
//! 1. **Excluded** (対象外) — a do-not-contact or blacklisted customer must never land in a
//!    campaign list, whatever they bought, so nothing may override it.
//! 2. **Subscription** (定期) — an active subscriber receives the product on a schedule; calling
//!    them a repeater or a win-back target would send the wrong script. It sits above dormant so
//!    that a tenant setting a dormancy period shorter than its subscription window still never
//!    sees an active subscriber as dormant.
//! 3. **Dormant** (休眠) — a customer who once bought but not for a long time is a win-back
//!    target first, however far along the funnel they had come.
//! 4. **Repeater** (リピーター), 5. **Main product** (本商品購入), 6. **Trial** (トライアル) — the
//!    furthest step of the funnel reached.
//! 7. **Not purchased** (未購入) — no counted purchase: a prospect, or a customer who only
//!    received free samples.

use kimochi_domain::ProductKind;
use time::Date;

pub use kimochi_domain::Stage;

/// Orders of one customer per product kind. An order with lines of two kinds counts once for
/// each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProductKindCounts {
    pub sample: u64,
    pub trial: u64,
    pub main: u64,
    pub subscription: u64,
    pub other: u64,
}

impl ProductKindCounts {
    pub fn get(&self, kind: ProductKind) -> u64 {
        match kind {
            ProductKind::Sample => self.sample,
            ProductKind::Trial => self.trial,
            ProductKind::Main => self.main,
            ProductKind::Subscription => self.subscription,
            ProductKind::Other => self.other,
        }
    }

    /// Adds `orders` orders of `kind`, saturating (a count that large is already "many").
    pub fn add(&mut self, kind: ProductKind, orders: u64) {
        let count = match kind {
            ProductKind::Sample => &mut self.sample,
            ProductKind::Trial => &mut self.trial,
            ProductKind::Main => &mut self.main,
            ProductKind::Subscription => &mut self.subscription,
            ProductKind::Other => &mut self.other,
        };
        *count = count.saturating_add(orders);
    }

    /// Sum of the counts of `kinds`; a kind listed twice counts once.
    fn sum_of(&self, kinds: &[ProductKind]) -> u64 {
        ProductKind::ALL
            .iter()
            .filter(|kind| kinds.contains(kind))
            .fold(0_u64, |sum, &kind| sum.saturating_add(self.get(kind)))
    }
}

/// What the stage of one customer is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StageInput {
    /// Do not contact, blacklisted, or excluded by the tenant for any other reason.
    pub excluded: bool,
    pub orders: ProductKindCounts,
    /// Day of the last order of any kind (a recent sample request also shows the customer is
    /// alive). `None` for a customer without orders.
    pub last_purchase: Option<Date>,
    /// Day of the last subscription order (定期便の最終受注日), `None` if never subscribed.
    pub last_subscription_order: Option<Date>,
}

/// A tenant's stage rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageConfig {
    /// A customer with counted purchases is dormant once this many days have passed since
    /// their last order (at exactly this many days, not one day later). Default 365: most
    /// single-product mail-order tenants call a customer dormant after a year.
    pub dormant_after_days: u32,
    /// A subscription is active while the last subscription order is at most this many days
    /// old. Default 45: a monthly delivery plus two weeks for a skipped or delayed shipment.
    pub subscription_active_days: u32,
    /// Orders of a main kind needed to be a repeater. Default 2. At 0 or 1 every main-product
    /// customer is a repeater.
    pub repeater_min_main_orders: u64,
    /// Kinds whose orders make a trial customer. Default: trial. A tenant whose samples are
    /// sold rather than given away may add sample.
    pub trial_kinds: Vec<ProductKind>,
    /// Kinds whose orders count as main-product orders. Default: main and subscription, so a
    /// subscriber who stopped recently is a repeater (they bought the main product on each
    /// delivery) rather than falling back to a lower stage.
    pub main_kinds: Vec<ProductKind>,
}

impl Default for StageConfig {
    fn default() -> StageConfig {
        StageConfig {
            dormant_after_days: 365,
            subscription_active_days: 45,
            repeater_min_main_orders: 2,
            trial_kinds: vec![ProductKind::Trial],
            main_kinds: vec![ProductKind::Main, ProductKind::Subscription],
        }
    }
}

impl StageConfig {
    /// The defaults with a tenant's own thresholds (set on `/admin/settings`, stored per tenant).
    pub fn with_thresholds(thresholds: &kimochi_domain::StageThresholds) -> StageConfig {
        StageConfig {
            dormant_after_days: thresholds.dormant_after_days,
            subscription_active_days: thresholds.subscription_active_days,
            repeater_min_main_orders: u64::from(thresholds.repeater_min_main_orders),
            ..StageConfig::default()
        }
    }
}

/// The stage of one customer as of `as_of`, by the precedence in the module documentation.
///
/// Dates after `as_of` count as that very day: a customer who bought "in the future" of the
/// date asked about is certainly not dormant. A customer with counted orders but no
/// `last_purchase` cannot be judged dormant and keeps their funnel stage.
pub fn customer_stage(input: &StageInput, as_of: Date, config: &StageConfig) -> Stage {
    let days_since = |date: Date| (as_of - date).whole_days().max(0);

    if input.excluded {
        return Stage::Excluded;
    }
    if input.last_subscription_order.is_some_and(|date| days_since(date) <= i64::from(config.subscription_active_days))
    {
        return Stage::Subscription;
    }

    let main_orders = input.orders.sum_of(&config.main_kinds);
    let trial_orders = input.orders.sum_of(&config.trial_kinds);
    if main_orders == 0 && trial_orders == 0 {
        return Stage::NotPurchased;
    }
    if input.last_purchase.is_some_and(|date| days_since(date) >= i64::from(config.dormant_after_days)) {
        return Stage::Dormant;
    }
    if main_orders >= config.repeater_min_main_orders.max(1) {
        Stage::Repeater
    } else if main_orders > 0 {
        Stage::MainProduct
    } else {
        Stage::Trial
    }
}
