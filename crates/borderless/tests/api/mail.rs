//! The shop's mail through a real SMTP server: aiosmtpd (PyPI) saving what it receives in a maildir, started
//! by the test when `BORDERLESS_TEST_AIOSMTPD` names a Python that has it (`.ci/run` sets it up and sets
//! `BORDERLESS_REQUIRE_SMTP=1`, which turns a missing server into a failure instead of a skip).

use crate::helpers::*;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Smtpd {
    child: Child,
    port: u16,
    maildir: TempDir,
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// aiosmtpd on a free port, or `None` (with a note) when it is not set up and not required.
fn smtpd() -> Option<Smtpd> {
    let python = match std::env::var("BORDERLESS_TEST_AIOSMTPD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            assert!(
                std::env::var("BORDERLESS_REQUIRE_SMTP").is_err(),
                "BORDERLESS_REQUIRE_SMTP is set but BORDERLESS_TEST_AIOSMTPD does not name a Python with aiosmtpd"
            );
            eprintln!(
                "skipped: the SMTP test needs aiosmtpd (pip install aiosmtpd; BORDERLESS_TEST_AIOSMTPD=/path/to/python)"
            );
            return None;
        }
    };
    let maildir = TempDir::new();
    let port = free_port();
    let child = Command::new(&python)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir.0.join("box"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start aiosmtpd with {python}: {e}"));
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(15), "aiosmtpd did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Smtpd { child, port, maildir })
}

/// Every message in the maildir, as text.
fn received(maildir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(rd) = std::fs::read_dir(maildir.join("box").join(sub)) {
            for e in rd.flatten() {
                out.push(std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
    }
    out
}

/// A received message's body as text: base64 decoded (Korean text is sent so), quoted-printable unfolded
/// enough to read a link.
fn body_text(message: &str) -> String {
    let (head, body) = message.split_once("\n\n").or_else(|| message.split_once("\r\n\r\n")).unwrap_or((message, ""));
    if head.to_ascii_lowercase().contains("content-transfer-encoding: base64") {
        use base64::Engine as _;
        let b64: String = body.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).expect("base64 body");
        return String::from_utf8(bytes).expect("utf-8 body");
    }
    body.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
}

/// Sign-up mail leaves through SMTP, the link in the received message opens the account, the outbox keeps
/// no copy of the link once sent; a server that refuses connections leaves the message waiting with its
/// error, and it goes out when the server is back.
#[tokio::test]
async fn signup_mail_goes_out_over_smtp_and_its_link_opens_the_account() {
    let Some(smtpd) = smtpd() else { return };
    let url = format!("smtp://127.0.0.1:{}", smtpd.port);
    let app = spawn_app_tuned(Backend::Sqlite, |c| {
        c.smtp_url = Some(url.clone());
        c.public_url = Some("https://shop.example.com".into());
    })
    .await;
    app.post(
        "/store/customers",
        json!({"email": "Mail.Test@example.com", "password": "mail password", "name": "메일", "locale": "ko"}),
    )
    .await
    .expect(202);
    let start = Instant::now();
    let message = loop {
        if let Some(m) = received(&smtpd.maildir.0).into_iter().find(|m| m.contains("mail.test@example.com")) {
            break m;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "nothing arrived at the SMTP server");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(message.contains("From: \"borderless tests\" <tests@example.com>"), "{message}");
    let body = body_text(&message);
    assert!(body.contains("회원가입을 완료하세요"), "in the shopper's language: {body}");
    assert!(
        body.contains("https://shop.example.com/account/verify?token=bl_signup_"),
        "the public URL, never the Host: {body}"
    );
    let token = signup_token_in(&body);
    // The outbox says sent and no longer holds the link.
    let start = Instant::now();
    loop {
        let m = app.admin_get("/admin/mail?to=mail.test%40example.com").await.expect(200);
        if m["data"][0]["status"] == "sent" {
            assert!(m["data"][0]["body"].is_null(), "{m}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{m}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let v = app.post("/store/customers/verify", json!({ "token": token })).await.expect(201);
    assert_eq!(v["customer"]["email"], "mail.test@example.com");
    assert_eq!(v["customer"]["locale"], "ko");
    drop(app);

    // A server that is not there: the message waits with the reason and is tried again.
    let dead = format!("smtp://127.0.0.1:{}", free_port());
    let app = spawn_app_tuned(Backend::Sqlite, |c| c.smtp_url = Some(dead.clone())).await;
    app.post("/store/customers", json!({"email": "later@example.com", "password": "mail password", "name": "L"}))
        .await
        .expect(202);
    let start = Instant::now();
    loop {
        let m = app.admin_get("/admin/mail?to=later%40example.com").await.expect(200);
        let d = &m["data"][0];
        if d["attempts"].as_i64() >= Some(1) {
            assert_eq!(d["status"], "waiting", "retried later: {m}");
            assert!(d["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{m}");
            assert!(d["body"].is_string(), "kept until sent");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no attempt recorded: {m}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A bad `--smtp-url` or sender is refused at start, not at the first sign-up.
#[tokio::test]
async fn a_bad_mail_setting_is_refused_at_start() {
    for (url, from, says) in
        [("mailto://x", "shop@example.com", "--smtp-url"), ("smtp://127.0.0.1:25", "not an address", "--mail-from")]
    {
        let dir = TempDir::new();
        let mut cfg = node::app::AppConfig {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.0.clone(),
            smtp_url: Some(url.into()),
            mail_from: from.into(),
            ..Default::default()
        };
        cfg.admin_key = Some(ADMIN_KEY.into());
        let e = node::app::start(cfg).await.err().expect("refused");
        assert!(format!("{e:#}").contains(says), "{e:#}");
    }
}
