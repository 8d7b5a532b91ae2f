//! A model built once and given multipliers at each run (`Model::build`, what the Python package's
//! `Model.run(multipliers=...)` uses) against the model's cells rebuilt with the parameters multiplied
//! (`perturbed`): the same traces and the same sensitivities (multiplier, log and value scales), also at a
//! point run again after another one; and the multipliers that only a rebuild can apply are refused. The
//! same model's sensitivities split over threads (`Model::simulation_in_shares`) against one simulation of
//! all the lanes.

use rall::mechanism::Catalogue;
use rall::model::{BuildError, Model, parse_model};
use rall::sensitivity::{ParameterSpec, perturbed};
use rall::{RunOptions, Traces};
use std::path::Path;

/// A soma with two hh dendrites of 10 CVs, a step current and probes on the soma and a dendrite tip.
const MODEL: &str = r#"
[simulation]
t_stop = 30.0
dt = 0.025
sample_interval = 0.25

[morphology]
cylinder = [
  { length = 20.0, diameter = 20.0, tag = 1 },
  { parent = 0, length = 200.0, diameter = 1.0, tag = 3 },
  { parent = 0, length = 200.0, diameter = 1.0, tag = 3 },
]

[discretization]
policy = "max-extent"
max_extent = 20.0

[cable]
ra = 100.0
v_init = -65.0

[[mechanism]]
name = "hh"

[[stimulus]]
at = "(location 0 0.5)"
delay = 5.0
duration = 100.0
amplitude = 0.3

[[probe]]
name = "soma"
at = "(location 0 0.5)"

[[probe]]
name = "tip"
at = "(location 1 1)"
"#;

fn model() -> Model {
    parse_model(MODEL, "built.toml", Path::new("."), &Catalogue::default()).unwrap()
}

fn specs(names: &[&str]) -> Vec<ParameterSpec> {
    names.iter().map(|n| ParameterSpec::parse(n).unwrap()).collect()
}

/// The model's cells rebuilt with `multiplied` scaled by `factors`, run with sensitivities of `differentiated`.
fn rebuilt_run(
    model: &Model,
    multiplied: &[ParameterSpec],
    factors: &[f64],
    differentiated: &[ParameterSpec],
) -> Traces {
    let mut cells = model.cells.clone();
    for (spec, &factor) in multiplied.iter().zip(factors) {
        for (_, cell) in &mut cells {
            *cell = perturbed(cell, &model.catalogue, spec, factor).unwrap();
        }
    }
    let mut simulation = model.simulation(&cells, differentiated).unwrap();
    simulation.run(&model.options, |_| {}).unwrap()
}

/// The largest difference between two runs' columns (traces and sensitivities), relative to each column's
/// largest magnitude.
fn largest_difference(a: &Traces, b: &Traces) -> f64 {
    assert_eq!((&a.names, &a.tangent_names), (&b.names, &b.tangent_names));
    let mut worst: f64 = 0.0;
    for (x, y) in a
        .values
        .iter()
        .chain(&a.tangents)
        .zip(b.values.iter().chain(&b.tangents))
    {
        let scale = y.iter().fold(1e-3_f64, |s, v| s.max(v.abs()));
        for (u, v) in x.iter().zip(y) {
            worst = worst.max((u - v).abs() / scale);
        }
    }
    worst
}

#[test]
fn a_built_model_given_multipliers_matches_cells_rebuilt_with_them() {
    let model = model();
    let multiplied = specs(&["hh.gnabar@soma", "hh.gkbar", "stimulus[0].amplitude"]);
    let differentiated = specs(&[
        "hh.gnabar@soma:multiplier",
        "hh.gkbar:log",
        "hh.gl:value",
        "stimulus[0].amplitude:multiplier",
        "hh.gnabar@dend:multiplier",
    ]);
    // Built on two threads: the five lanes split into two simulations, each with its own seeds to rescale.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let mut built = pool.install(|| model.build(&multiplied, &differentiated)).unwrap();
    assert_eq!(built.shares(), 2);
    let options: RunOptions = model.options;
    let mut worst: f64 = 0.0;
    let mut spikes = Vec::new();
    for factors in [[1.4, 0.8, 1.5], [0.9, 1.2, 0.7], [1.4, 0.8, 1.5], [1.0, 1.0, 1.0]] {
        let given = pool.install(|| built.run_with(&factors, &options, |_| true)).unwrap();
        let rebuilt = rebuilt_run(&model, &multiplied, &factors, &differentiated);
        assert_eq!(given.tangents.len(), 2 * 5);
        worst = worst.max(largest_difference(&given, &rebuilt));
        let soma = given.column("soma").unwrap();
        spikes.push(soma.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count());
    }
    println!(
        "built and given multipliers vs rebuilt: largest difference {worst:.1e} of each column's scale; soma spikes {spikes:?}"
    );
    // The points differ in what they make the cell do (spike counts differ), so a stale value would show.
    assert!(spikes[0] != spikes[1], "{spikes:?}");
    // Measured: 3.2e-15; allowed 1e-13 (31x).
    assert!(worst < 1e-13, "{worst:e}");
}

#[test]
fn multipliers_that_only_a_rebuild_applies_are_refused() {
    let model = model();
    let refused =
        |multiplied: &[&str], differentiated: &[&str]| match model.build(&specs(multiplied), &specs(differentiated)) {
            Err(BuildError::NotSettable { name, why }) => format!("{name}: {why}"),
            Err(e) => panic!("{multiplied:?}: another error: {e}"),
            Ok(_) => panic!("{multiplied:?} with {differentiated:?} was built"),
        };
    // Capacitance is in the matrix.
    assert!(refused(&["cm"], &[]).contains("cable matrix"));
    // A region ending inside a CV (20 µm CVs; 0.55 of 200 µm is inside the sixth).
    assert!(refused(&["hh.gnabar@(cable 1 0 0.55)"], &[]).contains("in part"));
    // gNa differentiated everywhere as a multiplier, but multiplied on the soma only.
    assert!(refused(&["hh.gnabar@soma"], &["hh.gnabar:multiplier"]).contains("some of the places"));
    // The same as a value (its seeds do not depend on the value) is built.
    assert!(
        model
            .build(&specs(&["hh.gnabar@soma"]), &specs(&["hh.gnabar:value"]))
            .is_ok()
    );
}

#[test]
fn sensitivities_split_into_shares_equal_one_simulation_of_all_lanes() {
    let model = model();
    let specs = specs(&[
        "hh.gnabar@soma:multiplier",
        "hh.gkbar:log",
        "hh.gl:value",
        "stimulus[0].amplitude:multiplier",
        "hh.gnabar@dend:multiplier",
    ]);
    let run = |shares: usize| {
        let mut split = model.simulation_in_shares(&model.cells, &specs, shares).unwrap();
        assert_eq!(split.len(), shares);
        split.run_with(&model.options, |_| true).unwrap()
    };
    let one = run(1);
    assert_eq!(one.tangents.len(), 2 * 5);
    for shares in [2, 3, 5] {
        let split = run(shares);
        assert_eq!(split.tangent_names, one.tangent_names, "{shares} shares");
        // Measured: equal to the bit (each lane's arithmetic does not depend on the others').
        assert!(split == one, "{shares} shares: the traces differ");
    }
}
