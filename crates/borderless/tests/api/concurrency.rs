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
                assert!(r.body["error"]["message_ko"].as_str().unwrap().starts_with("재고가 부족합니다."));
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
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            None,
            Some(json!({"email": "other@example.com", "payment": {"method": "pay_at_pickup"}})),
            &[("Idempotency-Key", "same-key")],
        )
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
            let pos = app
                .admin_post("/admin/pos/sales", json!({"location_id": store, "lines": [{"sku": sku, "quantity": 1}]}))
                .await;
            let trf = app
                .admin_post(
                    "/admin/inventory/transfers",
                    json!({"sku": sku, "from_location_id": store, "to_location_id": wh, "quantity": 1}),
                )
                .await;
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

async fn delivery_routing_races_leave_no_phantom_reservations(b: Backend) {
    // 40 concurrent delivery checkouts: the warehouse has 5 units, so most lines race past it to the store.
    let app = spawn_app(b).await;
    let wh = app.location("WH", "warehouse", false).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("ROUTE-1", 1000).await;
    app.stock_in(&sku, &wh, 5).await;
    app.stock_in(&sku, &store, 30).await;
    let mut carts = Vec::new();
    for _ in 0..40 {
        let id = app.post("/store/carts", json!({})).await.expect(201)["cart"]["id"].as_str().unwrap().to_owned();
        app.post(&format!("/store/carts/{id}/lines"), json!({"sku": sku, "quantity": 1})).await.expect(200);
        app.put(
            &format!("/store/carts/{id}/fulfillment"),
            json!({"type": "delivery", "address": {"recipient": "김민지", "phone": "010-1234-5678", "line1": "1", "city": "Seoul", "postal_code": "06232", "country": "KR"}}),
        )
        .await
        .expect(200);
        carts.push(id);
    }
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for c in carts {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.req(
                "POST",
                &format!("/store/carts/{c}/checkout"),
                Some(ADMIN_KEY),
                Some(json!({"email": "a@example.com", "payment": {"method": "manual"}})),
                &[],
            )
            .await
        }));
    }
    let mut placed = 0;
    for t in tasks {
        let r = t.await.unwrap();
        match (r.status, r.code()) {
            (201, _) => placed += 1,
            (409, "out_of_stock") => {}
            other => panic!("unexpected {other:?}: {}", r.body),
        }
    }
    assert_eq!(placed, 35, "all 35 units are sold, 5 from the warehouse and 30 from the store");
    assert_eq!(app.level(&sku, &wh).await, (5, 5, 0, 0));
    assert_eq!(app.level(&sku, &store).await, (30, 30, 0, 0));
    assert_eq!(app.count("SELECT COUNT(*) FROM reservations WHERE status = 'held'").await, 35);
    app.assert_no_drift().await;
}
both!(delivery_routing_races_leave_no_phantom_reservations);

async fn one_cart_checked_out_twice_at_once(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("TWICE-1", 1000).await;
    app.stock_in(&sku, &store, 10).await;
    let cart = app.pickup_cart(&sku, 1, &store).await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (app, cart) = (app.clone(), cart.clone());
        tasks.push(tokio::spawn(async move { app.checkout(&cart, &format!("different-key-{i}")).await }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        codes.push((r.status, r.code().to_owned()));
    }
    assert_eq!(codes.iter().filter(|c| c.0 == 201).count(), 1, "{codes:?}");
    assert!(codes.iter().all(|c| c.0 == 201 || (c.0 == 409 && c.1 == "cart_completed")), "{codes:?}");
    assert_eq!(app.level(&sku, &store).await, (10, 1, 9, 0));
    app.assert_no_drift().await;
}
both!(one_cart_checked_out_twice_at_once);
