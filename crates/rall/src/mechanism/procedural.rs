//! Procedural NMODL mechanisms at run time: a mechanism whose blocks the graph cannot express (see
//! `rall_nmodl::procedural`) and a layout in; its blocks run statement by statement per instance, currents with
//! NEURON's difference-quotient conductance, events and spikes out.

use super::{EventDelivery, EventEffects, IonPool, Mechanism, MechanismLayout, ParameterSeed, StepContext};
use crate::discretize::CvIndex;
use rall_nmodl::ast::MechanismKind;
use rall_nmodl::ir::{MechanismIr, NEURON_CONDUCTANCE_STEP_MV, SlotId, SlotKind};
use rall_nmodl::procedural::{Block, Host, Machine, Procedural, RunError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// One procedural mechanism over all the CVs (or locations) it covers.
#[derive(Clone)]
pub struct ProceduralMechanism {
    ir: Arc<MechanismIr>,
    cv: Vec<CvIndex>,
    /// nA per unit of the mechanism's current (`1e-2 · area` for densities, 1 for point processes).
    current_scale: Vec<f64>,
    /// One column per slot, one entry per instance.
    columns: Vec<Vec<f64>>,
    /// The current slots and their signs in the outward total (an ELECTRODE_CURRENT counts inward).
    currents: Vec<(usize, f64)>,
    /// NET_RECEIVE's arguments (the weight first) and `flag`.
    arguments: Vec<usize>,
    flag: Option<usize>,
    /// Each instance's random streams (its own, then one per RANDOM stream of the file), restarted from
    /// its seed (and its place among the instances of that seed) at every initialisation.
    streams: Vec<Vec<ChaCha8Rng>>,
    /// `(first instance, seed)` pairs by increasing first instance (see [`Mechanism::seed_random`]).
    seeds: Vec<(usize, u64)>,
    /// Self-events INITIAL asked for.
    initial_sends: Vec<(usize, f64, f64)>,
    /// A run-time error of a block whose caller cannot return one, reported by the next state update.
    error: Option<String>,
}

/// What a run asks of the simulation, for one instance at time `t_ms`.
struct InstanceHost<'a> {
    /// The instance's streams: its own, then one per RANDOM stream of the file.
    streams: &'a mut [ChaCha8Rng],
    /// The mechanism's seed, mixed into restarted streams.
    seed: u64,
    instance: usize,
    t_ms: f64,
    effects: &'a mut EventEffects,
}

impl Host for InstanceHost<'_> {
    fn uniform(&mut self, stream: usize) -> f64 {
        // (0, 1): never 0, so logarithms of it are finite.
        1.0 - self.streams[stream].random::<f64>()
    }

    /// A restarted stream depends on the numbers given and the mechanism's seed (instances given the same
    /// numbers draw the same sequence, as with NEURON's Random123 ids).
    fn reseed(&mut self, stream: usize, seed: &[f64]) {
        let mut key = self.seed ^ 0x9e37_79b9_7f4a_7c15;
        for x in seed {
            key = key.rotate_left(17) ^ x.to_bits().wrapping_mul(0xbf58_476d_1ce4_e5b9);
        }
        self.streams[stream] = ChaCha8Rng::seed_from_u64(key);
    }

    fn send(&mut self, delay_ms: f64, flag: f64) {
        self.effects.sends.push((self.instance, self.t_ms + delay_ms, flag));
    }

    fn spike(&mut self, t_ms: f64) {
        self.effects.spikes.push((self.instance, t_ms));
    }

    fn move_to(&mut self, t_ms: f64) {
        self.effects.moves.push((self.instance, t_ms));
    }
}

fn slot_of(ir: &MechanismIr, kind: SlotKind) -> Option<usize> {
    ir.slots.iter().position(|s| s.kind == kind)
}

impl ProceduralMechanism {
    pub fn new(ir: Arc<MechanismIr>, layout: &MechanismLayout, diam_um: &[f64]) -> Self {
        let n = layout.cv.len();
        let mut columns: Vec<Vec<f64>> = ir.slots.iter().map(|s| vec![s.default; n]).collect();
        let parameters: Vec<SlotId> = ir.slots_where(|k| *k == SlotKind::Parameter).map(|(i, _)| i).collect();
        for (k, values) in layout.parameters.iter().enumerate() {
            for (p, slot) in parameters.iter().enumerate() {
                columns[*slot as usize][k] = values[p];
            }
        }
        if let Some(area) = slot_of(&ir, SlotKind::Area) {
            columns[area].copy_from_slice(&layout.area_um2);
        }
        if let Some(diam) = slot_of(&ir, SlotKind::Diam) {
            for (k, &cv) in layout.cv.iter().enumerate() {
                columns[diam][k] = diam_um[cv];
            }
        }
        let currents = ir
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s.kind {
                SlotKind::Current { electrode } => Some((i, if electrode { -1.0 } else { 1.0 })),
                _ => None,
            })
            .collect();
        let current_scale = if *ir.kind() == MechanismKind::Density {
            layout.area_um2.iter().map(|a| 1e-2 * a).collect()
        } else {
            vec![1.0; n]
        };
        Self {
            arguments: ir
                .slots_where(|k| *k == SlotKind::EventArgument)
                .map(|(i, _)| i as usize)
                .collect(),
            flag: slot_of(&ir, SlotKind::EventFlag),
            cv: layout.cv.clone(),
            current_scale,
            columns,
            currents,
            streams: (0..n).map(|k| instance_streams(0, k, random_streams(&ir))).collect(),
            seeds: vec![(0, 0)],
            initial_sends: Vec::new(),
            error: None,
            ir,
        }
    }

    fn procedural(&self) -> &Procedural {
        self.ir
            .procedural
            .as_deref()
            .expect("built from a procedural mechanism")
    }

    fn width(&self) -> usize {
        self.cv.len()
    }

    /// Sets the slots every block may read for `instance`.
    fn load(&mut self, instance: usize, t_ms: f64, ctx: &StepContext, v_mv: f64) {
        for (kind, value) in [
            (SlotKind::Voltage, v_mv),
            (SlotKind::Time, t_ms),
            (SlotKind::Dt, ctx.dt_ms),
            (SlotKind::Celsius, ctx.celsius),
        ] {
            if let Some(s) = slot_of(&self.ir, kind) {
                self.columns[s][instance] = value;
            }
        }
    }

    /// Runs one block for one instance; a run-time error becomes a message naming the file and line.
    fn run(
        &mut self,
        which: fn(&Procedural) -> Option<&Block>,
        instance: usize,
        t_ms: f64,
        effects: &mut EventEffects,
    ) -> Result<(), String> {
        let ir = Arc::clone(&self.ir);
        let procedural = ir.procedural.as_deref().expect("procedural");
        let Some(block) = which(procedural) else {
            return Ok(());
        };
        let seed = self.seed_of(instance).0;
        let mut host = InstanceHost {
            streams: &mut self.streams[instance],
            seed,
            instance,
            t_ms,
            effects,
        };
        Machine::new(&procedural.program, &mut self.columns, instance, &mut host)
            .run(block)
            .map_err(|e| self.located(&e))
    }

    fn located(&self, e: &RunError) -> String {
        let p = self.procedural();
        format!("{}: `{}`: {e}", p.locate(e.span()), self.ir.info.name)
    }

    /// The outward current of `instance` after BREAKPOINT ran [the mechanism's unit].
    fn total_current(&self, instance: usize) -> f64 {
        self.currents
            .iter()
            .map(|&(s, sign)| sign * self.columns[s][instance])
            .sum()
    }

    fn remember(&mut self, outcome: Result<(), String>) {
        if let Err(e) = outcome
            && self.error.is_none()
        {
            self.error = Some(e);
        }
    }
}

/// The number of streams an instance draws from: its own and one per RANDOM stream of the file.
fn random_streams(ir: &MechanismIr) -> usize {
    1 + ir.info.randoms.len()
}

/// The random streams of instance `k` for a mechanism seeded with `seed`.
fn instance_streams(seed: u64, k: usize, count: usize) -> Vec<ChaCha8Rng> {
    (0..count)
        .map(|s| {
            let mut stream = ChaCha8Rng::seed_from_u64(seed);
            stream.set_stream((k * count + s) as u64);
            stream
        })
        .collect()
}

impl Mechanism for ProceduralMechanism {
    fn clone_box(&self) -> Box<dyn Mechanism> {
        Box::new(self.clone())
    }

    fn name(&self) -> &str {
        &self.ir.info.name
    }

    fn seed_random(&mut self, seeds: &[(usize, u64)]) {
        self.seeds = seeds.to_vec();
    }

    fn initialise(&mut self, ctx: &StepContext, v_mv: &[f64], _ions: &mut IonPool) {
        for (slot, s) in self.ir.slots.iter().enumerate() {
            if matches!(s.kind, SlotKind::State | SlotKind::Assigned | SlotKind::Current { .. }) {
                self.columns[slot].fill(0.0);
            }
        }
        self.error = None;
        let mut effects = EventEffects::default();
        for k in 0..self.width() {
            let (seed, first) = self.seed_of(k);
            self.streams[k] = instance_streams(seed, k - first, random_streams(&self.ir));
            self.load(k, ctx.t_ms, ctx, v_mv[self.cv[k]]);
            let outcome = self.run(|p| p.program.initial.as_ref(), k, ctx.t_ms, &mut effects);
            self.remember(outcome);
        }
        self.initial_sends = effects.sends;
    }

    fn accumulate_current(
        &mut self,
        ctx: &StepContext,
        v_mv: &[f64],
        current_na: &mut [f64],
        conductance_us: &mut [f64],
        _ions: &mut IonPool,
    ) {
        if self.currents.is_empty() {
            return;
        }
        // As NEURON's nrn_cur: BREAKPOINT at mid-step time, first at v + 0.001 mV, then at v; the conductance
        // is the difference quotient and the values left are those at v.
        let t = ctx.t_ms + 0.5 * ctx.dt_ms;
        let mut effects = EventEffects::default();
        for k in 0..self.width() {
            let v = v_mv[self.cv[k]];
            self.load(k, t, ctx, v + NEURON_CONDUCTANCE_STEP_MV);
            let outcome = self.run(|p| p.program.breakpoint.as_ref(), k, t, &mut effects);
            self.remember(outcome);
            let above = self.total_current(k);
            self.load(k, t, ctx, v);
            let outcome = self.run(|p| p.program.breakpoint.as_ref(), k, t, &mut effects);
            self.remember(outcome);
            let at = self.total_current(k);
            let g = (above - at) / NEURON_CONDUCTANCE_STEP_MV;
            current_na[self.cv[k]] += self.current_scale[k] * at;
            conductance_us[self.cv[k]] += self.current_scale[k] * g;
        }
    }

    fn advance_states(&mut self, _ctx: &StepContext, _v_mv: &[f64], _ions: &mut IonPool) -> Result<(), String> {
        // No SOLVE: nothing advances but what BREAKPOINT and NET_RECEIVE set.
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn deliver_event(&mut self, event: EventDelivery<'_>, effects: &mut EventEffects) -> Result<(), String> {
        if self.procedural().program.net_receive.is_none() {
            return Err(format!(
                "`{}` has no NET_RECEIVE block and cannot receive events",
                self.ir.info.name
            ));
        }
        if event.weight_tangent.iter().any(|&w| w != 0.0) {
            return Err(self.no_sensitivities());
        }
        let k = event.instance;
        let ctx = StepContext {
            t_ms: event.t_ms,
            dt_ms: self.columns[slot_of(&self.ir, SlotKind::Dt).unwrap_or(0)][k],
            celsius: self.columns[slot_of(&self.ir, SlotKind::Celsius).unwrap_or(0)][k],
        };
        self.load(k, event.t_ms, &ctx, event.v_mv[self.cv[k]]);
        for (a, &slot) in self.arguments.iter().enumerate() {
            self.columns[slot][k] = event.arguments.get(a).copied().unwrap_or(0.0);
        }
        if let Some(f) = self.flag {
            self.columns[f][k] = event.flag;
        }
        self.run(|p| p.program.net_receive.as_ref(), k, event.t_ms, effects)?;
        for (a, &slot) in self.arguments.iter().enumerate() {
            if let Some(x) = event.arguments.get_mut(a) {
                *x = self.columns[slot][k];
            }
        }
        Ok(())
    }

    fn initialise_event_stream(&mut self, instance: usize, t_ms: f64, arguments: &mut Vec<f64>) {
        arguments.resize(self.event_argument_count(), 0.0);
        for (a, &slot) in self.arguments.iter().enumerate() {
            self.columns[slot][instance] = arguments[a];
        }
        let mut effects = EventEffects::default();
        let outcome = self.run(|p| p.program.net_receive_initial.as_ref(), instance, t_ms, &mut effects);
        self.remember(outcome);
        for (a, &slot) in self.arguments.iter().enumerate() {
            arguments[a] = self.columns[slot][instance];
        }
    }

    fn event_argument_count(&self) -> usize {
        self.arguments.len().max(1)
    }

    fn take_initial_events(&mut self, effects: &mut EventEffects) {
        effects.sends.append(&mut self.initial_sends);
    }

    fn enable_tangents(&mut self, _lanes: usize, seeds: &[ParameterSeed]) -> Result<(), String> {
        // Without a current it cannot change the cell's voltage: nothing to differentiate unless asked to.
        if seeds.is_empty() && self.currents.is_empty() {
            Ok(())
        } else {
            Err(self.no_sensitivities())
        }
    }

    fn check_finite(&self) -> Result<(), (String, CvIndex)> {
        for (slot, s) in self.ir.slots.iter().enumerate() {
            if !matches!(s.kind, SlotKind::State | SlotKind::Current { .. }) {
                continue;
            }
            if let Some(k) = self.columns[slot].iter().position(|x| !x.is_finite()) {
                return Err((s.name.clone(), self.cv[k]));
            }
        }
        Ok(())
    }

    fn set_parameter(&mut self, name: &str, instance: usize, value: f64) -> Result<(), String> {
        super::nmodl::set_parameter_column(&self.ir, &mut self.columns, name, instance, value)
    }

    fn variable(&self, name: &str) -> Option<(&[CvIndex], &[f64])> {
        Some((&self.cv, &self.columns[self.ir.slot(name)? as usize]))
    }

    fn slot(&self, name: &str) -> Option<usize> {
        self.ir.slot(name).map(|s| s as usize)
    }

    fn value_at(&self, slot: usize, instance: usize) -> f64 {
        self.columns[slot][instance]
    }

    fn set_parameter_at(&mut self, slot: usize, instance: usize, value: f64) {
        self.columns[slot][instance] = value;
    }
}

impl ProceduralMechanism {
    /// The seed of instance `k`'s streams and the first instance of that seed.
    fn seed_of(&self, k: usize) -> (u64, usize) {
        let r = self.seeds.partition_point(|&(first, _)| first <= k).saturating_sub(1);
        (self.seeds[r].1, self.seeds[r].0)
    }

    fn no_sensitivities(&self) -> String {
        format!(
            "`{}` runs procedurally ({}), and rall co-simulates no sensitivities through it",
            self.ir.info.name,
            self.procedural().reason
        )
    }
}
