//! The sellable stock that search filters read: per location, the SKUs with stock there, kept in step with
//! inventory events, and the served index's documents in stock there as bitsets.

use std::collections::{HashMap, HashSet};

/// What the stock sets read of a catalog index: which document each SKU belongs to, and each document's
/// SKUs (the index lends them; this module knows nothing else of it).
pub struct DocSkus<'a> {
    pub sku_doc: &'a HashMap<String, u32>,
    pub doc_skus: &'a [Vec<String>],
}

/// Sellable stock for search filters: the SKUs with stock at each location, kept in step with the
/// `inventory.changed` events (each carries the level after the movement), and, for the served index,
/// the documents in stock at each location as bitsets.
#[derive(Default)]
pub struct StockSets {
    skus: HashMap<String, HashSet<String>>,
    docs: HashMap<String, Vec<u64>>,
    /// The inventory event feed position this reflects.
    pub(crate) cursor: crate::platform::events::Cursor,
    pub(crate) loaded: bool,
}

fn set_bit(bits: &mut Vec<u64>, d: u32, on: bool) {
    let du = d as usize;
    if bits.len() <= du / 64 {
        bits.resize(du / 64 + 1, 0);
    }
    if on {
        bits[du / 64] |= 1 << (du % 64);
    } else {
        bits[du / 64] &= !(1 << (du % 64));
    }
}

pub(crate) fn bit(bits: &[u64], d: u32) -> bool {
    let du = d as usize;
    bits.get(du / 64).is_some_and(|w| w & (1 << (du % 64)) != 0)
}

impl StockSets {
    /// Starts from a snapshot: (sku, location) pairs with sellable stock, as of `cursor`.
    pub(crate) fn load(&mut self, pairs: Vec<(String, String)>, cursor: crate::platform::events::Cursor) {
        self.skus.clear();
        for (sku, loc) in pairs {
            self.skus.entry(loc).or_default().insert(sku);
        }
        self.cursor = cursor;
        self.loaded = true;
    }

    /// Recomputes the per-location document bitsets for `ix` (after a rebuild).
    pub(crate) fn reindex(&mut self, ix: DocSkus<'_>) {
        self.docs.clear();
        for (loc, skus) in &self.skus {
            let mut bits = vec![0u64; ix.doc_skus.len().div_ceil(64)];
            for sku in skus {
                if let Some(&d) = ix.sku_doc.get(sku) {
                    set_bit(&mut bits, d, true);
                }
            }
            self.docs.insert(loc.clone(), bits);
        }
    }

    /// One SKU's sellable quantity at a location changed.
    pub(crate) fn set(&mut self, ix: Option<DocSkus<'_>>, sku: &str, loc: &str, available: i64) {
        let skus = self.skus.entry(loc.to_owned()).or_default();
        let changed = if available > 0 { skus.insert(sku.to_owned()) } else { skus.remove(sku) };
        if !changed {
            return;
        }
        if let Some(ix) = ix {
            if let Some(&d) = ix.sku_doc.get(sku) {
                self.refresh_doc(&ix, d, Some(loc));
            }
        }
    }

    /// Recomputes a document's bit at `only` (or at every location): in stock when any of its SKUs is.
    pub(crate) fn refresh_doc(&mut self, ix: &DocSkus<'_>, d: u32, only: Option<&str>) {
        let Some(doc_skus) = ix.doc_skus.get(d as usize) else { return };
        for (loc, skus) in &self.skus {
            if only.is_some_and(|o| o != loc) {
                continue;
            }
            let on = doc_skus.iter().any(|s| skus.contains(s));
            let bits = self.docs.entry(loc.clone()).or_default();
            if on || bit(bits, d) {
                set_bit(bits, d, on);
            }
        }
    }

    /// The documents in stock at `loc`, as a bitset (empty when none is known).
    pub(crate) fn at(&self, loc: &str) -> &[u64] {
        self.docs.get(loc).map_or(&[], |b| b.as_slice())
    }
}
