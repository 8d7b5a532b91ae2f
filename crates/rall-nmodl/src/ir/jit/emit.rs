//! Tape instructions in, Cranelift IR out: one function with the uniform values computed once, a loop over
//! four instances (two interleaved `f64x2` copies of the body), then a two-instance and a one-instance loop
//! for the remainder.

use super::super::evaluate::{Instr, operands};
use super::super::graph::Func;
use super::InputLayout;
use super::math;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    AbiParam, ConstantData, Endianness, Function, InstBuilder, MemFlagsData, SigRef, Signature, Type, Value, types,
};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use std::collections::HashMap;

/// How many instances one value holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Lanes {
    One,
    Two,
}

impl Lanes {
    pub(super) fn float(self) -> Type {
        match self {
            Lanes::One => types::F64,
            Lanes::Two => types::F64X2,
        }
    }

    pub(super) fn int(self) -> Type {
        match self {
            Lanes::One => types::I64,
            Lanes::Two => types::I64X2,
        }
    }
}

/// An instruction as four numbers, for the code cache's key.
pub(super) fn encode(instr: Instr) -> (u64, u64, u64, u64) {
    let r = |x: u32| u64::from(x);
    let f = |f: Func| f as u64;
    match instr {
        Instr::Const(x) => (0, x.to_bits(), 0, 0),
        Instr::Input(s) => (1, r(s), 0, 0),
        Instr::Neg(a) => (2, r(a), 0, 0),
        Instr::Add(a, b) => (3, r(a), r(b), 0),
        Instr::Sub(a, b) => (4, r(a), r(b), 0),
        Instr::Mul(a, b) => (5, r(a), r(b), 0),
        Instr::Div(a, b) => (6, r(a), r(b), 0),
        Instr::Pow(a, b) => (7, r(a), r(b), 0),
        Instr::Call1(g, a) => (8, f(g), r(a), 0),
        Instr::Call2(g, a, b) => (9, f(g), r(a), r(b)),
        Instr::Lt(a, b) => (10, r(a), r(b), 0),
        Instr::Le(a, b) => (11, r(a), r(b), 0),
        Instr::Eq(a, b) => (12, r(a), r(b), 0),
        Instr::And(a, b) => (13, r(a), r(b), 0),
        Instr::Or(a, b) => (14, r(a), r(b), 0),
        Instr::Not(a) => (15, r(a), 0, 0),
        Instr::Select(c, a, b) => (16, r(c), r(a), r(b)),
    }
}

/// Builds the function `(inputs, outputs, n)` into `func`; returns the input slots in the order it reads
/// their column pointers, and which of them it reads once.
pub(super) fn function(
    func: &mut Function,
    builder_context: &mut FunctionBuilderContext,
    config: TargetFrontendConfig,
    fused: bool,
    instructions: &[Instr],
    uniform: &[bool],
    outputs: &[u32],
) -> (Vec<u32>, Vec<bool>) {
    let InputLayout {
        slots: input_slots,
        uniform: input_uniform,
        index_of: input_of,
    } = InputLayout::of(instructions, uniform);
    let pointer = config.pointer_type();
    let mut b = FunctionBuilder::new(func, builder_context);
    let mut e = Emitter::new(&mut b, config, fused);
    let entry = e.b.create_block();
    e.b.append_block_params_for_function_params(entry);
    e.b.switch_to_block(entry);
    let (inputs, outs, n) = {
        let p = e.b.block_params(entry);
        (p[0], p[1], p[2])
    };
    let flags = e.flags;
    let input_column: Vec<Value> = (0..input_slots.len())
        .map(|j| e.b.ins().load(pointer, flags, inputs, (8 * j) as i32))
        .collect();
    let output_column: Vec<Value> = (0..outputs.len())
        .map(|k| e.b.ins().load(pointer, flags, outs, (8 * k) as i32))
        .collect();

    // The values shared by all instances, once, then two-lane copies of them for the wide loop.
    let mut single: Vec<Option<Value>> = vec![None; instructions.len()];
    for (k, instr) in instructions.iter().enumerate().filter(|(k, _)| uniform[*k]) {
        single[k] = Some(match *instr {
            Instr::Input(s) => e.b.ins().load(types::F64, flags, input_column[input_of[&s]], 0),
            other => {
                let ops = operands(other).map(|r| r.map(|r| single[r as usize].unwrap()));
                e.instruction(Lanes::One, other, ops)
            }
        });
    }
    let pair: Vec<Option<Value>> = single
        .iter()
        .map(|v| v.map(|v| e.b.ins().splat(types::F64X2, v)))
        .collect();

    let columns = Columns {
        instructions,
        uniform,
        outputs,
        input_of: &input_of,
        input_column: &input_column,
        output_column: &output_column,
    };
    // Loops from the widest down, each taking instances while a whole step of it fits: `UNROLL` independent
    // two-lane copies of the body interleaved instruction by instruction (so one copy's long dependency
    // chains, exp after exp, overlap the others'), then one two-lane copy, then single instances.
    let exit = e.b.create_block();
    let zero = e.b.ins().iconst(types::I64, 0);
    let mut start = zero;
    let loops: &[(Lanes, usize)] = &[(Lanes::Two, UNROLL), (Lanes::Two, 1), (Lanes::One, 1)];
    for &(lanes, copies) in loops {
        let head = e.b.create_block();
        let body = e.b.create_block();
        let after = e.b.create_block();
        e.b.append_block_param(head, types::I64);
        e.b.append_block_param(body, types::I64);
        e.b.append_block_param(after, types::I64);
        e.b.ins().jump(head, &[start.into()]);
        let step = copies as i64 * if lanes == Lanes::Two { 2 } else { 1 };

        e.b.switch_to_block(head);
        let i = e.b.block_params(head)[0];
        let next = e.b.ins().iadd_imm_s(i, step);
        let fits = e.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, next, n);
        e.b.ins().brif(fits, body, &[i.into()], after, &[i.into()]);

        e.b.switch_to_block(body);
        let i = e.b.block_params(body)[0];
        let shared = if lanes == Lanes::Two { &pair } else { &single };
        e.body(lanes, copies, i, &columns, shared);
        let next = e.b.ins().iadd_imm_s(i, step);
        e.b.ins().jump(head, &[next.into()]);

        e.b.switch_to_block(after);
        start = e.b.block_params(after)[0];
    }
    e.b.ins().jump(exit, &[]);

    e.b.switch_to_block(exit);
    e.b.ins().return_(&[]);
    e.b.seal_all_blocks();
    b.finalize(config);
    (input_slots, input_uniform)
}

/// How many two-lane copies of the body the widest loop interleaves: on the hh tree of 1,001 CVs, two
/// took the run from 2.84 to 2.47 s and four to 2.39 s, but four made short runs of small cells slower by the
/// time Cranelift spends on the longer code (a 200 ms gradient of a 113-CV cell: 0.14 s with one, 0.15 s
/// with two, 0.18 s with four).
const UNROLL: usize = 2;

/// Where a loop body finds its columns.
struct Columns<'a> {
    instructions: &'a [Instr],
    uniform: &'a [bool],
    outputs: &'a [u32],
    input_of: &'a HashMap<u32, usize>,
    input_column: &'a [Value],
    output_column: &'a [Value],
}

/// Emits instructions into a function under construction.
pub(super) struct Emitter<'a, 'f> {
    pub(super) b: &'a mut FunctionBuilder<'f>,
    /// `f64 -> f64` and `(f64, f64) -> f64` in the platform's calling convention.
    one_argument: SigRef,
    two_arguments: SigRef,
    pub(super) flags: MemFlagsData,
    /// Flags of a bitcast between vector types.
    pub(super) lane_order: MemFlagsData,
    /// Whether the processor has fused multiply-add instructions (the inline functions use them).
    fused: bool,
}

impl<'a, 'f> Emitter<'a, 'f> {
    fn new(b: &'a mut FunctionBuilder<'f>, config: TargetFrontendConfig, fused: bool) -> Self {
        let mut signature = |arguments: usize| {
            let mut s = Signature::new(config.default_call_conv);
            s.params.extend((0..arguments).map(|_| AbiParam::new(types::F64)));
            s.returns.push(AbiParam::new(types::F64));
            b.import_signature(s)
        };
        let one_argument = signature(1);
        let two_arguments = signature(2);
        Self {
            b,
            one_argument,
            two_arguments,
            flags: MemFlagsData::new().with_notrap(),
            lane_order: MemFlagsData::new().with_endianness(Endianness::Little),
            fused,
        }
    }

    /// `a·b + c`, fused (one rounding) where the processor can, as the C backend's `RALL_MADD`.
    pub(super) fn multiply_add(&mut self, a: Value, b: Value, c: Value) -> Value {
        if self.fused {
            self.b.ins().fma(a, b, c)
        } else {
            let product = self.b.ins().fmul(a, b);
            self.b.ins().fadd(product, c)
        }
    }

    /// One loop body at instance `i`: `copies` interleaved copies, each over the next `lanes` instances; loads
    /// the per-instance inputs, computes the per-instance values and stores every output (uniform ones too,
    /// so each output column is filled).
    fn body(&mut self, lanes: Lanes, copies: usize, i: Value, c: &Columns, shared: &[Option<Value>]) {
        let width = if lanes == Lanes::Two { 2 } else { 1 };
        let offsets: Vec<Value> = (0..copies)
            .map(|j| {
                let instance = self.b.ins().iadd_imm_s(i, (j * width) as i64);
                self.b.ins().ishl_imm_u(instance, 3)
            })
            .collect();
        let mut value: Vec<Vec<Option<Value>>> = vec![shared.to_vec(); copies];
        for (k, instr) in c.instructions.iter().enumerate().filter(|(k, _)| !c.uniform[*k]) {
            for (copy, offset) in value.iter_mut().zip(&offsets) {
                copy[k] = Some(match *instr {
                    Instr::Input(s) => {
                        let address = self.b.ins().iadd(c.input_column[c.input_of[&s]], *offset);
                        self.b.ins().load(lanes.float(), self.flags, address, 0)
                    }
                    other => {
                        let ops = operands(other).map(|r| r.map(|r| copy[r as usize].unwrap()));
                        self.instruction(lanes, other, ops)
                    }
                });
            }
        }
        for (k, &o) in c.outputs.iter().enumerate() {
            for (copy, offset) in value.iter().zip(&offsets) {
                let address = self.b.ins().iadd(c.output_column[k], *offset);
                self.b.ins().store(self.flags, copy[o as usize].unwrap(), address, 0);
            }
        }
    }

    /// `x` in every lane; two lanes as a constant-pool vector, which an instruction can read in place.
    pub(super) fn constant(&mut self, lanes: Lanes, x: f64) -> Value {
        match lanes {
            Lanes::One => self.b.ins().f64const(x),
            Lanes::Two => {
                let bytes: Vec<u8> = [x, x].iter().flat_map(|v| v.to_le_bytes()).collect();
                let handle = self.b.func.dfg.constants.insert(ConstantData::from(bytes));
                self.b.ins().vconst(types::F64X2, handle)
            }
        }
    }

    /// A comparison's result as the float lanes' bit mask (two lanes) or a flag (one lane), usable by `choose`.
    fn compare(&mut self, cc: FloatCC, a: Value, b: Value) -> Value {
        self.b.ins().fcmp(cc, a, b)
    }

    /// `if mask { a } else { b }` lane by lane.
    pub(super) fn choose(&mut self, lanes: Lanes, mask: Value, a: Value, b: Value) -> Value {
        match lanes {
            Lanes::One => self.b.ins().select(mask, a, b),
            Lanes::Two => {
                let mask = self.b.ins().bitcast(types::F64X2, self.lane_order, mask);
                self.b.ins().bitselect(mask, a, b)
            }
        }
    }

    /// 1.0 where the mask is set, else 0.0.
    fn flag(&mut self, lanes: Lanes, mask: Value) -> Value {
        let one = self.constant(lanes, 1.0);
        let zero = self.constant(lanes, 0.0);
        self.choose(lanes, mask, one, zero)
    }

    /// Calls a Rust function per lane.
    pub(super) fn call(&mut self, lanes: Lanes, function: usize, arguments: &[Value]) -> Value {
        let signature = if arguments.len() == 1 {
            self.one_argument
        } else {
            self.two_arguments
        };
        let callee = self.b.ins().iconst(types::I64, function as i64);
        let scalar_call = |b: &mut FunctionBuilder, args: &[Value]| {
            let call = b.ins().call_indirect(signature, callee, args);
            b.inst_results(call)[0]
        };
        match lanes {
            Lanes::One => scalar_call(self.b, arguments),
            Lanes::Two => {
                let mut result = None;
                for lane in 0..2u8 {
                    let args: Vec<Value> = arguments.iter().map(|&a| self.b.ins().extractlane(a, lane)).collect();
                    let r = scalar_call(self.b, &args);
                    result = Some(match result {
                        None => self.b.ins().splat(types::F64X2, r),
                        Some(v) => self.b.ins().insertlane(v, r, lane),
                    });
                }
                result.unwrap()
            }
        }
    }

    /// One instruction (not an input) on operands already emitted.
    fn instruction(&mut self, lanes: Lanes, instr: Instr, ops: [Option<Value>; 3]) -> Value {
        if let Instr::Const(x) = instr {
            return self.constant(lanes, x);
        }
        let a = ops[0].expect("every instruction but a constant has an operand");
        let b = ops[1].unwrap_or(a);
        match instr {
            Instr::Const(_) => unreachable!(),
            Instr::Input(_) => unreachable!("inputs are loaded by the caller"),
            Instr::Neg(_) => self.b.ins().fneg(a),
            Instr::Add(..) => self.b.ins().fadd(a, b),
            Instr::Sub(..) => self.b.ins().fsub(a, b),
            Instr::Mul(..) => self.b.ins().fmul(a, b),
            Instr::Div(..) => self.b.ins().fdiv(a, b),
            Instr::Pow(..) => self.call(lanes, rust_functions::pow as *const () as usize, &[a, b]),
            Instr::Call1(Func::Sqrt, _) => self.b.ins().sqrt(a),
            Instr::Call1(Func::Fabs, _) => self.b.ins().fabs(a),
            Instr::Call1(Func::Exp, _) => math::exp(self, lanes, a),
            Instr::Call1(Func::Expm1, _) => math::expm1(self, lanes, a),
            Instr::Call1(Func::Exprel, _) => math::exprel(self, lanes, a),
            Instr::Call1(f, _) => self.call(lanes, rust_functions::one(f), &[a]),
            Instr::Call2(f, _, _) => self.call(lanes, rust_functions::two(f), &[a, b]),
            Instr::Lt(..) => {
                let m = self.compare(FloatCC::LessThan, a, b);
                self.flag(lanes, m)
            }
            Instr::Le(..) => {
                let m = self.compare(FloatCC::LessThanOrEqual, a, b);
                self.flag(lanes, m)
            }
            Instr::Eq(..) => {
                let m = self.compare(FloatCC::Equal, a, b);
                self.flag(lanes, m)
            }
            Instr::And(..) | Instr::Or(..) => {
                let zero = self.constant(lanes, 0.0);
                let ma = self.compare(FloatCC::NotEqual, a, zero);
                let mb = self.compare(FloatCC::NotEqual, b, zero);
                let m = if matches!(instr, Instr::And(..)) {
                    self.b.ins().band(ma, mb)
                } else {
                    self.b.ins().bor(ma, mb)
                };
                self.flag(lanes, m)
            }
            Instr::Not(_) => {
                let zero = self.constant(lanes, 0.0);
                let m = self.compare(FloatCC::Equal, a, zero);
                self.flag(lanes, m)
            }
            Instr::Select(..) => {
                let (c, x, y) = (a, b, ops[2].unwrap());
                let zero = self.constant(lanes, 0.0);
                let m = self.compare(FloatCC::NotEqual, c, zero);
                self.choose(lanes, m, x, y)
            }
        }
    }
}

/// The functions compiled code calls, with the interpreter's definitions (so both give the same bits).
pub(super) mod rust_functions {
    use super::Func;

    pub extern "C" fn pow(x: f64, y: f64) -> f64 {
        x.powf(y)
    }

    macro_rules! wrappers {
        ($table:ident, $apply:ident, $fallback:ident, ($($arg:ident),*), $($variant:ident => $name:ident),* $(,)?) => {
            wrappers!(@define $apply, ($($arg),*), $($variant => $name),*);
            /// The address of the Rust function computing `f`.
            pub fn $table(f: Func) -> usize {
                match f {
                    $(Func::$variant => $name as *const () as usize,)*
                    #[allow(unreachable_patterns)]
                    _ => $fallback as *const () as usize,
                }
            }
        };
        (@define $apply:ident, $args:tt, $($variant:ident => $name:ident),*) => {
            $(wrappers!(@one $apply, $args, $variant, $name);)*
        };
        (@one $apply:ident, ($($arg:ident),*), $variant:ident, $name:ident) => {
            extern "C" fn $name($($arg: f64),*) -> f64 {
                Func::$variant.$apply($($arg),*)
            }
        };
    }

    /// What the interpreter gives for a function called with the wrong number of arguments.
    extern "C" fn nan1(_: f64) -> f64 {
        f64::NAN
    }

    extern "C" fn nan2(_: f64, _: f64) -> f64 {
        f64::NAN
    }

    wrappers!(one, apply1, nan1, (x), Exp => exp, Expm1 => expm1, Log => log, Log10 => log10, Sqrt => sqrt,
        Fabs => fabs, Sin => sin, Cos => cos, Tan => tan, Tanh => tanh, Floor => floor, Ceil => ceil,
        Exprel => exprel);
    wrappers!(two, apply2, nan2, (x, y), Min => min, Max => max, Atan2 => atan2);
}
