//! Backup and restore, consistent while the server writes.
//!
//! - A SQLite database is backed up with SQLite's online backup API, all
//!   pages in one step inside one read transaction: the file is the
//!   database as of one moment (writers are not blocked in WAL mode) and is
//!   itself a SQLite database.
//! - A PostgreSQL database is backed up from one `REPEATABLE READ` snapshot
//!   into a portable one-file format, `reliefhub-backup/1`: JSON lines, a
//!   header (schema version, tables in creation order, row counts, the
//!   journal's length and last hash), then per table a line naming it and
//!   its columns and one line per row (integers, numbers, text, bytes as
//!   `{"hex": ...}`), then a last line with the SHA-256 of everything
//!   before it, so a truncated or altered file is refused.
//!
//! [`restore`] reads either kind into a new, empty database of either kind:
//! it creates the schema, copies every table in creation order, sets
//! PostgreSQL's sequences, and checks that the restored journal has the
//! same length and last hash as the backup's. Nothing is restored into a
//! database that already has a schema.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use crate::db::{Backend, Conn, Value};
use crate::migrations;
use crate::{now_unix_ms, Store, StoreError};

/// The portable format's name, first in its header.
pub const FORMAT: &str = "reliefhub-backup/1";
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const ROWS_PER_INSERT: usize = 500;

/// What a backup holds, and what a restore must reproduce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    pub schema_version: i64,
    pub tables: usize,
    pub rows: u64,
    pub journal_entries: i64,
    /// The last journal entry's hash, hex (empty when the journal is).
    pub last_hash: String,
}

fn err(message: impl Into<String>) -> StoreError {
    StoreError::Database(message.into())
}

fn io(file: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("{}: {e}", file.display()))
}

/// The tables of the connected database, in creation order.
fn tables(conn: &mut dyn Conn) -> Result<Vec<String>, StoreError> {
    let sql = match conn.backend() {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        }
        Backend::Postgres => {
            "SELECT c.relname::TEXT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY c.oid"
        }
    };
    conn.query(sql, &[])?.iter().map(|r| r[0].text()).collect()
}

/// A table's columns, in order, with their declared types (lower case).
fn columns(conn: &mut dyn Conn, table: &str) -> Result<Vec<(String, String)>, StoreError> {
    match conn.backend() {
        Backend::Sqlite => conn
            .query(&format!("SELECT name, type FROM pragma_table_info('{table}') ORDER BY cid"), &[])?
            .iter()
            .map(|r| Ok((r[0].text()?, r[1].text()?.to_lowercase())))
            .collect(),
        Backend::Postgres => conn
            .query(
                "SELECT column_name::TEXT, data_type::TEXT FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
                &[table.into()],
            )?
            .iter()
            .map(|r| Ok((r[0].text()?, r[1].text()?.to_lowercase())))
            .collect(),
    }
}

fn journal_head(conn: &mut dyn Conn) -> Result<(i64, String), StoreError> {
    let count = conn.query("SELECT COUNT(*) FROM journal", &[])?[0][0].int()?;
    let last = conn.query("SELECT hash FROM journal ORDER BY seq DESC LIMIT 1", &[])?;
    let hash = match last.first() {
        Some(row) => hex::encode(row[0].bytes()?),
        None => String::new(),
    };
    Ok((count, hash))
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn to_json(value: &Value) -> Result<Json, StoreError> {
    Ok(match value {
        Value::Null => Json::Null,
        Value::Int(v) => json!(v),
        Value::Real(v) if v.is_finite() => json!(v),
        Value::Real(v) => {
            return Err(err(format!(
                "a number that is not finite ({v}) cannot be backed up"
            )))
        }
        Value::Text(v) => json!(v),
        Value::Bytes(v) => json!({ "hex": hex::encode(v) }),
    })
}

fn from_json(value: &Json) -> Result<Value, StoreError> {
    Ok(match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Int(i64::from(*b)),
        Json::Number(n) => match n.as_i64() {
            Some(i) if !n.is_f64() => Value::Int(i),
            _ => Value::Real(n.as_f64().ok_or_else(|| err(format!("bad number {n}")))?),
        },
        Json::String(s) => Value::Text(s.clone()),
        Json::Object(o) => match o.get("hex").and_then(Json::as_str) {
            Some(h) => Value::Bytes(hex::decode(h).map_err(|e| err(format!("bad bytes: {e}")))?),
            None => return Err(err(format!("unexpected value {value}"))),
        },
        Json::Array(_) => return Err(err(format!("unexpected value {value}"))),
    })
}

/// Writes a consistent backup of the database `store` is connected to into
/// `out` (a SQLite database for SQLite, `reliefhub-backup/1` for
/// PostgreSQL). `progress` gets (rows written, rows in all).
pub fn backup(
    store: &mut Store,
    out: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<BackupSummary, StoreError> {
    store.ensure_ready()?;
    if out.exists() {
        return Err(err(format!(
            "{} exists already; a backup never overwrites a file",
            out.display()
        )));
    }
    match store.backend() {
        Backend::Sqlite => {
            store.conn().sqlite_backup(out)?;
            // Read back what was written: the summary is the file's own.
            let mut copy = Store::open(&format!("sqlite:{}", out.display()))?;
            let summary = summarise(copy.conn())?;
            progress(summary.rows, summary.rows);
            Ok(summary)
        }
        Backend::Postgres => {
            let conn = store.conn();
            conn.begin_read()?;
            let result = write_portable(conn, out, progress);
            let _ = conn.rollback();
            if result.is_err() {
                let _ = std::fs::remove_file(out);
            }
            result
        }
    }
}

fn summarise(conn: &mut dyn Conn) -> Result<BackupSummary, StoreError> {
    let names = tables(conn)?;
    let mut rows = 0_u64;
    for name in &names {
        rows += conn.query(&format!("SELECT COUNT(*) FROM {}", quoted(name)), &[])?[0][0]
            .int()?
            .max(0) as u64;
    }
    let (journal_entries, last_hash) = journal_head(conn)?;
    Ok(BackupSummary {
        schema_version: migrations::current_version(conn)?,
        tables: names.len(),
        rows,
        journal_entries,
        last_hash,
    })
}

/// Writes the portable format from the snapshot `conn` is in.
fn write_portable(
    conn: &mut dyn Conn,
    out: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<BackupSummary, StoreError> {
    let names = tables(conn)?;
    let mut counts = BTreeMap::new();
    let mut total = 0_u64;
    for name in &names {
        let n = conn.query(&format!("SELECT COUNT(*) FROM {}", quoted(name)), &[])?[0][0].int()?;
        counts.insert(name.clone(), n);
        total += n.max(0) as u64;
    }
    let (journal_entries, last_hash) = journal_head(conn)?;
    let schema_version = migrations::current_version(conn)?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(|e| io(out, e))?;
    let mut writer = BufWriter::new(file);
    let mut digest = Sha256::new();
    let mut line =
        |writer: &mut BufWriter<std::fs::File>, value: &Json| -> Result<(), StoreError> {
            let mut text = serde_json::to_string(value).map_err(|e| err(e.to_string()))?;
            text.push('\n');
            digest.update(text.as_bytes());
            writer.write_all(text.as_bytes()).map_err(|e| io(out, e))
        };
    line(
        &mut writer,
        &json!({
            "format": FORMAT,
            "schema_version": schema_version,
            "source": "postgres",
            "created_at_unix_ms": now_unix_ms(),
            "tables": names,
            "rows": counts,
            "journal_entries": journal_entries,
            "last_hash": last_hash,
        }),
    )?;
    let mut done = 0_u64;
    for name in &names {
        let cols = columns(conn, name)?;
        let names_only: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
        line(&mut writer, &json!({"table": name, "columns": names_only}))?;
        let order: Vec<String> = (1..=cols.len()).map(|i| i.to_string()).collect();
        let rows = conn.query(
            &format!(
                "SELECT * FROM {} ORDER BY {}",
                quoted(name),
                order.join(", ")
            ),
            &[],
        )?;
        for row in &rows {
            let values = row.iter().map(to_json).collect::<Result<Vec<_>, _>>()?;
            line(&mut writer, &Json::Array(values))?;
            done += 1;
            if done.is_multiple_of(10_000) {
                progress(done, total);
            }
        }
    }
    let end = hex::encode(digest.clone().finalize());
    let text = format!("{}\n", json!({ "end": true, "sha256": end }));
    writer.write_all(text.as_bytes()).map_err(|e| io(out, e))?;
    writer.flush().map_err(|e| io(out, e))?;
    writer
        .into_inner()
        .map_err(|e| io(out, e.error()))?
        .sync_all()
        .map_err(|e| io(out, e))?;
    progress(total, total);
    Ok(BackupSummary {
        schema_version,
        tables: names.len(),
        rows: total,
        journal_entries,
        last_hash,
    })
}

/// Where rows come from during a restore.
trait Source {
    fn summary(&self) -> &BackupSummary;
    /// The next table: its name and columns; None at the end.
    fn next_table(&mut self) -> Result<Option<(String, Vec<String>)>, StoreError>;
    /// Up to `n` rows of the current table; empty when it is done.
    fn rows(&mut self, n: usize) -> Result<Vec<Vec<Value>>, StoreError>;
}

/// A SQLite backup file, read in pages by rowid (a table without rowids
/// at once).
struct SqliteSource {
    conn: Box<dyn Conn>,
    summary: BackupSummary,
    tables: Vec<String>,
    next: usize,
    current: Option<String>,
    /// The last rowid read of the current table; None when it has none.
    after_rowid: Option<i64>,
    /// A table without rowids, read whole.
    whole: std::collections::VecDeque<Vec<Value>>,
}

impl Source for SqliteSource {
    fn summary(&self) -> &BackupSummary {
        &self.summary
    }
    fn next_table(&mut self) -> Result<Option<(String, Vec<String>)>, StoreError> {
        let Some(name) = self.tables.get(self.next).cloned() else {
            return Ok(None);
        };
        self.next += 1;
        let cols: Vec<String> = columns(self.conn.as_mut(), &name)?
            .into_iter()
            .map(|c| c.0)
            .collect();
        let has_rowid = self
            .conn
            .query(&format!("SELECT rowid FROM {} LIMIT 1", quoted(&name)), &[])
            .is_ok();
        if has_rowid {
            self.after_rowid = Some(i64::MIN);
            self.whole.clear();
        } else {
            self.after_rowid = None;
            self.whole = self
                .conn
                .query(&format!("SELECT * FROM {}", quoted(&name)), &[])?
                .into();
        }
        self.current = Some(name.clone());
        Ok(Some((name, cols)))
    }
    fn rows(&mut self, n: usize) -> Result<Vec<Vec<Value>>, StoreError> {
        let Some(name) = &self.current else {
            return Ok(Vec::new());
        };
        let Some(after) = self.after_rowid else {
            let take = n.min(self.whole.len());
            return Ok(self.whole.drain(..take).collect());
        };
        let rows = self.conn.query(
            &format!(
                "SELECT rowid, * FROM {} WHERE rowid > $1 ORDER BY rowid LIMIT {n}",
                quoted(name)
            ),
            &[after.into()],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for mut row in rows {
            self.after_rowid = Some(row[0].int()?);
            row.remove(0);
            out.push(row);
        }
        Ok(out)
    }
}

/// A `reliefhub-backup/1` file, read line by line, its digest checked as
/// it goes and at the end.
struct PortableSource {
    lines: std::io::Lines<BufReader<std::fs::File>>,
    file: std::path::PathBuf,
    line_no: usize,
    digest: Sha256,
    summary: BackupSummary,
    tables: Vec<String>,
    counts: BTreeMap<String, i64>,
    pending: Option<Json>,
    current: Option<(String, i64)>,
    ended: bool,
}

impl PortableSource {
    fn open(file: &Path) -> Result<PortableSource, StoreError> {
        let reader = BufReader::new(std::fs::File::open(file).map_err(|e| io(file, e))?);
        let mut source = PortableSource {
            lines: reader.lines(),
            file: file.to_path_buf(),
            line_no: 0,
            digest: Sha256::new(),
            summary: BackupSummary {
                schema_version: 0,
                tables: 0,
                rows: 0,
                journal_entries: 0,
                last_hash: String::new(),
            },
            tables: Vec::new(),
            counts: BTreeMap::new(),
            pending: None,
            current: None,
            ended: false,
        };
        let header = source
            .read()?
            .ok_or_else(|| source.bad("the file is empty"))?;
        if header["format"] != FORMAT {
            return Err(source.bad(&format!(
                "not a {FORMAT} file (format {})",
                header["format"]
            )));
        }
        source.tables = header["tables"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        source.counts = header["rows"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(-1)))
                    .collect()
            })
            .unwrap_or_default();
        source.summary = BackupSummary {
            schema_version: header["schema_version"].as_i64().unwrap_or(0),
            tables: source.tables.len(),
            rows: source.counts.values().map(|n| (*n).max(0) as u64).sum(),
            journal_entries: header["journal_entries"].as_i64().unwrap_or(-1),
            last_hash: header["last_hash"].as_str().unwrap_or("").to_string(),
        };
        Ok(source)
    }

    fn bad(&self, message: &str) -> StoreError {
        err(format!(
            "{} line {}: {message}",
            self.file.display(),
            self.line_no
        ))
    }

    /// The next line as JSON (None at the end of the file), checking the
    /// digest line when it comes.
    fn read(&mut self) -> Result<Option<Json>, StoreError> {
        if let Some(value) = self.pending.take() {
            return Ok(Some(value));
        }
        let Some(line) = self.lines.next() else {
            if !self.ended {
                return Err(self.bad("the file ends early (no end line): it is truncated"));
            }
            return Ok(None);
        };
        self.line_no += 1;
        let line = line.map_err(|e| io(&self.file, e))?;
        let value: Json = serde_json::from_str(&line).map_err(|e| self.bad(&e.to_string()))?;
        if value.get("end") == Some(&Json::Bool(true)) {
            let expected = hex::encode(self.digest.clone().finalize());
            if value["sha256"] != expected.as_str() {
                return Err(
                    self.bad("the file's digest does not match its contents: it was altered")
                );
            }
            self.ended = true;
            return Ok(None);
        }
        self.digest.update(line.as_bytes());
        self.digest.update(b"\n");
        Ok(Some(value))
    }
}

impl Source for PortableSource {
    fn summary(&self) -> &BackupSummary {
        &self.summary
    }
    fn next_table(&mut self) -> Result<Option<(String, Vec<String>)>, StoreError> {
        loop {
            let Some(value) = self.read()? else {
                return Ok(None);
            };
            if let Some(name) = value["table"].as_str() {
                let cols = value["columns"]
                    .as_array()
                    .map(|c| {
                        c.iter()
                            .filter_map(|n| n.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                self.current = Some((name.to_string(), 0));
                return Ok(Some((name.to_string(), cols)));
            }
            if value.is_array() {
                return Err(self.bad("a row outside any table"));
            }
        }
    }
    fn rows(&mut self, n: usize) -> Result<Vec<Vec<Value>>, StoreError> {
        let mut out = Vec::new();
        while out.len() < n {
            let Some(value) = self.read()? else { break };
            match value {
                Json::Array(values) => {
                    out.push(
                        values
                            .iter()
                            .map(from_json)
                            .collect::<Result<Vec<_>, _>>()?,
                    );
                }
                other => {
                    self.pending = Some(other);
                    break;
                }
            }
        }
        if let Some((name, seen)) = &mut self.current {
            *seen += out.len() as i64;
            if out.len() < n {
                let expected = self.counts.get(name.as_str()).copied().unwrap_or(-1);
                if *seen != expected {
                    let (name, seen) = (name.clone(), *seen);
                    return Err(self.bad(&format!(
                        "table {name} has {seen} rows, the header says {expected}"
                    )));
                }
            }
        }
        Ok(out)
    }
}

fn open_source(file: &Path) -> Result<Box<dyn Source>, StoreError> {
    let mut magic = [0u8; 16];
    let n = std::fs::File::open(file)
        .and_then(|mut f| f.read(&mut magic))
        .map_err(|e| io(file, e))?;
    if n == 16 && magic == SQLITE_MAGIC {
        let mut conn = crate::db::connect(&format!("sqlite:{}", file.display()))?;
        let version = migrations::current_version(conn.as_mut())?;
        if version == 0 {
            return Err(err(format!(
                "{} is a SQLite file but not a reliefhub database",
                file.display()
            )));
        }
        conn.begin_read()?;
        let summary = summarise(conn.as_mut())?;
        let tables = tables(conn.as_mut())?;
        return Ok(Box::new(SqliteSource {
            conn,
            summary,
            tables,
            next: 0,
            current: None,
            after_rowid: None,
            whole: std::collections::VecDeque::new(),
        }));
    }
    Ok(Box::new(PortableSource::open(file)?))
}

/// How a value is bound into a PostgreSQL column of a declared type.
fn pg_placeholder(n: usize, data_type: &str) -> String {
    match data_type {
        "bigint" | "integer" | "smallint" => format!("${n}::BIGINT"),
        "double precision" | "real" | "numeric" => format!("${n}::FLOAT8"),
        "boolean" => format!("(${n}::BIGINT <> 0)"),
        "bytea" => format!("${n}::BYTEA"),
        "text" | "character varying" => format!("${n}::TEXT"),
        other => format!("CAST(${n}::TEXT AS {other})"),
    }
}

fn coerce(value: Value, data_type: &str, backend: Backend) -> Value {
    if backend == Backend::Sqlite {
        return value;
    }
    match (value, data_type) {
        (Value::Int(v), "double precision" | "real" | "numeric") => Value::Real(v as f64),
        (Value::Real(v), "bigint" | "integer" | "smallint" | "boolean") if v.fract() == 0.0 => {
            Value::Int(v as i64)
        }
        (Value::Int(v), "text" | "character varying") => Value::Text(v.to_string()),
        (Value::Real(v), "text" | "character varying") => Value::Text(v.to_string()),
        (value, _) => value,
    }
}

/// Restores a backup file (either kind) into the new, empty database
/// `store` is connected to, then checks that its journal has the backup's
/// length and last hash. `progress` gets (rows restored, rows in all).
pub fn restore(
    store: &mut Store,
    file: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<BackupSummary, StoreError> {
    let mut source = open_source(file)?;
    let expected = source.summary().clone();
    let latest = migrations::latest_version();
    if expected.schema_version != latest {
        return Err(err(format!(
            "the backup has schema version {}, this program {latest}: restore it with the version that made it",
            expected.schema_version
        )));
    }
    let target = store.conn();
    if migrations::current_version(target)? != 0 {
        return Err(err(
            "the target database has a schema already: restore only into a new, empty database",
        ));
    }
    migrations::migrate(target, now_unix_ms())?;
    let backend = target.backend();
    target.batch_execute("BEGIN")?;
    let result = copy_tables(target, source.as_mut(), backend, expected.rows, progress);
    match result {
        Ok(()) => target.commit()?,
        Err(e) => {
            let _ = target.rollback();
            return Err(e);
        }
    }
    let restored = summarise(store.conn())?;
    if restored.journal_entries != expected.journal_entries
        || restored.last_hash != expected.last_hash
    {
        return Err(err(format!(
            "the restored journal ({} entries, last hash {}) differs from the backup's ({} entries, last hash {})",
            restored.journal_entries, restored.last_hash, expected.journal_entries, expected.last_hash
        )));
    }
    Ok(restored)
}

fn copy_tables(
    target: &mut dyn Conn,
    source: &mut dyn Source,
    backend: Backend,
    total: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), StoreError> {
    let known: Vec<String> = tables(target)?;
    let mut done = 0_u64;
    while let Some((table, cols)) = source.next_table()? {
        if !known.contains(&table) {
            return Err(err(format!(
                "the backup has a table `{table}` this schema does not"
            )));
        }
        let target_cols = columns(target, &table)?;
        let types: Vec<String> = cols
            .iter()
            .map(|c| {
                target_cols
                    .iter()
                    .find(|t| &t.0 == c)
                    .map(|t| t.1.clone())
                    .ok_or_else(|| {
                        err(format!(
                            "the backup's column {table}.{c} is not in this schema"
                        ))
                    })
            })
            .collect::<Result<_, _>>()?;
        // Rows the schema's own creation put there (the migrations list,
        // the checkpoint) give way to the backup's.
        let present =
            target.query(&format!("SELECT COUNT(*) FROM {}", quoted(&table)), &[])?[0][0].int()?;
        if present > 0 {
            target.execute(&format!("DELETE FROM {}", quoted(&table)), &[])?;
        }
        let column_list = cols
            .iter()
            .map(|c| quoted(c))
            .collect::<Vec<_>>()
            .join(", ");
        loop {
            let rows = source.rows(ROWS_PER_INSERT)?;
            if rows.is_empty() {
                break;
            }
            let mut sql = format!("INSERT INTO {} ({column_list}) VALUES ", quoted(&table));
            let mut params = Vec::with_capacity(rows.len() * cols.len());
            let mut n = 0;
            for (r, row) in rows.into_iter().enumerate() {
                if row.len() != cols.len() {
                    return Err(err(format!(
                        "a row of {table} has {} values for {} columns",
                        row.len(),
                        cols.len()
                    )));
                }
                sql.push_str(if r == 0 { "(" } else { ", (" });
                for (c, value) in row.into_iter().enumerate() {
                    n += 1;
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    match backend {
                        Backend::Sqlite => sql.push_str(&format!("${n}")),
                        Backend::Postgres => sql.push_str(&pg_placeholder(n, &types[c])),
                    }
                    params.push(coerce(value, &types[c], backend));
                }
                sql.push(')');
                done += 1;
            }
            target.execute(&sql, &params)?;
            progress(done, total);
        }
    }
    if backend == Backend::Postgres {
        let serials = target.query(
            "SELECT table_name::TEXT, column_name::TEXT FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'",
            &[],
        )?;
        for row in serials {
            let (table, column) = (row[0].text()?, row[1].text()?);
            target.query(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                     COALESCE((SELECT MAX({}) FROM {}), 0) + 1, false)",
                    quoted(&column),
                    quoted(&table)
                ),
                &[],
            )?;
        }
    }
    Ok(())
}
