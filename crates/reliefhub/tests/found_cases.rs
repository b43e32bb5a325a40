//! Every case of "what was found" when the hub was tried as a new user
//! would, through the real binary on SQLite and PostgreSQL: each is refused
//! with exit 2 and a message that names the field and the rule (its code),
//! and the database is unchanged (journal, balances and documents).
//! Then the small things: a closed pipe, a mistyped `--db`.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use common::{bin, ok, run_in};
use reliefhub_store::Store;
use reliefhub_testkit::both_backends;

const AIR: &str = "HMEIMIM-AIR";
const PORT: &str = "TARTUS-PORT";

/// What must not change when an operation is refused: the journal (its
/// length and last hash), every balance, and every document table.
fn fingerprint(db: &str) -> Vec<String> {
    let mut store = Store::open(db).unwrap();
    store
        .read(|conn| {
            let mut out = Vec::new();
            for sql in [
                "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM journal",
                "SELECT hash FROM journal ORDER BY seq DESC LIMIT 1",
                "SELECT account, lot_id, quantity FROM balances WHERE quantity <> 0 ORDER BY account, lot_id",
                "SELECT COUNT(*) FROM lots",
                "SELECT code, cancelled_on FROM pledges ORDER BY code",
                "SELECT COUNT(*) FROM pledge_lines",
                "SELECT code, mode, origin, node FROM inbound_legs ORDER BY code",
                "SELECT leg_code, line_count FROM manifests ORDER BY leg_code",
                "SELECT COUNT(*) FROM manifest_lines",
                "SELECT COUNT(*) FROM receipts",
                "SELECT COUNT(*) FROM receipt_lines",
                "SELECT COUNT(*) FROM stock_events",
                "SELECT code, arrived_on FROM hub_transfers ORDER BY code",
                "SELECT code, quantity, cancelled_on FROM requests ORDER BY code",
                "SELECT code, status, departed_on FROM departures ORDER BY code",
                "SELECT COUNT(*) FROM loading_lines",
                "SELECT COUNT(*) FROM deliveries",
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

const COUNTRIES: &str = "ISO3166-1-Alpha-2,ISO3166-1-Alpha-3,ISO3166-1-numeric,official_name_en,official_name_fr,official_name_ar,official_name_ru\n\
SD,SDN,729,Sudan,Soudan,السودان,Судан\n\
TD,TCD,148,Chad,Tchad,تشاد,Чад\n";

const AIRPORTS: &str =
    "ident,type,name,iso_country,municipality,iata_code,latitude_deg,longitude_deg\n\
OTHH,large_airport,Hamad,QA,Doha,DOH,25.27,51.61\n\
UUWW,large_airport,Vnukovo,RU,Moscow,VKO,55.59,37.26\n";

/// A hub in March 2025, built through the binary: the reference data
/// imported, a pledge, a received flight (lots 2 and 3), a sailing with its
/// manifest, a transfer on the road, a request, a departure that left and
/// one still open, and two legs awaiting their manifests.
fn seed(d: &Path, db: &str) {
    ok(d, db, &["init"]);
    std::fs::write(d.join("countries.csv"), COUNTRIES).unwrap();
    std::fs::write(d.join("airports.csv"), AIRPORTS).unwrap();
    ok(d, db, &["refdata", "countries", "countries.csv"]);
    ok(d, db, &["refdata", "airports", "airports.csv"]);
    ok(
        d,
        db,
        &[
            "pledge",
            "add",
            "--code",
            "PL-1",
            "--donor",
            "QA-QFFD",
            "--line",
            "RUTF-150=1000@SD;TD",
            "--on",
            "2025-03-01",
        ],
    );
    let leg = |code: &str, mode: &str, origin: &str, node: &str| {
        ok(
            d,
            db,
            &[
                "leg",
                "add",
                "--code",
                code,
                "--mode",
                mode,
                "--origin",
                origin,
                "--node",
                node,
                "--carrier",
                "Carrier",
                "--vehicle",
                "V1",
                "--expected-arrival",
                "2025-03-05",
                "--donor",
                "QA-QFFD",
            ],
        );
    };
    leg("QR-1", "air", "DOH", AIR);
    std::fs::write(
        d.join("qr1.csv"),
        "item,quantity,batch,expiry\nRUTF-150,600,B1,2026-06-30\nTENT-FAMILY-16M2,100,T1,\n",
    )
    .unwrap();
    ok(
        d,
        db,
        &[
            "manifest",
            "import",
            "QR-1",
            "qr1.csv",
            "--on",
            "2025-03-03",
        ],
    );
    ok(
        d,
        db,
        &[
            "receive",
            "QR-1",
            "--rest-as-manifested",
            "--on",
            "2025-03-05",
        ],
    );
    leg("MV-2", "sea", "RUNVS", PORT);
    std::fs::write(
        d.join("mv2.csv"),
        "item,quantity,batch,expiry\nHEB-10KG,100,H1,2026-01-31\n",
    )
    .unwrap();
    ok(
        d,
        db,
        &[
            "manifest",
            "import",
            "MV-2",
            "mv2.csv",
            "--on",
            "2025-03-03",
        ],
    );
    ok(
        d,
        db,
        &[
            "transfer",
            "dispatch",
            "--code",
            "TR-1",
            "--from",
            AIR,
            "--to",
            PORT,
            "--lot",
            "3=10",
            "--on",
            "2025-03-06",
        ],
    );
    ok(
        d,
        db,
        &[
            "request",
            "add",
            "--code",
            "RQ-1",
            "--destination",
            "SDPZU",
            "--item",
            "RUTF-150",
            "--quantity",
            "200",
            "--priority",
            "1",
            "--needed-by",
            "2025-04-01",
        ],
    );
    departure(
        d,
        db,
        "AIR-1",
        AIR,
        "SDPZU",
        "air",
        "2025-03-10",
        "2025-03-11",
    );
    ok(
        d,
        db,
        &[
            "departure",
            "load",
            "AIR-1",
            "--lot",
            "2=100@RQ-1",
            "--on",
            "2025-03-09",
        ],
    );
    ok(
        d,
        db,
        &["departure", "depart", "AIR-1", "--on", "2025-03-10"],
    );
    departure(
        d,
        db,
        "AIR-2",
        AIR,
        "TDNDJ",
        "air",
        "2025-03-25",
        "2025-03-26",
    );
    leg("QR-4", "air", "DOH", AIR);
    leg("QR-5", "air", "DOH", AIR);
}

#[allow(clippy::too_many_arguments)]
fn departure(
    d: &Path,
    db: &str,
    code: &str,
    node: &str,
    destination: &str,
    mode: &str,
    departs: &str,
    arrives: &str,
) -> common::Run {
    run_in(
        d,
        db,
        &[
            "departure",
            "add",
            "--code",
            code,
            "--node",
            node,
            "--destination",
            destination,
            "--mode",
            mode,
            "--vehicle",
            "V",
            "--departs",
            departs,
            "--arrives",
            arrives,
            "--payload-kg",
            "20000",
            "--volume-m3",
            "100",
        ],
    )
}

/// One case of "what was found": the command, the field and rule code its
/// message must name, and any other text it must (or must not) hold.
struct Case {
    found: &'static str,
    args: Vec<&'static str>,
    field: &'static str,
    code: &'static str,
    says: &'static [&'static str],
}

fn case(
    found: &'static str,
    args: &[&'static str],
    field: &'static str,
    code: &'static str,
) -> Case {
    Case {
        found,
        args: args.to_vec(),
        field,
        code,
        says: &[],
    }
}

fn departure_args(
    code: &'static str,
    node: &'static str,
    destination: &'static str,
    mode: &'static str,
    departs: &'static str,
    arrives: &'static str,
) -> Vec<&'static str> {
    vec![
        "departure",
        "add",
        "--code",
        code,
        "--node",
        node,
        "--destination",
        destination,
        "--mode",
        mode,
        "--vehicle",
        "V",
        "--departs",
        departs,
        "--arrives",
        arrives,
        "--payload-kg",
        "20000",
        "--volume-m3",
        "100",
    ]
}

fn leg_args(
    code: &'static str,
    mode: &'static str,
    origin: &'static str,
    node: &'static str,
) -> Vec<&'static str> {
    vec![
        "leg",
        "add",
        "--code",
        code,
        "--mode",
        mode,
        "--origin",
        origin,
        "--node",
        node,
        "--carrier",
        "Carrier",
        "--vehicle",
        "V9",
        "--expected-arrival",
        "2025-03-05",
    ]
}

fn cases() -> Vec<Case> {
    vec![
        case(
            "stock count --lot 47=200 --lot 47=100 left neither count",
            &[
                "stock", "count", "--node", AIR, "--lot", "2=200", "--lot", "2=100", "--reason",
                "count",
            ],
            "lot_id",
            "lot_named_twice",
        ),
        case(
            "a delivery dated before the departure left",
            &[
                "departure",
                "deliver",
                "AIR-1",
                "--received-by",
                "SD-HAC",
                "--line",
                "1=100",
                "--on",
                "2025-03-09",
            ],
            "received_on",
            "delivery_before_departure",
        ),
        case(
            "a transfer that arrives before it was dispatched",
            &["transfer", "arrive", "TR-1", "--on", "2025-03-05"],
            "arrived_on",
            "arrival_before_dispatch",
        ),
        case(
            "an operation dated in the future (--on 2099-01-01)",
            &[
                "stock",
                "quarantine",
                "--node",
                AIR,
                "--lot",
                "2",
                "--quantity",
                "5",
                "--reason",
                "wet",
                "--on",
                "2099-01-01",
            ],
            "on",
            "date_in_future",
        ),
        case(
            "a pledge dated 9999-12-31",
            &[
                "pledge",
                "add",
                "--code",
                "PL-9999",
                "--donor",
                "QA-QFFD",
                "--line",
                "RUTF-150=10",
                "--on",
                "9999-12-31",
            ],
            "pledged_on",
            "date_in_future",
        ),
        Case {
            args: departure_args("AIR-9", AIR, "SDPZU", "air", "2025-03-25", "2025-03-24"),
            ..case(
                "a departure that arrives before it departs",
                &[],
                "arrives",
                "arrival_before_departure",
            )
        },
        case(
            "a receipt dated 1999",
            &[
                "receive",
                "MV-2",
                "--rest-as-manifested",
                "--on",
                "1999-03-15",
            ],
            "received_on",
            "date_before_hub_start",
        ),
        Case {
            args: leg_args("MV-9", "sea", "RUNVS", AIR),
            ..case("a sea leg into the airport", &[], "mode", "mode_not_served")
        },
        Case {
            args: departure_args("AIR-8", PORT, "SDPZU", "air", "2025-03-25", "2025-03-26"),
            ..case(
                "an air departure from the port",
                &[],
                "mode",
                "mode_not_served",
            )
        },
        Case {
            args: departure_args("SEA-9", PORT, "TDNDJ", "sea", "2025-03-25", "2025-03-30"),
            ..case(
                "a sailing to N'Djamena (landlocked)",
                &[],
                "mode",
                "no_seaport",
            )
        },
        case(
            "an earmark @XX, after refdata countries",
            &[
                "pledge",
                "add",
                "--code",
                "PL-XX",
                "--donor",
                "QA-QFFD",
                "--line",
                "RUTF-150=10@XX",
                "--on",
                "2025-03-19",
            ],
            "earmark",
            "earmark_not_a_country",
        ),
        Case {
            says: &["`ZZ`", "`QQ`"],
            ..case(
                "an earmark @ZZ;QQ, after refdata countries",
                &[
                    "pledge",
                    "add",
                    "--code",
                    "PL-ZZ",
                    "--donor",
                    "QA-QFFD",
                    "--line",
                    "RUTF-150=10@ZZ;QQ",
                    "--on",
                    "2025-03-19",
                ],
                "earmark",
                "earmark_not_a_country",
            )
        },
        Case {
            args: leg_args("QR-9", "air", "ZZZ", AIR),
            ..case("a leg origin --origin ZZZ", &[], "origin", "origin_unknown")
        },
        Case {
            says: &["line 2"],
            ..case(
                "a perishable item with no expiry date",
                &[
                    "manifest",
                    "import",
                    "QR-4",
                    "no-expiry.csv",
                    "--on",
                    "2025-03-19",
                ],
                "expiry",
                "expiry_required",
            )
        },
        Case {
            says: &["line 2"],
            ..case(
                "a ragged CSV row (RUTF-150,60 under a header with an expiry column)",
                &[
                    "manifest",
                    "import",
                    "QR-5",
                    "ragged.csv",
                    "--on",
                    "2025-03-19",
                ],
                "(row)",
                "ragged_row",
            )
        },
        Case {
            says: &["line 3"],
            ..case(
                "an error in an LF manifest is on the line of the file",
                &["manifest", "import", "QR-5", "lf.csv", "--on", "2025-03-19"],
                "item",
                "unknown_item",
            )
        },
        Case {
            says: &["line 3"],
            ..case(
                "an error in a CRLF manifest is on the same line",
                &[
                    "manifest",
                    "import",
                    "QR-5",
                    "crlf.csv",
                    "--on",
                    "2025-03-19",
                ],
                "item",
                "unknown_item",
            )
        },
        case(
            "request add --quantity 2^63-1",
            &[
                "request",
                "add",
                "--code",
                "RQ-9",
                "--destination",
                "SDPZU",
                "--item",
                "RUTF-150",
                "--quantity",
                "9223372036854775807",
                "--priority",
                "1",
                "--needed-by",
                "2025-04-01",
            ],
            "quantity",
            "quantity_too_large",
        ),
        Case {
            says: &["in quarantine at HMEIMIM-AIR"],
            ..case(
                "more than there is, said of stock, lots and nodes, not accounts",
                &[
                    "stock",
                    "write-off",
                    "--node",
                    AIR,
                    "--lot",
                    "3",
                    "--quantity",
                    "1000",
                    "--loss",
                    "damaged",
                    "--from-quarantine",
                    "--reason",
                    "wet",
                ],
                "lot",
                "not_enough_stock",
            )
        },
        case(
            "--quantity -10",
            &[
                "stock",
                "quarantine",
                "--node",
                AIR,
                "--lot",
                "2",
                "--quantity",
                "-10",
                "--reason",
                "wet",
            ],
            "quantity",
            "quantity_not_positive",
        ),
        Case {
            says: &["PL-1"],
            ..case(
                "a duplicate code names the document",
                &[
                    "pledge",
                    "add",
                    "--code",
                    "PL-1",
                    "--donor",
                    "QA-QFFD",
                    "--line",
                    "RUTF-150=5",
                    "--on",
                    "2025-03-19",
                    "--key",
                    "pl-1-again",
                ],
                "code",
                "duplicate_code",
            )
        },
        Case {
            says: &["`PL-1` was already recorded"],
            ..case(
                "a duplicate code under its own key names the document, not the key",
                &[
                    "pledge",
                    "add",
                    "--code",
                    "PL-1",
                    "--donor",
                    "QA-QFFD",
                    "--line",
                    "RUTF-150=5",
                    "--on",
                    "2025-03-19",
                ],
                "code",
                "duplicate_code",
            )
        },
        Case {
            says: &["leg `QR-1` already has a manifest"],
            ..case(
                "another manifest for a leg that has one",
                &[
                    "manifest",
                    "import",
                    "QR-1",
                    "good.csv",
                    "--on",
                    "2025-03-19",
                ],
                "leg",
                "already_done",
            )
        },
        Case {
            says: &["already departed on 2025-03-10"],
            ..case(
                "unloading a departure that left says it left",
                &["departure", "unload", "AIR-1", "--reason", "mistake"],
                "code",
                "already_done",
            )
        },
    ]
}

fn files(d: &Path) {
    let write = |name: &str, text: &str| std::fs::write(d.join(name), text).unwrap();
    write(
        "good.csv",
        "item,quantity,batch,expiry\nRUTF-150,60,B9,2026-01-01\n",
    );
    write("no-expiry.csv", "item,quantity,batch\nRUTF-150,60,B9\n");
    write("ragged.csv", "item,quantity,expiry\nRUTF-150,60\n");
    write(
        "lf.csv",
        "item,quantity,expiry\nRUTF-150,60,2026-01-01\nNO-SUCH-ITEM,5,2026-01-01\n",
    );
    write(
        "crlf.csv",
        "item,quantity,expiry\r\nRUTF-150,60,2026-01-01\r\nNO-SUCH-ITEM,5,2026-01-01\r\n",
    );
}

/// The refused run of one case: exit 2, field and code named, no panic,
/// no word of the ledger's accounts, and the database as it was. Returns
/// what is wrong, if anything.
fn check_refused(d: &Path, db: &str, c: &Case) -> Vec<String> {
    let before = fingerprint(db);
    let r = run_in(d, db, &c.args);
    let after = fingerprint(db);
    let what = format!("{} (reliefhub {:?})", c.found, c.args);
    let mut wrong = Vec::new();
    if r.code != 2 {
        wrong.push(format!(
            "{what}: not refused with exit 2 but {}:\nstdout: {}\nstderr: {}",
            r.code, r.stdout, r.stderr
        ));
    }
    if !r.stderr.contains(&format!("field `{}`", c.field)) {
        wrong.push(format!(
            "{what}: the message does not name the field `{}`: {}",
            c.field, r.stderr
        ));
    }
    if !r.stderr.contains(&format!("[{}]", c.code)) {
        wrong.push(format!(
            "{what}: the message does not name the rule `{}`: {}",
            c.code, r.stderr
        ));
    }
    for text in c.says {
        if !r.stderr.contains(text) {
            wrong.push(format!("{what}: no `{text}` in: {}", r.stderr));
        }
    }
    for word in [
        "account",
        "at:",
        "quarantine:",
        "panicked",
        "unexpected argument",
    ] {
        if r.stderr.contains(word) {
            wrong.push(format!("{what}: the message says `{word}`: {}", r.stderr));
        }
    }
    if before != after {
        wrong.push(format!("{what}: the refusal changed the database"));
    }
    wrong
}

fn what_was_found_is_refused(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    seed(d, db);
    files(d);
    let cases = cases();
    let mut wrong: Vec<String> = cases.iter().flat_map(|c| check_refused(d, db, c)).collect();
    // A second delivery under a new key says it was already delivered.
    ok(
        d,
        db,
        &[
            "departure",
            "deliver",
            "AIR-1",
            "--received-by",
            "SD-HAC",
            "--line",
            "1=100",
            "--on",
            "2025-03-12",
        ],
    );
    let again = Case {
        says: &["already delivered"],
        ..case(
            "a second delivery with a new key",
            &[
                "departure",
                "deliver",
                "AIR-1",
                "--received-by",
                "SD-HAC",
                "--line",
                "1=100",
                "--on",
                "2025-03-12",
                "--key",
                "again",
            ],
            "code",
            "already_done",
        )
    };
    wrong.extend(check_refused(d, db, &again));
    // The same for a transfer's arrival.
    ok(d, db, &["transfer", "arrive", "TR-1", "--on", "2025-03-07"]);
    let again = Case {
        says: &["already arrived"],
        ..case(
            "a second arrival with a new key",
            &[
                "transfer",
                "arrive",
                "TR-1",
                "--on",
                "2025-03-07",
                "--key",
                "again",
            ],
            "code",
            "already_done",
        )
    };
    wrong.extend(check_refused(d, db, &again));
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
    // The valid forms of the refused cases are accepted: the refusals were
    // the rules', not the setup's.
    ok(
        d,
        db,
        &[
            "manifest",
            "import",
            "QR-4",
            "good.csv",
            "--on",
            "2025-03-19",
        ],
    );
    common::verify(d, db);
}

both_backends!(what_was_found_is_refused);

/// A report piped into a reader that has gone (`| head`) ends the program
/// quietly: no panic, no status 101.
#[test]
fn a_closed_pipe_is_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = format!("sqlite:{}", d.join("hub.db").display());
    ok(d, &db, &["demo", "--no-serve"]);
    for args in [
        &["stock", "list"][..],
        &["stock", "list", "--csv"],
        &["report", "stock", "--json"],
        &["report", "donor", "QA-QFFD", "--csv"],
        &["request", "list"],
    ] {
        let mut child = bin()
            .current_dir(d)
            .arg("--db")
            .arg(&db)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes before the program writes.
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_ne!(status.code(), Some(101), "{args:?} panicked: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

/// A mistyped `--db` path creates nothing; only `init` creates a database.
#[test]
fn a_mistyped_db_creates_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for args in [
        &["stock", "list"][..],
        &["report", "stock"],
        &["verify"],
        &["request", "list", "--json"],
    ] {
        let r = run_in(d, "sqlite:typo.db", args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("init"), "{args:?}: {}", r.stderr);
        let left: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "{args:?} left files behind: {left:?}");
    }
    ok(d, "sqlite:typo.db", &["init"]);
    assert!(d.join("typo.db").exists());
}
