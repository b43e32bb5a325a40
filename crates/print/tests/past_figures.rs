//! A departure's printed documents keep their figures: the waybill and the
//! loading list weigh each line with the kg and m³ per unit kept on its
//! loading line, so editing an item's figures afterwards changes neither
//! document. On SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)]

use reliefhub_ops::{ItemFields, Ops};
use reliefhub_print::documents::{self, Kind};
use reliefhub_print::{Doc, Lang};

/// What a document says, but for its footer and QR code (which carry the
/// time of printing).
fn content(doc: &Doc) -> String {
    format!("{:?}\n{:?}\n{:?}", doc.facts, doc.rows, doc.notes)
}

fn an_item_edit_does_not_change_past_documents(url: &str) {
    let mut store = reliefhub_store::Store::open(url).unwrap();
    store.migrate(0).unwrap();
    store
        .load_reference_data(&reliefhub_core::reference::builtin())
        .unwrap();
    let mut ops = Ops::from_store(store);
    reliefhub_ops::demo::play(&mut ops, 2025).unwrap();
    let departure = ops
        .departures()
        .unwrap()
        .into_iter()
        .find(|d| d.status.has_left() && d.loaded_units > 0)
        .expect("the demo sends departures")
        .departure
        .code;
    let lines: Vec<_> = ops
        .loading_lines(Some(&departure))
        .unwrap()
        .into_iter()
        .filter(|l| !l.unloaded)
        .collect();
    let kinds = [Kind::Waybill, Kind::LoadingList];
    let before: Vec<String> = kinds
        .iter()
        .map(|k| content(&documents::doc(&mut ops, *k, &departure, Lang::En).unwrap()))
        .collect();

    // Every item on board becomes twice as heavy and bulky.
    let mut items: Vec<String> = lines.iter().map(|l| l.item.clone()).collect();
    items.sort();
    items.dedup();
    for code in &items {
        let item = ops
            .store()
            .items()
            .unwrap()
            .into_iter()
            .find(|i| &i.code == code)
            .unwrap();
        let fields = ItemFields {
            unit_weight_kg: Some(item.unit_weight_kg * 2.0),
            unit_volume_m3: Some(item.unit_volume_m3 * 2.0),
            ..ItemFields::default()
        };
        ops.put_item(code, &fields, true).unwrap();
    }

    for (kind, was) in kinds.iter().zip(&before) {
        let doc = documents::doc(&mut ops, *kind, &departure, Lang::En).unwrap();
        assert_eq!(
            &content(&doc),
            was,
            "the {} of {departure} after its items were edited",
            kind.code()
        );
    }
    // The lines' own figures are what the documents show; the items' are
    // now other figures.
    let now = ops.loading_lines(Some(&departure)).unwrap();
    for l in now.iter().filter(|l| !l.unloaded) {
        let item = ops
            .store()
            .items()
            .unwrap()
            .into_iter()
            .find(|i| i.code == l.item)
            .unwrap();
        assert!(
            (item.unit_weight_kg - 2.0 * l.unit_weight_kg).abs() < 1e-9,
            "line {} keeps {} kg per unit; the item now says {}",
            l.line_no,
            l.unit_weight_kg,
            item.unit_weight_kg
        );
    }
}

reliefhub_testkit::both_backends!(an_item_edit_does_not_change_past_documents);
