//! Model files: TOML text in, named [`Cell`](crate::Cell)s and [`RunOptions`](crate::RunOptions) out, errors naming file, line and key.
//!
//! See `docs/model-format.md` for the format. A file describes one cell at
//! its top level, or several under `[[cell]]`, plus a `[simulation]` table.

mod build;
mod built_model;
mod fit_problem;
mod gap_junctions;
mod lane_shares;
mod morphology;
mod network;
mod pointers;
mod simulation;
mod spec;
mod stimulus;
mod tables;

pub use build::{FitSpec, Model, ModelError, Optimizer, load_model, parse_model};
pub use built_model::{BuildError, BuiltModel};
pub use lane_shares::LaneShares;
