//! Customer identity: sign-up, login (passwords and the throttle are `platform::passwords`), sessions,
//! lookups.

pub mod accounts;

use crate::error::bad;
use crate::platform::passwords;
use crate::{Engine, EngineError, Result};
use accounts::{CustomerView, SignupInput, SignupRequested};

impl Engine {
    /// A shopper's sign-up: checks the fields, hashes the password and mails the address a confirmation
    /// link (or, when it has an account already, a note saying so). The answer is the same either way, so
    /// sign-up never tells a stranger whether an address is a customer's. The account exists once
    /// [`Engine::confirm_signup`] opens the link.
    pub async fn request_signup(&self, input: SignupInput) -> Result<SignupRequested> {
        let (email, phone, name, locale) = accounts::validate_signup(&input)?;
        let pw = input.password.clone();
        // Hashed for a taken address too: both answers take the same time.
        let password_hash = self.passwords.run(move || passwords::hash_password(&pw)).await??;
        let c = accounts::NewCustomer { email: email.clone(), phone, name, locale, password_hash };
        let now = self.now();
        let token = format!("bl_signup_{}", domain::ids::random_token(24));
        let public_url = self.cfg.public_url.trim_end_matches('/').to_owned();
        self.db.write(move |tx| accounts::request(tx, &c, &token, &public_url, now)).await?;
        Ok(SignupRequested { status: "check_email".into(), email, expires_in_s: accounts::SIGNUP_LINK_TTL_MS / 1000 })
    }

    /// Opens a sign-up confirmation link: creates the account and signs it in.
    pub async fn confirm_signup(&self, token: &str) -> Result<(CustomerView, String)> {
        if token.len() > 200 {
            return Err(EngineError::invalid("signup_link_invalid", "this sign-up link is not one this shop sent"));
        }
        let (token, now) = (token.to_owned(), self.now());
        self.db
            .write(move |tx| {
                let v = accounts::confirm(tx, &token, now)?;
                let session = accounts::new_session(tx, &v.id, now)?;
                Ok((v, session))
            })
            .await
    }

    /// An account the operator creates directly, without a confirmation mail (the demo's shoppers, the
    /// live store's visitors). Shoppers sign up through [`Engine::request_signup`].
    pub async fn create_account(&self, input: SignupInput) -> Result<(CustomerView, String)> {
        let (email, phone, name, locale) = accounts::validate_signup(&input)?;
        let pw = input.password.clone();
        let password_hash = self.passwords.run(move || passwords::hash_password(&pw)).await??;
        let c = accounts::NewCustomer { email, phone, name, locale, password_hash };
        let now = self.now();
        self.db
            .write(move |tx| {
                let v = accounts::create(tx, &c, now)?;
                let token = accounts::new_session(tx, &v.id, now)?;
                Ok((v, token))
            })
            .await
    }

    /// Logs out: ends the session `token`, or with `everywhere` every session of its shopper (a lost
    /// phone). Returns how many sessions ended.
    pub async fn logout(&self, token: &str, everywhere: bool) -> Result<u64> {
        let token = token.to_owned();
        self.db.write(move |tx| accounts::end_sessions(tx, &token, everywhere)).await
    }

    /// Checks a password and opens a session. The same error for an unknown email and a wrong password;
    /// `client` (the caller's address) is what the throttle counts failures against.
    pub async fn login(&self, email: &str, password: &str, client: &str) -> Result<(CustomerView, String)> {
        let account = format!("customer:{}", email.trim().to_lowercase());
        let now = self.now();
        let e = email.to_owned();
        let creds = self.db.read(move |tx| accounts::credentials(tx, &e)).await?;
        let (id, hash) = match creds {
            Some((id, Some(hash))) => (Some(id), Some(hash)),
            _ => (None, None),
        };
        let ok = self.passwords.login(&account, client, password, hash, now).await?;
        let Some(id) = id.filter(|_| ok) else {
            return Err(EngineError::Unauthorized);
        };
        self.db
            .write(move |tx| {
                let token = accounts::new_session(tx, &id, now)?;
                Ok((accounts::get(tx, &id)?, token))
            })
            .await
    }

    pub async fn session_customer(&self, token: &str) -> Result<Option<String>> {
        let (token, now) = (token.to_owned(), self.now());
        self.db.read(move |tx| accounts::session_customer(tx, &token, now)).await
    }

    pub async fn customer(&self, id: &str) -> Result<CustomerView> {
        let id = id.to_owned();
        self.db.read(move |tx| accounts::get(tx, &id)).await
    }

    pub async fn find_customers(
        &self,
        email: Option<String>,
        phone: Option<String>,
        member_code: Option<String>,
    ) -> Result<Vec<CustomerView>> {
        self.db.read(move |tx| accounts::find(tx, email.as_deref(), phone.as_deref(), member_code.as_deref())).await
    }

    /// Customers page by page (staff lookups and the console), optionally matching `q`.
    pub async fn list_customers(
        &self,
        q: Option<String>,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<CustomerView>> {
        if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
            return Err(bad("`q` is at most 100 characters"));
        }
        self.db.read(move |tx| accounts::list(tx, q.as_deref(), after.as_deref(), limit)).await
    }
}
