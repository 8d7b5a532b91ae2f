//! Sensitivity stage: parameters to differentiate in, exact tangents of the discrete scheme co-simulated with the model out.
//!
//! rall differentiates the update it actually runs (discretise, then differentiate): each step's
//! voltage tangents are solved with the same Hines factorisation as the voltage, one right-hand
//! side per parameter ("lane"); mechanisms propagate their states' tangents through Jacobians
//! that the NMODL differentiator derived symbolically. Memory is O(parameters × (CVs + states)),
//! independent of the simulated time.

mod cable_tangents;
mod multipliers;
mod parameters;

pub use cable_tangents::{CableTangents, SensitivitySetup};
pub use multipliers::{BuiltIn, ParameterValues};
pub use parameters::{ParameterSpec, SensitivityError, Transform, perturbed, resolve_parameters, setup_for};
