//! The ledger rules: what a batch of transfers may do, and the hash chain.
//!
//! Nothing here reads a database or a clock. A store loads a
//! [`BatchContext`] (the balances, lots and reference codes a batch touches),
//! asks [`validate`] whether the batch may be applied, and writes the rows
//! that [`journal_rows`] returns, in one transaction.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use crate::account::{Account, AccountKind};
use crate::domain::{format_date, LotSpec};

/// The largest quantity a single transfer may move. It keeps every sum of a
/// batch far from `i64` overflow.
pub const QUANTITY_MAX: i64 = 1_000_000_000_000;
/// The largest number of transfers in one batch.
pub const BATCH_TRANSFERS_MAX: usize = 2_000_000;
/// The longest idempotency key, in bytes.
pub const KEY_LEN_MAX: usize = 200;

/// A 32-byte SHA-256 digest.
pub type Hash32 = [u8; 32];
/// The hash that the first journal entry chains from.
pub const GENESIS_HASH: Hash32 = [0; 32];

/// Which lot a transfer moves: one already stored, or one this batch creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LotRef {
    Existing(i64),
    /// The index into [`Batch::new_lots`].
    New(usize),
}

/// One movement of a positive quantity of one lot between two accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferSpec {
    pub lot: LotRef,
    pub from: Account,
    pub to: Account,
    pub quantity: i64,
    /// The journal sequence number of the transfer this one reverses.
    pub corrects: Option<i64>,
}

/// An operation: lots to create and transfers to apply, all or nothing, once
/// per idempotency key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    pub key: String,
    /// What made the batch, such as `manifest.import` or `transfer.dispatch`.
    pub kind: String,
    pub new_lots: Vec<LotSpec>,
    pub transfers: Vec<TransferSpec>,
}

impl Batch {
    /// A batch of transfers alone, with no new lots; its key and kind are
    /// the caller's to fill (the operations layer sets them when it runs).
    pub fn of_transfers(transfers: Vec<TransferSpec>) -> Batch {
        Batch {
            key: String::new(),
            kind: String::new(),
            new_lots: Vec::new(),
            transfers,
        }
    }
}

fn hash_str(hasher: &mut Sha256, text: &str) {
    hasher.update((text.len() as u64).to_be_bytes());
    hasher.update(text.as_bytes());
}

fn hash_i64(hasher: &mut Sha256, value: i64) {
    hasher.update(value.to_be_bytes());
}

fn hash_lot(hasher: &mut Sha256, lot: &LotSpec) {
    hash_str(hasher, &lot.item);
    hash_str(hasher, &lot.donor);
    hash_str(hasher, &lot.batch);
    hash_str(hasher, &lot.expiry.map(format_date).unwrap_or_default());
    hash_str(hasher, &lot.earmark.join(","));
}

fn put_str(buf: &mut Vec<u8>, text: &str) {
    buf.extend_from_slice(&(text.len() as u64).to_be_bytes());
    buf.extend_from_slice(text.as_bytes());
}

fn put_i64(buf: &mut Vec<u8>, value: i64) {
    buf.extend_from_slice(&value.to_be_bytes());
}

/// The same bytes as `hash_lot` feeds a hasher, without allocating.
fn put_lot(buf: &mut Vec<u8>, lot: &LotSpec) {
    put_str(buf, &lot.item);
    put_str(buf, &lot.donor);
    put_str(buf, &lot.batch);
    match lot.expiry {
        None => put_i64(buf, 0),
        Some(date) if (0..=9999).contains(&date.year()) => {
            let year = date.year() as u32;
            let month = u32::from(u8::from(date.month()));
            let day = u32::from(date.day());
            let digit = |v: u32| b'0' + (v % 10) as u8;
            put_i64(buf, 10);
            buf.extend_from_slice(&[
                digit(year / 1000),
                digit(year / 100),
                digit(year / 10),
                digit(year),
                b'-',
                digit(month / 10),
                digit(month),
                b'-',
                digit(day / 10),
                digit(day),
            ]);
        }
        Some(date) => put_str(buf, &format_date(date)),
    }
    let earmark_len =
        lot.earmark.iter().map(String::len).sum::<usize>() + lot.earmark.len().saturating_sub(1);
    buf.extend_from_slice(&(earmark_len as u64).to_be_bytes());
    for (i, code) in lot.earmark.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(code.as_bytes());
    }
}

impl Batch {
    /// A digest of everything in the batch but its key: two batches under one
    /// key are the same request exactly when their digests are equal.
    pub fn content_digest(&self) -> Hash32 {
        let mut hasher = Sha256::new();
        hash_str(&mut hasher, "reliefhub-batch/1");
        hash_str(&mut hasher, &self.kind);
        hash_i64(&mut hasher, self.new_lots.len() as i64);
        for lot in &self.new_lots {
            hash_lot(&mut hasher, lot);
        }
        hash_i64(&mut hasher, self.transfers.len() as i64);
        for transfer in &self.transfers {
            match transfer.lot {
                LotRef::Existing(id) => {
                    hash_str(&mut hasher, "existing");
                    hash_i64(&mut hasher, id);
                }
                LotRef::New(index) => {
                    hash_str(&mut hasher, "new");
                    hash_i64(&mut hasher, index as i64);
                }
            }
            hash_str(&mut hasher, transfer.from.canonical());
            hash_str(&mut hasher, transfer.to.canonical());
            hash_i64(&mut hasher, transfer.quantity);
            hash_i64(&mut hasher, transfer.corrects.unwrap_or(0));
        }
        hasher.finalize().into()
    }

    /// The stored lots this batch refers to.
    pub fn existing_lots(&self) -> HashSet<i64> {
        self.transfers
            .iter()
            .filter_map(|t| match t.lot {
                LotRef::Existing(id) => Some(id),
                LotRef::New(_) => None,
            })
            .collect()
    }

    /// The (account, stored lot) pairs whose balances the batch changes.
    pub fn touched_pairs(&self) -> HashSet<(Account, i64)> {
        let mut pairs = HashSet::new();
        for transfer in &self.transfers {
            if let LotRef::Existing(id) = transfer.lot {
                pairs.insert((transfer.from.clone(), id));
                pairs.insert((transfer.to.clone(), id));
            }
        }
        pairs
    }

    /// The journal entries this batch corrects.
    pub fn corrected_entries(&self) -> HashSet<i64> {
        self.transfers.iter().filter_map(|t| t.corrects).collect()
    }
}

/// A stored transfer that a correction names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectedEntry {
    pub lot_id: i64,
    pub from: Account,
    pub to: Account,
    pub quantity: i64,
    /// How much of it earlier corrections already reversed.
    pub reversed_quantity: i64,
}

/// The reference codes a batch may name, read in the same transaction.
#[derive(Debug, Default, Clone)]
pub struct ReferenceCodes {
    pub known_items: HashSet<String>,
    pub known_donors: HashSet<String>,
    pub known_nodes: HashSet<String>,
    pub known_destinations: HashSet<String>,
}

/// What the store knows that a batch touches, read in the same transaction.
#[derive(Debug, Default, Clone)]
pub struct BatchContext {
    /// Stored lots the batch refers to; a missing id is an unknown lot.
    pub lots: HashMap<i64, LotSpec>,
    /// Current balances of the touched pairs; a missing pair is zero.
    pub balances: HashMap<(Account, i64), i64>,
    /// Entries the batch corrects; a missing one does not exist.
    pub corrected: HashMap<i64, CorrectedEntry>,
}

/// Stored lots by id, as the ledger rules and the hash chain read them.
pub trait LotSource {
    fn lot(&self, id: i64) -> Option<&LotSpec>;
}

impl<S: std::hash::BuildHasher> LotSource for HashMap<i64, LotSpec, S> {
    fn lot(&self, id: i64) -> Option<&LotSpec> {
        self.get(&id)
    }
}

/// What [`validate`] reads of the stored ledger. [`BatchContext`] is the
/// plain implementation; a store may answer from its own caches instead.
pub trait LedgerView: LotSource {
    /// The current balance of a pair the batch touches (0 when absent).
    fn balance(&self, account: &Account, lot_id: i64) -> i64;
    /// A stored entry the batch corrects, if it exists.
    fn corrected(&self, seq: i64) -> Option<&CorrectedEntry>;
}

impl LotSource for BatchContext {
    fn lot(&self, id: i64) -> Option<&LotSpec> {
        self.lots.get(&id)
    }
}

impl LedgerView for BatchContext {
    fn balance(&self, account: &Account, lot_id: i64) -> i64 {
        self.balances
            .get(&(account.clone(), lot_id))
            .copied()
            .unwrap_or(0)
    }
    fn corrected(&self, seq: i64) -> Option<&CorrectedEntry> {
        self.corrected.get(&seq)
    }
}

/// Why a batch was refused. Each error names the transfer or new lot (by its
/// position in the batch, from 1) and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("the batch has no transfers")]
    EmptyBatch,
    #[error("the batch has {0} transfers, more than the {BATCH_TRANSFERS_MAX} allowed")]
    BatchTooLarge(usize),
    #[error("idempotency key `{0}` must be 1 to {KEY_LEN_MAX} printable characters")]
    BadKey(String),
    #[error("transfer {index}: quantity {quantity} must be a positive whole number (at most {QUANTITY_MAX})")]
    BadQuantity { index: usize, quantity: i64 },
    #[error("transfer {index}: moves from `{account}` to itself")]
    SameAccount { index: usize, account: String },
    #[error("transfer {index}: lot {lot} does not exist")]
    UnknownLot { index: usize, lot: i64 },
    #[error("transfer {index}: new lot {new_index} is not in this batch ({count} new lots)")]
    NoSuchNewLot {
        index: usize,
        new_index: usize,
        count: usize,
    },
    #[error("new lot {index}: item `{item}` is not in the catalogue")]
    UnknownItem { index: usize, item: String },
    #[error("new lot {index}: donor `{donor}` is not a known donor organisation")]
    UnknownDonor { index: usize, donor: String },
    #[error("new lot {index}: earmark `{code}` is not an ISO 3166-1 alpha-2 code")]
    BadEarmark { index: usize, code: String },
    #[error("new lot {index}: batch text is longer than 100 characters")]
    BadLotBatch { index: usize },
    #[error("transfer {index}: account `{account}` names an unknown {what}")]
    UnknownReference {
        index: usize,
        account: String,
        what: &'static str,
    },
    #[error("account `{account}` would hold {balance} of lot {lot}: only the pledge source may go negative (it holds {before}, the batch takes {debit})")]
    InsufficientBalance {
        account: String,
        lot: String,
        before: i64,
        debit: i64,
        balance: i64,
    },
    #[error("transfer {index}: corrects entry {corrects}, which does not exist")]
    UnknownCorrected { index: usize, corrects: i64 },
    #[error("transfer {index}: a correction of entry {corrects} must move the same lot back from `{expected_from}` to `{expected_to}`")]
    CorrectionMismatch {
        index: usize,
        corrects: i64,
        expected_from: String,
        expected_to: String,
    },
    #[error("transfer {index}: corrects {quantity} of entry {corrects}, but only {remaining} of it is left to reverse")]
    CorrectionTooLarge {
        index: usize,
        corrects: i64,
        quantity: i64,
        remaining: i64,
    },
}

/// A balance the batch changes, with its value after the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceChange {
    pub account: Account,
    pub lot: LotRef,
    pub delta: i64,
    pub balance_after: i64,
}

fn key_is_valid(key: &str) -> bool {
    !key.is_empty() && key.len() <= KEY_LEN_MAX && key.chars().all(|c| !c.is_control())
}

fn check_reference(
    index: usize,
    account: &Account,
    ctx: &ReferenceCodes,
    errors: &mut Vec<LedgerError>,
) {
    let (known, what) = match account.kind() {
        AccountKind::Source | AccountKind::Pledged => (&ctx.known_donors, "donor organisation"),
        AccountKind::AtNode | AccountKind::Quarantine => (&ctx.known_nodes, "hub node"),
        AccountKind::Delivered => (&ctx.known_destinations, "destination"),
        // Legs, departures and hub transfers belong to the operations layer,
        // which checks them before it builds a batch.
        AccountKind::InboundTransit
        | AccountKind::NodeTransit
        | AccountKind::OutboundTransit
        | AccountKind::Loss => return,
    };
    if !known.contains(account.reference()) {
        errors.push(LedgerError::UnknownReference {
            index,
            account: account.canonical().to_string(),
            what,
        });
    }
}

/// Decides whether `batch` may be applied on top of `ctx`, and if so returns
/// every balance it changes (ordered by account, then lot). On refusal it
/// returns all the errors found.
///
/// The rules: every quantity is a positive integer; lots and reference codes
/// exist; no account but a pledge source ends the batch negative; a
/// correction reverses (part of) an existing entry exactly; per lot, the
/// changes sum to zero (conservation, asserted).
pub fn validate(
    batch: &Batch,
    codes: &ReferenceCodes,
    ctx: &(impl LedgerView + ?Sized),
) -> Result<Vec<BalanceChange>, Vec<LedgerError>> {
    let mut errors = Vec::new();
    if !key_is_valid(&batch.key) {
        errors.push(LedgerError::BadKey(
            batch.key.chars().take(KEY_LEN_MAX).collect(),
        ));
    }
    if batch.transfers.is_empty() {
        errors.push(LedgerError::EmptyBatch);
    }
    if batch.transfers.len() > BATCH_TRANSFERS_MAX {
        errors.push(LedgerError::BatchTooLarge(batch.transfers.len()));
        return Err(errors);
    }
    for (position, lot) in batch.new_lots.iter().enumerate() {
        let index = position + 1;
        if !codes.known_items.contains(&lot.item) {
            errors.push(LedgerError::UnknownItem {
                index,
                item: lot.item.clone(),
            });
        }
        if !codes.known_donors.contains(&lot.donor) {
            errors.push(LedgerError::UnknownDonor {
                index,
                donor: lot.donor.clone(),
            });
        }
        if lot.batch.len() > 100 && lot.batch.chars().count() > 100 {
            errors.push(LedgerError::BadLotBatch { index });
        }
        for code in &lot.earmark {
            if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                errors.push(LedgerError::BadEarmark {
                    index,
                    code: code.clone(),
                });
            }
        }
    }

    // Sum the changes per account, then per lot.
    let mut deltas = Deltas::default();
    let mut reversed: HashMap<i64, i64> = HashMap::new();
    // Consecutive transfers often name the same accounts: check each once.
    let mut checked: Vec<&Account> = Vec::new();
    for (position, transfer) in batch.transfers.iter().enumerate() {
        let index = position + 1;
        let mut transfer_ok = true;
        if transfer.quantity <= 0 || transfer.quantity > QUANTITY_MAX {
            errors.push(LedgerError::BadQuantity {
                index,
                quantity: transfer.quantity,
            });
            transfer_ok = false;
        }
        if transfer.from == transfer.to {
            errors.push(LedgerError::SameAccount {
                index,
                account: transfer.from.canonical().to_string(),
            });
            transfer_ok = false;
        }
        let lot_key = match transfer.lot {
            LotRef::Existing(id) => {
                if ctx.lot(id).is_none() {
                    errors.push(LedgerError::UnknownLot { index, lot: id });
                    transfer_ok = false;
                }
                LotKey::Existing(id)
            }
            LotRef::New(new_index) => {
                if new_index >= batch.new_lots.len() {
                    errors.push(LedgerError::NoSuchNewLot {
                        index,
                        new_index,
                        count: batch.new_lots.len(),
                    });
                    transfer_ok = false;
                }
                LotKey::New(new_index)
            }
        };
        for account in [&transfer.from, &transfer.to] {
            if checked.len() > 8 {
                checked.clear();
            }
            if checked.contains(&account) {
                continue;
            }
            let before = errors.len();
            check_reference(index, account, codes, &mut errors);
            if errors.len() == before {
                checked.push(account);
            }
        }
        if let Some(corrects) = transfer.corrects {
            match ctx.corrected(corrects) {
                None => {
                    errors.push(LedgerError::UnknownCorrected { index, corrects });
                    transfer_ok = false;
                }
                Some(entry) => {
                    let same_lot = transfer.lot == LotRef::Existing(entry.lot_id);
                    if !same_lot || transfer.from != entry.to || transfer.to != entry.from {
                        errors.push(LedgerError::CorrectionMismatch {
                            index,
                            corrects,
                            expected_from: entry.to.canonical().to_string(),
                            expected_to: entry.from.canonical().to_string(),
                        });
                        transfer_ok = false;
                    } else {
                        let already = reversed.entry(corrects).or_insert(entry.reversed_quantity);
                        let remaining = entry.quantity - *already;
                        if transfer.quantity > remaining {
                            errors.push(LedgerError::CorrectionTooLarge {
                                index,
                                corrects,
                                quantity: transfer.quantity,
                                remaining,
                            });
                            transfer_ok = false;
                        } else {
                            *already += transfer.quantity;
                        }
                    }
                }
            }
        }
        if transfer_ok {
            deltas.add(&transfer.from, lot_key, -transfer.quantity);
            deltas.add(&transfer.to, lot_key, transfer.quantity);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut changes = Vec::with_capacity(deltas.len());
    let mut per_lot: LotMap<i64> = LotMap::default();
    for (account, lots) in deltas.sorted() {
        for (lot_key, delta) in lots {
            *per_lot.entry(lot_key).or_insert(0) += delta;
            let (lot, before) = match lot_key {
                LotKey::Existing(id) => (LotRef::Existing(id), ctx.balance(account, id)),
                LotKey::New(index) => (LotRef::New(index), 0),
            };
            let balance_after = before + delta;
            if balance_after < 0 && !account.may_go_negative() {
                errors.push(LedgerError::InsufficientBalance {
                    account: account.canonical().to_string(),
                    lot: lot_key.to_string(),
                    before,
                    debit: -delta,
                    balance: balance_after,
                });
            }
            if delta != 0 {
                changes.push(BalanceChange {
                    account: account.clone(),
                    lot,
                    delta,
                    balance_after,
                });
            }
        }
    }
    // Conservation: every transfer debits what it credits, so each lot's
    // changes cancel. A failure here is a bug in this function, not bad input.
    assert!(
        per_lot.values().all(|sum| *sum == 0),
        "a batch changed a lot's total"
    );
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(errors)
    }
}

/// A fast hasher for the lot keys of one batch (a multiply per word): the
/// keys are the batch's own lot numbers, summed in memory.
#[derive(Default, Clone, Copy)]
struct LotHasher(u64);

impl std::hash::Hasher for LotHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.write_u64(u64::from(*byte));
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_i64(&mut self, value: i64) {
        self.write_u64(value as u64);
    }
    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }
    fn write_isize(&mut self, value: isize) {
        self.write_u64(value as u64);
    }
}

type LotMap<V> = HashMap<LotKey, V, std::hash::BuildHasherDefault<LotHasher>>;

/// Balance changes summed per account, then per lot.
#[derive(Default)]
struct Deltas<'a> {
    index: HashMap<&'a Account, usize>,
    accounts: Vec<(&'a Account, LotMap<i64>)>,
    /// The two slots used last (transfers often alternate between the
    /// same two accounts), most recent first.
    recent: [Option<usize>; 2],
}

impl<'a> Deltas<'a> {
    fn add(&mut self, account: &'a Account, lot: LotKey, delta: i64) {
        let hit = self
            .recent
            .iter()
            .flatten()
            .copied()
            .find(|&i| self.accounts[i].0 == account);
        let slot = match hit {
            Some(i) => i,
            None => {
                let next = self.accounts.len();
                let i = *self.index.entry(account).or_insert(next);
                if i == next {
                    self.accounts.push((account, LotMap::default()));
                }
                i
            }
        };
        if self.recent[0] != Some(slot) {
            self.recent = [Some(slot), self.recent[0]];
        }
        *self.accounts[slot].1.entry(lot).or_insert(0) += delta;
    }

    fn len(&self) -> usize {
        self.accounts.iter().map(|(_, lots)| lots.len()).sum()
    }

    /// Accounts in order, each with its lots in order.
    fn sorted(self) -> Vec<(&'a Account, Vec<(LotKey, i64)>)> {
        let mut accounts: Vec<_> = self
            .accounts
            .into_iter()
            .map(|(account, lots)| {
                let mut lots: Vec<(LotKey, i64)> = lots.into_iter().collect();
                lots.sort_unstable_by_key(|(lot, _)| *lot);
                (account, lots)
            })
            .collect();
        accounts.sort_unstable_by(|a, b| a.0.cmp(b.0));
        accounts
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum LotKey {
    Existing(i64),
    New(usize),
}

impl std::fmt::Display for LotKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LotKey::Existing(id) => write!(f, "{id}"),
            LotKey::New(index) => write!(f, "new lot {}", index + 1),
        }
    }
}

/// The batch header fields that every journal entry of the batch hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchHeader {
    pub id: i64,
    pub key: String,
    pub kind: String,
    pub content_digest: Hash32,
    pub recorded_at_unix_ms: i64,
}

/// One journal entry: a stored transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub seq: i64,
    pub batch_id: i64,
    pub lot_id: i64,
    /// Canonical account texts (shared with the batch's accounts).
    pub from: std::sync::Arc<str>,
    pub to: std::sync::Arc<str>,
    pub quantity: i64,
    pub corrects: Option<i64>,
    pub hash: Hash32,
}

/// The hash of an entry: SHA-256 over the previous hash and a canonical,
/// length-prefixed encoding of the entry, its batch header and its lot.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    previous: &Hash32,
    header: &BatchHeader,
    lot: &LotSpec,
    seq: i64,
    lot_id: i64,
    from: &str,
    to: &str,
    quantity: i64,
    corrects: Option<i64>,
) -> Hash32 {
    let mut buf = Vec::with_capacity(384);
    let header = header_bytes(header);
    entry_hash_with(
        &mut buf, previous, &header, lot, seq, lot_id, from, to, quantity, corrects,
    )
}

/// The header part of the encoding (after the sequence number).
fn header_bytes(header: &BatchHeader) -> Vec<u8> {
    let mut buf = Vec::with_capacity(96 + header.key.len() + header.kind.len());
    put_i64(&mut buf, header.id);
    put_str(&mut buf, &header.key);
    put_str(&mut buf, &header.kind);
    buf.extend_from_slice(&header.content_digest);
    put_i64(&mut buf, header.recorded_at_unix_ms);
    buf
}

/// [`entry_hash`] with the header encoded once and a reused buffer: the
/// message is built whole and hashed in one pass.
#[allow(clippy::too_many_arguments)]
fn entry_hash_with(
    buf: &mut Vec<u8>,
    previous: &Hash32,
    header: &[u8],
    lot: &LotSpec,
    seq: i64,
    lot_id: i64,
    from: &str,
    to: &str,
    quantity: i64,
    corrects: Option<i64>,
) -> Hash32 {
    buf.clear();
    buf.extend_from_slice(previous);
    put_str(buf, "reliefhub-entry/1");
    put_i64(buf, seq);
    buf.extend_from_slice(header);
    put_i64(buf, lot_id);
    put_lot(buf, lot);
    put_str(buf, from);
    put_str(buf, to);
    put_i64(buf, quantity);
    put_i64(buf, corrects.unwrap_or(0));
    Sha256::digest(&buf[..]).into()
}

/// Builds the journal entries of a validated batch, chained from `previous`.
/// `new_lot_ids[i]` is the id the store gave to `batch.new_lots[i]`; `lots`
/// holds the stored lots the batch refers to.
pub fn journal_rows(
    batch: &Batch,
    header: &BatchHeader,
    lots: &(impl LotSource + ?Sized),
    new_lot_ids: &[i64],
    first_seq: i64,
    previous: Hash32,
) -> Vec<JournalEntry> {
    let mut rows = Vec::with_capacity(batch.transfers.len());
    journal_rows_in_pieces(
        batch,
        header,
        lots,
        new_lot_ids,
        first_seq,
        previous,
        usize::MAX,
        |piece| {
            rows.extend(piece);
            true
        },
    );
    rows
}

/// Like [`journal_rows`], handing the entries over in order, `piece_len` at
/// a time (the first piece a quarter of that, so the writer starts soon), as
/// soon as each piece is hashed (so a writer can store one piece while the
/// next is hashed). Stops early when `emit` returns false.
#[allow(clippy::too_many_arguments)]
pub fn journal_rows_in_pieces(
    batch: &Batch,
    header: &BatchHeader,
    lots: &(impl LotSource + ?Sized),
    new_lot_ids: &[i64],
    first_seq: i64,
    previous: Hash32,
    piece_len: usize,
    mut emit: impl FnMut(Vec<JournalEntry>) -> bool,
) {
    assert_eq!(new_lot_ids.len(), batch.new_lots.len());
    let piece_len = piece_len.max(1);
    let mut current_len = (piece_len / 4).max(1);
    let mut rows = Vec::with_capacity(batch.transfers.len().min(current_len));
    let mut previous = previous;
    let header_encoded = header_bytes(header);
    let mut buf = Vec::with_capacity(384);
    for (offset, transfer) in batch.transfers.iter().enumerate() {
        let (lot_id, lot) = match transfer.lot {
            LotRef::Existing(id) => (
                id,
                lots.lot(id).expect("a validated batch names stored lots"),
            ),
            LotRef::New(index) => (new_lot_ids[index], &batch.new_lots[index]),
        };
        let seq = first_seq + offset as i64;
        let from = transfer.from.canonical();
        let to = transfer.to.canonical();
        let hash = entry_hash_with(
            &mut buf,
            &previous,
            &header_encoded,
            lot,
            seq,
            lot_id,
            from,
            to,
            transfer.quantity,
            transfer.corrects,
        );
        rows.push(JournalEntry {
            seq,
            batch_id: header.id,
            lot_id,
            from: transfer.from.shared_text(),
            to: transfer.to.shared_text(),
            quantity: transfer.quantity,
            corrects: transfer.corrects,
            hash,
        });
        previous = hash;
        if rows.len() == current_len {
            current_len = piece_len;
            let left = batch.transfers.len() - offset - 1;
            let full = std::mem::replace(&mut rows, Vec::with_capacity(left.min(piece_len)));
            if !emit(full) {
                return;
            }
        }
    }
    if !rows.is_empty() {
        emit(rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(hash: &Hash32) -> String {
        hash.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Handing the entries over in pieces changes none of them: the same
    /// chain, in the same order, whatever the piece length.
    #[test]
    fn journal_rows_in_pieces_match_journal_rows() {
        let header = BatchHeader {
            id: 3,
            key: "k".into(),
            kind: "test".into(),
            content_digest: [1; 32],
            recorded_at_unix_ms: 1_760_000_000_000,
        };
        let new_lots: Vec<LotSpec> = (0..300)
            .map(|i| LotSpec {
                item: "HEB-10KG".into(),
                donor: "RU-EMERCOM".into(),
                batch: format!("B-{i}"),
                expiry: None,
                earmark: vec![],
            })
            .collect();
        let transfers = (0..300)
            .map(|i| TransferSpec {
                lot: LotRef::New(i),
                from: Account::parse("source:RU-EMERCOM").expect("account"),
                to: Account::parse("inbound:SEA-1").expect("account"),
                quantity: 1 + i as i64,
                corrects: None,
            })
            .collect();
        let batch = Batch {
            key: "k".into(),
            kind: "test".into(),
            new_lots,
            transfers,
        };
        let ids: Vec<i64> = (100..400).collect();
        let none: HashMap<i64, LotSpec> = HashMap::new();
        let whole = journal_rows(&batch, &header, &none, &ids, 50, [7; 32]);
        assert_eq!(whole.len(), 300);
        for piece_len in [1, 7, 128, 299, 300, 1000] {
            let mut pieces = Vec::new();
            journal_rows_in_pieces(&batch, &header, &none, &ids, 50, [7; 32], piece_len, |p| {
                assert!(!p.is_empty() && p.len() <= piece_len);
                pieces.push(p);
                true
            });
            let joined: Vec<JournalEntry> = pieces.into_iter().flatten().collect();
            assert_eq!(joined, whole, "piece length {piece_len}");
        }
        // Stopping early hands over nothing more.
        let mut handed = 0;
        journal_rows_in_pieces(&batch, &header, &none, &ids, 50, [7; 32], 10, |p| {
            handed += p.len();
            false
        });
        assert_eq!(handed, 10 / 4, "the first piece is a quarter of the others");
    }

    /// The encoding is part of every stored journal: it must never change.
    #[test]
    fn entry_hash_encoding_is_stable() {
        let header = BatchHeader {
            id: 7,
            key: "manifest:SEA-1".into(),
            kind: "manifest.import".into(),
            content_digest: [3; 32],
            recorded_at_unix_ms: 1_760_000_000_123,
        };
        let lot = LotSpec {
            item: "HEB-10KG".into(),
            donor: "RU-EMERCOM".into(),
            batch: "B-42".into(),
            expiry: crate::domain::parse_date("2027-03-09"),
            earmark: vec!["SD".into(), "TD".into()],
        };
        let plain = LotSpec {
            expiry: None,
            earmark: vec![],
            ..lot.clone()
        };
        let a = entry_hash(
            &[9; 32],
            &header,
            &lot,
            12,
            5,
            "source:RU-EMERCOM",
            "inbound:SEA-1",
            250,
            None,
        );
        let b = entry_hash(
            &a,
            &header,
            &plain,
            13,
            6,
            "at:TARTUS-PORT",
            "loss:damaged",
            3,
            Some(12),
        );
        assert_eq!(
            hex(&a),
            "ad6e8f0d9a5dbff76b7140dc63169aaf45ea5e8b00fa86f493ae1597edc37f77"
        );
        assert_eq!(
            hex(&b),
            "3eb8ea6056afbc7446b95dad4c85de6a03742689cb922316dd793bf2a3faef0e"
        );
    }
}
