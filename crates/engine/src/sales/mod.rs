//! One order pipeline for every channel: carts, checkout (web delivery and click & collect), POS sales,
//! pickup, shipment, cancellation, expiry and returns anywhere.

pub mod carts;
pub mod counter;
pub mod orders;
pub mod payrequests;
pub mod report;

use crate::catalog::locations;
use crate::error::bad;
use crate::money::cards;
use crate::platform::auth::Principal;
use crate::platform::{audit, idempotency};
use crate::{Engine, EngineError, Result};
use carts::{CartView, Fulfillment};
use orders::{OrderQuery, OrderView, ReturnInput, ReturnView, SaleLineInput};
use std::sync::Arc;

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
    /// The request's fingerprint for its `Idempotency-Key` (the HTTP edge hashes the body it received);
    /// when absent, the fields above are hashed.
    pub request_hash: Option<String>,
    /// Taken by staff on a shopper's behalf (a phone order, an invoice): `manual` may pay, and the caps on
    /// unpaid orders do not apply. Shoppers' own checkouts are never this.
    pub staff: bool,
}

/// One tender of a split payment; one tender may leave `amount_minor` out to take the rest.
#[derive(Debug, Clone)]
pub struct SplitTender {
    pub method: String,
    pub code: Option<String>,
    pub amount_minor: Option<i64>,
}

impl Engine {
    pub async fn create_cart(&self, currency: Option<String>, customer_id: Option<String>) -> Result<CartView> {
        let now = self.now();
        self.db.write(move |tx| carts::create(tx, currency.as_deref(), customer_id.as_deref(), now)).await
    }

    /// A cart, as `caller` (the signed-in customer, if any) may see it: a customer's cart answers only to them.
    pub async fn cart(&self, id: &str, caller: Option<&str>) -> Result<CartView> {
        let (id, caller) = (id.to_owned(), caller.map(str::to_owned));
        self.db.read(move |tx| carts::get(tx, &id, caller.as_deref())).await
    }

    pub async fn add_cart_line(
        &self,
        cart_id: &str,
        sku: &str,
        quantity: i64,
        caller: Option<&str>,
    ) -> Result<CartView> {
        let (id, sku, now, caller) = (cart_id.to_owned(), sku.to_owned(), self.now(), caller.map(str::to_owned));
        self.db.write(move |tx| carts::add_line(tx, &id, &sku, quantity, caller.as_deref(), now)).await
    }

    pub async fn set_cart_line(
        &self,
        cart_id: &str,
        sku: &str,
        quantity: i64,
        caller: Option<&str>,
    ) -> Result<CartView> {
        let (id, sku, now, caller) = (cart_id.to_owned(), sku.to_owned(), self.now(), caller.map(str::to_owned));
        self.db.write(move |tx| carts::set_line(tx, &id, &sku, quantity, caller.as_deref(), now)).await
    }

    pub async fn set_fulfillment(&self, cart_id: &str, f: Fulfillment, caller: Option<&str>) -> Result<CartView> {
        let (id, now, caller) = (cart_id.to_owned(), self.now(), caller.map(str::to_owned));
        self.db.write(move |tx| carts::set_fulfillment(tx, &id, f.clone(), caller.as_deref(), now)).await
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
            request_hash,
            staff,
        } = req;
        let (cart_id, payment_method) = (cart_id.as_str(), payment_method.as_str());
        if let Some(k) = &idempotency_key {
            idempotency::validate_key(k)?;
        }
        // A card is authorized over the network before the order's transaction, never inside it. The
        // processor's idempotency key ties a retried checkout to the same authorization.
        // A card inside a split payment is authorized the same way, for its part of the total.
        let card_part = split.as_ref().and_then(|ps| ps.iter().find(|p| p.method == "card").cloned());
        if let (Some(SplitTender { code, amount_minor: amount, .. }), Some(parts)) = (&card_part, &split) {
            let gw = self.money.cards.clone().ok_or_else(|| {
                EngineError::invalid("unsupported_payment_method", "card payments are not configured on this server")
            })?;
            let token = code.clone().ok_or_else(|| {
                EngineError::invalid("card_required", "the card part needs the card's payment method token as `code`")
            })?;
            let cart = self.cart(cart_id, customer_id.as_deref()).await?;
            if cart.status == "open" {
                // Check the whole split before touching the card, so a malformed one never authorizes it.
                orders::split_parts(parts, cart.subtotal.amount_minor, &cart.currency, Some("card:unchecked:0"))?;
                let fixed: i64 = parts.iter().filter_map(|p| p.amount_minor).sum();
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
                        request_hash.clone(),
                        staff,
                    )
                    .await;
                if result.is_err() {
                    self.release_card(cart_id, &id).await;
                }
                return result;
            }
        }
        let (gift_card_code, card_ref) = if payment_method == "card" {
            let gw = self.money.cards.clone().ok_or_else(|| {
                EngineError::invalid("unsupported_payment_method", "card payments are not configured on this server")
            })?;
            let token = tender_code.clone().ok_or_else(|| {
                EngineError::invalid("card_required", "a card payment needs the card's payment method token as `code`")
            })?;
            let cart = self.cart(cart_id, customer_id.as_deref()).await?;
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
                        request_hash.clone(),
                        staff,
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
                request_hash,
                staff,
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
            // The intent first: a crash after the processor authorized but before the order's transaction
            // leaves a row the reconciliation sweep settles (the authorization is cancelled).
            let intent = {
                let (cart, idem, cur, token, key, now) = (
                    cart_id.to_owned(),
                    idem.unwrap_or("-").to_owned(),
                    currency.to_owned(),
                    token.to_owned(),
                    key.clone(),
                    self.now(),
                );
                self.db
                    .write(move |tx| {
                        crate::money::intents::begin(
                            tx,
                            &crate::money::intents::NewIntent {
                                purpose: "checkout",
                                customer_id: None,
                                cart_id: Some(&cart),
                                idempotency_key: &idem,
                                request_hash: "",
                                amount_minor: amount,
                                currency: &cur,
                                payment_method: &token,
                                processor_key: &key,
                            },
                            now,
                        )
                    })
                    .await?
            };
            let id = gw.authorize(amount, currency, token, &key).await.map_err(cards::card_error)?;
            let (pid, iid, now) = (id.clone(), intent.id.clone(), self.now());
            let cancelled = self
                .db
                .write(move |tx| {
                    crate::money::intents::step(tx, &iid, "authorized", Some(&pid), None, now)?;
                    cards::is_cancelled(tx, &pid)
                })
                .await?;
            crate::platform::faults::hit("checkout.after_authorize");
            if !cancelled {
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
        split: Option<Vec<SplitTender>>,
        request_hash: Option<String>,
        staff: bool,
    ) -> Result<OrderView> {
        let request_hash = request_hash.unwrap_or_else(|| {
            idempotency::fingerprint(&[
                cart_id,
                email.as_deref().unwrap_or(""),
                payment_method,
                customer_id.as_deref().unwrap_or(""),
                gift_card_code.as_deref().unwrap_or(""),
                wallet_currency.as_deref().unwrap_or(""),
                &format!("{split:?}"),
            ])
        });
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
            staff,
        };
        let (payments, cfg, now) = (self.money.payments.clone(), self.cfg.clone(), self.now());
        self.db.write(move |tx| orders::checkout(tx, &payments, &cfg, &cmd, now)).await
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
            .map_err(|e| EngineError::invalid("invalid_currency", e.to_string()))?
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
        let (payments, now, by) = (self.money.payments.clone(), self.now(), principal.clone());
        self.db
            .write(move |tx| {
                let mut cmd = cmd.clone();
                if let Some(l) = locations::get(tx, &cmd.location_id)? {
                    cmd.location_id = l.id;
                }
                let o = orders::pos_sale(tx, &payments, &cmd, now)?;
                let json = serde_json::json!({"total": &o.total, "payment": &o.payment});
                audit::record(tx, &by, "order.sold", &o.id, o.location_id.as_deref(), &json, now)?;
                Ok(o)
            })
            .await
    }

    /// An order for the shopper's own page: the signed-in owner's session or the order's access token.
    pub async fn order_for_shopper(
        &self,
        id: &str,
        customer_id: Option<&str>,
        token: Option<&str>,
    ) -> Result<OrderView> {
        let (id, c, t) = (id.to_owned(), customer_id.map(str::to_owned), token.map(str::to_owned));
        self.db.read(move |tx| orders::get_for_shopper(tx, &id, c.as_deref(), t.as_deref())).await
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
        let by = principal.clone();
        self.db
            .write(move |tx| {
                let o = orders::ready_for_pickup(tx, &id, staff.as_deref(), hold, now)?;
                audit::record(tx, &by, "order.readied", &o.id, o.location_id.as_deref(), &serde_json::json!({}), now)?;
                Ok(o)
            })
            .await
    }

    pub async fn picked_up(&self, principal: &Principal, id: &str, code: &str) -> Result<OrderView> {
        let (id, code, staff, now) =
            (id.to_owned(), code.to_owned(), principal.location().map(str::to_owned), self.now());
        let payments = self.money.payments.clone();
        let by = principal.clone();
        self.db
            .write(move |tx| {
                let o = orders::picked_up(tx, &payments, &id, &code, staff.as_deref(), now)?;
                let json = serde_json::json!({"total": &o.total, "payment": &o.payment});
                audit::record(tx, &by, "order.handed_over", &o.id, o.location_id.as_deref(), &json, now)?;
                Ok(o)
            })
            .await
    }

    pub async fn ship(&self, principal: &Principal, id: &str) -> Result<OrderView> {
        let (id, now, payments, by) = (id.to_owned(), self.now(), self.money.payments.clone(), principal.clone());
        self.db
            .write(move |tx| {
                let o = orders::ship(tx, &payments, &id, now)?;
                audit::record(tx, &by, "order.shipped", &o.id, None, &serde_json::json!({"total": &o.total}), now)?;
                Ok(o)
            })
            .await
    }

    pub async fn cancel(&self, principal: &Principal, id: &str, reason: &str) -> Result<OrderView> {
        let reason = domain::text::optional("reason", reason, 200).map_err(bad)?;
        let reason = if reason.is_empty() { "cancelled by staff".to_owned() } else { reason };
        let (id, now, staff, payments) =
            (id.to_owned(), self.now(), principal.location().map(str::to_owned), self.money.payments.clone());
        let by = principal.clone();
        self.db
            .write(move |tx| {
                let o = orders::cancel(tx, &payments, &id, &reason, staff.as_deref(), now)?;
                let json = serde_json::json!({"reason": &reason, "payment": &o.payment});
                audit::record(tx, &by, "order.cancelled", &o.id, o.location_id.as_deref(), &json, now)?;
                Ok(o)
            })
            .await
    }

    /// A shopper cancels their own order before it is handed over or shipped (placed, or ready for pickup):
    /// its stock goes back and its payment hold is released, as when staff cancel it, and the
    /// `order.cancelled` event says the shopper did. Only the signed-in shopper who placed it or the holder
    /// of its access token; anyone else gets 404, as for an order that does not exist.
    pub async fn cancel_by_shopper(
        &self,
        id: &str,
        customer_id: Option<&str>,
        token: Option<&str>,
        reason: Option<&str>,
    ) -> Result<OrderView> {
        let reason = domain::text::optional("reason", reason.unwrap_or(""), 200).map_err(bad)?;
        let reason = if reason.is_empty() {
            "cancelled by the shopper".to_owned()
        } else {
            format!("cancelled by the shopper: {reason}")
        };
        let (id, c, t) = (id.to_owned(), customer_id.map(str::to_owned), token.map(str::to_owned));
        let (now, payments) = (self.now(), self.money.payments.clone());
        self.db
            .write(move |tx| {
                let o = orders::get_for_shopper(tx, &id, c.as_deref(), t.as_deref())?;
                if o.payment.method == "manual" {
                    // (Settled outside borderless, an invoice or a transfer: the shop cancels it.)
                    return Err(EngineError::conflict(
                        "invalid_transition",
                        "an order the shop took to settle outside (an invoice, a transfer) is cancelled by the shop: contact the store",
                    ));
                }
                orders::cancel(tx, &payments, &id, &reason, None, now)?;
                orders::get_for_shopper(tx, &id, c.as_deref(), t.as_deref())
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
            let payments = self.money.payments.clone();
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
        let (staff, now, payments) = (principal.location().map(str::to_owned), self.now(), self.money.payments.clone());
        let by = principal.clone();
        // Keys are scoped to the caller's API key, so two tills cannot collide on a key such as "1".
        let scope = format!("admin.returns:{}", principal.key_id());
        self.db
            .write(move |tx| {
                let mut input = input.clone();
                if let Some(l) = locations::get(tx, &input.location_id)? {
                    input.location_id = l.id;
                }
                let idem = idempotency_key.as_deref().map(|k| (scope.as_str(), k, request_hash.as_str()));
                let r = orders::create_return(tx, &payments, &input, staff.as_deref(), idem, now)?;
                let json = serde_json::json!({"order": &r.order_id, "refund": &r.refund});
                audit::record(tx, &by, "return.taken", &r.id, Some(&r.location_id), &json, now)?;
                Ok(r)
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
            .map_err(|e| EngineError::invalid("invalid_currency", e.to_string()))?
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
        let (id, cid, now, payments) =
            (id_or_qr.to_owned(), customer_id.to_owned(), self.now(), self.money.payments.clone());
        self.db.write(move |tx| payrequests::confirm(tx, &payments, &id, &cid, now)).await
    }
}
