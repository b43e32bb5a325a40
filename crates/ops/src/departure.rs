//! Departures, loading lists, departure and delivery with proof of delivery.
//!
//! Loading moves at(node) -> outbound(departure) after the loading list is
//! checked against the departure's payload, volume and cold volume, its
//! dangerous-goods acceptance, each lot's earmark and remaining shelf life
//! on arrival, and the requests it serves. Delivery, confirmed by the
//! recipient, moves outbound(departure) -> delivered(destination), and any
//! shortfall to loss:short-delivered.

use std::collections::{HashMap, HashSet};

use reliefhub_core::{Account, Batch, Item, LossReason, LotRef, LotSpec, TransferSpec};
use reliefhub_store::{Conn, StoreError, Value};
use time::Date;

use crate::inbound::Mode;
use crate::rules::{
    check_calendar, check_count, check_date, check_quantity, check_required, refuse_if,
};
use crate::status::DepartureStatus;
use crate::stock::node_account;
use crate::{
    balance_of, check_code, date, date_text, insert_rows, lot_specs, opt_date, Aborted, Code, Done,
    Moment, Ops, OpsError, Problem,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Scheduled,
    Charter,
}

impl Service {
    pub fn code(self) -> &'static str {
        match self {
            Service::Scheduled => "scheduled",
            Service::Charter => "charter",
        }
    }
    pub fn parse(text: &str) -> Option<Service> {
        match text {
            "scheduled" => Some(Service::Scheduled),
            "charter" => Some(Service::Charter),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewDeparture {
    pub code: String,
    pub node: String,
    /// UN/LOCODE.
    pub destination: String,
    pub mode: Mode,
    pub service: Service,
    pub vehicle: String,
    pub departs_on: Date,
    pub arrives_on: Date,
    pub payload_kg: f64,
    pub volume_m3: f64,
    pub cold_volume_m3: f64,
    pub dangerous_goods_allowed: bool,
    pub fixed_cost_usd: f64,
    pub cost_per_kg_usd: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Departure {
    pub departure: NewDeparture,
    pub status: DepartureStatus,
    pub departed_on: Option<Date>,
    pub loaded_kg: f64,
    pub loaded_m3: f64,
    pub loaded_units: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadLine {
    pub lot_id: i64,
    pub quantity: i64,
    pub request: Option<String>,
}

/// What a loading list adds up to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LoadingCheck {
    pub weight_kg: f64,
    pub volume_m3: f64,
    pub cold_volume_m3: f64,
    pub freight_cost_usd: f64,
}

/// What the check needs to know about a request.
pub struct RequestFacts {
    pub destination: String,
    pub item: String,
    pub cancelled: bool,
}

/// Checks a loading list against the rules; pure. `already` is what is on
/// board before this list. Returns every broken rule.
pub fn check_loading(
    departure: &NewDeparture,
    lines: &[LoadLine],
    lots: &HashMap<i64, LotSpec>,
    available: &HashMap<i64, i64>,
    items: &HashMap<String, Item>,
    requests: &HashMap<String, RequestFacts>,
    already: &LoadingCheck,
) -> Result<LoadingCheck, Vec<Problem>> {
    let mut errors = Vec::new();
    let mut total = already.clone();
    let country = departure.destination.get(..2).unwrap_or("");
    let mut wanted: HashMap<i64, i64> = HashMap::new();
    let mut first_line: HashMap<i64, usize> = HashMap::new();
    for (index, line) in lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{index}].{name}");
        let before = errors.len();
        check_quantity(&field("quantity"), line.quantity, &mut errors);
        if errors.len() > before {
            continue;
        }
        let Some(lot) = lots.get(&line.lot_id) else {
            errors.push(Problem::new(
                Code::UnknownLot,
                field("lot_id"),
                line.lot_id,
                format!("lot {} does not exist", line.lot_id),
            ));
            continue;
        };
        let Some(item) = items.get(&lot.item) else {
            errors.push(Problem::new(
                Code::UnknownItem,
                field("lot_id"),
                line.lot_id,
                format!("lot {} holds unknown item `{}`", line.lot_id, lot.item),
            ));
            continue;
        };
        // The same lot twice is refused unless the lines go to different
        // requests (a plan loads one lot for several requests).
        if let Some(first) = first_line.get(&line.lot_id) {
            if lines[*first].request == line.request {
                errors.push(
                    Problem::new(
                        Code::LotNamedTwice,
                        field("lot_id"),
                        line.lot_id,
                        format!(
                            "lot {} is named twice for the same request in this loading list: give one line",
                            line.lot_id
                        ),
                    )
                    .with("lot", line.lot_id),
                );
            }
        } else {
            first_line.insert(line.lot_id, index);
        }
        *wanted.entry(line.lot_id).or_insert(0) += line.quantity;
        let units = line.quantity as f64;
        total.weight_kg += item.unit_weight_kg * units;
        total.volume_m3 += item.unit_volume_m3 * units;
        if item.cold_chain {
            total.cold_volume_m3 += item.unit_volume_m3 * units;
        }
        if let Some(un) = &item.un_number {
            if !departure.dangerous_goods_allowed {
                errors.push(
                    Problem::new(
                        Code::DangerousGoodsRefused,
                        field("lot_id"),
                        line.lot_id,
                        format!(
                            "lot {} is dangerous goods ({un}, {}), which departure `{}` does not accept",
                            line.lot_id, item.code, departure.code
                        ),
                    )
                    .with("un_number", un),
                );
            }
        }
        if !lot.earmark.is_empty() && !lot.earmark.iter().any(|c| c == country) {
            errors.push(
                Problem::new(
                    Code::EarmarkExcludesDestination,
                    field("lot_id"),
                    line.lot_id,
                    format!(
                        "lot {} is earmarked by its donor for {} only, not for {} ({})",
                        line.lot_id,
                        lot.earmark.join(", "),
                        country,
                        departure.destination
                    ),
                )
                .with("earmark", lot.earmark.join(","))
                .with("country", country),
            );
        }
        match lot.expiry {
            Some(expiry) => {
                let days_left = (expiry - departure.arrives_on).whole_days();
                if days_left < i64::from(item.min_shelf_life_days) || days_left < 0 {
                    errors.push(
                        Problem::new(
                            Code::ShelfLifeTooShort,
                            field("lot_id"),
                            line.lot_id,
                            format!(
                                "lot {} expires {}, {days_left} days after arrival on {}; {} needs at least {} days of shelf life",
                                line.lot_id,
                                date_text(expiry),
                                date_text(departure.arrives_on),
                                item.code,
                                item.min_shelf_life_days
                            ),
                        )
                        .with("days_left", days_left)
                        .with("min_days", item.min_shelf_life_days),
                    );
                }
            }
            None if item.needs_expiry => errors.push(Problem::new(
                Code::ExpiryRequired,
                field("lot_id"),
                line.lot_id,
                format!(
                    "lot {} of perishable item {} has no expiry date, so its shelf life cannot be checked; count it and record its expiry first",
                    line.lot_id, item.code
                ),
            )),
            None => {}
        }
        if let Some(code) = &line.request {
            let field = field("request");
            match requests.get(code) {
                None => errors.push(Problem::new(
                    Code::UnknownRequest,
                    &field,
                    code,
                    format!("request `{code}` does not exist"),
                )),
                Some(r) => {
                    if r.cancelled {
                        errors.push(Problem::new(
                            Code::RequestCancelled,
                            &field,
                            code,
                            format!("request `{code}` is cancelled"),
                        ));
                    }
                    if r.destination != departure.destination {
                        errors.push(Problem::new(
                            Code::RequestMismatch,
                            &field,
                            code,
                            format!(
                                "request `{code}` is for {}, the departure goes to {}",
                                r.destination, departure.destination
                            ),
                        ));
                    }
                    if r.item != lot.item {
                        errors.push(Problem::new(
                            Code::RequestMismatch,
                            &field,
                            code,
                            format!(
                                "request `{code}` is for {}, lot {} holds {}",
                                r.item, line.lot_id, lot.item
                            ),
                        ));
                    }
                }
            }
        }
    }
    let mut lots_wanted: Vec<_> = wanted.into_iter().collect();
    lots_wanted.sort();
    for (lot, quantity) in lots_wanted {
        let held = available.get(&lot).copied().unwrap_or(0);
        if quantity > held {
            errors.push(
                Problem::new(
                    Code::NotEnoughStock,
                    format!(
                        "lines[{}].quantity",
                        first_line.get(&lot).copied().unwrap_or(0)
                    ),
                    quantity,
                    format!(
                        "lot {lot}: {quantity} to load, but only {held} in stock at {}",
                        departure.node
                    ),
                )
                .with("lot", lot)
                .with("available", held)
                .with("needed", quantity),
            );
        }
    }
    if total.weight_kg > departure.payload_kg + 1e-9 {
        errors.push(
            Problem::new(
                Code::OverPayload,
                "lines",
                format!("{:.1}", total.weight_kg),
                format!(
                    "weight {:.1} kg exceeds the payload of {:.1} kg",
                    total.weight_kg, departure.payload_kg
                ),
            )
            .with("weight_kg", format!("{:.1}", total.weight_kg))
            .with("payload_kg", format!("{:.1}", departure.payload_kg)),
        );
    }
    if total.volume_m3 > departure.volume_m3 + 1e-9 {
        errors.push(
            Problem::new(
                Code::OverVolume,
                "lines",
                format!("{:.2}", total.volume_m3),
                format!(
                    "volume {:.2} m3 exceeds the {:.2} m3 available",
                    total.volume_m3, departure.volume_m3
                ),
            )
            .with("volume_m3", format!("{:.2}", total.volume_m3))
            .with("available_m3", format!("{:.2}", departure.volume_m3)),
        );
    }
    if total.cold_volume_m3 > departure.cold_volume_m3 + 1e-9 {
        errors.push(
            Problem::new(
                Code::OverColdVolume,
                "lines",
                format!("{:.2}", total.cold_volume_m3),
                format!(
                    "cold-chain volume {:.2} m3 exceeds the {:.2} m3 of cold space",
                    total.cold_volume_m3, departure.cold_volume_m3
                ),
            )
            .with("cold_volume_m3", format!("{:.2}", total.cold_volume_m3))
            .with("available_m3", format!("{:.2}", departure.cold_volume_m3)),
        );
    }
    total.freight_cost_usd = departure.fixed_cost_usd + departure.cost_per_kg_usd * total.weight_kg;
    if errors.is_empty() {
        Ok(total)
    } else {
        Err(errors)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryLine {
    /// The loading line.
    pub line_no: i64,
    pub received: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub departure: String,
    pub received_by: String,
    pub received_on: Date,
    pub note: String,
    /// Lines not named were received in full.
    pub lines: Vec<DeliveryLine>,
}

/// One line of a proof of delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub line_no: i64,
    pub lot_id: i64,
    pub item: String,
    pub donor: String,
    pub batch: String,
    pub loaded: i64,
    pub received: i64,
    pub short: i64,
    pub request: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProofOfDelivery {
    pub departure: NewDeparture,
    pub received_by: String,
    pub received_on: Date,
    pub note: String,
    pub lines: Vec<Delivery>,
}

impl Ops {
    /// Registers a departure. The same departure again is a no-op.
    pub fn add_departure(
        &mut self,
        departure: &NewDeparture,
        at: Moment,
    ) -> Result<bool, OpsError> {
        refuse_if(self.check_departure(departure, at)?)?;
        self.record_departure(departure, at)
    }

    /// Every problem of a departure to register, writing nothing.
    pub fn check_departure(
        &mut self,
        departure: &NewDeparture,
        at: Moment,
    ) -> Result<Vec<Problem>, OpsError> {
        let refs = self.refs()?;
        let mut errors = Vec::new();
        check_code("departure", &departure.code, &mut errors);
        refs.check_node("node", &departure.node, &mut errors);
        refs.check_destination("destination", &departure.destination, &mut errors);
        refs.check_node_mode("mode", &departure.node, departure.mode.code(), &mut errors);
        refs.check_destination_mode(
            "mode",
            &departure.destination,
            departure.mode.code(),
            &mut errors,
        );
        check_calendar("departs", departure.departs_on, at, &mut errors);
        check_calendar("arrives", departure.arrives_on, at, &mut errors);
        if departure.arrives_on < departure.departs_on {
            errors.push(
                Problem::new(
                    Code::ArrivalBeforeDeparture,
                    "arrives",
                    date_text(departure.arrives_on),
                    format!(
                        "the departure arrives on {}, before it departs on {}",
                        date_text(departure.arrives_on),
                        date_text(departure.departs_on)
                    ),
                )
                .with("departs", date_text(departure.departs_on)),
            );
        }
        for (name, value) in [
            ("payload_kg", departure.payload_kg),
            ("volume_m3", departure.volume_m3),
            ("cold_volume_m3", departure.cold_volume_m3),
            ("fixed_cost_usd", departure.fixed_cost_usd),
            ("cost_per_kg_usd", departure.cost_per_kg_usd),
        ] {
            if !value.is_finite() || !(0.0..=1e9).contains(&value) {
                errors.push(Problem::new(
                    Code::NotANumber,
                    name,
                    value,
                    "must be a number from 0 to 1,000,000,000",
                ));
            }
        }
        for (name, value) in [
            ("payload_kg", departure.payload_kg),
            ("volume_m3", departure.volume_m3),
        ] {
            if value == 0.0 {
                errors.push(Problem::new(
                    Code::OutOfRange,
                    name,
                    value,
                    "a departure needs a payload and a volume above 0",
                ));
            }
        }
        if departure.cold_volume_m3 > departure.volume_m3 {
            errors.push(
                Problem::new(
                    Code::OutOfRange,
                    "cold_volume_m3",
                    departure.cold_volume_m3,
                    "the cold volume cannot exceed the volume",
                )
                .with("max", departure.volume_m3),
            );
        }
        Ok(errors)
    }

    fn record_departure(&mut self, departure: &NewDeparture, at: Moment) -> Result<bool, OpsError> {
        let mut aborted = Aborted::new();
        let result = self.store.write(|conn| {
            if let Some(existing) = load_departure(conn, &departure.code)? {
                if existing.departure == *departure {
                    return Ok(false);
                }
                return Err(aborted.abort(OpsError::refused(
                    Code::DuplicateCode,
                    "code",
                    &departure.code,
                    format!("departure `{}` already exists with other details; give this departure another code", departure.code),
                )));
            }
            let d = departure;
            conn.execute(
                "INSERT INTO departures (code, node, destination, mode, service, vehicle, departs_on, arrives_on, payload_kg, volume_m3, \
                 cold_volume_m3, dangerous_goods_allowed, fixed_cost_usd, cost_per_kg_usd, status, recorded_at_unix_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $16, $15)",
                &[
                    (&d.code).into(),
                    (&d.node).into(),
                    (&d.destination).into(),
                    d.mode.code().into(),
                    d.service.code().into(),
                    (&d.vehicle).into(),
                    date_text(d.departs_on).into(),
                    date_text(d.arrives_on).into(),
                    d.payload_kg.into(),
                    d.volume_m3.into(),
                    d.cold_volume_m3.into(),
                    d.dangerous_goods_allowed.into(),
                    d.fixed_cost_usd.into(),
                    d.cost_per_kg_usd.into(),
                    at.unix_ms.into(),
                    DepartureStatus::Open.as_code().into(),
                ],
            )?;
            Ok(true)
        });
        aborted.resolve(result)
    }

    pub fn departure(&mut self, code: &str) -> Result<Departure, OpsError> {
        self.store
            .read(|conn| load_departure(conn, code))?
            .ok_or_else(|| OpsError::NotFound {
                what: "departure",
                code: code.to_string(),
            })
    }

    pub fn departures(&mut self) -> Result<Vec<Departure>, OpsError> {
        let codes: Vec<String> = self.store.read(|conn| {
            conn.query("SELECT code FROM departures ORDER BY departs_on, code", &[])?
                .iter()
                .map(|r| r[0].text())
                .collect()
        })?;
        codes.iter().map(|c| self.departure(c)).collect()
    }

    /// Checks a loading list without writing anything.
    pub fn check_load(&mut self, code: &str, lines: &[LoadLine]) -> Result<LoadingCheck, OpsError> {
        let items = self.refs()?.items;
        let code = code.to_string();
        let lines = lines.to_vec();
        self.store
            .read(|conn| Ok(check_in(conn, &code, &lines, &items)))?
    }

    /// Loads stock onto a departure after checking the loading list.
    /// Default key: `load:<departure>:<digest of the list>`.
    pub fn load(
        &mut self,
        code: &str,
        lines: &[LoadLine],
        key: Option<&str>,
        at: Moment,
    ) -> Result<Done, OpsError> {
        let digest = crate::digest::load(code, lines);
        let key = key.map_or_else(|| format!("load:{code}:{}", &digest[..16]), str::to_string);
        self.load_many(&[(code.to_string(), lines.to_vec())], &key, at)
    }

    /// Loads several departures at once, all or nothing: one batch, every
    /// loading list checked first. Used to accept a plan.
    pub fn load_many(
        &mut self,
        lists: &[(String, Vec<LoadLine>)],
        key: &str,
        at: Moment,
    ) -> Result<Done, OpsError> {
        let digest = if let [(code, lines)] = lists {
            crate::digest::load(code, lines)
        } else {
            crate::digest::load_many(lists)
        };
        let codes: Vec<String> = lists.iter().map(|(c, _)| c.clone()).collect();
        self.load_lists(
            lists,
            &[],
            key,
            &digest,
            "departure.load",
            at,
            move |_, _| Ok(codes.join(",")),
        )
    }

    /// Loads several departures in one batch; `finish` writes whatever else
    /// belongs to the operation in the same transaction and returns its
    /// reference.
    /// Loads the lists, and dispatches the hub transfers `moves` (port ↔
    /// airport), in one ledger batch.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn load_lists(
        &mut self,
        lists: &[(String, Vec<LoadLine>)],
        moves: &[crate::transfer::NewTransfer],
        key: &str,
        digest: &str,
        kind: &str,
        at: Moment,
        finish: impl FnOnce(&mut dyn Conn, &reliefhub_store::Applied) -> Result<String, OpsError>,
    ) -> Result<Done, OpsError> {
        let mut problems = Vec::new();
        check_date("on", at.date, at, &mut problems);
        refuse_if(problems)?;
        let items = self.refs()?.items;
        let lists = lists.to_vec();
        let moves = moves.to_vec();
        self.run(
            key,
            kind,
            digest,
            at.unix_ms,
            |conn| {
                let mut errors = Vec::new();
                let mut transfers = Vec::new();
                for (code, lines) in &lists {
                    match check_in(conn, code, lines, &items) {
                        Ok(_) => {}
                        Err(OpsError::Refused(list)) if lists.len() > 1 => {
                            errors.extend(list.into_iter().map(|mut e| {
                                e.rule = format!("departure `{code}`: {}", e.rule);
                                e.with("departure", code)
                            }));
                            continue;
                        }
                        Err(other) => return Err(other),
                    }
                    let departure = load_departure(conn, code)?.ok_or_else(|| OpsError::NotFound {
                        what: "departure",
                        code: code.clone(),
                    })?;
                    let from = node_account(Account::at_node, &departure.departure.node)?;
                    let to = node_account(Account::outbound, code)?;
                    transfers.extend(lines.iter().map(|l| TransferSpec {
                        lot: LotRef::Existing(l.lot_id),
                        from: from.clone(),
                        to: to.clone(),
                        quantity: l.quantity,
                        corrects: None,
                    }));
                }
                for m in &moves {
                    if crate::transfer::transfer_exists(conn, &m.code)? {
                        errors.push(Problem::new(
                            Code::DuplicateCode,
                            "transfers",
                            &m.code,
                            format!("transfer `{}` already exists", m.code),
                        ));
                        continue;
                    }
                    transfers.extend(crate::transfer::dispatch_transfers(m)?);
                }
                if !errors.is_empty() {
                    return Err(OpsError::Refused(errors));
                }
                Ok((
                    Batch::of_transfers(transfers),
                    (),
                ))
            },
            |conn, applied, ()| {
                let mut seq = applied.first_seq;
                for (code, lines) in &lists {
                    let next = conn.query(
                        "SELECT COALESCE(MAX(line_no), 0) FROM loading_lines WHERE departure_code = $1",
                        &[code.into()],
                    )?[0][0]
                        .int()?;
                    let rows: Vec<Vec<Value>> = lines
                        .iter()
                        .enumerate()
                        .map(|(i, l)| {
                            vec![
                                code.into(),
                                (next + 1 + i as i64).into(),
                                l.lot_id.into(),
                                l.quantity.into(),
                                l.request.as_deref().into(),
                                (seq + i as i64).into(),
                                applied.batch_id.into(),
                            ]
                        })
                        .collect();
                    seq += lines.len() as i64;
                    insert_rows(
                        conn,
                        "loading_lines",
                        &[
                            "departure_code",
                            "line_no",
                            "lot_id",
                            "quantity",
                            "request_code",
                            "seq",
                            "batch_id",
                        ],
                        &rows,
                    )?;
                    conn.execute(
                        "UPDATE departures SET status = $2 WHERE code = $1",
                        &[code.into(), DepartureStatus::Loaded.as_code().into()],
                    )?;
                }
                // Each line keeps its item's kg and m³ per unit as loaded:
                // a later edit of the item leaves this departure's history.
                conn.execute(
                    "UPDATE loading_lines SET \
                     unit_weight_kg = (SELECT i.unit_weight_kg FROM lots l JOIN items i ON i.code = l.item WHERE l.id = loading_lines.lot_id), \
                     unit_volume_m3 = (SELECT i.unit_volume_m3 FROM lots l JOIN items i ON i.code = l.item WHERE l.id = loading_lines.lot_id) \
                     WHERE batch_id = $1",
                    &[applied.batch_id.into()],
                )?;
                for m in &moves {
                    crate::transfer::record_dispatch(conn, m, applied.batch_id)?;
                }
                finish(conn, applied)
            },
        )
    }

    /// Takes everything off a departure that has not left: correcting
    /// entries reverse each loading line. Default key: `unload:<departure>:<digest>`.
    pub fn unload(
        &mut self,
        code: &str,
        reason: &str,
        key: Option<&str>,
        at: Moment,
    ) -> Result<Done, OpsError> {
        let mut problems = Vec::new();
        check_required("reason", reason, &mut problems);
        check_date("on", at.date, at, &mut problems);
        refuse_if(problems)?;
        let digest = crate::digest::unload(code, reason, at.date);
        let key = key.map_or_else(
            || format!("unload:{code}:{}", &digest[..16]),
            str::to_string,
        );
        let code = code.to_string();
        let reason = reason.to_string();
        self.run(
            &key,
            "departure.unload",
            &digest,
            at.unix_ms,
            |conn| {
                let departure = load_departure(conn, &code)?.ok_or_else(|| OpsError::NotFound { what: "departure", code: code.clone() })?;
                if departure.status != DepartureStatus::Loaded {
                    return Err(wrong_status(&code, &departure, "only a loaded departure can be unloaded"));
                }
                let rows = conn.query(
                    "SELECT line_no, lot_id, quantity, seq FROM loading_lines WHERE departure_code = $1 AND unloaded_batch IS NULL ORDER BY line_no",
                    &[(&code).into()],
                )?;
                let at_node = node_account(Account::at_node, &departure.departure.node)?;
                let outbound = node_account(Account::outbound, &code)?;
                let mut transfers = Vec::new();
                let mut seqs = Vec::new();
                for row in rows {
                    seqs.push((row[3].int()?, row[2].int()?));
                    transfers.push(TransferSpec {
                        lot: LotRef::Existing(row[1].int()?),
                        from: outbound.clone(),
                        to: at_node.clone(),
                        quantity: row[2].int()?,
                        corrects: Some(row[3].int()?),
                    });
                }
                Ok((Batch::of_transfers(transfers), seqs))
            },
            |conn, applied, seqs| {
                conn.execute(
                    "UPDATE loading_lines SET unloaded_batch = $1 WHERE departure_code = $2 AND unloaded_batch IS NULL",
                    &[applied.batch_id.into(), (&code).into()],
                )?;
                conn.execute("UPDATE departures SET status = $2 WHERE code = $1", &[(&code).into(), DepartureStatus::Open.as_code().into()])?;
                for (seq, quantity) in seqs {
                    conn.execute(
                        "INSERT INTO corrections (batch_id, corrects_seq, quantity, reason, recorded_on) VALUES ($1, $2, $3, $4, $5)",
                        &[applied.batch_id.into(), seq.into(), quantity.into(), format!("unloaded: {reason}").into(), date_text(at.date).into()],
                    )?;
                }
                Ok(code.clone())
            },
        )
    }

    /// Records that a loaded departure has left, on the moment's date.
    pub fn depart(&mut self, code: &str, at: Moment) -> Result<(), OpsError> {
        let on = at.date;
        let departure = self.departure(code)?;
        match departure.status {
            DepartureStatus::Loaded => {}
            DepartureStatus::Departed if departure.departed_on == Some(on) => return Ok(()),
            _ => {
                return Err(wrong_status(
                    code,
                    &departure,
                    "only a loaded departure can depart",
                ))
            }
        }
        let mut problems = Vec::new();
        check_date("departed_on", on, at, &mut problems);
        refuse_if(problems)?;
        self.store.write(|conn| {
            conn.execute(
                "UPDATE departures SET status = $3, departed_on = $1 WHERE code = $2 AND status = $4",
                &[
                    date_text(on).into(),
                    code.into(),
                    DepartureStatus::Departed.as_code().into(),
                    DepartureStatus::Loaded.as_code().into(),
                ],
            )
        })?;
        Ok(())
    }

    /// Records the recipient's confirmation of delivery. Default key:
    /// `delivery:<departure>`.
    pub fn deliver(
        &mut self,
        delivery: &NewDelivery,
        key: Option<&str>,
        at: Moment,
    ) -> Result<Done, OpsError> {
        let mut problems = Vec::new();
        check_required("received_by", &delivery.received_by, &mut problems);
        check_date("received_on", delivery.received_on, at, &mut problems);
        for (index, line) in delivery.lines.iter().enumerate() {
            check_count(
                &format!("lines[{index}].received"),
                line.received,
                &mut problems,
            );
        }
        refuse_if(problems)?;
        let digest = crate::digest::delivery(delivery);
        let key = key.map_or_else(
            || format!("delivery:{}", delivery.departure),
            str::to_string,
        );
        let d = delivery.clone();
        self.run(
            &key,
            "departure.deliver",
            &digest,
            at.unix_ms,
            |conn| {
                let departure = load_departure(conn, &d.departure)?
                    .ok_or_else(|| OpsError::NotFound { what: "departure", code: d.departure.clone() })?;
                if departure.status == DepartureStatus::Delivered {
                    return Err(wrong_status(&d.departure, &departure, "nothing changed"));
                }
                if departure.status != DepartureStatus::Departed {
                    return Err(wrong_status(&d.departure, &departure, "record its departure before its delivery"));
                }
                if let Some(departed) = departure.departed_on {
                    if d.received_on < departed {
                        return Err(OpsError::problem(
                            Problem::new(
                                Code::DeliveryBeforeDeparture,
                                "received_on",
                                date_text(d.received_on),
                                format!("departure `{}` left on {}; it cannot be delivered before", d.departure, date_text(departed)),
                            )
                            .with("departed_on", date_text(departed)),
                        ));
                    }
                }
                let rows = conn.query(
                    "SELECT line_no, lot_id, quantity, request_code FROM loading_lines WHERE departure_code = $1 AND unloaded_batch IS NULL ORDER BY line_no",
                    &[(&d.departure).into()],
                )?;
                let mut given: HashMap<i64, i64> = HashMap::new();
                let mut errors = Vec::new();
                for (index, line) in d.lines.iter().enumerate() {
                    if given.insert(line.line_no, line.received).is_some() {
                        errors.push(Problem::new(Code::LineNamedTwice, format!("lines[{index}].line"), line.line_no, format!("loading line {} appears twice", line.line_no)));
                    }
                }
                let known: HashSet<i64> = rows.iter().map(|r| r[0].int()).collect::<Result<_, _>>()?;
                for (index, line) in d.lines.iter().enumerate() {
                    if !known.contains(&line.line_no) {
                        errors.push(Problem::new(Code::UnknownLine, format!("lines[{index}].line"), line.line_no, format!("loading line {} is not on departure `{}`", line.line_no, d.departure)));
                    }
                }
                let outbound = node_account(Account::outbound, &d.departure)?;
                let delivered = node_account(Account::delivered, &departure.departure.destination)?;
                let mut transfers = Vec::new();
                let mut planned = Vec::new();
                for row in &rows {
                    let (line_no, lot_id, loaded) = (row[0].int()?, row[1].int()?, row[2].int()?);
                    let received = given.get(&line_no).copied().unwrap_or(loaded);
                    if received < 0 || received > loaded {
                        let index = d.lines.iter().position(|l| l.line_no == line_no).unwrap_or(0);
                        errors.push(
                            Problem::new(
                                Code::CountedOverLoaded,
                                format!("lines[{index}].received"),
                                received,
                                format!("loading line {line_no}: received {received} must be from 0 to the {loaded} loaded"),
                            )
                            .with("loaded", loaded),
                        );
                        continue;
                    }
                    let lot = LotRef::Existing(lot_id);
                    if received > 0 {
                        transfers.push(TransferSpec { lot, from: outbound.clone(), to: delivered.clone(), quantity: received, corrects: None });
                    }
                    if loaded > received {
                        transfers.push(TransferSpec { lot, from: outbound.clone(), to: Account::loss(LossReason::ShortDelivered), quantity: loaded - received, corrects: None });
                    }
                    planned.push((line_no, lot_id, loaded, received, row[3].opt_text()?));
                }
                refuse_if(errors)?;
                Ok((Batch::of_transfers(transfers), planned))
            },
            |conn, applied, planned| {
                conn.execute(
                    "INSERT INTO deliveries (departure_code, received_by, received_on, note, batch_id) VALUES ($1, $2, $3, $4, $5)",
                    &[(&d.departure).into(), (&d.received_by).into(), date_text(d.received_on).into(), (&d.note).into(), applied.batch_id.into()],
                )?;
                let rows: Vec<Vec<Value>> = planned
                    .iter()
                    .map(|(line_no, lot, loaded, received, request)| {
                        vec![
                            (&d.departure).into(),
                            (*line_no).into(),
                            (*lot).into(),
                            (*loaded).into(),
                            (*received).into(),
                            (loaded - received).into(),
                            request.as_deref().into(),
                        ]
                    })
                    .collect();
                insert_rows(conn, "delivery_lines", &["departure_code", "line_no", "lot_id", "loaded", "received", "short_quantity", "request_code"], &rows)?;
                conn.execute("UPDATE departures SET status = $2 WHERE code = $1", &[(&d.departure).into(), DepartureStatus::Delivered.as_code().into()])?;
                Ok(format!("POD-{}", d.departure))
            },
        )
    }

    /// The proof of delivery of a departure.
    pub fn proof_of_delivery(&mut self, code: &str) -> Result<ProofOfDelivery, OpsError> {
        let departure = self.departure(code)?;
        let code = code.to_string();
        let (head, rows, specs) = self.store.read(|conn| {
            let head = conn.query("SELECT received_by, received_on, note FROM deliveries WHERE departure_code = $1", &[(&code).into()])?;
            let rows = conn.query(
                "SELECT line_no, lot_id, loaded, received, short_quantity, request_code FROM delivery_lines WHERE departure_code = $1 ORDER BY line_no",
                &[(&code).into()],
            )?;
            let ids: Vec<i64> = rows.iter().map(|r| r[1].int()).collect::<Result<_, _>>()?;
            let specs = lot_specs(conn, &ids)?;
            Ok((head, rows, specs))
        })?;
        let head = head.first().ok_or_else(|| {
            OpsError::refused(
                Code::WrongStatus,
                "code",
                &code,
                format!("departure `{code}` has no confirmed delivery yet"),
            )
        })?;
        let mut lines = Vec::new();
        for row in rows {
            let lot_id = row[1].int()?;
            let spec = specs.get(&lot_id).cloned().unwrap_or(LotSpec {
                item: String::new(),
                donor: String::new(),
                batch: String::new(),
                expiry: None,
                earmark: Vec::new(),
            });
            lines.push(Delivery {
                line_no: row[0].int()?,
                lot_id,
                item: spec.item,
                donor: spec.donor,
                batch: spec.batch,
                loaded: row[2].int()?,
                received: row[3].int()?,
                short: row[4].int()?,
                request: row[5].opt_text()?,
            });
        }
        Ok(ProofOfDelivery {
            departure: departure.departure,
            received_by: head[0].text()?,
            received_on: date(&head[1])?,
            note: head[2].text()?,
            lines,
        })
    }
}

/// A refusal for a departure in the wrong state, saying what happened.
fn wrong_status(code: &str, departure: &Departure, rule: &str) -> OpsError {
    let what = match (departure.status, departure.departed_on) {
        (DepartureStatus::Departed, Some(on)) => {
            format!("departure `{code}` already departed on {}", date_text(on))
        }
        (DepartureStatus::Delivered, _) => format!("departure `{code}` was already delivered"),
        (status, _) => format!("departure `{code}` is {status}"),
    };
    let code_of = if departure.status.has_left() {
        Code::AlreadyDone
    } else {
        Code::WrongStatus
    };
    OpsError::problem(
        Problem::new(code_of, "code", code, format!("{what}; {rule}"))
            .with("status", departure.status.as_code()),
    )
}

fn check_in(
    conn: &mut dyn Conn,
    code: &str,
    lines: &[LoadLine],
    items: &HashMap<String, Item>,
) -> Result<LoadingCheck, OpsError> {
    let departure = load_departure(conn, code)?.ok_or_else(|| OpsError::NotFound {
        what: "departure",
        code: code.to_string(),
    })?;
    if !departure.status.takes_cargo() {
        return Err(wrong_status(
            code,
            &departure,
            "only an open or loaded departure takes cargo",
        ));
    }
    if lines.is_empty() {
        return Err(OpsError::refused(
            Code::NoLines,
            "lines",
            "",
            "a loading list needs at least one line",
        ));
    }
    let ids: Vec<i64> = lines.iter().map(|l| l.lot_id).collect();
    let lots = lot_specs(conn, &ids)?;
    let at = format!("at:{}", departure.departure.node);
    let mut available = HashMap::new();
    for id in &ids {
        available.insert(*id, balance_of(conn, &at, *id)?);
    }
    let mut requests = HashMap::new();
    for line in lines {
        if let Some(request) = &line.request {
            let rows = conn.query(
                "SELECT destination, item, cancelled_on FROM requests WHERE code = $1",
                &[request.into()],
            )?;
            if let Some(row) = rows.first() {
                requests.insert(
                    request.clone(),
                    RequestFacts {
                        destination: row[0].text()?,
                        item: row[1].text()?,
                        cancelled: row[2].opt_text()?.is_some(),
                    },
                );
            }
        }
    }
    let already = LoadingCheck {
        weight_kg: departure.loaded_kg,
        volume_m3: departure.loaded_m3,
        cold_volume_m3: loaded_cold_m3(conn, code, items)?,
        freight_cost_usd: 0.0,
    };
    check_loading(
        &departure.departure,
        lines,
        &lots,
        &available,
        items,
        &requests,
        &already,
    )
    .map_err(OpsError::Refused)
}

pub(crate) fn loaded_cold_m3(
    conn: &mut dyn Conn,
    code: &str,
    items: &HashMap<String, Item>,
) -> Result<f64, StoreError> {
    let rows = conn.query(
        "SELECT l.item, CAST(SUM(x.quantity) AS BIGINT) FROM loading_lines x JOIN lots l ON l.id = x.lot_id \
         WHERE x.departure_code = $1 AND x.unloaded_batch IS NULL GROUP BY l.item",
        &[code.into()],
    )?;
    let mut total = 0.0;
    for row in rows {
        if let Some(item) = items.get(&row[0].text()?) {
            if item.cold_chain {
                total += item.unit_volume_m3 * row[1].int()? as f64;
            }
        }
    }
    Ok(total)
}

pub(crate) fn load_departure(
    conn: &mut dyn Conn,
    code: &str,
) -> Result<Option<Departure>, StoreError> {
    let rows = conn.query(
        "SELECT code, node, destination, mode, service, vehicle, departs_on, arrives_on, payload_kg, volume_m3, cold_volume_m3, \
         dangerous_goods_allowed, fixed_cost_usd, cost_per_kg_usd, status, departed_on FROM departures WHERE code = $1",
        &[code.into()],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let loaded = conn.query(
        "SELECT COALESCE(SUM(x.quantity * COALESCE(x.unit_weight_kg, i.unit_weight_kg)), 0), \
         COALESCE(SUM(x.quantity * COALESCE(x.unit_volume_m3, i.unit_volume_m3)), 0), CAST(COALESCE(SUM(x.quantity), 0) AS BIGINT) \
         FROM loading_lines x JOIN lots l ON l.id = x.lot_id JOIN items i ON i.code = l.item \
         WHERE x.departure_code = $1 AND x.unloaded_batch IS NULL",
        &[code.into()],
    )?;
    Ok(Some(Departure {
        departure: NewDeparture {
            code: row[0].text()?,
            node: row[1].text()?,
            destination: row[2].text()?,
            mode: Mode::parse(&row[3].text()?)
                .ok_or_else(|| StoreError::Corrupt("departure mode".into()))?,
            service: Service::parse(&row[4].text()?)
                .ok_or_else(|| StoreError::Corrupt("departure service".into()))?,
            vehicle: row[5].text()?,
            departs_on: date(&row[6])?,
            arrives_on: date(&row[7])?,
            payload_kg: row[8].real()?,
            volume_m3: row[9].real()?,
            cold_volume_m3: row[10].real()?,
            dangerous_goods_allowed: row[11].int()? != 0,
            fixed_cost_usd: row[12].real()?,
            cost_per_kg_usd: row[13].real()?,
        },
        status: stored_status(code, &row[14].text()?)?,
        departed_on: opt_date(&row[15])?,
        loaded_kg: loaded[0][0].real()?,
        loaded_m3: loaded[0][1].real()?,
        loaded_units: loaded[0][2].int()?,
    }))
}

/// A departure's status as stored; any other text is a corrupt database.
pub(crate) fn stored_status(code: &str, text: &str) -> Result<DepartureStatus, StoreError> {
    DepartureStatus::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("departure `{code}` has the status `{text}`")))
}

impl Ops {
    /// Cancels a departure that has not left and carries nothing (unload a
    /// loaded one first). Cancelling a cancelled departure again changes
    /// nothing. Plans made afterwards no longer offer it.
    pub fn cancel_departure(&mut self, code: &str, reason: &str) -> Result<bool, OpsError> {
        let mut problems = Vec::new();
        check_required("reason", reason, &mut problems);
        refuse_if(problems)?;
        let departure = self.departure(code)?;
        match departure.status {
            DepartureStatus::Cancelled => return Ok(false),
            DepartureStatus::Open if departure.loaded_units == 0 => {}
            DepartureStatus::Open | DepartureStatus::Loaded => {
                return Err(wrong_status(
                    code,
                    &departure,
                    "unload a departure before cancelling it",
                ))
            }
            _ => {
                return Err(wrong_status(
                    code,
                    &departure,
                    "only a departure that has not left can be cancelled",
                ))
            }
        }
        self.store.write(|conn| {
            conn.execute(
                "UPDATE departures SET status = $2 WHERE code = $1 AND status = $3",
                &[
                    code.into(),
                    DepartureStatus::Cancelled.as_code().into(),
                    DepartureStatus::Open.as_code().into(),
                ],
            )
        })?;
        Ok(true)
    }
}
