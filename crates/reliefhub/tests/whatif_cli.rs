//! `reliefhub whatif` through the real binary on the demo's hub: bad
//! scenario files exit 2 naming the field and write nothing; a good one
//! prints the comparison, writes the report and the four charts, and leaves
//! the database as it was.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{ok, refused, run_in};

const ON: &str = "2025-03-31";

fn sqlite(dir: &Path) -> String {
    format!("sqlite:{}", dir.join("hub.db").display())
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    name.to_string()
}

#[test]
fn whatif_on_the_demo_hub() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let db = sqlite(dir);
    ok(dir, &db, &["demo", "--no-serve"]);
    let verified_before = ok(dir, &db, &["verify"]);
    let instance: serde_json::Value = {
        ok(
            dir,
            &db,
            &[
                "plan",
                "build",
                "--on",
                ON,
                "--time-limit",
                "0.2",
                "--instance-out",
                "i.json",
                "--json",
            ],
        );
        serde_json::from_str(&std::fs::read_to_string(dir.join("i.json")).unwrap()).unwrap()
    };
    let departure = instance["departures"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let verified_before = {
        // `plan build` stored a plan (a document, no stock moved); compare from here.
        let _ = verified_before;
        ok(dir, &db, &["verify"])
    };

    // Bad files: (file name, text, the field the error must name).
    let bad = [
        ("tag.json", r#"{"format": "reliefhub-scenario/9", "name": "x"}"#.to_string(), "field format"),
        (
            "field.json",
            r#"{"format": "reliefhub-scenario/1", "name": "x", "changes": [{"kind": "lose_leg", "leg": "L", "when": 1}]}"#.to_string(),
            "changes[0].when",
        ),
        (
            "node.toml",
            "format = \"reliefhub-scenario/1\"\nname = \"x\"\n[[changes]]\nkind = \"close_node\"\nnode = \"ATLANTIS-PORT\"\n".to_string(),
            "field changes[0].node, value ATLANTIS-PORT",
        ),
        (
            "departure.json",
            r#"{"format": "reliefhub-scenario/1", "name": "x", "changes": [{"kind": "cancel_departure", "departure": "NO-SUCH-DEP"}]}"#.to_string(),
            "field changes[0].departure, value NO-SUCH-DEP",
        ),
        (
            "days.json",
            format!(
                r#"{{"format": "reliefhub-scenario/1", "name": "x", "changes": [{{"kind": "delay_departure", "departure": "{departure}", "days": -2}}]}}"#
            ),
            "field changes[0].days, value -2",
        ),
    ];
    for (name, text, field) in &bad {
        let file = write(dir, name, text);
        let out = format!("out-{name}");
        let stderr = refused(
            dir,
            &db,
            &[
                "whatif",
                "--scenario",
                &file,
                "--on",
                ON,
                "--out",
                &out,
                "--moves",
                "200",
            ],
        );
        assert!(stderr.contains(field), "{name}: {stderr}");
        assert!(
            stderr.contains(name),
            "{name}: the file is not named: {stderr}"
        );
        assert!(!dir.join(&out).exists(), "{name}: wrote its output");
    }
    assert_eq!(ok(dir, &db, &["verify"]), verified_before);

    // A good scenario: the port closed for a week, and random delays.
    let good = write(
        dir,
        "storm.toml",
        &format!(
            "format = \"reliefhub-scenario/1\"\nname = \"storm\"\nseed = 5\n\n[[changes]]\nkind = \"close_node\"\nnode = \"TARTUS-PORT\"\nfrom = \"{ON}\"\nto = \"2025-04-07\"\n\n[random]\ndeparture_delay = {{ median_days = 1.0, spread = 0.5 }}\n"
        ),
    );
    let r = run_in(
        dir,
        &db,
        &[
            "whatif",
            "--scenario",
            &good,
            "--on",
            ON,
            "--runs",
            "4",
            "--moves",
            "300",
            "--json",
            "--out",
            "charts",
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["format"], "reliefhub-whatif-report/1");
    assert_eq!(report["baseline"]["runs"], 1);
    assert_eq!(report["scenarios"][0]["runs"], 4);
    assert_eq!(report["scenarios"][0]["random"], true);
    assert!(
        report["baseline"]["figures"]["value_delivered"]["p50"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    for chart in ["value.svg", "fan.svg", "shortfall.svg", "timeline.svg"] {
        let svg = std::fs::read_to_string(dir.join("charts").join(chart)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("</svg>"), "{chart}");
    }
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("charts/report.json")).unwrap())
            .unwrap();
    assert_eq!(saved, report);
    // The text report names every column.
    let text = ok(
        dir,
        &db,
        &[
            "whatif",
            "--scenario",
            &good,
            "--on",
            ON,
            "--runs",
            "2",
            "--moves",
            "300",
        ],
    );
    assert!(
        text.contains("aid value delivered") && text.contains("storm"),
        "{text}"
    );
    // Nothing was written to the database.
    assert_eq!(ok(dir, &db, &["verify"]), verified_before);
}
