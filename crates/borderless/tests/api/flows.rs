//! The order flows of every channel: click & collect, delivery with routing, expiry, POS, returns anywhere.

use crate::both;
use crate::helpers::*;
use serde_json::json;
use std::time::Duration;

async fn click_and_collect(b: Backend) {
    let app = spawn_app(b).await;
    let gangnam = app.location("GANGNAM", "store", true).await;
    let sku = app.product("TEE-BLK-M", 29000).await;
    app.stock_in(&sku, &gangnam, 3).await;

    // The shopper sees per-store availability.
    let products = app.get("/store/products").await.expect(200);
    let pid = products["data"][0]["id"].as_str().unwrap().to_owned();
    let p = app.get(&format!("/store/products/{pid}")).await.expect(200);
    let store = &p["product"]["availability"][0]["stores"][0];
    assert_eq!(store["available"], 3);
    assert_eq!(store["label"]["en"], "3 at GANGNAM Store, pickup today");
    assert_eq!(store["label"]["ko"], "GANGNAM 매장 3개, 오늘 픽업 가능");

    let cart = app.pickup_cart(&sku, 2, &gangnam).await;
    let order = app.checkout(&cart, "k-1").await.expect(201)["order"].clone();
    let id = order["id"].as_str().unwrap().to_owned();
    assert_eq!(order["status"], "placed");
    assert_eq!(order["fulfillment_type"], "pickup");
    assert_eq!(order["total"]["amount_minor"], 58000);
    assert_eq!(order["payment"]["status"], "pending");
    assert_eq!(app.level(&sku, &gangnam).await, (3, 2, 1, 0), "reserved at the chosen store");

    // Staff cannot hand over before the order is ready.
    let r = app
        .req("POST", &format!("/admin/orders/{id}/picked-up"), Some(ADMIN_KEY), Some(json!({"code": "000000"})), &[])
        .await;
    assert_eq!((r.status, r.code()), (409, "invalid_transition"));

    let ready = app.admin_post(&format!("/admin/orders/{id}/ready-for-pickup"), json!({})).await.expect(200);
    assert_eq!(ready["order"]["status"], "ready_for_pickup");
    assert!(ready["order"]["pickup"].get("code").is_none(), "staff do not see the code");
    let shopper_view = app.shopper_order(&id).await.expect(200);
    let code = shopper_view["order"]["pickup"]["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);

    let wrong = if code == "111111" { "222222" } else { "111111" };
    let r = app.admin_post(&format!("/admin/orders/{id}/picked-up"), json!({"code": wrong})).await;
    assert_eq!((r.status, r.code()), (400, "wrong_pickup_code"));
    let done = app.admin_post(&format!("/admin/orders/{id}/picked-up"), json!({"code": code})).await.expect(200);
    assert_eq!(done["order"]["status"], "picked_up");
    assert_eq!(done["order"]["payment"]["status"], "paid");
    assert_eq!(app.level(&sku, &gangnam).await, (1, 0, 1, 0), "the reservation became a sale");

    let want = ["order.placed", "order.ready_for_pickup", "order.picked_up", "inventory.changed", "product.created"];
    let kinds = app.events_until("limit=500", |k| want.iter().all(|w| k.iter().any(|x| x == w))).await;
    for k in want {
        assert!(kinds.iter().any(|x| x == k), "missing event {k} in {kinds:?}");
    }
    let orders = app.admin_get("/admin/orders?status=picked_up").await.expect(200);
    assert_eq!(orders["data"].as_array().unwrap().len(), 1);
    app.assert_no_drift().await;
}
both!(click_and_collect);

async fn delivery_routes_and_ships(b: Backend) {
    let app = spawn_app(b).await;
    let wh = app.location("WH", "warehouse", false).await;
    let store = app.location("HONGDAE", "store", true).await;
    let sku = app.product("MUG-1", 12000).await;
    app.stock_in(&sku, &wh, 1).await;
    app.stock_in(&sku, &store, 5).await;

    let mk = |qty: i64| {
        let app = &app;
        let sku = sku.clone();
        async move {
            let id = app.post("/store/carts", json!({})).await.expect(201)["cart"]["id"].as_str().unwrap().to_owned();
            app.post(&format!("/store/carts/{id}/lines"), json!({"sku": sku, "quantity": qty})).await.expect(200);
            app.put(&format!("/store/carts/{id}/fulfillment"), json!({"type": "delivery", "address": {"recipient": "박서연", "phone": "010-2345-6789", "line1": "해운대로 1", "city": "Busan", "postal_code": "48094", "country": "KR", "memo": "부재 시 경비실에 맡겨 주세요"}}))
                .await
                .expect(200);
            id
        }
    };
    // One unit: the warehouse ships it. Two units: only the store has them (ship-from-store).
    let c1 = mk(1).await;
    let o1 = app
        .req(
            "POST",
            &format!("/store/carts/{c1}/checkout"),
            Some(ADMIN_KEY),
            Some(json!({"email": "a@example.com", "payment": {"method": "manual"}})),
            &[],
        )
        .await
        .expect(201);
    assert_eq!(o1["order"]["lines"][0]["location_id"], wh.as_str());
    let admin_view = |id: String| {
        let app = &app;
        async move {
            app.admin_get(&format!("/admin/orders/{id}")).await.expect(200)["order"]["lines"][0]["routing"].clone()
        }
    };
    assert_eq!(
        admin_view(o1["order"]["id"].as_str().unwrap().to_owned()).await,
        "WH: warehouse with 1 available; warehouses ship first"
    );
    assert_eq!(o1["order"]["lines"][0]["routing"], serde_json::Value::Null, "the shopper's copy has no routing note");
    let c2 = mk(2).await;
    let o2 = app
        .req(
            "POST",
            &format!("/store/carts/{c2}/checkout"),
            Some(ADMIN_KEY),
            Some(json!({"email": "a@example.com", "payment": {"method": "manual"}})),
            &[],
        )
        .await
        .expect(201);
    assert_eq!(o2["order"]["lines"][0]["location_id"], store.as_str());
    assert_eq!(
        admin_view(o2["order"]["id"].as_str().unwrap().to_owned()).await,
        "HONGDAE: ship-from-store with 5 available; no warehouse had 2 available"
    );
    // Store staff cannot cancel a delivery order; an admin can.
    let key = app
        .admin_post("/admin/api-keys", json!({"role": "staff", "location_id": store, "label": "desk"}))
        .await
        .expect(201);
    let staff = key["api_key"]["key"].as_str().unwrap().to_owned();
    let id2 = o2["order"]["id"].as_str().unwrap();
    let r = app.req("POST", &format!("/admin/orders/{id2}/cancel"), Some(&staff), None, &[]).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    // pay_at_pickup is refused for delivery.
    let c3 = mk(1).await;
    let r = app
        .req(
            "POST",
            &format!("/store/carts/{c3}/checkout"),
            None,
            Some(json!({"email": "a@example.com", "payment": {"method": "pay_at_pickup"}})),
            &[],
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "unsupported_payment_method"));

    let id1 = o1["order"]["id"].as_str().unwrap();
    let shopper = app.shopper_order(id1).await.expect(200);
    assert_eq!(shopper["order"]["lines"][0]["routing"], serde_json::Value::Null, "routing notes are for staff");
    app.admin_post(&format!("/admin/orders/{id1}/ship"), json!({})).await.expect(200);
    assert_eq!(app.level(&sku, &wh).await, (0, 0, 0, 0));
    // Returned at the store; the manual (invoice) payment was never collected, so nothing is owed back.
    let ret = app
        .admin_post(
            "/admin/returns",
            json!({"order_id": id1, "location_id": store, "lines": [{"sku": sku, "quantity": 1}]}),
        )
        .await
        .expect(201);
    assert_eq!(ret["return"]["refund"]["status"], "no_payment_collected");
    assert_eq!(app.level(&sku, &store).await, (6, 2, 4, 0), "restocked beside order 2's reservation");
    let id2 = o2["order"]["id"].as_str().unwrap();
    app.admin_post(&format!("/admin/orders/{id2}/cancel"), json!({"reason": "customer asked"})).await.expect(200);
    assert_eq!(app.level(&sku, &store).await, (6, 0, 6, 0), "cancel releases the reservation");
    let r = app.admin_post(&format!("/admin/orders/{id2}/ship"), json!({})).await;
    assert_eq!((r.status, r.code()), (409, "invalid_transition"));
    app.assert_no_drift().await;
}
both!(delivery_routes_and_ships);

async fn uncollected_pickup_expires(b: Backend) {
    let app = spawn_app_with(b, Duration::from_secs(3600)).await;
    let store = app.location("SEOMYEON", "store", true).await;
    let sku = app.product("SNACK-1", 1500).await;
    app.stock_in(&sku, &store, 4).await;
    let cart = app.pickup_cart(&sku, 3, &store).await;
    let id = app.checkout(&cart, "exp-1").await.expect(201)["order"]["id"].as_str().unwrap().to_owned();
    app.admin_post(&format!("/admin/orders/{id}/ready-for-pickup"), json!({})).await.expect(200);

    let none = app.admin_post("/admin/maintenance/expire-pickups", json!({})).await.expect(200);
    assert_eq!(none["expired"], json!([]), "not yet due");
    app.clock.advance_ms(3600 * 1000 + 1);
    // Past the window the code no longer works, even before the expiry worker has run.
    let code = app.shopper_order(&id).await.expect(200)["order"]["pickup"]["code"].as_str().unwrap().to_owned();
    let r = app.admin_post(&format!("/admin/orders/{id}/picked-up"), json!({"code": code})).await;
    assert_eq!((r.status, r.code()), (409, "pickup_expired"));
    let r = app.admin_post("/admin/maintenance/expire-pickups", json!({})).await.expect(200);
    assert_eq!(r["expired"], json!([id]));
    assert_eq!(app.shopper_order(&id).await.expect(200)["order"]["status"], "expired");
    assert_eq!(app.level(&sku, &store).await, (4, 0, 4, 0), "stock released");
    assert_eq!(app.events_until("type=order.expired", |k| k.len() == 1).await.len(), 1);
    app.assert_no_drift().await;
}
both!(uncollected_pickup_expires);

async fn pos_sale_and_staff_scope(b: Backend) {
    let app = spawn_app(b).await;
    let gangnam = app.location("GANGNAM", "store", true).await;
    let hongdae = app.location("HONGDAE", "store", true).await;
    let sku = app.product("CAP-1", 25000).await;
    app.stock_in(&sku, &gangnam, 5).await;
    app.stock_in(&sku, &hongdae, 5).await;
    let key = app
        .admin_post("/admin/api-keys", json!({"role": "staff", "location_id": "GANGNAM", "label": "Gangnam POS 1"}))
        .await
        .expect(201);
    let staff = key["api_key"]["key"].as_str().unwrap().to_owned();

    // A pickup order at Gangnam holds 2 units; the counter can sell the other 3, not more.
    let cart = app.pickup_cart(&sku, 2, &gangnam).await;
    let web = app.checkout(&cart, "pos-web").await.expect(201)["order"]["id"].as_str().unwrap().to_owned();
    let sale = json!({"lines": [{"sku": sku, "quantity": 2}, {"sku": sku, "quantity": 1}], "payment": {"method": "pay_in_store"}});
    let r = app
        .req("POST", "/admin/pos/sales", Some(&staff), Some(sale.clone()), &[("Idempotency-Key", "till-1-0001")])
        .await
        .expect(201);
    assert_eq!(r["order"]["channel"], "pos");
    assert_eq!(r["order"]["status"], "completed");
    assert_eq!(r["order"]["payment"]["status"], "paid");
    assert_eq!(r["order"]["lines"].as_array().unwrap().len(), 1, "same SKU merged");
    assert_eq!(r["order"]["total"]["amount_minor"], 75000);
    // A retried request from the till is the same sale.
    let again = app
        .req("POST", "/admin/pos/sales", Some(&staff), Some(sale), &[("Idempotency-Key", "till-1-0001")])
        .await
        .expect(201);
    assert_eq!(again["order"]["id"], r["order"]["id"]);
    assert_eq!(app.level(&sku, &gangnam).await, (2, 2, 0, 0), "posted at once");
    let r = app
        .req("POST", "/admin/pos/sales", Some(&staff), Some(json!({"lines": [{"sku": sku, "quantity": 1}]})), &[])
        .await;
    assert_eq!((r.status, r.code()), (409, "out_of_stock"), "reserved units are not sold over the counter");

    // Staff of Gangnam cannot sell for Hongdae, nor use admin-only endpoints.
    let r = app
        .req(
            "POST",
            "/admin/pos/sales",
            Some(&staff),
            Some(json!({"location_id": hongdae, "lines": [{"sku": sku, "quantity": 1}]})),
            &[],
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = app
        .req(
            "POST",
            "/admin/inventory/adjustments",
            Some(&staff),
            Some(json!({"sku": sku, "location_id": gangnam, "quantity_delta": 5, "reason": "x"})),
            &[],
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    // But they run their own pickup desk.
    app.req("POST", &format!("/admin/orders/{web}/ready-for-pickup"), Some(&staff), None, &[]).await.expect(200);
    let hkey = app
        .admin_post("/admin/api-keys", json!({"role": "staff", "location_id": hongdae, "label": "Hongdae desk"}))
        .await
        .expect(201);
    let hstaff = hkey["api_key"]["key"].as_str().unwrap();
    let code = app.shopper_order(&web).await.expect(200)["order"]["pickup"]["code"].as_str().unwrap().to_owned();
    let r = app
        .req("POST", &format!("/admin/orders/{web}/picked-up"), Some(hstaff), Some(json!({"code": code})), &[])
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    // Hongdae staff can look the order up (for a return) but not the shopper's contact details.
    let seen = app.req("GET", &format!("/admin/orders/{web}"), Some(hstaff), None, &[]).await.expect(200);
    assert_eq!(seen["order"]["email"], serde_json::Value::Null);
    let seen = app.req("GET", &format!("/admin/orders/{web}"), Some(&staff), None, &[]).await.expect(200);
    assert_eq!(seen["order"]["email"], "shopper.pos-web@example.com");
    let r = app.req("POST", &format!("/admin/orders/{web}/cancel"), Some(hstaff), None, &[]).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "staff cancel only their own store's pickups");
    app.req("POST", &format!("/admin/orders/{web}/picked-up"), Some(&staff), Some(json!({"code": code})), &[])
        .await
        .expect(200);
    assert_eq!(app.level(&sku, &gangnam).await, (0, 0, 0, 0));
    app.assert_no_drift().await;
}
both!(pos_sale_and_staff_scope);

async fn return_anywhere(b: Backend) {
    let app = spawn_app(b).await;
    let gangnam = app.location("GANGNAM", "store", true).await;
    let busan = app.location("SEOMYEON", "store", true).await;
    let sku = app.product("JACKET-1", 99000).await;
    app.stock_in(&sku, &gangnam, 3).await;
    let sale = app
        .admin_post("/admin/pos/sales", json!({"location_id": gangnam, "lines": [{"sku": sku, "quantity": 3}]}))
        .await
        .expect(201);
    let oid = sale["order"]["id"].as_str().unwrap().to_owned();

    // Bought in Seoul, returned in Busan: one back on the shelf, one damaged.
    let ret = json!({"order_id": oid, "location_id": busan, "reason": "size",
        "lines": [{"sku": sku, "quantity": 1}, {"sku": sku, "quantity": 1, "disposition": "unsellable"}]});
    let r = app
        .req("POST", "/admin/returns", Some(ADMIN_KEY), Some(ret.clone()), &[("Idempotency-Key", "ret-1")])
        .await
        .expect(201);
    assert_eq!(r["return"]["refund"]["amount"]["amount_minor"], 198000);
    assert_eq!(r["return"]["refund"]["status"], "pending");
    let again = app
        .req("POST", "/admin/returns", Some(ADMIN_KEY), Some(ret), &[("Idempotency-Key", "ret-1")])
        .await
        .expect(201);
    assert_eq!(again["return"]["id"], r["return"]["id"], "a retried return is not applied twice");
    assert_eq!(app.level(&sku, &busan).await, (1, 0, 1, 1));
    assert_eq!(app.level(&sku, &gangnam).await, (0, 0, 0, 0));
    let order = app.admin_get(&format!("/admin/orders/{oid}")).await.expect(200);
    assert_eq!(order["order"]["lines"][0]["returned_quantity"], 2);

    let too_many = json!({"order_id": oid, "location_id": busan, "lines": [{"sku": sku, "quantity": 2}]});
    let r = app.admin_post("/admin/returns", too_many).await;
    assert_eq!((r.status, r.code()), (400, "return_exceeds_order"));
    assert_eq!(app.level(&sku, &busan).await, (1, 0, 1, 1), "a refused return changes nothing");
    // A placed (not handed over) order cannot be returned.
    app.stock_in(&sku, &gangnam, 1).await;
    let cart = app.pickup_cart(&sku, 1, &gangnam).await;
    let placed = app.checkout(&cart, "r-2").await.expect(201)["order"]["id"].as_str().unwrap().to_owned();
    let r = app
        .admin_post(
            "/admin/returns",
            json!({"order_id": placed, "location_id": busan, "lines": [{"sku": sku, "quantity": 1}]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "not_returnable"));
    assert_eq!(app.events_until("type=refund.created", |k| k.len() == 1).await.len(), 1);
    app.assert_no_drift().await;
}
both!(return_anywhere);

async fn transfers_and_adjustments(b: Backend) {
    let app = spawn_app(b).await;
    let wh = app.location("WH", "warehouse", false).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("SOCKS-1", 5000).await;
    app.stock_in(&sku, &wh, 10).await;
    let t = app
        .admin_post(
            "/admin/inventory/transfers",
            json!({"sku": sku, "from_location_id": wh, "to_location_id": store, "quantity": 4}),
        )
        .await
        .expect(201);
    assert_eq!(t["transfer"]["from"]["on_hand"], 6);
    assert_eq!(t["transfer"]["to"]["on_hand"], 4);
    let r = app
        .admin_post(
            "/admin/inventory/transfers",
            json!({"sku": sku, "from_location_id": wh, "to_location_id": store, "quantity": 7}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "out_of_stock"));
    let r = app
        .admin_post(
            "/admin/inventory/adjustments",
            json!({"sku": sku, "location_id": store, "quantity_delta": -5, "reason": "count"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "insufficient_stock"));
    app.admin_post(
        "/admin/inventory/adjustments",
        json!({"sku": sku, "location_id": store, "quantity_delta": -1, "reason": "damaged"}),
    )
    .await
    .expect(201);
    // Safety stock keeps units back from online promises.
    app.admin_post("/admin/inventory/safety-stock", json!({"sku": sku, "location_id": store, "safety_stock": 2}))
        .await
        .expect(200);
    assert_eq!(app.level(&sku, &store).await, (3, 0, 1, 0));
    let cart = app.pickup_cart(&sku, 2, &store).await;
    let r = app.checkout(&cart, "ss-1").await;
    assert_eq!((r.status, r.code()), (409, "out_of_stock"));
    assert_eq!(r.body["error"]["available"], 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM stock_movements").await, 4);
    app.assert_no_drift().await;
}
both!(transfers_and_adjustments);
