//! Storage: one [`Store`] over two databases (SQLite, the embedded default,
//! and PostgreSQL), chosen at run time from the `--db` URL.
//!
//! The store applies the core's ledger rules inside one write transaction per
//! batch: it reads what the batch touches, lets [`reliefhub_core::ledger`]
//! decide, and writes the lots, journal entries and balances the core
//! returns. SQL is written once; `db.rs` holds the backend differences.

pub mod backup;
pub mod db;
mod log;
mod migrations;
mod store;

pub use db::{Backend, Conn, Value};
pub use log::{
    DocumentTable, LogFailure, LogSummary, OperationRow, ProvedEntry, StoredHead, DOCUMENT_TABLES,
};
pub use migrations::MIGRATIONS;
pub use reliefhub_core::ledger::Hash32;
pub use store::{
    insert_destination, insert_item, insert_organisation, read_destinations, read_items,
    read_organisations, Applied, BalanceRow, Compaction, Store, StreamedBatch,
};

use reliefhub_core::LedgerError;

/// Everything that can go wrong in the store, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Connect(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("the database holds data the program cannot read: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("the database is not initialised (schema version {found}, expected {expected}): run `reliefhub init`")]
    NotInitialised { found: i64, expected: i64 },
    #[error("refused, nothing was written:\n{}", format_errors(.0))]
    Rejected(Vec<LedgerError>),
    #[error("idempotency key `{key}` was already used for a different operation (batch {batch_id}); nothing was written. Use a new key for a new operation")]
    KeyReused { key: String, batch_id: i64 },
}

fn format_errors(errors: &[LedgerError]) -> String {
    errors
        .iter()
        .map(|e| format!("  - {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The current time in milliseconds since the Unix epoch, for shells that
/// call the core and the store (the core never reads the clock itself).
pub fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
