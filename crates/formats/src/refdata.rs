//! Importers for ISO 3166 `country-codes.csv` and OurAirports `airports.csv`.

use std::collections::HashMap;
use std::io::Read;

use reliefhub_core::{Airport, Code, Country};

use crate::{InputError, Problems};

/// A CSV file's header, to find columns by name.
struct Header {
    index: HashMap<String, usize>,
}

impl Header {
    fn read<R: Read>(reader: &mut csv::Reader<R>, file: &str) -> Result<Header, InputError> {
        let record = reader.headers().map_err(|e| {
            let mut problems = Problems::default();
            problems.push(
                Code::BadRow,
                1,
                "(header)",
                "",
                format!("cannot read the header: {e}"),
            );
            problems.into_error(file)
        })?;
        let index = record
            .iter()
            .enumerate()
            .map(|(i, name)| (name.trim().trim_start_matches('\u{feff}').to_string(), i))
            .collect();
        Ok(Header { index })
    }

    fn require(&self, names: &[&str], file: &str) -> Result<Vec<usize>, InputError> {
        let mut problems = Problems::default();
        let mut out = Vec::new();
        for name in names {
            match self.index.get(*name) {
                Some(i) => out.push(*i),
                None => problems.push(
                    Code::MissingColumn,
                    1,
                    name,
                    "",
                    "required column is missing from the header",
                ),
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems.into_error(file))
        }
    }
}

fn reader<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new().flexible(true).from_reader(input)
}

fn field(record: &csv::StringRecord, index: usize) -> &str {
    record.get(index).unwrap_or("").trim()
}

/// Reads ISO 3166 country codes with Arabic, French and Russian names.
/// Rows without an alpha-2 code (such as historic entries) are skipped.
pub fn read_countries<R: Read>(input: R, file: &str) -> Result<Vec<Country>, InputError> {
    let mut reader = reader(input);
    let header = Header::read(&mut reader, file)?;
    let names = [
        "ISO3166-1-Alpha-2",
        "ISO3166-1-Alpha-3",
        "ISO3166-1-numeric",
        "official_name_en",
        "official_name_fr",
        "official_name_ar",
        "official_name_ru",
    ];
    let columns = header.require(&names, file)?;
    let mut problems = Problems::default();
    let mut countries = Vec::new();
    for (position, record) in reader.records().enumerate() {
        let line = position as u64 + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problems.push(
                    Code::BadRow,
                    line,
                    "(row)",
                    "",
                    format!("not a readable CSV row: {e}"),
                );
                continue;
            }
        };
        let values: Vec<&str> = columns.iter().map(|c| field(&record, *c)).collect();
        if values[0].is_empty() {
            continue;
        }
        let mut ok = true;
        if values[0].len() != 2 || !values[0].bytes().all(|b| b.is_ascii_uppercase()) {
            problems.push(
                Code::CountryUnknown,
                line,
                names[0],
                values[0],
                "must be two capital letters",
            );
            ok = false;
        }
        if values[1].len() != 3 || !values[1].bytes().all(|b| b.is_ascii_uppercase()) {
            problems.push(
                Code::CountryUnknown,
                line,
                names[1],
                values[1],
                "must be three capital letters",
            );
            ok = false;
        }
        if values[3].is_empty() {
            problems.push(
                Code::Required,
                line,
                names[3],
                values[3],
                "an English name is required",
            );
            ok = false;
        }
        if ok {
            countries.push(Country {
                alpha2: values[0].to_string(),
                alpha3: values[1].to_string(),
                numeric_code: format!("{:0>3}", values[2]),
                name_en: values[3].to_string(),
                name_fr: values[4].to_string(),
                name_ar: values[5].to_string(),
                name_ru: values[6].to_string(),
            });
        }
    }
    if problems.is_empty() {
        Ok(countries)
    } else {
        Err(problems.into_error(file))
    }
}

/// Reads OurAirports `airports.csv`. Closed airports are skipped.
pub fn read_airports<R: Read>(input: R, file: &str) -> Result<Vec<Airport>, InputError> {
    let mut reader = reader(input);
    let header = Header::read(&mut reader, file)?;
    let names = [
        "ident",
        "type",
        "name",
        "iso_country",
        "municipality",
        "iata_code",
        "latitude_deg",
        "longitude_deg",
    ];
    let columns = header.require(&names, file)?;
    let mut problems = Problems::default();
    let mut airports = Vec::new();
    for (position, record) in reader.records().enumerate() {
        let line = position as u64 + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problems.push(
                    Code::BadRow,
                    line,
                    "(row)",
                    "",
                    format!("not a readable CSV row: {e}"),
                );
                continue;
            }
        };
        let values: Vec<&str> = columns.iter().map(|c| field(&record, *c)).collect();
        if values[1] == "closed" {
            continue;
        }
        let mut ok = true;
        if values[0].is_empty() {
            problems.push(
                Code::Required,
                line,
                names[0],
                values[0],
                "an identifier is required",
            );
            ok = false;
        }
        let latitude = values[6]
            .parse::<f64>()
            .ok()
            .filter(|v| (-90.0..=90.0).contains(v));
        if latitude.is_none() {
            problems.push(
                Code::OutOfRange,
                line,
                names[6],
                values[6],
                "must be a number from -90 to 90",
            );
            ok = false;
        }
        let longitude = values[7]
            .parse::<f64>()
            .ok()
            .filter(|v| (-180.0..=180.0).contains(v));
        if longitude.is_none() {
            problems.push(
                Code::OutOfRange,
                line,
                names[7],
                values[7],
                "must be a number from -180 to 180",
            );
            ok = false;
        }
        // The public data set carries placeholders such as `0` in this
        // column; anything that is not a three-character code means "none".
        let iata = values[5];
        let iata = if iata.len() == 3 && iata.bytes().all(|b| b.is_ascii_alphanumeric()) {
            iata
        } else {
            ""
        };
        if let (true, Some(latitude_deg), Some(longitude_deg)) = (ok, latitude, longitude) {
            airports.push(Airport {
                ident: values[0].to_string(),
                kind: values[1].to_string(),
                name: values[2].to_string(),
                country: values[3].to_string(),
                municipality: values[4].to_string(),
                iata: (!iata.is_empty()).then(|| iata.to_string()),
                latitude_deg,
                longitude_deg,
            });
        }
    }
    if problems.is_empty() {
        Ok(airports)
    } else {
        Err(problems.into_error(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_found_by_name_in_any_order() {
        let csv = "official_name_ru,ISO3166-1-Alpha-3,official_name_en,ISO3166-1-Alpha-2,ISO3166-1-numeric,official_name_fr,official_name_ar\n\
                   Судан,SDN,Sudan,SD,729,Soudan,السودان\n";
        let countries = read_countries(csv.as_bytes(), "c.csv").expect("reads");
        assert_eq!(countries.len(), 1);
        assert_eq!(countries[0].alpha2, "SD");
        assert_eq!(countries[0].alpha3, "SDN");
        assert_eq!(countries[0].name_ru, "Судан");
        assert_eq!(countries[0].name_ar, "السودان");
    }

    #[test]
    fn every_bad_row_is_reported_with_line_field_and_value() {
        let csv = "ident,type,name,iso_country,municipality,iata_code,latitude_deg,longitude_deg\n\
                   HSPN,medium_airport,Port Sudan,SD,Port Sudan,PZU,19.43,37.23\n\
                   XXXX,small_airport,Bad,SD,,PZU,abc,37\n\
                   YYYY,small_airport,Bad,SD,,,10,200\n\
                   ZZZZ,small_airport,Bad,,,,,\n";
        let error = read_airports(csv.as_bytes(), "a.csv").expect_err("refused");
        let text = error.to_string();
        assert_eq!(error.problems.len(), 4, "{text}");
        assert!(
            text.contains("line 5, field `latitude_deg`, value ``"),
            "{text}"
        );
        assert!(
            text.contains("line 3, field `latitude_deg`, value `abc`"),
            "{text}"
        );
        assert!(
            text.contains("line 4, field `longitude_deg`, value `200`"),
            "{text}"
        );
    }

    #[test]
    fn a_missing_column_is_named() {
        let csv = "ident,type,name\nA,b,c\n";
        let error = read_airports(csv.as_bytes(), "a.csv").expect_err("refused");
        assert!(error.to_string().contains("field `iso_country`"), "{error}");
    }
}
