//! The store: the ledger's transactions and the queries over it, written
//! once over [`Conn`].

use std::collections::{HashMap, HashSet};

use reliefhub_core::domain::parse_date;
use reliefhub_core::ledger::{
    self, BatchHeader, CorrectedEntry, Hash32, JournalEntry, ReferenceCodes, GENESIS_HASH,
};
use reliefhub_core::oplog::{self, ContentsBuilder};
use reliefhub_core::reference::ReferenceData;
use reliefhub_core::verify::{Verifier, VerifyFailure, VerifySummary};
use reliefhub_core::{
    Account, Airport, Batch, Country, Destination, Item, Lot, LotRef, LotSpec, Names, Organisation,
    OrganisationKind,
};

use crate::db::{self, Backend, Conn, Row, Value};
use crate::migrations;
use crate::StoreError;

/// The result of applying a batch, the same on a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub batch_id: i64,
    pub first_seq: i64,
    pub transfer_count: i64,
    /// The ids given to the batch's new lots, in order.
    pub lot_ids: Vec<i64>,
    /// True when the key had been applied before and nothing changed now.
    pub replayed: bool,
}

/// One non-zero balance.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BalanceRow {
    pub account: String,
    pub lot_id: i64,
    pub quantity: i64,
}

/// The hub's database.
pub struct Store {
    conn: Box<dyn Conn>,
    cache: BalanceCache,
    lots: LotCache,
    /// Whether the schema has the balance checkpoint (migration 4).
    checkpoint_ready: bool,
    /// Who the operations written through this store are by.
    actor: String,
    /// The time operations that move no stock are recorded at (the clock
    /// when None).
    clock_unix_ms: Option<i64>,
    /// How much of the operation log the schema has (known once complete).
    log_level: Option<LogLevel>,
    /// Whether new operations commit to a contents tree (migration 17).
    log_contents: bool,
    /// Whether operations are logged (always, but for benchmarks).
    log_enabled: bool,
}

/// How much of the operation log the schema has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogLevel {
    None,
    Operations,
    Documents,
}

/// A fast hasher for the store's own maps (lot ids, account names): a
/// multiply per word. The keys come from the ledger, not from an attacker.
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

const HASH_K: u64 = 0x9e37_79b9_7f4a_7c15;

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(HASH_K);
        }
        let mut tail = [0_u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(tail) ^ bytes.len() as u64)
            .wrapping_mul(HASH_K);
    }
    fn write_u8(&mut self, value: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(value)).wrapping_mul(HASH_K);
    }
    fn write_i64(&mut self, value: i64) {
        self.0 = (self.0.rotate_left(5) ^ value as u64).wrapping_mul(HASH_K);
    }
}

type FastBuild = std::hash::BuildHasherDefault<FastHasher>;
type IdMap<V> = HashMap<i64, V, FastBuild>;

/// Numbers per (account, lot) pair, looked up without allocating.
#[derive(Default)]
struct PairMap {
    by_account: HashMap<String, IdMap<i64>, FastBuild>,
}

impl PairMap {
    fn get(&self, account: &str, lot: i64) -> Option<i64> {
        self.by_account.get(account)?.get(&lot).copied()
    }
    fn lots_mut(&mut self, account: &str) -> &mut IdMap<i64> {
        if !self.by_account.contains_key(account) {
            self.by_account
                .insert(account.to_string(), IdMap::default());
        }
        self.by_account.get_mut(account).expect("inserted above")
    }
    fn set(&mut self, account: &str, lot: i64, value: i64) {
        self.lots_mut(account).insert(lot, value);
    }
    fn len(&self) -> usize {
        self.by_account.values().map(|lots| lots.len()).sum()
    }
    fn clear(&mut self) {
        self.by_account.clear();
    }
    /// Adds `other`'s numbers to these.
    fn merge(&mut self, other: &PairMap) {
        for (account, lots) in &other.by_account {
            let target = self.lots_mut(account);
            for (lot, delta) in lots {
                *target.entry(*lot).or_insert(0) += delta;
            }
        }
    }
    /// Replaces these numbers by `other`'s where it has them.
    fn assign(&mut self, other: &PairMap) {
        for (account, lots) in &other.by_account {
            self.lots_mut(account)
                .extend(lots.iter().map(|(l, v)| (*l, *v)));
        }
    }
}

/// What this store knows of the ledger's balances, valid while the journal
/// head and the balance checkpoint are the ones it last saw: every balance
/// change appends to the journal under the write lock, so an unchanged head
/// means unchanged balances.
///
/// The `balances` table holds the balances as of the checkpoint (a journal
/// sequence number); the entries after it (the tail) are summed in `dirty`,
/// so the exact balance of a pair is its stored row plus its dirty delta.
/// The tail is folded into the table every [`FOLD_ENTRIES`] entries and
/// whenever anyone is about to read the table (see [`Store::settle`]).
#[derive(Default)]
struct BalanceCache {
    head_seq: i64,
    checkpoint_seq: i64,
    /// False until the store has seen the ledger under the write lock.
    known: bool,
    /// Exact balances of pairs this store touched (an optimisation only).
    balances: PairMap,
    /// The sum of the journal tail (entries after the checkpoint) per pair.
    dirty: PairMap,
}

impl BalanceCache {
    fn valid_for(&self, head_seq: i64, checkpoint_seq: i64) -> bool {
        self.known && self.head_seq == head_seq && self.checkpoint_seq == checkpoint_seq
    }
    fn reset(&mut self, head_seq: i64) {
        self.balances.clear();
        self.dirty.clear();
        self.head_seq = head_seq;
        self.checkpoint_seq = head_seq;
        self.known = true;
    }
}

/// Stored lots (immutable once committed) this store has read or written.
#[derive(Default)]
struct LotCache {
    lots: IdMap<LotSpec>,
}

/// The most lots the lot cache keeps before it starts again.
const LOT_CACHE_MAX: usize = 100_000;
/// The most balances one batch remembers while it is written.
const OVERLAY_BALANCES_MAX: usize = 100_000;
/// The most balances the cache keeps before it starts again.
const CACHE_BALANCES_MAX: usize = 1_000_000;
/// Journal entries after the checkpoint that make a writer fold the tail.
const FOLD_ENTRIES: i64 = 50_000;
/// Pairs with unfolded changes that make a writer fold the tail.
const FOLD_PAIRS: usize = 100_000;

/// Chunks with at least this many entries hash them on a second thread
/// while the first stores them (SQLite only).
const PIPELINE_MIN_ENTRIES: usize = 256;
/// Entries handed from the hashing thread to the writer at a time.
const PIPELINE_PIECE_ENTRIES: usize = 128;
/// Hashed pieces that may wait for the writer (bounds the memory).
const PIPELINE_PIECES_WAITING: usize = 16;

/// Whether a second thread can run beside this one.
fn spare_core() -> bool {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())) > 1
}

/// Rows per multi-row INSERT or per `IN (...)` list.
const CHUNK_ROWS: usize = 500;

fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Inserts rows with multi-row VALUES statements.
fn insert_rows(
    conn: &mut dyn Conn,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<(), StoreError> {
    let width = columns.len();
    let chunk_rows = (CHUNK_ROWS * 8 / width).max(1);
    for chunk in rows.chunks(chunk_rows) {
        let values: Vec<String> = (0..chunk.len())
            .map(|r| format!("({})", placeholders(1 + r * width, width)))
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {}",
            columns.join(", "),
            values.join(", ")
        );
        let params: Vec<Value> = chunk.iter().flatten().cloned().collect();
        conn.execute(&sql, &params)?;
    }
    Ok(())
}

/// Runs `sql` with `IN (...)` filled from `ids`, in chunks, and gathers the rows.
fn query_in(conn: &mut dyn Conn, sql_with_in: &str, ids: &[Value]) -> Result<Vec<Row>, StoreError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK_ROWS) {
        let sql = sql_with_in.replace("IN (?)", &format!("IN ({})", placeholders(1, chunk.len())));
        out.extend(conn.query(&sql, chunk)?);
    }
    Ok(out)
}

fn hash32(bytes: &[u8]) -> Option<Hash32> {
    bytes.try_into().ok()
}

fn earmark_list(text: &str) -> Vec<String> {
    if text.is_empty() {
        Vec::new()
    } else {
        text.split(',').map(str::to_string).collect()
    }
}

fn lot_from_row(row: &[Value]) -> Result<LotSpec, StoreError> {
    let expiry = match row[3].opt_text()? {
        None => None,
        Some(text) => Some(
            parse_date(&text).ok_or_else(|| StoreError::Corrupt(format!("lot expiry `{text}`")))?,
        ),
    };
    Ok(LotSpec {
        item: row[0].text()?,
        donor: row[1].text()?,
        batch: row[2].text()?,
        expiry,
        earmark: earmark_list(&row[4].text()?),
    })
}

impl Store {
    /// Opens the database a `--db` URL names. It does not create the schema;
    /// see [`Store::migrate`].
    pub fn open(url: &str) -> Result<Store, StoreError> {
        Ok(Store::from_conn(db::connect(url)?))
    }

    pub fn from_conn(conn: Box<dyn Conn>) -> Store {
        Store {
            conn,
            cache: BalanceCache::default(),
            lots: LotCache::default(),
            checkpoint_ready: false,
            actor: String::new(),
            clock_unix_ms: None,
            log_level: None,
            log_contents: false,
            log_enabled: true,
        }
    }

    /// Sets who the following operations are by (recorded in the log).
    pub fn set_actor(&mut self, actor: &str) {
        self.actor = actor.to_string();
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Sets the time at which the following operations that move no stock
    /// are recorded (None: the clock). Stock-moving operations carry their
    /// own time.
    pub fn set_clock(&mut self, now_unix_ms: Option<i64>) {
        self.clock_unix_ms = now_unix_ms;
    }

    /// Writes without the operation log: for the benchmark that measures
    /// what the log costs, never for a hub's database.
    pub fn disable_log_for_benchmark(&mut self) {
        self.log_enabled = false;
    }

    /// Writes with the operation log again (after
    /// [`Store::disable_log_for_benchmark`]).
    pub fn enable_log(&mut self) {
        self.log_enabled = true;
    }

    /// How much of the operation log the schema has.
    pub(crate) fn log_level(&mut self) -> Result<LogLevel, StoreError> {
        if let Some(level) = self.log_level {
            return Ok(level);
        }
        let version = migrations::current_version(self.conn.as_mut())?;
        let level = if version >= migrations::DOCUMENTS_VERSION {
            LogLevel::Documents
        } else if version >= migrations::LOG_VERSION {
            LogLevel::Operations
        } else {
            LogLevel::None
        };
        self.log_contents = version >= migrations::CONTENTS_VERSION;
        if self.log_contents {
            self.log_level = Some(level);
        }
        Ok(level)
    }

    /// Inside a write transaction: records what it wrote (documents only)
    /// as one operation, if anything changed.
    fn log_documents(&mut self, kind: &str, key: &str) -> Result<(), StoreError> {
        if !self.log_enabled || self.log_level()? != LogLevel::Documents {
            return Ok(());
        }
        let now = self.clock_unix_ms.unwrap_or_else(crate::now_unix_ms);
        crate::log::append(
            self.conn.as_mut(),
            true,
            crate::log::NewOperation {
                kind,
                key,
                actor: &self.actor,
                recorded_at_unix_ms: now,
                batch: None,
                contents: self.log_contents,
                entry_leaves: None,
            },
        )?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.conn.backend()
    }

    /// True when the database connection is gone for good (a PostgreSQL
    /// server that closed it or restarted): open a new store.
    pub fn is_broken(&self) -> bool {
        self.conn.is_broken()
    }

    /// Direct access for the operations layer's own tables.
    pub fn conn(&mut self) -> &mut dyn Conn {
        self.conn.as_mut()
    }

    /// Creates or upgrades the schema. Returns the versions applied.
    /// A database that held data before the operation log gets operations
    /// for what it holds (see `log::backfill`).
    pub fn migrate(&mut self, now_unix_ms: i64) -> Result<Vec<i64>, StoreError> {
        let applied = migrations::migrate(self.conn.as_mut(), now_unix_ms)?;
        self.log_level = None;
        let log_now = applied.contains(&migrations::LOG_VERSION);
        let documents_now = applied.contains(&migrations::DOCUMENTS_VERSION);
        if log_now || documents_now {
            let with_documents = self.log_level()? == LogLevel::Documents;
            self.write(|conn| crate::log::backfill(conn, now_unix_ms, with_documents))?;
        }
        Ok(applied)
    }

    /// Fails with a clear message unless the schema is current.
    pub fn ensure_ready(&mut self) -> Result<(), StoreError> {
        let found = migrations::current_version(self.conn.as_mut())?;
        let expected = migrations::latest_version();
        if found != expected {
            return Err(StoreError::NotInitialised { found, expected });
        }
        Ok(())
    }

    /// Runs `work` in one write transaction: committed if it returns Ok,
    /// rolled back otherwise. The `balances` table is exact inside it (the
    /// journal tail is folded in first).
    pub fn write<T>(
        &mut self,
        work: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.write_named("", "", work)
    }

    /// Like [`Store::write`], and the operation it records (when it changed
    /// a document) is named `kind` with key `key` (such as `item.edit`,
    /// `item:RUTF-150`) rather than after the first document it wrote.
    pub fn write_named<T>(
        &mut self,
        kind: &str,
        key: &str,
        work: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn.begin_write()?;
        let settled = match self.settle_in_write() {
            Ok(settled) => settled,
            Err(e) => {
                let _ = self.conn.rollback();
                return Err(e);
            }
        };
        match work(self.conn.as_mut())
            .and_then(|value| self.log_documents(kind, key).map(|()| value))
        {
            Ok(value) => {
                self.conn.commit()?;
                self.settled(settled);
                Ok(value)
            }
            Err(e) => {
                let _ = self.conn.rollback();
                Err(e)
            }
        }
    }

    /// Runs `work` in one read transaction (one consistent snapshot) in
    /// which the `balances` table is exact. When the snapshot has a journal
    /// tail not yet folded into `balances`, the store folds it first and
    /// runs `work` in that write transaction instead.
    pub fn read<T>(
        &mut self,
        work: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn.begin_read()?;
        let state = if self.has_checkpoint()? {
            match ledger_state(self.conn.as_mut()) {
                Ok(state) => Some(state),
                Err(e) => {
                    let _ = self.conn.rollback();
                    return Err(e);
                }
            }
        } else {
            None
        };
        if state.is_some_and(|s| s.checkpoint_seq != s.head_seq) {
            let _ = self.conn.rollback();
            return self.write(work);
        }
        let result = work(self.conn.as_mut());
        let _ = self.conn.rollback();
        result
    }

    /// One read snapshot as stored, without folding anything (for `verify`).
    pub(crate) fn read_as_stored<T>(
        &mut self,
        work: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn.begin_read()?;
        let result = work(self.conn.as_mut());
        let _ = self.conn.rollback();
        result
    }

    /// Folds the journal tail into the `balances` table now, so that SQL
    /// read outside [`Store::read`] / [`Store::write`] (through
    /// [`Store::conn`]) sees exact balances.
    pub fn settle(&mut self) -> Result<(), StoreError> {
        self.write(|_| Ok(()))
    }

    /// Whether the schema has the balance checkpoint; remembered once true.
    fn has_checkpoint(&mut self) -> Result<bool, StoreError> {
        if !self.checkpoint_ready {
            self.checkpoint_ready =
                migrations::current_version(self.conn.as_mut())? >= migrations::CHECKPOINT_VERSION;
        }
        Ok(self.checkpoint_ready)
    }

    /// Inside a write transaction: folds the journal tail into `balances`.
    /// Returns the journal head when the cache may describe it after commit.
    fn settle_in_write(&mut self) -> Result<Option<(i64, bool)>, StoreError> {
        if !self.has_checkpoint()? {
            return Ok(None);
        }
        let conn = self.conn.as_mut();
        let state = ledger_state(conn)?;
        if state.checkpoint_seq == state.head_seq {
            let valid = self.cache.valid_for(state.head_seq, state.checkpoint_seq);
            return Ok(Some((state.head_seq, valid)));
        }
        if self.cache.valid_for(state.head_seq, state.checkpoint_seq) {
            write_deltas(conn, &self.cache.dirty)?;
            set_checkpoint(conn, state.head_seq)?;
            Ok(Some((state.head_seq, true)))
        } else {
            fold_tail_sql(conn, state.checkpoint_seq, state.head_seq)?;
            Ok(Some((state.head_seq, false)))
        }
    }

    /// After the commit of a transaction that began with `settle_in_write`.
    fn settled(&mut self, settled: Option<(i64, bool)>) {
        match settled {
            Some((head_seq, true)) => {
                self.cache.dirty.clear();
                self.cache.checkpoint_seq = head_seq;
            }
            Some((head_seq, false)) => self.cache.reset(head_seq),
            None => {}
        }
    }

    /// Loads (or refreshes) the built-in reference data.
    pub fn load_reference_data(&mut self, data: &ReferenceData) -> Result<(), StoreError> {
        self.write(|conn| {
            for item in &data.items {
                insert_item(conn, item, false)?;
            }
            for org in &data.organisations {
                conn.execute(
                    "INSERT INTO organisations (code, name, kind, country, name_fr, name_ar, name_ru) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (code) DO NOTHING",
                    &[
                        (&org.code).into(),
                        (&org.name).into(),
                        org.kind.code().into(),
                        (&org.country).into(),
                        org.names.fr.as_deref().into(),
                        org.names.ar.as_deref().into(),
                        org.names.ru.as_deref().into(),
                    ],
                )?;
            }
            for node in &data.nodes {
                conn.execute(
                    "INSERT INTO nodes (code, name, kind, locode, iata, icao, latitude_deg, longitude_deg) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
                     kind = excluded.kind, locode = excluded.locode, iata = excluded.iata, icao = excluded.icao, \
                     latitude_deg = excluded.latitude_deg, longitude_deg = excluded.longitude_deg",
                    &[
                        (&node.code).into(),
                        (&node.name).into(),
                        node.kind.code().into(),
                        (&node.locode).into(),
                        node.iata.as_deref().into(),
                        node.icao.as_deref().into(),
                        node.latitude_deg.into(),
                        node.longitude_deg.into(),
                    ],
                )?;
            }
            for destination in &data.destinations {
                insert_destination(conn, destination, false)?;
            }
            Ok(())
        })
    }

    /// Replaces the ISO 3166 country table, all or nothing.
    pub fn replace_countries(&mut self, countries: &[Country]) -> Result<(), StoreError> {
        self.write(|conn| {
            conn.execute("DELETE FROM countries", &[])?;
            let rows = countries
                .iter()
                .map(|c| {
                    vec![
                        (&c.alpha2).into(),
                        (&c.alpha3).into(),
                        (&c.numeric_code).into(),
                        (&c.name_en).into(),
                        (&c.name_fr).into(),
                        (&c.name_ar).into(),
                        (&c.name_ru).into(),
                    ]
                })
                .collect();
            insert_rows(
                conn,
                "countries",
                &[
                    "alpha2",
                    "alpha3",
                    "numeric_code",
                    "name_en",
                    "name_fr",
                    "name_ar",
                    "name_ru",
                ],
                rows,
            )
        })
    }

    /// Replaces the airport table, all or nothing.
    pub fn replace_airports(&mut self, airports: &[Airport]) -> Result<(), StoreError> {
        self.write(|conn| {
            conn.execute("DELETE FROM airports", &[])?;
            let rows = airports
                .iter()
                .map(|a| {
                    vec![
                        (&a.ident).into(),
                        (&a.kind).into(),
                        (&a.name).into(),
                        (&a.country).into(),
                        (&a.municipality).into(),
                        a.iata.as_deref().into(),
                        a.latitude_deg.into(),
                        a.longitude_deg.into(),
                    ]
                })
                .collect();
            insert_rows(
                conn,
                "airports",
                &[
                    "ident",
                    "kind",
                    "name",
                    "country",
                    "municipality",
                    "iata",
                    "latitude_deg",
                    "longitude_deg",
                ],
                rows,
            )
        })
    }

    pub fn count(&mut self, table: &str) -> Result<i64, StoreError> {
        assert!(
            table.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "table name"
        );
        self.conn
            .query(&format!("SELECT COUNT(*) FROM {table}"), &[])?[0][0]
            .int()
    }

    pub fn country(&mut self, alpha2: &str) -> Result<Option<Country>, StoreError> {
        let rows = self.conn.query(
            "SELECT alpha2, alpha3, numeric_code, name_en, name_fr, name_ar, name_ru FROM countries WHERE alpha2 = $1",
            &[alpha2.into()],
        )?;
        rows.first()
            .map(|r| {
                Ok(Country {
                    alpha2: r[0].text()?,
                    alpha3: r[1].text()?,
                    numeric_code: r[2].text()?,
                    name_en: r[3].text()?,
                    name_fr: r[4].text()?,
                    name_ar: r[5].text()?,
                    name_ru: r[6].text()?,
                })
            })
            .transpose()
    }

    pub fn airport_by_iata(&mut self, iata: &str) -> Result<Option<Airport>, StoreError> {
        let rows = self.conn.query(
            "SELECT ident, kind, name, country, municipality, iata, latitude_deg, longitude_deg FROM airports WHERE iata = $1 ORDER BY ident LIMIT 1",
            &[iata.into()],
        )?;
        rows.first()
            .map(|r| {
                Ok(Airport {
                    ident: r[0].text()?,
                    kind: r[1].text()?,
                    name: r[2].text()?,
                    country: r[3].text()?,
                    municipality: r[4].text()?,
                    iata: r[5].opt_text()?,
                    latitude_deg: r[6].real()?,
                    longitude_deg: r[7].real()?,
                })
            })
            .transpose()
    }

    pub fn items(&mut self) -> Result<Vec<Item>, StoreError> {
        read_items(self.conn.as_mut(), None)
    }

    pub fn organisations(&mut self) -> Result<Vec<Organisation>, StoreError> {
        read_organisations(self.conn.as_mut(), None)
    }

    pub fn destinations(&mut self) -> Result<Vec<Destination>, StoreError> {
        read_destinations(self.conn.as_mut(), None)
    }

    /// Applies a batch all or nothing, once per idempotency key.
    ///
    /// The same key with the same content returns the first result and
    /// changes nothing; the same key with other content is refused.
    pub fn apply(&mut self, batch: &Batch, now_unix_ms: i64) -> Result<Applied, StoreError> {
        let digest = batch.content_digest();
        self.write_batch(
            &batch.key,
            &batch.kind,
            digest,
            now_unix_ms,
            |conn, cache, lots, pending| {
                push_chunk(conn, cache, lots, pending, batch)?;
                Ok((finish_batch(conn, pending)?, ()))
            },
        )
        .map(|(applied, _)| applied)
    }

    /// Like [`Store::apply`], and runs `after` in the same transaction once
    /// the batch is written (to store the documents that go with it); the
    /// `balances` table is exact when `after` runs. On a replay `after` does
    /// not run and the result is `None`.
    pub fn apply_with<T>(
        &mut self,
        batch: &Batch,
        now_unix_ms: i64,
        after: impl FnOnce(&mut dyn Conn, &Applied) -> Result<T, StoreError>,
    ) -> Result<(Applied, Option<T>), StoreError> {
        let digest = batch.content_digest();
        self.write_batch(
            &batch.key,
            &batch.kind,
            digest,
            now_unix_ms,
            |conn, cache, lots, pending| {
                push_chunk(conn, cache, lots, pending, batch)?;
                let applied = finish_batch(conn, pending)?;
                fold(conn, cache, pending)?;
                let extra = after(conn, &applied)?;
                Ok((applied, extra))
            },
        )
    }

    /// Applies a batch too large to hold in memory: `feed` pushes it chunk
    /// by chunk, all inside one transaction, so it is applied whole or not
    /// at all. `content_digest` identifies the content for idempotency (for
    /// an imported file, a digest of its bytes); on a replay of the same key
    /// and digest, `feed` does not run and the result is `None`. The batch's
    /// balances are all in the `balances` table when it commits.
    pub fn apply_streamed<T>(
        &mut self,
        key: &str,
        kind: &str,
        content_digest: Hash32,
        now_unix_ms: i64,
        feed: impl FnOnce(&mut StreamedBatch<'_>) -> Result<T, StoreError>,
    ) -> Result<(Applied, Option<T>), StoreError> {
        self.write_batch(
            key,
            kind,
            content_digest,
            now_unix_ms,
            |conn, cache, lots, pending| {
                let extra = feed(&mut StreamedBatch {
                    conn: &mut *conn,
                    cache,
                    lots,
                    pending: &mut *pending,
                })?;
                let applied = finish_batch(conn, pending)?;
                fold(conn, cache, pending)?;
                Ok((applied, extra))
            },
        )
    }

    /// One write transaction for one batch; on commit the caches take the
    /// batch's balances, lots and the new journal head.
    fn write_batch<T>(
        &mut self,
        key: &str,
        kind: &str,
        digest: Hash32,
        now_unix_ms: i64,
        work: impl FnOnce(
            &mut dyn Conn,
            &BalanceCache,
            &LotCache,
            &mut Pending,
        ) -> Result<(Applied, T), StoreError>,
    ) -> Result<(Applied, Option<T>), StoreError> {
        let log_level = if self.log_enabled {
            self.log_level()?
        } else {
            LogLevel::None
        };
        let actor = self.actor.as_str();
        let contents = self.log_contents;
        let conn = self.conn.as_mut();
        conn.begin_write()?;
        let result = (|| match start_batch(conn, &self.cache, key, kind, digest, now_unix_ms)? {
            Start::Replay(applied) => Ok((applied, None, None)),
            Start::Fresh(mut pending) => {
                let chain_before = pending.previous;
                if log_level == LogLevel::Documents && contents {
                    // The contents tree's entry leaves are hashed as the
                    // entries are written, not read back afterwards.
                    pending.contents =
                        Some(ContentsBuilder::new(crate::log::new_contents_secret()?));
                }
                let (applied, extra) = work(conn, &self.cache, &self.lots, &mut pending)?;
                if log_level != LogLevel::None {
                    crate::log::append(
                        conn,
                        log_level == LogLevel::Documents,
                        crate::log::NewOperation {
                            kind,
                            key,
                            actor,
                            recorded_at_unix_ms: now_unix_ms,
                            batch: Some(reliefhub_core::oplog::BatchLink {
                                batch_id: applied.batch_id,
                                first_seq: applied.first_seq,
                                transfer_count: applied.transfer_count,
                                chain_before,
                                chain_after: pending.previous,
                            }),
                            contents,
                            entry_leaves: pending.contents.take(),
                        },
                    )?;
                }
                Ok((applied, Some(extra), Some(pending)))
            }
        })();
        match result {
            Ok((applied, extra, pending)) => {
                conn.commit()?;
                if let Some(pending) = pending {
                    self.committed(*pending);
                }
                Ok((applied, extra))
            }
            Err(e) => {
                let _ = conn.rollback();
                Err(e)
            }
        }
    }

    /// Takes what a committed batch wrote into the caches.
    fn committed(&mut self, pending: Pending) {
        let cache = &mut self.cache;
        if pending.reset {
            cache.reset(pending.start_seq);
        }
        if pending.folded_committed {
            cache.dirty.clear();
        }
        cache.dirty.merge(&pending.dirty);
        if !pending.cached_balances_usable
            || cache.balances.len() + pending.overlay.len() > CACHE_BALANCES_MAX
        {
            cache.balances.clear();
        }
        if pending.cached_balances_usable {
            cache.balances.assign(&pending.overlay);
        }
        cache.head_seq = pending.next_seq - 1;
        cache.checkpoint_seq = pending.checkpoint_seq;
        cache.known = true;
        if let Some(new_lots) = pending.new_lots {
            if self.lots.lots.len() + new_lots.len() > LOT_CACHE_MAX {
                self.lots.lots.clear();
            }
            self.lots.lots.extend(new_lots);
        }
        for (id, spec) in pending.read_lots {
            if self.lots.lots.len() >= LOT_CACHE_MAX {
                self.lots.lots.clear();
            }
            self.lots.lots.insert(id, spec);
        }
    }

    /// The balance of one account for one lot.
    pub fn balance(&mut self, account: &Account, lot_id: i64) -> Result<i64, StoreError> {
        let rows = self.read(|conn| {
            conn.query(
                "SELECT quantity FROM balances WHERE account = $1 AND lot_id = $2",
                &[account.canonical().into(), lot_id.into()],
            )
        })?;
        rows.first().map_or(Ok(0), |r| r[0].int())
    }

    /// Every non-zero balance, ordered by account and lot.
    pub fn balances(&mut self) -> Result<Vec<BalanceRow>, StoreError> {
        let rows = self.read(|conn| {
            conn.query(
                "SELECT account, lot_id, quantity FROM balances WHERE quantity <> 0 ORDER BY account, lot_id",
                &[],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(BalanceRow {
                    account: r[0].text()?,
                    lot_id: r[1].int()?,
                    quantity: r[2].int()?,
                })
            })
            .collect()
    }

    pub fn lot(&mut self, id: i64) -> Result<Option<Lot>, StoreError> {
        let rows = self.conn.query(
            "SELECT item, donor, batch, expiry, earmark, id, created_batch FROM lots WHERE id = $1",
            &[id.into()],
        )?;
        rows.first()
            .map(|r| {
                Ok(Lot {
                    id: r[5].int()?,
                    spec: lot_from_row(r)?,
                    created_batch: r[6].int()?,
                })
            })
            .transpose()
    }

    pub fn journal_len(&mut self) -> Result<i64, StoreError> {
        self.conn.query("SELECT COUNT(*) FROM journal", &[])?[0][0].int()
    }

    /// Rewrites the database compactly: SQLite's `VACUUM` (which also moves
    /// a file made with smaller pages to the current 16 KiB pages; WAL mode
    /// is left for it and restored), PostgreSQL's `VACUUM (ANALYZE)`.
    /// Contents are unchanged. It waits for other writers (SQLite: up to the
    /// busy timeout) and is best run while the server is stopped.
    pub fn compact(&mut self) -> Result<Compaction, StoreError> {
        match self.backend() {
            Backend::Sqlite => {
                let size = |conn: &mut dyn Conn| -> Result<(i64, i64), StoreError> {
                    let rows = conn.query(
                        "SELECT page_count, page_size FROM pragma_page_count(), pragma_page_size()",
                        &[],
                    )?;
                    let (pages, page) = (rows[0][0].int()?, rows[0][1].int()?);
                    Ok((pages * page, page))
                };
                let (bytes_before, page_before) = size(self.conn.as_mut())?;
                self.conn.batch_execute(
                    "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE; \
                     PRAGMA page_size = 16384; VACUUM; PRAGMA journal_mode = WAL;",
                )?;
                let (bytes_after, page_after) = size(self.conn.as_mut())?;
                Ok(Compaction {
                    bytes_before,
                    bytes_after,
                    page_size_before: Some(page_before),
                    page_size_after: Some(page_after),
                })
            }
            Backend::Postgres => {
                let size = |conn: &mut dyn Conn| -> Result<i64, StoreError> {
                    conn.query("SELECT pg_database_size(current_database())", &[])?[0][0].int()
                };
                let bytes_before = size(self.conn.as_mut())?;
                self.conn.batch_execute("VACUUM (ANALYZE)")?;
                let bytes_after = size(self.conn.as_mut())?;
                Ok(Compaction {
                    bytes_before,
                    bytes_after,
                    page_size_before: None,
                    page_size_after: None,
                })
            }
        }
    }

    /// Recomputes every balance from the journal and checks the hash chain,
    /// in one snapshot. `progress` is called with the entries checked so far.
    pub fn verify(
        &mut self,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Result<VerifySummary, VerifyFailure>, StoreError> {
        self.read_as_stored(|conn| {
            let total = conn.query("SELECT COUNT(*) FROM journal", &[])?[0][0].int()?.max(0) as u64;
            let mut verifier = Verifier::new();
            let mut after_seq = 0_i64;
            let mut checked = 0_u64;
            let mut batch_spans: HashMap<i64, (i64, i64)> = HashMap::new();
            let checkpoint_seq = conn.query("SELECT balances_seq FROM ledger_checkpoint", &[])?
                .first()
                .map_or(Ok(0), |r| r[0].int())?;
            let mut tail: HashMap<(String, i64), i64> = HashMap::new();
            loop {
                let rows = conn.query(
                    "SELECT j.seq, j.batch_id, j.lot_id, j.from_account, j.to_account, j.quantity, j.corrects, j.hash, \
                     b.id, b.idem_key, b.kind, b.content_digest, b.recorded_at_unix_ms, \
                     l.item, l.donor, l.batch, l.expiry, l.earmark \
                     FROM journal j LEFT JOIN batches b ON b.id = j.batch_id LEFT JOIN lots l ON l.id = j.lot_id \
                     WHERE j.seq > $1 ORDER BY j.seq LIMIT 10000",
                    &[after_seq.into()],
                )?;
                if rows.is_empty() {
                    break;
                }
                for row in &rows {
                    let seq = row[0].int()?;
                    let batch_id = row[1].int()?;
                    let entry = JournalEntry {
                        seq,
                        batch_id,
                        lot_id: row[2].int()?,
                        from: row[3].text()?.into(),
                        to: row[4].text()?.into(),
                        quantity: row[5].int()?,
                        corrects: row[6].opt_int()?,
                        // A stored hash of the wrong length can never match.
                        hash: hash32(&row[7].bytes()?).unwrap_or([0xff; 32]),
                    };
                    let header = match row[8] {
                        Value::Null => None,
                        _ => Some(BatchHeader {
                            id: row[8].int()?,
                            key: row[9].text()?,
                            kind: row[10].text()?,
                            content_digest: hash32(&row[11].bytes()?).unwrap_or([0xff; 32]),
                            recorded_at_unix_ms: row[12].int()?,
                        }),
                    };
                    let lot = match row[13] {
                        Value::Null => None,
                        _ => Some(lot_from_row(&row[13..18]).map_err(|_| {
                            StoreError::Corrupt(format!("journal entry {seq}: its lot {} cannot be read", entry.lot_id))
                        })),
                    }
                    .transpose();
                    let lot = match lot {
                        Ok(lot) => lot,
                        Err(_) => return Ok(Err(VerifyFailure::HashMismatch { seq, batch_id })),
                    };
                    if let Err(failure) = verifier.feed(&entry, header.as_ref(), lot.as_ref()) {
                        return Ok(Err(failure));
                    }
                    if seq > checkpoint_seq {
                        *tail.entry((entry.from.to_string(), entry.lot_id)).or_insert(0) -= entry.quantity;
                        *tail.entry((entry.to.to_string(), entry.lot_id)).or_insert(0) += entry.quantity;
                    }
                    let span = batch_spans.entry(batch_id).or_insert((seq, 0));
                    span.1 += 1;
                    after_seq = seq;
                }
                checked += rows.len() as u64;
                progress(checked, total);
            }
            // Each batch header must describe exactly the entries that name it.
            let headers = conn.query("SELECT id, first_seq, transfer_count FROM batches ORDER BY id", &[])?;
            for header in &headers {
                let id = header[0].int()?;
                let stored = (header[1].int()?, header[2].int()?);
                let found = batch_spans.remove(&id).unwrap_or((0, 0));
                if stored != found {
                    return Ok(Err(VerifyFailure::BadEntry {
                        seq: found.0.max(stored.0),
                        batch_id: id,
                        rule: format!(
                            "batch {id} says it holds {} entries from {}, the journal has {} from {}",
                            stored.1, stored.0, found.1, found.0
                        ),
                    }));
                }
            }
            // The stored balances are the table (as of the checkpoint) plus
            // the journal entries after the checkpoint.
            let mut stored: HashMap<(String, i64), i64> = HashMap::new();
            for r in conn.query("SELECT account, lot_id, quantity FROM balances", &[])? {
                *stored.entry((r[0].text()?, r[1].int()?)).or_insert(0) += r[2].int()?;
            }
            for ((account, lot_id), delta) in tail {
                *stored.entry((account, lot_id)).or_insert(0) += delta;
            }
            Ok(verifier.finish(stored.into_iter().map(|((a, l), q)| (a, l, q))))
        })
    }
}

/// The lots a stored batch created, in id order. Batch ids and lot ids are
/// both handed out in commit order under the write lock, so a batch's lots
/// are one run of ids: found by bisection on the lots' primary key, with no
/// index on `created_batch` to keep up on every new lot.
fn lots_created_by(conn: &mut dyn Conn, batch_id: i64) -> Result<Vec<i64>, StoreError> {
    let max_id = conn.query("SELECT COALESCE(MAX(id), 0) FROM lots", &[])?[0][0].int()?;
    let first = first_lot_of_batch_or_later(conn, batch_id, max_id)?;
    let end = first_lot_of_batch_or_later(conn, batch_id + 1, max_id)?;
    conn.query(
        "SELECT id FROM lots WHERE id >= $1 AND id < $2 AND created_batch = $3 ORDER BY id",
        &[first.into(), end.into(), batch_id.into()],
    )?
    .iter()
    .map(|r| r[0].int())
    .collect()
}

/// The smallest id from which every lot was created by `batch_id` or a later
/// batch (one past the last lot when there is none).
fn first_lot_of_batch_or_later(
    conn: &mut dyn Conn,
    batch_id: i64,
    max_id: i64,
) -> Result<i64, StoreError> {
    let (mut low, mut high) = (1_i64, max_id + 1);
    while low < high {
        let middle = low + (high - low) / 2;
        let rows = conn.query(
            "SELECT id, created_batch FROM lots WHERE id >= $1 ORDER BY id LIMIT 1",
            &[middle.into()],
        )?;
        match rows.first() {
            Some(row) if row[1].int()? < batch_id => low = row[0].int()? + 1,
            _ => high = middle,
        }
    }
    Ok(low)
}

fn applied_from_stored(conn: &mut dyn Conn, row: &[Value]) -> Result<Applied, StoreError> {
    let batch_id = row[0].int()?;
    let lot_ids = lots_created_by(conn, batch_id)?;
    Ok(Applied {
        batch_id,
        first_seq: row[2].int()?,
        transfer_count: row[3].int()?,
        lot_ids,
        replayed: true,
    })
}

/// What [`Store::compact`] did: the database's size before and after, and
/// (SQLite) its page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compaction {
    pub bytes_before: i64,
    pub bytes_after: i64,
    pub page_size_before: Option<i64>,
    pub page_size_after: Option<i64>,
}

/// Where the ledger stands: the journal head and the balance checkpoint.
#[derive(Debug, Clone, Copy)]
struct LedgerState {
    head_seq: i64,
    checkpoint_seq: i64,
}

fn ledger_state(conn: &mut dyn Conn) -> Result<LedgerState, StoreError> {
    let rows = conn.query(
        "SELECT balances_seq, (SELECT COALESCE(MAX(seq), 0) FROM journal) FROM ledger_checkpoint",
        &[],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| StoreError::Corrupt("the balance checkpoint row is missing".into()))?;
    Ok(LedgerState {
        checkpoint_seq: row[0].int()?,
        head_seq: row[1].int()?,
    })
}

fn set_checkpoint(conn: &mut dyn Conn, seq: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE ledger_checkpoint SET balances_seq = $1",
        &[seq.into()],
    )?;
    Ok(())
}

/// Adds summed changes to the `balances` table, in key order, skipping zeros.
/// The accounts are few: they are sorted once, and each account's lots by id.
fn write_deltas(conn: &mut dyn Conn, deltas: &PairMap) -> Result<(), StoreError> {
    let mut accounts: Vec<(&str, &IdMap<i64>)> = deltas
        .by_account
        .iter()
        .map(|(account, lots)| (account.as_str(), lots))
        .collect();
    accounts.sort_unstable_by_key(|(account, _)| *account);
    let mut rows: Vec<(&str, i64, i64)> = Vec::with_capacity(deltas.len());
    for (account, lots) in accounts {
        let start = rows.len();
        rows.extend(
            lots.iter()
                .filter(|(_, delta)| **delta != 0)
                .map(|(lot, delta)| (account, *lot, *delta)),
        );
        rows[start..].sort_unstable_by_key(|(_, lot, _)| *lot);
    }
    conn.add_balances(&rows)
}

/// Folds the journal entries after `after_seq` into `balances` with one
/// statement, for a writer that did not see them written.
fn fold_tail_sql(conn: &mut dyn Conn, after_seq: i64, head_seq: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO balances (account, lot_id, quantity) \
         SELECT account, lot_id, CAST(SUM(quantity) AS BIGINT) FROM ( \
         SELECT to_account AS account, lot_id, quantity FROM journal WHERE seq > $1 \
         UNION ALL SELECT from_account AS account, lot_id, -quantity AS quantity FROM journal WHERE seq > $1 \
         ) AS tail GROUP BY account, lot_id HAVING SUM(quantity) <> 0 \
         ON CONFLICT (account, lot_id) DO UPDATE SET quantity = balances.quantity + excluded.quantity",
        &[after_seq.into()],
    )?;
    set_checkpoint(conn, head_seq)
}

/// The reference codes a chunk names, read in the transaction: only those
/// it names, so a batch reads a handful of rows, not the catalogue.
fn reference_codes(conn: &mut dyn Conn, chunk: &Batch) -> Result<ReferenceCodes, StoreError> {
    use reliefhub_core::account::AccountKind;
    let mut items: HashSet<&str> = HashSet::new();
    let mut donors: HashSet<&str> = HashSet::new();
    let mut nodes: HashSet<&str> = HashSet::new();
    let mut destinations: HashSet<&str> = HashSet::new();
    // Lots of one manifest share a few items and donors: skip the last seen.
    let (mut last_item, mut last_donor) = ("", "");
    for lot in &chunk.new_lots {
        if lot.item != last_item {
            items.insert(&lot.item);
            last_item = &lot.item;
        }
        if lot.donor != last_donor {
            donors.insert(&lot.donor);
            last_donor = &lot.donor;
        }
    }
    let mut seen: HashSet<&str> = HashSet::new();
    // Transfers mostly repeat the last two accounts: skip those unhashed.
    let mut recent: [&str; 2] = ["", ""];
    for transfer in &chunk.transfers {
        for account in [&transfer.from, &transfer.to] {
            let name = account.canonical();
            if recent.contains(&name) {
                continue;
            }
            recent = [name, recent[0]];
            if !seen.insert(name) {
                continue;
            }
            let set = match account.kind() {
                AccountKind::Source | AccountKind::Pledged => &mut donors,
                AccountKind::AtNode | AccountKind::Quarantine => &mut nodes,
                AccountKind::Delivered => &mut destinations,
                _ => continue,
            };
            set.insert(account.reference());
        }
    }
    let mut sql = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    let mut part = |tag: &str, select: &str, codes: &HashSet<&str>| {
        if codes.is_empty() {
            return;
        }
        let first = params.len() + 1;
        params.extend(codes.iter().map(|c| Value::from(*c)));
        sql.push(format!(
            "SELECT '{tag}', {select} IN ({})",
            placeholders(first, codes.len())
        ));
    };
    part("i", "code FROM items WHERE code", &items);
    let donor_select = format!(
        "code FROM organisations WHERE kind = '{}' AND code",
        OrganisationKind::Donor.code()
    );
    part("d", &donor_select, &donors);
    part("n", "code FROM nodes WHERE code", &nodes);
    part("l", "locode FROM destinations WHERE locode", &destinations);
    let mut codes = ReferenceCodes::default();
    if sql.is_empty() {
        return Ok(codes);
    }
    for row in conn.query(&sql.join(" UNION ALL "), &params)? {
        let code = row[1].text()?;
        match row[0].text()?.as_str() {
            "i" => codes.known_items.insert(code),
            "d" => codes.known_donors.insert(code),
            "n" => codes.known_nodes.insert(code),
            _ => codes.known_destinations.insert(code),
        };
    }
    Ok(codes)
}

/// A batch being written inside the current write transaction.
struct Pending {
    header: BatchHeader,
    first_seq: i64,
    next_seq: i64,
    first_lot_id: i64,
    next_lot_id: i64,
    previous: Hash32,
    lot_ids: Vec<i64>,
    /// The journal head when the transaction began.
    start_seq: i64,
    /// The balance checkpoint as it stands in the transaction.
    checkpoint_seq: i64,
    /// The cache did not describe the ledger at the start: the tail was
    /// folded by SQL and the cache starts again at commit.
    reset: bool,
    /// The cache's dirty sums were folded into the table in this transaction.
    folded_committed: bool,
    /// Whether the cache's balances (and `overlay`) may be used.
    cached_balances_usable: bool,
    /// Balances after the chunks written so far in this transaction.
    overlay: PairMap,
    /// Changes of this transaction not yet folded into the table.
    dirty: PairMap,
    /// New lots to remember after commit (none for huge batches).
    new_lots: Option<Vec<(i64, LotSpec)>>,
    /// Stored lots read from the database in this transaction.
    read_lots: Vec<(i64, LotSpec)>,
    /// The operation's contents tree, entry leaves so far (leaf format 2).
    contents: Option<ContentsBuilder>,
}

impl Pending {
    /// The exact balance of a pair that neither cache knows: its stored row
    /// plus the changes not yet folded into the table.
    fn unfolded(&self, cache: &BalanceCache, account: &str, lot: i64) -> i64 {
        let committed = if self.reset || self.folded_committed {
            0
        } else {
            cache.dirty.get(account, lot).unwrap_or(0)
        };
        committed + self.dirty.get(account, lot).unwrap_or(0)
    }
}

enum Start {
    Replay(Applied),
    Fresh(Box<Pending>),
}

/// Checks the idempotency key and, for a new key, reads where the journal
/// stands: the next ids, the hash to chain from and the balance checkpoint.
/// When the cache does not describe the ledger (another writer, a new
/// store), the journal tail is folded into `balances` first.
fn start_batch(
    conn: &mut dyn Conn,
    cache: &BalanceCache,
    key: &str,
    kind: &str,
    digest: Hash32,
    now_unix_ms: i64,
) -> Result<Start, StoreError> {
    let existing = conn.query(
        "SELECT id, content_digest, first_seq, transfer_count FROM batches WHERE idem_key = $1",
        &[key.into()],
    )?;
    if let Some(row) = existing.first() {
        if row[1].bytes()? == digest {
            return Ok(Start::Replay(applied_from_stored(conn, row)?));
        }
        return Err(StoreError::KeyReused {
            key: key.to_string(),
            batch_id: row[0].int()?,
        });
    }
    let next = conn.query(
        "SELECT (SELECT COALESCE(MAX(id), 0) FROM batches), (SELECT COALESCE(MAX(id), 0) FROM lots), \
         (SELECT COALESCE(MAX(seq), 0) FROM journal), \
         (SELECT hash FROM journal ORDER BY seq DESC LIMIT 1), \
         (SELECT balances_seq FROM ledger_checkpoint)",
        &[],
    )?;
    let batch_id = next[0][0].int()? + 1;
    let next_lot_id = next[0][1].int()? + 1;
    let last_seq = next[0][2].int()?;
    let mut checkpoint_seq = next[0][4]
        .opt_int()?
        .ok_or_else(|| StoreError::Corrupt("the balance checkpoint row is missing".into()))?;
    let previous = if last_seq == 0 {
        GENESIS_HASH
    } else {
        hash32(&next[0][3].bytes()?).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "journal entry {last_seq} has a malformed hash; run `reliefhub verify`"
            ))
        })?
    };
    let reset = !cache.valid_for(last_seq, checkpoint_seq);
    if reset && checkpoint_seq != last_seq {
        fold_tail_sql(conn, checkpoint_seq, last_seq)?;
        checkpoint_seq = last_seq;
    }
    Ok(Start::Fresh(Box::new(Pending {
        header: BatchHeader {
            id: batch_id,
            key: key.to_string(),
            kind: kind.to_string(),
            content_digest: digest,
            recorded_at_unix_ms: now_unix_ms,
        },
        first_seq: last_seq + 1,
        next_seq: last_seq + 1,
        first_lot_id: next_lot_id,
        next_lot_id,
        previous,
        lot_ids: Vec::new(),
        start_seq: last_seq,
        checkpoint_seq,
        reset,
        folded_committed: false,
        cached_balances_usable: !reset,
        overlay: PairMap::default(),
        dirty: PairMap::default(),
        new_lots: Some(Vec::new()),
        read_lots: Vec::new(),
        contents: None,
    })))
}

/// Folds every change not yet in the `balances` table into it, inside the
/// batch's transaction, and moves the checkpoint to the batch's last entry.
fn fold(
    conn: &mut dyn Conn,
    cache: &BalanceCache,
    pending: &mut Pending,
) -> Result<(), StoreError> {
    let last_seq = pending.next_seq - 1;
    if pending.checkpoint_seq == last_seq {
        return Ok(());
    }
    let committed_pairs = if pending.reset || pending.folded_committed {
        0
    } else {
        cache.dirty.len()
    };
    if committed_pairs == 0 {
        write_deltas(conn, &pending.dirty)?;
    } else {
        let mut all = PairMap::default();
        all.merge(&cache.dirty);
        all.merge(&pending.dirty);
        write_deltas(conn, &all)?;
    }
    set_checkpoint(conn, last_seq)?;
    pending.dirty.clear();
    pending.folded_committed = true;
    pending.checkpoint_seq = last_seq;
    Ok(())
}

/// What one chunk sees of the ledger: lots from the lot cache or read now,
/// balances from this transaction, the cache, or read now (plus the changes
/// not yet folded into the table).
struct ChunkView<'a> {
    cached_lots: &'a IdMap<LotSpec>,
    read_lots: IdMap<LotSpec>,
    overlay: &'a PairMap,
    cache: Option<&'a PairMap>,
    fetched: PairMap,
    corrected: HashMap<i64, CorrectedEntry>,
}

impl ChunkView<'_> {
    fn known(&self, account: &str, lot: i64) -> Option<i64> {
        let in_batch = if self.overlay.by_account.is_empty() {
            None
        } else {
            self.overlay.get(account, lot)
        };
        in_batch
            .or_else(|| self.cache.and_then(|c| c.get(account, lot)))
            .or_else(|| self.fetched.get(account, lot))
    }
}

impl ledger::LotSource for ChunkView<'_> {
    fn lot(&self, id: i64) -> Option<&LotSpec> {
        self.cached_lots
            .get(&id)
            .or_else(|| self.read_lots.get(&id))
    }
}

impl ledger::LedgerView for ChunkView<'_> {
    fn balance(&self, account: &Account, lot_id: i64) -> i64 {
        self.known(account.canonical(), lot_id).unwrap_or(0)
    }
    fn corrected(&self, seq: i64) -> Option<&CorrectedEntry> {
        self.corrected.get(&seq)
    }
}

/// Validates one chunk of a batch against the state inside the transaction
/// (which includes the earlier chunks) and writes it. Returns the ids of the
/// chunk's new lots.
fn push_chunk(
    conn: &mut dyn Conn,
    cache: &BalanceCache,
    lot_cache: &LotCache,
    pending: &mut Pending,
    chunk: &Batch,
) -> Result<Vec<i64>, StoreError> {
    use ledger::LotSource;
    let mut view = ChunkView {
        cached_lots: &lot_cache.lots,
        read_lots: IdMap::default(),
        overlay: &pending.overlay,
        cache: pending.cached_balances_usable.then_some(&cache.balances),
        fetched: PairMap::default(),
        corrected: HashMap::new(),
    };
    let mut existing: Vec<i64> = chunk
        .transfers
        .iter()
        .filter_map(|t| match t.lot {
            LotRef::Existing(id) if !lot_cache.lots.contains_key(&id) => Some(id),
            _ => None,
        })
        .collect();
    existing.sort_unstable();
    existing.dedup();
    let lot_ids: Vec<Value> = existing.into_iter().map(Value::Int).collect();
    if !lot_ids.is_empty() {
        for row in query_in(
            conn,
            "SELECT item, donor, batch, expiry, earmark, id FROM lots WHERE id IN (?)",
            &lot_ids,
        )? {
            view.read_lots.insert(row[5].int()?, lot_from_row(&row)?);
        }
    }
    // The balances neither this transaction nor the cache knows.
    let mut missing: Vec<(&str, i64)> = Vec::new();
    for transfer in &chunk.transfers {
        let LotRef::Existing(lot) = transfer.lot else {
            continue;
        };
        if view.lot(lot).is_none() {
            continue;
        }
        for account in [&transfer.from, &transfer.to] {
            let name = account.canonical();
            if view.known(name, lot).is_none() {
                view.fetched.set(name, lot, 0);
                missing.push((name, lot));
            }
        }
    }
    if !missing.is_empty() {
        let found = conn.get_balances(&missing)?;
        for ((name, lot), stored) in missing.into_iter().zip(found) {
            let quantity = stored + pending.unfolded(cache, name, lot);
            view.fetched.set(name, lot, quantity);
        }
    }
    let corrected: Vec<Value> = chunk
        .corrected_entries()
        .into_iter()
        .map(Value::Int)
        .collect();
    if !corrected.is_empty() {
        for row in query_in(
            conn,
            "SELECT seq, lot_id, from_account, to_account, quantity FROM journal WHERE seq IN (?)",
            &corrected,
        )? {
            let (Ok(from), Ok(to)) = (
                Account::parse(&row[2].text()?),
                Account::parse(&row[3].text()?),
            ) else {
                continue;
            };
            view.corrected.insert(
                row[0].int()?,
                CorrectedEntry {
                    lot_id: row[1].int()?,
                    from,
                    to,
                    quantity: row[4].int()?,
                    reversed_quantity: 0,
                },
            );
        }
        for row in query_in(
            conn,
            "SELECT corrects, CAST(SUM(quantity) AS BIGINT) FROM journal WHERE corrects IN (?) GROUP BY corrects",
            &corrected,
        )? {
            if let Some(entry) = view.corrected.get_mut(&row[0].int()?) {
                entry.reversed_quantity = row[1].int()?;
            }
        }
    }

    let codes = reference_codes(conn, chunk)?;
    let changes = ledger::validate(chunk, &codes, &view).map_err(StoreError::Rejected)?;

    let new_lot_ids: Vec<i64> = (0..chunk.new_lots.len() as i64)
        .map(|i| pending.next_lot_id + i)
        .collect();
    // The journal entries are hashed (a chain, so one after another) on a
    // second thread while this one stores the new lots and then each piece
    // of entries as soon as it is hashed.
    let first_seq = pending.next_seq;
    let previous = pending.previous;
    let header = &pending.header;
    let new_lots_cache = &mut pending.new_lots;
    let mut store_lots = |conn: &mut dyn Conn| -> Result<(), StoreError> {
        if chunk.new_lots.is_empty() {
            return Ok(());
        }
        let lot_rows: Vec<(i64, &LotSpec)> =
            new_lot_ids.iter().copied().zip(&chunk.new_lots).collect();
        conn.insert_lots(&lot_rows, header.id)?;
        let remember = new_lots_cache
            .as_ref()
            .is_some_and(|lots| lots.len() + lot_rows.len() <= LOT_CACHE_MAX / 10);
        if remember {
            if let Some(lots) = new_lots_cache.as_mut() {
                lots.extend(lot_rows.iter().map(|(id, spec)| (*id, (*spec).clone())));
            }
        } else {
            *new_lots_cache = None;
        }
        Ok(())
    };
    let dirty = &mut pending.dirty;
    let contents = &mut pending.contents;
    let contents_secret = contents.as_ref().map(|b| *b.secret());
    let batch_first_seq = pending.first_seq;
    // Only for the embedded database: on PostgreSQL the server's own
    // process needs the other core to store what this one sends.
    let parallel = chunk.transfers.len() >= PIPELINE_MIN_ENTRIES
        && conn.backend() == Backend::Sqlite
        && spare_core();
    let (written, last_hash) = if parallel {
        std::thread::scope(|scope| {
            let (pieces, received) = std::sync::mpsc::sync_channel::<(
                Vec<JournalEntry>,
                Vec<Hash32>,
            )>(PIPELINE_PIECES_WAITING);
            let view = &view;
            let new_lot_ids = &new_lot_ids;
            scope.spawn(move || {
                ledger::journal_rows_in_pieces(
                    chunk,
                    header,
                    view,
                    new_lot_ids,
                    first_seq,
                    previous,
                    PIPELINE_PIECE_ENTRIES,
                    |piece| {
                        let leaves = contents_leaves(
                            contents_secret.as_ref(),
                            batch_first_seq,
                            &piece,
                            chunk,
                            view,
                            new_lot_ids,
                        );
                        pieces.send((piece, leaves)).is_ok()
                    },
                );
            });
            // On an error `received` is dropped, so the hashing stops too.
            store_lots(conn)?;
            // The unfolded changes are summed while the first piece is hashed.
            add_changes(dirty, &changes, new_lot_ids, |c| c.delta, true);
            let mut written = 0;
            let mut last_hash = None;
            for (piece, leaves) in received {
                conn.insert_journal("journal", &piece)?;
                written += piece.len();
                last_hash = piece.last().map(|r| r.hash);
                if let Some(builder) = contents.as_mut() {
                    leaves.into_iter().for_each(|l| builder.push_entry_leaf(l));
                }
            }
            Ok::<_, StoreError>((written, last_hash))
        })?
    } else {
        let rows = ledger::journal_rows(chunk, header, &view, &new_lot_ids, first_seq, previous);
        store_lots(conn)?;
        conn.insert_journal("journal", &rows)?;
        if let Some(builder) = contents.as_mut() {
            let leaves = contents_leaves(
                contents_secret.as_ref(),
                batch_first_seq,
                &rows,
                chunk,
                &view,
                &new_lot_ids,
            );
            leaves.into_iter().for_each(|l| builder.push_entry_leaf(l));
        }
        (rows.len(), rows.last().map(|r| r.hash))
    };
    if written != chunk.transfers.len() {
        return Err(StoreError::Database(format!(
            "the journal writer stored {written} of {} entries",
            chunk.transfers.len()
        )));
    }
    let read_lots = std::mem::take(&mut view.read_lots);
    drop(view);
    for (id, spec) in read_lots {
        // Lots that existed before this transaction are committed for good.
        if id < pending.first_lot_id && pending.read_lots.len() < LOT_CACHE_MAX {
            pending.read_lots.push((id, spec));
        }
    }
    if !parallel {
        add_changes(
            &mut pending.dirty,
            &changes,
            &new_lot_ids,
            |c| c.delta,
            true,
        );
    }
    if pending.cached_balances_usable {
        add_changes(
            &mut pending.overlay,
            &changes,
            &new_lot_ids,
            |c| c.balance_after,
            false,
        );
    }
    if pending.cached_balances_usable && pending.overlay.len() > OVERLAY_BALANCES_MAX {
        // A huge streamed batch: stop remembering balances; later chunks
        // read the table plus the unfolded changes, and the cache's
        // balances are dropped at commit.
        pending.overlay.clear();
        pending.cached_balances_usable = false;
    }
    if let Some(last) = last_hash {
        pending.previous = last;
    }
    pending.next_seq += written as i64;
    pending.next_lot_id += new_lot_ids.len() as i64;
    pending.lot_ids.extend_from_slice(&new_lot_ids);
    let unfolded_pairs = pending.dirty.len()
        + if pending.reset || pending.folded_committed {
            0
        } else {
            cache.dirty.len()
        };
    if pending.next_seq - 1 - pending.checkpoint_seq >= FOLD_ENTRIES || unfolded_pairs >= FOLD_PAIRS
    {
        fold(conn, cache, pending)?;
    }
    Ok(new_lot_ids)
}

/// The contents-tree leaf hashes of journal entries just computed (none
/// without a secret). A leaf's position is its entry's place in the batch.
fn contents_leaves(
    secret: Option<&Hash32>,
    batch_first_seq: i64,
    rows: &[JournalEntry],
    chunk: &Batch,
    lots: &(impl ledger::LotSource + ?Sized),
    new_lot_ids: &[i64],
) -> Vec<Hash32> {
    let Some(secret) = secret else {
        return Vec::new();
    };
    let salts = oplog::SaltHasher::new(secret);
    let first_new = new_lot_ids.first().copied().unwrap_or(i64::MAX);
    let mut buf = Vec::with_capacity(256);
    let mut leaves = Vec::with_capacity(rows.len());
    for row in rows {
        let spec = if row.lot_id >= first_new {
            chunk.new_lots.get((row.lot_id - first_new) as usize)
        } else {
            lots.lot(row.lot_id)
        };
        let Some(spec) = spec else {
            // Cannot happen for a validated batch; the operation then
            // reads its entries back from the journal (its leaf count
            // no longer matches).
            return Vec::new();
        };
        let expiry = spec.expiry.map(reliefhub_core::domain::format_date);
        leaves.push(oplog::entry_leaf_hash(
            &mut buf,
            &salts,
            (row.seq - batch_first_seq) as u64,
            &oplog::EntryParts {
                seq: row.seq,
                lot_id: row.lot_id,
                item: &spec.item,
                donor: &spec.donor,
                batch: &spec.batch,
                expiry: expiry.as_deref(),
                earmark: &spec.earmark,
                from: &row.from,
                to: &row.to,
                quantity: row.quantity,
                corrects: row.corrects,
            },
        ));
    }
    leaves
}

/// Adds (or, with `add` false, sets) each change's number in `map`. The
/// changes come ordered by account: each account is looked up once.
fn add_changes(
    map: &mut PairMap,
    changes: &[ledger::BalanceChange],
    new_lot_ids: &[i64],
    number: impl Fn(&ledger::BalanceChange) -> i64,
    add: bool,
) {
    let mut start = 0;
    while start < changes.len() {
        let account = changes[start].account.canonical();
        let end = changes[start..]
            .iter()
            .position(|c| c.account.canonical() != account)
            .map_or(changes.len(), |n| start + n);
        let lots = map.lots_mut(account);
        for change in &changes[start..end] {
            let lot_id = match change.lot {
                LotRef::Existing(id) => id,
                LotRef::New(index) => new_lot_ids[index],
            };
            if add {
                *lots.entry(lot_id).or_insert(0) += number(change);
            } else {
                lots.insert(lot_id, number(change));
            }
        }
        start = end;
    }
}

/// Writes the batch header once every chunk is in.
fn finish_batch(conn: &mut dyn Conn, pending: &mut Pending) -> Result<Applied, StoreError> {
    let transfer_count = pending.next_seq - pending.first_seq;
    if transfer_count == 0 {
        return Err(StoreError::Rejected(vec![
            reliefhub_core::LedgerError::EmptyBatch,
        ]));
    }
    let header = &pending.header;
    conn.execute(
        "INSERT INTO batches (id, idem_key, kind, content_digest, recorded_at_unix_ms, first_seq, transfer_count) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            header.id.into(),
            (&header.key).into(),
            (&header.kind).into(),
            Value::Bytes(header.content_digest.to_vec()),
            header.recorded_at_unix_ms.into(),
            pending.first_seq.into(),
            transfer_count.into(),
        ],
    )?;
    Ok(Applied {
        batch_id: header.id,
        first_seq: pending.first_seq,
        transfer_count,
        lot_ids: pending.lot_ids.clone(),
        replayed: false,
    })
}

/// A batch written in chunks inside one transaction; see
/// [`Store::apply_streamed`].
pub struct StreamedBatch<'a> {
    conn: &'a mut dyn Conn,
    cache: &'a BalanceCache,
    lots: &'a LotCache,
    pending: &'a mut Pending,
}

impl StreamedBatch<'_> {
    /// Validates and writes one chunk (its key is ignored). Returns the ids
    /// of the chunk's new lots. An error here rolls back the whole batch.
    pub fn push(&mut self, chunk: &Batch) -> Result<Vec<i64>, StoreError> {
        let mut chunk_with_key;
        let chunk = if chunk.key == self.pending.header.key {
            chunk
        } else {
            chunk_with_key = chunk.clone();
            chunk_with_key.key = self.pending.header.key.clone();
            &chunk_with_key
        };
        push_chunk(self.conn, self.cache, self.lots, self.pending, chunk)
    }

    /// The transaction's connection, for rows that belong with the batch.
    /// (The `balances` table is complete only once the batch commits.)
    pub fn conn(&mut self) -> &mut dyn Conn {
        self.conn
    }

    /// The id the batch will have.
    pub fn batch_id(&self) -> i64 {
        self.pending.header.id
    }
}

const ITEM_COLUMNS: &str = "code, name, category, unit, unit_weight_kg, unit_volume_m3, cold_chain, un_number, \
     min_shelf_life_days, needs_expiry, name_fr, name_ar, name_ru, pack_size, gtins, un_class, value_usd_per_unit";

/// Items of the catalogue, all or the one with `code`, by code.
pub fn read_items(conn: &mut dyn Conn, code: Option<&str>) -> Result<Vec<Item>, StoreError> {
    let rows = match code {
        None => conn.query(
            &format!("SELECT {ITEM_COLUMNS} FROM items ORDER BY code"),
            &[],
        )?,
        Some(code) => conn.query(
            &format!("SELECT {ITEM_COLUMNS} FROM items WHERE code = $1"),
            &[code.into()],
        )?,
    };
    rows.iter()
        .map(|r| {
            Ok(Item {
                code: r[0].text()?,
                name: r[1].text()?,
                category: r[2].text()?,
                unit: r[3].text()?,
                unit_weight_kg: r[4].real()?,
                unit_volume_m3: r[5].real()?,
                cold_chain: r[6].int()? != 0,
                un_number: r[7].opt_text()?,
                min_shelf_life_days: u32::try_from(r[8].int()?).unwrap_or(0),
                needs_expiry: r[9].int()? != 0,
                names: Names {
                    fr: r[10].opt_text()?,
                    ar: r[11].opt_text()?,
                    ru: r[12].opt_text()?,
                },
                pack_size: match &r[13] {
                    Value::Null => 1,
                    v => u32::try_from(v.int()?).unwrap_or(1),
                },
                gtins: r[14]
                    .opt_text()?
                    .map(|g| g.split_whitespace().map(str::to_string).collect())
                    .unwrap_or_default(),
                un_class: r[15].opt_text()?,
                value_usd_per_unit: match &r[16] {
                    Value::Null => None,
                    v => Some(v.real()?),
                },
            })
        })
        .collect()
}

/// Writes an item: a new one (`replace` false: an existing code is kept as
/// it is) or a new version of an existing one (`replace` true).
pub fn insert_item(conn: &mut dyn Conn, item: &Item, replace: bool) -> Result<(), StoreError> {
    let conflict = if replace {
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, category = excluded.category, unit = excluded.unit, \
         unit_weight_kg = excluded.unit_weight_kg, unit_volume_m3 = excluded.unit_volume_m3, cold_chain = excluded.cold_chain, \
         un_number = excluded.un_number, min_shelf_life_days = excluded.min_shelf_life_days, needs_expiry = excluded.needs_expiry, \
         name_fr = excluded.name_fr, name_ar = excluded.name_ar, name_ru = excluded.name_ru, pack_size = excluded.pack_size, \
         gtins = excluded.gtins, un_class = excluded.un_class, value_usd_per_unit = excluded.value_usd_per_unit"
    } else {
        "ON CONFLICT (code) DO NOTHING"
    };
    let gtins = (!item.gtins.is_empty()).then(|| item.gtins.join(" "));
    conn.execute(
        &format!(
            "INSERT INTO items ({ITEM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) {conflict}"
        ),
        &[
            (&item.code).into(),
            (&item.name).into(),
            (&item.category).into(),
            (&item.unit).into(),
            item.unit_weight_kg.into(),
            item.unit_volume_m3.into(),
            item.cold_chain.into(),
            item.un_number.as_deref().into(),
            i64::from(item.min_shelf_life_days).into(),
            item.needs_expiry.into(),
            item.names.fr.as_deref().into(),
            item.names.ar.as_deref().into(),
            item.names.ru.as_deref().into(),
            i64::from(item.pack_size).into(),
            gtins.as_deref().into(),
            item.un_class.as_deref().into(),
            match item.value_usd_per_unit {
                Some(v) => Value::Real(v),
                None => Value::Null,
            },
        ],
    )?;
    Ok(())
}

/// Organisations, all or the one with `code`, by code.
pub fn read_organisations(
    conn: &mut dyn Conn,
    code: Option<&str>,
) -> Result<Vec<Organisation>, StoreError> {
    const COLUMNS: &str = "code, name, kind, country, name_fr, name_ar, name_ru";
    let rows = match code {
        None => conn.query(
            &format!("SELECT {COLUMNS} FROM organisations ORDER BY code"),
            &[],
        )?,
        Some(code) => conn.query(
            &format!("SELECT {COLUMNS} FROM organisations WHERE code = $1"),
            &[code.into()],
        )?,
    };
    rows.iter()
        .map(|r| {
            let kind = r[2].text()?;
            Ok(Organisation {
                code: r[0].text()?,
                name: r[1].text()?,
                kind: OrganisationKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("organisation kind `{kind}`")))?,
                country: r[3].text()?,
                names: Names {
                    fr: r[4].opt_text()?,
                    ar: r[5].opt_text()?,
                    ru: r[6].opt_text()?,
                },
            })
        })
        .collect()
}

/// Writes an organisation, new or (`replace`) a new version of one.
pub fn insert_organisation(
    conn: &mut dyn Conn,
    org: &Organisation,
    replace: bool,
) -> Result<(), StoreError> {
    let conflict = if replace {
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, country = excluded.country, \
         name_fr = excluded.name_fr, name_ar = excluded.name_ar, name_ru = excluded.name_ru"
    } else {
        "ON CONFLICT (code) DO NOTHING"
    };
    conn.execute(
        &format!(
            "INSERT INTO organisations (code, name, kind, country, name_fr, name_ar, name_ru) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) {conflict}"
        ),
        &[
            (&org.code).into(),
            (&org.name).into(),
            org.kind.code().into(),
            (&org.country).into(),
            org.names.fr.as_deref().into(),
            org.names.ar.as_deref().into(),
            org.names.ru.as_deref().into(),
        ],
    )?;
    Ok(())
}

const DESTINATION_COLUMNS: &str =
    "locode, name, country, iata, icao, latitude_deg, longitude_deg, seaport, airport, name_fr, name_ar, name_ru";

/// Destinations, all or the one with `locode`, by UN/LOCODE.
pub fn read_destinations(
    conn: &mut dyn Conn,
    locode: Option<&str>,
) -> Result<Vec<Destination>, StoreError> {
    let rows = match locode {
        None => conn.query(
            &format!("SELECT {DESTINATION_COLUMNS} FROM destinations ORDER BY locode"),
            &[],
        )?,
        Some(code) => conn.query(
            &format!("SELECT {DESTINATION_COLUMNS} FROM destinations WHERE locode = $1"),
            &[code.into()],
        )?,
    };
    rows.iter()
        .map(|r| {
            let iata = r[3].opt_text()?;
            let icao = r[4].opt_text()?;
            let airport = match &r[8] {
                Value::Null => iata.is_some() || icao.is_some(),
                v => v.int()? != 0,
            };
            Ok(Destination {
                locode: r[0].text()?,
                name: r[1].text()?,
                iata,
                icao,
                latitude_deg: r[5].real()?,
                longitude_deg: r[6].real()?,
                seaport: r[7].int()? != 0,
                airport,
                names: Names {
                    fr: r[9].opt_text()?,
                    ar: r[10].opt_text()?,
                    ru: r[11].opt_text()?,
                },
            })
        })
        .collect()
}

/// Writes a destination, new or (`replace`) a new version of one.
pub fn insert_destination(
    conn: &mut dyn Conn,
    destination: &Destination,
    replace: bool,
) -> Result<(), StoreError> {
    let conflict = if replace {
        "ON CONFLICT (locode) DO UPDATE SET name = excluded.name, country = excluded.country, iata = excluded.iata, \
         icao = excluded.icao, latitude_deg = excluded.latitude_deg, longitude_deg = excluded.longitude_deg, \
         seaport = excluded.seaport, airport = excluded.airport, name_fr = excluded.name_fr, name_ar = excluded.name_ar, \
         name_ru = excluded.name_ru"
    } else {
        "ON CONFLICT (locode) DO NOTHING"
    };
    conn.execute(
        &format!(
            "INSERT INTO destinations ({DESTINATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) {conflict}"
        ),
        &[
            (&destination.locode).into(),
            (&destination.name).into(),
            destination.country().into(),
            destination.iata.as_deref().into(),
            destination.icao.as_deref().into(),
            destination.latitude_deg.into(),
            destination.longitude_deg.into(),
            destination.seaport.into(),
            destination.airport.into(),
            destination.names.fr.as_deref().into(),
            destination.names.ar.as_deref().into(),
            destination.names.ru.as_deref().into(),
        ],
    )?;
    Ok(())
}
