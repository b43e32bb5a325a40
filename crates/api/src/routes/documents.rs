//! Printed documents as PDF: `GET …/waybill.pdf`, `…/loading-list.pdf`,
//! `…/pod.pdf`, `…/grn.pdf` and a donor's `…/statement.pdf`, each with
//! `?lang=en|fr|ar|ru`. The PDF is made by the server (no browser needed).

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use reliefhub_print::documents::{self, Kind};
use reliefhub_print::{Lang, PrintError};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, Query};
use crate::{Principal, Role, Shared};

#[derive(Deserialize, IntoParams)]
pub struct LangQuery {
    /// en (default), fr, ar or ru.
    #[param(pattern = "^(en|fr|ar|ru)?$")]
    pub lang: Option<String>,
}

fn lang_of(q: &LangQuery) -> Result<Lang, ApiError> {
    match q.lang.as_deref() {
        None | Some("") => Ok(Lang::En),
        Some(code) => Lang::parse(code).ok_or_else(|| {
            ApiError::validation(vec![crate::Problem::new(
                reliefhub_ops::Code::OutOfRange,
                "lang",
                code,
                "must be en, fr, ar or ru",
            )])
        }),
    }
}

fn print_error(e: PrintError) -> ApiError {
    match e {
        PrintError::Ops(e) => e.into(),
        other => ApiError::internal(other),
    }
}

fn pdf_response(kind: Kind, code: &str, bytes: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let safe: String = code
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}-{}.pdf\"",
        kind.code(),
        safe
    )) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    r
}

const HUB_READERS: [Role; 3] = [Role::Admin, Role::Operator, Role::Auditor];

/// A departure's document: the hub's staff and auditors, or a recipient for
/// a departure to their country.
async fn departure_pdf(
    state: Shared,
    user: Principal,
    kind: Kind,
    code: String,
    q: LangQuery,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin, Role::Operator, Role::Auditor, Role::Recipient])?;
    let lang = lang_of(&q)?;
    let name = code.clone();
    let bytes = state
        .pool
        .run(move |ops| {
            let dep = ops.departure(&code)?;
            if let Some(country) = user.country_scope() {
                if dep.departure.destination.get(..2) != Some(country) {
                    return Err(ApiError::not_found("departure", &code));
                }
            }
            documents::pdf(ops, kind, &code, lang).map_err(print_error)
        })
        .await?;
    Ok(pdf_response(kind, &name, bytes))
}

/// The waybill of a departure, with a QR code naming it and the document's hash.
#[utoipa::path(get, path = "/api/departures/{code}/waybill.pdf", tag = "documents",
    params(("code" = String, Path), LangQuery),
    responses((status = 200, description = "The waybill (PDF)", content_type = "application/pdf")))]
pub async fn waybill(
    State(state): State<Shared>,
    user: Principal,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    departure_pdf(state, user, Kind::Waybill, code, q).await
}

/// The loading list of a departure.
#[utoipa::path(get, path = "/api/departures/{code}/loading-list.pdf", tag = "documents",
    params(("code" = String, Path), LangQuery),
    responses((status = 200, description = "The loading list (PDF)", content_type = "application/pdf")))]
pub async fn loading_list(
    State(state): State<Shared>,
    user: Principal,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    departure_pdf(state, user, Kind::LoadingList, code, q).await
}

/// The proof of delivery of a delivered departure.
#[utoipa::path(get, path = "/api/departures/{code}/pod.pdf", tag = "documents",
    params(("code" = String, Path), LangQuery),
    responses((status = 200, description = "The proof of delivery (PDF)", content_type = "application/pdf")))]
pub async fn pod(
    State(state): State<Shared>,
    user: Principal,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    departure_pdf(state, user, Kind::Pod, code, q).await
}

/// The goods-received note of an inbound leg (the hub's staff and auditors).
#[utoipa::path(get, path = "/api/legs/{code}/grn.pdf", tag = "documents",
    params(("code" = String, Path), LangQuery),
    responses((status = 200, description = "The goods-received note (PDF)", content_type = "application/pdf")))]
pub async fn grn(
    State(state): State<Shared>,
    user: Principal,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    user.require(&HUB_READERS)?;
    let lang = lang_of(&q)?;
    let name = code.clone();
    let bytes = state
        .pool
        .run(move |ops| documents::pdf(ops, Kind::Grn, &code, lang).map_err(print_error))
        .await?;
    Ok(pdf_response(Kind::Grn, &name, bytes))
}

/// A donor's statement (the hub's staff and auditors, or the donor).
#[utoipa::path(get, path = "/api/reports/donor-statement/{donor}/statement.pdf", tag = "documents",
    params(("donor" = String, Path), LangQuery),
    responses((status = 200, description = "The donor statement (PDF)", content_type = "application/pdf")))]
pub async fn statement(
    State(state): State<Shared>,
    user: Principal,
    Path(donor): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    user.require(&[Role::Admin, Role::Operator, Role::Auditor, Role::Donor])?;
    if let Some(own) = user.donor_scope() {
        if own != donor {
            return Err(ApiError::not_found("donor", &donor));
        }
    }
    let lang = lang_of(&q)?;
    let name = donor.clone();
    let bytes = state
        .pool
        .run(move |ops| documents::pdf(ops, Kind::Statement, &donor, lang).map_err(print_error))
        .await?;
    Ok(pdf_response(Kind::Statement, &name, bytes))
}
