//! Engine stage: a [`CellLayout`](crate::cell::CellLayout) in, voltages advanced in time by implicit steps and sampled by probes out.
//!
//! Each step follows the fixed-step scheme of NEURON and Arbor: mechanisms
//! add current and conductance at the present voltage, the linearised cable
//! equation is assembled into a tree matrix and solved by Hines elimination,
//! then mechanism states advance with the new voltage.

mod cell_group;
mod cell_integrator;
mod hines;
mod pointers;
mod step_monitor;

pub use cell_group::{CellGroup, GroupKind};
pub use cell_integrator::{CellIntegrator, CellSnapshot, EngineError, Integrator};
pub use hines::{HinesMatrix, LANE_BLOCK, SolveError, lane_stride};
pub use pointers::ExternalPointer;
pub use step_monitor::{LargestStep, RESOLVED_CHANGE_MV};
