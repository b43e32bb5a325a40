//! `reliefhub plan`: plan dispatches, check a plan, generate an instance.
//!
//! The work happens in `reliefhub-planner`; this module reads and writes the
//! files, draws progress on a terminal and maps outcomes to exit statuses:
//! 0 success, 1 an infeasible or inconsistent plan, 2 unreadable or invalid input.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use reliefhub_planner::generate::{generate_json, GenerateConfig, Size};
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
    /// check a plan against an instance
    Check {
        #[arg(long)]
        instance: PathBuf,
        #[arg(long)]
        plan: PathBuf,
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
pub fn run(args: PlanArgs, quiet: bool) -> ExitCode {
    match args.command {
        Some(PlanCommand::Check { instance, plan }) => run_check(&instance, &plan),
        Some(PlanCommand::Generate {
            size,
            lots,
            departures,
            requests,
            seed,
            out,
        }) => run_generate(&size, lots, departures, requests, seed, &out),
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
    let report = match check::check_plan_json(&instance, &text, None) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {}: {error}", plan_path.display());
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
    out: &Path,
) -> ExitCode {
    let Some(size) = Size::parse(size) else {
        eprintln!("error: --size {size} must be S, M, L or XL");
        return ExitCode::from(2);
    };
    let mut config = GenerateConfig::for_size(size, seed);
    config.lots = lots.unwrap_or(config.lots);
    config.departures = departures.unwrap_or(config.departures);
    config.requests = requests.unwrap_or(config.requests);
    if let Err(error) = std::fs::write(out, generate_json(&config)) {
        eprintln!("error: cannot write {}: {error}", out.display());
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
