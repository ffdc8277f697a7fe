//! The mail worker: delivers the engine's mail outbox over SMTP (`--smtp-url`: `smtps://` for TLS,
//! `smtp://…?tls=required` for STARTTLS, plain `smtp://` only on a trusted network), one claimed message at
//! a time, retrying failures with the outbox's backoff.

use anyhow::{Context, Result};
use engine::Engine;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;
use tokio::sync::watch;

/// How the shop sends mail.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// Checks the URL and the sender address now, so a typo fails at start rather than at the first
    /// sign-up.
    pub fn new(smtp_url: &str, from: &str) -> Result<Mailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            // The URL is not repeated: it may hold a password.
            .context(
                "--smtp-url: expected smtps://user:pass@host:465, smtp://user:pass@host:587?tls=required \
                 or smtp://host:port",
            )?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from: Mailbox = from
            .parse()
            .with_context(|| format!("--mail-from {from:?} is not a mail address (\"Shop <shop@example.com>\")"))?;
        Ok(Mailer { transport, from })
    }

    /// Sends one message. `Err((message, permanent))`: a permanent failure (the server refused the
    /// recipient) is not retried.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), (String, bool)> {
        let to: Mailbox = to.parse().map_err(|e| (format!("recipient {to:?}: {e}"), true))?;
        let msg = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| (format!("building the message: {e}"), true))?;
        match self.transport.send(msg).await {
            Ok(_) => Ok(()),
            Err(e) => Err((e.to_string(), e.is_permanent())),
        }
    }
}

/// Delivers due messages every second until `stop`.
pub async fn run(engine: Engine, mailer: Mailer, mut stop: watch::Receiver<bool>) {
    loop {
        match engine.claim_mail(20).await {
            Ok(batch) => {
                for m in batch {
                    let r = mailer.send(&m.to, &m.subject, &m.body).await;
                    let done = match r {
                        Ok(()) => {
                            tracing::info!(id = %m.id, "mail: sent");
                            engine.mail_sent(&m.id).await
                        }
                        Err((error, permanent)) => {
                            tracing::warn!(id = %m.id, attempt = m.attempts + 1, permanent, %error, "mail: not sent");
                            engine.mail_failed(&m.id, &error, permanent).await
                        }
                    };
                    if let Err(e) = done {
                        tracing::warn!(id = %m.id, error = %e, "mail: cannot record the attempt (retried after its claim ends)");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "mail: cannot read the outbox"),
        }
        tokio::select! {
            _ = stop.wait_for(|v| *v) => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
