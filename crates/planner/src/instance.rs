//! The planning instance (`reliefhub-plan-instance/1`): reading and validating it.
//!
//! Reading never panics: every problem found is reported as an [`InputIssue`]
//! naming the object (by list index and id) and the field.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::error::{InputIssue, InstanceError};

/// The format tag an instance must carry.
pub const INSTANCE_FORMAT: &str = "reliefhub-plan-instance/1";

/// A calendar day, as a Julian day number (whole days, no time of day).
pub type Day = i32;

/// Parses an ISO `YYYY-MM-DD` date into a [`Day`].
pub fn parse_day(text: &str) -> Option<Day> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    if text.len() != 10 {
        return None;
    }
    time::Date::parse(text, &format)
        .ok()
        .map(|date| date.to_julian_day())
}

/// Formats a [`Day`] as ISO `YYYY-MM-DD`.
pub fn format_day(day: Day) -> String {
    match time::Date::from_julian_day(day) {
        Ok(date) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            date.format(&format)
                .unwrap_or_else(|_| format!("day {day}"))
        }
        Err(_) => format!("day {day}"),
    }
}

/// A hub site where stock sits and departures leave from.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: String,
    pub kind: String,
}

/// A catalogue entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: String,
    pub name: String,
    pub unit_weight_kg: f64,
    pub unit_volume_m3: f64,
    pub cold_chain: bool,
    pub dangerous_goods: bool,
    pub min_shelf_life_days: i32,
}

/// Stock of one item at one node.
#[derive(Debug, Clone, PartialEq)]
pub struct Lot {
    pub id: String,
    /// Index into [`Instance::items`].
    pub item: usize,
    /// Index into [`Instance::nodes`].
    pub node: usize,
    pub quantity: i64,
    pub pack_size: i64,
    pub available: Day,
    pub expires: Option<Day>,
    /// Country codes as written; empty allows every country.
    pub earmark: Vec<String>,
}

/// An outbound flight or sailing.
#[derive(Debug, Clone, PartialEq)]
pub struct Departure {
    pub id: String,
    /// Index into [`Instance::nodes`].
    pub node: usize,
    pub mode: String,
    /// The destination's UN/LOCODE.
    pub destination: String,
    /// Index into [`Instance::destinations`].
    pub destination_index: usize,
    pub departs: Day,
    pub arrives: Day,
    pub payload_kg: f64,
    pub volume_m3: f64,
    pub cold_volume_m3: f64,
    pub dangerous_goods: bool,
    pub fixed_cost: f64,
    pub cost_per_kg: f64,
}

/// A destination's need for units of one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: String,
    pub destination: String,
    /// Index into [`Instance::destinations`].
    pub destination_index: usize,
    /// Index into [`Instance::items`].
    pub item: usize,
    pub quantity: i64,
    pub value_per_unit: f64,
    pub needed_by: Day,
    pub grace_days: i32,
}

/// A validated instance. Cross references are indices; the constructor
/// guarantees they are in range and that every rule of the format holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub name: String,
    pub nodes: Vec<Node>,
    /// `transfer_days[from][to]`: whole days to move stock, `Some(0)` on the diagonal.
    pub transfer_days: Vec<Vec<Option<i32>>>,
    pub items: Vec<Item>,
    pub lots: Vec<Lot>,
    pub departures: Vec<Departure>,
    pub requests: Vec<Request>,
    /// Every destination named by a departure or a request, in first-seen order.
    pub destinations: Vec<String>,
    /// A manager's overrides (the optional `overrides` object), which the
    /// planner takes as constraints and the checker enforces.
    pub overrides: Overrides,
}

/// A manager's overrides of what the planner may choose, read from the
/// instance's optional `overrides` object:
///
/// ```json
/// "overrides": {
///   "pin":    [{"request": "R-1", "departure": "D-1"}],
///   "forbid": [{"departure": "D-2"}],
///   "force":  [{"departure": "D-3"}],
///   "hold":   [{"lot": "L-1", "quantity": 40}],
///   "must_ship": [{"request": "R-2"}]
/// }
/// ```
///
/// A pinned request travels on its departure only; a forbidden departure
/// carries nothing; a forced one (a charter the manager has booked) must
/// carry something, its fixed cost being spent anyway; held units of a lot
/// stay in the warehouse; a must-ship request is met in full, or the plan
/// says why it cannot be with a reason of [`MUST_SHIP_EXCUSES`]. Indices
/// refer to the instance's lists.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Overrides {
    /// `(request, departure)`.
    pub pins: Vec<(usize, usize)>,
    pub forbidden: Vec<usize>,
    pub forced: Vec<usize>,
    /// `(lot, units held back)`.
    pub held: Vec<(usize, i64)>,
    /// Requests a manager marked must-ship.
    pub must_ship: Vec<usize>,
}

/// The reason codes ([`crate::Unmet::code`]) that excuse a must-ship request
/// left (partly) unmet: the hub cannot ship it (no departure, none in time,
/// none that takes the goods, no stock, no room). Cost is no excuse: a
/// charter "not worth its fixed cost" is used for must-ship cargo.
pub const MUST_SHIP_EXCUSES: &[&str] = &[
    "no_departure",
    "no_timely_departure",
    "no_dangerous_goods_departure",
    "no_cold_departure",
    "no_stock",
    "no_stock_in_time",
    "earmarked",
    "expires_too_soon",
    "stock_used_up",
    "stock_allocated",
    "capacity_full",
    "cold_full",
    "less_than_pack",
    "no_stock_after_kept",
];

impl Overrides {
    pub fn is_empty(&self) -> bool {
        self.pins.is_empty()
            && self.forbidden.is_empty()
            && self.forced.is_empty()
            && self.held.is_empty()
            && self.must_ship.is_empty()
    }

    /// The departure a request is pinned to, per request.
    pub fn pinned_departures(&self, requests: usize) -> Vec<Option<usize>> {
        let mut pinned = vec![None; requests];
        for &(r, d) in &self.pins {
            pinned[r] = Some(d);
        }
        pinned
    }
}

impl Instance {
    /// The country (first two letters) of a destination code.
    pub fn country_of(destination: &str) -> &str {
        destination.get(..2).unwrap_or(destination)
    }

    /// Whether a lot's earmark allows a destination.
    pub fn earmark_allows(lot: &Lot, destination: &str) -> bool {
        let country = Self::country_of(destination);
        lot.earmark.is_empty() || lot.earmark.iter().any(|code| code == country)
    }

    /// What one unit of each must-ship request is worth on top of its value
    /// in the instance the planner searches, `(request, bonus per unit)`:
    /// the largest fixed cost of any departure, plus the unit's weight and
    /// volume at the highest value per kg and per m3 of any request that is
    /// not must-ship. So a charter that can take one unit of it is worth
    /// flying, and a must-ship unit outweighs any other cargo in the same
    /// room: the planner ships must-ship requests first, and among plans
    /// that ship them alike, the one of most value.
    pub fn must_ship_bonus(&self) -> Vec<(usize, f64)> {
        let must = &self.overrides.must_ship;
        if must.is_empty() {
            return Vec::new();
        }
        let fixed = self
            .departures
            .iter()
            .map(|d| d.fixed_cost)
            .fold(0.0, f64::max);
        let (mut per_kg, mut per_m3) = (0.0f64, 0.0f64);
        for (r, request) in self.requests.iter().enumerate() {
            if !must.contains(&r) {
                let item = &self.items[request.item];
                per_kg = per_kg.max(request.value_per_unit / item.unit_weight_kg);
                per_m3 = per_m3.max(request.value_per_unit / item.unit_volume_m3);
            }
        }
        must.iter()
            .map(|&r| {
                let item = &self.items[self.requests[r].item];
                let bonus =
                    fixed + item.unit_weight_kg * per_kg + item.unit_volume_m3 * per_m3 + 1.0;
                (r, bonus)
            })
            .collect()
    }

    /// The bonus ([`Instance::must_ship_bonus`]) that `allocations` earn in
    /// the searched instance: units × bonus × timeliness.
    pub fn must_ship_bonus_earned(&self, allocations: &[crate::Allocation]) -> f64 {
        let bonus = self.must_ship_bonus();
        if bonus.is_empty() {
            return 0.0;
        }
        allocations
            .iter()
            .filter_map(|a| {
                let (_, per_unit) = bonus.iter().find(|(r, _)| *r == a.request)?;
                let request = &self.requests[a.request];
                let late = (self.departures[a.departure].arrives - request.needed_by).max(0);
                Some(
                    a.quantity as f64
                        * per_unit
                        * crate::plan::timeliness(late, request.grace_days),
                )
            })
            .sum()
    }

    /// The instance the planner searches when overrides are given: a
    /// forbidden departure has no capacity, a forced charter no fixed cost
    /// (it is spent anyway), held units are taken off their lots (a lot held
    /// whole can no longer be loaded: its expiry is set before any arrival),
    /// a must-ship request's units carry their [`Instance::must_ship_bonus`].
    /// Pins are honoured by the planner's model itself. Lists keep their
    /// order, so a plan of this instance is a plan of the original.
    pub fn with_overrides_applied(&self) -> Instance {
        let mut applied = self.clone();
        for (r, bonus) in self.must_ship_bonus() {
            applied.requests[r].value_per_unit += bonus;
        }
        for &d in &self.overrides.forbidden {
            let departure = &mut applied.departures[d];
            departure.payload_kg = 0.0;
            departure.volume_m3 = 0.0;
            departure.cold_volume_m3 = 0.0;
        }
        for &d in &self.overrides.forced {
            applied.departures[d].fixed_cost = 0.0;
        }
        for &(l, units) in &self.overrides.held {
            let lot = &mut applied.lots[l];
            if units >= lot.quantity {
                let earliest = self.departures.iter().map(|d| d.arrives).min().unwrap_or(0);
                lot.expires = Some(earliest - 1);
            } else {
                lot.quantity -= units;
            }
        }
        applied
    }

    /// Reads and validates an instance from JSON text.
    pub fn from_json(text: &str) -> Result<Instance, InstanceError> {
        let root: Value = serde_json::from_str(text).map_err(|error| InstanceError::Json {
            message: error.to_string(),
            line: error.line(),
            column: error.column(),
        })?;
        let mut reader = Reader { issues: Vec::new() };
        let instance = reader.instance(&root);
        match instance {
            Some(instance) if reader.issues.is_empty() => Ok(instance),
            _ => {
                if reader.issues.is_empty() {
                    reader.issue("instance", "(document)", "could not be read");
                }
                Err(InstanceError::Invalid(reader.issues))
            }
        }
    }
}

struct Reader {
    issues: Vec<InputIssue>,
}

/// Names an object in messages: its list, index and id when it has one.
fn object_name(list: &str, index: usize, object: &Map<String, Value>) -> String {
    match object.get("id").and_then(Value::as_str) {
        Some(id) => format!("{list}[{index}] \"{id}\""),
        None => format!("{list}[{index}]"),
    }
}

impl Reader {
    fn issue(&mut self, object: &str, field: &str, message: impl Into<String>) {
        self.issues.push(InputIssue {
            object: object.to_string(),
            field: field.to_string(),
            message: message.into(),
        });
    }

    fn field<'a>(
        &mut self,
        object: &'a Map<String, Value>,
        name: &str,
        field: &str,
    ) -> Option<&'a Value> {
        match object.get(field) {
            Some(value) => Some(value),
            None => {
                self.issue(name, field, "is missing");
                None
            }
        }
    }

    fn string(&mut self, object: &Map<String, Value>, name: &str, field: &str) -> Option<String> {
        let value = self.field(object, name, field)?;
        match value.as_str() {
            Some(text) => Some(text.to_string()),
            None => {
                self.issue(name, field, format!("must be a string, found {value}"));
                None
            }
        }
    }

    fn boolean(&mut self, object: &Map<String, Value>, name: &str, field: &str) -> Option<bool> {
        let value = self.field(object, name, field)?;
        match value.as_bool() {
            Some(flag) => Some(flag),
            None => {
                self.issue(name, field, format!("must be true or false, found {value}"));
                None
            }
        }
    }

    /// A number that must satisfy `ok` (described by `rule` in the message).
    fn number(
        &mut self,
        object: &Map<String, Value>,
        name: &str,
        field: &str,
        ok: impl Fn(f64) -> bool,
        rule: &str,
    ) -> Option<f64> {
        let value = self.field(object, name, field)?;
        match value.as_f64() {
            Some(number) if number.is_finite() && ok(number) => Some(number),
            Some(number) => {
                self.issue(name, field, format!("{number} must be {rule}"));
                None
            }
            None => {
                self.issue(name, field, format!("must be a number, found {value}"));
                None
            }
        }
    }

    /// An integer (a JSON number without fraction) that must be at least `minimum`.
    fn integer(
        &mut self,
        object: &Map<String, Value>,
        name: &str,
        field: &str,
        minimum: i64,
    ) -> Option<i64> {
        let value = self.field(object, name, field)?;
        match value.as_i64() {
            Some(number) if number > 1_000_000_000_000 => {
                self.issue(
                    name,
                    field,
                    format!("{number} is larger than the supported 10^12"),
                );
                None
            }
            Some(number) if number >= minimum => Some(number),
            Some(number) => {
                self.issue(
                    name,
                    field,
                    format!("{number} must be an integer >= {minimum}"),
                );
                None
            }
            None => {
                self.issue(
                    name,
                    field,
                    format!("must be an integer >= {minimum}, found {value}"),
                );
                None
            }
        }
    }

    /// A whole number of days, at least 0 and at most a million (larger spans are
    /// certainly data errors and would overflow day arithmetic).
    fn days(&mut self, object: &Map<String, Value>, name: &str, field: &str) -> Option<i32> {
        let days = self.integer(object, name, field, 0)?;
        if days > 1_000_000 {
            self.issue(
                name,
                field,
                format!("{days} days is more than the supported 1000000"),
            );
            return None;
        }
        i32::try_from(days).ok()
    }

    fn day(&mut self, object: &Map<String, Value>, name: &str, field: &str) -> Option<Day> {
        let text = self.string(object, name, field)?;
        match parse_day(&text) {
            Some(day) => Some(day),
            None => {
                self.issue(name, field, format!("\"{text}\" is not a date YYYY-MM-DD"));
                None
            }
        }
    }

    fn list<'a>(
        &mut self,
        root: &'a Map<String, Value>,
        field: &str,
        required: bool,
    ) -> Vec<&'a Map<String, Value>> {
        let mut objects = Vec::new();
        match root.get(field) {
            None if !required => {}
            None => self.issue("instance", field, "is missing"),
            Some(Value::Array(values)) => {
                for (index, value) in values.iter().enumerate() {
                    match value.as_object() {
                        Some(object) => objects.push(object),
                        None => self.issue(
                            &format!("{field}[{index}]"),
                            "(object)",
                            "must be a JSON object",
                        ),
                    }
                }
            }
            Some(other) => self.issue("instance", field, format!("must be a list, found {other}")),
        }
        objects
    }

    /// Builds an id index for a list, reporting duplicates and missing ids.
    fn ids(&mut self, list: &str, objects: &[&Map<String, Value>]) -> HashMap<String, usize> {
        let mut index_of = HashMap::new();
        for (index, object) in objects.iter().enumerate() {
            let name = object_name(list, index, object);
            if let Some(id) = self.string(object, &name, "id") {
                if let Some(first) = index_of.get(&id) {
                    self.issue(
                        &name,
                        "id",
                        format!("duplicate id \"{id}\" (first used by {list}[{first}])"),
                    );
                } else {
                    index_of.insert(id, index);
                }
            }
        }
        index_of
    }

    fn reference(
        &mut self,
        object: &Map<String, Value>,
        name: &str,
        field: &str,
        index_of: &HashMap<String, usize>,
        what: &str,
    ) -> Option<usize> {
        let id = self.string(object, name, field)?;
        match index_of.get(&id) {
            Some(index) => Some(*index),
            None => {
                self.issue(name, field, format!("unknown {what} \"{id}\""));
                None
            }
        }
    }

    fn destination(&mut self, object: &Map<String, Value>, name: &str) -> Option<String> {
        let code = self.string(object, name, "destination")?;
        let ok = code.len() >= 2 && code.chars().all(|c| c.is_ascii_alphanumeric());
        if ok {
            Some(code)
        } else {
            self.issue(
                name,
                "destination",
                format!("\"{code}\" is not a UN/LOCODE (country letters first)"),
            );
            None
        }
    }

    fn instance(&mut self, root: &Value) -> Option<Instance> {
        let Some(root) = root.as_object() else {
            self.issue("instance", "(document)", "must be a JSON object");
            return None;
        };
        match root.get("format").and_then(Value::as_str) {
            Some(INSTANCE_FORMAT) => {}
            Some(other) => self.issue(
                "instance",
                "format",
                format!("is \"{other}\", expected \"{INSTANCE_FORMAT}\""),
            ),
            None => self.issue(
                "instance",
                "format",
                format!("is missing, expected \"{INSTANCE_FORMAT}\""),
            ),
        }
        let name = match root.get("name") {
            None => String::new(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => {
                self.issue(
                    "instance",
                    "name",
                    format!("must be a string, found {other}"),
                );
                String::new()
            }
        };

        let node_objects = self.list(root, "nodes", true);
        let node_ids = self.ids("nodes", &node_objects);
        let mut nodes = Vec::new();
        for (index, object) in node_objects.iter().enumerate() {
            let object_label = object_name("nodes", index, object);
            let id = self.string(object, &object_label, "id").unwrap_or_default();
            let kind = self
                .string(object, &object_label, "kind")
                .unwrap_or_default();
            if !kind.is_empty() && kind != "port" && kind != "airport" {
                self.issue(
                    &object_label,
                    "kind",
                    format!("\"{kind}\" must be \"port\" or \"airport\""),
                );
            }
            nodes.push(Node { id, kind });
        }

        let mut transfer_days = vec![vec![None; nodes.len()]; nodes.len()];
        for (index, row) in transfer_days.iter_mut().enumerate() {
            row[index] = Some(0);
        }
        for (index, object) in self.list(root, "transfers", false).into_iter().enumerate() {
            let object_label = format!("transfers[{index}]");
            let from = self.reference(object, &object_label, "from", &node_ids, "node");
            let to = self.reference(object, &object_label, "to", &node_ids, "node");
            let days = self.days(object, &object_label, "days");
            if let (Some(from), Some(to), Some(days)) = (from, to, days) {
                if from == to {
                    self.issue(
                        &object_label,
                        "to",
                        "a transfer must link two different nodes",
                    );
                } else if transfer_days[from][to].is_some() {
                    self.issue(
                        &object_label,
                        "to",
                        "duplicate transfer link between these nodes",
                    );
                } else {
                    transfer_days[from][to] = Some(days);
                }
            }
        }

        let item_objects = self.list(root, "items", true);
        let item_ids = self.ids("items", &item_objects);
        let mut items = Vec::new();
        for (index, object) in item_objects.iter().enumerate() {
            let label = object_name("items", index, object);
            let item = Item {
                id: self.string(object, &label, "id").unwrap_or_default(),
                name: match object.get("name") {
                    Some(Value::String(text)) => text.clone(),
                    _ => String::new(),
                },
                unit_weight_kg: self
                    .number(object, &label, "unit_weight_kg", |x| x > 0.0, "> 0")
                    .unwrap_or(1.0),
                unit_volume_m3: self
                    .number(object, &label, "unit_volume_m3", |x| x > 0.0, "> 0")
                    .unwrap_or(1.0),
                cold_chain: self.boolean(object, &label, "cold_chain").unwrap_or(false),
                dangerous_goods: self
                    .boolean(object, &label, "dangerous_goods")
                    .unwrap_or(false),
                min_shelf_life_days: self
                    .days(object, &label, "min_shelf_life_days")
                    .unwrap_or(0),
            };
            items.push(item);
        }

        let mut destinations: Vec<String> = Vec::new();
        let mut destination_index: HashMap<String, usize> = HashMap::new();
        let mut intern = |code: &str| -> usize {
            if let Some(index) = destination_index.get(code) {
                return *index;
            }
            destinations.push(code.to_string());
            destination_index.insert(code.to_string(), destinations.len() - 1);
            destinations.len() - 1
        };

        let lot_objects = self.list(root, "lots", true);
        let _ = self.ids("lots", &lot_objects);
        let mut lots = Vec::new();
        for (index, object) in lot_objects.iter().enumerate() {
            let label = object_name("lots", index, object);
            let id = self.string(object, &label, "id").unwrap_or_default();
            let item = self.reference(object, &label, "item", &item_ids, "item");
            let node = self.reference(object, &label, "node", &node_ids, "node");
            let quantity = self.integer(object, &label, "quantity", 1);
            let pack_size = self.integer(object, &label, "pack_size", 1);
            if let (Some(quantity), Some(pack_size)) = (quantity, pack_size) {
                if quantity % pack_size != 0 {
                    self.issue(
                        &label,
                        "quantity",
                        format!("{quantity} is not a multiple of pack_size {pack_size}"),
                    );
                }
            }
            let available = self.day(object, &label, "available");
            let expires = match object.get("expires") {
                None | Some(Value::Null) => None,
                Some(_) => self.day(object, &label, "expires"),
            };
            let mut earmark = Vec::new();
            match object.get("earmark") {
                None | Some(Value::Null) => {}
                Some(Value::Array(codes)) => {
                    for code in codes {
                        match code.as_str() {
                            Some(text) => earmark.push(text.to_string()),
                            None => self.issue(
                                &label,
                                "earmark",
                                format!("{code} is not a country code string"),
                            ),
                        }
                    }
                }
                Some(other) => self.issue(
                    &label,
                    "earmark",
                    format!("must be a list of country codes, found {other}"),
                ),
            }
            lots.push(Lot {
                id,
                item: item.unwrap_or(0),
                node: node.unwrap_or(0),
                quantity: quantity.unwrap_or(1),
                pack_size: pack_size.unwrap_or(1),
                available: available.unwrap_or(0),
                expires,
                earmark,
            });
        }

        let departure_objects = self.list(root, "departures", true);
        let _ = self.ids("departures", &departure_objects);
        let mut departures = Vec::new();
        for (index, object) in departure_objects.iter().enumerate() {
            let label = object_name("departures", index, object);
            let id = self.string(object, &label, "id").unwrap_or_default();
            let node = self.reference(object, &label, "node", &node_ids, "node");
            let mode = self.string(object, &label, "mode").unwrap_or_default();
            if !mode.is_empty() && mode != "air" && mode != "sea" {
                self.issue(
                    &label,
                    "mode",
                    format!("\"{mode}\" must be \"air\" or \"sea\""),
                );
            }
            let destination = self
                .destination(object, &label)
                .unwrap_or_else(|| "??".to_string());
            let departs = self.day(object, &label, "departs");
            let arrives = self.day(object, &label, "arrives");
            if let (Some(departs), Some(arrives)) = (departs, arrives) {
                if arrives < departs {
                    self.issue(
                        &label,
                        "arrives",
                        format!(
                            "{} is before departs {}",
                            format_day(arrives),
                            format_day(departs)
                        ),
                    );
                }
            }
            let non_negative = |x: f64| x >= 0.0;
            let departure = Departure {
                id,
                node: node.unwrap_or(0),
                mode,
                destination_index: intern(&destination),
                destination,
                departs: departs.unwrap_or(0),
                arrives: arrives.unwrap_or(0),
                payload_kg: self
                    .number(object, &label, "payload_kg", non_negative, ">= 0")
                    .unwrap_or(0.0),
                volume_m3: self
                    .number(object, &label, "volume_m3", non_negative, ">= 0")
                    .unwrap_or(0.0),
                cold_volume_m3: self
                    .number(object, &label, "cold_volume_m3", non_negative, ">= 0")
                    .unwrap_or(0.0),
                dangerous_goods: self
                    .boolean(object, &label, "dangerous_goods")
                    .unwrap_or(false),
                fixed_cost: self
                    .number(object, &label, "fixed_cost", non_negative, ">= 0")
                    .unwrap_or(0.0),
                cost_per_kg: self
                    .number(object, &label, "cost_per_kg", non_negative, ">= 0")
                    .unwrap_or(0.0),
            };
            departures.push(departure);
        }

        let request_objects = self.list(root, "requests", true);
        let _ = self.ids("requests", &request_objects);
        let mut requests = Vec::new();
        for (index, object) in request_objects.iter().enumerate() {
            let label = object_name("requests", index, object);
            let id = self.string(object, &label, "id").unwrap_or_default();
            let destination = self
                .destination(object, &label)
                .unwrap_or_else(|| "??".to_string());
            let item = self.reference(object, &label, "item", &item_ids, "item");
            let request = Request {
                id,
                destination_index: intern(&destination),
                destination,
                item: item.unwrap_or(0),
                quantity: self.integer(object, &label, "quantity", 1).unwrap_or(1),
                value_per_unit: self
                    .number(object, &label, "value_per_unit", |x| x > 0.0, "> 0")
                    .unwrap_or(1.0),
                needed_by: self.day(object, &label, "needed_by").unwrap_or(0),
                grace_days: self.days(object, &label, "grace_days").unwrap_or(0),
            };
            requests.push(request);
        }

        let overrides = self.overrides(root, &lots, &departures, &requests);
        Some(Instance {
            name,
            nodes,
            transfer_days,
            items,
            lots,
            departures,
            requests,
            destinations,
            overrides,
        })
    }

    /// Reads the optional `overrides` object against the lists read.
    fn overrides(
        &mut self,
        root: &Map<String, Value>,
        lots: &[Lot],
        departures: &[Departure],
        requests: &[Request],
    ) -> Overrides {
        let mut overrides = Overrides::default();
        let Some(value) = root.get("overrides") else {
            return overrides;
        };
        let Some(object) = value.as_object() else {
            self.issue(
                "instance",
                "overrides",
                format!("must be a JSON object, found {value}"),
            );
            return overrides;
        };
        for key in object.keys() {
            if !["pin", "forbid", "force", "hold", "must_ship"].contains(&key.as_str()) {
                self.issue(
                    "overrides",
                    key,
                    "is not an override (pin, forbid, force, hold or must_ship)",
                );
            }
        }
        let index = |ids: Vec<&str>| -> HashMap<String, usize> {
            ids.into_iter()
                .enumerate()
                .map(|(i, id)| (id.to_string(), i))
                .collect()
        };
        let lot_ids = index(lots.iter().map(|l| l.id.as_str()).collect());
        let departure_ids = index(departures.iter().map(|d| d.id.as_str()).collect());
        let request_ids = index(requests.iter().map(|r| r.id.as_str()).collect());
        let entries = |reader: &mut Reader, field: &str| -> Vec<(String, Map<String, Value>)> {
            let mut out = Vec::new();
            match object.get(field) {
                None => {}
                Some(Value::Array(values)) => {
                    for (k, value) in values.iter().enumerate() {
                        let name = format!("overrides.{field}[{k}]");
                        match value.as_object() {
                            Some(entry) => out.push((name, entry.clone())),
                            None => reader.issue(&name, "(object)", "must be a JSON object"),
                        }
                    }
                }
                Some(other) => {
                    reader.issue("overrides", field, format!("must be a list, found {other}"))
                }
            }
            out
        };
        for (name, entry) in entries(self, "pin") {
            let r = self.reference(&entry, &name, "request", &request_ids, "request");
            let d = self.reference(&entry, &name, "departure", &departure_ids, "departure");
            if let (Some(r), Some(d)) = (r, d) {
                if departures[d].destination != requests[r].destination {
                    self.issue(
                        &name,
                        "departure",
                        format!(
                            "\"{}\" goes to {}, request \"{}\" is at {}",
                            departures[d].id,
                            departures[d].destination,
                            requests[r].id,
                            requests[r].destination
                        ),
                    );
                } else if let Some(&(_, first)) = overrides.pins.iter().find(|p| p.0 == r) {
                    self.issue(
                        &name,
                        "request",
                        format!(
                            "\"{}\" is already pinned to \"{}\"",
                            requests[r].id, departures[first].id
                        ),
                    );
                } else {
                    overrides.pins.push((r, d));
                }
            }
        }
        for (field, forbid) in [("forbid", true), ("force", false)] {
            for (name, entry) in entries(self, field) {
                if let Some(d) =
                    self.reference(&entry, &name, "departure", &departure_ids, "departure")
                {
                    let (list, other, other_field) = if forbid {
                        (&overrides.forbidden, &overrides.forced, "force")
                    } else {
                        (&overrides.forced, &overrides.forbidden, "forbid")
                    };
                    if other.contains(&d) {
                        self.issue(
                            &name,
                            "departure",
                            format!(
                                "\"{}\" is also under {other_field}: a departure cannot be both",
                                departures[d].id
                            ),
                        );
                    } else if !list.contains(&d) {
                        if forbid {
                            overrides.forbidden.push(d);
                        } else {
                            overrides.forced.push(d);
                        }
                    }
                }
            }
        }
        for &(r, d) in &overrides.pins {
            if overrides.forbidden.contains(&d) {
                self.issue(
                    "overrides.pin",
                    "departure",
                    format!(
                        "request \"{}\" is pinned to \"{}\", which is forbidden",
                        requests[r].id, departures[d].id
                    ),
                );
            }
        }
        for (name, entry) in entries(self, "hold") {
            let l = self.reference(&entry, &name, "lot", &lot_ids, "lot");
            let units = self.integer(&entry, &name, "quantity", 1);
            if let (Some(l), Some(units)) = (l, units) {
                let lot = &lots[l];
                let already: i64 = overrides
                    .held
                    .iter()
                    .filter(|h| h.0 == l)
                    .map(|h| h.1)
                    .sum();
                if units % lot.pack_size != 0 {
                    self.issue(
                        &name,
                        "quantity",
                        format!(
                            "{units} is not a multiple of lot \"{}\"'s pack size {}",
                            lot.id, lot.pack_size
                        ),
                    );
                } else if already + units > lot.quantity {
                    self.issue(
                        &name,
                        "quantity",
                        format!(
                            "{} units held in all, lot \"{}\" has {}",
                            already + units,
                            lot.id,
                            lot.quantity
                        ),
                    );
                } else {
                    overrides.held.push((l, units));
                }
            }
        }
        for (name, entry) in entries(self, "must_ship") {
            if let Some(r) = self.reference(&entry, &name, "request", &request_ids, "request") {
                if !overrides.must_ship.contains(&r) {
                    overrides.must_ship.push(r);
                }
            }
        }
        overrides
    }
}
