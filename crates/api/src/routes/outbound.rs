//! Requests, departures (loading, departure, delivery, proof of delivery),
//! corrections, reports, the flows map and a donor's journey.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use reliefhub_ops::{parse, DeliveryLine, LoadLine, NewDelivery, NewDeparture, NewRequest, Ops};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[allow(unused_imports)]
use super::words::{CountryCode, DamagedToName, LossName, ModeName, ServiceName};
use super::{day, json, opt_day, DoneJson, TableJson};
use crate::error::{ApiError, Body, Problems, Query};
use crate::idempotency::OpKey;
use crate::{Principal, Role, Shared, STAFF};

const READERS: [Role; 3] = [Role::Admin, Role::Operator, Role::Auditor];

/// The country of a UN/LOCODE: its first two letters.
fn country_of(locode: &str) -> &str {
    locode.get(..2).unwrap_or("")
}

// ----------------------------------------------------------------- requests

#[derive(Serialize, ToSchema)]
pub struct RequestJson {
    pub code: String,
    pub destination: String,
    pub country: String,
    pub item: String,
    pub quantity: i64,
    pub priority: i64,
    pub needed_by: String,
    pub grace_days: i64,
    pub requested_by: String,
    /// open, planned, partly met, met or cancelled.
    pub status: String,
    pub loaded: i64,
    pub delivered: i64,
    pub met: bool,
    pub cancelled_on: Option<String>,
    /// Marked must-ship by a manager: plans meet it or say why they cannot.
    pub must_ship: bool,
}

fn requests_for(ops: &mut Ops, country: Option<&str>) -> Result<Vec<RequestJson>, ApiError> {
    Ok(ops
        .requests()?
        .into_iter()
        .filter(|r| country.is_none_or(|c| country_of(&r.request.destination) == c))
        .map(|r| RequestJson {
            country: country_of(&r.request.destination).to_string(),
            met: r.delivered >= r.request.quantity,
            status: r.status.as_code().to_string(),
            code: r.request.code,
            destination: r.request.destination,
            item: r.request.item,
            quantity: r.request.quantity,
            priority: r.request.priority,
            needed_by: day(r.request.needed_by),
            grace_days: r.request.grace_days,
            requested_by: r.request.requested_by,
            loaded: r.loaded,
            delivered: r.delivered,
            cancelled_on: opt_day(r.cancelled_on),
            must_ship: r.must_ship,
        })
        .collect())
}

/// Requests from the destinations (a recipient: their country's only).
#[utoipa::path(get, path = "/api/requests", tag = "requests",
    responses((status = 200, description = "Requests by priority", body = Vec<RequestJson>)))]
pub async fn list_requests(
    State(state): State<Shared>,
    user: Principal,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin, Role::Operator, Role::Auditor, Role::Recipient])?;
    let country = user.country_scope().map(str::to_string);
    state
        .cached(format!("requests|{}", user.scope_key()), move |ops| {
            requests_for(ops, country.as_deref())
        })
        .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestInput {
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub code: String,
    /// UN/LOCODE of the destination.
    #[schema(pattern = "^[A-Z]{2}[A-Z2-9]{3}$")]
    pub destination: String,
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub item: String,
    #[schema(minimum = 1, maximum = 1000000000000_i64)]
    pub quantity: i64,
    /// 1 (highest) to 5.
    #[schema(minimum = 1, maximum = 5)]
    pub priority: i64,
    #[schema(format = Date, pattern = "^20[2-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub needed_by: String,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 365)]
    pub grace_days: i64,
    /// Who asks (default: the signed-in user; a recipient always files in
    /// their own name).
    #[serde(default)]
    pub requested_by: Option<String>,
}

/// Files a request (staff, or a recipient for their own country).
#[utoipa::path(post, path = "/api/requests", tag = "requests", request_body = RequestInput,
    params(("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Filed", body = super::Recorded),
              (status = 200, description = "The same request was filed before", body = super::Recorded)))]
pub async fn add_request(
    State(state): State<Shared>,
    user: Principal,
    Body(input): Body<RequestInput>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin, Role::Operator, Role::Recipient])?;
    if let Some(own) = user.country_scope() {
        if country_of(&input.destination) != own {
            return Err(ApiError::forbidden(
                "a recipient may file requests only for destinations in their own country",
            ));
        }
    }
    if user.role == Role::Recipient {
        if let Some(name) = input.requested_by.as_deref() {
            if name != user.username {
                return Err(ApiError::forbidden(
                    "a recipient files requests in their own name: leave requested_by out",
                ));
            }
        }
    }
    let mut problems = Problems::default();
    let needed_by = problems.date("needed_by", &input.needed_by);
    problems.finish()?;
    let request = NewRequest {
        code: input.code,
        destination: input.destination,
        item: input.item,
        quantity: input.quantity,
        priority: input.priority,
        needed_by: needed_by.unwrap_or(time::Date::MIN),
        grace_days: input.grace_days,
        requested_by: input.requested_by.unwrap_or_else(|| user.username.clone()),
    };
    let at = state.now();
    let code = request.code.clone();
    let created = state
        .pool
        .run(move |ops| Ok(ops.add_request(&request, at)?))
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json(status, &super::Recorded { code, created }))
}

#[derive(Serialize, ToSchema)]
pub struct StatusJson {
    pub code: String,
    pub status: String,
}

/// Cancels a request (staff, or a recipient of its country).
#[utoipa::path(post, path = "/api/requests/{code}/cancel", tag = "requests",
    params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 200, description = "Cancelled", body = StatusJson)))]
pub async fn cancel_request(
    State(state): State<Shared>,
    user: Principal,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin, Role::Operator, Role::Recipient])?;
    let at = state.now();
    let result = state
        .pool
        .run(move |ops| {
            let visible = requests_for(ops, user.country_scope())?
                .into_iter()
                .any(|r| r.code == code);
            if !visible {
                return Err(ApiError::not_found("request", &code));
            }
            ops.cancel_request(&code, at)?;
            Ok(StatusJson {
                code,
                status: reliefhub_ops::RequestStatus::Cancelled.as_code().into(),
            })
        })
        .await?;
    Ok(json(StatusCode::OK, &result))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MustShipInput {
    /// true marks the request must-ship, false takes the mark off.
    pub must_ship: bool,
}

#[derive(Serialize, ToSchema)]
pub struct MustShipJson {
    pub code: String,
    pub must_ship: bool,
    /// False when the request was already so.
    pub changed: bool,
}

/// Marks a request must-ship or takes the mark off (staff). Plans then meet
/// it in full, even on a charter not worth its cost, or say why they cannot.
#[utoipa::path(post, path = "/api/requests/{code}/must-ship", tag = "requests",
    request_body = MustShipInput,
    params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 200, description = "Marked or unmarked", body = MustShipJson)))]
pub async fn set_must_ship(
    State(state): State<Shared>,
    user: Principal,
    Path(code): Path<String>,
    Body(input): Body<MustShipInput>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin, Role::Operator])?;
    let at = state.now();
    let on = input.must_ship;
    let result = state
        .pool
        .run(move |ops| {
            let changed = ops.set_must_ship(&code, on, at)?;
            Ok(MustShipJson {
                code,
                must_ship: on,
                changed,
            })
        })
        .await?;
    Ok(json(StatusCode::OK, &result))
}

// --------------------------------------------------------------- departures

#[derive(Serialize, ToSchema)]
pub struct DepartureJson {
    pub code: String,
    pub node: String,
    pub destination: String,
    pub country: String,
    /// sea, air or road.
    pub mode: String,
    /// scheduled or charter.
    pub service: String,
    pub vehicle: String,
    pub departs: String,
    pub arrives: String,
    pub payload_kg: f64,
    pub volume_m3: f64,
    pub cold_volume_m3: f64,
    pub dangerous_goods: bool,
    pub fixed_cost_usd: f64,
    pub cost_per_kg_usd: f64,
    /// open, loaded, departed or delivered.
    pub status: String,
    pub departed_on: Option<String>,
    pub loaded_kg: f64,
    pub loaded_m3: f64,
    pub loaded_units: i64,
}

fn departure_json(d: reliefhub_ops::Departure) -> DepartureJson {
    let n = d.departure;
    DepartureJson {
        country: country_of(&n.destination).to_string(),
        code: n.code,
        node: n.node,
        destination: n.destination,
        mode: n.mode.code().into(),
        service: n.service.code().into(),
        vehicle: n.vehicle,
        departs: day(n.departs_on),
        arrives: day(n.arrives_on),
        payload_kg: n.payload_kg,
        volume_m3: n.volume_m3,
        cold_volume_m3: n.cold_volume_m3,
        dangerous_goods: n.dangerous_goods_allowed,
        fixed_cost_usd: n.fixed_cost_usd,
        cost_per_kg_usd: n.cost_per_kg_usd,
        status: d.status.as_code().to_string(),
        departed_on: opt_day(d.departed_on),
        loaded_kg: (d.loaded_kg * 10.0).round() / 10.0,
        loaded_m3: (d.loaded_m3 * 1000.0).round() / 1000.0,
        loaded_units: d.loaded_units,
    }
}

/// The departures a user may see: all for staff and auditors, those to
/// their country for a recipient, those carrying their lots for a donor.
fn visible_departures(
    ops: &mut Ops,
    user: &Principal,
) -> Result<Option<BTreeSet<String>>, ApiError> {
    if let Some(donor) = user.donor_scope() {
        let codes = ops
            .loading_lines(None)?
            .into_iter()
            .filter(|l| l.donor == donor && !l.unloaded)
            .map(|l| l.departure)
            .collect();
        return Ok(Some(codes));
    }
    if let Some(country) = user.country_scope() {
        let codes = ops
            .departures()?
            .into_iter()
            .filter(|d| country_of(&d.departure.destination) == country)
            .map(|d| d.departure.code)
            .collect();
        return Ok(Some(codes));
    }
    Ok(None)
}

const DEPARTURE_READERS: [Role; 5] = Role::ALL;

/// Departures (a donor: those carrying their goods; a recipient: those to
/// their country).
#[utoipa::path(get, path = "/api/departures", tag = "departures",
    responses((status = 200, description = "Departures", body = Vec<DepartureJson>)))]
pub async fn list_departures(
    State(state): State<Shared>,
    user: Principal,
) -> Result<Response, ApiError> {
    user.require(&DEPARTURE_READERS)?;
    state
        .cached(format!("departures|{}", user.scope_key()), move |ops| {
            let visible = visible_departures(ops, &user)?;
            Ok(ops
                .departures()?
                .into_iter()
                .filter(|d| {
                    visible
                        .as_ref()
                        .is_none_or(|v| v.contains(&d.departure.code))
                })
                .map(departure_json)
                .collect::<Vec<_>>())
        })
        .await
}

#[derive(Serialize, ToSchema)]
pub struct LoadingLineJson {
    pub line: i64,
    pub lot_id: i64,
    pub item: String,
    pub donor: String,
    pub quantity: i64,
    pub request: Option<String>,
    pub unloaded: bool,
}

#[derive(Serialize, ToSchema)]
pub struct DepartureDetailJson {
    pub departure: DepartureJson,
    /// The loading list (a donor: their own lots only).
    pub lines: Vec<LoadingLineJson>,
}

/// One departure with its loading list.
#[utoipa::path(get, path = "/api/departures/{code}", tag = "departures", params(("code" = String, Path)),
    responses((status = 200, description = "The departure", body = DepartureDetailJson)))]
pub async fn get_departure(
    State(state): State<Shared>,
    user: Principal,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    user.require(&DEPARTURE_READERS)?;
    let detail = state
        .pool
        .run(move |ops| {
            let visible = visible_departures(ops, &user)?;
            if visible.as_ref().is_some_and(|v| !v.contains(&code)) {
                return Err(ApiError::not_found("departure", &code));
            }
            let departure = departure_json(ops.departure(&code)?);
            let donor = user.donor_scope();
            let lines = ops
                .loading_lines(Some(&code))?
                .into_iter()
                .filter(|l| donor.is_none_or(|d| l.donor == d))
                .map(|l| LoadingLineJson {
                    line: l.line_no,
                    lot_id: l.lot_id,
                    item: l.item,
                    donor: l.donor,
                    quantity: l.quantity,
                    request: l.request,
                    unloaded: l.unloaded,
                })
                .collect();
            Ok(DepartureDetailJson { departure, lines })
        })
        .await?;
    Ok(json(StatusCode::OK, &detail))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartureInput {
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub code: String,
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub node: String,
    /// UN/LOCODE.
    #[schema(pattern = "^[A-Z]{2}[A-Z2-9]{3}$")]
    pub destination: String,
    /// sea, air or road.
    #[schema(value_type = ModeName)]
    pub mode: String,
    /// scheduled or charter.
    #[schema(value_type = ServiceName)]
    pub service: String,
    #[schema(
        pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub vehicle: String,
    #[schema(format = Date, pattern = "^20[2-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub departs: String,
    #[schema(format = Date, pattern = "^20[2-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub arrives: String,
    #[schema(exclusive_minimum = 0, maximum = 1000000000)]
    pub payload_kg: f64,
    #[schema(exclusive_minimum = 0, maximum = 1000000000)]
    pub volume_m3: f64,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000000000)]
    pub cold_volume_m3: f64,
    #[serde(default)]
    pub dangerous_goods: bool,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000000000)]
    pub fixed_cost_usd: f64,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000000000)]
    pub cost_per_kg_usd: f64,
}

/// Schedules a departure (staff).
#[utoipa::path(post, path = "/api/departures", tag = "departures", request_body = DepartureInput,
    params(("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Scheduled", body = super::Recorded),
              (status = 200, description = "The same departure was scheduled before", body = super::Recorded)))]
pub async fn add_departure(
    State(state): State<Shared>,
    user: Principal,
    Body(input): Body<DepartureInput>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let mut problems = Problems::default();
    let mode = problems.read(parse::mode("mode", &input.mode));
    let service = problems.read(parse::service("service", &input.service));
    let departs = problems.date("departs", &input.departs);
    let arrives = problems.date("arrives", &input.arrives);
    let at = state.now();
    let unread: Vec<String> = problems.0.iter().map(|p| p.field.clone()).collect();
    let departure = NewDeparture {
        code: input.code,
        node: input.node,
        destination: input.destination,
        mode: mode.unwrap_or(reliefhub_ops::Mode::Air),
        service: service.unwrap_or(reliefhub_ops::Service::Scheduled),
        vehicle: input.vehicle,
        departs_on: departs.unwrap_or(at.date),
        arrives_on: arrives.unwrap_or(at.date),
        payload_kg: input.payload_kg,
        volume_m3: input.volume_m3,
        cold_volume_m3: input.cold_volume_m3,
        dangerous_goods_allowed: input.dangerous_goods,
        fixed_cost_usd: input.fixed_cost_usd,
        cost_per_kg_usd: input.cost_per_kg_usd,
    };
    if !unread.is_empty() {
        // Words and dates that do not read: the operations layer's problems
        // with the fields that did read come with them, so every problem is
        // listed at once (those that hang on an unread field are left out).
        let draft = departure.clone();
        let checked = state
            .pool
            .run(move |ops| Ok(ops.check_departure(&draft, at)?))
            .await?;
        let dates_unread = unread.iter().any(|f| f == "departs" || f == "arrives");
        problems.0.extend(
            checked
                .into_iter()
                .filter(|p| !unread.contains(&p.field))
                .filter(|p| {
                    !(dates_unread && p.code == reliefhub_ops::Code::ArrivalBeforeDeparture)
                })
                .map(crate::error::Problem::from),
        );
        problems.finish()?;
    }
    let code = departure.code.clone();
    let created = state
        .pool
        .run(move |ops| Ok(ops.add_departure(&departure, at)?))
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json(status, &super::Recorded { code, created }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadLineInput {
    #[schema(minimum = 1)]
    pub lot_id: i64,
    #[schema(minimum = 1, maximum = 1000000000000_i64)]
    pub quantity: i64,
    /// The request the goods are for.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub request: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadInput {
    #[schema(min_items = 1)]
    pub lines: Vec<LoadLineInput>,
}

/// Loads stock on a departure after every loading check (staff).
#[utoipa::path(post, path = "/api/departures/{code}/load", tag = "departures", request_body = LoadInput,
    params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Loaded", body = DoneJson)))]
pub async fn load(
    State(state): State<Shared>,
    user: Principal,
    key: OpKey,
    Path(code): Path<String>,
    Body(input): Body<LoadInput>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let lines: Vec<LoadLine> = input
        .lines
        .into_iter()
        .map(|l| LoadLine {
            lot_id: l.lot_id,
            quantity: l.quantity,
            request: l.request,
        })
        .collect();
    let at = state.now();
    let done = state
        .pool
        .run(move |ops| Ok(ops.load(&code, &lines, Some(&key.0), at)?))
        .await?;
    Ok(json(StatusCode::CREATED, &DoneJson::from(done)))
}

/// Unloads everything loaded on a departure that has not left (staff).
#[utoipa::path(post, path = "/api/departures/{code}/unload", tag = "departures", request_body = super::hub::ReasonInput,
    params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Unloaded", body = DoneJson)))]
pub async fn unload(
    State(state): State<Shared>,
    user: Principal,
    key: OpKey,
    Path(code): Path<String>,
    Body(input): Body<super::hub::ReasonInput>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let at = state.now();
    let done = state
        .pool
        .run(move |ops| Ok(ops.unload(&code, &input.reason, Some(&key.0), at)?))
        .await?;
    Ok(json(StatusCode::CREATED, &DoneJson::from(done)))
}

/// Records that a loaded departure has left (staff).
#[utoipa::path(post, path = "/api/departures/{code}/depart", tag = "departures",
    params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 200, description = "Departed", body = StatusJson)))]
pub async fn depart(
    State(state): State<Shared>,
    user: Principal,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let at = state.now();
    let result = state
        .pool
        .run(move |ops| {
            ops.depart(&code, at)?;
            Ok(StatusJson {
                code,
                status: reliefhub_ops::DepartureStatus::Departed.as_code().into(),
            })
        })
        .await?;
    Ok(json(StatusCode::OK, &result))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryLineInput {
    /// The loading line.
    #[schema(minimum = 1)]
    pub line: i64,
    #[schema(minimum = 0, maximum = 1000000000000_i64)]
    pub received: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryInput {
    #[schema(
        pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub received_by: String,
    /// YYYY-MM-DD; today by default.
    #[serde(default)]
    #[schema(format = Date, pattern = "^20[2-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub received_on: Option<String>,
    #[serde(default)]
    pub note: String,
    /// Lines not named were received in full.
    #[serde(default)]
    pub lines: Vec<DeliveryLineInput>,
}

/// Records the delivery at the destination: the proof of delivery (staff).
#[utoipa::path(post, path = "/api/departures/{code}/deliver", tag = "departures", request_body = DeliveryInput,
    params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Delivered", body = DoneJson)))]
pub async fn deliver(
    State(state): State<Shared>,
    user: Principal,
    key: OpKey,
    Path(code): Path<String>,
    Body(input): Body<DeliveryInput>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let at = state.now();
    let mut problems = Problems::default();
    let received_on = match &input.received_on {
        Some(text) => problems.date("received_on", text),
        None => Some(at.date),
    };
    problems.finish()?;
    let delivery = NewDelivery {
        departure: code,
        received_by: input.received_by,
        received_on: received_on.unwrap_or(at.date),
        note: input.note,
        lines: input
            .lines
            .iter()
            .map(|l| DeliveryLine {
                line_no: l.line,
                received: l.received,
            })
            .collect(),
    };
    let done = state
        .pool
        .run(move |ops| Ok(ops.deliver(&delivery, Some(&key.0), at)?))
        .await?;
    Ok(json(StatusCode::CREATED, &DoneJson::from(done)))
}

#[derive(Serialize, ToSchema)]
pub struct PodLineJson {
    pub line: i64,
    pub lot_id: i64,
    pub item: String,
    pub donor: String,
    pub batch: String,
    pub loaded: i64,
    pub received: i64,
    pub short: i64,
    pub request: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PodJson {
    pub departure: String,
    pub destination: String,
    pub vehicle: String,
    pub received_by: String,
    pub received_on: String,
    pub note: String,
    pub lines: Vec<PodLineJson>,
}

/// The proof of delivery (a recipient: departures to their country; a
/// donor: their own lots only).
#[utoipa::path(get, path = "/api/departures/{code}/pod", tag = "departures", params(("code" = String, Path)),
    responses((status = 200, description = "The proof of delivery", body = PodJson)))]
pub async fn pod(
    State(state): State<Shared>,
    user: Principal,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    user.require(&DEPARTURE_READERS)?;
    let pod = state
        .pool
        .run(move |ops| {
            let visible = visible_departures(ops, &user)?;
            if visible.as_ref().is_some_and(|v| !v.contains(&code)) {
                return Err(ApiError::not_found("departure", &code));
            }
            let pod = ops.proof_of_delivery(&code)?;
            let donor = user.donor_scope();
            Ok(PodJson {
                departure: pod.departure.code.clone(),
                destination: pod.departure.destination.clone(),
                vehicle: pod.departure.vehicle.clone(),
                received_by: pod.received_by,
                received_on: day(pod.received_on),
                note: pod.note,
                lines: pod
                    .lines
                    .into_iter()
                    .filter(|l| donor.is_none_or(|d| l.donor == d))
                    .map(|l| PodLineJson {
                        line: l.line_no,
                        lot_id: l.lot_id,
                        item: l.item,
                        donor: l.donor,
                        batch: l.batch,
                        loaded: l.loaded,
                        received: l.received,
                        short: l.short,
                        request: l.request,
                    })
                    .collect(),
            })
        })
        .await?;
    Ok(json(StatusCode::OK, &pod))
}

// -------------------------------------------------------------- corrections

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionInput {
    /// The journal entry to reverse.
    #[schema(minimum = 1)]
    pub entry_seq: i64,
    /// How much of it (default: all that is left to reverse).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000000000000_i64)]
    pub quantity: Option<i64>,
    #[schema(
        pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub reason: String,
}

/// Reverses a journal entry with a new entry that names it (staff).
#[utoipa::path(post, path = "/api/corrections", tag = "audit", request_body = CorrectionInput,
    params(("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Corrected", body = DoneJson)))]
pub async fn correct(
    State(state): State<Shared>,
    user: Principal,
    key: OpKey,
    Body(input): Body<CorrectionInput>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let at = state.now();
    let done = state
        .pool
        .run(move |ops| {
            Ok(ops.correct(
                input.entry_seq,
                input.quantity,
                &input.reason,
                Some(&key.0),
                at,
            )?)
        })
        .await?;
    Ok(json(StatusCode::CREATED, &DoneJson::from(done)))
}

// ------------------------------------------------------------------ reports

/// The inbound pipeline: legs expected, manifested, received.
#[utoipa::path(get, path = "/api/reports/inbound-pipeline", tag = "reports",
    responses((status = 200, description = "The report table", body = TableJson)))]
pub async fn inbound_pipeline(
    State(state): State<Shared>,
    user: Principal,
) -> Result<Response, ApiError> {
    user.require(&READERS)?;
    state
        .cached("reports/inbound-pipeline".into(), |ops| {
            Ok(TableJson::from_table(&ops.inbound_pipeline()?))
        })
        .await
}

/// Request fulfilment per destination (a recipient: their country's rows).
#[utoipa::path(get, path = "/api/reports/fulfilment", tag = "reports",
    responses((status = 200, description = "The report table", body = TableJson)))]
pub async fn fulfilment(
    State(state): State<Shared>,
    user: Principal,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin, Role::Operator, Role::Auditor, Role::Recipient])?;
    let country = user.country_scope().map(str::to_string);
    state
        .cached(
            format!("reports/fulfilment|{}", user.scope_key()),
            move |ops| {
                let mut table = ops.request_fulfilment()?;
                if let Some(country) = &country {
                    let at = table
                        .columns
                        .iter()
                        .position(|c| c.name == "destination")
                        .unwrap_or(0);
                    table.rows.retain(|row| match row.get(at) {
                        Some(reliefhub_ops::table::Cell::Text(locode)) => {
                            country_of(locode) == country
                        }
                        _ => false,
                    });
                }
                Ok(TableJson::from_table(&table))
            },
        )
        .await
}

#[derive(Serialize, ToSchema)]
pub struct DonorStatementJson {
    pub donor: String,
    pub name: String,
    /// Per item: pledged, received, in stock, shipped, delivered, lost.
    pub items: TableJson,
    /// Per destination and item: shipped, delivered, short-delivered.
    pub destinations: TableJson,
}

/// A donor's statement (a donor: only their own).
#[utoipa::path(get, path = "/api/reports/donor-statement/{donor}", tag = "reports", params(("donor" = String, Path)),
    responses((status = 200, description = "The statement", body = DonorStatementJson)))]
pub async fn donor_statement(
    State(state): State<Shared>,
    user: Principal,
    Path(donor): Path<String>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin, Role::Operator, Role::Auditor, Role::Donor])?;
    if user.donor_scope().is_some_and(|own| own != donor) {
        return Err(ApiError::not_found("donor", &donor));
    }
    state
        .cached(format!("donor-statement|{donor}"), move |ops| {
            let s = ops.donor_statement(&donor)?;
            Ok(DonorStatementJson {
                items: TableJson::from_table(&s.items_table()),
                destinations: TableJson::from_table(&s.destinations_table()),
                donor: s.donor,
                name: s.name,
            })
        })
        .await
}

#[derive(Serialize, ToSchema)]
pub struct FlowJson {
    /// Where the goods stand: `pledged` (no node), `in_transit` (on an
    /// inbound leg to the node), `received` (counted in at the node),
    /// `at_hub` (at the node now), `between_nodes` (on the road to the
    /// node), `loaded`, `departed`, `delivered` (to the destination).
    pub stage: String,
    pub donor: String,
    pub donor_country: String,
    pub node: String,
    pub destination: String,
    pub country: String,
    pub units: i64,
    pub weight_kg: f64,
}

/// Every donor's goods by stage, in units and kg: donor -> hub node
/// (pledged, in transit, received), at the hub, hub node -> destination
/// (loaded, departed, delivered). A donor sees their own; a recipient the
/// goods on departures to their country.
#[utoipa::path(get, path = "/api/flows", tag = "reports",
    responses((status = 200, description = "Flows for the map", body = Vec<FlowJson>)))]
pub async fn flows(State(state): State<Shared>, user: Principal) -> Result<Response, ApiError> {
    user.require(&Role::ALL)?;
    let donor = user.donor_scope().map(str::to_string);
    let country = user.country_scope().map(str::to_string);
    state
        .cached(format!("flows|{}", user.scope_key()), move |ops| {
            Ok(ops
                .flows()?
                .into_iter()
                .filter(|f| donor.as_deref().is_none_or(|d| f.donor == d))
                .filter(|f| {
                    country
                        .as_deref()
                        .is_none_or(|c| f.stage.is_outbound() && country_of(&f.destination) == c)
                })
                .map(|f| FlowJson {
                    stage: f.stage.code().to_string(),
                    donor: f.donor,
                    donor_country: f.donor_country,
                    node: f.node,
                    destination: f.destination,
                    country: f.country,
                    units: f.units,
                    weight_kg: f.weight_kg,
                })
                .collect::<Vec<_>>())
        })
        .await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JourneyQuery {
    /// The donor organisation's code. A donor user may leave it out (their
    /// own) and may name only their own; staff and auditors must name one.
    #[param(required = true, pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub donor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ShipmentJson {
    pub departure: String,
    pub destination: String,
    pub departs: String,
    pub status: String,
    pub loaded: i64,
    pub delivered: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct JourneyLotJson {
    pub lot_id: i64,
    pub item: String,
    pub batch: String,
    pub expiry: Option<String>,
    pub leg: String,
    pub mode: String,
    pub expected_arrival: String,
    pub manifested: i64,
    pub received_on: Option<String>,
    pub counted: Option<i64>,
    pub in_stock: i64,
    pub shipments: Vec<ShipmentJson>,
}

#[derive(Serialize, ToSchema)]
pub struct JourneyPledgeJson {
    pub code: String,
    pub created: String,
    pub pledged: i64,
    pub outstanding: i64,
    pub cancelled_on: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct JourneyJson {
    pub donor: String,
    pub name: String,
    pub pledges: Vec<JourneyPledgeJson>,
    /// Lot by lot: leg -> receipt -> stock -> departures -> delivery.
    pub lots: Vec<JourneyLotJson>,
}

/// A donor's consignments: pledge -> leg -> receipt -> stock -> departure
/// -> delivery, per lot.
#[utoipa::path(get, path = "/api/donor/journey", tag = "reports", params(JourneyQuery),
    responses((status = 200, description = "The journey", body = JourneyJson)))]
pub async fn journey(
    State(state): State<Shared>,
    user: Principal,
    Query(query): Query<JourneyQuery>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin, Role::Operator, Role::Auditor, Role::Donor])?;
    let donor = match (user.donor_scope(), query.donor) {
        (Some(own), Some(asked)) if own != asked => {
            return Err(ApiError::not_found("donor", &asked))
        }
        (Some(own), _) => own.to_string(),
        (None, Some(asked)) => asked,
        (None, None) => {
            return Err(ApiError::validation(vec![crate::Problem::new(
                reliefhub_ops::Code::Required,
                "donor",
                "",
                "name the donor (query parameter `donor`)",
            )]))
        }
    };
    state
        .cached(format!("journey|{donor}"), move |ops| {
            let j = ops.donor_journey(&donor)?;
            Ok(JourneyJson {
                donor: j.donor,
                name: j.name,
                pledges: j
                    .pledges
                    .into_iter()
                    .map(|p| JourneyPledgeJson {
                        pledged: p.lines.iter().map(|l| l.quantity).sum(),
                        outstanding: p.lines.iter().map(|l| l.outstanding).sum(),
                        code: p.code,
                        created: day(p.pledged_on),
                        cancelled_on: opt_day(p.cancelled_on),
                    })
                    .collect(),
                lots: j
                    .lots
                    .into_iter()
                    .map(|l| JourneyLotJson {
                        lot_id: l.lot_id,
                        item: l.item,
                        batch: l.batch,
                        expiry: opt_day(l.expiry),
                        leg: l.leg,
                        mode: l.mode,
                        expected_arrival: day(l.expected_arrival),
                        manifested: l.manifested,
                        received_on: opt_day(l.received_on),
                        counted: l.counted,
                        in_stock: l.in_stock,
                        shipments: l
                            .shipments
                            .into_iter()
                            .map(|s| ShipmentJson {
                                departure: s.departure,
                                destination: s.destination,
                                departs: day(s.departs_on),
                                status: s.status.as_code().to_string(),
                                loaded: s.loaded,
                                delivered: s.delivered,
                            })
                            .collect(),
                    })
                    .collect(),
            })
        })
        .await
}
