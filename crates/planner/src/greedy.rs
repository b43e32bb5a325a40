//! The baseline for benchmarks: the way a logistics officer plans by hand.
//!
//! Requests are taken in order of value per kg, highest first. Each is filled
//! from the departures to its destination in order of arrival (on time or
//! within grace), with eligible stock oldest expiry first, whole packs only, up
//! to each departure's remaining payload, volume and cold volume. Finally every
//! departure whose cargo value (net of its per-kg cost) is below its fixed cost
//! is cancelled, and its cargo stays at the hub.

use crate::check::capacity_slack;
use crate::instance::{Day, Instance};
use crate::plan::{objective, timeliness, Allocation, Plan};
use crate::stock::StockLists;

/// Plans an instance the greedy way. The plan carries no bound and no reasons.
pub fn greedy_plan(instance: &Instance) -> Plan {
    let departure_count = instance.departures.len();
    let mut lot_left: Vec<i64> = instance.lots.iter().map(|lot| lot.quantity).collect();
    let mut weight_kg = vec![0.0f64; departure_count];
    let mut volume_m3 = vec![0.0f64; departure_count];
    let mut cold_m3 = vec![0.0f64; departure_count];
    let mut allocations: Vec<Allocation> = Vec::new();

    // Lots of each item a destination's earmark allows, oldest expiry first
    // (no expiry last).
    let mut item_lots: Vec<Vec<usize>> = vec![Vec::new(); instance.items.len()];
    for (l, lot) in instance.lots.iter().enumerate() {
        item_lots[lot.item].push(l);
    }
    for list in &mut item_lots {
        list.sort_by_key(|&l| (instance.lots[l].expires.unwrap_or(Day::MAX), l));
    }
    let lists: Vec<Vec<Vec<usize>>> = instance
        .destinations
        .iter()
        .map(|destination| {
            item_lots
                .iter()
                .map(|list| {
                    list.iter()
                        .copied()
                        .filter(|&l| Instance::earmark_allows(&instance.lots[l], destination))
                        .collect()
                })
                .collect()
        })
        .collect();
    // The same lists indexed by the day each lot can be loaded at each node,
    // so that lots with nothing left or not yet there are passed over at once.
    let stock = StockLists::new(
        &lists,
        instance.lots.len(),
        instance.nodes.len(),
        instance.items.len(),
        |l, node| {
            let lot = &instance.lots[l];
            instance.transfer_days[lot.node][node].map(|days| lot.available + days)
        },
    );
    let mut trees = stock.trees(|l| instance.lots[l].quantity >= instance.lots[l].pack_size);
    let mut destination_departures: Vec<Vec<usize>> = vec![Vec::new(); instance.destinations.len()];
    for (d, departure) in instance.departures.iter().enumerate() {
        destination_departures[departure.destination_index].push(d);
    }
    for list in &mut destination_departures {
        list.sort_by_key(|&d| (instance.departures[d].arrives, d));
    }
    let mut order: Vec<usize> = (0..instance.requests.len()).collect();
    let value_per_kg = |r: usize| {
        let request = &instance.requests[r];
        request.value_per_unit / instance.items[request.item].unit_weight_kg
    };
    order.sort_by(|&a, &b| value_per_kg(b).total_cmp(&value_per_kg(a)).then(a.cmp(&b)));

    for r in order {
        let request = &instance.requests[r];
        let item = &instance.items[request.item];
        let mut need = request.quantity;
        for &d in &destination_departures[request.destination_index] {
            if need == 0 {
                break;
            }
            let departure = &instance.departures[d];
            if departure.arrives > request.needed_by + request.grace_days {
                continue;
            }
            if item.dangerous_goods && !departure.dangerous_goods {
                continue;
            }
            let fit = |capacity: f64, used: f64, per_unit: f64| {
                ((capacity + 0.5 * capacity_slack(capacity) - used) / per_unit)
                    .floor()
                    .max(0.0)
            };
            let room = |weight: f64, volume: f64, cold: f64| {
                let mut room = fit(departure.payload_kg, weight, item.unit_weight_kg).min(fit(
                    departure.volume_m3,
                    volume,
                    item.unit_volume_m3,
                ));
                if item.cold_chain {
                    room = room.min(fit(departure.cold_volume_m3, cold, item.unit_volume_m3));
                }
                room.min(1e15) as i64
            };
            if room(weight_kg[d], volume_m3[d], cold_m3[d]) <= 0 {
                continue;
            }
            let list_id = stock.list_id(request.destination_index, request.item);
            let list = &lists[request.destination_index][request.item];
            let threshold = departure.arrives + item.min_shelf_life_days;
            // Lots expiring too soon come first in the list.
            let mut position =
                list.partition_point(|&l| instance.lots[l].expires.is_some_and(|e| e < threshold));
            // In list order, each lot with a pack left that can be loaded in
            // time (the others give nothing).
            while need > 0 {
                let Some(found) = stock.first_ready(
                    &mut trees,
                    list_id,
                    departure.node,
                    position,
                    departure.departs,
                ) else {
                    break;
                };
                position = found + 1;
                let l = list[found];
                let lot = &instance.lots[l];
                let room = room(weight_kg[d], volume_m3[d], cold_m3[d]);
                if room <= 0 {
                    break;
                }
                let units = need.min(lot_left[l]).min(room) / lot.pack_size * lot.pack_size;
                if units <= 0 {
                    continue;
                }
                lot_left[l] -= units;
                if lot_left[l] < lot.pack_size {
                    stock.set_alive(&mut trees, l, false);
                }
                need -= units;
                let quantity = units as f64;
                weight_kg[d] += quantity * item.unit_weight_kg;
                volume_m3[d] += quantity * item.unit_volume_m3;
                if item.cold_chain {
                    cold_m3[d] += quantity * item.unit_volume_m3;
                }
                allocations.push(Allocation {
                    lot: l,
                    departure: d,
                    request: r,
                    quantity: units,
                });
            }
        }
    }

    // Cancel departures whose cargo does not pay for the aircraft.
    let mut net_value = vec![0.0f64; departure_count];
    for allocation in &allocations {
        let departure = &instance.departures[allocation.departure];
        let request = &instance.requests[allocation.request];
        let item = &instance.items[request.item];
        let late = (departure.arrives - request.needed_by).max(0);
        net_value[allocation.departure] += allocation.quantity as f64
            * (request.value_per_unit * timeliness(late, request.grace_days)
                - item.unit_weight_kg * departure.cost_per_kg);
    }
    let cancelled: Vec<bool> = (0..departure_count)
        .map(|d| net_value[d] < instance.departures[d].fixed_cost)
        .collect();
    allocations.retain(|allocation| !cancelled[allocation.departure]);
    let value = objective(instance, &allocations);
    Plan {
        allocations,
        objective: value,
        upper_bound: None,
        unmet: Vec::new(),
    }
}
