//! Reading and writing the field's exchange formats: reference data (ISO
//! 3166, OurAirports). Readers take any `Read`, find columns by header name,
//! check every row, and report all the problems they find with the line,
//! field, value and rule. They do no other IO.

use reliefhub_core::Code;

pub mod manifest;
pub mod refdata;

/// One problem in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputProblem {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    /// The rule broken.
    pub code: Code,
    /// The data record (0-based, the header not counted) the problem is
    /// in, when it is in one: the entry of a JSON array, the row of a CSV
    /// file.
    pub record: Option<u64>,
    pub field: String,
    pub value: String,
    pub rule: String,
}

impl std::fmt::Display for InputProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, field `{}`, value `{}`: {} [{}]",
            self.line, self.field, self.value, self.rule, self.code
        )
    }
}

/// A file that could not be read, with every problem found (up to a cap).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {} problem(s){}\n{}", problems.len(), if *truncated { " (more not shown)" } else { "" }, problems.iter().map(|p| format!("  {file}: {p}")).collect::<Vec<_>>().join("\n"))]
pub struct InputError {
    pub file: String,
    pub problems: Vec<InputProblem>,
    pub truncated: bool,
}

/// The most problems a reader lists before it stops collecting.
pub const PROBLEMS_MAX: usize = 1000;

/// Collects problems up to [`PROBLEMS_MAX`].
#[derive(Debug, Default)]
pub struct Problems {
    list: Vec<InputProblem>,
    truncated: bool,
    record: Option<u64>,
}

impl Problems {
    pub fn push(
        &mut self,
        code: Code,
        line: u64,
        field: &str,
        value: &str,
        rule: impl Into<String>,
    ) {
        if self.list.len() >= PROBLEMS_MAX {
            self.truncated = true;
            return;
        }
        self.list.push(InputProblem {
            line,
            code,
            record: self.record,
            field: field.to_string(),
            value: value.chars().take(80).collect(),
            rule: rule.into(),
        });
    }
    /// The data record problems are now pushed for.
    pub fn record(&self) -> Option<u64> {
        self.record
    }
    /// The data record the next problems are in (`None`: the file's).
    pub fn at_record(&mut self, record: Option<u64>) {
        self.record = record;
    }
    /// Keeps a problem found apart (its record and all).
    pub fn keep(&mut self, problem: InputProblem) {
        if self.list.len() >= PROBLEMS_MAX {
            self.truncated = true;
            return;
        }
        self.list.push(problem);
    }
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    pub fn into_error(self, file: &str) -> InputError {
        InputError {
            file: file.to_string(),
            problems: self.list,
            truncated: self.truncated,
        }
    }
}
