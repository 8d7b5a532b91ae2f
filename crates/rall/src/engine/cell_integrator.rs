//! Time stepping of one cell: a [`CellLayout`] and mechanism instances in, the membrane potential after each step out.

use super::hines::{HinesMatrix, SolveError};
use crate::cell::{CellLayout, EventLayout, StimulusLayout};
use crate::control::{Homeostasis, HomeostasisController};
use crate::discretize::CvGeometry;
use crate::mechanism::{Catalogue, CurrentTangents, EventEffects, IonPool, Mechanism, StepContext, sum_is_finite};
use crate::sensitivity::{CableTangents, SensitivitySetup};
use events::{NO_STREAM, PendingEvent};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

mod events;

/// The time discretisation of the cable equation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Integrator {
    /// First order, unconditionally stable; NEURON's default (`secondorder = 0`).
    #[default]
    BackwardEuler,
    /// Second order: a backward-Euler half step, then extrapolation (NEURON's `secondorder = 2` for the voltage).
    CrankNicolson,
}

/// As a model file writes it.
impl std::fmt::Display for Integrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Integrator::BackwardEuler => "backward-euler",
            Integrator::CrankNicolson => "crank-nicolson",
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EngineError {
    #[error(
        "{quantity} became {value} at {place} at t = {t_ms:.4} ms{cause}; the simulation stopped (try a smaller dt, or check the parameters)"
    )]
    NonFinite {
        quantity: String,
        value: f64,
        /// The CV, which `place` describes.
        cv: usize,
        place: String,
        t_ms: f64,
        /// What made it non-finite where that is known (`", because ..."`), else empty.
        cause: String,
    },
    #[error("at t = {t_ms} ms: {source}")]
    Solve { t_ms: f64, source: SolveError },
    #[error("{0}")]
    Mechanism(String),
}

/// One cell's state and the buffers its steps work in (allocated once).
#[derive(Clone)]
pub struct CellIntegrator {
    geometry: CvGeometry,
    capacitance_nf: Vec<f64>,
    axial_conductance_us: Vec<f64>,
    /// Sum of the axial conductances of each CV's links [µS].
    axial_diagonal_us: Vec<f64>,
    mechanisms: Vec<Box<dyn Mechanism>>,
    ions: IonPool,
    /// The ion pool as set up, restored by [`CellIntegrator::initialise`].
    initial_ions: IonPool,
    /// Temperature [°C].
    celsius: f64,
    stimuli: Vec<StimulusLayout>,
    /// Point-process input events of the layout (replayed by every [`CellIntegrator::initialise`]).
    events: Vec<EventLayout>,
    /// Events not yet delivered, earliest first (ties in the order they were queued).
    pending: BinaryHeap<Reverse<PendingEvent>>,
    queued: u64,
    /// Per event stream (a synapse placement's events, or a network connection, to one instance): the
    /// NET_RECEIVE arguments, the weight first. Indexed through `stream_index` by (origin, mechanism, instance).
    stream_arguments: Vec<Vec<f64>>,
    stream_index: std::collections::HashMap<(usize, usize, usize), usize>,
    /// The latest self-event of each `(mechanism, instance)` still queued, as `(order, flag, stream)`: what
    /// `net_move` moves (NEURON's `_tqitem`), and the orders of moved events left in the queue.
    movable: std::collections::HashMap<(usize, usize), (u64, f64, usize)>,
    moved: std::collections::HashSet<u64>,
    /// Spikes of point processes (`net_event`): `(mechanism, instance, t [ms])` since the last
    /// [`CellIntegrator::take_event_spikes`].
    /// The arguments of the event being delivered (kept, so that delivering allocates nothing).
    event_arguments: Vec<f64>,
    event_spikes: Vec<(usize, usize, f64)>,
    /// `(mechanism, instance)` targets of each synapse placement.
    synapse_targets: Vec<Vec<(usize, usize)>>,
    /// Spike detectors `(cv, threshold [mV])`, whether each is below threshold (armed), and the spikes
    /// `(detector, t [ms])` since the last [`CellIntegrator::take_spikes`].
    detectors: Vec<(usize, f64)>,
    armed: Vec<bool>,
    /// `(mechanism, instance)` whose `net_event` spikes are detectors `detectors.len()..`.
    event_detectors: Vec<(usize, usize)>,
    spikes: Vec<(usize, f64)>,
    probes: Vec<crate::cell::ProbeLayout>,
    probe_names: Vec<String>,
    probe_units: Vec<String>,
    v_init_mv: f64,
    /// Membrane potential of every CV [mV].
    v_mv: Vec<f64>,
    t_ms: f64,
    /// Time is `grid_origin + grid_steps · grid_dt` (no accumulated round-off while dt stays the same).
    grid_origin: f64,
    grid_steps: u64,
    grid_dt: f64,
    current_na: Vec<f64>,
    conductance_us: Vec<f64>,
    matrix: HinesMatrix,
    rhs: Vec<f64>,
    /// Co-simulated sensitivities, when enabled.
    tangents: Option<CableTangents>,
    /// Number of synapse placements (event sources).
    placements: usize,
    /// Online homeostatic control, when enabled.
    /// Online homeostatic control, when enabled: one controller, or one per cell of a cell group.
    controllers: Vec<HomeostasisController>,
    /// POINTERs another cell's voltage feeds (set by the simulation before each step).
    external_pointers: Vec<super::ExternalPointer>,
    external_pointers_fed: bool,
    /// POINTERs that hold a connection's weight, and the event streams of those connections (by index).
    weight_pointers: Vec<super::pointers::WeightPointer>,
    stream_weights: std::collections::HashMap<usize, usize>,
    /// The largest one-step voltage change since the last [`CellIntegrator::initialise`].
    largest_step: super::LargestStep,
}

/// A cell's whole state at one moment (voltages, mechanism states, ions, queued events and event streams,
/// tangents, the controller, the noise streams and the clock), taken by [`CellIntegrator::snapshot`]. It is a
/// copy of the integrator: its compiled kernels are shared, its buffers copied.
pub struct CellSnapshot(Box<CellIntegrator>);

impl CellIntegrator {
    /// The cell's state now, to return to with [`CellIntegrator::restore`] (checkpoints of a run).
    pub fn snapshot(&self) -> CellSnapshot {
        CellSnapshot(Box::new(self.clone()))
    }

    /// Returns the cell to a state taken from it by [`CellIntegrator::snapshot`]: the steps that follow
    /// repeat those that followed the snapshot, to the bit. The snapshot stays usable.
    pub fn restore(&mut self, snapshot: &CellSnapshot) {
        self.clone_from(&snapshot.0);
    }

    pub fn new(layout: &CellLayout, catalogue: &Catalogue) -> Result<Self, EngineError> {
        let n = layout.geometry.len();
        let parent: Vec<usize> = layout.geometry.parent.iter().map(|p| p.unwrap_or(0)).collect();
        let g = &layout.properties.axial_conductance_us;
        let mut axial_diagonal_us = vec![0.0; n];
        let mut matrix = HinesMatrix::new(parent.clone());
        for (i, &p) in parent.iter().enumerate().skip(1) {
            axial_diagonal_us[i] += g[i];
            axial_diagonal_us[p] += g[i];
            matrix.coupling[i] = -g[i];
        }
        let mut ions = IonPool::default();
        let mut mechanisms = layout
            .mechanisms
            .iter()
            .map(|m| catalogue.instantiate(m, &layout.diam_um, &mut ions, n))
            .collect::<Result<Vec<_>, _>>()
            .map_err(EngineError::Mechanism)?;
        let (external_pointers, weight_pointers) = super::pointers::bind_pointers(&layout.pointers, &mut mechanisms)?;
        for (k, m) in mechanisms.iter_mut().enumerate() {
            m.seed_random(&[(0, crate::cell::mix_seed(layout.noise_seed, k as u64))]);
        }
        for (setting, cvs) in &layout.ions {
            let species = ions.species_index(&setting.species, n);
            let s = &mut ions.species[species];
            if let Some(z) = setting.valence {
                s.valence = z;
            }
            for &cv in cvs {
                if let Some(e) = setting.e_mv {
                    s.e_mv[cv] = e;
                }
                if let Some(ci) = setting.ci_mm {
                    s.ci_mm[cv] = ci;
                }
                if let Some(co) = setting.co_mm {
                    s.co_mm[cv] = co;
                }
            }
        }
        let mut integrator = Self {
            geometry: layout.geometry.clone(),
            capacitance_nf: layout.properties.capacitance_nf.clone(),
            axial_conductance_us: g.clone(),
            axial_diagonal_us,
            mechanisms,
            initial_ions: ions.clone(),
            ions,
            celsius: 6.3,
            stimuli: layout.stimuli.clone(),
            events: layout.events.clone(),
            pending: BinaryHeap::new(),
            queued: 0,
            synapse_targets: layout.synapse_targets.clone(),
            detectors: layout.detectors.clone(),
            armed: vec![true; layout.detectors.len()],
            event_detectors: layout.event_detectors.clone(),
            spikes: Vec::new(),
            probes: layout.probes.clone(),
            probe_names: layout.probes.iter().map(|p| p.name.clone()).collect(),
            probe_units: layout.probes.iter().map(|p| p.unit.clone()).collect(),
            v_init_mv: layout.v_init_mv,
            v_mv: vec![layout.v_init_mv; n],
            t_ms: 0.0,
            grid_origin: 0.0,
            grid_steps: 0,
            grid_dt: f64::NAN,
            current_na: vec![0.0; n],
            conductance_us: vec![0.0; n],
            matrix,
            rhs: vec![0.0; n],
            tangents: None,
            placements: layout.synapse_targets.len(),
            controllers: Vec::new(),
            stream_arguments: Vec::new(),
            stream_index: Default::default(),
            event_spikes: Vec::new(),
            event_arguments: Vec::new(),
            movable: Default::default(),
            moved: Default::default(),
            external_pointers,
            external_pointers_fed: false,
            weight_pointers,
            stream_weights: Default::default(),
            largest_step: Default::default(),
        };
        integrator.initialise()?;
        Ok(integrator)
    }

    /// Seeds the mechanisms' random streams cell by cell, for a cell group: `(each mechanism's first instance,
    /// noise seed)` of each cell, in order; a mechanism's instances of each cell then draw what they draw in
    /// that cell alone. Takes effect from the next [`CellIntegrator::initialise`].
    pub fn seed_random_by_cell(&mut self, cells: &[(&[usize], u64)]) {
        for (k, m) in self.mechanisms.iter_mut().enumerate() {
            let seeds: Vec<(usize, u64)> = cells
                .iter()
                .map(|(first, seed)| (first[k], crate::cell::mix_seed(*seed, k as u64)))
                .collect();
            m.seed_random(&seeds);
        }
    }

    /// Resets time to 0, every voltage to `v_init`, ions to their defaults, and mechanism states to their initial values.
    pub fn initialise(&mut self) -> Result<(), EngineError> {
        self.t_ms = 0.0;
        (self.grid_origin, self.grid_steps, self.grid_dt) = (0.0, 0, f64::NAN);
        self.largest_step = Default::default();
        self.pending.clear();
        self.queued = 0;
        self.stream_arguments.clear();
        self.stream_index.clear();
        self.stream_weights.clear();
        // Adjusted weights start from the connections' weights before INITIAL runs (NEURON sets NetCon weights
        // before finitialize).
        for w in &self.weight_pointers {
            self.mechanisms[w.mechanism].set_pointer(w.handle, w.instance, w.initial);
        }
        self.event_spikes.clear();
        self.movable.clear();
        self.moved.clear();
        for e in std::mem::take(&mut self.events) {
            self.queue(e.clone(), 0.0, NO_STREAM);
            self.events.push(e);
        }
        self.v_mv.fill(self.v_init_mv);
        self.spikes.clear();
        for c in &mut self.controllers {
            // Parameters back at their initial values before the mechanisms initialise.
            c.reset(&mut self.mechanisms);
        }
        for ((cv, threshold), armed) in self.detectors.iter().zip(&mut self.armed) {
            *armed = !(self.v_mv[*cv] > *threshold);
        }
        self.ions = self.initial_ions.clone();
        self.ions.begin_step(self.celsius);
        let ctx = StepContext {
            t_ms: 0.0,
            dt_ms: 0.0,
            celsius: self.celsius,
        };
        for m in &mut self.mechanisms {
            m.initialise(&ctx, &self.v_mv, &mut self.ions);
        }
        if let Some(t) = &mut self.tangents {
            t.v_dot.fill(0.0);
        }
        // As NEURON's finitialize: each stream's NET_RECEIVE INITIAL, INITIAL's self-events, then every event
        // due at t = 0.
        for k in 0..self.events.len() {
            let e = &self.events[k];
            self.stream(e.source, e.mechanism, e.instance);
        }
        for m in 0..self.mechanisms.len() {
            let mut effects = EventEffects::default();
            self.mechanisms[m].take_initial_events(&mut effects);
            self.apply_effects(m, NO_STREAM, effects)?;
        }
        self.deliver_events_until(0.0)
    }

    /// The POINTERs another cell's voltage feeds, in the order [`CellIntegrator::set_external_pointer`] takes.
    pub fn external_pointers(&self) -> &[super::ExternalPointer] {
        &self.external_pointers
    }

    /// Gives external POINTER `k` its value (the source cell's voltage at the start of the coming step).
    pub fn set_external_pointer(&mut self, k: usize, value: f64) {
        let p = &self.external_pointers[k];
        self.mechanisms[p.mechanism].set_pointer(p.handle, p.instance, value);
        self.external_pointers_fed = true;
    }

    /// The membrane potential every CV starts at [mV].
    pub fn v_init_mv(&self) -> f64 {
        self.v_init_mv
    }

    /// The spikes of point processes (`net_event`) `(mechanism, instance, t [ms])` since the last call.
    pub fn take_event_spikes(&mut self) -> Vec<(usize, usize, f64)> {
        std::mem::take(&mut self.event_spikes)
    }

    /// Starts co-simulating the sensitivities described by `setup` (see [`crate::sensitivity`]);
    /// takes effect from the next [`CellIntegrator::initialise`].
    pub fn enable_sensitivities(&mut self, setup: SensitivitySetup) -> Result<(), EngineError> {
        let lanes = setup.lanes();
        for (m, mechanism) in self.mechanisms.iter_mut().enumerate() {
            let seeds = setup
                .mechanism_seeds
                .iter()
                .filter(|(i, _)| *i == m)
                .flat_map(|(_, s)| s.iter().cloned())
                .collect::<Vec<_>>();
            mechanism
                .enable_tangents(lanes, &seeds)
                .map_err(EngineError::Mechanism)?;
        }
        self.initial_ions.enable_tangents(lanes);
        self.ions.enable_tangents(lanes);
        self.tangents = Some(CableTangents::new(setup, self.v_mv.len(), self.placements));
        Ok(())
    }

    /// Sets mechanism parameters and stimulus amplitudes (for the next [`initialise`](Self::initialise)).
    pub fn set_parameter_values(&mut self, values: &crate::sensitivity::ParameterValues) -> Result<(), EngineError> {
        for (m, parameter, instance, value) in &values.mechanism {
            let mechanism = &mut self.mechanisms[*m];
            let slot = mechanism.slot(parameter).ok_or_else(|| {
                EngineError::Mechanism(format!("`{}` has no PARAMETER `{parameter}`", mechanism.name()))
            })?;
            mechanism.set_parameter_at(slot, *instance, *value);
        }
        for &(k, amplitude_na) in &values.stimulus {
            self.stimuli[k].amplitude_na = amplitude_na;
        }
        Ok(())
    }

    /// The voltage tangents `[lane * cvs + cv]`, when sensitivities are co-simulated.
    pub fn voltage_tangents(&self) -> Option<&[f64]> {
        self.tangents.as_ref().map(|t| t.v_dot.as_slice())
    }

    /// The differentiated parameters' seeds, when sensitivities are co-simulated.
    pub fn sensitivity_setup(&self) -> Option<&SensitivitySetup> {
        self.tangents.as_ref().map(|t| &t.setup)
    }

    /// Names of the differentiated parameters, one per lane.
    pub fn sensitivity_names(&self) -> &[String] {
        self.tangents.as_ref().map_or(&[], |t| &t.setup.names)
    }

    /// Appends the tangent of every probe for every lane (probe-major) to `out`.
    pub fn sample_probe_tangents(&self, out: &mut Vec<f64>) {
        let Some(t) = &self.tangents else { return };
        let n = self.v_mv.len();
        for p in &self.probes {
            for lane in 0..t.lanes() {
                out.push(match &p.variable {
                    None => t.v_dot[lane * n + p.cv],
                    Some((m, instance, name)) => self.mechanisms[*m]
                        .variable_tangent(name, *instance, lane)
                        .unwrap_or(f64::NAN),
                });
            }
        }
    }

    /// Sets the temperature [°C] (NEURON's `celsius`, default 6.3); takes effect at the next step.
    pub fn set_celsius(&mut self, celsius: f64) {
        self.celsius = celsius;
    }

    /// The cell's ion species.
    pub fn ions(&self) -> &IonPool {
        &self.ions
    }

    /// The ion pool used at initialisation (set reversal potentials and concentrations here).
    pub fn initial_ions_mut(&mut self) -> &mut IonPool {
        &mut self.initial_ions
    }

    /// The mechanisms of this cell.
    pub fn mechanisms(&self) -> &[Box<dyn Mechanism>] {
        &self.mechanisms
    }

    pub fn t_ms(&self) -> f64 {
        self.t_ms
    }

    /// Membrane potential of every CV [mV].
    pub fn voltages_mv(&self) -> &[f64] {
        &self.v_mv
    }

    pub fn geometry(&self) -> &CvGeometry {
        &self.geometry
    }

    pub fn axial_conductance_us(&self) -> &[f64] {
        &self.axial_conductance_us
    }

    /// The largest one-step change of any CV's membrane potential since the run started.
    pub fn largest_step(&self) -> super::LargestStep {
        self.largest_step
    }

    pub fn probe_names(&self) -> &[String] {
        &self.probe_names
    }

    /// The unit of each probe's values (`mV` for the voltage).
    pub fn probe_units(&self) -> &[String] {
        &self.probe_units
    }

    /// Appends the present value of every probe [mV] to `out`.
    pub fn sample_probes(&self, out: &mut Vec<f64>) {
        for p in &self.probes {
            out.push(match &p.variable {
                None => self.v_mv[p.cv],
                Some((m, instance, name)) => self.mechanisms[*m]
                    .variable(name)
                    .map_or(f64::NAN, |(_, column)| column[*instance]),
            });
        }
    }

    /// Advances the cell by one step of `dt_ms`.
    pub fn step(&mut self, dt_ms: f64, integrator: Integrator) -> Result<(), EngineError> {
        if let Some(p) = self.external_pointers.first().filter(|_| !self.external_pointers_fed) {
            return Err(EngineError::Mechanism(format!(
                "the POINTER `{}` reads a voltage of cell `{}`: run this cell in a Simulation with that cell",
                p.pointer, p.cell
            )));
        }
        let ctx = StepContext {
            t_ms: self.t_ms,
            dt_ms,
            celsius: self.celsius,
        };
        // NEURON's fixed step: events due by now, then watched conditions, then events due by mid-step.
        self.deliver_events_until(self.t_ms)?;
        for m in 0..self.mechanisms.len() {
            let mut effects = EventEffects::default();
            self.mechanisms[m].check_watches(self.t_ms, &self.v_mv, &mut effects);
            if effects != EventEffects::default() {
                self.apply_effects(m, NO_STREAM, effects)?;
            }
        }
        self.deliver_events_until(self.t_ms + 0.5 * dt_ms * (1.0 + 1e-9))?;
        self.ions.begin_step(self.celsius);
        self.accumulate_membrane_currents(&ctx);
        self.add_stimulus_currents(self.t_ms + 0.5 * dt_ms);
        self.check_finite_currents()?;
        let substep = match integrator {
            Integrator::BackwardEuler => dt_ms,
            Integrator::CrankNicolson => 0.5 * dt_ms,
        };
        self.assemble(substep);
        // One sweep eliminates the matrix and the voltage's right-hand side together; the factors stay for
        // the tangents.
        self.matrix
            .factor_and_solve(&mut self.rhs)
            .map_err(|source| EngineError::Solve {
                t_ms: self.t_ms,
                source,
            })?;
        self.solve_voltage_tangents(substep, integrator);
        let factor = if integrator == Integrator::CrankNicolson {
            2.0
        } else {
            1.0
        };
        self.largest_step
            .observe(&self.v_mv, &self.rhs, factor, self.t_ms, dt_ms);
        self.update_voltage(integrator);
        let error = |t: f64| move |e| EngineError::Mechanism(format!("at t = {t:.4} ms: {e}"));
        for m in &mut self.mechanisms {
            match &self.tangents {
                None => m.advance_states(&ctx, &self.v_mv, &mut self.ions),
                Some(t) => m.advance_states_with_tangents(&ctx, &self.v_mv, &t.v_dot, &mut self.ions),
            }
            .map_err(error(self.t_ms))?;
        }
        self.forget(dt_ms);
        if dt_ms != self.grid_dt {
            (self.grid_origin, self.grid_steps, self.grid_dt) = (self.t_ms, 0, dt_ms);
        }
        self.grid_steps += 1;
        self.t_ms = self.grid_origin + self.grid_steps as f64 * dt_ms;
        self.detect_spikes();
        for c in &mut self.controllers {
            c.after_step(&mut self.mechanisms, dt_ms);
        }
        self.check_finite()
    }

    /// Starts online homeostatic control: co-simulates the multiplier sensitivities of the controlled
    /// parameters and updates them after every step; takes effect from the next [`CellIntegrator::initialise`].
    pub fn enable_homeostasis(&mut self, setup: Homeostasis) -> Result<(), EngineError> {
        let sensitivities = setup.sensitivities.clone();
        self.enable_homeostasis_by_cell(vec![setup], sensitivities)
    }

    /// [`CellIntegrator::enable_homeostasis`] for the cells of a cell group: a controller per cell (its setup
    /// resolved on the group's instances), their lanes together in `sensitivities`.
    pub fn enable_homeostasis_by_cell(
        &mut self,
        setups: Vec<Homeostasis>,
        sensitivities: SensitivitySetup,
    ) -> Result<(), EngineError> {
        if self.tangents.is_some() {
            return Err(EngineError::Mechanism(
                "homeostasis brings its own sensitivities; do not enable others on the same cell".into(),
            ));
        }
        self.enable_sensitivities(sensitivities)?;
        for setup in setups {
            let controller = HomeostasisController::new(setup, &mut self.mechanisms).map_err(EngineError::Mechanism)?;
            self.controllers.push(controller);
        }
        Ok(())
    }

    /// The controller of a cell run alone.
    pub fn controller(&self) -> Option<&HomeostasisController> {
        self.controllers.first()
    }

    /// Every controller, in the order of the cells of a group.
    pub fn controllers(&self) -> &[HomeostasisController] {
        &self.controllers
    }

    /// Number of synapse placements (targets of [`CellIntegrator::push_event`]).
    pub fn synapse_count(&self) -> usize {
        self.synapse_targets.len()
    }

    /// Number of spike detector locations.
    pub fn detector_count(&self) -> usize {
        self.detectors.len() + self.event_detectors.len()
    }

    /// The spikes `(detector, t [ms])` detected since the last call, in time order.
    pub fn take_spikes(&mut self) -> Vec<(usize, f64)> {
        std::mem::take(&mut self.spikes)
    }

    /// Step 1: every mechanism adds its current and conductance at the present voltage.
    fn accumulate_membrane_currents(&mut self, ctx: &StepContext) {
        self.current_na.fill(0.0);
        self.conductance_us.fill(0.0);
        if let Some(t) = &mut self.tangents {
            t.clear_currents();
        }
        for m in &mut self.mechanisms {
            let (v, i, g, ions) = (
                &self.v_mv,
                &mut self.current_na,
                &mut self.conductance_us,
                &mut self.ions,
            );
            match &mut self.tangents {
                None => m.accumulate_current(ctx, v, i, g, ions),
                Some(t) => {
                    let tangents = CurrentTangents {
                        v_dot: &t.v_dot,
                        i_dot: &mut t.i_dot,
                        g_dot: &mut t.g_dot,
                    };
                    m.accumulate_current_with_tangents(ctx, v, i, g, ions, tangents);
                }
            }
        }
    }

    /// Injected currents count as negative membrane current; stimuli are evaluated at mid-step, as NEURON does.
    fn add_stimulus_currents(&mut self, t_mid_ms: f64) {
        for (k, s) in self.stimuli.iter().enumerate() {
            let shape = s.shape_at(t_mid_ms);
            if shape != 0.0 {
                self.current_na[s.cv] -= s.amplitude_na * shape;
                if let Some(t) = &mut self.tangents {
                    t.add_stimulus(k, s.cv, shape);
                }
            }
        }
    }

    /// The tangent of the step's linear system, solved with the same factorisation for every lane.
    fn solve_voltage_tangents(&mut self, substep_ms: f64, integrator: Integrator) {
        let Some(t) = &mut self.tangents else { return };
        t.solve(
            &self.matrix,
            self.matrix.parent(),
            &self.capacitance_nf,
            &self.conductance_us,
            &self.v_mv,
            &self.rhs,
            substep_ms,
            integrator == Integrator::CrankNicolson,
        );
    }

    /// Leaky running sensitivities: every tangent decays by `exp(-λ dt)`.
    fn forget(&mut self, dt_ms: f64) {
        let Some(t) = &mut self.tangents else { return };
        let lambda = t.setup.forgetting_per_ms;
        if lambda > 0.0 {
            let factor = (-lambda * dt_ms).exp();
            t.scale(factor);
            self.ions.scale_tangents(factor);
            for m in &mut self.mechanisms {
                m.scale_tangents(factor);
            }
        }
    }

    /// Step 2: `(C/dt + G_axial + g) v' = C/dt v - (i - g v)`.
    fn assemble(&mut self, dt_ms: f64) {
        for i in 0..self.v_mv.len() {
            let c = self.capacitance_nf[i] / dt_ms;
            self.matrix.diagonal[i] = c + self.axial_diagonal_us[i] + self.conductance_us[i];
            self.rhs[i] = (c + self.conductance_us[i]) * self.v_mv[i] - self.current_na[i];
        }
    }

    fn update_voltage(&mut self, integrator: Integrator) {
        match integrator {
            Integrator::BackwardEuler => self.v_mv.copy_from_slice(&self.rhs),
            Integrator::CrankNicolson => {
                for (v, half) in self.v_mv.iter_mut().zip(&self.rhs) {
                    *v = 2.0 * half - *v;
                }
            }
        }
    }

    /// Catches a blow-up where it starts, before the solve spreads it over the whole cell.
    fn check_finite_currents(&self) -> Result<(), EngineError> {
        if sum_is_finite(&self.current_na) && sum_is_finite(&self.conductance_us) {
            return Ok(());
        }
        let (quantity, values) = match self.current_na.iter().position(|v| !v.is_finite()) {
            Some(_) => ("the membrane current", &self.current_na),
            None => ("the membrane conductance", &self.conductance_us),
        };
        let cv = values.iter().position(|v| !v.is_finite()).unwrap_or(0);
        Err(EngineError::NonFinite {
            quantity: quantity.into(),
            value: values[cv],
            cv,
            place: self.geometry.describe(cv),
            t_ms: self.t_ms,
            cause: self.cause_of_non_finite_current(cv),
        })
    }

    /// Why the membrane current at `cv` is not finite, where the cell's state says: a reversal potential
    /// (from the concentrations), or a mechanism's state.
    fn cause_of_non_finite_current(&self, cv: usize) -> String {
        for s in &self.ions.species {
            let e = s.e_mv[cv];
            if !e.is_finite() {
                return format!(
                    ", because e{} = {e} mV there (Nernst from {}i = {:e} mM, {}o = {:e} mM: a concentration a mechanism WRITEs must not reach 0)",
                    s.name, s.name, s.ci_mm[cv], s.name, s.co_mm[cv]
                );
            }
        }
        for m in &self.mechanisms {
            if let Err((state, at)) = m.check_finite()
                && at == cv
            {
                return format!(", because state `{state}` of `{}` is not finite there", m.name());
            }
        }
        String::new()
    }

    fn check_finite(&self) -> Result<(), EngineError> {
        if !sum_is_finite(&self.v_mv) {
            let cv = self.v_mv.iter().position(|v| !v.is_finite()).unwrap_or(0);
            return Err(EngineError::NonFinite {
                quantity: "the membrane potential".into(),
                value: self.v_mv[cv],
                cv,
                place: self.geometry.describe(cv),
                t_ms: self.t_ms,
                cause: String::new(),
            });
        }
        for m in &self.mechanisms {
            if let Err((state, cv)) = m.check_finite() {
                return Err(EngineError::NonFinite {
                    quantity: format!("state `{state}` of `{}`", m.name()),
                    value: f64::NAN,
                    cv,
                    place: self.geometry.describe(cv),
                    t_ms: self.t_ms,
                    cause: String::new(),
                });
            }
        }
        Ok(())
    }
}
