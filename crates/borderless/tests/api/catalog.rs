//! Catalog through the API: bilingual products, variants, prices per currency, cursor pages, CSV export
//! and import (borderless and Shopify formats).

use crate::both;
use crate::helpers::*;
use serde_json::json;

async fn catalog_pages_and_csv_round_trip(b: Backend) {
    let app = spawn_app(b).await;
    for i in 0..25 {
        app.product(&format!("P-{i:02}"), 10_000 + i).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/store/products?limit=10&after={c}"),
            None => "/store/products?limit=10".into(),
        };
        let page = app.get(&path).await.expect(200);
        for p in page["data"].as_array().unwrap() {
            seen.push(p["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    let one = app.admin_get("/admin/products/p-03").await.expect(200);
    assert_eq!(
        one["product"]["variants"][0]["prices"][1],
        json!({"currency": "USD", "amount_minor": 1999, "amount": "19.99"})
    );
    let found = app.get("/store/products?q=P-1").await.expect(200);
    assert_eq!(found["data"].as_array().unwrap().len(), 10);

    // Export, change a price in the file, import it back: an upsert by handle.
    let csv = app
        .client
        .get(format!("{}/admin/products/export", app.url))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("P-03") && csv.contains("상품 P-03"));
    let changed = csv.replace("10003,19.99", "12345,19.99");
    assert_ne!(changed, csv);
    let r = app
        .client
        .post(format!("{}/admin/products/import", app.url))
        .bearer_auth(ADMIN_KEY)
        .body(changed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["imported"], 25);
    let one = app.admin_get("/admin/products/p-03").await.expect(200);
    assert_eq!(one["product"]["variants"][0]["prices"][0]["amount_minor"], 12345);
    assert_eq!(app.count("SELECT COUNT(*) FROM products").await, 25);

    // A Shopify export moves over.
    let shopify = "Handle,Title,Body (HTML),Vendor,Type,Tags,Published,Option1 Name,Option1 Value,Variant SKU,Variant Grams,Variant Price,Variant Barcode,Image Src,Status\n\
        linen-shirt,Linen Shirt,<p>Breathable <b>linen</b></p>,Seoul Atelier,Shirts,,true,Size,S,LIN-S,250,59000.00,,https://cdn/1.jpg,active\n\
        linen-shirt,,,,,,,,M,LIN-M,260,59000.00,,,\n\
        linen-shirt,,,,,,,,,,,,,https://cdn/2.jpg,\n";
    let r = app
        .client
        .post(format!("{}/admin/products/import?format=shopify&currency=KRW", app.url))
        .bearer_auth(ADMIN_KEY)
        .body(shopify)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let p = app.admin_get("/admin/products/linen-shirt").await.expect(200);
    assert_eq!(p["product"]["variants"].as_array().unwrap().len(), 2);
    assert_eq!(p["product"]["variants"][1]["attributes"]["size"], "M");
    assert_eq!(p["product"]["description"]["en"], "Breathable linen");
    let bad = "Handle,Title,Variant Price\nx,X,abc\n";
    let r = app
        .client
        .post(format!("{}/admin/products/import?format=shopify", app.url))
        .bearer_auth(ADMIN_KEY)
        .body(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invalid_csv");
    assert!(v["error"]["message"].as_str().unwrap().contains("line 2"), "{v}");
    app.assert_no_drift().await;
}
both!(catalog_pages_and_csv_round_trip);

async fn cross_border_cart_in_usd(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let sku = app.product("USD-1", 25000).await; // also priced 19.99 USD
    app.admin_post(
        "/admin/products",
        json!({"handle": "krw-only", "title_ko": "김치", "title_en": "Kimchi", "category": "grocery/fresh",
        "variants": [{"sku": "KIMCHI-1", "prices": [{"currency": "KRW", "amount_minor": 9900}]}]}),
    )
    .await
    .expect(201);
    app.stock_in(&sku, &store, 5).await;
    let cart = app.post("/store/carts", json!({"currency": "usd"})).await.expect(201);
    assert_eq!(cart["cart"]["currency"], "USD");
    let id = cart["cart"]["id"].as_str().unwrap().to_owned();
    let r = app.post(&format!("/store/carts/{id}/lines"), json!({"sku": "KIMCHI-1", "quantity": 1})).await;
    assert_eq!((r.status, r.code()), (409, "no_price"), "no implicit conversion from KRW");
    let c = app.post(&format!("/store/carts/{id}/lines"), json!({"sku": sku, "quantity": 3})).await.expect(200);
    assert_eq!(c["cart"]["subtotal"], json!({"currency": "USD", "amount_minor": 5997, "amount": "59.97"}));
    app.put(&format!("/store/carts/{id}/fulfillment"), json!({"type": "pickup", "location_id": "GANGNAM"}))
        .await
        .expect(200);
    let o = app.checkout(&id, "usd-1").await.expect(201);
    assert_eq!(o["order"]["total"]["amount_minor"], 5997);
    assert_eq!(o["order"]["currency"], "USD");
    app.assert_no_drift().await;
}
both!(cross_border_cart_in_usd);
