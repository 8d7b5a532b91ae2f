//! Fitting problems: cells, parameters as multipliers of their values, and a target in; loss, exact gradient,
//! curvature, and Adam / L-BFGS / Levenberg-Marquardt / CMA-ES runs with a record per iteration out.

use super::levenberg_marquardt::damped_step;
use super::{
    Adam, AdamSettings, Cmaes, CmaesSettings, Identifiability, LbfgsSettings, LevenbergMarquardtSettings, Residuals,
    TargetTraces, Window, gram, mse_loss,
};
use crate::mechanism::Catalogue;
use crate::sensitivity::{ParameterSpec, SensitivitySetup, Transform, perturbed, setup_for};
use crate::{Cell, RunOptions, Simulation, Traces};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Mutex;
use std::time::Instant;

/// A parameter being fitted, as a multiplier `m` of its value in the model.
#[derive(Clone, Debug, PartialEq)]
pub struct FitParameter {
    pub spec: ParameterSpec,
    /// Start of the search [multiplier].
    pub start: f64,
    /// Bounds of the multiplier; the search is projected onto them.
    pub lower: f64,
    pub upper: f64,
}

/// In which variable the optimiser moves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Space {
    /// The multiplier itself (projected onto its bounds).
    #[default]
    Multiplier,
    /// Its logarithm.
    Log,
    /// `u` with `m = lower + (upper - lower) σ(u)`: unbounded search, multipliers always inside the bounds.
    Sigmoid,
}

/// One stimulus protocol: the cells as stimulated, the traces they should produce, and the weight of its loss.
#[derive(Clone)]
pub struct Protocol {
    pub name: String,
    pub cells: Vec<(String, Cell)>,
    pub target: TargetTraces,
    pub windows: Vec<Window>,
    pub weight: f64,
    /// Simulated time [ms]; `None`: the problem's `options.t_stop_ms`.
    pub t_stop_ms: Option<f64>,
}

impl Protocol {
    /// The model's cells against one target, over the whole run, weight 1.
    pub fn new(cells: Vec<(String, Cell)>, target: TargetTraces) -> Self {
        Self {
            name: "model".into(),
            cells,
            target,
            windows: vec![],
            weight: 1.0,
            t_stop_ms: None,
        }
    }
}

/// One fitting problem: `L(m) = Σ_protocols weight · ½ Σ_windows w · mean((v(m) - target)²)` over the probes
/// each target names.
pub struct FitProblem {
    pub protocols: Vec<Protocol>,
    pub catalogue: Catalogue,
    pub options: RunOptions,
    pub parameters: Vec<FitParameter>,
    pub space: Space,
    /// Curriculum over simulated time for the gradient methods: `(first t_stop [ms], iterations)`;
    /// the simulated time grows linearly to the full `t_stop` over that many iterations.
    pub curriculum: Option<(f64, usize)>,
    /// Simulations kept between evaluations (start with `Default::default()`).
    pub built: BuiltSimulations,
}

/// Simulations of the protocols built once, at multipliers 1, and given each new point's parameter values
/// instead of being rebuilt; keyed by protocol and the lanes they differentiate, several per key when
/// evaluations run in parallel.
#[derive(Default)]
pub struct BuiltSimulations {
    pool: Mutex<HashMap<PoolKey, Vec<Built>>>,
    /// Protocols whose cells are rebuilt at every point (see [`FitProblem::take_built`]).
    rebuilt: Mutex<HashSet<usize>>,
}

/// A protocol and the range of lanes its simulation differentiates.
type PoolKey = (usize, usize, usize);

/// A protocol's simulation with its sensitivity lanes and every cell's parameters as base values.
struct Built {
    simulation: Simulation,
    base: Vec<SensitivitySetup>,
}

/// A loss with its gradient and (when asked for) Gauss-Newton curvature in log-multipliers.
struct InLogs {
    loss: f64,
    gradient: Vec<f64>,
    curvature: Option<Vec<f64>>,
}

/// One line of a fit's history.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub iteration: usize,
    /// Simulations run so far, one per protocol per evaluation (a gradient run counts once; see
    /// `cost_of_gradient` for its plain-run equivalents).
    pub simulations: usize,
    pub seconds: f64,
    pub loss: f64,
    /// The multipliers evaluated at this iteration (Adam) or the generation's best (CMA-ES).
    pub multipliers: Vec<f64>,
}

impl Record {
    fn new(iteration: usize, simulations: usize, start: Instant, loss: f64, multipliers: Vec<f64>) -> Self {
        Self {
            iteration,
            simulations,
            seconds: start.elapsed().as_secs_f64(),
            loss,
            multipliers,
        }
    }
}

/// A finished (or interrupted) fit.
#[derive(Clone, Debug, PartialEq)]
pub struct FitResult {
    pub best_loss: f64,
    pub best_multipliers: Vec<f64>,
    /// The record (iteration) the best multipliers come from.
    pub best_iteration: usize,
    pub history: Vec<Record>,
}

impl FitResult {
    fn new(start: Vec<f64>) -> Self {
        Self {
            best_loss: f64::INFINITY,
            best_multipliers: start,
            best_iteration: 0,
            history: Vec::new(),
        }
    }

    /// Adds a record to the history (its point competing for the best when `competes`) and shows it to
    /// `observe`; false when `observe` asks to stop.
    fn push(&mut self, record: Record, competes: bool, observe: &mut impl FnMut(&Record) -> bool) -> bool {
        if competes {
            self.offer(record.iteration, record.loss, &record.multipliers);
        }
        let go_on = observe(&record);
        self.history.push(record);
        go_on
    }

    /// Keeps `m` if its loss is the lowest so far.
    fn offer(&mut self, iteration: usize, loss: f64, m: &[f64]) {
        if loss < self.best_loss {
            self.best_loss = loss;
            self.best_multipliers = m.to_vec();
            self.best_iteration = iteration;
        }
    }
}

impl FitProblem {
    fn cells_at(&self, cells: &[(String, Cell)], m: &[f64]) -> Result<Vec<(String, Cell)>, String> {
        cells
            .iter()
            .map(|(name, cell)| {
                let mut c = cell.clone();
                for (p, &factor) in self.parameters.iter().zip(m) {
                    c = perturbed(&c, &self.catalogue, &p.spec, factor).map_err(|e| e.to_string())?;
                }
                Ok((name.clone(), c))
            })
            .collect()
    }

    /// The longest simulated time of the protocols [ms].
    fn full_t_stop(&self) -> f64 {
        self.protocols
            .iter()
            .map(|p| p.t_stop_ms.unwrap_or(self.options.t_stop_ms))
            .fold(0.0, f64::max)
    }

    /// The cap on simulated time at an iteration of the curriculum [ms].
    fn t_stop_at(&self, iteration: usize) -> f64 {
        let full = self.full_t_stop();
        match self.curriculum {
            Some((first, n)) if iteration < n && first < full => first + (full - first) * iteration as f64 / n as f64,
            _ => full,
        }
    }

    /// Simulates one protocol at multipliers `m` for at most `cap_ms` (with the sensitivities to all
    /// parameters when `with_gradient`).
    pub fn simulate_protocol(
        &self,
        protocol: &Protocol,
        m: &[f64],
        with_gradient: bool,
        cap_ms: f64,
    ) -> Result<Traces, String> {
        let lanes = if with_gradient { 0..self.parameters.len() } else { 0..0 };
        self.simulate_lanes(protocol, m, lanes, cap_ms)
    }

    /// Simulates one protocol with the sensitivities to the parameters `lanes` (none when empty), with respect
    /// to the logarithms of the multipliers.
    fn simulate_lanes(
        &self,
        protocol: &Protocol,
        m: &[f64],
        lanes: Range<usize>,
        cap_ms: f64,
    ) -> Result<Traces, String> {
        let t_stop_ms = protocol.t_stop_ms.unwrap_or(self.options.t_stop_ms).min(cap_ms);
        let options = RunOptions {
            t_stop_ms,
            ..self.options
        };
        let fail = |e: crate::simulation::SimulationError| format!("protocol `{}`: {e}", protocol.name);
        let index = self.protocols.iter().position(|p| std::ptr::eq(p, protocol));
        if let Some((mut built, key)) = index.map(|k| self.take_built(k, &lanes)).transpose()?.flatten() {
            let traces = self.run_built(&mut built, m, &lanes, &options).map_err(fail);
            self.built
                .pool
                .lock()
                .expect("not poisoned")
                .entry(key)
                .or_default()
                .push(built);
            return traces;
        }
        // Parameters built into the cell (cm, ra, synapse weights) or lanes scaling the same value: a new cell
        // at `m`.
        let cells = self.cells_at(&protocol.cells, m)?;
        let mut sim = Simulation::new(&cells, &self.catalogue).map_err(|e| e.to_string())?;
        if !lanes.is_empty() {
            sim.enable_sensitivities(&cells, &self.catalogue, &self.lane_specs(&lanes), 0.0)
                .map_err(|e| e.to_string())?;
        }
        sim.run(&options, |_| {}).map_err(fail)
    }

    /// The lanes' parameters as multipliers.
    fn lane_specs(&self, lanes: &Range<usize>) -> Vec<ParameterSpec> {
        self.parameters[lanes.clone()]
            .iter()
            .map(|p| ParameterSpec {
                transform: Transform::Multiplier,
                ..p.spec.clone()
            })
            .collect()
    }

    /// A built simulation of protocol `k` with sensitivities to `lanes`, from the pool or built now; `None`
    /// when a parameter is built into the cells or two parameters scale the same value (decided once per
    /// protocol).
    fn take_built(&self, k: usize, lanes: &Range<usize>) -> Result<Option<(Built, PoolKey)>, String> {
        let key = (k, lanes.start, lanes.end);
        if let Some(built) = self
            .built
            .pool
            .lock()
            .expect("not poisoned")
            .get_mut(&key)
            .and_then(Vec::pop)
        {
            return Ok(Some((built, key)));
        }
        if self.built.rebuilt.lock().expect("not poisoned").contains(&k) {
            return Ok(None);
        }
        let cells = &self.protocols[k].cells;
        let all = self.lane_specs(&(0..self.parameters.len()));
        let mut base = Vec::with_capacity(cells.len());
        for (name, cell) in cells {
            let setup = setup_for(cell, &self.catalogue, &all).map_err(|e| format!("cell `{name}`: {e}"))?;
            if setup.values_at(&vec![1.0; all.len()]).is_err() || setup.lanes_overlap() {
                self.built.rebuilt.lock().expect("not poisoned").insert(k);
                return Ok(None);
            }
            base.push(setup);
        }
        let mut simulation = Simulation::new(cells, &self.catalogue).map_err(|e| e.to_string())?;
        if !lanes.is_empty() {
            simulation
                .enable_sensitivities(cells, &self.catalogue, &self.lane_specs(lanes), 0.0)
                .map_err(|e| e.to_string())?;
        }
        Ok(Some((Built { simulation, base }, key)))
    }

    /// Runs a built simulation at `m`. Its lanes' seeds are the values at multipliers 1, so its tangents are
    /// `dV/dm`; times `m` they are `dV/d(log m)`, as those of a cell built at `m`.
    fn run_built(
        &self,
        built: &mut Built,
        m: &[f64],
        lanes: &Range<usize>,
        options: &RunOptions,
    ) -> Result<Traces, crate::simulation::SimulationError> {
        let values: Vec<_> = built
            .base
            .iter()
            .map(|setup| setup.values_at(m).expect("checked when built"))
            .collect();
        built.simulation.set_parameter_values(&values)?;
        let mut traces = built.simulation.run(options, |_| {})?;
        let width = lanes.len();
        if width > 0 {
            for (column, tangent) in traces.tangents.iter_mut().enumerate() {
                let factor = m[lanes.start + column % width];
                tangent.iter_mut().for_each(|x| *x *= factor);
            }
        }
        Ok(traces)
    }

    /// The loss at multipliers `m` (the protocols simulated in parallel).
    pub fn loss(&self, m: &[f64]) -> Result<f64, String> {
        self.loss_until(m, f64::INFINITY)
    }

    fn loss_until(&self, m: &[f64], cap_ms: f64) -> Result<f64, String> {
        let losses: Vec<f64> = self
            .protocols
            .par_iter()
            .map(|p| {
                let traces = self.simulate_protocol(p, m, false, cap_ms)?;
                mse_loss(&traces, &p.target, &p.windows)
                    .map(|(l, _)| p.weight * l)
                    .map_err(|e| format!("protocol `{}`: {e}", p.name))
            })
            .collect::<Result<_, _>>()?;
        Ok(losses.iter().sum())
    }

    /// The loss and its exact gradient with respect to the multipliers at `m`.
    pub fn loss_and_gradient(&self, m: &[f64]) -> Result<(f64, Vec<f64>), String> {
        self.loss_and_gradient_until(m, f64::INFINITY)
    }

    fn loss_and_gradient_until(&self, m: &[f64], cap_ms: f64) -> Result<(f64, Vec<f64>), String> {
        let e = self.evaluate_in_logs(m, cap_ms, false)?;
        // dL/dm = dL/d(log m) / m.
        Ok((e.loss, e.gradient.iter().zip(m).map(|(g, m)| g / m).collect()))
    }

    /// The loss at `m` (each protocol simulated for at most `cap_ms`), its exact gradient with respect to the
    /// log-multipliers and, when `with_curvature`, its Gauss-Newton matrix in them (row-major `n × n`).
    fn evaluate_in_logs(&self, m: &[f64], cap_ms: f64, with_curvature: bool) -> Result<InLogs, String> {
        // Threads beyond one per protocol split the parameters: each share of lanes is its own simulation
        // (the primal run repeated), so a gradient takes less wall time on several cores.
        let n = m.len();
        let shares = (rayon::current_num_threads() / self.protocols.len().max(1)).clamp(1, n.max(1));
        let size = n.div_ceil(shares).max(1);
        let jobs: Vec<(usize, Range<usize>)> = (0..self.protocols.len())
            .flat_map(|p| (0..n).step_by(size).map(move |a| (p, a..(a + size).min(n))))
            .collect();
        let parts: Vec<(usize, Range<usize>, Residuals)> = jobs
            .into_par_iter()
            .map(|(k, lanes)| {
                let p = &self.protocols[k];
                let traces = self.simulate_lanes(p, m, lanes.clone(), cap_ms)?;
                let mut r = Residuals::new(&traces, &p.target, &p.windows)
                    .map_err(|e| format!("protocol `{}`: {e}", p.name))?;
                // The protocol's weight enters L = ½ Σ w |r|² as sqrt(w) on its residuals.
                let w = p.weight.sqrt();
                r.values.iter_mut().for_each(|x| *x *= w);
                r.jacobian.iter_mut().flatten().for_each(|x| *x *= w);
                Ok((k, lanes, r))
            })
            .collect::<Result<_, String>>()?;
        let mut loss = 0.0;
        let mut gradient = vec![0.0; n];
        // The lanes differentiate a multiplier μ of the already scaled value v0·m: d/dμ = d/d(log m).
        let mut columns: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); n]; self.protocols.len()];
        for (k, lanes, r) in parts {
            // Every share ran the same primal simulation: count its loss once.
            if lanes.start == 0 {
                loss += r.loss();
            }
            for (t, x) in gradient[lanes.clone()].iter_mut().zip(r.gradient()) {
                *t += x;
            }
            if with_curvature {
                for (slot, column) in columns[k][lanes].iter_mut().zip(r.jacobian) {
                    *slot = column;
                }
            }
        }
        let curvature = with_curvature.then(|| {
            let mut h = vec![0.0; n * n];
            for jacobian in &columns {
                h.iter_mut().zip(gram(jacobian)).for_each(|(h, x)| *h += x);
            }
            h
        });
        Ok(InLogs {
            loss,
            gradient,
            curvature,
        })
    }

    /// The loss at `m` with its Gauss-Newton curvature in log-multipliers and what it says about each
    /// parameter (one gradient evaluation).
    pub fn identifiability(&self, m: &[f64]) -> Result<Identifiability, String> {
        let e = self.evaluate_in_logs(m, f64::INFINITY, true)?;
        let names: Vec<String> = self.parameters.iter().map(|p| p.spec.label()).collect();
        let curvature = e.curvature.expect("asked for the curvature");
        Ok(Identifiability::new(&names, m, e.loss, curvature))
    }

    /// Wall time of a gradient run divided by that of a plain run, at the start point (all protocols, one thread).
    pub fn cost_of_gradient(&self) -> Result<f64, String> {
        let start: Vec<f64> = self.parameters.iter().map(|p| p.start).collect();
        let time = |with_gradient: bool| -> Result<f64, String> {
            let t = Instant::now();
            for p in &self.protocols {
                self.simulate_protocol(p, &start, with_gradient, f64::INFINITY)?;
            }
            Ok(t.elapsed().as_secs_f64())
        };
        let plain = time(false)?;
        Ok(time(true)? / plain.max(1e-12))
    }

    fn project(&self, m: &mut [f64]) {
        for (x, p) in m.iter_mut().zip(&self.parameters) {
            *x = x.clamp(p.lower, p.upper);
        }
    }

    /// Multipliers from the optimiser's variables (projected onto the bounds).
    fn multipliers(&self, u: &[f64]) -> Vec<f64> {
        let mut m: Vec<f64> = match self.space {
            Space::Multiplier => u.to_vec(),
            Space::Log => u.iter().map(|x| x.exp()).collect(),
            Space::Sigmoid => u
                .iter()
                .zip(&self.parameters)
                .map(|(x, p)| p.lower + (p.upper - p.lower) / (1.0 + (-x).exp()))
                .collect(),
        };
        self.project(&mut m);
        m
    }

    /// The optimiser's variables for multipliers `m`.
    fn search_variables(&self, m: &[f64]) -> Vec<f64> {
        match self.space {
            Space::Multiplier => m.to_vec(),
            Space::Log => m.iter().map(|x| x.ln()).collect(),
            Space::Sigmoid => m
                .iter()
                .zip(&self.parameters)
                .map(|(x, p)| {
                    let f = ((x - p.lower) / (p.upper - p.lower)).clamp(1e-12, 1.0 - 1e-12);
                    (f / (1.0 - f)).ln()
                })
                .collect(),
        }
    }

    /// `dL/du` from `dL/dm` at multipliers `m`.
    fn chain(&self, m: &[f64], gradient: &[f64]) -> Vec<f64> {
        match self.space {
            Space::Multiplier => gradient.to_vec(),
            Space::Log => gradient.iter().zip(m).map(|(g, m)| g * m).collect(),
            Space::Sigmoid => gradient
                .iter()
                .zip(m)
                .zip(&self.parameters)
                .map(|((g, m), p)| {
                    let f = (m - p.lower) / (p.upper - p.lower);
                    g * (p.upper - p.lower) * f * (1.0 - f)
                })
                .collect(),
        }
    }

    /// Adam on the multipliers (or their logarithms); `observe` sees every record and may stop the fit by returning false.
    pub fn adam(
        &self,
        settings: AdamSettings,
        iterations: usize,
        mut observe: impl FnMut(&Record) -> bool,
    ) -> Result<FitResult, String> {
        let n = self.parameters.len();
        let mut m: Vec<f64> = self.parameters.iter().map(|p| p.start).collect();
        let mut u = self.search_variables(&m);
        let mut adam = Adam::new(settings, n);
        let mut result = FitResult::new(m.clone());
        let start = Instant::now();
        for iteration in 0..iterations {
            let t_stop = self.t_stop_at(iteration);
            let (loss, gradient) = self.loss_and_gradient_until(&m, t_stop)?;
            let record = Record::new(
                iteration,
                (iteration + 1) * self.protocols.len(),
                start,
                loss,
                m.clone(),
            );
            // Only losses over the full simulated time compete for the best.
            let go_on = result.push(record, t_stop >= self.full_t_stop(), &mut observe);
            if !go_on || !loss.is_finite() {
                break;
            }
            adam.step(&mut u, &self.chain(&m, &gradient));
            m = self.multipliers(&u);
            if self.space == Space::Multiplier {
                u.clone_from(&m);
            }
        }
        Ok(result)
    }

    /// L-BFGS with the exact gradient on the multipliers (or their logarithms), with a backtracking line search;
    /// one record per accepted step.
    pub fn lbfgs(
        &self,
        settings: LbfgsSettings,
        iterations: usize,
        mut observe: impl FnMut(&Record) -> bool,
    ) -> Result<FitResult, String> {
        let to_m = |u: &[f64]| self.multipliers(u);
        let evaluate = |u: &[f64]| -> Result<(f64, Vec<f64>), String> {
            let m = to_m(u);
            let (loss, g) = self.loss_and_gradient(&m)?;
            Ok((loss, self.chain(&m, &g)))
        };
        let start_m: Vec<f64> = self.parameters.iter().map(|p| p.start).collect();
        let mut u = self.search_variables(&start_m);
        let (mut loss, mut gradient) = evaluate(&u)?;
        let runs = self.protocols.len();
        let (start, mut simulations) = (Instant::now(), runs);
        let mut pairs: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
        let mut result = FitResult::new(to_m(&u));
        result.offer(0, loss, &to_m(&u));
        for iteration in 0..iterations {
            let go_on = result.push(
                Record::new(iteration, simulations, start, loss, to_m(&u)),
                false,
                &mut observe,
            );
            if !go_on || gradient.iter().all(|g| g.abs() < settings.gradient_tolerance) {
                break;
            }
            let mut d = super::lbfgs::direction(&gradient, &pairs);
            let mut slope: f64 = d.iter().zip(&gradient).map(|(a, b)| a * b).sum();
            if !(slope < 0.0) {
                // Not a descent direction: restart from steepest descent.
                pairs.clear();
                d = gradient.iter().map(|g| -g).collect();
                slope = d.iter().zip(&gradient).map(|(a, b)| a * b).sum();
            }
            // The first step is scaled so that no variable moves by more than 0.1.
            let largest = d.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let mut step = if pairs.is_empty() {
                (0.1 / largest.max(1e-300)).min(1.0)
            } else {
                1.0
            };
            let accepted = loop {
                let trial: Vec<f64> = u.iter().zip(&d).map(|(x, dx)| x + step * dx).collect();
                let (l, g) = evaluate(&trial)?;
                simulations += runs;
                if l <= loss + 1e-4 * step * slope {
                    break Some((trial, l, g));
                }
                step *= 0.5;
                if step < 1e-10 {
                    break None;
                }
            };
            let Some((trial, l, g)) = accepted else { break };
            let s: Vec<f64> = trial.iter().zip(&u).map(|(a, b)| a - b).collect();
            let y: Vec<f64> = g.iter().zip(&gradient).map(|(a, b)| a - b).collect();
            if s.iter().zip(&y).map(|(a, b)| a * b).sum::<f64>() > 1e-300 {
                pairs.push((s, y));
                if pairs.len() > settings.memory {
                    pairs.remove(0);
                }
            }
            // No measurable progress left (round-off): stop.
            let stalled = loss - l <= 1e-14 * loss.abs();
            (u, loss, gradient) = (trial, l, g);
            result.offer(iteration + 1, loss, &to_m(&u));
            if stalled {
                let record = Record::new(iteration + 1, simulations, start, loss, to_m(&u));
                result.push(record, false, &mut observe);
                break;
            }
        }
        Ok(result)
    }

    /// Levenberg-Marquardt on the optimiser's variables, with the Gauss-Newton curvature from the same
    /// sensitivities as the gradient; one record per iteration (a gradient run, then plain runs for the trial
    /// steps until one lowers the loss). Follows the curriculum like Adam.
    pub fn levenberg_marquardt(
        &self,
        settings: LevenbergMarquardtSettings,
        iterations: usize,
        mut observe: impl FnMut(&Record) -> bool,
    ) -> Result<FitResult, String> {
        let n = self.parameters.len();
        let runs = self.protocols.len();
        let mut m: Vec<f64> = self.parameters.iter().map(|p| p.start).collect();
        let mut u = self.search_variables(&m);
        let mut damping = settings.initial_damping;
        let mut result = FitResult::new(m.clone());
        let (start, mut simulations) = (Instant::now(), 0);
        // The loss, gradient and curvature in the optimiser's variables: dlog m/du scales both.
        let evaluate = |m: &[f64], cap: f64| -> Result<(f64, Vec<f64>, Vec<f64>), String> {
            let InLogs {
                loss,
                gradient: g,
                curvature: h,
            } = self.evaluate_in_logs(m, cap, true)?;
            let h = h.expect("asked for the curvature");
            let s = self.chain(m, &m.iter().map(|x| 1.0 / x).collect::<Vec<_>>());
            let g = g.iter().zip(&s).map(|(g, s)| g * s).collect();
            let h = (0..n * n).map(|k| h[k] * s[k / n] * s[k % n]).collect();
            Ok((loss, g, h))
        };
        let mut cap = self.t_stop_at(0);
        let (mut loss, mut gradient, mut curvature) = evaluate(&m, cap)?;
        simulations += runs;
        for iteration in 0..iterations {
            let record = Record::new(iteration, simulations, start, loss, m.clone());
            let go_on = result.push(record, cap >= self.full_t_stop(), &mut observe);
            if !go_on || !loss.is_finite() || gradient.iter().all(|g| g.abs() < settings.gradient_tolerance) {
                break;
            }
            let mut accepted = false;
            for _ in 0..12 {
                let Some(step) = damped_step(&gradient, &curvature, damping, settings.max_step) else {
                    damping = (damping * 4.0).max(1e-12);
                    continue;
                };
                let trial_u: Vec<f64> = u.iter().zip(&step).map(|(x, d)| x + d).collect();
                let trial = self.multipliers(&trial_u);
                let trial_loss = self.loss_until(&trial, cap)?;
                simulations += runs;
                if trial_loss < loss {
                    u = self.search_variables(&trial);
                    m = trial;
                    damping = (damping / 3.0).max(1e-12);
                    accepted = true;
                    break;
                }
                damping = (damping * 4.0).max(1e-12);
            }
            let next_cap = self.t_stop_at(iteration + 1);
            if !accepted {
                if next_cap == cap {
                    // No damping lowers the loss any more: converged to round-off.
                    break;
                }
                // A longer simulation is a new problem: start its damping afresh.
                damping = settings.initial_damping;
            }
            cap = next_cap;
            if iteration + 1 == iterations {
                // Only the final record's loss is still needed.
                loss = self.loss_until(&m, cap)?;
            } else {
                (loss, gradient, curvature) = evaluate(&m, cap)?;
            }
            simulations += runs;
        }
        if let Some(last) = result.history.last().filter(|r| r.multipliers != m) {
            // The final accepted step has not been recorded yet.
            let record = Record::new(last.iteration + 1, simulations, start, loss, m.clone());
            result.push(record, cap >= self.full_t_stop(), &mut observe);
        }
        Ok(result)
    }

    /// CMA-ES on the multipliers (or their logarithms), each generation's members simulated in parallel.
    pub fn cmaes(
        &self,
        settings: CmaesSettings,
        generations: usize,
        mut observe: impl FnMut(&Record) -> bool,
    ) -> Result<FitResult, String> {
        let start_m: Vec<f64> = self.parameters.iter().map(|p| p.start).collect();
        let to_m = |u: &[f64]| self.multipliers(u);
        let to_u = |m: &[f64]| self.search_variables(m);
        let mut es = Cmaes::new(&to_u(&start_m), settings);
        let mut result = FitResult::new(start_m);
        let (start, mut simulations) = (Instant::now(), 0);
        for iteration in 0..generations {
            // Candidates outside the bounds are repaired onto them, and the strategy learns from the repaired points.
            let candidates: Vec<Vec<f64>> = es.ask().iter().map(|u| to_u(&to_m(u))).collect();
            let values: Vec<f64> = candidates
                .par_iter()
                .map(|u| self.loss(&to_m(u)).map(|l| if l.is_finite() { l } else { f64::MAX }))
                .collect::<Result<_, _>>()?;
            simulations += candidates.len() * self.protocols.len();
            let best = (0..values.len())
                .min_by(|&a, &b| values[a].total_cmp(&values[b]))
                .unwrap();
            result.offer(iteration, values[best], &to_m(&candidates[best]));
            let record = Record::new(
                iteration,
                simulations,
                start,
                result.best_loss,
                result.best_multipliers.clone(),
            );
            if !result.push(record, false, &mut observe) {
                break;
            }
            es.tell(&candidates, &values);
        }
        Ok(result)
    }
}

/// Simulates the cells with the parameters at multipliers `m` for `options.t_stop_ms` and keeps every probe as a target.
pub fn synthetic_target(
    cells: &[(String, Cell)],
    catalogue: &Catalogue,
    options: &RunOptions,
    parameters: &[FitParameter],
    m: &[f64],
) -> Result<TargetTraces, String> {
    let empty = TargetTraces {
        time_ms: vec![],
        names: vec![],
        values: vec![],
    };
    let problem = FitProblem {
        protocols: vec![Protocol::new(cells.to_vec(), empty)],
        catalogue: catalogue.clone(),
        options: *options,
        parameters: parameters.to_vec(),
        space: Space::Multiplier,
        curriculum: None,
        built: Default::default(),
    };
    let traces = problem.simulate_protocol(&problem.protocols[0], m, false, f64::INFINITY)?;
    Ok(TargetTraces {
        time_ms: traces.time_ms,
        names: traces.names,
        values: traces.values,
    })
}
