//! One error type for every route, mapped to HTTP statuses and one JSON
//! body shape. Internal errors are logged with an id; the client sees only
//! the id, never the cause.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;

use reliefhub_ops::{Code, OpsError};
use reliefhub_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// One problem with the input: the rule's stable code, which field, what
/// value, the rule in English, and the figures it names (so the dashboard
/// can say it in the user's language). The operations layer makes them;
/// the API passes them on as they are.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Problem {
    /// A stable snake_case code per rule (`delivery_before_departure`,
    /// `earmark_not_a_country`); the list is in ARCHITECTURE.md.
    pub code: String,
    /// The field, as in the request body: `quantity`, `lines[2].lot_id`.
    pub field: String,
    pub value: String,
    /// The rule, in English.
    pub rule: String,
    /// The figures the rule names, by name (`available`, `needed`).
    pub params: BTreeMap<String, String>,
}

impl Problem {
    pub fn new(
        code: Code,
        field: impl Into<String>,
        value: impl ToString,
        rule: impl Into<String>,
    ) -> Problem {
        Problem::from(reliefhub_ops::Problem::new(code, field, value, rule))
    }
}

impl From<reliefhub_ops::Problem> for Problem {
    fn from(problem: reliefhub_ops::Problem) -> Problem {
        Problem {
            code: problem.code.as_str().to_string(),
            field: problem.field,
            value: problem.value,
            rule: problem.rule,
            params: problem
                .params
                .into_iter()
                .map(|(name, value)| (name.to_string(), value))
                .collect(),
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The HTTP status, repeated.
    pub status: u16,
    /// A stable machine-readable code: `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `validation`, `refused`, `bad_request`,
    /// `idempotency_key_reused`, `in_progress`, `too_many_requests`, `internal`.
    pub code: String,
    pub message: String,
    /// Every problem found with the input (empty when not about input).
    pub problems: Vec<Problem>,
    /// For internal errors: the id under which the cause was logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// Everything a route can fail with.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub problems: Vec<Problem>,
    pub id: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            problems: Vec::new(),
            id: None,
        }
    }
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in first: send `Authorization: Bearer <token>` with a token from POST /api/login",
        )
    }
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_found(what: &str, code: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} `{code}` does not exist"),
        )
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn validation(problems: Vec<Problem>) -> ApiError {
        let message = format!(
            "the request has {} problem{}; nothing was written",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
        // Refused only for the hub's data: 409, as a rule's refusal.
        if !problems.is_empty() && problems.iter().all(|p| about_state(&p.code)) {
            return ApiError {
                problems,
                ..ApiError::new(StatusCode::CONFLICT, "refused", message)
            };
        }
        ApiError {
            problems,
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", message)
        }
    }
    /// An internal error: logged with a fresh id, which is all the client sees.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        let id = uuid::Uuid::new_v4().to_string();
        tracing::error!(error_id = %id, "internal error: {cause}");
        ApiError {
            id: Some(id.clone()),
            ..ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("internal error; it was logged under id {id}"),
            )
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                status: self.status.as_u16(),
                code: self.code.to_string(),
                message: self.message.clone(),
                problems: self.problems.clone(),
                id: self.id.clone(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

/// Collects problems; `finish` fails with all of them at once.
#[derive(Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(
        &mut self,
        code: Code,
        field: impl Into<String>,
        value: impl ToString,
        rule: impl Into<String>,
    ) {
        self.0.push(Problem::new(code, field, value, rule));
    }
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
    /// A value read by the operations layer's readers
    /// (`reliefhub_ops::parse`), or its problem kept.
    pub fn read<T>(&mut self, result: Result<T, reliefhub_ops::Problem>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(problem) => {
                self.0.push(problem.into());
                None
            }
        }
    }
    /// A `YYYY-MM-DD` date.
    pub fn date(&mut self, field: &str, text: &str) -> Option<time::Date> {
        self.read(reliefhub_ops::parse::date(field, text))
    }
}

/// The caller's own Idempotency-Key out of the ledger's key
/// (`api:<user>:<key>`): the internal form is not shown.
fn shown_key(key: &str) -> &str {
    key.strip_prefix("api:")
        .and_then(|rest| rest.split_once(':'))
        .map_or(key, |(_, own)| own)
}

impl From<OpsError> for ApiError {
    fn from(error: OpsError) -> ApiError {
        let problems: Vec<Problem> = error.problems().into_iter().map(Problem::from).collect();
        match error {
            OpsError::NotFound { what, code } => ApiError::not_found(what, &code),
            OpsError::Refused(_) => {
                let status = if problems.iter().all(|p| about_state(&p.code)) {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                ApiError {
                    problems,
                    ..ApiError::new(status, "refused", "refused, nothing was written")
                }
            }
            OpsError::Input(_) => ApiError::validation(problems),
            OpsError::KeyReused(key) => ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_reused",
                format!("idempotency key `{}` was already used for a different request; nothing was written", shown_key(&key)),
            ),
            OpsError::Store(store) => store.into(),
            OpsError::Io { file, message } => ApiError::internal(format!("{file}: {message}")),
        }
    }
}

/// Whether a rule refuses a request for the hub's current data rather than
/// for the request itself: a code the hub does not know (an item, a lot, a
/// country of its reference list), a record that exists already, a status
/// that does not allow the operation, not enough stock or room, a date
/// after the hub's today. A refusal made only of these answers 409; one
/// with any other problem answers 422 (the request is wrong whatever the
/// state, and the OpenAPI document declares most of these rules).
pub fn about_state(code: &str) -> bool {
    use Code::*;
    let Some(code) = Code::parse(code) else {
        return false;
    };
    matches!(
        code,
        UnknownItem
            | UnknownDonor
            | UnknownOrganisation
            | UnknownNode
            | UnknownDestination
            | UnknownLot
            | UnknownRequest
            | UnknownLine
            | EarmarkNotACountry
            | CountryUnknown
            | OriginUnknown
            | DuplicateCode
            | DuplicateGtin
            | PledgeCodeScope
            | AlreadyDone
            | WrongStatus
            | DateInFuture
            | DateTooFarAhead
            | CorrectionOverEntry
            | DeliveryBeforeDeparture
            | ArrivalBeforeDispatch
            | ModeNotServed
            | NoSeaport
            | NoAirport
            | ExpiryRequired
            | ShelfLifeTooShort
            | NotEnoughStock
            | OverPayload
            | OverVolume
            | OverColdVolume
            | DangerousGoodsRefused
            | EarmarkExcludesDestination
            | RequestMismatch
            | RequestCancelled
            | CountedOverLoaded
            | LedgerRule
    )
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::Rejected(_) => OpsError::from(error).into(),
            StoreError::KeyReused { key, .. } => ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_reused",
                format!("idempotency key `{}` was already used for a different operation; nothing was written", shown_key(&key)),
            ),
            other => ApiError::internal(other),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        match rejection {
            JsonRejection::JsonDataError(e) => {
                let text = e.body_text();
                let field = text
                    .split(": ")
                    .nth(1)
                    .and_then(|s| s.split(' ').next())
                    .unwrap_or("body")
                    .to_string();
                ApiError::validation(vec![Problem::new(Code::BadBody, field, "", text)])
            }
            other => ApiError::bad_request(format!(
                "the body must be a JSON document: {}",
                other.body_text()
            )),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> ApiError {
        ApiError::validation(vec![Problem::new(
            Code::BadBody,
            "query",
            "",
            rejection.body_text(),
        )])
    }
}

/// The longest text value a request body may hold, in characters.
pub const TEXT_LEN_MAX: usize = 2000;

/// A JSON body whose rejections are [`ApiError`]s. It must be a JSON object
/// whose fields are all known (the input types deny unknown fields), and no
/// text in it may be longer than [`TEXT_LEN_MAX`] characters or hold a
/// control character other than tab and line feed.
pub struct Body<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(mut value) =
            axum::Json::<serde_json::Value>::from_request(request, state).await?;
        whole_numbers(&mut value);
        if !value.is_object() {
            return Err(ApiError::validation(vec![Problem::new(
                Code::BadBody,
                "body",
                json_kind(&value),
                "must be a JSON object",
            )]));
        }
        let mut problems = Vec::new();
        check_text(&value, "", &mut problems);
        if !problems.is_empty() {
            return Err(ApiError::validation(problems));
        }
        serde_json::from_value(value).map(Body).map_err(|e| {
            let text = e.to_string();
            let field = text
                .split('`')
                .nth(1)
                .filter(|_| text.contains("field"))
                .unwrap_or("body")
                .to_string();
            ApiError::validation(vec![Problem::new(Code::BadBody, field, "", text)])
        })
    }
}

/// JSON does not tell `592` from `592.0`, and JSON Schema calls both an
/// integer: a number with no fraction is read as the whole number it is
/// (within the range of i64), so that integer fields take either spelling.
fn whole_numbers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64() {
                // 2^63 itself does not fit an i64.
                if f.fract() == 0.0
                    && f >= -9_223_372_036_854_775_808.0
                    && f < 9_223_372_036_854_775_808.0
                {
                    *value = serde_json::Value::from(f as i64);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        serde_json::Value::Object(map) => map.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Whether a character may appear in text the API stores.
pub fn allowed_char(c: char) -> bool {
    !c.is_control() || c == '\t' || c == '\n'
}

/// Every text of a JSON value (object keys too) that is too long or holds
/// a control character, named by its path (`lines[3].batch`).
fn check_text(value: &serde_json::Value, path: &str, problems: &mut Vec<Problem>) {
    let check = |text: &str, path: &str, problems: &mut Vec<Problem>| {
        let shown = || {
            let mut s: String = text.chars().take(40).filter(|c| allowed_char(*c)).collect();
            if text.chars().count() > 40 {
                s.push('…');
            }
            s
        };
        if text.chars().count() > TEXT_LEN_MAX {
            problems.push(Problem::new(
                Code::TextTooLong,
                path,
                shown(),
                format!("must be at most {TEXT_LEN_MAX} characters"),
            ));
        }
        if !text.chars().all(allowed_char) {
            problems.push(Problem::new(
                Code::ControlCharacter,
                path,
                shown(),
                "must not contain control characters (tab and line feed excepted)",
            ));
        }
    };
    match value {
        serde_json::Value::String(text) => {
            check(text, if path.is_empty() { "body" } else { path }, problems)
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_text(item, &format!("{path}[{i}]"), problems);
            }
        }
        serde_json::Value::Object(fields) => {
            for (name, item) in fields {
                let here = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                check(name, &here, problems);
                check_text(item, &here, problems);
            }
        }
        _ => {}
    }
}

/// A query string whose rejections are [`ApiError`]s.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);
