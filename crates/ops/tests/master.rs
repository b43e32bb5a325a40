//! Master data through the operations layer, on SQLite and PostgreSQL:
//! adding and editing items, organisations and destinations (one row per
//! rule, refused with its code and nothing written, or accepted), a new item
//! going the whole chain from pledge to proof of delivery, and an edit that
//! leaves a past departure's history as it was.

#![allow(clippy::unwrap_used)]

use reliefhub_core::reference::builtin;
use reliefhub_core::Code;
use reliefhub_formats::manifest::ManifestFormat;
use reliefhub_ops::{
    Change, DeliveryLine, DestinationFields, ItemFields, LoadLine, MemorySource, Mode, Moment,
    NewDelivery, NewDeparture, NewLeg, NewPledge, NewReceipt, Ops, OpsError, OrganisationFields,
    PledgeLine, Service,
};
use reliefhub_store::Store;
use reliefhub_testkit::both_backends;
use time::macros::date;
use time::Date;

fn open(url: &str) -> Ops {
    let mut store = Store::open(url).unwrap();
    store.migrate(0).unwrap();
    store.load_reference_data(&builtin()).unwrap();
    Ops::from_store(store)
}

fn on(day: Date) -> Moment {
    Moment::on(day)
}

/// Every master-data row and the size of the operation log.
fn master_state(ops: &mut Ops) -> Vec<String> {
    ops.store()
        .read(|conn| {
            let mut out = Vec::new();
            for sql in [
                "SELECT * FROM items ORDER BY code",
                "SELECT * FROM organisations ORDER BY code",
                "SELECT * FROM destinations ORDER BY locode",
                "SELECT COUNT(*) FROM operations",
            ] {
                for row in conn.query(sql, &[])? {
                    out.push(format!("{row:?}"));
                }
            }
            Ok(out)
        })
        .unwrap()
}

fn water_bladder() -> ItemFields {
    ItemFields {
        name: Some("Water bladder 5 m3".into()),
        name_fr: Some("Réservoir souple 5 m3".into()),
        name_ar: Some("خزان مياه مرن 5 م3".into()),
        name_ru: Some("Мягкий резервуар для воды 5 м3".into()),
        category: Some("wash".into()),
        unit: Some("piece".into()),
        unit_weight_kg: Some(45.0),
        unit_volume_m3: Some(0.15),
        pack_size: Some(1),
        gtins: Some(vec!["4006381333931".into()]),
        value_usd_per_unit: Some(900.0),
        ..ItemFields::default()
    }
}

type Case = fn(&mut Ops) -> Result<Change, OpsError>;

fn item_with(change: impl FnOnce(&mut ItemFields)) -> ItemFields {
    let mut fields = water_bladder();
    change(&mut fields);
    fields
}

fn put_item(ops: &mut Ops, code: &str, fields: ItemFields, edit: bool) -> Result<Change, OpsError> {
    ops.put_item(code, &fields, edit).map(|(_, c)| c)
}

/// (what, the case, the code it must be refused with, or None: accepted
/// with this change).
fn cases() -> Vec<(&'static str, Case, Result<Change, Code>)> {
    vec![
        (
            "a new item",
            |ops| put_item(ops, "WATER-BLADDER", water_bladder(), false),
            Ok(Change::Added),
        ),
        (
            "the same item again",
            |ops| put_item(ops, "RUTF-150", ItemFields::default(), true),
            Ok(Change::Unchanged),
        ),
        (
            "an edit of one field",
            |ops| {
                put_item(
                    ops,
                    "RUTF-150",
                    ItemFields {
                        unit_weight_kg: Some(15.2),
                        ..ItemFields::default()
                    },
                    true,
                )
            },
            Ok(Change::Edited),
        ),
        (
            "an existing code",
            |ops| put_item(ops, "RUTF-150", water_bladder(), false),
            Err(Code::DuplicateCode),
        ),
        (
            "an edit of an unknown code",
            |ops| put_item(ops, "NO-SUCH-ITEM", water_bladder(), true),
            Err(Code::UnknownItem),
        ),
        (
            "a bad code",
            |ops| put_item(ops, "BAD CODE!", water_bladder(), false),
            Err(Code::BadCode),
        ),
        (
            "no name",
            |ops| put_item(ops, "X-1", item_with(|f| f.name = None), false),
            Err(Code::Required),
        ),
        (
            "a negative kg",
            |ops| {
                put_item(
                    ops,
                    "X-1",
                    item_with(|f| f.unit_weight_kg = Some(-1.0)),
                    false,
                )
            },
            Err(Code::ValueNotPositive),
        ),
        (
            "a zero m3",
            |ops| {
                put_item(
                    ops,
                    "X-1",
                    item_with(|f| f.unit_volume_m3 = Some(0.0)),
                    false,
                )
            },
            Err(Code::ValueNotPositive),
        ),
        (
            "a zero pack size",
            |ops| put_item(ops, "X-1", item_with(|f| f.pack_size = Some(0)), false),
            Err(Code::ValueNotPositive),
        ),
        (
            "a GTIN with a wrong check digit",
            |ops| {
                put_item(
                    ops,
                    "X-1",
                    item_with(|f| f.gtins = Some(vec!["4006381333932".into()])),
                    false,
                )
            },
            Err(Code::BadGtin),
        ),
        (
            "a GTIN of another item",
            |ops| {
                put_item(ops, "WATER-BLADDER", water_bladder(), false)?;
                put_item(ops, "X-1", water_bladder(), false)
            },
            Err(Code::DuplicateGtin),
        ),
        (
            "a UN number without its digits",
            |ops| {
                put_item(
                    ops,
                    "X-1",
                    item_with(|f| f.un_number = Some("UN34".into())),
                    false,
                )
            },
            Err(Code::BadUnNumber),
        ),
        (
            "a UN class without a UN number",
            |ops| {
                put_item(
                    ops,
                    "X-1",
                    item_with(|f| f.un_class = Some("9".into())),
                    false,
                )
            },
            Err(Code::BadUnClass),
        ),
        (
            "a dangerous good",
            |ops| {
                put_item(
                    ops,
                    "X-1",
                    item_with(|f| {
                        f.un_number = Some("UN3481".into());
                        f.un_class = Some("9".into());
                        f.gtins = None;
                    }),
                    false,
                )
            },
            Ok(Change::Added),
        ),
        (
            "an unknown category",
            |ops| {
                put_item(
                    ops,
                    "X-1",
                    item_with(|f| f.category = Some("toys".into())),
                    false,
                )
            },
            Err(Code::UnknownCategory),
        ),
        (
            "a shelf life without expiry",
            |ops| {
                put_item(
                    ops,
                    "RUTF-150",
                    ItemFields {
                        needs_expiry: Some(false),
                        ..ItemFields::default()
                    },
                    true,
                )
            },
            Err(Code::ShelfLifeNeedsExpiry),
        ),
        (
            "a negative value",
            |ops| {
                put_item(
                    ops,
                    "X-1",
                    item_with(|f| f.value_usd_per_unit = Some(-5.0)),
                    false,
                )
            },
            Err(Code::NegativeValue),
        ),
        (
            "a new donor",
            |ops| {
                ops.put_organisation("JP-JICA", &org("donor", "JP"), false)
                    .map(|(_, c)| c)
            },
            Ok(Change::Added),
        ),
        (
            "a donor of no country",
            |ops| {
                ops.put_organisation("XX-AID", &org("donor", "XX"), false)
                    .map(|(_, c)| c)
            },
            Err(Code::CountryUnknown),
        ),
        (
            "an organisation of no kind",
            |ops| {
                ops.put_organisation("XX-AID", &org("charity", "JP"), false)
                    .map(|(_, c)| c)
            },
            Err(Code::NotAnOrganisationKind),
        ),
        (
            "an edit of an unknown organisation",
            |ops| {
                ops.put_organisation("NO-ORG", &org("donor", "JP"), true)
                    .map(|(_, c)| c)
            },
            Err(Code::UnknownOrganisation),
        ),
        (
            "a renamed recipient",
            |ops| {
                let fields = OrganisationFields {
                    name_fr: Some("Commission d'aide humanitaire, Soudan".into()),
                    ..OrganisationFields::default()
                };
                ops.put_organisation("SD-HAC", &fields, true)
                    .map(|(_, c)| c)
            },
            Ok(Change::Edited),
        ),
        (
            "a new destination",
            |ops| {
                ops.put_destination("SDKSL", &kassala(), false)
                    .map(|(_, c)| c)
            },
            Ok(Change::Added),
        ),
        (
            "a bad UN/LOCODE",
            |ops| {
                ops.put_destination("SD-KS", &kassala(), false)
                    .map(|(_, c)| c)
            },
            Err(Code::BadLocode),
        ),
        (
            "a UN/LOCODE of no country",
            |ops| {
                ops.put_destination("XXKSL", &kassala(), false)
                    .map(|(_, c)| c)
            },
            Err(Code::CountryUnknown),
        ),
        (
            "a country other than the UN/LOCODE's",
            |ops| {
                let fields = DestinationFields {
                    country: Some("TD".into()),
                    ..kassala()
                };
                ops.put_destination("SDKSL", &fields, false).map(|(_, c)| c)
            },
            Err(Code::CountryMismatch),
        ),
        (
            "a bad IATA code",
            |ops| {
                let fields = DestinationFields {
                    iata: Some("KS1".into()),
                    ..kassala()
                };
                ops.put_destination("SDKSL", &fields, false).map(|(_, c)| c)
            },
            Err(Code::BadAirportCode),
        ),
        (
            "a latitude off the globe",
            |ops| {
                let fields = DestinationFields {
                    latitude_deg: Some(95.0),
                    ..kassala()
                };
                ops.put_destination("SDKSL", &fields, false).map(|(_, c)| c)
            },
            Err(Code::OutOfRange),
        ),
        (
            "an existing destination with other details",
            |ops| {
                ops.put_destination("SDPZU", &kassala(), false)
                    .map(|(_, c)| c)
            },
            Err(Code::DuplicateCode),
        ),
        (
            "an edit of an unknown destination",
            |ops| {
                ops.put_destination("SDKSL", &kassala(), true)
                    .map(|(_, c)| c)
            },
            Err(Code::UnknownDestination),
        ),
        (
            "a destination gains a seaport",
            |ops| {
                let fields = DestinationFields {
                    seaport: Some(true),
                    ..DestinationFields::default()
                };
                ops.put_destination("TDNDJ", &fields, true).map(|(_, c)| c)
            },
            Ok(Change::Edited),
        ),
    ]
}

fn org(kind: &str, country: &str) -> OrganisationFields {
    OrganisationFields {
        name: Some("Japan International Cooperation Agency".into()),
        name_fr: Some("Agence japonaise de coopération internationale".into()),
        kind: Some(kind.into()),
        country: Some(country.into()),
        ..OrganisationFields::default()
    }
}

fn kassala() -> DestinationFields {
    DestinationFields {
        name: Some("Kassala".into()),
        name_ar: Some("كسلا".into()),
        iata: Some("KSL".into()),
        icao: Some("HSKA".into()),
        latitude_deg: Some(15.387),
        longitude_deg: Some(36.329),
        ..DestinationFields::default()
    }
}

fn master_data_is_added_and_edited_by_its_rules(url: &str) {
    for (what, case, expected) in cases() {
        let mut ops = open(&format!("{url}"));
        let before = master_state(&mut ops);
        let result = case(&mut ops);
        match (&expected, result) {
            (Ok(change), Ok(got)) => assert_eq!(*change, got, "{what}"),
            (Err(code), Err(OpsError::Refused(problems))) => {
                assert!(
                    problems.iter().any(|p| p.code == *code),
                    "{what}: expected {code}, got {problems:?}"
                );
                // A case that first added something compares from there.
                if what != "a GTIN of another item" {
                    assert_eq!(
                        master_state(&mut ops),
                        before,
                        "{what}: something was written"
                    );
                }
            }
            (expected, got) => panic!("{what}: expected {expected:?}, got {got:?}"),
        }
        ops.store().verify_log().unwrap().unwrap();
        // Each case on a fresh database: drop the data for the next.
        drop(ops);
        reset(url);
    }
}

/// Empties the database for the next case.
fn reset(url: &str) {
    let mut store = Store::open(url).unwrap();
    match store.backend() {
        reliefhub_store::Backend::Sqlite => {
            drop(store);
            let path = url.trim_start_matches("sqlite:");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
        reliefhub_store::Backend::Postgres => {
            store
                .conn()
                .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
                .unwrap();
        }
    }
}

const PORT: &str = "TARTUS-PORT";

/// Pledge, leg, manifest, receipt, departure, load and depart of `quantity`
/// units of `item` to Kassala; returns the lot.
fn ship(ops: &mut Ops, item: &str, n: u32, quantity: i64) -> i64 {
    let day = |d: u8| on(Date::from_calendar_date(2025, time::Month::March, d).unwrap());
    ops.pledge(
        &NewPledge {
            code: format!("PL-{n}"),
            donor: "JP-JICA".into(),
            pledged_on: day(1).date,
            note: String::new(),
            lines: vec![PledgeLine {
                item: item.into(),
                quantity,
                earmark: vec!["SD".into()],
            }],
        },
        None,
        day(1),
    )
    .unwrap();
    ops.add_leg(
        &NewLeg {
            code: format!("MV-{n}"),
            mode: Mode::Sea,
            origin: "JPYOK".into(),
            node: PORT.into(),
            carrier: "Carrier".into(),
            vehicle_ref: "V1".into(),
            expected_arrival: day(5).date,
            donor: Some("JP-JICA".into()),
        },
        day(2),
    )
    .unwrap();
    let csv = format!("item,quantity,batch\n{item},{quantity},B{n}\n");
    ops.import_manifest(
        &format!("MV-{n}"),
        &MemorySource {
            name: "m.csv".into(),
            bytes: csv.into_bytes(),
        },
        ManifestFormat::Csv,
        None,
        day(3),
        &mut |_, _| {},
    )
    .unwrap();
    ops.receive(
        &NewReceipt {
            leg: format!("MV-{n}"),
            received_on: day(5).date,
            received_by: "Clerk".into(),
            lines: Vec::new(),
            rest_as_manifested: true,
        },
        None,
        day(5),
    )
    .unwrap();
    let lot = ops
        .stock(Some(PORT), None)
        .unwrap()
        .into_iter()
        .find(|r| r.batch == format!("B{n}"))
        .unwrap()
        .lot_id;
    ops.add_departure(
        &NewDeparture {
            code: format!("SEA-{n}"),
            node: PORT.into(),
            destination: "SDKSL".into(),
            mode: Mode::Sea,
            service: Service::Scheduled,
            vehicle: "V".into(),
            departs_on: day(10).date,
            arrives_on: day(14).date,
            payload_kg: 50_000.0,
            volume_m3: 500.0,
            cold_volume_m3: 0.0,
            dangerous_goods_allowed: false,
            fixed_cost_usd: 0.0,
            cost_per_kg_usd: 1.0,
        },
        day(6),
    )
    .unwrap();
    ops.load(
        &format!("SEA-{n}"),
        &[LoadLine {
            lot_id: lot,
            quantity,
            request: None,
        }],
        None,
        day(8),
    )
    .unwrap();
    ops.depart(&format!("SEA-{n}"), day(10)).unwrap();
    lot
}

/// A new item, donor and destination added through the operations layer go
/// the whole chain, to a proof of delivery; an edit of the item's kg per
/// unit changes what is loaded next, not the departure that left.
fn a_new_item_goes_the_whole_chain_and_an_edit_keeps_history(url: &str) {
    let mut ops = open(url);
    ops.set_actor("admin-ana");
    ops.put_item("WATER-BLADDER", &water_bladder(), false)
        .unwrap();
    ops.put_organisation("JP-JICA", &org("donor", "JP"), false)
        .unwrap();
    let kassala = DestinationFields {
        seaport: Some(true),
        ..kassala()
    };
    ops.put_destination("SDKSL", &kassala, false).unwrap();

    ship(&mut ops, "WATER-BLADDER", 1, 40);
    assert!((ops.departure("SEA-1").unwrap().loaded_kg - 40.0 * 45.0).abs() < 1e-9);
    ops.deliver(
        &NewDelivery {
            departure: "SEA-1".into(),
            received_by: "SD-HAC Kassala".into(),
            received_on: date!(2025 - 03 - 14),
            note: String::new(),
            lines: vec![DeliveryLine {
                line_no: 1,
                received: 40,
            }],
        },
        None,
        on(date!(2025 - 03 - 14)),
    )
    .unwrap();
    let pod = ops.proof_of_delivery("SEA-1").unwrap();
    assert_eq!(pod.lines.iter().map(|l| l.received).sum::<i64>(), 40);

    ops.set_actor("admin-bo");
    ops.put_item(
        "WATER-BLADDER",
        &ItemFields {
            unit_weight_kg: Some(60.0),
            ..ItemFields::default()
        },
        true,
    )
    .unwrap();
    assert!(
        (ops.departure("SEA-1").unwrap().loaded_kg - 40.0 * 45.0).abs() < 1e-9,
        "the departure that left keeps the kg it was loaded with"
    );
    ship(&mut ops, "WATER-BLADDER", 2, 10);
    assert!((ops.departure("SEA-2").unwrap().loaded_kg - 10.0 * 60.0).abs() < 1e-9);

    let history = ops.master_history("item", "WATER-BLADDER").unwrap();
    let seen: Vec<_> = history
        .iter()
        .map(|c| (c.kind.as_str(), c.actor.as_str()))
        .collect();
    assert_eq!(seen, [("item.add", "admin-ana"), ("item.edit", "admin-bo")]);
    ops.store().verify(|_, _| {}).unwrap().unwrap();
    ops.store().verify_log().unwrap().unwrap();
}

both_backends!(
    master_data_is_added_and_edited_by_its_rules,
    a_new_item_goes_the_whole_chain_and_an_edit_keeps_history
);
