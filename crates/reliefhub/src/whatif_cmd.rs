//! `reliefhub whatif`: plan the hub's state as it is and as scenarios
//! change it, and compare. The work happens in `reliefhub-whatif`; this
//! module reads the files, draws the progress bar, stops on Ctrl-C and
//! writes the report and the charts. Nothing is written to the database.
//! Exit statuses: 0 done, 2 bad input (nothing written), 130 stopped.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reliefhub_ops::Ops;
use reliefhub_whatif::run::MAX_DRAWS;
use reliefhub_whatif::{charts, run_all, RunOptions, Scenario, Syntax};

/// Compare the hub's plan with scenarios of disruptions and surges.
#[derive(clap::Args, Debug)]
pub struct WhatIfArgs {
    /// A scenario file (`reliefhub-scenario/1`, JSON or `.toml`); repeat for
    /// several scenarios.
    #[arg(long, required = true)]
    pub scenario: Vec<PathBuf>,
    /// Random draws of each scenario that has a `random` section.
    #[arg(long, default_value_t = 100)]
    pub runs: usize,
    /// Each run's time limit in seconds (the same for the baseline and
    /// every scenario).
    #[arg(long, default_value_t = 1.0)]
    pub time_limit: f64,
    /// Each run's move budget instead of a time limit: runs are then
    /// reproducible (the same plans on every machine).
    #[arg(long)]
    pub moves: Option<u64>,
    /// Seed of the planner's search (the draws have the scenario's seed).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Runs planned at once (default: the machine's cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// The hub date to plan for (YYYY-MM-DD); today by default.
    #[arg(long)]
    pub on: Option<String>,
    /// Print the report as JSON (`reliefhub-whatif-report/1`).
    #[arg(long)]
    pub json: bool,
    /// Also write report.json, report.txt and the SVG charts into DIR.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn bad(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

pub fn run(args: WhatIfArgs, db: &str, quiet: bool) -> ExitCode {
    let started = Instant::now();
    // Arguments and scenario files first: bad input writes nothing.
    if !(1..=MAX_DRAWS).contains(&args.runs) {
        return bad(format!("--runs {} must be 1 to {MAX_DRAWS}", args.runs));
    }
    if args.moves.is_none()
        && !(args.time_limit.is_finite() && args.time_limit > 0.0 && args.time_limit <= 3600.0)
    {
        return bad(format!(
            "--time-limit {} must be a number of seconds above 0 (at most 3600)",
            args.time_limit
        ));
    }
    if args.moves == Some(0) {
        return bad("--moves must be above 0");
    }
    let mut scenarios = Vec::new();
    let mut problems = Vec::new();
    for path in &args.scenario {
        let name = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => {
                problems.push(format!("{name}: cannot read the file: {error}"));
                continue;
            }
        };
        match Scenario::parse(&text, Syntax::of_path(&name)) {
            Ok(s) => scenarios.push((name, s)),
            Err(list) => problems.extend(list.iter().map(|p| format!("{name}: {p}"))),
        }
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        return bad(format!(
            "{} problem(s) in the scenario files; nothing was run",
            problems.len()
        ));
    }
    let at = match super::plan_cmd::hub_moment(&args.on) {
        Ok(at) => at,
        Err(error) => return bad(error),
    };
    let (doc, facts) = match Ops::open(db).and_then(|mut ops| ops.whatif_state(at)) {
        Ok(state) => state,
        Err(error) => return bad(error),
    };
    for (name, s) in &scenarios {
        problems.extend(s.check(&doc, &facts).iter().map(|p| format!("{name}: {p}")));
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        return bad(format!(
            "{} problem(s) in the scenario files; nothing was run",
            problems.len()
        ));
    }
    if let Some(out) = &args.out {
        if let Err(error) = std::fs::create_dir_all(out) {
            return bad(format!("cannot create {}: {error}", out.display()));
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let options = RunOptions {
        draws: args.runs,
        time_limit: match args.moves {
            Some(_) => None,
            None => Some(Duration::from_secs_f64(args.time_limit)),
        },
        max_moves: args.moves,
        seed: args.seed,
        jobs: args.jobs.unwrap_or(cores).max(1),
        cores,
    };
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        // Without a handler Ctrl-C ends the process at once, which is
        // also safe: nothing is written until the end.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed));
    }
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "what if [{bar:40}] {pos}/{len} runs ({elapsed}, {eta} left; Ctrl-C stops)",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    });
    let clock = Instant::now();
    let now = move || clock.elapsed();
    let only: Vec<Scenario> = scenarios.into_iter().map(|(_, s)| s).collect();
    let result = run_all(
        &doc,
        &only,
        &facts,
        &options,
        &now,
        &stop,
        &mut |done, total| {
            if let Some(bar) = &bar {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            }
        },
    );
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = match result {
        Ok(report) => report,
        Err(error) => return bad(error),
    };
    let text = report.to_text();
    let json = serde_json::to_string_pretty(&report).unwrap_or_default();
    if args.json {
        println!("{json}");
    } else {
        print!("{text}");
    }
    if let Some(out) = &args.out {
        let charts = match charts::all(&report) {
            Ok(charts) => charts,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(1);
            }
        };
        let mut files = vec![("report.json", json), ("report.txt", text)];
        files.extend(charts.into_iter());
        for (name, content) in files {
            let path = out.join(name);
            if let Err(error) = std::fs::write(&path, content) {
                eprintln!("error: cannot write {}: {error}", path.display());
                return ExitCode::from(1);
            }
            if !quiet && !args.json {
                println!("wrote {}", path.display());
            }
        }
    }
    let runs: usize = report.columns().map(|c| c.runs).sum();
    if !quiet && !args.json {
        println!(
            "{runs} runs planned in {:.1} s ({} at once on {cores} cores)",
            started.elapsed().as_secs_f64(),
            options.jobs
        );
    }
    if report.stopped {
        eprintln!("stopped: {runs} runs were planned before Ctrl-C");
        return ExitCode::from(130);
    }
    ExitCode::SUCCESS
}
