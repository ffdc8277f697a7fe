//! The store surface: what shoppers' apps and the storefront call, with no key or a customer session.

mod assistant;
mod carts;
mod catalog;
mod customers;
mod discovery;
mod wallet;

pub use catalog::{list_products, ProductListQ};

use crate::openapi::Api;

pub fn api() -> Api {
    Api::default()
        .merge(catalog::api())
        .merge(carts::api())
        .merge(customers::api())
        .merge(wallet::api())
        .merge(discovery::api())
        .merge(assistant::api())
}
