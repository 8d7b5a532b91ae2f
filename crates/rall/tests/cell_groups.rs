//! Cell groups (cells of one kind advanced as one integrator over all their CVs) against the same cells run
//! alone, the reference whose runs the NEURON comparisons check: traces and spikes equal to the bit, on one
//! thread and on two, for the example networks and for a network that mixes morphologies, templates,
//! scheduled events, mechanism-variable probes and clamps; and an error in a grouped cell still names that
//! cell and its own CV.

use crate::common::repo_path;
use rall::mechanism::Catalogue;
use rall::model::{Model, load_model, parse_model};

/// Traces and spikes of the model's run with cell groups on or off (and its `[homeostasis]`), and the number
/// of groups it ran.
fn run(model: &Model, groups: bool) -> (rall::Traces, usize) {
    let network = model.network.as_ref().unwrap();
    let mut simulation = rall::Simulation::network(network, &model.catalogue).unwrap();
    simulation.set_cell_groups(groups).unwrap();
    if let Some(spec) = &model.homeostasis {
        simulation
            .enable_homeostasis(&model.cells, &model.catalogue, spec)
            .unwrap();
    }
    let traces = simulation.run(&model.options, |_| {}).unwrap();
    (traces, simulation.cell_group_count())
}

fn on_threads<T: Send>(threads: usize, work: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(work)
}

/// The grouped runs on one and two threads equal the run of every cell alone, to the bit.
fn assert_groups_repeat_cells(name: &str, model: &Model) {
    let (alone, none) = on_threads(1, || run(model, false));
    assert_eq!(none, 0);
    assert!(!alone.spikes.is_empty(), "{name}: no spikes to compare");
    for threads in [1, 2] {
        let (grouped, groups) = on_threads(threads, || run(model, true));
        println!(
            "{name}: {} cells in {groups} groups on {threads} thread(s): {} samples of {} columns and {} spikes to the bit",
            model.cells.len(),
            grouped.time_ms.len(),
            grouped.values.len(),
            grouped.spikes.len()
        );
        assert!(groups > 0 && groups < model.cells.len(), "{name}: {groups} groups");
        assert_eq!(grouped.names, alone.names, "{name}");
        assert!(grouped.values == alone.values, "{name}: the traces differ");
        assert!(grouped.spikes == alone.spikes, "{name}: the spikes differ");
    }
}

#[test]
fn the_example_networks_in_groups_repeat_their_cells_run_alone() {
    for example in ["random_network.toml", "ring.toml"] {
        let mut model = load_model(&repo_path(&format!("examples/{example}")), &Catalogue::default()).unwrap();
        model.options.t_stop_ms = 300.0;
        assert_groups_repeat_cells(example, &model);
    }
}

/// The 10 noise-driven cells of `examples/network_homeostasis.toml`, each under its own controller (a controller
/// per cell on the group's integrator, the lanes of all cells together): rates, multipliers, running gradients
/// and spikes as with every cell alone, over 5 s.
#[test]
fn controlled_cells_in_groups_repeat_their_cells_run_alone() {
    let mut model = load_model(&repo_path("examples/network_homeostasis.toml"), &Catalogue::default()).unwrap();
    assert!(model.homeostasis.is_some());
    model.options.t_stop_ms = 5000.0;
    assert_groups_repeat_cells("network_homeostasis.toml", &model);
}

/// Point cells with a noise current (`ou_drive`: `normrand`, a stream per cell), branched ball-and-sticks (hh,
/// pas, an Exp2Syn) and a third template of the ball-and-sticks' kind with another morphology and other
/// parameter values, with scheduled synapse events, clamps, probes of `hh.m` and `Exp2Syn.g`.
const MIXED: &str = r#"
[simulation]
t_stop = 200.0
dt = 0.025
sample_interval = 0.25

[[cell]]
name = "point"
[cell.morphology]
cylinder = [{ length = 20.0, diameter = 20.0, tag = 1 }]
[cell.discretization]
policy = "fixed-per-branch"
per_branch = 1
[[cell.mechanism]]
name = "hh"
[[cell.mechanism]]
name = "pas"
parameters = { g = 0.0001, e = -65.0 }
[[cell.mechanism]]
name = "ou_drive"
parameters = { sigma = 0.7, gain = 0.05 }
[[cell.synapse]]
at = "(location 0 0.5)"
mechanism = "Exp2Syn"
parameters = { tau1 = 0.5, tau2 = 3.0, e = 0.0 }
events = [12.0, 13.0, 80.0]
weight = 0.004
[[cell.stimulus]]
at = "(location 0 0.5)"
delay = 100.0
duration = 30.0
amplitude = 0.1
[[cell.detector]]
at = "(location 0 0.5)"
threshold = -10.0
[[cell.probe]]
name = "v"
at = "(location 0 0.5)"
[[cell.probe]]
name = "m"
at = "(location 0 0.5)"
variable = "hh.m"

[[cell]]
name = "ball_stick"
[cell.morphology]
cylinder = [
  { length = 15.0, diameter = 15.0, tag = 1 },
  { parent = 0, length = 300.0, diameter = 1.5, tag = 3 },
  { parent = 1, length = 100.0, diameter = 0.8, tag = 3 },
  { parent = 1, length = 120.0, diameter = 0.7, tag = 3 },
]
[cell.discretization]
policy = "max-extent"
max_extent = 25.0
[[cell.mechanism]]
name = "hh"
region = "soma"
[[cell.mechanism]]
name = "pas"
region = "dend"
parameters = { g = 0.0005, e = -65.0 }
[[cell.synapse]]
at = "(location 2 0.8)"
mechanism = "Exp2Syn"
parameters = { tau1 = 0.3, tau2 = 5.0, e = 0.0 }
[[cell.detector]]
at = "(location 0 0.5)"
threshold = 0.0
[[cell.probe]]
name = "soma"
at = "(location 0 0.5)"
[[cell.probe]]
name = "g"
at = "(location 2 0.8)"
variable = "Exp2Syn.g"

[[cell]]
name = "other"
[cell.morphology]
cylinder = [{ length = 25.0, diameter = 25.0, tag = 1 }, { parent = 0, length = 50.0, diameter = 2.0, tag = 3 }]
[cell.discretization]
policy = "fixed-per-branch"
per_branch = 1
[[cell.mechanism]]
name = "hh"
parameters = { gnabar = 0.15 }
[[cell.mechanism]]
name = "pas"
parameters = { g = 0.0002, e = -70.0 }
[[cell.synapse]]
at = "(location 0 0.5)"
mechanism = "Exp2Syn"
parameters = { tau1 = 0.2, tau2 = 2.0, e = 0.0 }
[[cell.detector]]
at = "(location 0 0.5)"
threshold = -10.0
[[cell.probe]]
name = "v"
at = "(location 0 0.5)"

[[population]]
name = "points"
cell = "point"
count = 7

[[population]]
name = "trees"
cell = "ball_stick"
count = 4

[[population]]
name = "others"
cell = "other"
count = 5

[[spike_source]]
name = "drive"
kind = "poisson"
count = 7
rate = 60.0
seed = 5

[[connection]]
from = "drive"
to = "points"
rule = "one-to-one"
weight = 0.006
delay = 1.0

[[connection]]
from = "points"
to = "trees"
rule = "all-to-all"
weight = 0.002
delay = 2.0

[[connection]]
from = "trees"
to = "others"
rule = "fixed-indegree"
indegree = 2
seed = 4
weight = 0.02
delay = 1.5

[[connection]]
from = "others"
to = "points"
rule = "fixed-indegree"
indegree = 2
seed = 9
weight = 0.003
delay = 0.5
"#;

#[test]
fn a_mixed_network_in_groups_repeats_its_cells_run_alone() {
    let catalogue = Catalogue::default();
    let model = parse_model(MIXED, "mixed.toml", std::path::Path::new("."), &catalogue).unwrap();
    assert_eq!(model.cells.len(), 16);
    assert_groups_repeat_cells("mixed", &model);
}

/// A cell that blows up inside a group (the sixth point cell, its `pas.g` made negative: the potential grows until it is not finite) is named in
/// the error, at its own CV 1, as when it runs alone.
#[test]
fn an_error_in_a_grouped_cell_names_the_cell_and_its_own_cv() {
    let catalogue = Catalogue::default();
    let mut model = parse_model(MIXED, "mixed.toml", std::path::Path::new("."), &catalogue).unwrap();
    let (name, cell) = &mut model.cells[5];
    assert_eq!(name, "points[5]");
    let pas = cell.decor.paints.iter_mut().find(|p| p.mechanism == "pas").unwrap();
    pas.parameters.retain(|(n, _)| n != "g");
    pas.parameters.push(("g".into(), -0.02));
    let message = |groups: bool| {
        let mut network = model.network.clone().unwrap();
        network.cells = model.cells.clone();
        let mut simulation = rall::Simulation::network(&network, &model.catalogue).unwrap();
        simulation.set_cell_groups(groups).unwrap();
        let error = simulation.run(&model.options, |_| {}).unwrap_err().to_string();
        (error, simulation.cell_group_count())
    };
    let (alone, _) = message(false);
    let (grouped, groups) = message(true);
    println!("alone:   {alone}\ngrouped ({groups} groups): {grouped}");
    assert!(groups > 0);
    assert!(
        alone.starts_with("cell `points[5]`: ") && alone.contains("CV 1 (branch 0"),
        "{alone}"
    );
    assert_eq!(grouped, alone);
}

/// Cells whose spikes come from PyNN's `poisson_stim_refractory.mod` (run procedurally, `exprand` from a stream
/// per instance and seed) keep, in a group, the spike trains they have alone.
/// `#[ignore]`d for a plain `cargo test` (needs the corpus, fetched by `.ci/run`).
#[test]
#[ignore]
fn procedural_random_sources_in_groups_repeat_their_cells_run_alone() {
    let source = crate::common::corpus().join("pynn-0.13.0/pyNN/neuron/nmodl/poisson_stim_refractory.mod");
    let text = format!(
        r#"
mod_files = ["{}"]
[simulation]
t_stop = 500.0
dt = 0.025

[[cell]]
name = "generator"
[cell.morphology]
cylinder = [{{ length = 10.0, diameter = 10.0, tag = 1 }}]
[[cell.mechanism]]
name = "pas"
[[cell.synapse]]
at = "(location 0 0.5)"
mechanism = "PoissonStimRefractory"
parameters = {{ rate = 40.0, tau_refrac = 2.0, start = 0.0, duration = 500.0 }}
[[cell.detector]]
synapse = 0
[[cell.probe]]
name = "v"
at = "(location 0 0.5)"

[[population]]
name = "generators"
cell = "generator"
count = 6
"#,
        source.display()
    );
    let model = parse_model(
        &text,
        "generators.toml",
        std::path::Path::new("."),
        &Catalogue::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_groups_repeat_cells("procedural generators", &model);
}
