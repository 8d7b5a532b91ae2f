//! `exp`, `expm1` and `exprel` for compiled kernels: a value in, inline Cranelift IR computing the function of
//! it out, lane by lane with no call (so two instances run in one SIMD register) while every lane is in range.
//!
//! The method: `x = n·ln2 + r` with `n` the nearest integer to `x/ln2` and `|r| ≤ ln2/2` (Cody and Waite's
//! two-part `ln2`, so `r` is exact); `q = e^r - 1` by its Taylor series to `r^13/13!` (truncation below
//! 1.3e-17 relative), evaluated by Estrin's scheme; `e^x = (1 + q)·2^n` with `2^n` built from its bits.
//! `expm1` is `q` itself where `n = 0`, else `e^x - 1`; `exprel(x) = expm1(x)/x`, 1 at 0. Where a lane's
//! `|x|` exceeds 708 (results near the subnormals or the overflow) or is NaN, the lanes go to the platform's
//! libm instead, through the interpreter's own functions. The error against libm is measured by the tests
//! in `tests/compiled_backend.rs`.

use super::emit::{Emitter, Lanes, rust_functions};
use crate::ir::Func;
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{InstBuilder, Value, types};

/// `1.5·2^52`: adding it to a float of magnitude below `2^51` rounds that float to an integer held in the
/// sum's low bits.
const ROUNDING_SHIFT: f64 = 6755399441055744.0;
/// `ln 2` in two parts; the first has 21 trailing zero bits, so `n·LN2_HIGH` is exact for `|n| < 2^21`.
const LN2_HIGH: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LOW: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// The largest `|x|` computed inline: `2^n` stays a normal number.
const INLINE_LIMIT: f64 = 708.0;
const TERMS: usize = 13;

/// `x = n·ln2 + r`: `q = e^r - 1`, `n` as a float and `n + ROUNDING_SHIFT` (whose low bits hold `n`).
struct Reduced {
    q: Value,
    n: Value,
    shifted: Value,
}

fn reduce(e: &mut Emitter, lanes: Lanes, x: Value) -> Reduced {
    let shift = e.constant(lanes, ROUNDING_SHIFT);
    let log2e = e.constant(lanes, std::f64::consts::LOG2_E);
    let scaled = e.b.ins().fmul(x, log2e);
    let shifted = e.b.ins().fadd(scaled, shift);
    let n = e.b.ins().fsub(shifted, shift);
    let high = e.constant(lanes, LN2_HIGH);
    let low = e.constant(lanes, LN2_LOW);
    let nh = e.b.ins().fmul(n, high);
    let r = e.b.ins().fsub(x, nh);
    let nl = e.b.ins().fmul(n, low);
    let r = e.b.ins().fsub(r, nl);
    // q = r·(1 + r/2! + ... + r^12/13!), by Estrin's scheme: pairs of terms combined with r, r², r⁴, r⁸,
    // so the dependency chain is four multiply-adds deep instead of twelve.
    let mut level: Vec<Value> = Vec::with_capacity(TERMS);
    let mut factorial = 1.0;
    for k in 0..TERMS {
        factorial *= (k + 1) as f64;
        level.push(e.constant(lanes, 1.0 / factorial));
    }
    let mut power = r;
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for pair in level.chunks(2) {
            next.push(match pair {
                [low, high] => {
                    let product = e.b.ins().fmul(*high, power);
                    e.b.ins().fadd(*low, product)
                }
                [single] => *single,
                _ => unreachable!(),
            });
        }
        level = next;
        if level.len() > 1 {
            power = e.b.ins().fmul(power, power);
        }
    }
    let q = e.b.ins().fmul(level[0], r);
    Reduced { q, n, shifted }
}

/// `(1 + q)·2^n`, with `2^n` from the bits `(n + 1023) << 52`.
fn exp_of(e: &mut Emitter, lanes: Lanes, reduced: &Reduced) -> Value {
    let bits = e.b.ins().bitcast(lanes.int(), e.lane_order, reduced.shifted);
    let offset = e.b.ins().iconst(types::I64, ROUNDING_SHIFT.to_bits() as i64 - 1023);
    let offset = match lanes {
        Lanes::One => offset,
        Lanes::Two => e.b.ins().splat(types::I64X2, offset),
    };
    let biased = e.b.ins().isub(bits, offset);
    let exponent = e.b.ins().ishl_imm_u(biased, 52);
    let scale = e.b.ins().bitcast(lanes.float(), e.lane_order, exponent);
    let one = e.constant(lanes, 1.0);
    let mantissa = e.b.ins().fadd(one, reduced.q);
    e.b.ins().fmul(mantissa, scale)
}

fn expm1_of(e: &mut Emitter, lanes: Lanes, reduced: &Reduced) -> Value {
    let exp = exp_of(e, lanes, reduced);
    let one = e.constant(lanes, 1.0);
    let far = e.b.ins().fsub(exp, one);
    let zero = e.constant(lanes, 0.0);
    let near = e.b.ins().fcmp(FloatCC::Equal, reduced.n, zero);
    e.choose(lanes, near, reduced.q, far)
}

/// Emits `inline(x)` when every lane has `|x| ≤ INLINE_LIMIT`, else the Rust function of `f` lane by lane.
fn guarded(e: &mut Emitter, lanes: Lanes, f: Func, x: Value, inline: fn(&mut Emitter, Lanes, Value) -> Value) -> Value {
    let magnitude = e.b.ins().fabs(x);
    let limit = e.constant(lanes, INLINE_LIMIT);
    let in_range = e.b.ins().fcmp(FloatCC::LessThanOrEqual, magnitude, limit);
    let all = match lanes {
        Lanes::One => in_range,
        Lanes::Two => e.b.ins().vall_true(in_range),
    };
    let fast = e.b.create_block();
    let slow = e.b.create_block();
    let join = e.b.create_block();
    let result = e.b.append_block_param(join, lanes.float());
    e.b.ins().brif(all, fast, &[], slow, &[]);
    e.b.switch_to_block(fast);
    let value = inline(e, lanes, x);
    e.b.ins().jump(join, &[value.into()]);
    e.b.switch_to_block(slow);
    e.b.set_cold_block(slow);
    let value = e.call(lanes, rust_functions::one(f), &[x]);
    e.b.ins().jump(join, &[value.into()]);
    e.b.switch_to_block(join);
    result
}

pub(super) fn exp(e: &mut Emitter, lanes: Lanes, x: Value) -> Value {
    guarded(e, lanes, Func::Exp, x, |e, lanes, x| {
        let reduced = reduce(e, lanes, x);
        exp_of(e, lanes, &reduced)
    })
}

pub(super) fn expm1(e: &mut Emitter, lanes: Lanes, x: Value) -> Value {
    guarded(e, lanes, Func::Expm1, x, |e, lanes, x| {
        let reduced = reduce(e, lanes, x);
        expm1_of(e, lanes, &reduced)
    })
}

pub(super) fn exprel(e: &mut Emitter, lanes: Lanes, x: Value) -> Value {
    guarded(e, lanes, Func::Exprel, x, |e, lanes, x| {
        let reduced = reduce(e, lanes, x);
        let m = expm1_of(e, lanes, &reduced);
        let ratio = e.b.ins().fdiv(m, x);
        let zero = e.constant(lanes, 0.0);
        let at_zero = e.b.ins().fcmp(FloatCC::Equal, x, zero);
        let one = e.constant(lanes, 1.0);
        e.choose(lanes, at_zero, one, ratio)
    })
}
