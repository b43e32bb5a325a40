//! Reports: stock position, inbound pipeline, request fulfilment per
//! destination, and the donor statement. Every figure comes from ledger
//! balances or from the documents written with the ledger batches.

use std::collections::BTreeMap;

use reliefhub_core::{Account, AccountKind};
use reliefhub_store::{Conn, StoreError};

use crate::table::{column, Cell, Table};
use crate::{date_text, Ops, OpsError, StockState};

/// Per node and item: units by state, the lots (each counted once), kg,
/// m³ and the first expiry.
#[derive(Default)]
struct Totals {
    available: i64,
    quarantined: i64,
    in_transit: i64,
    loaded: i64,
    lots: std::collections::BTreeSet<i64>,
    weight_kg: f64,
    volume_m3: f64,
    first_expiry: Option<time::Date>,
}

/// One item line of a donor statement. All quantities in catalogue units.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DonorItem {
    pub item: String,
    /// Promised in pledges.
    pub pledged: i64,
    /// Pledged quantities cancelled before receipt.
    pub pledge_cancelled: i64,
    /// Pledged, neither received nor cancelled yet.
    pub pledge_outstanding: i64,
    /// Declared on the manifests of inbound legs.
    pub manifested: i64,
    /// Still on inbound legs (manifested, not yet received).
    pub in_transit_inbound: i64,
    /// Counted at receipt (good, damaged and over-landed).
    pub received: i64,
    /// Available at the hub's nodes.
    pub in_stock: i64,
    pub quarantined: i64,
    /// On trucks between the hub's nodes.
    pub between_nodes: i64,
    /// Loaded on departures: on board now, delivered, or short-delivered.
    pub shipped: i64,
    /// On board departures not yet delivered.
    pub on_departures: i64,
    /// Confirmed delivered by recipients.
    pub delivered: i64,
    /// Losses by reason (short-landed, damaged, expired, stolen,
    /// count-adjustment, short-delivered).
    pub lost: BTreeMap<String, i64>,
}

impl DonorItem {
    pub fn lost_total(&self) -> i64 {
        self.lost.values().sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DonorDestination {
    pub destination: String,
    pub name: String,
    pub item: String,
    pub shipped: i64,
    pub delivered: i64,
    pub short_delivered: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DonorStatement {
    pub donor: String,
    pub name: String,
    pub items: Vec<DonorItem>,
    pub destinations: Vec<DonorDestination>,
    pub totals: DonorItem,
}

fn sum_by(
    conn: &mut dyn Conn,
    sql: &str,
    donor: &str,
) -> Result<Vec<(String, String, i64)>, StoreError> {
    conn.query(sql, &[donor.into()])?
        .iter()
        .map(|r| Ok((r[0].text()?, r[1].text()?, r[2].int()?)))
        .collect()
}

impl Ops {
    /// The statement of one donor: pledged, received, in stock, shipped,
    /// delivered and lost, by item and by destination.
    pub fn donor_statement(&mut self, donor: &str) -> Result<DonorStatement, OpsError> {
        let d = donor.to_string();
        let statement = self.store.read(|conn| {
            let names = conn.query("SELECT name FROM organisations WHERE code = $1 AND kind = 'donor'", &[(&d).into()])?;
            let Some(name) = names.first() else {
                return Ok(None);
            };
            let name = name[0].text()?;
            let pledged = sum_by(
                conn,
                "SELECT 'pledged', l.item, CAST(SUM(l.quantity) AS BIGINT) FROM pledge_lines l JOIN pledges p ON p.code = l.pledge_code \
                 WHERE p.donor = $1 GROUP BY l.item",
                &d,
            )?;
            let cancelled = sum_by(
                conn,
                "SELECT 'cancelled', l.item, CAST(SUM(j.quantity) AS BIGINT) FROM journal j JOIN pledge_lines l ON l.lot_id = j.lot_id \
                 JOIN pledges p ON p.code = l.pledge_code WHERE p.donor = $1 AND j.corrects IS NOT NULL GROUP BY l.item",
                &d,
            )?;
            let manifested = sum_by(
                conn,
                "SELECT 'manifested', l.item, CAST(SUM(m.quantity) AS BIGINT) FROM manifest_lines m JOIN lots l ON l.id = m.lot_id \
                 WHERE l.donor = $1 GROUP BY l.item",
                &d,
            )?;
            let received = sum_by(
                conn,
                "SELECT 'received', l.item, CAST(SUM(r.counted) AS BIGINT) FROM receipt_lines r JOIN lots l ON l.id = r.lot_id \
                 WHERE l.donor = $1 GROUP BY l.item",
                &d,
            )?;
            let balances = sum_by(
                conn,
                "SELECT b.account, l.item, CAST(SUM(b.quantity) AS BIGINT) FROM balances b JOIN lots l ON l.id = b.lot_id \
                 WHERE l.donor = $1 GROUP BY b.account, l.item",
                &d,
            )?;
            let shipped_by_destination = sum_by(
                conn,
                "SELECT d.destination, l.item, CAST(SUM(x.quantity) AS BIGINT) FROM loading_lines x JOIN departures d ON d.code = x.departure_code \
                 JOIN lots l ON l.id = x.lot_id WHERE l.donor = $1 AND x.unloaded_batch IS NULL GROUP BY d.destination, l.item",
                &d,
            )?;
            let short_by_destination = sum_by(
                conn,
                "SELECT d.destination, l.item, CAST(SUM(v.short_quantity) AS BIGINT) FROM delivery_lines v JOIN departures d ON d.code = v.departure_code \
                 JOIN lots l ON l.id = v.lot_id WHERE l.donor = $1 GROUP BY d.destination, l.item",
                &d,
            )?;
            let destination_names: BTreeMap<String, String> = conn
                .query("SELECT locode, name FROM destinations", &[])?
                .iter()
                .map(|r| Ok((r[0].text()?, r[1].text()?)))
                .collect::<Result<_, StoreError>>()?;
            let mut items: BTreeMap<String, DonorItem> = BTreeMap::new();
            fn at<'a>(items: &'a mut BTreeMap<String, DonorItem>, item: &str) -> &'a mut DonorItem {
                items.entry(item.to_string()).or_insert_with(|| DonorItem { item: item.to_string(), ..DonorItem::default() })
            }
            for (_, item, q) in pledged {
                at(&mut items, &item).pledged += q;
            }
            for (_, item, q) in cancelled {
                at(&mut items, &item).pledge_cancelled += q;
            }
            for (_, item, q) in manifested {
                at(&mut items, &item).manifested += q;
            }
            for (_, item, q) in received {
                at(&mut items, &item).received += q;
            }
            let mut destinations: BTreeMap<(String, String), DonorDestination> = BTreeMap::new();
            for (account, item, q) in balances {
                let Ok(account) = Account::parse(&account) else { continue };
                let line = at(&mut items, &item);
                match account.kind() {
                    AccountKind::Source => {}
                    AccountKind::Pledged => line.pledge_outstanding += q,
                    AccountKind::InboundTransit => line.in_transit_inbound += q,
                    AccountKind::AtNode => line.in_stock += q,
                    AccountKind::Quarantine => line.quarantined += q,
                    AccountKind::NodeTransit => line.between_nodes += q,
                    AccountKind::OutboundTransit => line.on_departures += q,
                    AccountKind::Delivered => {
                        line.delivered += q;
                        let locode = account.reference().to_string();
                        destinations
                            .entry((locode.clone(), item.clone()))
                            .or_insert_with(|| DonorDestination { destination: locode, item: item.clone(), ..DonorDestination::default() })
                            .delivered += q;
                    }
                    AccountKind::Loss => *line.lost.entry(account.reference().to_string()).or_insert(0) += q,
                }
            }
            for (locode, item, q) in shipped_by_destination {
                at(&mut items, &item).shipped += q;
                destinations
                    .entry((locode.clone(), item.clone()))
                    .or_insert_with(|| DonorDestination { destination: locode, item: item.clone(), ..DonorDestination::default() })
                    .shipped += q;
            }
            for (locode, item, q) in short_by_destination {
                destinations
                    .entry((locode.clone(), item.clone()))
                    .or_insert_with(|| DonorDestination { destination: locode, item: item.clone(), ..DonorDestination::default() })
                    .short_delivered += q;
            }
            let mut destinations: Vec<DonorDestination> = destinations.into_values().collect();
            for d in &mut destinations {
                d.name = destination_names.get(&d.destination).cloned().unwrap_or_default();
            }
            let items: Vec<DonorItem> = items.into_values().collect();
            let mut totals = DonorItem { item: "(all items)".to_string(), ..DonorItem::default() };
            for i in &items {
                totals.pledged += i.pledged;
                totals.pledge_cancelled += i.pledge_cancelled;
                totals.pledge_outstanding += i.pledge_outstanding;
                totals.manifested += i.manifested;
                totals.in_transit_inbound += i.in_transit_inbound;
                totals.received += i.received;
                totals.in_stock += i.in_stock;
                totals.quarantined += i.quarantined;
                totals.between_nodes += i.between_nodes;
                totals.shipped += i.shipped;
                totals.on_departures += i.on_departures;
                totals.delivered += i.delivered;
                for (reason, q) in &i.lost {
                    *totals.lost.entry(reason.clone()).or_insert(0) += q;
                }
            }
            Ok(Some(DonorStatement { donor: d.clone(), name, items, destinations, totals }))
        })?;
        statement.ok_or_else(|| OpsError::NotFound {
            what: "donor",
            code: donor.to_string(),
        })
    }

    /// Stock position by node and item: the units in each state (at the
    /// node, in quarantine, on a hub transfer to the node, loaded on a
    /// departure from the node that has not left) and their total, which is
    /// what the hub holds of the item there; a lot in several states counts
    /// once in `lots`.
    pub fn stock_position(&mut self) -> Result<Table, OpsError> {
        let rows = self.stock_held(None, None)?;
        let mut table = Table::new(
            "Stock position by node and item",
            vec![
                column("node", "#loc+code"),
                column("item", "#item+code"),
                column("available", "#indicator+num+available"),
                column("quarantined", "#indicator+num+quarantine"),
                column("in_transit", "#indicator+num+intransit"),
                column("loaded", "#indicator+num+loaded"),
                column("total", "#indicator+num+total"),
                column("lots", "#meta+lots"),
                column("weight_kg", "#indicator+num+weight+kg"),
                column("volume_m3", "#indicator+num+volume+m3"),
                column("first_expiry", "#date+expiry"),
            ],
        );
        let mut grouped: BTreeMap<(String, String), Totals> = BTreeMap::new();
        for r in rows {
            let g = grouped.entry((r.node.clone(), r.item.clone())).or_default();
            *match r.state {
                StockState::Available => &mut g.available,
                StockState::Quarantine => &mut g.quarantined,
                StockState::InTransit => &mut g.in_transit,
                StockState::Loaded => &mut g.loaded,
            } += r.quantity;
            g.lots.insert(r.lot_id);
            g.weight_kg += r.weight_kg;
            g.volume_m3 += r.volume_m3;
            if let Some(e) = r.expiry {
                g.first_expiry = Some(g.first_expiry.map_or(e, |x| x.min(e)));
            }
        }
        for ((node, item), g) in grouped {
            table.push(vec![
                node.into(),
                item.into(),
                g.available.into(),
                g.quarantined.into(),
                g.in_transit.into(),
                g.loaded.into(),
                (g.available + g.quarantined + g.in_transit + g.loaded).into(),
                (g.lots.len() as i64).into(),
                Cell::Real(g.weight_kg, 1),
                Cell::Real(g.volume_m3, 2),
                g.first_expiry
                    .map_or(Cell::Empty, |e| Cell::Text(date_text(e))),
            ]);
        }
        Ok(table)
    }

    /// Inbound legs: what is expected, manifested, received, still at sea or in the air.
    pub fn inbound_pipeline(&mut self) -> Result<Table, OpsError> {
        let mut table = Table::new(
            "Inbound pipeline",
            vec![
                column("leg", "#meta+leg"),
                column("mode", "#meta+mode"),
                column("origin", "#loc+origin"),
                column("node", "#loc+code"),
                column("carrier", "#org+carrier"),
                column("vehicle", "#meta+vehicle"),
                column("expected_arrival", "#date+arrival"),
                column("manifest_lines", "#meta+lines"),
                column("manifested", "#indicator+num+manifested"),
                column("received_lines", "#meta+lines+received"),
                column("in_transit", "#indicator+num+intransit"),
                column("status", "#status"),
            ],
        );
        for leg in self.legs()? {
            let status = leg.status();
            let l = &leg.leg;
            table.push(vec![
                l.code.as_str().into(),
                l.mode.code().into(),
                l.origin.as_str().into(),
                l.node.as_str().into(),
                l.carrier.as_str().into(),
                l.vehicle_ref.as_str().into(),
                date_text(l.expected_arrival).into(),
                leg.manifest_lines.into(),
                leg.manifested_quantity.into(),
                leg.received_lines.into(),
                leg.in_transit_quantity.into(),
                status.as_code().into(),
            ]);
        }
        Ok(table)
    }

    /// Every request with its fulfilment.
    pub fn request_fulfilment(&mut self) -> Result<Table, OpsError> {
        let mut table = Table::new(
            "Request fulfilment",
            vec![
                column("destination", "#loc+code+dest"),
                column("request", "#meta+request"),
                column("item", "#item+code"),
                column("priority", "#priority"),
                column("needed_by", "#date+needed"),
                column("requested", "#indicator+num+requested"),
                column("loaded", "#indicator+num+loaded"),
                column("delivered", "#indicator+num+delivered"),
                column("outstanding", "#indicator+num+outstanding"),
                column("status", "#status"),
            ],
        );
        let mut rows = self.requests()?;
        rows.sort_by(|a, b| {
            (&a.request.destination, a.request.priority, &a.request.code).cmp(&(
                &b.request.destination,
                b.request.priority,
                &b.request.code,
            ))
        });
        for r in rows {
            let outstanding = if r.cancelled_on.is_some() {
                0
            } else {
                (r.request.quantity - r.delivered).max(0)
            };
            table.push(vec![
                r.request.destination.as_str().into(),
                r.request.code.as_str().into(),
                r.request.item.as_str().into(),
                r.request.priority.into(),
                date_text(r.request.needed_by).into(),
                r.request.quantity.into(),
                r.loaded.into(),
                r.delivered.into(),
                outstanding.into(),
                r.status.as_code().into(),
            ]);
        }
        Ok(table)
    }
}

impl DonorStatement {
    /// The statement by item, the totals last: the columns of the JSON's
    /// `items` (and `totals`) with the donor first; `lost` is written
    /// `reason=units` joined by `;`.
    pub fn items_table(&self) -> Table {
        let mut table = Table::new(
            format!("Donor statement: {} ({}), by item", self.name, self.donor),
            vec![
                column("donor", "#org+funder+code"),
                column("item", "#item+code"),
                column("pledged", "#indicator+num+pledged"),
                column("pledge_cancelled", "#indicator+num+pledged+cancelled"),
                column("pledge_outstanding", "#indicator+num+pledged+outstanding"),
                column("manifested", "#indicator+num+manifested"),
                column("in_transit_inbound", "#indicator+num+intransit+inbound"),
                column("received", "#indicator+num+received"),
                column("in_stock", "#indicator+num+instock"),
                column("quarantined", "#indicator+num+quarantine"),
                column("between_nodes", "#indicator+num+intransit+hub"),
                column("shipped", "#indicator+num+shipped"),
                column("on_departures", "#indicator+num+loaded"),
                column("delivered", "#indicator+num+delivered"),
                column("lost", "#meta+lost"),
                column("lost_total", "#indicator+num+lost"),
            ],
        );
        for i in self.items.iter().chain(std::iter::once(&self.totals)) {
            let lost: Vec<String> = i.lost.iter().map(|(r, q)| format!("{r}={q}")).collect();
            table.push(vec![
                self.donor.as_str().into(),
                i.item.as_str().into(),
                i.pledged.into(),
                i.pledge_cancelled.into(),
                i.pledge_outstanding.into(),
                i.manifested.into(),
                i.in_transit_inbound.into(),
                i.received.into(),
                i.in_stock.into(),
                i.quarantined.into(),
                i.between_nodes.into(),
                i.shipped.into(),
                i.on_departures.into(),
                i.delivered.into(),
                lost.join(";").into(),
                i.lost_total().into(),
            ]);
        }
        table
    }

    pub fn destinations_table(&self) -> Table {
        let mut table = Table::new(
            format!(
                "Donor statement: {} ({}), by destination",
                self.name, self.donor
            ),
            vec![
                column("donor", "#org+funder+code"),
                column("destination", "#loc+code+dest"),
                column("name", "#loc+name+dest"),
                column("item", "#item+code"),
                column("shipped", "#indicator+num+shipped"),
                column("delivered", "#indicator+num+delivered"),
                column("short_delivered", "#indicator+num+short"),
            ],
        );
        for d in &self.destinations {
            table.push(vec![
                self.donor.as_str().into(),
                d.destination.as_str().into(),
                d.name.as_str().into(),
                d.item.as_str().into(),
                d.shipped.into(),
                d.delivered.into(),
                d.short_delivered.into(),
            ]);
        }
        table
    }

    pub fn json(&self) -> serde_json::Value {
        let item = |i: &DonorItem| {
            serde_json::json!({
                "item": i.item,
                "pledged": i.pledged,
                "pledge_cancelled": i.pledge_cancelled,
                "pledge_outstanding": i.pledge_outstanding,
                "manifested": i.manifested,
                "in_transit_inbound": i.in_transit_inbound,
                "received": i.received,
                "in_stock": i.in_stock,
                "quarantined": i.quarantined,
                "between_nodes": i.between_nodes,
                "shipped": i.shipped,
                "on_departures": i.on_departures,
                "delivered": i.delivered,
                "lost": i.lost,
                "lost_total": i.lost_total(),
            })
        };
        serde_json::json!({
            "donor": self.donor,
            "name": self.name,
            "items": self.items.iter().map(item).collect::<Vec<_>>(),
            "destinations": self.destinations.iter().map(|d| serde_json::json!({
                "destination": d.destination,
                "name": d.name,
                "item": d.item,
                "shipped": d.shipped,
                "delivered": d.delivered,
                "short_delivered": d.short_delivered,
            })).collect::<Vec<_>>(),
            "totals": item(&self.totals),
        })
    }
}
