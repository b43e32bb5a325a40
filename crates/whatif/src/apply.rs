//! Applying a scenario to a planning instance: first the random draws of
//! the run, then the changes in the file's order. The instance is a copy;
//! nothing else is touched. Every change says what it did (`effects`), so a
//! change that found nothing to change is visible in the report.

use std::collections::BTreeSet;

use reliefhub_planner::instance::{format_day, Day};
use reliefhub_planner::SplitMix64;
use serde_json::Value;

use crate::doc::{day, shifted, InstanceDoc, RequestDoc};
use crate::scenario::{Change, HubFacts, LogNormal, Scenario};

/// A closed window of days; `None` ends are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Option<Day>,
    pub to: Option<Day>,
}

impl Window {
    pub fn of(from: Option<&str>, to: Option<&str>) -> Window {
        Window {
            from: from.and_then(day),
            to: to.and_then(day),
        }
    }

    pub fn contains(&self, d: Day) -> bool {
        self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|t| d <= t)
    }

    fn describe(&self) -> String {
        match (self.from, self.to) {
            (None, None) => "for the whole plan".to_string(),
            (Some(f), None) => format!("from {}", format_day(f)),
            (None, Some(t)) => format!("until {}", format_day(t)),
            (Some(f), Some(t)) => format!("from {} to {}", format_day(f), format_day(t)),
        }
    }
}

/// The seed of draw `draw` of a scenario seeded `seed`.
pub fn draw_seed(seed: u64, draw: u64) -> u64 {
    let mut mix = SplitMix64::new(seed ^ draw.wrapping_mul(0xA076_1D64_78BD_642F));
    mix.next_u64()
}

/// A standard normal number (Box-Muller).
fn normal(rng: &mut SplitMix64) -> f64 {
    let u1 = 1.0 - rng.unit(); // (0, 1]
    let u2 = rng.unit();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Whole days drawn from a log-normal distribution.
pub fn log_normal_days(rng: &mut SplitMix64, spec: &LogNormal) -> i64 {
    let days = spec.median_days * (spec.spread * normal(rng)).exp();
    if days.is_finite() {
        days.round().clamp(0.0, crate::scenario::MAX_DAYS as f64) as i64
    } else {
        0
    }
}

/// What one application did: the changed instance, a sentence per change,
/// and the departures and windows the timeline chart shows.
#[derive(Debug, Clone)]
pub struct Applied {
    pub doc: InstanceDoc,
    pub effects: Vec<String>,
    /// Departures of the original instance that no longer leave.
    pub cancelled: BTreeSet<String>,
    /// (node, window) of every closure.
    pub closures: Vec<(String, Window)>,
}

/// Applies `scenario` to a copy of `base`; with `draw`, that run's random
/// draws first. The scenario must have passed [`Scenario::check`].
pub fn apply(
    base: &InstanceDoc,
    scenario: &Scenario,
    facts: &HubFacts,
    draw: Option<u64>,
) -> Applied {
    let mut doc = base.clone();
    let mut effects = Vec::new();
    let mut closures = Vec::new();
    if let (Some(draw), Some(random)) = (draw, &scenario.random) {
        let mut rng = SplitMix64::new(draw_seed(scenario.seed.unwrap_or(1), draw));
        if let Some(p) = random.charter_cancellation {
            let before = doc.departures.len();
            doc.departures
                .retain(|d| !(d.service() == Some("charter") && rng.unit() < p));
            effects.push(format!(
                "{} charters cancelled at random",
                before - doc.departures.len()
            ));
        }
        if let Some(spec) = &random.departure_delay {
            let mut total = 0;
            for d in &mut doc.departures {
                let days = log_normal_days(&mut rng, spec);
                total += days;
                if days > 0 {
                    d.departs = shifted(&d.departs, days);
                    d.arrives = shifted(&d.arrives, days);
                }
            }
            effects.push(format!("departures delayed {total} days in all"));
        }
        if let Some(spec) = &random.leg_delay {
            let legs: BTreeSet<String> = doc
                .lots
                .iter()
                .filter_map(|l| l.leg())
                .map(str::to_string)
                .collect();
            let mut total = 0;
            for leg in legs {
                let days = log_normal_days(&mut rng, spec);
                total += days;
                if days > 0 {
                    for l in doc
                        .lots
                        .iter_mut()
                        .filter(|l| l.leg() == Some(leg.as_str()))
                    {
                        l.available = shifted(&l.available, days);
                    }
                }
            }
            effects.push(format!("inbound legs delayed {total} days in all"));
        }
    }
    let mut added = 0;
    for change in &scenario.changes {
        let effect = match change {
            Change::CloseNode { node, from, to } => {
                let window = Window::of(from.as_deref(), to.as_deref());
                closures.push((node.clone(), window));
                close_node(&mut doc, node, window)
            }
            Change::CancelDeparture { departure } => {
                let before = doc.departures.len();
                doc.departures.retain(|d| &d.id != departure);
                if doc.departures.len() < before {
                    format!("departure {departure} cancelled")
                } else {
                    format!("departure {departure} was already gone")
                }
            }
            Change::DelayDeparture { departure, days } => {
                match doc.departures.iter_mut().find(|d| &d.id == departure) {
                    Some(d) => {
                        d.departs = shifted(&d.departs, *days);
                        d.arrives = shifted(&d.arrives, *days);
                        format!(
                            "departure {departure} delayed {days} days (leaves {})",
                            d.departs
                        )
                    }
                    None => format!("departure {departure} was already gone"),
                }
            }
            Change::DelayLeg { leg, days } => {
                let mut units = 0;
                for l in doc
                    .lots
                    .iter_mut()
                    .filter(|l| l.leg() == Some(leg.as_str()))
                {
                    l.available = shifted(&l.available, *days);
                    units += l.quantity;
                }
                format!("inbound leg {leg} delayed {days} days ({units} units on board)")
            }
            Change::LoseLeg { leg } => {
                let units: i64 = doc
                    .lots
                    .iter()
                    .filter(|l| l.leg() == Some(leg.as_str()))
                    .map(|l| l.quantity)
                    .sum();
                doc.lots.retain(|l| l.leg() != Some(leg.as_str()));
                format!("inbound leg {leg} lost ({units} units on board)")
            }
            Change::DepartureCapacity {
                departure,
                factor,
                payload_kg,
                volume_m3,
            } => match doc.departures.iter_mut().find(|d| &d.id == departure) {
                Some(d) => {
                    if let Some(f) = factor {
                        d.payload_kg *= f;
                        d.volume_m3 *= f;
                        d.cold_volume_m3 *= f;
                    }
                    if let Some(p) = payload_kg {
                        d.payload_kg = *p;
                    }
                    if let Some(v) = volume_m3 {
                        d.volume_m3 = *v;
                        d.cold_volume_m3 = d.cold_volume_m3.min(*v);
                    }
                    format!(
                        "departure {departure} offers {:.0} kg, {:.1} m3",
                        d.payload_kg, d.volume_m3
                    )
                }
                None => format!("departure {departure} was already gone"),
            },
            Change::NodeCapacity {
                node,
                factor,
                from,
                to,
            } => {
                let window = Window::of(from.as_deref(), to.as_deref());
                let mut count = 0;
                for d in doc.departures.iter_mut().filter(|d| {
                    &d.node == node && day(&d.departs).is_some_and(|x| window.contains(x))
                }) {
                    d.payload_kg *= factor;
                    d.volume_m3 *= factor;
                    d.cold_volume_m3 *= factor;
                    count += 1;
                }
                format!(
                    "{count} departures from {node} {} at {:.0} % of their capacity",
                    window.describe(),
                    factor * 100.0
                )
            }
            Change::MultiplyRequests {
                destination,
                factor,
                item,
            } => {
                let mut before = 0;
                let mut after = 0;
                for r in doc.requests.iter_mut().filter(|r| {
                    &r.destination == destination && item.as_ref().is_none_or(|i| &r.item == i)
                }) {
                    before += r.quantity;
                    r.quantity = (r.quantity as f64 * factor).round() as i64;
                    after += r.quantity;
                }
                doc.requests.retain(|r| r.quantity > 0);
                format!("requests at {destination}: {before} units become {after}")
            }
            Change::AddRequest {
                destination,
                item,
                quantity,
                priority,
                needed_by,
                grace_days,
                id,
            } => {
                added += 1;
                let id = id.clone().unwrap_or_else(|| format!("WHATIF-{added}"));
                if doc.item(item).is_none() {
                    if let Some(i) = facts.items.iter().find(|i| &i.id == item) {
                        doc.items.push(i.clone());
                    }
                }
                // Valued as the hub values its requests: the item's price
                // times the priority's multiplier.
                let (weight, price) = doc.item(item).map_or((1.0, None), |i| {
                    (
                        i.unit_weight_kg,
                        i.extra.get("value_usd_per_unit").and_then(Value::as_f64),
                    )
                });
                let mut extra = serde_json::Map::new();
                extra.insert("priority".to_string(), Value::from(*priority));
                doc.requests.push(RequestDoc {
                    id: id.clone(),
                    destination: destination.clone(),
                    item: item.clone(),
                    quantity: *quantity,
                    value_per_unit: reliefhub_planner::value::request_value_per_unit(
                        price, weight, *priority,
                    ),
                    needed_by: needed_by.clone(),
                    grace_days: *grace_days,
                    extra,
                });
                format!("request {id} added: {quantity} {item} to {destination} by {needed_by}")
            }
            Change::WithdrawPledge { pledge } => withdraw_pledge(&mut doc, facts, pledge),
            Change::Costs { factor, mode, node } => {
                let mut count = 0;
                for d in doc.departures.iter_mut().filter(|d| {
                    mode.as_ref().is_none_or(|m| &d.mode == m)
                        && node.as_ref().is_none_or(|n| &d.node == n)
                }) {
                    d.fixed_cost *= factor;
                    d.cost_per_kg *= factor;
                    count += 1;
                }
                format!("costs of {count} departures x {factor}")
            }
        };
        effects.push(effect);
    }
    let left: BTreeSet<&str> = doc.departures.iter().map(|d| d.id.as_str()).collect();
    let cancelled = base
        .departures
        .iter()
        .filter(|d| !left.contains(d.id.as_str()))
        .map(|d| d.id.clone())
        .collect();
    Applied {
        doc,
        effects,
        cancelled,
        closures,
    }
}

/// No departure leaves the node in the window; stock that would become
/// available there in the window (arriving, trucked in, or at the node
/// from a day inside it) waits until the day after; with no end, it never
/// becomes available. Stock available before the window can still leave
/// before it, so it is left alone.
fn close_node(doc: &mut InstanceDoc, node: &str, window: Window) -> String {
    let before = doc.departures.len();
    doc.departures
        .retain(|d| !(d.node == node && day(&d.departs).is_some_and(|x| window.contains(x))));
    let cancelled = before - doc.departures.len();
    let mut held = 0;
    let mut held_units = 0;
    let mut stuck_units = 0;
    doc.lots.retain_mut(|l| {
        if l.node != node || !day(&l.available).is_some_and(|x| window.contains(x)) {
            return true;
        }
        match window.to {
            Some(to) => {
                l.available = format_day(to + 1);
                held += 1;
                held_units += l.quantity;
                true
            }
            None => {
                stuck_units += l.quantity;
                false
            }
        }
    });
    let mut text = format!(
        "{node} closed {}: {cancelled} departures cancelled",
        window.describe()
    );
    if held > 0 {
        text.push_str(&format!(
            ", {held_units} units wait until it reopens ({held} lots)"
        ));
    }
    if stuck_units > 0 {
        text.push_str(&format!(", {stuck_units} units cannot move"));
    }
    text
}

/// What is outstanding of the pledge does not come: it is taken from the
/// donor's goods still inbound, latest arrival first (the last to come is
/// the first the donor would hold back).
fn withdraw_pledge(doc: &mut InstanceDoc, facts: &HubFacts, code: &str) -> String {
    let Some(pledge) = facts.pledges.iter().find(|p| p.code == code) else {
        return format!("pledge {code} is unknown");
    };
    let mut removed = 0;
    for (item, outstanding) in &pledge.outstanding {
        let mut left = *outstanding;
        let mut order: Vec<usize> = (0..doc.lots.len())
            .filter(|&i| {
                let l = &doc.lots[i];
                l.leg().is_some() && l.donor() == Some(pledge.donor.as_str()) && &l.item == item
            })
            .collect();
        order.sort_by_key(|&i| std::cmp::Reverse(day(&doc.lots[i].available)));
        for i in order {
            if left <= 0 {
                break;
            }
            let lot = &mut doc.lots[i];
            let pack = lot.pack_size.max(1);
            let take = ((left + pack - 1) / pack * pack).min(lot.quantity);
            lot.quantity -= take;
            left -= take;
            removed += take;
        }
    }
    doc.lots.retain(|l| l.quantity > 0);
    if removed == 0 {
        format!("pledge {code} withdrawn: nothing of it is inbound, so the plan does not change")
    } else {
        format!(
            "pledge {code} withdrawn: {removed} units of {} inbound do not come",
            pledge.donor
        )
    }
}
