//! The shopper's storefront over HTTP, as a browser without JavaScript uses it: browsing and search with
//! what search engines read (canonical and hreflang links, schema.org data, the sitemap), a guest's
//! click & collect checkout paid at pickup (once per submit, the order readable only with its link, the
//! pickup code and QR once ready), a product selling out while it sits in a cart (explained, nothing
//! reserved), an account's sign-up, wallet checkout, payment QR and sign-out, analytics consent (no view
//! or search is stored without it), a product's 3D model set through the admin API and the console, and
//! cards through the processor's form (declined, paid, a wallet top-up once per submit).

use crate::both;
use crate::browser::Browser;
use crate::helpers::*;
use serde_json::json;

async fn setup(backend: Backend) -> (TestApp, String, String) {
    let app = spawn_app(backend).await;
    let gangnam = app.location("GANGNAM", "store", true).await;
    let hongdae = app.location("HONGDAE", "store", true).await;
    app.product("SHOP-TEE", 29_000).await;
    app.stock_in("SHOP-TEE", &gangnam, 5).await;
    // Search follows the catalog and stock through events: wait until the shirt is findable at Gangnam.
    for _ in 0..100 {
        let s = app.get(&format!("/store/search?q=tee&in_stock_at={gangnam}")).await.expect(200);
        if s["search"]["total"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    (app, gangnam, hongdae)
}

fn location_of(p: &crate::browser::Page) -> String {
    p.location.clone().unwrap_or_else(|| panic!("no redirect ({}): {}", p.status, p.body))
}

async fn browsing_and_search_engines(backend: Backend) {
    let (app, _, _) = setup(backend).await;
    let mut b = Browser::new(&app);

    let home = b.get("/").await;
    assert_eq!(home.status, 200, "the root is the shop: {}", home.body);
    assert!(home.has("<html lang=\"ko\""), "Korean by default");
    assert!(home.has("rel=\"canonical\"") && home.has("hreflang=\"en\"") && home.has("hreflang=\"ko\""));
    assert!(home.has("이 사이트에서 보고 검색한 기록을 저장해도 될까요?"), "the consent banner until answered");
    let en = b.get("/?lang=en").await;
    assert!(en.has("<html lang=\"en\"") && en.has("Shop online, pick up today"), "English one tap away");
    assert!(b.cookies.get("bl_lang").is_some_and(|l| l == "en"), "the choice is remembered");
    let ko = b.get("/?lang=ko").await;
    assert!(ko.has("<html lang=\"ko\""));

    let s = b.get("/search?q=%EC%83%81%ED%92%88").await;
    assert_eq!(s.status, 200);
    assert!(s.has("상품 SHOP-TEE") && s.has("href=\"/p/shop-tee\""), "{}", s.body);
    assert!(s.has("name=\"robots\" content=\"noindex\""), "free-text results stay out of search engines");
    // Nothing matches: categories to browse instead, never an empty page.
    let none = b.get("/search?q=zzqqxx").await;
    assert_eq!(none.status, 200);
    assert!(
        none.has("검색과 일치하는 상품이 없습니다") && none.has("/search?category=apparel%2Ftops"),
        "{}",
        none.body
    );
    // Nothing with these filters: the categories where the words match without them, words kept.
    let narrowed = b.get("/search?q=%EC%83%81%ED%92%88&price_max=1000").await;
    assert_eq!(narrowed.status, 200);
    assert!(
        narrowed.has("선택한 조건에 맞는 상품이 없습니다")
            && narrowed.has("/search?q=%EC%83%81%ED%92%88&amp;category=apparel%2Ftops"),
        "{}",
        narrowed.body
    );
    // A bad filter is explained at its field, in the reader's language.
    let bad = b.get("/search?q=tee&price_max=abc").await;
    assert_eq!(bad.status, 400);
    assert!(bad.has("‘abc’은(는) 금액으로 읽을 수 없습니다. KRW 금액은 39000, 39,000 또는 3만9천처럼"), "{}", bad.body);
    // Pick up today at a store that has none: nothing listed there.
    let hongdae_id = {
        let l = app.get("/store/locations").await.expect(200);
        l["data"].as_array().unwrap().iter().find(|l| l["code"] == "HONGDAE").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let at_hongdae = b.get(&format!("/search?q=tee&store={hongdae_id}")).await;
    assert!(!at_hongdae.has("href=\"/p/shop-tee\""), "not in stock at Hongdae");

    let p = b.get("/p/shop-tee").await;
    assert_eq!(p.status, 200);
    assert!(p.has("GANGNAM 매장 5개, 오늘 픽업 가능"), "per-store availability with its label: {}", p.body);
    assert!(p.has("₩29,000"));
    assert!(
        p.has("\"@type\":\"Product\"") && p.has("https://schema.org/InStock") && p.has("\"priceCurrency\":\"KRW\"")
    );
    assert!(p.has("property=\"og:type\" content=\"product\""));
    assert!(p.has("<link rel=\"canonical\" href=\"http://127.0.0.1"), "absolute canonical URL");
    let usd = b.get("/p/shop-tee?currency=USD").await;
    assert!(usd.has("$19.99"), "prices in the shopper's currency where the catalog has it");
    b.get("/?currency=KRW").await;
    let missing = b.get("/p/no-such-thing").await;
    assert_eq!(missing.status, 404);
    assert!(missing.has("찾는 상품이 없거나 더 이상 판매하지 않습니다"), "{}", missing.body);

    let map = b.get("/sitemap.xml").await;
    assert_eq!(map.status, 200);
    assert!(
        map.has("/p/shop-tee</loc>") && map.has("/p/shop-tee?lang=en") && map.has("hreflang=\"en\""),
        "{}",
        map.body
    );
    let robots = b.get("/robots.txt").await;
    assert!(robots.has("Sitemap: ") && robots.has("Disallow: /checkout"));
    // Every page carries the security headers of the console.
    assert!(p
        .headers
        .get("content-security-policy")
        .is_some_and(|v| v.to_str().unwrap().contains("script-src 'self'")));
}
both!(browsing_and_search_engines);

async fn guest_click_and_collect(backend: Backend) {
    let (app, gangnam, _) = setup(backend).await;
    let mut b = Browser::new(&app);

    // A form without the visitor's token (another site posting it) changes nothing.
    b.get("/").await;
    let forged = b.post("/cart/add", &[("sku", "SHOP-TEE"), ("quantity", "1"), ("_csrf", "forged")]).await;
    assert_eq!(forged.status, 403);
    assert!(forged.has("화면이 만료되어 처리하지 않았습니다"));

    let added =
        b.submit("/p/shop-tee", "/cart/add", &[("sku", "SHOP-TEE"), ("quantity", "2"), ("next", "/p/shop-tee")]).await;
    assert_eq!(added.status, 303, "{}", added.body);
    let added_cart = b.cookies.get("bl_cart").cloned().expect("a cart cookie");
    let too_many =
        b.submit("/p/shop-tee", "/cart/add", &[("sku", "SHOP-TEE"), ("quantity", "50"), ("next", "/p/shop-tee")]).await;
    assert_eq!(too_many.status, 303);
    let back = b.get("/p/shop-tee").await;
    assert!(back.has("수량은 1개부터 20개까지"), "the refusal is shown on the page it came from: {}", back.body);

    let cart = b.get("/cart").await;
    assert!(cart.has("상품 SHOP-TEE") && cart.has("₩58,000"), "{}", cart.body);
    assert!(cart.has("모두 재고 있음, 오늘 픽업"), "stores listed with live availability for the whole cart");
    // Delivery without an address: explained at the fields, the choice kept.
    let no_address = b.submit("/cart", "/cart/fulfillment", &[("choice", "delivery")]).await;
    assert_eq!(no_address.status, 400, "{}", no_address.body);
    let chosen = b.submit("/cart", "/cart/fulfillment", &[("choice", &format!("pickup:{gangnam}"))]).await;
    assert_eq!(location_of(&chosen), "/checkout");

    let checkout = b.get("/checkout").await;
    assert_eq!(checkout.status, 200);
    assert!(checkout.has("픽업할 때 매장에서 결제") && checkout.has("name=\"_once\""));
    let once = checkout.field("_once");
    let csrf = checkout.field("_csrf");
    // A guest must leave an email.
    let no_email = b.post("/checkout", &[("method", "pay_at_pickup"), ("_csrf", &csrf), ("_once", &once)]).await;
    assert_eq!(no_email.status, 400);
    assert!(no_email.has("이메일을 입력해 주세요"));
    let placed = b
        .post(
            "/checkout",
            &[("method", "pay_at_pickup"), ("email", "guest@example.com"), ("_csrf", &csrf), ("_once", &once)],
        )
        .await;
    let to = location_of(&placed);
    assert!(to.starts_with("/orders/ord_") && to.contains("?token="), "{to}");
    assert!(!b.cookies.contains_key("bl_cart"), "the ordered cart is forgotten");
    // The same submit again (a double tap: the browser still holds the cart) lands on the same order and
    // places nothing more.
    let cart_id = added_cart.clone();
    b.cookies.insert("bl_cart".into(), cart_id);
    let again = b
        .post(
            "/checkout",
            &[("method", "pay_at_pickup"), ("email", "guest@example.com"), ("_csrf", &csrf), ("_once", &once)],
        )
        .await;
    assert_eq!(location_of(&again), to);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(app.level("SHOP-TEE", &gangnam).await.1, 2, "two units reserved at Gangnam");

    let order_id = to.trim_start_matches("/orders/").split('?').next().unwrap().to_owned();
    let page = b.get(&to).await;
    assert_eq!(page.status, 200);
    assert!(
        page.has("주문이 완료되었습니다")
            && page.has("주문 접수")
            && page.has("GANGNAM 매장에서 상품을 준비하고 있습니다"),
        "{}",
        page.body
    );
    assert!(page.has("data-refresh"), "the page refreshes itself while the store prepares it (with JavaScript)");
    let stranger = Browser::new(&app).get(&format!("/orders/{order_id}")).await;
    assert_eq!(stranger.status, 404, "an order id alone opens nothing");

    app.admin_post(&format!("/admin/orders/{order_id}/ready-for-pickup"), json!({})).await.expect(200);
    let ready = b.get(&to).await;
    assert!(ready.has("픽업 데스크에서 보여 주세요") && ready.has("data:image/svg+xml;base64,"), "{}", ready.body);
    let token = to.split("token=").nth(1).unwrap();
    let code = app.get(&format!("/store/orders/{order_id}?token={token}")).await.expect(200)["order"]["pickup"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(ready.has(&code));
    app.admin_post(&format!("/admin/orders/{order_id}/picked-up"), json!({"code": code})).await.expect(200);
    assert!(b.get(&to).await.has("픽업 완료"));

    // Sold out while in the cart: another shopper takes the last units first.
    let mut late = Browser::new(&app);
    late.submit("/p/shop-tee", "/cart/add", &[("sku", "SHOP-TEE"), ("quantity", "3"), ("next", "/p/shop-tee")]).await;
    late.submit("/cart", "/cart/fulfillment", &[("choice", &format!("pickup:{gangnam}"))]).await;
    let other = app.pickup_cart("SHOP-TEE", 3, &gangnam).await;
    app.checkout(&other, "first-come").await.expect(201);
    let before = app.level("SHOP-TEE", &gangnam).await;
    let refused =
        late.submit("/checkout", "/checkout", &[("method", "pay_at_pickup"), ("email", "late@example.com")]).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.has("‘상품 SHOP-TEE’의 재고가 방금 소진되었습니다") && refused.has("결제되거나 예약된 것은 없습니다"),
        "{}",
        refused.body
    );
    assert!(!refused.has("out_of_stock"), "never a raw error code");
    assert_eq!(app.level("SHOP-TEE", &gangnam).await, before, "nothing reserved");
    app.assert_no_drift().await;
}
both!(guest_click_and_collect);

async fn account_wallet_and_consent(backend: Backend) {
    let (app, gangnam, _) = setup(backend).await;
    let mut b = Browser::new(&app);

    let signed_up = b
        .sign_up(
            &app,
            &[
                ("name", "김보더"),
                ("email", "kim@example.com"),
                ("password", "long enough password"),
                ("next", "/account"),
            ],
        )
        .await;
    assert_eq!(location_of(&signed_up), "/account");
    let again = b.get("/account/verify?token=bl_signup_used").await;
    assert_eq!(again.status, 200, "the page only shows the button");
    let used =
        b.submit("/account/verify?token=bl_signup_used", "/account/verify", &[("token", "bl_signup_used")]).await;
    assert!(used.status == 400 && used.has("다시 가입해 새 링크를 받으세요"), "{}", used.body);
    let account = b.get("/account").await;
    assert!(account.has("김보더님의 계정") && account.has("아직 주문이 없습니다"), "{}", account.body);
    let cid = app.admin_get("/admin/customers?email=kim%40example.com").await.expect(200)["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.req(
        "POST",
        &format!("/admin/customers/{cid}/wallet/top-ups"),
        Some(ADMIN_KEY),
        Some(json!({"amount_minor": 100000, "currency": "KRW", "location_id": gangnam})),
        &[("Idempotency-Key", "shop-topup")],
    )
    .await
    .expect(201);
    assert!(b.get("/account/wallet").await.has("₩100,000"));

    b.submit("/p/shop-tee", "/cart/add", &[("sku", "SHOP-TEE"), ("quantity", "1"), ("next", "/p/shop-tee")]).await;
    b.submit("/cart", "/cart/fulfillment", &[("choice", &format!("pickup:{gangnam}"))]).await;
    let checkout = b.get("/checkout").await;
    assert!(
        checkout.has("내 지갑") && !checkout.has("name=\"email\""),
        "a signed-in shopper pays from the wallet: {}",
        checkout.body
    );
    let paid = b.submit("/checkout", "/checkout", &[("method", "wallet")]).await;
    let to = location_of(&paid);
    assert!(to.starts_with("/orders/") && !to.contains("token"), "the owner's session opens it: {to}");
    let order = b.get(&to).await;
    assert!(order.has("지갑") && order.has("승인됨"), "{}", order.body);
    assert!(b.get("/account").await.has("주문 접수"), "the account lists it");

    // The one-time payment QR for a till or the cashierless gate.
    let qr = b.submit("/account/pay", "/account/pay", &[]).await;
    assert_eq!(qr.status, 200, "{}", qr.body);
    assert!(qr.has("data:image/svg+xml;base64,") && qr.has("data-rotate=\""), "{}", qr.body);

    // A till's payment request, looked up by its code and confirmed from the wallet.
    let req = app
        .admin_post(
            "/admin/pos/payment-requests",
            json!({"location_id": gangnam, "lines": [{"sku": "SHOP-TEE", "quantity": 1}]}),
        )
        .await
        .expect(201);
    let qr = req["payment_request"]["qr"].as_str().unwrap();
    let shown = b.get(&format!("/account/pay/request?code={qr}")).await;
    assert!(shown.has("₩29,000") && shown.has("내 지갑으로 결제"), "{}", shown.body);
    let confirmed = b.submit(&format!("/account/pay/request?code={qr}"), "/account/pay/request", &[("code", qr)]).await;
    assert!(location_of(&confirmed).starts_with("/orders/"), "{}", confirmed.body);
    let twice = b.submit(&format!("/account/pay/request?code={qr}"), "/account/pay/request", &[("code", qr)]).await;
    assert_eq!(location_of(&twice), location_of(&confirmed), "a second confirmation shows the same sale");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders WHERE channel = 'pos'").await, 1, "paid once");
    let unknown = b.get("/account/pay/request?code=NOPE").await;
    assert_eq!(unknown.status, 404);

    // Consent: nothing is recorded before it; views are recorded after it.
    let events = || app.count("SELECT COUNT(*) FROM interactions WHERE kind IN ('view', 'search')");
    let before = events().await;
    b.get("/p/shop-tee").await;
    b.get("/search?q=tee").await;
    assert_eq!(events().await, before, "no view or search stored without consent");
    let allowed = b.submit("/", "/consent", &[("choice", "yes"), ("next", "/")]).await;
    assert_eq!(allowed.status, 303);
    assert!(!b.get("/").await.has("저장해도 될까요?"), "the banner is gone once answered");
    b.get("/p/shop-tee").await;
    b.get("/search?q=tee").await;
    assert_eq!(events().await, before + 2, "a view and a search with consent");
    b.submit("/account/privacy", "/consent", &[("choice", "no"), ("next", "/account/privacy")]).await;
    b.get("/p/shop-tee").await;
    assert_eq!(events().await, before + 2, "withdrawn: nothing more");

    let out = b.submit("/account", "/account/logout", &[]).await;
    assert_eq!(location_of(&out), "/");
    let gone = b.get("/account").await;
    assert_eq!(gone.status, 303);
    assert!(location_of(&gone).starts_with("/account/login?next="));

    let wrong = b
        .submit(
            "/account/login",
            "/account/login",
            &[("email", "kim@example.com"), ("password", "not the password"), ("next", "/")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.has("이메일 또는 비밀번호가 올바르지 않습니다") && wrong.has("value=\"kim@example.com\""));
    let back = b
        .submit(
            "/account/login",
            "/account/login",
            &[("email", "kim@example.com"), ("password", "long enough password"), ("next", "/account")],
        )
        .await;
    assert_eq!(location_of(&back), "/account");
    // A `next` pointing elsewhere is not followed.
    b.submit("/account", "/account/logout", &[]).await;
    let evil = b
        .submit(
            "/account/login",
            "/account/login",
            &[("email", "kim@example.com"), ("password", "long enough password"), ("next", "//evil.example/")],
        )
        .await;
    assert_eq!(location_of(&evil), "/");
    app.assert_no_drift().await;
}
both!(account_wallet_and_consent);

async fn three_d_models(backend: Backend) {
    use base64::Engine as _;
    let (app, _, _) = setup(backend).await;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    // A file that is not a model is refused with what is wrong; nothing is stored.
    let bad = app
        .req(
            "PUT",
            "/admin/products/shop-tee/model",
            Some(ADMIN_KEY),
            Some(json!({"glb_base64": b64(b"PK\x03\x04 zip")})),
            &[],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.code(), "invalid_model");
    assert!(bad.body["error"]["message"].as_str().unwrap().contains("export the model as .glb"));
    assert_eq!(app.admin_get("/admin/products/shop-tee/model").await.status, 404);
    let not_b64 = app
        .req("PUT", "/admin/products/shop-tee/model", Some(ADMIN_KEY), Some(json!({"glb_base64": "%%%"})), &[])
        .await;
    assert_eq!(not_b64.status, 400);

    let mut b = Browser::new(&app);
    assert!(!b.get("/p/shop-tee").await.has("data-model-viewer"), "no viewer without a model");
    let glb = catalog_io::media::triangle_glb();
    let set = app
        .req("PUT", "/admin/products/shop-tee/model", Some(ADMIN_KEY), Some(json!({"glb_base64": b64(&glb)})), &[])
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    let url = set.body["model"]["url"].as_str().unwrap().to_owned();
    assert_eq!(set.body["model"]["bytes"], glb.len());
    let page = b.get("/p/shop-tee").await;
    assert!(page.has("data-model-viewer") && page.has(&url.replace('&', "&amp;")), "{}", page.body);
    assert!(page.has("3D 모델 파일 (.glb)"), "a download link without JavaScript");
    assert!(
        !page.has("<script src=\"/assets/model-viewer.js") && page.has("data-script=\"/assets/model-viewer.js"),
        "the viewer's script is fetched on request only"
    );
    let file = reqwest::get(format!("{}{url}", app.url)).await.unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "model/gltf-binary");
    assert!(file.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    assert_eq!(file.bytes().await.unwrap().as_ref(), glb.as_slice());
    assert_eq!(reqwest::get(format!("{}/media/models/prod_nope.glb", app.url)).await.unwrap().status(), 404);

    // The console: the owner replaces it with an upload; a bad file is explained at the field.
    let engine = &app.running.as_ref().unwrap().engine;
    engine.add_staff("owner@example.com", "Owner", "console password", "owner", None, "ko").await.unwrap();
    let login = b.get("/console/login").await;
    let pre = login.field("_pre");
    b.post(
        "/console/login",
        &[("email", "owner@example.com"), ("password", "console password"), ("_pre", &pre), ("next", "/console")],
    )
    .await;
    let pid = set.body["model"]["product_id"].as_str().unwrap().to_owned();
    let screen = b.get(&format!("/console/catalog/{pid}/model")).await;
    assert_eq!(screen.status, 200, "{}", screen.body);
    assert!(screen.has("현재 모델"));
    let csrf = screen.field("_csrf");
    let wrong = b
        .multipart(
            &format!("/console/catalog/{pid}/model"),
            &[("_csrf", &csrf)],
            ("case.obj", "text/plain", b"v 0 0 0"),
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.has("3D 모델로 쓸 수 없는 파일입니다") && wrong.has(".glb"), "{}", wrong.body);
    let bigger = catalog_io::media::glb(
        r#"{"asset":{"version":"2.0","generator":"console test"},"meshes":[{"primitives":[]}]}"#,
        &[],
    );
    let ok = b
        .multipart(
            &format!("/console/catalog/{pid}/model"),
            &[("_csrf", &csrf)],
            ("case.glb", "model/gltf-binary", &bigger),
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let info = app.admin_get("/admin/products/shop-tee/model").await.expect(200);
    assert_eq!(info["model"]["bytes"], bigger.len());
    let forged = b
        .multipart(
            &format!("/console/catalog/{pid}/model"),
            &[("_csrf", "forged")],
            ("case.glb", "model/gltf-binary", &glb),
        )
        .await;
    assert_eq!(forged.status, 403);
    let removed =
        b.submit(&format!("/console/catalog/{pid}/model"), &format!("/console/catalog/{pid}/model/delete"), &[]).await;
    assert_eq!(removed.status, 303);
    assert_eq!(app.admin_get("/admin/products/shop-tee/model").await.status, 404);
    assert!(!b.get("/p/shop-tee").await.has("data-model-viewer"));
    app.req("DELETE", "/admin/products/shop-tee/model", Some(ADMIN_KEY), None, &[]).await.expect(204);
}
both!(three_d_models);

async fn cards_through_the_processors_form(backend: Backend) {
    let (psp, _) = crate::cards::processor().await;
    let app = spawn_app_full(backend, std::time::Duration::from_secs(72 * 3600), Some(psp)).await;
    let gangnam = app.location("GANGNAM", "store", true).await;
    app.product("SHOP-TEE", 29_000).await;
    app.stock_in("SHOP-TEE", &gangnam, 5).await;
    let mut b = Browser::new(&app);
    let up = b
        .sign_up(
            &app,
            &[
                ("name", "카드 고객"),
                ("email", "card@example.com"),
                ("password", "long enough password"),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(up.status, 303, "{}", up.body);
    b.submit("/p/shop-tee", "/cart/add", &[("sku", "SHOP-TEE"), ("quantity", "1"), ("next", "/p/shop-tee")]).await;
    b.submit("/cart", "/cart/fulfillment", &[("choice", &format!("pickup:{gangnam}"))]).await;

    // The processor's form: its key on the page, its script and frames allowed on this page only.
    let page = b.get("/checkout").await;
    assert!(page.has("data-card-key=\"pk_test_borderless\"") && page.has("value=\"card\""), "{}", page.body);
    let csp = page.headers["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("https://js.stripe.com") && csp.contains("frame-src https://js.stripe.com"), "{csp}");
    assert!(
        !b.get("/").await.headers["content-security-policy"].to_str().unwrap().contains("stripe"),
        "other pages keep the strict policy"
    );

    let no_token = b.submit("/checkout", "/checkout", &[("method", "card")]).await;
    assert_eq!(no_token.status, 400);
    assert!(no_token.has("카드 정보를 입력해 주세요"));
    let declined =
        b.submit("/checkout", "/checkout", &[("method", "card"), ("card_token", "pm_card_chargeDeclined")]).await;
    assert_eq!(declined.status, 402, "{}", declined.body);
    assert!(declined.has("카드 결제가 거절되었습니다") && declined.has("결제된 금액은 없습니다"), "{}", declined.body);
    assert_eq!(app.level("SHOP-TEE", &gangnam).await.1, 0, "nothing reserved for a declined card");
    let paid = b.submit("/checkout", "/checkout", &[("method", "card"), ("card_token", "pm_card_visa")]).await;
    let to = location_of(&paid);
    assert!(to.starts_with("/orders/"), "{to}");
    let order = b.get(&to).await;
    assert!(order.has("카드") && order.has("승인됨"), "{}", order.body);
    assert_eq!(app.level("SHOP-TEE", &gangnam).await.1, 1);

    // Topping up the wallet by card, once per submit.
    let wallet = b.get("/account/wallet").await;
    assert!(wallet.has("카드로 충전") && wallet.has("data-card-key"));
    let bad_amount = b
        .submit("/account/wallet", "/account/wallet/top-up", &[("amount", "abc"), ("card_token", "pm_card_visa")])
        .await;
    assert_eq!(bad_amount.status, 400);
    assert!(bad_amount.has("‘abc’은(는) 금액으로 읽을 수 없습니다"), "{}", bad_amount.body);
    let refused = b
        .submit(
            "/account/wallet",
            "/account/wallet/top-up",
            &[("amount", "10000"), ("card_token", "pm_card_chargeDeclined")],
        )
        .await;
    assert_eq!(refused.status, 402);
    let page = b.get("/account/wallet").await;
    let once = page.field("_once");
    let csrf = page.field("_csrf");
    let form =
        [("amount", "10000"), ("card_token", "pm_card_visa"), ("_once", once.as_str()), ("_csrf", csrf.as_str())];
    assert_eq!(location_of(&b.post("/account/wallet/top-up", &form).await), "/account/wallet");
    assert_eq!(location_of(&b.post("/account/wallet/top-up", &form).await), "/account/wallet", "a double submit");
    let after = b.get("/account/wallet").await;
    assert!(after.has("₩10,000"), "{}", after.body);
    assert!(!after.has("₩20,000"), "charged once");
    app.assert_no_drift().await;
}
both!(cards_through_the_processors_form);
