//! A seeded generator of realistic planning instances, shaped like the hub's
//! own example: two nodes a day apart, a food/shelter/WASH/health catalogue
//! with cold-chain and dangerous goods, donor earmarks, pack sizes and whole
//! containers, big air charters with fixed costs, scheduled air space priced
//! per kg and slow cheap sailings to the coastal destinations.

use serde_json::{json, Value};

use crate::instance::{format_day, parse_day, Day};
use crate::model::SplitMix64;

/// The benchmark sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// 300 lots, 30 departures, 150 requests.
    S,
    /// 3,000 lots, 150 departures, 1,000 requests.
    M,
    /// 30,000 lots, 800 departures, 6,000 requests.
    L,
    /// 200,000 lots, 3,000 departures, 30,000 requests.
    Xl,
}

impl Size {
    pub fn parse(text: &str) -> Option<Size> {
        match text.to_ascii_uppercase().as_str() {
            "S" => Some(Size::S),
            "M" => Some(Size::M),
            "L" => Some(Size::L),
            "XL" => Some(Size::Xl),
            _ => None,
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateConfig {
    pub seed: u64,
    pub lots: usize,
    pub departures: usize,
    pub requests: usize,
    /// Number of destinations (at most the size of the built-in list).
    pub destinations: usize,
    /// Days over which stock arrives and departures leave.
    pub horizon_days: i32,
    pub name: String,
}

impl GenerateConfig {
    pub fn for_size(size: Size, seed: u64) -> Self {
        let (lots, departures, requests, destinations, horizon_days, label) = match size {
            Size::S => (300, 30, 150, 12, 24, "S"),
            Size::M => (3_000, 150, 1_000, 16, 35, "M"),
            Size::L => (30_000, 800, 6_000, 20, 56, "L"),
            Size::Xl => (200_000, 3_000, 30_000, 24, 91, "XL"),
        };
        GenerateConfig {
            seed,
            lots,
            departures,
            requests,
            destinations,
            horizon_days,
            name: format!("generated-{label}-seed{seed}"),
        }
    }
}

/// A family of instance shapes: one thing that matters to the plan is
/// pushed to one side, the rest as in [`Family::Base`]. The benchmark runs
/// every family, so that the planner is judged on shapes it was not tuned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// The hub's usual shape (the instances of [`generate`]).
    Base,
    /// Departures carry 40 % of their usual payload, volume and cold volume
    /// (charters cost the same per kg of payload): most demand stays unmet.
    TightCapacity,
    /// Departures carry 2.5 times as much: capacity is rarely the limit.
    LooseCapacity,
    /// A third node, a second port two days from the airport with no link
    /// to the first port, holding a quarter of the stock and sending sailings
    /// of its own.
    ThirdNode,
    /// Most stock earmarked (85 % of lots, to fewer countries) and four
    /// times as much cold-chain stock and demand.
    EarmarkedCold,
    /// Five times as much dangerous-goods stock and demand, and half as many
    /// departures allowed to carry it.
    Dangerous,
    /// Charter fixed costs 2.5 times the usual against the cargo's value.
    DearCharters,
    /// Charter fixed costs 0.3 times the usual.
    CheapCharters,
    /// Few long sailings: most departures to coastal destinations are
    /// ships, slower than usual and larger.
    Sailings,
    /// Many short flights priced per kg, few charters and no ships.
    Flights,
    /// Requests needed soon after stock arrives, with little grace.
    TightDeadlines,
    /// Requests needed late, with generous grace.
    LooseDeadlines,
}

impl Family {
    /// Every family, [`Family::Base`] first.
    pub const ALL: [Family; 12] = [
        Family::Base,
        Family::TightCapacity,
        Family::LooseCapacity,
        Family::ThirdNode,
        Family::EarmarkedCold,
        Family::Dangerous,
        Family::DearCharters,
        Family::CheapCharters,
        Family::Sailings,
        Family::Flights,
        Family::TightDeadlines,
        Family::LooseDeadlines,
    ];

    /// The family's name on the command line and in instance names.
    pub fn name(self) -> &'static str {
        match self {
            Family::Base => "base",
            Family::TightCapacity => "tight-capacity",
            Family::LooseCapacity => "loose-capacity",
            Family::ThirdNode => "third-node",
            Family::EarmarkedCold => "earmarked-cold",
            Family::Dangerous => "dangerous",
            Family::DearCharters => "dear-charters",
            Family::CheapCharters => "cheap-charters",
            Family::Sailings => "sailings",
            Family::Flights => "flights",
            Family::TightDeadlines => "tight-deadlines",
            Family::LooseDeadlines => "loose-deadlines",
        }
    }

    pub fn parse(text: &str) -> Option<Family> {
        Family::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(text))
    }

    fn shape(self) -> Shape {
        let base = Shape {
            capacity_scale: 1.0,
            third_node: false,
            earmark_share: 0.46,
            earmark_countries: 4,
            cold_scale: 1.0,
            dangerous_scale: 1.0,
            dangerous_allowed_scale: 1.0,
            charter_cost_scale: 1.0,
            sea_share: 0.2,
            flight_share: (0.3, 0.12),
            sea_transit_scale: 1.0,
            needed_by: (3, 12),
            grace_days: &[0, 3, 7, 14, 21],
        };
        match self {
            Family::Base => base,
            Family::TightCapacity => Shape {
                capacity_scale: 0.4,
                ..base
            },
            Family::LooseCapacity => Shape {
                capacity_scale: 2.5,
                ..base
            },
            Family::ThirdNode => Shape {
                third_node: true,
                ..base
            },
            Family::EarmarkedCold => Shape {
                earmark_share: 0.85,
                earmark_countries: 2,
                cold_scale: 4.0,
                ..base
            },
            Family::Dangerous => Shape {
                dangerous_scale: 5.0,
                dangerous_allowed_scale: 0.5,
                ..base
            },
            Family::DearCharters => Shape {
                charter_cost_scale: 2.5,
                ..base
            },
            Family::CheapCharters => Shape {
                charter_cost_scale: 0.3,
                ..base
            },
            Family::Sailings => Shape {
                sea_share: 0.7,
                flight_share: (0.75, 0.12),
                sea_transit_scale: 1.6,
                ..base
            },
            Family::Flights => Shape {
                sea_share: 0.0,
                flight_share: (0.85, 0.8),
                ..base
            },
            Family::TightDeadlines => Shape {
                needed_by: (2, -8),
                grace_days: &[0, 0, 1, 3],
                ..base
            },
            Family::LooseDeadlines => Shape {
                needed_by: (12, 30),
                grace_days: &[14, 21, 30],
                ..base
            },
        }
    }
}

/// The third family's second port (no link to the first).
const THIRD_NODE: &str = "LATAKIA-PORT";

/// The knobs a family turns (the base values are the hub's usual shape).
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// Every departure's payload, volume and cold volume (and a charter's
    /// fixed cost with its payload) times this.
    capacity_scale: f64,
    third_node: bool,
    /// Share of lots with an earmark, and the most countries one names.
    earmark_share: f64,
    earmark_countries: usize,
    /// Frequency of cold-chain items among lots and requests times this.
    cold_scale: f64,
    /// Frequency of dangerous goods times this.
    dangerous_scale: f64,
    /// Chance a departure may carry dangerous goods times this.
    dangerous_allowed_scale: f64,
    charter_cost_scale: f64,
    /// Chance a departure to a coastal destination is a ship.
    sea_share: f64,
    /// Chance (below which) a departure is a scheduled flight priced per kg:
    /// to a coastal destination (counting the ships' share) and to an inland one.
    flight_share: (f64, f64),
    sea_transit_scale: f64,
    /// A request is needed by day `first + below(horizon + extra)`.
    needed_by: (i32, i32),
    grace_days: &'static [i32],
}

impl Shape {
    fn unearmarked_share(&self) -> f64 {
        // The base figure exactly as it always was (its draws unchanged).
        if self.earmark_share == 0.46 {
            0.54
        } else {
            1.0 - self.earmark_share
        }
    }
}

struct ItemSpec {
    id: &'static str,
    name: &'static str,
    weight_kg: f64,
    volume_m3: f64,
    cold: bool,
    dangerous: bool,
    shelf_days: i32,
    /// Typical packs (units per pallet or container).
    packs: &'static [i64],
    /// Relative frequency among lots and requests.
    weight: f64,
}

const ITEMS: &[ItemSpec] = &[
    ItemSpec {
        id: "HEB-10",
        name: "High-energy biscuits, carton 10 kg",
        weight_kg: 10.4,
        volume_m3: 0.031,
        cold: false,
        dangerous: false,
        shelf_days: 90,
        packs: &[60, 80],
        weight: 3.0,
    },
    ItemSpec {
        id: "RUTF-150",
        name: "RUTF paste, carton 150 sachets",
        weight_kg: 15.0,
        volume_m3: 0.041,
        cold: false,
        dangerous: false,
        shelf_days: 180,
        packs: &[50, 60, 350],
        weight: 8.0,
    },
    ItemSpec {
        id: "WHEAT-50",
        name: "Wheat flour, bag 50 kg",
        weight_kg: 50.4,
        volume_m3: 0.075,
        cold: false,
        dangerous: false,
        shelf_days: 60,
        packs: &[40, 80],
        weight: 12.0,
    },
    ItemSpec {
        id: "RICE-50",
        name: "Rice, bag 50 kg",
        weight_kg: 50.2,
        volume_m3: 0.068,
        cold: false,
        dangerous: false,
        shelf_days: 90,
        packs: &[40],
        weight: 6.0,
    },
    ItemSpec {
        id: "PULSE-50",
        name: "Lentils, bag 50 kg",
        weight_kg: 50.2,
        volume_m3: 0.07,
        cold: false,
        dangerous: false,
        shelf_days: 90,
        packs: &[40],
        weight: 8.0,
    },
    ItemSpec {
        id: "VOIL-18",
        name: "Vegetable oil, carton 6x3 l",
        weight_kg: 18.6,
        volume_m3: 0.028,
        cold: false,
        dangerous: false,
        shelf_days: 120,
        packs: &[50, 100],
        weight: 6.0,
    },
    ItemSpec {
        id: "TENT-FAM",
        name: "Family tent 16 m2, 2 bags",
        weight_kg: 55.0,
        volume_m3: 0.28,
        cold: false,
        dangerous: false,
        shelf_days: 0,
        packs: &[10, 20, 50],
        weight: 9.0,
    },
    ItemSpec {
        id: "TARP-5",
        name: "Plastic sheeting 4x6 m, bale of 5",
        weight_kg: 23.5,
        volume_m3: 0.06,
        cold: false,
        dangerous: false,
        shelf_days: 0,
        packs: &[30, 210],
        weight: 10.0,
    },
    ItemSpec {
        id: "BLKT-10",
        name: "Thermal blanket, bale of 10",
        weight_kg: 16.5,
        volume_m3: 0.09,
        cold: false,
        dangerous: false,
        shelf_days: 0,
        packs: &[30, 60],
        weight: 3.0,
    },
    ItemSpec {
        id: "KSET-B",
        name: "Kitchen set type B",
        weight_kg: 7.6,
        volume_m3: 0.042,
        cold: false,
        dangerous: false,
        shelf_days: 0,
        packs: &[40, 80],
        weight: 3.0,
    },
    ItemSpec {
        id: "HYG-KIT",
        name: "Family hygiene kit",
        weight_kg: 6.2,
        volume_m3: 0.035,
        cold: false,
        dangerous: false,
        shelf_days: 0,
        packs: &[60, 120, 180],
        weight: 14.0,
    },
    ItemSpec {
        id: "JCAN-50",
        name: "Collapsible jerrycan 10 l, carton of 50",
        weight_kg: 10.5,
        volume_m3: 0.062,
        cold: false,
        dangerous: false,
        shelf_days: 0,
        packs: &[40, 240],
        weight: 7.0,
    },
    ItemSpec {
        id: "AQUA-TAB",
        name: "Water purification tablets, carton",
        weight_kg: 12.0,
        volume_m3: 0.03,
        cold: false,
        dangerous: false,
        shelf_days: 180,
        packs: &[60, 180],
        weight: 12.0,
    },
    ItemSpec {
        id: "HTH-45",
        name: "Calcium hypochlorite 65-70%, drum 45 kg (UN 2880)",
        weight_kg: 48.0,
        volume_m3: 0.07,
        cold: false,
        dangerous: true,
        shelf_days: 180,
        packs: &[16, 80],
        weight: 2.0,
    },
    ItemSpec {
        id: "SOLAR-LAMP",
        name: "Solar lantern with lithium battery, carton 20 (UN 3481)",
        weight_kg: 11.0,
        volume_m3: 0.045,
        cold: false,
        dangerous: true,
        shelf_days: 0,
        packs: &[50, 200, 400],
        weight: 5.0,
    },
    ItemSpec {
        id: "IEHK-BASIC",
        name: "Interagency emergency health kit, basic unit",
        weight_kg: 45.0,
        volume_m3: 0.2,
        cold: false,
        dangerous: false,
        shelf_days: 180,
        packs: &[4, 8, 48],
        weight: 8.0,
    },
    ItemSpec {
        id: "IEHK-SUPP",
        name: "Interagency emergency health kit, supplementary unit",
        weight_kg: 410.0,
        volume_m3: 1.9,
        cold: false,
        dangerous: false,
        shelf_days: 180,
        packs: &[1, 3],
        weight: 2.0,
    },
    ItemSpec {
        id: "CHOL-KIT",
        name: "Cholera kit, treatment module",
        weight_kg: 120.0,
        volume_m3: 0.55,
        cold: false,
        dangerous: false,
        shelf_days: 180,
        packs: &[4, 12],
        weight: 8.0,
    },
    ItemSpec {
        id: "VACC-MR",
        name: "Measles-rubella vaccine, insulated carton",
        weight_kg: 4.2,
        volume_m3: 0.021,
        cold: true,
        dangerous: false,
        shelf_days: 60,
        packs: &[40, 1000],
        weight: 8.0,
    },
    ItemSpec {
        id: "INSULIN",
        name: "Insulin, insulated carton",
        weight_kg: 3.1,
        volume_m3: 0.015,
        cold: true,
        dangerous: false,
        shelf_days: 90,
        packs: &[40, 60],
        weight: 2.0,
    },
    ItemSpec {
        id: "ORS-CTN",
        name: "Oral rehydration salts, carton 1000 sachets",
        weight_kg: 22.0,
        volume_m3: 0.04,
        cold: false,
        dangerous: false,
        shelf_days: 180,
        packs: &[20, 40],
        weight: 2.0,
    },
];

/// Destinations: UN/LOCODE, sea transit days from the hub's port (none for
/// inland ones), relative share of requests.
const DESTINATIONS: &[(&str, Option<i32>, f64)] = &[
    ("ETADD", None, 21.0),
    ("CFBGF", None, 17.0),
    ("MLBKO", None, 15.0),
    ("TDNDJ", None, 14.0),
    ("SSJUB", None, 13.0),
    ("SDPZU", Some(8), 13.0),
    ("LYBEN", Some(3), 13.0),
    ("BFOUA", None, 12.0),
    ("DJJIB", Some(10), 11.0),
    ("NENIM", None, 9.0),
    ("KEMBA", Some(16), 7.0),
    ("SOMGQ", Some(12), 5.0),
    ("CDGOM", None, 8.0),
    ("NGMIU", None, 8.0),
    ("MZBEW", Some(20), 6.0),
    ("CMDLA", Some(14), 6.0),
    ("UGEBB", None, 6.0),
    ("RWKGL", None, 5.0),
    ("MGTNR", None, 4.0),
    ("SNDKR", Some(11), 5.0),
    ("NGLOS", Some(13), 7.0),
    ("GNCKY", Some(12), 4.0),
    ("YEADE", Some(9), 8.0),
    ("TZDAR", Some(18), 6.0),
];

/// Aircraft for charters: name, payload kg, volume m³, cold m³, fixed cost per kg of payload.
const AIRCRAFT: &[(&str, f64, f64, f64, f64)] = &[
    ("L-100-30", 20_000.0, 120.0, 2.0, 3.6),
    ("Il-76TD", 42_000.0, 180.0, 6.0, 3.3),
    ("A330-200F", 65_000.0, 470.0, 10.0, 3.6),
    ("B747-400F", 112_000.0, 690.0, 16.0, 3.7),
    ("An-124-100", 120_000.0, 850.0, 20.0, 3.6),
];

const DONORS: &[&str] = &["RU", "AE", "SA", "QA", "KW"];

fn pick_weighted(rng: &mut SplitMix64, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.unit() * total;
    for (index, w) in weights.iter().enumerate() {
        if x < *w {
            return index;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Log-uniform in `[low, high]`.
fn log_uniform(rng: &mut SplitMix64, low: f64, high: f64) -> f64 {
    (low.ln() + rng.unit() * (high.ln() - low.ln())).exp()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Generates an instance of the hub's usual shape as a JSON value.
pub fn generate(config: &GenerateConfig) -> Value {
    generate_family(config, Family::Base)
}

/// Generates an instance of one family's shape as a JSON value (the base
/// family gives exactly the instances of [`generate`]).
pub fn generate_family(config: &GenerateConfig, family: Family) -> Value {
    let shape = family.shape();
    let mut rng = SplitMix64::new(config.seed);
    let start: Day = parse_day("2026-12-01").unwrap_or(2_461_376);
    let horizon = config.horizon_days.max(7);
    let destination_count = config.destinations.clamp(1, DESTINATIONS.len());
    let destinations = &DESTINATIONS[..destination_count];
    let destination_weights: Vec<f64> = destinations.iter().map(|d| d.2).collect();
    let item_weights: Vec<f64> = ITEMS
        .iter()
        .map(|i| {
            let mut weight = i.weight;
            if i.cold {
                weight *= shape.cold_scale;
            }
            if i.dangerous {
                weight *= shape.dangerous_scale;
            }
            weight
        })
        .collect();
    let countries: Vec<&str> = destinations.iter().map(|d| &d.0[..2]).collect();
    let day = |offset: i32| format_day(start + offset);

    let items: Vec<Value> = ITEMS
        .iter()
        .map(|i| {
            json!({"id": i.id, "name": i.name, "unit_weight_kg": i.weight_kg, "unit_volume_m3": i.volume_m3,
                   "cold_chain": i.cold, "dangerous_goods": i.dangerous, "min_shelf_life_days": i.shelf_days})
        })
        .collect();

    // Requests first: stock is sized to the demand.
    let mut requests = Vec::with_capacity(config.requests);
    let mut demand_kg = 0.0;
    for index in 0..config.requests {
        let destination = destinations[pick_weighted(&mut rng, &destination_weights)].0;
        let spec = &ITEMS[pick_weighted(&mut rng, &item_weights)];
        let kg = log_uniform(&mut rng, 150.0, 25_000.0);
        let quantity = ((kg / spec.weight_kg).round() as i64).max(1);
        demand_kg += quantity as f64 * spec.weight_kg;
        let value_per_kg = log_uniform(&mut rng, 3.0, 21.0);
        let needed =
            shape.needed_by.0 + rng.below((horizon + shape.needed_by.1).max(1) as usize) as i32;
        let grace = shape.grace_days[rng.below(shape.grace_days.len())];
        requests.push(json!({
            "id": format!("R-{index:05}"), "destination": destination, "item": spec.id,
            "quantity": quantity, "value_per_unit": round2(value_per_kg * spec.weight_kg),
            "needed_by": day(needed), "grace_days": grace,
        }));
    }

    let supply_kg_per_lot = 1.3 * demand_kg / config.lots.max(1) as f64;
    let mut lots = Vec::with_capacity(config.lots);
    for index in 0..config.lots {
        let spec = &ITEMS[pick_weighted(&mut rng, &item_weights)];
        let mut node = if rng.unit() < 0.7 {
            "TARTUS-PORT"
        } else {
            "HMEIMIM-AIR"
        };
        if shape.third_node && rng.unit() < 0.25 {
            node = THIRD_NODE;
        }
        let pack = spec.packs[rng.below(spec.packs.len())];
        let whole_container = rng.unit() < 0.25;
        let (quantity, pack_size) = if whole_container {
            let units =
                ((supply_kg_per_lot * (0.3 + rng.unit()) / spec.weight_kg).round() as i64).max(1);
            (units, units)
        } else {
            let units = supply_kg_per_lot * log_uniform(&mut rng, 0.2, 3.0) / spec.weight_kg;
            let packs = ((units / pack as f64).round() as i64).max(1);
            (packs * pack, pack)
        };
        let available = rng.below(horizon as usize) as i32;
        let expires = if spec.shelf_days > 0 || rng.unit() < 0.15 {
            let life = if rng.unit() < 0.1 {
                60 + rng.below(120) as i32
            } else {
                120 + rng.below(900) as i32
            };
            Value::String(day(available + life))
        } else {
            Value::Null
        };
        let earmark: Vec<&str> = if rng.unit() < shape.unearmarked_share() {
            Vec::new()
        } else {
            let count = 1 + rng.below(shape.earmark_countries);
            let mut codes: Vec<&str> = (0..count)
                .map(|_| countries[rng.below(countries.len())])
                .collect();
            codes.sort_unstable();
            codes.dedup();
            codes
        };
        lots.push(json!({
            "id": format!("L-{index:06}"), "item": spec.id, "node": node, "quantity": quantity,
            "pack_size": pack_size, "available": day(available), "expires": expires,
            "earmark": earmark, "donor": DONORS[rng.below(DONORS.len())],
        }));
    }

    let mut departures = Vec::with_capacity(config.departures);
    for index in 0..config.departures {
        let (destination, sea_days, _) =
            destinations[pick_weighted(&mut rng, &destination_weights)];
        let departs = 1 + rng.below((horizon + 4) as usize) as i32;
        let kind = rng.unit();
        let id = format!("D-{index:05}");
        let scale = shape.capacity_scale;
        let scaled = |x: f64| if scale == 1.0 { x } else { round2(x * scale) };
        let dangerous_allowed =
            |rng: &mut SplitMix64, chance: f64| rng.unit() < chance * shape.dangerous_allowed_scale;
        let departure = match sea_days {
            Some(transit) if kind < shape.sea_share => {
                let transit = if shape.sea_transit_scale == 1.0 {
                    transit
                } else {
                    (transit as f64 * shape.sea_transit_scale).round() as i32
                };
                let payload = 25_000.0 + rng.unit() * 35_000.0;
                let (fixed, per_kg) = if rng.unit() < 0.5 {
                    (0.0, 0.12 + rng.unit() * 0.13)
                } else {
                    (1_500.0 + (rng.unit() * 2_500.0).round(), 0.0)
                };
                let arrives = departs + transit + rng.below(3) as i32;
                let payload_kg = scaled(payload.round() / 1.0 - (payload.round() % 100.0));
                let volume_m3 = scaled(round2(payload / 500.0 + rng.unit() * 20.0));
                let cold_volume_m3 = if rng.unit() < 0.4 {
                    scaled(round2(rng.unit() * 2.0))
                } else {
                    0.0
                };
                let dangerous_goods = dangerous_allowed(&mut rng, 0.8);
                let port = if shape.third_node && rng.unit() < 0.5 {
                    THIRD_NODE
                } else {
                    "TARTUS-PORT"
                };
                json!({
                    "id": id, "node": port, "mode": "sea", "destination": destination,
                    "departs": day(departs), "arrives": day(arrives),
                    "payload_kg": payload_kg,
                    "volume_m3": volume_m3,
                    "cold_volume_m3": cold_volume_m3,
                    "dangerous_goods": dangerous_goods, "fixed_cost": fixed, "cost_per_kg": round2(per_kg * 1000.0) / 1000.0,
                })
            }
            _ if (sea_days.is_some() && kind < shape.flight_share.0)
                || (sea_days.is_none() && kind < shape.flight_share.1) =>
            {
                let (payload, volume, cold) = [
                    (15_000.0, 90.0, 4.5),
                    (12_000.0, 72.0, 3.6),
                    (8_000.0, 48.0, 2.4),
                ][rng.below(3)];
                let arrives = departs + rng.below(2) as i32;
                let dangerous_goods = dangerous_allowed(&mut rng, 0.3);
                json!({
                    "id": id, "node": "HMEIMIM-AIR", "mode": "air", "destination": destination,
                    "departs": day(departs), "arrives": day(arrives),
                    "payload_kg": scaled(payload), "volume_m3": scaled(volume), "cold_volume_m3": scaled(cold),
                    "dangerous_goods": dangerous_goods, "fixed_cost": 0.0,
                    "cost_per_kg": round2(2.4 + rng.unit() * 1.8),
                })
            }
            _ => {
                let (vehicle, payload, volume, cold, per_kg) = AIRCRAFT[rng.below(AIRCRAFT.len())];
                let fixed = ((payload * scale)
                    * (per_kg * shape.charter_cost_scale)
                    * (0.9 + rng.unit() * 0.2)
                    / 100.0)
                    .round()
                    * 100.0;
                let arrives = departs + rng.below(2) as i32;
                let dangerous_goods = dangerous_allowed(&mut rng, 0.6);
                json!({
                    "id": id, "node": "HMEIMIM-AIR", "mode": "air", "destination": destination,
                    "departs": day(departs), "arrives": day(arrives),
                    "payload_kg": scaled(payload), "volume_m3": scaled(volume), "cold_volume_m3": scaled(cold),
                    "dangerous_goods": dangerous_goods, "fixed_cost": fixed, "cost_per_kg": 0.0,
                    "vehicle": vehicle,
                })
            }
        };
        departures.push(departure);
    }

    let mut nodes = vec![
        json!({"id": "TARTUS-PORT", "kind": "port"}),
        json!({"id": "HMEIMIM-AIR", "kind": "airport"}),
    ];
    let mut transfers = vec![
        json!({"from": "TARTUS-PORT", "to": "HMEIMIM-AIR", "days": 1}),
        json!({"from": "HMEIMIM-AIR", "to": "TARTUS-PORT", "days": 1}),
    ];
    if shape.third_node {
        nodes.push(json!({"id": THIRD_NODE, "kind": "port"}));
        transfers.push(json!({"from": THIRD_NODE, "to": "HMEIMIM-AIR", "days": 2}));
        transfers.push(json!({"from": "HMEIMIM-AIR", "to": THIRD_NODE, "days": 2}));
    }
    let name = match family {
        Family::Base => config.name.clone(),
        _ => format!("{}-{}", config.name, family.name()),
    };
    json!({
        "format": crate::instance::INSTANCE_FORMAT,
        "name": name,
        "nodes": nodes,
        "transfers": transfers,
        "items": items,
        "lots": lots,
        "departures": departures,
        "requests": requests,
    })
}

/// Generates an instance as JSON text.
pub fn generate_json(config: &GenerateConfig) -> String {
    generate_family_json(config, Family::Base)
}

/// Generates an instance of one family's shape as JSON text.
pub fn generate_family_json(config: &GenerateConfig, family: Family) -> String {
    let mut text = serde_json::to_string(&generate_family(config, family)).unwrap_or_default();
    text.push('\n');
    text
}
