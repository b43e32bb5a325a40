//! The `reliefhub` binary: argument parsing and dispatch. The work happens in
//! the library crates; this file only wires them to the command line.

mod backup_cmd;
mod bench;
mod master_cmd;
mod ops_cmd;
mod plan_cmd;
mod print_cmd;
mod progress;
mod serve_cmd;
mod trust_cmd;
mod user_cmd;
mod whatif_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use reliefhub_store::{now_unix_ms, Store};

/// reliefhub runs a humanitarian transshipment hub: a sea port and an
/// airport receiving relief goods from donors and forwarding them to the
/// destinations that request them. Every carton is a transfer in a
/// double-entry, hash-chained stock ledger.
#[derive(Parser, Debug)]
#[command(name = "reliefhub", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// The database: `sqlite:PATH` (embedded, the default) or
    /// `postgres://USER@HOST:PORT/DB`.
    #[arg(
        long,
        global = true,
        env = "RELIEFHUB_DB",
        default_value = "sqlite:reliefhub.db"
    )]
    db: String,

    /// Print no progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,

    /// Who is doing this (recorded with every operation); by default the
    /// operating-system user.
    #[arg(long, global = true, env = "RELIEFHUB_ACTOR")]
    by: Option<String>,

    /// The hub's signing key file; by default `PATH.key` beside an SQLite
    /// database `sqlite:PATH`.
    #[arg(long, global = true, env = "RELIEFHUB_KEY_FILE")]
    key_file: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create or upgrade the database and load the built-in reference data
    /// (catalogue, hub nodes, destinations, donors).
    Init,
    /// Recompute every balance from the journal, check its hash chain, the
    /// operation log and every document in it. Exits with status 1 and
    /// names the first bad entry or operation if anything was altered.
    Verify {
        /// Also prove that the log extends this signed tree head (a head
        /// kept elsewhere): exit 1 if operations it covers were removed or
        /// changed.
        #[arg(long)]
        against: Option<PathBuf>,
    },
    /// The hub's signing key.
    #[command(subcommand)]
    Key(trust_cmd::KeyCommand),
    /// Sign the operation log's current head and write it (keep it
    /// elsewhere; `verify --against` checks the log still extends it).
    Checkpoint(trust_cmd::CheckpointArgs),
    /// Donor proofs: write one, or check one with no database.
    #[command(subcommand)]
    Proof(trust_cmd::ProofCommand),
    /// The audit log: every operation with time, actor, kind, key,
    /// documents and transfer count.
    Log(trust_cmd::LogArgs),
    /// Rewrite the database compactly (SQLite: VACUUM, moving a file made
    /// with 4 KiB pages to 16 KiB pages; PostgreSQL: VACUUM ANALYZE).
    /// Contents are unchanged; best run while the server is stopped.
    Compact,
    /// Write a consistent backup of the database to one file, also while
    /// the server writes (SQLite: a copy of the database; PostgreSQL: one
    /// snapshot in the portable reliefhub-backup/1 format).
    Backup {
        /// The backup file (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup (either kind) into the new, empty database `--db`
    /// names (SQLite or PostgreSQL), then verify it.
    Restore {
        /// The backup file.
        file: PathBuf,
    },
    /// Import public reference data files.
    #[command(subcommand)]
    Refdata(RefdataCommand),
    /// Plan dispatch: which stock goes on which departure for which request
    /// (reads `reliefhub-plan-instance/1`, writes `reliefhub-plan/1`).
    Plan(plan_cmd::PlanArgs),
    /// Measure the ledger (see the README's Benchmarks section).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Serve the HTTP API and the dashboard.
    Serve(serve_cmd::ServeArgs),
    /// Print a document as PDF: waybill, loading-list, grn, pod or statement.
    Print(print_cmd::PrintArgs),
    /// Manage the API's users and tokens.
    #[command(subcommand)]
    User(user_cmd::UserCommand),
    /// What if: plan the hub's state as scenarios of disruptions and
    /// surges would change it, and compare with the plan as it is (writes
    /// nothing to the database).
    Whatif(whatif_cmd::WhatIfArgs),
    /// The catalogue: add, edit, list and show items.
    #[command(subcommand)]
    Item(master_cmd::ItemCommand),
    /// Donors and recipient agencies: add, edit, list and show.
    #[command(subcommand)]
    Org(master_cmd::OrgCommand),
    /// Destinations by UN/LOCODE: add, edit, list and show.
    #[command(subcommand)]
    Destination(master_cmd::DestinationCommand),
    #[command(flatten)]
    Ops(ops_cmd::OpsCommand),
}

#[derive(Subcommand, Debug)]
enum RefdataCommand {
    /// Import ISO 3166 `country-codes.csv` (names in English, French, Arabic,
    /// Russian). Replaces the country table.
    Countries { file: PathBuf },
    /// Import OurAirports `airports.csv`. Replaces the airport table.
    Airports { file: PathBuf },
}

/// Ends the process quietly when standard output is closed by the reader
/// (`reliefhub report stock | head -1`): printing panics on a broken pipe,
/// and a panic there is no error of ours, so the hook exits with status 0
/// instead of printing a panic. Every other panic is reported as usual.
fn quiet_on_closed_pipe() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        report(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn open_ready(url: &str) -> anyhow::Result<Store> {
    reliefhub_ops::require_existing(url)?;
    let mut store = Store::open(url)?;
    store.ensure_ready()?;
    Ok(store)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let actor = trust_cmd::actor(cli.by.clone());
    let key_file = cli.key_file.as_deref();
    match cli.command {
        Command::Init => {
            let mut store = Store::open(&cli.db)?;
            store.set_actor(&actor);
            let applied = store.migrate(now_unix_ms())?;
            store.load_reference_data(&reliefhub_core::reference::builtin())?;
            println!("{}", trust_cmd::init_key(key_file, &cli.db)?);
            let items = store.count("items")?;
            let destinations = store.count("destinations")?;
            if applied.is_empty() {
                println!("database is up to date; reference data refreshed ({items} items, {destinations} destinations)");
            } else {
                println!(
                    "database initialised (schema versions {applied:?}); loaded {items} items, {destinations} destinations"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { against } => {
            let mut store = open_ready(&cli.db)?;
            let bar = progress::bar(cli.quiet, "verifying journal");
            let result = store.verify(|done, total| {
                if let Some(bar) = &bar {
                    bar.set_length(total);
                    bar.set_position(done);
                }
            })?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            match result {
                Ok(summary) => {
                    println!(
                        "verified: {} journal entries, hash chain intact (head {}), {} balances match the journal",
                        summary.entries,
                        hex_short(&summary.last_hash),
                        summary.balances
                    );
                    match store.verify_log()? {
                        Ok(log) => println!(
                            "verified: {} operations in the log (root {}), {} documents as their last operations left them",
                            log.operations,
                            hex_short(&log.root_hash),
                            log.documents
                        ),
                        Err(failure) => {
                            println!("VERIFICATION FAILED: {failure}");
                            return Ok(ExitCode::from(1));
                        }
                    }
                    if let Some(file) = against {
                        let mut ops = reliefhub_ops::Ops::from_store(store);
                        if !trust_cmd::against(&mut ops, &file)? {
                            return Ok(ExitCode::from(1));
                        }
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(failure) => {
                    println!("VERIFICATION FAILED: {failure}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Compact => {
            let mut store = open_ready(&cli.db)?;
            let done = store.compact()?;
            let mb = |bytes: i64| bytes as f64 / 1e6;
            let pages = match (done.page_size_before, done.page_size_after) {
                (Some(before), Some(after)) if before != after => {
                    format!("; page size {before} -> {after} bytes")
                }
                (_, Some(after)) => format!("; page size {after} bytes"),
                _ => String::new(),
            };
            println!(
                "compacted: {:.1} MB -> {:.1} MB{pages}",
                mb(done.bytes_before),
                mb(done.bytes_after)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Refdata(command) => {
            let mut store = open_ready(&cli.db)?;
            store.set_actor(&actor);
            match command {
                RefdataCommand::Countries { file } => {
                    let name = file.display().to_string();
                    let input = std::fs::File::open(&file)
                        .map_err(|e| anyhow::anyhow!("cannot open {name}: {e}"))?;
                    let countries = reliefhub_formats::refdata::read_countries(input, &name)?;
                    store.replace_countries(&countries)?;
                    println!("imported {} countries from {name}", countries.len());
                }
                RefdataCommand::Airports { file } => {
                    let name = file.display().to_string();
                    let input = std::fs::File::open(&file)
                        .map_err(|e| anyhow::anyhow!("cannot open {name}: {e}"))?;
                    let airports = reliefhub_formats::refdata::read_airports(input, &name)?;
                    store.replace_airports(&airports)?;
                    println!("imported {} airports from {name}", airports.len());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(command) => bench::run(command, &cli.db, cli.quiet),
        Command::Plan(args) => Ok(plan_cmd::run(args, &cli.db, cli.quiet, &actor)),
        Command::Backup { out } => backup_cmd::backup(&cli.db, &out, cli.quiet),
        Command::Restore { file } => backup_cmd::restore(&cli.db, &file, cli.quiet),
        Command::Key(command) => trust_cmd::key(command, key_file, &cli.db),
        Command::Checkpoint(args) => trust_cmd::checkpoint(args, key_file, &cli.db),
        Command::Proof(command) => trust_cmd::proof(command, key_file, &cli.db),
        Command::Log(args) => trust_cmd::log(args, &cli.db),
        Command::Serve(args) => serve_cmd::run(args, &cli.db, key_file),
        Command::Print(args) => print_cmd::run(args, &cli.db),
        Command::User(command) => user_cmd::run(command, &cli.db),
        Command::Whatif(args) => Ok(whatif_cmd::run(args, &cli.db, cli.quiet)),
        Command::Item(command) => master_cmd::item(command, &cli.db, &actor),
        Command::Org(command) => master_cmd::org(command, &cli.db, &actor),
        Command::Destination(command) => master_cmd::destination(command, &cli.db, &actor),
        Command::Ops(command) => ops_cmd::run(command, &cli.db, cli.quiet, &actor),
    }
}

fn hex_short(hash: &[u8; 32]) -> String {
    hash[..8].iter().map(|b| format!("{b:02x}")).collect()
}
