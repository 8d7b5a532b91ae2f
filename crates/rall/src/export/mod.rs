//! Exports: rall cells in, descriptions other simulators can run out (NEURON, through `validation/neuron/run_neuron.py`
//! and `run_network.py`); traces in, files other tools read out (NumPy's `.npy`).

mod neuron;
mod neuron_network;
mod npy;

pub use neuron::{ExportError, neuron_cells_json, neuron_json};
pub use neuron_network::neuron_network_json;
pub use npy::write_npy;
