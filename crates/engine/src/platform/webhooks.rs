//! Webhook subscriptions and their delivery log. The dispatcher fans events out of the outbox into one
//! delivery row per (subscription, event) — unique, so several nodes fanning out at once deliver each event
//! once per subscription — and a sender claims due rows with a lease, posts them, and records the outcome.
//! Delivery is at least once; failed attempts back off exponentially up to [`MAX_ATTEMPTS`].

use crate::error::{bad, EngineError, Result};
use crate::platform::events;
use domain::ids;
use serde::{Deserialize, Serialize};
use store::{params, Tx};

pub const MAX_ATTEMPTS: i64 = 12;
pub const MAX_SUBSCRIPTIONS: i64 = 100;
/// How long a claimed delivery stays leased to one sender.
pub const LEASE_MS: i64 = 60_000;
const CURSOR_KEY: &str = "webhooks.fanout_cursor";

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionInput {
    pub url: String,
    /// What to deliver (1–50 entries): event types such as `order.placed`, families such as `order.*`, or
    /// `*` for all (the types are listed in docs/api.md).
    pub event_types: Vec<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SubscriptionView {
    pub id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub active: bool,
    /// The signing secret; shown only when the subscription is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DeliveryView {
    pub id: String,
    pub subscription_id: String,
    pub event_id: String,
    pub event_seq: i64,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub updated_at: String,
}

/// A delivery ready to send: where, with what secret, and the exact body to sign.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: String,
    pub subscription_id: String,
    pub url: String,
    pub secret: String,
    pub event_id: String,
    pub body: String,
    pub attempts: i64,
    /// The lease this sender holds; pass it back to record the outcome.
    pub lease: i64,
}

/// Whether an address is on the public internet: not loopback, private (RFC 1918, fc00::/7), link-local,
/// shared (100.64/10), unspecified, multicast, broadcast, documentation or benchmarking ranges, nor an
/// IPv4-mapped form of one. A webhook must never let a seller's integrator (or whoever holds an admin key)
/// make the node call into its own network or a cloud metadata service.
pub fn is_public_ip(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            !(a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_multicast()
                || a.is_broadcast()
                || a.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || o[0] >= 240)
        }
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_public_ip(IpAddr::V4(v4));
            }
            let s = a.segments();
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x64 && s[1] == 0xff9b))
        }
    }
}

/// The host of an `http(s)://` URL (brackets removed from an IPv6 literal), or `None` if there is none.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host =
        if let Some(v6) = hostport.strip_prefix('[') { v6.split_once(']')?.0 } else { hostport.split(':').next()? };
    (!host.is_empty()).then_some(host)
}

/// Checks a webhook target: `https://` to a public host, unless `allow_private` (for development against
/// a local receiver) also lets `http://` and private or loopback addresses through. Host names are checked
/// again when each delivery is sent (against what they resolve to then).
pub fn check_target(url: &str, allow_private: bool) -> Result<()> {
    let url = url.trim();
    let scheme_ok = url.starts_with("https://") || (allow_private && url.starts_with("http://"));
    if !scheme_ok || url.len() > 2000 || url.contains(char::is_whitespace) {
        return Err(bad(if allow_private {
            "`url` must be an http:// or https:// URL of at most 2000 characters"
        } else {
            "`url` must be an https:// URL of at most 2000 characters (webhooks carry order and customer data)"
        }));
    }
    let host = url_host(url).ok_or_else(|| bad("`url` has no host"))?.to_ascii_lowercase();
    if allow_private {
        return Ok(());
    }
    let private_name = host == "localhost"
        || [".localhost", ".local", ".internal", ".lan", ".home.arpa"].iter().any(|s| host.ends_with(s));
    let private_ip = host.parse::<std::net::IpAddr>().is_ok_and(|ip| !is_public_ip(ip));
    if private_name || private_ip {
        return Err(bad(format!(
            "`url` points at `{host}`, which is not a public address; webhooks go to public https endpoints (a development node may allow others with --webhooks-allow-private)"
        )));
    }
    Ok(())
}

pub(crate) fn subscribe(
    tx: &mut dyn Tx,
    input: &SubscriptionInput,
    allow_private: bool,
    now: i64,
) -> Result<SubscriptionView> {
    let url = input.url.trim();
    check_target(url, allow_private)?;
    let types: Vec<String> = input.event_types.iter().map(|t| t.trim().to_owned()).collect();
    if types.is_empty() || types.len() > 50 {
        return Err(EngineError::invalid(
            "invalid_event_types",
            "`event_types` names 1–50 event types such as `order.placed`, families such as `order.*`, or `*` for all",
        ));
    }
    for t in &types {
        events::check_pattern(t)
            .map_err(|m| EngineError::invalid("invalid_event_types", format!("`event_types`: {m}")))?;
    }
    let n = tx.query_one("SELECT COUNT(*) FROM webhook_subscriptions WHERE active = 1", &[])?.i64(0)?;
    if n >= MAX_SUBSCRIPTIONS {
        return Err(EngineError::invalid(
            "limit_reached",
            format!("at most {MAX_SUBSCRIPTIONS} active webhook subscriptions"),
        ));
    }
    let id = ids::new_id("whk");
    // Standard Webhooks form: `whsec_` and the base64 of 24 random bytes (the signing key).
    let secret = {
        use base64::Engine as _;
        let bytes: [u8; 24] = rand::random();
        format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
    };
    tx.exec(
        "INSERT INTO webhook_subscriptions (id, url, secret, event_types, active, created_at) VALUES (?, ?, ?, ?, 1, ?)",
        params![&id, url, &secret, serde_json::to_string(&types).unwrap_or_default(), now],
    )?;
    // Subscriptions receive events from now on, not the history. While other subscriptions are active the
    // shared fan-out cursor must stay where it is (they still need what lies behind it); when this is the
    // only one, the cursor jumps to the feed's head.
    if n == 0 {
        let head = events::head(tx)?;
        tx.exec(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![CURSOR_KEY, head.to_string()],
        )?;
    }
    Ok(SubscriptionView {
        id,
        url: url.into(),
        event_types: types,
        active: true,
        secret: Some(secret),
        created_at: domain::time::rfc3339(now),
    })
}

pub(crate) fn list(tx: &mut dyn Tx) -> Result<Vec<SubscriptionView>> {
    tx.query("SELECT id, url, event_types, active, created_at FROM webhook_subscriptions ORDER BY id", &[])?
        .iter()
        .map(|r| {
            Ok(SubscriptionView {
                id: r.text(0)?,
                url: r.text(1)?,
                event_types: serde_json::from_str(&r.text(2)?).unwrap_or_default(),
                active: r.bool(3)?,
                secret: None,
                created_at: domain::time::rfc3339(r.i64(4)?),
            })
        })
        .collect()
}

pub(crate) fn deactivate(tx: &mut dyn Tx, id: &str) -> Result<()> {
    if tx.exec("UPDATE webhook_subscriptions SET active = 0 WHERE id = ?", params![id])? == 0 {
        return Err(EngineError::not_found("webhook subscription", id));
    }
    Ok(())
}

/// Whether a subscription's patterns take event `kind` (subscriptions stored before `family.*` existed may
/// still hold the older prefix form `order.`).
fn matches(types: &[String], kind: &str) -> bool {
    types.iter().any(|t| events::pattern_matches(t, kind) || (t.ends_with('.') && kind.starts_with(t.as_str())))
}

/// Moves the fan-out cursor over up to `limit` new events, creating delivery rows. Returns how many
/// deliveries were created.
pub(crate) fn fanout(tx: &mut dyn Tx, limit: usize, now: i64) -> Result<usize> {
    let subs: Vec<(String, Vec<String>)> = tx
        .query("SELECT id, event_types FROM webhook_subscriptions WHERE active = 1", &[])?
        .iter()
        .map(|r| Ok((r.text(0)?, serde_json::from_str(&r.text(1)?).unwrap_or_default())))
        .collect::<Result<_>>()?;
    if subs.is_empty() {
        return Ok(0);
    }
    let cursor = events::stored_cursor(tx, CURSOR_KEY)?;
    let (evs, next) = events::feed(tx, cursor, limit, None)?;
    let mut created = 0;
    for e in &evs {
        for (sid, types) in &subs {
            if matches(types, &e.kind) {
                created += tx.exec(
                    "INSERT INTO webhook_deliveries (id, subscription_id, event_seq, event_id, status, attempts, next_attempt_at, locked_until, created_at, updated_at) \
                     VALUES (?, ?, ?, ?, 'pending', 0, ?, 0, ?, ?) ON CONFLICT (subscription_id, event_id) DO NOTHING",
                    params![ids::new_id("dlv"), sid, e.seq, &e.id, now, now, now],
                )? as usize;
            }
        }
    }
    if next != cursor {
        events::store_cursor(tx, CURSOR_KEY, next)?;
    }
    Ok(created)
}

/// Leases up to `limit` due deliveries to the caller.
/// Leases up to `limit` due deliveries, at most `per_subscription` for any one subscription and none for
/// the `busy` ones (which already have that many in flight), so one slow endpoint never takes every slot.
pub(crate) fn claim_due(
    tx: &mut dyn Tx,
    limit: usize,
    busy: &[String],
    per_subscription: usize,
    now: i64,
) -> Result<Vec<DueDelivery>> {
    let rows = tx.query(
        "SELECT d.id, s.url, s.secret, d.event_id, e.type, e.payload, e.created_at, d.attempts, e.aggregate_id, d.subscription_id \
         FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id JOIN events e ON e.id = d.event_id \
         WHERE d.status = 'pending' AND s.active = 1 AND d.next_attempt_at <= ? AND d.locked_until <= ? ORDER BY d.next_attempt_at, d.event_seq LIMIT ?",
        params![now, now, (limit * per_subscription.max(1)).min(1000) as i64],
    )?;
    let mut out = Vec::new();
    let mut taken: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for r in rows {
        if out.len() >= limit {
            break;
        }
        let sub = r.text(9)?;
        if busy.contains(&sub) {
            continue;
        }
        let n = taken.entry(sub.clone()).or_default();
        if *n >= per_subscription {
            continue;
        }
        *n += 1;
        let id = r.text(0)?;
        // The lease's expiry doubles as its token: a few random milliseconds make it unique per claim, and
        // `record` only applies an outcome while that exact lease is held.
        let lease = now + LEASE_MS + rand::random_range(0..1000i64);
        let n = tx.exec(
            "UPDATE webhook_deliveries SET locked_until = ? WHERE id = ? AND locked_until <= ? AND status = 'pending'",
            params![lease, &id, now],
        )?;
        if n == 0 {
            continue;
        }
        let data: serde_json::Value = serde_json::from_str(&r.text(5)?).unwrap_or_default();
        let body = serde_json::json!({
            "id": r.text(3)?, "type": r.text(4)?, "aggregate_id": r.text(8)?,
            "created_at": domain::time::rfc3339(r.i64(6)?), "data": data,
        })
        .to_string();
        out.push(DueDelivery {
            id,
            subscription_id: sub,
            url: r.text(1)?,
            secret: r.text(2)?,
            event_id: r.text(3)?,
            body,
            attempts: r.i64(7)?,
            lease,
        });
    }
    Ok(out)
}

/// Backoff after the n-th failed attempt: 10 s, 20 s, 40 s, … capped at one hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    (10_000i64 << attempts.clamp(0, 12)).min(3_600_000)
}

/// Records one attempt's outcome if `lease` is still held (a sender that overran its lease, and whose
/// delivery was meanwhile claimed by another, changes nothing). Returns whether it was recorded.
pub(crate) fn record(
    tx: &mut dyn Tx,
    id: &str,
    lease: i64,
    status_code: Option<i64>,
    error: Option<&str>,
    now: i64,
) -> Result<bool> {
    let ok = status_code.is_some_and(|c| (200..300).contains(&c));
    let Some(r) = tx.query_opt(
        "SELECT attempts FROM webhook_deliveries WHERE id = ? AND locked_until = ? AND status = 'pending'",
        params![id, lease],
    )?
    else {
        return Ok(false);
    };
    let attempts = r.i64(0)? + 1;
    let status = if ok {
        "delivered"
    } else if attempts >= MAX_ATTEMPTS {
        "failed"
    } else {
        "pending"
    };
    let err = error.map(|e| e.chars().take(500).collect::<String>());
    let n = tx.exec(
        "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, locked_until = 0, last_status_code = ?, last_error = ?, updated_at = ? \
         WHERE id = ? AND locked_until = ? AND status = 'pending'",
        params![status, attempts, now + backoff_ms(attempts - 1), status_code, err, now, id, lease],
    )?;
    Ok(n == 1)
}

pub(crate) fn deliveries(
    tx: &mut dyn Tx,
    subscription_id: &str,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<DeliveryView>> {
    tx.query(
        "SELECT id, subscription_id, event_id, event_seq, status, attempts, next_attempt_at, last_status_code, last_error, updated_at \
         FROM webhook_deliveries WHERE subscription_id = ? AND event_seq < ? ORDER BY event_seq DESC LIMIT ?",
        params![subscription_id, before.unwrap_or(i64::MAX), limit as i64],
    )?
    .iter()
    .map(|r| {
        Ok(DeliveryView {
            id: r.text(0)?,
            subscription_id: r.text(1)?,
            event_id: r.text(2)?,
            event_seq: r.i64(3)?,
            status: r.text(4)?,
            attempts: r.i64(5)?,
            next_attempt_at: domain::time::rfc3339(r.i64(6)?),
            last_status_code: r.opt_i64(7)?,
            last_error: r.opt_text(8)?,
            updated_at: domain::time::rfc3339(r.i64(9)?),
        })
    })
    .collect()
}

/// How long finished webhook deliveries stay in the delivery log.
pub const DELIVERY_LOG_RETENTION_MS: i64 = 30 * 24 * 3600 * 1000;
