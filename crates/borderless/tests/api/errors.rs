//! Bad input everywhere meets a clear, specific error in one shape, and changes nothing.

use crate::both;
use crate::helpers::*;
use serde_json::json;

async fn bad_input_is_refused_clearly(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("ERR-1", 1000).await;
    app.stock_in(&sku, &store, 10).await;

    // Auth.
    let r = app.req("GET", "/admin/orders", None, None, &[]).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    let r = app.req("GET", "/admin/orders", Some("not-a-key"), None, &[]).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    let r = app.req("GET", "/store/customers/me", Some("bl_cus_forged"), None, &[]).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));

    // Unknown routes and malformed bodies.
    let r = app.get("/nope").await;
    assert_eq!((r.status, r.code()), (404, "route_not_found"));
    let r = app
        .client
        .post(format!("{}/admin/products", app.url))
        .bearer_auth(ADMIN_KEY)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invalid_json");
    let r = app
        .admin_post(
            "/admin/products",
            json!({"handle": "x", "title_ko": "x", "title_en": "x", "category": "c", "variants": [], "colour": "red"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_json"), "unknown fields are named, not ignored");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("colour"));
    let big = "x".repeat(http_api::MAX_BODY_BYTES + 10);
    let r = app.admin_post("/admin/products", json!({"handle": big})).await;
    assert_eq!((r.status, r.code()), (413, "payload_too_large"));

    // Validation names the field.
    let r = app
        .admin_post("/admin/products", json!({"handle": "bad-gtin", "title_ko": "가", "title_en": "A", "category": "c",
            "variants": [{"sku": "BAD-GTIN", "gtin": "8801234567890", "prices": [{"currency": "KRW", "amount_minor": 100}]}]}))
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"));
    assert!(r.body["error"]["message"].as_str().unwrap().contains("check digit"));
    let r = app
        .admin_post(
            "/admin/products",
            json!({"handle": "bad-cur", "title_ko": "가", "title_en": "A", "category": "c",
            "variants": [{"sku": "BAD-CUR", "prices": [{"currency": "XYZ", "amount_minor": 100}]}]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"));
    let r = app
        .admin_post(
            "/admin/products",
            json!({"handle": "err-1", "title_ko": "가", "title_en": "A", "category": "c",
            "variants": [{"sku": "ERR-2", "prices": [{"currency": "KRW", "amount_minor": 100}]}]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "duplicate_handle"));
    let r = app
        .admin_post("/admin/locations", json!({"code": "GANGNAM", "name_ko": "a", "name_en": "a", "kind": "store"}))
        .await;
    assert_eq!((r.status, r.code()), (409, "duplicate_code"));
    let r =
        app.admin_post("/admin/locations", json!({"code": "X1", "name_ko": "a", "name_en": "a", "kind": "shop"})).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"));
    let r = app
        .admin_post(
            "/admin/locations",
            json!({"code": "X2", "name_ko": "a", "name_en": "a", "kind": "store", "lat": 91.0, "lon": 0.0}),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"));

    // Pagination and quantity limits.
    let r = app.get("/store/products?limit=1000").await;
    assert_eq!((r.status, r.code()), (400, "invalid_limit"));
    let r = app.get("/store/products?limit=abc").await;
    assert_eq!((r.status, r.code()), (400, "invalid_query"));
    let cart = app.post("/store/carts", json!({})).await.expect(201)["cart"]["id"].as_str().unwrap().to_owned();
    for q in [0, -1, 10_001] {
        let r = app.post(&format!("/store/carts/{cart}/lines"), json!({"sku": sku, "quantity": q})).await;
        assert_eq!((r.status, r.code()), (400, "invalid_quantity"), "quantity {q}");
    }
    let r = app.post(&format!("/store/carts/{cart}/lines"), json!({"sku": "NOPE", "quantity": 1})).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = app.post("/store/carts/cart_missing/lines", json!({"sku": sku, "quantity": 1})).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = app.post("/store/carts", json!({"currency": "DOGE"})).await;
    assert_eq!((r.status, r.code()), (400, "invalid_currency"));

    // Checkout preconditions.
    let r = app.checkout(&cart, "pre-1").await;
    assert_eq!((r.status, r.code()), (400, "fulfillment_required"));
    app.put(&format!("/store/carts/{cart}/fulfillment"), json!({"type": "pickup", "location_id": store}))
        .await
        .expect(200);
    let r = app.checkout(&cart, "pre-2").await;
    assert_eq!((r.status, r.code()), (400, "cart_empty"));
    let r = app
        .put(&format!("/store/carts/{cart}/fulfillment"), json!({"type": "delivery", "address": {"city": "Seoul"}}))
        .await;
    assert_eq!((r.status, r.code()), (400, "address_incomplete"));
    assert!(r.body["error"]["message"].as_str().unwrap().contains("recipient"), "{}", r.body);
    let bad_country = json!({"type": "delivery", "address": {"recipient": "김민지", "phone": "010-1234-5678",
        "line1": "1", "city": "Seoul", "postal_code": "06232", "country": "ZZ"}});
    let r = app.put(&format!("/store/carts/{cart}/fulfillment"), bad_country).await;
    assert_eq!((r.status, r.code()), (400, "invalid_country"));
    assert!(r.body["error"]["message"].as_str().unwrap().contains("address.country"), "{}", r.body);
    let bad_phone = json!({"type": "delivery", "address": {"recipient": "김민지", "phone": "call me",
        "line1": "1", "city": "Seoul", "postal_code": "06232", "country": "KR"}});
    let r = app.put(&format!("/store/carts/{cart}/fulfillment"), bad_phone).await;
    assert_eq!((r.status, r.code()), (400, "invalid_phone"));
    assert!(r.body["error"]["message"].as_str().unwrap().contains("address.phone"), "{}", r.body);
    let r = app.put(&format!("/store/carts/{cart}/fulfillment"), json!({"type": "teleport"})).await;
    assert_eq!((r.status, r.code()), (400, "invalid_json"));
    let long_key = "k".repeat(300);
    app.post(&format!("/store/carts/{cart}/lines"), json!({"sku": sku, "quantity": 1})).await.expect(200);
    let r = app.checkout(&cart, &long_key).await;
    assert_eq!((r.status, r.code()), (400, "invalid_idempotency_key"));
    let r = app
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            None,
            Some(json!({"email": "nope", "payment": {"method": "pay_at_pickup"}})),
            &[],
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_email"));
    let r = app
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            None,
            Some(json!({"email": "a@b.co", "payment": {"method": "bitcoin"}})),
            &[],
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "unsupported_payment_method"));
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 0, "nothing half-written");
    assert_eq!(app.level(&sku, &store).await, (10, 0, 10, 0));

    // A cart holds at most 100 lines.
    let big_cart = app.post("/store/carts", json!({})).await.expect(201)["cart"]["id"].as_str().unwrap().to_owned();
    let mut variants = Vec::new();
    for i in 0..101 {
        variants.push(json!({"sku": format!("MANY-{i}"), "prices": [{"currency": "KRW", "amount_minor": 100}]}));
    }
    let r = app
        .admin_post(
            "/admin/products",
            json!({"handle": "many", "title_ko": "많음", "title_en": "Many", "category": "c", "variants": variants}),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"), "at most 100 variants");
    variants.truncate(100);
    app.admin_post(
        "/admin/products",
        json!({"handle": "many", "title_ko": "많음", "title_en": "Many", "category": "c", "variants": variants}),
    )
    .await
    .expect(201);
    for i in 0..100 {
        app.post(&format!("/store/carts/{big_cart}/lines"), json!({"sku": format!("MANY-{i}"), "quantity": 1}))
            .await
            .expect(200);
    }
    let r = app.post(&format!("/store/carts/{big_cart}/lines"), json!({"sku": sku, "quantity": 1})).await;
    assert_eq!((r.status, r.code()), (400, "cart_full"));

    // Errors never leak internals.
    let r = app.admin_get("/admin/orders/ord_%27%3B%20DROP%20TABLE%20orders").await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    assert!(!r.body.to_string().to_lowercase().contains("sql"));
    app.assert_no_drift().await;
}
both!(bad_input_is_refused_clearly);

async fn health_and_openapi(b: Backend) {
    let app = spawn_app(b).await;
    assert_eq!(app.get("/health").await.expect(200)["status"], "ok");
    let spec = app.get("/openapi.json").await.expect(200);
    assert_eq!(spec["openapi"], "3.1.0");
    for p in [
        "/store/carts/{id}/checkout",
        "/admin/inventory/adjustments",
        "/admin/orders/{id}/ready-for-pickup",
        "/admin/returns",
    ] {
        assert!(spec["paths"][p].is_object(), "{p} documented");
    }
    app.assert_no_drift().await;
}
both!(health_and_openapi);
