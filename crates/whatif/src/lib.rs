//! What-if analysis: disruptions and surges applied to the hub's planning
//! instance, re-planned and compared.
//!
//! Pure: a scenario (`reliefhub-scenario/1`, JSON or TOML; [`Scenario`]) is
//! read from text and checked against a `reliefhub-plan-instance/1`
//! document ([`InstanceDoc`]); [`apply`] changes a copy of the instance (never
//! the database) with fixed-seed random draws; [`run_all`] plans the
//! baseline and every run with `reliefhub-planner`, several at once, and
//! keeps only each run's summary; [`Report`] compares them (10th, 50th and
//! 90th percentiles) and [`charts`] draws them as SVG text. No files, no
//! clock of its own (time is the caller's `now`), no database.

pub mod apply;
pub mod charts;
pub mod doc;
pub mod problem;
pub mod report;
pub mod run;
pub mod scenario;
pub mod summary;

pub use apply::{apply, Applied};
pub use doc::InstanceDoc;
pub use problem::Problem;
pub use report::{Report, ScenarioReport, Stat};
pub use run::{run_all, RunError, RunOptions};
pub use scenario::{Change, HubFacts, PledgeFacts, Scenario, Syntax, SCENARIO_FORMAT};
pub use summary::RunSummary;
