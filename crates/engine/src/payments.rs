//! The payment abstraction. A [`PaymentProvider`] is looked up by method name at checkout and runs inside
//! the order's transaction, so a provider that moves money (the wallet ledger, QR payments) commits or
//! rolls back together with the order and its stock. This issue ships the offline tenders: pay at pickup,
//! pay in store and manual (bank transfer, invoice).

use crate::error::Result;
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
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Refunded => "refunded",
        }
    }
}

/// What a provider sees of an order.
pub struct PaymentContext<'a> {
    pub order_id: &'a str,
    pub channel: domain::Channel,
    pub currency: &'a str,
    pub amount_minor: i64,
    pub now: i64,
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
            providers: vec![std::sync::Arc::new(PayAtPickup), std::sync::Arc::new(PayInStore), std::sync::Arc::new(Manual)],
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
