//! NMODL mechanisms at run time: a compiled [`MechanismIr`] and a layout in, kernels evaluated over all instances at once (one column per slot).

use super::ions::{IonPool, IonVariable};
use super::nmodl_events::{EventSide, action_nodes};
use super::nmodl_steady::SteadySolve;
use super::tangents::{JacobianKernel, LaneKernel, ParameterSeed};
use super::{CurrentTangents, EventDelivery, EventEffects, Mechanism, MechanismLayout, StepContext};
use crate::discretize::CvIndex;
use rall_nmodl::ast::MechanismKind;
use rall_nmodl::ir::{Advance, Graph, MechanismIr, NodeId, SlotId, SlotKind, Tape, TapeScratch};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// Compiles kernel outputs; `t`, `dt` and `celsius` (slots 1 to 3) are the same for every instance.
pub(super) fn tape_for(graph: &Graph, outputs: &[NodeId]) -> Tape {
    Tape::with_uniform_inputs(graph, outputs, |slot| (1..=3).contains(&slot))
}

/// Sets PARAMETER `name` of one instance in a mechanism's columns (one per slot).
pub(super) fn set_parameter_column(
    ir: &MechanismIr,
    columns: &mut [Vec<f64>],
    name: &str,
    instance: usize,
    value: f64,
) -> Result<(), String> {
    match ir.slot(name) {
        Some(slot) if ir.slots[slot as usize].kind == SlotKind::Parameter => {
            columns[slot as usize][instance] = value;
            Ok(())
        }
        _ => Err(format!("`{}` has no PARAMETER `{name}`", ir.info.name)),
    }
}

/// Buffers of the per-instance dense solves (Newton's on implicit states, the implicit states' tangents):
/// taken out for a solve and put back, so the time loop allocates nothing.
#[derive(Clone, Debug, Default)]
pub(super) struct DenseScratch {
    /// The states at the step's start, `[state * width + instance]`.
    pub old: Vec<f64>,
    pub matrix: Vec<f64>,
    pub vector: Vec<f64>,
    pub jacobian: Vec<f64>,
}

/// A slot that mirrors an ion variable of the cell.
#[derive(Clone, Debug)]
pub(super) struct IonLink {
    pub slot: SlotId,
    pub species: usize,
    pub variable: IonVariable,
    pub write: bool,
    /// Also READ (for a written current: the pool's total is loaded before each kernel).
    pub read: bool,
}

/// The nodes of each kernel's outputs, in the order the tapes produce them.
pub(super) struct KernelNodes {
    pub init: Vec<NodeId>,
    /// BREAKPOINT outputs, then the total current, its conductance and each ion current.
    pub current: Vec<NodeId>,
    /// Explicit updates, or the implicit rates followed by their state Jacobian.
    pub advance: Vec<NodeId>,
    pub net_receive: Vec<NodeId>,
}

impl KernelNodes {
    pub(super) fn of(ir: &MechanismIr) -> Self {
        let nodes = |k: &rall_nmodl::ir::Kernel| k.outputs.iter().map(|(_, n)| *n).collect::<Vec<_>>();
        let mut current = nodes(&ir.current);
        current.push(ir.total_current);
        current.push(ir.conductance);
        current.extend(ir.ion_currents.iter().map(|(_, n, _)| *n));
        let advance = match &ir.advance {
            Advance::None => Vec::new(),
            Advance::Explicit(k) => nodes(k),
            Advance::Implicit {
                rates,
                jacobian,
                assigned,
                ..
            } => rates
                .iter()
                .chain(jacobian)
                .copied()
                .chain(assigned.iter().map(|(_, n)| *n))
                .collect(),
        };
        Self {
            init: nodes(&ir.initial),
            current,
            advance,
            net_receive: ir.net_receive.as_ref().map(|r| nodes(&r.kernel)).unwrap_or_default(),
        }
    }
}

/// Tangent co-simulation state: extended kernels and one tangent column per carrying slot.
#[derive(Clone)]
pub(super) struct Tangents {
    pub lanes: usize,
    /// Per slot: its tangents `[lane * width + instance]`, or empty when the slot carries none.
    pub columns: Vec<Vec<f64>>,
    pub init: JacobianKernel,
    /// BREAKPOINT with every lane's tangents in the same tape.
    pub current: LaneKernel,
    pub advance: Option<AdvanceTangents>,
    pub net_receive: Option<JacobianKernel>,
    /// Scratch for output tangents.
    pub out: Vec<Vec<f64>>,
    /// An event's instance's input tangents, one vector per slot (kept between events).
    pub event_inputs: Vec<Vec<f64>>,
    /// Per slot: the lanes where its tangents can be non-zero (parameters: their own lanes; empty: all).
    pub lanes_of: Vec<Vec<usize>>,
}

/// One NMODL mechanism over all the CVs (or locations) it covers.
#[derive(Clone)]
pub struct NmodlMechanism {
    pub(super) ir: Arc<MechanismIr>,
    pub(super) cv: Vec<CvIndex>,
    /// `cv` as runs of consecutive CVs.
    pub(super) cv_runs: Vec<CvRun>,
    /// nA per unit of the mechanism's current: `1e-2 · area` for densities (mA/cm² · µm²), 1 for point processes.
    pub(super) current_scale: Vec<f64>,
    /// mA/cm² of ion current per unit of the mechanism's ion current.
    pub(super) ion_scale: Vec<f64>,
    /// One column per slot, one entry per instance.
    pub(super) columns: Vec<Vec<f64>>,
    pub(super) ions: Vec<IonLink>,
    /// Species of each ion current output of the current kernel.
    pub(super) ion_current_species: Vec<usize>,
    pub(super) init_tape: Tape,
    pub(super) current_tape: Tape,
    pub(super) advance_tape: Option<Tape>,
    /// NET_RECEIVE's tape and argument slots (the weight first).
    pub(super) net_receive: Option<(Tape, Vec<SlotId>)>,
    /// Self-events, watches and NET_RECEIVE's INITIAL.
    pub(super) events: EventSide,
    /// INITIAL's closing steady-state solve, and its failure (reported by the first state update).
    pub(super) steady: Option<SteadySolve>,
    /// The LINEAR or NONLINEAR block BREAKPOINT solves in every state update.
    pub(super) algebraic_solve: Option<SteadySolve>,
    pub(super) initial_error: Option<String>,
    /// One scratch per kernel (INITIAL, BREAKPOINT, state update, NET_RECEIVE), so each keeps its constants.
    pub(super) scratches: [TapeScratch; 4],
    /// Buffers of the per-instance dense solves, kept from step to step.
    pub(super) dense: DenseScratch,
    pub(super) tangents: Option<Box<Tangents>>,
    /// Slots written by INITIAL, BREAKPOINT, the state update (or its implicit states) and NET_RECEIVE.
    pub(super) init_slots: Vec<SlotId>,
    pub(super) current_slots: Vec<SlotId>,
    pub(super) advance_slots: Vec<SlotId>,
    pub(super) net_slots: Vec<SlotId>,
    /// POINTER slots and what each instance's reads.
    pub(super) pointers: Vec<super::nmodl_pointers::PointerColumn>,
    /// The `normrand` slots, refilled with standard normal samples every step from a seeded stream.
    random_slots: Vec<SlotId>,
    /// `(first instance, seed)` of each stream, and the streams.
    random_seeds: Vec<(usize, u64)>,
    randoms: Vec<ChaCha8Rng>,
}

impl NmodlMechanism {
    pub fn new(
        ir: Arc<MechanismIr>,
        layout: &MechanismLayout,
        diam_um: &[f64],
        ions: &mut IonPool,
        cvs: usize,
    ) -> Self {
        let n = layout.cv.len();
        let density = *ir.kind() == MechanismKind::Density;
        let mut columns: Vec<Vec<f64>> = ir.slots.iter().map(|s| vec![s.default; n]).collect();
        let parameter_slots: Vec<SlotId> = ir.slots_where(|k| *k == SlotKind::Parameter).map(|(i, _)| i).collect();
        for (k, values) in layout.parameters.iter().enumerate() {
            for (p, slot) in parameter_slots.iter().enumerate() {
                columns[*slot as usize][k] = values[p];
            }
        }
        if let Some(area) = ir.slot("area") {
            columns[area as usize].copy_from_slice(&layout.area_um2);
        }
        if let Some(diam) = ir.slot("diam") {
            for (k, &cv) in layout.cv.iter().enumerate() {
                columns[diam as usize][k] = diam_um[cv];
            }
        }
        let links = ion_links(&ir, ions, cvs);
        let ion_current_species = ir
            .ion_currents
            .iter()
            .map(|(ion, _, _)| ions.species_index(ion, cvs))
            .collect();
        let nodes = KernelNodes::of(&ir);
        let net_receive = ir.net_receive.as_ref().map(|_| {
            let arguments = ir
                .slots_where(|k| *k == SlotKind::EventArgument)
                .map(|(i, _)| i)
                .collect();
            // The kernel's outputs, then each action's guard and values.
            let mut outputs = nodes.net_receive.clone();
            outputs.extend(action_nodes(&ir).0);
            (tape_for(&ir.graph, &outputs), arguments)
        });
        let events = EventSide::new(&ir, n);
        let pointers = super::nmodl_pointers::pointer_columns(&ir, n);
        let current_scale = if density {
            layout.area_um2.iter().map(|a| 1e-2 * a).collect()
        } else {
            vec![1.0; n]
        };
        // A point process's ion current spreads over its CV's membrane (none at a zero-area junction).
        let ion_scale = if density {
            vec![1.0; n]
        } else {
            layout
                .area_um2
                .iter()
                .map(|&a| if a > 0.0 { 1e2 / a } else { 0.0 })
                .collect()
        };
        Self {
            init_tape: tape_for(&ir.graph, &nodes.init),
            current_tape: tape_for(&ir.graph, &nodes.current),
            advance_tape: (!nodes.advance.is_empty()).then(|| tape_for(&ir.graph, &nodes.advance)),
            net_receive,
            events,
            steady: SteadySolve::new(&ir),
            algebraic_solve: ir.algebraic.as_ref().map(|s| SteadySolve::of(&ir.graph, s)),
            initial_error: None,
            ir,
            cv: layout.cv.clone(),
            cv_runs: cv_runs(&layout.cv),
            current_scale,
            ion_scale,
            columns,
            ions: links,
            ion_current_species,
            scratches: Default::default(),
            dense: DenseScratch::default(),
            tangents: None,
            init_slots: Vec::new(),
            current_slots: Vec::new(),
            advance_slots: Vec::new(),
            net_slots: Vec::new(),
            pointers,
            random_slots: Vec::new(),
            random_seeds: vec![(0, 0)],
            randoms: vec![ChaCha8Rng::seed_from_u64(0)],
        }
        .with_slot_lists()
    }

    fn with_slot_lists(mut self) -> Self {
        let slots = |k: &rall_nmodl::ir::Kernel| k.outputs.iter().map(|(s, _)| *s).collect::<Vec<_>>();
        self.init_slots = slots(&self.ir.initial);
        self.current_slots = slots(&self.ir.current);
        self.advance_slots = match &self.ir.advance {
            Advance::None => Vec::new(),
            Advance::Explicit(k) => slots(k),
            Advance::Implicit { states, .. } => states.clone(),
        };
        self.net_slots = self
            .ir
            .net_receive
            .as_ref()
            .map(|r| slots(&r.kernel))
            .unwrap_or_default();
        self.random_slots = self
            .ir
            .slots_where(|k| *k == SlotKind::Random)
            .map(|(i, _)| i)
            .collect();
        self
    }

    /// Fresh standard normal samples in every `normrand` slot (Box-Muller on the seeded stream).
    fn draw_random(&mut self) {
        for &slot in &self.random_slots {
            let column = &mut self.columns[slot as usize];
            let width = column.len();
            for (r, stream) in self.randoms.iter_mut().enumerate() {
                let end = self.random_seeds.get(r + 1).map_or(width, |next| next.0);
                draw_normals(&mut column[self.random_seeds[r].0..end], stream);
            }
        }
    }

    pub(super) fn width(&self) -> usize {
        self.cv.len()
    }

    /// Loads voltage, time, temperature and the ion variables the mechanism reads.
    pub(super) fn load_inputs(&mut self, t_ms: f64, ctx: &StepContext, v_mv: &[f64], ions: &IonPool) {
        gather(&mut self.columns[0], v_mv, &self.cv_runs);
        self.columns[1].fill(t_ms);
        // dt and celsius stay the same from step to step: refilled only when they change.
        for (slot, value) in [(2, ctx.dt_ms), (3, ctx.celsius)] {
            let column = &mut self.columns[slot];
            if column.first().is_some_and(|&first| first.to_bits() != value.to_bits()) {
                column.fill(value);
            }
        }
        for link in &self.ions {
            if link.write && !link.read && link.variable == IonVariable::Current {
                continue;
            }
            let values = ions.values(link.species, link.variable);
            gather(&mut self.columns[link.slot as usize], values, &self.cv_runs);
        }
        self.load_pointers(v_mv);
    }

    /// Runs a kernel over all instances; with tangents on, its extended form: the lanes' tangents from the
    /// tangent columns as they are (see [`NmodlMechanism::gather_voltage`]), or the Jacobian, which the scratch
    /// keeps until the tangents are applied.
    pub(super) fn run(&mut self, which: Which) {
        let n = self.width();
        let columns = &self.columns;
        let lanes = match (&self.tangents, which) {
            (Some(t), Which::Current) => Some((&t.current, &t.columns)),
            (Some(t), Which::Advance) => match &t.advance {
                Some(AdvanceTangents::Lanes(kernel)) => Some((kernel, &t.columns)),
                _ => None,
            },
            _ => None,
        };
        if let Some((kernel, tangents)) = lanes {
            let input = |slot: u32| match kernel.tangent_input(slot) {
                None => columns[slot as usize].as_slice(),
                Some((s, p)) => &tangents[s as usize][p * n..(p + 1) * n],
            };
            kernel.tape.execute(n, input, &mut self.scratches[which as usize]);
            return;
        }
        let tape = tape_of(
            &self.tangents,
            &self.init_tape,
            &self.current_tape,
            &self.advance_tape,
            which,
        );
        let scratch = &mut self.scratches[which as usize];
        // With tangents on, the scratch keeps the Jacobian until the tangents are applied.
        tape.execute(n, |slot| columns[slot as usize].as_slice(), scratch);
    }

    /// Output `k` of the kernel that ran last.
    pub(super) fn output(&self, which: Which, k: usize) -> &[f64] {
        let tape = tape_of(
            &self.tangents,
            &self.init_tape,
            &self.current_tape,
            &self.advance_tape,
            which,
        );
        tape.output(k, self.width(), &self.scratches[which as usize])
    }

    /// Stores the first outputs of the kernel that ran last into the given slots.
    /// Those outputs are not readable afterwards (compiled code's are moved, not copied).
    pub(super) fn store(&mut self, which: Which, slots: &[SlotId]) {
        let n = self.width();
        let tape = tape_of(
            &self.tangents,
            &self.init_tape,
            &self.current_tape,
            &self.advance_tape,
            which,
        );
        let scratch = &mut self.scratches[which as usize];
        for (k, slot) in slots.iter().enumerate() {
            tape.move_output(k, n, scratch, &mut self.columns[*slot as usize]);
        }
    }

    /// Written concentrations go back to the cell's ion pool.
    pub(super) fn write_concentrations(&self, ions: &mut IonPool) {
        for link in self.ions.iter().filter(|l| l.write) {
            let column = &self.columns[link.slot as usize];
            let s = &mut ions.species[link.species];
            let target = match link.variable {
                IonVariable::Inside => &mut s.ci_mm,
                IonVariable::Outside => &mut s.co_mm,
                _ => continue,
            };
            for (k, &cv) in self.cv.iter().enumerate() {
                target[cv] = column[k];
            }
        }
    }

    /// Backward Euler for the implicit states, Newton's method with the symbolic Jacobian, per instance,
    /// iterated to round-off so that its sensitivities are those of the exact discrete solution.
    fn solve_implicit(&mut self, states: &[SlotId], dt: f64) -> Result<(), String> {
        let (n, m) = (self.width(), states.len());
        self.dense.old.clear();
        for s in states {
            self.dense.old.extend_from_slice(&self.columns[*s as usize]);
        }
        let tape = self.advance_tape.take().unwrap();
        let mut matrix = std::mem::take(&mut self.dense.matrix);
        let mut residual = std::mem::take(&mut self.dense.vector);
        matrix.resize(m * m, 0.0);
        residual.resize(m, 0.0);
        // The error is written only when there is one: a message formatted at every step would allocate.
        let mut result = Err("Newton iterations for its implicit states did not converge");
        for _ in 0..50 {
            let columns = &self.columns;
            tape.execute(n, |slot| columns[slot as usize].as_slice(), &mut self.scratches[2]);
            let mut largest: f64 = 0.0;
            for k in 0..n {
                for i in 0..m {
                    let s = self.columns[states[i] as usize][k];
                    residual[i] = -(s - self.dense.old[i * n + k] - dt * tape.output(i, n, &self.scratches[2])[k]);
                    for j in 0..m {
                        let jac = tape.output(m + i * m + j, n, &self.scratches[2])[k];
                        matrix[i * m + j] = f64::from(i == j) - dt * jac;
                    }
                }
                if solve_dense(&mut matrix, &mut residual, m).is_err() {
                    result = Err("singular Newton matrix");
                    largest = f64::NAN;
                    break;
                }
                for i in 0..m {
                    let column = &mut self.columns[states[i] as usize];
                    column[k] += residual[i];
                    largest = largest.max(residual[i].abs() / (1.0 + column[k].abs()));
                }
            }
            if largest < 1e-14 {
                result = Ok(());
                break;
            }
            if !largest.is_finite() {
                break;
            }
        }
        self.advance_tape = Some(tape);
        (self.dense.matrix, self.dense.vector) = (matrix, residual);
        result.map_err(|why| format!("`{}`: {why}", self.ir.info.name))
    }
}

/// The tape that runs a kernel: its extended form when tangents are on.
impl NmodlMechanism {
    /// BREAKPOINT's inputs, at mid-step time as NEURON evaluates it, and the step's random draw (seen by
    /// BREAKPOINT and by the state update of this step).
    fn prepare_current(&mut self, ctx: &StepContext, v_mv: &[f64], ions: &IonPool) {
        self.load_inputs(ctx.t_ms + 0.5 * ctx.dt_ms, ctx, v_mv, ions);
        self.draw_random();
    }

    /// After BREAKPOINT ran: its assigned values and currents into their columns, the total current and
    /// conductance into the cell's sums, the ion currents into the pool.
    fn add_currents(&mut self, current_na: &mut [f64], conductance_us: &mut [f64], ions: &mut IonPool) {
        let slots = std::mem::take(&mut self.current_slots);
        self.store(Which::Current, &slots);
        let base = slots.len();
        self.current_slots = slots;
        let (total, conductance) = (self.output(Which::Current, base), self.output(Which::Current, base + 1));
        scatter_add(current_na, &self.current_scale, total, &self.cv_runs);
        scatter_add(conductance_us, &self.current_scale, conductance, &self.cv_runs);
        for (j, &species) in self.ion_current_species.iter().enumerate() {
            let i_ion = self.output(Which::Current, base + 2 + j);
            let target = &mut ions.species[species].current;
            scatter_add(target, &self.ion_scale, i_ion, &self.cv_runs);
        }
    }
}

/// Where a mechanism's instances sit on consecutive CVs: `len` instances from `instance` on CVs from `cv`
/// on (a branch's CVs between two zero-area junctions, a whole cell's for a single CV), so voltages and
/// currents move as slices and the loops over them vectorise.
#[derive(Clone, Copy, Debug)]
pub(super) struct CvRun {
    instance: usize,
    cv: usize,
    len: usize,
}

/// The runs of consecutive CVs in an instance-to-CV map.
fn cv_runs(cv: &[CvIndex]) -> Vec<CvRun> {
    let mut runs: Vec<CvRun> = Vec::new();
    for (k, &c) in cv.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if run.cv + run.len == c => run.len += 1,
            _ => runs.push(CvRun {
                instance: k,
                cv: c,
                len: 1,
            }),
        }
    }
    runs
}

/// Standard normal samples into `values` (Box-Muller on `stream`).
fn draw_normals(values: &mut [f64], stream: &mut ChaCha8Rng) {
    for x in values {
        let u1: f64 = stream.random::<f64>();
        let u2: f64 = stream.random::<f64>();
        *x = (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    }
}

/// `column[k] = values[cv[k]]`, run by run (a run of one value by value: the one-CV cells of a cell group
/// make runs of one, where a call to copy memory costs more than the copy).
pub(super) fn gather(column: &mut [f64], values: &[f64], runs: &[CvRun]) {
    for run in runs {
        if run.len == 1 {
            column[run.instance] = values[run.cv];
        } else {
            column[run.instance..run.instance + run.len].copy_from_slice(&values[run.cv..run.cv + run.len]);
        }
    }
}

/// `target[cv[k]] += scale[k] · values[k]`, run by run.
fn scatter_add(target: &mut [f64], scale: &[f64], values: &[f64], runs: &[CvRun]) {
    for run in runs {
        let (from, to) = (run.instance, run.instance + run.len);
        let target = &mut target[run.cv..run.cv + run.len];
        for ((t, &s), &x) in target.iter_mut().zip(&scale[from..to]).zip(&values[from..to]) {
            *t += s * x;
        }
    }
}

fn tape_of<'a>(
    tangents: &'a Option<Box<Tangents>>,
    init: &'a Tape,
    current: &'a Tape,
    advance: &'a Option<Tape>,
    which: Which,
) -> &'a Tape {
    match (tangents, which) {
        (Some(t), Which::Init) => &t.init.tape,
        (Some(t), Which::Current) => &t.current.tape,
        (Some(t), Which::Advance) if t.advance.is_some() => t.advance.as_ref().unwrap().tape(),
        (_, Which::Init) => init,
        (_, Which::Current) => current,
        (_, Which::Advance) => advance.as_ref().unwrap(),
    }
}

/// The state update with tangents: lane by lane in the kernel's own tape (an explicit update), or through its
/// Jacobian (an implicit one, whose tangents need a linear solve per instance).
#[derive(Clone)]
pub(super) enum AdvanceTangents {
    Lanes(LaneKernel),
    Jacobian(JacobianKernel),
}

impl AdvanceTangents {
    pub fn tape(&self) -> &Tape {
        match self {
            AdvanceTangents::Lanes(k) => &k.tape,
            AdvanceTangents::Jacobian(k) => &k.tape,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(super) enum Which {
    Init,
    Current,
    Advance,
}

/// Links between the mechanism's ion slots (and ion-concentration states) and the cell's species.
fn ion_links(ir: &MechanismIr, ions: &mut IonPool, cvs: usize) -> Vec<IonLink> {
    let mut links = Vec::new();
    for (slot, s) in ir.slots.iter().enumerate() {
        let SlotKind::Ion { ion, write } = &s.kind else {
            continue;
        };
        let Some(variable) = IonVariable::of(&s.name, ion) else {
            continue;
        };
        let species = ions.species_index(ion, cvs);
        if *write && matches!(variable, IonVariable::Inside | IonVariable::Outside) {
            ions.species[species].nernst = true;
        }
        // A current both READ and WRITTEN (NEURON's cabpump.mod: `-(ica - ica_pmp_last)`) reads the ion's
        // total so far, as NEURON's ion pointer does: every earlier mechanism's in BREAKPOINT, all of them in
        // the state update.
        let read = ir.info.ions.iter().any(|u| u.ion == *ion && u.read.contains(&s.name));
        links.push(IonLink {
            slot: slot as SlotId,
            species,
            variable,
            write: *write,
            read,
        });
    }
    // States that are ion concentrations (e.g. `cai` declared as a STATE) are written back too.
    for (slot, s) in ir.slots.iter().enumerate() {
        if s.kind != SlotKind::State {
            continue;
        }
        for u in &ir.info.ions {
            if u.write.contains(&s.name)
                && let Some(variable) = IonVariable::of(&s.name, &u.ion)
            {
                let species = ions.species_index(&u.ion, cvs);
                ions.species[species].nernst = true;
                links.push(IonLink {
                    slot: slot as SlotId,
                    species,
                    variable,
                    write: true,
                    read: true,
                });
            }
        }
    }
    links
}

/// Gaussian elimination with partial pivoting on a small dense system (in place).
pub(super) fn solve_dense(a: &mut [f64], b: &mut [f64], m: usize) -> Result<(), ()> {
    for col in 0..m {
        let pivot = (col..m)
            .max_by(|&i, &j| a[i * m + col].abs().total_cmp(&a[j * m + col].abs()))
            .unwrap();
        if a[pivot * m + col] == 0.0 {
            return Err(());
        }
        if pivot != col {
            for j in 0..m {
                a.swap(col * m + j, pivot * m + j);
            }
            b.swap(col, pivot);
        }
        for row in col + 1..m {
            let f = a[row * m + col] / a[col * m + col];
            for j in col..m {
                a[row * m + j] -= f * a[col * m + j];
            }
            b[row] -= f * b[col];
        }
    }
    for row in (0..m).rev() {
        let s: f64 = (row + 1..m).map(|j| a[row * m + j] * b[j]).sum();
        b[row] = (b[row] - s) / a[row * m + row];
    }
    Ok(())
}

impl Mechanism for NmodlMechanism {
    fn clone_box(&self) -> Box<dyn Mechanism> {
        Box::new(self.clone())
    }

    fn name(&self) -> &str {
        &self.ir.info.name
    }

    fn seed_random(&mut self, seeds: &[(usize, u64)]) {
        self.random_seeds = seeds.to_vec();
        self.randoms = seeds.iter().map(|&(_, seed)| ChaCha8Rng::seed_from_u64(seed)).collect();
    }

    fn initialise(&mut self, ctx: &StepContext, v_mv: &[f64], ions: &mut IonPool) {
        for (slot, s) in self.ir.slots.iter().enumerate() {
            if matches!(s.kind, SlotKind::State | SlotKind::Assigned | SlotKind::Current { .. }) {
                self.columns[slot].fill(0.0);
            }
        }
        self.load_inputs(ctx.t_ms, ctx, v_mv, ions);
        for (stream, &(_, seed)) in self.randoms.iter_mut().zip(&self.random_seeds) {
            *stream = ChaCha8Rng::seed_from_u64(seed);
        }
        self.draw_random();
        self.run(Which::Init);
        self.initial_events(ctx.t_ms);
        if self.tangents.is_some() {
            self.initial_tangents(ions);
        }
        let slots = std::mem::take(&mut self.init_slots);
        self.store(Which::Init, &slots);
        self.init_slots = slots;
        self.initial_error = self.solve_steady_state().err();
        self.write_concentrations(ions);
    }

    fn accumulate_current(
        &mut self,
        ctx: &StepContext,
        v_mv: &[f64],
        current_na: &mut [f64],
        conductance_us: &mut [f64],
        ions: &mut IonPool,
    ) {
        self.prepare_current(ctx, v_mv, ions);
        self.run(Which::Current);
        self.add_currents(current_na, conductance_us, ions);
    }

    fn accumulate_current_with_tangents(
        &mut self,
        ctx: &StepContext,
        v_mv: &[f64],
        current_na: &mut [f64],
        conductance_us: &mut [f64],
        ions: &mut IonPool,
        tangents: CurrentTangents<'_>,
    ) {
        self.prepare_current(ctx, v_mv, ions);
        if self.tangents.is_some() {
            self.gather_voltage(tangents.v_dot);
            self.gather_ions(ions);
        }
        self.run(Which::Current);
        self.add_currents(current_na, conductance_us, ions);
        if self.tangents.is_some() {
            self.add_current_tangents(tangents, ions);
        }
    }

    fn advance_states(&mut self, ctx: &StepContext, v_mv: &[f64], ions: &mut IonPool) -> Result<(), String> {
        if let Some(e) = self.initial_error.take() {
            return Err(e);
        }
        self.load_inputs(ctx.t_ms + ctx.dt_ms, ctx, v_mv, ions);
        let slots = std::mem::take(&mut self.advance_slots);
        let ir = Arc::clone(&self.ir);
        let result = match &ir.advance {
            Advance::None => Ok(()),
            Advance::Explicit(_) => {
                self.run(Which::Advance);
                self.store(Which::Advance, &slots);
                Ok(())
            }
            Advance::Implicit { assigned, .. } => self.solve_implicit(&slots, ctx.dt_ms).map(|()| {
                if self.tangents.is_some() || !assigned.is_empty() {
                    // The Jacobian (for the tangents) and the assigned values at the converged states.
                    self.run(Which::Advance);
                    let (m, n) = (slots.len(), self.width());
                    for (j, (slot, _)) in assigned.iter().enumerate() {
                        let mut column = std::mem::take(&mut self.columns[*slot as usize]);
                        column[..n].copy_from_slice(self.output(Which::Advance, m + m * m + j));
                        self.columns[*slot as usize] = column;
                    }
                }
            }),
        };
        self.advance_slots = slots;
        result?;
        self.solve_algebraic()?;
        self.write_concentrations(ions);
        Ok(())
    }

    fn deliver_event(&mut self, event: EventDelivery<'_>, effects: &mut EventEffects) -> Result<(), String> {
        let Some((tape, arguments)) = self.net_receive.take() else {
            return Err(format!(
                "`{}` has no NET_RECEIVE block and cannot receive events",
                self.ir.info.name
            ));
        };
        let instance = event.instance;
        self.load_event(&event, &arguments);
        let outputs = std::mem::take(&mut self.net_slots);
        if self.tangents.is_some() {
            self.event_tangents(instance, &arguments, event.weight_tangent, &outputs);
        } else {
            let columns = &self.columns;
            tape.execute(
                1,
                |slot| &columns[slot as usize][instance..instance + 1],
                &mut self.scratches[3],
            );
            for (k, slot) in outputs.iter().enumerate() {
                self.columns[*slot as usize][instance] = tape.output(k, 1, &self.scratches[3])[0];
            }
            self.event_outcome(&tape, &outputs, &arguments, event, effects);
        }
        self.net_slots = outputs;
        self.net_receive = Some((tape, arguments));
        Ok(())
    }

    fn bind_pointer(&mut self, pointer: &str, instance: usize, cv: Option<CvIndex>) -> Result<usize, String> {
        self.bind_pointer_to(pointer, instance, cv)
    }

    fn bind_weight_pointer(&mut self, pointer: &str, instance: usize) -> Result<usize, String> {
        self.bind_weight_pointer_to(pointer, instance)
    }

    fn set_pointer(&mut self, handle: usize, instance: usize, value: f64) {
        self.set_pointer_value(handle, instance, value);
    }

    fn unbound_pointer(&self) -> Option<(String, usize)> {
        self.first_unbound_pointer()
    }

    fn initialise_event_stream(&mut self, instance: usize, t_ms: f64, arguments: &mut Vec<f64>) {
        NmodlMechanism::initialise_event_stream(self, instance, t_ms, arguments);
    }

    fn event_argument_count(&self) -> usize {
        self.net_receive.as_ref().map_or(1, |(_, a)| a.len().max(1))
    }

    fn take_initial_events(&mut self, effects: &mut EventEffects) {
        self.take_initial_sends(effects);
    }

    fn check_watches(&mut self, t_ms: f64, v_mv: &[f64], effects: &mut EventEffects) {
        NmodlMechanism::check_watches(self, t_ms, v_mv, effects);
    }

    fn check_finite(&self) -> Result<(), (String, CvIndex)> {
        for (slot, s) in self.ir.slots.iter().enumerate() {
            if s.kind != SlotKind::State || super::sum_is_finite(&self.columns[slot]) {
                continue;
            }
            if let Some(k) = self.columns[slot].iter().position(|x| !x.is_finite()) {
                return Err((s.name.clone(), self.cv[k]));
            }
        }
        Ok(())
    }

    fn set_parameter(&mut self, name: &str, instance: usize, value: f64) -> Result<(), String> {
        set_parameter_column(&self.ir, &mut self.columns, name, instance, value)
    }

    fn variable(&self, name: &str) -> Option<(&[CvIndex], &[f64])> {
        Some((&self.cv, &self.columns[self.ir.slot(name)? as usize]))
    }

    fn enable_tangents(&mut self, lanes: usize, seeds: &[ParameterSeed]) -> Result<(), String> {
        self.build_tangents(lanes, seeds)
    }

    fn advance_states_with_tangents(
        &mut self,
        ctx: &StepContext,
        v_mv: &[f64],
        v_dot: &[f64],
        ions: &mut IonPool,
    ) -> Result<(), String> {
        match self.tangents.as_ref().and_then(|t| t.advance.as_ref()) {
            Some(AdvanceTangents::Lanes(_)) => self.advance_explicit_with_tangents(ctx, v_mv, v_dot, ions),
            Some(AdvanceTangents::Jacobian(_)) => {
                self.advance_states(ctx, v_mv, ions)?;
                self.advance_implicit_tangents(ctx, v_dot, ions)
            }
            None => self.advance_states(ctx, v_mv, ions),
        }
    }

    fn variable_tangent(&self, name: &str, instance: usize, lane: usize) -> Option<f64> {
        self.tangents.as_ref()?;
        Some(self.tangent_at(self.ir.slot(name)? as usize, instance, lane))
    }

    fn slot(&self, name: &str) -> Option<usize> {
        self.ir.slot(name).map(|s| s as usize)
    }

    fn value_at(&self, slot: usize, instance: usize) -> f64 {
        self.columns[slot][instance]
    }

    fn tangent_at(&self, slot: usize, instance: usize, lane: usize) -> f64 {
        let Some(t) = &self.tangents else {
            return 0.0;
        };
        t.columns[slot]
            .get(lane * self.width() + instance)
            .copied()
            .unwrap_or(0.0)
    }

    fn set_parameter_at(&mut self, slot: usize, instance: usize, value: f64) {
        self.columns[slot][instance] = value;
    }

    fn scale_tangents(&mut self, factor: f64) {
        if let Some(t) = &mut self.tangents {
            for (slot, column) in t.columns.iter_mut().enumerate() {
                if self.ir.slots[slot].kind != SlotKind::Parameter {
                    column.iter_mut().for_each(|x| *x *= factor);
                }
            }
        }
    }
}
