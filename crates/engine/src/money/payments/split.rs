//! One order paid by several tenders. Each part is its own hold, capture, release and refund through the
//! part's provider (found in the registry, so any splittable provider can take part), keyed `<order>#<part>`
//! in the ledger; refunds go back to the parts in the original proportions.

use super::{allocate, PaymentContext, PaymentMethod, PaymentProvider, PaymentStatus, RefundOutcome};
use crate::error::{EngineError, Result};
use store::Tx;

/// One part of a split payment, as kept in the order's `payment_reference` (`split:<json>`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct SplitPart {
    /// The part's method (`wallet`, `gift_card`, `store_credit`, `card`).
    pub m: String,
    /// The tender's reference (a gift card's account code, a card payment); none for the wallet.
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

pub struct Split;

fn for_parts(
    ctx: &PaymentContext<'_>,
    mut f: impl FnMut(&dyn PaymentProvider, &PaymentContext<'_>, usize, &SplitPart) -> Result<()>,
) -> Result<()> {
    let parts = ctx
        .tender_ref
        .and_then(decode_split)
        .ok_or_else(|| EngineError::invalid("invalid_split", "this order has no split payment parts"))?;
    for (i, p) in parts.iter().enumerate() {
        let provider =
            PaymentMethod::parse(&p.m).ok().and_then(|m| ctx.payments.get(m)).filter(|p| p.splittable()).ok_or_else(
                || {
                    EngineError::invalid(
                        "unsupported_payment_method",
                        format!("`{}` cannot be part of a split payment", p.m),
                    )
                },
            )?;
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
            payments: ctx.payments,
        };
        f(provider.as_ref(), &sub, i, p)?;
    }
    Ok(())
}

impl PaymentProvider for Split {
    fn method(&self) -> PaymentMethod {
        PaymentMethod::Split
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
