//! The five documents, built from the hub's data.

use std::collections::HashMap;

use reliefhub_core::domain::format_date;
use reliefhub_ops::Ops;
use reliefhub_store::Value;

use crate::{render, Cell, Column, Doc, Lang, PrintError};

/// The kinds of printed documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Waybill,
    LoadingList,
    Grn,
    Pod,
    Statement,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Waybill,
        Kind::LoadingList,
        Kind::Grn,
        Kind::Pod,
        Kind::Statement,
    ];

    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "waybill" => Some(Kind::Waybill),
            "loading-list" => Some(Kind::LoadingList),
            "grn" => Some(Kind::Grn),
            "pod" => Some(Kind::Pod),
            "statement" => Some(Kind::Statement),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Kind::Waybill => "waybill",
            Kind::LoadingList => "loading-list",
            Kind::Grn => "grn",
            Kind::Pod => "pod",
            Kind::Statement => "statement",
        }
    }
}

/// The document of `kind` about `code` (a departure, a leg or a donor), as PDF.
pub fn pdf(ops: &mut Ops, kind: Kind, code: &str, lang: Lang) -> Result<Vec<u8>, PrintError> {
    render(&doc(ops, kind, code, lang)?)
}

/// The document of `kind` about `code`, laid out but not rendered.
pub fn doc(ops: &mut Ops, kind: Kind, code: &str, lang: Lang) -> Result<Doc, PrintError> {
    match kind {
        Kind::Waybill => departure_doc(ops, code, lang, true),
        Kind::LoadingList => departure_doc(ops, code, lang, false),
        Kind::Grn => grn(ops, code, lang),
        Kind::Pod => pod(ops, code, lang),
        Kind::Statement => statement(ops, code, lang),
    }
}

/// Columns headed by their words in the document's language, each with its width weight.
fn cols(lang: Lang, spec: &[(&'static str, f32)]) -> Vec<Column> {
    spec.iter()
        .map(|&(key, weight)| Column {
            heading: lang.word(key).to_string(),
            weight,
        })
        .collect()
}

/// Words in the document's language (signature blocks).
fn words(lang: Lang, keys: &[&'static str]) -> Vec<String> {
    keys.iter().map(|k| lang.word(k).to_string()).collect()
}

/// What every document of the hub shares: its language, title and code,
/// the hub's name at the foot, no QR code; the rest is filled in.
fn hub_doc(lang: Lang, title: &'static str, code: &str) -> Doc {
    Doc {
        lang,
        title: lang.word(title).to_string(),
        code: code.to_string(),
        facts: Vec::new(),
        columns: Vec::new(),
        rows: Vec::new(),
        notes: Vec::new(),
        signatures: Vec::new(),
        qr: None,
        footer: lang.word("hub").to_string(),
    }
}

fn fact(lang: Lang, key: &'static str, value: Cell) -> (String, Cell) {
    (lang.word(key).to_string(), value)
}

fn kg(v: f64) -> String {
    format!("{v:.1}")
}

/// Batch, expiry and packs of the lots, by lot id.
fn lot_details(
    ops: &mut Ops,
    ids: &[i64],
) -> Result<HashMap<i64, (String, Option<String>, Option<(i64, i64)>)>, PrintError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(400) {
        let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let params: Vec<Value> = chunk.iter().map(|id| Value::Int(*id)).collect();
        let rows = ops.store().read(|conn| {
            conn.query(
                &format!(
                    "SELECT l.id, l.batch, l.expiry, m.packs, m.quantity FROM lots l \
                     LEFT JOIN manifest_lines m ON m.lot_id = l.id WHERE l.id IN ({})",
                    list.join(", ")
                ),
                &params,
            )
        })?;
        for r in rows {
            let expiry = match &r[2] {
                Value::Null => None,
                v => Some(v.text()?),
            };
            let packs = match (r[3].opt_int()?, r[4].opt_int()?) {
                (Some(p), Some(q)) if p > 0 && q > 0 => Some((p, q)),
                _ => None,
            };
            out.insert(r[0].int()?, (r[1].text()?, expiry, packs));
        }
    }
    Ok(out)
}

fn departure_doc(ops: &mut Ops, code: &str, lang: Lang, waybill: bool) -> Result<Doc, PrintError> {
    let dep = ops.departure(code)?;
    let lines: Vec<_> = ops
        .loading_lines(Some(code))?
        .into_iter()
        .filter(|l| !l.unloaded)
        .collect();
    let items: HashMap<String, reliefhub_core::domain::Item> = ops
        .store()
        .items()?
        .into_iter()
        .map(|i| (i.code.clone(), i))
        .collect();
    let ids: Vec<i64> = lines.iter().map(|l| l.lot_id).collect();
    let lots = lot_details(ops, &ids)?;
    let nodes = ops.nodes()?;
    let destinations = ops.destinations()?;
    let n = &dep.departure;
    let node_name = nodes
        .iter()
        .find(|x| x.code == n.node)
        .map_or(n.node.clone(), |x| x.name.clone());
    let dest_name = destinations
        .iter()
        .find(|d| d.locode == n.destination)
        .map_or(n.destination.clone(), |d| d.name.clone());
    let mut rows = Vec::new();
    let (mut total_q, mut total_kg, mut total_m3) = (0i64, 0.0f64, 0.0f64);
    let mut dangerous = false;
    for l in &lines {
        let item = items.get(&l.item);
        let (batch, expiry, packs) = lots.get(&l.lot_id).cloned().unwrap_or_default();
        // The figures kept on the loading line: an item edited since does
        // not change what this departure carried.
        let weight = l.unit_weight_kg * l.quantity as f64;
        let volume = l.unit_volume_m3 * l.quantity as f64;
        let packs = packs.map(|(p, q)| ((p * l.quantity) as f64 / q as f64).ceil() as i64);
        let un = item.and_then(|i| i.un_number.clone()).unwrap_or_default();
        dangerous |= !un.is_empty();
        total_q += l.quantity;
        total_kg += weight;
        total_m3 += volume;
        let mut row = vec![
            Cell::num(l.line_no),
            Cell::num(l.lot_id),
            Cell::code(&l.item),
            Cell::code(&l.donor),
            Cell::code(batch),
            Cell::code(expiry.unwrap_or_default()),
            Cell::num(packs.map(|p| p.to_string()).unwrap_or_default()),
            Cell::num(l.quantity),
            Cell::num(kg(weight)),
            Cell::num(format!("{volume:.2}")),
            Cell::code(un),
        ];
        if !waybill {
            row.push(Cell::code(l.request.clone().unwrap_or_default()));
        }
        rows.push(row);
    }
    let mut columns = cols(
        lang,
        &[
            ("line", 0.6),
            ("lot", 0.7),
            ("item", 1.8),
            ("donor", 1.3),
            ("batch", 1.3),
            ("expiry", 1.2),
            ("packs", 0.8),
            ("quantity", 0.9),
            ("kg", 0.9),
            ("m3", 0.8),
            ("un", 1.0),
        ],
    );
    if !waybill {
        columns.extend(cols(lang, &[("request", 1.4)]));
    }
    let mut notes = vec![format!(
        "{}: {} · {} {} · {} {}",
        lang.word("total"),
        total_q,
        kg(total_kg),
        lang.word("kg"),
        format_args!("{total_m3:.2}"),
        lang.word("m3")
    )];
    if dangerous {
        notes.push(lang.word("dangerous").to_string());
    }
    let mut doc = Doc {
        facts: vec![
            fact(
                lang,
                "consignor",
                Cell::words(format!("{} ({})", node_name, n.node)),
            ),
            fact(
                lang,
                "consignee",
                Cell::words(format!("{} ({})", dest_name, n.destination)),
            ),
            fact(lang, "vehicle", Cell::code(&n.vehicle)),
            fact(lang, "mode", Cell::code(n.mode.code())),
            fact(lang, "departs", Cell::code(format_date(n.departs_on))),
            fact(lang, "arrives", Cell::code(format_date(n.arrives_on))),
            fact(lang, "status", Cell::code(dep.status.as_code())),
        ],
        columns,
        rows,
        notes,
        signatures: words(lang, &["dispatcher", "driver", "receiver"]),
        ..hub_doc(lang, if waybill { "waybill" } else { "loading_list" }, code)
    };
    if waybill {
        // The QR code names the departure and the document's hash, so a phone
        // at the destination can tell the paper matches the hub's record.
        doc.qr = Some(format!(
            "reliefhub waybill {} sha256:{}",
            code,
            doc.content_hash()
        ));
    }
    Ok(doc)
}

fn grn(ops: &mut Ops, code: &str, lang: Lang) -> Result<Doc, PrintError> {
    let note = ops.goods_received_note(code)?;
    let receipt_ids: Vec<i64> = note.lines.iter().map(|l| l.receipt_id).collect();
    let mut received_by: Vec<String> = Vec::new();
    for id in receipt_ids {
        let rows = ops.store().read(|conn| {
            conn.query(
                "SELECT received_by FROM receipts WHERE id = $1",
                &[Value::Int(id)],
            )
        })?;
        for r in rows {
            let who = r[0].text()?;
            if !received_by.contains(&who) {
                received_by.push(who);
            }
        }
    }
    let mut dates: Vec<String> = note
        .lines
        .iter()
        .map(|l| format_date(l.received_on))
        .collect();
    dates.sort();
    dates.dedup();
    let mut discrepancies = Vec::new();
    let rows = note
        .lines
        .iter()
        .map(|l| {
            if l.short > 0 || l.over > 0 || l.damaged > 0 {
                discrepancies.push(format!(
                    "{} {}: {} {} · {} {} · {} {}",
                    lang.word("line"),
                    l.line_no,
                    lang.word("short"),
                    l.short,
                    lang.word("over"),
                    l.over,
                    lang.word("damaged"),
                    l.damaged
                ));
            }
            vec![
                Cell::num(l.line_no),
                Cell::num(l.lot_id),
                Cell::code(&l.item),
                Cell::code(&l.batch),
                Cell::code(l.expiry.map(format_date).unwrap_or_default()),
                Cell::num(l.manifest_quantity),
                Cell::num(l.counted),
                Cell::num(l.good),
                Cell::num(l.damaged),
                Cell::num(l.short),
                Cell::num(l.over),
            ]
        })
        .collect();
    let mut notes = vec![format!(
        "{}: {}",
        lang.word("discrepancies"),
        if discrepancies.is_empty() {
            lang.word("none").to_string()
        } else {
            discrepancies.len().to_string()
        }
    )];
    notes.extend(discrepancies.into_iter().take(12));
    if note.not_received > 0 {
        notes.push(format!(
            "{}: {}",
            lang.word("not_received"),
            note.not_received
        ));
    }
    Ok(Doc {
        facts: vec![
            fact(lang, "leg", Cell::code(&note.leg.code)),
            fact(lang, "node", Cell::code(&note.leg.node)),
            fact(lang, "carrier", Cell::words(&note.leg.carrier)),
            fact(lang, "vehicle", Cell::code(&note.leg.vehicle_ref)),
            fact(lang, "received_on", Cell::code(dates.join(", "))),
            fact(lang, "received_by", Cell::words(received_by.join(", "))),
        ],
        columns: cols(
            lang,
            &[
                ("line", 0.6),
                ("lot", 0.7),
                ("item", 1.8),
                ("batch", 1.3),
                ("expiry", 1.2),
                ("manifested", 1.0),
                ("counted", 0.9),
                ("good", 0.8),
                ("damaged", 0.9),
                ("short", 0.8),
                ("over", 0.8),
            ],
        ),
        rows,
        notes,
        signatures: words(lang, &["receiver", "driver"]),
        ..hub_doc(lang, "grn", code)
    })
}

fn pod(ops: &mut Ops, code: &str, lang: Lang) -> Result<Doc, PrintError> {
    let pod = ops.proof_of_delivery(code)?;
    let n = &pod.departure;
    let (mut loaded, mut received) = (0i64, 0i64);
    let rows = pod
        .lines
        .iter()
        .map(|l| {
            loaded += l.loaded;
            received += l.received;
            vec![
                Cell::num(l.line_no),
                Cell::num(l.lot_id),
                Cell::code(&l.item),
                Cell::code(&l.donor),
                Cell::code(&l.batch),
                Cell::num(l.loaded),
                Cell::num(l.received),
                Cell::num(l.short),
                Cell::code(l.request.clone().unwrap_or_default()),
            ]
        })
        .collect();
    let mut notes = vec![format!(
        "{}: {} {} · {} {} · {} {}",
        lang.word("total"),
        lang.word("loaded"),
        loaded,
        lang.word("received"),
        received,
        lang.word("short"),
        loaded - received
    )];
    if !pod.note.is_empty() {
        notes.push(format!("{}: {}", lang.word("note"), pod.note));
    }
    Ok(Doc {
        facts: vec![
            fact(lang, "destination", Cell::code(&n.destination)),
            fact(lang, "vehicle", Cell::code(&n.vehicle)),
            fact(lang, "departs", Cell::code(format_date(n.departs_on))),
            fact(
                lang,
                "received_on",
                Cell::code(format_date(pod.received_on)),
            ),
            fact(lang, "received_by", Cell::words(&pod.received_by)),
        ],
        columns: cols(
            lang,
            &[
                ("line", 0.6),
                ("lot", 0.7),
                ("item", 1.8),
                ("donor", 1.3),
                ("batch", 1.3),
                ("loaded", 0.9),
                ("received", 0.9),
                ("short", 0.8),
                ("request", 1.4),
            ],
        ),
        rows,
        notes,
        signatures: words(lang, &["driver", "receiver"]),
        ..hub_doc(lang, "pod", code)
    })
}

fn statement(ops: &mut Ops, donor: &str, lang: Lang) -> Result<Doc, PrintError> {
    let s = ops.donor_statement(donor)?;
    let mut rows: Vec<Vec<Cell>> = s
        .items
        .iter()
        .map(|i| {
            vec![
                Cell::code(&i.item),
                Cell::num(i.pledged),
                Cell::num(i.received),
                Cell::num(i.in_stock),
                Cell::num(i.shipped),
                Cell::num(i.delivered),
                Cell::num(i.lost_total()),
            ]
        })
        .collect();
    let t = &s.totals;
    rows.push(vec![
        Cell::words(lang.word("total")),
        Cell::num(t.pledged),
        Cell::num(t.received),
        Cell::num(t.in_stock),
        Cell::num(t.shipped),
        Cell::num(t.delivered),
        Cell::num(t.lost_total()),
    ]);
    let notes = s
        .destinations
        .iter()
        .take(20)
        .map(|d| {
            format!(
                "{} {} · {}: {} {} · {} {}",
                d.destination,
                d.item,
                lang.word("shipped"),
                d.shipped,
                "",
                lang.word("delivered"),
                d.delivered
            )
            .replace("  ", " ")
        })
        .collect();
    Ok(Doc {
        facts: vec![fact(
            lang,
            "donor",
            Cell::words(format!("{} ({})", s.name, s.donor)),
        )],
        columns: cols(
            lang,
            &[
                ("item", 2.0),
                ("pledged", 1.0),
                ("received", 1.0),
                ("in_stock", 1.0),
                ("shipped", 1.0),
                ("delivered", 1.0),
                ("lost", 1.0),
            ],
        ),
        rows,
        notes,
        ..hub_doc(lang, "statement", &s.donor)
    })
}
