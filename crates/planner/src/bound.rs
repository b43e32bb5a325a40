//! A proven upper bound by Lagrangian relaxation.
//!
//! The coupling constraints are relaxed with multipliers: each request's
//! quantity (`mu`) and the stock of each supply group (`lambda`; a group is all
//! lots of one item with one earmark, a valid aggregation of the per-lot
//! constraints). What remains splits by departure. Each departure keeps its
//! own copies of the request quantities and of the stock eligible for it, its
//! three capacities and its all-or-nothing fixed cost. For one departure and
//! one item the best net value of `A` units is concave in `A` (the `A` best
//! request units against the `A` cheapest stock units); the capacities are
//! then priced by their own multipliers `(alpha, beta, gamma)`: the exact
//! duals of the departure's three-row load LP ([`crate::capacity_lp`]),
//! whose amounts also give the subgradient. Weak duality makes the result an upper bound for every
//! choice of non-negative multipliers, so the bound is valid at every
//! iteration; subgradient steps only make it tighter.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::capacity_lp;
use crate::model::Model;

#[derive(Clone)]
struct Slot {
    item: usize,
    /// `(request, net unit value)`.
    requests: Vec<(usize, f64)>,
    /// `(supply group, units eligible for this departure)`.
    groups: Vec<(usize, f64)>,
    /// The units of all its groups together.
    eligible_units: f64,
    /// Requests the departure may serve at no positive net value: a whole
    /// pack may still have to go partly to them.
    others: Vec<(usize, f64)>,
    /// The units of the item the departure could deliver at most: every
    /// request it may serve in full.
    demand: f64,
    /// Whole packs the relaxation must not split (see [`whole_pack_value`]):
    /// `(supply group, units)`, biggest first; their units are part of
    /// `groups` too.
    chunks: Vec<(usize, f64)>,
}

#[derive(Clone)]
struct DepartureData {
    slots: Vec<Slot>,
    payload_kg: f64,
    volume_m3: f64,
    cold_volume_m3: f64,
    fixed_cost: f64,
    /// Capacity prices, kept between iterations as a warm start.
    prices: [f64; 3],
    /// A branch's decision on the charter (see [`Charter`]).
    charter: Charter,
}

/// What a branch of the search for a proof decided about a departure with a
/// fixed cost. Every plan either loads nothing on it (closed) or pays its
/// fixed cost (open), so the two branches split the plans between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Charter {
    /// Either, at the relaxation's choice: `max(0, value - fixed cost)`.
    Free,
    /// Carries nothing: adds nothing.
    Closed,
    /// Carries something: adds `value - fixed cost`, however small.
    Open,
}

/// A piece of a departure's concave value: `units` at `profit` each, using
/// `use_` of weight, volume and cold volume per unit.
#[derive(Clone, Copy)]
struct Segment {
    units: f64,
    profit: f64,
    use_: [f64; 3],
    request: usize,
    group: usize,
    /// The departure's slot it comes from.
    slot: usize,
}

#[derive(Clone)]
pub(crate) struct Bounder {
    departures: Vec<DepartureData>,
    request_quantity: Vec<f64>,
    group_quantity: Vec<f64>,
    mu: Vec<f64>,
    lambda: Vec<f64>,
    item_use: Vec<[f64; 3]>,
    best: f64,
    target: f64,
    theta: f64,
    /// Stale iterations before the step factor shrinks, and the factor.
    schedule: (usize, f64),
    stale: usize,
    /// Unit weight of each request's and group's item (multipliers move per kg).
    request_scale: Vec<f64>,
    group_scale: Vec<f64>,
    /// The last step's directions (deflection).
    request_direction: Vec<f64>,
    group_direction: Vec<f64>,
    iterations: usize,
    segments: Vec<Segment>,
    scratch: Scratch,
    /// Each departure's value less its fixed cost at the last iteration
    /// (an estimate from above when its LP was skipped), for choosing
    /// which charter to branch on.
    margins: Vec<f64>,
    /// The whole-pack amounts of the departure being priced:
    /// `(request or group, units)`.
    whole_requests: Vec<(usize, f64)>,
    whole_groups: Vec<(usize, f64)>,
}

const MAX_ITERATIONS: usize = 100_000;
/// Iterations without a better bound before the step shrinks, and by how
/// much, for fine stock multipliers (iterations quick, many of them) and for
/// coarse ones (large instances: few iterations in the time, shrink sooner).
const FINE_SCHEDULE: (usize, f64) = (80, 0.7);
const COARSE_SCHEDULE: (usize, f64) = (20, 0.8);
/// The request multipliers start at each request's best net unit value less
/// this share of the charters' median fixed cost per kg of payload for each
/// kg of the item (the bound starts lower and settles sooner than from "every
/// request met at its best value").
const INITIAL_PRICE_SHARE: f64 = 0.75;
/// Weight of the previous direction in the next (0: plain subgradient).
const DEFLECTION: f64 = 0.8;
/// Whole packs kept unsplit per departure and item at most (the evaluation
/// tries every subset of them).
const MAX_CHUNKS: usize = 6;
/// A pack is kept whole when it holds at least this share of what the
/// departure could deliver of its item.
const CHUNK_SHARE: f64 = 1.0 / 16.0;

impl Bounder {
    /// `target` is the value of a known feasible plan (the step sizes aim at it).
    /// Returns `None` when `stop` is raised before the set-up is done.
    pub fn new(model: &Model, target: f64, fine: bool, stop: &AtomicBool) -> Option<Self> {
        let instance = model.instance;
        // Supply groups: one per (item, earmark set), and when `fine` also per
        // node, availability day and expiry (the lot classes but for pack size).
        let mut group_of_class = vec![0usize; model.classes.len()];
        let mut group_index = std::collections::HashMap::new();
        let mut group_quantity = Vec::new();
        let mut group_item = Vec::new();
        for (c, class) in model.classes.iter().enumerate() {
            let key = if fine {
                (
                    class.item,
                    class.earmark,
                    class.node,
                    class.available,
                    class.expires,
                )
            } else {
                (class.item, class.earmark, 0, 0, None)
            };
            let g = *group_index.entry(key).or_insert_with(|| {
                group_quantity.push(0.0);
                group_item.push(class.item);
                group_quantity.len() - 1
            });
            group_of_class[c] = g;
            group_quantity[g] += (class.packs * class.pack_size) as f64;
        }
        let mut departures = Vec::with_capacity(instance.departures.len());
        let mut eligible = vec![0.0f64; group_quantity.len()];
        let pinned = instance
            .overrides
            .pinned_departures(instance.requests.len());
        let mut destination_requests = vec![Vec::new(); instance.destinations.len()];
        for (r, request) in instance.requests.iter().enumerate() {
            destination_requests[request.destination_index].push(r);
        }
        // Whole packs are kept unsplit on small instances (their evaluation
        // tries subsets of packs on every departure at every iteration).
        let whole_packs = model.is_small();
        for (d, departure) in instance.departures.iter().enumerate() {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let mut slots: Vec<Slot> = Vec::new();
            for option in &model.options[d] {
                let item = instance.requests[option.request].item;
                match slots.iter_mut().find(|slot| slot.item == item) {
                    Some(slot) => slot.requests.push((option.request, option.unit_value)),
                    None => slots.push(Slot {
                        item,
                        requests: vec![(option.request, option.unit_value)],
                        groups: Vec::new(),
                        eligible_units: 0.0,
                        others: Vec::new(),
                        demand: 0.0,
                        chunks: Vec::new(),
                    }),
                }
            }
            // Every request the departure may serve by the rules, worth
            // something or not: a plan loads whole packs and delivers every
            // unit it loads, so no more than these requests' quantities.
            for &r in &destination_requests[departure.destination_index] {
                let request = &instance.requests[r];
                let Some(slot) = slots.iter_mut().find(|slot| slot.item == request.item) else {
                    continue;
                };
                if !may_serve(model, d, r, &pinned) {
                    continue;
                }
                slot.demand += request.quantity as f64;
                if !slot.requests.iter().any(|&(o, _)| o == r) {
                    let item = &instance.items[request.item];
                    let late = (departure.arrives - request.needed_by).max(0);
                    let unit_value = request.value_per_unit
                        * crate::plan::timeliness(late, request.grace_days)
                        - item.unit_weight_kg * departure.cost_per_kg;
                    slot.others.push((r, unit_value.min(0.0)));
                }
            }
            for slot in &mut slots {
                let mut touched = Vec::new();
                let mut chunks = Vec::new();
                for c in model.departure_classes(d, slot.item) {
                    let g = group_of_class[c];
                    if eligible[g] == 0.0 {
                        touched.push(g);
                    }
                    // No more whole packs than the departure could deliver.
                    let class = &model.classes[c];
                    let packs = class
                        .packs
                        .min((slot.demand / class.pack_size as f64).floor() as i64)
                        .max(0);
                    let units = (packs * class.pack_size) as f64;
                    eligible[g] += units;
                    if whole_packs && (class.pack_size as f64) >= CHUNK_SHARE * slot.demand {
                        for _ in 0..packs.min(MAX_CHUNKS as i64) {
                            chunks.push((g, class.pack_size as f64));
                        }
                    }
                }
                touched.sort_unstable();
                for g in touched {
                    if eligible[g] > 0.0 {
                        slot.groups.push((g, eligible[g]));
                        slot.eligible_units += eligible[g];
                    }
                    eligible[g] = 0.0;
                }
                chunks.sort_by(|a: &(usize, f64), b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                chunks.truncate(MAX_CHUNKS);
                slot.chunks = chunks;
                if slot.chunks.is_empty() {
                    slot.others = Vec::new();
                }
            }
            slots.retain(|slot| !slot.groups.is_empty());
            departures.push(DepartureData {
                slots,
                payload_kg: departure.payload_kg,
                volume_m3: departure.volume_m3,
                cold_volume_m3: departure.cold_volume_m3,
                fixed_cost: departure.fixed_cost,
                prices: [0.0; 3],
                charter: Charter::Free,
            });
        }
        let item_use = instance
            .items
            .iter()
            .map(|item| {
                [
                    item.unit_weight_kg,
                    item.unit_volume_m3,
                    if item.cold_chain {
                        item.unit_volume_m3
                    } else {
                        0.0
                    },
                ]
            })
            .collect();
        Some(Bounder {
            departures,
            request_quantity: instance
                .requests
                .iter()
                .map(|r| r.quantity as f64)
                .collect(),
            // Each request at its best net unit value: the bound starts at
            // "every request met in full" and comes down from there.
            mu: {
                let mut best = vec![0.0f64; instance.requests.len()];
                for list in &model.options {
                    for option in list {
                        best[option.request] = best[option.request].max(option.unit_value);
                    }
                }
                // Less a typical price of carrying a kilogram: the share of
                // the charters' median fixed cost per kg of payload.
                let mut per_kg: Vec<f64> = instance
                    .departures
                    .iter()
                    .zip(&model.fixed_per_kg)
                    .filter(|(d, _)| d.fixed_cost > 0.0 && d.payload_kg > 0.0)
                    .map(|(_, &p)| p)
                    .collect();
                per_kg.sort_by(f64::total_cmp);
                let price = per_kg
                    .get(per_kg.len() / 2)
                    .map_or(0.0, |median| INITIAL_PRICE_SHARE * median);
                for (r, value) in best.iter_mut().enumerate() {
                    let kg = instance.items[instance.requests[r].item].unit_weight_kg;
                    *value = (*value - price * kg).max(0.0);
                }
                best
            },
            lambda: vec![0.0; group_quantity.len()],
            group_quantity,
            item_use,
            best: f64::INFINITY,
            target,
            theta: 0.5,
            schedule: if fine { FINE_SCHEDULE } else { COARSE_SCHEDULE },
            stale: 0,
            request_scale: instance
                .requests
                .iter()
                .map(|r| instance.items[r.item].unit_weight_kg)
                .collect(),
            group_scale: group_item
                .iter()
                .map(|&item| instance.items[item].unit_weight_kg)
                .collect(),
            request_direction: vec![0.0; instance.requests.len()],
            group_direction: vec![0.0; group_item.len()],
            iterations: 0,
            segments: Vec::new(),
            scratch: Scratch::default(),
            margins: vec![0.0; instance.departures.len()],
            whole_requests: Vec::new(),
            whole_groups: Vec::new(),
        })
    }

    /// Decides a charter for this branch: the bound from here on holds for
    /// the plans that load nothing on departure `d` (closed) or that pay its
    /// fixed cost (open). `parent` is the bound proven before the decision,
    /// valid for the branch's plans too; the step size starts over at `theta`.
    pub fn decide(&mut self, d: usize, charter: Charter, parent: f64, theta: f64) {
        self.departures[d].charter = charter;
        self.best = parent;
        self.theta = theta;
        self.stale = 0;
    }

    /// The undecided charter whose value at the last multipliers is nearest
    /// its fixed cost (the relaxation is closest to half-opening it), among
    /// those with anything to carry.
    pub fn branching_charter(&self) -> Option<usize> {
        let mut choice: Option<(f64, usize)> = None;
        for (d, departure) in self.departures.iter().enumerate() {
            if departure.charter != Charter::Free
                || departure.fixed_cost <= 0.0
                || departure.slots.is_empty()
            {
                continue;
            }
            let margin = self.margins[d];
            // (A margin of minus the fixed cost: nothing worth carrying.)
            if margin.is_nan() || margin <= -departure.fixed_cost {
                continue;
            }
            let closeness = margin.abs() / departure.fixed_cost;
            if !matches!(choice, Some((best, _)) if best <= closeness) {
                choice = Some((closeness, d));
            }
        }
        choice.map(|(_, d)| d)
    }

    /// The step size.
    #[cfg(test)]
    pub fn theta(&self) -> f64 {
        self.theta
    }

    /// Aims the steps at a better known plan value.
    pub fn raise_target(&mut self, target: f64) {
        self.target = self.target.max(target);
    }

    pub fn best(&self) -> f64 {
        self.best
    }

    pub fn converged(&self) -> bool {
        self.iterations >= MAX_ITERATIONS
            || self.theta < 1e-6
            || self.best <= self.target + 1e-9 * (1.0 + self.target.abs())
    }

    /// One subgradient iteration. Returns the bound it proved, or `None` when
    /// `stop` was raised before it was complete.
    pub fn iterate(&mut self, stop: &AtomicBool) -> Option<f64> {
        self.iterations += 1;
        let mut bound: f64 = self
            .mu
            .iter()
            .zip(&self.request_quantity)
            .map(|(m, q)| m * q)
            .sum::<f64>()
            + self
                .lambda
                .iter()
                .zip(&self.group_quantity)
                .map(|(l, q)| l * q)
                .sum::<f64>();
        let mut request_use = vec![0.0f64; self.mu.len()];
        let mut group_use = vec![0.0f64; self.lambda.len()];
        let mut segments = std::mem::take(&mut self.segments);
        for (d, departure) in self.departures.iter_mut().enumerate() {
            if d % 64 == 63 && stop.load(Ordering::Relaxed) {
                self.segments = segments;
                return None;
            }
            let open = departure.charter == Charter::Open;
            if departure.charter == Charter::Closed {
                self.margins[d] = f64::NEG_INFINITY;
                continue;
            }
            if departure.fixed_cost > 0.0 && !open {
                let quick =
                    quick_upper(departure, &self.mu, &self.item_use, &self.request_quantity);
                if quick <= departure.fixed_cost {
                    self.margins[d] = quick - departure.fixed_cost;
                    continue;
                }
            }
            self.margins[d] = -departure.fixed_cost;
            segments.clear();
            build_segments(
                &mut *departure,
                &self.mu,
                &self.lambda,
                &self.item_use,
                &self.request_quantity,
                &mut segments,
            );
            if segments.is_empty() {
                if open {
                    // Open with nothing worth carrying: it still pays.
                    bound -= departure.fixed_cost;
                }
                continue;
            }
            let Some(mut value) = price_capacities(departure, &segments, &mut self.scratch) else {
                // (Never for an open charter: its LP is always solved.)
                continue;
            };
            self.whole_requests.clear();
            self.whole_groups.clear();
            value -= whole_pack_loss(
                departure,
                &segments,
                &self.mu,
                &self.lambda,
                &self.item_use,
                &self.request_quantity,
                &mut self.scratch,
                &mut self.whole_requests,
                &mut self.whole_groups,
            );
            self.margins[d] = value - departure.fixed_cost;
            if value - departure.fixed_cost > 0.0 || open {
                bound += value - departure.fixed_cost;
                for (segment, &amount) in segments.iter().zip(&self.scratch.amounts) {
                    request_use[segment.request] += amount;
                    group_use[segment.group] += amount;
                }
                for &(r, amount) in &self.whole_requests {
                    request_use[r] += amount;
                }
                for &(g, amount) in &self.whole_groups {
                    group_use[g] += amount;
                }
            }
        }
        self.segments = segments;
        if bound < self.best {
            if bound < self.best - 1e-6 * (1.0 + self.best.abs().min(1e300)) {
                self.stale = 0;
            }
            self.best = bound;
        } else {
            self.stale += 1;
        }
        if self.stale >= self.schedule.0 {
            self.theta *= self.schedule.1;
            self.stale = 0;
        }
        // Deflected subgradient step towards the target, in per-kg units (each
        // multiplier scaled by its item's unit weight, so items of different
        // unit sizes move alike), projected on the non-negative orthant.
        let mut norm = 0.0;
        for (r, used) in request_use.iter().enumerate() {
            let w = self.request_scale[r];
            let g = w * (self.request_quantity[r] - used);
            let d = g + DEFLECTION * self.request_direction[r];
            let d = if self.mu[r] <= 0.0 && d > 0.0 { 0.0 } else { d };
            self.request_direction[r] = d;
            norm += d * d;
        }
        for (g_index, used) in group_use.iter().enumerate() {
            let w = self.group_scale[g_index];
            let g = w * (self.group_quantity[g_index] - used);
            let d = g + DEFLECTION * self.group_direction[g_index];
            let d = if self.lambda[g_index] <= 0.0 && d > 0.0 {
                0.0
            } else {
                d
            };
            self.group_direction[g_index] = d;
            norm += d * d;
        }
        if norm <= 0.0 {
            // A zero subgradient: these multipliers are optimal.
            self.theta = 0.0;
            return Some(bound);
        }
        let gap = (bound - self.target).max(1e-4 * (1.0 + bound.abs()));
        let step = self.theta * gap / norm;
        for r in 0..self.mu.len() {
            let w = self.request_scale[r];
            self.mu[r] = (self.mu[r] - step * w * self.request_direction[r]).max(0.0);
        }
        for g_index in 0..self.lambda.len() {
            let w = self.group_scale[g_index];
            self.lambda[g_index] =
                (self.lambda[g_index] - step * w * self.group_direction[g_index]).max(0.0);
        }
        Some(bound)
    }
}

/// An upper bound on the departure's load value at its last capacity
/// prices, from the request multipliers alone: each slot's requests at their
/// reduced values less the capacity they use, stock free and limited only
/// by the units eligible in all. The segments' profits are no greater (stock
/// multipliers are never negative) nor their units more, so this is at least
/// the dual formula over the segments, itself at least the load LP's value.
fn quick_upper(
    departure: &DepartureData,
    mu: &[f64],
    item_use: &[[f64; 3]],
    request_quantity: &[f64],
) -> f64 {
    let prices = departure.prices;
    let mut value = prices[0] * departure.payload_kg
        + prices[1] * departure.volume_m3
        + prices[2] * departure.cold_volume_m3;
    for slot in &departure.slots {
        let use_ = item_use[slot.item];
        let carried = prices[0] * use_[0] + prices[1] * use_[1] + prices[2] * use_[2];
        let (mut all, mut demand, mut best) = (0.0, 0.0, 0.0f64);
        for &(r, unit_value) in &slot.requests {
            let gain = unit_value - mu[r] - carried;
            if gain > 0.0 {
                all += gain * request_quantity[r];
                demand += request_quantity[r];
                best = best.max(gain);
            }
        }
        value += if demand <= slot.eligible_units {
            all
        } else {
            all.min(best * slot.eligible_units)
        };
    }
    value
}

/// The concave value pieces of one departure for the current multipliers.
///
/// Each slot's requests are kept in order of reduced value, best first, and
/// its groups in order of multiplier, cheapest first (ties by index in
/// both): the multipliers move little between iterations, so an insertion
/// sort of last iteration's order costs about one pass.
fn build_segments(
    departure: &mut DepartureData,
    mu: &[f64],
    lambda: &[f64],
    item_use: &[[f64; 3]],
    request_quantity: &[f64],
    out: &mut Vec<Segment>,
) {
    for (slot_index, slot) in departure.slots.iter_mut().enumerate() {
        let reduced = |&(r, value): &(usize, f64)| value - mu[r];
        insertion_sort(&mut slot.requests, |a, b| {
            let (x, y) = (reduced(a), reduced(b));
            x > y || (x == y && a.0 < b.0)
        });
        match slot.requests.first() {
            Some(first) if reduced(first) > 0.0 => {}
            _ => continue,
        }
        insertion_sort(&mut slot.groups, |a, b| {
            let (x, y) = (lambda[a.0], lambda[b.0]);
            x < y || (x == y && a.0 < b.0)
        });
        let (requests, groups) = (&slot.requests, &slot.groups);
        let use_ = item_use[slot.item];
        let (mut i, mut j) = (0usize, 0usize);
        let mut request_left = request_quantity[requests[0].0];
        let mut group_left = groups.first().map_or(0.0, |g| g.1);
        while i < requests.len() && j < groups.len() {
            let value = reduced(&requests[i]);
            let profit = value - lambda[groups[j].0];
            if value <= 0.0 || profit <= 0.0 {
                break;
            }
            let units = request_left.min(group_left);
            if units > 0.0 {
                out.push(Segment {
                    units,
                    profit,
                    use_,
                    request: requests[i].0,
                    group: groups[j].0,
                    slot: slot_index,
                });
            }
            request_left -= units;
            group_left -= units;
            if request_left <= 0.0 {
                i += 1;
                request_left = requests.get(i).map_or(0.0, |r| request_quantity[r.0]);
            }
            if group_left <= 0.0 {
                j += 1;
                group_left = groups.get(j).map_or(0.0, |g| g.1);
            }
        }
    }
}

/// Sorts `items` so that no element is `before` one ahead of it; quick on a
/// list that is nearly in order already.
fn insertion_sort<T: Copy>(items: &mut [T], before: impl Fn(&T, &T) -> bool) {
    for k in 1..items.len() {
        let item = items[k];
        let mut at = k;
        while at > 0 && before(&item, &items[at - 1]) {
            items[at] = items[at - 1];
            at -= 1;
        }
        items[at] = item;
    }
}

/// The departure's value with capacities priced at the optimal duals of its
/// load LP (found exactly, see [`capacity_lp`]): `sum(prices * capacities) +
/// sum(units * max(0, profit - prices . use))`, an upper bound on the best
/// load for any non-negative prices. Leaves the LP's amounts per segment in
/// `scratch.amounts` (a subgradient of the bound). `None` when the
/// departure, a charter, is shown unable to earn its fixed cost without
/// solving the LP (its amounts are then not needed).
fn price_capacities(
    departure: &mut DepartureData,
    segments: &[Segment],
    scratch: &mut Scratch,
) -> Option<f64> {
    let capacities = [
        departure.payload_kg,
        departure.volume_m3,
        departure.cold_volume_m3,
    ];
    scratch.units.clear();
    scratch.profit.clear();
    scratch.use_.clear();
    for segment in segments {
        scratch.units.push(segment.units);
        scratch.profit.push(segment.profit);
        scratch.use_.push(segment.use_);
    }
    // Any non-negative prices bound the load's value: at the last ones, a
    // charter that cannot earn its fixed cost adds nothing, and needs no LP
    // (unless a branch keeps it open: then it adds its value, however small).
    if departure.fixed_cost > 0.0
        && departure.charter != Charter::Open
        && capacity_lp::dual_value(
            &scratch.units,
            &scratch.profit,
            &scratch.use_,
            capacities,
            departure.prices,
        ) <= departure.fixed_cost
    {
        return None;
    }
    let prices = capacity_lp::solve(
        &scratch.units,
        &scratch.profit,
        &scratch.use_,
        capacities,
        departure.prices,
        &mut scratch.amounts,
        &mut scratch.order,
    );
    departure.prices = prices;
    Some(capacity_lp::dual_value(
        &scratch.units,
        &scratch.profit,
        &scratch.use_,
        capacities,
        prices,
    ))
}

/// Buffers reused by every departure's load LP.
#[derive(Default, Clone)]
struct Scratch {
    units: Vec<f64>,
    profit: Vec<f64>,
    use_: Vec<[f64; 3]>,
    amounts: Vec<f64>,
    order: Vec<(f64, usize)>,
    whole: WholeScratch,
}

/// Buffers of [`whole_pack_value`].
#[derive(Default, Clone)]
struct WholeScratch {
    /// `(reduced value, quantity, request)`, best first.
    requests: Vec<(f64, f64, usize)>,
    /// Units and value of the requests before each one, in that order.
    prefix: Vec<(f64, f64)>,
    /// `(cost per unit, units, group)` of the stock in packs small enough
    /// to be split, cheapest first.
    stock: Vec<(f64, f64, usize)>,
}

/// Whether departure `d` may deliver to request `r` by the rules (its value
/// aside): the model's options without their "worth something" test.
fn may_serve(model: &Model, d: usize, r: usize, pinned: &[Option<usize>]) -> bool {
    let instance = model.instance;
    let departure = &instance.departures[d];
    let request = &instance.requests[r];
    let item = &instance.items[request.item];
    let late = (departure.arrives - request.needed_by).max(0);
    !(pinned[r].is_some_and(|p| p != d)
        || late > request.grace_days
        || (item.dangerous_goods && !departure.dangerous_goods)
        || (item.cold_chain && departure.cold_volume_m3 <= 0.0)
        || departure.payload_kg <= 0.0
        || departure.volume_m3 <= 0.0)
}

/// What keeping the departure's whole packs unsplit takes off its value at
/// its capacity prices (`departure.prices`). The value is `prices . capacity`
/// plus, per slot, the best load of the slot's item with each unit charged
/// its capacity at those prices: an upper bound on the departure's best load
/// for any non-negative prices (weak duality on the three capacity rows).
/// The segments price a slot's load as divisible; a plan loads whole packs
/// and delivers every unit it loads, so a slot with big packs is priced by
/// [`whole_pack_value`] instead, never more than its segments' share. The
/// LP's amounts of those slots are set to zero in `scratch.amounts` and the
/// whole-pack load's amounts given in `requests` and `groups` instead.
#[allow(clippy::too_many_arguments)]
fn whole_pack_loss(
    departure: &DepartureData,
    segments: &[Segment],
    mu: &[f64],
    lambda: &[f64],
    item_use: &[[f64; 3]],
    request_quantity: &[f64],
    scratch: &mut Scratch,
    requests: &mut Vec<(usize, f64)>,
    groups: &mut Vec<(usize, f64)>,
) -> f64 {
    let prices = departure.prices;
    let dot = |a: [f64; 3]| prices[0] * a[0] + prices[1] * a[1] + prices[2] * a[2];
    let mut loss = 0.0;
    let mut start = 0;
    while start < segments.len() {
        let slot_index = segments[start].slot;
        let mut end = start + 1;
        while end < segments.len() && segments[end].slot == slot_index {
            end += 1;
        }
        let slot = &departure.slots[slot_index];
        if !slot.chunks.is_empty() {
            let carried = dot(item_use[slot.item]);
            let divisible: f64 = segments[start..end]
                .iter()
                .map(|s| s.units * (s.profit - carried).max(0.0))
                .sum();
            if divisible > 0.0 {
                let whole = whole_pack_value(
                    slot,
                    mu,
                    lambda,
                    request_quantity,
                    carried,
                    &mut scratch.whole,
                    Some((&mut *requests, &mut *groups)),
                );
                loss += (divisible - whole).max(0.0);
                for amount in &mut scratch.amounts[start..end] {
                    *amount = 0.0;
                }
            }
        }
        start = end;
    }
    loss
}

/// The best value of one slot's load when its chunks go whole or not at
/// all and the rest of its stock is divisible: every unit loaded is
/// delivered to one of the slot's requests (worth something or not), at
/// its reduced value `value - mu`, and costs its group's multiplier plus
/// `carried`. Tries every subset of the chunks; for each, the requests take
/// the chunks' units best first, then divisible stock while a unit gains.
/// At least 0 (nothing loaded). With `record`, adds the best load's units
/// per request and per group.
fn whole_pack_value(
    slot: &Slot,
    mu: &[f64],
    lambda: &[f64],
    request_quantity: &[f64],
    carried: f64,
    scratch: &mut WholeScratch,
    record: Option<(&mut Vec<(usize, f64)>, &mut Vec<(usize, f64)>)>,
) -> f64 {
    let WholeScratch {
        requests,
        prefix,
        stock,
    } = scratch;
    requests.clear();
    for &(r, value) in slot.requests.iter().chain(&slot.others) {
        requests.push((value - mu[r], request_quantity[r], r));
    }
    requests.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.2.cmp(&b.2)));
    prefix.clear();
    let (mut units, mut value) = (0.0, 0.0);
    for &(w, q, _) in requests.iter() {
        prefix.push((units, value));
        units += q;
        value += w * q;
    }
    prefix.push((units, value));
    let demand = units;
    stock.clear();
    for &(g, units) in &slot.groups {
        let whole: f64 = slot.chunks.iter().filter(|c| c.0 == g).map(|c| c.1).sum();
        let divisible = units - whole;
        if divisible > 1e-9 {
            stock.push((lambda[g] + carried, divisible, g));
        }
    }
    stock.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));
    // The value of delivering `t` units from the chunks and then divisible
    // stock while it gains, and where that greedy fill stopped.
    let fill = |t: f64, mut out: Option<(&mut Vec<(usize, f64)>, &mut Vec<(usize, f64)>)>| {
        // The first request not met in full by `t` units.
        let mut i = prefix.partition_point(|p| p.0 <= t).saturating_sub(1);
        i = i.min(requests.len());
        let (before, value_before) = prefix[i];
        let mut value = value_before;
        let mut request_left = 0.0;
        if i < requests.len() {
            let taken = t - before;
            value += taken * requests[i].0;
            request_left = requests[i].1 - taken;
        }
        if let Some((out_requests, _)) = out.as_mut() {
            for &(_, q, r) in &requests[..i] {
                out_requests.push((r, q));
            }
            if i < requests.len() && t > before {
                out_requests.push((requests[i].2, t - before));
            }
        }
        let mut j = 0;
        let mut stock_left = stock.first().map_or(0.0, |s| s.1);
        while i < requests.len() && j < stock.len() {
            if request_left <= 0.0 {
                i += 1;
                request_left = requests.get(i).map_or(0.0, |r| r.1);
                continue;
            }
            let gain = requests[i].0 - stock[j].0;
            if gain <= 0.0 {
                break;
            }
            let units = request_left.min(stock_left);
            value += units * gain;
            if let Some((out_requests, out_groups)) = out.as_mut() {
                out_requests.push((requests[i].2, units));
                out_groups.push((stock[j].2, units));
            }
            request_left -= units;
            stock_left -= units;
            if stock_left <= 0.0 {
                j += 1;
                stock_left = stock.get(j).map_or(0.0, |s| s.1);
            }
        }
        value
    };
    let chunks = &slot.chunks;
    let (mut best, mut best_mask) = (f64::NEG_INFINITY, 0usize);
    for mask in 0..1usize << chunks.len() {
        let (mut t, mut cost) = (0.0, 0.0);
        for (k, &(g, units)) in chunks.iter().enumerate() {
            if mask >> k & 1 == 1 {
                t += units;
                cost += units * (lambda[g] + carried);
            }
        }
        if t > demand + 1e-9 {
            continue;
        }
        let value = fill(t, None) - cost;
        if value > best {
            best = value;
            best_mask = mask;
        }
    }
    if let Some((out_requests, out_groups)) = record {
        let mut t = 0.0;
        for (k, &(g, units)) in chunks.iter().enumerate() {
            if best_mask >> k & 1 == 1 {
                t += units;
                out_groups.push((g, units));
            }
        }
        fill(t, Some((out_requests, out_groups)));
    }
    best.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charters_skipped_without_their_lp_could_not_earn_their_fixed_cost() {
        let mut rng = crate::model::SplitMix64::new(5);
        let mut skipped = 0;
        let mut solved = 0;
        for case in 0..2_000 {
            let n = 1 + rng.below(30);
            let segments: Vec<Segment> = (0..n)
                .map(|i| {
                    let volume = 0.01 + 2.0 * rng.unit();
                    Segment {
                        units: (1 + rng.below(400)) as f64,
                        profit: 0.01 + 40.0 * rng.unit(),
                        use_: [1.0 + 300.0 * rng.unit(), volume, 0.0],
                        request: i,
                        group: i,
                        slot: 0,
                    }
                })
                .collect();
            let capacities = [20_000.0 * rng.unit(), 120.0 * rng.unit(), 0.0];
            // The LP's own value, solved outright.
            let units: Vec<f64> = segments.iter().map(|s| s.units).collect();
            let profit: Vec<f64> = segments.iter().map(|s| s.profit).collect();
            let use_: Vec<[f64; 3]> = segments.iter().map(|s| s.use_).collect();
            let optimal = capacity_lp::solve(
                &units,
                &profit,
                &use_,
                capacities,
                [0.0; 3],
                &mut Vec::new(),
                &mut Vec::new(),
            );
            let lp = capacity_lp::dual_value(&units, &profit, &use_, capacities, optimal);
            // Fixed costs around the load's value (or none), and last prices
            // near the optimal ones, as between two iterations.
            let fixed_cost = if rng.unit() < 0.2 {
                0.0
            } else {
                lp * (0.5 + rng.unit())
            };
            let mut departure = DepartureData {
                slots: Vec::new(),
                payload_kg: capacities[0],
                volume_m3: capacities[1],
                cold_volume_m3: 0.0,
                fixed_cost,
                prices: std::array::from_fn(|k| optimal[k] * (0.8 + 0.4 * rng.unit())),
                charter: Charter::Free,
            };
            let mut scratch = Scratch::default();
            match price_capacities(&mut departure, &segments, &mut scratch) {
                None => {
                    skipped += 1;
                    assert!(
                        fixed_cost > 0.0 && lp <= fixed_cost * (1.0 + 1e-9),
                        "case {case}: skipped a charter whose load earns {lp} against {fixed_cost}"
                    );
                }
                Some(value) => {
                    solved += 1;
                    assert!(
                        (value - lp).abs() <= 1e-7 * (1.0 + lp.abs()),
                        "case {case}: LP value {value} against {lp}"
                    );
                }
            }
        }
        assert!(
            skipped > 100 && solved > 100,
            "both paths taken: {skipped} skipped, {solved} solved"
        );
    }

    /// The segments as first written: the slot's requests with a positive
    /// reduced value sorted afresh (best first, ties by index), against the
    /// free groups and then the priced ones, cheapest first (ties by index).
    fn segments_sorted_afresh(
        slot: &Slot,
        mu: &[f64],
        lambda: &[f64],
        request_quantity: &[f64],
    ) -> Vec<(f64, f64, usize, usize)> {
        let mut requests: Vec<(f64, f64, usize)> = slot
            .requests
            .iter()
            .map(|&(r, value)| (value - mu[r], request_quantity[r], r))
            .filter(|r| r.0 > 0.0)
            .collect();
        requests.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.2.cmp(&b.2)));
        let mut groups: Vec<(f64, f64, usize)> = slot
            .groups
            .iter()
            .map(|&(g, units)| (lambda[g], units, g))
            .collect();
        groups.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < requests.len() && j < groups.len() {
            let profit = requests[i].0 - groups[j].0;
            if profit <= 0.0 {
                break;
            }
            let units = requests[i].1.min(groups[j].1);
            out.push((units, profit, requests[i].2, groups[j].2));
            requests[i].1 -= units;
            groups[j].1 -= units;
            if requests[i].1 <= 0.0 {
                i += 1;
            }
            if groups[j].1 <= 0.0 {
                j += 1;
            }
        }
        out
    }

    #[test]
    fn segments_from_lists_kept_in_order_match_a_fresh_sort_as_multipliers_move() {
        let mut rng = crate::model::SplitMix64::new(13);
        let (request_count, group_count) = (15, 12);
        for case in 0..300 {
            let request_quantity: Vec<f64> = (0..request_count)
                .map(|_| (1 + rng.below(300)) as f64)
                .collect();
            // Few distinct values, so that ties are common.
            let mut mu: Vec<f64> = (0..request_count).map(|_| rng.below(4) as f64).collect();
            let mut lambda: Vec<f64> = (0..group_count).map(|_| rng.below(3) as f64).collect();
            let slots: Vec<Slot> = (0..1 + rng.below(3))
                .map(|item| {
                    let mut requests: Vec<(usize, f64)> = Vec::new();
                    for r in 0..request_count {
                        if rng.unit() < 0.5 {
                            requests.push((r, (rng.below(8) * 5) as f64));
                        }
                    }
                    // Any first order: the lists are sorted by what they hold.
                    requests.reverse();
                    let mut groups: Vec<(usize, f64)> = Vec::new();
                    for g in 0..group_count {
                        if rng.unit() < 0.5 {
                            groups.push((g, (1 + rng.below(400)) as f64));
                        }
                    }
                    let eligible_units = groups.iter().map(|g| g.1).sum();
                    Slot {
                        item,
                        requests,
                        groups,
                        eligible_units,
                        others: Vec::new(),
                        demand: 0.0,
                        chunks: Vec::new(),
                    }
                })
                .filter(|slot| !slot.groups.is_empty())
                .collect();
            let mut departure = DepartureData {
                slots,
                payload_kg: 1_000.0,
                volume_m3: 10.0,
                cold_volume_m3: 1.0,
                fixed_cost: 0.0,
                prices: [0.0; 3],
                charter: Charter::Free,
            };
            let item_use = vec![[1.0, 0.01, 0.0]; 3];
            for step in 0..20 {
                let mut segments = Vec::new();
                build_segments(
                    &mut departure,
                    &mu,
                    &lambda,
                    &item_use,
                    &request_quantity,
                    &mut segments,
                );
                let got: Vec<(f64, f64, usize, usize)> = segments
                    .iter()
                    .map(|s| (s.units, s.profit, s.request, s.group))
                    .collect();
                let want: Vec<(f64, f64, usize, usize)> = departure
                    .slots
                    .iter()
                    .flat_map(|slot| segments_sorted_afresh(slot, &mu, &lambda, &request_quantity))
                    .collect();
                assert_eq!(got, want, "case {case}, step {step}");
                // The multipliers move a little, as between two iterations.
                for m in mu.iter_mut().chain(lambda.iter_mut()) {
                    if rng.unit() < 0.3 {
                        *m = (*m + rng.below(3) as f64 - 1.0).max(0.0);
                    }
                }
            }
        }
    }

    /// The best load of a slot found by trying every whole number of packs
    /// of every class: each class `(group, pack size, packs)`, the units
    /// delivered to the requests best first (every unit loaded is delivered).
    fn best_whole_load(
        requests: &[(f64, f64)],
        classes: &[(usize, f64, usize)],
        lambda: &[f64],
        carried: f64,
    ) -> f64 {
        let mut sorted = requests.to_vec();
        sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
        let demand: f64 = sorted.iter().map(|r| r.1).sum();
        let mut best = 0.0f64;
        let mut counts = vec![0usize; classes.len()];
        loop {
            let (mut t, mut cost) = (0.0, 0.0);
            for (&(g, pack, _), &k) in classes.iter().zip(&counts) {
                t += pack * k as f64;
                cost += pack * k as f64 * (lambda[g] + carried);
            }
            if t <= demand {
                let (mut left, mut value) = (t, 0.0);
                for &(w, q) in &sorted {
                    let units = left.min(q);
                    value += units * w;
                    left -= units;
                }
                best = best.max(value - cost);
            }
            // The next combination of pack counts.
            let mut k = 0;
            while k < classes.len() && counts[k] == classes[k].2 {
                counts[k] = 0;
                k += 1;
            }
            if k == classes.len() {
                return best;
            }
            counts[k] += 1;
        }
    }

    #[test]
    fn whole_packs_never_price_a_slot_below_its_best_whole_load_nor_above_the_divisible_one() {
        let mut rng = crate::model::SplitMix64::new(21);
        let (mut tighter, mut cases) = (0, 0);
        for case in 0..3_000 {
            let request_count = 1 + rng.below(4);
            let mu: Vec<f64> = (0..request_count)
                .map(|_| {
                    if rng.unit() < 0.4 {
                        0.0
                    } else {
                        6.0 * rng.unit()
                    }
                })
                .collect();
            let quantity: Vec<f64> = (0..request_count)
                .map(|_| (1 + rng.below(40)) as f64)
                .collect();
            // Some requests worth nothing on this departure (a whole pack may
            // still go partly to them).
            let values: Vec<f64> = (0..request_count)
                .map(|_| {
                    if rng.unit() < 0.25 {
                        -3.0 * rng.unit()
                    } else {
                        0.5 + 10.0 * rng.unit()
                    }
                })
                .collect();
            let group_count = 1 + rng.below(3);
            let lambda: Vec<f64> = (0..group_count)
                .map(|_| {
                    if rng.unit() < 0.5 {
                        0.0
                    } else {
                        3.0 * rng.unit()
                    }
                })
                .collect();
            let carried = if rng.unit() < 0.3 {
                0.0
            } else {
                2.0 * rng.unit()
            };
            let demand: f64 = quantity.iter().sum();
            // Classes: `(group, pack size, packs)`.
            let classes: Vec<(usize, f64, usize)> = (0..1 + rng.below(3))
                .map(|_| {
                    let pack = if rng.unit() < 0.4 {
                        (1 + rng.below(3)) as f64
                    } else {
                        (5 + rng.below(60)) as f64
                    };
                    (rng.below(group_count), pack, 1 + rng.below(3))
                })
                .collect();
            // The slot as the bound builds it: packs capped by the demand,
            // groups' units together, packs of a sixteenth of the demand or
            // more kept whole.
            let mut units = vec![0.0; group_count];
            let mut chunks = Vec::new();
            for &(g, pack, packs) in &classes {
                let packs = packs.min((demand / pack).floor() as usize);
                units[g] += pack * packs as f64;
                if pack >= CHUNK_SHARE * demand {
                    for _ in 0..packs.min(MAX_CHUNKS) {
                        chunks.push((g, pack));
                    }
                }
            }
            chunks.sort_by(|a: &(usize, f64), b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            chunks.truncate(MAX_CHUNKS);
            let positive: Vec<(usize, f64)> = (0..request_count)
                .filter(|&r| values[r] > 0.0)
                .map(|r| (r, values[r]))
                .collect();
            let others: Vec<(usize, f64)> = (0..request_count)
                .filter(|&r| values[r] <= 0.0)
                .map(|r| (r, values[r]))
                .collect();
            let groups: Vec<(usize, f64)> = (0..group_count)
                .filter(|&g| units[g] > 0.0)
                .map(|g| (g, units[g]))
                .collect();
            let slot = Slot {
                item: 0,
                requests: positive.clone(),
                groups: groups.clone(),
                eligible_units: units.iter().sum(),
                others,
                demand,
                chunks: chunks.clone(),
            };
            let mut scratch = WholeScratch::default();
            let (mut got_requests, mut got_groups) = (Vec::new(), Vec::new());
            let whole = whole_pack_value(
                &slot,
                &mu,
                &lambda,
                &quantity,
                carried,
                &mut scratch,
                Some((&mut got_requests, &mut got_groups)),
            );
            let reduced: Vec<(f64, f64)> = (0..request_count)
                .map(|r| (values[r] - mu[r], quantity[r]))
                .collect();
            let exact = best_whole_load(&reduced, &classes, &lambda, carried);
            assert!(
                whole >= exact - 1e-9 * (1.0 + exact.abs()),
                "case {case}: whole-pack value {whole} below the best whole load {exact}"
            );
            // The same slot with every pack divisible, as the segments price it.
            let divisible_slot = Slot {
                chunks: Vec::new(),
                ..slot.clone()
            };
            let divisible = whole_pack_value(
                &divisible_slot,
                &mu,
                &lambda,
                &quantity,
                carried,
                &mut scratch,
                None,
            );
            assert!(
                whole <= divisible + 1e-9 * (1.0 + divisible.abs()),
                "case {case}: whole-pack value {whole} above the divisible {divisible}"
            );
            // The load it reports is worth what it says and delivers no more
            // than it loads nor more than is requested.
            let delivered: f64 = got_requests.iter().map(|r| r.1).sum();
            let loaded: f64 = got_groups.iter().map(|g| g.1).sum();
            assert!((delivered - loaded).abs() < 1e-9, "case {case}");
            let worth: f64 = got_requests
                .iter()
                .map(|&(r, u)| u * (values[r] - mu[r]))
                .sum::<f64>()
                - got_groups
                    .iter()
                    .map(|&(g, u)| u * (lambda[g] + carried))
                    .sum::<f64>();
            assert!(
                (worth - whole).abs() <= 1e-9 * (1.0 + whole.abs()),
                "case {case}: load worth {worth}, value {whole}"
            );
            for r in 0..request_count {
                let sent: f64 = got_requests.iter().filter(|x| x.0 == r).map(|x| x.1).sum();
                assert!(sent <= quantity[r] + 1e-9, "case {case}: request {r}");
            }
            cases += 1;
            if whole < divisible - 1e-9 * (1.0 + divisible.abs()) {
                tighter += 1;
            }
        }
        // Not vacuous: whole packs often lower the value.
        assert!(tighter > cases / 10, "tighter in only {tighter} of {cases}");
    }

    #[test]
    fn the_quick_upper_bound_is_never_below_the_dual_formula() {
        let mut rng = crate::model::SplitMix64::new(9);
        let mut tight = 0;
        for case in 0..2_000 {
            let requests = 12;
            let groups = 10;
            let items = 4;
            let request_quantity: Vec<f64> =
                (0..requests).map(|_| (1 + rng.below(300)) as f64).collect();
            let mu: Vec<f64> = (0..requests)
                .map(|_| {
                    if rng.unit() < 0.3 {
                        0.0
                    } else {
                        30.0 * rng.unit()
                    }
                })
                .collect();
            let lambda: Vec<f64> = (0..groups)
                .map(|_| {
                    if rng.unit() < 0.5 {
                        0.0
                    } else {
                        20.0 * rng.unit()
                    }
                })
                .collect();
            let item_use: Vec<[f64; 3]> = (0..items)
                .map(|_| {
                    let volume = 0.01 + rng.unit();
                    let cold = if rng.unit() < 0.3 { volume } else { 0.0 };
                    [1.0 + 60.0 * rng.unit(), volume, cold]
                })
                .collect();
            let slots: Vec<Slot> = (0..1 + rng.below(items))
                .map(|item| {
                    let requests: Vec<(usize, f64)> = (0..1 + rng.below(4))
                        .map(|_| (rng.below(requests), 60.0 * rng.unit()))
                        .collect();
                    let groups: Vec<(usize, f64)> = (0..1 + rng.below(4))
                        .map(|_| (rng.below(groups), (1 + rng.below(400)) as f64))
                        .collect();
                    let eligible_units = groups.iter().map(|g| g.1).sum();
                    Slot {
                        item,
                        requests,
                        groups,
                        eligible_units,
                        others: Vec::new(),
                        demand: 0.0,
                        chunks: Vec::new(),
                    }
                })
                .collect();
            let mut departure = DepartureData {
                slots,
                payload_kg: 5_000.0 * rng.unit(),
                volume_m3: 50.0 * rng.unit(),
                cold_volume_m3: 5.0 * rng.unit(),
                fixed_cost: 10_000.0,
                prices: [rng.unit(), 20.0 * rng.unit(), 50.0 * rng.unit()],
                charter: Charter::Free,
            };
            let mut segments = Vec::new();
            build_segments(
                &mut departure,
                &mu,
                &lambda,
                &item_use,
                &request_quantity,
                &mut segments,
            );
            let units: Vec<f64> = segments.iter().map(|s| s.units).collect();
            let profit: Vec<f64> = segments.iter().map(|s| s.profit).collect();
            let use_: Vec<[f64; 3]> = segments.iter().map(|s| s.use_).collect();
            let capacities = [
                departure.payload_kg,
                departure.volume_m3,
                departure.cold_volume_m3,
            ];
            let dual =
                capacity_lp::dual_value(&units, &profit, &use_, capacities, departure.prices);
            let quick = quick_upper(&departure, &mu, &item_use, &request_quantity);
            assert!(
                quick >= dual - 1e-9 * (1.0 + dual.abs()),
                "case {case}: quick bound {quick} below the dual formula {dual}"
            );
            if quick <= dual * 1.5 {
                tight += 1;
            }
        }
        // Not a vacuous bound: often within half again of the formula.
        assert!(tight > 500, "only {tight} cases within 1.5 times");
    }

    #[test]
    fn trace_small() {
        let Ok(path) = std::env::var("RELIEFHUB_TRACE_BOUND") else {
            return;
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let Ok(instance) = crate::Instance::from_json(&text) else {
            return;
        };
        let model = Model::new(&instance);
        let stop = AtomicBool::new(false);
        let target = std::env::var("RELIEFHUB_TRACE_TARGET")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0.0);
        let fine = std::env::var_os("RELIEFHUB_TRACE_FINE").is_some();
        let Some(mut bounder) = Bounder::new(&model, target, fine, &stop) else {
            return;
        };
        let start = std::time::Instant::now();
        let slots: usize = bounder.departures.iter().map(|d| d.slots.len()).sum();
        let requests: usize = bounder
            .departures
            .iter()
            .flat_map(|d| d.slots.iter())
            .map(|s| s.requests.len())
            .sum();
        let groups: usize = bounder
            .departures
            .iter()
            .flat_map(|d| d.slots.iter())
            .map(|s| s.groups.len())
            .sum();
        println!(
            "slots {slots} requests {requests} groups {groups} multipliers {} {}",
            bounder.mu.len(),
            bounder.lambda.len()
        );
        for i in 0..20000 {
            let b = bounder.iterate(&stop).unwrap_or(f64::NAN);
            if i % 200 == 0 || i < 10 {
                println!(
                    "{i} {:.2}s {b:.1} best {:.1} theta {}",
                    start.elapsed().as_secs_f64(),
                    bounder.best(),
                    bounder.theta
                );
            }
            if bounder.converged() {
                println!("converged at {i}");
                break;
            }
        }
    }
}
