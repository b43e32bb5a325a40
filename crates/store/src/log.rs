//! The operation log in the database: one record per operation, appended in
//! the operation's own transaction, the leaves of an RFC 6962 Merkle tree
//! ([`reliefhub_core::merkle`]) whose complete subtrees are stored in
//! `merkle_nodes`, and the documents each operation wrote (digests of row
//! groups, found generically through `op_touched`, which the document
//! tables' triggers fill).
//!
//! Written once over [`Conn`]; the leaf encoding is the core's
//! ([`reliefhub_core::oplog`]).

use std::collections::{BTreeMap, HashMap};

use reliefhub_core::ledger::{Hash32, GENESIS_HASH};
use reliefhub_core::merkle::{self, Nodes};
use reliefhub_core::oplog::{
    BatchLink, ContentsBuilder, DocumentDigest, EntryContent, OperationRecord,
};
use sha2::{Digest, Sha256};

use crate::db::{Backend, Conn, Value};
use crate::StoreError;

/// A table whose rows are documents, and how its rows group into documents.
#[derive(Debug, Clone, Copy)]
pub struct DocumentTable {
    pub table: &'static str,
    /// The grouping column (a document is the rows sharing its value); None
    /// when the whole table is one document (master data).
    pub key: Option<&'static str>,
    /// Whether the grouping column holds integers.
    pub key_is_int: bool,
    /// What an operation that only writes this table is called.
    pub noun: &'static str,
}

const fn doc(
    table: &'static str,
    key: &'static str,
    key_is_int: bool,
    noun: &'static str,
) -> DocumentTable {
    DocumentTable {
        table,
        key: Some(key),
        key_is_int,
        noun,
    }
}

const fn master(table: &'static str) -> DocumentTable {
    DocumentTable {
        table,
        key: None,
        key_is_int: false,
        noun: "master-data",
    }
}

/// Every document table (the triggers of migration 10 cover exactly these).
pub const DOCUMENT_TABLES: &[DocumentTable] = &[
    doc("op_requests", "idem_key", false, "operation"),
    doc("pledges", "code", false, "pledge"),
    doc("pledge_lines", "pledge_code", false, "pledge"),
    doc("inbound_legs", "code", false, "leg"),
    doc("manifests", "leg_code", false, "manifest"),
    doc("manifest_lines", "leg_code", false, "manifest"),
    doc("receipts", "id", true, "receipt"),
    doc("receipt_lines", "leg_code", false, "receipt"),
    doc("hub_transfers", "code", false, "transfer"),
    doc("hub_transfer_lines", "transfer_code", false, "transfer"),
    doc("requests", "code", false, "request"),
    doc("departures", "code", false, "departure"),
    doc("loading_lines", "departure_code", false, "departure"),
    doc("deliveries", "departure_code", false, "delivery"),
    doc("delivery_lines", "departure_code", false, "delivery"),
    doc("stock_events", "batch_id", true, "stock"),
    doc("corrections", "batch_id", true, "correction"),
    doc("plans", "id", true, "plan"),
    master("items"),
    master("organisations"),
    master("nodes"),
    master("destinations"),
    master("countries"),
    master("airports"),
];

fn document_table(name: &str) -> Option<&'static DocumentTable> {
    DOCUMENT_TABLES.iter().find(|t| t.table == name)
}

fn hash32(bytes: &[u8]) -> Option<Hash32> {
    bytes.try_into().ok()
}

/// The column names of a table, in schema order.
pub(crate) fn columns(conn: &mut dyn Conn, table: &str) -> Result<Vec<String>, StoreError> {
    let rows = match conn.backend() {
        Backend::Sqlite => conn.query(
            "SELECT name FROM pragma_table_info($1) ORDER BY cid",
            &[table.into()],
        )?,
        Backend::Postgres => conn.query(
            "SELECT column_name::TEXT FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            &[table.into()],
        )?,
    };
    rows.iter().map(|r| r[0].text()).collect()
}

/// The digest of one row: its non-NULL columns by name, each a typed value
/// (a column added later as NULL leaves earlier digests unchanged).
fn row_digest(names: &[String], row: &[Value]) -> [u8; 32] {
    let mut cells: Vec<(&str, &Value)> = names
        .iter()
        .map(String::as_str)
        .zip(row.iter())
        .filter(|(_, v)| !matches!(v, Value::Null))
        .collect();
    cells.sort_by(|a, b| a.0.cmp(b.0));
    let mut hasher = Sha256::new();
    hasher.update((cells.len() as u64).to_be_bytes());
    for (name, value) in cells {
        hasher.update((name.len() as u64).to_be_bytes());
        hasher.update(name.as_bytes());
        match value {
            Value::Null => {}
            Value::Int(v) => {
                hasher.update(b"i");
                hasher.update(v.to_be_bytes());
            }
            Value::Real(v) => {
                hasher.update(b"r");
                hasher.update(v.to_bits().to_be_bytes());
            }
            Value::Text(v) => {
                hasher.update(b"t");
                hasher.update((v.len() as u64).to_be_bytes());
                hasher.update(v.as_bytes());
            }
            Value::Bytes(v) => {
                hasher.update(b"b");
                hasher.update((v.len() as u64).to_be_bytes());
                hasher.update(v);
            }
        }
    }
    hasher.finalize().into()
}

/// The digest of a document: the table, its key and the sorted digests of
/// its rows (so the order rows come back in does not matter).
fn group_digest(table: &str, key: &str, mut rows: Vec<[u8; 32]>) -> Hash32 {
    rows.sort_unstable();
    let mut hasher = Sha256::new();
    hasher.update(b"reliefhub-document/1");
    for text in [table, key] {
        hasher.update((text.len() as u64).to_be_bytes());
        hasher.update(text.as_bytes());
    }
    hasher.update((rows.len() as u64).to_be_bytes());
    for row in &rows {
        hasher.update(row);
    }
    hasher.finalize().into()
}

/// The current digest of one document.
pub(crate) fn document_digest(
    conn: &mut dyn Conn,
    names: &mut HashMap<&'static str, Vec<String>>,
    table: &DocumentTable,
    key: &str,
) -> Result<Hash32, StoreError> {
    if !names.contains_key(table.table) {
        let found = columns(conn, table.table)?;
        names.insert(table.table, found);
    }
    let cols = &names[table.table];
    let list = cols
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = match table.key {
        None => conn.query(&format!("SELECT {list} FROM {}", table.table), &[])?,
        Some(column) => {
            let param = if table.key_is_int {
                match key.parse::<i64>() {
                    Ok(v) => Value::Int(v),
                    Err(_) => return Ok(group_digest(table.table, key, Vec::new())),
                }
            } else {
                Value::Text(key.to_string())
            };
            conn.query(
                &format!("SELECT {list} FROM {} WHERE {column} = $1", table.table),
                &[param],
            )?
        }
    };
    let digests = rows.iter().map(|r| row_digest(cols, r)).collect();
    Ok(group_digest(table.table, key, digests))
}

/// Complete subtree hashes read from `merkle_nodes`.
pub(crate) struct DbNodes<'a> {
    pub conn: &'a mut dyn Conn,
}

impl Nodes for DbNodes<'_> {
    type Error = StoreError;
    fn node(&mut self, level: u32, index: u64) -> Result<merkle::Hash, StoreError> {
        let rows = self.conn.query(
            "SELECT hash FROM merkle_nodes WHERE level = $1 AND node_index = $2",
            &[i64::from(level).into(), (index as i64).into()],
        )?;
        let row = rows.first().ok_or_else(|| {
            StoreError::Corrupt(format!(
                "the operation log lacks its node {level}/{index}; run `reliefhub verify`"
            ))
        })?;
        hash32(&row[0].bytes()?)
            .ok_or_else(|| StoreError::Corrupt(format!("log node {level}/{index} is not 32 bytes")))
    }
}

/// The number of operations in the log.
pub(crate) fn tree_size(conn: &mut dyn Conn) -> Result<u64, StoreError> {
    Ok(conn.query(
        "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM operations",
        &[],
    )?[0][0]
        .int()?
        .max(0) as u64)
}

fn journal_head(conn: &mut dyn Conn) -> Result<Hash32, StoreError> {
    let rows = conn.query("SELECT hash FROM journal ORDER BY seq DESC LIMIT 1", &[])?;
    match rows.first() {
        None => Ok(GENESIS_HASH),
        Some(row) => Ok(hash32(&row[0].bytes()?).unwrap_or([0xff; 32])),
    }
}

/// What the caller of [`append`] knows about the operation.
pub(crate) struct NewOperation<'a> {
    pub kind: &'a str,
    pub key: &'a str,
    pub actor: &'a str,
    pub recorded_at_unix_ms: i64,
    pub batch: Option<BatchLink>,
    /// Commit to a salted contents tree (leaf format 2; migration 17).
    pub contents: bool,
    /// The contents tree's entry leaves as the batch computed them while
    /// writing its journal entries (with its secret); when absent or
    /// incomplete they are read back from the journal.
    pub entry_leaves: Option<ContentsBuilder>,
}

/// The journal entries `first_seq .. first_seq + count` with their lots,
/// in seq order, handed to `each` a chunk at a time.
pub(crate) fn each_entry_content(
    conn: &mut dyn Conn,
    first_seq: i64,
    count: i64,
    mut each: impl FnMut(EntryContent),
) -> Result<(), StoreError> {
    let end = first_seq + count;
    let mut at = first_seq;
    while at < end {
        let to = (at + 10_000).min(end);
        let rows = conn.query(
            "SELECT j.seq, j.lot_id, l.item, l.donor, l.batch, l.expiry, l.earmark, \
             j.from_account, j.to_account, j.quantity, j.corrects \
             FROM journal j JOIN lots l ON l.id = j.lot_id WHERE j.seq >= $1 AND j.seq < $2 ORDER BY j.seq",
            &[at.into(), to.into()],
        )?;
        for r in rows {
            let earmark = r[6].text()?;
            each(EntryContent {
                seq: r[0].int()?,
                lot_id: r[1].int()?,
                item: r[2].text()?,
                donor: r[3].text()?,
                batch: r[4].text()?,
                expiry: r[5].opt_text()?,
                earmark: if earmark.is_empty() {
                    Vec::new()
                } else {
                    earmark.split(',').map(str::to_string).collect()
                },
                from: r[7].text()?,
                to: r[8].text()?,
                quantity: r[9].int()?,
                corrects: r[10].opt_int()?,
            });
        }
        at = to;
    }
    Ok(())
}

/// A fresh secret for an operation's contents salts.
pub(crate) fn new_contents_secret() -> Result<Hash32, StoreError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| {
        StoreError::Database(format!("no randomness for an operation's salts: {e}"))
    })?;
    Ok(secret)
}

/// The root of an operation's contents tree, from the journal and its
/// documents (sorted by (table, key)).
pub(crate) fn contents_root(
    conn: &mut dyn Conn,
    secret: &Hash32,
    batch: Option<&BatchLink>,
    documents: &[DocumentDigest],
) -> Result<Hash32, StoreError> {
    let mut builder = ContentsBuilder::new(*secret);
    if let Some(link) = batch {
        each_entry_content(conn, link.first_seq, link.transfer_count, |e| {
            builder.push_entry(&e);
        })?;
        if builder.len() != link.transfer_count.max(0) as u64 {
            return Err(StoreError::Corrupt(format!(
                "batch {} has {} journal entries, its operation says {}",
                link.batch_id,
                builder.len(),
                link.transfer_count
            )));
        }
    }
    for document in documents {
        builder.push_document(document);
    }
    Ok(builder.root())
}

/// Appends one operation inside the caller's write transaction: takes the
/// documents noted in `op_touched` (those whose digest changed), and, when
/// the operation moved stock or changed a document, writes its record, its
/// documents and the Merkle nodes it completes. Returns its leaf index, or
/// None when nothing was recorded.
pub(crate) fn append(
    conn: &mut dyn Conn,
    with_documents: bool,
    op: NewOperation<'_>,
) -> Result<Option<u64>, StoreError> {
    let mut documents = Vec::new();
    let mut first_new = None;
    if with_documents {
        let touched = conn.query(
            "SELECT doc_table, doc_key FROM op_touched ORDER BY doc_table, doc_key",
            &[],
        )?;
        if !touched.is_empty() {
            conn.execute("DELETE FROM op_touched", &[])?;
        }
        let mut names = HashMap::new();
        for row in &touched {
            let (table_name, key) = (row[0].text()?, row[1].text()?);
            let Some(table) = document_table(&table_name) else {
                continue;
            };
            let digest = document_digest(conn, &mut names, table, &key)?;
            let last = conn.query(
                "SELECT digest FROM operation_documents WHERE doc_table = $1 AND doc_key = $2 \
                 ORDER BY leaf_index DESC LIMIT 1",
                &[table.table.into(), key.as_str().into()],
            )?;
            let unchanged = last
                .first()
                .map(|r| r[0].bytes())
                .transpose()?
                .is_some_and(|d| d == digest);
            if unchanged {
                continue;
            }
            if first_new.is_none() {
                first_new = Some((table, key.clone(), last.is_empty()));
            }
            documents.push(DocumentDigest {
                table: table.table.to_string(),
                key,
                digest,
            });
        }
    }
    if op.batch.is_none() && documents.is_empty() {
        return Ok(None);
    }
    documents.sort();
    // An operation that moved no stock is named after the document it wrote.
    let (kind, key) = if op.kind.is_empty() {
        match &first_new {
            Some((table, key, new)) => (
                format!("{}.{}", table.noun, if *new { "add" } else { "change" }),
                if key.is_empty() {
                    table.table.to_string()
                } else {
                    format!("{}:{key}", table.noun)
                },
            ),
            None => ("documents".to_string(), String::new()),
        }
    } else {
        (op.kind.to_string(), op.key.to_string())
    };
    let index = tree_size(conn)?;
    let chain = match &op.batch {
        Some(link) => link.chain_after,
        None => journal_head(conn)?,
    };
    let expected_entries = op
        .batch
        .as_ref()
        .map_or(0, |b| b.transfer_count.max(0) as u64);
    let (secret, contents_root) = if op.contents {
        match op.entry_leaves {
            Some(mut builder) if builder.len() == expected_entries => {
                for document in &documents {
                    builder.push_document(document);
                }
                (Some(*builder.secret()), Some(builder.root()))
            }
            _ => {
                let secret = new_contents_secret()?;
                let root = contents_root(conn, &secret, op.batch.as_ref(), &documents)?;
                (Some(secret), Some(root))
            }
        }
    } else {
        (None, None)
    };
    let record = OperationRecord {
        leaf_index: index,
        kind,
        key,
        actor: op.actor.to_string(),
        recorded_at_unix_ms: op.recorded_at_unix_ms,
        batch: op.batch,
        chain,
        documents,
        contents_root,
    };
    let leaf = record.leaf_hash();
    let (batch_id, first_seq, count, before, after) = match &record.batch {
        Some(b) => (
            Value::Int(b.batch_id),
            b.first_seq,
            b.transfer_count,
            b.chain_before,
            b.chain_after,
        ),
        None => (Value::Null, 0, 0, chain, chain),
    };
    let mut params = vec![
        (index as i64).into(),
        record.kind.as_str().into(),
        record.key.as_str().into(),
        record.actor.as_str().into(),
        record.recorded_at_unix_ms.into(),
        batch_id,
        first_seq.into(),
        count.into(),
        Value::Bytes(before.to_vec()),
        Value::Bytes(after.to_vec()),
        Value::Bytes(leaf.to_vec()),
    ];
    let sql = match (secret, contents_root) {
        (Some(secret), Some(root)) => {
            params.push(Value::Bytes(secret.to_vec()));
            params.push(Value::Bytes(root.to_vec()));
            "INSERT INTO operations (leaf_index, kind, op_key, actor, recorded_at_unix_ms, batch_id, first_seq, \
             transfer_count, chain_before, chain_after, leaf_hash, contents_secret, contents_root) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        }
        _ => {
            "INSERT INTO operations (leaf_index, kind, op_key, actor, recorded_at_unix_ms, batch_id, first_seq, \
             transfer_count, chain_before, chain_after, leaf_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        }
    };
    conn.execute(sql, &params)?;
    for document in &record.documents {
        conn.execute(
            "INSERT INTO operation_documents (doc_table, doc_key, leaf_index, digest) VALUES ($1, $2, $3, $4)",
            &[
                document.table.as_str().into(),
                document.key.as_str().into(),
                (index as i64).into(),
                Value::Bytes(document.digest.to_vec()),
            ],
        )?;
    }
    let nodes = merkle::append(index, leaf, |level, at| {
        DbNodes { conn: &mut *conn }.node(level, at)
    })?;
    for (level, at, hash) in nodes {
        conn.execute(
            "INSERT INTO merkle_nodes (level, node_index, hash) VALUES ($1, $2, $3)",
            &[
                i64::from(level).into(),
                (at as i64).into(),
                Value::Bytes(hash.to_vec()),
            ],
        )?;
    }
    Ok(Some(index))
}

/// One stored operation, as the audit log lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRow {
    pub leaf_index: u64,
    pub kind: String,
    pub key: String,
    pub actor: String,
    pub recorded_at_unix_ms: i64,
    pub batch: Option<BatchLink>,
    pub chain: Hash32,
    pub documents: Vec<DocumentDigest>,
    pub leaf_hash: Hash32,
    /// Leaf format 2: the secret its salts derive from and its contents
    /// root (None for format 1).
    pub contents: Option<(Hash32, Hash32)>,
}

impl OperationRow {
    pub fn record(&self) -> OperationRecord {
        OperationRecord {
            leaf_index: self.leaf_index,
            kind: self.kind.clone(),
            key: self.key.clone(),
            actor: self.actor.clone(),
            recorded_at_unix_ms: self.recorded_at_unix_ms,
            batch: self.batch.clone(),
            chain: self.chain,
            documents: self.documents.clone(),
            contents_root: self.contents.map(|(_, root)| root),
        }
    }
}

/// The columns of an operation; the last two exist from migration 17 on.
const OPERATION_COLUMNS_V1: &str =
    "leaf_index, kind, op_key, actor, recorded_at_unix_ms, batch_id, first_seq, \
    transfer_count, chain_before, chain_after, leaf_hash";
const OPERATION_COLUMNS: &str =
    "leaf_index, kind, op_key, actor, recorded_at_unix_ms, batch_id, first_seq, \
    transfer_count, chain_before, chain_after, leaf_hash, contents_secret, contents_root";

/// Whether the operations table has the contents columns (migration 17).
fn has_contents(conn: &mut dyn Conn) -> Result<bool, StoreError> {
    Ok(crate::migrations::current_version(conn)? >= crate::migrations::CONTENTS_VERSION)
}

fn operation_from_row(row: &[Value]) -> Result<OperationRow, StoreError> {
    let bad =
        |what: &str| StoreError::Corrupt(format!("operation {:?}: {what} is not 32 bytes", row[0]));
    let before = hash32(&row[8].bytes()?).ok_or_else(|| bad("chain_before"))?;
    let after = hash32(&row[9].bytes()?).ok_or_else(|| bad("chain_after"))?;
    let batch = match row[5].opt_int()? {
        None => None,
        Some(batch_id) => Some(BatchLink {
            batch_id,
            first_seq: row[6].int()?,
            transfer_count: row[7].int()?,
            chain_before: before,
            chain_after: after,
        }),
    };
    Ok(OperationRow {
        leaf_index: row[0].int()?.max(0) as u64,
        kind: row[1].text()?,
        key: row[2].text()?,
        actor: row[3].text()?,
        recorded_at_unix_ms: row[4].int()?,
        batch,
        chain: after,
        documents: Vec::new(),
        leaf_hash: hash32(&row[10].bytes()?).ok_or_else(|| bad("leaf_hash"))?,
        contents: match (row.get(11), row.get(12)) {
            (Some(Value::Null) | None, Some(Value::Null) | None) => None,
            (Some(secret), Some(root)) => Some((
                hash32(&secret.bytes()?).ok_or_else(|| bad("contents_secret"))?,
                hash32(&root.bytes()?).ok_or_else(|| bad("contents_root"))?,
            )),
            _ => return Err(bad("contents_secret or contents_root")),
        },
    })
}

/// Operations `from..to` (leaf indexes), with their documents.
pub(crate) fn operations(
    conn: &mut dyn Conn,
    from: u64,
    to: u64,
) -> Result<Vec<OperationRow>, StoreError> {
    let mut out = Vec::new();
    let mut at = from;
    let columns = if has_contents(conn)? {
        OPERATION_COLUMNS
    } else {
        OPERATION_COLUMNS_V1
    };
    while at < to {
        let rows = conn.query(
            &format!("SELECT {columns} FROM operations WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index LIMIT 10000"),
            &[(at as i64).into(), (to as i64).into()],
        )?;
        if rows.is_empty() {
            break;
        }
        let mut chunk: Vec<OperationRow> = rows
            .iter()
            .map(|r| operation_from_row(r))
            .collect::<Result<_, _>>()?;
        let first = chunk[0].leaf_index;
        let last = chunk[chunk.len() - 1].leaf_index;
        let docs = conn.query(
            "SELECT leaf_index, doc_table, doc_key, digest FROM operation_documents \
             WHERE leaf_index >= $1 AND leaf_index <= $2",
            &[(first as i64).into(), (last as i64).into()],
        )?;
        let mut by_leaf: HashMap<u64, Vec<DocumentDigest>> = HashMap::new();
        for d in docs {
            by_leaf
                .entry(d[0].int()?.max(0) as u64)
                .or_default()
                .push(DocumentDigest {
                    table: d[1].text()?,
                    key: d[2].text()?,
                    digest: hash32(&d[3].bytes()?).unwrap_or([0xff; 32]),
                });
        }
        for op in &mut chunk {
            if let Some(mut docs) = by_leaf.remove(&op.leaf_index) {
                docs.sort();
                op.documents = docs;
            }
        }
        at = last + 1;
        out.extend(chunk);
    }
    Ok(out)
}

/// The operations whose batches are the given ones, by batch id.
pub(crate) fn operations_of_batches(
    conn: &mut dyn Conn,
    batch_ids: &[i64],
) -> Result<BTreeMap<u64, OperationRow>, StoreError> {
    let mut out = BTreeMap::new();
    for chunk in batch_ids.chunks(500) {
        let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let params: Vec<Value> = chunk.iter().map(|id| Value::Int(*id)).collect();
        let rows = conn.query(
            &format!(
                "SELECT leaf_index FROM operations WHERE batch_id IN ({})",
                list.join(", ")
            ),
            &params,
        )?;
        for row in rows {
            let index = row[0].int()?.max(0) as u64;
            if let Some(op) = operations(conn, index, index + 1)?.pop() {
                out.insert(index, op);
            }
        }
    }
    Ok(out)
}

/// The first problem `verify` found in the operation log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogFailure {
    #[error("operation {index} ({kind} `{key}` by {actor}): {rule}")]
    Operation {
        index: u64,
        kind: String,
        key: String,
        actor: String,
        rule: String,
    },
    #[error("{0}")]
    Log(String),
}

impl LogFailure {
    fn of(op: &OperationRow, rule: impl Into<String>) -> LogFailure {
        LogFailure::Operation {
            index: op.leaf_index,
            kind: op.kind.clone(),
            key: op.key.clone(),
            actor: op.actor.clone(),
            rule: rule.into(),
        }
    }

    /// The operation at fault, when the failure is an operation's.
    pub fn operation(&self) -> Option<u64> {
        match self {
            LogFailure::Operation { index, .. } => Some(*index),
            LogFailure::Log(_) => None,
        }
    }
}

/// What a successful check of the log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSummary {
    pub operations: u64,
    pub documents: u64,
    pub root_hash: Hash32,
}

/// Checks the whole log inside the caller's read snapshot: every leaf
/// recomputed from its record, every stored Merkle node recomputed from the
/// leaves, every operation's journal entries and batch, every batch in
/// exactly one operation, and every document as the last operation that
/// wrote it left it.
pub(crate) fn verify(
    conn: &mut dyn Conn,
    with_documents: bool,
) -> Result<Result<LogSummary, LogFailure>, StoreError> {
    let size = tree_size(conn)?;
    let ops = operations(conn, 0, size)?;
    let mut stored_nodes: HashMap<(u32, u64), Hash32> = HashMap::new();
    for row in conn.query("SELECT level, node_index, hash FROM merkle_nodes", &[])? {
        stored_nodes.insert(
            (
                row[0].int()?.clamp(0, 64) as u32,
                row[1].int()?.max(0) as u64,
            ),
            hash32(&row[2].bytes()?).unwrap_or([0xff; 32]),
        );
    }
    let mut batches: HashMap<i64, (i64, i64)> = HashMap::new();
    for row in conn.query("SELECT id, first_seq, transfer_count FROM batches", &[])? {
        batches.insert(row[0].int()?, (row[1].int()?, row[2].int()?));
    }
    let mut computed: HashMap<(u32, u64), Hash32> = HashMap::new();
    let mut chain = GENESIS_HASH;
    let mut latest: HashMap<(String, String), usize> = HashMap::new();
    for (position, op) in ops.iter().enumerate() {
        if op.leaf_index != position as u64 {
            return Ok(Err(LogFailure::Log(format!(
                "operation {position} is missing from the log (operation {} stands in its place)",
                op.leaf_index
            ))));
        }
        if let Some((secret, root)) = &op.contents {
            let recomputed = match contents_root(conn, secret, op.batch.as_ref(), &op.documents) {
                Ok(recomputed) => recomputed,
                Err(StoreError::Corrupt(reason)) => return Ok(Err(LogFailure::of(op, reason))),
                Err(e) => return Err(e),
            };
            if recomputed != *root {
                return Ok(Err(LogFailure::of(
                    op,
                    "its journal entries or documents do not hash to the contents root it recorded; they were altered",
                )));
            }
        }
        let leaf = op.record().leaf_hash();
        if leaf != op.leaf_hash || stored_nodes.get(&(0, op.leaf_index)) != Some(&leaf) {
            return Ok(Err(LogFailure::of(
                op,
                "its record does not hash to the leaf stored in the log; the record was altered",
            )));
        }
        let new = merkle::append::<()>(op.leaf_index, leaf, |level, at| {
            Ok(computed.get(&(level, at)).copied().unwrap_or([0; 32]))
        })
        .unwrap_or_default();
        for (level, at, hash) in new {
            if stored_nodes.get(&(level, at)) != Some(&hash) {
                return Ok(Err(LogFailure::of(
                    op,
                    format!("the log's Merkle node {level}/{at} does not match the operations"),
                )));
            }
            computed.insert((level, at), hash);
        }
        match &op.batch {
            None => {
                if op.chain != chain {
                    return Ok(Err(LogFailure::of(
                        op,
                        "it does not follow the journal as it stood when it was recorded",
                    )));
                }
            }
            Some(link) => {
                if link.chain_before != chain {
                    return Ok(Err(LogFailure::of(op, format!(
                        "its batch {} does not follow the journal entries of the operation before it",
                        link.batch_id
                    ))));
                }
                match batches.remove(&link.batch_id) {
                    Some((first, count)) if first == link.first_seq && count == link.transfer_count => {}
                    Some((first, count)) => {
                        return Ok(Err(LogFailure::of(op, format!(
                            "it recorded batch {} as {} entries from {}, the batch says {count} from {first}",
                            link.batch_id, link.transfer_count, link.first_seq
                        ))))
                    }
                    None => {
                        return Ok(Err(LogFailure::of(op, format!("its batch {} is missing or recorded twice", link.batch_id))))
                    }
                }
                let last_seq = link.first_seq + link.transfer_count - 1;
                let hashes = conn.query(
                    "SELECT seq, hash FROM journal WHERE seq = $1 OR seq = $2",
                    &[(link.first_seq - 1).into(), last_seq.into()],
                )?;
                let mut before = if link.first_seq == 1 {
                    Some(GENESIS_HASH)
                } else {
                    None
                };
                let mut after = None;
                for row in hashes {
                    let hash = hash32(&row[1].bytes()?);
                    if row[0].int()? == link.first_seq - 1 {
                        before = hash;
                    }
                    if row[0].int()? == last_seq {
                        after = hash;
                    }
                }
                if before != Some(link.chain_before) || after != Some(link.chain_after) {
                    return Ok(Err(LogFailure::of(
                        op,
                        format!(
                            "its journal entries {}..={last_seq} are missing or were changed",
                            link.first_seq
                        ),
                    )));
                }
                chain = link.chain_after;
            }
        }
        for document in &op.documents {
            latest.insert((document.table.clone(), document.key.clone()), position);
        }
    }
    if computed.len() != stored_nodes.len() {
        return Ok(Err(LogFailure::Log(format!(
            "the log stores {} Merkle nodes, its {size} operations make {}",
            stored_nodes.len(),
            computed.len()
        ))));
    }
    if let Some(batch_id) = batches.keys().min() {
        return Ok(Err(LogFailure::Log(format!(
            "batch {batch_id} is in no operation of the log"
        ))));
    }
    if chain != journal_head(conn)? {
        return Ok(Err(LogFailure::Log(
            "the journal has entries after the last operation of the log".to_string(),
        )));
    }
    let mut documents = 0_u64;
    if with_documents {
        let mut names = HashMap::new();
        let mut recorded: Vec<(&(String, String), &usize)> = latest.iter().collect();
        recorded.sort_by_key(|(_, position)| **position);
        for ((table_name, key), position) in recorded {
            let op = &ops[*position];
            let Some(table) = document_table(table_name) else {
                return Ok(Err(LogFailure::of(
                    op,
                    format!("it names an unknown document table `{table_name}`"),
                )));
            };
            let expected = op
                .documents
                .iter()
                .find(|d| &d.table == table_name && &d.key == key)
                .map(|d| d.digest);
            if Some(document_digest(conn, &mut names, table, key)?) != expected {
                return Ok(Err(LogFailure::of(op, format!(
                    "document {table_name} `{key}` is not as this operation, the last to write it, left it; it was changed outside any operation"
                ))));
            }
            documents += 1;
        }
        for table in DOCUMENT_TABLES {
            let sql = match table.key {
                Some(column) => format!("SELECT DISTINCT {column} FROM {}", table.table),
                None => format!("SELECT '' FROM {} LIMIT 1", table.table),
            };
            for row in conn.query(&sql, &[])? {
                let key = match &row[0] {
                    Value::Int(v) => v.to_string(),
                    Value::Null => String::new(),
                    other => other.text()?,
                };
                if !latest.contains_key(&(table.table.to_string(), key.clone())) {
                    return Ok(Err(LogFailure::Log(format!(
                        "document {} `{key}` was written outside any operation of the log",
                        table.table
                    ))));
                }
            }
        }
        let pending = conn.query("SELECT doc_table, doc_key FROM op_touched LIMIT 1", &[])?;
        if let Some(row) = pending.first() {
            return Ok(Err(LogFailure::Log(format!(
                "document {} `{}` was changed outside any operation of the log",
                row[0].text()?,
                row[1].text()?
            ))));
        }
    }
    let root_hash = merkle::root(&mut DbNodes { conn }, size)?;
    Ok(Ok(LogSummary {
        operations: size,
        documents,
        root_hash,
    }))
}

/// A signed tree head the hub published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHead {
    pub tree_size: u64,
    pub timestamp_ms: i64,
    pub root_hash: String,
    pub public_key: String,
    pub signature: String,
}

/// One journal entry with its batch header and lot, as a proof shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvedEntry {
    pub entry: reliefhub_core::ledger::JournalEntry,
    pub lot: reliefhub_core::LotSpec,
}

impl crate::Store {
    /// The number of operations in the log.
    pub fn log_size(&mut self) -> Result<u64, StoreError> {
        self.read_as_stored(tree_size)
    }

    /// The root hash of the first `size` operations, from the stored nodes.
    pub fn log_root(&mut self, size: u64) -> Result<Hash32, StoreError> {
        self.read_as_stored(|conn| merkle::root(&mut DbNodes { conn }, size))
    }

    /// The size and root hash of the log, read in one snapshot.
    pub fn log_head(&mut self) -> Result<(u64, Hash32), StoreError> {
        self.read_as_stored(|conn| {
            let size = tree_size(conn)?;
            Ok((size, merkle::root(&mut DbNodes { conn }, size)?))
        })
    }

    /// Operations `from..to` by leaf index, with their documents.
    pub fn log_operations(&mut self, from: u64, to: u64) -> Result<Vec<OperationRow>, StoreError> {
        self.read_as_stored(|conn| operations(conn, from, to))
    }

    /// The audit path of operation `index` in the tree of `size` operations.
    pub fn log_inclusion_proof(
        &mut self,
        index: u64,
        size: u64,
    ) -> Result<Vec<Hash32>, StoreError> {
        if index >= size {
            return Err(StoreError::Corrupt(format!(
                "operation {index} is not in a log of {size}"
            )));
        }
        self.read_as_stored(|conn| merkle::inclusion_proof(&mut DbNodes { conn }, index, size))
    }

    /// The consistency proof between the trees of `from` and `to` operations.
    pub fn log_consistency_proof(&mut self, from: u64, to: u64) -> Result<Vec<Hash32>, StoreError> {
        if from > to {
            return Err(StoreError::Corrupt(format!(
                "a log of {from} operations is not a prefix of one of {to}"
            )));
        }
        self.read_as_stored(|conn| merkle::consistency_proof(&mut DbNodes { conn }, from, to))
    }

    /// Checks the operation log (see [`verify`]) in one snapshot.
    pub fn verify_log(&mut self) -> Result<Result<LogSummary, LogFailure>, StoreError> {
        let level = self.log_level()?;
        if level == crate::store::LogLevel::None {
            return Ok(Err(LogFailure::Log(
                "the database has no operation log: run `reliefhub init`".into(),
            )));
        }
        self.read_as_stored(|conn| verify(conn, level == crate::store::LogLevel::Documents))
    }

    /// The operations that moved stock of a donor's lots, by leaf index.
    pub fn log_operations_of_donor(
        &mut self,
        donor: &str,
    ) -> Result<Vec<OperationRow>, StoreError> {
        self.read_as_stored(|conn| {
            let rows = conn.query(
                "SELECT DISTINCT j.batch_id FROM journal j JOIN lots l ON l.id = j.lot_id WHERE l.donor = $1",
                &[donor.into()],
            )?;
            let ids: Vec<i64> = rows.iter().map(|r| r[0].int()).collect::<Result<_, _>>()?;
            Ok(operations_of_batches(conn, &ids)?.into_values().collect())
        })
    }

    /// Journal entries `first_seq .. first_seq + count` as the leaves of an
    /// operation's contents tree show them.
    pub fn entry_contents(
        &mut self,
        first_seq: i64,
        count: i64,
    ) -> Result<Vec<EntryContent>, StoreError> {
        self.read_as_stored(|conn| {
            let mut out = Vec::new();
            each_entry_content(conn, first_seq, count, |e| out.push(e))?;
            Ok(out)
        })
    }

    /// Journal entries `first_seq .. first_seq + count` with their lots.
    pub fn journal_entries(
        &mut self,
        first_seq: i64,
        count: i64,
    ) -> Result<Vec<ProvedEntry>, StoreError> {
        self.read_as_stored(|conn| {
            let rows = conn.query(
                "SELECT j.seq, j.batch_id, j.lot_id, j.from_account, j.to_account, j.quantity, j.corrects, j.hash, \
                 l.item, l.donor, l.batch, l.expiry, l.earmark \
                 FROM journal j JOIN lots l ON l.id = j.lot_id WHERE j.seq >= $1 AND j.seq < $2 ORDER BY j.seq",
                &[first_seq.into(), (first_seq + count).into()],
            )?;
            rows.iter()
                .map(|r| {
                    let earmark = r[12].text()?;
                    Ok(ProvedEntry {
                        entry: reliefhub_core::ledger::JournalEntry {
                            seq: r[0].int()?,
                            batch_id: r[1].int()?,
                            lot_id: r[2].int()?,
                            from: r[3].text()?.into(),
                            to: r[4].text()?.into(),
                            quantity: r[5].int()?,
                            corrects: r[6].opt_int()?,
                            hash: hash32(&r[7].bytes()?).unwrap_or([0xff; 32]),
                        },
                        lot: reliefhub_core::LotSpec {
                            item: r[8].text()?,
                            donor: r[9].text()?,
                            batch: r[10].text()?,
                            expiry: r[11]
                                .opt_text()?
                                .and_then(|t| reliefhub_core::domain::parse_date(&t)),
                            earmark: if earmark.is_empty() {
                                Vec::new()
                            } else {
                                earmark.split(',').map(str::to_string).collect()
                            },
                        },
                    })
                })
                .collect()
        })
    }

    /// The header of a stored batch.
    pub fn batch_header(
        &mut self,
        batch_id: i64,
    ) -> Result<Option<reliefhub_core::ledger::BatchHeader>, StoreError> {
        self.read_as_stored(|conn| {
            let rows = conn.query(
                "SELECT id, idem_key, kind, content_digest, recorded_at_unix_ms FROM batches WHERE id = $1",
                &[batch_id.into()],
            )?;
            rows.first()
                .map(|r| {
                    Ok(reliefhub_core::ledger::BatchHeader {
                        id: r[0].int()?,
                        key: r[1].text()?,
                        kind: r[2].text()?,
                        content_digest: hash32(&r[3].bytes()?).unwrap_or([0xff; 32]),
                        recorded_at_unix_ms: r[4].int()?,
                    })
                })
                .transpose()
        })
    }

    /// Keeps a head the hub published (a head already kept is not doubled).
    pub fn keep_tree_head(&mut self, head: &StoredHead) -> Result<(), StoreError> {
        let head = head.clone();
        self.write(move |conn| {
            let found = conn.query(
                "SELECT COUNT(*) FROM tree_heads WHERE tree_size = $1 AND timestamp_ms = $2",
                &[(head.tree_size as i64).into(), head.timestamp_ms.into()],
            )?;
            if found[0][0].int()? == 0 {
                conn.execute(
                    "INSERT INTO tree_heads (tree_size, timestamp_ms, root_hash, public_key, signature) \
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        (head.tree_size as i64).into(),
                        head.timestamp_ms.into(),
                        head.root_hash.as_str().into(),
                        head.public_key.as_str().into(),
                        head.signature.as_str().into(),
                    ],
                )?;
            }
            Ok(())
        })
    }

    /// The heads the hub published, oldest first.
    pub fn tree_heads(&mut self) -> Result<Vec<StoredHead>, StoreError> {
        self.read_as_stored(|conn| {
            conn.query(
                "SELECT tree_size, timestamp_ms, root_hash, public_key, signature FROM tree_heads \
                 ORDER BY timestamp_ms, tree_size",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(StoredHead {
                    tree_size: r[0].int()?.max(0) as u64,
                    timestamp_ms: r[1].int()?,
                    root_hash: r[2].text()?,
                    public_key: r[3].text()?,
                    signature: r[4].text()?,
                })
            })
            .collect()
        })
    }

    /// Registers the hub's public key (hex); kept once.
    pub fn register_hub_key(
        &mut self,
        public_key: &str,
        now_unix_ms: i64,
    ) -> Result<(), StoreError> {
        let key = public_key.to_string();
        self.write(move |conn| {
            let found = conn.query(
                "SELECT COUNT(*) FROM hub_keys WHERE public_key = $1",
                &[key.as_str().into()],
            )?;
            if found[0][0].int()? == 0 {
                conn.execute(
                    "INSERT INTO hub_keys (public_key, created_at_unix_ms) VALUES ($1, $2)",
                    &[key.as_str().into(), now_unix_ms.into()],
                )?;
            }
            Ok(())
        })
    }

    /// The hub's registered public keys (hex), oldest first.
    pub fn hub_keys(&mut self) -> Result<Vec<String>, StoreError> {
        self.read_as_stored(|conn| {
            conn.query(
                "SELECT public_key FROM hub_keys ORDER BY created_at_unix_ms, public_key",
                &[],
            )?
            .iter()
            .map(|r| r[0].text())
            .collect()
        })
    }
}

/// After migration 9 or 10 on a database that already held data: an
/// operation for each batch written before the log (actor `unrecorded`),
/// then one that takes in the documents that existed before.
pub(crate) fn backfill(
    conn: &mut dyn Conn,
    now_unix_ms: i64,
    with_documents: bool,
) -> Result<(), StoreError> {
    const BEFORE: &str = "unrecorded (before the operation log)";
    let logged: i64 = conn.query(
        "SELECT COUNT(*) FROM operations WHERE batch_id IS NOT NULL",
        &[],
    )?[0][0]
        .int()?;
    let batches = conn.query(
        "SELECT id, idem_key, kind, recorded_at_unix_ms, first_seq, transfer_count FROM batches ORDER BY id",
        &[],
    )?;
    let contents = has_contents(conn)?;
    if logged == 0 {
        let mut chain = GENESIS_HASH;
        for b in &batches {
            let (first_seq, count) = (b[4].int()?, b[5].int()?);
            let last = conn.query(
                "SELECT hash FROM journal WHERE seq = $1",
                &[(first_seq + count - 1).into()],
            )?;
            let after = last
                .first()
                .map(|r| r[0].bytes())
                .transpose()?
                .and_then(|h| hash32(&h))
                .ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "batch {}: its last journal entry is missing; run `reliefhub verify`",
                        b[0].int().unwrap_or(0)
                    ))
                })?;
            let (kind, key) = (b[2].text()?, b[1].text()?);
            append(
                conn,
                false,
                NewOperation {
                    kind: &kind,
                    key: &key,
                    actor: BEFORE,
                    recorded_at_unix_ms: b[3].int()?,
                    batch: Some(BatchLink {
                        batch_id: b[0].int()?,
                        first_seq,
                        transfer_count: count,
                        chain_before: chain,
                        chain_after: after,
                    }),
                    contents,
                    entry_leaves: None,
                },
            )?;
            chain = after;
        }
    }
    if with_documents {
        for table in DOCUMENT_TABLES {
            let sql = match table.key {
                Some(column) => format!(
                    "INSERT INTO op_touched (doc_table, doc_key) SELECT DISTINCT '{}', CAST({column} AS TEXT) FROM {} \
                     WHERE {column} IS NOT NULL ON CONFLICT DO NOTHING",
                    table.table, table.table
                ),
                None => format!(
                    "INSERT INTO op_touched (doc_table, doc_key) SELECT '{}', '' FROM {} WHERE 1 = 1 LIMIT 1 ON CONFLICT DO NOTHING",
                    table.table, table.table
                ),
            };
            conn.execute(&sql, &[])?;
        }
        append(
            conn,
            true,
            NewOperation {
                kind: "documents.existing",
                key: "before the operation log",
                actor: BEFORE,
                recorded_at_unix_ms: now_unix_ms,
                batch: None,
                contents,
                entry_leaves: None,
            },
        )?;
    }
    Ok(())
}

impl crate::Store {
    /// The column names of a table, in schema order.
    pub fn table_columns(&mut self, table: &str) -> Result<Vec<String>, StoreError> {
        self.read_as_stored(|conn| columns(conn, table))
    }
}
