//! Planning from the hub's own state, through the real binary, on SQLite and
//! PostgreSQL: the demo seeds a hub, `plan build` makes an instance and a
//! plan from it, the independent checker accepts the plan, `plan accept`
//! loads the departures all or nothing, and the ledger still verifies.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use common::{json, ok, run_in};
use reliefhub_testkit::both_backends;

const ON: &str = "2025-03-31";

fn shared() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// Units at each node per lot, from the stock report.
fn stock(dir: &Path, db: &str) -> HashMap<(String, i64), i64> {
    let rows = json(dir, db, &["stock", "list", "--json"]);
    let mut out = HashMap::new();
    for row in rows.as_array().unwrap() {
        if row["state"] != "available" {
            continue;
        }
        let key = (
            row["node"].as_str().unwrap().to_string(),
            row["lot"].as_i64().unwrap(),
        );
        *out.entry(key).or_insert(0) += row["quantity"].as_i64().unwrap();
    }
    out
}

fn journal_entries(dir: &Path, db: &str) -> i64 {
    let out = ok(dir, db, &["verify"]);
    out.split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected verify output: {out}"))
}

fn plan_from_db(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    ok(dir, db, &["demo", "--no-serve"]);

    // Build a plan and check it independently.
    let view = json(
        dir,
        db,
        &[
            "plan",
            "build",
            "--on",
            ON,
            "--time-limit",
            "1",
            "--instance-out",
            "instance.json",
            "--plan-out",
            "plan.json",
            "--json",
        ],
    );
    let checker = Command::new("python3")
        .arg(shared().join("tools/check_plan.py"))
        .arg(dir.join("instance.json"))
        .arg(dir.join("plan.json"))
        .output()
        .expect("python3 runs the independent checker");
    assert!(
        checker.status.success(),
        "check_plan.py refused the plan: {}{}",
        String::from_utf8_lossy(&checker.stdout),
        String::from_utf8_lossy(&checker.stderr)
    );
    ok(
        dir,
        db,
        &[
            "plan",
            "check",
            "--instance",
            "instance.json",
            "--plan",
            "plan.json",
        ],
    );

    let instance: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("instance.json")).unwrap()).unwrap();
    assert!(!instance["lots"].as_array().unwrap().is_empty());
    assert!(!instance["requests"].as_array().unwrap().is_empty());
    let departures = view["departures"].as_array().unwrap();
    assert!(
        departures.iter().any(|d| d["used"] == true),
        "the demo's next week should carry cargo: {view}"
    );
    for d in departures {
        assert!(d["load_kg"].as_f64().unwrap() <= d["payload_kg"].as_f64().unwrap() + 1e-6);
        assert!(d["load_pct"].as_f64().unwrap() <= 100.0 + 1e-6);
    }
    for u in view["unmet"].as_array().unwrap() {
        assert!(!u["reason"].as_str().unwrap().is_empty(), "{u}");
    }
    let objective = view["objective"].as_f64().unwrap();
    assert!(objective > 0.0);
    assert!(view["upper_bound"].as_f64().unwrap() >= objective - 1e-6);
    let id = view["id"].as_i64().unwrap().to_string();

    // A second plan from the same state, to go stale.
    let stale = json(
        dir,
        db,
        &["plan", "build", "--on", ON, "--time-limit", "1", "--json"],
    );
    let stale_id = stale["id"].as_i64().unwrap().to_string();

    // Accept: exactly the ready allocations leave the nodes (loaded), and
    // so does waiting stock that sits at the other node (a hub transfer to
    // its departure's node).
    let before = stock(dir, db);
    let entries_before = journal_entries(dir, db);
    let mut expected: HashMap<(String, i64), i64> = HashMap::new();
    let mut ready_lines = 0;
    let mut moved: HashMap<(String, String), i64> = HashMap::new();
    for d in departures {
        let node = d["node"].as_str().unwrap();
        for a in d["allocations"].as_array().unwrap() {
            let stock_at = a["stock_at"].as_str().unwrap();
            let leaves = if a["ready"] == true {
                ready_lines += 1;
                Some(node)
            } else if !stock_at.contains(':') && stock_at != node {
                *moved
                    .entry((stock_at.to_string(), node.to_string()))
                    .or_insert(0) += a["quantity"].as_i64().unwrap();
                Some(stock_at)
            } else {
                None
            };
            if let Some(place) = leaves {
                *expected
                    .entry((place.to_string(), a["lot_id"].as_i64().unwrap()))
                    .or_insert(0) += a["quantity"].as_i64().unwrap();
            }
        }
    }
    assert!(
        ready_lines > 0,
        "some stock should be at its departure's node"
    );
    let accepted = ok(dir, db, &["plan", "accept", &id, "--on", ON]);
    for ((from, to), units) in &moved {
        let line = format!("{units} units dispatched from {from} to {to}");
        assert!(accepted.contains(&line), "`{line}` in: {accepted}");
    }
    let after = stock(dir, db);
    // Everything counted above left the nodes, and nothing else did.
    let mut changed: HashMap<(String, i64), i64> = HashMap::new();
    for (key, units) in &before {
        let now = after.get(key).copied().unwrap_or(0);
        if now != *units {
            changed.insert(key.clone(), units - now);
        }
    }
    assert_eq!(changed, expected, "stock that left the nodes");
    for (key, units) in &expected {
        assert_eq!(
            before.get(key).copied().unwrap_or(0) - after.get(key).copied().unwrap_or(0),
            *units,
            "lot {key:?}"
        );
    }
    let entries_after = journal_entries(dir, db);
    assert!(entries_after > entries_before);
    let shown = json(dir, db, &["plan", "show", &id, "--json"]);
    assert_eq!(shown["status"], "accepted");

    // Replaying the acceptance changes nothing; another key is refused.
    ok(dir, db, &["plan", "accept", &id, "--on", ON]);
    assert_eq!(journal_entries(dir, db), entries_after);
    let other = run_in(dir, db, &["plan", "accept", &id, "--key", "another"]);
    assert_eq!(other.code, 2, "{}", other.stderr);
    assert!(
        other.stderr.contains("already accepted"),
        "{}",
        other.stderr
    );

    // The stale plan wants stock and space the first one took: refused as a
    // whole, with the problems listed, and nothing written.
    let stale_run = run_in(dir, db, &["plan", "accept", &stale_id, "--on", ON]);
    assert_eq!(stale_run.code, 2, "{}", stale_run.stdout);
    assert!(
        stale_run.stderr.contains("nothing was written"),
        "{}",
        stale_run.stderr
    );
    assert_eq!(journal_entries(dir, db), entries_after);
    assert_eq!(stock(dir, db), after);
}

both_backends!(plan_from_db);
