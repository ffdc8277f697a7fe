//! Faults at the worst moment, with the real binary and `kill -9`-style aborts (`BORDERLESS_FAULT`): a
//! card captured but the process dead before the wallet credit; a card authorized but the process dead
//! before the order. After a restart the reconciliation sweep finishes each one exactly once.

use crate::cards::processor;
use crate::helpers::*;
use crate::processes::{call, doctor, serve_with, signup_on};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

async fn crash_between_capture_and_credit(database_url: Option<String>) {
    let (psp_url, psp) = processor().await;
    let dir = TempDir::new();
    let db = database_url.as_deref();
    let card = ["--card-api-base", psp_url.as_str()];
    let key_env = ("BORDERLESS_CARD_SECRET_KEY", "sk_test_borderless");
    let node = serve_with(&dir.0, db, &card, &[key_env, ("BORDERLESS_FAULT", "top_up.after_capture")]).await;
    let c = reqwest::Client::new();
    let (s, v) =
        signup_on(&c, &node.url, json!({"email": "crash@example.com", "password": "crash password", "name": "K"}))
            .await;
    assert_eq!(s, 201, "{v}");
    let token = v["token"].as_str().unwrap().to_owned();
    let top_up = json!({"amount_minor": 50000, "currency": "KRW", "payment_method": "pm_card_visa"});
    let r = call(
        &c,
        Method::POST,
        format!("{}/store/wallet/top-ups", node.url),
        Some(top_up.clone()),
        Some(&token),
        Some("crash-1"),
    )
    .await;
    assert!(r.is_err(), "the node died between capture and credit: {r:?}");
    let mut node = node;
    let status = node.child.wait().unwrap();
    assert!(!status.success(), "aborted: {status:?}");
    assert_eq!(psp.lock().unwrap().captures, 1, "the card was captured");
    let (code, out) = doctor(&dir.0, db);
    assert_eq!(code, 0, "nothing half-written: {out}");

    // Restart: the sweep credits the captured top-up by itself, once.
    let node = serve_with(&dir.0, db, &card, &[key_env]).await;
    let balance = || async {
        let (_, w) =
            call(&c, Method::GET, format!("{}/store/wallet", node.url), None, Some(&token), None).await.unwrap();
        w["data"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["currency"] == "KRW"))
            .map_or(0, |x| x["balance_minor"].as_i64().unwrap_or(0))
    };
    let t = Instant::now();
    while balance().await == 0 && t.elapsed() < Duration::from_secs(40) {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(balance().await, 50000, "credited by the sweep after {:?}", t.elapsed());
    // The shopper's retry (same key) answers the same top-up, and nothing is captured or credited again.
    let (s, again) = call(
        &c,
        Method::POST,
        format!("{}/store/wallet/top-ups", node.url),
        Some(top_up),
        Some(&token),
        Some("crash-1"),
    )
    .await
    .unwrap();
    assert_eq!(s, 201, "{again}");
    tokio::time::sleep(Duration::from_secs(6)).await; // one more sweep
    assert_eq!(balance().await, 50000, "credited once");
    assert_eq!(psp.lock().unwrap().captures, 1, "captured once");
    let (code, out) = doctor(&dir.0, db);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_between_card_capture_and_wallet_credit_sqlite() {
    crash_between_capture_and_credit(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_between_card_capture_and_wallet_credit_postgres() {
    if let Some(url) = fresh_pg_database() {
        crash_between_capture_and_credit(Some(url)).await;
    }
}

/// A checkout whose card was authorized when the process died, before the order existed: after the restart
/// the authorization is cancelled with the processor and no order or reservation remains.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_between_authorization_and_order() {
    let (psp_url, psp) = processor().await;
    let dir = TempDir::new();
    let card = ["--card-api-base", psp_url.as_str()];
    let key_env = ("BORDERLESS_CARD_SECRET_KEY", "sk_test_borderless");
    let node = serve_with(&dir.0, None, &card, &[key_env, ("BORDERLESS_FAULT", "checkout.after_authorize")]).await;
    let c = reqwest::Client::new();
    let (loc, sku) = crate::processes::setup_stock(&c, &node.url, 5).await;
    let cart = crate::processes::pickup_cart(&c, &node.url, &sku, &loc).await.unwrap();
    let r = call(
        &c,
        Method::POST,
        format!("{}/store/carts/{cart}/checkout", node.url),
        Some(json!({"email": "crash@example.com", "payment": {"method": "card", "code": "pm_card_visa"}})),
        None,
        Some("crash-checkout"),
    )
    .await;
    assert!(r.is_err(), "the node died after the authorization: {r:?}");
    let mut node = node;
    let _ = node.child.wait();
    let authorized = || psp.lock().unwrap().intents.values().filter(|i| i["status"] == "requires_capture").count();
    assert_eq!(authorized(), 1, "an authorization is left at the processor");

    let node = serve_with(&dir.0, None, &card, &[key_env]).await;
    let t = Instant::now();
    while authorized() > 0 && t.elapsed() < Duration::from_secs(40) {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(authorized(), 0, "the orphaned authorization was cancelled");
    assert!(psp.lock().unwrap().intents.values().all(|i| i["status"] == "canceled"));
    let (_, orders) =
        call(&c, Method::GET, format!("{}/admin/orders", node.url), None, Some(ADMIN_KEY), None).await.unwrap();
    assert_eq!(orders["data"].as_array().unwrap().len(), 0, "no order was placed");
    let (_, inv) = call(&c, Method::GET, format!("{}/admin/inventory/{sku}", node.url), None, Some(ADMIN_KEY), None)
        .await
        .unwrap();
    assert_eq!(inv["locations"][0]["reserved"], 0, "{inv}");
}
