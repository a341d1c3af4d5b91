//! The domain of kimochi: validated newtypes, closed vocabularies and the records a tenant
//! keeps about its customers. Pure: nothing here reads the clock, the disk or the network.

pub mod alert;
pub mod behavior;
pub mod campaign;
pub mod datetime;
pub mod email;
pub mod error;
pub mod hearing;
pub mod ids;
pub mod import;
pub mod mail;
pub mod model;
pub mod normalize;
pub mod phone;
pub mod prefecture;
pub mod score;
pub mod segment;
pub mod settings;
pub mod vocab;

pub use alert::*;
pub use email::Email;
pub use error::ValidationError;
pub use ids::*;
pub use model::*;
pub use phone::PhoneNumber;
pub use score::*;
pub use settings::StageThresholds;
pub use vocab::*;
