//! Time stepping against closed forms: a single isopotential compartment's
//! backward-Euler and Crank-Nicolson recurrences, stimulus timing, parallel
//! cells, and the error raised when the state goes non-finite.

use approx::assert_relative_eq;
use rall::discretize::CvPolicy;
use rall::engine::Integrator;
use rall::mechanism::Catalogue;
use rall::morphology::{MorphologyBuilder, Point3};
use rall::simulation::SimulationError;
use rall::{Cell, RunOptions, Simulation};
use std::f64::consts::PI;

/// A sphere-equivalent soma (one CV) with a leak: an RC circuit.
fn rc_cell(g_leak: f64, e_leak: f64) -> Cell {
    let mut b = MorphologyBuilder::new();
    b.add_cylinder(None, Point3::new(0.0, 0.0, 0.0), 20.0, 10.0, 1).unwrap();
    let mut cell = Cell::new(b.finish().unwrap());
    cell.policy = CvPolicy::FixedPerBranch(1);
    cell.decor.cable.v_init_mv = e_leak;
    cell.paint("(all)", "pas", &[("g", g_leak), ("e", e_leak)]).unwrap();
    cell.probe_voltage("v", "(location 0 0.5)").unwrap();
    cell
}

#[test]
fn single_compartment_steps_follow_the_exact_be_and_cn_recurrences() {
    let (g, e, amp) = (1e-4, -65.0, 0.05);
    let area = 2.0 * PI * 10.0 * 20.0; // µm²
    let c_nf = 1e-5 * area;
    let g_us = 1e-2 * g * area;
    let (delay, duration, dt) = (1.0, 3.0, 0.025);
    for integrator in [Integrator::BackwardEuler, Integrator::CrankNicolson] {
        let mut cell = rc_cell(g, e);
        cell.place_current_clamp("(location 0 0.5)", delay, duration, amp)
            .unwrap();
        let mut sim = Simulation::single(&cell, &Catalogue::default()).unwrap();
        let options = RunOptions {
            t_stop_ms: 10.0,
            dt_ms: dt,
            sample_interval_ms: dt,
            integrator,
            celsius: 6.3,
        };
        let traces = sim.run(&options, |_| {}).unwrap();
        // Closed form per step: u' = a u + b I with u = v - e.
        let a = c_nf / dt;
        let (factor, gain) = match integrator {
            Integrator::BackwardEuler => (a / (a + g_us), 1.0 / (a + g_us)),
            Integrator::CrankNicolson => ((a - 0.5 * g_us) / (a + 0.5 * g_us), 1.0 / (a + 0.5 * g_us)),
        };
        let mut u = 0.0;
        let mut worst: f64 = 0.0;
        for (k, v) in traces.column("v").unwrap().iter().enumerate() {
            // Round-off only: eliminating the two end junctions, whose links are ~200x
            // stiffer than C/dt, costs a few digits over the 400 steps. Measured: 1.2e-11 (backward
            // Euler), 1.8e-12 (Crank-Nicolson); limit 83x.
            worst = worst.max(((*v - (e + u)) / (e + u)).abs());
            assert_relative_eq!(*v, e + u, max_relative = 1e-9);
            let t_mid = (k as f64 + 0.5) * dt;
            let i = if t_mid >= delay && t_mid < delay + duration {
                amp
            } else {
                0.0
            };
            u = factor * u + gain * i;
        }
        println!("{integrator:?}: the closed-form recurrence to {worst:.1e} relative");
    }
}

#[test]
fn crank_nicolson_converges_at_second_order_and_backward_euler_at_first() {
    // Error against the exact RC response at t = 5 ms, for two step sizes.
    let (g, e, amp) = (1e-4, -65.0, 0.05);
    let area = 2.0 * PI * 10.0 * 20.0;
    let (c_nf, g_us) = (1e-5 * area, 1e-2 * g * area);
    let exact = e + amp / g_us * (1.0 - (-5.0 * g_us / c_nf).exp());
    let error = |integrator, dt: f64| {
        let mut cell = rc_cell(g, e);
        cell.place_current_clamp("(location 0 0.5)", 0.0, 100.0, amp).unwrap();
        let mut sim = Simulation::single(&cell, &Catalogue::default()).unwrap();
        let options = RunOptions {
            t_stop_ms: 5.0,
            dt_ms: dt,
            sample_interval_ms: 5.0,
            integrator,
            celsius: 6.3,
        };
        let traces = sim.run(&options, |_| {}).unwrap();
        (traces.column("v").unwrap()[1] - exact).abs()
    };
    let be = error(Integrator::BackwardEuler, 0.1) / error(Integrator::BackwardEuler, 0.05);
    let cn = error(Integrator::CrankNicolson, 0.1) / error(Integrator::CrankNicolson, 0.05);
    assert!((be - 2.0).abs() < 0.1, "backward Euler error ratio {be}");
    assert!((cn - 4.0).abs() < 0.2, "Crank-Nicolson error ratio {cn}");
}

#[test]
fn cells_run_in_parallel_give_the_same_traces_as_alone() {
    let mut a = rc_cell(1e-4, -65.0);
    a.place_current_clamp("(location 0 0.5)", 1.0, 2.0, 0.1).unwrap();
    let mut b = rc_cell(3e-4, -70.0);
    b.place_current_clamp("(location 0 0.5)", 0.5, 5.0, -0.05).unwrap();
    let options = RunOptions {
        t_stop_ms: 10.0,
        dt_ms: 0.025,
        sample_interval_ms: 0.1,
        ..Default::default()
    };
    let catalogue = Catalogue::default();
    let cells = vec![("a".to_string(), a.clone()), ("b".to_string(), b.clone())];
    let together = Simulation::new(&cells, &catalogue)
        .unwrap()
        .run(&options, |_| {})
        .unwrap();
    assert_eq!(together.names, vec!["a.v", "b.v"]);
    for (name, cell) in [("a.v", a), ("b.v", b)] {
        let alone = Simulation::single(&cell, &catalogue)
            .unwrap()
            .run(&options, |_| {})
            .unwrap();
        assert_eq!(together.column(name).unwrap(), alone.column("v").unwrap());
    }
}

#[test]
fn a_blow_up_stops_the_run_and_names_the_cv_and_time() {
    let mut cell = rc_cell(1e-4, -65.0);
    cell.place_current_clamp("(location 0 0.5)", 2.0, 1.0, f64::MAX)
        .unwrap();
    cell.place_current_clamp("(location 0 0.5)", 2.0, 1.0, f64::MAX)
        .unwrap();
    let mut sim = Simulation::single(&cell, &Catalogue::default()).unwrap();
    let err = sim
        .run(
            &RunOptions {
                t_stop_ms: 5.0,
                ..Default::default()
            },
            |_| {},
        )
        .unwrap_err();
    let SimulationError::Engine { source, .. } = &err else {
        panic!("{err}")
    };
    let text = err.to_string();
    assert!(text.contains("CV 1 (branch 0 at 0.5000)"), "{text}");
    assert!(text.contains("t = 2.0000 ms"), "{text}");
    assert!(text.contains("the membrane current became -inf"), "{text}");
    assert!(text.starts_with("the membrane current"), "{text}");
    assert!(matches!(source, rall::engine::EngineError::NonFinite { .. }));
}

/// A calcium shell that empties itself at t = 0 makes eca infinite: the error names the reversal potential
/// and the concentrations behind it, not only the CV.
#[test]
fn a_non_finite_current_from_a_concentration_names_the_ion() {
    let dir = std::env::temp_dir().join(format!("rall-empty-shell-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("empty_shell.mod");
    std::fs::write(
        &file,
        "NEURON { SUFFIX empty_shell USEION ca READ ica WRITE cai }
STATE { cai (mM) }
ASSIGNED { ica (mA/cm2) }
INITIAL { cai = 0 }
BREAKPOINT { SOLVE states METHOD cnexp }
DERIVATIVE states { cai' = -ica }
",
    )
    .unwrap();
    let mut catalogue = Catalogue::default();
    catalogue.add_file(&file).unwrap();
    catalogue
        .add_file(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cahigh.mod"))
        .unwrap();
    let mut cell = rc_cell(1e-4, -65.0);
    cell.paint("(all)", "cahigh", &[("gbar", 0.001)]).unwrap();
    cell.paint("(all)", "empty_shell", &[]).unwrap();
    let err = Simulation::single(&cell, &catalogue)
        .unwrap()
        .run(&RunOptions::default(), |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("t = 0.0000 ms"), "{err}");
    assert!(
        err.contains("because eca = inf mV there (Nernst from cai = 0e0 mM, cao = 2e0 mM"),
        "{err}"
    );
}

/// INITIAL's `SOLVE ... STEADYSTATE sparse` puts a two-state scheme `a <-> b (kf, kb)` with
/// `CONSERVE a + b = total` where NEURON's rule puts it, from starting states that do not satisfy the
/// CONSERVE: one backward-Euler step of 1e9 ms with b's equation replaced by the CONSERVE, so
/// `a = total·kb/(1e-9 + kf + kb)`, within 1e-9 of the true steady state, which it then approaches.
#[test]
fn a_steady_state_initial_solves_the_kinetic_scheme_to_its_closed_form() {
    let dir = std::env::temp_dir().join(format!("rall-steady-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("twostate.mod");
    std::fs::write(
        &file,
        "NEURON { SUFFIX twostate }\nSTATE { a b }\nPARAMETER { kf = 0.3 (/ms) kb = 0.7 (/ms) total = 5 }\n\
         INITIAL { a = 0 b = 0 SOLVE scheme STEADYSTATE sparse }\nBREAKPOINT { SOLVE scheme METHOD sparse }\n\
         KINETIC scheme { ~ a <-> b (kf, kb) CONSERVE a + b = total }\n",
    )
    .unwrap();
    let mut catalogue = rall::mechanism::Catalogue::default();
    catalogue.add_file(&file).unwrap();
    let mut b = rall::morphology::MorphologyBuilder::new();
    b.add_cylinder(None, rall::morphology::Point3::new(0.0, 0.0, 0.0), 10.0, 10.0, 1)
        .unwrap();
    let mut cell = rall::Cell::new(b.finish().unwrap());
    cell.policy = rall::discretize::CvPolicy::FixedPerBranch(1);
    cell.paint("(all)", "twostate", &[]).unwrap();
    cell.probe_variable("a", "(location 0 0.5)", "twostate.a").unwrap();
    cell.probe_variable("b", "(location 0 0.5)", "twostate.b").unwrap();
    let options = rall::RunOptions {
        t_stop_ms: 10.0,
        dt_ms: 0.025,
        sample_interval_ms: 5.0,
        ..Default::default()
    };
    let traces = rall::Simulation::single(&cell, &catalogue)
        .unwrap()
        .run(&options, |_| {})
        .unwrap();
    let (a, b) = (traces.column("a").unwrap(), traces.column("b").unwrap());
    let a0 = 5.0 * 0.7 / (1e-9 + 0.3 + 0.7);
    println!(
        "steady state: a {:.2e} from the closed form, a + b {:.2e} from total",
        (a[0] - a0).abs(),
        (a[0] + b[0] - 5.0).abs()
    );
    // Measured: 4.4e-16 (round-off of 3.5) and 0; limits 2e-14 (45x).
    assert!(
        (a[0] - a0).abs() < 2e-14 && (a[0] + b[0] - 5.0).abs() < 2e-14,
        "a {}, b {}",
        a[0],
        b[0]
    );
    let a_star = 5.0 * 0.7 / (0.3 + 0.7);
    for (a, b) in a.iter().zip(b) {
        assert!((a - a_star).abs() < 4e-9 && (a + b - 5.0).abs() < 2e-14, "a {a}, b {b}");
    }
    assert!((a[2] - a_star).abs() < 1e-10, "a relaxes to the steady state: {}", a[2]);
}

/// An hh compartment driven to spike: the step-size warning appears where the run is far from its converged
/// result. Reference: the same run at dt = 0.005 ms. At dt = 0.2 ms (backward Euler) and 1 ms (Crank-Nicolson)
/// the spike count is wrong and a step changes V by more than 30 mV; at dt = 0.025 ms the count is right and
/// no warning is given.
#[test]
fn a_step_too_coarse_for_the_spikes_is_warned_about() {
    let spikes = |dt: f64, integrator: Integrator| -> (usize, Vec<String>, f64) {
        let mut cell = rc_cell(0.0, -65.0);
        cell.decor.paints.clear();
        cell.paint("(all)", "hh", &[]).unwrap();
        cell.place_current_clamp("(location 0 0.5)", 5.0, 40.0, 0.5).unwrap();
        let options = RunOptions {
            t_stop_ms: 50.0,
            dt_ms: dt,
            sample_interval_ms: dt,
            integrator,
            ..Default::default()
        };
        let mut sim = Simulation::single(&cell, &Catalogue::default()).unwrap();
        let traces = sim.run(&options, |_| {}).unwrap();
        let v = traces.column("v").unwrap();
        let count = v.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        (count, sim.accuracy_warnings(), sim.cells()[0].largest_step().change_mv)
    };
    let (reference, none, _) = spikes(0.005, Integrator::BackwardEuler);
    assert!(none.is_empty(), "{none:?}");
    let (fine, none, largest) = spikes(0.025, Integrator::BackwardEuler);
    println!("dt 0.005: {reference} spikes; dt 0.025: {fine} spikes, largest step {largest:.1} mV");
    // Measured: 5 spikes at both, largest step 7.5 mV; no warning.
    assert_eq!(fine, reference);
    assert!(none.is_empty(), "{none:?}");
    for (dt, integrator) in [(0.2, Integrator::BackwardEuler), (1.0, Integrator::CrankNicolson)] {
        let (coarse, warnings, largest) = spikes(dt, integrator);
        println!("dt {dt} ({integrator}): {coarse} spikes, largest step {largest:.1} mV");
        // Measured: 4 and 4 spikes (of 5), largest steps 33.2 and 173.2 mV.
        assert_ne!(coarse, reference, "{integrator}");
        assert_eq!(warnings.len(), 1, "{integrator}");
        assert!(
            warnings[0].contains("in one step") && warnings[0].contains(&format!("dt = {dt} ms")),
            "{}",
            warnings[0]
        );
    }
}
