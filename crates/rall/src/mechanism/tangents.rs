//! Sensitivity co-simulation inside a mechanism: kernel outputs and the tangents of their inputs in,
//! the tangents of the outputs out, through sparse Jacobians built by the NMODL symbolic differentiator.
//!
//! Every kernel is extended with the nodes `∂output/∂input` for each input slot that carries a
//! tangent (voltage, states, assigned values, ion variables, event arguments and the parameters
//! being differentiated). One tape evaluates the kernel and its Jacobian at the same point; the
//! tangents then follow by the chain rule for all parameters ("lanes") at once.

use rall_nmodl::ir::{Differentiator, Graph, NodeId, SlotId, Tape, TapeScratch};

/// The non-zero derivatives `(slot, ∂node/∂slot)` of `node` by every carrying slot.
fn jacobian_row(graph: &mut Graph, d: &mut Differentiator, node: NodeId, carries: &[bool]) -> Vec<(SlotId, NodeId)> {
    let mut row = Vec::new();
    for slot in (0..carries.len() as SlotId).filter(|&slot| carries[slot as usize]) {
        if !graph.depends_on(node, slot) {
            continue;
        }
        let derivative = d.derivative(graph, node, slot);
        if graph.as_const(derivative) != Some(0.0) {
            row.push((slot, derivative));
        }
    }
    row
}

/// A kernel's outputs followed by its sparse Jacobian, evaluated by one tape.
#[derive(Clone)]
pub(super) struct JacobianKernel {
    pub tape: Tape,
    /// Number of primal outputs (they come first, in the order the primal tape has them).
    pub outputs: usize,
    /// `(output, input slot)` of each Jacobian entry.
    pub entries: Vec<(usize, SlotId)>,
}

impl JacobianKernel {
    /// Extends `outputs` (nodes of `graph`) with the derivatives of those marked `wanted`
    /// with respect to every carrying slot.
    pub fn new(
        graph: &mut Graph,
        d: &mut Differentiator,
        outputs: &[NodeId],
        wanted: &[bool],
        carries: &[bool],
    ) -> Self {
        let mut entries = Vec::new();
        let mut nodes: Vec<NodeId> = outputs.to_vec();
        for (o, &node) in outputs.iter().enumerate().filter(|(o, _)| wanted[*o]) {
            for (slot, derivative) in jacobian_row(graph, d, node, carries) {
                entries.push((o, slot));
                nodes.push(derivative);
            }
        }
        let tape = Tape::with_uniform_inputs(graph, &nodes, |slot| (1..=3).contains(&slot));
        Self {
            tape,
            outputs: outputs.len(),
            entries,
        }
    }

    /// Output tangents `Σ ∂out/∂in · in_dot`, lane-major, for all lanes: `out[o][lane * width + k]`, with the
    /// Jacobian read where the tape's last run over `width` instances left it in `scratch`.
    /// `input(slot)` gives the slot's tangents and the lanes where they can be non-zero (empty: all).
    pub fn apply<'a>(
        &self,
        width: usize,
        lanes: usize,
        scratch: &TapeScratch,
        input: impl Fn(SlotId) -> Option<(&'a [f64], &'a [usize])>,
        out: &mut [Vec<f64>],
    ) {
        let jacobian = |e: usize| self.tape.output(self.outputs + e, width, scratch);
        for o in out.iter_mut() {
            o.clear();
            o.resize(lanes * width, 0.0);
        }
        if width == 1 {
            // One instance: every lane is one number.
            for (e, &(o, slot)) in self.entries.iter().enumerate() {
                let Some((tangent, only)) = input(slot) else { continue };
                let (j, target) = (jacobian(e)[0], &mut out[o]);
                if only.is_empty() {
                    for (t, x) in target[..lanes].iter_mut().zip(&tangent[..lanes]) {
                        *t += j * x;
                    }
                } else {
                    for &p in only {
                        target[p] += j * tangent[p];
                    }
                }
            }
            return;
        }
        for (e, &(o, slot)) in self.entries.iter().enumerate() {
            let Some((tangent, only)) = input(slot) else { continue };
            let jacobian = jacobian(e);
            let target = &mut out[o];
            let every = 0..if only.is_empty() { lanes } else { 0 };
            for p in every.chain(only.iter().copied()) {
                let range = p * width..(p + 1) * width;
                for ((t, j), x) in target[range.clone()].iter_mut().zip(jacobian).zip(&tangent[range]) {
                    *t += j * x;
                }
            }
        }
    }
}

/// A kernel's outputs followed by the tangents of some of them for every lane, `Σ ∂out/∂in · in_dot`, all
/// computed by one tape: the Jacobian is never stored, and the compiled backends run the chain rule in the
/// same vectorised loop as the kernel. Lane `p`'s tangent of slot `s` is the tape's input slot
/// `slots + p · slots + s` ([`LaneKernel::tangent_input`] decodes it).
#[derive(Clone)]
pub(super) struct LaneKernel {
    pub tape: Tape,
    /// Number of primal outputs (first, in the order the primal tape has them).
    pub outputs: usize,
    /// The primal outputs that get tangents, in the order their tangents follow.
    pub tangent_outputs: Vec<usize>,
    /// [`LaneKernel::tangent_input`] of every tape input, decoded once (it is asked for every input of every
    /// run of the kernel).
    decoded: Vec<Option<(SlotId, usize)>>,
}

impl LaneKernel {
    /// `outputs` (nodes of `graph`), then for each lane the tangents of those marked `wanted` through every
    /// carrying slot; a slot with `lanes_of[slot]` non-empty (a parameter) enters only those lanes.
    pub fn new(
        graph: &mut Graph,
        d: &mut Differentiator,
        outputs: &[NodeId],
        wanted: &[bool],
        carries: &[bool],
        lanes_of: &[Vec<usize>],
        lanes: usize,
    ) -> Self {
        let slots = carries.len() as u32;
        let tangent_outputs: Vec<usize> = (0..outputs.len()).filter(|&o| wanted[o]).collect();
        // The non-zero Jacobian entries of each output that gets a tangent.
        let entries: Vec<Vec<(SlotId, NodeId)>> = tangent_outputs
            .iter()
            .map(|&o| jacobian_row(graph, d, outputs[o], carries))
            .collect();
        let mut nodes: Vec<NodeId> = outputs.to_vec();
        for lane in 0..lanes {
            for row in &entries {
                let mut sum = graph.constant(0.0);
                for &(slot, derivative) in row {
                    let only = &lanes_of[slot as usize];
                    if !only.is_empty() && !only.contains(&lane) {
                        continue;
                    }
                    let tangent = graph.input(Self::input_slot_of(slots, slot, lane));
                    let term = graph.mul(derivative, tangent);
                    sum = graph.add(sum, term);
                }
                nodes.push(sum);
            }
        }
        let tape = Tape::with_uniform_inputs(graph, &nodes, |slot| (1..=3).contains(&slot));
        let decoded = (0..slots * (lanes as u32 + 1))
            .map(|input| {
                (input >= slots).then(|| {
                    let k = input - slots;
                    (k % slots, (k / slots) as usize)
                })
            })
            .collect();
        Self {
            tape,
            outputs: outputs.len(),
            tangent_outputs,
            decoded,
        }
    }

    fn input_slot_of(slots: u32, slot: SlotId, lane: usize) -> u32 {
        slots + lane as u32 * slots + slot
    }

    /// The tape input that is lane `lane`'s tangent of `slot`, or `None` for a slot of the mechanism itself:
    /// `Some((slot, lane))`.
    pub fn tangent_input(&self, input: u32) -> Option<(SlotId, usize)> {
        self.decoded[input as usize]
    }

    /// The tape output holding lane `lane`'s tangent of the `j`-th output in `tangent_outputs`.
    pub fn tangent_output(&self, j: usize, lane: usize) -> usize {
        self.outputs + lane * self.tangent_outputs.len() + j
    }
}

/// A parameter of a mechanism that a lane differentiates: `d value / d θ` at one instance.
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterSeed {
    /// The PARAMETER's name in the mechanism (or an event argument such as `weight`).
    pub parameter: String,
    pub instance: usize,
    pub lane: usize,
    pub value: f64,
}
