//! Customer-presented payment codes (the QR a shopper's app shows at a counter). A code is short-lived (at
//! most [`CODE_TTL_MS`]), single-use, bound to one customer, and signed with a per-installation secret, so a
//! guessed or altered code fails before any lookup. Issuing a new code revokes the customer's older unused
//! ones (the app rotates them). Redemption claims the code with one conditional UPDATE inside the sale's
//! transaction: if the sale fails (say, insufficient funds) the claim rolls back with it.

use crate::error::{EngineError, Result};
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;
use store::{params, Tx};

/// A code is valid for at most this long.
pub const CODE_TTL_MS: i64 = 60_000;
const SECRET_KEY: &str = "payments.code_secret";
const PREFIX: &str = "BLP1";
const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PaymentCodeView {
    /// The string to render as a QR code (uppercase alphanumerics: QR's compact alphanumeric mode).
    pub code: String,
    pub expires_at: String,
    pub expires_in_ms: i64,
}

pub(crate) fn secret(tx: &mut dyn Tx) -> Result<Vec<u8>> {
    if let Some(r) = tx.query_opt("SELECT value FROM meta WHERE key = ?", params![SECRET_KEY])? {
        return Ok(r.text(0)?.into_bytes());
    }
    tx.exec(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
        params![SECRET_KEY, domain::ids::random_token(32)],
    )?;
    Ok(tx.query_one("SELECT value FROM meta WHERE key = ?", params![SECRET_KEY])?.text(0)?.into_bytes())
}

/// A secret derived from the installation's secret and `label` (e.g. a gift card code that a retried sale
/// must reproduce without the code ever being stored).
pub(crate) fn derive(tx: &mut dyn Tx, label: &str) -> Result<[u8; 10]> {
    let key = secret(tx)?;
    Ok(mac(&key, label.as_bytes()))
}

/// The full 32-byte MAC of `label` under the installation's secret (order access tokens).
pub(crate) fn derive_long(tx: &mut dyn Tx, label: &str) -> Result<[u8; 32]> {
    let key = secret(tx)?;
    let mut m = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes keys of any length");
    m.update(label.as_bytes());
    Ok(m.finalize().into_bytes().into())
}

/// Whether `prefix` is the start of `label`'s MAC, compared by the MAC's own constant-time check.
pub(crate) fn verify_long(tx: &mut dyn Tx, label: &str, prefix: &[u8]) -> Result<bool> {
    let key = secret(tx)?;
    let mut m = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes keys of any length");
    m.update(label.as_bytes());
    Ok(!prefix.is_empty() && m.verify_truncated_left(prefix).is_ok())
}

fn mac(secret: &[u8], body: &[u8]) -> [u8; 10] {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    m.update(body);
    let full = m.finalize().into_bytes();
    let mut out = [0u8; 10];
    out.copy_from_slice(&full[..10]);
    out
}

fn b32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn unb32(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Issues a new code for a customer and revokes their older unused ones.
pub(crate) fn issue(tx: &mut dyn Tx, customer_id: &str, now: i64) -> Result<PaymentCodeView> {
    let key = secret(tx)?;
    tx.exec(
        "UPDATE payment_codes SET revoked_at = ? WHERE customer_id = ? AND used_at IS NULL AND revoked_at IS NULL",
        params![now, customer_id],
    )?;
    let raw: [u8; 10] = rand::random();
    let id = hex::encode(raw);
    let expires = now + CODE_TTL_MS;
    tx.exec(
        "INSERT INTO payment_codes (id, customer_id, expires_at, used_at, order_id, revoked_at, created_at) VALUES (?, ?, ?, NULL, NULL, NULL, ?)",
        params![&id, customer_id, expires, now],
    )?;
    let mut body = raw.to_vec();
    body.extend_from_slice(&(expires / 1000).to_be_bytes()[4..]);
    let tag = mac(&key, &body);
    body.extend_from_slice(&tag);
    Ok(PaymentCodeView {
        code: format!("{PREFIX}{}", b32(&body)),
        expires_at: domain::time::rfc3339(expires),
        expires_in_ms: CODE_TTL_MS,
    })
}

fn invalid() -> EngineError {
    EngineError::invalid(
        "invalid_payment_code",
        "this is not a valid payment code; ask the shopper to refresh it in the app",
    )
}

/// Redeems a code for `order_id`: checks its signature, then claims it (unused, unrevoked, unexpired) in
/// one statement. Returns the customer it is bound to.
pub(crate) fn redeem(tx: &mut dyn Tx, code: &str, order_id: &str, now: i64) -> Result<String> {
    let text = code.trim().strip_prefix(PREFIX).filter(|b| b.len() <= 64).ok_or_else(invalid)?;
    let body = unb32(text).ok_or_else(invalid)?;
    // Only the canonical spelling is accepted: the last character also carries padding bits, and a
    // variant that differs only there must not pass as the same code.
    if body.len() != 24 || b32(&body) != text {
        return Err(invalid());
    }
    let key = secret(tx)?;
    let (signed, tag) = body.split_at(14);
    let mut m = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes keys of any length");
    m.update(signed);
    if m.verify_truncated_left(tag).is_err() {
        return Err(invalid());
    }
    let id = hex::encode(&signed[..10]);
    let n = tx.exec(
        "UPDATE payment_codes SET used_at = ?, order_id = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at >= ?",
        params![now, order_id, &id, now],
    )?;
    let r = tx
        .query_opt(
            "SELECT customer_id, used_at, revoked_at, expires_at, order_id FROM payment_codes WHERE id = ?",
            params![&id],
        )?
        .ok_or_else(invalid)?;
    if n == 1 {
        return Ok(r.text(0)?);
    }
    if r.opt_i64(1)?.is_some() && r.opt_text(4)?.as_deref() != Some(order_id) {
        return Err(EngineError::conflict("payment_code_used", "this payment code was already used; codes work once"));
    }
    if r.opt_i64(2)?.is_some() {
        return Err(EngineError::conflict(
            "payment_code_revoked",
            "a newer payment code replaced this one; scan the code now on the shopper's screen",
        ));
    }
    Err(EngineError::conflict(
        "payment_code_expired",
        "this payment code has expired (codes last 60 seconds); ask the shopper to refresh it",
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn base32_round_trips() {
        for len in [0usize, 1, 5, 14, 24] {
            let v: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(super::unb32(&super::b32(&v)).unwrap()[..len], v[..]);
        }
        assert!(super::unb32("abc").is_none(), "lowercase is not in the alphabet");
        // 3 bytes = 24 bits = 5 characters with one padding bit: two spellings decode alike, one is canonical.
        let canon = super::b32(&[1, 2, 3]);
        let mut other = canon.clone();
        let last = other.pop().unwrap();
        let pos = super::ALPHABET.iter().position(|&c| c as char == last).unwrap();
        other.push(super::ALPHABET[pos ^ 1] as char);
        assert_eq!(super::unb32(&other), super::unb32(&canon));
        assert_ne!(super::b32(&super::unb32(&other).unwrap()), other, "the non-canonical spelling is detectable");
    }
}
