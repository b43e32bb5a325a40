//! Ledger accounts: the places and states where stock can be.
//!
//! An account is written canonically as `kind:reference`, for example
//! `at:TARTUS-PORT` or `loss:damaged`. The canonical text is what the journal
//! stores and hashes, so it must never change for an existing account.

use std::fmt;
use std::sync::Arc;

/// The kind of an account. Each kind names what its reference is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountKind {
    /// The world outside the hub, per donor organisation: the pledge source.
    /// It is the only kind of account that may go negative.
    Source,
    /// Promised by a donor (reference: donor organisation code).
    Pledged,
    /// On an inbound sailing or flight (reference: inbound leg code).
    InboundTransit,
    /// Stored at a hub node (reference: node code).
    AtNode,
    /// Held in quarantine at a hub node (reference: node code).
    Quarantine,
    /// Moving between the hub's own nodes (reference: hub transfer code).
    NodeTransit,
    /// Loaded on an outbound departure (reference: departure code).
    OutboundTransit,
    /// Delivered to a destination (reference: UN/LOCODE).
    Delivered,
    /// Lost, with a reason (reference: the reason).
    Loss,
}

impl AccountKind {
    pub const ALL: [AccountKind; 9] = [
        AccountKind::Source,
        AccountKind::Pledged,
        AccountKind::InboundTransit,
        AccountKind::AtNode,
        AccountKind::Quarantine,
        AccountKind::NodeTransit,
        AccountKind::OutboundTransit,
        AccountKind::Delivered,
        AccountKind::Loss,
    ];

    /// The prefix of the canonical text.
    pub fn prefix(self) -> &'static str {
        match self {
            AccountKind::Source => "source",
            AccountKind::Pledged => "pledged",
            AccountKind::InboundTransit => "inbound",
            AccountKind::AtNode => "at",
            AccountKind::Quarantine => "quarantine",
            AccountKind::NodeTransit => "transfer",
            AccountKind::OutboundTransit => "outbound",
            AccountKind::Delivered => "delivered",
            AccountKind::Loss => "loss",
        }
    }

    fn from_prefix(prefix: &str) -> Option<AccountKind> {
        AccountKind::ALL
            .into_iter()
            .find(|kind| kind.prefix() == prefix)
    }
}

/// Reasons for a loss. The list is closed so that reports can group by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LossReason {
    Damaged,
    Expired,
    ShortLanded,
    Stolen,
    CountAdjustment,
    ShortDelivered,
}

impl LossReason {
    pub const ALL: [LossReason; 6] = [
        LossReason::Damaged,
        LossReason::Expired,
        LossReason::ShortLanded,
        LossReason::Stolen,
        LossReason::CountAdjustment,
        LossReason::ShortDelivered,
    ];

    pub fn code(self) -> &'static str {
        match self {
            LossReason::Damaged => "damaged",
            LossReason::Expired => "expired",
            LossReason::ShortLanded => "short-landed",
            LossReason::Stolen => "stolen",
            LossReason::CountAdjustment => "count-adjustment",
            LossReason::ShortDelivered => "short-delivered",
        }
    }

    pub fn parse(text: &str) -> Option<LossReason> {
        LossReason::ALL
            .into_iter()
            .find(|reason| reason.code() == text)
    }
}

/// A ledger account: a kind and a reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Account {
    kind: AccountKind,
    /// The canonical `kind:reference` text, kept whole because the ledger
    /// hashes and stores it for every transfer; shared, because a batch
    /// names the same few accounts in thousands of transfers.
    text: Arc<str>,
}

/// Why an account text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountParseError {
    #[error("account `{0}` has no `kind:reference` form")]
    NoColon(String),
    #[error("account `{text}` has an unknown kind `{kind}` (known: source, pledged, inbound, at, quarantine, transfer, outbound, delivered, loss)")]
    UnknownKind { text: String, kind: String },
    #[error("account `{0}` has an empty reference")]
    EmptyReference(String),
    #[error("account `{0}` has a reference with characters other than letters, digits, `-`, `_`, `.` and `/`")]
    BadReference(String),
    #[error("account `{text}` names an unknown loss reason `{reason}`")]
    UnknownLossReason { text: String, reason: String },
}

fn reference_is_valid(reference: &str) -> bool {
    reference.len() <= 64
        && reference
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

impl Account {
    /// Builds an account, checking the reference.
    pub fn new(kind: AccountKind, reference: &str) -> Result<Account, AccountParseError> {
        let text = format!("{}:{}", kind.prefix(), reference);
        if reference.is_empty() {
            return Err(AccountParseError::EmptyReference(text));
        }
        if !reference_is_valid(reference) {
            return Err(AccountParseError::BadReference(text));
        }
        if kind == AccountKind::Loss && LossReason::parse(reference).is_none() {
            return Err(AccountParseError::UnknownLossReason {
                text,
                reason: reference.to_string(),
            });
        }
        Ok(Account {
            kind,
            text: text.into(),
        })
    }

    /// Reads the canonical `kind:reference` text.
    pub fn parse(text: &str) -> Result<Account, AccountParseError> {
        let (prefix, reference) = text
            .split_once(':')
            .ok_or_else(|| AccountParseError::NoColon(text.to_string()))?;
        let kind =
            AccountKind::from_prefix(prefix).ok_or_else(|| AccountParseError::UnknownKind {
                text: text.to_string(),
                kind: prefix.to_string(),
            })?;
        Account::new(kind, reference)
    }

    pub fn source(donor: &str) -> Result<Account, AccountParseError> {
        Account::new(AccountKind::Source, donor)
    }
    pub fn pledged(donor: &str) -> Result<Account, AccountParseError> {
        Account::new(AccountKind::Pledged, donor)
    }
    pub fn inbound(leg: &str) -> Result<Account, AccountParseError> {
        Account::new(AccountKind::InboundTransit, leg)
    }
    pub fn at_node(node: &str) -> Result<Account, AccountParseError> {
        Account::new(AccountKind::AtNode, node)
    }
    pub fn quarantine(node: &str) -> Result<Account, AccountParseError> {
        Account::new(AccountKind::Quarantine, node)
    }
    pub fn node_transit(hub_transfer: &str) -> Result<Account, AccountParseError> {
        Account::new(AccountKind::NodeTransit, hub_transfer)
    }
    pub fn outbound(departure: &str) -> Result<Account, AccountParseError> {
        Account::new(AccountKind::OutboundTransit, departure)
    }
    pub fn delivered(locode: &str) -> Result<Account, AccountParseError> {
        Account::new(AccountKind::Delivered, locode)
    }
    pub fn loss(reason: LossReason) -> Account {
        Account {
            kind: AccountKind::Loss,
            text: format!("loss:{}", reason.code()).into(),
        }
    }

    pub fn kind(&self) -> AccountKind {
        self.kind
    }
    pub fn reference(&self) -> &str {
        &self.text[self.kind.prefix().len() + 1..]
    }
    /// Only the pledge source may hold a negative balance.
    pub fn may_go_negative(&self) -> bool {
        self.kind == AccountKind::Source
    }
    /// The canonical text, shared (a pointer copy, not a string copy).
    pub fn shared_text(&self) -> Arc<str> {
        Arc::clone(&self.text)
    }

    /// The canonical text, as stored and hashed.
    pub fn canonical(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_round_trips_for_every_kind() {
        for kind in AccountKind::ALL {
            let reference = if kind == AccountKind::Loss {
                "damaged"
            } else {
                "TARTUS-PORT"
            };
            let account = Account::new(kind, reference).expect("valid account");
            assert_eq!(Account::parse(account.canonical()), Ok(account.clone()));
        }
    }

    #[test]
    fn bad_account_texts_are_refused_with_the_reason() {
        assert!(matches!(
            Account::parse("at"),
            Err(AccountParseError::NoColon(_))
        ));
        assert!(matches!(
            Account::parse("shelf:X"),
            Err(AccountParseError::UnknownKind { .. })
        ));
        assert!(matches!(
            Account::parse("at:"),
            Err(AccountParseError::EmptyReference(_))
        ));
        assert!(matches!(
            Account::parse("at:a b"),
            Err(AccountParseError::BadReference(_))
        ));
        assert!(matches!(
            Account::parse("loss:eaten"),
            Err(AccountParseError::UnknownLossReason { .. })
        ));
        assert!(Account::parse("source:RU-EMERCOM").is_ok_and(|a| a.may_go_negative()));
        assert!(Account::parse("at:X").is_ok_and(|a| !a.may_go_negative()));
    }
}
