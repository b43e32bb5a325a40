//! Scenarios whose effect is known, planned for real (a move budget keeps
//! every run reproducible).

#![allow(clippy::unwrap_used)]

mod common;

use common::{compare, facts, hub, plan, scenario};
use reliefhub_whatif::apply;
use reliefhub_whatif::summary::{reason_group, summarise, DayAxis};

#[test]
fn closing_the_port_for_the_whole_plan_leaves_its_sailings_unused_and_loads_nothing_there() {
    let base = hub();
    let closed = scenario(
        r#"{"format": "reliefhub-scenario/1", "name": "port closed",
            "changes": [{"kind": "close_node", "node": "TARTUS-PORT"}]}"#,
    );
    let report = compare(&base, &[closed], 1);
    // The baseline does use the port, so the test can fail.
    let loaded_at_port = |c: &reliefhub_whatif::ScenarioReport| {
        c.loaded_kg_by_node
            .get("TARTUS-PORT")
            .copied()
            .unwrap_or(0.0)
    };
    let taken_at_port = |c: &reliefhub_whatif::ScenarioReport| {
        c.taken_kg_by_lot_node
            .get("TARTUS-PORT")
            .copied()
            .unwrap_or(0.0)
    };
    assert!(
        loaded_at_port(&report.baseline) > 0.0,
        "{:?}",
        report.baseline.loaded_kg_by_node
    );
    assert!(report
        .baseline
        .used_departures
        .iter()
        .any(|d| d.starts_with("SEA-")));
    let s = &report.scenarios[0];
    assert_eq!(s.runs, 1);
    assert_eq!(loaded_at_port(s), 0.0);
    assert_eq!(
        taken_at_port(s),
        0.0,
        "stock at the port moved: {:?}",
        s.taken_kg_by_lot_node
    );
    for sailing in ["SEA-1", "SEA-2"] {
        assert!(
            !s.used_departures.iter().any(|d| d == sailing),
            "{sailing} used"
        );
        assert!(
            s.cancelled.iter().any(|d| d == sailing),
            "{sailing} not cancelled"
        );
    }
    // The airport still works.
    assert!(loaded_at_port(&report.baseline) > 0.0);
    assert!(
        s.loaded_kg_by_node
            .get("HMEIMIM-AIR")
            .copied()
            .unwrap_or(0.0)
            > 0.0
    );
}

#[test]
fn cancelling_the_only_departure_to_a_destination_leaves_all_its_requests_unmet_for_no_departure() {
    let base = hub();
    // The baseline sends something to N'Djamena.
    let (_, baseline) = plan(&base);
    let r2 = base.requests.iter().position(|r| r.id == "R2").unwrap();
    assert!(baseline.allocations.iter().any(|a| a.request == r2));
    let cancelled = scenario(
        r#"{"format": "reliefhub-scenario/1", "name": "charter cancelled",
            "changes": [{"kind": "cancel_departure", "departure": "AIR-1"}]}"#,
    );
    let applied = apply(&base, &cancelled, &facts(), None);
    assert!(applied.cancelled.contains("AIR-1"));
    let (_, p) = plan(&applied.doc);
    let tdndj: Vec<usize> = applied
        .doc
        .requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.destination == "TDNDJ")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(tdndj.len(), 2);
    for i in tdndj {
        let r = &applied.doc.requests[i];
        assert!(
            !p.allocations.iter().any(|a| a.request == i),
            "{} served",
            r.id
        );
        let unmet = p.unmet.iter().find(|u| u.request == i).unwrap();
        assert_eq!(unmet.quantity, r.quantity, "{}", r.id);
        assert_eq!(
            reason_group(&unmet.reason),
            "no departure",
            "{}: {}",
            r.id,
            unmet.reason
        );
    }
    // The report groups them the same way.
    let report = compare(&base, &[cancelled], 1);
    let unmet = &report.scenarios[0].figures.unmet_requests_by_reason;
    assert!(unmet["no departure"].p50 >= 2.0, "{unmet:?}");
    assert_eq!(
        report.scenarios[0].figures.tonnes_by_destination["TDNDJ"].p50,
        0.0
    );
}

#[test]
fn multiplying_a_destinations_requests_never_costs_the_others_more_than_the_capacity_it_takes() {
    let base = hub();
    let axis = DayAxis::of(&base);
    let max_value_per_kg = base
        .requests
        .iter()
        .map(|r| r.value_per_unit / base.item(&r.item).unwrap().unit_weight_kg)
        .fold(0.0, f64::max);
    let value_at =
        |doc: &reliefhub_whatif::InstanceDoc, p: &reliefhub_planner::Plan, dest: &str| {
            // Value delivered to one destination or to all others.
            let s = summarise(doc, p, axis, false);
            let here = s.by_destination.get(dest).map_or(0.0, |x| x.1);
            (s, here)
        };
    let mut compared = 0;
    for destination in ["SDPZU", "TDNDJ", "KEMBA"] {
        for factor in [1.5, 2.0, 3.0, 10.0] {
            let surge = scenario(&format!(
                r#"{{"format": "reliefhub-scenario/1", "name": "surge",
                    "changes": [{{"kind": "multiply_requests", "destination": "{destination}", "factor": {factor}}}]}}"#
            ));
            let changed = apply(&base, &surge, &facts(), None).doc;
            let (_, p0) = plan(&base);
            let (_, p1) = plan(&changed);
            let (s0, kg_here_0) = value_at(&base, &p0, destination);
            let (s1, kg_here_1) = value_at(&changed, &p1, destination);
            let elsewhere = |s: &reliefhub_whatif::RunSummary,
                             doc: &reliefhub_whatif::InstanceDoc,
                             p: &reliefhub_planner::Plan| {
                let _ = s;
                p.allocations
                    .iter()
                    .filter(|a| doc.requests[a.request].destination != destination)
                    .map(|a| {
                        let r = &doc.requests[a.request];
                        let d = &doc.departures[a.departure];
                        let late = (reliefhub_planner::instance::parse_day(&d.arrives).unwrap()
                            - reliefhub_planner::instance::parse_day(&r.needed_by).unwrap())
                        .max(0);
                        a.quantity as f64
                            * r.value_per_unit
                            * reliefhub_planner::plan::timeliness(late, r.grace_days as i32)
                    })
                    .sum::<f64>()
            };
            let lost = elsewhere(&s0, &base, &p0) - elsewhere(&s1, &changed, &p1);
            // The capacity (and stock) the surge takes: the extra kg it gets.
            let taken_kg = (kg_here_1 - kg_here_0).max(0.0);
            assert!(
                lost <= taken_kg * max_value_per_kg + 1e-6,
                "{destination} x {factor}: others lost {lost:.0} of value, the surge took {taken_kg:.0} kg"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 12);
}

#[test]
fn a_scenario_with_no_change_equals_the_baseline() {
    let base = hub();
    let same = scenario(r#"{"format": "reliefhub-scenario/1", "name": "nothing changes"}"#);
    let report = compare(&base, &[same], 1);
    let s = &report.scenarios[0];
    assert_eq!(s.runs, 1);
    assert!(report.baseline.figures.value_delivered.p50 > 0.0);
    assert_eq!(s.figures, report.baseline.figures);
    assert_eq!(s.used_departures, report.baseline.used_departures);
    assert_eq!(s.value_by_day, report.baseline.value_by_day);
    assert!(s.cancelled.is_empty());
}

#[test]
fn random_draws_are_the_same_for_a_seed_and_differ_between_draws() {
    let base = hub();
    let random = scenario(
        r#"{"format": "reliefhub-scenario/1", "name": "uncertain", "seed": 7,
            "random": {"departure_delay": {"median_days": 2, "spread": 0.8},
                       "leg_delay": {"median_days": 3, "spread": 0.5},
                       "charter_cancellation": 0.3}}"#,
    );
    let draws: Vec<_> = (0..20)
        .map(|d| apply(&base, &random, &facts(), Some(d)).doc)
        .collect();
    for (d, doc) in draws.iter().enumerate() {
        assert_eq!(doc, &apply(&base, &random, &facts(), Some(d as u64)).doc);
    }
    let distinct: std::collections::BTreeSet<String> = draws.iter().map(|d| d.to_json()).collect();
    assert!(
        distinct.len() > 10,
        "only {} distinct draws of 20",
        distinct.len()
    );
    // Only charters are ever cancelled.
    for doc in &draws {
        for sailing in ["SEA-1", "SEA-2"] {
            assert!(doc.departures.iter().any(|d| d.id == sailing));
        }
    }
    let report = compare(&base, &[random], 12);
    let s = &report.scenarios[0];
    assert_eq!(s.runs, 12);
    assert_eq!(s.run_values.len(), 12);
    let v = s.figures.value_delivered;
    assert!(v.p10 <= v.p50 && v.p50 <= v.p90, "{v:?}");
    // Delays and cancellations never add value to this hub.
    assert!(v.p90 <= report.baseline.figures.value_delivered.p50 + 1e-6);
}

#[test]
fn a_closure_window_cancels_departures_inside_it_and_holds_stock_until_it_reopens() {
    let base = hub();
    let s = scenario(
        r#"{"format": "reliefhub-scenario/1", "name": "storm",
            "changes": [{"kind": "close_node", "node": "TARTUS-PORT", "from": "2025-04-02", "to": "2025-04-04"}]}"#,
    );
    let applied = apply(&base, &s, &facts(), None);
    let ids: Vec<&str> = applied
        .doc
        .departures
        .iter()
        .map(|d| d.id.as_str())
        .collect();
    assert_eq!(ids, ["SEA-2", "AIR-1", "AIR-2"]);
    let lot = |id: &str| applied.doc.lots.iter().find(|l| l.id == id).unwrap();
    // Available before the window: can leave before it, unchanged.
    assert_eq!(lot("L1@TARTUS-PORT").available, "2025-04-01");
    // Arriving after it: unchanged.
    assert_eq!(lot("L4@inbound:LEG-1").available, "2025-04-05");
    let s2 = scenario(
        r#"{"format": "reliefhub-scenario/1", "name": "storm",
            "changes": [{"kind": "close_node", "node": "TARTUS-PORT", "from": "2025-04-01", "to": "2025-04-06"}]}"#,
    );
    let applied = apply(&base, &s2, &facts(), None);
    let lot = |id: &str| {
        applied
            .doc
            .lots
            .iter()
            .find(|l| l.id == id)
            .unwrap()
            .available
            .clone()
    };
    assert_eq!(lot("L1@TARTUS-PORT"), "2025-04-07");
    assert_eq!(lot("L4@inbound:LEG-1"), "2025-04-07");
    assert_eq!(lot("L2@HMEIMIM-AIR"), "2025-04-01");
}

#[test]
fn every_kind_of_change_does_what_it_says() {
    let base = hub();
    let s = scenario(
        r#"{"format": "reliefhub-scenario/1", "name": "all",
            "changes": [
              {"kind": "delay_departure", "departure": "SEA-1", "days": 3},
              {"kind": "delay_leg", "leg": "LEG-1", "days": 10},
              {"kind": "departure_capacity", "departure": "AIR-1", "factor": 0.5},
              {"kind": "node_capacity", "node": "HMEIMIM-AIR", "factor": 0.5, "from": "2025-04-06"},
              {"kind": "multiply_requests", "destination": "SDPZU", "factor": 3, "item": "RUTF-150"},
              {"kind": "add_request", "destination": "DJJIB", "item": "ORS-CTN", "quantity": 500, "priority": 1, "needed_by": "2025-04-20"},
              {"kind": "withdraw_pledge", "pledge": "PL-QA-1"},
              {"kind": "costs", "factor": 1.5, "mode": "air"}
            ]}"#,
    );
    let a = apply(&base, &s, &facts(), None);
    let d = |id: &str| a.doc.departures.iter().find(|d| d.id == id).unwrap();
    assert_eq!(
        (d("SEA-1").departs.as_str(), d("SEA-1").arrives.as_str()),
        ("2025-04-06", "2025-04-13")
    );
    assert_eq!(d("AIR-1").payload_kg, 20000.0);
    assert_eq!(d("AIR-1").fixed_cost, 45000.0);
    assert_eq!(d("AIR-2").payload_kg, 10000.0);
    assert_eq!(d("SEA-2").fixed_cost, 20000.0);
    let r1 = a.doc.requests.iter().find(|r| r.id == "R1").unwrap();
    assert_eq!(r1.quantity, 4500);
    let r5 = a.doc.requests.iter().find(|r| r.id == "R5").unwrap();
    assert_eq!(r5.quantity, 100);
    let added = a
        .doc
        .requests
        .iter()
        .find(|r| r.destination == "DJJIB")
        .unwrap();
    assert_eq!(
        (added.quantity, added.value_per_unit, added.priority()),
        (500, 1600.0, 1),
        "80 USD a carton x 20 at priority 1"
    );
    assert!(a.doc.item("ORS-CTN").is_some());
    // The leg is delayed, then 600 of its 1,000 units withdrawn.
    let leg = a
        .doc
        .lots
        .iter()
        .find(|l| l.leg() == Some("LEG-1"))
        .unwrap();
    assert_eq!((leg.available.as_str(), leg.quantity), ("2025-04-15", 400));
    assert_eq!(a.effects.len(), 8);
    // The changed instance is one the planner reads.
    reliefhub_planner::Instance::from_json(&a.doc.to_json()).unwrap();
    let lose = scenario(
        r#"{"format": "reliefhub-scenario/1", "name": "lost", "changes": [{"kind": "lose_leg", "leg": "LEG-1"}]}"#,
    );
    let a = apply(&base, &lose, &facts(), None);
    assert!(a.doc.lots.iter().all(|l| l.leg().is_none()));
    assert_eq!(a.doc.lots.len(), 3);
}

/// The test hub's requests, and a request a scenario adds, are valued as
/// the hub's own instances value them (price x priority multiplier), so
/// what-if and planning agree.
#[test]
fn requests_are_valued_by_price_and_priority_as_planning_values_them() {
    let base = hub();
    for r in &base.requests {
        let item = base.item(&r.item).unwrap();
        let price = item.extra["value_usd_per_unit"].as_f64();
        assert!(price.is_some(), "{}", r.id);
        let expected = reliefhub_planner::value::request_value_per_unit(
            price,
            item.unit_weight_kg,
            r.priority(),
        );
        assert_eq!(r.value_per_unit, expected, "{}", r.id);
    }
    // A vaccine and a sack of flour of the same weight are not worth the
    // same: an added request of an item without a price is valued by its
    // weight, one with a price by its price.
    let added = |item: &str, priority: i64| {
        let s = scenario(&format!(
            r#"{{"format": "reliefhub-scenario/1", "name": "add",
                "changes": [{{"kind": "add_request", "destination": "DJJIB", "item": "{item}",
                              "quantity": 10, "priority": {priority}, "needed_by": "2025-04-20"}}]}}"#
        ));
        let a = apply(&base, &s, &facts(), None);
        a.doc
            .requests
            .iter()
            .find(|r| r.destination == "DJJIB")
            .unwrap()
            .value_per_unit
    };
    assert_eq!(added("ORS-CTN", 1), 80.0 * 20.0);
    assert_eq!(added("ORS-CTN", 5), 80.0);
    assert_eq!(added("RUTF-150", 2), 50.0 * 10.0);
}
