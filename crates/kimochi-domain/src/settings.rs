//! Tenant settings an administrator edits (issue 5): the thresholds of the customer stages that
//! `kimochi analyze` applies to the tenant's customers.

use crate::error::ValidationError;

/// A tenant's stage thresholds (the numeric part of the analytics' `StageConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageThresholds {
    /// A customer with purchases is dormant (休眠) once this many days have passed since their
    /// last order.
    pub dormant_after_days: u32,
    /// A subscription is active (定期) while the last subscription order is at most this many
    /// days old.
    pub subscription_active_days: u32,
    /// Main-product orders that make a repeater (リピーター).
    pub repeater_min_main_orders: u32,
}

impl Default for StageThresholds {
    /// The analytics' defaults: a year to dormancy, a month and two weeks for a subscription,
    /// two main-product orders for a repeater.
    fn default() -> StageThresholds {
        StageThresholds { dormant_after_days: 365, subscription_active_days: 45, repeater_min_main_orders: 2 }
    }
}

/// Longest dormancy period accepted: ten years.
pub const MAX_DORMANT_DAYS: u32 = 3650;
/// Longest subscription window accepted: a year (a yearly delivery plus a skipped month).
pub const MAX_SUBSCRIPTION_DAYS: u32 = 400;
/// Most main-product orders a repeater can be asked for.
pub const MAX_REPEATER_ORDERS: u32 = 100;

impl StageThresholds {
    /// Checks every threshold is in its range: at least 1 and at most the maximum above.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let check = |field: &'static str, value: u32, max: u32| {
            if (1..=max).contains(&value) {
                Ok(())
            } else {
                Err(ValidationError::new(field, &value.to_string(), format!("must be between 1 and {max}")))
            }
        };
        check("dormant_after_days", self.dormant_after_days, MAX_DORMANT_DAYS)?;
        check("subscription_active_days", self.subscription_active_days, MAX_SUBSCRIPTION_DAYS)?;
        check("repeater_min_main_orders", self.repeater_min_main_orders, MAX_REPEATER_ORDERS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_ranges_are_checked() {
        assert!(StageThresholds::default().validate().is_ok());
        let zero = StageThresholds { dormant_after_days: 0, ..StageThresholds::default() };
        assert_eq!(zero.validate().unwrap_err().field, "dormant_after_days");
        let long = StageThresholds { subscription_active_days: 401, ..StageThresholds::default() };
        assert_eq!(long.validate().unwrap_err().field, "subscription_active_days");
        let many = StageThresholds { repeater_min_main_orders: 101, ..StageThresholds::default() };
        assert_eq!(many.validate().unwrap_err().field, "repeater_min_main_orders");
        let edge =
            StageThresholds { dormant_after_days: 3650, subscription_active_days: 1, repeater_min_main_orders: 100 };
        assert!(edge.validate().is_ok());
    }
}
