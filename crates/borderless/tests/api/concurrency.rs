//! Never oversell, never undersell, exactly-once checkout: concurrent requests against one node.

use crate::both;
use crate::helpers::*;
use serde_json::json;

const ATTEMPTS: usize = 1000;
const UNITS: i64 = 100;

async fn flash_sale_never_oversells(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("FLASH-1", 9900).await;
    app.stock_in(&sku, &store, UNITS).await;

    // Prepare the carts first so that the checkouts themselves race.
    let mut carts = Vec::with_capacity(ATTEMPTS);
    for _ in 0..ATTEMPTS {
        carts.push(app.pickup_cart(&sku, 1, &store).await);
    }
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for (i, c) in carts.into_iter().enumerate() {
        let app = app.clone();
        tasks.push(tokio::spawn(async move { app.checkout(&c, &format!("flash-{i}")).await }));
    }
    let (mut placed, mut sold_out) = (0, 0);
    for t in tasks {
        let r = t.await.unwrap();
        match (r.status, r.code()) {
            (201, _) => placed += 1,
            (409, "out_of_stock") => {
                assert_eq!(r.body["error"]["message_ko"], "재고가 부족합니다.");
                assert_eq!(r.body["error"]["sku"], "FLASH-1");
                sold_out += 1
            }
            other => panic!("unexpected checkout result {other:?}: {}", r.body),
        }
    }
    assert_eq!(placed, UNITS, "exactly the units on hand are sold: no oversell, no undersell");
    assert_eq!(sold_out, ATTEMPTS as i64 - UNITS);
    assert_eq!(app.level(&sku, &store).await, (UNITS, UNITS, 0, 0));
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, UNITS);
    assert_eq!(app.count("SELECT COUNT(*) FROM reservations WHERE status = 'held'").await, UNITS);
    assert_eq!(app.count("SELECT COUNT(*) FROM stock_levels WHERE on_hand - reserved - safety_stock < 0").await, 0);
    app.assert_no_drift().await;
}
both!(flash_sale_never_oversells);

async fn duplicate_checkouts_are_exactly_once(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("HONGDAE", "store", true).await;
    let sku = app.product("DUP-1", 1000).await;
    app.stock_in(&sku, &store, 50).await;
    let cart = app.pickup_cart(&sku, 2, &store).await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let (app, cart) = (app.clone(), cart.clone());
        tasks.push(tokio::spawn(async move { app.checkout(&cart, "same-key").await }));
    }
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 201, "every duplicate gets the order: {}", r.body);
        ids.insert(r.body["order"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "one order for one idempotency key");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(app.level(&sku, &store).await, (50, 2, 48, 0));

    // Same key, different body → 409; the cart is already checked out for a new key → 409 too.
    let r = app
        .req("POST", &format!("/store/carts/{cart}/checkout"), None, Some(json!({"email": "other@example.com", "payment": {"method": "pay_at_pickup"}})), &[("Idempotency-Key", "same-key")])
        .await;
    assert_eq!((r.status, r.code()), (409, "idempotency_key_reused"));
    let r = app.checkout(&cart, "another-key").await;
    assert_eq!((r.status, r.code()), (409, "cart_completed"));
    app.assert_no_drift().await;
}
both!(duplicate_checkouts_are_exactly_once);

async fn mixed_channels_race_for_last_units(b: Backend) {
    // Web pickups, POS sales and transfers all compete for the same 30 units.
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let wh = app.location("WH", "warehouse", false).await;
    let sku = app.product("RACE-1", 5000).await;
    app.stock_in(&sku, &store, 30).await;
    let mut carts = Vec::new();
    for _ in 0..40 {
        carts.push(app.pickup_cart(&sku, 1, &store).await);
    }
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for (i, c) in carts.into_iter().enumerate() {
        let app = app.clone();
        let (sku, store, wh) = (sku.clone(), store.clone(), wh.clone());
        tasks.push(tokio::spawn(async move {
            let web = app.checkout(&c, &format!("race-{i}")).await;
            let pos = app.admin_post("/admin/pos/sales", json!({"location_id": store, "lines": [{"sku": sku, "quantity": 1}]})).await;
            let trf = app.admin_post("/admin/inventory/transfers", json!({"sku": sku, "from_location_id": store, "to_location_id": wh, "quantity": 1})).await;
            [web.status, pos.status, trf.status]
        }));
    }
    let mut moved = 0;
    for t in tasks {
        for s in t.await.unwrap() {
            assert!(s == 201 || s == 409, "unexpected status {s}");
            moved += (s == 201) as i64;
        }
    }
    assert_eq!(moved, 30, "every unit went exactly once");
    let (on_hand, reserved, available, _) = app.level(&sku, &store).await;
    assert_eq!(available, 0);
    assert!(on_hand >= reserved && reserved >= 0);
    app.assert_no_drift().await;
}
both!(mixed_channels_race_for_last_units);
