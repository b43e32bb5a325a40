//! The project's own plan validator: feasibility rules 1 to 11 and the
//! objective, recomputed exactly as the reference checker does, and the
//! project's rules on a manager's overrides (12) and must-ship requests (13).

use std::collections::HashMap;

use serde_json::Value;

use crate::error::PlanReadError;
use crate::instance::Instance;
use crate::plan::{timeliness, Allocation, PLAN_FORMAT};

/// The verdict on one plan.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// One line per broken rule; empty when the plan is feasible and consistent.
    pub violations: Vec<String>,
    /// The objective recomputed from the allocations.
    pub objective: f64,
    /// The objective the plan claims, when it is a number.
    pub claimed: Option<f64>,
    /// The plan's `upper_bound`, when it is a number.
    pub bound: Option<f64>,
    pub allocations: usize,
    pub departures_used: usize,
}

impl CheckReport {
    /// Feasible, and the claimed objective and bound are consistent.
    pub fn is_feasible(&self) -> bool {
        self.violations.is_empty()
    }
}

/// The absolute slack allowed on a capacity comparison.
pub fn capacity_slack(capacity: f64) -> f64 {
    1e-6 * (1.0 + capacity)
}

fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        // JSON booleans count as the numbers 1 and 0, as they do for the reference checker.
        Value::Bool(flag) => Some(if *flag { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// Checks a plan given as JSON text against a validated instance.
/// `bound_at_least` is a known feasible objective: a plan whose `upper_bound`
/// is below it cannot carry a true bound.
pub fn check_plan_json(
    instance: &Instance,
    plan_text: &str,
    bound_at_least: Option<f64>,
) -> Result<CheckReport, PlanReadError> {
    let plan: Value = serde_json::from_str(plan_text).map_err(|error| {
        PlanReadError(format!(
            "{error} (line {}, column {})",
            error.line(),
            error.column()
        ))
    })?;
    let Some(plan) = plan.as_object() else {
        return Err(PlanReadError("the plan must be a JSON object".to_string()));
    };
    let mut violations = Vec::new();
    match plan.get("format") {
        Some(Value::String(tag)) if tag == PLAN_FORMAT => {}
        other => violations.push(format!(
            "plan format is {}",
            other.map_or("None".to_string(), Value::to_string)
        )),
    }

    let lot_index: HashMap<&str, usize> = instance
        .lots
        .iter()
        .enumerate()
        .map(|(i, l)| (l.id.as_str(), i))
        .collect();
    let departure_index: HashMap<&str, usize> = instance
        .departures
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let request_index: HashMap<&str, usize> = instance
        .requests
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();

    let empty = Vec::new();
    let allocation_values = match plan.get("allocations") {
        Some(Value::Array(values)) => values,
        _ => {
            violations.push("plan has no allocations list".to_string());
            &empty
        }
    };
    let mut allocations = Vec::new();
    for (k, value) in allocation_values.iter().enumerate() {
        let lookup = |field: &str, index: &HashMap<&str, usize>| -> Option<usize> {
            value
                .as_object()?
                .get(field)?
                .as_str()
                .and_then(|id| index.get(id).copied())
        };
        let found = (
            lookup("lot", &lot_index),
            lookup("departure", &departure_index),
            lookup("request", &request_index),
            value.as_object().and_then(|object| object.get("quantity")),
        );
        let (Some(lot), Some(departure), Some(request), Some(quantity)) = found else {
            violations.push(format!(
                "allocation {k}: unknown lot/departure/request or missing field: {value}"
            ));
            continue;
        };
        let quantity = match quantity.as_i64() {
            Some(q) if q >= 1 && (quantity.is_i64() || quantity.is_u64()) => q,
            _ => {
                violations.push(format!(
                    "allocation {k}: quantity {quantity} is not an integer >= 1"
                ));
                continue;
            }
        };
        allocations.push((
            k,
            Allocation {
                lot,
                departure,
                request,
                quantity,
            },
        ));
    }
    Ok(check_allocations(
        instance,
        plan,
        &allocations,
        allocation_values.len(),
        violations,
        bound_at_least,
    ))
}

fn check_allocations(
    instance: &Instance,
    plan: &serde_json::Map<String, Value>,
    allocations: &[(usize, Allocation)],
    allocation_count: usize,
    mut violations: Vec<String>,
    bound_at_least: Option<f64>,
) -> CheckReport {
    let departure_count = instance.departures.len();
    let mut lot_used = vec![0i64; instance.lots.len()];
    let mut request_used = vec![0i64; instance.requests.len()];
    let mut lot_departure: HashMap<(usize, usize), i64> = HashMap::new();
    let mut lot_departure_order: Vec<(usize, usize)> = Vec::new();
    let mut weight_kg = vec![0.0f64; departure_count];
    let mut volume_m3 = vec![0.0f64; departure_count];
    let mut cold_m3 = vec![0.0f64; departure_count];
    let mut used = vec![false; departure_count];
    let mut used_order = Vec::new();
    let mut value = 0.0;
    let mut freight = 0.0;

    for &(k, allocation) in allocations {
        let lot = &instance.lots[allocation.lot];
        let departure = &instance.departures[allocation.departure];
        let request = &instance.requests[allocation.request];
        let item = &instance.items[lot.item];
        let q = allocation.quantity;
        let where_ = format!(
            "allocation {k} ({} -> {} -> {} x{q})",
            lot.id, departure.id, request.id
        );
        if lot.item != request.item {
            violations.push(format!(
                "{where_}: lot item {} != request item {}",
                item.id, instance.items[request.item].id
            ));
        }
        if departure.destination != request.destination {
            violations.push(format!(
                "{where_}: departure goes to {}, request is at {}",
                departure.destination, request.destination
            ));
        }
        match instance.transfer_days[lot.node][departure.node] {
            None => violations.push(format!(
                "{where_}: no transfer link {} -> {}",
                instance.nodes[lot.node].id, instance.nodes[departure.node].id
            )),
            Some(days) if lot.available + days > departure.departs => violations.push(format!(
                "{where_}: lot available (+{days} d transfer) after departure"
            )),
            Some(_) => {}
        }
        if let Some(expires) = lot.expires {
            if expires < departure.arrives + item.min_shelf_life_days {
                violations.push(format!(
                    "{where_}: lot expires too early, needs {} d shelf life after arrival",
                    item.min_shelf_life_days
                ));
            }
        }
        if !Instance::earmark_allows(lot, &departure.destination) {
            violations.push(format!(
                "{where_}: earmark {:?} excludes {}",
                lot.earmark,
                Instance::country_of(&departure.destination)
            ));
        }
        if item.dangerous_goods && !departure.dangerous_goods {
            violations.push(format!(
                "{where_}: dangerous goods on a departure that refuses them"
            ));
        }
        let late = (departure.arrives - request.needed_by).max(0);
        if late > request.grace_days {
            violations.push(format!(
                "{where_}: arrives {late} d after needed_by, grace is {} d",
                request.grace_days
            ));
        }
        let quantity = q as f64;
        value += quantity * request.value_per_unit * timeliness(late, request.grace_days);
        freight += quantity * item.unit_weight_kg * departure.cost_per_kg;
        lot_used[allocation.lot] = lot_used[allocation.lot].saturating_add(q);
        request_used[allocation.request] = request_used[allocation.request].saturating_add(q);
        let key = (allocation.lot, allocation.departure);
        let entry = lot_departure.entry(key).or_insert_with(|| {
            lot_departure_order.push(key);
            0
        });
        *entry = entry.saturating_add(q);
        weight_kg[allocation.departure] += quantity * item.unit_weight_kg;
        volume_m3[allocation.departure] += quantity * item.unit_volume_m3;
        if item.cold_chain {
            cold_m3[allocation.departure] += quantity * item.unit_volume_m3;
        }
        if !used[allocation.departure] {
            used[allocation.departure] = true;
            used_order.push(allocation.departure);
        }
    }

    for key in &lot_departure_order {
        let units = lot_departure.get(key).copied().unwrap_or(0);
        let lot = &instance.lots[key.0];
        if units % lot.pack_size != 0 {
            violations.push(format!(
                "lot {} on {}: {units} units is not a multiple of pack size {}",
                lot.id, instance.departures[key.1].id, lot.pack_size
            ));
        }
    }
    for (lot, units) in instance.lots.iter().zip(&lot_used) {
        if *units > lot.quantity {
            violations.push(format!(
                "lot {}: {units} units allocated, {} held",
                lot.id, lot.quantity
            ));
        }
    }
    for (request, units) in instance.requests.iter().zip(&request_used) {
        if *units > request.quantity {
            violations.push(format!(
                "request {}: {units} units sent, {} requested",
                request.id, request.quantity
            ));
        }
    }
    for &d in &used_order {
        let departure = &instance.departures[d];
        let loads = [
            (weight_kg[d], departure.payload_kg, "kg"),
            (volume_m3[d], departure.volume_m3, "m3"),
            (cold_m3[d], departure.cold_volume_m3, "cold m3"),
        ];
        for (load, capacity, what) in loads {
            if load > capacity + capacity_slack(capacity) {
                violations.push(format!(
                    "departure {}: {load:.3} {what} loaded, capacity {capacity}",
                    departure.id
                ));
            }
        }
    }

    // A manager's overrides (rule 12 of this project, beside the format's 11).
    let overrides = &instance.overrides;
    for &(r, d) in &overrides.pins {
        for &(_, allocation) in allocations {
            if allocation.request == r && allocation.departure != d {
                violations.push(format!(
                    "request {} is pinned to {}, but {} units travel on {}",
                    instance.requests[r].id,
                    instance.departures[d].id,
                    allocation.quantity,
                    instance.departures[allocation.departure].id
                ));
            }
        }
    }
    for &d in &overrides.forbidden {
        if used[d] {
            violations.push(format!(
                "departure {} is forbidden, but carries {:.3} kg",
                instance.departures[d].id, weight_kg[d]
            ));
        }
    }
    for &d in &overrides.forced {
        if !used[d] {
            violations.push(format!(
                "departure {} must fly, but carries nothing",
                instance.departures[d].id
            ));
        }
    }
    let mut held = vec![0i64; instance.lots.len()];
    for &(l, units) in &overrides.held {
        held[l] += units;
    }
    for &(l, _) in &overrides.held {
        let lot = &instance.lots[l];
        if lot_used[l] > lot.quantity - held[l] && held[l] > 0 {
            violations.push(format!(
                "lot {}: {} units allocated, but {} of its {} are held back",
                lot.id, lot_used[l], held[l], lot.quantity
            ));
            held[l] = 0;
        }
    }
    // Must-ship requests (rule 13): met in full, or the plan's `unmet` says
    // why the hub cannot, with a reason code that excuses it.
    let unmet_entries: Vec<&serde_json::Map<String, Value>> = match plan.get("unmet") {
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    };
    for &r in &overrides.must_ship {
        let request = &instance.requests[r];
        let short = request.quantity - request_used[r];
        if short <= 0 {
            continue;
        }
        let entry = unmet_entries
            .iter()
            .find(|u| u.get("request").and_then(Value::as_str) == Some(request.id.as_str()));
        let code = entry
            .and_then(|u| u.get("reason_code"))
            .and_then(Value::as_str);
        match code {
            None => violations.push(format!(
                "request {} must ship, but {short} of its {} units are not sent and the plan gives no reason code",
                request.id, request.quantity
            )),
            Some(code) if !crate::instance::MUST_SHIP_EXCUSES.contains(&code) => {
                violations.push(format!(
                    "request {} must ship, but {short} of its {} units are left for \"{code}\", which does not excuse a must-ship request",
                    request.id, request.quantity
                ))
            }
            Some(_) => {}
        }
    }

    let fixed: f64 = used_order
        .iter()
        .map(|&d| instance.departures[d].fixed_cost)
        .sum();
    let objective = value - freight - fixed;
    let tolerance = |x: f64| 1e-6 * (1.0 + x.abs());
    let claimed = plan.get("objective").and_then(as_number);
    match claimed {
        None => violations.push("plan has no numeric objective".to_string()),
        Some(claimed) if (claimed - objective).abs() > tolerance(objective) => violations.push(
            format!("claimed objective {claimed} != recomputed {objective}"),
        ),
        Some(_) => {}
    }
    let bound = match plan.get("upper_bound") {
        None | Some(Value::Null) => None,
        Some(value) => match as_number(value) {
            None => {
                violations.push("upper_bound is not a number".to_string());
                None
            }
            Some(bound) => {
                if bound < objective - tolerance(objective) {
                    violations.push(format!(
                        "upper_bound {bound} is below the plan's own objective {objective}"
                    ));
                } else if let Some(known) = bound_at_least {
                    if bound < known - tolerance(known) {
                        violations.push(format!(
                            "upper_bound {bound} is below a known feasible objective {known}"
                        ));
                    }
                }
                Some(bound)
            }
        },
    };
    CheckReport {
        violations,
        objective,
        claimed,
        bound,
        allocations: allocation_count,
        departures_used: used_order.len(),
    }
}
