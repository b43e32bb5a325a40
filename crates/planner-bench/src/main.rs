//! Benchmark driver for the dispatch planner.
//!
//! `planner-bench solve INSTANCE OUT [SECONDS] [SEED]` runs the planner and
//! prints one JSON line (objective, bound, gap, seconds, time to reach given
//! objectives; `PLANNER_TRACE=1` prints every progress report to stderr,
//! `PLANNER_MOVES=N` runs N search moves with no time limit instead, and
//! `PLANNER_BOUND_ITERATIONS=N` beside it N iterations of the bound);
//! `planner-bench greedy INSTANCE OUT` runs the greedy baseline;
//! `planner-bench generate SIZE SEED OUT [FAMILY]` writes a generated
//! instance (of one family's shape; `planner-bench families` lists them).

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use reliefhub_planner::{check, generate, greedy, plan, solve, Clock, Instance, SolveOptions};

struct WallClock(Instant);

impl Clock for WallClock {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

fn read_instance(path: &str) -> Result<Instance, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    Instance::from_json(&text).map_err(|e| format!("{path}: {e}"))
}

fn run(args: &[String]) -> Result<(), String> {
    let usage = "usage: planner-bench solve INSTANCE OUT [SECONDS] [SEED] [REACH...] | greedy INSTANCE OUT | generate SIZE SEED OUT [FAMILY] | families";
    match args.first().map(String::as_str) {
        Some("solve") => {
            let (instance_path, out) = (args.get(1).ok_or(usage)?, args.get(2).ok_or(usage)?);
            let seconds: f64 = args
                .get(3)
                .map_or(Ok(10.0), |s| s.parse())
                .map_err(|_| usage.to_string())?;
            let seed: u64 = args
                .get(4)
                .map_or(Ok(1), |s| s.parse())
                .map_err(|_| usage.to_string())?;
            let reach: Vec<f64> = args.iter().skip(5).filter_map(|s| s.parse().ok()).collect();
            let start = Instant::now();
            let instance = read_instance(instance_path)?;
            let clock = WallClock(start);
            // PLANNER_MOVES=N: a fixed number of search moves and no time
            // limit (reproducible comparisons on a loaded machine).
            let moves: Option<u64> = std::env::var("PLANNER_MOVES")
                .ok()
                .and_then(|v| v.parse().ok());
            let options = SolveOptions {
                seed,
                time_limit: match moves {
                    Some(_) => None,
                    None => Some(Duration::from_secs_f64(seconds)),
                },
                max_moves: moves,
                // PLANNER_BOUND_ITERATIONS=N with PLANNER_MOVES: the bound's
                // iterations (default 1), to time the bound alone.
                bound_iterations: moves.map(|_| {
                    std::env::var("PLANNER_BOUND_ITERATIONS")
                        .ok()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1)
                }),
                cores: std::thread::available_parallelism().ok().map(|n| n.get()),
            };
            let mut reached: Vec<Option<f64>> = vec![None; reach.len()];
            let mut first_bound: Option<f64> = None;
            let trace = std::env::var_os("PLANNER_TRACE").is_some();
            if trace {
                eprintln!("read {:.4}s", start.elapsed().as_secs_f64());
            }
            let plan = solve(&instance, &options, &clock, &mut |p| {
                if trace {
                    // A closed stderr (a trace piped into `head`) is not an error.
                    let _ = writeln!(
                        std::io::stderr(),
                        "{:8.3}s {:16.1} {:16.1} moves {}",
                        p.elapsed.as_secs_f64(),
                        p.objective,
                        p.upper_bound.unwrap_or(f64::NAN),
                        p.moves
                    );
                }
                for (target, at) in reach.iter().zip(reached.iter_mut()) {
                    if at.is_none() && p.objective >= *target {
                        *at = Some(p.elapsed.as_secs_f64());
                    }
                }
                if first_bound.is_none() {
                    first_bound = p.upper_bound;
                }
            });
            let seconds_used = start.elapsed().as_secs_f64();
            std::fs::write(out, plan::to_json(&instance, &plan))
                .map_err(|e| format!("{out}: {e}"))?;
            let bound = plan.upper_bound.unwrap_or(f64::NAN);
            let reached_text: Vec<String> = reach
                .iter()
                .zip(&reached)
                .map(|(t, at)| {
                    format!(
                        "{{\"target\":{t},\"seconds\":{}}}",
                        at.map_or("null".to_string(), |s| format!("{s:.4}"))
                    )
                })
                .collect();
            println!(
                "{{\"solver\":\"planner\",\"objective\":{},\"bound\":{},\"gap\":{},\"seconds\":{:.3},\"reached\":[{}]}}",
                plan.objective,
                bound,
                (bound - plan.objective) / bound.abs(),
                seconds_used,
                reached_text.join(",")
            );
            Ok(())
        }
        Some("greedy") => {
            let (instance_path, out) = (args.get(1).ok_or(usage)?, args.get(2).ok_or(usage)?);
            let start = Instant::now();
            let instance = read_instance(instance_path)?;
            let plan = greedy::greedy_plan(&instance);
            let seconds_used = start.elapsed().as_secs_f64();
            std::fs::write(out, plan::to_json(&instance, &plan))
                .map_err(|e| format!("{out}: {e}"))?;
            println!(
                "{{\"solver\":\"greedy\",\"objective\":{},\"bound\":null,\"gap\":null,\"seconds\":{:.3}}}",
                plan.objective, seconds_used
            );
            Ok(())
        }
        Some("check") => {
            let (instance_path, plan_path) = (args.get(1).ok_or(usage)?, args.get(2).ok_or(usage)?);
            let instance = read_instance(instance_path)?;
            let text =
                std::fs::read_to_string(plan_path).map_err(|e| format!("{plan_path}: {e}"))?;
            let report =
                check::check_plan_json(&instance, &text, None).map_err(|e| e.to_string())?;
            for v in &report.violations {
                println!("{v}");
            }
            println!(
                "{} objective={:.6} violations={}",
                if report.is_feasible() {
                    "feasible"
                } else {
                    "INFEASIBLE"
                },
                report.objective,
                report.violations.len()
            );
            Ok(())
        }
        Some("generate") => {
            let (size, seed, out) = (
                args.get(1).ok_or(usage)?,
                args.get(2).ok_or(usage)?,
                args.get(3).ok_or(usage)?,
            );
            let size = generate::Size::parse(size).ok_or(usage)?;
            let seed: u64 = seed.parse().map_err(|_| usage.to_string())?;
            let family = match args.get(4) {
                None => generate::Family::Base,
                Some(name) => generate::Family::parse(name).ok_or_else(|| {
                    format!("unknown family {name:?}: see `planner-bench families`")
                })?,
            };
            let text = generate::generate_family_json(
                &generate::GenerateConfig::for_size(size, seed),
                family,
            );
            std::fs::write(out, text).map_err(|e| format!("{out}: {e}"))?;
            Ok(())
        }
        Some("families") => {
            for family in generate::Family::ALL {
                println!("{}", family.name());
            }
            Ok(())
        }
        _ => Err(usage.to_string()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}
