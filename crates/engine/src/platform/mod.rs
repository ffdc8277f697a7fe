//! Platform plumbing every area uses: API keys and principals, console staff accounts and their sessions,
//! passwords and the login throttle, the audit log, the domain event feed (the outbox), webhook
//! subscriptions and their delivery log, the mail outbox, idempotency keys, settings, and retention sweeps.

pub mod audit;
pub mod auth;
pub mod events;
pub mod faults;
pub mod idempotency;
pub mod mail;
pub mod passwords;
pub mod staff;
pub mod webhooks;

use crate::error::bad;
use crate::{Engine, EngineError, Result};
use auth::{IssuedKey, Principal};
use events::EventView;
use store::params;
use webhooks::{DeliveryView, DueDelivery, SubscriptionInput, SubscriptionView};

/// An open cart nobody has touched for this long is deleted (its id stops working).
pub const CART_RETENTION_MS: i64 = 30 * 24 * 3600 * 1000;
/// Browsing events (views, searches, cart adds) of shoppers who never signed in are kept this long.
pub const ANONYMOUS_EVENTS_RETENTION_MS: i64 = 90 * 24 * 3600 * 1000;
/// Every shopper event is kept at most this long (recommendations learn from the last year).
pub const EVENTS_RETENTION_MS: i64 = 400 * 24 * 3600 * 1000;
/// Rows one purge statement removes at most (the worker runs every 30 s).
pub const PURGE_BATCH: i64 = 5_000;

impl Engine {
    pub async fn authenticate(&self, key: &str) -> Result<Principal> {
        let key = key.to_owned();
        let now = self.now();
        self.db.read(move |tx| auth::authenticate(tx, &key, now)).await
    }

    /// Creates the first admin key unless one exists. Returns the key when one was created.
    pub async fn bootstrap_admin(&self, explicit: Option<String>) -> Result<Option<IssuedKey>> {
        let now = self.now();
        self.db
            .write(move |tx| {
                if auth::admin_exists(tx)? {
                    return Ok(None);
                }
                auth::issue(tx, "admin", None, "bootstrap admin", explicit.as_deref(), None, now).map(Some)
            })
            .await
    }

    /// Issues a key that expires after `days` (default [`auth::DEFAULT_KEY_DAYS`], at most
    /// [`auth::MAX_KEY_DAYS`]).
    pub async fn issue_key(
        &self,
        role: &str,
        location_id: Option<String>,
        label: String,
        days: Option<i64>,
    ) -> Result<IssuedKey> {
        if role != "admin" && role != "staff" {
            return Err(bad("`role` must be admin or staff"));
        }
        let days = days.unwrap_or(auth::DEFAULT_KEY_DAYS);
        if !(1..=auth::MAX_KEY_DAYS).contains(&days) {
            return Err(bad(format!("`expires_in_days` must be 1–{}", auth::MAX_KEY_DAYS)));
        }
        let (role, now) = (role.to_owned(), self.now());
        let expires = now + days * 24 * 3600 * 1000;
        self.db.write(move |tx| auth::issue(tx, &role, location_id.as_deref(), &label, None, Some(expires), now)).await
    }

    /// Every API key, newest first (never the secrets).
    pub async fn api_keys(&self) -> Result<Vec<auth::KeyView>> {
        self.db.read(auth::list_keys).await
    }

    /// Revokes an API key; requests with it fail at once.
    pub async fn revoke_key(&self, by: &auth::Principal, id: &str) -> Result<()> {
        let (id, now, by) = (id.to_owned(), self.now(), by.clone());
        self.db
            .write(move |tx| {
                auth::revoke_key(tx, &id, now)?;
                audit::record(tx, &by, "api_key.revoked", &id, None, &serde_json::json!({}), now)
            })
            .await
    }

    /// The mail outbox, newest first (staff see a waiting message's body: the demo, or a shop whose mail
    /// transport is not set up yet, hands sign-up links on from here).
    pub async fn mail_outbox(
        &self,
        to: Option<String>,
        status: Option<String>,
        before: Option<String>,
        limit: usize,
    ) -> Result<Vec<mail::MailView>> {
        self.db.read(move |tx| mail::list(tx, to.as_deref(), status.as_deref(), before.as_deref(), limit)).await
    }

    /// Claims messages due for delivery (the mail worker; safe with several nodes).
    pub async fn claim_mail(&self, limit: usize) -> Result<Vec<mail::DueMail>> {
        let now = self.now();
        self.db.write(move |tx| mail::claim_due(tx, limit, now)).await
    }

    /// Records a message delivered (its body is dropped).
    pub async fn mail_sent(&self, id: &str) -> Result<()> {
        let (id, now) = (id.to_owned(), self.now());
        self.db.write(move |tx| mail::mark_sent(tx, &id, now)).await
    }

    /// Records a failed delivery attempt (retried with backoff unless `permanent`).
    pub async fn mail_failed(&self, id: &str, error: &str, permanent: bool) -> Result<()> {
        let (id, error, now) = (id.to_owned(), error.to_owned(), self.now());
        self.db.write(move |tx| mail::mark_failed(tx, &id, &error, permanent, now)).await
    }

    /// Whether this node delivers mail (a transport is configured).
    pub fn mail_delivery(&self) -> bool {
        self.cfg.mail_delivery
    }

    /// The event feed's current end (a consumer that starts here sees only what commits from now on).
    pub async fn events_head(&self) -> Result<events::Cursor> {
        self.db.read(events::head).await
    }

    /// Deletes what has outlived its retention window: expired sessions, idempotency keys older than
    /// [`idempotency::RETENTION_MS`], webhook delivery records older than
    /// [`webhooks::DELIVERY_LOG_RETENTION_MS`] (and at once the pending ones of deactivated subscriptions,
    /// which will never be sent), open carts idle for [`CART_RETENTION_MS`], anonymous browsing events
    /// older than [`ANONYMOUS_EVENTS_RETENTION_MS`] and all shopper events older than
    /// [`EVENTS_RETENTION_MS`]. Large backlogs go in batches of [`PURGE_BATCH`] rows, so no purge holds the
    /// writer long. Returns the rows removed.
    pub async fn purge_expired(&self) -> Result<u64> {
        let now = self.now();
        let mut n = self
            .db
            .write(move |tx| {
                let mut n = tx.exec(
                    "DELETE FROM webhook_deliveries WHERE status = 'pending' AND subscription_id IN \
                     (SELECT id FROM webhook_subscriptions WHERE active = 0)",
                    &[],
                )?;
                let carts = format!(
                    "SELECT id FROM carts WHERE status = 'open' AND updated_at < {} ORDER BY id LIMIT {PURGE_BATCH}",
                    now - CART_RETENTION_MS
                );
                n += tx.exec(&format!("DELETE FROM cart_lines WHERE cart_id IN ({carts})"), &[])?;
                n += tx.exec(&format!("DELETE FROM carts WHERE id IN ({carts})"), &[])?;
                let events = format!(
                    "SELECT seq FROM interactions WHERE (at < {} AND customer_id IS NULL AND kind IN ('view', 'search', 'cart_add')) \
                     OR at < {} LIMIT {PURGE_BATCH}",
                    now - ANONYMOUS_EVENTS_RETENTION_MS,
                    now - EVENTS_RETENTION_MS
                );
                n += tx.exec(&format!("DELETE FROM interactions WHERE seq IN ({events})"), &[])?;
                // Assistant conversations past their idle expiry, with their messages.
                let convs = format!(
                    "SELECT id FROM assistant_conversations WHERE expires_at < {now} ORDER BY id LIMIT {PURGE_BATCH}"
                );
                n += tx.exec(&format!("DELETE FROM assistant_messages WHERE conversation_id IN ({convs})"), &[])?;
                n += tx.exec(&format!("DELETE FROM assistant_conversations WHERE id IN ({convs})"), &[])?;
                Ok::<u64, EngineError>(n)
            })
            .await?;
        n += self
            .db
            .write(move |tx| {
                let mut n = tx.exec("DELETE FROM sessions WHERE expires_at < ?", params![now])?;
                n += tx.exec(
                    "DELETE FROM idempotency_keys WHERE created_at < ?",
                    params![now - idempotency::RETENTION_MS],
                )?;
                n += tx.exec(
                    "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < ?",
                    params![now - webhooks::DELIVERY_LOG_RETENTION_MS],
                )?;
                n += tx.exec(
                    "DELETE FROM psp_events WHERE received_at < ?",
                    params![now - webhooks::DELIVERY_LOG_RETENTION_MS],
                )?;
                n += tx.exec("DELETE FROM signup_requests WHERE expires_at <= ?", params![now])?;
                n += mail::purge(tx, now)?;
                Ok::<u64, EngineError>(n)
            })
            .await?;
        Ok(n)
    }

    /// A page of the event feed, the cursor to read on from, and whether more may follow even though the
    /// page is short (a read of a kind prefix on SQLite looks through a window of the feed at a time).
    pub async fn events_page(
        &self,
        after: events::Cursor,
        limit: usize,
        kind: Option<String>,
    ) -> Result<(Vec<EventView>, events::Cursor, bool)> {
        let windowed = self.db.dialect() == store::Dialect::Sqlite
            && kind.as_deref().is_some_and(|k| k.ends_with(".*") || k.ends_with('.'));
        let (items, next) = self.events(after, limit, kind).await?;
        let more = windowed && next < self.events_head().await?;
        Ok((items, next, more))
    }

    /// A page of the event feed and the cursor to read on from.
    pub async fn events(
        &self,
        after: events::Cursor,
        limit: usize,
        kind: Option<String>,
    ) -> Result<(Vec<EventView>, events::Cursor)> {
        self.db.read(move |tx| events::feed(tx, after, limit, kind.as_deref())).await
    }

    pub async fn subscribe(&self, input: SubscriptionInput) -> Result<SubscriptionView> {
        let now = self.now();
        let allow = self.cfg.webhooks_allow_private;
        self.db.write(move |tx| webhooks::subscribe(tx, &input, allow, now)).await
    }

    pub async fn subscriptions(&self) -> Result<Vec<SubscriptionView>> {
        self.db.read(webhooks::list).await
    }

    pub async fn unsubscribe(&self, id: &str) -> Result<()> {
        let id = id.to_owned();
        self.db.write(move |tx| webhooks::deactivate(tx, &id)).await
    }

    /// A subscription's deliveries, newest first; `before` is the previous page's last event `seq`.
    pub async fn deliveries(
        &self,
        subscription_id: &str,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<DeliveryView>> {
        let id = subscription_id.to_owned();
        self.db.read(move |tx| webhooks::deliveries(tx, &id, before, limit)).await
    }

    /// One dispatcher step: fan new events out, then lease due deliveries to the caller.
    pub async fn webhook_step(
        &self,
        limit: usize,
        busy: &[String],
        per_subscription: usize,
    ) -> Result<Vec<DueDelivery>> {
        let (now, busy) = (self.now(), busy.to_vec());
        self.db
            .write(move |tx| {
                webhooks::fanout(tx, 1000, now)?;
                webhooks::claim_due(tx, limit, &busy, per_subscription, now)
            })
            .await
    }

    /// Records a delivery attempt under the sender's lease; `false` if the lease was lost meanwhile.
    pub async fn record_delivery(
        &self,
        id: &str,
        lease: i64,
        status_code: Option<i64>,
        error: Option<String>,
    ) -> Result<bool> {
        let (id, now) = (id.to_owned(), self.now());
        self.db.write(move |tx| webhooks::record(tx, &id, lease, status_code, error.as_deref(), now)).await
    }

    /// Reads a setting from the database's `meta` table.
    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_owned();
        self.db
            .read(move |tx| {
                Ok(tx
                    .query_opt("SELECT value FROM meta WHERE key = ?", params![&key])?
                    .map(|r| r.text(0))
                    .transpose()?)
            })
            .await
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.db
            .write(move |tx| {
                tx.exec(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![&key, &value],
                )?;
                Ok(())
            })
            .await
    }

    // ---- console staff ----

    /// Creates a staff account (`borderless staff add`, the console's settings).
    pub async fn add_staff(
        &self,
        email: &str,
        name: &str,
        password: &str,
        role: &str,
        location: Option<&str>,
        locale: &str,
    ) -> Result<staff::StaffView> {
        let s = staff::validate(email, name, role, location, locale)?;
        passwords::check_new(password)?;
        let pw = password.to_owned();
        let hash = self.passwords.run(move || passwords::hash_password(&pw)).await??;
        let now = self.now();
        self.db.write(move |tx| staff::create(tx, &s, &hash, now)).await
    }

    /// Signs a staff member in; returns the account, the session token (for the cookie) and its CSRF token.
    pub async fn staff_login(
        &self,
        email: &str,
        password: &str,
        client: &str,
    ) -> Result<(staff::StaffView, String, String)> {
        let account = format!("staff:{}", email.trim().to_lowercase());
        let now = self.now();
        let e = email.to_owned();
        let creds = self.db.read(move |tx| staff::credentials(tx, &e)).await?;
        let (id, hash) = match creds {
            Some((id, hash)) => (Some(id), Some(hash)),
            None => (None, None),
        };
        let ok = self.passwords.login(&account, client, password, hash, now).await?;
        let Some(id) = id.filter(|_| ok) else {
            return Err(EngineError::Unauthorized);
        };
        self.db
            .write(move |tx| {
                let (token, csrf) = staff::open_session(tx, &id, now)?;
                Ok((staff::get(tx, &id)?, token, csrf))
            })
            .await
    }

    pub async fn staff_session(&self, token: &str) -> Result<Option<staff::StaffSession>> {
        let (t, now) = (token.to_owned(), self.now());
        let Some((session, touch)) = self.db.read(move |tx| staff::session(tx, &t, now)).await? else {
            return Ok(None);
        };
        if touch {
            let t = token.to_owned();
            self.db.write(move |tx| staff::touch_session(tx, &t, now)).await?;
        }
        Ok(Some(session))
    }

    pub async fn staff_logout(&self, token: &str) -> Result<()> {
        let (token, now) = (token.to_owned(), self.now());
        self.db.write(move |tx| staff::close_session(tx, &token, now)).await
    }

    pub async fn staff_members(&self, location_id: Option<String>) -> Result<Vec<staff::StaffView>> {
        self.db.read(move |tx| staff::list(tx, location_id.as_deref())).await
    }

    pub async fn staff_member(&self, id: &str) -> Result<staff::StaffView> {
        let id = id.to_owned();
        self.db.read(move |tx| staff::get(tx, &id)).await
    }

    pub async fn set_staff_active(&self, id: &str, active: bool) -> Result<staff::StaffView> {
        let (id, now) = (id.to_owned(), self.now());
        self.db.write(move |tx| staff::set_active(tx, &id, active, now)).await
    }

    pub async fn set_staff_password(&self, id: &str, password: &str) -> Result<()> {
        passwords::check_new(password)?;
        let pw = password.to_owned();
        let hash = self.passwords.run(move || passwords::hash_password(&pw)).await??;
        let (id, now) = (id.to_owned(), self.now());
        self.db.write(move |tx| staff::set_password(tx, &id, &hash, now)).await
    }

    pub async fn set_staff_locale(&self, id: &str, locale: &str) -> Result<()> {
        let (id, locale) = (id.to_owned(), locale.to_owned());
        self.db.write(move |tx| staff::set_locale(tx, &id, &locale)).await
    }

    /// The audit log, newest first (`before`: the previous page's last `seq`).
    pub async fn audit_log(
        &self,
        target: Option<String>,
        actor: Option<String>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<audit::AuditEntry>> {
        self.db.read(move |tx| audit::list(tx, target.as_deref(), actor.as_deref(), before, limit)).await
    }
}
