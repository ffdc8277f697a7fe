//! Who may read what on the storefront: an order answers to its signed-in owner or to the access token its
//! checkout returned, never to its id alone; a signed-in shopper's cart answers only to their session; a
//! cart never leads to its order.

use crate::both;
use crate::helpers::*;
use serde_json::json;

async fn shopper(app: &TestApp, email: &str) -> (String, String) {
    let s = app.signup(json!({"email": email, "password": "access password", "name": "접근 고객"})).await.expect(201);
    (s["customer"]["id"].as_str().unwrap().to_owned(), s["token"].as_str().unwrap().to_owned())
}

both!(guest_orders_need_their_token);
async fn guest_orders_need_their_token(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("ACC-1", 5000).await;
    app.stock_in(&sku, &store, 5).await;
    let cart = app.pickup_cart(&sku, 1, &store).await;
    let placed = app.checkout(&cart, "acc-1").await.expect(201);
    let (id, token) = (
        placed["order"]["id"].as_str().unwrap().to_owned(),
        placed["order"]["access_token"].as_str().unwrap().to_owned(),
    );
    assert_eq!(token.len(), 32, "128 bits, hex");
    let again = app.checkout(&cart, "acc-1").await.expect(201);
    assert_eq!(again["order"]["access_token"], token.as_str(), "a retried checkout gets the same token");
    app.admin_post(&format!("/admin/orders/{id}/ready-for-pickup"), json!({})).await.expect(200);

    // The id alone, a wrong token, a malformed one, another shopper's session: all "no such order".
    let path = format!("/store/orders/{id}");
    let mut wrong = token.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    let (_, other) = shopper(&app, "other@example.com").await;
    for (what, r) in [
        ("id alone", app.get(&path).await),
        ("wrong token", app.req("GET", &path, None, None, &[("X-Order-Token", &wrong)]).await),
        ("short token", app.get(&format!("{path}?token={}", &token[..31])).await),
        ("another shopper", app.req("GET", &path, Some(&other), None, &[]).await),
    ] {
        assert_eq!((r.status, r.code()), (404, "not_found"), "{what}: {:?}", r.body);
        assert!(!r.body.to_string().contains("pickup"), "{what}");
    }
    // The token, in the header or the query, shows the order with its pickup code.
    let by_header = app.req("GET", &path, None, None, &[("X-Order-Token", &token)]).await.expect(200);
    assert_eq!(by_header["order"]["pickup"]["code"].as_str().map(str::len), Some(6));
    assert!(by_header["order"].get("access_token").is_none(), "the token is only in the checkout's answer");
    let by_query = app.get(&format!("{path}?token={token}")).await.expect(200);
    assert_eq!(by_query["order"]["pickup"]["code"], by_header["order"]["pickup"]["code"]);
    // Staff read it through the admin API, without the code.
    let staff = app.admin_get(&format!("/admin/orders/{id}")).await.expect(200);
    assert!(staff["order"]["pickup"].get("code").is_none(), "{staff}");
    // The cart does not lead to the order.
    let c = app.get(&format!("/store/carts/{cart}")).await.expect(200);
    assert_eq!(c["cart"]["status"], "completed");
    assert!(!c.to_string().contains(&id), "the cart view names no order: {c}");
    let r = app.post(&format!("/store/carts/{cart}/lines"), json!({"sku": sku, "quantity": 1})).await;
    assert_eq!(r.code(), "cart_completed");
    assert!(!r.body.to_string().contains(&id), "nor does its error: {:?}", r.body);
    let r = app
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            None,
            Some(json!({"email": "x@example.com", "payment": {"method": "pay_at_pickup"}})),
            &[],
        )
        .await;
    assert_eq!(r.code(), "cart_completed");
    assert!(!r.body.to_string().contains(&id), "{:?}", r.body);
}

both!(signed_in_orders_and_carts_answer_to_their_owner);
async fn signed_in_orders_and_carts_answer_to_their_owner(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("ACC-2", 5000).await;
    app.stock_in(&sku, &store, 5).await;
    let (_, minji) = shopper(&app, "minji@example.com").await;
    let (_, other) = shopper(&app, "mallory@example.com").await;
    let cart = app.req("POST", "/store/carts", Some(&minji), Some(json!({})), &[]).await.expect(201)["cart"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let line = json!({"sku": sku, "quantity": 1});
    let pickup = json!({"type": "pickup", "location_id": store});
    let delivery = json!({"type": "delivery", "address": {"recipient": "도둑", "phone": "010-0000-0000",
        "line1": "어딘가 1", "city": "Seoul", "postal_code": "00000", "country": "KR"}});
    // Neither a stranger nor another shopper can read, fill, redirect or check out Minji's cart.
    for who in [None, Some(other.as_str())] {
        let get = app.req("GET", &format!("/store/carts/{cart}"), who, None, &[]).await;
        let add = app.req("POST", &format!("/store/carts/{cart}/lines"), who, Some(line.clone()), &[]).await;
        let set =
            app.req("PUT", &format!("/store/carts/{cart}/lines/{sku}"), who, Some(json!({"quantity": 3})), &[]).await;
        let ful = app.req("PUT", &format!("/store/carts/{cart}/fulfillment"), who, Some(delivery.clone()), &[]).await;
        let pay = app
            .req(
                "POST",
                &format!("/store/carts/{cart}/checkout"),
                who,
                Some(json!({"email": "x@example.com", "payment": {"method": "pay_at_pickup"}})),
                &[],
            )
            .await;
        for (what, r) in [("get", get), ("add", add), ("set", set), ("fulfillment", ful), ("checkout", pay)] {
            assert_eq!((r.status, r.code()), (404, "not_found"), "{what} by {who:?}: {:?}", r.body);
        }
    }
    // Minji can.
    app.req("POST", &format!("/store/carts/{cart}/lines"), Some(&minji), Some(line), &[]).await.expect(200);
    let c =
        app.req("PUT", &format!("/store/carts/{cart}/fulfillment"), Some(&minji), Some(pickup), &[]).await.expect(200);
    assert_eq!(c["cart"]["lines"][0]["quantity"], 1, "nobody else's change landed");
    let o = app
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            Some(&minji),
            Some(json!({"payment": {"method": "pay_at_pickup"}})),
            &[],
        )
        .await
        .expect(201);
    let id = o["order"]["id"].as_str().unwrap();
    // Her session reads her order; another shopper's does not.
    app.req("GET", &format!("/store/orders/{id}"), Some(&minji), None, &[]).await.expect(200);
    let r = app.req("GET", &format!("/store/orders/{id}"), Some(&other), None, &[]).await;
    assert_eq!(r.status, 404);
}

/// Stock held for orders nobody has paid is bounded: `manual` is for staff only, orders paid at pickup are
/// capped in units and in number per shopper, and a staff-taken `manual` delivery releases its stock if it
/// has not shipped in time.
async fn unpaid_orders_cannot_hoard_stock(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let wh = app.location("WH", "warehouse", false).await;
    let sku = app.product("HOARD-1", 1000).await;
    app.stock_in(&sku, &store, 100).await;
    app.stock_in(&sku, &wh, 100).await;
    let pay = |method: &str| json!({"email": "hoarder@example.com", "payment": {"method": method}});
    let checkout = |cart: String, key: Option<&'static str>, body: serde_json::Value| {
        let app = &app;
        async move { app.req("POST", &format!("/store/carts/{cart}/checkout"), key, Some(body), &[]).await }
    };
    // `manual` from a shopper: refused, with the methods they can use.
    let cart = app.pickup_cart(&sku, 1, &store).await;
    let r = checkout(cart.clone(), None, pay("manual")).await;
    assert_eq!((r.status, r.code()), (400, "unsupported_payment_method"), "{:?}", r.body);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("pay_at_pickup"), "{:?}", r.body);
    // Too many units for an order paid at pickup.
    let big = app.pickup_cart(&sku, 21, &store).await;
    let r = checkout(big, None, pay("pay_at_pickup")).await;
    assert_eq!((r.status, r.code()), (400, "unpaid_order_too_large"), "{:?}", r.body);
    assert!(r.body["error"]["message_ko"].is_string() || r.body["error"]["message"].is_string());
    // Three open unpaid orders per shopper; the fourth waits until one is collected or cancelled.
    let mut ids = Vec::new();
    for i in 0..3 {
        let c = if i == 0 { cart.clone() } else { app.pickup_cart(&sku, 20, &store).await };
        ids.push(checkout(c, None, pay("pay_at_pickup")).await.expect(201)["order"]["id"].as_str().unwrap().to_owned());
    }
    let fourth = app.pickup_cart(&sku, 1, &store).await;
    let r = checkout(fourth.clone(), None, pay("pay_at_pickup")).await;
    assert_eq!((r.status, r.code()), (409, "too_many_unpaid_orders"), "{:?}", r.body);
    let r =
        checkout(fourth.clone(), None, json!({"email": "HOARDER@example.com", "payment": {"method": "pay_at_pickup"}}))
            .await;
    assert_eq!(r.code(), "too_many_unpaid_orders", "the same email in other case");
    app.admin_post(&format!("/admin/orders/{}/cancel", ids[0]), json!({"reason": "changed mind"})).await.expect(200);
    checkout(fourth, None, pay("pay_at_pickup")).await.expect(201);
    assert_eq!(app.level(&sku, &store).await.1, 20 + 20 + 1, "reserved: only what the caps allowed");

    // Staff may take a `manual` delivery order (an invoice); it holds stock until shipped, or until its
    // window passes.
    let mk_delivery = || async {
        let c = app.post("/store/carts", json!({})).await.expect(201)["cart"]["id"].as_str().unwrap().to_owned();
        app.post(&format!("/store/carts/{c}/lines"), json!({"sku": sku, "quantity": 30})).await.expect(200);
        app.put(
            &format!("/store/carts/{c}/fulfillment"),
            json!({"type": "delivery", "address": {"recipient": "김민지", "phone": "010-1234-5678", "line1": "강남대로 1",
                   "city": "Seoul", "postal_code": "06232", "country": "KR"}}),
        )
        .await
        .expect(200);
        c
    };
    let invoice = checkout(mk_delivery().await, Some(ADMIN_KEY), pay("manual")).await.expect(201);
    let id = invoice["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(invoice["order"]["payment"]["status"], "pending");
    assert_eq!(app.level(&sku, &wh).await.1, 30, "reserved at the warehouse");
    let shipped = checkout(mk_delivery().await, Some(ADMIN_KEY), pay("manual")).await.expect(201);
    let shipped = shipped["order"]["id"].as_str().unwrap().to_owned();
    app.admin_post(&format!("/admin/orders/{shipped}/ship"), json!({})).await.expect(200);
    let r = app.admin_post("/admin/maintenance/expire-pickups", json!({})).await.expect(200);
    assert!(!r["expired"].as_array().unwrap().iter().any(|x| x == id.as_str()), "not yet due");
    app.clock.advance_ms(7 * 24 * 3600 * 1000 + 1);
    let r = app.admin_post("/admin/maintenance/expire-pickups", json!({})).await.expect(200);
    let expired: Vec<&str> = r["expired"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(expired.contains(&id.as_str()) && !expired.contains(&shipped.as_str()), "{expired:?}");
    assert_eq!(app.admin_get(&format!("/admin/orders/{id}")).await.expect(200)["order"]["status"], "expired");
    assert_eq!(app.level(&sku, &wh).await.1, 0, "the unpaid invoice's stock is free again");
    app.assert_no_drift().await;
}
both!(unpaid_orders_cannot_hoard_stock);

/// What shoppers leave behind is not kept for ever: idle open carts, anonymous browsing events and, later,
/// every shopper event are purged in bounded batches, and a deactivated webhook's pending deliveries go.
async fn leftovers_are_purged(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("KEEP-1", 1000).await;
    app.stock_in(&sku, &store, 5).await;
    let idle = app.pickup_cart(&sku, 1, &store).await;
    let ordered = app.pickup_cart(&sku, 1, &store).await;
    app.checkout(&ordered, "keep-1").await.expect(201);
    let (_, token) = shopper(&app, "keeper@example.com").await;
    let pid = app.get("/store/products/keep-1").await.expect(200)["product"]["id"].as_str().unwrap().to_owned();
    let events = json!({"session_id": "visitor-0001-abcdef", "events": [{"type": "view", "product_id": pid}]});
    app.post("/store/events", events.clone()).await.expect(202);
    app.req("POST", "/store/events", Some(&token), Some(events), &[]).await.expect(202);
    let engine = app.running.as_ref().unwrap().engine.clone();
    let sub = app
        .admin_post("/admin/webhooks", json!({"url": "https://hooks.example.com/x", "event_types": ["order.*"]}))
        .await
        .expect(201);
    let sub_id = sub["webhook"]["id"].as_str().unwrap().to_owned();
    let db = engine.db().clone();
    let s2 = sub_id.clone();
    db.write(move |tx| -> Result<u64, store::DbError> {
        tx.exec(
            "INSERT INTO webhook_deliveries (id, subscription_id, event_seq, event_id, status, attempts, next_attempt_at, locked_until, created_at, updated_at) \
             VALUES ('dlv_test', ?, 1, 'evt_test', 'pending', 0, 0, 0, 0, 0)",
            store::params![&s2],
        )
    })
    .await
    .unwrap();
    app.req("DELETE", &format!("/admin/webhooks/{sub_id}"), Some(ADMIN_KEY), None, &[]).await;
    let views = "SELECT COUNT(*) FROM interactions WHERE kind = 'view'";
    let before = app.count(views).await;
    assert_eq!(before, 2);

    engine.purge_expired().await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_deliveries WHERE id = 'dlv_test'").await, 0, "never to be sent");
    assert_eq!(app.count("SELECT COUNT(*) FROM carts").await, 2, "nothing else is due yet");
    assert_eq!(app.count(views).await, before);

    app.clock.advance_ms(31 * 24 * 3600 * 1000);
    engine.purge_expired().await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM carts WHERE status = 'open'").await, 0, "the idle cart is gone");
    assert_eq!(app.count("SELECT COUNT(*) FROM carts WHERE status = 'completed'").await, 1, "an ordered cart stays");
    assert_eq!(app.get(&format!("/store/carts/{idle}")).await.status, 404);

    app.clock.advance_ms(60 * 24 * 3600 * 1000);
    engine.purge_expired().await.unwrap();
    assert_eq!(app.count(views).await, before / 2, "anonymous browsing goes after 90 days, a member's stays");
    app.clock.advance_ms(310 * 24 * 3600 * 1000);
    engine.purge_expired().await.unwrap();
    assert_eq!(app.count(views).await, 0, "every event goes after 400 days");
    app.assert_no_drift().await;
}
both!(leftovers_are_purged);

/// Credentials end: API keys expire and can be listed and revoked over HTTP (never the last admin key);
/// a shopper logs out of one session or of all; sessions end by themselves after 14 days.
async fn credentials_can_be_revoked(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let key = |days: Option<i64>| {
        let mut body = json!({"role": "staff", "location_id": store, "label": "till"});
        if let Some(d) = days {
            body["expires_in_days"] = json!(d);
        }
        body
    };
    let r = app.admin_post("/admin/api-keys", key(Some(0))).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"));
    let short = app.admin_post("/admin/api-keys", key(Some(1))).await.expect(201)["api_key"].clone();
    let long = app.admin_post("/admin/api-keys", key(None)).await.expect(201)["api_key"].clone();
    assert!(long["expires_at"].is_string(), "keys expire by default: {long}");
    let (short_key, long_key) = (short["key"].as_str().unwrap(), long["key"].as_str().unwrap());
    app.req("GET", "/admin/orders", Some(short_key), None, &[]).await.expect(200);
    let listed = app.admin_get("/admin/api-keys").await.expect(200);
    assert!(listed["data"].as_array().unwrap().iter().all(|k| k.get("key").is_none()), "never the secrets");
    assert!(listed["data"].as_array().unwrap().iter().any(|k| k["id"] == short["id"] && k["expires_at"].is_string()));
    // Revoked: fails at once.
    let r = app
        .req("DELETE", &format!("/admin/api-keys/{}", long["id"].as_str().unwrap()), Some(ADMIN_KEY), None, &[])
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(app.req("GET", "/admin/orders", Some(long_key), None, &[]).await.status, 401);
    // Expired: fails by itself.
    app.clock.advance_ms(24 * 3600 * 1000 + 1);
    assert_eq!(app.req("GET", "/admin/orders", Some(short_key), None, &[]).await.status, 401);
    // The last working admin key stays.
    let admin_id = listed["data"].as_array().unwrap().iter().find(|k| k["role"] == "admin").unwrap()["id"].clone();
    let r =
        app.req("DELETE", &format!("/admin/api-keys/{}", admin_id.as_str().unwrap()), Some(ADMIN_KEY), None, &[]).await;
    assert_eq!((r.status, r.code()), (409, "last_admin_key"));
    let r = app
        .req("DELETE", &format!("/admin/api-keys/{}", long["id"].as_str().unwrap()), Some(long_key), None, &[])
        .await;
    assert_eq!(r.status, 401, "a revoked key cannot act");

    // Shoppers: logout ends this session; `everywhere` ends them all.
    let (_, phone) = shopper(&app, "logout@example.com").await;
    let laptop = app
        .post("/store/auth/login", json!({"email": "logout@example.com", "password": "access password"}))
        .await
        .expect(200)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let tablet = app
        .post("/store/auth/login", json!({"email": "logout@example.com", "password": "access password"}))
        .await
        .expect(200)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = |t: String| {
        let app = &app;
        async move { app.req("GET", "/store/customers/me", Some(&t), None, &[]).await.status }
    };
    assert_eq!(app.req("POST", "/store/auth/logout", Some(&phone), None, &[]).await.status, 204);
    assert_eq!((me(phone.clone()).await, me(laptop.clone()).await), (401, 200));
    assert_eq!(app.req("POST", "/store/auth/logout", None, None, &[]).await.status, 401);
    let r = app.req("POST", "/store/auth/logout", Some(&laptop), Some(json!({"everywhere": true})), &[]).await;
    assert_eq!(r.status, 204);
    assert_eq!((me(laptop).await, me(tablet).await), (401, 401));
    // Sessions end by themselves after 14 days.
    let fresh = app
        .post("/store/auth/login", json!({"email": "logout@example.com", "password": "access password"}))
        .await
        .expect(200)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance_ms(13 * 24 * 3600 * 1000);
    assert_eq!(me(fresh.clone()).await, 200);
    app.clock.advance_ms(24 * 3600 * 1000 + 1);
    assert_eq!(me(fresh).await, 401);
}
both!(credentials_can_be_revoked);

/// Staff cannot mint stored value without bounds: a top-up or gift card above the per-call cap is refused,
/// a staff key's rolling day is capped, admins have ten times the room per call, and every such action is
/// in the audit log.
async fn staff_money_is_capped_per_call_and_per_key(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let staff = app
        .admin_post("/admin/api-keys", json!({"role": "staff", "location_id": store, "label": "till"}))
        .await
        .expect(201)["api_key"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (cid, _) = shopper(&app, "capped@example.com").await;
    let top_up = |key: &str, amount: i64, idem: String| {
        let (app, key) = (&app, key.to_owned());
        let path = format!("/admin/customers/{cid}/wallet/top-ups");
        async move {
            app.req(
                "POST",
                &path,
                Some(&key),
                Some(json!({"amount_minor": amount, "currency": "KRW"})),
                &[("Idempotency-Key", &idem)],
            )
            .await
        }
    };
    let r = top_up(&staff, 1_000_000_000_000, "big".into()).await;
    assert_eq!((r.status, r.code()), (400, "money_limit_reached"), "{:?}", r.body);
    assert!(r.body["error"]["message_ko"].is_string());
    for i in 0..5 {
        top_up(&staff, 2_000_000, format!("day-{i}")).await.expect(201);
    }
    let r = top_up(&staff, 1, "over".into()).await;
    assert_eq!(r.code(), "money_limit_reached", "₩10,000,000 a day per staff key");
    let r = app
        .req(
            "POST",
            "/admin/gift-cards",
            Some(&staff),
            Some(json!({"amount_minor": 10_000, "currency": "KRW"})),
            &[("Idempotency-Key", "gc-1")],
        )
        .await;
    assert_eq!(r.code(), "money_limit_reached", "gift cards count in the same day");
    // An admin has ten times the room per call, and no day cap; a new day frees the staff key.
    top_up(ADMIN_KEY, 15_000_000, "admin-1".into()).await.expect(201);
    let r = top_up(ADMIN_KEY, 20_000_001, "admin-2".into()).await;
    assert_eq!(r.code(), "money_limit_reached");
    app.clock.advance_ms(24 * 3600 * 1000 + 1);
    top_up(&staff, 2_000_000, "next-day".into()).await.expect(201);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'wallet.topped_up'").await,
        7,
        "every top-up is audited with its key"
    );
}
both!(staff_money_is_capped_per_call_and_per_key);
