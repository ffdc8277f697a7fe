//! Shopify's product CSV export: a product's rows share its handle, options become attributes, HTML
//! descriptions become text, weights become grams.

use super::own::{parse_price, parse_sku};
use super::{
    check_quotes, invalid, short, CsvError, Problems, ReadProduct, Row, Sheet, MAX_DESCRIPTION_CHARS, MAX_PROBLEMS,
    MAX_SKU_CHARS,
};
use crate::{ProductInput, VariantInput, MAX_VARIANTS};
use domain::stock::validate_gtin;
use std::collections::{BTreeMap, HashMap};

const S_HANDLE: &str = "Handle";
const S_TITLE: &str = "Title";
const S_BODY: &str = "Body (HTML)";
const S_VENDOR: &str = "Vendor";
const S_PRODUCT_CATEGORY: &str = "Product Category";
const S_TYPE: &str = "Type";
const S_PUBLISHED: &str = "Published";
const S_OPTION_NAMES: [&str; 3] = ["Option1 Name", "Option2 Name", "Option3 Name"];
const S_OPTION_VALUES: [&str; 3] = ["Option1 Value", "Option2 Value", "Option3 Value"];
const S_SKU: &str = "Variant SKU";
const S_GRAMS: &str = "Variant Grams";
const S_WEIGHT: &str = "Variant Weight";
const S_WEIGHT_UNIT: &str = "Variant Weight Unit";
const S_PRICE: &str = "Variant Price";
const S_BARCODE: &str = "Variant Barcode";
const S_STATUS: &str = "Status";

/// The Shopify columns read; every other column is ignored.
const SHOPIFY_COLUMNS: [&str; 21] = [
    S_HANDLE,
    S_TITLE,
    S_BODY,
    S_VENDOR,
    S_PRODUCT_CATEGORY,
    S_TYPE,
    S_PUBLISHED,
    S_OPTION_NAMES[0],
    S_OPTION_VALUES[0],
    S_OPTION_NAMES[1],
    S_OPTION_VALUES[1],
    S_OPTION_NAMES[2],
    S_OPTION_VALUES[2],
    S_SKU,
    S_GRAMS,
    S_WEIGHT,
    S_WEIGHT_UNIT,
    S_PRICE,
    S_BARCODE,
    S_STATUS,
    "Image Src",
];
const SHOPIFY_REQUIRED: [&str; 3] = [S_HANDLE, S_TITLE, S_PRICE];

struct ShopifyHeader {
    pos: HashMap<&'static str, usize>,
    names: Vec<String>,
}

impl ShopifyHeader {
    fn parse(names: &[String]) -> Result<ShopifyHeader, CsvError> {
        let mut pos = HashMap::new();
        for (i, name) in names.iter().enumerate() {
            if let Some(key) = SHOPIFY_COLUMNS.iter().find(|k| k.eq_ignore_ascii_case(name)) {
                if pos.insert(*key, i).is_some() {
                    return Err(CsvError::DuplicateColumn { column: name.clone() });
                }
            }
        }
        let missing: Vec<String> =
            SHOPIFY_REQUIRED.iter().filter(|k| !pos.contains_key(*k)).map(|k| (*k).to_owned()).collect();
        if !missing.is_empty() {
            return Err(CsvError::MissingColumns { columns: missing });
        }
        Ok(ShopifyHeader { pos, names: names.to_vec() })
    }

    fn get<'a>(&self, row: &'a Row, key: &str) -> &'a str {
        self.pos.get(key).and_then(|&i| row.cells.get(i)).map(String::as_str).unwrap_or("")
    }

    fn has(&self, key: &str) -> bool {
        self.pos.contains_key(key)
    }

    /// The column's name as written in the file, for messages.
    fn name(&self, key: &str) -> String {
        self.pos.get(key).and_then(|&i| self.names.get(i)).cloned().unwrap_or_else(|| key.to_owned())
    }
}

struct ShopifyProduct {
    raw_handle: String,
    first_line: u64,
    option_names: [String; 3],
    input: ProductInput,
}

/// Shopify's product CSV export (Admin → Products → Export → "CSV for Excel, Numbers, or other spreadsheet programs").
pub fn read_shopify_all(bytes: &[u8], currency: domain::Currency) -> Result<Vec<ReadProduct>, Problems> {
    check_quotes(bytes).map_err(|e| Problems(vec![e]))?;
    let mut sheet = Sheet::open(bytes).map_err(|e| Problems(vec![e]))?;
    let h = ShopifyHeader::parse(&sheet.names).map_err(|e| Problems(vec![e]))?;
    let mut problems: Vec<CsvError> = Vec::new();
    let mut products: Vec<ShopifyProduct> = Vec::new();
    let mut by_handle: HashMap<String, usize> = HashMap::new();
    let mut skus: HashMap<String, u64> = HashMap::new();

    loop {
        let row = match sheet.next_row() {
            Ok(None) => break,
            Ok(Some(Ok(row))) => row,
            Ok(Some(Err(e))) => {
                problems.push(e);
                continue;
            }
            Err(e) => {
                problems.push(e);
                break;
            }
        };
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
        let outcome = (|| -> Result<(), CsvError> {
            let line = row.line;
            let raw_handle = h.get(&row, S_HANDLE);
            if raw_handle.is_empty() {
                return Err(invalid(line, &h.name(S_HANDLE), "must not be empty"));
            }
            let handle = shopify_handle(raw_handle);
            let idx = match by_handle.get(&handle) {
                Some(&idx) => {
                    let p = &products[idx];
                    if p.raw_handle.to_lowercase() != raw_handle.to_lowercase() {
                        return Err(invalid(
                        line,
                        &h.name(S_HANDLE),
                        format!(
                            "`{}` becomes handle `{handle}`, the same as `{}` on line {}; give one of them another handle",
                            short(raw_handle),
                            short(&p.raw_handle),
                            p.first_line
                        ),
                    ));
                    }
                    let is_variant = !h.get(&row, S_SKU).is_empty()
                        || !h.get(&row, S_PRICE).is_empty()
                        || S_OPTION_VALUES.iter().any(|k| !h.get(&row, k).is_empty());
                    if !is_variant {
                        return Ok(()); // an image-only row (or another row without variant data)
                    }
                    idx
                }
                None => {
                    let title = h.get(&row, S_TITLE);
                    if title.is_empty() {
                        return Err(invalid(
                            line,
                            &h.name(S_TITLE),
                            format!("the first row of product `{}` must have a title", short(raw_handle)),
                        ));
                    }
                    let description = html_to_text(h.get(&row, S_BODY));
                    products.push(ShopifyProduct {
                        raw_handle: raw_handle.to_owned(),
                        first_line: line,
                        option_names: S_OPTION_NAMES.map(|k| h.get(&row, k).to_owned()),
                        input: ProductInput {
                            handle: handle.clone(),
                            title_ko: title.to_owned(),
                            title_en: title.to_owned(),
                            description_ko: description.clone(),
                            description_en: description,
                            category: shopify_category(h.get(&row, S_TYPE), h.get(&row, S_PRODUCT_CATEGORY)),
                            vendor: h.get(&row, S_VENDOR).to_owned(),
                            status: shopify_status(&h, &row)?,
                            variants: Vec::new(),
                        },
                    });
                    by_handle.insert(handle, products.len() - 1);
                    products.len() - 1
                }
            };

            let p = &products[idx];
            let n = p.input.variants.len() + 1;
            if n > MAX_VARIANTS {
                return Err(invalid(
                    line,
                    &h.name(S_SKU),
                    format!("product `{}` has more than {MAX_VARIANTS} variants", p.input.handle),
                ));
            }
            let mut attributes = BTreeMap::new();
            for k in 0..3 {
                let value = h.get(&row, S_OPTION_VALUES[k]);
                if value.is_empty() || value.eq_ignore_ascii_case("Default Title") {
                    continue; // Shopify's placeholder for a product without options
                }
                let name = if p.option_names[k].is_empty() {
                    h.get(&row, S_OPTION_NAMES[k])
                } else {
                    p.option_names[k].as_str()
                };
                if name.is_empty() {
                    return Err(invalid(
                        line,
                        &h.name(S_OPTION_VALUES[k]),
                        format!(
                            "`{}` has no `{}` on the product's first row (line {})",
                            short(value),
                            S_OPTION_NAMES[k],
                            p.first_line
                        ),
                    ));
                }
                let key = name.to_lowercase();
                if attributes.insert(key.clone(), value.to_owned()).is_some() {
                    return Err(invalid(
                        line,
                        &h.name(S_OPTION_NAMES[k]),
                        format!("option `{}` is named twice", short(&key)),
                    ));
                }
            }
            let sku_raw = h.get(&row, S_SKU).trim_start_matches('\'').trim();
            let sku = if sku_raw.is_empty() { generated_sku(&p.input.handle, n) } else { sku_raw.to_owned() };
            let sku = parse_sku(&sku, line, &h.name(S_SKU), &mut skus)?;
            let weight_g = shopify_weight(&h, &row)?;
            let barcode = h.get(&row, S_BARCODE).trim_start_matches('\'').trim();
            // Shopify's barcode is free text; only a real GTIN (right length, digits, check digit) is kept.
            let gtin = validate_gtin(barcode).ok().map(|_| barcode.to_owned());
            let price = h.get(&row, S_PRICE);
            if price.is_empty() {
                return Err(invalid(line, &h.name(S_PRICE), format!("variant `{sku}` has no price")));
            }
            let price = parse_price(price, currency, line, &h.name(S_PRICE))?;
            products[idx].input.variants.push(VariantInput { sku, gtin, weight_g, attributes, prices: vec![price] });
            Ok(())
        })();
        if let Err(e) = outcome {
            problems.push(e);
        }
    }
    if !problems.is_empty() {
        problems.truncate(MAX_PROBLEMS);
        return Err(Problems(problems));
    }
    Ok(products.into_iter().map(|p| ReadProduct { line: p.first_line, product: p.input }).collect())
}

/// Shopify's product CSV: every product, or the first problem ([`read_shopify_all`] reports all).
pub fn read_shopify<R: std::io::Read>(
    mut r: R,
    currency: domain::Currency,
) -> Result<Vec<crate::ProductInput>, CsvError> {
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes).map_err(|e| CsvError::Read { line: 1, message: e.to_string() })?;
    read_shopify_all(&bytes, currency)
        .map(|ps| ps.into_iter().map(|p| p.product).collect())
        .map_err(|mut p| p.0.remove(0))
}

/// Lowercased; every character other than a–z, 0–9, `-` and `_` becomes `-`.
fn shopify_handle(raw: &str) -> String {
    raw.to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' { c } else { '-' })
        .collect()
}

/// `{HANDLE}-{n}` in A–Z, 0–9 and `-`, the handle part cut so the whole fits a SKU's 64 characters.
fn generated_sku(handle: &str, n: usize) -> String {
    let suffix = format!("-{n}");
    let mut base: String = handle
        .to_ascii_uppercase()
        .chars()
        .filter(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '-')
        .take(MAX_SKU_CHARS.saturating_sub(suffix.len()))
        .collect();
    if base.is_empty() {
        base.push_str("SKU");
    }
    format!("{base}{suffix}")
}

/// "Type" lowercased with spaces as `-`; else the last segment of "Product Category" (`A > B > Mugs`) the
/// same way; else `uncategorized`.
fn shopify_category(kind: &str, product_category: &str) -> String {
    let slug = |s: &str| s.to_lowercase().split_whitespace().collect::<Vec<_>>().join("-");
    if !kind.is_empty() {
        return slug(kind);
    }
    match product_category.rsplit('>').next().map(str::trim) {
        Some(last) if !last.is_empty() => slug(last),
        _ => "uncategorized".to_owned(),
    }
}

fn shopify_status(h: &ShopifyHeader, row: &Row) -> Result<Option<String>, CsvError> {
    let status = h.get(row, S_STATUS).to_lowercase();
    match status.as_str() {
        "active" | "draft" | "archived" => return Ok(Some(status)),
        "" => {}
        _ => {
            return Err(invalid(
                row.line,
                &h.name(S_STATUS),
                format!("`{}` is not active, draft or archived", short(&status)),
            ))
        }
    }
    match h.get(row, S_PUBLISHED).to_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(Some("active".into())),
        "false" | "no" | "0" => Ok(Some("draft".into())),
        "" => Ok(None),
        other => Err(invalid(row.line, &h.name(S_PUBLISHED), format!("`{}` is not true or false", short(other)))),
    }
}

/// "Variant Grams", or when that is absent or blank, "Variant Weight" in "Variant Weight Unit".
fn shopify_weight(h: &ShopifyHeader, row: &Row) -> Result<i64, CsvError> {
    let grams = h.get(row, S_GRAMS);
    if !grams.is_empty() {
        return decimal_to_grams(grams, 1.0).ok_or_else(|| {
            invalid(row.line, &h.name(S_GRAMS), format!("`{}` is not a weight in grams", short(grams)))
        });
    }
    let weight = h.get(row, S_WEIGHT);
    if weight.is_empty() {
        return Ok(0);
    }
    let unit = h.get(row, S_WEIGHT_UNIT);
    let factor = match unit.to_ascii_lowercase().as_str() {
        "g" => 1.0,
        "kg" => 1000.0,
        "lb" | "lbs" => 453.592_37,
        "oz" => 28.349_523_125,
        _ => {
            let col = if h.has(S_WEIGHT_UNIT) { h.name(S_WEIGHT_UNIT) } else { S_WEIGHT_UNIT.to_owned() };
            return Err(invalid(row.line, &col, format!("`{}` is not a weight unit (g, kg, lb or oz)", short(unit))));
        }
    };
    decimal_to_grams(weight, factor)
        .ok_or_else(|| invalid(row.line, &h.name(S_WEIGHT), format!("`{}` is not a weight", short(weight))))
}

/// A non-negative decimal (`0.5`, `1,200`) times `factor`, rounded to whole grams.
fn decimal_to_grams(v: &str, factor: f64) -> Option<i64> {
    let t = v.trim().replace(',', "");
    let digits = t.chars().filter(|c| c.is_ascii_digit()).count();
    let dots = t.chars().filter(|c| *c == '.').count();
    if digits == 0 || dots > 1 || digits + dots != t.len() {
        return None;
    }
    let g = t.parse::<f64>().ok()? * factor;
    // `as` saturates; products::validate rejects absurd weights with its own message.
    g.is_finite().then(|| g.round() as i64)
}

/// Plain text from Shopify's "Body (HTML)": tags dropped (block tags leave a space, `<script>`/`<style>`
/// contents go too), common entities decoded, whitespace collapsed, cut to 10,000 characters.
pub(super) fn html_to_text(html: &str) -> String {
    const BLOCK: [&str; 27] = [
        "p",
        "br",
        "div",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "td",
        "th",
        "table",
        "blockquote",
        "hr",
        "section",
        "article",
        "header",
        "footer",
        "pre",
        "dt",
        "dd",
        "img",
        "tbody",
    ];
    let mut text = String::with_capacity(html.len());
    let mut i = 0;
    while let Some(rel) = html[i..].find('<') {
        let lt = i + rel;
        text.push_str(&html[i..lt]);
        let after = &html[lt + 1..];
        let starts_tag = after.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'));
        if !starts_tag {
            text.push('<');
            i = lt + 1;
            continue;
        }
        if let Some(comment) = after.strip_prefix("!--") {
            text.push(' ');
            match comment.find("-->") {
                Some(e) => i = lt + 4 + e + 3,
                None => return finish_text(&text),
            }
            continue;
        }
        let Some(end) = tag_end(after) else { return finish_text(&text) };
        let tag = &after[..end];
        i = lt + 1 + end + 1;
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if !tag.starts_with('/') && (name == "script" || name == "style") {
            // Skip to the closing tag; its own `<` is handled by the next round.
            let close = format!("</{name}");
            match html[i..].to_ascii_lowercase().find(&close) {
                Some(c) => i += c,
                None => return finish_text(&text),
            }
            text.push(' ');
            continue;
        }
        if BLOCK.contains(&name.as_str()) {
            text.push(' ');
        }
    }
    text.push_str(&html[i..]);
    finish_text(&text)
}

/// Index in `s` (just after a `<`) of the `>` that ends the tag, skipping quoted attribute values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn finish_text(stripped: &str) -> String {
    let decoded = decode_entities(stripped);
    let collapsed = decoded
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    collapsed.chars().take(MAX_DESCRIPTION_CHARS).collect::<String>().trim_end().to_owned()
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        // Entity names are short; looking further would make text full of `&` quadratic.
        let semi = after.bytes().take(12).position(|b| b == b';');
        let decoded = semi.and_then(|n| {
            let name = &after[..n];
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "#39" | "apos" => '\'',
                "nbsp" => ' ',
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse::<u32>().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, n))
        });
        match decoded {
            Some((c, n)) => {
                out.push(c);
                rest = &after[n + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
