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

/// The words some text fields take, declared in the OpenAPI document as
/// enums (the fields stay text: the operations layer reads them and names
/// the field of a word it does not know).
#[allow(dead_code)]
pub mod words {
    use serde::Serialize;
    use utoipa::ToSchema;

    /// A transport mode.
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum ModeName {
        Sea,
        Air,
    }

    /// A departure's service.
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum ServiceName {
        Scheduled,
        Charter,
    }

    /// The reason for a loss.
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "kebab-case")]
    pub enum LossName {
        Damaged,
        Expired,
        ShortLanded,
        Stolen,
        CountAdjustment,
        ShortDelivered,
    }

    /// Where damaged goods of a receipt go.
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum DamagedToName {
        Quarantine,
        Loss,
    }

    /// An ISO 3166-1 alpha-2 country code (one the hub does not know is
    /// refused with 409).
    #[derive(Serialize, ToSchema)]
    #[schema(pattern = "^[A-Z]{2}$")]
    pub struct CountryCode(pub String);

    #[cfg(test)]
    mod tests {
        use super::*;

        fn word<T: Serialize>(value: &T) -> String {
            serde_json::to_value(value)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        }

        /// Each word the document declares is one the operations layer
        /// reads, and every word it reads is declared.
        #[test]
        fn declared_words_are_the_ones_read() {
            let modes = [ModeName::Sea, ModeName::Air].map(|m| word(&m));
            for m in &modes {
                assert!(reliefhub_ops::parse::mode("mode", m).is_ok(), "{m}");
            }
            for m in ["road", "rail", ""] {
                assert!(reliefhub_ops::parse::mode("mode", m).is_err(), "{m}");
            }
            for s in [ServiceName::Scheduled, ServiceName::Charter].map(|s| word(&s)) {
                assert!(reliefhub_ops::parse::service("service", &s).is_ok(), "{s}");
            }
            let losses = [
                LossName::Damaged,
                LossName::Expired,
                LossName::ShortLanded,
                LossName::Stolen,
                LossName::CountAdjustment,
                LossName::ShortDelivered,
            ]
            .map(|l| word(&l));
            let known: Vec<&str> = reliefhub_core::LossReason::ALL
                .iter()
                .map(|l| l.code())
                .collect();
            assert_eq!(losses.to_vec(), known);
            for d in [DamagedToName::Quarantine, DamagedToName::Loss].map(|d| word(&d)) {
                assert!(
                    reliefhub_ops::parse::damaged_to("damaged_to", Some(&d)).is_ok(),
                    "{d}"
                );
            }
            let roles: Vec<&str> = crate::Role::ALL.iter().map(|r| r.code()).collect();
            assert_eq!(
                roles,
                ["admin", "operator", "donor", "recipient", "auditor"]
            );
        }
    }
}
