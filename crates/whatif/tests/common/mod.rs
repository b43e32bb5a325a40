//! A small hub to try scenarios on: a port and an airport a day apart,
//! sailings and flights to three destinations, stock at both nodes and one
//! leg still inbound. Requests are valued as the hub values them: the
//! item's price times the priority's multiplier (`reliefhub_planner::value`).

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use reliefhub_planner::{solve, Clock, Instance, Plan, SolveOptions};
use reliefhub_whatif::doc::ItemDoc;
use reliefhub_whatif::{
    run_all, HubFacts, InstanceDoc, PledgeFacts, Report, RunOptions, Scenario, Syntax,
};
use serde_json::json;

/// Moves per run: enough for this hub's best plan, and reproducible.
pub const MOVES: u64 = 1_500;

pub fn hub() -> InstanceDoc {
    let doc = json!({
        "format": "reliefhub-plan-instance/1",
        "name": "test-hub",
        "nodes": [{"id": "HMEIMIM-AIR", "kind": "airport"}, {"id": "TARTUS-PORT", "kind": "port"}],
        "transfers": [
            {"from": "HMEIMIM-AIR", "to": "TARTUS-PORT", "days": 1},
            {"from": "TARTUS-PORT", "to": "HMEIMIM-AIR", "days": 1}
        ],
        "items": [
            {"id": "RUTF-150", "name": "RUTF", "unit_weight_kg": 15.0, "unit_volume_m3": 0.04,
             "cold_chain": false, "dangerous_goods": false, "min_shelf_life_days": 30, "value_usd_per_unit": 50.0},
            {"id": "TENT", "name": "Family tent", "unit_weight_kg": 55.0, "unit_volume_m3": 0.28,
             "cold_chain": false, "dangerous_goods": false, "min_shelf_life_days": 0, "value_usd_per_unit": 300.0}
        ],
        "lots": [
            {"id": "L1@TARTUS-PORT", "item": "RUTF-150", "node": "TARTUS-PORT", "quantity": 2000, "pack_size": 50,
             "available": "2025-04-01", "expires": "2026-01-01", "earmark": [], "donor": "RU-EMERCOM", "stock_at": "TARTUS-PORT"},
            {"id": "L2@HMEIMIM-AIR", "item": "RUTF-150", "node": "HMEIMIM-AIR", "quantity": 1000, "pack_size": 50,
             "available": "2025-04-01", "expires": "2026-01-01", "earmark": [], "donor": "QA-QFFD", "stock_at": "HMEIMIM-AIR"},
            {"id": "L3@TARTUS-PORT", "item": "TENT", "node": "TARTUS-PORT", "quantity": 400, "pack_size": 10,
             "available": "2025-04-01", "expires": null, "earmark": [], "donor": "AE-UAEAID", "stock_at": "TARTUS-PORT"},
            {"id": "L4@inbound:LEG-1", "item": "RUTF-150", "node": "TARTUS-PORT", "quantity": 1000, "pack_size": 50,
             "available": "2025-04-05", "expires": "2026-01-01", "earmark": [], "donor": "QA-QFFD", "stock_at": "inbound:LEG-1"}
        ],
        "departures": [
            {"id": "SEA-1", "node": "TARTUS-PORT", "mode": "sea", "destination": "SDPZU",
             "departs": "2025-04-03", "arrives": "2025-04-10", "payload_kg": 60000.0, "volume_m3": 500.0,
             "cold_volume_m3": 0.0, "dangerous_goods": true, "fixed_cost": 20000.0, "cost_per_kg": 0.05, "service": "scheduled"},
            {"id": "SEA-2", "node": "TARTUS-PORT", "mode": "sea", "destination": "KEMBA",
             "departs": "2025-04-05", "arrives": "2025-04-20", "payload_kg": 60000.0, "volume_m3": 500.0,
             "cold_volume_m3": 0.0, "dangerous_goods": true, "fixed_cost": 20000.0, "cost_per_kg": 0.05, "service": "scheduled"},
            {"id": "AIR-1", "node": "HMEIMIM-AIR", "mode": "air", "destination": "TDNDJ",
             "departs": "2025-04-04", "arrives": "2025-04-04", "payload_kg": 40000.0, "volume_m3": 180.0,
             "cold_volume_m3": 8.0, "dangerous_goods": false, "fixed_cost": 30000.0, "cost_per_kg": 0.0, "service": "charter"},
            {"id": "AIR-2", "node": "HMEIMIM-AIR", "mode": "air", "destination": "SDPZU",
             "departs": "2025-04-07", "arrives": "2025-04-07", "payload_kg": 20000.0, "volume_m3": 100.0,
             "cold_volume_m3": 0.0, "dangerous_goods": false, "fixed_cost": 25000.0, "cost_per_kg": 0.0, "service": "charter"}
        ],
        "requests": [
            {"id": "R1", "destination": "SDPZU", "item": "RUTF-150", "quantity": 1500, "value_per_unit": 1000.0,
             "needed_by": "2025-04-12", "grace_days": 5, "priority": 1},
            {"id": "R2", "destination": "TDNDJ", "item": "RUTF-150", "quantity": 800, "value_per_unit": 500.0,
             "needed_by": "2025-04-10", "grace_days": 5, "priority": 2},
            {"id": "R3", "destination": "TDNDJ", "item": "TENT", "quantity": 50, "value_per_unit": 1500.0,
             "needed_by": "2025-04-10", "grace_days": 5, "priority": 3},
            {"id": "R4", "destination": "KEMBA", "item": "TENT", "quantity": 300, "value_per_unit": 1500.0,
             "needed_by": "2025-04-25", "grace_days": 5, "priority": 3},
            {"id": "R5", "destination": "SDPZU", "item": "TENT", "quantity": 100, "value_per_unit": 3000.0,
             "needed_by": "2025-04-12", "grace_days": 5, "priority": 2}
        ]
    });
    InstanceDoc::from_value(&doc).unwrap()
}

pub fn facts() -> HubFacts {
    HubFacts {
        legs: vec!["LEG-1".into(), "LEG-0".into()],
        pledges: vec![PledgeFacts {
            code: "PL-QA-1".into(),
            donor: "QA-QFFD".into(),
            outstanding: vec![("RUTF-150".into(), 600)],
        }],
        destinations: vec!["SDPZU".into(), "TDNDJ".into(), "KEMBA".into(), "DJJIB".into()],
        items: vec![ItemDoc {
            id: "ORS-CTN".into(),
            unit_weight_kg: 12.0,
            unit_volume_m3: 0.03,
            extra: json!({"name": "ORS", "cold_chain": false, "dangerous_goods": false, "min_shelf_life_days": 30,
                          "value_usd_per_unit": 80.0})
                .as_object()
                .unwrap()
                .clone(),
        }],
    }
}

pub fn scenario(json_text: &str) -> Scenario {
    Scenario::parse(json_text, Syntax::Json).unwrap_or_else(|p| panic!("{p:?}"))
}

pub struct Stopwatch(Instant);

impl Clock for Stopwatch {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// Plans a document with the move budget (reproducible).
pub fn plan(doc: &InstanceDoc) -> (Instance, Plan) {
    let instance = Instance::from_json(&doc.to_json()).unwrap();
    let options = SolveOptions {
        seed: 1,
        time_limit: None,
        max_moves: Some(MOVES),
        bound_iterations: Some(20),
        cores: Some(2),
    };
    let plan = solve(&instance, &options, &Stopwatch(Instant::now()), &mut |_| {});
    (instance, plan)
}

pub fn options(draws: usize) -> RunOptions {
    RunOptions {
        draws,
        time_limit: None,
        max_moves: Some(MOVES),
        seed: 1,
        jobs: 2,
        cores: 2,
    }
}

/// Runs the baseline and the scenarios with the move budget.
pub fn compare(doc: &InstanceDoc, scenarios: &[Scenario], draws: usize) -> Report {
    for s in scenarios {
        let problems = s.check(doc, &facts());
        assert!(problems.is_empty(), "{problems:?}");
    }
    let start = Instant::now();
    let now = move || start.elapsed();
    let stop = AtomicBool::new(false);
    run_all(
        doc,
        scenarios,
        &facts(),
        &options(draws),
        &now,
        &stop,
        &mut |_, _| {},
    )
    .unwrap()
}
