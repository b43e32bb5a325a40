//! A manager's overrides through the real binary: `plan check` refuses a
//! plan that breaks one (exit 1, naming it), and `plan` makes a plan that
//! honours them, which `plan check` accepts.

#![allow(clippy::unwrap_used)]

mod common;

use common::{ok, run_in};

#[test]
fn plan_check_refuses_a_plan_that_breaks_an_override() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let db = "unused.sqlite";
    ok(
        dir,
        db,
        &[
            "plan",
            "generate",
            "--size",
            "S",
            "--seed",
            "2",
            "--family",
            "third-node",
            "--out",
            "free.json",
        ],
    );
    ok(
        dir,
        db,
        &[
            "plan",
            "--instance",
            "free.json",
            "--out",
            "free-plan.json",
            "--time-limit",
            "0.5",
        ],
    );
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("free-plan.json")).unwrap())
            .unwrap();
    let used = plan["allocations"][0]["departure"]
        .as_str()
        .unwrap()
        .to_string();
    let mut instance: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("free.json")).unwrap()).unwrap();
    instance["overrides"] = serde_json::json!({"forbid": [{"departure": used}]});
    std::fs::write(dir.join("overridden.json"), instance.to_string()).unwrap();

    let refused = run_in(
        dir,
        db,
        &[
            "plan",
            "check",
            "--instance",
            "overridden.json",
            "--plan",
            "free-plan.json",
        ],
    );
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused
            .stdout
            .contains(&format!("departure {used} is forbidden")),
        "{}",
        refused.stdout
    );
    assert!(refused.stdout.contains("INFEASIBLE"), "{}", refused.stdout);

    ok(
        dir,
        db,
        &[
            "plan",
            "--instance",
            "overridden.json",
            "--out",
            "plan.json",
            "--time-limit",
            "0.5",
        ],
    );
    let accepted = ok(
        dir,
        db,
        &[
            "plan",
            "check",
            "--instance",
            "overridden.json",
            "--plan",
            "plan.json",
        ],
    );
    assert!(accepted.starts_with("feasible"), "{accepted}");
}
