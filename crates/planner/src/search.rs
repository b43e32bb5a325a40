//! Primal search: a value-density construction, then large-neighbourhood
//! search that empties the departures of one or two destinations, flips
//! charter decisions, rebuilds them and keeps the result when it is no worse.

use crate::attribution::best_attribution;
use crate::knapsack::best_choices;
use crate::model::{Model, Option_, SplitMix64};
use crate::state::{reachable_totals, Cargo, State};

/// Candidate loadings `(score, departure, request, unit value)` for the
/// departures given; with `all`, also those of closed departures and of
/// requests already met (a list that stays valid while the plan changes).
fn candidates(
    model: &Model,
    state: &State,
    departures: &[usize],
    noise: f64,
    rng: &mut SplitMix64,
    all: bool,
) -> Vec<(f64, usize, usize, f64)> {
    // A perturbed order weighs a unit half the time by the larger of its kg
    // and its volume in kg of the departure's payload per m3, and by its kg
    // otherwise; the plain order by the former on small instances (where it
    // gains a little) and by kg on the others (where it loses).
    let by_volume = if noise > 0.0 {
        rng.unit() < 0.5
    } else {
        model.is_small()
    };
    // How much of the fixed cost counts: half in the plain order, anything
    // from none to all of it in a perturbed one.
    let amortised = if noise > 0.0 { rng.unit() } else { 0.5 };
    let fixed_per_kg = &model.fixed_per_kg;
    let mut list = Vec::with_capacity(departures.iter().map(|&d| model.options[d].len()).sum());
    for &d in departures {
        if state.closed[d] && !all {
            continue;
        }
        for option in &model.options[d] {
            if state.request_left[option.request] <= 0 && !all {
                continue;
            }
            let item = model.instance.requests[option.request].item;
            // Value per kg, or per kg-equivalent of the departure's binding capacity.
            let per = if by_volume {
                model.effective_kg[d][item]
            } else {
                model.instance.items[item].unit_weight_kg
            };
            // Value per kg net of the departure's fixed cost spread over a
            // full load, so a request goes to the cheapest way there first.
            let mut score = option.unit_value / per.max(1e-12) - amortised * fixed_per_kg[d];
            if noise > 0.0 {
                score *= 1.0 + noise * (rng.unit() - 0.5);
            }
            list.push((score, d, option.request, option.unit_value));
        }
    }
    // (departure, request) pairs are unique: the order is total.
    list.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    list
}

/// Loads the departures given, best value density first; stops early (the
/// plan stays feasible) once `stop` says so;
/// the clock is read every few thousand insertions.
pub(crate) fn fill_until(
    model: &Model,
    state: &mut State,
    departures: &[usize],
    noise: f64,
    rng: &mut SplitMix64,
    stop: &dyn Fn() -> bool,
) {
    for (index, (_, d, r, unit_value)) in candidates(model, state, departures, noise, rng, false)
        .into_iter()
        .enumerate()
    {
        if index % 4096 == 4095 && stop() {
            return;
        }
        let skip = (noise > 0.0).then_some((&mut *rng, noise * STOCK_SKIP));
        state.insert(model, d, r, unit_value, i64::MAX, skip);
    }
}

/// Closes every charter among `departures` whose cargo is worth less than its
/// fixed cost, worst first, and reloads the others after each closure.
pub(crate) fn drop_unprofitable(
    model: &Model,
    state: &mut State,
    departures: &[usize],
    rng: &mut SplitMix64,
    stop: &dyn Fn() -> bool,
) {
    // The plain order does not depend on the plan: sorted once, replayed
    // after each closure (closed departures and met requests are passed over).
    let mut order: Option<Vec<(f64, usize, usize, f64)>> = None;
    for _round in 0..departures.len() + 1 {
        let worst = departures
            .iter()
            .copied()
            .filter(|&d| !state.cargo[d].is_empty() && state.contribution(model, d) < 0.0)
            .min_by(|&a, &b| {
                state
                    .contribution(model, a)
                    .total_cmp(&state.contribution(model, b))
            });
        let Some(d) = worst else { return };
        assert!(
            model.instance.departures[d].fixed_cost > 0.0,
            "only a fixed cost makes a departure lose money"
        );
        state.clear(model, d);
        state.closed[d] = true;
        if !stop() {
            let order =
                order.get_or_insert_with(|| candidates(model, state, departures, 0.0, rng, true));
            for (index, &(_, d, r, unit_value)) in order.iter().enumerate() {
                if index % 4096 == 4095 && stop() {
                    return;
                }
                if !state.closed[d] && state.request_left[r] > 0 {
                    state.insert(model, d, r, unit_value, i64::MAX, None);
                }
            }
        }
    }
}

/// Share of moves that rebuild one item on some departures of a destination
/// (the rest rebuild whole destinations).
const ITEM_MOVE_SHARE: f64 = 0.5;
/// A perturbed rebuild passes over a class of stock with this chance per
/// unit of noise.
const STOCK_SKIP: f64 = 0.5;
/// A destination move takes at most this many departures of a destination
/// (a run of them by day).
const DESTINATION_MOVE_DEPARTURES: usize = 24;
/// Share of destination moves whose main charter decision closes the flown
/// charter that earns least on its fixed cost.
const CLOSE_WEAKEST: f64 = 0.3;
/// The second search's threshold relative to the first's.
const SECOND_HEAT: f64 = 8.0;
/// Share of moves that rebuild the departures leaving within a few days of
/// each other, whatever their destination.
const WINDOW_MOVE_SHARE: f64 = 0.15;
/// Share of item moves that take departures of any destination.
const GLOBAL_ITEM_SHARE: f64 = 0.5;
/// At most this many departures take part in an item move.
const ITEM_MOVE_DEPARTURES: usize = 8;
/// Share of moves that repack one departure by dynamic programming (when
/// [`Search::knapsack_moves`] is on).
const KNAPSACK_MOVE_SHARE: f64 = 0.15;
/// Share of those that first take one of the departure's items off the other
/// departures carrying it, which get as many units back afterwards (from
/// whatever stock is left).
const KNAPSACK_SHARED_ITEM: f64 = 0.6;
/// Share of moves that repack a departure together with another of its
/// destination's (when [`Search::knapsack_moves`] is on).
const PAIR_MOVE_SHARE: f64 = 0.1;
/// Share of pair moves on small instances ([`Model::is_small`]) that, when
/// the destination has two other loaded departures, make a chain of three:
/// the two cheaper per kg repacked in turn, each with the dearest as
/// partner (two charters trading through the flight priced per kg). At L
/// they cost 0.1 %.
const PAIR_CHAIN: f64 = 0.5;
/// Share of moves that add one pack to a departure and give its
/// destination's units of that item to the requests anew (when
/// [`Search::knapsack_moves`] is on).
const PACK_MOVE_SHARE: f64 = 0.15;
/// Share of moves that load an item's totals again with other packs, the
/// departures with the least choice first (when [`Search::knapsack_moves`]
/// is on): what frees the packs another departure needs. It used to take
/// 0.6 of the moves, but per second it finds fewest new best plans of
/// all (on `small.json` it had 53 % of the time for 24 % of them): with
/// its time given to the knapsack, pair, pack and ring moves, 142 of 160
/// runs of `small.json` in 1 s reach 1,475,188 against about 100, and M
/// and L in 10 s gain 0.2 to 0.5 %.
const RELOT_MOVE_SHARE: f64 = 0.25;
/// Share of moves that pass items round a ring of departures (when
/// [`Search::knapsack_moves`] is on).
const RING_MOVE_SHARE: f64 = 0.25;
/// Share of rings on small instances ([`Model::is_small`]) that follow
/// their items across destinations.
const RING_ACROSS: f64 = 0.5;
/// Share of rings that pass every unit of their items (the others a part).
const RING_ALL_UNITS: f64 = 0.5;
/// Share of relot moves that load the stock the fewest departures may take
/// first.
const RELOT_BY_REACH: f64 = 0.5;
/// Cells a departure's payload is cut into for the programme.
const KNAPSACK_CELLS: usize = 2048;
/// The knapsack's grid in the polish at the end ([`Search::polish`]).
const POLISH_CELLS: usize = 16_384;
/// Totals of one item it chooses among.
const KNAPSACK_CHOICES: usize = 64;
/// Of those, the totals next to what the departure carried, on either side.
const KNAPSACK_NEAR: usize = 16;
/// Units of one item it looks at on one departure.
const KNAPSACK_MAX_UNITS: i64 = 20_000;

/// Another departure that takes what a repacked one leaves of their cargo:
/// its options, and `(item, units the two carried, units it carried)`.
type Partner<'p> = (&'p [Option_], &'p [(usize, i64, i64)]);
/// Departures in a ring, and the `(item, units)` each gives the next.
type Ring = (Vec<usize>, Vec<(usize, i64)>);

/// Whether `cargo` fills more of departure `d`'s volume than of its payload:
/// the knapsack then weighs units by volume (the loading checks the other
/// capacities).
fn fills_volume_more(model: &Model, d: usize, cargo: &Cargo) -> bool {
    let departure = &model.instance.departures[d];
    cargo.volume_m3 * departure.payload_kg > cargo.weight_kg * departure.volume_m3
}

/// Units of `item` a cargo delivers.
fn item_units(model: &Model, cargo: &Cargo, item: usize) -> i64 {
    cargo
        .deliveries
        .iter()
        .filter(|&&(r, _, _)| model.instance.requests[r].item == item)
        .map(|&(_, units, _)| units)
        .sum()
}

/// Units of each item a cargo delivers, `(item, units)`.
fn carried_units(model: &Model, cargo: &Cargo) -> Vec<(usize, i64)> {
    let mut list: Vec<(usize, i64)> = Vec::new();
    for &(r, units, _) in &cargo.deliveries {
        let item = model.instance.requests[r].item;
        match list.iter_mut().find(|k| k.0 == item) {
            Some(k) => k.1 += units,
            None => list.push((item, units)),
        }
    }
    list
}

pub(crate) struct Search<'m, 'a> {
    pub model: &'m Model<'a>,
    pub state: State,
    pub objective: f64,
    rng: SplitMix64,
    /// Destinations that have at least one departure with options.
    active_destinations: Vec<usize>,
    /// Per item, the departures that can serve a request for it.
    item_departures: Vec<Vec<usize>>,
    /// The departures with options, by departure day.
    by_departure_day: Vec<usize>,
    /// Per destination, its departures by departure day.
    destination_by_day: Vec<Vec<usize>>,
    pub moves: u64,
    pub improvements: u64,
    /// Worsening a move may bring (0: only moves that are no worse).
    pub temperature: f64,
    /// This search's share of the common threshold.
    pub heat: f64,
    /// The best plan and its objective when the current one is worse.
    best: Option<(State, f64)>,
    /// Whether some moves repack departures exactly or reload their lots
    /// ([`Search::enable_repacking`]; worth their time on instances with
    /// few lot classes only).
    knapsack_moves: bool,
    /// Per lot class, how many departures may load it (with repacking only).
    class_reach: Vec<u32>,
}

impl<'m, 'a> Search<'m, 'a> {
    /// Builds the first plan; `stop` cuts the construction short (the plan
    /// stays feasible and every charter left pays its fixed cost).
    pub fn new(model: &'m Model<'a>, seed: u64, stop: &dyn Fn() -> bool) -> Self {
        let mut rng = SplitMix64::new(seed);
        let all: Vec<usize> = (0..model.instance.departures.len()).collect();
        let mut state = State::new(model);
        fill_until(model, &mut state, &all, 0.0, &mut rng, stop);
        for departures in &model.destination_departures {
            if stop() {
                // No time to reload: close the losing charters outright.
                for &d in departures {
                    if !state.cargo[d].is_empty() && state.contribution(model, d) < 0.0 {
                        state.clear(model, d);
                        state.closed[d] = true;
                    }
                }
            } else {
                drop_unprofitable(model, &mut state, departures, &mut rng, stop);
            }
        }
        let objective = state.objective(model);
        assert!(
            objective >= 0.0,
            "dropping unprofitable charters leaves no departure losing money"
        );
        let active_destinations = (0..model.destination_departures.len())
            .filter(|&x| {
                model.destination_departures[x]
                    .iter()
                    .any(|&d| !model.options[d].is_empty())
            })
            .collect();
        let mut item_departures = vec![Vec::new(); model.instance.items.len()];
        for (d, options) in model.options.iter().enumerate() {
            for option in options {
                let list: &mut Vec<usize> =
                    &mut item_departures[model.instance.requests[option.request].item];
                if list.last() != Some(&d) {
                    list.push(d);
                }
            }
        }
        let mut by_departure_day: Vec<usize> = (0..model.instance.departures.len())
            .filter(|&d| !model.options[d].is_empty())
            .collect();
        by_departure_day.sort_by_key(|&d| (model.instance.departures[d].departs, d));
        let destination_by_day = model
            .destination_departures
            .iter()
            .map(|list| {
                let mut list = list.clone();
                list.sort_by_key(|&d| (model.instance.departures[d].departs, d));
                list
            })
            .collect();
        Search {
            model,
            state,
            objective,
            rng,
            active_destinations,
            item_departures,
            by_departure_day,
            destination_by_day,
            moves: 0,
            improvements: 0,
            temperature: 0.0,
            heat: 1.0,
            best: None,
            knapsack_moves: false,
            class_reach: Vec::new(),
        }
    }

    /// Turns on the repacking moves (the knapsack, pair, pack and relot
    /// moves), counting once how many departures may load each lot class.
    pub fn enable_repacking(&mut self) {
        let model = self.model;
        let mut class_reach = vec![0u32; model.classes.len()];
        for (d, options) in model.options.iter().enumerate() {
            let x = model.instance.departures[d].destination_index;
            let mut items: Vec<usize> = options
                .iter()
                .map(|o| model.instance.requests[o.request].item)
                .collect();
            items.sort_unstable();
            items.dedup();
            for item in items {
                for &c in &model.stock.lists[model.stock.list_id(x, item)] {
                    if model.class_fits(c, d) {
                        class_reach[c] += 1;
                    }
                }
            }
        }
        self.class_reach = class_reach;
        self.knapsack_moves = true;
    }

    /// A second search from the same plan with its own random choices.
    pub fn fork(&self, seed: u64) -> Self {
        Search {
            model: self.model,
            state: self.state.clone(),
            objective: self.objective,
            rng: SplitMix64::new(seed),
            active_destinations: self.active_destinations.clone(),
            item_departures: self.item_departures.clone(),
            by_departure_day: self.by_departure_day.clone(),
            destination_by_day: self.destination_by_day.clone(),
            moves: 0,
            improvements: 0,
            temperature: 0.0,
            heat: SECOND_HEAT,
            best: None,
            knapsack_moves: self.knapsack_moves,
            class_reach: self.class_reach.clone(),
        }
    }

    /// A copy of the best plan found.
    pub fn best_state(&self) -> State {
        match &self.best {
            Some((state, _)) => state.clone(),
            None => self.state.clone(),
        }
    }

    /// Continues from another search's plan (better than this one's best).
    pub fn adopt(&mut self, state: State, objective: f64) {
        self.state = state;
        self.objective = objective;
        self.best = None;
    }

    /// One large-neighbourhood move. Returns whether the objective improved.
    /// `stop` cuts the rebuilding short (the move is then judged as it is).
    pub fn step(&mut self, stop: &dyn Fn() -> bool) -> bool {
        self.moves += 1;
        if self.active_destinations.is_empty() {
            return false;
        }
        if self.knapsack_moves {
            let kind = self.rng.unit();
            if kind < KNAPSACK_MOVE_SHARE {
                return self.knapsack_step(stop);
            }
            if kind < KNAPSACK_MOVE_SHARE + PAIR_MOVE_SHARE {
                return self.pair_step(stop);
            }
            if kind < KNAPSACK_MOVE_SHARE + PAIR_MOVE_SHARE + PACK_MOVE_SHARE {
                return self.pack_step();
            }
            if kind < KNAPSACK_MOVE_SHARE + PAIR_MOVE_SHARE + PACK_MOVE_SHARE + RELOT_MOVE_SHARE {
                return self.relot_step(stop);
            }
            if kind
                < KNAPSACK_MOVE_SHARE
                    + PAIR_MOVE_SHARE
                    + PACK_MOVE_SHARE
                    + RELOT_MOVE_SHARE
                    + RING_MOVE_SHARE
            {
                return self.ring_step(stop);
            }
        }
        let kind = self.rng.unit();
        if kind < ITEM_MOVE_SHARE {
            return self.item_step(stop);
        }
        if kind < ITEM_MOVE_SHARE + WINDOW_MOVE_SHARE {
            return self.window_step(stop);
        }
        let model = self.model;
        let first = self.active_destinations[self.rng.below(self.active_destinations.len())];
        let mut destinations = vec![first];
        if self.active_destinations.len() > 1 && self.rng.unit() < 0.3 {
            let second = self.active_destinations[self.rng.below(self.active_destinations.len())];
            if second != first {
                destinations.push(second);
            }
        }
        // A destination with many departures gives a run of them, by day.
        let mut departures: Vec<usize> = Vec::new();
        for &x in &destinations {
            let list = &self.destination_by_day[x];
            if list.len() <= DESTINATION_MOVE_DEPARTURES {
                departures.extend_from_slice(list);
            } else {
                let start = self.rng.below(list.len() - DESTINATION_MOVE_DEPARTURES + 1);
                departures.extend_from_slice(&list[start..start + DESTINATION_MOVE_DEPARTURES]);
            }
        }
        let before = self.contribution_of(&departures);
        // The flown charter that earns least on its fixed cost (a candidate
        // for consolidating its cargo onto the others).
        let weakest = departures
            .iter()
            .copied()
            .filter(|&d| {
                !self.state.cargo[d].is_empty() && model.instance.departures[d].fixed_cost > 0.0
            })
            .map(|d| {
                let ratio = self.state.cargo[d].value / model.instance.departures[d].fixed_cost;
                (ratio, d)
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, d)| d);
        let old_closed: Vec<bool> = departures.iter().map(|&d| self.state.closed[d]).collect();
        let old_cargo: Vec<Cargo> = departures
            .iter()
            .map(|&d| self.state.clear(model, d))
            .collect();

        // New charter decisions for these departures.
        let charters: Vec<usize> = departures
            .iter()
            .copied()
            .filter(|&d| model.instance.departures[d].fixed_cost > 0.0)
            .collect();
        let kind = self.rng.unit();
        if !charters.is_empty() {
            if kind < 0.15 {
                for &d in &charters {
                    self.state.closed[d] = false;
                }
            } else {
                let flip = match weakest {
                    Some(d) if self.rng.unit() < CLOSE_WEAKEST => d,
                    _ => charters[self.rng.below(charters.len())],
                };
                self.state.closed[flip] = !self.state.closed[flip];
                for &d in &charters {
                    if d != flip && self.rng.unit() < 1.0 / (charters.len() as f64 + 1.0) {
                        self.state.closed[d] = !self.state.closed[d];
                    }
                }
            }
        }
        let noise = if self.rng.unit() < 0.3 {
            0.0
        } else {
            0.4 * self.rng.unit()
        };
        self.refill_and_conclude(&departures, noise, old_cargo, old_closed, before, stop)
    }

    /// What `departures` contribute to the objective now.
    fn contribution_of(&self, departures: &[usize]) -> f64 {
        departures
            .iter()
            .map(|&d| self.state.contribution(self.model, d))
            .sum()
    }

    /// Reloads `departures` (in an order perturbed by `noise`), drops what no
    /// longer pays for itself, then keeps or undoes the move (`conclude`).
    fn refill_and_conclude(
        &mut self,
        departures: &[usize],
        noise: f64,
        old_cargo: Vec<Cargo>,
        old_closed: Vec<bool>,
        before: f64,
        stop: &dyn Fn() -> bool,
    ) -> bool {
        let model = self.model;
        fill_until(
            model,
            &mut self.state,
            departures,
            noise,
            &mut self.rng,
            stop,
        );
        drop_unprofitable(model, &mut self.state, departures, &mut self.rng, stop);
        let after = self.contribution_of(departures);
        self.conclude(departures, old_cargo, old_closed, before, after)
    }

    /// Keeps a move that is no worse, or worse by less than a random share of
    /// the temperature (remembering the best plan before leaving it); undoes
    /// it otherwise. Returns whether the best objective improved.
    fn conclude(
        &mut self,
        departures: &[usize],
        old_cargo: Vec<Cargo>,
        old_closed: Vec<bool>,
        before: f64,
        after: f64,
    ) -> bool {
        let model = self.model;
        let delta = after - before;
        let tolerance = 1e-9 * (1.0 + before.abs());
        let accept = delta >= -tolerance
            || (self.temperature > 0.0 && delta >= -self.temperature * self.rng.unit());
        if !accept {
            for &d in departures {
                self.state.clear(model, d);
            }
            for ((&d, cargo), closed) in departures.iter().zip(old_cargo).zip(old_closed) {
                self.state.restore(model, d, cargo);
                self.state.closed[d] = closed;
            }
            return false;
        }
        if delta < -tolerance && self.best.is_none() {
            // Leaving the best plan: keep a copy of it.
            let mut best = self.state.clone();
            for &d in departures {
                best.clear(model, d);
            }
            for ((&d, cargo), closed) in departures.iter().zip(old_cargo).zip(old_closed) {
                best.restore(model, d, cargo);
                best.closed[d] = closed;
            }
            self.best = Some((best, self.objective));
        }
        let best_before = self.best_objective();
        self.objective += delta;
        if let Some((_, value)) = &self.best {
            if self.objective > *value + 1e-9 * (1.0 + value.abs()) {
                self.best = None;
            }
        }
        if self.best_objective() > best_before + 1e-7 * (1.0 + best_before.abs()) {
            self.improvements += 1;
            return true;
        }
        false
    }

    /// Whether no move can change anything (no departure can serve a request).
    pub fn idle(&self) -> bool {
        self.active_destinations.is_empty()
    }

    /// The objective of the best plan found.
    pub fn best_objective(&self) -> f64 {
        match &self.best {
            Some((_, value)) => *value,
            None => self.objective,
        }
    }

    /// The best plan found.
    pub fn into_best(self) -> State {
        match self.best {
            Some((state, _)) => state,
            None => self.state,
        }
    }

    /// Empties a few departures that leave within a few days of a random one
    /// (they compete for the same early stock), then reloads them in a
    /// perturbed order. Kept when no worse.
    fn window_step(&mut self, stop: &dyn Fn() -> bool) -> bool {
        let model = self.model;
        let departures_all = &model.instance.departures;
        let order = &self.by_departure_day;
        if order.is_empty() {
            return false;
        }
        let at = self.rng.below(order.len());
        let day = departures_all[order[at]].departs;
        let width = 1 + self.rng.below(3) as i32;
        let mut departures: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&d| (departures_all[d].departs - day).abs() <= width)
            .collect();
        while departures.len() > ITEM_MOVE_DEPARTURES {
            let i = self.rng.below(departures.len());
            if departures[i] != order[at] {
                departures.swap_remove(i);
            }
        }
        let before = self.contribution_of(&departures);
        let old_closed: Vec<bool> = departures.iter().map(|&e| self.state.closed[e]).collect();
        let old_cargo: Vec<Cargo> = departures
            .iter()
            .map(|&e| self.state.clear(model, e))
            .collect();
        if self.rng.unit() < 0.2 {
            let e = departures[self.rng.below(departures.len())];
            self.state.closed[e] = !self.state.closed[e];
        }
        let noise = 0.5 * self.rng.unit();
        self.refill_and_conclude(&departures, noise, old_cargo, old_closed, before, stop)
    }

    /// Takes one item off a few departures of one destination (one of them
    /// chosen at random, the others among its destination's), then reloads
    /// those departures with everything they can take, in a perturbed order.
    /// Kept when no worse.
    fn item_step(&mut self, stop: &dyn Fn() -> bool) -> bool {
        let model = self.model;
        let x = self.active_destinations[self.rng.below(self.active_destinations.len())];
        let all = &model.destination_departures[x];
        let with_options: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&d| !model.options[d].is_empty())
            .collect();
        if with_options.is_empty() {
            return false;
        }
        let d = with_options[self.rng.below(with_options.len())];
        let options = &model.options[d];
        let item = model.instance.requests[options[self.rng.below(options.len())].request].item;
        let mut departures = vec![d];
        let with_options = if self.rng.unit() < GLOBAL_ITEM_SHARE {
            // Across destinations: stock of the item moves between them.
            self.item_departures[item].clone()
        } else {
            with_options
        };
        if with_options.len() <= ITEM_MOVE_DEPARTURES {
            departures.extend(with_options.iter().copied().filter(|&e| e != d));
        } else {
            while departures.len() < ITEM_MOVE_DEPARTURES {
                let e = with_options[self.rng.below(with_options.len())];
                if !departures.contains(&e) {
                    departures.push(e);
                }
            }
        }
        let (before, old_closed, old_cargo) = self.take_item_off(&departures, item);
        // Now and then a closed charter among them gets another chance.
        if self.rng.unit() < 0.2 {
            let e = departures[self.rng.below(departures.len())];
            self.state.closed[e] = false;
        }
        let noise = 0.5 * self.rng.unit();
        self.refill_and_conclude(&departures, noise, old_cargo, old_closed, before, stop)
    }

    /// Empties one loaded departure and reloads it by a multiple-choice
    /// knapsack over how many units of each item it carries (each total a
    /// sum of whole packs of the stock left, its units going to the item's
    /// best requests first), then fills what room is left. Now and then one
    /// of its items first comes off the other departures that carry it, so
    /// that the knapsack may take their packs and they take others. Kept
    /// when no worse.
    fn knapsack_step(&mut self, stop: &dyn Fn() -> bool) -> bool {
        let Some(d) = self.random_loaded() else {
            return false;
        };
        let carried = carried_units(self.model, &self.state.cargo[d]);
        // Now and then one of its items comes off the other departures that
        // carry it, so that stock can change places with them.
        let shared = (self.rng.unit() < KNAPSACK_SHARED_ITEM)
            .then(|| carried[self.rng.below(carried.len())].0);
        self.knapsack_repack(d, &carried, shared, KNAPSACK_CELLS, stop)
    }

    /// The knapsack move on departure `d` (which carries `carried`, as
    /// [`carried_units`] gives it), with `shared` (an item it carries) first
    /// taken off the other departures that carry it, on a payload grid of
    /// `cells`.
    fn knapsack_repack(
        &mut self,
        d: usize,
        carried: &[(usize, i64)],
        shared: Option<usize>,
        cells: usize,
        stop: &dyn Fn() -> bool,
    ) -> bool {
        let model = self.model;
        let by_volume = fills_volume_more(model, d, &self.state.cargo[d]);
        let others = match shared {
            Some(item) => self.others_carrying(d, item),
            None => Vec::new(),
        };
        let departures: Vec<usize> = std::iter::once(d)
            .chain(others.iter().map(|o| o.0))
            .collect();
        let before = self.contribution_of(&departures);
        let old_closed: Vec<bool> = departures.iter().map(|&e| self.state.closed[e]).collect();
        let mut old_cargo = vec![self.state.clear(model, d)];
        if let Some(item) = shared {
            for &e in &departures[1..] {
                old_cargo.push(self.state.clear_item(model, e, item));
            }
        }
        self.repack(d, by_volume, carried, None, cells);
        if let Some(item) = shared {
            for &(e, units) in &others {
                self.state.load_total(model, e, item, units);
            }
        }
        self.fill_and_conclude(&departures, old_cargo, old_closed, before, stop)
    }

    /// Continues from the best plan and repacks each loaded departure once
    /// by the knapsack on a fine grid ([`POLISH_CELLS`]), alone and then
    /// with each of its items taken off the others that carry it, keeping
    /// what is no worse: the search's grid is too coarse to tell apart two
    /// fills a few kg apart. For small instances, at the end.
    pub fn polish(&mut self, stop: &dyn Fn() -> bool) {
        if let Some((state, value)) = self.best.take() {
            self.state = state;
            self.objective = value;
        }
        let temperature = std::mem::replace(&mut self.temperature, 0.0);
        for d in self.by_departure_day.clone() {
            if stop() {
                break;
            }
            if self.state.cargo[d].is_empty() {
                continue;
            }
            let carried = carried_units(self.model, &self.state.cargo[d]);
            self.knapsack_repack(d, &carried, None, POLISH_CELLS, stop);
            let items: Vec<usize> = carried_units(self.model, &self.state.cargo[d])
                .iter()
                .map(|k| k.0)
                .collect();
            for item in items {
                if stop() || self.state.cargo[d].is_empty() {
                    break;
                }
                let carried = carried_units(self.model, &self.state.cargo[d]);
                self.knapsack_repack(d, &carried, Some(item), POLISH_CELLS, stop);
            }
        }
        self.temperature = temperature;
    }

    /// Empties a loaded departure and another loaded one to the same
    /// destination; repacks the one cheaper per kg by the multiple-choice
    /// knapsack, counting what it leaves of the two's cargo at its value on
    /// the other, which then takes those units; fills both. Kept when no
    /// worse. Now and then a chain of three instead ([`Search::pair_chain`]).
    fn pair_step(&mut self, stop: &dyn Fn() -> bool) -> bool {
        let Some(first) = self.random_loaded() else {
            return false;
        };
        let siblings = self.loaded_siblings(first);
        if siblings.is_empty() {
            return false;
        }
        if self.model.is_small() && siblings.len() >= 2 && self.rng.unit() < PAIR_CHAIN {
            return self.pair_chain(first, siblings, stop);
        }
        let departures = &self.model.instance.departures;
        let second = siblings[self.rng.below(siblings.len())];
        let (d, e) = if departures[second].cost_per_kg < departures[first].cost_per_kg {
            (second, first)
        } else {
            (first, second)
        };
        let pair = [d, e];
        let before = self.contribution_of(&pair);
        let old_closed = vec![self.state.closed[d], self.state.closed[e]];
        let old_cargo = self.pair_repack(d, e);
        self.fill_and_conclude(&pair, old_cargo, old_closed, before, stop)
    }

    /// The other loaded departures to `d`'s destination.
    fn loaded_siblings(&self, d: usize) -> Vec<usize> {
        let model = self.model;
        model.destination_departures[model.instance.departures[d].destination_index]
            .iter()
            .copied()
            .filter(|&e| e != d && !self.state.cargo[e].is_empty())
            .collect()
    }

    /// `first` and two of its loaded `siblings` (at least two): the two
    /// cheaper per kg, in random order, are repacked in turn
    /// ([`Search::pair_repack`]), each with the dearest as partner, so two
    /// charters trade through the flight priced per kg; then all three
    /// fill. Kept when no worse, or within the threshold.
    fn pair_chain(
        &mut self,
        first: usize,
        mut siblings: Vec<usize>,
        stop: &dyn Fn() -> bool,
    ) -> bool {
        let departures = &self.model.instance.departures;
        self.rng.shuffle(&mut siblings);
        let mut three = [first, siblings[0], siblings[1]];
        three.sort_by(|&a, &b| {
            departures[a]
                .cost_per_kg
                .total_cmp(&departures[b].cost_per_kg)
        });
        if self.rng.unit() < 0.5 {
            three.swap(0, 1);
        }
        let before = self.contribution_of(&three);
        let old_closed: Vec<bool> = three.iter().map(|&e| self.state.closed[e]).collect();
        let old_cargo: Vec<Cargo> = three.iter().map(|&e| self.state.cargo[e].clone()).collect();
        self.pair_repack(three[0], three[2]);
        self.pair_repack(three[1], three[2]);
        self.fill_and_conclude(&three, old_cargo, old_closed, before, stop)
    }

    /// Empties `d` and `e`, repacks `d` by the knapsack counting what it
    /// leaves of the two's cargo at its value on `e`, which then takes
    /// those units. Returns the two's cargo before.
    fn pair_repack(&mut self, d: usize, e: usize) -> Vec<Cargo> {
        let model = self.model;
        let by_volume = fills_volume_more(model, d, &self.state.cargo[d]);
        let old_cargo = vec![self.state.clear(model, d), self.state.clear(model, e)];
        // Units of each item the two carried, and the other alone.
        let carried = carried_units(model, &old_cargo[0]);
        let mut kept: Vec<(usize, i64, i64)> = carried_units(model, &old_cargo[1])
            .into_iter()
            .map(|(item, units)| (item, units, units))
            .collect();
        for &(item, units) in &carried {
            match kept.iter_mut().find(|k| k.0 == item) {
                Some(k) => k.1 += units,
                None => kept.push((item, units, 0)),
            }
        }
        self.repack(
            d,
            by_volume,
            &carried,
            Some((&model.options[e], &kept)),
            KNAPSACK_CELLS,
        );
        let on_d = carried_units(model, &self.state.cargo[d]);
        for &(item, units, own) in &kept {
            let taken = on_d.iter().find(|k| k.0 == item).map_or(0, |k| k.1);
            // It takes back what is left, and at least what it carried itself.
            let back = (units - taken).max(own);
            if back > 0 {
                self.state.load_total(model, e, item, back);
            }
        }
        old_cargo
    }

    /// Adds one pack of an item to a loaded departure and gives the units of
    /// that item its destination's departures carry to the destination's
    /// requests anew, the best way that places every unit (a pack that no
    /// request on its departure could take whole may fit once another
    /// departure's units go to other requests). Kept when no worse.
    fn pack_step(&mut self) -> bool {
        let model = self.model;
        let instance = model.instance;
        let Some((d, item)) = self.random_loaded_item() else {
            return false;
        };
        let room = self.state.units_that_fit(model, d, item);
        let x = instance.departures[d].destination_index;
        let list_id = model.stock.list_id(x, item);
        let state = &self.state;
        let classes: Vec<usize> = model.stock.lists[list_id]
            .iter()
            .copied()
            .filter(|&c| {
                state.class_left[c] > 0
                    && model.class_fits(c, d)
                    && model.classes[c].pack_size <= room
            })
            .collect();
        if classes.is_empty() {
            return false;
        }
        let c = classes[self.rng.below(classes.len())];
        let pack = model.classes[c].pack_size;
        // The destination's departures that carry the item, `d` first.
        let delivers = |e: usize| item_units(model, &state.cargo[e], item);
        let mut group = vec![d];
        group.extend(
            model.destination_departures[x]
                .iter()
                .copied()
                .filter(|&e| e != d && delivers(e) > 0),
        );
        let supply: Vec<i64> = group
            .iter()
            .enumerate()
            .map(|(k, &e)| delivers(e) + if k == 0 { pack } else { 0 })
            .collect();
        let mut requests: Vec<usize> = Vec::new();
        for &e in &group {
            for o in &model.options[e] {
                if instance.requests[o.request].item == item && !requests.contains(&o.request) {
                    requests.push(o.request);
                }
            }
        }
        let demand: Vec<i64> = requests
            .iter()
            .map(|&r| {
                let delivered: i64 = group
                    .iter()
                    .flat_map(|&e| state.cargo[e].deliveries.iter())
                    .filter(|&&(q, _, _)| q == r)
                    .map(|&(_, u, _)| u)
                    .sum();
                state.request_left[r] + delivered
            })
            .collect();
        let value: Vec<Vec<Option<f64>>> = group
            .iter()
            .map(|&e| {
                requests
                    .iter()
                    .map(|&r| {
                        model.options[e]
                            .iter()
                            .find(|o| o.request == r)
                            .map(|o| o.unit_value)
                    })
                    .collect()
            })
            .collect();
        let Some(units) = best_attribution(&supply, &demand, &value) else {
            return false;
        };
        let before = self.contribution_of(&group);
        let old_closed: Vec<bool> = group.iter().map(|&e| self.state.closed[e]).collect();
        let old_cargo: Vec<Cargo> = group.iter().map(|&e| self.state.cargo[e].clone()).collect();
        // The item's units given anew; the departures' other items as they are.
        for &e in &group {
            self.state.take_deliveries(model, e, item);
        }
        self.state.add_load(model, d, c, 1);
        for (k, &e) in group.iter().enumerate() {
            for (j, &r) in requests.iter().enumerate() {
                if units[k][j] > 0 {
                    self.state
                        .add_delivery(e, r, units[k][j], value[k][j].unwrap_or(0.0));
                }
            }
        }
        let after = self.contribution_of(&group);
        self.conclude(&group, old_cargo, old_closed, before, after)
    }

    /// Takes one item off every departure that carries it (and a loaded
    /// departure that may want more of it), loads the same totals again with
    /// the departures that may take the least of its stock first, then fills
    /// them. Kept when no worse.
    fn relot_step(&mut self, stop: &dyn Fn() -> bool) -> bool {
        let model = self.model;
        let Some((d, item)) = self.random_loaded_item() else {
            return false;
        };
        let mut targets = self.others_carrying(d, item);
        targets.push((d, item_units(model, &self.state.cargo[d], item)));
        let departures: Vec<usize> = targets.iter().map(|t| t.0).collect();
        let (before, old_closed, old_cargo) = self.take_item_off(&departures, item);
        let state = &self.state;
        targets.sort_by_cached_key(|&(e, _)| {
            let x = model.instance.departures[e].destination_index;
            model.stock.lists[model.stock.list_id(x, item)]
                .iter()
                .filter(|&&c| state.class_left[c] > 0 && model.class_fits(c, e))
                .map(|&c| state.class_left[c] * model.classes[c].pack_size)
                .sum::<i64>()
        });
        // Half the time each takes first the stock the fewest departures
        // may load (leaving what many could use to the others), otherwise
        // the soonest expiry first.
        let rank = (self.rng.unit() < RELOT_BY_REACH).then_some(&self.class_reach[..]);
        for &(e, units) in &targets {
            if units > 0 {
                self.state.load_total_by(model, e, item, units, rank);
            }
        }
        // Kept only when no worse, whatever the threshold: a worse choice of
        // packs is no step towards a better plan.
        let temperature = std::mem::replace(&mut self.temperature, 0.0);
        let improved = self.fill_and_conclude(&departures, old_cargo, old_closed, before, stop);
        self.temperature = temperature;
        improved
    }

    /// Three loaded departures to one destination (two when it has no
    /// third) each give one of their items (all its units, or a random
    /// part) to the next in a ring, then all fill: a chain of trades no two
    /// departures can make alone. For example an early charter gives
    /// hygiene kits to a later flight, which gives water tablets to a
    /// flight priced per kg, which gives RUTF back to the charter. Kept
    /// when no worse, or within the threshold.
    fn ring_step(&mut self, stop: &dyn Fn() -> bool) -> bool {
        let Some(first) = self.random_loaded() else {
            return false;
        };
        let Some((ring, items)) = self.draw_ring(first) else {
            return false;
        };
        self.pass_round(&ring, &items, stop)
    }

    /// A ring from `first`: across destinations on small instances half
    /// the time ([`Search::ring_across`]), otherwise within its own
    /// ([`Search::ring_within`]).
    fn draw_ring(&mut self, first: usize) -> Option<Ring> {
        if self.model.is_small() && self.rng.unit() < RING_ACROSS {
            self.ring_across(first)
        } else {
            self.ring_within(first)
        }
    }

    /// Each departure of `ring` gives its item of `items` (all its units,
    /// or a random part) to the next, then all fill; kept or undone by
    /// [`Search::conclude`].
    fn pass_round(
        &mut self,
        ring: &[usize],
        items: &[(usize, i64)],
        stop: &dyn Fn() -> bool,
    ) -> bool {
        let model = self.model;
        let (before, old_closed, old_cargo) = self.take_items_off(ring, |k| items[k].0);
        let all = self.rng.unit() < RING_ALL_UNITS;
        for (k, &(item, units)) in items.iter().enumerate() {
            let next = ring[(k + 1) % ring.len()];
            let units = if all {
                units
            } else {
                (units as f64 * self.rng.unit()).ceil() as i64
            };
            self.state.load_total(model, next, item, units);
        }
        self.fill_and_conclude(ring, old_cargo, old_closed, before, stop)
    }

    /// A ring of `first` and up to two other loaded departures to its
    /// destination, each with an item it carries (no two the same).
    fn ring_within(&mut self, first: usize) -> Option<Ring> {
        let mut ring = self.loaded_siblings(first);
        self.rng.shuffle(&mut ring);
        ring.truncate(2);
        if ring.is_empty() {
            return None;
        }
        ring.insert(0, first);
        let mut items: Vec<(usize, i64)> = Vec::with_capacity(ring.len());
        for &d in &ring {
            let carried = self.items_not_taken(d, &items);
            if carried.is_empty() {
                return None;
            }
            items.push(carried[self.rng.below(carried.len())]);
        }
        Some((ring, items))
    }

    /// A ring of three loaded departures, to any destinations: `first`
    /// gives an item it carries to a departure that may serve it, which
    /// gives one of its items to a third that may serve that, which gives
    /// `first` an item `first` may serve.
    fn ring_across(&mut self, first: usize) -> Option<Ring> {
        let mut ring = vec![first];
        let mut items: Vec<(usize, i64)> = Vec::with_capacity(3);
        for step in 0..3 {
            let closing = step == 2;
            let mut carried = self.items_not_taken(ring[step], &items);
            let loaded_other = |e: &usize| !ring.contains(e) && !self.state.cargo[*e].is_empty();
            if closing {
                carried.retain(|k| self.item_departures[k.0].contains(&first));
            } else {
                carried.retain(|k| self.item_departures[k.0].iter().any(loaded_other));
            }
            if carried.is_empty() {
                return None;
            }
            let pick = carried[self.rng.below(carried.len())];
            items.push(pick);
            if !closing {
                let next: Vec<usize> = self.item_departures[pick.0]
                    .iter()
                    .copied()
                    .filter(loaded_other)
                    .collect();
                ring.push(next[self.rng.below(next.len())]);
            }
        }
        Some((ring, items))
    }

    /// Fills `departures` with what room they have left (plain order), then
    /// keeps or undoes the move ([`Search::conclude`]).
    fn fill_and_conclude(
        &mut self,
        departures: &[usize],
        old_cargo: Vec<Cargo>,
        old_closed: Vec<bool>,
        before: f64,
        stop: &dyn Fn() -> bool,
    ) -> bool {
        fill_until(
            self.model,
            &mut self.state,
            departures,
            0.0,
            &mut self.rng,
            stop,
        );
        let after = self.contribution_of(departures);
        self.conclude(departures, old_cargo, old_closed, before, after)
    }

    /// Takes `item` off `departures`: what they contributed, whether they
    /// were closed, and their cargo before, for [`Search::conclude`].
    fn take_item_off(&mut self, departures: &[usize], item: usize) -> (f64, Vec<bool>, Vec<Cargo>) {
        self.take_items_off(departures, |_| item)
    }

    /// [`Search::take_item_off`] with an item per departure: `item_of(k)`
    /// comes off `departures[k]`.
    fn take_items_off(
        &mut self,
        departures: &[usize],
        item_of: impl Fn(usize) -> usize,
    ) -> (f64, Vec<bool>, Vec<Cargo>) {
        let before = self.contribution_of(departures);
        let old_closed: Vec<bool> = departures.iter().map(|&e| self.state.closed[e]).collect();
        let old_cargo: Vec<Cargo> = departures
            .iter()
            .enumerate()
            .map(|(k, &e)| self.state.clear_item(self.model, e, item_of(k)))
            .collect();
        (before, old_closed, old_cargo)
    }

    /// The `(item, units)` departure `d` carries, but for the items in `taken`.
    fn items_not_taken(&self, d: usize, taken: &[(usize, i64)]) -> Vec<(usize, i64)> {
        carried_units(self.model, &self.state.cargo[d])
            .into_iter()
            .filter(|k| !taken.iter().any(|t| t.0 == k.0))
            .collect()
    }

    /// A loaded departure drawn at random, and an item drawn among its
    /// requests' items.
    fn random_loaded_item(&mut self) -> Option<(usize, usize)> {
        let d = self.random_loaded()?;
        let options = &self.model.options[d];
        if options.is_empty() {
            return None;
        }
        let option = &options[self.rng.below(options.len())];
        Some((d, self.model.instance.requests[option.request].item))
    }

    /// The other departures that may serve `item` and carry some, with the
    /// units they carry: up to seven of them, at random when there are more.
    fn others_carrying(&mut self, d: usize, item: usize) -> Vec<(usize, i64)> {
        let model = self.model;
        let mut others: Vec<(usize, i64)> = self.item_departures[item]
            .iter()
            .copied()
            .filter(|&e| e != d)
            .map(|e| (e, item_units(model, &self.state.cargo[e], item)))
            .filter(|&(_, units)| units > 0)
            .collect();
        self.rng.shuffle(&mut others);
        others.truncate(ITEM_MOVE_DEPARTURES - 1);
        others
    }

    /// A departure drawn at random among those with options, when it is loaded.
    fn random_loaded(&mut self) -> Option<usize> {
        let order = &self.by_departure_day;
        if order.is_empty() {
            return None;
        }
        let d = order[self.rng.below(order.len())];
        (!self.state.cargo[d].is_empty()).then_some(d)
    }

    /// Loads the empty departure `d` by a multiple-choice knapsack over how
    /// many units of each item it carries, each unit weighing its kg or
    /// (`by_volume`) its volume in kg of the departure's payload per m3.
    /// `carried` lists `(item, units)` the departure carried before. With a
    /// `partner` `(options, kept)`, the units of each `(item, units)` in
    /// `kept` that `d` leaves go to the partner's `options` (best first) and
    /// their value there counts.
    fn repack(
        &mut self,
        d: usize,
        by_volume: bool,
        carried: &[(usize, i64)],
        partner: Option<Partner>,
        cells: usize,
    ) {
        let model = self.model;
        let departure = &model.instance.departures[d];
        let cell_kg = departure.payload_kg / cells as f64;
        let mut items: Vec<usize> = Vec::new();
        for option in &model.options[d] {
            let item = model.instance.requests[option.request].item;
            if self.state.request_left[option.request] > 0 && !items.contains(&item) {
                items.push(item);
            }
        }
        let mut groups: Vec<Vec<(usize, f64)>> = Vec::with_capacity(items.len());
        let mut totals: Vec<Vec<i64>> = Vec::with_capacity(items.len());
        for &item in &items {
            let options = model.options[d]
                .iter()
                .filter(|o| model.instance.requests[o.request].item == item);
            let demand: i64 = options
                .clone()
                .map(|o| self.state.request_left[o.request])
                .sum();
            let limit = demand
                .min(self.state.units_that_fit(model, d, item))
                .clamp(0, KNAPSACK_MAX_UNITS) as usize;
            // Totals reachable with whole packs of the stock that may go.
            let list_id = model.stock.list_id(departure.destination_index, item);
            let state = &self.state;
            let packs = model.stock.lists[list_id]
                .iter()
                .filter(|&&c| state.class_left[c] > 0 && model.class_fits(c, d))
                .map(|&c| {
                    let pack = model.classes[c].pack_size.max(1) as usize;
                    (pack, state.class_left[c])
                });
            let reachable = reachable_totals(packs, limit);
            let chosen: Vec<i64> = if reachable.len() <= KNAPSACK_CHOICES {
                reachable.iter().map(|&t| t as i64).collect()
            } else {
                // Every total near what the departure carried (where a small
                // trade lies), and totals spread over the whole range.
                let current = carried.iter().find(|k| k.0 == item).map_or(0, |k| k.1);
                let at = reachable.partition_point(|&t| (t as i64) < current);
                let from = at.saturating_sub(KNAPSACK_NEAR);
                let to = (at + KNAPSACK_NEAR).min(reachable.len());
                let spread = KNAPSACK_CHOICES - (to - from);
                let mut indices: Vec<usize> = (from..to)
                    .chain((1..=spread).map(|k| k * reachable.len() / spread - 1))
                    .collect();
                indices.sort_unstable();
                indices.dedup();
                indices.iter().map(|&i| reachable[i] as i64).collect()
            };
            let unit = &model.instance.items[item];
            let per_unit_kg = if by_volume {
                unit.unit_volume_m3 * departure.payload_kg / departure.volume_m3
            } else {
                unit.unit_weight_kg
            };
            // Value of `units` on `d` to the item's best requests, and of
            // what the partner takes: the rest, and at least what it carried.
            let (kept, own) = partner
                .and_then(|(_, kept)| kept.iter().find(|k| k.0 == item))
                .map_or((0, 0), |k| (k.1, k.2));
            let partner_options = partner.map_or(&[][..], |(options, _)| options);
            let mut left: Vec<(usize, i64)> = Vec::new();
            let mut served = |units: i64| {
                left.clear();
                let mut value = 0.0;
                for (list, mut units) in [
                    (&model.options[d][..], units),
                    (partner_options, (kept - units).max(own)),
                ] {
                    for o in list {
                        if units <= 0 {
                            break;
                        }
                        if model.instance.requests[o.request].item != item {
                            continue;
                        }
                        let at = match left.iter().position(|&(r, _)| r == o.request) {
                            Some(at) => at,
                            None => {
                                left.push((o.request, self.state.request_left[o.request]));
                                left.len() - 1
                            }
                        };
                        let take = units.min(left[at].1);
                        left[at].1 -= take;
                        value += take as f64 * o.unit_value;
                        units -= take;
                    }
                }
                value
            };
            let none = served(0);
            let choices = chosen
                .iter()
                .map(|&t| {
                    let value = served(t) - none;
                    let cells = (t as f64 * per_unit_kg / cell_kg - 1e-9).ceil().max(0.0) as usize;
                    (cells, value)
                })
                .collect();
            groups.push(choices);
            totals.push(chosen);
        }
        // Rounding each total up loses half a cell per item on average: give it back.
        let picks = best_choices(&groups, cells + groups.len() / 2);
        for ((&item, pick), chosen) in items.iter().zip(&picks).zip(&totals) {
            let Some(j) = *pick else { continue };
            // The very packs that make the total (loading request by request
            // takes stock in its own order and may not make it).
            let mut target = chosen[j];
            target -= self.state.load_total(model, d, item, target);
            for option in &model.options[d] {
                if target <= 0 {
                    break;
                }
                if model.instance.requests[option.request].item == item {
                    target -= self.state.insert(
                        model,
                        d,
                        option.request,
                        option.unit_value,
                        target,
                        None,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check_plan_json;
    use crate::generate::{generate_json, GenerateConfig, Size};
    use crate::instance::Instance;
    use crate::plan::{objective, to_json, Plan};

    #[test]
    fn the_polish_never_worsens_the_best_plan_keeps_it_feasible_and_can_improve_it() {
        let mut improved = 0;
        for seed in 1..=6 {
            let text = generate_json(&GenerateConfig::for_size(Size::S, seed));
            let instance = Instance::from_json(&text).expect("a generated instance");
            let model = Model::new(&instance);
            let never = || false;
            let mut search = Search::new(&model, seed, &never);
            search.enable_repacking();
            // A short search at a threshold, so the best plan is not the
            // current one and the coarse grid leaves room on some departures.
            search.temperature = 0.001 * search.objective;
            for _ in 0..300 {
                search.step(&never);
            }
            let before = search.best_objective();
            search.polish(&never);
            let after = search.best_objective();
            assert!(
                after >= before - 1e-9 * (1.0 + before.abs()),
                "seed {seed}: {after} < {before}"
            );
            if after > before + 1e-6 {
                improved += 1;
            }
            let value = checked_objective(&instance, &model, &search.into_best(), "polish");
            assert!(
                (value - after).abs() <= 1e-6 * (1.0 + value.abs()),
                "seed {seed}: kept {after} but the plan's objective is {value}"
            );
        }
        assert!(improved > 0, "the polish improved no plan");
    }

    #[test]
    fn ring_moves_change_the_plan_and_keep_it_feasible_and_its_objective_true() {
        moves_change_the_plan_and_keep_it_feasible_and_its_objective_true(
            "ring",
            2,
            0.0,
            |search| {
                let Some(first) = search.random_loaded() else {
                    return false;
                };
                let Some((ring, items)) = search.draw_ring(first) else {
                    return false;
                };
                search.pass_round(&ring, &items, &|| false);
                true
            },
        );
    }

    #[test]
    fn pair_chains_change_the_plan_and_keep_it_feasible_and_its_objective_true() {
        // Instance 3 has destinations with three loaded departures; the
        // threshold lets chains that lose a little change the plan too.
        moves_change_the_plan_and_keep_it_feasible_and_its_objective_true(
            "pair chain",
            3,
            0.001,
            |search| {
                let Some(first) = search.random_loaded() else {
                    return false;
                };
                let siblings = search.loaded_siblings(first);
                if siblings.len() < 2 {
                    return false;
                }
                search.pair_chain(first, siblings, &|| false);
                true
            },
        );
    }

    /// Makes 3,000 attempts of a move on generated S instance `seed` (`attempt`
    /// says whether it made the move), with a threshold of `heat` times the
    /// first plan's objective, checking after each that the
    /// objective the search keeps is the plan's own; at the end, that the
    /// move was made and changed the plan, and that the best plan passes
    /// the checker with its objective.
    fn moves_change_the_plan_and_keep_it_feasible_and_its_objective_true(
        name: &str,
        seed: u64,
        heat: f64,
        attempt: impl Fn(&mut Search) -> bool,
    ) {
        let text = generate_json(&GenerateConfig::for_size(Size::S, seed));
        let instance = Instance::from_json(&text).expect("a generated instance");
        let model = Model::new(&instance);
        let never = || false;
        let mut search = Search::new(&model, 5, &never);
        search.enable_repacking();
        search.temperature = heat * search.objective;
        let start = search.objective;
        let (mut made, mut changes) = (0, 0);
        for _ in 0..3_000 {
            let before = search.objective;
            if attempt(&mut search) {
                made += 1;
            }
            if (search.objective - before).abs() > 1e-6 {
                changes += 1;
            }
            // The objective the search keeps is the plan's own.
            let allocations = search.state.allocations(&model);
            let recomputed = objective(&instance, &allocations);
            assert!(
                (search.objective - recomputed).abs() <= 1e-6 * (1.0 + recomputed.abs()),
                "{name}: kept {} but the plan's objective is {recomputed}",
                search.objective
            );
        }
        assert!(made > 0, "no {name} was made");
        assert!(changes > 0, "no {name} changed the plan");
        let best = search.best_objective();
        assert!(best >= start, "the best plan got worse: {best} < {start}");
        checked_objective(&instance, &model, &search.into_best(), name);
    }

    /// The objective of a state's plan, once the checker finds the plan
    /// feasible and agrees with it.
    fn checked_objective(instance: &Instance, model: &Model, state: &State, what: &str) -> f64 {
        let allocations = state.allocations(model);
        let plan = Plan {
            objective: objective(instance, &allocations),
            allocations,
            upper_bound: None,
            unmet: Vec::new(),
        };
        let report = check_plan_json(instance, &to_json(instance, &plan), None)
            .expect("a plan the checker reads");
        assert!(report.is_feasible(), "{what}: {report:?}");
        assert!((report.objective - plan.objective).abs() <= 1e-6 * (1.0 + plan.objective.abs()));
        plan.objective
    }
}
