//! A manager's overrides stored with a plan built from the hub's state, and
//! the plan's per-departure review (value carried against cost), through
//! the real binary on SQLite and PostgreSQL: the overrides come back with
//! the plan, the planner honours them, `plan check --id` refuses a plan
//! that breaks a stored override, and the departures' figures add up to the
//! plan's objective.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{json, ok, refused, run_in};
use reliefhub_testkit::both_backends;

const ON: &str = "2025-03-31";

fn shared() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

fn stored_overrides(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, db, &["demo", "--no-serve"]);
    let first = json(
        d,
        db,
        &[
            "plan",
            "build",
            "--on",
            ON,
            "--time-limit",
            "1",
            "--plan-out",
            "p1.json",
            "--json",
        ],
    );
    let used: Vec<&serde_json::Value> = first["departures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["used"] == true)
        .collect();
    assert!(used.len() >= 2, "{first}");
    let forbidden = used[0]["code"].as_str().unwrap().to_string();
    let pinned_to = used[1]["code"].as_str().unwrap().to_string();
    let pinned = used[1]["allocations"][0]["request"]
        .as_str()
        .unwrap()
        .to_string();
    let overrides = serde_json::json!({
        "forbid": [{"departure": forbidden}],
        "pin": [{"request": pinned, "departure": pinned_to}],
    });
    std::fs::write(d.join("overrides.json"), overrides.to_string()).unwrap();
    let second = json(
        d,
        db,
        &[
            "plan",
            "build",
            "--on",
            ON,
            "--time-limit",
            "1",
            "--overrides",
            "overrides.json",
            "--instance-out",
            "i2.json",
            "--plan-out",
            "p2.json",
            "--json",
        ],
    );
    let id = second["id"].as_i64().unwrap().to_string();
    assert_eq!(second["overrides"], overrides);
    let shown = json(d, db, &["plan", "show", &id, "--json"]);
    assert_eq!(shown["overrides"], overrides, "stored with the plan");
    for x in second["departures"].as_array().unwrap() {
        for a in x["allocations"].as_array().unwrap() {
            assert!(x["code"] != forbidden.as_str(), "forbidden: {x}");
            if a["request"] == pinned.as_str() {
                assert_eq!(x["code"], pinned_to.as_str(), "pinned: {a}");
            }
        }
    }
    let checker = Command::new("python3")
        .arg(shared().join("tools/check_plan.py"))
        .arg(d.join("i2.json"))
        .arg(d.join("p2.json"))
        .output()
        .expect("python3 runs the independent checker");
    assert!(
        checker.status.success(),
        "{}",
        String::from_utf8_lossy(&checker.stdout)
    );
    ok(d, db, &["plan", "check", "--id", &id]);
    ok(
        d,
        db,
        &[
            "plan",
            "check",
            "--instance",
            "i2.json",
            "--plan",
            "p2.json",
        ],
    );
    // The first plan, made without the overrides, uses the forbidden
    // departure: checked against the second plan's stored overrides, it is
    // refused, and the rule is named.
    let r = run_in(d, db, &["plan", "check", "--id", &id, "--plan", "p1.json"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains(&format!("departure {forbidden} is forbidden")),
        "{}",
        r.stdout
    );
    // An override naming what the hub does not have is refused, all of it.
    std::fs::write(
        d.join("bad.json"),
        r#"{"pin": [{"request": "RQ-NOPE", "departure": "NOPE"}]}"#,
    )
    .unwrap();
    let error = refused(
        d,
        db,
        &["plan", "build", "--on", ON, "--overrides", "bad.json"],
    );
    assert!(
        error.contains("field `request`") && error.contains("field `departure`"),
        "{error}"
    );
    assert!(
        error.contains("RQ-NOPE") && error.contains("NOPE"),
        "{error}"
    );

    // The review: every departure's value carried, freight and fixed cost;
    // the used ones' net figures add up to the plan's objective.
    let mut net = 0.0;
    for x in second["departures"].as_array().unwrap() {
        let value = x["value_carried"].as_f64().unwrap();
        let freight = x["freight_cost"].as_f64().unwrap();
        assert!(value >= 0.0 && freight >= 0.0, "{x}");
        if x["used"] == true {
            assert!(value > 0.0, "{x}");
            net += value - freight - x["fixed_cost"].as_f64().unwrap();
        } else {
            assert_eq!(value, 0.0, "{x}");
        }
    }
    let objective = second["objective"].as_f64().unwrap();
    assert!(
        (net - objective).abs() <= 1e-6 * (1.0 + objective.abs()),
        "{net} against {objective}"
    );
    let text = ok(d, db, &["plan", "show", &id]);
    assert!(
        text.contains("overrides stored with the plan: 1 pinned, 1 forbidden"),
        "{text}"
    );
}

/// A manager marks a request the plan leaves unmet as must-ship, through
/// the binary: the mark is an operation of the audit log with its actor, the
/// next plan ships the request or says why the hub cannot with a reason code
/// that excuses it, the plan passes both checkers, and `plan check` refuses
/// a plan that leaves the request unmet without a reason.
fn must_ship(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, db, &["demo", "--no-serve"]);
    let build = |out: &str, instance: &str| {
        json(
            d,
            db,
            &[
                "plan",
                "build",
                "--on",
                ON,
                "--time-limit",
                "1",
                "--instance-out",
                instance,
                "--plan-out",
                out,
                "--json",
            ],
        )
    };
    let first = build("p1.json", "i1.json");
    let unmet = first["unmet"].as_array().unwrap();
    assert!(!unmet.is_empty(), "{first}");
    for u in unmet {
        assert!(
            u["reason_code"].as_str().is_some_and(|c| !c.is_empty()),
            "{u}"
        );
        assert_eq!(u["must_ship"], false, "{u}");
    }
    // The request to mark: one left for a charter's cost if there is one.
    let left = unmet
        .iter()
        .find(|u| {
            u["reason_code"]
                .as_str()
                .is_some_and(|c| c.starts_with("charter_not_worth"))
        })
        .unwrap_or(&unmet[0]);
    let code = left["request"].as_str().unwrap().to_string();
    if left["reason_code"] == "charter_not_worth" {
        let p = &left["reason_params"];
        for name in [
            "charter",
            "units",
            "capacity_used_pct",
            "value",
            "fixed_cost",
        ] {
            assert!(!p[name].is_null(), "{name} missing: {left}");
        }
    }

    let said = ok(
        d,
        db,
        &["--by", "manager-ana", "request", "must-ship", &code],
    );
    assert!(said.contains("is now must-ship"), "{said}");
    let again = ok(
        d,
        db,
        &["--by", "manager-ana", "request", "must-ship", &code],
    );
    assert!(again.contains("already must-ship"), "{again}");
    let log = json(d, db, &["log", "--kind", "request.must_ship", "--json"]);
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["actor"], "manager-ana", "{log}");
    assert!(entries[0].to_string().contains(&code), "{log}");
    let error = refused(d, db, &["request", "must-ship", "RQ-NOPE"]);
    assert!(error.contains("RQ-NOPE"), "{error}");

    let second = build("p2.json", "i2.json");
    let id = second["id"].as_i64().unwrap().to_string();
    assert_eq!(
        second["overrides"]["must_ship"],
        serde_json::json!([{"request": code}]),
        "{}",
        second["overrides"]
    );
    let sent: i64 = second["departures"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|x| x["allocations"].as_array().unwrap())
        .filter(|a| a["request"] == code.as_str())
        .map(|a| a["quantity"].as_i64().unwrap())
        .sum();
    let before: i64 = first["departures"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|x| x["allocations"].as_array().unwrap())
        .filter(|a| a["request"] == code.as_str())
        .map(|a| a["quantity"].as_i64().unwrap())
        .sum();
    match second["unmet"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["request"] == code.as_str())
    {
        None => assert!(
            sent > before,
            "{code}: met, {sent} units sent, {before} before"
        ),
        Some(u) => {
            assert_eq!(u["must_ship"], true, "{u}");
            let reason = u["reason_code"].as_str().unwrap();
            assert!(
                reliefhub_planner::instance::MUST_SHIP_EXCUSES.contains(&reason),
                "{code} left for {reason}: {u}"
            );
            let text = ok(d, db, &["plan", "show", &id]);
            assert!(text.contains(&format!("{code} (")), "{text}");
            assert!(text.contains("[must ship]"), "{text}");
        }
    }
    let checker = Command::new("python3")
        .arg(shared().join("tools/check_plan.py"))
        .arg(d.join("i2.json"))
        .arg(d.join("p2.json"))
        .output()
        .expect("python3 runs the independent checker");
    assert!(
        checker.status.success(),
        "{}",
        String::from_utf8_lossy(&checker.stdout)
    );
    ok(d, db, &["plan", "check", "--id", &id]);

    // The first plan, made before the mark, with the request's reason taken
    // out: checked against the second plan's instance, it is refused, and
    // the rule is named.
    let mut forged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("p1.json")).unwrap()).unwrap();
    forged["unmet"]
        .as_array_mut()
        .unwrap()
        .retain(|u| u["request"] != code.as_str());
    std::fs::write(d.join("forged.json"), forged.to_string()).unwrap();
    let r = run_in(
        d,
        db,
        &["plan", "check", "--id", &id, "--plan", "forged.json"],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!("request {code} must ship, but")),
        "{}",
        r.stdout
    );

    // Off again: the next plan has no must-ship request.
    let off = ok(d, db, &["request", "must-ship", &code, "--off"]);
    assert!(off.contains("is now not must-ship"), "{off}");
    let third = build("p3.json", "i3.json");
    assert!(third["overrides"].is_null(), "{}", third["overrides"]);
}

both_backends!(stored_overrides, must_ship);
