//! Vectorised evaluation: graph outputs in, a linear tape of instructions out, run over many instances at once (one column per slot).

use super::graph::{Func, Graph, Node, NodeId};
use super::jit::{self, Backend, NativeTape};
use std::sync::{Arc, OnceLock};

#[derive(Clone, Copy, Debug)]
pub(super) enum Instr {
    Const(f64),
    Input(u32),
    Neg(u32),
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    Pow(u32, u32),
    Call1(Func, u32),
    Call2(Func, u32, u32),
    Lt(u32, u32),
    Le(u32, u32),
    Eq(u32, u32),
    And(u32, u32),
    Or(u32, u32),
    Not(u32),
    Select(u32, u32, u32),
}

/// The nodes needed for some outputs, in dependency order, one register each.
#[derive(Clone, Debug)]
pub struct Tape {
    instructions: Vec<Instr>,
    /// Instructions whose value is the same for every instance (they depend only on constants and
    /// uniform inputs such as `dt` or `celsius`): computed once per run and broadcast.
    uniform: Vec<bool>,
    /// Instructions that depend on constants only: computed once per scratch, then skipped.
    constant: Vec<bool>,
    /// Per register: the input slot an operand reads in place of the register, for per-instance inputs that are
    /// not outputs (their columns are read where they are, not copied into registers).
    read_in_place: Vec<Option<u32>>,
    /// Identifies the tape, so a scratch knows whose constants it holds.
    id: u64,
    /// Register of each requested output, in request order.
    outputs: Vec<u32>,
    /// The compiled code per native backend (Cranelift, system compiler), made when the tape first runs
    /// with it (`None`: it could not be).
    native: [OnceLock<Option<Arc<NativeTape>>>; 2],
}

/// Registers for running a tape over `width` instances; allocate once, reuse every step.
#[derive(Clone, Debug, Default)]
pub struct TapeScratch {
    registers: Vec<f64>,
    /// The tape and width whose constant registers are already filled.
    prepared: Option<(u64, usize)>,
    /// The last run was compiled code, which writes only the outputs, output `k` into `columns[k]`.
    compact: bool,
    /// Output columns of compiled code, one per output (a column moved out by [`Tape::move_output`] is
    /// replaced by the caller's old one).
    columns: Vec<Vec<f64>>,
    /// Column addresses handed to compiled code: the inputs, then the outputs.
    addresses: Vec<usize>,
}

impl Tape {
    /// Compiles the nodes `outputs` (and what they need) of `graph`.
    pub fn new(graph: &Graph, outputs: &[NodeId]) -> Self {
        Self::with_uniform_inputs(graph, outputs, |_| false)
    }

    /// Compiles, knowing which input slots hold the same value for every instance.
    pub fn with_uniform_inputs(graph: &Graph, outputs: &[NodeId], uniform_input: impl Fn(u32) -> bool) -> Self {
        let mut register_of: Vec<Option<u32>> = vec![None; graph.len()];
        let mut instructions = Vec::new();
        for &o in outputs {
            Self::visit(graph, o, &mut register_of, &mut instructions);
        }
        let uniform = propagate(&instructions, uniform_input);
        let constant = propagate(&instructions, |_| false);
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let outputs: Vec<u32> = outputs.iter().map(|&o| register_of[o as usize].unwrap()).collect();
        let read_in_place = instructions
            .iter()
            .enumerate()
            .map(|(k, instr)| match *instr {
                Instr::Input(s) if !uniform[k] && !outputs.contains(&(k as u32)) => Some(s),
                _ => None,
            })
            .collect();
        Self {
            instructions,
            uniform,
            constant,
            read_in_place,
            id,
            outputs,
            native: Default::default(),
        }
    }

    fn visit(graph: &Graph, root: NodeId, register_of: &mut [Option<u32>], out: &mut Vec<Instr>) {
        // Iterative post-order walk, so deep graphs do not overflow the stack.
        let mut stack = vec![(root, false)];
        while let Some((id, ready)) = stack.pop() {
            if register_of[id as usize].is_some() {
                continue;
            }
            let node = graph.node(id);
            let children = node.children();
            if !ready {
                stack.push((id, true));
                for c in children.iter().rev().flatten() {
                    if register_of[*c as usize].is_none() {
                        stack.push((*c, false));
                    }
                }
                continue;
            }
            let r = |c: NodeId| register_of[c as usize].unwrap();
            let instr = match node {
                Node::Const(bits) => Instr::Const(f64::from_bits(bits)),
                Node::Input(s) => Instr::Input(s),
                Node::Neg(a) => Instr::Neg(r(a)),
                Node::Add(a, b) => Instr::Add(r(a), r(b)),
                Node::Sub(a, b) => Instr::Sub(r(a), r(b)),
                Node::Mul(a, b) => Instr::Mul(r(a), r(b)),
                Node::Div(a, b) => Instr::Div(r(a), r(b)),
                Node::Pow(a, b) => Instr::Pow(r(a), r(b)),
                Node::Call1(f, a) => Instr::Call1(f, r(a)),
                Node::Call2(f, a, b) => Instr::Call2(f, r(a), r(b)),
                Node::Lt(a, b) => Instr::Lt(r(a), r(b)),
                Node::Le(a, b) => Instr::Le(r(a), r(b)),
                Node::Eq(a, b) => Instr::Eq(r(a), r(b)),
                Node::And(a, b) => Instr::And(r(a), r(b)),
                Node::Or(a, b) => Instr::Or(r(a), r(b)),
                Node::Not(a) => Instr::Not(r(a)),
                Node::Select(c, a, b) => Instr::Select(r(c), r(a), r(b)),
            };
            register_of[id as usize] = Some(out.len() as u32);
            out.push(instr);
        }
    }

    pub fn len(&self) -> usize {
        self.instructions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.instructions.is_empty()
    }

    /// Runs the tape for `width` instances; `input(slot)` gives each input slot's column.
    /// Returns the output columns, in request order, as slices of the scratch.
    pub fn run<'i, 's>(
        &self,
        width: usize,
        input: impl Fn(u32) -> &'i [f64],
        scratch: &'s mut TapeScratch,
    ) -> Vec<&'s [f64]> {
        self.execute(width, input, scratch);
        let scratch: &'s TapeScratch = scratch;
        (0..self.outputs.len())
            .map(|k| self.output(k, width, scratch))
            .collect()
    }

    /// Runs the tape with the process's backend ([`Backend::from_environment`]), leaving results in the
    /// scratch; read them with [`Tape::output`].
    pub fn execute<'i>(&self, width: usize, input: impl Fn(u32) -> &'i [f64], scratch: &mut TapeScratch) {
        self.execute_with(Backend::from_environment(), width, input, scratch)
    }

    /// Runs the tape with the given backend (the interpreter when the tape cannot be compiled).
    pub fn execute_with<'i>(
        &self,
        backend: Backend,
        width: usize,
        input: impl Fn(u32) -> &'i [f64],
        scratch: &mut TapeScratch,
    ) {
        if backend != Backend::Interpreter
            && let Some(native) = self.native(backend)
        {
            return self.execute_native(native, width, input, scratch);
        }
        self.execute_interpreted(width, input, scratch)
    }

    /// Whether the tape runs as native code with `backend` (compiling it now if it has not run yet); false
    /// for the interpreter and where compiling failed (the tape then runs in the interpreter).
    pub fn runs_natively(&self, backend: Backend) -> bool {
        backend != Backend::Interpreter && self.native(backend).is_some()
    }

    /// The compiled code of this tape for a native backend, compiling it on first use.
    fn native(&self, backend: Backend) -> Option<&Arc<NativeTape>> {
        self.native[usize::from(backend == Backend::SystemCompiler)]
            .get_or_init(
                || match jit::compile(backend, &self.instructions, &self.uniform, &self.outputs) {
                    Ok(native) => Some(native),
                    Err(message) => {
                        static WARNED: std::sync::Once = std::sync::Once::new();
                        WARNED.call_once(|| eprintln!("warning: {message}; kernels run in the interpreter"));
                        None
                    }
                },
            )
            .as_ref()
    }

    fn execute_native<'i>(
        &self,
        native: &NativeTape,
        width: usize,
        input: impl Fn(u32) -> &'i [f64],
        scratch: &mut TapeScratch,
    ) {
        // Columns are only added, never dropped: tapes with different numbers of outputs can share a scratch
        // (a state update and its Jacobian) without allocating at every run.
        let outputs = self.outputs.len();
        if scratch.columns.len() < outputs {
            scratch.columns.resize_with(outputs, Vec::new);
        }
        for column in &mut scratch.columns[..outputs] {
            if column.len() != width {
                column.resize(width, 0.0);
            }
        }
        scratch.compact = true;
        scratch.prepared = None;
        if width == 0 {
            return;
        }
        let inputs = native.input_slots.len();
        // Sized once, then written in place: this runs for every kernel at every step.
        scratch.addresses.resize(inputs + outputs, 0);
        let (input_addresses, output_addresses) = scratch.addresses.split_at_mut(inputs);
        for ((address, &slot), &uniform) in input_addresses
            .iter_mut()
            .zip(&native.input_slots)
            .zip(&native.input_uniform)
        {
            let column = input(slot);
            let wanted = if uniform { 1 } else { width };
            assert!(
                column.len() >= wanted,
                "input slot {slot} has {} values for {wanted} instances",
                column.len()
            );
            *address = column.as_ptr() as usize;
        }
        for (address, column) in output_addresses.iter_mut().zip(&mut scratch.columns[..outputs]) {
            *address = column.as_mut_ptr() as usize;
        }
        let (inputs, outputs) = scratch.addresses.split_at(inputs);
        // SAFETY: an address is a pointer's bits: `usize` and `*const f64` have the same layout.
        let (inputs, outputs) = unsafe {
            (
                std::slice::from_raw_parts(inputs.as_ptr() as *const *const f64, inputs.len()),
                std::slice::from_raw_parts(outputs.as_ptr() as *const *mut f64, outputs.len()),
            )
        };
        // SAFETY: every input column was checked to be long enough above; the output columns are the
        // scratch's own vectors of `width` values (sized above), which no input borrows.
        unsafe { native.run(inputs, outputs, width) };
    }

    fn execute_interpreted<'i>(&self, width: usize, input: impl Fn(u32) -> &'i [f64], scratch: &mut TapeScratch) {
        let needed = self.instructions.len() * width;
        if scratch.registers.len() < needed {
            scratch.registers.resize(needed, 0.0);
        }
        scratch.compact = false;
        // Constant registers keep their values while the scratch serves only this tape at this width.
        let skip_constants = scratch.prepared == Some((self.id, width));
        scratch.prepared = Some((self.id, width));
        if width == 1 {
            return self.execute_scalar(input, &mut scratch.registers[..needed], skip_constants);
        }
        let regs = &mut scratch.registers[..needed];
        for (k, instr) in self.instructions.iter().enumerate() {
            if skip_constants && self.constant[k] {
                continue;
            }
            let (before, rest) = regs.split_at_mut(k * width);
            let full = &mut rest[..width];
            // A uniform value is computed for the first instance and broadcast.
            let w = if self.uniform[k] { 1.min(width) } else { width };
            let out = &mut full[..w];
            let col = |r: u32| match self.read_in_place[r as usize] {
                Some(s) => &input(s)[..w],
                None => &before[r as usize * width..r as usize * width + w],
            };
            match *instr {
                Instr::Const(x) => out.fill(x),
                // Read in place by the instructions that use it.
                Instr::Input(_) if self.read_in_place[k].is_some() => {}
                Instr::Input(s) => out.copy_from_slice(&input(s)[..w]),
                Instr::Neg(a) => zip1(out, col(a), |x| -x),
                Instr::Add(a, b) => zip2(out, col(a), col(b), |x, y| x + y),
                Instr::Sub(a, b) => zip2(out, col(a), col(b), |x, y| x - y),
                Instr::Mul(a, b) => zip2(out, col(a), col(b), |x, y| x * y),
                Instr::Div(a, b) => zip2(out, col(a), col(b), |x, y| x / y),
                Instr::Pow(a, b) => zip2(out, col(a), col(b), f64::powf),
                Instr::Call1(f, a) => call1_column(f, out, col(a)),
                Instr::Call2(f, a, b) => call2_column(f, out, col(a), col(b)),
                Instr::Lt(a, b) => zip2(out, col(a), col(b), |x, y| f64::from(x < y)),
                Instr::Le(a, b) => zip2(out, col(a), col(b), |x, y| f64::from(x <= y)),
                Instr::Eq(a, b) => zip2(out, col(a), col(b), |x, y| f64::from(x == y)),
                Instr::And(a, b) => zip2(out, col(a), col(b), |x, y| f64::from(x != 0.0 && y != 0.0)),
                Instr::Or(a, b) => zip2(out, col(a), col(b), |x, y| f64::from(x != 0.0 || y != 0.0)),
                Instr::Not(a) => zip1(out, col(a), |x| f64::from(x == 0.0)),
                Instr::Select(c, a, b) => {
                    let (c, a, b) = (col(c), col(a), col(b));
                    for i in 0..w {
                        out[i] = if c[i] != 0.0 { a[i] } else { b[i] };
                    }
                }
            }
            if w < width {
                let value = full[0];
                full[1..].fill(value);
            }
        }
    }

    /// One instance (a single-compartment cell, one synapse): one register per instruction, no columns.
    fn execute_scalar<'i>(&self, input: impl Fn(u32) -> &'i [f64], regs: &mut [f64], skip_constants: bool) {
        for (k, instr) in self.instructions.iter().enumerate() {
            if skip_constants && self.constant[k] {
                continue;
            }
            let r = |i: u32| regs[i as usize];
            let value = match *instr {
                Instr::Const(x) => x,
                Instr::Input(s) => input(s)[0],
                Instr::Neg(a) => -r(a),
                Instr::Add(a, b) => r(a) + r(b),
                Instr::Sub(a, b) => r(a) - r(b),
                Instr::Mul(a, b) => r(a) * r(b),
                Instr::Div(a, b) => r(a) / r(b),
                Instr::Pow(a, b) => r(a).powf(r(b)),
                Instr::Call1(Func::Exp, a) => r(a).exp(),
                Instr::Call1(f, a) => f.apply1(r(a)),
                Instr::Call2(f, a, b) => f.apply2(r(a), r(b)),
                Instr::Lt(a, b) => f64::from(r(a) < r(b)),
                Instr::Le(a, b) => f64::from(r(a) <= r(b)),
                Instr::Eq(a, b) => f64::from(r(a) == r(b)),
                Instr::And(a, b) => f64::from(r(a) != 0.0 && r(b) != 0.0),
                Instr::Or(a, b) => f64::from(r(a) != 0.0 || r(b) != 0.0),
                Instr::Not(a) => f64::from(r(a) == 0.0),
                Instr::Select(c, a, b) => {
                    if r(c) != 0.0 {
                        r(a)
                    } else {
                        r(b)
                    }
                }
            };
            regs[k] = value;
        }
    }

    /// Column of output `k` after [`Tape::execute`].
    /// The number of outputs.
    pub fn outputs_len(&self) -> usize {
        self.outputs.len()
    }

    #[inline]
    pub fn output<'s>(&self, k: usize, width: usize, scratch: &'s TapeScratch) -> &'s [f64] {
        if scratch.compact {
            return &scratch.columns[k][..width];
        }
        let o = self.outputs[k] as usize;
        &scratch.registers[o * width..(o + 1) * width]
    }

    /// Puts output `k` into `column` (of `width` values): after compiled code, by exchanging the two vectors
    /// rather than copying; output `k` then holds stale values until the tape runs again.
    pub fn move_output(&self, k: usize, width: usize, scratch: &mut TapeScratch, column: &mut Vec<f64>) {
        if scratch.compact && column.len() == width && scratch.columns[k].len() == width {
            std::mem::swap(&mut scratch.columns[k], column);
        } else {
            column[..width].copy_from_slice(self.output(k, width, scratch));
        }
    }
}

/// A property that constants have, inputs have when `input(slot)`, and every other instruction
/// has when all its operands do (e.g. "the same for every instance").
fn propagate(instructions: &[Instr], input: impl Fn(u32) -> bool) -> Vec<bool> {
    let mut flags: Vec<bool> = Vec::with_capacity(instructions.len());
    for instr in instructions {
        let flag = match *instr {
            Instr::Const(_) => true,
            Instr::Input(s) => input(s),
            other => operands(other).into_iter().flatten().all(|r| flags[r as usize]),
        };
        flags.push(flag);
    }
    flags
}

pub(super) fn operands(instr: Instr) -> [Option<u32>; 3] {
    match instr {
        Instr::Const(_) | Instr::Input(_) => [None, None, None],
        Instr::Neg(a) | Instr::Call1(_, a) | Instr::Not(a) => [Some(a), None, None],
        Instr::Add(a, b)
        | Instr::Sub(a, b)
        | Instr::Mul(a, b)
        | Instr::Div(a, b)
        | Instr::Pow(a, b)
        | Instr::Call2(_, a, b)
        | Instr::Lt(a, b)
        | Instr::Le(a, b)
        | Instr::Eq(a, b)
        | Instr::And(a, b)
        | Instr::Or(a, b) => [Some(a), Some(b), None],
        Instr::Select(c, a, b) => [Some(c), Some(a), Some(b)],
    }
}

/// A one-argument function over a column, the function chosen once rather than per element.
fn call1_column(f: Func, out: &mut [f64], a: &[f64]) {
    match f {
        Func::Exp => zip1(out, a, f64::exp),
        Func::Expm1 => zip1(out, a, f64::exp_m1),
        Func::Log => zip1(out, a, f64::ln),
        Func::Log10 => zip1(out, a, f64::log10),
        Func::Sqrt => zip1(out, a, f64::sqrt),
        Func::Fabs => zip1(out, a, f64::abs),
        Func::Sin => zip1(out, a, f64::sin),
        Func::Cos => zip1(out, a, f64::cos),
        Func::Tan => zip1(out, a, f64::tan),
        Func::Tanh => zip1(out, a, f64::tanh),
        Func::Floor => zip1(out, a, f64::floor),
        Func::Ceil => zip1(out, a, f64::ceil),
        Func::Exprel => zip1(out, a, |x| if x == 0.0 { 1.0 } else { x.exp_m1() / x }),
        Func::Min | Func::Max | Func::Atan2 => out.fill(f64::NAN),
    }
}

/// A two-argument function over columns, the function chosen once.
fn call2_column(f: Func, out: &mut [f64], a: &[f64], b: &[f64]) {
    match f {
        Func::Min => zip2(out, a, b, super::graph::min),
        Func::Max => zip2(out, a, b, super::graph::max),
        Func::Atan2 => zip2(out, a, b, f64::atan2),
        _ => out.fill(f64::NAN),
    }
}

#[inline]
fn zip1(out: &mut [f64], a: &[f64], f: impl Fn(f64) -> f64) {
    for (o, x) in out.iter_mut().zip(a) {
        *o = f(*x);
    }
}

#[inline]
fn zip2(out: &mut [f64], a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) {
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = f(*x, *y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tape_agrees_with_the_reference_evaluator_on_many_instances() {
        let mut g = Graph::new();
        let (x, y) = (g.input(0), g.input(1));
        let e = g.call1(Func::Exp, x);
        let p = g.mul(e, y);
        let lt = g.lt(x, y);
        let s = g.select(lt, p, x);
        let tape = Tape::new(&g, &[s, p]);
        let xs: Vec<f64> = (0..17).map(|i| i as f64 * 0.3 - 2.0).collect();
        let ys: Vec<f64> = (0..17).map(|i| 1.0 - i as f64 * 0.1).collect();
        let mut scratch = TapeScratch::default();
        tape.execute_with(
            Backend::Interpreter,
            17,
            |slot| if slot == 0 { &xs } else { &ys },
            &mut scratch,
        );
        for i in 0..17 {
            assert_eq!(tape.output(0, 17, &scratch)[i], g.evaluate(s, &[xs[i], ys[i]]));
            assert_eq!(tape.output(1, 17, &scratch)[i], g.evaluate(p, &[xs[i], ys[i]]));
        }
        // The compiled backend's inline exp is within 2.2e-16 of libm's over its range (tests/compiled_backend.rs).
        tape.execute_with(
            Backend::Compiled,
            17,
            |slot| if slot == 0 { &xs } else { &ys },
            &mut scratch,
        );
        for i in 0..17 {
            for (k, node) in [s, p].into_iter().enumerate() {
                let (compiled, reference) = (tape.output(k, 17, &scratch)[i], g.evaluate(node, &[xs[i], ys[i]]));
                assert!(
                    (compiled - reference).abs() <= 4e-15 * reference.abs(),
                    "{compiled} {reference}"
                );
            }
        }
    }
}
