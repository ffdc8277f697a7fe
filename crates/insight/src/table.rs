//! The columnar table the questions scan: one vector per field, strings interned to `u32` (0 is none),
//! rows in time order, each happening once (a repeated id is dropped).

use crate::{Event, Kind, Window};
use std::collections::{HashMap, HashSet};

/// The interned id of "no value".
pub const NONE: u32 = 0;

/// Strings interned to small integers; id 0 is the empty string (none).
#[derive(Debug, Clone)]
pub struct Dict {
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Default for Dict {
    fn default() -> Self {
        Dict { names: vec![String::new()], ids: HashMap::new() }
    }
}

impl Dict {
    pub fn intern(&mut self, s: Option<&str>) -> u32 {
        let Some(s) = s.filter(|s| !s.is_empty()) else { return NONE };
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(s.to_owned());
        self.ids.insert(s.to_owned(), id);
        id
    }

    /// The id of `s` if it was ever interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.len() <= 1
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
    pub dwell_ms: Vec<i64>,
    pub qty: Vec<i64>,
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
        self.dwell_ms.push(e.dwell_ms);
        self.qty.push(e.qty);
        self.amount.push(e.amount_minor);
        self.currency.push(d.intern(e.currency.as_deref()));
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
}
