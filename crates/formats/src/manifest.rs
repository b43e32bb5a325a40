//! Inbound manifests: the lines of a sailing or flight, as CSV or JSON.
//!
//! Columns are found by header name (`item`, `quantity`, `batch`, `expiry`,
//! `packs`, `donor`, `earmark`, with a few common synonyms). An optional
//! second header row of HXL hashtags (`#item`, `#quantity`, `#meta+batch`,
//! `#date+expiry`, `#meta+packs`, `#org+funder`, `#country+code+dest`) is
//! accepted, and a file whose only header row is hashtags is read by them.
//!
//! The reader streams: it holds one record at a time, checks every line
//! against the rules the caller passes, collects every problem (up to
//! [`crate::PROBLEMS_MAX`]) with its line, field, value and rule, and hands
//! each valid line to a callback. A caller that must not write anything
//! before the whole file is known to be good reads it twice: once to check,
//! once to apply.

use std::collections::HashSet;
use std::io::Read;

use reliefhub_core::domain::parse_date;
use reliefhub_core::ledger::QUANTITY_MAX;
use reliefhub_core::Code;
use time::Date;

use crate::{InputError, InputProblem, Problems};

/// A file format for manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFormat {
    Csv,
    Json,
}

impl ManifestFormat {
    /// Guesses the format from a file name: `.json` is JSON, anything else CSV.
    pub fn from_file_name(name: &str) -> ManifestFormat {
        if name.to_ascii_lowercase().ends_with(".json") {
            ManifestFormat::Json
        } else {
            ManifestFormat::Csv
        }
    }
}

/// What a manifest line is checked against.
#[derive(Debug, Clone, Default)]
pub struct ManifestRules {
    /// Catalogue item codes.
    pub items: HashSet<String>,
    /// Donor organisation codes.
    pub donors: HashSet<String>,
    /// The donor of lines whose donor cell is empty (the leg's donor).
    pub default_donor: Option<String>,
    /// Items whose lots must carry an expiry date.
    pub items_needing_expiry: HashSet<String>,
    /// Country codes known besides the built-in ISO 3166-1 list (imported).
    pub countries: HashSet<String>,
}

/// One valid manifest line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestLine {
    /// The line in the file where the record starts (CSV), or the 1-based
    /// position of the entry in the `lines` array (JSON).
    pub line: u64,
    pub item: String,
    pub quantity: i64,
    pub batch: String,
    pub expiry: Option<Date>,
    pub packs: Option<i64>,
    pub donor: String,
    /// ISO 3166-1 alpha-2 codes; empty allows every destination.
    pub earmark: Vec<String>,
}

/// What a successful read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ManifestSummary {
    pub lines: u64,
    pub total_quantity: i64,
}

/// Why a read failed: the input was bad, or the callback failed.
#[derive(Debug)]
pub enum ReadError<E> {
    Input(InputError),
    Sink(E),
}

/// The longest JSON manifest read (JSON is read whole; use CSV for large files).
pub const JSON_BYTES_MAX: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Item,
    Quantity,
    Batch,
    Expiry,
    Packs,
    Donor,
    Earmark,
}

const FIELDS: [Field; 7] = [
    Field::Item,
    Field::Quantity,
    Field::Batch,
    Field::Expiry,
    Field::Packs,
    Field::Donor,
    Field::Earmark,
];

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Item => "item",
            Field::Quantity => "quantity",
            Field::Batch => "batch",
            Field::Expiry => "expiry",
            Field::Packs => "packs",
            Field::Donor => "donor",
            Field::Earmark => "earmark",
        }
    }

    fn from_header(name: &str) -> Option<Field> {
        let normal: String = name
            .trim()
            .trim_start_matches('\u{feff}')
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c == ' ' || c == '-' { '_' } else { c })
            .collect();
        Some(match normal.as_str() {
            "item" | "item_code" => Field::Item,
            "quantity" | "qty" => Field::Quantity,
            "batch" | "lot" | "batch_number" => Field::Batch,
            "expiry" | "expiry_date" | "best_before" => Field::Expiry,
            "packs" | "pallets" | "pack_count" => Field::Packs,
            "donor" | "funder" => Field::Donor,
            "earmark" | "earmarked_for" => Field::Earmark,
            _ => return None,
        })
    }

    /// The field an HXL hashtag (with attributes) stands for.
    fn from_hashtag(tag: &str) -> Option<Field> {
        let lower = tag.trim().to_ascii_lowercase();
        let mut parts = lower.trim_start_matches('#').split('+').map(str::trim);
        let base = parts.next()?;
        let attributes: HashSet<&str> = parts.collect();
        let has = |a: &str| attributes.contains(a);
        Some(match base {
            "item" => Field::Item,
            "value" | "meta" if has("packs") => Field::Packs,
            "quantity" => Field::Quantity,
            "value" => Field::Quantity,
            "meta" if has("batch") || has("lot") => Field::Batch,
            "date" if has("expiry") => Field::Expiry,
            "org" if has("funder") || has("donor") => Field::Donor,
            "country" if has("dest") || has("earmark") => Field::Earmark,
            _ => return None,
        })
    }
}

fn is_hashtag_row(cells: &[String]) -> bool {
    cells.iter().any(|c| c.trim().starts_with('#'))
        && cells
            .iter()
            .all(|c| c.trim().is_empty() || c.trim().starts_with('#'))
}

/// Checks the cells of one record and builds the line, or records problems.
struct LineChecker<'a> {
    rules: &'a ManifestRules,
}

impl LineChecker<'_> {
    fn check<'c>(
        &self,
        line: u64,
        cell: impl Fn(Field) -> Option<&'c str>,
        problems: &mut Problems,
    ) -> Option<ManifestLine> {
        // Problems of this line are gathered apart, to know if it is valid.
        let mut line_problems = Problems::default();
        let problems_all = problems;
        let problems = &mut line_problems;
        let text = |field: Field| cell(field).map_or("", str::trim);

        let item = text(Field::Item);
        if item.is_empty() {
            problems.push(Code::Required, line, "item", "", "an item code is required");
        } else if !self.rules.items.contains(item) {
            problems.push(
                Code::UnknownItem,
                line,
                "item",
                item,
                "unknown item code: not in the catalogue",
            );
        }

        let quantity_text = text(Field::Quantity);
        let quantity = parse_quantity(quantity_text);
        if let Err(rule) = &quantity {
            problems.push(
                quantity_code(quantity_text),
                line,
                "quantity",
                quantity_text,
                rule.clone(),
            );
        }

        let batch = text(Field::Batch);
        if batch.len() > 100 && batch.chars().count() > 100 {
            problems.push(
                Code::TextTooLong,
                line,
                "batch",
                batch,
                "a batch is at most 100 characters",
            );
        }

        let expiry_text = text(Field::Expiry);
        let expiry = if expiry_text.is_empty() {
            None
        } else {
            let parsed = parse_date(expiry_text);
            if parsed.is_none() {
                problems.push(
                    Code::NotADate,
                    line,
                    "expiry",
                    expiry_text,
                    "not a date: write it as YYYY-MM-DD, such as 2027-06-30",
                );
            }
            parsed
        };
        if expiry_text.is_empty() && self.rules.items_needing_expiry.contains(item) {
            problems.push(
                Code::ExpiryRequired,
                line,
                "expiry",
                "",
                format!("item `{item}` is perishable: each lot needs an expiry date"),
            );
        }

        let packs_text = text(Field::Packs);
        let packs = if packs_text.is_empty() {
            None
        } else {
            match packs_text.parse::<i64>() {
                Ok(n) if n >= 0 => Some(n),
                _ => {
                    problems.push(
                        Code::NotAWholeNumber,
                        line,
                        "packs",
                        packs_text,
                        "packs must be a whole number of 0 or more",
                    );
                    None
                }
            }
        };

        let donor_cell = text(Field::Donor);
        let donor = if donor_cell.is_empty() {
            match &self.rules.default_donor {
                Some(donor) => donor.as_str(),
                None => {
                    problems.push(
                        Code::Required,
                        line,
                        "donor",
                        "",
                        "a donor is required (the leg names no donor)",
                    );
                    ""
                }
            }
        } else {
            donor_cell
        };
        if !donor.is_empty() && !self.rules.donors.contains(donor) {
            problems.push(
                Code::UnknownDonor,
                line,
                "donor",
                donor,
                "unknown donor organisation code",
            );
        }

        let earmark_text = text(Field::Earmark);
        let mut earmark = Vec::new();
        for code in earmark_text
            .split(|c: char| c == ';' || c == ',' || c == '|' || c.is_whitespace())
            .filter(|c| !c.is_empty())
        {
            let upper = code.to_ascii_uppercase();
            let country = upper.len() == 2
                && (reliefhub_core::reference::is_country_code(&upper)
                    || self.rules.countries.contains(&upper));
            if country {
                earmark.push(upper);
            } else {
                problems.push(
                    Code::EarmarkNotACountry, line,
                    "earmark",
                    code,
                    "not an ISO 3166-1 alpha-2 code of a country: an earmark lists countries, such as SD;TD",
                );
            }
        }
        earmark.sort();
        earmark.dedup();

        if !line_problems.is_empty() {
            for p in line_problems.into_error("").problems {
                problems_all.keep(InputProblem {
                    record: problems_all.record(),
                    ..p
                });
            }
            return None;
        }
        Some(ManifestLine {
            line,
            item: item.to_string(),
            quantity: quantity.ok()?,
            batch: batch.to_string(),
            expiry,
            packs,
            donor: donor.to_string(),
            earmark,
        })
    }
}

/// The rule a quantity text breaks.
fn quantity_code(text: &str) -> Code {
    match text.parse::<i64>() {
        _ if text.is_empty() => Code::Required,
        Ok(n) if n <= 0 => Code::QuantityNotPositive,
        Ok(_) => Code::QuantityTooLarge,
        Err(_) if text.bytes().all(|b| b.is_ascii_digit() || b == b'+') => Code::QuantityTooLarge,
        Err(_) => Code::NotAWholeNumber,
    }
}

fn parse_quantity(text: &str) -> Result<i64, String> {
    if text.is_empty() {
        return Err("a quantity is required".to_string());
    }
    if !text
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
    {
        return Err(
            "a quantity must be a whole number of units, written with digits only".to_string(),
        );
    }
    match text.parse::<i64>() {
        Ok(n) if n > 0 && n <= QUANTITY_MAX => Ok(n),
        Ok(_) => Err(format!("a quantity must be from 1 to {QUANTITY_MAX} units")),
        Err(_) => Err(format!(
            "a quantity must be a whole number from 1 to {QUANTITY_MAX}"
        )),
    }
}

/// Reads a manifest, checks every line, and calls `each` for every valid
/// line in file order. Fails with every problem found if any line is bad
/// (the callback may have seen the valid lines by then: check first, then
/// apply). Never panics on any input.
pub fn read_manifest<R: Read, E>(
    input: R,
    format: ManifestFormat,
    file: &str,
    rules: &ManifestRules,
    each: impl FnMut(ManifestLine) -> Result<(), E>,
) -> Result<ManifestSummary, ReadError<E>> {
    match format {
        ManifestFormat::Csv => read_csv(input, file, rules, each),
        ManifestFormat::Json => read_json(input, file, rules, each),
    }
}

fn cell_text(bytes: &[u8]) -> Result<String, String> {
    std::str::from_utf8(bytes)
        .map(str::to_string)
        .map_err(|_| String::from_utf8_lossy(bytes).into_owned())
}

/// Where the lines with content begin in a stream, so that a record's byte
/// offset gives its line: the CSV reader's own line count is off after CRLF
/// line ends. Holds only the lines read ahead of the parser (a buffer's
/// worth).
struct LineStarts {
    /// (byte offset, 1-based line) of each line that does not begin with a
    /// line end, not yet passed by the parser.
    pending: std::collections::VecDeque<(u64, u64)>,
    read_bytes: u64,
    line: u64,
    at_line_start: bool,
}

impl Default for LineStarts {
    fn default() -> LineStarts {
        LineStarts {
            pending: std::collections::VecDeque::new(),
            read_bytes: 0,
            line: 1,
            at_line_start: true,
        }
    }
}

impl LineStarts {
    fn note(&mut self, bytes: &[u8]) {
        for (index, byte) in bytes.iter().enumerate() {
            if *byte == b'\n' {
                self.line += 1;
                self.at_line_start = true;
            } else if self.at_line_start && *byte != b'\r' {
                self.pending
                    .push_back((self.read_bytes + index as u64, self.line));
                self.at_line_start = false;
            }
        }
        self.read_bytes += bytes.len() as u64;
    }

    /// The line of a record the CSV reader says begins at `offset` (offsets
    /// only grow): the first line with content at or after it. After a CRLF
    /// line end (and the empty lines it skips) the reader puts a record's
    /// start before its first byte.
    fn line_at(&mut self, offset: u64) -> u64 {
        while self
            .pending
            .front()
            .is_some_and(|(start, _)| *start < offset)
        {
            self.pending.pop_front();
        }
        self.pending.front().map_or(self.line, |(_, line)| *line)
    }
}

/// A reader that notes where the lines with content begin.
struct Counting<R> {
    inner: R,
    starts: std::rc::Rc<std::cell::RefCell<LineStarts>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.starts.borrow_mut().note(&buf[..n]);
        Ok(n)
    }
}

fn read_csv<R: Read, E>(
    input: R,
    file: &str,
    rules: &ManifestRules,
    mut each: impl FnMut(ManifestLine) -> Result<(), E>,
) -> Result<ManifestSummary, ReadError<E>> {
    let starts = std::rc::Rc::new(std::cell::RefCell::new(LineStarts::default()));
    let line_of = |position: Option<&csv::Position>| {
        position.map_or(1, |p| starts.borrow_mut().line_at(p.byte()))
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(Counting {
            inner: input,
            starts: std::rc::Rc::clone(&starts),
        });
    let mut problems = Problems::default();
    let fail = |problems: Problems| ReadError::Input(problems.into_error(file));
    let mut record = csv::ByteRecord::new();

    // The header row, then perhaps a row of HXL hashtags.
    // Reads one row; cells that are not UTF-8 come back lossy, with their indices.
    type Row = (u64, Vec<String>, Vec<usize>);
    let read_row = |reader: &mut csv::Reader<Counting<R>>,
                    record: &mut csv::ByteRecord,
                    problems: &mut Problems|
     -> Option<Row> {
        match reader.read_byte_record(record) {
            Ok(true) => {
                let line = line_of(record.position());
                let mut cells = Vec::with_capacity(record.len());
                let mut bad = Vec::new();
                for (index, bytes) in record.iter().enumerate() {
                    match cell_text(bytes) {
                        Ok(text) => cells.push(text),
                        Err(lossy) => {
                            bad.push(index);
                            cells.push(lossy);
                        }
                    }
                }
                if let Some(first) = cells.first_mut() {
                    *first = first.trim_start_matches('\u{feff}').to_string();
                }
                Some((line, cells, bad))
            }
            Ok(false) => None,
            Err(e) => {
                problems.push(
                    Code::BadRow,
                    line_of(e.position()),
                    "(row)",
                    "",
                    format!("not a readable CSV row: {e}"),
                );
                None
            }
        }
    };
    let utf8_rule = "not valid UTF-8 text: save the file as UTF-8";
    let Some((_, header, bad_header)) = read_row(&mut reader, &mut record, &mut problems) else {
        if problems.is_empty() {
            problems.push(
                Code::FileEmpty,
                1,
                "(header)",
                "",
                "the file is empty: a header row is required",
            );
        }
        return Err(fail(problems));
    };
    for index in bad_header {
        problems.push(
            Code::NotUtf8,
            1,
            &format!("column {}", index + 1),
            &header[index],
            utf8_rule,
        );
    }
    let mut columns: [Option<usize>; 7] = [None; 7];
    let mut pending_first: Option<Row> = None;
    let mut hashtags: Option<Vec<String>> = None;
    if is_hashtag_row(&header) {
        hashtags = Some(header.clone());
    } else {
        for (index, name) in header.iter().enumerate() {
            if let Some(field) = Field::from_header(name) {
                let slot = &mut columns[field as usize];
                if slot.is_some() {
                    problems.push(
                        Code::DuplicateColumn,
                        1,
                        name,
                        name,
                        "the column appears twice in the header",
                    );
                }
                *slot = Some(index);
            }
        }
        match read_row(&mut reader, &mut record, &mut problems) {
            Some((line, row, bad)) if is_hashtag_row(&row) => {
                for index in bad {
                    problems.push(
                        Code::NotUtf8,
                        line,
                        &format!("column {}", index + 1),
                        &row[index],
                        utf8_rule,
                    );
                }
                hashtags = Some(row);
            }
            other => pending_first = other,
        }
    }
    if let Some(tags) = &hashtags {
        for (index, tag) in tags.iter().enumerate() {
            if let Some(field) = Field::from_hashtag(tag) {
                let slot = &mut columns[field as usize];
                match slot {
                    Some(existing) if *existing != index => problems.push(
                        Code::DuplicateColumn,
                        2,
                        tag,
                        tag,
                        format!(
                            "hashtag names the `{}` field, which column {} already holds",
                            field.name(),
                            *existing + 1
                        ),
                    ),
                    _ => *slot = Some(index),
                }
            }
        }
    }
    for field in [Field::Item, Field::Quantity] {
        if columns[field as usize].is_none() {
            problems.push(
                Code::MissingColumn,
                1,
                field.name(),
                "",
                "required column is missing from the header (by name, or by HXL hashtag)",
            );
        }
    }
    if columns[Field::Donor as usize].is_none() && rules.default_donor.is_none() {
        problems.push(
            Code::MissingColumn,
            1,
            "donor",
            "",
            "required column is missing: the leg names no donor, so each line must",
        );
    }
    if !problems.is_empty() {
        return Err(fail(problems));
    }

    let checker = LineChecker { rules };
    let mut summary = ManifestSummary::default();
    let width = header.len();
    let mut records = 0_u64;
    let mut handle = |line: u64,
                      cells: &[&str],
                      problems: &mut Problems,
                      summary: &mut ManifestSummary|
     -> Result<(), E> {
        if cells.iter().all(|c| c.trim().is_empty()) {
            return Ok(());
        }
        problems.at_record(Some(records));
        records += 1;
        if cells.len() != width {
            problems.push(
                Code::RaggedRow,
                line,
                "(row)",
                &cells.join(","),
                format!(
                    "the row has {} fields, the header {}: every row has one field per column",
                    cells.len(),
                    width
                ),
            );
            return Ok(());
        }
        let get = |field: Field| columns[field as usize].and_then(|i| cells.get(i).copied());
        if let Some(parsed) = checker.check(line, get, problems) {
            summary.lines += 1;
            summary.total_quantity = summary.total_quantity.saturating_add(parsed.quantity);
            each(parsed)?;
        }
        Ok(())
    };
    let column_name = |index: usize| {
        columns.iter().position(|c| *c == Some(index)).map_or_else(
            || format!("column {}", index + 1),
            |f| FIELDS[f].name().to_string(),
        )
    };
    if let Some((line, cells, bad)) = pending_first {
        if bad.is_empty() {
            let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
            handle(line, &cells, &mut problems, &mut summary).map_err(ReadError::Sink)?;
        }
        for index in bad {
            problems.push(
                Code::NotUtf8,
                line,
                &column_name(index),
                &cells[index],
                utf8_rule,
            );
        }
    }
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = line_of(record.position());
                let mut cells: Vec<&str> = Vec::with_capacity(record.len());
                let mut readable = true;
                for (index, bytes) in record.iter().enumerate() {
                    match std::str::from_utf8(bytes) {
                        Ok(text) => cells.push(text),
                        Err(_) => {
                            let lossy = String::from_utf8_lossy(bytes);
                            problems.push(
                                Code::NotUtf8,
                                line,
                                &column_name(index),
                                &lossy,
                                utf8_rule,
                            );
                            readable = false;
                        }
                    }
                }
                if readable {
                    handle(line, &cells, &mut problems, &mut summary).map_err(ReadError::Sink)?;
                }
            }
            Err(e) => {
                let line = line_of(e.position());
                problems.push(
                    Code::BadRow,
                    line,
                    "(row)",
                    "",
                    format!("not a readable CSV row: {e}"),
                );
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    // An IO error does not go away by reading on.
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        break;
                    }
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    if summary.lines == 0 {
        problems.push(Code::NoLines, 2, "(rows)", "", "the manifest has no lines");
        return Err(fail(problems));
    }
    Ok(summary)
}

fn json_scalar(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .filter_map(json_scalar)
                .collect::<Vec<_>>()
                .join(";"),
        ),
        serde_json::Value::Object(_) => Some("{…}".to_string()),
    }
}

/// The line (1-based) on which each entry of a JSON manifest's lines array
/// begins: the top-level array, or the `lines` array of the top-level
/// object. The text is valid JSON (it was parsed before).
fn entry_lines(text: &[u8]) -> Vec<u64> {
    let mut starts = Vec::new();
    let mut line = 1_u64;
    // Containers open around the current position: `[` or `{`.
    let mut stack: Vec<u8> = Vec::new();
    // The depth of the lines array once found (1 for a top-level array).
    let mut target: Option<usize> = None;
    let mut in_string = false;
    let mut escaped = false;
    // At depth 1 of the top-level object: the last key read.
    let mut key = Vec::new();
    let mut reading_key = false;
    // The next value at the target depth begins an entry.
    let mut expect_value = false;
    for &byte in text {
        if byte == b'\n' {
            line += 1;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
                reading_key = false;
            } else if reading_key {
                key.push(byte);
            }
            continue;
        }
        if byte.is_ascii_whitespace() || byte == b':' {
            continue;
        }
        let depth = stack.len();
        if expect_value && Some(depth) == target {
            starts.push(line);
            expect_value = false;
        }
        match byte {
            b'"' => {
                in_string = true;
                // At depth 1 of the top-level object every string is read
                // as a key: the last one before a `[` names that array.
                if depth == 1 && stack[0] == b'{' {
                    key.clear();
                    reading_key = true;
                }
            }
            b'[' | b'{' => {
                stack.push(byte);
                if target.is_none()
                    && byte == b'['
                    && (stack.len() == 1 || (stack.len() == 2 && key == b"lines"))
                {
                    target = Some(stack.len());
                    expect_value = true;
                }
            }
            b']' | b'}' => {
                if Some(stack.len()) == target {
                    // The array ended: an empty `[]` started no entry.
                    return starts;
                }
                stack.pop();
            }
            b',' if Some(depth) == target => expect_value = true,
            _ => {}
        }
    }
    starts
}

fn read_json<R: Read, E>(
    input: R,
    file: &str,
    rules: &ManifestRules,
    mut each: impl FnMut(ManifestLine) -> Result<(), E>,
) -> Result<ManifestSummary, ReadError<E>> {
    let mut problems = Problems::default();
    let mut bytes = Vec::new();
    if let Err(e) = input.take(JSON_BYTES_MAX + 1).read_to_end(&mut bytes) {
        problems.push(
            Code::FileUnreadable,
            0,
            "(file)",
            "",
            format!("cannot read the file: {e}"),
        );
        return Err(ReadError::Input(problems.into_error(file)));
    }
    if bytes.len() as u64 > JSON_BYTES_MAX {
        problems.push(
            Code::FileUnreadable,
            0,
            "(file)",
            "",
            format!(
                "a JSON manifest may be at most {JSON_BYTES_MAX} bytes; use CSV for larger ones"
            ),
        );
        return Err(ReadError::Input(problems.into_error(file)));
    }
    let text = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    let document: serde_json::Value = match serde_json::from_slice(text) {
        Ok(value) => value,
        Err(e) => {
            problems.push(
                Code::NotJson,
                e.line() as u64,
                "(document)",
                "",
                format!("not valid JSON: {e}"),
            );
            return Err(ReadError::Input(problems.into_error(file)));
        }
    };
    let entries = match &document {
        serde_json::Value::Array(entries) => Some(entries),
        serde_json::Value::Object(map) => match map.get("lines") {
            Some(serde_json::Value::Array(entries)) => Some(entries),
            _ => None,
        },
        _ => None,
    };
    let Some(entries) = entries else {
        problems.push(
            Code::NotJson,
            1,
            "lines",
            "",
            "a JSON manifest is an array of lines, or an object with a `lines` array",
        );
        return Err(ReadError::Input(problems.into_error(file)));
    };
    let checker = LineChecker { rules };
    let mut summary = ManifestSummary::default();
    let starts = entry_lines(text);
    for (position, entry) in entries.iter().enumerate() {
        // The line of the file where the entry begins, as for CSV rows.
        let line = starts.get(position).copied().unwrap_or(position as u64 + 1);
        problems.at_record(Some(position as u64));
        let Some(object) = entry.as_object() else {
            problems.push(
                Code::NotJson,
                line,
                "(line)",
                "",
                "each line must be a JSON object",
            );
            continue;
        };
        let mut fields: [Option<String>; 7] = Default::default();
        for (name, value) in object {
            if let Some(field) = Field::from_header(name) {
                fields[field as usize] = json_scalar(value);
            }
        }
        if let Some(mut parsed) =
            checker.check(line, |f| fields[f as usize].as_deref(), &mut problems)
        {
            // Problems name the file's line; the manifest numbers a JSON
            // manifest's lines by their position (entries may share a line).
            parsed.line = position as u64 + 1;
            summary.lines += 1;
            summary.total_quantity = summary.total_quantity.saturating_add(parsed.quantity);
            each(parsed).map_err(ReadError::Sink)?;
        }
    }
    if summary.lines == 0 && problems.is_empty() {
        problems.push(Code::NoLines, 1, "lines", "", "the manifest has no lines");
    }
    if !problems.is_empty() {
        return Err(ReadError::Input(problems.into_error(file)));
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> ManifestRules {
        ManifestRules {
            items: ["HEB-10KG".to_string()].into_iter().collect(),
            donors: ["QA-QFFD".to_string()].into_iter().collect(),
            default_donor: None,
            items_needing_expiry: HashSet::new(),
            countries: HashSet::new(),
        }
    }

    fn read(text: &[u8], format: ManifestFormat) -> Result<Vec<ManifestLine>, InputError> {
        let mut lines = Vec::new();
        match read_manifest(text, format, "m.csv", &rules(), |l| {
            lines.push(l);
            Ok::<(), ()>(())
        }) {
            Ok(_) => Ok(lines),
            Err(ReadError::Input(e)) => Err(e),
            Err(ReadError::Sink(())) => unreachable!(),
        }
    }

    #[test]
    fn hashtag_row_and_synonyms_are_read() {
        let text = b"Item code,Qty,Lot,Expiry date,Funder,Earmarked for\n#item+code,#quantity,#meta+batch,#date+expiry,#org+funder,#country+code+dest\nHEB-10KG,5,B1,2027-01-31,QA-QFFD,sd;td\n";
        let lines = read(text, ManifestFormat::Csv).expect("valid");
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].line, 3);
        assert_eq!(lines[0].earmark, vec!["SD".to_string(), "TD".to_string()]);
    }

    #[test]
    fn hashtags_alone_are_a_header() {
        let text = b"#item,#value,#org+funder\nHEB-10KG,7,QA-QFFD\n";
        let lines = read(text, ManifestFormat::Csv).expect("valid");
        assert_eq!(lines[0].quantity, 7);
    }

    #[test]
    fn json_lines_are_read_and_checked() {
        let text = br#"{"lines":[{"item":"HEB-10KG","quantity":3,"donor":"QA-QFFD","earmark":["SD"]},{"item":"X","quantity":1.5,"donor":"QA-QFFD"}]}"#;
        let error = read(text, ManifestFormat::Json).expect_err("bad");
        assert_eq!(error.problems.len(), 2, "{error}");
        // The file's line (the whole document is one line) and the entry.
        assert_eq!(error.problems[0].line, 1);
        assert_eq!(error.problems[0].record, Some(1));
    }

    /// The line of a problem is the line of the file where its record
    /// begins, whatever the line ends (LF, CRLF) and for CSV and JSON alike.
    #[test]
    fn problems_name_the_same_line_for_every_line_ending() {
        let cases: &[(&str, ManifestFormat, &str, u64, u64)] = &[
            // name, format, text (LF), line of the bad record, its record
            ("csv", ManifestFormat::Csv, "item,quantity\nHEB-10KG,1\nHEB-10KG,x\n", 3, 1),
            ("csv-hashtags", ManifestFormat::Csv, "item,quantity\n#item,#quantity\nHEB-10KG,1\nHEB-10KG,x\n", 4, 1),
            ("csv-quoted-break", ManifestFormat::Csv, "item,quantity,batch\nHEB-10KG,1,\"a\nb\"\nHEB-10KG,x,c\n", 4, 1),
            ("csv-empty-line", ManifestFormat::Csv, "item,quantity\n\nHEB-10KG,1\n\nHEB-10KG,x\n", 5, 1),
            ("json-array", ManifestFormat::Json, "[\n  {\"item\": \"HEB-10KG\", \"quantity\": 1},\n  {\"item\": \"HEB-10KG\", \"quantity\": \"x\"}\n]\n", 3, 1),
            ("json-object", ManifestFormat::Json, "{\"note\": \"[lines]\", \"lines\": [\n  {\"item\": \"HEB-10KG\", \"quantity\": 1},\n\n  {\"item\": \"HEB-10KG\",\n   \"quantity\": \"x\"}\n]}\n", 4, 1),
        ];
        let mut checked = 0;
        for (name, format, text, line, record) in cases {
            let rules = ManifestRules {
                default_donor: Some("QA-QFFD".into()),
                ..rules()
            };
            for ending in ["\n", "\r\n"] {
                let text = text.replace('\n', ending);
                let error = match read_manifest(text.as_bytes(), *format, "m", &rules, |_| {
                    Ok::<(), ()>(())
                }) {
                    Err(ReadError::Input(e)) => e,
                    other => panic!("{name}: not refused: {other:?}"),
                };
                assert_eq!(error.problems.len(), 1, "{name} {ending:?}: {error}");
                assert_eq!(error.problems[0].line, *line, "{name} {ending:?}: {error}");
                assert_eq!(error.problems[0].record, Some(*record), "{name} {ending:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 2 * cases.len());
    }

    #[test]
    fn ragged_rows_and_missing_expiry_are_refused() {
        let rules = ManifestRules {
            default_donor: Some("QA-QFFD".into()),
            items_needing_expiry: ["HEB-10KG".to_string()].into_iter().collect(),
            ..rules()
        };
        let cases: &[(&str, Code)] = &[
            ("item,quantity,expiry\nHEB-10KG,60\n", Code::RaggedRow),
            (
                "item,quantity,expiry\nHEB-10KG,60,2027-01-01,9\n",
                Code::RaggedRow,
            ),
            ("item,quantity,expiry\nHEB-10KG,60,\n", Code::ExpiryRequired),
            (
                "item,quantity,earmark,expiry\nHEB-10KG,60,XX,2027-01-01\n",
                Code::EarmarkNotACountry,
            ),
        ];
        for (text, code) in cases {
            match read_manifest(text.as_bytes(), ManifestFormat::Csv, "m", &rules, |_| {
                Ok::<(), ()>(())
            }) {
                Err(ReadError::Input(e)) => {
                    assert_eq!(e.problems[0].code, *code, "{text}: {e}");
                }
                other => panic!("{text}: not refused: {other:?}"),
            }
        }
        let good = "item,quantity,earmark,expiry\nHEB-10KG,60,SD;td,2027-01-01\n";
        assert!(
            read_manifest(good.as_bytes(), ManifestFormat::Csv, "m", &rules, |_| Ok::<
                (),
                (),
            >(
                ()
            ))
            .is_ok()
        );
    }
}
