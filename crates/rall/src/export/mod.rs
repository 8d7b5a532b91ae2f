//! Exports: rall cells in, descriptions other simulators can run out (NEURON, through `validation/neuron/run_neuron.py`
//! and `run_network.py`); traces in, files other tools read out (NumPy's `.npy` and `.npz`).

mod neuron;
mod neuron_network;
mod npy;
mod npz;

pub use neuron::{ExportError, neuron_cells_json, neuron_json};
pub use neuron_network::neuron_network_json;
pub use npy::write_npy;
pub use npz::write_npz;

/// Writes `traces` to `path` in the format its extension names: `.npy` ([`write_npy`]), `.npz`
/// ([`write_npz`]), anything else CSV ([`crate::Traces::write_csv`]); the CLI's `-o` and Python's `Run.save`.
pub fn write_traces_file(traces: &crate::Traces, path: &std::path::Path) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut out = std::io::BufWriter::new(file);
    let extension = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    match extension.as_deref() {
        Some("npy") => write_npy(traces, &mut out)?,
        Some("npz") => write_npz(traces, &mut out)?,
        _ => traces.write_csv(&mut out)?,
    }
    std::io::Write::flush(&mut out)
}
