//! Product media: a product's 3D model (GLB), stored in the database beside the product so that every node
//! serves the same file, checked by `catalog_io::media` before it is written.

use crate::{EngineError, Result};
use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest, Sha256};
use store::{params, Tx};

/// A stored model as the API and pages describe it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ModelView {
    pub product_id: String,
    pub bytes: i64,
    pub sha256: String,
    /// Where browsers fetch it (changes with the file, so it can be cached for a year).
    pub url: String,
    pub updated_at: String,
}

fn view(product_id: String, bytes: i64, sha256: String, updated_at: i64) -> ModelView {
    let url = format!("/media/models/{product_id}.glb?v={}", &sha256[..sha256.len().min(16)]);
    ModelView { product_id, bytes, sha256, url, updated_at: domain::time::rfc3339(updated_at) }
}

/// The product's id for an id or handle, if the product exists (archived or not).
pub(crate) fn product_id(tx: &mut dyn Tx, id_or_handle: &str) -> Result<String> {
    tx.query_opt("SELECT id FROM products WHERE id = ? OR handle = ?", params![id_or_handle, id_or_handle])?
        .map(|r| r.text(0))
        .transpose()?
        .ok_or_else(|| EngineError::not_found("product", id_or_handle))
}

pub(crate) fn save(tx: &mut dyn Tx, id_or_handle: &str, glb: &[u8], now: i64) -> Result<ModelView> {
    catalog_io::media::check_glb(glb).map_err(|m| EngineError::invalid("invalid_model", m))?;
    let id = product_id(tx, id_or_handle)?;
    let sha = hex::encode(Sha256::digest(glb));
    let encoded = base64::engine::general_purpose::STANDARD.encode(glb);
    tx.exec(
        "INSERT INTO product_models (product_id, glb_base64, bytes, sha256, updated_at) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (product_id) DO UPDATE SET glb_base64 = excluded.glb_base64, bytes = excluded.bytes, \
         sha256 = excluded.sha256, updated_at = excluded.updated_at",
        params![&id, &encoded, glb.len() as i64, &sha, now],
    )?;
    Ok(view(id, glb.len() as i64, sha, now))
}

pub(crate) fn info(tx: &mut dyn Tx, id_or_handle: &str) -> Result<Option<ModelView>> {
    let id = product_id(tx, id_or_handle)?;
    let row =
        tx.query_opt("SELECT bytes, sha256, updated_at FROM product_models WHERE product_id = ?", params![&id])?;
    row.map(|r| Ok(view(id, r.i64(0)?, r.text(1)?, r.i64(2)?))).transpose()
}

/// The model's bytes and hash.
pub(crate) fn file(tx: &mut dyn Tx, product_id: &str) -> Result<Option<(Vec<u8>, String)>> {
    let Some(r) =
        tx.query_opt("SELECT glb_base64, sha256 FROM product_models WHERE product_id = ?", params![product_id])?
    else {
        return Ok(None);
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(r.text(0)?)
        .map_err(|e| crate::error::internal(format!("stored model of {product_id} is not base64: {e}")))?;
    Ok(Some((bytes, r.text(1)?)))
}

pub(crate) fn delete(tx: &mut dyn Tx, id_or_handle: &str) -> Result<bool> {
    let id = product_id(tx, id_or_handle)?;
    Ok(tx.exec("DELETE FROM product_models WHERE product_id = ?", params![&id])? > 0)
}
