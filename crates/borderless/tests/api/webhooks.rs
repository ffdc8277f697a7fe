//! Webhooks: signed with HMAC-SHA256, delivered at least once, retried with backoff, logged.

use crate::both;
use crate::helpers::*;
use axum::routing::post;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Received {
    calls: Vec<(String, String)>, // (signature header, body)
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
                let sig = headers.get("borderless-signature").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let mut r = g.lock().unwrap();
                r.calls.push((sig, body));
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
    let sub = app.admin_post("/admin/webhooks", json!({"url": hook_url, "event_types": ["order.placed"]})).await.expect(201);
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

    let (sig, body) = got.lock().unwrap().calls[1].clone();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["type"], "order.placed");
    assert_eq!(v["data"]["order"]["id"], oid.as_str());
    let t: i64 = sig.split(',').next().unwrap().trim_start_matches("t=").parse().unwrap();
    assert_eq!(sig, borderless::webhooks::sign(&secret, t, &body), "signature verifies");
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
    let mut after = 0;
    let mut all = Vec::new();
    loop {
        let page = app.admin_get(&format!("/admin/events?after={after}&limit=4")).await.expect(200);
        let items = page["data"].as_array().unwrap().clone();
        if items.is_empty() {
            break;
        }
        after = page["next_cursor"].as_i64().unwrap();
        all.extend(items);
    }
    // location.created + 7 × (product.created + inventory.changed)
    assert_eq!(all.len(), 15);
    let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "strictly increasing");
    assert_eq!(app.events_until("type=inventory.", |k| k.len() == 7).await.len(), 7);
    let r = app.admin_get("/admin/events?limit=501").await;
    assert_eq!((r.status, r.code()), (400, "invalid_limit"));
}
both!(event_feed_pages_with_a_cursor);
