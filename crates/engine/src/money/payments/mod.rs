//! The payment abstraction. A [`PaymentProvider`] is looked up by its [`PaymentMethod`] at checkout and runs
//! inside the order's transaction, so a provider that moves money commits or rolls back together with the
//! order and its stock. This module holds the trait, the registry and what providers share; the providers
//! themselves sit beside it (offline tenders, stored value, split) or in their own areas (cards in
//! `money::cards`, the cashierless entry hold in `instore::cashierless`), and the engine registers them all.

mod offline;
mod split;
mod stored_value;

pub use offline::{Manual, PayAtPickup, PayInStore};
pub use split::Split;
pub(crate) use split::{encode_split, SplitPart};
pub(crate) use stored_value::FxTender;
pub use stored_value::{AccountKind, StoredValue};

use crate::error::{EngineError, Result};
use crate::money::ledger;
use std::sync::Arc;
use store::Tx;

/// How an order is paid. Stored and sent as its snake_case name (`pay_at_pickup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// Paid at the pickup desk; pending until then.
    PayAtPickup,
    /// Paid at the counter when the sale completes.
    PayInStore,
    /// Settled outside borderless (invoice, transfer); staff reconcile it.
    Manual,
    /// The shopper's wallet.
    Wallet,
    /// A gift card, by its code.
    GiftCard,
    /// The shopper's store credit.
    StoreCredit,
    /// A card through the configured gateway.
    Card,
    /// Several tenders for one order.
    Split,
    /// A cashierless visit's entry hold (the exit gate only).
    CashierlessHold,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 9] = [
        PaymentMethod::PayAtPickup,
        PaymentMethod::PayInStore,
        PaymentMethod::Manual,
        PaymentMethod::Wallet,
        PaymentMethod::GiftCard,
        PaymentMethod::StoreCredit,
        PaymentMethod::Card,
        PaymentMethod::Split,
        PaymentMethod::CashierlessHold,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::PayAtPickup => "pay_at_pickup",
            PaymentMethod::PayInStore => "pay_in_store",
            PaymentMethod::Manual => "manual",
            PaymentMethod::Wallet => "wallet",
            PaymentMethod::GiftCard => "gift_card",
            PaymentMethod::StoreCredit => "store_credit",
            PaymentMethod::Card => "card",
            PaymentMethod::Split => "split",
            PaymentMethod::CashierlessHold => "cashierless_hold",
        }
    }

    /// The method named `s`, or an error that lists the methods there are.
    pub fn parse(s: &str) -> Result<PaymentMethod> {
        PaymentMethod::ALL.into_iter().find(|m| m.as_str() == s).ok_or_else(|| {
            EngineError::invalid(
                "unsupported_payment_method",
                format!(
                    "payment method `{s}` is not supported; use one of {}",
                    PaymentMethod::ALL.map(|m| m.as_str()).join(", ")
                ),
            )
        })
    }
}

impl std::fmt::Display for PaymentMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    /// The registry, for providers that compose others (split).
    pub payments: &'a Payments,
}

/// What a refund did.
pub struct RefundOutcome {
    pub method: &'static str,
    /// `refunded` when money moved now, `pending` when staff pay it out (cash, card terminal, transfer).
    pub status: &'static str,
}

pub trait PaymentProvider: Send + Sync {
    /// The method shoppers and staff name.
    fn method(&self) -> PaymentMethod;
    /// Which channels may use this method.
    fn allowed(&self, channel: domain::Channel, pickup: bool) -> bool;
    /// Whether it can pay one part of a split payment.
    fn splittable(&self) -> bool {
        false
    }
    /// Called when the order is placed.
    fn authorize(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>) -> Result<PaymentStatus>;
    /// Called when goods are handed over (pickup, POS completion, shipment).
    fn on_handover(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus>;
    /// The refund method recorded for a return (`manual`: staff refunds at the till or by transfer).
    fn refund_method(&self) -> &'static str;
    /// Called when an order is cancelled or expires before handover. A payment still waiting to be collected
    /// (at the desk, or outside borderless) will never be: it ends `voided`.
    fn on_cancel(&self, _tx: &mut dyn Tx, _ctx: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus> {
        Ok(if current == PaymentStatus::Pending { PaymentStatus::Voided } else { current })
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

/// The providers a running engine knows, by method.
#[derive(Clone)]
pub struct Payments {
    providers: Vec<Arc<dyn PaymentProvider>>,
}

impl Payments {
    pub fn new(providers: Vec<Arc<dyn PaymentProvider>>) -> Payments {
        let mut p = Payments { providers: Vec::new() };
        for x in providers {
            p.register(x);
        }
        p
    }
    /// Adds a provider, replacing any for the same method.
    pub fn register(&mut self, p: Arc<dyn PaymentProvider>) {
        self.providers.retain(|x| x.method() != p.method());
        self.providers.push(p);
    }
    pub fn get(&self, method: PaymentMethod) -> Option<&Arc<dyn PaymentProvider>> {
        self.providers.iter().find(|p| p.method() == method)
    }
    /// The provider for `method`, or an error naming the methods this server takes.
    pub fn require(&self, method: PaymentMethod) -> Result<&Arc<dyn PaymentProvider>> {
        self.get(method).ok_or_else(|| {
            EngineError::invalid(
                "unsupported_payment_method",
                format!("payment method `{method}` is not supported here; use one of {}", self.methods().join(", ")),
            )
        })
    }
    pub fn methods(&self) -> Vec<&'static str> {
        self.providers.iter().map(|p| p.method().as_str()).collect()
    }

    /// The provider for the method named `name` on `channel`, or an error that lists the methods this channel
    /// takes (so a shopper is never offered the cashierless gate's hold, and a till never `pay_at_pickup`).
    pub fn for_channel(&self, name: &str, channel: domain::Channel, pickup: bool) -> Result<&Arc<dyn PaymentProvider>> {
        let usable: Vec<&Arc<dyn PaymentProvider>> =
            self.providers.iter().filter(|p| p.allowed(channel, pickup)).collect();
        if let Some(p) = usable.iter().find(|p| p.method().as_str() == name) {
            return Ok(p);
        }
        let what = match (channel, pickup) {
            (domain::Channel::Web, true) => "a click & collect order",
            (domain::Channel::Web, false) => "a delivery order",
            (domain::Channel::Pos, _) => "a counter sale",
            (domain::Channel::Cashierless, _) => "a cashierless visit",
        };
        let mut names: Vec<&str> = usable.iter().map(|p| p.method().as_str()).collect();
        if channel == domain::Channel::Pos {
            // At a till the shopper's wallet is reached through their code.
            names.retain(|n| *n != "wallet");
            names.push("wallet_qr");
        }
        Err(EngineError::invalid(
            "unsupported_payment_method",
            format!("`{name}` cannot pay {what}; use one of {}", names.join(", ")),
        ))
    }
}

/// Captures the order's open authorization at handover (stored value and cards share this): a paid order
/// stays paid; anything but an authorized payment refuses the handover.
pub(crate) fn capture_order_hold(
    tx: &mut dyn Tx,
    ctx: &PaymentContext<'_>,
    current: PaymentStatus,
) -> Result<PaymentStatus> {
    match current {
        PaymentStatus::Paid => return Ok(current),
        PaymentStatus::Authorized => {}
        // Never hand goods over against a lapsed or released authorization.
        _ => {
            return Err(EngineError::conflict(
                "payment_not_authorized",
                format!(
                    "the order's payment is {}; take payment another way (cancel and reorder) before handing it over",
                    current.as_str()
                ),
            ))
        }
    }
    let hold = ledger::open_pending(tx, "order", ctx.order_id)?.ok_or_else(|| {
        EngineError::conflict(
            "hold_expired",
            "the payment authorization for this order has expired; cancel and reorder",
        )
    })?;
    if let Some(fx) = ctx.tender_ref.and_then(FxTender::decode) {
        stored_value::fx_capture(tx, ctx, &fx, &hold)?;
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

/// Releases the order's open authorization, if any, when it is cancelled or expires.
pub(crate) fn release_order_hold(
    tx: &mut dyn Tx,
    ctx: &PaymentContext<'_>,
    current: PaymentStatus,
) -> Result<PaymentStatus> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_exact_and_proportional() {
        assert_eq!(allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(allocate(29000, &[10000, 19000]), vec![10000, 19000]);
        assert_eq!(allocate(1000, &[10000, 19000]), vec![345, 655]);
        assert_eq!(allocate(0, &[5, 5]), vec![0, 0]);
        let s = allocate(99_999, &[3, 7, 11]);
        assert_eq!(s.iter().sum::<i64>(), 99_999);
    }

    #[test]
    fn methods_round_trip_their_names() {
        for m in PaymentMethod::ALL {
            assert_eq!(PaymentMethod::parse(m.as_str()).unwrap(), m);
            assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
        }
        assert_eq!(PaymentMethod::parse("bitcoin").unwrap_err().code(), "unsupported_payment_method");
    }
}
