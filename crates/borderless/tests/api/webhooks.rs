//! Webhooks: signed with HMAC-SHA256, delivered at least once, retried with backoff, logged.

use crate::both;
use crate::helpers::*;
use axum::routing::post;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Received {
    calls: Vec<(axum::http::HeaderMap, String)>, // (headers, body)
}

async fn webhooks_are_signed_retried_and_logged(b: Backend) {
    let app = spawn_app(b).await;
    // A receiver that fails its first call and accepts the rest.
    let got = Arc::new(Mutex::new(Received::default()));
    let g = got.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let g = g.clone();
            async move {
                let mut r = g.lock().unwrap();
                r.calls.push((headers, body));
                if r.calls.len() == 1 {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let r = app.admin_post("/admin/webhooks", json!({"url": "ftp://nope", "event_types": ["order.placed"]})).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"));
    let sub =
        app.admin_post("/admin/webhooks", json!({"url": hook_url, "event_types": ["order.placed"]})).await.expect(201);
    let secret = sub["webhook"]["secret"].as_str().unwrap().to_owned();
    let sid = sub["webhook"]["id"].as_str().unwrap().to_owned();
    assert!(app.admin_get("/admin/webhooks").await.expect(200)["data"][0].get("secret").is_none(), "secret shown once");

    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("HOOK-1", 1000).await;
    app.stock_in(&sku, &store, 5).await;
    let cart = app.pickup_cart(&sku, 1, &store).await;
    let oid = app.checkout(&cart, "hook-1").await.expect(201)["order"]["id"].as_str().unwrap().to_owned();

    let wait_for = |n: usize| {
        let got = got.clone();
        async move {
            for _ in 0..200 {
                if got.lock().unwrap().calls.len() >= n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!("webhook call {n} did not arrive");
        }
    };
    wait_for(1).await;
    // The failed attempt is retried after its backoff (10 s on the engine's clock).
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(got.lock().unwrap().calls.len(), 1, "no retry before the backoff");
    app.clock.advance_ms(11_000);
    wait_for(2).await;

    let (headers, body) = got.lock().unwrap().calls[1].clone();
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["type"], "order.placed");
    assert_eq!(v["data"]["order"]["id"], oid.as_str());
    let sig = h("borderless-signature");
    let t: i64 = sig.split(',').next().unwrap().trim_start_matches("t=").parse().unwrap();
    assert_eq!(sig, node::webhooks::sign(&secret, t, &body), "signature verifies");
    // The Standard Webhooks headers (what integrators' libraries verify); the id is stable across retries.
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(h("webhook-id"), v["id"].as_str().unwrap());
    assert_eq!(h("webhook-id"), got.lock().unwrap().calls[0].0["webhook-id"].to_str().unwrap(), "same id on retry");
    let ts: i64 = h("webhook-timestamp").parse().unwrap();
    assert_eq!(h("webhook-signature"), node::webhooks::sign_standard(&secret, &h("webhook-id"), ts, &body));
    // Only the subscribed type was sent: inventory.changed and product.created were not.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(got.lock().unwrap().calls.len(), 2);

    let mut log = serde_json::Value::Null;
    for _ in 0..50 {
        log = app.admin_get(&format!("/admin/webhooks/{sid}/deliveries")).await.expect(200);
        if log["data"][0]["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(log["data"][0]["status"], "delivered");
    assert_eq!(log["data"][0]["attempts"], 2);
    assert_eq!(log["data"][0]["last_status_code"], 200);
    app.req("DELETE", &format!("/admin/webhooks/{sid}"), Some(ADMIN_KEY), None, &[]).await;
    assert_eq!(app.admin_get("/admin/webhooks").await.expect(200)["data"][0]["active"], false);
    app.assert_no_drift().await;
}
both!(webhooks_are_signed_retried_and_logged);

async fn event_feed_pages_with_a_cursor(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    for i in 0..7 {
        let sku = app.product(&format!("EV-{i}"), 1000).await;
        app.stock_in(&sku, &store, 1).await;
    }
    app.events_until("limit=500", |k| k.len() == 15).await;
    let mut after = String::new();
    let mut all = Vec::new();
    loop {
        let page = app.admin_get(&format!("/admin/events?after={after}&limit=4")).await.expect(200);
        let items = page["data"].as_array().unwrap().clone();
        if items.is_empty() {
            assert_eq!(page["next_cursor"], after.as_str(), "an empty page keeps the cursor");
            break;
        }
        assert_eq!(page["next_cursor"], items.last().unwrap()["cursor"]);
        after = page["next_cursor"].as_str().unwrap().to_owned();
        all.extend(items);
    }
    // location.created + 7 × (product.created + inventory.changed)
    assert_eq!(all.len(), 15);
    let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "strictly increasing");
    assert_eq!(app.events_until("type=inventory.*", |k| k.len() == 7).await.len(), 7);
    let r = app.admin_get("/admin/events?limit=501").await;
    assert_eq!((r.status, r.code()), (400, "invalid_limit"));
    let r = app.admin_get("/admin/events?after=yesterday").await;
    assert_eq!((r.status, r.code()), (400, "invalid_cursor"));
    app.assert_no_drift().await;
}
both!(event_feed_pages_with_a_cursor);

/// On PostgreSQL a transaction that took a lower `seq` can commit after one with a higher `seq`. A reader
/// that paged by `seq` alone would move past the late event and never see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_feed_never_skips_a_late_commit() {
    let Some(url) = fresh_pg_database() else { return };
    let app = spawn_app(Backend::Postgres(url.clone())).await;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        let ins =
            "INSERT INTO events (id, type, aggregate_id, payload, created_at) VALUES ($1, 'location.created', 'x', '{}', 0)";
        let mut a = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut b = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut ta = a.transaction().unwrap();
        ta.query("SELECT pg_current_xact_id()", &[]).unwrap(); // A takes the lower transaction id
        let mut tb = b.transaction().unwrap();
        tb.execute(ins, &[&"evt_b"]).unwrap(); // B takes the lower seq
        ta.execute(ins, &[&"evt_a"]).unwrap();
        ta.commit().unwrap(); // A commits first, B stays open
        ready_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        tb.commit().unwrap();
        done_tx.send(()).unwrap();
    });
    let read = |after: String| {
        let app = &app;
        async move {
            let page = app.admin_get(&format!("/admin/events?type=location.*&after={after}")).await.expect(200);
            let ids: Vec<String> =
                page["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
            (ids, page["next_cursor"].as_str().unwrap().to_owned())
        }
    };
    tokio::task::spawn_blocking(move || ready_rx.recv().unwrap()).await.unwrap();
    // While B is open the reader sees A's event (or, if another transaction in the cluster is older,
    // nothing yet); never B's.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..100 {
        let (ids, next) = read(cursor.clone()).await;
        assert!(!ids.contains(&"evt_b".to_owned()), "B is not committed");
        seen.extend(ids);
        cursor = next;
        if seen.contains(&"evt_a".to_owned()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(seen, vec!["evt_a".to_owned()]);
    go_tx.send(()).unwrap();
    tokio::task::spawn_blocking(move || done_rx.recv().unwrap()).await.unwrap();
    worker.join().unwrap();
    for _ in 0..100 {
        let (ids, next) = read(cursor.clone()).await;
        seen.extend(ids);
        cursor = next;
        if seen.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(seen, vec!["evt_a".to_owned(), "evt_b".to_owned()], "the late commit (lower seq) is not skipped");
}

/// Webhooks go over https to public hosts unless the node is told otherwise (development): loopback,
/// private, link-local and metadata addresses are refused when subscribing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhook_targets_are_public_https_by_default() {
    let app = spawn_app_tuned(Backend::Sqlite, |c| c.webhooks_allow_private = false).await;
    for url in [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://localhost:8443/x",
        "https://10.1.2.3/x",
        "https://192.168.0.10/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://[fd00::1]/x",
        "https://100.64.0.1/x",
        "https://printer.local/x",
        "https://user@127.0.0.1:9/x",
    ] {
        let r = app.admin_post("/admin/webhooks", json!({"url": url, "event_types": ["order.placed"]})).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{url}: {:?}", r.body);
        assert!(r.body["error"]["message"].as_str().unwrap().contains("url"), "{url}");
    }
    app.admin_post("/admin/webhooks", json!({"url": "https://hooks.example.com/x", "event_types": ["order.placed"]}))
        .await
        .expect(201);
}

/// One dead endpoint does not slow the others: a subscriber that never answers holds at most its own few
/// requests, while a healthy one gets every event at once.
async fn a_dead_endpoint_does_not_hold_up_the_others(b: Backend) {
    let app = spawn_app(b).await;
    let fast_calls = Arc::new(Mutex::new(0usize));
    let slow_calls = Arc::new(Mutex::new(0usize));
    let (f, s) = (fast_calls.clone(), slow_calls.clone());
    let fast = axum::Router::new().route(
        "/hook",
        post(move || {
            let f = f.clone();
            async move {
                *f.lock().unwrap() += 1;
                axum::http::StatusCode::OK
            }
        }),
    );
    let slow = axum::Router::new().route(
        "/hook",
        post(move || {
            let s = s.clone();
            async move {
                *s.lock().unwrap() += 1;
                tokio::time::sleep(Duration::from_secs(30)).await;
                axum::http::StatusCode::OK
            }
        }),
    );
    let mut urls = Vec::new();
    for r in [slow, fast] {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        urls.push(format!("http://{}/hook", l.local_addr().unwrap()));
        tokio::spawn(async move { axum::serve(l, r).await });
    }
    for u in &urls {
        app.admin_post("/admin/webhooks", json!({"url": u, "event_types": ["location.*"]})).await.expect(201);
    }
    let events = 40; // more deliveries than one old-style batch of 32
    for i in 0..events {
        app.location(&format!("HOOK{i:02}"), "store", true).await;
    }
    let t = std::time::Instant::now();
    while *fast_calls.lock().unwrap() < events && t.elapsed() < Duration::from_secs(8) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = t.elapsed();
    assert_eq!(*fast_calls.lock().unwrap(), events, "the healthy subscriber got every event");
    assert!(took < Duration::from_secs(5), "without waiting for the dead one: {took:?}");
    let stuck = *slow_calls.lock().unwrap();
    assert!(stuck <= node::webhooks::PER_SUBSCRIPTION, "the dead one holds at most its own slots: {stuck}");
}
both!(a_dead_endpoint_does_not_hold_up_the_others);
