//! Probabilistic customer-lifetime-value (顧客生涯価値) models. For non-contractual customers, who
//! can stop buying without telling us: BG/NBD (and the older Pareto/NBD) for how many purchases
//! a customer will still make, Gamma-Gamma for how much each purchase is worth, and a discounted
//! CLV that combines the two. For subscriptions (定期), where leaving is observed: the
//! shifted-beta-geometric model of a cohort's retention (`sbg.rs`).
//!
//! Everything works on per-customer [`RfmSummary`] values in weeks, built by
//! [`summarize_transactions`] with the calibration end date as a parameter, so the models never
//! read the clock. The conventions (repeat purchases only, same-day purchases merged, time in
//! weeks since the first purchase) are those of Fader, Hardie & Lee (2005) and of the Python
//! `lifetimes` package, which lets the fitted numbers be checked against the published ones.

mod bg_nbd;
mod error;
mod gamma_gamma;
mod optimize;
mod pareto_nbd;
mod sbg;
mod special;
mod summary;
mod value;

pub use bg_nbd::{BgNbdParams, fit_bg_nbd};
pub use error::ClvError;
pub use gamma_gamma::{GammaGammaParams, fit_gamma_gamma};
pub use optimize::{FitConfig, FitReport};
pub use pareto_nbd::{ParetoNbdParams, fit_pareto_nbd};
pub use sbg::{SbgParams, fit_sbg};
pub use summary::{DAYS_PER_WEEK, RfmSummary, Transaction, summarize_purchase_days, summarize_transactions};
pub use value::{DiscountedValueConfig, customer_lifetime_value, expected_purchases_and_value};
