//! The compiled kernel backend against its references: the interpreter (every instruction kind, random
//! graphs, every kernel of the built-in catalogue with its Jacobian) and the platform's libm (the inline
//! `exp`, `expm1` and `exprel`).

use proptest::prelude::*;
use rall_nmodl::compile;
use rall_nmodl::ir::{Advance, Backend, Differentiator, Func, Graph, MechanismIr, NodeId, SlotKind, Tape, TapeScratch};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The native backends this build has: Cranelift, and the system compiler with the `system-compiler` feature.
fn native_backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Compiled];
    if cfg!(feature = "system-compiler") {
        backends.push(Backend::SystemCompiler);
    }
    backends
}

/// Runs `tape` over columns with the interpreter and with `backend`; returns both outputs.
fn both(backend: Backend, tape: &Tape, width: usize, columns: &[Vec<f64>]) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    assert!(tape.runs_natively(backend), "{backend:?} did not compile the tape");
    let run = |backend| {
        let mut scratch = TapeScratch::default();
        tape.execute_with(backend, width, |slot| columns[slot as usize].as_slice(), &mut scratch);
        (0..tape.outputs_len())
            .map(|k| tape.output(k, width, &scratch).to_vec())
            .collect::<Vec<_>>()
    };
    (run(Backend::Interpreter), run(backend))
}

/// Relative difference, 0 where both are equal (including both NaN or the same infinity).
fn relative(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

/// The largest relative error of `f` compiled inline against libm over `xs` where libm's result is a normal
/// number (or zero, infinite, NaN), with its argument; and the largest error in units of the smallest
/// subnormal where libm's result is subnormal (there the relative precision is that of the few bits left).
fn inline_error(backend: Backend, f: Func, xs: &[f64], reference: impl Fn(f64) -> f64) -> (f64, f64, f64) {
    let mut g = Graph::new();
    let x = g.input(0);
    let y = g.call1(f, x);
    let tape = Tape::new(&g, &[y]);
    let mut scratch = TapeScratch::default();
    assert!(tape.runs_natively(backend), "{backend:?} did not compile the tape");
    tape.execute_with(backend, xs.len(), |_| xs, &mut scratch);
    let out = tape.output(0, xs.len(), &scratch);
    let (mut worst, mut at, mut subnormal_units) = (0.0, 0.0, 0.0f64);
    for (&x, &y) in xs.iter().zip(out) {
        let r = reference(x);
        if r.is_subnormal() {
            subnormal_units = subnormal_units.max((r - y).abs() / f64::from_bits(1));
        } else if relative(r, y) > worst {
            (worst, at) = (relative(r, y), x);
        }
    }
    (worst, at, subnormal_units)
}

#[test]
fn inline_exp_expm1_and_exprel_agree_with_libm() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // The whole range, the range near zero where expm1 and exprel matter, and the edges where lanes go to
    // libm (beyond ±708, NaN, infinities), in an odd count so the one-lane loop runs too.
    let mut xs: Vec<f64> = (0..200_001).map(|i| -745.0 + 1455.0 * i as f64 / 200_000.0).collect();
    xs.extend((0..100_001).map(|_| rng.random_range(-1.0..1.0) * 10f64.powi(rng.random_range(-12..1))));
    xs.extend([
        0.0,
        -0.0,
        708.0,
        -708.0,
        708.5,
        -745.5,
        710.0,
        1e300,
        -1e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ]);
    xs.extend([
        f64::NAN,
        1e-310,
        -1e-310,
        0.5 * std::f64::consts::LN_2,
        -0.5 * std::f64::consts::LN_2,
    ]);
    for backend in native_backends() {
        let (exp, at, subnormal) = inline_error(backend, Func::Exp, &xs, f64::exp);
        let (expm1, at_m1, _) = inline_error(backend, Func::Expm1, &xs, f64::exp_m1);
        let exprel_reference = |x: f64| if x == 0.0 { 1.0 } else { x.exp_m1() / x };
        let (exprel, at_rel, _) = inline_error(backend, Func::Exprel, &xs, exprel_reference);
        println!(
            "{backend:?}: largest relative error against libm: exp {exp:.2e} (x = {at}), expm1 {expm1:.2e} (x = {at_m1}), exprel {exprel:.2e} (x = {at_rel}); subnormal results of exp within {subnormal} units of the smallest subnormal"
        );
        // Subnormal results (x below -708.4): measured within 1 unit for both backends.
        assert!(subnormal <= 16.0, "exp's subnormal results are {subnormal} units off");
        // Measured: exp 2.2e-16, expm1 6.7e-16, exprel 7.4e-16 (one to three units in the last place), the
        // same for Cranelift and for the system compiler (GCC 12 with FMA).
        assert!(exp < 1e-14, "exp {exp:e} at {at}");
        assert!(expm1 < 2e-14, "expm1 {expm1:e} at {at_m1}");
        assert!(exprel < 2e-14, "exprel {exprel:e} at {at_rel}");
    }
}

/// A random expression graph over `inputs` slots (slot 1 uniform), of every node kind but the inline functions,
/// which the interpreter computes by libm.
fn random_graph(rng: &mut ChaCha8Rng, inputs: u32, nodes: usize) -> (Graph, Vec<NodeId>) {
    let mut g = Graph::new();
    let mut pool: Vec<NodeId> = (0..inputs).map(|s| g.input(s)).collect();
    pool.push(g.constant(0.0));
    pool.push(g.constant(2.5));
    let exact = [
        Func::Log,
        Func::Log10,
        Func::Sqrt,
        Func::Fabs,
        Func::Sin,
        Func::Cos,
        Func::Tan,
        Func::Tanh,
        Func::Floor,
        Func::Ceil,
    ];
    for _ in 0..nodes {
        let mut pick = || pool[rng.random_range(0..pool.len())];
        let (a, b, c) = (pick(), pick(), pick());
        let node = match rng.random_range(0..17) {
            0 => g.neg(a),
            1 => g.add(a, b),
            2 => g.sub(a, b),
            3 => g.mul(a, b),
            4 => g.div(a, b),
            5 => g.pow(a, b),
            6 => g.call1(exact[rng.random_range(0..exact.len())], a),
            7 => g.call2([Func::Min, Func::Max, Func::Atan2][rng.random_range(0..3)], a, b),
            8 => g.lt(a, b),
            9 => g.le(a, b),
            10 => g.eq(a, b),
            11 => g.and(a, b),
            12 => g.or(a, b),
            13 => g.not(a),
            14 => g.select(a, b, c),
            15 => g.call1(Func::Exp, a),
            _ => g.call1([Func::Expm1, Func::Exprel][rng.random_range(0..2)], a),
        };
        pool.push(node);
    }
    let outputs = pool[pool.len().saturating_sub(5)..].to_vec();
    (g, outputs)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Without the inline functions both backends do the same IEEE operations and libm calls: the same bits
    /// (Cranelift calls rall's own min and max; C computes them with the same comparisons).
    /// With them, values agree to the inline functions' error, amplified by what follows; those cases are
    /// checked to 1e-12 relative where the graph's values are well conditioned (see the catalogue test).
    #[test]
    fn compiled_random_graphs_give_the_interpreters_values(seed in 0u64..u64::MAX, width in 0usize..9, nodes in 1usize..60) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (mut g, outputs) = random_graph(&mut rng, 4, nodes);
        // Replace the inline functions by their libm-called neighbours, so the comparison is exact.
        let outputs: Vec<NodeId> = outputs.iter().map(|&o| without_inline(&mut g, o)).collect();
        let tape = Tape::with_uniform_inputs(&g, &outputs, |s| s == 1);
        let columns: Vec<Vec<f64>> = (0..4)
            .map(|s| (0..width.max(1)).map(|_| if s == 1 { 0.7 } else { rng.random_range(-3.0..3.0) }).collect())
            .collect();
        for backend in native_backends() {
            let (interpreted, compiled) = both(backend, &tape, width, &columns);
            for (a, b) in interpreted.iter().zip(&compiled) {
                for (x, y) in a.iter().zip(b) {
                    // The same bits, zeros' signs included (min and max define which zero they return, so
                    // it cannot flip an atan2 from pi to -pi); any NaN equals any NaN.
                    prop_assert!(
                        x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
                        "{backend:?}: {x} != {y}"
                    );
                }
            }
        }
    }
}

/// The node `o` with every exp, expm1 and exprel replaced by log (computed by libm in both backends).
fn without_inline(g: &mut Graph, o: NodeId) -> NodeId {
    replace_inline(g, o, &mut std::collections::HashMap::new())
}

fn replace_inline(g: &mut Graph, o: NodeId, done: &mut std::collections::HashMap<NodeId, NodeId>) -> NodeId {
    use rall_nmodl::ir::Node;
    if let Some(&r) = done.get(&o) {
        return r;
    }
    let node = g.node(o);
    let [a, b, c] = node.children().map(|c| c.map(|c| replace_inline(g, c, done)));
    let (a0, b0, c0) = (a.unwrap_or(0), b.unwrap_or(0), c.unwrap_or(0));
    let r = match node {
        Node::Const(_) | Node::Input(_) => o,
        Node::Call1(Func::Exp | Func::Expm1 | Func::Exprel, _) => g.call1(Func::Log, a0),
        Node::Neg(_) => g.neg(a0),
        Node::Call1(f, _) => g.call1(f, a0),
        Node::Not(_) => g.not(a0),
        Node::Add(..) => g.add(a0, b0),
        Node::Sub(..) => g.sub(a0, b0),
        Node::Mul(..) => g.mul(a0, b0),
        Node::Div(..) => g.div(a0, b0),
        Node::Pow(..) => g.pow(a0, b0),
        Node::Lt(..) => g.lt(a0, b0),
        Node::Le(..) => g.le(a0, b0),
        Node::Eq(..) => g.eq(a0, b0),
        Node::And(..) => g.and(a0, b0),
        Node::Or(..) => g.or(a0, b0),
        Node::Call2(f, ..) => g.call2(f, a0, b0),
        Node::Select(..) => g.select(a0, b0, c0),
    };
    done.insert(o, r);
    r
}

/// Random inputs in each slot's physiological range.
fn catalogue_columns(ir: &MechanismIr, width: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<f64>> {
    ir.slots
        .iter()
        .map(|slot| {
            (0..width)
                .map(|_| match &slot.kind {
                    SlotKind::Voltage => rng.random_range(-100.0..60.0),
                    SlotKind::Time => 12.5,
                    SlotKind::Dt => 0.025,
                    SlotKind::Celsius => 22.0,
                    SlotKind::Diam => rng.random_range(0.5..20.0),
                    SlotKind::Area => rng.random_range(10.0..1000.0),
                    SlotKind::Parameter => slot.default * rng.random_range(0.5..1.5),
                    SlotKind::State => rng.random_range(0.0..1.0),
                    SlotKind::Ion { .. } => rng.random_range(-90.0..60.0),
                    _ => rng.random_range(-1.0..1.0),
                })
                .collect()
        })
        .collect()
}

#[test]
fn every_catalogue_kernel_and_its_jacobian_agree_across_backends() {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/../../mechanisms");
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut worst: (f64, String) = (0.0, String::new());
    let mut kernels = 0;
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let compiled = compile(&name, &text).unwrap_or_else(|_| panic!("{name} compiles"));
        let mut ir = compiled.ir;
        let mut kernel_nodes: Vec<(&str, Vec<NodeId>)> = vec![
            ("INITIAL", ir.initial.outputs.iter().map(|(_, n)| *n).collect()),
            ("BREAKPOINT", {
                let mut v: Vec<NodeId> = ir.current.outputs.iter().map(|(_, n)| *n).collect();
                v.extend([ir.total_current, ir.conductance]);
                v
            }),
        ];
        match &ir.advance {
            Advance::Explicit(k) => kernel_nodes.push(("advance", k.outputs.iter().map(|(_, n)| *n).collect())),
            Advance::Implicit { rates, jacobian, .. } => {
                kernel_nodes.push(("advance", rates.iter().chain(jacobian).copied().collect()))
            }
            Advance::None => {}
        }
        let mut d = Differentiator::new();
        for (kernel, nodes) in kernel_nodes {
            // The kernel and its derivatives with respect to every slot, as the sensitivity tapes have them.
            let mut all = nodes.clone();
            for &n in &nodes {
                for slot in 0..ir.slots.len() as u32 {
                    if ir.graph.depends_on(n, slot) {
                        all.push(d.derivative(&mut ir.graph, n, slot));
                    }
                }
            }
            let tape = Tape::with_uniform_inputs(&ir.graph, &all, |s| (1..=3).contains(&s));
            let width = 1001;
            let columns = catalogue_columns(&ir, width, &mut rng);
            for backend in native_backends() {
                let (interpreted, compiled) = both(backend, &tape, width, &columns);
                for (a, b) in interpreted.iter().zip(&compiled) {
                    // Relative to the output column's largest magnitude (norm-wise): an entry that is a
                    // difference of large terms has only their absolute precision.
                    let scale = a
                        .iter()
                        .fold(0.0f64, |m, x| if x.is_finite() { m.max(x.abs()) } else { m });
                    for (x, y) in a.iter().zip(b) {
                        let e = if x == y || (x.is_nan() && y.is_nan()) {
                            0.0
                        } else {
                            (x - y).abs() / scale
                        };
                        if e > worst.0 {
                            worst = (
                                e,
                                format!("{backend:?} {name} {kernel}: {x} against {y}, column scale {scale:e}"),
                            );
                        }
                    }
                }
            }
            kernels += 1;
        }
    }
    println!(
        "{kernels} kernels; largest relative difference {:.2e} ({})",
        worst.0, worst.1
    );
    // Measured: 2.6e-13 over 31 kernels with their Jacobians (an hh Jacobian entry); 1e-12 is the speed
    // issue's bar for the two backends, held tighter than the usual 10x because the run is seeded.
    assert!(worst.0 < 1e-12, "{}", worst.1);
}
