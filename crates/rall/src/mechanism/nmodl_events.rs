//! NET_RECEIVE's event side at run time: events in (with their flag and the stream's arguments), the
//! mechanism's updated variables, self-events (`net_send`, WATCH), output spikes (`net_event`) and voltage
//! assignments out.
//!
//! NEURON's fixed-step rules are kept: a WATCH, when its statement runs, replaces the instance's active
//! watches and starts "above" if its value is already ≥ -1e-11; at each step's start every active watch whose
//! value is positive after not being so sends a self-event at that time with its flag; self-events from a
//! stream's event see that stream's arguments, those from INITIAL or a WATCH see zeros.

use super::nmodl::{NmodlMechanism, tape_for};
use super::{EventDelivery, EventEffects};
use rall_nmodl::ir::{EventActionKind, MechanismIr, NodeId, SlotId, SlotKind, Tape, TapeScratch};

/// NEURON's `hoc_epsilon`: a watch activated within this of its threshold starts above it.
const WATCH_EPSILON: f64 = 1e-11;

/// An active WATCH of one instance: which action, its flag, and whether its value was last positive.
#[derive(Clone, Copy, Debug)]
struct ActiveWatch {
    watch: usize,
    flag: f64,
    above: bool,
}

/// The compiled event side of one mechanism (empty for mechanisms without events).
#[derive(Clone, Default)]
pub(super) struct EventSide {
    /// Offset of each NET_RECEIVE action's first value (its guard) in the NET_RECEIVE tape's outputs.
    action_offsets: Vec<usize>,
    /// The `flag` slot.
    flag_slot: Option<SlotId>,
    /// NET_RECEIVE's INITIAL: its tape, output slots and scratch.
    initial: Option<(Tape, Vec<SlotId>, TapeScratch)>,
    /// INITIAL's `net_send`s: a tape of (guard, delay, flag) triples, and the self-events it asked for.
    initial_sends: Option<(Tape, TapeScratch)>,
    queued_sends: Vec<(usize, f64, f64)>,
    /// The watched values of every WATCH statement, one tape over all instances.
    watches: Option<(Tape, TapeScratch)>,
    /// Per WATCH statement: the index of its action.
    watch_actions: Vec<usize>,
    active: Vec<Vec<ActiveWatch>>,
}

/// The nodes the NET_RECEIVE tape computes after the kernel's outputs: each action's guard and values.
pub(super) fn action_nodes(ir: &MechanismIr) -> (Vec<NodeId>, Vec<usize>) {
    let Some(r) = &ir.net_receive else {
        return (Vec::new(), Vec::new());
    };
    let base = r.kernel.outputs.len();
    let (mut nodes, mut offsets) = (Vec::new(), Vec::new());
    for a in &r.actions {
        offsets.push(base + nodes.len());
        nodes.push(a.guard);
        match a.kind {
            EventActionKind::Send { delay, flag } => nodes.extend([delay, flag]),
            EventActionKind::Spike { time } | EventActionKind::Move { time } => nodes.push(time),
            EventActionKind::Watch { value, flag } => nodes.extend([value, flag]),
        }
    }
    (nodes, offsets)
}

impl EventSide {
    pub(super) fn new(ir: &MechanismIr, instances: usize) -> Self {
        let Some(r) = &ir.net_receive else {
            return Self::default();
        };
        let (_, action_offsets) = action_nodes(ir);
        let initial = r.initial.as_ref().map(|k| {
            let nodes: Vec<NodeId> = k.outputs.iter().map(|(_, n)| *n).collect();
            let slots = k.outputs.iter().map(|(s, _)| *s).collect();
            (tape_for(&ir.graph, &nodes), slots, TapeScratch::default())
        });
        let initial_sends = (!ir.initial_actions.is_empty()).then(|| {
            let mut nodes = Vec::new();
            for a in &ir.initial_actions {
                if let EventActionKind::Send { delay, flag } = a.kind {
                    nodes.extend([a.guard, delay, flag]);
                }
            }
            (tape_for(&ir.graph, &nodes), TapeScratch::default())
        });
        let mut watch_nodes = Vec::new();
        let mut watch_actions = Vec::new();
        for (k, a) in r.actions.iter().enumerate() {
            if let EventActionKind::Watch { value, .. } = a.kind {
                watch_nodes.push(value);
                watch_actions.push(k);
            }
        }
        Self {
            action_offsets,
            flag_slot: ir.slots_where(|k| *k == SlotKind::EventFlag).map(|(i, _)| i).next(),
            initial,
            initial_sends,
            queued_sends: Vec::new(),
            watches: (!watch_nodes.is_empty()).then(|| (tape_for(&ir.graph, &watch_nodes), TapeScratch::default())),
            watch_actions,
            active: vec![Vec::new(); instances],
        }
    }
}

impl NmodlMechanism {
    /// After INITIAL ran (its inputs still in the columns): the self-events its `net_send`s ask for.
    pub(super) fn initial_events(&mut self, t_ms: f64) {
        let n = self.width();
        let events = &mut self.events;
        events.active.iter_mut().for_each(Vec::clear);
        events.queued_sends.clear();
        let Some((tape, scratch)) = &mut events.initial_sends else {
            return;
        };
        let columns = &self.columns;
        tape.execute(n, |slot| columns[slot as usize].as_slice(), scratch);
        for send in 0..tape.outputs_len() / 3 {
            let (guard, delay, flag) = (
                tape.output(3 * send, n, scratch),
                tape.output(3 * send + 1, n, scratch),
                tape.output(3 * send + 2, n, scratch),
            );
            for k in 0..n {
                if guard[k] != 0.0 {
                    events.queued_sends.push((k, t_ms + delay[k], flag[k]));
                }
            }
        }
    }

    pub(super) fn take_initial_sends(&mut self, effects: &mut EventEffects) {
        effects.sends.append(&mut self.events.queued_sends);
    }

    /// Runs NET_RECEIVE's INITIAL for one stream of events to `instance`, setting its arguments after the weight.
    pub(super) fn initialise_event_stream(&mut self, instance: usize, t_ms: f64, arguments: &mut Vec<f64>) {
        let argument_slots = self.net_receive.as_ref().map(|(_, a)| a.clone()).unwrap_or_default();
        arguments.resize(argument_slots.len().max(1), 0.0);
        let Some((tape, outputs, scratch)) = &mut self.events.initial else {
            return;
        };
        for (slot, value) in argument_slots.iter().zip(arguments.iter()) {
            self.columns[*slot as usize][instance] = *value;
        }
        self.columns[1][instance] = t_ms;
        let columns = &self.columns;
        tape.execute(1, |slot| &columns[slot as usize][instance..instance + 1], scratch);
        for (k, slot) in outputs.iter().enumerate() {
            let value = tape.output(k, 1, scratch)[0];
            self.columns[*slot as usize][instance] = value;
            if let Some(a) = argument_slots.iter().position(|s| s == slot) {
                arguments[a] = value;
            }
        }
    }

    /// Loads an event's inputs into the instance's columns.
    pub(super) fn load_event(&mut self, event: &EventDelivery<'_>, arguments: &[SlotId]) {
        let i = event.instance;
        for (k, slot) in arguments.iter().enumerate() {
            self.columns[*slot as usize][i] = event.arguments.get(k).copied().unwrap_or(0.0);
        }
        self.columns[0][i] = event.v_mv[self.cv[i]];
        self.columns[1][i] = event.t_ms;
        if let Some(flag) = self.events.flag_slot {
            self.columns[flag as usize][i] = event.flag;
        }
    }

    /// After NET_RECEIVE's tape ran on one instance: the stream's new arguments, a voltage assignment, and
    /// the actions whose guards hold.
    pub(super) fn event_outcome(
        &mut self,
        tape: &Tape,
        outputs: &[SlotId],
        arguments: &[SlotId],
        event: EventDelivery<'_>,
        effects: &mut EventEffects,
    ) {
        let i = event.instance;
        let scratch = &self.scratches[3];
        let value = |k: usize| tape.output(k, 1, scratch)[0];
        for (k, slot) in outputs.iter().enumerate() {
            match self.ir.slots[*slot as usize].kind {
                SlotKind::Voltage => effects.voltages.push((self.cv[i], value(k))),
                SlotKind::EventArgument => {
                    if let Some(a) = arguments.iter().position(|s| s == slot)
                        && a < event.arguments.len()
                    {
                        event.arguments[a] = value(k);
                    }
                }
                _ => {}
            }
        }
        let Some(r) = &self.ir.net_receive else { return };
        let mut replaced = false;
        for (a, action) in r.actions.iter().enumerate() {
            let at = self.events.action_offsets[a];
            if value(at) == 0.0 {
                continue;
            }
            match action.kind {
                EventActionKind::Send { .. } => effects.sends.push((i, event.t_ms + value(at + 1), value(at + 2))),
                EventActionKind::Spike { .. } => effects.spikes.push((i, value(at + 1))),
                EventActionKind::Move { .. } => effects.moves.push((i, value(at + 1))),
                EventActionKind::Watch { .. } => {
                    if !replaced {
                        self.events.active[i].clear();
                        replaced = true;
                    }
                    let watch = self.events.watch_actions.iter().position(|&w| w == a).unwrap();
                    self.events.active[i].push(ActiveWatch {
                        watch,
                        flag: value(at + 2),
                        above: value(at + 1) >= -WATCH_EPSILON,
                    });
                }
            }
        }
    }

    /// At a step's start: every active watch whose value turned positive sends its self-event at `t_ms`.
    pub(super) fn check_watches(&mut self, t_ms: f64, v_mv: &[f64], effects: &mut EventEffects) {
        if self.events.active.iter().all(Vec::is_empty) {
            return;
        }
        let n = self.width();
        super::nmodl::gather(&mut self.columns[0], v_mv, &self.cv_runs);
        self.columns[1].fill(t_ms);
        let Some((tape, scratch)) = &mut self.events.watches else {
            return;
        };
        let columns = &self.columns;
        tape.execute(n, |slot| columns[slot as usize].as_slice(), scratch);
        for (k, active) in self.events.active.iter_mut().enumerate() {
            for w in active.iter_mut() {
                let value = tape.output(w.watch, n, scratch)[k];
                if value > 0.0 {
                    if !w.above {
                        w.above = true;
                        effects.sends.push((k, t_ms, w.flag));
                    }
                } else {
                    w.above = false;
                }
            }
        }
    }
}
