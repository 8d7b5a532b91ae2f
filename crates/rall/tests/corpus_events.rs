//! PyNN 0.13.0's event-driven point processes, unchanged, against NEURON: self-events (`net_send` with
//! flags, from INITIAL and NET_RECEIVE), WATCH conditions, `net_event`, `state_discontinuity`, NET_RECEIVE
//! setting the membrane voltage, and per-stream NET_RECEIVE arguments with their own INITIAL block
//! (Tsodyks-Markram). Each runs on one leaky compartment in rall and in NEURON (the same files compiled by
//! nrnivmodl, fetched by `validation/corpus/fetch.sh`); the voltage and every state are compared over 200 ms.
//! `#[ignore]`d for a plain `cargo test` (needs NEURON in `.venv` and the corpus; `.ci/run` fetches both).

use crate::common::corpus;
use crate::common::neuron::{agreement, leaky_compartment, probe_states, range, run_both, worst_state_agreement};
use rall::Cell;
use rall::mechanism::Catalogue;
use std::path::PathBuf;

const FILES: [&str; 6] = [
    "izhikevich.mod",
    "adexp.mod",
    "refrac.mod",
    "gsfa_grr.mod",
    "reset.mod",
    "tmgsyn.mod",
];

/// The six files alone in a fixed folder (NEURON compiles a folder; fixed, so its build is cached).
fn mechanisms() -> (PathBuf, Catalogue) {
    let dir = std::env::temp_dir().join("rall-corpus-events");
    std::fs::create_dir_all(&dir).unwrap();
    let mut catalogue = Catalogue::default();
    for f in FILES {
        let from = corpus().join("pynn-0.13.0/pyNN/neuron/nmodl").join(f);
        let to = dir.join(f);
        if std::fs::read(&to).ok() != std::fs::read(&from).ok() {
            std::fs::copy(&from, &to).unwrap();
        }
        catalogue.add_file(&to).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    (dir, catalogue)
}

/// Membrane area of the compartment [µm²] (20 µm × 20 µm) and its leak [µS] at pas.g = 1e-4 S/cm².
const AREA_UM2: f64 = 400.0 * std::f64::consts::PI;
const LEAK_US: f64 = 1e-4 * AREA_UM2 * 1e-2;

/// A point process with its parameters, input event times [ms] and their weight.
type Placed<'a> = (&'a str, &'a [(&'a str, f64)], &'a [f64], f64);

/// One CV at -70 mV with a leak to -70 mV, a probe of its voltage, and the given point processes (with
/// their input events and weight) at its centre, each state probed.
fn compartment(catalogue: &Catalogue, processes: &[Placed], clamp_na: f64) -> Cell {
    let mut cell = leaky_compartment();
    if clamp_na != 0.0 {
        cell.place_current_clamp("(location 0 0.5)", 20.0, 150.0, clamp_na)
            .unwrap();
    }
    cell.probe_voltage("v", "(location 0 0.5)").unwrap();
    for (name, parameters, events, weight) in processes {
        cell.place_synapse("(location 0 0.5)", name, parameters, events, *weight)
            .unwrap();
        probe_states(&mut cell, catalogue, name, "(location 0 0.5)");
    }
    cell
}

#[test]
#[ignore = "needs NEURON in .venv and the corpus: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn pynns_event_driven_point_processes_run_in_rall_as_in_neuron() {
    let (dir, catalogue) = mechanisms();
    // Izhikevich's own capacitance Cm (1 pF) is GLOBAL in NEURON: left at its default.
    let izhikevich: &[(&str, f64)] = &[("vthresh", 30.0)];
    let adexp: &[(&str, f64)] = &[("GL", LEAK_US), ("EL", -70.0), ("a", 0.0005), ("b", 0.005)];
    let refrac: &[(&str, f64)] = &[("vthresh", -55.0), ("trefrac", 2.0)];
    let gsfa: &[(&str, f64)] = &[("vthresh", -55.0), ("q_r", 30.0), ("q_s", 2.0)];
    let tm: &[(&str, f64)] = &[("tau_rec", 200.0), ("tau_facil", 50.0), ("U", 0.2), ("e", 0.0)];
    let train: &[f64] = &[10.0, 15.0131, 20.0, 25.0, 30.0, 80.0, 81.0, 160.0];
    // Each case with its limits on the voltage [mV] and on the states (relative to their scale). Where a
    // current is nonlinear in v (Izhikevich's quadratic, AdExp's exponential), NEURON's conductance is a
    // finite difference over 1e-3 mV and rall's the exact derivative, so the traces part by more than
    // round-off; with NEURON's difference quotient (`conductance = "neuron"`, the last two cases) they agree as
    // the linear ones do.
    let mut quotient = catalogue.clone();
    quotient.set_neuron_conductance(true);
    let cases: Vec<(&str, Cell, f64, f64)> = vec![
        (
            "Izhikevich (WATCH, net_event, v set by NET_RECEIVE, input events)",
            compartment(&catalogue, &[("Izhikevich", izhikevich, &[5.0, 12.0], 4.0)], 0.13),
            // Measured: 1.8e-5 mV (17 spikes within 4.2e-7 ms), states 5.9e-8; limits 56x, 17x.
            1e-3,
            1e-6,
        ),
        (
            "AdExpIF (self-events with flags, WATCH from INITIAL's net_send)",
            compartment(&catalogue, &[("AdExpIF", adexp, &[], 0.0)], 0.05),
            // Measured: 1.1e-3 mV (at the exponential upstroke), w 6.8e-8; limits 45x, 15x.
            5e-2,
            1e-6,
        ),
        (
            "ResetRefrac + GsfaGrr (state_discontinuity, two watches)",
            compartment(
                &catalogue,
                &[("ResetRefrac", refrac, &[], 0.0), ("GsfaGrr", gsfa, &[], 0.0)],
                0.05,
            ),
            // Measured: 1.2e-9 mV, states 5.1e-14; limits 83x, 20x.
            1e-7,
            1e-12,
        ),
        (
            "Reset (no BREAKPOINT; input events set v, a self-event 1e-12 ms later resets it)",
            compartment(&catalogue, &[("Reset", &[], &[40.0, 90.5, 140.0], 1.0)], 0.0),
            // Measured: 1.3e-9 mV (no states); limit 77x.
            1e-7,
            0.0,
        ),
        (
            "tmgsyn (per-stream arguments with NET_RECEIVE's INITIAL)",
            compartment(&catalogue, &[("tmgsyn", tm, train, 0.005)], 0.0),
            // Measured: 8.3e-10 mV, g 7.0e-16; limits 120x, 140x.
            1e-7,
            1e-13,
        ),
        (
            "Izhikevich with NEURON's conductance",
            compartment(&catalogue, &[("Izhikevich", izhikevich, &[5.0, 12.0], 4.0)], 0.13),
            // Measured: 1.7e-9 mV, states 3.3e-12; limits 59x, 30x.
            1e-7,
            1e-10,
        ),
        (
            "AdExpIF with NEURON's conductance",
            compartment(&catalogue, &[("AdExpIF", adexp, &[], 0.0)], 0.05),
            // Measured: 2.6e-8 mV, states 2.0e-12; limits 38x, 50x.
            1e-6,
            1e-10,
        ),
    ];
    let mut failures = Vec::new();
    for (k, (what, cell, v_limit, state_limit)) in cases.iter().enumerate() {
        let catalogue = if what.contains("NEURON's conductance") {
            &quotient
        } else {
            &catalogue
        };
        let (traces, neuron) = run_both(cell, catalogue, &dir, 200.0, &format!("events-{k}"));
        let v = agreement("v", &traces, &neuron);
        let state = worst_state_agreement(&traces, &neuron);
        let (lo, hi) = range(&traces, "v");
        println!(
            "{what}: {} crossings of -20 mV, v from {lo:.2} to {hi:.2} mV; voltage within {:.1e} mV, states \
             within {state:.1e} of their scale",
            v.spikes, v.max
        );
        assert!(hi - lo > 5.0, "{what}: the voltage should move ({lo} to {hi} mV)");
        // NaN-aware: a NaN fails.
        if !(v.max <= *v_limit && state <= *state_limit) {
            failures.push(format!(
                "{what}: voltage {:.2e} mV (limit {v_limit:e}), states {state:.2e} (limit {state_limit:e})",
                v.max
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
