//! A store's layout: plates with their SKUs and unit weights, facings in the store frame, checked and stored.

use super::*;

// ---------------- layout ----------------

/// One plate of a shelf and the SKU standing on it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlateIn {
    pub gondola: u16,
    pub shelf: u16,
    pub plate: u16,
    /// None for an empty plate.
    pub sku: Option<String>,
    /// Weight of one unit in grams (0 for an empty plate).
    #[serde(default)]
    pub unit_weight_g: f64,
}

/// A product facing's box in store coordinates (metres): corner and size.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FacingIn {
    pub sku: String,
    pub gondola: u16,
    pub shelf: u16,
    pub plates: Vec<u16>,
    pub corner_m: [f64; 3],
    pub size_m: [f64; 3],
}

/// A store's layout, replaced as a whole.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LayoutInput {
    pub plates: Vec<PlateIn>,
    #[serde(default)]
    pub facings: Vec<FacingIn>,
}

pub(crate) fn check_layout(tx: &mut dyn Tx, l: &LayoutInput) -> Result<()> {
    if l.plates.is_empty() || l.plates.len() > MAX_LAYOUT_PLATES {
        return Err(bad(format!("a layout has 1–{MAX_LAYOUT_PLATES} plates")));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, p) in l.plates.iter().enumerate() {
        if !seen.insert((p.gondola, p.shelf, p.plate)) {
            return Err(bad(format!(
                "plates[{i}]: gondola {} shelf {} plate {} is listed twice",
                p.gondola, p.shelf, p.plate
            )));
        }
        if let Some(sku) = &p.sku {
            if !(p.unit_weight_g.is_finite() && p.unit_weight_g >= 1.0 && p.unit_weight_g <= 50_000.0) {
                return Err(bad(format!("plates[{i}]: `unit_weight_g` of {sku} must be 1–50,000 grams")));
            }
            if tx.query_opt("SELECT 1 FROM variants WHERE sku = ?", params![sku])?.is_none() {
                return Err(EngineError::not_found("sku", sku.clone()));
            }
        }
    }
    for (i, f) in l.facings.iter().enumerate() {
        if f.plates.is_empty() || f.plates.len() > 64 {
            return Err(bad(format!("facings[{i}]: a facing stands on 1–64 plates")));
        }
        if !f.corner_m.iter().chain(&f.size_m).all(|v| v.is_finite() && v.abs() < 10_000.0)
            || f.size_m.iter().any(|v| *v <= 0.0)
        {
            return Err(bad(format!("facings[{i}]: `corner_m` and `size_m` are metres, the size positive")));
        }
        if !l.plates.iter().any(|p| p.sku.as_deref() == Some(f.sku.as_str())) {
            return Err(bad(format!("facings[{i}]: {} stands on no plate of the layout", f.sku)));
        }
    }
    Ok(())
}

pub(crate) fn to_instore(l: &LayoutInput) -> Result<StoreLayout> {
    let rows: Vec<instore::recording::PlanogramRow> = l
        .plates
        .iter()
        .map(|p| instore::recording::PlanogramRow {
            plate: PlateKey { gondola: p.gondola, shelf: p.shelf, plate: p.plate },
            barcode: p.sku.clone(),
            name: p.sku.clone().unwrap_or_default(),
            unit_weight_g: if p.sku.is_some() { p.unit_weight_g } else { 0.0 },
        })
        .collect();
    let facings: Vec<instore::recording::FacingRow> = l
        .facings
        .iter()
        .map(|f| instore::recording::FacingRow {
            barcode: Some(f.sku.clone()),
            gondola: f.gondola,
            shelf: f.shelf,
            plates: f.plates.clone(),
            corner: instore::Vec3 { x: f.corner_m[0], y: f.corner_m[1], z: f.corner_m[2] },
            dim: instore::Vec3 { x: f.size_m[0], y: f.size_m[1], z: f.size_m[2] },
        })
        .collect();
    StoreLayout::build(&rows, &facings, &[]).map_err(|e| bad(format!("layout: {e}")))
}

pub(crate) fn put_layout(tx: &mut dyn Tx, location_id: &str, l: &LayoutInput, now: i64) -> Result<()> {
    let loc = crate::catalog::locations::get(tx, location_id)?
        .ok_or_else(|| EngineError::not_found("location", location_id))?;
    if loc.kind != "cashierless" {
        return Err(EngineError::invalid("not_cashierless", format!("{} is not a cashierless store", loc.code)));
    }
    check_layout(tx, l)?;
    to_instore(l)?;
    let json = serde_json::to_string(l).map_err(|e| bad(e.to_string()))?;
    tx.exec(
        "INSERT INTO store_layouts (location_id, layout, updated_at) VALUES (?, ?, ?) ON CONFLICT (location_id) DO UPDATE SET layout = excluded.layout, updated_at = excluded.updated_at",
        params![location_id, &json, now],
    )?;
    crate::platform::events::emit(
        tx,
        "instore.layout_updated",
        location_id,
        &serde_json::json!({"location_id": location_id, "plates": l.plates.len(), "facings": l.facings.len()}),
        now,
    )
}

pub(crate) fn get_layout(tx: &mut dyn Tx, location_id: &str) -> Result<Option<LayoutInput>> {
    match tx.query_opt("SELECT layout FROM store_layouts WHERE location_id = ?", params![location_id])? {
        Some(r) => Ok(Some(
            serde_json::from_str(&r.text(0)?).map_err(|e| crate::error::internal(format!("stored layout: {e}")))?,
        )),
        None => Ok(None),
    }
}
