//! `reliefhub bench`: measurements that print their figures beside a
//! baseline measured in the same run.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Subcommand;
use reliefhub_core::ledger::JournalEntry;
use reliefhub_core::{Account, Batch, LotRef, LotSpec, TransferSpec};
use reliefhub_store::{now_unix_ms, Backend, Store};

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Append batches of transfers to the ledger, side by side with a plain
    /// bulk insert of the same rows into a table of the same shape. Uses the
    /// `--db` database, which must hold an empty ledger; without `--db` it
    /// uses a new temporary SQLite file.
    Ledger {
        /// Transfers per batch (one transaction each).
        #[arg(long, default_value_t = 1000)]
        batch_size: usize,
        /// Measured batches per run.
        #[arg(long, default_value_t = 100)]
        batches: usize,
        /// Runs; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// The operation log: a signed checkpoint over a journal of `--entries`
    /// entries, and a donor proof of `--operations` operations (written and
    /// checked). Uses a new temporary SQLite file unless `--db` is given.
    Trust {
        #[arg(long, default_value_t = 1_000_000)]
        entries: usize,
        #[arg(long, default_value_t = 10_000)]
        operations: usize,
    },
}

pub fn run(command: BenchCommand, db: &str, quiet: bool) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Ledger {
            batch_size,
            batches,
            runs,
        } => ledger(db, batch_size, batches, runs, quiet),
        BenchCommand::Trust {
            entries,
            operations,
        } => trust(db, entries, operations, quiet),
    }
}

fn seed_lots(store: &mut Store, donor: &str, count: usize, key: &str) -> anyhow::Result<Vec<i64>> {
    let new_lots: Vec<LotSpec> = (0..count)
        .map(|i| LotSpec {
            item: "HEB-10KG".into(),
            donor: donor.into(),
            batch: format!("{key}-{i}"),
            expiry: None,
            earmark: vec![],
        })
        .collect();
    let transfers = (0..count)
        .map(|i| TransferSpec {
            lot: LotRef::New(i),
            from: Account::source(donor).expect("account"),
            to: Account::at_node("TARTUS-PORT").expect("account"),
            quantity: 1_000_000_000,
            corrects: None,
        })
        .collect();
    Ok(store
        .apply(
            &Batch {
                key: key.into(),
                kind: "bench.seed".into(),
                new_lots,
                transfers,
            },
            now_unix_ms(),
        )?
        .lot_ids)
}

fn moves(lot_ids: &[i64], key: String) -> anyhow::Result<Batch> {
    let (port, airport) = (
        Account::at_node("TARTUS-PORT")?,
        Account::at_node("HMEIMIM-AIR")?,
    );
    Ok(Batch {
        key,
        kind: "bench.transfer".into(),
        new_lots: vec![],
        transfers: lot_ids
            .iter()
            .map(|id| TransferSpec {
                lot: LotRef::Existing(*id),
                from: port.clone(),
                to: airport.clone(),
                quantity: 1,
                corrects: None,
            })
            .collect(),
    })
}

fn trust(db: &str, entries: usize, operations: usize, quiet: bool) -> anyhow::Result<ExitCode> {
    let temp = tempfile::tempdir()?;
    let url = if std::env::var_os("RELIEFHUB_DB").is_none() && db == "sqlite:reliefhub.db" {
        format!("sqlite:{}", temp.path().join("bench.db").display())
    } else {
        db.to_string()
    };
    let mut store = Store::open(&url)?;
    store.set_actor("benchmark");
    store.migrate(now_unix_ms())?;
    store.load_reference_data(&reliefhub_core::reference::builtin())?;
    anyhow::ensure!(
        store.journal_len()? == 0,
        "the benchmark needs an empty ledger; give it a new database"
    );
    let key = reliefhub_ops::trust::HubKey::create(&temp.path().join("bench.key"))?;
    // A journal of `entries` entries in batches of 1,000 (one operation each).
    let lots = seed_lots(&mut store, "RU-EMERCOM", 1000, "bench-seed")?;
    let started = Instant::now();
    let mut written = lots.len();
    let mut n = 0;
    while written < entries {
        n += 1;
        let take = (entries - written).min(lots.len());
        store.apply(&moves(&lots[..take], format!("bench-{n}"))?, now_unix_ms())?;
        written += take;
        if !quiet && n % 100 == 0 {
            eprintln!("  {written} journal entries");
        }
    }
    store.settle()?;
    let fill = started.elapsed();
    let mut ops = reliefhub_ops::Ops::from_store(store);
    let started = Instant::now();
    let head = ops.publish_head(&key, now_unix_ms())?;
    let checkpoint = started.elapsed();
    println!(
        "checkpoint over {written} journal entries ({} operations; writing them took {:.1} s): signed head in {:.2} ms",
        head.tree_size,
        secs(fill),
        secs(checkpoint) * 1000.0
    );
    // A donor whose goods moved in `operations` operations.
    let donor_lots = seed_lots(ops.store(), "QA-QFFD", 1, "bench-donor")?;
    for i in 1..operations {
        ops.store().apply(
            &moves(&donor_lots, format!("bench-donor-{i}"))?,
            now_unix_ms(),
        )?;
    }
    let started = Instant::now();
    let proof = ops.donor_proof(&key, "QA-QFFD", now_unix_ms())?;
    let text = proof.to_canonical();
    let made = started.elapsed();
    let started = Instant::now();
    let summary = reliefhub_ops::trust::verify_proof(text.as_bytes(), Some(&key.public_hex()))
        .map_err(|e| anyhow::anyhow!("the benchmark's proof does not verify: {e}"))?;
    let checked = started.elapsed();
    println!(
        "donor proof of {} operations in a log of {}: written in {:.2} s ({:.1} MB), checked with no database in {:.2} s",
        summary.operations,
        summary.tree_size,
        secs(made),
        text.len() as f64 / 1e6,
        secs(checked)
    );
    Ok(ExitCode::SUCCESS)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn ledger(
    db: &str,
    batch_size: usize,
    batches: usize,
    runs: usize,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        batch_size >= 1 && batches >= 1 && runs >= 1,
        "sizes must be at least 1"
    );
    let temp = tempfile::tempdir()?;
    let url = if std::env::var_os("RELIEFHUB_DB").is_none() && db == "sqlite:reliefhub.db" {
        format!("sqlite:{}", temp.path().join("bench.db").display())
    } else {
        db.to_string()
    };
    let mut store = Store::open(&url)?;
    store.migrate(now_unix_ms())?;
    store.load_reference_data(&reliefhub_core::reference::builtin())?;
    anyhow::ensure!(
        store.journal_len()? == 0,
        "the benchmark needs an empty ledger; give it a new database"
    );
    let backend = store.backend();
    let plain_ddl = match backend {
        Backend::Sqlite => "CREATE TABLE IF NOT EXISTS bench_plain (seq INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL, lot_id INTEGER NOT NULL, from_account TEXT NOT NULL, to_account TEXT NOT NULL, quantity INTEGER NOT NULL, corrects INTEGER, hash BLOB NOT NULL); DELETE FROM bench_plain",
        Backend::Postgres => "CREATE TABLE IF NOT EXISTS bench_plain (seq BIGINT PRIMARY KEY, batch_id BIGINT NOT NULL, lot_id BIGINT NOT NULL, from_account TEXT NOT NULL, to_account TEXT NOT NULL, quantity BIGINT NOT NULL, corrects BIGINT, hash BYTEA NOT NULL); TRUNCATE bench_plain",
    };
    store.conn().batch_execute(plain_ddl)?;

    // Stock to move: `batch_size` lots of 1,000,000 units each at the port.
    let donor = "RU-EMERCOM";
    let new_lots: Vec<LotSpec> = (0..batch_size)
        .map(|i| LotSpec {
            item: "HEB-10KG".into(),
            donor: donor.into(),
            batch: format!("BENCH-{i}"),
            expiry: None,
            earmark: vec![],
        })
        .collect();
    let transfers = (0..batch_size)
        .map(|i| TransferSpec {
            lot: LotRef::New(i),
            from: Account::source(donor).expect("account"),
            to: Account::at_node("TARTUS-PORT").expect("account"),
            quantity: 1_000_000,
            corrects: None,
        })
        .collect();
    let seeded = store.apply(
        &Batch {
            key: "bench-seed".into(),
            kind: "bench.seed".into(),
            new_lots,
            transfers,
        },
        now_unix_ms(),
    )?;
    let lot_ids = seeded.lot_ids;

    let port = Account::at_node("TARTUS-PORT")?;
    let airport = Account::at_node("HMEIMIM-AIR")?;
    let mut ledger_rates = Vec::new();
    let mut unlogged_rates = Vec::new();
    let mut plain_rates = Vec::new();
    let mut counter = 0_u64;
    let mut plain_seq = 0_i64;
    for run in 0..runs {
        // The ledger: each batch moves one unit of every lot from the port
        // to the airport (always the same way, so no change cancels out).
        let started = Instant::now();
        for _ in 0..batches {
            counter += 1;
            let (from, to) = (&port, &airport);
            let transfers = lot_ids
                .iter()
                .map(|id| TransferSpec {
                    lot: LotRef::Existing(*id),
                    from: from.clone(),
                    to: to.clone(),
                    quantity: 1,
                    corrects: None,
                })
                .collect();
            let batch = Batch {
                key: format!("bench-{counter}"),
                kind: "bench.transfer".into(),
                new_lots: vec![],
                transfers,
            };
            store.apply(&batch, now_unix_ms())?;
        }
        // Every balance of the run is in the balance table when the clock
        // stops (the store folds the journal tail in bulk).
        store.settle()?;
        let ledger_elapsed = started.elapsed();

        // The same ledger without the operation log, for what the log costs.
        store.disable_log_for_benchmark();
        let started = Instant::now();
        for _ in 0..batches {
            counter += 1;
            let transfers = lot_ids
                .iter()
                .map(|id| TransferSpec {
                    lot: LotRef::Existing(*id),
                    from: port.clone(),
                    to: airport.clone(),
                    quantity: 1,
                    corrects: None,
                })
                .collect();
            let batch = Batch {
                key: format!("bench-{counter}"),
                kind: "bench.transfer".into(),
                new_lots: vec![],
                transfers,
            };
            store.apply(&batch, now_unix_ms())?;
        }
        store.settle()?;
        let unlogged_elapsed = started.elapsed();
        store.enable_log();

        // The baseline: the same number of rows of the same shape, inserted
        // plainly in transactions of the same size.
        let started = Instant::now();
        for b in 0..batches {
            let rows: Vec<JournalEntry> = lot_ids
                .iter()
                .map(|id| {
                    plain_seq += 1;
                    JournalEntry {
                        seq: plain_seq,
                        batch_id: b as i64,
                        lot_id: *id,
                        from: port.shared_text(),
                        to: airport.shared_text(),
                        quantity: 1,
                        corrects: None,
                        hash: [(plain_seq % 251) as u8; 32],
                    }
                })
                .collect();
            let conn = store.conn();
            conn.begin_write()?;
            conn.insert_journal("bench_plain", &rows)?;
            conn.commit()?;
        }
        let plain_elapsed = started.elapsed();
        let transfers = (batches * batch_size) as f64;
        ledger_rates.push(transfers / secs(ledger_elapsed));
        unlogged_rates.push(transfers / secs(unlogged_elapsed));
        plain_rates.push(transfers / secs(plain_elapsed));
        if !quiet {
            eprintln!(
                "run {}: ledger {:.0} transfers/s (without the log {:.0}), plain insert {:.0} rows/s",
                run + 1,
                ledger_rates[run],
                unlogged_rates[run],
                plain_rates[run]
            );
        }
    }
    let verified = store.verify(|_, _| {})?;
    anyhow::ensure!(
        verified.is_ok(),
        "the benchmark's ledger does not verify: {verified:?}"
    );
    let ledger_rate = median(ledger_rates);
    let unlogged_rate = median(unlogged_rates);
    let plain_rate = median(plain_rates);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("ledger append benchmark ({backend:?}, {cores} cores, batches of {batch_size}, {batches} batches x {runs} runs, median)");
    println!(
        "  ledger append (validated, hash-chained, balances): {ledger_rate:>12.0} transfers/s"
    );
    println!(
        "  the same without the operation log:                {unlogged_rate:>12.0} transfers/s"
    );
    println!(
        "  ratio with the log / without:                      {:>12.2}",
        ledger_rate / unlogged_rate
    );
    println!("  plain bulk insert of the same rows:                {plain_rate:>12.0} rows/s");
    println!(
        "  ratio ledger / plain:                              {:>12.2}",
        ledger_rate / plain_rate
    );
    Ok(ExitCode::SUCCESS)
}

fn secs(duration: Duration) -> f64 {
    duration.as_secs_f64().max(1e-9)
}
