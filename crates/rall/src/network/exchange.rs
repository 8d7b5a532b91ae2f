//! The spike exchange: the spikes of one epoch from every cell and source in, events queued at the targets out.
//!
//! This is the only step where cells see each other. Within one process it is a sort and a table lookup;
//! distributed over processes it would be an all-gather of the spike lists followed by the same routing.

use super::Connection;

/// A spike of a cell's detector (or of a spike source, detector 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spike {
    /// [ms]
    pub t_ms: f64,
    pub gid: usize,
    pub detector: usize,
}

/// An event for a target cell: `(synapse placement, arrival time [ms], weight, connection index)`.
pub type Delivery = (usize, f64, f64, usize);

/// Connections indexed by source gid.
#[derive(Clone, Debug, Default)]
pub struct SpikeRouter {
    /// Per source gid: its connections with their index in the network's list.
    outgoing: Vec<Vec<(usize, Connection)>>,
    /// Smallest delay of a connection from a cell [ms] (infinite without any): the longest safe epoch.
    pub min_cell_delay_ms: f64,
}

impl SpikeRouter {
    pub fn new(connections: &[Connection], gids: usize, cells: usize) -> Self {
        let mut outgoing = vec![Vec::new(); gids];
        let mut min_cell_delay_ms = f64::INFINITY;
        for (k, c) in connections.iter().enumerate() {
            outgoing[c.source].push((k, *c));
            if c.source < cells {
                min_cell_delay_ms = min_cell_delay_ms.min(c.delay_ms);
            }
        }
        Self {
            outgoing,
            min_cell_delay_ms,
        }
    }

    /// Sorts the gathered spikes by time (then gid) and appends, per target cell, the events they cause.
    pub fn route(&self, spikes: &mut [Spike], deliveries: &mut [Vec<Delivery>]) {
        spikes.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms).then(a.gid.cmp(&b.gid)));
        for s in spikes.iter() {
            for (k, c) in self.outgoing[s.gid].iter().filter(|(_, c)| c.detector == s.detector) {
                deliveries[c.target].push((c.synapse, s.t_ms + c.delay_ms, c.weight, *k));
            }
        }
    }
}
