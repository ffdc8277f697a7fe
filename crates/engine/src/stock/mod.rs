//! Stock as a ledger: adjustments, receipts, transfers between locations, safety stock, per-SKU levels, and
//! what a shopper sees of per-store availability.

pub mod grid;
pub mod movements;

use crate::catalog::locations;
use crate::catalog::products::{self, ProductView};
use crate::error::bad;
use crate::platform::auth::Principal;
use crate::platform::{audit, idempotency};
use crate::{Engine, EngineError, Result};
use domain::MovementKind;
use movements::{Guard, Level, Movement, SkuLevels};
use serde::Serialize;
use store::params;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TransferView {
    pub id: String,
    pub sku: String,
    pub from: Level,
    pub to: Level,
}

/// Per-store availability of one SKU as a shopper sees it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StoreAvailability {
    pub location_id: String,
    pub code: String,
    pub name: products::Localized,
    pub kind: String,
    pub available: i64,
    pub pickup_enabled: bool,
    /// "3 at Gangnam, pickup today" / "강남점 3개, 오늘 픽업 가능".
    pub label: products::Localized,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct VariantAvailability {
    pub sku: String,
    pub online_available: i64,
    pub stores: Vec<StoreAvailability>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ProductWithAvailability {
    #[serde(flatten)]
    pub product: ProductView,
    pub availability: Vec<VariantAvailability>,
}

/// One SKU's balance at one location, with the location's canonical id (whatever code or case was sent).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StockLevel {
    pub sku: String,
    pub location_id: String,
    #[serde(flatten)]
    pub level: Level,
}

/// The location `id_or_code`, which staff may change only if it is their own.
fn own_location(tx: &mut dyn store::Tx, by: &Principal, id_or_code: &str) -> Result<locations::LocationView> {
    let loc = locations::get(tx, id_or_code)?.ok_or_else(|| EngineError::not_found("location", id_or_code))?;
    if by.location().is_some_and(|l| l != loc.id) {
        return Err(EngineError::Forbidden("staff change stock at their own location only".into()));
    }
    Ok(loc)
}

fn once_key(key: Option<&str>) -> Result<Option<String>> {
    if let Some(k) = key {
        idempotency::validate_key(k)?;
    }
    Ok(key.map(str::to_owned))
}

/// Claims an idempotency key for one actor's stock change; returns the first result's reference when the
/// same request was already done (a double-submitted form, a retried request).
fn claim(
    tx: &mut dyn store::Tx,
    by: &Principal,
    scope: &str,
    key: Option<&str>,
    request: &[&str],
    result: &str,
    now: i64,
) -> Result<Option<String>> {
    let Some(key) = key else { return Ok(None) };
    let scope = format!("{scope}:{}", by.key_id());
    idempotency::begin(tx, &scope, key, &idempotency::fingerprint(request), result, now)
}

fn already_done(
    tx: &mut dyn store::Tx,
    by: &Principal,
    scope: &str,
    key: Option<&str>,
    request: &[&str],
    now: i64,
) -> Result<bool> {
    Ok(claim(tx, by, scope, key, request, "", now)?.is_some())
}

fn current(tx: &mut dyn store::Tx, sku: &str, location_id: &str) -> Result<StockLevel> {
    let level = movements::level(tx, sku, location_id)?.unwrap_or_default();
    Ok(StockLevel { sku: sku.to_owned(), location_id: location_id.to_owned(), level })
}

impl Engine {
    /// Corrects on-hand stock after a count, damage, loss or a found item: an `adjustment` movement either way
    /// (goods arriving from a supplier are a receipt: [`Engine::receive_stock`]).
    pub async fn adjust_stock(
        &self,
        by: &Principal,
        key: Option<&str>,
        sku: &str,
        location_id: &str,
        delta: i64,
        reason: &str,
    ) -> Result<StockLevel> {
        let sku = &products::canonical_sku(sku)?;
        if delta == 0 || delta.abs() > domain::stock::MAX_ADJUSTMENT_QTY {
            return Err(bad(format!(
                "`quantity_delta` must be non-zero and within ±{}",
                domain::stock::MAX_ADJUSTMENT_QTY
            )));
        }
        let reason = domain::text::required("reason", reason, 200).map_err(bad)?;
        let key = once_key(key)?;
        let (sku, loc, now, by) = (sku.to_owned(), location_id.to_owned(), self.now(), by.clone());
        self.db
            .write(move |tx| {
                let loc = own_location(tx, &by, &loc)?;
                if tx.query_opt("SELECT 1 FROM variants WHERE sku = ?", params![&sku])?.is_none() {
                    return Err(EngineError::not_found("sku", &sku));
                }
                let fp = [sku.as_str(), &loc.id, &delta.to_string(), &reason];
                if already_done(tx, &by, "stock.adjust", key.as_deref(), &fp, now)? {
                    return current(tx, &sku, &loc.id);
                }
                let json = serde_json::json!({"sku": &sku, "delta": delta, "reason": &reason});
                audit::record(tx, &by, "stock.adjusted", &sku, Some(&loc.id), &json, now)?;
                let kind = MovementKind::Adjustment;
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
                .map(|level| StockLevel { sku: sku.clone(), location_id: loc.id.clone(), level })
            })
            .await
    }

    /// Goods received at a location (a supplier delivery, a return to vendor reversed): a `receipt` movement
    /// with the reason and an optional reference (a delivery note or purchase order number).
    pub async fn receive_stock(
        &self,
        by: &Principal,
        key: Option<&str>,
        sku: &str,
        location_id: &str,
        quantity: i64,
        reason: &str,
        reference: Option<String>,
    ) -> Result<StockLevel> {
        let sku = products::canonical_sku(sku)?;
        if !(1..=domain::stock::MAX_ADJUSTMENT_QTY).contains(&quantity) {
            return Err(bad(format!("`quantity` must be 1–{}", domain::stock::MAX_ADJUSTMENT_QTY)));
        }
        let reason = domain::text::required("reason", reason, 200).map_err(bad)?;
        let reference = domain::text::optional("reference", reference.as_deref().unwrap_or(""), 100).map_err(bad)?;
        let key = once_key(key)?;
        let (loc, now, by) = (location_id.to_owned(), self.now(), by.clone());
        self.db
            .write(move |tx| {
                let loc = own_location(tx, &by, &loc)?;
                if tx.query_opt("SELECT 1 FROM variants WHERE sku = ?", params![&sku])?.is_none() {
                    return Err(EngineError::not_found("sku", &sku));
                }
                let fp = [sku.as_str(), &loc.id, &quantity.to_string(), &reason, &reference];
                if already_done(tx, &by, "stock.receive", key.as_deref(), &fp, now)? {
                    return current(tx, &sku, &loc.id);
                }
                let json =
                    serde_json::json!({"sku": &sku, "quantity": quantity, "reason": &reason, "reference": &reference});
                audit::record(tx, &by, "stock.received", &sku, Some(&loc.id), &json, now)?;
                let source = if reference.is_empty() { domain::ids::new_id("rcv") } else { reference.clone() };
                let m = Movement {
                    sku: &sku,
                    location_id: &loc.id,
                    kind: MovementKind::Receipt,
                    on_hand: quantity,
                    reserved: 0,
                    unsellable: 0,
                    reason: &reason,
                    source_type: "receipt",
                    source_id: &source,
                };
                let level = movements::post(tx, &m, Guard::None, now)?;
                Ok(StockLevel { sku: sku.clone(), location_id: loc.id.clone(), level })
            })
            .await
    }

    /// A SKU's movements, newest first, optionally at one location; `after` is the previous page's last `seq`.
    pub async fn stock_movements(
        &self,
        sku: &str,
        location_id: Option<&str>,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<movements::MovementView>> {
        let sku = products::canonical_sku(sku)?;
        let loc = location_id.map(str::to_owned);
        self.db
            .read(move |tx| {
                let loc = match &loc {
                    Some(l) => Some(locations::get(tx, l)?.ok_or_else(|| EngineError::not_found("location", l))?.id),
                    None => None,
                };
                if tx.query_opt("SELECT 1 FROM variants WHERE sku = ?", params![&sku])?.is_none() {
                    return Err(EngineError::not_found("sku", &sku));
                }
                movements::list(tx, &sku, loc.as_deref(), after, limit)
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
    /// Staff send stock from their own location only.
    pub async fn transfer(
        &self,
        by: &Principal,
        key: Option<&str>,
        sku: &str,
        from: &str,
        to: &str,
        quantity: i64,
    ) -> Result<TransferView> {
        let sku = &products::canonical_sku(sku)?;
        domain::Qty::new(quantity).map_err(|m| EngineError::invalid("invalid_quantity", m))?;
        let key = once_key(key)?;
        let (sku, from, to, now, by) = (sku.to_owned(), from.to_owned(), to.to_owned(), self.now(), by.clone());
        self.db
            .write(move |tx| {
                let f = own_location(tx, &by, &from)?;
                let t = locations::get(tx, &to)?.ok_or_else(|| EngineError::not_found("location", &to))?;
                if f.id == t.id {
                    return Err(bad("a transfer needs two different locations"));
                }
                let id = domain::ids::new_id("xfr");
                let fp = [sku.as_str(), &f.id, &t.id, &quantity.to_string()];
                if let Some(first) = claim(tx, &by, "stock.transfer", key.as_deref(), &fp, &id, now)? {
                    let (from, to) = (current(tx, &sku, &f.id)?.level, current(tx, &sku, &t.id)?.level);
                    return Ok(TransferView { id: first, sku: sku.clone(), from, to });
                }
                let json = serde_json::json!({"sku": &sku, "to": &t.id, "quantity": quantity, "transfer": &id});
                audit::record(tx, &by, "stock.transferred", &sku, Some(&f.id), &json, now)?;
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

    /// A page of the SKU × location grid (the console's inventory screen).
    pub async fn inventory_grid(&self, mut q: grid::GridQuery) -> Result<grid::Grid> {
        q.limit = q.limit.clamp(1, 200);
        self.db.read(move |tx| grid::grid(tx, &q)).await
    }

    pub async fn set_safety_stock(
        &self,
        by: &Principal,
        sku: &str,
        location_id: &str,
        safety: i64,
    ) -> Result<StockLevel> {
        let sku = &products::canonical_sku(sku)?;
        let (sku, loc, now, by) = (sku.to_owned(), location_id.to_owned(), self.now(), by.clone());
        self.db
            .write(move |tx| {
                let l = own_location(tx, &by, &loc)?;
                audit::record(
                    tx,
                    &by,
                    "stock.safety_set",
                    &sku,
                    Some(&l.id),
                    &serde_json::json!({"safety_stock": safety}),
                    now,
                )?;
                let level = movements::set_safety_stock(tx, &sku, &l.id, safety, now)?;
                Ok(StockLevel { sku: sku.clone(), location_id: l.id.clone(), level })
            })
            .await
    }

    pub async fn stock(&self, sku: &str) -> Result<SkuLevels> {
        let sku = &products::canonical_sku(sku)?;
        let sku = sku.to_owned();
        self.db.read(move |tx| movements::sku_levels(tx, &sku)).await
    }

    /// A product with per-location availability of each variant, for the storefront.
    pub async fn product_with_availability(&self, id: &str) -> Result<ProductWithAvailability> {
        let id = id.to_owned();
        self.db
            .read(move |tx| {
                let p = products::load_product(tx, &id)?.ok_or_else(|| EngineError::not_found("product", &id))?;
                if p.status != "active" {
                    return Err(EngineError::not_found("product", &id));
                }
                let mut availability = Vec::new();
                for v in &p.variants {
                    let levels = movements::sku_levels(tx, &v.sku)?;
                    let mut online = 0;
                    let mut stores = Vec::new();
                    for l in levels.locations {
                        let avail = l.level.available;
                        if l.kind == "warehouse" {
                            online += avail;
                            continue;
                        }
                        let label = match (avail, l.pickup_enabled) {
                            (0, _) => products::Localized {
                                ko: format!("{} 품절", l.location_name.ko),
                                en: format!("Sold out at {}", l.location_name.en),
                            },
                            (n, true) => products::Localized {
                                ko: format!("{} {n}개, 오늘 픽업 가능", l.location_name.ko),
                                en: format!("{n} at {}, pickup today", l.location_name.en),
                            },
                            (n, false) => products::Localized {
                                ko: format!("{} {n}개 (매장 구매)", l.location_name.ko),
                                en: format!("{n} at {} (in store only)", l.location_name.en),
                            },
                        };
                        stores.push(StoreAvailability {
                            location_id: l.location_id,
                            code: l.location_code,
                            name: l.location_name,
                            kind: l.kind,
                            available: avail,
                            pickup_enabled: l.pickup_enabled,
                            label,
                        });
                    }
                    availability.push(VariantAvailability { sku: v.sku.clone(), online_available: online, stores });
                }
                Ok(ProductWithAvailability { product: p, availability })
            })
            .await
    }
}
