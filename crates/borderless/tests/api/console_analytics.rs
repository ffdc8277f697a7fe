//! The console's analytics screen over HTTP: owners see every section with its chart data and tables,
//! managers their own store's sections only, associates are refused; a bad date is explained in the
//! reader's language; a cell of fewer than k shoppers shows no figures.

use crate::both;
use crate::browser::Browser;
use crate::helpers::*;
use serde_json::json;

const PW: &str = "console password";

async fn analytics_screen_by_role(backend: Backend) {
    let app = spawn_app(backend).await;
    let gangnam = app.location("GANGNAM", "store", true).await;
    app.location("HONGDAE", "store", true).await;
    app.product("AN-TEE", 12_000).await;
    app.stock_in("AN-TEE", &gangnam, 20).await;
    let engine = app.running.as_ref().unwrap().engine.clone();
    engine.add_staff("owner@example.com", "Owner", PW, "owner", None, "ko").await.unwrap();
    engine.add_staff("gnm@example.com", "강남 매니저", PW, "manager", Some("GANGNAM"), "en").await.unwrap();
    engine.add_staff("gn@example.com", "강남 직원", PW, "associate", Some("GANGNAM"), "ko").await.unwrap();
    // Six counter sales to six anonymous shoppers: enough for k = 5.
    for _ in 0..6 {
        app.admin_post(
            "/admin/pos/sales",
            json!({"location_id": gangnam, "lines": [{"sku": "AN-TEE", "quantity": 1}]}),
        )
        .await
        .expect(201);
    }
    // On PostgreSQL the feed shows a commit once every older transaction of the cluster has ended: the
    // other tests' transactions can hold it back for seconds.
    let mut purchases = 0;
    for _ in 0..600 {
        engine.insight_catch_up().await.unwrap();
        purchases = app.count("SELECT COUNT(*) FROM insight_events WHERE kind = 'purchase'").await;
        if purchases == 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(purchases, 6, "the six counter sales reach analytics within 30 s");

    let mut owner = Browser::new(&app);
    owner.login("owner@example.com", PW).await;
    // The node's snapshot takes in the sales once PostgreSQL's horizon passes them (other tests'
    // transactions can hold it back for seconds).
    let mut p = owner.get("/console/analytics").await;
    for _ in 0..600 {
        if p.has("72,000") || p.has("72000") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        p = owner.get("/console/analytics").await;
    }
    assert_eq!(p.status, 200, "{}", p.body);
    for want in [
        "채널별 매출 구성",
        "시간대별 매장 방문과 구매 전환",
        "온라인 퍼널",
        "채널을 넘나드는 구매 여정",
        "품절",
        "data-chart",
    ] {
        assert!(p.has(want), "owner sees {want}: {}", p.body);
    }
    assert!(p.has("72,000") || p.has("72000"), "six tees at 12,000 won: {}", p.body);
    assert!(p.has("/console/analytics"), "the navigation links the screen");
    // The chart's data is the table's.
    assert!(p.has("&quot;kind&quot;:&quot;lines&quot;") || p.has("\"kind\":\"lines\""), "{}", p.body);
    // Dates upside down: the dates again with why, in Korean, and a way back; not a dead end.
    let bad = owner.get("/console/analytics?from=2026-12-08&to=2026-12-01").await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        bad.has("value=\"2026-12-08\"") && bad.has("`to`보다 늦을 수 없습니다") && bad.has("어제와 오늘 보기"),
        "{}",
        bad.body
    );

    // The web funnel's breakdown: by device unless the owner picks a segment; the seller's own segments are
    // offered once there are some.
    assert!(p.has("name=\"segment\"") && !p.has("value=\"custom\""), "{}", p.body);
    let by_tier = owner.get("/console/analytics?segment=tier").await;
    assert!(by_tier.has("value=\"tier\" selected"), "{}", by_tier.body);
    app.req(
        "PUT",
        "/admin/analytics/segments",
        Some(ADMIN_KEY),
        Some(serde_json::json!({"segments": [{"name": "단골", "visitor": "returning"}]})),
        &[],
    )
    .await
    .expect(200);
    let custom = owner.get("/console/analytics?segment=custom").await;
    assert!(custom.has("value=\"custom\" selected>내 세그먼트"), "{}", custom.body);

    // The owner keeps the segments in the console: add one (checked boxes are lists), see it explained,
    // a bad one explained without losing what was ticked, and remove one.
    let page = owner.get("/console/analytics/segments").await;
    assert!(page.has("단골") && page.has("재구매"), "the segment from the API, explained: {}", page.body);
    let home = page.field("home_store");
    let added = owner
        .submit(
            "/console/analytics/segments",
            "/console/analytics/segments",
            &[
                ("name", "골드 30대"),
                ("tiers", "Gold, vip"),
                ("age_band", "30s"),
                ("age_band", "40s"),
                ("home_store", &home),
                ("channel", "web"),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let page = owner.get("/console/analytics/segments").await;
    assert!(
        page.has("골드 30대") && page.has("gold, vip") && page.has("30대, 40대") && page.has("온라인"),
        "{}",
        page.body
    );
    let got = app.admin_get("/admin/analytics/segments").await.expect(200);
    assert_eq!(got["segments"][1]["age_bands"], json!(["30s", "40s"]), "{got}");
    let bad = owner
        .submit("/console/analytics/segments", "/console/analytics/segments", &[("name", "단골"), ("age_band", "50s")])
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.has("같은 이름의 세그먼트가 이미 있습니다") && bad.has("value=\"50s\" checked"), "{}", bad.body);
    let none =
        owner.submit("/console/analytics/segments", "/console/analytics/segments", &[("name", "Everyone")]).await;
    assert_eq!(none.status, 422, "{}", none.body);
    assert!(none.has("하나 이상을 정해 주세요"), "{}", none.body);
    let removed =
        owner.submit("/console/analytics/segments", "/console/analytics/segments/remove", &[("name", "단골")]).await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    let got = app.admin_get("/admin/analytics/segments").await.expect(200);
    assert_eq!(got["segments"].as_array().unwrap().len(), 1, "{got}");

    let mut manager = Browser::new(&app);
    manager.login("gnm@example.com", PW).await;
    let p = manager.get("/console/analytics").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.has("Channel mix of revenue"), "English for this manager: {}", p.body);
    assert!(!p.has("Web funnel") && !p.has("Journeys across channels"), "whole-shop sections are the owner's");

    assert_eq!(manager.get("/console/analytics/segments").await.status, 403, "segments are the owner's");

    let mut associate = Browser::new(&app);
    associate.login("gn@example.com", PW).await;
    assert_eq!(associate.get("/console/analytics").await.status, 403);

    let p = owner.get("/console/analytics?from=2026-13-01&to=2026-12-01").await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.has("`from`") && p.has("value=\"2026-13-01\""), "the field is named, the dates shown again: {}", p.body);
}
both!(analytics_screen_by_role);
