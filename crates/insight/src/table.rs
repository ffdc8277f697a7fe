//! The columnar table the questions scan: one vector per field, strings interned to `u32` (0 is none),
//! rows in time order, each happening once (a repeated id is dropped).

use crate::column::Column;
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
    /// Name `i` is `text[bounds[i]..bounds[i + 1]]` (names take less than 4 GiB).
    bounds: Vec<u32>,
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

fn name_in<'a>(text: &'a str, bounds: &[u32], id: u32) -> &'a str {
    &text[bounds[id as usize] as usize..bounds[id as usize + 1] as usize]
}

/// Makes room for `more` in a vector that grows by a quarter at a time: a doubling arena of millions of
/// names holds up to twice what it needs, and three times while it copies.
fn grow<T>(v: &mut Vec<T>, more: usize) {
    if v.capacity() - v.len() < more {
        v.reserve_exact(more.max(v.len() / 4).max(64));
    }
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
        if text.capacity() - text.len() < s.len() {
            text.reserve_exact(s.len().max(text.len() / 4).max(256));
        }
        text.push_str(s);
        grow(bounds, 1);
        bounds.push(u32::try_from(text.len()).expect("names take less than 4 GiB"));
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
        self.text.capacity() + self.bounds.capacity() * 4 + self.ids.capacity() * 5
    }

    /// Gives back what growing took beyond the names held.
    pub fn shrink_to_fit(&mut self) {
        let Dict { text, bounds, ids, hasher } = self;
        ids.shrink_to_fit(|&id| hasher.hash_one(name_in(text, bounds, id)));
        text.shrink_to_fit();
        bounds.shrink_to_fit();
    }
}

/// A column of few distinct names (stores, channels, devices, categories, zones, currencies) in two
/// bytes a row instead of four: a row holds the column's own code, and the column maps codes to interned
/// ids. Ten million events save 120 MB this way. A column that meets more than 65,535 names (an import of
/// odd data) is widened to the interned ids themselves.
#[derive(Debug, Clone)]
pub struct Small {
    rows: Codes,
    /// Code → interned id; code 0 is none.
    ids: Vec<u32>,
    /// Interned id → code.
    codes: std::collections::HashMap<u32, u16>,
}

#[derive(Debug, Clone)]
enum Codes {
    Narrow(Column<u16>),
    Wide(Column<u32>),
}

impl Default for Small {
    fn default() -> Self {
        Small { rows: Codes::Narrow(Column::new()), ids: vec![NONE], codes: Default::default() }
    }
}

impl Small {
    /// The interned id of row `i`.
    #[inline]
    pub fn get(&self, i: usize) -> u32 {
        match &self.rows {
            Codes::Narrow(c) => self.ids[c[i] as usize],
            Codes::Wide(w) => w[i],
        }
    }

    pub fn len(&self) -> usize {
        match &self.rows {
            Codes::Narrow(c) => c.len(),
            Codes::Wide(w) => w.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a row holding the interned id `id`.
    pub fn push(&mut self, id: u32) {
        let code = match &self.rows {
            Codes::Wide(_) => None,
            Codes::Narrow(_) if id == NONE => Some(0),
            Codes::Narrow(_) => match self.codes.get(&id) {
                Some(&code) => Some(code),
                None => u16::try_from(self.ids.len()).ok().inspect(|&code| {
                    self.ids.push(id);
                    self.codes.insert(id, code);
                }),
            },
        };
        match (&mut self.rows, code) {
            (Codes::Narrow(c), Some(code)) => c.push(code),
            (Codes::Wide(w), _) => w.push(id),
            (Codes::Narrow(_), None) => {
                self.widen();
                self.push(id)
            }
        }
    }

    /// Holds the interned ids themselves from now on.
    fn widen(&mut self) {
        if let Codes::Narrow(c) = &self.rows {
            let mut wide = Column::new();
            wide.reserve_exact(c.capacity());
            c.iter().for_each(|&code| wide.push(self.ids[code as usize]));
            self.rows = Codes::Wide(wide);
        }
    }

    fn reserve_exact(&mut self, n: usize) {
        match &mut self.rows {
            Codes::Narrow(c) => c.reserve_exact(n),
            Codes::Wide(w) => w.reserve_exact(n),
        }
    }

    fn shrink_to_fit(&mut self) {
        match &mut self.rows {
            Codes::Narrow(c) => c.shrink_to_fit(),
            Codes::Wide(w) => w.shrink_to_fit(),
        }
    }

    /// Rows from `pos` on, as a column with the same codes.
    fn split_off(&mut self, pos: usize) -> Small {
        let rows = match &mut self.rows {
            Codes::Narrow(c) => Codes::Narrow(c.split_off(pos)),
            Codes::Wide(w) => Codes::Wide(w.split_off(pos)),
        };
        Small { rows, ids: self.ids.clone(), codes: self.codes.clone() }
    }

    /// Drops the first `n` rows.
    fn drain_front(&mut self, n: usize) {
        match &mut self.rows {
            Codes::Narrow(c) => c.drain_front(n),
            Codes::Wide(w) => w.drain_front(n),
        }
    }

    fn heap_bytes(&self) -> usize {
        let rows = match &self.rows {
            Codes::Narrow(c) => c.capacity() * 2,
            Codes::Wide(w) => w.capacity() * 4,
        };
        rows + self.ids.capacity() * 4 + self.codes.capacity() * 8
    }
}

/// A column of one bit a row.
#[derive(Debug, Clone, Default)]
struct Bits {
    words: Vec<u64>,
    len: usize,
}

impl Bits {
    #[inline]
    fn get(&self, i: usize) -> bool {
        debug_assert!(i < self.len);
        self.words[i / 64] >> (i % 64) & 1 == 1
    }

    fn push(&mut self, b: bool) {
        if self.len.is_multiple_of(64) {
            self.words.push(0);
        }
        if b {
            self.words[self.len / 64] |= 1 << (self.len % 64);
        }
        self.len += 1;
    }

    /// Rows from `pos` on; this column keeps the rows before.
    fn split_off(&mut self, pos: usize) -> Bits {
        let mut tail = Bits::default();
        tail.reserve_exact(self.len.saturating_sub(pos));
        for i in pos..self.len {
            tail.push(self.get(i));
        }
        self.len = self.len.min(pos);
        self.words.truncate(self.len.div_ceil(64));
        if !self.len.is_multiple_of(64) {
            // The bits past the end are zero, as `push` expects.
            *self.words.last_mut().expect("a partial word") &= (1 << (self.len % 64)) - 1;
        }
        tail
    }

    fn reserve_exact(&mut self, n: usize) {
        self.words.reserve_exact((self.len + n).div_ceil(64).saturating_sub(self.words.len()));
    }

    fn shrink_to_fit(&mut self) {
        self.words.shrink_to_fit();
    }

    fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }
}

/// Events as columns, sorted by time.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub dict: Dict,
    pub kind: Column<Kind>,
    pub at: Column<i64>,
    pub shopper: Column<u32>,
    /// Whether the row's shopper is a customer who agreed to be recognised (then the shopper is the
    /// customer's id; see [`Table::customer`]): one bit a row instead of a column of ids.
    known: Bits,
    pub location: Small,
    pub channel: Small,
    pub device: Small,
    pub product: Column<u32>,
    pub sku: Column<u32>,
    pub category: Small,
    pub zone: Small,
    pub visit: Column<u32>,
    pub order: Column<u32>,
    /// Milliseconds (up to 24 days: a dwell is minutes).
    pub dwell_ms: Column<i32>,
    pub qty: Column<i32>,
    pub amount: Column<i64>,
    pub currency: Small,
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

    /// The interned columns of many names (shoppers, products, visits, orders).
    fn id_columns(&mut self) -> [&mut Column<u32>; 5] {
        [&mut self.shopper, &mut self.product, &mut self.sku, &mut self.visit, &mut self.order]
    }

    /// The interned columns of few names (stores, channels, devices, categories, zones, currencies).
    fn small_columns(&mut self) -> [&mut Small; 6] {
        [
            &mut self.location,
            &mut self.channel,
            &mut self.device,
            &mut self.category,
            &mut self.zone,
            &mut self.currency,
        ]
    }

    /// Makes room for `n` more events at once (a table grown one doubling at a time holds up to twice its
    /// size while it grows).
    pub fn reserve(&mut self, n: usize) {
        self.kind.reserve_exact(n);
        self.at.reserve_exact(n);
        self.id_columns().into_iter().for_each(|c| c.reserve_exact(n));
        self.small_columns().into_iter().for_each(|c| c.reserve_exact(n));
        self.known.reserve_exact(n);
        self.dwell_ms.reserve_exact(n);
        self.qty.reserve_exact(n);
        self.amount.reserve_exact(n);
    }

    /// Gives back what `reserve` took beyond the events held.
    pub fn shrink_to_fit(&mut self) {
        self.known.shrink_to_fit();
        self.kind.shrink_to_fit();
        self.at.shrink_to_fit();
        self.id_columns().into_iter().for_each(|c| c.shrink_to_fit());
        self.small_columns().into_iter().for_each(|c| c.shrink_to_fit());
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
        // A customer's row names the customer as its shopper (imports refuse any other shopper beside a
        // customer, and the feed writes them equal).
        self.shopper.push(d.intern(e.customer.as_deref().or(e.shopper.as_deref())));
        self.known.push(e.customer.as_deref().is_some_and(|c| !c.is_empty()));
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
        // Grow by a thirty-second beyond what is needed (at least 4,096 rows): a live table takes in a few
        // events every few seconds, and doubling (a `Vec`'s own growth) would hold up to twice the table;
        // each growth copies the table once (at ten million events, about every 300,000 new ones).
        let need = self.len() + tail.len() + evs.len();
        if self.at.capacity() < need {
            self.reserve(need - self.len() + (need / 32).max(4_096));
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
            known: self.known.split_off(pos),
            ..Default::default()
        };
        for (to, from) in t.id_columns().into_iter().zip(self.id_columns()) {
            *to = from.split_off(pos);
        }
        for (to, from) in t.small_columns().into_iter().zip(self.small_columns()) {
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
        self.known.push(t.known.get(i));
        let from: [&Column<u32>; 5] = [&t.shopper, &t.product, &t.sku, &t.visit, &t.order];
        for (to, from) in self.id_columns().into_iter().zip(from) {
            to.push(from[i]);
        }
        let from: [&Small; 6] = [&t.location, &t.channel, &t.device, &t.category, &t.zone, &t.currency];
        for (to, from) in self.small_columns().into_iter().zip(from) {
            to.push(from.get(i));
        }
    }

    /// Drops the rows before `at` (older than the retention window).
    pub fn drop_before(&mut self, at: i64) {
        let n = self.at.partition_point(|&t| t < at);
        if n == 0 {
            return;
        }
        self.kind.drain_front(n);
        self.at.drain_front(n);
        self.dwell_ms.drain_front(n);
        self.qty.drain_front(n);
        self.amount.drain_front(n);
        self.id_columns().into_iter().for_each(|c| {
            c.drain_front(n);
        });
        self.small_columns().into_iter().for_each(|c| c.drain_front(n));
        self.known = self.known.split_off(n);
    }

    /// Bytes the table holds on the heap (columns and names, by capacity).
    pub fn heap_bytes(&self) -> usize {
        let ids: usize =
            [&self.shopper, &self.product, &self.sku, &self.visit, &self.order].iter().map(|c| c.capacity() * 4).sum();
        let small: usize = [&self.location, &self.channel, &self.device, &self.category, &self.zone, &self.currency]
            .iter()
            .map(|c| c.heap_bytes())
            .sum();
        ids + small
            + self.known.heap_bytes()
            + self.kind.capacity()
            + self.at.capacity() * 8
            + self.dwell_ms.capacity() * 4
            + self.qty.capacity() * 4
            + self.amount.capacity() * 8
            + self.dict.heap_bytes()
    }

    /// The customer of row `i` when its shopper agreed to be recognised (the shopper's id), else none.
    #[inline]
    pub fn customer(&self, i: usize) -> u32 {
        if self.known.get(i) {
            self.shopper[i]
        } else {
            NONE
        }
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
        assert_eq!(t.at[..], whole.at[..]);
        assert_eq!(t.qty[..], whole.qty[..]);
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

    #[test]
    fn a_column_of_few_names_answers_the_interned_ids_and_widens_past_65535_names() {
        let mut d = Dict::default();
        let mut c = Small::default();
        let ids: Vec<u32> = (0..70_000).map(|i| d.intern(Some(&format!("zone-{i}")))).collect();
        // Codes are the column's own: the interned ids it holds start far from 1.
        let mut want = Vec::new();
        for (i, &id) in ids.iter().enumerate().skip(1_000).take(3) {
            c.push(id);
            c.push(NONE);
            want.extend([id, NONE]);
            assert_eq!(c.get(2 * (i - 1_000)), id);
        }
        assert!(matches!(c.rows, Codes::Narrow(_)));
        for &id in &ids {
            c.push(id);
            want.push(id);
        }
        assert!(matches!(c.rows, Codes::Wide(_)), "65,535 names and more are held as interned ids");
        assert_eq!((0..c.len()).map(|i| c.get(i)).collect::<Vec<_>>(), want);
        let tail = c.split_off(c.len() - 2);
        assert_eq!((tail.get(0), tail.get(1)), (ids[69_998], ids[69_999]));
        c.drain_front(6);
        assert_eq!(c.get(0), ids[0]);
    }

    #[test]
    fn a_column_of_bits_splits_and_drops_its_front_at_any_row() {
        for len in [0, 1, 63, 64, 65, 130] {
            for pos in [0, 1, 63, 64, 65, 129, 200] {
                let want: Vec<bool> = (0..len).map(|i| i % 3 == 0 || i % 7 == 0).collect();
                let mut b = Bits::default();
                b.reserve_exact(len);
                want.iter().for_each(|&x| b.push(x));
                let tail = b.split_off(pos);
                let pos = pos.min(len);
                assert_eq!((0..b.len).map(|i| b.get(i)).collect::<Vec<_>>(), want[..pos], "head of {len} at {pos}");
                assert_eq!(
                    (0..tail.len).map(|i| tail.get(i)).collect::<Vec<_>>(),
                    want[pos..],
                    "tail of {len} at {pos}"
                );
                // What is pushed after a split is its own bit, whatever was there before.
                b.push(false);
                b.push(true);
                assert_eq!((b.get(pos), b.get(pos + 1)), (false, true));
            }
        }
    }

    #[test]
    fn a_customers_row_names_the_customer_and_others_name_none() {
        let e = |id: &str, at, shopper: &str, customer: Option<&str>| Event {
            id: id.into(),
            kind: Some(Kind::View),
            at_ms: at,
            shopper: Some(shopper.into()),
            customer: customer.map(str::to_owned),
            ..Default::default()
        };
        let mut t = Table::from_events(vec![e("a", 10, "c1", Some("c1")), e("b", 20, "v:visit-1", None)]);
        t.merge(&mut [e("c", 15, "c2", Some("c2"))]);
        let rows: Vec<(&str, &str)> = (0..t.len()).map(|i| (t.name(t.shopper[i]), t.name(t.customer(i)))).collect();
        assert_eq!(rows, vec![("c1", "c1"), ("c2", "c2"), ("v:visit-1", "")]);
        t.drop_before(12);
        assert_eq!((t.customer(0), t.customer(1)), (t.dict.get("c2").unwrap(), NONE));
    }

    #[test]
    fn a_table_keeps_each_rows_store_channel_and_zone_through_merges_and_drops() {
        let e = |id: &str, at, store: &str, zone: Option<&str>| Event {
            id: id.into(),
            kind: Some(Kind::Dwell),
            at_ms: at,
            shopper: Some(format!("shopper-{id}")),
            location: Some(store.into()),
            channel: Some("cashierless".into()),
            zone: zone.map(str::to_owned),
            currency: Some("KRW".into()),
            ..Default::default()
        };
        let all = vec![
            e("a", 10, "gangnam", Some("aisle:1")),
            e("b", 20, "hongdae", None),
            e("c", 30, "gangnam", Some("aisle:2")),
            e("d", 40, "busan", Some("aisle:1")),
        ];
        let mut t = Table::from_events(vec![all[0].clone(), all[3].clone()]);
        t.merge(&mut [all[2].clone(), all[1].clone()]);
        let rows = |t: &Table| {
            (0..t.len())
                .map(|i| (t.name(t.location.get(i)).to_owned(), t.name(t.zone.get(i)).to_owned(), t.currency.get(i)))
                .collect::<Vec<_>>()
        };
        let whole = Table::from_events(all);
        assert_eq!(
            rows(&t).iter().map(|r| (&r.0, &r.1)).collect::<Vec<_>>(),
            rows(&whole).iter().map(|r| (&r.0, &r.1)).collect::<Vec<_>>()
        );
        assert_eq!(t.name(t.channel.get(3)), "cashierless");
        t.drop_before(25);
        assert_eq!(rows(&t)[0].0, "gangnam");
        assert_eq!(rows(&t)[1], ("busan".to_owned(), "aisle:1".to_owned(), t.dict.get("KRW").unwrap()));
    }
}
