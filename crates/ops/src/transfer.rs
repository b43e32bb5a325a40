//! Transfers between the hub's nodes (trucks between the port and the
//! airfield): dispatch moves at(A) -> transfer(T), arrival moves everything
//! in transfer(T) -> at(B). Stock in transit is the balance of transfer(T).

use reliefhub_core::{Account, Batch, LotRef, TransferSpec};
use reliefhub_store::{Conn, Value};
use time::Date;

use crate::rules::{check_date, check_quantity, refuse_if};
use crate::stock::node_account;
use crate::{check_code, date, date_text, insert_rows, Code, Done, Moment, Ops, OpsError, Problem};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransfer {
    pub code: String,
    pub from_node: String,
    pub to_node: String,
    pub vehicle: String,
    pub dispatched_on: Date,
    /// (lot, quantity)
    pub lines: Vec<(i64, i64)>,
}

/// Whether a hub transfer with this code was already dispatched.
pub(crate) fn transfer_exists(conn: &mut dyn Conn, code: &str) -> Result<bool, OpsError> {
    let used = conn.query(
        "SELECT COUNT(*) FROM hub_transfers WHERE code = $1",
        &[code.into()],
    )?[0][0]
        .int()?;
    Ok(used > 0)
}

/// The ledger transfers of a dispatch: each line from the sending node into
/// the transfer's own in-transit account.
pub(crate) fn dispatch_transfers(t: &NewTransfer) -> Result<Vec<TransferSpec>, OpsError> {
    let from = node_account(Account::at_node, &t.from_node)?;
    let via = node_account(Account::node_transit, &t.code)?;
    Ok(t.lines
        .iter()
        .map(|(lot, quantity)| TransferSpec {
            lot: LotRef::Existing(*lot),
            from: from.clone(),
            to: via.clone(),
            quantity: *quantity,
            corrects: None,
        })
        .collect())
}

/// Stores a dispatched transfer's document: the transfer and its lines
/// (summed per lot), written by ledger batch `batch_id`.
pub(crate) fn record_dispatch(
    conn: &mut dyn Conn,
    t: &NewTransfer,
    batch_id: i64,
) -> Result<(), OpsError> {
    conn.execute(
        "INSERT INTO hub_transfers (code, from_node, to_node, vehicle, dispatched_on, dispatch_batch) VALUES ($1, $2, $3, $4, $5, $6)",
        &[(&t.code).into(), (&t.from_node).into(), (&t.to_node).into(), (&t.vehicle).into(), date_text(t.dispatched_on).into(), batch_id.into()],
    )?;
    let mut merged: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
    for (lot, quantity) in &t.lines {
        *merged.entry(*lot).or_insert(0) += quantity;
    }
    let rows: Vec<Vec<Value>> = merged
        .iter()
        .map(|(lot, q)| vec![(&t.code).into(), (*lot).into(), (*q).into()])
        .collect();
    insert_rows(
        conn,
        "hub_transfer_lines",
        &["transfer_code", "lot_id", "quantity"],
        &rows,
    )?;
    Ok(())
}

impl Ops {
    /// Dispatches a hub transfer. Default key: `transfer:<code>`.
    pub fn dispatch_transfer(
        &mut self,
        transfer: &NewTransfer,
        key: Option<&str>,
        at: Moment,
    ) -> Result<Done, OpsError> {
        let refs = self.refs()?;
        let mut errors = Vec::new();
        check_code("transfer", &transfer.code, &mut errors);
        refs.check_node("from", &transfer.from_node, &mut errors);
        refs.check_node("to", &transfer.to_node, &mut errors);
        if transfer.from_node == transfer.to_node {
            errors.push(Problem::new(
                Code::SameNode,
                "to",
                &transfer.to_node,
                "a transfer goes between two different nodes",
            ));
        }
        check_date("dispatched_on", transfer.dispatched_on, at, &mut errors);
        if transfer.lines.is_empty() {
            errors.push(Problem::new(
                Code::NoLines,
                "lines",
                "",
                "a transfer needs at least one lot",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (index, (lot, quantity)) in transfer.lines.iter().enumerate() {
            check_quantity(&format!("lines[{index}].quantity"), *quantity, &mut errors);
            if !seen.insert(*lot) {
                errors.push(
                    Problem::new(
                        Code::LotNamedTwice,
                        format!("lines[{index}].lot_id"),
                        lot,
                        format!("lot {lot} is named twice in this transfer: give one line per lot"),
                    )
                    .with("lot", lot),
                );
            }
        }
        refuse_if(errors)?;
        let digest = crate::digest::transfer(transfer);
        let key = key.map_or_else(|| format!("transfer:{}", transfer.code), str::to_string);
        let transfers = dispatch_transfers(transfer)?;
        let t = transfer.clone();
        self.run(
            &key,
            "transfer.dispatch",
            &digest,
            at.unix_ms,
            |conn| {
                if transfer_exists(conn, &t.code)? {
                    return Err(OpsError::refused(
                        Code::DuplicateCode,
                        "code",
                        &t.code,
                        format!("transfer `{}` already exists with other details; give this transfer another code", t.code),
                    ));
                }
                Ok((Batch::of_transfers(transfers), ()))
            },
            |conn, applied, ()| {
                record_dispatch(conn, &t, applied.batch_id)?;
                Ok(t.code.clone())
            },
        )
    }

    /// Records the arrival of a hub transfer: all it carries goes to the
    /// destination node. Default key: `transfer-arrival:<code>`.
    pub fn arrive_transfer(
        &mut self,
        code: &str,
        key: Option<&str>,
        at: Moment,
    ) -> Result<Done, OpsError> {
        let digest = crate::digest::transfer_arrive(code);
        let key = key.map_or_else(|| format!("transfer-arrival:{code}"), str::to_string);
        let code = code.to_string();
        self.run(
            &key,
            "transfer.arrive",
            &digest,
            at.unix_ms,
            |conn| {
                let rows = conn.query("SELECT to_node, arrived_on, dispatched_on FROM hub_transfers WHERE code = $1", &[(&code).into()])?;
                let row = rows.first().ok_or_else(|| OpsError::NotFound { what: "hub transfer", code: code.clone() })?;
                if let Some(arrived) = row[1].opt_text()? {
                    return Err(OpsError::problem(
                        Problem::new(Code::AlreadyDone, "code", &code, format!("transfer `{code}` already arrived at {} on {arrived}", row[0].text()?))
                            .with("arrived_on", arrived),
                    ));
                }
                let dispatched = date(&row[2])?;
                let mut problems = Vec::new();
                check_date("arrived_on", at.date, at, &mut problems);
                if at.date < dispatched {
                    problems.push(
                        Problem::new(
                            Code::ArrivalBeforeDispatch,
                            "arrived_on",
                            date_text(at.date),
                            format!("transfer `{code}` was dispatched on {}; it cannot arrive before", date_text(dispatched)),
                        )
                        .with("dispatched_on", date_text(dispatched)),
                    );
                }
                refuse_if(problems)?;
                let to = node_account(Account::at_node, &row[0].text()?)?;
                let via = node_account(Account::node_transit, &code)?;
                let transfers = conn
                    .query(
                        "SELECT lot_id, quantity FROM balances WHERE account = $1 AND quantity > 0 ORDER BY lot_id",
                        &[via.canonical().into()],
                    )?
                    .iter()
                    .map(|r| Ok(TransferSpec { lot: LotRef::Existing(r[0].int()?), from: via.clone(), to: to.clone(), quantity: r[1].int()?, corrects: None }))
                    .collect::<Result<Vec<_>, reliefhub_store::StoreError>>()?;
                Ok((Batch::of_transfers(transfers), ()))
            },
            |conn, applied, ()| {
                conn.execute(
                    "UPDATE hub_transfers SET arrived_on = $1, arrival_batch = $2 WHERE code = $3",
                    &[date_text(at.date).into(), applied.batch_id.into(), (&code).into()],
                )?;
                Ok(code.clone())
            },
        )
    }
}
