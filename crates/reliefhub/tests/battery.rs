//! The reliability battery: the hub must not lose a carton nor count one
//! twice, whatever happens to its processes, its database or its input.
//!
//! Small by default (a few minutes in CI); `RELIEFHUB_SOAK=N` multiplies
//! every count and duration by N. Each part prints its figures.
//!
//! - T1: SIGKILL at random moments of large manifest imports (CLI) and of a
//!   mixed write load (the server, see T3): every operation whole or
//!   absent, `verify` passes.
//! - T2: 8 processes write at once: every operation once, stock conserved,
//!   no negative stock; a deliberately broken outcome (an operation counted
//!   twice, a balance changed behind the ledger) makes the check fail.
//! - T3: keyed API requests, each replayed 1 to 5 times, with the server
//!   killed in the middle: each applied once, the same answers.
//! - T4: PostgreSQL drops every connection (as a restart does) under a
//!   keyed write load: the server reconnects by itself, no acknowledged
//!   write is lost, none applied twice.
//! - T5: a full disk (an 8 MiB tmpfs) and a read-only file system during
//!   writes: a clear error, nothing half-written, the database verifies.
//!   Mounting needs root: without it the test fails and says so.
//! - T6: every parser (manifest CSV and JSON, plan instance, reference data
//!   CSV, every API body) fed arbitrary bytes: no panic, no 5xx.
//! - T7: boundary values of every numeric and date field of every request
//!   body the OpenAPI document declares: 4xx or success, never 5xx.
//!
//! T1 to T3 and T6 to T7 run on SQLite and PostgreSQL; T4 on PostgreSQL;
//! T5 on SQLite (the
//! embedded database is the one that shares the hub's disk).

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{bin, json, ok, run_in, verify, Run};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reliefhub_core::account::Account;
use reliefhub_core::domain::LotSpec;
use reliefhub_core::ledger::{Batch, LotRef, TransferSpec};
use reliefhub_store::Store;
use reliefhub_testkit::both_backends;
use serde_json::{json, Value};

/// The soak multiplier (1 by default).
fn soak() -> u64 {
    std::env::var("RELIEFHUB_SOAK")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(1)
}

/// A small xorshift generator seeded from the clock; the seed is printed.
struct Rng(u64);

impl Rng {
    fn new(label: &str) -> Rng {
        let seed = std::env::var("RELIEFHUB_BATTERY_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        println!("{label}: seed {seed} (RELIEFHUB_BATTERY_SEED repeats it)");
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const NODE: &str = "TARTUS-PORT";
const DONOR: &str = "KW-KRCS";

fn init(dir: &Path, url: &str) {
    ok(dir, url, &["init"]);
}

// ------------------------------------------------------------------- T2

const WORKERS: usize = 8;
const T2_STOCK: i64 = 100_000;

fn account(text: &str) -> Account {
    Account::parse(text).unwrap()
}

/// One worker process's operations: each line `key kind quantity outcome`.
fn t2_work(url: &str, worker: usize, count: u64) -> Vec<String> {
    let mut store = Store::open(url).unwrap();
    let lot_id = store
        .read(|conn| conn.query("SELECT MIN(id) FROM lots", &[])?[0][0].int())
        .unwrap();
    let mut rng = Rng((worker as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut out = Vec::new();
    for j in 0..count {
        let (kind, from, to) = match rng.below(3) {
            0 => (
                "quarantine",
                format!("at:{NODE}"),
                format!("quarantine:{NODE}"),
            ),
            1 => (
                "release",
                format!("quarantine:{NODE}"),
                format!("at:{NODE}"),
            ),
            _ => ("loss", format!("at:{NODE}"), "loss:damaged".to_string()),
        };
        let quantity = 1 + rng.below(50) as i64;
        let key = format!("t2-{worker}-{j}");
        let mut batch = Batch::of_transfers(vec![TransferSpec {
            lot: LotRef::Existing(lot_id),
            from: account(&from),
            to: account(&to),
            quantity,
            corrects: None,
        }]);
        batch.key = key.clone();
        batch.kind = format!("battery.{kind}");
        let outcome = match store.apply(&batch, reliefhub_store::now_unix_ms()) {
            Ok(applied) if !applied.replayed => "applied",
            Ok(_) => "replayed",
            Err(reliefhub_store::StoreError::Rejected(_)) => "refused",
            Err(e) => panic!("worker {worker}: {e}"),
        };
        out.push(format!("{key} {kind} {quantity} {outcome}"));
    }
    out
}

/// Re-entered by the T2 parent as a separate process.
#[test]
#[ignore = "a T2 worker process, started by the battery itself"]
fn t2_worker() {
    let (Ok(url), Ok(worker), Ok(count)) = (
        std::env::var("BATTERY_T2_URL"),
        std::env::var("BATTERY_T2_WORKER"),
        std::env::var("BATTERY_T2_COUNT"),
    ) else {
        return;
    };
    let lines = t2_work(&url, worker.parse().unwrap(), count.parse().unwrap());
    let out = std::env::var("BATTERY_T2_OUT").unwrap();
    std::fs::write(out, lines.join("\n")).unwrap();
}

/// The T2 check: every applied operation in the ledger once and nothing
/// else, the stock conserved and never negative.
fn t2_check(url: &str, outcomes: &[String]) -> Result<(), String> {
    let mut store = Store::open(url).unwrap();
    store.settle().unwrap();
    let keys: Vec<String> = store
        .read(|conn| {
            conn.query(
                "SELECT idem_key FROM batches WHERE idem_key LIKE 't2-%' ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| r[0].text())
            .collect()
        })
        .unwrap();
    let mut in_ledger: HashMap<&str, usize> = HashMap::new();
    for k in &keys {
        *in_ledger.entry(k.as_str()).or_default() += 1;
    }
    let mut expected: BTreeMap<&str, i64> = BTreeMap::new();
    let mut applied = 0;
    for line in outcomes {
        let parts: Vec<&str> = line.split(' ').collect();
        let (key, kind, quantity, outcome) = (
            parts[0],
            parts[1],
            parts[2].parse::<i64>().unwrap(),
            parts[3],
        );
        let found = in_ledger.get(key).copied().unwrap_or(0);
        match outcome {
            "applied" => {
                applied += 1;
                if found != 1 {
                    return Err(format!(
                        "{key} was applied but is in the ledger {found} times"
                    ));
                }
                let (from, to) = match kind {
                    "quarantine" => ("at", "quarantine"),
                    "release" => ("quarantine", "at"),
                    _ => ("at", "loss"),
                };
                *expected.entry(from).or_default() -= quantity;
                *expected.entry(to).or_default() += quantity;
            }
            _ => {
                if found != 0 {
                    return Err(format!("{key} was {outcome} but is in the ledger"));
                }
            }
        }
    }
    if keys.len() != applied {
        return Err(format!(
            "{} operations in the ledger, {applied} applied",
            keys.len()
        ));
    }
    let balances: HashMap<String, i64> = store
        .read(|conn| {
            conn.query("SELECT account, quantity FROM balances", &[])?
                .iter()
                .map(|r| Ok((r[0].text()?, r[1].int()?)))
                .collect()
        })
        .unwrap();
    for (account, quantity) in &balances {
        if *quantity < 0 && !account.starts_with("source:") {
            return Err(format!("{account} is negative: {quantity}"));
        }
    }
    let at = balances.get(&format!("at:{NODE}")).copied().unwrap_or(0);
    let quarantine = balances
        .get(&format!("quarantine:{NODE}"))
        .copied()
        .unwrap_or(0);
    let loss = balances.get("loss:damaged").copied().unwrap_or(0);
    if at + quarantine + loss != T2_STOCK {
        return Err(format!(
            "stock not conserved: {at} + {quarantine} + {loss} != {T2_STOCK}"
        ));
    }
    let want = |k: &str| expected.get(k).copied().unwrap_or(0);
    if (at, quarantine, loss) != (T2_STOCK + want("at"), want("quarantine"), want("loss")) {
        return Err(format!(
            "balances at {at}, quarantine {quarantine}, loss {loss} differ from the applied operations ({expected:?})"
        ));
    }
    match store.verify(|_, _| {}).unwrap() {
        Ok(_) => Ok(()),
        Err(failure) => Err(format!("verify: {failure}")),
    }
}

fn t2_concurrent_processes(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), url);
    let mut store = Store::open(url).unwrap();
    let batch = Batch {
        key: "t2-setup".replace("t2-", "setup-"),
        kind: "battery.setup".into(),
        new_lots: vec![LotSpec {
            item: "HEB-10KG".into(),
            donor: DONOR.into(),
            batch: "T2".into(),
            expiry: None,
            earmark: Vec::new(),
        }],
        transfers: vec![TransferSpec {
            lot: LotRef::New(0),
            from: account(&format!("source:{DONOR}")),
            to: account(&format!("at:{NODE}")),
            quantity: T2_STOCK,
            corrects: None,
        }],
    };
    store.apply(&batch, 0).unwrap();
    drop(store);
    let count = 50 * soak();
    let started = Instant::now();
    let children: Vec<(Child, std::path::PathBuf)> = (0..WORKERS)
        .map(|w| {
            let out = dir.path().join(format!("worker-{w}.txt"));
            let child = Command::new(std::env::current_exe().unwrap())
                .args(["t2_worker", "--exact", "--ignored", "--nocapture", "-q"])
                .env("BATTERY_T2_URL", url)
                .env("BATTERY_T2_WORKER", w.to_string())
                .env("BATTERY_T2_COUNT", count.to_string())
                .env("BATTERY_T2_OUT", &out)
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            (child, out)
        })
        .collect();
    let mut outcomes = Vec::new();
    for (mut child, out) in children {
        assert!(child.wait().unwrap().success(), "a T2 worker failed");
        outcomes.extend(
            std::fs::read_to_string(out)
                .unwrap()
                .lines()
                .map(str::to_string),
        );
    }
    assert_eq!(outcomes.len() as u64, WORKERS as u64 * count);
    let applied = outcomes.iter().filter(|l| l.ends_with(" applied")).count();
    let refused = outcomes.iter().filter(|l| l.ends_with(" refused")).count();
    println!(
        "T2: {WORKERS} processes x {count} operations in {:.1} s: {applied} applied, {refused} refused (not enough stock)",
        started.elapsed().as_secs_f64()
    );
    t2_check(url, &outcomes).unwrap();

    // Canaries: the check fails when an operation is claimed twice...
    let mut doubled = outcomes.clone();
    let first_applied = outcomes
        .iter()
        .find(|l| l.ends_with(" applied"))
        .unwrap()
        .clone();
    doubled.push(first_applied.replace("t2-", "t2-x"));
    assert!(
        t2_check(url, &doubled).is_err(),
        "the check missed an operation that never reached the ledger"
    );
    // ... when an applied one is reported refused (a lost acknowledgement) ...
    let mut lost = outcomes.clone();
    let i = lost.iter().position(|l| l.ends_with(" applied")).unwrap();
    lost[i] = lost[i].replace(" applied", " refused");
    assert!(
        t2_check(url, &lost).is_err(),
        "the check missed a lost acknowledgement"
    );
    // ... and when a balance is changed behind the ledger's back.
    let mut store = Store::open(url).unwrap();
    store
        .write(|conn| {
            conn.execute(
                "UPDATE balances SET quantity = quantity + 1 WHERE account = $1",
                &[format!("quarantine:{NODE}").into()],
            )?;
            Ok(())
        })
        .unwrap();
    assert!(
        t2_check(url, &outcomes).is_err(),
        "the check missed a balance changed behind the ledger"
    );
}

// ------------------------------------------------------------------- T1

/// `leg add` of a sea leg to the port.
fn leg_add_args(leg: &str) -> [&str; 16] {
    [
        "leg",
        "add",
        "--code",
        leg,
        "--mode",
        "sea",
        "--origin",
        "KWSWK",
        "--node",
        NODE,
        "--carrier",
        "c",
        "--vehicle",
        "v",
        "--expected-arrival",
        "2025-03-10",
    ]
}

fn leg_add(dir: &Path, url: &str, leg: &str) {
    ok(dir, url, &leg_add_args(leg));
}

/// The leg's row of `leg list --json`, if it is listed.
fn leg_row(dir: &Path, url: &str, leg: &str) -> Option<Value> {
    json(dir, url, &["leg", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["leg"] == leg)
        .cloned()
}

/// A command that failed, saying so in one of `words` (lower case), without a panic.
fn assert_failed_saying(r: &Run, words: &[&str], what: &str) {
    assert_ne!(r.code, 0, "{what} succeeded: {}", r.stdout);
    let said = r.stderr.to_lowercase();
    assert!(
        words.iter().any(|w| said.contains(w)),
        "the error does not say {what}: {}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

fn write_manifest(path: &Path, lines: u64) -> i64 {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "item,quantity,batch,expiry,donor").unwrap();
    let mut total = 0_i64;
    for n in 0..lines {
        let quantity = (n % 97 + 1) as i64;
        total += quantity;
        writeln!(out, "HEB-10KG,{quantity},B{n},2027-01-31,{DONOR}").unwrap();
    }
    total
}

fn t1_killed_imports(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    init(d, url);
    let line_count = 5_000 * soak().min(4);
    let total = write_manifest(&d.join("big.csv"), line_count);
    leg_add(d, url, "TIMING");
    let started = Instant::now();
    ok(d, url, &["manifest", "import", "TIMING", "big.csv"]);
    let full_ms = started.elapsed().as_millis().max(10) as u64;
    let mut rng = Rng::new("T1 imports");
    let kills = 5 * soak();
    let (mut present, mut absent) = (0, 0);
    for round in 0..kills {
        let leg = format!("LEG-{round}");
        leg_add(d, url, &leg);
        let mut child = bin()
            .current_dir(d)
            .args([
                "--db", url, "--quiet", "manifest", "import", &leg, "big.csv",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(full_ms + full_ms / 5)));
        child.kill().unwrap();
        child.wait().unwrap();
        let row = leg_row(d, url, &leg).unwrap();
        let lines = row["manifest_lines"].as_i64().unwrap();
        let in_transit = row["in_transit"].as_i64().unwrap();
        if lines == 0 {
            assert_eq!(
                in_transit, 0,
                "round {round}: no lines but stock in transit"
            );
            absent += 1;
        } else {
            assert_eq!(lines as u64, line_count, "round {round}: a partial import");
            assert_eq!(in_transit, total, "round {round}: partial stock");
            present += 1;
        }
    }
    verify(d, url);
    println!(
        "T1: {kills} SIGKILLs during {line_count}-line imports (a full one takes {full_ms} ms): {present} wholly present, {absent} wholly absent, verify passes"
    );
}

// ------------------------------------------------------------- T3 (+T1)

/// A `reliefhub serve` process on a fixed port.
struct ServerProcess {
    child: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl ServerProcess {
    fn start(dir: &Path, url: &str, port: u16) -> ServerProcess {
        let mut child = bin()
            .current_dir(dir)
            .args([
                "--db",
                url,
                "--quiet",
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        assert!(
            line.contains("listening"),
            "the server did not start: {line}"
        );
        ServerProcess { child }
    }
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .max_idle_connections(0)
        .build()
        .into()
}

/// Sends one request; None when the server could not be reached (killed).
fn send(
    agent: &ureq::Agent,
    base: &str,
    method: &str,
    path: &str,
    token: &str,
    key: Option<&str>,
    body: &[u8],
) -> Option<(u16, String)> {
    let mut request = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/json");
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let mut response = agent.run(request.body(body.to_vec()).unwrap()).ok()?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().ok()?;
    Some((status, text))
}

fn staff_token(dir: &Path, url: &str) -> String {
    ok(
        dir,
        url,
        &[
            "user",
            "add",
            "--username",
            "battery",
            "--role",
            "operator",
            "--password",
            "battery-password-1",
        ],
    );
    let out = ok(dir, url, &["user", "token", "--username", "battery"]);
    out.lines().last().unwrap().trim().to_string()
}

/// What must be the same in every answer to one key.
fn answer_identity(status: u16, text: &str) -> String {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    format!(
        "{} {} {} {}",
        status / 100,
        v["reference"].as_str().or(v["code"].as_str()).unwrap_or(""),
        v["batch_id"],
        v["first_seq"]
    )
}

fn t3_replays_with_server_kills(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    init(d, url);
    let token = staff_token(d, url);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let count = 100 * soak() as usize;
    let mut rng = Rng::new("T3");
    let ops: Vec<(String, Vec<u8>)> = (0..count)
        .map(|i| {
            let body = if i % 2 == 0 {
                json!({"code": format!("PL-B{i}"), "donor": DONOR, "lines": [{"item": "ORS-CTN", "quantity": 1 + i}]})
            } else {
                json!({"code": format!("RQ-B{i}"), "destination": "SDPZU", "item": "RUTF-150", "quantity": 1 + i,
                       "priority": 3, "needed_by": "2025-05-01"})
            };
            let path = if i % 2 == 0 { "/api/pledges" } else { "/api/requests" };
            (path.to_string(), serde_json::to_vec(&body).unwrap())
        })
        .collect();
    let mut server = Some(ServerProcess::start(d, url, port));
    let agent = agent();
    let mut answers: Vec<Vec<String>> = vec![Vec::new(); count];
    let (mut kills, mut sends, mut retries) = (0, 0, 0);
    // Kill the server about every 15 requests, at a random moment: a thread
    // sleeps a random while and kills it while requests are under way.
    for (i, (path, body)) in ops.iter().enumerate() {
        let replays = 1 + rng.below(5) as usize;
        let key = format!("t3-{i}");
        for _ in 0..replays {
            if rng.below(15) == 0 {
                let victim = server.take().unwrap();
                let delay = Duration::from_millis(rng.below(8));
                let killer = std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    victim.kill();
                });
                // This request races the kill.
                sends += 1;
                if let Some((status, text)) =
                    send(&agent, &base, "POST", path, &token, Some(&key), body)
                {
                    answers[i].push(answer_identity(status, &text));
                }
                killer.join().unwrap();
                kills += 1;
                server = Some(ServerProcess::start(d, url, port));
                // Then the same request once more, to the new server.
            }
            loop {
                sends += 1;
                match send(&agent, &base, "POST", path, &token, Some(&key), body) {
                    // Still running on the killed server's key: try again
                    // (a 409 for the hub's data is an answer like any other).
                    Some((409, text)) if text.contains("\"in_progress\"") => {
                        retries += 1;
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Some((status, text)) => {
                        assert!(status < 500, "{path} {key}: {status} {text}");
                        answers[i].push(answer_identity(status, &text));
                        break;
                    }
                    None => {
                        retries += 1;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            }
        }
    }
    drop(server);
    for (i, seen) in answers.iter().enumerate() {
        assert!(!seen.is_empty(), "operation {i} never answered");
        assert!(
            seen.iter().all(|a| a == &seen[0]),
            "operation {i} answered differently: {seen:?}"
        );
        assert!(seen[0].starts_with('2'), "operation {i}: {seen:?}");
    }
    let mut store = Store::open(url).unwrap();
    let (pledges, requests) = store
        .read(|conn| {
            Ok((
                conn.query("SELECT COUNT(*) FROM pledges WHERE code LIKE 'PL-B%'", &[])?[0][0]
                    .int()?,
                conn.query("SELECT COUNT(*) FROM requests WHERE code LIKE 'RQ-B%'", &[])?[0][0]
                    .int()?,
            ))
        })
        .unwrap();
    assert_eq!(pledges as usize, count.div_ceil(2));
    assert_eq!(requests as usize, count / 2);
    verify(d, url);
    println!(
        "T1/T3: {count} keyed requests, {sends} sends ({} replays), {kills} server SIGKILLs, {retries} retries: each applied once, the same answers, verify passes",
        sends - count as u64
    );
}

// ------------------------------------------------------------------- T4

/// Drops every connection to the test database but the caller's, as a
/// restart of the PostgreSQL server does to its clients.
fn drop_connections(url: &str) -> u64 {
    let mut admin = ::postgres::Client::connect(url, ::postgres::NoTls).unwrap();
    admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap()
        .len() as u64
}

#[test]
fn t4_postgres_connections_dropped_under_load() {
    let db = reliefhub_testkit::TestDb::postgres();
    let url = db.url.as_str();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    init(d, url);
    let token = staff_token(d, url);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = ServerProcess::start(d, url, port);
    let agent = agent();
    let count = 200 * soak() as usize;
    let mut rng = Rng::new("T4");
    let (mut restarts, mut dropped, mut failed_sends) = (0, 0, 0);
    let mut acknowledged = Vec::new();
    for i in 0..count {
        if rng.below(20) == 0 {
            dropped += drop_connections(url);
            restarts += 1;
        }
        let body = serde_json::to_vec(
            &json!({"code": format!("PL-R{i}"), "donor": DONOR, "lines": [{"item": "ORS-CTN", "quantity": 1 + i}]}),
        )
        .unwrap();
        let key = format!("t4-{i}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match send(
                &agent,
                &base,
                "POST",
                "/api/pledges",
                &token,
                Some(&key),
                &body,
            ) {
                Some((status, text)) if status < 300 => {
                    acknowledged.push((key.clone(), text));
                    break;
                }
                other => {
                    failed_sends += 1;
                    assert!(
                        Instant::now() < deadline,
                        "the server did not recover from dropped connections: {other:?}"
                    );
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }
    // Every acknowledged write is there, once.
    let mut store = Store::open(url).unwrap();
    let pledges = store
        .read(|conn| {
            conn.query("SELECT COUNT(*) FROM pledges WHERE code LIKE 'PL-R%'", &[])?[0][0].int()
        })
        .unwrap();
    assert_eq!(pledges as usize, count);
    assert_eq!(acknowledged.len(), count);
    // Reads recover too.
    let (status, _) = send(&agent, &base, "GET", "/api/pledges", &token, None, b"").unwrap();
    assert_eq!(status, 200);
    verify(d, url);
    println!(
        "T4: {count} keyed writes, {restarts} times every connection dropped ({dropped} connections), \
         {failed_sends} failed sends retried: every acknowledged write present once, verify passes"
    );
}

// ------------------------------------------------------------------- T5

struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Tmpfs { dir },
            other => panic!(
                "T5 needs a small tmpfs to fill, and mounting one needs root (run the battery as root, \
                 e.g. in CI or with sudo): `mount -t tmpfs` failed: {other:?}"
            ),
        }
    }
    fn remount(&self, mode: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(self.dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "remount {mode}: {out:?}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).output();
    }
}

#[test]
fn t5_disk_full_and_read_only() {
    let fs = Tmpfs::mount("8m");
    let d = fs.dir.path();
    let url = format!("sqlite:{}", d.join("hub.db").display());
    init(d, &url);
    leg_add(d, &url, "FULL");
    // The manifest itself lives outside the small file system.
    let work = tempfile::tempdir().unwrap();
    let manifest = work.path().join("big.csv");
    write_manifest(&manifest, 250_000);
    let r = run_in(
        d,
        &url,
        &["manifest", "import", "FULL", manifest.to_str().unwrap()],
    );
    assert_failed_saying(&r, &["full"], "an import larger than the disk");
    let row = leg_row(d, &url, "FULL").unwrap();
    assert_eq!(
        row["manifest_lines"], 0,
        "half an import was written: {row}"
    );
    assert_eq!(row["in_transit"], 0, "{row}");
    verify(d, &url);
    // Space freed: the same import of a smaller file goes through.
    write_manifest(&manifest, 200);
    ok(
        d,
        &url,
        &["manifest", "import", "FULL", manifest.to_str().unwrap()],
    );
    verify(d, &url);

    // Read-only: writes fail clearly, nothing changes, it verifies after.
    fs.remount("ro");
    let r = run_in(d, &url, &leg_add_args("RO"));
    assert_failed_saying(
        &r,
        &["read-only", "readonly"],
        "a write to a read-only database",
    );
    fs.remount("rw");
    assert!(leg_row(d, &url, "RO").is_none());
    verify(d, &url);
    println!("T5: disk full during a 250,000-line import and a read-only file system: clear errors, nothing half-written, verify passes");
}

// ------------------------------------------------------------------- T6

fn fuzz_cases() -> u32 {
    2_000 * soak() as u32
}

/// A property runner of `cases` cases that keeps no failure files.
fn runner_of(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

fn runner() -> TestRunner {
    runner_of(fuzz_cases())
}

/// Arbitrary bytes, and bytes that look like the format (so the fuzzing
/// reaches past the first check).
fn bytes_like(samples: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        (
            0..samples.len(),
            proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8)
        )
            .prop_map(move |(i, edits)| {
                let mut bytes = samples[i].as_bytes().to_vec();
                for (at, byte) in edits {
                    if !bytes.is_empty() {
                        let at = at % bytes.len();
                        bytes[at] = byte;
                    }
                }
                bytes
            }),
    ]
}

const CSV_SAMPLES: &[&str] = &[
    "item,quantity,batch,expiry,donor\nHEB-10KG,5,B1,2027-01-31,KW-KRCS\n",
    "item,quantity,batch,expiry,packs,donor,earmark\n#item,#indicator+num,#meta+batch,#date+expiry,#indicator+packs,#org,#country\nORS-CTN,10,B,2026-12-01,2,KW-KRCS,SD;TD\n",
    "code,alpha2\nSD,SD\n",
];
const JSON_SAMPLES: &[&str] = &[
    r#"{"lines":[{"item":"HEB-10KG","quantity":5,"batch":"B1","expiry":"2027-01-31"}]}"#,
    r#"{"format":"reliefhub-plan-instance/1","lots":[],"requests":[],"departures":[]}"#,
    r#"[{"item":"ORS-CTN","quantity":1e400,"batch":"","earmark":["SD"]}]"#,
];

#[test]
fn t6_parsers_never_panic_on_arbitrary_bytes() {
    use reliefhub_formats::manifest::{read_manifest, ManifestFormat, ManifestRules};
    let rules = ManifestRules {
        items: ["HEB-10KG", "ORS-CTN"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        donors: [DONOR].iter().map(|s| s.to_string()).collect(),
        default_donor: Some(DONOR.into()),
        items_needing_expiry: ["HEB-10KG".to_string()].into_iter().collect(),
        countries: Default::default(),
    };
    let mut executions = 0_u64;
    let started = Instant::now();
    for (name, samples, format) in [
        ("manifest CSV", CSV_SAMPLES, Some(ManifestFormat::Csv)),
        ("manifest JSON", JSON_SAMPLES, Some(ManifestFormat::Json)),
        ("plan instance", JSON_SAMPLES, None),
        ("countries CSV", CSV_SAMPLES, None),
    ] {
        let mut runner = runner();
        let result = runner.run(&bytes_like(samples), |bytes| {
            let outcome = std::panic::catch_unwind(|| match (name, format) {
                (_, Some(format)) => {
                    let _ = read_manifest(&bytes[..], format, "fuzz", &rules, |_| Ok::<(), ()>(()));
                }
                ("plan instance", None) => {
                    let _ =
                        reliefhub_planner::Instance::from_json(&String::from_utf8_lossy(&bytes));
                }
                _ => {
                    let _ = reliefhub_formats::refdata::read_countries(&bytes[..], "fuzz");
                    let _ = reliefhub_formats::refdata::read_airports(&bytes[..], "fuzz");
                }
            });
            prop_assert!(
                outcome.is_ok(),
                "{name} panicked on {:?}",
                String::from_utf8_lossy(&bytes)
            );
            Ok(())
        });
        result.unwrap();
        executions += u64::from(fuzz_cases());
    }
    println!(
        "T6: {executions} parser executions over arbitrary bytes in {:.1} s, no panic",
        started.elapsed().as_secs_f64()
    );
}

/// Every request body the API declares, fuzzed over HTTP: never a 5xx.
fn t6_api_bodies(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    init(d, url);
    let token = staff_token(d, url);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = ServerProcess::start(d, url, port);
    let agent = agent();
    let doc: Value = {
        let (status, text) =
            send(&agent, &base, "GET", "/api/openapi.json", &token, None, b"").unwrap();
        assert_eq!(status, 200);
        serde_json::from_str(&text).unwrap()
    };
    let routes = body_routes(&doc);
    let cases = 30 * soak() as u32;
    let mut executions = 0_u64;
    let n = std::cell::Cell::new(0_u64);
    for (path, _) in &routes {
        let mut runner = runner_of(cases);
        let result = runner.run(&bytes_like(JSON_SAMPLES), |bytes| {
            n.set(n.get() + 1);
            let key = format!("t6-{}", n.get());
            let (status, text) = send(&agent, &base, "POST", path, &token, Some(&key), &bytes)
                .ok_or_else(|| {
                    TestCaseError::fail(format!("{path}: the server stopped answering"))
                })?;
            prop_assert!(
                status < 500,
                "{path}: {status} {text} for {:?}",
                String::from_utf8_lossy(&bytes)
            );
            Ok(())
        });
        result.unwrap();
        executions += u64::from(cases);
    }
    println!(
        "T6: {executions} arbitrary API bodies over {} routes, no 5xx",
        routes.len()
    );
}

// ------------------------------------------------------------------- T7

/// The POST routes with a JSON body: (path with objects filled in, body schema).
fn body_routes(doc: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(schema) =
            item["post"]["requestBody"]["content"]["application/json"]["schema"].as_object()
        else {
            continue;
        };
        if path == "/api/login" || path == "/api/plans" {
            continue; // login is throttled, planning runs the planner for seconds
        }
        let filled = path
            .replace("{code}", "X-1")
            .replace("{username}", "nobody")
            .replace("{id}", "1")
            .replace("{departure}", "X-1");
        out.push((filled, Value::Object(schema.clone())));
    }
    out
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => resolve(
            doc,
            &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        ),
        None => schema,
    }
}

fn is_type(schema: &Value, name: &str) -> bool {
    schema["type"] == name
        || schema["type"]
            .as_array()
            .is_some_and(|t| t.iter().any(|x| x == name))
}

/// A plausible value of a schema, and the numeric and date fields found,
/// as JSON pointers.
fn example(doc: &Value, schema: &Value, pointer: &str, fields: &mut Vec<(String, bool)>) -> Value {
    let schema = resolve(doc, schema);
    if let Some(options) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        let first = options
            .iter()
            .find(|o| o["type"] != "null")
            .unwrap_or(&options[0]);
        return example(doc, first, pointer, fields);
    }
    if is_type(schema, "object") || schema["properties"].is_object() {
        let mut object = serde_json::Map::new();
        if let Some(props) = schema["properties"].as_object() {
            for (name, prop) in props {
                object.insert(
                    name.clone(),
                    example(doc, prop, &format!("{pointer}/{name}"), fields),
                );
            }
        }
        return Value::Object(object);
    }
    if is_type(schema, "array") {
        return json!([example(
            doc,
            &schema["items"],
            &format!("{pointer}/0"),
            fields
        )]);
    }
    if is_type(schema, "integer") || is_type(schema, "number") {
        fields.push((pointer.to_string(), false));
        return json!(1);
    }
    if is_type(schema, "boolean") {
        return json!(false);
    }
    let name = pointer.rsplit('/').next().unwrap_or("");
    let datelike = schema["format"] == "date"
        || ["_on", "_by", "expiry", "arrival", "date", "departs", "day"]
            .iter()
            .any(|s| name.contains(s));
    if datelike {
        fields.push((pointer.to_string(), true));
        return json!("2025-04-01");
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    json!("X-1")
}

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "2147483648",
    "9007199254740993",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551616",
    "1e308",
    "-1e308",
    "0.5",
    "-0.0",
    "1e-320",
    "\"1\"",
    "null",
];
const DATES: &[&str] = &[
    "\"\"",
    "\"0000-01-01\"",
    "\"0001-01-01\"",
    "\"9999-12-31\"",
    "\"2025-02-29\"",
    "\"2024-02-29\"",
    "\"2025-13-01\"",
    "\"2025-00-10\"",
    "\"20250101\"",
    "\"-2025-01-01\"",
    "\"+10000-01-01\"",
    "\"2025-1-1\"",
    "7",
    "null",
];

fn t7_boundary_values(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    init(d, url);
    let token = staff_token(d, url);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = ServerProcess::start(d, url, port);
    let agent = agent();
    let doc: Value = {
        let (_, text) = send(&agent, &base, "GET", "/api/openapi.json", &token, None, b"").unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let mut requests = 0;
    let mut fields_seen = 0;
    for _ in 0..soak() {
        for (path, schema) in body_routes(&doc) {
            let mut fields = Vec::new();
            let base_body = example(&doc, &schema, "", &mut fields);
            fields_seen += fields.len();
            for (pointer, is_date) in fields {
                for raw in if is_date { DATES } else { NUMBERS } {
                    let mut body = base_body.clone();
                    *body.pointer_mut(&pointer).unwrap() =
                        serde_json::from_str(raw).unwrap_or(Value::Null);
                    let text = body.to_string();
                    requests += 1;
                    let key = format!("t7-{requests}");
                    let (status, answer) = send(
                        &agent,
                        &base,
                        "POST",
                        &path,
                        &token,
                        Some(&key),
                        text.as_bytes(),
                    )
                    .unwrap_or_else(|| {
                        panic!("{path} {pointer}={raw}: the server stopped answering")
                    });
                    assert!(status < 500, "{path} {pointer}={raw}: {status} {answer}");
                }
            }
        }
    }
    verify(d, url);
    println!("T7: {requests} requests with boundary values over {fields_seen} numeric and date fields: no 5xx");
}

both_backends!(
    t1_killed_imports,
    t2_concurrent_processes,
    t3_replays_with_server_kills,
    t6_api_bodies,
    t7_boundary_values,
);
