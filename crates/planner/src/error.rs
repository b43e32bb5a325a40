//! Errors at the planner's boundary: an instance or a plan that cannot be read.

use std::fmt;

/// One problem found in an input document, naming the object and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputIssue {
    /// The object, e.g. `lots[3] "L-0004"` or `instance`.
    pub object: String,
    /// The field of that object, e.g. `quantity`.
    pub field: String,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

impl fmt::Display for InputIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: field `{}`: {}",
            self.object, self.field, self.message
        )
    }
}

/// An instance that cannot be planned: malformed JSON, a wrong format tag or
/// inconsistent data. Every problem found is listed, not only the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstanceError {
    /// The text is not JSON at all.
    #[error("instance is not valid JSON: {message} (line {line}, column {column})")]
    Json {
        /// The parser's message.
        message: String,
        /// Line of the error, counted from 1.
        line: usize,
        /// Column of the error, counted from 1.
        column: usize,
    },
    /// The JSON was read but some objects break the format's rules.
    #[error("{} problem(s) in the instance:\n{}", .0.len(), render(.0))]
    Invalid(Vec<InputIssue>),
}

impl InstanceError {
    /// The individual problems (one for malformed JSON).
    pub fn issues(&self) -> Vec<InputIssue> {
        match self {
            InstanceError::Json {
                message,
                line,
                column,
            } => vec![InputIssue {
                object: "instance".to_string(),
                field: "(document)".to_string(),
                message: format!("not valid JSON: {message} (line {line}, column {column})"),
            }],
            InstanceError::Invalid(issues) => issues.clone(),
        }
    }
}

/// A plan document that cannot be read at all (as opposed to an infeasible plan,
/// which the checker reports as violations).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plan is not readable: {0}")]
pub struct PlanReadError(pub String);

fn render(issues: &[InputIssue]) -> String {
    issues
        .iter()
        .map(|issue| format!("  {issue}"))
        .collect::<Vec<_>>()
        .join("\n")
}
