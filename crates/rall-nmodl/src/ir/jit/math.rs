//! `exp`, `expm1` and `exprel` for compiled kernels: a value in, inline Cranelift IR computing the function of
//! it out, lane by lane with no call and no branch (so two instances run in one SIMD register and the
//! register allocator sees one straight block).
//!
//! The method (the same as the system-compiler backend's `c_source.rs`): `x`, clamped to ±1100 (NaN stays
//! NaN), is `n·ln2 + r` with `n` the nearest integer to `x/ln2` and `|r| ≤ ln2/2` (Cody and Waite's two-part
//! `ln2`, so `r` is exact); `q = e^r - 1` by its Taylor series to `r^13/13!` (truncation below 1.3e-17
//! relative), evaluated by Estrin's scheme with fused multiply-adds where the processor has them;
//! `e^x = (1 + q)·2^a·2^b` with `a + b = n` and each power of two built from its bits, so results near the
//! overflow and in the subnormals come out right without a branch. `expm1` is `q` itself where `n = 0`, else
//! `e^x - 1`; `exprel(x) = expm1(x)/x`, 1 at 0. The error against libm is measured by the tests in
//! `tests/compiled_backend.rs`.

use super::emit::{Emitter, Lanes};
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{InstBuilder, Value, types};

/// `1.5·2^52`: adding it to a float of magnitude below `2^51` rounds that float to an integer held in the
/// sum's low bits.
const ROUNDING_SHIFT: f64 = 6755399441055744.0;
/// `ln 2` in two parts; the first has 21 trailing zero bits, so `n·LN2_HIGH` is exact for `|n| < 2^21`.
const LN2_HIGH: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LOW: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// Arguments are clamped to ±CLAMP: beyond it `e^x` is 0 or infinite in doubles anyway, and `n` stays small
/// enough for two normal powers of two.
const CLAMP: f64 = 1100.0;
const TERMS: usize = 13;

/// `x = n·ln2 + r`: `q = e^r - 1` and `n` as a float.
struct Reduced {
    q: Value,
    n: Value,
}

fn reduce(e: &mut Emitter, lanes: Lanes, x: Value) -> Reduced {
    let low_limit = e.constant(lanes, -CLAMP);
    let high_limit = e.constant(lanes, CLAMP);
    // `x < -CLAMP ? -CLAMP : x`, then the same above: a NaN fails both comparisons and stays.
    let below = e.b.ins().fcmp(FloatCC::LessThan, x, low_limit);
    let x = e.choose(lanes, below, low_limit, x);
    let above = e.b.ins().fcmp(FloatCC::GreaterThan, x, high_limit);
    let x = e.choose(lanes, above, high_limit, x);
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
                [low, high] => e.multiply_add(*high, power, *low),
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
    Reduced { q, n }
}

/// `2^m` from `m + ROUNDING_SHIFT` (an integer `|m| ≤ 1022` in its low bits): the bits `(m + 1023) << 52`.
fn power_of_two(e: &mut Emitter, lanes: Lanes, shifted: Value) -> Value {
    let bits = e.b.ins().bitcast(lanes.int(), e.lane_order, shifted);
    let offset = e.b.ins().iconst(types::I64, ROUNDING_SHIFT.to_bits() as i64 - 1023);
    let offset = match lanes {
        Lanes::One => offset,
        Lanes::Two => e.b.ins().splat(types::I64X2, offset),
    };
    let biased = e.b.ins().isub(bits, offset);
    let exponent = e.b.ins().ishl_imm_u(biased, 52);
    e.b.ins().bitcast(lanes.float(), e.lane_order, exponent)
}

/// `(1 + q)·2^a·2^b` with `a` the nearest integer to `n/2` and `b = n - a`, both within a normal double's
/// exponent range for `|n| ≤ 1587` (`|x| ≤ 1100`).
fn exp_of(e: &mut Emitter, lanes: Lanes, reduced: &Reduced) -> Value {
    let shift = e.constant(lanes, ROUNDING_SHIFT);
    let half = e.constant(lanes, 0.5);
    let half_n = e.b.ins().fmul(reduced.n, half);
    let a_shifted = e.b.ins().fadd(half_n, shift);
    let a = e.b.ins().fsub(a_shifted, shift);
    let b = e.b.ins().fsub(reduced.n, a);
    let b_shifted = e.b.ins().fadd(b, shift);
    let one = e.constant(lanes, 1.0);
    let mantissa = e.b.ins().fadd(one, reduced.q);
    let scale_a = power_of_two(e, lanes, a_shifted);
    let scale_b = power_of_two(e, lanes, b_shifted);
    let scaled = e.b.ins().fmul(mantissa, scale_a);
    e.b.ins().fmul(scaled, scale_b)
}

fn expm1_of(e: &mut Emitter, lanes: Lanes, reduced: &Reduced) -> Value {
    let exp = exp_of(e, lanes, reduced);
    let one = e.constant(lanes, 1.0);
    let far = e.b.ins().fsub(exp, one);
    let zero = e.constant(lanes, 0.0);
    let near = e.b.ins().fcmp(FloatCC::Equal, reduced.n, zero);
    e.choose(lanes, near, reduced.q, far)
}

pub(super) fn exp(e: &mut Emitter, lanes: Lanes, x: Value) -> Value {
    let reduced = reduce(e, lanes, x);
    exp_of(e, lanes, &reduced)
}

pub(super) fn expm1(e: &mut Emitter, lanes: Lanes, x: Value) -> Value {
    let reduced = reduce(e, lanes, x);
    expm1_of(e, lanes, &reduced)
}

pub(super) fn exprel(e: &mut Emitter, lanes: Lanes, x: Value) -> Value {
    let reduced = reduce(e, lanes, x);
    let m = expm1_of(e, lanes, &reduced);
    let ratio = e.b.ins().fdiv(m, x);
    let zero = e.constant(lanes, 0.0);
    let at_zero = e.b.ins().fcmp(FloatCC::Equal, x, zero);
    let one = e.constant(lanes, 1.0);
    e.choose(lanes, at_zero, one, ratio)
}
