//! schemathesis (PyPI) against the real server's `/api/openapi.json`, signed
//! in as an admin on a demo hub, with every check schemathesis has
//! (`--checks all`): no response may be a 5xx; every response must match
//! the status codes, content types, headers and schemas the document
//! declares; data the document allows must be accepted (or refused only
//! for the hub's current state, 409, or as not found, 404) and data it
//! rules out must be refused; undeclared methods get 405; a missing token
//! or required header is refused. Any failure fails the test. Runs on
//! SQLite and on PostgreSQL.
//!
//! Needs the `schemathesis` command (`python3 -m pip install schemathesis`);
//! without it the test fails and says so. `RELIEFHUB_SCHEMATHESIS_MAX_EXAMPLES`
//! sets the examples per operation (default 50).

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::{seed, Server};
use reliefhub_testkit::both_backends;

fn schemathesis() -> Command {
    for candidate in ["schemathesis", "st"] {
        if Command::new(candidate)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Command::new(candidate);
        }
    }
    let mut python = Command::new("python3");
    python.args(["-m", "schemathesis.cli"]);
    python
}

fn schema_holds(db: &str) {
    seed(db, true);
    let server = Server::start(db);
    let client = server.client();
    let token = client.login("admin");
    let base = format!("http://{}", server.addr);
    let probe = schemathesis().arg("--version").output();
    assert!(
        probe.as_ref().is_ok_and(|o| o.status.success()),
        "schemathesis is not installed: run `python3 -m pip install schemathesis` ({probe:?})"
    );
    let examples = std::env::var("RELIEFHUB_SCHEMATHESIS_MAX_EXAMPLES")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(50);
    // Some operations have rules across fields that JSON Schema cannot
    // say, so schema-valid data may break them and get 422:
    // - master data (items, organisations, destinations): a GTIN's GS1
    //   check digit, a dangerous-goods class only with a UN number, a
    //   minimum shelf life only with expiry dates, a destination's country
    //   as its UN/LOCODE's first letters, the body's code as the address's;
    // - a departure arrives on or after the day it departs, and its cold
    //   volume is at most its volume;
    // - a receipt line's damaged units are at most its counted units;
    // - a new user has an organisation only as a donor, a country only as
    //   a recipient.
    // The first run checks every other operation with every check; the
    // second these with every check but positive_data_acceptance.
    let cross_field = [
        "POST /api/items",
        "POST /api/items/{code}",
        "POST /api/organisations",
        "POST /api/organisations/{code}",
        "POST /api/destinations",
        "POST /api/destinations/{locode}",
        "POST /api/departures",
        "POST /api/legs/{code}/receipt",
        "POST /api/users",
    ];
    let mut all_checks: Vec<String> = vec!["--checks".into(), "all".into()];
    for name in cross_field {
        all_checks.extend(["--exclude-name".into(), name.into()]);
    }
    let mut cross: Vec<String> = vec![
        "--checks".into(),
        "all".into(),
        "--exclude-checks".into(),
        "positive_data_acceptance".into(),
    ];
    for name in cross_field {
        cross.extend(["--include-name".into(), name.into()]);
    }
    for args in [all_checks, cross] {
        run_schemathesis(&base, &token, examples, &args);
    }
}

fn run_schemathesis(base: &str, token: &str, examples: u32, selection: &[String]) {
    let work = tempfile::tempdir().unwrap();
    let output = schemathesis()
        .current_dir(work.path())
        .arg("--no-color")
        .arg("run")
        .arg(format!("{base}/api/openapi.json"))
        .args(["--url", base])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        // Every check: data the document allows is accepted (2xx), or
        // refused only for the hub's current data (409: not enough stock,
        // a departure already gone, a code taken or unknown) or as not
        // found (404); data it rules out is refused.
        .args(selection)
        // Logging out or disabling the caller would end the session the
        // rest of the run uses.
        .args(["--exclude-path", "/api/logout"])
        .args(["--exclude-path", "/api/users/{username}/disable"])
        // Planning runs the planner for up to its time limit per call; the
        // workflow tests cover it.
        .args(["--exclude-path", "/api/plans"])
        .args(["--exclude-path", "/api/whatif"])
        .args(["--max-examples", &examples.to_string()])
        .args(["--seed", "1", "--generation-database", "none"])
        .args(["--phases", "examples,coverage,fuzzing"])
        // One worker: hypothesis's lambda-source cache is not safe across
        // threads (a runtime error, not a finding, under two workers).
        .args(["--workers", "1", "--request-timeout", "60"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "schemathesis found problems ({selection:?}):\n{stdout}\n{stderr}"
    );
    eprintln!("{stdout}");
    // The run must actually have exercised the API.
    assert!(
        stdout.contains("passed") || stdout.contains("Passed"),
        "schemathesis did not report any passing operation:\n{stdout}\n{stderr}"
    );
}

both_backends!(schema_holds);
