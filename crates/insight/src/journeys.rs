//! Question 4, journeys across channels: showrooming (interest shown in a store, bought online within N
//! days), webrooming (viewed online, bought in a store within N days), and what click & collect shoppers
//! add at the store when they collect.

use crate::privacy::{self, Cell};
use crate::{Kind, Table, Window, NONE};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// How long after a pickup an in-store purchase by the same shopper at the same store counts as added.
pub const ADDON_WINDOW_MS: i64 = 2 * 3_600_000;

#[derive(Debug, Clone, PartialEq)]
pub struct JourneyQuery {
    /// The window the first step (the store interest, the web view, the pickup) falls in; the second step
    /// may follow up to `within_days` later.
    pub window: Window,
    pub within_days: i64,
    /// A facing dwell this long, or a pick, shows interest in a store.
    pub min_dwell_ms: i64,
    pub k: u32,
}

/// The journeys a row counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Journey {
    Showrooming,
    Webrooming,
    ClickCollectAddon,
}

/// One row: a journey in total (`product_id` none) or for one product.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct JourneyRow {
    pub journey: Journey,
    pub product_id: Option<String>,
    pub suppressed: bool,
    /// Distinct shoppers who made the journey.
    pub shoppers_count: Option<u64>,
    /// (shopper, product) pairs; for add-ons, pickups followed by an in-store purchase.
    pub journeys: Option<u64>,
    /// Units bought at the journey's end.
    pub units: Option<i64>,
    /// Revenue of those purchases by currency (minor units).
    pub revenue_minor: Option<BTreeMap<String, i64>>,
    #[serde(skip)]
    pub shoppers: u64,
}

impl Cell for JourneyRow {
    fn shoppers(&self) -> u64 {
        self.shoppers
    }
    fn withhold(&mut self) {
        self.suppressed = true;
        (self.shoppers_count, self.journeys, self.units, self.revenue_minor) = (None, None, None, None);
    }
}

#[derive(Default)]
struct Acc {
    shoppers: HashSet<u32>,
    pairs: HashSet<(u32, u32)>,
    /// Purchase rows already counted (a purchase ends one journey of a kind however many steps led to it).
    rows: HashSet<usize>,
    units: i64,
    revenue: BTreeMap<String, i64>,
}

impl Acc {
    fn add(&mut self, t: &Table, shopper: u32, pair: (u32, u32), row: usize) {
        self.shoppers.insert(shopper);
        self.pairs.insert(pair);
        if self.rows.insert(row) {
            self.units += i64::from(t.qty[row]);
            *self.revenue.entry(t.name(t.currency.get(row)).to_owned()).or_default() += t.amount[row];
        }
    }
}

fn online(t: &Table, i: usize) -> bool {
    matches!(t.name(t.channel.get(i)), "web" | "click_collect")
}

fn in_store(t: &Table, i: usize) -> bool {
    matches!(t.name(t.channel.get(i)), "pos" | "cashierless")
}

/// Answers question 4: totals per journey, then the products, most journeys first (at most `top` each).
pub fn journeys(t: &Table, q: &JourneyQuery, top: usize) -> (Vec<JourneyRow>, usize) {
    let horizon = q.within_days * 86_400_000;
    // Purchases by (shopper, product), in time order.
    let mut bought: HashMap<(u32, u32), Vec<usize>> = HashMap::new();
    // In-store purchases by (shopper, location), in time order.
    let mut store_buys: HashMap<(u32, u32), Vec<usize>> = HashMap::new();
    // Only purchases from the window's start to its end plus the horizon can end a journey begun in it.
    let reach = Window {
        from_ms: q.window.from_ms,
        to_ms: q.window.to_ms.saturating_add(horizon.max(ADDON_WINDOW_MS) + 1),
        ..q.window
    };
    for i in t.rows(&reach) {
        if t.kind[i] == Kind::Purchase && t.shopper[i] != NONE {
            bought.entry((t.shopper[i], t.product[i])).or_default().push(i);
            if in_store(t, i) {
                store_buys.entry((t.shopper[i], t.location.get(i))).or_default().push(i);
            }
        }
    }
    let mut totals: BTreeMap<Journey, Acc> = BTreeMap::new();
    let mut per_product: BTreeMap<(Journey, u32), Acc> = BTreeMap::new();
    let after = |rows: &Vec<usize>, from: i64, to: i64| -> Vec<usize> {
        let start = rows.partition_point(|&r| t.at[r] < from);
        rows[start..].iter().copied().take_while(|&r| t.at[r] <= to).collect()
    };
    for i in t.rows(&q.window) {
        let (s, p, at) = (t.shopper[i], t.product[i], t.at[i]);
        if s == NONE {
            continue;
        }
        let (journey, ends): (Journey, Vec<usize>) = match t.kind[i] {
            Kind::Dwell | Kind::Pick if p != NONE => {
                if t.kind[i] == Kind::Dwell
                    && (i64::from(t.dwell_ms[i]) < q.min_dwell_ms || !t.name(t.zone.get(i)).starts_with("facing:"))
                {
                    continue;
                }
                let ends = bought.get(&(s, p)).map(|r| after(r, at, at + horizon)).unwrap_or_default();
                (Journey::Showrooming, ends.into_iter().filter(|&r| online(t, r)).collect())
            }
            Kind::View if p != NONE => {
                let ends = bought.get(&(s, p)).map(|r| after(r, at, at + horizon)).unwrap_or_default();
                (Journey::Webrooming, ends.into_iter().filter(|&r| in_store(t, r)).collect())
            }
            Kind::Pickup => {
                let ends = store_buys
                    .get(&(s, t.location.get(i)))
                    .map(|r| after(r, at, at + ADDON_WINDOW_MS))
                    .unwrap_or_default();
                for &r in &ends {
                    totals.entry(Journey::ClickCollectAddon).or_default().add(t, s, (s, t.order[i]), r);
                    per_product.entry((Journey::ClickCollectAddon, t.product[r])).or_default().add(
                        t,
                        s,
                        (s, t.order[i]),
                        r,
                    );
                }
                continue;
            }
            _ => continue,
        };
        for r in ends {
            totals.entry(journey).or_default().add(t, s, (s, p), r);
            per_product.entry((journey, p)).or_default().add(t, s, (s, p), r);
        }
    }
    let row = |journey, product_id, a: &Acc| JourneyRow {
        journey,
        product_id,
        suppressed: false,
        shoppers_count: Some(a.shoppers.len() as u64),
        journeys: Some(a.pairs.len() as u64),
        units: Some(a.units),
        revenue_minor: Some(a.revenue.clone()),
        shoppers: a.shoppers.len() as u64,
    };
    let mut rows: Vec<JourneyRow> = Vec::new();
    for j in [Journey::Showrooming, Journey::Webrooming, Journey::ClickCollectAddon] {
        rows.push(totals.get(&j).map(|a| row(j, None, a)).unwrap_or_else(|| row(j, None, &Acc::default())));
        let mut products: Vec<(&(Journey, u32), &Acc)> = per_product.iter().filter(|((pj, _), _)| *pj == j).collect();
        products.sort_by(|a, b| b.1.pairs.len().cmp(&a.1.pairs.len()).then_with(|| t.name(a.0 .1).cmp(t.name(b.0 .1))));
        for ((_, p), a) in products.into_iter().take(top) {
            rows.push(row(j, Some(t.name(*p).to_owned()), a));
        }
    }
    let withheld = privacy::suppress(&mut rows, q.k);
    (rows, withheld)
}
