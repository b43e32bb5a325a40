//! Reading scenario files: JSON and TOML say the same, and every bad file
//! is refused naming its field (a table of cases).

#![allow(clippy::unwrap_used)]

mod common;

use common::{facts, hub};
use reliefhub_whatif::{Change, Scenario, Syntax};

const TOML: &str = r#"
format = "reliefhub-scenario/1"
name = "Storm week"
seed = 3

[[changes]]
kind = "close_node"
node = "TARTUS-PORT"
from = "2025-04-02"
to = "2025-04-08"

[[changes]]
kind = "delay_departure"
departure = "AIR-2"
days = 2

[random]
charter_cancellation = 0.1
departure_delay = { median_days = 1.0, spread = 0.5 }
"#;

const JSON: &str = r#"{
  "format": "reliefhub-scenario/1",
  "name": "Storm week",
  "seed": 3,
  "changes": [
    {"kind": "close_node", "node": "TARTUS-PORT", "from": "2025-04-02", "to": "2025-04-08"},
    {"kind": "delay_departure", "departure": "AIR-2", "days": 2}
  ],
  "random": {"charter_cancellation": 0.1, "departure_delay": {"median_days": 1.0, "spread": 0.5}}
}"#;

#[test]
fn toml_and_json_read_the_same() {
    let t = Scenario::parse(TOML, Syntax::Toml).unwrap();
    let j = Scenario::parse(JSON, Syntax::Json).unwrap();
    assert_eq!(t, j);
    assert!(t.is_random());
    assert_eq!(t.changes.len(), 2);
    assert!(matches!(
        &t.changes[1],
        Change::DelayDeparture { days: 2, .. }
    ));
    assert!(t.check(&hub(), &facts()).is_empty());
    assert_eq!(Syntax::of_path("x/storm.TOML"), Syntax::Toml);
    assert_eq!(Syntax::of_path("storm.json"), Syntax::Json);
}

/// (case, file, the field named, the problem's code).
const BAD: &[(&str, &str, &str, &str)] = &[
    (
        "wrong format tag",
        r#"{"format": "reliefhub-plan-instance/1", "name": "x"}"#,
        "format",
        "wrong_format",
    ),
    ("no format tag", r#"{"name": "x"}"#, "format", "required"),
    (
        "unknown field at the top",
        r#"{"format": "reliefhub-scenario/1", "name": "x", "chagnes": []}"#,
        "chagnes",
        "unknown_field",
    ),
    (
        "unknown field in a change",
        r#"{"format": "reliefhub-scenario/1", "name": "x",
            "changes": [{"kind": "delay_departure", "departure": "SEA-1", "days": 2, "hours": 3}]}"#,
        "changes[0].hours",
        "unknown_field",
    ),
    (
        "unknown field in random",
        r#"{"format": "reliefhub-scenario/1", "name": "x", "random": {"charter_cancelation": 0.1}}"#,
        "random.charter_cancelation",
        "unknown_field",
    ),
    (
        "unknown kind of change",
        r#"{"format": "reliefhub-scenario/1", "name": "x", "changes": [{"kind": "flood", "node": "TARTUS-PORT"}]}"#,
        "changes[0].kind",
        "unknown_change_kind",
    ),
    (
        "missing field",
        r#"{"format": "reliefhub-scenario/1", "name": "x", "changes": [{"kind": "delay_leg", "leg": "LEG-1"}]}"#,
        "changes[0].days",
        "required",
    ),
    (
        "unknown node",
        r#"{"format": "reliefhub-scenario/1", "name": "x", "changes": [{"kind": "close_node", "node": "LATAKIA-PORT"}]}"#,
        "changes[0].node",
        "unknown_reference",
    ),
    (
        "unknown departure",
        r#"{"format": "reliefhub-scenario/1", "name": "x", "changes": [{"kind": "cancel_departure", "departure": "SEA-9"}]}"#,
        "changes[0].departure",
        "unknown_reference",
    ),
    (
        "unknown leg",
        r#"{"format": "reliefhub-scenario/1", "name": "x", "changes": [{"kind": "lose_leg", "leg": "LEG-9"}]}"#,
        "changes[0].leg",
        "unknown_reference",
    ),
    (
        "unknown pledge",
        r#"{"format": "reliefhub-scenario/1", "name": "x", "changes": [{"kind": "withdraw_pledge", "pledge": "PL-9"}]}"#,
        "changes[0].pledge",
        "unknown_reference",
    ),
    (
        "unknown destination",
        r#"{"format": "reliefhub-scenario/1", "name": "x", "changes": [{"kind": "multiply_requests", "destination": "XXABC", "factor": 2}]}"#,
        "changes[0].destination",
        "unknown_reference",
    ),
    (
        "negative days",
        r#"{"format": "reliefhub-scenario/1", "name": "x", "changes": [{"kind": "delay_departure", "departure": "SEA-1", "days": -3}]}"#,
        "changes[0].days",
        "out_of_range",
    ),
    (
        "negative factor",
        r#"{"format": "reliefhub-scenario/1", "name": "x", "changes": [{"kind": "costs", "factor": -1}]}"#,
        "changes[0].factor",
        "out_of_range",
    ),
    (
        "a closure ending before it starts",
        r#"{"format": "reliefhub-scenario/1", "name": "x", "changes": [{"kind": "close_node", "node": "TARTUS-PORT", "from": "2025-04-05", "to": "2025-04-01"}]}"#,
        "changes[0].to",
        "out_of_range",
    ),
    (
        "not a date",
        r#"{"format": "reliefhub-scenario/1", "name": "x", "changes": [{"kind": "close_node", "node": "TARTUS-PORT", "from": "5 April"}]}"#,
        "changes[0].from",
        "not_a_date",
    ),
    (
        "a probability above 1",
        r#"{"format": "reliefhub-scenario/1", "name": "x", "random": {"charter_cancellation": 1.5}}"#,
        "random.charter_cancellation",
        "out_of_range",
    ),
    (
        "a negative spread",
        r#"{"format": "reliefhub-scenario/1", "name": "x", "random": {"leg_delay": {"median_days": 2, "spread": -1}}}"#,
        "random.leg_delay.spread",
        "out_of_range",
    ),
    (
        "priority out of range",
        r#"{"format": "reliefhub-scenario/1", "name": "x", "changes": [{"kind": "add_request", "destination": "SDPZU", "item": "TENT", "quantity": 5, "priority": 9, "needed_by": "2025-04-20"}]}"#,
        "changes[0].priority",
        "out_of_range",
    ),
    (
        "not JSON at all",
        "{format = 1",
        "line 1 column 2",
        "syntax_error",
    ),
];

#[test]
fn bad_files_are_refused_naming_the_field() {
    for (case, text, field, code) in BAD {
        let problems = match Scenario::parse(text, Syntax::Json) {
            Err(problems) => problems,
            Ok(s) => s.check(&hub(), &facts()),
        };
        assert!(
            problems
                .iter()
                .any(|p| p.field == *field && p.code.as_str() == *code),
            "{case}: expected field {field} ({code}), got {problems:?}"
        );
        // Every problem says where.
        assert!(
            problems
                .iter()
                .all(|p| !p.field.is_empty() && !p.rule.is_empty()),
            "{case}"
        );
    }
}

#[test]
fn every_problem_of_a_file_is_listed_at_once() {
    let text = r#"{"format": "reliefhub-scenario/1", "name": "x", "changes": [
        {"kind": "close_node", "node": "NOWHERE"},
        {"kind": "delay_departure", "departure": "SEA-1", "days": -1},
        {"kind": "cancel_departure", "departure": "GONE-1"}]}"#;
    let problems = Scenario::parse(text, Syntax::Json)
        .unwrap()
        .check(&hub(), &facts());
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        ["changes[0].node", "changes[1].days", "changes[2].departure"]
    );
}

#[test]
fn toml_problems_name_the_field_too() {
    let unknown = "format = \"reliefhub-scenario/1\"\nname = \"x\"\n[[changes]]\nkind = \"lose_leg\"\nleg = \"LEG-1\"\ncolour = \"red\"\n";
    let problems = Scenario::parse(unknown, Syntax::Toml).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.field.ends_with("colour") && p.code.as_str() == "unknown_field"),
        "{problems:?}"
    );
    let wrong = "format = \"reliefhub-scenario/2\"\nname = \"x\"\n";
    let problems = Scenario::parse(wrong, Syntax::Toml).unwrap_err();
    assert_eq!(
        (problems[0].field.as_str(), problems[0].code.as_str()),
        ("format", "wrong_format")
    );
    let broken = "format = \"reliefhub-scenario/1\"\nname = \n";
    let problems = Scenario::parse(broken, Syntax::Toml).unwrap_err();
    assert_eq!(problems[0].code.as_str(), "syntax_error");
    assert!(problems[0].field.starts_with("line 2"), "{problems:?}");
}
