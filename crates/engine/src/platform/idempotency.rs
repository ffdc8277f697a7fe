//! Idempotency keys: the same key with the same request returns the first result; with a different
//! request it is refused. The key row is inserted first in the transaction, so a concurrent duplicate on
//! PostgreSQL waits on the unique index, then re-runs and finds the stored result.

use crate::error::{EngineError, Result};
use sha2::{Digest, Sha256};
use store::{params, Tx};

pub const MAX_KEY_LEN: usize = 255;

/// A fingerprint of a request body.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

pub fn validate_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(EngineError::invalid(
            "invalid_idempotency_key",
            format!("`Idempotency-Key` must be 1–{MAX_KEY_LEN} printable ASCII characters"),
        ));
    }
    Ok(())
}

/// Claims `key` in `scope` for a request whose result will be `result_ref` (the id the use case is about to
/// create; the claim rolls back with the use case if it fails). Returns the earlier result's reference if
/// the key was already used with the same request.
pub(crate) fn begin(
    tx: &mut dyn Tx,
    scope: &str,
    key: &str,
    hash: &str,
    result_ref: &str,
    now: i64,
) -> Result<Option<String>> {
    // On PostgreSQL this INSERT waits for a concurrent transaction holding the same key; once that one
    // commits, the conflict turns the INSERT into a no-op and the SELECT below (a fresh READ COMMITTED
    // snapshot) sees its result.
    let inserted = tx.exec(
        "INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response, created_at) VALUES (?, ?, ?, 201, ?, ?) \
         ON CONFLICT (scope, key) DO NOTHING",
        params![scope, key, hash, result_ref, now],
    )?;
    if inserted == 1 {
        return Ok(None);
    }
    let r = tx.query_one(
        "SELECT request_hash, response FROM idempotency_keys WHERE scope = ? AND key = ?",
        params![scope, key],
    )?;
    if r.text(0)? != hash {
        return Err(EngineError::conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was already used with a different request",
        ));
    }
    Ok(Some(r.text(1)?))
}

/// Replaces the result reference of a claimed key (when the result is only known after the work, e.g. the
/// ids of a batch of transfers).
pub(crate) fn set_result(tx: &mut dyn Tx, scope: &str, key: &str, result_ref: &str) -> Result<()> {
    tx.exec("UPDATE idempotency_keys SET response = ? WHERE scope = ? AND key = ?", params![result_ref, scope, key])?;
    Ok(())
}

/// How long an `Idempotency-Key` is remembered (a retry after that is a new request; a checked-out cart
/// still cannot be checked out twice).
pub const RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;
