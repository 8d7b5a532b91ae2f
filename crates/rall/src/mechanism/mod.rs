//! Mechanisms: a mechanism's layout (CVs, areas, parameters) in, per-CV currents and conductances out, states advanced each step.
//!
//! The engine sees every mechanism through [`Mechanism`]: it contributes a
//! current and its voltage derivative to each CV it covers, and advances its
//! own states once the new voltage is known. Built-in mechanisms are written
//! natively here; NMODL mechanisms will implement the same trait.

mod catalogue;
mod passive;

pub use catalogue::{Catalogue, MechanismInfo, ParameterInfo};
pub use passive::Passive;

use crate::discretize::CvIndex;

/// Where a mechanism lives on a cell and with which parameter values; one
/// entry per (CV, painting), so a CV painted twice appears twice.
#[derive(Clone, Debug, PartialEq)]
pub struct MechanismLayout {
    pub mechanism: String,
    pub cv: Vec<CvIndex>,
    /// Membrane area of the CV covered by this entry [µm²].
    pub area_um2: Vec<f64>,
    /// Parameter values per entry, in the order of [`MechanismInfo::parameters`].
    pub parameters: Vec<Vec<f64>>,
}

/// A mechanism instance over many CVs, its data in structure-of-arrays form.
pub trait Mechanism: Send + Sync {
    fn name(&self) -> &str;

    /// Sets states to their initial values for the voltages `v_mv` (indexed by CV).
    fn initialise(&mut self, v_mv: &[f64]);

    /// Adds the outward membrane current [nA] and its derivative with respect
    /// to the membrane potential [µS] of every covered CV.
    fn accumulate_current(&self, v_mv: &[f64], current_na: &mut [f64], conductance_us: &mut [f64]);

    /// Advances states over `dt_ms` given the voltages at the end of the step.
    fn advance_states(&mut self, v_mv: &[f64], dt_ms: f64);

    /// Checks that every state is finite; on failure names the state and CV.
    fn check_finite(&self) -> Result<(), (String, CvIndex)> {
        Ok(())
    }
}
