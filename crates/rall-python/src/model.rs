//! `rall.load(path)` and `Model`: a model file in; its probes and parameters, and runs with sensitivities
//! and parameter multipliers, out.

use crate::problem::FitProblem;
use crate::run::Run;
use crate::{Interruptible, ModelError};
use pyo3::prelude::*;
use pyo3::types::PyBool;
use rall::mechanism::Catalogue;
use rall::model::{BuildError, BuiltModel};
use rall::sensitivity::{ParameterSpec, perturbed};
use rall::{Cell, Traces};
use std::path::PathBuf;

/// Reads a model file (TOML; see docs/model-format.md). Raises `rall.ModelError` with the file, line and
/// column of what is wrong.
#[pyfunction]
pub fn load(path: PathBuf) -> PyResult<Model> {
    let model =
        rall::model::load_model(&path, &Catalogue::default()).map_err(|e| ModelError::new_err(e.to_string()))?;
    Ok(Model::new(model))
}

/// Reads model text (the model file's TOML); `file` names it in errors and relative paths are taken from
/// `base`. Raises `rall.ModelError` with `file:line:column` of what is wrong.
#[pyfunction]
#[pyo3(signature = (text, file="<string>", base=None))]
pub fn loads(text: &str, file: &str, base: Option<PathBuf>) -> PyResult<Model> {
    let base = base.unwrap_or_else(|| PathBuf::from("."));
    let mut model = rall::model::parse_model(text, file, &base, &Catalogue::default())
        .map_err(|e| ModelError::new_err(e.to_string()))?;
    model.file = PathBuf::from(file);
    Ok(Model::new(model))
}

/// A model file, read and checked: its cells (or network) and how to run them.
#[pyclass(module = "rall")]
pub struct Model {
    pub(crate) model: rall::model::Model,
    /// The simulation of the last `run`, kept for the next one with the same parameter names.
    built: std::sync::Mutex<Option<Built>>,
}

/// A simulation built for some multiplied and differentiated parameters (`key`: their specs), or `None` when
/// the multipliers can only be applied by rebuilding the cells at every run.
struct Built {
    key: String,
    model: Option<BuiltModel>,
}

impl Model {
    pub(crate) fn new(model: rall::model::Model) -> Self {
        Self {
            model,
            built: Default::default(),
        }
    }
}

/// Parameter names as the command line's `--param` takes them: `NAME[@REGION][:value|multiplier|log]`.
pub(crate) fn parse_specs(names: &[String]) -> PyResult<Vec<ParameterSpec>> {
    names
        .iter()
        .map(|n| ParameterSpec::parse(n).map_err(|e| ModelError::new_err(format!("parameter {e}"))))
        .collect()
}

impl Model {
    fn at(&self, e: &dyn std::fmt::Display) -> String {
        format!("{}: {e}", self.model.file.display())
    }

    /// The model's cells with each `(parameter, factor)` multiplied in.
    fn cells_with(&self, multipliers: &[(ParameterSpec, f64)]) -> PyResult<Vec<(String, Cell)>> {
        let mut cells = self.model.cells.clone();
        for (spec, factor) in multipliers {
            for (name, cell) in &mut cells {
                *cell = perturbed(cell, &self.model.catalogue, spec, *factor)
                    .map_err(|e| ModelError::new_err(self.at(&format!("cell `{name}`: {e}"))))?;
            }
        }
        Ok(cells)
    }

    /// `multipliers` as a dict `{name: factor}`, or a sequence of factors for the model's `[[parameter]]`
    /// entries in order (`model.parameters`).
    fn multiplier_specs(&self, multipliers: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(ParameterSpec, f64)>> {
        let Some(m) = multipliers else {
            return Ok(Vec::new());
        };
        if let Ok(by_name) = m.extract::<std::collections::BTreeMap<String, f64>>() {
            let mut out = Vec::new();
            for (name, factor) in by_name {
                out.push((parse_specs(&[name])?.remove(0), factor));
            }
            return Ok(out);
        }
        let factors: Vec<f64> = m.extract().map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(
                "multipliers: expected a dict {name: factor} or a sequence of factors for model.parameters",
            )
        })?;
        let specs = &self.model.parameters;
        if factors.len() != specs.len() {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "multipliers: {} factors for the {} parameters {:?}",
                factors.len(),
                specs.len(),
                specs.iter().map(ParameterSpec::label).collect::<Vec<_>>()
            )));
        }
        Ok(specs.iter().cloned().zip(factors).collect())
    }

    /// The parameters `sensitivities` names: `True` for the model's `[[parameter]]` entries, else a list of names.
    fn sensitivity_specs(&self, sensitivities: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<ParameterSpec>> {
        let Some(s) = sensitivities else {
            return Ok(Vec::new());
        };
        if let Ok(flag) = s.cast::<PyBool>() {
            return Ok(if flag.is_true() {
                self.model.parameters.clone()
            } else {
                Vec::new()
            });
        }
        let names: Vec<String> = s.extract().map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(
                "sensitivities: expected True (the model's [[parameter]] entries) or a list of names such as \
                 'hh.gnabar@soma:multiplier'",
            )
        })?;
        parse_specs(&names)
    }
}

/// Runs `run` (a simulation's `run_with`) without holding the GIL; between chunks of steps it checks for
/// Ctrl-C and reports the fraction done to `progress`.
pub(crate) fn run_detached(
    py: Python<'_>,
    progress: Option<&Py<PyAny>>,
    run: impl FnOnce(&mut (dyn FnMut(f64) -> bool + Send)) -> Result<Traces, rall::simulation::SimulationError> + Send,
) -> PyResult<Traces> {
    let checks = Interruptible::default();
    let result = py.detach(|| {
        run(&mut |fraction| checks.go_on(|py| progress.map_or(Ok(true), |p| p.call1(py, (fraction,)).map(|_| true))))
    });
    checks.result(result.map_err(|e| e.to_string()))
}

#[pymethods]
impl Model {
    /// The model file.
    #[getter]
    fn file(&self) -> PathBuf {
        self.model.file.clone()
    }

    /// Simulated time [ms] (from `[simulation] t_stop`).
    #[getter]
    fn t_stop(&self) -> f64 {
        self.model.options.t_stop_ms
    }

    #[setter]
    fn set_t_stop(&mut self, t_stop: f64) -> PyResult<()> {
        if !(t_stop >= 0.0 && t_stop.is_finite()) {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "t_stop must be finite and >= 0 ms, got {t_stop}"
            )));
        }
        self.model.options.t_stop_ms = t_stop;
        Ok(())
    }

    /// Time step [ms].
    #[getter]
    fn dt(&self) -> f64 {
        self.model.options.dt_ms
    }

    #[setter]
    fn set_dt(&mut self, dt: f64) -> PyResult<()> {
        if !(dt > 0.0 && dt.is_finite()) {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "dt must be finite and > 0 ms, got {dt}"
            )));
        }
        self.model.options.dt_ms = dt;
        Ok(())
    }

    /// Interval between samples of the traces [ms].
    #[getter]
    fn sample_interval(&self) -> f64 {
        self.model.options.sample_interval_ms
    }

    /// The cells' names.
    /// The current clamps of every cell as the model file describes them (multipliers not applied): a list of
    /// dicts with `cell`, `index` (the cell's `stimulus[index]`), `delay`, `duration` [ms], `amplitude` [nA],
    /// `locations` (how many places it injects at) and `current`, the injected current [nA] at each of `time`
    /// [ms] (for `rall.nwb`).
    fn stimuli<'py>(
        &self,
        py: Python<'py>,
        time: numpy::PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Vec<Bound<'py, pyo3::types::PyDict>>> {
        use numpy::IntoPyArray;
        let time = time.as_slice()?;
        let mut out = Vec::new();
        for (name, cell) in &self.model.cells {
            for (index, clamp) in cell.decor.clamps.iter().enumerate() {
                let d = pyo3::types::PyDict::new(py);
                d.set_item("cell", name)?;
                d.set_item("index", index)?;
                d.set_item("delay", clamp.delay_ms)?;
                d.set_item("duration", clamp.duration_ms)?;
                d.set_item("amplitude", clamp.amplitude_na)?;
                d.set_item("locations", clamp.locset.locations.len())?;
                let current: Vec<f64> = time.iter().map(|&t| clamp.current_at(t)).collect();
                d.set_item("current", current.into_pyarray(py))?;
                out.push(d);
            }
        }
        Ok(out)
    }

    #[getter]
    fn cells(&self) -> Vec<String> {
        self.model.cells.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The labels of the model's `[[parameter]]` entries (what `run(sensitivities=True)` differentiates).
    #[getter]
    fn parameters(&self) -> Vec<String> {
        self.model.parameters.iter().map(ParameterSpec::label).collect()
    }

    /// What the file asks for that runs but may not be what was meant, each with its file and line.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.model.warnings.iter().map(ToString::to_string).collect()
    }

    /// The probes' names, in the order of the traces' columns.
    #[getter]
    fn probes(&self) -> PyResult<Vec<String>> {
        let simulation = self.model.simulation(&self.model.cells, &[]);
        Ok(simulation.map_err(|e| ModelError::new_err(self.at(&e)))?.probe_names())
    }

    /// Simulates the model and returns its traces as a `rall.Run`; writes nothing.
    ///
    /// t_stop, dt: override the model's [ms]. sensitivities: True for the model's `[[parameter]]` entries, or
    /// names such as `"hh.gnabar@soma:multiplier"` (the command line's `--param`); their exact sensitivities
    /// come back as `Run.sensitivities[time, probe, parameter]`. multipliers: `{name: factor}` (names such as
    /// `"hh.gnabar@soma"`, `"cm"`, `"stimulus[0].amplitude"`), or factors for `model.parameters` in order,
    /// multiplies parameters before the run. progress: a callable given the fraction done about 200 times
    /// per run. Ctrl-C stops the run with KeyboardInterrupt.
    #[pyo3(signature = (*, t_stop=None, dt=None, sensitivities=None, multipliers=None, progress=None))]
    fn run(
        &self,
        py: Python<'_>,
        t_stop: Option<f64>,
        dt: Option<f64>,
        sensitivities: Option<&Bound<'_, PyAny>>,
        multipliers: Option<&Bound<'_, PyAny>>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Run> {
        let m = &self.model;
        let mut options = m.options;
        if let Some(t) = t_stop {
            options.t_stop_ms = t;
        }
        if let Some(dt) = dt {
            options.dt_ms = dt;
        }
        let specs = self.sensitivity_specs(sensitivities)?;
        if m.homeostasis.is_some() && !specs.is_empty() {
            return Err(ModelError::new_err(self.at(
                &"[homeostasis] brings its own sensitivities: run it without sensitivities",
            )));
        }
        let multiplied = self.multiplier_specs(multipliers)?;
        let key = format!("{:?} {specs:?}", multiplied.iter().map(|(s, _)| s).collect::<Vec<_>>());
        let cached = self.built.lock().expect("not poisoned").take().filter(|b| b.key == key);
        let mut built = match cached {
            Some(built) => built,
            None => {
                let names: Vec<ParameterSpec> = multiplied.iter().map(|(s, _)| s.clone()).collect();
                match m.build(&names, &specs) {
                    Ok(model) => Built {
                        key,
                        model: Some(model),
                    },
                    Err(BuildError::NotSettable { .. }) => Built { key, model: None },
                    Err(e) => return Err(ModelError::new_err(self.at(&e))),
                }
            }
        };
        let (traces, warnings) = match &mut built.model {
            Some(model) => {
                let factors: Vec<f64> = multiplied.iter().map(|(_, f)| *f).collect();
                let traces = run_detached(py, progress.as_ref(), |go_on| model.run_with(&factors, &options, go_on))?;
                (traces, model.accuracy_warnings())
            }
            None => {
                let cells = self.cells_with(&multiplied)?;
                let mut simulation = m
                    .simulation(&cells, &specs)
                    .map_err(|e| ModelError::new_err(self.at(&e)))?;
                let traces = run_detached(py, progress.as_ref(), |go_on| simulation.run_with(&options, go_on))?;
                (traces, simulation.accuracy_warnings())
            }
        };
        *self.built.lock().expect("not poisoned") = Some(built);
        Ok(Run::new(
            traces,
            specs.iter().map(ParameterSpec::label).collect(),
            warnings,
        ))
    }

    /// The fitting problem of the model's `[fit]` table: `problem(m)` gives the loss and its exact gradient
    /// at multipliers `m` (scipy.optimize.minimize(problem, problem.start, jac=True, bounds=problem.bounds)).
    ///
    /// With `parameters` and `target` it is built here instead: parameters as names (`"hh.gnabar@soma"`),
    /// target as `(time [ms], {probe: values})`, windows as `[(start, end, weight), ...]` [ms], each
    /// multiplier bounded by `bounds = (lower, upper)`.
    #[pyo3(signature = (parameters=None, target=None, windows=None, bounds=(0.01, 100.0)))]
    fn fit_problem(
        &self,
        parameters: Option<Vec<String>>,
        target: Option<crate::problem::TargetArrays>,
        windows: Option<Vec<(f64, f64, f64)>>,
        bounds: (f64, f64),
    ) -> PyResult<FitProblem> {
        let m = &self.model;
        let (problem, table) = match (parameters, target) {
            (None, None) => {
                let spec = m
                    .fit
                    .as_ref()
                    .ok_or_else(|| ModelError::new_err(self.at(&"no [fit] table (or give parameters and target)")))?;
                let problem = m.fit_problem(spec).map_err(ModelError::new_err)?;
                (problem, Some(spec))
            }
            (Some(names), Some(target)) => (FitProblem::custom(m, &names, target, windows, bounds)?, None),
            _ => {
                return Err(pyo3::exceptions::PyValueError::new_err(
                    "fit_problem: give both parameters and target, or neither (for the model's [fit] table)",
                ));
            }
        };
        let optimizer = table.map(|spec| (spec.optimizer.clone(), spec.iterations));
        let truth = table.and_then(|spec| spec.truth.clone());
        Ok(FitProblem::new(problem, optimizer, truth))
    }

    /// The cells as the JSON that validation/neuron/run_neuron.py builds in NEURON (same 3D points and nseg),
    /// for cross-checking a model there; `multipliers` as for `run`.
    #[pyo3(signature = (multipliers=None))]
    fn neuron_json(&self, multipliers: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
        let m = &self.model;
        let cells = self.cells_with(&self.multiplier_specs(multipliers)?)?;
        let value = rall::export::neuron_cells_json(&cells, &m.options, &m.catalogue, None)
            .map_err(|e| ModelError::new_err(self.at(&e)))?;
        Ok(value.to_string())
    }

    fn __repr__(&self) -> String {
        let m = &self.model;
        format!(
            "<rall.Model {} ({} cell{}, t_stop {} ms, dt {} ms)>",
            m.file.display(),
            m.cells.len(),
            if m.cells.len() == 1 { "" } else { "s" },
            m.options.t_stop_ms,
            m.options.dt_ms
        )
    }
}
