//! The idempotency digest of an operation: what identifies "the same
//! request again" under a key, stored in `op_requests.request_digest`.
//!
//! It is SHA-256 over a versioned, canonical encoding of the operation's
//! content, never over a Rust type's `Debug` text (which changes when a
//! field is added or renamed), so that a retry after an upgrade is still
//! recognised:
//!
//! ```text
//! "reliefhub-op/1" 0x00 KIND 0x00 CANONICAL-JSON
//! ```
//!
//! KIND names the operation (`pledge`, `receipt`, `load`, ...), and
//! CANONICAL-JSON is one JSON object of the operation's fields by their
//! documented names: object keys sorted by their UTF-8 bytes, no white
//! space, strings escaped as JSON does, integers in decimal, dates as
//! `YYYY-MM-DD`, an absent value as `null`, lists in the order given. The
//! fields of each kind are written out below, one function per kind, and a
//! fixed test vector per kind pins them: a change of encoding is a new
//! version tag, never an edit of version 1.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::Date;

use crate::{date_text, DamagedTo, LoadLine, NewDelivery, NewPledge, NewReceipt, NewTransfer};

/// The version tag the digest begins with.
pub const VERSION: &str = "reliefhub-op/1";

/// The digest of an operation of `kind` with `content`, in hex.
pub fn digest(kind: &str, content: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(VERSION.as_bytes());
    hasher.update([0]);
    hasher.update(kind.as_bytes());
    hasher.update([0]);
    hasher.update(canonical(content).as_bytes());
    hex::encode(hasher.finalize())
}

/// The canonical JSON text of a value: keys sorted, no white space.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        leaf => out.push_str(&leaf.to_string()),
    }
}

fn day(date: Date) -> String {
    date_text(date)
}

/// `pledge`: `{code, donor, pledged_on, note, lines: [{item, quantity, earmark: [..]}]}`.
pub fn pledge(p: &NewPledge) -> String {
    digest(
        "pledge",
        &json!({
            "code": p.code,
            "donor": p.donor,
            "pledged_on": day(p.pledged_on),
            "note": p.note,
            "lines": p.lines.iter().map(|l| json!({
                "item": l.item,
                "quantity": l.quantity,
                "earmark": l.earmark,
            })).collect::<Vec<_>>(),
        }),
    )
}

/// `pledge.cancel`: `{code, reason}`.
pub fn pledge_cancel(code: &str, reason: &str) -> String {
    digest("pledge.cancel", &json!({"code": code, "reason": reason}))
}

/// `receipt`: `{leg, received_on, received_by, rest_as_manifested,
/// lines: [{line_no, counted, damaged, damaged_to, note}]}`.
pub fn receipt(r: &NewReceipt) -> String {
    digest(
        "receipt",
        &json!({
            "leg": r.leg,
            "received_on": day(r.received_on),
            "received_by": r.received_by,
            "rest_as_manifested": r.rest_as_manifested,
            "lines": r.lines.iter().map(|l| json!({
                "line_no": l.line_no,
                "counted": l.counted,
                "damaged": l.damaged,
                "damaged_to": match l.damaged_to {
                    DamagedTo::Quarantine => "quarantine",
                    DamagedTo::Loss => "loss",
                },
                "note": l.note,
            })).collect::<Vec<_>>(),
        }),
    )
}

/// A movement of one lot at a node (`stock.quarantine`, `stock.release`,
/// `stock.write-off`): `{node, lot_id, quantity, from, to, reason, on}`,
/// `from` and `to` the places' canonical account names.
#[allow(clippy::too_many_arguments)]
pub fn stock_move(
    kind: &str,
    node: &str,
    lot_id: i64,
    quantity: i64,
    from: &str,
    to: &str,
    reason: &str,
    on: Date,
) -> String {
    digest(
        kind,
        &json!({
            "node": node,
            "lot_id": lot_id,
            "quantity": quantity,
            "from": from,
            "to": to,
            "reason": reason,
            "on": day(on),
        }),
    )
}

/// `stock.count`: `{node, counts: [{lot_id, counted}], reason, on}`.
pub fn count(node: &str, counts: &[(i64, i64)], reason: &str, on: Date) -> String {
    digest(
        "stock.count",
        &json!({
            "node": node,
            "counts": counts.iter().map(|(lot, counted)| json!({"lot_id": lot, "counted": counted})).collect::<Vec<_>>(),
            "reason": reason,
            "on": day(on),
        }),
    )
}

/// `correction`: `{entry, quantity (null: all that is left), reason}`.
pub fn correction(entry: i64, quantity: Option<i64>, reason: &str) -> String {
    digest(
        "correction",
        &json!({"entry": entry, "quantity": quantity, "reason": reason}),
    )
}

fn transfer_content(t: &NewTransfer) -> Value {
    json!({
        "code": t.code,
        "from_node": t.from_node,
        "to_node": t.to_node,
        "vehicle": t.vehicle,
        "dispatched_on": day(t.dispatched_on),
        "lines": t.lines.iter().map(|(lot, quantity)| json!({"lot_id": lot, "quantity": quantity})).collect::<Vec<_>>(),
    })
}

/// `transfer`: `{code, from_node, to_node, vehicle, dispatched_on,
/// lines: [{lot_id, quantity}]}`.
pub fn transfer(t: &NewTransfer) -> String {
    digest("transfer", &transfer_content(t))
}

/// `transfer.arrive`: `{code}`.
pub fn transfer_arrive(code: &str) -> String {
    digest("transfer.arrive", &json!({"code": code}))
}

fn load_lines(lines: &[LoadLine]) -> Value {
    Value::Array(
        lines
            .iter()
            .map(|l| json!({"lot_id": l.lot_id, "quantity": l.quantity, "request": l.request}))
            .collect(),
    )
}

fn load_lists(lists: &[(String, Vec<LoadLine>)]) -> Value {
    Value::Array(
        lists
            .iter()
            .map(|(code, lines)| json!({"departure": code, "lines": load_lines(lines)}))
            .collect(),
    )
}

/// `load`: `{departure, lines: [{lot_id, quantity, request}]}`.
pub fn load(code: &str, lines: &[LoadLine]) -> String {
    digest(
        "load",
        &json!({"departure": code, "lines": load_lines(lines)}),
    )
}

/// `load-many`: `{lists: [{departure, lines}]}`.
pub fn load_many(lists: &[(String, Vec<LoadLine>)]) -> String {
    digest("load-many", &json!({"lists": load_lists(lists)}))
}

/// `unload`: `{departure, reason, on}`.
pub fn unload(code: &str, reason: &str, on: Date) -> String {
    digest(
        "unload",
        &json!({"departure": code, "reason": reason, "on": day(on)}),
    )
}

/// `delivery`: `{departure, received_by, received_on, note,
/// lines: [{line_no, received}]}`.
pub fn delivery(d: &NewDelivery) -> String {
    digest(
        "delivery",
        &json!({
            "departure": d.departure,
            "received_by": d.received_by,
            "received_on": day(d.received_on),
            "note": d.note,
            "lines": d.lines.iter().map(|l| json!({"line_no": l.line_no, "received": l.received})).collect::<Vec<_>>(),
        }),
    )
}

/// `plan.accept`: `{plan, lists: [{departure, lines}], transfers: [transfer]}`.
pub fn plan_accept(id: i64, lists: &[(String, Vec<LoadLine>)], moves: &[NewTransfer]) -> String {
    digest(
        "plan.accept",
        &json!({
            "plan": id,
            "lists": load_lists(lists),
            "transfers": moves.iter().map(transfer_content).collect::<Vec<_>>(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeliveryLine, PledgeLine, ReceiptLine};
    use time::macros::date;

    #[test]
    fn canonical_text_sorts_keys_and_drops_white_space() {
        let value = json!({"b": [1, {"z": null, "a": "x\"y"}], "a": true, "é": 2, "Z": 1.5});
        assert_eq!(
            canonical(&value),
            r#"{"Z":1.5,"a":true,"b":[1,{"a":"x\"y","z":null}],"é":2}"#
        );
    }

    fn transfer_tr1() -> NewTransfer {
        NewTransfer {
            code: "TR-1".into(),
            from_node: "HMEIMIM-AIR".into(),
            to_node: "TARTUS-PORT".into(),
            vehicle: "Truck 7".into(),
            dispatched_on: date!(2025 - 03 - 06),
            lines: vec![(3, 400), (5, 20)],
        }
    }

    fn lines() -> Vec<LoadLine> {
        vec![
            LoadLine {
                lot_id: 3,
                quantity: 400,
                request: Some("RQ-1".into()),
            },
            LoadLine {
                lot_id: 4,
                quantity: 10,
                request: None,
            },
        ]
    }

    /// One known request per kind and its digest, fixed: an upgrade that
    /// changes any of these breaks every retry in flight. (Python gives the
    /// same: `sha256(b"reliefhub-op/1\0" + kind + b"\0" + json.dumps(content,
    /// sort_keys=True, separators=(",", ":"), ensure_ascii=False))`.)
    #[test]
    fn test_vectors() {
        let pledge_pl1 = NewPledge {
            code: "PL-1".into(),
            donor: "QA-QFFD".into(),
            pledged_on: date!(2025 - 03 - 01),
            note: "first".into(),
            lines: vec![
                PledgeLine {
                    item: "RUTF-150".into(),
                    quantity: 1000,
                    earmark: vec!["SD".into(), "TD".into()],
                },
                PledgeLine {
                    item: "ORS-CTN".into(),
                    quantity: 500,
                    earmark: vec![],
                },
            ],
        };
        let receipt_qr = NewReceipt {
            leg: "QR-8471".into(),
            received_on: date!(2025 - 03 - 05),
            received_by: "cargo shed".into(),
            lines: vec![ReceiptLine {
                line_no: 3,
                counted: 590,
                damaged: 20,
                damaged_to: DamagedTo::Loss,
                note: String::new(),
            }],
            rest_as_manifested: true,
        };
        let delivery_sea = NewDelivery {
            departure: "SEA-1".into(),
            received_by: "SD-HAC Port Sudan".into(),
            received_on: date!(2025 - 03 - 15),
            note: String::new(),
            lines: vec![DeliveryLine {
                line_no: 1,
                received: 395,
            }],
        };
        let vectors: Vec<(&str, String, &str)> = vec![
            (
                "pledge",
                pledge(&pledge_pl1),
                "0487b5aaea74c98cc908abbe6ebf4ce03f41bfff373e42329c7a0ecf7aed69db",
            ),
            (
                "pledge.cancel",
                pledge_cancel("PL-1", "donor withdrew"),
                "c13156130441719eec09d11e4481ddf5d40c56096e95577189d2333d9801ad42",
            ),
            (
                "receipt",
                receipt(&receipt_qr),
                "f1bf0686ad56aaedf892d29cc76ecda4e1ea94b063912712c21e53d3be021bf2",
            ),
            (
                "stock.quarantine",
                stock_move(
                    "stock.quarantine",
                    "HMEIMIM-AIR",
                    4,
                    7,
                    "at:HMEIMIM-AIR",
                    "quarantine:HMEIMIM-AIR",
                    "inspection",
                    date!(2025 - 03 - 06),
                ),
                "2872e39380877928910f37216d99d8f75049e6f908b1d0e2cbf00419a6926def",
            ),
            (
                "stock.count",
                count(
                    "HMEIMIM-AIR",
                    &[(3, 190), (4, 0)],
                    "cycle count",
                    date!(2025 - 03 - 07),
                ),
                "29e9b02146f8c19ba1ea6a55e408877375b9089a9a6525ab5629b13d51fd2aa1",
            ),
            (
                "correction",
                correction(20, Some(5), "wrong lot"),
                "2b32fad3efc62525fa9f22c4957eca965d2c1a7dfdf260501fe35dd493d17ad2",
            ),
            (
                "correction (all)",
                correction(20, None, "wrong lot"),
                "00712c3bf99a21f1bb0709a21b1d065fec5d79e732532bc999b39a4838601c48",
            ),
            (
                "transfer",
                transfer(&transfer_tr1()),
                "1943251e6d3b1dc6605e41777821a0cb0c91cfa139990b6b7289f644dd4e632e",
            ),
            (
                "transfer.arrive",
                transfer_arrive("TR-1"),
                "54a193bb46289d9191f4b8b3a8a44b2b6e0a6e92cac495b90868014b362b1599",
            ),
            (
                "load",
                load("SEA-1", &lines()),
                "77b58daaddab90460569d75804497fb81b5795c3f5df68ccb5fe2b84881ea9bc",
            ),
            (
                "load-many",
                load_many(&[("SEA-1".into(), lines()), ("AIR-2".into(), vec![])]),
                "f534836513b6a759d47e5893edcd9cc35293914a3a026ebc0f1703394a4dfb13",
            ),
            (
                "unload",
                unload("SEA-1", "vessel delayed", date!(2025 - 03 - 08)),
                "b79209ca910f53cc210c638d1c52e19a3f8935c2c8064bfb9c69ccd9c82be8b8",
            ),
            (
                "delivery",
                delivery(&delivery_sea),
                "bc4651ca81bf992bab79cc9e6c13a19e8609243238232289c495614dcbc5a426",
            ),
            (
                "plan.accept",
                plan_accept(7, &[("SEA-1".into(), lines())], &[transfer_tr1()]),
                "503babfed622b18fc4cdf97e60565d5681a1212ed05cd9553c55f3b24ca2cb95",
            ),
        ];
        let wrong: Vec<String> = vectors
            .iter()
            .filter(|(_, got, want)| got != want)
            .map(|(kind, got, want)| format!("{kind}: got {got}, pinned {want}"))
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// The digest depends on every field: changing any one changes it.
    #[test]
    fn every_field_counts() {
        let base = transfer_tr1();
        let d = transfer(&base);
        let variants: Vec<NewTransfer> = vec![
            NewTransfer {
                code: "TR-2".into(),
                ..base.clone()
            },
            NewTransfer {
                from_node: "X".into(),
                ..base.clone()
            },
            NewTransfer {
                to_node: "X".into(),
                ..base.clone()
            },
            NewTransfer {
                vehicle: "Truck 8".into(),
                ..base.clone()
            },
            NewTransfer {
                dispatched_on: date!(2025 - 03 - 07),
                ..base.clone()
            },
            NewTransfer {
                lines: vec![(3, 401), (5, 20)],
                ..base.clone()
            },
            NewTransfer {
                lines: vec![(5, 20), (3, 400)],
                ..base.clone()
            },
        ];
        for v in variants {
            assert_ne!(transfer(&v), d, "{v:?}");
        }
        // Kinds are separated: the same content under another kind differs.
        assert_ne!(
            digest("a", &json!({"code": "X"})),
            digest("b", &json!({"code": "X"}))
        );
    }
}
