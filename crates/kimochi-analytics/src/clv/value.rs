//! Discounted customer lifetime value (割引後顧客生涯価値) from a BG/NBD purchase forecast and a
//! Gamma-Gamma spend forecast.

use super::bg_nbd::BgNbdParams;
use super::error::ClvError;
use super::gamma_gamma::GammaGammaParams;
use super::summary::RfmSummary;

/// The horizon and discounting of [`customer_lifetime_value`].
#[derive(Debug, Clone, PartialEq)]
pub struct DiscountedValueConfig {
    /// Number of discounting periods in the horizon.
    pub periods: u32,
    /// Length of one period in weeks.
    pub period_length_weeks: f64,
    /// Discount rate per period (0.01 = 1 % per period).
    pub discount_rate: f64,
}

impl Default for DiscountedValueConfig {
    /// Twelve months of 4.345 weeks at 1 % a month, the defaults of `lifetimes`'
    /// `customer_lifetime_value` for weekly data.
    fn default() -> Self {
        Self { periods: 12, period_length_weeks: 4.345, discount_rate: 0.01 }
    }
}

/// Discounted value of the customer's future purchases:
///
/// CLV = Σₖ₌₁ᴺ s · (E[Y(k·L)] − E[Y((k−1)·L)]) / (1 + d)ᵏ
///
/// where E[Y(t)] is the BG/NBD conditional expected number of purchases in the next t weeks,
/// L the period length, d the discount rate per period and s the Gamma-Gamma expected spend per
/// purchase. Purchases expected during period k are discounted as if made at its end, which is
/// what `lifetimes` does, so the numbers are comparable.
pub fn customer_lifetime_value(
    purchases: &BgNbdParams,
    spend: &GammaGammaParams,
    summary: &RfmSummary,
    config: &DiscountedValueConfig,
) -> Result<f64, ClvError> {
    let expected_spend = spend.conditional_expected_average_profit(summary)?;
    Ok(expected_purchases_and_value(purchases, summary, 0.0, Some(expected_spend), config)?.1.unwrap_or(0.0))
}

/// The expected purchases over `horizon` weeks and, given the expected spend per purchase, the
/// discounted value of [`customer_lifetime_value`], from one evaluation of the purchase curve
/// (the scoring of a whole tenant needs both for every customer).
pub fn expected_purchases_and_value(
    purchases: &BgNbdParams,
    summary: &RfmSummary,
    horizon: f64,
    expected_spend: Option<f64>,
    config: &DiscountedValueConfig,
) -> Result<(f64, Option<f64>), ClvError> {
    if !(config.period_length_weeks > 0.0 && config.period_length_weeks.is_finite()) {
        return Err(ClvError::InvalidDiscount("period length must be a positive finite number of weeks"));
    }
    if !(config.discount_rate > -1.0 && config.discount_rate.is_finite()) {
        return Err(ClvError::InvalidDiscount("discount rate must be a finite number above -1"));
    }
    let periods = if expected_spend.is_some() { config.periods as usize } else { 0 };
    // The period ends, then the horizon.
    let mut horizons: Vec<f64> = (1..=periods).map(|period| period as f64 * config.period_length_weeks).collect();
    horizons.push(horizon);
    let mut expected = vec![0.0; horizons.len()];
    purchases.conditional_expected_purchases_curve(summary, &horizons, &mut expected)?;
    let value = expected_spend.map(|spend| {
        let mut value = 0.0;
        let mut expected_so_far = 0.0;
        for (period, &expected_by_period_end) in expected[..periods].iter().enumerate() {
            let discount = (1.0 + config.discount_rate).powi(period as i32 + 1);
            value += spend * (expected_by_period_end - expected_so_far) / discount;
            expected_so_far = expected_by_period_end;
        }
        value
    });
    Ok((expected[periods], value))
}
