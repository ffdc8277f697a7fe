//! The use cases of borderless — catalog, locations, inventory, customers, carts, checkout on every
//! channel, pickup, returns, events and webhooks — as plain data in, plain data out. This crate names no web
//! framework and no concrete database: it runs its SQL through `store::Tx` inside one transaction per use
//! case, and every state change writes its domain event in that same transaction.

pub mod auth;
pub mod cards;
pub mod carts;
pub mod cashierless;
pub mod catalog;
pub mod csvio;
pub mod customers;
pub mod demo_data;
mod error;
pub mod events;
pub mod fx;
pub mod idempotency;
pub mod instore_live;
pub mod inventory;
pub mod ledger;
pub mod locations;
pub mod orders;
pub mod paycodes;
pub mod payments;
pub mod payrequests;
pub mod product_search;
pub mod recommendations;
pub mod webhooks;

pub use error::{EngineError, Result};

use auth::{IssuedKey, Principal};
use carts::{CartView, Fulfillment};
use catalog::{ProductInput, ProductQuery, ProductView};
use customers::{CustomerView, SignupInput};
use domain::MovementKind;
use error::bad;
use events::EventView;
use inventory::{Drift, Guard, Level, Movement, SkuLevels};
use locations::{LocationInput, LocationView};
use orders::{OrderQuery, OrderView, ReturnInput, ReturnView, SaleLineInput};
use payments::Payments;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use store::{params, Db};
use webhooks::{DeliveryView, DueDelivery, SubscriptionInput, SubscriptionView};

/// `" FOR UPDATE"` where the backend has row locks (PostgreSQL); nothing on SQLite, whose single writer
/// already runs write transactions one at a time.
pub(crate) fn for_update(tx: &dyn store::Tx) -> &'static str {
    match tx.dialect() {
        store::Dialect::Postgres => " FOR UPDATE",
        store::Dialect::Sqlite => "",
    }
}

/// An internal failure (a panicked worker, a stored model that does not parse): logged, shown as a 500.
/// Won with thousands separators ("12,900"), for labels and receipts.
pub fn format_krw(minor: i64) -> String {
    let digits = minor.abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if minor < 0 {
        format!("-{out}")
    } else {
        out
    }
}

pub(crate) fn internal(message: String) -> EngineError {
    EngineError::Db(store::DbError::new(store::DbErrorKind::Other, message))
}

fn card_error(e: cards::CardError) -> EngineError {
    match e {
        cards::CardError::Declined(code) => EngineError::PaymentDeclined(code),
        cards::CardError::Unavailable(m) => {
            EngineError::Db(store::DbError::new(store::DbErrorKind::Unavailable, format!("card processor: {m}")))
        }
    }
}

/// Card top-ups a customer may make per hour (a brake on stolen-card testing).
pub const MAX_CARD_TOP_UPS_PER_HOUR: i64 = 10;

/// Products saved per transaction by imports.
pub const IMPORT_BATCH: usize = 200;

/// How long an `Idempotency-Key` is remembered (a retry after that is a new request; a checked-out cart
/// still cannot be checked out twice).
pub const IDEMPOTENCY_RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;
/// How long finished webhook deliveries stay in the delivery log.
pub const DELIVERY_LOG_RETENTION_MS: i64 = 30 * 24 * 3600 * 1000;

/// The source of "now" in Unix milliseconds; tests inject a manual clock to move time.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
    }
}

/// A clock that only moves when told to.
#[derive(Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn new(ms: i64) -> Self {
        ManualClock(std::sync::atomic::AtomicI64::new(ms))
    }
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// How long a click & collect order is held for the shopper before it expires and its stock returns.
    pub pickup_hold_ms: i64,
    /// The most a cashierless entry gate pre-authorizes on a wallet (KRW minor units).
    pub cashierless_cap_minor: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config { pickup_hold_ms: 72 * 3600 * 1000, cashierless_cap_minor: 100_000 }
    }
}

/// Per-store availability of one SKU as a shopper sees it.
#[derive(Debug, Clone, Serialize)]
pub struct StoreAvailability {
    pub location_id: String,
    pub code: String,
    pub name: catalog::Localized,
    pub kind: String,
    pub available: i64,
    pub pickup_enabled: bool,
    /// "3 at Gangnam, pickup today" / "강남점 3개, 오늘 픽업 가능".
    pub label: catalog::Localized,
}

#[derive(Debug, Clone, Serialize)]
pub struct VariantAvailability {
    pub sku: String,
    pub online_available: i64,
    pub stores: Vec<StoreAvailability>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProductWithAvailability {
    #[serde(flatten)]
    pub product: ProductView,
    pub availability: Vec<VariantAvailability>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    pub balances_checked: usize,
    pub drift: Vec<Drift>,
    pub ledger_accounts_checked: usize,
    pub ledger_drift: Vec<ledger::LedgerDrift>,
}

impl DoctorReport {
    pub fn is_clean(&self) -> bool {
        self.drift.is_empty() && self.ledger_drift.is_empty()
    }
}

/// A shopper's checkout: the cart, who pays and how.
#[derive(Debug, Clone, Default)]
pub struct CheckoutRequest {
    pub cart_id: String,
    /// Required for a guest; a signed-in customer's own email otherwise.
    pub email: Option<String>,
    /// `pay_at_pickup`, `manual`, `wallet`, `gift_card`, `store_credit`, `card` or `split`.
    pub payment_method: String,
    pub idempotency_key: Option<String>,
    /// The signed-in customer (from the session), if any.
    pub customer_id: Option<String>,
    /// A gift card's code, or a card's payment-method token.
    pub tender_code: Option<String>,
    /// Pay from the wallet in this currency (converted at the recorded rate).
    pub wallet_currency: Option<String>,
    /// For `split`: the tenders.
    pub split: Option<Vec<SplitTender>>,
}

/// One tender of a split payment; one tender may leave `amount_minor` out to take the rest.
#[derive(Debug, Clone)]
pub struct SplitTender {
    pub method: String,
    pub code: Option<String>,
    pub amount_minor: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GiftCardView {
    /// The secret code: present only in the response that sold the card.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub last4: String,
    pub currency: String,
    pub balance_minor: i64,
    pub available_minor: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TopUpView {
    pub transfer_id: String,
    pub wallet: ledger::AccountView,
}

#[derive(Debug, Clone, Serialize)]
pub struct TransferView {
    pub id: String,
    pub sku: String,
    pub from: Level,
    pub to: Level,
}

/// Failed logins allowed per email address within [`LOGIN_WINDOW_MS`] before further attempts are refused.
pub const MAX_LOGIN_FAILURES: u32 = 10;
pub const LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Most email addresses the login throttle tracks at once (per node).
const MAX_TRACKED_LOGINS: usize = 100_000;

#[derive(Clone)]
pub struct Engine {
    db: Db,
    cfg: Arc<Config>,
    clock: Arc<dyn Clock>,
    payments: Arc<Payments>,
    /// argon2id takes ~19 MiB and tens of milliseconds per hash: at most one hash per core runs at once,
    /// so a burst of logins queues instead of exhausting memory.
    hash_slots: Arc<tokio::sync::Semaphore>,
    /// email → (failures, window start), for the login throttle.
    login_failures: Arc<std::sync::Mutex<std::collections::HashMap<String, (u32, i64)>>>,
    /// The card processor, when one is configured.
    cards: Option<Arc<dyn cards::CardGateway>>,
    /// The secret that signs the card processor's webhooks.
    card_webhook_secret: Option<String>,
    /// The recommendation model being served.
    recs: Arc<recommendations::Serving>,
    /// The product search index being served.
    search: Arc<product_search::SearchState>,
    /// Live cashierless stores on this node: per location, the fusion state (built on first use).
    instore: Arc<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<instore_live::Runtime>>>>>>,
}

impl Engine {
    pub fn new(db: Db, cfg: Config, clock: Arc<dyn Clock>) -> Engine {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Engine {
            db,
            cfg: Arc::new(cfg),
            clock,
            payments: Arc::new(Payments::default()),
            hash_slots: Arc::new(tokio::sync::Semaphore::new(cores)),
            login_failures: Default::default(),
            cards: None,
            card_webhook_secret: None,
            recs: Arc::new(recommendations::Serving::default()),
            search: Arc::new(product_search::SearchState::default()),
            instore: Default::default(),
        }
    }

    /// Enables card payments through `gateway`; `webhook_secret` verifies the processor's webhooks.
    pub fn with_card_gateway(mut self, gateway: Arc<dyn cards::CardGateway>, webhook_secret: Option<String>) -> Engine {
        self.cards = Some(gateway);
        self.card_webhook_secret = webhook_secret;
        self
    }

    /// A webhook from the card processor: verified against its signature header, applied once.
    /// Returns whether it was new.
    pub async fn card_webhook(&self, signature: &str, payload: &[u8]) -> Result<bool> {
        let secret = self
            .card_webhook_secret
            .clone()
            .ok_or_else(|| EngineError::invalid("invalid_signature", "no webhook secret is configured"))?;
        let now = self.now();
        cards::verify_signature(&secret, signature, payload, now / 1000)?;
        let event: serde_json::Value = serde_json::from_slice(payload)
            .map_err(|e| EngineError::invalid("invalid_event", format!("not JSON: {e}")))?;
        self.db.write(move |tx| cards::apply_event(tx, &event, now)).await
    }

    pub fn card_gateway(&self) -> Option<Arc<dyn cards::CardGateway>> {
        self.cards.clone()
    }

    /// Leases due card-processor jobs (capture, cancel, refund) to the caller.
    pub async fn card_jobs(&self, limit: usize) -> Result<Vec<cards::Job>> {
        let now = self.now();
        self.db.write(move |tx| cards::claim(tx, limit, now)).await
    }

    /// Records a card-processor job's outcome.
    pub async fn finish_card_job(
        &self,
        job: cards::Job,
        outcome: std::result::Result<(), cards::CardError>,
    ) -> Result<()> {
        let now = self.now();
        self.db.write(move |tx| cards::finish(tx, &job, outcome.clone(), now)).await
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn payment_methods(&self) -> Vec<&'static str> {
        self.payments.methods()
    }

    // ---- auth ----

    pub async fn authenticate(&self, key: &str) -> Result<Principal> {
        let key = key.to_owned();
        self.db.read(move |tx| auth::authenticate(tx, &key)).await
    }

    /// Creates the first admin key unless one exists. Returns the key when one was created.
    pub async fn bootstrap_admin(&self, explicit: Option<String>) -> Result<Option<IssuedKey>> {
        let now = self.now();
        self.db
            .write(move |tx| {
                if auth::admin_exists(tx)? {
                    return Ok(None);
                }
                auth::issue(tx, "admin", None, "bootstrap admin", explicit.as_deref(), now).map(Some)
            })
            .await
    }

    pub async fn issue_key(&self, role: &str, location_id: Option<String>, label: String) -> Result<IssuedKey> {
        if role != "admin" && role != "staff" {
            return Err(bad("`role` must be admin or staff"));
        }
        let (role, now) = (role.to_owned(), self.now());
        self.db.write(move |tx| auth::issue(tx, &role, location_id.as_deref(), &label, None, now)).await
    }

    // ---- catalog ----

    pub async fn create_product(&self, input: ProductInput) -> Result<ProductView> {
        let input = catalog::validate(input)?;
        let now = self.now();
        self.db.write(move |tx| catalog::save_product(tx, &input, false, now)).await
    }

    /// Creates or updates products by handle. Every product is validated before anything is written;
    /// then they are saved in transactions of [`IMPORT_BATCH`] products, so that a large import never holds
    /// the writer for long. A database refusal (say, a GTIN already used by another product) stops the
    /// import with the number saved before it; running the same import again is safe (upsert by handle).
    pub async fn upsert_products(&self, products: Vec<ProductInput>) -> Result<usize> {
        let valid = products
            .into_iter()
            .enumerate()
            .map(|(i, p)| catalog::validate(p).map_err(|e| bad(format!("product #{}: {e}", i + 1))))
            .collect::<Result<Vec<_>>>()?;
        let mut saved = 0;
        for chunk in valid.chunks(IMPORT_BATCH) {
            let (chunk, now) = (chunk.to_vec(), self.now());
            let result = self
                .db
                .write(move |tx| {
                    for p in &chunk {
                        catalog::save_product(tx, p, true, now)?;
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
            .read(move |tx| catalog::load_product(tx, &id)?.ok_or_else(|| EngineError::not_found("product", &id)))
            .await
    }

    pub async fn list_products(&self, q: ProductQuery) -> Result<Vec<ProductView>> {
        self.db.read(move |tx| catalog::list_products(tx, &q)).await
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

    /// A product with per-location availability of each variant, for the storefront.
    pub async fn product_with_availability(&self, id: &str) -> Result<ProductWithAvailability> {
        let id = id.to_owned();
        self.db
            .read(move |tx| {
                let p = catalog::load_product(tx, &id)?.ok_or_else(|| EngineError::not_found("product", &id))?;
                if p.status != "active" {
                    return Err(EngineError::not_found("product", &id));
                }
                let mut availability = Vec::new();
                for v in &p.variants {
                    let levels = inventory::sku_levels(tx, &v.sku)?;
                    let mut online = 0;
                    let mut stores = Vec::new();
                    for l in levels.locations {
                        let avail = l.level.available;
                        if l.kind == "warehouse" {
                            online += avail;
                            continue;
                        }
                        let label = match (avail, l.pickup_enabled) {
                            (0, _) => catalog::Localized {
                                ko: format!("{} 품절", l.location_name.ko),
                                en: format!("Sold out at {}", l.location_name.en),
                            },
                            (n, true) => catalog::Localized {
                                ko: format!("{} {n}개, 오늘 픽업 가능", l.location_name.ko),
                                en: format!("{n} at {}, pickup today", l.location_name.en),
                            },
                            (n, false) => catalog::Localized {
                                ko: format!("{} {n}개 (매장 구매)", l.location_name.ko),
                                en: format!("{n} at {} (in store only)", l.location_name.en),
                            },
                        };
                        stores.push(StoreAvailability {
                            location_id: l.location_id,
                            code: l.location_code,
                            name: l.location_name,
                            kind: l.kind,
                            available: avail,
                            pickup_enabled: l.pickup_enabled,
                            label,
                        });
                    }
                    availability.push(VariantAvailability { sku: v.sku.clone(), online_available: online, stores });
                }
                Ok(ProductWithAvailability { product: p, availability })
            })
            .await
    }

    // ---- locations ----

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

    // ---- inventory ----

    /// Adds or removes on-hand stock (counts, receipts, damage). Positive deltas are receipts.
    pub async fn adjust_stock(&self, sku: &str, location_id: &str, delta: i64, reason: &str) -> Result<Level> {
        if delta == 0 || delta.abs() > domain::stock::MAX_ADJUSTMENT_QTY {
            return Err(bad(format!(
                "`quantity_delta` must be non-zero and within ±{}",
                domain::stock::MAX_ADJUSTMENT_QTY
            )));
        }
        let reason = domain::text::required("reason", reason, 200).map_err(bad)?;
        let (sku, loc, now) = (sku.to_owned(), location_id.to_owned(), self.now());
        self.db
            .write(move |tx| {
                let loc = locations::get(tx, &loc)?.ok_or_else(|| EngineError::not_found("location", &loc))?;
                if tx.query_opt("SELECT 1 FROM variants WHERE sku = ?", params![&sku])?.is_none() {
                    return Err(EngineError::not_found("sku", &sku));
                }
                let kind = if delta > 0 { MovementKind::Receipt } else { MovementKind::Adjustment };
                let source = domain::ids::new_id("adj");
                inventory::post(
                    tx,
                    &Movement {
                        sku: &sku,
                        location_id: &loc.id,
                        kind,
                        on_hand: delta,
                        reserved: 0,
                        unsellable: 0,
                        reason: &reason,
                        source_type: "adjustment",
                        source_id: &source,
                    },
                    Guard::None,
                    now,
                )
            })
            .await
    }

    /// Receives many (sku, location id or code, quantity) rows in one transaction (initial loads, demo).
    pub async fn receive_many(&self, rows: Vec<(String, String, i64)>, reason: &str) -> Result<usize> {
        if rows.iter().any(|r| r.2 <= 0 || r.2 > domain::stock::MAX_ADJUSTMENT_QTY) {
            return Err(bad("every received quantity must be 1–1,000,000"));
        }
        let (reason, now) = (reason.to_owned(), self.now());
        self.db
            .write(move |tx| {
                let source = domain::ids::new_id("rcv");
                let mut ids = std::collections::HashMap::new();
                for (sku, loc, q) in &rows {
                    if !ids.contains_key(loc) {
                        let l = locations::get(tx, loc)?.ok_or_else(|| EngineError::not_found("location", loc))?;
                        ids.insert(loc.clone(), l.id);
                    }
                    let m = Movement {
                        sku,
                        location_id: &ids[loc],
                        kind: MovementKind::Receipt,
                        on_hand: *q,
                        reserved: 0,
                        unsellable: 0,
                        reason: &reason,
                        source_type: "receipt",
                        source_id: &source,
                    };
                    inventory::post(tx, &m, Guard::None, now)?;
                }
                Ok(rows.len())
            })
            .await
    }

    /// Moves available stock from one location to another in one transaction.
    pub async fn transfer(&self, sku: &str, from: &str, to: &str, quantity: i64) -> Result<TransferView> {
        domain::Qty::new(quantity).map_err(bad)?;
        let (sku, from, to, now) = (sku.to_owned(), from.to_owned(), to.to_owned(), self.now());
        self.db
            .write(move |tx| {
                let f = locations::get(tx, &from)?.ok_or_else(|| EngineError::not_found("location", &from))?;
                let t = locations::get(tx, &to)?.ok_or_else(|| EngineError::not_found("location", &to))?;
                if f.id == t.id {
                    return Err(bad("a transfer needs two different locations"));
                }
                let id = domain::ids::new_id("trf");
                let out = Movement {
                    sku: &sku,
                    location_id: &f.id,
                    kind: MovementKind::TransferOut,
                    on_hand: -quantity,
                    reserved: 0,
                    unsellable: 0,
                    reason: "transfer",
                    source_type: "transfer",
                    source_id: &id,
                };
                let from_level = inventory::post(tx, &out, Guard::Available(quantity), now)?;
                let inn = Movement {
                    sku: &sku,
                    location_id: &t.id,
                    kind: MovementKind::TransferIn,
                    on_hand: quantity,
                    reserved: 0,
                    unsellable: 0,
                    reason: "transfer",
                    source_type: "transfer",
                    source_id: &id,
                };
                let to_level = inventory::post(tx, &inn, Guard::None, now)?;
                Ok(TransferView { id: id.clone(), sku: sku.clone(), from: from_level, to: to_level })
            })
            .await
    }

    pub async fn set_safety_stock(&self, sku: &str, location_id: &str, safety: i64) -> Result<Level> {
        let (sku, loc, now) = (sku.to_owned(), location_id.to_owned(), self.now());
        self.db
            .write(move |tx| {
                let l = locations::get(tx, &loc)?.ok_or_else(|| EngineError::not_found("location", &loc))?;
                inventory::set_safety_stock(tx, &sku, &l.id, safety, now)
            })
            .await
    }

    pub async fn stock(&self, sku: &str) -> Result<SkuLevels> {
        let sku = sku.to_owned();
        self.db.read(move |tx| inventory::sku_levels(tx, &sku)).await
    }

    pub async fn doctor(&self) -> Result<DoctorReport> {
        self.db
            .read(|tx| {
                let (n, drift) = inventory::doctor(tx)?;
                let (ledger_accounts_checked, ledger_drift) = ledger::doctor(tx)?;
                Ok(DoctorReport { balances_checked: n, drift, ledger_accounts_checked, ledger_drift })
            })
            .await
    }

    // ---- wallet & ledger ----

    /// Puts money on a customer's wallet at a counter (cash or card taken by staff): debits the location's
    /// cash account, credits the wallet. With an idempotency key, a retried top-up is not applied twice.
    #[allow(clippy::too_many_arguments)]
    pub async fn wallet_top_up(
        &self,
        principal: &Principal,
        customer_id: &str,
        amount_minor: i64,
        currency: &str,
        location_id: Option<String>,
        idempotency_key: Option<String>,
        request_hash: String,
    ) -> Result<TopUpView> {
        if let Some(k) = &idempotency_key {
            idempotency::validate_key(k)?;
        }
        let currency = domain::Currency::parse(currency).map_err(|e| bad(e.to_string()))?.code().to_owned();
        let location = match (principal.location(), location_id) {
            (Some(staff), Some(l)) if staff != l => {
                return Err(EngineError::Forbidden("staff take top-ups at their own location only".into()))
            }
            (Some(staff), _) => staff.to_owned(),
            (None, Some(l)) => l,
            (None, None) => "hq".to_owned(),
        };
        let (customer_id, now, scope) =
            (customer_id.to_owned(), self.now(), format!("wallet.topup:{}", principal.key_id()));
        self.db
            .write(move |tx| {
                customers::get(tx, &customer_id)?;
                let location = match locations::get(tx, &location)? {
                    Some(l) => l.id,
                    None if location == "hq" => location.clone(),
                    None => return Err(EngineError::not_found("location", &location)),
                };
                let transfer_id = domain::ids::new_id("trf");
                let wallet = ledger::wallet_account(tx, &customer_id, &currency, now)?;
                if let Some(k) = &idempotency_key {
                    if let Some(existing) = idempotency::begin(tx, &scope, k, &request_hash, &transfer_id, now)? {
                        let w = ledger::get_account(tx, &wallet)?.ok_or_else(|| EngineError::not_found("wallet", &customer_id))?;
                        return Ok(TopUpView { transfer_id: existing, wallet: w });
                    }
                }
                let cash = ledger::books_account(tx, ledger::kind::CASH, &location, &currency, now)?;
                let purpose = ledger::Purpose { reason: "wallet top-up at counter", ref_type: "topup", ref_id: &customer_id, transfer_id: Some(&transfer_id) };
                let id = ledger::single(tx, &cash, &wallet, amount_minor, &currency, &purpose, now)?;
                let w = ledger::get_account(tx, &wallet)?.ok_or_else(|| EngineError::not_found("wallet", &customer_id))?;
                events::emit(tx, "wallet.topped_up", &customer_id, &serde_json::json!({"transfer_id": &id, "amount_minor": amount_minor, "currency": &currency, "wallet": &w}), now)?;
                Ok(TopUpView { transfer_id: id, wallet: w })
            })
            .await
    }

    /// A shopper tops up their own wallet by card: the card is authorized and captured with the processor
    /// first (over the network, outside any transaction), then the wallet is credited from the card clearing
    /// account in one transaction. A retried request (same key) reuses the processor's payment and credits
    /// once; if the credit cannot be written after the capture, the capture is refunded.
    pub async fn self_top_up(
        &self,
        customer_id: &str,
        amount_minor: i64,
        currency: &str,
        payment_method: &str,
        idempotency_key: Option<String>,
    ) -> Result<TopUpView> {
        let gw = self.cards.clone().ok_or_else(|| {
            EngineError::invalid("unsupported_payment_method", "card payments are not configured on this server")
        })?;
        // The key is what makes a retry safe after an unknown outcome (a timeout after the capture), so it is
        // required here.
        let key = idempotency_key.ok_or_else(|| {
            EngineError::invalid("idempotency_key_required", "a card top-up needs an `Idempotency-Key`")
        })?;
        idempotency::validate_key(&key)?;
        if !(1..=10_000_000_000).contains(&amount_minor) {
            return Err(EngineError::invalid("invalid_amount", "a top-up is 1 to 10^10 minor units"));
        }
        if payment_method.is_empty() || payment_method.len() > 255 {
            return Err(EngineError::invalid("card_required", "a card's payment method token is 1–255 characters"));
        }
        let currency = domain::Currency::parse(currency).map_err(|e| bad(e.to_string()))?.code().to_owned();
        let scope = format!("wallet.selftopup:{customer_id}");
        let request_hash = idempotency::fingerprint(&[&amount_minor.to_string(), &currency, payment_method]);
        // Already credited under this key: answer from our records, without asking the processor again
        // (its own key memory is shorter than ours).
        {
            let (scope, key, hash, cid, cur) =
                (scope.clone(), key.clone(), request_hash.clone(), customer_id.to_owned(), currency.clone());
            let done = self
                .db
                .read(move |tx| {
                    let Some(r) = tx.query_opt(
                        "SELECT request_hash, response FROM idempotency_keys WHERE scope = ? AND key = ?",
                        params![&scope, &key],
                    )?
                    else {
                        return Ok(None);
                    };
                    if r.text(0)? != hash {
                        return Err(EngineError::conflict(
                            "idempotency_key_reused",
                            "this Idempotency-Key was already used with a different request",
                        ));
                    }
                    let w = ledger::get_account(tx, &format!("wallet:{cid}:{cur}"))?
                        .ok_or_else(|| EngineError::not_found("wallet", &cid))?;
                    Ok(Some(TopUpView { transfer_id: r.text(1)?, wallet: w }))
                })
                .await?;
            if let Some(v) = done {
                return Ok(v);
            }
        }
        // A velocity limit: stolen-card testers try many cards on one account.
        {
            let (code, since) = (format!("wallet:{customer_id}:{currency}"), self.now() - 3_600_000);
            let recent = self
                .db
                .read(move |tx| -> Result<i64> {
                    Ok(tx
                        .query_one(
                            "SELECT COUNT(*) FROM ledger_transfers t JOIN ledger_accounts a ON a.id = t.credit_account_id WHERE a.code = ? AND t.ref_type = 'card_payment' AND t.created_at > ?",
                            params![&code, since],
                        )?
                        .i64(0)?)
                })
                .await?;
            if recent >= MAX_CARD_TOP_UPS_PER_HOUR {
                return Err(EngineError::RateLimited(format!(
                    "at most {MAX_CARD_TOP_UPS_PER_HOUR} card top-ups an hour; try again later"
                )));
            }
        }
        let base = format!("selftopup:{customer_id}:{key}");
        let payment =
            gw.authorize(amount_minor, &currency, payment_method, &format!("{base}:auth")).await.map_err(card_error)?;
        match gw.capture(&payment, amount_minor, &format!("{base}:capture")).await {
            Ok(()) => {}
            Err(cards::CardError::Declined(code)) => {
                let _ = gw.cancel(&payment, &format!("{base}:cancel")).await;
                return Err(EngineError::PaymentDeclined(code));
            }
            // Unknown outcome: nothing is credited and nothing cancelled; the retry with the same key gets
            // the processor's answer.
            Err(e) => return Err(card_error(e)),
        }
        let (cid, now, pid) = (customer_id.to_owned(), self.now(), payment.clone());
        let result = self
            .db
            .write(move |tx| {
                customers::get(tx, &cid)?;
                let transfer_id = domain::ids::new_id("trf");
                let wallet = ledger::wallet_account(tx, &cid, &currency, now)?;
                if let Some(existing) = idempotency::begin(tx, &scope, &key, &request_hash, &transfer_id, now)? {
                    let w = ledger::get_account(tx, &wallet)?.ok_or_else(|| EngineError::not_found("wallet", &cid))?;
                    return Ok(TopUpView { transfer_id: existing, wallet: w });
                }
                let clearing = ledger::books_account(tx, ledger::kind::CLEARING, "card", &currency, now)?;
                let purpose = ledger::Purpose { reason: "wallet top-up by card", ref_type: "card_payment", ref_id: &pid, transfer_id: Some(&transfer_id) };
                let id = ledger::single(tx, &clearing, &wallet, amount_minor, &currency, &purpose, now)?;
                let w = ledger::get_account(tx, &wallet)?.ok_or_else(|| EngineError::not_found("wallet", &cid))?;
                events::emit(tx, "wallet.topped_up", &cid, &serde_json::json!({"transfer_id": &id, "amount_minor": amount_minor, "currency": &currency, "card_payment": &pid}), now)?;
                Ok(TopUpView { transfer_id: id, wallet: w })
            })
            .await;
        if let Err(e) = &result {
            // Captured but not credited: a retry with the same key credits it (the processor replays the
            // capture). Refunding here would let that retry credit money the card no longer paid.
            tracing::error!(payment = %payment, error = %e, "card captured but the wallet credit failed; a retry with the same Idempotency-Key will credit it");
        }
        result
    }

    /// A customer's ledger accounts (one wallet per currency used).
    pub async fn wallet(&self, customer_id: &str) -> Result<Vec<ledger::AccountView>> {
        let id = customer_id.to_owned();
        self.db
            .read(move |tx| {
                customers::get(tx, &id)?;
                ledger::accounts_of(tx, &id)
            })
            .await
    }

    /// Transfers on a customer's wallet in one currency, after `after` (a statement `seq`).
    pub async fn wallet_statement(
        &self,
        customer_id: &str,
        currency: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<ledger::StatementLine>> {
        let currency = domain::Currency::parse(currency).map_err(|e| bad(e.to_string()))?.code().to_owned();
        let code = format!("wallet:{customer_id}:{currency}");
        self.db
            .read(move |tx| match ledger::get_account(tx, &code)? {
                Some(a) => ledger::statement(tx, &a.id, after, limit),
                None => Ok(Vec::new()),
            })
            .await
    }

    /// Creates a ledger account if it does not exist (finance: cash drawers, clearing accounts; benches).
    pub async fn ensure_account(
        &self,
        code: &str,
        kind: &str,
        currency: &str,
        owner_id: Option<String>,
        no_overdraft: bool,
    ) -> Result<ledger::AccountView> {
        let currency = domain::Currency::parse(currency).map_err(|e| bad(e.to_string()))?.code().to_owned();
        let code = domain::text::required("code", code, 200).map_err(bad)?;
        let kind = domain::text::required("kind", kind, 40).map_err(bad)?;
        let now = self.now();
        self.db
            .write(move |tx| {
                let id = ledger::account(tx, &code, &kind, &currency, owner_id.as_deref(), no_overdraft, now)?;
                ledger::get_account(tx, &id)?.ok_or_else(|| EngineError::not_found("ledger account", &code))
            })
            .await
    }

    /// Transfers touching any ledger account (by code or id), after `after` (a statement `seq`).
    pub async fn account_statement(
        &self,
        code_or_id: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<ledger::StatementLine>> {
        let id = code_or_id.to_owned();
        self.db
            .read(move |tx| {
                let a = ledger::get_account(tx, &id)?.ok_or_else(|| EngineError::not_found("ledger account", &id))?;
                ledger::statement(tx, &a.id, after, limit)
            })
            .await
    }

    pub async fn ledger_account(&self, code_or_id: &str) -> Result<ledger::AccountView> {
        let id = code_or_id.to_owned();
        self.db
            .read(move |tx| ledger::get_account(tx, &id)?.ok_or_else(|| EngineError::not_found("ledger account", &id)))
            .await
    }

    /// Posts single-phase transfers between existing accounts (by code or id), all in one transaction:
    /// either every transfer posts or none does. Finance corrections and bulk postings use this; each
    /// transfer keeps its own guard (a wallet cannot be overdrawn halfway through a batch).
    pub async fn post_transfers(&self, batch: Vec<ledger::TransferSpec>) -> Result<Vec<String>> {
        self.post_transfers_once(batch, None).await
    }

    /// [`Engine::post_transfers`] under an idempotency key `(scope, key, request hash)`: a retried batch
    /// returns the first run's transfer ids and posts nothing.
    pub async fn post_transfers_once(
        &self,
        batch: Vec<ledger::TransferSpec>,
        idem: Option<(String, String, String)>,
    ) -> Result<Vec<String>> {
        if let Some((_, k, _)) = &idem {
            idempotency::validate_key(k)?;
        }
        if batch.is_empty() || batch.len() > ledger::MAX_BATCH {
            return Err(bad(format!("a batch holds 1–{} transfers", ledger::MAX_BATCH)));
        }
        for (i, t) in batch.iter().enumerate() {
            domain::text::required("reason", &t.reason, 200).map_err(|m| bad(format!("transfer #{}: {m}", i + 1)))?;
            domain::text::optional("reference", &t.reference, 200)
                .map_err(|m| bad(format!("transfer #{}: {m}", i + 1)))?;
        }
        let now = self.now();
        self.db
            .write(move |tx| {
                let mut cache: std::collections::HashMap<String, String> = Default::default();
                let mut items = Vec::with_capacity(batch.len());
                for t in &batch {
                    let mut ids = [String::new(), String::new()];
                    for (slot, code) in ids.iter_mut().zip([&t.debit_account, &t.credit_account]) {
                        *slot = match cache.get(code) {
                            Some(id) => id.clone(),
                            None => {
                                let a = ledger::get_account(tx, code)?
                                    .ok_or_else(|| EngineError::not_found("ledger account", code.clone()))?;
                                cache.insert(code.clone(), a.id.clone());
                                a.id
                            }
                        };
                    }
                    let [debit, credit] = ids;
                    let currency =
                        domain::Currency::parse(&t.currency).map_err(|e| bad(e.to_string()))?.code().to_owned();
                    items.push(ledger::BatchItem {
                        debit,
                        credit,
                        amount: t.amount_minor,
                        currency,
                        reason: t.reason.trim().to_owned(),
                        reference: t.reference.trim().to_owned(),
                    });
                }
                if let Some((scope, key, hash)) = &idem {
                    if let Some(prev) = idempotency::begin(tx, scope, key, hash, "", now)? {
                        return Ok(serde_json::from_str(&prev).unwrap_or_default());
                    }
                }
                let ids = ledger::post_many(tx, &items, now)?;
                if let Some((scope, key, _)) = &idem {
                    idempotency::set_result(tx, scope, key, &serde_json::to_string(&ids).unwrap_or_default())?;
                }
                Ok(ids)
            })
            .await
    }

    /// The till asks for payment: a request the shopper scans (merchant-presented QR) and confirms.
    pub async fn create_payment_request(
        &self,
        principal: &Principal,
        location_id: Option<String>,
        lines: Vec<SaleLineInput>,
        currency: Option<String>,
    ) -> Result<payrequests::PaymentRequestView> {
        let location_id = match (principal.location(), location_id) {
            (Some(staff), Some(l)) if staff != l => {
                return Err(EngineError::Forbidden("staff take payments at their own location only".into()))
            }
            (Some(staff), _) => staff.to_owned(),
            (None, Some(l)) => l,
            (None, None) => return Err(bad("`location_id` is required for an admin key")),
        };
        let currency = domain::Currency::parse(currency.as_deref().unwrap_or("KRW"))
            .map_err(|e| bad(e.to_string()))?
            .code()
            .to_owned();
        let (key_id, now) = (principal.key_id().to_owned(), self.now());
        self.db.write(move |tx| payrequests::create(tx, &location_id, &lines, &currency, &key_id, now)).await
    }

    pub async fn payment_request(&self, id_or_qr: &str) -> Result<payrequests::PaymentRequestView> {
        let (id, now) = (id_or_qr.to_owned(), self.now());
        self.db.read(move |tx| payrequests::get(tx, &id, now)).await
    }

    /// The shopper confirms a scanned payment request: the sale posts and the wallet pays, atomically.
    pub async fn confirm_payment_request(&self, id_or_qr: &str, customer_id: &str) -> Result<OrderView> {
        let (id, cid, now, payments) = (id_or_qr.to_owned(), customer_id.to_owned(), self.now(), self.payments.clone());
        self.db.write(move |tx| payrequests::confirm(tx, &payments, &id, &cid, now)).await
    }

    /// Records an exchange rate (1 `base` = `rate` `quote`) taking effect at `effective_at` (default now).
    pub async fn record_fx_rate(
        &self,
        base: &str,
        quote: &str,
        rate: &str,
        effective_at: Option<i64>,
    ) -> Result<fx::RateView> {
        let (base, quote, rate, now) = (base.to_owned(), quote.to_owned(), rate.to_owned(), self.now());
        self.db.write(move |tx| fx::record(tx, &base, &quote, &rate, effective_at.unwrap_or(now), now)).await
    }

    pub async fn fx_rates(&self) -> Result<Vec<fx::RateView>> {
        self.db.read(fx::list).await
    }

    /// Sells a gift card at a counter: a new stored-value account funded from the location's cash.
    /// Returns the card's code (shown once; only its hash is stored) and balance.
    pub async fn issue_gift_card(
        &self,
        principal: &Principal,
        amount_minor: i64,
        currency: &str,
        location_id: Option<String>,
        idempotency_key: Option<String>,
        request_hash: String,
    ) -> Result<GiftCardView> {
        if let Some(k) = &idempotency_key {
            idempotency::validate_key(k)?;
        }
        let currency = domain::Currency::parse(currency).map_err(|e| bad(e.to_string()))?.code().to_owned();
        let location = match (principal.location(), location_id) {
            (Some(staff), Some(l)) if staff != l => {
                return Err(EngineError::Forbidden("staff sell gift cards at their own location only".into()))
            }
            (Some(staff), _) => staff.to_owned(),
            (None, Some(l)) => l,
            (None, None) => "hq".to_owned(),
        };
        let now = self.now();
        let scope = format!("giftcard.sale:{}", principal.key_id());
        self.db
            .write(move |tx| {
                let location = match locations::get(tx, &location)? {
                    Some(l) => l.id,
                    None if location == "hq" => location.clone(),
                    None => return Err(EngineError::not_found("location", &location)),
                };
                // With an idempotency key the code is derived from it (and the installation's secret), so a
                // retried sale returns the same card although the code itself is never stored.
                let raw: [u8; 10] = match &idempotency_key {
                    Some(k) => paycodes::derive(tx, &format!("{scope}\u{1f}{k}"))?,
                    None => rand::random(),
                };
                let digits: String = raw
                    .iter()
                    .flat_map(|b| [b >> 4, b & 15])
                    .take(16)
                    .map(|n| char::from(b"0123456789ABCDEF"[n as usize]))
                    .collect();
                let card = format!("GC-{}-{}-{}-{}", &digits[0..4], &digits[4..8], &digits[8..12], &digits[12..16]);
                let account = ledger::gift_card_account_code(&card, &currency);
                let view = |tx: &mut dyn store::Tx| -> Result<GiftCardView> {
                    let a = ledger::get_account(tx, &account)?
                        .ok_or_else(|| EngineError::not_found("gift card", &account))?;
                    Ok(GiftCardView {
                        code: Some(card.clone()),
                        last4: card[card.len() - 4..].to_owned(),
                        currency: a.currency,
                        balance_minor: a.balance_minor,
                        available_minor: a.available_minor,
                    })
                };
                if let Some(k) = &idempotency_key {
                    if idempotency::begin(tx, &scope, k, &request_hash, &account, now)?.is_some() {
                        return view(tx);
                    }
                }
                let id = ledger::account(tx, &account, ledger::kind::GIFT_CARD, &currency, None, true, now)?;
                let cash = ledger::books_account(tx, ledger::kind::CASH, &location, &currency, now)?;
                let purpose = ledger::Purpose {
                    reason: "gift card sold",
                    ref_type: "gift_card",
                    ref_id: &account,
                    transfer_id: None,
                };
                ledger::single(tx, &cash, &id, amount_minor, &currency, &purpose, now)?;
                view(tx)
            })
            .await
    }

    /// A gift card's balance by its code.
    pub async fn gift_card(&self, code: &str) -> Result<GiftCardView> {
        let code = code.trim().to_owned();
        self.db
            .read(move |tx| {
                for c in domain::Currency::ALL {
                    let account = ledger::gift_card_account_code(&code, c.code());
                    if let Some(a) = ledger::get_account(tx, &account)? {
                        let last4: String = code
                            .chars()
                            .rev()
                            .filter(|c| c.is_ascii_alphanumeric())
                            .take(4)
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .collect();
                        return Ok(GiftCardView {
                            code: None,
                            last4,
                            currency: a.currency,
                            balance_minor: a.balance_minor,
                            available_minor: a.available_minor,
                        });
                    }
                }
                Err(EngineError::invalid("invalid_gift_card", "unknown gift card"))
            })
            .await
    }

    /// A cashierless entry gate scanned a shopper's payment code: opens the visit and pre-authorizes their
    /// wallet up to the configured cap.
    pub async fn cashierless_enter(
        &self,
        principal: &Principal,
        location_id: &str,
        payment_code: &str,
        idempotency_key: Option<String>,
    ) -> Result<cashierless::SessionView> {
        if let Some(staff) = principal.location() {
            if staff != location_id {
                return Err(EngineError::Forbidden("a gate acts for its own store only".into()));
            }
        }
        if let Some(k) = &idempotency_key {
            idempotency::validate_key(k)?;
        }
        let (loc, code, cap, now) =
            (location_id.to_owned(), payment_code.to_owned(), self.cfg.cashierless_cap_minor, self.now());
        let scope = format!("cashierless.enter:{}", principal.key_id());
        self.db
            .write(move |tx| {
                let loc = locations::get(tx, &loc)?.ok_or_else(|| EngineError::not_found("location", &loc))?.id;
                if let Some(k) = &idempotency_key {
                    // A gate retrying the same scan gets the same visit.
                    let hash = idempotency::fingerprint(&[&loc, &code]);
                    if let Some(existing) = idempotency::begin(tx, &scope, k, &hash, "", now)? {
                        return cashierless::view(tx, &existing);
                    }
                    let s = cashierless::enter(tx, &loc, &code, cap, "KRW", now)?;
                    idempotency::set_result(tx, &scope, k, &s.id)?;
                    return Ok(s);
                }
                cashierless::enter(tx, &loc, &code, cap, "KRW", now)
            })
            .await
    }

    /// The exit gate: the basket (possibly empty) is sold and charged from the entry hold.
    pub async fn cashierless_exit(
        &self,
        principal: &Principal,
        session_id: &str,
        lines: Vec<SaleLineInput>,
    ) -> Result<(cashierless::SessionView, Option<OrderView>)> {
        let (id, key, now, payments, staff) = (
            session_id.to_owned(),
            principal.key_id().to_owned(),
            self.now(),
            self.payments.clone(),
            principal.location().map(str::to_owned),
        );
        self.db
            .write(move |tx| {
                let s = cashierless::view(tx, &id)?;
                if staff.as_deref().is_some_and(|l| l != s.location_id) {
                    return Err(EngineError::Forbidden("a gate acts for its own store only".into()));
                }
                cashierless::exit(tx, &payments, &id, lines.clone(), &key, now)
            })
            .await
    }

    // ---- live cashierless stores (devices, fusion, reviews) ----

    /// Replaces a cashierless store's layout (planogram and facings); the store's fusion state restarts
    /// from it.
    pub async fn put_store_layout(&self, location_id: &str, layout: instore_live::LayoutInput) -> Result<()> {
        let (loc, now) = (location_id.to_owned(), self.now());
        let cell = self.instore_cell(location_id);
        let mut rt = cell.lock().await;
        self.db.write(move |tx| instore_live::put_layout(tx, &loc, &layout, now)).await?;
        *rt = None;
        Ok(())
    }

    pub async fn store_layout(&self, location_id: &str) -> Result<instore_live::LayoutInput> {
        let loc = location_id.to_owned();
        self.db
            .read(move |tx| {
                instore_live::get_layout(tx, &loc)?.ok_or_else(|| EngineError::not_found("store layout", &loc))
            })
            .await
    }

    /// Registers a device at a store; its token is shown once.
    pub async fn register_device(
        &self,
        location_id: &str,
        kind: &str,
        code: &str,
        sku: Option<String>,
    ) -> Result<instore_live::IssuedDevice> {
        let (loc, kind, code, now) = (location_id.to_owned(), kind.to_owned(), code.to_owned(), self.now());
        self.db.write(move |tx| instore_live::register(tx, &loc, &kind, &code, sku.as_deref(), now)).await
    }

    /// A new token for a device (the old one stops working); shown once.
    pub async fn rotate_device_token(&self, location_id: &str, device_id: &str) -> Result<instore_live::IssuedDevice> {
        let (loc, dev, now) = (location_id.to_owned(), device_id.to_owned(), self.now());
        self.db.write(move |tx| instore_live::rotate_token(tx, &loc, &dev, now)).await
    }

    /// Takes a device out of service for good; returns the store's devices view of it.
    pub async fn revoke_device(&self, location_id: &str, device_id: &str) -> Result<instore_live::DeviceView> {
        let (loc, dev, now) = (location_id.to_owned(), device_id.to_owned(), self.now());
        self.db.write(move |tx| instore_live::revoke(tx, &loc, &dev, now)).await?;
        self.devices(location_id)
            .await?
            .into_iter()
            .find(|d| d.id == device_id)
            .ok_or_else(|| EngineError::not_found("device", device_id))
    }

    /// The event feed's current end (a consumer that starts here sees only what commits from now on).
    pub async fn events_head(&self) -> Result<events::Cursor> {
        self.db.read(events::head).await
    }

    /// What every shelf label should show now (a full sync, at start).
    pub async fn all_label_commands(&self) -> Result<Vec<instore_live::LabelCommand>> {
        self.db.read(|tx| instore_live::label_commands(tx, None)).await
    }

    /// The label commands for products that changed after `cursors.0` (prices, titles) and for labels
    /// registered after `cursors.1`; returns the cursors after them.
    pub async fn label_commands_after(
        &self,
        cursors: (events::Cursor, events::Cursor),
    ) -> Result<(Vec<instore_live::LabelCommand>, (events::Cursor, events::Cursor))> {
        let (c0, c1) = cursors;
        let (products, n0) =
            self.db.read(move |tx| events::feed(tx, c0, events::MAX_FEED_PAGE, Some("product."))).await?;
        let (labels, n1) = self
            .db
            .read(move |tx| events::feed(tx, c1, events::MAX_FEED_PAGE, Some("instore.label_registered")))
            .await?;
        let mut skus: Vec<String> = products
            .iter()
            .flat_map(|e| e.data["product"]["variants"].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v["sku"].as_str().map(str::to_owned))
            .chain(labels.iter().filter_map(|e| e.data["sku"].as_str().map(str::to_owned)))
            .collect();
        skus.sort();
        skus.dedup();
        if skus.is_empty() {
            return Ok((Vec::new(), (n0, n1)));
        }
        let cmds = self.db.read(move |tx| instore_live::label_commands(tx, Some(&skus))).await?;
        Ok((cmds, (n0, n1)))
    }

    /// Devices whose token was rotated or that were revoked after `cursor` (the embedded broker closes
    /// their connections at once), and the cursor to pass next.
    pub async fn device_credential_changes_after(
        &self,
        cursor: events::Cursor,
    ) -> Result<(Vec<String>, events::Cursor)> {
        let (evs, next) =
            self.db.read(move |tx| events::feed(tx, cursor, events::MAX_FEED_PAGE, Some("device."))).await?;
        Ok((evs.into_iter().map(|e| e.aggregate_id).collect(), next))
    }

    /// A store's shelf labels with the catalog price and what each last confirmed showing.
    pub async fn store_labels(&self, location_id: &str) -> Result<Vec<instore_live::LabelView>> {
        let loc = location_id.to_owned();
        self.db.read(move |tx| instore_live::labels(tx, &loc)).await
    }

    pub async fn devices(&self, location_id: &str) -> Result<Vec<instore_live::DeviceView>> {
        let loc = location_id.to_owned();
        self.db.read(move |tx| instore_live::list_devices(tx, &loc)).await
    }

    /// A device by its store's code and its own code, with the key its MQTT payloads are signed with.
    pub async fn device_by_code(
        &self,
        location_code: &str,
        device_code: &str,
    ) -> Result<(instore_live::DeviceRef, String)> {
        let (l, d) = (location_code.to_owned(), device_code.to_owned());
        self.db.read(move |tx| instore_live::by_code(tx, &l, &d)).await
    }

    pub async fn authenticate_device(&self, token: &str) -> Result<instore_live::DeviceRef> {
        let token = token.to_owned();
        self.db.read(move |tx| instore_live::authenticate(tx, &token)).await
    }

    /// The MQTT identity of the device holding `token` (the embedded broker's login and topic ACL).
    pub async fn device_mqtt_identity(&self, token: &str) -> Result<instore_live::MqttIdentity> {
        let token = token.to_owned();
        self.db.read(move |tx| instore_live::mqtt_identity(tx, &token)).await
    }

    fn instore_cell(&self, location_id: &str) -> Arc<tokio::sync::Mutex<Option<instore_live::Runtime>>> {
        self.instore.lock().unwrap_or_else(|e| e.into_inner()).entry(location_id.to_owned()).or_default().clone()
    }

    /// Builds a store's fusion state: the layout, then every stored event since the oldest open visit
    /// entered, folded again (tracks bound to open visits come from the database; nothing is charged twice).
    async fn instore_load(&self, location_id: &str, slot: &mut Option<instore_live::Runtime>) -> Result<()> {
        if slot.is_some() {
            return Ok(());
        }
        let loc = location_id.to_owned();
        let snap = self.db.read(move |tx| instore_live::snapshot(tx, &loc)).await?;
        let layout = snap.layout.ok_or_else(|| {
            EngineError::invalid("no_layout", "this store has no layout yet: PUT /admin/stores/{id}/layout first")
        })?;
        let mut rt = instore_live::Runtime::new(&layout)?;
        let bound: HashMap<String, String> = snap.tracks.into_iter().collect();
        let mut finished: HashMap<String, String> = snap.finished.into_iter().collect();
        // Sensor events from before the first open visit entered (by more than a few seconds) belong to
        // visits that are over; folding them again would only raise reviews nobody can settle.
        let start = snap
            .events
            .iter()
            .filter_map(|(e, _)| match e {
                instore_live::DeviceEvent::Entry { t, target_id, .. }
                    if bound.contains_key(target_id) || finished.contains_key(target_id) =>
                {
                    Some(*t)
                }
                _ => None,
            })
            .reduce(f64::min)
            .unwrap_or(f64::INFINITY)
            - 5.0;
        for (e, ends_batch) in &snap.events {
            let before_window = e.first_t().is_some_and(|t| t < start);
            match e {
                _ if before_window => {}
                instore_live::DeviceEvent::Entry { t, target_id, .. } => {
                    // A track id may have served an ended visit first and an open one later.
                    let r = match (finished.remove(target_id), bound.get(target_id)) {
                        (Some(done), _) => rt.admit_finished(target_id, &done, *t),
                        (None, Some(session)) => rt.admit(target_id, session, *t),
                        (None, None) => Ok(()),
                    };
                    if let Err(e) = r {
                        tracing::warn!(track = %target_id, error = %e, "instore: a replayed entry no longer applies");
                    }
                }
                instore_live::DeviceEvent::Exit { t, target_id, .. } => rt.leave(target_id, *t),
                other => rt.apply_sensor(other),
            }
            // As live: the clock moves after each device batch (staff resolutions do not move it).
            if *ends_batch && !matches!(e, instore_live::DeviceEvent::Review { .. }) {
                rt.fusion.advance(rt.now_s);
            }
        }
        rt.take_zone_events();
        *slot = Some(rt);
        Ok(())
    }

    /// Takes a batch of events from a device: each is checked, the valid ones are stored (duplicates
    /// dropped, gaps reported) in one transaction and only then applied and acknowledged. Entries open
    /// visits (a wallet hold from the shopper's payment code); exits place the cashierless order when no
    /// review is pending for the visit.
    pub async fn ingest_device_events(
        &self,
        dev: &instore_live::DeviceRef,
        batch: Vec<serde_json::Value>,
    ) -> Result<instore_live::IngestOutcome> {
        // Detached: a client that hangs up cannot stop a batch halfway between storing and applying it.
        let (this, dev) = (self.clone(), dev.clone());
        tokio::spawn(async move { this.ingest_batch(&dev, batch).await })
            .await
            .map_err(|e| internal(format!("device batch stopped: {e}")))?
    }

    async fn ingest_batch(
        &self,
        dev: &instore_live::DeviceRef,
        batch: Vec<serde_json::Value>,
    ) -> Result<instore_live::IngestOutcome> {
        if batch.is_empty() || batch.len() > instore_live::MAX_BATCH {
            return Err(bad(format!("a batch holds 1–{} events", instore_live::MAX_BATCH)));
        }
        let mut out = instore_live::IngestOutcome::default();
        let mut valid = Vec::new();
        for (index, v) in batch.iter().enumerate() {
            match instore_live::parse_event(&dev.kind, v) {
                Ok(e) => valid.push(e),
                Err(error) => out.rejected.push(instore_live::Rejected {
                    index,
                    seq: v.get("seq").and_then(|s| s.as_i64()),
                    error,
                }),
            }
        }
        if dev.kind == "esl" {
            // Labels (in any store) only confirm what they show: stored, no fusion state involved.
            let (d, now, rejected) = (dev.clone(), self.now(), out.rejected.len());
            let (stored, dups, gaps) =
                self.db.write(move |tx| instore_live::store_events(tx, &d, &valid, rejected, now)).await?;
            out.accepted = stored.len();
            out.duplicates = dups;
            out.gaps = gaps;
            return Ok(out);
        }
        let cell = self.instore_cell(&dev.location_id);
        let mut guard = cell.lock().await;
        self.instore_load(&dev.location_id, &mut guard).await?;
        // Plates that are not in the layout are refused before anything is stored.
        if let Some(rt) = guard.as_ref() {
            let before = valid.len();
            let mut kept = Vec::with_capacity(before);
            for e in valid {
                if let instore_live::DeviceEvent::Plates { seq, gondola, samples, .. } = &e {
                    if let Some(s) = samples.iter().find(|s| {
                        rt.fusion.plate_index(instore::PlateKey { gondola: *gondola, shelf: s.1, plate: s.2 }).is_none()
                    }) {
                        let index =
                            batch.iter().position(|v| v.get("seq").and_then(|x| x.as_i64()) == Some(*seq)).unwrap_or(0);
                        out.rejected.push(instore_live::Rejected {
                            index,
                            seq: Some(*seq),
                            error: format!(
                                "gondola {gondola} shelf {} plate {} is not in the store's layout",
                                s.1, s.2
                            ),
                        });
                        continue;
                    }
                }
                kept.push(e);
            }
            valid = kept;
        }
        let (d, now, rejected) = (dev.clone(), self.now(), out.rejected.len());
        let (stored, dups, gaps) =
            self.db.write(move |tx| instore_live::store_events(tx, &d, &valid, rejected, now)).await?;
        out.accepted = stored.len();
        out.duplicates = dups;
        out.gaps = gaps;
        let rt = guard.as_mut().ok_or_else(|| internal("store state missing".into()))?;
        for e in &stored {
            match e {
                instore_live::DeviceEvent::Entry { t, target_id, payment_code, with_target, .. } => {
                    let decision = self
                        .instore_enter(
                            &dev.location_id,
                            rt,
                            *t,
                            target_id,
                            payment_code.as_deref(),
                            with_target.as_deref(),
                        )
                        .await;
                    out.entries.push(decision);
                }
                instore_live::DeviceEvent::Exit { t, target_id, .. } => rt.leave(target_id, *t),
                other => rt.apply_sensor(other),
            }
        }
        rt.fusion.advance(rt.now_s);
        let zones = rt.take_zone_events();
        if !zones.is_empty() {
            let (loc, now) = (dev.location_id.clone(), self.now());
            if let Err(e) = self.db.write(move |tx| instore_live::emit_zone_events(tx, &loc, &zones, now)).await {
                tracing::warn!(error = %e, "instore: writing zone events failed (analytics only)");
            }
        }
        out.orders = self.instore_settle(&dev.location_id, rt).await;
        if rt.wants_reset() {
            *guard = None;
        }
        Ok(out)
    }

    async fn instore_enter(
        &self,
        location_id: &str,
        rt: &mut instore_live::Runtime,
        t: f64,
        target: &str,
        code: Option<&str>,
        with: Option<&str>,
    ) -> instore_live::EntryDecision {
        let refuse = |reason: String| instore_live::EntryDecision {
            target_id: target.to_owned(),
            admitted: false,
            session_id: None,
            reason: Some(reason),
        };
        if rt.visit_of.contains_key(target) {
            return refuse(format!("track `{target}` is already inside"));
        }
        if !rt.has_room() {
            return refuse("the store's tracking is full; try again when shoppers have left".into());
        }
        let session = match (code, with) {
            (_, Some(w)) => match rt.visit_of.get(w) {
                Some(s) => {
                    let (loc, tgt, sid) = (location_id.to_owned(), target.to_owned(), s.clone());
                    if let Err(e) = self.db.write(move |tx| instore_live::bind_track(tx, &loc, &tgt, &sid)).await {
                        return refuse(e.to_string());
                    }
                    s.clone()
                }
                None => return refuse(format!("`{w}` is not inside")),
            },
            (Some(code), None) => {
                // The visit, its wallet hold and the track binding in one transaction.
                let (loc, code, cap, now, tgt) = (
                    location_id.to_owned(),
                    code.to_owned(),
                    self.cfg.cashierless_cap_minor,
                    self.now(),
                    target.to_owned(),
                );
                let r: Result<cashierless::SessionView> = self
                    .db
                    .write(move |tx| {
                        let s = cashierless::enter(tx, &loc, &code, cap, "KRW", now)?;
                        instore_live::bind_track(tx, &loc, &tgt, &s.id)?;
                        Ok(s)
                    })
                    .await;
                match r {
                    Ok(s) => s.id,
                    Err(e) => return refuse(e.to_string()),
                }
            }
            (None, None) => return refuse("no payment code".into()),
        };
        if let Err(e) = rt.admit(target, &session, t) {
            tracing::error!(visit = %session, track = %target, error = %e, "instore: the visit is open but its track could not be followed");
            return refuse(e);
        }
        instore_live::EntryDecision {
            target_id: target.to_owned(),
            admitted: true,
            session_id: Some(session),
            reason: None,
        }
    }

    /// Places the orders of visits that have left and have no review pending; returns the orders placed.
    /// A failed write leaves the visit waiting; the next batch retries.
    async fn instore_settle(&self, location_id: &str, rt: &mut instore_live::Runtime) -> Vec<String> {
        let mut placed = Vec::new();
        for session in rt.leaving.clone() {
            if rt.pending_for(&session) > 0 {
                continue;
            }
            let lines = rt.basket(&session);
            let (payments, now, sid, key) =
                (self.payments.clone(), self.now(), session.clone(), format!("instore:{location_id}"));
            match self.db.write(move |tx| cashierless::exit(tx, &payments, &sid, lines.clone(), &key, now)).await {
                Ok((_, order)) => {
                    placed.extend(order.map(|o| o.id));
                    rt.close(&session);
                }
                Err(e @ EngineError::Db(_)) => {
                    tracing::warn!(visit = %session, error = %e, "instore: placing the visit's order failed; retrying with the next events")
                }
                Err(e) => {
                    // It will not succeed by retrying (a product without a KRW price, stock the ledger
                    // does not have, a visit closed by staff): stop retrying and tell staff.
                    tracing::error!(visit = %session, error = %e, "instore: the visit's order cannot be placed; staff must settle it");
                    let (sid, msg, now) = (session.clone(), e.to_string(), self.now());
                    let _ = self
                        .db
                        .write(move |tx| {
                            events::emit(
                                tx,
                                "cashierless.exit_failed",
                                &sid,
                                &serde_json::json!({"session": &sid, "error": msg}),
                                now,
                            )
                        })
                        .await;
                    rt.close(&session);
                }
            }
        }
        placed
    }

    /// The store's open review items.
    pub async fn store_reviews(&self, location_id: &str) -> Result<Vec<instore_live::ReviewView>> {
        let cell = self.instore_cell(location_id);
        let mut guard = cell.lock().await;
        self.instore_load(location_id, &mut guard).await?;
        let rt = guard.as_ref().ok_or_else(|| internal("store state missing".into()))?;
        Ok(rt.fusion.pending_reviews().map(instore_live::review_view).collect())
    }

    /// Staff settle a review item; visits that were waiting on it get their orders. Returns those orders.
    pub async fn resolve_store_review(
        &self,
        location_id: &str,
        review_id: u64,
        action: instore_live::ReviewAction,
    ) -> Result<Vec<String>> {
        let cell = self.instore_cell(location_id);
        let mut guard = cell.lock().await;
        self.instore_load(location_id, &mut guard).await?;
        let rt = guard.as_mut().ok_or_else(|| internal("store state missing".into()))?;
        let key = rt
            .fusion
            .pending_reviews()
            .find(|r| r.id == review_id)
            .map(instore_live::review_key)
            .ok_or_else(|| EngineError::not_found("open review", review_id.to_string()))?;
        if let instore_live::ReviewAction::Assign { target_id, quantity, sku } = &action {
            if !rt.is_member(target_id) {
                return Err(bad(format!("`{target_id}` is not a shopper of a visit in progress (use the review's `target_id`, `{{visit}}/{{track}}`)")));
            }
            if rt.fusion.layout().product_index(sku).is_none() {
                return Err(bad(format!("{sku} is not on this store's shelves")));
            }
            if *quantity == 0 || quantity.abs() > 100 {
                return Err(bad("`quantity` is −100…100 and not 0"));
            }
            let sku = sku.clone();
            self.db
                .read(move |tx| {
                    if tx.query_opt("SELECT 1 FROM variants WHERE sku = ?", params![&sku])?.is_some() {
                        Ok(())
                    } else {
                        Err(EngineError::not_found("sku", sku.clone()))
                    }
                })
                .await?;
        }
        let (loc, now, a) = (location_id.to_owned(), self.now(), action.clone());
        let e =
            self.db.write(move |tx| instore_live::store_resolution(tx, &loc, review_id, key.clone(), &a, now)).await?;
        rt.apply_sensor(&e);
        Ok(self.instore_settle(location_id, rt).await)
    }

    pub async fn cashierless_session(&self, id: &str) -> Result<cashierless::SessionView> {
        let id = id.to_owned();
        self.db.read(move |tx| cashierless::view(tx, &id)).await
    }

    /// A fresh one-time payment code for the customer's app (revokes their older unused codes).
    pub async fn payment_code(&self, customer_id: &str) -> Result<paycodes::PaymentCodeView> {
        let (id, now) = (customer_id.to_owned(), self.now());
        self.db.write(move |tx| paycodes::issue(tx, &id, now)).await
    }

    /// Expires lapsed payment authorizations; returns how many.
    /// Holds placed for orders are released by the order's own flow (cancel, pickup expiry); this expires
    /// the others (for example pre-authorizations), one transaction each.
    /// Closes cashierless visits that outlived their expiry without an exit; returns how many.
    pub async fn expire_visits(&self) -> Result<usize> {
        let now = self.now();
        self.db.write(move |tx| cashierless::expire(tx, now)).await
    }

    pub async fn expire_holds(&self) -> Result<usize> {
        let now = self.now();
        let due = self.db.read(move |tx| ledger::due_holds(tx, now, 500)).await?;
        let mut n = 0;
        for id in due {
            let hid = id.clone();
            match self.db.write(move |tx| ledger::expire_hold(tx, &hid, now)).await {
                Ok(true) => n += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(hold = %id, error = %e, "cannot expire authorization"),
            }
        }
        Ok(n)
    }

    // ---- customers ----

    pub async fn signup(&self, input: SignupInput) -> Result<(CustomerView, String)> {
        let (email, phone, name, locale) = customers::validate_signup(&input)?;
        let pw = input.password.clone();
        let _slot = self.hash_slots.acquire().await.map_err(|_| bad("shutting down"))?;
        let password_hash = tokio::task::spawn_blocking(move || customers::hash_password(&pw))
            .await
            .map_err(|e| bad(format!("hashing failed: {e}")))??;
        let c = customers::NewCustomer { email, phone, name, locale, password_hash };
        let now = self.now();
        self.db
            .write(move |tx| {
                let v = customers::create(tx, &c, now)?;
                let token = customers::new_session(tx, &v.id, now)?;
                Ok((v, token))
            })
            .await
    }

    /// Checks a password and opens a session. The same error for an unknown email and a wrong password.
    pub async fn login(&self, email: &str, password: &str) -> Result<(CustomerView, String)> {
        if password.len() > customers::MAX_PASSWORD_BYTES {
            return Err(EngineError::Unauthorized);
        }
        let throttle_key = email.trim().to_lowercase();
        let now = self.now();
        {
            let map = self.login_failures.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((n, start)) = map.get(&throttle_key) {
                if *n >= MAX_LOGIN_FAILURES && now - start < LOGIN_WINDOW_MS {
                    return Err(EngineError::RateLimited(format!(
                        "too many failed logins for this account; try again in {} minutes",
                        (LOGIN_WINDOW_MS - (now - start)) / 60_000 + 1
                    )));
                }
            }
        }
        let email = email.to_owned();
        let creds = self.db.read(move |tx| customers::credentials(tx, &email)).await?;
        let pw = password.to_owned();
        let _slot = self.hash_slots.acquire().await.map_err(|_| bad("shutting down"))?;
        let (id, ok) = tokio::task::spawn_blocking(move || match creds {
            Some((id, Some(hash))) => (Some(id), customers::verify_password(&pw, &hash)),
            // Spend the same time on unknown accounts, so timing does not reveal which emails exist.
            _ => (None, customers::hash_password(&pw).is_err()),
        })
        .await
        .map_err(|e| bad(format!("verification failed: {e}")))?;
        drop(_slot);
        let Some(id) = id.filter(|_| ok) else {
            let mut map = self.login_failures.lock().unwrap_or_else(|e| e.into_inner());
            if map.len() >= MAX_TRACKED_LOGINS {
                map.retain(|_, (_, start)| now - *start < LOGIN_WINDOW_MS);
            }
            let entry = map.entry(throttle_key).or_insert((0, now));
            if now - entry.1 >= LOGIN_WINDOW_MS {
                *entry = (0, now);
            }
            entry.0 += 1;
            return Err(EngineError::Unauthorized);
        };
        self.login_failures.lock().unwrap_or_else(|e| e.into_inner()).remove(&throttle_key);
        self.db
            .write(move |tx| {
                let token = customers::new_session(tx, &id, now)?;
                Ok((customers::get(tx, &id)?, token))
            })
            .await
    }

    pub async fn session_customer(&self, token: &str) -> Result<Option<String>> {
        let (token, now) = (token.to_owned(), self.now());
        self.db.read(move |tx| customers::session_customer(tx, &token, now)).await
    }

    pub async fn customer(&self, id: &str) -> Result<CustomerView> {
        let id = id.to_owned();
        self.db.read(move |tx| customers::get(tx, &id)).await
    }

    pub async fn find_customers(
        &self,
        email: Option<String>,
        phone: Option<String>,
        member_code: Option<String>,
    ) -> Result<Vec<CustomerView>> {
        self.db.read(move |tx| customers::find(tx, email.as_deref(), phone.as_deref(), member_code.as_deref())).await
    }

    // ---- carts & checkout ----

    pub async fn create_cart(&self, currency: Option<String>, customer_id: Option<String>) -> Result<CartView> {
        let now = self.now();
        self.db.write(move |tx| carts::create(tx, currency.as_deref(), customer_id.as_deref(), now)).await
    }

    pub async fn cart(&self, id: &str) -> Result<CartView> {
        let id = id.to_owned();
        self.db.read(move |tx| carts::get(tx, &id)).await
    }

    pub async fn add_cart_line(&self, cart_id: &str, sku: &str, quantity: i64) -> Result<CartView> {
        let (id, sku, now) = (cart_id.to_owned(), sku.to_owned(), self.now());
        self.db.write(move |tx| carts::add_line(tx, &id, &sku, quantity, now)).await
    }

    pub async fn set_cart_line(&self, cart_id: &str, sku: &str, quantity: i64) -> Result<CartView> {
        let (id, sku, now) = (cart_id.to_owned(), sku.to_owned(), self.now());
        self.db.write(move |tx| carts::set_line(tx, &id, &sku, quantity, now)).await
    }

    pub async fn set_fulfillment(&self, cart_id: &str, f: Fulfillment) -> Result<CartView> {
        let (id, now) = (cart_id.to_owned(), self.now());
        self.db.write(move |tx| carts::set_fulfillment(tx, &id, f.clone(), now)).await
    }

    /// Places the order for a cart. With an idempotency key, a repeat of the same request returns the
    /// same order and a different request under the same key is refused.
    pub async fn checkout(&self, req: CheckoutRequest) -> Result<OrderView> {
        let CheckoutRequest {
            cart_id,
            email,
            payment_method,
            idempotency_key,
            customer_id,
            tender_code,
            wallet_currency,
            split,
        } = req;
        let split: Option<Vec<(String, Option<String>, Option<i64>)>> =
            split.map(|ts| ts.into_iter().map(|t| (t.method, t.code, t.amount_minor)).collect());
        let (cart_id, payment_method) = (cart_id.as_str(), payment_method.as_str());
        if let Some(k) = &idempotency_key {
            idempotency::validate_key(k)?;
        }
        // A card is authorized over the network before the order's transaction, never inside it. The
        // processor's idempotency key ties a retried checkout to the same authorization.
        // A card inside a split payment is authorized the same way, for its part of the total.
        let card_part = split.as_ref().and_then(|ps| ps.iter().find(|p| p.0 == "card").cloned());
        if let (Some((_, code, amount)), Some(parts)) = (&card_part, &split) {
            let gw = self.cards.clone().ok_or_else(|| {
                EngineError::invalid("unsupported_payment_method", "card payments are not configured on this server")
            })?;
            let token = code.clone().ok_or_else(|| {
                EngineError::invalid("card_required", "the card part needs the card's payment method token as `code`")
            })?;
            let cart = self.cart(cart_id).await?;
            if cart.status == "open" {
                // Check the whole split before touching the card, so a malformed one never authorizes it.
                orders::split_parts(parts, cart.subtotal.amount_minor, &cart.currency, Some("card:unchecked:0"))?;
                let fixed: i64 = parts.iter().filter_map(|p| p.2).sum();
                let part = amount.unwrap_or(cart.subtotal.amount_minor - fixed);
                if part <= 0 {
                    return Err(EngineError::invalid("invalid_split", "the card part must be positive"));
                }
                let id =
                    self.authorize_card(&gw, cart_id, part, &cart.currency, &token, idempotency_key.as_deref()).await?;
                let result = self
                    .checkout_inner(
                        cart_id,
                        email,
                        payment_method,
                        idempotency_key,
                        customer_id,
                        None,
                        Some(cards::encode(&id, part)),
                        wallet_currency,
                        split,
                    )
                    .await;
                if result.is_err() {
                    self.release_card(cart_id, &id).await;
                }
                return result;
            }
        }
        let (gift_card_code, card_ref) = if payment_method == "card" {
            let gw = self.cards.clone().ok_or_else(|| {
                EngineError::invalid("unsupported_payment_method", "card payments are not configured on this server")
            })?;
            let token = tender_code.clone().ok_or_else(|| {
                EngineError::invalid("card_required", "a card payment needs the card's payment method token as `code`")
            })?;
            let cart = self.cart(cart_id).await?;
            if cart.status != "open" {
                return self
                    .checkout_inner(
                        cart_id,
                        email,
                        payment_method,
                        idempotency_key,
                        customer_id,
                        None,
                        None,
                        wallet_currency,
                        split,
                    )
                    .await;
            }
            let id = self
                .authorize_card(
                    &gw,
                    cart_id,
                    cart.subtotal.amount_minor,
                    &cart.currency,
                    &token,
                    idempotency_key.as_deref(),
                )
                .await?;
            (None, Some((id, cart.subtotal.amount_minor)))
        } else {
            (tender_code, None)
        };
        let card_id = card_ref.as_ref().map(|c| c.0.clone());
        let result = self
            .checkout_inner(
                cart_id,
                email,
                payment_method,
                idempotency_key,
                customer_id,
                gift_card_code,
                card_ref.map(|(id, a)| cards::encode(&id, a)),
                wallet_currency,
                split,
            )
            .await;
        if let (Err(e), Some(id)) = (&result, card_id) {
            tracing::info!(payment = %id, error = %e, "checkout failed after card authorization; releasing it");
            self.release_card(cart_id, &id).await;
        }
        result
    }

    /// Authorizes a card for a cart. The processor key ties retries of one checkout to one authorization;
    /// if the processor replays an authorization we have since cancelled, a fresh one is requested.
    async fn authorize_card(
        &self,
        gw: &Arc<dyn cards::CardGateway>,
        cart_id: &str,
        amount: i64,
        currency: &str,
        token: &str,
        idem: Option<&str>,
    ) -> Result<String> {
        if token.is_empty() || token.len() > 255 {
            return Err(EngineError::invalid("card_required", "a card's payment method token is 1–255 characters"));
        }
        let base = format!("auth:{cart_id}:{}", idem.unwrap_or("-"));
        for attempt in 0..4 {
            let key = if attempt == 0 { base.clone() } else { format!("{base}:{attempt}") };
            let id = gw.authorize(amount, currency, token, &key).await.map_err(card_error)?;
            let pid = id.clone();
            if !self.db.read(move |tx| cards::is_cancelled(tx, &pid)).await? {
                return Ok(id);
            }
        }
        Err(EngineError::conflict("card_authorization_cancelled", "the card could not be authorized afresh; try again"))
    }

    /// A checkout failed after its card was authorized: queue the cancellation durably (the worker performs
    /// it), unless an order uses the payment after all.
    async fn release_card(&self, cart_id: &str, payment_id: &str) {
        let (cart, pid, now) = (cart_id.to_owned(), payment_id.to_owned(), self.now());
        if let Err(e) = self.db.write(move |tx| cards::release_unused(tx, &cart, &pid, now)).await {
            tracing::error!(payment = %payment_id, error = %e, "cannot queue the cancellation of an unused card authorization");
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn checkout_inner(
        &self,
        cart_id: &str,
        email: Option<String>,
        payment_method: &str,
        idempotency_key: Option<String>,
        customer_id: Option<String>,
        gift_card_code: Option<String>,
        card_ref: Option<String>,
        wallet_currency: Option<String>,
        split: Option<Vec<(String, Option<String>, Option<i64>)>>,
    ) -> Result<OrderView> {
        let request_hash = idempotency::fingerprint(&[
            cart_id,
            email.as_deref().unwrap_or(""),
            payment_method,
            customer_id.as_deref().unwrap_or(""),
            gift_card_code.as_deref().unwrap_or(""),
            wallet_currency.as_deref().unwrap_or(""),
            &format!("{split:?}"),
        ]);
        let cmd = orders::CheckoutCmd {
            gift_card_code,
            card_ref,
            wallet_currency,
            split,
            cart_id: cart_id.to_owned(),
            email,
            payment_method: payment_method.to_owned(),
            idempotency_key,
            request_hash,
            customer_id,
        };
        let (payments, hold, now) = (self.payments.clone(), self.cfg.pickup_hold_ms, self.now());
        self.db.write(move |tx| orders::checkout(tx, &payments, hold, &cmd, now)).await
    }

    /// A counter sale at a store. `location` is the staff key's location, or any for an admin.
    #[allow(clippy::too_many_arguments)]
    pub async fn pos_sale(
        &self,
        principal: &Principal,
        location_id: Option<String>,
        lines: Vec<SaleLineInput>,
        currency: Option<String>,
        customer_id: Option<String>,
        payment_method: Option<String>,
        payment_code: Option<String>,
        gift_card_code: Option<String>,
        idempotency_key: Option<String>,
        request_hash: String,
    ) -> Result<OrderView> {
        let location_id = match (principal.location(), location_id) {
            (Some(staff), Some(l)) if staff != l => {
                return Err(EngineError::Forbidden("staff sell at their own location only".into()))
            }
            (Some(staff), _) => staff.to_owned(),
            (None, Some(l)) => l,
            (None, None) => return Err(bad("`location_id` is required for an admin key")),
        };
        if let Some(k) = &idempotency_key {
            idempotency::validate_key(k)?;
        }
        let currency = domain::Currency::parse(currency.as_deref().unwrap_or("KRW"))
            .map_err(|e| bad(e.to_string()))?
            .code()
            .to_owned();
        let cmd = orders::PosSaleCmd {
            location_id,
            lines,
            currency,
            customer_id,
            payment_method: payment_method.unwrap_or_else(|| "pay_in_store".into()),
            staff_key_id: Some(principal.key_id().to_owned()),
            idempotency_key,
            request_hash,
            payment_code,
            gift_card_code,
            shopper_confirmed: false,
            channel: domain::Channel::Pos,
            tender_ref: None,
        };
        let (payments, now) = (self.payments.clone(), self.now());
        self.db
            .write(move |tx| {
                let mut cmd = cmd.clone();
                if let Some(l) = locations::get(tx, &cmd.location_id)? {
                    cmd.location_id = l.id;
                }
                orders::pos_sale(tx, &payments, &cmd, now)
            })
            .await
    }

    pub async fn order(&self, id: &str, with_pickup_code: bool) -> Result<OrderView> {
        let id = id.to_owned();
        self.db.read(move |tx| orders::get(tx, &id, with_pickup_code)).await
    }

    pub async fn orders(&self, q: OrderQuery) -> Result<Vec<OrderView>> {
        self.db.read(move |tx| orders::list(tx, &q)).await
    }

    pub async fn ready_for_pickup(&self, principal: &Principal, id: &str) -> Result<OrderView> {
        let (id, staff, hold, now) =
            (id.to_owned(), principal.location().map(str::to_owned), self.cfg.pickup_hold_ms, self.now());
        self.db.write(move |tx| orders::ready_for_pickup(tx, &id, staff.as_deref(), hold, now)).await
    }

    pub async fn picked_up(&self, principal: &Principal, id: &str, code: &str) -> Result<OrderView> {
        let (id, code, staff, now) =
            (id.to_owned(), code.to_owned(), principal.location().map(str::to_owned), self.now());
        let payments = self.payments.clone();
        self.db.write(move |tx| orders::picked_up(tx, &payments, &id, &code, staff.as_deref(), now)).await
    }

    pub async fn ship(&self, id: &str) -> Result<OrderView> {
        let (id, now, payments) = (id.to_owned(), self.now(), self.payments.clone());
        self.db.write(move |tx| orders::ship(tx, &payments, &id, now)).await
    }

    pub async fn cancel(&self, principal: &Principal, id: &str, reason: &str) -> Result<OrderView> {
        let reason = domain::text::optional("reason", reason, 200).map_err(bad)?;
        let reason = if reason.is_empty() { "cancelled by staff".to_owned() } else { reason };
        let (id, now, staff, payments) =
            (id.to_owned(), self.now(), principal.location().map(str::to_owned), self.payments.clone());
        self.db.write(move |tx| orders::cancel(tx, &payments, &id, &reason, staff.as_deref(), now)).await
    }

    /// Deletes expired sessions, idempotency keys older than [`IDEMPOTENCY_RETENTION_MS`] and webhook
    /// delivery records older than [`DELIVERY_LOG_RETENTION_MS`]. Returns the rows removed.
    pub async fn purge_expired(&self) -> Result<u64> {
        let now = self.now();
        self.db
            .write(move |tx| {
                let mut n = tx.exec("DELETE FROM sessions WHERE expires_at < ?", params![now])?;
                n += tx.exec(
                    "DELETE FROM idempotency_keys WHERE created_at < ?",
                    params![now - IDEMPOTENCY_RETENTION_MS],
                )?;
                n += tx.exec(
                    "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < ?",
                    params![now - DELIVERY_LOG_RETENTION_MS],
                )?;
                n +=
                    tx.exec("DELETE FROM psp_events WHERE received_at < ?", params![now - DELIVERY_LOG_RETENTION_MS])?;
                Ok(n)
            })
            .await
    }

    /// Expires pickup orders past their window, one transaction each so that one order that cannot be
    /// expired (logged) does not hold back the others; returns the ids expired.
    pub async fn expire_pickups(&self) -> Result<Vec<String>> {
        let now = self.now();
        let due = self.db.read(move |tx| orders::due_pickups(tx, now, 500)).await?;
        let mut expired = Vec::new();
        for id in due {
            let oid = id.clone();
            let payments = self.payments.clone();
            match self.db.write(move |tx| orders::expire_one(tx, &payments, &oid, now)).await {
                Ok(true) => expired.push(id),
                Ok(false) => {}
                Err(e) => tracing::warn!(order = %id, error = %e, "cannot expire pickup order"),
            }
        }
        Ok(expired)
    }

    pub async fn create_return(
        &self,
        principal: &Principal,
        input: ReturnInput,
        idempotency_key: Option<String>,
        request_hash: String,
    ) -> Result<ReturnView> {
        if let Some(k) = &idempotency_key {
            idempotency::validate_key(k)?;
        }
        let (staff, now, payments) = (principal.location().map(str::to_owned), self.now(), self.payments.clone());
        // Keys are scoped to the caller's API key, so two tills cannot collide on a key such as "1".
        let scope = format!("admin.returns:{}", principal.key_id());
        self.db
            .write(move |tx| {
                let mut input = input.clone();
                if let Some(l) = locations::get(tx, &input.location_id)? {
                    input.location_id = l.id;
                }
                let idem = idempotency_key.as_deref().map(|k| (scope.as_str(), k, request_hash.as_str()));
                orders::create_return(tx, &payments, &input, staff.as_deref(), idem, now)
            })
            .await
    }

    // ---- events & webhooks ----

    /// A page of the event feed and the cursor to read on from.
    pub async fn events(
        &self,
        after: events::Cursor,
        limit: usize,
        kind: Option<String>,
    ) -> Result<(Vec<EventView>, events::Cursor)> {
        self.db.read(move |tx| events::feed(tx, after, limit, kind.as_deref())).await
    }

    pub async fn subscribe(&self, input: SubscriptionInput) -> Result<SubscriptionView> {
        let now = self.now();
        self.db.write(move |tx| webhooks::subscribe(tx, &input, now)).await
    }

    pub async fn subscriptions(&self) -> Result<Vec<SubscriptionView>> {
        self.db.read(webhooks::list).await
    }

    pub async fn unsubscribe(&self, id: &str) -> Result<()> {
        let id = id.to_owned();
        self.db.write(move |tx| webhooks::deactivate(tx, &id)).await
    }

    pub async fn deliveries(&self, subscription_id: &str, limit: usize) -> Result<Vec<DeliveryView>> {
        let id = subscription_id.to_owned();
        self.db.read(move |tx| webhooks::deliveries(tx, &id, limit)).await
    }

    /// One dispatcher step: fan new events out, then lease due deliveries to the caller.
    pub async fn webhook_step(&self, limit: usize) -> Result<Vec<DueDelivery>> {
        let now = self.now();
        self.db
            .write(move |tx| {
                webhooks::fanout(tx, 1000, now)?;
                webhooks::claim_due(tx, limit, now)
            })
            .await
    }

    /// Records a delivery attempt under the sender's lease; `false` if the lease was lost meanwhile.
    pub async fn record_delivery(
        &self,
        id: &str,
        lease: i64,
        status_code: Option<i64>,
        error: Option<String>,
    ) -> Result<bool> {
        let (id, now) = (id.to_owned(), self.now());
        self.db.write(move |tx| webhooks::record(tx, &id, lease, status_code, error.as_deref(), now)).await
    }

    // ---- product search ----

    /// Brings the search index up to the product event feed: changed products are applied in place (a
    /// change is searchable a few milliseconds after it is read); a full rebuild runs at first, after a
    /// synonym change or a bulk change of more than REBUILD_ABOVE products, when removed documents pile up,
    /// and at least every 10 minutes (sales and stock ranking signals age). Returns whether anything changed.
    pub async fn search_refresh(&self) -> Result<bool> {
        const REBUILD_ABOVE: usize = 2_000;
        let _one = self.search.rebuild.lock().await;
        let now = self.now();
        let fresh = self
            .search_served()
            .ix
            .as_ref()
            .is_some_and(|ix| now - ix.built_at < 10 * 60 * 1000 && !ix.wants_rebuild());
        let mut cursor = *self.search.cursor.lock().unwrap_or_else(|e| e.into_inner());
        let mut full = !fresh;
        let mut changed: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        loop {
            // Pages are capped by the feed; read until a page comes back empty.
            let (evs, next) =
                self.db.read(move |tx| events::feed(tx, cursor, events::MAX_FEED_PAGE, Some("product."))).await?;
            if evs.is_empty() {
                break;
            }
            for e in evs {
                if e.kind == "product.synonyms_updated" {
                    full = true;
                } else if !full && seen.insert(e.aggregate_id.clone()) {
                    changed.push(e.aggregate_id);
                }
            }
            full |= changed.len() > REBUILD_ABOVE;
            cursor = next;
        }
        if full {
            let products = self.all_products().await?;
            let synonyms = self.search_synonyms().await?;
            let signals = self.db.read(move |tx| product_search::signals(tx, now)).await?;
            let ix = tokio::task::spawn_blocking(move || {
                product_search::CatalogIndex::build(&products, &synonyms, &signals, cursor.seq, now)
            })
            .await
            .map_err(|e| internal(format!("index build stopped: {e}")))?;
            let mut served = self.search_served_mut();
            served.stock.reindex(&ix);
            served.ix = Some(ix);
        } else if !changed.is_empty() {
            let ids = changed.clone();
            let products = self
                .db
                .read(move |tx| {
                    ids.iter().map(|id| Ok((id.clone(), catalog::load_product(tx, id)?))).collect::<Result<Vec<_>>>()
                })
                .await?;
            let mut guard = self.search_served_mut();
            let served = &mut *guard;
            if let Some(ix) = served.ix.as_mut() {
                for (id, p) in products {
                    let d = match p {
                        Some(p) => ix.apply(&p),
                        None => {
                            ix.remove(&id);
                            None
                        }
                    };
                    if let Some(d) = d {
                        served.stock.refresh_doc(ix, d, None);
                    }
                }
                ix.built_from = cursor.seq;
            }
        } else {
            return Ok(false);
        }
        *self.search.cursor.lock().unwrap_or_else(|e| e.into_inner()) = cursor;
        Ok(true)
    }

    fn search_served(&self) -> std::sync::RwLockReadGuard<'_, product_search::Served> {
        self.search.served.read().unwrap_or_else(|e| e.into_inner())
    }

    fn search_served_mut(&self) -> std::sync::RwLockWriteGuard<'_, product_search::Served> {
        self.search.served.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings search's stock sets up to the inventory events (from a snapshot the first time). Returns the
    /// events applied. Stock filters in search see a change once this has run (every 200 ms in `serve`).
    pub async fn search_stock_refresh(&self) -> Result<usize> {
        let _one = self.search.stock_refresh.lock().await;
        if !self.search_served().stock.loaded {
            let (cursor, pairs) = self.db.read(product_search::stock_snapshot).await?;
            let mut guard = self.search_served_mut();
            let served = &mut *guard;
            served.stock.load(pairs, cursor);
            if let Some(ix) = served.ix.as_ref() {
                served.stock.reindex(ix);
            }
        }
        let mut applied = 0;
        loop {
            let cursor = self.search_served().stock.cursor;
            let (evs, next) = self
                .db
                .read(move |tx| events::feed(tx, cursor, events::MAX_FEED_PAGE, Some("inventory.changed")))
                .await?;
            if evs.is_empty() {
                return Ok(applied);
            }
            let mut guard = self.search_served_mut();
            let served = &mut *guard;
            for e in &evs {
                let d = &e.data;
                if let (Some(sku), Some(loc), Some(avail)) =
                    (d["sku"].as_str(), d["location_id"].as_str(), d["level"]["available"].as_i64())
                {
                    served.stock.set(served.ix.as_ref(), sku, loc, avail);
                }
            }
            served.stock.cursor = next;
            applied += evs.len();
        }
    }

    /// Products in the served search index.
    pub fn search_index_size(&self) -> usize {
        self.search_served().ix.as_ref().map_or(0, |ix| ix.live())
    }

    /// The seller's synonym groups.
    pub async fn search_synonyms(&self) -> Result<Vec<Vec<String>>> {
        Ok(self
            .meta(product_search::SYNONYMS_KEY)
            .await?
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or_default())
    }

    /// Replaces the synonym groups; every node's index picks them up through a `product.synonyms_updated`
    /// event, like a catalog change.
    pub async fn set_search_synonyms(&self, groups: Vec<Vec<String>>) -> Result<usize> {
        product_search::check_synonyms(&groups)?;
        let (json, now, n) = (serde_json::to_string(&groups).unwrap_or_else(|_| "[]".into()), self.now(), groups.len());
        self.db
            .write(move |tx| {
                tx.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![product_search::SYNONYMS_KEY, &json])?;
                events::emit(tx, "product.synonyms_updated", "synonyms", &serde_json::json!({ "groups": n }), now)
            })
            .await?;
        Ok(n)
    }

    /// Searches the active catalog; stock filters use the stock sets (a change shows within ~0.2 s).
    pub async fn search_products(&self, q: product_search::SearchQuery) -> Result<product_search::SearchView> {
        product_search::validate(&q)?;
        domain::Currency::parse(&q.currency).map_err(|e| bad(e.to_string()))?;
        if self.search_served().ix.is_none() {
            self.search_refresh().await?;
        }
        if !self.search_served().stock.loaded && (q.in_stock_at.is_some() || q.pickup_near.is_some()) {
            self.search_stock_refresh().await?;
        }
        let locations = if q.in_stock_at.is_some() || q.pickup_near.is_some() {
            self.search_locations(q.in_stock_at.as_deref()).await?
        } else {
            Arc::new(Vec::new())
        };
        let served = self.search_served();
        let ix = served.ix.as_ref().ok_or_else(|| internal("no search index".into()))?;
        product_search::run(ix, &served.stock, &locations, &q)
    }

    /// The locations for stock filters, cached for LOCATIONS_TTL_MS; `need` (an id) not in the copy reads
    /// them again at once, so that a new store is never reported missing.
    async fn search_locations(&self, need: Option<&str>) -> Result<Arc<Vec<locations::LocationView>>> {
        let now = self.now();
        if let Some((at, locs)) = self.search.locations.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            if now - at < product_search::LOCATIONS_TTL_MS && need.is_none_or(|id| locs.iter().any(|l| l.id == id)) {
                return Ok(locs.clone());
            }
        }
        let locs = Arc::new(self.locations().await?);
        *self.search.locations.lock().unwrap_or_else(|e| e.into_inner()) = Some((now, locs.clone()));
        Ok(locs)
    }

    // ---- recommendations ----

    /// Moves new orders from the event feed into the interaction log; returns the orders logged. Reading
    /// happens on a reader; the writer only inserts, after checking that nobody logged the batch first.
    pub async fn recs_ingest(&self, limit: usize) -> Result<usize> {
        loop {
            let batch = Arc::new(self.db.read(move |tx| recommendations::ingest_read(tx, limit)).await?);
            let b2 = batch.clone();
            if let Some(n) = self.db.write(move |tx| recommendations::ingest_write(tx, &b2)).await? {
                return Ok(n);
            }
        }
    }

    /// Stores views, searches and cart adds reported by a shopper's app or page.
    pub async fn record_shopper_events(
        &self,
        events: Vec<recommendations::ShopperEvent>,
        customer_id: Option<String>,
        session_id: Option<String>,
    ) -> Result<usize> {
        let now = self.now();
        self.db
            .write(move |tx| recommendations::record(tx, &events, customer_id.as_deref(), session_id.as_deref(), now))
            .await
    }

    /// Trains a new model version from the whole interaction log (catching up with the event feed first),
    /// picking the blend on a held-out last basket, stores it and serves it. CPU work runs off the async
    /// threads; serving goes on with the previous version meanwhile.
    pub async fn recs_train(
        &self,
        cfg: ::recs::TrainConfig,
        progress: Arc<dyn Fn(&str) + Send + Sync>,
    ) -> Result<recommendations::TrainSummary> {
        while self.recs_ingest(500).await? > 0 {}
        let now = self.now();
        progress("reading the interaction log");
        let history = self.db.read(move |tx| recommendations::load_history(tx, now)).await?;
        let p2 = progress.clone();
        let (summary, stored) = tokio::task::spawn_blocking(move || {
            let report = ::recs::tune(&history.data, &cfg, &|m| p2(m));
            p2("training the blend on the whole history");
            let started = std::time::Instant::now();
            let params = report.params.pruned_for(&report.weights, true);
            let model = ::recs::Model::train(&history.data, &params, report.weights);
            let train_s = started.elapsed().as_secs_f64();
            let summary = recommendations::TrainSummary {
                version: 0,
                interactions: history.interactions,
                shoppers: history.data.shoppers.len(),
                items: history.data.n_items,
                validation_shoppers: report.shoppers,
                validation_recall20: report.recall20,
                validation_ndcg20: report.ndcg20,
                weights: ::recs::FEATURES.iter().zip(report.weights).map(|(k, w)| (k.to_string(), w)).collect(),
                tune_s: report.seconds,
                train_s,
            };
            let stored = recommendations::StoredModel {
                product_ids: history.product_ids,
                location_ids: history.location_ids,
                model,
            };
            (summary, stored)
        })
        .await
        .map_err(|e| internal(format!("training stopped: {e}")))?;
        let json = serde_json::to_string(&stored).map_err(|e| internal(format!("model does not serialize: {e}")))?;
        let mut summary = summary;
        let s2 = summary.clone();
        let version = self.db.write(move |tx| recommendations::save_model(tx, &json, &s2, now)).await?;
        summary.version = version;
        self.recs.set(recommendations::Loaded::from_stored(version, now, stored));
        progress(&format!("model version {version} is live"));
        Ok(summary)
    }

    /// Serves the newest stored model version if it is newer than the one in memory (models trained by
    /// another node or by `borderless recs train`). Returns the version now served.
    pub async fn recs_refresh(&self) -> Result<Option<i64>> {
        let served = self.recs.get().map(|l| l.version);
        let latest = self.db.read(recommendations::latest_version).await?;
        let Some(v) = latest.filter(|v| Some(*v) > served) else { return Ok(served) };
        let Some((json, trained_at)) = self.db.read(move |tx| recommendations::load_model(tx, v)).await? else {
            return Ok(served);
        };
        let loaded = tokio::task::spawn_blocking(move || {
            serde_json::from_str::<recommendations::StoredModel>(&json)
                .map(|s| recommendations::Loaded::from_stored(v, trained_at, s))
        })
        .await
        .map_err(|e| internal(format!("model load stopped: {e}")))?
        .map_err(|e| internal(format!("stored model {v} does not parse: {e}")))?;
        self.recs.set(loaded);
        Ok(Some(v))
    }

    /// Whether any purchase has reached the interaction log (nothing to train on otherwise).
    pub async fn recs_has_purchases(&self) -> Result<bool> {
        self.db
            .read(|tx| Ok(tx.query_opt("SELECT 1 FROM interactions WHERE kind = 'purchase' LIMIT 1", &[])?.is_some()))
            .await
    }

    /// The version being served and when it was trained.
    pub fn recs_model_version(&self) -> Option<(i64, i64)> {
        self.recs.get().map(|l| (l.version, l.trained_at))
    }

    /// Recommendations for a context (home, a product page, a cart), only of products in stock where the
    /// shopper is (or anywhere that ships), with a reason each.
    pub async fn recommendations(&self, mut q: recommendations::RecsQuery) -> Result<recommendations::RecsView> {
        if q.limit == 0 || q.limit > recommendations::MAX_LIMIT {
            return Err(bad(format!("`limit` must be 1–{}", recommendations::MAX_LIMIT)));
        }
        domain::Currency::parse(&q.currency).map_err(|e| bad(e.to_string()))?;
        let now = self.now();
        let loaded = self.recs.get();
        let q2 = q.clone();
        let serving = self.recs.clone();
        let (items, version) = self
            .db
            .read(move |tx| {
                let inp = recommendations::inputs(tx, &q2, now, loaded.as_deref())?;
                let ranked = recommendations::rank(loaded.as_deref(), &serving, &q2, &inp, (q2.limit * 3).max(20));
                let ids: Vec<String> = ranked.iter().map(|r| r.0.clone()).collect();
                let stocked = recommendations::in_stock(tx, &ids, q2.location_id.as_deref())?;
                // Facts of the stocked candidates and of the products the reasons name, in one query.
                let mut wanted: Vec<String> = ids.iter().filter(|p| stocked.contains(*p)).cloned().collect();
                for r in &ranked {
                    if let ::recs::Reason::BoughtWith { item } | ::recs::Reason::ViewedWith { item } = r.2 {
                        if let Some(p) = loaded.as_ref().and_then(|l| l.product_ids.get(item as usize)) {
                            if !wanted.contains(p) {
                                wanted.push(p.clone());
                            }
                        }
                    }
                }
                let facts = recommendations::cached_facts(tx, &serving, &wanted, &q2.currency, now)?;
                let titles: std::collections::HashMap<String, (String, String)> =
                    facts.active.iter().map(|(k, v)| (k.clone(), (v.1.clone(), v.2.clone()))).collect();
                let items = recommendations::finish(ranked, &facts, &stocked, &titles, loaded.as_deref(), &q2);
                Ok::<_, EngineError>((items, loaded.as_ref().map(|l| l.version)))
            })
            .await?;
        q.limit = items.len();
        Ok(recommendations::RecsView {
            context: q.context,
            customer_id: q.customer_id,
            location_id: q.location_id,
            model_version: version,
            items,
        })
    }

    /// Reads a setting from the database's `meta` table.
    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_owned();
        self.db
            .read(move |tx| {
                Ok(tx
                    .query_opt("SELECT value FROM meta WHERE key = ?", params![&key])?
                    .map(|r| r.text(0))
                    .transpose()?)
            })
            .await
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.db
            .write(move |tx| {
                tx.exec(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![&key, &value],
                )?;
                Ok(())
            })
            .await
    }
}
