//! Reading the words and dates a user types into the operations' types, one
//! way for the CLI and the API: each reader either returns the value or a
//! [`Problem`] naming the field, the value and the rule.

use reliefhub_core::{Code, LossReason, Problem};
use time::Date;

use crate::{DamagedTo, Mode, Service};

/// A `YYYY-MM-DD` date.
pub fn date(field: &str, text: &str) -> Result<Date, Problem> {
    reliefhub_core::domain::parse_date(text.trim()).ok_or_else(|| {
        Problem::new(
            Code::NotADate,
            field,
            text,
            "not a date: write it as YYYY-MM-DD, such as 2025-03-14",
        )
    })
}

/// A transport mode of a leg or a departure: `sea` or `air`.
pub fn mode(field: &str, text: &str) -> Result<Mode, Problem> {
    Mode::parse(text.trim())
        .ok_or_else(|| Problem::new(Code::NotAMode, field, text, "a mode is sea or air"))
}

/// A departure's service: `scheduled` or `charter`.
pub fn service(field: &str, text: &str) -> Result<Service, Problem> {
    Service::parse(text.trim()).ok_or_else(|| {
        Problem::new(
            Code::NotAService,
            field,
            text,
            "a service is scheduled or charter",
        )
    })
}

/// Where damaged goods of a receipt go: `quarantine` (the default) or
/// `loss`.
pub fn damaged_to(field: &str, text: Option<&str>) -> Result<DamagedTo, Problem> {
    match text.map(str::trim) {
        None | Some("" | "quarantine") => Ok(DamagedTo::Quarantine),
        Some("loss") => Ok(DamagedTo::Loss),
        Some(other) => Err(Problem::new(
            Code::OutOfRange,
            field,
            other,
            "damaged goods go to quarantine or loss",
        )),
    }
}

/// A reason for a loss: damaged, expired, stolen, ...
pub fn loss_reason(field: &str, text: &str) -> Result<LossReason, Problem> {
    LossReason::parse(text.trim()).ok_or_else(|| {
        Problem::new(
            Code::NotALossReason,
            field,
            text,
            "a loss is damaged, expired, stolen, short-landed, count-adjustment or short-delivered",
        )
    })
}

/// Keeps the value, or the problem in `problems`.
pub fn keep<T>(result: Result<T, Problem>, problems: &mut Vec<Problem>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(problem) => {
            problems.push(problem);
            None
        }
    }
}
