//! What one planned run comes to, in the figures a hub manager compares:
//! aid value delivered, on-time share by priority, tonnes by destination,
//! freight cost, unmet requests by reason, stock expiring unused. Only this
//! summary is kept of a run; its instance and plan are dropped.

use std::collections::{BTreeMap, BTreeSet};

use reliefhub_planner::instance::Day;
use reliefhub_planner::plan::timeliness;
use reliefhub_planner::Plan;
use serde::Serialize;

use crate::doc::{day, InstanceDoc};

/// The reasons unmet requests are grouped by, in the report's order.
pub const REASONS: [&str; 12] = [
    "no departure",
    "dangerous goods",
    "cold chain",
    "no stock",
    "earmarked",
    "expiry",
    "stock used by others",
    "capacity",
    "charter not worth its cost",
    "freight above value",
    "pack size",
    "other",
];

/// The group of a planner's reason (its sentences start the same way).
pub fn reason_group(reason: &str) -> &'static str {
    let r = reason.to_ascii_lowercase();
    if r.starts_with("no departure to") {
        if r.contains("dangerous goods") {
            "dangerous goods"
        } else if r.contains("cold-chain") || r.contains("cold chain") {
            "cold chain"
        } else {
            "no departure"
        }
    } else if r.starts_with("no stock") {
        "no stock"
    } else if r.contains("earmarked") {
        "earmarked"
    } else if r.contains("expire") {
        "expiry"
    } else if r.contains("is used up") || r.contains("allocated to requests") {
        "stock used by others"
    } else if r.contains("cold volume")
        || r.starts_with("capacity")
        || r.contains("fits only departures")
    {
        "capacity"
    } else if r.contains("charter") {
        "charter not worth its cost"
    } else if r.starts_with("freight") {
        "freight above value"
    } else if r.contains("less than one pack") {
        "pack size"
    } else {
        "other"
    }
}

/// Unmet requests of one reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct UnmetTally {
    pub requests: u32,
    pub units: i64,
    pub kg: f64,
}

/// The summary of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// The plan's objective (value less freight).
    pub objective: f64,
    /// Aid value delivered (value per unit x timeliness).
    pub value_delivered: f64,
    /// Freight: per kg on every kg, plus the fixed cost of departures used.
    pub freight_cost: f64,
    pub delivered_kg: f64,
    pub requested_kg: f64,
    /// Per priority 1..=5: (kg requested, kg delivered by the needed-by day).
    pub on_time_kg: [(f64, f64); 5],
    /// Per destination: (kg requested, kg delivered).
    pub by_destination: BTreeMap<String, (f64, f64)>,
    pub unmet: BTreeMap<&'static str, UnmetTally>,
    /// Stock not planned that expires by the end of the horizon, kg.
    pub expiring_unused_kg: f64,
    /// Value delivered by day (cumulative), on the report's day axis.
    pub value_by_day: Vec<f64>,
    /// kg loaded on departures, by the departure's node.
    pub loaded_kg_by_node: BTreeMap<String, f64>,
    /// kg taken from lots, by the lot's node.
    pub taken_kg_by_lot_node: BTreeMap<String, f64>,
    /// Departures the plan uses (kept for runs that are not random draws).
    pub used_departures: Vec<String>,
}

/// The days the report's charts span: from `first`, `len` days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayAxis {
    pub first: Day,
    pub len: usize,
}

impl DayAxis {
    /// From the instance's first day to its last arrival (at least one day,
    /// at most two years).
    pub fn of(doc: &InstanceDoc) -> DayAxis {
        let first = doc.first_day().unwrap_or(0);
        let last = doc.last_day().unwrap_or(first).max(first);
        DayAxis {
            first,
            len: usize::try_from(last - first + 1).unwrap_or(1).clamp(1, 730),
        }
    }

    pub fn last(&self) -> Day {
        self.first + i32::try_from(self.len).unwrap_or(1) - 1
    }
}

/// Summarises the plan of `doc` (the plan's indices follow the document's
/// lists, as the planner read them).
pub fn summarise(doc: &InstanceDoc, plan: &Plan, axis: DayAxis, keep_used: bool) -> RunSummary {
    let weight: BTreeMap<&str, f64> = doc
        .items
        .iter()
        .map(|i| (i.id.as_str(), i.unit_weight_kg))
        .collect();
    let kg = |item: &str, units: i64| weight.get(item).copied().unwrap_or(0.0) * units as f64;
    let mut on_time_kg = [(0.0, 0.0); 5];
    let mut by_destination: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    let mut requested_kg = 0.0;
    for r in &doc.requests {
        let w = kg(&r.item, r.quantity);
        requested_kg += w;
        on_time_kg[usize::try_from(r.priority() - 1).unwrap_or(0).min(4)].0 += w;
        by_destination.entry(r.destination.clone()).or_default().0 += w;
    }
    let mut value_delivered = 0.0;
    let mut freight = 0.0;
    let mut delivered_kg = 0.0;
    let mut used = vec![false; doc.departures.len()];
    let mut taken = vec![0i64; doc.lots.len()];
    let mut value_by_day = vec![0.0; axis.len];
    let mut loaded_kg_by_node: BTreeMap<String, f64> = BTreeMap::new();
    let mut taken_kg_by_lot_node: BTreeMap<String, f64> = BTreeMap::new();
    for a in &plan.allocations {
        let (Some(lot), Some(dep), Some(req)) = (
            doc.lots.get(a.lot),
            doc.departures.get(a.departure),
            doc.requests.get(a.request),
        ) else {
            continue;
        };
        let w = kg(&lot.item, a.quantity);
        let arrives = day(&dep.arrives).unwrap_or(axis.first);
        let needed = day(&req.needed_by).unwrap_or(arrives);
        let late = (arrives - needed).max(0);
        let grace = i32::try_from(req.grace_days).unwrap_or(i32::MAX);
        let value = a.quantity as f64 * req.value_per_unit * timeliness(late, grace);
        value_delivered += value;
        freight += w * dep.cost_per_kg;
        delivered_kg += w;
        used[a.departure] = true;
        taken[a.lot] += a.quantity;
        if late == 0 {
            on_time_kg[usize::try_from(req.priority() - 1).unwrap_or(0).min(4)].1 += w;
        }
        by_destination.entry(req.destination.clone()).or_default().1 += w;
        *loaded_kg_by_node.entry(dep.node.clone()).or_default() += w;
        *taken_kg_by_lot_node.entry(lot.node.clone()).or_default() += w;
        let index = usize::try_from((arrives - axis.first).max(0))
            .unwrap_or(0)
            .min(axis.len - 1);
        value_by_day[index] += value;
    }
    for i in 1..value_by_day.len() {
        value_by_day[i] += value_by_day[i - 1];
    }
    freight += doc
        .departures
        .iter()
        .zip(&used)
        .filter(|(_, u)| **u)
        .map(|(d, _)| d.fixed_cost)
        .sum::<f64>();
    let mut unmet: BTreeMap<&'static str, UnmetTally> = BTreeMap::new();
    for u in &plan.unmet {
        let Some(r) = doc.requests.get(u.request) else {
            continue;
        };
        let tally = unmet.entry(reason_group(&u.reason)).or_default();
        tally.requests += 1;
        tally.units += u.quantity;
        tally.kg += kg(&r.item, u.quantity);
    }
    let horizon = axis.last();
    let expiring_unused_kg = doc
        .lots
        .iter()
        .zip(&taken)
        .filter(|(l, _)| {
            l.expires
                .as_deref()
                .and_then(day)
                .is_some_and(|e| e <= horizon)
        })
        .map(|(l, t)| kg(&l.item, (l.quantity - t).max(0)))
        .sum::<f64>()
        .max(0.0);
    let used_departures = if keep_used {
        let set: BTreeSet<&str> = doc
            .departures
            .iter()
            .zip(&used)
            .filter(|(_, u)| **u)
            .map(|(d, _)| d.id.as_str())
            .collect();
        set.into_iter().map(str::to_string).collect()
    } else {
        Vec::new()
    };
    RunSummary {
        objective: plan.objective,
        value_delivered,
        freight_cost: freight,
        delivered_kg,
        requested_kg,
        on_time_kg,
        by_destination,
        unmet,
        expiring_unused_kg,
        value_by_day,
        loaded_kg_by_node,
        taken_kg_by_lot_node,
        used_departures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_planners_reasons_fall_in_their_groups() {
        let cases = [
            ("no departure to TDNDJ is scheduled", "no departure"),
            (
                "no departure to TDNDJ arrives by 2025-04-01 (needed by 2025-03-20 + 5 grace days); the first arrives 2025-04-09",
                "no departure",
            ),
            (
                "no departure to SDPZU arriving by 2025-04-01 accepts dangerous goods (UN3481)",
                "dangerous goods",
            ),
            (
                "no departure to SDPZU arriving by 2025-04-01 has cold-chain space",
                "cold chain",
            ),
            ("no stock of RUTF-150 at the hub", "no stock"),
            (
                "no stock of RUTF-150 at the hub or arriving in time for a departure to SDPZU (last one leaves 2025-04-01)",
                "no stock",
            ),
            ("stock of HEB-10KG exists but is earmarked for SD, TD", "earmarked"),
            (
                "all eligible lots of ORS-CTN expire before the arrival + 90 days minimum shelf life",
                "expiry",
            ),
            (
                "the eligible stock of HEB-10KG (400 units) is used up",
                "stock used by others",
            ),
            (
                "the eligible stock of HEB-10KG (400 units) is allocated to requests of more value per kg (RQ-1)",
                "stock used by others",
            ),
            ("cold volume on the departures to SDPZU (AIR-1) is full", "capacity"),
            (
                "capacity on departures AIR-1, SEA-2 is used by higher-value cargo",
                "capacity",
            ),
            (
                "capacity on departures AIR-1 is used by higher-value cargo; charter AIR-2 not worth its fixed cost for this cargo",
                "capacity",
            ),
            (
                "sending the rest would need charter AIR-3, not worth its fixed cost for this cargo",
                "charter not worth its cost",
            ),
            (
                "freight on the departures to SDPZU costs more than the aid value of 4.2 per unit",
                "freight above value",
            ),
            (
                "the remaining 3 units are less than one pack (10) of the eligible stock of X",
                "pack size",
            ),
            (
                "the remaining eligible stock of X (40 units) fits only departures already used by more valuable cargo",
                "capacity",
            ),
        ];
        for (reason, group) in cases {
            assert_eq!(reason_group(reason), group, "{reason}");
            assert!(REASONS.contains(&group));
        }
    }
}
