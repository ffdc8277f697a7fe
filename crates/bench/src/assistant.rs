//! `borderless bench assistant`: how long one turn of the shopping assistant takes on a big catalog, without
//! a language model. Seeds --products products of the synthetic bilingual catalog (the one `bench search`
//! and `bench storefront` use) with stock at --locations stores into a fresh SQLite node, then runs
//! --conversations five-turn conversations in Korean and English (a request with a budget, "더 싼 거" /
//! "cheaper", a colour, "is it at this store?", a pickup-today request) through the engine — understanding,
//! search with live stock filters, the products read with their stock, the conversation written — and
//! prints p50/p95/p99 per kind of turn, then one JSON line.

use crate::server::pct;
use crate::storefront::{bench_node, seed_catalog};
use anyhow::{bail, Result};
use engine::discovery::assistant::Turn;
use std::collections::BTreeMap;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct AssistantBenchOpts {
    pub products: usize,
    pub locations: usize,
    pub conversations: usize,
}

/// Kinds of product in the synthetic catalog, as shoppers name them (Korean, English).
const KINDS: &[(&str, &str)] = &[
    ("무선 이어폰", "wireless earbuds"),
    ("블루투스 스피커", "bluetooth speaker"),
    ("스마트폰", "smartphone"),
    ("러닝화", "running shoes"),
    ("운동화", "sneakers"),
    ("후드티", "hoodie"),
    ("청바지", "jeans"),
    ("전기밥솥", "rice cooker"),
    ("보조배터리", "power bank"),
    ("요가매트", "yoga mat"),
];
const COLOURS: &[(&str, &str)] = &[("검은색으로", "in black"), ("화이트로", "in white"), ("네이비로", "in navy")];

pub async fn assistant(opts: AssistantBenchOpts) -> Result<()> {
    let (dir, running) = bench_node("assistant").await?;
    let engine = running.engine.clone();
    println!(
        "borderless bench assistant — {} products (Korean and English), stock at {} stores, {} conversations of 5 turns, no language model",
        opts.products, opts.locations, opts.conversations
    );
    let stores = seed_catalog(&engine, opts.products, opts.locations).await?;
    engine.search_stock_refresh().await?;
    // Warm the vocabulary (built once per catalog version) and the search path.
    engine.assistant_understand("무선 이어폰", None).await?;

    let mut times: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut all = Vec::new();
    let mut shown = 0usize;
    let started = Instant::now();
    for c in 0..opts.conversations {
        let (kko, ken) = KINDS[c % KINDS.len()];
        let (cko, cen) = COLOURS[c % COLOURS.len()];
        let budget = 5 + (c * 7) % 25;
        let store = &stores[c % stores.len()];
        let store_no = c % stores.len();
        let korean = c % 2 == 0;
        let turns: [(&str, String); 5] = if korean {
            [
                ("request with a budget", format!("{kko} {budget}만원 이하")),
                ("cheaper", "더 싼 거".to_owned()),
                ("colour", cko.to_owned()),
                ("at a store?", format!("S{store_no:02} 매장에 있어요?")),
                ("pickup today", format!("오늘 픽업 가능한 {kko}")),
            ]
        } else {
            [
                ("request with a budget", format!("{ken} under {budget}0,000 won")),
                ("cheaper", "anything cheaper?".to_owned()),
                ("colour", cen.to_owned()),
                ("at a store?", format!("is it in stock at S{store_no:02}?")),
                ("pickup today", format!("{ken} I can pick up today")),
            ]
        };
        let mut conversation = None;
        for (kind, text) in turns {
            let t = Instant::now();
            let a = engine
                .assistant_message(Turn {
                    conversation_id: conversation.clone(),
                    text: text.clone(),
                    location_id: Some(store.clone()),
                    ..Default::default()
                })
                .await?;
            let us = t.elapsed().as_micros() as u64;
            conversation = Some(a.conversation_id.clone());
            shown += a.products.len();
            times.entry(kind).or_default().push(us);
            all.push(us);
        }
    }
    let elapsed = started.elapsed();
    if shown == 0 {
        bail!("no turn showed a product: the benchmark would measure nothing");
    }
    println!();
    println!("{:<24} {:>9} {:>9} {:>9}", "turn", "p50 ms", "p95 ms", "p99 ms");
    for (kind, t) in &mut times {
        t.sort_unstable();
        println!("{kind:<24} {:>9.2} {:>9.2} {:>9.2}", pct(t, 0.50), pct(t, 0.95), pct(t, 0.99));
    }
    all.sort_unstable();
    println!("{:<24} {:>9.2} {:>9.2} {:>9.2}", "every turn", pct(&all, 0.50), pct(&all, 0.95), pct(&all, 0.99));
    println!(
        "{} turns in {:.1} s, {:.1} products shown per turn",
        all.len(),
        elapsed.as_secs_f64(),
        shown as f64 / all.len() as f64
    );
    println!(
        "{}",
        serde_json::json!({
            "products": opts.products,
            "turns": all.len(),
            "p50_ms": pct(&all, 0.50),
            "p95_ms": pct(&all, 0.95),
            "p99_ms": pct(&all, 0.99),
        })
    );
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
