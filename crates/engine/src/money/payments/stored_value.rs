//! Stored-value tenders: the wallet, gift cards and store credit are one provider parameterised by the kind
//! of account it pays from. Held at checkout as a pending ledger transfer, captured at handover, released on
//! cancellation or expiry, refunded into the same account; a wallet can pay an order priced in another
//! currency at the recorded exchange rate (`FxTender`).

use super::{
    capture_order_hold, release_order_hold, PaymentContext, PaymentMethod, PaymentProvider, PaymentStatus,
    RefundOutcome,
};
use crate::error::{EngineError, Result};
use crate::money::ledger;
use store::Tx;

/// The account a stored-value tender pays from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// The signed-in customer's wallet in the order's currency.
    Wallet,
    /// A gift card's account, found by the card's code.
    GiftCard,
    /// The signed-in customer's store credit (issued for returns at the shopper's choice).
    StoreCredit,
}

/// Pays from a stored-value account of one kind.
pub struct StoredValue(pub AccountKind);

impl StoredValue {
    pub const WALLET: StoredValue = StoredValue(AccountKind::Wallet);
    pub const GIFT_CARD: StoredValue = StoredValue(AccountKind::GiftCard);
    pub const STORE_CREDIT: StoredValue = StoredValue(AccountKind::StoreCredit);

    /// The customer-side account this tender pays from, and the seller-side account of `books`.
    fn accounts(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, books: &str) -> Result<(String, String)> {
        let source = match self.0 {
            AccountKind::StoreCredit => {
                let customer = ctx.customer_id.ok_or_else(|| {
                    EngineError::invalid("customer_required", "store credit pays only for its signed-in owner")
                })?;
                ledger::store_credit_account(tx, customer, ctx.currency, ctx.now)?
            }
            AccountKind::GiftCard => {
                let code = ctx.tender_ref.ok_or_else(|| {
                    EngineError::invalid("gift_card_required", "a gift card payment needs the card's number as `code`")
                })?;
                match ledger::get_account(tx, code)?.filter(|a| a.kind == ledger::kind::GIFT_CARD) {
                    Some(a) => a.id,
                    None => return Err(gift_card_elsewhere(tx, code, ctx.currency)?),
                }
            }
            AccountKind::Wallet => {
                let customer = ctx.customer_id.ok_or_else(|| {
                    EngineError::invalid(
                        "customer_required",
                        "wallet payments need a signed-in customer (or the customer's id at a POS)",
                    )
                })?;
                ledger::wallet_account(tx, customer, ctx.currency, ctx.now)?
            }
        };
        let scope = ctx.location_id.unwrap_or("web");
        let other = ledger::books_account(tx, books, scope, ctx.currency, ctx.now)?;
        Ok((source, other))
    }
}

impl PaymentProvider for StoredValue {
    fn method(&self) -> PaymentMethod {
        match self.0 {
            AccountKind::Wallet => PaymentMethod::Wallet,
            AccountKind::GiftCard => PaymentMethod::GiftCard,
            AccountKind::StoreCredit => PaymentMethod::StoreCredit,
        }
    }
    fn allowed(&self, channel: domain::Channel, _pickup: bool) -> bool {
        match self.0 {
            AccountKind::StoreCredit => channel == domain::Channel::Web,
            AccountKind::Wallet | AccountKind::GiftCard => {
                matches!(channel, domain::Channel::Web | domain::Channel::Pos)
            }
        }
    }
    fn splittable(&self) -> bool {
        true
    }
    fn authorize(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>) -> Result<PaymentStatus> {
        if ctx.amount_minor == 0 {
            return Ok(PaymentStatus::Paid); // nothing to move (free items)
        }
        if let Some(fx) = ctx.tender_ref.and_then(FxTender::decode) {
            return fx_authorize(tx, ctx, &fx);
        }
        let (source, revenue) = self.accounts(tx, ctx, ledger::kind::REVENUE)?;
        let purpose =
            ledger::Purpose { reason: "order payment", ref_type: "order", ref_id: ctx.order_id, transfer_id: None };
        if ctx.channel == domain::Channel::Pos {
            ledger::single(tx, &source, &revenue, ctx.amount_minor, ctx.currency, &purpose, ctx.now)?;
            return Ok(PaymentStatus::Paid);
        }
        ledger::pending(tx, &source, &revenue, ctx.amount_minor, ctx.currency, ctx.hold_until, &purpose, ctx.now)?;
        Ok(PaymentStatus::Authorized)
    }
    fn on_handover(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus> {
        capture_order_hold(tx, ctx, current)
    }
    fn on_cancel(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus> {
        release_order_hold(tx, ctx, current)
    }
    fn refund_method(&self) -> &'static str {
        self.method().as_str()
    }
    fn refund(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, amount: i64, refund_id: &str) -> Result<RefundOutcome> {
        let method = self.refund_method();
        if amount == 0 {
            return Ok(RefundOutcome { method, status: "refunded" });
        }
        if let Some(fx) = ctx.tender_ref.and_then(FxTender::decode) {
            return fx_refund(tx, ctx, &fx, amount, refund_id);
        }
        let (source, refunds) = self.accounts(tx, ctx, ledger::kind::REFUNDS)?;
        let purpose =
            ledger::Purpose { reason: "refund for a return", ref_type: "refund", ref_id: refund_id, transfer_id: None };
        ledger::single(tx, &refunds, &source, amount, ctx.currency, &purpose, ctx.now)?;
        Ok(RefundOutcome { method, status: "refunded" })
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
        .ok_or_else(|| EngineError::invalid("customer_required", "wallet payments need a signed-in customer"))?;
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

pub(super) fn fx_capture(
    tx: &mut dyn Tx,
    ctx: &PaymentContext<'_>,
    fx: &FxTender,
    hold: &ledger::Pending,
) -> Result<()> {
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
        ctx.customer_id.ok_or_else(|| EngineError::invalid("customer_required", "the order has no customer"))?;
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

/// Why a gift card's account for this order's currency does not exist: the card was sold in another currency
/// (said so, with the way out), or there is no such card.
fn gift_card_elsewhere(tx: &mut dyn Tx, account_code: &str, currency: &str) -> Result<EngineError> {
    if let Some(stem) = account_code.strip_prefix("giftcard:").and_then(|r| r.rsplit_once(':')).map(|r| r.0) {
        for c in domain::Currency::ALL.iter().map(|c| c.code()).filter(|c| *c != currency) {
            if ledger::get_account(tx, &format!("giftcard:{stem}:{c}"))?.is_some() {
                return Ok(EngineError::invalid(
                    "currency_mismatch",
                    format!("this gift card is in {c} and the order in {currency}: pay in {c}, or choose another way to pay"),
                ));
            }
        }
    }
    Ok(EngineError::invalid("invalid_gift_card", "unknown gift card"))
}
