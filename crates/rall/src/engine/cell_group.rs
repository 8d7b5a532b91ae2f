//! Cells of one kind in (their [`CellLayout`]s), one [`CellIntegrator`] over all their CVs out: Arbor's cell
//! groups. Each mechanism's kernels run once per step over the instances of every cell of the group, instead of
//! once per cell, and the group maps probes, detectors, synapses and errors back to the cells.
//!
//! The group's cable matrix is a forest: each cell's root has no link (a zero coupling to row 0), so the
//! elimination of every cell is the one its own matrix gets, and a group's run is its cells' runs to the bit.

use super::{CellIntegrator, EngineError, Integrator, LargestStep, SolveError};
use crate::cell::{CellLayout, PointerSource};
use crate::discretize::CvGeometry;
use crate::mechanism::Catalogue;
use std::ops::Range;

/// What cells must share to run in one group: the same mechanisms in the same order (one set of columns per
/// mechanism), the same initial potential and the same ion valences.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GroupKind {
    mechanisms: Vec<String>,
    v_init_bits: u64,
    valences: Vec<(String, Option<u64>)>,
}

impl GroupKind {
    /// The kind of a cell, or `None` for a cell that runs alone: one whose POINTERs read another cell or a
    /// connection's weight.
    pub fn of(layout: &CellLayout) -> Option<Self> {
        let local = |p: &crate::cell::PointerLayout| matches!(p.source, PointerSource::Voltage(_));
        if !layout.pointers.iter().all(local) {
            return None;
        }
        Some(Self {
            mechanisms: layout.mechanisms.iter().map(|m| m.mechanism.clone()).collect(),
            v_init_bits: layout.v_init_mv.to_bits(),
            valences: layout
                .ions
                .iter()
                .map(|(s, _)| (s.species.clone(), s.valence.map(f64::to_bits)))
                .collect(),
        })
    }
}

/// One cell of a group: where its CVs, probes, synapse placements and detectors sit among the group's.
#[derive(Clone)]
struct Member {
    /// The cell's index in the simulation.
    cell: usize,
    first_cv: usize,
    probes: Range<usize>,
    first_synapse: usize,
    first_stimulus: usize,
    /// The group's first instance of each mechanism that is the cell's.
    first_instance: Vec<usize>,
    /// The seed of the cell's random streams.
    noise_seed: u64,
    /// The cell's own CV tree, to name the place of an error in its terms.
    geometry: CvGeometry,
}

/// Cells of one [`GroupKind`] advanced together.
#[derive(Clone)]
pub struct CellGroup {
    integrator: CellIntegrator,
    members: Vec<Member>,
    /// `(member, the member's own detector number)` of each detector of the group.
    detectors: Vec<(usize, usize)>,
}

impl CellGroup {
    /// Instantiates `(cell index, layout)` pairs of one kind, by increasing cell index, as one group; an error
    /// names the cell it concerns.
    pub fn new(cells: &[(usize, &CellLayout)], catalogue: &Catalogue) -> Result<Self, (usize, EngineError)> {
        let (layout, members, detectors) = merge(cells);
        let mut integrator = CellIntegrator::new(&layout, catalogue).map_err(|e| (cells[0].0, e))?;
        let seeds: Vec<(&[usize], u64)> = members
            .iter()
            .map(|m| (m.first_instance.as_slice(), m.noise_seed))
            .collect();
        integrator.seed_random_by_cell(&seeds);
        integrator.initialise().map_err(|e| (cells[0].0, e))?;
        Ok(Self {
            integrator,
            members,
            detectors,
        })
    }

    /// The simulation's indices of the group's cells, in the order their probes are sampled.
    pub fn cells(&self) -> impl Iterator<Item = usize> + '_ {
        self.members.iter().map(|m| m.cell)
    }

    /// Whether the group's cells are under homeostatic control.
    pub fn has_controllers(&self) -> bool {
        !self.integrator.controllers().is_empty()
    }

    pub fn set_celsius(&mut self, celsius: f64) {
        self.integrator.set_celsius(celsius);
    }

    pub fn initialise(&mut self) -> Result<(), (usize, EngineError)> {
        self.integrator.initialise().map_err(|e| self.locate(e))
    }

    /// Advances every cell of the group by one step.
    pub fn step(&mut self, dt_ms: f64, integrator: Integrator) -> Result<(), (usize, EngineError)> {
        self.integrator.step(dt_ms, integrator).map_err(|e| self.locate(e))
    }

    /// Appends the present value of every probe of every cell, cell after cell, then their tangents (probe
    /// by probe, every lane), to `out`; each cell's controller columns, cell after cell, to `control`.
    pub fn sample(&self, out: &mut Vec<f64>, control: &mut Vec<f64>) {
        self.integrator.sample_probes(out);
        self.integrator.sample_probe_tangents(out);
        for c in self.integrator.controllers() {
            c.sample(control);
        }
    }

    /// A group's samples (what [`CellGroup::sample`] appended, sample after sample) dealt out to its cells'
    /// columns: each cell's probes then their tangents, and its controller's columns.
    pub fn deal_samples(
        &self,
        flat: &[f64],
        control: &[f64],
        per_cell: &mut [Vec<f64>],
        cell_control: &mut [Vec<f64>],
    ) {
        let probes: usize = self.members.iter().map(|m| m.probes.len()).sum();
        let lanes = self.integrator.sensitivity_names().len();
        let stride = probes * (1 + lanes);
        if stride > 0 {
            for sample in flat.chunks_exact(stride) {
                let (values, tangents) = sample.split_at(probes);
                for m in &self.members {
                    per_cell[m.cell].extend_from_slice(&values[m.probes.clone()]);
                    per_cell[m.cell].extend_from_slice(&tangents[m.probes.start * lanes..m.probes.end * lanes]);
                }
            }
        }
        let controllers = self.integrator.controllers();
        let Some(columns) = controllers.first().map(|c| c.column_names().len()) else {
            return;
        };
        for sample in control.chunks_exact(columns * controllers.len()) {
            for (m, columns) in self.members.iter().zip(sample.chunks_exact(columns)) {
                cell_control[m.cell].extend_from_slice(columns);
            }
        }
    }

    /// Starts homeostatic control of the group's cells: `(cell, its controller resolved on the cell alone)` in
    /// the order of [`CellGroup::cells`]; the controllers' lanes must have the same names.
    pub fn enable_homeostasis(
        &mut self,
        setups: Vec<(usize, crate::control::Homeostasis)>,
    ) -> Result<(), (usize, EngineError)> {
        let mut merged: Option<crate::sensitivity::SensitivitySetup> = None;
        let mut shifted = Vec::with_capacity(setups.len());
        for (cell, setup) in setups {
            let setup = setup.shifted(&self.member(cell).first_instance);
            match &mut merged {
                None => merged = Some(setup.sensitivities.clone()),
                Some(all) => {
                    if all.names != setup.sensitivities.names {
                        let message = format!(
                            "the controllers of a cell group differ in their parameters ({:?} and {:?})",
                            all.names, setup.sensitivities.names
                        );
                        return Err((cell, EngineError::Mechanism(message)));
                    }
                    all.mechanism_seeds
                        .extend(setup.sensitivities.mechanism_seeds.iter().cloned());
                    for &lane in &setup.sensitivities.partly_covered {
                        if !all.partly_covered.contains(&lane) {
                            all.partly_covered.push(lane);
                        }
                    }
                }
            }
            shifted.push(setup);
        }
        let Some(sensitivities) = merged else { return Ok(()) };
        let first = self.members[0].cell;
        self.integrator
            .enable_homeostasis_by_cell(shifted, sensitivities)
            .map_err(|e| (first, e))
    }

    /// The spikes `(cell, the cell's detector, t [ms])` since the last call.
    pub fn take_spikes(&mut self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        self.integrator.take_spikes().into_iter().map(|(d, t_ms)| {
            let (member, detector) = self.detectors[d];
            (self.members[member].cell, detector, t_ms)
        })
    }

    /// An event from network connection `connection` for synapse placement `synapse` of simulation cell `cell`.
    pub fn push_connection_event(
        &mut self,
        cell: usize,
        synapse: usize,
        connection: usize,
        t_ms: f64,
        weight: f64,
    ) -> Result<(), (usize, EngineError)> {
        let first = self.member(cell).first_synapse;
        self.integrator
            .push_connection_event(first + synapse, connection, t_ms, weight)
            .map_err(|e| (cell, e))
    }

    /// Sets mechanism parameters and stimulus amplitudes of simulation cell `cell` (as
    /// [`CellIntegrator::set_parameter_values`] does for the cell alone).
    pub fn set_parameter_values(
        &mut self,
        cell: usize,
        values: &crate::sensitivity::ParameterValues,
    ) -> Result<(), (usize, EngineError)> {
        let member = self.member(cell);
        let moved = crate::sensitivity::ParameterValues {
            mechanism: values
                .mechanism
                .iter()
                .map(|(m, name, instance, value)| (*m, name.clone(), member.first_instance[*m] + instance, *value))
                .collect(),
            stimulus: values
                .stimulus
                .iter()
                .map(|&(k, amplitude)| (member.first_stimulus + k, amplitude))
                .collect(),
        };
        self.integrator.set_parameter_values(&moved).map_err(|e| (cell, e))
    }

    /// The largest one-step change of a membrane potential since the run started, with the cell it happened
    /// in and the CV in that cell's numbering.
    pub fn largest_step(&self) -> (usize, LargestStep) {
        let mut step = self.integrator.largest_step();
        let member = self.member_at(step.cv);
        step.cv -= member.first_cv;
        (member.cell, step)
    }

    /// The member that is simulation cell `cell` (members are in increasing cell order).
    fn member(&self, cell: usize) -> &Member {
        let k = self.members.partition_point(|m| m.cell < cell);
        assert_eq!(
            self.members.get(k).map(|m| m.cell),
            Some(cell),
            "cell {cell} is not in the group"
        );
        &self.members[k]
    }

    fn member_at(&self, cv: usize) -> &Member {
        let k = self.members.partition_point(|m| m.first_cv <= cv);
        &self.members[k.saturating_sub(1)]
    }

    /// An error of the group's integrator in the terms of the cell it happened in.
    fn locate(&self, error: EngineError) -> (usize, EngineError) {
        match error {
            EngineError::NonFinite {
                quantity,
                value,
                cv,
                t_ms,
                cause,
                ..
            } => {
                let member = self.member_at(cv);
                let cv = cv - member.first_cv;
                let place = member.geometry.describe(cv);
                let located = EngineError::NonFinite {
                    quantity,
                    value,
                    cv,
                    place,
                    t_ms,
                    cause,
                };
                (member.cell, located)
            }
            EngineError::Solve {
                t_ms,
                source: SolveError::NonPositivePivot { index, value },
            } => {
                let member = self.member_at(index);
                let index = index - member.first_cv;
                let source = SolveError::NonPositivePivot { index, value };
                (member.cell, EngineError::Solve { t_ms, source })
            }
            other => (self.members[0].cell, other),
        }
    }
}

/// One layout for the cells together: their CVs, instances, placements, probes and detectors one cell after
/// another, every index moved past the cells before it. Each mechanism's instances stay in their cell's order.
fn merge(cells: &[(usize, &CellLayout)]) -> (CellLayout, Vec<Member>, Vec<(usize, usize)>) {
    let first = cells[0].1;
    let mut merged = CellLayout {
        geometry: CvGeometry {
            parent: Vec::new(),
            kind: Vec::new(),
            branch: Vec::new(),
            node_pos: Vec::new(),
            extent: Vec::new(),
            branch_cvs: Vec::new(),
            branch_end: Vec::new(),
        },
        properties: crate::discretize::CvProperties {
            area_um2: Vec::new(),
            capacitance_nf: Vec::new(),
            axial_conductance_us: Vec::new(),
        },
        diam_um: Vec::new(),
        v_init_mv: first.v_init_mv,
        mechanisms: first
            .mechanisms
            .iter()
            .map(|m| crate::mechanism::MechanismLayout {
                mechanism: m.mechanism.clone(),
                cv: Vec::new(),
                area_um2: Vec::new(),
                parameters: Vec::new(),
            })
            .collect(),
        stimuli: Vec::new(),
        events: Vec::new(),
        ions: Vec::new(),
        probes: Vec::new(),
        synapse_targets: Vec::new(),
        detectors: Vec::new(),
        pointers: Vec::new(),
        event_detectors: Vec::new(),
        noise_seed: first.noise_seed,
    };
    let mut members = Vec::with_capacity(cells.len());
    let mut event_detectors = Vec::new();
    let mut detectors = Vec::new();
    for (member, &(cell, layout)) in cells.iter().enumerate() {
        let cv0 = merged.geometry.len();
        let first_synapse = merged.synapse_targets.len();
        let first_stimulus = merged.stimuli.len();
        let probes = merged.probes.len()..merged.probes.len() + layout.probes.len();
        let instance0: Vec<usize> = merged.mechanisms.iter().map(|m| m.cv.len()).collect();
        let moved = |(m, instance): (usize, usize)| (m, instance0[m] + instance);
        let moved = &moved;
        append_geometry(&mut merged.geometry, &layout.geometry, cv0);
        let p = &mut merged.properties;
        p.area_um2.extend(&layout.properties.area_um2);
        p.capacitance_nf.extend(&layout.properties.capacitance_nf);
        p.axial_conductance_us.extend(&layout.properties.axial_conductance_us);
        merged.diam_um.extend(&layout.diam_um);
        for (into, m) in merged.mechanisms.iter_mut().zip(&layout.mechanisms) {
            into.cv.extend(m.cv.iter().map(|cv| cv + cv0));
            into.area_um2.extend(&m.area_um2);
            into.parameters.extend(m.parameters.iter().cloned());
        }
        merged
            .stimuli
            .extend(layout.stimuli.iter().map(|s| crate::cell::StimulusLayout {
                cv: s.cv + cv0,
                ..s.clone()
            }));
        merged.events.extend(layout.events.iter().map(|e| {
            let (mechanism, instance) = moved((e.mechanism, e.instance));
            crate::cell::EventLayout {
                mechanism,
                instance,
                source: first_synapse + e.source,
                ..e.clone()
            }
        }));
        merged.ions.extend(
            layout
                .ions
                .iter()
                .map(|(s, cvs)| (s.clone(), cvs.iter().map(|cv| cv + cv0).collect())),
        );
        merged
            .probes
            .extend(layout.probes.iter().map(|p| crate::cell::ProbeLayout {
                cv: p.cv + cv0,
                variable: p.variable.as_ref().map(|(m, instance, name)| {
                    let (m, instance) = moved((*m, *instance));
                    (m, instance, name.clone())
                }),
                ..p.clone()
            }));
        merged.synapse_targets.extend(
            layout
                .synapse_targets
                .iter()
                .map(|targets| targets.iter().map(|&t| moved(t)).collect()),
        );
        merged
            .detectors
            .extend(layout.detectors.iter().map(|&(cv, threshold)| (cv + cv0, threshold)));
        detectors.extend((0..layout.detectors.len()).map(|d| (member, d)));
        event_detectors.extend(
            layout
                .event_detectors
                .iter()
                .enumerate()
                .map(|(j, &d)| (moved(d), (member, layout.detectors.len() + j))),
        );
        merged.pointers.extend(layout.pointers.iter().map(|p| {
            let (mechanism, instance) = moved((p.mechanism, p.instance));
            let source = match p.source {
                PointerSource::Voltage(cv) => PointerSource::Voltage(cv + cv0),
                ref other => other.clone(),
            };
            crate::cell::PointerLayout {
                mechanism,
                instance,
                pointer: p.pointer.clone(),
                source,
            }
        }));
        members.push(Member {
            cell,
            first_cv: cv0,
            probes,
            first_synapse,
            first_stimulus,
            first_instance: instance0,
            noise_seed: layout.noise_seed,
            geometry: layout.geometry.clone(),
        });
    }
    // Events keep their time order, the cells' own order among events at one time.
    merged.events.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    // Point-process detectors are numbered after the threshold detectors, as in each cell.
    for (target, owner) in event_detectors {
        merged.event_detectors.push(target);
        detectors.push(owner);
    }
    (merged, members, detectors)
}

/// Appends a cell's CV tree to a forest of them, its CVs from `cv0` on; its root stays a root.
fn append_geometry(into: &mut CvGeometry, cell: &CvGeometry, cv0: usize) {
    let branch0 = into.branch_cvs.len();
    into.parent.extend(cell.parent.iter().map(|p| p.map(|p| p + cv0)));
    into.kind.extend(cell.kind.iter().copied());
    into.branch.extend(cell.branch.iter().map(|b| b + branch0));
    into.node_pos.extend(&cell.node_pos);
    into.extent.extend(&cell.extent);
    into.branch_cvs
        .extend(cell.branch_cvs.iter().map(|r| r.start + cv0..r.end + cv0));
    into.branch_end.extend(cell.branch_end.iter().map(|e| e + cv0));
}
