//! The operations layer's rules, one row per rule: the refused case (the
//! rule's code comes back, in the hub's words, and the database is
//! unchanged: journal, balances and documents) and an accepted case, on
//! SQLite and PostgreSQL. Each case of "what was found" in the review of the
//! hub is a row here.

#![allow(clippy::unwrap_used)]

use reliefhub_core::reference::builtin;
use reliefhub_core::{Airport, Code};
use reliefhub_formats::manifest::ManifestFormat;
use reliefhub_ops::{
    DamagedTo, DeliveryLine, LoadLine, MemorySource, Mode, Moment, NewDelivery, NewDeparture,
    NewLeg, NewPledge, NewReceipt, NewRequest, NewTransfer, Ops, OpsError, PledgeLine, ReceiptLine,
    Service,
};
use reliefhub_store::Store;
use reliefhub_testkit::both_backends;
use time::macros::date;
use time::Date;

const AIR: &str = "HMEIMIM-AIR";
const PORT: &str = "TARTUS-PORT";
const DONOR: &str = "QA-QFFD";
const TODAY: Date = date!(2025 - 03 - 20);

fn on(day: Date) -> Moment {
    Moment::on(day)
}

fn today() -> Moment {
    on(TODAY)
}

/// The lots the seed made, by batch.
struct World {
    rutf: i64,
    rutf_short: i64,
    tent: i64,
}

fn open(url: &str) -> Ops {
    let mut store = Store::open(url).unwrap();
    store.migrate(0).unwrap();
    store.load_reference_data(&builtin()).unwrap();
    Ops::from_store(store)
}

fn leg(code: &str, mode: Mode, origin: &str, node: &str) -> NewLeg {
    NewLeg {
        code: code.into(),
        mode,
        origin: origin.into(),
        node: node.into(),
        carrier: "Carrier".into(),
        vehicle_ref: "V1".into(),
        expected_arrival: date!(2025 - 03 - 05),
        donor: Some(DONOR.into()),
    }
}

fn manifest(ops: &mut Ops, leg: &str, csv: &str, at: Moment) -> Result<(), OpsError> {
    let source = MemorySource {
        name: format!("{leg}.csv"),
        bytes: csv.as_bytes().to_vec(),
    };
    ops.import_manifest(leg, &source, ManifestFormat::Csv, None, at, &mut |_, _| {})
        .map(|_| ())
}

fn departure(code: &str, node: &str, destination: &str, mode: Mode, departs: Date) -> NewDeparture {
    NewDeparture {
        code: code.into(),
        node: node.into(),
        destination: destination.into(),
        mode,
        service: Service::Scheduled,
        vehicle: "V".into(),
        departs_on: departs,
        arrives_on: departs + time::Duration::days(1),
        payload_kg: 20_000.0,
        volume_m3: 100.0,
        cold_volume_m3: 0.0,
        dangerous_goods_allowed: false,
        fixed_cost_usd: 0.0,
        cost_per_kg_usd: 1.0,
    }
}

fn pledge(code: &str, pledged_on: Date, earmark: &[&str]) -> NewPledge {
    NewPledge {
        code: code.into(),
        donor: DONOR.into(),
        pledged_on,
        note: String::new(),
        lines: vec![PledgeLine {
            item: "RUTF-150".into(),
            quantity: 1000,
            earmark: earmark.iter().map(|c| c.to_string()).collect(),
        }],
    }
}

fn request(code: &str, quantity: i64) -> NewRequest {
    NewRequest {
        code: code.into(),
        destination: "SDPZU".into(),
        item: "RUTF-150".into(),
        quantity,
        priority: 1,
        needed_by: date!(2025 - 04 - 01),
        grace_days: 0,
        requested_by: "SD-HAC".into(),
    }
}

fn delivery(on: Date) -> NewDelivery {
    NewDelivery {
        departure: "AIR-1".into(),
        received_by: "SD-HAC Port Sudan".into(),
        received_on: on,
        note: String::new(),
        lines: vec![DeliveryLine {
            line_no: 1,
            received: 100,
        }],
    }
}

/// A hub on 2025-03-20: a pledge, two received legs, a transfer on the
/// road, a request, a departure that left and one open.
fn seed(ops: &mut Ops) -> World {
    ops.pledge(
        &pledge("PL-1", date!(2025 - 03 - 01), &["SD"]),
        None,
        on(date!(2025 - 03 - 01)),
    )
    .unwrap();
    ops.add_leg(
        &leg("QR-1", Mode::Air, "DOH", AIR),
        on(date!(2025 - 03 - 02)),
    )
    .unwrap();
    manifest(
        ops,
        "QR-1",
        "item,quantity,batch,expiry\nRUTF-150,600,B1,2026-06-30\nTENT-FAMILY-16M2,100,T1,\nRUTF-150,50,B2,2025-04-01\n",
        on(date!(2025 - 03 - 03)),
    )
    .unwrap();
    let receipt = |leg: &str, day: Date| NewReceipt {
        leg: leg.into(),
        received_on: day,
        received_by: "Clerk".into(),
        lines: Vec::new(),
        rest_as_manifested: true,
    };
    ops.receive(
        &receipt("QR-1", date!(2025 - 03 - 05)),
        None,
        on(date!(2025 - 03 - 05)),
    )
    .unwrap();
    ops.add_leg(
        &leg("MV-2", Mode::Sea, "RUNVS", PORT),
        on(date!(2025 - 03 - 02)),
    )
    .unwrap();
    manifest(
        ops,
        "MV-2",
        "item,quantity,batch,expiry\nHEB-10KG,100,H1,2026-01-31\n",
        on(date!(2025 - 03 - 03)),
    )
    .unwrap();
    let stock = ops.stock(Some(AIR), None).unwrap();
    let lot = |batch: &str| stock.iter().find(|r| r.batch == batch).unwrap().lot_id;
    let world = World {
        rutf: lot("B1"),
        rutf_short: lot("B2"),
        tent: lot("T1"),
    };
    ops.dispatch_transfer(
        &NewTransfer {
            code: "TR-1".into(),
            from_node: AIR.into(),
            to_node: PORT.into(),
            vehicle: "Truck".into(),
            dispatched_on: date!(2025 - 03 - 06),
            lines: vec![(world.tent, 10)],
        },
        None,
        on(date!(2025 - 03 - 06)),
    )
    .unwrap();
    ops.add_request(&request("RQ-1", 200), on(date!(2025 - 03 - 06)))
        .unwrap();
    ops.add_departure(
        &departure("AIR-1", AIR, "SDPZU", Mode::Air, date!(2025 - 03 - 10)),
        on(date!(2025 - 03 - 07)),
    )
    .unwrap();
    ops.load(
        "AIR-1",
        &[LoadLine {
            lot_id: world.rutf,
            quantity: 100,
            request: Some("RQ-1".into()),
        }],
        None,
        on(date!(2025 - 03 - 09)),
    )
    .unwrap();
    ops.depart("AIR-1", on(date!(2025 - 03 - 10))).unwrap();
    ops.add_departure(
        &departure("AIR-2", AIR, "TDNDJ", Mode::Air, date!(2025 - 03 - 25)),
        on(date!(2025 - 03 - 10)),
    )
    .unwrap();
    for code in ["QR-4", "QR-5"] {
        ops.add_leg(&leg(code, Mode::Air, "DOH", AIR), on(date!(2025 - 03 - 10)))
            .unwrap();
    }
    ops.store()
        .replace_airports(&[airport("OTHH", "DOH", "QA"), airport("UUWW", "VKO", "RU")])
        .unwrap();
    world
}

fn airport(ident: &str, iata: &str, country: &str) -> Airport {
    Airport {
        ident: ident.into(),
        kind: "large_airport".into(),
        name: ident.into(),
        country: country.into(),
        municipality: String::new(),
        iata: Some(iata.into()),
        latitude_deg: 0.0,
        longitude_deg: 0.0,
    }
}

/// What must not change when an operation is refused: the journal (its
/// length and last hash), every balance, and every document table.
fn fingerprint(ops: &mut Ops) -> Vec<String> {
    ops.store()
        .read(|conn| {
            let mut out = Vec::new();
            for sql in [
                "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM journal",
                "SELECT hash FROM journal ORDER BY seq DESC LIMIT 1",
                "SELECT account, lot_id, quantity FROM balances WHERE quantity <> 0 ORDER BY account, lot_id",
                "SELECT COUNT(*) FROM lots",
                "SELECT code, cancelled_on FROM pledges ORDER BY code",
                "SELECT code FROM inbound_legs ORDER BY code",
                "SELECT leg_code, line_count FROM manifests ORDER BY leg_code",
                "SELECT COUNT(*) FROM receipt_lines",
                "SELECT COUNT(*) FROM stock_events",
                "SELECT code, arrived_on FROM hub_transfers ORDER BY code",
                "SELECT code, quantity, cancelled_on FROM requests ORDER BY code",
                "SELECT code, status, departed_on FROM departures ORDER BY code",
                "SELECT COUNT(*) FROM loading_lines",
                "SELECT COUNT(*) FROM delivery_lines",
                "SELECT COUNT(*) FROM corrections",
                "SELECT COUNT(*) FROM op_requests",
            ] {
                for row in conn.query(sql, &[])? {
                    out.push(format!("{sql}: {row:?}"));
                }
            }
            Ok(out)
        })
        .unwrap()
}

type Case = fn(&mut Ops, &World) -> Result<(), OpsError>;

/// One rule: its code, an operation it refuses and one it accepts.
struct Row {
    code: Code,
    refused: Case,
    accepted: Case,
}

fn rows() -> Vec<Row> {
    vec![
        // `stock count --lot 47=200 --lot 47=100` left 70 units.
        Row {
            code: Code::LotNamedTwice,
            refused: |ops, w| {
                ops.count(AIR, &[(w.rutf, 200), (w.rutf, 100)], "count", None, today())
                    .map(drop)
            },
            accepted: |ops, w| {
                ops.count(AIR, &[(w.tent, 89)], "count", None, today())
                    .map(drop)
            },
        },
        // A delivery dated before the departure left.
        Row {
            code: Code::DeliveryBeforeDeparture,
            refused: |ops, _| {
                ops.deliver(&delivery(date!(2025 - 03 - 09)), Some("d-early"), today())
                    .map(drop)
            },
            accepted: |ops, _| {
                ops.deliver(&delivery(date!(2025 - 03 - 12)), None, today())
                    .map(drop)
            },
        },
        // A transfer that arrives before it was dispatched.
        Row {
            code: Code::ArrivalBeforeDispatch,
            refused: |ops, _| {
                ops.arrive_transfer("TR-1", Some("a-early"), on(date!(2025 - 03 - 05)))
                    .map(drop)
            },
            accepted: |ops, _| {
                ops.arrive_transfer("TR-1", None, on(date!(2025 - 03 - 07)))
                    .map(drop)
            },
        },
        // An operation dated in the future (`--on 2099-01-01`).
        Row {
            code: Code::DateInFuture,
            refused: |ops, w| {
                let at = Moment {
                    unix_ms: today().unix_ms,
                    date: date!(2099 - 01 - 01),
                };
                ops.quarantine(AIR, w.rutf, 5, "wet", None, at).map(drop)
            },
            accepted: |ops, w| {
                ops.quarantine(AIR, w.rutf, 5, "wet", None, today())
                    .map(drop)
            },
        },
        // A pledge dated 9999-12-31.
        Row {
            code: Code::DateInFuture,
            refused: |ops, _| {
                ops.pledge(
                    &pledge("PL-9999", date!(9999 - 12 - 31), &[]),
                    None,
                    today(),
                )
                .map(drop)
            },
            accepted: |ops, _| {
                ops.pledge(&pledge("PL-2", date!(2025 - 03 - 19), &[]), None, today())
                    .map(drop)
            },
        },
        // A receipt dated 1999.
        Row {
            code: Code::DateBeforeHubStart,
            refused: |ops, _| {
                let receipt = NewReceipt {
                    leg: "MV-2".into(),
                    received_on: date!(1999 - 03 - 15),
                    received_by: "Clerk".into(),
                    lines: Vec::new(),
                    rest_as_manifested: true,
                };
                ops.receive(&receipt, None, today()).map(drop)
            },
            accepted: |ops, _| {
                let receipt = NewReceipt {
                    leg: "MV-2".into(),
                    received_on: date!(2025 - 03 - 15),
                    received_by: "Clerk".into(),
                    lines: vec![ReceiptLine {
                        // The manifest's line in its file (the header is line 1).
                        line_no: 2,
                        counted: 100,
                        damaged: 0,
                        damaged_to: DamagedTo::Quarantine,
                        note: String::new(),
                    }],
                    rest_as_manifested: false,
                };
                ops.receive(&receipt, None, today()).map(drop)
            },
        },
        // A departure that arrives before it departs.
        Row {
            code: Code::ArrivalBeforeDeparture,
            refused: |ops, _| {
                let mut d = departure("AIR-9", AIR, "SDPZU", Mode::Air, date!(2025 - 03 - 25));
                d.arrives_on = date!(2025 - 03 - 24);
                ops.add_departure(&d, today()).map(drop)
            },
            accepted: |ops, _| {
                ops.add_departure(
                    &departure("AIR-3", AIR, "SDPZU", Mode::Air, date!(2025 - 03 - 25)),
                    today(),
                )
                .map(drop)
            },
        },
        // A sea leg into the airport.
        Row {
            code: Code::ModeNotServed,
            refused: |ops, _| {
                ops.add_leg(&leg("MV-9", Mode::Sea, "RUNVS", AIR), today())
                    .map(drop)
            },
            accepted: |ops, _| {
                ops.add_leg(&leg("MV-3", Mode::Sea, "RUNVS", PORT), today())
                    .map(drop)
            },
        },
        // An air departure from the port.
        Row {
            code: Code::ModeNotServed,
            refused: |ops, _| {
                ops.add_departure(
                    &departure("AIR-8", PORT, "SDPZU", Mode::Air, date!(2025 - 03 - 25)),
                    today(),
                )
                .map(drop)
            },
            accepted: |ops, _| {
                ops.add_departure(
                    &departure("SEA-1", PORT, "SDPZU", Mode::Sea, date!(2025 - 03 - 25)),
                    today(),
                )
                .map(drop)
            },
        },
        // A sailing to N'Djamena (landlocked).
        Row {
            code: Code::NoSeaport,
            refused: |ops, _| {
                ops.add_departure(
                    &departure("SEA-9", PORT, "TDNDJ", Mode::Sea, date!(2025 - 03 - 25)),
                    today(),
                )
                .map(drop)
            },
            accepted: |ops, _| {
                ops.add_departure(
                    &departure("SEA-2", PORT, "DJJIB", Mode::Sea, date!(2025 - 03 - 25)),
                    today(),
                )
                .map(drop)
            },
        },
        // Earmarks `@XX` and `@ZZ;QQ`.
        Row {
            code: Code::EarmarkNotACountry,
            refused: |ops, _| {
                ops.pledge(&pledge("PL-XX", TODAY, &["XX"]), None, today())
                    .map(drop)
            },
            accepted: |ops, _| {
                ops.pledge(&pledge("PL-SD", TODAY, &["SD", "TD"]), None, today())
                    .map(drop)
            },
        },
        Row {
            code: Code::EarmarkNotACountry,
            refused: |ops, _| {
                ops.pledge(&pledge("PL-ZZ", TODAY, &["ZZ", "QQ"]), None, today())
                    .map(drop)
            },
            accepted: |ops, _| {
                ops.pledge(&pledge("PL-ET", TODAY, &["ET"]), None, today())
                    .map(drop)
            },
        },
        // Leg origins (`--origin ZZZ`, a UN/LOCODE of no country).
        Row {
            code: Code::OriginUnknown,
            refused: |ops, _| {
                ops.add_leg(&leg("QR-9", Mode::Air, "ZZZ", AIR), today())
                    .map(drop)
            },
            accepted: |ops, _| {
                ops.add_leg(&leg("QR-3", Mode::Air, "VKO", AIR), today())
                    .map(drop)
            },
        },
        Row {
            code: Code::OriginUnknown,
            refused: |ops, _| {
                ops.add_leg(&leg("MV-8", Mode::Sea, "XXABC", PORT), today())
                    .map(drop)
            },
            accepted: |ops, _| {
                ops.add_leg(&leg("MV-4", Mode::Sea, "AEJEA", PORT), today())
                    .map(drop)
            },
        },
        // A perishable item with no expiry date.
        Row {
            code: Code::ExpiryRequired,
            refused: |ops, _| {
                manifest(
                    ops,
                    "QR-4",
                    "item,quantity,batch\nRUTF-150,60,B9\n",
                    today(),
                )
            },
            accepted: |ops, _| {
                manifest(
                    ops,
                    "QR-4",
                    "item,quantity,batch,expiry\nRUTF-150,60,B9,2026-01-01\n",
                    today(),
                )
            },
        },
        // A ragged CSV row.
        Row {
            code: Code::RaggedRow,
            refused: |ops, _| manifest(ops, "QR-5", "item,quantity,expiry\nRUTF-150,60\n", today()),
            accepted: |ops, _| {
                manifest(
                    ops,
                    "QR-5",
                    "item,quantity,expiry\nRUTF-150,60,2026-01-01\n",
                    today(),
                )
            },
        },
        // A request of 2^63-1 units.
        Row {
            code: Code::QuantityTooLarge,
            refused: |ops, _| {
                ops.add_request(&request("RQ-9", i64::MAX), today())
                    .map(drop)
            },
            accepted: |ops, _| ops.add_request(&request("RQ-2", 500), today()).map(drop),
        },
        // `--quantity -10`.
        Row {
            code: Code::QuantityNotPositive,
            refused: |ops, w| {
                ops.quarantine(AIR, w.rutf, -10, "wet", None, today())
                    .map(drop)
            },
            accepted: |ops, w| ops.release(AIR, w.rutf, 5, "dry", None, today()).map(drop),
        },
        // More than there is, said of stock and nodes, not accounts.
        Row {
            code: Code::NotEnoughStock,
            refused: |ops, w| {
                ops.write_off(
                    AIR,
                    w.tent,
                    1_000,
                    true,
                    reliefhub_core::LossReason::Damaged,
                    "wet",
                    None,
                    today(),
                )
                .map(drop)
            },
            accepted: |ops, w| {
                ops.write_off(
                    AIR,
                    w.tent,
                    1,
                    false,
                    reliefhub_core::LossReason::Damaged,
                    "torn",
                    None,
                    today(),
                )
                .map(drop)
            },
        },
        // A lot named twice in one loading list.
        Row {
            code: Code::LotNamedTwice,
            refused: |ops, w| {
                let line = LoadLine {
                    lot_id: w.rutf,
                    quantity: 5,
                    request: None,
                };
                ops.load("AIR-2", &[line.clone(), line], None, today())
                    .map(drop)
            },
            accepted: |ops, w| {
                let line = LoadLine {
                    lot_id: w.rutf,
                    quantity: 10,
                    request: None,
                };
                ops.load("AIR-2", &[line], None, today()).map(drop)
            },
        },
        // A lot whose shelf life is too short on arrival.
        Row {
            code: Code::ShelfLifeTooShort,
            refused: |ops, w| {
                let line = LoadLine {
                    lot_id: w.rutf_short,
                    quantity: 5,
                    request: None,
                };
                ops.load("AIR-2", &[line], Some("short"), today()).map(drop)
            },
            accepted: |ops, w| {
                let line = LoadLine {
                    lot_id: w.tent,
                    quantity: 5,
                    request: None,
                };
                ops.load("AIR-2", &[line], None, today()).map(drop)
            },
        },
        // Unloading a departure that left says that it left.
        Row {
            code: Code::AlreadyDone,
            refused: |ops, _| ops.unload("AIR-1", "mistake", None, today()).map(drop),
            accepted: |_, _| Ok(()),
        },
        // A duplicate code names the document, not the key.
        Row {
            code: Code::DuplicateCode,
            refused: |ops, _| {
                let mut other = pledge("PL-1", TODAY, &[]);
                other.lines[0].quantity = 5;
                ops.pledge(&other, Some("pl-1-again"), today()).map(drop)
            },
            accepted: |ops, _| {
                ops.pledge(&pledge("PL-3", TODAY, &[]), None, today())
                    .map(drop)
            },
        },
    ]
}

fn rules_refuse_and_accept(url: &str) {
    let mut ops = open(url);
    let world = seed(&mut ops);
    let rows = rows();
    let mut checked = 0;
    for (index, row) in rows.iter().enumerate() {
        let before = fingerprint(&mut ops);
        let result = (row.refused)(&mut ops, &world);
        let after = fingerprint(&mut ops);
        match result {
            Err(OpsError::Refused(problems)) => {
                let problem_codes: Vec<_> = problems.iter().map(|p| p.code).collect();
                assert!(
                    problem_codes.contains(&row.code),
                    "row {index}: expected {}, got {problems:?}",
                    row.code
                );
                for p in &problems {
                    let text = p.to_string();
                    assert!(
                        !text.contains("account")
                            && !text.contains("at:")
                            && !text.contains("quarantine:"),
                        "row {index}: speaks of accounts: {text}"
                    );
                    assert!(text.contains(p.code.as_str()), "{text}");
                }
                checked += 1;
            }
            Err(OpsError::Input(input)) => {
                assert!(
                    input.problems.iter().any(|p| p.code == row.code),
                    "row {index}: expected {}, got {input}",
                    row.code
                );
                checked += 1;
            }
            other => panic!("row {index} ({}): not refused: {other:?}", row.code),
        }
        assert_eq!(
            before, after,
            "row {index}: the refusal changed the database"
        );
    }
    assert_eq!(checked, rows.len());
    // The accepted cases, in order, after every refusal.
    for (index, row) in rows.iter().enumerate() {
        if let Err(e) = (row.accepted)(&mut ops, &world) {
            panic!(
                "row {index} ({}): the accepted case was refused: {e}",
                row.code
            );
        }
    }
    // A repeated operation under a new key says what already happened.
    match ops.deliver(&delivery(date!(2025 - 03 - 12)), Some("again"), today()) {
        Err(OpsError::Refused(problems)) => {
            assert_eq!(problems[0].code, Code::AlreadyDone, "{problems:?}");
            assert!(
                problems[0].rule.contains("already delivered"),
                "{problems:?}"
            );
        }
        other => panic!("a second delivery was not refused: {other:?}"),
    }
    match ops.arrive_transfer("TR-1", Some("again"), today()) {
        Err(OpsError::Refused(problems)) => {
            assert_eq!(problems[0].code, Code::AlreadyDone, "{problems:?}");
            assert!(problems[0].rule.contains("already arrived"), "{problems:?}");
        }
        other => panic!("a second arrival was not refused: {other:?}"),
    }
    ops.store().verify(|_, _| {}).unwrap().unwrap();
}

/// Every code the rules return is documented in ARCHITECTURE.md.
#[test]
fn every_rule_code_is_documented() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../ARCHITECTURE.md"
    ))
    .unwrap();
    let missing: Vec<_> = Code::ALL
        .iter()
        .filter(|c| !text.contains(&format!("`{}`", c.as_str())))
        .collect();
    assert!(missing.is_empty(), "not in ARCHITECTURE.md: {missing:?}");
}

both_backends!(rules_refuse_and_accept);
