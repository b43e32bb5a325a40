//! The hub's HTTP API (axum): every workflow of the operations layer and
//! planning as JSON routes, bearer-token authentication, authorization by
//! role and by object, Idempotency-Key on every mutating route, an OpenAPI
//! 3.1 document generated from the code (utoipa) with an offline Swagger UI,
//! and the embedded dashboard.
//!
//! Start reading at [`router`] (the route table) and [`AppState`]. The
//! database work of each request runs on a pooled [`reliefhub_ops::Ops`]
//! connection on a blocking thread ([`pool::Pool`]).

pub mod assets;
pub mod auth;
pub mod error;
pub mod idempotency;
pub mod pool;
mod routes;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::Bytes;
use reliefhub_ops::{Moment, Ops, OpsError};
use reliefhub_store::{now_unix_ms, Backend};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr};

pub use auth::{Principal, Role};
pub use error::{ApiError, Problem};

use pool::Pool;

/// What every request handler shares.
pub struct AppState {
    pub pool: Arc<Pool>,
    pub backend: Backend,
    /// Valid tokens seen recently: SHA-256 of the token -> (user, expiry,
    /// the [`AppState::access_epoch`] it was looked up in). An entry is
    /// trusted only in the epoch it was made in.
    tokens: RwLock<HashMap<String, (Principal, i64, u64)>>,
    /// Counts up whenever the users or tokens may have changed (seen by
    /// `PRAGMA data_version` on SQLite, by `api_access_version` on
    /// PostgreSQL, by the poller, or on a reconnect).
    access_epoch: AtomicU64,
    /// PostgreSQL: the `api_access_version` last read.
    access_version: std::sync::atomic::AtomicI64,
    /// PostgreSQL: reads of `api_access_version` started and finished
    /// (numbered from 1). A request waits for a read that started after it
    /// arrived; one read serves every request waiting for it.
    access_reads_started: AtomicU64,
    access_reads_done: AtomicU64,
    access_read_lock: tokio::sync::Mutex<()>,
    /// Tokens found invalid (SHA-256): a token never becomes valid after
    /// it was refused (new tokens are fresh random numbers, revocation is
    /// final), so probing with bad tokens costs no database lookup.
    bad_tokens: RwLock<HashSet<String>>,
    /// Token lookups in the database so far.
    token_lookups: AtomicU64,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    trusted_proxies: RwLock<Vec<auth::Network>>,
    /// Read responses, by route, query and the caller's scope, valid while
    /// `generation` is the one they were made at.
    cache: RwLock<HashMap<String, (u64, Bytes)>>,
    /// Moves on every write through this server and whenever the data
    /// fingerprint (journal head and documents, any writer) changes.
    generation: AtomicU64,
    /// Mutating requests running now, by (user, Idempotency-Key).
    in_flight: Mutex<HashSet<(i64, String)>>,
    /// One response is computed at a time per lock (keys hashed onto
    /// them), so many readers missing the cache at once wait for one
    /// database query instead of each running it.
    fill_locks: Vec<tokio::sync::Mutex<()>>,
    /// The hub's date for operations, when not the real one (the demo
    /// serves its simulated last day).
    today: Option<time::Date>,
    /// The key tree heads are signed with (none: no heads, no proofs).
    hub_key: RwLock<Option<Arc<reliefhub_ops::trust::HubKey>>>,
    /// SQLite: a connection of its own that tells, before a cached token
    /// is trusted, whether any other connection committed since
    /// (`PRAGMA data_version`, no disk read), so a user disabled or a
    /// token revoked by another process is refused on the next request.
    access_watch: Mutex<Option<AccessWatch>>,
}

/// What [`AppState::access_watch`] last saw.
struct AccessWatch {
    store: reliefhub_store::Store,
    data_version: Option<i64>,
    fingerprint: String,
}

impl AccessWatch {
    /// True when the users or tokens changed since the last look.
    fn changed(&mut self) -> bool {
        let version = self
            .store
            .conn()
            .query("PRAGMA data_version", &[])
            .ok()
            .and_then(|rows| rows.first().and_then(|r| r[0].int().ok()));
        if version.is_some() && version == self.data_version {
            return false;
        }
        self.data_version = version;
        let fingerprint = auth::access_fingerprint(&mut self.store).unwrap_or_default();
        if fingerprint == self.fingerprint && version.is_some() {
            return false;
        }
        self.fingerprint = fingerprint;
        true
    }
}

pub type Shared = Arc<AppState>;

/// Every role (for routes every signed-in user may call).
pub const ALL_ROLES: [Role; 5] = Role::ALL;
/// The hub's staff: admin and operator.
pub const STAFF: [Role; 2] = [Role::Admin, Role::Operator];

/// How many database connections the server uses.
pub const POOL_SIZE: usize = 8;
/// How often the data and access fingerprints are read.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
const CACHE_ENTRIES_MAX: usize = 4096;

impl AppState {
    /// Opens the database (it must be initialised) and starts the
    /// fingerprint poller.
    pub fn open(db_url: &str) -> Result<Shared, OpsError> {
        AppState::open_on(db_url, None)
    }

    /// [`AppState::open`] with a fixed hub date for operations.
    pub fn open_on(db_url: &str, today: Option<time::Date>) -> Result<Shared, OpsError> {
        let pool = Pool::open(db_url, POOL_SIZE)?;
        let backend = Ops::open(db_url)?.store().backend();
        let state = Arc::new(AppState {
            pool: Arc::new(pool),
            backend,
            tokens: RwLock::new(HashMap::new()),
            access_epoch: AtomicU64::new(1),
            access_version: std::sync::atomic::AtomicI64::new(i64::MIN),
            access_reads_started: AtomicU64::new(0),
            access_reads_done: AtomicU64::new(0),
            access_read_lock: tokio::sync::Mutex::new(()),
            bad_tokens: RwLock::new(HashSet::new()),
            token_lookups: AtomicU64::new(0),
            trusted_proxies: RwLock::new(Vec::new()),
            cache: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(1),
            in_flight: Mutex::new(HashSet::new()),
            fill_locks: (0..16).map(|_| tokio::sync::Mutex::new(())).collect(),
            today,
            hub_key: RwLock::new(None),
            access_watch: Mutex::new(None),
        });
        if backend == Backend::Sqlite {
            let mut store = reliefhub_store::Store::open(db_url)?;
            let fingerprint = auth::access_fingerprint(&mut store).unwrap_or_default();
            let mut watch = AccessWatch {
                store,
                data_version: None,
                fingerprint,
            };
            watch.changed();
            if let Ok(mut slot) = state.access_watch.lock() {
                *slot = Some(watch);
            }
        }
        let mut ops = Ops::open(db_url)?;
        // The fingerprints as the server starts: nothing is cached yet, so
        // only later changes need to clear the cache.
        let initial = (
            ops.data_fingerprint().unwrap_or_default(),
            auth::access_fingerprint(ops.store()).unwrap_or_default(),
        );
        let weak = Arc::downgrade(&state);
        let url = db_url.to_string();
        std::thread::Builder::new()
            .name("reliefhub-poller".into())
            .spawn(move || poll(weak, &url, &mut ops, initial))
            .map_err(|e| OpsError::Io {
                file: "poller thread".into(),
                message: e.to_string(),
            })?;
        Ok(state)
    }

    /// Sets the key the server signs tree heads and donor proofs with.
    pub fn set_hub_key(&self, key: reliefhub_ops::trust::HubKey) {
        if let Ok(mut slot) = self.hub_key.write() {
            *slot = Some(Arc::new(key));
        }
    }

    /// The key tree heads are signed with, if the server has one.
    pub fn hub_key(&self) -> Option<Arc<reliefhub_ops::trust::HubKey>> {
        self.hub_key.read().ok().and_then(|k| k.clone())
    }

    /// The moment of a request: now, with the hub's date (today in UTC
    /// unless the server runs on a fixed date).
    pub fn now(&self) -> Moment {
        let now = Moment::from_unix_ms(now_unix_ms());
        match self.today {
            Some(date) => Moment {
                unix_ms: now.unix_ms,
                date,
            },
            None => now,
        }
    }

    /// Marks every cached read as stale.
    pub fn bump(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub fn forget_tokens(&self) {
        self.access_epoch.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut tokens) = self.tokens.write() {
            tokens.clear();
        }
    }

    /// The access epoch as of this moment: any change of the users or
    /// tokens committed before this call, by any process, has moved it.
    /// SQLite: `PRAGMA data_version` on a connection of its own (no disk
    /// read). PostgreSQL: a read of `api_access_version` that started
    /// after this call; concurrent requests share one read, so under load
    /// it costs far less than a query per request.
    async fn access_epoch_now(self: &Arc<Self>) -> Result<u64, ApiError> {
        if self.backend == Backend::Sqlite {
            let changed = self
                .access_watch
                .lock()
                .ok()
                .is_some_and(|mut watch| watch.as_mut().is_some_and(AccessWatch::changed));
            if changed {
                self.forget_tokens();
            }
            return Ok(self.access_epoch.load(Ordering::SeqCst));
        }
        // A read numbered `wanted` or later starts after this moment.
        let wanted = self.access_reads_started.load(Ordering::SeqCst) + 1;
        if self.access_reads_done.load(Ordering::SeqCst) >= wanted {
            return Ok(self.access_epoch.load(Ordering::SeqCst));
        }
        let _reading = self.access_read_lock.lock().await;
        if self.access_reads_done.load(Ordering::SeqCst) >= wanted {
            return Ok(self.access_epoch.load(Ordering::SeqCst));
        }
        let number = self.access_reads_started.fetch_add(1, Ordering::SeqCst) + 1;
        let read = self
            .pool
            .run(|ops| {
                Ok(ops
                    .store()
                    .read(|conn| conn.query("SELECT version FROM api_access_version", &[]))?
                    .first()
                    .map(|r| r[0].int())
                    .transpose()?)
            })
            .await;
        let outcome = match read {
            Ok(Some(version)) => {
                if self.access_version.swap(version, Ordering::SeqCst) != version {
                    self.forget_tokens();
                }
                Ok(())
            }
            Ok(None) => {
                self.forget_tokens();
                Ok(())
            }
            Err(e) => {
                // Not known: trust no cached token.
                self.forget_tokens();
                Err(e)
            }
        };
        self.access_reads_done.store(number, Ordering::SeqCst);
        outcome.map(|()| self.access_epoch.load(Ordering::SeqCst))
    }

    /// Forgets one valid token at once (it was revoked here).
    pub fn forget_token(&self, digest: &str) {
        if let Ok(mut tokens) = self.tokens.write() {
            tokens.remove(digest);
        }
    }

    /// Trusts `X-Forwarded-For` from these proxies (login limits are per
    /// client address).
    pub fn set_trusted_proxies(&self, proxies: Vec<auth::Network>) {
        if let Ok(mut trusted) = self.trusted_proxies.write() {
            *trusted = proxies;
        }
    }

    /// How many times a token was looked up in the database.
    pub fn token_lookups(&self) -> u64 {
        self.token_lookups.load(Ordering::Relaxed)
    }

    pub fn trusted_proxies(&self) -> Vec<auth::Network> {
        self.trusted_proxies
            .read()
            .map(|t| t.clone())
            .unwrap_or_default()
    }

    /// The signed-in user of a request, if its bearer token is valid.
    /// A cached token is used only while no change of the users or tokens
    /// was committed since it was looked up ([`AppState::access_epoch_now`]).
    pub async fn principal(
        self: &Arc<Self>,
        headers: &HeaderMap,
    ) -> Result<Option<Principal>, ApiError> {
        self.principal_checked(headers, false).await
    }

    /// [`AppState::principal`], always checked against the database (for
    /// requests that change something: a user disabled a moment ago, by
    /// any process, can no longer write).
    pub async fn principal_now(
        self: &Arc<Self>,
        headers: &HeaderMap,
    ) -> Result<Option<Principal>, ApiError> {
        self.principal_checked(headers, true).await
    }

    async fn principal_checked(
        self: &Arc<Self>,
        headers: &HeaderMap,
        fresh: bool,
    ) -> Result<Option<Principal>, ApiError> {
        let Some(token) = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
        else {
            return Ok(None);
        };
        if token.is_empty() || token.len() > 256 {
            return Ok(None);
        }
        let digest = auth::token_digest(token);
        let now = now_unix_ms();
        if self
            .bad_tokens
            .read()
            .is_ok_and(|bad| bad.contains(&digest))
        {
            return Ok(None);
        }
        let epoch = if fresh {
            // Looked up below in any case; the entry it leaves is tagged
            // with the epoch from before the lookup.
            self.access_epoch.load(Ordering::SeqCst)
        } else {
            let epoch = self.access_epoch_now().await?;
            if let Some((principal, expires, made_in)) = self
                .tokens
                .read()
                .ok()
                .and_then(|t| t.get(&digest).cloned())
            {
                if expires > now && made_in == epoch {
                    return Ok(Some(principal));
                }
            }
            epoch
        };
        let key = digest.clone();
        self.token_lookups.fetch_add(1, Ordering::Relaxed);
        let found = self
            .pool
            .run(move |ops| Ok(auth::principal_for_token(ops.store(), &key, now)?))
            .await?;
        if let Some((principal, expires)) = &found {
            if let Ok(mut tokens) = self.tokens.write() {
                if tokens.len() > 100_000 {
                    tokens.clear();
                }
                tokens.insert(digest, (principal.clone(), *expires, epoch));
            }
        } else if let Ok(mut bad) = self.bad_tokens.write() {
            if bad.len() > 100_000 {
                bad.clear();
            }
            bad.insert(digest);
        }
        Ok(found.map(|(p, _)| p))
    }

    /// A JSON read response, cached until the data changes.
    pub async fn cached<T, F>(self: &Arc<Self>, key: String, work: F) -> Result<Response, ApiError>
    where
        T: Serialize + Send + 'static,
        F: FnOnce(&mut Ops) -> Result<T, ApiError> + Send + 'static,
    {
        let lookup = |state: &AppState| {
            let generation = state.generation.load(Ordering::SeqCst);
            let hit = state
                .cache
                .read()
                .ok()
                .and_then(|c| c.get(&key).cloned())
                .filter(|(g, _)| *g == generation)
                .map(|(_, bytes)| bytes);
            (generation, hit)
        };
        if let (_, Some(bytes)) = lookup(self) {
            return Ok(json_bytes(StatusCode::OK, bytes));
        }
        let slot = {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            key.hash(&mut hasher);
            (hasher.finish() % self.fill_locks.len() as u64) as usize
        };
        let _filling = self.fill_locks[slot].lock().await;
        // Another request may have filled it while this one waited.
        let (generation, hit) = lookup(self);
        if let Some(bytes) = hit {
            return Ok(json_bytes(StatusCode::OK, bytes));
        }
        let value = self.pool.run(work).await?;
        let bytes = Bytes::from(serde_json::to_vec(&value).map_err(ApiError::internal)?);
        if let Ok(mut cache) = self.cache.write() {
            if cache.len() >= CACHE_ENTRIES_MAX {
                cache.clear();
            }
            cache.insert(key, (generation, bytes.clone()));
        }
        Ok(json_bytes(StatusCode::OK, bytes))
    }
}

fn poll(state: Weak<AppState>, url: &str, ops: &mut Ops, initial: (String, String)) {
    let (mut last_data, mut last_access) = initial;
    loop {
        std::thread::sleep(POLL_INTERVAL);
        let Some(state) = state.upgrade() else {
            return;
        };
        if ops.store().is_broken() {
            // The database restarted: reconnect, and drop every cached
            // answer and token, since changes may have been missed.
            match Ops::open(url) {
                Ok(fresh) => {
                    *ops = fresh;
                    state.bump();
                    state.forget_tokens();
                }
                Err(e) => {
                    tracing::warn!("cannot reconnect to the database: {e}");
                    continue;
                }
            }
        }
        match ops.data_fingerprint() {
            Ok(data) if data != last_data => {
                last_data = data;
                state.bump();
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot read the data fingerprint: {e}"),
        }
        match auth::access_fingerprint(ops.store()) {
            Ok(access) if access != last_access => {
                last_access = access;
                state.forget_tokens();
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot read the access fingerprint: {e}"),
        }
    }
}

pub fn json_bytes(status: StatusCode, bytes: Bytes) -> Response {
    let mut response = (status, bytes).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

impl FromRequestParts<Shared> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            pool::note_signed_in(&p.username);
            return Ok(p.clone());
        }
        let principal = state
            .principal(&parts.headers)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        pool::note_signed_in(&principal.username);
        Ok(principal)
    }
}

impl Principal {
    /// Refuses unless the user has one of the roles.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "the {} role may not do this",
                self.role.code()
            )))
        }
    }
    /// The donor a donor user is limited to.
    pub fn donor_scope(&self) -> Option<&str> {
        match self.role {
            Role::Donor => Some(self.organisation.as_deref().unwrap_or("")),
            _ => None,
        }
    }
    /// The country a recipient user is limited to.
    pub fn country_scope(&self) -> Option<&str> {
        match self.role {
            Role::Recipient => Some(self.country.as_deref().unwrap_or("")),
            _ => None,
        }
    }
    /// A cache key part: what this user may see.
    pub fn scope_key(&self) -> String {
        match self.role {
            Role::Donor => format!("donor:{}", self.donor_scope().unwrap_or("")),
            Role::Recipient => format!("recipient:{}", self.country_scope().unwrap_or("")),
            role => role.code().to_string(),
        }
    }
}

/// The routes, the OpenAPI document and the dashboard.
pub fn router(state: Shared) -> Router {
    let (api, openapi) = routes::api_router().split_for_parts();
    let openapi = finish_openapi(openapi);
    Router::new()
        .merge(api)
        .merge(utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi))
        // The front door decides each route's limit before reading a body;
        // the extractors may then take up to the largest.
        .layer(axum::extract::DefaultBodyLimit::max(
            idempotency::BODY_LIMIT_BYTES,
        ))
        .merge(assets::router())
        // Outermost of the API's layers, so it also sees requests no route
        // matches: 404 and 405 come before any idempotency bookkeeping.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::middleware,
        ))
        // Who is signed in, for the operation log of the request's writes.
        .layer(axum::middleware::from_fn(pool::actor_scope))
        .layer(axum::middleware::from_fn(assets::security_headers))
        .layer(assets::compression())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// The OpenAPI document of the API.
pub fn openapi() -> OpenApi {
    finish_openapi(routes::api_router().split_for_parts().1)
}

/// Every route as `METHOD /path/{param}`, from the OpenAPI document (the
/// router is built from the same handlers, so the two cannot differ).
pub fn route_list() -> Vec<String> {
    let doc = openapi();
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        let methods = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("DELETE", item.delete.is_some()),
            ("PATCH", item.patch.is_some()),
        ];
        for (method, present) in methods {
            if present {
                out.push(format!("{method} {path}"));
            }
        }
    }
    out.sort();
    out
}

/// Adds the bearer scheme, the standard error responses and the security
/// requirement of every signed-in route.
fn finish_openapi(mut doc: OpenApi) -> OpenApi {
    use utoipa::openapi::response::ResponseBuilder;
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{ContentBuilder, Ref};

    doc.info.title = "reliefhub API".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.contact = None;
    doc.info.license = Some(utoipa::openapi::License::new("Apache-2.0"));
    doc.info.description = Some(
        "The hub's JSON API. Sign in with POST /api/login and send `Authorization: Bearer <token>`. \
         Every mutating request (except login and logout) needs an `Idempotency-Key` header."
            .into(),
    );
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    let error_ref = || {
        ContentBuilder::new()
            .schema(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody"))))
            .build()
    };
    let standard = [
        (
            "400",
            "Malformed request (bad JSON, missing Idempotency-Key)",
        ),
        ("401", "Not signed in, or the token is not valid"),
        (
            "403",
            "The user's role may not do this, or not for this object",
        ),
        ("404", "No such object (or not visible to this user)"),
        (
            "409",
            "Refused for the hub's current data (a code it does not know, a record that exists \
             already, a status that does not allow it, not enough stock or room; every problem \
             listed), an Idempotency-Key used for another request, or one still running",
        ),
        (
            "422",
            "The request itself breaks a rule, whatever the hub's data (every problem listed)",
        ),
        ("500", "Internal error (logged under the id in the body)"),
    ];
    for (path, item) in doc.paths.paths.iter_mut() {
        let public = path == "/api/health" || path == "/api/login";
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            for (status, description) in standard {
                if public && matches!(status, "403" | "404" | "409") {
                    continue;
                }
                if path == "/api/health" && status != "500" {
                    continue;
                }
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| {
                        RefOr::T(
                            ResponseBuilder::new()
                                .description(description)
                                .content("application/json", error_ref())
                                .build(),
                        )
                    });
            }
            if !public {
                op.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
            }
        }
    }
    declare_constraints(doc)
}

/// The text every request body's strings must match: no control character
/// but tab and line feed ([`error::allowed_char`]).
const TEXT_PATTERN: &str = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$";

/// Declares in the document what the server enforces on every request:
/// the Idempotency-Key's length and characters, the 405 of undeclared
/// methods, and on request bodies unknown fields refused and texts of at
/// most [`error::TEXT_LEN_MAX`] characters without control characters.
fn declare_constraints(doc: OpenApi) -> OpenApi {
    use serde_json::{json, Value};
    let Ok(mut value) = serde_json::to_value(&doc) else {
        return doc;
    };
    fn constrain_schema(schema: &mut Value) {
        let Some(object) = schema.as_object_mut() else {
            return;
        };
        let is_string = match object.get("type") {
            Some(Value::String(t)) => t == "string",
            Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
            _ => false,
        };
        if is_string && !object.contains_key("enum") {
            object
                .entry("maxLength")
                .or_insert(json!(error::TEXT_LEN_MAX));
            if !object.contains_key("format") {
                object.entry("pattern").or_insert(json!(TEXT_PATTERN));
            }
        }
        if object.contains_key("properties") {
            object.entry("additionalProperties").or_insert(json!(false));
        }
        for key in ["properties"] {
            if let Some(Value::Object(props)) = object.get_mut(key) {
                for prop in props.values_mut() {
                    constrain_schema(prop);
                }
            }
        }
        for key in ["items", "additionalProperties"] {
            if let Some(inner @ Value::Object(_)) = object.get_mut(key) {
                constrain_schema(inner);
            }
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(Value::Array(options)) = object.get_mut(key) {
                for option in options {
                    constrain_schema(option);
                }
            }
        }
    }
    // The schemas request bodies name.
    let mut inputs = std::collections::BTreeSet::new();
    if let Some(Value::Object(paths)) = value.get("paths") {
        for item in paths.values() {
            let Some(item) = item.as_object() else {
                continue;
            };
            for op in item.values() {
                let content = &op["requestBody"]["content"]["application/json"]["schema"];
                if let Some(Value::String(r)) = content.get("$ref") {
                    if let Some(name) = r.strip_prefix("#/components/schemas/") {
                        inputs.insert(name.to_string());
                    }
                }
            }
        }
    }
    // And the schemas those name, transitively.
    let schemas = value["components"]["schemas"].clone();
    let mut todo: Vec<String> = inputs.iter().cloned().collect();
    while let Some(name) = todo.pop() {
        let text = schemas[&name].to_string();
        for piece in text.split("#/components/schemas/").skip(1) {
            let referenced: String = piece.chars().take_while(|c| *c != '"').collect();
            if inputs.insert(referenced.clone()) {
                todo.push(referenced);
            }
        }
    }
    if let Some(Value::Object(components)) = value["components"].get_mut("schemas") {
        for name in &inputs {
            if let Some(schema) = components.get_mut(name) {
                constrain_schema(schema);
            }
        }
    }
    if let Some(Value::Object(paths)) = value.get_mut("paths") {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for op in item.values_mut() {
                let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
                    continue;
                };
                for param in params {
                    if param["name"] == "Idempotency-Key" && param["in"] == "header" {
                        param["required"] = json!(true);
                        param["schema"] = json!({
                            "type": "string",
                            "minLength": 1,
                            "maxLength": idempotency::KEY_LEN_MAX,
                            "pattern": "^[!-~]+$",
                        });
                    }
                }
            }
        }
    }
    serde_json::from_value(value).unwrap_or(doc)
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Shared,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if state.hub_key().is_some() {
        tokio::spawn(publish_heads(Arc::downgrade(&state)));
    }
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// How often the server signs and keeps a tree head when the log grew.
pub const HEAD_INTERVAL: Duration = Duration::from_secs(600);

/// Publishes a signed tree head every [`HEAD_INTERVAL`] when the log grew
/// since the last one, until the server stops.
async fn publish_heads(state: std::sync::Weak<AppState>) {
    let mut published = None;
    loop {
        let Some(strong) = state.upgrade() else {
            return;
        };
        if let Some(key) = strong.hub_key() {
            let last = published;
            let result = strong
                .pool
                .run(move |ops| {
                    ops.set_actor("server");
                    let size = ops.store().log_size()?;
                    if Some(size) == last {
                        return Ok(None);
                    }
                    Ok(Some(
                        ops.publish_head(&key, reliefhub_store::now_unix_ms())?,
                    ))
                })
                .await;
            match result {
                Ok(Some(head)) => {
                    tracing::info!(tree_size = head.tree_size, root = %head.root_hash, "published a signed tree head");
                    published = Some(head.tree_size);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("could not publish a tree head: {e:?}"),
            }
        }
        drop(strong);
        tokio::time::sleep(HEAD_INTERVAL).await;
    }
}

/// Completes on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
