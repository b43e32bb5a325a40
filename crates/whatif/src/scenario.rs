//! The scenario file (`reliefhub-scenario/1`, JSON or TOML): what changes
//! in the hub's state, and what is drawn at random. Reading checks the
//! file's shape (an unknown field is refused, naming it); [`Scenario::check`]
//! checks it against the instance it will change (unknown node, departure,
//! leg, pledge, destination or item; negative days; factors and
//! probabilities out of range), every problem at once.

use std::collections::{BTreeMap, BTreeSet};

use reliefhub_core::Code;
use serde::{Deserialize, Serialize};

use crate::doc::{day, InstanceDoc, ItemDoc};
use crate::problem::Problem;

/// The format tag a scenario carries.
pub const SCENARIO_FORMAT: &str = "reliefhub-scenario/1";

/// Requests multiplied by more than this are refused (a typing slip, not a surge).
pub const MAX_REQUEST_FACTOR: f64 = 100.0;
/// Departure, node and cost factors above this are refused.
pub const MAX_FACTOR: f64 = 100.0;
/// Delays and closures are at most this many days.
pub const MAX_DAYS: i64 = 3_650;

/// A scenario as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Must be `reliefhub-scenario/1`.
    pub format: String,
    /// Shown in reports and charts.
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Seed of the random draws (the draws of one seed are always the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Changes applied in order, after the random draws.
    #[serde(default)]
    pub changes: Vec<Change>,
    /// Uncertainty: drawn anew for every run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random: Option<RandomSpec>,
}

/// One change to the hub's state. Dates are `YYYY-MM-DD`; a window without
/// `from` starts at the beginning of the plan, one without `to` never ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// The node is closed: no departure leaves it, nothing arrives at it and
    /// no stock is trucked in or out while it is closed.
    CloseNode {
        node: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    /// The departure does not leave.
    CancelDeparture { departure: String },
    /// The departure leaves and arrives `days` later.
    DelayDeparture { departure: String, days: i64 },
    /// The inbound leg's goods arrive `days` later.
    DelayLeg { leg: String, days: i64 },
    /// The inbound leg's goods never arrive.
    LoseLeg { leg: String },
    /// The departure's capacity: multiplied by `factor`, or set.
    DepartureCapacity {
        departure: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        factor: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payload_kg: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        volume_m3: Option<f64>,
    },
    /// Every departure leaving the node in the window keeps `factor` of its
    /// capacity (payload, volume, cold volume).
    NodeCapacity {
        node: String,
        factor: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    /// The destination's open requests (of one item, when given) multiplied.
    MultiplyRequests {
        destination: String,
        factor: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<String>,
    },
    /// A new request.
    AddRequest {
        destination: String,
        item: String,
        quantity: i64,
        priority: i64,
        needed_by: String,
        #[serde(default)]
        grace_days: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// The donor withdraws the pledge: what is still outstanding of it does
    /// not come (taken from the donor's goods still inbound).
    WithdrawPledge { pledge: String },
    /// Departure costs (fixed and per kg) multiplied, on every departure or
    /// those of one mode or node.
    Costs {
        factor: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<String>,
    },
}

/// What is drawn at random in every run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomSpec {
    /// Every departure's delay in whole days (rounded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departure_delay: Option<LogNormal>,
    /// Every inbound leg's delay in whole days (rounded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leg_delay: Option<LogNormal>,
    /// The probability that a chartered departure is cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charter_cancellation: Option<f64>,
}

/// A log-normal distribution of days: `median_days * exp(spread * Z)`,
/// `Z` standard normal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogNormal {
    pub median_days: f64,
    /// The standard deviation of the logarithm (0 draws the median always).
    pub spread: f64,
}

/// A pledge's outstanding quantities, for [`Change::WithdrawPledge`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PledgeFacts {
    pub code: String,
    pub donor: String,
    /// (item, units outstanding).
    pub outstanding: Vec<(String, i64)>,
}

/// What the hub knows beyond the instance, which some changes need.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HubFacts {
    /// Every inbound leg's code (a leg with nothing inbound changes nothing).
    pub legs: Vec<String>,
    pub pledges: Vec<PledgeFacts>,
    /// Every destination's UN/LOCODE.
    pub destinations: Vec<String>,
    /// The catalogue, for requests of items the instance does not carry yet
    /// (with `value_usd_per_unit` among an item's other fields, which added
    /// requests are valued by, as the hub's instances value requests: see
    /// [`reliefhub_planner::value`]).
    pub items: Vec<ItemDoc>,
}

/// Why a scenario file could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Json,
    Toml,
}

impl Syntax {
    /// By the file's extension: `.toml` is TOML, anything else JSON.
    pub fn of_path(path: &str) -> Syntax {
        if path.to_ascii_lowercase().ends_with(".toml") {
            Syntax::Toml
        } else {
            Syntax::Json
        }
    }
}

fn serde_problem(path: String, message: String) -> Problem {
    let path = if path.is_empty() || path == "." {
        "(document)".to_string()
    } else {
        path
    };
    // Unknown fields are named in the message; make them the field.
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((name, expected)) = rest.split_once('`') {
            let field = if path == "(document)" {
                name.to_string()
            } else if path == name || path.ends_with(&format!(".{name}")) {
                path
            } else {
                format!("{path}.{name}")
            };
            return Problem::new(
                Code::UnknownField,
                field,
                name,
                format!("is not a field here{expected}"),
            );
        }
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        if let Some((name, expected)) = rest.split_once('`') {
            return Problem::new(
                Code::UnknownChangeKind,
                if path.ends_with(".kind") {
                    path
                } else {
                    format!("{path}.kind")
                },
                name,
                format!("is not a kind of change{expected}"),
            );
        }
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        if let Some((name, _)) = rest.split_once('`') {
            let field = if path == "(document)" {
                name.to_string()
            } else {
                format!("{path}.{name}")
            };
            return Problem::new(Code::Required, field, "", "is required");
        }
    }
    Problem::new(Code::SyntaxError, path, "", message)
}

impl Scenario {
    /// Reads a scenario from JSON or TOML text. The format tag is checked
    /// first, so a file of another kind is named as such.
    pub fn parse(text: &str, syntax: Syntax) -> Result<Scenario, Vec<Problem>> {
        let tag = match syntax {
            Syntax::Json => serde_json::from_str::<serde_json::Value>(text)
                .map_err(|e| {
                    vec![Problem::new(
                        Code::SyntaxError,
                        format!("line {} column {}", e.line(), e.column()),
                        "",
                        format!("is not valid JSON: {e}"),
                    )]
                })?
                .get("format")
                .map(|f| {
                    f.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| f.to_string())
                }),
            Syntax::Toml => text
                .parse::<toml::Table>()
                .map_err(|e| {
                    let message = e.message().to_string();
                    let place = e
                        .span()
                        .map(|s| {
                            let line = text[..s.start.min(text.len())].lines().count().max(1);
                            format!("line {line}")
                        })
                        .unwrap_or_else(|| "(document)".to_string());
                    vec![Problem::new(
                        Code::SyntaxError,
                        place,
                        "",
                        format!("is not valid TOML: {message}"),
                    )]
                })?
                .get("format")
                .map(|f| {
                    f.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| f.to_string())
                }),
        };
        match tag.as_deref() {
            Some(SCENARIO_FORMAT) => {}
            Some(other) => {
                return Err(vec![Problem::new(
                    Code::WrongFormat,
                    "format",
                    other,
                    format!("must be \"{SCENARIO_FORMAT}\""),
                )])
            }
            None => {
                return Err(vec![Problem::new(
                    Code::Required,
                    "format",
                    "",
                    format!("is required (\"{SCENARIO_FORMAT}\")"),
                )])
            }
        }
        let parsed: Result<Scenario, (String, String)> = match syntax {
            Syntax::Json => {
                let mut de = serde_json::Deserializer::from_str(text);
                serde_path_to_error::deserialize(&mut de)
                    .map_err(|e| (e.path().to_string(), e.inner().to_string()))
            }
            Syntax::Toml => {
                let de = toml::Deserializer::parse(text).map_err(|e| {
                    vec![Problem::new(
                        Code::SyntaxError,
                        "(document)",
                        "",
                        e.message().to_string(),
                    )]
                })?;
                serde_path_to_error::deserialize(de)
                    .map_err(|e| (e.path().to_string(), e.inner().message().to_string()))
            }
        };
        parsed.map_err(|(path, message)| {
            // serde_json adds " at line L column C"; keep it in the rule.
            vec![serde_problem(path, message)]
        })
    }

    /// Reads a scenario already parsed as JSON (the API's request body).
    pub fn from_value(value: &serde_json::Value) -> Result<Scenario, Vec<Problem>> {
        Scenario::parse(&value.to_string(), Syntax::Json)
    }

    /// Whether anything is drawn at random.
    pub fn is_random(&self) -> bool {
        self.random.as_ref().is_some_and(|r| {
            r.departure_delay.is_some() || r.leg_delay.is_some() || r.charter_cancellation.is_some()
        })
    }

    /// Checks the scenario against the instance it will change and what the
    /// hub knows; every problem is listed.
    pub fn check(&self, doc: &InstanceDoc, facts: &HubFacts) -> Vec<Problem> {
        let mut out = Vec::new();
        let nodes: BTreeSet<&str> = doc.nodes.iter().map(|n| n.id.as_str()).collect();
        let departures: BTreeSet<&str> = doc.departures.iter().map(|d| d.id.as_str()).collect();
        let legs: BTreeSet<&str> = facts
            .legs
            .iter()
            .map(String::as_str)
            .chain(doc.lots.iter().filter_map(|l| l.leg()))
            .collect();
        let pledges: BTreeMap<&str, &PledgeFacts> =
            facts.pledges.iter().map(|p| (p.code.as_str(), p)).collect();
        let destinations: BTreeSet<&str> = facts
            .destinations
            .iter()
            .map(String::as_str)
            .chain(doc.departures.iter().map(|d| d.destination.as_str()))
            .chain(doc.requests.iter().map(|r| r.destination.as_str()))
            .collect();
        let items: BTreeSet<&str> = doc
            .items
            .iter()
            .chain(facts.items.iter())
            .map(|i| i.id.as_str())
            .collect();
        let request_ids: BTreeSet<&str> = doc.requests.iter().map(|r| r.id.as_str()).collect();
        if self.name.trim().is_empty() {
            out.push(Problem::new(
                Code::Required,
                "name",
                "",
                "must not be empty",
            ));
        }
        let mut new_ids: BTreeSet<String> = BTreeSet::new();
        for (i, change) in self.changes.iter().enumerate() {
            let at = |field: &str| format!("changes[{i}].{field}");
            let mut known = |field: &str, value: &str, set: &BTreeSet<&str>, what: &str| {
                if !set.contains(value) {
                    out.push(Problem::new(
                        Code::UnknownReference,
                        at(field),
                        value,
                        format!("is not {what}"),
                    ));
                }
            };
            match change {
                Change::CloseNode { node, .. } => known("node", node, &nodes, "a node of the hub"),
                Change::CancelDeparture { departure }
                | Change::DelayDeparture { departure, .. } => known(
                    "departure",
                    departure,
                    &departures,
                    "a departure still to leave",
                ),
                Change::DepartureCapacity { departure, .. } => known(
                    "departure",
                    departure,
                    &departures,
                    "a departure still to leave",
                ),
                Change::DelayLeg { leg, .. } | Change::LoseLeg { leg } => {
                    known("leg", leg, &legs, "an inbound leg of the hub")
                }
                Change::NodeCapacity { node, .. } => {
                    known("node", node, &nodes, "a node of the hub")
                }
                Change::MultiplyRequests {
                    destination, item, ..
                } => {
                    known("destination", destination, &destinations, "a destination");
                    if let Some(item) = item {
                        known("item", item, &items, "an item of the catalogue");
                    }
                }
                Change::AddRequest {
                    destination,
                    item,
                    id,
                    ..
                } => {
                    known("destination", destination, &destinations, "a destination");
                    known("item", item, &items, "an item of the catalogue");
                    if let Some(id) = id {
                        if request_ids.contains(id.as_str()) || !new_ids.insert(id.clone()) {
                            out.push(Problem::new(
                                Code::DuplicateName,
                                at("id"),
                                id,
                                "is already a request's id",
                            ));
                        }
                    }
                }
                Change::WithdrawPledge { pledge } => {
                    if !pledges.contains_key(pledge.as_str()) {
                        out.push(Problem::new(
                            Code::UnknownReference,
                            at("pledge"),
                            pledge,
                            "is not a pledge of the hub",
                        ));
                    }
                }
                Change::Costs { mode, node, .. } => {
                    if let Some(node) = node {
                        known("node", node, &nodes, "a node of the hub");
                    }
                    if let Some(mode) = mode {
                        if mode != "air" && mode != "sea" {
                            out.push(Problem::new(
                                Code::OutOfRange,
                                at("mode"),
                                mode,
                                "must be air or sea",
                            ));
                        }
                    }
                }
            }
            // Numbers and dates.
            let mut days = |field: &str, value: i64| {
                if !(0..=MAX_DAYS).contains(&value) {
                    out.push(Problem::new(
                        Code::OutOfRange,
                        at(field),
                        value.to_string(),
                        format!("must be a whole number of days from 0 to {MAX_DAYS}"),
                    ));
                }
            };
            match change {
                Change::DelayDeparture { days: d, .. } | Change::DelayLeg { days: d, .. } => {
                    days("days", *d)
                }
                Change::AddRequest { grace_days, .. } => days("grace_days", *grace_days),
                _ => {}
            }
            let mut factor = |field: &str, value: f64, max: f64| {
                if !(value.is_finite() && (0.0..=max).contains(&value)) {
                    out.push(Problem::new(
                        Code::OutOfRange,
                        at(field),
                        value.to_string(),
                        format!("must be a number from 0 to {max}"),
                    ));
                }
            };
            match change {
                Change::DepartureCapacity {
                    factor: f,
                    payload_kg,
                    volume_m3,
                    ..
                } => {
                    if let Some(f) = f {
                        factor("factor", *f, MAX_FACTOR);
                    }
                    if let Some(p) = payload_kg {
                        factor("payload_kg", *p, 1e9);
                    }
                    if let Some(v) = volume_m3 {
                        factor("volume_m3", *v, 1e9);
                    }
                    if f.is_none() && payload_kg.is_none() && volume_m3.is_none() {
                        out.push(Problem::new(
                            Code::Required,
                            at("factor"),
                            "",
                            "one of factor, payload_kg or volume_m3 is required",
                        ));
                    }
                }
                Change::NodeCapacity { factor: f, .. } | Change::Costs { factor: f, .. } => {
                    factor("factor", *f, MAX_FACTOR)
                }
                Change::MultiplyRequests { factor: f, .. } => {
                    factor("factor", *f, MAX_REQUEST_FACTOR)
                }
                _ => {}
            }
            match change {
                Change::CloseNode { from, to, .. } | Change::NodeCapacity { from, to, .. } => {
                    let from_day = from.as_deref().map(|t| (t, day(t)));
                    let to_day = to.as_deref().map(|t| (t, day(t)));
                    for (field, parsed) in [("from", from_day), ("to", to_day)] {
                        if let Some((text, None)) = parsed {
                            out.push(Problem::new(
                                Code::NotADate,
                                at(field),
                                text,
                                "must be a date YYYY-MM-DD",
                            ));
                        }
                    }
                    if let (Some((_, Some(f))), Some((text, Some(t)))) = (from_day, to_day) {
                        if t < f {
                            out.push(Problem::new(
                                Code::OutOfRange,
                                at("to"),
                                text,
                                "must not be before from",
                            ));
                        }
                    }
                }
                Change::AddRequest {
                    needed_by,
                    quantity,
                    priority,
                    ..
                } => {
                    if day(needed_by).is_none() {
                        out.push(Problem::new(
                            Code::NotADate,
                            at("needed_by"),
                            needed_by,
                            "must be a date YYYY-MM-DD",
                        ));
                    }
                    if !(1..=1_000_000_000).contains(quantity) {
                        out.push(Problem::new(
                            Code::OutOfRange,
                            at("quantity"),
                            quantity.to_string(),
                            "must be a whole number above 0",
                        ));
                    }
                    if !(1..=5).contains(priority) {
                        out.push(Problem::new(
                            Code::OutOfRange,
                            at("priority"),
                            priority.to_string(),
                            "must be 1 (most urgent) to 5",
                        ));
                    }
                }
                _ => {}
            }
        }
        if let Some(random) = &self.random {
            for (name, spec) in [
                ("departure_delay", &random.departure_delay),
                ("leg_delay", &random.leg_delay),
            ] {
                if let Some(spec) = spec {
                    if !(spec.median_days.is_finite()
                        && (0.0..=MAX_DAYS as f64).contains(&spec.median_days))
                    {
                        out.push(Problem::new(
                            Code::OutOfRange,
                            format!("random.{name}.median_days"),
                            spec.median_days.to_string(),
                            format!("must be a number of days from 0 to {MAX_DAYS}"),
                        ));
                    }
                    if !(spec.spread.is_finite() && (0.0..=5.0).contains(&spec.spread)) {
                        out.push(Problem::new(
                            Code::OutOfRange,
                            format!("random.{name}.spread"),
                            spec.spread.to_string(),
                            "must be a number from 0 to 5",
                        ));
                    }
                }
            }
            if let Some(p) = random.charter_cancellation {
                if !(p.is_finite() && (0.0..=1.0).contains(&p)) {
                    out.push(Problem::new(
                        Code::OutOfRange,
                        "random.charter_cancellation",
                        p.to_string(),
                        "must be a probability from 0 to 1",
                    ));
                }
            }
        }
        out
    }
}
