//! The one validation error of the domain: which field, what value, and why it was refused.

use std::fmt;

/// A value that could not become a domain type. `field` names the field in the caller's terms
/// (`phone`, `ordered_at`), `value` is what was given (truncated for display), `reason` is a
/// short English sentence fragment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    pub field: &'static str,
    pub value: String,
    pub reason: String,
}

impl ValidationError {
    pub fn new(field: &'static str, value: &str, reason: impl Into<String>) -> Self {
        // Hostile input can be megabytes long; an error message must stay readable.
        let value: String = value.chars().take(80).collect();
        ValidationError { field, value, reason: reason.into() }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (value {:?})", self.field, self.reason, self.value)
    }
}
