//! Agreement with NEURON: the same cells (exported with identical geometry and
//! discretisation) simulated by NEURON through `validation/neuron/run_neuron.py`
//! and by rall; spike times and voltages are compared.
//!
//! Needs NEURON (`pip install neuron`) in `.venv/` (made by `.ci/run`) or
//! `RALL_PYTHON`. Without it the tests say so and pass, unless
//! `RALL_REQUIRE_NEURON=1` (set by `.ci/run`), where they fail.

mod common;

use common::{python, repo_path};
use rall::export::neuron_json;
use rall::mechanism::Catalogue;
use rall::model::load_model;
use rall::zoo::hh_tree;
use rall::{Cell, RunOptions, Simulation, Traces};
use std::path::PathBuf;
use std::process::Command;

/// Runs a cell in NEURON and returns the CSV columns (t, probes...).
fn run_neuron(
    python: &PathBuf,
    cell: &Cell,
    options: &RunOptions,
    mod_dir: Option<PathBuf>,
    tag: &str,
) -> (Vec<String>, Vec<Vec<f64>>, f64) {
    let json = neuron_json(cell, options, &Catalogue::default(), mod_dir.as_deref()).unwrap();
    let dir = std::env::temp_dir().join(format!("rall-neuron-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json_path, csv_path) = (dir.join("cell.json"), dir.join("out.csv"));
    std::fs::write(&json_path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let out = Command::new(python)
        .arg(repo_path("validation/neuron/run_neuron.py"))
        .arg(&json_path)
        .arg(&csv_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "run_neuron.py failed:\n{stderr}");
    let seconds = stderr
        .lines()
        .find_map(|l| l.strip_prefix("neuron_run_seconds="))
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(f64::NAN);
    let text = std::fs::read_to_string(&csv_path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let mut columns = vec![Vec::new(); header.len()];
    for line in lines {
        for (c, x) in line.split(',').enumerate() {
            columns[c].push(x.parse::<f64>().unwrap());
        }
    }
    (header, columns, seconds)
}

/// Upward crossings of -20 mV, linearly interpolated [ms].
fn spike_times(t: &[f64], v: &[f64]) -> Vec<f64> {
    let mut spikes = Vec::new();
    for k in 1..v.len() {
        if v[k - 1] < -20.0 && v[k] >= -20.0 {
            spikes.push(t[k - 1] + (t[k] - t[k - 1]) * (-20.0 - v[k - 1]) / (v[k] - v[k - 1]));
        }
    }
    spikes
}

/// Compares every probe; returns (max spike-time difference, max RMS difference).
fn compare(
    name: &str,
    traces: &Traces,
    neuron: &(Vec<String>, Vec<Vec<f64>>, f64),
    rall_seconds: f64,
) -> (f64, f64, usize) {
    let (header, columns, neuron_seconds) = neuron;
    assert_eq!(columns[0].len(), traces.time_ms.len(), "{name}: sample counts differ");
    let (mut worst_spike, mut worst_rms, mut spikes) = (0.0f64, 0.0f64, 0);
    for (probe, ours) in traces.names.iter().zip(&traces.values) {
        let c = header
            .iter()
            .position(|h| h == probe)
            .unwrap_or_else(|| panic!("{name}: NEURON has no column {probe}"));
        let theirs = &columns[c];
        let rms = (ours.iter().zip(theirs).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / ours.len() as f64).sqrt();
        let max = ours.iter().zip(theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        let (s_ours, s_theirs) = (spike_times(&traces.time_ms, ours), spike_times(&columns[0], theirs));
        assert_eq!(
            s_ours.len(),
            s_theirs.len(),
            "{name} {probe}: {} spikes in rall, {} in NEURON",
            s_ours.len(),
            s_theirs.len()
        );
        let dt = s_ours
            .iter()
            .zip(&s_theirs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        println!(
            "{name} {probe}: {} spikes, max spike-time difference {dt:.2e} ms, RMS {rms:.2e} mV, max {max:.2e} mV",
            s_ours.len()
        );
        worst_spike = worst_spike.max(dt);
        worst_rms = worst_rms.max(rms);
        spikes += s_ours.len();
    }
    println!(
        "{name}: rall {rall_seconds:.3} s, NEURON {neuron_seconds:.3} s (run loops; ratio {:.2})",
        rall_seconds / neuron_seconds
    );
    (worst_spike, worst_rms, spikes)
}

fn run_rall(cell: &Cell, options: &RunOptions) -> (Traces, f64) {
    let mut sim = Simulation::single(cell, &Catalogue::default()).unwrap();
    let start = std::time::Instant::now();
    let traces = sim.run(options, |_| {}).unwrap();
    (traces, start.elapsed().as_secs_f64())
}

fn one_second() -> RunOptions {
    RunOptions {
        t_stop_ms: 1000.0,
        dt_ms: 0.025,
        sample_interval_ms: 0.025,
        ..Default::default()
    }
}

#[test]
fn hh_ball_and_stick_spikes_like_neuron() {
    let Some(python) = python() else { return };
    let cell = hh_tree(1, 0.2);
    let options = one_second();
    let (traces, seconds) = run_rall(&cell, &options);
    let neuron = run_neuron(&python, &cell, &options, None, "ball");
    let (spike, rms, spikes) = compare("hh ball-and-stick", &traces, &neuron, seconds);
    assert!(spikes > 20, "the cell should fire repetitively");
    assert!(
        spike < 0.05 && rms < 0.5,
        "spike-time difference {spike} ms, RMS {rms} mV"
    );
}

#[test]
fn hh_soma_with_ten_dendrites_spikes_like_neuron() {
    let Some(python) = python() else { return };
    let cell = hh_tree(10, 1.0);
    let options = one_second();
    let (traces, seconds) = run_rall(&cell, &options);
    let neuron = run_neuron(&python, &cell, &options, None, "tree");
    let (spike, rms, spikes) = compare("hh soma + 10 dendrites", &traces, &neuron, seconds);
    assert!(spikes > 20, "the cell should fire repetitively");
    assert!(
        spike < 0.05 && rms < 0.5,
        "spike-time difference {spike} ms, RMS {rms} mV"
    );
}

#[test]
fn inferior_olive_cell_on_c4a_oscillates_like_neuron() {
    let Some(python) = python() else { return };
    let model = load_model(&repo_path("examples/io_c4a.toml"), &Catalogue::default()).unwrap();
    let cell = &model.cells[0].1;
    let options = RunOptions {
        sample_interval_ms: 0.025,
        ..model.options
    };
    let (traces, seconds) = run_rall(cell, &options);
    let neuron = run_neuron(&python, cell, &options, Some(repo_path("mechanisms")), "io");
    let (spike, rms, _) = compare("inferior olive on C4A", &traces, &neuron, seconds);
    assert!(
        spike < 0.05 && rms < 0.5,
        "spike-time difference {spike} ms, RMS {rms} mV"
    );
    // The soma oscillates below threshold: check that there is something to agree on.
    let soma = traces.column("soma").unwrap();
    let late = &soma[soma.len() / 2..];
    let swing =
        late.iter().copied().fold(f64::NEG_INFINITY, f64::max) - late.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(swing > 3.0, "peak-to-peak {swing} mV in the second half");
}

#[test]
fn synapses_with_scheduled_events_match_neuron() {
    let Some(python) = python() else { return };
    let mut cell = hh_tree(1, 0.0);
    cell.place_synapse(
        "(location 1 0.5)",
        "ExpSyn",
        &[("tau", 2.0), ("e", 0.0)],
        &[50.0, 120.5, 121.0, 300.0],
        0.01,
    )
    .unwrap();
    cell.place_synapse(
        "(location 0 0.5)",
        "Exp2Syn",
        &[("tau1", 0.5), ("tau2", 5.0)],
        &[200.0, 400.0, 400.01],
        0.005,
    )
    .unwrap();
    cell.probe_variable("g_exp", "(location 1 0.5)", "ExpSyn.g").unwrap();
    cell.probe_variable("g_exp2", "(location 0 0.5)", "Exp2Syn.g").unwrap();
    let options = RunOptions {
        t_stop_ms: 500.0,
        ..one_second()
    };
    let (traces, seconds) = run_rall(&cell, &options);
    let neuron = run_neuron(&python, &cell, &options, None, "synapses");
    let (spike, rms, spikes) = compare("synapses with events", &traces, &neuron, seconds);
    assert!(
        spikes >= 2,
        "the synaptic input should make the cell fire ({spikes} spikes)"
    );
    assert!(
        spike < 0.05 && rms < 0.5,
        "spike-time difference {spike} ms, RMS {rms} mV"
    );
}

#[test]
fn calcium_written_by_a_mechanism_matches_neuron() {
    let Some(python) = python() else { return };
    // NEURON's own calcium channel (its demo cachan1.mod, GHK-like, reads cai and cao)
    // and our calcium shell (tests/fixtures/cadecay.mod, writes cai) in one folder for both simulators.
    let share = repo_path(".venv/lib")
        .read_dir()
        .unwrap()
        .flatten()
        .map(|e| e.path().join("site-packages/neuron/.data/share"))
        .find(|p| p.is_dir())
        .unwrap();
    let dir = std::env::temp_dir().join(format!("rall-calcium-mods-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(share.join("nrn/demo/release/cachan1.mod"), dir.join("cachan1.mod")).unwrap();
    std::fs::copy(
        repo_path("crates/rall/tests/fixtures/cadecay.mod"),
        dir.join("cadecay.mod"),
    )
    .unwrap();
    let mut catalogue = Catalogue::default();
    catalogue.add_file(&dir.join("cachan1.mod")).unwrap();
    catalogue.add_file(&dir.join("cadecay.mod")).unwrap();

    let mut cell = hh_tree(0, 0.3);
    cell.paint("(all)", "cachan1", &[("imax", 0.002)]).unwrap();
    cell.paint("(all)", "cadecay", &[("tau", 50.0)]).unwrap();
    cell.probe_variable("cai", "(location 0 0.5)", "cadecay.cai").unwrap();
    let options = RunOptions {
        t_stop_ms: 300.0,
        celsius: 16.0,
        ..one_second()
    };
    let mut sim = Simulation::single(&cell, &catalogue).unwrap();
    let start = std::time::Instant::now();
    let traces = sim.run(&options, |_| {}).unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let json = neuron_json(&cell, &options, &catalogue, Some(&dir)).unwrap();
    let (json_path, csv_path) = (dir.join("cell.json"), dir.join("out.csv"));
    std::fs::write(&json_path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let out = Command::new(&python)
        .arg(repo_path("validation/neuron/run_neuron.py"))
        .arg(&json_path)
        .arg(&csv_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&csv_path).unwrap();
    let header: Vec<String> = text.lines().next().unwrap().split(',').map(String::from).collect();
    let mut columns = vec![Vec::new(); header.len()];
    for line in text.lines().skip(1) {
        for (c, x) in line.split(',').enumerate() {
            columns[c].push(x.parse::<f64>().unwrap());
        }
    }
    let (spike, rms, spikes) = compare(
        "calcium shell",
        &traces,
        &(header.clone(), columns.clone(), f64::NAN),
        seconds,
    );
    assert!(
        spikes >= 3 && spike < 0.05 && rms < 0.5,
        "{spikes} spikes, spike-time difference {spike} ms, RMS {rms}"
    );
    let ours = traces.column("cai").unwrap();
    let theirs = &columns[header.iter().position(|h| h == "cai").unwrap()];
    let peak = ours.iter().copied().fold(0.0, f64::max);
    let worst = ours.iter().zip(theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    println!("calcium shell: cai rises from 5e-5 to {peak:.3e} mM; max difference from NEURON {worst:.2e} mM");
    assert!(peak > 1e-4, "calcium should accumulate (peak {peak})");
    assert!(worst < 1e-6 * peak, "cai differs by {worst} mM");
}

#[test]
fn ion_reversal_potentials_set_on_a_region_match_neuron() {
    let Some(python) = python() else { return };
    let mut cell = hh_tree(1, 0.2);
    cell.set_ion_reversal("soma", "na", 60.0).unwrap();
    cell.set_ion_reversal("dend", "k", -85.0).unwrap();
    let options = RunOptions {
        t_stop_ms: 300.0,
        ..one_second()
    };
    let (traces, seconds) = run_rall(&cell, &options);
    let neuron = run_neuron(&python, &cell, &options, None, "ions");
    let (spike, rms, spikes) = compare("regional ena/ek", &traces, &neuron, seconds);
    let (baseline, _) = run_rall(&hh_tree(1, 0.2), &options);
    let moved = traces.values[0]
        .iter()
        .zip(&baseline.values[0])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        moved > 1.0,
        "the settings should change the trace (max change {moved} mV)"
    );
    assert!(
        spikes > 3 && spike < 0.05 && rms < 0.5,
        "{spikes} spikes, spike-time difference {spike} ms, RMS {rms}"
    );
}
