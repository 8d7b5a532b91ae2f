//! Mechanisms: a mechanism's layout (CVs, areas, parameters) in, per-CV currents and conductances out, states advanced each step.
//!
//! The engine sees every mechanism through [`Mechanism`]: it contributes a
//! current and its voltage derivative to each CV it covers, and advances its
//! own states once the new voltage is known. Mechanisms come from NMODL files
//! (the built-in catalogue in `mechanisms/` or the user's), compiled by
//! `rall-nmodl` and evaluated by [`NmodlMechanism`].

mod catalogue;
mod ions;
mod nmodl;
mod nmodl_tangents;
mod tangents;

pub use catalogue::{Catalogue, CatalogueError, ParameterInfo};
pub use ions::{IonPool, IonSpecies, IonTangent};
pub use nmodl::NmodlMechanism;
pub use tangents::ParameterSeed;

use crate::discretize::CvIndex;

/// Where a mechanism lives on a cell and with which parameter values; one
/// entry per (CV, painting), so a CV painted twice appears twice.
#[derive(Clone, Debug, PartialEq)]
pub struct MechanismLayout {
    pub mechanism: String,
    pub cv: Vec<CvIndex>,
    /// Membrane area of the CV covered by this entry [µm²].
    pub area_um2: Vec<f64>,
    /// Parameter values per entry, in the order of the mechanism's parameters.
    pub parameters: Vec<Vec<f64>>,
}

/// What every mechanism may read besides the voltage.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepContext {
    /// Time at the start of the step [ms].
    pub t_ms: f64,
    /// [ms]
    pub dt_ms: f64,
    /// [°C]
    pub celsius: f64,
}

/// A mechanism instance over many CVs, its data in structure-of-arrays form.
pub trait Mechanism: Send + Sync {
    fn name(&self) -> &str;

    /// Seeds the stream of random samples (NMODL's `normrand`); each [`Mechanism::initialise`] restarts it.
    fn seed_random(&mut self, _seed: u64) {}

    /// Sets states to their initial values for the voltages `v_mv` (indexed by CV).
    fn initialise(&mut self, ctx: &StepContext, v_mv: &[f64], ions: &mut IonPool);

    /// Adds the outward membrane current [nA] and its derivative with respect
    /// to the membrane potential [µS] of every covered CV, and its ion currents to the pool.
    fn accumulate_current(
        &mut self,
        ctx: &StepContext,
        v_mv: &[f64],
        current_na: &mut [f64],
        conductance_us: &mut [f64],
        ions: &mut IonPool,
    );

    /// Advances states over the step given the voltages at its end.
    fn advance_states(&mut self, ctx: &StepContext, v_mv: &[f64], ions: &mut IonPool) -> Result<(), String>;

    /// Delivers an input event with `weight` (and its tangent per lane) to one instance (NMODL's NET_RECEIVE).
    fn deliver_event(
        &mut self,
        _instance: usize,
        _t_ms: f64,
        _weight: f64,
        _weight_tangent: &[f64],
    ) -> Result<(), String> {
        Err(format!(
            "`{}` has no NET_RECEIVE block and cannot receive events",
            self.name()
        ))
    }

    /// Starts co-simulating tangents for `lanes` parameters; `seeds` say which of this
    /// mechanism's parameters each lane differentiates.
    fn enable_tangents(&mut self, _lanes: usize, _seeds: &[ParameterSeed]) -> Result<(), String> {
        Err(format!("`{}` cannot co-simulate sensitivities", self.name()))
    }

    /// After [`Mechanism::accumulate_current`]: adds the tangents of the current [nA] and of the
    /// conductance [µS] per CV (lane-major, `[lane * cvs + cv]`) given the voltage tangents.
    fn current_tangents(&mut self, _v_dot: &[f64], _i_dot: &mut [f64], _g_dot: &mut [f64], _ions: &mut IonPool) {}

    /// After [`Mechanism::advance_states`]: advances the state tangents given the new voltage tangents.
    fn advance_tangents(&mut self, _ctx: &StepContext, _v_dot: &[f64], _ions: &mut IonPool) -> Result<(), String> {
        Ok(())
    }

    /// The tangent of a variable at one instance for one lane.
    fn variable_tangent(&self, _name: &str, _instance: usize, _lane: usize) -> Option<f64> {
        None
    }

    /// Multiplies all tangents but the parameters' seeds by `factor` (forgetting).
    fn scale_tangents(&mut self, _factor: f64) {}

    /// Checks that every state is finite; on failure names the state and CV.
    fn check_finite(&self) -> Result<(), (String, CvIndex)> {
        Ok(())
    }

    /// Sets a PARAMETER of one instance (online control changes parameters while the simulation runs).
    fn set_parameter(&mut self, name: &str, _instance: usize, _value: f64) -> Result<(), String> {
        Err(format!("`{}` has no settable parameter `{name}`", self.name()))
    }

    /// Current value of a named variable (state, assigned, parameter) at every covered CV.
    fn variable(&self, _name: &str) -> Option<(&[CvIndex], &[f64])> {
        None
    }
}
