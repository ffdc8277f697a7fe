//! The catalog: products with their variants, ko/en text and prices, imports, locations, product media (3D
//! models), and what a shopper sees of per-store availability.

pub mod locations;
pub mod media;
pub mod products;

use crate::error::bad;
use crate::{Engine, EngineError, Result};
use locations::{LocationInput, LocationView};
use products::{ProductInput, ProductQuery, ProductView};
use store::params;

/// Products saved per transaction by imports.
pub const IMPORT_BATCH: usize = 200;

impl Engine {
    /// Stores (or replaces) a product's 3D model after checking it is one self-contained glTF 2.0 binary.
    pub async fn set_product_model(&self, id_or_handle: &str, glb: Vec<u8>) -> Result<media::ModelView> {
        let (id, now) = (id_or_handle.to_owned(), self.now());
        self.db.write(move |tx| media::save(tx, &id, &glb, now)).await
    }

    /// The product's model, if it has one (404 when the product does not exist).
    pub async fn product_model_info(&self, id_or_handle: &str) -> Result<Option<media::ModelView>> {
        let id = id_or_handle.to_owned();
        self.db.read(move |tx| media::info(tx, &id)).await
    }

    /// The model file and its hash, by product id.
    pub async fn product_model_file(&self, product_id: &str) -> Result<Option<(Vec<u8>, String)>> {
        let id = product_id.to_owned();
        self.db.read(move |tx| media::file(tx, &id)).await
    }

    /// Removes a product's model; whether there was one.
    pub async fn delete_product_model(&self, id_or_handle: &str) -> Result<bool> {
        let id = id_or_handle.to_owned();
        self.db.write(move |tx| media::delete(tx, &id)).await
    }

    pub async fn create_product(&self, input: ProductInput) -> Result<ProductView> {
        let input = products::validate(input)?;
        let now = self.now();
        self.db.write(move |tx| products::save_product(tx, &input, products::Save::Create, now)).await
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
                        products::save_product(tx, p, products::Save::Upsert, now)?;
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

    /// Changes what the patch names (text, category, status, variants' prices, attributes, GTIN, weight; new
    /// variants by SKU). The product is validated whole before it is saved.
    pub async fn update_product(&self, id: &str, patch: catalog_io::ProductPatch) -> Result<ProductView> {
        let (id, now) = (id.to_owned(), self.now());
        self.db
            .write(move |tx| {
                let current = products::load_product(tx, &id)?.ok_or_else(|| EngineError::not_found("product", &id))?;
                let input = patch.clone().apply(&current).map_err(bad)?;
                let input = products::validate(input)?;
                products::save_product(tx, &input, products::Save::Update, now)
            })
            .await
    }

    /// Changes one variant of a product; the SKU must be the product's.
    pub async fn update_variant(&self, id: &str, sku: &str, patch: catalog_io::VariantPatch) -> Result<ProductView> {
        let sku = products::canonical_sku(sku)?;
        let current = self.product(id).await?;
        if !current.variants.iter().any(|v| v.sku == sku) {
            return Err(EngineError::not_found("variant", format!("{} of {}", sku, current.handle)));
        }
        let p = catalog_io::ProductPatch {
            variants: Some(vec![catalog_io::VariantPatchIn {
                sku,
                gtin: patch.gtin,
                weight_g: patch.weight_g,
                attributes: patch.attributes,
                prices: patch.prices,
                remove_currencies: patch.remove_currencies,
            }]),
            ..Default::default()
        };
        self.update_product(&current.id, p).await
    }

    /// Takes a product off sale for good without losing its history (orders keep pointing at it): its status
    /// becomes `archived`. Idempotent.
    pub async fn archive_product(&self, id: &str) -> Result<ProductView> {
        let patch = catalog_io::ProductPatch { status: Some("archived".into()), ..Default::default() };
        self.update_product(id, patch).await
    }

    /// Checks a whole import before anything is written: every product's fields (as the API checks them),
    /// SKUs and GTINs that belong to other products in the catalog. Each problem names the product's line.
    pub async fn check_import(&self, rows: &[catalog_io::csv::ReadProduct]) -> Result<Vec<ImportProblem>> {
        let mut problems = Vec::new();
        let mut checked: Vec<(u64, ProductInput)> = Vec::with_capacity(rows.len());
        for r in rows {
            match products::validate(r.product.clone()) {
                Ok(p) => checked.push((r.line, p)),
                Err(e) => problems.push(ImportProblem {
                    line: r.line,
                    column: None,
                    message: format!("product `{}`: {e}", r.product.handle),
                }),
            }
        }
        let found = self
            .db
            .read(move |tx| {
                let mut found = Vec::new();
                for (line, p) in &checked {
                    for v in &p.variants {
                        if let Some(r) = tx.query_opt(
                            "SELECT p.handle FROM variants v JOIN products p ON p.id = v.product_id WHERE v.sku = ?",
                            params![&v.sku],
                        )? {
                            let owner = r.text(0)?;
                            if owner != p.handle {
                                found.push(ImportProblem {
                                    line: *line,
                                    column: Some("sku".into()),
                                    message: format!("SKU `{}` belongs to product `{owner}` already", v.sku),
                                });
                            }
                        }
                        if let Some(g) = &v.gtin {
                            if let Some(r) = tx.query_opt(
                                "SELECT v.sku, p.handle FROM variants v JOIN products p ON p.id = v.product_id WHERE v.gtin = ?",
                                params![g],
                            )? {
                                let (sku, owner) = (r.text(0)?, r.text(1)?);
                                if sku != v.sku {
                                    found.push(ImportProblem {
                                        line: *line,
                                        column: Some("gtin".into()),
                                        message: format!("GTIN `{g}` is already on `{sku}` of product `{owner}`"),
                                    });
                                }
                            }
                        }
                    }
                }
                Ok::<_, EngineError>(found)
            })
            .await?;
        problems.extend(found);
        problems.sort_by_key(|p| p.line);
        Ok(problems)
    }
}

/// One problem of an import, at a line of the file.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ImportProblem {
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

impl ImportProblem {
    /// The reader's problems in the same shape.
    pub fn from_csv(e: &catalog_io::csv::CsvError) -> ImportProblem {
        // The reader's text starts with its own "line N, column `c`: "; the fields carry those here.
        let text = e.to_string();
        let message = match text.strip_prefix("line ") {
            Some(rest) => rest.split_once(": ").map_or(text.as_str(), |(_, m)| m).to_owned(),
            None => text.clone(),
        };
        ImportProblem { line: e.line().unwrap_or(0), column: e.column(), message }
    }
}
