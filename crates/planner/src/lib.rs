//! Dispatch planner (pure: instance in, plan out).
//!
//! The crate reads a `reliefhub-plan-instance/1` document ([`Instance::from_json`]),
//! plans it ([`solve`]), writes the `reliefhub-plan/1` answer ([`plan::to_json`])
//! and checks any plan against its instance ([`check::check_plan_json`]). It does
//! no IO: text in, text out, and time only through the caller's [`Clock`].

mod attribution;
mod bound;
mod capacity_lp;
pub mod check;
pub mod error;
mod explain;
pub mod generate;
pub mod greedy;
pub mod instance;
pub mod keep;
mod knapsack;
mod model;
pub mod plan;
mod proof;
mod search;
mod solve;
mod state;
mod stock;
pub mod value;

pub use error::{InputIssue, InstanceError, PlanReadError};
pub use instance::Instance;
pub use model::SplitMix64;
pub use plan::{Allocation, Plan, Unmet};
pub use solve::{solve, Clock, Progress, SolveOptions};
