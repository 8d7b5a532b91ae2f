//! Fitting stage: simulated traces and their sensitivities in, losses against targets and their exact gradients out.

mod loss;

pub use loss::{LossError, TargetTraces, Window, mse_loss};
