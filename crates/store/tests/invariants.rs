//! Invariants under random operations, tampering and concurrent writers, on
//! both backends.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reliefhub_core::{Account, Batch, LossReason, LotRef, LotSpec, TransferSpec};
use reliefhub_store::{Applied, Store, StoreError, Value};
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

const DONORS: [&str; 3] = ["RU-EMERCOM", "AE-UAEAID", "KW-KRCS"];

fn accounts() -> Vec<Account> {
    vec![
        Account::at_node("TARTUS-PORT").unwrap(),
        Account::at_node("HMEIMIM-AIR").unwrap(),
        Account::quarantine("TARTUS-PORT").unwrap(),
        Account::inbound("LEG-1").unwrap(),
        Account::outbound("DEP-1").unwrap(),
        Account::delivered("SDPZU").unwrap(),
        Account::loss(LossReason::Damaged),
    ]
}

/// What the ledger should hold, kept independently of the code under test.
#[derive(Default, Clone)]
struct Model {
    balances: HashMap<(String, i64), i64>,
    lot_count: i64,
    /// (seq, lot, from, to, quantity, reversed so far)
    entries: Vec<(i64, i64, Account, Account, i64, i64)>,
    applied: Vec<(Batch, Applied)>,
}

impl Model {
    fn balance(&self, account: &Account, lot: i64) -> i64 {
        self.balances
            .get(&(account.canonical().to_string(), lot))
            .copied()
            .unwrap_or(0)
    }

    /// Whether the batch satisfies the ledger rules, judged by the model.
    fn accepts(&self, batch: &Batch) -> bool {
        let mut after: HashMap<(String, i64), i64> = HashMap::new();
        let mut reversed: HashMap<i64, i64> = HashMap::new();
        for transfer in &batch.transfers {
            if transfer.quantity <= 0 || transfer.from == transfer.to {
                return false;
            }
            let lot = match transfer.lot {
                LotRef::Existing(id) if id >= 1 && id <= self.lot_count => id,
                LotRef::Existing(_) => return false,
                LotRef::New(i) if i < batch.new_lots.len() => -(i as i64) - 1,
                LotRef::New(_) => return false,
            };
            if let Some(seq) = transfer.corrects {
                let Some(entry) = self.entries.iter().find(|e| e.0 == seq) else {
                    return false;
                };
                if entry.1 != lot || entry.2 != transfer.to || entry.3 != transfer.from {
                    return false;
                }
                let done = reversed.entry(seq).or_insert(entry.5);
                if *done + transfer.quantity > entry.4 {
                    return false;
                }
                *done += transfer.quantity;
            }
            for (account, sign) in [(&transfer.from, -1), (&transfer.to, 1)] {
                let key = (account.canonical().to_string(), lot);
                let start = if lot > 0 {
                    self.balance(account, lot)
                } else {
                    0
                };
                *after.entry(key).or_insert(start) += sign * transfer.quantity;
            }
        }
        !batch.transfers.is_empty()
            && after
                .iter()
                .all(|((account, _), balance)| *balance >= 0 || account.starts_with("source:"))
    }

    fn apply(&mut self, batch: &Batch, applied: &Applied) {
        self.lot_count += batch.new_lots.len() as i64;
        for (offset, transfer) in batch.transfers.iter().enumerate() {
            let lot = match transfer.lot {
                LotRef::Existing(id) => id,
                LotRef::New(i) => applied.lot_ids[i],
            };
            *self
                .balances
                .entry((transfer.from.canonical().to_string(), lot))
                .or_insert(0) -= transfer.quantity;
            *self
                .balances
                .entry((transfer.to.canonical().to_string(), lot))
                .or_insert(0) += transfer.quantity;
            if let Some(seq) = transfer.corrects {
                if let Some(entry) = self.entries.iter_mut().find(|e| e.0 == seq) {
                    entry.5 += transfer.quantity;
                }
            }
            self.entries.push((
                applied.first_seq + offset as i64,
                lot,
                transfer.from.clone(),
                transfer.to.clone(),
                transfer.quantity,
                0,
            ));
        }
        self.balances.retain(|_, b| *b != 0);
        self.applied.push((batch.clone(), applied.clone()));
    }
}

fn random_batch(rng: &mut ChaCha8Rng, model: &Model, step: usize) -> Batch {
    let key = format!("op-{step}");
    let accounts = accounts();
    let held: Vec<(&(String, i64), &i64)> = model
        .balances
        .iter()
        .filter(|((a, _), q)| **q > 0 && !a.starts_with("source:"))
        .collect();
    let roll = rng.random_range(0..100);
    if roll < 12 || held.is_empty() {
        // A receipt of one to three new lots.
        let count = rng.random_range(1..=3);
        let donor = DONORS[rng.random_range(0..DONORS.len())];
        let new_lots = (0..count)
            .map(|i| LotSpec {
                item: "HEB-10KG".into(),
                donor: donor.into(),
                batch: format!("B{step}-{i}"),
                expiry: None,
                earmark: vec![],
            })
            .collect();
        let transfers = (0..count)
            .map(|i| TransferSpec {
                lot: LotRef::New(i),
                from: Account::source(donor).unwrap(),
                to: accounts[rng.random_range(0..2)].clone(),
                quantity: rng.random_range(1..=500),
                corrects: None,
            })
            .collect();
        return Batch {
            key,
            kind: "receive".into(),
            new_lots,
            transfers,
        };
    }
    if roll < 17 && !model.entries.is_empty() {
        // A correction of an earlier entry, sometimes more than is left.
        let entry = &model.entries[rng.random_range(0..model.entries.len())];
        let quantity = rng.random_range(1..=entry.4.max(1) + 2);
        return Batch {
            key,
            kind: "correction".into(),
            new_lots: vec![],
            transfers: vec![TransferSpec {
                lot: LotRef::Existing(entry.1),
                from: entry.3.clone(),
                to: entry.2.clone(),
                quantity,
                corrects: Some(entry.0),
            }],
        };
    }
    if roll < 25 {
        // Invalid on purpose: zero or negative, unknown lot, or an overdraft.
        let ((account, lot), quantity) = held[rng.random_range(0..held.len())];
        let from = Account::parse(account).unwrap();
        let to = accounts.iter().find(|a| **a != from).unwrap().clone();
        let (lot, quantity) = match rng.random_range(0..3) {
            0 => (*lot, -rng.random_range(0..3)),
            1 => (model.lot_count + 7, 1),
            _ => (*lot, quantity + rng.random_range(1..10)),
        };
        return Batch {
            key,
            kind: "invalid".into(),
            new_lots: vec![],
            transfers: vec![TransferSpec {
                lot: LotRef::Existing(lot),
                from,
                to,
                quantity,
                corrects: None,
            }],
        };
    }
    // One to four transfers of held stock.
    let count = rng.random_range(1..=4);
    let transfers = (0..count)
        .map(|_| {
            let ((account, lot), quantity) = held[rng.random_range(0..held.len())];
            let from = Account::parse(account).unwrap();
            let mut to = accounts[rng.random_range(0..accounts.len())].clone();
            if to == from {
                to = accounts.iter().find(|a| **a != from).unwrap().clone();
            }
            TransferSpec {
                lot: LotRef::Existing(*lot),
                from,
                to,
                quantity: rng.random_range(1..=*quantity),
                corrects: None,
            }
        })
        .collect();
    Batch {
        key,
        kind: "move".into(),
        new_lots: vec![],
        transfers,
    }
}

fn check_against_model(store: &mut Store, model: &Model, full: bool) {
    // Conservation and non-negativity over every balance, every step. The
    // balances are the table (as of its checkpoint) plus the journal after
    // the checkpoint: read them so, without making the store fold the tail.
    let rows = store
        .conn()
        .query(
            "SELECT COUNT(*), CAST(COALESCE(SUM(quantity), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN quantity < 0 AND account NOT LIKE 'source:%' THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM (SELECT account, lot_id, SUM(quantity) AS quantity FROM ( \
             SELECT account, lot_id, quantity FROM balances \
             UNION ALL SELECT to_account, lot_id, quantity FROM journal WHERE seq > (SELECT balances_seq FROM ledger_checkpoint) \
             UNION ALL SELECT from_account, lot_id, -quantity FROM journal WHERE seq > (SELECT balances_seq FROM ledger_checkpoint) \
             ) AS everything GROUP BY account, lot_id) AS current WHERE quantity <> 0",
            &[],
        )
        .unwrap();
    assert_eq!(
        rows[0][0],
        Value::Int(model.balances.len() as i64),
        "number of non-zero balances"
    );
    assert_eq!(
        rows[0][1],
        Value::Int(0),
        "conservation: all balances sum to zero"
    );
    assert_eq!(
        rows[0][2],
        Value::Int(0),
        "no account but a pledge source is negative"
    );
    if full {
        let stored: HashMap<(String, i64), i64> = store
            .balances()
            .unwrap()
            .into_iter()
            .map(|b| ((b.account, b.lot_id), b.quantity))
            .collect();
        assert_eq!(stored, model.balances);
    }
}

fn random_operations_keep_the_invariants(url: &str) {
    let steps: usize = std::env::var("RELIEFHUB_PROPERTY_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let mut store = open(url);
    let mut rng = ChaCha8Rng::seed_from_u64(0x5EED);
    let mut model = Model::default();
    let (mut applied_count, mut refused_count, mut replays, mut reuses) = (0, 0, 0, 0);
    for step in 0..steps {
        let roll = rng.random_range(0..100);
        if roll < 8 && !model.applied.is_empty() {
            // Replay an old key with its content: same result, no change.
            let (batch, first) = model.applied[rng.random_range(0..model.applied.len())].clone();
            let again = store.apply(&batch, NOW + step as i64).unwrap();
            assert!(again.replayed, "step {step}: a replay is recognised");
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
            replays += 1;
        } else if roll < 12 && !model.applied.is_empty() {
            // Reuse an old key for other content: refused.
            let (mut batch, _) = model.applied[rng.random_range(0..model.applied.len())].clone();
            batch.transfers[0].quantity += 1;
            let error = store.apply(&batch, NOW).unwrap_err();
            assert!(
                matches!(error, StoreError::KeyReused { .. }),
                "step {step}: {error}"
            );
            reuses += 1;
        } else {
            let batch = random_batch(&mut rng, &model, step);
            let expected = model.accepts(&batch);
            // Some batches go through `apply_with`, which folds the journal
            // tail into the balance table before it returns; the others
            // leave it to later folds.
            let result = if step % 3 == 0 {
                store
                    .apply_with(&batch, NOW + step as i64, |_, _| Ok(()))
                    .map(|(applied, _)| applied)
            } else {
                store.apply(&batch, NOW + step as i64)
            };
            match result {
                Ok(applied) => {
                    assert!(
                        expected,
                        "step {step}: the store accepted a batch the rules refuse: {batch:?}"
                    );
                    assert!(!applied.replayed);
                    model.apply(&batch, &applied);
                    applied_count += 1;
                }
                Err(StoreError::Rejected(errors)) => {
                    assert!(
                        !expected,
                        "step {step}: the store refused a valid batch: {errors:?} {batch:?}"
                    );
                    refused_count += 1;
                }
                Err(other) => panic!("step {step}: {other}"),
            }
        }
        check_against_model(&mut store, &model, step % 250 == 0 || step + 1 == steps);
    }
    assert!(applied_count > steps / 3 && refused_count > steps / 20 && replays > 0 && reuses > 0,
        "the sequence exercised every kind of operation: {applied_count} applied, {refused_count} refused, {replays} replays, {reuses} reuses");
    let summary = store.verify(|_, _| {}).unwrap().unwrap();
    assert_eq!(summary.entries as usize, model.entries.len());
}

/// Turns off the append-only triggers, as someone editing the database file
/// or server directly could.
fn disable_triggers(store: &mut Store) {
    let sql = match store.backend() {
        reliefhub_store::Backend::Sqlite => {
            "DROP TRIGGER journal_append_only_update; DROP TRIGGER journal_append_only_delete;"
        }
        reliefhub_store::Backend::Postgres => "ALTER TABLE journal DISABLE TRIGGER USER;",
    };
    store.conn().batch_execute(sql).unwrap();
}

fn build_small_journal(store: &mut Store) {
    let src = Account::source("SA-KSRELIEF").unwrap();
    let port = Account::at_node("TARTUS-PORT").unwrap();
    let air = Account::at_node("HMEIMIM-AIR").unwrap();
    let lot = |batch: &str| LotSpec {
        item: "RUTF-150".into(),
        donor: "SA-KSRELIEF".into(),
        batch: batch.into(),
        expiry: reliefhub_core::domain::parse_date("2027-03-31"),
        earmark: vec!["SD".into(), "TD".into()],
    };
    let t = |lot: LotRef, from: &Account, to: &Account, quantity: i64, corrects: Option<i64>| {
        TransferSpec {
            lot,
            from: from.clone(),
            to: to.clone(),
            quantity,
            corrects,
        }
    };
    let batches = vec![
        Batch {
            key: "a".into(),
            kind: "receive".into(),
            new_lots: vec![lot("X1"), lot("X2")],
            transfers: vec![
                t(LotRef::New(0), &src, &port, 300, None),
                t(LotRef::New(1), &src, &port, 200, None),
            ],
        },
        Batch {
            key: "b".into(),
            kind: "move".into(),
            new_lots: vec![],
            transfers: vec![
                t(LotRef::Existing(1), &port, &air, 120, None),
                t(LotRef::Existing(2), &port, &air, 50, None),
                t(
                    LotRef::Existing(1),
                    &air,
                    &Account::outbound("D-1").unwrap(),
                    60,
                    None,
                ),
            ],
        },
        Batch {
            key: "c".into(),
            kind: "correction".into(),
            new_lots: vec![],
            transfers: vec![t(LotRef::Existing(2), &air, &port, 20, Some(4))],
        },
        Batch {
            key: "d".into(),
            kind: "deliver".into(),
            new_lots: vec![],
            transfers: vec![
                t(
                    LotRef::Existing(1),
                    &Account::outbound("D-1").unwrap(),
                    &Account::delivered("SDPZU").unwrap(),
                    58,
                    None,
                ),
                t(
                    LotRef::Existing(1),
                    &Account::outbound("D-1").unwrap(),
                    &Account::loss(LossReason::ShortDelivered),
                    2,
                    None,
                ),
            ],
        },
    ];
    for batch in &batches {
        store.apply(batch, NOW).unwrap();
    }
}

fn changing_any_byte_of_any_entry_is_detected_and_named(url: &str) {
    let mut store = open(url);
    build_small_journal(&mut store);
    assert!(store.verify(|_, _| {}).unwrap().is_ok());
    disable_triggers(&mut store);
    let entries = store.conn().query("SELECT seq, batch_id, lot_id, from_account, to_account, quantity, corrects, hash FROM journal ORDER BY seq", &[]).unwrap();
    let columns = [
        "seq",
        "batch_id",
        "lot_id",
        "from_account",
        "to_account",
        "quantity",
        "corrects",
        "hash",
    ];
    let mut mutations = 0;
    for entry in &entries {
        let seq = entry[0].int().unwrap();
        for (index, column) in columns.iter().enumerate() {
            let original = entry[index].clone();
            let variants: Vec<Value> = match &original {
                Value::Int(v) => (0..8)
                    .map(|byte| Value::Int(v ^ (0x5A_i64 << (8 * byte))))
                    .collect(),
                Value::Null => vec![Value::Int(1)],
                Value::Text(text) => (0..text.len())
                    .map(|i| {
                        let mut bytes = text.clone().into_bytes();
                        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
                        Value::Text(String::from_utf8(bytes).unwrap())
                    })
                    .collect(),
                Value::Bytes(bytes) => (0..bytes.len())
                    .map(|i| {
                        let mut changed = bytes.clone();
                        changed[i] ^= 0x01;
                        Value::Bytes(changed)
                    })
                    .collect(),
                Value::Real(_) => unreachable!(),
            };
            let current_seq = |v: &Value| {
                if *column == "seq" {
                    v.int().unwrap()
                } else {
                    seq
                }
            };
            for variant in variants {
                let set = format!("UPDATE journal SET {column} = $1 WHERE seq = $2");
                if store
                    .conn()
                    .execute(&set, &[variant.clone(), Value::Int(seq)])
                    .is_err()
                {
                    continue; // The change would break a key constraint; it cannot be stored.
                }
                mutations += 1;
                let result = store.verify(|_, _| {}).unwrap();
                let failure = result.expect_err(&format!(
                    "changing {column} of entry {seq} to {variant:?} goes unnoticed"
                ));
                assert_eq!(
                    failure.seq(),
                    Some(seq),
                    "the failure names entry {seq}: {failure}"
                );
                assert!(
                    failure
                        .to_string()
                        .contains(&format!("journal entry {seq}")),
                    "{failure}"
                );
                store
                    .conn()
                    .execute(&set, &[original.clone(), Value::Int(current_seq(&variant))])
                    .unwrap();
            }
        }
    }
    assert!(
        mutations > entries.len() * 40,
        "{mutations} mutations tried"
    );
    assert!(
        store.verify(|_, _| {}).unwrap().is_ok(),
        "the restored journal verifies again"
    );
}

fn a_changed_balance_or_lot_is_detected(url: &str) {
    let mut store = open(url);
    build_small_journal(&mut store);
    // Fold the journal tail into the table, so that every balance has a row.
    store.settle().unwrap();
    store.conn().execute("UPDATE balances SET quantity = quantity + 1 WHERE account = 'at:TARTUS-PORT' AND lot_id = 1", &[]).unwrap();
    let failure = store.verify(|_, _| {}).unwrap().unwrap_err();
    assert!(
        failure
            .to_string()
            .contains("balance of `at:TARTUS-PORT` for lot 1"),
        "{failure}"
    );
    store.conn().execute("UPDATE balances SET quantity = quantity - 1 WHERE account = 'at:TARTUS-PORT' AND lot_id = 1", &[]).unwrap();
    // Moving the balance checkpoint back counts entries twice.
    store
        .conn()
        .execute(
            "UPDATE ledger_checkpoint SET balances_seq = balances_seq - 1",
            &[],
        )
        .unwrap();
    let failure = store.verify(|_, _| {}).unwrap().unwrap_err();
    assert!(failure.to_string().contains("balance of"), "{failure}");
    store
        .conn()
        .execute(
            "UPDATE ledger_checkpoint SET balances_seq = balances_seq + 1",
            &[],
        )
        .unwrap();
    assert!(store.verify(|_, _| {}).unwrap().is_ok(), "restored");
    let sql = match store.backend() {
        reliefhub_store::Backend::Sqlite => "DROP TRIGGER lots_append_only_update",
        reliefhub_store::Backend::Postgres => "ALTER TABLE lots DISABLE TRIGGER USER",
    };
    store.conn().batch_execute(sql).unwrap();
    store
        .conn()
        .execute("UPDATE lots SET expiry = '2029-03-31' WHERE id = 2", &[])
        .unwrap();
    let failure = store.verify(|_, _| {}).unwrap().unwrap_err();
    assert_eq!(
        failure.seq(),
        Some(2),
        "the first entry of lot 2 is named: {failure}"
    );
}

fn concurrent_writers_keep_conservation(url: &str) {
    let mut store = open(url);
    let donor = "QA-QFFD";
    let batch = Batch {
        key: "seed".into(),
        kind: "receive".into(),
        new_lots: (0..4)
            .map(|i| LotSpec {
                item: "HEB-10KG".into(),
                donor: donor.into(),
                batch: format!("C{i}"),
                expiry: None,
                earmark: vec![],
            })
            .collect(),
        transfers: (0..4)
            .map(|i| TransferSpec {
                lot: LotRef::New(i),
                from: Account::source(donor).unwrap(),
                to: Account::at_node("TARTUS-PORT").unwrap(),
                quantity: 100,
                corrects: None,
            })
            .collect(),
    };
    store.apply(&batch, NOW).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let url = url.to_string();
            std::thread::spawn(move || {
                let mut store = Store::open(&url).unwrap();
                let mut rng = ChaCha8Rng::seed_from_u64(thread);
                let nodes = [
                    Account::at_node("TARTUS-PORT").unwrap(),
                    Account::at_node("HMEIMIM-AIR").unwrap(),
                ];
                let mut ok = 0;
                for step in 0..60 {
                    let from = rng.random_range(0..2);
                    let batch = Batch {
                        key: format!("t{thread}-{step}"),
                        kind: "move".into(),
                        new_lots: vec![],
                        transfers: vec![TransferSpec {
                            lot: LotRef::Existing(rng.random_range(1..=4)),
                            from: nodes[from].clone(),
                            to: nodes[1 - from].clone(),
                            quantity: rng.random_range(1..=40),
                            corrects: None,
                        }],
                    };
                    match store.apply(&batch, NOW) {
                        Ok(_) => ok += 1,
                        Err(StoreError::Rejected(_)) => {}
                        Err(other) => panic!("{other}"),
                    }
                }
                ok
            })
        })
        .collect();
    let applied: i64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(applied > 0);
    let summary = store.verify(|_, _| {}).unwrap().unwrap();
    assert_eq!(summary.entries as i64, 4 + applied);
    for lot in 1..=4 {
        let total: i64 = ["at:TARTUS-PORT", "at:HMEIMIM-AIR"]
            .iter()
            .map(|a| store.balance(&Account::parse(a).unwrap(), lot).unwrap())
            .sum();
        assert_eq!(total, 100, "lot {lot} is conserved");
    }
}

both_backends!(
    random_operations_keep_the_invariants,
    changing_any_byte_of_any_entry_is_detected_and_named,
    a_changed_balance_or_lot_is_detected,
    concurrent_writers_keep_conservation,
);
