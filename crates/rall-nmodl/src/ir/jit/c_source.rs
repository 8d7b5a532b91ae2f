//! Tape instructions in, C source out: the function `tape(inputs, outputs, n)` with the same contract as the
//! Cranelift code, written for a C compiler that vectorises the instance loop at the machine's full width
//! (the system-compiler backend, `system_compiler.rs`).
//!
//! Every operation is the IEEE operation the interpreter does (compiled with `-ffp-contract=off`), libm
//! for the functions, and `exp`/`expm1`/`exprel` by the same method as `math.rs`, branch-free over the
//! whole range (clamped to ±1100, `2^n` in two factors), so the loop vectorises.

use super::super::evaluate::{Instr, operands};
use super::super::graph::Func;
use super::InputLayout;
use std::fmt::Write;

/// The inline functions, shared by every tape.
const PRELUDE: &str = r#"#include <math.h>
#include <stdint.h>
#include <string.h>
/* Inlined into the instance loop whatever its size, so the loop has no call and vectorises. */
#define RALL_INLINE __attribute__((always_inline))
#ifdef __FMA__
#define RALL_MADD(a, b, c) fma(a, b, c)
#else
#define RALL_MADD(a, b, c) ((a) * (b) + (c))
#endif
static inline RALL_INLINE double rall_power_of_two(double shifted) {
    int64_t bits;
    memcpy(&bits, &shifted, 8);
    bits = (bits - (INT64_C(0x4338000000000000) - 1023)) << 52;
    double scale;
    memcpy(&scale, &bits, 8);
    return scale;
}
/* e^r - 1 for |r| <= ln2/2: r (1 + r/2! + ... + r^12/13!), by Estrin's scheme. */
static inline RALL_INLINE double rall_q(double r) {
    const double c[13] = {1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
        1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800.0};
    double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    double p01 = RALL_MADD(c[1], r, c[0]), p23 = RALL_MADD(c[3], r, c[2]), p45 = RALL_MADD(c[5], r, c[4]);
    double p67 = RALL_MADD(c[7], r, c[6]), p89 = RALL_MADD(c[9], r, c[8]), p1011 = RALL_MADD(c[11], r, c[10]);
    double p0 = RALL_MADD(p23, r2, p01), p1 = RALL_MADD(p67, r2, p45), p2 = RALL_MADD(p1011, r2, p89);
    double s0 = RALL_MADD(p1, r4, p0), s1 = RALL_MADD(c[12], r4, p2);
    return RALL_MADD(s1, r8, s0) * r;
}
/* x = n ln2 + r; returns e^x and sets *q = e^r - 1, *n = n. */
static inline RALL_INLINE double rall_exp_parts(double x, double *q, double *n) {
    const double shift = 6755399441055744.0;
    x = x < -1100.0 ? -1100.0 : x;
    x = x > 1100.0 ? 1100.0 : x;
    double t = x * 1.4426950408889634 + shift;
    double k = t - shift;
    double r = x - k * 0x1.62e42feep-1;
    r = r - k * 0x1.a39ef35793c76p-33;
    double h = k * 0.5 + shift;
    double first = h - shift;
    double second = (k - first) + shift;
    *q = rall_q(r);
    *n = k;
    return ((1.0 + *q) * rall_power_of_two(h)) * rall_power_of_two(second);
}
static inline RALL_INLINE double rall_exp(double x) {
    double q, n;
    return rall_exp_parts(x, &q, &n);
}
static inline RALL_INLINE double rall_expm1(double x) {
    double q, n;
    double e = rall_exp_parts(x, &q, &n);
    return n == 0.0 ? q : e - 1.0;
}
static inline RALL_INLINE double rall_exprel(double x) {
    double m = rall_expm1(x);
    return x == 0.0 ? 1.0 : m / x;
}
"#;

/// A double as a C literal that reads back to the same bits.
fn literal(x: f64) -> String {
    if x.is_nan() {
        "(__builtin_nan(\"\"))".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "(__builtin_inf())".into()
        } else {
            "(-__builtin_inf())".into()
        }
    } else {
        // Rust's shortest round-trip form, with an exponent or a point so C reads a double.
        let text = format!("{x:?}");
        if text.contains(['.', 'e', 'E']) {
            format!("({text})")
        } else {
            format!("({text}.0)")
        }
    }
}

/// The C expression of one instruction over registers `r<k>`.
fn expression(instr: Instr, r: impl Fn(u32) -> String) -> String {
    let flag = |condition: String| format!("(({condition}) ? 1.0 : 0.0)");
    match instr {
        Instr::Const(x) => literal(x),
        Instr::Input(_) => unreachable!("inputs are loaded by the caller"),
        Instr::Neg(a) => format!("-{}", r(a)),
        Instr::Add(a, b) => format!("{} + {}", r(a), r(b)),
        Instr::Sub(a, b) => format!("{} - {}", r(a), r(b)),
        Instr::Mul(a, b) => format!("{} * {}", r(a), r(b)),
        Instr::Div(a, b) => format!("{} / {}", r(a), r(b)),
        Instr::Pow(a, b) => format!("pow({}, {})", r(a), r(b)),
        Instr::Call1(f, a) => {
            let name = match f {
                Func::Exp => "rall_exp",
                Func::Expm1 => "rall_expm1",
                Func::Exprel => "rall_exprel",
                Func::Log => "log",
                Func::Log10 => "log10",
                Func::Sqrt => "sqrt",
                Func::Fabs => "fabs",
                Func::Sin => "sin",
                Func::Cos => "cos",
                Func::Tan => "tan",
                Func::Tanh => "tanh",
                Func::Floor => "floor",
                Func::Ceil => "ceil",
                Func::Min | Func::Max | Func::Atan2 => return literal(f64::NAN),
            };
            format!("{name}({})", r(a))
        }
        Instr::Call2(f, a, b) => match f {
            // As `graph::min` and `graph::max`: the other argument for a NaN, the second where equal (fmin and
            // fmax leave the sign of a zero open, and the vectorised ones pick the other operand than Rust's).
            Func::Min => format!("(({a} < {b} || {b} != {b}) ? {a} : {b})", a = r(a), b = r(b)),
            Func::Max => format!("(({a} > {b} || {b} != {b}) ? {a} : {b})", a = r(a), b = r(b)),
            Func::Atan2 => format!("atan2({}, {})", r(a), r(b)),
            _ => literal(f64::NAN),
        },
        Instr::Lt(a, b) => flag(format!("{} < {}", r(a), r(b))),
        Instr::Le(a, b) => flag(format!("{} <= {}", r(a), r(b))),
        Instr::Eq(a, b) => flag(format!("{} == {}", r(a), r(b))),
        Instr::And(a, b) => flag(format!("({} != 0.0) & ({} != 0.0)", r(a), r(b))),
        Instr::Or(a, b) => flag(format!("({} != 0.0) | ({} != 0.0)", r(a), r(b))),
        Instr::Not(a) => flag(format!("{} == 0.0", r(a))),
        Instr::Select(c, a, b) => format!("({} != 0.0) ? {} : {}", r(c), r(a), r(b)),
    }
}

/// The C source of a tape, and its input slots in the order the function reads their column pointers (with
/// which of them it reads once).
pub(super) fn source(instructions: &[Instr], uniform: &[bool], outputs: &[u32]) -> (String, Vec<u32>, Vec<bool>) {
    let InputLayout {
        slots: input_slots,
        uniform: input_uniform,
        index_of: input_of,
    } = InputLayout::of(instructions, uniform);
    let mut c = String::from(PRELUDE);
    c.push_str("void tape(const double *const *in, double *const *out, uint64_t n) {\n");
    for (j, &u) in input_uniform.iter().enumerate() {
        if !u {
            writeln!(c, "    const double *restrict in{j} = in[{j}];").unwrap();
        }
    }
    for k in 0..outputs.len() {
        writeln!(c, "    double *restrict out{k} = out[{k}];").unwrap();
    }
    let r = |k: u32| format!("r{k}");
    // The values shared by all instances, once.
    for (k, instr) in instructions.iter().enumerate().filter(|(k, _)| uniform[*k]) {
        match *instr {
            Instr::Input(s) => writeln!(c, "    const double r{k} = in[{}][0];", input_of[&s]).unwrap(),
            other => writeln!(c, "    const double r{k} = {};", expression(other, r)).unwrap(),
        }
    }
    // The columns never overlap (the caller's contract): tell the compiler, which cannot see it through
    // pointers loaded from arrays.
    c.push_str(
        "#if defined(__clang__)\n#pragma clang loop vectorize(assume_safety)\n#else\n#pragma GCC ivdep\n#endif\n",
    );
    c.push_str("    for (uint64_t i = 0; i < n; i++) {\n");
    for (k, instr) in instructions.iter().enumerate().filter(|(k, _)| !uniform[*k]) {
        debug_assert!(operands(*instr).iter().flatten().all(|&o| (o as usize) < k));
        match *instr {
            Instr::Input(s) => writeln!(c, "        const double r{k} = in{}[i];", input_of[&s]).unwrap(),
            other => writeln!(c, "        const double r{k} = {};", expression(other, r)).unwrap(),
        }
    }
    for (k, &o) in outputs.iter().enumerate() {
        writeln!(c, "        out{k}[i] = r{o};").unwrap();
    }
    c.push_str("    }\n}\n");
    (c, input_slots, input_uniform)
}
