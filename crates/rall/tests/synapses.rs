//! Point processes and input events: ExpSyn's and Exp2Syn's conductances after
//! events against the analytic solutions of their kinetics, and the event timing.

use rall::discretize::CvPolicy;
use rall::mechanism::Catalogue;
use rall::morphology::{MorphologyBuilder, Point3};
use rall::{Cell, RunOptions, Simulation};

fn soma_with(mechanism: &str, parameters: &[(&str, f64)], events: &[f64], weight: f64) -> rall::Traces {
    let mut b = MorphologyBuilder::new();
    b.add_cylinder(None, Point3::new(0.0, 0.0, 0.0), 20.0, 10.0, 1).unwrap();
    let mut cell = Cell::new(b.finish().unwrap());
    cell.policy = CvPolicy::FixedPerBranch(1);
    cell.decor.cable.v_init_mv = -65.0;
    cell.paint("(all)", "pas", &[("g", 1e-4), ("e", -65.0)]).unwrap();
    cell.place_synapse("(location 0 0.5)", mechanism, parameters, events, weight)
        .unwrap();
    cell.probe_voltage("v", "(location 0 0.5)").unwrap();
    cell.probe_variable("g", "(location 0 0.5)", &format!("{mechanism}.g"))
        .unwrap();
    let options = RunOptions {
        t_stop_ms: 60.0,
        dt_ms: 0.025,
        sample_interval_ms: 0.025,
        ..Default::default()
    };
    Simulation::single(&cell, &Catalogue::default())
        .unwrap()
        .run(&options, |_| {})
        .unwrap()
}

#[test]
fn expsyn_conductance_decays_exactly_after_each_event() {
    let (tau, w) = (2.0, 0.005);
    let events = [10.0, 20.5, 31.0];
    let traces = soma_with("ExpSyn", &[("tau", tau), ("e", 0.0)], &events, w);
    let g = traces.column("g").unwrap();
    let mut worst: f64 = 0.0;
    for (k, &t) in traces.time_ms.iter().enumerate() {
        // Events are delivered at the start of the step that begins at their time.
        let expected: f64 = events
            .iter()
            .filter(|&&te| t > te + 1e-9)
            .map(|te| w * (-(t - te) / tau).exp())
            .sum();
        worst = worst.max((g[k] - expected).abs() / w);
        assert!(
            (g[k] - expected).abs() <= 1e-12 + 1e-9 * expected,
            "t = {t}: g = {} vs {expected}",
            g[k]
        );
    }
    println!("ExpSyn: the analytic conductance to {worst:.1e} of the weight");
    // Measured: 1.4e-15 of the weight; limit 71x.
    assert!(worst < 1e-13, "{worst:e} of the weight");
    let v = traces.column("v").unwrap();
    let peak = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!(peak > -64.0, "the events should depolarise the soma (peak {peak} mV)");
}

#[test]
fn exp2syn_peaks_at_the_weight_with_its_two_time_constants() {
    let (tau1, tau2, w) = (0.5, 5.0, 0.004);
    let traces = soma_with("Exp2Syn", &[("tau1", tau1), ("tau2", tau2), ("e", 0.0)], &[10.0], w);
    let g = traces.column("g").unwrap();
    let tp = tau1 * tau2 / (tau2 - tau1) * (tau2 / tau1).ln();
    let factor = 1.0 / ((-tp / tau2).exp() - (-tp / tau1).exp());
    // g = B - A is computed in BREAKPOINT, from the states at the start of each step
    // (as in NEURON), so the value sampled at t belongs to the states at t - dt.
    let mut worst: f64 = 0.0;
    for (k, &t) in traces.time_ms.iter().enumerate() {
        let s = t - 0.025 - 10.0;
        let expected = if s > 1e-9 {
            w * factor * ((-s / tau2).exp() - (-s / tau1).exp())
        } else {
            0.0
        };
        worst = worst.max((g[k] - expected).abs() / w);
        assert!(
            (g[k] - expected).abs() <= 1e-12 + 1e-9 * expected.abs(),
            "t = {t}: g = {} vs {expected}",
            g[k]
        );
    }
    println!("Exp2Syn: the analytic conductance to {worst:.1e} of the weight");
    // Measured: 2.6e-15 of the weight; limit 38x.
    assert!(worst < 1e-13, "{worst:e} of the weight");
    let peak = g.iter().copied().fold(0.0, f64::max);
    assert!((peak - w).abs() < 1e-4 * w, "peak {peak} vs weight {w}");
}

#[test]
fn painting_a_point_process_or_placing_a_density_mechanism_is_an_error() {
    let mut b = MorphologyBuilder::new();
    b.add_cylinder(None, Point3::new(0.0, 0.0, 0.0), 20.0, 10.0, 1).unwrap();
    let mut cell = Cell::new(b.finish().unwrap());
    cell.paint("(all)", "ExpSyn", &[]).unwrap();
    let e = Simulation::single(&cell, &Catalogue::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("POINT_PROCESS"), "{e}");
    let mut cell = Cell::new(cell.morphology.clone());
    cell.place_synapse("(location 0 0.5)", "hh", &[], &[1.0], 1.0).unwrap();
    let e = Simulation::single(&cell, &Catalogue::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("density mechanism"), "{e}");
}
