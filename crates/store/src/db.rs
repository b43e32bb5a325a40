//! The two database backends behind one small connection interface.
//!
//! Everything above this file writes its SQL once, with `$1`-style
//! placeholders and portable types (BIGINT, DOUBLE PRECISION, TEXT, bytes).
//! This file holds the backend differences: connecting, transactions and
//! locking, placeholder syntax, and the bulk paths of the journal.

use std::time::Duration;

use reliefhub_core::domain::{format_date, LotSpec};
use reliefhub_core::ledger::JournalEntry;

use crate::StoreError;

/// A value passed to or read from SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Value {
    pub fn int(&self) -> Result<i64, StoreError> {
        match self {
            Value::Int(v) => Ok(*v),
            other => Err(StoreError::Corrupt(format!(
                "expected an integer, found {other:?}"
            ))),
        }
    }
    pub fn opt_int(&self) -> Result<Option<i64>, StoreError> {
        match self {
            Value::Null => Ok(None),
            other => other.int().map(Some),
        }
    }
    pub fn real(&self) -> Result<f64, StoreError> {
        match self {
            Value::Real(v) => Ok(*v),
            Value::Int(v) => Ok(*v as f64),
            other => Err(StoreError::Corrupt(format!(
                "expected a number, found {other:?}"
            ))),
        }
    }
    pub fn text(&self) -> Result<String, StoreError> {
        match self {
            Value::Text(v) => Ok(v.clone()),
            other => Err(StoreError::Corrupt(format!(
                "expected text, found {other:?}"
            ))),
        }
    }
    pub fn opt_text(&self) -> Result<Option<String>, StoreError> {
        match self {
            Value::Null => Ok(None),
            other => other.text().map(Some),
        }
    }
    pub fn bytes(&self) -> Result<Vec<u8>, StoreError> {
        match self {
            Value::Bytes(v) => Ok(v.clone()),
            other => Err(StoreError::Corrupt(format!(
                "expected bytes, found {other:?}"
            ))),
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(i64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

pub type Row = Vec<Value>;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One connection to one of the two databases.
pub trait Conn: Send {
    fn backend(&self) -> Backend;
    /// Runs statements without parameters (DDL, transaction control).
    fn batch_execute(&mut self, sql: &str) -> Result<(), StoreError>;
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
    /// Starts a transaction that holds the ledger's single write lock until
    /// it ends: SQLite's `BEGIN IMMEDIATE`, PostgreSQL's transaction-scoped
    /// advisory lock.
    fn begin_write(&mut self) -> Result<(), StoreError>;
    /// Starts a read transaction that sees one consistent snapshot.
    fn begin_read(&mut self) -> Result<(), StoreError>;
    fn commit(&mut self) -> Result<(), StoreError> {
        self.batch_execute("COMMIT")
    }
    fn rollback(&mut self) -> Result<(), StoreError> {
        self.batch_execute("ROLLBACK")
    }
    /// Waits up to `timeout` for a notification on a channel this
    /// connection listens on (PostgreSQL LISTEN); true when one came. The
    /// embedded database has none: it waits and says false.
    fn wait_notification(&mut self, timeout: std::time::Duration) -> Result<bool, StoreError> {
        std::thread::sleep(timeout);
        Ok(false)
    }
    /// True when the connection is gone for good (the server closed it or
    /// restarted): the holder should open a new one.
    fn is_broken(&self) -> bool {
        false
    }
    /// Copies the whole database into a new SQLite file at `out`, as of
    /// one moment, while others may write (SQLite only).
    fn sqlite_backup(&mut self, out: &std::path::Path) -> Result<(), StoreError> {
        Err(StoreError::Database(format!(
            "a file copy of the database ({}) is made only from SQLite",
            out.display()
        )))
    }
    /// Appends journal entries (the hot path of every batch).
    fn insert_journal(&mut self, table: &str, rows: &[JournalEntry]) -> Result<(), StoreError>;
    /// Reads the balance of each (account, lot) pair, in order; 0 when absent.
    fn get_balances(&mut self, pairs: &[(&str, i64)]) -> Result<Vec<i64>, StoreError>;
    /// Adds `delta` to each (account, lot) balance, creating missing rows.
    fn add_balances(&mut self, changes: &[(&str, i64, i64)]) -> Result<(), StoreError>;
    /// Inserts new lots `(id, spec)` created by batch `created_batch`.
    fn insert_lots(
        &mut self,
        rows: &[(i64, &LotSpec)],
        created_batch: i64,
    ) -> Result<(), StoreError>;
    /// Inserts rows of values into `table` (the bulk path for documents
    /// written with a batch). The default uses multi-row `VALUES` lists.
    fn insert_many(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &[Vec<Value>],
    ) -> Result<(), StoreError> {
        let width = columns.len().max(1);
        let chunk_rows = (4_000 / width).max(1);
        for chunk in rows.chunks(chunk_rows) {
            let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
            let mut n = 0;
            for (r, _) in chunk.iter().enumerate() {
                if r > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                for c in 0..width {
                    n += 1;
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!("${n}"));
                }
                sql.push(')');
            }
            let params: Vec<Value> = chunk.iter().flatten().cloned().collect();
            self.execute(&sql, &params)?;
        }
        Ok(())
    }
}

fn expiry_text(lot: &LotSpec) -> Option<String> {
    lot.expiry.map(format_date)
}

/// The ledger's advisory lock id on PostgreSQL.
const LEDGER_LOCK_ID: i64 = 0x5245_4c48_5542; // "RELHUB"

// ---------------------------------------------------------------- SQLite

pub struct SqliteConn {
    conn: rusqlite::Connection,
}

/// Why a database file may not open for writing, in the system's words
/// (a read-only file system, a full disk, permissions), when it says.
fn open_hint(path: &str) -> String {
    match std::fs::OpenOptions::new().append(true).open(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => format!(" ({e})"),
        _ => String::new(),
    }
}

/// Rewrites `$1` placeholders as SQLite's `?1`.
fn sqlite_placeholders(sql: &str) -> String {
    sql.replace('$', "?")
}

fn sqlite_err(e: rusqlite::Error) -> StoreError {
    StoreError::Database(format!("SQLite: {e}"))
}

impl SqliteConn {
    pub fn open(path: &str) -> Result<SqliteConn, StoreError> {
        let conn = rusqlite::Connection::open(path).map_err(|e| {
            StoreError::Connect(format!(
                "cannot open SQLite database `{path}`: {e}{}",
                open_hint(path)
            ))
        })?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(sqlite_err)?;
        conn.execute_batch(
            "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;",
        )
        .map_err(|e| StoreError::Connect(format!("cannot open SQLite database `{path}`: {e}{}", open_hint(path))))?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(SqliteConn { conn })
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Real(v) => ValueRef::Real(*v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
            Value::Bytes(v) => ValueRef::Blob(v),
        }))
    }
}

fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef as V;
    match value {
        V::Null => Value::Null,
        V::Integer(v) => Value::Int(v),
        V::Real(v) => Value::Real(v),
        V::Text(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
        V::Blob(v) => Value::Bytes(v.to_vec()),
    }
}

/// Rows per multi-row INSERT on SQLite: one statement run per this many
/// rows spares the per-statement work (binding, cursors, reset).
const SQLITE_ROWS_PER_INSERT: usize = 64;

impl SqliteConn {
    /// Inserts `rows` with prepared multi-row `INSERT ... VALUES` statements:
    /// `head` is the statement up to `VALUES`, `tail` what follows the
    /// values (such as an upsert clause), `bind` binds one row's `width`
    /// values from parameter index `first` on.
    fn insert_batched<R>(
        &mut self,
        head: &str,
        tail: &str,
        width: usize,
        rows: &[R],
        bind: impl Fn(&mut rusqlite::Statement<'_>, usize, &R) -> rusqlite::Result<()>,
    ) -> Result<(), StoreError> {
        let sql_for = |count: usize| {
            let mut sql = String::with_capacity(head.len() + tail.len() + count * width * 6);
            sql.push_str(head);
            sql.push_str(" VALUES ");
            for r in 0..count {
                if r > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                for c in 0..width {
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!("?{}", r * width + c + 1));
                }
                sql.push(')');
            }
            sql.push(' ');
            sql.push_str(tail);
            sql
        };
        let mut chunks = rows.chunks_exact(SQLITE_ROWS_PER_INSERT);
        if rows.len() >= SQLITE_ROWS_PER_INSERT {
            let mut stmt = self
                .conn
                .prepare_cached(&sql_for(SQLITE_ROWS_PER_INSERT))
                .map_err(sqlite_err)?;
            for chunk in &mut chunks {
                for (r, row) in chunk.iter().enumerate() {
                    bind(&mut stmt, r * width + 1, row).map_err(sqlite_err)?;
                }
                stmt.raw_execute().map_err(sqlite_err)?;
            }
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut stmt = self.conn.prepare_cached(&sql_for(1)).map_err(sqlite_err)?;
            for row in rest {
                bind(&mut stmt, 1, row).map_err(sqlite_err)?;
                stmt.raw_execute().map_err(sqlite_err)?;
            }
        }
        Ok(())
    }
}

impl Conn for SqliteConn {
    fn sqlite_backup(&mut self, out: &std::path::Path) -> Result<(), StoreError> {
        let mut target = rusqlite::Connection::open(out).map_err(sqlite_err)?;
        // Every page in one step: one read transaction, so the copy is the
        // database as of one moment; in WAL mode writers go on meanwhile.
        let backup = rusqlite::backup::Backup::new(&self.conn, &mut target).map_err(sqlite_err)?;
        loop {
            match backup.step(-1).map_err(sqlite_err)? {
                rusqlite::backup::StepResult::Done => break,
                rusqlite::backup::StepResult::More => continue,
                rusqlite::backup::StepResult::Busy | rusqlite::backup::StepResult::Locked => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        drop(backup);
        target
            .execute_batch("PRAGMA journal_mode = DELETE;")
            .map_err(sqlite_err)?;
        Ok(())
    }
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
    fn batch_execute(&mut self, sql: &str) -> Result<(), StoreError> {
        self.conn.execute_batch(sql).map_err(sqlite_err)
    }
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&sqlite_placeholders(sql))
            .map_err(sqlite_err)?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params.iter()))
            .map_err(sqlite_err)?;
        Ok(n as u64)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&sqlite_placeholders(sql))
            .map_err(sqlite_err)?;
        let columns = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(sqlite_err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sqlite_err)? {
            let mut values = Vec::with_capacity(columns);
            for index in 0..columns {
                values.push(from_sqlite(row.get_ref(index).map_err(sqlite_err)?));
            }
            out.push(values);
        }
        Ok(out)
    }
    fn begin_write(&mut self) -> Result<(), StoreError> {
        self.batch_execute("BEGIN IMMEDIATE")
    }
    fn begin_read(&mut self) -> Result<(), StoreError> {
        self.batch_execute("BEGIN DEFERRED")
    }
    fn insert_journal(&mut self, table: &str, rows: &[JournalEntry]) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO {table} (seq, batch_id, lot_id, from_account, to_account, quantity, corrects, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(sqlite_err)?;
        for row in rows {
            stmt.execute(rusqlite::params![
                row.seq,
                row.batch_id,
                row.lot_id,
                row.from,
                row.to,
                row.quantity,
                row.corrects,
                &row.hash[..],
            ])
            .map_err(sqlite_err)?;
        }
        Ok(())
    }
    fn get_balances(&mut self, pairs: &[(&str, i64)]) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT quantity FROM balances WHERE account = ?1 AND lot_id = ?2")
            .map_err(sqlite_err)?;
        let mut out = Vec::with_capacity(pairs.len());
        for (account, lot_id) in pairs {
            let mut rows = stmt
                .query(rusqlite::params![account, lot_id])
                .map_err(sqlite_err)?;
            let quantity = match rows.next().map_err(sqlite_err)? {
                Some(row) => row.get::<_, i64>(0).map_err(sqlite_err)?,
                None => 0,
            };
            out.push(quantity);
        }
        Ok(out)
    }
    fn add_balances(&mut self, changes: &[(&str, i64, i64)]) -> Result<(), StoreError> {
        self.insert_batched(
            "INSERT INTO balances (account, lot_id, quantity)",
            "ON CONFLICT (account, lot_id) DO UPDATE SET quantity = quantity + excluded.quantity",
            3,
            changes,
            |stmt, i, (account, lot_id, delta)| {
                stmt.raw_bind_parameter(i, account)?;
                stmt.raw_bind_parameter(i + 1, lot_id)?;
                stmt.raw_bind_parameter(i + 2, delta)
            },
        )
    }
    fn insert_lots(
        &mut self,
        rows: &[(i64, &LotSpec)],
        created_batch: i64,
    ) -> Result<(), StoreError> {
        self.insert_batched(
            "INSERT INTO lots (id, item, donor, batch, expiry, earmark, created_batch)",
            "",
            7,
            rows,
            |stmt, i, (id, lot)| {
                stmt.raw_bind_parameter(i, id)?;
                stmt.raw_bind_parameter(i + 1, &lot.item)?;
                stmt.raw_bind_parameter(i + 2, &lot.donor)?;
                stmt.raw_bind_parameter(i + 3, &lot.batch)?;
                stmt.raw_bind_parameter(i + 4, expiry_text(lot))?;
                if lot.earmark.len() == 1 {
                    stmt.raw_bind_parameter(i + 5, &lot.earmark[0])?;
                } else {
                    stmt.raw_bind_parameter(i + 5, lot.earmark.join(","))?;
                }
                stmt.raw_bind_parameter(i + 6, created_batch)
            },
        )
    }
    fn insert_many(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &[Vec<Value>],
    ) -> Result<(), StoreError> {
        let head = format!("INSERT INTO {table} ({})", columns.join(", "));
        self.insert_batched(&head, "", columns.len(), rows, |stmt, i, row| {
            for (c, value) in row.iter().enumerate() {
                stmt.raw_bind_parameter(i + c, value)?;
            }
            Ok(())
        })
    }
}

// ------------------------------------------------------------ PostgreSQL

pub struct PgConn {
    client: postgres::Client,
}

fn pg_err(e: postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        return StoreError::Database(format!(
            "PostgreSQL: {}: {}",
            db.code().code(),
            db.message()
        ));
    }
    StoreError::Database(format!("PostgreSQL: {e}"))
}

impl PgConn {
    pub fn connect(url: &str) -> Result<PgConn, StoreError> {
        let client = postgres::Client::connect(url, postgres::NoTls).map_err(|e| {
            StoreError::Connect(format!(
                "cannot connect to PostgreSQL at `{}`: {e}",
                redact(url)
            ))
        })?;
        Ok(PgConn { client })
    }
}

/// Hides a password in a connection URL.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A NULL that PostgreSQL accepts for a parameter of any type.
#[derive(Debug)]
struct AnyNull;

impl postgres::types::ToSql for AnyNull {
    fn to_sql(
        &self,
        _ty: &postgres::types::Type,
        _out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(postgres::types::IsNull::Yes)
    }
    fn accepts(_ty: &postgres::types::Type) -> bool {
        true
    }
    postgres::types::to_sql_checked!();
}

fn pg_params(params: &[Value]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|value| -> Box<dyn postgres::types::ToSql + Sync> {
            match value {
                Value::Null => Box::new(AnyNull),
                Value::Int(v) => Box::new(*v),
                Value::Real(v) => Box::new(*v),
                Value::Text(v) => Box::new(v.clone()),
                Value::Bytes(v) => Box::new(v.clone()),
            }
        })
        .collect()
}

fn from_pg(row: &postgres::Row, index: usize) -> Result<Value, StoreError> {
    use postgres::types::Type;
    let ty = row.columns()[index].type_().clone();
    let value = if ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(index).map(Value::from)
    } else if ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(index)
            .map(|v| Value::from(v.map(i64::from)))
    } else if ty == Type::FLOAT8 {
        row.try_get::<_, Option<f64>>(index).map(Value::from)
    } else if ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(index).map(Value::from)
    } else if ty == Type::BYTEA {
        row.try_get::<_, Option<Vec<u8>>>(index)
            .map(|v| v.map_or(Value::Null, Value::Bytes))
    } else {
        row.try_get::<_, Option<String>>(index).map(Value::from)
    };
    value.map_err(pg_err)
}

impl Conn for PgConn {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }
    fn is_broken(&self) -> bool {
        self.client.is_closed()
    }
    fn wait_notification(&mut self, timeout: std::time::Duration) -> Result<bool, StoreError> {
        use fallible_iterator::FallibleIterator;
        let mut notifications = self.client.notifications();
        let mut waiting = notifications.timeout_iter(timeout);
        match waiting.next() {
            Ok(Some(_)) => Ok(true),
            Ok(None) => Ok(false),
            Err(e) => Err(pg_err(e)),
        }
    }
    fn batch_execute(&mut self, sql: &str) -> Result<(), StoreError> {
        self.client.batch_execute(sql).map_err(pg_err)
    }
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let boxed = pg_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            boxed.iter().map(|b| b.as_ref()).collect();
        self.client.execute(sql, &refs).map_err(pg_err)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let boxed = pg_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            boxed.iter().map(|b| b.as_ref()).collect();
        let rows = self.client.query(sql, &refs).map_err(pg_err)?;
        rows.iter()
            .map(|row| (0..row.len()).map(|index| from_pg(row, index)).collect())
            .collect()
    }
    fn begin_write(&mut self) -> Result<(), StoreError> {
        self.batch_execute(&format!(
            "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({LEDGER_LOCK_ID})"
        ))
    }
    fn begin_read(&mut self) -> Result<(), StoreError> {
        self.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    }
    fn insert_journal(&mut self, table: &str, rows: &[JournalEntry]) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO {table} (seq, batch_id, lot_id, from_account, to_account, quantity, corrects, hash) \
             SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[], \
             $6::BIGINT[], $7::BIGINT[], $8::BYTEA[])"
        );
        for chunk in rows.chunks(10_000) {
            let seq: Vec<i64> = chunk.iter().map(|r| r.seq).collect();
            let batch: Vec<i64> = chunk.iter().map(|r| r.batch_id).collect();
            let lot: Vec<i64> = chunk.iter().map(|r| r.lot_id).collect();
            let from: Vec<&str> = chunk.iter().map(|r| &*r.from).collect();
            let to: Vec<&str> = chunk.iter().map(|r| &*r.to).collect();
            let quantity: Vec<i64> = chunk.iter().map(|r| r.quantity).collect();
            let corrects: Vec<Option<i64>> = chunk.iter().map(|r| r.corrects).collect();
            let hash: Vec<&[u8]> = chunk.iter().map(|r| &r.hash[..]).collect();
            self.client
                .execute(
                    &sql,
                    &[&seq, &batch, &lot, &from, &to, &quantity, &corrects, &hash],
                )
                .map_err(pg_err)?;
        }
        Ok(())
    }
    fn get_balances(&mut self, pairs: &[(&str, i64)]) -> Result<Vec<i64>, StoreError> {
        let mut found: std::collections::HashMap<(String, i64), i64> =
            std::collections::HashMap::new();
        for chunk in pairs.chunks(10_000) {
            let account: Vec<&str> = chunk.iter().map(|p| p.0).collect();
            let lot: Vec<i64> = chunk.iter().map(|p| p.1).collect();
            let rows = self
                .client
                .query(
                    "SELECT b.account, b.lot_id, b.quantity FROM balances b \
                     JOIN UNNEST($1::TEXT[], $2::BIGINT[]) AS p(account, lot_id) \
                     ON b.account = p.account AND b.lot_id = p.lot_id",
                    &[&account, &lot],
                )
                .map_err(pg_err)?;
            for row in rows {
                let account: String = row.try_get(0).map_err(pg_err)?;
                found.insert(
                    (account, row.try_get(1).map_err(pg_err)?),
                    row.try_get(2).map_err(pg_err)?,
                );
            }
        }
        Ok(pairs
            .iter()
            .map(|(a, l)| found.get(&(a.to_string(), *l)).copied().unwrap_or(0))
            .collect())
    }
    fn add_balances(&mut self, changes: &[(&str, i64, i64)]) -> Result<(), StoreError> {
        for chunk in changes.chunks(10_000) {
            let account: Vec<&str> = chunk.iter().map(|c| c.0).collect();
            let lot: Vec<i64> = chunk.iter().map(|c| c.1).collect();
            let delta: Vec<i64> = chunk.iter().map(|c| c.2).collect();
            self.client
                .execute(
                    "INSERT INTO balances (account, lot_id, quantity) \
                     SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::BIGINT[]) \
                     ON CONFLICT (account, lot_id) DO UPDATE SET quantity = balances.quantity + excluded.quantity",
                    &[&account, &lot, &delta],
                )
                .map_err(pg_err)?;
        }
        Ok(())
    }
    fn insert_lots(
        &mut self,
        rows: &[(i64, &LotSpec)],
        created_batch: i64,
    ) -> Result<(), StoreError> {
        for chunk in rows.chunks(10_000) {
            let id: Vec<i64> = chunk.iter().map(|r| r.0).collect();
            let item: Vec<&str> = chunk.iter().map(|r| r.1.item.as_str()).collect();
            let donor: Vec<&str> = chunk.iter().map(|r| r.1.donor.as_str()).collect();
            let batch: Vec<&str> = chunk.iter().map(|r| r.1.batch.as_str()).collect();
            let expiry: Vec<Option<String>> = chunk.iter().map(|r| expiry_text(r.1)).collect();
            let earmark: Vec<String> = chunk.iter().map(|r| r.1.earmark.join(",")).collect();
            self.client
                .execute(
                    "INSERT INTO lots (id, item, donor, batch, expiry, earmark, created_batch) \
                     SELECT u.*, $7::BIGINT FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], \
                     $5::TEXT[], $6::TEXT[]) AS u",
                    &[&id, &item, &donor, &batch, &expiry, &earmark, &created_batch],
                )
                .map_err(pg_err)?;
        }
        Ok(())
    }
}

/// Opens a connection from a `--db` URL: `sqlite:PATH` or `postgres://...`.
pub fn connect(url: &str) -> Result<Box<dyn Conn>, StoreError> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            return Err(StoreError::Connect(
                "`sqlite:` needs a file path, as in `sqlite:reliefhub.db`".into(),
            ));
        }
        return Ok(Box::new(SqliteConn::open(path)?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(PgConn::connect(url)?));
    }
    Err(StoreError::Connect(format!(
        "database URL `{}` is neither `sqlite:PATH` nor `postgres://...`",
        redact(url)
    )))
}
