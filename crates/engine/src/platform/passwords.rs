//! Passwords for shoppers and staff: argon2id hashing off the async threads with a bounded queue (each hash
//! takes ~19 MiB and tens of milliseconds, so at most one per core runs and a flood waits in a queue of
//! fixed size, then is refused as `overloaded`), and the login throttle. The throttle counts failures per
//! (account, client) — ten wrong guesses lock that pair, never the account's owner on another device — and
//! per client over all accounts, which stops password spraying. Unknown accounts cost the same time as known
//! ones, so timing does not tell which emails exist.

use crate::error::{bad, EngineError, Result};
use std::collections::HashMap;
use std::sync::Mutex;

/// Failed logins one client may make for one account within [`WINDOW_MS`].
pub const MAX_FAILURES_PER_ACCOUNT: u32 = 10;
/// Failed logins one client may make over all accounts within [`WINDOW_MS`] (password spraying).
pub const MAX_FAILURES_PER_CLIENT: u32 = 50;
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Most (account, client) pairs and clients tracked at once (per node); old windows are dropped first.
const MAX_TRACKED: usize = 100_000;
/// Hashes that may wait for a slot per core before new ones are refused.
const QUEUE_PER_CORE: usize = 16;
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_BYTES: usize = 256;

/// Hashes a password with argon2id (CPU heavy: call off the async runtime).
pub fn hash_password(password: &str) -> Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&bytes).map_err(|e| bad(format!("cannot make a salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| bad(format!("cannot hash password: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A new password's rules.
pub fn check_new(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(EngineError::invalid(
            "weak_password",
            format!("a password needs {MIN_PASSWORD_CHARS}–{MAX_PASSWORD_BYTES} characters"),
        ));
    }
    Ok(())
}

#[derive(Default)]
struct Counts {
    /// (account, client) → (failures, window start)
    pairs: HashMap<(String, String), (u32, i64)>,
    /// client → (failures, window start)
    clients: HashMap<String, (u32, i64)>,
}

/// The node's password work: hash slots, the waiting queue and the throttle.
pub(crate) struct Passwords {
    slots: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    max_waiting: usize,
    counts: Mutex<Counts>,
}

impl Passwords {
    pub(crate) fn new() -> Passwords {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Passwords {
            slots: tokio::sync::Semaphore::new(cores),
            waiting: Default::default(),
            max_waiting: cores * QUEUE_PER_CORE,
            counts: Default::default(),
        }
    }

    /// Runs `f` (a hash or a verification) on a blocking thread once a slot is free; refuses when the queue
    /// is full, so a login flood costs bounded memory and answers fast.
    pub(crate) async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        use std::sync::atomic::Ordering;
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(EngineError::Db(store::DbError::new(
                store::DbErrorKind::Overloaded,
                "too many password checks are waiting".to_owned(),
            )));
        }
        let slot = self.slots.acquire().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let _slot = slot.map_err(|_| bad("shutting down"))?;
        tokio::task::spawn_blocking(f).await.map_err(|e| bad(format!("password work stopped: {e}")))
    }

    /// Refuses a login attempt this client may not make now, saying when it may try again.
    pub(crate) fn check(&self, account: &str, client: &str, now: i64) -> Result<()> {
        let c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let blocked = |entry: Option<&(u32, i64)>, max: u32| {
            entry.filter(|(n, start)| *n >= max && now - start < WINDOW_MS).map(|(_, start)| WINDOW_MS - (now - start))
        };
        let wait = blocked(c.pairs.get(&(account.to_owned(), client.to_owned())), MAX_FAILURES_PER_ACCOUNT)
            .or_else(|| blocked(c.clients.get(client), MAX_FAILURES_PER_CLIENT));
        match wait {
            Some(ms) => Err(EngineError::RateLimited(format!(
                "too many failed logins from here; try again in {} minutes",
                ms / 60_000 + 1
            ))),
            None => Ok(()),
        }
    }

    pub(crate) fn failed(&self, account: &str, client: &str, now: i64) {
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if c.pairs.len() >= MAX_TRACKED {
            c.pairs.retain(|_, (_, start)| now - *start < WINDOW_MS);
        }
        if c.clients.len() >= MAX_TRACKED {
            c.clients.retain(|_, (_, start)| now - *start < WINDOW_MS);
        }
        let bump = |e: &mut (u32, i64)| {
            if now - e.1 >= WINDOW_MS {
                *e = (0, now);
            }
            e.0 += 1;
        };
        bump(c.pairs.entry((account.to_owned(), client.to_owned())).or_insert((0, now)));
        bump(c.clients.entry(client.to_owned()).or_insert((0, now)));
    }

    pub(crate) fn succeeded(&self, account: &str, client: &str) {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).pairs.remove(&(account.to_owned(), client.to_owned()));
    }

    /// Checks `password` against `hash` (or spends the same time when there is no account), throttled.
    /// Returns whether it matched; failures are counted.
    pub(crate) async fn login(
        &self,
        account: &str,
        client: &str,
        password: &str,
        hash: Option<String>,
        now: i64,
    ) -> Result<bool> {
        self.check(account, client, now)?;
        if password.len() > MAX_PASSWORD_BYTES {
            self.failed(account, client, now);
            return Ok(false);
        }
        let pw = password.to_owned();
        let ok = self
            .run(move || match hash {
                Some(h) => verify_password(&pw, &h),
                // Spend the same time on unknown accounts, so timing does not reveal which exist.
                None => hash_password(&pw).is_err(),
            })
            .await?;
        if ok {
            self.succeeded(account, client);
        } else {
            self.failed(account, client, now);
        }
        Ok(ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stranger_cannot_lock_the_owner_out_and_spraying_is_stopped() {
        let p = Passwords::new();
        for _ in 0..MAX_FAILURES_PER_ACCOUNT {
            p.failed("owner@example.com", "203.0.113.9", 0);
        }
        assert!(p.check("owner@example.com", "203.0.113.9", 1).is_err(), "the guessing client is stopped");
        assert!(p.check("owner@example.com", "198.51.100.7", 1).is_ok(), "the owner's own device is not");
        for i in 0..MAX_FAILURES_PER_CLIENT {
            p.failed(&format!("user{i}@example.com"), "192.0.2.1", 0);
        }
        assert!(p.check("someone-else@example.com", "192.0.2.1", 1).is_err(), "spraying across accounts");
        assert!(p.check("someone-else@example.com", "192.0.2.1", WINDOW_MS + 1).is_ok(), "the window ends");
    }
}
