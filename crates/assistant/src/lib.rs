//! The shopping assistant's understanding of what shoppers type, in Korean and English, as plain data the
//! engine can search with: prices as inclusive bounds in minor units (`price`). Pure: no I/O, no catalog
//! access; the engine supplies the catalog's words.

pub mod price;

pub use price::{find as find_price, FoundPrice, PriceBounds};
