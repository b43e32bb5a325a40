//! Every `--csv` output of the CLI is one table with one HXL hashtag row
//! that libhxl's validator (`hxlvalidate`, `pip install libhxl`) accepts
//! with no error, on the demo hub's data.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::ok;

const CSV_COMMANDS: &[&[&str]] = &[
    &["stock", "list", "--csv"],
    &["stock", "expiry", "--csv"],
    &["request", "list", "--csv"],
    &["leg", "list", "--csv"],
    &["report", "stock", "--csv"],
    &["report", "pipeline", "--csv"],
    &["report", "requests", "--csv"],
    &["report", "donor", "QA-QFFD", "--csv"],
    &["report", "donor", "QA-QFFD", "--by-destination", "--csv"],
    &["log", "--csv"],
];

#[test]
fn every_csv_output_is_one_valid_hxl_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = format!("sqlite:{}", d.join("hub.db").display());
    ok(d, &db, &["demo", "--no-serve"]);
    let mut wrong = Vec::new();
    for args in CSV_COMMANDS {
        let csv = ok(d, &db, args);
        let hashtag_rows = csv.lines().filter(|l| l.starts_with('#')).count();
        if hashtag_rows != 1 {
            wrong.push(format!("{args:?}: {hashtag_rows} hashtag rows"));
        }
        if csv.lines().count() < 3 {
            wrong.push(format!("{args:?}: no data rows on the demo hub:\n{csv}"));
        }
        let file = d.join("out.csv");
        std::fs::write(&file, &csv).unwrap();
        let output = Command::new("hxlvalidate")
            .arg(&file)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run hxlvalidate ({e}): install libhxl with `pip install libhxl`")
            });
        let report = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        if !output.status.success() || report.contains("[error]") {
            wrong.push(format!("{args:?}: hxlvalidate reports errors:\n{report}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
