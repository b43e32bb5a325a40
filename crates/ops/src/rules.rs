//! The hub's rules that several operations share: quantities, references to
//! master data, earmarks and dates. Each check appends [`Problem`]s with a
//! stable [`Code`]; an operation gathers every problem before it refuses.

use reliefhub_core::account::AccountParseError;
use reliefhub_core::ledger::QUANTITY_MAX;
use reliefhub_core::{Account, Code, Problem};

use time::Date;

use crate::{date_text, Moment, OpsError, Refs};

/// A quantity above the ledger's limit.
fn too_large(field: &str, quantity: i64) -> Problem {
    Problem::new(
        Code::QuantityTooLarge,
        field,
        quantity,
        format!("a quantity is at most {QUANTITY_MAX} units"),
    )
    .with("max", QUANTITY_MAX)
}

/// A quantity of units: a whole number from 1 to the ledger's limit.
pub(crate) fn check_quantity(field: &str, quantity: i64, problems: &mut Vec<Problem>) {
    if quantity <= 0 {
        problems.push(
            Problem::new(
                Code::QuantityNotPositive,
                field,
                quantity,
                "a quantity is a whole number above 0",
            )
            .with("max", QUANTITY_MAX),
        );
    } else if quantity > QUANTITY_MAX {
        problems.push(too_large(field, quantity));
    }
}

/// A count or a received quantity: from 0 to the ledger's limit.
pub(crate) fn check_count(field: &str, quantity: i64, problems: &mut Vec<Problem>) {
    if quantity < 0 {
        problems.push(Problem::new(
            Code::NegativeValue,
            field,
            quantity,
            "a counted quantity is 0 or more",
        ));
    } else if quantity > QUANTITY_MAX {
        problems.push(too_large(field, quantity));
    }
}

/// A text that must not be empty (a reason, a name).
pub(crate) fn check_required(field: &str, text: &str, problems: &mut Vec<Problem>) {
    if text.trim().is_empty() {
        problems.push(Problem::new(
            Code::Required,
            field,
            "",
            format!("{} is required", field.replace('_', " ")),
        ));
    }
}

/// An account the operation names, made from a code the user gave.
pub(crate) fn account(made: Result<Account, AccountParseError>) -> Result<Account, OpsError> {
    made.map_err(|e| OpsError::refused(Code::BadCode, "code", "", e.to_string()))
}

/// A reference to master data: when it names nothing known, the problem
/// `code` with the rule `rule`.
fn check_known(
    known: bool,
    code: Code,
    field: &str,
    value: &str,
    rule: impl FnOnce() -> String,
    problems: &mut Vec<Problem>,
) {
    if !known {
        problems.push(Problem::new(code, field, value, rule()));
    }
}

impl Refs {
    pub(crate) fn check_item(&self, field: &str, item: &str, problems: &mut Vec<Problem>) {
        let known = self.items.contains_key(item);
        let rule = || format!("item `{item}` is not in the catalogue");
        check_known(known, Code::UnknownItem, field, item, rule, problems);
    }

    pub(crate) fn check_donor(&self, field: &str, donor: &str, problems: &mut Vec<Problem>) {
        let known = self.donors.contains(donor);
        let rule = || format!("`{donor}` is not a known donor organisation");
        check_known(known, Code::UnknownDonor, field, donor, rule, problems);
    }

    pub(crate) fn check_node(&self, field: &str, node: &str, problems: &mut Vec<Problem>) {
        let known = self.nodes.contains(node);
        let rule = || format!("`{node}` is not one of the hub's nodes");
        check_known(known, Code::UnknownNode, field, node, rule, problems);
    }

    pub(crate) fn check_destination(&self, field: &str, place: &str, problems: &mut Vec<Problem>) {
        let known = self.destinations.contains(place);
        let rule = || format!("`{place}` is not a known destination UN/LOCODE");
        check_known(
            known,
            Code::UnknownDestination,
            field,
            place,
            rule,
            problems,
        );
    }

    /// An earmark: codes of real countries (the built-in ISO 3166-1 list and
    /// any imported with `refdata countries`).
    pub(crate) fn check_earmark(
        &self,
        field: &str,
        earmark: &[String],
        problems: &mut Vec<Problem>,
    ) {
        for code in earmark {
            if !self.is_country(code) {
                problems.push(Problem::new(
                    Code::EarmarkNotACountry,
                    field,
                    code,
                    format!("`{code}` is not an ISO 3166-1 alpha-2 code of a country; an earmark lists countries such as SD;TD"),
                ));
            }
        }
    }

    pub(crate) fn is_country(&self, code: &str) -> bool {
        reliefhub_core::reference::is_country_code(code) || self.countries.contains(code)
    }
}

/// The first day the hub accepts a dated operation on (operations dated
/// earlier are typing mistakes: `1999` for `2025`).
pub const HUB_FIRST_DAY: Date = time::macros::date!(2020 - 01 - 01);

/// The hub's today at a moment: its calendar date, and never after the
/// clock's (an operation dated `--on` a later day is in the future).
pub(crate) fn hub_today(at: Moment) -> Date {
    at.date.min(Moment::from_unix_ms(at.unix_ms).date)
}

/// A document's date: not after the hub's today, not before its first day.
pub(crate) fn check_date(field: &str, date: Date, at: Moment, problems: &mut Vec<Problem>) {
    let today = hub_today(at);
    if date > today {
        problems.push(
            Problem::new(
                Code::DateInFuture,
                field,
                date_text(date),
                format!(
                    "{} is after the hub's today, {}",
                    date_text(date),
                    date_text(today)
                ),
            )
            .with("today", date_text(today)),
        );
    } else if date < HUB_FIRST_DAY {
        problems.push(
            Problem::new(
                Code::DateBeforeHubStart,
                field,
                date_text(date),
                format!(
                    "{} is before the hub's first day, {}",
                    date_text(date),
                    date_text(HUB_FIRST_DAY)
                ),
            )
            .with("first_day", date_text(HUB_FIRST_DAY)),
        );
    }
}

/// A date in the hub's calendar at all (plans, needed-by dates): not before
/// its first day, and not absurdly far ahead.
pub(crate) fn check_calendar(field: &str, date: Date, at: Moment, problems: &mut Vec<Problem>) {
    let latest = hub_today(at).saturating_add(time::Duration::days(2 * 366));
    if date < HUB_FIRST_DAY || date > latest {
        problems.push(
            Problem::new(
                // Before the first day is wrong whatever the day; too far
                // ahead depends on today.
                if date < HUB_FIRST_DAY {
                    Code::DateBeforeHubStart
                } else {
                    Code::DateTooFarAhead
                },
                field,
                date_text(date),
                format!(
                    "{} is outside the hub's calendar ({} to two years ahead, {})",
                    date_text(date),
                    date_text(HUB_FIRST_DAY),
                    date_text(latest)
                ),
            )
            .with("min", date_text(HUB_FIRST_DAY))
            .with("max", date_text(latest)),
        );
    }
}

/// A date of a document of the operation's own day (`on`), checked as
/// [`check_date`]; then the refusal, if any.
pub(crate) fn refuse_if(problems: Vec<Problem>) -> Result<(), OpsError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(OpsError::Refused(problems))
    }
}

impl Refs {
    /// Whether a node serves a transport mode (`sea`, `air`, `road`): a port
    /// serves sea and road, an airport air and road.
    pub(crate) fn check_node_mode(
        &self,
        field: &str,
        node: &str,
        mode: &str,
        problems: &mut Vec<Problem>,
    ) {
        let Some(kind) = self.node_kinds.get(node) else {
            return;
        };
        let serves = match kind.as_str() {
            "port" => matches!(mode, "sea" | "road"),
            "airport" => matches!(mode, "air" | "road"),
            _ => true,
        };
        if !serves {
            problems.push(
                Problem::new(
                    Code::ModeNotServed,
                    field,
                    mode,
                    format!("{node} is a {kind}: it does not serve {mode} transport"),
                )
                .with("node", node)
                .with("kind", kind)
                .with("mode", mode),
            );
        }
    }

    /// Whether a destination can be reached by a mode: a sailing needs a
    /// seaport, a flight an airport.
    pub(crate) fn check_destination_mode(
        &self,
        field: &str,
        destination: &str,
        mode: &str,
        problems: &mut Vec<Problem>,
    ) {
        let Some((seaport, airport)) = self.destination_ports.get(destination) else {
            return;
        };
        if mode == "sea" && !seaport {
            problems.push(
                Problem::new(
                    Code::NoSeaport,
                    field,
                    mode,
                    format!("{destination} has no seaport: no sailing can reach it"),
                )
                .with("destination", destination),
            );
        }
        if mode == "air" && !airport {
            problems.push(
                Problem::new(
                    Code::NoAirport,
                    field,
                    mode,
                    format!("{destination} has no airport: no flight can reach it"),
                )
                .with("destination", destination),
            );
        }
    }

    /// A leg's origin: an IATA airport code (one of the imported airports
    /// when airports were imported) or a UN/LOCODE of a real country.
    pub(crate) fn check_origin(&self, field: &str, origin: &str, problems: &mut Vec<Problem>) {
        let iata = origin.len() == 3 && origin.bytes().all(|b| b.is_ascii_uppercase());
        let locode = reliefhub_core::domain::is_locode(origin);
        let ok = if iata {
            self.airports.is_empty() || self.airports.contains(origin)
        } else {
            locode && self.is_country(&origin[..2])
        };
        if !ok {
            let rule = if iata {
                format!("`{origin}` is not the IATA code of an imported airport")
            } else {
                format!("`{origin}` is neither a UN/LOCODE of a real country (such as RUNVS) nor an IATA airport code (such as VKO)")
            };
            problems.push(Problem::new(Code::OriginUnknown, field, origin, rule));
        }
    }
}
