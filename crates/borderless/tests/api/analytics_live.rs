//! The analytics snapshot kept up to date without reading every event again: a node takes in what
//! arrived since it read (its own writes at once, another node's within seconds), a late event lands in
//! its place in time, and an erasure on one node reaches the other node's answers; on SQLite (one node)
//! and PostgreSQL (two nodes on one database).

use crate::helpers::*;
use serde_json::{json, Value};

const DAY_MS: i64 = 86_400_000;

/// A consenting customer's web view, `ago_ms` before now.
fn view(n: usize, customer: &str, at_ms: i64) -> insight::Event {
    insight::Event {
        id: format!("test-view-{n}"),
        kind: Some(insight::Kind::View),
        at_ms,
        shopper: Some(customer.to_owned()),
        customer: Some(customer.to_owned()),
        channel: Some("web".into()),
        device: Some("mobile".into()),
        qty: 1,
        ..Default::default()
    }
}

/// The same customer's web purchase of 1,000 won a moment later (revenue shows a row counted twice).
fn bought(n: usize, customer: &str, at_ms: i64) -> insight::Event {
    insight::Event {
        id: format!("test-purchase-{n}"),
        kind: Some(insight::Kind::Purchase),
        at_ms: at_ms + 1,
        order: Some(format!("test-order-{n}")),
        channel: Some("web".into()),
        qty: 1,
        amount_minor: 1_000,
        currency: Some("KRW".into()),
        ..view(n, customer, at_ms)
    }
}

/// Both of a customer's events.
fn both(n: usize, customer: &str, at_ms: i64, store: &str) -> Vec<insight::Event> {
    vec![view(n, customer, at_ms), insight::Event { location: Some(store.to_owned()), ..bought(n, customer, at_ms) }]
}

/// Shoppers who viewed over the last seven days, as `node` answers (polled: another node's snapshot
/// follows within seconds).
async fn viewed_becomes(node: &TestApp, want: u64) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        last = node.admin_get("/admin/analytics/online-funnel").await.expect(200);
        if last["rows"][0]["viewed"].as_u64() == Some(want) {
            let mix = node.admin_get("/admin/analytics/channel-mix").await.expect(200);
            let revenue: i64 = mix["rows"].as_array().unwrap().iter().filter_map(|r| r["revenue_minor"].as_i64()).sum();
            assert_eq!(revenue, 1_000 * want as i64, "each purchase once: {mix}");
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("viewers never became {want}: {last}");
}

async fn scenario(a: &TestApp, b: &TestApp) {
    let engine_a = a.running.as_ref().unwrap().engine.clone();
    let engine_b = b.running.as_ref().unwrap().engine.clone();
    let mut customers = Vec::new();
    for n in 0..4 {
        let s = a
            .signup(json!({"email": format!("live{n}@example.com"), "password": "analytics password", "name": format!("L{n}")}))
            .await
            .expect(201);
        let token = s["token"].as_str().unwrap().to_owned();
        a.req("PUT", "/store/customers/me/analytics", Some(&token), Some(json!({"consent": true})), &[])
            .await
            .expect(200);
        customers.push(s["customer"]["id"].as_str().unwrap().to_owned());
    }
    let store = a.location("GANGNAM", "store", true).await;
    // Hours of today (the retailer's day, Seoul), whatever the time now.
    let today = insight::time::day_number(engine_a.now(), 540) * DAY_MS - 540 * 60_000;
    let now = today + 3 * 3_600_000;
    // Two viewers: below nothing (k is 2 here); both nodes read their snapshots whole.
    engine_a
        .insight_import(
            [both(0, &customers[0], now - 60_000, &store), both(1, &customers[1], now - 50_000, &store)].concat(),
        )
        .await
        .unwrap();
    viewed_becomes(a, 2).await;
    viewed_becomes(b, 2).await;
    // A third viewer through b, at the end of time: a takes it in.
    engine_b.insight_import(both(2, &customers[2], now - 1_000, &store)).await.unwrap();
    viewed_becomes(b, 3).await;
    viewed_becomes(a, 3).await;
    // A late event, early this morning: it lands before the others in a's table; and c3's view of three
    // days ago (the erasure below finds events of every day).
    engine_b.insight_import(both(3, &customers[3], today + 1_000, &store)).await.unwrap();
    engine_b.insight_import(vec![view(4, &customers[3], today - 3 * DAY_MS + 5_000)]).await.unwrap();
    let four = viewed_becomes(a, 4).await;
    assert_eq!(four["rows"][0]["suppressed"], false, "{four}");
    // The same events again change nothing.
    engine_a
        .insight_import(
            [both(0, &customers[0], now - 60_000, &store), both(3, &customers[3], today + 1_000, &store)].concat(),
        )
        .await
        .unwrap();
    viewed_becomes(a, 4).await;
    // An event from before 1970 (or after 9999) is refused, the event named.
    let err = engine_a
        .insight_import(vec![view(5, &customers[0], now), view(6, &customers[0], -1)])
        .await
        .expect_err("a moment before 1970");
    assert!(err.to_string().contains("`test-view-6`: `at` must lie between 1970-01-01 and 9999-12-31"), "{err}");
    // A customer is the event's shopper too.
    let other = insight::Event { shopper: Some("someone else".into()), ..view(7, &customers[0], now) };
    let err = engine_a.insight_import(vec![other]).await.expect_err("a customer who is not the shopper");
    assert!(err.to_string().contains("`test-view-7`: a customer is the event's shopper too"), "{err}");
    // c3 is erased through b: a reads its events again and c3's view is gone from its answers (their
    // purchase stays in revenue, tied to nobody).
    b.admin_post(&format!("/admin/customers/{}/analytics-erasure", customers[3]), json!({})).await.expect(200);
    for node in [a, b] {
        let mut last = Value::Null;
        for _ in 0..100 {
            last = node.admin_get("/admin/analytics/online-funnel").await.expect(200);
            if last["rows"][0]["viewed"].as_u64() == Some(3) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(last["rows"][0]["viewed"], 3, "c3's views erased: {last}");
        let from = insight::time::date(today - 4 * DAY_MS, 540);
        let older = node.admin_get(&format!("/admin/analytics/online-funnel?from={from}")).await.expect(200);
        assert_eq!(older["rows"][0]["viewed"], 3, "c3's view of three days ago erased too: {older}");
        let mix = node.admin_get("/admin/analytics/channel-mix").await.expect(200);
        let revenue: i64 = mix["rows"].as_array().unwrap().iter().filter_map(|r| r["revenue_minor"].as_i64()).sum();
        assert_eq!(revenue, 4_000, "{mix}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_snapshot_takes_in_new_events_on_sqlite() {
    let app = spawn_app_tuned(Backend::Sqlite, |cfg| cfg.analytics_k = 2).await;
    scenario(&app, &app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_snapshot_takes_in_another_nodes_events_on_postgres() {
    let Some(url) = fresh_pg_database() else { return };
    let a = spawn_app_tuned(Backend::Postgres(url.clone()), |cfg| cfg.analytics_k = 2).await;
    let b = spawn_app_tuned(Backend::Postgres(url), |cfg| cfg.analytics_k = 2).await;
    scenario(&a, &b).await;
}
