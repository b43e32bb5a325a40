//! Re-planning that keeps allocations: on generated instances, a plan kept
//! in an unchanged instance is kept whole; after a change (a departure
//! forbidden, a lot arriving later) exactly the allocations the change
//! breaks are dropped, the rest stay, and the joined plan is feasible.

use std::time::Duration;

use proptest::prelude::*;
use reliefhub_planner::check::check_plan_json;
use reliefhub_planner::generate::{generate_json, GenerateConfig};
use reliefhub_planner::keep::{plan_keeping, DropReason, KeptOutcome};
use reliefhub_planner::{plan, solve, Clock, Instance, SolveOptions};

struct NoClock;

impl Clock for NoClock {
    fn elapsed(&self) -> Duration {
        Duration::ZERO
    }
}

fn options(seed: u64) -> SolveOptions {
    SolveOptions {
        seed,
        time_limit: None,
        max_moves: Some(60),
        bound_iterations: Some(100),
        cores: None,
    }
}

fn small_config() -> impl Strategy<Value = GenerateConfig> {
    (any::<u64>(), 5usize..60, 2usize..12, 3usize..30, 2usize..8).prop_map(
        |(seed, lots, departures, requests, destinations)| GenerateConfig {
            seed,
            lots,
            departures,
            requests,
            destinations,
            horizon_days: 15,
            name: "keep".to_string(),
        },
    )
}

fn feasible(instance: &Instance, plan: &reliefhub_planner::Plan) -> Vec<String> {
    check_plan_json(instance, &plan::to_json(instance, plan), None)
        .expect("readable")
        .violations
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn unchanged_instances_keep_every_allocation(config in small_config(), seed in 0u64..1000) {
        let instance = Instance::from_json(&generate_json(&config)).expect("valid");
        let first = solve(&instance, &options(seed), &NoClock, &mut |_| {});
        let kept = plan_keeping(&instance, &first.allocations, &options(seed), &NoClock, &mut |_| {});
        for (a, outcome) in first.allocations.iter().zip(&kept.outcomes) {
            prop_assert_eq!(*outcome, KeptOutcome::Kept { units: a.quantity, reduced_by: None });
        }
        prop_assert!(feasible(&instance, &kept.plan).is_empty());
        prop_assert!(kept.plan.objective >= first.objective - 1e-6 * (1.0 + first.objective.abs()));
    }

    #[test]
    fn a_change_drops_only_what_it_breaks(config in small_config(), seed in 0u64..1000, pick in any::<usize>()) {
        let instance = Instance::from_json(&generate_json(&config)).expect("valid");
        let first = solve(&instance, &options(seed), &NoClock, &mut |_| {});
        prop_assume!(!first.allocations.is_empty());
        let chosen = first.allocations[pick % first.allocations.len()];
        // The chosen allocation's departure is forbidden, and another lot
        // (when there is one) now arrives after its own departure leaves.
        let mut changed = instance.clone();
        changed.overrides.forbidden.push(chosen.departure);
        let late = first
            .allocations
            .iter()
            .find(|a| a.departure != chosen.departure && a.lot != chosen.lot)
            .copied();
        if let Some(a) = late {
            changed.lots[a.lot].available = changed.departures[a.departure].departs + 1;
        }
        let kept = plan_keeping(&changed, &first.allocations, &options(seed), &NoClock, &mut |_| {});
        prop_assert!(feasible(&changed, &kept.plan).is_empty(), "{:?}", feasible(&changed, &kept.plan));
        for (a, outcome) in first.allocations.iter().zip(&kept.outcomes) {
            if a.departure == chosen.departure {
                prop_assert_eq!(*outcome, KeptOutcome::Dropped(DropReason::Override));
            } else if late.is_some_and(|l| l.lot == a.lot) {
                let departs = changed.departures[a.departure].departs;
                if changed.lots[a.lot].available > departs {
                    prop_assert_eq!(*outcome, KeptOutcome::Dropped(DropReason::StockLate));
                }
            } else {
                prop_assert_eq!(*outcome, KeptOutcome::Kept { units: a.quantity, reduced_by: None });
            }
        }
    }
}
