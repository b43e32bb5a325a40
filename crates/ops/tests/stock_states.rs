//! The hub's stock by state, on the demo hub and after each step of a table
//! of operations, on SQLite and PostgreSQL: a lot's quantity is the same
//! whichever way it is summed. Per lot, the rows of `stock_held` (at the
//! nodes, in quarantine, on hub transfers, loaded on departures not yet
//! left) sum to the lot's balance in the hub's hands recomputed from the
//! journal, and to what the ledger's conservation leaves for the hub once
//! the donor, the pledges, the inbound legs, the departures that left, the
//! deliveries and the losses are taken off; the stock position report's
//! state columns and totals are those rows summed, and its `lots` counts
//! each lot once.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use reliefhub_core::reference::builtin;
use reliefhub_core::{Account, AccountKind};
use reliefhub_ops::{LoadLine, Mode, Moment, NewDeparture, NewTransfer, Ops, Service, StockState};
use reliefhub_store::Store;
use reliefhub_testkit::both_backends;
use time::macros::date;

const PORT: &str = "TARTUS-PORT";
const AIR: &str = "HMEIMIM-AIR";

/// Per lot: the hub's balance (at, quarantine, transfer, outbound on a
/// departure not yet left) and the rest of the ledger's accounts, both
/// summed from the journal's entries.
fn ledger_by_lot(ops: &mut Ops) -> (BTreeMap<i64, i64>, BTreeMap<i64, i64>) {
    let left: BTreeSet<String> = ops
        .departures()
        .unwrap()
        .into_iter()
        .filter(|d| d.status.has_left())
        .map(|d| d.departure.code)
        .collect();
    let entries = ops
        .store()
        .read(|conn| {
            conn.query(
                "SELECT lot_id, from_account, to_account, quantity FROM journal ORDER BY seq",
                &[],
            )
        })
        .unwrap();
    let mut balances: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for e in entries {
        let (lot, q) = (e[0].int().unwrap(), e[3].int().unwrap());
        *balances.entry((e[1].text().unwrap(), lot)).or_default() -= q;
        *balances.entry((e[2].text().unwrap(), lot)).or_default() += q;
    }
    let (mut held, mut elsewhere) = (BTreeMap::new(), BTreeMap::new());
    for ((account, lot), q) in balances {
        let account = Account::parse(&account).unwrap();
        let hub = match account.kind() {
            AccountKind::AtNode | AccountKind::Quarantine | AccountKind::NodeTransit => true,
            AccountKind::OutboundTransit => !left.contains(account.reference()),
            _ => false,
        };
        *if hub { &mut held } else { &mut elsewhere }
            .entry(lot)
            .or_default() += q;
    }
    (held, elsewhere)
}

/// Every way of summing the hub's stock gives the same figures.
fn assert_sums_agree(ops: &mut Ops, step: &str) {
    let rows = ops.stock_held(None, None).unwrap();
    let mut by_lot: BTreeMap<i64, i64> = BTreeMap::new();
    for r in &rows {
        assert!(r.quantity > 0, "{step}: a row of nothing: {r:?}");
        assert_eq!(
            r.document.is_some(),
            matches!(r.state, StockState::InTransit | StockState::Loaded),
            "{step}: only stock on a transfer or a departure names a document: {r:?}"
        );
        *by_lot.entry(r.lot_id).or_default() += r.quantity;
    }
    let (held, elsewhere) = ledger_by_lot(ops);
    let held: BTreeMap<i64, i64> = held.into_iter().filter(|(_, q)| *q != 0).collect();
    assert_eq!(
        by_lot, held,
        "{step}: stock rows against the journal, per lot"
    );
    // Conservation: what is not elsewhere in the ledger is in the hub's hands.
    for (lot, q) in &elsewhere {
        assert_eq!(
            by_lot.get(lot).copied().unwrap_or(0),
            -q,
            "{step}: lot {lot}: the stock rows and the rest of the ledger"
        );
    }
    // The at-node listing is the available and quarantined rows.
    let at_nodes = ops.stock(None, None).unwrap();
    let expected: Vec<_> = rows
        .iter()
        .filter(|r| matches!(r.state, StockState::Available | StockState::Quarantine))
        .cloned()
        .collect();
    assert_eq!(at_nodes, expected, "{step}: stock at the nodes");

    // The report: per node and item, each state's units, the total and the
    // lots counted once.
    let report = ops.stock_position().unwrap().json();
    let mut want: BTreeMap<(String, String), [i64; 5]> = BTreeMap::new();
    let mut lots: BTreeMap<(String, String), BTreeSet<i64>> = BTreeMap::new();
    for r in &rows {
        let key = (r.node.clone(), r.item.clone());
        let slot = match r.state {
            StockState::Available => 0,
            StockState::Quarantine => 1,
            StockState::InTransit => 2,
            StockState::Loaded => 3,
        };
        let w = want.entry(key.clone()).or_default();
        w[slot] += r.quantity;
        w[4] += r.quantity;
        lots.entry(key).or_default().insert(r.lot_id);
    }
    let mut got: BTreeMap<(String, String), [i64; 5]> = BTreeMap::new();
    let mut report_total = 0;
    for row in report.as_array().unwrap() {
        let key = (
            row["node"].as_str().unwrap().to_string(),
            row["item"].as_str().unwrap().to_string(),
        );
        let n = |k: &str| row[k].as_i64().unwrap();
        assert_eq!(
            n("available") + n("quarantined") + n("in_transit") + n("loaded"),
            n("total"),
            "{step}: {key:?}: the states add up to the total"
        );
        assert_eq!(
            n("lots"),
            lots.get(&key).map_or(0, |l| l.len() as i64),
            "{step}: {key:?}: each lot counted once"
        );
        report_total += n("total");
        got.insert(
            key,
            [
                n("available"),
                n("quarantined"),
                n("in_transit"),
                n("loaded"),
                n("total"),
            ],
        );
    }
    assert_eq!(got, want, "{step}: the report against the stock rows");
    assert_eq!(
        report_total,
        held.values().sum::<i64>(),
        "{step}: the report's total against the journal"
    );
}

/// A lot available at `node` with 10 units or more (the `skip`-th).
fn available(ops: &mut Ops, node: &str, skip: usize) -> reliefhub_ops::StockRow {
    ops.stock(Some(node), None)
        .unwrap()
        .into_iter()
        .filter(|r| r.state == StockState::Available && r.quantity >= 10)
        .nth(skip)
        .unwrap()
}

/// Half of a lot at the port dispatched to the airport.
fn transfer(ops: &mut Ops, code: &str, day: Moment) {
    let lot = available(ops, PORT, 1);
    ops.dispatch_transfer(
        &NewTransfer {
            code: code.into(),
            from_node: PORT.into(),
            to_node: AIR.into(),
            vehicle: "truck".into(),
            dispatched_on: day.date,
            lines: vec![(lot.lot_id, lot.quantity / 2)],
        },
        None,
        day,
    )
    .unwrap();
}

/// Half of a lot at the port that may sail to Port Sudan, loaded on a new
/// sailing that leaves in a week.
fn load(ops: &mut Ops, day: Moment) {
    let items = ops.store().items().unwrap();
    let lot = ops
        .stock(Some(PORT), None)
        .unwrap()
        .into_iter()
        .find(|r| {
            let item = items.iter().find(|i| i.code == r.item).unwrap();
            r.state == StockState::Available
                && r.quantity >= 2
                && item.un_number.is_none()
                && !item.cold_chain
                && (r.earmark.is_empty() || r.earmark.iter().any(|c| c == "SD"))
                && r.expiry.is_none_or(|e| e > date!(2026 - 06 - 30))
                && (r.expiry.is_some() || !item.needs_expiry)
        })
        .expect("the demo leaves stock at the port that can sail");
    let departs_on = day.date + time::Duration::days(7);
    ops.add_departure(
        &NewDeparture {
            code: "SEA-STATES".into(),
            node: PORT.into(),
            destination: "SDPZU".into(),
            mode: Mode::Sea,
            service: Service::Charter,
            vehicle: "MV States".into(),
            departs_on,
            arrives_on: departs_on + time::Duration::days(7),
            payload_kg: 1e7,
            volume_m3: 1e5,
            cold_volume_m3: 0.0,
            dangerous_goods_allowed: false,
            fixed_cost_usd: 0.0,
            cost_per_kg_usd: 0.0,
        },
        day,
    )
    .unwrap();
    let line = LoadLine {
        lot_id: lot.lot_id,
        quantity: lot.quantity / 2,
        request: None,
    };
    ops.load("SEA-STATES", &[line], None, day).unwrap();
}

fn stock_sums_the_same_whichever_way(url: &str) {
    let mut store = Store::open(url).unwrap();
    store.migrate(0).unwrap();
    store.load_reference_data(&builtin()).unwrap();
    let mut ops = Ops::from_store(store);
    reliefhub_ops::demo::play(&mut ops, 2025).unwrap();
    assert_sums_agree(&mut ops, "the demo hub");
    let day = Moment::on(date!(2025 - 03 - 31));

    // A table of steps, each leaving stock in another state.
    type Step = (&'static str, fn(&mut Ops, Moment));
    let steps: [Step; 6] = [
        ("part of a lot in quarantine", |ops, day| {
            let lot = available(ops, PORT, 0);
            ops.quarantine(PORT, lot.lot_id, lot.quantity / 2, "wet cartons", None, day)
                .unwrap();
        }),
        ("part of a lot on a hub transfer", |ops, day| {
            transfer(ops, "TR-STATES-1", day);
        }),
        ("that transfer arrived", |ops, day| {
            ops.arrive_transfer("TR-STATES-1", None, day).unwrap();
        }),
        ("another transfer on the road", |ops, day| {
            transfer(ops, "TR-STATES-2", day);
        }),
        (
            "part of a lot loaded on a sailing not yet left",
            |ops, day| {
                load(ops, day);
            },
        ),
        ("a lot partly written off", |ops, day| {
            let lot = available(ops, AIR, 0);
            ops.write_off(
                AIR,
                lot.lot_id,
                1,
                false,
                reliefhub_core::LossReason::Damaged,
                "torn",
                None,
                day,
            )
            .unwrap();
        }),
    ];
    let mut seen: BTreeSet<StockState> = BTreeSet::new();
    for (name, step) in steps {
        step(&mut ops, day);
        assert_sums_agree(&mut ops, name);
        seen.extend(ops.stock_held(None, None).unwrap().iter().map(|r| r.state));
    }
    assert_eq!(
        seen,
        StockState::ALL.iter().copied().collect(),
        "the steps leave stock in every state"
    );
}

both_backends!(stock_sums_the_same_whichever_way);
