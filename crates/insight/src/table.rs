//! The columnar table the questions scan: one vector per field, strings interned to `u32` (0 is none),
//! rows in time order, each happening once (a repeated id is dropped).

use crate::{Event, Kind, Window};
use hashbrown::HashTable;
use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

/// The interned id of "no value".
pub const NONE: u32 = 0;

/// Strings interned to small integers; id 0 is the empty string (none). Each string is held once, in
/// one arena: a table of ten million events names millions of visits, orders and shoppers, and a map
/// from owned strings would hold each of them twice with an allocation apiece.
#[derive(Clone)]
pub struct Dict {
    /// Every name, one after another.
    text: String,
    /// Name `i` is `text[bounds[i]..bounds[i + 1]]`.
    bounds: Vec<usize>,
    /// The ids, found by the hash of their name.
    ids: HashTable<u32>,
    hasher: RandomState,
}

impl std::fmt::Debug for Dict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dict").field("names", &self.len()).field("bytes", &self.text.len()).finish()
    }
}

impl Default for Dict {
    fn default() -> Self {
        Dict { text: String::new(), bounds: vec![0, 0], ids: HashTable::new(), hasher: RandomState::new() }
    }
}

fn name_in<'a>(text: &'a str, bounds: &[usize], id: u32) -> &'a str {
    &text[bounds[id as usize]..bounds[id as usize + 1]]
}

impl Dict {
    pub fn intern(&mut self, s: Option<&str>) -> u32 {
        let Some(s) = s.filter(|s| !s.is_empty()) else { return NONE };
        let Dict { text, bounds, ids, hasher } = self;
        let hash = hasher.hash_one(s);
        if let Some(&id) = ids.find(hash, |&id| name_in(text, bounds, id) == s) {
            return id;
        }
        let id = u32::try_from(bounds.len() - 1).expect("fewer than 4 billion distinct names");
        text.push_str(s);
        bounds.push(text.len());
        ids.insert_unique(hash, id, |&id| hasher.hash_one(name_in(text, bounds, id)));
        id
    }

    /// The id of `s` if it was ever interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        if s.is_empty() {
            return None;
        }
        self.ids.find(self.hasher.hash_one(s), |&id| self.name(id) == s).copied()
    }

    pub fn name(&self, id: u32) -> &str {
        name_in(&self.text, &self.bounds, id)
    }

    /// Names held, counting the empty one.
    pub fn len(&self) -> usize {
        self.bounds.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() <= 1
    }

    /// Bytes the names take on the heap: the text, where each ends, and the hash table of ids.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.bounds.capacity() * 8 + self.ids.capacity() * 5
    }

    /// Gives back what growing took beyond the names held.
    pub fn shrink_to_fit(&mut self) {
        let Dict { text, bounds, ids, hasher } = self;
        ids.shrink_to_fit(|&id| hasher.hash_one(name_in(text, bounds, id)));
        text.shrink_to_fit();
        bounds.shrink_to_fit();
    }
}

/// Events as columns, sorted by time.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub dict: Dict,
    pub kind: Vec<Kind>,
    pub at: Vec<i64>,
    pub shopper: Vec<u32>,
    pub customer: Vec<u32>,
    pub location: Vec<u32>,
    pub channel: Vec<u32>,
    pub device: Vec<u32>,
    pub product: Vec<u32>,
    pub sku: Vec<u32>,
    pub category: Vec<u32>,
    pub zone: Vec<u32>,
    pub visit: Vec<u32>,
    pub order: Vec<u32>,
    /// Milliseconds (up to 24 days: a dwell is minutes).
    pub dwell_ms: Vec<i32>,
    pub qty: Vec<i32>,
    pub amount: Vec<i64>,
    pub currency: Vec<u32>,
}

impl Table {
    /// Builds the table from events in any order; an id seen twice is kept once (the first).
    pub fn from_events(mut events: Vec<Event>) -> Table {
        let mut seen = HashSet::with_capacity(events.len());
        events.retain(|e| e.kind.is_some() && seen.insert(e.id.clone()));
        events.sort_by(|a, b| a.at_ms.cmp(&b.at_ms).then_with(|| a.id.cmp(&b.id)));
        let mut t = Table::default();
        for e in &events {
            t.push(e);
        }
        t
    }

    /// The interned columns.
    fn id_columns(&mut self) -> [&mut Vec<u32>; 12] {
        [
            &mut self.shopper,
            &mut self.customer,
            &mut self.location,
            &mut self.channel,
            &mut self.device,
            &mut self.product,
            &mut self.sku,
            &mut self.category,
            &mut self.zone,
            &mut self.visit,
            &mut self.order,
            &mut self.currency,
        ]
    }

    /// Makes room for `n` more events at once (a table grown one doubling at a time holds up to twice its
    /// size while it grows).
    pub fn reserve(&mut self, n: usize) {
        self.kind.reserve_exact(n);
        self.at.reserve_exact(n);
        self.id_columns().into_iter().for_each(|c| c.reserve_exact(n));
        self.dwell_ms.reserve_exact(n);
        self.qty.reserve_exact(n);
        self.amount.reserve_exact(n);
    }

    /// Gives back what `reserve` took beyond the events held.
    pub fn shrink_to_fit(&mut self) {
        self.kind.shrink_to_fit();
        self.at.shrink_to_fit();
        self.id_columns().into_iter().for_each(|c| c.shrink_to_fit());
        self.dwell_ms.shrink_to_fit();
        self.qty.shrink_to_fit();
        self.amount.shrink_to_fit();
        self.dict.shrink_to_fit();
    }

    /// Appends one event. The caller keeps the table's order: events by time (then id), each id once —
    /// as the store hands them out (`ORDER BY at, id` over a primary key).
    pub fn push_event(&mut self, e: &Event) {
        self.push(e)
    }

    fn push(&mut self, e: &Event) {
        let d = &mut self.dict;
        self.kind.push(e.kind.unwrap_or(Kind::View));
        self.at.push(e.at_ms);
        self.shopper.push(d.intern(e.shopper.as_deref()));
        self.customer.push(d.intern(e.customer.as_deref()));
        self.location.push(d.intern(e.location.as_deref()));
        self.channel.push(d.intern(e.channel.as_deref()));
        self.device.push(d.intern(e.device.as_deref()));
        self.product.push(d.intern(e.product.as_deref()));
        self.sku.push(d.intern(e.sku.as_deref()));
        self.category.push(d.intern(e.category.as_deref()));
        self.zone.push(d.intern(e.zone.as_deref()));
        self.visit.push(d.intern(e.visit.as_deref()));
        self.order.push(d.intern(e.order.as_deref()));
        self.dwell_ms.push(narrow(e.dwell_ms));
        self.qty.push(narrow(e.qty));
        self.amount.push(e.amount_minor);
        self.currency.push(d.intern(e.currency.as_deref()));
    }

    /// Takes in events that arrived after the table was built, each new, keeping the time order: they
    /// go after the rows of the same moment. Live events are minutes old, so only the table's tail moves;
    /// an import of old history moves everything after its first event.
    pub fn merge(&mut self, evs: &mut [Event]) {
        evs.sort_by(|a, b| a.at_ms.cmp(&b.at_ms).then_with(|| a.id.cmp(&b.id)));
        let evs: Vec<&Event> = evs.iter().filter(|e| e.kind.is_some()).collect();
        let Some(first) = evs.first() else { return };
        let pos = self.at.partition_point(|&t| t <= first.at_ms);
        let tail = self.split_off(pos);
        // Grow by an eighth beyond what is needed: a live table takes in a few events every few seconds,
        // and doubling (a `Vec`'s own growth) would hold up to twice the table.
        let need = self.len() + tail.len() + evs.len();
        if self.at.capacity() < need {
            self.reserve(need - self.len() + need / 8);
        }
        let (mut i, mut j) = (0, 0);
        while i < tail.len() || j < evs.len() {
            if j < evs.len() && (i == tail.len() || evs[j].at_ms < tail.at[i]) {
                self.push(evs[j]);
                j += 1;
            } else {
                self.push_row(&tail, i);
                i += 1;
            }
        }
    }

    /// Rows from `pos` on, as a table of their own whose ids are this table's.
    fn split_off(&mut self, pos: usize) -> Table {
        let mut t = Table {
            dict: Dict::default(),
            kind: self.kind.split_off(pos),
            at: self.at.split_off(pos),
            dwell_ms: self.dwell_ms.split_off(pos),
            qty: self.qty.split_off(pos),
            amount: self.amount.split_off(pos),
            ..Default::default()
        };
        for (to, from) in t.id_columns().into_iter().zip(self.id_columns()) {
            *to = from.split_off(pos);
        }
        t
    }

    /// Appends row `i` of `t`, whose ids are this table's.
    fn push_row(&mut self, t: &Table, i: usize) {
        self.kind.push(t.kind[i]);
        self.at.push(t.at[i]);
        self.dwell_ms.push(t.dwell_ms[i]);
        self.qty.push(t.qty[i]);
        self.amount.push(t.amount[i]);
        let from: [&Vec<u32>; 12] = [
            &t.shopper,
            &t.customer,
            &t.location,
            &t.channel,
            &t.device,
            &t.product,
            &t.sku,
            &t.category,
            &t.zone,
            &t.visit,
            &t.order,
            &t.currency,
        ];
        for (to, from) in self.id_columns().into_iter().zip(from) {
            to.push(from[i]);
        }
    }

    /// Drops the rows before `at` (older than the retention window).
    pub fn drop_before(&mut self, at: i64) {
        let n = self.at.partition_point(|&t| t < at);
        if n == 0 {
            return;
        }
        self.kind.drain(..n);
        self.at.drain(..n);
        self.dwell_ms.drain(..n);
        self.qty.drain(..n);
        self.amount.drain(..n);
        self.id_columns().into_iter().for_each(|c| {
            c.drain(..n);
        });
    }

    /// Bytes the table holds on the heap (columns and names, by capacity).
    pub fn heap_bytes(&self) -> usize {
        let ids: usize = [
            &self.shopper,
            &self.customer,
            &self.location,
            &self.channel,
            &self.device,
            &self.product,
            &self.sku,
            &self.category,
            &self.zone,
            &self.visit,
            &self.order,
            &self.currency,
        ]
        .iter()
        .map(|c| c.capacity() * 4)
        .sum();
        ids + self.kind.capacity()
            + self.at.capacity() * 8
            + self.dwell_ms.capacity() * 4
            + self.qty.capacity() * 4
            + self.amount.capacity() * 8
            + self.dict.heap_bytes()
    }

    /// Rows before `at`.
    pub fn rows_before(&self, at: i64) -> usize {
        self.at.partition_point(|&t| t < at)
    }

    pub fn len(&self) -> usize {
        self.at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    /// The rows whose time falls in the window (rows are sorted, so this is two binary searches).
    pub fn rows(&self, w: &Window) -> std::ops::Range<usize> {
        let lo = self.at.partition_point(|&t| t < w.from_ms);
        let hi = self.at.partition_point(|&t| t < w.to_ms);
        lo..hi.max(lo)
    }

    /// The interned id of a filter value; `Some(None)` when the value never occurs (nothing matches).
    pub fn lookup(&self, v: Option<&str>) -> Option<Option<u32>> {
        v.map(|s| self.dict.get(s))
    }

    pub fn name(&self, id: u32) -> &str {
        self.dict.name(id)
    }
}

/// A count or a duration held in 32 bits (imports refuse what does not fit; see [`fits`]).
fn narrow(v: i64) -> i32 {
    v.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// Whether an event's dwell and quantity fit the table's 32-bit columns.
pub fn fits(e: &Event) -> bool {
    i32::try_from(e.dwell_ms).is_ok() && i32::try_from(e.qty).is_ok()
}

/// A filter on an interned column: any value, one value, or a value that never occurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Any,
    Is(u32),
    Nothing,
}

impl Filter {
    pub fn new(t: &Table, v: Option<&str>) -> Filter {
        match t.lookup(v) {
            None => Filter::Any,
            Some(Some(id)) => Filter::Is(id),
            Some(None) => Filter::Nothing,
        }
    }

    pub fn matches(self, id: u32) -> bool {
        match self {
            Filter::Any => true,
            Filter::Is(x) => x == id,
            Filter::Nothing => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_delivered_twice_is_one_row_and_rows_are_in_time_order() {
        let e = |id: &str, at| Event { id: id.into(), kind: Some(Kind::View), at_ms: at, ..Default::default() };
        let t = Table::from_events(vec![e("b", 20), e("a", 10), e("b", 20), e("c", 30)]);
        assert_eq!(t.at, vec![10, 20, 30]);
        let w = Window { from_ms: 15, to_ms: 30, utc_offset_min: 0 };
        assert_eq!(t.rows(&w), 1..2);
    }

    #[test]
    fn merged_events_land_in_time_order_as_if_the_table_had_been_built_with_them() {
        let e = |id: &str, at, sku: &str| Event {
            id: id.into(),
            kind: Some(Kind::View),
            at_ms: at,
            sku: Some(sku.into()),
            qty: at,
            ..Default::default()
        };
        let all = vec![e("a", 10, "x"), e("b", 20, "y"), e("c", 30, "x"), e("d", 40, "z"), e("e", 50, "y")];
        let mut t = Table::from_events(vec![all[0].clone(), all[2].clone(), all[4].clone()]);
        // One late event in the middle, one after the end, and one without a kind (ignored).
        let mut late = vec![all[3].clone(), all[1].clone(), Event { kind: None, ..e("f", 5, "q") }];
        t.merge(&mut late);
        let whole = Table::from_events(all);
        assert_eq!(t.at, whole.at);
        assert_eq!(t.qty, whole.qty);
        let names = |t: &Table| t.sku.iter().map(|&i| t.name(i).to_owned()).collect::<Vec<_>>();
        assert_eq!(names(&t), names(&whole));
        t.merge(&mut [e("g", 60, "x")]);
        assert_eq!(t.at, vec![10, 20, 30, 40, 50, 60]);
        assert_eq!(t.rows_before(35), 3);
        t.drop_before(35);
        assert_eq!(t.at, vec![40, 50, 60]);
        assert_eq!(names(&t), vec!["z", "y", "x"]);
    }

    #[test]
    fn names_are_interned_once_and_found_again_after_shrinking() {
        let mut d = Dict::default();
        assert_eq!(d.intern(None), NONE);
        assert_eq!(d.intern(Some("")), NONE);
        let ids: Vec<u32> = (0..10_000).map(|i| d.intern(Some(&format!("visit-{i}")))).collect();
        assert_eq!(ids, (1..=10_000).collect::<Vec<u32>>());
        assert_eq!(d.intern(Some("visit-42")), 43);
        d.shrink_to_fit();
        assert_eq!(d.len(), 10_001);
        assert_eq!(d.get("visit-9999"), Some(10_000));
        assert_eq!(d.name(10_000), "visit-9999");
        assert_eq!(d.name(NONE), "");
        assert_eq!(d.get(""), None);
        assert_eq!(d.get("visit-10000"), None);
        assert_eq!(d.intern(Some("한글 이름")), 10_001);
        assert_eq!(d.name(10_001), "한글 이름");
    }
}
