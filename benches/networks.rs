//! Networks of small cells: `examples/random_network.toml` (50 one-CV hh cells, 50 Poisson sources, 1 s) and
//! the same with 100 and 1,000 cells and sources, each run with every cell alone and with cell groups, on one
//! thread and on two, in interleaved rounds; prints each run's wall time per cell-step and the ratios (groups
//! against cells alone, two threads against one).
//!
//! Run with `cargo bench -p rall --bench networks` (one core is one thread: the two-thread rows need both);
//! `-- 100 1000` runs only those sizes.

use rall::mechanism::Catalogue;
use rall::model::{Model, load_model};
use std::path::PathBuf;
use std::time::Instant;

const ROUNDS: usize = 5;

fn seconds(model: &Model, groups: bool, threads: usize) -> f64 {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    // Built in the pool: a simulation makes at least one group per thread of the pool it is built in.
    pool.install(|| {
        let mut simulation = model.simulation(&model.cells, &[]).unwrap();
        simulation.set_cell_groups(groups).unwrap();
        let start = Instant::now();
        std::hint::black_box(simulation.run(&model.options, |_| {}).unwrap());
        start.elapsed().as_secs_f64()
    })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/random_network.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let catalogue = Catalogue::default();
    let example = load_model(&path, &catalogue).unwrap();
    println!("medians of {ROUNDS} interleaved rounds; ns per cell-step; groups: cells of one kind as one integrator");
    println!(
        "{:<10} {:>12} {:>12} {:>12} {:>12} {:>10} {:>10} {:>10}",
        "cells", "alone 1 thr", "alone 2 thr", "groups 1", "groups 2", "groups/alone", "2 thr alone", "2 thr groups"
    );
    let mut counts: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    if counts.is_empty() {
        counts = vec![50, 100, 1000];
    }
    for count in counts {
        let model = if count == 50 {
            example.clone()
        } else {
            let scaled = text.replace("count = 50", &format!("count = {count}"));
            rall::model::parse_model(&scaled, "random_network.toml", path.parent().unwrap(), &catalogue).unwrap()
        };
        let mut times = vec![Vec::new(); 4];
        for _ in 0..ROUNDS {
            for (k, (groups, threads)) in [(false, 1), (false, 2), (true, 1), (true, 2)].into_iter().enumerate() {
                times[k].push(seconds(&model, groups, threads));
            }
        }
        let t: Vec<f64> = times.into_iter().map(median).collect();
        let steps = (model.options.t_stop_ms / model.options.dt_ms).round();
        let ns = |s: f64| s / (steps * count as f64) * 1e9;
        println!(
            "{count:<10} {:>10.0}ns {:>10.0}ns {:>10.0}ns {:>10.0}ns {:>11.2}x {:>9.2}x {:>11.2}x",
            ns(t[0]),
            ns(t[1]),
            ns(t[2]),
            ns(t[3]),
            t[0] / t[2],
            t[0] / t[1],
            t[2] / t[3]
        );
    }
}
