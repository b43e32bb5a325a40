//! `reliefhub serve`: the HTTP API and the dashboard on the `--db` store.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The address to listen on (`HOST:PORT`; port 0 picks a free one).
    #[arg(long, env = "RELIEFHUB_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The hub's date for operations (YYYY-MM-DD); the real date by default.
    #[arg(long)]
    pub today: Option<String>,
    /// A reverse proxy (address or network, e.g. 10.0.0.0/8) whose
    /// X-Forwarded-For names the client, for the per-address sign-in
    /// limits. Repeat it, or give a comma-separated list.
    #[arg(
        long = "trusted-proxy",
        env = "RELIEFHUB_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<String>,
}

/// The `--trusted-proxy` networks, every bad one named.
pub fn trusted_proxies(texts: &[String]) -> anyhow::Result<Vec<reliefhub_api::auth::Network>> {
    let mut networks = Vec::new();
    let mut problems = Vec::new();
    for text in texts.iter().filter(|t| !t.trim().is_empty()) {
        match text.parse() {
            Ok(network) => networks.push(network),
            Err(e) => problems.push(format!("--trusted-proxy {e}")),
        }
    }
    if !problems.is_empty() {
        anyhow::bail!(problems.join("\n"));
    }
    Ok(networks)
}

/// Structured logs on stderr; `RUST_LOG` sets the level (default info).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Serves until ctrl-c or SIGTERM; `announce` is called with the address
/// once the server listens.
pub fn serve(
    db: &str,
    listen: &str,
    today: Option<time::Date>,
    trusted_proxies: Vec<reliefhub_api::auth::Network>,
    key_file: Option<&std::path::Path>,
    announce: impl FnOnce(&str),
) -> anyhow::Result<()> {
    init_logging();
    let state = reliefhub_api::AppState::open_on(db, today)
        .with_context(|| format!("cannot open the database `{db}`"))?;
    state.set_trusted_proxies(trusted_proxies);
    match crate::trust_cmd::key_path(key_file, db) {
        Ok(path) if path.exists() => state.set_hub_key(
            reliefhub_ops::trust::HubKey::load(&path)
                .with_context(|| format!("cannot use the hub's key {}", path.display()))?,
        ),
        _ => tracing::warn!("no signing key: tree heads and donor proofs are off (run `reliefhub init`, or pass --key-file)"),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?.to_string();
        tracing::info!(%address, "reliefhub serving the API and the dashboard");
        announce(&address);
        reliefhub_api::serve(listener, state, reliefhub_api::shutdown_signal())
            .await
            .context("the server failed")?;
        tracing::info!("stopped");
        anyhow::Ok(())
    })
}

pub fn run(
    args: ServeArgs,
    db: &str,
    key_file: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let today = match &args.today {
        Some(text) => Some(
            reliefhub_core::domain::parse_date(text)
                .ok_or_else(|| anyhow::anyhow!("--today `{text}` must be a date YYYY-MM-DD"))?,
        ),
        None => None,
    };
    let proxies = trusted_proxies(&args.trusted_proxies)?;
    serve(db, &args.listen, today, proxies, key_file, |address| {
        println!("reliefhub listening on http://{address}/ (API at /api, docs at /api/docs)");
    })?;
    Ok(ExitCode::SUCCESS)
}
