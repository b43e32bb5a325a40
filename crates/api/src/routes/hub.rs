//! Pledges, inbound legs and manifests, receipts, stock and hub transfers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use reliefhub_core::LossReason;
use reliefhub_formats::manifest::ManifestFormat;
use reliefhub_ops::{
    parse, DamagedTo, MemorySource, NewLeg, NewPledge, NewReceipt, NewTransfer, Ops, PledgeLine,
    ReceiptLine,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[allow(unused_imports)]
use super::words::{CountryCode, DamagedToName, LossName, ModeName, ServiceName};
use super::{day, json, opt_day, DoneJson, Recorded, TableJson};
use crate::error::{ApiError, Body, Problems, Query};
use crate::idempotency::OpKey;
use crate::{Principal, Role, Shared, STAFF};

const READERS_DONOR_OWN: [Role; 4] = [Role::Admin, Role::Operator, Role::Auditor, Role::Donor];
const READERS: [Role; 3] = [Role::Admin, Role::Operator, Role::Auditor];

// ------------------------------------------------------------------ pledges

#[derive(Serialize, ToSchema)]
pub struct PledgeLineJson {
    pub line: i64,
    pub item: String,
    pub quantity: i64,
    pub earmark: Vec<String>,
    pub lot_id: i64,
    /// Still promised, not yet received.
    pub outstanding: i64,
}

#[derive(Serialize, ToSchema)]
pub struct PledgeJson {
    pub code: String,
    pub donor: String,
    pub created: String,
    pub note: String,
    /// `open`, `fulfilled` (nothing outstanding) or `cancelled`.
    pub status: String,
    pub cancelled_on: Option<String>,
    pub lines: Vec<PledgeLineJson>,
}

fn pledge_json(p: reliefhub_ops::views::PledgeView) -> PledgeJson {
    let status = p.status().as_code();
    PledgeJson {
        code: p.code,
        donor: p.donor,
        created: day(p.pledged_on),
        note: p.note,
        status: status.into(),
        cancelled_on: opt_day(p.cancelled_on),
        lines: p
            .lines
            .into_iter()
            .map(|l| PledgeLineJson {
                line: l.line_no,
                item: l.item,
                quantity: l.quantity,
                earmark: l.earmark,
                lot_id: l.lot_id,
                outstanding: l.outstanding,
            })
            .collect(),
    }
}

/// Pledges (a donor sees only their own).
#[utoipa::path(get, path = "/api/pledges", tag = "pledges",
    responses((status = 200, description = "Pledges", body = Vec<PledgeJson>)))]
pub async fn list_pledges(
    State(state): State<Shared>,
    user: Principal,
) -> Result<Response, ApiError> {
    user.require(&READERS_DONOR_OWN)?;
    let donor = user.donor_scope().map(str::to_string);
    state
        .cached(format!("pledges|{}", user.scope_key()), move |ops| {
            Ok(ops
                .pledges(donor.as_deref())?
                .into_iter()
                .map(pledge_json)
                .collect::<Vec<_>>())
        })
        .await
}

fn visible_pledge(
    ops: &mut Ops,
    user: &Principal,
    code: &str,
) -> Result<reliefhub_ops::views::PledgeView, ApiError> {
    let pledge = ops.pledge_view(code)?;
    if let Some(own) = user.donor_scope() {
        if pledge.donor != own {
            return Err(ApiError::not_found("pledge", code));
        }
    }
    Ok(pledge)
}

/// One pledge.
#[utoipa::path(get, path = "/api/pledges/{code}", tag = "pledges", params(("code" = String, Path)),
    responses((status = 200, description = "The pledge", body = PledgeJson)))]
pub async fn get_pledge(
    State(state): State<Shared>,
    user: Principal,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    user.require(&READERS_DONOR_OWN)?;
    let pledge = state
        .pool
        .run(move |ops| visible_pledge(ops, &user, &code).map(pledge_json))
        .await?;
    Ok(json(StatusCode::OK, &pledge))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PledgeLineInput {
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub item: String,
    #[schema(minimum = 1, maximum = 1000000000000_i64)]
    pub quantity: i64,
    /// ISO 3166 alpha-2 countries the goods may go to (empty: anywhere).
    #[serde(default)]
    #[schema(inline, value_type = Vec<CountryCode>)]
    pub earmark: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PledgeInput {
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub code: String,
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub donor: String,
    /// YYYY-MM-DD; today by default.
    #[serde(default)]
    #[schema(format = Date, pattern = "^20[2-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub pledged_on: Option<String>,
    #[serde(default)]
    pub note: String,
    #[schema(min_items = 1)]
    pub lines: Vec<PledgeLineInput>,
}

/// Records a pledge (staff, or a donor for their own organisation).
#[utoipa::path(post, path = "/api/pledges", tag = "pledges", request_body = PledgeInput,
    params(("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Pledged", body = DoneJson)))]
pub async fn add_pledge(
    State(state): State<Shared>,
    user: Principal,
    key: OpKey,
    Body(input): Body<PledgeInput>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin, Role::Operator, Role::Donor])?;
    if let Some(own) = user.donor_scope() {
        if input.donor != own {
            return Err(ApiError::forbidden(
                "a donor may pledge only for their own organisation",
            ));
        }
        // Codes are scoped per donor, so that a donor never learns another
        // donor's pledge codes from a refusal: decided without the database.
        reliefhub_ops::check_own_pledge_code(own, &input.code)?;
    }
    let at = state.now();
    let mut problems = Problems::default();
    let pledged_on = match &input.pledged_on {
        Some(text) => problems.date("pledged_on", text),
        None => Some(at.date),
    };
    problems.finish()?;
    let pledge = NewPledge {
        code: input.code,
        donor: input.donor,
        pledged_on: pledged_on.unwrap_or(at.date),
        note: input.note,
        lines: input
            .lines
            .into_iter()
            .map(|l| PledgeLine {
                item: l.item,
                quantity: l.quantity,
                earmark: l.earmark,
            })
            .collect(),
    };
    let done = state
        .pool
        .run(move |ops| Ok(ops.pledge(&pledge, Some(&key.0), at)?))
        .await?;
    Ok(json(StatusCode::CREATED, &DoneJson::from(done)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    #[schema(
        pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub reason: String,
}

/// Cancels what is still outstanding of a pledge (staff, or its donor).
#[utoipa::path(post, path = "/api/pledges/{code}/cancel", tag = "pledges", request_body = ReasonInput,
    params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 200, description = "Cancelled", body = DoneJson)))]
pub async fn cancel_pledge(
    State(state): State<Shared>,
    user: Principal,
    key: OpKey,
    Path(code): Path<String>,
    Body(input): Body<ReasonInput>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin, Role::Operator, Role::Donor])?;
    let at = state.now();
    let done = state
        .pool
        .run(move |ops| {
            visible_pledge(ops, &user, &code)?;
            Ok(ops.cancel_pledge(&code, &input.reason, Some(&key.0), at)?)
        })
        .await?;
    Ok(json(StatusCode::OK, &DoneJson::from(done)))
}

// --------------------------------------------------------------------- legs

#[derive(Serialize, ToSchema)]
pub struct LegJson {
    pub code: String,
    /// `sea`, `air` or `road`.
    pub mode: String,
    pub origin: String,
    pub node: String,
    pub carrier: String,
    /// The vessel, flight or truck.
    pub reference: String,
    pub expected_arrival: String,
    pub donor: Option<String>,
    /// `expected`, `manifested`, `partly received` or `received`.
    pub status: String,
    /// Manifest lines (a donor: their own lines only).
    pub lines: i64,
    /// Units manifested (a donor: their own only).
    pub units: i64,
    pub received_lines: i64,
    pub in_transit_units: i64,
}

fn list_legs_for(ops: &mut Ops, donor: Option<&str>) -> Result<Vec<LegJson>, ApiError> {
    let legs = ops.legs()?;
    let (donors, totals) = match donor {
        Some(_) => (ops.leg_donors()?, ops.leg_totals_by_donor()?),
        None => Default::default(),
    };
    let mut out = Vec::new();
    for leg in legs {
        let l = &leg.leg;
        let (mut lines, mut units) = (leg.manifest_lines, leg.manifested_quantity);
        if let Some(own) = donor {
            if !donors.get(&l.code).is_some_and(|d| d.contains(own)) {
                continue;
            }
            (lines, units) = totals
                .get(&(l.code.clone(), own.to_string()))
                .copied()
                .unwrap_or((0, 0));
        }
        out.push(LegJson {
            code: l.code.clone(),
            mode: l.mode.code().into(),
            origin: l.origin.clone(),
            node: l.node.clone(),
            carrier: l.carrier.clone(),
            reference: l.vehicle_ref.clone(),
            expected_arrival: day(l.expected_arrival),
            donor: l.donor.clone(),
            status: leg.status().as_code().into(),
            lines,
            units,
            received_lines: if donor.is_some() {
                0
            } else {
                leg.received_lines
            },
            in_transit_units: if donor.is_some() {
                0
            } else {
                leg.in_transit_quantity
            },
        });
    }
    Ok(out)
}

/// Inbound legs (a donor: the legs carrying their goods).
#[utoipa::path(get, path = "/api/legs", tag = "inbound",
    responses((status = 200, description = "Legs by expected arrival", body = Vec<LegJson>)))]
pub async fn list_legs(State(state): State<Shared>, user: Principal) -> Result<Response, ApiError> {
    user.require(&READERS_DONOR_OWN)?;
    let donor = user.donor_scope().map(str::to_string);
    state
        .cached(format!("legs|{}", user.scope_key()), move |ops| {
            list_legs_for(ops, donor.as_deref())
        })
        .await
}

#[derive(Serialize, ToSchema)]
pub struct ManifestLineJson {
    pub line: i64,
    pub lot_id: i64,
    pub item: String,
    pub donor: String,
    pub batch: String,
    pub expiry: Option<String>,
    pub earmark: Vec<String>,
    pub quantity: i64,
    pub packs: Option<i64>,
    pub counted: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct LegDetailJson {
    pub leg: LegJson,
    pub manifest: Vec<ManifestLineJson>,
}

/// One leg with its manifest (a donor: their own lines only).
#[utoipa::path(get, path = "/api/legs/{code}", tag = "inbound", params(("code" = String, Path)),
    responses((status = 200, description = "The leg", body = LegDetailJson)))]
pub async fn get_leg(
    State(state): State<Shared>,
    user: Principal,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    user.require(&READERS_DONOR_OWN)?;
    let detail = state
        .pool
        .run(move |ops| {
            let donor = user.donor_scope();
            let leg = list_legs_for(ops, donor)?
                .into_iter()
                .find(|l| l.code == code)
                .ok_or_else(|| ApiError::not_found("inbound leg", &code))?;
            let manifest = ops
                .manifest_lines(&code)?
                .into_iter()
                .filter(|m| donor.is_none_or(|d| m.donor == d))
                .map(|m| ManifestLineJson {
                    line: m.line_no,
                    lot_id: m.lot_id,
                    item: m.item,
                    donor: m.donor,
                    batch: m.batch,
                    expiry: opt_day(m.expiry),
                    earmark: m.earmark,
                    quantity: m.quantity,
                    packs: m.packs,
                    counted: m.counted,
                })
                .collect();
            Ok(LegDetailJson { leg, manifest })
        })
        .await?;
    Ok(json(StatusCode::OK, &detail))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegInput {
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub code: String,
    /// `sea`, `air` or `road`.
    #[schema(value_type = ModeName)]
    pub mode: String,
    /// Where the leg comes from (UN/LOCODE or IATA code).
    #[schema(pattern = "^([A-Z]{3}|[A-Z]{2}[A-Z2-9]{3})$")]
    pub origin: String,
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub node: String,
    #[schema(
        pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub carrier: String,
    /// The vessel, flight or truck.
    #[schema(
        pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub reference: String,
    #[schema(format = Date, pattern = "^20[2-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub expected_arrival: String,
    /// The donor of lines that name none.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub donor: Option<String>,
}

/// Registers an inbound leg (staff).
#[utoipa::path(post, path = "/api/legs", tag = "inbound", request_body = LegInput,
    params(("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Registered", body = Recorded),
              (status = 200, description = "The same leg was registered before", body = Recorded)))]
pub async fn add_leg(
    State(state): State<Shared>,
    user: Principal,
    Body(input): Body<LegInput>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let mut problems = Problems::default();
    let mode = problems.read(parse::mode("mode", &input.mode));
    let arrival = problems.date("expected_arrival", &input.expected_arrival);
    problems.finish()?;
    let (Some(mode), Some(expected_arrival)) = (mode, arrival) else {
        return Err(ApiError::internal("checked fields missing"));
    };
    let leg = NewLeg {
        code: input.code,
        mode,
        origin: input.origin,
        node: input.node,
        carrier: input.carrier,
        vehicle_ref: input.reference,
        expected_arrival,
        donor: input.donor,
    };
    let at = state.now();
    let code = leg.code.clone();
    let created = state
        .pool
        .run(move |ops| Ok(ops.add_leg(&leg, at)?))
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json(status, &Recorded { code, created }))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManifestLineInput {
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub item: String,
    #[schema(minimum = 1, maximum = 1000000000000_i64)]
    pub quantity: i64,
    #[schema(
        pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub batch: String,
    /// YYYY-MM-DD
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Date, pattern = "^20[2-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub expiry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1000000000000_i64)]
    pub packs: Option<i64>,
    /// The donor (default: the leg's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub donor: Option<String>,
    #[serde(default)]
    #[schema(inline, value_type = Vec<CountryCode>)]
    pub earmark: Vec<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManifestInput {
    #[schema(min_items = 1)]
    pub lines: Vec<ManifestLineInput>,
}

#[derive(Serialize, ToSchema)]
pub struct ManifestImportedJson {
    pub leg: String,
    pub lines: i64,
    pub total_quantity: i64,
    pub batch_id: i64,
    pub replayed: bool,
}

/// Imports a leg's manifest, all or nothing (staff). Every problem is
/// listed as `lines[N].field`.
#[utoipa::path(post, path = "/api/legs/{code}/manifest", tag = "inbound", request_body = ManifestInput,
    params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Imported", body = ManifestImportedJson)))]
pub async fn import_manifest(
    State(state): State<Shared>,
    user: Principal,
    key: OpKey,
    Path(code): Path<String>,
    Body(input): Body<ManifestInput>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let bytes = serde_json::to_vec(&input).map_err(ApiError::internal)?;
    let at = state.now();
    let imported = state
        .pool
        .run(move |ops| {
            let source = MemorySource {
                name: "request".into(),
                bytes,
            };
            Ok(ops.import_manifest(
                &code,
                &source,
                ManifestFormat::Json,
                Some(&key.0),
                at,
                &mut |_, _| {},
            )?)
        })
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &ManifestImportedJson {
            leg: imported.leg,
            lines: imported.lines,
            total_quantity: imported.total_quantity,
            batch_id: imported.batch_id,
            replayed: imported.replayed,
        },
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLineInput {
    /// The manifest line number.
    #[schema(minimum = 1)]
    pub line: i64,
    #[schema(minimum = 0, maximum = 1000000000000_i64)]
    pub counted: i64,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000000000000_i64)]
    pub damaged: i64,
    /// `quarantine` (default) or `loss`.
    #[serde(default)]
    #[schema(value_type = Option<DamagedToName>)]
    pub damaged_to: Option<String>,
    #[serde(default)]
    pub note: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptInput {
    /// YYYY-MM-DD; today by default.
    #[serde(default)]
    #[schema(format = Date, pattern = "^20[2-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub received_on: Option<String>,
    #[schema(
        pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub received_by: String,
    pub lines: Vec<ReceiptLineInput>,
    /// Receive every other line not yet received as manifested.
    #[serde(default)]
    pub rest_as_manifested: bool,
}

/// Receives a leg's goods and makes the goods-received note (staff).
#[utoipa::path(post, path = "/api/legs/{code}/receipt", tag = "inbound", request_body = ReceiptInput,
    params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Received", body = DoneJson)))]
pub async fn receive(
    State(state): State<Shared>,
    user: Principal,
    key: OpKey,
    Path(code): Path<String>,
    Body(input): Body<ReceiptInput>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let at = state.now();
    let mut problems = Problems::default();
    let received_on = match &input.received_on {
        Some(text) => problems.date("received_on", text),
        None => Some(at.date),
    };
    let mut lines = Vec::new();
    for (i, l) in input.lines.iter().enumerate() {
        let damaged_to = problems
            .read(parse::damaged_to(
                &format!("lines[{i}].damaged_to"),
                l.damaged_to.as_deref(),
            ))
            .unwrap_or(DamagedTo::Quarantine);
        lines.push(ReceiptLine {
            line_no: l.line,
            counted: l.counted,
            damaged: l.damaged,
            damaged_to,
            note: l.note.clone(),
        });
    }
    problems.finish()?;
    let receipt = NewReceipt {
        leg: code,
        received_on: received_on.unwrap_or(at.date),
        received_by: input.received_by,
        lines,
        rest_as_manifested: input.rest_as_manifested,
    };
    let done = state
        .pool
        .run(move |ops| Ok(ops.receive(&receipt, Some(&key.0), at)?))
        .await?;
    Ok(json(StatusCode::CREATED, &DoneJson::from(done)))
}

#[derive(Serialize, ToSchema)]
pub struct GrnLineJson {
    pub line: i64,
    pub lot_id: i64,
    pub item: String,
    pub donor: String,
    pub batch: String,
    pub expiry: Option<String>,
    pub manifest_quantity: i64,
    pub counted: i64,
    pub good: i64,
    pub damaged: i64,
    pub damaged_to: String,
    pub short: i64,
    pub over: i64,
    pub note: String,
    pub receipt_id: i64,
    pub received_on: String,
}

#[derive(Serialize, ToSchema)]
pub struct GrnJson {
    pub leg: String,
    pub node: String,
    pub carrier: String,
    pub reference: String,
    pub lines: Vec<GrnLineJson>,
    /// Manifest lines not received yet.
    pub not_received: i64,
}

/// The goods-received note of a leg (a donor: their own lines only).
#[utoipa::path(get, path = "/api/legs/{code}/grn", tag = "inbound", params(("code" = String, Path)),
    responses((status = 200, description = "The goods-received note", body = GrnJson)))]
pub async fn grn(
    State(state): State<Shared>,
    user: Principal,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    user.require(&READERS_DONOR_OWN)?;
    let note = state
        .pool
        .run(move |ops| {
            let donor = user.donor_scope();
            if let Some(own) = donor {
                let donors = ops.leg_donors()?;
                if !donors.get(&code).is_some_and(|d| d.contains(own)) {
                    return Err(ApiError::not_found("inbound leg", &code));
                }
            }
            let grn = ops.goods_received_note(&code)?;
            Ok(GrnJson {
                leg: grn.leg.code.clone(),
                node: grn.leg.node.clone(),
                carrier: grn.leg.carrier.clone(),
                reference: grn.leg.vehicle_ref.clone(),
                not_received: grn.not_received,
                lines: grn
                    .lines
                    .into_iter()
                    .filter(|l| donor.is_none_or(|d| l.donor == d))
                    .map(|l| GrnLineJson {
                        line: l.line_no,
                        lot_id: l.lot_id,
                        item: l.item,
                        donor: l.donor,
                        batch: l.batch,
                        expiry: opt_day(l.expiry),
                        manifest_quantity: l.manifest_quantity,
                        counted: l.counted,
                        good: l.good,
                        damaged: l.damaged,
                        damaged_to: l.damaged_to,
                        short: l.short,
                        over: l.over,
                        note: l.note,
                        receipt_id: l.receipt_id,
                        received_on: day(l.received_on),
                    })
                    .collect(),
            })
        })
        .await?;
    Ok(json(StatusCode::OK, &note))
}

// -------------------------------------------------------------------- stock

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StockQuery {
    /// Only this node.
    pub node: Option<String>,
    /// Only this item.
    pub item: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StockJson {
    /// The node holding it (for stock in transit, the node it goes to).
    pub node: String,
    /// `available`, `quarantine`, `in transit` (on a hub transfer) or
    /// `loaded` (on a departure that has not left).
    pub state: String,
    /// The hub transfer or departure holding it; null at the node.
    pub document: Option<String>,
    pub lot_id: i64,
    pub item: String,
    pub donor: String,
    pub batch: String,
    pub expiry: Option<String>,
    pub earmark: Vec<String>,
    pub quantity: i64,
    pub weight_kg: f64,
    pub volume_m3: f64,
}

/// The hub's stock by node, state, item and lot, first expiry first: at the
/// nodes, on hub transfers and loaded on departures not yet left (a donor:
/// own lots).
#[utoipa::path(get, path = "/api/stock", tag = "stock", params(StockQuery),
    responses((status = 200, description = "Stock rows", body = Vec<StockJson>)))]
pub async fn stock(
    State(state): State<Shared>,
    user: Principal,
    Query(query): Query<StockQuery>,
) -> Result<Response, ApiError> {
    user.require(&READERS_DONOR_OWN)?;
    let donor = user.donor_scope().map(str::to_string);
    let key = format!(
        "stock|{}|{:?}|{:?}",
        user.scope_key(),
        query.node,
        query.item
    );
    state
        .cached(key, move |ops| {
            Ok(ops
                .stock_held(query.node.as_deref(), query.item.as_deref())?
                .into_iter()
                .filter(|r| donor.as_deref().is_none_or(|d| r.donor == d))
                .map(|r| StockJson {
                    node: r.node,
                    state: r.state.as_code().into(),
                    document: r.document,
                    lot_id: r.lot_id,
                    item: r.item,
                    donor: r.donor,
                    batch: r.batch,
                    expiry: opt_day(r.expiry),
                    earmark: r.earmark,
                    quantity: r.quantity,
                    weight_kg: (r.weight_kg * 10.0).round() / 10.0,
                    volume_m3: (r.volume_m3 * 1000.0).round() / 1000.0,
                })
                .collect::<Vec<_>>())
        })
        .await
}

/// The stock position report: by node and item, units by state (available,
/// quarantined, in transit to the node, loaded awaiting departure), lots
/// counted once, with the first expiry.
#[utoipa::path(get, path = "/api/stock/position", tag = "stock",
    responses((status = 200, description = "The report table", body = TableJson)))]
pub async fn stock_position(
    State(state): State<Shared>,
    user: Principal,
) -> Result<Response, ApiError> {
    user.require(&READERS)?;
    state
        .cached("stock/position".into(), |ops| {
            Ok(TableJson::from_table(&ops.stock_position()?))
        })
        .await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExpiryQuery {
    /// Days ahead (0 to 3650, default 90).
    #[param(minimum = 0, maximum = 3650)]
    pub days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ExpiryJson {
    pub node: String,
    pub item: String,
    pub lot_id: i64,
    pub donor: String,
    pub batch: String,
    pub expiry: Option<String>,
    pub quantity: i64,
    pub days_left: i64,
    /// `expired` or `expiring`.
    pub state: String,
}

/// Stock expired or expiring within `days` (a donor: own lots).
#[utoipa::path(get, path = "/api/stock/expiry", tag = "stock", params(ExpiryQuery),
    responses((status = 200, description = "Expiry alerts", body = Vec<ExpiryJson>)))]
pub async fn stock_expiry(
    State(state): State<Shared>,
    user: Principal,
    Query(query): Query<ExpiryQuery>,
) -> Result<Response, ApiError> {
    user.require(&READERS_DONOR_OWN)?;
    let days = query.days.unwrap_or(90);
    let donor = user.donor_scope().map(str::to_string);
    let today = state.now().date;
    state
        .cached(
            format!("expiry|{}|{days}|{today}", user.scope_key()),
            move |ops| {
                Ok(ops
                    .expiry_alerts(today, days)?
                    .into_iter()
                    .filter(|a| donor.as_deref().is_none_or(|d| a.row.donor == d))
                    .map(|a| ExpiryJson {
                        node: a.row.node,
                        item: a.row.item,
                        lot_id: a.row.lot_id,
                        donor: a.row.donor,
                        batch: a.row.batch,
                        expiry: opt_day(a.row.expiry),
                        quantity: a.row.quantity,
                        days_left: a.days_left,
                        state: reliefhub_ops::ExpiryState::of(a.days_left).as_code().into(),
                    })
                    .collect::<Vec<_>>())
            },
        )
        .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockMoveInput {
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub node: String,
    #[schema(minimum = 1)]
    pub lot_id: i64,
    #[schema(minimum = 1, maximum = 1000000000000_i64)]
    pub quantity: i64,
    #[schema(
        pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub reason: String,
}

/// Moves stock into quarantine at a node (staff).
#[utoipa::path(post, path = "/api/stock/quarantine", tag = "stock", request_body = StockMoveInput,
    params(("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Quarantined", body = DoneJson)))]
pub async fn quarantine(
    State(state): State<Shared>,
    user: Principal,
    key: OpKey,
    Body(input): Body<StockMoveInput>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let at = state.now();
    let done = state
        .pool
        .run(move |ops| {
            Ok(ops.quarantine(
                &input.node,
                input.lot_id,
                input.quantity,
                &input.reason,
                Some(&key.0),
                at,
            )?)
        })
        .await?;
    Ok(json(StatusCode::CREATED, &DoneJson::from(done)))
}

/// Releases stock from quarantine (staff).
#[utoipa::path(post, path = "/api/stock/release", tag = "stock", request_body = StockMoveInput,
    params(("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Released", body = DoneJson)))]
pub async fn release(
    State(state): State<Shared>,
    user: Principal,
    key: OpKey,
    Body(input): Body<StockMoveInput>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let at = state.now();
    let done = state
        .pool
        .run(move |ops| {
            Ok(ops.release(
                &input.node,
                input.lot_id,
                input.quantity,
                &input.reason,
                Some(&key.0),
                at,
            )?)
        })
        .await?;
    Ok(json(StatusCode::CREATED, &DoneJson::from(done)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteOffInput {
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub node: String,
    #[schema(minimum = 1)]
    pub lot_id: i64,
    #[schema(minimum = 1, maximum = 1000000000000_i64)]
    pub quantity: i64,
    /// damaged, expired, short-landed, stolen, count-adjustment or short-delivered.
    #[schema(value_type = LossName)]
    pub loss: String,
    #[serde(default)]
    pub from_quarantine: bool,
    #[schema(
        pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub reason: String,
}

/// Writes stock off as a loss (staff).
#[utoipa::path(post, path = "/api/stock/write-off", tag = "stock", request_body = WriteOffInput,
    params(("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Written off", body = DoneJson)))]
pub async fn write_off(
    State(state): State<Shared>,
    user: Principal,
    key: OpKey,
    Body(input): Body<WriteOffInput>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let mut problems = Problems::default();
    let loss = problems.read(parse::loss_reason("loss", &input.loss));
    problems.finish()?;
    let loss = loss.unwrap_or(LossReason::Damaged);
    let at = state.now();
    let done = state
        .pool
        .run(move |ops| {
            Ok(ops.write_off(
                &input.node,
                input.lot_id,
                input.quantity,
                input.from_quarantine,
                loss,
                &input.reason,
                Some(&key.0),
                at,
            )?)
        })
        .await?;
    Ok(json(StatusCode::CREATED, &DoneJson::from(done)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountLineInput {
    #[schema(minimum = 1)]
    pub lot_id: i64,
    #[schema(minimum = 0, maximum = 1000000000000_i64)]
    pub counted: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountInput {
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub node: String,
    #[schema(min_items = 1)]
    pub lines: Vec<CountLineInput>,
    #[schema(
        pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub reason: String,
}

/// Records a stock count; differences become adjustments (staff).
#[utoipa::path(post, path = "/api/stock/count", tag = "stock", request_body = CountInput,
    params(("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Counted", body = DoneJson)))]
pub async fn count(
    State(state): State<Shared>,
    user: Principal,
    key: OpKey,
    Body(input): Body<CountInput>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let at = state.now();
    let counts: Vec<(i64, i64)> = input.lines.iter().map(|l| (l.lot_id, l.counted)).collect();
    let done = state
        .pool
        .run(move |ops| Ok(ops.count(&input.node, &counts, &input.reason, Some(&key.0), at)?))
        .await?;
    Ok(json(StatusCode::CREATED, &DoneJson::from(done)))
}

// ---------------------------------------------------------------- transfers

#[derive(Serialize, ToSchema)]
pub struct TransferLineJson {
    pub lot_id: i64,
    pub quantity: i64,
}

#[derive(Serialize, ToSchema)]
pub struct TransferJson {
    pub code: String,
    pub from_node: String,
    pub to_node: String,
    pub vehicle: String,
    pub dispatched_on: String,
    pub arrived_on: Option<String>,
    /// `in transit` or `arrived`.
    pub status: String,
    pub lines: Vec<TransferLineJson>,
}

/// Transfers between the port and the airfield.
#[utoipa::path(get, path = "/api/transfers", tag = "stock",
    responses((status = 200, description = "Transfers", body = Vec<TransferJson>)))]
pub async fn list_transfers(
    State(state): State<Shared>,
    user: Principal,
) -> Result<Response, ApiError> {
    user.require(&READERS)?;
    state
        .cached("transfers".into(), |ops| {
            Ok(ops
                .transfers()?
                .into_iter()
                .map(|t| TransferJson {
                    status: t.status().as_code().into(),
                    code: t.code,
                    from_node: t.from_node,
                    to_node: t.to_node,
                    vehicle: t.vehicle,
                    dispatched_on: day(t.dispatched_on),
                    arrived_on: opt_day(t.arrived_on),
                    lines: t
                        .lines
                        .into_iter()
                        .map(|(lot_id, quantity)| TransferLineJson { lot_id, quantity })
                        .collect(),
                })
                .collect::<Vec<_>>())
        })
        .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferLineInput {
    #[schema(minimum = 1)]
    pub lot_id: i64,
    #[schema(minimum = 1, maximum = 1000000000000_i64)]
    pub quantity: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub code: String,
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub from_node: String,
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub to_node: String,
    #[schema(
        pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub vehicle: String,
    /// YYYY-MM-DD; today by default.
    #[serde(default)]
    #[schema(format = Date, pattern = "^20[2-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub dispatched_on: Option<String>,
    #[schema(min_items = 1)]
    pub lines: Vec<TransferLineInput>,
}

/// Dispatches stock from one node to the other (staff).
#[utoipa::path(post, path = "/api/transfers", tag = "stock", request_body = TransferInput,
    params(("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Dispatched", body = DoneJson)))]
pub async fn add_transfer(
    State(state): State<Shared>,
    user: Principal,
    key: OpKey,
    Body(input): Body<TransferInput>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let at = state.now();
    let mut problems = Problems::default();
    let dispatched_on = match &input.dispatched_on {
        Some(text) => problems.date("dispatched_on", text),
        None => Some(at.date),
    };
    problems.finish()?;
    let transfer = NewTransfer {
        code: input.code,
        from_node: input.from_node,
        to_node: input.to_node,
        vehicle: input.vehicle,
        dispatched_on: dispatched_on.unwrap_or(at.date),
        lines: input.lines.iter().map(|l| (l.lot_id, l.quantity)).collect(),
    };
    let done = state
        .pool
        .run(move |ops| Ok(ops.dispatch_transfer(&transfer, Some(&key.0), at)?))
        .await?;
    Ok(json(StatusCode::CREATED, &DoneJson::from(done)))
}

/// Records a transfer's arrival (staff).
#[utoipa::path(post, path = "/api/transfers/{code}/arrive", tag = "stock",
    params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Arrived", body = DoneJson)))]
pub async fn arrive_transfer(
    State(state): State<Shared>,
    user: Principal,
    key: OpKey,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    user.require(&STAFF)?;
    let at = state.now();
    let done = state
        .pool
        .run(move |ops| Ok(ops.arrive_transfer(&code, Some(&key.0), at)?))
        .await?;
    Ok(json(StatusCode::CREATED, &DoneJson::from(done)))
}
