//! The Python package's native module `rall._rall`: model files in; runs, sensitivities and fitting problems
//! out as NumPy arrays, with rall's errors raised as Python exceptions that keep their file:line text.

mod model;
mod problem;
mod run;

use pyo3::prelude::*;

pyo3::create_exception!(
    rall,
    ModelError,
    pyo3::exceptions::PyValueError,
    "A model file, or something it names, is wrong; the message names the file, line and column."
);
pyo3::create_exception!(
    rall,
    SimulationError,
    pyo3::exceptions::PyRuntimeError,
    "A simulation could not go on: a value went non-finite (the message says where), or its options are invalid."
);

/// Checks made from work running without the GIL (a run's progress, an optimiser's records): each takes the
/// GIL, checks for Ctrl-C and calls the user's callback; the first error stops the work and is kept to be
/// raised when it has returned.
#[derive(Default)]
pub(crate) struct Interruptible {
    stopped: std::sync::Mutex<Option<PyErr>>,
}

impl Interruptible {
    /// Whether the work goes on: no Ctrl-C, and `callback` (if any) succeeded and did not say stop.
    pub(crate) fn go_on(&self, callback: impl FnOnce(Python<'_>) -> PyResult<bool>) -> bool {
        Python::attach(|py| {
            py.check_signals().and_then(|()| callback(py)).unwrap_or_else(|e| {
                *self.stopped.lock().expect("not poisoned") = Some(e);
                false
            })
        })
    }

    /// The work's result, or the error that stopped it.
    pub(crate) fn result<T>(self, result: Result<T, String>) -> PyResult<T> {
        if let Some(e) = self.stopped.into_inner().expect("not poisoned") {
            return Err(e);
        }
        result.map_err(SimulationError::new_err)
    }
}

#[pymodule]
fn _rall(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<model::Model>()?;
    m.add_class::<run::Run>()?;
    m.add_class::<problem::FitProblem>()?;
    m.add_function(wrap_pyfunction!(model::load, m)?)?;
    m.add_function(wrap_pyfunction!(model::loads, m)?)?;
    m.add("ModelError", m.py().get_type::<ModelError>())?;
    m.add("SimulationError", m.py().get_type::<SimulationError>())?;
    Ok(())
}
