//! The planner's entry point: instance in, plan out, within a time budget
//! measured by a clock the caller provides.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::bound::Bounder;
use crate::explain::explain_unmet;
use crate::instance::Instance;
use crate::model::Model;
use crate::plan::{objective, Plan};
use crate::proof::{Proof, Step};
use crate::search::Search;
use crate::state::State;

/// The search (and the bound beside it) stops before the time limit by the
/// time the plan's allocations and the explanation of what is unmet take
/// (see [`Deadlines`]), but at least at this share of it.
const SEARCH_SHARE: f64 = 0.9;
/// Unmet requests get only quick reasons after this share, or sooner by the
/// time the quick reasons and the plan itself take.
const EXPLAIN_SHARE: f64 = 0.98;
/// The time kept for the quick reasons and the plan: this much...
const TAIL_S: f64 = 0.003;
/// ...and this much per lot or request and departure (a quick reason still
/// looks at the departures to the request's destination; at XL the tail
/// comes to the share's cap, about 1 s on a slow 2-core machine).
const TAIL_PER_OBJECT_DEPARTURE_S: f64 = 2e-9;
/// The full explanation's time per lot or request and departure (each
/// unmet request looks at the departures and the stock that could serve
/// it): about twice what a slow 2-core machine takes at XL (5 ns; 2 ns at L).
const EXPLAIN_PER_OBJECT_DEPARTURE_S: f64 = 1e-8;
/// The search stops at least this long before the limit.
const SEARCH_RESERVE_MIN_S: f64 = 0.015;
/// The threshold at the start, as a share of the objective.
const TEMPERATURE: f64 = 0.002;
/// The threshold falls linearly to a hundredth of its start
/// (`COLD_WARMTH`) at this share of the time (or of the move budget) and
/// stays there. On `small.json` in 1 s, a threshold falling to zero over
/// the whole time left 2 to 5 % of runs at 1,475,188 or more; falling to
/// zero at 40 % of the time, 45 %; with the hundredth kept, 58 %.
const COOLED_AT: f64 = 0.4;
/// The share of the threshold kept once cooled (a little worsening still
/// lets the search step between plans of almost equal value).
const COLD_WARMTH: f64 = 0.01;
/// Instances with more lot classes than this search without the threshold.
const ANNEAL_MAX_CLASSES: usize = 5_000;
/// Instances with more lot classes than this search without the repacking
/// moves (they add about 0.45 % in 10 s at M, with 3,000 classes, and
/// 0.2 % at L, with 27,655; XL, with 175,771, needs its time for the
/// construction and the plain moves).
const REPACK_MAX_CLASSES: usize = 50_000;
/// The searches meet after this many moves divided by the departures (but
/// at least 8).
const EPOCH_DEPARTURE_MOVES: usize = 2_000;
/// The bound's share of a core when it would otherwise take time from the
/// searches (every improvement the searches find sooner counts; the bound
/// still settles well within the time).
const BOUND_DUTY_SHARED: f64 = 0.25;
/// On small instances, the share of the time left at the end for the
/// polish (about 20 ms of the 1 s on `small.json` polishes every loaded
/// departure).
const POLISH_SHARE: f64 = 0.03;
/// On small instances the root relaxation iterates at most this many times
/// (or until it settles) before the proof branches on charters.
const ROOT_ITERATIONS: usize = 1_500;
/// Mixed into the seed of the second search.
const SECOND_SEED: u64 = 0x5EED_0002;
/// Instances with more lot classes than this keep the coarse bound (the fine
/// one's iterations would be too slow to help within the time).
const FINE_MAX_CLASSES: usize = 10_000;

/// A source of elapsed time. The planner reads time only through it.
pub trait Clock: Sync {
    /// Time since the planner was asked to start.
    fn elapsed(&self) -> Duration;
}

/// How long and how hard to search.
#[derive(Debug, Clone)]
pub struct SolveOptions {
    /// Seed of the search's pseudo-random choices.
    pub seed: u64,
    /// Stop after this much time (by the caller's clock).
    pub time_limit: Option<Duration>,
    /// Stop after this many search moves; with no time limit this makes a run
    /// exactly reproducible.
    pub max_moves: Option<u64>,
    /// Iterations of the bounding procedure (its own default when `None`).
    pub bound_iterations: Option<usize>,
    /// Processor cores the planner may count on (`None`: one per thread).
    /// With fewer cores than threads (two searches and the bound on small
    /// instances) the bound works only part of the time.
    pub cores: Option<usize>,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions {
            seed: 1,
            time_limit: Some(Duration::from_secs(10)),
            max_moves: None,
            bound_iterations: None,
            cores: None,
        }
    }
}

/// A progress report, sent whenever the plan improves and now and then besides.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub elapsed: Duration,
    pub objective: f64,
    /// The best proven bound so far, once there is one.
    pub upper_bound: Option<f64>,
    pub moves: u64,
    /// The fraction of the time budget used, in `[0, 1]`.
    pub fraction_done: f64,
}

/// Where two threads wait for each other, unless one of them has given up
/// (it panicked): then waiting returns at once, so nothing waits forever.
struct Meeting {
    /// `(arrived, generation, abandoned)`.
    state: Mutex<(usize, u64, bool)>,
    turn: Condvar,
}

impl Meeting {
    fn new() -> Self {
        Meeting {
            state: Mutex::new((0, 0, false)),
            turn: Condvar::new(),
        }
    }

    /// Waits for the other thread: `Some(true)` for the one that came last,
    /// `None` once the meeting is abandoned.
    fn wait(&self) -> Option<bool> {
        let mut state = self.state.lock().ok()?;
        if state.2 {
            return None;
        }
        state.0 += 1;
        if state.0 == 2 {
            state.0 = 0;
            state.1 += 1;
            self.turn.notify_all();
            return Some(true);
        }
        let generation = state.1;
        while state.1 == generation && !state.2 {
            state = self.turn.wait(state).ok()?;
        }
        (state.1 != generation).then_some(false)
    }

    fn abandon(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.2 = true;
        }
        self.turn.notify_all();
    }
}

/// Unwinding through a thread of the solver (a panic there, or in the
/// caller's progress callback) stops the others instead of leaving them
/// waiting for it.
struct GiveUpOnPanic<'s> {
    meeting: &'s Meeting,
    stop: &'s AtomicBool,
}

impl Drop for GiveUpOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.stop.store(true, Ordering::Relaxed);
            self.meeting.abandon();
        }
    }
}

/// Plans an instance. Never fails: the empty plan is always feasible.
pub fn solve(
    instance: &Instance,
    options: &SolveOptions,
    clock: &dyn Clock,
    progress: &mut dyn FnMut(&Progress),
) -> Plan {
    // A manager's overrides: the search plans the instance they leave (same
    // lists, same order), the plan's figures are the original instance's.
    let applied;
    let (original, instance) = if instance.overrides.is_empty() {
        (instance, instance)
    } else {
        applied = instance.with_overrides_applied();
        (instance, &applied)
    };
    let model = Model::new(instance);
    let bound_bits = AtomicU64::new(model.trivial_bound().to_bits());
    let stop = AtomicBool::new(false);
    // Raised when the bound proves the best plan optimal: the search stops.
    let proven = AtomicBool::new(false);
    // The search stops a little before the limit: splitting the plan into
    // allocations and explaining what is unmet take the rest.
    let deadlines = options.time_limit.map(|limit| {
        Deadlines::new(
            limit,
            instance.lots.len() + instance.requests.len(),
            instance.departures.len(),
        )
    });
    // Small instances end with a polish ([`Search::polish`]): the search
    // stops a share of the time sooner to leave it room.
    let polish = model.is_small();
    let polish_share = if polish { POLISH_SHARE } else { 0.0 };
    // Whether the search's time is up, with `held_back` of the limit kept.
    let search_over = |held_back: f64| {
        options
            .time_limit
            .zip(deadlines)
            .is_some_and(|(limit, at)| clock.elapsed() + limit.mul_f64(held_back) >= at.search)
    };
    let polish_out_of_time = || search_over(0.0);
    let out_of_time = || search_over(polish_share);
    let explain_out_of_time = || deadlines.is_some_and(|at| clock.elapsed() >= at.explain);

    // The best plan value so far, for the bound's step sizes; the bound sets
    // itself up while the first plan is built and iterates once it is.
    let best_bits = AtomicU64::new(0f64.to_bits());
    let constructed = AtomicBool::new(false);
    let progress_fraction = |search: &Search| match (options.time_limit, options.max_moves) {
        (Some(limit), _) if !limit.is_zero() => {
            (clock.elapsed().as_secs_f64() / limit.as_secs_f64()).min(1.0)
        }
        (_, Some(moves)) if moves > 0 => (search.moves as f64 / moves as f64).min(1.0),
        _ => 0.0,
    };
    // Small instances, where moves are quick and copies of the plan cheap,
    // also take worsening moves early on (a cooling threshold).
    let anneal = model.classes.len() <= ANNEAL_MAX_CLASSES;
    let finished = |search: &Search| {
        options.max_moves.is_some_and(|limit| search.moves >= limit)
            || (options.time_limit.is_some() && proven.load(Ordering::Relaxed))
            || out_of_time()
            || (options.time_limit.is_none() && options.max_moves.is_none())
            || search.idle()
    };
    // One move, with the threshold for its time; publishes a better plan's value.
    let advance = |search: &mut Search| {
        if anneal {
            let fraction = progress_fraction(search);
            let warmth = (1.0 - fraction / COOLED_AT).max(COLD_WARMTH);
            search.temperature =
                search.heat * TEMPERATURE * search.best_objective().max(0.0) * warmth;
        }
        let improved = search.step(&out_of_time);
        if improved {
            // Objectives are never negative, so their bits order like them.
            best_bits.fetch_max(search.best_objective().to_bits(), Ordering::Relaxed);
        }
        improved
    };
    let epoch = (EPOCH_DEPARTURE_MOVES / instance.departures.len().max(1)).max(8) as u64;
    let meeting = Meeting::new();
    let go_on = AtomicBool::new(true);
    let values = [AtomicU64::new(0), AtomicU64::new(0)];
    let handover: Mutex<Option<(State, f64)>> = Mutex::new(None);
    let meet = |search: &mut Search, index: usize| -> bool {
        let mine = search.best_objective();
        values[index].store(mine.to_bits(), Ordering::Relaxed);
        match meeting.wait() {
            Some(true) => go_on.store(!finished(search), Ordering::Relaxed),
            Some(false) => {}
            None => return false,
        }
        if meeting.wait().is_none() {
            return false;
        }
        let other = f64::from_bits(values[1 - index].load(Ordering::Relaxed));
        // The first search wins ties.
        let behind = if index == 0 {
            other > mine + 1e-9 * (1.0 + mine.abs())
        } else {
            other >= mine - 1e-9 * (1.0 + mine.abs())
        };
        let ahead = !behind && other < mine - 1e-9 * (1.0 + mine.abs());
        if ahead {
            if let Ok(mut slot) = handover.lock() {
                *slot = Some((search.best_state(), mine));
            }
        }
        if meeting.wait().is_none() {
            return false;
        }
        if behind {
            if let Some((state, value)) = handover.lock().ok().and_then(|mut s| s.take()) {
                search.adopt(state, value);
            }
        }
        go_on.load(Ordering::Relaxed)
    };
    // Small instances, where moves are quick and plans cheap to copy, run
    // two searches side by side (beside the bound).
    let two_searches = model.is_small();
    let threads = if two_searches { 3 } else { 2 };
    let bound_duty = match options.cores {
        Some(cores) if cores < threads => BOUND_DUTY_SHARED,
        _ => 1.0,
    };
    let (state, bound) = std::thread::scope(|scope| {
        let model_ref = &model;
        let bound_bits_ref = &bound_bits;
        let stop_ref = &stop;
        let best_bits_ref = &best_bits;
        let constructed_ref = &constructed;
        let proven_ref = &proven;
        let bounder = scope.spawn(move || {
            let publish = |value: f64| {
                let best = value.min(f64::from_bits(bound_bits_ref.load(Ordering::Relaxed)));
                bound_bits_ref.store(best.to_bits(), Ordering::Relaxed);
            };
            let mut iterations = options.bound_iterations.unwrap_or(usize::MAX);
            // Stock multipliers per lot class group where the iterations are
            // quick enough; otherwise per (item, earmark): few, quick to settle.
            let fine = model_ref.classes.len() <= FINE_MAX_CLASSES;
            // Rest in short naps, so that a stop is seen soon.
            let rest_after = |started: Duration| {
                if bound_duty < 1.0 {
                    let took = clock.elapsed().saturating_sub(started);
                    let mut rest = took.mul_f64((1.0 - bound_duty) / bound_duty);
                    while !rest.is_zero() && !stop_ref.load(Ordering::Relaxed) {
                        let nap = rest.min(Duration::from_millis(2));
                        std::thread::sleep(nap);
                        rest -= nap;
                    }
                }
            };
            let incumbent = || f64::from_bits(best_bits_ref.load(Ordering::Relaxed));
            // Small instances go on to a proof (branching on charters) once
            // the root relaxation settles, within the time or the bound's
            // iterations given (with neither, the bound stops as it settles).
            let prove = model_ref.is_small()
                && (options.time_limit.is_some() || options.bound_iterations.is_some());
            if let Some(mut bounder) = Bounder::new(model_ref, 0.0, fine, stop_ref) {
                while !constructed_ref.load(Ordering::Acquire) && !stop_ref.load(Ordering::Relaxed)
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
                let mut root_iterations = 0;
                while iterations > 0 {
                    if stop_ref.load(Ordering::Relaxed)
                        || bounder.converged()
                        || (prove && root_iterations >= ROOT_ITERATIONS)
                    {
                        break;
                    }
                    bounder.raise_target(incumbent());
                    let started = clock.elapsed();
                    if bounder.iterate(stop_ref).is_none() {
                        break;
                    }
                    iterations -= 1;
                    root_iterations += 1;
                    publish(bounder.best());
                    rest_after(started);
                }
                publish(bounder.best());
                if prove && iterations > 0 && !stop_ref.load(Ordering::Relaxed) {
                    let mut proof = Proof::new(bounder);
                    while iterations > 0 && !stop_ref.load(Ordering::Relaxed) {
                        let started = clock.elapsed();
                        let mut spent = 0;
                        let step = proof.step(incumbent(), stop_ref, &mut spent);
                        iterations = iterations.saturating_sub(spent.max(1));
                        match step {
                            Step::Bound(bound) => publish(bound),
                            Step::Proven(bound) => {
                                publish(bound);
                                proven_ref.store(true, Ordering::Relaxed);
                                break;
                            }
                            Step::Stopped => break,
                        }
                        rest_after(started);
                    }
                }
            }
            f64::from_bits(bound_bits_ref.load(Ordering::Relaxed))
        });

        let _give_up = GiveUpOnPanic {
            meeting: &meeting,
            stop: &stop,
        };
        let mut search = Search::new(&model, options.seed, &out_of_time);
        best_bits.store(search.objective.max(0.0).to_bits(), Ordering::Relaxed);
        constructed.store(true, Ordering::Release);
        let report = |search: &Search, progress: &mut dyn FnMut(&Progress)| {
            let bound = f64::from_bits(bound_bits.load(Ordering::Relaxed));
            let best = f64::from_bits(best_bits.load(Ordering::Relaxed));
            progress(&Progress {
                elapsed: clock.elapsed(),
                objective: search.best_objective().max(best),
                upper_bound: bound.is_finite().then_some(bound),
                moves: search.moves,
                fraction_done: progress_fraction(search),
            });
        };
        report(&search, progress);
        let parallel = two_searches && !search.idle();
        if model.classes.len() <= REPACK_MAX_CLASSES {
            search.enable_repacking();
        }
        let state = if !parallel {
            let mut last_report = clock.elapsed();
            while !finished(&search) {
                let improved = advance(&mut search);
                let now = clock.elapsed();
                if improved || now.saturating_sub(last_report) > Duration::from_millis(100) {
                    report(&search, progress);
                    last_report = now;
                }
            }
            if polish && !search.idle() {
                search.polish(&polish_out_of_time);
            }
            search.into_best()
        } else {
            // Two searches side by side, from the same plan with their own
            // random choices. Every epoch of moves they meet: the one behind
            // continues from the other's best plan. Meeting after a fixed
            // number of moves keeps a run with a move budget reproducible.
            let mut second = search.fork(options.seed ^ SECOND_SEED);
            let helper = scope.spawn(|| {
                let _give_up = GiveUpOnPanic {
                    meeting: &meeting,
                    stop: &stop,
                };
                loop {
                    let end = second.moves + epoch;
                    while second.moves < end && !finished(&second) {
                        advance(&mut second);
                    }
                    if !meet(&mut second, 1) {
                        break;
                    }
                }
                second
            });
            let mut last_report = clock.elapsed();
            let mut reported = search.best_objective();
            loop {
                let end = search.moves + epoch;
                while search.moves < end && !finished(&search) {
                    advance(&mut search);
                    let now = clock.elapsed();
                    let best = f64::from_bits(best_bits.load(Ordering::Relaxed));
                    if best > reported
                        || now.saturating_sub(last_report) > Duration::from_millis(100)
                    {
                        report(&search, progress);
                        reported = best;
                        last_report = now;
                    }
                }
                if !meet(&mut search, 0) {
                    break;
                }
            }
            let second = helper.join().ok();
            let mut winner = match second {
                Some(second) if second.best_objective() > search.best_objective() => second,
                _ => search,
            };
            if polish {
                winner.polish(&polish_out_of_time);
            }
            winner.into_best()
        };
        // With a move budget the bound gets its full iterations; with a time
        // budget it stops with the search.
        if options.max_moves.is_none() || options.time_limit.is_some() {
            stop.store(true, Ordering::Relaxed);
        }
        let bound = bounder.join().unwrap_or(f64::INFINITY);
        (state, bound)
    });

    let allocations = state.allocations(&model);
    let value = objective(original, &allocations);
    // The bound is on the plans honouring the overrides, whose forced
    // charters pay their fixed costs, which the searched instance leaves out.
    let forced_cost: f64 = original
        .overrides
        .forced
        .iter()
        .map(|&d| original.departures[d].fixed_cost)
        .sum();
    // Must-ship requests earn a bonus in the searched instance, which its
    // bound counts too: less what this plan earns, the bound holds for every
    // plan that ships as much of them (weighted by their bonus) as this one.
    let bound = bound - forced_cost - original.must_ship_bonus_earned(&allocations);
    let upper_bound = if bound.is_finite() {
        // The bound is proven; rounding in its long sums could leave it a hair
        // under an optimal plan's value, so it is never reported below the plan.
        debug_assert!(
            bound >= value - 1e-6 * (1.0 + value.abs()),
            "bound {bound} below objective {value}"
        );
        Some(bound.max(value))
    } else {
        None
    };
    let unmet = explain_unmet(&model, &state, &explain_out_of_time);
    let plan = Plan {
        allocations,
        objective: value,
        upper_bound,
        unmet,
    };
    progress(&Progress {
        elapsed: clock.elapsed(),
        objective: value,
        upper_bound,
        moves: 0,
        fraction_done: 1.0,
    });
    plan
}

/// When, within a time limit, the search (and the bound) stop and when the
/// explanation of what is unmet falls back to quick reasons.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Deadlines {
    search: Duration,
    explain: Duration,
}

impl Deadlines {
    /// `objects`: lots and requests; `departures`: the instance's departures.
    fn new(limit: Duration, objects: usize, departures: usize) -> Self {
        let objects = objects as f64;
        let departures = departures as f64;
        let tail = TAIL_S + TAIL_PER_OBJECT_DEPARTURE_S * objects * departures;
        let explanation = EXPLAIN_PER_OBJECT_DEPARTURE_S * objects * departures;
        let before = |seconds: f64, share: f64| {
            limit.saturating_sub(Duration::from_secs_f64(seconds).min(limit.mul_f64(1.0 - share)))
        };
        Deadlines {
            search: before((tail + explanation).max(SEARCH_RESERVE_MIN_S), SEARCH_SHARE),
            explain: before(tail, EXPLAIN_SHARE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_explanation_gets_its_time_after_the_search_stops() {
        // (limit s, lots and requests, departures): small.json at 1 s, the
        // benchmark sizes at their limits, and M and L with more time.
        let cases = [
            (1.0, 450, 30),
            (2.0, 450, 30),
            (10.0, 4_000, 150),
            (60.0, 4_000, 150),
            (10.0, 36_000, 800),
            (60.0, 36_000, 800),
            (60.0, 230_000, 3_000),
            (0.1, 230_000, 3_000),
        ];
        for (limit_s, objects, departures) in cases {
            let limit = Duration::from_secs_f64(limit_s);
            let d = Deadlines::new(limit, objects, departures);
            let case = format!("{limit_s} s, {objects} objects, {departures} departures");
            assert!(d.search <= d.explain, "{case}: {d:?}");
            assert!(d.explain < limit, "{case}: {d:?}");
            assert!(d.search >= limit.mul_f64(SEARCH_SHARE), "{case}: {d:?}");
            assert!(d.explain >= limit.mul_f64(EXPLAIN_SHARE), "{case}: {d:?}");
            // The full explanation's estimate fits between the two, unless
            // the search would have to give up more than its share for it.
            let wanted = Duration::from_secs_f64(
                EXPLAIN_PER_OBJECT_DEPARTURE_S * objects as f64 * departures as f64,
            );
            if d.search > limit.mul_f64(SEARCH_SHARE) {
                assert!(d.explain - d.search >= wanted, "{case}: {d:?}");
            }
        }
        // Before, both fell at the same moment whenever the reserve was under
        // 2 % of the limit (M at 10 s), leaving the explanation no time.
        let m = Deadlines::new(Duration::from_secs(10), 4_000, 150);
        assert!(m.explain - m.search >= Duration::from_millis(10), "{m:?}");
    }
}
