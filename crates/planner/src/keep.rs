//! Re-planning that keeps what was already agreed: a list of allocations
//! (the loads of an accepted plan, translated to the new instance) is kept
//! as far as it still fits, and only the rest of the instance is planned.
//!
//! Each kept allocation is checked against the rules of the plan format in
//! the new instance (dates, shelf life, earmark, dangerous goods, the
//! request's grace, a manager's overrides) and against what is left of its
//! lot, its request and its departure's capacity once the allocations before
//! it are kept. What no longer fits is dropped with a reason. The planner
//! then plans the residual instance (stock, requests and capacity the kept
//! allocations leave, a departure already carrying kept cargo having its
//! fixed cost spent), and the two are joined into one plan of the instance.

use std::collections::HashMap;

use crate::check::capacity_slack;
use crate::instance::{Instance, Overrides};
use crate::plan::{objective, Allocation, Plan, Unmet};
use crate::solve::{solve, Clock, Progress, SolveOptions};

/// Why a kept allocation could not stay as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The lot is no longer at its place or is not available in time for
    /// the departure (an inbound leg arriving later, say).
    StockLate,
    /// The lot expires before the departure arrives with the shelf life the
    /// item needs.
    Expires,
    /// Less of the lot is left than the allocation takes.
    StockShort,
    /// The departure now arrives after the request's grace.
    TooLate,
    /// The request needs fewer units than the allocation carries.
    RequestSmaller,
    /// The departure has no room left for it.
    NoRoom,
    /// A manager's override forbids it (departure forbidden, request pinned
    /// elsewhere, units held back).
    Override,
    /// The lot's item, earmark or goods class no longer match the departure.
    Mismatch,
}

impl DropReason {
    /// A stable code for the reason.
    pub fn code(self) -> &'static str {
        match self {
            DropReason::StockLate => "stock_late",
            DropReason::Expires => "stock_expires",
            DropReason::StockShort => "stock_short",
            DropReason::TooLate => "arrives_too_late",
            DropReason::RequestSmaller => "request_smaller",
            DropReason::NoRoom => "no_room",
            DropReason::Override => "override",
            DropReason::Mismatch => "mismatch",
        }
    }
}

/// What became of one allocation asked to be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeptOutcome {
    /// Kept with this many units (all of them, or the whole packs that still
    /// fit when `reduced_by` is set).
    Kept {
        units: i64,
        reduced_by: Option<DropReason>,
    },
    Dropped(DropReason),
}

/// A plan that keeps allocations, and what became of each.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptPlan {
    pub plan: Plan,
    /// One outcome per allocation asked to be kept, in the same order.
    pub outcomes: Vec<KeptOutcome>,
}

/// The rule a single allocation breaks in `instance`, if any (capacity and
/// quantities aside).
fn broken_rule(instance: &Instance, a: &Allocation) -> Option<DropReason> {
    let lot = &instance.lots[a.lot];
    let departure = &instance.departures[a.departure];
    let request = &instance.requests[a.request];
    let item = &instance.items[lot.item];
    if lot.item != request.item
        || departure.destination != request.destination
        || !Instance::earmark_allows(lot, &departure.destination)
        || (item.dangerous_goods && !departure.dangerous_goods)
    {
        return Some(DropReason::Mismatch);
    }
    match instance.transfer_days[lot.node][departure.node] {
        Some(days) if lot.available + days <= departure.departs => {}
        _ => return Some(DropReason::StockLate),
    }
    if lot
        .expires
        .is_some_and(|expires| expires < departure.arrives + item.min_shelf_life_days)
    {
        return Some(DropReason::Expires);
    }
    if (departure.arrives - request.needed_by).max(0) > request.grace_days {
        return Some(DropReason::TooLate);
    }
    let overrides = &instance.overrides;
    if overrides.forbidden.contains(&a.departure)
        || overrides
            .pins
            .iter()
            .any(|&(r, d)| r == a.request && d != a.departure)
    {
        return Some(DropReason::Override);
    }
    None
}

/// Plans `instance` keeping as much of `keep` as still fits (see the module
/// notes). The residual is planned with `options`; the plan's objective is
/// the whole instance's. The plan carries no upper bound: keeping loads is a
/// constraint the instance's bound does not know.
pub fn plan_keeping(
    instance: &Instance,
    keep: &[Allocation],
    options: &SolveOptions,
    clock: &dyn Clock,
    progress: &mut dyn FnMut(&Progress),
) -> KeptPlan {
    let mut lot_left: Vec<i64> = instance.lots.iter().map(|l| l.quantity).collect();
    for &(l, units) in &instance.overrides.held {
        lot_left[l] -= units.min(lot_left[l]);
    }
    let mut request_left: Vec<i64> = instance.requests.iter().map(|r| r.quantity).collect();
    let mut room: Vec<[f64; 3]> = instance
        .departures
        .iter()
        .map(|d| [d.payload_kg, d.volume_m3, d.cold_volume_m3])
        .collect();
    let mut kept: Vec<(usize, Allocation)> = Vec::new();
    let mut outcomes = Vec::with_capacity(keep.len());
    for a in keep {
        if let Some(reason) = broken_rule(instance, a) {
            outcomes.push(KeptOutcome::Dropped(reason));
            continue;
        }
        let lot = &instance.lots[a.lot];
        let item = &instance.items[lot.item];
        let mut units = a.quantity;
        let mut reduced_by = None;
        let limits = [
            (lot_left[a.lot], DropReason::StockShort),
            (request_left[a.request], DropReason::RequestSmaller),
        ];
        for (limit, reason) in limits {
            if units > limit {
                units = limit.max(0);
                reduced_by = Some(reason);
            }
        }
        // Whole units within the room left on each measure.
        let [kg, m3, cold] = room[a.departure];
        let most = |room: f64, per_unit: f64| {
            if per_unit > 0.0 {
                ((room + capacity_slack(room)) / per_unit).floor().max(0.0) as i64
            } else {
                i64::MAX
            }
        };
        let cold_per_unit = if item.cold_chain {
            item.unit_volume_m3
        } else {
            0.0
        };
        let fit = most(kg, item.unit_weight_kg)
            .min(most(m3, item.unit_volume_m3))
            .min(most(cold, cold_per_unit));
        if units > fit {
            units = fit;
            reduced_by = Some(DropReason::NoRoom);
        }
        if units <= 0 {
            outcomes.push(KeptOutcome::Dropped(
                reduced_by.unwrap_or(DropReason::NoRoom),
            ));
            continue;
        }
        let n = units as f64;
        room[a.departure][0] -= n * item.unit_weight_kg;
        room[a.departure][1] -= n * item.unit_volume_m3;
        room[a.departure][2] -= n * cold_per_unit;
        lot_left[a.lot] -= units;
        request_left[a.request] -= units;
        kept.push((
            outcomes.len(),
            Allocation {
                quantity: units,
                ..*a
            },
        ));
        outcomes.push(KeptOutcome::Kept { units, reduced_by });
    }
    // A lot's units on a departure are whole packs: where cuts left a part
    // pack, the last kept allocations of the lot on that departure give it up.
    let mut on_departure: HashMap<(usize, usize), i64> = HashMap::new();
    for (_, a) in &kept {
        *on_departure.entry((a.lot, a.departure)).or_insert(0) += a.quantity;
    }
    for (k, a) in kept.iter_mut().rev() {
        let pack = instance.lots[a.lot].pack_size.max(1);
        let Some(total) = on_departure.get_mut(&(a.lot, a.departure)) else {
            continue;
        };
        let excess = (*total % pack).min(a.quantity);
        if excess == 0 {
            continue;
        }
        *total -= excess;
        a.quantity -= excess;
        lot_left[a.lot] += excess;
        request_left[a.request] += excess;
        let item = &instance.items[instance.lots[a.lot].item];
        let freed = excess as f64;
        room[a.departure][0] += freed * item.unit_weight_kg;
        room[a.departure][1] += freed * item.unit_volume_m3;
        if item.cold_chain {
            room[a.departure][2] += freed * item.unit_volume_m3;
        }
        outcomes[*k] = if a.quantity > 0 {
            let reduced_by = match outcomes[*k] {
                KeptOutcome::Kept { reduced_by, .. } => reduced_by,
                KeptOutcome::Dropped(reason) => Some(reason),
            };
            KeptOutcome::Kept {
                units: a.quantity,
                reduced_by: Some(reduced_by.unwrap_or(DropReason::StockShort)),
            }
        } else {
            KeptOutcome::Dropped(match outcomes[*k] {
                KeptOutcome::Kept { reduced_by, .. } => {
                    reduced_by.unwrap_or(DropReason::StockShort)
                }
                KeptOutcome::Dropped(reason) => reason,
            })
        };
    }
    let kept: Vec<Allocation> = kept
        .into_iter()
        .map(|(_, a)| a)
        .filter(|a| a.quantity > 0)
        .collect();
    let mut carries = vec![false; instance.departures.len()];
    for a in &kept {
        carries[a.departure] = true;
    }

    // The residual instance: what the kept allocations leave.
    let held: Vec<i64> = {
        let mut held = vec![0i64; instance.lots.len()];
        for &(l, units) in &instance.overrides.held {
            held[l] += units;
        }
        held
    };
    let mut residual = instance.clone();
    let mut lot_index = Vec::new(); // residual lot -> instance lot
    residual.lots.clear();
    for (l, lot) in instance.lots.iter().enumerate() {
        let left = lot_left[l] + held[l].min(lot.quantity);
        let left = left.min(lot.quantity);
        if left > 0 {
            let mut lot = lot.clone();
            lot.quantity = left;
            residual.lots.push(lot);
            lot_index.push(l);
        }
    }
    let mut request_index = Vec::new();
    residual.requests.clear();
    for (r, request) in instance.requests.iter().enumerate() {
        if request_left[r] > 0 {
            let mut request = request.clone();
            request.quantity = request_left[r];
            residual.requests.push(request);
            request_index.push(r);
        }
    }
    for (d, departure) in residual.departures.iter_mut().enumerate() {
        let [kg, m3, cold] = room[d];
        departure.payload_kg = kg.max(0.0);
        departure.volume_m3 = m3.max(0.0);
        departure.cold_volume_m3 = cold.max(0.0);
        if carries[d] {
            departure.fixed_cost = 0.0;
        }
    }
    let position = |index: &[usize], original: usize| index.iter().position(|&i| i == original);
    let overrides = &instance.overrides;
    residual.overrides = Overrides {
        pins: overrides
            .pins
            .iter()
            .filter_map(|&(r, d)| Some((position(&request_index, r)?, d)))
            .collect(),
        forbidden: overrides.forbidden.clone(),
        forced: overrides
            .forced
            .iter()
            .copied()
            .filter(|&d| !carries[d])
            .collect(),
        held: overrides
            .held
            .iter()
            .filter_map(|&(l, units)| Some((position(&lot_index, l)?, units)))
            .collect(),
        must_ship: overrides
            .must_ship
            .iter()
            .filter_map(|&r| position(&request_index, r))
            .collect(),
    };

    let (extra, unmet) = if residual.requests.is_empty() {
        (Vec::new(), Vec::new())
    } else if residual.lots.is_empty() {
        let unmet = request_index
            .iter()
            .map(|&r| Unmet {
                request: r,
                quantity: request_left[r],
                reason: "no stock left for it once the kept loads are counted".to_string(),
                code: "no_stock_after_kept",
                params: serde_json::Map::new(),
            })
            .collect();
        (Vec::new(), unmet)
    } else {
        let plan = solve(&residual, options, clock, progress);
        let extra = plan
            .allocations
            .iter()
            .map(|a| Allocation {
                lot: lot_index[a.lot],
                request: request_index[a.request],
                ..*a
            })
            .collect();
        let unmet = plan
            .unmet
            .into_iter()
            .map(|u| Unmet {
                request: request_index[u.request],
                ..u
            })
            .collect();
        (extra, unmet)
    };
    let mut allocations = kept;
    allocations.extend(extra);
    let objective = objective(instance, &allocations);
    KeptPlan {
        plan: Plan {
            allocations,
            objective,
            upper_bound: None,
            unmet,
        },
        outcomes,
    }
}
