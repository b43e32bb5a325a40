//! The hub's workflow through the HTTP API, on SQLite and PostgreSQL: a
//! pledge, an inbound leg with its manifest and receipt, stock, a hub
//! transfer, a request, a departure loaded, flown and delivered, reports,
//! planning, verification; sign-in, logout, disabled users, rate limits,
//! error bodies and the OpenAPI document.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Client, Server, DONOR_A};
use serde_json::{json, Value};

fn ok(reply: &common::Reply, status: u16, what: &str) -> Value {
    assert_eq!(reply.status, status, "{what}: {}", reply.text);
    reply.json.clone()
}

fn workflow(url: &str) {
    common::seed(url, false);
    let server = Server::start(url);
    let c: Client = server.client();

    // Public routes and sign-in.
    let health = ok(
        &c.send("GET", "/api/health", None, None, None),
        200,
        "health",
    );
    assert_eq!(health["status"], "ok");
    assert_eq!(health["journal_entries"], 0);
    assert_eq!(
        health["today"],
        common::DEMO_TODAY,
        "the health check tells the hub's date"
    );
    assert_eq!(c.send("GET", "/api/me", None, None, None).status, 401);
    let op = c.login("operator");
    assert!(op.len() >= 32, "a token of at least 128 bits in hex");
    let me = ok(&c.get("/api/me", &op), 200, "me");
    assert_eq!(me["role"], "operator");

    // A pledge by donor A's own user.
    let donor = c.login("donor-a");
    let pledge = json!({"code": format!("{DONOR_A}-T1"), "donor": DONOR_A, "pledged_on": "2025-03-01",
        "lines": [{"item": "RUTF-150", "quantity": 1000, "earmark": ["SD"]}, {"item": "ORS-CTN", "quantity": 200}]});
    ok(
        &c.post("/api/pledges", &donor, "pledge-1", &pledge),
        201,
        "pledge",
    );
    let pledges = ok(&c.get("/api/pledges", &donor), 200, "pledges");
    assert_eq!(pledges.as_array().unwrap().len(), 1);
    assert_eq!(pledges[0]["status"], "open");

    // Every problem of a bad request is listed, and nothing is written.
    let bad = c.post(
        "/api/departures",
        &op,
        "bad-dep",
        &json!({"code": "X", "node": "TARTUS-PORT", "destination": "SDPZU", "mode": "boat", "service": "later",
                "vehicle": "v", "departs": "2025-13-01", "arrives": "soon", "payload_kg": -1, "volume_m3": 10}),
    );
    assert_eq!(bad.status, 422, "{}", bad.text);
    let fields: Vec<&str> = bad.json["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    for field in ["mode", "service", "departs", "arrives", "payload_kg"] {
        assert!(fields.contains(&field), "{field} missing in {fields:?}");
    }
    // Each problem carries its rule's code, as the operations layer made it.
    let codes: Vec<&str> = bad.json["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    for code in ["not_a_mode", "not_a_service", "not_a_date", "not_a_number"] {
        assert!(codes.contains(&code), "{code} missing in {codes:?}");
    }
    assert_eq!(bad.json["error"]["code"], "validation");

    // An inbound leg, its manifest, its receipt.
    let leg = json!({"code": "IN-T1", "mode": "air", "origin": "SVO", "node": "HMEIMIM-AIR", "carrier": "Test Air",
        "reference": "TA100", "expected_arrival": "2025-03-05", "donor": DONOR_A});
    ok(&c.post("/api/legs", &op, "leg-1", &leg), 201, "leg");
    let manifest = json!({"lines": [
        {"item": "RUTF-150", "quantity": 600, "batch": "B1", "expiry": "2027-01-31", "earmark": ["SD"]},
        {"item": "ORS-CTN", "quantity": 200, "batch": "B2", "expiry": "2027-06-30"}]});
    let imported = ok(
        &c.post("/api/legs/IN-T1/manifest", &op, "manifest-1", &manifest),
        201,
        "manifest",
    );
    assert_eq!(imported["lines"], 2);
    assert_eq!(imported["total_quantity"], 800);
    // A bad manifest names every bad line and field.
    let bad = c.post(
        "/api/legs/IN-T1/manifest",
        &op,
        "manifest-bad",
        &json!({"lines": [{"item": "NOPE", "quantity": 5, "batch": "Z"}, {"item": "ORS-CTN", "quantity": -3, "batch": "Z"}]}),
    );
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(
        bad.json["error"]["problems"].as_array().unwrap().len() >= 2,
        "{}",
        bad.text
    );
    let receipt = json!({"received_by": "Hub team", "received_on": "2025-03-05",
        "lines": [{"line": 1, "counted": 590, "damaged": 10, "damaged_to": "quarantine"}, {"line": 2, "counted": 200}]});
    ok(
        &c.post("/api/legs/IN-T1/receipt", &op, "receipt-1", &receipt),
        201,
        "receipt",
    );
    let grn = ok(&c.get("/api/legs/IN-T1/grn", &op), 200, "grn");
    assert_eq!(grn["lines"].as_array().unwrap().len(), 2);
    assert_eq!(grn["lines"][0]["short"], 10);

    // Stock: 580 good RUTF at the airfield, 10 in quarantine.
    let stock = ok(
        &c.get("/api/stock?node=HMEIMIM-AIR&item=RUTF-150", &op),
        200,
        "stock",
    );
    let rows = stock.as_array().unwrap();
    let available = rows.iter().find(|r| r["state"] == "available").unwrap();
    assert_eq!(available["quantity"], 580);
    let rutf_lot = available["lot_id"].as_i64().unwrap();
    let ors_lot = ok(&c.get("/api/stock?item=ORS-CTN", &op), 200, "stock")[0]["lot_id"]
        .as_i64()
        .unwrap();
    let position = ok(&c.get("/api/stock/position", &op), 200, "position");
    assert_eq!(position["columns"][0], "node");
    assert!(!position["rows"].as_array().unwrap().is_empty());

    // Hub transfer of the ORS to the port and back.
    let transfer = json!({"code": "TR-T1", "from_node": "HMEIMIM-AIR", "to_node": "TARTUS-PORT", "vehicle": "truck",
        "lines": [{"lot_id": ors_lot, "quantity": 50}]});
    ok(
        &c.post("/api/transfers", &op, "tr-1", &transfer),
        201,
        "transfer",
    );
    // On the road, the ORS is still the hub's: in transit to the port.
    let moving = ok(
        &c.get("/api/stock?node=TARTUS-PORT&item=ORS-CTN", &op),
        200,
        "stock in transit",
    );
    assert_eq!(moving[0]["state"], "in transit", "{moving}");
    assert_eq!(moving[0]["document"], "TR-T1", "{moving}");
    assert_eq!(moving[0]["quantity"], 50, "{moving}");
    let position = ok(&c.get("/api/stock/position", &op), 200, "position");
    let columns = position["columns"].as_array().unwrap();
    let at = |name: &str| columns.iter().position(|c| c == name).unwrap();
    let port_ors = position["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[at("node")] == "TARTUS-PORT" && r[at("item")] == "ORS-CTN")
        .unwrap_or_else(|| panic!("the port's ORS in the position: {position}"));
    assert_eq!(port_ors[at("in_transit")], 50, "{position}");
    ok(
        &c.post(
            "/api/transfers/TR-T1/arrive",
            &op,
            "tr-1-arrive",
            &json!({}),
        ),
        201,
        "arrive",
    );
    let transfers = ok(&c.get("/api/transfers", &op), 200, "transfers");
    assert_eq!(transfers[0]["status"], "arrived");

    // A recipient files a request for their country; not for another.
    let rx = c.login("recipient-x");
    let request = json!({"code": "RQ-T1", "destination": "SDPZU", "item": "RUTF-150", "quantity": 300,
        "priority": 1, "needed_by": "2025-04-20", "grace_days": 5});
    ok(
        &c.post("/api/requests", &rx, "rq-1", &request),
        201,
        "request",
    );
    let foreign = json!({"code": "RQ-T2", "destination": "TDNDJ", "item": "RUTF-150", "quantity": 1,
        "priority": 1, "needed_by": "2025-04-20"});
    assert_eq!(c.post("/api/requests", &rx, "rq-2", &foreign).status, 403);

    // A departure, loaded, flown and delivered, with its proof of delivery.
    let departure = json!({"code": "AIR-T1", "node": "HMEIMIM-AIR", "destination": "SDPZU", "mode": "air",
        "service": "charter", "vehicle": "IL-76", "departs": "2025-03-30", "arrives": "2025-03-31",
        "payload_kg": 40000, "volume_m3": 150, "fixed_cost_usd": 90000, "cost_per_kg_usd": 0.5});
    ok(
        &c.post("/api/departures", &op, "dep-1", &departure),
        201,
        "departure",
    );
    let load = json!({"lines": [{"lot_id": rutf_lot, "quantity": 300, "request": "RQ-T1"}]});
    let loaded = ok(
        &c.post("/api/departures/AIR-T1/load", &op, "load-1", &load),
        201,
        "load",
    );
    assert!(loaded["transfer_count"].as_i64().unwrap() >= 1);
    ok(
        &c.post("/api/departures/AIR-T1/depart", &op, "depart-1", &json!({})),
        200,
        "depart",
    );
    let delivery = json!({"received_by": "SD-HAC Port Sudan", "received_on": "2025-03-31", "lines": [{"line": 1, "received": 298}]});
    ok(
        &c.post(
            "/api/departures/AIR-T1/deliver",
            &op,
            "deliver-1",
            &delivery,
        ),
        201,
        "deliver",
    );
    let pod = ok(
        &c.get("/api/departures/AIR-T1/pod", &rx),
        200,
        "pod (recipient)",
    );
    assert_eq!(pod["lines"][0]["received"], 298);
    let ry = c.login("recipient-y");
    assert_eq!(c.get("/api/departures/AIR-T1/pod", &ry).status, 404);
    let requests = ok(&c.get("/api/requests", &rx), 200, "requests");
    assert_eq!(requests[0]["status"], "partly met");
    assert_eq!(
        ok(&c.get("/api/requests", &ry), 200, "requests")
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // The donor follows their goods; reports.
    let journey = ok(&c.get("/api/donor/journey", &donor), 200, "journey");
    let lot = journey["lots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lot_id"] == rutf_lot)
        .unwrap();
    assert_eq!(lot["shipments"][0]["delivered"], 298);
    // The flows by stage: what the leg brought in (590 + 200 counted at the
    // airfield), what was delivered at Port Sudan (298 of 300).
    let flows = ok(&c.get("/api/flows", &donor), 200, "flows");
    let flows = flows.as_array().unwrap();
    assert!(flows.iter().all(|f| f["donor"] == DONOR_A), "{flows:?}");
    let stage =
        |name: &str| -> Vec<&Value> { flows.iter().filter(|f| f["stage"] == name).collect() };
    let received = stage("received");
    assert_eq!(received.len(), 1, "{flows:?}");
    assert_eq!(received[0]["node"], "HMEIMIM-AIR");
    assert_eq!(received[0]["units"], 790);
    let delivered = stage("delivered");
    assert_eq!(delivered.len(), 1, "{flows:?}");
    assert_eq!(delivered[0]["destination"], "SDPZU");
    assert_eq!(delivered[0]["units"], 298);
    ok(
        &c.get("/api/reports/inbound-pipeline", &op),
        200,
        "pipeline",
    );
    ok(&c.get("/api/reports/fulfilment", &rx), 200, "fulfilment");
    let statement = ok(
        &c.get(&format!("/api/reports/donor-statement/{DONOR_A}"), &donor),
        200,
        "statement",
    );
    assert_eq!(statement["donor"], DONOR_A);

    // Stock moves and a correction.
    ok(&c.post("/api/stock/quarantine", &op, "q-1",
        &json!({"node": "HMEIMIM-AIR", "lot_id": rutf_lot, "quantity": 5, "reason": "wet cartons"})), 201, "quarantine");
    ok(
        &c.post(
            "/api/stock/release",
            &op,
            "r-1",
            &json!({"node": "HMEIMIM-AIR", "lot_id": rutf_lot, "quantity": 5, "reason": "dried"}),
        ),
        201,
        "release",
    );
    ok(&c.post("/api/stock/count", &op, "c-1",
        &json!({"node": "HMEIMIM-AIR", "lines": [{"lot_id": rutf_lot, "counted": 278}], "reason": "cycle count"})), 201, "count");
    let over = c.post("/api/stock/write-off", &op, "w-1",
        &json!({"node": "HMEIMIM-AIR", "lot_id": rutf_lot, "quantity": 1_000_000, "loss": "stolen", "reason": "x"}));
    // Not enough stock: refused for the hub's data, 409.
    assert_eq!(over.status, 409, "{}", over.text);

    // Planning: propose, view, accept.
    let plan = ok(
        &c.post(
            "/api/plans",
            &op,
            "plan-1",
            &json!({"time_limit_s": 1, "seed": 3}),
        ),
        201,
        "plan",
    );
    let id = plan["id"].as_i64().unwrap();
    ok(&c.get(&format!("/api/plans/{id}"), &op), 200, "plan view");
    assert_eq!(
        ok(&c.get("/api/plans", &op), 200, "plans")
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let accepted = ok(
        &c.post(
            &format!("/api/plans/{id}/accept"),
            &op,
            "accept-1",
            &json!({}),
        ),
        200,
        "accept",
    );
    assert_eq!(accepted["status"], "accepted");

    // The auditor verifies; the operator may not.
    let auditor = c.login("auditor");
    let verdict = ok(&c.get("/api/verify", &auditor), 200, "verify");
    assert_eq!(verdict["ok"], true, "{verdict}");
    assert_eq!(c.get("/api/verify", &op).status, 403);

    // Logout revokes the token at once.
    assert_eq!(
        c.send("POST", "/api/logout", Some(&donor), None, None)
            .status,
        204
    );
    assert_eq!(c.get("/api/me", &donor).status, 401);

    // Disabling a user revokes their tokens.
    let admin = c.login("admin");
    let new_user = json!({"username": "clerk", "password": "clerk-password-1", "role": "operator"});
    ok(
        &c.post("/api/users", &admin, "u-1", &new_user),
        201,
        "add user",
    );
    let clerk = c.login("clerk");
    assert_eq!(c.get("/api/me", &clerk).status, 200);
    ok(
        &c.post("/api/users/clerk/disable", &admin, "u-2", &json!({})),
        200,
        "disable",
    );
    assert_eq!(c.get("/api/me", &clerk).status, 401);
    let users = ok(&c.get("/api/users", &admin), 200, "users");
    assert!(users
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["username"] == "clerk" && u["disabled"] == true));

    // Failed logins are limited per username: the sixth is refused even
    // with the right password.
    for _ in 0..5 {
        let r = c.send(
            "POST",
            "/api/login",
            None,
            None,
            Some(&json!({"username": "auditor", "password": "wrong"})),
        );
        assert_eq!(r.status, 401);
        assert_eq!(r.json["error"]["code"], "unauthorized");
    }
    let r = c.send(
        "POST",
        "/api/login",
        None,
        None,
        Some(&json!({"username": "auditor", "password": common::password("auditor")})),
    );
    assert_eq!(r.status, 429, "{}", r.text);

    // Mutations need an Idempotency-Key.
    let r = c.send(
        "POST",
        "/api/stock/quarantine",
        Some(&op),
        None,
        Some(&json!({"node": "HMEIMIM-AIR", "lot_id": rutf_lot, "quantity": 1, "reason": "x"})),
    );
    assert_eq!(r.status, 400, "{}", r.text);

    // The OpenAPI document and the docs page are served.
    let doc = ok(
        &c.send("GET", "/api/openapi.json", None, None, None),
        200,
        "openapi",
    );
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert_eq!(c.send("GET", "/api/docs/", None, None, None).status, 200);
    assert_eq!(c.send("GET", "/", None, None, None).status, 200);

    // The ledger still verifies after everything.
    let verdict = ok(&c.get("/api/verify", &admin), 200, "verify");
    assert_eq!(verdict["ok"], true, "{verdict}");
}

/// An internal error is answered with an id and no details.
fn internal_errors_hide_details(url: &str) {
    common::seed(url, false);
    let server = Server::start(url);
    let c = server.client();
    let op = c.login("operator");
    let r = c.get("/api/plans/99999", &op);
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.json["error"]["status"], 404);
    // Break the database under the server: reads fail inside, the answer is
    // a 500 with an id, and neither SQL nor table names leak.
    let mut store = reliefhub_store::Store::open(url).unwrap();
    store
        .conn()
        .batch_execute("DROP TABLE pledge_lines")
        .unwrap();
    let r = c.get("/api/pledges", &op);
    assert_eq!(r.status, 500, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "internal");
    assert!(r.json["error"]["id"]
        .as_str()
        .is_some_and(|id| id.len() == 36));
    assert!(
        !r.text.contains("pledge_lines") && !r.text.to_lowercase().contains("select"),
        "{}",
        r.text
    );
}

reliefhub_testkit::both_backends!(workflow, internal_errors_hide_details);
