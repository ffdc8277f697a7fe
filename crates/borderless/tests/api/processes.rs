//! The real binary under stress: `kill -9` during checkout load loses no acknowledged order and leaves no
//! ledger drift; two `borderless serve` processes on one PostgreSQL never oversell.

use crate::helpers::*;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_borderless");

pub(crate) struct Node {
    pub(crate) child: Child,
    pub(crate) url: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn serve(data_dir: &std::path::Path, database_url: Option<&str>) -> Node {
    serve_with(data_dir, database_url, &[], &[]).await
}

/// `serve` with extra arguments and environment (a card processor, an armed fault point).
pub(crate) async fn serve_with(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    args: &[&str],
    env: &[(&str, &str)],
) -> Node {
    // A port found free may be taken by a parallel test before the child binds it: the child then exits at
    // once, and the start is tried again on fresh ports. A loaded machine may take a while to migrate and
    // start; a minute is allowed.
    for _attempt in 0..3 {
        let p = port();
        let mut cmd = Command::new(BIN);
        cmd.args([
            "serve",
            "--rate-limits",
            "off",
            "--listen",
            &format!("127.0.0.1:{p}"),
            "--mqtt-listen",
            &format!("127.0.0.1:{}", port()),
            "--mqtt5-listen",
            &format!("127.0.0.1:{}", port()),
        ])
        .arg("--data-dir")
        .arg(data_dir);
        if let Some(u) = database_url {
            cmd.args(["--database-url", u]);
        }
        cmd.args(args);
        cmd.env("BORDERLESS_ADMIN_KEY", ADMIN_KEY).env("RUST_LOG", "warn").stdout(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn borderless serve");
        let mut node = Node { child, url: format!("http://127.0.0.1:{p}") };
        let c = reqwest::Client::new();
        for _ in 0..1200 {
            if c.get(format!("{}/health", node.url)).send().await.is_ok_and(|r| r.status().is_success()) {
                return node;
            }
            if node.child.try_wait().ok().flatten().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!("borderless serve did not become healthy (three starts)");
}

pub(crate) async fn call(
    c: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
    key: Option<&str>,
    idem: Option<&str>,
) -> reqwest::Result<(u16, Value)> {
    let mut rb = c.request(method, url);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    if let Some(k) = key {
        rb = rb.bearer_auth(k);
    }
    if let Some(i) = idem {
        rb = rb.header("Idempotency-Key", i);
    }
    let r = rb.send().await?;
    let s = r.status().as_u16();
    Ok((s, r.json().await.unwrap_or(Value::Null)))
}

/// Signs a shopper up on a node process: the request, the link from the outbox (as staff), the link
/// opened. Answers the last step's status and body.
pub(crate) async fn signup_on(c: &reqwest::Client, url: &str, body: Value) -> (u16, Value) {
    let email = body["email"].as_str().unwrap().to_owned();
    let (s, v) =
        call(c, reqwest::Method::POST, format!("{url}/store/customers"), Some(body), None, None).await.unwrap();
    assert_eq!(s, 202, "{v}");
    let q = format!("{url}/admin/mail?status=waiting&to={}", crate::helpers::urlencoding(&email));
    let (s, mail) = call(c, reqwest::Method::GET, q, None, Some(ADMIN_KEY), None).await.unwrap();
    assert_eq!(s, 200, "{mail}");
    let token = crate::helpers::signup_token_in(mail["data"][0]["body"].as_str().unwrap());
    let verify = format!("{url}/store/customers/verify");
    call(c, reqwest::Method::POST, verify, Some(json!({ "token": token })), None, None).await.unwrap()
}

pub(crate) async fn setup_stock(c: &reqwest::Client, url: &str, units: i64) -> (String, String) {
    setup(c, url, units).await
}

async fn setup(c: &reqwest::Client, url: &str, units: i64) -> (String, String) {
    let (s, loc) = call(c, reqwest::Method::POST, format!("{url}/admin/locations"), Some(json!({"code": "GANGNAM", "name_ko": "강남", "name_en": "Gangnam", "kind": "store", "pickup_enabled": true})), Some(ADMIN_KEY), None).await.unwrap();
    assert_eq!(s, 201, "{loc}");
    let loc = loc["location"]["id"].as_str().unwrap().to_owned();
    let (s, _) = call(c, reqwest::Method::POST, format!("{url}/admin/products"), Some(json!({"handle": "p", "title_ko": "상품", "title_en": "Product", "category": "c", "variants": [{"sku": "SKU-1", "prices": [{"currency": "KRW", "amount_minor": 1000}]}]})), Some(ADMIN_KEY), None).await.unwrap();
    assert_eq!(s, 201);
    let (s, _) = call(
        c,
        reqwest::Method::POST,
        format!("{url}/admin/inventory/adjustments"),
        Some(json!({"sku": "SKU-1", "location_id": loc, "quantity_delta": units, "reason": "r"})),
        Some(ADMIN_KEY),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 201);
    (loc, "SKU-1".into())
}

pub(crate) async fn pickup_cart(c: &reqwest::Client, url: &str, sku: &str, loc: &str) -> reqwest::Result<String> {
    cart(c, url, sku, loc).await
}

async fn cart(c: &reqwest::Client, url: &str, sku: &str, loc: &str) -> reqwest::Result<String> {
    let (_, v) = call(c, reqwest::Method::POST, format!("{url}/store/carts"), Some(json!({})), None, None).await?;
    let id = v["cart"]["id"].as_str().unwrap_or_default().to_owned();
    call(
        c,
        reqwest::Method::POST,
        format!("{url}/store/carts/{id}/lines"),
        Some(json!({"sku": sku, "quantity": 1})),
        None,
        None,
    )
    .await?;
    call(
        c,
        reqwest::Method::PUT,
        format!("{url}/store/carts/{id}/fulfillment"),
        Some(json!({"type": "pickup", "location_id": loc})),
        None,
        None,
    )
    .await?;
    Ok(id)
}

pub(crate) fn doctor(data_dir: &std::path::Path, database_url: Option<&str>) -> (i32, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("doctor").arg("--data-dir").arg(data_dir);
    if let Some(u) = database_url {
        cmd.args(["--database-url", u]);
    }
    let out = cmd.output().expect("run doctor");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn kill_nine_loses_no_acknowledged_order(database_url: Option<String>) {
    let dir = TempDir::new();
    let db = database_url.as_deref();
    let node = serve(&dir.0, db).await;
    let c = reqwest::Client::new();
    let (loc, sku) = setup(&c, &node.url, 1_000_000).await;
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut workers = Vec::new();
    for w in 0..16 {
        let (c, url, sku, loc, acked) = (c.clone(), node.url.clone(), sku.clone(), loc.clone(), acked.clone());
        workers.push(tokio::spawn(async move {
            for i in 0.. {
                let Ok(id) = cart(&c, &url, &sku, &loc).await else { return };
                let key = format!("crash-{w}-{i}");
                match call(
                    &c,
                    reqwest::Method::POST,
                    format!("{url}/store/carts/{id}/checkout"),
                    Some(json!({"email": format!("{key}@example.com"), "payment": {"method": "pay_at_pickup"}})),
                    None,
                    Some(&key),
                )
                .await
                {
                    Ok((201, v)) => acked.lock().unwrap().push(v["order"]["id"].as_str().unwrap().to_owned()),
                    Ok(_) => {}
                    Err(_) => return,
                }
                if Instant::now() > deadline + Duration::from_secs(30) {
                    return;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut node = node;
    node.child.kill().expect("SIGKILL"); // std's kill() is SIGKILL on Unix: no shutdown hook runs
    let _ = node.child.wait();
    for w in workers {
        let _ = w.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 20, "the load placed orders before the kill ({})", acked.len());

    let (code, out) = doctor(&dir.0, db);
    assert_eq!(code, 0, "doctor after kill -9: {out}");
    let node2 = serve(&dir.0, db).await;
    for id in &acked {
        let (s, v) =
            call(&c, reqwest::Method::GET, format!("{}/admin/orders/{id}", node2.url), None, Some(ADMIN_KEY), None)
                .await
                .unwrap();
        assert_eq!(s, 200, "acknowledged order {id} survived: {v}");
    }
    let (_, inv) =
        call(&c, reqwest::Method::GET, format!("{}/admin/inventory/{sku}", node2.url), None, Some(ADMIN_KEY), None)
            .await
            .unwrap();
    let (_, orders) =
        call(&c, reqwest::Method::GET, format!("{}/admin/orders?limit=1", node2.url), None, Some(ADMIN_KEY), None)
            .await
            .unwrap();
    assert!(orders["data"].as_array().is_some());
    let reserved = inv["locations"][0]["reserved"].as_i64().unwrap();
    assert!(
        reserved >= acked.len() as i64,
        "every acknowledged order still holds its unit ({reserved} < {})",
        acked.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_safety_sqlite() {
    kill_nine_loses_no_acknowledged_order(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_safety_postgres() {
    if let Some(url) = fresh_pg_database() {
        kill_nine_loses_no_acknowledged_order(Some(url)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_on_one_postgres_never_oversell() {
    let Some(url) = fresh_pg_database() else { return };
    let dir_a = TempDir::new();
    let dir_b = TempDir::new();
    let a = serve(&dir_a.0, Some(&url)).await;
    let b = serve(&dir_b.0, Some(&url)).await;
    let c = reqwest::Client::builder().pool_max_idle_per_host(512).build().unwrap();
    let (loc, sku) = setup(&c, &a.url, 100).await;
    let mut carts = Vec::new();
    for i in 0..1000 {
        let node = if i % 2 == 0 { &a.url } else { &b.url };
        carts.push((node.clone(), cart(&c, node, &sku, &loc).await.unwrap()));
    }
    let mut tasks = Vec::new();
    for (i, (node, id)) in carts.into_iter().enumerate() {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("two-{i}");
            call(
                &c,
                reqwest::Method::POST,
                format!("{node}/store/carts/{id}/checkout"),
                Some(json!({"email": format!("{key}@example.com"), "payment": {"method": "pay_at_pickup"}})),
                None,
                Some(&key),
            )
            .await
            .unwrap()
        }));
    }
    let (mut placed, mut sold_out) = (0, 0);
    for t in tasks {
        let (s, v) = t.await.unwrap();
        match (s, v["error"]["code"].as_str()) {
            (201, _) => placed += 1,
            (409, Some("out_of_stock")) => sold_out += 1,
            other => panic!("unexpected {other:?}: {v}"),
        }
    }
    assert_eq!((placed, sold_out), (100, 900));
    let (_, inv) =
        call(&c, reqwest::Method::GET, format!("{}/admin/inventory/{sku}", b.url), None, Some(ADMIN_KEY), None)
            .await
            .unwrap();
    assert_eq!(inv["locations"][0]["available"], 0);
    assert_eq!(inv["locations"][0]["reserved"], 100);
    let (code, out) = doctor(&dir_a.0, Some(&url));
    assert_eq!(code, 0, "{out}");
}

async fn doctor_reports_drift(b: Backend) {
    let app = spawn_app(b.clone()).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("DRIFT-1", 1000).await;
    app.stock_in(&sku, &store, 10).await;
    let url = match &b {
        Backend::Sqlite => None,
        Backend::Postgres(u) => Some(u.clone()),
    };
    let dir = app.data_dir.clone();
    let (code, out) = doctor(&dir, url.as_deref());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok: 1 stock balances match"), "{out}");
    // Someone edits a balance behind the ledger's back.
    let db = app.running.as_ref().unwrap().engine.db().clone();
    db.write(|tx| -> Result<u64, store::DbError> { tx.exec("UPDATE stock_levels SET on_hand = on_hand + 5", &[]) })
        .await
        .unwrap();
    let (code, out) = doctor(&dir, url.as_deref());
    assert_eq!(code, 1, "drift is an error exit: {out}");
    assert!(
        out.contains("DRIFT") && out.contains("DRIFT-1") && out.contains("on_hand is 15 but the ledger says 10"),
        "{out}"
    );
}
crate::both!(doctor_reports_drift);

async fn kill_nine_under_payment_load(database_url: Option<String>) {
    let dir = TempDir::new();
    let db = database_url.as_deref();
    let node = serve(&dir.0, db).await;
    let c = reqwest::Client::new();
    let mut customers = Vec::new();
    for i in 0..8 {
        let (s, v) = signup_on(
            &c,
            &node.url,
            json!({"email": format!("k{i}@example.com"), "password": "kill nine pw", "name": "K"}),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        customers.push(v["customer"]["id"].as_str().unwrap().to_owned());
    }
    // (customer, idempotency key, acknowledged transfer id)
    let acked = Arc::new(Mutex::new(Vec::<(String, String, String)>::new()));
    let mut workers = Vec::new();
    for (w, cid) in customers.iter().enumerate() {
        let (c, url, cid, acked) = (c.clone(), node.url.clone(), cid.clone(), acked.clone());
        workers.push(tokio::spawn(async move {
            for i in 0.. {
                let key = format!("kill-{w}-{i}");
                match call(
                    &c,
                    reqwest::Method::POST,
                    format!("{url}/admin/customers/{cid}/wallet/top-ups"),
                    Some(json!({"amount_minor": 1000, "currency": "KRW"})),
                    Some(ADMIN_KEY),
                    Some(&key),
                )
                .await
                {
                    Ok((201, v)) => acked.lock().unwrap().push((
                        cid.clone(),
                        key,
                        v["top_up"]["transfer_id"].as_str().unwrap().to_owned(),
                    )),
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut node = node;
    node.child.kill().expect("SIGKILL");
    let _ = node.child.wait();
    for w in workers {
        let _ = w.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 20, "top-ups were acknowledged before the kill ({})", acked.len());
    let (code, out) = doctor(&dir.0, db);
    assert_eq!(code, 0, "no half transfer, every currency sums to zero: {out}");
    let node2 = serve(&dir.0, db).await;
    // Every acknowledged top-up is there, and retrying it after the crash does not apply it twice.
    let mut per_customer: std::collections::HashMap<String, i64> = Default::default();
    for (cid, key, transfer) in &acked {
        let (s, v) = call(
            &c,
            reqwest::Method::POST,
            format!("{}/admin/customers/{cid}/wallet/top-ups", node2.url),
            Some(json!({"amount_minor": 1000, "currency": "KRW"})),
            Some(ADMIN_KEY),
            Some(key),
        )
        .await
        .unwrap();
        assert_eq!(s, 201);
        assert_eq!(
            v["top_up"]["transfer_id"],
            transfer.as_str(),
            "acknowledged top-up {key} survived and is not repeated"
        );
        *per_customer.entry(cid.clone()).or_default() += 1000;
    }
    for (cid, min) in per_customer {
        let (_, v) = call(
            &c,
            reqwest::Method::GET,
            format!("{}/admin/customers/{cid}/wallet", node2.url),
            None,
            Some(ADMIN_KEY),
            None,
        )
        .await
        .unwrap();
        assert!(v["data"][0]["balance_minor"].as_i64().unwrap() >= min, "{v}");
    }
    let (code, out) = doctor(&dir.0, db);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn payment_crash_safety_sqlite() {
    kill_nine_under_payment_load(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn payment_crash_safety_postgres() {
    if let Some(url) = fresh_pg_database() {
        kill_nine_under_payment_load(Some(url)).await;
    }
}

/// `doctor`, `import` and `export` run elsewhere than the shop's directory refuse a missing database instead
/// of creating an empty shop and reporting it healthy.
#[test]
fn commands_refuse_a_missing_database() {
    let dir = crate::helpers::TempDir::new();
    let missing = dir.0.join("no-shop-here");
    for args in [vec!["doctor"], vec!["export", "-"]] {
        let out = Command::new(BIN).args(&args).arg("--data-dir").arg(&missing).output().unwrap();
        assert_ne!(out.status.code(), Some(0), "{args:?} on a missing database");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("there is no borderless database at"), "{args:?}: {err}");
        assert!(!missing.exists(), "{args:?} created {}", missing.display());
    }
    let csv = dir.0.join("c.csv");
    std::fs::write(&csv, "handle,title_ko,title_en,category,sku,price_krw\nsocks,양말,Socks,apparel,SOCK-1,9000\n")
        .unwrap();
    let out = Command::new(BIN).arg("import").arg(&csv).arg("--data-dir").arg(&missing).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(!missing.exists());
}

/// `borderless import` reports every problem of a file with its line and column, saves nothing, exits 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_reports_every_problem_and_saves_nothing() {
    let dir = crate::helpers::TempDir::new();
    let node = serve(&dir.0, None).await;
    drop(node);
    let csv = dir.0.join("c.csv");
    std::fs::write(
        &csv,
        "handle,title_ko,title_en,category,sku,weight_g,price_krw\n\
         socks,양말,Socks,apparel,SOCK-1,50,9000\n\
         hat,모자,Hat,apparel,HAT-1,heavy,12000\n\
         scarf,\"목도리,Scarf,apparel,SCARF-1,10,5000\n",
    )
    .unwrap();
    let out = Command::new(BIN).arg("import").arg(&csv).arg("--data-dir").arg(&dir.0).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("line 4, column `#2`") && err.contains("never closed"), "{err}");
    std::fs::write(
        &csv,
        "handle,title_ko,title_en,category,sku,weight_g,price_krw\n\
         socks,양말,Socks,apparel,SOCK-1,50,9000\n\
         hat,모자,Hat,apparel,HAT-1,heavy,12000\n\
         scarf,목도리,,apparel,SCARF-1,10,5000\n",
    )
    .unwrap();
    let out = Command::new(BIN).arg("import").arg(&csv).arg("--data-dir").arg(&dir.0).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("line 3, column `weight_g`") && err.contains("line 4, column `title_en`"), "{err}");
    assert!(err.contains("2 problems; nothing was saved"), "{err}");
    let out = Command::new(BIN).args(["export", "-", "--data-dir"]).arg(&dir.0).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1, "only the header: nothing was imported");
}

/// Logs redirected to a file carry no colour codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_plain_text_when_redirected() {
    let dir = crate::helpers::TempDir::new();
    let log_path = dir.0.join("serve.log");
    let p = port();
    let child = Command::new(BIN)
        .args(["serve", "--rate-limits", "off", "--no-mqtt", "--listen", &format!("127.0.0.1:{p}"), "--data-dir"])
        .arg(dir.0.join("data"))
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .stdout(std::fs::File::create(&log_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let node = Node { child, url: format!("http://127.0.0.1:{p}") };
    let c = reqwest::Client::new();
    for _ in 0..300 {
        if c.get(format!("{}/health", node.url)).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(node);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(!log.trim().is_empty(), "the node logged its start");
    assert!(!log.contains('\u{1b}'), "no ANSI escapes in a redirected log: {log:?}");
}
