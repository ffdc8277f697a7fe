//! API keys for sellers' admins and store staff. Keys are shown once and stored as SHA-256 hashes. A staff
//! key is bound to one location: its holder sells, hands over and takes returns there only.

use crate::error::{bad, EngineError, Result};
use domain::{ids, text};
use serde::Serialize;
use store::{params, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Admin { key_id: String },
    Staff { key_id: String, location_id: String },
}

impl Principal {
    /// The engine itself acting for a named job (the demo seeder, a benchmark, an import): an admin whose
    /// "key" is the job's name, so the audit log says who did it.
    pub fn system(job: &str) -> Principal {
        Principal::Admin { key_id: job.to_owned() }
    }
    pub fn key_id(&self) -> &str {
        match self {
            Principal::Admin { key_id } | Principal::Staff { key_id, .. } => key_id,
        }
    }
    /// The location a staff key is bound to; `None` for admins (all locations).
    pub fn location(&self) -> Option<&str> {
        match self {
            Principal::Admin { .. } => None,
            Principal::Staff { location_id, .. } => Some(location_id),
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct IssuedKey {
    pub id: String,
    pub role: String,
    pub location_id: Option<String>,
    pub label: String,
    /// The secret itself; shown only in this response.
    pub key: String,
}

pub(crate) fn issue(
    tx: &mut dyn Tx,
    role: &str,
    location_id: Option<&str>,
    label: &str,
    explicit: Option<&str>,
    now: i64,
) -> Result<IssuedKey> {
    let label = text::required("label", label, 100).map_err(bad)?;
    if role == "staff" {
        let loc = location_id.ok_or_else(|| bad("a staff key needs `location_id`"))?;
        if tx.query_opt("SELECT 1 FROM locations WHERE id = ?", params![loc])?.is_none() {
            return Err(EngineError::not_found("location", loc));
        }
    }
    let key = match explicit {
        Some(k) => {
            if k.len() < 16 || k.len() > 200 || !k.chars().all(|c| c.is_ascii_graphic()) {
                return Err(bad("an API key must be 16–200 printable ASCII characters"));
            }
            k.to_owned()
        }
        None => format!("bl_{}_{}", role, ids::random_token(24)),
    };
    let id = ids::new_id("key");
    tx.exec(
        "INSERT INTO api_keys (id, key_hash, role, location_id, label, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        params![&id, hash_token(&key), role, location_id, &label, now],
    )?;
    Ok(IssuedKey { id, role: role.into(), location_id: location_id.map(str::to_owned), label, key })
}

pub(crate) fn authenticate(tx: &mut dyn Tx, key: &str) -> Result<Principal> {
    let r = tx
        .query_opt(
            "SELECT id, role, location_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
            params![hash_token(key)],
        )?
        .ok_or(EngineError::Unauthorized)?;
    let key_id = r.text(0)?;
    match r.text(1)?.as_str() {
        "admin" => Ok(Principal::Admin { key_id }),
        _ => Ok(Principal::Staff { key_id, location_id: r.opt_text(2)?.unwrap_or_default() }),
    }
}

pub(crate) fn admin_exists(tx: &mut dyn Tx) -> Result<bool> {
    Ok(tx.query_opt("SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL", &[])?.is_some())
}

/// The stored form of a bearer secret (API keys, sessions, device tokens): its SHA-256, hex.
pub(crate) fn hash_token(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}
