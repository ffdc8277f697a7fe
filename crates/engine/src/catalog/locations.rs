//! Locations: warehouses, stores and cashierless stores, with address, coordinates and whether they offer
//! pickup or ship orders.

use crate::error::{bad, EngineError, Result};
use crate::platform::events;
use domain::{ids, text, LocationKind};
use serde::{Deserialize, Serialize};
use store::{params, Row, Tx};

/// A postal address. A delivery address also names who receives it and how to reach them, as couriers need.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Who receives the parcel (required for a delivery).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recipient: String,
    /// The recipient's phone number (required for a delivery); digits, optionally with `+`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phone: String,
    #[serde(default)]
    pub line1: String,
    #[serde(default)]
    pub line2: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. `KR`.
    #[serde(default)]
    pub country: String,
    /// A note for the courier, e.g. "부재 시 경비실에 맡겨 주세요" (at most 200 characters).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub memo: String,
}

impl Address {
    /// Checks and normalises the address; `delivery` requires what a courier needs.
    pub(crate) fn validate(mut self, delivery: bool) -> Result<Address> {
        let f = |name: &str, v: &str, max| text::optional(name, v, max).map_err(bad);
        self.recipient = f("address.recipient", &self.recipient, 100)?;
        self.line1 = f("address.line1", &self.line1, 200)?;
        self.line2 = f("address.line2", &self.line2, 200)?;
        self.city = f("address.city", &self.city, 100)?;
        self.region = f("address.region", &self.region, 100)?;
        self.postal_code = f("address.postal_code", &self.postal_code, 20)?;
        self.memo = f("address.memo", &self.memo, 200)?;
        if !self.phone.trim().is_empty() {
            self.phone = text::phone(&self.phone)
                .map_err(|m| EngineError::invalid("invalid_phone", format!("address.phone: {m}")))?;
        }
        if !self.country.trim().is_empty() {
            self.country = domain::country::parse(&self.country)
                .map_err(|m| EngineError::invalid("invalid_country", format!("address.country: {m}")))?;
        }
        if !self.postal_code.is_empty() {
            check_postal_code(&self.postal_code, &self.country)?;
        }
        if delivery {
            let missing: Vec<&str> = [
                ("recipient", &self.recipient),
                ("phone", &self.phone),
                ("line1", &self.line1),
                ("city", &self.city),
                ("postal_code", &self.postal_code),
                ("country", &self.country),
            ]
            .iter()
            .filter(|(_, v)| v.is_empty())
            .map(|(k, _)| *k)
            .collect();
            if !missing.is_empty() {
                return Err(EngineError::invalid(
                    "address_incomplete",
                    format!(
                        "a delivery address needs `recipient`, `phone`, `line1`, `city`, `postal_code` and `country`; missing: {}",
                        missing.join(", ")
                    ),
                ));
            }
        }
        Ok(self)
    }
}

/// A postcode in its country's shape: Korea five digits (06236), the United States five (or five and four),
/// Japan seven (123-4567); elsewhere 2–10 letters, digits, spaces or hyphens.
fn check_postal_code(code: &str, country: &str) -> Result<()> {
    let digits = |n: usize| code.len() == n && code.bytes().all(|b| b.is_ascii_digit());
    let (ok, shape) = match country {
        "KR" => (digits(5), "a Korean postcode is 5 digits, e.g. 06236"),
        "US" => (
            digits(5)
                || code.len() == 10
                    && code.as_bytes()[5] == b'-'
                    && code.bytes().filter(u8::is_ascii_digit).count() == 9,
            "a US ZIP code is 5 digits, or 5 and 4 (94105-1804)",
        ),
        "JP" => (
            code.replace('-', "").len() == 7 && code.replace('-', "").bytes().all(|b| b.is_ascii_digit()),
            "a Japanese postcode is 7 digits, e.g. 100-0001",
        ),
        _ => (
            (2..=10).contains(&code.chars().count())
                && code.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
                && code.chars().any(|c| c.is_ascii_alphanumeric()),
            "a postcode is 2–10 letters, digits, spaces or hyphens",
        ),
    };
    if ok {
        Ok(())
    } else {
        let typed: String = code.chars().take(20).collect();
        Err(EngineError::invalid("invalid_postal_code", format!("address.postal_code: {shape}; got `{typed}`")))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    /// Short unique code staff use, e.g. `GANGNAM`.
    pub code: String,
    pub name_ko: String,
    pub name_en: String,
    /// `warehouse`, `store` or `cashierless`.
    pub kind: String,
    #[serde(default)]
    pub address: Address,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    #[serde(default)]
    pub pickup_enabled: bool,
    #[serde(default)]
    pub ships: bool,
    /// The IANA time zone its screens and receipts show times in (default `Asia/Seoul`).
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// Checks an IANA time zone name against the bundled time zone database.
pub fn check_time_zone(name: &str) -> Result<String> {
    let name = name.trim();
    jiff::tz::TimeZone::get(name).map(|_| name.to_owned()).map_err(|_| {
        bad(format!("`time_zone` must be an IANA time zone such as Asia/Seoul or America/New_York, got `{name}`"))
    })
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LocationView {
    pub id: String,
    pub code: String,
    pub name: crate::catalog::products::Localized,
    pub kind: String,
    pub address: Address,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub pickup_enabled: bool,
    pub ships: bool,
    /// IANA time zone, e.g. `Asia/Seoul`.
    pub time_zone: String,
}

fn to_e6(v: Option<f64>, name: &str, limit: f64) -> Result<Option<i64>> {
    match v {
        None => Ok(None),
        Some(x) if x.is_finite() && x.abs() <= limit => Ok(Some((x * 1e6).round() as i64)),
        Some(x) => Err(bad(format!("`{name}` must be within ±{limit}, got {x}"))),
    }
}

pub(crate) fn create(tx: &mut dyn Tx, input: LocationInput, now: i64) -> Result<LocationView> {
    let code = input.code.trim().to_ascii_uppercase();
    if code.is_empty() || code.len() > 32 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(bad(format!("`code` must be 1–32 characters of A–Z, 0–9, - and _ (got `{}`)", input.code)));
    }
    let kind = LocationKind::parse(&input.kind).map_err(bad)?;
    let name_ko = text::required("name_ko", &input.name_ko, 120).map_err(bad)?;
    let name_en = text::required("name_en", &input.name_en, 120).map_err(bad)?;
    let address = input.address.validate(false)?;
    let lat = to_e6(input.lat, "lat", 90.0)?;
    let lon = to_e6(input.lon, "lon", 180.0)?;
    if lat.is_some() != lon.is_some() {
        return Err(bad("give both `lat` and `lon`, or neither"));
    }
    let time_zone = check_time_zone(input.time_zone.as_deref().unwrap_or(DEFAULT_TIME_ZONE))?;
    let id = ids::new_id("loc");
    let addr = serde_json::to_string(&address).unwrap_or_default();
    tx.exec(
        "INSERT INTO locations (id, code, name_ko, name_en, kind, address, lat_e6, lon_e6, pickup_enabled, ships, created_at, time_zone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![&id, &code, &name_ko, &name_en, kind.as_str(), addr, lat, lon, input.pickup_enabled, input.ships, now, &time_zone],
    )
    .map_err(|e| {
        if e.kind == store::DbErrorKind::UniqueViolation {
            EngineError::conflict("duplicate_code", format!("a location with code `{code}` exists"))
        } else {
            e.into()
        }
    })?;
    let view = get(tx, &id)?.ok_or_else(|| EngineError::not_found("location", &id))?;
    events::emit(tx, "location.created", &id, &serde_json::json!({ "location": &view }), now)?;
    Ok(view)
}

pub const DEFAULT_TIME_ZONE: &str = "Asia/Seoul";

const COLS: &str = "id, code, name_ko, name_en, kind, address, lat_e6, lon_e6, pickup_enabled, ships, time_zone";

fn from_row(r: &Row) -> Result<LocationView> {
    Ok(LocationView {
        id: r.text(0)?,
        code: r.text(1)?,
        name: crate::catalog::products::Localized { ko: r.text(2)?, en: r.text(3)? },
        kind: r.text(4)?,
        address: serde_json::from_str(&r.text(5)?).unwrap_or_default(),
        lat: r.opt_i64(6)?.map(|v| v as f64 / 1e6),
        lon: r.opt_i64(7)?.map(|v| v as f64 / 1e6),
        pickup_enabled: r.bool(8)?,
        ships: r.bool(9)?,
        time_zone: r.text(10)?,
    })
}

/// Finds a location by id or by code.
pub(crate) fn get(tx: &mut dyn Tx, id_or_code: &str) -> Result<Option<LocationView>> {
    let sql = format!("SELECT {COLS} FROM locations WHERE id = ? OR code = ?");
    tx.query_opt(&sql, params![id_or_code, id_or_code.to_ascii_uppercase()])?.map(|r| from_row(&r)).transpose()
}

pub(crate) fn list(tx: &mut dyn Tx) -> Result<Vec<LocationView>> {
    let sql = format!("SELECT {COLS} FROM locations ORDER BY code LIMIT 1000");
    tx.query(&sql, &[])?.iter().map(from_row).collect()
}
