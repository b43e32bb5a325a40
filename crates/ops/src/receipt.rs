//! Receipt at the node against the manifest, line by line.
//!
//! For a manifest line of M units (a lot held in inbound(leg)) counted as C
//! units of which D are damaged:
//! - C - D good units go to at(node), D damaged units to quarantine(node)
//!   or loss:damaged, drawn first from what the manifest declared;
//! - M - C short-landed units (when C < M) go to loss:short-landed;
//! - C - M over-landed units (when C > M) come from source(donor): they are
//!   received, on the same lot, and the line is flagged.
//!
//! Every counted unit also reduces the donor's outstanding pledges of the
//! item (pledged -> source), oldest first.

use std::collections::{BTreeMap, HashSet};

use reliefhub_core::{Account, Batch, LossReason, LotRef, TransferSpec};
use reliefhub_store::{Conn, StoreError, Value};
use time::Date;

use crate::inbound::load_leg;
use crate::pledge::fulfil_pledges;
use crate::rules::{check_count, check_date, check_required, refuse_if};
use crate::{
    account, date_text, insert_rows, lot_specs, opt_date, Code, Done, Moment, Ops, OpsError,
    Problem,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DamagedTo {
    Quarantine,
    Loss,
}

impl DamagedTo {
    pub fn code(self) -> &'static str {
        match self {
            DamagedTo::Quarantine => "quarantine",
            DamagedTo::Loss => "loss",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLine {
    /// The manifest line (its line number in the manifest file).
    pub line_no: i64,
    pub counted: i64,
    pub damaged: i64,
    pub damaged_to: DamagedTo,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReceipt {
    pub leg: String,
    pub received_on: Date,
    pub received_by: String,
    pub lines: Vec<ReceiptLine>,
    /// Receive every other line not yet received as counted equal to the manifest.
    pub rest_as_manifested: bool,
}

/// One line of a goods-received note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrnLine {
    pub line_no: i64,
    pub lot_id: i64,
    pub item: String,
    pub donor: String,
    pub batch: String,
    pub expiry: Option<Date>,
    pub manifest_quantity: i64,
    pub counted: i64,
    pub good: i64,
    pub damaged: i64,
    pub damaged_to: String,
    pub short: i64,
    pub over: i64,
    pub note: String,
    pub receipt_id: i64,
    pub received_on: Date,
}

/// A goods-received note: what was counted against the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoodsReceivedNote {
    pub leg: crate::NewLeg,
    pub lines: Vec<GrnLine>,
    pub not_received: i64,
}

impl Ops {
    /// Receives manifest lines of a leg at its node. Default key:
    /// `receipt:<leg>:<digest of the request>`.
    pub fn receive(
        &mut self,
        receipt: &NewReceipt,
        key: Option<&str>,
        at: Moment,
    ) -> Result<Done, OpsError> {
        let leg = self.leg(&receipt.leg)?;
        let mut problems = Vec::new();
        check_date("received_on", receipt.received_on, at, &mut problems);
        check_required("received_by", &receipt.received_by, &mut problems);
        if receipt.lines.is_empty() && !receipt.rest_as_manifested {
            problems.push(Problem::new(
                Code::NoLines,
                "lines",
                "",
                "name at least one line received, or receive the rest as manifested",
            ));
        }
        for (index, line) in receipt.lines.iter().enumerate() {
            check_count(
                &format!("lines[{index}].counted"),
                line.counted,
                &mut problems,
            );
            check_count(
                &format!("lines[{index}].damaged"),
                line.damaged,
                &mut problems,
            );
        }
        refuse_if(problems)?;
        let digest = crate::digest::receipt(receipt);
        let key = key.map_or_else(
            || format!("receipt:{}:{}", receipt.leg, &digest[..16]),
            str::to_string,
        );
        let receipt = receipt.clone();
        let node = leg.node.clone();
        self.run(
            &key,
            "receipt.record",
            &digest,
            at.unix_ms,
            |conn| build_receipt(conn, &receipt, &node),
            |conn, applied, lines| {
                let id = conn.query("SELECT COALESCE(MAX(id), 0) + 1 FROM receipts", &[])?[0][0].int()?;
                conn.execute(
                    "INSERT INTO receipts (id, leg_code, idem_key, received_on, received_by, batch_id) VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        id.into(),
                        (&receipt.leg).into(),
                        (&key).into(),
                        date_text(receipt.received_on).into(),
                        (&receipt.received_by).into(),
                        applied.batch_id.into(),
                    ],
                )?;
                let rows: Vec<Vec<Value>> = lines
                    .iter()
                    .map(|l: &PlannedLine| {
                        vec![
                            (&receipt.leg).into(),
                            l.line.line_no.into(),
                            id.into(),
                            l.lot_id.into(),
                            l.manifest_quantity.into(),
                            l.line.counted.into(),
                            l.line.damaged.into(),
                            l.line.damaged_to.code().into(),
                            (l.manifest_quantity - l.line.counted).max(0).into(),
                            (l.line.counted - l.manifest_quantity).max(0).into(),
                            (&l.line.note).into(),
                        ]
                    })
                    .collect();
                insert_rows(
                    conn,
                    "receipt_lines",
                    &[
                        "leg_code", "line_no", "receipt_id", "lot_id", "manifest_quantity", "counted", "damaged",
                        "damaged_to", "short_quantity", "over_quantity", "note",
                    ],
                    &rows,
                )?;
                Ok(format!("GRN-{id}"))
            },
        )
    }

    /// The goods-received note of a leg: every line received so far.
    pub fn goods_received_note(&mut self, leg_code: &str) -> Result<GoodsReceivedNote, OpsError> {
        let leg = self.leg(leg_code)?;
        let (rows, not_received, specs) = self.store.read(|conn| {
            let rows = conn.query(
                "SELECT r.line_no, r.lot_id, r.manifest_quantity, r.counted, r.damaged, r.damaged_to, r.short_quantity, \
                 r.over_quantity, r.note, r.receipt_id, c.received_on FROM receipt_lines r JOIN receipts c ON c.id = r.receipt_id \
                 WHERE r.leg_code = $1 ORDER BY r.line_no",
                &[leg_code.into()],
            )?;
            let not_received = conn.query(
                "SELECT COUNT(*) FROM manifest_lines m WHERE m.leg_code = $1 AND NOT EXISTS \
                 (SELECT 1 FROM receipt_lines r WHERE r.leg_code = m.leg_code AND r.line_no = m.line_no)",
                &[leg_code.into()],
            )?[0][0]
                .int()?;
            let ids: Vec<i64> = rows.iter().map(|r| r[1].int()).collect::<Result<_, _>>()?;
            let specs = lot_specs(conn, &ids)?;
            Ok((rows, not_received, specs))
        })?;
        let mut lines = Vec::with_capacity(rows.len());
        for row in rows {
            let lot_id = row[1].int()?;
            let spec = specs
                .get(&lot_id)
                .cloned()
                .ok_or_else(|| StoreError::Corrupt(format!("lot {lot_id}")))?;
            let counted = row[3].int()?;
            let damaged = row[4].int()?;
            lines.push(GrnLine {
                line_no: row[0].int()?,
                lot_id,
                item: spec.item,
                donor: spec.donor,
                batch: spec.batch,
                expiry: spec.expiry,
                manifest_quantity: row[2].int()?,
                counted,
                good: counted - damaged,
                damaged,
                damaged_to: row[5].text()?,
                short: row[6].int()?,
                over: row[7].int()?,
                note: row[8].text()?,
                receipt_id: row[9].int()?,
                received_on: opt_date(&row[10])?.unwrap_or(Date::MIN),
            });
        }
        Ok(GoodsReceivedNote {
            leg,
            lines,
            not_received,
        })
    }
}

struct PlannedLine {
    line: ReceiptLine,
    lot_id: i64,
    manifest_quantity: i64,
}

fn build_receipt(
    conn: &mut dyn Conn,
    receipt: &NewReceipt,
    node: &str,
) -> Result<(Batch, Vec<PlannedLine>), OpsError> {
    let leg = load_leg(conn, &receipt.leg)?.ok_or_else(|| OpsError::NotFound {
        what: "inbound leg",
        code: receipt.leg.clone(),
    })?;
    let manifest: BTreeMap<i64, (i64, i64)> = conn
        .query(
            "SELECT line_no, lot_id, quantity FROM manifest_lines WHERE leg_code = $1",
            &[(&leg.code).into()],
        )?
        .iter()
        .map(|r| Ok((r[0].int()?, (r[1].int()?, r[2].int()?))))
        .collect::<Result<_, StoreError>>()?;
    if manifest.is_empty() {
        return Err(OpsError::refused(
            Code::WrongStatus,
            "leg",
            &leg.code,
            format!(
                "leg `{}` has no manifest: import its manifest before receiving it",
                leg.code
            ),
        ));
    }
    let received: HashSet<i64> = conn
        .query(
            "SELECT line_no FROM receipt_lines WHERE leg_code = $1",
            &[(&leg.code).into()],
        )?
        .iter()
        .map(|r| r[0].int())
        .collect::<Result<_, _>>()?;
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut lines: Vec<ReceiptLine> = Vec::new();
    for (index, line) in receipt.lines.iter().enumerate() {
        let n = line.line_no;
        let field = |name: &str| format!("lines[{index}].{name}");
        if !manifest.contains_key(&n) {
            errors.push(Problem::new(
                Code::UnknownLine,
                field("line"),
                n,
                format!(
                    "line {n} is not a line of the manifest of leg `{}`",
                    leg.code
                ),
            ));
        } else if received.contains(&n) {
            errors.push(Problem::new(
                Code::AlreadyDone,
                field("line"),
                n,
                format!("line {n} of leg `{}` was already received", leg.code),
            ));
        }
        if !seen.insert(n) {
            errors.push(Problem::new(
                Code::LineNamedTwice,
                field("line"),
                n,
                format!("line {n} appears twice in this receipt"),
            ));
        }
        if line.damaged > line.counted {
            errors.push(
                Problem::new(
                    Code::OutOfRange,
                    field("damaged"),
                    line.damaged,
                    format!(
                        "damaged {} must be from 0 to the counted {}",
                        line.damaged, line.counted
                    ),
                )
                .with("max", line.counted),
            );
        }
        lines.push(line.clone());
    }
    if receipt.rest_as_manifested {
        for (n, (_, quantity)) in &manifest {
            if !received.contains(n) && !seen.contains(n) {
                lines.push(ReceiptLine {
                    line_no: *n,
                    counted: *quantity,
                    damaged: 0,
                    damaged_to: DamagedTo::Quarantine,
                    note: String::new(),
                });
            }
        }
    }
    if lines.is_empty() && errors.is_empty() {
        errors.push(Problem::new(
            Code::AlreadyDone,
            "leg",
            &leg.code,
            format!(
                "nothing to receive: every line of leg `{}` was already received",
                leg.code
            ),
        ));
    }
    refuse_if(errors)?;
    lines.sort_by_key(|l| l.line_no);
    let ids: Vec<i64> = lines.iter().map(|l| manifest[&l.line_no].0).collect();
    let specs = lot_specs(conn, &ids)?;
    let inbound = account(Account::inbound(&leg.code))?;
    let at = account(Account::at_node(node))?;
    let quarantine = account(Account::quarantine(node))?;
    let mut transfers = Vec::new();
    let mut planned = Vec::new();
    let mut received_by_item: BTreeMap<(String, String), i64> = BTreeMap::new();
    for line in lines {
        let (lot_id, manifest_quantity) = manifest[&line.line_no];
        let spec = specs
            .get(&lot_id)
            .ok_or_else(|| StoreError::Corrupt(format!("lot {lot_id}")))?;
        let source = account(Account::source(&spec.donor))?;
        let damaged_account = match line.damaged_to {
            DamagedTo::Quarantine => quarantine.clone(),
            DamagedTo::Loss => Account::loss(LossReason::Damaged),
        };
        let from_inbound = line.counted.min(manifest_quantity);
        let damaged_from_inbound = line.damaged.min(manifest_quantity);
        let good_from_inbound = from_inbound - damaged_from_inbound;
        let short = manifest_quantity - from_inbound;
        let over = (line.counted - manifest_quantity).max(0);
        let damaged_from_source = line.damaged - damaged_from_inbound;
        let good_from_source = over - damaged_from_source;
        let lot = LotRef::Existing(lot_id);
        let mut push = |from: &Account, to: &Account, quantity: i64| {
            if quantity > 0 {
                transfers.push(TransferSpec {
                    lot,
                    from: from.clone(),
                    to: to.clone(),
                    quantity,
                    corrects: None,
                });
            }
        };
        push(&inbound, &at, good_from_inbound);
        push(&inbound, &damaged_account, damaged_from_inbound);
        push(&inbound, &Account::loss(LossReason::ShortLanded), short);
        push(&source, &at, good_from_source);
        push(&source, &damaged_account, damaged_from_source);
        *received_by_item
            .entry((spec.donor.clone(), spec.item.clone()))
            .or_insert(0) += line.counted;
        planned.push(PlannedLine {
            line,
            lot_id,
            manifest_quantity,
        });
    }
    for ((donor, item), quantity) in received_by_item {
        fulfil_pledges(conn, &donor, &item, quantity, &mut transfers)?;
    }
    if transfers.is_empty() {
        return Err(OpsError::refused(
            Code::NoLines,
            "lines",
            "",
            "the receipt moves nothing: name the lines received",
        ));
    }
    Ok((Batch::of_transfers(transfers), planned))
}
