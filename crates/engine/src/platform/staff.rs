//! Staff accounts for the console: email and password (argon2id), a role — `owner` (everything), `manager`
//! (one location: its stock, orders, staff and devices) or `associate` (one location: the till, the pickup
//! desk, returns) — and cookie sessions with their CSRF secret, idle and absolute expiry, and revocation.
//! A signed-in staff member acts through the same `Principal` as an API key: owners as admins, the others as
//! staff bound to their location.

use crate::error::{bad, EngineError, Result};
use crate::platform::auth::{hash_token, Principal};
use domain::{ids, text};
use serde::Serialize;
use store::{params, Row, Tx};

/// A console session ends after this long without a request (a shift) …
pub const SESSION_IDLE_MS: i64 = 12 * 3600 * 1000;
/// … and after this long in any case.
pub const SESSION_MAX_MS: i64 = 7 * 24 * 3600 * 1000;
/// Most staff accounts (a guard against runaway scripts).
pub const MAX_STAFF: i64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Everything, at every location.
    Owner,
    /// One location: its stock, orders, staff and devices.
    Manager,
    /// One location: the till, the pickup desk and returns.
    Associate,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Owner => "owner",
            StaffRole::Manager => "manager",
            StaffRole::Associate => "associate",
        }
    }
    pub fn parse(s: &str) -> Result<StaffRole> {
        match s {
            "owner" => Ok(StaffRole::Owner),
            "manager" => Ok(StaffRole::Manager),
            "associate" => Ok(StaffRole::Associate),
            other => Err(bad(format!("`role` is owner, manager or associate, got `{other}`"))),
        }
    }
}

/// What a console user may do. The table in [`StaffRole::may`] is the one place that decides; every screen
/// and form checks it, and the engine's location rules (a staff principal acts at its own location) apply
/// underneath.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Sell at the till, take payment, top up a wallet at the counter, sell gift cards.
    Till,
    /// Mark pickup orders ready and hand them over by code.
    PickupDesk,
    /// Take returns and refund them to the tender.
    Returns,
    /// Look up customers, their orders and wallets.
    Customers,
    /// Adjust, receive and transfer stock, set safety stock.
    Stock,
    /// Ship and cancel orders.
    Orders,
    /// Resolve cashierless reviews, rotate and revoke device tokens.
    Devices,
    /// Add and disable staff (managers: associates at their own location).
    Staff,
    /// Create and edit products, import catalogs.
    Catalog,
    /// Locations, API keys, webhooks, exchange rates, search synonyms.
    Settings,
    /// Shopper analytics: dwell, funnels, journeys, traffic, channel mix, stock-outs (managers: their own
    /// location's).
    Analytics,
}

impl StaffRole {
    /// The role table: owners everything; managers run one location; associates the till, the pickup desk
    /// and returns.
    pub fn may(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            StaffRole::Owner => true,
            StaffRole::Manager => !matches!(p, Catalog | Settings),
            StaffRole::Associate => matches!(p, Till | PickupDesk | Returns | Customers),
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StaffView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: StaffRole,
    /// The location a manager or associate works at (`null` for owners).
    pub location_id: Option<String>,
    /// `ko` or `en`: the console's language for them.
    pub locale: String,
    pub active: bool,
    pub created_at: String,
}

impl StaffView {
    /// How this staff member acts on the engine: owners as admins, others at their location.
    pub fn principal(&self) -> Principal {
        let key_id = format!("staff:{}", self.id);
        match (self.role, &self.location_id) {
            (StaffRole::Owner, _) | (_, None) => Principal::Admin { key_id },
            (_, Some(l)) => Principal::Staff { key_id, location_id: l.clone() },
        }
    }
    pub fn may(&self, p: Permission) -> bool {
        self.role.may(p)
    }
    /// Whether they may act at `location_id` (owners everywhere).
    pub fn works_at(&self, location_id: &str) -> bool {
        self.role == StaffRole::Owner || self.location_id.as_deref() == Some(location_id)
    }
}

/// A signed-in console session.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub staff: StaffView,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
}

const COLS: &str = "id, email, name, role, location_id, locale, created_at, disabled_at";

fn from_row(r: &Row) -> Result<StaffView> {
    Ok(StaffView {
        id: r.text(0)?,
        email: r.text(1)?,
        name: r.text(2)?,
        role: StaffRole::parse(&r.text(3)?)?,
        location_id: r.opt_text(4)?,
        locale: r.text(5)?,
        created_at: domain::time::rfc3339(r.i64(6)?),
        active: r.opt_i64(7)?.is_none(),
    })
}

/// Checked fields of a new staff account (the password is hashed by the caller, off the async threads).
pub struct NewStaff {
    pub email: String,
    pub name: String,
    pub role: StaffRole,
    pub location_id: Option<String>,
    pub locale: String,
}

pub fn validate(email: &str, name: &str, role: &str, location: Option<&str>, locale: &str) -> Result<NewStaff> {
    let email = text::email(email).map_err(|m| EngineError::invalid("invalid_email", m))?;
    let name = text::required("name", name, 100).map_err(bad)?;
    let role = StaffRole::parse(role)?;
    let location_id = location.map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned);
    match (role, &location_id) {
        (StaffRole::Owner, Some(_)) => return Err(bad("an owner works at every location; leave `location` empty")),
        (StaffRole::Manager | StaffRole::Associate, None) => {
            return Err(bad("a manager or associate works at one location: give `location`"))
        }
        _ => {}
    }
    if locale != "ko" && locale != "en" {
        return Err(EngineError::invalid("invalid_locale", "`locale` is `ko` or `en`"));
    }
    Ok(NewStaff { email, name, role, location_id, locale: locale.to_owned() })
}

pub(crate) fn create(tx: &mut dyn Tx, s: &NewStaff, password_hash: &str, now: i64) -> Result<StaffView> {
    let n = tx.query_one("SELECT COUNT(*) FROM staff_users", &[])?.i64(0)?;
    if n >= MAX_STAFF {
        return Err(EngineError::invalid("limit_reached", format!("at most {MAX_STAFF} staff accounts")));
    }
    if tx.query_opt("SELECT 1 FROM staff_users WHERE email = ?", params![&s.email])?.is_some() {
        return Err(EngineError::conflict("email_taken", format!("a staff account for {} exists", s.email)));
    }
    let location_id = match &s.location_id {
        Some(l) => Some(
            tx.query_opt("SELECT id FROM locations WHERE id = ? OR UPPER(code) = UPPER(?)", params![l, l])?
                .ok_or_else(|| EngineError::not_found("location", l.clone()))?
                .text(0)?,
        ),
        None => None,
    };
    let id = ids::new_id("stf");
    tx.exec(
        "INSERT INTO staff_users (id, email, name, password_hash, role, location_id, locale, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params![&id, &s.email, &s.name, password_hash, s.role.as_str(), location_id.clone(), &s.locale, now],
    )?;
    get(tx, &id)
}

pub(crate) fn get(tx: &mut dyn Tx, id: &str) -> Result<StaffView> {
    let sql = format!("SELECT {COLS} FROM staff_users WHERE id = ?");
    tx.query_opt(&sql, params![id])?
        .map(|r| from_row(&r))
        .transpose()?
        .ok_or_else(|| EngineError::not_found("staff", id))
}

pub(crate) fn list(tx: &mut dyn Tx, location_id: Option<&str>) -> Result<Vec<StaffView>> {
    let (sql, ps) = match location_id {
        Some(l) => {
            (format!("SELECT {COLS} FROM staff_users WHERE location_id = ? ORDER BY email"), params![l].to_vec())
        }
        None => (format!("SELECT {COLS} FROM staff_users ORDER BY email"), vec![]),
    };
    tx.query(&sql, &ps)?.iter().map(from_row).collect()
}

/// The account's id and password hash for a login (active accounts only).
pub(crate) fn credentials(tx: &mut dyn Tx, email: &str) -> Result<Option<(String, String)>> {
    let Ok(email) = text::email(email) else { return Ok(None) };
    tx.query_opt("SELECT id, password_hash FROM staff_users WHERE email = ? AND disabled_at IS NULL", params![email])?
        .map(|r| -> Result<_> { Ok((r.text(0)?, r.text(1)?)) })
        .transpose()
}

/// Opens a session; returns (token, csrf). Only hashes are stored.
pub(crate) fn open_session(tx: &mut dyn Tx, staff_id: &str, now: i64) -> Result<(String, String)> {
    let token = format!("bl_con_{}", ids::random_token(32));
    let csrf = ids::random_token(32);
    tx.exec(
        "INSERT INTO staff_sessions (token_hash, staff_id, csrf, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        params![hash_token(&token), staff_id, &csrf, now, now, now + SESSION_MAX_MS],
    )?;
    Ok((token, csrf))
}

/// The session behind a cookie, if it is live, and whether its idle clock should be touched (at most once a
/// minute, so that reading a session stays a read).
pub(crate) fn session(tx: &mut dyn Tx, token: &str, now: i64) -> Result<Option<(StaffSession, bool)>> {
    let r = tx.query_opt(
        "SELECT s.staff_id, s.csrf, s.last_seen_at FROM staff_sessions s JOIN staff_users u ON u.id = s.staff_id \
         WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND u.disabled_at IS NULL",
        params![hash_token(token), now],
    )?;
    let Some(r) = r else { return Ok(None) };
    let idle = now - r.i64(2)?;
    if idle > SESSION_IDLE_MS {
        return Ok(None);
    }
    let (staff_id, csrf) = (r.text(0)?, r.text(1)?);
    Ok(Some((StaffSession { staff: get(tx, &staff_id)?, csrf }, idle > 60_000)))
}

pub(crate) fn touch_session(tx: &mut dyn Tx, token: &str, now: i64) -> Result<()> {
    tx.exec(
        "UPDATE staff_sessions SET last_seen_at = ? WHERE token_hash = ? AND last_seen_at < ?",
        params![now, hash_token(token), now],
    )?;
    Ok(())
}

pub(crate) fn close_session(tx: &mut dyn Tx, token: &str, now: i64) -> Result<()> {
    tx.exec(
        "UPDATE staff_sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
        params![now, hash_token(token)],
    )?;
    Ok(())
}

/// Disables or re-enables an account; disabling also ends its sessions at once.
pub(crate) fn set_active(tx: &mut dyn Tx, id: &str, active: bool, now: i64) -> Result<StaffView> {
    get(tx, id)?;
    if active {
        tx.exec("UPDATE staff_users SET disabled_at = NULL WHERE id = ?", params![id])?;
    } else {
        tx.exec("UPDATE staff_users SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL", params![now, id])?;
        tx.exec(
            "UPDATE staff_sessions SET revoked_at = ? WHERE staff_id = ? AND revoked_at IS NULL",
            params![now, id],
        )?;
    }
    get(tx, id)
}

pub(crate) fn set_password(tx: &mut dyn Tx, id: &str, password_hash: &str, now: i64) -> Result<()> {
    get(tx, id)?;
    tx.exec("UPDATE staff_users SET password_hash = ? WHERE id = ?", params![password_hash, id])?;
    // A new password ends the sessions opened with the old one.
    tx.exec("UPDATE staff_sessions SET revoked_at = ? WHERE staff_id = ? AND revoked_at IS NULL", params![now, id])?;
    Ok(())
}

pub(crate) fn set_locale(tx: &mut dyn Tx, id: &str, locale: &str) -> Result<()> {
    if locale != "ko" && locale != "en" {
        return Err(EngineError::invalid("invalid_locale", "`locale` is `ko` or `en`"));
    }
    tx.exec("UPDATE staff_users SET locale = ? WHERE id = ?", params![locale, id])?;
    Ok(())
}
