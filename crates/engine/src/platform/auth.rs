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
    /// When it stops working by itself (`null`: only when revoked).
    pub expires_at: Option<String>,
}

/// Keys issued through the API and the console expire after this many days unless told otherwise.
pub const DEFAULT_KEY_DAYS: i64 = 365;
/// The longest a key may be issued for.
pub const MAX_KEY_DAYS: i64 = 3650;

pub(crate) fn issue(
    tx: &mut dyn Tx,
    role: &str,
    location_id: Option<&str>,
    label: &str,
    explicit: Option<&str>,
    expires_at: Option<i64>,
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
        "INSERT INTO api_keys (id, key_hash, role, location_id, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        params![&id, hash_token(&key), role, location_id, &label, now, expires_at],
    )?;
    Ok(IssuedKey {
        id,
        role: role.into(),
        location_id: location_id.map(str::to_owned),
        label,
        key,
        expires_at: expires_at.map(domain::time::rfc3339),
    })
}

pub(crate) fn authenticate(tx: &mut dyn Tx, key: &str, now: i64) -> Result<Principal> {
    let r = tx
        .query_opt(
            "SELECT id, role, location_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > ?)",
            params![hash_token(key), now],
        )?
        .ok_or(EngineError::Unauthorized)?;
    let key_id = r.text(0)?;
    match r.text(1)?.as_str() {
        "admin" => Ok(Principal::Admin { key_id }),
        _ => Ok(Principal::Staff { key_id, location_id: r.opt_text(2)?.unwrap_or_default() }),
    }
}

pub(crate) fn admin_exists(tx: &mut dyn Tx) -> Result<bool> {
    // (An expired admin key still counts: the bootstrap must not issue a new one behind the owner's back.)
    Ok(tx.query_opt("SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL", &[])?.is_some())
}

/// The stored form of a bearer secret (API keys, sessions, device tokens): its SHA-256, hex.
pub(crate) fn hash_token(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// An API key as listed (never its secret).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct KeyView {
    pub id: String,
    pub role: String,
    pub location_id: Option<String>,
    pub label: String,
    pub created_at: String,
    /// When it was revoked; `null` unless it was.
    pub revoked_at: Option<String>,
    /// When it stops (or stopped) working by itself; `null`: never.
    pub expires_at: Option<String>,
}

pub(crate) fn list_keys(tx: &mut dyn Tx) -> Result<Vec<KeyView>> {
    tx.query(
        "SELECT id, role, location_id, label, created_at, revoked_at, expires_at FROM api_keys ORDER BY created_at DESC LIMIT 1000",
        &[],
    )?
    .iter()
    .map(|r| {
        Ok(KeyView {
            id: r.text(0)?,
            role: r.text(1)?,
            location_id: r.opt_text(2)?,
            label: r.text(3)?,
            created_at: domain::time::rfc3339(r.i64(4)?),
            revoked_at: r.opt_i64(5)?.map(domain::time::rfc3339),
            expires_at: r.opt_i64(6)?.map(domain::time::rfc3339),
        })
    })
    .collect()
}

/// Revokes a key at once; the last working admin key cannot be revoked (the shop would lock itself out).
pub(crate) fn revoke_key(tx: &mut dyn Tx, id: &str, now: i64) -> Result<()> {
    let r = tx
        .query_opt("SELECT role, revoked_at FROM api_keys WHERE id = ?", params![id])?
        .ok_or_else(|| EngineError::not_found("api key", id))?;
    if r.opt_i64(1)?.is_some() {
        return Ok(());
    }
    if r.text(0)? == "admin" {
        let others = tx
            .query_one(
                "SELECT COUNT(*) FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL AND id <> ? \
                 AND (expires_at IS NULL OR expires_at > ?)",
                params![id, now],
            )?
            .i64(0)?;
        if others == 0 {
            return Err(EngineError::conflict(
                "last_admin_key",
                "this is the last working admin key; issue another admin key before revoking it",
            ));
        }
    }
    tx.exec("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", params![now, id])?;
    Ok(())
}
