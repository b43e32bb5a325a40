//! The operation log over HTTP: signed tree heads (published on demand and
//! on a schedule, and kept), consistency proofs between two sizes, donor
//! proofs, and the audit log listing.

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use reliefhub_ops::trust::{ConsistencyProof, TreeHead};
use reliefhub_store::{now_unix_ms, OperationRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Role;
use crate::error::{ApiError, Query};
use crate::{Principal, Shared};

/// A signed tree head (`reliefhub-tree-head/1`).
#[derive(Serialize, ToSchema)]
pub struct TreeHeadJson {
    pub format: String,
    pub tree_size: u64,
    pub root_hash: String,
    pub timestamp_ms: i64,
    pub public_key: String,
    pub signature: String,
}

impl From<TreeHead> for TreeHeadJson {
    fn from(h: TreeHead) -> TreeHeadJson {
        TreeHeadJson {
            format: h.format,
            tree_size: h.tree_size,
            root_hash: h.root_hash,
            timestamp_ms: h.timestamp_ms,
            public_key: h.public_key,
            signature: h.signature,
        }
    }
}

fn no_key() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "no_signing_key",
        "the server has no signing key: run `reliefhub init`, or start it with --key-file",
    )
}

/// Signs the log's current head now, keeps it, and returns it (every
/// signed-in user; the head reveals only the log's size and root).
#[utoipa::path(get, path = "/api/log/head", tag = "log",
    responses((status = 200, description = "A head signed now", body = TreeHeadJson)))]
pub async fn head(State(state): State<Shared>, user: Principal) -> Result<Response, ApiError> {
    let _ = user;
    let key = state.hub_key().ok_or_else(no_key)?;
    let head = state
        .pool
        .run(move |ops| Ok(ops.publish_head(&key, now_unix_ms())?))
        .await?;
    Ok(axum::Json(TreeHeadJson::from(head)).into_response())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    /// The smaller tree size (a head you kept).
    pub from: u64,
    /// The larger tree size (at most the log's size; otherwise 404).
    pub to: u64,
}

#[derive(Serialize, ToSchema)]
pub struct ConsistencyJson {
    pub from_size: u64,
    pub to_size: u64,
    pub from_root: String,
    pub to_root: String,
    /// RFC 6962 consistency proof, hex SHA-256 hashes.
    pub proof: Vec<String>,
}

impl From<ConsistencyProof> for ConsistencyJson {
    fn from(p: ConsistencyProof) -> ConsistencyJson {
        ConsistencyJson {
            from_size: p.from_size,
            to_size: p.to_size,
            from_root: p.from_root,
            to_root: p.to_root,
            proof: p.proof,
        }
    }
}

/// The consistency proof between the log's first `from` and `to`
/// operations (every signed-in user).
#[utoipa::path(get, path = "/api/log/consistency", tag = "log", params(ConsistencyQuery),
    responses((status = 200, description = "The proof", body = ConsistencyJson)))]
pub async fn consistency(
    State(state): State<Shared>,
    user: Principal,
    Query(query): Query<ConsistencyQuery>,
) -> Result<Response, ApiError> {
    let _ = user;
    let proof = state
        .pool
        .run(move |ops| Ok(ops.consistency(query.from, query.to)?))
        .await?;
    Ok(axum::Json(ConsistencyJson::from(proof)).into_response())
}

/// A donor's proof (`reliefhub-proof/2`): a head signed now, every
/// operation that moved the donor's lots with its audit path, the donor's
/// own entries of each with their paths inside the operation (no other
/// donor's entries), and the donor's statement; check it with `reliefhub
/// proof verify`. Staff and auditors may fetch any donor's; a donor only
/// their own (another code answers 404, as an unknown one does).
#[utoipa::path(get, path = "/api/donors/{code}/proof", tag = "log", params(("code" = String, Path)),
    responses((status = 200, description = "The proof file", body = Object),
        (status = 404, description = "No such donor (or not the caller's own)"),
        (status = 409, description = "The proof would show another donor's entries (operations recorded before leaf format 2)")))]
pub async fn donor_proof(
    State(state): State<Shared>,
    user: Principal,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin, Role::Operator, Role::Auditor, Role::Donor])?;
    let own_only = user.role == Role::Donor;
    if own_only && user.donor_scope() != Some(code.as_str()) {
        return Err(ApiError::not_found("donor", &code));
    }
    let key = state.hub_key().ok_or_else(no_key)?;
    let text = state
        .pool
        .run(move |ops| {
            let proof = ops.donor_proof(&key, &code, now_unix_ms())?;
            if own_only && proof.donors_shown().iter().any(|d| *d != code) {
                return Err(ApiError::conflict(
                    "proof_shows_others",
                    "this proof includes operations recorded before the log's format 2 that moved other donors' goods too; the hub's staff can give it to you after review",
                ));
            }
            Ok(proof.to_canonical())
        })
        .await?;
    Ok((
        StatusCode::OK,
        [
            (axum::http::header::CONTENT_TYPE, "application/json"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"proof.json\"",
            ),
        ],
        text,
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// Only operations on or after this date (YYYY-MM-DD, UTC).
    #[param(format = Date)]
    pub since: Option<String>,
    pub actor: Option<String>,
    pub kind: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DocumentRef {
    pub table: String,
    pub key: String,
}

/// One operation of the audit log.
#[derive(Serialize, ToSchema)]
pub struct OperationJson {
    pub leaf_index: u64,
    pub recorded_at_unix_ms: i64,
    pub actor: String,
    pub kind: String,
    pub key: String,
    pub batch_id: Option<i64>,
    pub transfer_count: i64,
    pub documents: Vec<DocumentRef>,
}

fn to_json(op: &OperationRow) -> OperationJson {
    OperationJson {
        leaf_index: op.leaf_index,
        recorded_at_unix_ms: op.recorded_at_unix_ms,
        actor: op.actor.clone(),
        kind: op.kind.clone(),
        key: op.key.clone(),
        batch_id: op.batch.as_ref().map(|b| b.batch_id),
        transfer_count: op.batch.as_ref().map_or(0, |b| b.transfer_count),
        documents: op
            .documents
            .iter()
            .map(|d| DocumentRef {
                table: d.table.clone(),
                key: d.key.clone(),
            })
            .collect(),
    }
}

/// The audit log: operations with time, actor, kind, key, documents and
/// transfer count, newest last (admin, operator and auditor: all; a donor:
/// the operations that moved their goods; a recipient: those that wrote
/// their country's requests and departures).
#[utoipa::path(get, path = "/api/log", tag = "log", params(LogQuery),
    responses((status = 200, description = "The operations", body = [OperationJson])))]
pub async fn list(
    State(state): State<Shared>,
    user: Principal,
    Query(query): Query<LogQuery>,
) -> Result<Response, ApiError> {
    let since_ms = match &query.since {
        None => None,
        Some(text) => {
            let date = reliefhub_core::domain::parse_date(text).ok_or_else(|| {
                ApiError::bad_request(format!("since `{text}` must be a date YYYY-MM-DD"))
            })?;
            Some(date.midnight().assume_utc().unix_timestamp() * 1000)
        }
    };
    let rows = state
        .pool
        .run(move |ops| {
            let rows: Vec<OperationRow> = if let Some(donor) = user.donor_scope() {
                ops.store().log_operations_of_donor(donor).map_err(reliefhub_ops::OpsError::from)?
            } else if let Some(country) = user.country_scope() {
                let country = country.to_string();
                let codes: HashSet<(String, String)> = ops.store().read(|conn| {
                    let mut codes = HashSet::new();
                    for (table, sql) in [
                        ("requests", "SELECT r.code FROM requests r JOIN destinations d ON d.locode = r.destination WHERE d.country = $1"),
                        ("departures", "SELECT x.code FROM departures x JOIN destinations d ON d.locode = x.destination WHERE d.country = $1"),
                    ] {
                        for row in conn.query(sql, &[country.as_str().into()])? {
                            codes.insert((table.to_string(), row[0].text()?));
                        }
                    }
                    Ok(codes)
                }).map_err(reliefhub_ops::OpsError::from)?;
                let size = ops.store().log_size().map_err(reliefhub_ops::OpsError::from)?;
                ops.store()
                    .log_operations(0, size)
                    .map_err(reliefhub_ops::OpsError::from)?
                    .into_iter()
                    .filter(|op| {
                        op.documents.iter().any(|d| {
                            let table = match d.table.as_str() {
                                "requests" => "requests",
                                "departures" | "loading_lines" | "deliveries" | "delivery_lines" => "departures",
                                _ => return false,
                            };
                            codes.contains(&(table.to_string(), d.key.clone()))
                        }) && op.documents.iter().all(|d| {
                            matches!(
                                d.table.as_str(),
                                "requests" | "departures" | "loading_lines" | "deliveries" | "delivery_lines" | "op_requests"
                            )
                        })
                    })
                    .collect()
            } else {
                let size = ops.store().log_size().map_err(reliefhub_ops::OpsError::from)?;
                ops.store().log_operations(0, size).map_err(reliefhub_ops::OpsError::from)?
            };
            Ok(rows
                .iter()
                .filter(|op| since_ms.map_or(true, |since| op.recorded_at_unix_ms >= since))
                .filter(|op| query.actor.as_deref().map_or(true, |a| op.actor == a))
                .filter(|op| query.kind.as_deref().map_or(true, |k| op.kind == k))
                .map(to_json)
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(axum::Json(rows).into_response())
}
