//! `reliefhub user add|disable|enable|token|list`: the API's users.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Subcommand;
use reliefhub_api::auth::{self, NewUser};
use reliefhub_store::{now_unix_ms, Store};

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user. The password comes from --password, RELIEFHUB_PASSWORD,
    /// or a prompt.
    Add {
        #[arg(long)]
        username: String,
        /// admin, operator, donor, recipient or auditor.
        #[arg(long)]
        role: String,
        /// A donor's organisation code (e.g. RU-EMERCOM).
        #[arg(long)]
        organisation: Option<String>,
        /// A recipient's ISO 3166 alpha-2 country (e.g. SD).
        #[arg(long)]
        country: Option<String>,
        #[arg(long, env = "RELIEFHUB_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Disable a user and revoke all their tokens (never the last enabled
    /// admin).
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled user again (they sign in anew).
    Enable {
        #[arg(long)]
        username: String,
    },
    /// Issue a bearer token for scripts (printed once, on the last line).
    Token {
        #[arg(long)]
        username: String,
        /// Days the token is valid.
        #[arg(long, default_value_t = 90)]
        days: i64,
    },
    /// List the users.
    List,
}

fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password: ");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("no password given (use --password, RELIEFHUB_PASSWORD or type it)");
    }
    Ok(password)
}

pub fn run(command: UserCommand, db: &str) -> anyhow::Result<ExitCode> {
    reliefhub_ops::require_existing(db)?;
    let mut store = Store::open(db)?;
    store.ensure_ready()?;
    match command {
        UserCommand::Add {
            username,
            role,
            organisation,
            country,
            password,
        } => {
            let password = match password {
                Some(p) => p,
                None => read_password()?,
            };
            let user = auth::add_user(
                &mut store,
                &NewUser {
                    username,
                    password,
                    role,
                    organisation,
                    country,
                },
                now_unix_ms(),
            )?;
            println!("added user {} ({})", user.username, user.role.code());
        }
        UserCommand::Disable { username } => {
            auth::disable_user(&mut store, &username, None, now_unix_ms())?;
            println!("disabled user {username}; their tokens are revoked");
        }
        UserCommand::Enable { username } => {
            auth::enable_user(&mut store, &username)?;
            println!("enabled user {username}; they sign in anew");
        }
        UserCommand::Token { username, days } => {
            if !(1..=3650).contains(&days) {
                bail!("--days must be 1 to 3650, not {days}");
            }
            let token = auth::issue_token(
                &mut store,
                &username,
                "cli",
                days * 24 * 3600 * 1000,
                now_unix_ms(),
            )
            .context("cannot issue a token")?;
            eprintln!("token for {username}, valid {days} days (shown once):");
            println!("{token}");
        }
        UserCommand::List => {
            for u in auth::users(&mut store)? {
                println!(
                    "{:<24} {:<10} {:<14} {:<4} {}",
                    u.username,
                    u.role.code(),
                    u.organisation.unwrap_or_default(),
                    u.country.unwrap_or_default(),
                    if u.disabled { "disabled" } else { "" }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
