//! The demo's analytics history: what the demo's customers share (consent, birth year, home store,
//! tier), and two weeks of generated multi-channel traffic (`insight::synth`) over the demo's real stores,
//! products and the live cashierless store's facings, written as analytics events (ids `seed:…`) up to
//! now, so that the console's Analytics screen shows yesterday and today from the first start. Days are
//! generated one seed each, so a later start adds the days since without repeating any.

use anyhow::{Context, Result};
use engine::instore::live::LayoutInput;
use engine::Engine;
use insight::synth::{Facing, Product, Store, SynthConfig, World};

const DAYS_BACK: i64 = 13;
const DONE_FLAG: &str = "demo.analytics_history_through";
const DAY_MS: i64 = 86_400_000;

/// Profiles of the demo customers (set once; a shopper may change theirs later).
async fn profiles(engine: &Engine, customers: &[String], stores: &[String]) -> Result<()> {
    for (i, c) in customers.iter().enumerate() {
        let p = engine.analytics_profile(c.clone()).await?;
        if p.consent || p.birth_year.is_some() {
            continue;
        }
        let profile = engine::insight::AnalyticsProfile {
            consent: true,
            birth_year: Some([1992, 1987, 1999, 1978, 1995, 1983, 2001, 1969][i % 8]),
            home_location_id: stores.get(i % stores.len().max(1)).cloned(),
        };
        engine.set_analytics_profile(c.clone(), profile).await.context("the demo customers' analytics profiles")?;
        engine.set_customer_tier(c.clone(), ["silver", "gold", "silver", "vip"][i % 4].into()).await?;
    }
    Ok(())
}

/// Writes the generated history from the day after the last one written (or two weeks back) through
/// now; returns the events written.
pub async fn ensure(engine: &Engine, cashierless: &str, layout: &LayoutInput) -> Result<usize> {
    let offset_min = 540; // the demo retailer is in Seoul
    let now = engine.now();
    let today = insight::time::day_number(now, offset_min);
    let done = engine.meta(DONE_FLAG).await?.and_then(|v| v.parse::<i64>().ok()).unwrap_or(i64::MIN);
    // Today is written up to now; a later start finishes it (the same seed names the same events).
    let first = (today - DAYS_BACK).max(if done == i64::MIN { i64::MIN } else { done });
    let locations = engine.locations().await?;
    let id_of = |code: &str| locations.iter().find(|l| l.code == code).map(|l| l.id.clone());
    let counter_codes = [super::data::GANGNAM, super::data::HONGDAE, super::data::SEOMYEON];
    let counters: Vec<String> = counter_codes.iter().filter_map(|c| id_of(c)).collect();
    let mut customers = Vec::new();
    for c in super::data::customers().into_iter().chain(super::data::store_visitors()) {
        if let Some(found) = engine.find_customers(Some(c.email), None, None).await?.into_iter().next() {
            customers.push(found.id);
        }
    }
    profiles(engine, &customers, &counters).await?;
    let catalog = super::data::products();
    let mut products = Vec::new();
    for p in &catalog {
        let Ok(view) = engine.product(&p.handle).await else { continue };
        for v in &p.variants {
            if let Some(price) = v.prices.iter().find(|x| x.currency == "KRW") {
                products.push(Product {
                    id: view.id.clone(),
                    sku: v.sku.clone(),
                    category: p.category.clone(),
                    price_minor: price.amount_minor,
                });
            }
        }
    }
    let facings = layout
        .facings
        .iter()
        .filter_map(|f| {
            let p = products.iter().find(|p| p.sku == f.sku)?;
            let plates: Vec<String> = f.plates.iter().map(|x| x.to_string()).collect();
            Some(Facing {
                zone: format!("facing:{}-{}-{}:{}", f.gondola, f.shelf, plates.join("_"), f.sku),
                gondola: f.gondola,
                sku: f.sku.clone(),
                product: p.id.clone(),
                category: p.category.clone(),
            })
        })
        .collect();
    let mut stores: Vec<Store> =
        counters.iter().map(|l| Store { location: l.clone(), cashierless: false, facings: vec![] }).collect();
    stores.push(Store { location: cashierless.to_owned(), cashierless: true, facings });
    let world = World {
        stores,
        web_location: id_of(super::data::WAREHOUSE).unwrap_or_else(|| counters.first().cloned().unwrap_or_default()),
        products,
        customers,
        members: 400,
        currency: "KRW".into(),
    };
    let mut written = 0;
    for day in first..=today {
        let cfg = SynthConfig {
            seed: 20_261_205 + day as u64,
            start_ms: day * DAY_MS - offset_min as i64 * 60_000,
            days: 1,
            utc_offset_min: offset_min,
            web_sessions_per_day: 500,
            visits_per_store_day: 160,
            counter_orders_per_store_day: 70,
            until_ms: now,
        };
        let events = insight::synth::generate(&world, &cfg);
        written += engine.insight_import(events).await.context("writing the demo's analytics history")?;
    }
    engine.set_meta(DONE_FLAG, &today.to_string()).await?;
    Ok(written)
}
