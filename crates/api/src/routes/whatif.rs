//! What if: plan the hub's state as a scenario would change it and compare
//! with the plan as it is (staff). Nothing is written; the answer is the
//! `reliefhub-whatif-report/1` document the dashboard draws.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use reliefhub_whatif::{run_all, RunOptions, Scenario};
use serde::Deserialize;
use utoipa::ToSchema;

use super::json;
use crate::error::{ApiError, Body, Problem, Problems};
use crate::{Principal, Shared, STAFF};

/// The most random draws one request may ask for.
const MAX_RUNS: u32 = 200;
/// The longest time limit of one run, seconds.
const MAX_TIME_LIMIT_S: f64 = 10.0;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatIfInput {
    /// A `reliefhub-scenario/1` document (see the README).
    #[schema(value_type = Object)]
    pub scenario: serde_json::Value,
    /// Random draws of a scenario with a `random` section (1 to 200, default 20).
    #[serde(default)]
    pub runs: Option<u32>,
    /// Each run's time limit in seconds (0.1 to 10, default 0.5).
    #[serde(default)]
    pub time_limit_s: Option<f64>,
}

/// Plans the baseline and the scenario (every draw of a random one) from
/// the hub's state today, and answers the comparison (staff; writes nothing).
#[utoipa::path(post, path = "/api/whatif", tag = "planning", request_body = WhatIfInput,
    params(("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 200, description = "The comparison (reliefhub-whatif-report/1)", body = Object)))]
pub async fn run_whatif(
    State(state): State<Shared>,
    user: Principal,
    Body(input): Body<WhatIfInput>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let runs = input.runs.unwrap_or(20);
    let time_limit_s = input.time_limit_s.unwrap_or(0.5);
    let mut problems = Problems::default();
    if !(1..=MAX_RUNS).contains(&runs) {
        problems.push(
            reliefhub_ops::Code::OutOfRange,
            "runs",
            runs,
            format!("must be 1 to {MAX_RUNS}"),
        );
    }
    if !(time_limit_s.is_finite() && (0.1..=MAX_TIME_LIMIT_S).contains(&time_limit_s)) {
        problems.push(
            reliefhub_ops::Code::OutOfRange,
            "time_limit_s",
            time_limit_s,
            format!("must be 0.1 to {MAX_TIME_LIMIT_S} seconds"),
        );
    }
    let scenario = match Scenario::from_value(&input.scenario) {
        Ok(s) => Some(s),
        Err(list) => {
            for p in list {
                problems.0.push(scenario_problem(p));
            }
            None
        }
    };
    problems.finish()?;
    let Some(scenario) = scenario else {
        return Err(ApiError::bad_request("the scenario could not be read"));
    };
    let at = state.now();
    let (doc, facts) = state.pool.run(move |ops| Ok(ops.whatif_state(at)?)).await?;
    let found = scenario.check(&doc, &facts);
    if !found.is_empty() {
        return Err(ApiError::validation(
            found.into_iter().map(scenario_problem).collect(),
        ));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let options = RunOptions {
        draws: runs as usize,
        time_limit: Some(Duration::from_secs_f64(time_limit_s)),
        max_moves: None,
        seed: 1,
        jobs: cores,
        cores,
    };
    let report = tokio::task::spawn_blocking(move || {
        let clock = Instant::now();
        let now = move || clock.elapsed();
        let stop = AtomicBool::new(false);
        run_all(
            &doc,
            &[scenario],
            &facts,
            &options,
            &now,
            &stop,
            &mut |_, _| {},
        )
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "whatif", e.to_string()))?;
    Ok(json(StatusCode::OK, &report))
}

/// A scenario's problem in the API's shape (the scenario's own codes).
fn scenario_problem(p: reliefhub_whatif::Problem) -> Problem {
    Problem {
        code: p.code.to_string(),
        field: format!("scenario.{}", p.field),
        value: p.value,
        rule: p.rule,
        params: Default::default(),
    }
}
