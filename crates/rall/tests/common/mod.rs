//! Shared test helpers: reference traces in, analytic cable solutions and error measures out.
#![allow(dead_code)]

pub mod neuron;
pub mod suite_files;

use std::path::PathBuf;
use std::process::Command;

pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative)
}

/// Reads a two-column Rallpack reference (time [s], voltage [V]) as (ms, mV).
pub fn read_reference(name: &str) -> (Vec<f64>, Vec<f64>) {
    let path = repo_path(&format!("validation/rallpack/{name}"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut t = Vec::new();
    let mut v = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut it = line.split_whitespace().map(|x| x.parse::<f64>().unwrap());
        t.push(it.next().unwrap() * 1e3);
        v.push(it.next().unwrap() * 1e3);
    }
    (t, v)
}

/// RMS and maximum absolute difference, each divided by the reference's range.
pub fn relative_errors(reference: &[f64], actual: &[f64]) -> (f64, f64) {
    assert_eq!(reference.len(), actual.len());
    let lo = reference.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = reference.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let range = hi - lo;
    let mut sum = 0.0;
    let mut max: f64 = 0.0;
    for (r, a) in reference.iter().zip(actual) {
        let d = (r - a).abs();
        sum += d * d;
        max = if d.is_nan() || max.is_nan() {
            f64::NAN
        } else {
            max.max(d)
        };
    }
    ((sum / reference.len() as f64).sqrt() / range, max / range)
}

/// Step response of a finite sealed-end passive cable to a current `i_na`
/// injected at X = 0 from T = 0: the membrane-potential deviation [mV] at
/// electrotonic position `x` on a cable of electrotonic length `l`, at
/// `t_over_tau`, for input impedance scale `r_inf_mohm` (= r_a λ).
///
/// V = I R∞ [cosh(L-X)/sinh L - e^{-T}/L - (2/L) Σ_n e^{-(1+k²)T} cos(kX)/(1+k²)], k = nπ/L.
pub fn sealed_cable_step_mv(x: f64, l: f64, t_over_tau: f64, r_inf_mohm: f64, i_na: f64) -> f64 {
    if t_over_tau <= 0.0 {
        return 0.0;
    }
    let mut v = (l - x).cosh() / l.sinh() - (-t_over_tau).exp() / l;
    let mut n = 1;
    loop {
        let k = n as f64 * std::f64::consts::PI / l;
        let decay = (-(1.0 + k * k) * t_over_tau).exp();
        let term = 2.0 / l * decay * (k * x).cos() / (1.0 + k * k);
        v -= term;
        if decay / (1.0 + k * k) < 1e-16 || n > 2_000_000 {
            break;
        }
        n += 1;
    }
    // MΩ · nA = mV
    r_inf_mohm * i_na * v
}

/// The largest of `values` (non-negative ones: differences, magnitudes; the fold starts at 0), or NaN if
/// any of them is NaN (`f64::max` would drop it), so that a NaN
/// difference fails every `<` check made on the result.
pub fn max_or_nan(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(
        0.0,
        |m: f64, x| if m.is_nan() || x.is_nan() { f64::NAN } else { m.max(x) },
    )
}

/// The Python with NEURON: `RALL_PYTHON` or `.venv/bin/python`. The comparison tests are `#[ignore]`d
/// for a plain `cargo test` (`.ci/run` runs them with `--include-ignored`); one that is asked to run without NEURON fails here, saying why.
pub fn python() -> PathBuf {
    let candidate = std::env::var_os("RALL_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_path(".venv/bin/python"));
    let ok = Command::new(&candidate)
        .args(["-c", "import neuron"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "this comparison needs NEURON, but `{} -c 'import neuron'` failed (run `bash .ci/run` once to make .venv)",
        candidate.display()
    );
    candidate
}

/// The folder of third-party model files, fetched on first use by `validation/corpus/fetch.sh` into a cache
/// outside the repository.
pub fn corpus() -> PathBuf {
    let out = Command::new("bash")
        .arg(repo_path("validation/corpus/fetch.sh"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fetch.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Runs `program` (`python()` or `bash`) on a script of the repository with arguments; panics with its
/// stderr if it fails.
pub fn run_tool(program: &std::path::Path, script: &str, args: &[&std::ffi::OsStr]) {
    let out = Command::new(program)
        .arg(repo_path(script))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{script}: {e}"));
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The hh ball-and-stick with a two-state KINETIC channel on the soma (solved implicitly), a calcium current
/// and a calcium shell that writes cai everywhere (so eca follows Nernst), and an ExpSyn on the dendrite
/// receiving events at `event_times_ms`; with its catalogue (the fixtures' `.mod` files added).
pub fn kinetic_calcium_synapse_cell(event_times_ms: &[f64]) -> (rall::Cell, rall::mechanism::Catalogue) {
    let dir = repo_path("crates/rall/tests/fixtures");
    let mut catalogue = rall::mechanism::Catalogue::default();
    for f in ["kinetic_k.mod", "cahigh.mod", "cadecay.mod"] {
        catalogue.add_file(&dir.join(f)).unwrap();
    }
    let mut cell = rall::zoo::hh_tree(1, 0.15);
    cell.paint("soma", "kinetic_k", &[("gbar", 0.002)]).unwrap();
    cell.paint("(all)", "cahigh", &[("gbar", 0.0005)]).unwrap();
    cell.paint("(all)", "cadecay", &[("tau", 30.0)]).unwrap();
    cell.place_synapse("(location 1 0.5)", "ExpSyn", &[("tau", 2.0)], event_times_ms, 0.004)
        .unwrap();
    (cell, catalogue)
}
