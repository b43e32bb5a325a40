//! `reliefhub plan`: plan dispatches, check a plan, generate an instance.
//!
//! The work happens in `reliefhub-planner`; this module reads and writes the
//! files, draws progress on a terminal and maps outcomes to exit statuses:
//! 0 success, 1 an infeasible or inconsistent plan, 2 unreadable or invalid input.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use reliefhub_core::domain::parse_date;
use reliefhub_ops::planning::{PlanOptions, PlanView};
use reliefhub_ops::{Moment, Ops};
use reliefhub_planner::generate::{generate_family_json, Family, GenerateConfig, Size};
use reliefhub_planner::{check, plan, solve, Clock, Instance, SolveOptions};

/// Plan which stock goes on which departure for which request.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PlanArgs {
    #[command(subcommand)]
    pub command: Option<PlanCommand>,

    /// The instance to plan (`reliefhub-plan-instance/1` JSON).
    #[arg(long)]
    pub instance: Option<PathBuf>,

    /// Where to write the plan (`reliefhub-plan/1` JSON).
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Stop searching after this many seconds and write the best plan found.
    #[arg(long, default_value_t = 10.0)]
    pub time_limit: f64,

    /// Seed of the search's pseudo-random choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(clap::Subcommand, Debug)]
pub enum PlanCommand {
    /// plan from the hub's own state (stock, inbound pipeline, open requests,
    /// departures not yet gone) and store the plan as proposed
    Build {
        /// The hub date to plan for (YYYY-MM-DD); today by default.
        #[arg(long)]
        on: Option<String>,
        /// Stop searching after this many seconds (5, or 0.5 with
        /// --keep-accepted).
        #[arg(long)]
        time_limit: Option<f64>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Keep the loads of the newest accepted plan that still fit and
        /// plan the rest around them; the plan lists what was kept, moved
        /// and dropped, and why.
        #[arg(long)]
        keep_accepted: bool,
        /// A manager's overrides (JSON: the instance format's `overrides`
        /// object, with request and departure codes and lots as
        /// `L<lot>@<place>`), taken as constraints and stored with the plan.
        #[arg(long)]
        overrides: Option<PathBuf>,
        /// Also write the instance built from the database to this file.
        #[arg(long)]
        instance_out: Option<PathBuf>,
        /// Also write the plan (`reliefhub-plan/1`) to this file.
        #[arg(long)]
        plan_out: Option<PathBuf>,
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
    },
    /// list the stored plans, newest first
    List {
        #[arg(long)]
        json: bool,
    },
    /// show a stored plan: departures with load %, unmet requests and why
    Show {
        /// The plan's number (the newest when omitted).
        id: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// accept a stored plan: load its departures (stock already at the
    /// departure's node) in one all-or-nothing operation
    Accept {
        id: i64,
        /// Idempotency key; `plan-accept:<id>` by default.
        #[arg(long)]
        key: Option<String>,
        /// The hub date of the loading (YYYY-MM-DD); today by default.
        #[arg(long)]
        on: Option<String>,
    },
    /// check a plan against an instance, or against a stored plan's
    /// instance and overrides (`--id`; the stored plan itself unless
    /// `--plan` is given)
    Check {
        #[arg(long, required_unless_present = "id")]
        instance: Option<PathBuf>,
        #[arg(long, required_unless_present = "id")]
        plan: Option<PathBuf>,
        /// A stored plan's number.
        #[arg(long, conflicts_with = "instance")]
        id: Option<i64>,
    },
    /// generate a realistic instance
    Generate {
        /// A benchmark size: S, M, L or XL.
        #[arg(long, default_value = "S")]
        size: String,
        /// Number of lots (overrides the size's).
        #[arg(long)]
        lots: Option<usize>,
        /// Number of departures (overrides the size's).
        #[arg(long)]
        departures: Option<usize>,
        /// Number of requests (overrides the size's).
        #[arg(long)]
        requests: Option<usize>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// A family of shapes: base, tight-capacity, loose-capacity,
        /// third-node, earmarked-cold, dangerous, dear-charters,
        /// cheap-charters, sailings, flights, tight-deadlines, loose-deadlines.
        #[arg(long, default_value = "base")]
        family: String,
        /// Where to write the instance.
        #[arg(long)]
        out: PathBuf,
    },
}

struct WallClock(Instant);

impl Clock for WallClock {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// Runs `reliefhub plan ...`. `quiet` silences the progress display.
pub fn run(args: PlanArgs, db: &str, quiet: bool, actor: &str) -> ExitCode {
    match args.command {
        Some(
            command @ (PlanCommand::Build { .. }
            | PlanCommand::List { .. }
            | PlanCommand::Show { .. }
            | PlanCommand::Accept { .. }),
        ) => match run_hub(command, db, quiet, actor) {
            Ok(code) => code,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::from(2)
            }
        },
        Some(PlanCommand::Check { instance, plan, id }) => match (instance, plan, id) {
            (Some(instance), Some(plan), _) => run_check(&instance, &plan),
            (_, plan, Some(id)) => match stored_documents(db, actor, id) {
                Ok((instance, stored)) => {
                    let text = match plan {
                        None => stored,
                        Some(path) => match std::fs::read_to_string(&path) {
                            Ok(text) => text,
                            Err(error) => {
                                eprintln!("error: cannot read {}: {error}", path.display());
                                return ExitCode::from(2);
                            }
                        },
                    };
                    match Instance::from_json(&instance) {
                        Ok(instance) => check_text(&instance, &text, &format!("plan {id}")),
                        Err(error) => {
                            eprintln!("error: plan {id}'s instance: {error}");
                            ExitCode::from(2)
                        }
                    }
                }
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::from(2)
                }
            },
            _ => {
                eprintln!("error: `plan check` needs --instance and --plan, or --id");
                ExitCode::from(2)
            }
        },
        Some(PlanCommand::Generate {
            size,
            lots,
            departures,
            requests,
            seed,
            family,
            out,
        }) => run_generate(&size, lots, departures, requests, seed, &family, &out),
        None => {
            let (Some(instance), Some(out)) = (args.instance, args.out) else {
                eprintln!("error: `reliefhub plan` needs --instance FILE and --out FILE (or a subcommand: check, generate)");
                return ExitCode::from(2);
            };
            run_plan(&instance, &out, args.time_limit, args.seed, quiet)
        }
    }
}

fn read_instance(path: &Path) -> Result<Instance, ExitCode> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        eprintln!("error: cannot read {}: {error}", path.display());
        ExitCode::from(2)
    })?;
    Instance::from_json(&text).map_err(|error| {
        eprintln!("error: {}: {error}", path.display());
        ExitCode::from(2)
    })
}

fn run_plan(instance_path: &Path, out: &Path, time_limit: f64, seed: u64, quiet: bool) -> ExitCode {
    let start = Instant::now();
    if !time_limit.is_finite() || time_limit < 0.0 {
        eprintln!("error: --time-limit {time_limit} must be a number of seconds >= 0");
        return ExitCode::from(2);
    }
    let instance = match read_instance(instance_path) {
        Ok(instance) => instance,
        Err(code) => return code,
    };
    let show = !quiet && std::io::stderr().is_terminal();
    let bar = if show {
        let bar = indicatif::ProgressBar::new(1000);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{spinner} planning [{bar:30}] {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        Some(bar)
    } else {
        None
    };
    let options = SolveOptions {
        seed,
        time_limit: Some(Duration::from_secs_f64(time_limit)),
        cores: std::thread::available_parallelism().ok().map(|n| n.get()),
        ..SolveOptions::default()
    };
    let clock = WallClock(start);
    let plan = solve(&instance, &options, &clock, &mut |progress| {
        if let Some(bar) = &bar {
            bar.set_position((progress.fraction_done * 1000.0) as u64);
            let bound = progress
                .upper_bound
                .map_or("-".to_string(), |b| format!("{b:.0}"));
            bar.set_message(format!(
                "objective {:.0}  bound {bound}  {:.1}s",
                progress.objective,
                progress.elapsed.as_secs_f64()
            ));
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Err(error) = std::fs::write(out, plan::to_json(&instance, &plan)) {
        eprintln!("error: cannot write {}: {error}", out.display());
        return ExitCode::from(2);
    }
    if !quiet {
        let bound = plan
            .upper_bound
            .map_or("none".to_string(), |b| format!("{b:.2}"));
        eprintln!(
            "plan written to {}: objective {:.2}, upper bound {bound}, {} allocations, {} requests not fully met, {:.1}s",
            out.display(),
            plan.objective,
            plan.allocations.len(),
            plan.unmet.len(),
            start.elapsed().as_secs_f64()
        );
    }
    ExitCode::SUCCESS
}

fn run_check(instance_path: &Path, plan_path: &Path) -> ExitCode {
    let instance = match read_instance(instance_path) {
        Ok(instance) => instance,
        Err(code) => return code,
    };
    let text = match std::fs::read_to_string(plan_path) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("error: cannot read {}: {error}", plan_path.display());
            return ExitCode::from(2);
        }
    };
    check_text(&instance, &text, &plan_path.display().to_string())
}

/// The instance and plan documents of a stored plan.
fn stored_documents(db: &str, actor: &str, id: i64) -> anyhow::Result<(String, String)> {
    let mut ops = Ops::open(db)?;
    ops.set_actor(actor);
    Ok(ops.plan_documents(id)?)
}

fn check_text(instance: &Instance, text: &str, name: &str) -> ExitCode {
    let report = match check::check_plan_json(instance, text, None) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {name}: {error}");
            return ExitCode::from(2);
        }
    };
    for violation in report.violations.iter().take(200) {
        println!("{violation}");
    }
    if report.violations.len() > 200 {
        println!("... {} more", report.violations.len() - 200);
    }
    let number = |value: Option<f64>| value.map_or("none".to_string(), |v| v.to_string());
    println!(
        "{} objective={:.6} claimed={} bound={} allocations={} departures_used={} violations={}",
        if report.is_feasible() {
            "feasible"
        } else {
            "INFEASIBLE"
        },
        report.objective,
        number(report.claimed),
        number(report.bound),
        report.allocations,
        report.departures_used,
        report.violations.len()
    );
    if report.is_feasible() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn run_generate(
    size: &str,
    lots: Option<usize>,
    departures: Option<usize>,
    requests: Option<usize>,
    seed: u64,
    family: &str,
    out: &Path,
) -> ExitCode {
    let Some(size) = Size::parse(size) else {
        eprintln!("error: --size {size} must be S, M, L or XL");
        return ExitCode::from(2);
    };
    let Some(family) = Family::parse(family) else {
        let names: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
        eprintln!(
            "error: --family {family} must be one of {}",
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    let mut config = GenerateConfig::for_size(size, seed);
    config.lots = lots.unwrap_or(config.lots);
    config.departures = departures.unwrap_or(config.departures);
    config.requests = requests.unwrap_or(config.requests);
    if let Err(error) = std::fs::write(out, generate_family_json(&config, family)) {
        eprintln!("error: cannot write {}: {error}", out.display());
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

pub(crate) fn hub_moment(on: &Option<String>) -> anyhow::Result<Moment> {
    let now_unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let now = Moment::from_unix_ms(now_unix_ms);
    match on {
        None => Ok(now),
        Some(text) => Ok(Moment {
            unix_ms: now_unix_ms,
            date: parse_date(text).ok_or_else(|| {
                anyhow::anyhow!("--on `{text}` is not a date: write it as YYYY-MM-DD")
            })?,
        }),
    }
}

fn print_view(view: &PlanView) {
    let bound = view
        .upper_bound
        .map_or("none".to_string(), |b| format!("{b:.2}"));
    println!(
        "plan {} ({}, for {}): objective {:.2}, upper bound {bound}",
        view.id, view.status, view.planned_on, view.objective
    );
    println!(
        "{:<14} {:<8} {:<10} {:>10} {:>10} {:>7} {:>6}  waiting",
        "departure", "to", "departs", "load kg", "cap kg", "load %", "lines"
    );
    for d in view.departures.iter().filter(|d| d.used) {
        let waiting = d.allocations.iter().filter(|a| !a.ready).count();
        println!(
            "{:<14} {:<8} {:<10} {:>10.0} {:>10.0} {:>6.1}% {:>6}  {}",
            d.code,
            d.destination,
            d.departs,
            d.load_kg,
            d.payload_kg,
            d.load_pct,
            d.allocations.len(),
            waiting
        );
    }
    let unused = view.departures.iter().filter(|d| !d.used).count();
    if unused > 0 {
        println!("{unused} departures carry nothing in this plan");
    }
    if let Some(overrides) = view.overrides.as_ref().and_then(|o| o.as_object()) {
        let count = |k: &str| {
            overrides
                .get(k)
                .and_then(|v| v.as_array())
                .map_or(0, Vec::len)
        };
        println!(
            "overrides stored with the plan: {} pinned, {} forbidden, {} forced, {} held",
            count("pin"),
            count("forbid"),
            count("force"),
            count("hold")
        );
    }
    let charters: Vec<_> = view
        .departures
        .iter()
        .filter(|d| d.service == "charter")
        .collect();
    if !charters.is_empty() {
        println!("charters: value carried against cost");
        for d in charters {
            println!(
                "  {:<14} {:<8} {:<6} value {:>12.0}  fixed {:>10.0}  freight {:>10.0}  net {:>12.0}",
                d.code,
                d.destination,
                if d.used { "used" } else { "unused" },
                d.value_carried,
                d.fixed_cost,
                d.freight_cost,
                if d.used {
                    d.value_carried - d.fixed_cost - d.freight_cost
                } else {
                    0.0
                }
            );
        }
    }
    if let Some(changes) = &view.changes {
        println!(
            "against accepted plan {}: {} loads kept, {} moved, {} dropped, {} new",
            changes.based_on, changes.kept, changes.moved, changes.dropped, changes.added
        );
        for c in changes.changes.iter().filter(|c| c.kept < c.quantity) {
            let to = if c.moved_to.is_empty() {
                String::new()
            } else {
                format!(" -> {}", c.moved_to.join(", "))
            };
            println!(
                "  {} {} x{} of lot {} on {}: kept {}{to} ({})",
                c.change,
                c.request,
                c.quantity,
                c.lot_id,
                c.departure,
                c.kept,
                c.reason.as_deref().unwrap_or("")
            );
        }
    }
    if !view.unmet.is_empty() {
        println!("requests not fully met:");
        for u in &view.unmet {
            println!(
                "  {} ({} {} to {}){}: {}",
                u.request,
                u.quantity,
                u.item,
                u.destination,
                if u.must_ship { " [must ship]" } else { "" },
                u.reason
            );
        }
    }
}

fn run_hub(command: PlanCommand, db: &str, quiet: bool, actor: &str) -> anyhow::Result<ExitCode> {
    let mut ops = Ops::open(db)?;
    ops.set_actor(actor);
    match command {
        PlanCommand::Build {
            on,
            time_limit,
            seed,
            keep_accepted,
            overrides,
            instance_out,
            plan_out,
            json,
        } => {
            let at = hub_moment(&on)?;
            let overrides: Option<serde_json::Value> = match &overrides {
                None => None,
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
                    Some(
                        serde_json::from_str(&text)
                            .map_err(|e| anyhow::anyhow!("{}: not JSON: {e}", path.display()))?,
                    )
                }
            };
            if let Some(path) = &instance_out {
                let instance = ops.plan_instance_with(at, overrides.as_ref())?;
                std::fs::write(path, serde_json::to_string_pretty(&instance)?)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            }
            let show = !quiet && std::io::stderr().is_terminal();
            let bar = show.then(|| {
                let bar = indicatif::ProgressBar::new(1000);
                if let Ok(style) =
                    indicatif::ProgressStyle::with_template("{spinner} planning [{bar:30}] {msg}")
                {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar
            });
            let options = PlanOptions {
                time_limit_s: time_limit.unwrap_or(if keep_accepted { 0.5 } else { 5.0 }),
                seed,
            };
            let mut report = |progress: &reliefhub_planner::Progress| {
                if let Some(bar) = &bar {
                    bar.set_position((progress.fraction_done * 1000.0) as u64);
                    bar.set_message(format!("objective {:.0}", progress.objective));
                }
            };
            let view = if keep_accepted {
                ops.propose_plan_keeping(at, &options, overrides.as_ref(), &mut report)?
            } else {
                ops.propose_plan_overriding(at, &options, overrides.as_ref(), &mut report)?
            };
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            if let Some(path) = &plan_out {
                let (_, plan) = ops.plan_documents(view.id)?;
                std::fs::write(path, plan)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                print_view(&view);
                println!("accept it with: reliefhub plan accept {}", view.id);
            }
        }
        PlanCommand::List { json } => {
            let plans = ops.plans()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&plans)?);
            } else {
                for p in plans {
                    println!(
                        "plan {:>4}  {:<9} for {}  objective {:>14.2}  departures {:>4}  unmet {:>4}",
                        p.id, p.status, p.planned_on, p.objective, p.departures_used, p.unmet_count
                    );
                }
            }
        }
        PlanCommand::Show { id, json } => {
            let view = match id {
                Some(id) => ops.plan_view(id)?,
                None => ops
                    .latest_plan()?
                    .ok_or_else(|| anyhow::anyhow!("no plan yet: run `reliefhub plan build`"))?,
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                print_view(&view);
            }
        }
        PlanCommand::Accept { id, key, on } => {
            let at = hub_moment(&on)?;
            let key = key.unwrap_or_else(|| format!("plan-accept:{id}"));
            let accepted = ops.accept_plan(id, at, &key)?;
            for load in &accepted.loading {
                println!(
                    "departure {}: {} lines, {} units loaded",
                    load.departure, load.lines, load.units
                );
            }
            for t in &accepted.transfers {
                println!(
                    "transfer {}: {} lots, {} units dispatched from {} to {}",
                    t.code, t.lots, t.units, t.from_node, t.to_node
                );
            }
            if !accepted.waiting.is_empty() {
                println!(
                    "{} allocations wait for their stock to reach the departure's node",
                    accepted.waiting.len()
                );
            }
            println!(
                "plan {} accepted{}",
                accepted.plan_id,
                if accepted.replayed {
                    " (already, nothing changed)"
                } else {
                    ""
                }
            );
        }
        PlanCommand::Check { .. } | PlanCommand::Generate { .. } => {}
    }
    Ok(ExitCode::SUCCESS)
}
