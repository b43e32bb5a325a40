//! The plan (`reliefhub-plan/1`): allocations, the objective formula and the
//! plan's JSON form.

use serde_json::{json, Map, Value};

use crate::instance::Instance;

/// The format tag a plan carries.
pub const PLAN_FORMAT: &str = "reliefhub-plan/1";

/// `quantity` units of `lot` travel on `departure` to meet `request`
/// (indices into the instance's lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Allocation {
    pub lot: usize,
    pub departure: usize,
    pub request: usize,
    pub quantity: i64,
}

/// Why a request is not fully met.
#[derive(Debug, Clone, PartialEq)]
pub struct Unmet {
    /// Index into the instance's requests.
    pub request: usize,
    /// Units not delivered.
    pub quantity: i64,
    /// The reason, in a logistics officer's words.
    pub reason: String,
    /// The reason as a stable code (`charter_not_worth`, `no_departure`, ...),
    /// for programs and for saying it in other languages.
    pub code: &'static str,
    /// The reason's figures by name (departure codes, units, value, fixed
    /// cost, ...), which the words of every language fill in.
    pub params: Map<String, Value>,
}

/// A plan for one instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub allocations: Vec<Allocation>,
    /// The plan's value by the spec's formula.
    pub objective: f64,
    /// A proven upper bound on every feasible plan's objective.
    pub upper_bound: Option<f64>,
    pub unmet: Vec<Unmet>,
}

/// The timeliness factor of a delivery arriving `late_days` after it was needed.
pub fn timeliness(late_days: i32, grace_days: i32) -> f64 {
    if late_days <= 0 {
        1.0
    } else {
        1.0 - f64::from(late_days) / (f64::from(grace_days) + 1.0)
    }
}

/// The objective of a list of allocations, computed exactly as the spec
/// states (and in the same order as the reference checker): the sum of values,
/// minus the sum of freight, minus the fixed cost of every departure used.
pub fn objective(instance: &Instance, allocations: &[Allocation]) -> f64 {
    let mut value = 0.0;
    let mut freight = 0.0;
    let mut used = vec![false; instance.departures.len()];
    for allocation in allocations {
        let lot = &instance.lots[allocation.lot];
        let departure = &instance.departures[allocation.departure];
        let request = &instance.requests[allocation.request];
        let item = &instance.items[lot.item];
        let quantity = allocation.quantity as f64;
        let late = (departure.arrives - request.needed_by).max(0);
        value += quantity * request.value_per_unit * timeliness(late, request.grace_days);
        freight += quantity * item.unit_weight_kg * departure.cost_per_kg;
        used[allocation.departure] = true;
    }
    let fixed: f64 = instance
        .departures
        .iter()
        .zip(&used)
        .filter(|(_, used)| **used)
        .map(|(departure, _)| departure.fixed_cost)
        .sum();
    value - freight - fixed
}

/// Serialises a plan as `reliefhub-plan/1` JSON text.
pub fn to_json(instance: &Instance, plan: &Plan) -> String {
    let allocations: Vec<Value> = plan
        .allocations
        .iter()
        .map(|allocation| {
            json!({
                "lot": instance.lots[allocation.lot].id,
                "departure": instance.departures[allocation.departure].id,
                "request": instance.requests[allocation.request].id,
                "quantity": allocation.quantity,
            })
        })
        .collect();
    let unmet: Vec<Value> = plan
        .unmet
        .iter()
        .map(|unmet| {
            json!({
                "request": instance.requests[unmet.request].id,
                "quantity": unmet.quantity,
                "reason": unmet.reason,
                "reason_code": unmet.code,
                "reason_params": unmet.params,
            })
        })
        .collect();
    let mut document = serde_json::Map::new();
    document.insert("format".into(), json!(PLAN_FORMAT));
    document.insert("instance".into(), json!(instance.name));
    document.insert("allocations".into(), Value::Array(allocations));
    document.insert("objective".into(), json!(plan.objective));
    if let Some(bound) = plan.upper_bound {
        document.insert("upper_bound".into(), json!(bound));
    }
    document.insert("unmet".into(), Value::Array(unmet));
    let mut text = serde_json::to_string_pretty(&Value::Object(document)).unwrap_or_default();
    text.push('\n');
    text
}
