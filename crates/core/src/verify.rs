//! Verification of a stored journal: the hash chain, the entries' own rules,
//! and every balance recomputed from the transfers.

use std::collections::HashMap;

use crate::account::Account;
use crate::domain::LotSpec;
use crate::ledger::{entry_hash, BatchHeader, Hash32, JournalEntry, GENESIS_HASH};

/// The first problem found, naming the entry or balance.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyFailure {
    #[error("journal entry {expected} is missing or was renumbered: entry {seq} (batch {batch_id}) stands in its place")]
    Gap {
        seq: i64,
        batch_id: i64,
        expected: i64,
    },
    #[error("journal entry {seq} (batch {batch_id}): its hash does not match its content and the previous entry; the entry, its batch or its lot was altered")]
    HashMismatch { seq: i64, batch_id: i64 },
    #[error(
        "journal entry {seq} (batch {batch_id}): refers to batch {batch_id}, which does not exist"
    )]
    MissingBatch { seq: i64, batch_id: i64 },
    #[error(
        "journal entry {seq} (batch {batch_id}): refers to lot {lot_id}, which does not exist"
    )]
    MissingLot {
        seq: i64,
        batch_id: i64,
        lot_id: i64,
    },
    #[error("journal entry {seq} (batch {batch_id}): {rule}")]
    BadEntry {
        seq: i64,
        batch_id: i64,
        rule: String,
    },
    #[error("balance of `{account}` for lot {lot_id}: stored {stored}, recomputed from the journal {recomputed}")]
    BalanceMismatch {
        account: String,
        lot_id: i64,
        stored: i64,
        recomputed: i64,
    },
    #[error("balance of `{account}` for lot {lot_id} is {balance}: only a pledge source may be negative")]
    NegativeBalance {
        account: String,
        lot_id: i64,
        balance: i64,
    },
}

impl VerifyFailure {
    /// The sequence number of the entry at fault, when the failure is an entry's.
    pub fn seq(&self) -> Option<i64> {
        match self {
            VerifyFailure::Gap { expected, .. } => Some(*expected),
            VerifyFailure::HashMismatch { seq, .. }
            | VerifyFailure::MissingBatch { seq, .. }
            | VerifyFailure::MissingLot { seq, .. }
            | VerifyFailure::BadEntry { seq, .. } => Some(*seq),
            VerifyFailure::BalanceMismatch { .. } | VerifyFailure::NegativeBalance { .. } => None,
        }
    }
}

/// A summary of a successful verification.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifySummary {
    pub entries: u64,
    pub balances: u64,
    pub last_hash: Hash32,
}

/// Feeds journal entries in sequence order and recomputes the chain and the
/// balances. The store streams entries in; this type does no IO.
pub struct Verifier {
    previous: Hash32,
    expected_seq: i64,
    entries: u64,
    balances: HashMap<(String, i64), i64>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier::new()
    }
}

impl Verifier {
    pub fn new() -> Verifier {
        Verifier {
            previous: GENESIS_HASH,
            expected_seq: 1,
            entries: 0,
            balances: HashMap::new(),
        }
    }

    /// Checks one entry against the chain so far.
    pub fn feed(
        &mut self,
        entry: &JournalEntry,
        header: Option<&BatchHeader>,
        lot: Option<&LotSpec>,
    ) -> Result<(), VerifyFailure> {
        let (seq, batch_id) = (entry.seq, entry.batch_id);
        if seq != self.expected_seq {
            return Err(VerifyFailure::Gap {
                seq,
                batch_id,
                expected: self.expected_seq,
            });
        }
        let header = header.ok_or(VerifyFailure::MissingBatch { seq, batch_id })?;
        let lot = lot.ok_or(VerifyFailure::MissingLot {
            seq,
            batch_id,
            lot_id: entry.lot_id,
        })?;
        let recomputed = entry_hash(
            &self.previous,
            header,
            lot,
            seq,
            entry.lot_id,
            &entry.from,
            &entry.to,
            entry.quantity,
            entry.corrects,
        );
        if recomputed != entry.hash || header.id != batch_id {
            return Err(VerifyFailure::HashMismatch { seq, batch_id });
        }
        let bad = |rule: String| VerifyFailure::BadEntry {
            seq,
            batch_id,
            rule,
        };
        if entry.quantity <= 0 {
            return Err(bad(format!("quantity {} is not positive", entry.quantity)));
        }
        for text in [&entry.from, &entry.to] {
            Account::parse(text).map_err(|e| bad(e.to_string()))?;
        }
        if entry.from == entry.to {
            return Err(bad("moves stock from an account to itself".to_string()));
        }
        if let Some(corrects) = entry.corrects {
            if corrects <= 0 || corrects >= seq {
                return Err(bad(format!(
                    "corrects entry {corrects}, which is not an earlier entry"
                )));
            }
        }
        *self
            .balances
            .entry((entry.from.to_string(), entry.lot_id))
            .or_insert(0) -= entry.quantity;
        *self
            .balances
            .entry((entry.to.to_string(), entry.lot_id))
            .or_insert(0) += entry.quantity;
        self.previous = entry.hash;
        self.expected_seq += 1;
        self.entries += 1;
        Ok(())
    }

    /// Compares the stored balances with the recomputed ones and checks that
    /// none but a pledge source is negative.
    pub fn finish(
        self,
        stored: impl IntoIterator<Item = (String, i64, i64)>,
    ) -> Result<VerifySummary, VerifyFailure> {
        let mut recomputed = self.balances;
        recomputed.retain(|_, balance| *balance != 0);
        let mut count = 0;
        let mut stored_nonzero: Vec<(String, i64, i64)> = stored
            .into_iter()
            .filter(|(_, _, balance)| *balance != 0)
            .collect();
        stored_nonzero.sort();
        for (account, lot_id, balance) in stored_nonzero {
            count += 1;
            let computed = recomputed.remove(&(account.clone(), lot_id)).unwrap_or(0);
            if computed != balance {
                return Err(VerifyFailure::BalanceMismatch {
                    account,
                    lot_id,
                    stored: balance,
                    recomputed: computed,
                });
            }
            let negative_allowed = Account::parse(&account).is_ok_and(|a| a.may_go_negative());
            if balance < 0 && !negative_allowed {
                return Err(VerifyFailure::NegativeBalance {
                    account,
                    lot_id,
                    balance,
                });
            }
        }
        let mut missing: Vec<_> = recomputed.into_iter().collect();
        missing.sort();
        if let Some(((account, lot_id), balance)) = missing.into_iter().next() {
            return Err(VerifyFailure::BalanceMismatch {
                account,
                lot_id,
                stored: 0,
                recomputed: balance,
            });
        }
        Ok(VerifySummary {
            entries: self.entries,
            balances: count,
            last_hash: self.previous,
        })
    }
}
