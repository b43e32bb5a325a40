//! `reliefhub backup --out FILE` and `reliefhub restore FILE`.
//!
//! A backup is consistent while the server writes: a SQLite database is
//! copied with SQLite's online backup API (the file is a SQLite database);
//! a PostgreSQL database is read from one snapshot into the portable
//! `reliefhub-backup/1` file. Either restores into a new database of either
//! kind (`--db` names it), which is how a hub moves from the embedded
//! database to PostgreSQL; the restored journal must have the backup's
//! length and last hash, and `verify` runs on it before the command ends.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use reliefhub_store::{backup, Store};

use crate::progress;

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(16)]
}

pub fn backup(db: &str, out: &PathBuf, quiet: bool) -> anyhow::Result<ExitCode> {
    let mut store = Store::open(db)?;
    let bar = progress::bar(quiet, "backing up");
    let summary = backup::backup(&mut store, out, &mut |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    })
    .with_context(|| format!("cannot back up to {}", out.display()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    println!(
        "backed up {} rows of {} tables to {}: {} journal entries, last hash {}",
        summary.rows,
        summary.tables,
        out.display(),
        summary.journal_entries,
        short(&summary.last_hash)
    );
    Ok(ExitCode::SUCCESS)
}

pub fn restore(db: &str, file: &PathBuf, quiet: bool) -> anyhow::Result<ExitCode> {
    let mut store = Store::open(db)?;
    let bar = progress::bar(quiet, "restoring");
    let summary = backup::restore(&mut store, file, &mut |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    })
    .with_context(|| format!("cannot restore {}", file.display()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let verdict = store.verify(|_, _| {})?;
    match verdict {
        Ok(verified) => {
            println!(
                "restored {} rows of {} tables from {}: {} journal entries, last hash {}; verified ({} balances match the journal)",
                summary.rows,
                summary.tables,
                file.display(),
                summary.journal_entries,
                short(&summary.last_hash),
                verified.balances
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            println!("RESTORED DATABASE FAILS VERIFICATION: {failure}");
            Ok(ExitCode::from(1))
        }
    }
}
