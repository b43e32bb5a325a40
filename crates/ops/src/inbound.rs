//! Inbound legs and their manifests.
//!
//! A manifest import reads the file twice. The first pass checks every line
//! (collecting all problems) and computes a digest of the file's bytes;
//! nothing is written if any line is bad. The second pass applies the lines
//! in chunks, each a part of ONE ledger batch in ONE transaction: each line
//! becomes a new lot moved source(donor) -> inbound(leg). If the file
//! changed between the passes, the transaction is rolled back.

use std::cell::Cell;
use std::io::Read;
use std::path::PathBuf;
use std::rc::Rc;

use reliefhub_core::{Account, Batch, LotRef, LotSpec, TransferSpec};
use reliefhub_formats::manifest::{
    read_manifest, ManifestFormat, ManifestLine, ManifestRules, ReadError,
};
use reliefhub_store::{StoreError, Value};
use sha2::{Digest, Sha256};
use time::Date;

use crate::rules::{check_calendar, check_date, check_required, refuse_if};
use crate::{account, check_code, date, date_text, Aborted, Code, Moment, Ops, OpsError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Sea,
    Air,
}

impl Mode {
    pub fn code(self) -> &'static str {
        match self {
            Mode::Sea => "sea",
            Mode::Air => "air",
        }
    }
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "sea" => Some(Mode::Sea),
            "air" => Some(Mode::Air),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLeg {
    pub code: String,
    pub mode: Mode,
    /// UN/LOCODE (`RULED`) or IATA airport code (`VKO`).
    pub origin: String,
    pub node: String,
    pub carrier: String,
    /// Vessel name and voyage, or flight number.
    pub vehicle_ref: String,
    pub expected_arrival: Date,
    /// The donor of manifest lines that name none.
    pub donor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    pub leg: NewLeg,
    pub manifest_lines: i64,
    pub manifested_quantity: i64,
    pub received_lines: i64,
    pub in_transit_quantity: i64,
}

impl Leg {
    /// Expected, manifested, partly received or received.
    pub fn status(&self) -> crate::LegStatus {
        crate::LegStatus::of(self.manifest_lines, self.received_lines)
    }
}

/// Where a manifest's bytes come from; opened once per pass.
pub trait ManifestSource {
    fn name(&self) -> String;
    fn open(&self) -> std::io::Result<Box<dyn Read + '_>>;
    /// The size in bytes, when known (for progress bars).
    fn size_bytes(&self) -> Option<u64>;
}

pub struct FileSource(pub PathBuf);

impl ManifestSource for FileSource {
    fn name(&self) -> String {
        self.0.display().to_string()
    }
    fn open(&self) -> std::io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(std::fs::File::open(&self.0)?))
    }
    fn size_bytes(&self) -> Option<u64> {
        std::fs::metadata(&self.0).ok().map(|m| m.len())
    }
}

pub struct MemorySource {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl ManifestSource for MemorySource {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn open(&self) -> std::io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(&self.bytes[..]))
    }
    fn size_bytes(&self) -> Option<u64> {
        Some(self.bytes.len() as u64)
    }
}

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestImported {
    pub leg: String,
    pub key: String,
    pub lines: i64,
    pub total_quantity: i64,
    pub batch_id: i64,
    pub replayed: bool,
    /// SHA-256 of the file's bytes.
    pub file_digest: String,
}

/// Counts and hashes what passes through.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: Rc<Cell<u64>>,
}

impl<R> Hashing<R> {
    fn new(inner: R) -> Hashing<R> {
        Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: Rc::new(Cell::new(0)),
        }
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes.set(self.bytes.get() + n as u64);
        Ok(n)
    }
}

/// Lines per chunk of the streamed batch.
const CHUNK_LINES: usize = 20_000;

/// A chunk of the streamed batch and its lines' (line, quantity, packs).
type Chunk = (Batch, Vec<(u64, i64, Option<i64>)>);

impl Ops {
    /// Registers an inbound leg. Registering the same leg again is a no-op;
    /// the same code with other details is refused. Returns true if new.
    pub fn add_leg(&mut self, leg: &NewLeg, at: Moment) -> Result<bool, OpsError> {
        let refs = self.refs()?;
        let mut errors = Vec::new();
        check_code("leg", &leg.code, &mut errors);
        refs.check_node("node", &leg.node, &mut errors);
        refs.check_node_mode("mode", &leg.node, leg.mode.code(), &mut errors);
        refs.check_origin("origin", &leg.origin, &mut errors);
        if let Some(donor) = &leg.donor {
            refs.check_donor("donor", donor, &mut errors);
        }
        check_required("carrier", &leg.carrier, &mut errors);
        check_required("vehicle", &leg.vehicle_ref, &mut errors);
        check_calendar("expected_arrival", leg.expected_arrival, at, &mut errors);
        refuse_if(errors)?;
        let mut aborted = Aborted::new();
        let result = self.store.write(|conn| {
            if let Some(existing) = load_leg(conn, &leg.code)? {
                if existing == *leg {
                    return Ok(false);
                }
                return Err(aborted.abort(OpsError::refused(
                    Code::DuplicateCode,
                    "code",
                    &leg.code,
                    format!("leg `{}` already exists with other details; give this leg another code", leg.code),
                )));
            }
            conn.execute(
                "INSERT INTO inbound_legs (code, mode, origin, node, carrier, vehicle_ref, expected_arrival, donor, recorded_at_unix_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    (&leg.code).into(),
                    leg.mode.code().into(),
                    (&leg.origin).into(),
                    (&leg.node).into(),
                    (&leg.carrier).into(),
                    (&leg.vehicle_ref).into(),
                    date_text(leg.expected_arrival).into(),
                    leg.donor.as_deref().into(),
                    at.unix_ms.into(),
                ],
            )?;
            Ok(true)
        });
        aborted.resolve(result)
    }

    pub fn leg(&mut self, code: &str) -> Result<NewLeg, OpsError> {
        self.store
            .read(|conn| load_leg(conn, code))?
            .ok_or_else(|| OpsError::NotFound {
                what: "inbound leg",
                code: code.to_string(),
            })
    }

    /// Every leg with its manifest and receipt progress, by expected arrival.
    pub fn legs(&mut self) -> Result<Vec<Leg>, OpsError> {
        let rows = self.store.read(|conn| {
            conn.query(
                "SELECT l.code, \
                 (SELECT COUNT(*) FROM manifest_lines m WHERE m.leg_code = l.code), \
                 (SELECT CAST(COALESCE(SUM(m.quantity), 0) AS BIGINT) FROM manifest_lines m WHERE m.leg_code = l.code), \
                 (SELECT COUNT(*) FROM receipt_lines r WHERE r.leg_code = l.code), \
                 (SELECT CAST(COALESCE(SUM(b.quantity), 0) AS BIGINT) FROM balances b WHERE b.account = 'inbound:' || l.code) \
                 FROM inbound_legs l ORDER BY l.expected_arrival, l.code",
                &[],
            )
        })?;
        let mut out = Vec::new();
        for row in rows {
            let leg = self.leg(&row[0].text()?)?;
            out.push(Leg {
                leg,
                manifest_lines: row[1].int()?,
                manifested_quantity: row[2].int()?,
                received_lines: row[3].int()?,
                in_transit_quantity: row[4].int()?,
            });
        }
        Ok(out)
    }

    /// Checks a manifest without writing anything.
    pub fn check_manifest(
        &mut self,
        leg_code: &str,
        source: &dyn ManifestSource,
        format: ManifestFormat,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(u64, i64, String), OpsError> {
        let leg = self.leg(leg_code)?;
        let refs = self.refs()?;
        let rules = manifest_rules(refs, &leg);
        let name = source.name();
        let input = source.open().map_err(|e| OpsError::Io {
            file: name.clone(),
            message: e.to_string(),
        })?;
        let mut hashing = Hashing::new(input);
        let summary = read_manifest(
            &mut hashing,
            format,
            &name,
            &rules,
            |_line: ManifestLine| Ok::<(), ()>(()),
        );
        progress(hashing.bytes.get());
        let summary = match summary {
            Ok(summary) => summary,
            Err(ReadError::Input(e)) => return Err(e.into()),
            Err(ReadError::Sink(())) => unreachable!("the checking pass never fails its callback"),
        };
        let digest = hex::encode(hashing.hasher.finalize());
        Ok((summary.lines, summary.total_quantity, digest))
    }

    /// Imports a manifest for a leg, all or nothing. Default key:
    /// `manifest:<leg>`. `progress` is called with the bytes read so far and
    /// the pass (1 checks, 2 applies).
    pub fn import_manifest(
        &mut self,
        leg_code: &str,
        source: &dyn ManifestSource,
        format: ManifestFormat,
        key: Option<&str>,
        at: Moment,
        progress: &mut dyn FnMut(u8, u64),
    ) -> Result<ManifestImported, OpsError> {
        let leg = self.leg(leg_code)?;
        let mut problems = Vec::new();
        check_date("on", at.date, at, &mut problems);
        refuse_if(problems)?;
        let refs = self.refs()?;
        let rules = manifest_rules(refs, &leg);
        let name = source.name();
        let key = key.map_or_else(|| format!("manifest:{leg_code}"), str::to_string);
        let open = || {
            source.open().map_err(|e| OpsError::Io {
                file: name.clone(),
                message: e.to_string(),
            })
        };

        // Pass 1: check everything, hash the bytes.
        let mut hashing = Hashing::new(open()?);
        let bytes = Rc::clone(&hashing.bytes);
        let mut lines_checked = 0_usize;
        let checked = read_manifest(&mut hashing, format, &name, &rules, |_line| {
            lines_checked += 1;
            if lines_checked.is_multiple_of(CHUNK_LINES) {
                progress(1, bytes.get());
            }
            Ok::<(), ()>(())
        });
        progress(1, hashing.bytes.get());
        let summary = match checked {
            Ok(summary) => summary,
            Err(ReadError::Input(e)) => return Err(e.into()),
            Err(ReadError::Sink(())) => unreachable!("the checking pass never fails its callback"),
        };
        let file_digest: [u8; 32] = hashing.hasher.finalize().into();
        let file_digest_hex = hex::encode(file_digest);
        let mut content = Sha256::new();
        content.update(b"reliefhub-manifest/1\0");
        content.update(leg_code.as_bytes());
        content.update([0]);
        content.update(file_digest);
        let content_digest: [u8; 32] = content.finalize().into();

        // One manifest per leg.
        let existing = self.store.read(|conn| {
            conn.query(
                "SELECT idem_key, content_digest, line_count, total_quantity, batch_id FROM manifests WHERE leg_code = $1",
                &[leg_code.into()],
            )
        })?;
        if let Some(row) = existing.first() {
            let stored_key = row[0].text()?;
            if stored_key == key && row[1].text()? == file_digest_hex {
                return Ok(ManifestImported {
                    leg: leg_code.to_string(),
                    key,
                    lines: row[2].int()?,
                    total_quantity: row[3].int()?,
                    batch_id: row[4].int()?,
                    replayed: true,
                    file_digest: file_digest_hex,
                });
            }
            // Another file, or the same under another key: a leg takes one
            // manifest.
            return Err(OpsError::refused(
                Code::AlreadyDone,
                "leg",
                leg_code,
                format!("leg `{leg_code}` already has a manifest (imported under key `{stored_key}`); correct it with receipts and corrections, not a second manifest"),
            ));
        }

        // Pass 2: apply in chunks, in one transaction.
        let mut aborted = Aborted::new();
        let inbound = account(Account::inbound(leg_code))?;
        let result = self.store.apply_streamed(&key, "manifest.import", content_digest, at.unix_ms, |stream| {
            let input = open().map_err(|e| aborted.abort(e))?;
            let mut hashing = Hashing::new(input);
            let bytes = Rc::clone(&hashing.bytes);
            // This thread reads and parses; a second one validates and
            // writes the chunks it is handed (at most two wait at a time, so
            // memory stays bounded), so parsing overlaps the writing.
            let (read, written) = std::thread::scope(|scope| {
                let (chunks, received) = std::sync::mpsc::sync_channel::<Chunk>(1);
                let writer = scope.spawn(|| -> Result<(), StoreError> {
                    for (chunk, chunk_lines) in received {
                        let lot_ids = stream.push(&chunk)?;
                        let rows: Vec<Vec<Value>> = chunk_lines
                            .iter()
                            .zip(&lot_ids)
                            .map(|((line, quantity, packs), lot)| {
                                vec![
                                    leg_code.into(),
                                    (*line as i64).into(),
                                    (*lot).into(),
                                    (*quantity).into(),
                                    (*packs).into(),
                                ]
                            })
                            .collect();
                        stream.conn().insert_many(
                            "manifest_lines",
                            &["leg_code", "line_no", "lot_id", "quantity", "packs"],
                            &rows,
                        )?;
                    }
                    Ok(())
                });
                let new_batch = || Batch {
                    key: key.clone(),
                    kind: "manifest.import".to_string(),
                    new_lots: Vec::with_capacity(CHUNK_LINES),
                    transfers: Vec::with_capacity(CHUNK_LINES),
                };
                let mut chunk = new_batch();
                let mut chunk_lines: Vec<(u64, i64, Option<i64>)> = Vec::with_capacity(CHUNK_LINES);
                let mut sources: std::collections::HashMap<String, Account> = std::collections::HashMap::new();
                // A failed send means the writer stopped on an error, which
                // its join returns.
                let stopped = || StoreError::Database("the import's writer stopped".into());
                let mut read = read_manifest(&mut hashing, format, &name, &rules, |line: ManifestLine| {
                    let source = match sources.get(&line.donor) {
                        Some(account) => account.clone(),
                        None => {
                            let account = Account::source(&line.donor)
                                .map_err(|e| StoreError::Database(e.to_string()))?;
                            sources.insert(line.donor.clone(), account.clone());
                            account
                        }
                    };
                    let index = chunk.new_lots.len();
                    chunk_lines.push((line.line, line.quantity, line.packs));
                    chunk.transfers.push(TransferSpec {
                        lot: LotRef::New(index),
                        from: source,
                        to: inbound.clone(),
                        quantity: line.quantity,
                        corrects: None,
                    });
                    chunk.new_lots.push(LotSpec {
                        item: line.item,
                        donor: line.donor,
                        batch: line.batch,
                        expiry: line.expiry,
                        earmark: line.earmark,
                    });
                    if chunk.transfers.len() >= CHUNK_LINES {
                        let full = std::mem::replace(&mut chunk, new_batch());
                        let lines = std::mem::replace(&mut chunk_lines, Vec::with_capacity(CHUNK_LINES));
                        chunks.send((full, lines)).map_err(|_| stopped())?;
                        progress(2, bytes.get());
                    }
                    Ok(())
                });
                if read.is_ok()
                    && !chunk.transfers.is_empty()
                    && chunks.send((chunk, chunk_lines)).is_err()
                {
                    read = Err(ReadError::Sink(stopped()));
                }
                drop(chunks);
                let written = match writer.join() {
                    Ok(written) => written,
                    Err(panic) => std::panic::resume_unwind(panic),
                };
                (read, written)
            });
            // The writer's error is the cause when both failed.
            written?;
            match read {
                Ok(_) => {}
                Err(ReadError::Sink(e)) => return Err(e),
                Err(ReadError::Input(e)) => {
                    return Err(aborted.abort(OpsError::Input(e)));
                }
            }
            let second: [u8; 32] = hashing.hasher.finalize().into();
            if second != file_digest {
                return Err(aborted.abort(OpsError::refused(
                    Code::FileUnreadable,
                    "file",
                    &name,
                    format!("`{name}` changed while it was being imported; nothing was written. Import it again"),
                )));
            }
            progress(2, bytes.get());
            let batch_id = stream.batch_id();
            stream.conn().execute(
                "INSERT INTO manifests (leg_code, idem_key, file_name, content_digest, line_count, total_quantity, batch_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    leg_code.into(),
                    (&key).into(),
                    (&name).into(),
                    (&file_digest_hex).into(),
                    (summary.lines as i64).into(),
                    summary.total_quantity.into(),
                    batch_id.into(),
                ],
            )?;
            Ok(())
        });
        let (applied, fresh) = aborted.resolve(result)?;
        Ok(ManifestImported {
            leg: leg_code.to_string(),
            key,
            lines: summary.lines as i64,
            total_quantity: summary.total_quantity,
            batch_id: applied.batch_id,
            replayed: fresh.is_none(),
            file_digest: file_digest_hex,
        })
    }
}

/// What a manifest line is checked against.
fn manifest_rules(refs: crate::Refs, leg: &NewLeg) -> ManifestRules {
    ManifestRules {
        items_needing_expiry: refs
            .items
            .values()
            .filter(|i| i.needs_expiry)
            .map(|i| i.code.clone())
            .collect(),
        items: refs.items.keys().cloned().collect(),
        donors: refs.donors,
        default_donor: leg.donor.clone(),
        countries: refs.countries,
    }
}

pub(crate) fn load_leg(
    conn: &mut dyn reliefhub_store::Conn,
    code: &str,
) -> Result<Option<NewLeg>, StoreError> {
    let rows = conn.query(
        "SELECT code, mode, origin, node, carrier, vehicle_ref, expected_arrival, donor FROM inbound_legs WHERE code = $1",
        &[code.into()],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(NewLeg {
        code: row[0].text()?,
        mode: Mode::parse(&row[1].text()?).ok_or_else(|| StoreError::Corrupt("leg mode".into()))?,
        origin: row[2].text()?,
        node: row[3].text()?,
        carrier: row[4].text()?,
        vehicle_ref: row[5].text()?,
        expected_arrival: date(&row[6])?,
        donor: row[7].opt_text()?,
    }))
}

impl Ops {
    /// Moves an inbound leg's expected arrival (a ship or flight running
    /// late or early). Returns true if the date changed.
    pub fn reschedule_leg(
        &mut self,
        code: &str,
        expected_arrival: Date,
        at: Moment,
    ) -> Result<bool, OpsError> {
        let mut errors = Vec::new();
        check_calendar("expected_arrival", expected_arrival, at, &mut errors);
        refuse_if(errors)?;
        let leg = self.leg(code)?;
        if leg.expected_arrival == expected_arrival {
            return Ok(false);
        }
        self.store.write(|conn| {
            conn.execute(
                "UPDATE inbound_legs SET expected_arrival = $1 WHERE code = $2",
                &[date_text(expected_arrival).into(), code.into()],
            )
        })?;
        Ok(true)
    }
}
