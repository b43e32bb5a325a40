//! Versioned schema migrations, one SQL file per backend and version.

use crate::db::{Backend, Conn};
use crate::StoreError;

/// A schema version: its number, name and the SQL for each backend.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// Every migration in order. A released migration is never edited: a change
/// is a new migration.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "operations",
        sqlite: include_str!("migrations/sqlite/0002_operations.sql"),
        postgres: include_str!("migrations/postgres/0002_operations.sql"),
    },
    Migration {
        version: 3,
        name: "plans",
        sqlite: include_str!("migrations/sqlite/0003_plans.sql"),
        postgres: include_str!("migrations/postgres/0003_plans.sql"),
    },
    Migration {
        version: 4,
        name: "balance_checkpoint",
        sqlite: include_str!("migrations/sqlite/0004_balance_checkpoint.sql"),
        postgres: include_str!("migrations/postgres/0004_balance_checkpoint.sql"),
    },
    Migration {
        version: 5,
        name: "access",
        sqlite: include_str!("migrations/sqlite/0005_access.sql"),
        postgres: include_str!("migrations/postgres/0005_access.sql"),
    },
    Migration {
        version: 6,
        name: "fewer_indexes",
        sqlite: include_str!("migrations/sqlite/0006_fewer_indexes.sql"),
        postgres: include_str!("migrations/postgres/0006_fewer_indexes.sql"),
    },
    Migration {
        version: 7,
        name: "rules",
        sqlite: include_str!("migrations/sqlite/0007_rules.sql"),
        postgres: include_str!("migrations/postgres/0007_rules.sql"),
    },
    Migration {
        version: 8,
        name: "master_data",
        sqlite: include_str!("migrations/sqlite/0008_master_data.sql"),
        postgres: include_str!("migrations/postgres/0008_master_data.sql"),
    },
    Migration {
        version: 9,
        name: "operation_log",
        sqlite: include_str!("migrations/sqlite/0009_operation_log.sql"),
        postgres: include_str!("migrations/postgres/0009_operation_log.sql"),
    },
    Migration {
        version: 10,
        name: "document_chain",
        sqlite: include_str!("migrations/sqlite/0010_document_chain.sql"),
        postgres: include_str!("migrations/postgres/0010_document_chain.sql"),
    },
    Migration {
        version: 11,
        name: "login_attempts",
        sqlite: include_str!("migrations/sqlite/0011_login_attempts.sql"),
        postgres: include_str!("migrations/postgres/0011_login_attempts.sql"),
    },
    Migration {
        version: 14,
        name: "plan_changes",
        sqlite: include_str!("migrations/sqlite/0014_plan_changes.sql"),
        postgres: include_str!("migrations/postgres/0014_plan_changes.sql"),
    },
    Migration {
        version: 16,
        name: "access_notify",
        sqlite: include_str!("migrations/sqlite/0016_access_notify.sql"),
        postgres: include_str!("migrations/postgres/0016_access_notify.sql"),
    },
    Migration {
        version: 17,
        name: "operation_contents",
        sqlite: include_str!("migrations/sqlite/0017_operation_contents.sql"),
        postgres: include_str!("migrations/postgres/0017_operation_contents.sql"),
    },
    Migration {
        version: 22,
        name: "access_version",
        sqlite: include_str!("migrations/sqlite/0022_access_version.sql"),
        postgres: include_str!("migrations/postgres/0022_access_version.sql"),
    },
    Migration {
        version: 24,
        name: "must_ship",
        sqlite: include_str!("migrations/sqlite/0024_must_ship.sql"),
        postgres: include_str!("migrations/postgres/0024_must_ship.sql"),
    },
];

/// The version that adds the balance checkpoint (`ledger_checkpoint`).
pub const CHECKPOINT_VERSION: i64 = 4;

/// The version that adds the operation log (`operations`, `merkle_nodes`).
pub const LOG_VERSION: i64 = 9;

/// The version that puts the documents in the chain (`op_touched`).
pub const DOCUMENTS_VERSION: i64 = 10;

/// The version from which operations commit to a contents tree (leaf
/// format 2).
pub const CONTENTS_VERSION: i64 = 17;

pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at_unix_ms BIGINT NOT NULL)";

/// The schema version of the database (0 when empty).
pub fn current_version(conn: &mut dyn Conn) -> Result<i64, StoreError> {
    let exists_sql = match conn.backend() {
        Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
        Backend::Postgres => "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'",
    };
    if conn.query(exists_sql, &[])?[0][0].int()? == 0 {
        return Ok(0);
    }
    conn.query(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        &[],
    )?[0][0]
        .int()
}

/// Applies the migrations the database lacks, each in its own transaction
/// under the ledger's write lock. Returns the versions applied.
pub fn migrate(conn: &mut dyn Conn, now_unix_ms: i64) -> Result<Vec<i64>, StoreError> {
    let mut applied = Vec::new();
    for migration in MIGRATIONS {
        conn.begin_write()?;
        let result = (|| {
            conn.batch_execute(CREATE_TABLE)?;
            let done = conn.query(
                "SELECT COUNT(*) FROM schema_migrations WHERE version = $1",
                &[migration.version.into()],
            )?[0][0]
                .int()?;
            if done > 0 {
                return Ok(false);
            }
            let sql = match conn.backend() {
                Backend::Sqlite => migration.sqlite,
                Backend::Postgres => migration.postgres,
            };
            conn.batch_execute(sql).map_err(|e| {
                StoreError::Migration(format!("{} {}: {e}", migration.version, migration.name))
            })?;
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at_unix_ms) VALUES ($1, $2, $3)",
                &[migration.version.into(), migration.name.into(), now_unix_ms.into()],
            )?;
            Ok(true)
        })();
        match result {
            Ok(did) => {
                conn.commit()?;
                if did {
                    applied.push(migration.version);
                }
            }
            Err(e) => {
                let _ = conn.rollback();
                return Err(e);
            }
        }
    }
    Ok(applied)
}
