//! Every `--csv` output of the CLI is one table with one HXL hashtag row
//! that libhxl's validator (`hxlvalidate`, `pip install libhxl`) accepts
//! with no error, on the demo hub's data, and its columns are the keys of
//! the same command's `--json` objects.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::ok;

/// Where a command's `--json` output keeps the objects a CSV row stands for.
#[derive(Clone, Copy)]
enum Rows {
    /// The output is an array of them.
    Array,
    /// A list field of the output's object; each CSV row also carries the
    /// object's `donor` (the donor statement: `items`, `destinations`).
    FieldWithDonor(&'static str),
}

const CSV_COMMANDS: &[(&[&str], Rows)] = &[
    (&["stock", "list", "--csv"], Rows::Array),
    (&["stock", "expiry", "--csv"], Rows::Array),
    (&["request", "list", "--csv"], Rows::Array),
    (&["leg", "list", "--csv"], Rows::Array),
    (&["report", "stock", "--csv"], Rows::Array),
    (&["report", "pipeline", "--csv"], Rows::Array),
    (&["report", "requests", "--csv"], Rows::Array),
    (
        &["report", "donor", "QA-QFFD", "--csv"],
        Rows::FieldWithDonor("items"),
    ),
    (
        &["report", "donor", "QA-QFFD", "--by-destination", "--csv"],
        Rows::FieldWithDonor("destinations"),
    ),
    (&["log", "--csv"], Rows::Array),
];

/// The CSV's column names, read with a CSV reader (quoted names too).
fn csv_header(csv: &str) -> Vec<String> {
    let first = csv.lines().next().unwrap_or_default();
    first
        .split(',')
        .map(|c| c.trim_matches('"').to_string())
        .collect()
}

/// The keys the CSV's columns must be: those of every object the JSON's
/// rows hold (all the objects have the same keys).
fn json_keys(json: &serde_json::Value, rows: Rows) -> Result<Vec<String>, String> {
    let (list, extra) = match rows {
        Rows::Array => (json.as_array(), None),
        Rows::FieldWithDonor(field) => (json[field].as_array(), Some("donor")),
    };
    let list = list.ok_or_else(|| format!("no list of rows in {json}"))?;
    let mut keys: Option<Vec<String>> = None;
    for object in list {
        let object = object
            .as_object()
            .ok_or_else(|| format!("a row is not an object: {object}"))?;
        let mut these: Vec<String> = object.keys().cloned().collect();
        if let Some(extra) = extra {
            if json[extra].is_null() {
                return Err(format!("the output has no `{extra}`"));
            }
            these.push(extra.to_string());
        }
        these.sort();
        match &keys {
            Some(k) if *k != these => {
                return Err(format!("rows with other keys: {k:?} and {these:?}"))
            }
            _ => keys = Some(these),
        }
    }
    keys.ok_or_else(|| "no rows".to_string())
}

#[test]
fn every_csv_output_is_one_valid_hxl_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = format!("sqlite:{}", d.join("hub.db").display());
    ok(d, &db, &["demo", "--no-serve"]);
    let mut wrong = Vec::new();
    for (args, rows) in CSV_COMMANDS {
        let csv = ok(d, &db, args);
        let json_args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "--csv" { "--json" } else { a })
            .collect();
        let json: serde_json::Value = serde_json::from_str(&ok(d, &db, &json_args)).unwrap();
        let mut header = csv_header(&csv);
        let columns = header.len();
        header.sort();
        header.dedup();
        if header.len() != columns {
            wrong.push(format!("{args:?}: a column named twice"));
        }
        match json_keys(&json, *rows) {
            Ok(keys) if keys == header => {}
            Ok(keys) => wrong.push(format!(
                "{args:?}: CSV columns {header:?}, JSON keys {keys:?}"
            )),
            Err(e) => wrong.push(format!("{json_args:?}: {e}")),
        }
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
