//! The admin surface: sellers, staff and integrators with an API key (admin, or staff bound to a location).

mod analytics;
mod assistant;
mod catalog;
mod discovery;
mod instore;
mod inventory;
mod money;
mod orders;
mod platform;

use crate::openapi::Api;

pub fn api() -> Api {
    Api::default()
        .merge(catalog::api())
        .merge(inventory::api())
        .merge(orders::api())
        .merge(money::api())
        .merge(instore::api())
        .merge(platform::api())
        .merge(discovery::api())
        .merge(assistant::api())
        .merge(analytics::api())
}
