//! Fitting a target rall did not make: NEURON simulates the hh tree (soma + 10 dendrites) with changed
//! conductances (`validation/jaxley/hh_tree_neuron_json.py` + `validation/neuron/run_neuron.py`), and
//! `rall fit` recovers the changes from NEURON's soma trace.

use crate::common;

use std::path::PathBuf;
use std::process::Command;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn rall_fit_recovers_conductances_from_a_neuron_trace() {
    let python = common::python();
    let dir = std::env::temp_dir().join(format!("rall-fit-neuron-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json, target) = (dir.join("tree.json"), dir.join("target.csv"));
    let truth = [1.05, 0.9, 1.2];
    let out = Command::new(&python)
        .arg(repo("validation/jaxley/hh_tree_neuron_json.py"))
        .arg(&json)
        .args([
            format!("gnabar={}", truth[0]),
            format!("gkbar={}", truth[1]),
            format!("gl={}", truth[2]),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(&python)
        .arg(repo("validation/neuron/run_neuron.py"))
        .arg(&json)
        .arg(&target)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let model = std::fs::read_to_string(repo("examples/hh_tree.toml")).unwrap()
        + &format!(
            r#"
[fit]
optimizer = "lbfgs"
space = "log"
iterations = 60
target = "{}"

[[fit.parameter]]
name = "hh.gnabar"
[[fit.parameter]]
name = "hh.gkbar"
[[fit.parameter]]
name = "hh.gl"
"#,
            target.display()
        );
    let model_path = repo("examples").join(format!(".fit-neuron-{}.toml", std::process::id()));
    std::fs::write(&model_path, model).unwrap();
    let (csv, best) = (dir.join("fit.csv"), dir.join("fit.json"));
    let out = Command::new(env!("CARGO_BIN_EXE_rall"))
        .args([
            "fit",
            model_path.to_str().unwrap(),
            "-o",
            csv.to_str().unwrap(),
            "--json",
            best.to_str().unwrap(),
            "-q",
        ])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&model_path);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    let text = std::fs::read_to_string(&best).unwrap();
    for (name, t) in ["hh.gnabar", "hh.gkbar", "hh.gl"].iter().zip(truth) {
        let m: f64 = text
            .split(&format!("\"{name}\":"))
            .nth(1)
            .unwrap()
            .split([',', '\n', '}'])
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let error = (m / t - 1.0).abs();
        println!("{name}: recovered {m:.15}, relative error {error:.1e}");
        // Measured: 7.5e-13 at most (5.3e-13 before the compiled exp used fused multiply-adds; NEURON and
        // rall agree to ~1e-8 mV); limit 67x.
        assert!(error < 5e-11, "{name}: recovered {m}, NEURON's truth {t}\n{stdout}");
    }
}
