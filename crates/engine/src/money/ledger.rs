//! The double-entry money ledger. Every transfer debits one account and credits another by the same
//! positive amount of one currency, so the sum over all accounts of a currency is zero by construction.
//! Accounts keep posted and pending debit/credit totals (TigerBeetle's model); a wallet account carries
//! `no_overdraft`, and its guard (`debits_posted + debits_pending <= credits_posted`) is part of the same
//! conditional UPDATE that moves the money, so no wallet can go negative under any concurrency. Transfers
//! are immutable: a pending transfer (an authorization hold with an expiry) is resolved by exactly one
//! later transfer — post (capture, possibly for less), void or expire — and corrections are new transfers.
//! (Indexes on holds are partial, `WHERE kind = 'pending'`, so the common single transfer pays for two
//! index entries beyond its key, not five.)

use crate::error::{EngineError, Result};
use serde::Serialize;
use store::{params, Row, Tx};

pub const MAX_STATEMENT_PAGE: usize = 200;
/// Most transfers posted in one batch (one transaction).
pub const MAX_BATCH: usize = 10_000;

/// A single-phase transfer to post, naming accounts by code or id.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferSpec {
    pub debit_account: String,
    pub credit_account: String,
    pub amount_minor: i64,
    pub currency: String,
    pub reason: String,
    #[serde(default)]
    pub reference: String,
}

/// Account kinds. Wallets, gift cards and store credit are liabilities to customers (never negative);
/// the others are the seller's books.
pub mod kind {
    pub const WALLET: &str = "wallet";
    pub const GIFT_CARD: &str = "gift_card";
    pub const STORE_CREDIT: &str = "store_credit";
    pub const FX: &str = "fx";
    pub const REVENUE: &str = "revenue";
    pub const REFUNDS: &str = "refunds";
    pub const CASH: &str = "cash";
    pub const CLEARING: &str = "clearing";
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AccountView {
    pub id: String,
    pub code: String,
    pub kind: String,
    pub currency: String,
    pub owner_id: Option<String>,
    /// `credits_posted − debits_posted`: what the account holds (for a wallet, what the seller owes).
    pub balance_minor: i64,
    /// Held by pending transfers (authorizations) that are neither posted nor released yet.
    pub held_minor: i64,
    /// `balance − held`: what can still be spent.
    pub available_minor: i64,
    pub debits_posted: i64,
    pub credits_posted: i64,
    pub debits_pending: i64,
    pub credits_pending: i64,
}

const ACCOUNT_COLS: &str =
    "id, code, kind, currency, owner_id, debits_posted, credits_posted, debits_pending, credits_pending";

fn account_from_row(r: &Row) -> Result<AccountView> {
    let (dp, cp, dpe, cpe) = (r.i64(5)?, r.i64(6)?, r.i64(7)?, r.i64(8)?);
    Ok(AccountView {
        id: r.text(0)?,
        code: r.text(1)?,
        kind: r.text(2)?,
        currency: r.text(3)?,
        owner_id: r.opt_text(4)?,
        balance_minor: cp - dp,
        held_minor: dpe,
        available_minor: cp - dp - dpe,
        debits_posted: dp,
        credits_posted: cp,
        debits_pending: dpe,
        credits_pending: cpe,
    })
}

/// The account with `code`, created on first use.
pub(crate) fn account(
    tx: &mut dyn Tx,
    code: &str,
    kind: &str,
    currency: &str,
    owner_id: Option<&str>,
    no_overdraft: bool,
    now: i64,
) -> Result<String> {
    if let Some(r) = tx.query_opt("SELECT id FROM ledger_accounts WHERE code = ?", params![code])? {
        return Ok(r.text(0)?);
    }
    tx.exec(
        "INSERT INTO ledger_accounts (id, code, kind, currency, owner_id, no_overdraft, debits_posted, credits_posted, debits_pending, credits_pending, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0, ?) ON CONFLICT (code) DO NOTHING",
        params![domain::ids::new_id("acct"), code, kind, currency, owner_id, no_overdraft, now],
    )?;
    Ok(tx.query_one("SELECT id FROM ledger_accounts WHERE code = ?", params![code])?.text(0)?)
}

/// The ledger account code of a gift card: a hash of the card's secret code (the code itself is never
/// stored), per currency.
pub fn gift_card_account_code(card_code: &str, currency: &str) -> String {
    use sha2::Digest;
    let norm: String =
        card_code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    let h = hex::encode(sha2::Sha256::digest(norm.as_bytes()));
    format!("giftcard:{}:{currency}", &h[..24])
}

/// A customer's store credit (spendable at the seller's channels, not withdrawable), per currency.
pub(crate) fn store_credit_account(tx: &mut dyn Tx, customer_id: &str, currency: &str, now: i64) -> Result<String> {
    account(
        tx,
        &format!("storecredit:{customer_id}:{currency}"),
        kind::STORE_CREDIT,
        currency,
        Some(customer_id),
        true,
        now,
    )
}

pub(crate) fn wallet_account(tx: &mut dyn Tx, customer_id: &str, currency: &str, now: i64) -> Result<String> {
    account(tx, &format!("wallet:{customer_id}:{currency}"), kind::WALLET, currency, Some(customer_id), true, now)
}

/// A seller-side account of `kind` for a location (or `web` for online sales), per currency.
pub(crate) fn books_account(tx: &mut dyn Tx, kind: &str, scope: &str, currency: &str, now: i64) -> Result<String> {
    account(tx, &format!("{kind}:{scope}:{currency}"), kind, currency, None, false, now)
}

pub(crate) fn get_account(tx: &mut dyn Tx, code_or_id: &str) -> Result<Option<AccountView>> {
    let sql = format!("SELECT {ACCOUNT_COLS} FROM ledger_accounts WHERE id = ? OR code = ?");
    tx.query_opt(&sql, params![code_or_id, code_or_id])?.map(|r| account_from_row(&r)).transpose()
}

pub(crate) fn accounts_of(tx: &mut dyn Tx, owner_id: &str) -> Result<Vec<AccountView>> {
    let sql = format!("SELECT {ACCOUNT_COLS} FROM ledger_accounts WHERE owner_id = ? ORDER BY code");
    tx.query(&sql, params![owner_id])?.iter().map(account_from_row).collect()
}

/// What a transfer is for, kept on the transfer row; `transfer_id` presets the new transfer's id (when a
/// caller has already promised it, e.g. to an idempotency key).
#[derive(Default)]
pub(crate) struct Purpose<'a> {
    pub reason: &'a str,
    pub ref_type: &'a str,
    pub ref_id: &'a str,
    pub transfer_id: Option<&'a str>,
}

/// Adds to an account's totals; with `guard`, only if a no-overdraft account stays covered. Returns
/// whether the row was updated.
#[allow(clippy::too_many_arguments)]
fn apply(
    tx: &mut dyn Tx,
    id: &str,
    currency: &str,
    d_posted: i64,
    c_posted: i64,
    d_pending: i64,
    c_pending: i64,
    guard: bool,
) -> Result<bool> {
    let mut sql = String::from(
        "UPDATE ledger_accounts SET debits_posted = debits_posted + ?, credits_posted = credits_posted + ?, \
         debits_pending = debits_pending + ?, credits_pending = credits_pending + ? WHERE id = ? AND currency = ?",
    );
    let mut ps = vec![d_posted.into(), c_posted.into(), d_pending.into(), c_pending.into(), id.into(), currency.into()];
    if guard {
        sql.push_str(" AND (no_overdraft = 0 OR debits_posted + ? + debits_pending + ? <= credits_posted + ?)");
        ps.extend([d_posted.into(), d_pending.into(), c_posted.into()]);
    }
    Ok(tx.exec(&sql, &ps)? == 1)
}

/// Applies both sides in account-id order (so two opposite transfers cannot deadlock), guarding the debit.
#[allow(clippy::too_many_arguments)]
fn move_money(tx: &mut dyn Tx, debit: &str, credit: &str, currency: &str, posted: i64, pending: i64) -> Result<()> {
    let sides: [(&str, bool); 2] =
        if debit < credit { [(debit, true), (credit, false)] } else { [(credit, false), (debit, true)] };
    for (id, is_debit) in sides {
        let ok = if is_debit {
            apply(tx, id, currency, posted, 0, pending, 0, posted > 0 || pending > 0)?
        } else {
            apply(tx, id, currency, 0, posted, 0, pending, false)?
        };
        if !ok {
            return Err(refusal(tx, id, currency, posted.max(pending))?);
        }
    }
    Ok(())
}

/// Why an account update matched no row: unknown account, wrong currency, or not enough funds.
fn refusal(tx: &mut dyn Tx, id: &str, currency: &str, amount: i64) -> Result<EngineError> {
    let Some(a) = get_account(tx, id)? else { return Ok(EngineError::not_found("ledger account", id)) };
    if a.currency != currency {
        return Ok(EngineError::invalid(
            "currency_mismatch",
            format!("account {} is in {}, the transfer in {currency}", a.code, a.currency),
        ));
    }
    Ok(EngineError::conflict(
        "insufficient_funds",
        format!("not enough funds: {} {} available, {amount} needed", a.available_minor, a.currency),
    ))
}

#[allow(clippy::too_many_arguments)]
fn insert(
    tx: &mut dyn Tx,
    kind: &str,
    debit: &str,
    credit: &str,
    amount: i64,
    currency: &str,
    expires_at: Option<i64>,
    p: &Purpose<'_>,
    now: i64,
) -> Result<String> {
    let id = p.transfer_id.map(str::to_owned).unwrap_or_else(|| domain::ids::new_id("trf"));
    tx.exec(
        "INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, currency, kind, pending_id, expires_at, reason, ref_type, ref_id, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![&id, debit, credit, amount, currency, kind, None::<String>, expires_at, p.reason, p.ref_type, p.ref_id, now],
    )?;
    Ok(id)
}

fn check_amount(amount: i64) -> Result<()> {
    if amount <= 0 || amount > 1_000_000_000_000 {
        return Err(EngineError::invalid("invalid_amount", "an amount must be 1 to 10^12 minor units"));
    }
    Ok(())
}

/// A single-phase transfer, posted at once.
pub(crate) fn single(
    tx: &mut dyn Tx,
    debit: &str,
    credit: &str,
    amount: i64,
    currency: &str,
    p: &Purpose<'_>,
    now: i64,
) -> Result<String> {
    check_amount(amount)?;
    if debit == credit {
        return Err(EngineError::invalid("same_account", "a transfer needs two different accounts"));
    }
    move_money(tx, debit, credit, currency, amount, 0)?;
    insert(tx, "single", debit, credit, amount, currency, None, p, now)
}

/// One transfer of a batch, accounts already resolved to ids.
pub(crate) struct BatchItem {
    pub debit: String,
    pub credit: String,
    pub amount: i64,
    pub currency: String,
    pub reason: String,
    pub reference: String,
}

/// Rows per multi-row INSERT (12 parameters each: well under SQLite's and PostgreSQL's parameter limits).
const INSERT_CHUNK: usize = 200;

/// Posts many single-phase transfers at once, all or nothing, with the same guards as [`single`] applied
/// in order: the touched accounts are read (and, on PostgreSQL, locked in id order) once, every transfer is
/// checked against the running balances in memory, then each account gets one UPDATE with its net change
/// (the table's CHECK still guards every wallet) and the transfers are inserted many rows per statement.
pub(crate) fn post_many(tx: &mut dyn Tx, items: &[BatchItem], now: i64) -> Result<Vec<String>> {
    use std::collections::BTreeMap;
    struct Acct {
        currency: String,
        no_overdraft: bool,
        dp: i64,
        cp: i64,
        dpend: i64,
        d_delta: i64,
        c_delta: i64,
    }
    let mut ids: Vec<&str> = items.iter().flat_map(|t| [t.debit.as_str(), t.credit.as_str()]).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut accts: BTreeMap<String, Acct> = BTreeMap::new();
    let lock = tx.for_update();
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT id, currency, no_overdraft, debits_posted, credits_posted, debits_pending FROM ledger_accounts WHERE id IN ({marks}) ORDER BY id{lock}"
        );
        let ps: Vec<store::Val> = chunk.iter().map(|i| (*i).into()).collect();
        for r in tx.query(&sql, &ps)? {
            accts.insert(
                r.text(0)?,
                Acct {
                    currency: r.text(1)?,
                    no_overdraft: r.bool(2)?,
                    dp: r.i64(3)?,
                    cp: r.i64(4)?,
                    dpend: r.i64(5)?,
                    d_delta: 0,
                    c_delta: 0,
                },
            );
        }
    }
    for (i, t) in items.iter().enumerate() {
        let at = |e: EngineError| match e {
            EngineError::Invalid { code, message } => {
                EngineError::Invalid { code, message: format!("transfer #{}: {message}", i + 1) }
            }
            EngineError::Conflict { code, message } => {
                EngineError::Conflict { code, message: format!("transfer #{}: {message}", i + 1) }
            }
            other => other,
        };
        check_amount(t.amount).map_err(at)?;
        if t.debit == t.credit {
            return Err(at(EngineError::invalid("same_account", "a transfer needs two different accounts")));
        }
        for id in [&t.debit, &t.credit] {
            let a = accts.get(id).ok_or_else(|| EngineError::not_found("ledger account", id.clone()))?;
            if a.currency != t.currency {
                return Err(at(EngineError::invalid(
                    "currency_mismatch",
                    format!("account {id} is in {}, the transfer in {}", a.currency, t.currency),
                )));
            }
        }
        let d = accts.get_mut(&t.debit).expect("loaded above");
        if d.no_overdraft && d.dp + d.d_delta + d.dpend + t.amount > d.cp + d.c_delta {
            let available = d.cp + d.c_delta - d.dp - d.d_delta - d.dpend;
            return Err(at(EngineError::conflict(
                "insufficient_funds",
                format!("not enough funds: {available} {} available, {} needed", t.currency, t.amount),
            )));
        }
        d.d_delta += t.amount;
        accts.get_mut(&t.credit).expect("loaded above").c_delta += t.amount;
    }
    for (id, a) in &accts {
        if a.d_delta != 0 || a.c_delta != 0 {
            tx.exec(
                "UPDATE ledger_accounts SET debits_posted = debits_posted + ?, credits_posted = credits_posted + ? WHERE id = ?",
                params![a.d_delta, a.c_delta, id],
            )?;
        }
    }
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(INSERT_CHUNK) {
        let row = "(?, ?, ?, ?, ?, 'single', NULL, NULL, ?, 'manual', ?, ?)";
        let sql = format!(
            "INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, currency, kind, pending_id, expires_at, reason, ref_type, ref_id, created_at) VALUES {}",
            vec![row; chunk.len()].join(", ")
        );
        let mut ps: Vec<store::Val> = Vec::with_capacity(chunk.len() * 8);
        for t in chunk {
            let id = domain::ids::new_id("trf");
            ps.extend([
                id.clone().into(),
                t.debit.clone().into(),
                t.credit.clone().into(),
                t.amount.into(),
                t.currency.clone().into(),
                t.reason.clone().into(),
                t.reference.clone().into(),
                now.into(),
            ]);
            out.push(id);
        }
        tx.exec(&sql, &ps)?;
    }
    Ok(out)
}

/// A pending transfer: holds `amount` on the debit account until `expires_at`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pending(
    tx: &mut dyn Tx,
    debit: &str,
    credit: &str,
    amount: i64,
    currency: &str,
    expires_at: i64,
    p: &Purpose<'_>,
    now: i64,
) -> Result<String> {
    check_amount(amount)?;
    if debit == credit {
        return Err(EngineError::invalid("same_account", "a transfer needs two different accounts"));
    }
    move_money(tx, debit, credit, currency, 0, amount)?;
    insert(tx, "pending", debit, credit, amount, currency, Some(expires_at), p, now)
}

pub(crate) struct Pending {
    pub id: String,
    pub debit: String,
    pub credit: String,
    pub amount: i64,
    pub currency: String,
    pub expires_at: i64,
}

/// The unresolved pending transfer made for `ref`, if any.
pub(crate) fn open_pending(tx: &mut dyn Tx, ref_type: &str, ref_id: &str) -> Result<Option<Pending>> {
    let r = tx.query_opt(
        "SELECT p.id, p.debit_account_id, p.credit_account_id, p.amount, p.currency, p.expires_at FROM ledger_transfers p \
         LEFT JOIN ledger_transfers r ON r.pending_id = p.id \
         WHERE p.kind = 'pending' AND p.ref_type = ? AND p.ref_id = ? AND r.id IS NULL ORDER BY p.seq LIMIT 1",
        params![ref_type, ref_id],
    )?;
    r.map(|r| {
        Ok(Pending {
            id: r.text(0)?,
            debit: r.text(1)?,
            credit: r.text(2)?,
            amount: r.i64(3)?,
            currency: r.text(4)?,
            expires_at: r.opt_i64(5)?.unwrap_or(i64::MAX),
        })
    })
    .transpose()
}

/// Resolves a pending transfer: `post` captures `amount` (≤ the hold; the rest is released), `void` and
/// `expire` release it all. The resolving row is inserted first with `ON CONFLICT DO NOTHING` on the unique
/// `pending_id`, so a second resolution — concurrent or later — changes nothing and is reported.
pub(crate) fn resolve(
    tx: &mut dyn Tx,
    p: &Pending,
    how: &str,
    amount: Option<i64>,
    purpose: &Purpose<'_>,
    now: i64,
) -> Result<String> {
    let (kind, posted) = match how {
        // Capturing nothing is releasing the hold.
        "post" if amount == Some(0) => ("void_pending", 0),
        "post" => ("post_pending", amount.unwrap_or(p.amount)),
        "void" => ("void_pending", 0),
        _ => ("expire_pending", 0),
    };
    if posted < 0 || posted > p.amount {
        return Err(EngineError::invalid("invalid_amount", format!("a capture must be 0–{} (the hold)", p.amount)));
    }
    if kind == "post_pending" && p.expires_at < now {
        return Err(EngineError::conflict("hold_expired", "the payment authorization has expired"));
    }
    let id = domain::ids::new_id("trf");
    // A capture records what was posted; a void or expiry records the hold it released.
    let row_amount = if kind == "post_pending" { posted } else { p.amount };
    let n = tx.exec(
        "INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, currency, kind, pending_id, expires_at, reason, ref_type, ref_id, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?) ON CONFLICT (pending_id) WHERE pending_id IS NOT NULL DO NOTHING",
        params![&id, &p.debit, &p.credit, row_amount, &p.currency, kind, &p.id, purpose.reason, purpose.ref_type, purpose.ref_id, now],
    )?;
    if n == 0 {
        return Err(EngineError::conflict(
            "already_resolved",
            format!("pending transfer {} is already posted, voided or expired", p.id),
        ));
    }
    // Release the whole hold, post what was captured.
    let sides: [(&str, bool); 2] = if p.debit < p.credit {
        [(&p.debit, true), (&p.credit, false)]
    } else {
        [(&p.credit, false), (&p.debit, true)]
    };
    for (acct, is_debit) in sides {
        let ok = if is_debit {
            apply(tx, acct, &p.currency, posted, 0, -p.amount, 0, false)?
        } else {
            apply(tx, acct, &p.currency, 0, posted, 0, -p.amount, false)?
        };
        if !ok {
            return Err(EngineError::conflict(
                "ledger_inconsistent",
                format!("account {acct} changed under pending transfer {}", p.id),
            ));
        }
    }
    Ok(id)
}

/// Unresolved holds past their expiry that no order owns (an order's hold ends with the order), oldest
/// first.
pub(crate) fn due_holds(tx: &mut dyn Tx, now: i64, limit: usize) -> Result<Vec<String>> {
    tx.query(
        "SELECT p.id FROM ledger_transfers p LEFT JOIN ledger_transfers r ON r.pending_id = p.id \
         WHERE p.kind = 'pending' AND p.expires_at < ? AND p.ref_type <> 'order' AND r.id IS NULL ORDER BY p.expires_at LIMIT ?",
        params![now, limit as i64],
    )?
    .iter()
    .map(|r| Ok(r.text(0)?))
    .collect()
}

/// Expires one hold if it is still open and due. `false` if it was resolved meanwhile.
pub(crate) fn expire_hold(tx: &mut dyn Tx, id: &str, now: i64) -> Result<bool> {
    let Some(r) = tx.query_opt(
        "SELECT p.id, p.debit_account_id, p.credit_account_id, p.amount, p.currency, p.expires_at, p.ref_type, p.ref_id FROM ledger_transfers p \
         LEFT JOIN ledger_transfers r ON r.pending_id = p.id WHERE p.id = ? AND p.kind = 'pending' AND r.id IS NULL AND p.expires_at < ?",
        params![id, now],
    )?
    else {
        return Ok(false);
    };
    let p = Pending {
        id: r.text(0)?,
        debit: r.text(1)?,
        credit: r.text(2)?,
        amount: r.i64(3)?,
        currency: r.text(4)?,
        expires_at: r.i64(5)?,
    };
    let (ref_type, ref_id) = (r.text(6)?, r.text(7)?);
    let purpose = Purpose { reason: "authorization expired", ref_type: &ref_type, ref_id: &ref_id, transfer_id: None };
    match resolve(tx, &p, "expire", None, &purpose, now) {
        Ok(_) => Ok(true),
        Err(EngineError::Conflict { code: "already_resolved", .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Extends a hold to `expires_at`: the old pending transfer is voided and an equal one placed (transfers
/// are immutable). Returns the new hold's id.
pub(crate) fn renew(tx: &mut dyn Tx, p: &Pending, expires_at: i64, now: i64) -> Result<String> {
    let purpose = Purpose { reason: "authorization renewed", ref_type: "order", ref_id: "", transfer_id: None };
    let r = tx.query_one("SELECT ref_type, ref_id, reason FROM ledger_transfers WHERE id = ?", params![&p.id])?;
    let (ref_type, ref_id, reason) = (r.text(0)?, r.text(1)?, r.text(2)?);
    let void = Purpose { ref_type: &ref_type, ref_id: &ref_id, ..purpose };
    resolve(tx, p, "void", None, &void, now)?;
    let again = Purpose { reason: &reason, ref_type: &ref_type, ref_id: &ref_id, transfer_id: None };
    pending(tx, &p.debit, &p.credit, p.amount, &p.currency, expires_at, &again, now)
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StatementLine {
    pub seq: i64,
    pub transfer_id: String,
    pub kind: String,
    /// `credit` adds to a wallet, `debit` takes from it (a `pending` debit is a hold), `release` ends a
    /// hold without taking the money.
    pub direction: String,
    pub amount_minor: i64,
    pub currency: String,
    pub counterparty: String,
    pub reason: String,
    pub reference: String,
    pub pending_id: Option<String>,
    pub created_at: String,
}

/// Transfers touching an account, oldest first after `after` (a `seq`).
pub(crate) fn statement(tx: &mut dyn Tx, account_id: &str, after: i64, limit: usize) -> Result<Vec<StatementLine>> {
    statement_in(tx, account_id, after, limit, false)
}

/// The newest `limit` lines, newest first (a customer's page at the counter).
pub(crate) fn latest_statement(tx: &mut dyn Tx, account_id: &str, limit: usize) -> Result<Vec<StatementLine>> {
    statement_in(tx, account_id, 0, limit, true)
}

fn statement_in(
    tx: &mut dyn Tx,
    account_id: &str,
    after: i64,
    limit: usize,
    newest_first: bool,
) -> Result<Vec<StatementLine>> {
    let order = if newest_first { "DESC" } else { "ASC" };
    tx.query(
        &format!(
            "SELECT t.seq, t.id, t.kind, t.debit_account_id, t.amount, t.currency, d.code, c.code, t.reason, t.ref_type, t.ref_id, t.pending_id, t.created_at \
             FROM ledger_transfers t JOIN ledger_accounts d ON d.id = t.debit_account_id JOIN ledger_accounts c ON c.id = t.credit_account_id \
             WHERE (t.debit_account_id = ? OR t.credit_account_id = ?) AND t.seq > ? ORDER BY t.seq {order} LIMIT ?"
        ),
        params![account_id, account_id, after, limit.min(MAX_STATEMENT_PAGE) as i64],
    )?
    .iter()
    .map(|r| {
        let debit = r.text(3)? == account_id;
        Ok(StatementLine {
            seq: r.i64(0)?,
            transfer_id: r.text(1)?,
            kind: r.text(2)?,
            // A released hold (void, expiry) gives back what its pending transfer held.
            direction: match (r.text(2)?.as_str(), debit) {
                ("void_pending" | "expire_pending", _) => "release".into(),
                (_, true) => "debit".into(),
                (_, false) => "credit".into(),
            },
            amount_minor: r.i64(4)?,
            currency: r.text(5)?,
            counterparty: if debit { r.text(7)? } else { r.text(6)? },
            reason: r.text(8)?,
            reference: format!("{}:{}", r.text(9)?, r.text(10)?),
            pending_id: r.opt_text(11)?,
            created_at: domain::time::rfc3339(r.i64(12)?),
        })
    })
    .collect()
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LedgerDrift {
    pub account: String,
    pub what: String,
    pub balance: i64,
    pub recomputed: i64,
}

/// Recomputes every account's four totals from the transfers, checks that each currency sums to zero and
/// that no no-overdraft account is negative. Returns (accounts checked, problems).
pub(crate) fn doctor(tx: &mut dyn Tx) -> Result<(usize, Vec<LedgerDrift>)> {
    let accounts = tx.query(
        "SELECT a.id, a.code, a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending, a.no_overdraft FROM ledger_accounts a ORDER BY a.code",
        &[],
    )?;
    // Posted amounts: single transfers and captures. Pending: holds without a resolution.
    let posted = "SELECT debit_account_id AS d, credit_account_id AS c, amount FROM ledger_transfers WHERE kind IN ('single', 'post_pending')";
    let open = "SELECT p.debit_account_id AS d, p.credit_account_id AS c, p.amount FROM ledger_transfers p \
                LEFT JOIN ledger_transfers r ON r.pending_id = p.id WHERE p.kind = 'pending' AND r.id IS NULL";
    let sum = |tx: &mut dyn Tx, sql: &str, col: &str, id: &str| -> Result<i64> {
        let q = format!("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ({sql}) x WHERE x.{col} = ?");
        Ok(tx.query_one(&q, params![id])?.i64(0)?)
    };
    let mut out = Vec::new();
    for a in &accounts {
        let (id, code) = (a.text(0)?, a.text(1)?);
        let want = [
            ("debits_posted", a.i64(2)?, sum(tx, posted, "d", &id)?),
            ("credits_posted", a.i64(3)?, sum(tx, posted, "c", &id)?),
            ("debits_pending", a.i64(4)?, sum(tx, open, "d", &id)?),
            ("credits_pending", a.i64(5)?, sum(tx, open, "c", &id)?),
        ];
        for (what, bal, re) in want {
            if bal != re {
                out.push(LedgerDrift { account: code.clone(), what: what.into(), balance: bal, recomputed: re });
            }
        }
        if a.bool(6)? && a.i64(2)? + a.i64(4)? > a.i64(3)? {
            out.push(LedgerDrift {
                account: code.clone(),
                what: "overdrawn".into(),
                balance: a.i64(3)? - a.i64(2)? - a.i64(4)?,
                recomputed: 0,
            });
        }
    }
    // A capture never exceeds its hold, and resolves the hold it names between the same accounts.
    for r in tx.query(
        "SELECT r.id, r.amount, p.amount, r.kind FROM ledger_transfers r JOIN ledger_transfers p ON p.id = r.pending_id \
         WHERE p.kind <> 'pending' OR r.debit_account_id <> p.debit_account_id OR r.credit_account_id <> p.credit_account_id \
         OR (r.kind = 'post_pending' AND r.amount > p.amount) OR (r.kind <> 'post_pending' AND r.amount <> p.amount)",
        &[],
    )? {
        out.push(LedgerDrift { account: format!("transfer {}", r.text(0)?), what: format!("{} does not match its hold", r.text(3)?), balance: r.i64(1)?, recomputed: r.i64(2)? });
    }
    for r in tx.query(
        "SELECT currency, CAST(SUM(credits_posted - debits_posted) AS BIGINT), CAST(SUM(credits_pending - debits_pending) AS BIGINT) FROM ledger_accounts GROUP BY currency",
        &[],
    )? {
        for (what, v) in [("sum_posted", r.i64(1)?), ("sum_pending", r.i64(2)?)] {
            if v != 0 {
                out.push(LedgerDrift { account: format!("all {} accounts", r.text(0)?), what: what.into(), balance: v, recomputed: 0 });
            }
        }
    }
    Ok((accounts.len(), out))
}
