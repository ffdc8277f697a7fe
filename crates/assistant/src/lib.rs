//! The shopping assistant's understanding of what shoppers type, in Korean and English, as plain data the
//! engine can search with: prices as inclusive bounds in minor units (`price`), and the intent with its
//! slots — category, brand, colour, size, where to pick up — carried across turns (`understand`). Pure: no
//! I/O, no catalog access; the engine supplies the catalog's words.

mod asking_to_see;
mod budget;
mod conventions;
mod cues;
mod forms;
mod matching;
pub mod price;
mod shown_questions;
mod stock_cues;
mod talk_cues;
pub mod understand;
mod understood;
pub mod vocabulary;
mod words;

pub use asking_to_see::requests_products;
pub use forms::{chooses_within, fits_device};
pub use matching::{asks, contains_word, content_words, size_for_kind, without_broken_parts};
pub use price::{find as find_price, FoundPrice, PriceBounds};
pub use understand::{understand, understand_after, Pickup, Understood};
pub use vocabulary::{Term, Vocabulary};
pub use words::{names_other_kind, names_other_kind_pair, OTHER_KINDS, PLACE_WORDS};
