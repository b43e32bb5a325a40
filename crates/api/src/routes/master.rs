//! Master data (admin): add and edit items, organisations and destinations.
//! The operations layer checks every field (422 with its problems) and
//! records each change as an operation with the signed-in admin as actor.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use reliefhub_ops::{
    Change, Code, DestinationFields, ItemFields, OpsError, OrganisationFields, Problem,
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::json;
use super::session::{DestinationJson, ItemJson, OrganisationJson};
use crate::auth::{Principal, Role};
use crate::error::{ApiError, Body};
use crate::Shared;

/// Fields of an item; on an edit, only those given change (`""` clears an
/// optional text).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    /// The item's code (required to add; on an edit the path names it).
    pub code: Option<String>,
    pub name: Option<String>,
    pub name_fr: Option<String>,
    pub name_ar: Option<String>,
    pub name_ru: Option<String>,
    /// food, shelter, wash, health, nutrition, logistics or energy.
    pub category: Option<String>,
    pub unit: Option<String>,
    pub unit_weight_kg: Option<f64>,
    pub unit_volume_m3: Option<f64>,
    pub pack_size: Option<i64>,
    pub gtins: Option<Vec<String>>,
    pub un_number: Option<String>,
    pub un_class: Option<String>,
    pub cold_chain: Option<bool>,
    pub needs_expiry: Option<bool>,
    pub min_shelf_life_days: Option<i64>,
    pub value_usd_per_unit: Option<f64>,
}

impl ItemInput {
    fn fields(self) -> ItemFields {
        ItemFields {
            name: self.name,
            name_fr: self.name_fr,
            name_ar: self.name_ar,
            name_ru: self.name_ru,
            category: self.category,
            unit: self.unit,
            unit_weight_kg: self.unit_weight_kg,
            unit_volume_m3: self.unit_volume_m3,
            pack_size: self.pack_size,
            gtins: self.gtins,
            un_number: self.un_number,
            un_class: self.un_class,
            cold_chain: self.cold_chain,
            needs_expiry: self.needs_expiry,
            min_shelf_life_days: self.min_shelf_life_days,
            value_usd_per_unit: self.value_usd_per_unit,
        }
    }
}

/// Fields of an organisation (a donor or a recipient agency).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct OrganisationInput {
    pub code: Option<String>,
    pub name: Option<String>,
    pub name_fr: Option<String>,
    pub name_ar: Option<String>,
    pub name_ru: Option<String>,
    /// donor or recipient.
    pub kind: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

/// Fields of a destination.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DestinationInput {
    /// The UN/LOCODE (required to add; on an edit the path names it).
    pub locode: Option<String>,
    pub name: Option<String>,
    pub name_fr: Option<String>,
    pub name_ar: Option<String>,
    pub name_ru: Option<String>,
    /// When given, the UN/LOCODE's first two letters.
    pub country: Option<String>,
    pub iata: Option<String>,
    pub icao: Option<String>,
    pub latitude_deg: Option<f64>,
    pub longitude_deg: Option<f64>,
    pub seaport: Option<bool>,
    pub airport: Option<bool>,
}

fn status(change: Change) -> StatusCode {
    match change {
        Change::Added => StatusCode::CREATED,
        Change::Edited | Change::Unchanged => StatusCode::OK,
    }
}

/// The code named twice (body and path) must agree.
fn same_code(path: &str, body: Option<&str>, field: &str) -> Result<(), ApiError> {
    match body {
        Some(code) if code != path => Err(OpsError::Refused(vec![Problem::new(
            Code::BadBody,
            field,
            code,
            format!("the body names `{code}`, the address `{path}`"),
        )])
        .into()),
        _ => Ok(()),
    }
}

async fn put_item(
    state: Shared,
    code: String,
    input: ItemInput,
    edit: bool,
) -> Result<Response, ApiError> {
    let fields = input.fields();
    let (item, change) = state
        .pool
        .run(move |ops| Ok(ops.put_item(&code, &fields, edit)?))
        .await?;
    Ok(json(status(change), &ItemJson::from(item)))
}

/// Adds an item to the catalogue (admin).
#[utoipa::path(post, path = "/api/items", tag = "reference", request_body = ItemInput,
    params(("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Added", body = ItemJson),
              (status = 200, description = "The same item was there already", body = ItemJson)))]
pub async fn add_item(
    State(state): State<Shared>,
    user: Principal,
    Body(input): Body<ItemInput>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin])?;
    // The operations layer refuses a missing or malformed code.
    let code = input.code.clone().unwrap_or_default();
    put_item(state, code, input, false).await
}

/// Changes the fields given of an item (admin).
#[utoipa::path(post, path = "/api/items/{code}", tag = "reference", request_body = ItemInput,
    params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 200, description = "Changed (or already so)", body = ItemJson)))]
pub async fn edit_item(
    State(state): State<Shared>,
    user: Principal,
    Path(code): Path<String>,
    Body(input): Body<ItemInput>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin])?;
    same_code(&code, input.code.as_deref(), "code")?;
    put_item(state, code, input, true).await
}

async fn put_organisation(
    state: Shared,
    code: String,
    input: OrganisationInput,
    edit: bool,
) -> Result<Response, ApiError> {
    let fields = OrganisationFields {
        name: input.name,
        name_fr: input.name_fr,
        name_ar: input.name_ar,
        name_ru: input.name_ru,
        kind: input.kind,
        country: input.country,
    };
    let (org, change) = state
        .pool
        .run(move |ops| Ok(ops.put_organisation(&code, &fields, edit)?))
        .await?;
    Ok(json(status(change), &OrganisationJson::from(org)))
}

/// Adds a donor or recipient agency (admin).
#[utoipa::path(post, path = "/api/organisations", tag = "reference", request_body = OrganisationInput,
    params(("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Added", body = OrganisationJson),
              (status = 200, description = "The same organisation was there already", body = OrganisationJson)))]
pub async fn add_organisation(
    State(state): State<Shared>,
    user: Principal,
    Body(input): Body<OrganisationInput>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin])?;
    // The operations layer refuses a missing or malformed code.
    let code = input.code.clone().unwrap_or_default();
    put_organisation(state, code, input, false).await
}

/// Changes the fields given of an organisation (admin).
#[utoipa::path(post, path = "/api/organisations/{code}", tag = "reference", request_body = OrganisationInput,
    params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 200, description = "Changed (or already so)", body = OrganisationJson)))]
pub async fn edit_organisation(
    State(state): State<Shared>,
    user: Principal,
    Path(code): Path<String>,
    Body(input): Body<OrganisationInput>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin])?;
    same_code(&code, input.code.as_deref(), "code")?;
    put_organisation(state, code, input, true).await
}

async fn put_destination(
    state: Shared,
    locode: String,
    input: DestinationInput,
    edit: bool,
) -> Result<Response, ApiError> {
    let fields = DestinationFields {
        name: input.name,
        name_fr: input.name_fr,
        name_ar: input.name_ar,
        name_ru: input.name_ru,
        country: input.country,
        iata: input.iata,
        icao: input.icao,
        latitude_deg: input.latitude_deg,
        longitude_deg: input.longitude_deg,
        seaport: input.seaport,
        airport: input.airport,
    };
    let (destination, change) = state
        .pool
        .run(move |ops| Ok(ops.put_destination(&locode, &fields, edit)?))
        .await?;
    Ok(json(status(change), &DestinationJson::from(destination)))
}

/// Adds a destination by UN/LOCODE (admin).
#[utoipa::path(post, path = "/api/destinations", tag = "reference", request_body = DestinationInput,
    params(("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Added", body = DestinationJson),
              (status = 200, description = "The same destination was there already", body = DestinationJson)))]
pub async fn add_destination(
    State(state): State<Shared>,
    user: Principal,
    Body(input): Body<DestinationInput>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin])?;
    // The operations layer refuses a missing or malformed code.
    let locode = input.locode.clone().unwrap_or_default();
    put_destination(state, locode, input, false).await
}

/// Changes the fields given of a destination (admin).
#[utoipa::path(post, path = "/api/destinations/{locode}", tag = "reference", request_body = DestinationInput,
    params(("locode" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 200, description = "Changed (or already so)", body = DestinationJson)))]
pub async fn edit_destination(
    State(state): State<Shared>,
    user: Principal,
    Path(locode): Path<String>,
    Body(input): Body<DestinationInput>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin])?;
    same_code(&locode, input.locode.as_deref(), "locode")?;
    put_destination(state, locode, input, true).await
}
