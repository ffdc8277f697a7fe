//! What staff and shoppers type and follow on the pages, from a hands-on pass over the demo: money typed as
//! staff say it ("5만원") is read as that amount or refused (never another amount), the till finds an item
//! by its name, store-scoped endpoints and the stock filter take a store's code, an associate opens another
//! store's collected order to take a return (and nothing else), the shopper's wallet statement says what
//! each movement was without the ledger's words or a hold counted twice, a mistyped page address gets a
//! page in the reader's language, money is never taken into a balance in a currency the shop cannot take
//! back, and a missing payment code or a bad locale is named by one code wherever it is sent.

use crate::both;
use crate::browser::Browser;
use crate::helpers::*;
use serde_json::json;

const PW: &str = "console password";

async fn typed_by_hand(backend: Backend) {
    let app = spawn_app(backend).await;
    let gangnam = app.location("GANGNAM", "store", true).await;
    let hongdae = app.location("HONGDAE", "store", true).await;
    app.product("CON-TEE", 29_000).await;
    app.stock_in("CON-TEE", &gangnam, 10).await;
    app.stock_in("CON-TEE", &hongdae, 10).await;
    // Search follows the catalog and stock through events: wait until the shirt is findable at Hongdae.
    for _ in 0..100 {
        let s = app.get(&format!("/store/search?q=Product&in_stock_at={hongdae}")).await.expect(200);
        if s["search"]["total"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let engine = &app.running.as_ref().unwrap().engine;
    engine.add_staff("owner@example.com", "Owner", PW, "owner", None, "ko").await.unwrap();
    engine.add_staff("gn@example.com", "강남 직원", PW, "associate", Some("GANGNAM"), "ko").await.unwrap();
    let s = app.signup(json!({"email": "typed@example.com", "password": "wallet password", "name": "지갑"})).await;
    let s = s.expect(201);
    let (cid, token) = (s["customer"]["id"].as_str().unwrap().to_owned(), s["token"].as_str().unwrap().to_owned());
    let balance = |w: serde_json::Value| {
        w["data"].as_array().unwrap().iter().find(|a| a["currency"] == "KRW").map(|a| a["balance_minor"].clone())
    };

    // Money as staff type it: "5만원" tops up ₩50,000; "5만x" is refused at the field and moves nothing.
    let mut owner = Browser::new(&app);
    owner.login("owner@example.com", PW).await;
    let page = format!("/console/customers/{cid}");
    let topup = format!("/console/customers/{cid}/topup");
    let p = owner.submit(&page, &topup, &[("amount", "5만x"), ("currency", "KRW")]).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.has("‘5만x’은(는) 금액으로 읽을 수 없습니다") && p.has("3만9천"), "{}", p.body);
    let w = app.req("GET", "/store/wallet", Some(&token), None, &[]).await.expect(200);
    assert_eq!(balance(w).unwrap_or(json!(0)), 0, "nothing topped up");
    let p = owner.submit(&page, &topup, &[("amount", "$50,000"), ("currency", "KRW")]).await;
    assert_eq!(p.status, 422, "dollars are not won: {}", p.body);
    let p = owner.submit(&page, &topup, &[("amount", "5만원"), ("currency", "KRW")]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let w = app.req("GET", "/store/wallet", Some(&token), None, &[]).await.expect(200);
    assert_eq!(balance(w), Some(json!(50_000)));

    // The shop's price filter reads the same way, and explains what it cannot read or a range upside down.
    let mut shopper = Browser::new(&app);
    let hits = |max: &str| format!("/search?q=Product&price_max={}", urlencoding(max));
    assert!(shopper.get(&hits("3만원")).await.has("1개 상품"), "₩29,000 is under 3만원");
    assert!(shopper.get(&hits("2만")).await.has("0개 상품"), "and over 2만");
    assert!(shopper.get(&hits("3만x")).await.has("‘3만x’은(는) 금액으로 읽을 수 없습니다"));
    let p = shopper.get("/search?q=Product&price_min=100000&price_max=1000").await;
    assert!(p.has("최고 가격이 최저 가격보다 낮습니다") && p.has("1개 상품"), "the filter is dropped: {}", p.body);

    // A wallet pickup at Hongdae, held at checkout and captured at the desk.
    let cart = app.req("POST", "/store/carts", Some(&token), Some(json!({})), &[]).await.expect(201)["cart"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let lines = format!("/store/carts/{cart}/lines");
    app.req("POST", &lines, Some(&token), Some(json!({"sku": "CON-TEE", "quantity": 1})), &[]).await.expect(200);
    let ful = json!({"type": "pickup", "location_id": hongdae});
    app.req("PUT", &format!("/store/carts/{cart}/fulfillment"), Some(&token), Some(ful), &[]).await.expect(200);
    let pay = json!({"payment": {"method": "wallet"}});
    let checkout = format!("/store/carts/{cart}/checkout");
    let oid = app.req("POST", &checkout, Some(&token), Some(pay), &[("Idempotency-Key", &cart)]).await.expect(201)
        ["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Before the desk: an associate at another store cannot open it (nothing to return yet).
    let mut gn = Browser::new(&app);
    gn.login("gn@example.com", PW).await;
    assert_eq!(gn.get(&format!("/console/orders/{oid}")).await.status, 403);
    app.hand_over(&oid).await;

    // The statement in the shopper's words: the hold, its capture (not a second debit), the top-up.
    shopper
        .submit("/account/login", "/account/login", &[("email", "typed@example.com"), ("password", "wallet password")])
        .await;
    let st = shopper.get("/account/wallet").await;
    assert_eq!(st.status, 200, "{}", st.body);
    for want in [&format!("주문 금액 보류 · {oid}"), &format!("보류 금액으로 결제 · {oid}"), "충전", "+₩50,000"]
    {
        assert!(st.has(want), "{want}: {}", st.body);
    }
    assert_eq!(st.body.matches("−₩29,000").count(), 1, "one debit for one order: {}", st.body);
    for ledger_word in [">single<", ">pending<", "post_pending", "void_pending"] {
        assert!(!st.has(ledger_word), "{ledger_word}");
    }

    // Returns anywhere: the Gangnam associate opens the collected Hongdae order from its number, sees its lines
    // and the return form but not the customer, and takes the return; the wallet is refunded.
    let found = gn.get(&format!("/console/orders?q={oid}")).await;
    assert_eq!(found.location.as_deref(), Some(format!("/console/orders/{oid}").as_str()));
    let p = gn.get(&format!("/console/orders/{oid}")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.has(&format!("/console/orders/{oid}/return")) && p.has("CON-TEE"), "{}", p.body);
    assert!(p.has("여기서는 반품만 받을 수 있습니다") && !p.has("typed@example.com"), "{}", p.body);
    let back = gn
        .submit(
            &format!("/console/orders/{oid}"),
            &format!("/console/orders/{oid}/return"),
            &[("qty_CON-TEE", "1"), ("cond_CON-TEE", "restock"), ("reason", "사이즈")],
        )
        .await;
    assert_eq!(back.status, 303, "{}", back.body);
    let w = app.req("GET", "/store/wallet", Some(&token), None, &[]).await.expect(200);
    assert_eq!(balance(w), Some(json!(50_000)), "refunded into the wallet");
    assert_eq!(app.level("CON-TEE", &gangnam).await.0, 11, "restocked where it came back");
    // Nothing is left to return, so the page is closed to another store again; its other actions never were.
    assert_eq!(gn.get(&format!("/console/orders/{oid}")).await.status, 403);
    let cart = app.pickup_cart("CON-TEE", 1, &hongdae).await;
    let other = app.checkout(&cart, "typed-other").await.expect(201)["order"]["id"].as_str().unwrap().to_owned();
    let page = gn.get("/console/till").await;
    let refused =
        gn.post(&format!("/console/orders/{other}/cancel"), &[("_csrf", &page.field("_csrf")), ("reason", "x")]).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    // Nor can its return form be posted to open it: nothing has reached the shopper yet.
    let form = [("_csrf", page.field("_csrf")), ("qty_CON-TEE", "0".into()), ("reason", "x".into())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = gn.post(&format!("/console/orders/{other}/return"), &form).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(!refused.has("typed@example.com") && !refused.has("₩29,000"), "{}", refused.body);
    assert_eq!(app.admin_get(&format!("/admin/orders/{other}")).await.expect(200)["order"]["status"], "placed");

    // The till finds an item by its name, not only by its code.
    let p = gn.submit("/console/till", "/console/till", &[("op", "add"), ("code", "Product CON-TEE")]).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.has("상품 CON-TEE") && !p.has("이 코드나 이름의 상품이 없습니다"), "offered by its title: {}", p.body);

    // A store's code works wherever a store is named: devices (once a 500), layouts, the stock filter.
    let d = app.admin_post("/admin/stores/GANGNAM/devices", json!({"kind": "gate", "code": "gate-by-code"})).await;
    assert_eq!(d.expect(201)["device"]["location_id"], json!(gangnam));
    let list = app.admin_get("/admin/stores/gangnam/devices").await.expect(200);
    assert!(list["devices"].as_array().unwrap().iter().any(|d| d["code"] == "gate-by-code"), "{list}");
    assert_eq!(app.admin_get("/admin/stores/NOWHERE/devices").await.status, 404);
    let s = app.get("/store/search?q=Product&in_stock_at=HONGDAE").await.expect(200);
    assert_eq!(s["search"]["total"], 1, "{s}");
    assert!(owner.get("/search?store=HONGDAE").await.has("HONGDAE 매장에서 오늘 픽업 가능"));

    // Money the shop could never take back is refused before it is taken: a wallet top-up in a currency
    // nothing is priced in and no rate converts into, or a gift card in one nothing is priced in. Won and
    // dollars (the catalog's prices) are taken; a recorded rate into euros makes euros spendable.
    let top_up = format!("/admin/customers/{cid}/wallet/top-ups");
    for (path, currency) in [(top_up.as_str(), "EUR"), ("/admin/gift-cards", "JPY")] {
        let r = app.admin_post(path, json!({"amount_minor": 5000, "currency": currency})).await;
        assert_eq!((r.status, r.code()), (400, "currency_not_used"), "{:?}", r.body);
        assert!(r.body["error"]["message"].as_str().unwrap().contains(currency), "{:?}", r.body);
        assert!(r.body["error"]["message_ko"].as_str().unwrap().contains("환율"), "{:?}", r.body);
    }
    let w = app.req("GET", "/store/wallet", Some(&token), None, &[]).await.expect(200);
    assert!(w["data"].as_array().unwrap().iter().all(|a| a["currency"] != "EUR"), "no euro wallet was opened: {w}");
    app.admin_post(&top_up, json!({"amount_minor": 500, "currency": "USD"})).await.expect(201);
    app.admin_post("/admin/gift-cards", json!({"amount_minor": 500, "currency": "USD"})).await.expect(201);
    app.admin_post("/admin/fx-rates", json!({"base": "KRW", "quote": "EUR", "rate": "0.00068"})).await.expect(201);
    app.admin_post(&top_up, json!({"amount_minor": 500, "currency": "EUR"})).await.expect(201);
    let r = app.admin_post("/admin/gift-cards", json!({"amount_minor": 500, "currency": "EUR"})).await;
    assert_eq!(r.code(), "currency_not_used", "a gift card pays only in its own currency, which nothing is priced in");

    // A checkout missing the payment's code names the field and the code of what is missing; a locale other
    // than ko or en has one code wherever it is sent.
    let cart = app.pickup_cart("CON-TEE", 1, &gangnam).await;
    let checkout = format!("/store/carts/{cart}/checkout");
    for (payment, code) in [
        (json!({"method": "card"}), "card_required"),
        (json!({"method": "gift_card"}), "gift_card_required"),
        (json!({"method": "pay_at_pickup", "code": "GC-1"}), "invalid_request"),
    ] {
        let r = app.post(&checkout, json!({"email": "code@example.com", "payment": payment})).await;
        assert_eq!((r.status, r.code()), (400, code), "{:?}", r.body);
        assert!(r.body["error"]["message"].as_str().unwrap().contains("`payment.code`"), "{:?}", r.body);
    }
    // A delivery address: a postcode in its country's shape, and what is missing named in Korean.
    let fulfil = format!("/store/carts/{cart}/fulfillment");
    let address = |postal: &str, recipient: &str| {
        json!({"type": "delivery", "address": {"recipient": recipient, "phone": "010-1234-5678", "line1": "강남대로 1",
               "city": "서울", "postal_code": postal, "country": "KR"}})
    };
    for bad in ["zzzzzz", "1", "0623"] {
        let r = app.put(&fulfil, address(bad, "김민지")).await;
        assert_eq!((r.status, r.code()), (400, "invalid_postal_code"), "{bad}: {:?}", r.body);
        assert!(r.body["error"]["message_ko"].as_str().unwrap().contains("숫자 5자리"), "{:?}", r.body);
    }
    let r = app.put(&fulfil, address("06236", "")).await;
    assert_eq!((r.status, r.code()), (400, "address_incomplete"), "{:?}", r.body);
    assert_eq!(r.body["error"]["message_ko"], "배송지의 받는 분을 입력해 주세요.");
    app.put(&fulfil, address("06236", "김민지")).await.expect(200);
    let r = app
        .signup(json!({"email": "fr@example.com", "password": "wallet password", "name": "F", "locale": "fr"}))
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_locale"), "{:?}", r.body);
    let r = engine.add_staff("fr@example.com", "FR", PW, "associate", Some("GANGNAM"), "fr").await.unwrap_err();
    assert_eq!(r.code(), "invalid_locale");

    // A mistyped address under the pages' own paths gets a page, not the API's JSON.
    let p = shopper.get("/account/no-such-page").await;
    assert_eq!(p.status, 404);
    assert!(p.has("없는 페이지입니다") && p.has("<main"), "{}", p.body);
    let p = owner.get("/console/no-such-screen").await;
    assert_eq!(p.status, 404);
    assert!(p.has("없는 화면입니다") && p.has("<main"), "{}", p.body);
    app.assert_no_drift().await;
}
both!(typed_by_hand);
