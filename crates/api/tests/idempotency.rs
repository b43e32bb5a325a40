//! Idempotency-Key through the real server: 1,000 mutating requests (stock
//! moves through the ledger, pledges, and document-only requests), each
//! replayed 1 to 5 times, a third of them with a replay racing the first
//! call. Exactly 1,000 effects; every replay gets the first answer, byte for
//! byte; a racing replay gets the first answer or 409; the same key with
//! another body gets 409.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{Client, Server, DONOR_A};
use serde_json::{json, Value};

fn operation(i: usize, lot_id: i64) -> (String, Value) {
    match i % 3 {
        0 => (
            "/api/stock/quarantine".into(),
            json!({"node": "HMEIMIM-AIR", "lot_id": lot_id, "quantity": 1, "reason": format!("check {i}")}),
        ),
        1 => (
            "/api/pledges".into(),
            json!({"code": format!("PL-I{i}"), "donor": DONOR_A, "lines": [{"item": "ORS-CTN", "quantity": 1 + i}]}),
        ),
        _ => (
            "/api/requests".into(),
            json!({"code": format!("RQ-I{i}"), "destination": "SDPZU", "item": "RUTF-150", "quantity": 1 + i,
                   "priority": 3, "needed_by": "2025-05-01"}),
        ),
    }
}

fn replays(url: &str, count: usize) {
    common::seed(url, false);
    let server = Server::start(url);
    let c: Client = server.client();
    let op = c.login("operator");

    // Stock to act on: one large lot at the airfield.
    let leg = json!({"code": "IN-I", "mode": "air", "origin": "SVO", "node": "HMEIMIM-AIR", "carrier": "c",
        "reference": "r", "expected_arrival": "2025-03-05", "donor": DONOR_A});
    assert_eq!(c.post("/api/legs", &op, "leg", &leg).status, 201);
    let manifest = json!({"lines": [{"item": "RUTF-150", "quantity": 100000, "batch": "B", "expiry": "2028-01-01"}]});
    assert_eq!(
        c.post("/api/legs/IN-I/manifest", &op, "manifest", &manifest)
            .status,
        201
    );
    let receipt = json!({"received_by": "t", "rest_as_manifested": true, "lines": []});
    let r = c.post("/api/legs/IN-I/receipt", &op, "receipt", &receipt);
    assert_eq!(r.status, 201, "{}", r.text);
    let lot_id = c.get("/api/stock?item=RUTF-150", &op).json[0]["lot_id"]
        .as_i64()
        .unwrap();

    let before_requests = c.get("/api/requests", &op).json.as_array().unwrap().len();
    let before_pledges = c.get("/api/pledges", &op).json.as_array().unwrap().len();

    let c = Arc::new(c);
    let op = Arc::new(op);
    let workers = 8;
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let c = c.clone();
            let op = op.clone();
            std::thread::spawn(move || {
                let mut problems = Vec::new();
                for i in (w..count).step_by(workers) {
                    let (path, body) = operation(i, lot_id);
                    let key = format!("op-{i}");
                    let times = 1 + i % 5;
                    // The first call, raced by a replay for every third op.
                    let (first, raced) = if i % 3 == 0 {
                        let (c2, op2, path2, body2, key2) = (
                            c.clone(),
                            op.clone(),
                            path.clone(),
                            body.clone(),
                            key.clone(),
                        );
                        let racer =
                            std::thread::spawn(move || c2.post(&path2, &op2, &key2, &body2));
                        let first = c.post(&path, &op, &key, &body);
                        (first, Some(racer.join().unwrap()))
                    } else {
                        (c.post(&path, &op, &key, &body), None)
                    };
                    let (first, mut others) = match raced {
                        Some(r) if first.status == 409 => (r, vec![]),
                        Some(r) => (first, vec![r]),
                        None => (first, vec![]),
                    };
                    if !(200..300).contains(&first.status) {
                        problems.push(format!(
                            "op {i}: first call {} {}",
                            first.status, first.text
                        ));
                        continue;
                    }
                    for _ in 1..times {
                        others.push(c.post(&path, &op, &key, &body));
                    }
                    for (n, r) in others.iter().enumerate() {
                        let racing = n == 0 && i % 3 == 0;
                        if racing && r.status == 409 {
                            continue;
                        }
                        if r.status != first.status || r.text != first.text {
                            problems.push(format!(
                                "op {i}: replay {n} answered {} {} instead of {} {}",
                                r.status, r.text, first.status, first.text
                            ));
                        }
                    }
                    if i % 100 == 7 {
                        let mut other = body.clone();
                        other["reason"] = json!("another body");
                        other["quantity"] = json!(2);
                        let r = c.post(&path, &op, &key, &other);
                        if r.status != 409 || !r.text.contains("idempotency_key_reused") {
                            problems.push(format!(
                                "op {i}: another body under the key answered {} {}",
                                r.status, r.text
                            ));
                        }
                    }
                }
                problems
            })
        })
        .collect();
    let problems: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems[..problems.len().min(20)].join("\n")
    );

    // Exactly one effect per operation.
    let quarantines = (0..count).filter(|i| i % 3 == 0).count() as i64;
    let pledges = (0..count).filter(|i| i % 3 == 1).count();
    let requests = (0..count).filter(|i| i % 3 == 2).count();
    let stock = c.get("/api/stock?item=RUTF-150", &op).json;
    let quarantined: i64 = stock
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "quarantine")
        .map(|r| r["quantity"].as_i64().unwrap())
        .sum();
    assert_eq!(
        quarantined, quarantines,
        "one unit quarantined per quarantine operation"
    );
    assert_eq!(
        c.get("/api/pledges", &op).json.as_array().unwrap().len() - before_pledges,
        pledges
    );
    assert_eq!(
        c.get("/api/requests", &op).json.as_array().unwrap().len() - before_requests,
        requests
    );
    assert_eq!(quarantines as usize + pledges + requests, count);

    // The ledger holds one batch per stock-moving operation and verifies.
    let auditor = c.login("auditor");
    let verdict = c.get("/api/verify", &auditor).json;
    assert_eq!(verdict["ok"], true, "{verdict}");
}

#[test]
fn sqlite_1000_operations_replayed() {
    let db = reliefhub_testkit::TestDb::sqlite();
    replays(&db.url, 1000);
}

#[test]
fn postgres_1000_operations_replayed() {
    let db = reliefhub_testkit::TestDb::postgres();
    replays(&db.url, 1000);
}
