//! Bad and awkward manifest input, through the real binary: each case is
//! either read correctly or refused with the line, field, value and rule,
//! never a panic, and a refused file writes nothing.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;

use common::{json, ok, refused, run_in, verify};

enum Expect {
    /// Imported: lines and total units.
    Read(u64, i64),
    /// Refused, with each of these texts in the error.
    Refused(&'static [&'static str]),
}

struct Case {
    name: &'static str,
    file: &'static str,
    bytes: &'static [u8],
    expect: Expect,
}

const CASES: &[Case] = &[
    Case {
        name: "bom-crlf-quoted",
        file: "m.csv",
        bytes: b"\xEF\xBB\xBFitem,quantity,batch,donor\r\nTENT-FAMILY-16M2,5,\"B,1\",QA-QFFD\r\n\"TARPAULIN-4X6\",\"7\",\"two\r\nlines\",QA-QFFD\r\n",
        expect: Expect::Read(2, 12),
    },
    Case {
        name: "hxl-row-and-synonyms",
        file: "m.csv",
        bytes: b"Item code,Qty,Lot,Expiry date,Funder,Earmarked for\n#item+code,#quantity,#meta+batch,#date+expiry,#org+funder,#country+code+dest\nHEB-10KG,5,B1,2027-01-31,QA-QFFD,sd;td\n",
        expect: Expect::Read(1, 5),
    },
    Case {
        name: "hashtags-only-header-and-default-donor",
        file: "m.csv",
        bytes: b"#item,#value,#meta+batch\nKITCHEN-SET,40,X\n\nKITCHEN-SET,2,Y\n",
        expect: Expect::Read(2, 42),
    },
    Case {
        name: "unknown-item",
        file: "m.csv",
        bytes: b"item,quantity\nHEB-11KG,5\n",
        expect: Expect::Refused(&["m.csv: line 2, field `item`, value `HEB-11KG`: unknown item code"]),
    },
    Case {
        name: "quantity-not-integer",
        file: "m.csv",
        bytes: b"item,quantity\nTENT-FAMILY-16M2,1.5\nTENT-FAMILY-16M2,five\nTENT-FAMILY-16M2,-3\nTENT-FAMILY-16M2,0\nTENT-FAMILY-16M2,\n",
        expect: Expect::Refused(&[
            "5 problem(s)",
            "line 2, field `quantity`, value `1.5`: a quantity must be a whole number",
            "line 3, field `quantity`, value `five`",
            "line 4, field `quantity`, value `-3`: a quantity must be from 1",
            "line 5, field `quantity`, value `0`",
            "line 6, field `quantity`, value ``: a quantity is required",
        ]),
    },
    Case {
        name: "dates-that-do-not-parse",
        file: "m.csv",
        bytes: b"item,quantity,expiry\nHEB-10KG,5,30/06/2027\nHEB-10KG,5,2027-02-30\nHEB-10KG,5,2027-06-30\n",
        expect: Expect::Refused(&["line 2, field `expiry`, value `30/06/2027`: not a date", "line 3, field `expiry`, value `2027-02-30`"]),
    },
    Case {
        name: "invalid-utf8",
        file: "m.csv",
        bytes: b"item,quantity,batch\nHEB-10KG,5,B\xff1\n",
        expect: Expect::Refused(&["line 2, field `batch`", "not valid UTF-8"]),
    },
    Case {
        name: "missing-required-column",
        file: "m.csv",
        bytes: b"item,qty_ordered\nHEB-10KG,5\n",
        expect: Expect::Refused(&["line 1, field `quantity`", "required column is missing"]),
    },
    Case {
        name: "unknown-donor-and-bad-earmark",
        file: "m.csv",
        bytes: b"item,quantity,donor,earmark\nHEB-10KG,5,XX-NOBODY,SD\nHEB-10KG,5,,Sudan\n",
        expect: Expect::Refused(&["line 2, field `donor`, value `XX-NOBODY`: unknown donor", "line 3, field `earmark`, value `Sudan`"]),
    },
    Case { name: "empty-file", file: "m.csv", bytes: b"", expect: Expect::Refused(&["the file is empty"]) },
    Case { name: "header-only", file: "m.csv", bytes: b"item,quantity\n", expect: Expect::Refused(&["the manifest has no lines"]) },
    Case {
        name: "ragged-rows",
        file: "m.csv",
        bytes: b"item,quantity,batch\nTENT-FAMILY-16M2\nTENT-FAMILY-16M2,5,B,extra,cells\n",
        expect: Expect::Refused(&["2 problem(s)", "line 2, field `(row)`, value `TENT-FAMILY-16M2`: the row has 1 fields, the header 3", "[ragged_row]", "line 3, field `(row)`"]),
    },
    Case {
        name: "json-valid",
        file: "m.json",
        bytes: br#"{"lines": [{"item": "HEB-10KG", "quantity": 3, "batch": "J1", "expiry": "2027-05-31", "earmark": ["SD", "TD"]}, {"item": "KITCHEN-SET", "quantity": "4"}]}"#,
        expect: Expect::Read(2, 7),
    },
    Case {
        name: "json-wrong-types",
        file: "m.json",
        // A problem names the line of the file where its entry begins.
        bytes: b"[{\"item\": \"TENT-FAMILY-16M2\", \"quantity\": 2.5},\r\n {\"item\": 7, \"quantity\": \"abc\"},\n \"not an object\"]",
        expect: Expect::Refused(&["line 1, field `quantity`, value `2.5`", "line 2, field `item`, value `7`", "line 2, field `quantity`, value `abc`", "line 3, field `(line)`"]),
    },
    Case { name: "json-syntax", file: "m.json", bytes: b"{\"lines\": [", expect: Expect::Refused(&["not valid JSON"]) },
];

fn leg(dir: &std::path::Path, db: &str, code: &str) {
    ok(
        dir,
        db,
        &[
            "leg",
            "add",
            "--code",
            code,
            "--mode",
            "sea",
            "--origin",
            "QAHMD",
            "--node",
            "TARTUS-PORT",
            "--carrier",
            "Milaha",
            "--vehicle",
            "MV Test",
            "--expected-arrival",
            "2025-03-10",
            "--donor",
            "QA-QFFD",
        ],
    );
}

fn manifest_lines(dir: &std::path::Path, db: &str, code: &str) -> i64 {
    let legs = json(dir, db, &["leg", "list", "--json"]);
    legs.as_array()
        .unwrap()
        .iter()
        .find(|l| l["leg"] == code)
        .unwrap()["manifest_lines"]
        .as_i64()
        .unwrap()
}

#[test]
fn each_case_is_read_or_refused_with_its_reasons() {
    let db = reliefhub_testkit::TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &db.url, &["init"]);
    for (n, case) in CASES.iter().enumerate() {
        let code = format!("LEG-{n}");
        leg(d, &db.url, &code);
        let path = d.join(format!("{}-{}", case.name, case.file));
        std::fs::write(&path, case.bytes).unwrap();
        let file = path.file_name().unwrap().to_str().unwrap();
        match case.expect {
            Expect::Read(lines, units) => {
                let out = ok(d, &db.url, &["manifest", "import", &code, file]);
                assert!(
                    out.contains(&format!("{lines} lines, {units} units")),
                    "{}: {out}",
                    case.name
                );
                assert_eq!(
                    manifest_lines(d, &db.url, &code),
                    lines as i64,
                    "{}",
                    case.name
                );
            }
            Expect::Refused(texts) => {
                let error = refused(d, &db.url, &["manifest", "import", &code, file]);
                for text in texts {
                    let text = text.replace("m.csv", file);
                    assert!(
                        error.contains(&text),
                        "{}: expected `{text}` in:\n{error}",
                        case.name
                    );
                }
                assert_eq!(
                    manifest_lines(d, &db.url, &code),
                    0,
                    "{}: a refused file writes nothing",
                    case.name
                );
            }
        }
    }
    verify(d, &db.url);
}

#[test]
fn errors_at_lines_3_500_and_the_last_of_100000_are_all_reported_and_nothing_is_written() {
    let db = reliefhub_testkit::TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &db.url, &["init"]);
    leg(d, &db.url, "BIG");
    let path = d.join("big.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(out, "item,quantity,batch,expiry").unwrap();
    for line in 2..=100_000_u32 {
        match line {
            3 => writeln!(out, "HEB-10KG,12.5,B{line},2027-01-31").unwrap(),
            500 => writeln!(out, "NO-SUCH-ITEM,4,B{line},2027-01-31").unwrap(),
            100_000 => writeln!(out, "HEB-10KG,4,B{line},31.01.2027").unwrap(),
            _ => writeln!(out, "HEB-10KG,{},B{line},2027-01-31", line % 50 + 1).unwrap(),
        }
    }
    drop(out);
    let error = refused(d, &db.url, &["manifest", "import", "BIG", "big.csv"]);
    assert!(error.contains("big.csv: 3 problem(s)"), "{error}");
    assert!(
        error.contains("big.csv: line 3, field `quantity`, value `12.5`"),
        "{error}"
    );
    assert!(
        error.contains("big.csv: line 500, field `item`, value `NO-SUCH-ITEM`"),
        "{error}"
    );
    assert!(
        error.contains("big.csv: line 100000, field `expiry`, value `31.01.2027`"),
        "{error}"
    );
    assert_eq!(manifest_lines(d, &db.url, "BIG"), 0);
    let r = run_in(d, &db.url, &["stock", "list", "--json"]);
    assert_eq!(r.stdout.trim(), "[]");
    verify(d, &db.url);
    // Fixed, the same file imports whole.
    let text = std::fs::read_to_string(&path).unwrap();
    let fixed = text
        .replace("HEB-10KG,12.5,", "HEB-10KG,12,")
        .replace("NO-SUCH-ITEM,", "HEB-10KG,")
        .replace("31.01.2027", "2027-01-31");
    std::fs::write(&path, fixed).unwrap();
    let out = ok(d, &db.url, &["manifest", "import", "BIG", "big.csv"]);
    assert!(out.contains("99999 lines"), "{out}");
    verify(d, &db.url);
}
