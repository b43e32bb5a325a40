//! Master data: adding and editing items, organisations and destinations.
//!
//! Each change is checked whole (every problem listed, nothing written on a
//! refusal) and written in one transaction that the store records as one
//! operation of the trust log, named `item.add`, `item.edit`,
//! `organisation.add`, ... with the key `item:CODE`, the actor and the time.
//!
//! History keeps its meaning: a loading line keeps the kg and m³ per unit of
//! its item as loaded (see `departure.rs`), so an edit changes what is
//! loaded from then on, never a departure already loaded.
//!
//! Changes are given as [`ItemFields`], [`OrganisationFields`] and
//! [`DestinationFields`]: every field optional. Adding needs the required
//! ones; editing changes only the fields given (an empty text clears an
//! optional one).

use reliefhub_core::domain::is_locode;
use reliefhub_core::{Destination, Item, Names, Organisation, OrganisationKind};
use reliefhub_store::{
    insert_destination, insert_item, insert_organisation, read_destinations, read_items,
    read_organisations,
};

use crate::table::{column, Cell, Table};
use crate::{check_code, Aborted, Code, Ops, OpsError, Problem};

/// The categories an item may have.
pub const CATEGORIES: &[&str] = &[
    "food",
    "shelter",
    "wash",
    "health",
    "nutrition",
    "logistics",
    "energy",
];

/// The longest name or unit text kept.
const MAX_NAME: usize = 200;

/// Fields of an item to set; None leaves a field as it is (on an edit) or
/// unset (on an add: required fields must be given).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemFields {
    pub name: Option<String>,
    pub name_fr: Option<String>,
    pub name_ar: Option<String>,
    pub name_ru: Option<String>,
    pub category: Option<String>,
    pub unit: Option<String>,
    pub unit_weight_kg: Option<f64>,
    pub unit_volume_m3: Option<f64>,
    pub pack_size: Option<i64>,
    /// The whole list (replaces the item's GTINs).
    pub gtins: Option<Vec<String>>,
    /// `""` clears it.
    pub un_number: Option<String>,
    /// `""` clears it.
    pub un_class: Option<String>,
    pub cold_chain: Option<bool>,
    pub needs_expiry: Option<bool>,
    pub min_shelf_life_days: Option<i64>,
    pub value_usd_per_unit: Option<f64>,
}

/// Fields of an organisation to set.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationFields {
    pub name: Option<String>,
    pub name_fr: Option<String>,
    pub name_ar: Option<String>,
    pub name_ru: Option<String>,
    /// `donor` or `recipient`.
    pub kind: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

/// Fields of a destination to set.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationFields {
    pub name: Option<String>,
    pub name_fr: Option<String>,
    pub name_ar: Option<String>,
    pub name_ru: Option<String>,
    /// ISO 3166-1 alpha-2; when given, the UN/LOCODE's first two letters.
    pub country: Option<String>,
    /// `""` clears it.
    pub iata: Option<String>,
    /// `""` clears it.
    pub icao: Option<String>,
    pub latitude_deg: Option<f64>,
    pub longitude_deg: Option<f64>,
    pub seaport: Option<bool>,
    /// Defaults to whether it has an IATA or ICAO code.
    pub airport: Option<bool>,
}

/// What an add or edit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Edited,
    /// The same record again: nothing written.
    Unchanged,
}

fn opt_text(value: &Option<String>) -> Option<String> {
    value
        .as_ref()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A new optional text: `Some("")` clears, None keeps `old`.
fn merge_opt(new: &Option<String>, old: Option<String>) -> Option<String> {
    match new {
        Some(_) => opt_text(new),
        None => old,
    }
}

fn merge_names(fr: &Option<String>, ar: &Option<String>, ru: &Option<String>, old: Names) -> Names {
    Names {
        fr: merge_opt(fr, old.fr),
        ar: merge_opt(ar, old.ar),
        ru: merge_opt(ru, old.ru),
    }
}

fn check_text(field: &str, text: &str, required: bool, problems: &mut Vec<Problem>) {
    if required && text.trim().is_empty() {
        problems.push(Problem::new(
            Code::Required,
            field,
            "",
            format!("`{field}` must be given"),
        ));
    }
    if text.chars().count() > MAX_NAME {
        problems.push(
            Problem::new(
                Code::TextTooLong,
                field,
                text,
                format!("`{field}` is at most {MAX_NAME} characters"),
            )
            .with("max", MAX_NAME),
        );
    }
    if text.chars().any(char::is_control) {
        problems.push(Problem::new(
            Code::ControlCharacter,
            field,
            text.escape_debug(),
            format!("`{field}` holds a control character"),
        ));
    }
}

fn check_names(names: &Names, problems: &mut Vec<Problem>) {
    for (field, name) in [
        ("name_fr", &names.fr),
        ("name_ar", &names.ar),
        ("name_ru", &names.ru),
    ] {
        if let Some(name) = name {
            check_text(field, name, false, problems);
        }
    }
}

fn check_positive(field: &str, value: f64, problems: &mut Vec<Problem>) {
    if !value.is_finite() {
        problems.push(Problem::new(
            Code::NotANumber,
            field,
            value,
            format!("`{field}` must be a finite number"),
        ));
    } else if value <= 0.0 {
        problems.push(Problem::new(
            Code::ValueNotPositive,
            field,
            value,
            format!("`{field}` must be above 0"),
        ));
    }
}

/// Whether `gtin` is a GTIN-8, -12, -13 or -14 with a right check digit
/// (GS1 General Specifications, 7.9.1: weights 3 and 1 from the right).
pub fn is_gtin(gtin: &str) -> bool {
    let bytes = gtin.as_bytes();
    if ![8, 12, 13, 14].contains(&bytes.len()) || !bytes.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (body, check) = bytes.split_at(bytes.len() - 1);
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10 == u32::from(check[0] - b'0')
}

/// Whether `text` is a UN number: `UN` and four digits.
pub fn is_un_number(text: &str) -> bool {
    text.len() == 6 && text.starts_with("UN") && text[2..].bytes().all(|b| b.is_ascii_digit())
}

/// Whether `text` is a dangerous-goods class or division: 1 to 9, then
/// optionally `.` and a digit 1 to 6, and for class 1 a compatibility
/// group letter (`1.4S`).
pub fn is_un_class(text: &str) -> bool {
    let b = text.as_bytes();
    match b {
        [c] => (b'1'..=b'9').contains(c),
        [c, b'.', d] => (b'1'..=b'9').contains(c) && (b'1'..=b'6').contains(d),
        [b'1', b'.', d, g] => (b'1'..=b'6').contains(d) && g.is_ascii_uppercase(),
        _ => false,
    }
}

fn check_item(item: &Item, others: &[Item], problems: &mut Vec<Problem>) {
    check_code("item", &item.code, problems);
    check_text("name", &item.name, true, problems);
    check_names(&item.names, problems);
    check_text("unit", &item.unit, true, problems);
    if !CATEGORIES.contains(&item.category.as_str()) {
        problems.push(Problem::new(
            Code::UnknownCategory,
            "category",
            &item.category,
            format!("an item's category is one of {}", CATEGORIES.join(", ")),
        ));
    }
    check_positive("unit_weight_kg", item.unit_weight_kg, problems);
    check_positive("unit_volume_m3", item.unit_volume_m3, problems);
    if item.pack_size == 0 {
        problems.push(Problem::new(
            Code::ValueNotPositive,
            "pack_size",
            item.pack_size,
            "`pack_size` (units per pack) must be above 0",
        ));
    }
    for (i, gtin) in item.gtins.iter().enumerate() {
        let field = format!("gtins[{i}]");
        if !is_gtin(gtin) {
            problems.push(Problem::new(
                Code::BadGtin,
                &field,
                gtin,
                format!("`{gtin}` is not a GTIN: 8, 12, 13 or 14 digits ending with the GS1 check digit"),
            ));
            continue;
        }
        if item.gtins[..i].contains(gtin) {
            problems.push(Problem::new(
                Code::DuplicateGtin,
                &field,
                gtin,
                format!("GTIN `{gtin}` is given twice"),
            ));
        } else if let Some(other) = others
            .iter()
            .find(|o| o.code != item.code && o.gtins.contains(gtin))
        {
            problems.push(
                Problem::new(
                    Code::DuplicateGtin,
                    &field,
                    gtin,
                    format!("GTIN `{gtin}` already names item `{}`", other.code),
                )
                .with("item", &other.code),
            );
        }
    }
    if let Some(un) = &item.un_number {
        if !is_un_number(un) {
            problems.push(Problem::new(
                Code::BadUnNumber,
                "un_number",
                un,
                "a UN number is `UN` and four digits, such as UN3481",
            ));
        }
    }
    if let Some(class) = &item.un_class {
        if !is_un_class(class) || item.un_number.is_none() {
            problems.push(Problem::new(
                Code::BadUnClass,
                "un_class",
                class,
                if item.un_number.is_none() {
                    "a dangerous-goods class goes with a UN number".to_string()
                } else {
                    "a dangerous-goods class is 1 to 9 with an optional division, such as 9 or 4.1"
                        .to_string()
                },
            ));
        }
    }
    if item.min_shelf_life_days > 3650 {
        problems.push(
            Problem::new(
                Code::OutOfRange,
                "min_shelf_life_days",
                item.min_shelf_life_days,
                "a minimum shelf life is from 0 to 3650 days",
            )
            .with("min", 0)
            .with("max", 3650),
        );
    }
    if item.min_shelf_life_days > 0 && !item.needs_expiry {
        problems.push(Problem::new(
            Code::ShelfLifeNeedsExpiry,
            "needs_expiry",
            "false",
            "an item with a minimum shelf life needs an expiry date on its lots",
        ));
    }
    if let Some(value) = item.value_usd_per_unit {
        if !value.is_finite() {
            problems.push(Problem::new(
                Code::NotANumber,
                "value_usd_per_unit",
                value,
                "the value per unit must be a finite number",
            ));
        } else if value < 0.0 {
            problems.push(Problem::new(
                Code::NegativeValue,
                "value_usd_per_unit",
                value,
                "the value per unit in US dollars must be 0 or more",
            ));
        }
    }
}

fn to_u32(field: &str, value: i64, problems: &mut Vec<Problem>) -> u32 {
    if value < 0 {
        problems.push(Problem::new(
            Code::NegativeValue,
            field,
            value,
            format!("`{field}` must be 0 or more"),
        ));
        return 0;
    }
    u32::try_from(value).unwrap_or_else(|_| {
        problems.push(Problem::new(
            Code::OutOfRange,
            field,
            value,
            format!("`{field}` is too large"),
        ));
        0
    })
}

/// The item as `fields` make it from `old` (None: a new item).
fn merged_item(
    code: &str,
    fields: &ItemFields,
    old: Option<Item>,
    problems: &mut Vec<Problem>,
) -> Item {
    let is_new = old.is_none();
    let required = |field: &str, problems: &mut Vec<Problem>| {
        problems.push(Problem::new(
            Code::Required,
            field,
            "",
            format!("a new item needs `{field}`"),
        ));
    };
    let old = old.unwrap_or_else(|| Item {
        code: code.to_string(),
        name: String::new(),
        category: String::new(),
        unit: String::new(),
        unit_weight_kg: 0.0,
        unit_volume_m3: 0.0,
        cold_chain: false,
        un_number: None,
        min_shelf_life_days: 0,
        needs_expiry: false,
        names: Names::default(),
        pack_size: 1,
        gtins: Vec::new(),
        un_class: None,
        value_usd_per_unit: None,
    });
    if is_new {
        if fields.name.is_none() {
            required("name", problems);
        }
        if fields.category.is_none() {
            required("category", problems);
        }
        if fields.unit.is_none() {
            required("unit", problems);
        }
        if fields.unit_weight_kg.is_none() {
            required("unit_weight_kg", problems);
        }
        if fields.unit_volume_m3.is_none() {
            required("unit_volume_m3", problems);
        }
    }
    let min_shelf_life_days = match fields.min_shelf_life_days {
        Some(v) => to_u32("min_shelf_life_days", v, problems),
        None => old.min_shelf_life_days,
    };
    let pack_size = match fields.pack_size {
        Some(v) if v <= 0 => {
            problems.push(Problem::new(
                Code::ValueNotPositive,
                "pack_size",
                v,
                "`pack_size` (units per pack) must be above 0",
            ));
            1
        }
        Some(v) => to_u32("pack_size", v, problems),
        None => old.pack_size,
    };
    Item {
        code: code.to_string(),
        name: fields
            .name
            .as_deref()
            .map_or(old.name, |n| n.trim().to_string()),
        category: fields
            .category
            .as_deref()
            .map_or(old.category, |c| c.trim().to_string()),
        unit: fields
            .unit
            .as_deref()
            .map_or(old.unit, |u| u.trim().to_string()),
        unit_weight_kg: fields.unit_weight_kg.unwrap_or(old.unit_weight_kg),
        unit_volume_m3: fields.unit_volume_m3.unwrap_or(old.unit_volume_m3),
        cold_chain: fields.cold_chain.unwrap_or(old.cold_chain),
        un_number: merge_opt(&fields.un_number, old.un_number),
        // A minimum shelf life on a new item implies its lots need an expiry.
        needs_expiry: fields
            .needs_expiry
            .unwrap_or(old.needs_expiry || (is_new && min_shelf_life_days > 0)),
        min_shelf_life_days,
        names: merge_names(&fields.name_fr, &fields.name_ar, &fields.name_ru, old.names),
        pack_size,
        gtins: fields.gtins.clone().map_or(old.gtins, |g| {
            g.iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        }),
        un_class: merge_opt(&fields.un_class, old.un_class),
        value_usd_per_unit: fields.value_usd_per_unit.or(old.value_usd_per_unit),
    }
}

fn check_country(ops_refs: &crate::Refs, field: &str, country: &str, problems: &mut Vec<Problem>) {
    if !ops_refs.is_country(country) {
        problems.push(Problem::new(
            Code::CountryUnknown,
            field,
            country,
            format!("`{country}` is not an ISO 3166-1 alpha-2 code of a country"),
        ));
    }
}

fn merged_organisation(
    code: &str,
    fields: &OrganisationFields,
    old: Option<Organisation>,
    problems: &mut Vec<Problem>,
) -> Organisation {
    let is_new = old.is_none();
    for (field, given) in [
        ("name", fields.name.is_some()),
        ("kind", fields.kind.is_some()),
        ("country", fields.country.is_some()),
    ] {
        if is_new && !given {
            problems.push(Problem::new(
                Code::Required,
                field,
                "",
                format!("a new organisation needs `{field}`"),
            ));
        }
    }
    let old = old.unwrap_or_else(|| Organisation {
        code: code.to_string(),
        name: String::new(),
        kind: OrganisationKind::Donor,
        country: String::new(),
        names: Names::default(),
    });
    let kind = match fields.kind.as_deref().map(str::trim) {
        None => old.kind,
        Some(text) => match OrganisationKind::parse(text) {
            Some(kind @ (OrganisationKind::Donor | OrganisationKind::Recipient)) => kind,
            _ => {
                problems.push(Problem::new(
                    Code::NotAnOrganisationKind,
                    "kind",
                    text,
                    "an organisation is a `donor` or a `recipient`",
                ));
                old.kind
            }
        },
    };
    Organisation {
        code: code.to_string(),
        name: fields
            .name
            .as_deref()
            .map_or(old.name, |n| n.trim().to_string()),
        kind,
        country: fields
            .country
            .as_deref()
            .map_or(old.country, |c| c.trim().to_string()),
        names: merge_names(&fields.name_fr, &fields.name_ar, &fields.name_ru, old.names),
    }
}

fn check_airport_code(field: &str, code: &Option<String>, len: usize, problems: &mut Vec<Problem>) {
    if let Some(code) = code {
        let ok = code.len() == len
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (len == 4 && b.is_ascii_digit()));
        if !ok {
            problems.push(Problem::new(
                Code::BadAirportCode,
                field,
                code,
                if len == 3 {
                    "an IATA airport code is 3 capital letters"
                } else {
                    "an ICAO airport code is 4 capital letters or digits"
                },
            ));
        }
    }
}

fn merged_destination(
    locode: &str,
    fields: &DestinationFields,
    old: Option<Destination>,
    problems: &mut Vec<Problem>,
) -> Destination {
    let is_new = old.is_none();
    for (field, given) in [
        ("name", fields.name.is_some()),
        ("latitude_deg", fields.latitude_deg.is_some()),
        ("longitude_deg", fields.longitude_deg.is_some()),
    ] {
        if is_new && !given {
            problems.push(Problem::new(
                Code::Required,
                field,
                "",
                format!("a new destination needs `{field}`"),
            ));
        }
    }
    let old = old.unwrap_or_else(|| Destination {
        locode: locode.to_string(),
        name: String::new(),
        iata: None,
        icao: None,
        latitude_deg: 0.0,
        longitude_deg: 0.0,
        seaport: false,
        airport: false,
        names: Names::default(),
    });
    let iata = merge_opt(&fields.iata, old.iata);
    let icao = merge_opt(&fields.icao, old.icao);
    let airport = fields.airport.unwrap_or(
        if is_new || fields.iata.is_some() || fields.icao.is_some() {
            iata.is_some() || icao.is_some()
        } else {
            old.airport
        },
    );
    Destination {
        locode: locode.to_string(),
        name: fields
            .name
            .as_deref()
            .map_or(old.name, |n| n.trim().to_string()),
        iata,
        icao,
        latitude_deg: fields.latitude_deg.unwrap_or(old.latitude_deg),
        longitude_deg: fields.longitude_deg.unwrap_or(old.longitude_deg),
        seaport: fields.seaport.unwrap_or(old.seaport),
        airport,
        names: merge_names(&fields.name_fr, &fields.name_ar, &fields.name_ru, old.names),
    }
}

fn check_coordinate(field: &str, value: f64, limit: f64, problems: &mut Vec<Problem>) {
    if !value.is_finite() || value.abs() > limit {
        problems.push(
            Problem::new(
                Code::OutOfRange,
                field,
                value,
                format!("`{field}` is from -{limit} to {limit} degrees"),
            )
            .with("min", -limit)
            .with("max", limit),
        );
    }
}

/// One recorded change of a master-data record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterChange {
    /// `item.add`, `item.edit`, ...
    pub kind: String,
    pub recorded_at_unix_ms: i64,
    pub actor: String,
}

fn text_or_empty(value: Option<&str>) -> Cell {
    value.map_or(Cell::Empty, |v| Cell::Text(v.to_string()))
}

fn yes_no(value: bool) -> Cell {
    Cell::Text(if value { "yes" } else { "no" }.to_string())
}

impl Ops {
    /// The changes recorded for one record (`item`, `organisation` or
    /// `destination` and its code), oldest first. Records of the built-in
    /// catalogue have none until edited.
    pub fn master_history(
        &mut self,
        what: &str,
        code: &str,
    ) -> Result<Vec<MasterChange>, OpsError> {
        let key = format!("{what}:{code}");
        let rows = self.store.read(|conn| {
            conn.query(
                "SELECT kind, recorded_at_unix_ms, actor FROM operations WHERE op_key = $1 ORDER BY leaf_index",
                &[key.as_str().into()],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(MasterChange {
                    kind: r[0].text()?,
                    recorded_at_unix_ms: r[1].int()?,
                    actor: r[2].text()?,
                })
            })
            .collect::<Result<_, reliefhub_store::StoreError>>()
            .map_err(OpsError::from)
    }

    /// The catalogue as a table.
    pub fn item_table(&mut self) -> Result<Table, OpsError> {
        let mut table = Table::new(
            "Items",
            vec![
                column("code", "#item+code"),
                column("name", "#item+name"),
                column("name_fr", "#item+name+i_fr"),
                column("name_ar", "#item+name+i_ar"),
                column("name_ru", "#item+name+i_ru"),
                column("category", "#sector"),
                column("unit", "#item+unit"),
                column("unit_weight_kg", "#indicator+weight_kg"),
                column("unit_volume_m3", "#indicator+volume_m3"),
                column("pack_size", "#indicator+pack_size"),
                column("gtins", "#item+gtin"),
                column("un_number", "#item+un_number"),
                column("un_class", "#item+un_class"),
                column("cold_chain", "#indicator+cold_chain"),
                column("needs_expiry", "#indicator+needs_expiry"),
                column("min_shelf_life_days", "#indicator+shelf_life_days"),
                column("value_usd_per_unit", "#value+usd"),
            ],
        );
        for i in self.items()? {
            table.push(vec![
                Cell::Text(i.code.clone()),
                Cell::Text(i.name.clone()),
                text_or_empty(i.names.fr.as_deref()),
                text_or_empty(i.names.ar.as_deref()),
                text_or_empty(i.names.ru.as_deref()),
                Cell::Text(i.category.clone()),
                Cell::Text(i.unit.clone()),
                Cell::Real(i.unit_weight_kg, 3),
                Cell::Real(i.unit_volume_m3, 4),
                Cell::Int(i64::from(i.pack_size)),
                Cell::Text(i.gtins.join(" ")),
                text_or_empty(i.un_number.as_deref()),
                text_or_empty(i.un_class.as_deref()),
                yes_no(i.cold_chain),
                yes_no(i.needs_expiry),
                Cell::Int(i64::from(i.min_shelf_life_days)),
                i.value_usd_per_unit
                    .map_or(Cell::Empty, |v| Cell::Real(v, 2)),
            ]);
        }
        Ok(table)
    }

    /// Organisations as a table.
    pub fn organisation_table(&mut self) -> Result<Table, OpsError> {
        let mut table = Table::new(
            "Organisations",
            vec![
                column("code", "#org+code"),
                column("name", "#org+name"),
                column("name_fr", "#org+name+i_fr"),
                column("name_ar", "#org+name+i_ar"),
                column("name_ru", "#org+name+i_ru"),
                column("kind", "#org+type"),
                column("country", "#country+code"),
            ],
        );
        for o in self.organisation_records()? {
            table.push(vec![
                Cell::Text(o.code.clone()),
                Cell::Text(o.name.clone()),
                text_or_empty(o.names.fr.as_deref()),
                text_or_empty(o.names.ar.as_deref()),
                text_or_empty(o.names.ru.as_deref()),
                Cell::Text(o.kind.code().to_string()),
                Cell::Text(o.country.clone()),
            ]);
        }
        Ok(table)
    }

    /// Destinations as a table.
    pub fn destination_table(&mut self) -> Result<Table, OpsError> {
        let mut table = Table::new(
            "Destinations",
            vec![
                column("locode", "#loc+code"),
                column("name", "#loc+name"),
                column("name_fr", "#loc+name+i_fr"),
                column("name_ar", "#loc+name+i_ar"),
                column("name_ru", "#loc+name+i_ru"),
                column("country", "#country+code"),
                column("iata", "#loc+code+iata"),
                column("icao", "#loc+code+icao"),
                column("seaport", "#indicator+seaport"),
                column("airport", "#indicator+airport"),
                column("latitude_deg", "#geo+lat"),
                column("longitude_deg", "#geo+lon"),
            ],
        );
        for d in self.destination_records()? {
            table.push(vec![
                Cell::Text(d.locode.clone()),
                Cell::Text(d.name.clone()),
                text_or_empty(d.names.fr.as_deref()),
                text_or_empty(d.names.ar.as_deref()),
                text_or_empty(d.names.ru.as_deref()),
                Cell::Text(d.country().to_string()),
                text_or_empty(d.iata.as_deref()),
                text_or_empty(d.icao.as_deref()),
                yes_no(d.seaport),
                yes_no(d.airport),
                Cell::Real(d.latitude_deg, 4),
                Cell::Real(d.longitude_deg, 4),
            ]);
        }
        Ok(table)
    }

    /// The catalogue's items, by code.
    pub fn items(&mut self) -> Result<Vec<Item>, OpsError> {
        Ok(self.store.items()?)
    }

    /// One item, if it exists.
    pub fn item(&mut self, code: &str) -> Result<Option<Item>, OpsError> {
        Ok(self.store.read(|conn| read_items(conn, Some(code)))?.pop())
    }

    /// Organisations, by code.
    pub fn organisation_records(&mut self) -> Result<Vec<Organisation>, OpsError> {
        Ok(self.store.organisations()?)
    }

    /// One organisation, if it exists.
    pub fn organisation(&mut self, code: &str) -> Result<Option<Organisation>, OpsError> {
        Ok(self
            .store
            .read(|conn| read_organisations(conn, Some(code)))?
            .pop())
    }

    /// Destinations, by UN/LOCODE.
    pub fn destination_records(&mut self) -> Result<Vec<Destination>, OpsError> {
        Ok(self.store.destinations()?)
    }

    /// One destination, if it exists.
    pub fn destination(&mut self, locode: &str) -> Result<Option<Destination>, OpsError> {
        Ok(self
            .store
            .read(|conn| read_destinations(conn, Some(locode)))?
            .pop())
    }

    /// Adds an item (`edit` false) or edits one (`edit` true). Adding a code
    /// that exists is refused unless it is the same record (then nothing
    /// changes); editing a code that does not exist is refused.
    pub fn put_item(
        &mut self,
        code: &str,
        fields: &ItemFields,
        edit: bool,
    ) -> Result<(Item, Change), OpsError> {
        let code = code.trim().to_string();
        let kind = if edit { "item.edit" } else { "item.add" };
        let mut aborted = Aborted::new();
        let result = self
            .store
            .write_named(kind, &format!("item:{code}"), |conn| {
                let all = read_items(conn, None)?;
                let old = all.iter().find(|i| i.code == code).cloned();
                let mut problems = Vec::new();
                match (&old, edit) {
                    (None, true) => {
                        check_code("item", &code, &mut problems);
                        problems.push(Problem::new(
                            Code::UnknownItem,
                            "code",
                            &code,
                            format!("item `{code}` is not in the catalogue: add it first"),
                        ));
                        return Err(aborted.abort(OpsError::Refused(problems)));
                    }
                    (Some(_), false) => {
                        let new = merged_item(&code, fields, None, &mut problems);
                        if problems.is_empty() && Some(&new) == old.as_ref() {
                            return Ok((new, Change::Unchanged));
                        }
                        return Err(aborted.abort(OpsError::refused(
                            Code::DuplicateCode,
                            "code",
                            &code,
                            format!("item `{code}` already exists with other details; edit it, or give the new item another code"),
                        )));
                    }
                    _ => {}
                }
                let new = merged_item(&code, fields, old.clone(), &mut problems);
                check_item(&new, &all, &mut problems);
                if !problems.is_empty() {
                    return Err(aborted.abort(OpsError::Refused(problems)));
                }
                if old.as_ref() == Some(&new) {
                    return Ok((new, Change::Unchanged));
                }
                insert_item(conn, &new, edit)?;
                Ok((new, if edit { Change::Edited } else { Change::Added }))
            });
        aborted.resolve(result)
    }

    /// Adds or edits an organisation (a donor or a recipient agency), as
    /// [`Ops::put_item`] does an item.
    pub fn put_organisation(
        &mut self,
        code: &str,
        fields: &OrganisationFields,
        edit: bool,
    ) -> Result<(Organisation, Change), OpsError> {
        let code = code.trim().to_string();
        let refs = self.refs()?;
        let kind = if edit {
            "organisation.edit"
        } else {
            "organisation.add"
        };
        let mut aborted = Aborted::new();
        let result = self
            .store
            .write_named(kind, &format!("organisation:{code}"), |conn| {
                let old = read_organisations(conn, Some(&code))?.pop();
                let mut problems = Vec::new();
                match (&old, edit) {
                    (None, true) => {
                        return Err(aborted.abort(OpsError::refused(
                            Code::UnknownOrganisation,
                            "code",
                            &code,
                            format!("organisation `{code}` does not exist: add it first"),
                        )));
                    }
                    (Some(existing), false) => {
                        let new = merged_organisation(&code, fields, None, &mut problems);
                        if problems.is_empty() && &new == existing {
                            return Ok((new, Change::Unchanged));
                        }
                        return Err(aborted.abort(OpsError::refused(
                            Code::DuplicateCode,
                            "code",
                            &code,
                            format!("organisation `{code}` already exists with other details; edit it, or give the new one another code"),
                        )));
                    }
                    _ => {}
                }
                if old.as_ref().is_some_and(|o| o.kind == OrganisationKind::Hub) {
                    problems.push(Problem::new(
                        Code::NotAnOrganisationKind,
                        "kind",
                        "hub",
                        "the hub's own organisation is not edited here",
                    ));
                }
                let new = merged_organisation(&code, fields, old.clone(), &mut problems);
                check_code("organisation", &code, &mut problems);
                check_text("name", &new.name, true, &mut problems);
                check_names(&new.names, &mut problems);
                check_country(&refs, "country", &new.country, &mut problems);
                if !problems.is_empty() {
                    return Err(aborted.abort(OpsError::Refused(problems)));
                }
                if old.as_ref() == Some(&new) {
                    return Ok((new, Change::Unchanged));
                }
                insert_organisation(conn, &new, edit)?;
                Ok((new, if edit { Change::Edited } else { Change::Added }))
            });
        aborted.resolve(result)
    }

    /// Adds or edits a destination, keyed by its UN/LOCODE, as
    /// [`Ops::put_item`] does an item.
    pub fn put_destination(
        &mut self,
        locode: &str,
        fields: &DestinationFields,
        edit: bool,
    ) -> Result<(Destination, Change), OpsError> {
        let locode = locode.trim().to_string();
        let refs = self.refs()?;
        let kind = if edit {
            "destination.edit"
        } else {
            "destination.add"
        };
        let mut aborted = Aborted::new();
        let result = self
            .store
            .write_named(kind, &format!("destination:{locode}"), |conn| {
                let mut problems = Vec::new();
                if !is_locode(&locode) {
                    problems.push(Problem::new(
                        Code::BadLocode,
                        "locode",
                        &locode,
                        "a UN/LOCODE is two capital letters of country and three capital letters or digits 2-9 of place, such as SDPZU",
                    ));
                    return Err(aborted.abort(OpsError::Refused(problems)));
                }
                let old = read_destinations(conn, Some(&locode))?.pop();
                match (&old, edit) {
                    (None, true) => {
                        return Err(aborted.abort(OpsError::refused(
                            Code::UnknownDestination,
                            "locode",
                            &locode,
                            format!("destination `{locode}` does not exist: add it first"),
                        )));
                    }
                    (Some(existing), false) => {
                        let new = merged_destination(&locode, fields, None, &mut problems);
                        if problems.is_empty() && &new == existing {
                            return Ok((new, Change::Unchanged));
                        }
                        return Err(aborted.abort(OpsError::refused(
                            Code::DuplicateCode,
                            "locode",
                            &locode,
                            format!("destination `{locode}` already exists with other details; edit it instead"),
                        )));
                    }
                    _ => {}
                }
                let new = merged_destination(&locode, fields, old.clone(), &mut problems);
                check_country(&refs, "locode", new.country(), &mut problems);
                if let Some(country) = fields.country.as_deref().map(str::trim) {
                    if country != new.country() {
                        problems.push(
                            Problem::new(
                                Code::CountryMismatch,
                                "country",
                                country,
                                format!(
                                    "the country of `{locode}` is `{}`, the first two letters of its UN/LOCODE",
                                    new.country()
                                ),
                            )
                            .with("expected", new.country()),
                        );
                    }
                }
                check_text("name", &new.name, true, &mut problems);
                check_names(&new.names, &mut problems);
                check_airport_code("iata", &new.iata, 3, &mut problems);
                check_airport_code("icao", &new.icao, 4, &mut problems);
                check_coordinate("latitude_deg", new.latitude_deg, 90.0, &mut problems);
                check_coordinate("longitude_deg", new.longitude_deg, 180.0, &mut problems);
                if !problems.is_empty() {
                    return Err(aborted.abort(OpsError::Refused(problems)));
                }
                if old.as_ref() == Some(&new) {
                    return Ok((new, Change::Unchanged));
                }
                insert_destination(conn, &new, edit)?;
                Ok((new, if edit { Change::Edited } else { Change::Added }))
            });
        aborted.resolve(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtins_check_their_check_digit() {
        for good in [
            "96385074",
            "036000291452",
            "4006381333931",
            "10614141000415",
        ] {
            assert!(is_gtin(good), "{good}");
        }
        for bad in [
            "96385075",
            "4006381333932",
            "400638133393",
            "40063813339A1",
            "",
        ] {
            assert!(!is_gtin(bad), "{bad}");
        }
    }

    #[test]
    fn un_numbers_and_classes_have_their_shape() {
        assert!(is_un_number("UN3481") && !is_un_number("UN348") && !is_un_number("3481"));
        for good in ["9", "4.1", "1.4S", "5.1"] {
            assert!(is_un_class(good), "{good}");
        }
        for bad in ["0", "10", "4.7", "2.1S", "x"] {
            assert!(!is_un_class(bad), "{bad}");
        }
    }
}
