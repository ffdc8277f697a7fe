//! Recommendations from one history: store purchases and online views feed one log; the trained model
//! serves product-page, cart and home recommendations of things in stock, with reasons, to the right
//! people only.

use crate::both;
use crate::helpers::*;
use serde_json::{json, Value};

async fn sell(app: &TestApp, store: &str, skus: &[&str], customer: Option<&str>) {
    let lines: Vec<Value> = skus.iter().map(|s| json!({"sku": s, "quantity": 1})).collect();
    let mut body = json!({"location_id": store, "lines": lines});
    if let Some(c) = customer {
        body["customer_id"] = json!(c);
    }
    app.admin_post("/admin/pos/sales", body).await.expect(201);
}

async fn product_id(app: &TestApp, sku: &str) -> String {
    app.admin_get(&format!("/admin/products/{}", sku.to_lowercase())).await.expect(200)["product"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Trains (which first catches up with the event feed) until the log holds `want` purchase rows, or gives
/// up after 5 s; returns the count.
async fn settle_purchases(app: &TestApp, want: i64) -> i64 {
    let count = || app.count("SELECT COUNT(*) FROM interactions WHERE kind = 'purchase'");
    for _ in 0..100 {
        app.admin_post("/admin/recommendations/model", json!({})).await.expect(201);
        if count().await == want {
            return want;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    count().await
}

fn ids(v: &Value) -> Vec<String> {
    v["recommendations"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["product_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn recommendations_follow_one_history(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let other = app.location("HONGDAE", "store", true).await;
    for (sku, qty) in [("BEANS", 60), ("FILTER", 60), ("MUG", 60), ("TEA", 60), ("GRINDER", 3)] {
        app.product(sku, 10_000).await;
        app.stock_in(sku, &store, qty).await;
    }
    let (beans, filter, mug, tea, grinder) = (
        product_id(&app, "BEANS").await,
        product_id(&app, "FILTER").await,
        product_id(&app, "MUG").await,
        product_id(&app, "TEA").await,
        product_id(&app, "GRINDER").await,
    );
    // Store history: beans go with filters, less often with mugs; the grinder sold out with beans.
    for _ in 0..6 {
        sell(&app, &store, &["BEANS", "FILTER"], None).await;
    }
    for _ in 0..3 {
        sell(&app, &store, &["BEANS", "MUG"], None).await;
    }
    for _ in 0..3 {
        sell(&app, &store, &["BEANS", "GRINDER"], None).await;
    }
    for _ in 0..4 {
        sell(&app, &store, &["TEA"], None).await;
    }
    // A member buys beans at the counter and browses tea online.
    let s =
        app.signup(json!({"email": "reco@example.com", "password": "coffee lover", "name": "커피"})).await.expect(201);
    let (cid, token) = (s["customer"]["id"].as_str().unwrap().to_owned(), s["token"].as_str().unwrap().to_owned());
    sell(&app, &store, &["BEANS"], Some(&cid)).await;
    let r = app
        .req(
            "POST",
            "/store/events",
            Some(&token),
            Some(json!({"events": [{"type": "view", "product_id": tea}, {"type": "search", "query": "차 선물"}]})),
            &[],
        )
        .await
        .expect(202);
    assert_eq!(r["accepted"], 2);

    // Before any model: best sellers in stock, never an error.
    let cold = app.get(&format!("/store/recommendations?location={store}&limit=3")).await.expect(200);
    assert!(!ids(&cold).is_empty());
    assert!(!ids(&cold).contains(&grinder), "sold out, with or without a model: {cold}");

    let trained = app.admin_post("/admin/recommendations/model", json!({})).await.expect(201);
    assert!(trained["model"]["version"].as_i64().unwrap() >= 1, "{trained}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM interactions WHERE kind = 'purchase'").await,
        6 * 2 + 3 * 2 + 3 * 2 + 4 + 1,
        "every sold line logged exactly once"
    );

    // Product page: filters first (bought with beans most), the sold-out grinder never.
    let p =
        app.get(&format!("/store/recommendations?context=product:{beans}&location={store}&limit=3")).await.expect(200);
    let got = ids(&p);
    assert_eq!(got.first(), Some(&filter), "{p}");
    assert!(got.contains(&mug));
    assert!(!got.contains(&grinder), "out of stock everywhere: {p}");
    assert!(!got.contains(&beans), "not the product itself");
    let first = &p["recommendations"]["items"][0];
    assert_eq!(first["reason"]["kind"], "bought_with");
    assert!(first["reason"]["text"]["ko"].as_str().unwrap().contains("함께"));
    assert_eq!(first["title"]["en"], "Product FILTER");
    assert_eq!(first["price"]["amount_minor"], 10_000);

    // At a store where nothing is stocked, nothing is recommended.
    let none = app.get(&format!("/store/recommendations?context=product:{beans}&location={other}")).await.expect(200);
    assert_eq!(ids(&none), Vec::<String>::new());

    // Home, signed in: what goes with what they bought, and what they looked at; not the beans just bought.
    let home = app
        .req("GET", &format!("/store/recommendations?location={store}&limit=4"), Some(&token), None, &[])
        .await
        .expect(200);
    let got = ids(&home);
    assert_eq!(home["recommendations"]["customer_id"], cid.as_str());
    assert!(got.contains(&filter), "{home}");
    assert!(!got.contains(&beans), "just bought and nobody rebuys it: {home}");

    // Cart: complete the basket.
    let cart = app.req("POST", "/store/carts", Some(&token), Some(json!({"currency": "KRW"})), &[]).await.expect(201)
        ["cart"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.req(
        "POST",
        &format!("/store/carts/{cart}/lines"),
        Some(&token),
        Some(json!({"sku": "BEANS", "quantity": 1})),
        &[],
    )
    .await
    .expect(200);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM interactions WHERE kind = 'cart_add'").await,
        1,
        "adding to a cart is logged"
    );
    let c = app
        .req("GET", &format!("/store/recommendations?context=cart:{cart}&limit=2"), Some(&token), None, &[])
        .await
        .expect(200);
    assert_eq!(ids(&c).first(), Some(&filter), "{c}");
    assert!(!ids(&c).contains(&beans));

    // Privacy and bad input.
    let r = app.get(&format!("/store/recommendations?customer={cid}")).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    let other_cust =
        app.signup(json!({"email": "nosy@example.com", "password": "curious one", "name": "N"})).await.expect(201);
    let r = app
        .req("GET", &format!("/store/recommendations?customer={cid}"), other_cust["token"].as_str(), None, &[])
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let staff_view = app.admin_get(&format!("/store/recommendations?customer={cid}&limit=2")).await.expect(200);
    assert_eq!(staff_view["recommendations"]["customer_id"], cid.as_str());
    let r = app
        .req("GET", &format!("/store/recommendations?context=cart:{cart}"), other_cust["token"].as_str(), None, &[])
        .await;
    assert_eq!(r.status, 404, "somebody else's cart is not found: {}", r.body);
    for (q, code) in [
        ("context=shelf:1", 400),
        ("limit=0", 400),
        ("limit=51", 400),
        ("currency=XYZ", 400),
        ("context=product:prd_nope", 404),
        ("location=loc_nope", 404),
    ] {
        let r = app.get(&format!("/store/recommendations?{q}")).await;
        assert_eq!(r.status, code, "{q}: {}", r.body);
    }
    for (body, code) in [
        (json!({"events": [{"type": "view", "product_id": beans}]}), 400),
        (json!({"session_id": "visitor-0001-abcdef", "events": [{"type": "view", "product_id": "prd_nope"}]}), 404),
        (json!({"session_id": "visitor-0001-abcdef", "events": [{"type": "teleport"}]}), 400),
        (json!({"session_id": "visitor-0001-abcdef", "events": [{"type": "search"}]}), 400),
        (json!({"session_id": "s 1!", "events": [{"type": "view", "product_id": beans}]}), 400),
        (json!({"session_id": "short-1", "events": [{"type": "view", "product_id": beans}]}), 400),
        (
            json!({"session_id": "visitor-0001-abcdef", "events": [{"type": "view", "product_id": beans, "query": "x"}]}),
            400,
        ),
        (
            json!({"session_id": "visitor-0001-abcdef", "events": [{"type": "search", "query": "x", "product_id": beans}]}),
            400,
        ),
        (json!({"session_id": "visitor-0001-abcdef", "events": []}), 400),
        (
            json!({"session_id": "visitor-0001-abcdef", "events": vec![json!({"type": "view", "product_id": beans}); 101]}),
            400,
        ),
    ] {
        let r = app.post("/store/events", body.clone()).await;
        assert_eq!(r.status, code, "{body}: {}", r.body);
    }
    // A rejected batch stores nothing (all or none).
    let before = app.count("SELECT COUNT(*) FROM interactions").await;
    let r = app.post("/store/events", json!({"session_id": "visitor-0002-abcdef", "events": [{"type": "view", "product_id": beans}, {"type": "view", "product_id": "prd_nope"}]})).await;
    assert_eq!(r.status, 404);
    assert_eq!(app.count("SELECT COUNT(*) FROM interactions").await, before);
    // Anonymous browsing is recommended from too.
    app.post(
        "/store/events",
        json!({"session_id": "visitor-0007-abcdef", "events": [{"type": "view", "product_id": beans}]}),
    )
    .await
    .expect(202);
    let anon = app.get("/store/recommendations?session_id=visitor-0007-abcdef&limit=3").await.expect(200);
    assert!(!ids(&anon).is_empty());
    // A signed-in shopper's events never go under a session id that somebody else could query.
    app.req(
        "POST",
        "/store/events",
        Some(&token),
        Some(json!({"session_id": "guessable-session-42", "events": [{"type": "view", "product_id": mug}]})),
        &[],
    )
    .await
    .expect(202);
    assert_eq!(app.count("SELECT COUNT(*) FROM interactions WHERE session_id = 'guessable-session-42'").await, 0);
    // A cancelled order was never bought: it leaves the log.
    let cart2 = app.pickup_cart("TEA", 2, &store).await;
    let order = app.checkout(&cart2, "reco-cancel-1").await.expect(201)["order"]["id"].as_str().unwrap().to_owned();
    let base = app.count("SELECT COUNT(*) FROM interactions WHERE kind = 'purchase'").await;
    assert_eq!(settle_purchases(&app, base + 1).await, base + 1, "the pickup order's line is logged");
    app.admin_post(&format!("/admin/orders/{order}/cancel"), json!({"reason": "changed mind"})).await.expect(200);
    let (after, before) = (settle_purchases(&app, base).await, base + 1);
    assert_eq!(after, before - 1, "the cancelled order's line left the log");
    // A staff key sees the served version.
    let m = app.admin_get("/admin/recommendations/model").await.expect(200);
    assert!(m["model"]["version"].as_i64().unwrap() > trained["model"]["version"].as_i64().unwrap());
    app.assert_no_drift().await;
}
both!(recommendations_follow_one_history);
