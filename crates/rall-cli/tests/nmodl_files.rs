//! Real NMODL files through `rall check` and `rall run`: the catalogue, every `.mod`
//! file shipped in NEURON's wheel (accepted, or rejected with a located
//! diagnostic), and NEURON's own hh.mod, passive.mod, expsyn.mod and exp2syn.mod
//! running in rall against NEURON's mechanisms compiled from the same files.
//! The tests that need NEURON's wheel are `#[ignore]`d for a plain `cargo test`;
//! `.ci/run` (which installs it into `.venv`) runs them with `--include-ignored`.

use crate::common;

use crate::common::neuron::{Csv, run_json};
use crate::common::{max_or_nan, python};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn rall(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rall")).args(args).output().unwrap()
}

/// NEURON's `share/` folder in the installation the comparisons use (`.venv`, or `RALL_PYTHON`).
fn neuron_share() -> PathBuf {
    common::neuron::neuron_share(&python())
}

/// Runs `model_text` (which names NEURON's own `.mod` files) with `rall run`, and the same model in NEURON
/// (`validation/neuron/run_neuron.py`, NEURON's built-in mechanisms of the same names, compiled from the same
/// files); returns both CSVs' columns by name.
fn rall_and_neuron(tag: &str, model_text: &str) -> (Csv, Csv) {
    let dir = std::env::temp_dir().join(format!("rall-neuron-mods-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (toml, csv) = (dir.join("model.toml"), dir.join("rall.csv"));
    std::fs::write(&toml, model_text).unwrap();
    let out = rall(&["run", toml.to_str().unwrap(), "-o", csv.to_str().unwrap(), "-q"]);
    assert!(out.status.success(), "{tag}: {}", String::from_utf8_lossy(&out.stderr));
    let model = rall::model::load_model(&toml, &rall::mechanism::Catalogue::default()).unwrap();
    let json = rall::export::neuron_json(&model.cells[0].1, &model.options, &model.catalogue, None).unwrap();
    (Csv::read(&csv), run_json(&python(), &json, tag))
}

/// The largest difference of two columns, NaN if any difference is NaN.
fn largest_difference(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    max_or_nan(a.iter().zip(b).map(|(x, y)| (x - y).abs()))
}

fn mod_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            mod_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "mod") {
            out.push(p);
        }
    }
}

#[test]
fn the_catalogue_files_are_all_accepted() {
    let mut files = Vec::new();
    mod_files(&repo("mechanisms"), &mut files);
    let args: Vec<String> = std::iter::once("check".to_string())
        .chain(files.iter().map(|f| f.display().to_string()))
        .collect();
    let out = rall(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{} accepted, 0 rejected", files.len())),
        "{stdout}"
    );
    assert!(stdout.contains("gnabar = 0.12 (S/cm2)"), "{stdout}");
}

#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn every_mod_file_in_neurons_wheel_is_accepted_or_rejected_with_a_located_diagnostic() {
    let share = neuron_share();
    let mut files = Vec::new();
    mod_files(&share, &mut files);
    files.sort();
    assert!(
        files.len() >= 10,
        "found only {} .mod files under {}",
        files.len(),
        share.display()
    );
    let (accepted, rejected) = check_all(&files);
    println!(
        "NEURON's .mod files: {} accepted, {} rejected",
        accepted.len(),
        rejected.len()
    );
    println!("accepted: {}", accepted.join(", "));
    for r in &rejected {
        println!("rejected: {r}");
    }
    for must in ["hh.mod", "passive.mod", "expsyn.mod", "exp2syn.mod"] {
        assert!(accepted.iter().any(|a| a == must), "{must} must be accepted");
    }
    assert_rejections_are_known(&files, &accepted, &rejected);
    // netstim.mod (NEURON 9: a RANDOM stream; VERBATIM only in the Random123 setup procedures hoc calls) is
    // accepted with a warning naming those procedures (run against NEURON's NetStim in tests/netstim.rs).
    let netstim = files.iter().find(|f| f.ends_with("netstim.mod")).unwrap();
    let out = rall(&["check", netstim.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("VERBATIM (embedded C) in `noiseFromRandom`, which no block of the mechanism calls"),
        "{stderr}"
    );
    // The README's figure for NEURON 9.0.2's wheel (the version `.ci/run` installs).
    assert_eq!(
        (files.len(), accepted.len(), rejected.len()),
        (18, 17, 1),
        "the README states 17 of NEURON's 18 .mod files accepted, 1 rejected (pattern.mod)"
    );
}

#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn neurons_own_hh_and_passive_files_run_in_rall_as_in_neuron() {
    let share = neuron_share();
    let model = format!(
        r#"mod_files = ["{}", "{}"]
[simulation]
t_stop = 200.0
dt = 0.025
sample_interval = 0.025
[morphology]
cylinder = [{{ length = 20.0, diameter = 20.0, tag = 1 }}, {{ parent = 0, length = 200.0, diameter = 1.0 }}]
[discretization]
policy = "max-extent"
max_extent = 20.0
[cable]
ra = 100.0
[[mechanism]]
name = "hh"
region = "soma"
[[mechanism]]
name = "pas"
region = "dend"
parameters = {{ g = 1e-4, e = -65.0 }}
[[stimulus]]
at = "(location 0 0.5)"
delay = 10.0
duration = 180.0
amplitude = 0.1
[[probe]]
name = "soma"
at = "(location 0 0.5)"
"#,
        share.join("modfile/hh.mod").display(),
        share.join("modfile/passive.mod").display()
    );
    let (ours, neuron) = rall_and_neuron("hh", &model);
    let v = ours.column("soma");
    let spikes = v.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
    assert!(spikes >= 5, "{spikes} spikes");
    let max = largest_difference(v, neuron.column("soma"));
    println!("NEURON's hh.mod + passive.mod in rall vs in NEURON: {spikes} spikes, max difference {max:.2e} mV");
    // Measured (NEURON 9.0.2): 4.9e-8 mV; limit 61x.
    assert!(max < 3e-6, "max difference {max} mV");
}

#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn neurons_own_expsyn_and_exp2syn_files_run_in_rall_as_in_neuron() {
    let share = neuron_share();
    let model = format!(
        r#"mod_files = ["{}", "{}"]
[simulation]
t_stop = 100.0
dt = 0.025
sample_interval = 0.025
[morphology]
cylinder = [{{ length = 20.0, diameter = 20.0, tag = 1 }}]
[discretization]
policy = "fixed-per-branch"
per_branch = 1
[[mechanism]]
name = "pas"
parameters = {{ g = 1e-4, e = -65.0 }}
[[synapse]]
at = "(location 0 0.5)"
mechanism = "ExpSyn"
parameters = {{ tau = 3.0 }}
events = [10.0, 30.0]
weight = 0.002
[[synapse]]
at = "(location 0 0.5)"
mechanism = "Exp2Syn"
parameters = {{ tau1 = 1.0, tau2 = 8.0 }}
events = [50.0]
weight = 0.003
[[probe]]
name = "soma"
at = "(location 0 0.5)"
[[probe]]
name = "g2"
at = "(location 0 0.5)"
variable = "Exp2Syn.g"
"#,
        share.join("modfile/expsyn.mod").display(),
        share.join("modfile/exp2syn.mod").display()
    );
    let (ours, neuron) = rall_and_neuron("syn", &model);
    let peak = ours.column("soma").iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!(peak > -60.0, "the synapses should depolarise the cell (peak {peak} mV)");
    let (v, g) = (
        largest_difference(ours.column("soma"), neuron.column("soma")),
        largest_difference(ours.column("g2"), neuron.column("g2")),
    );
    println!(
        "NEURON's expsyn.mod + exp2syn.mod in rall vs in NEURON: peak {peak:.3} mV, max difference {v:.2e} mV, g {g:.2e} µS"
    );
    // Measured (NEURON 9.0.2): 7.7e-10 mV and 5.2e-18 µS (conductance peak 3e-3 µS); limits 65x and 96x.
    assert!(v < 5e-8 && g < 5e-16, "max difference {v} mV, {g} µS");
}

/// The published models' `.mod` files (BluePyOpt 1.14.26's examples and PyNN 0.13.0, fetched by
/// `validation/corpus/fetch.sh`): each is accepted or rejected with a located diagnostic; the counts are
/// the README's.
#[test]
#[ignore = "needs the corpus (validation/corpus/fetch.sh, run by `bash .ci/run`), then `cargo test -- --include-ignored`"]
fn the_published_models_mod_files_are_accepted_or_rejected_with_a_located_diagnostic() {
    let corpus = common::corpus();
    let mut counts = Vec::new();
    for package in ["bluepyopt-1.14.26", "pynn-0.13.0"] {
        let mut files = Vec::new();
        mod_files(&corpus.join(package), &mut files);
        files.sort();
        let (accepted, rejected) = check_all(&files);
        println!("{package}: {} of {} .mod files accepted", accepted.len(), files.len());
        for r in &rejected {
            println!("  rejected: {r}");
        }
        assert_rejections_are_known(&files, &accepted, &rejected);
        counts.push((accepted.len(), files.len()));
    }
    // What rall reads today: every file but those with VERBATIM (embedded C): BluePyOpt's StochKv files and
    // 6 of PyNN's. PyNN's AlphaSyn, AlphaISyn, GammaStim and PoissonStimRefractory run procedurally.
    assert_eq!(
        counts,
        vec![(20, 22), (26, 32)],
        "(accepted, files) for BluePyOpt and PyNN"
    );
}

/// Files nocmodl compiles that rall does not accept yet, with a phrase of the first diagnostic `rall check`
/// prints for each. A ratchet: a listed file that is now accepted, or rejected for another reason, fails.
/// Empty since procedural mechanisms (run-time FROM bounds, `while`, random draws in events) were added.
const NOT_YET: [(&str, &str); 0] = [];

/// Every rejection (`name (first error)`, from [`check_all`]) is for VERBATIM or listed in [`NOT_YET`] with
/// its reason, and no listed file among `files` is accepted.
fn assert_rejections_are_known(files: &[PathBuf], accepted: &[String], rejected: &[String]) {
    let mut problems = Vec::new();
    for r in rejected {
        let (name, message) = r.split_once(' ').unwrap_or((r, ""));
        match NOT_YET.iter().find(|(n, _)| *n == name) {
            Some((_, reason)) if !message.contains(reason) => {
                problems.push(format!("{r}: expected a diagnostic naming {reason}"))
            }
            Some(_) => {}
            None if message.contains("VERBATIM") => {}
            None => problems.push(format!("{r}: not listed in NOT_YET")),
        }
    }
    for a in accepted {
        if NOT_YET.iter().any(|(n, _)| n == a) {
            problems.push(format!("{a} is accepted now: take it off NOT_YET"));
        }
    }
    let verbatim = rejected.iter().filter(|r| r.contains("VERBATIM")).count();
    println!(
        "{} files: {} accepted, {verbatim} rejected for VERBATIM, {} not yet supported",
        files.len(),
        accepted.len(),
        rejected.len() - verbatim
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

/// `rall check` on each file: the accepted names, and the rejected ones with their first diagnostic (each
/// rejection must name file, line and column and show the line with a caret).
fn check_all(files: &[PathBuf]) -> (Vec<String>, Vec<String>) {
    let (mut accepted, mut rejected) = (Vec::new(), Vec::new());
    for f in files {
        let path = f.display().to_string();
        let out = rall(&["check", "-q", &path]);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!stderr.contains("panicked"), "{path}: {stderr}");
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if out.status.success() {
            accepted.push(name);
        } else {
            let first = stderr.lines().find(|l| l.contains(": error: ")).unwrap_or_default();
            let located = first.starts_with(&format!("{path}:")) && stderr.contains('^');
            assert!(located, "{path}: rejection without a located diagnostic:\n{stderr}");
            // Files with embedded C are marked: their first error is often the declaration that goes with
            // it (BBCOREPOINTER, RANDOM).
            let verbatim = if stderr.contains("VERBATIM blocks") {
                " [uses VERBATIM]"
            } else {
                ""
            };
            rejected.push(format!(
                "{name} ({}){verbatim}",
                first.split(": error: ").nth(1).unwrap_or_default()
            ));
        }
    }
    (accepted, rejected)
}
