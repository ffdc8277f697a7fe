//! `bench labels`: how fast electronic shelf labels show a new catalog price over MQTT.

use crate::server::*;
use anyhow::Result;
use std::time::{Duration, Instant};

/// Shelf labels: the time from a committed price change to the label's command on the MQTT broker, over
/// `changes` changes of one product each, with `labels` labels in one store (embedded broker).
pub async fn labels(labels: usize, changes: usize) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("borderless-labels-bench-{}", domain::ids::random_token(6)));
    let mqtt_port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let cfg = node::app::AppConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.clone(),
        admin_key: Some(format!("bench-admin-{}", domain::ids::random_token(12))),
        recs_train_every: Duration::ZERO,
        mqtt: Some(iot::Broker::Embedded(format!("127.0.0.1:{mqtt_port}").parse()?)),
        ..Default::default()
    };
    let running = node::app::start(cfg).await?;
    let engine = running.engine.clone();
    println!(
        "borderless bench labels — {labels} shelf labels in one store, {changes} price changes, embedded MQTT broker"
    );
    let store_id = crate::server::cashierless_location(&engine, "BENCH-GO", "벤치 매장", "Bench store").await?;
    let product = |i: usize, price: i64| engine::catalog::products::ProductInput {
        handle: format!("label-{i}"),
        title_ko: format!("상품 {i}"),
        title_en: format!("Product {i}"),
        category: "grocery".into(),
        vendor: "Bench".into(),
        variants: vec![engine::catalog::products::VariantInput {
            sku: format!("LABEL-{i}"),
            weight_g: 100,
            prices: vec![engine::catalog::products::PriceInput { currency: "KRW".into(), amount_minor: price }],
            ..Default::default()
        }],
        ..Default::default()
    };
    engine.upsert_products((0..labels).map(|i| product(i, 1_000)).collect()).await?;
    let mut first = None;
    for i in 0..labels {
        let d = engine.register_device(&store_id, "esl", &format!("esl-{i}"), Some(format!("LABEL-{i}"))).await?;
        first.get_or_insert(d);
    }
    let login = first.ok_or_else(|| anyhow::anyhow!("--labels must be at least 1"))?;
    let mut o = rumqttc::MqttOptions::new("bench-labels", "127.0.0.1", mqtt_port);
    o.set_credentials(login.id.clone(), login.token.clone());
    let (client, mut eventloop) = rumqttc::AsyncClient::new(o, 1000);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, i64, Instant)>();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    let v: serde_json::Value = serde_json::from_slice(&p.payload).unwrap_or_default();
                    let _ = tx.send((
                        v["sku"].as_str().unwrap_or_default().to_owned(),
                        v["price_minor"].as_i64().unwrap_or(-1),
                        Instant::now(),
                    ));
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    client.subscribe("borderless/v1/BENCH-GO/esl-0/commands", rumqttc::QoS::AtLeastOnce).await?;
    // Let the registrations' first prices (and retained ones) pass.
    tokio::time::sleep(Duration::from_secs(2)).await;
    while rx.try_recv().is_ok() {}
    let bar = indicatif::ProgressBar::new(changes as u64);
    let mut lat = Vec::with_capacity(changes);
    for k in 0..changes {
        // The bench listens as the first label (a device may subscribe only to its own commands, by exact
        // topic), so every change is to that label's product; the other labels share the store and pusher.
        let i = 0;
        let price = 1_000 + 10 * (k as i64 + 1);
        let t = Instant::now();
        engine.upsert_products(vec![product(i, price)]).await?;
        let sku = format!("LABEL-{i}");
        loop {
            let (s, p, at) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .map_err(|_| anyhow::anyhow!("no label command within 10 s"))?
                .ok_or_else(|| anyhow::anyhow!("subscriber ended"))?;
            if s == sku && p == price {
                lat.push(at.duration_since(t).as_micros() as u64);
                break;
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    lat.sort_unstable();
    println!();
    println!("| measure | result | target |");
    println!("|---|---:|---:|");
    println!("| price change committed → command on the broker, p50 | {:.0} ms | |", pct(&lat, 0.5));
    println!("| p99 | {:.0} ms | < 1,000 ms |", pct(&lat, 0.99));
    println!("| max | {:.0} ms | |", lat.last().copied().unwrap_or(0) as f64 / 1000.0);
    running.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
