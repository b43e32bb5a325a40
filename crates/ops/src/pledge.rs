//! Pledges: a donor's promise of quantities of items.
//!
//! Ledger model: each pledge line creates a placeholder lot (batch text
//! `PLEDGE <code>/<line>`) and moves its quantity source(donor) ->
//! pledged(donor). The balance of pledged(donor) for that lot is what is
//! still outstanding. When real goods of the donor and item are received,
//! the receipt moves the same quantity back pledged(donor) -> source(donor)
//! (oldest pledge first). Cancelling a pledge reverses what is outstanding
//! with correcting entries that name the pledge line's entry.

use reliefhub_core::{Account, Batch, LotRef, LotSpec, TransferSpec};
use reliefhub_store::Value;
use time::Date;

use crate::rules::{check_date, check_quantity};
use crate::{
    account, check_code, date_text, insert_rows, Code, Done, Moment, Ops, OpsError, Problem,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PledgeLine {
    pub item: String,
    pub quantity: i64,
    /// ISO 3166-1 alpha-2 codes; empty allows every destination.
    pub earmark: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPledge {
    pub code: String,
    pub donor: String,
    pub pledged_on: Date,
    pub note: String,
    pub lines: Vec<PledgeLine>,
}

/// A pledge code a donor gives its own pledge: it begins with the donor's
/// organisation code and `-`. Decided without the database, so a donor never
/// learns another donor's pledge codes from a refusal.
pub fn check_own_pledge_code(own: &str, code: &str) -> Result<(), OpsError> {
    if code.starts_with(&format!("{own}-")) {
        return Ok(());
    }
    Err(OpsError::refused(
        Code::PledgeCodeScope,
        "code",
        code,
        format!("a donor's pledge code begins with its organisation's code and `-` (`{own}-...`)"),
    ))
}

impl Ops {
    /// Records a pledge. Default key: `pledge:<code>`.
    pub fn pledge(
        &mut self,
        pledge: &NewPledge,
        key: Option<&str>,
        at: Moment,
    ) -> Result<Done, OpsError> {
        let refs = self.refs()?;
        let mut errors = Vec::new();
        check_code("pledge", &pledge.code, &mut errors);
        refs.check_donor("donor", &pledge.donor, &mut errors);
        // A code that begins with a donor's code and `-` is that donor's
        // alone: a donor choosing codes in its own range never meets
        // another donor's pledge, so a refusal tells it nothing of them.
        if let Some(other) = refs
            .donors
            .iter()
            .find(|d| **d != pledge.donor && pledge.code.starts_with(&format!("{d}-")))
        {
            errors.push(Problem::new(
                Code::PledgeCodeScope,
                "code",
                &pledge.code,
                format!("a pledge code that begins with `{other}-` is for that donor's pledges only; give this pledge another code"),
            ));
        }
        check_date("pledged_on", pledge.pledged_on, at, &mut errors);
        if pledge.lines.is_empty() {
            errors.push(Problem::new(
                Code::NoLines,
                "lines",
                "",
                "a pledge needs at least one line",
            ));
        }
        for (index, line) in pledge.lines.iter().enumerate() {
            let field = |name: &str| format!("lines[{index}].{name}");
            refs.check_item(&field("item"), &line.item, &mut errors);
            check_quantity(&field("quantity"), line.quantity, &mut errors);
            refs.check_earmark(&field("earmark"), &line.earmark, &mut errors);
        }
        if !errors.is_empty() {
            return Err(OpsError::Refused(errors));
        }
        let key = key.map_or_else(|| format!("pledge:{}", pledge.code), str::to_string);
        let digest = crate::digest::pledge(pledge);
        let pledge = pledge.clone();
        self.run(
            &key,
            "pledge.record",
            &digest,
            at.unix_ms,
            |conn| {
                let used = conn.query(
                    "SELECT COUNT(*) FROM pledges WHERE code = $1",
                    &[(&pledge.code).into()],
                )?[0][0]
                    .int()?;
                if used > 0 {
                    return Err(OpsError::refused(
                        Code::DuplicateCode,
                        "code",
                        &pledge.code,
                        format!("pledge `{}` already exists with other details; give this pledge another code", pledge.code),
                    ));
                }
                let source = account(Account::source(&pledge.donor))?;
                let pledged =
                    account(Account::pledged(&pledge.donor))?;
                let mut batch = Batch::default();
                for (index, line) in pledge.lines.iter().enumerate() {
                    batch.new_lots.push(LotSpec {
                        item: line.item.clone(),
                        donor: pledge.donor.clone(),
                        batch: format!("PLEDGE {}/{}", pledge.code, index + 1),
                        expiry: None,
                        earmark: line.earmark.clone(),
                    });
                    batch.transfers.push(TransferSpec {
                        lot: LotRef::New(index),
                        from: source.clone(),
                        to: pledged.clone(),
                        quantity: line.quantity,
                        corrects: None,
                    });
                }
                Ok((batch, ()))
            },
            |conn, applied, ()| {
                conn.execute(
                    "INSERT INTO pledges (code, donor, pledged_on, note, batch_id) VALUES ($1, $2, $3, $4, $5)",
                    &[
                        (&pledge.code).into(),
                        (&pledge.donor).into(),
                        date_text(pledge.pledged_on).into(),
                        (&pledge.note).into(),
                        applied.batch_id.into(),
                    ],
                )?;
                let rows: Vec<Vec<Value>> = pledge
                    .lines
                    .iter()
                    .enumerate()
                    .map(|(index, line)| {
                        vec![
                            (&pledge.code).into(),
                            (index as i64 + 1).into(),
                            (&line.item).into(),
                            line.quantity.into(),
                            line.earmark.join(",").into(),
                            applied.lot_ids[index].into(),
                            (applied.first_seq + index as i64).into(),
                        ]
                    })
                    .collect();
                insert_rows(
                    conn,
                    "pledge_lines",
                    &["pledge_code", "line_no", "item", "quantity", "earmark", "lot_id", "seq"],
                    &rows,
                )?;
                Ok(pledge.code.clone())
            },
        )
    }

    /// Cancels what is still outstanding of a pledge, with correcting
    /// entries. Default key: `pledge-cancel:<code>`.
    pub fn cancel_pledge(
        &mut self,
        code: &str,
        reason: &str,
        key: Option<&str>,
        at: Moment,
    ) -> Result<Done, OpsError> {
        let mut problems = Vec::new();
        crate::rules::check_required("reason", reason, &mut problems);
        check_date("on", at.date, at, &mut problems);
        crate::rules::refuse_if(problems)?;
        let key = key.map_or_else(|| format!("pledge-cancel:{code}"), str::to_string);
        let digest = crate::digest::pledge_cancel(code, reason);
        let code = code.to_string();
        self.run(
            &key,
            "pledge.cancel",
            &digest,
            at.unix_ms,
            |conn| {
                let rows = conn.query(
                    "SELECT p.donor, l.lot_id, l.seq, COALESCE(b.quantity, 0) FROM pledges p \
                     JOIN pledge_lines l ON l.pledge_code = p.code \
                     LEFT JOIN balances b ON b.lot_id = l.lot_id AND b.account = 'pledged:' || p.donor \
                     WHERE p.code = $1 ORDER BY l.line_no",
                    &[(&code).into()],
                )?;
                if rows.is_empty() {
                    return Err(OpsError::NotFound { what: "pledge", code: code.clone() });
                }
                let mut batch = Batch::default();
                let mut corrections = Vec::new();
                for row in &rows {
                    let donor = row[0].text()?;
                    let outstanding = row[3].int()?;
                    if outstanding <= 0 {
                        continue;
                    }
                    let seq = row[2].int()?;
                    batch.transfers.push(TransferSpec {
                        lot: LotRef::Existing(row[1].int()?),
                        from: account(Account::pledged(&donor))?,
                        to: account(Account::source(&donor))?,
                        quantity: outstanding,
                        corrects: Some(seq),
                    });
                    corrections.push((seq, outstanding));
                }
                if batch.transfers.is_empty() {
                    return Err(OpsError::refused(
                        Code::AlreadyDone,
                        "code",
                        &code,
                        format!("pledge `{code}` has nothing outstanding to cancel: it was cancelled or received in full"),
                    ));
                }
                Ok((batch, corrections))
            },
            |conn, applied, corrections| {
                conn.execute(
                    "UPDATE pledges SET cancelled_on = $1 WHERE code = $2",
                    &[date_text(at.date).into(), (&code).into()],
                )?;
                for (seq, quantity) in corrections {
                    conn.execute(
                        "INSERT INTO corrections (batch_id, corrects_seq, quantity, reason, recorded_on) VALUES ($1, $2, $3, $4, $5)",
                        &[applied.batch_id.into(), seq.into(), quantity.into(), format!("pledge cancelled: {reason}").into(), date_text(at.date).into()],
                    )?;
                }
                Ok(code.clone())
            },
        )
    }
}

/// Moves received quantities off the donor's outstanding pledges of an item
/// (oldest pledge first): the transfers pledged(donor) -> source(donor).
pub(crate) fn fulfil_pledges(
    conn: &mut dyn reliefhub_store::Conn,
    donor: &str,
    item: &str,
    mut quantity: i64,
    transfers: &mut Vec<TransferSpec>,
) -> Result<(), OpsError> {
    if quantity <= 0 {
        return Ok(());
    }
    let rows = conn.query(
        "SELECT l.lot_id, b.quantity FROM pledge_lines l JOIN pledges p ON p.code = l.pledge_code \
         JOIN balances b ON b.lot_id = l.lot_id AND b.account = $1 \
         WHERE p.donor = $2 AND l.item = $3 AND b.quantity > 0 ORDER BY p.pledged_on, p.code, l.line_no",
        &[format!("pledged:{donor}").into(), donor.into(), item.into()],
    )?;
    let pledged = account(Account::pledged(donor))?;
    let source = account(Account::source(donor))?;
    for row in rows {
        if quantity == 0 {
            break;
        }
        let lot = row[0].int()?;
        // Earlier lines of this operation may already draw on this lot.
        let drawn: i64 = transfers
            .iter()
            .filter(|t| t.lot == LotRef::Existing(lot) && t.from == pledged)
            .map(|t| t.quantity)
            .sum();
        let take = (row[1].int()? - drawn).min(quantity);
        if take > 0 {
            transfers.push(TransferSpec {
                lot: LotRef::Existing(lot),
                from: pledged.clone(),
                to: source.clone(),
                quantity: take,
                corrects: None,
            });
            quantity -= take;
        }
    }
    Ok(())
}
