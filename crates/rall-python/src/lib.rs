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
