//! The fold: a store's fusion state rebuilt from stored events, shoppers known as {visit}/{track}, the review queue and track bindings.

use super::*;

// ---------------- the fold ----------------

/// A store's fusion state on this node. The fusion engine knows each shopper as `{visit}/{track}`, so a
/// tracker that reuses a track id never hands one visit's cart to another.
pub(crate) struct Runtime {
    pub fusion: instore::Engine,
    /// Track → the visit it belongs to, while it is inside.
    pub visit_of: HashMap<String, String>,
    /// Visit → its shoppers (`{visit}/{track}`) and whether each has left.
    pub members: HashMap<String, Vec<(String, bool)>>,
    /// Visits whose every member has left, waiting for their orders (reviews pending, or a failed write).
    pub leaving: Vec<String>,
    /// Latest event time seen.
    pub now_s: f64,
    /// Zones (each facing, each gondola's front) and the enter/exit events with dwell times not yet written.
    pub(crate) zones: instore::ZoneTracker,
    pub(crate) zone_events: Vec<instore::ZoneEvent>,
    /// Products taken from or put back on shelves since the last `take_floor_events`.
    pub(crate) shelf_events: Vec<ShelfEvent>,
    /// Visits replayed after a restart that had already ended: followed, never settled again.
    pub(crate) finished: std::collections::HashSet<String>,
}

/// How far in front of a gondola its front zone reaches (metres).
/// A product a tracked shopper took from a shelf (`quantity` > 0) or put back (< 0).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ShelfEvent {
    pub(crate) t_s: f64,
    /// `{visit}/{track}`.
    pub(crate) target_id: String,
    pub(crate) sku: String,
    pub(crate) quantity: i32,
}

pub const GONDOLA_FRONT_M: f64 = 0.8;

/// Shoppers the fusion engine may have known before the runtime is rebuilt empty (it keeps every
/// shopper's cart until then; the engine's own limit is 4,096).
pub(crate) const RESET_ABOVE: usize = 3_000;

impl Runtime {
    pub(crate) fn new(layout: &LayoutInput) -> Result<Runtime> {
        let layout = to_instore(layout)?;
        let zones =
            instore::ZoneTracker::new(instore::default_zones(&layout, GONDOLA_FRONT_M), instore::ZoneConfig::default());
        Ok(Runtime {
            fusion: instore::Engine::new(layout, instore::EngineConfig::default()),
            visit_of: HashMap::new(),
            members: HashMap::new(),
            leaving: Vec::new(),
            now_s: 0.0,
            zones,
            zone_events: Vec::new(),
            shelf_events: Vec::new(),
            finished: Default::default(),
        })
    }

    /// Zone enters and exits, and shelf picks and put-backs, since the last call (the live path writes
    /// them as events for analytics; a rebuild drops them, they were written before).
    pub(crate) fn take_floor_events(&mut self) -> (Vec<instore::ZoneEvent>, Vec<ShelfEvent>) {
        (std::mem::take(&mut self.zone_events), std::mem::take(&mut self.shelf_events))
    }

    /// The fusion engine's name for a track inside.
    fn fid(&self, target_id: &str) -> Option<String> {
        self.visit_of.get(target_id).map(|s| format!("{s}/{target_id}"))
    }

    /// Whether another shopper can enter (the fusion engine keeps at most 4,096 since its start).
    pub(crate) fn has_room(&self) -> bool {
        self.fusion.shoppers().len() < instore::engine::MAX_SHOPPERS - 1
    }

    /// No visit in progress and many shoppers remembered: start afresh (the owner drops the runtime).
    pub(crate) fn wants_reset(&self) -> bool {
        self.members.is_empty() && self.fusion.shoppers().len() > RESET_ABOVE
    }

    /// Applies a sensor event to the fusion engine (no database effects). Entries and exits are handled by
    /// the caller, which owns their money side.
    pub(crate) fn apply_sensor(&mut self, e: &DeviceEvent) {
        match e {
            DeviceEvent::Plates { gondola, samples, .. } => {
                for &(t, shelf, plate, grams) in samples {
                    if let Some(i) = self.fusion.plate_index(PlateKey { gondola: *gondola, shelf, plate }) {
                        self.fusion.push_plate(i, t, grams);
                    }
                    self.now_s = self.now_s.max(t);
                }
            }
            DeviceEvent::Tracks { frames, .. } => {
                for f in frames {
                    // Tracks of people who never passed the entry gate (staff, a shopper's bag) are ignored.
                    let Some(fid) = self.fid(&f.target_id) else { continue };
                    let mut frame = instore::TrackFrame {
                        t_s: f.t,
                        target_id: fid,
                        state: String::new(),
                        joints: Default::default(),
                        scores: [1.0; instore::model::JOINT_COUNT],
                    };
                    for (name, c) in &f.joints {
                        if let Some(j) = instore::Joint::from_name(name) {
                            frame.joints[j as usize] = Some(instore::Vec3 { x: c[0], y: c[1], z: c[2] });
                        }
                    }
                    let _ = self.fusion.push_track(&frame);
                    self.zones.observe(&frame, &mut self.zone_events);
                    self.now_s = self.now_s.max(f.t);
                }
            }
            DeviceEvent::Review { review_id, key, action, .. } => {
                let review_id = key
                    .as_deref()
                    .and_then(|k| self.fusion.pending_reviews().find(|r| review_matches(r, k)).map(|r| r.id))
                    .unwrap_or(*review_id);
                let review_id = &review_id;
                // Assignments name the shopper as `{visit}/{track}` (what the review listed).
                let r = match action {
                    ReviewAction::Assign { target_id, sku, quantity } => instore::Resolution::Assign {
                        target_id: target_id.clone(),
                        barcode: sku.clone(),
                        quantity: *quantity,
                    },
                    ReviewAction::AssignLines { lines } => instore::Resolution::AssignLines(
                        lines
                            .iter()
                            .map(|l| instore::Assignment {
                                target_id: l.target_id.clone(),
                                barcode: l.sku.clone(),
                                quantity: l.quantity,
                            })
                            .collect(),
                    ),
                    ReviewAction::Dismiss => instore::Resolution::Dismiss,
                };
                if let Err(e) = self.fusion.resolve_review(*review_id, r) {
                    tracing::warn!(review = review_id, error = %e, "instore: a stored review resolution no longer applies");
                }
            }
            DeviceEvent::Entry { .. } | DeviceEvent::Exit { .. } | DeviceEvent::LabelAck { .. } => {}
        }
    }

    /// After a batch of device events: the fusion engine moves on to the newest time. The live path reads
    /// carts from the engine (`basket`), not its event outbox, which is emptied here (left to fill, it kept
    /// the last 100,000 cart events of every store in memory); the cart changes that came from a shelf are
    /// kept as picks and put-backs for analytics (a hand-over between shoppers touches no shelf).
    pub(crate) fn advance(&mut self) {
        self.fusion.advance(self.now_s);
        for ev in self.fusion.drain_events() {
            if let instore::EngineEvent::CartUpdated { t_s, target_id, barcode, quantity, plates, .. } = ev {
                if !plates.is_empty() && quantity != 0 {
                    self.shelf_events.push(ShelfEvent { t_s, target_id, sku: barcode, quantity });
                }
            }
        }
    }

    /// A track of a visit that had already ended joins the replay (its order exists).
    pub(crate) fn admit_finished(
        &mut self,
        target_id: &str,
        session_id: &str,
        t: f64,
    ) -> std::result::Result<(), String> {
        self.finished.insert(session_id.to_owned());
        self.admit(target_id, session_id, t)
    }

    /// A track joins a visit. Fails when the track is already inside or the engine is full.
    pub(crate) fn admit(&mut self, target_id: &str, session_id: &str, t: f64) -> std::result::Result<(), String> {
        if self.visit_of.contains_key(target_id) {
            return Err(format!("track `{target_id}` is already inside"));
        }
        let fid = format!("{session_id}/{target_id}");
        self.fusion.enter(&fid, t, Some(session_id)).map_err(|e| e.to_string())?;
        self.visit_of.insert(target_id.to_owned(), session_id.to_owned());
        self.members.entry(session_id.to_owned()).or_default().push((fid, false));
        self.now_s = self.now_s.max(t);
        Ok(())
    }

    /// A track leaves (its id is free again); when it was the visit's last one inside, the visit waits for
    /// its order.
    pub(crate) fn leave(&mut self, target_id: &str, t: f64) {
        self.now_s = self.now_s.max(t);
        let Some(fid) = self.fid(target_id) else { return };
        let Some(session) = self.visit_of.remove(target_id) else { return };
        let _ = self.fusion.exit(&fid, t);
        self.zones.close_target(&fid, t, &mut self.zone_events);
        if let Some(m) = self.members.get_mut(&session) {
            for x in m.iter_mut().filter(|x| x.0 == fid) {
                x.1 = true;
            }
            if m.iter().all(|x| x.1) {
                if self.finished.remove(&session) {
                    self.close(&session);
                } else if !self.leaving.contains(&session) {
                    self.leaving.push(session);
                }
            }
        }
    }

    /// Whether `fid` (`{visit}/{track}`) is a shopper of a visit in progress.
    pub(crate) fn is_member(&self, fid: &str) -> bool {
        self.members.values().flatten().any(|x| x.0 == fid)
    }

    /// Unresolved review items that name one of the visit's shoppers as a candidate. (An event nobody was
    /// near holds up no visit; staff see it in the queue.)
    pub(crate) fn pending_for(&self, session: &str) -> usize {
        let fids: Vec<&str> =
            self.members.get(session).map(|m| m.iter().map(|x| x.0.as_str()).collect()).unwrap_or_default();
        self.fusion
            .pending_reviews()
            .filter(|r| r.shoppers.iter().any(|s| fids.contains(&s.target_id.as_str())))
            .count()
    }

    /// The visit's basket: the carts of all its shoppers together.
    pub(crate) fn basket(&self, session: &str) -> Vec<SaleLineInput> {
        let mut lines: std::collections::BTreeMap<String, i64> = Default::default();
        for (fid, _) in self.members.get(session).into_iter().flatten() {
            if let Ok(r) = self.fusion.receipt(fid) {
                for l in &r.items {
                    *lines.entry(l.barcode.clone()).or_default() += l.quantity as i64;
                }
            }
        }
        lines.into_iter().filter(|(_, q)| *q > 0).map(|(sku, quantity)| SaleLineInput { sku, quantity }).collect()
    }

    /// Forgets a finished visit.
    pub(crate) fn close(&mut self, session: &str) {
        self.leaving.retain(|s| s != session);
        self.members.remove(session);
        self.visit_of.retain(|_, s| s != session);
    }
}

/// Review items for staff, with SKUs instead of the engine's barcodes (they are the same strings).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReviewView {
    pub id: u64,
    pub reason: String,
    pub confidence: f64,
    pub delta_g: f64,
    pub at: String,
    pub plates: Vec<PlateKey>,
    /// Shoppers who may have done it, most likely first: (track, visit, probability).
    pub shoppers: Vec<serde_json::Value>,
    /// Explanations, best first: each a list of (sku, quantity, probability of the explanation).
    pub products: Vec<Vec<serde_json::Value>>,
}

/// A shopper inside a cashierless store and their virtual cart.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct InsideView {
    /// `{visit}/{track}`, as reviews name shoppers.
    pub target_id: String,
    pub visit_id: String,
    pub track_id: String,
    /// Seconds since they entered (sensor time).
    pub inside_s: f64,
    /// (sku, quantity) taken so far.
    pub items: Vec<(String, u32)>,
    /// Review items that may still change their cart.
    pub pending_reviews: u32,
}

pub(crate) fn review_view(r: &instore::ReviewItem) -> ReviewView {
    ReviewView {
        id: r.id,
        reason: format!("{:?}", r.reason),
        confidence: r.confidence,
        delta_g: r.delta_g,
        at: domain::time::rfc3339((r.t_settled_s * 1000.0) as i64),
        plates: r.plates.clone(),
        shoppers: r
            .shoppers
            .iter()
            .map(|s| {
                let (visit, track) = s.target_id.split_once('/').unwrap_or(("", s.target_id.as_str()));
                serde_json::json!({"target_id": s.target_id, "track_id": track, "session_id": visit, "probability": s.probability})
            })
            .collect(),
        products: r
            .products
            .iter()
            .map(|alt| {
                alt.iter()
                    .map(|l| serde_json::json!({"sku": l.barcode, "quantity": l.quantity, "probability": l.probability}))
                    .collect()
            })
            .collect(),
    }
}

/// A review item's identity that survives a rebuild: when it settled, which plates changed and its likeliest
/// line (two lines of one event reviewed apart can share the time and the plates).
pub(crate) fn review_key(r: &instore::ReviewItem) -> String {
    let line = r.products.first().and_then(|alt| alt.first()).map(|l| format!("#{}x{}", l.barcode, l.quantity));
    format!("{}{}", review_key_v1(r), line.unwrap_or_default())
}

/// The key resolutions stored before 2026-12-07 carry: time and plates only.
fn review_key_v1(r: &instore::ReviewItem) -> String {
    let plates: Vec<String> = r.plates.iter().map(|p| format!("{}.{}.{}", p.gondola, p.shelf, p.plate)).collect();
    format!("{:.3}@{}", r.t_settled_s, plates.join(","))
}

/// Whether a stored resolution's key names this review.
pub(crate) fn review_matches(r: &instore::ReviewItem, key: &str) -> bool {
    if key.contains('#') {
        review_key(r) == key
    } else {
        review_key_v1(r) == key
    }
}

/// Stores a staff resolution as an event of the location's staff pseudo-device; returns it.
pub(crate) fn store_resolution(
    tx: &mut dyn Tx,
    location_id: &str,
    review_id: u64,
    key: String,
    action: &ReviewAction,
    now: i64,
) -> Result<DeviceEvent> {
    let dev = staff_device(tx, location_id, now)?;
    let seq =
        tx.query_opt("SELECT last_seq FROM devices WHERE id = ?", params![&dev.id])?.map_or(Ok(0), |r| r.i64(0))? + 1;
    let e = DeviceEvent::Review { seq, v: Some(1), review_id, key: Some(key), action: action.clone() };
    let (stored, _, _) = store_events(tx, &dev, std::slice::from_ref(&e), 0, now)?;
    stored.into_iter().next().ok_or_else(|| {
        EngineError::conflict("concurrent_review", "another resolution was stored at the same time; retry")
    })
}

/// What a rebuild needs: the layout, the open visits' tracks, and the stored events since the oldest open
/// visit entered.
pub(crate) struct Snapshot {
    pub layout: Option<LayoutInput>,
    pub tracks: Vec<(String, String)>,
    /// Tracks of visits that ended inside the replay window: replayed so that their picks are theirs, never
    /// charged again.
    pub finished: Vec<(String, String)>,
    /// In stored order, each with whether it ends its batch (the live path advances the fusion engine's
    /// clock after every device batch; a rebuild must do the same to reach the same carts).
    pub events: Vec<(DeviceEvent, bool)>,
}

pub(crate) fn snapshot(tx: &mut dyn Tx, location_id: &str) -> Result<Snapshot> {
    let layout = get_layout(tx, location_id)?;
    let tracks = tx
        .query(
            "SELECT t.target_id, t.session_id FROM instore_targets t JOIN cashierless_sessions s ON s.id = t.session_id WHERE t.location_id = ? AND s.status = 'open'",
            params![location_id],
        )?
        .iter()
        .map(|r| Ok((r.text(0)?, r.text(1)?)))
        .collect::<Result<Vec<_>>>()?;
    let open_since = tx
        .query_opt(
            "SELECT MIN(entered_at) FROM cashierless_sessions WHERE location_id = ? AND status = 'open'",
            params![location_id],
        )?
        .and_then(|r| r.opt_i64(0).ok().flatten());
    // From the entry of the first visit that was inside when the oldest open one was (ended ones included).
    let since = match open_since {
        Some(o) => tx
            .query_opt("SELECT MIN(entered_at) FROM cashierless_sessions WHERE location_id = ? AND (status = 'open' OR exited_at >= ?)", params![location_id, o - 60_000])?
            .and_then(|r| r.opt_i64(0).ok().flatten())
            .map(|m| m.min(o)),
        None => None,
    };
    let mut events = Vec::new();
    let mut finished = Vec::new();
    if let Some(since) = since {
        finished = tx
            .query(
                "SELECT t.target_id, t.session_id FROM instore_targets t JOIN cashierless_sessions s ON s.id = t.session_id \
                 WHERE t.location_id = ? AND s.status <> 'open' AND s.exited_at >= ?",
                params![location_id, open_since.unwrap_or(since) - 60_000],
            )?
            .iter()
            .map(|r| Ok((r.text(0)?, r.text(1)?)))
            .collect::<Result<Vec<_>>>()?;
        // Sensors lead the gate by a little; take a minute before the first open visit's entry.
        let rows = tx.query("SELECT payload, device_id, received_at FROM device_events WHERE location_id = ? AND received_at >= ? ORDER BY n", params![location_id, since - 60_000])?;
        let mut batch_of: Vec<(String, i64)> = Vec::with_capacity(rows.len());
        for r in rows.iter() {
            if let Ok(e) = serde_json::from_str::<DeviceEvent>(&r.text(0)?) {
                events.push((e, false));
                batch_of.push((r.text(1)?, r.i64(2)?));
            }
        }
        // A batch is the run of one device's events stored in one transaction (one `received_at`).
        for i in 0..events.len() {
            events[i].1 = batch_of.get(i + 1) != Some(&batch_of[i]);
        }
    }
    Ok(Snapshot { layout, tracks, finished, events })
}

pub(crate) fn bind_track(tx: &mut dyn Tx, location_id: &str, target_id: &str, session_id: &str) -> Result<()> {
    tx.exec(
        "INSERT INTO instore_targets (location_id, target_id, session_id) VALUES (?, ?, ?) ON CONFLICT (location_id, target_id) DO UPDATE SET session_id = excluded.session_id",
        params![location_id, target_id, session_id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fusion_engines_events_do_not_pile_up() {
        let layout = LayoutInput {
            plates: vec![PlateIn { gondola: 1, shelf: 1, plate: 1, sku: Some("A".into()), unit_weight_g: 100.0 }],
            facings: vec![],
        };
        let mut rt = Runtime::new(&layout).expect("a layout");
        // One shopper inside (no body tracker: the gate's word is enough), ten units on the plate, then one
        // is taken: a cart event.
        rt.admit("t1", "visit-1", 0.0).expect("admitted");
        let samples: Vec<(f64, u16, u16, f32)> = (0..60)
            .map(|i| {
                let t = i as f64 * 0.1;
                (t, 1, 1, if t < 3.0 { 1000.0 } else { 900.0 })
            })
            .collect();
        let mut produced = 0;
        for chunk in samples.chunks(10) {
            rt.apply_sensor(&DeviceEvent::Plates { seq: 1, v: None, gondola: 1, samples: chunk.to_vec() });
            rt.fusion.advance(rt.now_s);
            produced += rt.fusion.pending_events();
            rt.advance();
            assert_eq!(rt.fusion.pending_events(), 0, "the outbox is emptied after every batch");
        }
        assert!(produced > 0, "the engine did emit events (so the test can fail)");
        assert_eq!(rt.basket("visit-1").len(), 1, "the cart is read from the engine, not the events: {produced}");
    }
}
