//! Must-ship requests (the `must_ship` override): the planner meets them,
//! even on a charter not worth its fixed cost, or says why it cannot with a
//! reason code that excuses it; the checker refuses a plan that leaves one
//! unmet without such a reason; the bound stays above the plan.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use reliefhub_planner::check::check_plan_json;
use reliefhub_planner::instance::MUST_SHIP_EXCUSES;
use reliefhub_planner::{plan, solve, Clock, Instance, Plan, SolveOptions};
use serde_json::{json, Value};

struct NoClock;

impl Clock for NoClock {
    fn elapsed(&self) -> Duration {
        Duration::ZERO
    }
}

fn tiny() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/examples/plan/tiny.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn run(instance: &Instance) -> Plan {
    let options = SolveOptions {
        seed: 1,
        time_limit: None,
        max_moves: Some(2_000),
        bound_iterations: Some(300),
        cores: None,
    };
    solve(instance, &options, &NoClock, &mut |_| {})
}

fn units_sent(plan: &Plan, request: usize) -> i64 {
    plan.allocations
        .iter()
        .filter(|a| a.request == request)
        .map(|a| a.quantity)
        .sum()
}

#[test]
fn a_request_left_for_a_charters_cost_is_shipped_once_it_must_ship() {
    let text = tiny();
    let free = Instance::from_json(&text.to_string()).unwrap();
    let before = run(&free);
    // tiny.json leaves a request for a charter's fixed cost: its reason
    // carries the figures by name.
    let left = before
        .unmet
        .iter()
        .find(|u| u.code == "charter_not_worth" || u.code == "charter_not_worth_rest")
        .unwrap_or_else(|| panic!("{:?}", before.unmet));
    let p = &left.params;
    let (value, fixed) = (
        p["value"].as_f64().unwrap(),
        p["fixed_cost"].as_f64().unwrap(),
    );
    assert!(value < fixed, "{p:?}");
    assert!(p["units"].as_i64().unwrap() > 0, "{p:?}");
    let used = p["capacity_used_pct"].as_f64().unwrap();
    assert!(used > 0.0 && used <= 100.0, "{p:?}");
    let charter = p["charter"].as_str().unwrap();
    assert!(left.reason.contains(charter), "{}", left.reason);
    let r = left.request;
    let id = free.requests[r].id.clone();

    let mut marked = text.clone();
    marked["overrides"] = json!({"must_ship": [{"request": id}]});
    let instance = Instance::from_json(&marked.to_string()).unwrap();
    assert_eq!(instance.overrides.must_ship, vec![r]);
    let after = run(&instance);
    let sent = units_sent(&after, r);
    assert!(
        sent > units_sent(&before, r),
        "{id}: {sent} units sent once must-ship, {} before",
        units_sent(&before, r)
    );
    if let Some(u) = after.unmet.iter().find(|u| u.request == r) {
        assert!(
            MUST_SHIP_EXCUSES.contains(&u.code),
            "{}: {}",
            u.code,
            u.reason
        );
    }
    let text = plan::to_json(&instance, &after);
    let report = check_plan_json(&instance, &text, None).unwrap();
    assert!(report.is_feasible(), "{:?}", report.violations);
    // The objective is the format's, not the searched instance's; the
    // bound still holds over it.
    assert_eq!(
        after.objective,
        plan::objective(&instance, &after.allocations)
    );
    assert!(after.upper_bound.unwrap() >= after.objective);
}

#[test]
fn the_checker_refuses_a_must_ship_request_left_without_an_excuse() {
    let text = tiny();
    let free = Instance::from_json(&text.to_string()).unwrap();
    // The request tiny.json's best plan serves most: must-ship and met.
    let plan = run(&free);
    let r = (0..free.requests.len())
        .max_by_key(|&r| units_sent(&plan, r))
        .unwrap();
    let id = free.requests[r].id.clone();
    let mut marked = text.clone();
    marked["overrides"] = json!({"must_ship": [{"request": id}]});
    let instance = Instance::from_json(&marked.to_string()).unwrap();
    let plan = run(&instance);
    assert!(units_sent(&plan, r) > 0);

    // The same plan without that request's loads, its objective recomputed:
    // feasible by the format, refused by the must-ship rule.
    let mut document: Value = serde_json::from_str(&plan::to_json(&instance, &plan)).unwrap();
    let kept: Vec<_> = plan
        .allocations
        .iter()
        .copied()
        .filter(|a| a.request != r)
        .collect();
    document["allocations"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a["request"] != id.as_str());
    document["objective"] = json!(plan::objective(&instance, &kept));
    document["unmet"]
        .as_array_mut()
        .unwrap()
        .retain(|u| u["request"] != id.as_str());
    let check = |document: &Value| check_plan_json(&instance, &document.to_string(), None).unwrap();
    let report = check(&document);
    assert_eq!(report.violations.len(), 1, "{:?}", report.violations);
    assert!(
        report.violations[0].contains(&format!("request {id} must ship"))
            && report.violations[0].contains("no reason code"),
        "{:?}",
        report.violations
    );
    // Cost is no excuse; a reason the hub cannot help is.
    let quantity = instance.requests[r].quantity;
    for (code, refused) in [
        ("charter_not_worth", true),
        ("not_analysed", true),
        ("no_departure", false),
        ("capacity_full", false),
    ] {
        let mut explained = document.clone();
        explained["unmet"].as_array_mut().unwrap().push(json!({
            "request": id, "quantity": quantity, "reason": "as the code says", "reason_code": code
        }));
        let report = check(&explained);
        assert_eq!(
            !report.is_feasible(),
            refused,
            "{code}: {:?}",
            report.violations
        );
        if refused {
            assert!(
                report.violations[0].contains("does not excuse"),
                "{:?}",
                report.violations
            );
        }
    }
    // Without the mark, the same plan is fine.
    let report = check_plan_json(&free, &document.to_string(), None).unwrap();
    assert!(report.is_feasible(), "{:?}", report.violations);
}

#[test]
fn a_must_ship_override_naming_no_request_is_refused() {
    let mut text = tiny();
    text["overrides"] = json!({"must_ship": [{"request": "NOPE"}, {"departure": "D1"}]});
    let error = Instance::from_json(&text.to_string()).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("NOPE"), "{message}");
    assert!(message.contains("overrides.must_ship[1]"), "{message}");
}
