//! Questions 2 and 3, funnels: in the store (passed → dwelled → picked → bought, and the put-back rate)
//! per product, category or zone; on the web (view → cart → checkout → purchase) by segment and device.

use crate::privacy::{self, Cell};
use crate::segments::{Profiles, SegmentBy, Segmenter};
use crate::table::Filter;
use crate::{round4, Kind, Table, Window, NONE};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Where a SKU stands in a store: which gondola's aisle a shopper walks to pass it.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub location: String,
    pub sku: String,
    pub product: String,
    pub category: String,
    pub gondola: u16,
}

/// What the in-store funnel is cut by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FunnelBy {
    #[default]
    Product,
    Category,
    /// The gondola (`gondola:G`).
    Zone,
}

impl FunnelBy {
    pub fn parse(s: &str) -> Option<FunnelBy> {
        Some(match s {
            "product" => FunnelBy::Product,
            "category" => FunnelBy::Category,
            "zone" => FunnelBy::Zone,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct InstoreFunnelQuery {
    pub window: Window,
    pub location: Option<String>,
    pub by: FunnelBy,
    /// A facing dwell this long or longer counts as "dwelled".
    pub min_dwell_ms: i64,
    pub segment: SegmentBy,
    pub k: u32,
}

/// One row of the in-store funnel: store visits reaching each stage (a stage does not require the one
/// before: a shopper may pick without a measured dwell), and units picked and put back.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct InstoreFunnelRow {
    pub location_id: String,
    /// A product id, a category, or `gondola:G`.
    pub key: String,
    pub segment: String,
    pub suppressed: bool,
    /// Visits that walked the aisle where it stands.
    pub passed: Option<u64>,
    /// Visits with a dwell of at least `min_dwell_ms` at its facing.
    pub dwelled: Option<u64>,
    pub picked: Option<u64>,
    pub bought: Option<u64>,
    pub picked_units: Option<i64>,
    pub put_back_units: Option<i64>,
    /// Units put back over units picked.
    pub put_back_rate: Option<f64>,
    #[serde(skip)]
    pub shoppers: u64,
}

impl Cell for InstoreFunnelRow {
    fn shoppers(&self) -> u64 {
        self.shoppers
    }
    fn withhold(&mut self) {
        self.suppressed = true;
        (self.passed, self.dwelled, self.picked, self.bought) = (None, None, None, None);
        (self.picked_units, self.put_back_units, self.put_back_rate) = (None, None, None);
    }
}

#[derive(Default)]
struct Stages {
    passed: HashSet<u32>,
    dwelled: HashSet<u32>,
    picked: HashSet<u32>,
    bought: HashSet<u32>,
    shoppers: HashSet<u32>,
    picked_units: i64,
    put_back_units: i64,
}

/// Answers question 2. `places` says where each SKU stands (from the stores' layouts).
pub fn instore_funnel(
    t: &Table,
    profiles: &Profiles,
    places: &[Place],
    q: &InstoreFunnelQuery,
) -> (Vec<InstoreFunnelRow>, usize) {
    let loc = Filter::new(t, q.location.as_deref());
    let seg = Segmenter::new(t, profiles, q.segment, q.window.utc_offset_min);
    // (location, sku) → the keys it counts under, and (location, gondola) → the keys standing there.
    let mut sku_keys: HashMap<(&str, &str), Vec<String>> = HashMap::new();
    let mut aisle_keys: HashMap<(&str, u16), HashSet<String>> = HashMap::new();
    for p in places {
        let key = match q.by {
            FunnelBy::Product => p.product.clone(),
            FunnelBy::Category => p.category.clone(),
            FunnelBy::Zone => format!("gondola:{}", p.gondola),
        };
        let ks = sku_keys.entry((&p.location, &p.sku)).or_default();
        if !ks.contains(&key) {
            ks.push(key.clone());
        }
        aisle_keys.entry((&p.location, p.gondola)).or_default().insert(key);
    }
    let row_keys = |i: usize| -> Vec<String> {
        let l = t.name(t.location[i]);
        if let Some(ks) = sku_keys.get(&(l, t.name(t.sku[i]))) {
            return ks.clone();
        }
        // A SKU no layout places still counts by product or category.
        match q.by {
            FunnelBy::Product if t.product[i] != NONE => vec![t.name(t.product[i]).to_owned()],
            FunnelBy::Category if t.category[i] != NONE => vec![t.name(t.category[i]).to_owned()],
            _ => vec![],
        }
    };
    let mut cells: BTreeMap<(u32, String, String), Stages> = BTreeMap::new();
    for i in t.rows(&q.window) {
        let l = t.location[i];
        if !loc.matches(l) || l == NONE || t.visit[i] == NONE {
            continue;
        }
        let keys: Vec<String> = match t.kind[i] {
            Kind::Dwell => {
                let zone = t.name(t.zone[i]);
                if let Some(g) =
                    zone.strip_prefix("gondola:").and_then(|r| r.trim_end_matches(":front").parse::<u16>().ok())
                {
                    let ks: Vec<String> =
                        aisle_keys.get(&(t.name(l), g)).map(|s| s.iter().cloned().collect()).unwrap_or_default();
                    let s = seg.label(i);
                    for k in ks {
                        let c = cells.entry((l, k, s.clone())).or_default();
                        c.passed.insert(t.visit[i]);
                        c.shoppers.insert(t.shopper[i]);
                    }
                    continue;
                }
                if !zone.starts_with("facing:") || t.dwell_ms[i] < q.min_dwell_ms {
                    continue;
                }
                row_keys(i)
            }
            Kind::Pick | Kind::PutBack => row_keys(i),
            Kind::Purchase if t.channel[i] != NONE && t.name(t.channel[i]) == "cashierless" => row_keys(i),
            _ => continue,
        };
        let s = seg.label(i);
        for k in keys {
            let c = cells.entry((l, k, s.clone())).or_default();
            c.shoppers.insert(t.shopper[i]);
            match t.kind[i] {
                Kind::Dwell => {
                    c.dwelled.insert(t.visit[i]);
                }
                Kind::Pick => {
                    c.picked.insert(t.visit[i]);
                    c.picked_units += t.qty[i];
                }
                Kind::PutBack => c.put_back_units += t.qty[i],
                _ => {
                    c.bought.insert(t.visit[i]);
                }
            }
        }
    }
    let mut rows: Vec<InstoreFunnelRow> = cells
        .into_iter()
        .map(|((l, key, segment), c)| InstoreFunnelRow {
            location_id: t.name(l).to_owned(),
            key,
            segment,
            suppressed: false,
            passed: Some(c.passed.len() as u64),
            dwelled: Some(c.dwelled.len() as u64),
            picked: Some(c.picked.len() as u64),
            bought: Some(c.bought.len() as u64),
            picked_units: Some(c.picked_units),
            put_back_units: Some(c.put_back_units),
            put_back_rate: (c.picked_units > 0).then(|| round4(c.put_back_units as f64 / c.picked_units as f64)),
            shoppers: c.shoppers.len() as u64,
        })
        .collect();
    let withheld = privacy::suppress(&mut rows, q.k);
    (rows, withheld)
}

#[derive(Debug, Clone, PartialEq)]
pub struct OnlineFunnelQuery {
    pub window: Window,
    pub segment: SegmentBy,
    pub by_device: bool,
    pub k: u32,
}

/// One row of the web funnel: distinct shoppers reaching each stage in the window.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct OnlineFunnelRow {
    /// `mobile`, `desktop`, `app` or `unknown` (when cut by device; a purchase takes the device of the
    /// shopper's last web event before it).
    pub device: Option<String>,
    pub segment: String,
    pub suppressed: bool,
    pub viewed: Option<u64>,
    pub carted: Option<u64>,
    pub checked_out: Option<u64>,
    /// Shoppers with a web order (delivery or click & collect).
    pub purchased: Option<u64>,
    pub view_to_cart: Option<f64>,
    pub cart_to_checkout: Option<f64>,
    pub checkout_to_purchase: Option<f64>,
    #[serde(skip)]
    pub shoppers: u64,
}

impl Cell for OnlineFunnelRow {
    fn shoppers(&self) -> u64 {
        self.shoppers
    }
    fn withhold(&mut self) {
        self.suppressed = true;
        (self.viewed, self.carted, self.checked_out, self.purchased) = (None, None, None, None);
        (self.view_to_cart, self.cart_to_checkout, self.checkout_to_purchase) = (None, None, None);
    }
}

fn rate(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| round4(a as f64 / b as f64))
}

/// Answers question 3.
pub fn online_funnel(t: &Table, profiles: &Profiles, q: &OnlineFunnelQuery) -> (Vec<OnlineFunnelRow>, usize) {
    let seg = Segmenter::new(t, profiles, q.segment, q.window.utc_offset_min);
    let mut last_device: HashMap<u32, u32> = HashMap::new();
    let mut cells: BTreeMap<(Option<String>, String), [HashSet<u32>; 5]> = BTreeMap::new();
    for i in t.rows(&q.window) {
        let stage = match t.kind[i] {
            Kind::View => 0,
            Kind::CartAdd => 1,
            Kind::Checkout => 2,
            Kind::Purchase if matches!(t.name(t.channel[i]), "web" | "click_collect") => 3,
            _ => continue,
        };
        let shopper = t.shopper[i];
        if shopper == NONE {
            continue;
        }
        if stage < 3 && t.device[i] != NONE {
            last_device.insert(shopper, t.device[i]);
        }
        let device = q.by_device.then(|| {
            let d = if stage < 3 { t.device[i] } else { last_device.get(&shopper).copied().unwrap_or(NONE) };
            if d == NONE {
                "unknown".to_owned()
            } else {
                t.name(d).to_owned()
            }
        });
        let c = cells.entry((device, seg.label(i))).or_default();
        c[stage].insert(shopper);
        c[4].insert(shopper);
    }
    let mut rows: Vec<OnlineFunnelRow> = cells
        .into_iter()
        .map(|((device, segment), c)| OnlineFunnelRow {
            device,
            segment,
            suppressed: false,
            viewed: Some(c[0].len() as u64),
            carted: Some(c[1].len() as u64),
            checked_out: Some(c[2].len() as u64),
            purchased: Some(c[3].len() as u64),
            view_to_cart: rate(c[1].len(), c[0].len()),
            cart_to_checkout: rate(c[2].len(), c[1].len()),
            checkout_to_purchase: rate(c[3].len(), c[2].len()),
            shoppers: c[4].len() as u64,
        })
        .collect();
    let withheld = privacy::suppress(&mut rows, q.k);
    (rows, withheld)
}
