//! Running the baseline and every scenario (every draw of a random one)
//! through the planner, several runs at once. Time comes from the caller
//! (`now`); a stop flag ends the runs under way at once (their plans are
//! dropped) and starts no more. Only each run's summary is kept.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use reliefhub_planner::{solve, Clock, Instance, SolveOptions};

use crate::apply::apply;
use crate::doc::InstanceDoc;
use crate::report::Report;
use crate::scenario::{HubFacts, Scenario};
use crate::summary::{summarise, DayAxis, RunSummary};

/// The most draws a random scenario may ask for.
pub const MAX_DRAWS: usize = 10_000;

/// How the runs are planned.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// Draws of each random scenario (a scenario without randomness runs once).
    pub draws: usize,
    /// Each run's time limit.
    pub time_limit: Option<Duration>,
    /// Each run's move budget: with no time limit, runs are reproducible.
    pub max_moves: Option<u64>,
    /// The planner's seed (the same for every run).
    pub seed: u64,
    /// Runs planned at once.
    pub jobs: usize,
    /// The machine's cores, shared among the runs planned at once.
    pub cores: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            draws: 100,
            time_limit: Some(Duration::from_secs(1)),
            max_moves: None,
            seed: 1,
            jobs: 1,
            cores: 1,
        }
    }
}

/// Why the runs could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Instance(String),
    #[error("the scenario \"{scenario}\" makes an instance the planner refuses: {message}")]
    Changed { scenario: String, message: String },
    #[error("no time limit and no move budget: a run would never end")]
    Unbounded,
}

/// One run: the baseline (`scenario: None`) or a scenario, with its draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    pub scenario: Option<usize>,
    pub draw: Option<u64>,
}

/// The runs to make, baseline first.
pub fn jobs(scenarios: &[Scenario], draws: usize) -> Vec<Job> {
    let mut out = vec![Job {
        scenario: None,
        draw: None,
    }];
    for (i, s) in scenarios.iter().enumerate() {
        if s.is_random() {
            out.extend((0..draws.clamp(1, MAX_DRAWS) as u64).map(|d| Job {
                scenario: Some(i),
                draw: Some(d),
            }));
        } else {
            out.push(Job {
                scenario: Some(i),
                draw: None,
            });
        }
    }
    out
}

/// The planner's clock for one run: the caller's time since the run
/// started, or past any limit once stopped.
struct RunClock<'a> {
    start: Duration,
    now: &'a (dyn Fn() -> Duration + Sync),
    stop: &'a AtomicBool,
}

impl Clock for RunClock<'_> {
    fn elapsed(&self) -> Duration {
        if self.stop.load(Ordering::Relaxed) {
            Duration::from_secs(1_000_000)
        } else {
            (self.now)().saturating_sub(self.start)
        }
    }
}

/// With a move budget and no time limit, runs still get a limit (a day),
/// so that a stop is seen; the budget ends them long before.
const BUDGET_RUN_LIMIT: Duration = Duration::from_secs(86_400);

/// Plans one run and summarises it.
fn run_one(
    doc: &InstanceDoc,
    axis: DayAxis,
    keep_used: bool,
    options: &RunOptions,
    cores_per_run: usize,
    now: &(dyn Fn() -> Duration + Sync),
    stop: &AtomicBool,
) -> Result<RunSummary, String> {
    let text = doc.to_json();
    let instance = Instance::from_json(&text).map_err(|e| e.to_string())?;
    let solve_options = SolveOptions {
        seed: options.seed,
        time_limit: options.time_limit.or(Some(BUDGET_RUN_LIMIT)),
        max_moves: options.max_moves,
        bound_iterations: None,
        cores: Some(cores_per_run),
    };
    let clock = RunClock {
        start: now(),
        now,
        stop,
    };
    let plan = solve(&instance, &solve_options, &clock, &mut |_| {});
    Ok(summarise(doc, &plan, axis, keep_used))
}

/// Plans the baseline and every scenario from `base`, `options.jobs` runs
/// at once, calling `progress(done, total)` after each run. Scenarios must
/// have passed [`Scenario::check`]. When `stop` is set the runs under way
/// are abandoned and the report holds the runs finished before.
pub fn run_all(
    base: &InstanceDoc,
    scenarios: &[Scenario],
    facts: &HubFacts,
    options: &RunOptions,
    now: &(dyn Fn() -> Duration + Sync),
    stop: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report, RunError> {
    if options.time_limit.is_none() && options.max_moves.is_none() {
        return Err(RunError::Unbounded);
    }
    // The baseline must be an instance the planner reads.
    Instance::from_json(&base.to_json()).map_err(|e| RunError::Instance(e.to_string()))?;
    let axis = DayAxis::of(base);
    let jobs = jobs(scenarios, options.draws);
    let total = jobs.len();
    let workers = options.jobs.clamp(1, total);
    let cores_per_run = (options.cores / workers).max(1);
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<RunSummary>> = vec![None; total];
    let mut failure: Option<RunError> = None;
    let failed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(usize, Result<RunSummary, String>)>();
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, jobs, failed) = (&next, &jobs, &failed);
            scope.spawn(move || loop {
                if stop.load(Ordering::Relaxed) || failed.load(Ordering::Relaxed) {
                    break;
                }
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(index) else {
                    break;
                };
                let doc = match job.scenario {
                    None => base.clone(),
                    Some(s) => apply(base, &scenarios[s], facts, job.draw).doc,
                };
                let result = run_one(
                    &doc,
                    axis,
                    job.draw.is_none(),
                    options,
                    cores_per_run,
                    now,
                    stop,
                );
                drop(doc);
                // A run cut short by a stop is not comparable: dropped.
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if result.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                if tx.send((index, result)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut done = 0;
        for (index, result) in rx {
            match result {
                Ok(summary) => {
                    results[index] = Some(summary);
                    done += 1;
                    progress(done, total);
                }
                Err(message) => {
                    let scenario = jobs[index]
                        .scenario
                        .map_or("baseline".to_string(), |s| scenarios[s].name.clone());
                    failure.get_or_insert(RunError::Changed { scenario, message });
                }
            }
        }
    });
    if let Some(error) = failure {
        return Err(error);
    }
    Ok(Report::build(
        base,
        scenarios,
        facts,
        &jobs,
        results,
        axis,
        options,
        stop.load(Ordering::Relaxed),
    ))
}
