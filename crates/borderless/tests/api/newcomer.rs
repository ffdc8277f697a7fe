//! What an integrator meets in the first hour (issue #17), one scenario per wall they hit: products sent
//! back as they were read and changed in place, stock received and its ledger read, SKUs in any case,
//! canonical ids, addresses couriers can use, one pagination and wildcard convention, one error envelope.

use crate::both;
use crate::helpers::*;
use serde_json::{json, Value};

async fn patch(app: &TestApp, path: &str, body: Value) -> Res {
    app.req("PATCH", path, Some(ADMIN_KEY), Some(body), &[]).await
}

async fn products_round_trip_and_change_in_place(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let created = app
        .admin_post(
            "/admin/products",
            json!({"handle": "Hanbok-Socks", "title": {"ko": "한복 양말", "en": "Hanbok Socks"}, "category": "apparel/socks",
                   "variants": [{"sku": "hs-m", "attributes": {"size": "M"}, "prices": [{"currency": "KRW", "amount": "9,000"}]},
                                {"sku": "HS-L", "attributes": {"size": "L"}, "prices": [{"currency": "KRW", "amount_minor": 9500},
                                                                                         {"currency": "USD", "amount": "6.50"}]}]}),
        )
        .await
        .expect(201);
    let p = created["product"].clone();
    assert_eq!(p["handle"], "hanbok-socks");
    assert_eq!(p["variants"][0]["sku"], "HS-M", "SKUs are stored in capitals");
    assert_eq!(p["variants"][0]["prices"][0]["amount_minor"], 9000);
    assert_eq!(p["variants"][1]["prices"][1]["amount_minor"], 650);

    // What was read is sent back as it is, with a new handle: accepted.
    let mut again = p.clone();
    again["handle"] = json!("hanbok-socks-2");
    for v in again["variants"].as_array_mut().unwrap() {
        let sku = v["sku"].as_str().unwrap().to_owned();
        v["sku"] = json!(format!("{sku}-2"));
    }
    app.admin_post("/admin/products", again).await.expect(201);
    // A price given twice that disagrees is named.
    let r = app
        .admin_post(
            "/admin/products",
            json!({"handle": "x", "title": {"ko": "x", "en": "x"}, "category": "c",
                   "variants": [{"sku": "X-1", "prices": [{"currency": "KRW", "amount_minor": 100, "amount": "200"}]}]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"));
    assert!(r.body["error"]["message"].as_str().unwrap().contains("variants[0].prices[0]"), "{}", r.body);

    // A lowercase SKU finds the product everywhere: stock, carts.
    app.stock_in("hs-m", &store, 5).await;
    let cart = app.post("/store/carts", json!({})).await.expect(201)["cart"]["id"].as_str().unwrap().to_owned();
    app.post(&format!("/store/carts/{cart}/lines"), json!({"sku": "hs-m", "quantity": 1})).await.expect(200);
    app.post(&format!("/store/carts/{cart}/lines"), json!({"sku": "HS-L", "quantity": 1})).await.expect(200);
    let c = app.get(&format!("/store/carts/{cart}")).await.expect(200);
    let lines = c["cart"]["lines"].as_array().unwrap();
    assert_eq!(lines[0]["options"]["size"], "L", "two lines of one product tell their variants apart");
    assert_eq!(lines[1]["options"]["size"], "M");
    let r = app.post(&format!("/store/carts/{cart}/lines"), json!({"sku": "양말-1", "quantity": 1})).await;
    assert_eq!((r.status, r.code()), (400, "invalid_sku"));
    assert!(r.body["error"]["message"].as_str().unwrap().contains("ASCII letters"), "{}", r.body);

    // Partial updates: text, a price, a new variant; events follow.
    let id = p["id"].as_str().unwrap();
    let up = patch(
        &app,
        &format!("/admin/products/{id}"),
        json!({"title": {"en": "Hanbok Socks (cotton)"},
               "variants": [{"sku": "hs-m", "prices": [{"currency": "KRW", "amount_minor": 8500}]},
                            {"sku": "HS-XL", "attributes": {"size": "XL"}, "prices": [{"currency": "KRW", "amount_minor": 9900}]}]}),
    )
    .await
    .expect(200);
    assert_eq!(up["product"]["title"]["ko"], "한복 양말", "what is not named stays");
    assert_eq!(up["product"]["title"]["en"], "Hanbok Socks (cotton)");
    assert_eq!(up["product"]["variants"][0]["prices"][0]["amount_minor"], 8500);
    assert_eq!(up["product"]["variants"].as_array().unwrap().len(), 3);
    let v = patch(
        &app,
        &format!("/admin/products/{id}/variants/hs-l"),
        json!({"remove_currencies": ["USD"], "attributes": {"size": "L", "color": "white"}}),
    )
    .await
    .expect(200);
    assert_eq!(v["product"]["variants"][1]["prices"].as_array().unwrap().len(), 1);
    assert_eq!(v["product"]["variants"][1]["attributes"]["color"], "white");
    let r = patch(&app, &format!("/admin/products/{id}/variants/NOPE-1"), json!({"weight_g": 10})).await;
    assert_eq!(r.status, 404);
    let r = patch(&app, &format!("/admin/products/{id}"), json!({"handle": "renamed"})).await;
    assert_eq!((r.status, r.code()), (400, "invalid_json"), "handles do not change");
    app.events_until("type=product.updated", |k| k.len() == 2).await;

    // Archive: off sale, history kept, idempotent.
    let r = app.req("DELETE", &format!("/admin/products/{id}"), Some(ADMIN_KEY), None, &[]).await.expect(200);
    assert_eq!(r["product"]["status"], "archived");
    app.req("DELETE", &format!("/admin/products/{id}"), Some(ADMIN_KEY), None, &[]).await.expect(200);
    assert_eq!(app.get(&format!("/store/products/{id}")).await.status, 404);
    let r = app.post(&format!("/store/carts/{cart}/lines"), json!({"sku": "HS-XL", "quantity": 1})).await;
    assert_eq!((r.status, r.code()), (409, "not_for_sale"));
    // A method the path does not serve is answered in the error envelope.
    let r = app.req("PUT", &format!("/admin/products/{id}"), Some(ADMIN_KEY), Some(json!({})), &[]).await;
    assert_eq!((r.status, r.code()), (405, "method_not_allowed"));
    app.assert_no_drift().await;
}
both!(products_round_trip_and_change_in_place);

async fn stock_is_received_and_its_ledger_read(b: Backend) {
    let app = spawn_app(b).await;
    let gangnam = app.location("GANGNAM", "store", true).await;
    let hongdae = app.location("HONGDAE", "store", true).await;
    let sku = app.product("RCV-1", 1000).await;
    // Receipts are their own movement, with the reason and the delivery note's number.
    let r = app
        .admin_post(
            "/admin/inventory/receipts",
            json!({"sku": "rcv-1", "location_id": "gangnam", "quantity": 12, "reason": "supplier delivery", "reference": "PO-2026-118"}),
        )
        .await
        .expect(201);
    assert_eq!(r["level"]["location_id"], gangnam.as_str(), "the canonical id, whatever was sent");
    assert_eq!(r["level"]["sku"], "RCV-1");
    assert_eq!(r["level"]["on_hand"], 12, "one level, not nested twice");
    // A positive adjustment is an adjustment (a count found more), not a receipt.
    let a = app
        .admin_post(
            "/admin/inventory/adjustments",
            json!({"sku": sku, "location_id": "GANGNAM", "quantity_delta": 2, "reason": "count found two more"}),
        )
        .await
        .expect(201);
    assert_eq!(a["level"]["location_id"], gangnam.as_str());
    let t = app
        .admin_post(
            "/admin/inventory/transfers",
            json!({"sku": sku, "from_location_id": "GANGNAM", "to_location_id": "HONGDAE", "quantity": 3}),
        )
        .await
        .expect(201);
    assert!(t["transfer"]["id"].as_str().unwrap().starts_with("xfr_"), "stock transfers are not money transfers");
    let page = app.admin_get(&format!("/admin/inventory/{sku}/movements?limit=2")).await.expect(200);
    let kinds: Vec<&str> = page["data"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["transfer_in", "transfer_out"], "newest first");
    assert_eq!(page["has_more"], true);
    let rest = app
        .admin_get(&format!(
            "/admin/inventory/{sku}/movements?limit=10&after={}",
            page["next_cursor"].as_str().unwrap()
        ))
        .await
        .expect(200);
    let rest = rest["data"].as_array().unwrap();
    assert_eq!(rest[0]["kind"], "adjustment");
    assert_eq!(rest[0]["reason"], "count found two more");
    assert_eq!((rest[1]["kind"].as_str(), rest[1]["source_id"].as_str()), (Some("receipt"), Some("PO-2026-118")));
    let at = app.admin_get(&format!("/admin/inventory/{sku}/movements?location_id=HONGDAE")).await.expect(200);
    assert_eq!(at["data"].as_array().unwrap().len(), 1);
    assert_eq!(at["data"][0]["location_id"], hongdae.as_str());
    // The reason reaches the event feed.
    // (On PostgreSQL the feed shows an event once every older transaction in the cluster has ended, and
    // other tests run beside this one: wait for it.)
    let mut seen = false;
    for _ in 0..50 {
        let evs = app.admin_get("/admin/events?type=inventory.changed&limit=50").await.expect(200);
        if evs["data"].as_array().unwrap().iter().any(|e| e["data"]["reason"] == "count found two more") {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen, "the adjustment's reason reached the event feed");
    // Out of stock names a real location.
    let cart = app.post("/store/carts", json!({})).await.expect(201)["cart"]["id"].as_str().unwrap().to_owned();
    app.post(&format!("/store/carts/{cart}/lines"), json!({"sku": sku, "quantity": 50})).await.expect(200);
    app.put(
        &format!("/store/carts/{cart}/fulfillment"),
        json!({"type": "delivery", "address": {"recipient": "김민지", "phone": "010-1234-5678", "line1": "강남대로 1",
               "city": "Seoul", "postal_code": "06232", "country": "KR", "memo": "문 앞에 놓아 주세요"}}),
    )
    .await
    .expect(200);
    let r = app
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            Some(ADMIN_KEY),
            Some(json!({"email": "a@example.com", "payment": {"method": "manual"}})),
            &[],
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "out_of_stock"), "{}", r.body);
    let loc = r.body["error"]["location_id"].as_str().unwrap();
    assert!(loc == gangnam || loc == hongdae, "{}", r.body);
    app.assert_no_drift().await;
}
both!(stock_is_received_and_its_ledger_read);

async fn payment_methods_belong_to_their_channel(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("PM-1", 1000).await;
    app.stock_in(&sku, &store, 5).await;
    let cart = app.pickup_cart(&sku, 1, &store).await;
    let r = app
        .req(
            "POST",
            &format!("/store/carts/{cart}/checkout"),
            None,
            Some(json!({"email": "a@example.com", "payment": {"method": "cashierless_hold"}})),
            &[],
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "unsupported_payment_method"));
    let msg = r.body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("pay_at_pickup")
            && !msg.contains("use one of cashierless_hold")
            && !msg.contains(", cashierless_hold"),
        "{msg}"
    );
    // A cancelled order that was to be paid later ends `voided`, not `pending` for ever.
    let o = app.checkout(&cart, "pm-1").await.expect(201);
    let id = o["order"]["id"].as_str().unwrap();
    let c = app.admin_post(&format!("/admin/orders/{id}/cancel"), json!({})).await.expect(200);
    assert_eq!(c["order"]["payment"]["status"], "voided");
    app.assert_no_drift().await;
}
both!(payment_methods_belong_to_their_channel);

async fn one_convention_for_lists_filters_and_wildcards(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    for i in 0..5 {
        app.product(&format!("PG-{i}"), 1000 + i).await;
    }
    // Pages: data, has_more, an opaque next_cursor that belongs to its list.
    let p1 = app.admin_get("/admin/products?limit=2").await.expect(200);
    assert_eq!((p1["data"].as_array().unwrap().len(), p1["has_more"].as_bool()), (2, Some(true)));
    let cursor = p1["next_cursor"].as_str().unwrap();
    let p2 = app.admin_get(&format!("/admin/products?limit=3&after={cursor}")).await.expect(200);
    assert_eq!((p2["data"].as_array().unwrap().len(), p2["has_more"].as_bool()), (3, Some(false)));
    assert!(p2["next_cursor"].is_null());
    for bad in ["garbage", "yesterday"] {
        for list in ["/admin/products", "/admin/orders", "/admin/events", "/admin/customers", "/store/search"] {
            let r = app.admin_get(&format!("{list}?after={bad}")).await;
            assert_eq!((r.status, r.code()), (400, "invalid_cursor"), "{list}");
        }
    }
    let r = app.admin_get(&format!("/admin/orders?after={cursor}")).await;
    assert_eq!((r.status, r.code()), (400, "invalid_cursor"), "a products cursor is not an orders cursor");
    // Unknown filter values and parameters are refused the same way.
    let r = app.admin_get("/admin/orders?channel=tv").await;
    assert_eq!((r.status, r.code()), (400, "invalid_query"));
    for list in ["/admin/orders", "/admin/products", "/store/search", "/admin/events", "/admin/customers"] {
        let r = app.admin_get(&format!("{list}?colour=red")).await;
        assert_eq!((r.status, r.code()), (400, "invalid_query"), "{list}");
        let r = app.admin_get(&format!("{list}?limit=0")).await;
        assert_eq!((r.status, r.code()), (400, "invalid_limit"), "{list}");
    }
    // Search pages past its first page (once the index has caught up with the five products).
    let mut s1 = Value::Null;
    for _ in 0..100 {
        s1 = app.get("/store/search?limit=2&sort=price_asc").await.expect(200);
        if s1["search"]["total"] == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(s1["has_more"], true);
    let s2 = app
        .get(&format!("/store/search?limit=2&sort=price_asc&after={}", s1["next_cursor"].as_str().unwrap()))
        .await
        .expect(200);
    assert_eq!(s2["search"]["hits"][0]["handle"], "pg-2");
    // One wildcard syntax for the feed and webhooks, checked against the event types there are.
    app.stock_in("PG-0", &store, 1).await;
    let evs = app.events_until("type=inventory.*", |k| k.len() == 1).await;
    assert_eq!(evs, ["inventory.changed"]);
    for bad in ["order.", "ordr.*", "order.plced"] {
        let r = app.admin_get(&format!("/admin/events?type={bad}")).await;
        assert_eq!((r.status, r.code()), (400, "invalid_query"), "{bad}");
        let r = app.admin_post("/admin/webhooks", json!({"url": "https://example.com/h", "event_types": [bad]})).await;
        assert_eq!((r.status, r.code()), (400, "invalid_event_types"), "{bad}");
    }
    let r = app.admin_post("/admin/webhooks", json!({"url": "https://example.com/h", "event_types": []})).await;
    assert_eq!((r.status, r.code()), (400, "invalid_event_types"), "an empty list is not `everything`");
    app.admin_post(
        "/admin/webhooks",
        json!({"url": "https://example.com/h", "event_types": ["order.*", "inventory.changed"]}),
    )
    .await
    .expect(201);
    app.assert_no_drift().await;
}
both!(one_convention_for_lists_filters_and_wildcards);

async fn errors_speak_one_shape_without_rust(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let cart = app.post("/store/carts", json!({})).await.expect(201)["cart"]["id"].as_str().unwrap().to_owned();
    let r = app.post(&format!("/store/carts/{cart}/lines"), json!({"sku": "A-1", "quantity": "three"})).await;
    assert_eq!((r.status, r.code()), (400, "invalid_json"));
    let m = r.body["error"]["message"].as_str().unwrap();
    assert!(m.contains("`quantity`") && m.contains("whole number") && !m.contains("i64"), "{m}");
    assert!(r.body["error"]["message_ko"].as_str().unwrap().contains("`quantity`"), "{}", r.body);
    let r = app.post("/store/carts", json!({"currency": 5})).await;
    let m = r.body["error"]["message"].as_str().unwrap();
    assert!(!m.contains("CartIn") && !m.contains("struct") && !m.contains("Option"), "{m}");
    let r = app.put(&format!("/store/carts/{cart}/fulfillment"), json!({"type": "pickup"})).await;
    assert!(r.body["error"]["message"].as_str().unwrap().contains("location_id"), "{}", r.body);
    // A path that is not what it should be (a review number), and a body over the limit.
    let r = app.admin_post(&format!("/admin/stores/{store}/reviews/seven"), json!({"action": "dismiss"})).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"));
    let big = json!({"sku": "x".repeat(2 << 20), "quantity": 1}).to_string();
    // The server answers 413 from the Content-Length and closes without reading 2 MiB; a client still
    // writing may see the connection reset before it reads the answer (as with any HTTP server), so try a
    // few times for the answer itself.
    let mut answer = None;
    for _ in 0..5 {
        let sent = reqwest::Client::new()
            .post(format!("{}/store/carts/{cart}/lines", app.url))
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await;
        if let Ok(r) = sent {
            answer = Some((r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap_or_default()));
            break;
        }
    }
    let (status, body) = answer.expect("an answer to the oversized body");
    assert_eq!((status, body["error"]["code"].as_str()), (413, Some("payload_too_large")));
    assert!(body["error"]["message_ko"].is_string());
    // Every code a shopper meets has its own Korean with the next step.
    let r = app.post("/store/auth/login", json!({"email": "nobody@example.com", "password": "wrong-password"})).await;
    assert_eq!(r.code(), "invalid_credentials");
    assert!(r.body["error"]["message_ko"].as_str().unwrap().contains("비밀번호"));
    app.assert_no_drift().await;
}
both!(errors_speak_one_shape_without_rust);

async fn imports_report_every_problem(b: Backend) {
    let app = spawn_app(b).await;
    app.product("TAKEN-1", 1000).await;
    let header = "handle,title_ko,title_en,category,sku,weight_g,price_krw";
    let csv = format!(
        "{header}\nsocks,양말,Socks,apparel,SOCK-1,50,9000\nhat,모자,Hat,apparel,HAT-1,heavy,12000\nscarf,목도리,,apparel,SCARF-1,10,5000\ncap,캡,Cap,apparel,TAKEN-1,10,5000\n"
    );
    let send = |body: String, ct: &'static str| {
        let app = &app;
        async move {
            let r = app
                .client
                .post(format!("{}/admin/products/import", app.url))
                .bearer_auth(ADMIN_KEY)
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = send(csv.clone(), "text/csv").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid_csv");
    let problems = body["error"]["problems"].as_array().unwrap();
    let lines: Vec<i64> = problems.iter().map(|p| p["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, [3, 4], "the reader's problems first, every one: {body}");
    assert_eq!((body["error"]["line"].as_i64(), body["error"]["column"].as_str()), (Some(3), Some("weight_g")));
    assert_eq!(
        app.admin_get("/admin/products?limit=100").await.expect(200)["data"].as_array().unwrap().len(),
        1,
        "nothing saved"
    );
    // Fixed in the file, the SKU owned by another product is reported on its line before anything is written.
    let fixed = csv.replace("heavy", "100").replace("목도리,,", "목도리,Scarf,");
    let (status, body) = send(fixed.clone(), "text/csv").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["problems"][0]["line"], 5);
    assert!(body["error"]["problems"][0]["message"].as_str().unwrap().contains("TAKEN-1"), "{body}");
    // A browser form upload of the corrected file.
    let good = fixed.replace("TAKEN-1", "CAP-1");
    let boundary = "----borderless";
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"catalog.csv\"\r\nContent-Type: text/csv\r\n\r\n{good}\r\n--{boundary}--\r\n"
    );
    let (status, body) = send(form, "multipart/form-data; boundary=----borderless").await;
    assert_eq!((status, body["imported"].as_i64()), (200, Some(4)), "{body}");
    app.assert_no_drift().await;
}
both!(imports_report_every_problem);
