//! Live cashierless stores: each store's layout (planogram and facings), its device registry (gates, shelf
//! gondolas, trackers, shelf labels — each with its own token and sequence bookkeeping), the durable intake
//! of device events (stored before they are acknowledged, duplicates dropped, gaps counted, bad events
//! rejected one by one with a reason), and per store the fusion engine folded over the stored events:
//! entries open visits with a wallet hold, exits place the cashierless order, and events the sensors cannot
//! settle wait in a review queue that staff resolve. The fold is replayed from the stored events after a
//! restart, so an acknowledged event is never lost. One node should serve a store's devices at a time.

use crate::error::{bad, EngineError, Result};
use crate::sales::orders::SaleLineInput;
use instore::{PlateKey, StoreLayout};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use store::{params, Tx};

/// Events per ingest call at most.
pub const MAX_BATCH: usize = 500;
/// Plate samples per `plates` event at most (a gondola of 72 plates sends 12 samples each per message).
pub const MAX_SAMPLES: usize = 5_000;
/// Track frames per `tracks` event at most.
pub const MAX_FRAMES: usize = 200;
/// How far one event's `seq` may run ahead of the device's last.
pub const MAX_SEQ_JUMP: i64 = 1_000_000;
/// Plates in a store layout at most.
pub const MAX_LAYOUT_PLATES: usize = 20_000;

// ---------------- layout ----------------

/// One plate of a shelf and the SKU standing on it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlateIn {
    pub gondola: u16,
    pub shelf: u16,
    pub plate: u16,
    /// None for an empty plate.
    pub sku: Option<String>,
    /// Weight of one unit in grams (0 for an empty plate).
    #[serde(default)]
    pub unit_weight_g: f64,
}

/// A product facing's box in store coordinates (metres): corner and size.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacingIn {
    pub sku: String,
    pub gondola: u16,
    pub shelf: u16,
    pub plates: Vec<u16>,
    pub corner_m: [f64; 3],
    pub size_m: [f64; 3],
}

/// A store's layout, replaced as a whole.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutInput {
    pub plates: Vec<PlateIn>,
    #[serde(default)]
    pub facings: Vec<FacingIn>,
}

fn check_layout(tx: &mut dyn Tx, l: &LayoutInput) -> Result<()> {
    if l.plates.is_empty() || l.plates.len() > MAX_LAYOUT_PLATES {
        return Err(bad(format!("a layout has 1–{MAX_LAYOUT_PLATES} plates")));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, p) in l.plates.iter().enumerate() {
        if !seen.insert((p.gondola, p.shelf, p.plate)) {
            return Err(bad(format!(
                "plates[{i}]: gondola {} shelf {} plate {} is listed twice",
                p.gondola, p.shelf, p.plate
            )));
        }
        if let Some(sku) = &p.sku {
            if !(p.unit_weight_g.is_finite() && p.unit_weight_g >= 1.0 && p.unit_weight_g <= 50_000.0) {
                return Err(bad(format!("plates[{i}]: `unit_weight_g` of {sku} must be 1–50,000 grams")));
            }
            if tx.query_opt("SELECT 1 FROM variants WHERE sku = ?", params![sku])?.is_none() {
                return Err(EngineError::not_found("sku", sku.clone()));
            }
        }
    }
    for (i, f) in l.facings.iter().enumerate() {
        if f.plates.is_empty() || f.plates.len() > 64 {
            return Err(bad(format!("facings[{i}]: a facing stands on 1–64 plates")));
        }
        if !f.corner_m.iter().chain(&f.size_m).all(|v| v.is_finite() && v.abs() < 10_000.0)
            || f.size_m.iter().any(|v| *v <= 0.0)
        {
            return Err(bad(format!("facings[{i}]: `corner_m` and `size_m` are metres, the size positive")));
        }
        if !l.plates.iter().any(|p| p.sku.as_deref() == Some(f.sku.as_str())) {
            return Err(bad(format!("facings[{i}]: {} stands on no plate of the layout", f.sku)));
        }
    }
    Ok(())
}

fn to_instore(l: &LayoutInput) -> Result<StoreLayout> {
    let rows: Vec<instore::recording::PlanogramRow> = l
        .plates
        .iter()
        .map(|p| instore::recording::PlanogramRow {
            plate: PlateKey { gondola: p.gondola, shelf: p.shelf, plate: p.plate },
            barcode: p.sku.clone(),
            name: p.sku.clone().unwrap_or_default(),
            unit_weight_g: if p.sku.is_some() { p.unit_weight_g } else { 0.0 },
        })
        .collect();
    let facings: Vec<instore::recording::FacingRow> = l
        .facings
        .iter()
        .map(|f| instore::recording::FacingRow {
            barcode: Some(f.sku.clone()),
            gondola: f.gondola,
            shelf: f.shelf,
            plates: f.plates.clone(),
            corner: instore::Vec3 { x: f.corner_m[0], y: f.corner_m[1], z: f.corner_m[2] },
            dim: instore::Vec3 { x: f.size_m[0], y: f.size_m[1], z: f.size_m[2] },
        })
        .collect();
    StoreLayout::build(&rows, &facings, &[]).map_err(|e| bad(format!("layout: {e}")))
}

pub(crate) fn put_layout(tx: &mut dyn Tx, location_id: &str, l: &LayoutInput, now: i64) -> Result<()> {
    let loc = crate::catalog::locations::get(tx, location_id)?
        .ok_or_else(|| EngineError::not_found("location", location_id))?;
    if loc.kind != "cashierless" {
        return Err(EngineError::invalid("not_cashierless", format!("{} is not a cashierless store", loc.code)));
    }
    check_layout(tx, l)?;
    to_instore(l)?;
    let json = serde_json::to_string(l).map_err(|e| bad(e.to_string()))?;
    tx.exec(
        "INSERT INTO store_layouts (location_id, layout, updated_at) VALUES (?, ?, ?) ON CONFLICT (location_id) DO UPDATE SET layout = excluded.layout, updated_at = excluded.updated_at",
        params![location_id, &json, now],
    )?;
    crate::platform::events::emit(
        tx,
        "instore.layout_updated",
        location_id,
        &serde_json::json!({"location_id": location_id, "plates": l.plates.len(), "facings": l.facings.len()}),
        now,
    )
}

pub(crate) fn get_layout(tx: &mut dyn Tx, location_id: &str) -> Result<Option<LayoutInput>> {
    match tx.query_opt("SELECT layout FROM store_layouts WHERE location_id = ?", params![location_id])? {
        Some(r) => Ok(Some(
            serde_json::from_str(&r.text(0)?).map_err(|e| crate::error::internal(format!("stored layout: {e}")))?,
        )),
        None => Ok(None),
    }
}

// ---------------- devices ----------------

pub const DEVICE_KINDS: [&str; 4] = ["gate", "gondola", "tracker", "esl"];

#[derive(Debug, Clone, Serialize)]
pub struct IssuedDevice {
    pub id: String,
    pub location_id: String,
    pub kind: String,
    pub code: String,
    /// What a shelf label shows.
    pub sku: Option<String>,
    /// The device's secret; shown only in this response.
    pub token: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceView {
    pub id: String,
    pub location_id: String,
    pub kind: String,
    pub code: String,
    pub last_seq: i64,
    pub accepted: i64,
    pub duplicates: i64,
    pub gaps: i64,
    pub rejected: i64,
    pub last_seen_at: Option<String>,
    /// When the device was revoked (its token no longer works); `null` while it is in service.
    pub revoked_at: Option<String>,
}

/// An authenticated device.
#[derive(Debug, Clone)]
pub struct DeviceRef {
    pub id: String,
    pub location_id: String,
    pub kind: String,
}

pub(crate) fn register(
    tx: &mut dyn Tx,
    location_id: &str,
    kind: &str,
    code: &str,
    sku: Option<&str>,
    now: i64,
) -> Result<IssuedDevice> {
    if !DEVICE_KINDS.contains(&kind) {
        return Err(bad(format!("`kind` is one of {}", DEVICE_KINDS.join(", "))));
    }
    match (kind, sku) {
        ("esl", None) => return Err(bad("a shelf label (`esl`) needs the `sku` it shows")),
        ("esl", Some(_)) | (_, None) => {}
        (_, Some(_)) => return Err(bad("only shelf labels (`esl`) show a `sku`")),
    }
    if let Some(s) = sku {
        if tx.query_opt("SELECT 1 FROM variants WHERE sku = ?", params![s])?.is_none() {
            return Err(EngineError::not_found("sku", s));
        }
    }
    let code = domain::text::required("code", code, 64).map_err(bad)?;
    if code.starts_with('_') {
        return Err(bad("device codes starting with `_` are reserved"));
    }
    if !code.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err(bad("`code` uses letters, digits, `-`, `_` and `.` (it appears in MQTT topics)"));
    }
    let loc = crate::catalog::locations::get(tx, location_id)?
        .ok_or_else(|| EngineError::not_found("location", location_id))?;
    if tx.query_opt("SELECT 1 FROM devices WHERE location_id = ? AND code = ?", params![location_id, &code])?.is_some()
    {
        return Err(EngineError::conflict("duplicate_device", format!("{} already has a device `{code}`", loc.code)));
    }
    let id = domain::ids::new_id("dev");
    let token = format!("bl_dev_{}", domain::ids::random_token(24));
    tx.exec(
        "INSERT INTO devices (id, location_id, kind, code, token_hash, last_seq, accepted, duplicates, gaps, rejected, created_at, last_seen_at, mac_key, sku) VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0, 0, ?, NULL, ?, ?)",
        params![&id, location_id, kind, &code, crate::customers::accounts::hash_token(&token), now, mac_key(&token), sku],
    )?;
    if let Some(sku) = sku {
        // The label pusher sends a new label its price at once.
        crate::platform::events::emit(
            tx,
            "instore.label_registered",
            &id,
            &serde_json::json!({"device_id": &id, "location_id": location_id, "sku": sku}),
            now,
        )?;
    }
    Ok(IssuedDevice {
        id,
        location_id: location_id.to_owned(),
        kind: kind.to_owned(),
        code,
        sku: sku.map(str::to_owned),
        token,
    })
}

fn device_row(
    tx: &mut dyn Tx,
    location_id: &str,
    device_id: &str,
) -> Result<(String, String, Option<String>, Option<i64>)> {
    let sql = format!(
        "SELECT kind, code, sku, revoked_at FROM devices WHERE id = ? AND location_id = ? AND kind <> 'staff'{}",
        tx.for_update()
    );
    let r = tx
        .query_opt(&sql, params![device_id, location_id])?
        .ok_or_else(|| EngineError::not_found("device", device_id))?;
    Ok((r.text(0)?, r.text(1)?, r.opt_text(2)?, r.opt_i64(3)?))
}

/// Issues a device a new token (and so a new signing key): the old one stops working at once for HTTP and
/// signed MQTT payloads; an MQTT connection logged in with it is closed at the broker's next check.
pub(crate) fn rotate_token(tx: &mut dyn Tx, location_id: &str, device_id: &str, now: i64) -> Result<IssuedDevice> {
    let (kind, code, sku, revoked) = device_row(tx, location_id, device_id)?;
    if revoked.is_some() {
        return Err(EngineError::conflict("device_revoked", format!("device `{code}` is revoked; register a new one")));
    }
    let token = format!("bl_dev_{}", domain::ids::random_token(24));
    tx.exec(
        "UPDATE devices SET token_hash = ?, mac_key = ? WHERE id = ?",
        params![crate::customers::accounts::hash_token(&token), mac_key(&token), device_id],
    )?;
    crate::platform::events::emit(
        tx,
        "device.token_rotated",
        device_id,
        &serde_json::json!({"device_id": device_id, "location_id": location_id, "code": &code}),
        now,
    )?;
    Ok(IssuedDevice { id: device_id.to_owned(), location_id: location_id.to_owned(), kind, code, sku, token })
}

/// Takes a device out of service for good (lost, stolen, replaced): its token and key stop working, events
/// it sent before stay. Its code stays taken (the history names it).
pub(crate) fn revoke(tx: &mut dyn Tx, location_id: &str, device_id: &str, now: i64) -> Result<()> {
    let (_, code, _, revoked) = device_row(tx, location_id, device_id)?;
    if revoked.is_some() {
        return Ok(());
    }
    tx.exec(
        "UPDATE devices SET token_hash = ?, mac_key = NULL, revoked_at = ? WHERE id = ?",
        params![format!("revoked:{device_id}"), now, device_id],
    )?;
    crate::platform::events::emit(
        tx,
        "device.revoked",
        device_id,
        &serde_json::json!({"device_id": device_id, "location_id": location_id, "code": &code}),
        now,
    )?;
    Ok(())
}

/// A short random suffix for client ids and the like.
pub fn random_suffix() -> String {
    domain::ids::random_token(6)
}

/// The key a device signs its MQTT payloads with: hex(sha256("borderless-mqtt:" + token)).
pub fn mac_key(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(format!("borderless-mqtt:{token}").as_bytes()))
}

/// A device by its store's code and its own code, with its payload signing key (for the MQTT bridge).
pub(crate) fn by_code(tx: &mut dyn Tx, location_code: &str, device_code: &str) -> Result<(DeviceRef, String)> {
    let r = tx
        .query_opt(
            "SELECT d.id, d.location_id, d.kind, d.mac_key FROM devices d JOIN locations l ON l.id = d.location_id WHERE l.code = ? AND d.code = ? AND d.kind <> 'staff'",
            params![location_code, device_code],
        )?
        .ok_or_else(|| EngineError::not_found("device", format!("{location_code}/{device_code}")))?;
    Ok((DeviceRef { id: r.text(0)?, location_id: r.text(1)?, kind: r.text(2)? }, r.opt_text(3)?.unwrap_or_default()))
}

pub(crate) fn list_devices(tx: &mut dyn Tx, location_id: &str) -> Result<Vec<DeviceView>> {
    let rows = tx.query(
        "SELECT id, location_id, kind, code, last_seq, accepted, duplicates, gaps, rejected, last_seen_at, revoked_at FROM devices WHERE location_id = ? AND kind <> 'staff' ORDER BY code",
        params![location_id],
    )?;
    rows.iter()
        .map(|r| {
            Ok(DeviceView {
                id: r.text(0)?,
                location_id: r.text(1)?,
                kind: r.text(2)?,
                code: r.text(3)?,
                last_seq: r.i64(4)?,
                accepted: r.i64(5)?,
                duplicates: r.i64(6)?,
                gaps: r.i64(7)?,
                rejected: r.i64(8)?,
                last_seen_at: r.opt_i64(9)?.map(domain::time::rfc3339),
                revoked_at: r.opt_i64(10)?.map(domain::time::rfc3339),
            })
        })
        .collect()
}

pub(crate) fn authenticate(tx: &mut dyn Tx, token: &str) -> Result<DeviceRef> {
    let r = tx
        .query_opt(
            "SELECT id, location_id, kind FROM devices WHERE token_hash = ? AND kind <> 'staff'",
            params![crate::customers::accounts::hash_token(token)],
        )?
        .ok_or(EngineError::Unauthorized)?;
    Ok(DeviceRef { id: r.text(0)?, location_id: r.text(1)?, kind: r.text(2)? })
}

/// Who logs in to the embedded MQTT broker with this token: the device and the codes in its topics
/// (`borderless/v1/{store_code}/{device_code}/…`).
#[derive(Debug, Clone)]
pub struct MqttIdentity {
    pub device: DeviceRef,
    pub store_code: String,
    pub device_code: String,
}

pub(crate) fn mqtt_identity(tx: &mut dyn Tx, token: &str) -> Result<MqttIdentity> {
    let r = tx
        .query_opt(
            "SELECT d.id, d.location_id, d.kind, l.code, d.code FROM devices d JOIN locations l ON l.id = d.location_id WHERE d.token_hash = ? AND d.kind <> 'staff'",
            params![crate::customers::accounts::hash_token(token)],
        )?
        .ok_or(EngineError::Unauthorized)?;
    Ok(MqttIdentity {
        device: DeviceRef { id: r.text(0)?, location_id: r.text(1)?, kind: r.text(2)? },
        store_code: r.text(3)?,
        device_code: r.text(4)?,
    })
}

/// The location's staff pseudo-device: review resolutions are stored in the same event log as the
/// sensors', so that a replay folds them in the same order.
fn staff_device(tx: &mut dyn Tx, location_id: &str, now: i64) -> Result<DeviceRef> {
    if let Some(r) =
        tx.query_opt("SELECT id FROM devices WHERE location_id = ? AND kind = 'staff'", params![location_id])?
    {
        return Ok(DeviceRef { id: r.text(0)?, location_id: location_id.to_owned(), kind: "staff".into() });
    }
    let id = domain::ids::new_id("dev");
    tx.exec(
        "INSERT INTO devices (id, location_id, kind, code, token_hash, last_seq, accepted, duplicates, gaps, rejected, created_at, last_seen_at) VALUES (?, ?, 'staff', '_staff', ?, 0, 0, 0, 0, 0, ?, NULL)",
        params![&id, location_id, format!("staff-{id}"), now],
    )?;
    Ok(DeviceRef { id, location_id: location_id.to_owned(), kind: "staff".into() })
}

// ---------------- device events ----------------

/// A device event (payload version 1). Times are Unix seconds; coordinates metres in the store frame.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum DeviceEvent {
    /// A gondola's plate samples: `[t, shelf, plate, grams]` each.
    Plates {
        seq: i64,
        #[serde(default)]
        v: Option<u32>,
        gondola: u16,
        samples: Vec<(f64, u16, u16, f32)>,
    },
    /// A tracker's body frames.
    Tracks {
        seq: i64,
        #[serde(default)]
        v: Option<u32>,
        frames: Vec<FrameIn>,
    },
    /// Someone passed the entry gate: with their app's payment code, or with a shopper already inside
    /// (a group on one account).
    Entry {
        seq: i64,
        #[serde(default)]
        v: Option<u32>,
        t: f64,
        target_id: String,
        #[serde(default)]
        payment_code: Option<String>,
        #[serde(default)]
        with_target: Option<String>,
    },
    /// Someone passed the exit gate.
    Exit {
        seq: i64,
        #[serde(default)]
        v: Option<u32>,
        t: f64,
        target_id: String,
    },
    /// A shelf label confirms what it now shows.
    LabelAck {
        seq: i64,
        #[serde(default)]
        v: Option<u32>,
        sku: String,
        price_minor: i64,
        currency: String,
    },
    /// Staff settled a review item (stored by the API, never sent by devices). `key` names the item by
    /// what it is (when it settled, which plates), because ids are renumbered when the fold is rebuilt.
    Review {
        seq: i64,
        #[serde(default)]
        v: Option<u32>,
        review_id: u64,
        #[serde(default)]
        key: Option<String>,
        action: ReviewAction,
    },
}

/// One body frame: joints by name (`head`, `neck`, `l_shoulder`, `r_shoulder`, `l_elbow`, `r_elbow`,
/// `l_wrist`, `r_wrist`, `l_hand`, `r_hand`) as `[x, y, z]` metres.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameIn {
    pub t: f64,
    pub target_id: String,
    pub joints: HashMap<String, [f64; 3]>,
}

/// How staff settle a review item.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReviewAction {
    /// `quantity` units of `sku` go to the shopper `target_id` — as the review lists it, `{visit}/{track}`
    /// (negative: a put-back).
    Assign { target_id: String, sku: String, quantity: i32 },
    /// Nothing a shopper took (noise, a restock).
    Dismiss,
}

impl DeviceEvent {
    /// The earliest sensor time in the event (entries and exits: their time; reviews: none).
    pub(crate) fn first_t(&self) -> Option<f64> {
        match self {
            DeviceEvent::Plates { samples, .. } => samples.iter().map(|s| s.0).reduce(f64::min),
            DeviceEvent::Tracks { frames, .. } => frames.iter().map(|f| f.t).reduce(f64::min),
            DeviceEvent::Entry { t, .. } | DeviceEvent::Exit { t, .. } => Some(*t),
            DeviceEvent::LabelAck { .. } | DeviceEvent::Review { .. } => None,
        }
    }

    fn seq(&self) -> i64 {
        match self {
            DeviceEvent::Plates { seq, .. }
            | DeviceEvent::Tracks { seq, .. }
            | DeviceEvent::Entry { seq, .. }
            | DeviceEvent::Exit { seq, .. }
            | DeviceEvent::LabelAck { seq, .. }
            | DeviceEvent::Review { seq, .. } => *seq,
        }
    }

    fn version(&self) -> Option<u32> {
        match self {
            DeviceEvent::Plates { v, .. }
            | DeviceEvent::Tracks { v, .. }
            | DeviceEvent::Entry { v, .. }
            | DeviceEvent::Exit { v, .. }
            | DeviceEvent::LabelAck { v, .. }
            | DeviceEvent::Review { v, .. } => *v,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            DeviceEvent::Plates { .. } => "plates",
            DeviceEvent::Tracks { .. } => "tracks",
            DeviceEvent::Entry { .. } => "entry",
            DeviceEvent::Exit { .. } => "exit",
            DeviceEvent::LabelAck { .. } => "label_ack",
            DeviceEvent::Review { .. } => "review",
        }
    }

    /// Which device kind may send it.
    fn sender(&self) -> &'static str {
        match self {
            DeviceEvent::Plates { .. } => "gondola",
            DeviceEvent::Tracks { .. } => "tracker",
            DeviceEvent::Entry { .. } | DeviceEvent::Exit { .. } => "gate",
            DeviceEvent::LabelAck { .. } => "esl",
            DeviceEvent::Review { .. } => "staff",
        }
    }
}

fn time_ok(t: f64) -> bool {
    t.is_finite() && (1.0e9..4.0e9).contains(&t)
}

fn id_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_graphic())
}

/// Parses and checks one event from a device of `kind`; the error says what is wrong.
pub fn parse_event(kind: &str, v: &serde_json::Value) -> std::result::Result<DeviceEvent, String> {
    let e: DeviceEvent = serde_json::from_value(v.clone()).map_err(|e| format!("not a device event: {e}"))?;
    if e.seq() < 1 {
        return Err("`seq` counts from 1".into());
    }
    if e.version().is_some_and(|v| v != 1) {
        return Err("payload version `v` must be 1".into());
    }
    if e.sender() != kind {
        return Err(format!("a {kind} cannot send `{}` events (they come from a {})", e.kind(), e.sender()));
    }
    match &e {
        DeviceEvent::Plates { samples, .. } => {
            if samples.is_empty() || samples.len() > MAX_SAMPLES {
                return Err(format!("`samples` holds 1–{MAX_SAMPLES} samples"));
            }
            if let Some(i) = samples.iter().position(|s| !time_ok(s.0) || !s.3.is_finite() || s.3.abs() > 1.0e6) {
                return Err(format!(
                    "samples[{i}]: `[t, shelf, plate, grams]` with t in Unix seconds and grams finite"
                ));
            }
        }
        DeviceEvent::Tracks { frames, .. } => {
            if frames.is_empty() || frames.len() > MAX_FRAMES {
                return Err(format!("`frames` holds 1–{MAX_FRAMES} frames"));
            }
            for (i, f) in frames.iter().enumerate() {
                if !time_ok(f.t) || !id_ok(&f.target_id) {
                    return Err(format!("frames[{i}]: `t` in Unix seconds and a `target_id` of 1–64 characters"));
                }
                if let Some(name) = f.joints.keys().find(|k| instore::Joint::from_name(k).is_none()) {
                    return Err(format!("frames[{i}]: unknown joint `{name}`"));
                }
                if f.joints.values().flatten().any(|c| !c.is_finite() || c.abs() > 10_000.0) {
                    return Err(format!("frames[{i}]: joint coordinates are metres"));
                }
            }
        }
        DeviceEvent::Entry { t, target_id, payment_code, with_target, .. } => {
            if !time_ok(*t) || !id_ok(target_id) {
                return Err("`t` in Unix seconds and a `target_id` of 1–64 characters".into());
            }
            if payment_code.is_some() == with_target.is_some() {
                return Err("an entry carries either the shopper's `payment_code` or `with_target` (a group member already inside)".into());
            }
        }
        DeviceEvent::Exit { t, target_id, .. } => {
            if !time_ok(*t) || !id_ok(target_id) {
                return Err("`t` in Unix seconds and a `target_id` of 1–64 characters".into());
            }
        }
        DeviceEvent::LabelAck { sku, price_minor, currency, .. } => {
            if !id_ok(sku) || *price_minor < 0 || domain::Currency::parse(currency).is_err() {
                return Err("`sku`, a `price_minor` ≥ 0 and an ISO-4217 `currency`".into());
            }
        }
        DeviceEvent::Review { .. } => {}
    }
    Ok(e)
}

/// What one ingest call did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestOutcome {
    /// Stored (durably) and applied.
    pub accepted: usize,
    /// Sequence numbers seen before: dropped.
    pub duplicates: Vec<i64>,
    /// Missing sequence ranges this batch revealed (first, last).
    pub gaps: Vec<(i64, i64)>,
    /// Events refused, with their position in the batch and why; nothing of them was stored.
    pub rejected: Vec<Rejected>,
    /// Entry decisions, for the gate to open or not.
    pub entries: Vec<EntryDecision>,
    /// Orders placed by exits in this batch.
    pub orders: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    pub index: usize,
    pub seq: Option<i64>,
    pub error: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryDecision {
    pub target_id: String,
    pub admitted: bool,
    pub session_id: Option<String>,
    pub reason: Option<String>,
}

/// Stores the valid events (dropping duplicates) and updates the device's counters, in one transaction.
/// Returns the stored events in order, with the duplicates and gaps seen.
pub(crate) fn store_events(
    tx: &mut dyn Tx,
    dev: &DeviceRef,
    events: &[DeviceEvent],
    rejected: usize,
    now: i64,
) -> Result<(Vec<DeviceEvent>, Vec<i64>, Vec<(i64, i64)>)> {
    // A device revoked after it authenticated stores nothing more.
    let sql = format!("SELECT last_seq FROM devices WHERE id = ? AND revoked_at IS NULL{}", tx.for_update());
    let mut last = tx.query_opt(&sql, params![&dev.id])?.ok_or(EngineError::Unauthorized)?.i64(0)?;
    let (mut stored, mut dups, mut gaps) = (Vec::new(), Vec::new(), Vec::new());
    for e in events {
        let seq = e.seq();
        if seq > last.saturating_add(MAX_SEQ_JUMP) {
            // A runaway counter would end gap detection for good; the event is refused, not stored.
            return Err(bad(format!("`seq` {seq} jumps more than {MAX_SEQ_JUMP} past the device's last ({last}); reset the device's counter")));
        }
        let payload = serde_json::to_string(e).map_err(|x| bad(x.to_string()))?;
        let inserted = tx.exec(
            "INSERT INTO device_events (device_id, seq, location_id, kind, payload, received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, seq) DO NOTHING",
            params![&dev.id, seq, &dev.location_id, e.kind(), &payload, now],
        )?;
        if inserted == 0 {
            dups.push(seq);
            continue;
        }
        if seq > last + 1 {
            gaps.push((last + 1, seq - 1));
        }
        last = last.max(seq);
        if let DeviceEvent::LabelAck { sku, price_minor, currency, .. } = e {
            // What the label shows, confirmed by the label itself (for the stale-label list).
            tx.exec(
                "UPDATE devices SET shown_price_minor = ?, shown_currency = ?, shown_at = ? WHERE id = ? AND sku = ?",
                params![*price_minor, currency, now, &dev.id, sku],
            )?;
        }
        stored.push(e.clone());
    }
    let gap_count: i64 = gaps.iter().fold(0i64, |n, (a, b)| n.saturating_add(b - a + 1));
    tx.exec(
        "UPDATE devices SET last_seq = ?, accepted = accepted + ?, duplicates = duplicates + ?, gaps = gaps + ?, rejected = rejected + ?, last_seen_at = ? WHERE id = ?",
        params![last, stored.len() as i64, dups.len() as i64, gap_count, rejected as i64, now, &dev.id],
    )?;
    Ok((stored, dups, gaps))
}

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
    zones: instore::ZoneTracker,
    zone_events: Vec<instore::ZoneEvent>,
    /// Visits replayed after a restart that had already ended: followed, never settled again.
    finished: std::collections::HashSet<String>,
}

/// How far in front of a gondola its front zone reaches (metres).
pub const GONDOLA_FRONT_M: f64 = 0.8;

/// Shoppers the fusion engine may have known before the runtime is rebuilt empty (it keeps every
/// shopper's cart until then; the engine's own limit is 4,096).
const RESET_ABOVE: usize = 3_000;

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
            finished: Default::default(),
        })
    }

    /// Zone enters and exits since the last call (the live path writes them as events; a rebuild drops
    /// them, they were written before).
    pub(crate) fn take_zone_events(&mut self) -> Vec<instore::ZoneEvent> {
        std::mem::take(&mut self.zone_events)
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
                    .and_then(|k| self.fusion.pending_reviews().find(|r| review_key(r) == k).map(|r| r.id))
                    .unwrap_or(*review_id);
                let review_id = &review_id;
                // Assignments name the shopper as `{visit}/{track}` (what the review listed).
                let r = match action {
                    ReviewAction::Assign { target_id, sku, quantity } => instore::Resolution::Assign {
                        target_id: target_id.clone(),
                        barcode: sku.clone(),
                        quantity: *quantity,
                    },
                    ReviewAction::Dismiss => instore::Resolution::Dismiss,
                };
                if let Err(e) = self.fusion.resolve_review(*review_id, r) {
                    tracing::warn!(review = review_id, error = %e, "instore: a stored review resolution no longer applies");
                }
            }
            DeviceEvent::Entry { .. } | DeviceEvent::Exit { .. } | DeviceEvent::LabelAck { .. } => {}
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
#[derive(Debug, Clone, Serialize)]
pub struct ReviewView {
    pub id: u64,
    pub reason: String,
    pub confidence: f64,
    pub delta_g: f64,
    pub at: String,
    pub plates: Vec<PlateKey>,
    /// Shoppers who may have done it, most likely first: (track, visit, probability).
    pub shoppers: Vec<serde_json::Value>,
    /// Explanations, best first: each a list of (sku, quantity).
    pub products: Vec<Vec<serde_json::Value>>,
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
        products: r.products.iter().map(|alt| alt.iter().map(|l| serde_json::json!({"sku": l.barcode, "quantity": l.quantity})).collect()).collect(),
    }
}

/// A review item's identity that survives a rebuild: when it settled and which plates changed.
pub(crate) fn review_key(r: &instore::ReviewItem) -> String {
    let plates: Vec<String> = r.plates.iter().map(|p| format!("{}.{}.{}", p.gondola, p.shelf, p.plate)).collect();
    format!("{:.3}@{}", r.t_settled_s, plates.join(","))
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

// ---------------- electronic shelf labels ----------------

/// A price to show on one label.
#[derive(Debug, Clone, Serialize)]
pub struct LabelCommand {
    pub store_code: String,
    pub device_code: String,
    pub sku: String,
    pub price_minor: i64,
    pub currency: String,
    pub title_ko: String,
    pub title_en: String,
}

/// A label with the catalog's price and what it last confirmed showing.
#[derive(Debug, Clone, Serialize)]
pub struct LabelView {
    pub device_id: String,
    pub code: String,
    pub sku: String,
    pub currency: String,
    pub catalog_price_minor: Option<i64>,
    pub shown_price_minor: Option<i64>,
    pub shown_at: Option<String>,
    /// The label shows something else than the catalog (or has not confirmed anything yet).
    pub stale: bool,
}

/// The currency shelf labels show.
pub const LABEL_CURRENCY: &str = "KRW";

/// Label commands for the given SKUs (every label in every store that shows one of them).
pub(crate) fn label_commands(tx: &mut dyn Tx, skus: Option<&[String]>) -> Result<Vec<LabelCommand>> {
    let base = "SELECT l.code, d.code, d.sku, p.amount_minor, pr.title_ko, pr.title_en FROM devices d \
                JOIN locations l ON l.id = d.location_id JOIN variants v ON v.sku = d.sku JOIN products pr ON pr.id = v.product_id \
                LEFT JOIN prices p ON p.sku = d.sku AND p.currency = ? WHERE d.kind = 'esl' AND d.revoked_at IS NULL";
    let rows = match skus {
        None => tx.query(base, params![LABEL_CURRENCY])?,
        Some(list) => {
            let mut all = Vec::new();
            for chunk in list.chunks(200) {
                let marks = vec!["?"; chunk.len()].join(", ");
                let mut ps: Vec<store::Val> = vec![LABEL_CURRENCY.into()];
                ps.extend(chunk.iter().map(|s| store::Val::from(s.clone())));
                all.extend(tx.query(&format!("{base} AND d.sku IN ({marks})"), &ps)?);
            }
            all
        }
    };
    rows.iter()
        .filter_map(|r| match r.opt_i64(3) {
            Ok(Some(price)) => Some((r, price)),
            _ => None,
        })
        .map(|(r, price_minor)| {
            Ok(LabelCommand {
                store_code: r.text(0)?,
                device_code: r.text(1)?,
                sku: r.text(2)?,
                price_minor,
                currency: LABEL_CURRENCY.into(),
                title_ko: r.text(4)?,
                title_en: r.text(5)?,
            })
        })
        .collect()
}

pub(crate) fn labels(tx: &mut dyn Tx, location_id: &str) -> Result<Vec<LabelView>> {
    let rows = tx.query(
        "SELECT d.id, d.code, d.sku, p.amount_minor, d.shown_price_minor, d.shown_currency, d.shown_at FROM devices d \
         LEFT JOIN prices p ON p.sku = d.sku AND p.currency = ? WHERE d.location_id = ? AND d.kind = 'esl' AND d.revoked_at IS NULL ORDER BY d.code",
        params![LABEL_CURRENCY, location_id],
    )?;
    rows.iter()
        .map(|r| {
            let (catalog, shown, cur) = (r.opt_i64(3)?, r.opt_i64(4)?, r.opt_text(5)?);
            Ok(LabelView {
                device_id: r.text(0)?,
                code: r.text(1)?,
                sku: r.opt_text(2)?.unwrap_or_default(),
                currency: LABEL_CURRENCY.into(),
                catalog_price_minor: catalog,
                shown_price_minor: shown,
                shown_at: r.opt_i64(6)?.map(domain::time::rfc3339),
                stale: catalog.is_none() || shown != catalog || cur.as_deref() != Some(LABEL_CURRENCY),
            })
        })
        .collect()
}

/// Writes zone enters and exits as events (`instore.zone_entered`, `instore.zone_exited` with the dwell
/// time) for analytics: how long shoppers stand in front of a shelf, and whether a pick follows.
pub(crate) fn emit_zone_events(
    tx: &mut dyn Tx,
    location_id: &str,
    events: &[instore::ZoneEvent],
    now: i64,
) -> Result<()> {
    for z in events {
        let (visit, track) = z.target_id.split_once('/').unwrap_or(("", z.target_id.as_str()));
        let kind = match z.kind {
            instore::ZoneEventKind::Enter => "instore.zone_entered",
            instore::ZoneEventKind::Exit => "instore.zone_exited",
        };
        crate::platform::events::emit(
            tx,
            kind,
            visit,
            &serde_json::json!({"location_id": location_id, "session_id": visit, "track_id": track, "zone": z.zone,
                                "at": domain::time::rfc3339((z.t_s * 1000.0) as i64), "dwell_ms": z.dwell_ms}),
            now,
        )?;
    }
    Ok(())
}
