//! Typed ids. Every id is a plain `i64` in storage; the newtype keeps a `CustomerId` from being
//! passed where an `OrderId` is meant. Ids are only unique *within* a tenant's data as far as
//! callers are concerned: every store call takes the tenant as well.

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

typed_id!(
    /// A client company of the contact center (a BPO serves many); owner of every other row.
    TenantId
);
typed_id!(
    /// A person who logs in: operator, supervisor, analyst or administrator.
    UserId
);
typed_id!(
    /// A team of users (e.g. the loyal-customer line, the outbound care team).
    TeamId
);
typed_id!(
    /// An end customer of a tenant.
    CustomerId
);
typed_id!(
    /// A product a tenant sells.
    ProductId
);
typed_id!(
    /// An order (one or more order lines).
    OrderId
);
typed_id!(
    /// One contact (a call, an email, a post …) with a customer.
    ContactId
);
typed_id!(
    /// A kimochi note (キモチデータ) captured about a customer.
    KimochiNoteId
);
typed_id!(
    /// A handover note or caution left by an operator for the next one.
    HandoverNoteId
);
typed_id!(
    /// An FAQ article.
    FaqId
);
typed_id!(
    /// An API token for an integration.
    ApiTokenId
);
