//! Webhook delivery: posts leased deliveries to subscribers with an HMAC-SHA256 signature, records each
//! attempt, and lets the engine schedule retries with backoff.
//!
//! Signature header: `Borderless-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
//! Receivers recompute it over the raw body and reject timestamps older than a few minutes.

use engine::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;
use tokio::sync::watch;

pub const SIGNATURE_HEADER: &str = "Borderless-Signature";
const BATCH: usize = 32;

/// The signature header value for `body` at time `t` (Unix seconds).
pub fn sign(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Runs the dispatcher until `stop` turns true.
pub async fn run(engine: Engine, mut stop: watch::Receiver<bool>) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook HTTP client; webhooks are not delivered");
            return;
        }
    };
    loop {
        let due = match engine.webhook_step(BATCH).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "webhook dispatch step failed");
                Vec::new()
            }
        };
        let busy = due.len() == BATCH;
        let mut tasks = Vec::with_capacity(due.len());
        for d in due {
            let (client, engine) = (client.clone(), engine.clone());
            tasks.push(tokio::spawn(async move {
                let t = engine.now() / 1000;
                let res = client
                    .post(&d.url)
                    .header("content-type", "application/json")
                    .header("user-agent", concat!("borderless-webhooks/", env!("CARGO_PKG_VERSION")))
                    .header("borderless-event-id", &d.event_id)
                    .header(SIGNATURE_HEADER, sign(&d.secret, t, &d.body))
                    .body(d.body.clone())
                    .send()
                    .await;
                let (code, err) = match res {
                    Ok(r) => (Some(r.status().as_u16() as i64), if r.status().is_success() { None } else { Some(format!("HTTP {}", r.status())) }),
                    Err(e) => (None, Some(e.to_string())),
                };
                if let Some(e) = &err {
                    tracing::debug!(delivery = %d.id, url = %d.url, attempt = d.attempts + 1, error = %e, "webhook attempt failed");
                }
                match engine.record_delivery(&d.id, d.lease, code, err).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(delivery = %d.id, "webhook lease expired before the attempt was recorded; another sender owns it"),
                    Err(e) => tracing::warn!(error = %e, "cannot record webhook attempt; it will be retried after its lease"),
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        let pause = if busy { Duration::from_millis(10) } else { Duration::from_millis(500) };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.wait_for(|v| *v) => return,
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
}
