//! The Store conformance suite: every test runs against SQLite and against a
//! real PostgreSQL server.

#![allow(clippy::unwrap_used)]

use reliefhub_core::domain::parse_date;
use reliefhub_core::{Account, Batch, LedgerError, LossReason, LotRef, LotSpec, TransferSpec};
use reliefhub_store::{Store, StoreError};
use reliefhub_testkit::both_backends;

const NOW: i64 = 1_796_000_000_000;

fn open(url: &str) -> Store {
    let mut store = Store::open(url).unwrap();
    store.migrate(NOW).unwrap();
    store
        .load_reference_data(&reliefhub_core::reference::builtin())
        .unwrap();
    store
}

fn lot(item: &str) -> LotSpec {
    LotSpec {
        item: item.into(),
        donor: "QA-QFFD".into(),
        batch: "B-1".into(),
        expiry: parse_date("2027-06-30"),
        earmark: vec!["SD".into()],
    }
}

fn t(lot: LotRef, from: &Account, to: &Account, quantity: i64) -> TransferSpec {
    TransferSpec {
        lot,
        from: from.clone(),
        to: to.clone(),
        quantity,
        corrects: None,
    }
}

fn src() -> Account {
    Account::source("QA-QFFD").unwrap()
}
fn port() -> Account {
    Account::at_node("TARTUS-PORT").unwrap()
}
fn air() -> Account {
    Account::at_node("HMEIMIM-AIR").unwrap()
}

/// Receives `quantity` of a new lot at the port; returns the lot id.
fn receive(store: &mut Store, key: &str, quantity: i64) -> i64 {
    let batch = Batch {
        key: key.into(),
        kind: "test.receive".into(),
        new_lots: vec![lot("HEB-10KG")],
        transfers: vec![t(LotRef::New(0), &src(), &port(), quantity)],
    };
    store.apply(&batch, NOW).unwrap().lot_ids[0]
}

/// Row counts of every ledger table, to show that nothing was written.
fn snapshot(store: &mut Store) -> Vec<i64> {
    ["batches", "lots", "journal", "balances"]
        .iter()
        .map(|t| store.count(t).unwrap())
        .collect()
}

fn init_is_idempotent_and_loads_reference_data(url: &str) {
    let mut store = open(url);
    assert!(
        store.migrate(NOW).unwrap().is_empty(),
        "a second migrate applies nothing"
    );
    store
        .load_reference_data(&reliefhub_core::reference::builtin())
        .unwrap();
    assert!(store.items().unwrap().len() >= 20);
    assert!(store.count("destinations").unwrap() >= 10);
    assert_eq!(store.count("nodes").unwrap(), 2);
    store.ensure_ready().unwrap();
    assert!(store.verify(|_, _| {}).unwrap().is_ok());
}

/// The seed's master data reads back whole (names in four languages, value
/// per unit, UN class, airports) on both databases.
fn master_data_reads_back_as_seeded(url: &str) {
    let mut store = open(url);
    let seed = reliefhub_core::reference::builtin();
    let mut items = seed.items.clone();
    items.sort_by(|a, b| a.code.cmp(&b.code));
    assert_eq!(store.items().unwrap(), items);
    let mut organisations = seed.organisations.clone();
    organisations.sort_by(|a, b| a.code.cmp(&b.code));
    assert_eq!(store.organisations().unwrap(), organisations);
    let mut destinations = seed.destinations.clone();
    destinations.sort_by(|a, b| a.locode.cmp(&b.locode));
    assert_eq!(store.destinations().unwrap(), destinations);
    let rutf = store
        .items()
        .unwrap()
        .into_iter()
        .find(|i| i.code == "RUTF-150")
        .unwrap();
    assert_eq!(rutf.value_usd_per_unit, Some(50.0));
    assert!(rutf.name_in("ar").starts_with("أغذية"));
}

fn uninitialised_database_is_reported(url: &str) {
    let mut store = Store::open(url).unwrap();
    let error = store.ensure_ready().unwrap_err();
    assert!(error.to_string().contains("reliefhub init"), "{error}");
}

fn transfers_move_stock_and_conserve_it(url: &str) {
    let mut store = open(url);
    let lot_id = receive(&mut store, "r1", 1200);
    let batch = Batch {
        key: "move-1".into(),
        kind: "test.move".into(),
        new_lots: vec![],
        transfers: vec![
            t(LotRef::Existing(lot_id), &port(), &air(), 500),
            t(
                LotRef::Existing(lot_id),
                &air(),
                &Account::loss(LossReason::Damaged),
                20,
            ),
        ],
    };
    let applied = store.apply(&batch, NOW).unwrap();
    assert!(!applied.replayed);
    assert_eq!(applied.transfer_count, 2);
    assert_eq!(store.balance(&port(), lot_id).unwrap(), 700);
    assert_eq!(store.balance(&air(), lot_id).unwrap(), 480);
    assert_eq!(
        store
            .balance(&Account::loss(LossReason::Damaged), lot_id)
            .unwrap(),
        20
    );
    assert_eq!(store.balance(&src(), lot_id).unwrap(), -1200);
    let total: i64 = store
        .balances()
        .unwrap()
        .iter()
        .filter(|b| b.lot_id == lot_id)
        .map(|b| b.quantity)
        .sum();
    assert_eq!(total, 0, "conservation: the lot's accounts sum to zero");
    let lot = store.lot(lot_id).unwrap().unwrap();
    assert_eq!(lot.spec, self::lot("HEB-10KG"));
    let summary = store.verify(|_, _| {}).unwrap().unwrap();
    assert_eq!(summary.entries, 3);
}

fn replaying_a_key_returns_the_first_result_and_changes_nothing(url: &str) {
    let mut store = open(url);
    let batch = Batch {
        key: "manifest-7".into(),
        kind: "test.receive".into(),
        new_lots: vec![lot("HEB-10KG"), lot("RUTF-150")],
        transfers: vec![
            t(LotRef::New(0), &src(), &port(), 10),
            t(LotRef::New(1), &src(), &port(), 20),
        ],
    };
    let first = store.apply(&batch, NOW).unwrap();
    let before = snapshot(&mut store);
    let again = store.apply(&batch, NOW + 5_000).unwrap();
    assert!(again.replayed);
    assert_eq!(
        (
            again.batch_id,
            again.first_seq,
            again.transfer_count,
            &again.lot_ids
        ),
        (
            first.batch_id,
            first.first_seq,
            first.transfer_count,
            &first.lot_ids
        )
    );
    assert_eq!(snapshot(&mut store), before);
}

fn reusing_a_key_for_other_content_is_refused(url: &str) {
    let mut store = open(url);
    receive(&mut store, "k", 10);
    let before = snapshot(&mut store);
    let other = Batch {
        key: "k".into(),
        kind: "test.receive".into(),
        new_lots: vec![lot("HEB-10KG")],
        transfers: vec![t(LotRef::New(0), &src(), &port(), 11)],
    };
    let error = store.apply(&other, NOW).unwrap_err();
    assert!(matches!(error, StoreError::KeyReused { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("already used for a different operation"),
        "{error}"
    );
    assert_eq!(snapshot(&mut store), before);
}

fn refused(store: &mut Store, batch: &Batch) -> Vec<LedgerError> {
    let before = snapshot(store);
    let error = store.apply(batch, NOW).unwrap_err();
    assert_eq!(snapshot(store), before, "nothing is written on refusal");
    match error {
        StoreError::Rejected(errors) => errors,
        other => panic!("expected a rejection, got {other}"),
    }
}

fn bad_input_is_refused_and_nothing_is_written(url: &str) {
    let mut store = open(url);
    let lot_id = receive(&mut store, "r", 100);

    // An unknown item.
    let batch = Batch {
        key: "b1".into(),
        kind: "x".into(),
        new_lots: vec![lot("MYSTERY-BOX")],
        transfers: vec![t(LotRef::New(0), &src(), &port(), 1)],
    };
    let errors = refused(&mut store, &batch);
    assert!(
        matches!(&errors[..], [LedgerError::UnknownItem { item, .. }] if item == "MYSTERY-BOX"),
        "{errors:?}"
    );
    assert!(errors[0].to_string().contains("not in the catalogue"));

    // Zero and negative quantities, all reported at once.
    let batch = Batch {
        key: "b2".into(),
        kind: "x".into(),
        new_lots: vec![],
        transfers: vec![
            t(LotRef::Existing(lot_id), &port(), &air(), 0),
            t(LotRef::Existing(lot_id), &port(), &air(), -5),
        ],
    };
    let errors = refused(&mut store, &batch);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors
        .iter()
        .all(|e| matches!(e, LedgerError::BadQuantity { .. })));

    // A transfer from an empty account.
    let batch = Batch {
        key: "b3".into(),
        kind: "x".into(),
        new_lots: vec![],
        transfers: vec![t(LotRef::Existing(lot_id), &air(), &port(), 1)],
    };
    let errors = refused(&mut store, &batch);
    assert!(
        matches!(
            &errors[..],
            [LedgerError::InsufficientBalance {
                before: 0,
                debit: 1,
                ..
            }]
        ),
        "{errors:?}"
    );
    assert!(errors[0].to_string().contains("at:HMEIMIM-AIR"));

    // More than the account holds, and an unknown lot, and an unknown node.
    let batch = Batch {
        key: "b4".into(),
        kind: "x".into(),
        new_lots: vec![],
        transfers: vec![
            t(LotRef::Existing(lot_id), &port(), &air(), 101),
            t(LotRef::Existing(999), &port(), &air(), 1),
            t(
                LotRef::Existing(lot_id),
                &port(),
                &Account::at_node("NOWHERE").unwrap(),
                1,
            ),
        ],
    };
    let errors = refused(&mut store, &batch);
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, LedgerError::UnknownLot { lot: 999, .. })),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, LedgerError::UnknownReference { .. })),
        "{errors:?}"
    );

    // An empty batch.
    let batch = Batch {
        key: "b5".into(),
        kind: "x".into(),
        new_lots: vec![],
        transfers: vec![],
    };
    assert_eq!(refused(&mut store, &batch), vec![LedgerError::EmptyBatch]);
    assert!(store.verify(|_, _| {}).unwrap().is_ok());
}

fn corrections_reverse_named_entries_and_no_more(url: &str) {
    let mut store = open(url);
    let lot_id = receive(&mut store, "r", 100);
    let moved = store
        .apply(
            &Batch {
                key: "m".into(),
                kind: "x".into(),
                new_lots: vec![],
                transfers: vec![t(LotRef::Existing(lot_id), &port(), &air(), 40)],
            },
            NOW,
        )
        .unwrap();
    let correct = |key: &str, quantity: i64, from: &Account, to: &Account| Batch {
        key: key.into(),
        kind: "correction".into(),
        new_lots: vec![],
        transfers: vec![TransferSpec {
            lot: LotRef::Existing(lot_id),
            from: from.clone(),
            to: to.clone(),
            quantity,
            corrects: Some(moved.first_seq),
        }],
    };
    // The wrong direction is refused.
    let errors = refused(&mut store, &correct("c0", 10, &port(), &air()));
    assert!(
        matches!(errors[0], LedgerError::CorrectionMismatch { .. }),
        "{errors:?}"
    );
    store
        .apply(&correct("c1", 30, &air(), &port()), NOW)
        .unwrap();
    assert_eq!(store.balance(&air(), lot_id).unwrap(), 10);
    let errors = refused(&mut store, &correct("c2", 11, &air(), &port()));
    assert!(
        matches!(
            errors[0],
            LedgerError::CorrectionTooLarge { remaining: 10, .. }
        ),
        "{errors:?}"
    );
    store
        .apply(&correct("c3", 10, &air(), &port()), NOW)
        .unwrap();
    assert_eq!(store.balance(&port(), lot_id).unwrap(), 100);
    // Correcting an entry that does not exist.
    let mut batch = correct("c4", 1, &air(), &port());
    batch.transfers[0].corrects = Some(12345);
    let errors = refused(&mut store, &batch);
    assert!(
        matches!(
            errors[0],
            LedgerError::UnknownCorrected {
                corrects: 12345,
                ..
            }
        ),
        "{errors:?}"
    );
    assert!(store.verify(|_, _| {}).unwrap().is_ok());
    let log = store.verify_log().unwrap();
    assert!(log.is_ok(), "corrections' contents leaves: {log:?}");
}

fn the_journal_refuses_updates_and_deletes(url: &str) {
    let mut store = open(url);
    receive(&mut store, "r", 5);
    for sql in [
        "UPDATE journal SET quantity = 6",
        "DELETE FROM journal",
        "UPDATE lots SET batch = 'X'",
        "DELETE FROM batches",
    ] {
        let error = store.conn().execute(sql, &[]).unwrap_err();
        assert!(error.to_string().contains("append-only"), "{sql}: {error}");
    }
}

fn compacting_keeps_the_ledger_and_its_chain(url: &str) {
    let mut store = open(url);
    let lot_id = receive(&mut store, "c-1", 100);
    for n in 0..20 {
        let batch = Batch {
            key: format!("c-move-{n}"),
            kind: "test.move".into(),
            ..Batch::of_transfers(vec![t(LotRef::Existing(lot_id), &port(), &air(), 1)])
        };
        store.apply(&batch, NOW).unwrap();
    }
    let counts = snapshot(&mut store);
    let before = store.verify(|_, _| {}).unwrap().unwrap();
    let compaction = store.compact().unwrap();
    assert!(compaction.bytes_before > 0 && compaction.bytes_after > 0);
    assert_eq!(snapshot(&mut store), counts, "no row added or lost");
    let after = store.verify(|_, _| {}).unwrap().unwrap();
    assert_eq!(after.entries, before.entries);
    assert_eq!(after.last_hash, before.last_hash, "the same hash chain");
    assert_eq!(store.balance(&air(), lot_id).unwrap(), 20);
    // The store goes on working after it (on SQLite, back in WAL mode).
    receive(&mut store, "c-2", 5);
    assert!(store.verify(|_, _| {}).unwrap().is_ok());
    if url.starts_with("sqlite:") {
        let mode = store.conn().query("PRAGMA journal_mode", &[]).unwrap()[0][0]
            .text()
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(compaction.page_size_after, Some(16_384));
    }
}

fn reference_data_imports_from_the_public_files(url: &str) {
    let mut store = open(url);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/refdata");
    let countries = reliefhub_formats::refdata::read_countries(
        std::fs::File::open(root.join("iso3166/country-codes.csv")).unwrap(),
        "country-codes.csv",
    )
    .unwrap();
    store.replace_countries(&countries).unwrap();
    let sudan = store.country("SD").unwrap().unwrap();
    assert_eq!(sudan.alpha3, "SDN");
    assert!(sudan.name_fr.contains("Soudan"), "{sudan:?}");
    assert!(!sudan.name_ar.is_empty() && !sudan.name_ru.is_empty());
    let airports = reliefhub_formats::refdata::read_airports(
        std::fs::File::open(root.join("ourairports/airports-2022-10-11.csv")).unwrap(),
        "airports.csv",
    )
    .unwrap();
    store.replace_airports(&airports).unwrap();
    let ndj = store.airport_by_iata("NDJ").unwrap().unwrap();
    assert_eq!((ndj.ident.as_str(), ndj.country.as_str()), ("FTTJ", "TD"));
    assert_eq!(store.airport_by_iata("LTK").unwrap().unwrap().ident, "OSLK");
}

/// Balances stay exact across stores: one store leaves changes in the
/// journal tail (not yet folded into the balance table), another reads and
/// writes on top of them, and a streamed batch of many new lots folds its
/// balances before it commits.
fn balances_are_exact_across_stores_and_folds(url: &str) {
    let mut first = open(url);
    let lot_id = receive(&mut first, "r1", 100);
    let mut second = Store::open(url).unwrap();
    assert_eq!(
        second.balance(&port(), lot_id).unwrap(),
        100,
        "read through the tail"
    );
    let move_batch = |key: &str, from: &Account, to: &Account, quantity: i64| Batch {
        key: key.into(),
        kind: "test.move".into(),
        new_lots: vec![],
        transfers: vec![t(LotRef::Existing(lot_id), from, to, quantity)],
    };
    first
        .apply(&move_batch("m1", &port(), &air(), 30), NOW)
        .unwrap();
    second
        .apply(&move_batch("m2", &port(), &air(), 20), NOW)
        .unwrap();
    // 50 left at the port: the first store must see the second's move.
    let error = first
        .apply(&move_batch("m3", &port(), &air(), 51), NOW)
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Rejected(e) if matches!(e[0], LedgerError::InsufficientBalance { before: 50, .. })),
        "{error}"
    );
    first
        .apply(&move_batch("m4", &air(), &port(), 50), NOW)
        .unwrap();
    let (applied, _) = first
        .apply_streamed("big", "test.receive", [7; 32], NOW, |stream| {
            for chunk in 0..3 {
                let batch = Batch {
                    key: "big".into(),
                    kind: "test.receive".into(),
                    // Lots of every shape (no expiry, no earmark, several
                    // earmarks), whose contents leaves are hashed as the
                    // entries are written.
                    new_lots: (0..500)
                        .map(|i| LotSpec {
                            expiry: if i % 3 == 0 { None } else { lot("").expiry },
                            earmark: match i % 4 {
                                0 => vec![],
                                1 => vec!["SD".into(), "TD".into()],
                                _ => vec!["SD".into()],
                            },
                            ..lot("HEB-10KG")
                        })
                        .collect(),
                    transfers: (0..500)
                        .map(|i| t(LotRef::New(i), &src(), &port(), 1 + chunk))
                        .chain([t(LotRef::Existing(lot_id), &port(), &air(), 1)])
                        .collect(),
                };
                stream.push(&batch)?;
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(applied.lot_ids.len(), 1500);
    // Everything streamed is in the table before anyone folds again.
    let rows = first
        .conn()
        .query(
            "SELECT CAST(SUM(quantity) AS BIGINT), COUNT(*) FROM balances WHERE account = 'at:TARTUS-PORT' AND lot_id >= $1",
            &[applied.lot_ids[0].into()],
        )
        .unwrap();
    assert_eq!(rows[0][0].int().unwrap(), 500 * (1 + 2 + 3));
    assert_eq!(rows[0][1].int().unwrap(), 1500);
    assert_eq!(
        second.balance(&port(), lot_id).unwrap(),
        100 - 30 - 20 + 50 - 3
    );
    // 30 and 20 moved to the airport, 50 moved back, 3 more moved over.
    assert_eq!(second.balance(&air(), lot_id).unwrap(), 3);
    let total: i64 = second.balances().unwrap().iter().map(|b| b.quantity).sum();
    assert_eq!(total, 0, "conservation over every balance");
    assert!(first.verify(|_, _| {}).unwrap().is_ok());
    let log = first.verify_log().unwrap();
    assert!(
        log.is_ok(),
        "the operation log and its contents trees: {log:?}"
    );
}

both_backends!(
    balances_are_exact_across_stores_and_folds,
    init_is_idempotent_and_loads_reference_data,
    master_data_reads_back_as_seeded,
    uninitialised_database_is_reported,
    transfers_move_stock_and_conserve_it,
    replaying_a_key_returns_the_first_result_and_changes_nothing,
    reusing_a_key_for_other_content_is_refused,
    bad_input_is_refused_and_nothing_is_written,
    corrections_reverse_named_entries_and_no_more,
    the_journal_refuses_updates_and_deletes,
    reference_data_imports_from_the_public_files,
    compacting_keeps_the_ledger_and_its_chain,
);

/// A file made before the store chose 16 KiB pages keeps its 4 KiB pages
/// until compacted; compacting moves it and keeps its contents.
#[test]
fn compacting_an_old_sqlite_file_moves_it_to_16_kib_pages() {
    let db = reliefhub_testkit::TestDb::sqlite();
    let path = db.sqlite_path().unwrap();
    {
        let old = rusqlite::Connection::open(&path).unwrap();
        old.execute_batch("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; VACUUM;")
            .unwrap();
    }
    let mut store = open(&db.url);
    receive(&mut store, "old-1", 40);
    let page = |store: &mut Store| {
        store.conn().query("PRAGMA page_size", &[]).unwrap()[0][0]
            .int()
            .unwrap()
    };
    assert_eq!(page(&mut store), 4096, "an existing file keeps its pages");
    let counts = snapshot(&mut store);
    let compaction = store.compact().unwrap();
    assert_eq!(compaction.page_size_before, Some(4096));
    assert_eq!(compaction.page_size_after, Some(16_384));
    assert_eq!(page(&mut store), 16_384);
    assert_eq!(snapshot(&mut store), counts);
    assert!(store.verify(|_, _| {}).unwrap().is_ok());
    drop(store);
    // Reopened, it is still the same ledger.
    let mut again = Store::open(&db.url).unwrap();
    again.ensure_ready().unwrap();
    assert_eq!(snapshot(&mut again), counts);
}
