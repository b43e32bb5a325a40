//! Domain types: the catalogue, organisations, hub nodes, destinations, lots.

use time::Date;

/// A catalogue entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub code: String,
    pub name: String,
    /// One of food, shelter, wash, health, nutrition, logistics, energy.
    pub category: String,
    /// The unit the quantity counts: carton, kit, tent, piece.
    pub unit: String,
    pub unit_weight_kg: f64,
    pub unit_volume_m3: f64,
    pub cold_chain: bool,
    /// UN number of a dangerous good, such as `UN3481`.
    pub un_number: Option<String>,
    pub min_shelf_life_days: u32,
    /// Whether every lot of the item must carry an expiry date.
    pub needs_expiry: bool,
    /// The name in French, Arabic and Russian (`name` is the English one).
    pub names: Names,
    /// Units in one pack (a pallet layer, an outer case); 1 when not given.
    pub pack_size: u32,
    /// GTIN-8, -12, -13 or -14 codes that identify the item on a barcode.
    pub gtins: Vec<String>,
    /// The dangerous-goods class or division of its UN number, such as `9`
    /// or `4.1`.
    pub un_class: Option<String>,
    /// The value of one unit in US dollars, for reports and the planner's
    /// value delivered; None when not known (items of databases made before
    /// master data could be edited).
    pub value_usd_per_unit: Option<f64>,
}

/// A name's translations besides English; None falls back to English.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub fr: Option<String>,
    pub ar: Option<String>,
    pub ru: Option<String>,
}

impl Names {
    /// The name in `lang` (`en`, `fr`, `ar` or `ru`), or `english` when it
    /// has none in that language.
    pub fn pick<'a>(&'a self, english: &'a str, lang: &str) -> &'a str {
        let found = match lang {
            "fr" => self.fr.as_deref(),
            "ar" => self.ar.as_deref(),
            "ru" => self.ru.as_deref(),
            _ => None,
        };
        found.filter(|n| !n.is_empty()).unwrap_or(english)
    }
}

impl Item {
    /// The item's name in `lang`, English when it has none in that language.
    pub fn name_in(&self, lang: &str) -> &str {
        self.names.pick(&self.name, lang)
    }
    pub fn dangerous_goods(&self) -> bool {
        self.un_number.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganisationKind {
    Donor,
    Recipient,
    Hub,
}

impl OrganisationKind {
    pub fn code(self) -> &'static str {
        match self {
            OrganisationKind::Donor => "donor",
            OrganisationKind::Recipient => "recipient",
            OrganisationKind::Hub => "hub",
        }
    }
    pub fn parse(text: &str) -> Option<OrganisationKind> {
        match text {
            "donor" => Some(OrganisationKind::Donor),
            "recipient" => Some(OrganisationKind::Recipient),
            "hub" => Some(OrganisationKind::Hub),
            _ => None,
        }
    }
}

/// A donor, a recipient agency, or the hub's own operator.
#[derive(Debug, Clone, PartialEq)]
pub struct Organisation {
    pub code: String,
    pub name: String,
    pub kind: OrganisationKind,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// The name in French, Arabic and Russian (`name` is the English one).
    pub names: Names,
}

impl Organisation {
    /// The organisation's name in `lang`, English when it has none.
    pub fn name_in(&self, lang: &str) -> &str {
        self.names.pick(&self.name, lang)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Port,
    Airport,
}

impl NodeKind {
    pub fn code(self) -> &'static str {
        match self {
            NodeKind::Port => "port",
            NodeKind::Airport => "airport",
        }
    }
    pub fn parse(text: &str) -> Option<NodeKind> {
        match text {
            "port" => Some(NodeKind::Port),
            "airport" => Some(NodeKind::Airport),
            _ => None,
        }
    }
}

/// A hub site where stock sits.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub code: String,
    pub name: String,
    pub kind: NodeKind,
    pub locode: String,
    pub iata: Option<String>,
    pub icao: Option<String>,
    pub latitude_deg: f64,
    pub longitude_deg: f64,
}

/// A place the hub forwards goods to, keyed by UN/LOCODE.
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    pub locode: String,
    pub name: String,
    pub iata: Option<String>,
    pub icao: Option<String>,
    pub latitude_deg: f64,
    pub longitude_deg: f64,
    /// Whether a sailing can reach it (it has a seaport); a flight can when
    /// it has an airport.
    pub seaport: bool,
    /// Whether a flight can reach it.
    pub airport: bool,
    /// The name in French, Arabic and Russian (`name` is the English one).
    pub names: Names,
}

impl Destination {
    /// The destination's name in `lang`, English when it has none.
    pub fn name_in(&self, lang: &str) -> &str {
        self.names.pick(&self.name, lang)
    }
    /// The ISO 3166-1 alpha-2 country: the first two letters of the UN/LOCODE.
    pub fn country(&self) -> &str {
        self.locode.get(..2).unwrap_or("")
    }
}

/// True when `text` has the shape of a UN/LOCODE: two letters of country and
/// three letters or digits 2-9 of place.
pub fn is_locode(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 5
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'9').contains(b))
}

/// A new lot: a quantity of one item from one donor with one batch and expiry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LotSpec {
    pub item: String,
    pub donor: String,
    pub batch: String,
    pub expiry: Option<Date>,
    /// ISO 3166-1 alpha-2 codes the donor allows; empty allows all.
    pub earmark: Vec<String>,
}

/// A lot as stored, with its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    pub id: i64,
    pub spec: LotSpec,
    pub created_batch: i64,
}

/// Formats a date as `YYYY-MM-DD` (digits written directly: the ledger
/// writes one for every lot it stores).
pub fn format_date(date: Date) -> String {
    let year = date.year();
    if !(0..=9999).contains(&year) {
        return format!(
            "{:04}-{:02}-{:02}",
            year,
            u8::from(date.month()),
            date.day()
        );
    }
    fn digits(text: &mut String, value: u32, width: u32) {
        for place in (0..width).rev() {
            text.push(char::from(b'0' + (value / 10_u32.pow(place) % 10) as u8));
        }
    }
    let mut text = String::with_capacity(10);
    digits(&mut text, year as u32, 4);
    text.push('-');
    digits(&mut text, u32::from(u8::from(date.month())), 2);
    text.push('-');
    digits(&mut text, u32::from(date.day()), 2);
    text
}

/// Reads a `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).ok()
}

#[cfg(test)]
mod tests {
    /// The date text is the standard `{:04}-{:02}-{:02}` one, for every day
    /// of several years and at the ends of the four-digit range.
    #[test]
    fn format_date_matches_standard_formatting() {
        let date = |text: &str| super::parse_date(text).expect("a date");
        let mut dates = Vec::new();
        let mut day = date("2023-01-01");
        for _ in 0..(5 * 366) {
            dates.push(day);
            day = day.next_day().expect("a later day");
        }
        dates.push(date("0001-02-03"));
        dates.push(date("9999-12-31"));
        for d in dates {
            let standard = format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
            assert_eq!(super::format_date(d), standard, "{d}");
        }
    }

    use super::*;

    #[test]
    fn locode_shape() {
        assert!(is_locode("SDPZU"));
        assert!(is_locode("SYTTS"));
        assert!(is_locode("DE2AB"));
        assert!(!is_locode("sdpzu"));
        assert!(!is_locode("SDPZ"));
        assert!(!is_locode("SD1ZU"));
    }

    #[test]
    fn dates_round_trip() {
        let date = parse_date("2027-06-30").expect("date");
        assert_eq!(format_date(date), "2027-06-30");
        assert_eq!(parse_date("2027-02-30"), None);
        assert_eq!(parse_date("30/06/2027"), None);
    }
}

/// An ISO 3166-1 country with its names in the hub's four languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    pub alpha2: String,
    pub alpha3: String,
    pub numeric_code: String,
    pub name_en: String,
    pub name_fr: String,
    pub name_ar: String,
    pub name_ru: String,
}

/// An airport from the OurAirports data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Airport {
    /// The OurAirports identifier, usually the ICAO code.
    pub ident: String,
    /// large_airport, medium_airport, small_airport, heliport, ...
    pub kind: String,
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub municipality: String,
    pub iata: Option<String>,
    pub latitude_deg: f64,
    pub longitude_deg: f64,
}
