//! Crash safety of the manifest import: the process is killed (SIGKILL) at
//! random moments during large imports; each import must then be wholly
//! present or wholly absent, and the ledger must verify.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{bin, json, ok, verify};

const KILLS: u32 = 20;

/// 20,000 lines by default; 50,000 with RELIEFHUB_SLOW_TESTS set.
fn lines() -> u32 {
    if std::env::var_os("RELIEFHUB_SLOW_TESTS").is_some() {
        50_000
    } else {
        20_000
    }
}

#[test]
fn killed_imports_are_all_or_nothing() {
    let db = reliefhub_testkit::TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &db.url, &["init"]);
    let path = d.join("big.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(out, "item,quantity,batch,expiry,donor").unwrap();
    let mut total = 0_i64;
    let line_count = lines();
    for n in 0..line_count {
        let quantity = i64::from(n % 97 + 1);
        total += quantity;
        writeln!(out, "HEB-10KG,{quantity},B{n},2027-01-31,KW-KRCS").unwrap();
    }
    drop(out);

    // How long an import takes here, to kill within it.
    ok(
        d,
        &db.url,
        &[
            "leg",
            "add",
            "--code",
            "TIMING",
            "--mode",
            "sea",
            "--origin",
            "KWSWK",
            "--node",
            "TARTUS-PORT",
            "--carrier",
            "c",
            "--vehicle",
            "v",
            "--expected-arrival",
            "2025-03-10",
        ],
    );
    let started = Instant::now();
    ok(d, &db.url, &["manifest", "import", "TIMING", "big.csv"]);
    let full_ms = started.elapsed().as_millis().max(10) as u64;

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    println!("seed {seed}, a full import takes {full_ms} ms");
    let mut state = seed | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut present, mut absent) = (0, 0);
    for round in 0..KILLS {
        let leg = format!("LEG-{round}");
        ok(
            d,
            &db.url,
            &[
                "leg",
                "add",
                "--code",
                &leg,
                "--mode",
                "sea",
                "--origin",
                "KWSWK",
                "--node",
                "TARTUS-PORT",
                "--carrier",
                "c",
                "--vehicle",
                "v",
                "--expected-arrival",
                "2025-03-10",
            ],
        );
        let mut child = bin()
            .current_dir(d)
            .args([
                "--db", &db.url, "--quiet", "manifest", "import", &leg, "big.csv",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let delay_ms = next() % (full_ms + full_ms / 5);
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let legs = json(d, &db.url, &["leg", "list", "--json"]);
        let row = legs
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["leg"] == leg.as_str())
            .unwrap()
            .clone();
        let lines = row["manifest_lines"].as_i64().unwrap();
        let in_transit = row["in_transit"].as_i64().unwrap();
        if lines == 0 {
            assert_eq!(
                in_transit, 0,
                "round {round} (seed {seed}): no manifest lines but stock in transit"
            );
            absent += 1;
        } else {
            assert_eq!(
                lines,
                i64::from(line_count),
                "round {round} (seed {seed}, killed after {delay_ms} ms): partial import"
            );
            assert_eq!(
                in_transit, total,
                "round {round} (seed {seed}): partial stock"
            );
            present += 1;
        }
        if round % 10 == 9 {
            verify(d, &db.url);
        }
    }
    println!("{present} imports wholly present, {absent} wholly absent");
    // An import that was killed can simply be run again.
    let absent_leg = (0..KILLS).map(|r| format!("LEG-{r}")).find(|leg| {
        let legs = json(d, &db.url, &["leg", "list", "--json"]);
        legs.as_array()
            .unwrap()
            .iter()
            .any(|l| l["leg"] == leg.as_str() && l["manifest_lines"] == 0)
    });
    if let Some(leg) = absent_leg {
        ok(d, &db.url, &["manifest", "import", &leg, "big.csv"]);
        verify(d, &db.url);
    }
}
