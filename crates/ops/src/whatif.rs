//! What the what-if analysis (`reliefhub-whatif`) needs from the hub: the
//! planning instance of a day and the facts some changes refer to (inbound
//! legs, pledges with what is outstanding, destinations, the catalogue with
//! each item's value per unit). Reads only; what-if never writes.

use reliefhub_whatif::doc::{InstanceDoc, ItemDoc};
use reliefhub_whatif::{HubFacts, PledgeFacts};
use serde_json::{Map, Value};

use crate::{Moment, Ops, OpsError};

impl Ops {
    /// The instance the hub would plan on `at.date`, and the facts a
    /// scenario may name.
    pub fn whatif_state(&mut self, at: Moment) -> Result<(InstanceDoc, HubFacts), OpsError> {
        let instance = self.plan_instance(at)?;
        let doc = InstanceDoc::from_value(&instance)
            .map_err(|e| OpsError::refused(crate::Code::LedgerRule, "", "", e))?;
        let legs = self.legs()?.into_iter().map(|l| l.leg.code).collect();
        let pledges = self
            .pledges(None)?
            .into_iter()
            .filter(|p| p.cancelled_on.is_none())
            .map(|p| PledgeFacts {
                code: p.code,
                donor: p.donor,
                outstanding: p
                    .lines
                    .into_iter()
                    .filter(|l| l.outstanding > 0)
                    .map(|l| (l.item, l.outstanding))
                    .collect(),
            })
            .collect();
        let destinations = self.destinations()?.into_iter().map(|d| d.locode).collect();
        let items = self
            .store()
            .items()?
            .into_iter()
            .map(|i| {
                let mut extra = Map::new();
                extra.insert("name".into(), Value::from(i.name.clone()));
                extra.insert("cold_chain".into(), Value::from(i.cold_chain));
                extra.insert("dangerous_goods".into(), Value::from(i.un_number.is_some()));
                extra.insert(
                    "min_shelf_life_days".into(),
                    Value::from(i.min_shelf_life_days),
                );
                extra.insert(
                    "value_usd_per_unit".into(),
                    i.value_usd_per_unit.map_or(Value::Null, Value::from),
                );
                ItemDoc {
                    id: i.code,
                    unit_weight_kg: i.unit_weight_kg,
                    unit_volume_m3: i.unit_volume_m3,
                    extra,
                }
            })
            .collect();
        Ok((
            doc,
            HubFacts {
                legs,
                pledges,
                destinations,
                items,
            },
        ))
    }
}
