//! Re-planning after a small change keeps the accepted loads that still
//! fit: on the demo hub, through the real binary, on SQLite and PostgreSQL.
//! A plan is accepted; then an inbound leg runs two days late (its stock
//! now misses its sailing) and a charter is cancelled; `plan build
//! --keep-accepted` keeps every other load, names each change with its
//! reason, and its plan passes `plan check` and the independent checker.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{json, ok, refused};
use reliefhub_testkit::both_backends;

const ON: &str = "2025-03-31";

fn shared() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

fn check_both(dir: &Path, db: &str, instance: &str, plan: &str) {
    let checker = Command::new("python3")
        .arg(shared().join("tools/check_plan.py"))
        .arg(dir.join(instance))
        .arg(dir.join(plan))
        .output()
        .expect("python3 runs the independent checker");
    assert!(
        checker.status.success(),
        "check_plan.py refused {plan}: {}{}",
        String::from_utf8_lossy(&checker.stdout),
        String::from_utf8_lossy(&checker.stderr)
    );
    ok(
        dir,
        db,
        &["plan", "check", "--instance", instance, "--plan", plan],
    );
}

/// (departure, request, lot) of every allocation of a plan view.
fn loads(view: &serde_json::Value) -> Vec<(String, String, i64, i64, bool)> {
    let mut out = Vec::new();
    for d in view["departures"].as_array().unwrap() {
        for a in d["allocations"].as_array().unwrap() {
            out.push((
                d["code"].as_str().unwrap().to_string(),
                a["request"].as_str().unwrap().to_string(),
                a["lot_id"].as_i64().unwrap(),
                a["quantity"].as_i64().unwrap(),
                a["ready"].as_bool().unwrap(),
            ));
        }
    }
    out
}

fn keep_accepted(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, db, &["demo", "--no-serve"]);
    // Nothing accepted yet: there is nothing to keep.
    let error = refused(d, db, &["plan", "build", "--on", ON, "--keep-accepted"]);
    assert!(error.contains("accepted plan"), "{error}");

    // Flour on its way to the port, the only flour there is, for Mombasa.
    ok(
        d,
        db,
        &[
            "leg",
            "add",
            "--code",
            "IN-LATE-1",
            "--mode",
            "sea",
            "--origin",
            "AEJEA",
            "--node",
            "TARTUS-PORT",
            "--carrier",
            "Gulf Feeder Line",
            "--vehicle",
            "MV Test voy. 1",
            "--expected-arrival",
            "2025-04-04",
            "--donor",
            "QA-QFFD",
        ],
    );
    std::fs::write(
        d.join("flour.csv"),
        "Item code,Qty,Lot,Expiry date,Packs,Earmark\nWHEAT-FLOUR-50KG,400,W1,2027-06-30,40,\n",
    )
    .unwrap();
    ok(
        d,
        db,
        &["manifest", "import", "IN-LATE-1", "flour.csv", "--on", ON],
    );
    ok(
        d,
        db,
        &[
            "request",
            "add",
            "--code",
            "RQ-KEMBA-W1",
            "--destination",
            "KEMBA",
            "--item",
            "WHEAT-FLOUR-50KG",
            "--quantity",
            "400",
            "--priority",
            "1",
            "--needed-by",
            "2025-04-20",
            "--grace-days",
            "5",
        ],
    );

    let first = json(
        d,
        db,
        &["plan", "build", "--on", ON, "--time-limit", "1", "--json"],
    );
    let id = first["id"].as_i64().unwrap().to_string();
    let accepted = loads(&first);
    let flour = accepted
        .iter()
        .find(|l| l.1 == "RQ-KEMBA-W1")
        .cloned()
        .unwrap_or_else(|| panic!("the plan should carry the flour: {first}"));
    ok(d, db, &["plan", "accept", &id, "--on", ON]);

    // The flour's leg runs two days late and misses its sailing (it left on
    // the 5th); another departure of the plan is cancelled.
    let sailing = first["departures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == flour.0.as_str())
        .unwrap();
    assert_eq!(sailing["departs"], "2025-04-05", "{sailing}");
    ok(
        d,
        db,
        &[
            "leg",
            "reschedule",
            "IN-LATE-1",
            "--expected-arrival",
            "2025-04-06",
        ],
    );
    let cancelled = accepted
        .iter()
        .map(|l| l.0.clone())
        .find(|code| *code != flour.0)
        .unwrap();
    if accepted.iter().any(|l| l.0 == cancelled && l.4) {
        ok(
            d,
            db,
            &[
                "departure",
                "unload",
                &cancelled,
                "--reason",
                "charter cancelled",
                "--on",
                ON,
            ],
        );
    }
    ok(
        d,
        db,
        &[
            "departure",
            "cancel",
            &cancelled,
            "--reason",
            "aircraft grounded",
        ],
    );

    let second = json(
        d,
        db,
        &[
            "plan",
            "build",
            "--on",
            ON,
            "--keep-accepted",
            "--instance-out",
            "i2.json",
            "--plan-out",
            "p2.json",
            "--json",
        ],
    );
    check_both(d, db, "i2.json", "p2.json");
    let changes = &second["changes"];
    assert_eq!(changes["based_on"].as_i64().unwrap().to_string(), id);
    let list = changes["changes"].as_array().unwrap();
    assert_eq!(list.len(), accepted.len(), "one change per accepted load");
    let now = loads(&second);
    let mut kept = 0;
    for c in list {
        let departure = c["departure"].as_str().unwrap();
        let request = c["request"].as_str().unwrap();
        let change = c["change"].as_str().unwrap();
        if departure == cancelled {
            assert_ne!(change, "kept", "{c}");
            assert_eq!(c["reason_code"], "departure_cancelled", "{c}");
            assert_eq!(c["kept"], 0, "{c}");
        } else if request == "RQ-KEMBA-W1" {
            assert_eq!(change, "dropped", "no later sailing to KEMBA: {c}");
            assert_eq!(c["reason_code"], "stock_late", "{c}");
            assert!(c["reason"].as_str().unwrap().contains("IN-LATE-1"), "{c}");
        } else {
            // Every other load stays, in full, on its departure.
            assert_eq!(change, "kept", "{c}");
            assert_eq!(c["kept"], c["quantity"], "{c}");
            kept += 1;
            if c["loaded"] == false {
                let units: i64 = now
                    .iter()
                    .filter(|l| l.0 == departure && l.1 == request && l.2 == c["lot_id"])
                    .map(|l| l.3)
                    .sum();
                assert!(units >= c["quantity"].as_i64().unwrap(), "{c}");
            }
        }
        if change == "moved" {
            let to = c["moved_to"].as_array().unwrap();
            assert!(!to.is_empty() && !to.iter().any(|x| x == departure), "{c}");
        }
    }
    assert!(
        kept * 3 >= list.len() * 2,
        "most loads are kept: {kept} of {}",
        list.len()
    );
    assert_eq!(changes["kept"].as_u64().unwrap() as usize, kept);
    // The stored plan shows the same change list.
    let shown = json(
        d,
        db,
        &[
            "plan",
            "show",
            &second["id"].as_i64().unwrap().to_string(),
            "--json",
        ],
    );
    assert_eq!(shown["changes"], second["changes"]);
    ok(d, db, &["verify"]);
}

both_backends!(keep_accepted);
