//! One customer identity across channels: sign-up, login, sessions, staff lookup, orders from every channel.

use crate::both;
use crate::helpers::*;
use serde_json::json;

async fn one_identity_across_channels(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("C-1", 3000).await;
    app.stock_in(&sku, &store, 10).await;

    let s = app.post("/store/customers", json!({"email": "Minji.Kim@Example.com", "password": "correct horse", "name": "김민지", "phone": "010-2345-6789"})).await.expect(201);
    let token = s["token"].as_str().unwrap().to_owned();
    let cid = s["customer"]["id"].as_str().unwrap().to_owned();
    assert_eq!(s["customer"]["email"], "minji.kim@example.com");
    assert_eq!(s["customer"]["member_code"].as_str().unwrap().len(), 10);
    let r = app
        .post("/store/customers", json!({"email": "minji.kim@example.com", "password": "another one", "name": "x"}))
        .await;
    assert_eq!((r.status, r.code()), (409, "email_taken"));
    let r = app.post("/store/customers", json!({"email": "short@example.com", "password": "short", "name": "x"})).await;
    assert_eq!((r.status, r.code()), (400, "weak_password"));
    let r =
        app.post("/store/auth/login", json!({"email": "minji.kim@example.com", "password": "wrong password"})).await;
    assert_eq!((r.status, r.code()), (401, "invalid_credentials"));
    let r = app.post("/store/auth/login", json!({"email": "nobody@example.com", "password": "whatever1"})).await;
    assert_eq!((r.status, r.code()), (401, "invalid_credentials"));
    let login = app
        .post("/store/auth/login", json!({"email": "MINJI.KIM@example.com", "password": "correct horse"}))
        .await
        .expect(200);
    assert_eq!(login["customer"]["id"], cid.as_str());
    let me = app.req("GET", "/store/customers/me", Some(&token), None, &[]).await.expect(200);
    assert_eq!(me["customer"]["name"], "김민지");

    // Web order as the signed-in customer.
    let cart = app.req("POST", "/store/carts", Some(&token), Some(json!({})), &[]).await.expect(201)["cart"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.req("POST", &format!("/store/carts/{cart}/lines"), Some(&token), Some(json!({"sku": sku, "quantity": 1})), &[])
        .await
        .expect(200);
    app.req(
        "PUT",
        &format!("/store/carts/{cart}/fulfillment"),
        Some(&token),
        Some(json!({"type": "pickup", "location_id": store})),
        &[],
    )
    .await
    .expect(200);
    let o = app
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            Some(&token),
            Some(json!({"payment": {"method": "pay_at_pickup"}})),
            &[],
        )
        .await
        .expect(201);
    assert_eq!(o["order"]["customer_id"], cid.as_str());

    // At the counter, staff find her by phone in any formatting and ring up a sale for her.
    let found = app.admin_get("/admin/customers?phone=%2B82%2010-2345-6789").await.expect(200);
    assert_eq!(found["data"].as_array().unwrap().len(), 0, "+82 form is a different number string");
    let found = app.admin_get("/admin/customers?phone=01023456789").await.expect(200);
    assert_eq!(found["data"][0]["id"], cid.as_str());
    let code = found["data"][0]["member_code"].as_str().unwrap();
    let by_code = app.admin_get(&format!("/admin/customers?member_code={code}")).await.expect(200);
    assert_eq!(by_code["data"][0]["id"], cid.as_str());
    // Without a filter, staff page through the customers (or those whose name, email or phone starts so).
    let all = app.admin_get("/admin/customers?limit=100").await.expect(200);
    assert!(all["data"].as_array().unwrap().iter().any(|c| c["id"] == cid.as_str()));
    assert_eq!(all["has_more"], false);
    let by_prefix = app.admin_get("/admin/customers?q=010-2345").await.expect(200);
    assert_eq!(by_prefix["data"].as_array().unwrap().len(), 0, "phones are stored as digits");
    let by_prefix = app.admin_get("/admin/customers?q=0102345").await.expect(200);
    assert_eq!(by_prefix["data"][0]["id"], cid.as_str());
    let r = app.admin_get("/admin/customers?q=%25").await.expect(200);
    assert_eq!(r["data"].as_array().unwrap().len(), 0, "`%` matches itself, not everything");
    app.admin_post(
        "/admin/pos/sales",
        json!({"location_id": store, "customer_id": cid, "lines": [{"sku": sku, "quantity": 1}]}),
    )
    .await
    .expect(201);

    let mine = app.req("GET", "/store/customers/me/orders", Some(&token), None, &[]).await.expect(200);
    let channels: Vec<&str> = mine["data"].as_array().unwrap().iter().map(|o| o["channel"].as_str().unwrap()).collect();
    assert_eq!(channels.len(), 2);
    assert!(channels.contains(&"web") && channels.contains(&"pos"));

    // Sessions end after 30 days and are purged with old idempotency keys.
    app.clock.advance_ms(31 * 24 * 3600 * 1000);
    let r = app.req("GET", "/store/customers/me", Some(&token), None, &[]).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    let purged = app.running.as_ref().unwrap().engine.purge_expired().await.unwrap();
    assert!(purged >= 2, "two sessions and the checkout's idempotency key are gone ({purged})");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);

    // Ten wrong passwords lock the account's logins for 15 minutes, even with the right one.
    for _ in 0..10 {
        let r =
            app.post("/store/auth/login", json!({"email": "minji.kim@example.com", "password": "guess guess"})).await;
        assert_eq!(r.status, 401);
    }
    let r = app.post("/store/auth/login", json!({"email": "minji.kim@example.com", "password": "correct horse"})).await;
    assert_eq!((r.status, r.code()), (429, "too_many_attempts"));
    assert!(r.body["error"]["message_ko"].as_str().is_some());
    app.clock.advance_ms(16 * 60 * 1000);
    app.post("/store/auth/login", json!({"email": "minji.kim@example.com", "password": "correct horse"}))
        .await
        .expect(200);
    app.assert_no_drift().await;
}
both!(one_identity_across_channels);
