//! Passive-cable benchmark: the Rallpack 1 cable (1000 CVs) and the C4A cell in, wall time per simulated ms and per CV-step printed.
//!
//! Run with `cargo bench -p rall --bench passive`. No peer runs here yet; the
//! NEURON comparison arrives with the channel benchmarks.

use rall::engine::Integrator;
use rall::mechanism::Catalogue;
use rall::model::load_model;
use rall::{Cell, RunOptions, Simulation};
use std::path::PathBuf;
use std::time::Instant;

/// Median wall time of repeated runs [s], repeating for about a second.
fn time_runs(cells: &[(String, Cell)], options: &RunOptions) -> f64 {
    let catalogue = Catalogue::default();
    let mut times = Vec::new();
    let started = Instant::now();
    while times.len() < 5 || (started.elapsed().as_secs_f64() < 1.0 && times.len() < 200) {
        let mut sim = Simulation::new(cells, &catalogue).unwrap();
        let t0 = Instant::now();
        std::hint::black_box(sim.run(options, |_| {}).unwrap());
        times.push(t0.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn report(name: &str, cells: &[(String, Cell)], options: &RunOptions) {
    let catalogue = Catalogue::default();
    let sim = Simulation::new(cells, &catalogue).unwrap();
    let cvs: usize = sim.cells().iter().map(|c| c.voltages_mv().len()).sum();
    let seconds = time_runs(cells, options);
    let steps = (options.t_stop_ms / options.dt_ms).round();
    println!(
        "{name:<34} {cvs:>6} CVs  {:>9.3} ms wall per simulated s  {:>8.2} µs per simulated ms  {:>6.2} ns per CV-step",
        1e3 * seconds / (options.t_stop_ms / 1e3),
        1e6 * seconds / options.t_stop_ms,
        1e9 * seconds / (steps * cvs as f64)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let c4a_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/c4a_passive.toml");
    let c4a = load_model(&c4a_path, &Catalogue::default()).unwrap().cells;
    let cable = vec![(
        String::new(),
        rall::zoo::rallpack_cable("pas", &[("g", 2.5e-5), ("e", -65.0)]),
    )];
    println!("passive benchmarks, dt 0.025 ms, one thread per cell, median of repeated runs");
    for integrator in [Integrator::BackwardEuler, Integrator::CrankNicolson] {
        let options = RunOptions {
            t_stop_ms: 250.0,
            dt_ms: 0.025,
            sample_interval_ms: 0.1,
            integrator,
            celsius: 6.3,
        };
        report(&format!("rallpack 1 cable, {integrator:?}"), &cable, &options);
        let options = RunOptions {
            t_stop_ms: 1000.0,
            ..options
        };
        report(&format!("C4A (max extent 20 µm), {integrator:?}"), &c4a, &options);
    }
    let eight: Vec<(String, Cell)> = (0..8).map(|i| (format!("c{i}"), c4a[0].1.clone())).collect();
    let options = RunOptions {
        t_stop_ms: 1000.0,
        dt_ms: 0.025,
        sample_interval_ms: 0.1,
        integrator: Integrator::BackwardEuler,
        celsius: 6.3,
    };
    report("8 x C4A in parallel (rayon)", &eight, &options);
}
