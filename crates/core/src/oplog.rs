//! The operation log: one record per operation (who, what, when, which
//! journal entries, which documents), the canonical bytes that are a leaf of
//! the log's Merkle tree ([`crate::merkle`]), and the text a tree head's
//! signature covers. Nothing here does IO or reads a clock.
//!
//! Leaf encoding (`reliefhub-operation/1`), every integer a big-endian u64 or
//! i64 and every text its byte length as a big-endian u64 then its UTF-8
//! bytes:
//!
//! ```text
//! text "reliefhub-operation/1"
//! u64  leaf index (0 for the first operation)
//! text kind            text key            text actor
//! i64  recorded_at_unix_ms
//! i64  batch id (0 when the operation moved no stock)
//! i64  first journal seq   i64 transfer count
//! 32   journal hash before the batch (the entry first_seq - 1; zeros at the start)
//! 32   journal hash after the batch (its last entry; equal to the one before when no stock moved)
//! u64  number of documents, then per document, in (table, key) order:
//!      text table   text key   32 bytes digest of the row group
//! ```
//!
//! The journal hash after the batch commits to every entry of the batch, its
//! header and its lots (the journal is hash-chained), so a leaf covers the
//! stock it moved without repeating it.
//!
//! Leaf encoding `reliefhub-operation/2` (operations recorded since the log
//! keeps per-operation contents): the same fields up to the journal hash
//! after the batch, then
//!
//! ```text
//! u64  number of documents
//! 32   contents root: the RFC 6962 tree hash over the operation's journal
//!      entries (in seq order) and then its documents (in (table, key) order),
//!      each leaf salted (see [`contents_salt`], [`entry_leaf_bytes`],
//!      [`document_leaf_bytes`])
//! ```
//!
//! so one entry can be proved with its audit path inside the operation
//! without showing the others: a donor's proof shows that donor's entries
//! only, and the salts (secret per operation, kept by the hub) keep the
//! hashes of the others from being guessed.

use crate::ledger::Hash32;
use crate::merkle;

/// The format tag of a leaf that lists its documents.
pub const LEAF_FORMAT: &str = "reliefhub-operation/1";
/// The format tag of a leaf that commits to its contents through a root.
pub const LEAF_FORMAT_V2: &str = "reliefhub-operation/2";
/// The format tag of a leaf of an operation's contents tree.
pub const CONTENTS_FORMAT: &str = "reliefhub-contents/1";
/// The format tag of a signed tree head.
pub const TREE_HEAD_FORMAT: &str = "reliefhub-tree-head/1";

/// The journal entries an operation appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchLink {
    pub batch_id: i64,
    pub first_seq: i64,
    pub transfer_count: i64,
    /// The hash of journal entry `first_seq - 1` (zeros before the first).
    pub chain_before: Hash32,
    /// The hash of the batch's last entry.
    pub chain_after: Hash32,
}

/// A document (a group of rows of one table, such as a pledge's lines)
/// as an operation left it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DocumentDigest {
    pub table: String,
    pub key: String,
    pub digest: Hash32,
}

/// One operation of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRecord {
    pub leaf_index: u64,
    pub kind: String,
    pub key: String,
    pub actor: String,
    pub recorded_at_unix_ms: i64,
    /// None when the operation moved no stock; then `chain` is the journal
    /// hash it was recorded after.
    pub batch: Option<BatchLink>,
    pub chain: Hash32,
    /// Sorted by (table, key).
    pub documents: Vec<DocumentDigest>,
    /// The root of the contents tree (leaf format 2); None for a format-1
    /// leaf, which lists its documents.
    pub contents_root: Option<Hash32>,
}

/// One journal entry as a leaf of its operation's contents tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryContent {
    pub seq: i64,
    pub lot_id: i64,
    pub item: String,
    pub donor: String,
    pub batch: String,
    /// `YYYY-MM-DD`, as the lot stores it.
    pub expiry: Option<String>,
    pub earmark: Vec<String>,
    pub from: String,
    pub to: String,
    pub quantity: i64,
    pub corrects: Option<i64>,
}

/// The salt of the contents leaf at `position`: SHA-256 of the text
/// `reliefhub-contents-salt/1` (length-prefixed), the operation's 32-byte
/// secret and the position (u64). Shown only with the leaf it salts.
pub fn contents_salt(secret: &Hash32, position: u64) -> Hash32 {
    SaltHasher::new(secret).salt(position)
}

/// [`contents_salt`] for many positions of one secret: the label and the
/// secret (the first 64-byte block) are hashed once.
#[derive(Clone)]
pub struct SaltHasher(sha2::Sha256);

impl SaltHasher {
    pub fn new(secret: &Hash32) -> SaltHasher {
        use sha2::{Digest, Sha256};
        const LABEL: &str = "reliefhub-contents-salt/1";
        let mut hasher = Sha256::new();
        hasher.update((LABEL.len() as u64).to_be_bytes());
        hasher.update(LABEL.as_bytes());
        hasher.update(secret);
        SaltHasher(hasher)
    }
    pub fn salt(&self, position: u64) -> Hash32 {
        use sha2::Digest;
        let mut hasher = self.0.clone();
        hasher.update(position.to_be_bytes());
        hasher.finalize().into()
    }
}

/// A journal entry's contents leaf: text `reliefhub-contents/1`, text
/// `entry`, the 32-byte salt, seq, lot id, item, donor, batch, expiry (a
/// byte 0 when none, else 1 and the text), the earmark's count and texts,
/// from, to, quantity, corrects (a byte 0 when none, else 1 and the seq).
pub fn entry_leaf_bytes(salt: &Hash32, e: &EntryContent) -> Vec<u8> {
    let mut buf = Vec::with_capacity(192);
    write_entry_leaf(
        &mut buf,
        salt,
        &EntryParts {
            seq: e.seq,
            lot_id: e.lot_id,
            item: &e.item,
            donor: &e.donor,
            batch: &e.batch,
            expiry: e.expiry.as_deref(),
            earmark: &e.earmark,
            from: &e.from,
            to: &e.to,
            quantity: e.quantity,
            corrects: e.corrects,
        },
    );
    buf
}

/// A journal entry's contents, borrowed: what the ledger has in memory
/// while it writes the entry.
#[derive(Debug, Clone, Copy)]
pub struct EntryParts<'a> {
    pub seq: i64,
    pub lot_id: i64,
    pub item: &'a str,
    pub donor: &'a str,
    pub batch: &'a str,
    /// `YYYY-MM-DD`, as the lot stores it.
    pub expiry: Option<&'a str>,
    pub earmark: &'a [String],
    pub from: &'a str,
    pub to: &'a str,
    pub quantity: i64,
    pub corrects: Option<i64>,
}

/// Appends the bytes of [`entry_leaf_bytes`] to `buf`.
fn write_entry_leaf(buf: &mut Vec<u8>, salt: &Hash32, e: &EntryParts<'_>) {
    put_text(buf, CONTENTS_FORMAT);
    put_text(buf, "entry");
    buf.extend_from_slice(salt);
    buf.extend_from_slice(&e.seq.to_be_bytes());
    buf.extend_from_slice(&e.lot_id.to_be_bytes());
    put_text(buf, e.item);
    put_text(buf, e.donor);
    put_text(buf, e.batch);
    match e.expiry {
        None => buf.push(0),
        Some(text) => {
            buf.push(1);
            put_text(buf, text);
        }
    }
    buf.extend_from_slice(&(e.earmark.len() as u64).to_be_bytes());
    for country in e.earmark {
        put_text(buf, country);
    }
    put_text(buf, e.from);
    put_text(buf, e.to);
    buf.extend_from_slice(&e.quantity.to_be_bytes());
    match e.corrects {
        None => buf.push(0),
        Some(seq) => {
            buf.push(1);
            buf.extend_from_slice(&seq.to_be_bytes());
        }
    }
}

/// The leaf hash of the journal entry at `position` of an operation's
/// contents tree, from its parts (the same hash as
/// [`ContentsBuilder::push_entry`] computes); `buf` is scratch space
/// reused between calls.
pub fn entry_leaf_hash(
    buf: &mut Vec<u8>,
    salts: &SaltHasher,
    position: u64,
    entry: &EntryParts<'_>,
) -> Hash32 {
    let salt = salts.salt(position);
    buf.clear();
    write_entry_leaf(buf, &salt, entry);
    merkle::leaf_hash(buf)
}

/// A document's contents leaf: text `reliefhub-contents/1`, text
/// `document`, the 32-byte salt, table, key and the 32-byte digest.
pub fn document_leaf_bytes(salt: &Hash32, d: &DocumentDigest) -> Vec<u8> {
    let mut buf = Vec::with_capacity(128);
    put_text(&mut buf, CONTENTS_FORMAT);
    put_text(&mut buf, "document");
    buf.extend_from_slice(salt);
    put_text(&mut buf, &d.table);
    put_text(&mut buf, &d.key);
    buf.extend_from_slice(&d.digest);
    buf
}

/// Builds an operation's contents tree leaf by leaf: its entries first, in
/// seq order, then its documents.
#[derive(Debug, Clone)]
pub struct ContentsBuilder {
    secret: Hash32,
    frontier: merkle::Frontier,
}

impl ContentsBuilder {
    pub fn new(secret: Hash32) -> ContentsBuilder {
        ContentsBuilder {
            secret,
            frontier: merkle::Frontier::new(),
        }
    }
    /// Adds a journal entry (entries come first, in seq order).
    pub fn push_entry(&mut self, entry: &EntryContent) {
        let salt = contents_salt(&self.secret, self.frontier.len());
        self.frontier
            .push(merkle::leaf_hash(&entry_leaf_bytes(&salt, entry)));
    }
    /// Adds the leaf hash of the next journal entry, computed with
    /// [`entry_leaf_hash`] at position [`ContentsBuilder::len`].
    pub fn push_entry_leaf(&mut self, leaf: Hash32) {
        self.frontier.push(leaf);
    }
    pub fn secret(&self) -> &Hash32 {
        &self.secret
    }
    /// Adds a document (after the entries, in (table, key) order).
    pub fn push_document(&mut self, document: &DocumentDigest) {
        let salt = contents_salt(&self.secret, self.frontier.len());
        self.frontier
            .push(merkle::leaf_hash(&document_leaf_bytes(&salt, document)));
    }
    pub fn len(&self) -> u64 {
        self.frontier.len()
    }
    pub fn is_empty(&self) -> bool {
        self.frontier.is_empty()
    }
    pub fn root(&self) -> Hash32 {
        self.frontier.root()
    }
}

fn put_text(buf: &mut Vec<u8>, text: &str) {
    buf.extend_from_slice(&(text.len() as u64).to_be_bytes());
    buf.extend_from_slice(text.as_bytes());
}

impl OperationRecord {
    /// The canonical bytes of the leaf (see the module documentation).
    pub fn leaf_bytes(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(256 + self.documents.len() * 96);
        put_text(
            &mut buf,
            if self.contents_root.is_some() {
                LEAF_FORMAT_V2
            } else {
                LEAF_FORMAT
            },
        );
        buf.extend_from_slice(&self.leaf_index.to_be_bytes());
        put_text(&mut buf, &self.kind);
        put_text(&mut buf, &self.key);
        put_text(&mut buf, &self.actor);
        buf.extend_from_slice(&self.recorded_at_unix_ms.to_be_bytes());
        let (batch_id, first_seq, count, before, after) = match &self.batch {
            Some(b) => (
                b.batch_id,
                b.first_seq,
                b.transfer_count,
                b.chain_before,
                b.chain_after,
            ),
            None => (0, 0, 0, self.chain, self.chain),
        };
        buf.extend_from_slice(&batch_id.to_be_bytes());
        buf.extend_from_slice(&first_seq.to_be_bytes());
        buf.extend_from_slice(&count.to_be_bytes());
        buf.extend_from_slice(&before);
        buf.extend_from_slice(&after);
        buf.extend_from_slice(&(self.documents.len() as u64).to_be_bytes());
        if let Some(root) = &self.contents_root {
            buf.extend_from_slice(root);
            return buf;
        }
        for document in &self.documents {
            put_text(&mut buf, &document.table);
            put_text(&mut buf, &document.key);
            buf.extend_from_slice(&document.digest);
        }
        buf
    }

    /// The Merkle leaf hash: SHA-256(0x00 ‖ leaf bytes).
    pub fn leaf_hash(&self) -> merkle::Hash {
        merkle::leaf_hash(&self.leaf_bytes())
    }
}

/// The exact ASCII bytes a tree head's Ed25519 signature covers:
/// `reliefhub-tree-head/1\n{tree_size}\n{root_hash hex}\n{timestamp_ms}\n`.
pub fn tree_head_message(tree_size: u64, root_hash: &Hash32, timestamp_ms: i64) -> String {
    format!(
        "{TREE_HEAD_FORMAT}\n{tree_size}\n{}\n{timestamp_ms}\n",
        hex::encode(root_hash)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_from_the_kept_first_block_are_the_plain_hash() {
        use sha2::{Digest, Sha256};
        let secret: Hash32 = std::array::from_fn(|i| (i * 7 + 3) as u8);
        let salts = SaltHasher::new(&secret);
        for position in [0u64, 1, 2, 255, 256, 1 << 40, u64::MAX] {
            let mut bytes = Vec::new();
            bytes.extend_from_slice(&25u64.to_be_bytes());
            bytes.extend_from_slice(b"reliefhub-contents-salt/1");
            bytes.extend_from_slice(&secret);
            bytes.extend_from_slice(&position.to_be_bytes());
            let plain: Hash32 = Sha256::digest(&bytes).into();
            assert_eq!(salts.salt(position), plain, "position {position}");
            assert_eq!(contents_salt(&secret, position), plain);
        }
    }

    fn record() -> OperationRecord {
        OperationRecord {
            leaf_index: 3,
            kind: "receipt".into(),
            key: "receipt:QR-1".into(),
            actor: "amal".into(),
            recorded_at_unix_ms: 1_700_000_000_000,
            batch: Some(BatchLink {
                batch_id: 4,
                first_seq: 10,
                transfer_count: 2,
                chain_before: [1; 32],
                chain_after: [2; 32],
            }),
            chain: [2; 32],
            documents: vec![DocumentDigest {
                table: "receipts".into(),
                key: "1".into(),
                digest: [3; 32],
            }],
            contents_root: None,
        }
    }

    fn entry() -> EntryContent {
        EntryContent {
            seq: 10,
            lot_id: 2,
            item: "RUTF-150".into(),
            donor: "AE-UAEAID".into(),
            batch: "B1".into(),
            expiry: Some("2027-01-31".into()),
            earmark: vec!["SD".into()],
            from: "at:HUB".into(),
            to: "outbound:DEP-1".into(),
            quantity: 40,
            corrects: None,
        }
    }

    /// A format-2 leaf commits to its contents root and document count.
    #[test]
    fn every_field_is_in_the_format_2_leaf() {
        let mut base = record();
        base.contents_root = Some([9; 32]);
        let hash = base.leaf_hash();
        assert_ne!(hash, record().leaf_hash(), "the formats differ");
        let mut changed = base.clone();
        changed.contents_root = Some([8; 32]);
        assert_ne!(changed.leaf_hash(), hash);
        let mut changed = base.clone();
        changed.documents.clear();
        assert_ne!(changed.leaf_hash(), hash);
        let mut changed = base.clone();
        changed.actor.push('x');
        assert_ne!(changed.leaf_hash(), hash);
    }

    /// Each field of an entry, and its salt, changes its contents leaf.
    #[test]
    fn every_field_is_in_an_entry_leaf() {
        let salt = contents_salt(&[7; 32], 0);
        assert_ne!(salt, contents_salt(&[7; 32], 1));
        assert_ne!(salt, contents_salt(&[6; 32], 0));
        let base = entry_leaf_bytes(&salt, &entry());
        let changes: Vec<Box<dyn Fn(&mut EntryContent)>> = vec![
            Box::new(|e| e.seq += 1),
            Box::new(|e| e.lot_id += 1),
            Box::new(|e| e.item.push('x')),
            Box::new(|e| e.donor.push('x')),
            Box::new(|e| e.batch.push('x')),
            Box::new(|e| e.expiry = None),
            Box::new(|e| e.earmark.clear()),
            Box::new(|e| e.from.push('x')),
            Box::new(|e| e.to.push('x')),
            Box::new(|e| e.quantity += 1),
            Box::new(|e| e.corrects = Some(1)),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut changed = entry();
            change(&mut changed);
            assert_ne!(entry_leaf_bytes(&salt, &changed), base, "change {i}");
        }
        assert_ne!(
            entry_leaf_bytes(&contents_salt(&[7; 32], 1), &entry()),
            base
        );
    }

    /// Each field of the record changes the leaf hash.
    #[test]
    fn every_field_is_in_the_leaf() {
        let base = record().leaf_hash();
        let changes: Vec<Box<dyn Fn(&mut OperationRecord)>> = vec![
            Box::new(|r| r.leaf_index += 1),
            Box::new(|r| r.kind.push('x')),
            Box::new(|r| r.key.push('x')),
            Box::new(|r| r.actor = "someone else".into()),
            Box::new(|r| r.recorded_at_unix_ms += 1),
            Box::new(|r| r.batch.as_mut().expect("batch").batch_id += 1),
            Box::new(|r| r.batch.as_mut().expect("batch").first_seq += 1),
            Box::new(|r| r.batch.as_mut().expect("batch").transfer_count += 1),
            Box::new(|r| r.batch.as_mut().expect("batch").chain_before[0] ^= 1),
            Box::new(|r| r.batch.as_mut().expect("batch").chain_after[31] ^= 1),
            Box::new(|r| r.documents[0].table.push('x')),
            Box::new(|r| r.documents[0].key.push('x')),
            Box::new(|r| r.documents[0].digest[5] ^= 1),
            Box::new(|r| r.documents.clear()),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut changed = record();
            change(&mut changed);
            assert_ne!(
                changed.leaf_hash(),
                base,
                "change {i} left the leaf unchanged"
            );
        }
    }

    /// Text fields are length-prefixed: moving a character from one field
    /// to the next changes the leaf.
    #[test]
    fn fields_cannot_bleed_into_each_other() {
        let mut a = record();
        a.kind = "ab".into();
        a.key = "c".into();
        let mut b = record();
        b.kind = "a".into();
        b.key = "bc".into();
        assert_ne!(a.leaf_hash(), b.leaf_hash());
    }

    #[test]
    fn head_message_is_the_documented_text() {
        let message = tree_head_message(7, &[0xab; 32], 1234);
        assert_eq!(
            message,
            format!("reliefhub-tree-head/1\n7\n{}\n1234\n", "ab".repeat(32))
        );
    }
}
