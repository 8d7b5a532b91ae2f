//! The mechanism IR: expression graphs with shared subexpressions, their symbolic derivatives, and the kernels built from them.

mod differentiate;
mod evaluate;
mod graph;
mod jit;
mod mechanism;

pub use differentiate::Differentiator;
pub use evaluate::{Tape, TapeScratch};
pub use graph::{Func, Graph, Node, NodeId};
pub use jit::Backend;
pub use mechanism::{
    Advance, EventAction, EventActionKind, Kernel, MechanismIr, NEURON_CONDUCTANCE_STEP_MV, NetReceive,
    STEADY_STATE_DT_MS, Slot, SlotId, SlotKind, SteadyState,
};
