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

/// A central-difference reference for one parameter: Richardson-extrapolated central differences
/// `(4 D(h) - D(2h)) / 3` at each relative step of `STEPS`; the step whose estimate of the loss gradient
/// agrees best with the next larger step's gives the reference, and that disagreement is its uncertainty
/// (round-off dominates small steps, truncation large ones).
struct Reference {
    step: f64,
    trace: Vec<f64>,
    gradient: f64,
    trace_uncertainty: f64,
    gradient_uncertainty: f64,
}

fn reference(cell: &Cell, catalogue: &Catalogue, options: &RunOptions, spec: &ParameterSpec, probe: &str) -> Reference {
    let difference = |step: f64| {
        let run = |factor: f64| {
            simulate(
                &perturbed(cell, catalogue, spec, factor).unwrap(),
                catalogue,
                options,
                &[],
            )
        };
        let (plus, minus) = (run(1.0 + step), run(1.0 - step));
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
    let disagreement = |k: usize| (estimates[k].1 - estimates[k + 1].1).abs();
    let k = (0..STEPS.len() - 1)
        .min_by(|&a, &b| disagreement(a).total_cmp(&disagreement(b)))
        .unwrap();
    let trace_uncertainty = max_or_nan(
        estimates[k]
            .0
            .iter()
            .zip(&estimates[k + 1].0)
            .map(|(a, b)| (a - b).abs()),
    );
    Reference {
        step: STEPS[k],
        trace: estimates[k].0.clone(),
        gradient: estimates[k].1,
        trace_uncertainty,
        gradient_uncertainty: disagreement(k),
    }
}

/// How closely each kind of check must agree, relative to the reference (the loss gradient) or to the
/// trace sensitivity's largest magnitude (traces).
#[derive(Clone, Copy)]
struct Limits {
    /// |exact - FD| / |FD| of the loss gradient.
    gradient: f64,
    /// The trace sensitivity away from spikes (outside 1 ms before to 4 ms after each upward crossing of
    /// -20 mV), and through them.
    away_from_spikes: f64,
    through_spikes: f64,
    /// The most the finite differences' own uncertainty may be, relative to the same scales: a reference
    /// less certain than this cannot check anything, and fails.
    reference_uncertainty: f64,
}

/// Checks every parameter's trace sensitivities and loss gradient against central differences.
fn check(
    name: &str,
    cell: &Cell,
    catalogue: &Catalogue,
    options: &RunOptions,
    specs: &[ParameterSpec],
    probe: &str,
    limits: Limits,
) {
    let exact = simulate(cell, catalogue, options, specs);
    let v = exact.column(probe).unwrap();
    let t = &exact.time_ms;
    let spikes = crossings(t, v, -20.0);
    let near_spike = |time: f64| spikes.iter().any(|&s| time > s - 1.0 && time < s + 4.0);
    for spec in specs {
        let r = reference(cell, catalogue, options, spec, probe);
        let tangent = exact.tangent(probe, &spec.label()).unwrap();
        let scale = max_or_nan(r.trace.iter().map(|x| x.abs()));
        let error = |near: bool| {
            max_or_nan(
                tangent
                    .iter()
                    .zip(&r.trace)
                    .zip(t)
                    .filter(|(_, time)| near_spike(**time) == near)
                    .map(|((a, b), _)| (a - b).abs()),
            ) / scale
        };
        let (away, through) = (error(false), error(true));
        // The loss gradient: dL/dθ = mean((v - target) dv/dθ).
        let gradient = v
            .iter()
            .zip(t)
            .zip(tangent)
            .map(|((v, t), d)| (v - target(*t)) * d)
            .sum::<f64>()
            / v.len() as f64;
        let relative = (gradient - r.gradient).abs() / r.gradient.abs();
        let (gradient_uncertainty, trace_uncertainty) =
            (r.gradient_uncertainty / r.gradient.abs(), r.trace_uncertainty / scale);
        println!(
            "{name} d{probe}/d{}: dL/dθ {gradient:.9e} vs FD {:.9e}: relative {relative:.1e} (FD step {:.0e}, uncertainty {gradient_uncertainty:.1e}); trace (max {scale:.3e}) relative error {away:.1e} away from {} spikes, {through:.1e} through them (FD uncertainty {trace_uncertainty:.1e})",
            spec.label(),
            r.gradient,
            r.step,
            spikes.len()
        );
        let label = spec.label();
        assert!(
            gradient_uncertainty <= limits.reference_uncertainty && trace_uncertainty <= limits.reference_uncertainty,
            "{name} {label}: the finite differences are too uncertain to check against ({gradient_uncertainty:.1e} of the gradient, {trace_uncertainty:.1e} of the trace; cap {:.0e})",
            limits.reference_uncertainty
        );
        assert!(
            relative <= limits.gradient,
            "{name} {label}: gradient {gradient} vs FD {} (relative {relative:.1e}, limit {:.0e})",
            r.gradient,
            limits.gradient
        );
        assert!(
            away <= limits.away_from_spikes,
            "{name} {label}: trace sensitivity off by {away:.1e} of its scale away from spikes (limit {:.0e})",
            limits.away_from_spikes
        );
        assert!(
            spikes.is_empty() || through <= limits.through_spikes,
            "{name} {label}: trace sensitivity off by {through:.1e} of its scale through spikes (limit {:.0e})",
            limits.through_spikes
        );
    }
}

/// Upward crossings of `threshold` [mV], linearly interpolated [ms].
fn crossings(t: &[f64], v: &[f64], threshold: f64) -> Vec<f64> {
    (1..v.len())
        .filter(|&k| v[k - 1] < threshold && v[k] >= threshold)
        .map(|k| t[k - 1] + (t[k] - t[k - 1]) * (threshold - v[k - 1]) / (v[k] - v[k - 1]))
        .collect()
}

fn max_or_nan(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(
        0.0,
        |m: f64, x| if m.is_nan() || x.is_nan() { f64::NAN } else { m.max(x) },
    )
}

/// Relative steps tried for each parameter.
const STEPS: [f64; 5] = [1e-5, 1e-4, 1e-3, 1e-2, 5e-2];

/// The passive cable (Crank-Nicolson too). Measured: gradients 7.0e-10 relative, traces 4.8e-10 of their
/// scale, FD uncertainty 8.7e-10 at most; limits 71x, 62x, cap 11x. (The cable's tip passes -20 mV, so
/// "through spikes" is the same check here.)
const PASSIVE: Limits = Limits {
    gradient: 5e-8,
    away_from_spikes: 3e-8,
    through_spikes: 3e-8,
    reference_uncertainty: 1e-8,
};

/// The KINETIC channel, calcium shell and synapse. Measured: gradients 4.1e-7 relative, traces 3.9e-8 of
/// their scale away from spikes and 2.3e-7 through them, FD uncertainty 3.0e-7 at most; limits 49x, 51x,
/// 43x, cap 7x.
const KINETIC: Limits = Limits {
    gradient: 2e-5,
    away_from_spikes: 2e-6,
    through_spikes: 1e-5,
    reference_uncertainty: 2e-6,
};

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
        check(
            "passive cable",
            &cell,
            &Catalogue::default(),
            &options,
            &specs,
            probe,
            PASSIVE,
        );
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
        PASSIVE,
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
        // Measured: gradients 4.3e-8 relative, traces 1.4e-9 of their scale away from spikes and 4.2e-8
        // through them, FD uncertainty 1.2e-7 at most; limits 70x, 71x, 71x, cap 8x.
        Limits {
            gradient: 3e-6,
            away_from_spikes: 1e-7,
            through_spikes: 3e-6,
            reference_uncertainty: 1e-6,
        },
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
    // Measured: gradients 1.2e-7 relative, traces 8.4e-10 of their scale away from spikes and 4.2e-8
    // through them, FD uncertainty 1.3e-7 at most; limits 42x, 60x, 71x, cap 8x.
    let limits = Limits {
        gradient: 5e-6,
        away_from_spikes: 5e-8,
        through_spikes: 3e-6,
        reference_uncertainty: 1e-6,
    };
    check(
        "hh tree",
        &cell,
        &Catalogue::default(),
        &options,
        &specs,
        "dend_tip",
        limits,
    );
}

/// All twelve conductances of the inferior-olive cell. In the subthreshold oscillation the soma's
/// delayed rectifier g_Kdr_s barely opens (dV/dg ~ 4e-6 mV, at the level of the simulation's round-off
/// divided by the step, so the differences cannot resolve it: their uncertainty is 3% of the trace); it is
/// checked in a second run where a 0.5 nA step makes the soma fire and opens it.
#[test]
fn inferior_olive_gradients_match_finite_differences_for_all_twelve_conductances() {
    let catalogue = Catalogue::default();
    let model = rall::model::load_model(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/io_c4a.toml"),
        &catalogue,
    )
    .unwrap();
    let cell = &model.cells[0].1;
    let specs: Vec<ParameterSpec> = rall::zoo::IO_CONDUCTANCES
        .iter()
        .map(|(n, r)| multiplier(n, Some(r)))
        .collect();
    let (kdr, others): (Vec<ParameterSpec>, Vec<ParameterSpec>) = specs
        .into_iter()
        .partition(|s| s.label().starts_with("io_soma.g_Kdr_s"));
    let options = RunOptions {
        t_stop_ms: 300.0,
        dt_ms: 0.025,
        sample_interval_ms: 1.0,
        ..Default::default()
    };
    // Measured: gradients 1.2e-6 relative, traces 1.7e-6 of their scale, FD uncertainty 1.6e-6 at most;
    // limits 25x, 29x, cap 6x.
    let limits = Limits {
        gradient: 3e-5,
        away_from_spikes: 5e-5,
        through_spikes: 5e-5,
        reference_uncertainty: 1e-5,
    };
    check("inferior olive", cell, &catalogue, &options, &others, "soma", limits);
    let mut firing = cell.clone();
    firing
        .place_current_clamp("(location 0 0.5)", 50.0, 200.0, 0.5)
        .unwrap();
    let mut specs = kdr;
    specs.push(multiplier("io_soma.g_Na_s", Some("soma")));
    // Measured: gradients 3.7e-6 relative (g_Kdr_s; g_Na_s 1.2e-8), traces 4.4e-6 of their scale away from
    // the spike and 6.4e-7 through it, FD uncertainty 5.2e-6; limits 27x, 23x, 47x, cap 4x.
    let limits = Limits {
        gradient: 1e-4,
        away_from_spikes: 1e-4,
        through_spikes: 3e-5,
        reference_uncertainty: 2e-5,
    };
    check(
        "inferior olive, firing",
        &firing,
        &catalogue,
        &options,
        &specs,
        "soma",
        limits,
    );
}

#[test]
fn kinetic_scheme_calcium_and_synapse_gradients_match_finite_differences() {
    // A two-state KINETIC channel (solved implicitly), a calcium current and a calcium shell that
    // writes cai (so eca follows Nernst), and an ExpSyn with scheduled events.
    let (mut cell, catalogue) = crate::common::kinetic_calcium_synapse_cell(&[15.0, 25.0, 26.0]);
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
        KINETIC,
    );
    check(
        "kinetic + calcium + synapse",
        &cell,
        &catalogue,
        &options,
        &specs,
        "dend_tip",
        KINETIC,
    );
}

/// With NEURON's difference-quotient conductance (`conductance = "neuron"`) the step's Jacobian is no longer
/// ∂I/∂V; the sensitivities are still those of the scheme run: a GHK calcium current (nonlinear in v) on the
/// hh ball-and-stick, against central differences of rall's own simulation with the same conductance.
#[test]
fn gradients_with_neurons_difference_quotient_conductance_match_finite_differences() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut catalogue = Catalogue::default();
    catalogue.add_file(&dir.join("ghk_ca.mod")).unwrap();
    catalogue.set_neuron_conductance(true);
    let mut cell = rall::zoo::hh_tree(1, 0.15);
    cell.paint("(all)", "ghk_ca", &[("pbar", 5e-5)]).unwrap();
    let specs = [
        multiplier("ghk_ca.pbar", None),
        multiplier("hh.gnabar", Some("soma")),
        multiplier("hh.gkbar", None),
    ];
    let options = RunOptions {
        t_stop_ms: 60.0,
        dt_ms: 0.025,
        sample_interval_ms: 0.1,
        ..Default::default()
    };
    // Measured: gradients 9.7e-9 relative, traces 1.6e-9 of their scale away from the spike and 7.0e-8 through
    // it, FD uncertainty 7.2e-8 at most; limits 52x, 63x, 43x, cap 7x.
    let limits = Limits {
        gradient: 5e-7,
        away_from_spikes: 1e-7,
        through_spikes: 3e-6,
        reference_uncertainty: 5e-7,
    };
    check(
        "GHK, NEURON's conductance",
        &cell,
        &catalogue,
        &options,
        &specs,
        "soma",
        limits,
    );
}

/// Gradients through a scaled paint: gNa falling with distance from the soma's centre over the ball-and-stick,
/// the `[[parameter]]` multiplier scaling the whole profile.
#[test]
fn gradients_through_a_conductance_that_varies_with_distance_match_finite_differences() {
    let mut cell = rall::zoo::hh_tree(1, 0.2);
    let paint = &mut cell.decor.paints[0];
    paint.scale = vec![(
        "gnabar".into(),
        rall::cell::ScaleExpr::parse("exp(-distance / 400)").unwrap(),
    )];
    paint.scale_origin = Some(rall::labels::Location { branch: 0, pos: 0.5 });
    let specs = [multiplier("hh.gnabar", None), multiplier("hh.gkbar", Some("dend"))];
    let options = RunOptions {
        t_stop_ms: 60.0,
        dt_ms: 0.025,
        sample_interval_ms: 0.1,
        ..Default::default()
    };
    // Measured: gradients 1.9e-8 relative, traces 1.8e-10 of their scale away from spikes and 5.7e-9 through
    // them, FD uncertainty 1.7e-7 at most; limits 53x, 56x, 53x, cap 6x.
    let limits = Limits {
        gradient: 1e-6,
        away_from_spikes: 1e-8,
        through_spikes: 3e-7,
        reference_uncertainty: 1e-6,
    };
    check(
        "scaled gNa",
        &cell,
        &Catalogue::default(),
        &options,
        &specs,
        "soma",
        limits,
    );
}

/// The amplitude of a clamp with a waveform (a ramp and a triangle) as a parameter: its sensitivity follows
/// the waveform through the hh ball-and-stick's spikes.
#[test]
fn the_amplitude_of_a_waveform_clamp_has_the_gradient_finite_differences_give() {
    let mut cell = rall::zoo::hh_tree(1, 0.0);
    cell.decor.clamps[0].amplitude_na = 0.3;
    cell.decor.clamps[0].waveform = Some(rall::cell::Waveform {
        points: vec![(0.0, 0.0), (5.0, 0.0), (25.0, 1.0), (40.0, 0.3), (50.0, 1.2)],
    });
    let specs = [multiplier("stimulus[0].amplitude", None), multiplier("hh.gkbar", None)];
    let options = RunOptions {
        t_stop_ms: 60.0,
        dt_ms: 0.025,
        sample_interval_ms: 0.1,
        ..Default::default()
    };
    // Measured: gradients 6.7e-9 relative, traces 5.9e-10 of their scale away from spikes and 1.8e-8 through
    // them, FD uncertainty 3.9e-7 at most; limits 75x, 51x, 56x, cap 2.6x.
    let limits = Limits {
        gradient: 5e-7,
        away_from_spikes: 3e-8,
        through_spikes: 1e-6,
        reference_uncertainty: 1e-6,
    };
    check(
        "waveform clamp",
        &cell,
        &Catalogue::default(),
        &options,
        &specs,
        "soma",
        limits,
    );
}
