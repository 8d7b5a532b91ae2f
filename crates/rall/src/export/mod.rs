//! Exports: rall cells in, descriptions other simulators can run out (NEURON, through `validation/neuron/run_neuron.py`).

mod neuron;

pub use neuron::{ExportError, neuron_json};
