//! The device registry: gates, gondolas, trackers and shelf labels, each with its own token, rotation, revocation and MQTT identity.

use super::*;

// ---------------- devices ----------------

pub const DEVICE_KINDS: [&str; 4] = ["gate", "gondola", "tracker", "esl"];

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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
        params![&id, location_id, kind, &code, crate::platform::auth::hash_token(&token), now, mac_key(&token), sku],
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

pub(crate) fn device_row(
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
        params![crate::platform::auth::hash_token(&token), mac_key(&token), device_id],
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
            params![crate::platform::auth::hash_token(token)],
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
            params![crate::platform::auth::hash_token(token)],
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
pub(crate) fn staff_device(tx: &mut dyn Tx, location_id: &str, now: i64) -> Result<DeviceRef> {
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
