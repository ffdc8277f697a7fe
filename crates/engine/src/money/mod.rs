//! Money: the double-entry ledger, wallets and top-ups, gift cards, store credit, the payment providers,
//! cards through a gateway, one-time payment codes and exchange rates.

pub mod cards;
pub mod fx;
pub mod intents;
pub mod ledger;
pub mod limits;
pub mod paycodes;
pub mod payments;

use crate::catalog::locations;
use crate::customers::accounts;
use crate::error::bad;
use crate::platform::audit;
use crate::platform::auth::Principal;
use crate::platform::{events, idempotency};
use crate::{Engine, EngineError, Result};
use payments::Payments;
use serde::Serialize;
use std::sync::Arc;
use store::params;

/// Card top-ups a customer may make per hour (a brake on stolen-card testing).
pub const MAX_CARD_TOP_UPS_PER_HOUR: i64 = 10;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GiftCardView {
    /// The secret code: present only in the response that sold the card.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub last4: String,
    pub currency: String,
    pub balance_minor: i64,
    pub available_minor: i64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TopUpView {
    pub transfer_id: String,
    pub wallet: ledger::AccountView,
}

/// The money area's in-memory state: the payment providers and the card processor, when one is configured.
#[derive(Clone)]
pub(crate) struct MoneyState {
    pub(crate) payments: Arc<Payments>,
    pub(crate) cards: Option<Arc<dyn cards::CardGateway>>,
    /// The secret that signs the card processor's webhooks.
    pub(crate) card_webhook_secret: Option<String>,
}

impl MoneyState {
    pub(crate) fn new(payments: Payments) -> MoneyState {
        MoneyState { payments: Arc::new(payments), cards: None, card_webhook_secret: None }
    }
}

impl Engine {
    /// Enables card payments through `gateway`; `webhook_secret` verifies the processor's webhooks.
    pub fn with_card_gateway(mut self, gateway: Arc<dyn cards::CardGateway>, webhook_secret: Option<String>) -> Engine {
        let money = Arc::make_mut(&mut self.money);
        money.cards = Some(gateway);
        money.card_webhook_secret = webhook_secret;
        self
    }

    /// A webhook from the card processor: verified against its signature header, applied once.
    /// Returns whether it was new.
    pub async fn card_webhook(&self, signature: &str, payload: &[u8]) -> Result<bool> {
        let secret = self
            .money
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
        self.money.cards.clone()
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

    pub fn payment_methods(&self) -> Vec<&'static str> {
        self.money.payments.methods()
    }

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
        let currency = domain::Currency::parse(currency)
            .map_err(|e| EngineError::invalid("invalid_currency", e.to_string()))?
            .code()
            .to_owned();
        let location = match (principal.location(), location_id) {
            (Some(staff), Some(l)) if staff != l => {
                return Err(EngineError::Forbidden("staff take top-ups at their own location only".into()))
            }
            (Some(staff), _) => staff.to_owned(),
            (None, Some(l)) => l,
            (None, None) => "hq".to_owned(),
        };
        let (customer_id, now, scope, by) =
            (customer_id.to_owned(), self.now(), format!("wallet.topup:{}", principal.key_id()), principal.clone());
        self.db
            .write(move |tx| {
                accounts::get(tx, &customer_id)?;
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
                fx::ensure_spendable(tx, &currency, true)?;
                limits::check(tx, &by, amount_minor, &currency, now)?;
                let cash = ledger::books_account(tx, ledger::kind::CASH, &location, &currency, now)?;
                let purpose = ledger::Purpose { reason: "wallet top-up at counter", ref_type: "topup", ref_id: &customer_id, transfer_id: Some(&transfer_id) };
                let id = ledger::single(tx, &cash, &wallet, amount_minor, &currency, &purpose, now)?;
                let w = ledger::get_account(tx, &wallet)?.ok_or_else(|| EngineError::not_found("wallet", &customer_id))?;
                events::emit(tx, "wallet.topped_up", &customer_id, &serde_json::json!({"transfer_id": &id, "amount_minor": amount_minor, "currency": &currency, "wallet": &w}), now)?;
                let json = serde_json::json!({"amount_minor": amount_minor, "currency": &currency, "transfer_id": &id});
                audit::record(tx, &by, "wallet.topped_up", &customer_id, Some(&location), &json, now)?;
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
        let gw = self.money.cards.clone().ok_or_else(|| {
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
        let currency = domain::Currency::parse(currency)
            .map_err(|e| EngineError::invalid("invalid_currency", e.to_string()))?
            .code()
            .to_owned();
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
        // Never take a card's money into a balance the shop cannot take back.
        {
            let cur = currency.clone();
            self.db.read(move |tx| fx::ensure_spendable(tx, &cur, true)).await?;
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
        // The intent first: from here on a crash leaves a row the reconciliation sweep finishes.
        let intent = {
            let (cid, key, hash, cur, pm, base) = (
                customer_id.to_owned(),
                key.clone(),
                request_hash.clone(),
                currency.clone(),
                payment_method.to_owned(),
                base.clone(),
            );
            let now = self.now();
            self.db
                .write(move |tx| {
                    intents::begin(
                        tx,
                        &intents::NewIntent {
                            purpose: "top_up",
                            customer_id: Some(&cid),
                            cart_id: None,
                            idempotency_key: &key,
                            request_hash: &hash,
                            amount_minor,
                            currency: &cur,
                            payment_method: &pm,
                            processor_key: &base,
                        },
                        now,
                    )
                })
                .await?
        };
        self.drive_top_up(&gw, intent).await
    }

    /// Takes a card top-up's intent to its end: authorize and capture with the processor (the same keys on
    /// every try, so the processor answers a repeat with the first outcome), then credit the wallet and close
    /// the intent in one transaction. Used by the request itself and by the reconciliation sweep.
    async fn drive_top_up(&self, gw: &Arc<dyn cards::CardGateway>, intent: intents::Intent) -> Result<TopUpView> {
        let base = intent.processor_key.clone();
        let (amount_minor, currency) = (intent.amount_minor, intent.currency.clone());
        let payment = match &intent.payment_id {
            Some(p) => p.clone(),
            None => {
                match gw.authorize(amount_minor, &currency, &intent.payment_method, &format!("{base}:auth")).await {
                    Ok(p) => {
                        let (id, pid, now) = (intent.id.clone(), p.clone(), self.now());
                        self.db.write(move |tx| intents::step(tx, &id, "authorized", Some(&pid), None, now)).await?;
                        p
                    }
                    Err(cards::CardError::Declined(code)) => return Err(self.intent_declined(&intent.id, code).await),
                    Err(e) => return Err(cards::card_error(e)),
                }
            }
        };
        if intent.status != "captured" {
            match gw.capture(&payment, amount_minor, &format!("{base}:capture")).await {
                Ok(()) => {
                    let (id, now) = (intent.id.clone(), self.now());
                    self.db.write(move |tx| intents::step(tx, &id, "captured", None, None, now)).await?;
                }
                Err(cards::CardError::Declined(code)) => {
                    let _ = gw.cancel(&payment, &format!("{base}:cancel")).await;
                    return Err(self.intent_declined(&intent.id, code).await);
                }
                // Unknown outcome: nothing is credited and nothing cancelled; a retry with the same key (or
                // the sweep) gets the processor's answer.
                Err(e) => return Err(cards::card_error(e)),
            }
        }
        crate::platform::faults::hit("top_up.after_capture");
        let cid = intent.customer_id.clone().unwrap_or_default();
        let scope = format!("wallet.selftopup:{cid}");
        let (key, request_hash, now, pid, iid) = (
            intent.idempotency_key.clone(),
            intent.request_hash.clone(),
            self.now(),
            payment.clone(),
            intent.id.clone(),
        );
        let result = self
            .db
            .write(move |tx| {
                accounts::get(tx, &cid)?;
                let transfer_id = domain::ids::new_id("trf");
                let wallet = ledger::wallet_account(tx, &cid, &currency, now)?;
                if let Some(existing) = idempotency::begin(tx, &scope, &key, &request_hash, &transfer_id, now)? {
                    intents::step(tx, &iid, "done", None, None, now)?;
                    let w = ledger::get_account(tx, &wallet)?.ok_or_else(|| EngineError::not_found("wallet", &cid))?;
                    return Ok(TopUpView { transfer_id: existing, wallet: w });
                }
                let clearing = ledger::books_account(tx, ledger::kind::CLEARING, "card", &currency, now)?;
                let purpose = ledger::Purpose { reason: "wallet top-up by card", ref_type: "card_payment", ref_id: &pid, transfer_id: Some(&transfer_id) };
                let id = ledger::single(tx, &clearing, &wallet, amount_minor, &currency, &purpose, now)?;
                intents::step(tx, &iid, "done", None, None, now)?;
                let w = ledger::get_account(tx, &wallet)?.ok_or_else(|| EngineError::not_found("wallet", &cid))?;
                events::emit(tx, "wallet.topped_up", &cid, &serde_json::json!({"transfer_id": &id, "amount_minor": amount_minor, "currency": &currency, "card_payment": &pid}), now)?;
                Ok(TopUpView { transfer_id: id, wallet: w })
            })
            .await;
        if let Err(e) = &result {
            // Captured but not credited: the intent stays open and the sweep credits it (or a retry with the
            // same key does first). Refunding here would let that retry credit money the card no longer paid.
            tracing::error!(payment = %payment, error = %e, "card captured but the wallet credit failed; the reconciliation sweep will credit it");
        }
        result
    }

    /// Ends an intent the processor declined: the error to answer (or the storage error that stopped it).
    async fn intent_declined(&self, intent_id: &str, code: String) -> EngineError {
        let (id, c, now) = (intent_id.to_owned(), code.clone(), self.now());
        match self.db.write(move |tx| intents::step(tx, &id, "failed", None, Some(&c), now)).await {
            Ok(()) => EngineError::PaymentDeclined(code),
            Err(e) => e,
        }
    }

    /// Finishes card intents a crash or a lost answer left open (see `money::intents`): top-ups are
    /// captured and credited once; checkout authorizations that no order uses are cancelled. Returns how
    /// many were closed.
    pub async fn reconcile_card_intents(&self) -> Result<usize> {
        let Some(gw) = self.money.cards.clone() else { return Ok(0) };
        let now = self.now();
        let stale = self.db.write(move |tx| intents::claim_stale(tx, 20, now)).await?;
        let mut closed = 0;
        for i in stale {
            let (id, purpose) = (i.id.clone(), i.purpose.clone());
            let outcome = match purpose.as_str() {
                "top_up" => self.drive_top_up(&gw, i).await.map(|_| ()),
                _ => self.settle_checkout_intent(&gw, i).await,
            };
            match outcome {
                Ok(()) => {
                    closed += 1;
                    tracing::info!(intent = %id, purpose = %purpose, "reconciled a card intent left open");
                }
                Err(EngineError::PaymentDeclined(_)) => closed += 1,
                Err(e) => tracing::warn!(intent = %id, error = %e, "a card intent is still open; the sweep retries it"),
            }
        }
        Ok(closed)
    }

    /// A checkout's authorization left open: kept if an order holds it, otherwise cancelled.
    async fn settle_checkout_intent(&self, gw: &Arc<dyn cards::CardGateway>, i: intents::Intent) -> Result<()> {
        let payment = match &i.payment_id {
            Some(p) => p.clone(),
            // The authorization's answer never arrived: ask again with the same key to learn its id.
            None => match gw.authorize(i.amount_minor, &i.currency, &i.payment_method, &i.processor_key).await {
                Ok(p) => p,
                Err(cards::CardError::Declined(code)) => {
                    return match self.intent_declined(&i.id, code).await {
                        EngineError::PaymentDeclined(_) => Ok(()),
                        e => Err(e),
                    }
                }
                Err(e) => return Err(cards::card_error(e)),
            },
        };
        let (cart, iid, now) = (i.cart_id.clone().unwrap_or_default(), i.id.clone(), self.now());
        self.db
            .write(move |tx| {
                intents::step(tx, &iid, "authorized", Some(&payment), None, now)?;
                cards::release_unused(tx, &cart, &payment, now)?;
                Ok(())
            })
            .await
    }

    /// A customer's ledger accounts (one wallet per currency used).
    pub async fn wallet(&self, customer_id: &str) -> Result<Vec<ledger::AccountView>> {
        let id = customer_id.to_owned();
        self.db
            .read(move |tx| {
                accounts::get(tx, &id)?;
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
        let currency = domain::Currency::parse(currency)
            .map_err(|e| EngineError::invalid("invalid_currency", e.to_string()))?
            .code()
            .to_owned();
        let code = format!("wallet:{customer_id}:{currency}");
        self.db
            .read(move |tx| match ledger::get_account(tx, &code)? {
                Some(a) => ledger::statement(tx, &a.id, after, limit),
                None => Ok(Vec::new()),
            })
            .await
    }

    /// A wallet's newest statement lines, newest first.
    pub async fn wallet_statement_latest(
        &self,
        customer_id: &str,
        currency: &str,
        limit: usize,
    ) -> Result<Vec<ledger::StatementLine>> {
        let currency = domain::Currency::parse(currency)
            .map_err(|e| EngineError::invalid("invalid_currency", e.to_string()))?
            .code()
            .to_owned();
        let code = format!("wallet:{customer_id}:{currency}");
        self.db
            .read(move |tx| match ledger::get_account(tx, &code)? {
                Some(a) => ledger::latest_statement(tx, &a.id, limit),
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
        let currency = domain::Currency::parse(currency)
            .map_err(|e| EngineError::invalid("invalid_currency", e.to_string()))?
            .code()
            .to_owned();
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
    pub async fn post_transfers(&self, by: &Principal, batch: Vec<ledger::TransferSpec>) -> Result<Vec<String>> {
        self.post_transfers_once(by, batch, None).await
    }

    /// [`Engine::post_transfers`] under an idempotency key `(scope, key, request hash)`: a retried batch
    /// returns the first run's transfer ids and posts nothing.
    pub async fn post_transfers_once(
        &self,
        by: &Principal,
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
        let (now, by) = (self.now(), by.clone());
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
                    let currency = domain::Currency::parse(&t.currency)
                        .map_err(|e| EngineError::invalid("invalid_currency", e.to_string()))?
                        .code()
                        .to_owned();
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
                let total: i64 = items.iter().map(|i| i.amount).sum();
                let json = serde_json::json!({"transfers": ids.len(), "total_minor": total});
                audit::record(tx, &by, "ledger.posted", ids.first().map_or("", |s| s.as_str()), None, &json, now)?;
                if let Some((scope, key, _)) = &idem {
                    idempotency::set_result(tx, scope, key, &serde_json::to_string(&ids).unwrap_or_default())?;
                }
                Ok(ids)
            })
            .await
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
        let currency = domain::Currency::parse(currency)
            .map_err(|e| EngineError::invalid("invalid_currency", e.to_string()))?
            .code()
            .to_owned();
        let location = match (principal.location(), location_id) {
            (Some(staff), Some(l)) if staff != l => {
                return Err(EngineError::Forbidden("staff sell gift cards at their own location only".into()))
            }
            (Some(staff), _) => staff.to_owned(),
            (None, Some(l)) => l,
            (None, None) => "hq".to_owned(),
        };
        let (now, by) = (self.now(), principal.clone());
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
                fx::ensure_spendable(tx, &currency, false)?;
                limits::check(tx, &by, amount_minor, &currency, now)?;
                let id = ledger::account(tx, &account, ledger::kind::GIFT_CARD, &currency, None, true, now)?;
                let cash = ledger::books_account(tx, ledger::kind::CASH, &location, &currency, now)?;
                let purpose = ledger::Purpose {
                    reason: "gift card sold",
                    ref_type: "gift_card",
                    ref_id: &account,
                    transfer_id: None,
                };
                ledger::single(tx, &cash, &id, amount_minor, &currency, &purpose, now)?;
                let json = serde_json::json!({"amount_minor": amount_minor, "currency": &currency, "last4": &card[card.len() - 4..]});
                audit::record(tx, &by, "gift_card.sold", &account, Some(&location), &json, now)?;
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

    /// A fresh one-time payment code for the customer's app (revokes their older unused codes).
    pub async fn payment_code(&self, customer_id: &str) -> Result<paycodes::PaymentCodeView> {
        let (id, now) = (customer_id.to_owned(), self.now());
        self.db.write(move |tx| paycodes::issue(tx, &id, now)).await
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
}
