//! The operations commands: pledges, legs, manifests, receipts, stock,
//! transfers, requests, departures, corrections, reports, the demo and the
//! import benchmark. Each parses its arguments and calls `reliefhub-ops`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use reliefhub_core::domain::{format_date, parse_date};
use reliefhub_formats::manifest::ManifestFormat;
use reliefhub_ops::table::{Output, Table};
use reliefhub_ops::{
    DamagedTo, DeliveryLine, FileSource, LoadLine, Mode, Moment, NewDelivery, NewDeparture, NewLeg,
    NewPledge, NewReceipt, NewRequest, NewTransfer, Ops, OpsError, PledgeLine, ReceiptLine,
};
use reliefhub_store::{now_unix_ms, Store};
use time::Date;

#[derive(Subcommand, Debug)]
pub enum OpsCommand {
    /// Donors' pledges: promised quantities of items.
    #[command(subcommand)]
    Pledge(PledgeCommand),
    /// Inbound legs: sailings and flights bringing goods to a hub node.
    #[command(subcommand)]
    Leg(LegCommand),
    /// Import or check an inbound leg's manifest (CSV or JSON).
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// Receive an inbound leg at its node against the manifest, line by line,
    /// and print the goods-received note.
    Receive(ReceiveArgs),
    /// Print the goods-received note of a leg.
    Grn { leg: String },
    /// Stock at the nodes: list (FEFO), expiry alerts, quarantine, release,
    /// write-off, counts.
    #[command(subcommand)]
    Stock(StockCommand),
    /// Transfers between the hub's nodes.
    #[command(subcommand)]
    Transfer(TransferCommand),
    /// Requests from destinations.
    #[command(subcommand)]
    Request(RequestCommand),
    /// Outbound departures: add, load, unload, depart, deliver, proof of delivery.
    #[command(subcommand)]
    Departure(DepartureCommand),
    /// Reverse (part of) a journal entry with a correcting entry.
    Correct(CorrectArgs),
    /// Reports as tables, `--json`, or `--csv` with an HXL hashtag row.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Play a four-week scenario of the hub into a fresh SQLite database
    /// (`reliefhub-demo.db`, or `--db`) and print its weekly report.
    Demo(DemoArgs),
    /// Benchmark the manifest import: generate a manifest and import it
    /// into a new SQLite database, printing lines/s and peak memory.
    BenchImport(BenchImportArgs),
}

#[derive(Args, Debug, Clone)]
pub struct When {
    /// The operation's date (YYYY-MM-DD); today by default.
    #[arg(long)]
    on: Option<String>,
    /// Idempotency key; by default derived from the document or request.
    #[arg(long)]
    key: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct Format {
    /// Print JSON.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV with an HXL hashtag row.
    #[arg(long)]
    csv: bool,
}

impl Format {
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
pub enum PledgeCommand {
    /// Record a pledge: `--line ITEM=QUANTITY[@SD;TD]` per item (earmark optional).
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        donor: String,
        #[arg(long = "line", required = true)]
        lines: Vec<String>,
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        when: When,
    },
    /// Cancel what is still outstanding of a pledge.
    Cancel {
        code: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        when: When,
    },
}

#[derive(Subcommand, Debug)]
pub enum LegCommand {
    /// Register an inbound leg.
    Add {
        #[arg(long)]
        code: String,
        /// sea or air.
        #[arg(long)]
        mode: String,
        /// UN/LOCODE or IATA code of the origin.
        #[arg(long)]
        origin: String,
        /// The hub node it arrives at (TARTUS-PORT, HMEIMIM-AIR).
        #[arg(long)]
        node: String,
        #[arg(long)]
        carrier: String,
        /// Vessel and voyage, or flight number.
        #[arg(long)]
        vehicle: String,
        #[arg(long)]
        expected_arrival: String,
        /// The donor of manifest lines that name none.
        #[arg(long)]
        donor: Option<String>,
    },
    /// Move a leg's expected arrival (running late or early).
    Reschedule {
        code: String,
        #[arg(long)]
        expected_arrival: String,
    },
    /// List legs.
    List {
        #[command(flatten)]
        format: Format,
    },
}

#[derive(Subcommand, Debug)]
pub enum ManifestCommand {
    /// Import a manifest, all or nothing (format from the extension, or --format).
    Import {
        leg: String,
        file: PathBuf,
        /// csv or json.
        #[arg(long)]
        format: Option<String>,
        #[command(flatten)]
        when: When,
    },
    /// Check a manifest without importing it.
    Check {
        leg: String,
        file: PathBuf,
        #[arg(long)]
        format: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct ReceiveArgs {
    leg: String,
    /// A counted line: `LINE=COUNTED`, or `LINE=COUNTED/DAMAGED` (damaged to
    /// quarantine), or `LINE=COUNTED/DAMAGED:loss` (damaged written off).
    #[arg(long = "line")]
    lines: Vec<String>,
    /// Receive every other line as counted equal to the manifest.
    #[arg(long)]
    rest_as_manifested: bool,
    #[command(flatten)]
    when: When,
}

#[derive(Subcommand, Debug)]
pub enum StockCommand {
    /// Stock by node, item and lot, first expiry first.
    List {
        #[arg(long)]
        node: Option<String>,
        #[arg(long)]
        item: Option<String>,
        #[command(flatten)]
        format: Format,
    },
    /// Lots expired or expiring within N days.
    Expiry {
        #[arg(allow_hyphen_values = true, long, default_value_t = 90)]
        within: i64,
        #[arg(long)]
        on: Option<String>,
        #[command(flatten)]
        format: Format,
    },
    /// Put stock into quarantine.
    Quarantine(MoveArgs),
    /// Release stock from quarantine.
    Release(MoveArgs),
    /// Write stock off as a loss (`--loss damaged|expired|stolen`).
    WriteOff {
        #[command(flatten)]
        args: MoveArgs,
        #[arg(long)]
        loss: String,
        /// Take it from quarantine rather than available stock.
        #[arg(long)]
        from_quarantine: bool,
    },
    /// Record a count: `--lot LOT=COUNTED` per lot.
    Count {
        #[arg(long)]
        node: String,
        #[arg(long = "lot", required = true)]
        lots: Vec<String>,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        when: When,
    },
}

#[derive(Args, Debug)]
pub struct MoveArgs {
    #[arg(long)]
    node: String,
    #[arg(allow_hyphen_values = true, long)]
    lot: i64,
    #[arg(allow_hyphen_values = true, long)]
    quantity: i64,
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    when: When,
}

#[derive(Subcommand, Debug)]
pub enum TransferCommand {
    /// Dispatch lots from one node to the other: `--lot LOT=QUANTITY`.
    Dispatch {
        #[arg(long)]
        code: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "truck")]
        vehicle: String,
        #[arg(long = "lot", required = true)]
        lots: Vec<String>,
        #[command(flatten)]
        when: When,
    },
    /// Record a transfer's arrival.
    Arrive {
        code: String,
        #[command(flatten)]
        when: When,
    },
}

#[derive(Subcommand, Debug)]
pub enum RequestCommand {
    /// File a request.
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        destination: String,
        #[arg(long)]
        item: String,
        #[arg(allow_hyphen_values = true, long)]
        quantity: i64,
        /// 1 (most urgent) to 5.
        #[arg(allow_hyphen_values = true, long, default_value_t = 3)]
        priority: i64,
        #[arg(long)]
        needed_by: String,
        #[arg(allow_hyphen_values = true, long, default_value_t = 0)]
        grace_days: i64,
    },
    /// Cancel a request.
    Cancel {
        code: String,
        #[arg(long)]
        on: Option<String>,
    },
    /// Mark a request must-ship: the planner meets it in full, even on a
    /// charter not worth its cost, or the plan says why the hub cannot
    /// (`--off` takes the mark off).
    MustShip {
        code: String,
        #[arg(long)]
        off: bool,
    },
    /// List requests with their status.
    List {
        #[command(flatten)]
        format: Format,
    },
}

#[derive(Subcommand, Debug)]
pub enum DepartureCommand {
    /// Register a departure.
    Add(DepartureAddArgs),
    /// Load lots: `--lot LOT=QUANTITY[@REQUEST]`; `--check` only checks.
    Load {
        code: String,
        #[arg(long = "lot", required = true)]
        lots: Vec<String>,
        #[arg(long)]
        check: bool,
        #[command(flatten)]
        when: When,
    },
    /// Take everything off a loaded departure (correcting entries).
    Unload {
        code: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        when: When,
    },
    /// Cancel a departure that carries nothing (unload it first).
    Cancel {
        code: String,
        #[arg(long)]
        reason: String,
    },
    /// Record that a loaded departure left.
    Depart {
        code: String,
        #[arg(long)]
        on: Option<String>,
    },
    /// Record the recipient's confirmation: `--line LINE=RECEIVED` for
    /// loading lines not received in full.
    Deliver {
        code: String,
        #[arg(long)]
        received_by: String,
        #[arg(long = "line")]
        lines: Vec<String>,
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        when: When,
    },
    /// Print the proof of delivery.
    Pod {
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// List departures.
    List,
}

#[derive(Args, Debug)]
pub struct DepartureAddArgs {
    #[arg(long)]
    code: String,
    #[arg(long)]
    node: String,
    #[arg(long)]
    destination: String,
    /// sea or air.
    #[arg(long)]
    mode: String,
    /// scheduled or charter.
    #[arg(long, default_value = "scheduled")]
    service: String,
    #[arg(long)]
    vehicle: String,
    #[arg(long)]
    departs: String,
    #[arg(long)]
    arrives: String,
    #[arg(long)]
    payload_kg: f64,
    #[arg(long)]
    volume_m3: f64,
    #[arg(long, default_value_t = 0.0)]
    cold_volume_m3: f64,
    #[arg(long)]
    dangerous_goods: bool,
    #[arg(long, default_value_t = 0.0)]
    fixed_cost_usd: f64,
    #[arg(long, default_value_t = 0.0)]
    cost_per_kg_usd: f64,
}

#[derive(Args, Debug)]
pub struct CorrectArgs {
    /// The journal sequence number of the entry to reverse.
    #[arg(allow_hyphen_values = true, long)]
    entry: i64,
    /// How much to reverse; all that is left by default.
    #[arg(allow_hyphen_values = true, long)]
    quantity: Option<i64>,
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    when: When,
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Stock position by node and item.
    Stock {
        #[command(flatten)]
        format: Format,
    },
    /// Inbound legs and what they still carry.
    Pipeline {
        #[command(flatten)]
        format: Format,
    },
    /// Request fulfilment per destination.
    Requests {
        #[command(flatten)]
        format: Format,
    },
    /// A donor's statement: pledged, received, in stock, shipped,
    /// delivered, lost, by item and destination. `--csv` writes one table:
    /// by item, or by destination with `--by-destination`.
    Donor {
        donor: String,
        /// With --csv: the table by destination instead of by item.
        #[arg(long)]
        by_destination: bool,
        #[command(flatten)]
        format: Format,
    },
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Seed and exit, without serving the dashboard (for scripts).
    #[arg(long)]
    no_serve: bool,
    /// Where the dashboard listens after seeding.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// The scenario's random seed.
    #[arg(long, default_value_t = 2025)]
    seed: u64,
}

#[derive(Args, Debug)]
pub struct BenchImportArgs {
    /// Manifest lines to generate.
    #[arg(long, default_value_t = 1_000_000)]
    lines: u64,
    /// Keep the generated manifest at this path (otherwise a temporary file).
    #[arg(long)]
    manifest: Option<PathBuf>,
}

fn today() -> Moment {
    Moment::from_unix_ms(now_unix_ms())
}

/// A value read by the operations layer's readers, or its problem as a
/// refusal (exit 2, with the problem's code).
fn read<T>(result: Result<T, reliefhub_ops::Problem>) -> anyhow::Result<T> {
    result.map_err(|problem| OpsError::Refused(vec![problem]).into())
}

fn date_arg(text: &str, what: &str) -> anyhow::Result<Date> {
    read(reliefhub_ops::parse::date(what, text))
}

fn moment(on: &Option<String>) -> anyhow::Result<Moment> {
    let now = today();
    match on {
        None => Ok(now),
        Some(text) => Ok(Moment {
            unix_ms: now.unix_ms,
            date: date_arg(text, "--on")?,
        }),
    }
}

fn pair(text: &str, what: &str) -> anyhow::Result<(i64, String)> {
    let (left, right) = text
        .split_once('=')
        .ok_or_else(|| anyhow!("{what} `{text}` must have the form A=B"))?;
    let left = left
        .trim()
        .parse::<i64>()
        .map_err(|_| anyhow!("{what} `{text}`: `{left}` is not a whole number"))?;
    Ok((left, right.trim().to_string()))
}

fn int(text: &str, what: &str) -> anyhow::Result<i64> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| anyhow!("{what}: `{text}` is not a whole number"))
}

fn format_of(file: &std::path::Path, format: &Option<String>) -> anyhow::Result<ManifestFormat> {
    match format.as_deref() {
        None => Ok(ManifestFormat::from_file_name(&file.display().to_string())),
        Some("csv") => Ok(ManifestFormat::Csv),
        Some("json") => Ok(ManifestFormat::Json),
        Some(other) => bail!("--format `{other}`: use csv or json"),
    }
}

fn bar(quiet: bool, length: u64, message: &'static str) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(length);
    let style = ProgressStyle::with_template(
        "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(message);
    Some(bar)
}

fn print_table(table: &Table, output: Output) {
    print!("{}", table.render(output));
}

pub fn run(command: OpsCommand, db: &str, quiet: bool, actor: &str) -> anyhow::Result<ExitCode> {
    match command {
        OpsCommand::Demo(args) => return demo(args, db),
        OpsCommand::BenchImport(args) => return bench_import(args, quiet),
        _ => {}
    }
    let mut ops = Ops::open(db)?;
    ops.set_actor(actor);
    match command {
        OpsCommand::Pledge(PledgeCommand::Add {
            code,
            donor,
            lines,
            note,
            when,
        }) => {
            let at = moment(&when.on)?;
            let mut parsed = Vec::new();
            for line in &lines {
                let (item, rest) = line
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--line `{line}` must be ITEM=QUANTITY[@SD;TD]"))?;
                let (quantity, earmark) = rest.split_once('@').unwrap_or((rest, ""));
                parsed.push(PledgeLine {
                    item: item.trim().to_string(),
                    quantity: int(quantity, &format!("--line `{line}`"))?,
                    earmark: earmark
                        .split([';', ','])
                        .filter(|c| !c.trim().is_empty())
                        .map(|c| c.trim().to_string())
                        .collect(),
                });
            }
            let pledge = NewPledge {
                code,
                donor,
                pledged_on: at.date,
                note,
                lines: parsed,
            };
            let done = ops.pledge(&pledge, when.key.as_deref(), at)?;
            let total: i64 = pledge.lines.iter().map(|l| l.quantity).sum();
            println!(
                "pledge {} of {}: {} line(s), {total} units{}",
                done.reference,
                pledge.donor,
                pledge.lines.len(),
                if done.replayed {
                    " (already recorded; nothing changed)"
                } else {
                    ""
                }
            );
        }
        OpsCommand::Pledge(PledgeCommand::Cancel { code, reason, when }) => {
            let done = ops.cancel_pledge(&code, &reason, when.key.as_deref(), moment(&when.on)?)?;
            println!(
                "pledge {code}: outstanding quantities cancelled (batch {})",
                done.applied.batch_id
            );
        }
        OpsCommand::Leg(LegCommand::Add {
            code,
            mode,
            origin,
            node,
            carrier,
            vehicle,
            expected_arrival,
            donor,
        }) => {
            let leg = NewLeg {
                code,
                mode: read(reliefhub_ops::parse::mode("--mode", &mode))?,
                origin,
                node,
                carrier,
                vehicle_ref: vehicle,
                expected_arrival: date_arg(&expected_arrival, "--expected-arrival")?,
                donor,
            };
            let created = ops.add_leg(&leg, today())?;
            println!(
                "leg {} {}",
                leg.code,
                if created {
                    "registered"
                } else {
                    "already registered; nothing changed"
                }
            );
        }
        OpsCommand::Leg(LegCommand::Reschedule {
            code,
            expected_arrival,
        }) => {
            let date = date_arg(&expected_arrival, "--expected-arrival")?;
            let changed = ops.reschedule_leg(&code, date, today())?;
            println!(
                "leg {code} {}",
                if changed {
                    format!("now expected on {}", format_date(date))
                } else {
                    "already expected then; nothing changed".to_string()
                }
            );
        }
        OpsCommand::Leg(LegCommand::List { format }) => {
            print_table(&ops.inbound_pipeline()?, format.output())
        }
        OpsCommand::Manifest(ManifestCommand::Import {
            leg,
            file,
            format,
            when,
        }) => {
            let format = format_of(&file, &format)?;
            let source = FileSource(file.clone());
            let length = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            let checking = bar(quiet, length, "checking");
            let mut importing: Option<ProgressBar> = None;
            let started = Instant::now();
            let result = ops.import_manifest(
                &leg,
                &source,
                format,
                when.key.as_deref(),
                moment(&when.on)?,
                &mut |pass, bytes| {
                    if pass == 1 {
                        if let Some(b) = &checking {
                            b.set_position(bytes);
                        }
                    } else {
                        if importing.is_none() {
                            if let Some(b) = &checking {
                                b.finish_and_clear();
                            }
                            importing = bar(quiet, length, "importing");
                        }
                        if let Some(b) = &importing {
                            b.set_position(bytes);
                        }
                    }
                },
            );
            for b in [checking, importing].into_iter().flatten() {
                b.finish_and_clear();
            }
            let imported = result?;
            if imported.replayed {
                println!(
                    "manifest of leg {} already imported under key `{}` ({} lines, {} units); nothing changed",
                    imported.leg, imported.key, imported.lines, imported.total_quantity
                );
            } else {
                let seconds = started.elapsed().as_secs_f64();
                println!(
                    "imported manifest of leg {}: {} lines, {} units (batch {}, key `{}`) in {seconds:.2} s",
                    imported.leg, imported.lines, imported.total_quantity, imported.batch_id, imported.key
                );
            }
        }
        OpsCommand::Manifest(ManifestCommand::Check { leg, file, format }) => {
            let format = format_of(&file, &format)?;
            let (lines, total, digest) =
                ops.check_manifest(&leg, &FileSource(file.clone()), format, &mut |_| {})?;
            println!(
                "{}: {lines} valid lines, {total} units (sha256 {digest})",
                file.display()
            );
        }
        OpsCommand::Receive(args) => {
            let at = moment(&args.when.on)?;
            let mut lines = Vec::new();
            for text in &args.lines {
                let (line_no, rest) = pair(text, "--line")?;
                let (counts, to) = match rest.split_once(':') {
                    Some((counts, "loss")) => (counts.to_string(), DamagedTo::Loss),
                    Some((counts, "quarantine")) => (counts.to_string(), DamagedTo::Quarantine),
                    Some((_, other)) => bail!("--line `{text}`: damaged goods go to `quarantine` or `loss`, not `{other}`"),
                    None => (rest.clone(), DamagedTo::Quarantine),
                };
                let (counted, damaged) = counts.split_once('/').unwrap_or((&counts, "0"));
                lines.push(ReceiptLine {
                    line_no,
                    counted: int(counted, &format!("--line `{text}`"))?,
                    damaged: int(damaged, &format!("--line `{text}`"))?,
                    damaged_to: to,
                    note: String::new(),
                });
            }
            let receipt = NewReceipt {
                leg: args.leg.clone(),
                received_on: at.date,
                received_by: actor.to_string(),
                lines,
                rest_as_manifested: args.rest_as_manifested,
            };
            let done = ops.receive(&receipt, args.when.key.as_deref(), at)?;
            if done.replayed {
                println!(
                    "receipt {} already recorded; nothing changed",
                    done.reference
                );
            }
            print_grn(&mut ops, &args.leg)?;
        }
        OpsCommand::Grn { leg } => print_grn(&mut ops, &leg)?,
        OpsCommand::Stock(command) => stock(&mut ops, command)?,
        OpsCommand::Transfer(TransferCommand::Dispatch {
            code,
            from,
            to,
            vehicle,
            lots,
            when,
        }) => {
            let at = moment(&when.on)?;
            let lines = lots
                .iter()
                .map(|l| {
                    let (lot, q) = pair(l, "--lot")?;
                    Ok((lot, int(&q, &format!("--lot `{l}`"))?))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let transfer = NewTransfer {
                code,
                from_node: from,
                to_node: to,
                vehicle,
                dispatched_on: at.date,
                lines,
            };
            let done = ops.dispatch_transfer(&transfer, when.key.as_deref(), at)?;
            println!(
                "transfer {} dispatched {} -> {} (batch {})",
                done.reference, transfer.from_node, transfer.to_node, done.applied.batch_id
            );
        }
        OpsCommand::Transfer(TransferCommand::Arrive { code, when }) => {
            let done = ops.arrive_transfer(&code, when.key.as_deref(), moment(&when.on)?)?;
            println!(
                "transfer {} arrived (batch {})",
                done.reference, done.applied.batch_id
            );
        }
        OpsCommand::Request(RequestCommand::Add {
            code,
            destination,
            item,
            quantity,
            priority,
            needed_by,
            grace_days,
        }) => {
            let request = NewRequest {
                code,
                destination,
                item,
                quantity,
                priority,
                needed_by: date_arg(&needed_by, "--needed-by")?,
                grace_days,
                requested_by: actor.to_string(),
            };
            let created = ops.add_request(&request, today())?;
            println!(
                "request {} {}",
                request.code,
                if created {
                    "filed"
                } else {
                    "already filed; nothing changed"
                }
            );
        }
        OpsCommand::Request(RequestCommand::Cancel { code, on }) => {
            ops.cancel_request(&code, moment(&on)?)?;
            println!("request {code} cancelled");
        }
        OpsCommand::Request(RequestCommand::MustShip { code, off }) => {
            let changed = ops.set_must_ship(&code, !off, today())?;
            let state = if off { "not must-ship" } else { "must-ship" };
            if changed {
                println!("request {code} is now {state}");
            } else {
                println!("request {code} was already {state}; nothing changed");
            }
        }
        OpsCommand::Request(RequestCommand::List { format }) => {
            print_table(&ops.request_fulfilment()?, format.output())
        }
        OpsCommand::Departure(command) => departure(&mut ops, command)?,
        OpsCommand::Correct(args) => {
            let done = ops.correct(
                args.entry,
                args.quantity,
                &args.reason,
                args.when.key.as_deref(),
                moment(&args.when.on)?,
            )?;
            println!(
                "{} recorded (batch {}, entry {})",
                done.reference, done.applied.batch_id, done.applied.first_seq
            );
        }
        OpsCommand::Report(command) => match command {
            ReportCommand::Stock { format } => print_table(&ops.stock_position()?, format.output()),
            ReportCommand::Pipeline { format } => {
                print_table(&ops.inbound_pipeline()?, format.output())
            }
            ReportCommand::Requests { format } => {
                print_table(&ops.request_fulfilment()?, format.output())
            }
            ReportCommand::Donor {
                donor,
                by_destination,
                format,
            } => {
                let statement = ops.donor_statement(&donor)?;
                match format.output() {
                    Output::Json => {
                        println!("{}", serde_json::to_string_pretty(&statement.json())?)
                    }
                    // One table per CSV file, so it reads as one HXL dataset.
                    Output::Csv if by_destination => {
                        print_table(&statement.destinations_table(), Output::Csv)
                    }
                    Output::Csv => print_table(&statement.items_table(), Output::Csv),
                    output => {
                        print_table(&statement.items_table(), output);
                        if output == Output::Text {
                            println!();
                        }
                        print_table(&statement.destinations_table(), output);
                    }
                }
            }
        },
        OpsCommand::Demo(_) | OpsCommand::BenchImport(_) => unreachable!("handled above"),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_grn(ops: &mut Ops, leg: &str) -> anyhow::Result<()> {
    let grn = ops.goods_received_note(leg)?;
    let l = &grn.leg;
    println!(
        "GOODS RECEIVED NOTE — leg {} ({} {} from {}, {} {}), node {}",
        l.code,
        l.mode.code(),
        l.carrier,
        l.origin,
        l.vehicle_ref,
        format_date(l.expected_arrival),
        l.node
    );
    let mut table = Table::new(
        "",
        vec![
            reliefhub_ops::table::column("line", "#meta+line"),
            reliefhub_ops::table::column("lot", "#meta+lot"),
            reliefhub_ops::table::column("item", "#item+code"),
            reliefhub_ops::table::column("donor", "#org+funder"),
            reliefhub_ops::table::column("batch", "#meta+batch"),
            reliefhub_ops::table::column("manifest", "#indicator+num+manifest"),
            reliefhub_ops::table::column("counted", "#indicator+num+counted"),
            reliefhub_ops::table::column("good", "#indicator+num+good"),
            reliefhub_ops::table::column("damaged", "#indicator+num+damaged"),
            reliefhub_ops::table::column("short", "#indicator+num+short"),
            reliefhub_ops::table::column("over", "#indicator+num+over"),
            reliefhub_ops::table::column("flag", "#status"),
        ],
    );
    let mut shown = 0;
    for line in &grn.lines {
        shown += 1;
        if shown > 200 {
            continue;
        }
        let flag = if line.over > 0 {
            "OVER".to_string()
        } else if line.short > 0 {
            "SHORT".to_string()
        } else if line.damaged > 0 {
            format!("DAMAGED->{}", line.damaged_to)
        } else {
            String::new()
        };
        table.push(vec![
            line.line_no.into(),
            line.lot_id.into(),
            line.item.as_str().into(),
            line.donor.as_str().into(),
            line.batch.as_str().into(),
            line.manifest_quantity.into(),
            line.counted.into(),
            line.good.into(),
            line.damaged.into(),
            line.short.into(),
            line.over.into(),
            flag.into(),
        ]);
    }
    print!("{}", table.text());
    if grn.lines.len() > 200 {
        println!("({} more lines not shown)", grn.lines.len() - 200);
    }
    let sum = |f: fn(&reliefhub_ops::GrnLine) -> i64| grn.lines.iter().map(f).sum::<i64>();
    println!(
        "received {} lines: manifest {}, counted {}, good {}, damaged {}, short-landed {}, over-landed {}; {} line(s) not yet received",
        grn.lines.len(),
        sum(|l| l.manifest_quantity),
        sum(|l| l.counted),
        sum(|l| l.good),
        sum(|l| l.damaged),
        sum(|l| l.short),
        sum(|l| l.over),
        grn.not_received
    );
    Ok(())
}

fn stock(ops: &mut Ops, command: StockCommand) -> anyhow::Result<()> {
    use reliefhub_ops::table::{column, Cell};
    match command {
        StockCommand::List { node, item, format } => {
            let mut table = Table::new(
                "Stock by node, state, item and lot (first expiry first)",
                vec![
                    column("node", "#loc+code"),
                    column("state", "#status"),
                    column("document", "#meta+document"),
                    column("item", "#item+code"),
                    column("lot", "#meta+lot"),
                    column("donor", "#org+funder"),
                    column("batch", "#meta+batch"),
                    column("expiry", "#date+expiry"),
                    column("earmark", "#country+code+dest"),
                    column("quantity", "#indicator+num"),
                    column("weight_kg", "#indicator+num+weight+kg"),
                    column("volume_m3", "#indicator+num+volume+m3"),
                ],
            );
            for r in ops.stock_held(node.as_deref(), item.as_deref())? {
                table.push(vec![
                    r.node.into(),
                    r.state.as_code().into(),
                    r.document.map_or(Cell::Empty, Cell::Text),
                    r.item.into(),
                    r.lot_id.into(),
                    r.donor.into(),
                    r.batch.into(),
                    r.expiry.map_or(Cell::Empty, |e| Cell::Text(format_date(e))),
                    r.earmark.join(";").into(),
                    r.quantity.into(),
                    Cell::Real(r.weight_kg, 1),
                    Cell::Real(r.volume_m3, 3),
                ]);
            }
            print_table(&table, format.output());
        }
        StockCommand::Expiry { within, on, format } => {
            let at = moment(&on)?;
            let mut table = Table::new(
                format!(
                    "Expiry alerts on {} (expired, or expiring within {within} days)",
                    format_date(at.date)
                ),
                vec![
                    column("node", "#loc+code"),
                    column("item", "#item+code"),
                    column("lot", "#meta+lot"),
                    column("expiry", "#date+expiry"),
                    column("days_left", "#indicator+num+days"),
                    column("quantity", "#indicator+num"),
                    column("alert", "#status"),
                ],
            );
            for a in ops.expiry_alerts(at.date, within)? {
                table.push(vec![
                    a.row.node.into(),
                    a.row.item.into(),
                    a.row.lot_id.into(),
                    a.row
                        .expiry
                        .map_or(Cell::Empty, |e| Cell::Text(format_date(e))),
                    a.days_left.into(),
                    a.row.quantity.into(),
                    reliefhub_ops::ExpiryState::of(a.days_left).as_code().into(),
                ]);
            }
            print_table(&table, format.output());
        }
        StockCommand::Quarantine(a) => {
            let done = ops.quarantine(
                &a.node,
                a.lot,
                a.quantity,
                &a.reason,
                a.when.key.as_deref(),
                moment(&a.when.on)?,
            )?;
            println!(
                "lot {}: {} put in quarantine at {} (journal entry {})",
                a.lot, a.quantity, a.node, done.applied.first_seq
            );
        }
        StockCommand::Release(a) => {
            let done = ops.release(
                &a.node,
                a.lot,
                a.quantity,
                &a.reason,
                a.when.key.as_deref(),
                moment(&a.when.on)?,
            )?;
            println!(
                "lot {}: {} released at {} (journal entry {})",
                a.lot, a.quantity, a.node, done.applied.first_seq
            );
        }
        StockCommand::WriteOff {
            args: a,
            loss,
            from_quarantine,
        } => {
            let reason = read(reliefhub_ops::parse::loss_reason("--loss", &loss))?;
            let done = ops.write_off(
                &a.node,
                a.lot,
                a.quantity,
                from_quarantine,
                reason,
                &a.reason,
                a.when.key.as_deref(),
                moment(&a.when.on)?,
            )?;
            println!(
                "lot {}: {} written off as loss:{} ({})",
                a.lot,
                a.quantity,
                reason.code(),
                done.reference
            );
        }
        StockCommand::Count {
            node,
            lots,
            reason,
            when,
        } => {
            let counts = lots
                .iter()
                .map(|l| {
                    let (lot, q) = pair(l, "--lot")?;
                    Ok((lot, int(&q, &format!("--lot `{l}`"))?))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let done = ops.count(
                &node,
                &counts,
                &reason,
                when.key.as_deref(),
                moment(&when.on)?,
            )?;
            println!(
                "count at {node} recorded: {} adjustment(s) ({})",
                done.applied.transfer_count, done.reference
            );
        }
    }
    Ok(())
}

fn departure(ops: &mut Ops, command: DepartureCommand) -> anyhow::Result<()> {
    match command {
        DepartureCommand::Add(a) => {
            let d = NewDeparture {
                code: a.code,
                node: a.node,
                destination: a.destination,
                mode: read(reliefhub_ops::parse::mode("--mode", &a.mode))?,
                service: read(reliefhub_ops::parse::service("--service", &a.service))?,
                vehicle: a.vehicle,
                departs_on: date_arg(&a.departs, "--departs")?,
                arrives_on: date_arg(&a.arrives, "--arrives")?,
                payload_kg: a.payload_kg,
                volume_m3: a.volume_m3,
                cold_volume_m3: a.cold_volume_m3,
                dangerous_goods_allowed: a.dangerous_goods,
                fixed_cost_usd: a.fixed_cost_usd,
                cost_per_kg_usd: a.cost_per_kg_usd,
            };
            let created = ops.add_departure(&d, today())?;
            println!(
                "departure {} {}",
                d.code,
                if created {
                    "registered"
                } else {
                    "already registered; nothing changed"
                }
            );
        }
        DepartureCommand::Load {
            code,
            lots,
            check,
            when,
        } => {
            let mut lines = Vec::new();
            for text in &lots {
                let (lot, rest) = pair(text, "--lot")?;
                let (quantity, request) = match rest.split_once('@') {
                    Some((q, r)) => (q.to_string(), Some(r.to_string())),
                    None => (rest.clone(), None),
                };
                lines.push(LoadLine {
                    lot_id: lot,
                    quantity: int(&quantity, &format!("--lot `{text}`"))?,
                    request,
                });
            }
            if check {
                let c = ops.check_load(&code, &lines)?;
                println!("loading list for {code} passes: {:.1} kg, {:.2} m3 ({:.2} m3 cold), freight {:.0} USD", c.weight_kg, c.volume_m3, c.cold_volume_m3, c.freight_cost_usd);
            } else {
                let done = ops.load(&code, &lines, when.key.as_deref(), moment(&when.on)?)?;
                let d = ops.departure(&code)?;
                println!(
                    "departure {} loaded{}: {} units, {:.1} of {:.1} kg, {:.2} of {:.2} m3",
                    done.reference,
                    if done.replayed {
                        " (already; nothing changed)"
                    } else {
                        ""
                    },
                    d.loaded_units,
                    d.loaded_kg,
                    d.departure.payload_kg,
                    d.loaded_m3,
                    d.departure.volume_m3
                );
            }
        }
        DepartureCommand::Unload { code, reason, when } => {
            let done = ops.unload(&code, &reason, when.key.as_deref(), moment(&when.on)?)?;
            println!(
                "departure {} unloaded (batch {})",
                done.reference, done.applied.batch_id
            );
        }
        DepartureCommand::Cancel { code, reason } => {
            let changed = ops.cancel_departure(&code, &reason)?;
            println!(
                "departure {code} {}",
                if changed {
                    "cancelled"
                } else {
                    "was already cancelled; nothing changed"
                }
            );
        }
        DepartureCommand::Depart { code, on } => {
            let at = moment(&on)?;
            ops.depart(&code, at)?;
            println!("departure {code} departed on {}", format_date(at.date));
        }
        DepartureCommand::Deliver {
            code,
            received_by,
            lines,
            note,
            when,
        } => {
            let at = moment(&when.on)?;
            let lines = lines
                .iter()
                .map(|l| {
                    let (line_no, q) = pair(l, "--line")?;
                    Ok(DeliveryLine {
                        line_no,
                        received: int(&q, &format!("--line `{l}`"))?,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let delivery = NewDelivery {
                departure: code.clone(),
                received_by,
                received_on: at.date,
                note,
                lines,
            };
            ops.deliver(&delivery, when.key.as_deref(), at)?;
            print_pod(ops, &code, false)?;
        }
        DepartureCommand::Pod { code, json } => print_pod(ops, &code, json)?,
        DepartureCommand::List => {
            for d in ops.departures()? {
                let x = &d.departure;
                println!(
                    "{:<14} {:<11} -> {} {:<4} {:<9} {:<18} {} .. {}  {:>9.1}/{:.0} kg  {:>7.2}/{:.1} m3  {}",
                    x.code, x.node, x.destination, x.mode.code(), x.service.code(), x.vehicle, format_date(x.departs_on), format_date(x.arrives_on),
                    d.loaded_kg, x.payload_kg, d.loaded_m3, x.volume_m3, d.status.as_code()
                );
            }
        }
    }
    Ok(())
}

fn print_pod(ops: &mut Ops, code: &str, json: bool) -> anyhow::Result<()> {
    let pod = ops.proof_of_delivery(code)?;
    if json {
        let lines: Vec<_> = pod.lines.iter().map(|l| serde_json::json!({
            "line": l.line_no, "lot": l.lot_id, "item": l.item, "donor": l.donor, "batch": l.batch,
            "loaded": l.loaded, "received": l.received, "short": l.short, "request": l.request,
        })).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "departure": pod.departure.code, "destination": pod.departure.destination,
                "received_by": pod.received_by, "received_on": format_date(pod.received_on), "note": pod.note, "lines": lines,
            }))?
        );
        return Ok(());
    }
    let d = &pod.departure;
    println!(
        "PROOF OF DELIVERY — departure {} ({} {} {}) from {} to {}; received by {} on {}",
        d.code,
        d.mode.code(),
        d.service.code(),
        d.vehicle,
        d.node,
        d.destination,
        pod.received_by,
        format_date(pod.received_on)
    );
    for l in &pod.lines {
        println!(
            "  line {:>3}  lot {:>6}  {:<26} {:<12} loaded {:>6}  received {:>6}  short {:>4}  {}",
            l.line_no,
            l.lot_id,
            l.item,
            l.donor,
            l.loaded,
            l.received,
            l.short,
            l.request.as_deref().unwrap_or("")
        );
    }
    let loaded: i64 = pod.lines.iter().map(|l| l.loaded).sum();
    let received: i64 = pod.lines.iter().map(|l| l.received).sum();
    println!(
        "  total loaded {loaded}, received {received}, short-delivered {}",
        loaded - received
    );
    Ok(())
}

/// The demo's users, one per role (two donors, two recipient countries):
/// (username, role, organisation, country, password).
type DemoUser = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
);
const DEMO_USERS: [DemoUser; 7] = [
    ("admin", "admin", None, None, "demo-admin-pass"),
    ("operator", "operator", None, None, "demo-operator-pass"),
    (
        "donor-ru",
        "donor",
        Some("RU-EMERCOM"),
        None,
        "demo-donor-ru-pass",
    ),
    (
        "donor-ae",
        "donor",
        Some("AE-UAEAID"),
        None,
        "demo-donor-ae-pass",
    ),
    (
        "recipient-sd",
        "recipient",
        None,
        Some("SD"),
        "demo-recipient-sd-pass",
    ),
    (
        "recipient-td",
        "recipient",
        None,
        Some("TD"),
        "demo-recipient-td-pass",
    ),
    ("auditor", "auditor", None, None, "demo-auditor-pass"),
];

fn demo_users(store: &mut Store) -> anyhow::Result<()> {
    for (username, role, organisation, country, password) in DEMO_USERS {
        reliefhub_api::auth::add_user(
            store,
            &reliefhub_api::auth::NewUser {
                username: username.to_string(),
                password: password.to_string(),
                role: role.to_string(),
                organisation: organisation.map(str::to_string),
                country: country.map(str::to_string),
            },
            now_unix_ms(),
        )
        .with_context(|| format!("cannot add the demo user {username}"))?;
    }
    Ok(())
}

fn print_demo_logins() {
    println!("Demo logins (username / password):");
    for (username, role, organisation, country, password) in DEMO_USERS {
        let scope = organisation
            .or(country)
            .map(|s| format!(" {s}"))
            .unwrap_or_default();
        println!("  {role:<9}{scope:<12} {username:<13} / {password}");
    }
}

fn demo(args: DemoArgs, db: &str) -> anyhow::Result<ExitCode> {
    let url = if std::env::var_os("RELIEFHUB_DB").is_none() && db == "sqlite:reliefhub.db" {
        "sqlite:reliefhub-demo.db".to_string()
    } else {
        db.to_string()
    };
    if let Some(path) = url.strip_prefix("sqlite:") {
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{path}{suffix}");
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(anyhow!("cannot replace {file}: {e}")),
            }
        }
    }
    let mut store = Store::open(&url)?;
    store.set_actor("Hub set-up (demo)");
    store.migrate(now_unix_ms())?;
    store.load_reference_data(&reliefhub_core::reference::builtin())?;
    anyhow::ensure!(
        store.journal_len()? == 0,
        "the demo needs an empty database; `{url}` already holds a ledger"
    );
    let mut ops = Ops::from_store(store);
    let report =
        reliefhub_ops::demo::play(&mut ops, args.seed).context("the demo scenario failed")?;
    print!("{report}");
    let verified = ops.store().verify(|_, _| {})?;
    match verified {
        Ok(summary) => {
            println!(
                "Ledger check: verified {} journal entries; hash chain intact; {} balances match the journal.",
                summary.entries, summary.balances
            );
            match ops.store().verify_log()? {
                Ok(log) => println!(
                    "Operation log: {} operations, every one with its actor; {} documents in the chain.",
                    log.operations, log.documents
                ),
                Err(failure) => {
                    println!("VERIFICATION FAILED: {failure}");
                    return Ok(ExitCode::from(1));
                }
            }
            println!("Database: {url}");
            println!("{}", crate::trust_cmd::init_key(None, &url)?);
            demo_users(ops.store())?;
            print_demo_logins();
            if args.no_serve {
                return Ok(ExitCode::SUCCESS);
            }
            drop(ops);
            // The scenario's hub date: its last day (day 28 from 2025-03-03),
            // with next week's departures ahead for the planner.
            let today = parse_date("2025-03-31");
            crate::serve_cmd::serve(&url, &args.listen, today, Vec::new(), None, |address| {
                println!("Dashboard: http://{address}/  (API docs: http://{address}/api/docs; ctrl-c stops)");
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            println!("VERIFICATION FAILED: {failure}");
            Ok(ExitCode::from(1))
        }
    }
}

/// Peak resident memory of this process in MB (Linux `VmHWM`).
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn bench_import(args: BenchImportArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.lines >= 1, "--lines must be at least 1");
    let temp = tempfile::tempdir()?;
    let manifest = args
        .manifest
        .clone()
        .unwrap_or_else(|| temp.path().join("manifest.csv"));
    let started = Instant::now();
    reliefhub_ops::demo::write_large_manifest(&manifest, args.lines, 7)?;
    let size = std::fs::metadata(&manifest)?.len();
    println!(
        "generated {} ({} lines, {:.1} MB) in {:.2} s",
        manifest.display(),
        args.lines,
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let url = format!("sqlite:{}", temp.path().join("bench.db").display());
    let mut store = Store::open(&url)?;
    store.migrate(now_unix_ms())?;
    store.load_reference_data(&reliefhub_core::reference::builtin())?;
    let mut ops = Ops::from_store(store);
    let at = today();
    ops.add_leg(
        &NewLeg {
            code: "BENCH-LEG".into(),
            mode: Mode::Sea,
            origin: "RUNVS".into(),
            node: "TARTUS-PORT".into(),
            carrier: "bench".into(),
            vehicle_ref: "bench".into(),
            expected_arrival: at.date,
            donor: None,
        },
        at,
    )?;
    let progress = bar(quiet, size, "importing");
    let started = Instant::now();
    let mut check_seconds = None;
    let imported = ops.import_manifest(
        "BENCH-LEG",
        &FileSource(manifest.clone()),
        ManifestFormat::Csv,
        None,
        at,
        &mut |pass, bytes| {
            if pass == 2 && check_seconds.is_none() {
                check_seconds = Some(started.elapsed().as_secs_f64());
            }
            if let Some(b) = &progress {
                b.set_position(bytes);
            }
        },
    )?;
    if let Some(b) = progress {
        b.finish_and_clear();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "imported {} lines ({} units) in {seconds:.2} s: {:.0} lines/s (checking pass {:.2} s)",
        imported.lines,
        imported.total_quantity,
        imported.lines as f64 / seconds,
        check_seconds.unwrap_or(0.0)
    );
    match peak_memory_mb() {
        Some(mb) => println!("peak resident memory of the process: {mb:.1} MB"),
        None => println!("peak resident memory: not available on this system"),
    }
    Ok(ExitCode::SUCCESS)
}
