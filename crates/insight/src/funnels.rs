//! Questions 2 and 3, funnels: in the store (passed → dwelled → picked → bought, and the put-back rate)
//! per product, category or zone; on the web (view → cart → checkout → purchase) by segment and device.

use crate::privacy::{self, Cell};
use crate::segments::{Profiles, SegmentBy, Segmenter};
use crate::table::Filter;
use crate::{round4, Kind, Table, Window, NONE};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

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
    /// Visits that passed the key's aisle(s), and the shoppers there not among `shoppers`.
    passed_count: usize,
    extra_shoppers: usize,
    dwelled: HashSet<u32>,
    picked: HashSet<u32>,
    bought: HashSet<u32>,
    shoppers: HashSet<u32>,
    picked_units: i64,
    put_back_units: i64,
}

/// Names handed out as small numbers.
#[derive(Default)]
struct Names {
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Names {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(s.to_owned());
        self.ids.insert(s.to_owned(), id);
        id
    }
}

/// What a zone is to the funnel: an aisle (its gondola), a facing, or neither.
#[derive(Clone, Copy)]
enum ZoneIs {
    Aisle(u16),
    Facing,
    Other,
}

/// Answers question 2. `places` says where each SKU stands (from the stores' layouts).
pub fn instore_funnel(
    t: &Table,
    profiles: &Profiles,
    places: &[Place],
    q: &InstoreFunnelQuery,
) -> (Vec<InstoreFunnelRow>, usize) {
    let loc = Filter::new(t, q.location.as_deref());
    let mut seg = Segmenter::new(t, profiles, &q.segment, q.window.utc_offset_min);
    let mut keys = Names::default();
    // (location, sku) → the keys it counts under, and (location, gondola) → the keys standing there; by
    // the table's ids (a place no event names cannot count).
    let mut sku_keys: HashMap<(u32, u32), Vec<u32>> = HashMap::new();
    let mut aisle_keys: HashMap<(u32, u16), Vec<u32>> = HashMap::new();
    for p in places {
        let Some(l) = t.dict.get(&p.location) else { continue };
        let key = keys.id(&match q.by {
            FunnelBy::Product => p.product.clone(),
            FunnelBy::Category => p.category.clone(),
            FunnelBy::Zone => format!("gondola:{}", p.gondola),
        });
        if let Some(sku) = t.dict.get(&p.sku) {
            let ks = sku_keys.entry((l, sku)).or_default();
            if !ks.contains(&key) {
                ks.push(key);
            }
        }
        let a = aisle_keys.entry((l, p.gondola)).or_default();
        if !a.contains(&key) {
            a.push(key);
        }
    }
    let mut zones: HashMap<u32, ZoneIs> = HashMap::new();
    let mut cells: HashMap<(u32, u32, u32), Stages> = HashMap::new();
    // Visits and shoppers in each aisle: every key standing there was passed by them (joined at the end,
    // so that a gondola of sixty products costs one set, not sixty).
    let mut aisles: HashMap<(u32, u16, u32), (HashSet<u32>, HashSet<u32>)> = HashMap::new();
    let mut row_keys: Vec<u32> = Vec::new();
    for i in t.rows(&q.window) {
        let l = t.location.get(i);
        if !loc.matches(l) || l == NONE || t.visit[i] == NONE {
            continue;
        }
        let kind = t.kind[i];
        match kind {
            Kind::Dwell => {
                let z = t.zone.get(i);
                let is = *zones.entry(z).or_insert_with(|| {
                    let name = t.name(z);
                    match name.strip_prefix("gondola:").map(|r| r.trim_end_matches(":front").parse::<u16>()) {
                        Some(Ok(g)) => ZoneIs::Aisle(g),
                        _ if name.starts_with("facing:") => ZoneIs::Facing,
                        _ => ZoneIs::Other,
                    }
                });
                match is {
                    ZoneIs::Aisle(g) => {
                        if aisle_keys.contains_key(&(l, g)) {
                            let a = aisles.entry((l, g, seg.label_id(i))).or_default();
                            a.0.insert(t.visit[i]);
                            a.1.insert(t.shopper[i]);
                        }
                        continue;
                    }
                    ZoneIs::Facing if i64::from(t.dwell_ms[i]) >= q.min_dwell_ms => {}
                    _ => continue,
                }
            }
            Kind::Pick | Kind::PutBack => {}
            Kind::Purchase if t.channel.get(i) != NONE && t.name(t.channel.get(i)) == "cashierless" => {}
            _ => continue,
        }
        row_keys.clear();
        match sku_keys.get(&(l, t.sku[i])) {
            Some(ks) => row_keys.extend_from_slice(ks),
            // A SKU no layout places still counts by product or category.
            None => match q.by {
                FunnelBy::Product if t.product[i] != NONE => row_keys.push(keys.id(t.name(t.product[i]))),
                FunnelBy::Category if t.category.get(i) != NONE => row_keys.push(keys.id(t.name(t.category.get(i)))),
                _ => {}
            },
        }
        if row_keys.is_empty() {
            continue;
        }
        let s = seg.label_id(i);
        for &k in &row_keys {
            let c = cells.entry((l, k, s)).or_default();
            c.shoppers.insert(t.shopper[i]);
            match kind {
                Kind::Dwell => {
                    c.dwelled.insert(t.visit[i]);
                }
                Kind::Pick => {
                    c.picked.insert(t.visit[i]);
                    c.picked_units += i64::from(t.qty[i]);
                }
                Kind::PutBack => c.put_back_units += i64::from(t.qty[i]),
                _ => {
                    c.bought.insert(t.visit[i]);
                }
            }
        }
    }
    // Where each key stands: (location, key) → gondolas.
    let mut stands: HashMap<(u32, u32), Vec<u16>> = HashMap::new();
    for (&(l, g), ks) in &aisle_keys {
        for &k in ks {
            stands.entry((l, k)).or_default().push(g);
        }
    }
    for &(l, g, s) in aisles.keys() {
        for &k in &aisle_keys[&(l, g)] {
            cells.entry((l, k, s)).or_default();
        }
    }
    for (&(l, k, s), c) in cells.iter_mut() {
        let gs = stands.get(&(l, k)).map(Vec::as_slice).unwrap_or(&[]);
        let mut here = gs.iter().filter_map(|g| aisles.get(&(l, *g, s)));
        match (here.next(), here.next()) {
            (None, _) => {}
            (Some((visits, shoppers)), None) => {
                c.passed_count = visits.len();
                c.extra_shoppers = shoppers.len();
                c.shoppers.retain(|x| !shoppers.contains(x));
            }
            (Some(first), Some(second)) => {
                let mut visits: HashSet<u32> = first.0.union(&second.0).copied().collect();
                let mut shoppers: HashSet<u32> = first.1.union(&second.1).copied().collect();
                for (v, sh) in here {
                    visits.extend(v);
                    shoppers.extend(sh);
                }
                c.passed_count = visits.len();
                c.extra_shoppers = shoppers.len();
                c.shoppers.retain(|x| !shoppers.contains(x));
            }
        }
    }
    let mut rows: Vec<InstoreFunnelRow> = cells
        .into_iter()
        .map(|((l, key, s), c)| InstoreFunnelRow {
            location_id: t.name(l).to_owned(),
            key: keys.names[key as usize].clone(),
            segment: seg.label_name(s).to_owned(),
            suppressed: false,
            passed: Some(c.passed_count as u64),
            dwelled: Some(c.dwelled.len() as u64),
            picked: Some(c.picked.len() as u64),
            bought: Some(c.bought.len() as u64),
            picked_units: Some(c.picked_units),
            put_back_units: Some(c.put_back_units),
            put_back_rate: (c.picked_units > 0).then(|| round4(c.put_back_units as f64 / c.picked_units as f64)),
            shoppers: (c.shoppers.len() + c.extra_shoppers) as u64,
        })
        .collect();
    rows.sort_by(|a, b| (&a.location_id, &a.key, &a.segment).cmp(&(&b.location_id, &b.key, &b.segment)));
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

/// One row of the web funnel: distinct shoppers reaching each stage in the window, each stage counting
/// only shoppers who also reached every stage before it in the same row (a closed funnel: no stage
/// exceeds the one before, and no rate exceeds 1 — a purchase whose shopper was never seen browsing, an
/// order placed through the API, say, is revenue in the channel mix, not a step of this funnel).
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
    /// Shoppers with a web order (delivery or click & collect) who viewed, carted and checked out first.
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
    let mut seg = Segmenter::new(t, profiles, &q.segment, q.window.utc_offset_min);
    let web = t.dict.get("web");
    let click_collect = t.dict.get("click_collect");
    let mut last_device: HashMap<u32, u32> = HashMap::new();
    // (device id, or u32::MAX when not cut by device; segment) → shoppers at each stage, and all of them.
    let mut cells: HashMap<(u32, u32), [HashSet<u32>; 5]> = HashMap::new();
    for i in t.rows(&q.window) {
        let stage = match t.kind[i] {
            Kind::View => 0,
            Kind::CartAdd => 1,
            Kind::Checkout => 2,
            Kind::Purchase if Some(t.channel.get(i)) == web || Some(t.channel.get(i)) == click_collect => 3,
            _ => continue,
        };
        let shopper = t.shopper[i];
        if shopper == NONE {
            continue;
        }
        if stage < 3 && t.device.get(i) != NONE {
            last_device.insert(shopper, t.device.get(i));
        }
        let device = match q.by_device {
            false => u32::MAX,
            true if stage < 3 => t.device.get(i),
            true => last_device.get(&shopper).copied().unwrap_or(NONE),
        };
        let c = cells.entry((device, seg.label_id(i))).or_default();
        c[stage].insert(shopper);
        c[4].insert(shopper);
    }
    let mut rows: Vec<OnlineFunnelRow> = cells
        .into_iter()
        .map(|(key, c)| {
            // Each stage keeps the shoppers who reached the stages before it.
            let reached =
                |stage: usize| c[stage].iter().filter(|s| c[..stage].iter().all(|before| before.contains(s))).count();
            (key, [reached(0), reached(1), reached(2), reached(3)], c[4].len())
        })
        .map(|((device, s), n, shoppers)| OnlineFunnelRow {
            device: match device {
                u32::MAX => None,
                NONE => Some("unknown".to_owned()),
                d => Some(t.name(d).to_owned()),
            },
            segment: seg.label_name(s).to_owned(),
            suppressed: false,
            viewed: Some(n[0] as u64),
            carted: Some(n[1] as u64),
            checked_out: Some(n[2] as u64),
            purchased: Some(n[3] as u64),
            view_to_cart: rate(n[1], n[0]),
            cart_to_checkout: rate(n[2], n[1]),
            checkout_to_purchase: rate(n[3], n[2]),
            shoppers: shoppers as u64,
        })
        .collect();
    rows.sort_by(|a, b| (&a.device, &a.segment).cmp(&(&b.device, &b.segment)));
    let withheld = privacy::suppress(&mut rows, q.k);
    (rows, withheld)
}
