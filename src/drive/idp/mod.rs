//! IdP adapters: how to get through an identity provider's login and consent.

pub mod authentik;
pub mod form;
