//! Planning from the hub's own state: the planner's instance is built from
//! the database (stock at the nodes, stock between them, the inbound
//! pipeline, open requests, departures not yet gone), the plan is stored as
//! `proposed`, and accepting it loads the departures through the ledger, all
//! or nothing, under one idempotency key.
//!
//! Choices the instance encodes (see ARCHITECTURE.md, "Planning from the
//! hub's state"):
//! - a request's value per unit is its item's value per unit (master data)
//!   times a multiplier set by its priority
//!   ([`reliefhub_planner::value`]; an item without a value is valued by its
//!   weight), so the planner delivers the most valuable, most urgent aid
//!   first, net of freight;
//! - requests a manager marked must-ship go in the instance's overrides
//!   (`must_ship`): the planner meets them or says why it cannot;
//! - a departure that already has cargo on board has its fixed cost sunk
//!   (0 in the instance) and offers only its remaining capacity;
//! - stock in a lot moves in whole packs (the manifest's pack count), reduced
//!   to what the lot's remaining balance still divides into;
//! - the port and the airport are [`HUB_TRANSFER_DAYS`] apart by road;
//! - stock still inbound is available from the leg's expected arrival, stock
//!   between the nodes from the day after it left. Only stock already at a
//!   departure's node can be loaded when a plan is accepted; the rest of the
//!   plan is shown as waiting for its stock.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use reliefhub_core::domain::{format_date, parse_date};
use reliefhub_planner::instance::parse_day;
use reliefhub_planner::keep::{plan_keeping, DropReason, KeptOutcome};
use reliefhub_planner::{
    plan as planfmt, solve, Allocation, Clock, Instance, Progress, SolveOptions,
};
use reliefhub_store::Value;
use serde::Serialize;
use serde_json::json;
use time::Date;

use crate::departure::{loaded_cold_m3, LoadLine};
use crate::transfer::NewTransfer;
use crate::{lot_specs, Moment, Ops, OpsError, PlanStatus};

/// Days by road between the port and the airport.
pub const HUB_TRANSFER_DAYS: i64 = 1;

pub use reliefhub_planner::value::{
    request_value_per_unit, FALLBACK_USD_PER_KG, VALUE_MULTIPLIER_BY_PRIORITY,
};

/// How long and with which seed to plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanOptions {
    pub time_limit_s: f64,
    pub seed: u64,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            time_limit_s: 5.0,
            seed: 1,
        }
    }
}

/// One stored plan, in a list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanSummary {
    pub id: i64,
    pub created_at_unix_ms: i64,
    /// The hub date the plan was made for.
    pub planned_on: String,
    pub status: PlanStatus,
    pub objective: f64,
    pub upper_bound: Option<f64>,
    pub departures_used: usize,
    pub unmet_count: usize,
}

/// Units of a lot the plan puts on a departure for a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanLine {
    pub lot_id: i64,
    pub item: String,
    pub donor: String,
    pub request: String,
    pub quantity: i64,
    pub weight_kg: f64,
    /// Where the stock is now: a node code, or the inbound leg or hub
    /// transfer it is travelling on.
    pub stock_at: String,
    /// True when the stock is already at the departure's node, so accepting
    /// the plan loads it now.
    pub ready: bool,
}

/// A departure in a plan, with how full the plan makes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanDeparture {
    pub code: String,
    pub node: String,
    pub destination: String,
    pub mode: String,
    pub departs: String,
    pub arrives: String,
    /// Capacity offered to the plan (what was left when it was made).
    pub payload_kg: f64,
    pub volume_m3: f64,
    pub cold_volume_m3: f64,
    pub fixed_cost: f64,
    /// `scheduled` or `charter`.
    pub service: String,
    /// The aid value of the cargo the plan puts on it (value per unit ×
    /// units × timeliness), in the departures' cost unit.
    pub value_carried: f64,
    /// Freight of that cargo (cost per kg × kg); with the fixed cost, what
    /// using the departure costs.
    pub freight_cost: f64,
    pub load_kg: f64,
    pub load_m3: f64,
    pub load_cold_m3: f64,
    /// The larger of the weight and volume fractions used, in percent.
    pub load_pct: f64,
    pub used: bool,
    pub allocations: Vec<PlanLine>,
}

/// A request the plan does not fully meet, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanUnmet {
    pub request: String,
    pub destination: String,
    pub item: String,
    pub quantity: i64,
    pub reason: String,
    /// The reason as a stable code (`charter_not_worth`, `no_departure`,
    /// ...), empty for plans stored before reasons had codes.
    pub reason_code: String,
    /// The reason's figures by name (for a charter: `charter`, `units`,
    /// `capacity_used_pct`, `value`, `fixed_cost`, ...).
    pub reason_params: serde_json::Map<String, serde_json::Value>,
    /// Marked must-ship when the plan was made.
    pub must_ship: bool,
}

/// A plan as the hub's staff read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanView {
    pub id: i64,
    pub status: PlanStatus,
    pub planned_on: String,
    pub created_at_unix_ms: i64,
    pub objective: f64,
    pub upper_bound: Option<f64>,
    pub departures: Vec<PlanDeparture>,
    pub unmet: Vec<PlanUnmet>,
    /// For a plan built with `--keep-accepted`: the accepted plan it keeps
    /// and what became of each of that plan's loads.
    pub changes: Option<PlanChanges>,
    /// The manager's overrides the plan was built under (the instance
    /// format's `overrides` object), stored with it.
    pub overrides: Option<serde_json::Value>,
}

/// What became of one load of the accepted plan in a plan that keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PlanChange {
    /// `kept` (on the same departure, maybe fewer units), `moved` (the
    /// request now travels on other departures) or `dropped`.
    pub change: String,
    pub request: String,
    pub departure: String,
    pub lot_id: i64,
    /// Units the accepted plan put on the departure.
    pub quantity: i64,
    /// Units still on that departure in the new plan.
    pub kept: i64,
    /// True when the units are already on board (loaded when the plan was
    /// accepted).
    pub loaded: bool,
    /// For a moved load: the departures that now carry its request.
    pub moved_to: Vec<String>,
    /// Why a load was moved, dropped or cut (a stable code), and in words.
    pub reason_code: Option<String>,
    pub reason: Option<String>,
}

/// The change list of a plan that keeps an accepted plan's loads.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PlanChanges {
    /// The accepted plan whose loads were kept.
    pub based_on: i64,
    pub kept: usize,
    pub moved: usize,
    pub dropped: usize,
    /// Allocations of the new plan that were not in the accepted one.
    pub added: usize,
    pub changes: Vec<PlanChange>,
}

/// The loading list one departure got when a plan was accepted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AcceptedLoad {
    pub departure: String,
    pub lines: usize,
    pub units: i64,
}

/// A hub transfer that accepting a plan dispatched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AcceptedTransfer {
    pub code: String,
    pub from_node: String,
    pub to_node: String,
    pub lots: usize,
    pub units: i64,
}

/// What accepting a plan did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AcceptedPlan {
    pub plan_id: i64,
    pub status: PlanStatus,
    pub loading: Vec<AcceptedLoad>,
    /// Allocations whose stock is not yet at the departure's node: they stay
    /// in the plan, to be loaded when the stock arrives.
    pub waiting: Vec<PlanLine>,
    /// Hub transfers dispatched on acceptance, to bring waiting stock that
    /// sits at the other node today to its departure's node.
    pub transfers: Vec<AcceptedTransfer>,
    /// The ledger batch of the loading (0 when nothing was ready to load).
    pub batch_id: i64,
    /// True when this key had already accepted the plan.
    pub replayed: bool,
}

struct WallClock(Instant);

impl Clock for WallClock {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a.abs()
    } else {
        gcd(b, a % b)
    }
}

fn day(date: Date) -> String {
    format_date(date)
}

impl Ops {
    /// The planner's instance (`reliefhub-plan-instance/1`) for the hub's
    /// state on `at.date`. Lots carry `lot_id` and `stock_at` beside the
    /// fields of the format, which readers of the format ignore.
    pub fn plan_instance(&mut self, at: Moment) -> Result<serde_json::Value, OpsError> {
        let today = at.date;
        let refs = self.refs()?;
        let balances = self.store.balances()?;
        let (nodes, legs, transfers, packs, specs) = self.store.read(|conn| {
            let nodes: Vec<(String, String)> = conn
                .query("SELECT code, kind FROM nodes ORDER BY code", &[])?
                .iter()
                .map(|r| Ok((r[0].text()?, r[1].text()?)))
                .collect::<Result<_, reliefhub_store::StoreError>>()?;
            let legs: HashMap<String, (String, String)> = conn
                .query("SELECT code, node, expected_arrival FROM inbound_legs", &[])?
                .iter()
                .map(|r| Ok((r[0].text()?, (r[1].text()?, r[2].text()?))))
                .collect::<Result<_, reliefhub_store::StoreError>>()?;
            let transfers: HashMap<String, (String, String)> = conn
                .query(
                    "SELECT code, to_node, dispatched_on FROM hub_transfers WHERE arrived_on IS NULL",
                    &[],
                )?
                .iter()
                .map(|r| Ok((r[0].text()?, (r[1].text()?, r[2].text()?))))
                .collect::<Result<_, reliefhub_store::StoreError>>()?;
            let mut packs: HashMap<i64, i64> = HashMap::new();
            for r in conn.query(
                "SELECT lot_id, quantity, packs FROM manifest_lines WHERE packs IS NOT NULL AND packs > 0",
                &[],
            )? {
                let (lot, quantity, count) = (r[0].int()?, r[1].int()?, r[2].int()?);
                if quantity > 0 && quantity % count == 0 {
                    packs.insert(lot, quantity / count);
                }
            }
            let ids: Vec<i64> = balances
                .iter()
                .filter(|b| b.quantity > 0)
                .map(|b| b.lot_id)
                .collect();
            let specs = lot_specs(conn, &ids)?;
            Ok((nodes, legs, transfers, packs, specs))
        })?;

        // Lots: where each (lot, place) is, and from when it can be loaded.
        let mut lots = Vec::new();
        let mut used_items: BTreeMap<String, ()> = BTreeMap::new();
        for b in balances.iter().filter(|b| b.quantity > 0) {
            let Some((kind, place)) = b.account.split_once(':') else {
                continue;
            };
            let (node, available, stock_at) = match kind {
                "at" => (place.to_string(), today, place.to_string()),
                "inbound" => match legs.get(place) {
                    Some((node, expected)) => {
                        let expected = parse_date(expected).unwrap_or(today);
                        (
                            node.clone(),
                            expected.max(today),
                            format!("inbound:{place}"),
                        )
                    }
                    None => continue,
                },
                "transfer" => match transfers.get(place) {
                    Some((node, dispatched)) => {
                        let dispatched = parse_date(dispatched).unwrap_or(today);
                        let arrives = dispatched + time::Duration::days(HUB_TRANSFER_DAYS);
                        (
                            node.clone(),
                            arrives.max(today),
                            format!("transfer:{place}"),
                        )
                    }
                    None => continue,
                },
                _ => continue,
            };
            let Some(spec) = specs.get(&b.lot_id) else {
                continue;
            };
            if !refs.items.contains_key(&spec.item) {
                continue;
            }
            let pack = gcd(packs.get(&b.lot_id).copied().unwrap_or(1), b.quantity).max(1);
            used_items.insert(spec.item.clone(), ());
            lots.push(json!({
                "id": format!("L{}@{}", b.lot_id, stock_at),
                "item": spec.item,
                "node": node,
                "quantity": b.quantity,
                "pack_size": pack,
                "available": day(available),
                "expires": spec.expiry.map(day),
                "earmark": spec.earmark,
                "lot_id": b.lot_id,
                "donor": spec.donor,
                "stock_at": stock_at,
            }));
        }

        // Departures that have not gone, with what is left of them.
        let mut departures = Vec::new();
        for d in self.departures()? {
            if !d.status.takes_cargo() || d.departure.departs_on < today {
                continue;
            }
            let code = d.departure.code.clone();
            let cold_loaded = self
                .store
                .read(|conn| loaded_cold_m3(conn, &code, &refs.items))?;
            let dep = &d.departure;
            departures.push(json!({
                "id": dep.code,
                "node": dep.node,
                "mode": dep.mode.code(),
                "destination": dep.destination,
                "departs": day(dep.departs_on),
                "arrives": day(dep.arrives_on),
                "payload_kg": (dep.payload_kg - d.loaded_kg).max(0.0),
                "volume_m3": (dep.volume_m3 - d.loaded_m3).max(0.0),
                "cold_volume_m3": (dep.cold_volume_m3 - cold_loaded).max(0.0),
                "dangerous_goods": dep.dangerous_goods_allowed,
                "fixed_cost": if d.loaded_units > 0 { 0.0 } else { dep.fixed_cost_usd },
                "cost_per_kg": dep.cost_per_kg_usd,
                "service": dep.service.code(),
            }));
        }

        // Requests still needing stock.
        let mut requests = Vec::new();
        let mut must_ship = Vec::new();
        for r in self.requests()? {
            if r.cancelled_on.is_some() {
                continue;
            }
            let remaining = r.request.quantity - r.delivered - r.loaded;
            let Some(item) = refs.items.get(&r.request.item) else {
                continue;
            };
            if remaining <= 0 {
                continue;
            }
            used_items.insert(item.code.clone(), ());
            if r.must_ship {
                must_ship.push(json!({"request": r.request.code}));
            }
            requests.push(json!({
                "id": r.request.code,
                "destination": r.request.destination,
                "item": r.request.item,
                "quantity": remaining,
                "value_per_unit": request_value_per_unit(
                    item.value_usd_per_unit,
                    item.unit_weight_kg,
                    r.request.priority,
                ),
                "needed_by": day(r.request.needed_by),
                "grace_days": r.request.grace_days.max(0),
                "priority": r.request.priority,
                "must_ship": r.must_ship,
            }));
        }

        let items: Vec<serde_json::Value> = used_items
            .keys()
            .filter_map(|code| refs.items.get(code))
            .map(|i| {
                json!({
                    "id": i.code,
                    "name": i.name,
                    "unit_weight_kg": i.unit_weight_kg,
                    "unit_volume_m3": i.unit_volume_m3,
                    "cold_chain": i.cold_chain,
                    "dangerous_goods": i.dangerous_goods(),
                    "min_shelf_life_days": i.min_shelf_life_days,
                    "value_usd_per_unit": i.value_usd_per_unit,
                })
            })
            .collect();
        let mut links = Vec::new();
        for (a, _) in &nodes {
            for (b, _) in &nodes {
                if a != b {
                    links.push(json!({"from": a, "to": b, "days": HUB_TRANSFER_DAYS}));
                }
            }
        }
        let mut instance = json!({
            "format": reliefhub_planner::instance::INSTANCE_FORMAT,
            "name": format!("hub-{}", day(today)),
            "nodes": nodes.iter().map(|(code, kind)| json!({"id": code, "kind": kind})).collect::<Vec<_>>(),
            "transfers": links,
            "items": items,
            "lots": lots,
            "departures": departures,
            "requests": requests,
        });
        if !must_ship.is_empty() {
            instance["overrides"] = json!({ "must_ship": must_ship });
        }
        Ok(instance)
    }

    /// Builds the instance from the hub's state, plans it and stores the
    /// plan as `proposed`.
    pub fn propose_plan(
        &mut self,
        at: Moment,
        options: &PlanOptions,
    ) -> Result<PlanView, OpsError> {
        self.propose_plan_with(at, options, &mut |_| {})
    }

    /// [`Ops::propose_plan`], reporting the planner's progress.
    pub fn propose_plan_with(
        &mut self,
        at: Moment,
        options: &PlanOptions,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<PlanView, OpsError> {
        self.propose_plan_overriding(at, options, None, progress)
    }

    /// The instance of [`Ops::plan_instance`] with a manager's overrides:
    /// the instance format's `overrides` object (`pin`, `forbid`, `force`,
    /// `hold`), naming requests and departures by code and lots by the
    /// instance's ids (`L<lot>@<place>`).
    pub fn plan_instance_with(
        &mut self,
        at: Moment,
        overrides: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, OpsError> {
        let mut instance = self.plan_instance(at)?;
        if let Some(overrides) = overrides {
            if !overrides.is_object() {
                return Err(OpsError::refused(
                    crate::Code::NotJson,
                    "overrides",
                    overrides,
                    "overrides are a JSON object with pin, forbid, force, hold and must_ship lists",
                ));
            }
            // The requests marked must-ship stay so, whatever the overrides
            // given say.
            let marked = instance["overrides"]["must_ship"].as_array().cloned();
            let mut merged = overrides.clone();
            if let Some(marked) = marked {
                let list = merged
                    .as_object_mut()
                    .map(|o| o.entry("must_ship").or_insert_with(|| json!([])));
                if let Some(serde_json::Value::Array(list)) = list {
                    for entry in marked {
                        if !list.contains(&entry) {
                            list.push(entry);
                        }
                    }
                }
            }
            instance["overrides"] = merged;
        }
        Ok(instance)
    }

    /// Reads the instance built from the hub's state; a manager's override
    /// that names what the instance lacks is refused with every problem.
    fn hub_instance(
        &mut self,
        at: Moment,
        overrides: Option<&serde_json::Value>,
    ) -> Result<(String, Instance), OpsError> {
        let text = self.plan_instance_with(at, overrides)?.to_string();
        match Instance::from_json(&text) {
            Ok(instance) => Ok((text, instance)),
            Err(e) => {
                let problems: Vec<crate::Problem> = e
                    .issues()
                    .into_iter()
                    .filter(|i| i.object.starts_with("overrides"))
                    .map(|i| {
                        // The value named: `overrides.pin[0]` and `request`
                        // point into the overrides object.
                        let value = i
                            .object
                            .strip_prefix("overrides.")
                            .and_then(|rest| rest.split_once('['))
                            .and_then(|(list, k)| {
                                let k: usize = k.trim_end_matches(']').parse().ok()?;
                                overrides?.get(list)?.get(k)?.get(&i.field).cloned()
                            })
                            .map_or_else(String::new, |v| match v {
                                serde_json::Value::String(text) => text,
                                other => other.to_string(),
                            });
                        let code = match i.field.as_str() {
                            "request" => crate::Code::UnknownRequest,
                            "lot" => crate::Code::UnknownLot,
                            _ => crate::Code::NotJson,
                        };
                        crate::Problem::new(
                            code,
                            format!("{}.{}", i.object, i.field),
                            value,
                            i.message.clone(),
                        )
                    })
                    .collect();
                if problems.is_empty() {
                    return Err(OpsError::refused(
                        crate::Code::LedgerRule,
                        "",
                        "",
                        format!("the hub's state does not make a valid instance: {e}"),
                    ));
                }
                crate::rules::refuse_if(problems)?;
                unreachable!("refuse_if refuses a non-empty list")
            }
        }
    }

    /// [`Ops::propose_plan_with`] under a manager's overrides, which are
    /// stored with the plan (see [`Ops::plan_instance_with`]).
    pub fn propose_plan_overriding(
        &mut self,
        at: Moment,
        options: &PlanOptions,
        overrides: Option<&serde_json::Value>,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<PlanView, OpsError> {
        if !(options.time_limit_s.is_finite() && options.time_limit_s > 0.0) {
            return Err(OpsError::refused(
                crate::Code::OutOfRange,
                "time_limit_s",
                options.time_limit_s,
                "must be a positive number of seconds",
            ));
        }
        let (text, instance) = self.hub_instance(at, overrides)?;
        let solve_options = SolveOptions {
            seed: options.seed,
            time_limit: Some(Duration::from_secs_f64(options.time_limit_s.min(3600.0))),
            cores: std::thread::available_parallelism().ok().map(|n| n.get()),
            ..SolveOptions::default()
        };
        let plan = solve(
            &instance,
            &solve_options,
            &WallClock(Instant::now()),
            progress,
        );
        self.store_plan(at, &instance, &text, &plan, None)
    }

    /// Stores a plan as `proposed` and returns its view.
    fn store_plan(
        &mut self,
        at: Moment,
        instance: &Instance,
        instance_text: &str,
        plan: &reliefhub_planner::Plan,
        changes: Option<&PlanChanges>,
    ) -> Result<PlanView, OpsError> {
        let plan_text = planfmt::to_json(instance, plan);
        let based_on = changes.map(|c| c.based_on);
        let changes_text = changes
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| OpsError::Store(reliefhub_store::StoreError::Corrupt(e.to_string())))?;
        let id = self.store.write(|conn| {
            conn.execute(
                "INSERT INTO plans (created_at_unix_ms, planned_on, status, objective, upper_bound, instance_json, plan_json, based_on, changes_json) \
                 VALUES ($1, $2, $9, $3, $4, $5, $6, $7, $8)",
                &[
                    at.unix_ms.into(),
                    day(at.date).into(),
                    plan.objective.into(),
                    plan.upper_bound.into(),
                    instance_text.into(),
                    (&plan_text).into(),
                    based_on.into(),
                    changes_text.as_deref().into(),
                    PlanStatus::Proposed.as_code().into(),
                ],
            )?;
            conn.query("SELECT MAX(id) FROM plans", &[])?[0][0].int()
        })?;
        self.plan_view(id)
    }

    /// Every stored plan, newest first. Summaries come from the plan
    /// documents alone; the instances are not read.
    pub fn plans(&mut self) -> Result<Vec<PlanSummary>, OpsError> {
        let rows = self.store.read(|conn| {
            conn.query(
                "SELECT id, created_at_unix_ms, planned_on, status, objective, upper_bound, plan_json \
                 FROM plans ORDER BY id DESC",
                &[],
            )
        })?;
        rows.iter()
            .map(|row| {
                let id = row[0].int()?;
                let plan: serde_json::Value =
                    serde_json::from_str(&row[6].text()?).map_err(|_| {
                        OpsError::Store(reliefhub_store::StoreError::Corrupt(format!(
                            "plan {id}: plan"
                        )))
                    })?;
                let list = |name: &str| {
                    plan.get(name)
                        .and_then(|v| v.as_array())
                        .cloned()
                        .unwrap_or_default()
                };
                let used: std::collections::HashSet<String> = list("allocations")
                    .iter()
                    .filter_map(|a| a.get("departure")?.as_str().map(str::to_string))
                    .collect();
                Ok(PlanSummary {
                    id,
                    created_at_unix_ms: row[1].int()?,
                    planned_on: row[2].text()?,
                    status: stored_plan_status(id, &row[3].text()?)?,
                    objective: row[4].real()?,
                    upper_bound: optional_real(&row[5])?,
                    departures_used: used.len(),
                    unmet_count: list("unmet").len(),
                })
            })
            .collect()
    }

    /// The newest plan, if any.
    pub fn latest_plan(&mut self) -> Result<Option<PlanView>, OpsError> {
        let id = self
            .store
            .read(|conn| conn.query("SELECT MAX(id) FROM plans", &[])?[0][0].opt_int())?;
        id.map(|id| self.plan_view(id)).transpose()
    }

    /// A stored plan's documents: the instance it was made from and the
    /// plan, both as JSON text in their exchange formats.
    pub fn plan_documents(&mut self, id: i64) -> Result<(String, String), OpsError> {
        let rows = self.store.read(|conn| {
            conn.query(
                "SELECT instance_json, plan_json FROM plans WHERE id = $1",
                &[id.into()],
            )
        })?;
        let row = rows.first().ok_or_else(|| OpsError::NotFound {
            what: "plan",
            code: id.to_string(),
        })?;
        Ok((row[0].text()?, row[1].text()?))
    }

    /// One stored plan as the hub's staff read it.
    pub fn plan_view(&mut self, id: i64) -> Result<PlanView, OpsError> {
        let rows = self.store.read(|conn| {
            conn.query(
                "SELECT id, created_at_unix_ms, planned_on, status, objective, upper_bound, instance_json, plan_json, changes_json \
                 FROM plans WHERE id = $1",
                &[id.into()],
            )
        })?;
        let Some(row) = rows.first() else {
            return Err(OpsError::NotFound {
                what: "plan",
                code: id.to_string(),
            });
        };
        let corrupt = |what: &str| {
            OpsError::Store(reliefhub_store::StoreError::Corrupt(format!(
                "plan {id}: {what}"
            )))
        };
        let instance: serde_json::Value =
            serde_json::from_str(&row[6].text()?).map_err(|_| corrupt("instance"))?;
        let plan: serde_json::Value =
            serde_json::from_str(&row[7].text()?).map_err(|_| corrupt("plan"))?;
        let changes = match row[8].opt_text()? {
            None => None,
            Some(text) => Some(serde_json::from_str(&text).map_err(|_| corrupt("changes"))?),
        };
        let mut view = view_of(
            id,
            stored_plan_status(id, &row[3].text()?)?,
            row[2].text()?,
            row[1].int()?,
            row[4].real()?,
            optional_real(&row[5])?,
            &instance,
            &plan,
        )
        .ok_or_else(|| corrupt("allocations do not match the instance"))?;
        view.changes = changes;
        Ok(view)
    }

    /// Accepts a plan: loads every allocation whose stock is at its
    /// departure's node, all in one ledger batch under `key`, and marks the
    /// plan accepted. If the hub's stock or departures changed since the
    /// plan was made so that a loading list no longer holds, nothing is
    /// loaded and every problem is listed; build a new plan.
    pub fn accept_plan(
        &mut self,
        id: i64,
        at: Moment,
        key: &str,
    ) -> Result<AcceptedPlan, OpsError> {
        let view = self.plan_view(id)?;
        let mut lists: Vec<(String, Vec<LoadLine>)> = Vec::new();
        let mut loading = Vec::new();
        let mut waiting = Vec::new();
        // Waiting stock at the other node today, by (from, to) node and lot.
        let mut to_move: BTreeMap<(String, String), BTreeMap<i64, i64>> = BTreeMap::new();
        for d in &view.departures {
            let mut lines: BTreeMap<(i64, String), i64> = BTreeMap::new();
            for a in &d.allocations {
                if a.ready {
                    *lines.entry((a.lot_id, a.request.clone())).or_insert(0) += a.quantity;
                } else {
                    // Stock at a node is named by the node's code; stock on its
                    // way (inbound, between the nodes) by `kind:reference`.
                    if !a.stock_at.contains(':') && a.stock_at != d.node {
                        *to_move
                            .entry((a.stock_at.clone(), d.node.clone()))
                            .or_default()
                            .entry(a.lot_id)
                            .or_insert(0) += a.quantity;
                    }
                    waiting.push(a.clone());
                }
            }
            if lines.is_empty() {
                continue;
            }
            let lines: Vec<LoadLine> = lines
                .into_iter()
                .map(|((lot_id, request), quantity)| LoadLine {
                    lot_id,
                    quantity,
                    request: Some(request),
                })
                .collect();
            loading.push(AcceptedLoad {
                departure: d.code.clone(),
                lines: lines.len(),
                units: lines.iter().map(|l| l.quantity).sum(),
            });
            lists.push((d.code.clone(), lines));
        }
        let moves: Vec<NewTransfer> = to_move
            .into_iter()
            .map(|((from_node, to_node), lots)| NewTransfer {
                code: format!("PLAN-{id}-{from_node}-{to_node}"),
                from_node,
                to_node,
                vehicle: format!("plan {id}"),
                dispatched_on: at.date,
                lines: lots.into_iter().collect(),
            })
            .collect();
        let transfers: Vec<AcceptedTransfer> = moves
            .iter()
            .map(|m| AcceptedTransfer {
                code: m.code.clone(),
                from_node: m.from_node.clone(),
                to_node: m.to_node.clone(),
                lots: m.lines.len(),
                units: m.lines.iter().map(|(_, q)| q).sum(),
            })
            .collect();
        if view.status == PlanStatus::Accepted {
            // Accepting again under the key that accepted it is a replay;
            // under any other key it is refused.
            let recorded = self.store.read(|conn| {
                conn.query(
                    "SELECT idem_key FROM op_requests WHERE kind = 'plan.accept' AND reference = $1",
                    &[format!("plan:{id}").into()],
                )
            })?;
            let same = recorded
                .first()
                .map(|r| r[0].text())
                .transpose()?
                .is_some_and(|k| k == key);
            if same || (lists.is_empty() && moves.is_empty() && recorded.is_empty()) {
                return Ok(AcceptedPlan {
                    plan_id: id,
                    status: PlanStatus::Accepted,
                    loading,
                    waiting,
                    transfers,
                    batch_id: 0,
                    replayed: true,
                });
            }
            return Err(OpsError::refused(
                crate::Code::AlreadyDone,
                "id",
                id,
                format!("plan {id} was already accepted; build a new plan to load more"),
            ));
        }
        if lists.is_empty() && moves.is_empty() {
            self.store.write(|conn| {
                conn.execute(
                    "UPDATE plans SET status = $3, accepted_at_unix_ms = $1 WHERE id = $2",
                    &[
                        at.unix_ms.into(),
                        id.into(),
                        PlanStatus::Accepted.as_code().into(),
                    ],
                )
            })?;
            return Ok(AcceptedPlan {
                plan_id: id,
                status: PlanStatus::Accepted,
                loading,
                waiting,
                transfers,
                batch_id: 0,
                replayed: false,
            });
        }
        let done = self.load_plan(id, &lists, &moves, key, at)?;
        Ok(AcceptedPlan {
            plan_id: id,
            status: PlanStatus::Accepted,
            loading,
            waiting,
            transfers,
            batch_id: done.applied.batch_id,
            replayed: done.replayed,
        })
    }
}

/// A plan's status as stored; any other text is a corrupt database.
fn stored_plan_status(id: i64, text: &str) -> Result<PlanStatus, OpsError> {
    PlanStatus::parse(text).ok_or_else(|| {
        OpsError::Store(reliefhub_store::StoreError::Corrupt(format!(
            "plan {id} has the status `{text}`"
        )))
    })
}

fn optional_real(value: &Value) -> Result<Option<f64>, OpsError> {
    match value {
        Value::Null => Ok(None),
        other => Ok(Some(other.real()?)),
    }
}

/// Joins a stored plan with its instance into the staff's view.
#[allow(clippy::too_many_arguments)]
fn view_of(
    id: i64,
    status: PlanStatus,
    planned_on: String,
    created_at_unix_ms: i64,
    objective: f64,
    upper_bound: Option<f64>,
    instance: &serde_json::Value,
    plan: &serde_json::Value,
) -> Option<PlanView> {
    let list = |name: &str| {
        instance
            .get(name)
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default()
    };
    let items: HashMap<String, serde_json::Value> = list("items")
        .into_iter()
        .filter_map(|i| Some((i.get("id")?.as_str()?.to_string(), i)))
        .collect();
    let lots: HashMap<String, serde_json::Value> = list("lots")
        .into_iter()
        .filter_map(|l| Some((l.get("id")?.as_str()?.to_string(), l)))
        .collect();
    let requests: HashMap<String, serde_json::Value> = list("requests")
        .into_iter()
        .filter_map(|r| Some((r.get("id")?.as_str()?.to_string(), r)))
        .collect();
    let text = |v: &serde_json::Value, f: &str| {
        v.get(f).and_then(|x| x.as_str()).unwrap_or("").to_string()
    };
    let num = |v: &serde_json::Value, f: &str| {
        v.get(f).and_then(serde_json::Value::as_f64).unwrap_or(0.0)
    };

    let mut departures: Vec<PlanDeparture> = list("departures")
        .iter()
        .map(|d| PlanDeparture {
            code: text(d, "id"),
            node: text(d, "node"),
            destination: text(d, "destination"),
            mode: text(d, "mode"),
            departs: text(d, "departs"),
            arrives: text(d, "arrives"),
            payload_kg: num(d, "payload_kg"),
            volume_m3: num(d, "volume_m3"),
            cold_volume_m3: num(d, "cold_volume_m3"),
            fixed_cost: num(d, "fixed_cost"),
            service: text(d, "service"),
            value_carried: 0.0,
            freight_cost: 0.0,
            load_kg: 0.0,
            load_m3: 0.0,
            load_cold_m3: 0.0,
            load_pct: 0.0,
            used: false,
            allocations: Vec::new(),
        })
        .collect();
    let cost_per_kg: HashMap<String, f64> = list("departures")
        .iter()
        .map(|d| (text(d, "id"), num(d, "cost_per_kg")))
        .collect();
    let index: HashMap<String, usize> = departures
        .iter()
        .enumerate()
        .map(|(i, d)| (d.code.clone(), i))
        .collect();
    for a in plan.get("allocations")?.as_array()? {
        let lot = lots.get(a.get("lot")?.as_str()?)?;
        let d = &mut departures[*index.get(a.get("departure")?.as_str()?)?];
        let item = items.get(lot.get("item")?.as_str()?)?;
        let quantity = a.get("quantity")?.as_i64()?;
        let units = quantity as f64;
        let weight = num(item, "unit_weight_kg") * units;
        let volume = num(item, "unit_volume_m3") * units;
        let request = requests.get(a.get("request")?.as_str()?)?;
        let late = match (
            parse_day(&d.arrives),
            parse_day(
                request
                    .get("needed_by")
                    .and_then(|x| x.as_str())
                    .unwrap_or(""),
            ),
        ) {
            (Some(arrives), Some(needed)) => (arrives - needed).max(0),
            _ => 0,
        };
        let grace = request
            .get("grace_days")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0);
        d.value_carried += units
            * num(request, "value_per_unit")
            * planfmt::timeliness(late, i32::try_from(grace).unwrap_or(0));
        d.freight_cost += weight * cost_per_kg.get(&d.code).copied().unwrap_or(0.0);
        d.load_kg += weight;
        d.load_m3 += volume;
        if item.get("cold_chain").and_then(serde_json::Value::as_bool) == Some(true) {
            d.load_cold_m3 += volume;
        }
        d.used = true;
        let stock_at = text(lot, "stock_at");
        d.allocations.push(PlanLine {
            lot_id: lot.get("lot_id")?.as_i64()?,
            item: text(lot, "item"),
            donor: text(lot, "donor"),
            request: a.get("request")?.as_str()?.to_string(),
            quantity,
            weight_kg: weight,
            ready: stock_at == d.node,
            stock_at,
        });
    }
    for d in &mut departures {
        let fraction = |load: f64, cap: f64| if cap > 0.0 { load / cap } else { 0.0 };
        d.load_pct =
            100.0 * fraction(d.load_kg, d.payload_kg).max(fraction(d.load_m3, d.volume_m3));
    }
    let must_ship: Vec<&str> = instance
        .get("overrides")
        .and_then(|o| o.get("must_ship"))
        .and_then(|m| m.as_array())
        .map(|m| {
            m.iter()
                .filter_map(|e| e.get("request")?.as_str())
                .collect()
        })
        .unwrap_or_default();
    let unmet = plan
        .get("unmet")
        .and_then(|u| u.as_array())
        .map(|u| {
            u.iter()
                .filter_map(|x| {
                    let code = x.get("request")?.as_str()?;
                    let r = requests.get(code)?;
                    Some(PlanUnmet {
                        request: code.to_string(),
                        destination: text(r, "destination"),
                        item: text(r, "item"),
                        quantity: x.get("quantity")?.as_i64()?,
                        reason: x.get("reason")?.as_str()?.to_string(),
                        reason_code: x
                            .get("reason_code")
                            .and_then(|c| c.as_str())
                            .unwrap_or_default()
                            .to_string(),
                        reason_params: x
                            .get("reason_params")
                            .and_then(|p| p.as_object())
                            .cloned()
                            .unwrap_or_default(),
                        must_ship: must_ship.contains(&code),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some(PlanView {
        id,
        status,
        planned_on,
        created_at_unix_ms,
        objective,
        upper_bound,
        departures,
        unmet,
        changes: None,
        overrides: instance.get("overrides").cloned(),
    })
}

impl Ops {
    /// Loads an accepted plan's lists and marks the plan accepted, in one
    /// transaction.
    fn load_plan(
        &mut self,
        id: i64,
        lists: &[(String, Vec<LoadLine>)],
        moves: &[NewTransfer],
        key: &str,
        at: Moment,
    ) -> Result<crate::Done, OpsError> {
        let digest = crate::digest::plan_accept(id, lists, moves);
        self.load_lists(lists, moves, key, &digest, "plan.accept", at, move |conn, applied| {
            conn.execute(
                "UPDATE plans SET status = $4, accepted_at_unix_ms = $1, accept_batch = $2 WHERE id = $3",
                &[
                    at.unix_ms.into(),
                    applied.batch_id.into(),
                    id.into(),
                    PlanStatus::Accepted.as_code().into(),
                ],
            )?;
            Ok(format!("plan:{id}"))
        })
    }
}

/// Words for a reason a kept load was cut or dropped.
fn keep_reason(reason: DropReason, line: &PlanLine, departure: &str) -> String {
    match reason {
        DropReason::StockLate => format!(
            "lot {} ({}) no longer reaches {departure}'s node before it leaves",
            line.lot_id, line.stock_at
        ),
        DropReason::Expires => format!(
            "lot {} expires too soon for {departure}'s arrival",
            line.lot_id
        ),
        DropReason::StockShort => format!("less of lot {} is left than the load took", line.lot_id),
        DropReason::TooLate => format!(
            "{departure} now arrives after request {}'s grace",
            line.request
        ),
        DropReason::RequestSmaller => {
            format!("request {} needs fewer units than the load", line.request)
        }
        DropReason::NoRoom => format!("{departure} has no room left for it"),
        DropReason::Override => format!("a manager's override keeps it off {departure}"),
        DropReason::Mismatch => format!("lot {} no longer matches {departure}", line.lot_id),
    }
}

impl Ops {
    /// Re-plans after a change, keeping the loads of the newest accepted
    /// plan that still fit: loads already on board stay; loads waiting for
    /// their stock stay on their departures when the stock, the request and
    /// the departure still allow it; the rest of the hub's state is planned
    /// around them. The plan lists what became of each accepted load.
    pub fn propose_plan_keeping(
        &mut self,
        at: Moment,
        options: &PlanOptions,
        overrides: Option<&serde_json::Value>,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<PlanView, OpsError> {
        if !(options.time_limit_s.is_finite() && options.time_limit_s > 0.0) {
            return Err(OpsError::refused(
                crate::Code::OutOfRange,
                "time_limit_s",
                options.time_limit_s,
                "must be a positive number of seconds",
            ));
        }
        let accepted = self.store.read(|conn| {
            conn.query(
                "SELECT id, accept_batch FROM plans WHERE status = $1 ORDER BY id DESC LIMIT 1",
                &[PlanStatus::Accepted.as_code().into()],
            )
        })?;
        let Some(row) = accepted.first() else {
            return Err(OpsError::NotFound {
                what: "accepted plan",
                code: "(none yet: build and accept a plan first)".to_string(),
            });
        };
        let based_on = row[0].int()?;
        let accept_batch = row[1].opt_int()?;
        let old = self.plan_view(based_on)?;
        // Units still on board from the acceptance, by (departure, lot, request).
        let mut on_board: HashMap<(String, i64, String), i64> = HashMap::new();
        if let Some(batch) = accept_batch {
            let rows = self.store.read(|conn| {
                conn.query(
                    "SELECT departure_code, lot_id, request_code, quantity FROM loading_lines \
                     WHERE batch_id = $1 AND unloaded_batch IS NULL",
                    &[batch.into()],
                )
            })?;
            for r in rows {
                let key = (
                    r[0].text()?,
                    r[1].int()?,
                    r[2].opt_text()?.unwrap_or_default(),
                );
                *on_board.entry(key).or_insert(0) += r[3].int()?;
            }
        }
        let statuses: HashMap<String, crate::DepartureStatus> = self
            .departures()?
            .into_iter()
            .map(|d| (d.departure.code, d.status))
            .collect();

        let (text, instance) = self.hub_instance(at, overrides)?;
        let instance_json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| OpsError::Store(reliefhub_store::StoreError::Corrupt(e.to_string())))?;
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
        // The instance's lots by ledger lot, in the instance's order.
        let mut lots_of: HashMap<i64, Vec<usize>> = HashMap::new();
        for (i, lot) in instance_json["lots"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if let Some(id) = lot["lot_id"].as_i64() {
                lots_of.entry(id).or_default().push(i);
            }
        }

        // Each accepted load: on board, to keep, or gone with a reason.
        let mut changes: Vec<PlanChange> = Vec::new();
        let mut keep: Vec<Allocation> = Vec::new();
        let mut keep_change: Vec<usize> = Vec::new();
        for d in &old.departures {
            for line in &d.allocations {
                let mut change = PlanChange {
                    change: "kept".to_string(),
                    request: line.request.clone(),
                    departure: d.code.clone(),
                    lot_id: line.lot_id,
                    quantity: line.quantity,
                    kept: 0,
                    loaded: false,
                    moved_to: Vec::new(),
                    reason_code: None,
                    reason: None,
                };
                let key = (d.code.clone(), line.lot_id, line.request.clone());
                if let Some(units) = on_board.get_mut(&key).filter(|u| **u > 0) {
                    let loaded = (*units).min(line.quantity);
                    *units -= loaded;
                    change.kept = loaded;
                    change.loaded = true;
                    if loaded == line.quantity {
                        changes.push(change);
                        continue;
                    }
                }
                let gone = |code: &str, why: String| (Some(code.to_string()), Some(why));
                let (reason_code, reason) = match (
                    departure_index.get(d.code.as_str()),
                    request_index.get(line.request.as_str()),
                    lots_of.get(&line.lot_id),
                ) {
                    (None, _, _) => match statuses.get(&d.code) {
                        Some(crate::DepartureStatus::Cancelled) => gone(
                            "departure_cancelled",
                            format!("departure {} was cancelled", d.code),
                        ),
                        _ => gone(
                            "departure_closed",
                            format!("departure {} no longer takes cargo", d.code),
                        ),
                    },
                    (_, None, _) => gone(
                        "request_closed",
                        format!("request {} is met or cancelled", line.request),
                    ),
                    (_, _, None) => gone(
                        "stock_gone",
                        format!("lot {} is no longer in stock", line.lot_id),
                    ),
                    (Some(&dep), Some(&request), Some(lots)) => {
                        // The lot's place from which it still makes the
                        // departure, if any: first one that holds the whole
                        // load in whole packs, then one at (or on its way to)
                        // the departure's node (the plan's own transfer),
                        // then the largest.
                        let departs = instance.departures[dep].departs;
                        let node = instance.departures[dep].node;
                        let needed = line.quantity - change.kept;
                        let lot = lots
                            .iter()
                            .copied()
                            .filter(|&l| {
                                let lot = &instance.lots[l];
                                instance.transfer_days[lot.node][node]
                                    .is_some_and(|days| lot.available + days <= departs)
                            })
                            .max_by_key(|&l| {
                                let lot = &instance.lots[l];
                                let whole =
                                    lot.quantity >= needed && needed % lot.pack_size.max(1) == 0;
                                (whole, lot.node == node, lot.quantity, std::cmp::Reverse(l))
                            })
                            .unwrap_or(lots[0]);
                        keep.push(Allocation {
                            lot,
                            departure: dep,
                            request,
                            quantity: line.quantity - change.kept,
                        });
                        keep_change.push(changes.len());
                        (None, None)
                    }
                };
                change.reason_code = reason_code;
                change.reason = reason;
                changes.push(change);
            }
        }

        let solve_options = SolveOptions {
            seed: options.seed,
            time_limit: Some(Duration::from_secs_f64(options.time_limit_s.min(3600.0))),
            cores: std::thread::available_parallelism().ok().map(|n| n.get()),
            ..SolveOptions::default()
        };
        let kept = plan_keeping(
            &instance,
            &keep,
            &solve_options,
            &WallClock(Instant::now()),
            progress,
        );
        let lines: Vec<&PlanLine> = old.departures.iter().flat_map(|d| &d.allocations).collect();
        for (k, outcome) in kept.outcomes.iter().enumerate() {
            let change = &mut changes[keep_change[k]];
            let line = lines[keep_change[k]];
            match *outcome {
                KeptOutcome::Kept { units, reduced_by } => {
                    change.kept += units;
                    if let Some(reason) = reduced_by {
                        change.reason_code = Some(reason.code().to_string());
                        change.reason = Some(keep_reason(reason, line, &change.departure));
                    }
                }
                KeptOutcome::Dropped(reason) => {
                    change.reason_code = Some(reason.code().to_string());
                    change.reason = Some(keep_reason(reason, line, &change.departure));
                }
            }
        }
        // Where the requests of loads not kept in full travel now.
        let kept_count = keep
            .iter()
            .zip(&kept.outcomes)
            .filter(|(_, o)| matches!(o, KeptOutcome::Kept { .. }))
            .count();
        let added = &kept.plan.allocations[kept_count..];
        let mut carriers: HashMap<&str, Vec<String>> = HashMap::new();
        for a in added {
            let list = carriers
                .entry(instance.requests[a.request].id.as_str())
                .or_default();
            let code = &instance.departures[a.departure].id;
            if !list.contains(code) {
                list.push(code.clone());
            }
        }
        for change in &mut changes {
            if change.kept >= change.quantity {
                continue;
            }
            let elsewhere: Vec<String> = carriers
                .get(change.request.as_str())
                .map(|list| {
                    list.iter()
                        .filter(|c| **c != change.departure)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            if change.kept > 0 {
                change.moved_to = elsewhere;
            } else if elsewhere.is_empty() {
                change.change = "dropped".to_string();
            } else {
                change.change = "moved".to_string();
                change.moved_to = elsewhere;
            }
        }
        let count = |what: &str| changes.iter().filter(|c| c.change == what).count();
        let summary = PlanChanges {
            based_on,
            kept: count("kept"),
            moved: count("moved"),
            dropped: count("dropped"),
            added: added.len(),
            changes,
        };
        // The joined plan must hold as any other: check it before storing.
        let plan_text = planfmt::to_json(&instance, &kept.plan);
        let report = reliefhub_planner::check::check_plan_json(&instance, &plan_text, None)
            .map_err(|e| OpsError::Store(reliefhub_store::StoreError::Corrupt(e.to_string())))?;
        if !report.is_feasible() {
            return Err(OpsError::Store(reliefhub_store::StoreError::Corrupt(
                format!(
                    "the re-plan breaks a rule: {}",
                    report.violations.join("; ")
                ),
            )));
        }
        self.store_plan(at, &instance, &text, &kept.plan, Some(&summary))
    }
}
