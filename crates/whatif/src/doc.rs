//! A `reliefhub-plan-instance/1` document as typed data that can be
//! changed and written back: the fields the format names are typed, every
//! other field (a lot's donor and `stock_at`, a departure's `service`, a
//! request's `priority`) is kept as it came, so a document read and
//! written unchanged plans exactly like the original.

use reliefhub_planner::instance::{format_day, parse_day, Day};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The whole instance document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceDoc {
    pub format: String,
    pub name: String,
    pub nodes: Vec<NodeDoc>,
    pub transfers: Vec<Value>,
    pub items: Vec<ItemDoc>,
    pub lots: Vec<LotDoc>,
    pub departures: Vec<DepartureDoc>,
    pub requests: Vec<RequestDoc>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeDoc {
    pub id: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemDoc {
    pub id: String,
    pub unit_weight_kg: f64,
    pub unit_volume_m3: f64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LotDoc {
    pub id: String,
    pub item: String,
    pub node: String,
    pub quantity: i64,
    pub pack_size: i64,
    pub available: String,
    pub expires: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartureDoc {
    pub id: String,
    pub node: String,
    pub mode: String,
    pub destination: String,
    pub departs: String,
    pub arrives: String,
    pub payload_kg: f64,
    pub volume_m3: f64,
    pub cold_volume_m3: f64,
    pub fixed_cost: f64,
    pub cost_per_kg: f64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestDoc {
    pub id: String,
    pub destination: String,
    pub item: String,
    pub quantity: i64,
    pub value_per_unit: f64,
    pub needed_by: String,
    pub grace_days: i64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn extra_text<'a>(extra: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
    extra.get(field).and_then(Value::as_str)
}

/// A date field as a day number; an unreadable date reads as `None`.
pub fn day(text: &str) -> Option<Day> {
    parse_day(text)
}

/// A day shifted by whole days, written back as `YYYY-MM-DD`.
pub fn shifted(text: &str, days: i64) -> String {
    match parse_day(text) {
        Some(d) => format_day(d + i32::try_from(days).unwrap_or(i32::MAX / 2)),
        None => text.to_string(),
    }
}

impl LotDoc {
    /// Where the stock is: a node, `inbound:LEG` or `transfer:CODE`.
    pub fn stock_at(&self) -> &str {
        extra_text(&self.extra, "stock_at").unwrap_or(&self.node)
    }

    /// The inbound leg the stock is travelling on, if any.
    pub fn leg(&self) -> Option<&str> {
        self.stock_at().strip_prefix("inbound:")
    }

    /// Stock moving between the hub's nodes.
    pub fn in_transfer(&self) -> bool {
        self.stock_at().starts_with("transfer:")
    }

    pub fn donor(&self) -> Option<&str> {
        extra_text(&self.extra, "donor")
    }
}

impl DepartureDoc {
    /// `charter` or `scheduled` when the document says so.
    pub fn service(&self) -> Option<&str> {
        extra_text(&self.extra, "service")
    }
}

impl RequestDoc {
    /// The request's priority (1 most urgent to 5); 3 when not given.
    pub fn priority(&self) -> i64 {
        self.extra
            .get("priority")
            .and_then(Value::as_i64)
            .unwrap_or(3)
            .clamp(1, 5)
    }
}

impl InstanceDoc {
    /// Reads an instance document (JSON text). Only the document's shape is
    /// checked here; the planner checks the rules of the format.
    pub fn from_json(text: &str) -> Result<InstanceDoc, String> {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de)
            .map_err(|e| format!("instance: {}: {}", e.path(), e.inner()))
    }

    pub fn from_value(value: &Value) -> Result<InstanceDoc, String> {
        serde_path_to_error::deserialize(value)
            .map_err(|e| format!("instance: {}: {}", e.path(), e.inner()))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn item(&self, id: &str) -> Option<&ItemDoc> {
        self.items.iter().find(|i| i.id == id)
    }

    /// The first day of the plan: the earliest day any lot is available
    /// (today, when stock is at the hub) or any departure leaves.
    pub fn first_day(&self) -> Option<Day> {
        self.lots
            .iter()
            .filter_map(|l| day(&l.available))
            .chain(self.departures.iter().filter_map(|d| day(&d.departs)))
            .min()
    }

    /// The last day a departure of the instance arrives.
    pub fn last_day(&self) -> Option<Day> {
        self.departures.iter().filter_map(|d| day(&d.arrives)).max()
    }
}
