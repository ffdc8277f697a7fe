//! One customer identity across channels: sign-up, login, sessions, staff lookup, orders from every channel.

use crate::both;
use crate::helpers::*;
use serde_json::json;

/// Sign-up never tells whether an address has an account: the answer is the same; the owner of a taken
/// address gets a note instead of a link. The account exists only once the link is opened, a link works
/// once, and one address gets at most five messages a day however often someone signs it up.
async fn signup_does_not_tell_whether_an_address_is_taken(b: Backend) {
    let app = spawn_app(b).await;
    app.signup(json!({"email": "taken@example.com", "password": "first password", "name": "첫 고객"}))
        .await
        .expect(201);
    let taken = app
        .post("/store/customers", json!({"email": "Taken@Example.com", "password": "another one", "name": "x"}))
        .await
        .expect(202);
    let free = app
        .post("/store/customers", json!({"email": "free@example.com", "password": "another one", "name": "x"}))
        .await
        .expect(202);
    assert_eq!(taken["status"], free["status"]);
    assert_eq!(taken["expires_in_s"], free["expires_in_s"]);
    assert_eq!(
        taken.as_object().unwrap().keys().collect::<Vec<_>>(),
        free.as_object().unwrap().keys().collect::<Vec<_>>()
    );
    let note = app.admin_get("/admin/mail?to=taken%40example.com&status=waiting").await.expect(200);
    let kinds: Vec<_> = note["data"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["signup_existing"], "the owner is told, no second link: {note}");
    assert!(note["data"][0]["body"].as_str().unwrap().contains("/account/login"));
    let r = app.post("/store/auth/login", json!({"email": "taken@example.com", "password": "another one"})).await;
    assert_eq!(r.status, 401, "the first account keeps its password");

    // Not an account until the link is opened.
    let r = app.post("/store/auth/login", json!({"email": "free@example.com", "password": "another one"})).await;
    assert_eq!(r.status, 401);
    let link = app.signup_token("free@example.com").await;
    assert!(link.starts_with("bl_signup_") && link.len() > 40, "{link}");
    let mail = app.admin_get("/admin/mail?to=free%40example.com").await.expect(200);
    assert!(mail["data"][0]["body"].as_str().unwrap().contains("http://127.0.0.1:"), "links start at the public URL");
    // A request for the same address again: two links, the first one opened wins, the other stops.
    app.post("/store/customers", json!({"email": "free@example.com", "password": "third password", "name": "y"}))
        .await
        .expect(202);
    let second = app.signup_token("free@example.com").await;
    assert_ne!(second, link);
    let v = app.post("/store/customers/verify", json!({"token": link})).await.expect(201);
    assert_eq!(v["customer"]["email"], "free@example.com");
    for t in [&link, &second] {
        let r = app.post("/store/customers/verify", json!({"token": t})).await;
        assert_eq!((r.status, r.code()), (400, "signup_link_invalid"), "{:?}", r.body);
        assert!(r.body["error"]["message_ko"].as_str().unwrap().contains("다시 가입"));
    }
    let waiting = app.admin_get("/admin/mail?to=free%40example.com&status=waiting").await.expect(200);
    assert_eq!(waiting["data"].as_array().unwrap().len(), 0, "the other link's mail is not sent: {waiting}");
    app.post("/store/auth/login", json!({"email": "free@example.com", "password": "another one"})).await.expect(200);
    let r = app.post("/store/customers/verify", json!({"token": "bl_signup_forged"})).await;
    assert_eq!((r.status, r.code()), (400, "signup_link_invalid"));

    // At most five messages a day to one address, however often it is signed up (no mail bombing).
    for _ in 0..8 {
        app.post("/store/customers", json!({"email": "bomb@example.com", "password": "bomb password", "name": "b"}))
            .await
            .expect(202);
    }
    let all = app.admin_get("/admin/mail?to=bomb%40example.com&limit=100").await.expect(200);
    assert_eq!(all["data"].as_array().unwrap().len(), 5);
    let r = app.get("/admin/mail").await;
    assert_eq!(r.status, 401, "the outbox is staff's");
}
crate::both!(signup_does_not_tell_whether_an_address_is_taken);

async fn one_identity_across_channels(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("C-1", 3000).await;
    app.stock_in(&sku, &store, 10).await;

    let s = app
        .signup(json!({"email": "Minji.Kim@Example.com", "password": "correct horse", "name": "김민지", "phone": "010-2345-6789"}))
        .await
        .expect(201);
    let token = s["token"].as_str().unwrap().to_owned();
    let cid = s["customer"]["id"].as_str().unwrap().to_owned();
    assert_eq!(s["customer"]["email"], "minji.kim@example.com");
    assert_eq!(s["customer"]["member_code"].as_str().unwrap().len(), 10);
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
