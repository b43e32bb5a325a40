//! A problem with the input, as data: a code, the field it is in, the value
//! found and the rule it breaks. The CLI prints it, the API answers it.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `syntax`, `format`, `missing`, `unknown_field`, `unknown_kind`,
    /// `unknown`, `duplicate`, `range` or `date`.
    pub code: &'static str,
    /// Where: `format`, `changes[2].days`, `random.leg_delay.spread`.
    pub field: String,
    pub value: String,
    pub rule: String,
}

impl Problem {
    pub fn new(
        code: &'static str,
        field: impl Into<String>,
        value: impl Into<String>,
        rule: impl Into<String>,
    ) -> Problem {
        Problem {
            code,
            field: field.into(),
            value: value.into(),
            rule: rule.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "field {}: {}", self.field, self.rule)
        } else {
            write!(
                f,
                "field {}, value {}: {}",
                self.field, self.value, self.rule
            )
        }
    }
}
