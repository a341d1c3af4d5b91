//! The one error type of the CLV models, worded for the caller who passed the data or parameters.

/// What went wrong while summarising transactions, fitting a model or predicting with it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClvError {
    /// A transaction amount was NaN or infinite; `index` is its position in the input slice.
    #[error("transaction {index}: amount {amount} is not a finite number")]
    NonFiniteAmount { index: usize, amount: f64 },
    /// A customer summary cannot come from real purchases; `index` is its position in the input
    /// slice (0 when a single summary was passed).
    #[error("customer summary {index}: {reason}")]
    InvalidSummary { index: usize, reason: &'static str },
    /// A model parameter was zero, negative or not finite.
    #[error("model parameter {name} must be a positive finite number, got {value}")]
    InvalidParameter { name: &'static str, value: f64 },
    /// There was nobody to fit the model on (for Gamma-Gamma: nobody with a repeat purchase).
    #[error("no customers to fit the model on")]
    NoCustomers,
    /// The log-likelihood could not be evaluated at the starting point of the fit.
    #[error("the log-likelihood is not finite at the starting point of the fit")]
    NonFiniteLikelihood,
    /// A prediction horizon was negative or not finite.
    #[error("prediction horizon must be a non-negative finite number of weeks, got {0}")]
    InvalidHorizon(f64),
    /// The Gaussian hypergeometric series needed by the BG/NBD expectations did not converge,
    /// which happens when the horizon is very long compared with the customer's age.
    #[error("hypergeometric series 2F1({a}, {b}; {c}; {z}) did not converge after {terms} terms")]
    HypergeometricNotConverged { a: f64, b: f64, c: f64, z: f64, terms: usize },
    /// The Gamma-Gamma mean spend is infinite for these parameters (it needs p·x + q > 1).
    #[error("Gamma-Gamma expected spend is undefined for p = {p}, q = {q} and frequency {frequency}")]
    UndefinedExpectedSpend { p: f64, q: f64, frequency: f64 },
    /// The discounting configuration was not usable.
    #[error("discounted value configuration: {0}")]
    InvalidDiscount(&'static str),
    /// A cohort's survivor counts cannot come from one group of subscribers (加入者コホート):
    /// `period` is the index in the counts slice (0 = the cohort at acquisition).
    #[error("cohort survivor count at period {period}: {reason}")]
    InvalidCohort { period: usize, reason: &'static str },
    /// A per-period discount rate was zero, negative or not finite; discounted lifetimes need
    /// d > 0 because the undiscounted expected lifetime is infinite for many sBG parameters.
    #[error("discount rate must be a positive finite number per period, got {0}")]
    InvalidDiscountRate(f64),
}
