//! What a request is worth: the value model by which the hub's instances
//! (and what-if scenarios) give each request its `value_per_unit`.
//!
//! A unit delivered on time is worth what the goods cost (the item's
//! `value_usd_per_unit` in the master data) times a multiplier set by the
//! request's priority ([`VALUE_MULTIPLIER_BY_PRIORITY`]): aid that is
//! needed now is worth more than its price, which is what pays for air
//! freight or a charter. An item without a value in the master data is
//! valued by its weight at [`FALLBACK_USD_PER_KG`], the price of a kg of
//! bulk food aid.

/// How many times its price a unit of a request is worth, by priority (1 is
/// the most urgent, 5 the least).
pub const VALUE_MULTIPLIER_BY_PRIORITY: [f64; 5] = [20.0, 10.0, 5.0, 2.5, 1.0];

/// The price per kg of an item whose value per unit is not known, in US
/// dollars: bulk food aid (cereals, pulses, oil) costs about 0.5 to 2 US
/// dollars a kg delivered to a port.
pub const FALLBACK_USD_PER_KG: f64 = 1.5;

/// The multiplier of a priority; priorities outside 1..=5 count as the
/// nearest one.
pub fn priority_multiplier(priority: i64) -> f64 {
    let index = usize::try_from(priority.clamp(1, 5) - 1).unwrap_or(4);
    VALUE_MULTIPLIER_BY_PRIORITY[index]
}

/// The price of one unit of an item: its value per unit when known and
/// positive, otherwise its weight at [`FALLBACK_USD_PER_KG`].
pub fn unit_price_usd(value_usd_per_unit: Option<f64>, unit_weight_kg: f64) -> f64 {
    match value_usd_per_unit {
        Some(value) if value.is_finite() && value > 0.0 => value,
        _ => unit_weight_kg * FALLBACK_USD_PER_KG,
    }
}

/// The value of one unit of a request delivered on time: the unit's price
/// times its priority's multiplier.
pub fn request_value_per_unit(
    value_usd_per_unit: Option<f64>,
    unit_weight_kg: f64,
    priority: i64,
) -> f64 {
    unit_price_usd(value_usd_per_unit, unit_weight_kg) * priority_multiplier(priority)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_worth_its_price_times_its_priority_multiplier() {
        // (value per unit, kg per unit, priority, expected value per unit)
        let cases = [
            (Some(160.0), 4.5, 1, 3_200.0),
            (Some(160.0), 4.5, 5, 160.0),
            (Some(25.0), 50.0, 3, 125.0),
            (Some(25.0), 50.0, 0, 500.0),
            (Some(25.0), 50.0, 9, 25.0),
            (None, 50.0, 1, 50.0 * FALLBACK_USD_PER_KG * 20.0),
            (Some(0.0), 10.0, 2, 10.0 * FALLBACK_USD_PER_KG * 10.0),
            (Some(f64::NAN), 10.0, 4, 10.0 * FALLBACK_USD_PER_KG * 2.5),
        ];
        for (value, kg, priority, expected) in cases {
            let got = request_value_per_unit(value, kg, priority);
            assert!(
                (got - expected).abs() < 1e-9,
                "{value:?} USD, {kg} kg, priority {priority}: {got} != {expected}"
            );
        }
    }

    #[test]
    fn a_more_urgent_priority_is_never_worth_less() {
        for pair in VALUE_MULTIPLIER_BY_PRIORITY.windows(2) {
            assert!(pair[0] > pair[1], "{pair:?}");
        }
        assert_eq!(
            VALUE_MULTIPLIER_BY_PRIORITY[4], 1.0,
            "priority 5 is its price"
        );
    }
}
