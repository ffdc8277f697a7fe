//! The catalog: products with their variants, ko/en text and prices, imports, locations, and what a shopper
//! sees of per-store availability.

pub mod locations;
pub mod products;

use crate::error::bad;
use crate::{Engine, EngineError, Result};
use locations::{LocationInput, LocationView};
use products::{ProductInput, ProductQuery, ProductView};

/// Products saved per transaction by imports.
pub const IMPORT_BATCH: usize = 200;

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
