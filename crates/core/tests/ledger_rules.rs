//! Properties of the pure ledger rules, without a database.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use proptest::prelude::*;
use reliefhub_core::ledger::{validate, BatchContext, ReferenceCodes};
use reliefhub_core::{Account, Batch, LedgerError, LotRef, LotSpec, TransferSpec};

fn codes() -> ReferenceCodes {
    let data = reliefhub_core::reference::builtin();
    ReferenceCodes {
        known_items: data.items.iter().map(|i| i.code.clone()).collect(),
        known_donors: data
            .organisations
            .iter()
            .filter(|o| o.kind == reliefhub_core::OrganisationKind::Donor)
            .map(|o| o.code.clone())
            .collect(),
        known_nodes: data.nodes.iter().map(|n| n.code.clone()).collect(),
        known_destinations: data.destinations.iter().map(|d| d.locode.clone()).collect(),
    }
}

fn accounts() -> Vec<Account> {
    vec![
        Account::source("RU-EMERCOM").unwrap(),
        Account::at_node("TARTUS-PORT").unwrap(),
        Account::at_node("HMEIMIM-AIR").unwrap(),
        Account::outbound("D-1").unwrap(),
        Account::delivered("SDPZU").unwrap(),
    ]
}

fn context(balances: &[(usize, i64, i64)]) -> BatchContext {
    let accounts = accounts();
    let mut ctx = BatchContext::default();
    for lot in 1..=3 {
        ctx.lots.insert(
            lot,
            LotSpec {
                item: "HEB-10KG".into(),
                donor: "RU-EMERCOM".into(),
                batch: String::new(),
                expiry: None,
                earmark: vec![],
            },
        );
    }
    for (account, lot, quantity) in balances {
        ctx.balances
            .insert((accounts[*account].clone(), *lot), *quantity);
    }
    ctx
}

proptest! {
    /// Whatever the batch, an accepted one conserves every lot, leaves no
    /// account but the source negative, and a refused one names a rule.
    #[test]
    fn accepted_batches_conserve_and_stay_non_negative(
        start in proptest::collection::vec((1usize..5, 1i64..=3, 0i64..50), 0..8),
        moves in proptest::collection::vec((0usize..5, 0usize..5, 1i64..=3, -5i64..60), 1..12),
    ) {
        let accounts = accounts();
        let ctx = context(&start);
        let transfers: Vec<TransferSpec> = moves.iter().map(|(from, to, lot, quantity)| TransferSpec {
            lot: LotRef::Existing(*lot), from: accounts[*from].clone(), to: accounts[*to].clone(), quantity: *quantity, corrects: None,
        }).collect();
        let batch = Batch { key: "k".into(), kind: "t".into(), new_lots: vec![], transfers };
        match validate(&batch, &codes(), &ctx) {
            Ok(changes) => {
                let mut per_lot: HashMap<LotRef, i64> = HashMap::new();
                for change in &changes {
                    *per_lot.entry(change.lot).or_insert(0) += change.delta;
                    prop_assert!(change.balance_after >= 0 || change.account.may_go_negative());
                }
                prop_assert!(per_lot.values().all(|sum| *sum == 0));
                prop_assert!(batch.transfers.iter().all(|t| t.quantity > 0 && t.from != t.to));
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                let explained = errors.iter().all(|e| matches!(e,
                    LedgerError::BadQuantity { .. } | LedgerError::SameAccount { .. } | LedgerError::InsufficientBalance { .. }));
                prop_assert!(explained, "{errors:?}");
            }
        }
    }

    /// The content digest ignores the key and sees every other change.
    #[test]
    fn content_digest_depends_on_content_not_key(quantity in 1i64..1000, other in 1i64..1000) {
        let make = |key: &str, quantity: i64| Batch {
            key: key.into(), kind: "receive".into(), new_lots: vec![],
            transfers: vec![TransferSpec { lot: LotRef::Existing(1), from: accounts()[0].clone(), to: accounts()[1].clone(), quantity, corrects: None }],
        };
        prop_assert_eq!(make("a", quantity).content_digest(), make("b", quantity).content_digest());
        prop_assert_eq!(make("a", quantity).content_digest() == make("a", other).content_digest(), quantity == other);
    }
}

#[test]
fn every_problem_of_a_batch_is_reported_at_once() {
    let accounts = accounts();
    let batch = Batch {
        key: "k".into(),
        kind: "receive".into(),
        new_lots: vec![LotSpec {
            item: "NOPE".into(),
            donor: "NOBODY".into(),
            batch: String::new(),
            expiry: None,
            earmark: vec!["sudan".into()],
        }],
        transfers: vec![
            TransferSpec {
                lot: LotRef::New(0),
                from: accounts[0].clone(),
                to: accounts[1].clone(),
                quantity: 0,
                corrects: None,
            },
            TransferSpec {
                lot: LotRef::Existing(99),
                from: accounts[1].clone(),
                to: accounts[2].clone(),
                quantity: 1,
                corrects: None,
            },
            TransferSpec {
                lot: LotRef::New(5),
                from: accounts[0].clone(),
                to: Account::at_node("MOON").unwrap(),
                quantity: 1,
                corrects: None,
            },
        ],
    };
    let errors = validate(&batch, &codes(), &context(&[])).unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    for expected in [
        "item `NOPE` is not in the catalogue",
        "donor `NOBODY`",
        "earmark `sudan`",
        "transfer 1: quantity 0",
        "transfer 2: lot 99 does not exist",
        "transfer 3: new lot 5",
        "`at:MOON` names an unknown hub node",
    ] {
        assert!(
            text.iter().any(|t| t.contains(expected)),
            "missing `{expected}` in {text:#?}"
        );
    }
}
