//! Master data through the real binary, on SQLite and PostgreSQL: a new
//! item, donor and destination added by the CLI go the whole chain from
//! pledge to proof of delivery; a bad add exits 2 and writes nothing; an
//! edit of the item's kg leaves the proof of delivery as it was, and `item
//! show` lists both changes.

#![allow(clippy::unwrap_used)]

mod common;

use common::{json, ok, refused};
use reliefhub_testkit::both_backends;

fn args(line: &str) -> Vec<&str> {
    line.split(' ').collect()
}

fn new_item_goes_the_whole_chain(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, db, &["init"]);
    ok(d, db, &args("item add WATER-BLADDER --name Water-bladder-5m3 --category wash --unit piece --kg 45 --m3 0.15 --value-usd 900 --gtin 4006381333931"));
    let before = ok(d, db, &args("item list --csv"));
    refused(d, db, &args("item add BAD-ITEM --name x --category toys --unit u --kg -1 --m3 0 --gtin 4006381333932"));
    assert_eq!(
        ok(d, db, &args("item list --csv")),
        before,
        "a refused add writes nothing"
    );
    ok(
        d,
        db,
        &args("org add JP-JICA --name JICA --kind donor --country JP"),
    );
    ok(d, db, &args("destination add SDKSL --name Kassala --lat 15.387 --lon 36.329 --iata KSL --seaport true"));

    ok(
        d,
        db,
        &args("pledge add --code PL-1 --donor JP-JICA --line WATER-BLADDER=40@SD --on 2025-03-01"),
    );
    ok(d, db, &args("leg add --code MV-1 --mode sea --origin JPYOK --node TARTUS-PORT --carrier C --vehicle V1 --expected-arrival 2025-03-05 --donor JP-JICA"));
    std::fs::write(
        d.join("m.csv"),
        "item,quantity,batch\nWATER-BLADDER,40,B1\n",
    )
    .unwrap();
    let manifest = d.join("m.csv").display().to_string();
    ok(
        d,
        db,
        &[
            "manifest",
            "import",
            "MV-1",
            &manifest,
            "--on",
            "2025-03-03",
        ],
    );
    ok(
        d,
        db,
        &args("receive MV-1 --rest-as-manifested --on 2025-03-05"),
    );
    let stock = json(
        d,
        db,
        &args("stock list --node TARTUS-PORT --item WATER-BLADDER --json"),
    );
    let lot = stock[0]["lot"].as_i64().unwrap();
    ok(d, db, &args("departure add --code SEA-1 --node TARTUS-PORT --destination SDKSL --mode sea --service scheduled --vehicle MV --departs 2025-03-10 --arrives 2025-03-14 --payload-kg 50000 --volume-m3 500 --cold-volume-m3 0 --fixed-cost-usd 0 --cost-per-kg-usd 1"));
    ok(
        d,
        db,
        &[
            "departure",
            "load",
            "SEA-1",
            "--lot",
            &format!("{lot}=40"),
            "--on",
            "2025-03-08",
        ],
    );
    ok(d, db, &args("departure depart SEA-1 --on 2025-03-10"));
    let pod = ok(
        d,
        db,
        &args("departure deliver SEA-1 --received-by SD-HAC --line 1=40 --on 2025-03-14"),
    );
    assert!(pod.contains("WATER-BLADDER"), "{pod}");
    let before_kg = json(d, db, &args("departure pod SEA-1 --json"));

    ok(d, db, &args("item edit WATER-BLADDER --kg 60"));
    assert_eq!(
        json(d, db, &args("departure pod SEA-1 --json")),
        before_kg,
        "the proof of delivery is unchanged"
    );
    let shown = ok(d, db, &args("item show WATER-BLADDER"));
    assert!(
        shown.contains("item.add") && shown.contains("item.edit"),
        "{shown}"
    );
    ok(d, db, &["verify"]);
}

both_backends!(new_item_goes_the_whole_chain);
