//! The front door of `/api/`: the route check, body limits and
//! `Idempotency-Key` on every mutating request, scoped per user.
//!
//! In order: a path no route serves answers 404 and a method its route does
//! not declare answers 405 (with `Allow`), both in the JSON error shape and
//! before anything is read or stored; a request that changes something is
//! signed in against the database itself (not the token cache, so a user
//! disabled a moment ago by any process cannot write); an auditor (who
//! changes nothing) gets 403 and a route's body limit is checked before the
//! body is read (16 MiB for a manifest, which only staff may import, 1 MiB
//! for everything else).
//!
//! The first request under a (user, key) runs and its answer (status and
//! body) is stored with a digest of the request (method, path, body). A
//! replay with the same digest gets the stored answer and has no effect; a
//! different request under a used key gets 409 (the request is well formed;
//! it conflicts with what the key already stands for); a request whose key
//! is still running in this process gets 409 too.
//!
//! Stock moves are idempotent in the ledger itself: the handler passes the
//! operations layer the key `api:<user id>:<Idempotency-Key>`, so even if
//! the stored answer were lost (a crash between the two commits), a retry
//! replays the ledger batch and writes nothing twice. Document-only
//! operations (a leg, a request, a departure, a user) rely on the stored
//! answer and on their codes being unique.

use axum::body::{to_bytes, Body};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use reliefhub_store::now_unix_ms;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, Problem};
use crate::{json_bytes, Shared};

/// The largest request body accepted (a manifest of about 50,000 lines).
pub const BODY_LIMIT_BYTES: usize = 16 * 1024 * 1024;
/// The largest body of any other request.
pub const SMALL_BODY_LIMIT_BYTES: usize = 1024 * 1024;
/// The longest Idempotency-Key (visible ASCII characters).
pub const KEY_LEN_MAX: usize = 128;

/// The routes of the OpenAPI document with their methods.
struct RouteTable {
    paths: matchit::Router<Vec<Method>>,
}

fn route_table() -> &'static RouteTable {
    static TABLE: std::sync::OnceLock<RouteTable> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut paths = matchit::Router::new();
        let doc = crate::openapi();
        for (path, item) in &doc.paths.paths {
            let methods = [
                (Method::GET, item.get.is_some()),
                (Method::POST, item.post.is_some()),
                (Method::PUT, item.put.is_some()),
                (Method::DELETE, item.delete.is_some()),
                (Method::PATCH, item.patch.is_some()),
            ]
            .into_iter()
            .filter_map(|(m, present)| present.then_some(m))
            .collect::<Vec<_>>();
            if let Err(e) = paths.insert(path.clone(), methods) {
                tracing::error!("route table: {path}: {e}");
            }
        }
        for path in [
            "/api/openapi.json",
            "/api/docs",
            "/api/docs/",
            "/api/docs/{*rest}",
        ] {
            let _ = paths.insert(path, vec![Method::GET]);
        }
        RouteTable { paths }
    })
}

/// What the route table says of a request.
enum Routed {
    Found,
    NoPath,
    NoMethod(Vec<Method>),
}

fn route(method: &Method, path: &str) -> Routed {
    match route_table().paths.at(path) {
        Err(_) => Routed::NoPath,
        Ok(found) => {
            let allowed = found.value;
            let ok = allowed.contains(method)
                || (*method == Method::HEAD && allowed.contains(&Method::GET));
            if ok {
                Routed::Found
            } else {
                Routed::NoMethod(allowed.clone())
            }
        }
    }
}

fn is_manifest(path: &str) -> bool {
    path.starts_with("/api/legs/") && path.ends_with("/manifest")
}

fn body_limit(path: &str) -> usize {
    if is_manifest(path) {
        BODY_LIMIT_BYTES
    } else {
        SMALL_BODY_LIMIT_BYTES
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the body is larger than this route's limit of {limit} bytes"),
    )
}

fn declared_length(parts: &Parts) -> Option<usize> {
    parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}

/// The key the operations layer gets for a stock-moving request.
#[derive(Debug, Clone)]
pub struct OpKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for OpKey {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<OpKey>()
            .cloned()
            .ok_or_else(|| ApiError::bad_request("the Idempotency-Key header is required"))
    }
}

fn exempt(path: &str) -> bool {
    path == "/api/login" || path == "/api/logout"
}

/// 1 to [`KEY_LEN_MAX`] visible ASCII characters (`!` to `~`).
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= KEY_LEN_MAX && key.bytes().all(|b| b.is_ascii_graphic())
}

struct InFlight<'a> {
    state: &'a Shared,
    key: (i64, String),
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut set) = self.state.in_flight.lock() {
            set.remove(&self.key);
        }
    }
}

pub async fn middleware(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if !path.starts_with("/api/") && path != "/api" {
        return next.run(request).await;
    }
    match route(request.method(), &path) {
        Routed::Found => {}
        Routed::NoPath => {
            return ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no route `{path}`; see /api/openapi.json"),
            )
            .into_response()
        }
        Routed::NoMethod(allowed) => {
            let allow = allowed
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            let mut response = ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!(
                    "`{path}` does not take {}; it takes {allow}",
                    request.method()
                ),
            )
            .into_response();
            if let Ok(value) = HeaderValue::from_str(&allow) {
                response
                    .headers_mut()
                    .insert(axum::http::header::ALLOW, value);
            }
            return response;
        }
    }
    let mutating = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if !mutating {
        return next.run(request).await;
    }
    if exempt(&path) {
        // Sign-in and sign-out: small bodies only.
        let (parts, body) = request.into_parts();
        if declared_length(&parts).is_some_and(|n| n > SMALL_BODY_LIMIT_BYTES) {
            return too_large(SMALL_BODY_LIMIT_BYTES).into_response();
        }
        return match to_bytes(body, SMALL_BODY_LIMIT_BYTES).await {
            Ok(bytes) => {
                next.run(Request::from_parts(parts, Body::from(bytes)))
                    .await
            }
            Err(_) => too_large(SMALL_BODY_LIMIT_BYTES).into_response(),
        };
    }
    match guarded(state, request, next).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn guarded(state: Shared, request: Request, next: Next) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let principal = state.principal_now(&parts.headers).await?;
    let Some(principal) = principal else {
        // Not signed in: the handler answers 401 (before reading the body).
        return Ok(next.run(Request::from_parts(parts, body)).await);
    };
    let path = parts.uri.path().to_string();
    if principal.role == crate::Role::Auditor {
        return Err(ApiError::forbidden(
            "the auditor role may not change anything",
        ));
    }
    if is_manifest(&path) && !crate::STAFF.contains(&principal.role) {
        return Err(ApiError::forbidden(format!(
            "the {} role may not import manifests",
            principal.role.code()
        )));
    }
    let limit = body_limit(&path);
    if declared_length(&parts).is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let key = match parts.headers.get("idempotency-key").map(|v| v.to_str()) {
        None => {
            return Err(ApiError::bad_request(
                "the Idempotency-Key header is required on every mutating request",
            ))
        }
        Some(Ok(k)) if valid_key(k) => k.to_string(),
        Some(_) => {
            return Err(ApiError::validation(vec![Problem::new(
                reliefhub_ops::Code::Required,
                "Idempotency-Key",
                "",
                format!("must be 1 to {KEY_LEN_MAX} visible ASCII characters"),
            )]))
        }
    };
    let bytes = to_bytes(body, limit).await.map_err(|_| too_large(limit))?;
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(
        parts
            .uri
            .path_and_query()
            .map_or("", |p| p.as_str())
            .as_bytes(),
    );
    hasher.update([0]);
    hasher.update(&bytes);
    let digest = hex::encode(hasher.finalize());
    let user_id = principal.user_id;

    // Claim the key in this process first, then look for a stored answer.
    let claim = (user_id, key.clone());
    {
        let mut set = state
            .in_flight
            .lock()
            .map_err(|_| ApiError::internal("in-flight set poisoned"))?;
        if !set.insert(claim.clone()) {
            return Err(ApiError::conflict(
                "in_progress",
                format!("a request with Idempotency-Key `{key}` is still running; retry when it has finished"),
            ));
        }
    }
    let _guard = InFlight {
        state: &state,
        key: claim,
    };
    let lookup_key = key.clone();
    let stored = state
        .pool
        .run(move |ops| {
            let rows = ops.store().read(|conn| {
                conn.query(
                    "SELECT request_digest, status, body FROM api_idempotency WHERE user_id = $1 AND idem_key = $2",
                    &[user_id.into(), lookup_key.as_str().into()],
                )
            })?;
            Ok(match rows.first() {
                None => None,
                Some(r) => Some((r[0].text()?, r[1].int()?, r[2].text()?)),
            })
        })
        .await?;
    if let Some((stored_digest, status, body)) = stored {
        if stored_digest != digest {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_reused",
                format!("Idempotency-Key `{key}` was already used for a different request; use a new key for a new operation"),
            ));
        }
        let status = u16::try_from(status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::OK);
        let mut response = json_bytes(status, body.into());
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        return Ok(response);
    }

    parts.extensions.insert(principal);
    parts
        .extensions
        .insert(OpKey(format!("api:{user_id}:{key}")));
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status();
    if status.is_success() {
        state.bump();
    }
    if status.is_server_error() {
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, usize::MAX)
        .await
        .map_err(|e| ApiError::internal(format!("reading a response: {e}")))?;
    let text = String::from_utf8_lossy(&body).into_owned();
    let now = now_unix_ms();
    let store_key = key.clone();
    let store_digest = digest.clone();
    let stored_text = text.clone();
    state
        .pool
        .run(move |ops| {
            ops.store().write(|conn| {
                let exists = conn.query(
                    "SELECT COUNT(*) FROM api_idempotency WHERE user_id = $1 AND idem_key = $2",
                    &[user_id.into(), store_key.as_str().into()],
                )?[0][0]
                    .int()?;
                if exists == 0 {
                    conn.execute(
                        "INSERT INTO api_idempotency (user_id, idem_key, request_digest, status, body, recorded_at_unix_ms) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                        &[
                            user_id.into(),
                            store_key.as_str().into(),
                            store_digest.as_str().into(),
                            i64::from(status.as_u16()).into(),
                            stored_text.as_str().into(),
                            now.into(),
                        ],
                    )?;
                }
                Ok(())
            })?;
            Ok(())
        })
        .await?;
    Ok(Response::from_parts(parts, Body::from(text)))
}
