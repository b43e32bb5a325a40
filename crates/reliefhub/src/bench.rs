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
}

pub fn run(command: BenchCommand, db: &str, quiet: bool) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Ledger {
            batch_size,
            batches,
            runs,
        } => ledger(db, batch_size, batches, runs, quiet),
    }
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
        plain_rates.push(transfers / secs(plain_elapsed));
        if !quiet {
            eprintln!(
                "run {}: ledger {:.0} transfers/s, plain insert {:.0} rows/s",
                run + 1,
                ledger_rates[run],
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
    let plain_rate = median(plain_rates);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("ledger append benchmark ({backend:?}, {cores} cores, batches of {batch_size}, {batches} batches x {runs} runs, median)");
    println!(
        "  ledger append (validated, hash-chained, balances): {ledger_rate:>12.0} transfers/s"
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
