//! `borderless staff`: console accounts from the command line (add, list, disable, enable, password), for
//! the first owner of a new shop and for scripts.

use crate::{db_config, DbArgs};
use anyhow::{bail, Result};
use clap::Subcommand;
use node::app;

/// Console accounts. Passwords are read from BORDERLESS_STAFF_PASSWORD when it is set, else asked for on
/// the terminal (not echoed), else read as one line from standard input.
#[derive(Subcommand)]
pub(crate) enum StaffCmd {
    /// Create an account, e.g. `borderless staff add --email kim@shop.kr --role manager --location GANGNAM`.
    /// Roles: owner (everything, every location), manager (one location: stock, orders, staff, devices),
    /// associate (one location: till, pickup desk, returns).
    Add {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        email: String,
        /// Shown in the console and the audit log (defaults to the part of the email before @).
        #[arg(long)]
        name: Option<String>,
        /// owner, manager or associate.
        #[arg(long)]
        role: String,
        /// The location code (or id) a manager or associate works at.
        #[arg(long)]
        location: Option<String>,
        /// The console's language for them: ko or en.
        #[arg(long, default_value = "ko")]
        locale: String,
    },
    /// List the accounts.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Disable an account; its sessions end at once.
    Disable {
        #[command(flatten)]
        db: DbArgs,
        email: String,
    },
    /// Enable a disabled account again.
    Enable {
        #[command(flatten)]
        db: DbArgs,
        email: String,
    },
    /// Set a new password; the account's sessions end.
    Password {
        #[command(flatten)]
        db: DbArgs,
        email: String,
    },
}

/// A new password from BORDERLESS_STAFF_PASSWORD, the terminal (echo off) or one line of stdin.
fn read_password(prompt: &str) -> Result<String> {
    use std::io::IsTerminal;
    if let Ok(p) = std::env::var("BORDERLESS_STAFF_PASSWORD") {
        return Ok(p);
    }
    let tty = std::io::stdin().is_terminal();
    let stty = |arg: &str| {
        let _ = std::process::Command::new("stty").arg(arg).stdin(std::process::Stdio::inherit()).status();
    };
    let read = || -> Result<String> {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    };
    if !tty {
        return read();
    }
    eprint!("{prompt}: ");
    stty("-echo");
    let first = read();
    stty("echo");
    eprintln!();
    let first = first?;
    eprint!("again: ");
    stty("-echo");
    let second = read();
    stty("echo");
    eprintln!();
    if first != second? {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}

pub(crate) async fn run(cmd: StaffCmd) -> Result<i32> {
    let db_args = match &cmd {
        StaffCmd::Add { db, .. }
        | StaffCmd::List { db }
        | StaffCmd::Disable { db, .. }
        | StaffCmd::Enable { db, .. }
        | StaffCmd::Password { db, .. } => db.clone(),
    };
    let cfg = db_config(&db_args);
    let db = tokio::task::spawn_blocking(move || app::open_existing_db(&cfg)).await??;
    let engine = engine::Engine::new(db, Default::default(), std::sync::Arc::new(engine::SystemClock));
    let find = |email: String| {
        let engine = engine.clone();
        async move {
            let want = email.trim().to_lowercase();
            engine
                .staff_members(None)
                .await?
                .into_iter()
                .find(|s| s.email == want)
                .ok_or_else(|| anyhow::anyhow!("no staff account for {email}; `borderless staff list` shows them"))
        }
    };
    match cmd {
        StaffCmd::Add { email, name, role, location, locale, .. } => {
            let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or(&email).to_owned());
            let password = read_password(&format!("password for {email}"))?;
            let s = engine.add_staff(&email, &name, &password, &role, location.as_deref(), &locale).await?;
            println!(
                "added {} ({}{}) — they sign in at /console",
                s.email,
                s.role.as_str(),
                s.location_id.as_deref().map(|l| format!(" at {l}")).unwrap_or_default()
            );
        }
        StaffCmd::List { .. } => {
            for s in engine.staff_members(None).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    s.email,
                    s.role.as_str(),
                    s.location_id.as_deref().unwrap_or("-"),
                    if s.active { "active" } else { "disabled" },
                    s.name
                );
            }
        }
        StaffCmd::Disable { email, .. } => {
            let s = find(email).await?;
            engine.set_staff_active(&s.id, false).await?;
            println!("disabled {}; their sessions have ended", s.email);
        }
        StaffCmd::Enable { email, .. } => {
            let s = find(email).await?;
            engine.set_staff_active(&s.id, true).await?;
            println!("enabled {}", s.email);
        }
        StaffCmd::Password { email, .. } => {
            let s = find(email).await?;
            let password = read_password(&format!("new password for {}", s.email))?;
            engine.set_staff_password(&s.id, &password).await?;
            println!("password set for {}; their sessions have ended", s.email);
        }
    }
    Ok(0)
}
