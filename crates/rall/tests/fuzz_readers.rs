//! A mutation fuzzer over the readers (ASC, SWC, NeuroML2, labels, NMODL, model files): real inputs, mutated with a seeded
//! generator, must give a value or a typed error, never a panic. The reference is the contract itself:
//! every reader returns `Result`. CI runs a fixed budget (`RALL_FUZZ_ITERATIONS`, default 20,000 inputs a
//! reader); `bash validation/fuzz/run.sh N` runs N a reader. A panicking input is written to
//! `target/fuzz-crash-<reader>.txt` to become a regression test.

use crate::common::repo_path;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Fragments a mutation splices in: the tokens these formats are made of, and hostile numbers.
const FRAGMENTS: &[&str] = &[
    "(",
    ")",
    "|",
    "<",
    ">",
    ",",
    "\"",
    ";",
    "\n",
    "-",
    "+",
    ".",
    "e",
    "1e308",
    "-1e308",
    "1e-320",
    "0",
    "-0",
    "nan",
    "inf",
    "4294967299",
    "-1",
    "9999999999999999999",
    "(Dendrite)",
    "(Axon)",
    "(\"CellBody\"",
    "Normal",
    "(Cross (Name \"m\") (1 2 3 4))",
    "(1 2 3 0)",
    "( 0 0 0 1)",
    "{",
    "}",
    "=",
    "*",
    "/",
    "^",
    "exp(",
    "FROM i = 0 TO 3 {",
    "STATE { x[2] }",
    "(join ",
    "(tag 3)",
    "(location 0 0.5)",
    "(uniform (all) 0 3 1)",
    "<",
    "/>",
    "</segment>",
    "<segment id=\"7\"><parent segment=\"3\" fractionAlong=\"0.5\"/>",
    "<proximal x=\"1\" y=\"2\" z=\"3\" diameter=\"0.5\"/>",
    "<member segment=\"0\"/>",
    "<include segmentGroup=\"soma_group\"/>",
    " neuroLexId=\"sao864921383\"",
    "<![CDATA[",
    "<!-- c -->",
    "&amp;",
];

fn iterations() -> usize {
    std::env::var("RALL_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

fn mutate(rng: &mut StdRng, seed: &str) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let len = bytes.len().max(1);
        let at = rng.random_range(0..len).min(bytes.len());
        match rng.random_range(0..6) {
            0 if !bytes.is_empty() => {
                let end = (at + rng.random_range(1..64)).min(bytes.len());
                bytes.drain(at..end);
            }
            1 if !bytes.is_empty() => {
                let end = (at + rng.random_range(1..256)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                let to = rng.random_range(0..=bytes.len());
                bytes.splice(to..to, copy);
            }
            2 if !bytes.is_empty() => {
                let i = at.min(bytes.len() - 1);
                bytes[i] = rng.random_range(0x20..0x7f);
            }
            _ => {
                let f = FRAGMENTS[rng.random_range(0..FRAGMENTS.len())];
                bytes.splice(at..at, f.bytes());
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Runs `read` on mutations of `seeds`; panics (after writing the input) if any mutation panics.
fn fuzz(name: &str, seeds: &[String], read: impl Fn(&str)) {
    let n = iterations();
    let mut rng = StdRng::seed_from_u64(0x5eed ^ name.len() as u64);
    let mut crash = None;
    for i in 0..n {
        let input = mutate(&mut rng, &seeds[i % seeds.len()]);
        if catch_unwind(AssertUnwindSafe(|| read(&input))).is_err() {
            crash = Some(input);
            break;
        }
    }
    if let Some(input) = crash {
        let path = repo_path(&format!("target/fuzz-crash-{name}.txt"));
        std::fs::write(&path, &input).unwrap();
        // Re-run outside catch_unwind so the panic message is shown.
        read(&input);
        panic!("{name}: a mutated input panicked; written to {}", path.display());
    }
    println!("{name}: {n} mutated inputs, no panic");
}

const ASC_SEED: &str = r#"; V3 text file written for MicroBrightField products.
(ImageCoords Filename "C:\x.jpg" Merge 65535 65535 65535 0 Coords 1.8 1.8 0 0 0)
("CellBody"
  (Color RGB (255, 255, 128))
  (CellBody)
  ( 10 0 0 0.5) ( 7 5 0 0.5) ( 0 6 0 0.5) (-7 5 0 0.5) (-10 0 0 0.5) (-7 -5 0 0.5) (0 -6 0 0.5) (7 -5 0 0.5)
)  ;  End of contour
( (Color Yellow)
  (Axon)
  ( 0 -5 0 1.5) ( 0 -20 0 1.2) (0 -20 0 1.2)
  (
    ( 1 -21 0 1) ( 10 -30 0 1) <(Class 1 "thin") (11 -31 0 0.5)> Normal
  |
    (Cross (Color White) (Name "Marker 3") ( 5 5 5 1))
    ( -1 -21 0 1) ( -10 -30 0 1)
    (Dot (Name "Marker 1") (-10 -30 0 1))
    Incomplete
  )
)
( (Color Green) (Dendrite) (0 5 0 2) (0 20 1 2) ( (0 21 1 1) | (1 21 1 1) (2 30 1 1) ) )
( (Color Red) (Font "Arial" 10) (3 3 0 0) "a text" )
(Set "cells" ("Outline" (1 1 0 1) (2 2 0 1) (3 1 0 1)))
"#;

#[test]
fn the_asc_reader_never_panics_on_mutated_input() {
    rall::morphology::load_asc_text(ASC_SEED, "seed.asc").unwrap();
    fuzz("asc", &[ASC_SEED.to_string()], |text| {
        let _ = rall::morphology::load_asc_text(text, "fuzz.asc");
    });
}

#[test]
fn the_swc_reader_never_panics_on_mutated_input() {
    let c4a = std::fs::read_to_string(repo_path("examples/data/C4A.swc")).unwrap();
    // Mutations land anywhere: use C4A's first 120 lines and a one-point-soma cell as seeds.
    let head: String = c4a.lines().take(120).map(|l| format!("{l}\n")).collect();
    let small = "1 1 0 0 0 5 -1\n2 3 0 5 0 1 1\n3 3 0 10 0 1 2\n4 2 0 -5 0 0.5 1\n".to_string();
    fuzz("swc", &[head, small], |text| {
        let _ = rall::morphology::load_swc_text(text, "fuzz.swc");
    });
}

/// A NeuroML2 cell without cables (paths, subtrees, fractionAlong 0.5, missing proximal points), written
/// for the fuzzer; the hand-made fixture with cables is the other seed.
const NEUROML_SEED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<neuroml xmlns="http://www.neuroml.org/schema/neuroml2" id="seed">
  <cell id="seed">
    <morphology id="m">
      <segment id="0" name="soma"><proximal x="0" y="0" z="0" diameter="10"/><distal x="0" y="10" z="0" diameter="10"/></segment>
      <segment id="1" name="dend"><parent segment="0" fractionAlong="0.5"/><distal x="20" y="5" z="0" diameter="2"/></segment>
      <segment id="3" name="tip"><parent segment="1"/><distal x="40" y="5" z="1e-3" diameter="1.5"/></segment>
      <segment id="2" name="axon"><parent segment="0" fractionAlong="0"/><proximal x="0" y="0" z="0" diameter="1"/><distal x="0" y="-50" z="0" diameter="1"/></segment>
      <segmentGroup id="soma_group" neuroLexId="GO:0043025"><member segment="0"/></segmentGroup>
      <segmentGroup id="dendrite_group"><subTree><from segment="1"/></subTree></segmentGroup>
      <segmentGroup id="apical"><path><from segment="1"/><to segment="3"/></path></segmentGroup>
      <segmentGroup id="axon_group"><include segmentGroup="axons"/></segmentGroup>
      <segmentGroup id="axons"><member segment="2"/><property tag="numberInternalDivisions" value="2"/></segmentGroup>
    </morphology>
  </cell>
</neuroml>
"#;

#[test]
fn the_neuroml_reader_never_panics_on_mutated_input() {
    let fixture =
        std::fs::read_to_string(repo_path("crates/rall/tests/fixtures/neuroml/two_dendrites.morph.nml")).unwrap();
    let seeds = [NEUROML_SEED.to_string(), fixture];
    for seed in &seeds {
        rall::morphology::load_neuroml_text(seed, "seed.nml").unwrap();
    }
    // How many mutations still read into a morphology: the fuzzer gets past the XML parser.
    let read = std::cell::Cell::new(0usize);
    fuzz("neuroml", &seeds, |text| {
        if rall::morphology::load_neuroml_text(text, "fuzz.nml").is_ok() {
            read.set(read.get() + 1);
        }
    });
    println!("neuroml: {} of them read into a morphology", read.get());
}

#[test]
fn labels_never_panic_on_mutated_input() {
    let m = rall::morphology::load_swc(&repo_path("examples/data/C4A.swc")).unwrap();
    let dictionary = rall::labels::LabelDictionary::default();
    let seeds: Vec<String> = [
        "(join (tag 1) (intersect (tag 3) (distal-interval (root) 50)))",
        "(complement (region \"dend\"))",
        "(location 0 0.5)",
        "(uniform (tag 3) 0 9 1)",
        "(distal (proximal-interval (terminal) 20))",
        "(sum (location 1 1) (on-branches 0.5))",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    fuzz("label", &seeds, |text| {
        let _ = dictionary.region(&m, text);
        let _ = dictionary.locset(&m, text);
    });
}

#[test]
fn the_nmodl_front_end_never_panics_on_mutated_input() {
    let mut seeds: Vec<String> = ["hh.mod", "exp2syn.mod", "io_soma.mod", "ou_drive.mod", "gap.mod"]
        .iter()
        .map(|f| std::fs::read_to_string(repo_path(&format!("mechanisms/{f}"))).unwrap())
        .collect();
    // The event side, arrays with FROM loops, and a steady-state INITIAL (written for the fuzzer).
    seeds.push(
        "NEURON { POINT_PROCESS w NONSPECIFIC_CURRENT i RANGE th }\nPARAMETER { th = -50 (mV) g = 1 (uS) }\n\
         ASSIGNED { v (mV) i (nA) on }\nINITIAL { on = 0 net_send(0, 1) }\nBREAKPOINT { i = on*g*(v + 60) }\n\
         NET_RECEIVE (w, n) {\n INITIAL { n = 0 }\n if (flag == 1) { WATCH (v > th) 2 } else if (flag == 2) {\n\
         net_event(t) on = 1 net_send(2, 3) n = n + 1 } else if (flag == 3) { on = 0 } else { v = v + w }\n}\n"
            .into(),
    );
    seeds.push(
        "NEURON { SUFFIX sh USEION ca READ cao WRITE cai }\nDEFINE N 4\nPARAMETER { d = 0.6 kf = 1 kb = 2 }\n\
         STATE { c[N] (mM) p q }\nASSIGNED { vol[N] cao (mM) cai (mM) }\n\
         INITIAL { FROM i = 0 TO N-1 { vol[i] = i + 1 c[i] = 1e-4 } SOLVE k STEADYSTATE sparse }\n\
         BREAKPOINT { SOLVE k METHOD sparse }\nKINETIC k {\n COMPARTMENT i, vol[i] {c}\n\
         FROM i = 0 TO N-2 { ~ c[i] <-> c[i+1] (d, d) }\n ~ c[0] + p <-> q (kf, kb)\n CONSERVE p + q = 1\n\
         cai = c[0]\n}\n"
            .into(),
    );
    // An ARTIFICIAL_CELL with net_move (after NEURON's IntervalFire).
    seeds.push(
        "NEURON { ARTIFICIAL_CELL f RANGE tau }\nPARAMETER { tau = 5 (ms) }\nASSIGNED { m t0 (ms) }\n\
         INITIAL { m = 0 t0 = t net_send(tau, 1) }\nNET_RECEIVE (w) {\n m = m*exp(-(t - t0)/tau) t0 = t\n\
         if (flag == 0) { m = m + w if (m > 1) { m = 0 net_event(t) } net_move(t + tau) } else {\n\
         net_event(t) net_send(tau, 1) }\n}\n"
            .into(),
    );
    // A procedural mechanism (a queue: run-time FROM bounds and indices, `while`, recursion, random draws).
    seeds.push(
        "NEURON { POINT_PROCESS q NONSPECIFIC_CURRENT i }\nDEFINE M 8\nPARAMETER { tau = 2 (ms) }\n\
         ASSIGNED { v (mV) i (nA) n at[M] (ms) }\nINITIAL { n = 0 set_seed(3) }\n\
         BREAKPOINT { LOCAL k, g\n g = 0\n FROM k = 0 TO n - 1 { g = g + exp(-(t - at[k])/tau) }\n i = g*(v + 10) }\n\
         NET_RECEIVE (w) { LOCAL j\n j = 0\n while (j < 2 && scop_random() < 0.9) { j = j + 1 }\n\
         if (n < M) { at[n] = t + exprand(1)*fact(j) n = n + 1 } }\n\
         FUNCTION fact(x) { if (x <= 1) { fact = 1 } else { fact = x*fact(x - 1) } }\n"
            .into(),
    );
    // NEURON 9's RANDOM streams, and VERBATIM in a procedure no block calls (netstim.mod's pattern).
    seeds.push(
        "NEURON { ARTIFICIAL_CELL r RANDOM s1, s2 RANGE m }\nPARAMETER { m = 5 (ms) }\nASSIGNED { x }\n\
         INITIAL { random_setseq(s1, 2) x = random_uniform(s2, 1, 3) net_send(m*random_negexp(s1), 1) }\n\
         NET_RECEIVE (w) { net_event(t) net_send(random_negexp(s1, m) + random_normal(s2, 1, 0.1)^2, 1) }\n\
         PROCEDURE hoc_only() {\nVERBATIM\n return 0;\nENDVERBATIM\n}\n"
            .into(),
    );
    // LINEAR and NONLINEAR blocks.
    seeds.push(
        "NEURON { SUFFIX lin NONSPECIFIC_CURRENT i }\nPARAMETER { g = 0.001 (S/cm2) }\nSTATE { a b u }\n\
         ASSIGNED { v (mV) i (mA/cm2) }\nINITIAL { u = 1 SOLVE nl }\nBREAKPOINT { SOLVE eq i = g*a*u*(v + 70) }\n\
         LINEAR eq { ~ exp(v/20)*a - b = 0\n ~ a + b = 1 }\nNONLINEAR nl SOLVEFOR u { ~ u*u*u + u = 2 }\n"
            .into(),
    );
    for seed in &seeds[4..] {
        assert!(
            rall_nmodl::compile("seed.mod", seed).is_ok(),
            "a seed must compile: {seed}"
        );
    }
    fuzz("nmodl", &seeds, |text| {
        let _ = rall_nmodl::compile("fuzz.mod", text);
    });
}

/// Hostile inputs found by hand or by the fuzzer, each a regression test: an error, not a crash, a wrap or
/// an absurd allocation.
#[test]
fn hostile_sizes_are_errors() {
    let m = rall::morphology::load_swc(&repo_path("examples/data/C4A.swc")).unwrap();
    let dictionary = rall::labels::LabelDictionary::default();
    // Found by the fuzzer (it ran out of memory): a uniform locset of 1e8 (or 5e9) draws.
    for text in [
        "(uniform (all) 0 100000000 1)",
        "(uniform (all) 5000000000 5000000000 1)",
    ] {
        let e = dictionary.locset(&m, text).unwrap_err();
        assert!(e.to_string().contains("at most 1000000"), "{text}: {e}");
    }
    // Tags above 2^31 used to wrap around (4294967299 became tag 3).
    let e = dictionary.region(&m, "(tag 4294967299)").unwrap_err();
    assert!(e.to_string().contains("32 bits"), "{e}");
    let e = rall::morphology::load_swc_text("1 4294967297 0 0 0 5 -1\n", "big.swc").unwrap_err();
    assert!(e.to_string().starts_with("big.swc:1: column 2 (type)"), "{e}");
    // Found by the model-file fuzzer (it asked for 972 GB): a dendrite of 2.4e12 µm at 20 µm per CV.
    let text = std::fs::read_to_string(repo_path("examples/hh_tree.toml"))
        .unwrap()
        .replacen("length = 200.0", "length = 2429496729900.0", 1);
    let catalogue = rall::mechanism::Catalogue::default();
    let e = rall::model::parse_model(&text, "big.toml", &repo_path("examples"), &catalogue).unwrap_err();
    assert!(e.to_string().contains("1.215e11 CVs"), "{e}");
}

/// Model files (a network, gap-coupled cells with POINTERs, a cell with parameters): mutated text is read
/// into cells and run options, or refused with an error, never a panic; what is read is then built and run
/// for 20 steps (with its `[[parameter]]` sensitivities), ending in traces or an error, never a panic.
#[test]
fn model_files_never_panic() {
    let seeds: Vec<String> = ["ring.toml", "gap_junction.toml", "hh_tree.toml"]
        .iter()
        .map(|f| std::fs::read_to_string(repo_path(&format!("examples/{f}"))).unwrap())
        .collect();
    let catalogue = rall::mechanism::Catalogue::default();
    let base = repo_path("examples");
    for seed in &seeds {
        rall::model::parse_model(seed, "seed.toml", &base, &catalogue).unwrap();
    }
    let (read, ran) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    fuzz("model", &seeds, |text| {
        let Ok(model) = rall::model::parse_model(text, "fuzz.toml", &base, &catalogue) else {
            return;
        };
        read.set(read.get() + 1);
        // A few steps of what was read (more would be time, not coverage); a mutated count of thousands of
        // cells is read but not run.
        let cvs: f64 = model.cells.iter().map(|(_, c)| c.cv_count()).sum();
        if cvs > 5_000.0 {
            return;
        }
        let options = rall::RunOptions {
            t_stop_ms: 20.0 * model.options.dt_ms,
            ..model.options
        };
        if let Ok(mut simulation) = model.simulation(&model.cells, &model.parameters)
            && simulation.run(&options, |_| {}).is_ok()
        {
            ran.set(ran.get() + 1);
        }
    });
    println!(
        "model: {} mutated files read, {} of them ran 20 steps",
        read.get(),
        ran.get()
    );
    assert!(
        ran.get() > 0,
        "no mutated model ran: the simulation half of this test tested nothing"
    );
}
