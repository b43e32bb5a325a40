//! Health, login and logout, reference lists, verification and users.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use reliefhub_store::{now_unix_ms, Backend};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::json;
use crate::auth::{self, Login, NewUser, Principal, Role, UserView};
use crate::error::{ApiError, Body, Problems};
use crate::{Shared, ALL_ROLES};

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`
    pub status: String,
    /// `sqlite` or `postgres`
    pub database: String,
    pub journal_entries: i64,
    /// The hub's date, YYYY-MM-DD: what "today" means for the server (the
    /// UTC date unless it runs on a fixed date).
    pub today: String,
}

/// Liveness, the database the server runs on and the hub's date.
#[utoipa::path(get, path = "/api/health", tag = "session",
    responses((status = 200, description = "The server and its database answer", body = Health)))]
pub async fn health(State(state): State<Shared>) -> Result<Response, ApiError> {
    let database = match state.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let hub_date = super::day(state.now().date);
    state
        .cached(format!("health:{hub_date}"), move |ops| {
            let journal_entries = ops.store().read(|conn| {
                conn.query("SELECT COALESCE(MAX(seq), 0) FROM journal", &[])?[0][0].int()
            })?;
            Ok(Health {
                status: "ok".into(),
                database: database.into(),
                journal_entries,
                today: hub_date,
            })
        })
        .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// The bearer token (256 random bits, hex). Shown once; valid 12 hours.
    pub token: String,
    pub user: Principal,
}

/// Signs in: returns a bearer token. In 15 minutes a client address may fail
/// 5 times for one username and 20 in all (429 after, with Retry-After); a
/// username failed 5 times from anywhere waits 1 s, doubling up to 60 s,
/// before each further attempt, except from an address it signed in from.
#[utoipa::path(post, path = "/api/login", tag = "session", request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = LoginResponse),
              (status = 401, description = "Wrong username or password", body = crate::error::ErrorBody),
              (status = 429, description = "Too many failed attempts; wait and retry", body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(request): Body<LoginRequest>,
) -> Result<Response, ApiError> {
    let mut problems = Problems::default();
    if request.username.is_empty() || request.username.chars().count() > 64 {
        problems.push(
            reliefhub_ops::Code::TextTooLong,
            "username",
            &request.username,
            "must be 1 to 64 characters",
        );
    }
    if request.password.is_empty() || request.password.chars().count() > 1024 {
        problems.push(
            reliefhub_ops::Code::TextTooLong,
            "password",
            "(hidden)",
            "must be 1 to 1024 characters",
        );
    }
    problems.finish()?;
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let address = auth::client_address(peer.ip(), &forwarded, &state.trusted_proxies())
        .to_canonical()
        .to_string();
    let outcome = state
        .pool
        .run(move |ops| {
            Ok(auth::login(
                ops.store(),
                &request.username,
                &request.password,
                &address,
                now_unix_ms(),
            )?)
        })
        .await?;
    match outcome {
        Login::Ok(token, user) => Ok(json(StatusCode::OK, &LoginResponse { token, user })),
        Login::Bad => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "wrong username or password",
        )),
        Login::Limited(retry_after_s) => {
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                format!("too many failed sign-in attempts; retry in {retry_after_s} s"),
            )
            .into_response();
            if let Ok(value) = axum::http::HeaderValue::from_str(&retry_after_s.to_string()) {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, value);
            }
            Ok(response)
        }
    }
}

/// Signs out: the token stops working at once.
#[utoipa::path(post, path = "/api/logout", tag = "session",
    responses((status = 204, description = "Signed out")))]
pub async fn logout(
    State(state): State<Shared>,
    _user: Principal,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    let digest = auth::token_digest(&token);
    state
        .pool
        .run(move |ops| Ok(auth::revoke_token(ops.store(), &digest, now_unix_ms())?))
        .await?;
    state.forget_tokens();
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/me", tag = "session",
    responses((status = 200, description = "The signed-in user", body = Principal)))]
pub async fn me(user: Principal) -> Result<Response, ApiError> {
    Ok(json(StatusCode::OK, &user))
}

#[derive(Serialize, ToSchema)]
pub struct ItemJson {
    pub code: String,
    /// The name in English.
    pub name: String,
    /// The name in French, Arabic and Russian (null: the English name).
    pub name_fr: Option<String>,
    pub name_ar: Option<String>,
    pub name_ru: Option<String>,
    pub category: String,
    pub unit: String,
    pub unit_weight_kg: f64,
    pub unit_volume_m3: f64,
    pub pack_size: u32,
    pub gtins: Vec<String>,
    pub cold_chain: bool,
    pub dangerous_goods: bool,
    pub un_number: Option<String>,
    pub un_class: Option<String>,
    pub needs_expiry: bool,
    pub min_shelf_life_days: i64,
    /// Value of one unit in US dollars (null: not known).
    pub value_usd_per_unit: Option<f64>,
}

impl From<reliefhub_core::Item> for ItemJson {
    fn from(i: reliefhub_core::Item) -> ItemJson {
        ItemJson {
            dangerous_goods: i.un_number.is_some(),
            code: i.code,
            name: i.name,
            name_fr: i.names.fr,
            name_ar: i.names.ar,
            name_ru: i.names.ru,
            category: i.category,
            unit: i.unit,
            unit_weight_kg: i.unit_weight_kg,
            unit_volume_m3: i.unit_volume_m3,
            pack_size: i.pack_size,
            gtins: i.gtins,
            cold_chain: i.cold_chain,
            un_number: i.un_number,
            un_class: i.un_class,
            needs_expiry: i.needs_expiry,
            min_shelf_life_days: i64::from(i.min_shelf_life_days),
            value_usd_per_unit: i.value_usd_per_unit,
        }
    }
}

/// The catalogue.
#[utoipa::path(get, path = "/api/items", tag = "reference",
    responses((status = 200, description = "Every item", body = Vec<ItemJson>)))]
pub async fn items(State(state): State<Shared>, user: Principal) -> Result<Response, ApiError> {
    user.require(&ALL_ROLES)?;
    state
        .cached("items".into(), |ops| {
            Ok(ops
                .store()
                .items()?
                .into_iter()
                .map(ItemJson::from)
                .collect::<Vec<_>>())
        })
        .await
}

#[derive(Serialize, ToSchema)]
pub struct NodeJson {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub locode: String,
    pub lat: f64,
    pub lon: f64,
}

/// The hub's nodes (the port and the airfield).
#[utoipa::path(get, path = "/api/nodes", tag = "reference",
    responses((status = 200, description = "Every node", body = Vec<NodeJson>)))]
pub async fn nodes(State(state): State<Shared>, user: Principal) -> Result<Response, ApiError> {
    user.require(&ALL_ROLES)?;
    state
        .cached("nodes".into(), |ops| {
            Ok(ops
                .nodes()?
                .into_iter()
                .map(|n| NodeJson {
                    code: n.code,
                    name: n.name,
                    kind: n.kind,
                    locode: n.locode,
                    lat: n.lat,
                    lon: n.lon,
                })
                .collect::<Vec<_>>())
        })
        .await
}

#[derive(Serialize, ToSchema)]
pub struct DestinationJson {
    pub locode: String,
    /// The name in English.
    pub name: String,
    /// The name in French, Arabic and Russian (null: the English name).
    pub name_fr: Option<String>,
    pub name_ar: Option<String>,
    pub name_ru: Option<String>,
    pub country: String,
    pub iata: Option<String>,
    pub icao: Option<String>,
    pub seaport: bool,
    pub airport: bool,
    pub lat: f64,
    pub lon: f64,
}

impl From<reliefhub_core::Destination> for DestinationJson {
    fn from(d: reliefhub_core::Destination) -> DestinationJson {
        DestinationJson {
            country: d.country().to_string(),
            locode: d.locode,
            name: d.name,
            name_fr: d.names.fr,
            name_ar: d.names.ar,
            name_ru: d.names.ru,
            iata: d.iata,
            icao: d.icao,
            seaport: d.seaport,
            airport: d.airport,
            lat: d.latitude_deg,
            lon: d.longitude_deg,
        }
    }
}

/// The destinations (UN/LOCODE) with their coordinates.
#[utoipa::path(get, path = "/api/destinations", tag = "reference",
    responses((status = 200, description = "Every destination", body = Vec<DestinationJson>)))]
pub async fn destinations(
    State(state): State<Shared>,
    user: Principal,
) -> Result<Response, ApiError> {
    user.require(&ALL_ROLES)?;
    state
        .cached("destinations".into(), |ops| {
            Ok(ops
                .destination_records()?
                .into_iter()
                .map(DestinationJson::from)
                .collect::<Vec<_>>())
        })
        .await
}

#[derive(Serialize, ToSchema)]
pub struct OrganisationJson {
    pub code: String,
    /// The name in English.
    pub name: String,
    /// The name in French, Arabic and Russian (null: the English name).
    pub name_fr: Option<String>,
    pub name_ar: Option<String>,
    pub name_ru: Option<String>,
    pub kind: String,
    pub country: String,
}

impl From<reliefhub_core::Organisation> for OrganisationJson {
    fn from(o: reliefhub_core::Organisation) -> OrganisationJson {
        OrganisationJson {
            kind: o.kind.code().to_string(),
            code: o.code,
            name: o.name,
            name_fr: o.names.fr,
            name_ar: o.names.ar,
            name_ru: o.names.ru,
            country: o.country,
        }
    }
}

/// Donors and recipient agencies.
#[utoipa::path(get, path = "/api/organisations", tag = "reference",
    responses((status = 200, description = "Every organisation", body = Vec<OrganisationJson>)))]
pub async fn organisations(
    State(state): State<Shared>,
    user: Principal,
) -> Result<Response, ApiError> {
    user.require(&ALL_ROLES)?;
    state
        .cached("organisations".into(), |ops| {
            Ok(ops
                .organisation_records()?
                .into_iter()
                .map(OrganisationJson::from)
                .collect::<Vec<_>>())
        })
        .await
}

#[derive(Serialize, ToSchema)]
pub struct VerifyJson {
    pub ok: bool,
    /// Journal entries checked.
    pub entries: u64,
    pub balances: Option<u64>,
    /// The first entry that does not verify, when not ok.
    pub first_bad_entry: Option<i64>,
    pub message: Option<String>,
}

/// Recomputes every balance from the journal and checks the hash chain.
#[utoipa::path(get, path = "/api/verify", tag = "audit",
    responses((status = 200, description = "The verdict", body = VerifyJson)))]
pub async fn verify(State(state): State<Shared>, user: Principal) -> Result<Response, ApiError> {
    user.require(&[Role::Admin, Role::Auditor])?;
    let verdict = state
        .pool
        .run(|ops| {
            let result = ops.store().verify(|_, _| {})?;
            Ok(match result {
                Ok(summary) => VerifyJson {
                    ok: true,
                    entries: summary.entries,
                    balances: Some(summary.balances),
                    first_bad_entry: None,
                    message: None,
                },
                Err(failure) => VerifyJson {
                    ok: false,
                    entries: 0,
                    balances: None,
                    first_bad_entry: failure.seq(),
                    message: Some(failure.to_string()),
                },
            })
        })
        .await?;
    Ok(json(StatusCode::OK, &verdict))
}

/// Every user (admin).
#[utoipa::path(get, path = "/api/users", tag = "users",
    responses((status = 200, description = "Every user", body = Vec<UserView>)))]
pub async fn list_users(
    State(state): State<Shared>,
    user: Principal,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin])?;
    let users = state.pool.run(|ops| Ok(auth::users(ops.store())?)).await?;
    Ok(json(StatusCode::OK, &users))
}

/// Adds a user (admin).
#[utoipa::path(post, path = "/api/users", tag = "users", request_body = NewUser,
    params(("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 201, description = "Created", body = UserView)))]
pub async fn add_user(
    State(state): State<Shared>,
    user: Principal,
    Body(new): Body<NewUser>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin])?;
    let view = state
        .pool
        .run(move |ops| Ok(auth::add_user(ops.store(), &new, now_unix_ms())?))
        .await?;
    Ok(json(StatusCode::CREATED, &view))
}

/// Disables a user and revokes their tokens (admin). Nobody may disable
/// themself or the last enabled admin (422).
#[utoipa::path(post, path = "/api/users/{username}/disable", tag = "users",
    params(("username" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 200, description = "Disabled", body = UserView)))]
pub async fn disable_user(
    State(state): State<Shared>,
    user: Principal,
    Path(username): Path<String>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin])?;
    let acting = user.username.clone();
    let view = state
        .pool
        .run(move |ops| {
            Ok(auth::disable_user(
                ops.store(),
                &username,
                Some(&acting),
                now_unix_ms(),
            )?)
        })
        .await?;
    state.forget_tokens();
    Ok(json(StatusCode::OK, &view))
}

/// Enables a disabled user again (admin); their old tokens stay revoked.
#[utoipa::path(post, path = "/api/users/{username}/enable", tag = "users",
    params(("username" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per operation, per user")),
    responses((status = 200, description = "Enabled", body = UserView)))]
pub async fn enable_user(
    State(state): State<Shared>,
    user: Principal,
    Path(username): Path<String>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin])?;
    let view = state
        .pool
        .run(move |ops| Ok(auth::enable_user(ops.store(), &username)?))
        .await?;
    state.forget_tokens();
    Ok(json(StatusCode::OK, &view))
}
