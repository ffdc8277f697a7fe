//! The payment abstraction. A [`PaymentProvider`] is looked up by method name at checkout and runs inside
//! the order's transaction, so a provider that moves money commits or rolls back together with the order
//! and its stock. Here: the offline tenders (pay at pickup, pay in store, manual), the stored-value tenders
//! (wallet, gift card, store credit — held at checkout as a pending ledger transfer, captured at handover,
//! released on cancellation or expiry, refunded into the same account), cross-currency wallet payments, and
//! `split`, which composes them. Cards (`cards`) and cashierless entry holds (`cashierless`) plug in here too.

use crate::error::Result;
use crate::ledger;
use store::Tx;

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    /// Nothing collected yet; collected at handover or by staff.
    Pending,
    /// Authorized but not captured (card/wallet holds).
    Authorized,
    Paid,
    Refunded,
    /// An authorization released without capture (order cancelled or expired).
    Voided,
    /// Goods left (a cashierless exit) and part of the amount could not be collected; staff follow up.
    PartiallyPaid,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Voided => "voided",
            PaymentStatus::PartiallyPaid => "partially_paid",
        }
    }
}

/// What a provider sees of an order.
pub struct PaymentContext<'a> {
    pub order_id: &'a str,
    pub channel: domain::Channel,
    pub currency: &'a str,
    pub amount_minor: i64,
    pub customer_id: Option<&'a str>,
    /// The location whose books receive the money (`None`: online sales).
    pub location_id: Option<&'a str>,
    /// Until when an authorization must hold (pickup window, shipping deadline).
    pub hold_until: i64,
    /// The ledger account a stored-value tender pays from (a gift card's account code).
    pub tender_ref: Option<&'a str>,
    pub now: i64,
}

/// What a refund did.
pub struct RefundOutcome {
    pub method: &'static str,
    /// `refunded` when money moved now, `pending` when staff pay it out (cash, card terminal, transfer).
    pub status: &'static str,
}

pub trait PaymentProvider: Send + Sync {
    /// The method name shoppers and staff send (`pay_at_pickup`).
    fn method(&self) -> &'static str;
    /// Which channels may use this method.
    fn allowed(&self, channel: domain::Channel, pickup: bool) -> bool;
    /// Called when the order is placed.
    fn authorize(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>) -> Result<PaymentStatus>;
    /// Called when goods are handed over (pickup, POS completion, shipment).
    fn on_handover(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus>;
    /// The refund method recorded for a return (`manual`: staff refunds at the till or by transfer).
    fn refund_method(&self) -> &'static str;
    /// Called when an order is cancelled or expires before handover.
    fn on_cancel(&self, _tx: &mut dyn Tx, _ctx: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus> {
        Ok(current)
    }
    /// Gives `amount` back for a return taken at `location_id`. Offline tenders leave it to staff.
    fn refund(
        &self,
        _tx: &mut dyn Tx,
        _ctx: &PaymentContext<'_>,
        _amount: i64,
        _refund_id: &str,
    ) -> Result<RefundOutcome> {
        Ok(RefundOutcome { method: self.refund_method(), status: "pending" })
    }
}

/// Pays from the customer's wallet (a liability account in the money ledger).
pub struct Wallet;

/// Pays from a gift card: a stored-value liability account in the money ledger, found by the card's code.
pub struct GiftCard;

/// Pays from the customer's store credit (issued for returns at the shopper's choice).
pub struct StoreCredit;

impl PaymentProvider for StoreCredit {
    fn method(&self) -> &'static str {
        "store_credit"
    }
    fn allowed(&self, channel: domain::Channel, _pickup: bool) -> bool {
        channel == domain::Channel::Web
    }
    fn authorize(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>) -> Result<PaymentStatus> {
        stored_value_authorize(tx, "store_credit", ctx)
    }
    fn on_handover(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus> {
        Wallet.on_handover(tx, ctx, current)
    }
    fn on_cancel(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus> {
        Wallet.on_cancel(tx, ctx, current)
    }
    fn refund_method(&self) -> &'static str {
        "store_credit"
    }
    fn refund(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, amount: i64, refund_id: &str) -> Result<RefundOutcome> {
        stored_value_refund(tx, "store_credit", ctx, amount, refund_id)
    }
}

/// The customer-side account a stored-value tender pays from, and the seller-side account of `books`.
fn stored_value_accounts(
    tx: &mut dyn Tx,
    method: &str,
    ctx: &PaymentContext<'_>,
    books: &str,
) -> Result<(String, String)> {
    let source = if method == "store_credit" {
        let customer = ctx.customer_id.ok_or_else(|| {
            crate::EngineError::invalid("customer_required", "store credit pays only for its signed-in owner")
        })?;
        ledger::store_credit_account(tx, customer, ctx.currency, ctx.now)?
    } else if method == "gift_card" {
        let code = ctx.tender_ref.ok_or_else(|| {
            crate::EngineError::invalid("invalid_gift_card", "a gift card payment needs the card's code")
        })?;
        ledger::get_account(tx, code)?
            .filter(|a| a.kind == ledger::kind::GIFT_CARD)
            .ok_or_else(|| crate::EngineError::invalid("invalid_gift_card", "unknown gift card"))?
            .id
    } else {
        let customer = ctx.customer_id.ok_or_else(|| {
            crate::EngineError::invalid(
                "customer_required",
                "wallet payments need a signed-in customer (or the customer's id at a POS)",
            )
        })?;
        ledger::wallet_account(tx, customer, ctx.currency, ctx.now)?
    };
    let scope = ctx.location_id.unwrap_or("web");
    let other = ledger::books_account(tx, books, scope, ctx.currency, ctx.now)?;
    Ok((source, other))
}

impl PaymentProvider for GiftCard {
    fn method(&self) -> &'static str {
        "gift_card"
    }
    fn allowed(&self, channel: domain::Channel, _pickup: bool) -> bool {
        matches!(channel, domain::Channel::Web | domain::Channel::Pos)
    }
    fn authorize(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>) -> Result<PaymentStatus> {
        stored_value_authorize(tx, "gift_card", ctx)
    }
    fn on_handover(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus> {
        Wallet.on_handover(tx, ctx, current)
    }
    fn on_cancel(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus> {
        Wallet.on_cancel(tx, ctx, current)
    }
    fn refund_method(&self) -> &'static str {
        "gift_card"
    }
    fn refund(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, amount: i64, refund_id: &str) -> Result<RefundOutcome> {
        stored_value_refund(tx, "gift_card", ctx, amount, refund_id)
    }
}

/// A cross-currency wallet payment, as kept in the order's `payment_reference`:
/// `fx:<rate id>:<wallet currency>:<amount charged in wallet minor units>`.
pub(crate) struct FxTender {
    pub rate_id: String,
    pub wallet_currency: String,
    pub wallet_amount: i64,
}

impl FxTender {
    pub(crate) fn encode(&self) -> String {
        format!("fx:{}:{}:{}", self.rate_id, self.wallet_currency, self.wallet_amount)
    }
    pub(crate) fn decode(s: &str) -> Option<FxTender> {
        let mut it = s.strip_prefix("fx:")?.split(':');
        let (rate_id, cur, amount) = (it.next()?, it.next()?, it.next()?);
        Some(FxTender { rate_id: rate_id.into(), wallet_currency: cur.into(), wallet_amount: amount.parse().ok()? })
    }
}

/// Wallet pays an order priced in another currency: the hold and capture are in the wallet's currency
/// into the FX position account of that currency; at capture the FX position of the order's currency pays
/// the store. Each currency still sums to zero; the FX accounts carry the seller's currency position.
fn fx_authorize(tx: &mut dyn Tx, ctx: &PaymentContext<'_>, fx: &FxTender) -> Result<PaymentStatus> {
    let customer = ctx
        .customer_id
        .ok_or_else(|| crate::EngineError::invalid("customer_required", "wallet payments need a signed-in customer"))?;
    let wallet = ledger::wallet_account(tx, customer, &fx.wallet_currency, ctx.now)?;
    let pool = ledger::books_account(tx, ledger::kind::FX, "position", &fx.wallet_currency, ctx.now)?;
    let purpose = ledger::Purpose {
        reason: "order payment (converted)",
        ref_type: "order",
        ref_id: ctx.order_id,
        transfer_id: None,
    };
    ledger::pending(tx, &wallet, &pool, fx.wallet_amount, &fx.wallet_currency, ctx.hold_until, &purpose, ctx.now)?;
    Ok(PaymentStatus::Authorized)
}

fn fx_capture(tx: &mut dyn Tx, ctx: &PaymentContext<'_>, fx: &FxTender, hold: &ledger::Pending) -> Result<()> {
    let purpose = ledger::Purpose {
        reason: "order captured at handover (converted)",
        ref_type: "order",
        ref_id: ctx.order_id,
        transfer_id: None,
    };
    ledger::resolve(tx, hold, "post", Some(fx.wallet_amount.min(hold.amount)), &purpose, ctx.now)?;
    let pool = ledger::books_account(tx, ledger::kind::FX, "position", ctx.currency, ctx.now)?;
    let revenue =
        ledger::books_account(tx, ledger::kind::REVENUE, ctx.location_id.unwrap_or("web"), ctx.currency, ctx.now)?;
    let leg = ledger::Purpose {
        reason: &format!("converted at rate {}", fx.rate_id),
        ref_type: "order",
        ref_id: ctx.order_id,
        transfer_id: None,
    };
    ledger::single(tx, &pool, &revenue, ctx.amount_minor, ctx.currency, &leg, ctx.now)?;
    Ok(())
}

fn fx_refund(
    tx: &mut dyn Tx,
    ctx: &PaymentContext<'_>,
    fx: &FxTender,
    amount: i64,
    refund_id: &str,
) -> Result<RefundOutcome> {
    // The same share of what was charged, at the original rate (never re-priced at today's rate).
    let back = i64::try_from(fx.wallet_amount as i128 * amount as i128 / ctx.amount_minor.max(1) as i128).unwrap_or(0);
    let customer =
        ctx.customer_id.ok_or_else(|| crate::EngineError::invalid("customer_required", "the order has no customer"))?;
    let refunds =
        ledger::books_account(tx, ledger::kind::REFUNDS, ctx.location_id.unwrap_or("web"), ctx.currency, ctx.now)?;
    let pool_order = ledger::books_account(tx, ledger::kind::FX, "position", ctx.currency, ctx.now)?;
    let pool_wallet = ledger::books_account(tx, ledger::kind::FX, "position", &fx.wallet_currency, ctx.now)?;
    let wallet = ledger::wallet_account(tx, customer, &fx.wallet_currency, ctx.now)?;
    let purpose = ledger::Purpose {
        reason: "refund for a return (converted back at the original rate)",
        ref_type: "refund",
        ref_id: refund_id,
        transfer_id: None,
    };
    ledger::single(tx, &refunds, &pool_order, amount, ctx.currency, &purpose, ctx.now)?;
    if back > 0 {
        ledger::single(tx, &pool_wallet, &wallet, back, &fx.wallet_currency, &purpose, ctx.now)?;
    }
    Ok(RefundOutcome { method: "wallet", status: "refunded" })
}

fn stored_value_authorize(tx: &mut dyn Tx, method: &str, ctx: &PaymentContext<'_>) -> Result<PaymentStatus> {
    if ctx.amount_minor == 0 {
        return Ok(PaymentStatus::Paid); // nothing to move (free items)
    }
    if let Some(fx) = ctx.tender_ref.and_then(FxTender::decode) {
        return fx_authorize(tx, ctx, &fx);
    }
    let (source, revenue) = stored_value_accounts(tx, method, ctx, ledger::kind::REVENUE)?;
    let purpose =
        ledger::Purpose { reason: "order payment", ref_type: "order", ref_id: ctx.order_id, transfer_id: None };
    if ctx.channel == domain::Channel::Pos {
        ledger::single(tx, &source, &revenue, ctx.amount_minor, ctx.currency, &purpose, ctx.now)?;
        return Ok(PaymentStatus::Paid);
    }
    ledger::pending(tx, &source, &revenue, ctx.amount_minor, ctx.currency, ctx.hold_until, &purpose, ctx.now)?;
    Ok(PaymentStatus::Authorized)
}

fn stored_value_refund(
    tx: &mut dyn Tx,
    method: &'static str,
    ctx: &PaymentContext<'_>,
    amount: i64,
    refund_id: &str,
) -> Result<RefundOutcome> {
    if amount == 0 {
        return Ok(RefundOutcome { method, status: "refunded" });
    }
    if let Some(fx) = ctx.tender_ref.and_then(FxTender::decode) {
        return fx_refund(tx, ctx, &fx, amount, refund_id);
    }
    let (source, refunds) = stored_value_accounts(tx, method, ctx, ledger::kind::REFUNDS)?;
    let purpose =
        ledger::Purpose { reason: "refund for a return", ref_type: "refund", ref_id: refund_id, transfer_id: None };
    ledger::single(tx, &refunds, &source, amount, ctx.currency, &purpose, ctx.now)?;
    Ok(RefundOutcome { method, status: "refunded" })
}

impl PaymentProvider for Wallet {
    fn method(&self) -> &'static str {
        "wallet"
    }
    fn allowed(&self, channel: domain::Channel, _pickup: bool) -> bool {
        matches!(channel, domain::Channel::Web | domain::Channel::Pos)
    }
    fn authorize(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>) -> Result<PaymentStatus> {
        stored_value_authorize(tx, "wallet", ctx)
    }
    fn on_handover(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus> {
        match current {
            PaymentStatus::Paid => return Ok(current),
            PaymentStatus::Authorized => {}
            // Never hand goods over against a lapsed or released authorization.
            _ => {
                return Err(crate::EngineError::conflict(
                    "payment_not_authorized",
                    format!(
                    "the order's payment is {}; take payment another way (cancel and reorder) before handing it over",
                    current.as_str()
                ),
                ))
            }
        }
        let hold = ledger::open_pending(tx, "order", ctx.order_id)?.ok_or_else(|| {
            crate::EngineError::conflict(
                "hold_expired",
                "the payment authorization for this order has expired; cancel and reorder",
            )
        })?;
        if let Some(fx) = ctx.tender_ref.and_then(FxTender::decode) {
            fx_capture(tx, ctx, &fx, &hold)?;
            return Ok(PaymentStatus::Paid);
        }
        let purpose = ledger::Purpose {
            reason: "order captured at handover",
            ref_type: "order",
            ref_id: ctx.order_id,
            transfer_id: None,
        };
        ledger::resolve(tx, &hold, "post", Some(ctx.amount_minor.min(hold.amount)), &purpose, ctx.now)?;
        Ok(PaymentStatus::Paid)
    }
    fn on_cancel(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus> {
        if let Some(hold) = ledger::open_pending(tx, "order", ctx.order_id)? {
            let purpose = ledger::Purpose {
                reason: "order cancelled: hold released",
                ref_type: "order",
                ref_id: ctx.order_id,
                transfer_id: None,
            };
            ledger::resolve(tx, &hold, "void", None, &purpose, ctx.now)?;
            return Ok(PaymentStatus::Voided);
        }
        Ok(current)
    }
    fn refund_method(&self) -> &'static str {
        "wallet"
    }
    fn refund(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, amount: i64, refund_id: &str) -> Result<RefundOutcome> {
        stored_value_refund(tx, "wallet", ctx, amount, refund_id)
    }
}

/// Pay at the pickup desk: pending until the order is picked up, then paid.
pub struct PayAtPickup;
/// Pay at the counter: paid when the sale completes.
pub struct PayInStore;
/// Settled outside borderless (invoice, transfer); staff reconcile it.
pub struct Manual;

impl PaymentProvider for PayAtPickup {
    fn method(&self) -> &'static str {
        "pay_at_pickup"
    }
    fn allowed(&self, channel: domain::Channel, pickup: bool) -> bool {
        channel == domain::Channel::Web && pickup
    }
    fn authorize(&self, _: &mut dyn Tx, _: &PaymentContext<'_>) -> Result<PaymentStatus> {
        Ok(PaymentStatus::Pending)
    }
    fn on_handover(&self, _: &mut dyn Tx, _: &PaymentContext<'_>, _: PaymentStatus) -> Result<PaymentStatus> {
        Ok(PaymentStatus::Paid)
    }
    fn refund_method(&self) -> &'static str {
        "cash_or_card_at_store"
    }
}

impl PaymentProvider for PayInStore {
    fn method(&self) -> &'static str {
        "pay_in_store"
    }
    fn allowed(&self, channel: domain::Channel, _pickup: bool) -> bool {
        channel == domain::Channel::Pos
    }
    fn authorize(&self, _: &mut dyn Tx, _: &PaymentContext<'_>) -> Result<PaymentStatus> {
        Ok(PaymentStatus::Paid)
    }
    fn on_handover(&self, _: &mut dyn Tx, _: &PaymentContext<'_>, s: PaymentStatus) -> Result<PaymentStatus> {
        Ok(s)
    }
    fn refund_method(&self) -> &'static str {
        "cash_or_card_at_store"
    }
}

impl PaymentProvider for Manual {
    fn method(&self) -> &'static str {
        "manual"
    }
    fn allowed(&self, _: domain::Channel, _: bool) -> bool {
        true
    }
    fn authorize(&self, _: &mut dyn Tx, _: &PaymentContext<'_>) -> Result<PaymentStatus> {
        Ok(PaymentStatus::Pending)
    }
    fn on_handover(&self, _: &mut dyn Tx, _: &PaymentContext<'_>, s: PaymentStatus) -> Result<PaymentStatus> {
        Ok(s)
    }
    fn refund_method(&self) -> &'static str {
        "manual"
    }
}

/// The providers a running engine knows, by method name.
#[derive(Clone)]
pub struct Payments {
    providers: Vec<std::sync::Arc<dyn PaymentProvider>>,
}

impl Default for Payments {
    fn default() -> Self {
        Payments {
            providers: vec![
                std::sync::Arc::new(PayAtPickup),
                std::sync::Arc::new(PayInStore),
                std::sync::Arc::new(Manual),
                std::sync::Arc::new(Wallet),
                std::sync::Arc::new(GiftCard),
                std::sync::Arc::new(Split),
                std::sync::Arc::new(StoreCredit),
                std::sync::Arc::new(crate::cards::Card),
                std::sync::Arc::new(crate::cashierless::EntryHold),
            ],
        }
    }
}

impl Payments {
    pub fn register(&mut self, p: std::sync::Arc<dyn PaymentProvider>) {
        self.providers.retain(|x| x.method() != p.method());
        self.providers.push(p);
    }
    pub fn get(&self, method: &str) -> Option<&std::sync::Arc<dyn PaymentProvider>> {
        self.providers.iter().find(|p| p.method() == method)
    }
    pub fn methods(&self) -> Vec<&'static str> {
        self.providers.iter().map(|p| p.method()).collect()
    }
}

/// One part of a split payment, as kept in the order's `payment_reference` (`split:<json>`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct SplitPart {
    /// `wallet` or `gift_card`.
    pub m: String,
    /// The gift card's account code (none for the wallet).
    pub r: Option<String>,
    /// The amount this tender pays, in the order's minor units.
    pub a: i64,
}

pub(crate) fn encode_split(parts: &[SplitPart]) -> String {
    format!("split:{}", serde_json::to_string(parts).unwrap_or_default())
}

fn decode_split(s: &str) -> Option<Vec<SplitPart>> {
    serde_json::from_str(s.strip_prefix("split:")?).ok()
}

/// Splits `amount` over `weights` in proportion, in whole minor units (largest remainders get the rest), so
/// the shares always add up to `amount` exactly.
pub fn allocate(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|w| *w as i128).sum();
    if total <= 0 {
        return weights.iter().map(|_| 0).collect();
    }
    let mut shares: Vec<(i64, i128, usize)> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let exact = amount as i128 * *w as i128;
            ((exact / total) as i64, exact % total, i)
        })
        .collect();
    let mut rest = amount - shares.iter().map(|s| s.0).sum::<i64>();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| shares[*b].1.cmp(&shares[*a].1).then(a.cmp(b)));
    for i in order {
        if rest == 0 {
            break;
        }
        shares[i].0 += 1;
        rest -= 1;
    }
    shares.into_iter().map(|s| s.0).collect()
}

/// Pays one order with several stored-value tenders (wallet and gift cards). Each part is its own hold,
/// capture, release and refund through the part's provider, keyed `<order>#<part>` in the ledger; refunds
/// go back to the parts in the original proportions.
pub struct Split;

fn part_provider(m: &str) -> Result<&'static dyn PaymentProvider> {
    match m {
        "wallet" => Ok(&Wallet),
        "gift_card" => Ok(&GiftCard),
        "store_credit" => Ok(&StoreCredit),
        "card" => Ok(&crate::cards::Card),
        other => Err(crate::EngineError::invalid(
            "unsupported_payment_method",
            format!("`{other}` cannot be part of a split payment"),
        )),
    }
}

fn for_parts(
    ctx: &PaymentContext<'_>,
    mut f: impl FnMut(&dyn PaymentProvider, &PaymentContext<'_>, usize, &SplitPart) -> Result<()>,
) -> Result<()> {
    let parts = ctx
        .tender_ref
        .and_then(decode_split)
        .ok_or_else(|| crate::EngineError::invalid("invalid_split", "this order has no split payment parts"))?;
    for (i, p) in parts.iter().enumerate() {
        let order_ref = format!("{}#{}", ctx.order_id, i + 1);
        let sub = PaymentContext {
            order_id: &order_ref,
            channel: ctx.channel,
            currency: ctx.currency,
            amount_minor: p.a,
            customer_id: ctx.customer_id,
            location_id: ctx.location_id,
            hold_until: ctx.hold_until,
            tender_ref: p.r.as_deref(),
            now: ctx.now,
        };
        f(part_provider(&p.m)?, &sub, i, p)?;
    }
    Ok(())
}

impl PaymentProvider for Split {
    fn method(&self) -> &'static str {
        "split"
    }
    fn allowed(&self, channel: domain::Channel, _pickup: bool) -> bool {
        channel == domain::Channel::Web
    }
    fn authorize(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>) -> Result<PaymentStatus> {
        let mut status = PaymentStatus::Paid;
        for_parts(ctx, |p, sub, _, _| {
            status = p.authorize(tx, sub)?;
            Ok(())
        })?;
        Ok(status)
    }
    fn on_handover(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus> {
        if current == PaymentStatus::Paid {
            return Ok(current);
        }
        for_parts(ctx, |p, sub, _, _| p.on_handover(tx, sub, current).map(|_| ()))?;
        Ok(PaymentStatus::Paid)
    }
    fn on_cancel(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus> {
        let mut status = current;
        for_parts(ctx, |p, sub, _, _| {
            status = p.on_cancel(tx, sub, current)?;
            Ok(())
        })?;
        Ok(status)
    }
    fn refund_method(&self) -> &'static str {
        "split"
    }
    fn refund(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, amount: i64, refund_id: &str) -> Result<RefundOutcome> {
        let parts = ctx.tender_ref.and_then(decode_split).unwrap_or_default();
        let shares = allocate(amount, &parts.iter().map(|p| p.a).collect::<Vec<_>>());
        let mut status = "refunded";
        for_parts(ctx, |p, sub, i, _| {
            if shares[i] > 0 {
                // A card part is `pending` until the processor confirms; so is the whole refund then.
                if p.refund(tx, sub, shares[i], refund_id)?.status == "pending" {
                    status = "pending";
                }
            }
            Ok(())
        })?;
        Ok(RefundOutcome { method: "split", status })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn allocation_is_exact_and_proportional() {
        assert_eq!(super::allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(super::allocate(29000, &[10000, 19000]), vec![10000, 19000]);
        assert_eq!(super::allocate(1000, &[10000, 19000]), vec![345, 655]);
        assert_eq!(super::allocate(0, &[5, 5]), vec![0, 0]);
        let s = super::allocate(99_999, &[3, 7, 11]);
        assert_eq!(s.iter().sum::<i64>(), 99_999);
    }
}
