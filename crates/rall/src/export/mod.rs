//! Exports: rall cells in, descriptions other simulators can run out (NEURON, through `validation/neuron/run_neuron.py`
//! and `run_network.py`).

mod neuron;
mod neuron_network;

pub use neuron::{ExportError, neuron_cells_json, neuron_json};
pub use neuron_network::neuron_network_json;
