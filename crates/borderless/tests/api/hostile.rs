//! Hostile traffic against a running node: idle and half-open connections holding every slot, clients that
//! send headers or bodies too slowly. Shoppers must still get through.

use crate::helpers::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SLOTS: usize = 32;

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.url.trim_start_matches("http://")).await.expect("connect")
}

/// Every connection slot held by a silent socket or a slowloris header: /health still answers within a
/// second, because the longest-idle connection gives up its slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_connections_cannot_lock_shoppers_out() {
    let app = spawn_app_tuned(Backend::Sqlite, |c| {
        c.max_connections = SLOTS;
        c.header_read_timeout = Duration::from_secs(30);
    })
    .await;
    let mut held = Vec::new();
    for i in 0..SLOTS * 2 {
        let mut s = connect(&app).await;
        if i % 2 == 0 {
            // Half a request, then silence.
            s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        }
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    for attempt in 0..3 {
        let t = Instant::now();
        let r = reqwest::Client::new().get(format!("{}/health", app.url)).timeout(Duration::from_secs(5)).send().await;
        let took = t.elapsed();
        assert!(r.is_ok_and(|r| r.status() == 200), "attempt {attempt}: /health did not answer");
        assert!(took < Duration::from_secs(1), "attempt {attempt}: /health took {took:?} with every slot held");
    }
    drop(held);
}

/// Headers that dribble in are cut off at the header-read timeout; a body that never finishes is answered
/// with 503 `timeout` at the request deadline; the server keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_clients_are_cut_off() {
    let app = spawn_app_tuned(Backend::Sqlite, |c| {
        c.header_read_timeout = Duration::from_millis(700);
        c.request_timeout = Duration::from_millis(800);
    })
    .await;
    // Slowloris: a header line now and then, never the blank line.
    let mut s = connect(&app).await;
    s.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    let t = Instant::now();
    let mut closed = false;
    for i in 0..20 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if s.write_all(format!("X-Slow-{i}: 1\r\n").as_bytes()).await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 512];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(1), s.read(&mut buf)).await {
            if n == 0 || String::from_utf8_lossy(&buf[..n]).contains("408") {
                closed = true;
                break;
            }
        }
    }
    assert!(closed, "the slow header was cut off");
    assert!(t.elapsed() < Duration::from_secs(3), "within the header timeout: {:?}", t.elapsed());

    // A body promised but never sent.
    let mut s = connect(&app).await;
    s.write_all(
        b"POST /store/carts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"cur",
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 503") && text.contains("\"timeout\""), "{text}");

    // And the server still serves.
    let r = app.get("/health").await;
    assert_eq!(r.status, 200);
}

/// With the limits on (the default), a login flood and a sign-up flood from one address are answered
/// `429` with `Retry-After` and a Korean message, while the same address can still browse, and another
/// session's writes are counted apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn floods_are_rate_limited() {
    let app = spawn_app_tuned(Backend::Sqlite, |c| c.rate_limits = true).await;
    let c = reqwest::Client::new();
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for i in 0..14 {
        let r = c
            .post(format!("{}/store/auth/login", app.url))
            .json(&serde_json::json!({"email": format!("nobody{i}@example.com"), "password": "wrong password"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            retry_after = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rate_limited");
            assert!(body["error"]["message_ko"].as_str().unwrap().contains("Retry-After"));
        }
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 10, "the burst passes: {statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 429), "then the rate holds: {statuses:?}");
    let secs: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=5).contains(&secs), "a login comes back within seconds at 20/min: {secs}");
    // The console's login counts in the same class, so a flood cannot switch doors.
    let r = c.post(format!("{}/console/login", app.url)).form(&[("email", "x@example.com")]).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("요청이 너무 많습니다"));
    // Browsing from the same address goes on.
    assert_eq!(app.get("/store/search?q=x").await.status, 200);
    // Sign-ups: ten at once, then one every thirty seconds.
    let mut created = 0;
    for i in 0..12 {
        let r = app
            .post(
                "/store/customers",
                serde_json::json!({"email": format!("s{i}@example.com"), "password": "sign-up password", "name": "S"}),
            )
            .await;
        match r.status {
            202 => created += 1,
            429 => assert_eq!(r.code(), "rate_limited"),
            other => panic!("sign-up {i}: {other} {:?}", r.body),
        }
    }
    assert_eq!(created, 10);
}

/// Control, NUL and invisible characters are refused at the edge with a clear 400 on every surface (a NUL
/// used to reach PostgreSQL as a 500), and Unicode is normalised: a full-width email is the same account,
/// Hangul typed as jamo is the same title.
async fn bad_characters_are_refused_and_unicode_normalised(b: Backend) {
    let app = spawn_app(b).await;
    let signup = |email: &str| serde_json::json!({"email": email, "password": "hygiene password", "name": "위생"});
    for (what, email) in
        [("NUL", "a\u{0}b@example.com"), ("zero-width", "a\u{200B}b@example.com"), ("bidi", "a\u{202E}b@example.com")]
    {
        let r = app.post("/store/customers", signup(email)).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{what}: {:?}", r.body);
        assert!(r.body["error"]["message"].as_str().unwrap().contains("`email`"), "names the field: {:?}", r.body);
        assert!(r.body["error"]["message_ko"].is_string());
    }
    let r = app
        .post(
            "/store/customers",
            serde_json::json!({"email": "x@example.com", "password": "p\u{0}ssword!", "name": "n"}),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    for path in ["/store/orders/ord_%00", "/store/products/a%E2%80%8Bb", "/admin/orders/ord_%00x"] {
        let r = app.req("GET", path, Some(ADMIN_KEY), None, &[]).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{path}: {:?}", r.body);
    }
    let r = app.get("/store/search?q=%00").await;
    assert_eq!((r.status, r.code()), (400, "invalid_query"), "{:?}", r.body);
    let raw = reqwest::get(format!("{}/console/orders/%00", app.url)).await.unwrap();
    assert_eq!(raw.status(), 400, "the console too");

    // NFKC for emails: the full-width address a Korean keyboard can produce is the same account.
    app.signup(signup("ＭＩＮ＠ｅｘａｍｐｌｅ．ｃｏｍ")).await.expect(201);
    let r = app
        .post("/store/auth/login", serde_json::json!({"email": "min@example.com", "password": "hygiene password"}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    app.post("/store/customers", signup("min@example.com")).await.expect(202);
    let mail = app.admin_get("/admin/mail?to=min%40example.com").await.expect(200);
    assert_eq!(mail["data"][0]["kind"], "signup_existing", "one account: its owner is told, {mail}");
    // NFC for text: a title sent as jamo is stored as syllables.
    let nfd = "\u{1100}\u{1161}\u{11A8}\u{1100}\u{1161}\u{11A8} 셔츠"; // 각각 셔츠, decomposed
    app.admin_post(
        "/admin/products",
        serde_json::json!({"handle": "nfd-shirt", "title_ko": nfd, "title_en": "Shirt", "category": "apparel/tops",
            "variants": [{"sku": "NFD-1", "weight_g": 100, "attributes": {}, "prices": [{"currency": "KRW", "amount_minor": 1000}]}]}),
    )
    .await
    .expect(201);
    let p = app.get("/store/products/nfd-shirt").await.expect(200);
    assert_eq!(p["product"]["title"]["ko"], "각각 셔츠");
}
crate::both!(bad_characters_are_refused_and_unicode_normalised);
