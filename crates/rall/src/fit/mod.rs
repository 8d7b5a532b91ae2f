//! Fitting stage: simulated traces and their sensitivities in, losses against targets, their exact gradients, curvatures and optimisers (Adam, L-BFGS, Levenberg-Marquardt, CMA-ES) out.

mod adam;
mod cmaes;
mod identifiability;
mod lbfgs;
mod levenberg_marquardt;
mod loss;
mod problem;

pub use adam::{Adam, AdamSettings};
pub use cmaes::{Cmaes, CmaesSettings, symmetric_eigen};
pub use identifiability::{FIVE_PERCENT, Identifiability, ParameterIdentifiability};
pub use lbfgs::LbfgsSettings;
pub use levenberg_marquardt::{LevenbergMarquardtSettings, damped_step};
pub use loss::{LossError, Residuals, TargetTraces, Window, check_before_run, gram, mse_loss};
pub use problem::{FitParameter, FitProblem, FitResult, Protocol, Record, Space, synthetic_target};
