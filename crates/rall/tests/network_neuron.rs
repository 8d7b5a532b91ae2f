//! Networks against NEURON: the ring of 10 ball-and-stick cells of NEURON's ring tutorial, and 50 hh cells
//! with random fixed in-degree connections driven by Poisson inputs, exported with identical geometry and
//! wiring (`rall::export::neuron_network_json`) and run by `validation/neuron/run_network.py`; spike counts
//! per cell must be identical and spike times within 0.1 ms over 1 s.
//! Needs NEURON in `.venv/` (see `neuron_agreement.rs`).

mod common;

use common::{python, repo_path};
use rall::export::neuron_network_json;
use rall::mechanism::Catalogue;
use rall::model::{Model, load_model};
use rall::network::Spike;
use rall::{RunOptions, Simulation};
use std::process::Command;

fn neuron_spikes(python: &std::path::Path, model: &Model, options: &RunOptions, tag: &str) -> Vec<(f64, usize)> {
    let network = model.network.as_ref().unwrap();
    let json = neuron_network_json(network, options, &model.catalogue, None).unwrap();
    let dir = std::env::temp_dir().join(format!("rall-network-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json_path, csv_path) = (dir.join("network.json"), dir.join("spikes.csv"));
    std::fs::write(&json_path, serde_json::to_string(&json).unwrap()).unwrap();
    let out = Command::new(python)
        .arg(repo_path("validation/neuron/run_network.py"))
        .arg(&json_path)
        .arg(&csv_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "run_network.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv_path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let (t, g) = l.split_once(',').unwrap();
            (t.parse().unwrap(), g.parse().unwrap())
        })
        .collect()
}

fn rall_spikes(model: &Model, options: &RunOptions) -> Vec<Spike> {
    let mut sim = Simulation::network(model.network.as_ref().unwrap(), &model.catalogue).unwrap();
    sim.run(options, |_| {}).unwrap().spikes
}

/// Compares per-cell spike trains; returns (spikes of the cells, largest time difference [ms]).
fn compare(rall: &[Spike], neuron: &[(f64, usize)], cells: usize) -> (usize, f64) {
    let mut worst: f64 = 0.0;
    let mut total = 0;
    for gid in 0..cells {
        let a: Vec<f64> = rall.iter().filter(|s| s.gid == gid).map(|s| s.t_ms).collect();
        let b: Vec<f64> = neuron.iter().filter(|s| s.1 == gid).map(|s| s.0).collect();
        assert_eq!(
            a.len(),
            b.len(),
            "cell {gid}: rall {} spikes, NEURON {}",
            a.len(),
            b.len()
        );
        for (x, y) in a.iter().zip(&b) {
            worst = worst.max((x - y).abs());
        }
        total += a.len();
    }
    (total, worst)
}

#[test]
fn the_ring_network_spikes_as_in_neuron() {
    let Some(python) = python() else { return };
    let model = load_model(&repo_path("examples/ring.toml"), &Catalogue::default()).unwrap();
    let options = model.options;
    let rall = rall_spikes(&model, &options);
    let neuron = neuron_spikes(&python, &model, &options, "ring");
    let (count, worst) = compare(&rall, &neuron, 10);
    eprintln!("ring: {count} spikes, largest time difference {worst:.2e} ms");
    assert!(
        count >= 100,
        "the wave should travel round the ring many times ({count} spikes)"
    );
    assert!(worst < 0.1, "{worst} ms");
}

#[test]
fn a_random_network_with_poisson_input_spikes_as_in_neuron() {
    let Some(python) = python() else { return };
    let model = load_model(&repo_path("examples/random_network.toml"), &Catalogue::default()).unwrap();
    let options = model.options;
    let rall = rall_spikes(&model, &options);
    let neuron = neuron_spikes(&python, &model, &options, "random");
    let (count, worst) = compare(&rall, &neuron, 50);
    eprintln!("random network: {count} spikes, largest time difference {worst:.2e} ms");
    assert!(count >= 200, "{count} spikes");
    assert!(worst < 0.1, "{worst} ms");
}
