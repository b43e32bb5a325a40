//! The flows of goods the map draws (`Ops::flows`), on the demo hub, on
//! SQLite and PostgreSQL: every stage's figures, in units and kg, agree with
//! the documents and reports written by other code — received with the
//! goods-received notes, still inbound with the legs, at the hub with the
//! stock, delivered with the proofs of delivery, and every stage per donor
//! with the donor's statement.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use reliefhub_core::reference::builtin;
use reliefhub_ops::views::{Flow, FlowStage};
use reliefhub_ops::Ops;
use reliefhub_store::Store;
use reliefhub_testkit::both_backends;

/// Units and kg.
#[derive(Debug, Default, Clone, Copy)]
struct Amount {
    units: i64,
    kg: f64,
}

impl Amount {
    fn add(&mut self, units: i64, kg: f64) {
        self.units += units;
        self.kg += kg;
    }
}

/// The flows of one stage, summed by a key of the flow.
fn by(flows: &[Flow], stage: FlowStage, key: impl Fn(&Flow) -> String) -> BTreeMap<String, Amount> {
    let mut out: BTreeMap<String, Amount> = BTreeMap::new();
    for f in flows.iter().filter(|f| f.stage == stage) {
        out.entry(key(f)).or_default().add(f.units, f.weight_kg);
    }
    out
}

/// Each flow's kg is rounded to 0.1 kg; `rows` roundings at most.
fn assert_same(
    what: &str,
    flows: &BTreeMap<String, Amount>,
    expected: &BTreeMap<String, Amount>,
    rows: usize,
) {
    let keys: Vec<_> = flows
        .keys()
        .chain(expected.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for key in keys {
        let got = flows.get(key).copied().unwrap_or_default();
        let want = expected.get(key).copied().unwrap_or_default();
        assert_eq!(got.units, want.units, "{what} of {key}: units");
        assert!(
            (got.kg - want.kg).abs() <= 0.05 * rows as f64 + 1e-6,
            "{what} of {key}: {} kg in the flows, {} kg expected",
            got.kg,
            want.kg
        );
    }
}

fn flows_follow_the_goods_through_every_stage(url: &str) {
    let mut store = Store::open(url).unwrap();
    store.migrate(0).unwrap();
    let reference = builtin();
    store.load_reference_data(&reference).unwrap();
    let mut ops = Ops::from_store(store);
    reliefhub_ops::demo::play(&mut ops, 2025).unwrap();
    let kg_per_unit: BTreeMap<String, f64> = reference
        .items
        .iter()
        .map(|i| (i.code.clone(), i.unit_weight_kg))
        .collect();
    let weight = |item: &str, units: i64| kg_per_unit[item] * units as f64;

    let flows = ops.flows().unwrap();
    let rows = flows.len();
    let donor = |f: &Flow| f.donor.clone();
    let donor_node = |f: &Flow| format!("{} at {}", f.donor, f.node);

    // Donor -> hub: received as the goods-received notes counted, per donor
    // and node; still inbound as the legs' open balances.
    let mut received: BTreeMap<String, Amount> = BTreeMap::new();
    let mut inbound_units: BTreeMap<String, i64> = BTreeMap::new();
    for leg in ops.legs().unwrap() {
        *inbound_units.entry(leg.leg.node.clone()).or_default() += leg.in_transit_quantity;
        if leg.received_lines == 0 {
            continue;
        }
        for line in ops.goods_received_note(&leg.leg.code).unwrap().lines {
            received
                .entry(format!("{} at {}", line.donor, leg.leg.node))
                .or_default()
                .add(line.counted, weight(&line.item, line.counted));
        }
    }
    assert_same(
        "received",
        &by(&flows, FlowStage::Received, donor_node),
        &received,
        rows,
    );
    let received_kg: f64 = received.values().map(|a| a.kg).sum();
    assert!(received_kg > 0.0, "the demo receives goods");
    let in_transit = by(&flows, FlowStage::InTransit, |f| f.node.clone());
    for (node, units) in &inbound_units {
        assert_eq!(
            in_transit.get(node).map_or(0, |a| a.units),
            *units,
            "still inbound to {node}"
        );
    }

    // What is at the hub: the stock at each node, available and quarantined.
    let mut stock: BTreeMap<String, Amount> = BTreeMap::new();
    for row in ops.stock(None, None).unwrap() {
        stock
            .entry(format!("{} at {}", row.donor, row.node))
            .or_default()
            .add(row.quantity, row.weight_kg);
    }
    assert_same(
        "at the hub",
        &by(&flows, FlowStage::AtHub, donor_node),
        &stock,
        rows,
    );

    // Hub -> destination: delivered as the proofs of delivery counted.
    let mut delivered: BTreeMap<String, Amount> = BTreeMap::new();
    for departure in ops.departures().unwrap() {
        if departure.status != reliefhub_ops::DepartureStatus::Delivered {
            continue;
        }
        let pod = ops.proof_of_delivery(&departure.departure.code).unwrap();
        for line in &pod.lines {
            delivered
                .entry(format!(
                    "{} from {} to {}",
                    line.donor, departure.departure.node, departure.departure.destination
                ))
                .or_default()
                .add(line.received, weight(&line.item, line.received));
        }
    }
    delivered.retain(|_, a| a.units != 0);
    assert_same(
        "delivered",
        &by(&flows, FlowStage::Delivered, |f| {
            format!("{} from {} to {}", f.donor, f.node, f.destination)
        }),
        &delivered,
        rows,
    );

    // Every stage per donor, against the donor's statement (ledger balances).
    let mut statement: BTreeMap<FlowStage, BTreeMap<String, Amount>> = BTreeMap::new();
    let donors: Vec<String> = flows
        .iter()
        .map(|f| f.donor.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for code in &donors {
        let s = ops.donor_statement(code).unwrap();
        for item in &s.items {
            let figures = [
                (FlowStage::Pledged, item.pledge_outstanding),
                (FlowStage::InTransit, item.in_transit_inbound),
                (FlowStage::Received, item.received),
                (FlowStage::AtHub, item.in_stock + item.quarantined),
                (FlowStage::BetweenNodes, item.between_nodes),
                (FlowStage::Delivered, item.delivered),
            ];
            for (stage, units) in figures {
                if units != 0 {
                    statement
                        .entry(stage)
                        .or_default()
                        .entry(code.clone())
                        .or_default()
                        .add(units, weight(&item.item, units));
                }
            }
            if item.on_departures != 0 {
                // Loaded and departed together: on board, not yet delivered.
                statement
                    .entry(FlowStage::Loaded)
                    .or_default()
                    .entry(code.clone())
                    .or_default()
                    .add(item.on_departures, weight(&item.item, item.on_departures));
            }
        }
    }
    for stage in FlowStage::ALL {
        if stage == FlowStage::Departed {
            continue;
        }
        let mut flows_by_donor = by(&flows, stage, donor);
        if stage == FlowStage::Loaded {
            for (d, a) in by(&flows, FlowStage::Departed, donor) {
                flows_by_donor.entry(d).or_default().add(a.units, a.kg);
            }
        }
        assert_same(
            stage.code(),
            &flows_by_donor,
            statement.get(&stage).unwrap_or(&BTreeMap::new()),
            rows,
        );
    }

    // The map shows what donors sent, not only what was shipped on: the
    // demo received far more than it has loaded since.
    let shipped_kg: f64 = flows
        .iter()
        .filter(|f| f.stage.is_outbound())
        .map(|f| f.weight_kg)
        .sum();
    let received_flows_kg: f64 = flows
        .iter()
        .filter(|f| f.stage == FlowStage::Received)
        .map(|f| f.weight_kg)
        .sum();
    assert!(
        received_flows_kg > shipped_kg && shipped_kg > 0.0,
        "received {received_flows_kg} kg, shipped {shipped_kg} kg"
    );
    println!(
        "demo flows: received {:.1} t, shipped {:.1} t, {} rows",
        received_flows_kg / 1000.0,
        shipped_kg / 1000.0,
        rows
    );
}

both_backends!(flows_follow_the_goods_through_every_stage);
