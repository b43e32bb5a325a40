//! Why a request is not fully met, found by analysing the instance and the
//! plan, and said in a logistics officer's words.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::instance::format_day;
use crate::model::Model;
use crate::plan::Unmet;
use crate::state::State;

fn list(ids: &[&str], limit: usize) -> String {
    let mut text = ids
        .iter()
        .take(limit)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > limit {
        text.push_str(&format!(" and {} more", ids.len() - limit));
    }
    text
}

/// A reason: its code, its figures by name and its words in English.
pub(crate) struct Reason {
    code: &'static str,
    params: Map<String, Value>,
    text: String,
}

/// A [`Reason`] from its code, its English words and its figures.
fn said(code: &'static str, text: String, params: Value) -> Reason {
    Reason {
        code,
        params: match params {
            Value::Object(map) => map,
            _ => Map::new(),
        },
        text,
    }
}

/// Stock eligible for one departure and one item.
#[derive(Debug, Clone, Copy)]
struct DepartureStock {
    total_units: i64,
    left_units: i64,
    smallest_pack_left: i64,
}

impl DepartureStock {
    /// The figures of the given classes in the plan `state`.
    fn of(model: &Model, state: &State, classes: impl Iterator<Item = usize>) -> Self {
        let mut stock = DepartureStock {
            total_units: 0,
            left_units: 0,
            smallest_pack_left: i64::MAX,
        };
        for c in classes {
            let class = &model.classes[c];
            stock.total_units += class.packs * class.pack_size;
            if state.class_left[c] > 0 {
                stock.left_units += state.class_left[c] * class.pack_size;
                stock.smallest_pack_left = stock.smallest_pack_left.min(class.pack_size);
            }
        }
        stock
    }
}

/// Per (departure, item) stock figures, computed once.
#[derive(Default)]
struct Cache {
    stock: HashMap<(usize, usize), DepartureStock>,
}

impl Cache {
    /// The stock of `item` eligible for departure `d`, found once from the
    /// stock index ([`Model::departure_classes`]).
    fn departure_stock(
        &mut self,
        model: &Model,
        state: &State,
        d: usize,
        item: usize,
    ) -> DepartureStock {
        *self
            .stock
            .entry((d, item))
            .or_insert_with(|| DepartureStock::of(model, state, model.departure_classes(d, item)))
    }
}

/// The reason each request is not fully met. Once `stop` says so (checked
/// now and then), the stock and capacity analysis is skipped and the reason
/// says only what the quick checks found.
pub(crate) fn explain_unmet(model: &Model, state: &State, stop: &dyn Fn() -> bool) -> Vec<Unmet> {
    let mut unmet = Vec::new();
    let mut cache = Cache::default();
    // Who took each item, best value per unit first (for "allocated to ...").
    let mut takers: Vec<Vec<(f64, usize)>> = vec![Vec::new(); model.instance.items.len()];
    for cargo in &state.cargo {
        for &(other, _, _) in &cargo.deliveries {
            let request = &model.instance.requests[other];
            takers[request.item].push((request.value_per_unit, other));
        }
    }
    for list in &mut takers {
        list.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        list.dedup_by_key(|t| t.1);
    }
    let mut quick = false;
    for (r, &left) in state.request_left.iter().enumerate() {
        if left > 0 {
            if !quick && r % 64 == 0 {
                quick = stop();
            }
            // A must-ship request always gets the full analysis: a quick
            // reason would not excuse leaving it unmet.
            let must_ship = model.instance.overrides.must_ship.contains(&r);
            let quick = quick && !must_ship;
            let reason = reason(model, state, &mut cache, &takers, r, left, quick);
            unmet.push(Unmet {
                request: r,
                quantity: left,
                reason: reason.text,
                code: reason.code,
                params: reason.params,
            });
        }
    }
    unmet
}

fn reason(
    model: &Model,
    state: &State,
    cache: &mut Cache,
    takers: &[Vec<(f64, usize)>],
    r: usize,
    left: i64,
    quick: bool,
) -> Reason {
    let instance = model.instance;
    let request = &instance.requests[r];
    let item = &instance.items[request.item];
    let destination = &request.destination;
    let latest = request.needed_by + request.grace_days;
    let all = &model.destination_departures[request.destination_index];
    if all.is_empty() {
        return said(
            "no_departure",
            format!("no departure to {destination} is scheduled"),
            json!({"destination": destination}),
        );
    }
    let timely: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&d| instance.departures[d].arrives <= latest)
        .collect();
    if timely.is_empty() {
        let earliest = all
            .iter()
            .map(|&d| instance.departures[d].arrives)
            .min()
            .unwrap_or(latest);
        return said(
            "no_timely_departure",
            format!(
                "no departure to {destination} arrives by {} (needed by {} + {} grace days); the first arrives {}",
                format_day(latest),
                format_day(request.needed_by),
                request.grace_days,
                format_day(earliest)
            ),
            json!({
                "destination": destination,
                "latest": format_day(latest),
                "needed_by": format_day(request.needed_by),
                "grace_days": request.grace_days,
                "first_arrives": format_day(earliest),
            }),
        );
    }
    let mut usable = timely.clone();
    if item.dangerous_goods {
        usable.retain(|&d| instance.departures[d].dangerous_goods);
        if usable.is_empty() {
            return said(
                "no_dangerous_goods_departure",
                format!(
                    "no departure to {destination} arriving by {} accepts dangerous goods ({})",
                    format_day(latest),
                    item.id
                ),
                json!({"destination": destination, "latest": format_day(latest), "item": item.id}),
            );
        }
    }
    if item.cold_chain {
        usable.retain(|&d| instance.departures[d].cold_volume_m3 > 0.0);
        if usable.is_empty() {
            return said(
                "no_cold_departure",
                format!(
                    "no departure to {destination} arriving by {} has cold-chain space",
                    format_day(latest)
                ),
                json!({"destination": destination, "latest": format_day(latest)}),
            );
        }
    }
    let offered: Vec<usize> = usable
        .iter()
        .copied()
        .filter(|&d| model.options[d].iter().any(|option| option.request == r))
        .collect();
    if offered.is_empty() {
        return said(
            "freight_exceeds_value",
            format!(
                "freight on the departures to {destination} costs more than the aid value of {} per unit",
                request.value_per_unit
            ),
            json!({"destination": destination, "value_per_unit": request.value_per_unit}),
        );
    }

    if quick {
        return said(
            "not_analysed",
            format!(
                "not met by the best plan found in the time allowed; departures to {destination} can take {} and stock was not analysed further",
                item.id
            ),
            json!({"destination": destination, "item": item.id}),
        );
    }

    // Stock analysis, one rule at a time, on the lot classes of this item.
    let classes = &model.item_classes[request.item];
    if classes.is_empty() {
        return said(
            "no_stock",
            format!("no stock of {} at the hub", item.id),
            json!({"item": item.id}),
        );
    }
    // Latest departure day per node among the offered departures.
    let mut last_departs: Vec<Option<i32>> = vec![None; instance.nodes.len()];
    for &d in &offered {
        let departure = &instance.departures[d];
        let slot = &mut last_departs[departure.node];
        *slot = Some(slot.map_or(departure.departs, |day| day.max(departure.departs)));
    }
    let in_time = |c: usize| {
        let class = &model.classes[c];
        last_departs.iter().enumerate().any(|(node, last)| {
            last.is_some_and(|last| {
                instance.transfer_days[class.node][node]
                    .is_some_and(|days| class.available + days <= last)
            })
        })
    };
    let timely_classes: Vec<usize> = classes.iter().copied().filter(|&c| in_time(c)).collect();
    if timely_classes.is_empty() {
        let last = offered
            .iter()
            .map(|&d| instance.departures[d].departs)
            .max()
            .unwrap_or(latest);
        return said(
            "no_stock_in_time",
            format!(
                "no stock of {} at the hub or arriving in time for a departure to {destination} (last one leaves {})",
                item.id,
                format_day(last)
            ),
            json!({"item": item.id, "destination": destination, "last_departs": format_day(last)}),
        );
    }
    let allowed = timely_classes
        .iter()
        .any(|&c| model.earmark_allows[model.classes[c].earmark][request.destination_index]);
    if !allowed {
        let mut countries: Vec<&str> = timely_classes
            .iter()
            .flat_map(|&c| {
                let (lot, _) = model.classes[c].lots[0];
                instance.lots[lot].earmark.iter().map(String::as_str)
            })
            .collect();
        countries.sort_unstable();
        countries.dedup();
        return said(
            "earmarked",
            format!(
                "stock of {} exists but is earmarked for {}",
                item.id,
                list(&countries, 8)
            ),
            json!({"item": item.id, "countries": countries}),
        );
    }
    let stock: Vec<DepartureStock> = offered
        .iter()
        .map(|&d| cache.departure_stock(model, state, d, request.item))
        .collect();
    if stock.iter().all(|s| s.total_units == 0) {
        return said(
            "expires_too_soon",
            format!(
                "all eligible lots of {} expire before the arrival + {} days minimum shelf life",
                item.id, item.min_shelf_life_days
            ),
            json!({"item": item.id, "min_shelf_life_days": item.min_shelf_life_days}),
        );
    }

    // Eligible stock still unallocated.
    let total_units = stock.iter().map(|s| s.total_units).max().unwrap_or(0);
    let left_units = stock.iter().map(|s| s.left_units).max().unwrap_or(0);
    let smallest_pack = stock
        .iter()
        .map(|s| s.smallest_pack_left)
        .min()
        .unwrap_or(i64::MAX);
    if left_units == 0 {
        let ids: Vec<&str> = takers[request.item]
            .iter()
            .filter(|t| t.1 != r)
            .map(|t| instance.requests[t.1].id.as_str())
            .collect();
        if ids.is_empty() {
            return said(
                "stock_used_up",
                format!(
                    "the eligible stock of {} ({total_units} units) is used up",
                    item.id
                ),
                json!({"item": item.id, "units": total_units}),
            );
        }
        return said(
            "stock_allocated",
            format!(
                "the eligible stock of {} ({total_units} units) is allocated to requests of more value per kg ({})",
                item.id,
                list(&ids, 3)
            ),
            json!({"item": item.id, "units": total_units, "requests": ids}),
        );
    }

    // Capacity and charters.
    let closed_departures: Vec<usize> = offered
        .iter()
        .copied()
        .filter(|&d| state.closed[d] && state.cargo[d].is_empty())
        .collect();
    let closed: Vec<&str> = closed_departures
        .iter()
        .map(|&d| instance.departures[d].id.as_str())
        .collect();
    // The figures behind "not worth its fixed cost": what the first such
    // charter could carry of this request, and that cargo's value, in words
    // and by name.
    let charter_figures = || -> (String, Map<String, Value>) {
        let mut params = Map::new();
        params.insert("charters".into(), json!(closed));
        let Some(&d) = closed_departures.first() else {
            return (String::new(), params);
        };
        let at = offered.iter().position(|&o| o == d).unwrap_or(0);
        let stock_left = stock.get(at).map_or(0, |s| s.left_units);
        let departure = &instance.departures[d];
        let mut fits = (departure.payload_kg / item.unit_weight_kg)
            .min(departure.volume_m3 / item.unit_volume_m3);
        if item.cold_chain {
            fits = fits.min(departure.cold_volume_m3 / item.unit_volume_m3);
        }
        let units = (fits.floor().max(0.0) as i64).min(left).min(stock_left);
        // The share of the charter's binding capacity the cargo would use.
        let share = |used: f64, capacity: f64| {
            if capacity > 0.0 {
                used / capacity
            } else {
                0.0
            }
        };
        let mut used_pct = share(units as f64 * item.unit_weight_kg, departure.payload_kg).max(
            share(units as f64 * item.unit_volume_m3, departure.volume_m3),
        );
        if item.cold_chain {
            used_pct = used_pct.max(share(
                units as f64 * item.unit_volume_m3,
                departure.cold_volume_m3,
            ));
        }
        let unit_value = model.options[d]
            .iter()
            .find(|o| o.request == r)
            .map_or(0.0, |o| o.unit_value);
        let hold = if item.cold_chain {
            format!("its {:.0} m3 cold hold", departure.cold_volume_m3)
        } else {
            format!(
                "its {:.1} t and {:.0} m3",
                departure.payload_kg / 1000.0,
                departure.volume_m3
            )
        };
        let weight_kg = units as f64 * item.unit_weight_kg;
        let value = units as f64 * unit_value;
        for (name, figure) in [
            ("charter", json!(departure.id)),
            ("item", json!(item.id)),
            ("units", json!(units)),
            ("weight_kg", json!(weight_kg)),
            (
                "capacity_used_pct",
                json!((used_pct * 1000.0).round() / 10.0),
            ),
            ("cold", json!(item.cold_chain)),
            ("payload_kg", json!(departure.payload_kg)),
            ("volume_m3", json!(departure.volume_m3)),
            ("cold_volume_m3", json!(departure.cold_volume_m3)),
            ("value", json!(value.round())),
            ("fixed_cost", json!(departure.fixed_cost)),
        ] {
            params.insert(name.into(), figure);
        }
        let text = format!(
            ": {hold} would take {units} units of {} ({:.1} t, {:.0} % of it), worth {:.0} net of freight, against a fixed cost of {:.0}",
            item.id,
            weight_kg / 1000.0,
            used_pct * 100.0,
            value,
            departure.fixed_cost
        );
        (text, params)
    };
    let flying: Vec<usize> = offered
        .iter()
        .copied()
        .filter(|&d| !(state.closed[d] && state.cargo[d].is_empty()))
        .collect();
    let full: Vec<usize> = flying
        .iter()
        .copied()
        .filter(|&d| state.units_that_fit(model, d, request.item) < smallest_pack.min(left))
        .collect();
    if full.len() == flying.len() {
        let cold_full = item.cold_chain
            && full.iter().all(|&d| {
                let departure = &instance.departures[d];
                state.cargo[d].cold_m3 + item.unit_volume_m3 > departure.cold_volume_m3
            });
        let ids: Vec<&str> = full
            .iter()
            .map(|&d| instance.departures[d].id.as_str())
            .collect();
        let capacity = if full.is_empty() {
            String::new()
        } else if cold_full {
            format!(
                "cold volume on the departures to {destination} ({}) is full",
                list(&ids, 4)
            )
        } else {
            format!(
                "capacity on departures {} is used by higher-value cargo",
                list(&ids, 4)
            )
        };
        if closed.is_empty() {
            return said(
                if cold_full {
                    "cold_full"
                } else {
                    "capacity_full"
                },
                capacity,
                json!({"destination": destination, "departures": ids}),
            );
        }
        let (figures, mut params) = charter_figures();
        params.insert("full".into(), json!(ids));
        params.insert("cold_full".into(), json!(cold_full));
        let charters = format!(
            "charter {} not worth its fixed cost for this cargo{figures}",
            list(&closed, 3),
        );
        let text = if capacity.is_empty() {
            charters
        } else {
            format!("{capacity}; {charters}")
        };
        return Reason {
            code: "charter_not_worth",
            params,
            text,
        };
    }
    if left < smallest_pack {
        return said(
            "less_than_pack",
            format!(
                "the remaining {left} units are less than one pack ({smallest_pack}) of the eligible stock of {}",
                item.id
            ),
            json!({"units": left, "pack": smallest_pack, "item": item.id}),
        );
    }
    if !closed.is_empty() {
        let (figures, params) = charter_figures();
        return Reason {
            code: "charter_not_worth_rest",
            params,
            text: format!(
                "sending the rest would need charter {}, not worth its fixed cost for this cargo{figures}",
                list(&closed, 3),
            ),
        };
    }
    said(
        "departures_taken",
        format!(
            "the remaining eligible stock of {} ({left_units} units) fits only departures already used by more valuable cargo",
            item.id
        ),
        json!({"item": item.id, "units": left_units}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{generate_json, GenerateConfig, Size};
    use crate::instance::Instance;
    use crate::search::Search;

    #[test]
    fn departure_stock_from_the_index_matches_a_scan_of_every_class() {
        let mut nonzero = 0;
        for seed in 1..=3 {
            let text = generate_json(&GenerateConfig::for_size(Size::S, seed));
            let instance = Instance::from_json(&text).expect("a generated instance");
            let model = Model::new(&instance);
            let never = || false;
            // A plan that uses some of the stock, so "left" differs from "total".
            let mut search = Search::new(&model, seed, &never);
            for _ in 0..200 {
                search.step(&never);
            }
            let state = search.into_best();
            for d in 0..instance.departures.len() {
                for item in 0..instance.items.len() {
                    // Every class of the item, each tested, as first written.
                    let every = model.item_classes[item].iter().copied();
                    let scan = DepartureStock::of(
                        &model,
                        &state,
                        every.filter(|&c| model.class_fits(c, d)),
                    );
                    let fast = Cache::default().departure_stock(&model, &state, d, item);
                    assert_eq!(
                        (fast.total_units, fast.left_units, fast.smallest_pack_left),
                        (scan.total_units, scan.left_units, scan.smallest_pack_left),
                        "seed {seed}, departure {d}, item {item}"
                    );
                    if scan.total_units > scan.left_units && scan.left_units > 0 {
                        nonzero += 1;
                    }
                }
            }
        }
        assert!(nonzero > 20, "partly used stock in only {nonzero} cases");
    }
}
