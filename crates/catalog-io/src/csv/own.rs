//! borderless's own catalog CSV: one row per variant, product columns repeated on every row of a product,
//! prices in `price_<CUR>` columns, attributes as `name=value; …`.

use super::{check_quotes, invalid, short, CsvError, Problems, ReadProduct, Row, Sheet, MAX_PROBLEMS, UTF8_BOM};
use crate::{PriceInput, ProductInput, VariantInput, MAX_ATTRIBUTES, MAX_VARIANTS};
use domain::stock::validate_gtin;
use domain::{Currency, Money, Sku};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Col {
    Handle,
    TitleKo,
    TitleEn,
    DescriptionKo,
    DescriptionEn,
    Category,
    Vendor,
    Status,
    Sku,
    Gtin,
    WeightG,
    Attributes,
    Price(Currency),
}

pub(super) const FIXED_COLUMNS: [(&str, Col); 12] = [
    ("handle", Col::Handle),
    ("title_ko", Col::TitleKo),
    ("title_en", Col::TitleEn),
    ("description_ko", Col::DescriptionKo),
    ("description_en", Col::DescriptionEn),
    ("category", Col::Category),
    ("vendor", Col::Vendor),
    ("status", Col::Status),
    ("sku", Col::Sku),
    ("gtin", Col::Gtin),
    ("weight_g", Col::WeightG),
    ("attributes", Col::Attributes),
];

/// Columns every file must have (plus at least one `price_xxx`).
const REQUIRED_COLUMNS: [Col; 5] = [Col::Handle, Col::TitleKo, Col::TitleEn, Col::Category, Col::Sku];
/// Product-level columns: taken from a product's first row; later rows may leave them blank.
const PRODUCT_COLUMNS: [Col; 7] =
    [Col::TitleKo, Col::TitleEn, Col::DescriptionKo, Col::DescriptionEn, Col::Category, Col::Vendor, Col::Status];
/// Product-level columns a product's first row must fill.
const REQUIRED_PRODUCT_VALUES: [Col; 3] = [Col::TitleKo, Col::TitleEn, Col::Category];

fn fixed_name(col: Col) -> &'static str {
    FIXED_COLUMNS.iter().find(|(_, c)| *c == col).map(|(n, _)| *n).unwrap_or("price")
}

fn parse_own_column(name: &str) -> Option<Col> {
    let lc = name.to_ascii_lowercase();
    if let Some((_, c)) = FIXED_COLUMNS.iter().find(|(n, _)| *n == lc) {
        return Some(*c);
    }
    let code = lc.strip_prefix("price_")?;
    if code.len() != 3 {
        return None;
    }
    Currency::parse(code).ok().map(Col::Price)
}

pub(super) fn own_columns_hint() -> String {
    let fixed = FIXED_COLUMNS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    let cur = Currency::ALL.iter().map(|c| c.code()).collect::<Vec<_>>().join(", ");
    format!("the columns are {fixed} and price_<currency> for {cur}")
}

struct OwnHeader {
    pos: HashMap<Col, usize>,
    /// Price columns ordered by currency code, so prices come out in the order the catalog lists them.
    prices: Vec<(Currency, usize)>,
}

impl OwnHeader {
    fn parse(names: &[String]) -> Result<OwnHeader, CsvError> {
        let mut pos = HashMap::new();
        let mut unknown = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if name.is_empty() {
                continue; // an unnamed column is allowed as long as it stays empty (Sheet::next_row checks)
            }
            match parse_own_column(name) {
                Some(col) => {
                    if pos.insert(col, i).is_some() {
                        return Err(CsvError::DuplicateColumn { column: name.clone() });
                    }
                }
                None => unknown.push(name.clone()),
            }
        }
        if !unknown.is_empty() {
            return Err(CsvError::UnknownColumns { columns: unknown, hint: own_columns_hint() });
        }
        let mut missing: Vec<String> =
            REQUIRED_COLUMNS.iter().filter(|c| !pos.contains_key(c)).map(|c| fixed_name(*c).to_owned()).collect();
        let mut prices: Vec<(Currency, usize)> =
            pos.iter().filter_map(|(c, i)| if let Col::Price(cur) = c { Some((*cur, *i)) } else { None }).collect();
        prices.sort_by_key(|(c, _)| c.code());
        if prices.is_empty() {
            missing.push("price_<currency> (e.g. price_krw)".into());
        }
        if !missing.is_empty() {
            return Err(CsvError::MissingColumns { columns: missing });
        }
        Ok(OwnHeader { pos, prices })
    }

    fn get<'a>(&self, row: &'a Row, col: Col) -> &'a str {
        unguard(self.pos.get(&col).and_then(|&i| row.cells.get(i)).map(String::as_str).unwrap_or(""))
    }
}

struct OwnProduct {
    first_line: u64,
    /// The first row's value of each of `PRODUCT_COLUMNS`.
    first: Vec<String>,
    input: ProductInput,
}

/// Whether a later row's product-level value agrees with the first row's.
fn same_product_value(col: Col, a: &str, b: &str) -> bool {
    match col {
        Col::Status | Col::Category => a.to_lowercase() == b.to_lowercase(),
        _ => a == b,
    }
}

/// borderless's own format, one row per variant.
pub fn read_catalog_all(bytes: &[u8]) -> Result<Vec<ReadProduct>, Problems> {
    check_quotes(bytes).map_err(|e| Problems(vec![e]))?;
    let mut sheet = Sheet::open(bytes).map_err(|e| Problems(vec![e]))?;
    let header = OwnHeader::parse(&sheet.names).map_err(|e| Problems(vec![e]))?;
    let mut problems: Vec<CsvError> = Vec::new();
    let colname = |sheet: &Sheet<&[u8]>, col: Col| header.pos.get(&col).map(|&i| sheet.column(i)).unwrap_or_default();
    let mut products: Vec<OwnProduct> = Vec::new();
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
            let handle = header.get(&row, Col::Handle).to_lowercase();
            if handle.is_empty() {
                return Err(invalid(
                    line,
                    &colname(&sheet, Col::Handle),
                    "must not be empty; the rows of one product share a handle",
                ));
            }
            let idx = match by_handle.get(&handle) {
                Some(&idx) => {
                    let p = &products[idx];
                    for (k, col) in PRODUCT_COLUMNS.iter().enumerate() {
                        let v = header.get(&row, *col);
                        let first = &p.first[k];
                        if !v.is_empty() && !same_product_value(*col, v, first) {
                            let was = if first.is_empty() {
                                "leaves it blank".to_owned()
                            } else {
                                format!("has `{}`", short(first))
                            };
                            return Err(invalid(
                                line,
                                &colname(&sheet, *col),
                                format!(
                                    "`{}` differs from the first row of product `{handle}` (line {}), which {was}; \
                                 product fields are taken from a product's first row",
                                    short(v),
                                    p.first_line
                                ),
                            ));
                        }
                    }
                    idx
                }
                None => {
                    for col in REQUIRED_PRODUCT_VALUES {
                        if header.get(&row, col).is_empty() {
                            return Err(invalid(
                                line,
                                &colname(&sheet, col),
                                format!("must not be empty on the first row of product `{handle}`"),
                            ));
                        }
                    }
                    let status = header.get(&row, Col::Status).to_lowercase();
                    if !status.is_empty() && !matches!(status.as_str(), "active" | "draft" | "archived") {
                        return Err(invalid(
                            line,
                            &colname(&sheet, Col::Status),
                            format!("`{}` is not active, draft or archived", short(&status)),
                        ));
                    }
                    let g = |col| header.get(&row, col).to_owned();
                    products.push(OwnProduct {
                        first_line: line,
                        first: PRODUCT_COLUMNS.iter().map(|c| g(*c)).collect(),
                        input: ProductInput {
                            handle: handle.clone(),
                            title_ko: g(Col::TitleKo),
                            title_en: g(Col::TitleEn),
                            description_ko: g(Col::DescriptionKo),
                            description_en: g(Col::DescriptionEn),
                            category: g(Col::Category),
                            vendor: g(Col::Vendor),
                            status: if status.is_empty() { None } else { Some(status) },
                            variants: Vec::new(),
                        },
                    });
                    by_handle.insert(handle.clone(), products.len() - 1);
                    products.len() - 1
                }
            };

            // The variant.
            let sku_col = colname(&sheet, Col::Sku);
            let sku = parse_sku(header.get(&row, Col::Sku), line, &sku_col, &mut skus)?;
            let gtin = match header.get(&row, Col::Gtin) {
                "" => None,
                g => {
                    validate_gtin(g).map_err(|e| invalid(line, &colname(&sheet, Col::Gtin), e))?;
                    Some(g.to_owned())
                }
            };
            let weight_g = match header.get(&row, Col::WeightG) {
                "" => 0,
                w => parse_whole(w).ok_or_else(|| {
                    invalid(
                        line,
                        &colname(&sheet, Col::WeightG),
                        format!("`{}` is not a whole number of grams", short(w)),
                    )
                })?,
            };
            let attributes = parse_attributes(header.get(&row, Col::Attributes))
                .map_err(|e| invalid(line, &colname(&sheet, Col::Attributes), e))?;
            if attributes.len() > MAX_ATTRIBUTES {
                return Err(invalid(
                    line,
                    &colname(&sheet, Col::Attributes),
                    format!("{} attributes; at most {MAX_ATTRIBUTES} are allowed", attributes.len()),
                ));
            }
            let mut prices = Vec::new();
            for &(cur, i) in &header.prices {
                let v = row.cells.get(i).map(String::as_str).unwrap_or("");
                if !v.is_empty() {
                    prices.push(parse_price(v, cur, line, &sheet.column(i))?);
                }
            }
            if prices.is_empty() {
                return Err(invalid(
                    line,
                    &sheet.column(header.prices[0].1),
                    format!("variant `{sku}` needs a price in at least one price_<currency> column"),
                ));
            }
            let p = &mut products[idx].input;
            if p.variants.len() >= MAX_VARIANTS {
                return Err(invalid(
                    line,
                    &sku_col,
                    format!("product `{}` has more than {MAX_VARIANTS} variants", p.handle),
                ));
            }
            p.variants.push(VariantInput { sku, gtin, weight_g, attributes, prices });
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

/// borderless's own catalog CSV: every product, or the first problem ([`read_catalog_all`] reports all).
pub fn read_catalog<R: std::io::Read>(mut r: R) -> Result<Vec<crate::ProductInput>, CsvError> {
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes).map_err(|e| CsvError::Read { line: 1, message: e.to_string() })?;
    read_catalog_all(&bytes).map(|ps| ps.into_iter().map(|p| p.product).collect()).map_err(|mut p| p.0.remove(0))
}

/// Checks a SKU and that no earlier row of the file used it.
pub(super) fn parse_sku(v: &str, line: u64, column: &str, seen: &mut HashMap<String, u64>) -> Result<String, CsvError> {
    if v.is_empty() {
        return Err(invalid(line, column, "must not be empty"));
    }
    let sku = Sku::parse(v).map_err(|e| invalid(line, column, e))?.as_str().to_owned();
    if let Some(first) = seen.insert(sku.clone(), line) {
        return Err(invalid(line, column, format!("SKU `{sku}` already appears on line {first}")));
    }
    Ok(sku)
}

pub(super) fn parse_price(v: &str, cur: Currency, line: u64, column: &str) -> Result<PriceInput, CsvError> {
    let m = Money::parse_decimal(v, cur).map_err(|e| invalid(line, column, e.to_string()))?;
    if m.minor < 0 {
        return Err(invalid(line, column, format!("`{}` is negative", short(v))));
    }
    Ok(PriceInput { currency: cur.code().to_owned(), amount_minor: m.minor })
}

/// A non-negative whole number; `1,200` and `500.0` are accepted (spreadsheets write both).
pub(super) fn parse_whole(v: &str) -> Option<i64> {
    let t = v.trim().replace(',', "");
    let int = match t.split_once('.') {
        Some((i, f)) if f.chars().all(|c| c == '0') => i.to_owned(),
        Some(_) => return None,
        None => t,
    };
    if int.is_empty() || !int.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    int.parse().ok()
}

/// Parses `key=value;key=value`. `\;`, `\=` and `\\` escape those characters (write_catalog emits them only
/// when a name or value contains one); a backslash before anything else is kept as is.
pub(super) fn parse_attributes(s: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let (mut key, mut val, mut raw) = (String::new(), String::new(), String::new());
    let mut in_val = false;
    let mut finish = |key: &mut String, val: &mut String, raw: &mut String, in_val: &mut bool| -> Result<(), String> {
        let (k, v) = (key.trim().to_owned(), val.trim().to_owned());
        let had_val = *in_val;
        let r = std::mem::take(raw);
        key.clear();
        val.clear();
        *in_val = false;
        if !had_val {
            if k.is_empty() {
                return Ok(()); // an empty segment, e.g. a trailing `;`
            }
            return Err(format!(
                "`{}` is not `name=value` (attributes look like `size=M;color=black`)",
                short(r.trim())
            ));
        }
        if k.is_empty() {
            return Err(format!("`{}` has no attribute name before `=`", short(r.trim())));
        }
        if out.insert(k.clone(), v).is_some() {
            return Err(format!("attribute `{}` is given twice", short(&k)));
        }
        Ok(())
    };
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        let target = if in_val { &mut val } else { &mut key };
        match c {
            '\\' => match chars.next() {
                Some(e @ ('\\' | ';' | '=')) => {
                    raw.push(c);
                    raw.push(e);
                    target.push(e);
                }
                Some(e) => {
                    raw.push(c);
                    raw.push(e);
                    target.push(c);
                    target.push(e);
                }
                None => {
                    raw.push(c);
                    target.push(c);
                }
            },
            ';' => finish(&mut key, &mut val, &mut raw, &mut in_val)?,
            '=' if !in_val => {
                raw.push(c);
                in_val = true;
            }
            c => {
                raw.push(c);
                target.push(c);
            }
        }
    }
    finish(&mut key, &mut val, &mut raw, &mut in_val)?;
    Ok(out)
}

pub(super) fn escape_attr(s: &str, is_key: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\\' || c == ';' || (is_key && c == '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(super) fn format_attributes(attrs: &BTreeMap<String, String>) -> String {
    attrs
        .iter()
        .map(|(k, v)| format!("{}={}", escape_attr(k, true), escape_attr(v, false)))
        .collect::<Vec<_>>()
        .join(";")
}

/// Characters that make a spreadsheet read a cell as a formula (CSV injection, OWASP).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell as exported: one that a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+1`, `@SUM`)
/// gets a leading `'`, which spreadsheets show as text and `unguard` removes on import.
pub fn guard(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The text of a cell `guard` protected (other cells as they are).
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

pub fn write_catalog<W: std::io::Write>(mut w: W, products: &[crate::ProductView]) -> Result<(), CsvError> {
    // Price columns: KRW and USD always (so an export doubles as a template), plus every other currency used.
    let mut currencies: BTreeMap<&'static str, Currency> =
        [Currency::Krw, Currency::Usd].into_iter().map(|c| (c.code(), c)).collect();
    let mut line = 1u64;
    for p in products {
        for v in &p.variants {
            line += 1;
            for pr in &v.prices {
                let c = Currency::parse(&pr.currency)
                    .map_err(|e| invalid(line, &format!("price_{}", pr.currency.to_lowercase()), e.to_string()))?;
                currencies.insert(c.code(), c);
            }
        }
        line += u64::from(p.variants.is_empty());
    }
    let currencies: Vec<Currency> = currencies.into_values().collect();
    let price_col = |c: Currency| format!("price_{}", c.code().to_ascii_lowercase());

    let werr = |e: &dyn std::fmt::Display| CsvError::Write(e.to_string());
    w.write_all(UTF8_BOM).map_err(|e| werr(&e))?; // Excel reads Korean text correctly only with the BOM
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(w);
    let mut header: Vec<String> = FIXED_COLUMNS.iter().map(|(n, _)| (*n).to_owned()).collect();
    header.extend(currencies.iter().map(|c| price_col(*c)));
    out.write_record(&header).map_err(|e| werr(&e))?;

    let mut line = 1u64;
    let empty_variant = crate::VariantView {
        sku: String::new(),
        gtin: None,
        weight_g: 0,
        attributes: BTreeMap::new(),
        prices: Vec::new(),
    };
    for p in products {
        // A product without variants (never stored by the catalog) still gets its row; reading it back then
        // reports the missing SKU rather than losing the product silently.
        let variants = if p.variants.is_empty() { std::slice::from_ref(&empty_variant) } else { &p.variants[..] };
        for v in variants {
            line += 1;
            let mut prices: Vec<String> = vec![String::new(); currencies.len()];
            for pr in &v.prices {
                let col = format!("price_{}", pr.currency.to_lowercase());
                let c = Currency::parse(&pr.currency).map_err(|e| invalid(line, &col, e.to_string()))?;
                let Some(k) = currencies.iter().position(|x| *x == c) else { continue };
                if !prices[k].is_empty() {
                    return Err(invalid(line, &col, format!("variant `{}` has two {c} prices", v.sku)));
                }
                prices[k] = Money::new(pr.amount_minor, c).to_decimal();
            }
            let mut rec: Vec<String> = [
                p.handle.clone(),
                p.title.ko.clone(),
                p.title.en.clone(),
                p.description.ko.clone(),
                p.description.en.clone(),
                p.category.clone(),
                p.vendor.clone(),
                p.status.clone(),
                v.sku.clone(),
                v.gtin.clone().unwrap_or_default(),
                v.weight_g.to_string(),
                format_attributes(&v.attributes),
            ]
            .iter()
            .map(|c| guard(c).into_owned())
            .collect();
            rec.extend(prices);
            out.write_record(&rec).map_err(|e| werr(&e))?;
        }
    }
    out.flush().map_err(|e| werr(&e))?;
    Ok(())
}
