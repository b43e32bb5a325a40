//! Master data through the HTTP API, on SQLite and PostgreSQL: an admin adds
//! and edits an item, an organisation and a destination; a refusal answers
//! 422 with every problem's code and writes nothing; other roles get 403;
//! the reference lists carry the names in four languages; a pledge of the
//! new item by the new donor is accepted.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Client, Server};
use serde_json::{json, Value};

fn codes(reply: &common::Reply) -> Vec<String> {
    reply.json["error"]["problems"]
        .as_array()
        .map(|p| {
            p.iter()
                .map(|x| x["code"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn find<'a>(list: &'a Value, key: &str, code: &str) -> Option<&'a Value> {
    list.as_array()
        .unwrap()
        .iter()
        .find(|x| x[key] == json!(code))
}

fn master_data_over_http(url: &str) {
    common::seed(url, false);
    let server = Server::start(url);
    let c: Client = server.client();
    let admin = c.login("admin");
    let op = c.login("operator");

    let item = json!({"code": "WATER-BLADDER", "name": "Water bladder 5 m3", "name_ar": "خزان مياه مرن 5 م3",
        "category": "wash", "unit": "piece", "unit_weight_kg": 45.0, "unit_volume_m3": 0.15,
        "gtins": ["4006381333931"], "value_usd_per_unit": 900.0});
    assert_eq!(
        c.post("/api/items", &op, "i-op", &item).status,
        403,
        "operators do not edit master data"
    );
    let added = c.post("/api/items", &admin, "i-1", &item);
    assert_eq!(added.status, 201, "{}", added.text);
    assert_eq!(added.json["value_usd_per_unit"], json!(900.0));

    let before = c.get("/api/items", &admin).json;
    let bad = c.post("/api/items", &admin, "i-bad",
        &json!({"code": "BAD-ITEM", "name": "x", "category": "toys", "unit": "u", "unit_weight_kg": -1.0,
                "unit_volume_m3": 0.0, "gtins": ["4006381333932"], "un_number": "UN12"}));
    assert_eq!(bad.status, 422, "{}", bad.text);
    let got = codes(&bad);
    for code in [
        "unknown_category",
        "value_not_positive",
        "bad_gtin",
        "bad_un_number",
    ] {
        assert!(got.iter().any(|c| c == code), "{code} missing in {got:?}");
    }
    assert_eq!(
        c.get("/api/items", &admin).json,
        before,
        "a refusal writes nothing"
    );
    let unknown = c.post(
        "/api/items/NO-SUCH",
        &admin,
        "i-unknown",
        &json!({"unit_weight_kg": 2.0}),
    );
    // Unknown to the hub's data: 409.
    assert_eq!(unknown.status, 409);
    assert_eq!(codes(&unknown), ["unknown_item"]);

    let edited = c.post(
        "/api/items/WATER-BLADDER",
        &admin,
        "i-2",
        &json!({"unit_weight_kg": 46.0}),
    );
    assert_eq!(edited.status, 200, "{}", edited.text);
    let items = c.get("/api/items", &op).json;
    let listed = find(&items, "code", "WATER-BLADDER").unwrap();
    assert_eq!(listed["unit_weight_kg"], json!(46.0));
    assert_eq!(listed["name_ar"], json!("خزان مياه مرن 5 م3"));

    let org = c.post("/api/organisations", &admin, "o-1",
        &json!({"code": "JP-JICA", "name": "Japan International Cooperation Agency", "kind": "donor", "country": "JP"}));
    assert_eq!(org.status, 201, "{}", org.text);
    let bad_org = c.post(
        "/api/organisations",
        &admin,
        "o-2",
        &json!({"code": "XX-AID", "name": "x", "kind": "donor", "country": "XX"}),
    );
    assert_eq!(codes(&bad_org), ["country_unknown"]);

    let dest = c.post("/api/destinations", &admin, "d-1",
        &json!({"locode": "SDKSL", "name": "Kassala", "name_fr": "Kassala", "name_ar": "كسلا", "name_ru": "Кассала",
                "iata": "KSL", "latitude_deg": 15.387, "longitude_deg": 36.329}));
    assert_eq!(dest.status, 201, "{}", dest.text);
    let bad_dest = c.post(
        "/api/destinations",
        &admin,
        "d-2",
        &json!({"locode": "SD-KS", "name": "x", "latitude_deg": 1.0, "longitude_deg": 1.0}),
    );
    assert_eq!(codes(&bad_dest), ["bad_locode"]);
    let destinations = c.get("/api/destinations", &op).json;
    let kassala = find(&destinations, "locode", "SDKSL").unwrap();
    assert_eq!(kassala["name_ar"], json!("كسلا"));
    assert_eq!(kassala["airport"], json!(true));

    // The new donor pledges the new item.
    let pledge = c.post(
        "/api/pledges",
        &op,
        "p-1",
        &json!({"code": "JP-PL-1", "donor": "JP-JICA", "pledged_on": common::DEMO_TODAY,
                "lines": [{"item": "WATER-BLADDER", "quantity": 40, "earmark": ["SD"]}]}),
    );
    assert_eq!(pledge.status, 201, "{}", pledge.text);

    // The audit log names each change and its actor.
    let log = c.get("/api/log", &admin).json;
    let text = log.to_string();
    for kind in [
        "item.add",
        "item.edit",
        "organisation.add",
        "destination.add",
    ] {
        assert!(text.contains(kind), "{kind} not in the log");
    }
}

reliefhub_testkit::both_backends!(master_data_over_http);
