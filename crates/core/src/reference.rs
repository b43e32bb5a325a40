//! Built-in reference data: the standard relief catalogue, the two hub nodes
//! of the first deployment, African destinations and the first donors.
//!
//! Weights and volumes are per catalogue unit (a carton, a kit, a tent) and
//! follow the published specifications of the standard items.

use crate::domain::{Destination, Item, Node, NodeKind, Organisation, OrganisationKind};

/// Everything `reliefhub init` loads.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceData {
    pub items: Vec<Item>,
    pub organisations: Vec<Organisation>,
    pub nodes: Vec<Node>,
    pub destinations: Vec<Destination>,
}

#[allow(clippy::too_many_arguments)]
fn item(
    code: &str,
    name: &str,
    category: &str,
    unit: &str,
    unit_weight_kg: f64,
    unit_volume_m3: f64,
    cold_chain: bool,
    un_number: Option<&str>,
    min_shelf_life_days: u32,
) -> Item {
    Item {
        code: code.to_string(),
        name: name.to_string(),
        category: category.to_string(),
        unit: unit.to_string(),
        unit_weight_kg,
        unit_volume_m3,
        cold_chain,
        un_number: un_number.map(str::to_string),
        min_shelf_life_days,
        // An item with a minimum shelf life is perishable: its lots carry
        // an expiry date.
        needs_expiry: min_shelf_life_days > 0,
    }
}

/// The ISO 3166-1 alpha-2 codes (249, from the ISO 3166 country-codes data
/// package). `refdata countries` may add more; these are always known.
pub const COUNTRY_CODES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// Whether a text is an ISO 3166-1 alpha-2 code of the built-in list.
pub fn is_country_code(text: &str) -> bool {
    COUNTRY_CODES.binary_search(&text).is_ok()
}

/// The standard relief catalogue.
pub fn catalogue() -> Vec<Item> {
    vec![
        item(
            "HEB-10KG",
            "High-energy biscuits, carton 10 kg",
            "food",
            "carton",
            10.4,
            0.031,
            false,
            None,
            180,
        ),
        item(
            "RUTF-150",
            "Ready-to-use therapeutic food, carton of 150 sachets x 92 g",
            "nutrition",
            "carton",
            14.9,
            0.036,
            false,
            None,
            180,
        ),
        item(
            "WHEAT-FLOUR-50KG",
            "Wheat flour, bag 50 kg",
            "food",
            "bag",
            50.2,
            0.070,
            false,
            None,
            90,
        ),
        item(
            "RICE-50KG",
            "Rice, bag 50 kg",
            "food",
            "bag",
            50.3,
            0.065,
            false,
            None,
            180,
        ),
        item(
            "LENTILS-50KG",
            "Red lentils, bag 50 kg",
            "food",
            "bag",
            50.2,
            0.068,
            false,
            None,
            180,
        ),
        item(
            "VEG-OIL-4X5L",
            "Fortified vegetable oil, carton 4 x 5 l",
            "food",
            "carton",
            19.6,
            0.026,
            false,
            None,
            180,
        ),
        item(
            "FOOD-PARCEL",
            "Family food parcel, one month",
            "food",
            "parcel",
            16.5,
            0.040,
            false,
            None,
            120,
        ),
        item(
            "TENT-FAMILY-16M2",
            "Family tent 16 m2",
            "shelter",
            "tent",
            55.0,
            0.280,
            false,
            None,
            0,
        ),
        item(
            "TARPAULIN-4X6",
            "Plastic sheeting 4 x 6 m, bale of 5",
            "shelter",
            "bale",
            22.5,
            0.050,
            false,
            None,
            0,
        ),
        item(
            "BLANKET-BALE-10",
            "Thermal blankets, bale of 10",
            "shelter",
            "bale",
            15.0,
            0.090,
            false,
            None,
            0,
        ),
        item(
            "SLEEPING-MAT-10",
            "Sleeping mats, bundle of 10",
            "shelter",
            "bundle",
            14.0,
            0.120,
            false,
            None,
            0,
        ),
        item(
            "KITCHEN-SET",
            "Family kitchen set",
            "shelter",
            "set",
            8.5,
            0.035,
            false,
            None,
            0,
        ),
        item(
            "JERRYCAN-10L-X10",
            "Collapsible jerrycans 10 l, pack of 10",
            "wash",
            "pack",
            4.0,
            0.020,
            false,
            None,
            0,
        ),
        item(
            "HYGIENE-KIT",
            "Family hygiene kit",
            "wash",
            "kit",
            14.0,
            0.060,
            false,
            None,
            365,
        ),
        item(
            "AQUATABS-CTN",
            "Water purification tablets, carton of 20,000",
            "wash",
            "carton",
            12.0,
            0.030,
            false,
            None,
            365,
        ),
        item(
            "SOAP-CTN",
            "Bar soap, carton of 100 x 200 g",
            "wash",
            "carton",
            20.5,
            0.025,
            false,
            None,
            365,
        ),
        item(
            "LLIN-BALE-40",
            "Long-lasting insecticidal nets, bale of 40",
            "health",
            "bale",
            25.0,
            0.100,
            false,
            None,
            365,
        ),
        item(
            "IEHK-BASIC",
            "Interagency emergency health kit, basic unit",
            "health",
            "kit",
            45.0,
            0.200,
            false,
            None,
            365,
        ),
        item(
            "CHOLERA-KIT-CENTRAL",
            "Cholera kit, central module",
            "health",
            "module",
            38.0,
            0.160,
            false,
            None,
            365,
        ),
        item(
            "ORS-CTN",
            "Oral rehydration salts, carton of 1,000 sachets",
            "health",
            "carton",
            22.0,
            0.040,
            false,
            None,
            365,
        ),
        item(
            "MEASLES-VACCINE",
            "Measles vaccine, insulated carton of 500 doses",
            "health",
            "carton",
            4.5,
            0.020,
            true,
            None,
            180,
        ),
        item(
            "OCV-VACCINE",
            "Oral cholera vaccine, insulated carton of 1,000 doses",
            "health",
            "carton",
            6.0,
            0.030,
            true,
            None,
            180,
        ),
        item(
            "SOLAR-LANTERN-10",
            "Solar lanterns with lithium-ion batteries, carton of 10",
            "energy",
            "carton",
            6.0,
            0.030,
            false,
            Some("UN3481"),
            0,
        ),
        item(
            "CALCIUM-HYPOCHLORITE-45KG",
            "Calcium hypochlorite 70%, drum 45 kg",
            "wash",
            "drum",
            48.0,
            0.070,
            false,
            Some("UN2880"),
            365,
        ),
    ]
}

fn organisation(code: &str, name: &str, kind: OrganisationKind, country: &str) -> Organisation {
    Organisation {
        code: code.to_string(),
        name: name.to_string(),
        kind,
        country: country.to_string(),
    }
}

/// Donors, the recipient agencies of the built-in destinations, and the hub.
pub fn organisations() -> Vec<Organisation> {
    use OrganisationKind::{Donor, Hub, Recipient};
    vec![
        organisation("RU-EMERCOM", "EMERCOM of Russia", Donor, "RU"),
        organisation("AE-UAEAID", "UAE Aid Agency", Donor, "AE"),
        organisation(
            "SA-KSRELIEF",
            "King Salman Humanitarian Aid and Relief Centre",
            Donor,
            "SA",
        ),
        organisation("QA-QFFD", "Qatar Fund for Development", Donor, "QA"),
        organisation("KW-KRCS", "Kuwait Red Crescent Society", Donor, "KW"),
        organisation("HUB-OPS", "Hub operations", Hub, "SY"),
        organisation(
            "SD-HAC",
            "Humanitarian Aid Commission, Sudan",
            Recipient,
            "SD",
        ),
        organisation(
            "DJ-ONARS",
            "Office national d'assistance aux refugies et sinistres, Djibouti",
            Recipient,
            "DJ",
        ),
        organisation(
            "KE-NDMA",
            "National Drought Management Authority, Kenya",
            Recipient,
            "KE",
        ),
        organisation("LY-LRC", "Libyan Red Crescent", Recipient, "LY"),
        organisation(
            "TD-CNARR",
            "Commission nationale d'accueil et de reinsertion des refugies, Chad",
            Recipient,
            "TD",
        ),
        organisation(
            "ML-DGPC",
            "Direction generale de la protection civile, Mali",
            Recipient,
            "ML",
        ),
        organisation(
            "NE-MAHGC",
            "Ministere de l'action humanitaire, Niger",
            Recipient,
            "NE",
        ),
        organisation(
            "CF-MASRN",
            "Ministere de l'action humanitaire, Central African Republic",
            Recipient,
            "CF",
        ),
        organisation(
            "ET-EDRMC",
            "Ethiopian Disaster Risk Management Commission",
            Recipient,
            "ET",
        ),
        organisation(
            "SS-RRC",
            "Relief and Rehabilitation Commission, South Sudan",
            Recipient,
            "SS",
        ),
        organisation(
            "SO-SODMA",
            "Somali Disaster Management Agency",
            Recipient,
            "SO",
        ),
        organisation(
            "CD-MASAH",
            "Ministere des affaires sociales et humanitaires, DR Congo",
            Recipient,
            "CD",
        ),
    ]
}

/// The two hub nodes of the first deployment.
pub fn nodes() -> Vec<Node> {
    vec![
        Node {
            code: "TARTUS-PORT".to_string(),
            name: "Port of Tartus".to_string(),
            kind: NodeKind::Port,
            locode: "SYTTS".to_string(),
            iata: None,
            icao: None,
            latitude_deg: 34.8959,
            longitude_deg: 35.8867,
        },
        Node {
            code: "HMEIMIM-AIR".to_string(),
            name: "Hmeimim / Latakia airfield".to_string(),
            kind: NodeKind::Airport,
            locode: "SYLTK".to_string(),
            iata: Some("LTK".to_string()),
            icao: Some("OSLK".to_string()),
            latitude_deg: 35.4011,
            longitude_deg: 35.9487,
        },
    ]
}

fn destination(
    locode: &str,
    name: &str,
    iata: &str,
    icao: &str,
    latitude_deg: f64,
    longitude_deg: f64,
) -> Destination {
    Destination {
        locode: locode.to_string(),
        name: name.to_string(),
        iata: Some(iata.to_string()),
        icao: Some(icao.to_string()),
        latitude_deg,
        longitude_deg,
        seaport: SEAPORTS.contains(&locode),
    }
}

/// The built-in destinations a sailing can reach.
const SEAPORTS: &[&str] = &["SDPZU", "DJJIB", "KEMBA", "LYBEN", "SOMGQ"];

/// African destinations the hub serves.
pub fn destinations() -> Vec<Destination> {
    vec![
        destination("SDPZU", "Port Sudan", "PZU", "HSPN", 19.4336, 37.2341),
        destination("DJJIB", "Djibouti", "JIB", "HDAM", 11.5473, 43.1595),
        destination("KEMBA", "Mombasa", "MBA", "HKMO", -4.0348, 39.5942),
        destination("LYBEN", "Benghazi", "BEN", "HLLB", 32.0968, 20.2695),
        destination("TDNDJ", "N'Djamena", "NDJ", "FTTJ", 12.1337, 15.0340),
        destination("MLBKO", "Bamako", "BKO", "GABS", 12.5335, -7.9499),
        destination("NENIM", "Niamey", "NIM", "DRRN", 13.4815, 2.1836),
        destination("CFBGF", "Bangui", "BGF", "FEFF", 4.3985, 18.5188),
        destination("ETADD", "Addis Ababa", "ADD", "HAAB", 8.9779, 38.7993),
        destination("SSJUB", "Juba", "JUB", "HJJJ", 4.8720, 31.6011),
        destination("SOMGQ", "Mogadishu", "MGQ", "HCMM", 2.0144, 45.3047),
        destination("CDFIH", "Kinshasa", "FIH", "FZAA", -4.3858, 15.4446),
    ]
}

/// All built-in reference data.
pub fn builtin() -> ReferenceData {
    ReferenceData {
        items: catalogue(),
        organisations: organisations(),
        nodes: nodes(),
        destinations: destinations(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::is_locode;
    use std::collections::HashSet;

    #[test]
    fn builtin_reference_data_meets_its_promises() {
        let data = builtin();
        assert!(data.items.len() >= 20);
        let codes: HashSet<_> = data.items.iter().map(|i| &i.code).collect();
        assert_eq!(codes.len(), data.items.len(), "item codes are unique");
        for item in &data.items {
            assert!(
                item.unit_weight_kg > 0.0 && item.unit_volume_m3 > 0.0,
                "{}",
                item.code
            );
        }
        let un: HashSet<_> = data
            .items
            .iter()
            .filter_map(|i| i.un_number.as_deref())
            .collect();
        assert!(un.contains("UN3481") && un.contains("UN2880"));
        assert!(data.items.iter().any(|i| i.cold_chain));
        assert!(data.destinations.len() >= 10);
        for destination in &data.destinations {
            assert!(is_locode(&destination.locode), "{}", destination.locode);
            assert_eq!(destination.iata.as_deref().map(str::len), Some(3));
            assert_eq!(destination.icao.as_deref().map(str::len), Some(4));
        }
        let donor_countries: HashSet<_> = data
            .organisations
            .iter()
            .filter(|o| o.kind == OrganisationKind::Donor)
            .map(|o| o.country.as_str())
            .collect();
        for country in ["RU", "AE", "SA", "QA", "KW"] {
            assert!(donor_countries.contains(country), "{country}");
        }
        assert_eq!(data.nodes.len(), 2);
    }
}
