//! An external MQTT broker going away and coming back (issue #19's faults): a Mosquitto of the test's own
//! (so that stopping it disturbs no other test) is killed while a gondola keeps sending, and started again
//! on the same port. Devices resend a batch until its ack arrives, as real ones do; the bridge reconnects by
//! itself. Every event is stored exactly once: none lost while the broker was away, none doubled by the
//! resends.

use crate::both;
use crate::helpers::*;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const T0: f64 = 1_800_000_000.0;

/// A Mosquitto on `port` (loopback, anonymous), or `None` when the machine has none.
fn mosquitto(port: u16, dir: &std::path::Path) -> Option<Child> {
    let conf = dir.join("mosquitto.conf");
    std::fs::write(&conf, format!("listener {port} 127.0.0.1\nallow_anonymous true\n")).ok()?;
    let child =
        Command::new("mosquitto").arg("-c").arg(&conf).stdout(Stdio::null()).stderr(Stdio::null()).spawn().ok()?;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

both!(events_survive_the_broker_going_away);
async fn events_survive_the_broker_going_away(b: Backend) {
    let dir = std::env::temp_dir().join(format!("bl-broker-{}", domain::ids::random_token(4)));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let Some(mut broker) = mosquitto(port, &dir) else {
        assert!(
            std::env::var("BORDERLESS_REQUIRE_MQTT").as_deref() != Ok("1"),
            "BORDERLESS_REQUIRE_MQTT=1 but the mosquitto binary cannot be started"
        );
        eprintln!("skipped: no mosquitto binary to start a broker of the test's own");
        return;
    };
    let app = spawn_app_mqtt(
        b,
        iot::Broker::External { host: "127.0.0.1".into(), port, username: None, password: None, tls_ca: None },
    )
    .await;
    let engine = app.running.as_ref().unwrap().engine.clone();
    borderless::demo::seed(&engine).await.expect("demo seeds");
    let store = engine.location(borderless::demo::data::CASHIERLESS).await.unwrap();
    let sku = borderless::demo::data::stock(&borderless::demo::data::products())
        .into_iter()
        .find(|s| s.location_code == borderless::demo::data::CASHIERLESS)
        .unwrap()
        .sku;
    let layout = json!({
        "plates": [{"gondola": 1, "shelf": 1, "plate": 1, "sku": sku, "unit_weight_g": 500.0}],
        "facings": [{"sku": sku, "gondola": 1, "shelf": 1, "plates": [1], "corner_m": [0.0, -0.4, 1.0], "size_m": [0.2, 0.4, 0.3]}]});
    app.req("PUT", &format!("/admin/stores/{}/layout", store.id), Some(ADMIN_KEY), Some(layout), &[]).await.expect(200);
    let r = app
        .admin_post(&format!("/admin/stores/{}/devices", store.id), json!({"kind": "gondola", "code": "gondola-away"}))
        .await
        .expect(201);
    let (code, device_id, token) = (
        r["device"]["code"].as_str().unwrap().to_owned(),
        r["device"]["id"].as_str().unwrap().to_owned(),
        r["device"]["token"].as_str().unwrap().to_owned(),
    );

    // The gondola: one connection that reconnects by itself; acks arrive on a channel.
    let mut o = rumqttc::MqttOptions::new(format!("gondola-{}", domain::ids::random_token(4)), "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(5));
    let (client, mut eventloop) = rumqttc::AsyncClient::new(o, 100);
    let (tx, mut acks) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let ack_topic = format!("borderless/v1/{}/{code}/acks", store.code);
    let events_topic = format!("borderless/v1/{}/{code}/events", store.code);
    {
        let (client, ack_topic) = (client.clone(), ack_topic.clone());
        tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => {
                        // A new broker knows no subscriptions: subscribe at every connection.
                        let _ = client.subscribe(ack_topic.clone(), rumqttc::QoS::AtLeastOnce).await;
                    }
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                        let _ = tx.send(serde_json::from_slice(&p.payload).unwrap_or(Value::Null));
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        });
    }
    // Sends a batch until its ack comes back (a real device's loop); returns the ack.
    let send = |first_seq: i64, n: i64| {
        let samples: Vec<Value> = (0..n)
            .map(|k| {
                let seq = first_seq + k;
                json!({"seq": seq, "type": "plates", "gondola": 1, "samples": [[T0 + seq as f64, 1, 1, 1000.0]]})
            })
            .collect();
        let body = json!({ "events": samples }).to_string();
        json!({"mac": iot::sign(&token, &body), "body": body}).to_string()
    };
    // An ack belongs to a batch of `n` events when it accounts for `n` (batches here have different sizes).
    let mut deliver = async |msg: String, n: usize, within: Duration| -> (Value, u32) {
        let deadline = tokio::time::Instant::now() + within;
        let mut tries = 0;
        loop {
            tries += 1;
            let _ = client.try_publish(events_topic.clone(), rumqttc::QoS::AtLeastOnce, false, msg.clone());
            let until = tokio::time::Instant::now() + Duration::from_secs(2);
            while let Ok(Some(a)) = tokio::time::timeout_at(until, acks.recv()).await {
                let covered = a["ingest"]["accepted"].as_u64().unwrap_or(0) as usize
                    + a["ingest"]["duplicates"].as_array().map_or(0, |d| d.len());
                if covered == n {
                    return (a, tries);
                }
            }
            assert!(tokio::time::Instant::now() < deadline, "no ack within {within:?} after {tries} sends");
        }
    };
    let (first, _) = deliver(send(1, 5), 5, Duration::from_secs(30)).await;
    assert_eq!(first["ingest"]["accepted"], 5, "{first}");

    // The broker goes away; the gondola keeps sending its next batch into the void.
    broker.kill().unwrap();
    let _ = broker.wait();
    let away = send(6, 4);
    let _ = client.try_publish(events_topic.clone(), rumqttc::QoS::AtLeastOnce, false, away.clone());
    tokio::time::sleep(Duration::from_secs(3)).await;
    // It comes back on the same port; the bridge and the gondola reconnect by themselves.
    let mut broker = mosquitto(port, &dir).expect("the broker starts again");
    let (second, tries) = deliver(away.clone(), 4, Duration::from_secs(60)).await;
    assert!(second["ingest"]["rejected"].as_array().is_none_or(|r| r.is_empty()), "{second}");
    // A device that missed the ack sends the same batch again: nothing is stored twice.
    let (again, _) = deliver(away, 4, Duration::from_secs(30)).await;
    assert_eq!(again["ingest"]["accepted"], 0, "a resent batch is not stored again: {again}");
    assert_eq!(again["ingest"]["duplicates"], json!([6, 7, 8, 9]), "{again}");
    let stored: i64 = engine
        .db()
        .read(move |tx| -> Result<i64, store::DbError> {
            tx.query_one("SELECT COUNT(*) FROM device_events WHERE device_id = ?", store::params![&device_id])?.i64(0)
        })
        .await
        .unwrap();
    assert_eq!(stored, 9, "every event once, none lost while the broker was away (that batch took {tries} sends)");
    broker.kill().unwrap();
    let _ = broker.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
