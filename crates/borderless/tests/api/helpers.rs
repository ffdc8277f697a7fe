//! Test harness: `spawn_app` starts a real node (HTTP on port 0) on a fresh SQLite directory or a fresh
//! PostgreSQL database, and `both!` runs one scenario on each backend.

use engine::ManualClock;
use node::app::{self, AppConfig, Running};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub const ADMIN_KEY: &str = "test-admin-key-0123456789";

#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

/// The PostgreSQL server the suite uses. CI sets `BORDERLESS_REQUIRE_PG=1`, which turns an unreachable
/// server into a failure instead of a skipped variant.
pub fn pg_admin_url() -> String {
    std::env::var("BORDERLESS_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn require_pg() -> bool {
    std::env::var("BORDERLESS_REQUIRE_PG").is_ok_and(|v| v == "1")
}

/// Creates a fresh database on the test server and returns its URL, or `None` (after saying why) when no
/// server answers and it is not required.
pub fn fresh_pg_database() -> Option<String> {
    // The synchronous client runs its own runtime, which must not nest inside the test's.
    std::thread::spawn(create_pg_database).join().expect("create database thread")
}

fn create_pg_database() -> Option<String> {
    let admin = pg_admin_url();
    let mut client = match postgres::Client::connect(&admin, postgres::NoTls) {
        Ok(c) => c,
        Err(e) if !require_pg() => {
            eprintln!("skipping the PostgreSQL variant: cannot connect to {admin}: {e} (set BORDERLESS_REQUIRE_PG=1 to fail instead)");
            return None;
        }
        Err(e) => panic!("BORDERLESS_REQUIRE_PG=1 but PostgreSQL at {admin} is unreachable: {e}"),
    };
    let name = format!("bl_test_{}", domain::ids::random_token(8));
    client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create test database");
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or(admin);
    Some(format!("{base}/{name}"))
}

pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub running: Option<Running>,
    pub data_dir: std::path::PathBuf,
    /// Order access tokens seen in checkout answers, by order id (for `shopper_order`).
    pub order_tokens: std::sync::Mutex<std::collections::HashMap<String, String>>,
    _dir: TempDir,
}

pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("borderless-test-{}", domain::ids::random_token(8)));
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, Duration::from_secs(3600)).await
}

pub async fn spawn_app_with(backend: Backend, pickup_hold: Duration) -> TestApp {
    spawn_app_full(backend, pickup_hold, None).await
}

/// With `card_api`: card payments go to that (local) processor.
pub async fn spawn_app_full(backend: Backend, pickup_hold: Duration, card_api: Option<String>) -> TestApp {
    spawn_app_configured(backend, pickup_hold, card_api, None).await
}

/// An app whose devices also speak MQTT through `broker`.
pub async fn spawn_app_mqtt(backend: Backend, broker: iot::Broker) -> TestApp {
    spawn_app_configured(backend, Duration::from_secs(72 * 3600), None, Some(broker)).await
}

pub async fn spawn_app_configured(
    backend: Backend,
    pickup_hold: Duration,
    card_api: Option<String>,
    mqtt: Option<iot::Broker>,
) -> TestApp {
    spawn_app_inner(backend, pickup_hold, card_api, mqtt, |_| {}).await
}

/// An app with some of its configuration changed (limits, timeouts) before it starts.
pub async fn spawn_app_tuned(backend: Backend, tune: impl FnOnce(&mut AppConfig)) -> TestApp {
    spawn_app_inner(backend, Duration::from_secs(3600), None, None, tune).await
}

async fn spawn_app_inner(
    backend: Backend,
    pickup_hold: Duration,
    card_api: Option<String>,
    mqtt: Option<iot::Broker>,
    tune: impl FnOnce(&mut AppConfig),
) -> TestApp {
    let dir = TempDir::new();
    let database_url = match &backend {
        Backend::Sqlite => None,
        Backend::Postgres(u) => Some(u.clone()),
    };
    let cfg = AppConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.0.clone(),
        database_url,
        admin_key: Some(ADMIN_KEY.into()),
        pickup_hold,
        db_connections: 8,
        workers: true,
        max_connections: 2048,
        card_api_base: card_api,
        card_secret_key: Some("sk_test_borderless".into()),
        card_webhook_secret: Some("whsec_test_borderless".into()),
        card_publishable_key: Some("pk_test_borderless".into()),
        card_timeout: Duration::from_millis(1500),
        cashierless_cap_minor: 100_000,
        recs_train_every: Duration::ZERO,
        analytics_k: engine::Config::default().analytics_k,
        analytics_retention_days: engine::Config::default().analytics_retention_days,
        mqtt,
        mqtt_tls: None,
        secure_cookies: false,
        header_read_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(30),
        // Tests drive many shoppers from one address; the limits have their own tests (hostile.rs).
        rate_limits: false,
        // The webhook tests receive on loopback; the public-only default has its own test.
        webhooks_allow_private: true,
        public_url: None,
        // Without a transport mail waits in the outbox, where `TestApp::signup` reads the link (mail.rs
        // sends it through a real SMTP server).
        smtp_url: None,
        mail_from: "borderless tests <tests@example.com>".into(),
        // Semantic search has its own tests against a real model (semantic.rs).
        embeddings_url: None,
        embeddings_model: "multilingual-e5-small".into(),
        // The semantic tests check what is found, not how fast: a model slowed by the other tests on two
        // cores must not turn their searches lexical.
        embeddings_query_timeout: Duration::from_secs(20),
        embedder: None,
        // The assistant's language model has its own tests against a real one (assistant_model.rs).
        llm_url: None,
        llm_model: "local".into(),
        llm_timeout: Duration::from_secs(3),
    };
    let mut cfg = cfg;
    tune(&mut cfg);
    let clock = Arc::new(ManualClock::new(engine::Clock::now_ms(&engine::SystemClock)));
    let running = app::start_with_clock(cfg, clock.clone()).await.expect("app starts");
    TestApp {
        url: running.url(),
        client: reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap(),
        clock,
        running: Some(running),
        data_dir: dir.0.clone(),
        order_tokens: Default::default(),
        _dir: dir,
    }
}

/// A response: status and JSON body (Null when the body is not JSON).
#[derive(Debug, Clone)]
pub struct Res {
    pub status: u16,
    pub body: Value,
}

impl Res {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.body);
        self.body
    }
}

impl TestApp {
    pub async fn req(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Res {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.client.request(m, format!("{}{path}", self.url));
        if let Some(k) = key {
            rb = rb.bearer_auth(k);
        }
        for (h, v) in headers {
            rb = rb.header(*h, *v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("request sent");
        let status = r.status().as_u16();
        let content_type = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let text = r.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        crate::contract::check(method, path, status, &content_type, &body);
        if let (Some(id), Some(t)) = (body["order"]["id"].as_str(), body["order"]["access_token"].as_str()) {
            self.order_tokens.lock().unwrap().insert(id.to_owned(), t.to_owned());
        }
        Res { status, body }
    }

    /// A request whose answer is not checked against the contract (for probing with bodies and ids that
    /// name nothing, as the authorization matrix does).
    pub async fn req_unchecked(&self, method: &str, path: &str, key: Option<&str>, body: Option<Value>) -> Res {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.client.request(m, format!("{}{path}", self.url));
        if let Some(k) = key {
            rb = rb.bearer_auth(k);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("request sent");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        Res { status, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }

    /// The shopper's view of an order placed through this app, read with its access token.
    pub async fn shopper_order(&self, id: &str) -> Res {
        let token =
            self.order_tokens.lock().unwrap().get(id).cloned().unwrap_or_else(|| panic!("no token seen for {id}"));
        self.req("GET", &format!("/store/orders/{id}"), None, None, &[("X-Order-Token", &token)]).await
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Res {
        self.req("POST", path, Some(ADMIN_KEY), Some(body), &[]).await
    }
    pub async fn admin_get(&self, path: &str) -> Res {
        self.req("GET", path, Some(ADMIN_KEY), None, &[]).await
    }
    pub async fn get(&self, path: &str) -> Res {
        self.req("GET", path, None, None, &[]).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Res {
        self.req("POST", path, None, Some(body), &[]).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Res {
        self.req("PUT", path, None, Some(body), &[]).await
    }

    /// Signs a shopper up as a shopper does: the sign-up (202, the same answer whether or not the address
    /// is taken), the link from the mail outbox (read as staff read it when no mail transport is set up),
    /// and the link opened. Answers the last step: 201 with the customer and a session token.
    pub async fn signup(&self, body: Value) -> Res {
        let email = body["email"].as_str().expect("an email").to_owned();
        let r = self.post("/store/customers", body).await;
        if r.status != 202 {
            return r;
        }
        assert_eq!(r.body["status"], "check_email", "{}", r.body);
        let token = self.signup_token(&email).await;
        self.post("/store/customers/verify", json!({ "token": token })).await
    }

    /// The token of the newest waiting sign-up link mailed to `email`.
    pub async fn signup_token(&self, email: &str) -> String {
        let q = format!("/admin/mail?status=waiting&to={}", urlencoding(email));
        let mail = self.admin_get(&q).await.expect(200);
        let body = mail["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["kind"] == "signup_confirm")
            .unwrap_or_else(|| panic!("no sign-up link mailed to {email}: {mail}"))["body"]
            .as_str()
            .unwrap()
            .to_owned();
        signup_token_in(&body)
    }

    /// Creates a location and returns its id.
    pub async fn location(&self, code: &str, kind: &str, pickup: bool) -> String {
        let b = self
            .admin_post(
                "/admin/locations",
                json!({"code": code, "name_ko": format!("{code} 매장"), "name_en": format!("{code} Store"), "kind": kind,
                       "pickup_enabled": pickup, "ships": kind != "cashierless", "lat": 37.4979, "lon": 127.0276,
                       "address": {"line1": "강남대로 396", "city": "Seoul", "postal_code": "06232", "country": "KR"}}),
            )
            .await
            .expect(201);
        b["location"]["id"].as_str().unwrap().to_owned()
    }

    /// Creates a one-variant product priced in KRW (and USD) and returns its SKU.
    pub async fn product(&self, sku: &str, krw: i64) -> String {
        self.admin_post(
            "/admin/products",
            json!({"handle": sku.to_lowercase(), "title_ko": format!("상품 {sku}"), "title_en": format!("Product {sku}"),
                   "category": "apparel/tops", "variants": [{"sku": sku, "weight_g": 200, "attributes": {"size": "M"},
                   "prices": [{"currency": "KRW", "amount_minor": krw}, {"currency": "USD", "amount_minor": 1999}]}]}),
        )
        .await
        .expect(201);
        sku.to_owned()
    }

    pub async fn stock_in(&self, sku: &str, location_id: &str, qty: i64) {
        self.admin_post(
            "/admin/inventory/adjustments",
            json!({"sku": sku, "location_id": location_id, "quantity_delta": qty, "reason": "receipt"}),
        )
        .await
        .expect(201);
    }

    /// (on_hand, reserved, available, unsellable) of a SKU at a location.
    pub async fn level(&self, sku: &str, location_id: &str) -> (i64, i64, i64, i64) {
        let b = self.admin_get(&format!("/admin/inventory/{sku}")).await.expect(200);
        let l = b["locations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["location_id"] == location_id)
            .expect("location listed")
            .clone();
        (
            l["on_hand"].as_i64().unwrap(),
            l["reserved"].as_i64().unwrap(),
            l["available"].as_i64().unwrap(),
            l["unsellable"].as_i64().unwrap(),
        )
    }

    /// A cart with one line and pickup at `location_id`, ready to check out.
    pub async fn pickup_cart(&self, sku: &str, qty: i64, location_id: &str) -> String {
        let id = self.post("/store/carts", json!({"currency": "KRW"})).await.expect(201)["cart"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.post(&format!("/store/carts/{id}/lines"), json!({"sku": sku, "quantity": qty})).await.expect(200);
        self.put(&format!("/store/carts/{id}/fulfillment"), json!({"type": "pickup", "location_id": location_id}))
            .await
            .expect(200);
        id
    }

    /// Staff ready a pickup order, the shopper shows the code from their order page, staff hand it over.
    /// Returns the handover response body.
    pub async fn hand_over(&self, order_id: &str) -> Value {
        self.admin_post(&format!("/admin/orders/{order_id}/ready-for-pickup"), json!({})).await.expect(200);
        let code =
            self.shopper_order(order_id).await.expect(200)["order"]["pickup"]["code"].as_str().unwrap().to_owned();
        self.admin_post(&format!("/admin/orders/{order_id}/picked-up"), json!({"code": code})).await.expect(200)
    }

    pub async fn checkout(&self, cart: &str, key: &str) -> Res {
        self.req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            None,
            // (one shopper per key: orders paid at pickup are capped per shopper)
            Some(json!({"email": format!("shopper.{}@example.com", key.to_lowercase()), "payment": {"method": "pay_at_pickup"}})),
            &[("Idempotency-Key", key)],
        )
        .await
    }

    /// Event types from the feed query `q`, polled until `want` holds: on PostgreSQL the feed shows an
    /// event only once every older transaction in the cluster has finished, so it may lag a moment.
    pub async fn events_until(&self, q: &str, want: impl Fn(&[String]) -> bool) -> Vec<String> {
        let mut kinds = Vec::new();
        for _ in 0..100 {
            let evs = self.admin_get(&format!("/admin/events?{q}")).await.expect(200);
            kinds = evs["data"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect();
            if want(&kinds) {
                return kinds;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        kinds
    }

    pub async fn assert_no_drift(&self) {
        let d = self.admin_get("/admin/doctor").await.expect(200);
        assert_eq!(d["drift"], json!([]), "stock ledger drift: {d}");
        assert_eq!(d["ledger_drift"], json!([]), "money ledger drift: {d}");
    }

    /// Counts rows straight from the database (for invariants only).
    pub async fn count(&self, sql: &'static str) -> i64 {
        let db = self.running.as_ref().unwrap().engine.db().clone();
        db.read(move |tx| -> Result<i64, store::DbError> { tx.query_one(sql, &[])?.i64(0) }).await.unwrap()
    }
}

/// Runs an async scenario `fn name(Backend)` as two tests: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(url) = $crate::helpers::fresh_pg_database() {
                    super::$name($crate::helpers::Backend::Postgres(url)).await
                }
            }
        }
    };
}

/// The token of the sign-up link in a mail body.
pub fn signup_token_in(body: &str) -> String {
    let at = body.find("token=").unwrap_or_else(|| panic!("no link in {body}")) + "token=".len();
    body[at..].split(char::is_whitespace).next().unwrap().to_owned()
}

/// Percent-encodes a query value.
pub fn urlencoding(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
