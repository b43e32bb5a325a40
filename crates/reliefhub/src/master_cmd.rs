//! Master data commands: `item`, `org` and `destination`, each with `add`,
//! `edit`, `list` and `show`. Fields come as flags, from a JSON file
//! (`--file`, the fields the API takes), or both (flags win).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use reliefhub_core::domain::format_date;
use reliefhub_ops::table::Output;
use reliefhub_ops::{
    Change, Code, DestinationFields, ItemFields, MasterChange, Ops, OpsError, OrganisationFields,
    Problem,
};

#[derive(Args, Debug, Clone)]
pub struct ListFormat {
    /// Print JSON.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV with an HXL hashtag row.
    #[arg(long)]
    csv: bool,
}

impl ListFormat {
    fn output(&self) -> Output {
        if self.json {
            Output::Json
        } else if self.csv {
            Output::Csv
        } else {
            Output::Text
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum ItemCommand {
    /// Add an item to the catalogue (needs --name, --category, --unit,
    /// --kg and --m3, by flag or in --file).
    Add(ItemArgs),
    /// Change the fields given of an item; the others stay.
    Edit(ItemArgs),
    /// The catalogue.
    List(ListFormat),
    /// One item and its recorded changes.
    Show { code: String },
}

#[derive(Args, Debug)]
#[command(allow_negative_numbers = true)]
pub struct ItemArgs {
    /// The item's code, such as RUTF-150.
    code: String,
    /// A JSON object of fields (`name`, `name_fr`, `unit_weight_kg`, ...).
    #[arg(long)]
    file: Option<PathBuf>,
    /// The name in English.
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    name_fr: Option<String>,
    #[arg(long)]
    name_ar: Option<String>,
    #[arg(long)]
    name_ru: Option<String>,
    /// food, shelter, wash, health, nutrition, logistics or energy.
    #[arg(long)]
    category: Option<String>,
    /// What one unit is: carton, bag, kit, ...
    #[arg(long)]
    unit: Option<String>,
    /// Kilograms per unit.
    #[arg(long = "kg")]
    unit_weight_kg: Option<f64>,
    /// Cubic metres per unit.
    #[arg(long = "m3")]
    unit_volume_m3: Option<f64>,
    /// Units per pack.
    #[arg(long)]
    pack_size: Option<i64>,
    /// A GTIN (repeat for more; replaces the item's list). `--gtin ""`
    /// clears the list.
    #[arg(long = "gtin")]
    gtins: Vec<String>,
    /// UN number of a dangerous good (UN3481); "" clears it.
    #[arg(long)]
    un_number: Option<String>,
    /// Dangerous-goods class (9, 4.1); "" clears it.
    #[arg(long)]
    un_class: Option<String>,
    #[arg(long)]
    cold_chain: Option<bool>,
    #[arg(long)]
    needs_expiry: Option<bool>,
    #[arg(long)]
    min_shelf_life_days: Option<i64>,
    /// Value of one unit in US dollars.
    #[arg(long = "value-usd")]
    value_usd_per_unit: Option<f64>,
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Add a donor or recipient agency (needs --name, --kind, --country).
    Add(OrgArgs),
    /// Change the fields given of an organisation.
    Edit(OrgArgs),
    /// Every organisation.
    List(ListFormat),
    /// One organisation and its recorded changes.
    Show { code: String },
}

#[derive(Args, Debug)]
pub struct OrgArgs {
    code: String,
    /// A JSON object of fields (`name`, `kind`, `country`, ...).
    #[arg(long)]
    file: Option<PathBuf>,
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    name_fr: Option<String>,
    #[arg(long)]
    name_ar: Option<String>,
    #[arg(long)]
    name_ru: Option<String>,
    /// donor or recipient.
    #[arg(long)]
    kind: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[arg(long)]
    country: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum DestinationCommand {
    /// Add a destination by UN/LOCODE (needs --name, --lat, --lon).
    Add(DestinationArgs),
    /// Change the fields given of a destination.
    Edit(DestinationArgs),
    /// Every destination.
    List(ListFormat),
    /// One destination and its recorded changes.
    Show { locode: String },
}

#[derive(Args, Debug)]
#[command(allow_negative_numbers = true)]
pub struct DestinationArgs {
    /// The UN/LOCODE, such as SDPZU.
    locode: String,
    /// A JSON object of fields (`name`, `iata`, `latitude_deg`, ...).
    #[arg(long)]
    file: Option<PathBuf>,
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    name_fr: Option<String>,
    #[arg(long)]
    name_ar: Option<String>,
    #[arg(long)]
    name_ru: Option<String>,
    /// ISO 3166-1 alpha-2; must be the UN/LOCODE's first two letters.
    #[arg(long)]
    country: Option<String>,
    /// IATA airport code; "" clears it.
    #[arg(long)]
    iata: Option<String>,
    /// ICAO airport code; "" clears it.
    #[arg(long)]
    icao: Option<String>,
    #[arg(long = "lat")]
    latitude_deg: Option<f64>,
    #[arg(long = "lon")]
    longitude_deg: Option<f64>,
    #[arg(long)]
    seaport: Option<bool>,
    /// By default: whether it has an IATA or ICAO code.
    #[arg(long)]
    airport: Option<bool>,
}

/// The fields of a JSON file, or none.
fn from_file<T: serde::de::DeserializeOwned + Default>(
    file: &Option<PathBuf>,
) -> anyhow::Result<T> {
    let Some(path) = file else {
        return Ok(T::default());
    };
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        OpsError::Refused(vec![Problem::new(
            Code::FileUnreadable,
            "file",
            &name,
            format!("cannot read {name}: {e}"),
        )])
    })?;
    serde_json::from_str(&text).map_err(|e| {
        OpsError::Refused(vec![Problem::new(
            Code::NotJson,
            "file",
            &name,
            format!("{name}: {e}"),
        )])
        .into()
    })
}

fn pick<T>(flag: Option<T>, file: Option<T>) -> Option<T> {
    flag.or(file)
}

fn item_fields(args: &ItemArgs) -> anyhow::Result<ItemFields> {
    let file: ItemFields = from_file(&args.file)?;
    Ok(ItemFields {
        name: pick(args.name.clone(), file.name),
        name_fr: pick(args.name_fr.clone(), file.name_fr),
        name_ar: pick(args.name_ar.clone(), file.name_ar),
        name_ru: pick(args.name_ru.clone(), file.name_ru),
        category: pick(args.category.clone(), file.category),
        unit: pick(args.unit.clone(), file.unit),
        unit_weight_kg: pick(args.unit_weight_kg, file.unit_weight_kg),
        unit_volume_m3: pick(args.unit_volume_m3, file.unit_volume_m3),
        pack_size: pick(args.pack_size, file.pack_size),
        gtins: pick(
            (!args.gtins.is_empty()).then(|| args.gtins.clone()),
            file.gtins,
        ),
        un_number: pick(args.un_number.clone(), file.un_number),
        un_class: pick(args.un_class.clone(), file.un_class),
        cold_chain: pick(args.cold_chain, file.cold_chain),
        needs_expiry: pick(args.needs_expiry, file.needs_expiry),
        min_shelf_life_days: pick(args.min_shelf_life_days, file.min_shelf_life_days),
        value_usd_per_unit: pick(args.value_usd_per_unit, file.value_usd_per_unit),
    })
}

fn org_fields(args: &OrgArgs) -> anyhow::Result<OrganisationFields> {
    let file: OrganisationFields = from_file(&args.file)?;
    Ok(OrganisationFields {
        name: pick(args.name.clone(), file.name),
        name_fr: pick(args.name_fr.clone(), file.name_fr),
        name_ar: pick(args.name_ar.clone(), file.name_ar),
        name_ru: pick(args.name_ru.clone(), file.name_ru),
        kind: pick(args.kind.clone(), file.kind),
        country: pick(args.country.clone(), file.country),
    })
}

fn destination_fields(args: &DestinationArgs) -> anyhow::Result<DestinationFields> {
    let file: DestinationFields = from_file(&args.file)?;
    Ok(DestinationFields {
        name: pick(args.name.clone(), file.name),
        name_fr: pick(args.name_fr.clone(), file.name_fr),
        name_ar: pick(args.name_ar.clone(), file.name_ar),
        name_ru: pick(args.name_ru.clone(), file.name_ru),
        country: pick(args.country.clone(), file.country),
        iata: pick(args.iata.clone(), file.iata),
        icao: pick(args.icao.clone(), file.icao),
        latitude_deg: pick(args.latitude_deg, file.latitude_deg),
        longitude_deg: pick(args.longitude_deg, file.longitude_deg),
        seaport: pick(args.seaport, file.seaport),
        airport: pick(args.airport, file.airport),
    })
}

fn said(what: &str, code: &str, change: Change) {
    match change {
        Change::Added => println!("{what} {code} added"),
        Change::Edited => println!("{what} {code} changed"),
        Change::Unchanged => println!("{what} {code} is already so; nothing changed"),
    }
}

fn print_history(history: &[MasterChange]) {
    if history.is_empty() {
        println!("changes: none recorded (as loaded by init)");
        return;
    }
    println!("changes:");
    for change in history {
        let when = time::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(change.recorded_at_unix_ms) * 1_000_000,
        )
        .map(|t| {
            format!(
                "{} {:02}:{:02}",
                format_date(t.date()),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default();
        println!("  {when} UTC  {}  by {}", change.kind, change.actor);
    }
}

fn not_found(what: &'static str, code: &str) -> anyhow::Error {
    OpsError::NotFound {
        what,
        code: code.to_string(),
    }
    .into()
}

pub fn item(command: ItemCommand, db: &str, actor: &str) -> anyhow::Result<ExitCode> {
    let mut ops = Ops::open(db)?;
    ops.set_actor(actor);
    match command {
        ItemCommand::Add(args) => {
            let (item, change) = ops.put_item(&args.code, &item_fields(&args)?, false)?;
            said("item", &item.code, change);
        }
        ItemCommand::Edit(args) => {
            let (item, change) = ops.put_item(&args.code, &item_fields(&args)?, true)?;
            said("item", &item.code, change);
        }
        ItemCommand::List(format) => print!("{}", ops.item_table()?.render(format.output())),
        ItemCommand::Show { code } => {
            let item = ops.item(&code)?.ok_or_else(|| not_found("item", &code))?;
            println!("item {}: {}", item.code, item.name);
            for (lang, name) in [
                ("fr", &item.names.fr),
                ("ar", &item.names.ar),
                ("ru", &item.names.ru),
            ] {
                if let Some(name) = name {
                    println!("  name ({lang}): {name}");
                }
            }
            println!(
                "  category: {}; unit: {}; pack of {}",
                item.category, item.unit, item.pack_size
            );
            println!(
                "  per unit: {} kg, {} m³, value {}",
                item.unit_weight_kg,
                item.unit_volume_m3,
                item.value_usd_per_unit
                    .map_or("not known".to_string(), |v| format!("{v:.2} USD"))
            );
            if let Some(un) = &item.un_number {
                println!(
                    "  dangerous goods: {un}, class {}",
                    item.un_class.as_deref().unwrap_or("?")
                );
            }
            println!(
                "  cold chain: {}; needs expiry: {}; minimum shelf life: {} days",
                if item.cold_chain { "yes" } else { "no" },
                if item.needs_expiry { "yes" } else { "no" },
                item.min_shelf_life_days
            );
            if !item.gtins.is_empty() {
                println!("  GTINs: {}", item.gtins.join(" "));
            }
            print_history(&ops.master_history("item", &code)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn org(command: OrgCommand, db: &str, actor: &str) -> anyhow::Result<ExitCode> {
    let mut ops = Ops::open(db)?;
    ops.set_actor(actor);
    match command {
        OrgCommand::Add(args) => {
            let (org, change) = ops.put_organisation(&args.code, &org_fields(&args)?, false)?;
            said("organisation", &org.code, change);
        }
        OrgCommand::Edit(args) => {
            let (org, change) = ops.put_organisation(&args.code, &org_fields(&args)?, true)?;
            said("organisation", &org.code, change);
        }
        OrgCommand::List(format) => {
            print!("{}", ops.organisation_table()?.render(format.output()))
        }
        OrgCommand::Show { code } => {
            let org = ops
                .organisation(&code)?
                .ok_or_else(|| not_found("organisation", &code))?;
            println!(
                "organisation {}: {} ({}, {})",
                org.code,
                org.name,
                org.kind.code(),
                org.country
            );
            for (lang, name) in [
                ("fr", &org.names.fr),
                ("ar", &org.names.ar),
                ("ru", &org.names.ru),
            ] {
                if let Some(name) = name {
                    println!("  name ({lang}): {name}");
                }
            }
            print_history(&ops.master_history("organisation", &code)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn destination(command: DestinationCommand, db: &str, actor: &str) -> anyhow::Result<ExitCode> {
    let mut ops = Ops::open(db)?;
    ops.set_actor(actor);
    match command {
        DestinationCommand::Add(args) => {
            let (d, change) =
                ops.put_destination(&args.locode, &destination_fields(&args)?, false)?;
            said("destination", &d.locode, change);
        }
        DestinationCommand::Edit(args) => {
            let (d, change) =
                ops.put_destination(&args.locode, &destination_fields(&args)?, true)?;
            said("destination", &d.locode, change);
        }
        DestinationCommand::List(format) => {
            print!("{}", ops.destination_table()?.render(format.output()))
        }
        DestinationCommand::Show { locode } => {
            let d = ops
                .destination(&locode)?
                .ok_or_else(|| not_found("destination", &locode))?;
            println!("destination {}: {} ({})", d.locode, d.name, d.country());
            for (lang, name) in [
                ("fr", &d.names.fr),
                ("ar", &d.names.ar),
                ("ru", &d.names.ru),
            ] {
                if let Some(name) = name {
                    println!("  name ({lang}): {name}");
                }
            }
            println!(
                "  IATA {}, ICAO {}; seaport: {}; airport: {}; at {:.4}, {:.4}",
                d.iata.as_deref().unwrap_or("-"),
                d.icao.as_deref().unwrap_or("-"),
                if d.seaport { "yes" } else { "no" },
                if d.airport { "yes" } else { "no" },
                d.latitude_deg,
                d.longitude_deg
            );
            print_history(&ops.master_history("destination", &locode)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
