//! Shopper analytics through the API: orders of every channel, a pickup, a cancellation, a return, a
//! stock-out and web events become analytics events once each (a second delivery of the whole feed adds
//! nothing), answers are exact and obey k, consent decides who is recognised, and an erasure request
//! leaves nothing that leads back to the shopper; on SQLite and PostgreSQL.

use crate::both;
use crate::helpers::*;
use serde_json::{json, Value};

async fn pos_sale(app: &TestApp, store: &str, sku: &str, customer: Option<&str>) -> String {
    let mut body = json!({"location_id": store, "lines": [{"sku": sku, "quantity": 1}]});
    if let Some(c) = customer {
        body["customer_id"] = json!(c);
    }
    app.admin_post("/admin/pos/sales", body).await.expect(201)["order"]["id"].as_str().unwrap().to_owned()
}

/// Ingests the feed until the analytics hold `want` purchase rows (PostgreSQL's feed shows a commit only
/// once every older transaction of the cluster has ended, so it may lag a moment).
async fn ingest_until(app: &TestApp, want: i64) {
    let engine = app.running.as_ref().unwrap().engine.clone();
    for _ in 0..200 {
        engine.insight_catch_up().await.unwrap();
        if app.count("SELECT COUNT(*) FROM insight_events WHERE kind = 'purchase'").await == want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("analytics never reached {want} purchases");
}

/// The answer at `path` once `ready` holds for it: on PostgreSQL a node's snapshot takes in a row only once
/// every older transaction of the cluster has ended (the event feed's horizon), which the other tests'
/// transactions can hold back for seconds.
async fn answer_when(app: &TestApp, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..600 {
        last = app.admin_get(path).await.expect(200);
        if ready(&last) {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{path} never became ready within 30 s: {last}");
}

fn has_row(rows: &Value, f: impl Fn(&Value) -> bool) -> bool {
    rows["rows"].as_array().is_some_and(|rs| rs.iter().any(f))
}

fn row(rows: &Value, f: impl Fn(&Value) -> bool) -> &Value {
    rows["rows"].as_array().unwrap().iter().find(|r| f(r)).unwrap_or_else(|| panic!("no such row in {rows}"))
}

async fn analytics_count_each_happening_once(b: Backend) {
    let app = spawn_app(b).await;
    let engine = app.running.as_ref().unwrap().engine.clone();
    // The story takes an hour of the shop's day (Seoul): it starts at 10:00 there, whatever the time now —
    // begun at 23:10, the return would fall on the next day and the channel mix would split it off.
    let (day, local) = (86_400_000, engine.now() + 9 * 3_600_000);
    app.clock.advance_ms((10 * 3_600_000 - local.rem_euclid(day)).rem_euclid(day));
    let store = app.location("GANGNAM", "store", true).await;
    app.product("TEE", 10_000).await;
    app.stock_in("TEE", &store, 50).await;
    app.product("CAP", 5_000).await;
    app.stock_in("CAP", &store, 1).await;
    let tee = app.admin_get("/admin/products/tee").await.expect(200)["product"]["id"].as_str().unwrap().to_owned();

    // Six customers who agreed to be recognised (home store Gangnam), one who did not.
    let (mut ids, mut tokens) = (Vec::new(), Vec::new());
    for n in 0..7 {
        let s = app
            .signup(json!({"email": format!("c{n}@example.com"), "password": "analytics password", "name": format!("C{n}")}))
            .await
            .expect(201);
        let token = s["token"].as_str().unwrap().to_owned();
        if n < 6 {
            let p = app
                .req(
                    "PUT",
                    "/store/customers/me/analytics",
                    Some(&token),
                    Some(json!({"consent": true, "birth_year": 1990, "home_location_id": store})),
                    &[],
                )
                .await
                .expect(200);
            assert_eq!(p["consent"], true);
        }
        ids.push(s["customer"]["id"].as_str().unwrap().to_owned());
        tokens.push(token);
    }
    let mut orders = Vec::new();
    for c in &ids {
        orders.push(pos_sale(&app, &store, "TEE", Some(c)).await);
    }
    pos_sale(&app, &store, "TEE", Some(&ids[0])).await; // c0 comes back
    pos_sale(&app, &store, "CAP", None).await; // the last cap: out of stock
    app.clock.advance_ms(3_600_000);
    app.stock_in("CAP", &store, 5).await; // back an hour later
                                          // Click & collect: one order handed over, one cancelled.
    let cart = app.pickup_cart("TEE", 1, &store).await;
    let cc = app.checkout(&cart, "CC-1").await.expect(201)["order"]["id"].as_str().unwrap().to_owned();
    app.hand_over(&cc).await;
    let cart = app.pickup_cart("TEE", 1, &store).await;
    let gone = app.checkout(&cart, "CC-2").await.expect(201)["order"]["id"].as_str().unwrap().to_owned();
    app.admin_post(&format!("/admin/orders/{gone}/cancel"), json!({"reason": "changed mind"})).await.expect(200);
    // c1 returns their tee.
    app.admin_post(
        "/admin/returns",
        json!({"order_id": orders[1], "location_id": store, "lines": [{"sku": "TEE", "quantity": 1}]}),
    )
    .await
    .expect(201);
    // Web events: an anonymous visitor's view (recorded), the non-consenting customer's view (not).
    app.post(
        "/store/events",
        json!({"session_id": "anon-visitor-0001-abcdef", "events": [{"type": "view", "product_id": tee, "device": "mobile"}]}),
    )
    .await
    .expect(202);
    app.req(
        "POST",
        "/store/events",
        Some(&tokens[6]),
        Some(json!({"events": [{"type": "view", "product_id": tee}]})),
        &[],
    )
    .await
    .expect(202);

    // 7 + 1 tees and a cap at the counter, one click & collect tee (the cancelled order never counts).
    let (a, b) = tokio::join!(engine.insight_catch_up(), engine.insight_catch_up());
    a.unwrap();
    b.unwrap();
    ingest_until(&app, 10).await;
    // The pickup and the return came later than the purchases: on PostgreSQL the feed may show them a
    // moment later (a commit shows once every older transaction of the cluster has ended).
    for _ in 0..200 {
        let later = app.count("SELECT COUNT(*) FROM insight_events WHERE kind IN ('pickup', 'return')").await;
        if later == 2 {
            break;
        }
        engine.insight_catch_up().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let total = app.count("SELECT COUNT(*) FROM insight_events").await;
    // The whole feed delivered again: nothing new.
    engine
        .db()
        .write(|tx| -> Result<u64, store::DbError> {
            tx.exec("UPDATE meta SET value = '0-0' WHERE key = 'insight.events_cursor'", &[])
        })
        .await
        .unwrap();
    engine.insight_catch_up().await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM insight_events").await, total, "a second delivery adds nothing");
    assert_eq!(app.count("SELECT COUNT(*) FROM insight_events WHERE kind = 'pickup'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM insight_events WHERE kind = 'return'").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM insight_events WHERE kind = 'view'").await,
        1,
        "no view without consent"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM insight_events WHERE kind = 'purchase' AND customer_id IS NOT NULL").await,
        7,
        "only consenting customers are recognised"
    );

    // Channel mix: the counter's revenue and the return; click & collect is one shopper, below k = 5.
    let mix = answer_when(&app, "/admin/analytics/channel-mix", |m| {
        has_row(m, |r| r["channel"] == "pos" && r["orders"] == 9 && r["returned_minor"] == 10_000)
    })
    .await;
    assert_eq!((mix["k"].as_u64(), mix["withheld"].as_u64()), (Some(5), Some(1)));
    let pos = row(&mix, |r| r["channel"] == "pos");
    assert_eq!((pos["orders"].as_i64(), pos["units"].as_i64()), (Some(9), Some(9)));
    assert_eq!((pos["revenue_minor"].as_i64(), pos["returned_minor"].as_i64()), (Some(85_000), Some(10_000)));
    let cc_row = row(&mix, |r| r["channel"] == "click_collect");
    assert!(cc_row["suppressed"] == true && cc_row["revenue_minor"].is_null(), "{cc_row}");

    // Repeat purchases of recognised customers, by home store.
    let rep = app.admin_get("/admin/analytics/repeat?segment=home_store").await.expect(200);
    let r = row(&rep, |r| r["segment"] == json!(store));
    assert_eq!(
        (r["buyers"].as_i64(), r["repeat_buyers"].as_i64(), r["repeat_rate"].as_f64()),
        (Some(6), Some(1), Some(0.1667))
    );
    let strict = app.admin_get("/admin/analytics/repeat?k=7").await.expect(200);
    assert_eq!(strict["rows"][0]["suppressed"], true, "{strict}");

    // The cap was out for an hour.
    let outs = app.admin_get(&format!("/admin/analytics/stockouts?location_id={store}")).await.expect(200);
    let cap = row(&outs, |r| r["sku"] == "CAP");
    assert_eq!(
        (cap["episodes"].as_i64(), cap["out_ms"].as_i64(), cap["out_now"].as_bool()),
        (Some(1), Some(3_600_000), Some(false))
    );

    // The web funnel (k raised to... lowered is refused; one visitor is below k).
    let web = app.admin_get("/admin/analytics/online-funnel?device=true").await.expect(200);
    assert_eq!(row(&web, |r| r["device"] == "mobile")["suppressed"], true);
    let r = app.req_unchecked("GET", "/admin/analytics/online-funnel?k=1", Some(ADMIN_KEY), None).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"), "{}", r.body);

    // c0 asks to be forgotten: their purchases stay in revenue, tied to nobody.
    let erased = app.req("DELETE", "/store/customers/me/analytics", Some(&tokens[0]), None, &[]).await.expect(200);
    assert_eq!(erased["erased_events"], 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM insight_events WHERE customer_id IS NOT NULL").await,
        6,
        "c1..c5's purchases and c1's return"
    );
    let rep = app.admin_get("/admin/analytics/repeat?segment=home_store").await.expect(200);
    let r = row(&rep, |r| r["segment"] == json!(store));
    assert_eq!((r["buyers"].as_i64(), r["repeat_buyers"].as_i64()), (Some(5), Some(0)));
    let mix = app.admin_get("/admin/analytics/channel-mix").await.expect(200);
    assert_eq!(row(&mix, |r| r["channel"] == "pos")["revenue_minor"], 85_000);
    let me = app.req("GET", "/store/customers/me/analytics", Some(&tokens[0]), None, &[]).await.expect(200);
    assert_eq!(me["consent"], false);
    // A tier set now applies from now on.
    app.req("PUT", &format!("/admin/customers/{}/tier", ids[1]), Some(ADMIN_KEY), Some(json!({"tier": "Gold"})), &[])
        .await
        .expect(200);
    app.assert_no_drift().await;
}
both!(analytics_count_each_happening_once);

async fn analytics_refuse_what_they_cannot_answer(b: Backend) {
    let app = spawn_app(b).await;
    let store = app.location("GANGNAM", "store", true).await;
    let other = app.location("HONGDAE", "store", true).await;
    for (q, field) in [
        ("/admin/analytics/dwell?from=2026-13-01", "`from`"),
        ("/admin/analytics/dwell?from=2026-12-05&to=2026-12-01", "`from`"),
        ("/admin/analytics/dwell?from=2024-01-01&to=2026-01-01", "400 days"),
        ("/admin/analytics/dwell?segment=religion", "`segment`"),
        ("/admin/analytics/dwell?level=aisle", "`level`"),
        ("/admin/analytics/dwell?by=minute", "`by`"),
        ("/admin/analytics/instore-funnel?min_dwell_s=-1", "`min_dwell_s`"),
        ("/admin/analytics/journeys?within_days=0", "`within_days`"),
        ("/admin/analytics/heatmap", "`location_id`"),
    ] {
        let r = app.req_unchecked("GET", q, Some(ADMIN_KEY), None).await;
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        let msg = r.body["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(field), "{q}: {msg}");
        let ko = r.body["error"]["message_ko"].as_str().unwrap_or_default();
        let named = msg.split('`').nth(1).map(|f| format!("`{f}`")).unwrap_or_default();
        assert!(!named.is_empty() && ko.contains(&named), "the Korean message names the field to fix: {q}: {ko}");
    }
    let r =
        app.req_unchecked("GET", &format!("/admin/analytics/heatmap?location_id={store}"), Some(ADMIN_KEY), None).await;
    assert_eq!((r.status, r.code()), (400, "no_layout"), "{}", r.body);
    assert!(r.body["error"]["message_ko"].as_str().unwrap().contains("배치"), "{}", r.body);
    let r = app.req_unchecked("GET", "/admin/analytics/heatmap?location_id=nowhere", Some(ADMIN_KEY), None).await;
    assert_eq!(r.status, 404, "{}", r.body);
    // Staff of one store see only their own.
    let key = app
        .admin_post("/admin/api-keys", json!({"role": "staff", "location_id": other, "label": "hongdae"}))
        .await
        .expect(201)["api_key"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.req_unchecked("GET", &format!("/admin/analytics/traffic?location_id={store}"), Some(&key), None).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = app.req("GET", "/admin/analytics/traffic", Some(&key), None, &[]).await.expect(200);
    assert_eq!(r["rows"], json!([]));
    let r = app.req_unchecked("GET", "/admin/analytics/online-funnel", Some(&key), None).await;
    assert_eq!(r.status, 403, "the whole web shop is not one store's: {}", r.body);
}
both!(analytics_refuse_what_they_cannot_answer);

/// The CLI over a shop's database: `analytics ask` prints the API's answer; `analytics export` writes
/// Parquet partitioned by day with a manifest, never over an existing directory, and DuckDB reads it
/// (when BORDERLESS_DUCKDB_PYTHON names a Python with duckdb; `.ci/run` sets it).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cli_answers_and_exports_parquet() {
    const BIN: &str = env!("CARGO_BIN_EXE_borderless");
    let app = spawn_app(Backend::Sqlite).await;
    let store = app.location("GANGNAM", "store", true).await;
    app.product("EXP", 3_000).await;
    app.stock_in("EXP", &store, 50).await;
    for _ in 0..6 {
        pos_sale(&app, &store, "EXP", None).await;
    }
    ingest_until(&app, 6).await;
    let data = app.data_dir.display().to_string();
    let ask = std::process::Command::new(BIN)
        .args(["analytics", "ask", "channel-mix", "--data-dir", &data])
        .output()
        .unwrap();
    assert!(ask.status.success(), "{}", String::from_utf8_lossy(&ask.stderr));
    let v: Value = serde_json::from_slice(&ask.stdout).unwrap();
    assert_eq!(v["rows"][0]["revenue_minor"], 18_000, "{v}");
    let bad =
        std::process::Command::new(BIN).args(["analytics", "ask", "weather", "--data-dir", &data]).output().unwrap();
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("not a question"));

    let out = app.data_dir.join("export");
    let run = || {
        std::process::Command::new(BIN)
            .args(["analytics", "export", "--data-dir", &data, "--out"])
            .arg(&out)
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let manifest: Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let files = manifest["files"].as_array().unwrap();
    let events: Vec<&Value> = files.iter().filter(|f| f["path"].as_str().unwrap().starts_with("events/day=")).collect();
    assert_eq!(events.len(), 1, "{manifest}");
    assert_eq!(events[0]["rows"], 6, "six counter sales: {manifest}");
    for f in files {
        let bytes = std::fs::read(out.join(f["path"].as_str().unwrap())).unwrap();
        assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
    }
    let again = run();
    assert!(!again.status.success(), "an export never overwrites");
    assert!(String::from_utf8_lossy(&again.stderr).contains("not an empty directory"));
    let python = std::env::var("BORDERLESS_DUCKDB_PYTHON").ok();
    if python.is_none() && std::env::var("BORDERLESS_REQUIRE_DUCKDB").as_deref() == Ok("1") {
        panic!("BORDERLESS_REQUIRE_DUCKDB=1 but BORDERLESS_DUCKDB_PYTHON names no Python with duckdb (.ci/run installs one)");
    }
    if let Some(python) = python {
        let glob = format!("{}/events/*/*.parquet", out.display());
        let q = format!(
            "import duckdb; print(duckdb.sql(\"select count(*), sum(amount_minor) filter (where kind = 'purchase'), count(distinct shopper) from read_parquet('{glob}')\").fetchall()[0])"
        );
        let r = std::process::Command::new(python).args(["-c", &q]).output().unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        assert_eq!(String::from_utf8_lossy(&r.stdout).trim(), "(6, 18000, 6)", "DuckDB reads the export");
    }
}

/// Two nodes on one PostgreSQL database ingest the same feed at the same time: each event is counted once
/// (the cursor moves with what was written, and a node whose batch was written by the other reads again).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_share_the_ingest_without_double_counting() {
    let Some(url) = fresh_pg_database() else { return };
    let a = spawn_app(Backend::Postgres(url.clone())).await;
    let b = spawn_app(Backend::Postgres(url)).await;
    let store = a.location("GANGNAM", "store", true).await;
    a.product("TWO", 1_000).await;
    a.stock_in("TWO", &store, 500).await;
    for n in 0..120 {
        // Sales through both nodes.
        let app = if n % 2 == 0 { &a } else { &b };
        pos_sale(app, &store, "TWO", None).await;
    }
    let (ea, eb) = (a.running.as_ref().unwrap().engine.clone(), b.running.as_ref().unwrap().engine.clone());
    for _ in 0..200 {
        let (x, y) = tokio::join!(ea.insight_catch_up(), eb.insight_catch_up());
        x.unwrap();
        y.unwrap();
        if a.count("SELECT COUNT(*) FROM insight_events WHERE kind = 'purchase'").await == 120 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(a.count("SELECT COUNT(*) FROM insight_events WHERE kind = 'purchase'").await, 120);
    let mix = answer_when(&a, "/admin/analytics/channel-mix", |m| m["rows"][0]["orders"] == 120).await;
    assert_eq!(mix["rows"][0]["orders"], 120, "{mix}");
    let mix_b = answer_when(&b, "/admin/analytics/channel-mix", |m| m["rows"][0]["revenue_minor"] == 120_000).await;
    assert_eq!(mix_b["rows"][0]["revenue_minor"], 120_000, "the other node answers the same: {mix_b}");
    assert_eq!(mix_b["rows"][0]["orders"], 120, "each sale once on the other node: {mix_b}");
}

/// The seller's k (`--analytics-k`) is every answer's floor: a question may raise it, never lower it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sellers_k_is_the_floor() {
    let app = spawn_app_tuned(Backend::Sqlite, |cfg| cfg.analytics_k = 8).await;
    let r = app.admin_get("/admin/analytics/channel-mix").await.expect(200);
    assert_eq!(r["k"], 8);
    assert_eq!(app.admin_get("/admin/analytics/channel-mix?k=9").await.expect(200)["k"], 9);
    let low = app.req_unchecked("GET", "/admin/analytics/channel-mix?k=5", Some(ADMIN_KEY), None).await;
    assert_eq!(low.status, 400, "{}", low.body);
    assert!(low.body["error"]["message"].as_str().unwrap().contains("raised from 8"), "{}", low.body);
}

/// The seller's own segments: defined once (validated, in order), asked with `segment=custom`; a shopper's
/// row goes to the first segment that matches, `other` when none does.
async fn the_sellers_own_segments(b: Backend) {
    let app = spawn_app_tuned(b, |cfg| cfg.analytics_k = 2).await;
    let store = app.location("GANGNAM", "store", true).await;
    app.product("SEG", 10_000).await;
    app.stock_in("SEG", &store, 50).await;
    let none = app.req_unchecked("GET", "/admin/analytics/repeat?segment=custom", Some(ADMIN_KEY), None).await;
    assert_eq!(none.status, 400, "{}", none.body);
    assert!(none.body["error"]["message"].as_str().unwrap().contains("PUT /admin/analytics/segments"), "{}", none.body);
    let mut ids = Vec::new();
    for (n, year) in [1990, 1991, 1960, 1961, 1975].into_iter().enumerate() {
        let s = app
            .signup(json!({"email": format!("seg{n}@example.com"), "password": "analytics password", "name": format!("S{n}")}))
            .await
            .expect(201);
        let token = s["token"].as_str().unwrap();
        let body = json!({"consent": true, "birth_year": year});
        app.req("PUT", "/store/customers/me/analytics", Some(token), Some(body), &[]).await.expect(200);
        ids.push(s["customer"]["id"].as_str().unwrap().to_owned());
    }
    for c in &ids[..2] {
        app.req("PUT", &format!("/admin/customers/{c}/tier"), Some(ADMIN_KEY), Some(json!({"tier": "gold"})), &[])
            .await
            .expect(200);
    }
    app.clock.advance_ms(1_000);
    // The gold thirty-somethings buy twice, the others once.
    for c in ids.iter().chain(&ids[..2]) {
        pos_sale(&app, &store, "SEG", Some(c)).await;
    }
    // Definitions are checked and explained.
    for (bad, says) in [
        (json!([{"name": "other", "tiers": ["gold"]}]), "already"),
        (json!([{"name": "Empty"}]), "names no"),
        (json!([{"name": "Old", "age_bands": ["70s"]}]), "70s"),
        (json!([{"name": "Home", "home_stores": ["loc_nowhere"]}]), "loc_nowhere"),
        (json!([{"name": "A", "tiers": ["gold"]}, {"name": "a", "visitor": "new"}]), "names must differ"),
        (json!([{"name": "Race", "race": ["x"]}]), "race"),
    ] {
        let r = app
            .req_unchecked("PUT", "/admin/analytics/segments", Some(ADMIN_KEY), Some(json!({"segments": bad})))
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.body.to_string().contains(says), "{bad} should say {says}: {}", r.body);
    }
    let defs = json!([
        {"name": "골드 30대", "tiers": [" Gold "], "age_bands": ["30s"]},
        {"name": "Boomers", "age_bands": ["60_plus"], "home_stores": [], "visitor": null}
    ]);
    let put = app
        .req("PUT", "/admin/analytics/segments", Some(ADMIN_KEY), Some(json!({"segments": defs})), &[])
        .await
        .expect(200);
    assert_eq!(put["segments"][0]["tiers"], json!(["gold"]), "{put}");
    let got = app.admin_get("/admin/analytics/segments").await.expect(200);
    assert_eq!(got["segments"].as_array().unwrap().len(), 2, "{got}");
    ingest_until(&app, 7).await;
    let rep = answer_when(&app, "/admin/analytics/repeat?segment=custom", |r| {
        has_row(r, |r| r["segment"] == "골드 30대") && has_row(r, |r| r["segment"] == "Boomers")
    })
    .await;
    let gold = row(&rep, |r| r["segment"] == "골드 30대");
    assert_eq!((gold["buyers"].as_i64(), gold["repeat_buyers"].as_i64()), (Some(2), Some(2)), "{rep}");
    let boomers = row(&rep, |r| r["segment"] == "Boomers");
    assert_eq!((boomers["buyers"].as_i64(), boomers["repeat_buyers"].as_i64()), (Some(2), Some(0)), "{rep}");
    // The 1975-born customer is in neither: `other`, below k and withheld.
    assert!(
        rep["rows"].as_array().unwrap().iter().all(|r| r["segment"] != "other" || r["suppressed"] == true),
        "{rep}"
    );
    assert_eq!(rep["withheld"], 1, "{rep}");
}
both!(the_sellers_own_segments);
