//! Mechanisms: a mechanism's layout (CVs, areas, parameters) in, per-CV currents and conductances out, states advanced each step.
//!
//! The engine sees every mechanism through [`Mechanism`]: it contributes a
//! current and its voltage derivative to each CV it covers, and advances its
//! own states once the new voltage is known. Mechanisms come from NMODL files
//! (the built-in catalogue in `mechanisms/` or the user's), compiled by
//! `rall-nmodl` and evaluated by [`NmodlMechanism`], or, when the expression graph cannot express them (run-time
//! loops, recursion, random draws in events), run statement by statement by [`ProceduralMechanism`].

mod catalogue;
mod ions;
mod nmodl;
mod nmodl_events;
mod nmodl_pointers;
mod nmodl_steady;
mod nmodl_tangents;
mod procedural;
mod tangents;

pub use catalogue::{Catalogue, CatalogueError, ParameterInfo};
pub use ions::{IonPool, IonSpecies, IonTangent};
pub use nmodl::NmodlMechanism;
pub use procedural::ProceduralMechanism;
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

/// An event as one instance receives it.
#[derive(Debug)]
pub struct EventDelivery<'a> {
    pub instance: usize,
    /// Delivery time [ms] (NET_RECEIVE's `t`).
    pub t_ms: f64,
    /// 0 for an input event, the flag of a self-event.
    pub flag: f64,
    /// The weight, then the stream's further NET_RECEIVE arguments, which NET_RECEIVE may change.
    pub arguments: &'a mut [f64],
    /// The weight's tangent per lane (empty without sensitivities).
    pub weight_tangent: &'a [f64],
    /// The membrane potential of every CV of the cell [mV].
    pub v_mv: &'a [f64],
}

/// What delivering events or initialising asks of the cell.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventEffects {
    /// Self-events `(instance, delivery time [ms], flag)`.
    pub sends: Vec<(usize, f64, f64)>,
    /// Output spikes `(instance, t [ms])` (`net_event`).
    pub spikes: Vec<(usize, f64)>,
    /// Membrane potentials set by NET_RECEIVE `(CV, v [mV])`.
    pub voltages: Vec<(CvIndex, f64)>,
    /// `net_move`: `(instance, new time [ms])` for the instance's outstanding self-event.
    pub moves: Vec<(usize, f64)>,
}

/// A mechanism instance over many CVs, its data in structure-of-arrays form.
pub trait Mechanism: Send + Sync {
    fn name(&self) -> &str;

    /// A copy of the mechanism with its present state (for a cell's snapshot; the compiled kernels are
    /// shared, not compiled again).
    fn clone_box(&self) -> Box<dyn Mechanism>;

    /// Seeds the streams of random samples (NMODL's `normrand`; each [`Mechanism::initialise`] restarts them):
    /// `(first instance, seed)` pairs by increasing first instance, each seed for the instances up to the next
    /// pair's, so that the cells of a cell group draw each what it draws alone.
    fn seed_random(&mut self, _seeds: &[(usize, u64)]) {}

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

    /// Delivers an event to one instance (NMODL's NET_RECEIVE); what it asks of the cell goes into `effects`.
    fn deliver_event(&mut self, _event: EventDelivery<'_>, _effects: &mut EventEffects) -> Result<(), String> {
        Err(format!(
            "`{}` has no NET_RECEIVE block and cannot receive events",
            self.name()
        ))
    }

    /// Binds POINTER `pointer` of `instance` to the membrane potential of CV `cv` of this cell (`Some`: read
    /// by the mechanism whenever it reads `v`), or to a value the cell gives before each step with
    /// [`Mechanism::set_pointer`] (`None`). Returns the handle `set_pointer` takes.
    fn bind_pointer(&mut self, pointer: &str, _instance: usize, _cv: Option<CvIndex>) -> Result<usize, String> {
        Err(format!("`{}` has no POINTER `{pointer}`", self.name()))
    }

    /// Binds POINTER `pointer` of `instance` as the storage of a network connection's weight, which the
    /// mechanism may change in NET_RECEIVE (a weight adjuster); returns the handle [`Mechanism::set_pointer`]
    /// takes to set the starting weight.
    fn bind_weight_pointer(&mut self, pointer: &str, _instance: usize) -> Result<usize, String> {
        Err(format!(
            "`{}` cannot hold a connection's weight in `{pointer}`",
            self.name()
        ))
    }

    /// Gives a POINTER bound without a CV its value.
    fn set_pointer(&mut self, _handle: usize, _instance: usize, _value: f64) {}

    /// A POINTER left unbound, as `(pointer, instance)`.
    fn unbound_pointer(&self) -> Option<(String, usize)> {
        None
    }

    /// Sets up one stream of events to `instance` (NEURON: one NetCon): `arguments` (the weight first) gets
    /// NET_RECEIVE's further arguments, as its INITIAL block sets them at `t_ms`.
    fn initialise_event_stream(&mut self, _instance: usize, _t_ms: f64, _arguments: &mut Vec<f64>) {}

    /// The number of NET_RECEIVE arguments (the weight and those kept per stream).
    fn event_argument_count(&self) -> usize {
        1
    }

    /// After [`Mechanism::initialise`]: the self-events INITIAL scheduled.
    fn take_initial_events(&mut self, _effects: &mut EventEffects) {}

    /// At the start of a step at `t_ms`: self-events of WATCH conditions that became true.
    fn check_watches(&mut self, _t_ms: f64, _v_mv: &[f64], _effects: &mut EventEffects) {}

    /// Starts co-simulating tangents for `lanes` parameters; `seeds` say which of this
    /// mechanism's parameters each lane differentiates.
    fn enable_tangents(&mut self, _lanes: usize, _seeds: &[ParameterSeed]) -> Result<(), String> {
        Err(format!("`{}` cannot co-simulate sensitivities", self.name()))
    }

    /// With tangents on, in place of [`Mechanism::accumulate_current`]: adds the current and conductance as it
    /// does, and their tangents per CV (lane-major, `[lane * cvs + cv]`) given the voltage tangents.
    fn accumulate_current_with_tangents(
        &mut self,
        ctx: &StepContext,
        v_mv: &[f64],
        current_na: &mut [f64],
        conductance_us: &mut [f64],
        ions: &mut IonPool,
        _tangents: CurrentTangents<'_>,
    ) {
        self.accumulate_current(ctx, v_mv, current_na, conductance_us, ions);
    }

    /// With tangents on, in place of [`Mechanism::advance_states`]: advances the states and their tangents
    /// given the new voltages and their tangents (`v_dot`, lane-major).
    fn advance_states_with_tangents(
        &mut self,
        ctx: &StepContext,
        v_mv: &[f64],
        _v_dot: &[f64],
        ions: &mut IonPool,
    ) -> Result<(), String> {
        self.advance_states(ctx, v_mv, ions)
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

    /// The slot of a named variable, by which [`Mechanism::value_at`], [`Mechanism::tangent_at`] and
    /// [`Mechanism::set_parameter_at`] reach it without comparing names (a controller does every step).
    fn slot(&self, _name: &str) -> Option<usize> {
        None
    }

    /// The value of slot `slot` at one instance.
    fn value_at(&self, _slot: usize, _instance: usize) -> f64 {
        f64::NAN
    }

    /// Lane `lane`'s tangent of slot `slot` at one instance (0 without tangents).
    fn tangent_at(&self, _slot: usize, _instance: usize, _lane: usize) -> f64 {
        0.0
    }

    /// Sets slot `slot`, which [`Mechanism::set_parameter`] has accepted as a PARAMETER, at one instance.
    fn set_parameter_at(&mut self, _slot: usize, _instance: usize, _value: f64) {}
}

/// The cell's tangents a mechanism's current reads and adds to, lane-major (`[lane * cvs + cv]`).
pub struct CurrentTangents<'a> {
    /// Of the voltage [mV per parameter unit].
    pub v_dot: &'a [f64],
    /// Of the membrane current [nA per unit].
    pub i_dot: &'a mut [f64],
    /// Of the membrane conductance [µS per unit].
    pub g_dot: &'a mut [f64],
}

/// Whether the sum of `values` is finite (then every value is), summed in eight independent lanes so the
/// check costs a fraction of a step rather than one dependent addition per value.
pub(crate) fn sum_is_finite(values: &[f64]) -> bool {
    let mut lanes = [0.0f64; 8];
    let chunks = values.chunks_exact(8);
    let rest: f64 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (lane, x) in lanes.iter_mut().zip(chunk) {
            *lane += x;
        }
    }
    (lanes.iter().sum::<f64>() + rest).is_finite()
}

impl Clone for Box<dyn Mechanism> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}
