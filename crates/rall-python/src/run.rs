//! `Run`: a simulation's traces in; NumPy arrays out (time, probes × time, sensitivities
//! `[time, probe, parameter]`, spikes), and the command line's CSV and .npy files when asked.

use numpy::ndarray::{Array2, Array3};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArray3};
use pyo3::exceptions::{PyIOError, PyKeyError};
use pyo3::prelude::*;
use rall::Traces;
use std::path::PathBuf;

/// The traces of one run. `run["soma"]` is a probe's column; `run.traces[k, p]` sample `k` of probe `p`.
#[pyclass(module = "rall", frozen)]
pub struct Run {
    traces: Traces,
    parameters: Vec<String>,
    warnings: Vec<String>,
}

impl Run {
    pub fn new(traces: Traces, parameters: Vec<String>, warnings: Vec<String>) -> Self {
        Self {
            traces,
            parameters,
            warnings,
        }
    }

    /// How many probes carry sensitivities (the first ones; a controller's columns carry none).
    fn differentiated_probes(&self) -> usize {
        self.traces
            .tangents
            .len()
            .checked_div(self.parameters.len())
            .unwrap_or(0)
    }
}

#[pymethods]
impl Run {
    /// Sample times [ms].
    #[getter]
    fn time<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.traces.time_ms)
    }

    /// The probes' names, in the order of `traces`' columns.
    #[getter]
    fn probes(&self) -> Vec<String> {
        self.traces.names.clone()
    }

    /// Each probe's unit (`mV` for a voltage).
    #[getter]
    fn units(&self) -> Vec<String> {
        self.traces.units.clone()
    }

    /// All traces, `[time, probe]`.
    #[getter]
    fn traces<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        let (samples, probes) = (self.traces.time_ms.len(), self.traces.values.len());
        Array2::from_shape_fn((samples, probes), |(k, p)| self.traces.values[p][k]).into_pyarray(py)
    }

    /// The differentiated parameters' labels, in the order of `sensitivities`' last axis.
    #[getter]
    fn parameters(&self) -> Vec<String> {
        self.parameters.clone()
    }

    /// `d probe / d parameter`, `[time, probe, parameter]` (per unit of the parameter, or of its multiplier or
    /// logarithm as named); None without sensitivities.
    #[getter]
    fn sensitivities<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray3<f64>>> {
        let lanes = self.parameters.len();
        if lanes == 0 {
            return None;
        }
        let shape = (self.traces.time_ms.len(), self.differentiated_probes(), lanes);
        let tangents = &self.traces.tangents;
        Some(Array3::from_shape_fn(shape, |(k, p, q)| tangents[p * lanes + q][k]).into_pyarray(py))
    }

    /// Spike times [ms] of every detector and spike source, in time order.
    #[getter]
    fn spike_times<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        let times: Vec<f64> = self.traces.spikes.iter().map(|s| s.t_ms).collect();
        times.into_pyarray(py)
    }

    /// The gid of each spike (an index into `gids`).
    #[getter]
    fn spike_gids<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u64>> {
        let gids: Vec<u64> = self.traces.spikes.iter().map(|s| s.gid as u64).collect();
        gids.into_pyarray(py)
    }

    /// The name of every gid: the cells, then the spike sources.
    #[getter]
    fn gids(&self) -> Vec<String> {
        self.traces.gids.clone()
    }

    /// Warnings about the run's accuracy (a step too coarse for the dynamics).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// Column names as the command line writes them: `t`, the probes, then `d<probe>/d<parameter>`.
    fn keys(&self) -> Vec<String> {
        let t = std::iter::once("t".to_string());
        t.chain(self.traces.names.iter().cloned())
            .chain(self.traces.tangent_names.iter().cloned())
            .collect()
    }

    /// One column by its name (see `keys()`).
    fn __getitem__<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let t = &self.traces;
        let column = if name == "t" {
            Some(t.time_ms.as_slice())
        } else {
            t.column(name).or_else(|| {
                t.tangent_names
                    .iter()
                    .position(|n| n == name)
                    .map(|i| t.tangents[i].as_slice())
            })
        };
        column.map(|c| PyArray1::from_slice(py, c)).ok_or_else(|| {
            let hint = rall::suggest::did_you_mean(name, self.keys().iter().map(String::as_str));
            PyKeyError::new_err(format!("no column `{name}`{hint}"))
        })
    }

    fn __len__(&self) -> usize {
        self.traces.time_ms.len()
    }

    /// Writes the command line's CSV (`.csv`), NumPy file (`.npy`, one structured array) or NumPy archive
    /// (`.npz`: time, traces, sensitivities, spikes and their names).
    fn save(&self, path: PathBuf) -> PyResult<()> {
        rall::export::write_traces_file(&self.traces, &path)
            .map_err(|e| PyIOError::new_err(format!("{}: {e}", path.display())))
    }

    fn __repr__(&self) -> String {
        format!(
            "<rall.Run {} samples to {} ms, probes {:?}{}>",
            self.traces.time_ms.len(),
            self.traces.time_ms.last().copied().unwrap_or(0.0),
            self.traces.names,
            if self.parameters.is_empty() {
                String::new()
            } else {
                format!(", sensitivities to {:?}", self.parameters)
            }
        )
    }
}
