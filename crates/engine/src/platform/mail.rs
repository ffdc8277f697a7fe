//! The mail outbox: messages the shop sends to shoppers (sign-up confirmation links, "you already have an
//! account" notices), written in the same transaction as what caused them, claimed and delivered by the
//! node's mail worker over SMTP, retried with backoff, their bodies dropped once sent and rows purged.

use crate::error::{bad, Result};
use domain::ids;
use serde::Serialize;
use store::{params, Row, Tx};

/// A message nobody could deliver within this long is given up (a sign-up link lives as long).
pub const MAIL_TTL_MS: i64 = 24 * 3600 * 1000;
/// Sent and given-up messages are listed this long (without their bodies), then deleted.
pub const MAIL_LOG_RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;
/// Delivery attempts before a message is marked failed.
pub const MAX_ATTEMPTS: i64 = 6;
/// A worker's claim on a message lasts this long (another node may take it over afterwards).
pub const CLAIM_MS: i64 = 60_000;
/// At most this many messages to one address per day, whatever asks for them (no mail bombing through
/// sign-up).
pub const MAX_PER_ADDRESS_PER_DAY: i64 = 5;

/// A message as staff see it in the outbox. `body` is present only while it waits to be sent.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MailView {
    pub id: String,
    pub to: String,
    /// `signup_confirm` or `signup_existing`.
    pub kind: String,
    pub locale: String,
    pub subject: String,
    pub body: Option<String>,
    /// `waiting`, `sent`, `failed` (gave up after retries) or `expired` (nothing could send it in time).
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A message claimed for delivery.
#[derive(Debug, Clone)]
pub struct DueMail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

/// Messages sent (or queued) to `to` in the last day.
pub(crate) fn recent_to(tx: &mut dyn Tx, to: &str, now: i64) -> Result<i64> {
    let r = tx.query_one(
        "SELECT COUNT(*) FROM mail_outbox WHERE to_addr = ? AND created_at > ?",
        params![to, now - 24 * 3600 * 1000],
    )?;
    Ok(r.i64(0)?)
}

/// Queues a message. Returns `false` (and queues nothing) when `to` has had its day's share.
pub(crate) fn enqueue(
    tx: &mut dyn Tx,
    to: &str,
    kind: &str,
    locale: &str,
    subject: &str,
    body: &str,
    now: i64,
) -> Result<bool> {
    if recent_to(tx, to, now)? >= MAX_PER_ADDRESS_PER_DAY {
        return Ok(false);
    }
    tx.exec(
        "INSERT INTO mail_outbox (id, to_addr, kind, locale, subject, body, status, attempts, next_attempt_at, \
         claimed_until, created_at, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, 'waiting', 0, ?, 0, ?, ?, ?)",
        params![ids::new_id("mail"), to, kind, locale, subject, body, now, now, now, now + MAIL_TTL_MS],
    )?;
    Ok(true)
}

/// Claims up to `limit` messages due now; each is this caller's for [`CLAIM_MS`].
pub(crate) fn claim_due(tx: &mut dyn Tx, limit: usize, now: i64) -> Result<Vec<DueMail>> {
    let rows = tx.query(
        "SELECT id, to_addr, subject, body, attempts FROM mail_outbox WHERE status = 'waiting' \
         AND next_attempt_at <= ? AND claimed_until <= ? AND expires_at > ? ORDER BY next_attempt_at LIMIT ?",
        params![now, now, now, limit as i64],
    )?;
    let mut out = Vec::new();
    for r in rows {
        let id = r.text(0)?;
        // Another node may have claimed it since the read (PostgreSQL, several nodes): only a row this
        // statement moved is ours.
        let n = tx.exec(
            "UPDATE mail_outbox SET claimed_until = ? WHERE id = ? AND status = 'waiting' AND claimed_until <= ?",
            params![now + CLAIM_MS, &id, now],
        )?;
        if n == 1 {
            out.push(DueMail {
                id,
                to: r.text(1)?,
                subject: r.text(2)?,
                body: r.opt_text(3)?.unwrap_or_default(),
                attempts: r.i64(4)?,
            });
        }
    }
    Ok(out)
}

/// Records a delivery: the body (a sign-in link) is dropped at once.
pub(crate) fn mark_sent(tx: &mut dyn Tx, id: &str, now: i64) -> Result<()> {
    tx.exec(
        "UPDATE mail_outbox SET status = 'sent', body = NULL, attempts = attempts + 1, last_error = NULL, \
         updated_at = ? WHERE id = ?",
        params![now, id],
    )?;
    Ok(())
}

/// Records a failed attempt: tried again after 30 s, 1, 2, 4, 8 min; failed for good after
/// [`MAX_ATTEMPTS`] or when `permanent` (the server refused the address).
pub(crate) fn mark_failed(tx: &mut dyn Tx, id: &str, error: &str, permanent: bool, now: i64) -> Result<()> {
    let Some(r) = tx.query_opt("SELECT attempts FROM mail_outbox WHERE id = ?", params![id])? else {
        return Ok(());
    };
    let attempts = r.i64(0)? + 1;
    let error: String = error.chars().take(500).collect();
    if permanent || attempts >= MAX_ATTEMPTS {
        tx.exec(
            "UPDATE mail_outbox SET status = 'failed', body = NULL, attempts = ?, last_error = ?, claimed_until = 0, \
             updated_at = ? WHERE id = ?",
            params![attempts, error, now, id],
        )?;
    } else {
        let wait = 30_000i64 << (attempts - 1).min(10);
        tx.exec(
            "UPDATE mail_outbox SET attempts = ?, last_error = ?, next_attempt_at = ?, claimed_until = 0, updated_at = ? \
             WHERE id = ?",
            params![attempts, error, now + wait, now, id],
        )?;
    }
    Ok(())
}

/// Gives up messages past their lifetime and deletes old log rows.
pub(crate) fn purge(tx: &mut dyn Tx, now: i64) -> Result<u64> {
    let mut n = tx.exec(
        "UPDATE mail_outbox SET status = 'expired', body = NULL, updated_at = ? WHERE status = 'waiting' AND expires_at <= ?",
        params![now, now],
    )?;
    n += tx.exec("DELETE FROM mail_outbox WHERE created_at < ?", params![now - MAIL_LOG_RETENTION_MS])?;
    Ok(n)
}

fn from_row(r: &Row) -> Result<MailView> {
    Ok(MailView {
        id: r.text(0)?,
        to: r.text(1)?,
        kind: r.text(2)?,
        locale: r.text(3)?,
        subject: r.text(4)?,
        body: r.opt_text(5)?,
        status: r.text(6)?,
        attempts: r.i64(7)?,
        last_error: r.opt_text(8)?,
        created_at: domain::time::rfc3339(r.i64(9)?),
        updated_at: domain::time::rfc3339(r.i64(10)?),
    })
}

/// The outbox, newest first, optionally for one address or one status.
pub(crate) fn list(
    tx: &mut dyn Tx,
    to: Option<&str>,
    status: Option<&str>,
    before: Option<&str>,
    limit: usize,
) -> Result<Vec<MailView>> {
    let mut sql =
        "SELECT id, to_addr, kind, locale, subject, body, status, attempts, last_error, created_at, updated_at \
                   FROM mail_outbox WHERE 1 = 1"
            .to_owned();
    let mut ps: Vec<store::Val> = Vec::new();
    if let Some(to) = to {
        let to = domain::text::email(to).map_err(|m| crate::EngineError::invalid("invalid_email", m))?;
        sql.push_str(" AND to_addr = ?");
        ps.push(to.into());
    }
    if let Some(s) = status {
        if !["waiting", "sent", "failed", "expired"].contains(&s) {
            return Err(bad("`status` must be waiting, sent, failed or expired"));
        }
        sql.push_str(" AND status = ?");
        ps.push(s.to_owned().into());
    }
    if let Some(b) = before {
        sql.push_str(" AND id < ?");
        ps.push(b.to_owned().into());
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    ps.push((limit as i64).into());
    tx.query(&sql, &ps)?.iter().map(from_row).collect()
}
