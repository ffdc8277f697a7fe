//! Receipts: the engine's per-shopper output and the simulator's truth, as JSON lines
//! `{"target_id":"…","items":[{"barcode":"…","quantity":N}]}` (items sorted by barcode,
//! quantity ≥ 1). Owns serialisation and a strict reader.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Largest receipts file accepted (bytes) and lines.
pub const MAX_RECEIPTS_BYTES: u64 = 256 << 20;
pub const MAX_RECEIPTS: usize = 1_000_000;
/// Largest quantity of one receipt line.
pub const MAX_LINE_QUANTITY: u32 = 10_000;

/// One line of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct ReceiptLine {
    pub barcode: String,
    pub quantity: u32,
}

/// One shopper's receipt. `pending_reviews` is serialised only when non-zero.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Receipt {
    pub target_id: String,
    pub items: Vec<ReceiptLine>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pending_reviews: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Receipt {
    /// Builds a receipt from (barcode, quantity) pairs: merges duplicates, drops quantity ≤ 0,
    /// sorts by barcode.
    pub fn from_counts(target_id: impl Into<String>, counts: impl IntoIterator<Item = (String, i64)>) -> Self {
        let mut m: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
        for (b, q) in counts {
            *m.entry(b).or_insert(0) += q;
        }
        let items = m
            .into_iter()
            .filter(|(_, q)| *q > 0)
            .map(|(barcode, q)| ReceiptLine { barcode, quantity: q as u32 })
            .collect();
        Receipt { target_id: target_id.into(), items, pending_reviews: 0 }
    }
    /// One JSON line (no trailing newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("receipt serialises")
    }
}

/// Serialises receipts as JSON lines.
pub fn to_jsonl(receipts: &[Receipt]) -> String {
    let mut s = String::new();
    for r in receipts {
        s.push_str(&r.to_json_line());
        s.push('\n');
    }
    s
}

/// Writes receipts as JSON lines.
pub fn write_jsonl(path: &Path, receipts: &[Receipt]) -> Result<()> {
    let mut f = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(to_jsonl(receipts).as_bytes()).map_err(|e| Error::io(path, e))
}

/// Parses JSON-lines receipts; `path` is used in error messages only.
pub fn parse_jsonl(path: &Path, text: &str) -> Result<Vec<Receipt>> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        if out.len() >= MAX_RECEIPTS {
            return Err(Error::limit(
                format!("{} receipts", path.display()),
                MAX_RECEIPTS as u64,
                out.len() as u64 + 1,
            ));
        }
        let r: Receipt =
            serde_json::from_str(line).map_err(|e| Error::parse(path, line_no, None, format!("not a receipt: {e}")))?;
        if r.target_id.is_empty() {
            return Err(Error::parse(path, line_no, Some("target_id"), "empty target id"));
        }
        if !seen.insert(r.target_id.clone()) {
            return Err(Error::parse(
                path,
                line_no,
                Some("target_id"),
                format!("target {} has two receipts", r.target_id),
            ));
        }
        let mut barcodes = std::collections::HashSet::new();
        for it in &r.items {
            if it.quantity == 0 || it.quantity > MAX_LINE_QUANTITY {
                return Err(Error::parse(
                    path,
                    line_no,
                    Some("quantity"),
                    format!("{} is outside 1..={MAX_LINE_QUANTITY}", it.quantity),
                ));
            }
            if !barcodes.insert(it.barcode.as_str()) {
                return Err(Error::parse(
                    path,
                    line_no,
                    Some("barcode"),
                    format!("barcode {} listed twice", it.barcode),
                ));
            }
        }
        out.push(r);
    }
    Ok(out)
}

/// Reads a JSON-lines receipts file (`truth.jsonl` or replay output).
pub fn read_jsonl(path: &Path) -> Result<Vec<Receipt>> {
    let f = std::fs::File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::MissingFile { path: path.to_path_buf() }
        } else {
            Error::io(path, e)
        }
    })?;
    let size = f.metadata().map_err(|e| Error::io(path, e))?.len();
    if size > MAX_RECEIPTS_BYTES {
        return Err(Error::limit(format!("{} size in bytes", path.display()), MAX_RECEIPTS_BYTES, size));
    }
    let mut text = String::new();
    for line in BufReader::new(f).lines() {
        text.push_str(&line.map_err(|e| Error::io(path, e))?);
        text.push('\n');
    }
    parse_jsonl(path, &text)
}
