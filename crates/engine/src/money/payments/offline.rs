//! Tenders that move no money inside borderless: pay at the pickup desk, pay at the counter, and `manual`
//! (settled outside, reconciled by staff).

use super::{PaymentContext, PaymentMethod, PaymentProvider, PaymentStatus};
use crate::error::Result;
use store::Tx;

/// Pay at the pickup desk: pending until the order is picked up, then paid.
pub struct PayAtPickup;
/// Pay at the counter: paid when the sale completes.
pub struct PayInStore;
/// Settled outside borderless (invoice, transfer); staff reconcile it.
pub struct Manual;

impl PaymentProvider for PayAtPickup {
    fn method(&self) -> PaymentMethod {
        PaymentMethod::PayAtPickup
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
    fn method(&self) -> PaymentMethod {
        PaymentMethod::PayInStore
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
    fn method(&self) -> PaymentMethod {
        PaymentMethod::Manual
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
