//! Idempotency keys: the same key with the same request returns the first result; with a different
//! request it is refused. The key row is inserted first in the transaction, so a concurrent duplicate on
//! PostgreSQL waits on the unique index, then re-runs and finds the stored result.

use crate::error::{EngineError, Result};
use sha2::{Digest, Sha256};
use store::{params, DbError, DbErrorKind, Tx};

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

/// Claims `key` in `scope`. Returns the stored result reference if the key was used before with the same
/// request.
pub(crate) fn begin(tx: &mut dyn Tx, scope: &str, key: &str, hash: &str, now: i64) -> Result<Option<String>> {
    if let Some(r) = tx.query_opt("SELECT request_hash, response FROM idempotency_keys WHERE scope = ? AND key = ?", params![scope, key])? {
        if r.text(0)? != hash {
            return Err(EngineError::conflict(
                "idempotency_key_reused",
                "this Idempotency-Key was already used with a different request",
            ));
        }
        return Ok(Some(r.text(1)?));
    }
    match tx.exec(
        "INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response, created_at) VALUES (?, ?, ?, 0, '', ?)",
        params![scope, key, hash, now],
    ) {
        Ok(_) => Ok(None),
        // A concurrent request holds the key and has now committed: run again to read its result.
        Err(e) if e.kind == DbErrorKind::UniqueViolation => {
            Err(EngineError::Db(DbError::new(DbErrorKind::Retryable, "idempotency key claimed concurrently")))
        }
        Err(e) => Err(e.into()),
    }
}

/// Records the result reference (an order id, a return id) for a claimed key.
pub(crate) fn finish(tx: &mut dyn Tx, scope: &str, key: &str, response: &str) -> Result<()> {
    tx.exec("UPDATE idempotency_keys SET status_code = 201, response = ? WHERE scope = ? AND key = ?", params![response, scope, key])?;
    Ok(())
}
