//! Why a request is not fully met, found by analysing the instance and the
//! plan, and said in a logistics officer's words.

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

pub(crate) fn explain_unmet(model: &Model, state: &State) -> Vec<Unmet> {
    let mut unmet = Vec::new();
    for (r, &left) in state.request_left.iter().enumerate() {
        if left > 0 {
            let reason = reason(model, state, r, left);
            unmet.push(Unmet {
                request: r,
                quantity: left,
                reason,
            });
        }
    }
    unmet
}

fn reason(model: &Model, state: &State, r: usize, left: i64) -> String {
    let instance = model.instance;
    let request = &instance.requests[r];
    let item = &instance.items[request.item];
    let destination = &request.destination;
    let latest = request.needed_by + request.grace_days;
    let all = &model.destination_departures[request.destination_index];
    if all.is_empty() {
        return format!("no departure to {destination} is scheduled");
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
        return format!(
            "no departure to {destination} arrives by {} (needed by {} + {} grace days); the first arrives {}",
            format_day(latest),
            format_day(request.needed_by),
            request.grace_days,
            format_day(earliest)
        );
    }
    let mut usable = timely.clone();
    if item.dangerous_goods {
        usable.retain(|&d| instance.departures[d].dangerous_goods);
        if usable.is_empty() {
            return format!(
                "no departure to {destination} arriving by {} accepts dangerous goods ({})",
                format_day(latest),
                item.id
            );
        }
    }
    if item.cold_chain {
        usable.retain(|&d| instance.departures[d].cold_volume_m3 > 0.0);
        if usable.is_empty() {
            return format!(
                "no departure to {destination} arriving by {} has cold-chain space",
                format_day(latest)
            );
        }
    }
    let offered: Vec<usize> = usable
        .iter()
        .copied()
        .filter(|&d| model.options[d].iter().any(|option| option.request == r))
        .collect();
    if offered.is_empty() {
        return format!(
            "freight on the departures to {destination} costs more than the aid value of {} per unit",
            request.value_per_unit
        );
    }

    // Stock analysis, one rule at a time, on the lots of this item.
    let lots: Vec<usize> = (0..instance.lots.len())
        .filter(|&l| instance.lots[l].item == request.item)
        .collect();
    if lots.is_empty() {
        return format!("no stock of {} at the hub", item.id);
    }
    let in_time = |l: usize, d: usize| {
        let lot = &instance.lots[l];
        let departure = &instance.departures[d];
        instance.transfer_days[lot.node][departure.node]
            .is_some_and(|days| lot.available + days <= departure.departs)
    };
    let timely_lots: Vec<usize> = lots
        .iter()
        .copied()
        .filter(|&l| offered.iter().any(|&d| in_time(l, d)))
        .collect();
    if timely_lots.is_empty() {
        let last = offered
            .iter()
            .map(|&d| instance.departures[d].departs)
            .max()
            .unwrap_or(latest);
        return format!(
            "no stock of {} at the hub or arriving in time for a departure to {destination} (last one leaves {})",
            item.id,
            format_day(last)
        );
    }
    let allowed: Vec<usize> = timely_lots
        .iter()
        .copied()
        .filter(|&l| crate::instance::Instance::earmark_allows(&instance.lots[l], destination))
        .collect();
    if allowed.is_empty() {
        let mut countries: Vec<&str> = timely_lots
            .iter()
            .flat_map(|&l| instance.lots[l].earmark.iter().map(String::as_str))
            .collect();
        countries.sort_unstable();
        countries.dedup();
        return format!(
            "stock of {} exists but is earmarked for {}",
            item.id,
            list(&countries, 8)
        );
    }
    let fresh = |l: usize, d: usize| {
        let lot = &instance.lots[l];
        lot.expires
            .is_none_or_compat(instance.departures[d].arrives + item.min_shelf_life_days)
    };
    let eligible: Vec<usize> = allowed
        .iter()
        .copied()
        .filter(|&l| offered.iter().any(|&d| in_time(l, d) && fresh(l, d)))
        .collect();
    if eligible.is_empty() {
        return format!(
            "all eligible lots of {} expire before the arrival + {} days minimum shelf life",
            item.id, item.min_shelf_life_days
        );
    }

    // Eligible stock still unallocated, by class.
    let mut left_units = 0i64;
    let mut smallest_pack = i64::MAX;
    let mut total_units = 0i64;
    for (c, class) in model.classes.iter().enumerate() {
        if class.item != request.item || !offered.iter().any(|&d| model.class_fits(c, d)) {
            continue;
        }
        total_units += class.packs * class.pack_size;
        if state.class_left[c] > 0 {
            left_units += state.class_left[c] * class.pack_size;
            smallest_pack = smallest_pack.min(class.pack_size);
        }
    }
    if left_units == 0 {
        let mut takers: Vec<(f64, &str)> = Vec::new();
        for cargo in &state.cargo {
            for &(other, _, _) in &cargo.deliveries {
                let other_request = &instance.requests[other];
                if other != r
                    && other_request.item == request.item
                    && !takers.iter().any(|t| t.1 == other_request.id)
                {
                    takers.push((other_request.value_per_unit, other_request.id.as_str()));
                }
            }
        }
        takers.sort_by(|a, b| b.0.total_cmp(&a.0));
        let ids: Vec<&str> = takers.iter().map(|t| t.1).collect();
        if ids.is_empty() {
            return format!(
                "the eligible stock of {} ({total_units} units) is used up",
                item.id
            );
        }
        return format!(
            "the eligible stock of {} ({total_units} units) is allocated to requests of more value per kg ({})",
            item.id,
            list(&ids, 3)
        );
    }

    // Capacity and charters.
    let closed: Vec<&str> = offered
        .iter()
        .copied()
        .filter(|&d| state.closed[d] && state.cargo[d].is_empty())
        .map(|d| instance.departures[d].id.as_str())
        .collect();
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
            return capacity;
        }
        let charters = format!(
            "charter {} not worth its fixed cost for this cargo",
            list(&closed, 3)
        );
        return if capacity.is_empty() {
            charters
        } else {
            format!("{capacity}; {charters}")
        };
    }
    if left < smallest_pack {
        return format!(
            "the remaining {left} units are less than one pack ({smallest_pack}) of the eligible stock of {}",
            item.id
        );
    }
    if !closed.is_empty() {
        return format!(
            "sending the rest would need charter {}, not worth its fixed cost for this cargo",
            list(&closed, 3)
        );
    }
    format!(
        "the remaining eligible stock of {} ({left_units} units) fits only departures already used by more valuable cargo",
        item.id
    )
}

/// `expires` allows an arrival needing shelf life until `needed`.
trait ExpiryAllows {
    fn is_none_or_compat(&self, needed: i32) -> bool;
}

impl ExpiryAllows for Option<i32> {
    fn is_none_or_compat(&self, needed: i32) -> bool {
        match self {
            None => true,
            Some(expires) => *expires >= needed,
        }
    }
}
