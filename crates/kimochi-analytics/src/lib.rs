//! Customer analytics of kimochi: RFM in 125 cells, customer stages, purchase cycles and
//! probabilistic customer-lifetime-value models. Pure: no IO; the "as of" date is a parameter.

pub mod churn;
pub mod cluster;
pub mod clv;
pub mod cohort;
pub mod cycle;
pub mod features;
pub mod lift;
pub mod loyalty;
pub mod potential;
pub mod rfm;
pub mod score;
pub mod stage;
pub mod timeline;
