//! The authorization matrix (`authz.csv`: route x role -> allow, own, deny)
//! checked against the real server on the demo hub: every route x
//! {anonymous, admin, operator, donor A, donor B, recipient X, recipient Y,
//! auditor} x {own object, another's}. Any difference fails the test, as
//! does a route the router serves that the matrix lacks (or the reverse).
//! Donor B must never see an id of donor A's in any response. On list
//! routes, "own" shows no other side's rows, and neither "allow" nor "own"
//! hides a side's rows that the administrator's list shows (so a list
//! scoped where the matrix allows all, or empty where it allows own rows,
//! is a difference too).

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use common::{Client, Reply, Server, COUNTRY_X, COUNTRY_Y, DONOR_A, DONOR_B};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Allow,
    Own,
    Deny,
}

fn matrix() -> BTreeMap<String, BTreeMap<String, Rule>> {
    let text = include_str!("../authz.csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let mut out = BTreeMap::new();
    for record in reader.records() {
        let record = record.unwrap();
        let mut roles = BTreeMap::new();
        for (i, cell) in record.iter().enumerate().skip(1) {
            let rule = match cell {
                "allow" => Rule::Allow,
                "own" => Rule::Own,
                "deny" => Rule::Deny,
                other => panic!("authz.csv: `{other}` is not allow, own or deny"),
            };
            roles.insert(headers[i].clone(), rule);
        }
        out.insert(record[0].to_string(), roles);
    }
    out
}

#[test]
fn the_matrix_names_exactly_the_routes_the_router_serves() {
    let in_matrix: BTreeSet<String> = matrix().into_keys().collect();
    let served: BTreeSet<String> = reliefhub_api::route_list().into_iter().collect();
    let missing: Vec<_> = served.difference(&in_matrix).collect();
    let extra: Vec<_> = in_matrix.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "routes served but missing from authz.csv: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "routes in authz.csv that the router does not serve: {extra:?}"
    );
}

/// Who calls: the matrix column, and which party is "own".
struct Caller {
    name: &'static str,
    column: &'static str,
    username: Option<&'static str>,
    token: Option<String>,
    /// 0: the A/X side is own, 1: the B/Y side.
    side: usize,
}

/// The demo's objects of each side: [A/X, B/Y].
struct Objects {
    donors: [&'static str; 2],
    countries: [&'static str; 2],
    destinations: [&'static str; 2],
    pledges: [String; 2],
    legs: [String; 2],
    donor_departures: [String; 2],
    country_departures: [String; 2],
    plan_id: i64,
}

static NEXT: AtomicU64 = AtomicU64::new(1);

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::SeqCst))
}

fn departure_donors(c: &Client, op: &str, code: &str) -> BTreeSet<String> {
    c.get(&format!("/api/departures/{code}"), op).json["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["donor"].as_str().unwrap().to_string())
        .collect()
}

fn discover(c: &Client, op: &str) -> Objects {
    let departures = c.get("/api/departures", op).json;
    let delivered: Vec<Value> = departures
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "delivered")
        .cloned()
        .collect();
    let only = |donor: &str| -> String {
        delivered
            .iter()
            .map(|d| d["code"].as_str().unwrap().to_string())
            .find(|code| departure_donors(c, op, code) == BTreeSet::from([donor.to_string()]))
            .unwrap_or_else(|| {
                panic!("the demo has no delivered departure carrying only {donor}'s goods")
            })
    };
    let to = |country: &str| -> String {
        delivered
            .iter()
            .find(|d| d["country"] == country)
            .unwrap_or_else(|| panic!("no delivered departure to {country}"))["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let legs = c.get("/api/legs", op).json;
    let leg_of = |donor: &str| -> String {
        legs.as_array()
            .unwrap()
            .iter()
            .filter(|l| l["donor"] == donor && l["status"] == "received")
            .map(|l| l["code"].as_str().unwrap().to_string())
            .find(|code| {
                c.get(&format!("/api/legs/{code}"), op).json["manifest"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|m| m["donor"] == donor)
            })
            .unwrap_or_else(|| panic!("no received leg carrying only {donor}'s goods"))
    };
    let pledge_of = |donor: &str| -> String {
        c.get("/api/pledges", op)
            .json
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["donor"] == donor)
            .unwrap()["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let plan = c.post(
        "/api/plans",
        op,
        &unique("plan"),
        &json!({"time_limit_s": 0.5}),
    );
    assert_eq!(plan.status, 201, "{}", plan.text);
    Objects {
        donors: [DONOR_A, DONOR_B],
        countries: [COUNTRY_X, COUNTRY_Y],
        destinations: ["SDPZU", "TDNDJ"],
        pledges: [pledge_of(DONOR_A), pledge_of(DONOR_B)],
        legs: [leg_of(DONOR_A), leg_of(DONOR_B)],
        donor_departures: [only(DONOR_A), only(DONOR_B)],
        country_departures: [to(COUNTRY_X), to(COUNTRY_Y)],
        plan_id: plan.json["id"].as_i64().unwrap(),
    }
}

/// The request for `route` aimed at side `side`'s object, as `caller`.
/// Returns (method, path, body, token); some routes prepare a fresh object
/// first (as the operator) so that each call has something to act on.
#[allow(clippy::too_many_arguments)]
fn build(
    c: &Client,
    op: &str,
    admin: &str,
    route: &str,
    caller: &Caller,
    side: usize,
    o: &Objects,
) -> (String, String, Option<Value>, Option<String>) {
    let (method, template) = route.split_once(' ').unwrap();
    let donor = o.donors[side];
    let departure = if caller.column == "recipient" {
        &o.country_departures[side]
    } else {
        &o.donor_departures[side]
    };
    let mut token = caller.token.clone();
    let mut body = if method == "POST" {
        Some(json!({}))
    } else {
        None
    };
    let path = match template {
        "/api/login" => {
            let username = caller.username.unwrap_or("operator");
            body = Some(json!({"username": username, "password": common::password(username)}));
            template.to_string()
        }
        "/api/logout" => {
            if let Some(username) = caller.username {
                token = Some(c.login(username));
            }
            template.to_string()
        }
        "/api/pledges" if method == "POST" => {
            body = Some(
                json!({"code": unique(&format!("{donor}-PL-M")), "donor": donor, "lines": [{"item": "RUTF-150", "quantity": 10}]}),
            );
            template.to_string()
        }
        "/api/pledges/{code}" => format!("/api/pledges/{}", o.pledges[side]),
        "/api/pledges/{code}/cancel" => {
            let code = unique(&format!("{donor}-PL-C"));
            let made = c.post("/api/pledges", op, &unique("k"),
                &json!({"code": code, "donor": donor, "lines": [{"item": "RUTF-150", "quantity": 10}]}));
            assert_eq!(made.status, 201, "{}", made.text);
            body = Some(json!({"reason": "test"}));
            format!("/api/pledges/{code}/cancel")
        }
        "/api/legs" if method == "POST" => {
            body = Some(
                json!({"code": unique("IN-M"), "mode": "air", "origin": "DOH", "node": "HMEIMIM-AIR",
                "carrier": "c", "reference": "r", "expected_arrival": "2025-04-10"}),
            );
            template.to_string()
        }
        "/api/legs/{code}" | "/api/legs/{code}/grn" => template.replace("{code}", &o.legs[side]),
        "/api/legs/{code}/manifest" => {
            body = Some(
                json!({"lines": [{"item": "RUTF-150", "quantity": 5, "batch": "M", "donor": donor}]}),
            );
            template.replace("{code}", &o.legs[side])
        }
        "/api/legs/{code}/receipt" => {
            body = Some(json!({"received_by": "t", "lines": [{"line": 1, "counted": 1}]}));
            template.replace("{code}", &o.legs[side])
        }
        "/api/stock/quarantine" | "/api/stock/release" => {
            body = Some(json!({"node": "TARTUS-PORT", "lot_id": 1, "quantity": 1, "reason": "t"}));
            template.to_string()
        }
        "/api/stock/write-off" => {
            body = Some(
                json!({"node": "TARTUS-PORT", "lot_id": 1, "quantity": 1, "loss": "damaged", "reason": "t"}),
            );
            template.to_string()
        }
        "/api/stock/count" => {
            body = Some(
                json!({"node": "TARTUS-PORT", "lines": [{"lot_id": 1, "counted": 0}], "reason": "t"}),
            );
            template.to_string()
        }
        "/api/stock/expiry" => "/api/stock/expiry?days=400".to_string(),
        "/api/transfers" if method == "POST" => {
            body = Some(
                json!({"code": unique("TR-M"), "from_node": "TARTUS-PORT", "to_node": "HMEIMIM-AIR",
                "vehicle": "t", "lines": [{"lot_id": 1, "quantity": 1}]}),
            );
            template.to_string()
        }
        "/api/transfers/{code}/arrive" => "/api/transfers/TR-001/arrive".to_string(),
        "/api/requests" if method == "POST" => {
            body = Some(
                json!({"code": unique("RQ-M"), "destination": o.destinations[side], "item": "RUTF-150",
                "quantity": 5, "priority": 2, "needed_by": "2025-04-30"}),
            );
            template.to_string()
        }
        "/api/requests/{code}/cancel" => {
            let code = unique("RQ-C");
            let made = c.post(
                "/api/requests",
                op,
                &unique("k"),
                &json!({"code": code, "destination": o.destinations[side], "item": "RUTF-150",
                        "quantity": 5, "priority": 2, "needed_by": "2025-04-30"}),
            );
            assert_eq!(made.status, 201, "{}", made.text);
            format!("/api/requests/{code}/cancel")
        }
        "/api/requests/{code}/must-ship" => {
            let code = unique("RQ-S");
            let made = c.post(
                "/api/requests",
                op,
                &unique("k"),
                &json!({"code": code, "destination": o.destinations[side], "item": "RUTF-150",
                        "quantity": 5, "priority": 2, "needed_by": "2025-04-30"}),
            );
            assert_eq!(made.status, 201, "{}", made.text);
            body = Some(json!({"must_ship": true}));
            format!("/api/requests/{code}/must-ship")
        }
        "/api/departures" if method == "POST" => {
            body = Some(
                json!({"code": unique("DEP-M"), "node": "HMEIMIM-AIR", "destination": o.destinations[side],
                "mode": "air", "service": "charter", "vehicle": "v", "departs": "2025-04-20", "arrives": "2025-04-21",
                "payload_kg": 1000, "volume_m3": 10}),
            );
            template.to_string()
        }
        "/api/departures/{code}"
        | "/api/departures/{code}/pod"
        | "/api/departures/{code}/pod.pdf"
        | "/api/departures/{code}/waybill.pdf"
        | "/api/departures/{code}/loading-list.pdf" => template.replace("{code}", departure),
        "/api/legs/{code}/grn.pdf" => template.replace("{code}", &o.legs[side]),
        "/api/reports/donor-statement/{donor}/statement.pdf" => {
            format!("/api/reports/donor-statement/{donor}/statement.pdf")
        }
        "/api/departures/{code}/load" => {
            body = Some(json!({"lines": [{"lot_id": 1, "quantity": 1}]}));
            template.replace("{code}", "NEXT-AIR-01")
        }
        "/api/departures/{code}/unload" => {
            body = Some(json!({"reason": "t"}));
            template.replace("{code}", "NEXT-AIR-01")
        }
        "/api/departures/{code}/depart" => template.replace("{code}", "NEXT-AIR-02"),
        "/api/departures/{code}/deliver" => {
            body = Some(json!({"received_by": "t"}));
            template.replace("{code}", "NEXT-AIR-03")
        }
        "/api/corrections" => {
            body = Some(json!({"entry_seq": 999999, "reason": "t"}));
            template.to_string()
        }
        "/api/reports/donor-statement/{donor}" => format!("/api/reports/donor-statement/{donor}"),
        "/api/donors/{code}/proof" => format!("/api/donors/{donor}/proof"),
        "/api/log/consistency" => "/api/log/consistency?from=1&to=2".to_string(),
        "/api/donor/journey" => format!("/api/donor/journey?donor={donor}"),
        "/api/plans" if method == "POST" => {
            body = Some(json!({"time_limit_s": 0.2}));
            template.to_string()
        }
        "/api/whatif" => {
            body = Some(
                json!({"scenario": {"format": "reliefhub-scenario/1", "name": "authz"}, "time_limit_s": 0.1}),
            );
            template.to_string()
        }
        "/api/plans/{id}" | "/api/plans/{id}/accept" => {
            template.replace("{id}", &o.plan_id.to_string())
        }
        "/api/items" if method == "POST" => {
            body = Some(
                json!({"code": unique("ITEM"), "name": "Test item", "category": "wash",
                "unit": "piece", "unit_weight_kg": 1.5, "unit_volume_m3": 0.01}),
            );
            template.to_string()
        }
        "/api/items/{code}" => {
            body = Some(json!({"value_usd_per_unit": 51.0}));
            template.replace("{code}", "RUTF-150")
        }
        "/api/organisations" if method == "POST" => {
            body = Some(
                json!({"code": unique("ORG"), "name": "Test donor", "kind": "donor", "country": "JP"}),
            );
            template.to_string()
        }
        "/api/organisations/{code}" => {
            body = Some(json!({"name_fr": "Commission d'aide humanitaire, Soudan"}));
            template.replace("{code}", "SD-HAC")
        }
        "/api/destinations" if method == "POST" => {
            // A UN/LOCODE of its own per call: JP and three letters.
            let n = NEXT.fetch_add(1, Ordering::SeqCst);
            let place: String = [n / 676 % 26, n / 26 % 26, n % 26]
                .iter()
                .map(|d| char::from(b'A' + *d as u8))
                .collect();
            body = Some(json!({"locode": format!("JP{place}"), "name": "Test place",
                "latitude_deg": 35.0, "longitude_deg": 139.0}));
            template.to_string()
        }
        "/api/destinations/{locode}" => {
            body = Some(json!({"name_fr": "Kinshasa"}));
            template.replace("{locode}", "CDFIH")
        }
        "/api/users" if method == "POST" => {
            body = Some(
                json!({"username": unique("user"), "password": "a-long-password", "role": "auditor"}),
            );
            template.to_string()
        }
        "/api/users/{username}/disable" | "/api/users/{username}/enable" => {
            let username = unique("victim");
            let made = c.post(
                "/api/users",
                admin,
                &unique("k"),
                &json!({"username": username, "password": "a-long-password", "role": "auditor"}),
            );
            assert_eq!(made.status, 201, "{}", made.text);
            template.replace("{username}", &username)
        }
        other if other.contains('{') => panic!("the test has no object for {route}"),
        other => other.to_string(),
    };
    (method.to_string(), path, body, token)
}

/// Routes whose "own" rule filters a list rather than guarding one object.
fn is_list(route: &str) -> bool {
    route.starts_with("GET ") && !route.contains('{') && route != "GET /api/donor/journey"
}

/// Calls `f` with every key and value of a JSON document, depth first.
fn walk(v: &Value, f: &mut dyn FnMut(&str, &Value)) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                f(k, x);
                walk(x, f);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| walk(x, f)),
        _ => {}
    }
}

/// Which sides' data a list shows, by donor (`[0]`) and by recipient
/// country (`[1]`): `seen[dimension][side]`.
fn sides_seen(reply: &Reply, o: &Objects) -> [[bool; 2]; 2] {
    let mut seen = [[false; 2]; 2];
    walk(&reply.json, &mut |key, value| {
        let text = value.as_str().unwrap_or("");
        let (dimension, side) = match key {
            "donor" => (0, o.donors.iter().position(|d| *d == text)),
            "country" => (1, o.countries.iter().position(|c| *c == text)),
            "destination" => (1, o.countries.iter().position(|c| text.starts_with(c))),
            _ => return,
        };
        if let Some(side) = side {
            seen[dimension][side] = true;
        }
    });
    if let Some(rows) = reply.json["rows"].as_array() {
        for row in rows {
            let dest = row[0].as_str().unwrap_or("");
            if let Some(side) = o.countries.iter().position(|c| dest.starts_with(c)) {
                seen[1][side] = true;
            }
        }
    }
    seen
}

/// A list must not hide rows the rule lets the caller see: with "allow",
/// every side the administrator's list shows; with "own", the caller's own
/// side when the administrator's list shows it.
fn hidden_rows(
    rule: Rule,
    caller: &Caller,
    reply: &Reply,
    admin_view: &Reply,
    o: &Objects,
) -> Option<String> {
    if reply.status != 200 || admin_view.status != 200 {
        return None;
    }
    let (mine, full) = (sides_seen(reply, o), sides_seen(admin_view, o));
    let dimension_of_caller = match caller.column {
        "donor" => Some(0),
        "recipient" => Some(1),
        _ => None,
    };
    let mut missing = Vec::new();
    for dimension in 0..2 {
        for side in 0..2 {
            let must = match rule {
                Rule::Allow => full[dimension][side],
                Rule::Own => {
                    dimension_of_caller == Some(dimension)
                        && side == caller.side
                        && full[dimension][side]
                }
                Rule::Deny => false,
            };
            if must && !mine[dimension][side] {
                let what = if dimension == 0 {
                    o.donors[side]
                } else {
                    o.countries[side]
                };
                missing.push(what);
            }
        }
    }
    (!missing.is_empty()).then(|| format!("hides rows the administrator sees for {missing:?}"))
}

/// For a scoped caller's list: every row is theirs.
fn scope_problem(reply: &Reply, caller: &Caller, o: &Objects) -> Option<String> {
    let mut bad = Vec::new();
    let own_donor = o.donors[caller.side];
    let own_country = o.countries[caller.side];
    walk(&reply.json, &mut |key, value| {
        let text = value.as_str().unwrap_or("");
        match (caller.column, key) {
            ("donor", "donor") if text != own_donor => bad.push(format!("donor {text}")),
            ("recipient", "country") if text != own_country => bad.push(format!("country {text}")),
            ("recipient", "destination") if !text.starts_with(own_country) => {
                bad.push(format!("destination {text}"))
            }
            _ => {}
        }
    });
    if caller.column == "recipient" {
        if let Some(rows) = reply.json["rows"].as_array() {
            for row in rows {
                let dest = row[0].as_str().unwrap_or("");
                if !dest.starts_with(own_country) {
                    bad.push(format!("row for {dest}"));
                }
            }
        }
    }
    (!bad.is_empty()).then(|| format!("shows others' data: {:?}", &bad[..bad.len().min(5)]))
}

fn check(
    route: &str,
    rule: Rule,
    caller: &Caller,
    own: bool,
    reply: &Reply,
    o: &Objects,
) -> Option<String> {
    let s = reply.status;
    let get = route.starts_with("GET ");
    let denied = s == 401 || s == 403;
    let expected = match (rule, caller.username.is_some()) {
        (Rule::Deny, false) => (s == 401, "401"),
        (Rule::Deny, true) => (s == 403, "403"),
        (Rule::Allow, _) if get => (s == 200, "200"),
        (Rule::Allow, _) => (!denied && s < 500, "allowed (not 401/403/5xx)"),
        (Rule::Own, _) if is_list(route) => {
            if s != 200 {
                (false, "200 (own rows)")
            } else if let Some(problem) = scope_problem(reply, caller, o) {
                return Some(format!(
                    "{route} as {} ({}): {problem}",
                    caller.name,
                    if own { "own" } else { "another's" }
                ));
            } else {
                (true, "")
            }
        }
        (Rule::Own, _) if own && get => (s == 200, "200 (own object)"),
        (Rule::Own, _) if own => (!denied && s != 404 && s < 500, "allowed on own object"),
        (Rule::Own, _) => (s == 403 || s == 404, "403 or 404 (another's object)"),
    };
    (!expected.0).then(|| {
        format!(
            "{route} as {} on {} object: expected {}, got {} {}",
            caller.name,
            if own { "own" } else { "another's" },
            expected.1,
            s,
            &reply.text[..reply.text.len().min(200)]
        )
    })
}

/// Every string and `lot_id` in a response.
fn ids_in(v: &Value, strings: &mut BTreeSet<String>, lots: &mut BTreeSet<i64>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                if k == "lot_id" {
                    if let Some(id) = x.as_i64() {
                        lots.insert(id);
                    }
                }
                ids_in(x, strings, lots);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| ids_in(x, strings, lots)),
        Value::String(s) => {
            strings.insert(s.clone());
        }
        _ => {}
    }
}

fn authorization_matrix(url: &str) {
    common::seed(url, true);
    let server = Server::start(url);
    let c = server.client();
    let op = c.login("operator");
    let admin = c.login("admin");
    let o = discover(&c, &op);

    // Donor A's ids, as the operator sees them.
    let mut a_codes: BTreeSet<String> = BTreeSet::new();
    let mut a_lots: BTreeSet<i64> = BTreeSet::new();
    let journey = c
        .get(&format!("/api/donor/journey?donor={DONOR_A}"), &op)
        .json;
    for lot in journey["lots"].as_array().unwrap() {
        a_lots.insert(lot["lot_id"].as_i64().unwrap());
    }
    for p in c.get("/api/pledges", &op).json.as_array().unwrap() {
        if p["donor"] == DONOR_A {
            a_codes.insert(p["code"].as_str().unwrap().to_string());
            for l in p["lines"].as_array().unwrap() {
                a_lots.insert(l["lot_id"].as_i64().unwrap());
            }
        }
    }
    a_codes.insert(o.legs[0].clone());
    a_codes.insert(o.donor_departures[0].clone());
    assert!(!a_lots.is_empty());

    let callers: Vec<Caller> = vec![
        ("anonymous", "anonymous", None, 0),
        ("admin", "admin", Some("admin"), 0),
        ("operator", "operator", Some("operator"), 0),
        ("donor A", "donor", Some("donor-a"), 0),
        ("donor B", "donor", Some("donor-b"), 1),
        ("recipient X", "recipient", Some("recipient-x"), 0),
        ("recipient Y", "recipient", Some("recipient-y"), 1),
        ("auditor", "auditor", Some("auditor"), 0),
    ]
    .into_iter()
    .map(|(name, column, username, side)| Caller {
        name,
        column,
        username,
        token: username.map(|u| c.login(u)),
        side,
    })
    .collect();

    let matrix = matrix();
    let mut differences = Vec::new();
    let mut checked = 0;
    let mut seen_by_b_strings = BTreeSet::new();
    let mut seen_by_b_lots = BTreeSet::new();
    for (route, roles) in &matrix {
        // What the administrator's list shows, to tell "allow" from "own"
        // from an empty answer.
        let admin_view = is_list(route).then(|| {
            let (method, path, body, token) = build(&c, &op, &admin, route, &callers[1], 0, &o);
            c.send(
                &method,
                &path,
                token.as_deref(),
                Some(&unique("idem")),
                body.as_ref(),
            )
        });
        for caller in &callers {
            let rule = roles[caller.column];
            for own in [true, false] {
                let side = if own { caller.side } else { 1 - caller.side };
                let (method, path, body, token) = build(&c, &op, &admin, route, caller, side, &o);
                let key = unique("idem");
                let reply = c.send(&method, &path, token.as_deref(), Some(&key), body.as_ref());
                checked += 1;
                if let Some(diff) = check(route, rule, caller, own, &reply, &o) {
                    differences.push(diff);
                } else if let Some(problem) = admin_view
                    .as_ref()
                    .and_then(|view| hidden_rows(rule, caller, &reply, view, &o))
                {
                    differences.push(format!("{route} as {}: {problem}", caller.name));
                }
                // Reference lists (organisations, items, nodes, destinations)
                // are public to every signed-in user.
                let reference = [
                    "/api/organisations",
                    "/api/items",
                    "/api/nodes",
                    "/api/destinations",
                ]
                .iter()
                .any(|r| route.ends_with(r));
                if caller.name == "donor B" && !reference {
                    ids_in(&reply.json, &mut seen_by_b_strings, &mut seen_by_b_lots);
                }
            }
        }
    }
    // List routes answer the same for either side's object: report once.
    differences.dedup();
    assert!(
        differences.is_empty(),
        "{} differences from authz.csv in {checked} requests:\n{}",
        differences.len(),
        differences.join("\n")
    );
    let leaked_lots: Vec<_> = seen_by_b_lots.intersection(&a_lots).collect();
    let leaked_codes: Vec<_> = seen_by_b_strings.intersection(&a_codes).collect();
    assert!(
        leaked_lots.is_empty(),
        "donor B saw donor A's lots {leaked_lots:?}"
    );
    assert!(
        leaked_codes.is_empty(),
        "donor B saw donor A's documents {leaked_codes:?}"
    );
    assert!(
        !seen_by_b_strings.contains(DONOR_A),
        "donor B saw the donor A code in a response"
    );
    assert!(checked >= matrix.len() * 16);
}

reliefhub_testkit::both_backends!(authorization_matrix);
