//! Rate limits for the open internet: each request is counted against its client address (the peer, or the
//! address a trusted proxy forwarded) and, when it carries a bearer token, against that token too, in a
//! class chosen by what it does (logins, sign-ups, checkouts, other shopper writes, shopper events, reads).
//! Past a class's rate the answer is `429` with `Retry-After`. The counters are a GCRA (one instant per
//! key) in sharded maps of bounded size, so a flood of addresses costs bounded memory. On by default;
//! `--rate-limits off` is for load tests on loopback and is logged loudly at start.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What a request does, for its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// Password logins (shoppers and staff); failures are also throttled per account by the engine.
    Login,
    /// New shopper accounts.
    Signup,
    /// Placing an order.
    Checkout,
    /// Behavioural events from shoppers' browsers and apps.
    Events,
    /// Any other write by a shopper (carts, wallet codes, the assistant).
    StoreWrite,
    /// Reads of the storefront (search, products, recommendations).
    StoreRead,
}

/// A rate: `per_minute` on average, with bursts of up to `burst` at once.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub per_minute: u32,
    pub burst: u32,
}

impl Class {
    /// The limits a shop on the open internet starts with. Per address they allow a household or an office
    /// behind one NAT to shop normally; per token they bound one session.
    pub fn default_rule(self) -> Rule {
        match self {
            Class::Login => Rule { per_minute: 20, burst: 10 },
            Class::Signup => Rule { per_minute: 2, burst: 10 },
            Class::Checkout => Rule { per_minute: 30, burst: 15 },
            Class::Events => Rule { per_minute: 600, burst: 300 },
            Class::StoreWrite => Rule { per_minute: 600, burst: 200 },
            Class::StoreRead => Rule { per_minute: 1200, burst: 400 },
        }
    }

    fn name(self) -> &'static str {
        match self {
            Class::Login => "login",
            Class::Signup => "signup",
            Class::Checkout => "checkout",
            Class::Events => "events",
            Class::StoreWrite => "store_write",
            Class::StoreRead => "store_read",
        }
    }

    /// The class of a request, or `None` for what is not limited here: staff and device calls with their
    /// keys (integrations sync in bulk; money caps per key are the engine's), health and the console's
    /// pages behind a staff session.
    pub fn of(method: &Method, path: &str) -> Option<Class> {
        let write = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        // Opening a sign-up link counts as a login: it signs the shopper in.
        if write
            && matches!(
                path,
                "/store/auth/login"
                    | "/console/login"
                    | "/account/login"
                    | "/store/customers/verify"
                    | "/account/verify"
            )
        {
            return Some(Class::Login);
        }
        if let Some(class) = Class::of_storefront(write, path) {
            return Some(class);
        }
        if !path.starts_with("/store/") {
            return None;
        }
        Some(match (write, path) {
            (true, "/store/customers") => Class::Signup,
            (true, p) if p.ends_with("/checkout") => Class::Checkout,
            (true, "/store/events") => Class::Events,
            (true, _) => Class::StoreWrite,
            (false, _) => Class::StoreRead,
        })
    }
}

impl Class {
    /// The storefront's pages (HTML at `/`): sign-up, checkout and other writes as their API twins, page
    /// views as store reads. Assets, the console and the API are classified elsewhere.
    fn of_storefront(write: bool, path: &str) -> Option<Class> {
        const PAGES: &[&str] = &[
            "/search",
            "/p/",
            "/cart",
            "/checkout",
            "/orders/",
            "/account",
            "/giftcard",
            "/stores",
            "/consent",
            "/store-choice",
            "/sitemap.xml",
            "/assistant",
        ];
        if path != "/" && !PAGES.iter().any(|p| path.starts_with(p)) {
            return None;
        }
        Some(match (write, path) {
            (true, "/account/signup") => Class::Signup,
            (true, "/checkout") => Class::Checkout,
            (true, _) => Class::StoreWrite,
            (false, _) => Class::StoreRead,
        })
    }
}

const SHARDS: usize = 16;
/// Keys tracked per shard; past it, keys whose counters have run out are dropped, then the quietest.
const MAX_KEYS_PER_SHARD: usize = 16_384;

/// The node's limiter.
pub struct RateLimiter {
    enabled: bool,
    rules: HashMap<Class, Rule>,
    epoch: Instant,
    /// (class, key hash) → theoretical arrival time in µs since `epoch`.
    shards: Vec<Mutex<HashMap<(Class, u64), u64>>>,
}

impl RateLimiter {
    /// The default limits, or none at all when `enabled` is false.
    pub fn new(enabled: bool) -> RateLimiter {
        let rules = [Class::Login, Class::Signup, Class::Checkout, Class::Events, Class::StoreWrite, Class::StoreRead]
            .into_iter()
            .map(|c| (c, c.default_rule()))
            .collect();
        RateLimiter::with_rules(enabled, rules)
    }

    pub fn with_rules(enabled: bool, rules: HashMap<Class, Rule>) -> RateLimiter {
        RateLimiter {
            enabled,
            rules,
            epoch: Instant::now(),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Counts one request of `class` for `key`; `Err(wait)` when it is over the limit.
    pub fn check(&self, class: Class, key: &str) -> Result<(), std::time::Duration> {
        let Some(rule) = self.rules.get(&class).copied() else { return Ok(()) };
        if !self.enabled || rule.per_minute == 0 {
            return Ok(());
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        let k = h.finish();
        let now = self.epoch.elapsed().as_micros() as u64;
        let interval = 60_000_000 / rule.per_minute as u64;
        let tolerance = interval * (rule.burst.max(1) as u64 - 1);
        let mut shard = self.shards[(k as usize) % SHARDS].lock().unwrap_or_else(|e| e.into_inner());
        let tat = shard.get(&(class, k)).copied().unwrap_or(now).max(now);
        if tat - now > tolerance {
            return Err(std::time::Duration::from_micros(tat - now - tolerance));
        }
        if shard.len() >= MAX_KEYS_PER_SHARD && !shard.contains_key(&(class, k)) {
            shard.retain(|_, t| *t > now);
            if shard.len() >= MAX_KEYS_PER_SHARD {
                // Every key is mid-burst: forget the half closest to being free again.
                let mut tats: Vec<u64> = shard.values().copied().collect();
                tats.sort_unstable();
                let cut = tats[tats.len() / 2];
                shard.retain(|_, t| *t > cut);
            }
        }
        shard.insert((class, k), tat + interval);
        Ok(())
    }
}

/// `app` with the limiter in front of every route.
pub fn layer(app: axum::Router, limiter: Arc<RateLimiter>) -> axum::Router {
    app.layer(axum::middleware::from_fn_with_state(limiter, enforce))
}

/// The middleware: limits what [`Class::of`] names, per client address and per bearer token.
pub async fn enforce(State(limiter): State<Arc<RateLimiter>>, req: Request, next: Next) -> Response {
    if !limiter.enabled() {
        return next.run(req).await;
    }
    let Some(class) = Class::of(req.method(), req.uri().path()) else { return next.run(req).await };
    let peer = req.extensions().get::<ConnectInfo<crate::PeerAddr>>().map(|c| c.0 .0.ip());
    let client = crate::clients::client_ip(peer, req.headers());
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| format!("token:{t}"));
    let verdict = limiter.check(class, &format!("ip:{client}")).and_then(|()| match &token {
        Some(t) => limiter.check(class, t),
        None => Ok(()),
    });
    match verdict {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            tracing::info!(class = class.name(), client = %client, "rate limited");
            too_many(req.uri().path(), wait)
        }
    }
}

fn too_many(path: &str, wait: std::time::Duration) -> Response {
    let secs = wait.as_secs() + 1;
    let mut res = if !path.starts_with("/store/") && !path.starts_with("/admin/") && !path.starts_with("/devices/") {
        (
            StatusCode::TOO_MANY_REQUESTS,
            axum::response::Html(format!(
                "<!doctype html><html lang=\"ko\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
                 <title>요청이 너무 많습니다 · Too many requests</title><main style=\"font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem\">\
                 <h1>요청이 너무 많습니다</h1><p>{secs}초 후에 다시 시도해 주세요.</p>\
                 <h1 lang=\"en\">Too many requests</h1><p lang=\"en\">Please try again in {secs} seconds.</p></main></html>"
            )),
        )
            .into_response()
    } else {
        crate::ApiError::Request {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "rate_limited",
            message: format!("too many requests from this address or session; try again in {secs} s"),
        }
        .into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert("retry-after", v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let l = RateLimiter::with_rules(true, [(Class::Login, Rule { per_minute: 60, burst: 3 })].into());
        for _ in 0..3 {
            assert!(l.check(Class::Login, "a").is_ok());
        }
        let wait = l.check(Class::Login, "a").unwrap_err();
        assert!(wait <= std::time::Duration::from_secs(1), "{wait:?}");
        assert!(l.check(Class::Login, "b").is_ok(), "another key has its own bucket");
        assert!(l.check(Class::Signup, "a").is_ok(), "a class without a rule is not limited");
        assert!(RateLimiter::with_rules(false, l.rules.clone()).check(Class::Login, "a").is_ok());
    }

    #[test]
    fn classes_follow_what_a_request_does() {
        assert_eq!(Class::of(&Method::POST, "/store/auth/login"), Some(Class::Login));
        assert_eq!(Class::of(&Method::POST, "/console/login"), Some(Class::Login));
        assert_eq!(Class::of(&Method::GET, "/console/login"), None);
        assert_eq!(Class::of(&Method::POST, "/account/login"), Some(Class::Login));
        assert_eq!(Class::of(&Method::POST, "/account/signup"), Some(Class::Signup));
        assert_eq!(Class::of(&Method::POST, "/checkout"), Some(Class::Checkout));
        assert_eq!(Class::of(&Method::POST, "/cart/add"), Some(Class::StoreWrite));
        assert_eq!(Class::of(&Method::GET, "/p/some-product"), Some(Class::StoreRead));
        assert_eq!(Class::of(&Method::GET, "/"), Some(Class::StoreRead));
        assert_eq!(Class::of(&Method::GET, "/assets/app.css"), None);
        assert_eq!(Class::of(&Method::POST, "/store/customers"), Some(Class::Signup));
        assert_eq!(Class::of(&Method::POST, "/store/customers/verify"), Some(Class::Login));
        assert_eq!(Class::of(&Method::POST, "/account/verify"), Some(Class::Login));
        assert_eq!(Class::of(&Method::POST, "/store/carts/cart_1/checkout"), Some(Class::Checkout));
        assert_eq!(Class::of(&Method::PUT, "/store/carts/cart_1/fulfillment"), Some(Class::StoreWrite));
        assert_eq!(Class::of(&Method::POST, "/store/events"), Some(Class::Events));
        assert_eq!(Class::of(&Method::GET, "/store/search"), Some(Class::StoreRead));
        assert_eq!(Class::of(&Method::POST, "/admin/pos/sales"), None);
    }

    #[test]
    fn memory_is_bounded_under_a_flood_of_addresses() {
        let l = RateLimiter::with_rules(true, [(Class::Login, Rule { per_minute: 1, burst: 1 })].into());
        for i in 0..(SHARDS * MAX_KEYS_PER_SHARD * 2) {
            let _ = l.check(Class::Login, &format!("ip:{i}"));
        }
        let total: usize = l.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(total <= SHARDS * MAX_KEYS_PER_SHARD, "{total}");
    }
}
