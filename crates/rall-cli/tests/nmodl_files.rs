//! Real NMODL files through `rall check` and `rall run`: the catalogue, every `.mod`
//! file shipped in NEURON's wheel (accepted, or rejected with a located
//! diagnostic), and NEURON's own hh.mod and passive.mod running in rall.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn rall(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rall")).args(args).output().unwrap()
}

/// NEURON's `share/` folder inside the venv made by `.ci/run`.
fn neuron_share() -> Option<PathBuf> {
    let lib = repo(".venv/lib");
    let found = std::fs::read_dir(&lib)
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("site-packages/neuron/.data/share"))
        .find(|p| p.is_dir());
    if found.is_none() {
        if std::env::var_os("RALL_REQUIRE_NEURON").is_some() {
            panic!(
                "NEURON is required (RALL_REQUIRE_NEURON is set) but {} has no neuron package",
                lib.display()
            );
        }
        eprintln!("skipped: NEURON is not installed in .venv (run .ci/run)");
    }
    found
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
fn every_mod_file_in_neurons_wheel_is_accepted_or_rejected_with_a_located_diagnostic() {
    let Some(share) = neuron_share() else { return };
    let mut files = Vec::new();
    mod_files(&share, &mut files);
    files.sort();
    assert!(
        files.len() >= 10,
        "found only {} .mod files under {}",
        files.len(),
        share.display()
    );
    let (mut accepted, mut rejected) = (Vec::new(), Vec::new());
    for f in &files {
        let path = f.display().to_string();
        let out = rall(&["check", "-q", &path]);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!stderr.contains("panicked"), "{path}: {stderr}");
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if out.status.success() {
            accepted.push(name);
        } else {
            // The first line of a rejection names file, line and column, then shows the line with a caret.
            let first = stderr.lines().next().unwrap_or_default();
            let located = first.starts_with(&format!("{path}:")) && first.contains(": error: ");
            assert!(
                located && stderr.contains('^'),
                "{path}: rejection without a located diagnostic:\n{stderr}"
            );
            rejected.push(format!(
                "{name} ({})",
                first.split(": error: ").nth(1).unwrap_or_default()
            ));
        }
    }
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
}

#[test]
fn neurons_own_hh_and_passive_files_run_in_rall_like_the_catalogue_versions() {
    let Some(share) = neuron_share() else { return };
    let dir = std::env::temp_dir().join(format!("rall-neuron-mods-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = |mod_files: &str| {
        format!(
            r#"{mod_files}
[simulation]
t_stop = 200.0
dt = 0.025
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
"#
        )
    };
    let neuron_mods = format!(
        "mod_files = [\"{}\", \"{}\"]",
        share.join("modfile/hh.mod").display(),
        share.join("modfile/passive.mod").display()
    );
    let mut traces = Vec::new();
    for (tag, text) in [("catalogue", model("")), ("neuron", model(&neuron_mods))] {
        let (toml, csv) = (dir.join(format!("{tag}.toml")), dir.join(format!("{tag}.csv")));
        std::fs::write(&toml, text).unwrap();
        let out = rall(&["run", toml.to_str().unwrap(), "-o", csv.to_str().unwrap(), "-q"]);
        assert!(out.status.success(), "{tag}: {}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(&csv).unwrap();
        traces.push(
            text.lines()
                .skip(1)
                .map(|l| l.split(',').nth(1).unwrap().parse::<f64>().unwrap())
                .collect::<Vec<_>>(),
        );
    }
    let spikes = traces[0].windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
    assert!(spikes >= 5, "{spikes} spikes");
    let max = traces[0]
        .iter()
        .zip(&traces[1])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!("NEURON's hh.mod + passive.mod vs the catalogue's: {spikes} spikes, max difference {max:.2e} mV");
    assert!(max < 1e-6, "max difference {max} mV");
}

#[test]
fn neurons_own_expsyn_and_exp2syn_files_run_in_rall_like_the_catalogue_versions() {
    let Some(share) = neuron_share() else { return };
    let dir = std::env::temp_dir().join(format!("rall-neuron-syn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = |mod_files: &str| {
        format!(
            r#"{mod_files}
[simulation]
t_stop = 100.0
dt = 0.025
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
"#
        )
    };
    let neuron_mods = format!(
        "mod_files = [\"{}\", \"{}\"]",
        share.join("modfile/expsyn.mod").display(),
        share.join("modfile/exp2syn.mod").display()
    );
    let mut traces = Vec::new();
    for (tag, text) in [("catalogue", model("")), ("neuron", model(&neuron_mods))] {
        let (toml, csv) = (dir.join(format!("{tag}.toml")), dir.join(format!("{tag}.csv")));
        std::fs::write(&toml, text).unwrap();
        let out = rall(&["run", toml.to_str().unwrap(), "-o", csv.to_str().unwrap(), "-q"]);
        assert!(out.status.success(), "{tag}: {}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(&csv).unwrap();
        let rows: Vec<Vec<f64>> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
            .collect();
        traces.push(rows);
    }
    let peak = traces[0].iter().map(|r| r[1]).fold(f64::NEG_INFINITY, f64::max);
    assert!(peak > -60.0, "the synapses should depolarise the cell (peak {peak} mV)");
    let max = traces[0]
        .iter()
        .zip(&traces[1])
        .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
        .fold(0.0, f64::max);
    println!("NEURON's expsyn.mod + exp2syn.mod vs the catalogue's: peak {peak:.3} mV, max difference {max:.2e}");
    assert!(max < 1e-9, "max difference {max}");
}
