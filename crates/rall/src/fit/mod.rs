//! Fitting stage: simulated traces and their sensitivities in, losses against targets, their exact gradients and optimisers (Adam, CMA-ES) out.

mod adam;
mod cmaes;
mod lbfgs;
mod loss;
mod problem;

pub use adam::{Adam, AdamSettings};
pub use cmaes::{Cmaes, CmaesSettings, symmetric_eigen};
pub use lbfgs::LbfgsSettings;
pub use loss::{LossError, TargetTraces, Window, mse_loss};
pub use problem::{FitParameter, FitProblem, FitResult, Protocol, Record, Space, synthetic_target};
