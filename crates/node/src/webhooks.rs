//! Webhook delivery: posts leased deliveries to subscribers, signed in the Standard Webhooks format, records
//! each attempt, and lets the engine schedule retries with backoff. Targets are checked again at every send
//! (https, and a host that resolves only to public addresses unless the node allows private ones), and each
//! subscription has its own small number of requests in flight, so one slow or dead endpoint never holds up
//! the others.
//!
//! Headers (<https://www.standardwebhooks.com>): `webhook-id` (the event id, stable across retries),
//! `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<t>.<body>")>`
//! where the key is the base64 text after the secret's `whsec_` prefix, as the Standard Webhooks libraries
//! read it. The earlier `Borderless-Signature: t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` is still
//! sent for receivers written against it.

use base64::Engine as _;
use engine::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify, Semaphore};

pub const SIGNATURE_HEADER: &str = "Borderless-Signature";
/// Requests in flight per subscription: a dead endpoint ties up at most this many.
pub const PER_SUBSCRIPTION: usize = 4;
/// Requests in flight in all.
const IN_FLIGHT: usize = 64;
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The `Borderless-Signature` value for `body` at time `t` (Unix seconds).
pub fn sign(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The Standard Webhooks signing key of a `whsec_…` secret: the base64 after the prefix, decoded (a secret
/// that is not base64 is used as its bytes).
fn standard_key(secret: &str) -> Vec<u8> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    base64::engine::general_purpose::STANDARD.decode(b64).unwrap_or_else(|_| b64.as_bytes().to_vec())
}

/// The `webhook-signature` value: `v1,<base64 HMAC-SHA256(key, "<id>.<t>.<body>")>`.
pub fn sign_standard(secret: &str, id: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&standard_key(secret)).expect("HMAC takes keys of any length");
    mac.update(format!("{id}.{t}.").as_bytes());
    mac.update(body.as_bytes());
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// Resolves webhook hosts and keeps only public addresses, so a name cannot be pointed at the node's own
/// network after it was checked (DNS rebinding).
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> =
                all.iter().copied().filter(|a| engine::platform::webhooks::is_public_ip(a.ip())).collect();
            if public.is_empty() {
                let e: Box<dyn std::error::Error + Send + Sync> =
                    format!("`{host}` resolves only to non-public addresses; webhooks go to public hosts").into();
                return Err(e);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Runs the dispatcher until `stop` turns true.
pub async fn run(engine: Engine, mut stop: watch::Receiver<bool>) {
    let allow_private = engine.config().webhooks_allow_private;
    let mut builder = reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none());
    if !allow_private {
        builder = builder.dns_resolver(Arc::new(PublicOnly));
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook HTTP client; webhooks are not delivered");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let per_sub: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let done = Arc::new(Notify::new());
    loop {
        let free = slots.available_permits();
        let busy: Vec<String> = per_sub
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, n)| **n >= PER_SUBSCRIPTION)
            .map(|(s, _)| s.clone())
            .collect();
        let due = if free == 0 {
            Vec::new()
        } else {
            match engine.webhook_step(free.min(32), &busy, PER_SUBSCRIPTION).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook dispatch step failed");
                    Vec::new()
                }
            }
        };
        let claimed = due.len();
        for d in due {
            let Ok(permit) = slots.clone().acquire_owned().await else { return };
            *per_sub.lock().unwrap_or_else(|e| e.into_inner()).entry(d.subscription_id.clone()).or_default() += 1;
            let (client, engine, per_sub, done) = (client.clone(), engine.clone(), per_sub.clone(), done.clone());
            tokio::spawn(async move {
                let (code, err) = attempt(&client, &engine, &d, allow_private).await;
                if let Some(e) = &err {
                    tracing::debug!(delivery = %d.id, url = %d.url, attempt = d.attempts + 1, error = %e, "webhook attempt failed");
                }
                match engine.record_delivery(&d.id, d.lease, code, err).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(delivery = %d.id, "webhook lease expired before the attempt was recorded; another sender owns it")
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot record webhook attempt; it will be retried after its lease")
                    }
                }
                let mut m = per_sub.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(n) = m.get_mut(&d.subscription_id) {
                    *n -= 1;
                    if *n == 0 {
                        m.remove(&d.subscription_id);
                    }
                }
                drop(m);
                drop(permit);
                done.notify_one();
            });
        }
        // Busy: look again soon. Idle: wait for new events, or for a request in flight to finish.
        let pause = if claimed > 0 { Duration::from_millis(10) } else { Duration::from_millis(500) };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = done.notified(), if claimed == 0 && slots.available_permits() < IN_FLIGHT => {}
            _ = stop.wait_for(|v| *v) => return,
        }
    }
}

/// One attempt: the target checked again (its scheme and literal address; names are checked by the
/// resolver), then the signed POST.
async fn attempt(
    client: &reqwest::Client,
    engine: &Engine,
    d: &engine::platform::webhooks::DueDelivery,
    allow_private: bool,
) -> (Option<i64>, Option<String>) {
    if let Err(e) = engine::platform::webhooks::check_target(&d.url, allow_private) {
        return (None, Some(e.to_string()));
    }
    let t = engine.now() / 1000;
    let res = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("borderless-webhooks/", env!("CARGO_PKG_VERSION")))
        .header("webhook-id", &d.event_id)
        .header("webhook-timestamp", t.to_string())
        .header("webhook-signature", sign_standard(&d.secret, &d.event_id, t, &d.body))
        .header("borderless-event-id", &d.event_id)
        .header(SIGNATURE_HEADER, sign(&d.secret, t, &d.body))
        .body(d.body.clone())
        .send()
        .await;
    match res {
        Ok(r) => (
            Some(r.status().as_u16() as i64),
            if r.status().is_success() { None } else { Some(format!("HTTP {}", r.status())) },
        ),
        Err(e) => {
            // reqwest's Display hides the cause (a refused address, a timeout); show the chain.
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                src = s.source();
            }
            (None, Some(msg))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Known answer computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        let s = super::sign("whsec_test", 1_700_000_000, r#"{"a":1}"#);
        assert_eq!(s, "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
        assert_ne!(s, super::sign("whsec_other", 1_700_000_000, r#"{"a":1}"#));
    }

    #[test]
    fn standard_webhooks_signature_matches_the_specification() {
        // The example of the Standard Webhooks specification (its reference libraries' test vector).
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            super::sign_standard(secret, id, 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
