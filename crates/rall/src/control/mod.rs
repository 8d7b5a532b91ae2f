//! Online control: a cell, its co-simulated sensitivities and a controller description in; parameters that
//! move while the simulation runs out. [`homeostasis`] steers conductances toward a target firing rate.

pub mod homeostasis;
pub mod loop_gain;

pub use homeostasis::{Homeostasis, HomeostasisController, HomeostasisError, HomeostasisSpec};
pub use loop_gain::{LoopGain, estimate_loop_gain, probe_options};
