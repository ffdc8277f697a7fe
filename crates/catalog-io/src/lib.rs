//! The catalog as data: the product, variant and price types with their validation (`model`), and the
//! catalog files (`csv`: borderless's own format and Shopify's export). Pure: no database, no HTTP.

pub mod csv;
mod model;

pub use model::*;
