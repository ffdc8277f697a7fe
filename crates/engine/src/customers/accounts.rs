//! Customers: one identity across channels. Sign-up and login with argon2id password hashes, bearer
//! session tokens (stored as SHA-256 hashes), and staff lookup by email, phone or member code.

use crate::error::{bad, EngineError, Result};
use crate::platform::events;
use domain::{ids, text};
use serde::{Deserialize, Serialize};
use store::{params, DbErrorKind, Row, Tx};

pub const SESSION_TTL_MS: i64 = 14 * 24 * 3600 * 1000;
/// A sign-up confirmation link works this long.
pub const SIGNUP_LINK_TTL_MS: i64 = 24 * 3600 * 1000;
pub use crate::platform::passwords::{MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS};

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupInput {
    pub email: String,
    pub password: String,
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CustomerView {
    pub id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub member_code: String,
    pub name: String,
    pub locale: String,
    pub created_at: String,
}

/// Validated sign-up fields, with the password already hashed.
pub(crate) struct NewCustomer {
    pub email: String,
    pub phone: Option<String>,
    pub name: String,
    pub locale: String,
    pub password_hash: String,
}

pub fn validate_signup(input: &SignupInput) -> Result<(String, Option<String>, String, String)> {
    let email = text::email(&input.email).map_err(|m| EngineError::invalid("invalid_email", m))?;
    let phone = input.phone.as_deref().filter(|p| !p.trim().is_empty()).map(text::phone).transpose().map_err(bad)?;
    let name = text::required("name", &input.name, 100).map_err(bad)?;
    let locale = input.locale.clone().unwrap_or_else(|| "ko".into());
    if locale != "ko" && locale != "en" {
        return Err(EngineError::invalid("invalid_locale", "`locale` is `ko` or `en`"));
    }
    if input.password.chars().count() < MIN_PASSWORD_CHARS || input.password.len() > MAX_PASSWORD_BYTES {
        return Err(EngineError::invalid(
            "weak_password",
            format!("a password needs {MIN_PASSWORD_CHARS}–{MAX_PASSWORD_BYTES} characters"),
        ));
    }
    Ok((email, phone, name, locale))
}

pub(crate) fn create(tx: &mut dyn Tx, c: &NewCustomer, now: i64) -> Result<CustomerView> {
    let id = ids::new_id("cus");
    // Checked before inserting: on PostgreSQL a failed INSERT aborts the whole transaction.
    if tx.query_opt("SELECT 1 FROM customers WHERE email = ?", params![&c.email])?.is_some() {
        return Err(EngineError::conflict("email_taken", "an account with this email exists; log in instead"));
    }
    if let Some(p) = &c.phone {
        if tx.query_opt("SELECT 1 FROM customers WHERE phone = ?", params![p])?.is_some() {
            return Err(EngineError::conflict("phone_taken", "an account with this phone number exists"));
        }
    }
    for _ in 0..5 {
        let member_code = ids::random_digits(10);
        if tx.query_opt("SELECT 1 FROM customers WHERE member_code = ?", params![&member_code])?.is_some() {
            continue;
        }
        match tx.exec(
            "INSERT INTO customers (id, email, phone, member_code, name, locale, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            params![&id, &c.email, c.phone.clone(), &member_code, &c.name, &c.locale, &c.password_hash, now],
        ) {
            Ok(_) => break,
            // A concurrent sign-up took the email, phone or code: run the whole transaction again.
            Err(e) if e.kind == DbErrorKind::UniqueViolation => {
                return Err(EngineError::Db(store::DbError::new(DbErrorKind::Retryable, e.message)));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let v = get(tx, &id)?;
    events::emit(tx, "customer.created", &id, &serde_json::json!({ "customer": &v }), now)?;
    Ok(v)
}

/// What a sign-up request answers, the same whether or not the address already has an account (the mail
/// tells its owner which).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SignupRequested {
    /// Always `check_email`: a link was sent to the address (or, when it has an account, a note saying so).
    pub status: String,
    pub email: String,
    /// How long the link works, in seconds.
    pub expires_in_s: i64,
}

/// Records a sign-up request and queues its mail: a confirmation link when the address is free, a note
/// that an account exists (with the way to sign in) when it is not. The caller cannot tell which.
pub(crate) fn request(tx: &mut dyn Tx, c: &NewCustomer, token: &str, public_url: &str, now: i64) -> Result<()> {
    tx.exec("DELETE FROM signup_requests WHERE expires_at <= ?", params![now])?;
    let ko = c.locale == "ko";
    if tx.query_opt("SELECT 1 FROM customers WHERE email = ?", params![&c.email])?.is_some() {
        let login = format!("{public_url}/account/login");
        let (subject, body) = if ko {
            (
                "이미 가입된 이메일입니다".to_owned(),
                format!(
                    "{name}님, 안녕하세요.\n\n방금 이 이메일 주소로 회원가입이 요청되었지만, 이 주소로 된 계정이 이미 있습니다.\n\
                     로그인하세요: {login}\n\n직접 요청하지 않으셨다면 이 메일을 무시하셔도 됩니다. 계정은 바뀌지 않았습니다.\n",
                    name = c.name
                ),
            )
        } else {
            (
                "You already have an account".to_owned(),
                format!(
                    "Hello {name},\n\nSomeone just asked to sign up with this email address, but it already has an account.\n\
                     Sign in here: {login}\n\nIf it was not you, ignore this message: nothing about your account changed.\n",
                    name = c.name
                ),
            )
        };
        crate::platform::mail::enqueue(tx, &c.email, "signup_existing", &c.locale, &subject, &body, now)?;
        return Ok(());
    }
    let link = format!("{public_url}/account/verify?token={token}");
    let (subject, body) = if ko {
        (
            "회원가입을 완료해 주세요".to_owned(),
            format!(
                "{name}님, 안녕하세요.\n\n아래 링크를 열어 회원가입을 완료하세요 (24시간 동안 유효합니다):\n{link}\n\n\
                 직접 요청하지 않으셨다면 이 메일을 무시하세요. 링크를 열지 않으면 계정은 만들어지지 않습니다.\n",
                name = c.name
            ),
        )
    } else {
        (
            "Confirm your email to finish signing up".to_owned(),
            format!(
                "Hello {name},\n\nOpen this link to finish creating your account (it works for 24 hours):\n{link}\n\n\
                 If you did not ask for an account, ignore this message: none is created until the link is opened.\n",
                name = c.name
            ),
        )
    };
    if crate::platform::mail::enqueue(tx, &c.email, "signup_confirm", &c.locale, &subject, &body, now)? {
        tx.exec(
            "INSERT INTO signup_requests (token_hash, email, phone, name, locale, password_hash, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            params![
                crate::platform::auth::hash_token(token),
                &c.email,
                c.phone.clone(),
                &c.name,
                &c.locale,
                &c.password_hash,
                now,
                now + SIGNUP_LINK_TTL_MS
            ],
        )?;
    }
    Ok(())
}

/// Opens a confirmation link: creates the account the request described (the address is now proven) and
/// ends every other request for the address.
pub(crate) fn confirm(tx: &mut dyn Tx, token: &str, now: i64) -> Result<CustomerView> {
    let hash = crate::platform::auth::hash_token(token.trim());
    let Some(r) = tx.query_opt(
        "SELECT email, phone, name, locale, password_hash FROM signup_requests WHERE token_hash = ? AND expires_at > ?",
        params![hash, now],
    )?
    else {
        return Err(EngineError::invalid(
            "signup_link_invalid",
            "this sign-up link is unknown, already used or expired (links work for 24 hours); sign up again",
        ));
    };
    let c = NewCustomer {
        email: r.text(0)?,
        phone: r.opt_text(1)?,
        name: r.text(2)?,
        locale: r.text(3)?,
        password_hash: r.text(4)?,
    };
    tx.exec("DELETE FROM signup_requests WHERE email = ?", params![&c.email])?;
    // Other links to the address stopped working: their mail need not go out any more.
    tx.exec(
        "UPDATE mail_outbox SET status = 'expired', body = NULL, updated_at = ? \
         WHERE to_addr = ? AND kind = 'signup_confirm' AND status = 'waiting'",
        params![now, &c.email],
    )?;
    create(tx, &c, now)
}

const COLS: &str = "id, email, phone, member_code, name, locale, created_at";

fn from_row(r: &Row) -> Result<CustomerView> {
    Ok(CustomerView {
        id: r.text(0)?,
        email: r.opt_text(1)?,
        phone: r.opt_text(2)?,
        member_code: r.text(3)?,
        name: r.text(4)?,
        locale: r.text(5)?,
        created_at: domain::time::rfc3339(r.i64(6)?),
    })
}

pub(crate) fn get(tx: &mut dyn Tx, id: &str) -> Result<CustomerView> {
    let sql = format!("SELECT {COLS} FROM customers WHERE id = ?");
    tx.query_opt(&sql, params![id])?
        .map(|r| from_row(&r))
        .transpose()?
        .ok_or_else(|| EngineError::not_found("customer", id))
}

/// Staff lookup at a POS or pickup desk: by email, phone (any formatting) or member code.
pub(crate) fn find(
    tx: &mut dyn Tx,
    email: Option<&str>,
    phone: Option<&str>,
    member_code: Option<&str>,
) -> Result<Vec<CustomerView>> {
    let (col, v) = if let Some(e) = email {
        ("email", text::email(e).map_err(|m| EngineError::invalid("invalid_email", m))?)
    } else if let Some(p) = phone {
        ("phone", text::phone(p).map_err(|m| EngineError::invalid("invalid_phone", m))?)
    } else if let Some(m) = member_code {
        ("member_code", m.trim().to_owned())
    } else {
        return Err(bad("give `email`, `phone` or `member_code`"));
    };
    let sql = format!("SELECT {COLS} FROM customers WHERE {col} = ?");
    tx.query(&sql, params![v])?.iter().map(from_row).collect()
}

/// Customers in id order after `after`, optionally those whose name, email, phone or member code starts with
/// `q` (case-insensitive for names and emails).
pub(crate) fn list(tx: &mut dyn Tx, q: Option<&str>, after: Option<&str>, limit: usize) -> Result<Vec<CustomerView>> {
    let mut sql = format!("SELECT {COLS} FROM customers WHERE 1 = 1");
    let mut ps: Vec<store::Val> = Vec::new();
    if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
        // LIKE patterns are escaped so `_` and `%` in a search match themselves.
        let pat = format!("{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        sql.push_str(
            " AND (LOWER(name) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(email, '')) LIKE ? ESCAPE '\\' \
             OR COALESCE(phone, '') LIKE ? ESCAPE '\\' OR LOWER(member_code) LIKE ? ESCAPE '\\')",
        );
        for _ in 0..4 {
            ps.push(pat.clone().into());
        }
    }
    if let Some(a) = after {
        sql.push_str(" AND id > ?");
        ps.push(a.into());
    }
    sql.push_str(" ORDER BY id LIMIT ?");
    ps.push((limit as i64).into());
    tx.query(&sql, &ps)?.iter().map(from_row).collect()
}

/// The password hash for a login attempt, if the account exists.
pub(crate) fn credentials(tx: &mut dyn Tx, email: &str) -> Result<Option<(String, Option<String>)>> {
    let email = text::email(email).map_err(|_| EngineError::Unauthorized)?;
    tx.query_opt("SELECT id, password_hash FROM customers WHERE email = ?", params![email])?
        .map(|r| -> Result<_> { Ok((r.text(0)?, r.opt_text(1)?)) })
        .transpose()
}

pub(crate) fn new_session(tx: &mut dyn Tx, customer_id: &str, now: i64) -> Result<String> {
    let token = format!("bl_cus_{}", ids::random_token(24));
    tx.exec(
        "INSERT INTO sessions (token_hash, customer_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        params![crate::platform::auth::hash_token(&token), customer_id, now, now + SESSION_TTL_MS],
    )?;
    Ok(token)
}

pub(crate) fn session_customer(tx: &mut dyn Tx, token: &str, now: i64) -> Result<Option<String>> {
    Ok(tx
        .query_opt(
            "SELECT customer_id FROM sessions WHERE token_hash = ? AND expires_at > ?",
            params![crate::platform::auth::hash_token(token), now],
        )?
        .map(|r| r.text(0))
        .transpose()?)
}

/// Ends the session `token` (or, `everywhere`, every session of its customer). Returns the sessions ended.
pub(crate) fn end_sessions(tx: &mut dyn Tx, token: &str, everywhere: bool) -> Result<u64> {
    let hash = crate::platform::auth::hash_token(token);
    if everywhere {
        let Some(r) = tx.query_opt("SELECT customer_id FROM sessions WHERE token_hash = ?", params![&hash])? else {
            return Ok(0);
        };
        let customer = r.text(0)?;
        return Ok(tx.exec("DELETE FROM sessions WHERE customer_id = ?", params![customer])?);
    }
    Ok(tx.exec("DELETE FROM sessions WHERE token_hash = ?", params![hash])?)
}
