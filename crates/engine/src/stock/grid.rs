//! The inventory grid the console shows: a page of SKUs, each with its balance at every location, found by
//! SKU prefix or title and narrowed to what is running low. Reads only; keyset-paged by SKU, so page 200 of
//! 10,000 SKUs costs what page 1 costs.

use super::movements::Level;
use crate::catalog::products::Localized;
use crate::Result;
use serde::Serialize;
use store::{Tx, Val};

/// A SKU is low at a location when this many units or fewer can still be promised there.
pub const LOW_STOCK_UNITS: i64 = 3;

#[derive(Debug, Clone, Default)]
pub struct GridQuery {
    /// The last SKU of the previous page.
    pub after: Option<String>,
    pub limit: usize,
    /// A SKU prefix or words of the title (Korean or English).
    pub search: Option<String>,
    /// Only this location's column decides `low_only`.
    pub location_id: Option<String>,
    /// Only SKUs low somewhere (or at `location_id`).
    pub low_only: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct GridLocation {
    pub id: String,
    pub code: String,
    pub name: Localized,
}

#[derive(Debug, Clone, Serialize)]
pub struct GridRow {
    pub sku: String,
    pub product_id: String,
    pub title: Localized,
    /// One cell per [`Grid::locations`], in the same order (`None`: never stocked there).
    pub cells: Vec<Option<Level>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Grid {
    pub locations: Vec<GridLocation>,
    pub rows: Vec<GridRow>,
    pub has_more: bool,
}

/// `%`, `_` and `\` typed by a person are literal characters, not wildcards.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) fn grid(tx: &mut dyn Tx, q: &GridQuery) -> Result<Grid> {
    let locations = tx
        .query("SELECT id, code, name_ko, name_en FROM locations ORDER BY code", &[])?
        .iter()
        .map(|r| -> Result<GridLocation> {
            Ok(GridLocation { id: r.text(0)?, code: r.text(1)?, name: Localized { ko: r.text(2)?, en: r.text(3)? } })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut sql = String::from(
        "SELECT v.sku, p.id, p.title_ko, p.title_en FROM variants v JOIN products p ON p.id = v.product_id WHERE p.status <> 'archived'",
    );
    let mut ps: Vec<Val> = Vec::new();
    if let Some(a) = &q.after {
        sql.push_str(" AND v.sku > ?");
        ps.push(a.into());
    }
    if let Some(s) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let like = format!("%{}%", like_escape(&s.to_lowercase()));
        sql.push_str(
            " AND (v.sku LIKE ? ESCAPE '\\' OR LOWER(p.title_en) LIKE ? ESCAPE '\\' OR p.title_ko LIKE ? ESCAPE '\\')",
        );
        ps.push(format!("{}%", like_escape(&s.to_uppercase())).into());
        ps.push(like.clone().into());
        ps.push(like.into());
    }
    if q.low_only {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM stock_levels s WHERE s.sku = v.sku AND s.on_hand - s.reserved - s.safety_stock <= ?",
        );
        ps.push(LOW_STOCK_UNITS.into());
        if let Some(l) = &q.location_id {
            sql.push_str(" AND s.location_id = ?");
            ps.push(l.into());
        }
        sql.push(')');
    }
    sql.push_str(" ORDER BY v.sku LIMIT ?");
    ps.push(((q.limit + 1) as i64).into());
    let mut rows = tx
        .query(&sql, &ps)?
        .iter()
        .map(|r| -> Result<GridRow> {
            Ok(GridRow {
                sku: r.text(0)?,
                product_id: r.text(1)?,
                title: Localized { ko: r.text(2)?, en: r.text(3)? },
                cells: vec![None; locations.len()],
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let has_more = rows.len() > q.limit;
    rows.truncate(q.limit);
    if !rows.is_empty() {
        // One read for the page's balances.
        let marks = vec!["?"; rows.len()].join(", ");
        let skus: Vec<Val> = rows.iter().map(|r| r.sku.as_str().into()).collect();
        let levels = tx.query(
            &format!(
                "SELECT sku, location_id, on_hand, reserved, safety_stock, unsellable FROM stock_levels WHERE sku IN ({marks})"
            ),
            &skus,
        )?;
        let row_of: std::collections::HashMap<String, usize> =
            rows.iter().enumerate().map(|(i, r)| (r.sku.clone(), i)).collect();
        let col_of: std::collections::HashMap<&str, usize> =
            locations.iter().enumerate().map(|(i, l)| (l.id.as_str(), i)).collect();
        for l in levels {
            let (sku, loc) = (l.text(0)?, l.text(1)?);
            if let (Some(&r), Some(&c)) = (row_of.get(&sku), col_of.get(loc.as_str())) {
                rows[r].cells[c] = Some(Level::new(l.i64(2)?, l.i64(3)?, l.i64(4)?, l.i64(5)?));
            }
        }
    }
    Ok(Grid { locations, rows, has_more })
}

#[cfg(test)]
mod tests {
    #[test]
    fn typed_wildcards_are_literal() {
        assert_eq!(super::like_escape("50%_off\\"), "50\\%\\_off\\\\");
    }
}
