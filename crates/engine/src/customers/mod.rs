//! Customer identity: sign-up, passwords (argon2id, bounded), sessions, the login throttle, lookups.

pub mod accounts;

use crate::error::bad;
use crate::{Engine, EngineError, Result};
use accounts::{CustomerView, SignupInput};
use std::collections::HashMap;

/// Failed logins allowed per email address within [`LOGIN_WINDOW_MS`] before further attempts are refused.
pub const MAX_LOGIN_FAILURES: u32 = 10;

pub const LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;

/// Most email addresses the login throttle tracks at once (per node).
const MAX_TRACKED_LOGINS: usize = 100_000;

/// Login protection: argon2id takes ~19 MiB and tens of milliseconds per hash, so at most one hash per core
/// runs at once (a burst of logins queues instead of exhausting memory); failed logins are counted per email.
pub(crate) struct LoginState {
    pub(crate) hash_slots: tokio::sync::Semaphore,
    /// email → (failures, window start), for the login throttle.
    pub(crate) login_failures: std::sync::Mutex<HashMap<String, (u32, i64)>>,
}

impl LoginState {
    pub(crate) fn new() -> LoginState {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        LoginState { hash_slots: tokio::sync::Semaphore::new(cores), login_failures: Default::default() }
    }
}

impl Engine {
    pub async fn signup(&self, input: SignupInput) -> Result<(CustomerView, String)> {
        let (email, phone, name, locale) = accounts::validate_signup(&input)?;
        let pw = input.password.clone();
        let _slot = self.customers.hash_slots.acquire().await.map_err(|_| bad("shutting down"))?;
        let password_hash = tokio::task::spawn_blocking(move || accounts::hash_password(&pw))
            .await
            .map_err(|e| bad(format!("hashing failed: {e}")))??;
        let c = accounts::NewCustomer { email, phone, name, locale, password_hash };
        let now = self.now();
        self.db
            .write(move |tx| {
                let v = accounts::create(tx, &c, now)?;
                let token = accounts::new_session(tx, &v.id, now)?;
                Ok((v, token))
            })
            .await
    }

    /// Checks a password and opens a session. The same error for an unknown email and a wrong password.
    pub async fn login(&self, email: &str, password: &str) -> Result<(CustomerView, String)> {
        if password.len() > accounts::MAX_PASSWORD_BYTES {
            return Err(EngineError::Unauthorized);
        }
        let throttle_key = email.trim().to_lowercase();
        let now = self.now();
        {
            let map = self.customers.login_failures.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((n, start)) = map.get(&throttle_key) {
                if *n >= MAX_LOGIN_FAILURES && now - start < LOGIN_WINDOW_MS {
                    return Err(EngineError::RateLimited(format!(
                        "too many failed logins for this account; try again in {} minutes",
                        (LOGIN_WINDOW_MS - (now - start)) / 60_000 + 1
                    )));
                }
            }
        }
        let email = email.to_owned();
        let creds = self.db.read(move |tx| accounts::credentials(tx, &email)).await?;
        let pw = password.to_owned();
        let _slot = self.customers.hash_slots.acquire().await.map_err(|_| bad("shutting down"))?;
        let (id, ok) = tokio::task::spawn_blocking(move || match creds {
            Some((id, Some(hash))) => (Some(id), accounts::verify_password(&pw, &hash)),
            // Spend the same time on unknown accounts, so timing does not reveal which emails exist.
            _ => (None, accounts::hash_password(&pw).is_err()),
        })
        .await
        .map_err(|e| bad(format!("verification failed: {e}")))?;
        drop(_slot);
        let Some(id) = id.filter(|_| ok) else {
            let mut map = self.customers.login_failures.lock().unwrap_or_else(|e| e.into_inner());
            if map.len() >= MAX_TRACKED_LOGINS {
                map.retain(|_, (_, start)| now - *start < LOGIN_WINDOW_MS);
            }
            let entry = map.entry(throttle_key).or_insert((0, now));
            if now - entry.1 >= LOGIN_WINDOW_MS {
                *entry = (0, now);
            }
            entry.0 += 1;
            return Err(EngineError::Unauthorized);
        };
        self.customers.login_failures.lock().unwrap_or_else(|e| e.into_inner()).remove(&throttle_key);
        self.db
            .write(move |tx| {
                let token = accounts::new_session(tx, &id, now)?;
                Ok((accounts::get(tx, &id)?, token))
            })
            .await
    }

    pub async fn session_customer(&self, token: &str) -> Result<Option<String>> {
        let (token, now) = (token.to_owned(), self.now());
        self.db.read(move |tx| accounts::session_customer(tx, &token, now)).await
    }

    pub async fn customer(&self, id: &str) -> Result<CustomerView> {
        let id = id.to_owned();
        self.db.read(move |tx| accounts::get(tx, &id)).await
    }

    pub async fn find_customers(
        &self,
        email: Option<String>,
        phone: Option<String>,
        member_code: Option<String>,
    ) -> Result<Vec<CustomerView>> {
        self.db.read(move |tx| accounts::find(tx, email.as_deref(), phone.as_deref(), member_code.as_deref())).await
    }

    /// Customers page by page (staff lookups and the console), optionally matching `q`.
    pub async fn list_customers(
        &self,
        q: Option<String>,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<CustomerView>> {
        if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
            return Err(bad("`q` is at most 100 characters"));
        }
        self.db.read(move |tx| accounts::list(tx, q.as_deref(), after.as_deref(), limit)).await
    }
}
