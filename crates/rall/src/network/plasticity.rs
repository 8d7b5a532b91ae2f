//! Weight adjusters (PyNN's STDP and short-term plasticity mechanisms): connections that name one in; the
//! network with one adjuster point process per such connection on its target cell, the connections that bring
//! it pre- and postsynaptic spikes, and its POINTER bound to the connection's weight out.
//!
//! This is how PyNN 0.13 wires them in NEURON (`Connection._setup_plasticity`): the adjuster sits beside the
//! synapse; presynaptic spikes reach it `delay · (1 − f)` after the spike (less 1e-9 ms when that is positive,
//! so the weight changes before the synapse uses it), postsynaptic spikes `delay · f` after (f: the
//! dendritic delay fraction); `setpointer adjuster.wsyn, netcon.weight` makes its POINTER the connection's
//! weight, which every event of the connection reads when it is delivered.

use super::{Connection, Network, NetworkError};
use crate::cell::{PointerBinding, PointerTarget, SynapsePlacement};

/// The PyNN shift of a presynaptic spike to the adjuster, so that it acts before the synapse [ms].
pub const ADJUSTER_LEAD_MS: f64 = 1e-9;

/// A point process that adjusts the weight of the connection it is attached to.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightAdjuster {
    pub mechanism: String,
    pub parameters: Vec<(String, f64)>,
    /// The POINTER that holds the weight (`wsyn` in PyNN's files).
    pub pointer: String,
    /// Postsynaptic spikes reach it with weight −1 and presynaptic ones with +1 (PyNN's STDP rules, whose
    /// postsynaptic variable is `spikes`); otherwise only presynaptic spikes, with the connection's weight
    /// (Tsodyks-Markram), and the dendritic delay fraction is 0.
    pub post_spikes: bool,
    /// The part of the delay spent in the dendrite (PyNN's `dendritic_delay_fraction`, 1 by default).
    pub dendritic_delay_fraction: f64,
}

impl Network {
    /// The network with every connection's weight adjuster placed and wired (connections keep their indices;
    /// the adjusters' own connections come after them). A network without adjusters comes back unchanged.
    pub fn with_weight_adjusters(&self) -> Result<Network, NetworkError> {
        let mut out = self.clone();
        out.adjusters.clear();
        let mut extra = Vec::new();
        for (index, c) in self.connections.iter().enumerate() {
            let Some(a) = c.adjuster else { continue };
            out.connections[index].adjuster = None;
            let fail = |message: String| Err(NetworkError::Connection { index, message });
            let Some(adjuster) = self.adjusters.get(a) else {
                return fail(format!(
                    "names weight adjuster {a}, but the network has {}",
                    self.adjusters.len()
                ));
            };
            let Some((name, cell)) = out.cells.get_mut(c.target) else {
                return fail(format!("target gid {} is not a cell", c.target));
            };
            let Some(synapse) = cell.decor.synapses.get(c.synapse) else {
                return fail(format!("cell `{name}` has no synapse placement {}", c.synapse));
            };
            if synapse.locset.locations.len() != 1 {
                return fail(format!(
                    "a connection with a weight adjuster ends on one synapse; synapse placement {} of cell `{name}` \
                     has {} locations",
                    c.synapse,
                    synapse.locset.locations.len()
                ));
            }
            if adjuster.post_spikes && cell.decor.detector_count() == 0 {
                return fail(format!(
                    "the weight adjuster `{}` learns from postsynaptic spikes, but cell `{name}` has no spike \
                     detector",
                    adjuster.mechanism
                ));
            }
            let placement = SynapsePlacement {
                locset: synapse.locset.clone(),
                mechanism: adjuster.mechanism.clone(),
                parameters: adjuster.parameters.clone(),
                events_ms: Vec::new(),
                weight: 0.0,
                pointers: vec![PointerBinding {
                    pointer: adjuster.pointer.clone(),
                    target: PointerTarget::ConnectionWeight {
                        connection: index,
                        weight: c.weight,
                    },
                }],
            };
            cell.decor.synapses.push(placement);
            let slot = cell.decor.synapses.len() - 1;
            let f = if adjuster.post_spikes {
                adjuster.dendritic_delay_fraction
            } else {
                0.0
            };
            let mut pre_delay = c.delay_ms * (1.0 - f);
            if pre_delay > ADJUSTER_LEAD_MS {
                pre_delay -= ADJUSTER_LEAD_MS;
            }
            extra.push(Connection {
                synapse: slot,
                weight: if adjuster.post_spikes { 1.0 } else { c.weight },
                delay_ms: pre_delay,
                adjuster: None,
                ..*c
            });
            if adjuster.post_spikes {
                extra.push(Connection {
                    source: c.target,
                    detector: 0,
                    target: c.target,
                    synapse: slot,
                    weight: -1.0,
                    delay_ms: c.delay_ms * f,
                    adjuster: None,
                });
            }
        }
        out.connections.extend(extra);
        Ok(out)
    }
}
