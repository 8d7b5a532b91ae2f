//! A lowered mechanism: its slots (every per-instance value), one graph, and the kernels that read and write slots.

use super::graph::{Graph, NodeId};
use crate::ast::MechanismKind;
use crate::sema::MechanismInfo;

/// Index of a slot in [`MechanismIr::slots`]; graph inputs name slots by this index.
pub type SlotId = u32;

#[derive(Clone, Debug, PartialEq)]
pub enum SlotKind {
    /// Membrane potential [mV].
    Voltage,
    /// Simulation time [ms].
    Time,
    /// Time step [ms].
    Dt,
    /// Temperature [°C].
    Celsius,
    /// Diameter of the CV [µm].
    Diam,
    /// Membrane area of the CV [µm²].
    Area,
    Parameter,
    State,
    Assigned,
    /// An ion variable: reversal potential, concentration or current.
    Ion {
        ion: String,
        write: bool,
    },
    /// A NONSPECIFIC_CURRENT (or ELECTRODE_CURRENT, counted inward).
    Current {
        electrode: bool,
    },
    /// An argument of NET_RECEIVE (e.g. the weight).
    EventArgument,
    /// A standard normal sample, drawn afresh for every instance at every step (one slot per `normrand` call).
    Random,
    /// A POINTER: read from the variable the model binds it to (a membrane potential, another mechanism's
    /// variable), refreshed before each kernel that runs in a step.
    Pointer,
    /// NET_RECEIVE's `flag`: 0 for an input event, the flag given to `net_send` or WATCH for a self-event.
    EventFlag,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Slot {
    pub name: String,
    pub kind: SlotKind,
    pub unit: Option<String>,
    /// Default value (parameters), 0 otherwise.
    pub default: f64,
    pub bounds: Option<(f64, f64)>,
}

/// Statements lowered to graph nodes: after the kernel runs, each listed slot holds its node's value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Kernel {
    pub outputs: Vec<(SlotId, NodeId)>,
}

/// How states advance over one step, given the new voltage.
#[derive(Clone, Debug, PartialEq)]
pub enum Advance {
    /// No states to advance.
    None,
    /// Explicit updates (cnexp's exact exponential step, or forward Euler), states in statement order.
    Explicit(Kernel),
    /// Backward Euler `s' = s + dt f(s')` solved by Newton's method (derivimplicit, sparse, KINETIC):
    /// `rates[i]` is `f_i`, `jacobian[i * n + j]` is `∂f_i/∂s_j`, with the state slots as inputs.
    Implicit {
        states: Vec<SlotId>,
        rates: Vec<NodeId>,
        jacobian: Vec<NodeId>,
        /// ASSIGNED values the block sets (KINETIC's `ica_pmp = ... f_flux ...`), at the converged states.
        assigned: Vec<(SlotId, NodeId)>,
    },
}

/// `SOLVE block STEADYSTATE sparse` at the end of INITIAL: the KINETIC block's backward-Euler system with
/// dt = 1e9 ms (NEURON's), each CONSERVE statement replacing the equation of the last state it names.
#[derive(Clone, Debug, PartialEq)]
pub struct SteadyState {
    pub states: Vec<SlotId>,
    pub rates: Vec<NodeId>,
    pub jacobian: Vec<NodeId>,
    pub assigned: Vec<(SlotId, NodeId)>,
    /// `(row, g, ∂g/∂states)`: the row's equation becomes `g = 0` (Σ volume · coefficient · state − total).
    pub conserve: Vec<(usize, NodeId, Vec<NodeId>)>,
}

/// The time step of a steady-state solve [ms], as NEURON's `_ss_sparse`.
pub const STEADY_STATE_DT_MS: f64 = 1e9;

/// What an event-side statement does when its guard (the conditions of the IF branches around it) is non-zero.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EventActionKind {
    /// `net_send(delay, flag)`: a self-event to this instance after `delay` [ms].
    Send { delay: NodeId, flag: NodeId },
    /// `net_event(t)`: an output spike at `time` [ms] (the point process as a spike source).
    Spike { time: NodeId },
    /// `net_move(t)` (ARTIFICIAL_CELLs): the instance's outstanding self-event moves to `time` [ms].
    Move { time: NodeId },
    /// `WATCH (a > b) flag`: from now on (until the next WATCH of this instance replaces it), a self-event with
    /// `flag` whenever `value` (`a - b`, or `b - a` for `<`) becomes positive.
    Watch { value: NodeId, flag: NodeId },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EventAction {
    pub guard: NodeId,
    pub kind: EventActionKind,
}

/// NET_RECEIVE: its kernel (which may set states, assigned and parameters, the event's further arguments,
/// and the membrane voltage `v`), its own INITIAL kernel, and its event actions in statement order.
#[derive(Clone, Debug, PartialEq)]
pub struct NetReceive {
    pub kernel: Kernel,
    /// Run per event stream at initialisation (sets the stream's arguments after the weight).
    pub initial: Option<Kernel>,
    pub actions: Vec<EventAction>,
}

impl NetReceive {
    /// Whether events do more than update the mechanism's own variables from the weight: self-events,
    /// spikes, watches, voltage assignments or per-stream arguments.
    pub fn has_event_side(&self, slots: &[Slot]) -> bool {
        !self.actions.is_empty()
            || self.initial.is_some()
            || self
                .kernel
                .outputs
                .iter()
                .any(|(s, _)| matches!(slots[*s as usize].kind, SlotKind::Voltage | SlotKind::EventArgument))
    }
}

/// The lowered, differentiable form of one `.mod` file.
#[derive(Clone, Debug)]
pub struct MechanismIr {
    pub info: MechanismInfo,
    pub slots: Vec<Slot>,
    pub graph: Graph,
    /// INITIAL (after states are zeroed).
    pub initial: Kernel,
    /// BREAKPOINT without its SOLVE: currents and assigned values.
    pub current: Kernel,
    /// The mechanism's total outward current (mA/cm² for density mechanisms, nA for point processes).
    pub total_current: NodeId,
    /// ∂(total current)/∂v, exact.
    pub conductance: NodeId,
    /// Per ion: the ion current node and its ∂/∂v.
    pub ion_currents: Vec<(String, NodeId, NodeId)>,
    pub advance: Advance,
    pub net_receive: Option<NetReceive>,
    /// `net_send` calls of INITIAL (self-events scheduled at initialisation).
    pub initial_actions: Vec<EventAction>,
    /// A steady-state solve ending INITIAL (a KINETIC block's, or a LINEAR or NONLINEAR block's).
    pub steady_state: Option<SteadyState>,
    /// A LINEAR or NONLINEAR block SOLVEd in BREAKPOINT: solved in every state update, after the voltage's
    /// (the rows are all equations: no rates).
    pub algebraic: Option<SteadyState>,
    /// Warnings from lowering (e.g. a cnexp block that is not linear, solved implicitly).
    pub notes: Vec<String>,
    /// For a mechanism the graph cannot express: its blocks as a program run statement by statement (the
    /// kernels above are then empty).
    pub procedural: Option<Box<crate::procedural::Procedural>>,
}

/// The voltage step of NEURON's conductance quotient [mV] (nocmodl's `_nrn_current(v + .001)`).
pub const NEURON_CONDUCTANCE_STEP_MV: f64 = 0.001;

impl MechanismIr {
    pub fn kind(&self) -> &MechanismKind {
        &self.info.kind
    }

    /// Replaces the exact conductances `∂i/∂v` (the total's and each ion current's) by the difference
    /// quotient NEURON's generated code uses, `(i(v + 0.001) - i(v)) / 0.001`. The two agree for currents
    /// linear in v; for nonlinear ones (GHK, exponential or quadratic spike currents) the quotient makes rall
    /// step as NEURON does, to round-off, at the cost of an approximate Jacobian in the implicit step.
    pub fn use_neuron_conductance(&mut self) {
        let g = &mut self.graph;
        let v = g.input(0);
        let step = g.constant(NEURON_CONDUCTANCE_STEP_MV);
        let shifted = g.add(v, step);
        let quotient = |g: &mut Graph, current: NodeId| {
            let above = g.substitute(current, 0, shifted);
            let rise = g.sub(above, current);
            g.div(rise, step)
        };
        self.conductance = quotient(g, self.total_current);
        for (_, current, dv) in &mut self.ion_currents {
            *dv = quotient(g, *current);
        }
    }

    pub fn slot(&self, name: &str) -> Option<SlotId> {
        self.slots.iter().position(|s| s.name == name).map(|i| i as SlotId)
    }

    /// Slots of one kind, with their ids.
    pub fn slots_where(&self, pred: impl Fn(&SlotKind) -> bool) -> impl Iterator<Item = (SlotId, &Slot)> {
        self.slots
            .iter()
            .enumerate()
            .filter(move |(_, s)| pred(&s.kind))
            .map(|(i, s)| (i as SlotId, s))
    }
}
