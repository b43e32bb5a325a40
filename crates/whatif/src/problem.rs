//! A problem with the input, as data: a code, the field it is in, the value
//! found and the rule it breaks. The CLI prints it, the API answers it.

use std::fmt;

use reliefhub_core::Code;
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The rule broken, one of the hub's problem codes: `syntax_error`,
    /// `wrong_format`, `required`, `unknown_field`, `unknown_change_kind`,
    /// `unknown_reference`, `duplicate_name`, `out_of_range` or
    /// `not_a_date`.
    #[serde(serialize_with = "code_text")]
    pub code: Code,
    /// Where: `format`, `changes[2].days`, `random.leg_delay.spread`.
    pub field: String,
    pub value: String,
    pub rule: String,
}

impl Problem {
    pub fn new(
        code: Code,
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

fn code_text<S: Serializer>(code: &Code, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(code.as_str())
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
