//! A plan under construction: loads (packs of a lot class on a departure) and
//! deliveries (units from a departure to a request) that balance per
//! departure and item, with the stock, demand and capacity left.

use crate::check::capacity_slack;
use crate::model::{Model, SplitMix64};
use crate::plan::Allocation;
use crate::stock::Trees;

/// Classes that cannot give a whole pack looked at before an insertion stops.
const MAX_MISSES: usize = 16;
/// Classes a perturbed insertion passes over at most.
const MAX_SKIPS: usize = 2;
/// Classes the exact fill chooses among.
const MAX_CANDIDATES: usize = 16;
/// Needs up to this many units are filled by an exact subset sum of packs.
const MAX_EXACT_UNITS: i64 = 3000;

/// Binary splitting of up to `count` packs of `pack_units` units each:
/// pieces of 1, 2, 4, ... packs (the last one what is left), as
/// `(packs, units)`; any total of up to `count` packs is a sum of pieces.
fn binary_pieces(count: i64, pack_units: usize) -> impl Iterator<Item = (i64, usize)> {
    let mut left = count.max(0);
    let mut size = 1i64;
    std::iter::from_fn(move || {
        (left > 0).then(|| {
            let take = size.min(left);
            left -= take;
            size *= 2;
            (take, take as usize * pack_units)
        })
    })
}

/// Bitsets of totals `0..=limit` of units, 64 to a word.
struct Totals {
    words: usize,
    top_mask: u64,
}

impl Totals {
    fn new(limit: usize) -> Totals {
        let top_mask = if limit % 64 == 63 {
            u64::MAX
        } else {
            (1u64 << (limit % 64 + 1)) - 1
        };
        Totals {
            words: limit / 64 + 1,
            top_mask,
        }
    }

    fn has(set: &[u64], total: usize) -> bool {
        set[total / 64] >> (total % 64) & 1 == 1
    }

    /// `to |= from << units` (totals past the limit dropped).
    fn shift_or(&self, from: &[u64], to: &mut [u64], units: usize) {
        let (shift_words, shift_bits) = (units / 64, units % 64);
        for w in (shift_words..self.words).rev() {
            let mut moved = from[w - shift_words] << shift_bits;
            if shift_bits > 0 && w > shift_words {
                moved |= from[w - shift_words - 1] >> (64 - shift_bits);
            }
            to[w] |= moved;
        }
        to[self.words - 1] &= self.top_mask;
    }
}

/// The totals from 1 to `limit` units that whole packs can make, taking at
/// most `count` packs of `pack_units` units from each `(pack_units, count)`.
pub(crate) fn reachable_totals(
    packs: impl Iterator<Item = (usize, i64)>,
    limit: usize,
) -> Vec<usize> {
    let totals = Totals::new(limit);
    let mut reach = vec![0u64; totals.words];
    reach[0] = 1;
    let mut previous = reach.clone();
    for (pack_units, count) in packs {
        let count = count.min((limit / pack_units.max(1)) as i64);
        for (_, units) in binary_pieces(count, pack_units) {
            if units > 0 && units <= limit {
                previous.copy_from_slice(&reach);
                totals.shift_or(&previous, &mut reach, units);
            }
        }
    }
    (1..=limit).filter(|&t| Totals::has(&reach, t)).collect()
}

/// The packs to take of each candidate `(class, pack size, _)` (at most the
/// class's stock left) whose units sum closest to `need` without passing it,
/// when that beats `greedy` units.
fn best_fill(
    candidates: &[(usize, i64, i64)],
    class_left: &[i64],
    need: i64,
    greedy: i64,
) -> Option<Vec<i64>> {
    let need = usize::try_from(need).ok()?;
    // Binary splitting: pieces of 1, 2, 4, ... packs of a candidate.
    let mut pieces: Vec<(usize, i64, usize)> = Vec::with_capacity(4 * candidates.len());
    for (index, &(c, pack, _)) in candidates.iter().enumerate() {
        let pack_units = usize::try_from(pack).ok()?;
        let count = class_left[c].min((need / pack_units.max(1)) as i64);
        pieces.extend(binary_pieces(count, pack_units).map(|(packs, units)| (index, packs, units)));
    }
    // Bitsets of the totals reachable with the first pieces: `reach[p]` with
    // pieces `0..p` (`reach[0]` holds only 0), one shift-or per piece.
    let totals = Totals::new(need);
    let words = totals.words;
    let mut reach: Vec<u64> = Vec::with_capacity((pieces.len() + 1) * words);
    reach.resize(words, 0);
    reach[0] = 1;
    let has = Totals::has;
    let mut used = 0;
    for &(_, _, units) in &pieces {
        let base = used * words;
        reach.extend_from_within(base..base + words);
        used += 1;
        if units > 0 && units <= need {
            let (before, after) = reach.split_at_mut(base + words);
            totals.shift_or(&before[base..], after, units);
            if has(after, need) {
                break;
            }
        }
    }
    let last = &reach[used * words..];
    let best = (0..=need).rev().find(|&t| has(last, t))?;
    if best as i64 <= greedy {
        return None;
    }
    // Each total came first with the earliest piece whose set holds it.
    let mut takes = vec![0i64; candidates.len()];
    let mut total = best;
    while total > 0 {
        let first = (1..=used).find(|&p| has(&reach[p * words..(p + 1) * words], total))?;
        let (index, packs, units) = pieces[first - 1];
        takes[index] += packs;
        total -= units;
    }
    Some(takes)
}

/// What one departure carries.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cargo {
    /// `(class, packs)`.
    pub loads: Vec<(usize, i64)>,
    /// `(request, units, net value per unit)`.
    pub deliveries: Vec<(usize, i64, f64)>,
    pub weight_kg: f64,
    pub volume_m3: f64,
    pub cold_m3: f64,
    /// Net value of the deliveries (value times timeliness minus freight).
    pub value: f64,
}

impl Cargo {
    pub fn is_empty(&self) -> bool {
        self.loads.is_empty()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct State {
    pub class_left: Vec<i64>,
    pub request_left: Vec<i64>,
    pub cargo: Vec<Cargo>,
    /// Departures the search may not load (charters it decided not to fly).
    pub closed: Vec<bool>,
    /// Which classes have stock left, indexed for [`State::insert`].
    trees: Trees,
    /// [`State::insert`]'s list of candidate classes, kept between calls so
    /// that it is not allocated anew each time (empty between calls).
    scratch: Vec<(usize, i64, i64)>,
}

impl State {
    pub fn new(model: &Model) -> Self {
        let instance = model.instance;
        State {
            class_left: model.classes.iter().map(|class| class.packs).collect(),
            request_left: instance
                .requests
                .iter()
                .map(|request| request.quantity)
                .collect(),
            cargo: vec![Cargo::default(); instance.departures.len()],
            closed: vec![false; instance.departures.len()],
            trees: model.stock.trees(|c| model.classes[c].packs > 0),
            scratch: Vec::new(),
        }
    }

    /// Changes the stock left of class `c` by `packs`, keeping the index.
    fn change_stock(&mut self, model: &Model, c: usize, packs: i64) {
        let before = self.class_left[c];
        let after = before + packs;
        self.class_left[c] = after;
        if (before > 0) != (after > 0) {
            model.stock.set_alive(&mut self.trees, c, after > 0);
        }
    }

    /// Net contribution of departure `d`: its cargo's value less its fixed cost if it flies.
    pub fn contribution(&self, model: &Model, d: usize) -> f64 {
        let cargo = &self.cargo[d];
        if cargo.is_empty() {
            0.0
        } else {
            cargo.value - model.instance.departures[d].fixed_cost
        }
    }

    pub fn objective(&self, model: &Model) -> f64 {
        (0..self.cargo.len())
            .map(|d| self.contribution(model, d))
            .sum()
    }

    /// Empties departure `d`, returning its stock and demand.
    pub fn clear(&mut self, model: &Model, d: usize) -> Cargo {
        let cargo = std::mem::take(&mut self.cargo[d]);
        for &(c, packs) in &cargo.loads {
            self.change_stock(model, c, packs);
        }
        for &(r, units, _) in &cargo.deliveries {
            self.request_left[r] += units;
        }
        cargo
    }

    /// Takes the loads and deliveries of `item` off departure `d`, keeping the
    /// rest; returns the whole cargo as it was (for [`State::restore`] after
    /// a [`State::clear`]).
    pub fn clear_item(&mut self, model: &Model, d: usize, item: usize) -> Cargo {
        let old = self.clear(model, d);
        let instance = model.instance;
        let mut keep = Cargo::default();
        keep.loads.reserve(old.loads.len());
        keep.deliveries.reserve(old.deliveries.len());
        for &(c, packs) in &old.loads {
            let class = &model.classes[c];
            if class.item == item {
                continue;
            }
            let unit = &instance.items[class.item];
            let units = (packs * class.pack_size) as f64;
            keep.weight_kg += units * unit.unit_weight_kg;
            keep.volume_m3 += units * unit.unit_volume_m3;
            if unit.cold_chain {
                keep.cold_m3 += units * unit.unit_volume_m3;
            }
            keep.loads.push((c, packs));
        }
        for &(r, units, unit_value) in &old.deliveries {
            if instance.requests[r].item != item {
                keep.value += units as f64 * unit_value;
                keep.deliveries.push((r, units, unit_value));
            }
        }
        if !keep.is_empty() {
            self.restore(model, d, keep);
        }
        old
    }

    /// Puts back cargo previously taken by [`State::clear`].
    pub fn restore(&mut self, model: &Model, d: usize, cargo: Cargo) {
        debug_assert!(self.cargo[d].is_empty());
        for &(c, packs) in &cargo.loads {
            self.change_stock(model, c, -packs);
            assert!(
                self.class_left[c] >= 0,
                "restored cargo must fit the stock left"
            );
        }
        for &(r, units, _) in &cargo.deliveries {
            self.request_left[r] -= units;
            assert!(
                self.request_left[r] >= 0,
                "restored cargo must fit the demand left"
            );
        }
        self.cargo[d] = cargo;
    }

    /// Whole units of an item that still fit on departure `d`.
    pub fn units_that_fit(&self, model: &Model, d: usize, item_index: usize) -> i64 {
        let departure = &model.instance.departures[d];
        let item = &model.instance.items[item_index];
        let cargo = &self.cargo[d];
        // Units (a fraction of one included) that fit one capacity; rounded
        // down once below, as the floor of the least equals the least floor.
        let fit = |capacity: f64, used: f64, per_unit: f64| -> f64 {
            // Stay a hair inside the checker's slack so sums of rounded terms never cross it.
            let room = capacity + 0.5 * capacity_slack(capacity) - used;
            room / per_unit
        };
        let mut units = fit(departure.payload_kg, cargo.weight_kg, item.unit_weight_kg).min(fit(
            departure.volume_m3,
            cargo.volume_m3,
            item.unit_volume_m3,
        ));
        if item.cold_chain {
            units = units.min(fit(
                departure.cold_volume_m3,
                cargo.cold_m3,
                item.unit_volume_m3,
            ));
        }
        if units.is_nan() || units < 0.0 {
            0
        } else {
            // Truncation is the floor here: `units` is not negative.
            units.min(1e15) as i64
        }
    }

    pub fn add_load(&mut self, model: &Model, d: usize, c: usize, packs: i64) {
        debug_assert!(packs > 0 && packs <= self.class_left[c]);
        let class = &model.classes[c];
        let item = &model.instance.items[class.item];
        let units = (packs * class.pack_size) as f64;
        self.change_stock(model, c, -packs);
        let cargo = &mut self.cargo[d];
        cargo.weight_kg += units * item.unit_weight_kg;
        cargo.volume_m3 += units * item.unit_volume_m3;
        if item.cold_chain {
            cargo.cold_m3 += units * item.unit_volume_m3;
        }
        let departure = &model.instance.departures[d];
        debug_assert!(
            cargo.weight_kg <= departure.payload_kg + capacity_slack(departure.payload_kg)
        );
        debug_assert!(cargo.volume_m3 <= departure.volume_m3 + capacity_slack(departure.volume_m3));
        debug_assert!(
            cargo.cold_m3 <= departure.cold_volume_m3 + capacity_slack(departure.cold_volume_m3)
        );
        match cargo.loads.iter_mut().find(|(class, _)| *class == c) {
            Some(entry) => entry.1 += packs,
            None => cargo.loads.push((c, packs)),
        }
    }

    pub fn add_delivery(&mut self, d: usize, r: usize, units: i64, unit_value: f64) {
        debug_assert!(units > 0 && units <= self.request_left[r]);
        self.request_left[r] -= units;
        let cargo = &mut self.cargo[d];
        cargo.value += units as f64 * unit_value;
        match cargo
            .deliveries
            .iter_mut()
            .find(|(request, _, _)| *request == r)
        {
            Some(entry) => entry.1 += units,
            None => cargo.deliveries.push((r, units, unit_value)),
        }
    }

    /// Takes the deliveries of `item` off departure `d`, keeping its loads:
    /// the caller gives those units to requests again
    /// ([`State::add_delivery`]) before the plan is used.
    pub fn take_deliveries(&mut self, model: &Model, d: usize, item: usize) {
        let cargo = &mut self.cargo[d];
        let request_left = &mut self.request_left;
        cargo.deliveries.retain(|&(r, units, unit_value)| {
            let keep = model.instance.requests[r].item != item;
            if !keep {
                request_left[r] += units;
                cargo.value -= units as f64 * unit_value;
            }
            keep
        });
    }

    /// Loads departure `d` with whole packs of `item` that make `total` units
    /// (or the closest total below it that they can make), from any stock
    /// that may go on it, and gives them to its requests for the item, best
    /// value first. Returns the units loaded.
    pub fn load_total(&mut self, model: &Model, d: usize, item: usize, total: i64) -> i64 {
        self.load_total_by(model, d, item, total, None)
    }

    /// [`State::load_total`], preferring the classes with the lowest
    /// `rank` (per class) instead of the soonest expiry when given.
    pub fn load_total_by(
        &mut self,
        model: &Model,
        d: usize,
        item: usize,
        total: i64,
        rank: Option<&[u32]>,
    ) -> i64 {
        let demand: i64 = model.options[d]
            .iter()
            .filter(|o| model.instance.requests[o.request].item == item)
            .map(|o| self.request_left[o.request])
            .sum();
        let need = total.min(demand).min(self.units_that_fit(model, d, item));
        if self.closed[d] || need <= 0 {
            return 0;
        }
        let departure = &model.instance.departures[d];
        let list_id = model.stock.list_id(departure.destination_index, item);
        let mut candidates: Vec<(usize, i64, i64)> = model.stock.lists[list_id]
            .iter()
            .zip(&model.list_packs[list_id])
            .filter(|&(&c, _)| self.class_left[c] > 0 && model.class_fits(c, d))
            .map(|(&c, &pack)| (c, pack, 0))
            .collect();
        if let Some(rank) = rank {
            candidates.sort_by_key(|&(c, _, _)| rank[c]);
        }
        let Some(takes) = best_fill(&candidates, &self.class_left, need, 0) else {
            return 0;
        };
        let mut loaded = 0;
        for (&(c, pack, _), &packs) in candidates.iter().zip(&takes) {
            if packs > 0 {
                self.add_load(model, d, c, packs);
                loaded += packs * pack;
            }
        }
        let mut left = loaded;
        for option in &model.options[d] {
            if left <= 0 {
                break;
            }
            if model.instance.requests[option.request].item == item {
                let take = left.min(self.request_left[option.request]);
                if take > 0 {
                    self.add_delivery(d, option.request, take, option.unit_value);
                    left -= take;
                }
            }
        }
        debug_assert_eq!(left, 0, "the units loaded never pass the demand");
        loaded
    }

    /// Loads departure `d` for request `r` (net unit value `unit_value`) with as
    /// many whole packs as stock, demand, capacity and `cap` (units) allow. When the demand
    /// left is smaller than a pack, one pack may be shared with other requests
    /// for the same item on the same departure. Returns the units delivered to `r`.
    ///
    /// With `skip`, each class found is passed over with that chance (at
    /// most a few times), so that perturbed rebuilds also try other stock.
    pub fn insert(
        &mut self,
        model: &Model,
        d: usize,
        r: usize,
        unit_value: f64,
        cap: i64,
        mut skip: Option<(&mut SplitMix64, f64)>,
    ) -> i64 {
        if self.closed[d] || self.request_left[r] <= 0 {
            return 0;
        }
        let instance = model.instance;
        let request = &instance.requests[r];
        let item_index = request.item;
        let departure = &instance.departures[d];
        let item = &instance.items[item_index];
        let mut room = self.units_that_fit(model, d, item_index);
        let mut need = self.request_left[r].min(room).min(cap);
        if need <= 0 {
            return 0;
        }
        let shelf_threshold = departure.arrives + item.min_shelf_life_days;
        let list_id = model.stock.list_id(departure.destination_index, item_index);
        let classes = &model.stock.lists[list_id];
        let packs_of = &model.list_packs[list_id];
        // Classes expiring too soon for this departure come first.
        let mut position = model.list_expires[list_id].partition_point(|&e| e < shelf_threshold);
        // Candidate classes (with stock, in time, fresh enough), soonest expiry
        // first, and the whole packs the greedy would take of each.
        let mut candidates = std::mem::take(&mut self.scratch);
        let mut greedy_left = need;
        let mut misses = 0;
        let mut skipped = 0;
        while misses < MAX_MISSES {
            let Some(found) = model.stock.first_ready(
                &mut self.trees,
                list_id,
                departure.node,
                position,
                departure.departs,
            ) else {
                break;
            };
            position = found + 1;
            if let Some((rng, chance)) = skip.as_mut() {
                if skipped < MAX_SKIPS && rng.unit() < *chance {
                    skipped += 1;
                    continue;
                }
            }
            let c = classes[found];
            debug_assert!(self.class_left[c] > 0 && model.class_fits(c, d));
            let pack = packs_of[found];
            let packs = self.class_left[c].min(greedy_left / pack);
            greedy_left -= packs * pack;
            if packs == 0 {
                misses += 1;
            }
            candidates.push((c, pack, packs));
            if greedy_left == 0 {
                break;
            }
        }
        // Worth it only when a class still has a pack the greedy could not use.
        let leftover = candidates
            .iter()
            .any(|&(c, pack, packs)| self.class_left[c] > packs && pack <= need);
        if greedy_left > 0 && leftover && need <= MAX_EXACT_UNITS {
            // The greedy leaves a remainder: look for the combination of whole
            // packs closest to the need.
            let first = &candidates[..candidates.len().min(MAX_CANDIDATES)];
            if let Some(takes) = best_fill(first, &self.class_left, need, need - greedy_left) {
                for (index, candidate) in candidates.iter_mut().enumerate() {
                    candidate.2 = takes.get(index).copied().unwrap_or(0);
                }
            }
        }
        let mut delivered = 0;
        for &(c, pack, packs) in &candidates {
            if packs > 0 {
                self.add_load(model, d, c, packs);
                self.add_delivery(d, r, packs * pack, unit_value);
                need -= packs * pack;
                room -= packs * pack;
                delivered += packs * pack;
            }
        }
        let mut smallest_open_pack: Option<(usize, i64)> = None;
        for &(c, pack, _) in &candidates {
            if need > 0
                && self.class_left[c] > 0
                && pack > need
                && pack <= room
                && smallest_open_pack.is_none_or(|(_, best)| pack < best)
            {
                smallest_open_pack = Some((c, pack));
            }
        }
        candidates.clear();
        self.scratch = candidates;
        if need > 0 {
            if let Some((c, pack)) = smallest_open_pack {
                delivered += self.share_pack(model, d, r, unit_value, c, pack, need);
            }
        }
        delivered
    }

    /// Loads one pack of class `c` on `d`, giving `need` units to `r` and the
    /// rest to other requests for the item served by `d`, best value first,
    /// if they can take all of it.
    #[allow(clippy::too_many_arguments)]
    fn share_pack(
        &mut self,
        model: &Model,
        d: usize,
        r: usize,
        unit_value: f64,
        c: usize,
        pack: i64,
        need: i64,
    ) -> i64 {
        let item_index = model.instance.requests[r].item;
        if self.units_that_fit(model, d, item_index) < pack {
            return 0;
        }
        let mut rest = pack - need;
        let mut takers: Vec<(usize, i64, f64)> = Vec::new();
        for option in &model.options[d] {
            if rest <= 0 {
                break;
            }
            let other = option.request;
            if other == r || model.instance.requests[other].item != item_index {
                continue;
            }
            let take = self.request_left[other].min(rest);
            if take > 0 {
                takers.push((other, take, option.unit_value));
                rest -= take;
            }
        }
        if rest > 0 {
            return 0;
        }
        self.add_load(model, d, c, 1);
        self.add_delivery(d, r, need, unit_value);
        for (other, take, value) in takers {
            self.add_delivery(d, other, take, value);
        }
        need
    }

    /// Splits the loads and deliveries into allocations of real lots.
    pub fn allocations(&self, model: &Model) -> Vec<Allocation> {
        let instance = model.instance;
        let mut lot_packs_left: Vec<Vec<i64>> = model
            .classes
            .iter()
            .map(|class| class.lots.iter().map(|(_, packs)| *packs).collect())
            .collect();
        let mut allocations = Vec::new();
        for (d, cargo) in self.cargo.iter().enumerate() {
            if cargo.is_empty() {
                continue;
            }
            let mut item_order: Vec<usize> = cargo
                .loads
                .iter()
                .map(|&(c, _)| model.classes[c].item)
                .collect();
            item_order.sort_unstable();
            item_order.dedup();
            for item_index in item_order {
                // Units of real lots loaded, in class order.
                let mut lot_units: Vec<(usize, i64)> = Vec::new();
                for &(c, packs) in cargo
                    .loads
                    .iter()
                    .filter(|(c, _)| model.classes[*c].item == item_index)
                {
                    let class = &model.classes[c];
                    let mut packs_needed = packs;
                    for (member, left) in class.lots.iter().zip(lot_packs_left[c].iter_mut()) {
                        if packs_needed == 0 {
                            break;
                        }
                        let take = packs_needed.min(*left);
                        if take > 0 {
                            *left -= take;
                            packs_needed -= take;
                            lot_units.push((member.0, take * class.pack_size));
                        }
                    }
                    assert_eq!(packs_needed, 0, "a class's loads never exceed its lots");
                }
                let mut demand: Vec<(usize, i64)> = cargo
                    .deliveries
                    .iter()
                    .filter(|(r, _, _)| instance.requests[*r].item == item_index)
                    .map(|&(r, units, _)| (r, units))
                    .collect();
                let loaded: i64 = lot_units.iter().map(|(_, units)| units).sum();
                let delivered: i64 = demand.iter().map(|(_, units)| units).sum();
                assert_eq!(
                    loaded, delivered,
                    "loads and deliveries balance per departure and item"
                );
                let mut next = 0;
                for (lot, mut units) in lot_units {
                    while units > 0 && next < demand.len() {
                        let take = units.min(demand[next].1);
                        allocations.push(Allocation {
                            lot,
                            departure: d,
                            request: demand[next].0,
                            quantity: take,
                        });
                        units -= take;
                        demand[next].1 -= take;
                        if demand[next].1 == 0 {
                            next += 1;
                        }
                    }
                }
            }
        }
        allocations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest total of whole packs at most `need`, by trying every count.
    fn brute_force(candidates: &[(usize, i64, i64)], class_left: &[i64], need: i64) -> i64 {
        fn walk(
            at: usize,
            sum: i64,
            candidates: &[(usize, i64, i64)],
            left: &[i64],
            need: i64,
        ) -> i64 {
            if at == candidates.len() {
                return sum;
            }
            let (c, pack, _) = candidates[at];
            let mut best = 0;
            for count in 0..=left[c] {
                let total = sum + count * pack;
                if total > need {
                    break;
                }
                best = best.max(walk(at + 1, total, candidates, left, need));
            }
            best
        }
        walk(0, 0, candidates, class_left, need)
    }

    #[test]
    fn exact_fill_finds_the_closest_total_of_whole_packs() {
        let mut rng = SplitMix64::new(5);
        for case in 0..3_000 {
            let count = 1 + rng.below(4);
            let class_left: Vec<i64> = (0..count).map(|_| rng.below(6) as i64).collect();
            let candidates: Vec<(usize, i64, i64)> = (0..count)
                .map(|c| (c, 1 + rng.below(150) as i64, 0))
                .collect();
            let need = 1 + rng.below(700) as i64;
            let best = brute_force(&candidates, &class_left, need);
            match best_fill(&candidates, &class_left, need, 0) {
                Some(takes) => {
                    let mut total = 0;
                    for (&(c, pack, _), &take) in candidates.iter().zip(&takes) {
                        assert!(
                            take >= 0 && take <= class_left[c],
                            "case {case}: take {take}"
                        );
                        total += take * pack;
                    }
                    assert_eq!(total, best, "case {case}");
                }
                None => assert_eq!(best, 0, "case {case}: a fill of {best} was missed"),
            }
        }
    }

    #[test]
    fn reachable_totals_are_every_sum_of_whole_packs() {
        let mut rng = SplitMix64::new(9);
        for case in 0..1_000 {
            let packs: Vec<(usize, i64)> = (0..1 + rng.below(3))
                .map(|_| (1 + rng.below(40), rng.below(5) as i64))
                .collect();
            let limit = rng.below(200);
            // Every combination of counts, directly.
            let mut expected = std::collections::BTreeSet::new();
            let mut counts = vec![0i64; packs.len()];
            loop {
                let total: usize = packs
                    .iter()
                    .zip(&counts)
                    .map(|(&(units, _), &n)| units * n as usize)
                    .sum();
                if total >= 1 && total <= limit {
                    expected.insert(total);
                }
                let Some(i) = (0..packs.len()).find(|&i| counts[i] < packs[i].1) else {
                    break;
                };
                counts[i] += 1;
                for c in &mut counts[..i] {
                    *c = 0;
                }
            }
            let found = reachable_totals(packs.iter().copied(), limit);
            assert_eq!(
                found,
                expected.into_iter().collect::<Vec<_>>(),
                "case {case}: {packs:?} up to {limit}"
            );
        }
    }

    /// One departure, one request for 740 units, and lots whose packs make
    /// 740 only one way: 171 + 350 + 159 + 60.
    fn pack_puzzle() -> crate::instance::Instance {
        let lot = |id: &str, quantity: i64, pack: i64, available: &str| {
            format!(
                r#"{{"id": "{id}", "item": "RUTF", "node": "PORT", "quantity": {quantity},
                "pack_size": {pack}, "available": "{available}", "expires": null,
                "earmark": [], "donor": "RU"}}"#
            )
        };
        let lots = [
            lot("L1", 400, 50, "2026-12-01"),
            lot("L2", 93, 93, "2026-12-02"),
            lot("L3", 171, 171, "2026-12-03"),
            lot("L4", 180, 60, "2026-12-04"),
            lot("L5", 350, 350, "2026-12-05"),
            lot("L6", 159, 159, "2026-12-06"),
        ]
        .join(",");
        let text = format!(
            r#"{{"format": "reliefhub-plan-instance/1", "name": "packs",
            "nodes": [{{"id": "PORT", "kind": "port"}}], "transfers": [],
            "items": [{{"id": "RUTF", "name": "RUTF", "unit_weight_kg": 15.0,
                "unit_volume_m3": 0.04, "cold_chain": false, "dangerous_goods": false,
                "min_shelf_life_days": 0}}],
            "lots": [{lots}],
            "departures": [{{"id": "D1", "node": "PORT", "mode": "air", "destination": "SSJUB",
                "departs": "2026-12-10", "arrives": "2026-12-10", "payload_kg": 12000,
                "volume_m3": 90, "cold_volume_m3": 0, "dangerous_goods": false,
                "fixed_cost": 0, "cost_per_kg": 0, "vehicle": "aircraft"}}],
            "requests": [{{"id": "R1", "destination": "SSJUB", "item": "RUTF",
                "quantity": 740, "value_per_unit": 100.0, "needed_by": "2026-12-20",
                "grace_days": 0}}]}}"#
        );
        crate::instance::Instance::from_json(&text).expect("a valid instance")
    }

    #[test]
    fn load_total_takes_the_packs_that_make_the_total() {
        let instance = pack_puzzle();
        let model = Model::new(&instance);
        let mut state = State::new(&model);
        assert_eq!(state.load_total(&model, 0, 0, 740), 740);
        assert_eq!(state.request_left[0], 0);
        let cargo = &state.cargo[0];
        let units: i64 = cargo
            .loads
            .iter()
            .map(|&(c, packs)| packs * model.classes[c].pack_size)
            .sum();
        assert_eq!(units, 740, "loads {:?}", cargo.loads);
        assert!((cargo.weight_kg - 740.0 * 15.0).abs() < 1e-6);
        // Nothing is loaded past the demand, and what cannot be made exactly
        // comes as the closest total below.
        let mut state = State::new(&model);
        assert_eq!(state.load_total(&model, 0, 0, 49), 0);
        assert_eq!(state.load_total(&model, 0, 0, 55), 50);
        let more = state.load_total(&model, 0, 0, 10_000);
        assert!(more > 600 && more <= 690, "{more}");
        assert_eq!(state.request_left[0], 690 - more);
        let units: i64 = state.cargo[0]
            .loads
            .iter()
            .map(|&(c, packs)| packs * model.classes[c].pack_size)
            .sum();
        assert_eq!(units, 50 + more);
    }

    #[test]
    fn load_total_by_rank_takes_the_preferred_stock_first() {
        let instance = pack_puzzle();
        let model = Model::new(&instance);
        let class_of = |lot: usize| {
            (0..model.classes.len())
                .find(|&c| model.classes[c].lots.iter().any(|&(l, _)| l == lot))
                .expect("a class of the lot")
        };
        // 350 units: L5's whole 350, or seven 50-packs of L1.
        let (l1, l5) = (class_of(0), class_of(4));
        let mut state = State::new(&model);
        assert_eq!(state.load_total(&model, 0, 0, 350), 350);
        assert_eq!(state.cargo[0].loads, vec![(l5, 1)], "the list's order");
        let mut rank = vec![1u32; model.classes.len()];
        rank[l1] = 0;
        let mut state = State::new(&model);
        assert_eq!(state.load_total_by(&model, 0, 0, 350, Some(&rank)), 350);
        assert_eq!(state.cargo[0].loads, vec![(l1, 7)], "L1 ranked first");
    }
}
