//! NEURON side of the comparisons: a cell (exported by `rall::export::neuron_json`) in, NEURON's sampled
//! traces out (through `validation/neuron/run_neuron.py`), and the measures the agreement tests assert on.

use super::{max_or_nan, repo_path};
use rall::mechanism::Catalogue;
use rall::{Cell, RunOptions, Traces};
use std::path::Path;
use std::process::Command;

/// A CSV as the runners write it: a header and one column per name (`t` first).
pub struct Csv {
    pub header: Vec<String>,
    pub columns: Vec<Vec<f64>>,
}

impl Csv {
    pub fn read(path: &Path) -> Self {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut lines = text.lines();
        let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
        let mut columns = vec![Vec::new(); header.len()];
        for line in lines {
            for (c, x) in line.split(',').enumerate() {
                columns[c].push(x.parse::<f64>().unwrap());
            }
        }
        Self { header, columns }
    }

    pub fn column(&self, name: &str) -> &[f64] {
        let c = self
            .header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("NEURON wrote no column `{name}` (it has {:?})", self.header));
        &self.columns[c]
    }
}

/// Writes `json` to a scratch folder named by `tag`, runs `script` (a runner in `validation/neuron/`) on
/// it, and reads the CSV the runner writes.
pub fn run_script(python: &Path, script: &str, json: &serde_json::Value, tag: &str) -> Csv {
    let dir = std::env::temp_dir().join(format!("rall-neuron-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json_path, csv_path) = (dir.join("in.json"), dir.join("out.csv"));
    std::fs::write(&json_path, serde_json::to_string_pretty(json).unwrap()).unwrap();
    let out = Command::new(python)
        .arg(repo_path(&format!("validation/neuron/{script}")))
        .arg(&json_path)
        .arg(&csv_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Csv::read(&csv_path)
}

/// Runs `json` (a cell description, possibly edited by the caller) through `run_neuron.py`.
pub fn run_json(python: &Path, json: &serde_json::Value, tag: &str) -> Csv {
    run_script(python, "run_neuron.py", json, tag)
}

/// Exports `cell` and runs it in NEURON (`mod_dir`: a folder of `.mod` files NEURON compiles).
pub fn run_cell(
    python: &Path,
    cell: &Cell,
    options: &RunOptions,
    catalogue: &Catalogue,
    mod_dir: Option<&Path>,
    tag: &str,
) -> Csv {
    let json = rall::export::neuron_json(cell, options, catalogue, mod_dir).unwrap();
    run_json(python, &json, tag)
}

/// Upward crossings of `threshold` [mV], linearly interpolated [ms].
pub fn crossings(t: &[f64], v: &[f64], threshold: f64) -> Vec<f64> {
    (1..v.len())
        .filter(|&k| v[k - 1] < threshold && v[k] >= threshold)
        .map(|k| t[k - 1] + (t[k] - t[k - 1]) * (threshold - v[k - 1]) / (v[k] - v[k - 1]))
        .collect()
}

/// How one trace of rall agrees with NEURON's.
#[derive(Debug, Clone, Copy)]
pub struct Agreement {
    /// Upward crossings of -20 mV (the same number in both, or the comparison panics).
    pub spikes: usize,
    /// The largest difference of matching spike times [ms] (0 without spikes).
    pub spike_time_ms: f64,
    /// RMS and largest difference of the samples, in the trace's own unit.
    pub rms: f64,
    pub max: f64,
}

/// Compares rall's probe `name` with NEURON's column of the same name, sample by sample (NaN-aware: a
/// NaN anywhere makes `rms` and `max` NaN, so that every `<` check on them fails).
pub fn agreement(name: &str, traces: &Traces, neuron: &Csv) -> Agreement {
    let ours = traces.column(name).unwrap();
    let theirs = neuron.column(name);
    assert_eq!(ours.len(), theirs.len(), "{name}: sample counts differ");
    let d: Vec<f64> = ours.iter().zip(theirs).map(|(a, b)| (a - b).abs()).collect();
    let rms = (d.iter().map(|x| x * x).sum::<f64>() / d.len() as f64).sqrt();
    let max = max_or_nan(d.iter().copied());
    let (s_ours, s_theirs) = (
        crossings(&traces.time_ms, ours, -20.0),
        crossings(neuron.column("t"), theirs, -20.0),
    );
    assert_eq!(
        s_ours.len(),
        s_theirs.len(),
        "{name}: {} spikes in rall, {} in NEURON",
        s_ours.len(),
        s_theirs.len()
    );
    let spike_time_ms = max_or_nan(s_ours.iter().zip(&s_theirs).map(|(a, b)| (a - b).abs()));
    let a = Agreement {
        spikes: s_ours.len(),
        spike_time_ms,
        rms,
        max,
    };
    println!(
        "{name}: {} spikes, max spike-time difference {:.2e} ms, RMS {:.2e}, max {:.2e}",
        a.spikes, a.spike_time_ms, a.rms, a.max
    );
    a
}

/// Every probe of `traces` against NEURON; the worst of each measure over the probes.
pub fn worst_agreement(traces: &Traces, neuron: &Csv) -> Agreement {
    let all: Vec<Agreement> = traces.names.iter().map(|n| agreement(n, traces, neuron)).collect();
    Agreement {
        spikes: all.iter().map(|a| a.spikes).sum(),
        spike_time_ms: max_or_nan(all.iter().map(|a| a.spike_time_ms)),
        rms: max_or_nan(all.iter().map(|a| a.rms)),
        max: max_or_nan(all.iter().map(|a| a.max)),
    }
}

/// Times [ms] and values of the local maxima of an oscillation sampled at `t`, each refined by the
/// parabola through it and its two neighbours (so the phase is resolved far below the sample interval).
pub fn peaks(t: &[f64], v: &[f64]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for k in 1..v.len() - 1 {
        if v[k] > v[k - 1] && v[k] >= v[k + 1] {
            let (a, b, c) = (v[k - 1], v[k], v[k + 1]);
            let curvature = a - 2.0 * b + c;
            let shift = if curvature != 0.0 {
                0.5 * (a - c) / curvature
            } else {
                0.0
            };
            let h = t[k + 1] - t[k];
            out.push((t[k] + shift * h, b - 0.25 * (a - c) * shift));
        }
    }
    out
}

/// NEURON's `share/` folder (its `.mod` files and demos) in the installation `python` imports.
pub fn neuron_share(python: &Path) -> std::path::PathBuf {
    let out = Command::new(python)
        .args([
            "-c",
            "import neuron, os; print(os.path.join(os.path.dirname(neuron.__file__), '.data', 'share'))",
        ])
        .output()
        .unwrap();
    let share = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(share.is_dir(), "NEURON's share folder {} is missing", share.display());
    share
}

/// NEURON's name of each rall branch: Import3d creates `soma`, `axon`, `dend`, `apic` (tags 1-4) and
/// numbers the sections of each tag in the order it read them, which is rall's branch order.
pub fn neuron_section_names(m: &rall::morphology::Morphology) -> Vec<String> {
    let mut count = std::collections::HashMap::new();
    (0..m.branches.len())
        .map(|b| {
            let tag = m.branch_tag(b);
            let base = match tag {
                1 => "soma".to_string(),
                2 => "axon".into(),
                3 => "dend".into(),
                4 => "apic".into(),
                t => format!("dend_{t}"),
            };
            let k = count.entry(tag).or_insert(0);
            *k += 1;
            format!("{base}[{}]", *k - 1)
        })
        .collect()
}

/// Probes every STATE of `mechanism` at `at`, named `mechanism.state` (NEURON's runner records the same).
pub fn probe_states(cell: &mut Cell, catalogue: &Catalogue, mechanism: &str, at: &str) {
    let states: Vec<String> = catalogue
        .get(mechanism)
        .unwrap()
        .ir
        .slots
        .iter()
        .filter(|s| s.kind == rall_nmodl::ir::SlotKind::State)
        .map(|s| s.name.clone())
        .collect();
    for state in states {
        let variable = format!("{mechanism}.{state}");
        cell.probe_variable(&variable, at, &variable).unwrap();
    }
}

/// The largest difference of every probe but `v` from NEURON's, relative to the probe's largest magnitude.
pub fn worst_state_agreement(traces: &Traces, neuron: &Csv) -> f64 {
    let mut states = Vec::new();
    for name in traces.names.iter().filter(|n| *n != "v") {
        let a = agreement(name, traces, neuron);
        let scale = max_or_nan(traces.column(name).unwrap().iter().map(|x| x.abs())).max(1e-300);
        states.push(a.max / scale);
    }
    max_or_nan(states)
}

/// The smallest and largest value of a probe.
pub fn range(traces: &Traces, name: &str) -> (f64, f64) {
    traces
        .column(name)
        .unwrap()
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| (l.min(x), h.max(x)))
}

/// One CV (20 µm × 20 µm) at -70 mV with a leak (pas.g = 1e-4 S/cm²) to -70 mV.
pub fn leaky_compartment() -> Cell {
    let mut b = rall::morphology::MorphologyBuilder::new();
    b.add_cylinder(None, rall::morphology::Point3::new(0.0, 0.0, 0.0), 20.0, 10.0, 1)
        .unwrap();
    let mut cell = Cell::new(b.finish().unwrap());
    cell.policy = rall::discretize::CvPolicy::FixedPerBranch(1);
    cell.decor.cable.v_init_mv = -70.0;
    cell.paint("(all)", "pas", &[("g", 1e-4), ("e", -70.0)]).unwrap();
    cell
}

/// Runs `cell` for `t_stop_ms` (dt and sampling 0.025 ms) in rall and in NEURON (`mod_dir` compiled).
pub fn run_both(cell: &Cell, catalogue: &Catalogue, mod_dir: &Path, t_stop_ms: f64, tag: &str) -> (Traces, Csv) {
    let options = RunOptions {
        t_stop_ms,
        dt_ms: 0.025,
        sample_interval_ms: 0.025,
        ..Default::default()
    };
    let traces = rall::Simulation::single(cell, catalogue)
        .unwrap()
        .run(&options, |_| {})
        .unwrap_or_else(|e| panic!("{tag}: {e}"));
    let neuron = run_cell(&super::python(), cell, &options, catalogue, Some(mod_dir), tag);
    (traces, neuron)
}
