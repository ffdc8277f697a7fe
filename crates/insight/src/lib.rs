//! Shopper analytics as pure computation: the one event model (`Event`), the columnar `Table` the questions
//! scan, shopper `segments`, and the questions themselves (`dwell`, `funnels`, `journeys`, `sales`), each
//! answer obeying the k-anonymity rule of `privacy`. No I/O: the engine feeds events in and serves answers.
//!
//! Times are epoch milliseconds; hours and days of the week are the retailer's local ones, from a fixed UTC
//! offset (Korea keeps no daylight saving time). A dwell belongs to the hour and day in which it began.

mod column;
pub mod dwell;
pub mod funnels;
pub mod journeys;
pub mod parquet;
pub mod privacy;
pub mod sales;
pub mod segments;
pub mod synth;
mod table;
pub mod time;

pub use privacy::{Cell, DEFAULT_K};
pub use segments::{Profile, Profiles, SegmentBy, SegmentDef};
pub use table::{fits, Dict, Table, NONE};

use serde::{Deserialize, Serialize};

/// What happened. Web events come from the storefront (with the shopper's consent); store events from the
/// cashierless store's sensors; sales from the order pipeline of every channel; stock from the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Kind {
    /// A product page seen on the web.
    View = 0,
    /// A search typed on the web.
    Search = 1,
    /// A product put into a web cart.
    CartAdd = 2,
    /// The web checkout opened.
    Checkout = 3,
    /// One line of an order of any channel (`qty` units for `amount_minor`).
    Purchase = 4,
    /// One returned line (`qty` units, `amount_minor` refunded value at the line's price).
    Return = 5,
    /// A click & collect order handed over at the desk.
    Pickup = 6,
    /// A shopper passed a store's entry gate (`visit` is the visit).
    Entry = 7,
    /// The shopper left the store.
    Exit = 8,
    /// A shopper stood in a zone for `dwell_ms` (zone `gondola:G:front`, or a product's facing
    /// `facing:G-S-P…:SKU`).
    Dwell = 9,
    /// A product taken from a shelf into the virtual cart (`qty` units).
    Pick = 10,
    /// A product put back on a shelf (`qty` units).
    PutBack = 11,
    /// A SKU's available stock at a location fell to zero.
    StockOut = 12,
    /// It came back.
    StockBack = 13,
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::View,
        Kind::Search,
        Kind::CartAdd,
        Kind::Checkout,
        Kind::Purchase,
        Kind::Return,
        Kind::Pickup,
        Kind::Entry,
        Kind::Exit,
        Kind::Dwell,
        Kind::Pick,
        Kind::PutBack,
        Kind::StockOut,
        Kind::StockBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::View => "view",
            Kind::Search => "search",
            Kind::CartAdd => "cart_add",
            Kind::Checkout => "checkout",
            Kind::Purchase => "purchase",
            Kind::Return => "return",
            Kind::Pickup => "pickup",
            Kind::Entry => "entry",
            Kind::Exit => "exit",
            Kind::Dwell => "dwell",
            Kind::Pick => "pick",
            Kind::PutBack => "put_back",
            Kind::StockOut => "stock_out",
            Kind::StockBack => "stock_back",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One event as the engine stores it. `shopper` is whom distinct counts and k-anonymity count: a customer
/// id, or an anonymous web session (`s:` + id); `customer` is set when the shopper is known (segments).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// A key unique to the happening (the same happening delivered twice has the same id).
    pub id: String,
    pub kind: Option<Kind>,
    pub at_ms: i64,
    pub shopper: Option<String>,
    pub customer: Option<String>,
    pub location: Option<String>,
    /// `web`, `click_collect`, `pos` or `cashierless` for sales; `web` for web events.
    pub channel: Option<String>,
    /// `mobile`, `desktop` or `app` for web events.
    pub device: Option<String>,
    pub product: Option<String>,
    pub sku: Option<String>,
    pub category: Option<String>,
    pub zone: Option<String>,
    /// The store visit (cashierless session) or, for web events, the browsing session.
    pub visit: Option<String>,
    pub order: Option<String>,
    pub dwell_ms: i64,
    pub qty: i64,
    pub amount_minor: i64,
    pub currency: Option<String>,
}

/// The window a question looks at: `[from_ms, to_ms)`, and the retailer's UTC offset in minutes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub from_ms: i64,
    pub to_ms: i64,
    pub utc_offset_min: i32,
}

/// Linear-interpolated quantile of sorted values (`q` in 0..=1), as SQL's `quantile_cont`/`percentile_cont`.
pub fn quantile(sorted: &[i64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let frac = pos - lo as f64;
    Some(sorted[lo] as f64 + (sorted[hi] - sorted[lo]) as f64 * frac)
}

/// Rounds to one decimal (answers carry milliseconds and rates at this precision).
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Rounds a rate to four decimals.
pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_sql() {
        assert_eq!(quantile(&[1, 2, 3, 4], 0.5), Some(2.5));
        assert_eq!(quantile(&[10], 0.9), Some(10.0));
        assert_eq!(quantile(&[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9), Some(90.0));
        assert_eq!(quantile(&[1, 2], 0.9), Some(1.9));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn kinds_read_back() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Kind::parse("nope"), None);
    }
}
