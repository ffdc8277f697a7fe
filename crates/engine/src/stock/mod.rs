//! Stock as a ledger: adjustments, receipts, transfers between locations, safety stock, per-SKU levels.

pub mod movements;

use crate::catalog::locations;
use crate::error::bad;
use crate::{Engine, EngineError, Result};
use domain::MovementKind;
use movements::{Guard, Level, Movement, SkuLevels};
use serde::Serialize;
use store::params;

#[derive(Debug, Clone, Serialize)]
pub struct TransferView {
    pub id: String,
    pub sku: String,
    pub from: Level,
    pub to: Level,
}

impl Engine {
    /// Adds or removes on-hand stock (counts, receipts, damage). Positive deltas are receipts.
    pub async fn adjust_stock(&self, sku: &str, location_id: &str, delta: i64, reason: &str) -> Result<Level> {
        if delta == 0 || delta.abs() > domain::stock::MAX_ADJUSTMENT_QTY {
            return Err(bad(format!(
                "`quantity_delta` must be non-zero and within ±{}",
                domain::stock::MAX_ADJUSTMENT_QTY
            )));
        }
        let reason = domain::text::required("reason", reason, 200).map_err(bad)?;
        let (sku, loc, now) = (sku.to_owned(), location_id.to_owned(), self.now());
        self.db
            .write(move |tx| {
                let loc = locations::get(tx, &loc)?.ok_or_else(|| EngineError::not_found("location", &loc))?;
                if tx.query_opt("SELECT 1 FROM variants WHERE sku = ?", params![&sku])?.is_none() {
                    return Err(EngineError::not_found("sku", &sku));
                }
                let kind = if delta > 0 { MovementKind::Receipt } else { MovementKind::Adjustment };
                let source = domain::ids::new_id("adj");
                movements::post(
                    tx,
                    &Movement {
                        sku: &sku,
                        location_id: &loc.id,
                        kind,
                        on_hand: delta,
                        reserved: 0,
                        unsellable: 0,
                        reason: &reason,
                        source_type: "adjustment",
                        source_id: &source,
                    },
                    Guard::None,
                    now,
                )
            })
            .await
    }

    /// Receives many (sku, location id or code, quantity) rows in one transaction (initial loads, demo).
    pub async fn receive_many(&self, rows: Vec<(String, String, i64)>, reason: &str) -> Result<usize> {
        if rows.iter().any(|r| r.2 <= 0 || r.2 > domain::stock::MAX_ADJUSTMENT_QTY) {
            return Err(bad("every received quantity must be 1–1,000,000"));
        }
        let (reason, now) = (reason.to_owned(), self.now());
        self.db
            .write(move |tx| {
                let source = domain::ids::new_id("rcv");
                let mut ids = std::collections::HashMap::new();
                for (sku, loc, q) in &rows {
                    if !ids.contains_key(loc) {
                        let l = locations::get(tx, loc)?.ok_or_else(|| EngineError::not_found("location", loc))?;
                        ids.insert(loc.clone(), l.id);
                    }
                    let m = Movement {
                        sku,
                        location_id: &ids[loc],
                        kind: MovementKind::Receipt,
                        on_hand: *q,
                        reserved: 0,
                        unsellable: 0,
                        reason: &reason,
                        source_type: "receipt",
                        source_id: &source,
                    };
                    movements::post(tx, &m, Guard::None, now)?;
                }
                Ok(rows.len())
            })
            .await
    }

    /// Moves available stock from one location to another in one transaction.
    pub async fn transfer(&self, sku: &str, from: &str, to: &str, quantity: i64) -> Result<TransferView> {
        domain::Qty::new(quantity).map_err(bad)?;
        let (sku, from, to, now) = (sku.to_owned(), from.to_owned(), to.to_owned(), self.now());
        self.db
            .write(move |tx| {
                let f = locations::get(tx, &from)?.ok_or_else(|| EngineError::not_found("location", &from))?;
                let t = locations::get(tx, &to)?.ok_or_else(|| EngineError::not_found("location", &to))?;
                if f.id == t.id {
                    return Err(bad("a transfer needs two different locations"));
                }
                let id = domain::ids::new_id("trf");
                let out = Movement {
                    sku: &sku,
                    location_id: &f.id,
                    kind: MovementKind::TransferOut,
                    on_hand: -quantity,
                    reserved: 0,
                    unsellable: 0,
                    reason: "transfer",
                    source_type: "transfer",
                    source_id: &id,
                };
                let from_level = movements::post(tx, &out, Guard::Available(quantity), now)?;
                let inn = Movement {
                    sku: &sku,
                    location_id: &t.id,
                    kind: MovementKind::TransferIn,
                    on_hand: quantity,
                    reserved: 0,
                    unsellable: 0,
                    reason: "transfer",
                    source_type: "transfer",
                    source_id: &id,
                };
                let to_level = movements::post(tx, &inn, Guard::None, now)?;
                Ok(TransferView { id: id.clone(), sku: sku.clone(), from: from_level, to: to_level })
            })
            .await
    }

    pub async fn set_safety_stock(&self, sku: &str, location_id: &str, safety: i64) -> Result<Level> {
        let (sku, loc, now) = (sku.to_owned(), location_id.to_owned(), self.now());
        self.db
            .write(move |tx| {
                let l = locations::get(tx, &loc)?.ok_or_else(|| EngineError::not_found("location", &loc))?;
                movements::set_safety_stock(tx, &sku, &l.id, safety, now)
            })
            .await
    }

    pub async fn stock(&self, sku: &str) -> Result<SkuLevels> {
        let sku = sku.to_owned();
        self.db.read(move |tx| movements::sku_levels(tx, &sku)).await
    }
}
