//! `FitProblem`: a model's fitting problem (its `[fit]` table, or parameters and a target given from Python)
//! in; the loss and its exact gradient at multipliers, as SciPy's `minimize(jac=True)` takes them, out.

use crate::model::parse_specs;
use crate::run::Run;
use crate::{Interruptible, ModelError, SimulationError};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rall::fit::{FitParameter, FitResult, Protocol, Record, TargetTraces, Window};
use rall::model::Optimizer;
use std::collections::BTreeMap;

/// A target from Python: `(time [ms], {probe: values})`.
pub type TargetArrays = (Vec<f64>, BTreeMap<String, Vec<f64>>);

/// Parameters as multipliers of their values in the model, and the loss
/// `Σ_protocols weight · ½ Σ_windows w · mean((v(m) - target)²)`.
#[pyclass(module = "rall", frozen)]
pub struct FitProblem {
    problem: rall::fit::FitProblem,
    /// The `[fit]` table's optimiser and iterations, when the problem comes from one.
    optimizer: Option<(Optimizer, usize)>,
    /// The `[fit]` table's `truth` multipliers (of a synthetic target), when it gives them.
    truth: Option<Vec<f64>>,
}

/// The optimisers `FitProblem.fit` knows, by the names the model file's `[fit] optimizer` takes.
const OPTIMIZERS: [&str; 4] = ["adam", "lbfgs", "levenberg-marquardt", "cmaes"];

fn optimizer_named(name: &str) -> PyResult<Optimizer> {
    Ok(match name {
        "adam" => Optimizer::Adam(Default::default()),
        "lbfgs" => Optimizer::Lbfgs(Default::default()),
        "levenberg-marquardt" => Optimizer::LevenbergMarquardt(Default::default()),
        "cmaes" => Optimizer::Cmaes(Default::default()),
        _ => {
            return Err(PyValueError::new_err(format!(
                "unknown optimizer `{name}`{}; expected one of {OPTIMIZERS:?}",
                rall::suggest::did_you_mean(name, OPTIMIZERS)
            )));
        }
    })
}

fn same_kind(a: &Optimizer, b: &Optimizer) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// The settings each optimiser takes from Python, by the names of the model file's `[fit]` keys.
fn setting_names(optimizer: &Optimizer) -> &'static [&'static str] {
    match optimizer {
        Optimizer::Adam(_) => &[
            "learning_rate",
            "beta1",
            "beta2",
            "decay",
            "epsilon",
            "relative_epsilon",
            "clip",
        ],
        Optimizer::Lbfgs(_) => &[],
        Optimizer::LevenbergMarquardt(_) => &["damping"],
        Optimizer::Cmaes(_) => &["population", "step", "seed"],
    }
}

/// `optimizer` with the settings given as keyword arguments: each a key its optimiser takes (else an error
/// naming the ones it does), a finite positive number (`beta1`, `beta2` and `relative_epsilon` may be 0 and
/// the betas must stay below 1; `population` and `seed` whole numbers).
fn with_settings(mut optimizer: Optimizer, settings: Option<&Bound<'_, PyDict>>) -> PyResult<Optimizer> {
    let Some(settings) = settings else {
        return Ok(optimizer);
    };
    let known = setting_names(&optimizer);
    for (key, value) in settings.iter() {
        let key: String = key.extract()?;
        if !known.contains(&key.as_str()) {
            return Err(PyValueError::new_err(format!(
                "this optimizer takes no setting `{key}`{}; it takes {}",
                rall::suggest::did_you_mean(&key, known.iter().copied()),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
        let x: f64 = value.extract()?;
        let may_be_zero = matches!(key.as_str(), "beta1" | "beta2" | "relative_epsilon" | "seed");
        let below_one = matches!(key.as_str(), "beta1" | "beta2");
        let whole = matches!(key.as_str(), "population" | "seed");
        if !(x.is_finite() && (x > 0.0 || (may_be_zero && x == 0.0)) && (!below_one || x < 1.0))
            || (whole && x.fract() != 0.0)
        {
            return Err(PyValueError::new_err(format!(
                "`{key}` must be a finite {}number {} (got {x})",
                if whole { "whole " } else { "" },
                match (may_be_zero, below_one) {
                    (true, true) => "in [0, 1)",
                    (true, false) => ">= 0",
                    _ => "> 0",
                }
            )));
        }
        match (&mut optimizer, key.as_str()) {
            (Optimizer::Adam(a), "learning_rate") => a.learning_rate = x,
            (Optimizer::Adam(a), "beta1") => a.beta1 = x,
            (Optimizer::Adam(a), "beta2") => a.beta2 = x,
            (Optimizer::Adam(a), "decay") => a.decay = x,
            (Optimizer::Adam(a), "epsilon") => a.epsilon = x,
            (Optimizer::Adam(a), "relative_epsilon") => a.relative_epsilon = x,
            (Optimizer::Adam(a), _) => a.clip_norm = Some(x),
            // L-BFGS takes none: every key was refused above.
            (Optimizer::Lbfgs(_), _) => {}
            (Optimizer::LevenbergMarquardt(l), _) => l.initial_damping = x,
            (Optimizer::Cmaes(c), "population") => c.population = Some(x as usize),
            (Optimizer::Cmaes(c), "step") => c.step = x,
            (Optimizer::Cmaes(c), _) => c.seed = x as u64,
        }
    }
    Ok(optimizer)
}

impl FitProblem {
    pub fn new(problem: rall::fit::FitProblem, optimizer: Option<(Optimizer, usize)>, truth: Option<Vec<f64>>) -> Self {
        Self {
            problem,
            optimizer,
            truth,
        }
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
            built: Default::default(),
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

    /// The `[fit]` table's `truth` multipliers (what its synthetic targets were simulated at), or None.
    #[getter]
    fn truth<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
        self.truth.clone().map(|t| t.into_pyarray(py))
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

    /// Runs one of rall's optimisers (those of `rall fit`): `optimizer` is "adam", "lbfgs",
    /// "levenberg-marquardt" or "cmaes" (default: the `[fit]` table's, with its settings), for `iterations`
    /// (default: the table's, else 100). Settings as keywords, named as the `[fit]` keys: Adam's
    /// `learning_rate`, `beta1`, `beta2`, `decay`, `epsilon`, `relative_epsilon`, `clip`; Levenberg-Marquardt's
    /// `damping`; CMA-ES's `population`, `step`, `seed` (the others keep the table's values for its own
    /// optimiser, else the defaults). `callback(iteration, loss, multipliers)` sees every record and stops
    /// the fit by returning False; Ctrl-C stops it with KeyboardInterrupt. Returns a dict: `best_multipliers`,
    /// `best_loss`, `best_iteration`, and the history as arrays (`iteration`, `simulations`, `seconds`, `loss`,
    /// `multipliers` `[record, parameter]`).
    #[pyo3(signature = (optimizer=None, iterations=None, callback=None, **settings))]
    fn fit<'py>(
        &self,
        py: Python<'py>,
        optimizer: Option<&str>,
        iterations: Option<usize>,
        callback: Option<Py<PyAny>>,
        settings: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (method, default_iterations) = match (optimizer, &self.optimizer) {
            (None, Some(table)) => table.clone(),
            (None, None) => {
                return Err(PyValueError::new_err(format!(
                    "name an optimizer, one of {OPTIMIZERS:?} (this problem has no [fit] table)"
                )));
            }
            (Some(name), table) => {
                let named = optimizer_named(name)?;
                match table {
                    // The table's settings for its own optimiser.
                    Some((settings, n)) if same_kind(settings, &named) => (settings.clone(), *n),
                    _ => (named, 100),
                }
            }
        };
        let method = with_settings(method, settings)?;
        let iterations = iterations.unwrap_or(default_iterations);
        let checks = Interruptible::default();
        let observe = |record: &Record| -> bool {
            checks.go_on(|py| match &callback {
                Some(f) => f
                    .call1(py, (record.iteration, record.loss, record.multipliers.clone()))
                    .and_then(|answer| Ok(answer.is_none(py) || answer.is_truthy(py)?)),
                None => Ok(true),
            })
        };
        let problem = &self.problem;
        let result = py.detach(|| match method {
            Optimizer::Adam(s) => problem.adam(s, iterations, observe),
            Optimizer::Lbfgs(s) => problem.lbfgs(s, iterations, observe),
            Optimizer::LevenbergMarquardt(s) => problem.levenberg_marquardt(s, iterations, observe),
            Optimizer::Cmaes(s) => problem.cmaes(s, iterations, observe),
        });
        let result = checks.result(result)?;
        fit_result_dict(py, &result)
    }

    /// What the loss says about each parameter at multipliers `m` (one gradient evaluation): a dict with
    /// `loss`, `curvature` (the Gauss-Newton matrix in log-multipliers), `eigenvalues` of its scaled form
    /// (near zero: combinations the loss cannot tell apart) and per parameter the loss rise when it alone is
    /// 5 % off, when the others compensate, and the largest relative error compatible with the loss.
    fn identifiability<'py>(&self, py: Python<'py>, m: PyReadonlyArray1<'_, f64>) -> PyResult<Bound<'py, PyDict>> {
        let m = self.multipliers(m)?;
        let report = py
            .detach(|| self.problem.identifiability(&m))
            .map_err(SimulationError::new_err)?;
        let n = m.len();
        let out = PyDict::new(py);
        out.set_item("loss", report.loss)?;
        let curvature = Array2::from_shape_vec((n, n), report.curvature).expect("n x n");
        out.set_item("curvature", curvature.into_pyarray(py))?;
        out.set_item("eigenvalues", report.eigenvalues.into_pyarray(py))?;
        let column = |f: fn(&rall::fit::ParameterIdentifiability) -> f64| -> Vec<f64> {
            report.parameters.iter().map(f).collect()
        };
        out.set_item(
            "names",
            report.parameters.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
        )?;
        out.set_item(
            "rise_alone_5_percent",
            column(|p| p.rise_alone_5_percent).into_pyarray(py),
        )?;
        out.set_item(
            "rise_compensated_5_percent",
            column(|p| p.rise_compensated_5_percent).into_pyarray(py),
        )?;
        out.set_item(
            "relative_error_bound",
            column(|p| p.relative_error_bound).into_pyarray(py),
        )?;
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!(
            "<rall.FitProblem {} protocol(s), parameters {:?}>",
            self.problem.protocols.len(),
            self.names()
        )
    }
}

/// A finished fit as a dict of NumPy arrays.
fn fit_result_dict<'py>(py: Python<'py>, result: &FitResult) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("best_multipliers", result.best_multipliers.clone().into_pyarray(py))?;
    out.set_item("best_loss", result.best_loss)?;
    out.set_item("best_iteration", result.best_iteration)?;
    let history = &result.history;
    let column = |f: fn(&Record) -> f64| -> Vec<f64> { history.iter().map(f).collect() };
    out.set_item("iteration", column(|r| r.iteration as f64).into_pyarray(py))?;
    out.set_item("simulations", column(|r| r.simulations as f64).into_pyarray(py))?;
    out.set_item("seconds", column(|r| r.seconds).into_pyarray(py))?;
    out.set_item("loss", column(|r| r.loss).into_pyarray(py))?;
    let n = result.best_multipliers.len();
    let multipliers = Array2::from_shape_fn((history.len(), n), |(k, q)| history[k].multipliers[q]);
    out.set_item("multipliers", multipliers.into_pyarray(py))?;
    Ok(out)
}
