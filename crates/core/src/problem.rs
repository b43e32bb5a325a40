//! Problems with what a user asked for, as data: which rule (a stable
//! snake_case [`Code`]), which field, what value, the rule in English and the
//! figures it names (`params`), so that an edge (the CLI, the API, the
//! dashboard) can say it in the user's language.
//!
//! Every rule the hub checks has one code here; `Code::ALL` lists them with
//! their meaning, and ARCHITECTURE.md lists the same codes.

macro_rules! codes {
    ($($variant:ident => $code:literal : $meaning:literal,)*) => {
        /// The rule a problem breaks. The text of a code never changes once
        /// released: the dashboard translates by it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in the order of the table.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable snake_case code.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            /// What the rule means, in one English sentence.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Code::$variant => $meaning,)*
                }
            }

            /// The code of a snake_case text, if it is one.
            pub fn parse(text: &str) -> Option<Code> {
                Code::ALL.iter().copied().find(|c| c.as_str() == text)
            }
        }
    };
}

codes! {
    // Shapes of values.
    Required => "required": "the field must not be empty",
    BadCode => "bad_code": "a document code is 1 to 64 letters, digits, `-`, `_`, `.` or `/`",
    NotADate => "not_a_date": "a date is written YYYY-MM-DD and exists in the calendar",
    NotAWholeNumber => "not_a_whole_number": "the value must be a whole number",
    NotANumber => "not_a_number": "the value must be a finite number of 0 or more",
    NotAMode => "not_a_mode": "a transport mode is sea, air or road",
    NotAService => "not_a_service": "a departure's service is scheduled or charter",
    NotALossReason => "not_a_loss_reason": "a loss reason is one the ledger knows (damaged, expired, stolen, ...)",
    QuantityNotPositive => "quantity_not_positive": "a quantity is a whole number above 0",
    QuantityTooLarge => "quantity_too_large": "a quantity is at most 10^12, the ledger's limit",
    NegativeValue => "negative_value": "the value must be 0 or more",
    OutOfRange => "out_of_range": "the value is outside the range the rule allows",
    TextTooLong => "text_too_long": "the text is longer than the field allows",
    NoLines => "no_lines": "a document needs at least one line",
    BadBody => "bad_body": "the request body is not a JSON object of the expected shape",
    ControlCharacter => "control_character": "the text holds a control character (tab and line feed excepted)",
    // References to master data.
    UnknownItem => "unknown_item": "the item is not in the catalogue",
    UnknownDonor => "unknown_donor": "the organisation is not a known donor",
    UnknownOrganisation => "unknown_organisation": "the organisation does not exist",
    UnknownNode => "unknown_node": "the node is not one of the hub's nodes",
    UnknownDestination => "unknown_destination": "the destination is not a known UN/LOCODE",
    UnknownLot => "unknown_lot": "the lot does not exist",
    UnknownRequest => "unknown_request": "the request does not exist",
    UnknownLine => "unknown_line": "the document has no such line",
    EarmarkNotACountry => "earmark_not_a_country": "an earmark lists ISO 3166-1 alpha-2 codes of real countries",
    CountryUnknown => "country_unknown": "the country is not an ISO 3166-1 alpha-2 code of a real country",
    OriginUnknown => "origin_unknown": "a leg's origin is an IATA airport code or a UN/LOCODE (of an imported airport when airports are imported)",
    // Documents and their life.
    DuplicateCode => "duplicate_code": "a document with that code already exists with other details",
    PledgeCodeScope => "pledge_code_scope": "a donor's pledge code begins with its own organisation's code and `-`; no pledge code begins with another donor's",
    AlreadyDone => "already_done": "the operation was already done; nothing changed",
    WrongStatus => "wrong_status": "the document is not in a state that allows the operation",
    LineNamedTwice => "line_named_twice": "a line is named twice in one document",
    LotNamedTwice => "lot_named_twice": "a lot is named twice in one count, load or transfer",
    SameNode => "same_node": "a transfer goes between two different nodes",
    RaggedRow => "ragged_row": "a row has more or fewer fields than the header",
    // Dates.
    DateInFuture => "date_in_future": "the date is after the hub's today",
    DateBeforeHubStart => "date_before_hub_start": "the date is before the hub's first day",
    DateTooFarAhead => "date_too_far_ahead": "the date is more than two years after the hub's today",
    ArrivalBeforeDeparture => "arrival_before_departure": "a departure arrives on or after the day it departs",
    DeliveryBeforeDeparture => "delivery_before_departure": "a delivery is dated on or after the day its departure left",
    ArrivalBeforeDispatch => "arrival_before_dispatch": "a hub transfer arrives on or after the day it was dispatched",
    // Transport modes.
    ModeNotServed => "mode_not_served": "the node does not serve that transport mode",
    NoSeaport => "no_seaport": "the destination has no seaport: no sailing can reach it",
    NoAirport => "no_airport": "the destination has no airport: no flight can reach it",
    // Lots and stock.
    ExpiryRequired => "expiry_required": "the item needs an expiry date on each lot",
    ShelfLifeTooShort => "shelf_life_too_short": "the lot would arrive with less than the item's minimum remaining shelf life",
    NotEnoughStock => "not_enough_stock": "there is not that much of the lot in that place",
    // Loading.
    OverPayload => "over_payload": "the loading list weighs more than the departure's payload",
    OverVolume => "over_volume": "the loading list takes more volume than the departure has",
    OverColdVolume => "over_cold_volume": "the cold-chain goods take more cold volume than the departure has",
    DangerousGoodsRefused => "dangerous_goods_refused": "the departure does not accept dangerous goods",
    EarmarkExcludesDestination => "earmark_excludes_destination": "the lot's earmark does not allow the destination's country",
    RequestMismatch => "request_mismatch": "the request named is for another destination or item",
    RequestCancelled => "request_cancelled": "the request named is cancelled",
    // Receipts and deliveries.
    CountedOverLoaded => "counted_over_loaded": "more was counted as received than was loaded",
    CorrectionOverEntry => "correction_over_entry": "a correction reverses at most what is left of its journal entry",
    // Files.
    FileUnreadable => "file_unreadable": "the file cannot be read",
    FileEmpty => "file_empty": "the file is empty",
    NotUtf8 => "not_utf8": "the text is not valid UTF-8",
    NotJson => "not_json": "the file is not valid JSON of the expected shape",
    MissingColumn => "missing_column": "a required column is missing from the header",
    DuplicateColumn => "duplicate_column": "a column appears twice in the header",
    BadRow => "bad_row": "the row cannot be read",
    // Master data.
    BadLocode => "bad_locode": "a UN/LOCODE is two letters of country and three letters or digits 2-9 of place",
    ValueNotPositive => "value_not_positive": "the value must be above 0 (kg and m³ per unit, units per pack)",
    BadGtin => "bad_gtin": "a GTIN is 8, 12, 13 or 14 digits whose last is the GS1 check digit",
    DuplicateGtin => "duplicate_gtin": "a GTIN names one item only",
    BadUnNumber => "bad_un_number": "a UN number is `UN` and four digits, such as UN3481",
    BadUnClass => "bad_un_class": "a dangerous-goods class is 1 to 9 with an optional division, such as 9 or 4.1, and goes with a UN number",
    UnknownCategory => "unknown_category": "an item's category is food, shelter, wash, health, nutrition, logistics or energy",
    NotAnOrganisationKind => "not_an_organisation_kind": "an organisation is a donor or a recipient",
    BadAirportCode => "bad_airport_code": "an IATA code is 3 letters, an ICAO code 4 letters or digits",
    CountryMismatch => "country_mismatch": "a destination's country is the first two letters of its UN/LOCODE",
    ShelfLifeNeedsExpiry => "shelf_life_needs_expiry": "a minimum shelf life needs lots with an expiry date",
    // What-if scenarios.
    SyntaxError => "syntax_error": "the document is not valid JSON or TOML",
    WrongFormat => "wrong_format": "the document names another format than the one expected",
    UnknownField => "unknown_field": "the document has a field its format does not know",
    UnknownChangeKind => "unknown_change_kind": "a scenario's change is of a kind what-if does not know",
    UnknownReference => "unknown_reference": "the name is not one of the hub's nodes, departures, legs, pledges, destinations or items",
    DuplicateName => "duplicate_name": "the name is already used where it must be unique",
    // The ledger's own rules, when an operation reaches them.
    LedgerRule => "ledger_rule": "the ledger refused the movement (a rule of the ledger itself)",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem: the rule broken, the field and value, the rule in English,
/// and the figures the rule names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: Code,
    /// The field, as the API names it: `quantity`, `lines[2].lot_id`.
    pub field: String,
    pub value: String,
    /// The rule in English, with the figures in it.
    pub rule: String,
    /// The figures of the rule by name (`available`, `needed`, `status`),
    /// so that a translation can say them.
    pub params: Vec<(&'static str, String)>,
}

impl Problem {
    pub fn new(
        code: Code,
        field: impl Into<String>,
        value: impl ToString,
        rule: impl Into<String>,
    ) -> Problem {
        Problem {
            code,
            field: field.into(),
            value: value.to_string().chars().take(200).collect(),
            rule: rule.into(),
            params: Vec::new(),
        }
    }

    /// Adds a named figure.
    pub fn with(mut self, name: &'static str, value: impl ToString) -> Problem {
        self.params.push((name, value.to_string()));
        self
    }

    /// The field as a person reads it: `lines[2].quantity` is `line 3,
    /// quantity`.
    pub fn field_in_words(&self) -> String {
        field_in_words(&self.field)
    }
}

/// `lines[2].quantity` -> `line 3, field `quantity``; `reason` -> `field
/// `reason``.
pub fn field_in_words(field: &str) -> String {
    let mut places = Vec::new();
    let mut name = String::new();
    for part in field.split('.') {
        match part.split_once('[') {
            Some((list, rest)) => match rest.trim_end_matches(']').parse::<u64>() {
                Ok(n) => places.push(format!(
                    "{} {}",
                    list.strip_suffix('s').unwrap_or(list),
                    n + 1
                )),
                Err(_) => name = part.to_string(),
            },
            None => name = part.to_string(),
        }
    }
    if !name.is_empty() {
        places.push(format!("field `{name}`"));
    }
    places.join(", ")
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let place = self.field_in_words();
        if !place.is_empty() {
            write!(f, "{place}, ")?;
        }
        if !self.value.is_empty() {
            write!(f, "value `{}`: ", self.value)?;
        }
        write!(f, "{} [{}]", self.rule, self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{text}"
            );
            assert!(seen.insert(text), "{text} twice");
            assert_eq!(Code::parse(text), Some(*code));
            assert!(!code.meaning().is_empty());
        }
    }

    #[test]
    fn fields_read_as_words() {
        assert_eq!(
            field_in_words("lines[2].quantity"),
            "line 3, field `quantity`"
        );
        assert_eq!(field_in_words("quantity"), "field `quantity`");
        assert_eq!(field_in_words("lots[0]"), "lot 1");
    }
}
