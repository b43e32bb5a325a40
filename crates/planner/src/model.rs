//! The solver's compiled view of an instance: equivalent lots grouped into
//! classes, eligibility tests, and for each departure the requests it can serve
//! with their net value per unit.

use std::collections::HashMap;

use crate::instance::{Day, Instance};
use crate::plan::timeliness;
use crate::stock::StockLists;

/// Instances with at most this many lot classes are small (see
/// [`Model::is_small`]).
pub(crate) const SMALL_MAX_CLASSES: usize = 1_000;

/// Lots that are interchangeable for planning: same item, node, availability,
/// expiry, earmark and pack size.
#[derive(Debug, Clone)]
pub(crate) struct Class {
    pub item: usize,
    pub node: usize,
    pub available: Day,
    pub expires: Option<Day>,
    /// Index into [`Model::earmarks`].
    pub earmark: usize,
    pub pack_size: i64,
    /// Whole packs held by all member lots together.
    pub packs: i64,
    /// Member lots and their packs, in instance order.
    pub lots: Vec<(usize, i64)>,
}

/// A request a departure can serve, with the net value of one unit delivered
/// by it (value times timeliness, minus freight).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Option_ {
    pub request: usize,
    pub unit_value: f64,
}

/// A deterministic pseudo-random generator (SplitMix64); good enough for
/// tie-breaking and perturbation, and identical on every platform.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Puts `list` in a uniformly random order.
    pub fn shuffle<T>(&mut self, list: &mut [T]) {
        for i in (1..list.len()).rev() {
            list.swap(i, self.below(i + 1));
        }
    }
}

/// What makes lots equivalent: item, node, availability, expiry, earmark set, pack size.
type ClassKey = (usize, usize, Day, Option<Day>, usize, i64);

pub(crate) struct Model<'a> {
    pub instance: &'a Instance,
    pub classes: Vec<Class>,
    /// Distinct earmark lists; `earmark_allows[set][destination]`.
    pub earmark_allows: Vec<Vec<bool>>,
    /// Per item, class indices in order of preference: soonest expiry first,
    /// earmarked before free stock, latest availability first.
    pub item_classes: Vec<Vec<usize>>,
    /// Per (destination, item), `item_classes` restricted to the classes the
    /// destination's earmarks allow (same order), indexed by the day each
    /// class can be at each node.
    pub stock: StockLists,
    /// Per stock list, each member's pack size and expiry (`Day::MAX`: none),
    /// side by side for quick scans.
    pub list_packs: Vec<Vec<i64>>,
    pub list_expires: Vec<Vec<Day>>,
    /// Per departure, the requests it can serve with a positive net unit value,
    /// best first.
    pub options: Vec<Vec<Option_>>,
    /// Per destination, its departures.
    pub destination_departures: Vec<Vec<usize>>,
    /// Per departure, a kg-equivalent factor per item: `max(weight, volume
    /// scaled to the departure's density, cold volume likewise)` per unit.
    pub effective_kg: Vec<Vec<f64>>,
    /// Per departure, its fixed cost per kg of payload.
    pub fixed_per_kg: Vec<f64>,
}

impl<'a> Model<'a> {
    pub fn new(instance: &'a Instance) -> Self {
        let destination_count = instance.destinations.len();
        let mut earmark_index: HashMap<Vec<String>, usize> = HashMap::new();
        let mut earmark_allows = Vec::new();
        let mut earmark_restricted = Vec::new();
        let mut class_index: HashMap<ClassKey, usize> = HashMap::new();
        let mut classes: Vec<Class> = Vec::new();
        for (lot_index, lot) in instance.lots.iter().enumerate() {
            let mut earmark = lot.earmark.clone();
            earmark.sort();
            earmark.dedup();
            let set = *earmark_index.entry(earmark.clone()).or_insert_with(|| {
                let allows: Vec<bool> = instance
                    .destinations
                    .iter()
                    .map(|destination| {
                        let country = Instance::country_of(destination);
                        earmark.is_empty() || earmark.iter().any(|code| code == country)
                    })
                    .collect();
                earmark_allows.push(allows);
                earmark_restricted.push(!earmark.is_empty());
                earmark_allows.len() - 1
            });
            let key = (
                lot.item,
                lot.node,
                lot.available,
                lot.expires,
                set,
                lot.pack_size,
            );
            let packs = lot.quantity / lot.pack_size;
            match class_index.get(&key) {
                Some(&c) => {
                    classes[c].packs += packs;
                    classes[c].lots.push((lot_index, packs));
                }
                None => {
                    class_index.insert(key, classes.len());
                    classes.push(Class {
                        item: lot.item,
                        node: lot.node,
                        available: lot.available,
                        expires: lot.expires,
                        earmark: set,
                        pack_size: lot.pack_size,
                        packs,
                        lots: vec![(lot_index, packs)],
                    });
                }
            }
        }
        let mut item_classes = vec![Vec::new(); instance.items.len()];
        for (c, class) in classes.iter().enumerate() {
            item_classes[class.item].push(c);
        }
        // Stock that may expire before the item's last useful arrival comes
        // first, soonest expiry first; the rest, whose expiry never matters,
        // least flexible first: earmarked before free, latest available first
        // (early stock is kept for the early departures only it can reach).
        let mut last_needed = vec![Day::MIN; instance.items.len()];
        for departure in &instance.departures {
            for (item, spec) in instance.items.iter().enumerate() {
                last_needed[item] =
                    last_needed[item].max(departure.arrives + spec.min_shelf_life_days);
            }
        }
        let earmark_width: Vec<usize> = earmark_allows
            .iter()
            .map(|allows| allows.iter().filter(|&&a| a).count())
            .collect();
        for (item, list) in item_classes.iter_mut().enumerate() {
            list.sort_by_key(|&c| {
                let class = &classes[c];
                let expires = class
                    .expires
                    .filter(|&e| e < last_needed[item])
                    .unwrap_or(Day::MAX);
                (
                    expires,
                    std::cmp::Reverse(class.available),
                    earmark_width[class.earmark],
                    c,
                )
            });
        }

        let destination_classes: Vec<Vec<Vec<usize>>> = (0..destination_count)
            .map(|x| {
                item_classes
                    .iter()
                    .map(|list| {
                        list.iter()
                            .copied()
                            .filter(|&c| earmark_allows[classes[c].earmark][x])
                            .collect()
                    })
                    .collect()
            })
            .collect();

        let mut destination_requests = vec![Vec::new(); destination_count];
        for (r, request) in instance.requests.iter().enumerate() {
            destination_requests[request.destination_index].push(r);
        }
        let mut destination_departures = vec![Vec::new(); destination_count];
        // A request pinned to a departure is an option of that one only.
        let pinned = instance
            .overrides
            .pinned_departures(instance.requests.len());
        let mut options = Vec::with_capacity(instance.departures.len());
        let mut effective_kg = Vec::with_capacity(instance.departures.len());
        for (d, departure) in instance.departures.iter().enumerate() {
            destination_departures[departure.destination_index].push(d);
            let mut list = Vec::new();
            for &r in &destination_requests[departure.destination_index] {
                let request = &instance.requests[r];
                let item = &instance.items[request.item];
                if pinned[r].is_some_and(|p| p != d) {
                    continue;
                }
                let late = (departure.arrives - request.needed_by).max(0);
                if late > request.grace_days {
                    continue;
                }
                if item.dangerous_goods && !departure.dangerous_goods {
                    continue;
                }
                if item.cold_chain && departure.cold_volume_m3 <= 0.0 {
                    continue;
                }
                if departure.payload_kg <= 0.0 || departure.volume_m3 <= 0.0 {
                    continue;
                }
                let unit_value = request.value_per_unit * timeliness(late, request.grace_days)
                    - item.unit_weight_kg * departure.cost_per_kg;
                if unit_value > 0.0 {
                    list.push(Option_ {
                        request: r,
                        unit_value,
                    });
                }
            }
            list.sort_by(|a, b| {
                b.unit_value
                    .total_cmp(&a.unit_value)
                    .then(a.request.cmp(&b.request))
            });
            options.push(list);
            let factors = instance
                .items
                .iter()
                .map(|item| {
                    let density = if departure.volume_m3 > 0.0 {
                        departure.payload_kg / departure.volume_m3
                    } else {
                        0.0
                    };
                    let mut kg = item.unit_weight_kg.max(item.unit_volume_m3 * density);
                    if item.cold_chain && departure.cold_volume_m3 > 0.0 {
                        kg = kg.max(
                            item.unit_volume_m3 * departure.payload_kg / departure.cold_volume_m3,
                        );
                    }
                    kg.max(1e-12)
                })
                .collect();
            effective_kg.push(factors);
        }
        let stock = StockLists::new(
            &destination_classes,
            classes.len(),
            instance.nodes.len(),
            instance.items.len(),
            |c, node| {
                let class = &classes[c];
                instance.transfer_days[class.node][node].map(|days| class.available + days)
            },
        );
        let list_packs = stock
            .lists
            .iter()
            .map(|list| list.iter().map(|&c| classes[c].pack_size).collect())
            .collect();
        let list_expires = stock
            .lists
            .iter()
            .map(|list| {
                list.iter()
                    .map(|&c| classes[c].expires.unwrap_or(Day::MAX))
                    .collect()
            })
            .collect();
        let fixed_per_kg = instance
            .departures
            .iter()
            .map(|d| {
                if d.payload_kg > 0.0 {
                    d.fixed_cost / d.payload_kg
                } else {
                    0.0
                }
            })
            .collect();
        Model {
            list_packs,
            list_expires,
            fixed_per_kg,
            instance,
            classes,
            earmark_allows,
            item_classes,
            stock,
            options,
            destination_departures,
            effective_kg,
        }
    }

    /// Whether the instance is small (at most [`SMALL_MAX_CLASSES`] lot
    /// classes): moves are quick and plans cheap to copy, so the search
    /// affords two searches side by side, exact repacking and a construction
    /// order tuned for the last fraction of a per cent.
    pub fn is_small(&self) -> bool {
        self.classes.len() <= SMALL_MAX_CLASSES
    }

    /// A quick proven bound: every request met in full at its best net unit
    /// value, no capacity, stock or fixed cost (those only lower the value).
    pub fn trivial_bound(&self) -> f64 {
        let mut best = vec![0.0f64; self.instance.requests.len()];
        for list in &self.options {
            for option in list {
                best[option.request] = best[option.request].max(option.unit_value);
            }
        }
        best.iter()
            .zip(&self.instance.requests)
            .map(|(value, request)| value * request.quantity as f64)
            .sum()
    }

    /// The classes of `item` that departure `d` may load (exactly those
    /// [`Model::class_fits`] accepts), from the stock index: the destination's
    /// list of the item in order of expiry, cut at the shelf-life threshold,
    /// keeping the classes at the departure's node in time.
    pub fn departure_classes(&self, d: usize, item: usize) -> impl Iterator<Item = usize> + '_ {
        let departure = &self.instance.departures[d];
        let spec = &self.instance.items[item];
        let list = self.stock.list_id(departure.destination_index, item);
        let threshold = departure.arrives + spec.min_shelf_life_days;
        let start = if spec.dangerous_goods && !departure.dangerous_goods {
            self.stock.lists[list].len()
        } else {
            self.list_expires[list].partition_point(|&expires| expires < threshold)
        };
        let ready = &self.stock.ready(list, departure.node)[start..];
        self.stock.lists[list][start..]
            .iter()
            .zip(ready)
            .filter(move |&(_, &day)| day <= departure.departs)
            .map(move |(&c, _)| {
                debug_assert!(self.class_fits(c, d));
                c
            })
    }

    /// Whether stock of class `c` may travel on departure `d` (rules 3 to 6;
    /// the item match is the caller's).
    pub fn class_fits(&self, c: usize, d: usize) -> bool {
        let class = &self.classes[c];
        let departure = &self.instance.departures[d];
        let item = &self.instance.items[class.item];
        if item.dangerous_goods && !departure.dangerous_goods {
            return false;
        }
        match self.instance.transfer_days[class.node][departure.node] {
            Some(days) if class.available + days <= departure.departs => {}
            _ => return false,
        }
        if let Some(expires) = class.expires {
            if expires < departure.arrives + item.min_shelf_life_days {
                return false;
            }
        }
        self.earmark_allows[class.earmark][departure.destination_index]
    }
}
