//! The one-struct facade: cells (or a network) in, sampled probe traces and spikes out, cells advanced in parallel.

use crate::cell::{Cell, CellError, lower_cell};
use crate::engine::{CellGroup, CellIntegrator, EngineError, Integrator};
use crate::mechanism::Catalogue;
use crate::network::{Network, Spike, SpikeRouter, SpikeSource};
use rayon::prelude::*;
use std::io::Write;
use units::Unit;

mod units;

/// How long and how finely to simulate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunOptions {
    /// [ms]
    pub t_stop_ms: f64,
    /// [ms]
    pub dt_ms: f64,
    /// Probe sampling interval [ms], rounded to a whole number of steps.
    pub sample_interval_ms: f64,
    pub integrator: Integrator,
    /// Temperature [°C], NEURON's `celsius`.
    pub celsius: f64,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            t_stop_ms: 100.0,
            dt_ms: 0.025,
            sample_interval_ms: 0.1,
            integrator: Integrator::BackwardEuler,
            celsius: 6.3,
        }
    }
}

/// Sampled traces: a time column and one column per probe.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Traces {
    /// [ms]
    pub time_ms: Vec<f64>,
    pub names: Vec<String>,
    /// `values[probe][sample]`, in `units[probe]`.
    pub values: Vec<Vec<f64>>,
    /// The unit of each column of `values`: `mV` for a voltage, a `.mod` file's unit for a mechanism
    /// variable (empty when it gives none), `Hz` for a controller's rate, empty for its multipliers.
    pub units: Vec<String>,
    /// Names of the sensitivity columns, `d<probe>/d<parameter>`, when sensitivities are co-simulated.
    pub tangent_names: Vec<String>,
    /// `tangents[column][sample]`, probe-major then parameter.
    pub tangents: Vec<Vec<f64>>,
    /// Spikes of every detector and spike source, in time order.
    pub spikes: Vec<Spike>,
    /// Name of each gid (cells, then spike sources).
    pub gids: Vec<String>,
}

impl Traces {
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| self.values[i].as_slice())
    }

    /// The names of the differentiated parameters, in lane order (from the `d<probe>/d<parameter>` columns).
    pub fn parameters(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in self
            .tangent_names
            .iter()
            .filter_map(|n| n.split_once("/d").map(|(_, p)| p.to_string()))
        {
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }

    /// The sensitivity of a probe to a parameter, by their names.
    pub fn tangent(&self, probe: &str, parameter: &str) -> Option<&[f64]> {
        let name = format!("d{probe}/d{parameter}");
        self.tangent_names
            .iter()
            .position(|n| *n == name)
            .map(|i| self.tangents[i].as_slice())
    }

    /// Writes `t,probe1,probe2,...` (and `d<probe>/d<param>` columns) with time in ms and voltages in mV.
    pub fn write_csv(&self, out: &mut impl Write) -> std::io::Result<()> {
        write!(out, "t")?;
        for n in self.names.iter().chain(&self.tangent_names) {
            write!(out, ",{n}")?;
        }
        writeln!(out)?;
        for (k, t) in self.time_ms.iter().enumerate() {
            write!(out, "{t}")?;
            for column in self.values.iter().chain(&self.tangents) {
                write!(out, ",{}", column[k])?;
            }
            writeln!(out)?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SimulationError {
    #[error("{}{source}", cell_prefix(.cell))]
    Cell { cell: String, source: CellError },
    #[error("{}{source}", cell_prefix(.cell))]
    Engine { cell: String, source: EngineError },
    #[error("invalid run options: {0}")]
    Options(String),
    #[error("{}{message}", cell_prefix(.cell))]
    Sensitivity { cell: String, message: String },
    #[error("interrupted at t = {t_ms} ms")]
    Interrupted { t_ms: f64 },
}

fn cell_prefix(cell: &str) -> String {
    if cell.is_empty() {
        String::new()
    } else {
        format!("cell `{cell}`: ")
    }
}

/// How many times a run reports its progress (and may be stopped), at most.
const PROGRESS_REPORTS: usize = 200;

/// Cells simulated side by side, independent or wired into a network.
pub struct Simulation {
    names: Vec<String>,
    /// Each cell's own integrator: built with the simulation when its cells run alone, else when first needed
    /// (see [`Simulation::cells`]).
    cells: std::sync::OnceLock<Vec<CellIntegrator>>,
    wiring: Option<Wiring>,
    /// POINTERs that read another cell's voltage (gap junctions between cells):
    /// `(target cell, its external pointer, source cell, source CV)`, refreshed before every step.
    couplings: Vec<(usize, usize, usize, usize)>,
    /// The network's connections have weight adjusters (their point processes were added to the cells).
    weight_adjusters: bool,
    /// The cells' layouts and the catalogue, from which a run builds cell groups.
    layouts: Vec<crate::cell::CellLayout>,
    catalogue: Catalogue,
    /// Cells of one kind advanced together (built by the first run that may group them; see
    /// [`Simulation::set_cell_groups`]). While they exist, runs leave `cells` as they were.
    groups: Option<Vec<CellGroup>>,
    use_groups: bool,
    /// Each cell's sensitivity lanes and controller columns, by name (empty without them), and the seeds of
    /// its `[[parameter]]` sensitivities.
    lanes: Vec<Vec<String>>,
    setups: Vec<Option<crate::sensitivity::SensitivitySetup>>,
    control_columns: Vec<Vec<String>>,
}

/// What a network adds to side-by-side cells: the spike sources and the routing of spikes.
struct Wiring {
    sources: Vec<(String, SpikeSource)>,
    router: SpikeRouter,
}

impl Simulation {
    /// Lowers and instantiates named cells: cells of one kind as cell groups (see
    /// [`Simulation::set_cell_groups`]) when no cell's POINTER reads another cell, else each cell alone.
    pub fn new(cells: &[(String, Cell)], catalogue: &Catalogue) -> Result<Self, SimulationError> {
        let mut layouts = Vec::with_capacity(cells.len());
        for (name, cell) in cells {
            let layout = lower_cell(cell, catalogue).map_err(|source| SimulationError::Cell {
                cell: name.clone(),
                source,
            })?;
            layouts.push(layout);
        }
        let names: Vec<String> = cells.iter().map(|(n, _)| n.clone()).collect();
        let coupled = layouts.iter().any(|l| {
            l.pointers
                .iter()
                .any(|p| matches!(p.source, crate::cell::PointerSource::OtherCell { .. }))
        });
        let mut simulation = Self {
            names,
            cells: Default::default(),
            wiring: None,
            couplings: Vec::new(),
            weight_adjusters: false,
            layouts,
            catalogue: catalogue.clone(),
            groups: None,
            use_groups: true,
            lanes: vec![Vec::new(); cells.len()],
            setups: vec![None; cells.len()],
            control_columns: vec![Vec::new(); cells.len()],
        };
        // A group that fails to build (a mechanism's INITIAL, a POINTER) is built again cell by cell, which
        // names the cell.
        if !coupled && simulation.groups_apply() {
            simulation.groups = units::build_groups(&simulation.layouts, catalogue, rayon::current_num_threads())
                .ok()
                .flatten();
        }
        if simulation.groups.is_none() {
            let integrators = simulation.build_cells()?;
            simulation.couplings = couplings(&integrators, cells)?;
            simulation.cells = integrators.into();
        }
        Ok(simulation)
    }

    /// Each cell's own integrator, from its layout.
    fn build_cells(&self) -> Result<Vec<CellIntegrator>, SimulationError> {
        self.layouts
            .iter()
            .enumerate()
            .map(|(c, layout)| CellIntegrator::new(layout, &self.catalogue).map_err(|e| self.engine_error(c, e)))
            .collect()
    }

    /// The cells' own integrators, built now if the cells so far ran only in groups.
    fn cells_mut(&mut self) -> &mut Vec<CellIntegrator> {
        if self.cells.get().is_none() {
            let built = self.build_cells().expect("cells built as a group build alone");
            self.cells = built.into();
        }
        self.cells.get_mut().expect("just built")
    }
}

/// The POINTERs of `integrators` that read another cell's voltage: `(target cell, its external pointer,
/// source cell, source CV)`.
fn couplings(
    integrators: &[CellIntegrator],
    cells: &[(String, Cell)],
) -> Result<Vec<(usize, usize, usize, usize)>, SimulationError> {
    let names: Vec<&str> = cells.iter().map(|(n, _)| n.as_str()).collect();
    let mut couplings = Vec::new();
    for (target, integrator) in integrators.iter().enumerate() {
        for (k, p) in integrator.external_pointers().iter().enumerate() {
            let Some(source) = names.iter().position(|n| *n == p.cell) else {
                let hint = crate::suggest::did_you_mean(&p.cell, names.iter().copied());
                return Err(SimulationError::Options(format!(
                    "cell `{}`: the POINTER `{}` reads a voltage of cell `{}`, which is not in the simulation{hint}",
                    names[target], p.pointer, p.cell
                )));
            };
            let cv = integrators[source]
                .geometry()
                .cv_at_location(&cells[source].1.morphology, p.at);
            couplings.push((target, k, source, cv));
        }
    }
    Ok(couplings)
}

impl Simulation {
    /// Whether runs advance cells of one kind together as cell groups (on by default): the same results to
    /// the bit, and many small cells run their mechanisms' kernels once per step instead of once per cell.
    /// Cells with sensitivities or POINTERs to other cells always run alone. Switch groups off before
    /// enabling homeostatic control, which groups carry themselves.
    pub fn set_cell_groups(&mut self, on: bool) -> Result<(), SimulationError> {
        if !on && self.groups.iter().flatten().any(CellGroup::has_controllers) {
            return Err(SimulationError::Options(
                "cell groups carry the homeostatic control enabled on them: switch them off before enabling it".into(),
            ));
        }
        self.use_groups = on;
        if !on {
            self.groups = None;
        }
        Ok(())
    }

    /// The number of cell groups the last run advanced (0 when it ran every cell alone).
    pub fn cell_group_count(&self) -> usize {
        self.groups.as_ref().map_or(0, Vec::len)
    }

    fn groups_apply(&self) -> bool {
        self.use_groups
            && self.layouts.len() > 1
            && self.couplings.is_empty()
            && self.cells.get().is_none_or(|cells| {
                cells
                    .iter()
                    .all(|c| c.voltage_tangents().is_none() && c.controller().is_none())
            })
    }

    fn engine_error(&self, cell: usize, source: EngineError) -> SimulationError {
        SimulationError::Engine {
            cell: self.names[cell].clone(),
            source,
        }
    }

    /// Lowers a network's cells and wires them: spikes travel along the connections between epochs.
    pub fn network(network: &Network, catalogue: &Catalogue) -> Result<Self, SimulationError> {
        network.check().map_err(|e| SimulationError::Options(e.to_string()))?;
        let adjusted = network;
        let network = &network
            .with_weight_adjusters()
            .map_err(|e| SimulationError::Options(e.to_string()))?;
        let mut sim = Self::new(&network.cells, catalogue)?;
        sim.weight_adjusters = !adjusted.adjusters.is_empty();
        let gids = network.cells.len() + network.sources.len();
        sim.wiring = Some(Wiring {
            sources: network.sources.clone(),
            router: SpikeRouter::new(&network.connections, gids, network.cells.len()),
        });
        Ok(sim)
    }

    /// Co-simulates the sensitivities of every probe to `specs` (the same parameters on every cell);
    /// `forgetting_per_ms` > 0 makes them leaky running sensitivities.
    pub fn enable_sensitivities(
        &mut self,
        cells: &[(String, Cell)],
        catalogue: &Catalogue,
        specs: &[crate::sensitivity::ParameterSpec],
        forgetting_per_ms: f64,
    ) -> Result<(), SimulationError> {
        self.no_weight_adjusters("sensitivities")?;
        self.groups = None;
        let mut setups = Vec::with_capacity(cells.len());
        for (c, (name, cell)) in cells.iter().enumerate() {
            let mut setup =
                crate::sensitivity::setup_for(cell, catalogue, specs).map_err(|e| SimulationError::Sensitivity {
                    cell: name.clone(),
                    message: e.to_string(),
                })?;
            setup.forgetting_per_ms = forgetting_per_ms;
            self.lanes[c] = setup.names.clone();
            self.setups[c] = Some(setup.clone());
            setups.push(setup);
        }
        for ((setup, integrator), (name, _)) in setups.into_iter().zip(self.cells_mut()).zip(cells) {
            integrator
                .enable_sensitivities(setup)
                .map_err(|source| SimulationError::Engine {
                    cell: name.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    /// Starts homeostatic control on every cell (each its own controller; see [`crate::control::homeostasis`]).
    pub fn enable_homeostasis(
        &mut self,
        cells: &[(String, Cell)],
        catalogue: &Catalogue,
        spec: &crate::control::HomeostasisSpec,
    ) -> Result<(), SimulationError> {
        self.no_weight_adjusters("homeostatic control")?;
        let fail = |c: usize, message: String| SimulationError::Sensitivity {
            cell: cells[c].0.clone(),
            message,
        };
        let setup = |c: usize| {
            crate::control::Homeostasis::new(spec, &cells[c].1, catalogue).map_err(|e| fail(c, e.to_string()))
        };
        for c in 0..cells.len() {
            self.control_columns[c] = spec.column_names();
        }
        // Cells in groups get a controller each on their group's integrator.
        if let Some(groups) = &mut self.groups {
            for group in groups {
                let setups = group
                    .cells()
                    .map(|c| setup(c).map(|s| (c, s)))
                    .collect::<Result<Vec<_>, _>>()?;
                for (c, s) in &setups {
                    self.lanes[*c] = s.sensitivities.names.clone();
                }
                group
                    .enable_homeostasis(setups)
                    .map_err(|(c, e)| fail(c, e.to_string()))?;
            }
            return Ok(());
        }
        let setups = (0..cells.len()).map(setup).collect::<Result<Vec<_>, _>>()?;
        for (c, s) in setups.iter().enumerate() {
            self.lanes[c] = s.sensitivities.names.clone();
        }
        for (c, (setup, integrator)) in setups.into_iter().zip(self.cells_mut()).enumerate() {
            integrator
                .enable_homeostasis(setup)
                .map_err(|e| fail(c, e.to_string()))?;
        }
        Ok(())
    }

    fn no_weight_adjusters(&self, what: &str) -> Result<(), SimulationError> {
        if self.weight_adjusters {
            return Err(SimulationError::Options(format!(
                "{what} in a network whose connections have weight adjusters are not supported yet"
            )));
        }
        Ok(())
    }

    /// Sets parameter values on every cell (one set per cell, in order) for the next run, without rebuilding.
    pub fn set_parameter_values(
        &mut self,
        values: &[crate::sensitivity::ParameterValues],
    ) -> Result<(), SimulationError> {
        let names = self.names.clone();
        for ((cell, values), name) in self.cells_mut().iter_mut().zip(values).zip(&names) {
            cell.set_parameter_values(values)
                .map_err(|source| SimulationError::Engine {
                    cell: name.clone(),
                    source,
                })?;
        }
        for group in self.groups.iter_mut().flatten() {
            for cell in group.cells().collect::<Vec<_>>() {
                if let Some(values) = values.get(cell) {
                    group
                        .set_parameter_values(cell, values)
                        .map_err(|(c, source)| SimulationError::Engine {
                            cell: self.names[c].clone(),
                            source,
                        })?;
                }
            }
        }
        Ok(())
    }

    /// A simulation of one unnamed cell.
    pub fn single(cell: &Cell, catalogue: &Catalogue) -> Result<Self, SimulationError> {
        Self::new(&[(String::new(), cell.clone())], catalogue)
    }

    /// Each cell's own integrator (built now if the cells so far ran only in groups, without the groups'
    /// homeostatic control; a run in groups leaves them as they were built).
    pub fn cells(&self) -> &[CellIntegrator] {
        self.cells
            .get_or_init(|| self.build_cells().expect("cells built as a group build alone"))
    }

    /// The number of CVs of all cells.
    pub fn cv_count(&self) -> usize {
        self.layouts.iter().map(|l| l.geometry.len()).sum()
    }

    /// Each cell's number of probes.
    pub fn probe_counts(&self) -> Vec<usize> {
        self.layouts.iter().map(|l| l.probes.len()).collect()
    }

    /// Each cell's `[[parameter]]` sensitivities as enabled by [`Simulation::enable_sensitivities`] (`None`
    /// for a cell without them), without building the cells' own integrators.
    pub fn sensitivity_setups(&self) -> &[Option<crate::sensitivity::SensitivitySetup>] {
        &self.setups
    }

    /// After a run: a warning when some step changed a membrane potential by more than it can resolve
    /// ([`crate::engine::RESOLVED_CHANGE_MV`]), naming the cell with the largest change and how many did so.
    pub fn accuracy_warnings(&self) -> Vec<String> {
        // A group knows its largest step over all its cells, so grouped cells are counted by group.
        let largest: Vec<(usize, crate::engine::LargestStep)> = match &self.groups {
            Some(groups) => groups.iter().map(CellGroup::largest_step).collect(),
            None => self
                .cells
                .get()
                .into_iter()
                .flatten()
                .map(|c| c.largest_step())
                .enumerate()
                .collect(),
        };
        let at_least = if self.groups.is_some() { "at least " } else { "" };
        let unresolved: Vec<(usize, crate::engine::LargestStep)> =
            largest.into_iter().filter(|(_, s)| s.unresolved()).collect();
        let Some(&(cell, worst)) = unresolved.iter().max_by(|a, b| a.1.change_mv.total_cmp(&b.1.change_mv)) else {
            return Vec::new();
        };
        let message = match (self.layouts.len(), unresolved.len()) {
            (1, _) => worst.to_string(),
            (n, 1) if self.groups.is_none() => format!("in cell `{}` (of {n}), {worst}", self.names[cell]),
            (n, k) => format!(
                "in {at_least}{k} of {n} cells; the largest in cell `{}`: {worst}",
                self.names[cell]
            ),
        };
        vec![message]
    }

    /// Probe column names: the probe's name, prefixed by `cell.` when there are several cells.
    pub fn probe_names(&self) -> Vec<String> {
        let prefix = self.layouts.len() > 1;
        let mut names = Vec::new();
        for (cell_name, layout) in self.names.iter().zip(&self.layouts) {
            for p in &layout.probes {
                let p = &p.name;
                names.push(if prefix { format!("{cell_name}.{p}") } else { p.clone() });
            }
        }
        names
    }

    /// Runs from t = 0 to `t_stop_ms`, calling `progress` with the fraction done.
    pub fn run(&mut self, options: &RunOptions, progress: impl Fn(f64)) -> Result<Traces, SimulationError> {
        self.run_with(options, |fraction| {
            progress(fraction);
            true
        })
    }

    /// [`run`](Self::run), stopping with [`SimulationError::Interrupted`] when `progress` (called at most 200
    /// times per run with the fraction done, the last time with 1) returns false.
    pub fn run_with(
        &mut self,
        options: &RunOptions,
        mut progress: impl FnMut(f64) -> bool,
    ) -> Result<Traces, SimulationError> {
        let RunOptions {
            t_stop_ms,
            dt_ms,
            sample_interval_ms,
            integrator,
            celsius,
        } = *options;
        if !(dt_ms > 0.0 && t_stop_ms >= 0.0 && sample_interval_ms > 0.0) {
            return Err(SimulationError::Options(format!(
                "need dt > 0, t_stop >= 0 and sample_interval > 0 (got dt = {dt_ms}, t_stop = {t_stop_ms}, sample_interval = {sample_interval_ms})"
            )));
        }
        let steps = (t_stop_ms / dt_ms).round() as usize;
        let every = ((sample_interval_ms / dt_ms).round() as usize).max(1);
        let samples = steps / every + 1;
        if self.groups.is_none() && self.groups_apply() {
            self.groups = units::build_groups(&self.layouts, &self.catalogue, rayon::current_num_threads())
                .map_err(|(c, source)| self.engine_error(c, source))?;
        }
        if self.groups.is_none() {
            self.cells_mut();
        }
        let mut chunk = (steps / 200).max(every).div_ceil(every) * every;
        // A network advances in epochs no longer than the shortest delay between cells, so that a spike
        // of one epoch can only be due in a later one.
        let epoch = self
            .wiring
            .as_ref()
            .map(|w| w.router.min_cell_delay_ms)
            .filter(|d| d.is_finite())
            .map(|d| ((d / dt_ms + 1e-9).floor() as usize).max(1));
        if let Some(e) = epoch {
            chunk = chunk.min(e);
        }
        // Cells coupled through POINTERs exchange voltages at every step.
        if !self.couplings.is_empty() {
            chunk = 1;
        }
        let trains: Vec<Vec<f64>> = self.wiring.as_ref().map_or(Vec::new(), |w| {
            w.sources.iter().map(|(_, s)| s.times(t_stop_ms)).collect()
        });
        let cell_count = self.layouts.len();
        let Simulation {
            names,
            cells,
            wiring,
            couplings,
            groups,
            ..
        } = self;
        let located = |(c, source): (usize, EngineError)| SimulationError::Engine {
            cell: names[c].clone(),
            source,
        };
        let mut units: Vec<Unit> = match groups {
            Some(groups) => groups.iter_mut().map(Unit::Group).collect(),
            None => cells
                .get_mut()
                .expect("built above")
                .iter_mut()
                .enumerate()
                .map(|(c, cell)| Unit::Cell(c, cell))
                .collect(),
        };
        let mut unit_of_cell = vec![0; cell_count];
        for (u, unit) in units.iter().enumerate() {
            for c in unit.cells() {
                unit_of_cell[c] = u;
            }
        }
        let mut per_unit: Vec<Vec<f64>> = vec![Vec::with_capacity(samples * 4); units.len()];
        // Controller columns (sensor, multipliers, running gradients) of the cells that have one.
        let mut control: Vec<Vec<f64>> = vec![Vec::new(); units.len()];
        feed_couplings(couplings, &mut units, true);
        for ((unit, out), ctl) in units.iter_mut().zip(&mut per_unit).zip(&mut control) {
            unit.start(celsius).map_err(located)?;
            unit.sample(out, ctl);
        }
        let mut next_source_spike = vec![0; trains.len()];
        let mut spikes: Vec<Spike> = Vec::new();
        let mut done = 0;
        let mut reported = 0;
        while done < steps {
            let todo = chunk.min(steps - done);
            // Spike sources are known ahead: their spikes up to the epoch's end are routed before it.
            let mut epoch_spikes = Vec::new();
            let epoch_end = (done + todo) as f64 * dt_ms + 1e-9 * dt_ms;
            for (k, train) in trains.iter().enumerate() {
                while let Some(&t) = train.get(next_source_spike[k]).filter(|&&t| t <= epoch_end) {
                    epoch_spikes.push(Spike {
                        t_ms: t,
                        gid: cell_count + k,
                        detector: 0,
                    });
                    next_source_spike[k] += 1;
                }
            }
            exchange(wiring, &mut units, &unit_of_cell, &mut epoch_spikes).map_err(located)?;
            feed_couplings(couplings, &mut units, false);
            let mut from_sources = epoch_spikes;
            units
                .par_iter_mut()
                .zip(per_unit.par_iter_mut())
                .zip(control.par_iter_mut())
                .try_for_each(|((unit, out), ctl)| {
                    for k in 1..=todo {
                        unit.step(dt_ms, integrator)?;
                        if (done + k) % every == 0 {
                            unit.sample(out, ctl);
                        }
                    }
                    Ok(())
                })
                .map_err(located)?;
            let mut from_cells: Vec<Spike> = Vec::new();
            for unit in &mut units {
                unit.take_spikes(&mut from_cells);
            }
            exchange(wiring, &mut units, &unit_of_cell, &mut from_cells).map_err(located)?;
            from_sources.append(&mut from_cells);
            from_sources.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms).then(a.gid.cmp(&b.gid)));
            spikes.append(&mut from_sources);
            done += todo;
            // At most 200 reports, also where cells coupled through POINTERs advance a step at a time.
            let tick = done * PROGRESS_REPORTS / steps;
            if tick == reported && done < steps {
                continue;
            }
            reported = tick;
            if !progress(done as f64 / steps as f64) {
                return Err(SimulationError::Interrupted {
                    t_ms: done as f64 * dt_ms,
                });
            }
        }
        drop(units);
        // A group's samples go to its cells' columns; a cell alone is its own unit.
        let per_cell = match groups {
            None => per_unit,
            Some(groups) => {
                let mut per_cell = vec![Vec::with_capacity(samples * 4); cell_count];
                let mut cell_control = vec![Vec::new(); cell_count];
                for ((group, flat), ctl) in groups.iter().zip(&per_unit).zip(&control) {
                    group.deal_samples(flat, ctl, &mut per_cell, &mut cell_control);
                }
                control = cell_control;
                per_cell
            }
        };
        let time_ms: Vec<f64> = (0..samples).map(|k| (k * every) as f64 * dt_ms).collect();
        let (mut values, mut tangents, mut tangent_names) = (Vec::new(), Vec::new(), Vec::new());
        let probe_names = self.probe_names();
        let mut first_probe = 0;
        let lanes_of = |c: usize| &self.lanes[c];
        for (c, (layout, flat)) in self.layouts.iter().zip(&per_cell).enumerate() {
            let n = layout.probes.len();
            let lanes = lanes_of(c).len();
            let stride = (n + n * lanes).max(1);
            for p in 0..n {
                values.push(flat.iter().skip(p).step_by(stride).copied().collect());
            }
            for p in 0..n {
                for (lane, parameter) in lanes_of(c).iter().enumerate() {
                    tangent_names.push(format!("d{}/d{parameter}", probe_names[first_probe + p]));
                    tangents.push(
                        flat.iter()
                            .skip(n + p * lanes + lane)
                            .step_by(stride)
                            .copied()
                            .collect(),
                    );
                }
            }
            first_probe += n;
        }
        let mut names = probe_names;
        let mut units: Vec<String> = self
            .layouts
            .iter()
            .flat_map(|l| l.probes.iter().map(|p| p.unit.clone()))
            .collect();
        let several = self.layouts.len() > 1;
        for ((columns, name), ctl) in self.control_columns.iter().zip(&self.names).zip(&control) {
            for (k, column) in columns.iter().enumerate() {
                names.push(if several {
                    format!("{name}.{column}")
                } else {
                    column.clone()
                });
                values.push(ctl.iter().skip(k).step_by(columns.len()).copied().collect());
                units.push(if column.ends_with(".rate") { "Hz" } else { "" }.to_string());
            }
        }
        let mut gids = self.names.clone();
        if let Some(w) = &self.wiring {
            gids.extend(w.sources.iter().map(|(n, _)| n.clone()));
        }
        Ok(Traces {
            time_ms,
            names,
            values,
            units,
            tangent_names,
            tangents,
            spikes,
            gids,
        })
    }
}

/// Gives every POINTER to another cell that cell's present voltage (or, before initialisation, its v_init).
/// Cells coupled so run alone, so the simulation's units are its cells.
fn feed_couplings(couplings: &[(usize, usize, usize, usize)], units: &mut [Unit], initial: bool) {
    for &(target, k, source, cv) in couplings {
        let Some(from) = units[source].cell_mut() else { continue };
        let v = if initial {
            from.v_init_mv()
        } else {
            from.voltages_mv()[cv]
        };
        if let Some(to) = units[target].cell_mut() {
            to.set_external_pointer(k, v);
        }
    }
}

/// The spike exchange between epochs: routes `spikes` along the connections into the targets' event queues.
fn exchange(
    wiring: &Option<Wiring>,
    units: &mut [Unit],
    unit_of_cell: &[usize],
    spikes: &mut [Spike],
) -> Result<(), (usize, EngineError)> {
    let Some(w) = wiring else { return Ok(()) };
    let mut deliveries = vec![Vec::new(); unit_of_cell.len()];
    w.router.route(spikes, &mut deliveries);
    for (cell, events) in deliveries.into_iter().enumerate() {
        for delivery in events {
            units[unit_of_cell[cell]].push_connection_event(cell, delivery)?;
        }
    }
    Ok(())
}
