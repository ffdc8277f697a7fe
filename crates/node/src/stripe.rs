//! The card processor adapter: Stripe's PaymentIntents API over HTTPS (form-encoded requests, `Bearer`
//! secret key, `Idempotency-Key` on every call), and the worker that performs queued captures, cancellations
//! and refunds after their orders commit. Any server that follows Stripe's documented behaviour works as the
//! base URL (the tests run one on localhost).

use engine::money::cards::{BoxFuture, CardError, CardGateway};
use engine::Engine;
use serde_json::Value;
use std::time::Duration;
use tokio::sync::watch;

pub struct Stripe {
    base: String,
    secret: String,
    client: reqwest::Client,
}

impl Stripe {
    pub fn new(base: &str, secret: &str, timeout: Duration) -> anyhow::Result<Stripe> {
        Ok(Stripe {
            base: base.trim_end_matches('/').to_owned(),
            secret: secret.to_owned(),
            client: reqwest::Client::builder().timeout(timeout).redirect(reqwest::redirect::Policy::none()).build()?,
        })
    }

    async fn post(&self, path: &str, form: &[(&str, String)], key: &str) -> Result<Value, CardError> {
        let body = form.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&");
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.secret)
            .header("Idempotency-Key", key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| CardError::Unavailable(e.to_string()))?;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        match status.as_u16() {
            200..=299 => Ok(v),
            // Stripe: 402 = the request was valid but the card failed; other 4xx are our mistakes, final too.
            402 | 400 | 404 => Err(CardError::Declined(
                v["error"]["decline_code"].as_str().or(v["error"]["code"].as_str()).unwrap_or("declined").to_owned(),
            )),
            _ => {
                Err(CardError::Unavailable(format!("HTTP {status}: {}", v["error"]["message"].as_str().unwrap_or(""))))
            }
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl CardGateway for Stripe {
    fn authorize<'a>(
        &'a self,
        amount_minor: i64,
        currency: &'a str,
        payment_method: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<String, CardError>> {
        Box::pin(async move {
            let form = [
                ("amount", amount_minor.to_string()),
                ("currency", currency.to_lowercase()),
                ("payment_method", payment_method.to_owned()),
                ("confirm", "true".into()),
                ("capture_method", "manual".into()),
            ];
            let v = self.post("/v1/payment_intents", &form, key).await?;
            match v["status"].as_str() {
                Some("requires_capture") => {
                    v["id"].as_str().map(str::to_owned).ok_or_else(|| CardError::Unavailable("no payment id".into()))
                }
                Some(other) => Err(CardError::Declined(format!("unexpected status {other}"))),
                None => Err(CardError::Unavailable("malformed response".into())),
            }
        })
    }
    fn capture<'a>(&'a self, id: &'a str, amount_minor: i64, key: &'a str) -> BoxFuture<'a, Result<(), CardError>> {
        Box::pin(async move {
            self.post(
                &format!("/v1/payment_intents/{id}/capture"),
                &[("amount_to_capture", amount_minor.to_string())],
                key,
            )
            .await
            .map(|_| ())
        })
    }
    fn cancel<'a>(&'a self, id: &'a str, key: &'a str) -> BoxFuture<'a, Result<(), CardError>> {
        Box::pin(async move { self.post(&format!("/v1/payment_intents/{id}/cancel"), &[], key).await.map(|_| ()) })
    }
    fn refund<'a>(&'a self, id: &'a str, amount_minor: i64, key: &'a str) -> BoxFuture<'a, Result<(), CardError>> {
        // The job id rides along as metadata so that the processor's refund webhooks settle this refund only.
        Box::pin(async move {
            self.post(
                "/v1/refunds",
                &[
                    ("payment_intent", id.to_owned()),
                    ("amount", amount_minor.to_string()),
                    ("metadata[borderless_job]", key.to_owned()),
                ],
                key,
            )
            .await
            .map(|_| ())
        })
    }
}

/// Performs queued card jobs until `stop`; the job id is the processor's idempotency key.
pub async fn run(engine: Engine, mut stop: watch::Receiver<bool>) {
    let Some(gw) = engine.card_gateway() else { return };
    loop {
        let jobs = engine.card_jobs(16).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot claim card jobs");
            Vec::new()
        });
        let busy = !jobs.is_empty();
        for job in jobs {
            let outcome = match job.kind.as_str() {
                "capture" => gw.capture(&job.payment_id, job.amount_minor, &job.id).await,
                "cancel" => gw.cancel(&job.payment_id, &job.id).await,
                _ => gw.refund(&job.payment_id, job.amount_minor, &job.id).await,
            };
            if let Err(e) = &outcome {
                tracing::warn!(job = %job.id, kind = %job.kind, payment = %job.payment_id, error = ?e, "card processor call failed");
            }
            if let Err(e) = engine.finish_card_job(job, outcome).await {
                tracing::warn!(error = %e, "cannot record a card job's outcome; it will be retried");
            }
        }
        let pause = if busy { Duration::from_millis(20) } else { Duration::from_millis(300) };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.wait_for(|v| *v) => return,
        }
    }
}
