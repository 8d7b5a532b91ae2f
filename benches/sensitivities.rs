//! Cost of co-simulated sensitivities: the hh tree (soma + 10 dendrites of 10 CVs) and the inferior-olive
//! cell with P = 0, 1, 3, 12 (and 30 on the tree) parameters; prints each run's wall time as a multiple
//! of the plain run, the absolute time of the 12-conductance gradient of a 3000 ms IO simulation, and the
//! speed-up of splitting the lanes over two threads (the tree's 30, the IO cell's 12).
//!
//! Run with `cargo bench -p rall --bench sensitivities`.

use rall::mechanism::Catalogue;
use rall::model::load_model;
use rall::sensitivity::{ParameterSpec, Transform};
use rall::{Cell, RunOptions, Simulation};
use std::path::PathBuf;
use std::time::Instant;

fn seconds(cell: &Cell, options: &RunOptions, specs: &[ParameterSpec]) -> f64 {
    let catalogue = Catalogue::default();
    let cells = vec![(String::new(), cell.clone())];
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let mut sim = Simulation::new(&cells, &catalogue).unwrap();
        if !specs.is_empty() {
            sim.enable_sensitivities(&cells, &catalogue, specs, 0.0).unwrap();
        }
        let start = Instant::now();
        std::hint::black_box(sim.run(options, |_| {}).unwrap());
        best = best.min(start.elapsed().as_secs_f64());
    }
    best
}

fn report(name: &str, cell: &Cell, options: &RunOptions, all: &[ParameterSpec], counts: &[usize]) {
    let plain = seconds(cell, options, &[]);
    print!("{name:<34} plain {plain:>7.3} s");
    for &p in counts {
        let t = seconds(cell, options, &all[..p]);
        print!("  P={p}: {:>5.2}x (1+0.3P = {:.1})", t / plain, 1.0 + 0.3 * p as f64);
    }
    println!();
}

fn main() {
    let multiplier = |name: &str, region: &str| ParameterSpec::new(name, Some(region), Transform::Multiplier);
    let tree = rall::zoo::hh_tree(10, 1.0);
    let mut tree_specs = Vec::new();
    for region in std::iter::once("soma".to_string()).chain((1..=10).map(|b| format!("(branch {b})"))) {
        for p in ["gnabar", "gkbar", "gl", "el"] {
            tree_specs.push(multiplier(&format!("hh.{p}"), &region));
        }
    }
    let options = RunOptions {
        t_stop_ms: 1000.0,
        dt_ms: 0.025,
        sample_interval_ms: 1.0,
        ..Default::default()
    };
    println!("wall time with P sensitivities / without (best of 3, one thread, 1000 ms at dt 0.025 ms)");
    report(
        "hh tree (10 dendrites x 10 CVs)",
        &tree,
        &options,
        &tree_specs,
        &[1, 3, 12, 30],
    );

    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/io_c4a.toml");
    let io = load_model(&path, &Catalogue::default()).unwrap().cells.remove(0).1;
    let io_specs: Vec<ParameterSpec> = rall::zoo::IO_CONDUCTANCES
        .iter()
        .map(|(n, r)| multiplier(n, r))
        .collect();
    report("inferior olive on C4A", &io, &options, &io_specs, &[1, 3, 12]);
    let long = RunOptions {
        t_stop_ms: 3000.0,
        ..options
    };
    let t = seconds(&io, &long, &io_specs);
    println!(
        "12-conductance gradient of a 3000 ms inferior-olive simulation: {t:.3} s (goal: under 3.5 s; published: about 350 s)"
    );
    let tree_model = load_model(&path.with_file_name("hh_tree.toml"), &Catalogue::default()).unwrap();
    lanes_over_threads(&tree_model, &options, &tree_specs[..30]);
    let io_model = load_model(&path, &Catalogue::default()).unwrap();
    lanes_over_threads(&io_model, &long, &io_specs);
}

/// The sensitivities of one cell split over two threads (`Model::simulation_in_shares`: each share of lanes
/// repeats the primal run) against one thread, best of 3 each, interleaved.
fn lanes_over_threads(model: &rall::model::Model, options: &RunOptions, specs: &[ParameterSpec]) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let (mut one, mut two) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..3 {
        for (shares, best) in [(1, &mut one), (2, &mut two)] {
            let mut split = model.simulation_in_shares(&model.cells, specs, shares).unwrap();
            let start = Instant::now();
            std::hint::black_box(pool.install(|| split.run_with(options, |_| true)).unwrap());
            *best = best.min(start.elapsed().as_secs_f64());
        }
    }
    println!(
        "{}, P={} over {} ms on 2 threads: {two:.3} s against {one:.3} s on one ({:.2}x faster)",
        model.file.file_name().unwrap_or_default().to_string_lossy(),
        specs.len(),
        options.t_stop_ms,
        one / two
    );
}
