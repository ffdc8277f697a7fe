//! The demo retailer: seeds an empty database with the locations, bilingual catalog, uneven stock and
//! customers of `data` (each with 100,000 won in their wallet) and USD/KRW exchange rates,
//! once (a `meta` flag makes a second run reuse what is there), with a 3D model for the earbuds (`model`).
//! `live_store` then runs its cashierless store.

pub mod data;
pub mod history;
pub mod live_store;
pub mod model;

use data as demo_data;

use anyhow::{Context, Result};
use engine::customers::accounts::SignupInput;
use engine::Engine;
use rand::{Rng, SeedableRng};

const SEEDED_FLAG: &str = "demo.seeded_at";

#[derive(Debug, Default)]
pub struct SeedSummary {
    pub created: bool,
    pub products: usize,
    pub locations: usize,
    pub stock_rows: usize,
    pub customers: usize,
}

/// The earbuds' 3D model, added when missing (also to a demo database made before models existed).
async fn ensure_model(engine: &Engine) -> Result<()> {
    if engine.product_model_info(model::PRODUCT).await.context("reading the demo's 3D model")?.is_none() {
        engine
            .set_product_model(model::PRODUCT, model::earbuds_case_glb())
            .await
            .context("storing the demo's 3D model")?;
    }
    Ok(())
}

/// Seeds the demo retailer unless it is already there.
/// The demo's console accounts, created when missing (also in a demo database made before they existed).
pub async fn ensure_staff(engine: &Engine) -> Result<()> {
    for (email, name, role, location, locale) in demo_data::DEMO_STAFF {
        match engine.add_staff(email, name, demo_data::DEMO_STAFF_PASSWORD, role, *location, locale).await {
            Ok(_) | Err(engine::EngineError::Conflict { .. }) => {}
            Err(e) => return Err(e).with_context(|| format!("creating the demo staff account {email}")),
        }
    }
    Ok(())
}

pub async fn seed(engine: &Engine) -> Result<SeedSummary> {
    if engine.meta(SEEDED_FLAG).await?.is_some() {
        ensure_model(engine).await?;
        let locations = engine.locations().await?.len();
        return Ok(SeedSummary { created: false, locations, ..Default::default() });
    }
    let bar = indicatif::ProgressBar::new(5);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} seeding demo retailer [{bar:20}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
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
    if engine.search_synonyms().await?.is_empty() {
        engine.set_search_synonyms(demo_data::synonyms()).await.context("setting the demo's search synonyms")?;
    }
    ensure_model(engine).await?;
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
        match engine.create_account(input).await {
            Ok(_) | Err(engine::EngineError::Conflict { .. }) => {}
            Err(e) => return Err(e).context("creating demo customers"),
        }
    }
    bar.inc(1);
    bar.set_message("wallets and exchange rates");
    // Money to try the wallet with, and the rates that let a USD order be paid from a KRW wallet.
    engine.record_fx_rate("USD", "KRW", "1385.20", None).await.context("recording demo exchange rates")?;
    engine.record_fx_rate("KRW", "USD", "0.00072", None).await.context("recording demo exchange rates")?;
    let seeder = engine::platform::auth::Principal::Admin { key_id: "demo-seed".into() };
    for c in &customers {
        if let Some(found) = engine.find_customers(Some(c.email.clone()), None, None).await?.into_iter().next() {
            let key = format!("demo-wallet-{}", found.id);
            engine
                .wallet_top_up(
                    &seeder,
                    &found.id,
                    100_000,
                    "KRW",
                    Some(demo_data::GANGNAM.into()),
                    Some(key.clone()),
                    key,
                )
                .await
                .context("topping up demo wallets")?;
        }
    }
    bar.finish_and_clear();
    let sales = seed_history(engine, &products, &stock).await.context("seeding the demo shopping history")?;
    engine.set_meta(SEEDED_FLAG, &engine.now().to_string()).await?;
    engine
        .recs_train(recs::TrainConfig::default(), std::sync::Arc::new(|m: &str| tracing::debug!("recs: {m}")))
        .await
        .context("training the demo recommendation model")?;
    tracing::info!(sales, "demo shopping history seeded and the recommendation model trained");
    Ok(SeedSummary {
        created: true,
        products: n_products,
        locations: locs.len(),
        stock_rows: n_stock,
        customers: customers.len(),
    })
}

/// A shopping history for recommendations to learn from: counter sales at the three stores (shoppers
/// buy a few things of one kind, sometimes with something from a neighbouring aisle), each demo customer's
/// own store purchases, and their recent online browsing. Deterministic, so every demo shows the same.
async fn seed_history(
    engine: &Engine,
    products: &[engine::catalog::products::ProductInput],
    stock: &[demo_data::DemoStock],
) -> Result<usize> {
    use std::collections::HashMap;
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261129);
    let seller = engine::platform::auth::Principal::Admin { key_id: "demo-seed".into() };
    let cat_of: HashMap<&str, &str> =
        products.iter().flat_map(|p| p.variants.iter().map(move |v| (v.sku.as_str(), p.category.as_str()))).collect();
    let product_of_sku: HashMap<&str, &str> =
        products.iter().flat_map(|p| p.variants.iter().map(move |v| (v.sku.as_str(), p.handle.as_str()))).collect();
    let mut sales = 0usize;
    let stores = [demo_data::GANGNAM, demo_data::HONGDAE, demo_data::SEOMYEON];
    // (store, category) → SKUs with enough stock there to sell a few.
    let mut shelf: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
    for s in stock.iter().filter(|s| s.quantity >= 6 && stores.contains(&s.location_code.as_str())) {
        if let Some(c) = cat_of.get(s.sku.as_str()) {
            shelf
                .entry((stores.iter().find(|x| **x == s.location_code).copied().unwrap_or_default(), c))
                .or_default()
                .push(s.sku.as_str());
        }
    }
    let mut keys: Vec<(&str, &str)> = shelf.keys().copied().collect();
    keys.sort();
    if keys.is_empty() {
        return Ok(0);
    }
    let mut ids: HashMap<&str, String> = HashMap::new();
    for s in stores {
        ids.insert(s, engine.location(s).await?.id);
    }
    let mut sold: HashMap<(&str, &str), i64> = HashMap::new();
    let mut sell = |store: &'static str,
                    cat: &str,
                    n: usize,
                    rng: &mut rand::rngs::StdRng|
     -> Vec<engine::sales::orders::SaleLineInput> {
        let Some(skus) = shelf.get(&(store, cat)) else { return vec![] };
        let mut lines: Vec<engine::sales::orders::SaleLineInput> = Vec::new();
        for _ in 0..n {
            let sku = skus[rng.random_range(0..skus.len())];
            let used = sold.entry((store, sku)).or_default();
            if *used < 4 && !lines.iter().any(|l| l.sku == sku) {
                *used += 1;
                lines.push(engine::sales::orders::SaleLineInput { sku: sku.to_owned(), quantity: 1 });
            }
        }
        lines
    };
    let customers: Vec<String> = {
        let mut v = Vec::new();
        for c in demo_data::customers() {
            if let Some(found) = engine.find_customers(Some(c.email.clone()), None, None).await?.into_iter().next() {
                v.push(found.id);
            }
        }
        v
    };
    let mut owned: std::collections::HashSet<(String, String)> = Default::default();
    for k in 0..180 {
        let store = stores[k % stores.len()];
        let cats: Vec<&str> = keys.iter().filter(|(s, _)| *s == store).map(|(_, c)| *c).collect();
        if cats.is_empty() {
            continue;
        }
        let main = cats[rng.random_range(0..cats.len())];
        let mut lines = sell(store, main, rng.random_range(2..=4), &mut rng);
        if rng.random_bool(0.3) {
            let extra = cats[(cats.iter().position(|c| *c == main).unwrap_or(0) + 1) % cats.len()];
            lines.extend(sell(store, extra, 1, &mut rng));
        }
        // A third of the counter sales are to identified members.
        let customer = (k % 3 == 0 && !customers.is_empty()).then(|| customers[(k / 3) % customers.len()].clone());
        if let Some(c) = &customer {
            // Members rebuy groceries, not phones.
            lines.retain(|l| {
                cat_of.get(l.sku.as_str()).is_some_and(|c| c.starts_with("grocery"))
                    || !owned.contains(&(c.clone(), l.sku.clone()))
            });
            for l in &lines {
                owned.insert((c.clone(), l.sku.clone()));
            }
        }
        if lines.is_empty() {
            continue;
        }
        let key = format!("demo-history-{k}");
        engine
            .pos_sale(
                &seller,
                Some(ids[store].clone()),
                lines,
                None,
                customer,
                None,
                None,
                None,
                Some(key.clone()),
                key,
            )
            .await?;
        sales += 1;
    }
    // Each demo customer browsed a few products online lately.
    for (n, c) in customers.iter().enumerate() {
        let cat = keys[(n * 7) % keys.len()].1;
        let viewed: Vec<engine::discovery::recommendations::ShopperEvent> = products
            .iter()
            .filter(|p| p.category == cat)
            .take(3)
            .filter_map(|p| product_of_sku.get(p.variants.first()?.sku.as_str()).map(|h| h.to_string()))
            .map(|h| engine::discovery::recommendations::ShopperEvent {
                kind: "view".into(),
                product_id: Some(h),
                query: None,
                location_id: None,
                device: Some("mobile".into()),
            })
            .collect();
        let mut evs = Vec::new();
        for v in viewed {
            if let Some(h) = &v.product_id {
                if let Ok(p) = engine.product(h).await {
                    evs.push(engine::discovery::recommendations::ShopperEvent { product_id: Some(p.id), ..v });
                }
            }
        }
        if !evs.is_empty() {
            engine.record_shopper_events(evs, Some(c.clone()), None).await?;
        }
    }
    while engine.recs_ingest(500).await? > 0 {}
    Ok(sales)
}
