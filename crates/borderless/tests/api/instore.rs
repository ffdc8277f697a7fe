//! A live cashierless store through the device API: layout, devices with their own tokens, a shopper who
//! enters with a payment code, picks an item (shelf plates and body tracks), and leaves with an order;
//! duplicates, gaps and bad events; and a restart between the pick and the exit that loses nothing.

use crate::both;
use crate::helpers::*;
use serde_json::{json, Value};

const T0: f64 = 1_800_000_000.0;

/// Plate samples of gondola 1, shelf 1, plates 1–4 from `from` to `to` (60 Hz) as events of 0.5 s, with
/// `weight(plate, t)` grams plus a little deterministic noise.
fn plate_events(seq: &mut i64, from: f64, to: f64, weight: impl Fn(u16, f64) -> f64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut t = from;
    while t < to {
        let mut samples = Vec::new();
        let end = (t + 0.5).min(to);
        let mut k = 0;
        while t + k as f64 / 60.0 < end {
            let ts = t + k as f64 / 60.0;
            for p in 1..=4u16 {
                let noise = ((ts * 37.0 + p as f64).sin()) * 0.4;
                samples.push(json!([ts, 1, p, weight(p, ts) + noise]));
            }
            k += 1;
        }
        *seq += 1;
        out.push(json!({"seq": *seq, "type": "plates", "gondola": 1, "samples": samples}));
        t = end;
    }
    out
}

/// A shopper standing in front of the shelf; their right hand reaches into the first facing's box
/// between `reach.0` and `reach.1`.
fn track_events(seq: &mut i64, target: &str, from: f64, to: f64, reach: (f64, f64)) -> Vec<Value> {
    let mut out = Vec::new();
    let mut t = from;
    while t < to {
        let mut frames = Vec::new();
        for k in 0..10 {
            let ts = t + k as f64 * 0.1;
            let in_box = ts >= reach.0 && ts <= reach.1;
            let hand = if in_box { [0.1, -0.2, 1.15] } else { [0.1, -0.75, 1.0] };
            frames.push(json!({"t": ts, "target_id": target, "joints": {
                "head": [0.1, -0.9, 1.65], "neck": [0.1, -0.9, 1.5], "l_shoulder": [-0.1, -0.9, 1.45], "r_shoulder": [0.3, -0.9, 1.45],
                "r_wrist": hand, "r_hand": [hand[0], hand[1] + 0.05, hand[2]], "l_wrist": [-0.15, -0.85, 1.0]}}));
        }
        *seq += 1;
        out.push(json!({"seq": *seq, "type": "tracks", "frames": frames}));
        t += 1.0;
    }
    out
}

async fn post_events(app: &TestApp, token: &str, events: Vec<Value>) -> Value {
    let r = app.req("POST", "/devices/events", Some(token), Some(json!({ "events": events })), &[]).await.expect(200);
    r["ingest"].clone()
}

/// Grams on plate `p` of the layout below: product A (500 g) on plates 1–2, B (300 g) on 3–4; one A taken
/// at `pick` (half its weight off each of its plates after 0.8 s of shaking).
fn shelf(pick: Option<f64>) -> impl Fn(u16, f64) -> f64 {
    move |p, t| {
        let base = if p <= 2 { 1000.0 } else { 600.0 };
        match pick {
            Some(at) if p <= 2 && t >= at && t < at + 0.8 => base - 125.0 + 40.0 * (t * 50.0).sin(),
            Some(at) if p <= 2 && t >= at + 0.8 => base - 250.0,
            _ => base,
        }
    }
}

async fn cashierless_store_from_sensors_to_order(b: Backend) {
    let app = spawn_app(b).await;
    let engine = app.running.as_ref().unwrap().engine.clone();
    borderless::demo::seed(&engine).await.expect("demo seeds");
    let store = engine.location(borderless::demo::data::CASHIERLESS).await.unwrap().id;
    let stocked: Vec<String> = borderless::demo::data::stock(&borderless::demo::data::products())
        .into_iter()
        .filter(|s| s.location_code == borderless::demo::data::CASHIERLESS)
        .map(|s| s.sku)
        .collect();
    let (a, bb) = (stocked[0].clone(), stocked[1].clone());

    // Layout: bad input first.
    let r = app
        .req(
            "PUT",
            &format!("/admin/stores/{store}/layout"),
            Some(ADMIN_KEY),
            Some(json!({"plates": [{"gondola": 1, "shelf": 1, "plate": 1, "sku": "NOPE", "unit_weight_g": 500.0}]})),
            &[],
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = app
        .req(
            "PUT",
            &format!("/admin/stores/{store}/layout"),
            Some(ADMIN_KEY),
            Some(json!({"plates": [{"gondola": 1, "shelf": 1, "plate": 1, "sku": a, "unit_weight_g": -1.0}]})),
            &[],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let layout = json!({
        "plates": [
            {"gondola": 1, "shelf": 1, "plate": 1, "sku": a, "unit_weight_g": 500.0}, {"gondola": 1, "shelf": 1, "plate": 2, "sku": a, "unit_weight_g": 500.0},
            {"gondola": 1, "shelf": 1, "plate": 3, "sku": bb, "unit_weight_g": 300.0}, {"gondola": 1, "shelf": 1, "plate": 4, "sku": bb, "unit_weight_g": 300.0}],
        "facings": [
            {"sku": a, "gondola": 1, "shelf": 1, "plates": [1, 2], "corner_m": [0.0, -0.4, 1.0], "size_m": [0.2, 0.4, 0.3]},
            {"sku": bb, "gondola": 1, "shelf": 1, "plates": [3, 4], "corner_m": [0.2, -0.4, 1.0], "size_m": [0.2, 0.4, 0.3]}]});
    app.req("PUT", &format!("/admin/stores/{store}/layout"), Some(ADMIN_KEY), Some(layout), &[]).await.expect(200);

    // Devices, each with its own token.
    let mut tokens = std::collections::HashMap::new();
    for (kind, code) in [("gate", "gate-1"), ("gondola", "g1"), ("tracker", "cam-1")] {
        let r = app
            .admin_post(&format!("/admin/stores/{store}/devices"), json!({"kind": kind, "code": code}))
            .await
            .expect(201);
        tokens.insert(kind, r["device"]["token"].as_str().unwrap().to_owned());
    }
    let r = app.admin_post(&format!("/admin/stores/{store}/devices"), json!({"kind": "gate", "code": "gate-1"})).await;
    assert_eq!(r.status, 409);
    let r = app.admin_post(&format!("/admin/stores/{store}/devices"), json!({"kind": "robot", "code": "r1"})).await;
    assert_eq!(r.status, 400);
    let r = app.req("POST", "/devices/events", Some("bl_dev_nope"), Some(json!({"events": []})), &[]).await;
    assert_eq!(r.status, 401);

    // Minji enters with her app's payment code.
    let minji = engine.find_customers(Some("minji.kim@example.com".into()), None, None).await.unwrap()[0].id.clone();
    let code = engine.payment_code(&minji).await.unwrap().code;
    let (mut gseq, mut pseq, mut tseq) = (0i64, 0i64, 0i64);
    gseq += 1;
    let r = post_events(
        &app,
        &tokens["gate"],
        vec![json!({"seq": gseq, "type": "entry", "t": T0, "target_id": "t1", "payment_code": code})],
    )
    .await;
    assert_eq!(r["entries"][0]["admitted"], true, "{r}");
    let session = r["entries"][0]["session_id"].as_str().unwrap().to_owned();
    // The same code cannot open a second visit.
    gseq += 1;
    let r = post_events(
        &app,
        &tokens["gate"],
        vec![json!({"seq": gseq, "type": "entry", "t": T0 + 0.5, "target_id": "t9", "payment_code": code})],
    )
    .await;
    assert_eq!(r["entries"][0]["admitted"], false, "{r}");

    // She takes one A at T0+5: tracks and plates arrive interleaved, as devices send them.
    let tracks = track_events(&mut tseq, "t1", T0 + 1.0, T0 + 10.0, (T0 + 4.6, T0 + 5.6));
    let plates = plate_events(&mut pseq, T0 + 1.0, T0 + 10.0, shelf(Some(T0 + 5.0)));
    for i in 0..tracks.len().max(plates.len() / 2) {
        if let Some(t) = tracks.get(i) {
            post_events(&app, &tokens["tracker"], vec![t.clone()]).await;
        }
        let chunk: Vec<Value> = plates.iter().skip(i * 2).take(2).cloned().collect();
        if !chunk.is_empty() {
            let r = post_events(&app, &tokens["gondola"], chunk).await;
            assert!(r["rejected"].as_array().unwrap().is_empty(), "{r}");
        }
    }

    // Duplicates are dropped, gaps reported, bad events refused one by one (nothing of them stored).
    let r = post_events(&app, &tokens["gondola"], vec![plates[0].clone()]).await;
    assert_eq!(r["duplicates"], json!([1]), "{r}");
    assert_eq!(r["accepted"], 0);
    let r = post_events(
        &app,
        &tokens["gondola"],
        vec![
            json!({"seq": pseq + 3, "type": "plates", "gondola": 1, "samples": [[T0 + 10.0, 1, 1, 1000.0]]}),
            json!({"seq": pseq + 4, "type": "plates", "gondola": 1, "samples": [[T0 + 10.1, 1, 1, "heavy"]]}),
            json!({"seq": pseq + 5, "type": "plates", "gondola": 1, "samples": [[T0 + 10.1, 1, 9, 5.0]]}),
            json!({"seq": pseq + 6, "type": "entry", "t": T0, "target_id": "x", "payment_code": "ABC"}),
            json!({"seq": pseq + 7, "type": "plates", "gondola": 1, "v": 2, "samples": [[T0 + 10.1, 1, 1, 5.0]]}),
        ],
    )
    .await;
    assert_eq!(r["accepted"], 1, "{r}");
    assert_eq!(r["gaps"], json!([[pseq + 1, pseq + 2]]), "{r}");
    let rejected: Vec<(u64, String)> = r["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["index"].as_u64().unwrap(), x["error"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(rejected.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 3, 4, 2], "{r}");
    assert!(rejected[1].1.contains("gondola cannot send `entry`"), "{rejected:?}");
    assert!(rejected[3].1.contains("not in the store's layout"), "{rejected:?}");
    let devices = app.admin_get(&format!("/admin/stores/{store}/devices")).await.expect(200);
    let g1 = devices["devices"].as_array().unwrap().iter().find(|d| d["code"] == "g1").unwrap().clone();
    assert_eq!(
        (g1["duplicates"].as_i64(), g1["gaps"].as_i64(), g1["rejected"].as_i64()),
        (Some(1), Some(2), Some(4)),
        "{g1}"
    );

    // She walks out: the order is placed at the store and charged from her entry hold.
    gseq += 1;
    let r = post_events(
        &app,
        &tokens["gate"],
        vec![json!({"seq": gseq, "type": "exit", "t": T0 + 12.0, "target_id": "t1"})],
    )
    .await;
    let orders = r["orders"].as_array().unwrap().clone();
    assert_eq!(
        orders.len(),
        1,
        "{r} / reviews: {}",
        app.admin_get(&format!("/admin/stores/{store}/reviews")).await.body
    );
    let order = app.admin_get(&format!("/admin/orders/{}", orders[0].as_str().unwrap())).await.expect(200);
    assert_eq!(order["order"]["channel"], "cashierless", "{order}");
    assert_eq!(order["order"]["lines"].as_array().unwrap().len(), 1, "{order}");
    assert_eq!(order["order"]["lines"][0]["sku"], a.as_str());
    assert_eq!(order["order"]["lines"][0]["quantity"], 1);
    assert_eq!(order["order"]["payment"]["status"], "paid");
    let s = engine.cashierless_session(&session).await.unwrap();
    assert_eq!(s.status, "completed");
    // Zones for analytics: she stood at the gondola and reached into the facing; both have a dwell time.
    // (The feed shows an event once every older transaction of the cluster has ended: poll.)
    let mut facing = None;
    let mut zones = Value::Null;
    for _ in 0..100 {
        zones = app.admin_get("/admin/events?type=instore.zone_exited&limit=100").await.expect(200);
        facing = zones["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| {
                e["data"]["session_id"] == session.as_str()
                    && e["data"]["zone"].as_str().unwrap().starts_with("facing:1-1-1_2:")
            })
            .cloned();
        if facing.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let facing = facing.unwrap_or_else(|| panic!("a facing zone exit: {zones}"));
    let dwell = facing["data"]["dwell_ms"].as_u64().unwrap();
    assert!((500..=2_000).contains(&dwell), "the hand was in the box for about a second: {dwell} ms");

    // The tracker reuses track id `t1` for the next shopper, who takes nothing: no one is charged for the
    // first visit's items again. A track already inside cannot enter twice.
    let code = engine.payment_code(&minji).await.unwrap().code;
    gseq += 1;
    let r = post_events(
        &app,
        &tokens["gate"],
        vec![json!({"seq": gseq, "type": "entry", "t": T0 + 50.0, "target_id": "t1", "payment_code": code})],
    )
    .await;
    assert_eq!(r["entries"][0]["admitted"], true, "{r}");
    let reused = r["entries"][0]["session_id"].as_str().unwrap().to_owned();
    gseq += 1;
    let code2 = engine.payment_code(&minji).await.unwrap().code;
    let r = post_events(
        &app,
        &tokens["gate"],
        vec![json!({"seq": gseq, "type": "entry", "t": T0 + 50.5, "target_id": "t1", "payment_code": code2})],
    )
    .await;
    assert_eq!(r["entries"][0]["admitted"], false, "{r}");
    assert!(r["entries"][0]["reason"].as_str().unwrap().contains("already inside"), "{r}");
    gseq += 1;
    let r = post_events(
        &app,
        &tokens["gate"],
        vec![json!({"seq": gseq, "type": "exit", "t": T0 + 60.0, "target_id": "t1"})],
    )
    .await;
    assert_eq!(r["orders"], json!([]), "the reused track's visit took nothing: {r}");
    let s = engine.cashierless_session(&reused).await.unwrap();
    assert_eq!((s.status.as_str(), s.order_id.as_deref()), ("completed", None));

    // A second visit; the server restarts (a fresh engine on the same database) between the pick and the
    // exit: the acknowledged events are folded again and the exit charges the right basket.
    let code = engine.payment_code(&minji).await.unwrap().code;
    gseq += 1;
    let r = post_events(
        &app,
        &tokens["gate"],
        vec![json!({"seq": gseq, "type": "entry", "t": T0 + 100.0, "target_id": "t2", "payment_code": code})],
    )
    .await;
    assert_eq!(r["entries"][0]["admitted"], true, "{r}");
    let tracks = track_events(&mut tseq, "t2", T0 + 101.0, T0 + 110.0, (T0 + 104.6, T0 + 105.6));
    let after_first = shelf(Some(T0 + 5.0));
    let second = shelf(Some(T0 + 105.0));
    let plates = plate_events(&mut pseq, T0 + 101.0, T0 + 110.0, move |p, t| {
        after_first(p, t) - (1000.0 - second(p, t).min(1000.0)) * if p <= 2 { 1.0 } else { 0.0 }
    });
    let restarted =
        engine::Engine::new(engine.db().clone(), Default::default(), std::sync::Arc::new(engine::SystemClock));
    let gate = restarted.authenticate_device(&tokens["gate"]).await.unwrap();
    for t in tracks {
        post_events(&app, &tokens["tracker"], vec![t]).await;
    }
    for p in plates {
        post_events(&app, &tokens["gondola"], vec![p]).await;
    }
    // `restarted` has never seen these events: it rebuilds its fold from the database on first use.
    gseq += 1;
    let out = restarted
        .ingest_device_events(&gate, vec![json!({"seq": gseq, "type": "exit", "t": T0 + 112.0, "target_id": "t2"})])
        .await
        .unwrap();
    assert_eq!(out.orders.len(), 1, "{out:?}");
    let order = app.admin_get(&format!("/admin/orders/{}", out.orders[0])).await.expect(200);
    assert_eq!(order["order"]["lines"][0]["sku"], a.as_str(), "{order}");
    assert_eq!(order["order"]["lines"][0]["quantity"], 1, "{order}");

    // Money and stock stay consistent.
    let doctor = app.admin_get("/admin/doctor").await.expect(200);
    assert!(doctor["drift"].as_array().unwrap().is_empty(), "{doctor}");
    assert!(doctor["ledger_drift"].as_array().unwrap().is_empty(), "{doctor}");
    app.assert_no_drift().await;
}
both!(cashierless_store_from_sensors_to_order);

/// A shopper's whole visit over MQTT, signed per device: through the embedded broker (devices log in with
/// their id and token), an external one (the machine's Mosquitto on 1883), or an external one the bridge
/// reaches over TLS (`tls`: .ci/run starts a Mosquitto with an MQTTS listener and a plain one for the test's
/// devices, and names them in BORDERLESS_TEST_MQTTS_PORT, BORDERLESS_TEST_MQTTS_PLAIN_PORT and
/// BORDERLESS_TEST_MQTTS_CA). Acks come after storage.
async fn visit_over_mqtt(b: Backend, external: bool, tls: bool) {
    let mqtts = if tls {
        let env = |k: &str| std::env::var(k).ok();
        match (
            env("BORDERLESS_TEST_MQTTS_PORT"),
            env("BORDERLESS_TEST_MQTTS_PLAIN_PORT"),
            env("BORDERLESS_TEST_MQTTS_CA"),
        ) {
            (Some(p), Some(plain), Some(ca)) => Some((p.parse::<u16>().unwrap(), plain.parse::<u16>().unwrap(), ca)),
            _ => {
                assert!(
                    std::env::var("BORDERLESS_REQUIRE_MQTT").as_deref() != Ok("1"),
                    "BORDERLESS_REQUIRE_MQTT=1 but no MQTTS broker is named (BORDERLESS_TEST_MQTTS_PORT, …; .ci/run starts one)"
                );
                eprintln!("skipped: no MQTTS broker for the test");
                return;
            }
        }
    } else {
        None
    };
    if external
        && mqtts.is_none()
        && std::net::TcpStream::connect_timeout(&"127.0.0.1:1883".parse().unwrap(), std::time::Duration::from_secs(1))
            .is_err()
    {
        // Like PostgreSQL: optional on a developer's machine, required in CI (.ci/run starts Mosquitto).
        assert!(
            std::env::var("BORDERLESS_REQUIRE_MQTT").as_deref() != Ok("1"),
            "BORDERLESS_REQUIRE_MQTT=1 but no MQTT broker answers on 127.0.0.1:1883"
        );
        eprintln!("skipped: no MQTT broker on 127.0.0.1:1883 (install Mosquitto to run the external-broker test)");
        return;
    }
    // `port` is where the test's devices publish; the bridge uses the TLS port when there is one.
    let port = match (&mqtts, external) {
        (Some((_, plain, _)), _) => *plain,
        (None, true) => 1883,
        (None, false) => std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port(),
    };
    let broker = if let Some((tls_port, _, ca)) = &mqtts {
        iot::Broker::External {
            host: "127.0.0.1".into(),
            port: *tls_port,
            username: None,
            password: None,
            tls_ca: Some(ca.into()),
        }
    } else if external {
        iot::Broker::External { host: "127.0.0.1".into(), port, username: None, password: None, tls_ca: None }
    } else {
        iot::Broker::Embedded(format!("127.0.0.1:{port}").parse().unwrap())
    };
    let app = spawn_app_mqtt(b, broker).await;
    let engine = app.running.as_ref().unwrap().engine.clone();
    borderless::demo::seed(&engine).await.expect("demo seeds");
    let store = engine.location(borderless::demo::data::CASHIERLESS).await.unwrap();
    let a = borderless::demo::data::stock(&borderless::demo::data::products())
        .into_iter()
        .find(|s| s.location_code == borderless::demo::data::CASHIERLESS)
        .unwrap()
        .sku;
    let layout = json!({
        "plates": [{"gondola": 1, "shelf": 1, "plate": 1, "sku": a, "unit_weight_g": 500.0}, {"gondola": 1, "shelf": 1, "plate": 2, "sku": a, "unit_weight_g": 500.0},
                   {"gondola": 1, "shelf": 1, "plate": 3, "sku": null}, {"gondola": 1, "shelf": 1, "plate": 4, "sku": null}],
        "facings": [{"sku": a, "gondola": 1, "shelf": 1, "plates": [1, 2], "corner_m": [0.0, -0.4, 1.0], "size_m": [0.2, 0.4, 0.3]}]});
    app.req("PUT", &format!("/admin/stores/{}/layout", store.id), Some(ADMIN_KEY), Some(layout), &[]).await.expect(200);
    // Codes unique to this test: the shared broker carries other test servers' devices too.
    let tag = domain::ids::random_token(3);
    let mut devices = std::collections::HashMap::new();
    for kind in ["gate", "gondola", "tracker"] {
        let r = app
            .admin_post(
                &format!("/admin/stores/{}/devices", store.id),
                json!({"kind": kind, "code": format!("{kind}-{tag}")}),
            )
            .await
            .expect(201);
        devices.insert(
            kind,
            (
                r["device"]["code"].as_str().unwrap().to_owned(),
                r["device"]["id"].as_str().unwrap().to_owned(),
                r["device"]["token"].as_str().unwrap().to_owned(),
            ),
        );
    }

    let connect = |user: Option<(String, String)>| {
        let mut o = rumqttc::MqttOptions::new(format!("test-{}", domain::ids::random_token(4)), "127.0.0.1", port);
        o.set_max_packet_size(1 << 21, 1 << 21);
        if let Some((u, p)) = user {
            o.set_credentials(u, p);
        }
        rumqttc::AsyncClient::new(o, 100)
    };
    if !external {
        // A wrong token cannot log in to the embedded broker.
        let (_c, mut ev) = connect(Some((devices["gate"].1.clone(), "bl_dev_wrong".into())));
        let mut refused = false;
        for _ in 0..20 {
            match ev.poll().await {
                Err(_) => {
                    refused = true;
                    break;
                }
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(c)))
                    if c.code == rumqttc::ConnectReturnCode::Success =>
                {
                    break
                }
                Ok(_) => {}
            }
        }
        assert!(refused, "the broker admitted a device with a wrong token");
    }
    // Each device on its own connection (embedded: logged in as itself, so it may only publish its own
    // events and read its own acks), all answers on one channel.
    let (tx, mut acks) = tokio::sync::mpsc::unbounded_channel::<(String, Value)>();
    let mut clients = std::collections::HashMap::new();
    for kind in ["gate", "gondola", "tracker"] {
        let creds = if external { None } else { Some((devices[kind].1.clone(), devices[kind].2.clone())) };
        let (client, mut eventloop) = connect(creds);
        let tx = tx.clone();
        tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                        let _ = tx.send((p.topic.clone(), serde_json::from_slice(&p.payload).unwrap_or(Value::Null)));
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
                }
            }
        });
        client
            .subscribe(format!("borderless/v1/{}/{}/acks", store.code, devices[kind].0), rumqttc::QoS::AtLeastOnce)
            .await
            .unwrap();
        clients.insert(kind, client);
    }
    if !external {
        // The tracker tries to read the gate's events (payment codes) and everyone's acks: the embedded
        // broker refuses both subscriptions (checked below: no event message ever arrives).
        clients["tracker"]
            .subscribe(format!("borderless/v1/{}/{}/events", store.code, devices["gate"].0), rumqttc::QoS::AtLeastOnce)
            .await
            .unwrap();
        clients["tracker"]
            .subscribe(format!("borderless/v1/{}/+/+", store.code), rumqttc::QoS::AtLeastOnce)
            .await
            .unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let publish = |kind: &'static str, events: Vec<Value>, signer: &'static str| {
        let (code, _, _) = devices[kind].clone();
        let token = devices[signer].2.clone();
        let body = json!({ "events": events }).to_string();
        let msg = json!({"mac": iot::sign(&token, &body), "body": body}).to_string();
        let (client, topic) = (clients[kind].clone(), format!("borderless/v1/{}/{code}/events", store.code));
        async move { client.publish(topic, rumqttc::QoS::AtLeastOnce, false, msg).await.unwrap() }
    };
    let mut wait_ack = async |kind: &str| -> Value {
        let topic = format!("borderless/v1/{}/{}/acks", store.code, devices[kind].0);
        loop {
            let (t, v) = tokio::time::timeout(std::time::Duration::from_secs(20), acks.recv())
                .await
                .expect("an ack within 20 s")
                .unwrap();
            assert!(external || !t.ends_with("/events"), "a device read another device's events: {t}");
            if t == topic {
                return v;
            }
        }
    };

    let minji = engine.find_customers(Some("minji.kim@example.com".into()), None, None).await.unwrap()[0].id.clone();
    let code = engine.payment_code(&minji).await.unwrap().code;
    publish("gate", vec![json!({"seq": 1, "type": "entry", "t": T0, "target_id": "m1", "payment_code": code})], "gate")
        .await;
    let ack = wait_ack("gate").await;
    assert_eq!(ack["ingest"]["entries"][0]["admitted"], true, "{ack}");

    // A message on the gondola's topic signed with the gate's key is refused whole.
    publish(
        "gondola",
        vec![json!({"seq": 1, "type": "plates", "gondola": 1, "samples": [[T0, 1, 1, 1000.0]]})],
        "gate",
    )
    .await;
    let ack = wait_ack("gondola").await;
    assert_eq!(ack["error"]["code"], "bad_signature", "{ack}");

    let (mut pseq, mut tseq) = (0, 0);
    let tracks = track_events(&mut tseq, "m1", T0 + 1.0, T0 + 10.0, (T0 + 4.6, T0 + 5.6));
    let plates = plate_events(&mut pseq, T0 + 1.0, T0 + 10.0, shelf(Some(T0 + 5.0)));
    publish("tracker", tracks, "tracker").await;
    let ack = wait_ack("tracker").await;
    assert_eq!(ack["ingest"]["accepted"], 9, "{ack}");
    for chunk in plates.chunks(6) {
        publish("gondola", chunk.to_vec(), "gondola").await;
        let ack = wait_ack("gondola").await;
        assert_eq!(ack["ingest"]["accepted"].as_u64(), Some(chunk.len() as u64), "{ack}");
    }
    publish("gate", vec![json!({"seq": 2, "type": "exit", "t": T0 + 12.0, "target_id": "m1"})], "gate").await;
    let ack = wait_ack("gate").await;
    let orders = ack["ingest"]["orders"].as_array().unwrap().clone();
    assert_eq!(orders.len(), 1, "{ack}");
    let order = app.admin_get(&format!("/admin/orders/{}", orders[0].as_str().unwrap())).await.expect(200);
    assert_eq!(order["order"]["lines"][0]["sku"], a.as_str(), "{order}");
    assert_eq!(order["order"]["lines"][0]["quantity"], 1);
    let stats = app.running.as_ref().unwrap().mqtt.clone().unwrap();
    assert!(stats.refused.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    app.assert_no_drift().await;
}

async fn visit_over_embedded_mqtt(b: Backend) {
    visit_over_mqtt(b, false, false).await
}
both!(visit_over_embedded_mqtt);

async fn visit_over_external_mqtt(b: Backend) {
    visit_over_mqtt(b, true, false).await
}
both!(visit_over_external_mqtt);

async fn visit_over_external_mqtts(b: Backend) {
    visit_over_mqtt(b, true, true).await
}
both!(visit_over_external_mqtts);

/// Shelf labels show the catalog price: a new label gets its price at once, a price change (here a catalog
/// import) reaches it over MQTT, and the label's signed confirmation clears it from the stale list. The
/// label speaks MQTT 5 (the embedded broker's second listener; the bridge itself speaks 3.1.1).
async fn shelf_labels_follow_the_catalog(b: Backend) {
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (port, port5) = (free(), free());
    let app = spawn_app_mqtt(
        b,
        iot::Broker::EmbeddedWithV5(
            format!("127.0.0.1:{port}").parse().unwrap(),
            format!("127.0.0.1:{port5}").parse().unwrap(),
        ),
    )
    .await;
    let store = app.location("SEONGSU-GO", "cashierless", false).await;
    app.admin_post(
        "/admin/products",
        json!({"handle": "esl-water", "title_ko": "생수 500ml", "title_en": "Water 500ml", "category": "grocery/drinks", "vendor": "Jeju",
               "variants": [{"sku": "ESL-WATER", "weight_g": 520, "prices": [{"currency": "KRW", "amount_minor": 1500}]}]}),
    )
    .await
    .expect(201);
    let r = app.admin_post(&format!("/admin/stores/{store}/devices"), json!({"kind": "esl", "code": "esl-1"})).await;
    assert_eq!(r.status, 400, "a label needs its sku: {}", r.body);
    let r = app
        .admin_post(
            &format!("/admin/stores/{store}/devices"),
            json!({"kind": "gate", "code": "gate-1", "sku": "ESL-WATER"}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = app
        .admin_post(
            &format!("/admin/stores/{store}/devices"),
            json!({"kind": "esl", "code": "esl-1", "sku": "ESL-WATER"}),
        )
        .await
        .expect(201);
    let (id, token) =
        (r["device"]["id"].as_str().unwrap().to_owned(), r["device"]["token"].as_str().unwrap().to_owned());

    let mut o = rumqttc::v5::MqttOptions::new("esl-1-test", "127.0.0.1", port5);
    o.set_credentials(id.clone(), token.clone());
    let (client, mut eventloop) = rumqttc::v5::AsyncClient::new(o, 100);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Value)>();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(rumqttc::v5::Event::Incoming(rumqttc::v5::mqttbytes::v5::Packet::Publish(p))) => {
                    let _ = tx.send((
                        String::from_utf8_lossy(&p.topic).into_owned(),
                        serde_json::from_slice(&p.payload).unwrap_or(Value::Null),
                    ));
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        }
    });
    client
        .subscribe("borderless/v1/SEONGSU-GO/esl-1/commands", rumqttc::v5::mqttbytes::QoS::AtLeastOnce)
        .await
        .unwrap();
    let mut next_price = async || -> Value {
        loop {
            let (t, v) = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
                .await
                .expect("a price within 10 s")
                .unwrap();
            if t.ends_with("/commands") {
                return v;
            }
        }
    };
    let first = next_price().await;
    assert_eq!((first["sku"].as_str(), first["price_minor"].as_i64()), (Some("ESL-WATER"), Some(1500)), "{first}");
    assert_eq!(first["text"]["ko"], "1,500원");
    let labels = app.admin_get(&format!("/admin/stores/{store}/labels?stale=true")).await.expect(200);
    assert_eq!(labels["labels"].as_array().unwrap().len(), 1, "not confirmed yet: {labels}");

    // The label confirms; then the price changes through a catalog import.
    let ack = |seq: i64, price: i64| {
        let body = json!({"events": [{"seq": seq, "type": "label_ack", "sku": "ESL-WATER", "price_minor": price, "currency": "KRW"}]}).to_string();
        json!({"mac": iot::sign(&token, &body), "body": body}).to_string()
    };
    client
        .publish("borderless/v1/SEONGSU-GO/esl-1/events", rumqttc::v5::mqttbytes::QoS::AtLeastOnce, false, ack(1, 1500))
        .await
        .unwrap();
    let mut fresh = false;
    for _ in 0..100 {
        let l = app.admin_get(&format!("/admin/stores/{store}/labels?stale=true")).await.expect(200);
        if l["labels"].as_array().unwrap().is_empty() {
            fresh = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(fresh, "the confirmation clears the label from the stale list");
    let csv = "handle,title_ko,title_en,description_ko,description_en,category,vendor,status,sku,gtin,weight_g,attributes,price_krw,price_usd\n\
               esl-water,생수 500ml,Water 500ml,,,grocery/drinks,Jeju,active,ESL-WATER,,520,,1300,\n";
    let changed = std::time::Instant::now();
    let r = app
        .client
        .post(format!("{}/admin/products/import", app.url))
        .bearer_auth(ADMIN_KEY)
        .body(csv)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let second = next_price().await;
    eprintln!("price change → label command: {:?}", changed.elapsed());
    assert_eq!(second["price_minor"], 1300, "{second}");
    let labels = app.admin_get(&format!("/admin/stores/{store}/labels")).await.expect(200);
    let l = &labels["labels"][0];
    assert_eq!(
        (l["catalog_price_minor"].as_i64(), l["shown_price_minor"].as_i64(), l["stale"].as_bool()),
        (Some(1300), Some(1500), Some(true)),
        "{labels}"
    );
    app.assert_no_drift().await;
}
both!(shelf_labels_follow_the_catalog);

/// Two shoppers reach into the same facing at the same moment and `units` of A leave it: the sensors cannot
/// tell who took what, so it goes to review. Answers the store, A, the visits and the review's id and
/// candidates.
struct TwoHands {
    store: String,
    a: String,
    tokens: std::collections::HashMap<&'static str, String>,
    sessions: Vec<String>,
    review: u64,
    candidates: Vec<String>,
}

async fn two_hands_in_one_facing(app: &TestApp, engine: &engine::Engine, units: f64) -> TwoHands {
    let (store, a, tokens) = one_shelf_store(app, engine).await;
    let mut sessions = Vec::new();
    for (i, email) in ["minji.kim@example.com", "junho.lee@example.com"].iter().enumerate() {
        let c = engine.find_customers(Some((*email).into()), None, None).await.unwrap();
        let c = c.first().unwrap_or_else(|| panic!("demo member {email}"));
        let code = engine.payment_code(&c.id).await.unwrap().code;
        let r = post_events(
            app,
            &tokens["gate"],
            vec![json!({"seq": i + 1, "type": "entry", "t": T0, "target_id": format!("s{i}"), "payment_code": code})],
        )
        .await;
        assert_eq!(r["entries"][0]["admitted"], true, "{r}");
        sessions.push(r["entries"][0]["session_id"].as_str().unwrap().to_owned());
    }
    // Both right hands in the box together, the same depth: a true 50/50.
    let (mut tseq, mut pseq) = (0, 0);
    let mut t0 = track_events(&mut tseq, "s0", T0 + 1.0, T0 + 10.0, (T0 + 4.6, T0 + 5.6));
    let t1 = track_events(&mut 0, "s1", T0 + 1.0, T0 + 10.0, (T0 + 4.6, T0 + 5.6));
    for (x, y) in t0.iter_mut().zip(t1.iter()) {
        let mut frames = x["frames"].as_array().unwrap().clone();
        frames.extend(y["frames"].as_array().unwrap().iter().cloned());
        x["frames"] = Value::Array(frames);
    }
    for t in t0 {
        post_events(app, &tokens["tracker"], vec![t]).await;
    }
    let one = shelf(Some(T0 + 5.0));
    for p in plate_events(&mut pseq, T0 + 1.0, T0 + 10.0, move |p, t| {
        let base = one(p, T0);
        base - (base - one(p, t)) * units
    }) {
        post_events(app, &tokens["gondola"], vec![p]).await;
    }
    let reviews = app.admin_get(&format!("/admin/stores/{store}/reviews")).await.expect(200);
    let list = reviews["reviews"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{reviews}");
    let best = &list[0]["products"][0];
    assert_eq!(best.as_array().map(Vec::len), Some(1), "{reviews}");
    assert_eq!((best[0]["sku"].as_str(), best[0]["quantity"].as_f64()), (Some(a.as_str()), Some(units)), "{reviews}");
    let candidates: Vec<String> =
        list[0]["shoppers"].as_array().unwrap().iter().map(|s| s["target_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(candidates.len(), 2, "{reviews}");
    let review = list[0]["id"].as_u64().unwrap();
    TwoHands { store, a, tokens, sessions, review, candidates }
}

/// Two shoppers reach into the same facing at the same moment: the sensors cannot tell who took the item,
/// so it goes to review; both visits wait at the exit until staff assign it, then each visit settles.
async fn ambiguous_pick_waits_for_staff_review(b: Backend) {
    let app = spawn_app(b).await;
    let engine = app.running.as_ref().unwrap().engine.clone();
    let TwoHands { store, a, tokens, sessions, review, candidates } = two_hands_in_one_facing(&app, &engine, 1.0).await;
    let r = post_events(
        &app,
        &tokens["gate"],
        vec![
            json!({"seq": 3, "type": "exit", "t": T0 + 12.0, "target_id": "s0"}),
            json!({"seq": 4, "type": "exit", "t": T0 + 12.0, "target_id": "s1"}),
        ],
    )
    .await;
    assert_eq!(r["orders"], json!([]), "both wait for the review: {r}");
    // Bad resolutions first: someone who is not a shopper, a product not on the shelves.
    let r = app
        .admin_post(
            &format!("/admin/stores/{store}/reviews/{review}"),
            json!({"action": "assign", "target_id": "nobody", "sku": a, "quantity": 1}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app
        .admin_post(
            &format!("/admin/stores/{store}/reviews/{review}"),
            json!({"action": "assign", "target_id": candidates[0], "sku": "NOT-HERE", "quantity": 1}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Staff watched the video: the first shopper took it.
    let taker = format!("{}/s0", sessions[0]);
    let r = app
        .admin_post(
            &format!("/admin/stores/{store}/reviews/{review}"),
            json!({"action": "assign", "target_id": taker, "sku": a, "quantity": 1}),
        )
        .await
        .expect(200);
    let orders = r["orders"].as_array().unwrap().clone();
    assert_eq!(orders.len(), 1, "{r}");
    let order = app.admin_get(&format!("/admin/orders/{}", orders[0].as_str().unwrap())).await.expect(200);
    assert_eq!(order["order"]["lines"][0]["sku"], a.as_str());
    assert_eq!(engine.cashierless_session(&sessions[0]).await.unwrap().order_id.as_deref(), orders[0].as_str());
    let other = engine.cashierless_session(&sessions[1]).await.unwrap();
    assert_eq!(
        (other.status.as_str(), other.order_id.as_deref()),
        ("completed", None),
        "the other shopper took nothing"
    );
    let r = app.admin_post(&format!("/admin/stores/{store}/reviews/{review}"), json!({"action": "dismiss"})).await;
    assert_eq!(r.status, 404, "settled once");
    app.assert_no_drift().await;
}
both!(ambiguous_pick_waits_for_staff_review);

/// Two units leave one facing while two shoppers reach into it: one each, which only a resolution of
/// two lines settles. Bad lists apply nothing; the good one charges each visit one unit, and a restart
/// (a fresh engine on the same database) folds the stored resolution in again.
async fn one_review_assigns_units_to_two_shoppers(b: Backend) {
    let app = spawn_app(b).await;
    let engine = app.running.as_ref().unwrap().engine.clone();
    let TwoHands { store, a, tokens, sessions, review, candidates } = two_hands_in_one_facing(&app, &engine, 2.0).await;
    let url = format!("/admin/stores/{store}/reviews/{review}");
    let line = |who: &str, q: i64| json!({"target_id": who, "sku": a, "quantity": q});
    let many: Vec<Value> = (0..21).map(|_| line(&candidates[0], 1)).collect();
    for (bad, says) in [
        (json!({"action": "assign_lines", "lines": [line(&candidates[0], 1), line(&candidates[0], 1)]}), "named twice"),
        (json!({"action": "assign_lines", "lines": [line(&candidates[0], 1), line("nobody", 1)]}), "not a shopper"),
        (json!({"action": "assign_lines", "lines": [line(&candidates[0], 1), line(&candidates[1], 0)]}), "not 0"),
        (json!({"action": "assign_lines", "lines": []}), "1–20 lines"),
        (json!({"action": "assign_lines", "lines": many}), "1–20 lines"),
    ] {
        let r = app.admin_post(&url, bad).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.to_string().contains(says), "{says}: {}", r.body);
    }
    let r =
        post_events(&app, &tokens["gate"], vec![json!({"seq": 3, "type": "exit", "t": T0 + 12.0, "target_id": "s0"})])
            .await;
    assert_eq!(r["orders"], json!([]), "the review is still open: {r}");
    let r = app
        .admin_post(
            &url,
            json!({"action": "assign_lines", "lines": [line(&format!("{}/s0", sessions[0]), 1), line(&format!("{}/s1", sessions[1]), 1)]}),
        )
        .await
        .expect(200);
    let orders = r["orders"].as_array().unwrap().clone();
    assert_eq!(orders.len(), 1, "s0 has left, s1 is still inside: {r}");
    let order = app.admin_get(&format!("/admin/orders/{}", orders[0].as_str().unwrap())).await.expect(200);
    assert_eq!(
        (order["order"]["lines"][0]["sku"].as_str(), order["order"]["lines"][0]["quantity"].as_i64()),
        (Some(a.as_str()), Some(1)),
        "{order}"
    );
    let restarted =
        engine::Engine::new(engine.db().clone(), Default::default(), std::sync::Arc::new(engine::SystemClock));
    let gate = restarted.authenticate_device(&tokens["gate"]).await.unwrap();
    let out = restarted
        .ingest_device_events(&gate, vec![json!({"seq": 4, "type": "exit", "t": T0 + 13.0, "target_id": "s1"})])
        .await
        .unwrap();
    assert_eq!(out.orders.len(), 1, "the rebuilt fold holds the resolution: {out:?}");
    let order = app.admin_get(&format!("/admin/orders/{}", out.orders[0])).await.expect(200);
    assert_eq!(order["order"]["lines"][0]["quantity"], 1, "{order}");
    app.assert_no_drift().await;
}
both!(one_review_assigns_units_to_two_shoppers);

/// A store without a body tracker (a smart cabinet): only the gate and the shelf report. A shopper alone
/// inside is charged for what left the shelf during the visit; when two are inside, the pick waits for
/// staff, listing both, and neither is charged meanwhile.
async fn weight_only_store_charges_the_one_inside(b: Backend) {
    let app = spawn_app(b).await;
    let engine = app.running.as_ref().unwrap().engine.clone();
    let (store, a, tokens) = one_shelf_store(&app, &engine).await;
    let code = |email: &'static str| {
        let engine = engine.clone();
        async move {
            let c = engine.find_customers(Some(email.into()), None, None).await.unwrap();
            engine.payment_code(&c[0].id).await.unwrap().code
        }
    };
    let minji = code("minji.kim@example.com").await;
    let r = post_events(
        &app,
        &tokens["gate"],
        vec![json!({"seq": 1, "type": "entry", "t": T0, "target_id": "alone", "payment_code": minji})],
    )
    .await;
    assert_eq!(r["entries"][0]["admitted"], true, "{r}");
    let mut pseq = 0;
    for p in plate_events(&mut pseq, T0 + 1.0, T0 + 10.0, shelf(Some(T0 + 5.0))) {
        post_events(&app, &tokens["gondola"], vec![p]).await;
    }
    let r = post_events(
        &app,
        &tokens["gate"],
        vec![json!({"seq": 2, "type": "exit", "t": T0 + 11.0, "target_id": "alone"})],
    )
    .await;
    let orders = r["orders"].as_array().unwrap().clone();
    assert_eq!(orders.len(), 1, "no tracks, one inside: the gates say who took it: {r}");
    let order = app.admin_get(&format!("/admin/orders/{}", orders[0].as_str().unwrap())).await.expect(200);
    assert_eq!(order["order"]["lines"][0]["sku"], a.as_str(), "{order}");

    // Two inside, no tracks: the next pick is for staff.
    let (junho, minji) = (code("junho.lee@example.com").await, code("minji.kim@example.com").await);
    post_events(
        &app,
        &tokens["gate"],
        vec![
            json!({"seq": 3, "type": "entry", "t": T0 + 20.0, "target_id": "first", "payment_code": minji}),
            json!({"seq": 4, "type": "entry", "t": T0 + 20.5, "target_id": "second", "payment_code": junho}),
        ],
    )
    .await;
    let level = |t: f64| if t < T0 + 25.0 { 750.0 } else { shelf(Some(T0 + 25.0))(1, t) - 250.0 };
    for p in plate_events(&mut pseq, T0 + 21.0, T0 + 30.0, |p, t| if p <= 2 { level(t) } else { 600.0 }) {
        post_events(&app, &tokens["gondola"], vec![p]).await;
    }
    let r = post_events(
        &app,
        &tokens["gate"],
        vec![
            json!({"seq": 5, "type": "exit", "t": T0 + 31.0, "target_id": "first"}),
            json!({"seq": 6, "type": "exit", "t": T0 + 31.0, "target_id": "second"}),
        ],
    )
    .await;
    assert_eq!(r["orders"], json!([]), "both wait for the review: {r}");
    let reviews = app.admin_get(&format!("/admin/stores/{store}/reviews")).await.expect(200);
    let list = reviews["reviews"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{reviews}");
    assert_eq!(list[0]["shoppers"].as_array().unwrap().len(), 2, "{reviews}");
    app.assert_no_drift().await;
}
both!(weight_only_store_charges_the_one_inside);

/// A store with one product (A, 500 g, on plates 1–2 of gondola 1 shelf 1) and a gate, a gondola and a
/// tracker; returns the store id, A's SKU and the devices' tokens.
async fn one_shelf_store(
    app: &TestApp,
    engine: &engine::Engine,
) -> (String, String, std::collections::HashMap<&'static str, String>) {
    borderless::demo::seed(engine).await.expect("demo seeds");
    let store = engine.location(borderless::demo::data::CASHIERLESS).await.unwrap().id;
    let a = borderless::demo::data::stock(&borderless::demo::data::products())
        .into_iter()
        .find(|s| s.location_code == borderless::demo::data::CASHIERLESS)
        .unwrap()
        .sku;
    let layout = json!({
        "plates": [{"gondola": 1, "shelf": 1, "plate": 1, "sku": a, "unit_weight_g": 500.0}, {"gondola": 1, "shelf": 1, "plate": 2, "sku": a, "unit_weight_g": 500.0},
                   {"gondola": 1, "shelf": 1, "plate": 3, "sku": null}, {"gondola": 1, "shelf": 1, "plate": 4, "sku": null}],
        "facings": [{"sku": a, "gondola": 1, "shelf": 1, "plates": [1, 2], "corner_m": [0.0, -0.4, 1.0], "size_m": [0.2, 0.4, 0.3]}]});
    app.req("PUT", &format!("/admin/stores/{store}/layout"), Some(ADMIN_KEY), Some(layout), &[]).await.expect(200);
    let mut tokens = std::collections::HashMap::new();
    for kind in ["gate", "gondola", "tracker"] {
        let r = app
            .admin_post(&format!("/admin/stores/{store}/devices"), json!({"kind": kind, "code": format!("{kind}-1")}))
            .await
            .expect(201);
        tokens.insert(kind, r["device"]["token"].as_str().unwrap().to_owned());
    }
    (store, a, tokens)
}

/// A family on one account: the parent enters with the payment code, the child joins the visit at the
/// gate; the child takes the item; the order is placed on the parent's visit once both have left.
async fn group_shops_on_one_account(b: Backend) {
    let app = spawn_app(b).await;
    let engine = app.running.as_ref().unwrap().engine.clone();
    let (_store, a, tokens) = one_shelf_store(&app, &engine).await;
    let minji = engine.find_customers(Some("minji.kim@example.com".into()), None, None).await.unwrap()[0].id.clone();
    let code = engine.payment_code(&minji).await.unwrap().code;
    let r = post_events(
        &app,
        &tokens["gate"],
        vec![json!({"seq": 1, "type": "entry", "t": T0, "target_id": "parent", "payment_code": code})],
    )
    .await;
    let session = r["entries"][0]["session_id"].as_str().unwrap().to_owned();
    let r = post_events(
        &app,
        &tokens["gate"],
        vec![json!({"seq": 2, "type": "entry", "t": T0 + 0.5, "target_id": "child", "with_target": "parent"})],
    )
    .await;
    assert_eq!(
        (r["entries"][0]["admitted"].as_bool(), r["entries"][0]["session_id"].as_str()),
        (Some(true), Some(session.as_str())),
        "{r}"
    );
    let r = post_events(
        &app,
        &tokens["gate"],
        vec![json!({"seq": 3, "type": "entry", "t": T0 + 0.6, "target_id": "stranger", "with_target": "nobody"})],
    )
    .await;
    assert_eq!(r["entries"][0]["admitted"], false, "{r}");
    let (mut tseq, mut pseq) = (0, 0);
    for t in track_events(&mut tseq, "child", T0 + 1.0, T0 + 10.0, (T0 + 4.6, T0 + 5.6)) {
        post_events(&app, &tokens["tracker"], vec![t]).await;
    }
    for p in plate_events(&mut pseq, T0 + 1.0, T0 + 10.0, shelf(Some(T0 + 5.0))) {
        post_events(&app, &tokens["gondola"], vec![p]).await;
    }
    let r = post_events(
        &app,
        &tokens["gate"],
        vec![json!({"seq": 4, "type": "exit", "t": T0 + 11.0, "target_id": "parent"})],
    )
    .await;
    assert_eq!(r["orders"], json!([]), "the child is still inside: {r}");
    let r = post_events(
        &app,
        &tokens["gate"],
        vec![json!({"seq": 5, "type": "exit", "t": T0 + 12.0, "target_id": "child"})],
    )
    .await;
    let orders = r["orders"].as_array().unwrap().clone();
    assert_eq!(orders.len(), 1, "{r}");
    let order = app.admin_get(&format!("/admin/orders/{}", orders[0].as_str().unwrap())).await.expect(200);
    assert_eq!(
        (order["order"]["lines"][0]["sku"].as_str(), order["order"]["customer_id"].as_str()),
        (Some(a.as_str()), Some(minji.as_str())),
        "{order}"
    );
    assert_eq!(engine.cashierless_session(&session).await.unwrap().order_id.as_deref(), orders[0].as_str());
    app.assert_no_drift().await;
}
both!(group_shops_on_one_account);

/// Two shoppers inside; the one who picks leaves and is charged; the server restarts; the other leaves
/// with nothing. The rebuilt state replays the first shopper's tracks too, so their pick is not put on
/// the second shopper, who is standing nearby.
async fn restart_never_moves_an_ended_visits_pick(b: Backend) {
    let app = spawn_app(b).await;
    let engine = app.running.as_ref().unwrap().engine.clone();
    let (_store, _a, tokens) = one_shelf_store(&app, &engine).await;
    let mut sessions = Vec::new();
    for (i, email) in ["minji.kim@example.com", "junho.lee@example.com"].iter().enumerate() {
        let c = engine.find_customers(Some((*email).into()), None, None).await.unwrap();
        let code = engine.payment_code(&c[0].id).await.unwrap().code;
        let r = post_events(
            &app,
            &tokens["gate"],
            vec![json!({"seq": i + 1, "type": "entry", "t": T0, "target_id": format!("p{i}"), "payment_code": code})],
        )
        .await;
        sessions.push(r["entries"][0]["session_id"].as_str().unwrap().to_owned());
    }
    // p0 reaches in; p1 stands beside the shelf, hands down.
    let (mut tseq, mut pseq) = (0, 0);
    let mut picker = track_events(&mut tseq, "p0", T0 + 1.0, T0 + 10.0, (T0 + 4.6, T0 + 5.6));
    let bystander = track_events(&mut 0, "p1", T0 + 1.0, T0 + 10.0, (0.0, 0.0));
    for (x, y) in picker.iter_mut().zip(&bystander) {
        let mut frames = x["frames"].as_array().unwrap().clone();
        frames.extend(y["frames"].as_array().unwrap().iter().cloned());
        x["frames"] = Value::Array(frames);
    }
    for t in picker {
        post_events(&app, &tokens["tracker"], vec![t]).await;
    }
    for p in plate_events(&mut pseq, T0 + 1.0, T0 + 10.0, shelf(Some(T0 + 5.0))) {
        post_events(&app, &tokens["gondola"], vec![p]).await;
    }
    let r =
        post_events(&app, &tokens["gate"], vec![json!({"seq": 3, "type": "exit", "t": T0 + 11.0, "target_id": "p0"})])
            .await;
    assert_eq!(r["orders"].as_array().unwrap().len(), 1, "the picker is charged: {r}");
    let restarted =
        engine::Engine::new(engine.db().clone(), Default::default(), std::sync::Arc::new(engine::SystemClock));
    let gate = restarted.authenticate_device(&tokens["gate"]).await.unwrap();
    let out = restarted
        .ingest_device_events(&gate, vec![json!({"seq": 4, "type": "exit", "t": T0 + 12.0, "target_id": "p1"})])
        .await
        .unwrap();
    assert!(out.orders.is_empty(), "the bystander took nothing: {out:?}");
    let s = restarted.cashierless_session(&sessions[1]).await.unwrap();
    assert_eq!((s.status.as_str(), s.order_id.as_deref()), ("completed", None), "{s:?}");
    app.assert_no_drift().await;
}
both!(restart_never_moves_an_ended_visits_pick);

/// A lost device: rotating its token makes the old one useless at once (HTTP, MQTT login, MQTT signatures
/// even on a connection opened before); revoking takes it out of service for good, history kept.
async fn device_tokens_rotate_and_revoke(b: Backend) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_mqtt(b, iot::Broker::Embedded(format!("127.0.0.1:{port}").parse().unwrap())).await;
    let store = app.location("SEONGSU-GO", "cashierless", false).await;
    app.admin_post(
        "/admin/products",
        json!({"handle": "rot-water", "title_ko": "생수", "title_en": "Water", "category": "grocery/drinks", "vendor": "Jeju",
               "variants": [{"sku": "ROT-WATER", "weight_g": 520, "prices": [{"currency": "KRW", "amount_minor": 1500}]}]}),
    )
    .await
    .expect(201);
    let r = app
        .admin_post(
            &format!("/admin/stores/{store}/devices"),
            json!({"kind": "esl", "code": "esl-r", "sku": "ROT-WATER"}),
        )
        .await
        .expect(201);
    let (id, old) = (r["device"]["id"].as_str().unwrap().to_owned(), r["device"]["token"].as_str().unwrap().to_owned());
    let label_ack = |seq: i64| json!({"events": [{"seq": seq, "type": "label_ack", "sku": "ROT-WATER", "price_minor": 1500, "currency": "KRW"}]});
    app.req("POST", "/devices/events", Some(&old), Some(label_ack(1)), &[]).await.expect(200);

    // Connected over MQTT with the old token, listening for its acks.
    let mqtt = |token: String| {
        let mut o = rumqttc::MqttOptions::new(format!("esl-r-{}", domain::ids::random_token(3)), "127.0.0.1", port);
        o.set_credentials(id.clone(), token);
        let (client, mut ev) = rumqttc::AsyncClient::new(o, 10);
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Result<rumqttc::Packet, String>>();
        tokio::spawn(async move {
            loop {
                match ev.poll().await {
                    Ok(rumqttc::Event::Incoming(p)) => {
                        let _ = tx.send(Ok(p));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                        return;
                    }
                }
            }
        });
        (client, rx)
    };
    let next = async |rx: &mut tokio::sync::mpsc::UnboundedReceiver<Result<rumqttc::Packet, String>>| {
        tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv()).await.expect("within 10 s").expect("open")
    };
    let (client, mut rx) = mqtt(old.clone());
    assert!(
        matches!(next(&mut rx).await, Ok(rumqttc::Packet::ConnAck(c)) if c.code == rumqttc::ConnectReturnCode::Success)
    );
    client.subscribe("borderless/v1/SEONGSU-GO/esl-r/acks", rumqttc::QoS::AtLeastOnce).await.unwrap();
    let signed = |token: &str, seq: i64| {
        let body = label_ack(seq).to_string();
        json!({"mac": iot::sign(token, &body), "body": body}).to_string()
    };
    let ack_of = async |rx: &mut tokio::sync::mpsc::UnboundedReceiver<Result<rumqttc::Packet, String>>| loop {
        if let Ok(rumqttc::Packet::Publish(p)) = next(rx).await {
            break serde_json::from_slice::<Value>(&p.payload).unwrap();
        }
    };
    // One message over MQTT with the old key (the bridge now holds that key).
    client
        .publish("borderless/v1/SEONGSU-GO/esl-r/events", rumqttc::QoS::AtLeastOnce, false, signed(&old, 2))
        .await
        .unwrap();
    assert_eq!(ack_of(&mut rx).await["ingest"]["accepted"], 1);

    let r = app.admin_post(&format!("/admin/stores/{store}/devices/{id}/token"), json!({})).await.expect(200);
    let new = r["device"]["token"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(
        app.req("POST", "/devices/events", Some(&old), Some(label_ack(3)), &[]).await.status,
        401,
        "the old token still works over HTTP"
    );
    app.req("POST", "/devices/events", Some(&new), Some(label_ack(3)), &[]).await.expect(200);

    // The connection logged in with the old token is closed within seconds.
    let closed = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv()).await {
            Ok(Some(Err(_))) => break true,
            Ok(Some(Ok(_))) => {}
            _ => break false,
        }
    };
    assert!(closed, "the old token's connection stayed open");
    // Logged in with the new token, a message signed with the old key is refused (the cached key is gone).
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (client, mut rx) = mqtt(new.clone());
    assert!(
        matches!(next(&mut rx).await, Ok(rumqttc::Packet::ConnAck(c)) if c.code == rumqttc::ConnectReturnCode::Success)
    );
    client.subscribe("borderless/v1/SEONGSU-GO/esl-r/acks", rumqttc::QoS::AtLeastOnce).await.unwrap();
    client
        .publish("borderless/v1/SEONGSU-GO/esl-r/events", rumqttc::QoS::AtLeastOnce, false, signed(&old, 4))
        .await
        .unwrap();
    let ack = ack_of(&mut rx).await;
    assert_eq!(ack["error"]["code"], "bad_signature", "{ack}");
    let (_c, mut rx_old) = mqtt(old.clone());
    assert!(next(&mut rx_old).await.is_err(), "the old token logged in to the broker");
    let (_c, mut rx_new) = mqtt(new.clone());
    assert!(
        matches!(next(&mut rx_new).await, Ok(rumqttc::Packet::ConnAck(c)) if c.code == rumqttc::ConnectReturnCode::Success)
    );

    // Revoked: nothing works any more, the list says so, and it cannot be brought back by rotation.
    let r =
        app.req("DELETE", &format!("/admin/stores/{store}/devices/{id}"), Some(ADMIN_KEY), None, &[]).await.expect(200);
    assert!(r["device"]["revoked_at"].is_string(), "{r:?}");
    assert_eq!(app.req("POST", "/devices/events", Some(&new), Some(label_ack(3)), &[]).await.status, 401);
    let (_c, mut rx_rev) = mqtt(new.clone());
    assert!(next(&mut rx_rev).await.is_err(), "a revoked device logged in");
    assert_eq!(
        app.req("POST", &format!("/admin/stores/{store}/devices/{id}/token"), Some(ADMIN_KEY), Some(json!({})), &[])
            .await
            .status,
        409
    );
    app.req("DELETE", &format!("/admin/stores/{store}/devices/{id}"), Some(ADMIN_KEY), None, &[]).await.expect(200);
    let list = app.admin_get(&format!("/admin/stores/{store}/devices")).await.expect(200);
    let d = list["devices"].as_array().unwrap().iter().find(|d| d["id"] == id.as_str()).unwrap().clone();
    assert_eq!((d["accepted"].as_i64(), d["revoked_at"].is_string()), (Some(3), true), "history kept: {d}");
    assert_eq!(
        app.req("DELETE", &format!("/admin/stores/{store}/devices/dev_nope"), Some(ADMIN_KEY), None, &[]).await.status,
        404
    );
    // The other store's admin path cannot reach it.
    let other = app.location("GANGNAM", "store", false).await;
    assert_eq!(
        app.req("DELETE", &format!("/admin/stores/{other}/devices/{id}"), Some(ADMIN_KEY), None, &[]).await.status,
        404
    );
    app.assert_no_drift().await;
}
both!(device_tokens_rotate_and_revoke);
