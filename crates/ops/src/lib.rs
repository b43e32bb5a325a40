//! Hub operations, from pledge to proof of delivery, over the ledger.
//!
//! Every workflow here is a function of [`Ops`] that takes the current time
//! (and, where dates matter, the current date) as arguments. Stock moves only
//! through ledger [`Batch`]es applied by the store; the tables this crate
//! writes hold documents (pledges, legs, manifests, receipts, requests,
//! departures, loading lists, deliveries) and are written in the same
//! transaction as the batch they go with, so a document exists exactly when
//! its stock movement does.
//!
//! Each operation that moves stock runs under an idempotency key: the same
//! request under the same key has one effect, and a different request under
//! a used key is refused. Keys default to one derived from the document code
//! (`pledge:P-001`, `manifest:LEG-1`) or from the request's content.

pub mod demo;
mod departure;
pub mod digest;
mod inbound;
pub mod master;
pub mod parse;
pub mod planning;
mod pledge;
mod receipt;
pub mod report;
mod request;
mod rules;
pub mod status;
mod stock;
pub mod table;
mod transfer;
pub mod trust;
pub mod whatif;

use std::collections::{HashMap, HashSet};

use reliefhub_core::domain::{format_date, parse_date};
use reliefhub_core::{Account, AccountKind, Batch, Item, LedgerError};
pub use reliefhub_core::{Code, Problem};
use reliefhub_formats::InputError;
use reliefhub_store::{Applied, Conn, Store, StoreError, Value};
pub(crate) use rules::account;
use time::Date;

pub use departure::{
    check_loading, Delivery, DeliveryLine, Departure, LoadLine, LoadingCheck, NewDelivery,
    NewDeparture, ProofOfDelivery, Service,
};
pub use inbound::{FileSource, Leg, ManifestImported, ManifestSource, MemorySource, Mode, NewLeg};
pub use master::{Change, DestinationFields, ItemFields, MasterChange, OrganisationFields};
pub use pledge::{check_own_pledge_code, NewPledge, PledgeLine};
pub use receipt::{DamagedTo, GoodsReceivedNote, GrnLine, NewReceipt, ReceiptLine};
pub use request::{NewRequest, RequestRow};
pub use status::{
    DepartureStatus, ExpiryState, LegStatus, PlanStatus, PledgeStatus, RequestStatus, StockState,
    TransferStatus,
};
pub use stock::{ExpiryAlert, StockRow, EXPIRY_WINDOW_MAX_DAYS};
pub use transfer::NewTransfer;

/// Everything an operation can fail with, each naming what to do.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{what} `{code}` does not exist")]
    NotFound { what: &'static str, code: String },
    /// The operation breaks rules of the hub: every problem found, each with
    /// its code, field, value and rule.
    #[error("refused, nothing was written:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Refused(Vec<Problem>),
    #[error("idempotency key `{0}` was already used for a different request; nothing was written. Use a new key for a new operation")]
    KeyReused(String),
    #[error("cannot read `{file}`: {message}")]
    Io { file: String, message: String },
}

impl OpsError {
    /// A refusal for one problem.
    pub(crate) fn refused(
        code: Code,
        field: impl Into<String>,
        value: impl ToString,
        rule: impl Into<String>,
    ) -> OpsError {
        OpsError::Refused(vec![Problem::new(code, field, value, rule)])
    }

    /// A refusal for one problem already made.
    pub(crate) fn problem(problem: Problem) -> OpsError {
        OpsError::Refused(vec![problem])
    }

    /// The problems of a refusal or of a file (empty for other errors).
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            OpsError::Refused(problems) => problems.clone(),
            OpsError::Input(input) => input
                .problems
                .iter()
                .map(|p| {
                    let field = match p.record {
                        Some(record) => format!("lines[{record}].{}", p.field),
                        None => p.field.clone(),
                    };
                    Problem::new(
                        p.code,
                        field,
                        &p.value,
                        format!("line {}: {}", p.line, p.rule),
                    )
                    .with("file", &input.file)
                    .with("line", p.line)
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl From<StoreError> for OpsError {
    /// The ledger's refusals said in the hub's words: stock, lots and nodes,
    /// not accounts.
    fn from(error: StoreError) -> OpsError {
        match error {
            StoreError::Rejected(errors) => {
                OpsError::Refused(errors.iter().map(ledger_problem).collect())
            }
            other => OpsError::Store(other),
        }
    }
}

/// Where an account's stock is, in words: `in stock at TARTUS-PORT`.
pub fn place_in_words(account: &str) -> String {
    let Ok(parsed) = Account::parse(account) else {
        return account.to_string();
    };
    let reference = parsed.reference().to_string();
    match parsed.kind() {
        AccountKind::Source => format!("outside the hub (donor {reference})"),
        AccountKind::Pledged => format!("pledged by {reference} and not yet received"),
        AccountKind::InboundTransit => format!("inbound on leg {reference}"),
        AccountKind::AtNode => format!("in stock at {reference}"),
        AccountKind::Quarantine => format!("in quarantine at {reference}"),
        AccountKind::NodeTransit => format!("on hub transfer {reference}"),
        AccountKind::OutboundTransit => format!("loaded on departure {reference}"),
        AccountKind::Delivered => format!("delivered at {reference}"),
        AccountKind::Loss => format!("written off as {reference}"),
    }
}

/// One refusal of the ledger as a problem in the hub's words.
fn ledger_problem(error: &LedgerError) -> Problem {
    match error {
        LedgerError::InsufficientBalance {
            account,
            lot,
            before,
            debit,
            ..
        } => Problem::new(
            Code::NotEnoughStock,
            "lot",
            lot,
            format!(
                "lot {lot} has {before} {}; the operation takes {debit}",
                place_in_words(account)
            ),
        )
        .with("lot", lot)
        .with("place", place_in_words(account))
        .with("available", before)
        .with("needed", debit),
        LedgerError::BadQuantity { quantity, .. } => Problem::new(
            if *quantity <= 0 {
                Code::QuantityNotPositive
            } else {
                Code::QuantityTooLarge
            },
            "quantity",
            quantity,
            format!(
                "a quantity is a whole number from 1 to {}",
                reliefhub_core::ledger::QUANTITY_MAX
            ),
        ),
        LedgerError::UnknownLot { lot, .. } => Problem::new(
            Code::UnknownLot,
            "lot",
            lot,
            format!("lot {lot} does not exist"),
        ),
        LedgerError::UnknownItem { item, .. } => Problem::new(
            Code::UnknownItem,
            "item",
            item,
            format!("item `{item}` is not in the catalogue"),
        ),
        LedgerError::UnknownDonor { donor, .. } => Problem::new(
            Code::UnknownDonor,
            "donor",
            donor,
            format!("`{donor}` is not a known donor organisation"),
        ),
        LedgerError::BadEarmark { code, .. } => Problem::new(
            Code::EarmarkNotACountry,
            "earmark",
            code,
            "an earmark lists ISO 3166-1 alpha-2 country codes",
        ),
        other => Problem::new(Code::LedgerRule, "", "", other.to_string()),
    }
}

/// The moment an operation happens: the clock and the hub's calendar date.
/// The core never reads the clock; the caller (CLI, demo, tests) passes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub unix_ms: i64,
    pub date: Date,
}

impl Moment {
    /// The moment of a calendar date at noon UTC.
    pub fn on(date: Date) -> Moment {
        let midnight = date.midnight().assume_utc().unix_timestamp();
        Moment {
            unix_ms: (midnight + 12 * 3600) * 1000,
            date,
        }
    }

    /// The moment of a Unix time in milliseconds (date in UTC).
    pub fn from_unix_ms(unix_ms: i64) -> Moment {
        let date = time::OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000))
            .map(|t| t.date())
            .unwrap_or(Date::MIN);
        Moment { unix_ms, date }
    }
}

/// The result of an operation that moves stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub applied: Applied,
    /// The document the operation made (a pledge code, a receipt number).
    pub reference: String,
    /// True when the key had been used for the same request before, and
    /// nothing changed now.
    pub replayed: bool,
}

/// The hub's operations over one store.
pub struct Ops {
    store: Store,
}

/// Reference codes and the catalogue, read once per operation.
pub(crate) struct Refs {
    pub items: HashMap<String, Item>,
    pub donors: HashSet<String>,
    pub nodes: HashSet<String>,
    pub destinations: HashSet<String>,
    /// Country codes imported with `refdata countries` (the built-in list
    /// is always known besides).
    pub countries: HashSet<String>,
    /// Node code -> kind (`port`, `airport`).
    pub node_kinds: HashMap<String, String>,
    /// Destination UN/LOCODE -> (has a seaport, has an airport).
    pub destination_ports: HashMap<String, (bool, bool)>,
    /// IATA codes of imported airports (empty when none were imported).
    pub airports: HashSet<String>,
}

/// The abort signal of a closure that runs inside a store transaction: the
/// real error is kept aside, and the store rolls back.
pub(crate) struct Aborted(pub Option<OpsError>);

impl Aborted {
    pub fn new() -> Aborted {
        Aborted(None)
    }
    pub fn abort(&mut self, error: OpsError) -> StoreError {
        self.0 = Some(error);
        StoreError::Database("operation aborted".to_string())
    }
    pub fn resolve<T>(self, result: Result<T, StoreError>) -> Result<T, OpsError> {
        match (result, self.0) {
            (Ok(value), _) => Ok(value),
            (Err(_), Some(error)) => Err(error),
            (Err(error), None) => Err(error.into()),
        }
    }
}

impl Ops {
    /// Opens the database a `--db` URL names; it must exist and be
    /// initialised (a mistyped path creates nothing).
    pub fn open(url: &str) -> Result<Ops, OpsError> {
        require_existing(url)?;
        let mut store = Store::open(url)?;
        store.ensure_ready()?;
        Ok(Ops { store })
    }

    pub fn from_store(store: Store) -> Ops {
        Ops { store }
    }

    pub fn store(&mut self) -> &mut Store {
        &mut self.store
    }

    pub(crate) fn refs(&mut self) -> Result<Refs, OpsError> {
        let items = self.store.items()?;
        self.store
            .read(|conn| {
                let codes =
                    |conn: &mut dyn Conn, sql: &str| -> Result<HashSet<String>, StoreError> {
                        conn.query(sql, &[])?.iter().map(|r| r[0].text()).collect()
                    };
                Ok(Refs {
                    items: items.into_iter().map(|i| (i.code.clone(), i)).collect(),
                    donors: codes(conn, "SELECT code FROM organisations WHERE kind = 'donor'")?,
                    nodes: codes(conn, "SELECT code FROM nodes")?,
                    destinations: codes(conn, "SELECT locode FROM destinations")?,
                    countries: codes(conn, "SELECT alpha2 FROM countries")?,
                    node_kinds: conn
                        .query("SELECT code, kind FROM nodes", &[])?
                        .iter()
                        .map(|r| Ok((r[0].text()?, r[1].text()?)))
                        .collect::<Result<_, StoreError>>()?,
                    destination_ports: conn
                        .query(
                            "SELECT locode, seaport, COALESCE(airport, CASE WHEN iata IS NULL AND icao IS NULL THEN 0 ELSE 1 END) FROM destinations",
                            &[],
                        )?
                        .iter()
                        .map(|r| Ok((r[0].text()?, (r[1].int()? != 0, r[2].int()? != 0))))
                        .collect::<Result<_, StoreError>>()?,
                    airports: codes(conn, "SELECT iata FROM airports WHERE iata IS NOT NULL")?,
                })
            })
            .map_err(OpsError::from)
    }

    /// Runs one stock-moving operation under an idempotency key.
    ///
    /// `digest` identifies the request. If the key was used before for the
    /// same request, nothing happens and the first reference is returned; if
    /// for another, the operation is refused. Otherwise `build` reads what it
    /// needs and returns the batch (or refuses), and `record` writes the
    /// documents in the batch's own transaction and returns the reference.
    pub(crate) fn run<P>(
        &mut self,
        key: &str,
        kind: &str,
        digest: &str,
        now_unix_ms: i64,
        build: impl FnOnce(&mut dyn Conn) -> Result<(Batch, P), OpsError>,
        record: impl FnOnce(&mut dyn Conn, &Applied, P) -> Result<String, OpsError>,
    ) -> Result<Done, OpsError> {
        if let Some(done) = self.replayed(key, kind, digest)? {
            return Ok(done);
        }
        let mut aborted = Aborted::new();
        let built = self.store.read(|conn| Ok(build(conn)));
        let (mut batch, plan) = built??;
        batch.key = key.to_string();
        batch.kind = kind.to_string();
        let result = self.store.apply_with(&batch, now_unix_ms, |conn, applied| {
            let reference = record(conn, applied, plan).map_err(|e| aborted.abort(e))?;
            conn.execute(
                "INSERT INTO op_requests (idem_key, kind, request_digest, batch_id, reference, recorded_at_unix_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    key.into(),
                    kind.into(),
                    digest.into(),
                    applied.batch_id.into(),
                    (&reference).into(),
                    now_unix_ms.into(),
                ],
            )?;
            Ok(reference)
        });
        let (applied, reference) = aborted.resolve(result)?;
        match reference {
            Some(reference) => Ok(Done {
                applied,
                reference,
                replayed: false,
            }),
            // The store saw the key already applied (by a concurrent call).
            None => self
                .replayed(key, kind, digest)?
                .ok_or_else(|| OpsError::KeyReused(key.to_string())),
        }
    }

    /// The outcome of an operation already applied under `key`, if any. A
    /// key that recorded an operation of the same kind with other content
    /// is a document recorded twice with other details: the refusal names
    /// the document, not the key.
    fn replayed(&mut self, key: &str, kind: &str, digest: &str) -> Result<Option<Done>, OpsError> {
        let rows = self.store.read(|conn| {
            conn.query(
                "SELECT o.request_digest, o.reference, b.id, b.first_seq, b.transfer_count, o.kind \
                 FROM op_requests o JOIN batches b ON b.id = o.batch_id WHERE o.idem_key = $1",
                &[key.into()],
            )
        })?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        if row[0].text()? != digest {
            if row[5].text()? != kind {
                return Err(OpsError::KeyReused(key.to_string()));
            }
            let reference = row[1].text()?;
            return Err(OpsError::problem(
                Problem::new(
                    Code::DuplicateCode,
                    "code",
                    &reference,
                    format!(
                        "`{reference}` was already recorded with other details; nothing was written: \
                         a new document takes a new code, and a retry the same details"
                    ),
                )
                .with("key", key),
            ));
        }
        Ok(Some(Done {
            applied: Applied {
                batch_id: row[2].int()?,
                first_seq: row[3].int()?,
                transfer_count: row[4].int()?,
                lot_ids: Vec::new(),
                replayed: true,
            },
            reference: row[1].text()?,
            replayed: true,
        }))
    }
}

/// Fails unless an embedded database file exists at a `sqlite:` URL: only
/// `reliefhub init` creates a database, so a mistyped `--db` path leaves
/// nothing behind. Other URLs (PostgreSQL) are left to the connection.
pub fn require_existing(url: &str) -> Result<(), OpsError> {
    let Some(path) = url.strip_prefix("sqlite:") else {
        return Ok(());
    };
    let path = path.strip_prefix("//").unwrap_or(path);
    if path.is_empty() || path == ":memory:" || std::path::Path::new(path).exists() {
        return Ok(());
    }
    Err(OpsError::Store(StoreError::Connect(format!(
        "no database at `{path}`: check --db, or run `reliefhub init` to create one (only init creates a database)"
    ))))
}

/// Checks a document code: it becomes part of ledger account names.
pub(crate) fn check_code(what: &str, code: &str, errors: &mut Vec<Problem>) {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if !ok {
        errors.push(Problem::new(
            Code::BadCode,
            "code",
            code,
            format!("a {what} code is 1 to 64 letters, digits, `-`, `_`, `.` or `/`"),
        ));
    }
}

pub(crate) fn date_text(date: Date) -> String {
    format_date(date)
}

pub(crate) fn opt_date(value: &Value) -> Result<Option<Date>, StoreError> {
    match value.opt_text()? {
        None => Ok(None),
        Some(text) => parse_date(&text)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt(format!("date `{text}`"))),
    }
}

pub(crate) fn date(value: &Value) -> Result<Date, StoreError> {
    opt_date(value)?.ok_or_else(|| StoreError::Corrupt("missing date".to_string()))
}

/// Inserts rows with multi-row VALUES statements.
pub(crate) fn insert_rows(
    conn: &mut dyn Conn,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Value>],
) -> Result<(), StoreError> {
    let width = columns.len();
    let per_statement = (1000 / width).max(1);
    for chunk in rows.chunks(per_statement) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        for r in 0..chunk.len() {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..width {
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", 1 + r * width + c));
            }
            sql.push(')');
        }
        let params: Vec<Value> = chunk.iter().flatten().cloned().collect();
        conn.execute(&sql, &params)?;
    }
    Ok(())
}

/// The lots a query names, with their specs, for documents and reports.
pub(crate) fn lot_specs(
    conn: &mut dyn Conn,
    ids: &[i64],
) -> Result<HashMap<i64, reliefhub_core::LotSpec>, StoreError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let params: Vec<Value> = chunk.iter().map(|id| Value::Int(*id)).collect();
        let rows = conn.query(
            &format!(
                "SELECT id, item, donor, batch, expiry, earmark FROM lots WHERE id IN ({})",
                list.join(", ")
            ),
            &params,
        )?;
        for row in rows {
            let earmark = row[5].text()?;
            out.insert(
                row[0].int()?,
                reliefhub_core::LotSpec {
                    item: row[1].text()?,
                    donor: row[2].text()?,
                    batch: row[3].text()?,
                    expiry: opt_date(&row[4])?,
                    earmark: if earmark.is_empty() {
                        Vec::new()
                    } else {
                        earmark.split(',').map(str::to_string).collect()
                    },
                },
            );
        }
    }
    Ok(out)
}

/// The balance of each (account, lot) pair; zero when absent.
pub(crate) fn balance_of(conn: &mut dyn Conn, account: &str, lot: i64) -> Result<i64, StoreError> {
    let rows = conn.query(
        "SELECT quantity FROM balances WHERE account = $1 AND lot_id = $2",
        &[account.into(), lot.into()],
    )?;
    rows.first().map_or(Ok(0), |r| r[0].int())
}
pub mod views;
