//! Card payments against a local server that behaves as Stripe documents its PaymentIntents API: manual
//! capture, idempotency keys, 402 declines, and a flaky moment. The order flow must authorize before the
//! order, capture after handover, cancel on cancellation or a failed checkout, refund returns — each once.

use crate::both;
use crate::helpers::*;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Json};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
pub(crate) struct Psp {
    pub(crate) intents: HashMap<String, Value>,
    /// (path, idempotency key) → the response first given.
    replies: HashMap<(String, String), (u16, Value)>,
    pub(crate) captures: u32,
    refunds: Vec<i64>,
    /// Fail the next capture with a 500 (a flaky processor).
    fail_next_capture: bool,
    /// Fail every refund call with a 500 (the processor is down, or our calls time out).
    refunds_down: bool,
}

pub(crate) type Shared = Arc<Mutex<Psp>>;

fn replay(
    psp: &Shared,
    path: &str,
    headers: &HeaderMap,
    f: impl FnOnce(&mut Psp) -> (u16, Value),
) -> (StatusCode, Json<Value>) {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth != "Bearer sk_test_borderless" {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})),
        );
    }
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let mut p = psp.lock().unwrap();
    if let Some((s, v)) = p.replies.get(&(path.to_owned(), key.clone())) {
        return (StatusCode::from_u16(*s).unwrap(), Json(v.clone()));
    }
    let (s, v) = f(&mut p);
    if s != 500 {
        p.replies.insert((path.to_owned(), key), (s, v.clone())); // Stripe does not store 500s
    }
    (StatusCode::from_u16(s).unwrap(), Json(v))
}

async fn create(
    State(psp): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    // A slow processor: the first time this card is seen, the answer takes longer than our client waits
    // (the payment is still made, as Stripe would).
    if f.get("payment_method").map(String::as_str) == Some("pm_card_slow") {
        let first = !psp.lock().unwrap().replies.keys().any(|(p, _)| p == "/v1/payment_intents");
        if first {
            // The work carries on even if our client hangs up, as it would at Stripe.
            let (psp, headers, f) = (psp.clone(), headers.clone(), f.clone());
            return tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(2500)).await;
                create_now(&psp, &headers, &f)
            })
            .await
            .unwrap();
        }
    }
    create_now(&psp, &headers, &f)
}

fn create_now(psp: &Shared, headers: &HeaderMap, f: &HashMap<String, String>) -> (StatusCode, Json<Value>) {
    replay(psp, "/v1/payment_intents", headers, |p| {
        if f.get("payment_method").map(String::as_str) == Some("pm_card_chargeDeclined") {
            return (
                402,
                json!({"error": {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline"}}),
            );
        }
        let id = format!("pi_{}", p.intents.len() + 1);
        let amount: i64 = f["amount"].parse().unwrap();
        assert_eq!(f["capture_method"], "manual");
        let pi = json!({"id": id, "amount": amount, "currency": f["currency"], "status": "requires_capture", "amount_received": 0});
        p.intents.insert(id, pi.clone());
        (200, pi)
    })
}

async fn capture(
    State(psp): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    replay(&psp, &format!("/capture/{id}"), &headers, |p| {
        if p.fail_next_capture {
            p.fail_next_capture = false;
            return (500, json!({"error": {"type": "api_error", "message": "try again"}}));
        }
        let pi = p.intents.get_mut(&id).unwrap();
        if pi["status"] != "requires_capture" {
            return (400, json!({"error": {"code": "payment_intent_unexpected_state"}}));
        }
        let amount: i64 = f["amount_to_capture"].parse().unwrap();
        pi["status"] = json!("succeeded");
        pi["amount_received"] = json!(amount);
        let v = pi.clone();
        p.captures += 1;
        (200, v)
    })
}

async fn cancel(State(psp): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> (StatusCode, Json<Value>) {
    replay(&psp, &format!("/cancel/{id}"), &headers, |p| {
        let pi = p.intents.get_mut(&id).unwrap();
        if pi["status"] != "requires_capture" {
            return (400, json!({"error": {"code": "payment_intent_unexpected_state"}}));
        }
        pi["status"] = json!("canceled");
        (200, pi.clone())
    })
}

async fn refund(
    State(psp): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    replay(&psp, "/v1/refunds", &headers, |p| {
        if p.refunds_down {
            return (500, json!({"error": {"type": "api_error"}}));
        }
        let amount: i64 = f["amount"].parse().unwrap();
        let pi = &p.intents[&f["payment_intent"]];
        assert_eq!(pi["status"], "succeeded");
        p.refunds.push(amount);
        (200, json!({"id": format!("re_{}", p.refunds.len()), "amount": amount, "status": "succeeded"}))
    })
}

pub(crate) async fn processor() -> (String, Shared) {
    let psp: Shared = Default::default();
    let app = axum::Router::new()
        .route("/v1/payment_intents", post(create))
        .route("/v1/payment_intents/{id}/capture", post(capture))
        .route("/v1/payment_intents/{id}/cancel", post(cancel))
        .route("/v1/refunds", post(refund))
        .with_state(psp.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    (url, psp)
}

async fn until(what: &str, f: impl Fn() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn card_orders_authorize_capture_cancel_and_refund_once(b: Backend) {
    let (url, psp) = processor().await;
    let app = spawn_app_full(b, Duration::from_secs(3600), Some(url)).await;
    let store = app.location("GANGNAM", "store", true).await;
    let busan = app.location("SEOMYEON", "store", true).await;
    let sku = app.product("CARD-1", 45000).await;
    app.stock_in(&sku, &store, 3).await;
    let pay = |cart: String, pm: &'static str, key: &'static str| {
        let app = &app;
        async move {
            app.req(
                "POST",
                &format!("/store/carts/{cart}/checkout"),
                None,
                Some(json!({"email": "card@example.com", "payment": {"method": "card", "code": pm}})),
                &[("Idempotency-Key", key)],
            )
            .await
        }
    };

    // Declined: 402, nothing placed, nothing reserved.
    let cart = app.pickup_cart(&sku, 1, &store).await;
    let r = pay(cart.clone(), "pm_card_chargeDeclined", "k-decline").await;
    assert_eq!((r.status, r.code()), (402, "card_declined"));
    assert_eq!(app.level(&sku, &store).await, (3, 0, 3, 0));

    // Authorized before the order; a retried checkout reuses the same authorization.
    let o = pay(cart.clone(), "pm_card_visa", "k-1").await.expect(201)["order"].clone();
    let again = pay(cart, "pm_card_visa", "k-1").await.expect(201);
    assert_eq!(again["order"]["id"], o["id"]);
    assert_eq!(o["payment"], json!({"method": "card", "status": "authorized"}));
    assert_eq!(psp.lock().unwrap().intents.len(), 1);
    assert_eq!(psp.lock().unwrap().intents["pi_1"]["amount"], 45000);

    // Handover captures once, even when the processor fails the first time.
    psp.lock().unwrap().fail_next_capture = true;
    let oid = o["id"].as_str().unwrap().to_owned();
    assert_eq!(app.hand_over(&oid).await["order"]["payment"]["status"], "paid");
    tokio::time::sleep(Duration::from_millis(600)).await; // the first attempt fails
    app.clock.advance_ms(5_000); // past its backoff
    until("the capture", || psp.lock().unwrap().intents["pi_1"]["status"] == "succeeded").await;
    assert_eq!(psp.lock().unwrap().captures, 1);
    assert_eq!(psp.lock().unwrap().intents["pi_1"]["amount_received"], 45000);

    // A return in Busan refunds the card (the refund record turns `refunded` when the processor confirms).
    let ret = app
        .admin_post(
            "/admin/returns",
            json!({"order_id": oid, "location_id": busan, "lines": [{"sku": sku, "quantity": 1}]}),
        )
        .await
        .expect(201);
    assert_eq!(
        (ret["return"]["refund"]["method"].as_str(), ret["return"]["refund"]["status"].as_str()),
        (Some("card"), Some("pending"))
    );
    until("the refund", || psp.lock().unwrap().refunds == vec![45000]).await;
    for _ in 0..100 {
        if app.count("SELECT COUNT(*) FROM refunds WHERE status = 'refunded'").await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM refunds WHERE status = 'refunded'").await, 1);

    // Cancelling an order cancels its authorization.
    let cart = app.pickup_cart(&sku, 1, &store).await;
    let oid2 = pay(cart, "pm_card_visa", "k-2").await.expect(201)["order"]["id"].as_str().unwrap().to_owned();
    app.admin_post(&format!("/admin/orders/{oid2}/cancel"), json!({})).await.expect(200);
    until("the cancellation", || psp.lock().unwrap().intents["pi_2"]["status"] == "canceled").await;

    // A checkout that fails after the card was authorized (out of stock) releases the authorization.
    let cart = app.pickup_cart(&sku, 2, &store).await;
    app.admin_post(
        "/admin/inventory/adjustments",
        json!({"sku": sku, "location_id": store, "quantity_delta": -1, "reason": "damaged"}),
    )
    .await
    .expect(201);
    let r = pay(cart, "pm_card_visa", "k-3").await;
    assert_eq!((r.status, r.code()), (409, "out_of_stock"));
    until("the compensating cancellation", || {
        psp.lock().unwrap().intents.get("pi_3").is_some_and(|p| p["status"] == "canceled")
    })
    .await;
    app.assert_no_drift().await;
}
both!(card_orders_authorize_capture_cancel_and_refund_once);

async fn processor_webhooks_are_verified_and_applied_once(b: Backend) {
    let (url, psp) = processor().await;
    let app = spawn_app_full(b, Duration::from_secs(3600), Some(url)).await;
    let store = app.location("HONGDAE", "store", true).await;
    let sku = app.product("CARD-2", 30000).await;
    app.stock_in(&sku, &store, 2).await;
    let cart = app.pickup_cart(&sku, 1, &store).await;
    let o = app
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            None,
            Some(json!({"email": "w@example.com", "payment": {"method": "card", "code": "pm_card_visa"}})),
            &[],
        )
        .await
        .expect(201);
    let oid = o["order"]["id"].as_str().unwrap().to_owned();
    // Signed cancellation notices that name no payment, or a pattern, touch no order: orders are matched
    // by their exact payment id (a `LIKE '%…%'` once made an empty id void every authorized order).
    {
        let t = engine::Clock::now_ms(app.clock.as_ref()) / 1000;
        for (i, pi) in ["", "pi_", "%", "pi%1", "_i_1"].iter().enumerate() {
            let ev = json!({"id": format!("evt_wild_{i}"), "type": "payment_intent.canceled",
                            "data": {"object": {"id": pi}}})
            .to_string();
            let r = app
                .client
                .post(format!("{}/webhooks/card", app.url))
                .header("stripe-signature", node::webhooks::sign("whsec_test_borderless", t, &ev))
                .body(ev)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
        }
        let still = app.admin_get(&format!("/admin/orders/{oid}")).await.expect(200);
        assert_eq!(still["order"]["payment"]["status"], "authorized", "{still}");
    }
    app.hand_over(&oid).await;
    until("the capture", || psp.lock().unwrap().intents["pi_1"]["status"] == "succeeded").await;

    // The processor is unreachable for refunds: our job keeps retrying; the processor's own webhook that
    // the refund went through settles it.
    psp.lock().unwrap().refunds_down = true;
    app.admin_post(
        "/admin/returns",
        json!({"order_id": oid, "location_id": store, "lines": [{"sku": sku, "quantity": 1}]}),
    )
    .await
    .expect(201);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM refunds WHERE status = 'refunded'").await, 0);

    let t = engine::Clock::now_ms(app.clock.as_ref()) / 1000;
    let send = |sig: String, body: String| {
        let app = &app;
        async move {
            let r = app
                .client
                .post(format!("{}/webhooks/card", app.url))
                .header("stripe-signature", sig)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // A charge-level notice does not settle a particular refund (there could be several on one payment).
    let charge =
        json!({"id": "evt_0", "type": "charge.refunded", "data": {"object": {"id": "ch_1", "payment_intent": "pi_1"}}})
            .to_string();
    let (s0, _) = send(node::webhooks::sign("whsec_test_borderless", t, &charge), charge).await;
    assert_eq!(s0, 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM refunds WHERE status = 'refunded'").await, 0);
    let db = app.running.as_ref().unwrap().engine.db().clone();
    let job = db
        .read(|tx| -> Result<String, store::DbError> {
            tx.query_one("SELECT id FROM psp_jobs WHERE kind = 'refund'", &[])?.text(0)
        })
        .await
        .unwrap();
    let event = json!({"id": "evt_1", "type": "refund.updated", "data": {"object": {"id": "re_1", "payment_intent": "pi_1", "status": "succeeded", "amount": 30000, "metadata": {"borderless_job": job}}}}).to_string();
    let good = node::webhooks::sign("whsec_test_borderless", t, &event);
    let (s, v) = send(good.clone(), event.clone()).await;
    assert_eq!((s, v["duplicate"].as_bool()), (200, Some(false)));
    assert_eq!(app.count("SELECT COUNT(*) FROM refunds WHERE status = 'refunded'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM psp_jobs WHERE kind = 'refund' AND status = 'done'").await, 1);
    // Delivered again (processors deliver at least once): acknowledged, not applied twice.
    let (s, v) = send(good, event.clone()).await;
    assert_eq!((s, v["duplicate"].as_bool()), (200, Some(true)));
    // Forged, tampered or stale deliveries are refused.
    let (s, v) = send(node::webhooks::sign("whsec_wrong", t, &event), event.clone()).await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("invalid_signature")));
    let tampered = event.replace("\"amount\":30000", "\"amount\":99999");
    let (s, _) = send(node::webhooks::sign("whsec_test_borderless", t, &event), tampered).await;
    assert_eq!(s, 400);
    let (s, _) = send(node::webhooks::sign("whsec_test_borderless", t - 3600, &event), event.clone()).await;
    assert_eq!(s, 400, "an hour-old signature is a replay");
    assert_eq!(app.count("SELECT COUNT(*) FROM psp_events WHERE id NOT LIKE 'evt_wild_%'").await, 2);
    app.assert_no_drift().await;
}
both!(processor_webhooks_are_verified_and_applied_once);

async fn shoppers_top_up_their_wallet_by_card(b: Backend) {
    let (url, psp) = processor().await;
    let app = spawn_app_full(b, Duration::from_secs(3600), Some(url)).await;
    let s =
        app.signup(json!({"email": "topup@example.com", "password": "top up by card", "name": "T"})).await.expect(201);
    let token = s["token"].as_str().unwrap().to_owned();
    let top = |pm: &'static str, key: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            app.req(
                "POST",
                "/store/wallet/top-ups",
                Some(&token),
                Some(json!({"amount_minor": 50000, "currency": "KRW", "payment_method": pm})),
                &[("Idempotency-Key", key)],
            )
            .await
        }
    };
    let first = top("pm_card_visa", "t-1").await.expect(201);
    let again = top("pm_card_visa", "t-1").await.expect(201);
    assert_eq!(first["top_up"]["transfer_id"], again["top_up"]["transfer_id"]);
    assert_eq!(again["top_up"]["wallet"]["balance_minor"], 50000, "credited once");
    assert_eq!(psp.lock().unwrap().captures, 1, "captured once");
    let r = top("pm_card_chargeDeclined", "t-2").await;
    assert_eq!((r.status, r.code()), (402, "card_declined"));
    let r = app
        .req(
            "POST",
            "/store/wallet/top-ups",
            Some(&token),
            Some(json!({"amount_minor": 1000, "currency": "KRW", "payment_method": "pm_card_visa"})),
            &[],
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "idempotency_key_required"), "a card top-up must be safely retryable");
    let r = app
        .req(
            "POST",
            "/store/wallet/top-ups",
            None,
            Some(json!({"amount_minor": 1000, "currency": "KRW", "payment_method": "pm_card_visa"})),
            &[],
        )
        .await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    let w = app.req("GET", "/store/wallet", Some(&token), None, &[]).await.expect(200);
    assert_eq!(w["data"][0]["balance_minor"], 50000);
    // Ten card top-ups an hour, then a pause (a brake on stolen-card testing).
    for i in 0..9 {
        let r = app
            .req(
                "POST",
                "/store/wallet/top-ups",
                Some(&token),
                Some(json!({"amount_minor": 1000, "currency": "KRW", "payment_method": "pm_card_visa"})),
                &[("Idempotency-Key", &format!("v-{i}"))],
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = app
        .req(
            "POST",
            "/store/wallet/top-ups",
            Some(&token),
            Some(json!({"amount_minor": 1000, "currency": "KRW", "payment_method": "pm_card_visa"})),
            &[("Idempotency-Key", "v-10")],
        )
        .await;
    assert_eq!((r.status, r.code()), (429, "too_many_attempts"));
    app.assert_no_drift().await;
}
both!(shoppers_top_up_their_wallet_by_card);

async fn a_card_can_pay_part_of_a_split(b: Backend) {
    let (url, psp) = processor().await;
    let app = spawn_app_full(b, Duration::from_secs(3600), Some(url)).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("CARD-3", 25000).await;
    app.stock_in(&sku, &store, 2).await;
    let card = app.admin_post("/admin/gift-cards", json!({"amount_minor": 10000, "currency": "KRW"})).await.expect(201)
        ["gift_card"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let cart = app.pickup_cart(&sku, 1, &store).await;
    // A malformed split is refused before the card is touched.
    let bad = json!([{"method": "gift_card", "code": card, "amount_minor": 30000}, {"method": "card", "code": "pm_card_visa"}]);
    let r = app
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            None,
            Some(json!({"email": "s@example.com", "payment": {"method": "split", "tenders": bad}})),
            &[],
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_split"));
    assert!(psp.lock().unwrap().intents.is_empty(), "no authorization for a refused split");
    let tenders = json!([{"method": "gift_card", "code": card, "amount_minor": 10000}, {"method": "card", "code": "pm_card_visa"}]);
    let o = app
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            None,
            Some(json!({"email": "s@example.com", "payment": {"method": "split", "tenders": tenders}})),
            &[],
        )
        .await
        .expect(201);
    assert_eq!(o["order"]["payment"]["status"], "authorized");
    assert_eq!(psp.lock().unwrap().intents["pi_1"]["amount"], 15000, "the card pays the rest");
    let oid = o["order"]["id"].as_str().unwrap().to_owned();
    app.hand_over(&oid).await;
    until("the capture", || psp.lock().unwrap().intents["pi_1"]["amount_received"] == 15000).await;
    let ret = app
        .admin_post(
            "/admin/returns",
            json!({"order_id": oid, "location_id": store, "lines": [{"sku": sku, "quantity": 1}]}),
        )
        .await
        .expect(201);
    assert_eq!(ret["return"]["refund"]["status"], "pending", "until the processor confirms the card part");
    until("the card refund", || psp.lock().unwrap().refunds == vec![15000]).await;
    assert_eq!(app.get(&format!("/store/gift-cards/{card}")).await.expect(200)["gift_card"]["balance_minor"], 10000);
    for _ in 0..100 {
        if app.count("SELECT COUNT(*) FROM refunds WHERE status = 'refunded'").await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM refunds WHERE status = 'refunded'").await, 1);
    app.assert_no_drift().await;
}
both!(a_card_can_pay_part_of_a_split);

async fn a_timed_out_authorization_is_not_repeated(b: Backend) {
    let (url, psp) = processor().await;
    let app = spawn_app_full(b, Duration::from_secs(3600), Some(url)).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("CARD-4", 8000).await;
    app.stock_in(&sku, &store, 2).await;
    let cart = app.pickup_cart(&sku, 1, &store).await;
    let body = json!({"email": "slow@example.com", "payment": {"method": "card", "code": "pm_card_slow"}});
    // Our client gives up before the processor answers: the shopper sees "retry", nothing is placed.
    let r = app
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            None,
            Some(body.clone()),
            &[("Idempotency-Key", "slow-1")],
        )
        .await;
    assert_eq!((r.status, r.code()), (503, "unavailable"));
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 0);
    until("the processor to finish the slow authorization", || psp.lock().unwrap().intents.len() == 1).await;
    // The retry carries the same key: the processor returns the payment it made, and the order uses it.
    let o = app
        .req("POST", &format!("/store/carts/{cart}/checkout"), None, Some(body), &[("Idempotency-Key", "slow-1")])
        .await
        .expect(201);
    assert_eq!(o["order"]["payment"]["status"], "authorized");
    assert_eq!(psp.lock().unwrap().intents.len(), 1, "one authorization, not two");
    app.assert_no_drift().await;
}
both!(a_timed_out_authorization_is_not_repeated);

async fn a_cancelled_authorization_is_never_reused(b: Backend) {
    // The processor replays its first answer for a reused key, even after we cancelled that payment.
    let (url, psp) = processor().await;
    let app = spawn_app_full(b, Duration::from_secs(3600), Some(url)).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("CARD-5", 7000).await;
    app.stock_in(&sku, &store, 2).await;
    let cart = app.pickup_cart(&sku, 1, &store).await;
    // Fails after the card was authorized (a guest without an email): the authorization is released.
    let r = app
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            None,
            Some(json!({"payment": {"method": "card", "code": "pm_card_visa"}})),
            &[],
        )
        .await;
    assert_eq!(r.status, 400);
    until("the release of the unused authorization", || psp.lock().unwrap().intents["pi_1"]["status"] == "canceled")
        .await;
    // The corrected retry gets a fresh authorization, not the cancelled one the processor replays.
    let o = app
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            None,
            Some(json!({"email": "fix@example.com", "payment": {"method": "card", "code": "pm_card_visa"}})),
            &[],
        )
        .await
        .expect(201);
    let oid = o["order"]["id"].as_str().unwrap().to_owned();
    app.hand_over(&oid).await;
    until("the capture of the fresh authorization", || {
        psp.lock().unwrap().intents.get("pi_2").is_some_and(|p| p["status"] == "succeeded")
    })
    .await;
    assert_eq!(psp.lock().unwrap().intents["pi_1"]["status"], "canceled");
    app.assert_no_drift().await;
}
both!(a_cancelled_authorization_is_never_reused);
