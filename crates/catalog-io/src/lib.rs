//! The catalog as data: the product, variant and price types with their validation (`model`), what
//! integrators send (`wire`: products as read can be sent back; partial updates), and the
//! catalog files (`csv`: borderless's own format and Shopify's export), and product media (`media`: 3D models
//! as GLB, checked). Pure: no database, no HTTP.

pub mod csv;
pub mod media;
mod model;
mod wire;

pub use model::*;
pub use wire::{LocalizedIn, PriceIn, ProductIn, ProductPatch, VariantIn, VariantPatch, VariantPatchIn};
