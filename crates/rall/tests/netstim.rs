//! rall's built-in NetStim spike source, and NEURON's own `netstim.mod` run procedurally as an ARTIFICIAL_CELL,
//! against NEURON's own NetStim: without noise the same spike times for NEURON's defaults, a negative start, a fractional
//! number and an interval of 0; with noise, the interval statistics NetStim's rules give (a floor of
//! `(1 - noise) · interval` and the mean `interval`), for rall's trains and NEURON's.
//! The NEURON comparison is `#[ignore]`d for a plain `cargo test` (`.ci/run` runs it).

use crate::common;

use crate::common::{python, run_tool};
use rall::network::SpikeSource;
use serde_json::{Value, json};

fn netstim(interval_ms: f64, number: f64, start_ms: f64, noise: f64) -> SpikeSource {
    SpikeSource::NetStim {
        interval_ms,
        number,
        start_ms,
        noise,
        seed: 7,
    }
}

/// NEURON's NetStim trains for `(interval, number, start, noise)` parameter sets over `tstop` ms.
/// `tag` names the run's folder (tests run in parallel in one process).
fn neuron_trains(sets: &[(f64, f64, f64, f64)], tstop: f64, tag: &str) -> Vec<Vec<f64>> {
    let dir = std::env::temp_dir().join(format!("rall-netstim-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let stims: Vec<Value> = sets
        .iter()
        .map(|(i, n, s, x)| json!({"interval": i, "number": n, "start": s, "noise": x}))
        .collect();
    let (input, output) = (dir.join("in.json"), dir.join("out.json"));
    std::fs::write(&input, json!({"tstop": tstop, "stims": stims}).to_string()).unwrap();
    run_tool(
        &python(),
        "validation/neuron/netstim_times.py",
        &[input.as_os_str(), output.as_os_str()],
    );
    let out: Value = serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    out["times"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect())
        .collect()
}

/// Mean and smallest interval of a train.
fn interval_stats(train: &[f64]) -> (f64, f64) {
    let isi: Vec<f64> = train.windows(2).map(|w| w[1] - w[0]).collect();
    let mean = isi.iter().sum::<f64>() / isi.len() as f64;
    (mean, isi.iter().copied().fold(f64::INFINITY, f64::min))
}

#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn netstim_gives_neurons_trains() {
    let tstop = 20_000.0;
    let regular = [
        (10.0, 10.0, 50.0, 0.0), // NEURON's defaults
        (3.7, 25.0, 1.3, 0.0),
        (5.0, 4.5, 2.0, 0.0),  // 5 spikes: NetStim counts until `ispike >= number`
        (5.0, 3.0, -1.0, 0.0), // off
        (0.0, 3.0, 2.0, 0.0),  // an interval of 0 becomes 0.01 ms
        (25.0, 1e9, 0.0, 0.0), // runs to the end
    ];
    let noisy = [(10.0, 1e9, 0.0, 1.0), (10.0, 1e9, 0.0, 0.5)];
    let all: Vec<_> = regular.iter().chain(&noisy).copied().collect();
    let neuron = neuron_trains(&all, tstop, "built-in");
    for (k, &(i, n, s, x)) in regular.iter().enumerate() {
        let ours = netstim(i, n, s, x).times(tstop);
        assert_eq!(
            ours.len(),
            neuron[k].len(),
            "{:?}: {ours:?} vs {:?}",
            regular[k],
            neuron[k]
        );
        let worst = ours
            .iter()
            .zip(&neuron[k])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        println!(
            "NetStim {:?}: {} spikes, times within {worst:.1e} ms",
            regular[k],
            ours.len()
        );
        // Measured: 0 to 1.8e-15 ms (the same sums of intervals); tolerance 1e-9 ms (bit-level sums differ at most
        // by round-off; a different rule would differ by a whole interval).
        assert!(worst < 1e-9, "{:?}: {worst:.2e} ms", regular[k]);
    }
    for (k, &(i, n, s, x)) in noisy.iter().enumerate() {
        let ours = netstim(i, n, s, x).times(tstop);
        let theirs = &neuron[regular.len() + k];
        let ((m_ours, floor_ours), (m_theirs, floor_theirs)) = (interval_stats(&ours), interval_stats(theirs));
        println!(
            "NetStim noise {x}: rall {} spikes, mean interval {m_ours:.3} ms, floor {floor_ours:.3}; NEURON {}, \
             {m_theirs:.3}, {floor_theirs:.3}",
            ours.len(),
            theirs.len()
        );
        // ~2000 intervals: the mean's standard error is noise · 10 / √2000 ≤ 0.22 ms; allow 4 of them.
        // Measured: 10.004 ms (noise 1) and 10.009 ms (noise 0.5).
        for m in [m_ours, m_theirs] {
            assert!((m - i).abs() < 0.9, "mean interval {m:.3} ms, NetStim's is {i}");
        }
        let floor = (1.0 - x) * i;
        assert!(floor_ours >= floor - 1e-9 && floor_ours < floor + 0.1, "{floor_ours}");
        assert!(
            floor_theirs >= floor - 1e-9 && floor_theirs < floor + 0.1,
            "{floor_theirs}"
        );
    }
}

/// The spike train of NEURON 9.0.2's own `netstim.mod` (its wheel's file, unchanged: RANDOM, `random_negexp`,
/// run procedurally; the VERBATIM procedures it keeps for hoc are skipped) as an ARTIFICIAL_CELL on a cell.
fn file_train(share: &std::path::Path, (interval, number, start, noise): (f64, f64, f64, f64), tstop: f64) -> Vec<f64> {
    let text = format!(
        r#"
mod_files = ["{}"]
[simulation]
t_stop = {tstop}
dt = 0.025
[morphology]
cylinder = [{{ length = 10.0, diameter = 10.0, tag = 1 }}]
[[mechanism]]
name = "pas"
[[synapse]]
at = "(location 0 0.5)"
mechanism = "NetStim"
parameters = {{ interval = {interval}, number = {number}, start = {start}, noise = {noise} }}
[[detector]]
synapse = 0
"#,
        share.join("modfile/netstim.mod").display()
    );
    let model = rall::model::parse_model(
        &text,
        "netstim_file.toml",
        std::path::Path::new("."),
        &rall::mechanism::Catalogue::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut sim = rall::Simulation::single(&model.cells[0].1, &model.catalogue).unwrap();
    sim.run(&model.options, |_| {})
        .unwrap()
        .spikes
        .iter()
        .map(|s| s.t_ms)
        .collect()
}

#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn neurons_netstim_file_runs_procedurally_as_neurons_netstim() {
    let share = common::neuron::neuron_share(&python());
    let tstop = 20_000.0;
    let regular = [
        (10.0, 10.0, 50.0, 0.0),
        (3.7, 25.0, 1.3, 0.0),
        (5.0, 4.5, 2.0, 0.0),
        (0.0, 3.0, 2.0, 0.0),
        (25.0, 1e9, 0.0, 0.0),
    ];
    let noisy = [(10.0, 1e9, 0.0, 1.0), (10.0, 1e9, 0.0, 0.5)];
    let all: Vec<_> = regular.iter().chain(&noisy).copied().collect();
    let neuron = neuron_trains(&all, tstop, "file");
    for (k, set) in regular.iter().enumerate() {
        let ours = file_train(&share, *set, tstop);
        // A spike due exactly at t_stop: NEURON's continuerun delivers it, rall's run ends before it.
        let theirs: Vec<f64> = neuron[k].iter().copied().filter(|&t| t < tstop).collect();
        assert_eq!(ours.len(), theirs.len(), "{set:?}: {ours:?} vs {theirs:?}");
        let worst = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        println!(
            "netstim.mod {set:?}: {} spikes, times within {worst:.1e} ms of NEURON's",
            ours.len()
        );
        // Measured: 0 to 1.8e-15 ms (the same sums of intervals); tolerance 1e-9 ms as above.
        assert!(worst < 1e-9, "{set:?}: {worst:.2e} ms");
    }
    for (k, &(i, n, s, x)) in noisy.iter().enumerate() {
        let ours = file_train(&share, (i, n, s, x), tstop);
        let (mean, floor) = interval_stats(&ours);
        let (m_theirs, _) = interval_stats(&neuron[regular.len() + k]);
        println!(
            "netstim.mod noise {x}: {} spikes, mean interval {mean:.3} ms (NEURON {m_theirs:.3}), floor {floor:.3}",
            ours.len()
        );
        // As above: 4 standard errors of the mean; the floor (1 - noise) · interval. Measured: 9.641 ms (noise 1,
        // 1.6 standard errors) and 9.839 ms (noise 0.5).
        assert!((mean - i).abs() < 0.9, "mean interval {mean:.3} ms, NetStim's is {i}");
        let least = (1.0 - x) * i;
        assert!(floor >= least - 1e-9 && floor < least + 0.1, "{floor}");
    }
}
