//! Requests from destinations: an item, a quantity, a priority (1 is the
//! most urgent, 5 the least), a needed-by date and grace days.
//!
//! Status is derived, never stored (except a cancellation): `met` when the
//! delivered quantity reaches the request, `partly met` when some was
//! delivered, `planned` when some is loaded on a departure not yet
//! delivered, `open` otherwise, and `cancelled`.

use time::Date;

use crate::rules::check_quantity;
use crate::{check_code, date, date_text, opt_date, Aborted, Code, Moment, Ops, OpsError, Problem};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    pub code: String,
    /// UN/LOCODE of the destination.
    pub destination: String,
    pub item: String,
    pub quantity: i64,
    pub priority: i64,
    pub needed_by: Date,
    pub grace_days: i64,
    pub requested_by: String,
}

pub use crate::status::RequestStatus;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    pub request: NewRequest,
    pub loaded: i64,
    pub delivered: i64,
    pub status: RequestStatus,
    pub cancelled_on: Option<Date>,
    /// Marked must-ship by a manager: the planner meets it in full or says
    /// why the hub cannot.
    pub must_ship: bool,
}

impl Ops {
    /// Files a request. The same request again is a no-op; the same code
    /// with other details is refused. Returns true if new.
    pub fn add_request(&mut self, request: &NewRequest, at: Moment) -> Result<bool, OpsError> {
        let refs = self.refs()?;
        let mut errors = Vec::new();
        check_code("request", &request.code, &mut errors);
        refs.check_destination("destination", &request.destination, &mut errors);
        refs.check_item("item", &request.item, &mut errors);
        check_quantity("quantity", request.quantity, &mut errors);
        if !(1..=5).contains(&request.priority) {
            errors.push(
                Problem::new(
                    Code::OutOfRange,
                    "priority",
                    request.priority,
                    "a priority is from 1 (most urgent) to 5",
                )
                .with("min", 1)
                .with("max", 5),
            );
        }
        if !(0..=365).contains(&request.grace_days) {
            errors.push(
                Problem::new(
                    Code::OutOfRange,
                    "grace_days",
                    request.grace_days,
                    "grace days are from 0 to 365",
                )
                .with("min", 0)
                .with("max", 365),
            );
        }
        if !errors.is_empty() {
            return Err(OpsError::Refused(errors));
        }
        let mut aborted = Aborted::new();
        let result = self.store.write(|conn| {
            let rows = conn.query(
                "SELECT destination, item, quantity, priority, needed_by, grace_days, requested_by FROM requests WHERE code = $1",
                &[(&request.code).into()],
            )?;
            if let Some(row) = rows.first() {
                let same = NewRequest {
                    code: request.code.clone(),
                    destination: row[0].text()?,
                    item: row[1].text()?,
                    quantity: row[2].int()?,
                    priority: row[3].int()?,
                    needed_by: date(&row[4])?,
                    grace_days: row[5].int()?,
                    requested_by: row[6].text()?,
                } == *request;
                if same {
                    return Ok(false);
                }
                return Err(aborted.abort(OpsError::refused(
                    Code::DuplicateCode,
                    "code",
                    &request.code,
                    format!("request `{}` already exists with other details; give the new request another code", request.code),
                )));
            }
            conn.execute(
                "INSERT INTO requests (code, destination, item, quantity, priority, needed_by, grace_days, requested_by, recorded_at_unix_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    (&request.code).into(),
                    (&request.destination).into(),
                    (&request.item).into(),
                    request.quantity.into(),
                    request.priority.into(),
                    date_text(request.needed_by).into(),
                    request.grace_days.into(),
                    (&request.requested_by).into(),
                    at.unix_ms.into(),
                ],
            )?;
            Ok(true)
        });
        aborted.resolve(result)
    }

    /// One request with its status, or NotFound.
    fn request_row(&mut self, code: &str) -> Result<RequestRow, OpsError> {
        self.requests()?
            .into_iter()
            .find(|r| r.request.code == code)
            .ok_or_else(|| OpsError::NotFound {
                what: "request",
                code: code.to_string(),
            })
    }

    /// Cancels a request that is not yet met.
    pub fn cancel_request(&mut self, code: &str, at: Moment) -> Result<(), OpsError> {
        let row = self.request_row(code)?;
        match row.status {
            RequestStatus::Cancelled => return Ok(()),
            RequestStatus::Met => {
                return Err(OpsError::refused(
                    Code::WrongStatus,
                    "code",
                    code,
                    format!("request `{code}` is already met: nothing is left to cancel"),
                ))
            }
            _ => {}
        }
        self.store.write(|conn| {
            conn.execute(
                "UPDATE requests SET cancelled_on = $1 WHERE code = $2",
                &[date_text(at.date).into(), code.into()],
            )
        })?;
        Ok(())
    }

    /// Marks a request must-ship (`on` true) or takes the mark off. The
    /// change is one operation of the trust log (`request.must_ship` or
    /// `request.must_ship_off`, key `request:CODE`, with its actor).
    /// Returns true when the mark changed. A cancelled or met request
    /// cannot be marked.
    pub fn set_must_ship(&mut self, code: &str, on: bool, _at: Moment) -> Result<bool, OpsError> {
        let row = self.request_row(code)?;
        if row.must_ship == on {
            return Ok(false);
        }
        if on {
            let why = match row.status {
                RequestStatus::Cancelled => Some("is cancelled"),
                RequestStatus::Met => Some("is already met"),
                _ => None,
            };
            if let Some(why) = why {
                return Err(OpsError::refused(
                    Code::WrongStatus,
                    "code",
                    code,
                    format!("request `{code}` {why}: there is nothing left to ship"),
                ));
            }
        }
        let kind = if on {
            "request.must_ship"
        } else {
            "request.must_ship_off"
        };
        self.store
            .write_named(kind, &format!("request:{code}"), |conn| {
                let mark: reliefhub_store::Value = if on {
                    1_i64.into()
                } else {
                    reliefhub_store::Value::Null
                };
                conn.execute(
                    "UPDATE requests SET must_ship = $1 WHERE code = $2",
                    &[mark, code.into()],
                )
            })?;
        Ok(true)
    }

    /// Every request with what is loaded and delivered against it.
    pub fn requests(&mut self) -> Result<Vec<RequestRow>, OpsError> {
        let rows = self.store.read(|conn| {
            conn.query(
                "SELECT r.code, r.destination, r.item, r.quantity, r.priority, r.needed_by, r.grace_days, r.requested_by, r.cancelled_on, r.must_ship, \
                 (SELECT CAST(COALESCE(SUM(l.quantity), 0) AS BIGINT) FROM loading_lines l JOIN departures d ON d.code = l.departure_code \
                  WHERE l.request_code = r.code AND l.unloaded_batch IS NULL AND d.status <> 'delivered'), \
                 (SELECT CAST(COALESCE(SUM(v.received), 0) AS BIGINT) FROM delivery_lines v WHERE v.request_code = r.code) \
                 FROM requests r ORDER BY r.priority, r.needed_by, r.code",
                &[],
            )
        })?;
        rows.iter()
            .map(|row| {
                let request = NewRequest {
                    code: row[0].text()?,
                    destination: row[1].text()?,
                    item: row[2].text()?,
                    quantity: row[3].int()?,
                    priority: row[4].int()?,
                    needed_by: date(&row[5])?,
                    grace_days: row[6].int()?,
                    requested_by: row[7].text()?,
                };
                let cancelled_on = opt_date(&row[8])?;
                let must_ship = row[9].opt_int()?.unwrap_or(0) != 0;
                let loaded = row[10].int()?;
                let delivered = row[11].int()?;
                let status =
                    RequestStatus::of(cancelled_on.is_some(), request.quantity, loaded, delivered);
                Ok(RequestRow {
                    request,
                    loaded,
                    delivered,
                    status,
                    cancelled_on,
                    must_ship,
                })
            })
            .collect::<Result<_, reliefhub_store::StoreError>>()
            .map_err(OpsError::from)
    }
}
