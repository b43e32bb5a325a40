//! Dispatch planning: build a plan from the hub's state, list and view
//! plans, accept one (its loading lists go through the ledger under the
//! request's Idempotency-Key).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use reliefhub_ops::planning::PlanOptions;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::json;
use crate::error::{ApiError, Body, Problems};
use crate::idempotency::OpKey;
use crate::{Principal, Role, Shared, STAFF};

const READERS: [Role; 3] = [Role::Admin, Role::Operator, Role::Auditor];

// The shapes below document the planning layer's own serialised types
// (reliefhub_ops::planning::*), field for field.

/// A stored plan, in a list.
#[derive(Serialize, ToSchema)]
pub struct PlanSummaryJson {
    pub id: i64,
    pub created_at_unix_ms: i64,
    pub planned_on: String,
    /// proposed or accepted.
    pub status: String,
    pub objective: f64,
    pub upper_bound: Option<f64>,
    pub departures_used: u64,
    pub unmet_count: u64,
}

#[derive(Serialize, ToSchema)]
pub struct PlanLineJson {
    pub lot_id: i64,
    pub item: String,
    pub donor: String,
    pub request: String,
    pub quantity: i64,
    pub weight_kg: f64,
    /// A node code, or the inbound leg or hub transfer the stock is on.
    pub stock_at: String,
    /// True when the stock is at the departure's node already.
    pub ready: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PlanDepartureJson {
    pub code: String,
    pub node: String,
    pub destination: String,
    pub mode: String,
    pub departs: String,
    pub arrives: String,
    pub payload_kg: f64,
    pub volume_m3: f64,
    pub cold_volume_m3: f64,
    pub fixed_cost: f64,
    /// scheduled or charter.
    pub service: String,
    /// The aid value of the cargo the plan puts on it.
    pub value_carried: f64,
    /// The freight of that cargo; with the fixed cost, what using it costs.
    pub freight_cost: f64,
    pub load_kg: f64,
    pub load_m3: f64,
    pub load_cold_m3: f64,
    pub load_pct: f64,
    pub used: bool,
    pub allocations: Vec<PlanLineJson>,
}

#[derive(Serialize, ToSchema)]
pub struct PlanUnmetJson {
    pub request: String,
    pub destination: String,
    pub item: String,
    pub quantity: i64,
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct PlanViewJson {
    pub id: i64,
    pub status: String,
    pub planned_on: String,
    pub created_at_unix_ms: i64,
    pub objective: f64,
    pub upper_bound: Option<f64>,
    pub departures: Vec<PlanDepartureJson>,
    pub unmet: Vec<PlanUnmetJson>,
    /// For a plan that keeps an accepted plan's loads: what became of them.
    pub changes: Option<PlanChangesJson>,
    /// The manager's overrides the plan was built under.
    #[schema(value_type = Option<Object>)]
    pub overrides: Option<serde_json::Value>,
}

/// What became of one load of the accepted plan.
#[derive(Serialize, ToSchema)]
pub struct PlanChangeJson {
    /// kept, moved or dropped.
    pub change: String,
    pub request: String,
    pub departure: String,
    pub lot_id: i64,
    pub quantity: i64,
    pub kept: i64,
    pub loaded: bool,
    pub moved_to: Vec<String>,
    pub reason_code: Option<String>,
    pub reason: Option<String>,
}

/// The change list of a plan that keeps an accepted plan's loads.
#[derive(Serialize, ToSchema)]
pub struct PlanChangesJson {
    pub based_on: i64,
    pub kept: u64,
    pub moved: u64,
    pub dropped: u64,
    pub added: u64,
    pub changes: Vec<PlanChangeJson>,
}

#[derive(Serialize, ToSchema)]
pub struct AcceptedLoadJson {
    pub departure: String,
    pub lines: u64,
    pub units: i64,
}

/// A hub transfer dispatched on acceptance (waiting stock at the other node).
#[derive(Serialize, ToSchema)]
pub struct AcceptedTransferJson {
    pub code: String,
    pub from_node: String,
    pub to_node: String,
    pub lots: u64,
    pub units: i64,
}

#[derive(Serialize, ToSchema)]
pub struct AcceptedPlanJson {
    pub plan_id: i64,
    pub status: String,
    pub loading: Vec<AcceptedLoadJson>,
    pub waiting: Vec<PlanLineJson>,
    pub transfers: Vec<AcceptedTransferJson>,
    pub batch_id: i64,
    pub replayed: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    /// Seconds the planner may search (0.1 to 120, default 5).
    #[serde(default)]
    pub time_limit_s: Option<f64>,
    #[serde(default)]
    pub seed: Option<u64>,
    /// Keep the loads of the newest accepted plan that still fit and plan
    /// the rest around them (default 0.5 s); the plan lists the changes.
    #[serde(default)]
    pub keep_accepted: Option<bool>,
    /// A manager's overrides, taken as constraints and stored with the
    /// plan: `{"pin": [{"request", "departure"}], "forbid": [{"departure"}],
    /// "force": [{"departure"}], "hold": [{"lot", "quantity"}]}` (lots as
    /// `L<lot>@<place>`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub overrides: Option<serde_json::Value>,
}

/// Every stored plan, newest first.
#[utoipa::path(get, path = "/api/plans", tag = "planning",
    responses((status = 200, description = "Plans", body = Vec<PlanSummaryJson>)))]
pub async fn list_plans(
    State(state): State<Shared>,
    user: Principal,
) -> Result<Response, ApiError> {
    user.require(&READERS)?;
    let plans = state.pool.run(|ops| Ok(ops.plans()?)).await?;
    Ok(json(StatusCode::OK, &plans))
}

/// Builds a plan from the hub's stock, requests and departures and stores
/// it as proposed (staff).
#[utoipa::path(post, path = "/api/plans", tag = "planning", request_body = PlanInput,
    params(("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "The proposed plan", body = PlanViewJson)))]
pub async fn propose_plan(
    State(state): State<Shared>,
    user: Principal,
    Body(input): Body<PlanInput>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let keep_accepted = input.keep_accepted.unwrap_or(false);
    let time_limit_s = input
        .time_limit_s
        .unwrap_or(if keep_accepted { 0.5 } else { 5.0 });
    let mut problems = Problems::default();
    if !(0.1..=120.0).contains(&time_limit_s) {
        problems.push(
            reliefhub_ops::Code::OutOfRange,
            "time_limit_s",
            time_limit_s,
            "must be 0.1 to 120 seconds",
        );
    }
    problems.finish()?;
    let options = PlanOptions {
        time_limit_s,
        seed: input.seed.unwrap_or(1),
    };
    let at = state.now();
    let overrides = input.overrides;
    let plan = state
        .pool
        .run(move |ops| {
            Ok(if keep_accepted {
                ops.propose_plan_keeping(at, &options, overrides.as_ref(), &mut |_| {})?
            } else {
                ops.propose_plan_overriding(at, &options, overrides.as_ref(), &mut |_| {})?
            })
        })
        .await?;
    Ok(json(StatusCode::CREATED, &plan))
}

fn plan_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found("plan", text))
}

/// One plan: departures with their load and allocations, unmet requests
/// with the reason.
#[utoipa::path(get, path = "/api/plans/{id}", tag = "planning", params(("id" = String, Path, description = "The plan id")),
    responses((status = 200, description = "The plan", body = PlanViewJson)))]
pub async fn get_plan(
    State(state): State<Shared>,
    user: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user.require(&READERS)?;
    let id = plan_id(&id)?;
    let plan = state.pool.run(move |ops| Ok(ops.plan_view(id)?)).await?;
    Ok(json(StatusCode::OK, &plan))
}

/// Accepts a plan: loads what is ready through the ledger (staff).
#[utoipa::path(post, path = "/api/plans/{id}/accept", tag = "planning",
    params(("id" = String, Path, description = "The plan id"), ("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 200, description = "Accepted", body = AcceptedPlanJson)))]
pub async fn accept_plan(
    State(state): State<Shared>,
    user: Principal,
    key: OpKey,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let id = plan_id(&id)?;
    let at = state.now();
    let accepted = state
        .pool
        .run(move |ops| Ok(ops.accept_plan(id, at, &key.0)?))
        .await?;
    Ok(json(StatusCode::OK, &accepted))
}
