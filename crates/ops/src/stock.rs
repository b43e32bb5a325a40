//! Stock at the nodes: by node, item and lot in FEFO order (first expiry,
//! first out), expiry alerts, quarantine and release, write-offs, and stock
//! counts with adjustments.

use reliefhub_core::{Account, AccountKind, Batch, LossReason, LotRef, TransferSpec};
use std::collections::HashMap;

use reliefhub_store::Conn;
use time::Date;

use crate::rules::{check_count, check_date, check_quantity, check_required};
use crate::{
    account, balance_of, date_text, lot_specs, Code, Done, Moment, Ops, OpsError, Problem,
    StockState,
};

/// The longest window of expiry alerts, in days (ten years).
pub const EXPIRY_WINDOW_MAX_DAYS: i64 = 3650;

/// The hub's stock of one lot in one state at one place.
#[derive(Debug, Clone, PartialEq)]
pub struct StockRow {
    /// The node holding it: for stock in transit the node it goes to, for
    /// stock loaded the departure's node.
    pub node: String,
    pub state: StockState,
    /// The document holding it: the hub transfer (in transit) or the
    /// departure (loaded); `None` at the node.
    pub document: Option<String>,
    pub lot_id: i64,
    pub item: String,
    pub donor: String,
    pub batch: String,
    pub expiry: Option<Date>,
    pub earmark: Vec<String>,
    pub quantity: i64,
    pub weight_kg: f64,
    pub volume_m3: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExpiryAlert {
    pub row: StockRow,
    /// Negative when already expired.
    pub days_left: i64,
}

impl ExpiryAlert {
    /// Expired, or expiring within the window asked for.
    pub fn state(&self) -> crate::ExpiryState {
        crate::ExpiryState::of(self.days_left)
    }
}

impl Ops {
    /// Stock at the nodes (available and in quarantine), in FEFO order per
    /// node and item.
    pub fn stock(
        &mut self,
        node: Option<&str>,
        item: Option<&str>,
    ) -> Result<Vec<StockRow>, OpsError> {
        self.stock_rows(node, item, false)
    }

    /// All the hub's stock, one row per lot, state and place: at the nodes,
    /// on hub transfers dispatched and not arrived (at the node they go to),
    /// and loaded on departures that have not left (at the departure's
    /// node). Per lot, the rows sum to the lot's balance in the hub's hands.
    pub fn stock_held(
        &mut self,
        node: Option<&str>,
        item: Option<&str>,
    ) -> Result<Vec<StockRow>, OpsError> {
        self.stock_rows(node, item, true)
    }

    fn stock_rows(
        &mut self,
        node: Option<&str>,
        item: Option<&str>,
        moving_too: bool,
    ) -> Result<Vec<StockRow>, OpsError> {
        let items = self.refs()?.items;
        let (rows, specs, transfers, departures) = self.store.read(|conn| {
            let rows = conn.query(
                if moving_too {
                    "SELECT account, lot_id, quantity FROM balances WHERE quantity <> 0 AND \
                     (account LIKE 'at:%' OR account LIKE 'quarantine:%' \
                     OR account LIKE 'transfer:%' OR account LIKE 'outbound:%') \
                     ORDER BY account, lot_id"
                } else {
                    "SELECT account, lot_id, quantity FROM balances WHERE quantity <> 0 AND \
                     (account LIKE 'at:%' OR account LIKE 'quarantine:%') ORDER BY account, lot_id"
                },
                &[],
            )?;
            let ids: Vec<i64> = rows.iter().map(|r| r[1].int()).collect::<Result<_, _>>()?;
            let specs = lot_specs(conn, &ids)?;
            let mut transfers = HashMap::new();
            let mut departures = HashMap::new();
            if moving_too {
                for r in conn.query("SELECT code, to_node FROM hub_transfers", &[])? {
                    transfers.insert(r[0].text()?, r[1].text()?);
                }
                for r in conn.query("SELECT code, node, status FROM departures", &[])? {
                    let code = r[0].text()?;
                    let status = crate::departure::stored_status(&code, &r[2].text()?)?;
                    departures.insert(code, (r[1].text()?, status));
                }
            }
            Ok((rows, specs, transfers, departures))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let account = crate::account(Account::parse(&row[0].text()?))?;
            let lot_id = row[1].int()?;
            let Some(spec) = specs.get(&lot_id) else {
                continue;
            };
            let reference = account.reference();
            let (state, at, document) = match account.kind() {
                AccountKind::AtNode => (StockState::Available, reference, None),
                AccountKind::Quarantine => (StockState::Quarantine, reference, None),
                AccountKind::NodeTransit => match transfers.get(reference) {
                    Some(to) => (StockState::InTransit, to.as_str(), Some(reference)),
                    None => continue,
                },
                AccountKind::OutboundTransit => match departures.get(reference) {
                    // Stock on a departure that has left is no longer the hub's.
                    Some((node, status)) if !status.has_left() => {
                        (StockState::Loaded, node.as_str(), Some(reference))
                    }
                    _ => continue,
                },
                _ => continue,
            };
            if node.is_some_and(|n| n != at) || item.is_some_and(|i| i != spec.item) {
                continue;
            }
            let quantity = row[2].int()?;
            let (weight, volume) = items
                .get(&spec.item)
                .map_or((0.0, 0.0), |i| (i.unit_weight_kg, i.unit_volume_m3));
            out.push(StockRow {
                node: at.to_string(),
                state,
                document: document.map(str::to_string),
                lot_id,
                item: spec.item.clone(),
                donor: spec.donor.clone(),
                batch: spec.batch.clone(),
                expiry: spec.expiry,
                earmark: spec.earmark.clone(),
                quantity,
                weight_kg: weight * quantity as f64,
                volume_m3: volume * quantity as f64,
            });
        }
        out.sort_by(|a, b| {
            (
                &a.node,
                a.state,
                &a.document,
                &a.item,
                a.expiry.is_none(),
                a.expiry,
                a.lot_id,
            )
                .cmp(&(
                    &b.node,
                    b.state,
                    &b.document,
                    &b.item,
                    b.expiry.is_none(),
                    b.expiry,
                    b.lot_id,
                ))
        });
        Ok(out)
    }

    /// Lots that have expired or expire within `within_days` (0 to 3650)
    /// of `today`.
    pub fn expiry_alerts(
        &mut self,
        today: Date,
        within_days: i64,
    ) -> Result<Vec<ExpiryAlert>, OpsError> {
        if !(0..=EXPIRY_WINDOW_MAX_DAYS).contains(&within_days) {
            return Err(OpsError::refused(
                Code::OutOfRange,
                "days",
                within_days,
                format!("the days ahead are 0 to {EXPIRY_WINDOW_MAX_DAYS}"),
            ));
        }
        let mut out: Vec<ExpiryAlert> = self
            .stock(None, None)?
            .into_iter()
            .filter_map(|row| {
                let expiry = row.expiry?;
                let days_left = (expiry - today).whole_days();
                (days_left <= within_days).then_some(ExpiryAlert { row, days_left })
            })
            .collect();
        out.sort_by_key(|a| (a.days_left, a.row.lot_id));
        Ok(out)
    }

    /// Moves stock of a lot between two accounts at a node (quarantine,
    /// release, write-off), recorded with a reason.
    #[allow(clippy::too_many_arguments)]
    fn move_at_node(
        &mut self,
        kind: &str,
        node: &str,
        lot_id: i64,
        quantity: i64,
        from: Account,
        to: Account,
        reason: &str,
        key: Option<&str>,
        at: Moment,
    ) -> Result<Done, OpsError> {
        let mut problems = Vec::new();
        self.refs()?.check_node("node", node, &mut problems);
        check_quantity("quantity", quantity, &mut problems);
        check_required("reason", reason, &mut problems);
        check_date("on", at.date, at, &mut problems);
        if !problems.is_empty() {
            return Err(OpsError::Refused(problems));
        }
        let digest = crate::digest::stock_move(
            kind,
            node,
            lot_id,
            quantity,
            &from.canonical().to_string(),
            &to.canonical().to_string(),
            reason,
            at.date,
        );
        let key = key.map_or_else(
            || format!("{kind}:{node}:{lot_id}:{}", &digest[..16]),
            str::to_string,
        );
        let batch = Batch::of_transfers(vec![TransferSpec {
            lot: LotRef::Existing(lot_id),
            from,
            to,
            quantity,
            corrects: None,
        }]);
        let (kind_owned, node, reason) = (kind.to_string(), node.to_string(), reason.to_string());
        self.run(
            &key,
            kind,
            &digest,
            at.unix_ms,
            |_| Ok((batch, ())),
            |conn, applied, ()| {
                record_event(conn, applied.batch_id, &kind_owned, &node, &reason, at.date)
            },
        )
    }

    /// Puts stock of a lot at a node into quarantine.
    pub fn quarantine(
        &mut self,
        node: &str,
        lot_id: i64,
        quantity: i64,
        reason: &str,
        key: Option<&str>,
        at: Moment,
    ) -> Result<Done, OpsError> {
        let (from, to) = (
            node_account(Account::at_node, node)?,
            node_account(Account::quarantine, node)?,
        );
        self.move_at_node(
            "stock.quarantine",
            node,
            lot_id,
            quantity,
            from,
            to,
            reason,
            key,
            at,
        )
    }

    /// Releases quarantined stock back to the node's available stock.
    pub fn release(
        &mut self,
        node: &str,
        lot_id: i64,
        quantity: i64,
        reason: &str,
        key: Option<&str>,
        at: Moment,
    ) -> Result<Done, OpsError> {
        let (from, to) = (
            node_account(Account::quarantine, node)?,
            node_account(Account::at_node, node)?,
        );
        self.move_at_node(
            "stock.release",
            node,
            lot_id,
            quantity,
            from,
            to,
            reason,
            key,
            at,
        )
    }

    /// Writes off stock (from quarantine when `from_quarantine`, else from
    /// available stock) as a loss with a reason.
    #[allow(clippy::too_many_arguments)]
    pub fn write_off(
        &mut self,
        node: &str,
        lot_id: i64,
        quantity: i64,
        from_quarantine: bool,
        loss: LossReason,
        note: &str,
        key: Option<&str>,
        at: Moment,
    ) -> Result<Done, OpsError> {
        let from = if from_quarantine {
            node_account(Account::quarantine, node)?
        } else {
            node_account(Account::at_node, node)?
        };
        self.move_at_node(
            "stock.write-off",
            node,
            lot_id,
            quantity,
            from,
            Account::loss(loss),
            note,
            key,
            at,
        )
    }

    /// Records a stock count at a node: each (lot, counted). A shortfall goes
    /// to loss:count-adjustment; found stock comes from source(donor).
    pub fn count(
        &mut self,
        node: &str,
        counts: &[(i64, i64)],
        reason: &str,
        key: Option<&str>,
        at: Moment,
    ) -> Result<Done, OpsError> {
        let mut problems = Vec::new();
        self.refs()?.check_node("node", node, &mut problems);
        check_required("reason", reason, &mut problems);
        check_date("on", at.date, at, &mut problems);
        if counts.is_empty() {
            problems.push(Problem::new(
                Code::NoLines,
                "lines",
                "",
                "count at least one lot",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (index, (lot_id, counted)) in counts.iter().enumerate() {
            check_count(&format!("lines[{index}].counted"), *counted, &mut problems);
            if !seen.insert(*lot_id) {
                problems.push(
                    Problem::new(
                        Code::LotNamedTwice,
                        format!("lines[{index}].lot_id"),
                        lot_id,
                        format!(
                            "lot {lot_id} is named twice in this count: give one count per lot"
                        ),
                    )
                    .with("lot", lot_id),
                );
            }
        }
        if !problems.is_empty() {
            return Err(OpsError::Refused(problems));
        }
        let at_node = node_account(Account::at_node, node)?;
        let digest = crate::digest::count(node, counts, reason, at.date);
        let key = key.map_or_else(
            || format!("stock.count:{node}:{}", &digest[..16]),
            str::to_string,
        );
        let counts = counts.to_vec();
        let (node_owned, reason_owned) = (node.to_string(), reason.to_string());
        self.run(
            &key,
            "stock.count",
            &digest,
            at.unix_ms,
            |conn| {
                let mut errors = Vec::new();
                let ids: Vec<i64> = counts.iter().map(|c| c.0).collect();
                let specs = lot_specs(conn, &ids)?;
                let mut transfers = Vec::new();
                for (index, (lot_id, counted)) in counts.iter().enumerate() {
                    let Some(spec) = specs.get(lot_id) else {
                        errors.push(Problem::new(
                            Code::UnknownLot,
                            format!("lines[{index}].lot_id"),
                            lot_id,
                            format!("lot {lot_id} does not exist"),
                        ));
                        continue;
                    };
                    let held = balance_of(conn, at_node.canonical(), *lot_id)?;
                    let lot = LotRef::Existing(*lot_id);
                    if *counted < held {
                        transfers.push(TransferSpec {
                            lot,
                            from: at_node.clone(),
                            to: Account::loss(LossReason::CountAdjustment),
                            quantity: held - counted,
                            corrects: None,
                        });
                    } else if *counted > held {
                        let source = account(Account::source(&spec.donor))?;
                        transfers.push(TransferSpec {
                            lot,
                            from: source,
                            to: at_node.clone(),
                            quantity: counted - held,
                            corrects: None,
                        });
                    }
                }
                if !errors.is_empty() {
                    return Err(OpsError::Refused(errors));
                }
                if transfers.is_empty() {
                    return Err(OpsError::refused(
                        Code::AlreadyDone,
                        "lines",
                        "",
                        format!("the count matches the stock at {node_owned}: nothing to adjust"),
                    ));
                }
                Ok((Batch::of_transfers(transfers), ()))
            },
            |conn, applied, ()| {
                record_event(
                    conn,
                    applied.batch_id,
                    "stock.count",
                    &node_owned,
                    &reason_owned,
                    at.date,
                )
            },
        )
    }

    /// Reverses (part of) a journal entry with a correcting entry that names
    /// it. Default quantity: all that is left to reverse.
    pub fn correct(
        &mut self,
        seq: i64,
        quantity: Option<i64>,
        reason: &str,
        key: Option<&str>,
        at: Moment,
    ) -> Result<Done, OpsError> {
        let mut problems = Vec::new();
        check_required("reason", reason, &mut problems);
        if let Some(quantity) = quantity {
            check_quantity("quantity", quantity, &mut problems);
        }
        check_date("on", at.date, at, &mut problems);
        if !problems.is_empty() {
            return Err(OpsError::Refused(problems));
        }
        let digest = crate::digest::correction(seq, quantity, reason);
        let key = key.map_or_else(
            || format!("correct:{seq}:{}", &digest[..16]),
            str::to_string,
        );
        let reason = reason.to_string();
        self.run(
            &key,
            "correction",
            &digest,
            at.unix_ms,
            |conn| {
                let rows = conn.query(
                    "SELECT lot_id, from_account, to_account, quantity, \
                     (SELECT CAST(COALESCE(SUM(c.quantity), 0) AS BIGINT) FROM journal c WHERE c.corrects = j.seq) FROM journal j WHERE seq = $1",
                    &[seq.into()],
                )?;
                let row = rows.first().ok_or_else(|| OpsError::NotFound { what: "journal entry", code: seq.to_string() })?;
                let remaining = row[3].int()? - row[4].int()?;
                let quantity = quantity.unwrap_or(remaining);
                if quantity <= 0 || quantity > remaining {
                    return Err(OpsError::problem(
                        Problem::new(
                            Code::CorrectionOverEntry,
                            "quantity",
                            quantity,
                            format!("entry {seq} has {remaining} left to reverse; cannot correct {quantity}"),
                        )
                        .with("remaining", remaining),
                    ));
                }
                let parse = |t: String| account(Account::parse(&t));
                let transfer = TransferSpec {
                    lot: LotRef::Existing(row[0].int()?),
                    from: parse(row[2].text()?)?,
                    to: parse(row[1].text()?)?,
                    quantity,
                    corrects: Some(seq),
                };
                Ok((Batch::of_transfers(vec![transfer]), quantity))
            },
            |conn, applied, quantity| {
                conn.execute(
                    "INSERT INTO corrections (batch_id, corrects_seq, quantity, reason, recorded_on) VALUES ($1, $2, $3, $4, $5)",
                    &[applied.batch_id.into(), seq.into(), quantity.into(), (&reason).into(), date_text(at.date).into()],
                )?;
                Ok(format!("correction of entry {seq}"))
            },
        )
    }
}

pub(crate) fn node_account(
    make: fn(&str) -> Result<Account, reliefhub_core::account::AccountParseError>,
    node: &str,
) -> Result<Account, OpsError> {
    account(make(node))
}

fn record_event(
    conn: &mut dyn Conn,
    batch_id: i64,
    kind: &str,
    node: &str,
    reason: &str,
    on: Date,
) -> Result<String, OpsError> {
    conn.execute(
        "INSERT INTO stock_events (batch_id, kind, node, reason, recorded_on) VALUES ($1, $2, $3, $4, $5)",
        &[batch_id.into(), kind.into(), node.into(), reason.into(), date_text(on).into()],
    )?;
    Ok(format!("{kind} batch {batch_id}"))
}
