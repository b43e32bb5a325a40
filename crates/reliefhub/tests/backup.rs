//! `reliefhub backup` while another process writes, then `restore` into a
//! new SQLite and a new PostgreSQL database: both verify, with the journal
//! length and last hash the backup recorded. A truncated or altered backup
//! and a target that is not new are refused.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{ok, run_in, verify};
use reliefhub_core::account::Account;
use reliefhub_core::domain::LotSpec;
use reliefhub_core::ledger::{Batch, LotRef, TransferSpec};
use reliefhub_store::Store;
use reliefhub_testkit::{both_backends, TestDb};

fn pledge_batch(n: u64) -> Batch {
    Batch {
        key: format!("backup-load-{n}"),
        kind: "pledge.record".into(),
        new_lots: vec![LotSpec {
            item: "ORS-CTN".into(),
            donor: "KW-KRCS".into(),
            batch: format!("PLEDGE BK-{n}/1"),
            expiry: None,
            earmark: Vec::new(),
        }],
        transfers: vec![TransferSpec {
            lot: LotRef::New(0),
            from: Account::parse("source:KW-KRCS").unwrap(),
            to: Account::parse("pledged:KW-KRCS").unwrap(),
            quantity: 1 + (n % 40) as i64,
            corrects: None,
        }],
    }
}

/// The (entries, last hash) a `backup`/`restore` line printed.
fn head_of(line: &str) -> (String, String) {
    let entries = line
        .split(" journal entries")
        .next()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    let hash = line
        .split("last hash ")
        .nth(1)
        .unwrap()
        .split(|c: char| !c.is_ascii_hexdigit())
        .next()
        .unwrap()
        .to_string();
    (entries, hash)
}

fn backup_while_writing_then_restore_anywhere(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, url, &["init"]);
    ok(
        d,
        url,
        &[
            "user",
            "add",
            "--username",
            "ana",
            "--role",
            "admin",
            "--password",
            "ana-password-1",
        ],
    );
    let mut store = Store::open(url).unwrap();
    for n in 0..300 {
        store.apply(&pledge_batch(n), 0).unwrap();
    }
    drop(store);

    // A writer keeps applying batches during the backup.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (url, stop) = (url.to_string(), stop.clone());
        std::thread::spawn(move || {
            let mut store = Store::open(&url).unwrap();
            let mut n = 1_000;
            while !stop.load(Ordering::SeqCst) {
                store.apply(&pledge_batch(n), 0).unwrap();
                n += 1;
            }
            n - 1_000
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    let out = ok(d, url, &["backup", "--out", "hub.backup"]);
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::SeqCst);
    let written = writer.join().unwrap();
    assert!(written > 0, "the writer wrote nothing during the backup");
    let (entries, hash) = head_of(&out);
    assert!(entries.parse::<i64>().unwrap() >= 300, "{out}");
    assert_eq!(hash.len(), 16, "{out}");
    verify(d, url);

    for target in [TestDb::sqlite(), TestDb::postgres()] {
        let restored = ok(d, &target.url, &["restore", "hub.backup"]);
        assert!(restored.contains("verified"), "{restored}");
        assert_eq!(
            head_of(&restored),
            (entries.clone(), hash.clone()),
            "{out}\n{restored}"
        );
        verify(d, &target.url);
        // The restored hub works: users sign in, the ledger takes new batches.
        let mut store = Store::open(&target.url).unwrap();
        store.apply(&pledge_batch(99_999), 0).unwrap();
        let users = ok(d, &target.url, &["user", "list"]);
        assert!(users.contains("ana"), "{users}");
        verify(d, &target.url);
        // Never into a database that has a schema.
        let again = run_in(d, &target.url, &["restore", "hub.backup"]);
        assert_ne!(again.code, 0);
        assert!(
            again.stderr.contains("new, empty database"),
            "{}",
            again.stderr
        );
    }
    // A backup never overwrites a file.
    let r = run_in(d, url, &["backup", "--out", "hub.backup"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("exists"), "{}", r.stderr);
}

#[test]
fn altered_or_truncated_portable_backups_are_refused() {
    let source = TestDb::postgres();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &source.url, &["init"]);
    let mut store = Store::open(&source.url).unwrap();
    for n in 0..20 {
        store.apply(&pledge_batch(n), 0).unwrap();
    }
    ok(d, &source.url, &["backup", "--out", "pg.backup"]);
    let text = std::fs::read_to_string(d.join("pg.backup")).unwrap();
    assert!(text.starts_with("{"), "{}", &text[..100]);
    assert!(text.contains("reliefhub-backup/1"));

    let lines: Vec<&str> = text.lines().collect();
    let truncated = lines[..lines.len() - 3].join("\n") + "\n";
    std::fs::write(d.join("truncated.backup"), truncated).unwrap();
    let target = TestDb::sqlite();
    let r = run_in(d, &target.url, &["restore", "truncated.backup"]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("truncated"), "{}", r.stderr);

    let altered = text.replacen("\"ORS-CTN\"", "\"HEB-10KG\"", 1);
    assert_ne!(altered, text);
    std::fs::write(d.join("altered.backup"), altered).unwrap();
    let target = TestDb::sqlite();
    let r = run_in(d, &target.url, &["restore", "altered.backup"]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("altered"), "{}", r.stderr);
}

both_backends!(backup_while_writing_then_restore_anywhere);
