//! Trust through the real binary, on SQLite and on PostgreSQL: the actor on
//! every operation, every document in the chain (any field of any document
//! table changed in the database makes `verify` fail naming the operation),
//! operations removed behind a signed head caught by `verify --against`,
//! donor proofs checked with no database, every single-byte change of a
//! proof rejected.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{json, run_in};
use reliefhub_store::{Store, Value, DOCUMENT_TABLES};
use reliefhub_testkit::both_backends;

const MANIFEST: &str = "Item code,Qty,Lot,Expiry date,Packs,Earmark\n\
#item+code,#quantity,#meta+batch,#date+expiry,#meta+packs,#country+code+dest\n\
RUTF-150,600,R1,2027-06-30,6,SD;TD\n\
ORS-CTN,300,O1,2027-12-31,3,\n\
RUTF-150,200,R2,2027-08-31,2,\n";

/// Runs a command with the hub's key in the test directory; it must succeed.
fn ok(d: &Path, db: &str, args: &[&str]) -> String {
    let key = d.join("hub.key");
    let mut all = vec!["--key-file", key.to_str().unwrap()];
    all.extend_from_slice(args);
    common::ok(d, db, &all)
}

/// Runs a command with the hub's key; returns (exit code, stdout).
fn run(d: &Path, db: &str, args: &[&str]) -> (i32, String) {
    let key = d.join("hub.key");
    let mut all = vec!["--key-file", key.to_str().unwrap()];
    all.extend_from_slice(args);
    let r = run_in(d, db, &all);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    (r.code, format!("{}{}", r.stdout, r.stderr))
}

/// Every kind of document: pledge, leg, manifest, receipt with
/// discrepancies, hub transfer, request, departure, loading, delivery,
/// stock event, correction, pledge cancellation.
fn scenario(d: &Path, db: &str) {
    ok(d, db, &["init"]);
    let pledge = [
        "pledge",
        "add",
        "--code",
        "PL-1",
        "--donor",
        "QA-QFFD",
        "--line",
        "RUTF-150=1000@SD;TD",
        "--line",
        "ORS-CTN=500",
        "--on",
        "2025-03-01",
        "--by",
        "Nadia Haddad",
    ];
    ok(d, db, &pledge);
    ok(
        d,
        db,
        &[
            "leg",
            "add",
            "--code",
            "QR-8471",
            "--mode",
            "air",
            "--origin",
            "DOH",
            "--node",
            "HMEIMIM-AIR",
            "--carrier",
            "Qatar Airways Cargo",
            "--vehicle",
            "QR8471",
            "--expected-arrival",
            "2025-03-05",
            "--donor",
            "QA-QFFD",
        ],
    );
    std::fs::write(d.join("qr8471.csv"), MANIFEST).unwrap();
    ok(
        d,
        db,
        &[
            "manifest",
            "import",
            "QR-8471",
            "qr8471.csv",
            "--on",
            "2025-03-04",
        ],
    );
    ok(
        d,
        db,
        &[
            "receive",
            "QR-8471",
            "--line",
            "3=590",
            "--line",
            "4=300/20",
            "--line",
            "5=205/3:loss",
            "--by",
            "cargo shed",
            "--on",
            "2025-03-05",
        ],
    );
    ok(
        d,
        db,
        &[
            "transfer",
            "dispatch",
            "--code",
            "TR-1",
            "--from",
            "HMEIMIM-AIR",
            "--to",
            "TARTUS-PORT",
            "--lot",
            "3=400",
            "--on",
            "2025-03-06",
        ],
    );
    ok(d, db, &["transfer", "arrive", "TR-1", "--on", "2025-03-07"]);
    ok(
        d,
        db,
        &[
            "request",
            "add",
            "--code",
            "RQ-1",
            "--destination",
            "SDPZU",
            "--item",
            "RUTF-150",
            "--quantity",
            "500",
            "--priority",
            "1",
            "--needed-by",
            "2025-03-20",
            "--grace-days",
            "5",
        ],
    );
    ok(
        d,
        db,
        &[
            "departure",
            "add",
            "--code",
            "SEA-1",
            "--node",
            "TARTUS-PORT",
            "--destination",
            "SDPZU",
            "--mode",
            "sea",
            "--vehicle",
            "MV Tartus Trader",
            "--departs",
            "2025-03-08",
            "--arrives",
            "2025-03-15",
            "--payload-kg",
            "100000",
            "--volume-m3",
            "500",
            "--dangerous-goods",
        ],
    );
    ok(
        d,
        db,
        &[
            "departure",
            "load",
            "SEA-1",
            "--lot",
            "3=400@RQ-1",
            "--on",
            "2025-03-07",
        ],
    );
    ok(
        d,
        db,
        &["departure", "depart", "SEA-1", "--on", "2025-03-08"],
    );
    ok(
        d,
        db,
        &[
            "departure",
            "deliver",
            "SEA-1",
            "--received-by",
            "SD-HAC Port Sudan",
            "--line",
            "1=395",
            "--on",
            "2025-03-15",
        ],
    );
    let out = ok(
        d,
        db,
        &[
            "stock",
            "quarantine",
            "--node",
            "HMEIMIM-AIR",
            "--lot",
            "4",
            "--quantity",
            "7",
            "--reason",
            "inspection",
        ],
    );
    let entry = out
        .trim()
        .trim_end_matches(')')
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    ok(
        d,
        db,
        &["correct", "--entry", &entry, "--reason", "wrong lot"],
    );
    ok(
        d,
        db,
        &[
            "pledge",
            "add",
            "--code",
            "PL-2",
            "--donor",
            "QA-QFFD",
            "--line",
            "HEB-10KG=50",
            "--on",
            "2025-03-01",
        ],
    );
    ok(
        d,
        db,
        &["pledge", "cancel", "PL-2", "--reason", "reallocated"],
    );
}

/// A value different from `value`, of the same type.
fn changed(value: &Value) -> Vec<Value> {
    match value {
        Value::Null => vec![Value::Int(1), Value::Text("2025-01-01".into())],
        Value::Int(v) => vec![Value::Int(v + 1000), Value::Int(v + 1)],
        Value::Real(v) => vec![Value::Real(v + 1.5)],
        Value::Text(v) => vec![Value::Text(format!("{v}X"))],
        Value::Bytes(v) => {
            let mut b = v.clone();
            if let Some(first) = b.first_mut() {
                *first ^= 1;
            } else {
                b.push(1);
            }
            vec![Value::Bytes(b)]
        }
    }
}

/// A fresh connection for plain SQL, as someone with the database file
/// would use one.
fn tamper_conn(db: &str) -> Store {
    Store::open(db).unwrap()
}

fn documents(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    scenario(d, db);
    let verified = ok(d, db, &["verify"]);
    assert!(
        verified.contains("documents as their last operations left them"),
        "{verified}"
    );

    let mut store = tamper_conn(db);
    let mut fields_checked = 0;
    let mut tables_checked = 0;
    for table in DOCUMENT_TABLES {
        let columns = store.table_columns(table.table).unwrap();
        let list = columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = store
            .conn()
            .query(&format!("SELECT {list} FROM {} LIMIT 1", table.table), &[])
            .unwrap();
        let Some(row) = rows.first() else {
            continue;
        };
        tables_checked += 1;
        // The row, found again by every non-NULL column.
        let mut conditions = Vec::new();
        let mut params = Vec::new();
        for (name, value) in columns.iter().zip(row) {
            if !matches!(value, Value::Null) {
                params.push(value.clone());
                conditions.push(format!("\"{name}\" = ${}", params.len() + 1));
            }
        }
        for (column, value) in columns.iter().zip(row) {
            let mut done = false;
            for new in changed(value) {
                let sql = format!(
                    "UPDATE {} SET \"{column}\" = $1 WHERE {}",
                    table.table,
                    conditions.join(" AND ")
                );
                let mut all = vec![new.clone()];
                all.extend(params.iter().cloned());
                if store
                    .conn()
                    .execute(&sql, &all)
                    .map(|n| n == 1)
                    .unwrap_or(false)
                {
                    done = true;
                    break;
                }
            }
            assert!(done, "could not change {}.{column}", table.table);
            // A careful forger also clears the trace the triggers leave.
            store.conn().execute("DELETE FROM op_touched", &[]).unwrap();
            let mut checker = Store::open(db).unwrap();
            let failure = checker.verify_log().unwrap().expect_err(&format!(
                "verify passed with {}.{column} changed",
                table.table
            ));
            assert!(
                failure.operation().is_some(),
                "{}.{column}: the failure names no operation: {failure}",
                table.table
            );
            // The binary itself exits 1 and names the operation (checked on
            // the first field of each table, to keep the test quick).
            if column == &columns[0] {
                let (code, out) = run(d, db, &["verify"]);
                assert_eq!(code, 1, "{out}");
                assert!(out.contains("VERIFICATION FAILED: operation "), "{out}");
                assert!(out.contains(table.table), "{out}");
            }
            // Put it back: verify passes again.
            let mut back_conditions = conditions.clone();
            let mut back_params = params.clone();
            let position = columns.iter().position(|c| c == column).unwrap();
            if !matches!(value, Value::Null) {
                // Find the row by its changed value instead.
                let at = back_conditions
                    .iter()
                    .position(|c| c.starts_with(&format!("\"{column}\" =")))
                    .unwrap();
                back_conditions.remove(at);
                back_params.remove(at);
            }
            let _ = position;
            let renumbered: Vec<String> = back_conditions
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let name = c.split(" = ").next().unwrap();
                    format!("{name} = ${}", i + 2)
                })
                .collect();
            let sql = if renumbered.is_empty() {
                format!("UPDATE {} SET \"{column}\" = $1", table.table)
            } else {
                format!(
                    "UPDATE {} SET \"{column}\" = $1 WHERE {}",
                    table.table,
                    renumbered.join(" AND ")
                )
            };
            let mut all = vec![value.clone()];
            all.extend(back_params);
            store.conn().execute(&sql, &all).unwrap();
            store.conn().execute("DELETE FROM op_touched", &[]).unwrap();
            let mut checker = Store::open(db).unwrap();
            checker.verify_log().unwrap().unwrap_or_else(|f| {
                panic!("{}.{column} put back, verify still fails: {f}", table.table)
            });
            fields_checked += 1;
        }
    }
    assert!(
        tables_checked >= 18,
        "only {tables_checked} document tables had rows"
    );
    assert!(
        fields_checked >= 100,
        "only {fields_checked} fields checked"
    );

    // A row added outside any operation is reported too.
    store
        .conn()
        .execute(
            "INSERT INTO requests (code, destination, item, quantity, priority, needed_by, grace_days, requested_by, recorded_at_unix_ms) \
             VALUES ('RQ-FORGED', 'SDPZU', 'RUTF-150', 1, 1, '2025-03-20', 0, 'x', 0)",
            &[],
        )
        .unwrap();
    store.conn().execute("DELETE FROM op_touched", &[]).unwrap();
    let (code, out) = run(d, db, &["verify"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("RQ-FORGED") && out.contains("outside any operation"),
        "{out}"
    );
}

/// Drops the append-only triggers (a forger with the database can).
fn drop_guards(store: &mut Store, db: &str) {
    if db.starts_with("sqlite:") {
        for t in ["operations", "operation_documents", "merkle_nodes"] {
            for e in ["update", "delete"] {
                store
                    .conn()
                    .batch_execute(&format!("DROP TRIGGER IF EXISTS {t}_append_only_{e}"))
                    .unwrap();
            }
        }
    } else {
        for t in ["operations", "operation_documents", "merkle_nodes"] {
            store
                .conn()
                .batch_execute(&format!("DROP TRIGGER IF EXISTS {t}_append_only ON {t}"))
                .unwrap();
        }
    }
}

fn truncation(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    scenario(d, db);
    // Two operations that move no stock, then a checkpoint kept elsewhere.
    ok(
        d,
        db,
        &[
            "request",
            "add",
            "--code",
            "RQ-2",
            "--destination",
            "SDPZU",
            "--item",
            "ORS-CTN",
            "--quantity",
            "50",
            "--needed-by",
            "2025-03-25",
        ],
    );
    ok(
        d,
        db,
        &[
            "request",
            "add",
            "--code",
            "RQ-3",
            "--destination",
            "SDPZU",
            "--item",
            "ORS-CTN",
            "--quantity",
            "60",
            "--needed-by",
            "2025-03-25",
        ],
    );
    ok(d, db, &["checkpoint", "--out", "head.json"]);
    let head: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("head.json")).unwrap()).unwrap();
    let size = head["tree_size"].as_u64().unwrap();
    let out = ok(d, db, &["verify", "--against", "head.json"]);
    assert!(out.contains("the log extends the head"), "{out}");
    // Later operations keep the log consistent with the head.
    ok(
        d,
        db,
        &[
            "request",
            "add",
            "--code",
            "RQ-4",
            "--destination",
            "SDPZU",
            "--item",
            "ORS-CTN",
            "--quantity",
            "70",
            "--needed-by",
            "2025-03-25",
        ],
    );
    ok(d, db, &["verify", "--against", "head.json"]);

    // The forger removes the last two operations the head covers, their
    // documents and every trace in the log, leaving a log that verifies on
    // its own.
    let mut store = tamper_conn(db);
    drop_guards(&mut store, db);
    let keep = size as i64 - 2;
    let c = store.conn();
    c.execute(
        "DELETE FROM requests WHERE code IN ('RQ-2', 'RQ-3', 'RQ-4')",
        &[],
    )
    .unwrap();
    c.execute(
        "DELETE FROM operation_documents WHERE leaf_index >= $1",
        &[keep.into()],
    )
    .unwrap();
    c.execute(
        "DELETE FROM operations WHERE leaf_index >= $1",
        &[keep.into()],
    )
    .unwrap();
    // Keep only the nodes of the smaller tree.
    let nodes = c
        .query("SELECT level, node_index FROM merkle_nodes", &[])
        .unwrap();
    for node in nodes {
        let (level, index) = (node[0].int().unwrap(), node[1].int().unwrap());
        if (index + 1) << level > keep {
            c.execute(
                "DELETE FROM merkle_nodes WHERE level = $1 AND node_index = $2",
                &[level.into(), index.into()],
            )
            .unwrap();
        }
    }
    c.execute("DELETE FROM op_touched", &[]).unwrap();
    let out = ok(d, db, &["verify"]);
    assert!(
        out.contains(&format!("verified: {keep} operations")),
        "{out}"
    );
    let (code, out) = run(d, db, &["verify", "--against", "head.json"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("the first missing is operation {keep}")),
        "{out}"
    );
}

fn proofs(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    scenario(d, db);
    let key = ok(d, db, &["key", "show"]).trim().to_string();
    assert_eq!(key.len(), 64, "{key}");
    ok(d, db, &["proof", "donor", "QA-QFFD", "--out", "proof.json"]);
    // Checked with no database at all.
    let (code, out) = run(
        d,
        "sqlite:/nonexistent/none.db",
        &["proof", "verify", "proof.json", "--key", &key],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("valid:"), "{out}");
    let proof: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("proof.json")).unwrap()).unwrap();
    // Every operation that moved the donor's lots is in it, each with its actor.
    let items = proof["items"].as_array().unwrap();
    assert!(items.len() >= 8, "{}", items.len());
    assert!(items
        .iter()
        .any(|i| i["operation"]["actor"] == "Nadia Haddad"));
    assert!(items
        .iter()
        .any(|i| i["operation"]["actor"] == "cargo shed"));
    // Its statement agrees with the donor report's delivered figure.
    let report = json(d, db, &["report", "donor", "QA-QFFD", "--json"]);
    let delivered: i64 = proof["statement"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["accounts"]["delivered"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(delivered, report["totals"]["delivered"].as_i64().unwrap());
    // Another key: refused.
    let (code, out) = run(
        d,
        db,
        &["proof", "verify", "proof.json", "--key", &"ab".repeat(32)],
    );
    assert_eq!(code, 1, "{out}");
    // An unknown donor: refused with exit 2.
    let (code, _) = run(d, db, &["proof", "donor", "XX-NONE", "--out", "x.json"]);
    assert_eq!(code, 2);
}

fn actors(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, db, &["init", "--by", "setup"]);
    ok(
        d,
        db,
        &[
            "request",
            "add",
            "--code",
            "RQ-1",
            "--destination",
            "SDPZU",
            "--item",
            "RUTF-150",
            "--quantity",
            "5",
            "--needed-by",
            "2025-03-20",
            "--by",
            "amina",
        ],
    );
    // RELIEFHUB_ACTOR when there is no --by.
    let key = d.join("hub.key");
    let out = common::bin()
        .current_dir(d)
        .args([
            "--db",
            db,
            "--key-file",
            key.to_str().unwrap(),
            "request",
            "cancel",
            "RQ-1",
        ])
        .env("RELIEFHUB_ACTOR", "omar")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = json(d, db, &["log", "--json"]);
    let ops = log.as_array().unwrap();
    let by = |kind: &str| {
        ops.iter()
            .find(|o| o["kind"] == kind)
            .map(|o| o["actor"].as_str().unwrap().to_string())
    };
    assert_eq!(by("master-data.add").as_deref(), Some("setup"));
    assert_eq!(by("request.add").as_deref(), Some("amina"));
    assert_eq!(by("request.change").as_deref(), Some("omar"));
    let only = json(d, db, &["log", "--json", "--actor", "amina"]);
    assert_eq!(only.as_array().unwrap().len(), 1);
    let csv = ok(d, db, &["log", "--csv", "--kind", "request.add"]);
    assert_eq!(csv.lines().count(), 3, "{csv}");
}

both_backends!(documents, truncation, proofs, actors);

/// Every single-byte change of a small proof, and of a head's signature, is
/// rejected; no input makes the checker panic.
#[test]
fn every_single_byte_change_of_a_proof_is_rejected() {
    let db = reliefhub_testkit::TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &db.url, &["init"]);
    ok(
        d,
        &db.url,
        &[
            "pledge",
            "add",
            "--code",
            "PL-1",
            "--donor",
            "KW-KRCS",
            "--line",
            "HEB-10KG=50",
            "--by",
            "n",
        ],
    );
    ok(
        d,
        &db.url,
        &[
            "request",
            "add",
            "--code",
            "RQ-1",
            "--destination",
            "SDPZU",
            "--item",
            "HEB-10KG",
            "--quantity",
            "5",
            "--needed-by",
            "2025-03-20",
        ],
    );
    ok(
        d,
        &db.url,
        &["proof", "donor", "KW-KRCS", "--out", "proof.json"],
    );
    let bytes = std::fs::read(d.join("proof.json")).unwrap();
    let summary = reliefhub_ops::trust::verify_proof(&bytes, None).unwrap();
    assert_eq!(summary.operations, 1);
    let mut tried = 0_u64;
    for position in 0..bytes.len() {
        for value in 0..=255u8 {
            if value == bytes[position] {
                continue;
            }
            let mut changed = bytes.clone();
            changed[position] = value;
            let result =
                std::panic::catch_unwind(|| reliefhub_ops::trust::verify_proof(&changed, None));
            let result = result
                .unwrap_or_else(|_| panic!("the checker panicked at byte {position} = {value}"));
            assert!(
                result.is_err(),
                "byte {position} changed from {:?} to {:?} was accepted",
                bytes[position] as char,
                value as char
            );
            tried += 1;
        }
    }
    assert_eq!(tried, bytes.len() as u64 * 255);

    // The head alone: every byte of its signature.
    ok(d, &db.url, &["checkpoint", "--out", "head.json"]);
    let text = std::fs::read_to_string(d.join("head.json")).unwrap();
    let head: reliefhub_ops::trust::TreeHead = serde_json::from_str(&text).unwrap();
    head.check(None).unwrap();
    let signature = head.signature.clone().into_bytes();
    for position in 0..signature.len() {
        for value in 0..=255u8 {
            if value == signature[position] {
                continue;
            }
            let mut changed = signature.clone();
            changed[position] = value;
            let mut bad = head.clone();
            bad.signature = String::from_utf8_lossy(&changed).into_owned();
            assert!(
                bad.check(None).is_err(),
                "signature byte {position} = {value} accepted"
            );
        }
    }

    // Arbitrary input never panics.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for length in 0..2000 {
        let mut input = Vec::with_capacity(length % 300);
        for _ in 0..length % 300 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            input.push((state >> 24) as u8);
        }
        assert!(reliefhub_ops::trust::verify_proof(&input, None).is_err());
    }
}

/// `reliefhub log --json` on the demo lists every operation, each with an
/// actor, and the log and documents verify.
#[test]
fn demo_log_lists_every_operation_with_its_actor() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = format!("sqlite:{}", d.join("demo.db").display());
    let out = common::ok(d, &db, &["demo", "--no-serve"]);
    assert!(out.contains("Operation log:"), "{out}");
    let log = json(d, &db, &["log", "--json"]);
    let ops = log.as_array().unwrap();
    assert!(ops.len() > 100, "{}", ops.len());
    for op in ops {
        assert!(!op["actor"].as_str().unwrap().trim().is_empty(), "{op}");
    }
    // Named staff, and operations that move no stock are there too.
    assert!(ops
        .iter()
        .any(|o| o["actor"] == "Lina Khoury (warehouse)" && o["kind"] == "receipt.record"));
    assert!(ops
        .iter()
        .any(|o| o["kind"] == "request.add" && o["transfer_count"] == 0));
    assert!(ops.iter().any(|o| o["kind"] == "departure.add"));
    let verified = common::ok(d, &db, &["verify"]);
    assert!(verified.contains("operations in the log"), "{verified}");
}
