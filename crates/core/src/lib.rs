//! The pure core of reliefhub: domain types, the ledger rules and the
//! verification of a journal. No IO, no clock, no SQL: callers pass in what
//! the rules need, including the current time.

pub mod account;
pub mod domain;
pub mod ledger;
pub mod merkle;
pub mod oplog;
pub mod problem;
pub mod reference;
pub mod verify;

pub use account::{Account, AccountKind, LossReason};
pub use domain::{
    Airport, Country, Destination, Item, Lot, LotSpec, Names, Node, NodeKind, Organisation,
    OrganisationKind,
};
pub use ledger::{Batch, BatchContext, LedgerError, LotRef, TransferSpec};
pub use problem::{Code, Problem};
