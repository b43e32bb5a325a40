//! `plan-cli`: the `reliefhub plan` command module built on its own, so the
//! benchmark driver and the CLI tests can run it without the whole binary.

#[path = "../../reliefhub/src/plan_cmd.rs"]
mod plan_cmd;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(name = "plan-cli")]
struct Cli {
    /// Print no progress.
    #[arg(long, short)]
    quiet: bool,
    /// The database of the hub subcommands (build, list, show, accept).
    #[arg(long, env = "RELIEFHUB_DB", default_value = "sqlite:reliefhub.db")]
    db: String,
    /// Who is doing this (recorded in the operation log).
    #[arg(long, env = "RELIEFHUB_ACTOR", default_value = "plan-cli")]
    by: String,
    #[command(flatten)]
    plan: plan_cmd::PlanArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    plan_cmd::run(cli.plan, &cli.db, cli.quiet, &cli.by)
}
