//! The route table. Every route is registered through utoipa-axum, so the
//! OpenAPI document lists exactly the routes the router serves.

mod documents;
mod hub;
mod log;
mod master;
mod outbound;
mod plans;
mod session;
mod whatif;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use reliefhub_core::domain::format_date;
use serde::Serialize;
use time::Date;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;

pub fn api_router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(session::health))
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(session::me))
        .routes(routes!(session::items, master::add_item))
        .routes(routes!(master::edit_item))
        .routes(routes!(session::nodes))
        .routes(routes!(session::destinations, master::add_destination))
        .routes(routes!(master::edit_destination))
        .routes(routes!(session::organisations, master::add_organisation))
        .routes(routes!(master::edit_organisation))
        .routes(routes!(session::verify))
        .routes(routes!(session::list_users, session::add_user))
        .routes(routes!(session::disable_user))
        .routes(routes!(session::enable_user))
        .routes(routes!(hub::list_pledges, hub::add_pledge))
        .routes(routes!(hub::get_pledge))
        .routes(routes!(hub::cancel_pledge))
        .routes(routes!(hub::list_legs, hub::add_leg))
        .routes(routes!(hub::get_leg))
        .routes(routes!(hub::import_manifest))
        .routes(routes!(hub::receive))
        .routes(routes!(hub::grn))
        .routes(routes!(hub::stock))
        .routes(routes!(hub::stock_position))
        .routes(routes!(hub::stock_expiry))
        .routes(routes!(hub::quarantine))
        .routes(routes!(hub::release))
        .routes(routes!(hub::write_off))
        .routes(routes!(hub::count))
        .routes(routes!(hub::list_transfers, hub::add_transfer))
        .routes(routes!(hub::arrive_transfer))
        .routes(routes!(outbound::list_requests, outbound::add_request))
        .routes(routes!(outbound::cancel_request))
        .routes(routes!(outbound::set_must_ship))
        .routes(routes!(outbound::list_departures, outbound::add_departure))
        .routes(routes!(outbound::get_departure))
        .routes(routes!(outbound::load))
        .routes(routes!(outbound::unload))
        .routes(routes!(outbound::depart))
        .routes(routes!(outbound::deliver))
        .routes(routes!(outbound::pod))
        .routes(routes!(outbound::correct))
        .routes(routes!(outbound::inbound_pipeline))
        .routes(routes!(outbound::fulfilment))
        .routes(routes!(outbound::donor_statement))
        .routes(routes!(outbound::flows))
        .routes(routes!(outbound::journey))
        .routes(routes!(plans::list_plans, plans::propose_plan))
        .routes(routes!(plans::get_plan))
        .routes(routes!(plans::accept_plan))
        .routes(routes!(log::head))
        .routes(routes!(log::consistency))
        .routes(routes!(log::donor_proof))
        .routes(routes!(log::list))
        .routes(routes!(whatif::run_whatif))
        .routes(routes!(documents::waybill))
        .routes(routes!(documents::loading_list))
        .routes(routes!(documents::pod))
        .routes(routes!(documents::grn))
        .routes(routes!(documents::statement))
}

pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    (status, axum::Json(value)).into_response()
}

pub(crate) fn day(date: Date) -> String {
    format_date(date)
}

pub(crate) fn opt_day(date: Option<Date>) -> Option<String> {
    date.map(format_date)
}

/// The answer of a stock-moving operation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DoneJson {
    /// The document the operation made or touched (a pledge code, a receipt number).
    pub reference: String,
    pub batch_id: i64,
    pub first_seq: i64,
    pub transfer_count: i64,
    /// True when the ledger had applied this operation before (nothing changed now).
    pub replayed: bool,
}

impl From<reliefhub_ops::Done> for DoneJson {
    fn from(done: reliefhub_ops::Done) -> DoneJson {
        DoneJson {
            reference: done.reference,
            batch_id: done.applied.batch_id,
            first_seq: done.applied.first_seq,
            transfer_count: done.applied.transfer_count,
            replayed: done.replayed,
        }
    }
}

/// A report table: column names and rows of cells (text, number or null).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TableJson {
    pub title: String,
    pub columns: Vec<String>,
    /// HXL hashtags of the columns, in the same order.
    pub hxl: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
}

impl TableJson {
    pub fn from_table(table: &reliefhub_ops::table::Table) -> TableJson {
        let json = table.json();
        let names: Vec<String> = table.columns.iter().map(|c| c.name.to_string()).collect();
        let rows = json
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|row| {
                        names
                            .iter()
                            .map(|n| row.get(n).cloned().unwrap_or(serde_json::Value::Null))
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default();
        TableJson {
            title: table.title.clone(),
            hxl: table.columns.iter().map(|c| c.hxl.to_string()).collect(),
            columns: names,
            rows,
        }
    }
}

/// A created or changed document (no stock moved).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Recorded {
    pub code: String,
    /// False when an identical document existed already.
    pub created: bool,
}
