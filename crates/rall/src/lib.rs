//! rall: multicompartmental neurons from SWC morphologies, simulated with an implicit tree solver.
//!
//! The data flow, one module per stage:
//! [`morphology`] (SWC → branches of frusta) → [`labels`] (regions, locsets)
//! → [`cell`] (the decor: what is painted and placed) → [`discretize`]
//! (CVs, areas, capacitances, axial conductances) → [`engine`] (assembly,
//! Hines solve, state updates) → [`simulation`] (many cells, probes, traces).
//! [`model`] reads the TOML model file into cells.

pub mod cell;
pub mod control;
pub mod discretize;
pub mod engine;
pub mod export;
pub mod fit;
pub mod import;
pub mod labels;
pub mod limits;
pub mod mechanism;
pub mod model;
pub mod morphology;
pub mod network;
mod read_text;
pub mod sensitivity;
pub mod simulation;
pub mod suggest;
pub mod zoo;

pub use cell::Cell;
pub use read_text::read_text;
pub use simulation::{RunOptions, Simulation, Traces};
