//! In-store: cashierless visits (entry holds, exit charges) and live cashierless stores (layouts, devices,
//! device events, the fusion state per store, the review queue, shelf labels).

pub mod cashierless;
pub mod live;

use crate::catalog::locations;
use crate::catalog::products;
use crate::error::{bad, internal};
use crate::platform::auth::Principal;
use crate::platform::{audit, events, idempotency};
use crate::sales::orders::{OrderView, SaleLineInput};
use crate::{Engine, EngineError, Result};
use live::ReviewLine;
use std::collections::HashMap;
use std::sync::Arc;
use store::params;

/// The fusion state of each live cashierless store served by this node (built on first use).
#[derive(Default)]
pub(crate) struct InstoreState {
    pub(crate) stores: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<live::Runtime>>>>>,
}

impl Engine {
    /// A cashierless entry gate scanned a shopper's payment code: opens the visit and pre-authorizes their
    /// wallet up to the configured cap.
    pub async fn cashierless_enter(
        &self,
        principal: &Principal,
        location_id: &str,
        payment_code: &str,
        idempotency_key: Option<String>,
    ) -> Result<cashierless::SessionView> {
        if let Some(staff) = principal.location() {
            if staff != location_id {
                return Err(EngineError::Forbidden("a gate acts for its own store only".into()));
            }
        }
        if let Some(k) = &idempotency_key {
            idempotency::validate_key(k)?;
        }
        let (loc, code, cap, now) =
            (location_id.to_owned(), payment_code.to_owned(), self.cfg.cashierless_cap_minor, self.now());
        let scope = format!("cashierless.enter:{}", principal.key_id());
        self.db
            .write(move |tx| {
                let loc = locations::get(tx, &loc)?.ok_or_else(|| EngineError::not_found("location", &loc))?.id;
                if let Some(k) = &idempotency_key {
                    // A gate retrying the same scan gets the same visit.
                    let hash = idempotency::fingerprint(&[&loc, &code]);
                    if let Some(existing) = idempotency::begin(tx, &scope, k, &hash, "", now)? {
                        return cashierless::view(tx, &existing);
                    }
                    let s = cashierless::enter(tx, &loc, &code, cap, "KRW", now)?;
                    idempotency::set_result(tx, &scope, k, &s.id)?;
                    return Ok(s);
                }
                cashierless::enter(tx, &loc, &code, cap, "KRW", now)
            })
            .await
    }

    /// The exit gate: the basket (possibly empty) is sold and charged from the entry hold.
    pub async fn cashierless_exit(
        &self,
        principal: &Principal,
        session_id: &str,
        lines: Vec<SaleLineInput>,
    ) -> Result<(cashierless::SessionView, Option<OrderView>)> {
        let (id, key, now, payments, staff) = (
            session_id.to_owned(),
            principal.key_id().to_owned(),
            self.now(),
            self.money.payments.clone(),
            principal.location().map(str::to_owned),
        );
        self.db
            .write(move |tx| {
                let s = cashierless::view(tx, &id)?;
                if staff.as_deref().is_some_and(|l| l != s.location_id) {
                    return Err(EngineError::Forbidden("a gate acts for its own store only".into()));
                }
                cashierless::exit(tx, &payments, &id, lines.clone(), &key, now)
            })
            .await
    }

    /// Replaces a cashierless store's layout (planogram and facings); the store's fusion state restarts
    /// from it.
    pub async fn put_store_layout(&self, location_id: &str, mut layout: live::LayoutInput) -> Result<()> {
        for p in layout.plates.iter_mut() {
            if let Some(s) = p.sku.as_mut() {
                *s = products::canonical_sku(s)?;
            }
        }
        for f in layout.facings.iter_mut() {
            f.sku = products::canonical_sku(&f.sku)?;
        }
        let (loc, now) = (location_id.to_owned(), self.now());
        let cell = self.instore_cell(location_id);
        let mut rt = cell.lock().await;
        self.db.write(move |tx| live::put_layout(tx, &loc, &layout, now)).await?;
        *rt = None;
        Ok(())
    }

    pub async fn store_layout(&self, location_id: &str) -> Result<live::LayoutInput> {
        let loc = location_id.to_owned();
        self.db
            .read(move |tx| live::get_layout(tx, &loc)?.ok_or_else(|| EngineError::not_found("store layout", &loc)))
            .await
    }

    /// Registers a device at a store; its token is shown once.
    pub async fn register_device(
        &self,
        location_id: &str,
        kind: &str,
        code: &str,
        sku: Option<String>,
    ) -> Result<live::IssuedDevice> {
        let sku = sku.map(|s| products::canonical_sku(&s)).transpose()?;
        let (loc, kind, code, now) = (location_id.to_owned(), kind.to_owned(), code.to_owned(), self.now());
        self.db.write(move |tx| live::register(tx, &loc, &kind, &code, sku.as_deref(), now)).await
    }

    /// A new token for a device (the old one stops working); shown once.
    pub async fn rotate_device_token(&self, location_id: &str, device_id: &str) -> Result<live::IssuedDevice> {
        let (loc, dev, now) = (location_id.to_owned(), device_id.to_owned(), self.now());
        self.db.write(move |tx| live::rotate_token(tx, &loc, &dev, now)).await
    }

    /// Takes a device out of service for good; returns the store's devices view of it.
    pub async fn revoke_device(&self, location_id: &str, device_id: &str) -> Result<live::DeviceView> {
        let (loc, dev, now) = (location_id.to_owned(), device_id.to_owned(), self.now());
        self.db.write(move |tx| live::revoke(tx, &loc, &dev, now)).await?;
        self.devices(location_id)
            .await?
            .into_iter()
            .find(|d| d.id == device_id)
            .ok_or_else(|| EngineError::not_found("device", device_id))
    }

    /// What every shelf label should show now (a full sync, at start).
    pub async fn all_label_commands(&self) -> Result<Vec<live::LabelCommand>> {
        self.db.read(|tx| live::label_commands(tx, None)).await
    }

    /// The label commands for products that changed after `cursors.0` (prices, titles) and for labels
    /// registered after `cursors.1`; returns the cursors after them.
    pub async fn label_commands_after(
        &self,
        cursors: (events::Cursor, events::Cursor),
    ) -> Result<(Vec<live::LabelCommand>, (events::Cursor, events::Cursor))> {
        let (c0, c1) = cursors;
        let (products, n0) =
            self.db.read(move |tx| events::feed(tx, c0, events::MAX_FEED_PAGE, Some("product."))).await?;
        let (labels, n1) = self
            .db
            .read(move |tx| events::feed(tx, c1, events::MAX_FEED_PAGE, Some("instore.label_registered")))
            .await?;
        let mut skus: Vec<String> = products
            .iter()
            .flat_map(|e| e.data["product"]["variants"].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v["sku"].as_str().map(str::to_owned))
            .chain(labels.iter().filter_map(|e| e.data["sku"].as_str().map(str::to_owned)))
            .collect();
        skus.sort();
        skus.dedup();
        if skus.is_empty() {
            return Ok((Vec::new(), (n0, n1)));
        }
        let cmds = self.db.read(move |tx| live::label_commands(tx, Some(&skus))).await?;
        Ok((cmds, (n0, n1)))
    }

    /// Devices whose token was rotated or that were revoked after `cursor` (the embedded broker closes
    /// their connections at once), and the cursor to pass next.
    pub async fn device_credential_changes_after(
        &self,
        cursor: events::Cursor,
    ) -> Result<(Vec<String>, events::Cursor)> {
        let (evs, next) =
            self.db.read(move |tx| events::feed(tx, cursor, events::MAX_FEED_PAGE, Some("device."))).await?;
        Ok((evs.into_iter().map(|e| e.aggregate_id).collect(), next))
    }

    /// A store's shelf labels with the catalog price and what each last confirmed showing.
    pub async fn store_labels(&self, location_id: &str) -> Result<Vec<live::LabelView>> {
        let loc = location_id.to_owned();
        self.db.read(move |tx| live::labels(tx, &loc)).await
    }

    pub async fn devices(&self, location_id: &str) -> Result<Vec<live::DeviceView>> {
        let loc = location_id.to_owned();
        self.db.read(move |tx| live::list_devices(tx, &loc)).await
    }

    /// A device by its store's code and its own code, with the key its MQTT payloads are signed with.
    pub async fn device_by_code(&self, location_code: &str, device_code: &str) -> Result<(live::DeviceRef, String)> {
        let (l, d) = (location_code.to_owned(), device_code.to_owned());
        self.db.read(move |tx| live::by_code(tx, &l, &d)).await
    }

    pub async fn authenticate_device(&self, token: &str) -> Result<live::DeviceRef> {
        let token = token.to_owned();
        self.db.read(move |tx| live::authenticate(tx, &token)).await
    }

    /// The MQTT identity of the device holding `token` (the embedded broker's login and topic ACL).
    pub async fn device_mqtt_identity(&self, token: &str) -> Result<live::MqttIdentity> {
        let token = token.to_owned();
        self.db.read(move |tx| live::mqtt_identity(tx, &token)).await
    }

    fn instore_cell(&self, location_id: &str) -> Arc<tokio::sync::Mutex<Option<live::Runtime>>> {
        self.instore.stores.lock().unwrap_or_else(|e| e.into_inner()).entry(location_id.to_owned()).or_default().clone()
    }

    /// Builds a store's fusion state: the layout, then every stored event since the oldest open visit
    /// entered, folded again (tracks bound to open visits come from the database; nothing is charged twice).
    async fn instore_load(&self, location_id: &str, slot: &mut Option<live::Runtime>) -> Result<()> {
        if slot.is_some() {
            return Ok(());
        }
        let loc = location_id.to_owned();
        let snap = self.db.read(move |tx| live::snapshot(tx, &loc)).await?;
        let layout = snap.layout.ok_or_else(|| {
            EngineError::invalid("no_layout", "this store has no layout yet: PUT /admin/stores/{id}/layout first")
        })?;
        let mut rt = live::Runtime::new(&layout)?;
        let bound: HashMap<String, String> = snap.tracks.into_iter().collect();
        let mut finished: HashMap<String, String> = snap.finished.into_iter().collect();
        // Sensor events from before the first open visit entered (by more than a few seconds) belong to
        // visits that are over; folding them again would only raise reviews nobody can settle.
        let start = snap
            .events
            .iter()
            .filter_map(|(e, _)| match e {
                live::DeviceEvent::Entry { t, target_id, .. }
                    if bound.contains_key(target_id) || finished.contains_key(target_id) =>
                {
                    Some(*t)
                }
                _ => None,
            })
            .reduce(f64::min)
            .unwrap_or(f64::INFINITY)
            - 5.0;
        for (e, ends_batch) in &snap.events {
            let before_window = e.first_t().is_some_and(|t| t < start);
            match e {
                _ if before_window => {}
                live::DeviceEvent::Entry { t, target_id, .. } => {
                    // A track id may have served an ended visit first and an open one later.
                    let r = match (finished.remove(target_id), bound.get(target_id)) {
                        (Some(done), _) => rt.admit_finished(target_id, &done, *t),
                        (None, Some(session)) => rt.admit(target_id, session, *t),
                        (None, None) => Ok(()),
                    };
                    if let Err(e) = r {
                        tracing::warn!(track = %target_id, error = %e, "instore: a replayed entry no longer applies");
                    }
                }
                live::DeviceEvent::Exit { t, target_id, .. } => rt.leave(target_id, *t),
                other => rt.apply_sensor(other),
            }
            // As live: the clock moves after each device batch (staff resolutions do not move it).
            if *ends_batch && !matches!(e, live::DeviceEvent::Review { .. }) {
                rt.advance();
            }
        }
        rt.take_floor_events();
        *slot = Some(rt);
        Ok(())
    }

    /// Takes a batch of events from a device: each is checked, the valid ones are stored (duplicates
    /// dropped, gaps reported) in one transaction and only then applied and acknowledged. Entries open
    /// visits (a wallet hold from the shopper's payment code); exits place the cashierless order when no
    /// review is pending for the visit.
    pub async fn ingest_device_events(
        &self,
        dev: &live::DeviceRef,
        batch: Vec<serde_json::Value>,
    ) -> Result<live::IngestOutcome> {
        // Detached: a client that hangs up cannot stop a batch halfway between storing and applying it.
        let (this, dev) = (self.clone(), dev.clone());
        tokio::spawn(async move { this.ingest_batch(&dev, batch).await })
            .await
            .map_err(|e| internal(format!("device batch stopped: {e}")))?
    }

    async fn ingest_batch(&self, dev: &live::DeviceRef, batch: Vec<serde_json::Value>) -> Result<live::IngestOutcome> {
        if batch.is_empty() || batch.len() > live::MAX_BATCH {
            return Err(bad(format!("a batch holds 1–{} events", live::MAX_BATCH)));
        }
        let mut out = live::IngestOutcome::default();
        let mut valid = Vec::new();
        for (index, v) in batch.iter().enumerate() {
            match live::parse_event(&dev.kind, v) {
                Ok(e) => valid.push(e),
                Err(error) => {
                    out.rejected.push(live::Rejected { index, seq: v.get("seq").and_then(|s| s.as_i64()), error })
                }
            }
        }
        if dev.kind == "esl" {
            // Labels (in any store) only confirm what they show: stored, no fusion state involved.
            let (d, now, rejected) = (dev.clone(), self.now(), out.rejected.len());
            let (stored, dups, gaps) =
                self.db.write(move |tx| live::store_events(tx, &d, &valid, rejected, now)).await?;
            out.accepted = stored.len();
            out.duplicates = dups;
            out.gaps = gaps;
            return Ok(out);
        }
        let cell = self.instore_cell(&dev.location_id);
        let mut guard = cell.lock().await;
        self.instore_load(&dev.location_id, &mut guard).await?;
        // Plates that are not in the layout are refused before anything is stored.
        if let Some(rt) = guard.as_ref() {
            let before = valid.len();
            let mut kept = Vec::with_capacity(before);
            for e in valid {
                if let live::DeviceEvent::Plates { seq, gondola, samples, .. } = &e {
                    if let Some(s) = samples.iter().find(|s| {
                        rt.fusion.plate_index(instore::PlateKey { gondola: *gondola, shelf: s.1, plate: s.2 }).is_none()
                    }) {
                        let index =
                            batch.iter().position(|v| v.get("seq").and_then(|x| x.as_i64()) == Some(*seq)).unwrap_or(0);
                        out.rejected.push(live::Rejected {
                            index,
                            seq: Some(*seq),
                            error: format!(
                                "gondola {gondola} shelf {} plate {} is not in the store's layout",
                                s.1, s.2
                            ),
                        });
                        continue;
                    }
                }
                kept.push(e);
            }
            valid = kept;
        }
        let (d, now, rejected) = (dev.clone(), self.now(), out.rejected.len());
        let (stored, dups, gaps) = self.db.write(move |tx| live::store_events(tx, &d, &valid, rejected, now)).await?;
        out.accepted = stored.len();
        out.duplicates = dups;
        out.gaps = gaps;
        let rt = guard.as_mut().ok_or_else(|| internal("store state missing".into()))?;
        for e in &stored {
            match e {
                live::DeviceEvent::Entry { t, target_id, payment_code, with_target, .. } => {
                    let decision = self
                        .instore_enter(
                            &dev.location_id,
                            rt,
                            *t,
                            target_id,
                            payment_code.as_deref(),
                            with_target.as_deref(),
                        )
                        .await;
                    out.entries.push(decision);
                }
                live::DeviceEvent::Exit { t, target_id, .. } => rt.leave(target_id, *t),
                other => rt.apply_sensor(other),
            }
        }
        rt.advance();
        let (zones, shelf) = rt.take_floor_events();
        if !zones.is_empty() || !shelf.is_empty() {
            let (loc, now) = (dev.location_id.clone(), self.now());
            if let Err(e) = self.db.write(move |tx| live::emit_floor_events(tx, &loc, &zones, &shelf, now)).await {
                tracing::warn!(error = %e, "instore: writing zone and shelf events failed (analytics only)");
            }
        }
        out.orders = self.instore_settle(&dev.location_id, rt).await;
        if rt.wants_reset() {
            *guard = None;
        }
        Ok(out)
    }

    async fn instore_enter(
        &self,
        location_id: &str,
        rt: &mut live::Runtime,
        t: f64,
        target: &str,
        code: Option<&str>,
        with: Option<&str>,
    ) -> live::EntryDecision {
        let refuse = |reason: String| live::EntryDecision {
            target_id: target.to_owned(),
            admitted: false,
            session_id: None,
            reason: Some(reason),
        };
        if rt.visit_of.contains_key(target) {
            return refuse(format!("track `{target}` is already inside"));
        }
        if !rt.has_room() {
            return refuse("the store's tracking is full; try again when shoppers have left".into());
        }
        let session = match (code, with) {
            (_, Some(w)) => match rt.visit_of.get(w) {
                Some(s) => {
                    let (loc, tgt, sid) = (location_id.to_owned(), target.to_owned(), s.clone());
                    if let Err(e) = self.db.write(move |tx| live::bind_track(tx, &loc, &tgt, &sid)).await {
                        return refuse(e.to_string());
                    }
                    s.clone()
                }
                None => return refuse(format!("`{w}` is not inside")),
            },
            (Some(code), None) => {
                // The visit, its wallet hold and the track binding in one transaction.
                let (loc, code, cap, now, tgt) = (
                    location_id.to_owned(),
                    code.to_owned(),
                    self.cfg.cashierless_cap_minor,
                    self.now(),
                    target.to_owned(),
                );
                let r: Result<cashierless::SessionView> = self
                    .db
                    .write(move |tx| {
                        let s = cashierless::enter(tx, &loc, &code, cap, "KRW", now)?;
                        live::bind_track(tx, &loc, &tgt, &s.id)?;
                        Ok(s)
                    })
                    .await;
                match r {
                    Ok(s) => s.id,
                    Err(e) => return refuse(e.to_string()),
                }
            }
            (None, None) => return refuse("no payment code".into()),
        };
        if let Err(e) = rt.admit(target, &session, t) {
            tracing::error!(visit = %session, track = %target, error = %e, "instore: the visit is open but its track could not be followed");
            return refuse(e);
        }
        live::EntryDecision { target_id: target.to_owned(), admitted: true, session_id: Some(session), reason: None }
    }

    /// Places the orders of visits that have left and have no review pending; returns the orders placed.
    /// A failed write leaves the visit waiting; the next batch retries.
    async fn instore_settle(&self, location_id: &str, rt: &mut live::Runtime) -> Vec<String> {
        let mut placed = Vec::new();
        for session in rt.leaving.clone() {
            if rt.pending_for(&session) > 0 {
                continue;
            }
            let lines = rt.basket(&session);
            let (payments, now, sid, key) =
                (self.money.payments.clone(), self.now(), session.clone(), format!("instore:{location_id}"));
            match self.db.write(move |tx| cashierless::exit(tx, &payments, &sid, lines.clone(), &key, now)).await {
                Ok((_, order)) => {
                    placed.extend(order.map(|o| o.id));
                    rt.close(&session);
                }
                Err(e @ EngineError::Db(_)) => {
                    tracing::warn!(visit = %session, error = %e, "instore: placing the visit's order failed; retrying with the next events")
                }
                Err(e) => {
                    // It will not succeed by retrying (a product without a KRW price, stock the ledger
                    // does not have, a visit closed by staff): stop retrying and tell staff.
                    tracing::error!(visit = %session, error = %e, "instore: the visit's order cannot be placed; staff must settle it");
                    let (sid, msg, now) = (session.clone(), e.to_string(), self.now());
                    let _ = self
                        .db
                        .write(move |tx| {
                            events::emit(
                                tx,
                                "cashierless.exit_failed",
                                &sid,
                                &serde_json::json!({"session": &sid, "error": msg}),
                                now,
                            )
                        })
                        .await;
                    rt.close(&session);
                }
            }
        }
        placed
    }

    /// The store's open review items.
    /// Shoppers inside a cashierless store now, each with the virtual cart the sensors have built so far.
    pub async fn store_inside(&self, location_id: &str) -> Result<Vec<live::InsideView>> {
        let cell = self.instore_cell(location_id);
        let mut guard = cell.lock().await;
        self.instore_load(location_id, &mut guard).await?;
        let rt = guard.as_ref().ok_or_else(|| internal("store state missing".into()))?;
        Ok(rt
            .fusion
            .shoppers()
            .into_iter()
            .filter(|(_, _, present)| *present)
            .filter_map(|(id, entered_s, _)| {
                let r = rt.fusion.receipt(id).ok()?;
                let (visit, track) = id.split_once('/').unwrap_or(("", id));
                Some(live::InsideView {
                    target_id: id.to_owned(),
                    visit_id: visit.to_owned(),
                    track_id: track.to_owned(),
                    inside_s: (rt.now_s - entered_s).max(0.0),
                    items: r.items.iter().map(|l| (l.barcode.clone(), l.quantity)).collect(),
                    pending_reviews: r.pending_reviews,
                })
            })
            .collect())
    }

    pub async fn store_reviews(&self, location_id: &str) -> Result<Vec<live::ReviewView>> {
        let cell = self.instore_cell(location_id);
        let mut guard = cell.lock().await;
        self.instore_load(location_id, &mut guard).await?;
        let rt = guard.as_ref().ok_or_else(|| internal("store state missing".into()))?;
        Ok(rt.fusion.pending_reviews().map(live::review_view).collect())
    }

    /// Staff settle a review item; visits that were waiting on it get their orders. Returns those orders.
    pub async fn resolve_store_review(
        &self,
        by: &Principal,
        location_id: &str,
        review_id: u64,
        mut action: live::ReviewAction,
    ) -> Result<Vec<String>> {
        if by.location().is_some_and(|l| l != location_id) {
            return Err(EngineError::Forbidden("staff resolve reviews at their own store only".into()));
        }
        match &mut action {
            live::ReviewAction::Assign { sku, .. } => *sku = products::canonical_sku(sku)?,
            live::ReviewAction::AssignLines { lines } => {
                if lines.is_empty() || lines.len() > instore::MAX_RESOLUTION_LINES {
                    return Err(bad(format!(
                        "`lines` holds 1–{} lines, got {}",
                        instore::MAX_RESOLUTION_LINES,
                        lines.len()
                    )));
                }
                for l in lines.iter_mut() {
                    l.sku = products::canonical_sku(&l.sku)?;
                }
            }
            live::ReviewAction::Dismiss => {}
        }
        let cell = self.instore_cell(location_id);
        let mut guard = cell.lock().await;
        self.instore_load(location_id, &mut guard).await?;
        let rt = guard.as_mut().ok_or_else(|| internal("store state missing".into()))?;
        let key = rt
            .fusion
            .pending_reviews()
            .find(|r| r.id == review_id)
            .map(live::review_key)
            .ok_or_else(|| EngineError::not_found("open review", review_id.to_string()))?;
        let lines = action.lines();
        for (i, l) in lines.iter().enumerate() {
            let ReviewLine { target_id, sku, quantity } = l;
            if !rt.is_member(target_id) {
                return Err(bad(format!("`{target_id}` is not a shopper of a visit in progress (use the review's `target_id`, `{{visit}}/{{track}}`)")));
            }
            if rt.fusion.layout().product_index(sku).is_none() {
                return Err(bad(format!("{sku} is not on this store's shelves")));
            }
            if *quantity == 0 || quantity.abs() > 100 {
                return Err(bad(format!("`quantity` is −100…100 and not 0 (got {quantity} for {sku})")));
            }
            if lines[..i].iter().any(|o| &o.target_id == target_id && &o.sku == sku) {
                return Err(bad(format!(
                    "{sku} for `{target_id}` is named twice; give one line with the total quantity"
                )));
            }
        }
        let skus: Vec<String> = lines.iter().map(|l| l.sku.clone()).collect();
        if !skus.is_empty() {
            self.db
                .read(move |tx| {
                    for sku in &skus {
                        if tx.query_opt("SELECT 1 FROM variants WHERE sku = ?", params![sku])?.is_none() {
                            return Err(EngineError::not_found("sku", sku.clone()));
                        }
                    }
                    Ok(())
                })
                .await?;
        }
        let (loc, now, a, by) = (location_id.to_owned(), self.now(), action.clone(), by.clone());
        let e = self
            .db
            .write(move |tx| {
                let details = serde_json::to_value(&a).unwrap_or_default();
                audit::record(
                    tx,
                    &by,
                    "instore.review_resolved",
                    &format!("review:{review_id}"),
                    Some(&loc),
                    &details,
                    now,
                )?;
                live::store_resolution(tx, &loc, review_id, key.clone(), &a, now)
            })
            .await?;
        rt.apply_sensor(&e);
        Ok(self.instore_settle(location_id, rt).await)
    }

    pub async fn cashierless_session(&self, id: &str) -> Result<cashierless::SessionView> {
        let id = id.to_owned();
        self.db.read(move |tx| cashierless::view(tx, &id)).await
    }

    /// Expires lapsed payment authorizations; returns how many.
    /// Holds placed for orders are released by the order's own flow (cancel, pickup expiry); this expires
    /// the others (for example pre-authorizations), one transaction each.
    /// Closes cashierless visits that outlived their expiry without an exit; returns how many.
    pub async fn expire_visits(&self) -> Result<usize> {
        let now = self.now();
        self.db.write(move |tx| cashierless::expire(tx, now)).await
    }
}
