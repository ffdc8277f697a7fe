//! The catalog: products with their variants, ko/en text and prices, imports, locations, and what a shopper
//! sees of per-store availability.

pub mod locations;
pub mod products;

use crate::error::bad;
use crate::stock::movements;
use crate::{Engine, EngineError, Result};
use locations::{LocationInput, LocationView};
use products::{ProductInput, ProductQuery, ProductView};
use serde::Serialize;

/// Products saved per transaction by imports.
pub const IMPORT_BATCH: usize = 200;

/// Per-store availability of one SKU as a shopper sees it.
#[derive(Debug, Clone, Serialize)]
pub struct StoreAvailability {
    pub location_id: String,
    pub code: String,
    pub name: products::Localized,
    pub kind: String,
    pub available: i64,
    pub pickup_enabled: bool,
    /// "3 at Gangnam, pickup today" / "강남점 3개, 오늘 픽업 가능".
    pub label: products::Localized,
}

#[derive(Debug, Clone, Serialize)]
pub struct VariantAvailability {
    pub sku: String,
    pub online_available: i64,
    pub stores: Vec<StoreAvailability>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProductWithAvailability {
    #[serde(flatten)]
    pub product: ProductView,
    pub availability: Vec<VariantAvailability>,
}

impl Engine {
    pub async fn create_product(&self, input: ProductInput) -> Result<ProductView> {
        let input = products::validate(input)?;
        let now = self.now();
        self.db.write(move |tx| products::save_product(tx, &input, false, now)).await
    }

    /// Creates or updates products by handle. Every product is validated before anything is written;
    /// then they are saved in transactions of [`IMPORT_BATCH`] products, so that a large import never holds
    /// the writer for long. A database refusal (say, a GTIN already used by another product) stops the
    /// import with the number saved before it; running the same import again is safe (upsert by handle).
    pub async fn upsert_products(&self, products: Vec<ProductInput>) -> Result<usize> {
        let valid = products
            .into_iter()
            .enumerate()
            .map(|(i, p)| products::validate(p).map_err(|e| bad(format!("product #{}: {e}", i + 1))))
            .collect::<Result<Vec<_>>>()?;
        let mut saved = 0;
        for chunk in valid.chunks(IMPORT_BATCH) {
            let (chunk, now) = (chunk.to_vec(), self.now());
            let result = self
                .db
                .write(move |tx| {
                    for p in &chunk {
                        products::save_product(tx, p, true, now)?;
                    }
                    Ok::<usize, EngineError>(chunk.len())
                })
                .await;
            match result {
                Ok(n) => saved += n,
                Err(EngineError::Conflict { code, message }) if saved > 0 => {
                    return Err(EngineError::Conflict {
                        code,
                        message: format!("{message} (the first {saved} products were saved)"),
                    })
                }
                Err(e) => return Err(e),
            }
        }
        Ok(saved)
    }

    pub async fn product(&self, id: &str) -> Result<ProductView> {
        let id = id.to_owned();
        self.db
            .read(move |tx| products::load_product(tx, &id)?.ok_or_else(|| EngineError::not_found("product", &id)))
            .await
    }

    pub async fn list_products(&self, q: ProductQuery) -> Result<Vec<ProductView>> {
        self.db.read(move |tx| products::list_products(tx, &q)).await
    }

    /// Every product, in id order (exports).
    pub async fn all_products(&self) -> Result<Vec<ProductView>> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let page =
                self.list_products(ProductQuery { after: after.clone(), limit: 500, ..Default::default() }).await?;
            let done = page.len() < 500;
            after = page.last().map(|p| p.id.clone());
            all.extend(page);
            if done {
                return Ok(all);
            }
        }
    }

    /// A product with per-location availability of each variant, for the storefront.
    pub async fn product_with_availability(&self, id: &str) -> Result<ProductWithAvailability> {
        let id = id.to_owned();
        self.db
            .read(move |tx| {
                let p = products::load_product(tx, &id)?.ok_or_else(|| EngineError::not_found("product", &id))?;
                if p.status != "active" {
                    return Err(EngineError::not_found("product", &id));
                }
                let mut availability = Vec::new();
                for v in &p.variants {
                    let levels = movements::sku_levels(tx, &v.sku)?;
                    let mut online = 0;
                    let mut stores = Vec::new();
                    for l in levels.locations {
                        let avail = l.level.available;
                        if l.kind == "warehouse" {
                            online += avail;
                            continue;
                        }
                        let label = match (avail, l.pickup_enabled) {
                            (0, _) => products::Localized {
                                ko: format!("{} 품절", l.location_name.ko),
                                en: format!("Sold out at {}", l.location_name.en),
                            },
                            (n, true) => products::Localized {
                                ko: format!("{} {n}개, 오늘 픽업 가능", l.location_name.ko),
                                en: format!("{n} at {}, pickup today", l.location_name.en),
                            },
                            (n, false) => products::Localized {
                                ko: format!("{} {n}개 (매장 구매)", l.location_name.ko),
                                en: format!("{n} at {} (in store only)", l.location_name.en),
                            },
                        };
                        stores.push(StoreAvailability {
                            location_id: l.location_id,
                            code: l.location_code,
                            name: l.location_name,
                            kind: l.kind,
                            available: avail,
                            pickup_enabled: l.pickup_enabled,
                            label,
                        });
                    }
                    availability.push(VariantAvailability { sku: v.sku.clone(), online_available: online, stores });
                }
                Ok(ProductWithAvailability { product: p, availability })
            })
            .await
    }

    pub async fn create_location(&self, input: LocationInput) -> Result<LocationView> {
        let now = self.now();
        self.db.write(move |tx| locations::create(tx, input.clone(), now)).await
    }

    pub async fn locations(&self) -> Result<Vec<LocationView>> {
        self.db.read(locations::list).await
    }

    pub async fn location(&self, id_or_code: &str) -> Result<LocationView> {
        let id = id_or_code.to_owned();
        self.db.read(move |tx| locations::get(tx, &id)?.ok_or_else(|| EngineError::not_found("location", &id))).await
    }
}
