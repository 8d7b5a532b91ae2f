//! Networks: cells with spike detectors, spike sources and connections in; the wiring a [`crate::Simulation`]
//! runs in epochs of the minimum delay, exchanging spikes between epochs, out.
//!
//! The stages are separate so that cells can later be spread over processes: [`rules`] expands connection
//! rules into explicit connections, [`sources`] generates the spike trains of artificial sources, and
//! [`exchange`] is the one step that moves spikes between cells (gather, then route to the targets' queues);
//! [`plasticity`] places the weight adjusters that change connections' weights as spikes arrive.

pub mod exchange;
pub mod plasticity;
pub mod rules;
pub mod sources;

pub use exchange::{Spike, SpikeRouter};
pub use plasticity::WeightAdjuster;
pub use rules::{ConnectionRule, RuleError, expand};
pub use sources::{SourceError, SpikeSource};

use crate::Cell;

/// One synaptic connection: spikes of `source`'s detector arrive at `target`'s synapse placement after `delay_ms`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Connection {
    /// gid of the source: a cell (`0..cells`) or a spike source (`cells..cells + sources`).
    pub source: usize,
    /// Which detector of the source cell (0 for spike sources).
    pub detector: usize,
    /// gid of the target cell.
    pub target: usize,
    /// Index of the synapse placement on the target cell.
    pub synapse: usize,
    /// Passed to NET_RECEIVE (µS for ExpSyn).
    pub weight: f64,
    /// [ms], >= 0.
    pub delay_ms: f64,
    /// Index in [`Network::adjusters`] of the point process that adjusts this connection's weight.
    pub adjuster: Option<usize>,
}

/// A network: cells (gids `0..cells.len()`), spike sources (the following gids) and connections.
#[derive(Clone, Debug, Default)]
pub struct Network {
    pub cells: Vec<(String, Cell)>,
    pub sources: Vec<(String, SpikeSource)>,
    pub connections: Vec<Connection>,
    /// Weight adjusters that connections name ([`Network::with_weight_adjusters`] places them).
    pub adjusters: Vec<WeightAdjuster>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NetworkError {
    #[error("connection {index}: {message}")]
    Connection { index: usize, message: String },
}

impl Network {
    /// Name of a gid: the cell's or the source's.
    pub fn name(&self, gid: usize) -> &str {
        match gid.checked_sub(self.cells.len()) {
            None => &self.cells[gid].0,
            Some(s) => &self.sources[s].0,
        }
    }

    /// Checks gids, detector and synapse indices, weights and delays.
    pub fn check(&self) -> Result<(), NetworkError> {
        let gids = self.cells.len() + self.sources.len();
        for (index, c) in self.connections.iter().enumerate() {
            let fail = |message: String| Err(NetworkError::Connection { index, message });
            if c.source >= gids {
                return fail(format!("source gid {} does not exist ({gids} gids)", c.source));
            }
            let Some((name, target)) = self.cells.get(c.target) else {
                return fail(format!(
                    "target gid {} is not a cell ({} cells)",
                    c.target,
                    self.cells.len()
                ));
            };
            if c.synapse >= target.decor.synapses.len() {
                return fail(format!(
                    "cell `{name}` has {} synapse placements, not a synapse {}",
                    target.decor.synapses.len(),
                    c.synapse
                ));
            }
            if let Some((name, source)) = self.cells.get(c.source) {
                let detectors = source.decor.detector_count();
                if c.detector >= detectors {
                    return fail(format!(
                        "cell `{name}` has {detectors} spike detector locations, not a detector {} (add a detector)",
                        c.detector
                    ));
                }
            }
            if !(c.delay_ms >= 0.0 && c.delay_ms.is_finite() && c.weight.is_finite()) {
                return fail(format!(
                    "needs a finite weight and a delay >= 0 (got weight {}, delay {})",
                    c.weight, c.delay_ms
                ));
            }
        }
        Ok(())
    }
}
