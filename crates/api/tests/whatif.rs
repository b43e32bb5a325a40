//! `POST /api/whatif` on the demo hub (SQLite): a bad scenario is refused
//! with the field named, a good one answers the comparison, and nothing is
//! written to the ledger.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Client, Server};
use serde_json::json;

fn journal_entries(c: &Client) -> i64 {
    c.send("GET", "/api/health", None, None, None).json["journal_entries"]
        .as_i64()
        .unwrap()
}

#[test]
fn whatif_answers_the_comparison_and_writes_nothing() {
    let db = reliefhub_testkit::TestDb::sqlite();
    common::seed(&db.url, true);
    let server = Server::start(&db.url);
    let c = server.client();
    let op = c.login("operator");
    let before = journal_entries(&c);

    let bad = c.post(
        "/api/whatif",
        &op,
        "whatif-bad",
        &json!({"scenario": {"format": "reliefhub-scenario/1", "name": "x",
            "changes": [{"kind": "close_node", "node": "ATLANTIS"}, {"kind": "delay_leg", "leg": "NOPE", "days": -1}]}}),
    );
    assert_eq!(bad.status, 422, "{}", bad.text);
    let fields: Vec<&str> = bad.json["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"scenario.changes[0].node"), "{fields:?}");
    assert!(fields.contains(&"scenario.changes[1].days"), "{fields:?}");
    let unknown = c.post(
        "/api/whatif",
        &op,
        "whatif-unknown",
        &json!({"scenario": {"format": "reliefhub-scenario/1", "name": "x", "colour": "red"}}),
    );
    assert_eq!(unknown.status, 422, "{}", unknown.text);
    assert_eq!(
        unknown.json["error"]["problems"][0]["field"],
        "scenario.colour"
    );

    let good = c.post(
        "/api/whatif",
        &op,
        "whatif-good",
        &json!({"scenario": {"format": "reliefhub-scenario/1", "name": "port closed",
                "changes": [{"kind": "close_node", "node": "TARTUS-PORT"}],
                "random": {"charter_cancellation": 0.3}},
               "runs": 3, "time_limit_s": 0.2}),
    );
    assert_eq!(good.status, 200, "{}", good.text);
    let report = &good.json;
    assert_eq!(report["format"], "reliefhub-whatif-report/1");
    assert_eq!(report["baseline"]["runs"], 1);
    assert_eq!(report["scenarios"][0]["runs"], 3);
    // Nothing leaves the closed port.
    let loaded = &report["scenarios"][0]["loaded_kg_by_node"];
    assert!(
        loaded["TARTUS-PORT"].as_f64().unwrap_or(0.0) == 0.0,
        "{loaded}"
    );
    assert_eq!(journal_entries(&c), before);
    // Recipients and donors may not run it.
    let recipient = c.login("recipient-x");
    let denied = c.post(
        "/api/whatif",
        &recipient,
        "whatif-denied",
        &json!({"scenario": {"format": "reliefhub-scenario/1", "name": "x"}}),
    );
    assert_eq!(denied.status, 403, "{}", denied.text);
}
