//! The wallet on the double-entry money ledger: top-ups at a counter, wallet payments held at checkout and
//! captured at handover, released on cancellation, refunded into the wallet for returns at any store, and
//! never overdrawn under concurrency.

use crate::both;
use crate::helpers::*;
use serde_json::{json, Value};

pub(crate) async fn customer(app: &TestApp, email: &str) -> (String, String) {
    let s = app.signup(json!({"email": email, "password": "wallet password", "name": "지갑 고객"})).await.expect(201);
    (s["customer"]["id"].as_str().unwrap().to_owned(), s["token"].as_str().unwrap().to_owned())
}

pub(crate) async fn wallet(app: &TestApp, token: &str) -> Value {
    let w = app.req("GET", "/store/wallet", Some(token), None, &[]).await.expect(200);
    w["data"].as_array().unwrap().iter().find(|a| a["currency"] == "KRW").cloned().unwrap_or(Value::Null)
}

pub(crate) async fn wallet_cart(app: &TestApp, token: &str, sku: &str, store: &str) -> String {
    let id = app.req("POST", "/store/carts", Some(token), Some(json!({})), &[]).await.expect(201)["cart"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.req("POST", &format!("/store/carts/{id}/lines"), Some(token), Some(json!({"sku": sku, "quantity": 1})), &[])
        .await
        .expect(200);
    app.req(
        "PUT",
        &format!("/store/carts/{id}/fulfillment"),
        Some(token),
        Some(json!({"type": "pickup", "location_id": store})),
        &[],
    )
    .await
    .expect(200);
    id
}

pub(crate) async fn pay(app: &TestApp, token: &str, cart: &str) -> Res {
    app.req(
        "POST",
        &format!("/store/carts/{cart}/checkout"),
        Some(token),
        Some(json!({"payment": {"method": "wallet"}})),
        &[("Idempotency-Key", cart)],
    )
    .await
}

async fn wallet_pays_pickup_and_refunds_a_return_elsewhere(b: Backend) {
    let app = spawn_app(b).await;
    let gangnam = app.location("GANGNAM", "store", true).await;
    let busan = app.location("SEOMYEON", "store", true).await;
    let sku = app.product("WAL-1", 30000).await;
    app.stock_in(&sku, &gangnam, 5).await;
    let (cid, token) = customer(&app, "wallet@example.com").await;

    // Top up 50,000 won at the Gangnam counter; a retried request is the same top-up.
    let top = json!({"amount_minor": 50000, "currency": "KRW", "location_id": gangnam});
    let t1 = app
        .req(
            "POST",
            &format!("/admin/customers/{cid}/wallet/top-ups"),
            Some(ADMIN_KEY),
            Some(top.clone()),
            &[("Idempotency-Key", "topup-1")],
        )
        .await
        .expect(201);
    let t2 = app
        .req(
            "POST",
            &format!("/admin/customers/{cid}/wallet/top-ups"),
            Some(ADMIN_KEY),
            Some(top),
            &[("Idempotency-Key", "topup-1")],
        )
        .await
        .expect(201);
    assert_eq!(t1["top_up"]["transfer_id"], t2["top_up"]["transfer_id"]);
    assert_eq!(wallet(&app, &token).await["balance_minor"], 50000);

    // Pay a click & collect order with the wallet: held at checkout, captured at the desk.
    let cart = wallet_cart(&app, &token, &sku, &gangnam).await;
    let order = pay(&app, &token, &cart).await.expect(201)["order"].clone();
    let oid = order["id"].as_str().unwrap().to_owned();
    assert_eq!(order["payment"], json!({"method": "wallet", "status": "authorized"}));
    let w = wallet(&app, &token).await;
    assert_eq!(
        (w["balance_minor"].as_i64(), w["held_minor"].as_i64(), w["available_minor"].as_i64()),
        (Some(50000), Some(30000), Some(20000))
    );

    // Not enough left for a second one: refused, and nothing is reserved or held for it.
    let cart2 = wallet_cart(&app, &token, &sku, &gangnam).await;
    let r = pay(&app, &token, &cart2).await;
    assert_eq!((r.status, r.code()), (409, "insufficient_funds"));
    assert!(r.body["error"]["message_ko"].as_str().unwrap().starts_with("잔액이 부족합니다."), "{}", r.body);
    assert_eq!(app.level(&sku, &gangnam).await, (5, 1, 4, 0));
    // A guest cannot pay by wallet.
    let guest = app.pickup_cart(&sku, 1, &gangnam).await;
    let r = app
        .req(
            "POST",
            &format!("/store/carts/{guest}/checkout"),
            None,
            Some(json!({"email": "g@example.com", "payment": {"method": "wallet"}})),
            &[],
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "customer_required"));

    let done = app.hand_over(&oid).await;
    assert_eq!(done["order"]["payment"]["status"], "paid");
    let w = wallet(&app, &token).await;
    assert_eq!((w["balance_minor"].as_i64(), w["held_minor"].as_i64()), (Some(20000), Some(0)));

    // Returned in Busan: the refund goes straight back into the wallet.
    let ret = app
        .admin_post(
            "/admin/returns",
            json!({"order_id": oid, "location_id": busan, "lines": [{"sku": sku, "quantity": 1}]}),
        )
        .await
        .expect(201);
    assert_eq!(ret["return"]["refund"]["method"], "wallet");
    assert_eq!(ret["return"]["refund"]["status"], "refunded");
    assert_eq!(wallet(&app, &token).await["balance_minor"], 50000);

    let st = app.req("GET", "/store/wallet/statement?currency=KRW", Some(&token), None, &[]).await.expect(200);
    let lines: Vec<(String, String, i64)> = st["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().to_owned(),
                l["direction"].as_str().unwrap().to_owned(),
                l["amount_minor"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            ("single".into(), "credit".into(), 50000),
            ("pending".into(), "debit".into(), 30000),
            ("post_pending".into(), "debit".into(), 30000),
            ("single".into(), "credit".into(), 30000),
        ]
    );
    let staff_view = app.admin_get(&format!("/admin/customers/{cid}/wallet")).await.expect(200);
    assert_eq!(staff_view["data"][0]["code"], format!("wallet:{cid}:KRW"));
    // Finance reads any account's statement, e.g. the Busan store's refunds.
    let st = app.admin_get(&format!("/admin/ledger/accounts/refunds:{busan}:KRW/statement")).await.expect(200);
    assert_eq!(
        (st["data"][0]["direction"].as_str(), st["data"][0]["amount_minor"].as_i64()),
        (Some("debit"), Some(30000))
    );
    app.assert_no_drift().await;
}
both!(wallet_pays_pickup_and_refunds_a_return_elsewhere);

async fn cancelling_releases_the_hold_and_pos_pays_at_once(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("HONGDAE", "store", true).await;
    let sku = app.product("WAL-2", 10000).await;
    app.stock_in(&sku, &store, 5).await;
    let (cid, token) = customer(&app, "hold@example.com").await;
    app.admin_post(
        &format!("/admin/customers/{cid}/wallet/top-ups"),
        json!({"amount_minor": 25000, "currency": "KRW"}),
    )
    .await
    .expect(201);

    let cart = wallet_cart(&app, &token, &sku, &store).await;
    let oid = pay(&app, &token, &cart).await.expect(201)["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(wallet(&app, &token).await["available_minor"], 15000);
    let c = app.admin_post(&format!("/admin/orders/{oid}/cancel"), json!({})).await.expect(200);
    assert_eq!(c["order"]["payment"]["status"], "voided");
    let w = wallet(&app, &token).await;
    assert_eq!((w["balance_minor"].as_i64(), w["held_minor"].as_i64()), (Some(25000), Some(0)));

    // Staff cannot charge a wallet by customer id alone: the shopper's code is the consent.
    let r = app.admin_post("/admin/pos/sales", json!({"location_id": store, "customer_id": cid, "lines": [{"sku": sku, "quantity": 2}], "payment": {"method": "wallet"}})).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    // With the shopper's QR code the wallet is charged at once.
    let code = || {
        let (app, token) = (&app, token.clone());
        async move {
            app.req("POST", "/store/wallet/payment-codes", Some(&token), None, &[]).await.expect(201)["payment_code"]
                ["code"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let sale = app.admin_post("/admin/pos/sales", json!({"location_id": store, "lines": [{"sku": sku, "quantity": 2}], "payment": {"method": "wallet_qr", "code": code().await}})).await.expect(201);
    assert_eq!(sale["order"]["payment"], json!({"method": "wallet", "status": "paid"}));
    assert_eq!(sale["order"]["customer_id"], cid.as_str());
    assert_eq!(wallet(&app, &token).await["balance_minor"], 5000);
    let r = app.admin_post("/admin/pos/sales", json!({"location_id": store, "lines": [{"sku": sku, "quantity": 1}], "payment": {"method": "wallet_qr", "code": code().await}})).await;
    assert_eq!((r.status, r.code()), (409, "insufficient_funds"));
    assert_eq!(app.level(&sku, &store).await, (3, 0, 3, 0), "the refused sale moved no stock");

    // A pickup whose window lapses releases the hold with the stock.
    app.admin_post(&format!("/admin/customers/{cid}/wallet/top-ups"), json!({"amount_minor": 5000, "currency": "KRW"}))
        .await
        .expect(201);
    let cart = wallet_cart(&app, &token, &sku, &store).await;
    let oid = pay(&app, &token, &cart).await.expect(201)["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(wallet(&app, &token).await["held_minor"], 10000);
    app.clock.advance_ms(2 * 3600 * 1000);
    let r = app.admin_post("/admin/maintenance/expire-pickups", json!({})).await.expect(200);
    assert_eq!(r["expired"], json!([oid]));
    let w = wallet(&app, &token).await;
    assert_eq!((w["balance_minor"].as_i64(), w["held_minor"].as_i64()), (Some(10000), Some(0)));
    assert_eq!(app.shopper_order(&oid).await.expect(200)["order"]["payment"]["status"], "voided");
    app.assert_no_drift().await;
}
both!(cancelling_releases_the_hold_and_pos_pays_at_once);

async fn concurrent_wallet_payments_never_overdraw(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("WAL-3", 1000).await;
    app.stock_in(&sku, &store, 100).await;
    let (cid, token) = customer(&app, "race@example.com").await;
    app.admin_post(
        &format!("/admin/customers/{cid}/wallet/top-ups"),
        json!({"amount_minor": 10000, "currency": "KRW"}),
    )
    .await
    .expect(201);
    let mut carts = Vec::new();
    for _ in 0..30 {
        carts.push(wallet_cart(&app, &token, &sku, &store).await);
    }
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for c in carts {
        let (app, token) = (app.clone(), token.clone());
        tasks.push(tokio::spawn(async move { pay(&app, &token, &c).await }));
    }
    let (mut paid, mut refused) = (0, 0);
    for t in tasks {
        let r = t.await.unwrap();
        match (r.status, r.code()) {
            (201, _) => paid += 1,
            (409, "insufficient_funds") => refused += 1,
            other => panic!("unexpected {other:?}: {}", r.body),
        }
    }
    assert_eq!((paid, refused), (10, 20), "exactly the balance is spent");
    let w = wallet(&app, &token).await;
    assert_eq!(
        (w["balance_minor"].as_i64(), w["held_minor"].as_i64(), w["available_minor"].as_i64()),
        (Some(10000), Some(10000), Some(0))
    );
    assert_eq!(app.level(&sku, &store).await, (100, 10, 90, 0), "refused payments reserved nothing");
    app.assert_no_drift().await;
}
both!(concurrent_wallet_payments_never_overdraw);

async fn qr_codes_pay_once_and_only_for_their_owner(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("QR-1", 4000).await;
    app.stock_in(&sku, &store, 20).await;
    let (a, token_a) = customer(&app, "qr-a@example.com").await;
    let (bb, token_b) = customer(&app, "qr-b@example.com").await;
    for c in [&a, &bb] {
        app.admin_post(
            &format!("/admin/customers/{c}/wallet/top-ups"),
            json!({"amount_minor": 10000, "currency": "KRW"}),
        )
        .await
        .expect(201);
    }
    let code_of = |token: String| {
        let app = &app;
        async move {
            let c = app.req("POST", "/store/wallet/payment-codes", Some(&token), None, &[]).await.expect(201);
            assert_eq!(c["payment_code"]["expires_in_ms"], 60000);
            c["payment_code"]["code"].as_str().unwrap().to_owned()
        }
    };
    let sale = |code: &str, customer: Option<&str>| {
        let mut body = json!({"location_id": store, "lines": [{"sku": sku, "quantity": 1}], "payment": {"method": "wallet_qr", "code": code}});
        if let Some(c) = customer {
            body["customer_id"] = json!(c);
        }
        body
    };

    // The shopper shows a code; the till scans it; the wallet is charged at once.
    let code = code_of(token_a.clone()).await;
    assert!(code.starts_with("BLP1") && code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    let o = app.admin_post("/admin/pos/sales", sale(&code, None)).await.expect(201);
    assert_eq!(o["order"]["customer_id"], a.as_str());
    assert_eq!(o["order"]["payment"], json!({"method": "wallet", "status": "paid"}));
    assert_eq!(wallet(&app, &token_a).await["balance_minor"], 6000);

    // Replayed: refused, nothing charged, no stock moved.
    let r = app.admin_post("/admin/pos/sales", sale(&code, None)).await;
    assert_eq!((r.status, r.code()), (409, "payment_code_used"));
    // Rotated: the older code no longer works.
    let old = code_of(token_a.clone()).await;
    let new = code_of(token_a.clone()).await;
    let r = app.admin_post("/admin/pos/sales", sale(&old, None)).await;
    assert_eq!((r.status, r.code()), (409, "payment_code_revoked"));
    // Another customer's sale cannot use A's code.
    let r = app.admin_post("/admin/pos/sales", sale(&new, Some(&bb))).await;
    assert_eq!((r.status, r.code()), (409, "payment_code_customer_mismatch"));
    // Guessed or altered codes fail on the signature, including a change in the padding bits of the last
    // character (which decodes to the same bytes).
    let flip = |code: &str, i: usize| {
        let mut c: Vec<char> = code.chars().collect();
        c[i] = if c[i] == 'A' { 'B' } else { 'A' };
        c.into_iter().collect::<String>()
    };
    let (mid, last) = (flip(&new, 20), flip(&new, new.len() - 1));
    for bad in [mid.as_str(), last.as_str(), "BLP1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "hello", ""] {
        let r = app.admin_post("/admin/pos/sales", sale(bad, None)).await;
        assert_eq!((r.status, r.code()), (400, "invalid_payment_code"), "{bad}");
    }
    // Expired after 60 seconds.
    app.clock.advance_ms(61_000);
    let r = app.admin_post("/admin/pos/sales", sale(&new, None)).await;
    assert_eq!((r.status, r.code()), (409, "payment_code_expired"));

    // A sale the wallet cannot cover leaves the code unused: after a top-up the same code pays.
    let code = code_of(token_b.clone()).await;
    let big = json!({"location_id": store, "lines": [{"sku": sku, "quantity": 3}], "payment": {"method": "wallet_qr", "code": code}});
    let r = app.admin_post("/admin/pos/sales", big.clone()).await;
    assert_eq!((r.status, r.code()), (409, "insufficient_funds"));
    app.admin_post(&format!("/admin/customers/{bb}/wallet/top-ups"), json!({"amount_minor": 5000, "currency": "KRW"}))
        .await
        .expect(201);
    app.admin_post("/admin/pos/sales", big).await.expect(201);
    assert_eq!(wallet(&app, &token_b).await["balance_minor"], 3000);
    assert_eq!(wallet(&app, &token_a).await["balance_minor"], 6000, "A paid exactly once");
    assert_eq!(app.level(&sku, &store).await, (16, 0, 16, 0));
    app.assert_no_drift().await;
}
both!(qr_codes_pay_once_and_only_for_their_owner);

/// A seeded random mix of money operations from many concurrent clients — top-ups (some sent twice with
/// one key), wallet checkouts, cancellations, handovers, POS wallet sales, returns with refunds, and lapsing
/// holds — must leave the ledger balanced: every currency sums to zero, no wallet below zero, no capture
/// above its hold, each retried top-up applied once, and the money matching what the orders say.
async fn random_money_workload_keeps_the_ledger_true(b: Backend) {
    let app = std::sync::Arc::new(spawn_app(b).await);
    let store = app.location("GANGNAM", "store", true).await;
    let other = app.location("SEOMYEON", "store", true).await;
    let sku = app.product("RND-1", 700).await;
    app.stock_in(&sku, &store, 100_000).await;
    let mut shoppers = Vec::new();
    for i in 0..6 {
        shoppers.push(customer(&app, &format!("rnd{i}@example.com")).await);
    }
    let topups = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::<String, i64>::new()));
    let mut tasks = Vec::new();
    for (w, (cid, token)) in shoppers.into_iter().enumerate() {
        let (app, store, other, sku, topups) = (app.clone(), store.clone(), other.clone(), sku.clone(), topups.clone());
        tasks.push(tokio::spawn(async move {
            let mut seed: u64 = 0x9e37_79b9_7f4a_7c15 ^ (w as u64 + 1);
            let mut next = move || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            };
            for step in 0..40 {
                match next() % 6 {
                    0 | 1 => {
                        let amount = (next() % 5 + 1) as i64 * 1000;
                        let key = format!("rnd-{w}-{step}");
                        let body = json!({"amount_minor": amount, "currency": "KRW"});
                        let path = format!("/admin/customers/{cid}/wallet/top-ups");
                        let first = app.req("POST", &path, Some(ADMIN_KEY), Some(body.clone()), &[("Idempotency-Key", &key)]).await.expect(201);
                        if next() % 2 == 0 {
                            let again = app.req("POST", &path, Some(ADMIN_KEY), Some(body), &[("Idempotency-Key", &key)]).await.expect(201);
                            assert_eq!(again["top_up"]["transfer_id"], first["top_up"]["transfer_id"]);
                        }
                        *topups.lock().unwrap().entry(cid.clone()).or_default() += amount;
                    }
                    2 | 3 => {
                        let cart = wallet_cart(&app, &token, &sku, &store).await;
                        let r = pay(&app, &token, &cart).await;
                        if r.status == 201 {
                            let oid = r.body["order"]["id"].as_str().unwrap().to_owned();
                            match next() % 3 {
                                0 => {
                                    app.admin_post(&format!("/admin/orders/{oid}/cancel"), json!({})).await.expect(200);
                                }
                                1 => {
                                    app.hand_over(&oid).await;
                                    if next() % 2 == 0 {
                                        app.admin_post("/admin/returns", json!({"order_id": oid, "location_id": other, "lines": [{"sku": sku, "quantity": 1}]})).await.expect(201);
                                    }
                                }
                                _ => {} // left to lapse
                            }
                        } else {
                            assert_eq!((r.status, r.code()), (409, "insufficient_funds"));
                        }
                    }
                    4 => {
                        let code = app.req("POST", "/store/wallet/payment-codes", Some(&token), None, &[]).await.expect(201)["payment_code"]["code"].as_str().unwrap().to_owned();
                        let r = app.admin_post("/admin/pos/sales", json!({"location_id": store, "lines": [{"sku": sku, "quantity": 1}], "payment": {"method": "wallet_qr", "code": code}})).await;
                        assert!(r.status == 201 || r.code() == "insufficient_funds", "{}", r.body);
                    }
                    _ => {
                        let w = wallet(&app, &token).await;
                        if !w.is_null() {
                            assert!(w["available_minor"].as_i64().unwrap() >= 0, "{w}");
                        }
                    }
                }
            }
            (cid, token)
        }));
    }
    let mut shoppers = Vec::new();
    for t in tasks {
        shoppers.push(t.await.unwrap());
    }
    // Lapse every remaining hold: pickups expire and release their authorizations.
    app.clock.advance_ms(2 * 3600 * 1000);
    app.admin_post("/admin/maintenance/expire-pickups", json!({})).await.expect(200);
    app.assert_no_drift().await;
    let topups = topups.lock().unwrap().clone();
    for (cid, token) in &shoppers {
        let w = wallet(&app, token).await;
        if w.is_null() {
            continue;
        }
        assert_eq!(w["held_minor"], 0, "no hold outlives its order");
        // Balance = top-ups − wallet orders still paid + refunds, read from the orders themselves.
        let orders = app.admin_get(&format!("/admin/orders?customer_id={cid}&limit=100")).await.expect(200);
        let mut spent = 0;
        for o in orders["data"].as_array().unwrap() {
            if o["payment"]["method"] == "wallet" && o["payment"]["status"] == "paid" {
                let total = o["total"]["amount_minor"].as_i64().unwrap();
                let returned: i64 = o["lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| {
                        l["returned_quantity"].as_i64().unwrap() * l["unit_price"]["amount_minor"].as_i64().unwrap()
                    })
                    .sum();
                spent += total - returned;
            }
        }
        assert_eq!(
            w["balance_minor"].as_i64().unwrap(),
            topups.get(cid).copied().unwrap_or(0) - spent,
            "wallet of {cid}"
        );
    }
}
both!(random_money_workload_keeps_the_ledger_true);

async fn merchant_presented_qr_is_confirmed_once(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("HONGDAE", "store", true).await;
    let sku = app.product("MQR-1", 6000).await;
    app.stock_in(&sku, &store, 10).await;
    let staff = app
        .admin_post("/admin/api-keys", json!({"role": "staff", "location_id": store, "label": "till"}))
        .await
        .expect(201)["api_key"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (cid, token) = customer(&app, "mqr@example.com").await;
    let (_, other) = customer(&app, "mqr2@example.com").await;
    app.admin_post(
        &format!("/admin/customers/{cid}/wallet/top-ups"),
        json!({"amount_minor": 10000, "currency": "KRW"}),
    )
    .await
    .expect(201);

    let req = |qty: i64| {
        let (app, staff, sku) = (&app, staff.clone(), sku.clone());
        async move {
            app.req(
                "POST",
                "/admin/pos/payment-requests",
                Some(&staff),
                Some(json!({"lines": [{"sku": sku, "quantity": qty}]})),
                &[],
            )
            .await
            .expect(201)["payment_request"]
                .clone()
        }
    };
    // Too expensive for the wallet: refused, the request stays open, nothing moved.
    let big = req(2).await;
    assert_eq!(big["amount"]["amount_minor"], 12000);
    let qr = big["qr"].as_str().unwrap().to_owned();
    assert!(qr.starts_with("BLPR1:"));
    let seen = app.req("GET", &format!("/store/payment-requests/{qr}"), Some(&token), None, &[]).await.expect(200);
    assert_eq!(seen["payment_request"]["location_name"]["en"], "HONGDAE Store");
    let r = app.req("POST", &format!("/store/payment-requests/{qr}/confirm"), Some(&token), None, &[]).await;
    assert_eq!((r.status, r.code()), (409, "insufficient_funds"));
    assert_eq!(app.level(&sku, &store).await, (10, 0, 10, 0));

    let one = req(1).await;
    let id = one["id"].as_str().unwrap().to_owned();
    let o =
        app.req("POST", &format!("/store/payment-requests/{id}/confirm"), Some(&token), None, &[]).await.expect(201);
    assert_eq!(o["order"]["payment"], json!({"method": "wallet", "status": "paid"}));
    assert_eq!(o["order"]["channel"], "pos");
    let again =
        app.req("POST", &format!("/store/payment-requests/{id}/confirm"), Some(&token), None, &[]).await.expect(201);
    assert_eq!(again["order"]["id"], o["order"]["id"], "a retried confirmation is the same sale");
    let r = app.req("POST", &format!("/store/payment-requests/{id}/confirm"), Some(&other), None, &[]).await;
    assert_eq!((r.status, r.code()), (409, "payment_request_paid"));
    let status =
        app.req("GET", &format!("/admin/pos/payment-requests/{id}"), Some(&staff), None, &[]).await.expect(200);
    assert_eq!(status["payment_request"]["status"], "completed");
    assert_eq!(status["payment_request"]["order_id"], o["order"]["id"]);
    assert_eq!(wallet(&app, &token).await["balance_minor"], 4000);
    assert_eq!(app.level(&sku, &store).await, (9, 0, 9, 0));

    let late = req(1).await;
    app.clock.advance_ms(6 * 60 * 1000);
    let r = app
        .req(
            "POST",
            &format!("/store/payment-requests/{}/confirm", late["id"].as_str().unwrap()),
            Some(&token),
            None,
            &[],
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "payment_request_expired"));
    let r = app
        .req("POST", &format!("/store/payment-requests/{}/confirm", late["id"].as_str().unwrap()), None, None, &[])
        .await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    app.assert_no_drift().await;
}
both!(merchant_presented_qr_is_confirmed_once);

async fn gift_cards_pay_on_the_web_and_at_the_counter(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let busan = app.location("SEOMYEON", "store", true).await;
    let sku = app.product("GC-ITEM", 30000).await;
    app.stock_in(&sku, &store, 10).await;
    let sale = json!({"amount_minor": 50000, "currency": "KRW", "location_id": store});
    let sold = app
        .req("POST", "/admin/gift-cards", Some(ADMIN_KEY), Some(sale.clone()), &[("Idempotency-Key", "card-1")])
        .await
        .expect(201);
    let code = sold["gift_card"]["code"].as_str().unwrap().to_owned();
    // A retried sale (say, the receipt printer jammed) returns the same card and takes the money once.
    let again = app
        .req("POST", "/admin/gift-cards", Some(ADMIN_KEY), Some(sale), &[("Idempotency-Key", "card-1")])
        .await
        .expect(201);
    assert_eq!(again["gift_card"]["code"], code.as_str());
    assert_eq!(again["gift_card"]["balance_minor"], 50000);
    assert!(code.starts_with("GC-") && code.len() == 22, "{code}");
    let plain: String = code.chars().filter(|c| *c != '-').collect();
    let bal = app.get(&format!("/store/gift-cards/{plain}")).await.expect(200);
    assert_eq!(bal["gift_card"]["balance_minor"], 50000, "the code works with or without dashes");
    assert!(bal["gift_card"].get("code").is_none(), "the code is never shown again");

    // A guest pays a pickup order by gift card: held, then captured at the desk.
    let cart = app.pickup_cart(&sku, 1, &store).await;
    let body = json!({"email": "gift@example.com", "payment": {"method": "gift_card", "code": code}});
    let o = app
        .req("POST", &format!("/store/carts/{cart}/checkout"), None, Some(body), &[("Idempotency-Key", "gc-1")])
        .await
        .expect(201);
    assert_eq!(o["order"]["payment"], json!({"method": "gift_card", "status": "authorized"}));
    assert_eq!(app.get(&format!("/store/gift-cards/{code}")).await.expect(200)["gift_card"]["available_minor"], 20000);
    let oid = o["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.hand_over(&oid).await["order"]["payment"]["status"], "paid");

    // At the counter the rest is not enough for another one; an unknown card charges nothing.
    let r = app.admin_post("/admin/pos/sales", json!({"location_id": store, "lines": [{"sku": sku, "quantity": 1}], "payment": {"method": "gift_card", "code": code}})).await;
    assert_eq!((r.status, r.code()), (409, "insufficient_funds"));
    let r = app.admin_post("/admin/pos/sales", json!({"location_id": store, "lines": [{"sku": sku, "quantity": 1}], "payment": {"method": "gift_card", "code": "GC-0000-0000-0000-0000"}})).await;
    assert_eq!((r.status, r.code()), (400, "invalid_gift_card"));
    assert_eq!(app.level(&sku, &store).await, (9, 0, 9, 0));

    // Returned in Busan: back onto the card.
    let ret = app
        .admin_post(
            "/admin/returns",
            json!({"order_id": oid, "location_id": busan, "lines": [{"sku": sku, "quantity": 1}]}),
        )
        .await
        .expect(201);
    assert_eq!(
        (ret["return"]["refund"]["method"].as_str(), ret["return"]["refund"]["status"].as_str()),
        (Some("gift_card"), Some("refunded"))
    );
    assert_eq!(app.get(&format!("/store/gift-cards/{code}")).await.expect(200)["gift_card"]["balance_minor"], 50000);
    app.admin_post("/admin/pos/sales", json!({"location_id": store, "lines": [{"sku": sku, "quantity": 1}], "payment": {"method": "gift_card", "code": code}})).await.expect(201);
    assert_eq!(app.get(&format!("/store/gift-cards/{code}")).await.expect(200)["gift_card"]["balance_minor"], 20000);
    let r = app.get("/store/gift-cards/GC-NOPE").await;
    assert_eq!((r.status, r.code()), (400, "invalid_gift_card"));
    app.assert_no_drift().await;
}
both!(gift_cards_pay_on_the_web_and_at_the_counter);

async fn a_ready_order_keeps_its_payment_hold(b: Backend) {
    // Hold and pickup window are one hour (the test app's setting). Readied late, the window restarts,
    // and so must the authorization; a lapsed authorization never lets goods out unpaid.
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("HOLD-1", 2000).await;
    app.stock_in(&sku, &store, 5).await;
    let (cid, token) = customer(&app, "renew@example.com").await;
    app.admin_post(
        &format!("/admin/customers/{cid}/wallet/top-ups"),
        json!({"amount_minor": 10000, "currency": "KRW"}),
    )
    .await
    .expect(201);
    let cart = wallet_cart(&app, &token, &sku, &store).await;
    let oid = pay(&app, &token, &cart).await.expect(201)["order"]["id"].as_str().unwrap().to_owned();
    app.clock.advance_ms(50 * 60 * 1000);
    app.admin_post(&format!("/admin/orders/{oid}/ready-for-pickup"), json!({})).await.expect(200);
    app.clock.advance_ms(30 * 60 * 1000); // past the first authorization's expiry
    let engine = &app.running.as_ref().unwrap().engine;
    assert_eq!(engine.expire_holds().await.unwrap(), 0, "order holds end with their order, not by timer");
    let code = app.shopper_order(&oid).await.expect(200)["order"]["pickup"]["code"].as_str().unwrap().to_owned();
    let done = app.admin_post(&format!("/admin/orders/{oid}/picked-up"), json!({"code": code})).await.expect(200);
    assert_eq!(done["order"]["payment"]["status"], "paid");
    let w = wallet(&app, &token).await;
    assert_eq!((w["balance_minor"].as_i64(), w["held_minor"].as_i64()), (Some(8000), Some(0)));
    let st = app.req("GET", "/store/wallet/statement", Some(&token), None, &[]).await.expect(200);
    let dirs: Vec<&str> = st["data"].as_array().unwrap().iter().map(|l| l["direction"].as_str().unwrap()).collect();
    assert_eq!(dirs, vec!["credit", "debit", "debit"], "top-up, hold (covering both windows), capture");
    // Someone else holding the cart id cannot spend the owner's wallet.
    let cart = wallet_cart(&app, &token, &sku, &store).await;
    let r = app
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            None,
            Some(json!({"email": "thief@example.com", "payment": {"method": "wallet"}})),
            &[],
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "the owner's cart answers only to her session");
    app.assert_no_drift().await;
}
both!(a_ready_order_keeps_its_payment_hold);

async fn usd_order_paid_from_a_krw_wallet_at_a_recorded_rate(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let busan = app.location("SEOMYEON", "store", true).await;
    let sku = app.product("FX-1", 25000).await; // also 19.99 USD
    app.stock_in(&sku, &store, 5).await;
    let (cid, token) = customer(&app, "fx@example.com").await;
    app.admin_post(
        &format!("/admin/customers/{cid}/wallet/top-ups"),
        json!({"amount_minor": 100000, "currency": "KRW"}),
    )
    .await
    .expect(201);
    let usd_cart = || {
        let (app, token, sku, store) = (&app, token.clone(), sku.clone(), store.clone());
        async move {
            let id =
                app.req("POST", "/store/carts", Some(&token), Some(json!({"currency": "USD"})), &[]).await.expect(201)
                    ["cart"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned();
            app.req(
                "POST",
                &format!("/store/carts/{id}/lines"),
                Some(&token),
                Some(json!({"sku": sku, "quantity": 1})),
                &[],
            )
            .await
            .expect(200);
            app.req(
                "PUT",
                &format!("/store/carts/{id}/fulfillment"),
                Some(&token),
                Some(json!({"type": "pickup", "location_id": store})),
                &[],
            )
            .await
            .expect(200);
            id
        }
    };
    let pay_krw = |cart: String| {
        let (app, token) = (&app, token.clone());
        async move {
            app.req(
                "POST",
                &format!("/store/carts/{cart}/checkout"),
                Some(&token),
                Some(json!({"payment": {"method": "wallet", "currency": "KRW"}})),
                &[],
            )
            .await
        }
    };
    let cart = usd_cart().await;
    let r = pay_krw(cart.clone()).await;
    assert_eq!((r.status, r.code()), (409, "no_fx_rate"), "no implicit conversion");
    let now = engine::Clock::now_ms(app.clock.as_ref());
    app.admin_post(
        "/admin/fx-rates",
        json!({"base": "USD", "quote": "KRW", "rate": "1385.20", "effective_at_ms": now - 1000}),
    )
    .await
    .expect(201);
    app.admin_post(
        "/admin/fx-rates",
        json!({"base": "USD", "quote": "KRW", "rate": "2000", "effective_at_ms": now + 3_600_000}),
    )
    .await
    .expect(201);
    let r = app.admin_post("/admin/fx-rates", json!({"base": "USD", "quote": "KRW", "rate": "1,385.2"})).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"));

    // 19.99 USD × 1385.2 = 27,690.148 KRW → 27,691 held on the KRW wallet.
    let o = pay_krw(cart).await.expect(201)["order"].clone();
    assert_eq!((o["currency"].as_str(), o["total"]["amount_minor"].as_i64()), (Some("USD"), Some(1999)));
    let w = wallet(&app, &token).await;
    assert_eq!((w["balance_minor"].as_i64(), w["held_minor"].as_i64()), (Some(100000), Some(27691)));
    let oid = o["id"].as_str().unwrap().to_owned();
    app.hand_over(&oid).await;
    assert_eq!(wallet(&app, &token).await["balance_minor"], 72309);
    let revenue = app.admin_get(&format!("/admin/ledger/accounts/revenue:{store}:USD")).await.expect(200);
    assert_eq!(revenue["account"]["balance_minor"], 1999, "the store is paid in the order's currency");

    // Returned in Busan: the same KRW comes back (the original rate, not today's).
    app.clock.advance_ms(2 * 3_600_000);
    let ret = app
        .admin_post(
            "/admin/returns",
            json!({"order_id": oid, "location_id": busan, "lines": [{"sku": sku, "quantity": 1}]}),
        )
        .await
        .expect(201);
    assert_eq!(ret["return"]["refund"]["status"], "refunded");
    assert_eq!(wallet(&app, &token).await["balance_minor"], 100000);
    app.assert_no_drift().await;
}
both!(usd_order_paid_from_a_krw_wallet_at_a_recorded_rate);

async fn split_tender_refunds_in_proportion(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let busan = app.location("SEOMYEON", "store", true).await;
    let sku = app.product("SPLIT-1", 25000).await;
    app.stock_in(&sku, &store, 5).await;
    let (cid, token) = customer(&app, "split@example.com").await;
    app.admin_post(
        &format!("/admin/customers/{cid}/wallet/top-ups"),
        json!({"amount_minor": 40000, "currency": "KRW"}),
    )
    .await
    .expect(201);
    let card = app.admin_post("/admin/gift-cards", json!({"amount_minor": 10000, "currency": "KRW"})).await.expect(201)
        ["gift_card"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let card_balance = || {
        let (app, card) = (&app, card.clone());
        async move { app.get(&format!("/store/gift-cards/{card}")).await.expect(200)["gift_card"].clone() }
    };
    let split = |tenders: serde_json::Value| json!({"payment": {"method": "split", "tenders": tenders}});

    let cart = wallet_cart(&app, &token, &sku, &store).await;
    for bad in [
        json!([{"method": "gift_card", "code": card, "amount_minor": 10000}, {"method": "wallet", "amount_minor": 1}]),
        json!([{"method": "wallet"}]),
        json!([{"method": "gift_card", "code": card}, {"method": "wallet"}]),
    ] {
        let r = app.req("POST", &format!("/store/carts/{cart}/checkout"), Some(&token), Some(split(bad)), &[]).await;
        assert_eq!((r.status, r.code()), (400, "invalid_split"), "{}", r.body);
    }
    // 10,000 from the gift card, the remaining 15,000 from the wallet.
    let tenders = json!([{"method": "gift_card", "code": card, "amount_minor": 10000}, {"method": "wallet"}]);
    let o = app
        .req("POST", &format!("/store/carts/{cart}/checkout"), Some(&token), Some(split(tenders.clone())), &[])
        .await
        .expect(201);
    assert_eq!(o["order"]["payment"], json!({"method": "split", "status": "authorized"}));
    assert_eq!(card_balance().await["available_minor"], 0);
    assert_eq!(wallet(&app, &token).await["held_minor"], 15000);
    let oid = o["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.hand_over(&oid).await["order"]["payment"]["status"], "paid");
    assert_eq!(card_balance().await["balance_minor"], 0);
    assert_eq!(wallet(&app, &token).await["balance_minor"], 25000);

    // Returned in Busan: each tender gets its share back (10,000 : 15,000).
    let r = app
        .admin_post(
            "/admin/returns",
            json!({"order_id": oid, "location_id": busan, "lines": [{"sku": sku, "quantity": 1}]}),
        )
        .await
        .expect(201);
    assert_eq!(
        (r["return"]["refund"]["method"].as_str(), r["return"]["refund"]["status"].as_str()),
        (Some("split"), Some("refunded"))
    );
    assert_eq!(card_balance().await["balance_minor"], 10000);
    assert_eq!(wallet(&app, &token).await["balance_minor"], 40000);

    // A cancelled split order releases every hold.
    let cart = wallet_cart(&app, &token, &sku, &store).await;
    let oid = app
        .req("POST", &format!("/store/carts/{cart}/checkout"), Some(&token), Some(split(tenders)), &[])
        .await
        .expect(201)["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.admin_post(&format!("/admin/orders/{oid}/cancel"), json!({})).await.expect(200);
    assert_eq!(card_balance().await["available_minor"], 10000);
    assert_eq!(wallet(&app, &token).await["held_minor"], 0);
    app.assert_no_drift().await;
}
both!(split_tender_refunds_in_proportion);

async fn finance_postings_are_all_or_nothing_and_idempotent(b: Backend) {
    let app = spawn_app(b).await;
    let (cid, token) = customer(&app, "finance@example.com").await;
    app.admin_post(&format!("/admin/customers/{cid}/wallet/top-ups"), json!({"amount_minor": 5000, "currency": "KRW"}))
        .await
        .expect(201);
    let wallet_code = format!("wallet:{cid}:KRW");
    let t = |debit: &str, credit: &str, amount: i64| json!({"debit_account": debit, "credit_account": credit, "amount_minor": amount, "currency": "KRW", "reason": "goodwill credit", "reference": "ticket-42"});
    let batch = json!({"transfers": [t("cash:hq:KRW", &wallet_code, 1000), t("cash:hq:KRW", &wallet_code, 500)]});
    let first = app
        .req("POST", "/admin/ledger/transfers", Some(ADMIN_KEY), Some(batch.clone()), &[("Idempotency-Key", "fin-1")])
        .await
        .expect(201);
    let again = app
        .req("POST", "/admin/ledger/transfers", Some(ADMIN_KEY), Some(batch), &[("Idempotency-Key", "fin-1")])
        .await
        .expect(201);
    assert_eq!(first["transfer_ids"], again["transfer_ids"]);
    assert_eq!(first["transfer_ids"].as_array().unwrap().len(), 2);
    assert_eq!(wallet(&app, &token).await["balance_minor"], 6500, "posted once");
    // The second transfer would overdraw the wallet: neither posts.
    let bad = json!({"transfers": [t(&wallet_code, "cash:hq:KRW", 6000), t(&wallet_code, "cash:hq:KRW", 1000)]});
    let r = app.admin_post("/admin/ledger/transfers", bad).await;
    assert_eq!((r.status, r.code()), (409, "insufficient_funds"));
    assert!(r.body["error"]["message"].as_str().unwrap().contains("transfer #2"));
    assert_eq!(wallet(&app, &token).await["balance_minor"], 6500);
    let r = app.admin_post("/admin/ledger/transfers", json!({"transfers": [t("cash:hq:KRW", "nope", 1)]})).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let acct = app.admin_get(&format!("/admin/ledger/accounts/{wallet_code}")).await.expect(200);
    assert_eq!(acct["account"]["kind"], "wallet");
    app.assert_no_drift().await;
}
both!(finance_postings_are_all_or_nothing_and_idempotent);

async fn returns_can_become_store_credit_that_pays_online(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("HONGDAE", "store", true).await;
    let sku = app.product("SC-1", 12000).await;
    app.stock_in(&sku, &store, 5).await;
    let (cid, token) = customer(&app, "credit@example.com").await;
    // Paid in cash at the counter, returned for store credit (the shopper's choice).
    let sale = app
        .admin_post(
            "/admin/pos/sales",
            json!({"location_id": store, "customer_id": cid, "lines": [{"sku": sku, "quantity": 1}]}),
        )
        .await
        .expect(201);
    let oid = sale["order"]["id"].as_str().unwrap().to_owned();
    let r = app.admin_post("/admin/returns", json!({"order_id": oid, "location_id": store, "lines": [{"sku": sku, "quantity": 1}], "refund_to": "cash please"})).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"));
    let ret = app.admin_post("/admin/returns", json!({"order_id": oid, "location_id": store, "lines": [{"sku": sku, "quantity": 1}], "refund_to": "store_credit"})).await.expect(201);
    assert_eq!(
        (ret["return"]["refund"]["method"].as_str(), ret["return"]["refund"]["status"].as_str()),
        (Some("store_credit"), Some("refunded"))
    );
    let accounts = app.req("GET", "/store/wallet", Some(&token), None, &[]).await.expect(200);
    let credit = accounts["data"].as_array().unwrap().iter().find(|a| a["kind"] == "store_credit").cloned().unwrap();
    assert_eq!(credit["balance_minor"], 12000);
    // A guest's cash sale has no one to credit.
    let guest = app
        .admin_post("/admin/pos/sales", json!({"location_id": store, "lines": [{"sku": sku, "quantity": 1}]}))
        .await
        .expect(201);
    let r = app.admin_post("/admin/returns", json!({"order_id": guest["order"]["id"], "location_id": store, "lines": [{"sku": sku, "quantity": 1}], "refund_to": "store_credit"})).await;
    assert_eq!((r.status, r.code()), (400, "customer_required"));
    // Spent online by its owner.
    let cart = wallet_cart(&app, &token, &sku, &store).await;
    let o = app
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            Some(&token),
            Some(json!({"payment": {"method": "store_credit"}})),
            &[],
        )
        .await
        .expect(201);
    assert_eq!(o["order"]["payment"]["status"], "authorized");
    let oid = o["order"]["id"].as_str().unwrap().to_owned();
    app.hand_over(&oid).await;
    let accounts = app.req("GET", "/store/wallet", Some(&token), None, &[]).await.expect(200);
    let credit = accounts["data"].as_array().unwrap().iter().find(|a| a["kind"] == "store_credit").cloned().unwrap();
    assert_eq!(credit["balance_minor"], 0);
    app.assert_no_drift().await;
}
both!(returns_can_become_store_credit_that_pays_online);

async fn cashierless_visits_hold_at_entry_and_charge_at_exit(b: Backend) {
    let app = spawn_app(b).await;
    let go = app.location("GO-SEONGSU", "cashierless", false).await;
    let sku = app.product("GO-1", 3000).await;
    app.stock_in(&sku, &go, 20).await;
    let gate = app
        .admin_post("/admin/api-keys", json!({"role": "staff", "location_id": go, "label": "gate"}))
        .await
        .expect(201)["api_key"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (cid, token) = customer(&app, "go@example.com").await;
    app.admin_post(
        &format!("/admin/customers/{cid}/wallet/top-ups"),
        json!({"amount_minor": 150000, "currency": "KRW"}),
    )
    .await
    .expect(201);
    let code = || {
        let (app, token) = (&app, token.clone());
        async move {
            app.req("POST", "/store/wallet/payment-codes", Some(&token), None, &[]).await.expect(201)["payment_code"]
                ["code"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    // Entry: the wallet is held for up to the cap (100,000 won).
    let s = app
        .req(
            "POST",
            "/admin/cashierless/sessions",
            Some(&gate),
            Some(json!({"location_id": go, "payment_code": code().await})),
            &[],
        )
        .await
        .expect(201);
    let sid = s["session"]["id"].as_str().unwrap().to_owned();
    assert_eq!(s["session"]["hold_minor"], 100000);
    assert_eq!(wallet(&app, &token).await["available_minor"], 50000);
    // Exit with 3 items: 9,000 captured, the rest released, stock left the store's ledger.
    let out = app
        .req(
            "POST",
            &format!("/admin/cashierless/sessions/{sid}/exit"),
            Some(&gate),
            Some(json!({"lines": [{"sku": sku, "quantity": 3}]})),
            &[],
        )
        .await
        .expect(200);
    assert_eq!(out["order"]["channel"], "cashierless");
    assert_eq!(out["order"]["total"]["amount_minor"], 9000);
    assert_eq!(out["session"]["status"], "completed");
    let w = wallet(&app, &token).await;
    assert_eq!((w["balance_minor"].as_i64(), w["held_minor"].as_i64()), (Some(141000), Some(0)));
    assert_eq!(app.level(&sku, &go).await, (17, 0, 17, 0));
    let again = app
        .req(
            "POST",
            &format!("/admin/cashierless/sessions/{sid}/exit"),
            Some(&gate),
            Some(json!({"lines": [{"sku": sku, "quantity": 3}]})),
            &[],
        )
        .await
        .expect(200);
    assert_eq!(again["order"]["id"], out["order"]["id"], "a retried exit gets the same receipt");
    let r = app
        .req("POST", &format!("/admin/cashierless/sessions/{sid}/exit"), Some(&gate), Some(json!({"lines": []})), &[])
        .await;
    assert_eq!((r.status, r.code()), (409, "session_closed"));
    // A visit without a purchase releases everything; a gate's retried scan (same key) is the same visit, a
    // replayed code without it is refused.
    let c = code().await;
    let enter = json!({"location_id": go, "payment_code": c});
    let s2 = app
        .req(
            "POST",
            "/admin/cashierless/sessions",
            Some(&gate),
            Some(enter.clone()),
            &[("Idempotency-Key", "gate-scan-7")],
        )
        .await
        .expect(201);
    let again = app
        .req(
            "POST",
            "/admin/cashierless/sessions",
            Some(&gate),
            Some(enter.clone()),
            &[("Idempotency-Key", "gate-scan-7")],
        )
        .await
        .expect(201);
    assert_eq!(again["session"]["id"], s2["session"]["id"]);
    let r = app.req("POST", "/admin/cashierless/sessions", Some(&gate), Some(enter), &[]).await;
    assert_eq!((r.status, r.code()), (409, "payment_code_used"));
    let sid2 = s2["session"]["id"].as_str().unwrap();
    let out = app
        .req("POST", &format!("/admin/cashierless/sessions/{sid2}/exit"), Some(&gate), Some(json!({"lines": []})), &[])
        .await
        .expect(200);
    assert_eq!(out["order"], serde_json::Value::Null);
    assert_eq!(wallet(&app, &token).await["held_minor"], 0);
    // A basket above the hold takes the difference from the wallet (10,000 available after the hold).
    app.admin_post(&format!("/admin/customers/{cid}/wallet/top-ups"), json!({"amount_minor": 1, "currency": "KRW"}))
        .await
        .expect(201);
    let s3 = app
        .req(
            "POST",
            "/admin/cashierless/sessions",
            Some(&gate),
            Some(json!({"location_id": go, "payment_code": code().await})),
            &[],
        )
        .await
        .expect(201);
    let sid3 = s3["session"]["id"].as_str().unwrap();
    app.admin_post(
        "/admin/inventory/adjustments",
        json!({"sku": sku, "location_id": go, "quantity_delta": 20, "reason": "restock"}),
    )
    .await
    .expect(201);
    let out = app
        .req(
            "POST",
            &format!("/admin/cashierless/sessions/{sid3}/exit"),
            Some(&gate),
            Some(json!({"lines": [{"sku": sku, "quantity": 35}]})),
            &[],
        )
        .await
        .expect(200);
    assert_eq!(out["order"]["total"]["amount_minor"], 105000);
    assert_eq!(wallet(&app, &token).await["balance_minor"], 141001 - 105000);
    // Someone with 12,000 won fills a 13,000 won basket: 12,000 collected, the shortfall goes to staff.
    let (c2, t2) = customer(&app, "short@example.com").await;
    app.admin_post(&format!("/admin/customers/{c2}/wallet/top-ups"), json!({"amount_minor": 12000, "currency": "KRW"}))
        .await
        .expect(201);
    let code2 = app.req("POST", "/store/wallet/payment-codes", Some(&t2), None, &[]).await.expect(201)["payment_code"]
        ["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let s4 = app
        .req(
            "POST",
            "/admin/cashierless/sessions",
            Some(&gate),
            Some(json!({"location_id": go, "payment_code": code2})),
            &[],
        )
        .await
        .expect(201);
    assert_eq!(s4["session"]["hold_minor"], 12000);
    let sku13 = app.product("GO-13", 13000).await;
    app.stock_in(&sku13, &go, 1).await;
    let sid4 = s4["session"]["id"].as_str().unwrap();
    let out = app
        .req(
            "POST",
            &format!("/admin/cashierless/sessions/{sid4}/exit"),
            Some(&gate),
            Some(json!({"lines": [{"sku": sku13, "quantity": 1}]})),
            &[],
        )
        .await
        .expect(200);
    assert_eq!(out["order"]["payment"]["status"], "partially_paid");
    assert_eq!(wallet(&app, &t2).await["balance_minor"], 0);
    assert_eq!(app.events_until("type=cashierless.shortfall", |k| k.len() == 1).await.len(), 1);
    // Too little money to enter at all.
    let (c3, t3) = customer(&app, "poor@example.com").await;
    app.admin_post(&format!("/admin/customers/{c3}/wallet/top-ups"), json!({"amount_minor": 5000, "currency": "KRW"}))
        .await
        .expect(201);
    let code3 = app.req("POST", "/store/wallet/payment-codes", Some(&t3), None, &[]).await.expect(201)["payment_code"]
        ["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .req(
            "POST",
            "/admin/cashierless/sessions",
            Some(&gate),
            Some(json!({"location_id": go, "payment_code": code3})),
            &[],
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "insufficient_funds"));
    // Not a cashierless store: refused.
    let store = app.location("GANGNAM", "store", true).await;
    let r = app
        .admin_post("/admin/cashierless/sessions", json!({"location_id": store, "payment_code": code().await}))
        .await;
    assert_eq!((r.status, r.code()), (400, "not_cashierless"));
    app.assert_no_drift().await;
}
both!(cashierless_visits_hold_at_entry_and_charge_at_exit);
