//! Catalog CSV import and export: borderless's own one-row-per-variant format (read and write, round-trips)
//! and Shopify's product CSV export (read). Pure: bytes in, `ProductInput`s out, no database; catalog rules
//! (text lengths, handle syntax, …) stay in `products::validate`, which importers run on every product read.
//!
//! Every error names the 1-based line and the column. Lines count CSV records the way a spreadsheet numbers
//! its rows (header = line 1), so a quoted cell that spans several text lines still counts as one line.

use crate::catalog::products::{PriceInput, ProductInput, VariantInput, MAX_ATTRIBUTES, MAX_VARIANTS};
use domain::stock::validate_gtin;
use domain::{Currency, Money, Sku};
use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};

/// Most data rows (header excluded) one file may have.
pub const MAX_ROWS: usize = 200_000;
/// Most bytes in one cell.
const MAX_FIELD_BYTES: usize = 65_536;
/// Most characters of a description taken from Shopify (`products::validate` allows 10,000).
const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// Most characters of a SKU (`domain::Sku`).
const MAX_SKU_CHARS: usize = 64;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// The bytes could not be read or decoded as CSV.
    #[error("line {line}: cannot read the CSV file: {message}")]
    Read { line: u64, message: String },
    #[error("line 1: the file is empty; a header row naming the columns is required")]
    Empty,
    #[error("line 1, {}: not a column of this format; {hint}", columns_phrase(.columns))]
    UnknownColumns { columns: Vec<String>, hint: String },
    #[error("line 1, {}: required but missing", columns_phrase(.columns))]
    MissingColumns { columns: Vec<String> },
    #[error("line 1, column `{column}`: appears more than once")]
    DuplicateColumn { column: String },
    #[error("line {line}: more than {max} rows; split the file", max = MAX_ROWS)]
    TooManyRows { line: u64 },
    #[error("line {line}, column `{column}`: the value is {bytes} bytes long; at most {max} are allowed", max = MAX_FIELD_BYTES)]
    FieldTooLong { line: u64, column: String, bytes: usize },
    /// A cell's value is wrong; `message` says why.
    #[error("line {line}, column `{column}`: {message}")]
    Invalid { line: u64, column: String, message: String },
    /// The output could not be written.
    #[error("writing CSV: {0}")]
    Write(String),
}

fn columns_phrase(columns: &[String]) -> String {
    let list = columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
    if columns.len() == 1 {
        format!("column {list}")
    } else {
        format!("columns {list}")
    }
}

fn invalid(line: u64, column: &str, message: impl Into<String>) -> CsvError {
    CsvError::Invalid { line, column: column.to_owned(), message: message.into() }
}

/// A value quoted in an error message, shortened so a 10,000-character description does not flood it.
fn short(v: &str) -> String {
    const MAX: usize = 60;
    if v.chars().count() <= MAX {
        v.to_owned()
    } else {
        format!("{}…", v.chars().take(MAX).collect::<String>())
    }
}

// ---------------------------------------------------------------------------------------------------------
// Reading: one sheet of trimmed UTF-8 cells, with the limits applied.

struct Row {
    line: u64,
    /// Trimmed cells, exactly one per header column.
    cells: Vec<String>,
}

struct Sheet<R: Read> {
    rdr: csv::Reader<std::io::Chain<Cursor<Vec<u8>>, R>>,
    /// Header names as written, trimmed, without the BOM.
    names: Vec<String>,
    line: u64,
    rows: usize,
    rec: csv::ByteRecord,
}

/// Drops a UTF-8 byte-order mark at the very start of the input (Excel's "CSV UTF-8" writes one).
fn strip_bom<R: Read>(mut r: R) -> Result<std::io::Chain<Cursor<Vec<u8>>, R>, CsvError> {
    let mut head = Vec::with_capacity(3);
    let mut buf = [0u8; 3];
    while head.len() < 3 {
        match r.read(&mut buf[..3 - head.len()]) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CsvError::Read { line: 1, message: e.to_string() }),
        }
    }
    if head == UTF8_BOM {
        head.clear();
    }
    Ok(Cursor::new(head).chain(r))
}

impl<R: Read> Sheet<R> {
    fn open(r: R) -> Result<Sheet<R>, CsvError> {
        let rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(strip_bom(r)?);
        let mut sheet = Sheet { rdr, names: Vec::new(), line: 0, rows: 0, rec: csv::ByteRecord::new() };
        if !sheet.read_record()? {
            return Err(CsvError::Empty);
        }
        let mut names = Vec::with_capacity(sheet.rec.len());
        for (i, f) in sheet.rec.iter().enumerate() {
            names.push(decode_cell(f, 1, || format!("#{}", i + 1))?);
        }
        if names.iter().all(|n| n.is_empty()) {
            return Err(CsvError::Empty);
        }
        sheet.names = names;
        Ok(sheet)
    }

    fn read_record(&mut self) -> Result<bool, CsvError> {
        let line = self.line + 1;
        let got =
            self.rdr.read_byte_record(&mut self.rec).map_err(|e| CsvError::Read { line, message: e.to_string() })?;
        if got {
            self.line = line;
        }
        Ok(got)
    }

    /// The name of column `i` for messages: as written in the header, or `#n` when it has none.
    fn column(&self, i: usize) -> String {
        match self.names.get(i) {
            Some(n) if !n.is_empty() => n.clone(),
            _ => format!("#{}", i + 1),
        }
    }

    /// The next row that has any value; rows of empty cells (spreadsheets leave them) are skipped.
    fn next_row(&mut self) -> Result<Option<Row>, CsvError> {
        loop {
            if !self.read_record()? {
                return Ok(None);
            }
            self.rows += 1;
            if self.rows > MAX_ROWS {
                return Err(CsvError::TooManyRows { line: self.line });
            }
            let mut cells = Vec::with_capacity(self.names.len());
            for (i, f) in self.rec.iter().enumerate() {
                let v = decode_cell(f, self.line, || self.column(i))?;
                if i < self.names.len() {
                    cells.push(v);
                } else if !v.is_empty() {
                    return Err(invalid(
                        self.line,
                        &self.column(i),
                        format!("`{}` is beyond the header's {} columns", short(&v), self.names.len()),
                    ));
                }
            }
            // Spreadsheets may drop trailing empty cells; a short row means those cells are empty.
            cells.resize(self.names.len(), String::new());
            if cells.iter().any(|c| !c.is_empty()) {
                return Ok(Some(Row { line: self.line, cells }));
            }
        }
    }
}

fn decode_cell(f: &[u8], line: u64, column: impl Fn() -> String) -> Result<String, CsvError> {
    if f.len() > MAX_FIELD_BYTES {
        return Err(CsvError::FieldTooLong { line, column: column(), bytes: f.len() });
    }
    let s = std::str::from_utf8(f).map_err(|_| {
        invalid(
            line,
            &column(),
            "is not UTF-8 text; save the file as UTF-8 (in Excel: \"CSV UTF-8 (Comma delimited)\")",
        )
    })?;
    // Line breaks inside a cell become `\n` (the catalog refuses `\r` as a control character).
    let s = s.trim();
    Ok(if s.contains('\r') { s.replace("\r\n", "\n").replace('\r', "\n") } else { s.to_owned() })
}

// ---------------------------------------------------------------------------------------------------------
// borderless's own format.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Col {
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

const FIXED_COLUMNS: [(&str, Col); 12] = [
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

fn own_columns_hint() -> String {
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
        self.pos.get(&col).and_then(|&i| row.cells.get(i)).map(String::as_str).unwrap_or("")
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
pub fn read_catalog<R: std::io::Read>(r: R) -> Result<Vec<crate::catalog::products::ProductInput>, CsvError> {
    let mut sheet = Sheet::open(r)?;
    let header = OwnHeader::parse(&sheet.names)?;
    let colname = |sheet: &Sheet<R>, col: Col| header.pos.get(&col).map(|&i| sheet.column(i)).unwrap_or_default();
    let mut products: Vec<OwnProduct> = Vec::new();
    let mut by_handle: HashMap<String, usize> = HashMap::new();
    let mut skus: HashMap<String, u64> = HashMap::new();

    while let Some(row) = sheet.next_row()? {
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
                invalid(line, &colname(&sheet, Col::WeightG), format!("`{}` is not a whole number of grams", short(w)))
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
    }
    Ok(products.into_iter().map(|p| p.input).collect())
}

/// Checks a SKU and that no earlier row of the file used it.
fn parse_sku(v: &str, line: u64, column: &str, seen: &mut HashMap<String, u64>) -> Result<String, CsvError> {
    if v.is_empty() {
        return Err(invalid(line, column, "must not be empty"));
    }
    let sku = Sku::parse(v).map_err(|e| invalid(line, column, e))?.as_str().to_owned();
    if let Some(first) = seen.insert(sku.clone(), line) {
        return Err(invalid(line, column, format!("SKU `{sku}` already appears on line {first}")));
    }
    Ok(sku)
}

fn parse_price(v: &str, cur: Currency, line: u64, column: &str) -> Result<PriceInput, CsvError> {
    let m = Money::parse_decimal(v, cur).map_err(|e| invalid(line, column, e.to_string()))?;
    if m.minor < 0 {
        return Err(invalid(line, column, format!("`{}` is negative", short(v))));
    }
    Ok(PriceInput { currency: cur.code().to_owned(), amount_minor: m.minor })
}

/// A non-negative whole number; `1,200` and `500.0` are accepted (spreadsheets write both).
fn parse_whole(v: &str) -> Option<i64> {
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
fn parse_attributes(s: &str) -> Result<BTreeMap<String, String>, String> {
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

fn escape_attr(s: &str, is_key: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\\' || c == ';' || (is_key && c == '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn format_attributes(attrs: &BTreeMap<String, String>) -> String {
    attrs
        .iter()
        .map(|(k, v)| format!("{}={}", escape_attr(k, true), escape_attr(v, false)))
        .collect::<Vec<_>>()
        .join(";")
}

pub fn write_catalog<W: std::io::Write>(
    mut w: W,
    products: &[crate::catalog::products::ProductView],
) -> Result<(), CsvError> {
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
    let empty_variant = crate::catalog::products::VariantView {
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
            let mut rec: Vec<String> = vec![
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
            ];
            rec.extend(prices);
            out.write_record(&rec).map_err(|e| werr(&e))?;
        }
    }
    out.flush().map_err(|e| werr(&e))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Shopify's product export.

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
pub fn read_shopify<R: std::io::Read>(
    r: R,
    currency: domain::Currency,
) -> Result<Vec<crate::catalog::products::ProductInput>, CsvError> {
    let mut sheet = Sheet::open(r)?;
    let h = ShopifyHeader::parse(&sheet.names)?;
    let mut products: Vec<ShopifyProduct> = Vec::new();
    let mut by_handle: HashMap<String, usize> = HashMap::new();
    let mut skus: HashMap<String, u64> = HashMap::new();

    while let Some(row) = sheet.next_row()? {
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
                    continue; // an image-only row (or another row without variant data)
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
            let name =
                if p.option_names[k].is_empty() { h.get(&row, S_OPTION_NAMES[k]) } else { p.option_names[k].as_str() };
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
    }
    Ok(products.into_iter().map(|p| p.input).collect())
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
fn html_to_text(html: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::products::{validate, Localized, PriceView, ProductView, VariantView};

    fn valid(products: &[ProductInput]) {
        for p in products {
            if let Err(e) = validate(p.clone()) {
                panic!("product `{}` fails products::validate: {e}", p.handle);
            }
        }
    }

    fn err_of(r: Result<Vec<ProductInput>, CsvError>) -> String {
        match r {
            Ok(v) => panic!("expected an error, got {} products", v.len()),
            Err(e) => e.to_string(),
        }
    }

    fn prices(v: &VariantInput) -> Vec<(&str, i64)> {
        v.prices.iter().map(|p| (p.currency.as_str(), p.amount_minor)).collect()
    }

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    /// A current Shopify export: a tee in size × colour (4 variants, 2 trailing image-only rows, an HTML body
    /// over several text lines) and a mug with Shopify's "Default Title" placeholder and no SKU.
    const SHOPIFY_EXPORT: &str = r#"Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,Option1 Value,Option1 Linked To,Option2 Name,Option2 Value,Option2 Linked To,Option3 Name,Option3 Value,Option3 Linked To,Variant SKU,Variant Grams,Variant Inventory Tracker,Variant Inventory Qty,Variant Inventory Policy,Variant Fulfillment Service,Variant Price,Variant Compare At Price,Variant Requires Shipping,Variant Taxable,Variant Barcode,Image Src,Image Position,Image Alt Text,Gift Card,SEO Title,SEO Description,Google Shopping / Gender,Google Shopping / Condition,Variant Image,Variant Weight Unit,Variant Tax Code,Cost per item,Status
organic-cotton-tee,Organic Cotton Tee,"<p>Soft &amp; breathable <strong>organic</strong> cotton.</p>
<ul>
<li>100% cotton</li>
<li>Made in Korea</li>
</ul>",Seoul Basics,Apparel & Accessories > Clothing > Shirts & Tops,T-Shirts,"cotton, summer",true,Size,S,,Color,Black,,,,,TEE-S-BLK,180,shopify,12,deny,manual,25.00,30.00,true,true,4006381333931,https://cdn.shopify.com/s/files/1/0000/0001/products/tee-black.jpg?v=1700000000,1,Black tee,false,Organic Cotton Tee,"Soft, breathable tee",unisex,new,https://cdn.shopify.com/s/files/1/0000/0001/products/tee-black.jpg?v=1700000000,kg,,9.00,active
organic-cotton-tee,,,,,,,,,S,,,White,,,,,TEE-S-WHT,180,shopify,7,deny,manual,25.00,30.00,true,true,,https://cdn.shopify.com/s/files/1/0000/0001/products/tee-white.jpg?v=1700000000,2,White tee,,,,,,https://cdn.shopify.com/s/files/1/0000/0001/products/tee-white.jpg?v=1700000000,kg,,9.00,
organic-cotton-tee,,,,,,,,,M,,,Black,,,,,TEE-M-BLK,200,shopify,0,deny,manual,27.50,,true,true,not-a-barcode,,,,,,,,,,kg,,9.50,
organic-cotton-tee,,,,,,,,,M,,,White,,,,,TEE-M-WHT,200,shopify,3,continue,manual,27.50,,true,true,,,,,,,,,,,kg,,9.50,
organic-cotton-tee,,,,,,,,,,,,,,,,,,,,,,,,,,,,https://cdn.shopify.com/s/files/1/0000/0001/products/tee-back.jpg?v=1700000000,3,Back,,,,,,,,,,
organic-cotton-tee,,,,,,,,,,,,,,,,,,,,,,,,,,,,https://cdn.shopify.com/s/files/1/0000/0001/products/tee-detail.jpg?v=1700000000,4,Detail,,,,,,,,,,
ceramic-mug,Ceramic Mug 350ml,<p>Hand-glazed in Icheon.&nbsp;Dishwasher safe.</p>,Icheon Clay,Home & Garden > Kitchen & Dining > Tableware > Drinkware > Mugs,,,true,Title,Default Title,,,,,,,,,350,shopify,40,deny,manual,18.00,,true,true,036000291452,https://cdn.shopify.com/s/files/1/0000/0001/products/mug.jpg?v=1700000000,1,,false,,,,,,g,,6.00,draft
"#;

    #[test]
    fn shopify_export_with_options_images_and_default_title() {
        let ps = read_shopify(SHOPIFY_EXPORT.as_bytes(), Currency::Usd).unwrap();
        assert_eq!(ps.len(), 2);
        valid(&ps);

        let tee = &ps[0];
        assert_eq!(tee.handle, "organic-cotton-tee");
        assert_eq!(tee.title_en, "Organic Cotton Tee");
        assert_eq!(tee.title_ko, "Organic Cotton Tee");
        assert_eq!(tee.description_en, "Soft & breathable organic cotton. 100% cotton Made in Korea");
        assert_eq!(tee.description_ko, tee.description_en);
        assert_eq!(tee.category, "t-shirts");
        assert_eq!(tee.vendor, "Seoul Basics");
        assert_eq!(tee.status.as_deref(), Some("active"));
        assert_eq!(tee.variants.len(), 4, "image-only rows are not variants");
        let skus: Vec<&str> = tee.variants.iter().map(|v| v.sku.as_str()).collect();
        assert_eq!(skus, ["TEE-S-BLK", "TEE-S-WHT", "TEE-M-BLK", "TEE-M-WHT"]);
        assert_eq!(tee.variants[0].attributes, attrs(&[("size", "S"), ("color", "Black")]));
        assert_eq!(tee.variants[1].attributes, attrs(&[("size", "S"), ("color", "White")]));
        assert_eq!(tee.variants[3].attributes, attrs(&[("size", "M"), ("color", "White")]));
        assert_eq!(tee.variants[0].weight_g, 180, "Variant Grams wins over the weight unit");
        assert_eq!(tee.variants[2].weight_g, 200);
        assert_eq!(prices(&tee.variants[0]), [("USD", 2500)]);
        assert_eq!(prices(&tee.variants[3]), [("USD", 2750)]);
        assert_eq!(tee.variants[0].gtin.as_deref(), Some("4006381333931"));
        assert_eq!(tee.variants[1].gtin, None);
        assert_eq!(tee.variants[2].gtin, None, "a free-text barcode is dropped");

        let mug = &ps[1];
        assert_eq!(mug.handle, "ceramic-mug");
        assert_eq!(mug.category, "mugs", "no Type: the last segment of Product Category");
        assert_eq!(mug.description_en, "Hand-glazed in Icheon. Dishwasher safe.");
        assert_eq!(mug.status.as_deref(), Some("draft"));
        assert_eq!(mug.variants.len(), 1);
        let v = &mug.variants[0];
        assert!(v.attributes.is_empty(), "Default Title means no attributes");
        assert_eq!(v.sku, "CERAMIC-MUG-1");
        assert_eq!(v.weight_g, 350);
        assert_eq!(v.gtin.as_deref(), Some("036000291452"));
        assert_eq!(prices(v), [("USD", 1800)]);
    }

    /// An older export: no "Product Category", "Linked To", "Status" or "Variant Grams" columns; weights in
    /// "Variant Weight" + unit; KRW prices written with Shopify's `.00`.
    const OLD_SHOPIFY_EXPORT_KRW: &str = "\
Handle,Title,Body (HTML),Vendor,Type,Tags,Published,Option1 Name,Option1 Value,Option2 Name,Option2 Value,Option3 Name,Option3 Value,Variant SKU,Variant Weight,Variant Weight Unit,Variant Price,Variant Barcode,Image Src
Silk-Scarf 실크,Silk Scarf,<div>Pure silk<br/>90 &times; 90 cm &lt;hand rolled&gt;</div>,Hanbok Atelier,Scarves and Wraps,,false,Colour,Indigo,,,,,,0.5,kg,39000.00,,https://cdn.shopify.com/scarf-indigo.jpg
Silk-Scarf 실크,,,,,,,,Ivory,,,,,SCARF-IVORY,1.2,lb,\"41,000.00\",96385074,https://cdn.shopify.com/scarf-ivory.jpg
Silk-Scarf 실크,,,,,,,,Rose,,,,,SCARF-ROSE,3,oz,41000,,
plain-socks,Plain Socks,,,,,,Title,Default Title,,,,,SOCKS-1,,,9000.00,,
";

    #[test]
    fn older_shopify_export_in_krw_with_weight_units() {
        let ps = read_shopify(OLD_SHOPIFY_EXPORT_KRW.as_bytes(), Currency::Krw).unwrap();
        assert_eq!(ps.len(), 2);
        valid(&ps);
        let scarf = &ps[0];
        assert_eq!(scarf.handle, "silk-scarf---", "lowercased, other characters become `-`");
        assert_eq!(scarf.category, "scarves-and-wraps");
        assert_eq!(scarf.description_en, "Pure silk 90 &times; 90 cm <hand rolled>");
        assert_eq!(scarf.status.as_deref(), Some("draft"), "Published false");
        assert_eq!(scarf.variants.len(), 3);
        assert_eq!(scarf.variants[0].sku, "SILK-SCARF----1", "generated from the handle");
        assert_eq!(scarf.variants[0].attributes, attrs(&[("colour", "Indigo")]));
        assert_eq!(scarf.variants[2].attributes, attrs(&[("colour", "Rose")]));
        assert_eq!(scarf.variants.iter().map(|v| v.weight_g).collect::<Vec<_>>(), [500, 544, 85]);
        assert_eq!(prices(&scarf.variants[0]), [("KRW", 39000)]);
        assert_eq!(prices(&scarf.variants[1]), [("KRW", 41000)]);
        assert_eq!(scarf.variants[1].gtin.as_deref(), Some("96385074"));
        let socks = &ps[1];
        assert_eq!(socks.category, "uncategorized");
        assert_eq!(socks.status, None);
        assert!(socks.variants[0].attributes.is_empty());
        assert_eq!(socks.variants[0].weight_g, 0);
        assert_eq!(prices(&socks.variants[0]), [("KRW", 9000)]);
    }

    #[test]
    fn shopify_errors_name_line_and_column() {
        let csv = "Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Price\n\
                   cap,Cap,Size,Free,CAP-1,15000\n\
                   cap,,,Kids,CAP-2,12.5\n";
        assert_eq!(
            err_of(read_shopify(csv.as_bytes(), Currency::Krw)),
            "line 3, column `Variant Price`: `12.5` is not a valid amount for KRW"
        );
        let csv = "Handle,Title,Variant SKU\ncap,Cap,CAP-1\n";
        assert_eq!(
            err_of(read_shopify(csv.as_bytes(), Currency::Krw)),
            "line 1, column `Variant Price`: required but missing"
        );
        let csv =
            "Handle,Title,Variant SKU,Variant Price,Variant Weight,Variant Weight Unit\ncap,Cap,CAP-1,10,2,stone\n";
        assert!(err_of(read_shopify(csv.as_bytes(), Currency::Usd))
            .starts_with("line 2, column `Variant Weight Unit`: `stone` is not a weight unit"));
        let csv = "Handle,Title,Variant SKU,Variant Price\n모자,Cap,CAP-1,10\n양말,Socks,SOCK-1,5\n";
        assert!(err_of(read_shopify(csv.as_bytes(), Currency::Usd))
            .starts_with("line 3, column `Handle`: `양말` becomes handle `--`"));
        let csv = "Handle,Title,Variant SKU,Variant Price\ncap,Cap,CAP 1,10\n";
        assert!(err_of(read_shopify(csv.as_bytes(), Currency::Usd))
            .starts_with("line 2, column `Variant SKU`: SKU `CAP 1` contains ` `"));
    }

    const OWN_HEADER: &str =
        "handle,title_ko,title_en,description_ko,description_en,category,vendor,status,sku,gtin,weight_g,attributes,price_krw,price_usd";

    #[test]
    fn own_format_reads_products_from_variant_rows() {
        let csv = format!(
            "{OWN_HEADER}\n\
             linen-shirt,린넨 셔츠,Linen Shirt,\"시원한 린넨, 여름용\",\"Cool linen, for summer\",apparel/shirts,Seoul Basics,active,LS-M-WHT,,250,size=M;color=white,\"59,000\",45.00\n\
             linen-shirt,,,,,,,,LS-L-WHT,,260,size=L;color=white,59000,\n\
             Linen-Shirt,린넨 셔츠,,,,,,,LS-XL-WHT,4006381333931,270,size=XL;color=white;,61000,47.5\n\
             ,,,,,,,,,,,,,\n\
             tote,토트백,Tote Bag,,\"Canvas.\r\nWashable.\",bags,,,TOTE-1,,,,,19.99\n"
        );
        let ps = read_catalog(csv.as_bytes()).unwrap();
        valid(&ps);
        assert_eq!(ps.len(), 2);
        let shirt = &ps[0];
        assert_eq!(shirt.handle, "linen-shirt");
        assert_eq!(shirt.title_ko, "린넨 셔츠");
        assert_eq!(shirt.description_ko, "시원한 린넨, 여름용");
        assert_eq!(shirt.category, "apparel/shirts");
        assert_eq!(shirt.status.as_deref(), Some("active"));
        assert_eq!(shirt.variants.len(), 3);
        assert_eq!(prices(&shirt.variants[0]), [("KRW", 59000), ("USD", 4500)]);
        assert_eq!(prices(&shirt.variants[1]), [("KRW", 59000)], "an empty price cell is no price");
        assert_eq!(prices(&shirt.variants[2]), [("KRW", 61000), ("USD", 4750)]);
        assert_eq!(shirt.variants[2].attributes, attrs(&[("size", "XL"), ("color", "white")]));
        assert_eq!(shirt.variants[2].gtin.as_deref(), Some("4006381333931"));
        let tote = &ps[1];
        assert_eq!(tote.description_en, "Canvas.\nWashable.", "a CRLF inside a cell becomes LF");
        assert_eq!(tote.status, None);
        assert_eq!(tote.variants[0].weight_g, 0);
        assert!(tote.variants[0].attributes.is_empty());
        assert_eq!(prices(&tote.variants[0]), [("USD", 1999)]);
    }

    #[test]
    fn own_format_errors_name_line_and_column() {
        let row = "cap,모자,Cap,,,hats,,,CAP-1,,,,15000,";
        // A bad price.
        let csv = format!("{OWN_HEADER}\n{row}\ncap,,,,,,,,CAP-2,,,,12.5,\n");
        assert_eq!(
            err_of(read_catalog(csv.as_bytes())),
            "line 3, column `price_krw`: `12.5` is not a valid amount for KRW"
        );
        // Unknown columns are all named, an unknown currency among them.
        let csv = format!("{OWN_HEADER},colour,price_xyz\n{row},,\n");
        let e = err_of(read_catalog(csv.as_bytes()));
        assert!(e.starts_with("line 1, columns `colour`, `price_xyz`: not a column of this format"), "{e}");
        // Missing required columns.
        let csv = "handle,title_ko,sku,price_krw\ncap,모자,CAP-1,1000\n";
        assert_eq!(
            err_of(read_catalog(csv.as_bytes())),
            "line 1, columns `title_en`, `category`: required but missing"
        );
        let csv = "handle,title_ko,title_en,category,sku\ncap,모자,Cap,hats,CAP-1\n";
        assert!(err_of(read_catalog(csv.as_bytes())).contains("`price_<currency> (e.g. price_krw)`"));
        // A later row contradicting a product field of the first row.
        let csv = format!("{OWN_HEADER}\n{row}\ncap,,,,,,,,CAP-2,,,,15000,\ncap,,Baseball Cap,,,,,,CAP-3,,,,15000,\n");
        let e = err_of(read_catalog(csv.as_bytes()));
        assert!(
            e.starts_with(
                "line 4, column `title_en`: `Baseball Cap` differs from the first row of product `cap` (line 2)"
            ),
            "{e}"
        );
        // Duplicate SKU across products, duplicate column, bad attributes, bad status, bad GTIN, bad weight.
        let csv = format!("{OWN_HEADER}\n{row}\nbeanie,비니,Beanie,,,hats,,,CAP-1,,,,9000,\n");
        assert_eq!(err_of(read_catalog(csv.as_bytes())), "line 3, column `sku`: SKU `CAP-1` already appears on line 2");
        let csv = "handle,title_ko,title_en,category,sku,price_krw,PRICE_KRW\n";
        assert_eq!(err_of(read_catalog(csv.as_bytes())), "line 1, column `PRICE_KRW`: appears more than once");
        let csv = format!("{OWN_HEADER}\ncap,모자,Cap,,,hats,,,CAP-1,,,size M,15000,\n");
        assert!(err_of(read_catalog(csv.as_bytes()))
            .starts_with("line 2, column `attributes`: `size M` is not `name=value`"));
        let csv = format!("{OWN_HEADER}\ncap,모자,Cap,,,hats,,live,CAP-1,,,,15000,\n");
        assert_eq!(
            err_of(read_catalog(csv.as_bytes())),
            "line 2, column `status`: `live` is not active, draft or archived"
        );
        let csv = format!("{OWN_HEADER}\ncap,모자,Cap,,,hats,,,CAP-1,4006381333932,,,15000,\n");
        assert!(err_of(read_catalog(csv.as_bytes())).starts_with("line 2, column `gtin`:"));
        let csv = format!("{OWN_HEADER}\ncap,모자,Cap,,,hats,,,CAP-1,,12.5,,15000,\n");
        assert_eq!(
            err_of(read_catalog(csv.as_bytes())),
            "line 2, column `weight_g`: `12.5` is not a whole number of grams"
        );
        let csv = format!("{OWN_HEADER}\ncap,모자,Cap,,,hats,,,CAP-1,,,,,\n");
        assert!(err_of(read_catalog(csv.as_bytes()))
            .starts_with("line 2, column `price_krw`: variant `CAP-1` needs a price"));
        // A value beyond the header; a line count that follows records, not text lines.
        let csv = format!("{OWN_HEADER}\n\"cap\",\"모자\nwith a newline\",Cap,,,hats,,,CAP-1,,,,15000,,extra\n");
        assert_eq!(
            err_of(read_catalog(csv.as_bytes())),
            "line 2, column `#15`: `extra` is beyond the header's 14 columns"
        );
        // Not UTF-8 (EUC-KR bytes, as an old Excel saves them).
        let mut bytes = format!("{OWN_HEADER}\ncap,").into_bytes();
        bytes.extend_from_slice(&[0xB8, 0xF0, 0xC0, 0xDA]);
        bytes.extend_from_slice(b",Cap,,,hats,,,CAP-1,,,,15000,\n");
        assert!(err_of(read_catalog(&bytes[..])).starts_with("line 2, column `title_ko`: is not UTF-8 text"));
    }

    #[test]
    fn utf8_bom_is_ignored() {
        let own = format!("\u{feff}{OWN_HEADER}\ncap,모자,Cap,,,hats,,,CAP-1,,,,15000,\n");
        let ps = read_catalog(own.as_bytes()).unwrap();
        assert_eq!(ps[0].handle, "cap");
        let quoted = "\u{feff}\"handle\",\"title_ko\",\"title_en\",\"category\",\"sku\",\"price_krw\"\r\ncap,모자,Cap,hats,CAP-1,15000\r\n";
        assert_eq!(read_catalog(quoted.as_bytes()).unwrap()[0].variants[0].sku, "CAP-1");
        let shop = format!("\u{feff}{SHOPIFY_EXPORT}");
        assert_eq!(read_shopify(shop.as_bytes(), Currency::Usd).unwrap().len(), 2);
        assert!(matches!(read_catalog(&b"\xEF\xBB\xBF"[..]), Err(CsvError::Empty)));
        assert!(matches!(read_catalog(&b""[..]), Err(CsvError::Empty)));
    }

    fn view(handle: &str, title_ko: &str, title_en: &str, status: &str, variants: Vec<VariantView>) -> ProductView {
        ProductView {
            id: format!("prod_{handle}"),
            handle: handle.into(),
            title: Localized { ko: title_ko.into(), en: title_en.into() },
            description: Localized {
                ko: "첫 줄, \"인용\"\n둘째 줄".into(),
                en: "Line one, \"quoted\"\nline two; =not a formula".into(),
            },
            category: "apparel/outer".into(),
            vendor: "Seoul Basics".into(),
            status: status.into(),
            variants,
            created_at: "2025-01-01T00:00:00Z".into(),
            updated_at: "2025-01-02T00:00:00Z".into(),
        }
    }

    fn variant(sku: &str, gtin: Option<&str>, weight_g: i64, a: &[(&str, &str)], ps: &[(&str, i64)]) -> VariantView {
        VariantView {
            sku: sku.into(),
            gtin: gtin.map(Into::into),
            weight_g,
            attributes: attrs(a),
            prices: ps.iter().map(|(c, m)| crate::catalog::products::price_view(c, *m)).collect::<Vec<PriceView>>(),
        }
    }

    #[test]
    fn own_format_round_trips() {
        let views = vec![
            view(
                "wool-coat",
                "울 코트",
                "Wool Coat",
                "active",
                vec![
                    variant(
                        "WC-M",
                        Some("4006381333931"),
                        1200,
                        &[("size", "M"), ("color", "charcoal")],
                        &[("EUR", 18_900), ("KRW", 289_000), ("USD", 21_950)],
                    ),
                    variant(
                        "WC-L",
                        None,
                        1250,
                        &[("size", "L"), ("note", "a;b=c\\d"), ("x=y", "")],
                        &[("KRW", 289_000)],
                    ),
                ],
            ),
            view(
                "gift-card",
                "기프트 카드",
                "Gift Card",
                "draft",
                vec![variant("GIFT_10.000/A", None, 0, &[], &[("JPY", 1000)])],
            ),
        ];
        let mut out = Vec::new();
        write_catalog(&mut out, &views).unwrap();
        assert!(out.starts_with(UTF8_BOM));
        let text = std::str::from_utf8(&out[3..]).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            format!("{},price_eur,price_jpy,price_krw,price_usd", FIXED_COLUMNS.map(|(n, _)| n).join(","))
        );
        assert_eq!(text.matches("\r\n").count(), 4, "header and 3 variant rows end in CRLF; descriptions keep LF");

        let read = read_catalog(&out[..]).unwrap();
        valid(&read);
        let expected: Vec<ProductInput> = views
            .iter()
            .map(|p| ProductInput {
                handle: p.handle.clone(),
                title_ko: p.title.ko.clone(),
                title_en: p.title.en.clone(),
                description_ko: p.description.ko.clone(),
                description_en: p.description.en.clone(),
                category: p.category.clone(),
                vendor: p.vendor.clone(),
                status: Some(p.status.clone()),
                variants: p
                    .variants
                    .iter()
                    .map(|v| VariantInput {
                        sku: v.sku.clone(),
                        gtin: v.gtin.clone(),
                        weight_g: v.weight_g,
                        attributes: v.attributes.clone(),
                        prices: v
                            .prices
                            .iter()
                            .map(|pr| PriceInput { currency: pr.currency.clone(), amount_minor: pr.amount_minor })
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        assert_eq!(read, expected);

        // An empty catalog still gets the header, KRW and USD columns included, and reads back as nothing.
        let mut out = Vec::new();
        write_catalog(&mut out, &[]).unwrap();
        assert_eq!(std::str::from_utf8(&out[3..]).unwrap(), format!("{OWN_HEADER}\r\n"));
        assert!(read_catalog(&out[..]).unwrap().is_empty());
    }

    #[test]
    fn limits() {
        let mut csv = format!("{OWN_HEADER}\n");
        for _ in 0..=MAX_ROWS {
            csv.push_str(",\n");
        }
        assert_eq!(
            err_of(read_catalog(csv.as_bytes())),
            format!("line {}: more than {MAX_ROWS} rows; split the file", MAX_ROWS + 2)
        );
        let long = "x".repeat(MAX_FIELD_BYTES + 1);
        let csv = format!("{OWN_HEADER}\ncap,모자,Cap,{long},,hats,,,CAP-1,,,,15000,\n");
        assert_eq!(
            err_of(read_catalog(csv.as_bytes())),
            "line 2, column `description_ko`: the value is 65537 bytes long; at most 65536 are allowed"
        );
    }

    #[test]
    fn attributes_parse_and_escape() {
        assert_eq!(parse_attributes("").unwrap(), BTreeMap::new());
        assert_eq!(parse_attributes(" size = M ; color=black ;").unwrap(), attrs(&[("size", "M"), ("color", "black")]));
        assert_eq!(parse_attributes("fit=a=b").unwrap(), attrs(&[("fit", "a=b")]));
        assert_eq!(parse_attributes("path=C:\\dir").unwrap(), attrs(&[("path", "C:\\dir")]));
        assert!(parse_attributes("=M").is_err());
        assert!(parse_attributes("size=M;size=L").is_err());
        let a = attrs(&[("k;=\\", "v;=\\"), ("size", "")]);
        assert_eq!(parse_attributes(&format_attributes(&a)).unwrap(), a);
    }

    #[test]
    fn html_becomes_plain_text() {
        assert_eq!(html_to_text("<p>A &amp; B</p><p>C&#39;s &quot;D&quot;</p>"), "A & B C's \"D\"");
        assert_eq!(html_to_text("<b>bold</b>er <!-- note --> x < y &#x41;&#66;"), "bolder x < y AB");
        assert_eq!(
            html_to_text("<style>p{color:red}</style><script>alert('<p>')</script>Text<img src=\"a>b.png\">"),
            "Text"
        );
        assert_eq!(html_to_text("broken <a href=\"x"), "broken");
        assert_eq!(html_to_text("&unknown; & &#99999999999;"), "&unknown; & &#99999999999;");
        assert_eq!(html_to_text(&"가".repeat(MAX_DESCRIPTION_CHARS + 5)).chars().count(), MAX_DESCRIPTION_CHARS);
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let alphabet = b",\"\n\r;=<>&#\\ aZ9\xEF\xBB\xBF\xC0-._/";
        let prefixes = [format!("{OWN_HEADER}\n"), SHOPIFY_EXPORT.lines().next().unwrap_or_default().to_owned() + "\n"];
        for round in 0..400 {
            let mut bytes = prefixes[round % 2].clone().into_bytes();
            let len = (round * 7) % 300;
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                bytes.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            let _ = read_catalog(&bytes[..]);
            let _ = read_shopify(&bytes[..], Currency::Krw);
            let _ = read_shopify(&bytes[prefixes[round % 2].len()..], Currency::Usd);
        }
    }
}
