//! Question 1, dwell: how long shoppers stand at each zone, shelf or facing of a store, by hour of day,
//! day of week and segment, with the share of the store's visitors it reaches.

use crate::privacy::{self, Cell};
use crate::segments::{Profiles, SegmentBy, Segmenter};
use crate::table::Filter;
use crate::{quantile, round1, round4, time, Kind, Table, Window, NONE};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// How fine the floor is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The aisle in front of each gondola (`gondola:G`), from the body tracks.
    #[default]
    Zone,
    /// Each shelf (`shelf:G-S`), from hands at the shelf's facings.
    Shelf,
    /// Each product facing (`facing:G-S-P…:SKU`).
    Facing,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "zone" => Level::Zone,
            "shelf" => Level::Shelf,
            "facing" => Level::Facing,
            _ => return None,
        })
    }

    /// The key a dwell zone counts under at this level, or None when it does not count here.
    pub fn key(self, zone: &str) -> Option<String> {
        if let Some(rest) = zone.strip_prefix("gondola:") {
            let g = rest.strip_suffix(":front").unwrap_or(rest);
            return (self == Level::Zone).then(|| format!("gondola:{g}"));
        }
        let rest = zone.strip_prefix("facing:")?;
        match self {
            Level::Zone => None,
            Level::Facing => Some(zone.to_owned()),
            Level::Shelf => {
                let place = rest.split(':').next()?;
                let mut parts = place.splitn(3, '-');
                let (g, s) = (parts.next()?, parts.next()?);
                Some(format!("shelf:{g}-{s}"))
            }
        }
    }
}

/// What to cut the dwell by.
#[derive(Debug, Clone, PartialEq)]
pub struct DwellQuery {
    pub window: Window,
    pub location: Option<String>,
    pub level: Level,
    pub by_hour: bool,
    pub by_weekday: bool,
    pub segment: SegmentBy,
    pub k: u32,
}

/// One cell of the dwell answer. Figures are withheld (`suppressed`) below k distinct shoppers.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DwellRow {
    pub location_id: String,
    /// `gondola:G`, `shelf:G-S` or `facing:G-S-P…:SKU`.
    pub key: String,
    /// The SKU of a facing.
    pub sku: Option<String>,
    /// Local hour the dwells began (when cut by hour).
    pub hour: Option<u8>,
    /// 0 = Monday … 6 = Sunday (when cut by weekday).
    pub weekday: Option<u8>,
    pub segment: String,
    pub suppressed: bool,
    /// Store visits with a dwell here.
    pub visits: Option<u64>,
    /// Distinct shoppers.
    pub visitors: Option<u64>,
    /// Dwell episodes.
    pub dwells: Option<u64>,
    pub mean_ms: Option<f64>,
    pub median_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    /// Visitors here over the store's visitors in the same cell (hour, weekday, segment).
    pub share_of_store_visitors: Option<f64>,
    #[serde(skip)]
    pub shoppers: u64,
}

impl Cell for DwellRow {
    fn shoppers(&self) -> u64 {
        self.shoppers
    }
    fn withhold(&mut self) {
        self.suppressed = true;
        self.visits = None;
        self.visitors = None;
        self.dwells = None;
        self.mean_ms = None;
        self.median_ms = None;
        self.p90_ms = None;
        self.share_of_store_visitors = None;
    }
}

#[derive(Default)]
struct Acc {
    visits: HashSet<u32>,
    shoppers: HashSet<u32>,
    dwells: Vec<i64>,
}

/// Answers question 1.
pub fn dwell(t: &Table, profiles: &Profiles, q: &DwellQuery) -> (Vec<DwellRow>, usize) {
    let loc = Filter::new(t, q.location.as_deref());
    let mut seg = Segmenter::new(t, profiles, &q.segment, q.window.utc_offset_min);
    let off = q.window.utc_offset_min;
    // Hour and weekday as 0–23 / 0–6, or 255 when not cut by them.
    let hw = |i: usize| {
        (
            if q.by_hour { time::hour(t.at[i], off) } else { u8::MAX },
            if q.by_weekday { time::weekday(t.at[i], off) } else { u8::MAX },
        )
    };
    let mut store_visitors: HashMap<(u32, u8, u8, u32), HashSet<u32>> = HashMap::new();
    let mut cells: HashMap<(u32, u32, u8, u8, u32), Acc> = HashMap::new();
    // Zone → the key it counts under at this level (an index into `key_names`), once per zone.
    let mut keys: HashMap<u32, Option<u32>> = HashMap::new();
    let mut key_names: Vec<String> = Vec::new();
    for i in t.rows(&q.window) {
        let l = t.location.get(i);
        if l == NONE || !loc.matches(l) {
            continue;
        }
        match t.kind[i] {
            Kind::Entry => {
                let (h, w) = hw(i);
                let s = seg.label_id(i);
                store_visitors.entry((l, h, w, s)).or_default().insert(t.shopper[i]);
            }
            Kind::Dwell => {
                let z = t.zone.get(i);
                let key = *keys.entry(z).or_insert_with(|| {
                    q.level.key(t.name(z)).map(|k| match key_names.iter().position(|n| *n == k) {
                        Some(p) => p as u32,
                        None => {
                            key_names.push(k);
                            key_names.len() as u32 - 1
                        }
                    })
                });
                let Some(key) = key else { continue };
                let (h, w) = hw(i);
                let s = seg.label_id(i);
                let a = cells.entry((l, key, h, w, s)).or_default();
                a.visits.insert(t.visit[i]);
                a.shoppers.insert(t.shopper[i]);
                a.dwells.push(i64::from(t.dwell_ms[i]));
            }
            _ => {}
        }
    }
    let opt = |x: u8| (x != u8::MAX).then_some(x);
    let mut rows: Vec<DwellRow> = cells
        .into_iter()
        .map(|((l, key, h, w, s), mut a)| {
            a.dwells.sort_unstable();
            let n = a.dwells.len() as f64;
            let store = store_visitors.get(&(l, h, w, s)).map(|v| v.len()).unwrap_or(0);
            let key = key_names[key as usize].clone();
            let sku = key.strip_prefix("facing:").and_then(|r| r.split(':').nth(1)).map(str::to_owned);
            DwellRow {
                location_id: t.name(l).to_owned(),
                key,
                sku,
                hour: opt(h),
                weekday: opt(w),
                segment: seg.label_name(s).to_owned(),
                suppressed: false,
                visits: Some(a.visits.len() as u64),
                visitors: Some(a.shoppers.len() as u64),
                dwells: Some(a.dwells.len() as u64),
                mean_ms: Some(round1(a.dwells.iter().sum::<i64>() as f64 / n)),
                median_ms: quantile(&a.dwells, 0.5).map(round1),
                p90_ms: quantile(&a.dwells, 0.9).map(round1),
                share_of_store_visitors: (store > 0).then(|| round4(a.shoppers.len() as f64 / store as f64)),
                shoppers: a.shoppers.len() as u64,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.location_id, &a.key, a.hour, a.weekday, &a.segment).cmp(&(
            &b.location_id,
            &b.key,
            b.hour,
            b.weekday,
            &b.segment,
        ))
    });
    let withheld = privacy::suppress(&mut rows, q.k);
    (rows, withheld)
}
