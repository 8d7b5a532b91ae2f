//! `FitProblem`: a model's fitting problem (its `[fit]` table, or parameters and a target given from Python)
//! in; the loss and its exact gradient at multipliers, as SciPy's `minimize(jac=True)` takes them, out.

use crate::model::parse_specs;
use crate::run::Run;
use crate::{ModelError, SimulationError};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rall::fit::{FitParameter, Protocol, TargetTraces, Window};
use std::collections::BTreeMap;

/// A target from Python: `(time [ms], {probe: values})`.
pub type TargetArrays = (Vec<f64>, BTreeMap<String, Vec<f64>>);

/// Parameters as multipliers of their values in the model, and the loss
/// `Σ_protocols weight · ½ Σ_windows w · mean((v(m) - target)²)`.
#[pyclass(module = "rall", frozen)]
pub struct FitProblem {
    problem: rall::fit::FitProblem,
}

impl FitProblem {
    pub fn new(problem: rall::fit::FitProblem) -> Self {
        Self { problem }
    }

    /// A problem over the model as written against `(time_ms, columns)`.
    pub fn custom(
        model: &rall::model::Model,
        names: &[String],
        (time_ms, columns): TargetArrays,
        windows: Option<Vec<(f64, f64, f64)>>,
        (lower, upper): (f64, f64),
    ) -> PyResult<rall::fit::FitProblem> {
        if !(0.0 < lower && lower <= 1.0 && 1.0 <= upper) {
            return Err(PyValueError::new_err(format!(
                "bounds ({lower}, {upper}) must hold the start multiplier 1 and have a positive lower end"
            )));
        }
        let parameters: Vec<FitParameter> = parse_specs(names)?
            .into_iter()
            .map(|spec| FitParameter {
                spec,
                start: 1.0,
                lower,
                upper,
            })
            .collect();
        if let Some((name, _)) = columns.iter().find(|(_, v)| v.len() != time_ms.len()) {
            return Err(PyValueError::new_err(format!(
                "target column `{name}` has a length other than the time's ({})",
                time_ms.len()
            )));
        }
        let (names, values): (Vec<String>, Vec<Vec<f64>>) = columns.into_iter().unzip();
        let target = TargetTraces { time_ms, names, values };
        let mut protocol = Protocol::new(model.cells.clone(), target);
        protocol.windows = windows
            .unwrap_or_default()
            .into_iter()
            .map(|(start_ms, end_ms, weight)| Window {
                start_ms,
                end_ms,
                weight,
            })
            .collect();
        let problem = rall::fit::FitProblem {
            protocols: vec![protocol],
            catalogue: model.catalogue.clone(),
            options: model.options,
            parameters,
            space: rall::fit::Space::Multiplier,
            curriculum: None,
        };
        // A parameter that the cells do not have fails here, not in the optimiser's first step.
        let start = problem.parameters.iter().map(|p| p.start).collect::<Vec<_>>();
        for p in &problem.protocols {
            problem
                .simulate_protocol(p, &start, false, 0.0)
                .map_err(ModelError::new_err)?;
        }
        Ok(problem)
    }

    fn multipliers(&self, m: PyReadonlyArray1<'_, f64>) -> PyResult<Vec<f64>> {
        let m = m.as_slice()?.to_vec();
        let n = self.problem.parameters.len();
        if m.len() != n {
            return Err(PyValueError::new_err(format!(
                "expected {n} multipliers ({:?}), got {}",
                self.names(),
                m.len()
            )));
        }
        Ok(m)
    }
}

#[pymethods]
impl FitProblem {
    /// The parameters' labels, in the order of the multipliers.
    #[getter]
    fn names(&self) -> Vec<String> {
        self.problem.parameters.iter().map(|p| p.spec.label()).collect()
    }

    /// The start multipliers.
    #[getter]
    fn start<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        let start: Vec<f64> = self.problem.parameters.iter().map(|p| p.start).collect();
        start.into_pyarray(py)
    }

    /// `(lower, upper)` of every multiplier, as `scipy.optimize.minimize(bounds=...)` takes them.
    #[getter]
    fn bounds(&self) -> Vec<(f64, f64)> {
        self.problem.parameters.iter().map(|p| (p.lower, p.upper)).collect()
    }

    /// The loss and its exact gradient with respect to the multipliers `m` (one run with sensitivities per
    /// protocol, in parallel): `scipy.optimize.minimize(problem, x0, jac=True)`.
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        m: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<(f64, Bound<'py, PyArray1<f64>>)> {
        let m = self.multipliers(m)?;
        let (loss, gradient) = py
            .detach(|| self.problem.loss_and_gradient(&m))
            .map_err(SimulationError::new_err)?;
        Ok((loss, gradient.into_pyarray(py)))
    }

    /// The loss alone at multipliers `m` (runs without sensitivities).
    fn loss(&self, py: Python<'_>, m: PyReadonlyArray1<'_, f64>) -> PyResult<f64> {
        let m = self.multipliers(m)?;
        py.detach(|| self.problem.loss(&m)).map_err(SimulationError::new_err)
    }

    /// The traces of protocol `protocol` at multipliers `m`.
    #[pyo3(signature = (m, protocol=0))]
    fn simulate(&self, py: Python<'_>, m: PyReadonlyArray1<'_, f64>, protocol: usize) -> PyResult<Run> {
        let m = self.multipliers(m)?;
        let p =
            self.problem.protocols.get(protocol).ok_or_else(|| {
                PyValueError::new_err(format!("there are {} protocols", self.problem.protocols.len()))
            })?;
        let traces = py
            .detach(|| self.problem.simulate_protocol(p, &m, false, f64::INFINITY))
            .map_err(SimulationError::new_err)?;
        Ok(Run::new(traces, Vec::new(), Vec::new()))
    }

    fn __repr__(&self) -> String {
        format!(
            "<rall.FitProblem {} protocol(s), parameters {:?}>",
            self.problem.protocols.len(),
            self.names()
        )
    }
}
