//! The demo retailer: seeds an empty database with the locations, bilingual catalog, uneven stock and
//! customers of `engine::demo_data` (each with 100,000 won in their wallet) and USD/KRW exchange rates,
//! once (a `meta` flag makes a second run reuse what is there).

use anyhow::{Context, Result};
use engine::customers::SignupInput;
use engine::demo_data;
use engine::Engine;

const SEEDED_FLAG: &str = "demo.seeded_at";

#[derive(Debug, Default)]
pub struct SeedSummary {
    pub created: bool,
    pub products: usize,
    pub locations: usize,
    pub stock_rows: usize,
    pub customers: usize,
}

/// Seeds the demo retailer unless it is already there.
pub async fn seed(engine: &Engine) -> Result<SeedSummary> {
    if engine.meta(SEEDED_FLAG).await?.is_some() {
        let locations = engine.locations().await?.len();
        return Ok(SeedSummary { created: false, locations, ..Default::default() });
    }
    let bar = indicatif::ProgressBar::new(5);
    bar.set_style(indicatif::ProgressStyle::with_template("{spinner} seeding demo retailer [{bar:20}] {pos}/{len} {msg}").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
    bar.set_message("locations");
    let locs = demo_data::locations();
    let existing = engine.locations().await?;
    for l in &locs {
        if !existing.iter().any(|e| e.code == l.code) {
            engine.create_location(l.clone()).await.with_context(|| format!("creating location {}", l.code))?;
        }
    }
    bar.inc(1);
    bar.set_message("catalog");
    let products = demo_data::products();
    let n_products = engine.upsert_products(products.clone()).await.context("loading the demo catalog")?;
    bar.inc(1);
    bar.set_message("stock");
    let stock = demo_data::stock(&products);
    let rows: Vec<_> = stock.iter().map(|s| (s.sku.clone(), s.location_code.clone(), s.quantity)).collect();
    let n_stock = engine.receive_many(rows, "demo opening stock").await.context("receiving demo stock")?;
    bar.inc(1);
    bar.set_message("customers");
    let customers = demo_data::customers();
    for c in &customers {
        let input = SignupInput {
            email: c.email.clone(),
            password: c.password.clone(),
            name: c.name.clone(),
            phone: Some(c.phone.clone()),
            locale: Some(c.locale.clone()),
        };
        match engine.signup(input).await {
            Ok(_) | Err(engine::EngineError::Conflict { .. }) => {}
            Err(e) => return Err(e).context("creating demo customers"),
        }
    }
    bar.inc(1);
    bar.set_message("wallets and exchange rates");
    // Money to try the wallet with, and the rates that let a USD order be paid from a KRW wallet.
    engine.record_fx_rate("USD", "KRW", "1385.20", None).await.context("recording demo exchange rates")?;
    engine.record_fx_rate("KRW", "USD", "0.00072", None).await.context("recording demo exchange rates")?;
    let seeder = engine::auth::Principal::Admin { key_id: "demo-seed".into() };
    for c in &customers {
        if let Some(found) = engine.find_customers(Some(c.email.clone()), None, None).await?.into_iter().next() {
            let key = format!("demo-wallet-{}", found.id);
            engine
                .wallet_top_up(&seeder, &found.id, 100_000, "KRW", Some(demo_data::GANGNAM.into()), Some(key.clone()), key)
                .await
                .context("topping up demo wallets")?;
        }
    }
    bar.finish_and_clear();
    engine.set_meta(SEEDED_FLAG, &engine.now().to_string()).await?;
    Ok(SeedSummary { created: true, products: n_products, locations: locs.len(), stock_rows: n_stock, customers: customers.len() })
}
