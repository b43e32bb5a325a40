//! The API's weak spots, each closed and held by a test through the real
//! server: users (nobody disables themself or the last admin; a disabled
//! user can be enabled again; a user disabled by another process cannot
//! write a moment later), body limits checked before a body is read, login
//! throttling that cannot be raced nor used to lock a user out (behind a
//! trusted proxy, per client address), 404 and 405 in the JSON error shape
//! before any idempotency bookkeeping, Idempotency-Key limits that do not
//! reveal the ledger's keys, text limits, unknown fields, and a recipient's
//! requests in their own name.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::{password, Client, Server, DONOR_A};
use reliefhub_testkit::both_backends;
use serde_json::{json, Value};

fn count(url: &str, sql: &str) -> i64 {
    let mut store = reliefhub_store::Store::open(url).unwrap();
    store
        .read(|conn| conn.query(sql, &[])?[0][0].int())
        .unwrap()
}

fn login_from(c: &Client, username: &str, pass: &str, address: &str) -> common::Reply {
    let body = serde_json::to_vec(&json!({"username": username, "password": pass})).unwrap();
    c.send_raw(
        "POST",
        "/api/login",
        &[
            ("Content-Type", "application/json"),
            ("X-Forwarded-For", address),
        ],
        Some(body),
    )
}

// ------------------------------------------------------------------ users

fn admins_cannot_disable_themselves_or_the_last_admin(url: &str) {
    common::seed(url, false);
    let server = Server::start(url);
    let c = server.client();
    let admin = c.login("admin");

    let own = c.post("/api/users/admin/disable", &admin, "d-self", &json!({}));
    assert_eq!(own.status, 422, "{}", own.text);
    assert!(own.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("themself"));

    // A second admin may not disable the last other admin either once it is alone.
    let second = json!({"username": "admin2", "password": "admin2-password", "role": "admin"});
    assert_eq!(c.post("/api/users", &admin, "u-a2", &second).status, 201);
    let admin2 = c.login_with("admin2", "admin2-password");
    let r = c.post("/api/users/admin/disable", &admin2, "d-1", &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    // admin2 is now the last enabled admin: the CLI's path (no acting user) refuses too.
    let mut store = reliefhub_store::Store::open(url).unwrap();
    let refused = reliefhub_api::auth::disable_user(&mut store, "admin2", None, 0);
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("last enabled admin")),
        "{refused:?}"
    );
    // Disabling every other user leaves one admin who can still sign in.
    for (name, ..) in common::USERS.iter().filter(|u| u.0 != "admin") {
        let r = c.post(
            &format!("/api/users/{name}/disable"),
            &admin2,
            &format!("d-{name}"),
            &json!({}),
        );
        assert_eq!(r.status, 200, "{name}: {}", r.text);
    }
    let users = c.get("/api/users", &admin2).json;
    let enabled: Vec<&Value> = users
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["disabled"] == false)
        .collect();
    assert_eq!(enabled.len(), 1, "{users}");
    assert_eq!(enabled[0]["username"], "admin2");

    // And a disabled user can be enabled again; old tokens stay revoked.
    assert_eq!(c.get("/api/me", &admin).status, 401);
    let r = c.post("/api/users/admin/enable", &admin2, "e-1", &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["disabled"], false);
    assert_eq!(c.get("/api/me", &admin).status, 401);
    let again = c.login("admin");
    assert_eq!(c.get("/api/me", &again).status, 200);
    // The CLI's path enables too.
    reliefhub_api::auth::enable_user(&mut store, "operator").unwrap();
    assert_eq!(c.get("/api/me", &c.login("operator")).status, 200);
    let missing = c.post("/api/users/nobody/enable", &admin2, "e-2", &json!({}));
    assert_eq!(missing.status, 404, "{}", missing.text);
}

fn a_user_disabled_elsewhere_cannot_write_a_moment_later(url: &str) {
    common::seed(url, false);
    let server = Server::start(url);
    let c = server.client();
    let op = c.login("operator");
    // The token is cached as valid by a first request.
    assert_eq!(c.get("/api/me", &op).status, 200);
    let body = json!({"code": "RQ-D1", "destination": "SDPZU", "item": "RUTF-150", "quantity": 5,
                      "priority": 3, "needed_by": "2025-05-01"});
    assert_eq!(c.post("/api/requests", &op, "k-1", &body).status, 201);
    // Another process (the CLI) disables the user; the server has not polled yet.
    let mut store = reliefhub_store::Store::open(url).unwrap();
    reliefhub_api::auth::disable_user(&mut store, "operator", None, reliefhub_store::now_unix_ms())
        .unwrap();
    let body = json!({"code": "RQ-D2", "destination": "SDPZU", "item": "RUTF-150", "quantity": 5,
                      "priority": 3, "needed_by": "2025-05-01"});
    let r = c.post("/api/requests", &op, "k-2", &body);
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(
        count(url, "SELECT COUNT(*) FROM requests WHERE code = 'RQ-D2'"),
        0
    );
}

/// A user disabled by another process is refused on the very next request,
/// a read included (no window while the server's token cache is stale), on
/// both databases.
fn a_user_disabled_elsewhere_is_refused_on_the_next_read(url: &str) {
    common::seed(url, false);
    let server = Server::start(url);
    let c = server.client();
    let mut store = reliefhub_store::Store::open(url).unwrap();
    for round in 0..20 {
        let username = format!("reader{round}");
        let made = reliefhub_api::auth::NewUser {
            username: username.clone(),
            password: "a-long-password".into(),
            role: "auditor".into(),
            organisation: None,
            country: None,
        };
        reliefhub_api::auth::add_user(&mut store, &made, reliefhub_store::now_unix_ms()).unwrap();
        let token = c.login_with(&username, "a-long-password");
        // The token is cached as valid by a first read.
        assert_eq!(c.get("/api/me", &token).status, 200);
        assert_eq!(c.get("/api/me", &token).status, 200);
        reliefhub_api::auth::disable_user(
            &mut store,
            &username,
            None,
            reliefhub_store::now_unix_ms(),
        )
        .unwrap();
        // SQLite: the server looks at `PRAGMA data_version` before
        // trusting its cache; PostgreSQL: at `api_access_version`, which
        // the disabling transaction counted up. Either way, the very next
        // request is refused.
        let r = c.get("/api/me", &token);
        assert_eq!(r.status, 401, "round {round}: {}", r.text);
    }
}

fn invalid_tokens_cost_one_lookup(url: &str) {
    common::seed(url, false);
    let state = reliefhub_api::AppState::open(url).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        "authorization",
        "Bearer 00000000000000000000000000000000".parse().unwrap(),
    );
    let before = state.token_lookups();
    for _ in 0..50 {
        let found = runtime.block_on(state.principal(&headers)).unwrap();
        assert!(found.is_none());
    }
    assert_eq!(state.token_lookups() - before, 1);
}

// ------------------------------------------------------------ body limits

/// Sends headers declaring `length` bytes and only the first few, then
/// waits up to 10 s for an answer: a server that checks before reading
/// answers at once; one that buffers first waits for bytes never sent.
fn answer_before_body(
    addr: std::net::SocketAddr,
    path: &str,
    token: &str,
    length: usize,
) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nIdempotency-Key: big-1\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{\"lines\": ["
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = vec![0u8; 4096];
    let n = stream.read(&mut answer).unwrap_or(0);
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

fn bodies_are_limited_per_route_before_they_are_read(url: &str) {
    common::seed(url, false);
    let server = Server::start(url);
    let c = server.client();
    let auditor = c.login("auditor");
    let donor = c.login("donor-a");
    let op = c.login("operator");

    // An auditor changes nothing: refused before 15 MB are read.
    let started = Instant::now();
    let answer = answer_before_body(server.addr, "/api/legs/IN-X/manifest", &auditor, 15_000_000);
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // A donor may not import manifests: refused before reading too.
    let answer = answer_before_body(server.addr, "/api/legs/IN-X/manifest", &donor, 15_000_000);
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    // Any other route takes at most 1 MiB: a larger declared body is refused unread.
    let answer = answer_before_body(server.addr, "/api/pledges", &donor, 2_000_000);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"too_large\""), "{answer}");

    // The documented 16 MiB manifest limit holds: a 2.4 MB manifest imports.
    let leg = json!({"code": "IN-BIG", "mode": "sea", "origin": "RUNVS", "node": "TARTUS-PORT", "carrier": "c",
        "reference": "r", "expected_arrival": "2025-03-05", "donor": DONOR_A});
    assert_eq!(c.post("/api/legs", &op, "leg", &leg).status, 201);
    let lines: Vec<Value> = (0..26_000)
        .map(|i| json!({"item": "RUTF-150", "quantity": 1, "batch": format!("BATCH-{i:08}-PADDING-PADDING"), "expiry": "2028-01-01"}))
        .collect();
    let manifest = json!({ "lines": lines });
    let size = serde_json::to_vec(&manifest).unwrap().len();
    assert!(size > 2_400_000, "{size}");
    let r = c.post("/api/legs/IN-BIG/manifest", &op, "big", &manifest);
    assert_eq!(r.status, 201, "{}", &r.text[..r.text.len().min(500)]);
    assert_eq!(r.json["lines"], 26_000);
}

// ----------------------------------------------------------------- login

fn concurrent_wrong_passwords_cannot_pass_the_limit(url: &str) {
    common::seed(url, false);
    let server = Server::start(url);
    let c = server.client();
    let threads: Vec<_> = (0..30)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                c.send(
                    "POST",
                    "/api/login",
                    None,
                    None,
                    Some(&json!({"username": "auditor", "password": "wrong-password"})),
                )
                .status
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let failed = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(failed + limited, 30, "{statuses:?}");
    assert_eq!(failed, 5, "{statuses:?}");
    assert_eq!(
        count(
            url,
            "SELECT COUNT(*) FROM api_login_failures WHERE scope LIKE 'pair:%'"
        ),
        5
    );
}

fn nobody_can_lock_a_user_out(url: &str) {
    common::seed(url, false);
    // The test client is the proxy: X-Forwarded-For names the client.
    let server = Server::start_trusting(url, &["127.0.0.1", "::1"]);
    let c = server.client();
    let admin_pw = password("admin");
    // The admin signs in from the office once.
    assert_eq!(login_from(&c, "admin", &admin_pw, "10.1.1.1").status, 200);
    // Someone guesses from 8 addresses, 3 times each, as fast as allowed.
    let mut refused = 0;
    for guess in 0..24 {
        let address = format!("203.0.113.{}", guess % 8);
        let r = login_from(&c, "admin", "guess-guess", &address);
        assert!(matches!(r.status, 401 | 429), "{}", r.text);
        if r.status == 429 {
            refused += 1;
            assert!(r.json["error"]["message"]
                .as_str()
                .unwrap()
                .contains("retry in"));
        }
    }
    // Past 5 failures the username's attempts wait (guessing slows down)...
    assert!(refused > 0, "no delay after {} failures", 24 - refused);
    // ... but the admin still signs in at once from the office,
    let r = login_from(&c, "admin", &admin_pw, "10.1.1.1");
    assert_eq!(r.status, 200, "{}", r.text);
    // other users are not affected,
    assert_eq!(
        login_from(&c, "operator", &password("operator"), "10.1.1.2").status,
        200
    );
    // and one address is limited per username (5) and in all (20), not
    // everyone behind the proxy.
    for _ in 0..5 {
        assert_eq!(
            login_from(&c, "auditor", "nope-nope", "198.51.100.7").status,
            401
        );
    }
    let r = login_from(&c, "auditor", &password("auditor"), "198.51.100.7");
    assert_eq!(r.status, 429, "{}", r.text);
    // From another address the username's delay (1 s after 5 failures)
    // is all that stands in the way.
    let r = login_from(&c, "auditor", &password("auditor"), "198.51.100.8");
    if r.status == 429 {
        assert!(r.text.contains("retry in 1 s"), "{}", r.text);
        std::thread::sleep(Duration::from_millis(1100));
    }
    let r = login_from(&c, "auditor", &password("auditor"), "198.51.100.8");
    assert_eq!(r.status, 200, "{}", r.text);
    // Without a trusted proxy the header is ignored: the peer is the client.
    let network: reliefhub_api::auth::Network = "10.0.0.0/8".parse().unwrap();
    let peer: std::net::IpAddr = "192.0.2.1".parse().unwrap();
    assert_eq!(
        reliefhub_api::auth::client_address(peer, &["10.9.9.9"], &[network]),
        peer
    );
    let proxy: std::net::IpAddr = "10.0.0.5".parse().unwrap();
    assert_eq!(
        reliefhub_api::auth::client_address(proxy, &["6.6.6.6, 192.0.2.9, 10.0.0.7"], &[network]),
        "192.0.2.9".parse::<std::net::IpAddr>().unwrap()
    );
}

// ----------------------------------------------- routing and idempotency

fn undeclared_methods_answer_405_before_idempotency(url: &str) {
    common::seed(url, false);
    let server = Server::start(url);
    let c = server.client();
    let op = c.login("operator");
    let body = json!({"code": "RQ-M1", "destination": "SDPZU", "item": "RUTF-150", "quantity": 5,
                      "priority": 3, "needed_by": "2025-05-01"});
    for method in ["PUT", "DELETE", "PATCH"] {
        let r = c.send(
            method,
            "/api/requests",
            Some(&op),
            Some("k-405"),
            Some(&body),
        );
        assert_eq!(r.status, 405, "{method}: {}", r.text);
        assert_eq!(r.json["error"]["code"], "method_not_allowed", "{}", r.text);
        assert_eq!(r.json["error"]["status"], 405);
    }
    let r = c.send(
        "POST",
        "/api/me",
        Some(&op),
        Some("k-405b"),
        Some(&json!({})),
    );
    assert_eq!(r.status, 405, "{}", r.text);
    // Nothing was stored under the key: it still works for a real request.
    let r = c.post("/api/requests", &op, "k-405", &body);
    assert_eq!(r.status, 201, "{}", r.text);
    // 404 in the JSON shape too.
    let r = c.get("/api/no-such-thing", &op);
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "not_found", "{}", r.text);
    let r = c.send(
        "POST",
        "/api/no/such",
        Some(&op),
        Some("k"),
        Some(&json!({})),
    );
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.json["error"]["status"], 404, "{}", r.text);
}

fn long_idempotency_keys_are_refused_without_revealing_ledger_keys(url: &str) {
    common::seed(url, false);
    let server = Server::start(url);
    let c = server.client();
    let op = c.login("operator");
    let leg = json!({"code": "IN-K", "mode": "air", "origin": "SVO", "node": "HMEIMIM-AIR", "carrier": "c",
        "reference": "r", "expected_arrival": "2025-03-05", "donor": DONOR_A});
    assert_eq!(c.post("/api/legs", &op, "leg", &leg).status, 201);
    let manifest = json!({"lines": [{"item": "RUTF-150", "quantity": 100, "batch": "B", "expiry": "2028-01-01"}]});
    for length in [129, 195, 200] {
        let key = "k".repeat(length);
        let r = c.post("/api/legs/IN-K/manifest", &op, &key, &manifest);
        assert_eq!(r.status, 422, "{length}: {}", r.text);
        assert_eq!(r.json["error"]["problems"][0]["field"], "Idempotency-Key");
        assert!(!r.text.contains("api:"), "{}", r.text);
    }
    let r = c.post("/api/legs/IN-K/manifest", &op, &"k".repeat(128), &manifest);
    assert_eq!(r.status, 201, "{}", r.text);
    // The documented limit is the enforced one.
    let doc = c.get("/api/openapi.json", &op).json;
    let params = doc["paths"]["/api/legs/{code}/manifest"]["post"]["parameters"]
        .as_array()
        .unwrap();
    let key = params
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .unwrap();
    assert_eq!(key["schema"]["maxLength"], 128, "{key}");
}

// ------------------------------------------------------------ input text

fn bodies_are_objects_with_known_fields_and_bounded_text(url: &str) {
    common::seed(url, false);
    let server = Server::start(url);
    let c = server.client();
    let op = c.login("operator");
    let recipient = c.login("recipient-x");
    let plans_before = count(url, "SELECT COUNT(*) FROM plans");

    let r = c.send(
        "POST",
        "/api/plans",
        Some(&op),
        Some("p-1"),
        Some(&json!([])),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(count(url, "SELECT COUNT(*) FROM plans"), plans_before);

    let request = |extra: Value| {
        let mut body = json!({"code": "RQ-T1", "destination": "SDPZU", "item": "RUTF-150", "quantity": 5,
                              "priority": 3, "needed_by": "2025-05-01"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let r = c.post(
        "/api/requests",
        &op,
        "t-1",
        &request(json!({"urgent": true})),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("urgent"), "{}", r.text);

    let huge = "x".repeat(1_000_000);
    let r = c.post(
        "/api/requests",
        &op,
        "t-2",
        &request(json!({"requested_by": huge})),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json["error"]["problems"][0]["field"], "requested_by");

    let r = c.post(
        "/api/requests",
        &op,
        "t-3",
        &request(json!({"requested_by": "ana\u{0}\u{1b}[31m"})),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("control characters"), "{}", r.text);

    let pledge = json!({"code": "PL-T", "donor": DONOR_A, "note": "a\u{7}b",
                        "lines": [{"item": "ORS-CTN", "quantity": 1}]});
    let r = c.post("/api/pledges", &op, "t-4", &pledge);
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json["error"]["problems"][0]["field"], "note");
    assert_eq!(
        count(url, "SELECT COUNT(*) FROM requests WHERE code = 'RQ-T1'"),
        0
    );

    // A recipient files in their own name only.
    let r = c.post(
        "/api/requests",
        &recipient,
        "t-5",
        &request(json!({"requested_by": "operator"})),
    );
    assert_eq!(r.status, 403, "{}", r.text);
    let r = c.post("/api/requests", &recipient, "t-6", &request(json!({})));
    assert_eq!(r.status, 201, "{}", r.text);
    let listed = c.get("/api/requests", &op).json;
    let filed = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "RQ-T1")
        .unwrap();
    assert_eq!(filed["requested_by"], "recipient-x", "{filed}");

    // Tab and line feed stay allowed in notes.
    let pledge = json!({"code": "PL-T2", "donor": DONOR_A, "note": "line one\n\tline two",
                        "lines": [{"item": "ORS-CTN", "quantity": 1}]});
    let r = c.post("/api/pledges", &op, "t-7", &pledge);
    assert_eq!(r.status, 201, "{}", r.text);
}

// ------------------------------------------------------ existence oracles

/// A donor learns nothing of another donor's pledge codes: a code in
/// another donor's range is refused exactly as a code nobody used, and a
/// donor's own range never meets another donor's pledge.
fn a_donor_learns_no_other_donors_pledge_codes(url: &str) {
    common::seed(url, false);
    let server = Server::start(url);
    let c = server.client();
    let op = c.login("operator");
    let donor_b = c.login("donor-b");
    let pledge = |code: &str, donor: &str| json!({"code": code, "donor": donor, "lines": [{"item": "ORS-CTN", "quantity": 3}]});
    // Donor A's pledge, recorded by the hub's staff.
    let taken = format!("{DONOR_A}-1");
    let r = c.post("/api/pledges", &op, "o-1", &pledge(&taken, DONOR_A));
    assert_eq!(r.status, 201, "{}", r.text);
    // Staff cannot put a pledge in a donor's range for another donor.
    let r = c.post(
        "/api/pledges",
        &op,
        "o-2",
        &pledge(&format!("{DONOR_A}-2"), common::DONOR_B),
    );
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.json["error"]["problems"][0]["code"], "pledge_code_scope");
    // Donor B trying A's code and a code nobody used gets the same answer.
    let unused = format!("{DONOR_A}-999");
    let a = c.post(
        "/api/pledges",
        &donor_b,
        "b-1",
        &pledge(&taken, common::DONOR_B),
    );
    let b = c.post(
        "/api/pledges",
        &donor_b,
        "b-2",
        &pledge(&unused, common::DONOR_B),
    );
    assert_eq!(a.status, b.status, "{} / {}", a.text, b.text);
    assert_eq!(
        a.text.replace(&taken, "CODE"),
        b.text.replace(&unused, "CODE")
    );
    assert!(!a.text.contains("exists"), "{}", a.text);
    // The same for a staff-made code outside every donor's range.
    let r = c.post("/api/pledges", &op, "o-3", &pledge("PL-HUB-1", DONOR_A));
    assert_eq!(r.status, 201, "{}", r.text);
    let a = c.post(
        "/api/pledges",
        &donor_b,
        "b-3",
        &pledge("PL-HUB-1", common::DONOR_B),
    );
    let b = c.post(
        "/api/pledges",
        &donor_b,
        "b-4",
        &pledge("PL-HUB-2", common::DONOR_B),
    );
    assert_eq!(a.status, 409, "{}", a.text);
    assert_eq!(
        a.text.replace("PL-HUB-1", "CODE"),
        b.text.replace("PL-HUB-2", "CODE")
    );
    // In its own range a donor pledges freely.
    let own = format!("{}-1", common::DONOR_B);
    let r = c.post(
        "/api/pledges",
        &donor_b,
        "b-5",
        &pledge(&own, common::DONOR_B),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

// ------------------------------------------------------------ donor proofs

/// A donor fetches their own proof; it proves operations that moved other
/// donors' goods too, yet shows none of their lots, pledge codes or
/// quantities. Another donor's code answers as an unknown one.
fn a_donors_proof_shows_no_other_donor(url: &str) {
    common::seed(url, true);
    let server = Server::start(url);
    let c = server.client();
    let donor = c.login("donor-a");
    // An operation of the demo that moved donor A's and others' lots.
    let mut store = reliefhub_store::Store::open(url).unwrap();
    let shared: Vec<(i64, i64)> = store
        .read(|conn| {
            conn.query(
                "SELECT j.batch_id, SUM(CASE WHEN l.donor = $1 THEN 1 ELSE 0 END) FROM journal j \
                 JOIN lots l ON l.id = j.lot_id GROUP BY j.batch_id \
                 HAVING COUNT(DISTINCT l.donor) > 1 AND SUM(CASE WHEN l.donor = $1 THEN 1 ELSE 0 END) > 0",
                &[DONOR_A.into()],
            )?
            .iter()
            .map(|r| Ok((r[0].int()?, r[1].int()?)))
            .collect()
        })
        .unwrap();
    assert!(
        !shared.is_empty(),
        "the demo moves several donors' lots in one operation"
    );
    let others: Vec<(String, String, String)> = store
        .read(|conn| {
            conn.query(
                "SELECT l.donor, l.batch, p.code FROM lots l LEFT JOIN pledges p ON p.donor = l.donor WHERE l.donor <> $1 \
                 AND l.batch NOT IN (SELECT batch FROM lots WHERE donor = $1)",
                &[DONOR_A.into()],
            )?
            .iter()
            .map(|r| Ok((r[0].text()?, r[1].text()?, r[2].opt_text()?.unwrap_or_default())))
            .collect()
        })
        .unwrap();

    let r = c.get(&format!("/api/donors/{DONOR_A}/proof"), &donor);
    assert_eq!(r.status, 200, "{}", &r.text[..r.text.len().min(300)]);
    let summary = reliefhub_ops::trust::verify_proof(r.text.as_bytes(), None).unwrap();
    assert_eq!(summary.donor, DONOR_A);
    let proof: reliefhub_ops::trust::DonorProof = serde_json::from_str(&r.text).unwrap();
    for (batch_id, own_entries) in &shared {
        let item = proof
            .items
            .iter()
            .find(|i| {
                i.operation
                    .batch
                    .as_ref()
                    .is_some_and(|b| b.id == *batch_id)
            })
            .unwrap_or_else(|| panic!("the proof proves the shared batch {batch_id}"));
        let batch = item.operation.batch.as_ref().unwrap();
        assert_eq!(batch.entries.len() as i64, *own_entries, "batch {batch_id}");
        assert!(batch.entries.len() < batch.transfer_count as usize);
    }
    for item in &proof.items {
        for entry in &item.operation.batch.as_ref().unwrap().entries {
            assert_eq!(entry.donor, DONOR_A, "operation {}", item.leaf_index);
        }
    }
    for (other, lot_batch, pledge_code) in &others {
        assert!(
            !r.text.contains(other.as_str()),
            "the proof names donor {other}"
        );
        assert!(
            !r.text.contains(&format!("\"{lot_batch}\"")),
            "the proof shows {other}'s lot {lot_batch}"
        );
        if !pledge_code.is_empty() {
            assert!(
                !r.text.contains(pledge_code.as_str()),
                "the proof shows {other}'s pledge {pledge_code}"
            );
        }
    }
    // Another donor's proof: the same 404 as a donor that does not exist.
    let a = c.get(&format!("/api/donors/{}/proof", common::DONOR_B), &donor);
    let b = c.get("/api/donors/XX-NOBODY/proof", &donor);
    assert_eq!(a.status, 404, "{}", a.text);
    assert_eq!(
        a.text.replace(common::DONOR_B, "CODE"),
        b.text.replace("XX-NOBODY", "CODE")
    );
    // Staff fetch any donor's.
    let op = c.login("operator");
    assert_eq!(
        c.get(&format!("/api/donors/{}/proof", common::DONOR_B), &op)
            .status,
        200
    );
}

// ------------------------------------------------------- request quantity

fn a_recipient_cannot_stop_planning_with_a_huge_request(url: &str) {
    common::seed(url, false);
    let server = Server::start(url);
    let c = server.client();
    let op = c.login("operator");
    let recipient = c.login("recipient-x");
    let before = count(url, "SELECT COUNT(*) FROM requests");

    for (key, quantity) in [
        ("q-max", json!(i64::MAX)),
        ("q-cap", json!(1_000_000_000_001_i64)),
    ] {
        let body = json!({"code": format!("RQ-{key}"), "destination": "SDPZU", "item": "RUTF-150",
                          "quantity": quantity, "priority": 1, "needed_by": "2025-05-01"});
        let r = c.post("/api/requests", &recipient, key, &body);
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(
            r.json["error"]["problems"][0]["code"], "quantity_too_large",
            "{}",
            r.text
        );
        assert_eq!(
            r.json["error"]["problems"][0]["field"], "quantity",
            "{}",
            r.text
        );
    }
    assert_eq!(count(url, "SELECT COUNT(*) FROM requests"), before);

    // Planning for the whole hub still works.
    let r = c.post(
        "/api/plans",
        &op,
        "q-plan",
        &json!({"time_limit_s": 1, "seed": 1}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

both_backends!(
    a_donor_learns_no_other_donors_pledge_codes,
    a_donors_proof_shows_no_other_donor,
    a_user_disabled_elsewhere_is_refused_on_the_next_read,
    a_recipient_cannot_stop_planning_with_a_huge_request,
    admins_cannot_disable_themselves_or_the_last_admin,
    a_user_disabled_elsewhere_cannot_write_a_moment_later,
    invalid_tokens_cost_one_lookup,
    bodies_are_limited_per_route_before_they_are_read,
    concurrent_wrong_passwords_cannot_pass_the_limit,
    nobody_can_lock_a_user_out,
    undeclared_methods_answer_405_before_idempotency,
    long_idempotency_keys_are_refused_without_revealing_ledger_keys,
    bodies_are_objects_with_known_fields_and_bounded_text,
);
