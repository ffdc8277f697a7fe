//! The demo's live cashierless store: simulated shoppers (demo members) walk in with a payment code, the
//! fusion engine builds their carts from shelf plates and body tracks, and walking out places and charges a
//! cashierless order at the store; stock and money stay consistent.

use crate::both;
use crate::helpers::*;

async fn live_cashierless_store_places_and_charges_orders(b: Backend) {
    let app = spawn_app(b).await;
    let engine = app.running.as_ref().unwrap().engine.clone();
    borderless::demo::seed(&engine).await.expect("demo seeds");
    let (_stop, rx) = tokio::sync::watch::channel(false);
    let opts = borderless::demo::live_store::LiveStoreOpts {
        speed: 400.0,
        shoppers_per_round: 5,
        rounds: 1,
        ..Default::default()
    };
    let members_before = member_balances(&app).await;
    let summary = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        borderless::demo::live_store::run(engine.clone(), opts, rx),
    )
    .await
    .expect("a round ends")
    .expect("runs");
    assert_eq!(summary.visits, 5, "{summary:?}");
    assert_eq!(summary.refused_at_entry, 0, "visitors are topped up before each round: {summary:?}");
    assert!(!summary.orders.is_empty(), "shoppers take things: {summary:?}");
    assert_eq!(summary.orders.len() + summary.left_empty + summary.waiting_for_review, 5, "{summary:?}");

    let store = engine.location(borderless::demo::data::CASHIERLESS).await.unwrap().id;
    let r = app.admin_get("/admin/orders?channel=cashierless&limit=50").await.expect(200);
    let orders = r["data"].as_array().unwrap();
    assert_eq!(orders.len(), summary.orders.len(), "{r}");
    for o in orders {
        assert_eq!(o["location_id"], store.as_str());
        assert_eq!(o["channel"], "cashierless");
        assert_eq!(o["payment"]["method"], "cashierless_hold");
        // Charged from the entry hold; a basket worth more than the shopper's whole wallet (the simulated
        // shoppers take what they like) is partially paid, with nothing left in the wallet.
        let customer = o["customer_id"].as_str().unwrap();
        match o["payment"]["status"].as_str() {
            Some("paid") => {}
            Some("partially_paid") => {
                let w = app.admin_get(&format!("/admin/customers/{customer}/wallet")).await.expect(200);
                let krw = w["data"].as_array().unwrap().iter().find(|a| a["currency"] == "KRW").unwrap();
                assert_eq!(krw["available_minor"].as_i64(), Some(0), "partially paid while money was left: {o} {w}");
            }
            other => panic!("payment {other:?}: {o}"),
        }
    }
    // The store's visitors are its own accounts: the members the README uses keep their wallets whole.
    assert_eq!(member_balances(&app).await, members_before, "the live store never touches the members' wallets");
    for o in orders {
        let c = app.admin_get("/admin/customers?q=visitor").await.expect(200);
        assert!(c["data"].as_array().unwrap().iter().any(|v| v["id"] == o["customer_id"]), "{o}");
    }
    // Every unit left the store's ledger and every won is accounted for.
    let doctor = app.admin_get("/admin/doctor").await.expect(200);
    assert!(doctor["drift"].as_array().unwrap().is_empty(), "{doctor}");
    assert!(doctor["ledger_drift"].as_array().unwrap().is_empty(), "{doctor}");
    app.assert_no_drift().await;
}
both!(live_cashierless_store_places_and_charges_orders);

/// The available KRW balance of every demo member, by email.
async fn member_balances(app: &TestApp) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for c in borderless::demo::data::customers() {
        let found = app.admin_get(&format!("/admin/customers?email={}", c.email)).await.expect(200);
        let id = found["data"][0]["id"].as_str().unwrap().to_owned();
        let w = app.admin_get(&format!("/admin/customers/{id}/wallet")).await.expect(200);
        let krw = w["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["currency"] == "KRW")
            .map_or(0, |a| a["available_minor"].as_i64().unwrap());
        out.push((c.email, krw));
    }
    out
}
