//! A realistic four-week scenario of the hub, played through the same
//! operations as the command line (never direct SQL), and its weekly report.
//!
//! Five donors (Russia and four Gulf states) pledge and ship by sea to
//! Tartus and by air to Hmeimim; twelve African destinations file requests;
//! scheduled sailings and chartered or scheduled flights carry the goods;
//! trucks move stock from the port to the airfield. A few lines land short,
//! damaged or over; a count finds a shortfall; a pledge is cut back; a
//! mistaken quarantine is corrected. Deterministic: one seed, one story.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;

use reliefhub_core::domain::format_date;
use reliefhub_core::{Item, LossReason};
use reliefhub_formats::manifest::ManifestFormat;
use time::{Date, Duration, Month};

use crate::{
    DamagedTo, DeliveryLine, DepartureStatus, LoadLine, MemorySource, Mode, Moment, NewDelivery,
    NewDeparture, NewLeg, NewPledge, NewReceipt, NewRequest, NewTransfer, Ops, OpsError,
    PledgeLine, ReceiptLine, RequestStatus, Service,
};

/// SplitMix64: a small, well-mixed deterministic generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in `low..=high`.
    pub fn range(&mut self, low: i64, high: i64) -> i64 {
        assert!(low <= high);
        low + (self.next_u64() % ((high - low + 1) as u64)) as i64
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// Writes a valid manifest of `lines` lines (for benchmarks and crash tests).
pub fn write_large_manifest(path: &std::path::Path, lines: u64, seed: u64) -> std::io::Result<()> {
    let items = [
        "HEB-10KG",
        "RUTF-150",
        "WHEAT-FLOUR-50KG",
        "RICE-50KG",
        "TENT-FAMILY-16M2",
        "HYGIENE-KIT",
        "ORS-CTN",
    ];
    let donors = [
        "RU-EMERCOM",
        "AE-UAEAID",
        "SA-KSRELIEF",
        "QA-QFFD",
        "KW-KRCS",
    ];
    let mut rng = Rng::new(seed);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(out, "item,quantity,batch,expiry,packs,donor,earmark")?;
    writeln!(
        out,
        "#item+code,#quantity,#meta+batch,#date+expiry,#meta+packs,#org+funder,#country+code+dest"
    )?;
    for n in 0..lines {
        let item = items[(rng.next_u64() % items.len() as u64) as usize];
        let donor = donors[(rng.next_u64() % donors.len() as u64) as usize];
        writeln!(
            out,
            "{item},{},B{:07},2027-{:02}-{:02},{},{donor},{}",
            rng.range(1, 500),
            n,
            rng.range(1, 12),
            rng.range(1, 28),
            rng.range(1, 4),
            if n % 5 == 0 { "SD;TD" } else { "" }
        )?;
    }
    out.flush()
}

struct DonorPlan {
    code: &'static str,
    short: &'static str,
    sea_origin: &'static str,
    sea_carrier: &'static str,
    vessel: &'static str,
    air_origin: &'static str,
    air_carrier: &'static str,
    flight: &'static str,
    items: &'static [&'static str],
    earmark: &'static [&'static str],
}

const DONORS: [DonorPlan; 5] = [
    DonorPlan {
        code: "RU-EMERCOM",
        short: "Russia (EMERCOM)",
        sea_origin: "RUNVS",
        sea_carrier: "Novorossiysk Shipping",
        vessel: "MV Kapitan Shchetinina",
        air_origin: "ZIA",
        air_carrier: "EMERCOM Aviation",
        flight: "EMR-76",
        items: &[
            "WHEAT-FLOUR-50KG",
            "TENT-FAMILY-16M2",
            "BLANKET-BALE-10",
            "HEB-10KG",
            "KITCHEN-SET",
            "IEHK-BASIC",
        ],
        earmark: &[],
    },
    DonorPlan {
        code: "AE-UAEAID",
        short: "UAE (UAE Aid)",
        sea_origin: "AEJEA",
        sea_carrier: "Gulf Feeder Line",
        vessel: "MV Al Jazeera Star",
        air_origin: "DWC",
        air_carrier: "Emirates SkyCargo",
        flight: "EK9821",
        items: &[
            "FOOD-PARCEL",
            "HYGIENE-KIT",
            "SOLAR-LANTERN-10",
            "VEG-OIL-4X5L",
            "MEASLES-VACCINE",
        ],
        earmark: &[],
    },
    DonorPlan {
        code: "SA-KSRELIEF",
        short: "Saudi Arabia (KSrelief)",
        sea_origin: "SAJED",
        sea_carrier: "Bahri Logistics",
        vessel: "MV Bahri Yanbu",
        air_origin: "RUH",
        air_carrier: "Saudia Cargo",
        flight: "SV984",
        items: &[
            "RICE-50KG",
            "LENTILS-50KG",
            "TARPAULIN-4X6",
            "FOOD-PARCEL",
            "CHOLERA-KIT-CENTRAL",
        ],
        earmark: &["SD", "SO", "ET", "DJ"],
    },
    DonorPlan {
        code: "QA-QFFD",
        short: "Qatar (QFFD)",
        sea_origin: "QAHMD",
        sea_carrier: "Milaha",
        vessel: "MV Milaha Ras Laffan",
        air_origin: "DOH",
        air_carrier: "Qatar Airways Cargo",
        flight: "QR8471",
        items: &[
            "RUTF-150",
            "ORS-CTN",
            "OCV-VACCINE",
            "AQUATABS-CTN",
            "LLIN-BALE-40",
        ],
        earmark: &[],
    },
    DonorPlan {
        code: "KW-KRCS",
        short: "Kuwait (KRCS)",
        sea_origin: "KWSWK",
        sea_carrier: "KOTC Lines",
        vessel: "MV Al Salmi",
        air_origin: "KWI",
        air_carrier: "Kuwait Airways Cargo",
        flight: "KU1701",
        items: &[
            "HEB-10KG",
            "SLEEPING-MAT-10",
            "JERRYCAN-10L-X10",
            "SOAP-CTN",
            "CALCIUM-HYPOCHLORITE-45KG",
        ],
        earmark: &[],
    },
];

struct DestinationPlan {
    locode: &'static str,
    agency: &'static str,
    by_sea: bool,
    needs: &'static [&'static str],
}

const DESTINATIONS: [DestinationPlan; 12] = [
    DestinationPlan {
        locode: "SDPZU",
        agency: "SD-HAC",
        by_sea: true,
        needs: &[
            "WHEAT-FLOUR-50KG",
            "RUTF-150",
            "TENT-FAMILY-16M2",
            "CHOLERA-KIT-CENTRAL",
            "RICE-50KG",
        ],
    },
    DestinationPlan {
        locode: "DJJIB",
        agency: "DJ-ONARS",
        by_sea: true,
        needs: &["RICE-50KG", "LENTILS-50KG", "JERRYCAN-10L-X10"],
    },
    DestinationPlan {
        locode: "KEMBA",
        agency: "KE-NDMA",
        by_sea: true,
        needs: &["VEG-OIL-4X5L", "TARPAULIN-4X6", "WHEAT-FLOUR-50KG"],
    },
    DestinationPlan {
        locode: "LYBEN",
        agency: "LY-LRC",
        by_sea: true,
        needs: &[
            "FOOD-PARCEL",
            "BLANKET-BALE-10",
            "KITCHEN-SET",
            "CALCIUM-HYPOCHLORITE-45KG",
        ],
    },
    DestinationPlan {
        locode: "TDNDJ",
        agency: "TD-CNARR",
        by_sea: false,
        needs: &["RUTF-150", "HEB-10KG", "TENT-FAMILY-16M2"],
    },
    DestinationPlan {
        locode: "MLBKO",
        agency: "ML-DGPC",
        by_sea: false,
        needs: &["HEB-10KG", "HYGIENE-KIT", "SLEEPING-MAT-10"],
    },
    DestinationPlan {
        locode: "NENIM",
        agency: "NE-MAHGC",
        by_sea: false,
        needs: &["RUTF-150", "ORS-CTN", "MEASLES-VACCINE"],
    },
    DestinationPlan {
        locode: "CFBGF",
        agency: "CF-MASRN",
        by_sea: false,
        needs: &["IEHK-BASIC", "LLIN-BALE-40", "AQUATABS-CTN"],
    },
    DestinationPlan {
        locode: "ETADD",
        agency: "ET-EDRMC",
        by_sea: false,
        needs: &["OCV-VACCINE", "ORS-CTN", "SOAP-CTN"],
    },
    DestinationPlan {
        locode: "SSJUB",
        agency: "SS-RRC",
        by_sea: false,
        needs: &["TARPAULIN-4X6", "JERRYCAN-10L-X10", "HEB-10KG"],
    },
    DestinationPlan {
        locode: "SOMGQ",
        agency: "SO-SODMA",
        by_sea: false,
        needs: &["RUTF-150", "FOOD-PARCEL", "AQUATABS-CTN"],
    },
    DestinationPlan {
        locode: "CDFIH",
        agency: "CD-MASAH",
        by_sea: false,
        needs: &["OCV-VACCINE", "HYGIENE-KIT", "SOLAR-LANTERN-10"],
    },
];

const PORT: &str = "TARTUS-PORT";
const AIR: &str = "HMEIMIM-AIR";

/// One week's figures for the report.
#[derive(Default)]
struct Week {
    legs_sea: i64,
    legs_air: i64,
    received_kg: f64,
    lines_received: i64,
    short_lines: i64,
    short_units: i64,
    damaged_units: i64,
    over_units: i64,
    transfers: i64,
    transferred_kg: f64,
    departures: Vec<String>,
    deliveries: Vec<String>,
    events: Vec<String>,
}

struct Sim<'a> {
    ops: &'a mut Ops,
    rng: Rng,
    start: Date,
    items: HashMap<String, Item>,
    weeks: Vec<Week>,
    transfer_count: i64,
}

fn err(e: impl std::fmt::Display) -> OpsError {
    OpsError::refused(crate::Code::LedgerRule, "", "", e.to_string())
}

impl Sim<'_> {
    fn day(&self, n: i64) -> Date {
        self.start + Duration::days(n)
    }
    fn at(&self, n: i64) -> Moment {
        Moment::on(self.day(n))
    }
    fn week(&mut self, n: i64) -> &mut Week {
        let index = (n / 7).clamp(0, 3) as usize;
        &mut self.weeks[index]
    }
    /// The named member of staff who does the next operations, on day `n`
    /// (recorded in the operation log).
    fn staff(&mut self, who: &str, n: i64) {
        self.ops.set_actor(who);
        let at = self.at(n).unix_ms;
        self.ops.store().set_clock(Some(at));
    }
    fn kg(&self, item: &str, units: i64) -> f64 {
        self.items.get(item).map_or(0.0, |i| i.unit_weight_kg) * units as f64
    }
}

/// A realistic quantity of an item for a sea or air leg (units).
fn leg_quantity(rng: &mut Rng, item: &Item, by_sea: bool) -> i64 {
    let tonnes = if by_sea {
        rng.range(20, 60)
    } else {
        rng.range(3, 9)
    } as f64;
    ((tonnes * 1000.0 / item.unit_weight_kg) as i64 / 10 * 10).max(10)
}

/// The hub's staff in the scenario, by role (the operation log records who
/// did what).
const LIAISON: &str = "Rania Haddad (donor liaison)";
const INBOUND: &str = "Karim Mansour (inbound coordinator)";
const WAREHOUSE: &str = "Lina Khoury (warehouse)";
const STOCK: &str = "Samir Darwish (stock controller)";
const REQUESTS: &str = "Amina Diallo (requests officer)";
const DISPATCH: &str = "Youssef Ibrahim (dispatch planner)";
const FLEET: &str = "Tarek Nasser (fleet, port-airfield trucks)";

/// Plays the scenario and returns the weekly report.
pub fn play(ops: &mut Ops, seed: u64) -> Result<String, OpsError> {
    let items: HashMap<String, Item> = ops
        .store()
        .items()?
        .into_iter()
        .map(|i| (i.code.clone(), i))
        .collect();
    let start = Date::from_calendar_date(2025, Month::March, 3).map_err(err)?;
    let mut sim = Sim {
        ops,
        rng: Rng::new(seed),
        start,
        items,
        weeks: (0..4).map(|_| Week::default()).collect(),
        transfer_count: 0,
    };

    // Day 0-2: pledges, two per donor.
    let mut pledges: Vec<(String, String)> = Vec::new();
    for (d, donor) in DONORS.iter().enumerate() {
        for p in 0..2 {
            let code = format!("PL-{}-{}", &donor.code[..2], p + 1);
            let mut lines = Vec::new();
            for (i, item_code) in donor.items.iter().enumerate() {
                if (i + p) % 2 == 1 && p == 1 {
                    continue;
                }
                let item = &sim.items[*item_code];
                let quantity = leg_quantity(&mut sim.rng, item, true) * if p == 0 { 2 } else { 1 };
                let earmark = if i == 0 {
                    donor.earmark.iter().map(|s| s.to_string()).collect()
                } else {
                    Vec::new()
                };
                lines.push(PledgeLine {
                    item: item_code.to_string(),
                    quantity,
                    earmark,
                });
            }
            let day = (d % 3) as i64;
            let pledge = NewPledge {
                code: code.clone(),
                donor: donor.code.to_string(),
                pledged_on: sim.day(day),
                note: format!("{} relief pledge {}", donor.short, p + 1),
                lines,
            };
            sim.staff(LIAISON, day);
            sim.ops.pledge(&pledge, None, sim.at(day))?;
            pledges.push((code, donor.code.to_string()));
        }
    }

    // Legs: 24 in all, sea and air, arriving through the four weeks.
    struct LegPlan {
        code: String,
        arrival_day: i64,
        by_sea: bool,
    }
    let mut legs = Vec::new();
    for n in 0..24_usize {
        let donor = &DONORS[n % 5];
        let by_sea = n % 3 != 2;
        let arrival_day = 2 + (n as i64 * 23) / 24 + sim.rng.range(0, 1);
        let code = format!("IN-{}-{:02}", if by_sea { "SEA" } else { "AIR" }, n + 1);
        let leg = NewLeg {
            code: code.clone(),
            mode: if by_sea { Mode::Sea } else { Mode::Air },
            origin: if by_sea {
                donor.sea_origin
            } else {
                donor.air_origin
            }
            .to_string(),
            node: if by_sea { PORT } else { AIR }.to_string(),
            carrier: if by_sea {
                donor.sea_carrier
            } else {
                donor.air_carrier
            }
            .to_string(),
            vehicle_ref: if by_sea {
                format!("{} voy. {}", donor.vessel, 250 + n)
            } else {
                donor.flight.to_string()
            },
            expected_arrival: sim.day(arrival_day),
            donor: Some(donor.code.to_string()),
        };
        let registered = (arrival_day - if by_sea { 6 } else { 1 }).max(0);
        sim.staff(INBOUND, registered);
        sim.ops.add_leg(&leg, sim.at(registered))?;
        // The manifest, sent by the donor when the leg leaves.
        let count = if by_sea {
            sim.rng.range(4, 6)
        } else {
            sim.rng.range(2, 4)
        } as usize;
        let mut rows = Vec::new();
        for k in 0..count {
            let item_code = donor.items[(k + n) % donor.items.len()];
            let item = sim.items[item_code].clone();
            if !by_sea && item.un_number.is_some() && item_code == "CALCIUM-HYPOCHLORITE-45KG" {
                continue;
            }
            let quantity = leg_quantity(&mut sim.rng, &item, by_sea);
            let days = if k == 0 && n % 7 == 3 {
                80
            } else {
                sim.rng.range(10, 30) * 30
            };
            let expiry = if item.min_shelf_life_days > 0 || item.cold_chain {
                Some(sim.day(days))
            } else {
                None
            };
            let earmark = if k == 0 && !donor.earmark.is_empty() {
                donor.earmark.join(";")
            } else {
                String::new()
            };
            rows.push((
                item_code.to_string(),
                quantity,
                format!("{}-{}{:03}", &donor.code[..2], &item_code[..3], n * 10 + k),
                expiry,
                sim.rng.range(4, 40),
                earmark,
            ));
        }
        let source = if n % 4 == 3 {
            let lines: Vec<_> = rows
                .iter()
                .map(|(item, q, batch, expiry, packs, earmark)| {
                    serde_json::json!({"item": item, "quantity": q, "batch": batch, "expiry": expiry.map(format_date), "packs": packs, "earmark": earmark})
                })
                .collect();
            MemorySource {
                name: format!("{code}.json"),
                bytes: serde_json::to_vec_pretty(
                    &serde_json::json!({ "leg": code, "lines": lines }),
                )
                .map_err(err)?,
            }
        } else {
            let mut text = String::from("Item,Quantity,Batch,Expiry,Packs,Earmark\n#item+code,#quantity,#meta+batch,#date+expiry,#meta+packs,#country+code+dest\n");
            for (item, q, batch, expiry, packs, earmark) in &rows {
                let _ = writeln!(
                    text,
                    "{item},{q},{batch},{},{packs},{earmark}",
                    expiry.map(format_date).unwrap_or_default()
                );
            }
            MemorySource {
                name: format!("{code}.csv"),
                bytes: text.into_bytes(),
            }
        };
        let format = if n % 4 == 3 {
            ManifestFormat::Json
        } else {
            ManifestFormat::Csv
        };
        sim.staff(INBOUND, registered);
        sim.ops.import_manifest(
            &code,
            &source,
            format,
            None,
            sim.at(registered),
            &mut |_, _| {},
        )?;
        legs.push(LegPlan {
            code,
            arrival_day,
            by_sea,
        });
    }

    // Requests from twelve destinations, filed in the first ten days.
    for (d, dest) in DESTINATIONS.iter().enumerate() {
        for (k, item_code) in dest.needs.iter().enumerate() {
            let item = sim.items[*item_code].clone();
            let tonnes = if dest.by_sea {
                sim.rng.range(25, 90)
            } else {
                sim.rng.range(4, 14)
            } as f64;
            let quantity = ((tonnes * 1000.0 / item.unit_weight_kg) as i64 / 10 * 10).max(10);
            let filed = (d as i64 + k as i64 * 3) % 10;
            let slack = sim.rng.range(0, 12);
            let grace_days = sim.rng.range(3, 10);
            let request = NewRequest {
                code: format!("RQ-{}-{}", dest.locode, k + 1),
                destination: dest.locode.to_string(),
                item: item_code.to_string(),
                quantity,
                priority: 1 + ((d + k) % 4) as i64,
                needed_by: sim.day(filed + 10 + slack),
                grace_days,
                requested_by: dest.agency.to_string(),
            };
            sim.staff(REQUESTS, filed);
            sim.ops.add_request(&request, sim.at(filed))?;
        }
    }

    // Departures: scheduled sailings from Tartus, charters and scheduled
    // cargo flights from Hmeimim.
    struct DeparturePlan {
        code: String,
        day: i64,
        arrival_day: i64,
    }
    let mut departures = Vec::new();
    let sailings = [
        ("LYBEN", 6, 3),
        ("SDPZU", 8, 7),
        ("DJJIB", 12, 10),
        ("KEMBA", 14, 15),
        ("LYBEN", 19, 3),
        ("SDPZU", 22, 7),
    ];
    for (n, (dest, day, days)) in sailings.iter().enumerate() {
        let d = NewDeparture {
            code: format!("OUT-SEA-{:02}", n + 1),
            node: PORT.to_string(),
            destination: dest.to_string(),
            mode: Mode::Sea,
            service: Service::Scheduled,
            vehicle: format!("MV Tartus Trader voy. {}", 40 + n),
            departs_on: sim.day(*day),
            arrives_on: sim.day(day + days),
            payload_kg: 26_700.0 * 8.0,
            volume_m3: 67.7 * 8.0,
            cold_volume_m3: 0.0,
            dangerous_goods_allowed: true,
            fixed_cost_usd: 38_000.0,
            cost_per_kg_usd: 0.04,
        };
        sim.staff(DISPATCH, 0);
        sim.ops.add_departure(&d, sim.at(0))?;
        departures.push(DeparturePlan {
            code: d.code,
            day: *day,
            arrival_day: day + days,
        });
    }
    let flights = [
        ("ETADD", 9, Service::Scheduled),
        ("TDNDJ", 10, Service::Charter),
        ("NENIM", 11, Service::Charter),
        ("MLBKO", 13, Service::Charter),
        ("CFBGF", 15, Service::Charter),
        ("SOMGQ", 16, Service::Charter),
        ("SSJUB", 17, Service::Charter),
        ("SDPZU", 18, Service::Charter),
        ("ETADD", 20, Service::Scheduled),
        ("TDNDJ", 23, Service::Charter),
        ("CDFIH", 24, Service::Charter),
        ("NENIM", 25, Service::Charter),
        ("SOMGQ", 26, Service::Scheduled),
    ];
    for (n, (dest, day, service)) in flights.iter().enumerate() {
        let charter = *service == Service::Charter;
        let d = NewDeparture {
            code: format!("OUT-AIR-{:02}", n + 1),
            node: AIR.to_string(),
            destination: dest.to_string(),
            mode: Mode::Air,
            service: *service,
            vehicle: if charter {
                "Il-76TD charter".to_string()
            } else {
                "B777F scheduled allocation".to_string()
            },
            departs_on: sim.day(*day),
            arrives_on: sim.day(day + 1),
            payload_kg: if charter { 42_000.0 } else { 18_000.0 },
            volume_m3: if charter { 180.0 } else { 95.0 },
            cold_volume_m3: if charter { 12.0 } else { 20.0 },
            dangerous_goods_allowed: !charter,
            fixed_cost_usd: if charter { 165_000.0 } else { 0.0 },
            cost_per_kg_usd: if charter { 0.0 } else { 2.6 },
        };
        sim.staff(DISPATCH, 0);
        sim.ops.add_departure(&d, sim.at(0))?;
        departures.push(DeparturePlan {
            code: d.code,
            day: *day,
            arrival_day: day + 1,
        });
    }

    // Day by day.
    let mut quarantined: Vec<(i64, i64)> = Vec::new();
    for day in 0..28_i64 {
        // Arrivals and receipts.
        for leg in legs.iter().filter(|l| l.arrival_day == day) {
            let manifest = manifest_lines(sim.ops, &leg.code)?;
            let mut lines = Vec::new();
            for (line_no, quantity, item) in &manifest {
                let roll = sim.rng.next_u64() % 100;
                let (counted, damaged, to, note) = if roll < 6 {
                    (
                        quantity - (quantity / 40).max(1),
                        0,
                        DamagedTo::Quarantine,
                        "short-landed",
                    )
                } else if roll < 11 {
                    (
                        *quantity,
                        (quantity / 50).max(1),
                        DamagedTo::Quarantine,
                        "wet cartons, held for inspection",
                    )
                } else if roll < 14 {
                    (
                        *quantity,
                        (quantity / 80).max(1),
                        DamagedTo::Loss,
                        "crushed in handling",
                    )
                } else if roll < 17 {
                    (quantity + 5, 0, DamagedTo::Quarantine, "over-landed")
                } else {
                    (*quantity, 0, DamagedTo::Quarantine, "")
                };
                let _ = item;
                lines.push(ReceiptLine {
                    line_no: *line_no,
                    counted,
                    damaged,
                    damaged_to: to,
                    note: note.to_string(),
                });
            }
            let receipt = NewReceipt {
                leg: leg.code.clone(),
                received_on: sim.day(day),
                received_by: if leg.by_sea {
                    "Tartus port warehouse"
                } else {
                    "Hmeimim cargo shed"
                }
                .to_string(),
                lines,
                rest_as_manifested: false,
            };
            sim.staff(WAREHOUSE, day);
            sim.ops.receive(&receipt, None, sim.at(day))?;
            let grn = sim.ops.goods_received_note(&leg.code)?;
            let mut kg = 0.0;
            let mut stats = (0, 0, 0, 0, 0);
            for l in &grn.lines {
                kg += sim.kg(&l.item, l.counted);
                stats.0 += 1;
                if l.short > 0 {
                    stats.1 += 1;
                    stats.2 += l.short;
                }
                stats.3 += l.damaged;
                stats.4 += l.over;
                if l.damaged > 0 && l.damaged_to == "quarantine" {
                    quarantined.push((l.lot_id, l.damaged));
                }
            }
            let week = sim.week(day);
            if leg.by_sea {
                week.legs_sea += 1;
            } else {
                week.legs_air += 1;
            }
            week.received_kg += kg;
            week.lines_received += stats.0;
            week.short_lines += stats.1;
            week.short_units += stats.2;
            week.damaged_units += stats.3;
            week.over_units += stats.4;
        }

        // Inspection of quarantined goods two days on: most released, the rest written off.
        if day % 7 == 5 && !quarantined.is_empty() {
            let held = std::mem::take(&mut quarantined);
            for (i, (lot, quantity)) in held.into_iter().enumerate() {
                let node = lot_node(sim.ops, lot)?;
                let Some(node) = node else { continue };
                if i % 3 == 2 {
                    sim.staff(STOCK, day);
                    sim.ops.write_off(
                        &node,
                        lot,
                        quantity,
                        true,
                        LossReason::Damaged,
                        "inspection: not fit for distribution",
                        None,
                        sim.at(day),
                    )?;
                    let text = format!("lot {lot}: {quantity} damaged units written off after inspection at {node}");
                    sim.week(day).events.push(text);
                } else {
                    sim.staff(STOCK, day);
                    sim.ops.release(
                        &node,
                        lot,
                        quantity,
                        "inspection passed",
                        None,
                        sim.at(day),
                    )?;
                }
            }
        }

        // Trucks from the port to the airfield for the flights of the next days.
        if day % 3 == 1 {
            transfer_for_flights(
                &mut sim,
                day,
                &departures
                    .iter()
                    .map(|d| (d.code.clone(), d.day))
                    .collect::<Vec<_>>(),
            )?;
        }

        // Loading the day before departure, departure, delivery.
        for dep in departures.iter().filter(|d| d.day == day + 1) {
            load_departure(&mut sim, &dep.code, day)?;
        }
        for dep in departures.iter().filter(|d| d.day == day) {
            let d = sim.ops.departure(&dep.code)?;
            if d.status == DepartureStatus::Loaded {
                sim.staff(DISPATCH, day);
                sim.ops.depart(&dep.code, sim.at(day))?;
                let text = format!(
                    "{} {} -> {} ({}, {}): {:.1} t, {:.0} m3",
                    dep.code,
                    d.departure.node,
                    d.departure.destination,
                    d.departure.service.code(),
                    d.departure.vehicle,
                    d.loaded_kg / 1000.0,
                    d.loaded_m3
                );
                sim.week(day).departures.push(text);
            } else {
                let text = format!(
                    "{} to {} cancelled: nothing suitable to load",
                    dep.code, d.departure.destination
                );
                sim.week(day).events.push(text);
            }
        }
        for dep in departures.iter().filter(|d| d.arrival_day == day) {
            let d = sim.ops.departure(&dep.code)?;
            if d.status != DepartureStatus::Departed {
                continue;
            }
            let agency = DESTINATIONS
                .iter()
                .find(|x| x.locode == d.departure.destination)
                .map_or("recipient", |x| x.agency);
            let mut lines = Vec::new();
            if sim.rng.chance(30) {
                let units = d.loaded_units;
                if units > 0 {
                    lines.push(DeliveryLine {
                        line_no: 1,
                        received: (first_line_quantity(sim.ops, &dep.code)? - sim.rng.range(1, 4))
                            .max(0),
                    });
                }
            }
            let delivery = NewDelivery {
                departure: dep.code.clone(),
                received_by: format!("{agency} warehouse officer"),
                received_on: sim.day(day),
                note: String::new(),
                lines,
            };
            sim.staff(DISPATCH, day);
            sim.ops.deliver(&delivery, None, sim.at(day))?;
            let pod = sim.ops.proof_of_delivery(&dep.code)?;
            let received: i64 = pod.lines.iter().map(|l| l.received).sum();
            let short: i64 = pod.lines.iter().map(|l| l.short).sum();
            let kg: f64 = pod.lines.iter().map(|l| sim.kg(&l.item, l.received)).sum();
            let text = format!(
                "{} delivered at {} to {}: {received} units ({:.1} t){}",
                dep.code,
                d.departure.destination,
                agency,
                kg / 1000.0,
                if short > 0 {
                    format!(", {short} short-delivered")
                } else {
                    String::new()
                }
            );
            sim.week(day).deliveries.push(text);
        }

        // Week 3: a stock count at the port finds a shortfall; a mistaken quarantine is corrected.
        if day == 17 {
            let stock = sim.ops.stock(Some(PORT), None)?;
            if let Some(row) = stock
                .iter()
                .find(|r| r.state == crate::StockState::Available && r.quantity > 50)
            {
                let counted = row.quantity - 12;
                sim.staff(STOCK, day);
                sim.ops.count(
                    PORT,
                    &[(row.lot_id, counted)],
                    "cyclic count, bay C",
                    None,
                    sim.at(day),
                )?;
                let text = format!("cyclic count at {PORT}: lot {} ({}) 12 units short, booked to loss:count-adjustment", row.lot_id, row.item);
                sim.week(day).events.push(text);
            }
            if let Some(row) = stock.iter().find(|r| {
                r.state == crate::StockState::Available && r.quantity > 100 && r.item != "HEB-10KG"
            }) {
                sim.staff(STOCK, day);
                let done = sim.ops.quarantine(
                    PORT,
                    row.lot_id,
                    40,
                    "suspected pest damage",
                    None,
                    sim.at(day),
                )?;
                sim.ops.correct(
                    done.applied.first_seq,
                    None,
                    "quarantine entered on the wrong lot",
                    None,
                    sim.at(day),
                )?;
                let text = format!("quarantine of 40 units of lot {} entered in error, reversed by correcting entry", row.lot_id);
                sim.week(day).events.push(text);
            }
        }
        // Week 4: Kuwait's second pledge is cut back to what arrived.
        if day == 24 {
            sim.staff(LIAISON, day);
            if let Ok(done) = sim.ops.cancel_pledge(
                "PL-KW-2",
                "donor reallocated the balance to another appeal",
                None,
                sim.at(day),
            ) {
                let text = format!("pledge PL-KW-2: outstanding balance cancelled by the donor ({} correcting entries)", done.applied.transfer_count);
                sim.week(day).events.push(text);
            }
        }
    }
    let _ = pledges;

    // Next week's departures, scheduled but not yet loaded: the dispatch
    // planner decides what goes on them (`reliefhub plan build`).
    let next_week = [
        ("SDPZU", 29, Mode::Air, Service::Charter),
        ("ETADD", 30, Mode::Air, Service::Scheduled),
        ("CDFIH", 31, Mode::Air, Service::Charter),
        ("NENIM", 32, Mode::Air, Service::Charter),
        ("DJJIB", 30, Mode::Sea, Service::Scheduled),
        ("KEMBA", 33, Mode::Sea, Service::Scheduled),
        ("TDNDJ", 34, Mode::Air, Service::Charter),
    ];
    for (n, (dest, day, mode, service)) in next_week.iter().enumerate() {
        let sea = *mode == Mode::Sea;
        let charter = *service == Service::Charter;
        let d = NewDeparture {
            code: format!("NEXT-{}-{:02}", if sea { "SEA" } else { "AIR" }, n + 1),
            node: if sea { PORT } else { AIR }.to_string(),
            destination: dest.to_string(),
            mode: *mode,
            service: *service,
            vehicle: match (sea, charter) {
                (true, _) => format!("MV Tartus Trader voy. {}", 50 + n),
                (false, true) => "Il-76TD charter".to_string(),
                (false, false) => "B777F scheduled allocation".to_string(),
            },
            departs_on: sim.day(*day),
            arrives_on: sim.day(day + if sea { 10 } else { 1 }),
            payload_kg: match (sea, charter) {
                (true, _) => 26_700.0 * 4.0,
                (false, true) => 42_000.0,
                (false, false) => 18_000.0,
            },
            volume_m3: match (sea, charter) {
                (true, _) => 67.7 * 4.0,
                (false, true) => 180.0,
                (false, false) => 95.0,
            },
            cold_volume_m3: if sea {
                0.0
            } else if charter {
                12.0
            } else {
                20.0
            },
            dangerous_goods_allowed: sea || !charter,
            fixed_cost_usd: match (sea, charter) {
                (true, _) => 38_000.0,
                (false, true) => 165_000.0,
                (false, false) => 0.0,
            },
            cost_per_kg_usd: match (sea, charter) {
                (true, _) => 0.04,
                (false, true) => 0.0,
                (false, false) => 2.6,
            },
        };
        sim.staff(DISPATCH, 27);
        sim.ops.add_departure(&d, sim.at(27))?;
    }
    // And next week's requests, for stock the hub holds now.
    let mut held: Vec<(String, i64)> = Vec::new();
    for row in sim.ops.stock(None, None)? {
        if row.state != crate::StockState::Available {
            continue;
        }
        match held.iter_mut().find(|(item, _)| *item == row.item) {
            Some(entry) => entry.1 += row.quantity,
            None => held.push((row.item.clone(), row.quantity)),
        }
    }
    held.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (n, (dest, day, _, _)) in next_week.iter().enumerate() {
        for k in 0..2 {
            let Some((item, quantity)) = held.get((n * 2 + k) % held.len().max(1)) else {
                break;
            };
            let request = NewRequest {
                code: format!("RQ-{dest}-N{}", k + 1),
                destination: dest.to_string(),
                item: item.clone(),
                quantity: (quantity / 3).max(1),
                priority: 1 + ((n + k) % 4) as i64,
                needed_by: sim.day(day + 6),
                grace_days: 5,
                requested_by: format!("{dest} coordination cell"),
            };
            sim.staff(REQUESTS, 27);
            sim.ops.add_request(&request, sim.at(27))?;
        }
    }
    let report = report(&mut sim);
    sim.ops.store().set_clock(None);
    report
}

fn manifest_lines(ops: &mut Ops, leg: &str) -> Result<Vec<(i64, i64, String)>, OpsError> {
    let leg = leg.to_string();
    Ok(ops.store().read(|conn| {
        conn.query(
            "SELECT m.line_no, m.quantity, l.item FROM manifest_lines m JOIN lots l ON l.id = m.lot_id WHERE m.leg_code = $1 ORDER BY m.line_no",
            &[(&leg).into()],
        )?
        .iter()
        .map(|r| Ok((r[0].int()?, r[1].int()?, r[2].text()?)))
        .collect::<Result<Vec<_>, reliefhub_store::StoreError>>()
    })?)
}

fn lot_node(ops: &mut Ops, lot: i64) -> Result<Option<String>, OpsError> {
    Ok(ops
        .stock(None, None)?
        .into_iter()
        .find(|r| r.lot_id == lot && r.state == crate::StockState::Quarantine)
        .map(|r| r.node))
}

fn first_line_quantity(ops: &mut Ops, departure: &str) -> Result<i64, OpsError> {
    let d = departure.to_string();
    Ok(ops.store().read(|conn| {
        conn.query(
            "SELECT quantity FROM loading_lines WHERE departure_code = $1 AND line_no = 1",
            &[(&d).into()],
        )?
        .first()
        .map_or(Ok(0), |r| r[0].int())
    })?)
}

/// What is still to be sent for each open request of a destination.
fn open_needs(ops: &mut Ops, destination: &str) -> Result<Vec<(String, String, i64)>, OpsError> {
    Ok(ops
        .requests()?
        .into_iter()
        .filter(|r| {
            r.request.destination == destination
                && !matches!(r.status, RequestStatus::Met | RequestStatus::Cancelled)
        })
        .map(|r| {
            (
                r.request.code.clone(),
                r.request.item.clone(),
                r.request.quantity - r.delivered - r.loaded,
            )
        })
        .filter(|(_, _, q)| *q > 0)
        .collect())
}

fn load_departure(sim: &mut Sim<'_>, code: &str, day: i64) -> Result<(), OpsError> {
    let d = sim.ops.departure(code)?;
    let dep = d.departure.clone();
    let country = dep.destination[..2].to_string();
    let mut weight = 0.0;
    let mut volume = 0.0;
    let mut cold = 0.0;
    let mut lines: Vec<LoadLine> = Vec::new();
    let mut used: HashMap<i64, i64> = HashMap::new();
    let mut needs = open_needs(sim.ops, &dep.destination)?;
    needs.sort_by_key(|(code, _, _)| code.clone());
    let requests: HashMap<String, i64> = sim
        .ops
        .requests()?
        .into_iter()
        .map(|r| (r.request.code.clone(), r.request.priority))
        .collect();
    needs.sort_by_key(|(code, _, _)| requests.get(code).copied().unwrap_or(5));
    for (request, item_code, mut remaining) in needs {
        let item = sim.items[&item_code].clone();
        if item.un_number.is_some() && !dep.dangerous_goods_allowed {
            continue;
        }
        for row in sim.ops.stock(Some(&dep.node), Some(&item_code))? {
            if remaining == 0 {
                break;
            }
            if row.state != crate::StockState::Available
                || (!row.earmark.is_empty() && !row.earmark.contains(&country))
            {
                continue;
            }
            if let Some(expiry) = row.expiry {
                if (expiry - dep.arrives_on).whole_days() < i64::from(item.min_shelf_life_days) {
                    continue;
                }
            }
            let free = row.quantity - used.get(&row.lot_id).copied().unwrap_or(0);
            let by_weight = ((dep.payload_kg - weight) / item.unit_weight_kg).floor() as i64;
            let by_volume = ((dep.volume_m3 - volume) / item.unit_volume_m3).floor() as i64;
            let by_cold = if item.cold_chain {
                ((dep.cold_volume_m3 - cold) / item.unit_volume_m3).floor() as i64
            } else {
                i64::MAX
            };
            let quantity = remaining
                .min(free)
                .min(by_weight)
                .min(by_volume)
                .min(by_cold);
            if quantity <= 0 {
                continue;
            }
            weight += item.unit_weight_kg * quantity as f64;
            volume += item.unit_volume_m3 * quantity as f64;
            if item.cold_chain {
                cold += item.unit_volume_m3 * quantity as f64;
            }
            *used.entry(row.lot_id).or_insert(0) += quantity;
            remaining -= quantity;
            lines.push(LoadLine {
                lot_id: row.lot_id,
                quantity,
                request: Some(request.clone()),
            });
        }
    }
    if !lines.is_empty() {
        sim.staff(DISPATCH, day);
        sim.ops.load(code, &lines, None, sim.at(day))?;
    }
    Ok(())
}

fn transfer_for_flights(
    sim: &mut Sim<'_>,
    day: i64,
    departures: &[(String, i64)],
) -> Result<(), OpsError> {
    let mut wanted: BTreeMap<String, i64> = BTreeMap::new();
    for (code, dep_day) in departures {
        if *dep_day <= day + 1 || *dep_day > day + 5 {
            continue;
        }
        let d = sim.ops.departure(code)?;
        if d.departure.node != AIR {
            continue;
        }
        for (_, item, remaining) in open_needs(sim.ops, &d.departure.destination)? {
            *wanted.entry(item).or_insert(0) += remaining;
        }
    }
    let mut lines = Vec::new();
    let mut kg = 0.0;
    for (item, need) in wanted {
        let at_air: i64 = sim
            .ops
            .stock(Some(AIR), Some(&item))?
            .iter()
            .filter(|r| r.state == crate::StockState::Available)
            .map(|r| r.quantity)
            .sum();
        let mut missing = need - at_air;
        for row in sim.ops.stock(Some(PORT), Some(&item))? {
            if missing <= 0 || kg > 60_000.0 {
                break;
            }
            if row.state != crate::StockState::Available {
                continue;
            }
            let quantity = missing.min(row.quantity);
            kg += sim.kg(&item, quantity);
            missing -= quantity;
            lines.push((row.lot_id, quantity));
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    sim.transfer_count += 1;
    let code = format!("TR-{:03}", sim.transfer_count);
    let transfer = NewTransfer {
        code: code.clone(),
        from_node: PORT.to_string(),
        to_node: AIR.to_string(),
        vehicle: format!(
            "{} trucks, Tartus-Latakia highway",
            (kg / 20_000.0).ceil() as i64
        ),
        dispatched_on: sim.day(day),
        lines,
    };
    sim.staff(FLEET, day);
    sim.ops.dispatch_transfer(&transfer, None, sim.at(day))?;
    sim.staff(FLEET, day + 1);
    sim.ops.arrive_transfer(&code, None, sim.at(day + 1))?;
    let week = sim.week(day);
    week.transfers += 1;
    week.transferred_kg += kg;
    Ok(())
}

fn report(sim: &mut Sim<'_>) -> Result<String, OpsError> {
    let mut out = String::new();
    let end = sim.day(27);
    let _ = writeln!(
        out,
        "RELIEF HUB TARTUS / HMEIMIM — OPERATIONS REPORT, {} to {}",
        format_date(sim.start),
        format_date(end)
    );
    let _ = writeln!(out, "Port of Tartus (SYTTS) and Hmeimim/Latakia airfield (LTK/OSLK). Quantities in catalogue units; weights in tonnes.");
    for (n, week) in sim.weeks.iter().enumerate() {
        let from = sim.day(n as i64 * 7);
        let to = sim.day(n as i64 * 7 + 6);
        let _ = writeln!(
            out,
            "\n== Week {} ({} to {}) ==",
            n + 1,
            format_date(from),
            format_date(to)
        );
        let _ = writeln!(
            out,
            "Inbound: {} legs arrived ({} by sea at Tartus, {} by air at Hmeimim), {:.1} t received over {} manifest lines.",
            week.legs_sea + week.legs_air,
            week.legs_sea,
            week.legs_air,
            week.received_kg / 1000.0,
            week.lines_received
        );
        let _ = writeln!(
            out,
            "Discrepancies at receipt: {} short-landed units on {} lines; {} damaged units; {} over-landed units.",
            week.short_units, week.short_lines, week.damaged_units, week.over_units
        );
        let _ = writeln!(
            out,
            "Hub transfers Tartus -> Hmeimim: {} convoys, {:.1} t.",
            week.transfers,
            week.transferred_kg / 1000.0
        );
        let _ = writeln!(out, "Departures ({}):", week.departures.len());
        for d in &week.departures {
            let _ = writeln!(out, "  - {d}");
        }
        let _ = writeln!(out, "Deliveries confirmed ({}):", week.deliveries.len());
        for d in &week.deliveries {
            let _ = writeln!(out, "  - {d}");
        }
        if !week.events.is_empty() {
            let _ = writeln!(out, "Other events:");
            for e in &week.events {
                let _ = writeln!(out, "  - {e}");
            }
        }
    }

    let _ = writeln!(out, "\n== Position at close of {} ==", format_date(end));
    let stock = sim.ops.stock(None, None)?;
    for node in [PORT, AIR] {
        let rows: Vec<_> = stock.iter().filter(|r| r.node == node).collect();
        let available: f64 = rows
            .iter()
            .filter(|r| r.state == crate::StockState::Available)
            .map(|r| r.weight_kg)
            .sum();
        let quarantine: f64 = rows
            .iter()
            .filter(|r| r.state == crate::StockState::Quarantine)
            .map(|r| r.weight_kg)
            .sum();
        let volume: f64 = rows.iter().map(|r| r.volume_m3).sum();
        let _ = writeln!(
            out,
            "Stock at {node}: {:.1} t available, {:.1} t in quarantine, {volume:.0} m3, {} lots.",
            available / 1000.0 + 0.0,
            quarantine / 1000.0 + 0.0,
            rows.len()
        );
    }
    let legs = sim.ops.legs()?;
    let pending: Vec<_> = legs.iter().filter(|l| l.in_transit_quantity > 0).collect();
    let _ = writeln!(
        out,
        "Inbound pipeline: {} legs still inbound, {} units.",
        pending.len(),
        pending.iter().map(|l| l.in_transit_quantity).sum::<i64>()
    );
    let alerts = sim.ops.expiry_alerts(end, 90)?;
    let expired = alerts.iter().filter(|a| a.days_left < 0).count();
    let _ = writeln!(
        out,
        "Expiry alerts: {} lots expire within 90 days ({} already expired).",
        alerts.len(),
        expired
    );
    for a in alerts.iter().take(3) {
        let _ = writeln!(
            out,
            "  - lot {} {} at {}: {} units, {} days left",
            a.row.lot_id, a.row.item, a.row.node, a.row.quantity, a.days_left
        );
    }

    let _ = writeln!(out, "\nRequest fulfilment by destination:");
    let requests = sim.ops.requests()?;
    // Per destination: seven request counts and quantities (see the table below).
    type Counts = (i64, i64, i64, i64, i64, i64, i64);
    let mut by_destination: BTreeMap<String, Counts> = BTreeMap::new();
    for r in &requests {
        let e = by_destination
            .entry(r.request.destination.clone())
            .or_default();
        e.0 += 1;
        match r.status {
            RequestStatus::Met => e.1 += 1,
            RequestStatus::PartlyMet => e.2 += 1,
            RequestStatus::Planned => e.3 += 1,
            RequestStatus::Open => e.4 += 1,
            RequestStatus::Cancelled => {}
        }
        e.5 += r.request.quantity;
        e.6 += r.delivered;
    }
    let _ = writeln!(
        out,
        "  {:<6} {:>8} {:>4} {:>7} {:>7} {:>5} {:>10} {:>10} {:>6}",
        "dest", "requests", "met", "partly", "planned", "open", "requested", "delivered", "filled"
    );
    for (dest, (n, met, partly, planned, open, requested, delivered)) in &by_destination {
        let _ = writeln!(
            out,
            "  {dest:<6} {n:>8} {met:>4} {partly:>7} {planned:>7} {open:>5} {requested:>10} {delivered:>10} {:>5.0}%",
            100.0 * *delivered as f64 / (*requested).max(1) as f64
        );
    }

    let _ = writeln!(out, "\nDonor summary (units):");
    let _ = writeln!(
        out,
        "  {:<12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "donor", "pledged", "received", "in stock", "shipped", "delivered", "outstand.", "lost"
    );
    let mut losses: BTreeMap<String, i64> = BTreeMap::new();
    for donor in DONORS.iter() {
        let s = sim.ops.donor_statement(donor.code)?;
        let t = &s.totals;
        for (reason, q) in &t.lost {
            *losses.entry(reason.clone()).or_insert(0) += q;
        }
        let _ = writeln!(
            out,
            "  {:<12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
            donor.code,
            t.pledged,
            t.received,
            t.in_stock + t.quarantined + t.between_nodes,
            t.shipped,
            t.delivered,
            t.pledge_outstanding,
            t.lost_total()
        );
    }
    let _ = writeln!(
        out,
        "Losses by reason: {}.",
        losses
            .iter()
            .map(|(r, q)| format!("{r} {q}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let departures = sim.ops.departures()?;
    let freight: f64 = departures
        .iter()
        .filter(|d| d.status != DepartureStatus::Open)
        .map(|d| d.departure.fixed_cost_usd + d.departure.cost_per_kg_usd * d.loaded_kg)
        .sum();
    let _ = writeln!(
        out,
        "Outbound: {} departures flown or sailed, {} still open; freight committed {:.0} USD.",
        departures.iter().filter(|d| d.status.has_left()).count(),
        departures
            .iter()
            .filter(|d| d.status == DepartureStatus::Open)
            .count(),
        freight
    );
    Ok(out)
}
