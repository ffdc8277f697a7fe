//! A shopper cancels their own order before it is handed over or shipped, from the API and from the order
//! page: the stock goes back, a wallet hold is released, nothing is charged; only the shopper who placed it
//! (session or the order's access token) may, and never once it was collected.

use crate::browser::Browser;
use crate::helpers::*;
use crate::wallet::{customer, pay, wallet, wallet_cart};
use serde_json::json;

async fn shoppers_cancel_their_own_orders(b: Backend) {
    let app = spawn_app(b).await;
    let gangnam = app.location("GANGNAM", "store", true).await;
    let sku = app.product("CAN-1", 30000).await;
    app.stock_in(&sku, &gangnam, 5).await;

    // A guest's order paid at pickup: cancelled with its access token; anyone without it gets 404.
    let cart = app.pickup_cart(&sku, 2, &gangnam).await;
    let o = app.checkout(&cart, "cancel-guest").await.expect(201)["order"].clone();
    let (oid, token) = (o["id"].as_str().unwrap().to_owned(), o["access_token"].as_str().unwrap().to_owned());
    assert_eq!(app.level(&sku, &gangnam).await, (5, 2, 3, 0));
    let path = format!("/store/orders/{oid}/cancel");
    let r = app.post(&path, json!({})).await;
    assert_eq!(r.status, 404, "no session, no token: {}", r.body);
    let (_, other) = customer(&app, "other@example.com").await;
    let r = app.req("POST", &path, Some(&other), Some(json!({})), &[]).await;
    assert_eq!(r.status, 404, "another shopper's session: {}", r.body);
    let r = app.req("POST", &path, None, Some(json!({"reason": "x".repeat(201)})), &[("X-Order-Token", &token)]).await;
    assert_eq!(r.status, 400, "a reason is at most 200 characters: {}", r.body);
    assert_eq!(app.level(&sku, &gangnam).await, (5, 2, 3, 0), "nothing changed so far");
    let r = app.req("POST", &path, None, Some(json!({"reason": "바뀐 계획"})), &[("X-Order-Token", &token)]).await;
    assert_eq!(r.expect(200)["order"]["status"], "cancelled");
    assert_eq!(app.level(&sku, &gangnam).await, (5, 0, 5, 0), "the stock is back");
    let r = app.req("POST", &format!("{path}?token={token}"), None, None, &[]).await;
    assert_eq!((r.status, r.code()), (409, "invalid_transition"), "cancelled once: {}", r.body);

    // A signed-in shopper's wallet order: the hold is released, nothing is captured.
    let (cid, session) = customer(&app, "cancel@example.com").await;
    app.admin_post(
        &format!("/admin/customers/{cid}/wallet/top-ups"),
        json!({"amount_minor": 50000, "currency": "KRW"}),
    )
    .await
    .expect(201);
    let cart = wallet_cart(&app, &session, &sku, &gangnam).await;
    let oid = pay(&app, &session, &cart).await.expect(201)["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(wallet(&app, &session).await["available_minor"], 20000);
    app.admin_post(&format!("/admin/orders/{oid}/ready-for-pickup"), json!({})).await.expect(200);
    let r = app.req("POST", &format!("/store/orders/{oid}/cancel"), Some(&session), None, &[]).await;
    assert_eq!(r.expect(200)["order"]["payment"]["status"], "voided");
    let w = wallet(&app, &session).await;
    assert_eq!((w["balance_minor"].as_i64(), w["available_minor"].as_i64()), (Some(50000), Some(50000)));

    // Collected: too late to cancel (a return is the way), and nothing moves.
    let cart = app.pickup_cart(&sku, 1, &gangnam).await;
    let o = app.checkout(&cart, "cancel-late").await.expect(201)["order"].clone();
    let (oid, token) = (o["id"].as_str().unwrap().to_owned(), o["access_token"].as_str().unwrap().to_owned());
    app.hand_over(&oid).await;
    let r = app.req("POST", &format!("/store/orders/{oid}/cancel"), None, None, &[("X-Order-Token", &token)]).await;
    assert_eq!((r.status, r.code()), (409, "invalid_transition"), "{}", r.body);
    assert_eq!(app.level(&sku, &gangnam).await, (4, 0, 4, 0));

    // An order the shop took to settle outside (an invoice) is the shop's to cancel.
    let cart = app.pickup_cart(&sku, 1, &gangnam).await;
    let o = app
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            Some(ADMIN_KEY),
            Some(json!({"email": "invoice@example.com", "payment": {"method": "manual"}})),
            &[("Idempotency-Key", "cancel-manual")],
        )
        .await
        .expect(201)["order"]
        .clone();
    let (oid, token) = (o["id"].as_str().unwrap().to_owned(), o["access_token"].as_str().unwrap().to_owned());
    let r = app.req("POST", &format!("/store/orders/{oid}/cancel"), None, None, &[("X-Order-Token", &token)]).await;
    assert_eq!((r.status, r.code()), (409, "invalid_transition"), "{}", r.body);
    assert!(!Browser::new(&app).get(&format!("/orders/{oid}?token={token}")).await.has("주문 취소하기"));
    app.admin_post(&format!("/admin/orders/{oid}/cancel"), json!({})).await.expect(200);

    // From the order page: the button is there while the order can be cancelled, and the page then says so.
    let cart = app.pickup_cart(&sku, 1, &gangnam).await;
    let o = app.checkout(&cart, "cancel-page").await.expect(201)["order"].clone();
    let (oid, token) = (o["id"].as_str().unwrap().to_owned(), o["access_token"].as_str().unwrap().to_owned());
    let mut shopper = Browser::new(&app);
    let page = format!("/orders/{oid}?token={token}");
    assert!(shopper.get(&page).await.has("주문 취소하기"));
    let p = shopper.submit(&page, &format!("/orders/{oid}/cancel"), &[("token", &token)]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let after = shopper.get(&page).await;
    assert!(after.has("주문을 취소했습니다") && after.has("취소됨") && !after.has("주문 취소하기"), "{}", after.body);
    assert_eq!(app.level(&sku, &gangnam).await, (4, 0, 4, 0));
    app.assert_no_drift().await;
}
crate::both!(shoppers_cancel_their_own_orders);
