//! Questions 5 and 6: store traffic and conversion by hour, the channel mix of revenue by location and day,
//! repeat purchases, and stock-outs with the sales they probably cost.

use crate::privacy::{self, Cell};
use crate::segments::{Profiles, SegmentBy, Segmenter};
use crate::table::Filter;
use crate::{round1, round4, time, Kind, Table, Window, NONE};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One hour of a store: visits through its gates, in-store orders, and how many visits bought.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TrafficRow {
    pub location_id: String,
    /// Local hour of day.
    pub hour: u8,
    pub suppressed: bool,
    /// Visits through an entry gate (stores with gates only).
    pub visits: Option<u64>,
    /// In-store orders (counter and cashierless).
    pub orders: Option<u64>,
    /// Distinct shoppers who bought in the store.
    pub buyers: Option<u64>,
    /// Gated visits that ended in an order (within a day), over gated visits.
    pub conversion: Option<f64>,
    /// Mean units per in-store order.
    pub basket_units: Option<f64>,
    #[serde(skip)]
    pub shoppers: u64,
}

impl Cell for TrafficRow {
    fn shoppers(&self) -> u64 {
        self.shoppers
    }
    fn withhold(&mut self) {
        self.suppressed = true;
        (self.visits, self.orders, self.buyers, self.conversion, self.basket_units) = (None, None, None, None, None);
    }
}

fn in_store(t: &Table, i: usize) -> bool {
    matches!(t.name(t.channel.get(i)), "pos" | "cashierless")
}

/// Answers the traffic half of question 5.
pub fn traffic(t: &Table, w: &Window, location: Option<&str>, k: u32) -> (Vec<TrafficRow>, usize) {
    let loc = Filter::new(t, location);
    // A visit buys when it leaves, within hours of entering: the purchases up to a day after the window.
    let reach = Window { from_ms: w.from_ms, to_ms: w.to_ms.saturating_add(86_400_000), ..*w };
    let buying_visits: HashSet<u32> =
        t.rows(&reach).filter(|&i| t.kind[i] == Kind::Purchase && t.visit[i] != NONE).map(|i| t.visit[i]).collect();
    #[derive(Default)]
    struct Acc {
        visits: HashSet<u32>,
        converted: HashSet<u32>,
        orders: HashMap<u32, i64>,
        buyers: HashSet<u32>,
        shoppers: HashSet<u32>,
    }
    let mut cells: BTreeMap<(u32, u8), Acc> = BTreeMap::new();
    for i in t.rows(w) {
        let l = t.location.get(i);
        if l == NONE || !loc.matches(l) {
            continue;
        }
        let h = time::hour(t.at[i], w.utc_offset_min);
        match t.kind[i] {
            Kind::Entry => {
                let a = cells.entry((l, h)).or_default();
                a.visits.insert(t.visit[i]);
                a.shoppers.insert(t.shopper[i]);
                if buying_visits.contains(&t.visit[i]) {
                    a.converted.insert(t.visit[i]);
                }
            }
            Kind::Purchase if in_store(t, i) => {
                let a = cells.entry((l, h)).or_default();
                *a.orders.entry(t.order[i]).or_default() += i64::from(t.qty[i]);
                a.buyers.insert(t.shopper[i]);
                a.shoppers.insert(t.shopper[i]);
            }
            _ => {}
        }
    }
    let mut rows: Vec<TrafficRow> = cells
        .into_iter()
        .map(|((l, hour), a)| TrafficRow {
            location_id: t.name(l).to_owned(),
            hour,
            suppressed: false,
            visits: Some(a.visits.len() as u64),
            orders: Some(a.orders.len() as u64),
            buyers: Some(a.buyers.len() as u64),
            conversion: (!a.visits.is_empty()).then(|| round4(a.converted.len() as f64 / a.visits.len() as f64)),
            basket_units: (!a.orders.is_empty())
                .then(|| round1(a.orders.values().sum::<i64>() as f64 / a.orders.len() as f64)),
            shoppers: a.shoppers.len() as u64,
        })
        .collect();
    let withheld = privacy::suppress(&mut rows, k);
    (rows, withheld)
}

/// Revenue of one channel at one location on one local day, in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ChannelMixRow {
    pub location_id: String,
    /// Local date `YYYY-MM-DD`.
    pub date: String,
    /// `web`, `click_collect`, `pos` or `cashierless`.
    pub channel: String,
    pub currency: String,
    pub suppressed: bool,
    pub orders: Option<u64>,
    pub units: Option<i64>,
    pub revenue_minor: Option<i64>,
    /// Value of the units returned that day from this channel's orders (at their price).
    pub returned_minor: Option<i64>,
    /// This channel's share of the location's revenue that day in this currency.
    pub share: Option<f64>,
    #[serde(skip)]
    pub shoppers: u64,
}

impl Cell for ChannelMixRow {
    fn shoppers(&self) -> u64 {
        self.shoppers
    }
    fn withhold(&mut self) {
        self.suppressed = true;
        (self.orders, self.units, self.revenue_minor, self.returned_minor, self.share) = (None, None, None, None, None);
    }
}

/// Answers the channel-mix half of question 5. Web orders delivered from a warehouse count at the
/// location that ships them.
pub fn channel_mix(t: &Table, w: &Window, location: Option<&str>, k: u32) -> (Vec<ChannelMixRow>, usize) {
    let loc = Filter::new(t, location);
    #[derive(Default)]
    struct Acc {
        orders: HashSet<u32>,
        units: i64,
        revenue: i64,
        returned: i64,
        shoppers: HashSet<u32>,
    }
    let mut cells: BTreeMap<(u32, String, u32, u32), Acc> = BTreeMap::new();
    for i in t.rows(w) {
        let l = t.location.get(i);
        if l == NONE || !loc.matches(l) || !matches!(t.kind[i], Kind::Purchase | Kind::Return) {
            continue;
        }
        let a =
            cells.entry((l, time::date(t.at[i], w.utc_offset_min), t.channel.get(i), t.currency.get(i))).or_default();
        a.shoppers.insert(t.shopper[i]);
        if t.kind[i] == Kind::Purchase {
            a.orders.insert(t.order[i]);
            a.units += i64::from(t.qty[i]);
            a.revenue += t.amount[i];
        } else {
            a.returned += t.amount[i];
        }
    }
    let mut day_totals: HashMap<(u32, String, u32), i64> = HashMap::new();
    for ((l, d, _, cur), a) in &cells {
        *day_totals.entry((*l, d.clone(), *cur)).or_default() += a.revenue;
    }
    let mut rows: Vec<ChannelMixRow> = cells
        .into_iter()
        .map(|((l, date, ch, cur), a)| {
            let total = day_totals.get(&(l, date.clone(), cur)).copied().unwrap_or(0);
            ChannelMixRow {
                location_id: t.name(l).to_owned(),
                date,
                channel: t.name(ch).to_owned(),
                currency: t.name(cur).to_owned(),
                suppressed: false,
                orders: Some(a.orders.len() as u64),
                units: Some(a.units),
                revenue_minor: Some(a.revenue),
                returned_minor: Some(a.returned),
                share: (total > 0).then(|| round4(a.revenue as f64 / total as f64)),
                shoppers: a.shoppers.len() as u64,
            }
        })
        .collect();
    let withheld = privacy::suppress(&mut rows, k);
    (rows, withheld)
}

/// Shoppers who bought in the window, and those who bought more than once.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RepeatRow {
    pub segment: String,
    pub suppressed: bool,
    pub buyers: Option<u64>,
    pub repeat_buyers: Option<u64>,
    pub repeat_rate: Option<f64>,
    #[serde(skip)]
    pub shoppers: u64,
}

impl Cell for RepeatRow {
    fn shoppers(&self) -> u64 {
        self.shoppers
    }
    fn withhold(&mut self) {
        self.suppressed = true;
        (self.buyers, self.repeat_buyers, self.repeat_rate) = (None, None, None);
    }
}

/// Repeat purchases of known customers (anonymous orders cannot repeat), by the segment of each
/// shopper's first order in the window.
pub fn repeat(t: &Table, profiles: &Profiles, w: &Window, segment: SegmentBy, k: u32) -> (Vec<RepeatRow>, usize) {
    let seg = Segmenter::new(t, profiles, &segment, w.utc_offset_min);
    let mut orders: HashMap<u32, (String, HashSet<u32>)> = HashMap::new();
    for i in t.rows(w) {
        if t.kind[i] == Kind::Purchase && t.customer(i) != NONE {
            orders.entry(t.customer(i)).or_insert_with(|| (seg.label(i), HashSet::new())).1.insert(t.order[i]);
        }
    }
    let mut cells: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (label, os) in orders.into_values() {
        let c = cells.entry(label).or_default();
        c.0 += 1;
        if os.len() > 1 {
            c.1 += 1;
        }
    }
    let mut rows: Vec<RepeatRow> = cells
        .into_iter()
        .map(|(segment, (b, r))| RepeatRow {
            segment,
            suppressed: false,
            buyers: Some(b),
            repeat_buyers: Some(r),
            repeat_rate: (b > 0).then(|| round4(r as f64 / b as f64)),
            shoppers: b,
        })
        .collect();
    let withheld = privacy::suppress(&mut rows, k);
    (rows, withheld)
}

/// How long a SKU was out of stock at a location in the window, and the sales that probably cost.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StockOutRow {
    pub location_id: String,
    pub sku: String,
    /// Times it ran out in the window (an outage begun before the window counts once).
    pub episodes: u64,
    /// Time out of stock within the window.
    pub out_ms: i64,
    /// Out at the window's end.
    pub out_now: bool,
    /// Units sold per in-stock hour at this location in the window.
    pub sold_per_hour: f64,
    /// Estimated units lost: out-of-stock hours × the in-stock rate.
    pub lost_units: f64,
    /// Estimated revenue lost at the mean price paid (by currency of those sales).
    pub lost_minor: BTreeMap<String, i64>,
}

/// Answers question 6 (stock is not shopper data: no k applies), longest outages first.
pub fn stockouts(t: &Table, w: &Window, location: Option<&str>) -> Vec<StockOutRow> {
    let loc = Filter::new(t, location);
    // State at the window's start: out since when.
    let mut out_since: HashMap<(u32, u32), Option<i64>> = HashMap::new();
    let mut episodes: HashMap<(u32, u32), (u64, i64)> = HashMap::new();
    let range = t.rows(w);
    for i in 0..range.end {
        let key = (t.location.get(i), t.sku[i]);
        if !loc.matches(key.0) || !matches!(t.kind[i], Kind::StockOut | Kind::StockBack) {
            continue;
        }
        let state = out_since.entry(key).or_insert(None);
        let before = i < range.start;
        match (t.kind[i], *state) {
            (Kind::StockOut, None) => {
                *state = Some(t.at[i]);
                if !before {
                    episodes.entry(key).or_default().0 += 1;
                }
            }
            (Kind::StockBack, Some(since)) => {
                if !before {
                    let e = episodes.entry(key).or_default();
                    e.1 += t.at[i] - since.max(w.from_ms);
                    if since < w.from_ms {
                        e.0 += 1;
                    }
                }
                *state = None;
            }
            _ => {}
        }
    }
    for (key, state) in &out_since {
        if let Some(since) = state {
            let e = episodes.entry(*key).or_default();
            e.1 += w.to_ms - since.max(&w.from_ms);
            if *since < w.from_ms {
                e.0 += 1;
            }
        }
    }
    let mut sold: HashMap<(u32, u32), (i64, BTreeMap<u32, (i64, i64)>)> = HashMap::new();
    for i in range {
        if t.kind[i] == Kind::Purchase && episodes.contains_key(&(t.location.get(i), t.sku[i])) {
            let s = sold.entry((t.location.get(i), t.sku[i])).or_default();
            s.0 += i64::from(t.qty[i]);
            let c = s.1.entry(t.currency.get(i)).or_default();
            c.0 += i64::from(t.qty[i]);
            c.1 += t.amount[i];
        }
    }
    let span = (w.to_ms - w.from_ms).max(1);
    let mut rows: Vec<StockOutRow> = episodes
        .into_iter()
        .filter(|(_, (n, ms))| *n > 0 || *ms > 0)
        .map(|((l, sku), (n, out_ms))| {
            let in_hours = (span - out_ms).max(0) as f64 / 3_600_000.0;
            let (units, by_cur) = sold.remove(&(l, sku)).unwrap_or_default();
            let rate = if in_hours > 0.0 { units as f64 / in_hours } else { 0.0 };
            let lost = rate * out_ms as f64 / 3_600_000.0;
            let lost_minor = by_cur
                .into_iter()
                .map(|(cur, (u, amount))| {
                    let mean = amount as f64 / u.max(1) as f64;
                    (t.name(cur).to_owned(), (lost * mean * u as f64 / units.max(1) as f64).round() as i64)
                })
                .collect();
            StockOutRow {
                location_id: t.name(l).to_owned(),
                sku: t.name(sku).to_owned(),
                episodes: n,
                out_ms,
                out_now: out_since.get(&(l, sku)).copied().flatten().is_some(),
                sold_per_hour: round4(rate),
                lost_units: round1(lost),
                lost_minor,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.out_ms.cmp(&a.out_ms).then_with(|| (&a.location_id, &a.sku).cmp(&(&b.location_id, &b.sku))));
    rows
}
