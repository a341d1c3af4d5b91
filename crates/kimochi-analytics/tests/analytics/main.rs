//! The analytics crate as callers see it, in one test binary (one link): segmentation (RFM,
//! stages, purchase cycles) and the CLV models against the published CDNOW results.

// Tests may panic on the unexpected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod churn;
mod cluster;
mod clv;
mod lifetimes;
mod loyalty;
mod sbg;
mod score;
mod segments;
