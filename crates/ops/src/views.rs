//! Read-only views for the HTTP API and the dashboard: pledge and transfer
//! lists, manifest and loading lines with their lots' donors, the flows of
//! goods (donors -> hub -> destinations), a donor's consignments' journey,
//! the reference lists and a fingerprint of the data for response caches.
//!
//! Nothing here writes; every function reads one snapshot.

use std::collections::{BTreeMap, BTreeSet};

use reliefhub_store::{Conn, StoreError, Value};
use time::Date;

use crate::{date, opt_date, Ops, OpsError};

/// Manifest lines and units per (leg, donor).
pub type LegTotals = BTreeMap<(String, String), (i64, i64)>;

/// A pledge with its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct PledgeView {
    pub code: String,
    pub donor: String,
    pub pledged_on: Date,
    pub note: String,
    pub cancelled_on: Option<Date>,
    pub lines: Vec<PledgeLineView>,
}

impl PledgeView {
    /// Open, fulfilled (nothing outstanding) or cancelled.
    pub fn status(&self) -> crate::PledgeStatus {
        let outstanding: i64 = self.lines.iter().map(|l| l.outstanding).sum();
        crate::PledgeStatus::of(self.cancelled_on.is_some(), outstanding)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PledgeLineView {
    pub line_no: i64,
    pub item: String,
    pub quantity: i64,
    pub earmark: Vec<String>,
    /// The placeholder lot that holds the promise.
    pub lot_id: i64,
    /// What is still promised (balance of `pledged:DONOR` on the lot).
    pub outstanding: i64,
}

/// One line of a leg's manifest, with its lot and what was counted.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestLineView {
    pub line_no: i64,
    pub lot_id: i64,
    pub item: String,
    pub donor: String,
    pub batch: String,
    pub expiry: Option<Date>,
    pub earmark: Vec<String>,
    pub quantity: i64,
    pub packs: Option<i64>,
    /// Counted at receipt, when received.
    pub counted: Option<i64>,
}

/// A transfer between the hub's nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferView {
    pub code: String,
    pub from_node: String,
    pub to_node: String,
    pub vehicle: String,
    pub dispatched_on: Date,
    pub arrived_on: Option<Date>,
    /// (lot id, quantity)
    pub lines: Vec<(i64, i64)>,
}

impl TransferView {
    /// On the road, or arrived.
    pub fn status(&self) -> crate::TransferStatus {
        crate::TransferStatus::of(self.arrived_on.is_some())
    }
}

/// A loading line of a departure with its lot's item and donor.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadingLineView {
    pub departure: String,
    pub line_no: i64,
    pub lot_id: i64,
    pub item: String,
    pub donor: String,
    pub quantity: i64,
    pub request: Option<String>,
    pub unloaded: bool,
    /// The item's kg and m³ per unit when the line was loaded (the line's
    /// own figures; lines loaded before they were kept read the item's).
    pub unit_weight_kg: f64,
    pub unit_volume_m3: f64,
}

/// Where goods stand on their way from a donor through the hub to a
/// destination; a [`Flow`] is one donor's goods at one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlowStage {
    /// Promised and not yet received (the pledge's outstanding balance); no node.
    Pledged,
    /// Manifested on an inbound leg to a node, not yet received.
    InTransit,
    /// Counted in at a node's receipt.
    Received,
    /// At a node now, available or in quarantine.
    AtHub,
    /// On the road between the nodes; `node` is where it is going.
    BetweenNodes,
    /// On a departure from a node that has not left.
    Loaded,
    /// On a departure that has left and is not yet delivered.
    Departed,
    /// Received at the destination (the proof of delivery's count).
    Delivered,
}

impl FlowStage {
    pub const ALL: [FlowStage; 8] = [
        FlowStage::Pledged,
        FlowStage::InTransit,
        FlowStage::Received,
        FlowStage::AtHub,
        FlowStage::BetweenNodes,
        FlowStage::Loaded,
        FlowStage::Departed,
        FlowStage::Delivered,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FlowStage::Pledged => "pledged",
            FlowStage::InTransit => "in_transit",
            FlowStage::Received => "received",
            FlowStage::AtHub => "at_hub",
            FlowStage::BetweenNodes => "between_nodes",
            FlowStage::Loaded => "loaded",
            FlowStage::Departed => "departed",
            FlowStage::Delivered => "delivered",
        }
    }

    /// Donor -> hub stages (no destination).
    pub fn is_inbound(self) -> bool {
        matches!(self, FlowStage::InTransit | FlowStage::Received)
    }

    /// Hub -> destination stages.
    pub fn is_outbound(self) -> bool {
        matches!(
            self,
            FlowStage::Loaded | FlowStage::Departed | FlowStage::Delivered
        )
    }
}

/// One donor's goods at one stage: at or through one node (empty for a
/// pledge), to one destination (empty before the goods are on a departure).
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub stage: FlowStage,
    pub donor: String,
    pub donor_country: String,
    pub node: String,
    pub destination: String,
    pub country: String,
    pub units: i64,
    pub weight_kg: f64,
}

/// Where one of a donor's lots went.
#[derive(Debug, Clone, PartialEq)]
pub struct JourneyLot {
    pub lot_id: i64,
    pub item: String,
    pub batch: String,
    pub expiry: Option<Date>,
    pub leg: String,
    pub mode: String,
    pub expected_arrival: Date,
    pub manifested: i64,
    pub received_on: Option<Date>,
    pub counted: Option<i64>,
    /// Available or quarantined at the nodes now.
    pub in_stock: i64,
    pub shipments: Vec<JourneyShipment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JourneyShipment {
    pub departure: String,
    pub destination: String,
    pub departs_on: Date,
    pub status: crate::DepartureStatus,
    pub loaded: i64,
    pub delivered: Option<i64>,
}

/// A donor's pledges and their consignments' journey, lot by lot.
#[derive(Debug, Clone, PartialEq)]
pub struct Journey {
    pub donor: String,
    pub name: String,
    pub pledges: Vec<PledgeView>,
    pub lots: Vec<JourneyLot>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeView {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub locode: String,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DestinationView {
    pub locode: String,
    pub name: String,
    pub country: String,
    pub iata: Option<String>,
    pub icao: Option<String>,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrganisationView {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub country: String,
}

fn earmark(value: &Value) -> Result<Vec<String>, StoreError> {
    let text = value.text()?;
    Ok(if text.is_empty() {
        Vec::new()
    } else {
        text.split(',').map(str::to_string).collect()
    })
}

fn pledges_in(conn: &mut dyn Conn, donor: Option<&str>) -> Result<Vec<PledgeView>, StoreError> {
    let (filter, params): (&str, Vec<Value>) = match donor {
        Some(d) => ("WHERE p.donor = $1", vec![d.into()]),
        None => ("", vec![]),
    };
    let heads = conn.query(
        &format!(
            "SELECT p.code, p.donor, p.pledged_on, p.note, p.cancelled_on FROM pledges p {filter} \
             ORDER BY p.pledged_on, p.code"
        ),
        &params,
    )?;
    let lines = conn.query(
        &format!(
            "SELECT l.pledge_code, l.line_no, l.item, l.quantity, l.earmark, l.lot_id, \
             COALESCE((SELECT b.quantity FROM balances b WHERE b.account = 'pledged:' || p.donor AND b.lot_id = l.lot_id), 0) \
             FROM pledge_lines l JOIN pledges p ON p.code = l.pledge_code {filter} ORDER BY l.pledge_code, l.line_no"
        ),
        &params,
    )?;
    let mut by_code: BTreeMap<String, Vec<PledgeLineView>> = BTreeMap::new();
    for row in lines {
        by_code
            .entry(row[0].text()?)
            .or_default()
            .push(PledgeLineView {
                line_no: row[1].int()?,
                item: row[2].text()?,
                quantity: row[3].int()?,
                earmark: earmark(&row[4])?,
                lot_id: row[5].int()?,
                outstanding: row[6].int()?,
            });
    }
    heads
        .iter()
        .map(|row| {
            let code = row[0].text()?;
            Ok(PledgeView {
                lines: by_code.remove(&code).unwrap_or_default(),
                code,
                donor: row[1].text()?,
                pledged_on: date(&row[2])?,
                note: row[3].text()?,
                cancelled_on: opt_date(&row[4])?,
            })
        })
        .collect()
}

impl Ops {
    /// Every pledge (or one donor's), with lines and what is outstanding.
    pub fn pledges(&mut self, donor: Option<&str>) -> Result<Vec<PledgeView>, OpsError> {
        Ok(self.store().read(|conn| pledges_in(conn, donor))?)
    }

    /// One pledge.
    pub fn pledge_view(&mut self, code: &str) -> Result<PledgeView, OpsError> {
        let all = self.store().read(|conn| {
            let rows = conn.query("SELECT donor FROM pledges WHERE code = $1", &[code.into()])?;
            match rows.first() {
                None => Ok(Vec::new()),
                Some(row) => pledges_in(conn, Some(&row[0].text()?)),
            }
        })?;
        all.into_iter()
            .find(|p| p.code == code)
            .ok_or_else(|| OpsError::NotFound {
                what: "pledge",
                code: code.to_string(),
            })
    }

    /// A leg's manifest lines with their lots and what was counted.
    pub fn manifest_lines(&mut self, leg: &str) -> Result<Vec<ManifestLineView>, OpsError> {
        let rows = self.store().read(|conn| {
            conn.query(
                "SELECT m.line_no, m.lot_id, l.item, l.donor, l.batch, l.expiry, l.earmark, m.quantity, m.packs, r.counted \
                 FROM manifest_lines m JOIN lots l ON l.id = m.lot_id \
                 LEFT JOIN receipt_lines r ON r.leg_code = m.leg_code AND r.line_no = m.line_no \
                 WHERE m.leg_code = $1 ORDER BY m.line_no",
                &[leg.into()],
            )
        })?;
        rows.iter()
            .map(|row| {
                Ok(ManifestLineView {
                    line_no: row[0].int()?,
                    lot_id: row[1].int()?,
                    item: row[2].text()?,
                    donor: row[3].text()?,
                    batch: row[4].text()?,
                    expiry: opt_date(&row[5])?,
                    earmark: earmark(&row[6])?,
                    quantity: row[7].int()?,
                    packs: row[8].opt_int()?,
                    counted: row[9].opt_int()?,
                })
            })
            .collect::<Result<_, StoreError>>()
            .map_err(OpsError::from)
    }

    /// The donors of each leg: the leg's own donor and the donors of its
    /// manifest's lots.
    pub fn leg_donors(&mut self) -> Result<BTreeMap<String, BTreeSet<String>>, OpsError> {
        let rows = self.store().read(|conn| {
            conn.query(
                "SELECT code, donor FROM inbound_legs WHERE donor IS NOT NULL \
                 UNION SELECT DISTINCT m.leg_code, l.donor FROM manifest_lines m JOIN lots l ON l.id = m.lot_id",
                &[],
            )
        })?;
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for row in rows {
            out.entry(row[0].text()?)
                .or_default()
                .insert(row[1].text()?);
        }
        Ok(out)
    }

    /// Manifest lines and units of each (leg, donor).
    pub fn leg_totals_by_donor(&mut self) -> Result<LegTotals, OpsError> {
        let rows = self.store().read(|conn| {
            conn.query(
                "SELECT m.leg_code, l.donor, COUNT(*), CAST(SUM(m.quantity) AS BIGINT) \
                 FROM manifest_lines m JOIN lots l ON l.id = m.lot_id GROUP BY m.leg_code, l.donor",
                &[],
            )
        })?;
        let mut out = BTreeMap::new();
        for row in rows {
            out.insert(
                (row[0].text()?, row[1].text()?),
                (row[2].int()?, row[3].int()?),
            );
        }
        Ok(out)
    }

    /// Every transfer between the nodes, newest last.
    pub fn transfers(&mut self) -> Result<Vec<TransferView>, OpsError> {
        let (heads, lines) = self.store().read(|conn| {
            Ok((
                conn.query(
                    "SELECT code, from_node, to_node, vehicle, dispatched_on, arrived_on FROM hub_transfers \
                     ORDER BY dispatched_on, code",
                    &[],
                )?,
                conn.query(
                    "SELECT transfer_code, lot_id, quantity FROM hub_transfer_lines ORDER BY transfer_code, lot_id",
                    &[],
                )?,
            ))
        })?;
        let mut by_code: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
        for row in lines {
            by_code
                .entry(row[0].text()?)
                .or_default()
                .push((row[1].int()?, row[2].int()?));
        }
        heads
            .iter()
            .map(|row| {
                let code = row[0].text()?;
                Ok(TransferView {
                    lines: by_code.remove(&code).unwrap_or_default(),
                    code,
                    from_node: row[1].text()?,
                    to_node: row[2].text()?,
                    vehicle: row[3].text()?,
                    dispatched_on: date(&row[4])?,
                    arrived_on: opt_date(&row[5])?,
                })
            })
            .collect::<Result<_, StoreError>>()
            .map_err(OpsError::from)
    }

    /// Loading lines (of one departure, or all), with lot item and donor.
    pub fn loading_lines(
        &mut self,
        departure: Option<&str>,
    ) -> Result<Vec<LoadingLineView>, OpsError> {
        let (filter, params): (&str, Vec<Value>) = match departure {
            Some(d) => ("WHERE x.departure_code = $1", vec![d.into()]),
            None => ("", vec![]),
        };
        let rows = self.store().read(|conn| {
            conn.query(
                &format!(
                    "SELECT x.departure_code, x.line_no, x.lot_id, l.item, l.donor, x.quantity, x.request_code, x.unloaded_batch, \
                     COALESCE(x.unit_weight_kg, i.unit_weight_kg), COALESCE(x.unit_volume_m3, i.unit_volume_m3) \
                     FROM loading_lines x JOIN lots l ON l.id = x.lot_id JOIN items i ON i.code = l.item \
                     {filter} ORDER BY x.departure_code, x.line_no"
                ),
                &params,
            )
        })?;
        rows.iter()
            .map(|row| {
                Ok(LoadingLineView {
                    departure: row[0].text()?,
                    line_no: row[1].int()?,
                    lot_id: row[2].int()?,
                    item: row[3].text()?,
                    donor: row[4].text()?,
                    quantity: row[5].int()?,
                    request: row[6].opt_text()?,
                    unloaded: row[7].opt_int()?.is_some(),
                    unit_weight_kg: row[8].real()?,
                    unit_volume_m3: row[9].real()?,
                })
            })
            .collect::<Result<_, StoreError>>()
            .map_err(OpsError::from)
    }

    /// The donor of each lot named.
    pub fn lot_donors(&mut self, ids: &[i64]) -> Result<BTreeMap<i64, String>, OpsError> {
        let ids = ids.to_vec();
        Ok(self.store().read(|conn| {
            let specs = crate::lot_specs(conn, &ids)?;
            Ok(specs.into_iter().map(|(id, s)| (id, s.donor)).collect())
        })?)
    }

    /// Every donor's goods by stage, in units and kg: pledged and not yet
    /// received, inbound on a leg, received at a node, still at a node or
    /// between the nodes, loaded, departed and delivered (at the kg per unit
    /// each loading line kept). Each query groups by donor, node and
    /// destination; the rows come in stage order.
    pub fn flows(&mut self) -> Result<Vec<Flow>, OpsError> {
        // Each query selects: donor, node, destination, units, kg.
        let queries: [(FlowStage, &str); 8] = [
            (
                FlowStage::Pledged,
                "SELECT p.donor, '', '', CAST(SUM(b.quantity) AS BIGINT), SUM(b.quantity * i.unit_weight_kg) \
                 FROM pledge_lines pl JOIN pledges p ON p.code = pl.pledge_code \
                 JOIN balances b ON b.lot_id = pl.lot_id AND b.account = 'pledged:' || p.donor \
                 JOIN items i ON i.code = pl.item WHERE b.quantity > 0 GROUP BY p.donor",
            ),
            (
                FlowStage::InTransit,
                "SELECT l.donor, g.node, '', CAST(SUM(m.quantity) AS BIGINT), SUM(m.quantity * i.unit_weight_kg) \
                 FROM manifest_lines m JOIN inbound_legs g ON g.code = m.leg_code \
                 JOIN lots l ON l.id = m.lot_id JOIN items i ON i.code = l.item \
                 WHERE NOT EXISTS (SELECT 1 FROM receipt_lines r WHERE r.leg_code = m.leg_code AND r.line_no = m.line_no) \
                 GROUP BY l.donor, g.node",
            ),
            (
                FlowStage::Received,
                "SELECT l.donor, g.node, '', CAST(SUM(r.counted) AS BIGINT), SUM(r.counted * i.unit_weight_kg) \
                 FROM receipt_lines r JOIN inbound_legs g ON g.code = r.leg_code \
                 JOIN lots l ON l.id = r.lot_id JOIN items i ON i.code = l.item \
                 GROUP BY l.donor, g.node",
            ),
            (
                FlowStage::AtHub,
                "SELECT l.donor, n.code, '', CAST(SUM(b.quantity) AS BIGINT), SUM(b.quantity * i.unit_weight_kg) \
                 FROM nodes n JOIN balances b ON b.account IN ('at:' || n.code, 'quarantine:' || n.code) \
                 JOIN lots l ON l.id = b.lot_id JOIN items i ON i.code = l.item \
                 WHERE b.quantity > 0 GROUP BY l.donor, n.code",
            ),
            (
                FlowStage::BetweenNodes,
                "SELECT l.donor, h.to_node, '', CAST(SUM(b.quantity) AS BIGINT), SUM(b.quantity * i.unit_weight_kg) \
                 FROM hub_transfers h JOIN balances b ON b.account = 'transfer:' || h.code \
                 JOIN lots l ON l.id = b.lot_id JOIN items i ON i.code = l.item \
                 WHERE b.quantity > 0 GROUP BY l.donor, h.to_node",
            ),
            (
                FlowStage::Loaded,
                "SELECT l.donor, d.node, d.destination, CAST(SUM(x.quantity) AS BIGINT), SUM(x.quantity * COALESCE(x.unit_weight_kg, i.unit_weight_kg)) \
                 FROM loading_lines x JOIN departures d ON d.code = x.departure_code \
                 JOIN lots l ON l.id = x.lot_id JOIN items i ON i.code = l.item \
                 WHERE x.unloaded_batch IS NULL AND d.status IN ('open', 'loaded') \
                 GROUP BY l.donor, d.node, d.destination",
            ),
            (
                FlowStage::Departed,
                "SELECT l.donor, d.node, d.destination, CAST(SUM(x.quantity) AS BIGINT), SUM(x.quantity * COALESCE(x.unit_weight_kg, i.unit_weight_kg)) \
                 FROM loading_lines x JOIN departures d ON d.code = x.departure_code \
                 JOIN lots l ON l.id = x.lot_id JOIN items i ON i.code = l.item \
                 WHERE x.unloaded_batch IS NULL AND d.status = 'departed' \
                 GROUP BY l.donor, d.node, d.destination",
            ),
            (
                FlowStage::Delivered,
                "SELECT l.donor, d.node, d.destination, CAST(SUM(v.received) AS BIGINT), SUM(v.received * COALESCE(x.unit_weight_kg, i.unit_weight_kg)) \
                 FROM delivery_lines v JOIN departures d ON d.code = v.departure_code \
                 LEFT JOIN loading_lines x ON x.departure_code = v.departure_code AND x.line_no = v.line_no \
                 JOIN lots l ON l.id = v.lot_id JOIN items i ON i.code = l.item \
                 WHERE v.received > 0 GROUP BY l.donor, d.node, d.destination",
            ),
        ];
        let (results, donor_countries, dest_countries) = self.store().read(|conn| {
            let mut results = Vec::with_capacity(queries.len());
            for (stage, sql) in queries {
                results.push((stage, conn.query(sql, &[])?));
            }
            let donors =
                conn.query("SELECT code, COALESCE(country, '') FROM organisations", &[])?;
            let dests = conn.query(
                "SELECT locode, COALESCE(country, '') FROM destinations",
                &[],
            )?;
            Ok((results, donors, dests))
        })?;
        let lookup = |rows: Vec<Vec<Value>>| -> Result<BTreeMap<String, String>, StoreError> {
            rows.iter()
                .map(|r| Ok((r[0].text()?, r[1].text()?)))
                .collect()
        };
        let donor_countries = lookup(donor_countries)?;
        let dest_countries = lookup(dest_countries)?;
        let mut flows = Vec::new();
        for (stage, rows) in results {
            let mut stage_rows = rows
                .iter()
                .map(|row| {
                    let donor = row[0].text()?;
                    let destination = row[2].text()?;
                    Ok(Flow {
                        stage,
                        donor_country: donor_countries.get(&donor).cloned().unwrap_or_default(),
                        country: dest_countries
                            .get(&destination)
                            .cloned()
                            .unwrap_or_default(),
                        donor,
                        node: row[1].text()?,
                        destination,
                        units: row[3].int()?,
                        weight_kg: (row[4].real()? * 10.0).round() / 10.0,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            stage_rows.sort_by(|a, b| {
                (&a.donor, &a.node, &a.destination).cmp(&(&b.donor, &b.node, &b.destination))
            });
            flows.extend(stage_rows.into_iter().filter(|f| f.units != 0));
        }
        Ok(flows)
    }

    /// A donor's pledges and, per lot that arrived on a leg, where it went.
    pub fn donor_journey(&mut self, donor: &str) -> Result<Journey, OpsError> {
        let found = self.store().read(|conn| {
            let org = conn.query(
                "SELECT name FROM organisations WHERE code = $1 AND kind = 'donor'",
                &[donor.into()],
            )?;
            let Some(org) = org.first() else {
                return Ok(None);
            };
            let name = org[0].text()?;
            let pledges = pledges_in(conn, Some(donor))?;
            let lots = conn.query(
                "SELECT m.lot_id, l.item, l.batch, l.expiry, m.leg_code, g.mode, g.expected_arrival, m.quantity, \
                 (SELECT c.received_on FROM receipt_lines r JOIN receipts c ON c.id = r.receipt_id \
                  WHERE r.leg_code = m.leg_code AND r.line_no = m.line_no), \
                 (SELECT r.counted FROM receipt_lines r WHERE r.leg_code = m.leg_code AND r.line_no = m.line_no), \
                 (SELECT CAST(COALESCE(SUM(b.quantity), 0) AS BIGINT) FROM balances b WHERE b.lot_id = m.lot_id \
                  AND b.account IN (SELECT 'at:' || n.code FROM nodes n UNION ALL SELECT 'quarantine:' || n.code FROM nodes n)) \
                 FROM manifest_lines m JOIN lots l ON l.id = m.lot_id JOIN inbound_legs g ON g.code = m.leg_code \
                 WHERE l.donor = $1 ORDER BY g.expected_arrival, m.leg_code, m.line_no",
                &[donor.into()],
            )?;
            let shipments = conn.query(
                "SELECT x.lot_id, x.departure_code, d.destination, d.departs_on, d.status, CAST(SUM(x.quantity) AS BIGINT), \
                 (SELECT CAST(SUM(v.received) AS BIGINT) FROM delivery_lines v WHERE v.departure_code = x.departure_code AND v.lot_id = x.lot_id) \
                 FROM loading_lines x JOIN lots l ON l.id = x.lot_id JOIN departures d ON d.code = x.departure_code \
                 WHERE l.donor = $1 AND x.unloaded_batch IS NULL \
                 GROUP BY x.lot_id, x.departure_code, d.destination, d.departs_on, d.status \
                 ORDER BY d.departs_on, x.departure_code",
                &[donor.into()],
            )?;
            Ok(Some((name, pledges, lots, shipments)))
        })?;
        let Some((name, pledges, lots, shipments)) = found else {
            return Err(OpsError::NotFound {
                what: "donor",
                code: donor.to_string(),
            });
        };
        let mut by_lot: BTreeMap<i64, Vec<JourneyShipment>> = BTreeMap::new();
        for row in shipments {
            by_lot
                .entry(row[0].int()?)
                .or_default()
                .push(JourneyShipment {
                    departure: row[1].text()?,
                    destination: row[2].text()?,
                    departs_on: date(&row[3])?,
                    status: crate::departure::stored_status(&row[1].text()?, &row[4].text()?)?,
                    loaded: row[5].int()?,
                    delivered: row[6].opt_int()?,
                });
        }
        let lots = lots
            .iter()
            .map(|row| {
                let lot_id = row[0].int()?;
                Ok(JourneyLot {
                    lot_id,
                    item: row[1].text()?,
                    batch: row[2].text()?,
                    expiry: opt_date(&row[3])?,
                    leg: row[4].text()?,
                    mode: row[5].text()?,
                    expected_arrival: date(&row[6])?,
                    manifested: row[7].int()?,
                    received_on: opt_date(&row[8])?,
                    counted: row[9].opt_int()?,
                    in_stock: row[10].int()?,
                    shipments: by_lot.remove(&lot_id).unwrap_or_default(),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Journey {
            donor: donor.to_string(),
            name,
            pledges,
            lots,
        })
    }

    pub fn nodes(&mut self) -> Result<Vec<NodeView>, OpsError> {
        let rows = self.store().read(|conn| {
            conn.query(
                "SELECT code, name, kind, locode, latitude_deg, longitude_deg FROM nodes ORDER BY code",
                &[],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(NodeView {
                    code: r[0].text()?,
                    name: r[1].text()?,
                    kind: r[2].text()?,
                    locode: r[3].text()?,
                    lat: r[4].real()?,
                    lon: r[5].real()?,
                })
            })
            .collect::<Result<_, StoreError>>()
            .map_err(OpsError::from)
    }

    pub fn destinations(&mut self) -> Result<Vec<DestinationView>, OpsError> {
        let rows = self.store().read(|conn| {
            conn.query(
                "SELECT locode, name, country, iata, icao, latitude_deg, longitude_deg FROM destinations ORDER BY locode",
                &[],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(DestinationView {
                    locode: r[0].text()?,
                    name: r[1].text()?,
                    country: r[2].text()?,
                    iata: r[3].opt_text()?,
                    icao: r[4].opt_text()?,
                    lat: r[5].real()?,
                    lon: r[6].real()?,
                })
            })
            .collect::<Result<_, StoreError>>()
            .map_err(OpsError::from)
    }

    pub fn organisations(&mut self) -> Result<Vec<OrganisationView>, OpsError> {
        let rows = self.store().read(|conn| {
            conn.query(
                "SELECT code, name, kind, country FROM organisations ORDER BY code",
                &[],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(OrganisationView {
                    code: r[0].text()?,
                    name: r[1].text()?,
                    kind: r[2].text()?,
                    country: r[3].text()?,
                })
            })
            .collect::<Result<_, StoreError>>()
            .map_err(OpsError::from)
    }

    /// The country of a destination (UN/LOCODE), if known.
    pub fn destination_country(&mut self, locode: &str) -> Result<Option<String>, OpsError> {
        let rows = self.store().read(|conn| {
            conn.query(
                "SELECT country FROM destinations WHERE locode = $1",
                &[locode.into()],
            )
        })?;
        Ok(match rows.first() {
            Some(r) => Some(r[0].text()?),
            None => None,
        })
    }

    /// A cheap fingerprint of everything the views read: the journal head
    /// and the size and state of the document tables. It changes whenever
    /// any operation (through any process) changes what a view would show.
    pub fn data_fingerprint(&mut self) -> Result<String, OpsError> {
        let rows = self.store().read(|conn| {
            conn.query(
                "SELECT (SELECT COALESCE(MAX(seq), 0) FROM journal), \
                 (SELECT COUNT(*) FROM inbound_legs), (SELECT COUNT(*) FROM requests), \
                 (SELECT COUNT(*) FROM requests WHERE cancelled_on IS NOT NULL), \
                 (SELECT COUNT(*) FROM departures), \
                 (SELECT COALESCE(SUM(CASE status WHEN 'open' THEN 1 WHEN 'loaded' THEN 2 WHEN 'departed' THEN 3 ELSE 4 END), 0) FROM departures), \
                 (SELECT COUNT(*) FROM organisations), (SELECT COUNT(*) FROM items), \
                 (SELECT COUNT(*) FROM destinations), (SELECT COUNT(*) FROM operations)",
                &[],
            )
        })?;
        let parts: Vec<String> = rows
            .first()
            .map(|r| r.iter().map(|v| format!("{v:?}")).collect())
            .unwrap_or_default();
        Ok(parts.join("/"))
    }
}
