//! Trust: the hub's Ed25519 signing key, signed tree heads over the
//! operation log, consistency with a head kept elsewhere, and donor proofs
//! that anyone can check on another machine with no database
//! ([`verify_proof`]).
//!
//! A tree head's signature covers the ASCII text
//! `reliefhub-tree-head/1\n{tree_size}\n{root_hash}\n{timestamp_ms}\n`
//! ([`reliefhub_core::oplog::tree_head_message`]). A donor proof is a signed
//! head, the readable content of every operation that moved the donor's
//! lots (its journal entries with their lots and batch header, its
//! documents' digests), each with its leaf hash and audit path, and the
//! donor's figures, which the checker recomputes from those entries.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use reliefhub_core::domain::{format_date, parse_date};
use reliefhub_core::ledger::{entry_hash, BatchHeader, Hash32};
use reliefhub_core::merkle;
use reliefhub_core::oplog::{
    contents_salt, document_leaf_bytes, entry_leaf_bytes, tree_head_message, BatchLink,
    DocumentDigest, EntryContent, OperationRecord, TREE_HEAD_FORMAT,
};
use reliefhub_core::LotSpec;
use reliefhub_store::{OperationRow, StoredHead};
use serde::{Deserialize, Serialize};

use crate::{Ops, OpsError};

/// The format tag of a donor proof.
pub const PROOF_FORMAT: &str = "reliefhub-proof/2";

/// The hub's signing key (the private half stays in its file).
pub struct HubKey {
    signing: SigningKey,
}

impl std::fmt::Debug for HubKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HubKey({})", self.public_hex())
    }
}

fn key_error(path: &Path, message: impl std::fmt::Display) -> OpsError {
    OpsError::Io {
        file: path.display().to_string(),
        message: message.to_string(),
    }
}

impl HubKey {
    /// The key file beside an SQLite database (`PATH.key` for `sqlite:PATH`);
    /// None for PostgreSQL, which needs `--key-file`.
    pub fn default_path(db_url: &str) -> Option<PathBuf> {
        let path = db_url.strip_prefix("sqlite:")?;
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        Some(PathBuf::from(format!("{path}.key")))
    }

    /// Reads the key file: 64 hex digits (the 32-byte secret) and a line
    /// end. A file others may read is refused.
    pub fn load(path: &Path) -> Result<HubKey, OpsError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(path).map_err(|e| key_error(path, e))?;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(key_error(
                    path,
                    format!("the hub's key file may be read by others (mode {mode:o}); run `chmod 600 {}`", path.display()),
                ));
            }
        }
        let text = std::fs::read_to_string(path).map_err(|e| key_error(path, e))?;
        let bytes = hex::decode(text.trim())
            .map_err(|_| key_error(path, "not a key file: expected 64 hex digits"))?;
        let secret: [u8; 32] = bytes
            .try_into()
            .map_err(|_| key_error(path, "not a key file: expected 64 hex digits"))?;
        Ok(HubKey {
            signing: SigningKey::from_bytes(&secret),
        })
    }

    /// Creates a new key in a new file with mode 0600 (never overwrites).
    pub fn create(path: &Path) -> Result<HubKey, OpsError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| key_error(path, format!("no randomness for a key: {e}")))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|e| key_error(path, e))?;
        use std::io::Write;
        writeln!(file, "{}", hex::encode(secret)).map_err(|e| key_error(path, e))?;
        file.sync_all().map_err(|e| key_error(path, e))?;
        Ok(HubKey {
            signing: SigningKey::from_bytes(&secret),
        })
    }

    /// Loads the key file, creating it first when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<(HubKey, bool), OpsError> {
        if path.exists() {
            Ok((HubKey::load(path)?, false))
        } else {
            Ok((HubKey::create(path)?, true))
        }
    }

    /// The public key as 64 hex digits.
    pub fn public_hex(&self) -> String {
        hex::encode(self.signing.verifying_key().to_bytes())
    }

    /// Signs a tree head.
    pub fn sign(&self, tree_size: u64, root_hash: &Hash32, timestamp_ms: i64) -> TreeHead {
        let message = tree_head_message(tree_size, root_hash, timestamp_ms);
        let signature = self.signing.sign(message.as_bytes());
        TreeHead {
            format: TREE_HEAD_FORMAT.to_string(),
            tree_size,
            root_hash: hex::encode(root_hash),
            timestamp_ms,
            public_key: self.public_hex(),
            signature: hex::encode(signature.to_bytes()),
        }
    }
}

/// A signed tree head (`reliefhub-tree-head/1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeHead {
    pub format: String,
    pub tree_size: u64,
    pub root_hash: String,
    pub timestamp_ms: i64,
    pub public_key: String,
    pub signature: String,
}

fn hex32(text: &str, what: &str) -> Result<[u8; 32], String> {
    if text.len() != 64
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!("{what} must be 64 lower-case hex digits"));
    }
    let bytes = hex::decode(text).map_err(|_| format!("{what} is not hex"))?;
    bytes
        .try_into()
        .map_err(|_| format!("{what} is not 32 bytes"))
}

impl TreeHead {
    /// The root hash as bytes.
    pub fn root(&self) -> Result<Hash32, String> {
        hex32(&self.root_hash, "the head's root_hash")
    }

    /// Checks the format and the signature (with the head's own key, and,
    /// when given, that the key is the expected one).
    pub fn check(&self, expected_key: Option<&str>) -> Result<(), String> {
        if self.format != TREE_HEAD_FORMAT {
            return Err(format!(
                "the head's format is `{}`, expected `{TREE_HEAD_FORMAT}`",
                self.format
            ));
        }
        let root = self.root()?;
        let key_bytes = hex32(&self.public_key, "the head's public_key")?;
        if let Some(expected) = expected_key {
            if !expected.eq_ignore_ascii_case(&self.public_key) {
                return Err(format!(
                    "the head is signed by key {}, not by the expected key {expected}",
                    self.public_key
                ));
            }
        }
        let key = VerifyingKey::from_bytes(&key_bytes)
            .map_err(|_| "the head's public_key is not an Ed25519 key".to_string())?;
        let signature_bytes = hex::decode(&self.signature)
            .map_err(|_| "the head's signature is not hex".to_string())?;
        if self.signature.len() != 128 || self.signature.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err("the head's signature must be 128 lower-case hex digits".to_string());
        }
        let signature: [u8; 64] = signature_bytes
            .try_into()
            .map_err(|_| "the head's signature is not 64 bytes".to_string())?;
        let message = tree_head_message(self.tree_size, &root, self.timestamp_ms);
        key.verify_strict(message.as_bytes(), &Signature::from_bytes(&signature))
            .map_err(|_| "the head's signature does not match its content".to_string())
    }

    fn from_stored(head: &StoredHead) -> TreeHead {
        TreeHead {
            format: TREE_HEAD_FORMAT.to_string(),
            tree_size: head.tree_size,
            root_hash: head.root_hash.clone(),
            timestamp_ms: head.timestamp_ms,
            public_key: head.public_key.clone(),
            signature: head.signature.clone(),
        }
    }

    fn to_stored(&self) -> StoredHead {
        StoredHead {
            tree_size: self.tree_size,
            timestamp_ms: self.timestamp_ms,
            root_hash: self.root_hash.clone(),
            public_key: self.public_key.clone(),
            signature: self.signature.clone(),
        }
    }
}

/// A consistency proof between two sizes of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    pub from_size: u64,
    pub to_size: u64,
    pub from_root: String,
    pub to_root: String,
    pub proof: Vec<String>,
}

/// One journal entry in a proof, with its lot. In an operation of leaf
/// format 2 it carries its salt and its audit path inside the operation's
/// contents tree; in one of format 1 both are null and the operation shows
/// every entry (the journal's hash chain needs them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofEntry {
    pub seq: i64,
    pub lot_id: i64,
    pub item: String,
    pub donor: String,
    pub batch: String,
    pub expiry: Option<String>,
    pub earmark: Vec<String>,
    pub from: String,
    pub to: String,
    pub quantity: i64,
    pub corrects: Option<i64>,
    pub salt: Option<String>,
    pub contents_path: Option<Vec<String>>,
}

/// The stock an operation moved: its batch and the journal entries shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofBatch {
    pub id: i64,
    pub first_seq: i64,
    pub transfer_count: i64,
    pub chain_before: String,
    pub chain_after: String,
    /// The batch header's content digest (format 1, to recompute the chain).
    pub content_digest: Option<String>,
    pub entries: Vec<ProofEntry>,
}

/// A document an operation wrote, by digest (format 1 only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofDocument {
    pub table: String,
    pub key: String,
    pub digest: String,
}

/// What a format-2 operation's leaf commits to instead of listing its
/// entries and documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofContents {
    pub document_count: u64,
    pub root: String,
}

/// An operation's readable content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofOperation {
    pub kind: String,
    pub key: String,
    pub actor: String,
    pub recorded_at_unix_ms: i64,
    /// The journal hash the operation was recorded after (no stock moved).
    pub chain: Option<String>,
    pub batch: Option<ProofBatch>,
    /// Format 1: every document the operation wrote, by digest.
    pub documents: Option<Vec<ProofDocument>>,
    /// Format 2: the contents root and the number of documents.
    pub contents: Option<ProofContents>,
}

/// One proved operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofItem {
    pub leaf_index: u64,
    pub leaf_hash: String,
    pub audit_path: Vec<String>,
    pub operation: ProofOperation,
}

/// A donor's figures for one item: the balance of each kind of account
/// (`pledged`, `inbound`, `at`, `quarantine`, `transfer`, `outbound`,
/// `delivered`, `loss:REASON`), summed over the donor's lots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementItem {
    pub item: String,
    pub accounts: BTreeMap<String, i64>,
}

/// The donor's statement a proof carries: where every unit of the donor's
/// goods is, as of the head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofStatement {
    pub donor: String,
    pub as_of_tree_size: u64,
    pub items: Vec<StatementItem>,
}

/// A donor proof (`reliefhub-proof/2`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DonorProof {
    pub format: String,
    pub head: TreeHead,
    pub items: Vec<ProofItem>,
    pub statement: ProofStatement,
}

impl DonorProof {
    /// The file's canonical bytes: pretty JSON and a line end. A proof file
    /// is checked to be exactly these bytes.
    pub fn to_canonical(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The donors whose entries the proof shows (the statement's donor
    /// and, through operations of leaf format 1, possibly others).
    pub fn donors_shown(&self) -> std::collections::BTreeSet<String> {
        self.items
            .iter()
            .filter_map(|i| i.operation.batch.as_ref())
            .flat_map(|b| b.entries.iter().map(|e| e.donor.clone()))
            .collect()
    }
}

/// What a valid proof shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofSummary {
    pub donor: String,
    pub operations: usize,
    pub entries: usize,
    pub tree_size: u64,
    pub public_key: String,
}

/// The kind of account a balance is summed under in a statement.
fn account_class(account: &str) -> Option<String> {
    let (kind, reference) = account.split_once(':')?;
    match kind {
        "source" => None,
        "loss" => Some(format!("loss:{reference}")),
        other => Some(other.to_string()),
    }
}

/// Adds what the entries do to the donor's figures.
fn add_to_statement(
    figures: &mut BTreeMap<String, BTreeMap<String, i64>>,
    donor: &str,
    entry: &ProofEntry,
) {
    if entry.donor != donor {
        return;
    }
    let item = figures.entry(entry.item.clone()).or_default();
    if let Some(class) = account_class(&entry.from) {
        *item.entry(class).or_insert(0) -= entry.quantity;
    }
    if let Some(class) = account_class(&entry.to) {
        *item.entry(class).or_insert(0) += entry.quantity;
    }
}

fn statement_items(figures: BTreeMap<String, BTreeMap<String, i64>>) -> Vec<StatementItem> {
    figures
        .into_iter()
        .map(|(item, accounts)| StatementItem {
            item,
            accounts: accounts.into_iter().filter(|(_, v)| *v != 0).collect(),
        })
        .filter(|s| !s.accounts.is_empty())
        .collect()
}

fn operation_record(item: &ProofItem) -> Result<OperationRecord, String> {
    let op = &item.operation;
    let (documents, contents_root) = match (&op.documents, &op.contents) {
        (Some(listed), None) => {
            let mut documents = Vec::new();
            for d in listed {
                documents.push(DocumentDigest {
                    table: d.table.clone(),
                    key: d.key.clone(),
                    digest: hex32(&d.digest, "a document digest")?,
                });
            }
            (documents, None)
        }
        (None, Some(contents)) => {
            // A format-2 leaf encodes only the number of documents.
            let count = usize::try_from(contents.document_count)
                .ok()
                .filter(|n| *n <= 1_000_000)
                .ok_or("the document count is out of range")?;
            let placeholder = DocumentDigest {
                table: String::new(),
                key: String::new(),
                digest: [0; 32],
            };
            (
                vec![placeholder; count],
                Some(hex32(&contents.root, "the contents root")?),
            )
        }
        _ => {
            return Err(
                "an operation has either documents (format 1) or contents (format 2)".to_string(),
            )
        }
    };
    let (batch, chain) = match (&op.batch, &op.chain) {
        (Some(b), None) => {
            let link = BatchLink {
                batch_id: b.id,
                first_seq: b.first_seq,
                transfer_count: b.transfer_count,
                chain_before: hex32(&b.chain_before, "chain_before")?,
                chain_after: hex32(&b.chain_after, "chain_after")?,
            };
            let after = link.chain_after;
            (Some(link), after)
        }
        (None, Some(chain)) => (None, hex32(chain, "chain")?),
        _ => return Err("an operation has either a batch or a chain".to_string()),
    };
    Ok(OperationRecord {
        leaf_index: item.leaf_index,
        kind: op.kind.clone(),
        key: op.key.clone(),
        actor: op.actor.clone(),
        recorded_at_unix_ms: op.recorded_at_unix_ms,
        batch,
        chain,
        documents,
        contents_root,
    })
}

fn entry_expiry(e: &ProofEntry) -> Result<Option<time::Date>, String> {
    let expiry = match &e.expiry {
        None => None,
        Some(text) => Some(
            parse_date(text)
                .ok_or_else(|| format!("entry {}: expiry `{text}` is not a date", e.seq))?,
        ),
    };
    if expiry.map(format_date).as_deref() != e.expiry.as_deref() {
        return Err(format!(
            "entry {}: expiry is not written as YYYY-MM-DD",
            e.seq
        ));
    }
    Ok(expiry)
}

/// Format 2: each shown entry, salted, is in the operation's contents tree
/// at its place (seq - first_seq) by its audit path.
fn check_contents(batch: &ProofBatch, contents: &ProofContents) -> Result<(), String> {
    let root = hex32(&contents.root, "the contents root")?;
    let count = u64::try_from(batch.transfer_count)
        .map_err(|_| "the transfer count is negative".to_string())?;
    let size = count
        .checked_add(contents.document_count)
        .ok_or("the contents tree is too large")?;
    let mut last = None;
    for e in &batch.entries {
        entry_expiry(e)?;
        if last.is_some_and(|l| e.seq <= l) {
            return Err(format!("entry {} is out of order or repeated", e.seq));
        }
        last = Some(e.seq);
        let position = e
            .seq
            .checked_sub(batch.first_seq)
            .and_then(|p| u64::try_from(p).ok())
            .filter(|p| *p < count)
            .ok_or_else(|| format!("entry {} is not in batch {}", e.seq, batch.id))?;
        let (Some(salt), Some(path)) = (&e.salt, &e.contents_path) else {
            return Err(format!(
                "entry {} lacks its salt or its contents path",
                e.seq
            ));
        };
        let salt = hex32(salt, "an entry's salt")?;
        let mut hashes = Vec::with_capacity(path.len());
        for p in path {
            hashes.push(hex32(p, "a contents path hash")?);
        }
        let leaf = merkle::leaf_hash(&entry_leaf_bytes(
            &salt,
            &EntryContent {
                seq: e.seq,
                lot_id: e.lot_id,
                item: e.item.clone(),
                donor: e.donor.clone(),
                batch: e.batch.clone(),
                expiry: e.expiry.clone(),
                earmark: e.earmark.clone(),
                from: e.from.clone(),
                to: e.to.clone(),
                quantity: e.quantity,
                corrects: e.corrects,
            },
        ));
        merkle::verify_inclusion(position, size, &leaf, &hashes, &root)
            .map_err(|err| format!("entry {}: not in the operation's contents: {err}", e.seq))?;
    }
    Ok(())
}

/// Recomputes a batch's journal entries from the hash before it; they must
/// end in the hash after it.
fn check_entries(op: &ProofOperation, batch: &ProofBatch) -> Result<(), String> {
    let Some(content_digest) = &batch.content_digest else {
        return Err("a format-1 batch needs its content_digest".to_string());
    };
    let header = BatchHeader {
        id: batch.id,
        key: op.key.clone(),
        kind: op.kind.clone(),
        content_digest: hex32(content_digest, "content_digest")?,
        recorded_at_unix_ms: op.recorded_at_unix_ms,
    };
    let mut previous = hex32(&batch.chain_before, "chain_before")?;
    if batch.entries.len() as i64 != batch.transfer_count {
        return Err(format!(
            "batch {} shows {} entries of {}",
            batch.id,
            batch.entries.len(),
            batch.transfer_count
        ));
    }
    for (i, e) in batch.entries.iter().enumerate() {
        if e.seq != batch.first_seq + i as i64 {
            return Err(format!("entry {} is out of sequence", e.seq));
        }
        if e.salt.is_some() || e.contents_path.is_some() {
            return Err(format!(
                "entry {}: a format-1 entry has no salt or contents path",
                e.seq
            ));
        }
        let expiry = entry_expiry(e)?;
        let lot = LotSpec {
            item: e.item.clone(),
            donor: e.donor.clone(),
            batch: e.batch.clone(),
            expiry,
            earmark: e.earmark.clone(),
        };
        previous = entry_hash(
            &previous, &header, &lot, e.seq, e.lot_id, &e.from, &e.to, e.quantity, e.corrects,
        );
    }
    if previous != hex32(&batch.chain_after, "chain_after")? {
        return Err(format!(
            "the journal entries of batch {} do not hash to the journal hash the operation recorded",
            batch.id
        ));
    }
    Ok(())
}

/// Checks a donor proof file with no database: the file is the canonical
/// encoding of its content; the head's signature (by `expected_key` when
/// given); each operation's journal entries against its recorded journal
/// hashes, its leaf hash recomputed from its content and its audit path to
/// the head's root; and the statement's figures recomputed from the proved
/// entries. Never panics; says why a proof is invalid.
pub fn verify_proof(bytes: &[u8], expected_key: Option<&str>) -> Result<ProofSummary, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_string())?;
    let proof: DonorProof =
        serde_json::from_str(text).map_err(|e| format!("not a proof file: {e}"))?;
    if proof.format != PROOF_FORMAT {
        return Err(format!(
            "the format is `{}`, expected `{PROOF_FORMAT}`",
            proof.format
        ));
    }
    if proof.to_canonical().as_bytes() != bytes {
        return Err(
            "the file is not in the canonical form the hub writes (it was edited)".to_string(),
        );
    }
    proof.head.check(expected_key)?;
    let root = proof.head.root()?;
    let size = proof.head.tree_size;
    let mut last_index = None;
    let mut entries = 0;
    let mut figures: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for item in &proof.items {
        if last_index.is_some_and(|last| item.leaf_index <= last) {
            return Err(format!(
                "operation {} is out of order or repeated",
                item.leaf_index
            ));
        }
        last_index = Some(item.leaf_index);
        let record =
            operation_record(item).map_err(|e| format!("operation {}: {e}", item.leaf_index))?;
        if let Some(batch) = &item.operation.batch {
            match &item.operation.contents {
                Some(contents) => check_contents(batch, contents),
                None => {
                    if batch.content_digest.is_none() {
                        Err("a format-1 batch needs its content_digest".to_string())
                    } else {
                        check_entries(&item.operation, batch)
                    }
                }
            }
            .map_err(|e| format!("operation {}: {e}", item.leaf_index))?;
            if item.operation.contents.is_some() && batch.content_digest.is_some() {
                return Err(format!(
                    "operation {}: a format-2 batch shows no content_digest",
                    item.leaf_index
                ));
            }
            for entry in &batch.entries {
                add_to_statement(&mut figures, &proof.statement.donor, entry);
            }
            entries += batch.entries.len();
        }
        let leaf = record.leaf_hash();
        if hex32(&item.leaf_hash, "leaf_hash")? != leaf {
            return Err(format!(
                "operation {}: its content does not hash to its leaf hash",
                item.leaf_index
            ));
        }
        let mut path = Vec::with_capacity(item.audit_path.len());
        for p in &item.audit_path {
            path.push(hex32(p, "an audit path hash")?);
        }
        merkle::verify_inclusion(item.leaf_index, size, &leaf, &path, &root)
            .map_err(|e| format!("operation {}: not in the signed log: {e}", item.leaf_index))?;
    }
    if proof.statement.as_of_tree_size != size {
        return Err(format!(
            "the statement is as of {} operations, the head covers {size}",
            proof.statement.as_of_tree_size
        ));
    }
    if statement_items(figures) != proof.statement.items {
        return Err("the statement's figures are not those of the proved operations".to_string());
    }
    Ok(ProofSummary {
        donor: proof.statement.donor.clone(),
        operations: proof.items.len(),
        entries,
        tree_size: size,
        public_key: proof.head.public_key.clone(),
    })
}

/// The result of checking the log against a head kept elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgainstHead {
    pub head_size: u64,
    pub log_size: u64,
}

impl Ops {
    /// Sets who the following operations are by (recorded in the log).
    pub fn set_actor(&mut self, actor: &str) {
        self.store().set_actor(actor);
    }

    /// Signs the log's current head and keeps it as published.
    pub fn publish_head(&mut self, key: &HubKey, now_unix_ms: i64) -> Result<TreeHead, OpsError> {
        let (size, root) = self.store().log_head()?;
        let head = key.sign(size, &root, now_unix_ms);
        self.store().keep_tree_head(&head.to_stored())?;
        Ok(head)
    }

    /// The heads the hub published, oldest first.
    pub fn published_heads(&mut self) -> Result<Vec<TreeHead>, OpsError> {
        Ok(self
            .store()
            .tree_heads()?
            .iter()
            .map(TreeHead::from_stored)
            .collect())
    }

    /// The consistency proof between the log's first `from` and `to`
    /// operations (`to` at most the log's size).
    pub fn consistency(&mut self, from: u64, to: u64) -> Result<ConsistencyProof, OpsError> {
        let size = self.store().log_size()?;
        if from > to || to > size {
            // No such proof: the log has no tree of that size, or the
            // sizes are the wrong way round.
            return Err(OpsError::NotFound {
                what: "consistency proof between the log's sizes",
                code: format!(
                    "{from}..{to} (the log has {size} operations; from must be at most to)"
                ),
            });
        }
        let proof = self.store().log_consistency_proof(from, to)?;
        Ok(ConsistencyProof {
            from_size: from,
            to_size: to,
            from_root: hex::encode(self.store().log_root(from)?),
            to_root: hex::encode(self.store().log_root(to)?),
            proof: proof.iter().map(hex::encode).collect(),
        })
    }

    /// Proves that the log extends `head` (signature checked first): an RFC
    /// 6962 consistency proof from the head's size to the log's. `Err`
    /// inside names the first missing or changed operation.
    pub fn check_against(
        &mut self,
        head: &TreeHead,
    ) -> Result<Result<AgainstHead, String>, OpsError> {
        if let Err(reason) = head.check(None) {
            return Ok(Err(reason));
        }
        let head_root = match head.root() {
            Ok(root) => root,
            Err(reason) => return Ok(Err(reason)),
        };
        let (size, root) = self.store().log_head()?;
        if head.tree_size > size {
            return Ok(Err(format!(
                "the head covers {} operations, the log has only {size}: operations {size} to {} are missing (the first missing is operation {size})",
                head.tree_size,
                head.tree_size - 1
            )));
        }
        let proof = self.store().log_consistency_proof(head.tree_size, size)?;
        if merkle::verify_consistency(head.tree_size, size, &head_root, &root, &proof).is_ok() {
            return Ok(Ok(AgainstHead {
                head_size: head.tree_size,
                log_size: size,
            }));
        }
        // Name the change as closely as the heads the hub kept allow: the
        // largest kept head at most this one's size that the log still
        // matches bounds it from below.
        let mut good = 0;
        for kept in self.published_heads()? {
            if kept.tree_size <= head.tree_size
                && kept.tree_size > good
                && kept.root().ok() == Some(self.store().log_root(kept.tree_size)?)
            {
                good = kept.tree_size;
            }
        }
        // Each operation's record names its index, so a single operation
        // replaced in place is found by its own leaf.
        let ops = self.store().log_operations(good, head.tree_size)?;
        let first = ops
            .iter()
            .enumerate()
            .find(|(i, op)| op.leaf_index != good + *i as u64)
            .map_or(good, |(i, _)| good + i as u64);
        Ok(Err(format!(
            "the log does not extend the head of {} operations (root {}): operations before {} were changed, removed or replaced; the first changed operation is at or after operation {first}",
            head.tree_size, head.root_hash, head.tree_size
        )))
    }

    /// A donor's proof: a head signed now, and every operation that moved
    /// the donor's lots with its audit path, and the donor's statement.
    pub fn donor_proof(
        &mut self,
        key: &HubKey,
        donor: &str,
        now_unix_ms: i64,
    ) -> Result<DonorProof, OpsError> {
        let known = self.store().read(|conn| {
            Ok(conn.query(
                "SELECT COUNT(*) FROM organisations WHERE code = $1 AND kind = 'donor'",
                &[donor.into()],
            )?[0][0]
                .int()?)
        })?;
        if known == 0 {
            return Err(OpsError::NotFound {
                what: "donor",
                code: donor.to_string(),
            });
        }
        let head = self.publish_head(key, now_unix_ms)?;
        let ops = self.store().log_operations_of_donor(donor)?;
        let mut items = Vec::with_capacity(ops.len());
        for op in ops.into_iter().filter(|op| op.leaf_index < head.tree_size) {
            items.push(self.proof_item(&op, head.tree_size, donor)?);
        }
        // The statement is read from the balances, so a proof whose
        // operations do not account for them cannot be made valid.
        let balances = self.donor_balances(donor)?;
        let statement = ProofStatement {
            donor: donor.to_string(),
            as_of_tree_size: head.tree_size,
            items: statement_items(balances),
        };
        Ok(DonorProof {
            format: PROOF_FORMAT.to_string(),
            head,
            items,
            statement,
        })
    }

    fn donor_balances(
        &mut self,
        donor: &str,
    ) -> Result<BTreeMap<String, BTreeMap<String, i64>>, OpsError> {
        let rows = self.store().read(|conn| {
            conn.query(
                "SELECT l.item, b.account, b.quantity FROM balances b JOIN lots l ON l.id = b.lot_id \
                 WHERE l.donor = $1 AND b.quantity <> 0",
                &[donor.into()],
            )
        })?;
        let mut figures: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for row in rows {
            let account = row[1].text()?;
            if let Some(class) = account_class(&account) {
                *figures
                    .entry(row[0].text()?)
                    .or_default()
                    .entry(class)
                    .or_insert(0) += row[2].int()?;
            }
        }
        Ok(figures)
    }

    fn proof_item(
        &mut self,
        op: &OperationRow,
        size: u64,
        donor: &str,
    ) -> Result<ProofItem, OpsError> {
        let path = self.store().log_inclusion_proof(op.leaf_index, size)?;
        let batch = match (&op.batch, &op.contents) {
            (None, _) => None,
            (Some(link), Some((secret, _))) => {
                // Format 2: the donor's own entries, each with its salt and
                // its path in the operation's contents tree.
                let all = self
                    .store()
                    .entry_contents(link.first_seq, link.transfer_count)?;
                let mut tree = LevelTree::default();
                for (position, e) in all.iter().enumerate() {
                    let salt = contents_salt(secret, position as u64);
                    tree.push(merkle::leaf_hash(&entry_leaf_bytes(&salt, e)));
                }
                for document in &op.documents {
                    let salt = contents_salt(secret, tree.len());
                    tree.push(merkle::leaf_hash(&document_leaf_bytes(&salt, document)));
                }
                let tree_size = tree.len();
                let mut entries = Vec::new();
                for (position, e) in all.into_iter().enumerate() {
                    if e.donor != donor {
                        continue;
                    }
                    let position = position as u64;
                    let path =
                        merkle::inclusion_proof(&mut tree, position, tree_size).unwrap_or_default();
                    entries.push(ProofEntry {
                        seq: e.seq,
                        lot_id: e.lot_id,
                        item: e.item,
                        donor: e.donor,
                        batch: e.batch,
                        expiry: e.expiry,
                        earmark: e.earmark,
                        from: e.from,
                        to: e.to,
                        quantity: e.quantity,
                        corrects: e.corrects,
                        salt: Some(hex::encode(contents_salt(secret, position))),
                        contents_path: Some(path.iter().map(hex::encode).collect()),
                    });
                }
                Some(ProofBatch {
                    id: link.batch_id,
                    first_seq: link.first_seq,
                    transfer_count: link.transfer_count,
                    chain_before: hex::encode(link.chain_before),
                    chain_after: hex::encode(link.chain_after),
                    content_digest: None,
                    entries,
                })
            }
            (Some(link), None) => {
                // Format 1: every entry (the journal's chain needs them).
                let header = self.store().batch_header(link.batch_id)?.ok_or_else(|| {
                    OpsError::NotFound {
                        what: "batch",
                        code: link.batch_id.to_string(),
                    }
                })?;
                let entries = self
                    .store()
                    .journal_entries(link.first_seq, link.transfer_count)?
                    .into_iter()
                    .map(|p| ProofEntry {
                        seq: p.entry.seq,
                        lot_id: p.entry.lot_id,
                        item: p.lot.item,
                        donor: p.lot.donor,
                        batch: p.lot.batch,
                        expiry: p.lot.expiry.map(format_date),
                        earmark: p.lot.earmark,
                        from: p.entry.from.to_string(),
                        to: p.entry.to.to_string(),
                        quantity: p.entry.quantity,
                        corrects: p.entry.corrects,
                        salt: None,
                        contents_path: None,
                    })
                    .collect();
                Some(ProofBatch {
                    id: link.batch_id,
                    first_seq: link.first_seq,
                    transfer_count: link.transfer_count,
                    chain_before: hex::encode(link.chain_before),
                    chain_after: hex::encode(link.chain_after),
                    content_digest: Some(hex::encode(header.content_digest)),
                    entries,
                })
            }
        };
        let (documents, contents) = match &op.contents {
            Some((_, root)) => (
                None,
                Some(ProofContents {
                    document_count: op.documents.len() as u64,
                    root: hex::encode(root),
                }),
            ),
            None => (
                Some(
                    op.documents
                        .iter()
                        .map(|d| ProofDocument {
                            table: d.table.clone(),
                            key: d.key.clone(),
                            digest: hex::encode(d.digest),
                        })
                        .collect(),
                ),
                None,
            ),
        };
        Ok(ProofItem {
            leaf_index: op.leaf_index,
            leaf_hash: hex::encode(op.leaf_hash),
            audit_path: path.iter().map(hex::encode).collect(),
            operation: ProofOperation {
                kind: op.kind.clone(),
                key: op.key.clone(),
                actor: op.actor.clone(),
                recorded_at_unix_ms: op.recorded_at_unix_ms,
                chain: if op.batch.is_none() {
                    Some(hex::encode(op.chain))
                } else {
                    None
                },
                batch,
                documents,
                contents,
            },
        })
    }
}

/// A tree in memory with every complete subtree's hash computed once, so
/// that many audit paths cost no re-hashing.
#[derive(Default)]
struct LevelTree {
    levels: Vec<Vec<merkle::Hash>>,
}

impl LevelTree {
    fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }
    fn push(&mut self, leaf: merkle::Hash) {
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
            let n = self.levels[level].len();
            if n % 2 == 1 {
                break;
            }
            hash = merkle::node_hash(&self.levels[level][n - 2], &self.levels[level][n - 1]);
            level += 1;
        }
    }
}

impl merkle::Nodes for LevelTree {
    type Error = std::convert::Infallible;
    fn node(&mut self, level: u32, index: u64) -> Result<merkle::Hash, Self::Error> {
        Ok(self
            .levels
            .get(level as usize)
            .and_then(|l| l.get(index as usize))
            .copied()
            .unwrap_or([0; 32]))
    }
}
