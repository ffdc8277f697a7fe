//! The staff console over HTTP, as a browser without JavaScript uses it: sign-in (throttled, CSRF-checked),
//! every screen for each role, the permission rules (an associate at Hongdae cannot hand over a Gangnam
//! order here either), forms that keep what was typed and explain problems in the reader's language, the
//! pickup desk, a till sale paid by a shopper's one-time QR, stock forms that move stock once per submit,
//! and a CSV import with a bad line.

use crate::both;
use crate::browser::{Browser, Page};
use crate::helpers::*;
use serde_json::json;

const PW: &str = "console password";

impl Browser {
    /// Uploads a catalog CSV through the import form (multipart, as a browser sends it).
    async fn upload(&mut self, csrf: &str, csv: &str) -> Page {
        let fields = [("_csrf", csrf), ("format", "borderless")];
        self.multipart("/console/catalog/import", &fields, ("catalog.csv", "text/csv", csv.as_bytes())).await
    }

    pub(crate) async fn login(&mut self, email: &str, password: &str) -> Page {
        let page = self.get("/console/login").await;
        let pre = page.field("_pre");
        self.post("/console/login", &[("email", email), ("password", password), ("_pre", &pre), ("next", "/console")])
            .await
    }
}

async fn setup(backend: Backend) -> (TestApp, String, String) {
    let app = spawn_app(backend).await;
    let gangnam = app.location("GANGNAM", "store", true).await;
    let hongdae = app.location("HONGDAE", "store", true).await;
    app.product("CON-TEE", 29_000).await;
    app.stock_in("CON-TEE", &gangnam, 10).await;
    app.stock_in("CON-TEE", &hongdae, 10).await;
    let engine = &app.running.as_ref().unwrap().engine;
    engine.add_staff("owner@example.com", "Owner", PW, "owner", None, "ko").await.unwrap();
    engine.add_staff("gn@example.com", "강남 직원", PW, "associate", Some("GANGNAM"), "ko").await.unwrap();
    engine.add_staff("hd@example.com", "홍대 직원", PW, "associate", Some("HONGDAE"), "en").await.unwrap();
    engine.add_staff("gnm@example.com", "강남 매니저", PW, "manager", Some("GANGNAM"), "ko").await.unwrap();
    (app, gangnam, hongdae)
}

async fn pickup_order(app: &TestApp, location: &str, key: &str) -> String {
    let cart = app.pickup_cart("CON-TEE", 1, location).await;
    app.checkout(&cart, key).await.expect(201)["order"]["id"].as_str().unwrap().to_owned()
}

async fn sign_in_and_security(backend: Backend) {
    let (app, _, _) = setup(backend).await;
    let mut b = Browser::new(&app);
    let p = b.get("/console").await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location.as_deref(), Some("/console/login?next=%2Fconsole"));
    let p = b.get("/").await;
    assert_eq!(p.status, 200, "the root is the storefront, not a JSON 404");
    assert!(p.has("href=\"/console\""), "with a way to the console for staff");

    // A wrong password says so in the reader's language and keeps the email typed.
    let p = b.login("owner@example.com", "wrong password").await;
    assert_eq!(p.status, 401);
    assert!(p.has("이메일 또는 비밀번호가 올바르지 않습니다"), "{}", p.body);
    assert!(p.has("value=\"owner@example.com\""));
    // A login form without the pre-session token (another site posting it) is refused.
    let p = b.post("/console/login", &[("email", "owner@example.com"), ("password", PW), ("_pre", "forged")]).await;
    assert_eq!(p.status, 403);

    let p = b.login("owner@example.com", PW).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let set: Vec<&str> = p.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    let session = set.iter().find(|c| c.starts_with("bl_console=")).expect("session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"), "{session}");
    let p = b.get("/console").await;
    assert_eq!(p.status, 200);
    assert!(p.has("<html lang=\"ko\">") && p.has("오늘 매출"));
    let h = |n: &str| p.headers.get(n).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(h("content-security-policy").contains("script-src 'self'"), "CSP: {}", h("content-security-policy"));
    assert!(!h("content-security-policy").contains("unsafe-inline"));
    assert_eq!(h("x-frame-options"), "DENY");
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("cache-control"), "no-store", "pages with customer data are not cached");
    assert!(!p.body.contains("<script>"), "no inline scripts");

    // Forms without the session's CSRF token, or from another origin, do nothing.
    let p = b.post("/console/settings/rates", &[("base", "USD"), ("quote", "KRW"), ("rate", "1400")]).await;
    assert_eq!(p.status, 403);
    b.origin = Some("https://evil.example".into());
    let p = b
        .submit(
            "/console/settings/rates",
            "/console/settings/rates",
            &[("base", "USD"), ("quote", "KRW"), ("rate", "1400")],
        )
        .await;
    assert_eq!(p.status, 403);
    b.origin = Some(app.url.clone());

    // Every screen opens for the owner.
    for path in [
        "/console",
        "/console/orders",
        "/console/pickup",
        "/console/till",
        "/console/inventory",
        "/console/inventory/CON-TEE",
        "/console/catalog",
        "/console/catalog/new",
        "/console/catalog/import",
        "/console/customers",
        "/console/gift-cards",
        "/console/live",
        "/console/settings",
        "/console/settings/locations",
        "/console/settings/keys",
        "/console/settings/webhooks",
        "/console/settings/rates",
        "/console/settings/synonyms",
    ] {
        let p = b.get(path).await;
        assert_eq!(p.status, 200, "{path}: {}", p.body);
        assert!(p.has("<main id=\"main\""), "{path}");
    }
    // Semantic search's state is on the search settings: off here (no model), with how to turn it on.
    let p = b.get("/console/settings/synonyms").await;
    assert!(p.has("--embeddings-url") && p.has("semantic-h"), "{}", p.body);
    // Switching the language is saved for the staff member.
    let p = b.submit("/console", "/console/lang", &[("lang", "en"), ("next", "/console/orders")]).await;
    assert_eq!(p.location.as_deref(), Some("/console/orders"));
    let p = b.get("/console/orders").await;
    assert!(p.has("<html lang=\"en\">") && p.has("Orders"), "{}", p.body);
    // A next= that leaves the console is not followed after login (no open redirect).
    let mut other = Browser::new(&app);
    let page = other.get("/console/login").await;
    let pre = page.field("_pre");
    let p = other
        .post(
            "/console/login",
            &[("email", "owner@example.com"), ("password", PW), ("_pre", &pre), ("next", "https://evil.example/")],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/console"));
    // Logout ends the session on the server, not only in this browser.
    let token = b.cookies["bl_console"].clone();
    let p = b.submit("/console", "/console/logout", &[]).await;
    assert_eq!(p.status, 303);
    assert!(app.running.as_ref().unwrap().engine.staff_session(&token).await.unwrap().is_none());
    assert_eq!(b.get("/console").await.status, 303);
}
both!(sign_in_and_security);

async fn roles_and_the_pickup_desk(backend: Backend) {
    let (app, gangnam, _) = setup(backend).await;
    let order = pickup_order(&app, &gangnam, "console-pickup-1").await;

    // The Hongdae associate cannot see, ready or hand over a Gangnam order, nor open owner screens.
    let mut hd = Browser::new(&app);
    assert_eq!(hd.login("hd@example.com", PW).await.status, 303);
    let p = hd.get(&format!("/console/orders/{order}")).await;
    assert_eq!(p.status, 403);
    assert!(p.has("another location"), "English for this associate: {}", p.body);
    let p = hd.submit("/console/pickup", &format!("/console/orders/{order}/ready"), &[]).await;
    assert_eq!(p.status, 403, "refused by the engine: {}", p.body);
    assert_eq!(app.get(&format!("/admin/orders/{order}")).await.status, 401);
    let status = app.admin_get(&format!("/admin/orders/{order}")).await.expect(200)["order"]["status"].clone();
    assert_eq!(status, "placed", "the Hongdae associate changed nothing");
    for path in ["/console/settings/keys", "/console/catalog/new", "/console/settings"] {
        assert_eq!(hd.get(path).await.status, 403, "{path}");
    }
    let p = hd
        .submit(
            "/console/inventory/CON-TEE",
            "/console/inventory/CON-TEE/adjust",
            &[("location", &gangnam), ("delta", "-5"), ("reason", "x")],
        )
        .await;
    assert_eq!(p.status, 403, "associates do not adjust stock");
    // Hongdae's pickup desk does not list Gangnam's orders.
    assert!(!hd.get("/console/pickup").await.has(&order));

    // The Gangnam associate: the queue shows it; ready in one click; a wrong code is explained at the field.
    let mut gn = Browser::new(&app);
    gn.login("gn@example.com", PW).await;
    let desk = gn.get("/console/pickup").await;
    assert!(desk.has(&order), "{}", desk.body);
    let p = gn.submit("/console/pickup", &format!("/console/orders/{order}/ready"), &[("back", "pickup")]).await;
    assert_eq!(p.location.as_deref(), Some("/console/pickup"));
    let p = gn.get("/console/pickup").await;
    assert!(p.has("픽업 준비 완료로 바꾸었습니다"), "flash shown once: {}", p.body);
    assert!(!gn.get("/console/pickup").await.has("픽업 준비 완료로 바꾸었습니다"), "and only once");
    let p = gn
        .submit(
            &format!("/console/orders/{order}"),
            &format!("/console/orders/{order}/handover"),
            &[("code", "000000"), ("collected", "1")],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.has("픽업 코드가 일치하지 않습니다"), "{}", p.body);
    // The shopper's code, typed at the desk's one box, finds the order and hands it over.
    let code = app.shopper_order(&order).await.expect(200)["order"]["pickup"]["code"].as_str().unwrap().to_owned();
    // Paid at the desk: without "payment taken" nothing is handed over, and the desk says what to take.
    assert!(gn.get("/console/pickup").await.has("29,000 받음"), "the queue's card asks for the total");
    let p = gn.submit("/console/pickup", "/console/pickup/code", &[("code", &code)]).await;
    assert_eq!(p.location.as_deref(), Some("/console/pickup"));
    assert!(gn.get("/console/pickup").await.has("매장에서 결제하는 주문입니다"));
    let o = app.admin_get(&format!("/admin/orders/{order}")).await.expect(200);
    assert_eq!(o["order"]["status"], "ready_for_pickup");
    let p = gn
        .submit(&format!("/console/orders/{order}"), &format!("/console/orders/{order}/handover"), &[("code", &code)])
        .await;
    assert_eq!(p.status, 422, "the order page refuses too: {}", p.body);
    assert!(p.has("확인란에 표시하고 인도해 주세요"), "{}", p.body);
    let p = gn.submit("/console/pickup", "/console/pickup/code", &[("code", &code), ("collected", "1")]).await;
    assert_eq!(p.location.as_deref(), Some("/console/pickup"));
    let o = app.admin_get(&format!("/admin/orders/{order}")).await.expect(200);
    assert_eq!(o["order"]["status"], "picked_up");
    // The timeline names who did it.
    let mut owner = Browser::new(&app);
    owner.login("owner@example.com", PW).await;
    let p = owner.get(&format!("/console/orders/{order}")).await;
    assert!(
        p.has("인도 처리 — 직원 stf_") && !p.has("order.handed_over"),
        "in words, not the audit action: {}",
        p.body
    );
    // A returned item at the counter, refunded once even when the form is sent twice.
    let form = owner.get(&format!("/console/orders/{order}")).await;
    let (csrf, once) = (form.field("_csrf"), form.field("_once"));
    for _ in 0..2 {
        let p = owner
            .post(
                &format!("/console/orders/{order}/return"),
                &[
                    ("_csrf", &csrf),
                    ("_once", &once),
                    ("qty_CON-TEE", "1"),
                    ("cond_CON-TEE", "restock"),
                    ("location", &gangnam),
                    ("refund_to", "original"),
                    ("reason", "size"),
                ],
            )
            .await;
        assert_eq!(p.status, 303, "{}", p.body);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM returns").await, 1, "a double submit returns once");
    app.assert_no_drift().await;
}
both!(roles_and_the_pickup_desk);

async fn stock_forms_and_imports(backend: Backend) {
    let (app, gangnam, hongdae) = setup(backend).await;
    let mut m = Browser::new(&app);
    m.login("gnm@example.com", PW).await;
    // Bad input keeps what was typed and says what to do.
    let p = m
        .submit(
            "/console/inventory/CON-TEE",
            "/console/inventory/CON-TEE/adjust",
            &[("location", &gangnam), ("delta", "two"), ("reason", "count")],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(p.has("정수로 입력해 주세요") && p.has("value=\"two\""), "{}", p.body);
    // A double-submitted adjustment moves stock once.
    let page = m.get("/console/inventory/CON-TEE").await;
    let (csrf, once) = (page.field("_csrf"), page.field("_once"));
    for _ in 0..2 {
        let p = m
            .post(
                "/console/inventory/CON-TEE/adjust",
                &[("_csrf", &csrf), ("_once", &once), ("location", &gangnam), ("delta", "-2"), ("reason", "damaged")],
            )
            .await;
        assert_eq!(p.status, 303, "{}", p.body);
    }
    assert_eq!(app.level("CON-TEE", &gangnam).await.0, 8);
    // A manager moves stock out of their own store only.
    let p = m
        .submit(
            "/console/inventory/CON-TEE",
            "/console/inventory/CON-TEE/transfer",
            &[("from", &hongdae), ("to", &gangnam), ("quantity", "1")],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.has("권한이 없습니다"), "{}", p.body);
    let p = m
        .submit(
            "/console/inventory/CON-TEE",
            "/console/inventory/CON-TEE/transfer",
            &[("from", &gangnam), ("to", &hongdae), ("quantity", "3")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!((app.level("CON-TEE", &gangnam).await.0, app.level("CON-TEE", &hongdae).await.0), (5, 13));
    let grid = m.get("/console/inventory?q=con-tee").await;
    assert!(grid.has("CON-TEE"));
    // The movement log says the engine's reasons in Korean.
    let log = m.get(&format!("/console/inventory/CON-TEE?location={gangnam}")).await;
    assert!(log.has("매장 간 이동") && !log.has(">transfer<"), "{}", log.body);

    // The owner imports a CSV with one bad line: every problem is listed and nothing is written.
    let mut o = Browser::new(&app);
    o.login("owner@example.com", PW).await;
    let page = o.get("/console/catalog/import").await;
    let csrf = page.field("_csrf");
    let csv = "handle,title_ko,title_en,category,sku,price_krw\nmug,머그,Mug,kitchen,MUG-1,9000\nbad,나쁨,Bad,kitchen,BAD 1,-5\n";
    let p = o.upload(&csrf, csv).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.has("<td class=\"num\">3</td>"), "the bad line is named: {}", p.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM products WHERE handle = 'mug'").await, 0, "nothing imported");
    let good = "handle,title_ko,title_en,category,sku,price_krw\nmug,머그,Mug,kitchen,MUG-1,9000\n";
    let p = o.upload(&csrf, good).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM products WHERE handle = 'mug'").await, 1);
    app.assert_no_drift().await;
}
both!(stock_forms_and_imports);

async fn till_sale_by_wallet_qr(backend: Backend) {
    let (app, gangnam, _) = setup(backend).await;
    let s =
        app.signup(json!({"email": "qr@example.com", "password": "wallet password", "name": "큐알"})).await.expect(201);
    let (cid, token) = (s["customer"]["id"].as_str().unwrap().to_owned(), s["token"].as_str().unwrap().to_owned());
    app.admin_post(
        &format!("/admin/customers/{cid}/wallet/top-ups"),
        json!({"amount_minor": 50_000, "currency": "KRW", "location_id": gangnam}),
    )
    .await
    .expect(201);
    let code = app.req("POST", "/store/wallet/payment-codes", Some(&token), None, &[]).await.expect(201)
        ["payment_code"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut gn = Browser::new(&app);
    gn.login("gn@example.com", PW).await;
    // Scan the item: the basket lives in the page.
    let p = gn.submit("/console/till", "/console/till", &[("op", "add"), ("code", "con-tee")]).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.has("name=\"line\" value=\"CON-TEE*1\"") && p.has("₩29,000"), "{}", p.body);
    // An unknown code is explained at the field.
    let p = gn
        .submit("/console/till", "/console/till", &[("op", "add"), ("code", "NOPE-123"), ("line", "CON-TEE*1")])
        .await;
    assert_eq!(p.status, 422);
    assert!(p.has("이 코드나 이름의 상품이 없습니다") && p.has("CON-TEE*1"), "the basket is kept: {}", p.body);
    // Charge it to the shopper's one-time QR; the till lands on the receipt.
    let page = gn.get("/console/till").await;
    let csrf = page.field("_csrf");
    let charge = [
        ("_csrf", csrf.as_str()),
        ("_once", "till-1"),
        ("op", "charge"),
        ("line", "CON-TEE*1"),
        ("method", "wallet_qr"),
        ("pay_code", code.as_str()),
    ];
    let p = gn.post("/console/till", &charge).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let receipt = p.location.unwrap();
    assert!(receipt.ends_with("/receipt"), "{receipt}");
    assert!(gn.get(&receipt).await.has("₩29,000"));
    // Its timeline says what happened at the till, in words: a sale reserves nothing.
    let order_page = gn.get(receipt.trim_end_matches("/receipt")).await;
    assert!(order_page.has("판매 기록") && order_page.has("계산대에서 판매 — 나"), "{}", order_page.body);
    assert!(!order_page.has("재고 예약") && !order_page.has("order.sold"), "{}", order_page.body);
    // The same form again (a double tap) sells once; the code cannot pay twice.
    let again = gn.post("/console/till", &charge).await;
    assert_eq!(again.location.as_deref(), Some(receipt.as_str()), "the first sale's receipt");
    let p = gn
        .post(
            "/console/till",
            &[
                ("_csrf", &csrf),
                ("_once", "till-2"),
                ("op", "charge"),
                ("line", "CON-TEE*1"),
                ("method", "wallet_qr"),
                ("pay_code", &code),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "a used code: {}", p.body);
    let w = app.req("GET", "/store/wallet", Some(&token), None, &[]).await.expect(200);
    let krw = w["data"].as_array().unwrap().iter().find(|a| a["currency"] == "KRW").unwrap().clone();
    assert_eq!(krw["available_minor"], 21_000);
    assert_eq!(app.level("CON-TEE", &gangnam).await.0, 9);
    // The customer's page at the counter: the statement newest first.
    let page = gn.get(&format!("/console/customers/{cid}")).await;
    let (paid, topped) = (page.body.find("−₩29,000"), page.body.find("+₩50,000"));
    assert!(paid.is_some() && topped.is_some() && paid < topped, "newest first: {}", page.body);
    app.assert_no_drift().await;
}
both!(till_sale_by_wallet_qr);
