//! The printed documents of the demo hub, read back as a person's tools
//! would: `pdftotext` must find the document's code, its lines and its
//! signature blocks; `zbarimg` must read the waybill's QR code (rendered to
//! PNG by `pdftoppm`) as a text naming the departure and the document's hash.
//! In English and in Arabic, on SQLite and on PostgreSQL.
//!
//! Needs Debian's poppler-utils and zbar-tools (scripts/test installs them).

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use reliefhub_ops::Ops;
use reliefhub_print::documents::{self, Kind};
use reliefhub_print::Lang;

fn tool(name: &str) -> String {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(name).is_file()));
    assert!(
        found,
        "the document tests need `{name}` (Debian: apt-get install poppler-utils zbar-tools)"
    );
    name.to_string()
}

fn demo(url: &str) -> Ops {
    let now_ms = reliefhub_store::now_unix_ms();
    let mut store = reliefhub_store::Store::open(url).unwrap();
    store.migrate(now_ms).unwrap();
    store
        .load_reference_data(&reliefhub_core::reference::builtin())
        .unwrap();
    let mut ops = Ops::from_store(store);
    reliefhub_ops::demo::play(&mut ops, 2025).unwrap();
    ops
}

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new(tool("pdftotext"))
        .args(["-layout", "-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pdftotext failed on {}",
        pdf.display()
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The QR codes zbarimg reads on the first page.
fn qr_texts(pdf: &Path, dir: &Path) -> Vec<String> {
    let prefix = dir.join("page");
    let status = Command::new(tool("pdftoppm"))
        .args(["-png", "-r", "200", "-f", "1", "-l", "1"])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(status.success());
    let png = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "png"))
        .expect("pdftoppm wrote a page");
    let out = Command::new(tool("zbarimg"))
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(&png)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Text compared as letters: the spaces pdftotext puts between glyph runs
/// and its direction marks taken out, and in Arabic the alef and lam, whose
/// ligature (lam-alef) pdftotext gives back in either order.
fn squeeze(s: &str) -> String {
    s.chars()
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}')
                && !matches!(c, 'ا' | 'ل' | 'أ' | 'إ' | 'آ')
        })
        .collect()
}

fn printed_documents_read_back(url: &str) {
    let mut ops = demo(url);
    let departures = ops.departures().unwrap();
    let delivered = departures
        .iter()
        .find(|d| d.status == reliefhub_ops::DepartureStatus::Delivered)
        .expect("the demo delivers departures")
        .departure
        .code
        .clone();
    let lines = ops.loading_lines(Some(&delivered)).unwrap();
    assert!(!lines.is_empty());
    let leg = ops
        .legs()
        .unwrap()
        .into_iter()
        .find(|l| l.received_lines > 0)
        .expect("the demo receives legs")
        .leg
        .code;
    let grn_note = ops.goods_received_note(&leg).unwrap();
    let donor = lines[0].donor.clone();
    let tmp = tempfile::tempdir().unwrap();

    for lang in [Lang::En, Lang::Ar] {
        // Waybill: code, every line's item, signature blocks, and a QR code.
        let pdf = documents::pdf(&mut ops, Kind::Waybill, &delivered, lang).unwrap();
        let file = tmp.path().join(format!("waybill-{}.pdf", lang.code()));
        std::fs::write(&file, &pdf).unwrap();
        let text = pdftotext(&file);
        let flat = squeeze(&text);
        assert!(
            text.contains(&delivered),
            "{lang:?} waybill names {delivered}:\n{text}"
        );
        for l in &lines {
            assert!(
                text.contains(&l.item),
                "{lang:?} waybill has the line of {}:\n{text}",
                l.item
            );
        }
        for key in [
            "dispatcher",
            "driver",
            "receiver",
            "waybill",
            "batch",
            "expiry",
        ] {
            let word = squeeze(lang.word(key));
            assert!(
                flat.contains(&word),
                "{lang:?} waybill shows `{}`:\n{text}",
                lang.word(key)
            );
        }
        let qr_dir = tmp.path().join(format!("qr-{}", lang.code()));
        std::fs::create_dir_all(&qr_dir).unwrap();
        let codes = qr_texts(&file, &qr_dir);
        let doc = documents::doc(&mut ops, Kind::Waybill, &delivered, lang).unwrap();
        assert_eq!(
            codes,
            vec![format!(
                "reliefhub waybill {delivered} sha256:{}",
                doc.content_hash()
            )],
            "{lang:?}: the waybill's QR code names the departure and the document's hash"
        );

        // Loading list, proof of delivery, goods-received note, statement.
        for (kind, code, must) in [
            (
                Kind::LoadingList,
                delivered.as_str(),
                vec!["loading_list", "dispatcher"],
            ),
            (
                Kind::Pod,
                delivered.as_str(),
                vec!["pod", "receiver", "received"],
            ),
            (
                Kind::Grn,
                leg.as_str(),
                vec!["grn", "counted", "discrepancies", "receiver"],
            ),
            (
                Kind::Statement,
                donor.as_str(),
                vec!["statement", "delivered"],
            ),
        ] {
            let pdf = documents::pdf(&mut ops, kind, code, lang).unwrap();
            let file = tmp
                .path()
                .join(format!("{}-{}.pdf", kind.code(), lang.code()));
            std::fs::write(&file, &pdf).unwrap();
            let text = pdftotext(&file);
            let flat = squeeze(&text);
            assert!(
                text.contains(code),
                "{lang:?} {} names {code}:\n{text}",
                kind.code()
            );
            for key in must {
                assert!(
                    flat.contains(&squeeze(lang.word(key))),
                    "{lang:?} {} shows `{}`:\n{text}",
                    kind.code(),
                    lang.word(key)
                );
            }
        }
        let grn_text = pdftotext(&tmp.path().join(format!("grn-{}.pdf", lang.code())));
        for l in &grn_note.lines {
            assert!(
                grn_text.contains(&l.item),
                "{lang:?} GRN has the line of {}",
                l.item
            );
        }
    }
}

reliefhub_testkit::both_backends!(printed_documents_read_back);

#[test]
fn an_unknown_departure_is_an_error_not_a_document() {
    let db = reliefhub_testkit::TestDb::sqlite();
    let mut ops = demo(&db.url);
    let err = documents::pdf(&mut ops, Kind::Waybill, "NO-SUCH-DEPARTURE", Lang::En).unwrap_err();
    assert!(err.to_string().contains("NO-SUCH-DEPARTURE"), "{err}");
}
