//! rall against NEURON on the same machine: the hh tree (10 and 100 dendrites of 10 CVs) and the
//! inferior-olive cell on C4A, 1 s at dt 0.025 ms, one thread each; prints rall's time / NEURON's.
//!
//! Run with `cargo bench -p rall --bench vs_neuron` after `.ci/run` (or `pip install neuron` into
//! `.venv`). NEURON is timed by `validation/neuron/run_neuron.py` (NEURON's own `ParallelContext.psolve`
//! loop alone, as its users run it, with the same cell exported by `rall::export::neuron_json`); rall by the
//! `Simulation::run` call alone. `benches/baseline.sh` adds NEURON's rate tables and Arbor.

use rall::export::neuron_json;
use rall::mechanism::Catalogue;
use rall::model::load_model;
use rall::{Cell, RunOptions, Simulation};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn neuron_seconds(python: &Path, cell: &Cell, options: &RunOptions, mod_dir: Option<&Path>) -> f64 {
    let json = neuron_json(cell, options, &Catalogue::default(), mod_dir).expect("exportable cell");
    let dir = std::env::temp_dir().join(format!("rall-vs-neuron-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json_path, csv_path) = (dir.join("cell.json"), dir.join("out.csv"));
    std::fs::write(&json_path, serde_json::to_string(&json).unwrap()).unwrap();
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let out = Command::new(python)
            .env("RALL_NEURON_PSOLVE", "1")
            .arg(repo("validation/neuron/run_neuron.py"))
            .arg(&json_path)
            .arg(&csv_path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let s: f64 = stderr
            .lines()
            .find_map(|l| l.strip_prefix("neuron_run_seconds="))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        best = best.min(s);
    }
    best
}

fn rall_seconds(cell: &Cell, options: &RunOptions) -> (f64, usize) {
    let catalogue = Catalogue::default();
    let mut best = f64::INFINITY;
    let mut cvs = 0;
    for _ in 0..3 {
        let mut sim = Simulation::single(cell, &catalogue).unwrap();
        cvs = sim.cells()[0].voltages_mv().len();
        let start = Instant::now();
        std::hint::black_box(sim.run(options, |_| {}).unwrap());
        best = best.min(start.elapsed().as_secs_f64());
    }
    (best, cvs)
}

fn main() {
    let python = std::env::var_os("RALL_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo(".venv/bin/python"));
    if !Command::new(&python)
        .args(["-c", "import neuron"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        println!(
            "NEURON is not installed ({} cannot import neuron): run .ci/run first",
            python.display()
        );
        return;
    }
    let options = RunOptions {
        t_stop_ms: 1000.0,
        dt_ms: 0.025,
        sample_interval_ms: 0.025,
        ..Default::default()
    };
    let io = load_model(&repo("examples/io_c4a.toml"), &Catalogue::default())
        .unwrap()
        .cells
        .remove(0)
        .1;
    let cases: Vec<(&str, Cell, Option<PathBuf>)> = vec![
        ("hh tree, 10 dendrites", rall::zoo::hh_tree(10, 1.0), None),
        ("hh tree, 100 dendrites", rall::zoo::hh_tree(100, 8.0), None),
        ("inferior olive on C4A", io, Some(repo("mechanisms"))),
    ];
    println!("1000 ms at dt 0.025 ms, backward Euler, every step recorded; best of 3; one thread each");
    println!(
        "{:<26} {:>6} {:>10} {:>10} {:>8} {:>14}",
        "case", "CVs", "rall [s]", "NEURON [s]", "ratio", "rall ns/CV-step"
    );
    for (name, cell, mod_dir) in cases {
        let (rall, cvs) = rall_seconds(&cell, &options);
        let neuron = neuron_seconds(&python, &cell, &options, mod_dir.as_deref());
        let per = 1e9 * rall / (40_000.0 * cvs as f64);
        println!(
            "{name:<26} {cvs:>6} {rall:>10.3} {neuron:>10.3} {:>8.2} {per:>14.1}",
            rall / neuron
        );
    }
}
