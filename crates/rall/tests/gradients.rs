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
/// The step is chosen per parameter, as usual for finite differences: Richardson-extrapolated central
/// differences at relative steps 1e-5 to 1e-2 are compared with their neighbours, and the most
/// consistent pair gives the reference and its uncertainty (round-off dominates small steps,
/// truncation large ones). The exact value must agree to 1e-6 relative, or within that uncertainty
/// (which matters only for gradients near the simulation's round-off floor, such as the inferior
/// olive's soma Kdr conductance, which barely opens below threshold).
fn check(name: &str, cell: &Cell, catalogue: &Catalogue, options: &RunOptions, specs: &[ParameterSpec], probe: &str) {
    let exact = simulate(cell, catalogue, options, specs);
    let v = exact.column(probe).unwrap();
    for spec in specs {
        let difference = |step: f64| {
            let plus = simulate(
                &perturbed(cell, catalogue, spec, 1.0 + step).unwrap(),
                catalogue,
                options,
                &[],
            );
            let minus = simulate(
                &perturbed(cell, catalogue, spec, 1.0 - step).unwrap(),
                catalogue,
                options,
                &[],
            );
            let (vp, vm) = (plus.column(probe).unwrap(), minus.column(probe).unwrap());
            let trace: Vec<f64> = vp.iter().zip(vm).map(|(a, b)| (a - b) / (2.0 * step)).collect();
            (
                trace,
                (loss(vp, &plus.time_ms) - loss(vm, &minus.time_ms)) / (2.0 * step),
            )
        };
        let richardson = |h: f64| {
            let ((t1, g1), (t2, g2)) = (difference(h), difference(2.0 * h));
            let trace: Vec<f64> = t1.iter().zip(&t2).map(|(a, b)| (4.0 * a - b) / 3.0).collect();
            (trace, (4.0 * g1 - g2) / 3.0)
        };
        let estimates: Vec<(Vec<f64>, f64)> = STEPS.into_iter().map(richardson).collect();
        let pair = (0..STEPS.len() - 1).min_by(|&a, &b| {
            let d = |k: usize| (estimates[k].1 - estimates[k + 1].1).abs();
            d(a).total_cmp(&d(b))
        });
        let k = pair.unwrap();
        let (fd, fd_gradient) = (&estimates[k + 1].0, estimates[k + 1].1);
        let gradient_uncertainty = (estimates[k].1 - fd_gradient).abs();
        let trace_uncertainty = estimates[k]
            .0
            .iter()
            .zip(fd)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let tangent = exact.tangent(probe, &spec.label()).unwrap();
        let scale = fd.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let worst = tangent.iter().zip(fd).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        // The loss gradient: dL/dθ = mean((v - target) dv/dθ).
        let gradient = v
            .iter()
            .zip(&exact.time_ms)
            .zip(tangent)
            .map(|((v, t), d)| (v - target(*t)) * d)
            .sum::<f64>()
            / v.len() as f64;
        let off = (gradient - fd_gradient).abs();
        let relative = off / fd_gradient.abs().max(1e-300);
        println!(
            "{name} d{probe}/d{}: trace max |exact - FD| {worst:.2e} (of max {scale:.3e}); dL/dθ {gradient:.9e} vs FD {fd_gradient:.9e} (relative {relative:.1e}; FD step {:.0e}, its uncertainty {:.1e} relative)",
            spec.label(),
            STEPS[k + 1],
            gradient_uncertainty / fd_gradient.abs().max(1e-300)
        );
        assert!(
            worst <= 1e-5 * scale + 1e-9 || worst <= trace_uncertainty,
            "{name} {}: trace sensitivity off by {worst} (scale {scale}, FD uncertainty {trace_uncertainty})",
            spec.label()
        );
        // What the differences' trace uncertainty alone allows in the loss gradient.
        let floor = trace_uncertainty
            * v.iter()
                .zip(&exact.time_ms)
                .map(|(v, t)| (v - target(*t)).abs())
                .sum::<f64>()
            / v.len() as f64;
        assert!(
            relative < 1e-6 || off < 1e-9 || off <= 3.0 * gradient_uncertainty || off <= floor,
            "{name} {}: gradient {gradient} vs {fd_gradient} (FD uncertainty {gradient_uncertainty})",
            spec.label()
        );
    }
}

/// Relative steps tried for each parameter.
const STEPS: [f64; 4] = [1e-5, 1e-4, 1e-3, 1e-2];

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

#[test]
fn hh_tree_gradients_match_finite_differences_on_soma_and_dendrites() {
    let cell = rall::zoo::hh_tree(10, 1.0);
    let mut specs = Vec::new();
    for region in ["soma", "dend"] {
        for p in ["gnabar", "gkbar", "gl", "el"] {
            specs.push(multiplier(&format!("hh.{p}"), Some(region)));
        }
    }
    let options = RunOptions {
        t_stop_ms: 40.0,
        dt_ms: 0.025,
        sample_interval_ms: 0.1,
        ..Default::default()
    };
    check("hh tree", &cell, &Catalogue::default(), &options, &specs, "dend_tip");
}

#[test]
fn inferior_olive_gradients_match_finite_differences_for_all_twelve_conductances() {
    let catalogue = Catalogue::default();
    let model = rall::model::load_model(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/io_c4a.toml"),
        &catalogue,
    )
    .unwrap();
    let cell = &model.cells[0].1;
    let conductances = rall::zoo::IO_CONDUCTANCES;
    let specs: Vec<ParameterSpec> = conductances.iter().map(|(n, r)| multiplier(n, Some(r))).collect();
    let options = RunOptions {
        t_stop_ms: 300.0,
        dt_ms: 0.025,
        sample_interval_ms: 1.0,
        ..Default::default()
    };
    check("inferior olive", cell, &catalogue, &options, &specs, "soma");
}

#[test]
fn kinetic_scheme_calcium_and_synapse_gradients_match_finite_differences() {
    // A two-state KINETIC channel (solved implicitly), a calcium current and a calcium shell that
    // writes cai (so eca follows Nernst), and an ExpSyn with scheduled events.
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut catalogue = Catalogue::default();
    for f in ["kinetic_k.mod", "cahigh.mod", "cadecay.mod"] {
        catalogue.add_file(&dir.join(f)).unwrap();
    }
    let mut cell = rall::zoo::hh_tree(1, 0.15);
    cell.paint("soma", "kinetic_k", &[("gbar", 0.002)]).unwrap();
    cell.paint("(all)", "cahigh", &[("gbar", 0.0005)]).unwrap();
    cell.paint("(all)", "cadecay", &[("tau", 30.0)]).unwrap();
    cell.place_synapse(
        "(location 1 0.5)",
        "ExpSyn",
        &[("tau", 2.0)],
        &[15.0, 25.0, 26.0],
        0.004,
    )
    .unwrap();
    cell.probe_variable("cai", "(location 0 0.5)", "cadecay.cai").unwrap();
    let specs = [
        multiplier("kinetic_k.gbar", Some("soma")),
        multiplier("kinetic_k.kf", Some("soma")),
        multiplier("cahigh.gbar", None),
        multiplier("cadecay.tau", None),
        multiplier("synapse[0].weight", None),
        multiplier("hh.gnabar", Some("soma")),
    ];
    let options = RunOptions {
        t_stop_ms: 60.0,
        dt_ms: 0.025,
        sample_interval_ms: 0.1,
        ..Default::default()
    };
    check(
        "kinetic + calcium + synapse",
        &cell,
        &catalogue,
        &options,
        &specs,
        "soma",
    );
    check(
        "kinetic + calcium + synapse",
        &cell,
        &catalogue,
        &options,
        &specs,
        "dend_tip",
    );
}
