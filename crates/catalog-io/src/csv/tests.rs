//! The CSV readers and writer on real files and every error path.
use super::own::*;
use super::shopify::*;
use super::*;
use crate::{validate, Localized, PriceInput, PriceView, ProductInput, ProductView, VariantInput, VariantView};
use domain::Currency;
use std::collections::BTreeMap;

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
    let csv = "Handle,Title,Variant SKU,Variant Price,Variant Weight,Variant Weight Unit\ncap,Cap,CAP-1,10,2,stone\n";
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
    assert_eq!(err_of(read_catalog(csv.as_bytes())), "line 1, columns `title_en`, `category`: required but missing");
    let csv = "handle,title_ko,title_en,category,sku\ncap,모자,Cap,hats,CAP-1\n";
    assert!(err_of(read_catalog(csv.as_bytes())).contains("`price_<currency> (e.g. price_krw)`"));
    // A later row contradicting a product field of the first row.
    let csv = format!("{OWN_HEADER}\n{row}\ncap,,,,,,,,CAP-2,,,,15000,\ncap,,Baseball Cap,,,,,,CAP-3,,,,15000,\n");
    let e = err_of(read_catalog(csv.as_bytes()));
    assert!(
        e.starts_with("line 4, column `title_en`: `Baseball Cap` differs from the first row of product `cap` (line 2)"),
        "{e}"
    );
    // Duplicate SKU across products, duplicate column, bad attributes, bad status, bad GTIN, bad weight.
    let csv = format!("{OWN_HEADER}\n{row}\nbeanie,비니,Beanie,,,hats,,,CAP-1,,,,9000,\n");
    assert_eq!(err_of(read_catalog(csv.as_bytes())), "line 3, column `sku`: SKU `CAP-1` already appears on line 2");
    let csv = "handle,title_ko,title_en,category,sku,price_krw,PRICE_KRW\n";
    assert_eq!(err_of(read_catalog(csv.as_bytes())), "line 1, column `PRICE_KRW`: appears more than once");
    let csv = format!("{OWN_HEADER}\ncap,모자,Cap,,,hats,,,CAP-1,,,size M,15000,\n");
    assert!(
        err_of(read_catalog(csv.as_bytes())).starts_with("line 2, column `attributes`: `size M` is not `name=value`")
    );
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
    assert!(
        err_of(read_catalog(csv.as_bytes())).starts_with("line 2, column `price_krw`: variant `CAP-1` needs a price")
    );
    // A value beyond the header; a line count that follows records, not text lines.
    let csv = format!("{OWN_HEADER}\n\"cap\",\"모자\nwith a newline\",Cap,,,hats,,,CAP-1,,,,15000,,extra\n");
    assert_eq!(err_of(read_catalog(csv.as_bytes())), "line 2, column `#15`: `extra` is beyond the header's 14 columns");
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
        prices: ps.iter().map(|(c, m)| crate::price_view(c, *m)).collect::<Vec<PriceView>>(),
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
                variant("WC-L", None, 1250, &[("size", "L"), ("note", "a;b=c\\d"), ("x=y", "")], &[("KRW", 289_000)]),
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

#[test]
fn every_problem_of_a_file_is_reported_with_its_line_and_column() {
    let csv = format!(
        "{OWN_HEADER}\n\
         socks,양말,Socks,,,apparel,,,SOCK-M,,50,size=M,9000\n\
         socks,양말,Socks,,,apparel,,,SOCK-L,,heavy,size=L,9000\n\
         hat,모자,,,,apparel,,,HAT-1,,100,,12000\n\
         scarf,목도리,Scarf,,,apparel,,,SOCK-M,,100,,15000\n"
    );
    let problems = read_catalog_all(csv.as_bytes()).unwrap_err().0;
    let at: Vec<(Option<u64>, Option<String>)> = problems.iter().map(|p| (p.line(), p.column())).collect();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert_eq!(at[0], (Some(3), Some("weight_g".into())));
    assert_eq!(at[1], (Some(4), Some("title_en".into())));
    assert_eq!(at[2].0, Some(5), "the SKU used twice is named on the second use: {}", problems[2]);
    let all = Problems(problems).to_string();
    assert!(all.starts_with("3 problems; the first: line 3"), "{all}");
}

#[test]
fn an_unclosed_quote_is_reported_where_it_opens() {
    let csv = format!(
        "{OWN_HEADER}\n\
         socks,양말,Socks,,,apparel,,,SOCK-M,,50,size=M,9000\n\
         hat,\"모자,Hat,,,apparel,,,HAT-1,,100,,12000\n\
         scarf,목도리,Scarf,,,apparel,,,SCARF-1,,100,,15000\n"
    );
    let problems = read_catalog_all(csv.as_bytes()).unwrap_err().0;
    assert_eq!(problems.len(), 1);
    assert_eq!((problems[0].line(), problems[0].column()), (Some(3), Some("#2".into())));
    assert!(problems[0].to_string().contains("never closed"), "{}", problems[0]);
    // Quotes that close, and doubled quotes inside them, are fine.
    let fine = format!("{OWN_HEADER}\nhat,\"모자 \"\"특가\"\"\",Hat,,,apparel,,,HAT-1,,100,,12000\n");
    assert!(read_catalog_all(fine.as_bytes()).is_ok());
}

#[test]
fn formulas_are_exported_as_text_and_read_back() {
    use super::own::{guard, unguard};
    for evil in ["=HYPERLINK(\"http://x\",\"click\")", "+1+1", "-50% 세일", "@SUM(A1)", "\t=1"] {
        let g = guard(evil);
        assert!(g.starts_with('\''), "{evil}");
        assert_eq!(unguard(&g), evil, "round trip");
    }
    assert_eq!(guard("양말"), "양말");
    assert_eq!(unguard("'plain quote"), "'plain quote", "a quote not guarding a formula stays");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 500, ..Default::default() })]
    /// Any bytes handed to the catalog readers are read or refused with problems, never a panic.
    #[test]
    fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
        let _ = super::read_catalog_all(&bytes);
        let _ = super::read_shopify_all(&bytes, domain::Currency::Krw);
    }

    /// A valid file with a byte changed anywhere is read or refused, never a panic.
    #[test]
    fn damaged_files_are_read_or_refused(at in 0usize..4096, byte in proptest::num::u8::ANY) {
        let mut csv = "handle,title_ko,title_en,category,sku,weight_g,attributes,price_krw,price_usd\n\
            socks,양말,Socks,apparel,SOCK-M,50,size=M;color=black,9000,6.50\n\
            socks,양말,Socks,apparel,SOCK-L,55,size=L,9000,6.50\n".as_bytes().to_vec();
        let i = at % csv.len();
        csv[i] = byte;
        let _ = super::read_catalog_all(&csv);
        let _ = super::read_shopify_all(&csv, domain::Currency::Usd);
    }
}
