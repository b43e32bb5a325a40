//! The store: the ledger's transactions and the queries over it, written
//! once over [`Conn`].

use std::collections::{HashMap, HashSet};

use reliefhub_core::domain::{format_date, parse_date};
use reliefhub_core::ledger::{
    self, BatchContext, BatchHeader, CorrectedEntry, Hash32, JournalEntry, ReferenceCodes,
    GENESIS_HASH,
};
use reliefhub_core::reference::ReferenceData;
use reliefhub_core::verify::{Verifier, VerifyFailure, VerifySummary};
use reliefhub_core::{
    Account, Airport, Batch, Country, Item, Lot, LotRef, LotSpec, OrganisationKind,
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
}

/// Balances this store wrote or read, valid while the journal's head is the
/// one it last saw: every balance change appends to the journal under the
/// write lock, so an unchanged head means unchanged balances. It spares each
/// batch the reads of the balances it touches.
#[derive(Default)]
struct BalanceCache {
    head_seq: i64,
    balances: HashMap<(String, i64), i64>,
}

/// The most balances one batch remembers while it is written.
const OVERLAY_BALANCES_MAX: usize = 100_000;
/// The most balances the cache keeps before it starts again.
const CACHE_BALANCES_MAX: usize = 2_000_000;

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

fn earmark_text(earmark: &[String]) -> String {
    earmark.join(",")
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
        Ok(Store {
            conn: db::connect(url)?,
            cache: BalanceCache::default(),
        })
    }

    pub fn from_conn(conn: Box<dyn Conn>) -> Store {
        Store {
            conn,
            cache: BalanceCache::default(),
        }
    }

    pub fn backend(&self) -> Backend {
        self.conn.backend()
    }

    /// Direct access for the operations layer's own tables.
    pub fn conn(&mut self) -> &mut dyn Conn {
        self.conn.as_mut()
    }

    /// Creates or upgrades the schema. Returns the versions applied.
    pub fn migrate(&mut self, now_unix_ms: i64) -> Result<Vec<i64>, StoreError> {
        migrations::migrate(self.conn.as_mut(), now_unix_ms)
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
    /// rolled back otherwise.
    pub fn write<T>(
        &mut self,
        work: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn.begin_write()?;
        match work(self.conn.as_mut()) {
            Ok(value) => {
                self.conn.commit()?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.conn.rollback();
                Err(e)
            }
        }
    }

    /// Runs `work` in one read transaction (one consistent snapshot).
    pub fn read<T>(
        &mut self,
        work: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn.begin_read()?;
        let result = work(self.conn.as_mut());
        let _ = self.conn.rollback();
        result
    }

    /// Loads (or refreshes) the built-in reference data.
    pub fn load_reference_data(&mut self, data: &ReferenceData) -> Result<(), StoreError> {
        self.write(|conn| {
            for item in &data.items {
                conn.execute(
                    "INSERT INTO items (code, name, category, unit, unit_weight_kg, unit_volume_m3, cold_chain, un_number, min_shelf_life_days) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
                     category = excluded.category, unit = excluded.unit, unit_weight_kg = excluded.unit_weight_kg, \
                     unit_volume_m3 = excluded.unit_volume_m3, cold_chain = excluded.cold_chain, un_number = excluded.un_number, \
                     min_shelf_life_days = excluded.min_shelf_life_days",
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
                    ],
                )?;
            }
            for org in &data.organisations {
                conn.execute(
                    "INSERT INTO organisations (code, name, kind, country) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, country = excluded.country",
                    &[(&org.code).into(), (&org.name).into(), org.kind.code().into(), (&org.country).into()],
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
                conn.execute(
                    "INSERT INTO destinations (locode, name, country, iata, icao, latitude_deg, longitude_deg) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (locode) DO UPDATE SET name = excluded.name, \
                     country = excluded.country, iata = excluded.iata, icao = excluded.icao, \
                     latitude_deg = excluded.latitude_deg, longitude_deg = excluded.longitude_deg",
                    &[
                        (&destination.locode).into(),
                        (&destination.name).into(),
                        destination.country().into(),
                        destination.iata.as_deref().into(),
                        destination.icao.as_deref().into(),
                        destination.latitude_deg.into(),
                        destination.longitude_deg.into(),
                    ],
                )?;
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
        let rows = self.conn.query(
            "SELECT code, name, category, unit, unit_weight_kg, unit_volume_m3, cold_chain, un_number, min_shelf_life_days FROM items ORDER BY code",
            &[],
        )?;
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
                })
            })
            .collect()
    }

    /// Applies a batch all or nothing, once per idempotency key.
    ///
    /// The same key with the same content returns the first result and
    /// changes nothing; the same key with other content is refused.
    pub fn apply(&mut self, batch: &Batch, now_unix_ms: i64) -> Result<Applied, StoreError> {
        self.apply_with(batch, now_unix_ms, |_, _| Ok(()))
            .map(|(applied, _)| applied)
    }

    /// Like [`Store::apply`], and runs `after` in the same transaction once
    /// the batch is written (to store the documents that go with it). On a
    /// replay `after` does not run and the result is `None`.
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
            |conn, cache, pending| {
                push_chunk(conn, cache, pending, batch)?;
                let applied = finish_batch(conn, pending)?;
                let extra = after(conn, &applied)?;
                Ok((applied, extra))
            },
        )
    }

    /// Applies a batch too large to hold in memory: `feed` pushes it chunk
    /// by chunk, all inside one transaction, so it is applied whole or not
    /// at all. `content_digest` identifies the content for idempotency (for
    /// an imported file, a digest of its bytes); on a replay of the same key
    /// and digest, `feed` does not run and the result is `None`.
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
            |conn, cache, pending| {
                let extra = feed(&mut StreamedBatch {
                    conn: &mut *conn,
                    cache,
                    pending: &mut *pending,
                })?;
                let applied = finish_batch(conn, pending)?;
                Ok((applied, extra))
            },
        )
    }

    /// One write transaction for one batch; on commit the balance cache
    /// takes the batch's balances and the new journal head.
    fn write_batch<T>(
        &mut self,
        key: &str,
        kind: &str,
        digest: Hash32,
        now_unix_ms: i64,
        work: impl FnOnce(
            &mut dyn Conn,
            &BalanceCache,
            &mut Pending,
        ) -> Result<(Applied, T), StoreError>,
    ) -> Result<(Applied, Option<T>), StoreError> {
        let conn = self.conn.as_mut();
        conn.begin_write()?;
        let result = (|| match start_batch(conn, &self.cache, key, kind, digest, now_unix_ms)? {
            Start::Replay(applied) => Ok((applied, None, None)),
            Start::Fresh(mut pending) => {
                let (applied, extra) = work(conn, &self.cache, &mut pending)?;
                Ok((applied, Some(extra), Some(pending)))
            }
        })();
        match result {
            Ok((applied, extra, pending)) => {
                conn.commit()?;
                if let Some(pending) = pending {
                    if !pending.cache_valid
                        || self.cache.balances.len() + pending.overlay.len() > CACHE_BALANCES_MAX
                    {
                        self.cache.balances.clear();
                    }
                    self.cache.balances.extend(pending.overlay);
                    self.cache.head_seq = pending.next_seq - 1;
                }
                Ok((applied, extra))
            }
            Err(e) => {
                let _ = conn.rollback();
                Err(e)
            }
        }
    }

    /// The balance of one account for one lot.
    pub fn balance(&mut self, account: &Account, lot_id: i64) -> Result<i64, StoreError> {
        let rows = self.conn.query(
            "SELECT quantity FROM balances WHERE account = $1 AND lot_id = $2",
            &[account.canonical().into(), lot_id.into()],
        )?;
        rows.first().map_or(Ok(0), |r| r[0].int())
    }

    /// Every non-zero balance, ordered by account and lot.
    pub fn balances(&mut self) -> Result<Vec<BalanceRow>, StoreError> {
        let rows = self.conn.query(
            "SELECT account, lot_id, quantity FROM balances WHERE quantity <> 0 ORDER BY account, lot_id",
            &[],
        )?;
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

    /// Recomputes every balance from the journal and checks the hash chain,
    /// in one snapshot. `progress` is called with the entries checked so far.
    pub fn verify(
        &mut self,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Result<VerifySummary, VerifyFailure>, StoreError> {
        self.read(|conn| {
            let total = conn.query("SELECT COUNT(*) FROM journal", &[])?[0][0].int()?.max(0) as u64;
            let mut verifier = Verifier::new();
            let mut after_seq = 0_i64;
            let mut checked = 0_u64;
            let mut batch_spans: HashMap<i64, (i64, i64)> = HashMap::new();
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
                        from: row[3].text()?,
                        to: row[4].text()?,
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
            let balances = conn.query("SELECT account, lot_id, quantity FROM balances", &[])?;
            let stored: Vec<(String, i64, i64)> = balances
                .iter()
                .map(|r| Ok((r[0].text()?, r[1].int()?, r[2].int()?)))
                .collect::<Result<_, StoreError>>()?;
            Ok(verifier.finish(stored))
        })
    }
}

fn applied_from_stored(conn: &mut dyn Conn, row: &[Value]) -> Result<Applied, StoreError> {
    let batch_id = row[0].int()?;
    let lot_ids = conn
        .query(
            "SELECT id FROM lots WHERE created_batch = $1 ORDER BY id",
            &[batch_id.into()],
        )?
        .iter()
        .map(|r| r[0].int())
        .collect::<Result<_, _>>()?;
    Ok(Applied {
        batch_id,
        first_seq: row[2].int()?,
        transfer_count: row[3].int()?,
        lot_ids,
        replayed: true,
    })
}

fn codes(conn: &mut dyn Conn, sql: &str) -> Result<HashSet<String>, StoreError> {
    conn.query(sql, &[])?.iter().map(|r| r[0].text()).collect()
}

fn reference_codes(conn: &mut dyn Conn) -> Result<ReferenceCodes, StoreError> {
    Ok(ReferenceCodes {
        known_items: codes(conn, "SELECT code FROM items")?,
        known_donors: codes(
            conn,
            &format!(
                "SELECT code FROM organisations WHERE kind = '{}'",
                OrganisationKind::Donor.code()
            ),
        )?,
        known_nodes: codes(conn, "SELECT code FROM nodes")?,
        known_destinations: codes(conn, "SELECT locode FROM destinations")?,
    })
}

/// A batch being written inside the current write transaction.
struct Pending {
    header: BatchHeader,
    codes: ReferenceCodes,
    first_seq: i64,
    next_seq: i64,
    next_lot_id: i64,
    previous: Hash32,
    lot_ids: Vec<i64>,
    /// Balances after the chunks written so far in this transaction.
    overlay: HashMap<(String, i64), i64>,
    /// Whether the cache describes the journal as it stood at the start.
    cache_valid: bool,
}

enum Start {
    Replay(Applied),
    Fresh(Box<Pending>),
}

/// Checks the idempotency key and, for a new key, reads where the journal
/// stands: the next ids and the hash to chain from.
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
         (SELECT COALESCE(MAX(seq), 0) FROM journal)",
        &[],
    )?;
    let batch_id = next[0][0].int()? + 1;
    let next_lot_id = next[0][1].int()? + 1;
    let last_seq = next[0][2].int()?;
    let previous = if last_seq == 0 {
        GENESIS_HASH
    } else {
        let rows = conn.query(
            "SELECT hash FROM journal WHERE seq = $1",
            &[last_seq.into()],
        )?;
        hash32(&rows[0][0].bytes()?).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "journal entry {last_seq} has a malformed hash; run `reliefhub verify`"
            ))
        })?
    };
    Ok(Start::Fresh(Box::new(Pending {
        header: BatchHeader {
            id: batch_id,
            key: key.to_string(),
            kind: kind.to_string(),
            content_digest: digest,
            recorded_at_unix_ms: now_unix_ms,
        },
        codes: reference_codes(conn)?,
        first_seq: last_seq + 1,
        next_seq: last_seq + 1,
        next_lot_id,
        previous,
        lot_ids: Vec::new(),
        overlay: HashMap::new(),
        cache_valid: cache.head_seq == last_seq,
    })))
}

/// Validates one chunk of a batch against the state inside the transaction
/// (which includes the earlier chunks) and writes it. Returns the ids of the
/// chunk's new lots.
fn push_chunk(
    conn: &mut dyn Conn,
    cache: &BalanceCache,
    pending: &mut Pending,
    chunk: &Batch,
) -> Result<Vec<i64>, StoreError> {
    let mut ctx = BatchContext::default();
    let lot_ids: Vec<Value> = chunk.existing_lots().into_iter().map(Value::Int).collect();
    for row in query_in(
        conn,
        "SELECT item, donor, batch, expiry, earmark, id FROM lots WHERE id IN (?)",
        &lot_ids,
    )? {
        ctx.lots.insert(row[5].int()?, lot_from_row(&row)?);
    }
    let touched: Vec<(Account, i64)> = chunk
        .touched_pairs()
        .into_iter()
        .filter(|(_, lot)| ctx.lots.contains_key(lot))
        .collect();
    let mut missing: Vec<&(Account, i64)> = Vec::new();
    for pair in &touched {
        let key = (pair.0.canonical().to_string(), pair.1);
        let known = pending.overlay.get(&key).or_else(|| {
            if pending.cache_valid {
                cache.balances.get(&key)
            } else {
                None
            }
        });
        match known {
            Some(quantity) => {
                ctx.balances.insert(pair.clone(), *quantity);
            }
            None => missing.push(pair),
        }
    }
    let pairs: Vec<(&str, i64)> = missing
        .iter()
        .map(|(a, lot)| (a.canonical(), *lot))
        .collect();
    let found = conn.get_balances(&pairs)?;
    for ((account, lot), quantity) in missing.into_iter().zip(found) {
        ctx.balances.insert((account.clone(), *lot), quantity);
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
            ctx.corrected.insert(
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
            if let Some(entry) = ctx.corrected.get_mut(&row[0].int()?) {
                entry.reversed_quantity = row[1].int()?;
            }
        }
    }

    let changes = ledger::validate(chunk, &pending.codes, &ctx).map_err(StoreError::Rejected)?;

    let new_lot_ids: Vec<i64> = (0..chunk.new_lots.len() as i64)
        .map(|i| pending.next_lot_id + i)
        .collect();
    let rows = ledger::journal_rows(
        chunk,
        &pending.header,
        &ctx.lots,
        &new_lot_ids,
        pending.next_seq,
        pending.previous,
    );
    if !chunk.new_lots.is_empty() {
        let lot_rows = chunk
            .new_lots
            .iter()
            .zip(&new_lot_ids)
            .map(|(lot, id)| {
                vec![
                    (*id).into(),
                    (&lot.item).into(),
                    (&lot.donor).into(),
                    (&lot.batch).into(),
                    lot.expiry.map(format_date).into(),
                    earmark_text(&lot.earmark).into(),
                    pending.header.id.into(),
                ]
            })
            .collect();
        insert_rows(
            conn,
            "lots",
            &[
                "id",
                "item",
                "donor",
                "batch",
                "expiry",
                "earmark",
                "created_batch",
            ],
            lot_rows,
        )?;
    }
    conn.insert_journal("journal", &rows)?;
    let balance_changes: Vec<(String, i64, i64)> = changes
        .iter()
        .map(|change| {
            let lot_id = match change.lot {
                LotRef::Existing(id) => id,
                LotRef::New(index) => new_lot_ids[index],
            };
            pending.overlay.insert(
                (change.account.canonical().to_string(), lot_id),
                change.balance_after,
            );
            (change.account.canonical().to_string(), lot_id, change.delta)
        })
        .collect();
    conn.add_balances(&balance_changes)?;
    if pending.overlay.len() > OVERLAY_BALANCES_MAX {
        // A huge streamed batch: stop remembering, read from the database
        // (which holds the earlier chunks) and drop the cache after commit.
        pending.overlay = HashMap::new();
        pending.cache_valid = false;
    }
    if let Some(last) = rows.last() {
        pending.previous = last.hash;
    }
    pending.next_seq += rows.len() as i64;
    pending.next_lot_id += new_lot_ids.len() as i64;
    pending.lot_ids.extend_from_slice(&new_lot_ids);
    Ok(new_lot_ids)
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
        lot_ids: std::mem::take(&mut pending.lot_ids),
        replayed: false,
    })
}

/// A batch written in chunks inside one transaction; see
/// [`Store::apply_streamed`].
pub struct StreamedBatch<'a> {
    conn: &'a mut dyn Conn,
    cache: &'a BalanceCache,
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
        push_chunk(self.conn, self.cache, self.pending, chunk)
    }

    /// The transaction's connection, for rows that belong with the batch.
    pub fn conn(&mut self) -> &mut dyn Conn {
        self.conn
    }

    /// The id the batch will have.
    pub fn batch_id(&self) -> i64 {
        self.pending.header.id
    }
}
