//! The whole chain through the real binary, on SQLite and on PostgreSQL:
//! pledge, leg, manifest, receipt with discrepancies, transfer, request,
//! departure, load, depart, deliver, donor statement and verification.

#![allow(clippy::unwrap_used)]

mod common;

use common::{json, ok, refused, verify};
use reliefhub_testkit::both_backends;

const MANIFEST: &str = "Item code,Qty,Lot,Expiry date,Packs,Earmark\n\
#item+code,#quantity,#meta+batch,#date+expiry,#meta+packs,#country+code+dest\n\
RUTF-150,600,R1,2027-06-30,6,SD;TD\n\
ORS-CTN,300,O1,2027-12-31,3,\n\
RUTF-150,200,R2,2027-08-31,2,\n";

fn chain(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, db, &["init"]);
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
            "--line",
            "ORS-CTN=500",
            "--on",
            "2025-03-01",
        ],
    );
    // The same pledge again has no effect.
    let again = ok(
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
            "--line",
            "ORS-CTN=500",
            "--on",
            "2025-03-01",
        ],
    );
    assert!(again.contains("nothing changed"), "{again}");
    ok(
        d,
        db,
        &[
            "leg",
            "add",
            "--code",
            "QR-8471",
            "--mode",
            "air",
            "--origin",
            "DOH",
            "--node",
            "HMEIMIM-AIR",
            "--carrier",
            "Qatar Airways Cargo",
            "--vehicle",
            "QR8471",
            "--expected-arrival",
            "2025-03-05",
            "--donor",
            "QA-QFFD",
        ],
    );
    std::fs::write(d.join("qr8471.csv"), MANIFEST).unwrap();
    let imported = ok(
        d,
        db,
        &[
            "manifest",
            "import",
            "QR-8471",
            "qr8471.csv",
            "--on",
            "2025-03-04",
        ],
    );
    assert!(imported.contains("3 lines, 1100 units"), "{imported}");
    // The same file again: no effect. Another file under the same key: refused.
    assert!(ok(d, db, &["manifest", "import", "QR-8471", "qr8471.csv"]).contains("nothing changed"));
    std::fs::write(d.join("other.csv"), MANIFEST.replace("600", "601")).unwrap();
    let error = refused(d, db, &["manifest", "import", "QR-8471", "other.csv"]);
    assert!(error.contains("already has a manifest"), "{error}");

    // Lots 1 and 2 are the pledge's placeholders; the manifest's are 3, 4, 5.
    let grn = ok(
        d,
        db,
        &[
            "receive",
            "QR-8471",
            "--line",
            "3=590",
            "--line",
            "4=300/20",
            "--line",
            "5=205/3:loss",
            "--by",
            "cargo shed",
            "--on",
            "2025-03-05",
        ],
    );
    assert!(grn.contains("GOODS RECEIVED NOTE"), "{grn}");
    assert!(
        grn.contains(
            "manifest 1100, counted 1095, good 1072, damaged 23, short-landed 10, over-landed 5"
        ),
        "{grn}"
    );
    refused(d, db, &["receive", "QR-8471", "--line", "3=1"]);

    ok(
        d,
        db,
        &[
            "transfer",
            "dispatch",
            "--code",
            "TR-1",
            "--from",
            "HMEIMIM-AIR",
            "--to",
            "TARTUS-PORT",
            "--lot",
            "3=400",
            "--on",
            "2025-03-06",
        ],
    );
    let stock = json(d, db, &["stock", "list", "--node", "TARTUS-PORT", "--json"]);
    let rows = stock.as_array().unwrap();
    assert_eq!(rows.len(), 1, "in transit to the port: {stock}");
    assert_eq!(rows[0]["state"], "in transit", "not yet at the port");
    assert_eq!(rows[0]["document"], "TR-1");
    assert_eq!(rows[0]["quantity"], 400);
    ok(d, db, &["transfer", "arrive", "TR-1", "--on", "2025-03-07"]);

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
            "500",
            "--priority",
            "1",
            "--needed-by",
            "2025-03-20",
            "--grace-days",
            "5",
        ],
    );
    ok(
        d,
        db,
        &[
            "departure",
            "add",
            "--code",
            "SEA-1",
            "--node",
            "TARTUS-PORT",
            "--destination",
            "SDPZU",
            "--mode",
            "sea",
            "--vehicle",
            "MV Tartus Trader",
            "--departs",
            "2025-03-08",
            "--arrives",
            "2025-03-15",
            "--payload-kg",
            "100000",
            "--volume-m3",
            "500",
            "--dangerous-goods",
        ],
    );
    // More than the port holds: refused, nothing loaded.
    let error = refused(
        d,
        db,
        &["departure", "load", "SEA-1", "--lot", "3=401@RQ-1"],
    );
    assert!(
        error.contains("only 400 in stock at TARTUS-PORT [not_enough_stock]"),
        "{error}"
    );
    // The ORS lot is still at the airfield, not at the port.
    refused(d, db, &["departure", "load", "SEA-1", "--lot", "4=10"]);
    ok(
        d,
        db,
        &[
            "departure",
            "load",
            "SEA-1",
            "--lot",
            "3=400@RQ-1",
            "--on",
            "2025-03-07",
        ],
    );
    let requests = json(d, db, &["request", "list", "--json"]);
    assert_eq!(requests[0]["status"], "planned");
    ok(
        d,
        db,
        &["departure", "depart", "SEA-1", "--on", "2025-03-08"],
    );
    let pod = ok(
        d,
        db,
        &[
            "departure",
            "deliver",
            "SEA-1",
            "--received-by",
            "SD-HAC Port Sudan",
            "--line",
            "1=395",
            "--on",
            "2025-03-15",
        ],
    );
    assert!(
        pod.contains("PROOF OF DELIVERY") && pod.contains("short-delivered 5"),
        "{pod}"
    );
    let requests = json(d, db, &["request", "list", "--json"]);
    assert_eq!(requests[0]["status"], "partly met");
    assert_eq!(requests[0]["delivered"], 395);

    let s = json(d, db, &["report", "donor", "QA-QFFD", "--json"]);
    let items = s["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let rutf = items.iter().find(|i| i["item"] == "RUTF-150").unwrap();
    let ors = items.iter().find(|i| i["item"] == "ORS-CTN").unwrap();
    let expect = |line: &serde_json::Value, field: &str, value: i64| {
        assert_eq!(line[field], value, "{field} of {}: {line}", line["item"]);
    };
    for (field, value) in [
        ("pledged", 1000),
        ("pledge_cancelled", 0),
        ("pledge_outstanding", 205),
        ("manifested", 800),
        ("in_transit_inbound", 0),
        ("received", 795),
        ("in_stock", 392),
        ("quarantined", 0),
        ("between_nodes", 0),
        ("shipped", 400),
        ("on_departures", 0),
        ("delivered", 395),
        ("lost_total", 18),
    ] {
        expect(rutf, field, value);
    }
    assert_eq!(
        rutf["lost"],
        serde_json::json!({"damaged": 3, "short-delivered": 5, "short-landed": 10})
    );
    for (field, value) in [
        ("pledged", 500),
        ("pledge_outstanding", 200),
        ("manifested", 300),
        ("received", 300),
        ("in_stock", 280),
        ("quarantined", 20),
        ("shipped", 0),
        ("delivered", 0),
        ("lost_total", 0),
    ] {
        expect(ors, field, value);
    }
    for (field, value) in [
        ("pledged", 1500),
        ("pledge_outstanding", 405),
        ("manifested", 1100),
        ("received", 1095),
        ("in_stock", 672),
        ("quarantined", 20),
        ("shipped", 400),
        ("delivered", 395),
        ("lost_total", 18),
    ] {
        expect(&s["totals"], field, value);
    }
    assert_eq!(
        s["destinations"],
        serde_json::json!([{"destination": "SDPZU", "name": "Port Sudan", "item": "RUTF-150", "shipped": 400, "delivered": 395, "short_delivered": 5}])
    );
    // Conservation, from the donor's side: what was received is in stock,
    // in quarantine, shipped, or lost after receipt.
    // 3 units were damaged at receipt and written off.
    let t = &s["totals"];
    assert_eq!(
        t["received"].as_i64().unwrap(),
        t["in_stock"].as_i64().unwrap()
            + t["quarantined"].as_i64().unwrap()
            + t["shipped"].as_i64().unwrap()
            + 3
    );

    // The CSV report carries an HXL hashtag row.
    let csv = ok(d, db, &["report", "donor", "QA-QFFD", "--csv"]);
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("#org+funder+code,#item+code"),
        "{csv}"
    );

    // A correction reverses an entry and names it; the ledger still verifies.
    let out = ok(
        d,
        db,
        &[
            "stock",
            "quarantine",
            "--node",
            "HMEIMIM-AIR",
            "--lot",
            "4",
            "--quantity",
            "7",
            "--reason",
            "inspection",
        ],
    );
    let entry = out
        .trim()
        .trim_end_matches(')')
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(entry, "20", "{out}");
    let out = ok(
        d,
        db,
        &["correct", "--entry", &entry, "--reason", "wrong lot"],
    );
    assert!(out.contains("correction of entry 20"), "{out}");
    // Nothing is left to reverse.
    refused(
        d,
        db,
        &[
            "correct", "--entry", &entry, "--reason", "again", "--key", "another",
        ],
    );
    let s = json(d, db, &["report", "donor", "QA-QFFD", "--json"]);
    assert_eq!(s["totals"]["quarantined"], 20);
    verify(d, db);
    // Compacting changes nothing the ledger holds.
    let before = json(d, db, &["report", "donor", "QA-QFFD", "--json"]);
    let out = ok(d, db, &["compact"]);
    assert!(out.starts_with("compacted: "), "{out}");
    verify(d, db);
    assert_eq!(
        json(d, db, &["report", "donor", "QA-QFFD", "--json"]),
        before
    );
}

both_backends!(chain);

#[test]
fn demo_plays_four_weeks_and_verifies_each_run() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = common::bin()
            .current_dir(dir.path())
            .args(["demo", "--no-serve"])
            .env_remove("RELIEFHUB_DB")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        for text in [
            "== Week 1",
            "== Week 4",
            "Request fulfilment by destination",
            "Donor summary",
            "KW-KRCS",
            "Ledger check: verified",
        ] {
            assert!(stdout.contains(text), "`{text}` missing from:\n{stdout}");
        }
        assert!(dir.path().join("reliefhub-demo.db").exists());
    }
}
