//! Procedural mechanisms (`while`, FROM loops and indices known at run time, recursion, random draws in
//! events): which files take that path, what it refuses, and what its programs compute, against values worked
//! out by hand (sums, factorials, queue contents) and the moments of the distributions drawn from.

use rall_nmodl::compile;
use rall_nmodl::ir::MechanismIr;
use rall_nmodl::procedural::{Block, Host, Machine, Procedural, RunError};

fn compiled(text: &str) -> MechanismIr {
    match compile("t.mod", text) {
        Ok(c) => c.ir,
        Err((source, d)) => panic!("{}", rall_nmodl::diagnostics::render_all(&d, &source)),
    }
}

fn errors(text: &str) -> Vec<String> {
    match compile("t.mod", text) {
        Ok(_) => Vec::new(),
        Err((source, d)) => d.iter().filter(|d| d.is_error()).map(|d| d.render(&source)).collect(),
    }
}

/// A host with a deterministic uniform stream (a multiplicative congruential generator, as written here) that
/// records events.
#[derive(Default)]
struct Recorder {
    state: u64,
    sends: Vec<(f64, f64)>,
    spikes: Vec<f64>,
}

impl Host for Recorder {
    fn uniform(&mut self, _stream: usize) -> f64 {
        self.state = self
            .state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn reseed(&mut self, _stream: usize, seed: &[f64]) {
        self.state = seed[0] as u64;
    }
    fn send(&mut self, delay_ms: f64, flag: f64) {
        self.sends.push((delay_ms, flag));
    }
    fn spike(&mut self, t_ms: f64) {
        self.spikes.push(t_ms);
    }
    fn move_to(&mut self, _t_ms: f64) {}
}

/// Runs one block on one instance whose slots start at their defaults and the given values.
fn run(
    ir: &MechanismIr,
    block: impl Fn(&Procedural) -> Option<&Block>,
    values: &[(&str, f64)],
    host: &mut Recorder,
) -> Result<Vec<Vec<f64>>, RunError> {
    let p = ir.procedural.as_deref().expect("runs procedurally");
    let mut columns: Vec<Vec<f64>> = ir.slots.iter().map(|s| vec![s.default]).collect();
    for (name, x) in values {
        columns[ir.slot(name).unwrap() as usize][0] = *x;
    }
    Machine::new(&p.program, &mut columns, 0, host).run(block(p).unwrap())?;
    Ok(columns)
}

fn value(ir: &MechanismIr, columns: &[Vec<f64>], name: &str) -> f64 {
    columns[ir.slot(name).unwrap_or_else(|| panic!("no slot {name}")) as usize][0]
}

const QUEUE: &str = r#"
NEURON { POINT_PROCESS Q RANGE n, total, f }
DEFINE MAX 5
PARAMETER { k = 4 }
ASSIGNED { n  total  f  times[MAX] }
INITIAL {
    n = 0
    f = fact(k)
}
BREAKPOINT {
    LOCAL j
    total = 0
    FROM j = 0 TO n - 1 { total = total + times[j] }
}
NET_RECEIVE (w) {
    LOCAL j
    if (n >= MAX) {
        : drop the oldest: shift every element one place down
        FROM j = 0 TO n - 2 { times[j] = times[j + 1] }
        n = n - 1
    }
    times[n] = t
    n = n + 1
    j = 0
    while (j < 3) { j = j + 1 }
    net_send(j, 7)
}
FUNCTION fact(x) {
    if (x <= 1) { fact = 1 } else { fact = x * fact(x - 1) }
}
"#;

#[test]
fn run_time_loops_indices_and_recursion_make_a_mechanism_procedural_and_compute_as_written() {
    let ir = compiled(QUEUE);
    let p = ir.procedural.as_deref().unwrap();
    // The first construct the graph cannot express names the file and line.
    assert!(p.reason.starts_with("t.mod:"), "{}", p.reason);
    let mut host = Recorder::default();
    let columns = run(&ir, |p| p.program.initial.as_ref(), &[], &mut host).unwrap();
    assert_eq!(value(&ir, &columns, "f"), 24.0, "4! by recursion");

    // Seven events at t = 1..7 into a queue of 5: it keeps t = 3..7, whose sum BREAKPOINT computes.
    let mut columns = columns;
    for t in 1..=7 {
        let p = ir.procedural.as_deref().unwrap();
        columns[ir.slot("t").unwrap() as usize][0] = t as f64;
        Machine::new(&p.program, &mut columns, 0, &mut host)
            .run(p.program.net_receive.as_ref().unwrap())
            .unwrap();
    }
    assert_eq!(value(&ir, &columns, "n"), 5.0);
    let kept: Vec<f64> = (0..5).map(|k| value(&ir, &columns, &format!("times[{k}]"))).collect();
    assert_eq!(kept, [3.0, 4.0, 5.0, 6.0, 7.0]);
    let p = ir.procedural.as_deref().unwrap();
    Machine::new(&p.program, &mut columns, 0, &mut host)
        .run(p.program.breakpoint.as_ref().unwrap())
        .unwrap();
    assert_eq!(value(&ir, &columns, "total"), 25.0);
    // Each event ran the while loop to 3 and sent a self-event with that delay and flag 7.
    assert_eq!(host.sends, vec![(3.0, 7.0); 7]);
}

#[test]
fn an_index_outside_its_array_or_an_endless_loop_is_a_located_run_time_error() {
    let text = "NEURON { POINT_PROCESS Q }\nASSIGNED { a[3] n }\nINITIAL {\n  n = 3\n  a[n] = 1\n}\n";
    let ir = compiled(text);
    let e = run(&ir, |p| p.program.initial.as_ref(), &[], &mut Recorder::default()).unwrap_err();
    assert_eq!(e.to_string(), "index 3 of `a` is outside 0 to 2");
    assert_eq!(ir.procedural.as_deref().unwrap().locate(e.span()), "t.mod:5:3");

    let text = "NEURON { POINT_PROCESS Q }\nASSIGNED { n }\nINITIAL {\n  while (n < 1) { n = n * 2 }\n}\n";
    let ir = compiled(text);
    let e = run(&ir, |p| p.program.initial.as_ref(), &[], &mut Recorder::default()).unwrap_err();
    assert!(matches!(e, RunError::EndlessLoop { .. }), "{e}");
    assert_eq!(ir.procedural.as_deref().unwrap().locate(e.span()), "t.mod:4:3");

    let text = "NEURON { POINT_PROCESS Q }\nASSIGNED { n }\nINITIAL { n = f(1) }\nFUNCTION f(x) { f = f(x + 1) }\n";
    let ir = compiled(text);
    let e = run(&ir, |p| p.program.initial.as_ref(), &[], &mut Recorder::default()).unwrap_err();
    assert!(matches!(e, RunError::TooDeep { .. }), "{e}");
}

#[test]
fn a_procedural_mechanism_that_solves_states_or_uses_ions_is_refused_naming_both_constructs() {
    let e = errors(
        "NEURON { SUFFIX t USEION na READ ena WRITE ina }\nSTATE { s }\nASSIGNED { q a[2] }\n\
         BREAKPOINT { SOLVE d METHOD cnexp\n ina = s * a[q] }\nDERIVATIVE d { s' = -s }\n",
    );
    assert!(
        e.iter()
            .any(|m| m.contains("SOLVE in a mechanism that runs procedurally") && m.contains("t.mod:5")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|m| m.contains("an ion in a mechanism that runs procedurally")),
        "{e:#?}"
    );
    // Constant loops and indices still unroll into the graph.
    let ir = compiled(
        "NEURON { SUFFIX t }\nSTATE { s[2] }\nBREAKPOINT { SOLVE d METHOD cnexp }\n\
         DERIVATIVE d { FROM i = 0 TO 1 { s[i]' = -s[i] } }\n",
    );
    assert!(ir.procedural.is_none());
}

#[test]
fn exponential_and_normal_draws_have_their_distributions_moments() {
    let text = "NEURON { ARTIFICIAL_CELL R RANGE e, x }\nASSIGNED { e x }\n\
                INITIAL { set_seed(5) }\nNET_RECEIVE (w) {\n e = exprand(2)\n x = normrand(1, 3)\n}\n";
    let ir = compiled(text);
    let p = ir.procedural.as_deref().unwrap();
    let mut columns: Vec<Vec<f64>> = ir.slots.iter().map(|s| vec![s.default]).collect();
    let mut host = Recorder::default();
    Machine::new(&p.program, &mut columns, 0, &mut host)
        .run(p.program.initial.as_ref().unwrap())
        .unwrap();
    assert_eq!(host.state, 5, "set_seed reseeds the stream");
    let n = 200_000;
    let (mut e, mut e2, mut x, mut x2) = (0.0, 0.0, 0.0, 0.0);
    for _ in 0..n {
        Machine::new(&p.program, &mut columns, 0, &mut host)
            .run(p.program.net_receive.as_ref().unwrap())
            .unwrap();
        let (a, b) = (value(&ir, &columns, "e"), value(&ir, &columns, "x"));
        e += a;
        e2 += a * a;
        x += b;
        x2 += b * b;
    }
    let nf = n as f64;
    let (mean_e, var_e) = (e / nf, e2 / nf - (e / nf).powi(2));
    let (mean_x, var_x) = (x / nf, x2 / nf - (x / nf).powi(2));
    // Exponential of mean 2: variance 4; normal of mean 1, sd 3: variance 9. Standard errors of the means
    // are 2/√n = 0.0045 and 3/√n = 0.0067; the limits are 5 standard errors (and about 5 for the variances).
    assert!((mean_e - 2.0).abs() < 0.023, "{mean_e}");
    assert!((var_e - 4.0).abs() < 0.1, "{var_e}");
    assert!((mean_x - 1.0).abs() < 0.034, "{mean_x}");
    assert!((var_x - 9.0).abs() < 0.15, "{var_x}");
}

#[test]
fn random_streams_are_read_only_through_random_functions_and_reached_verbatim_is_refused() {
    let base = "NEURON { ARTIFICIAL_CELL r RANDOM s }\nASSIGNED { x }\nINITIAL { x = random_negexp(s) }\n";
    let ir = compiled(base);
    let p = ir.procedural.as_deref().unwrap();
    assert!(p.program.draws_random());
    assert!(
        p.reason.contains("`random_negexp` draws random numbers"),
        "{}",
        p.reason
    );
    let e = errors(&base.replace("random_negexp(s)", "s + 1"));
    assert!(
        e.iter().any(|m| m.contains("`s` is a RANDOM stream: it has no value")),
        "{e:?}"
    );
    let e = errors(&base.replace("random_negexp(s)", "random_negexp(x)"));
    assert!(e.iter().any(|m| m.contains("takes a RANDOM stream")), "{e:?}");
    let e = errors(&base.replace("random_negexp(s)", "random_uniform(s, 1)"));
    assert!(
        e.iter().any(|m| m.contains("takes 1 or 3 argument(s), given 2")),
        "{e:?}"
    );
    // VERBATIM in a procedure no block calls: accepted (a warning); called from INITIAL: refused.
    let hoc_only = format!("{base}PROCEDURE setup() {{\nVERBATIM\n return 0;\nENDVERBATIM\n}}\n");
    match compile("t.mod", &hoc_only) {
        Ok(c) => assert!(
            c.warnings
                .iter()
                .any(|w| w.message.contains("which no block of the mechanism calls")),
            "{:?}",
            c.warnings
        ),
        Err((_, d)) => panic!("{d:?}"),
    }
    let e = errors(&hoc_only.replace("x = random_negexp(s)", "x = random_negexp(s) setup()"));
    assert!(
        e.iter()
            .any(|m| m.contains("VERBATIM blocks (embedded C) are not supported")),
        "{e:?}"
    );
}
