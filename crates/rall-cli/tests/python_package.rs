//! The Python package (`python/`, its extension module from `crates/rall-python`) runs its pytest suite
//! against this crate's `rall` binary and NEURON: the same traces and sensitivities as the command line, SciPy
//! fits with exact gradients, errors and Ctrl-C. The package is assembled from the extension cargo built for
//! these tests (what `pip install ./python` builds with maturin, in this build's profile).
//!
//! The JAX wrapper's tests (`python/tests_jax`) run in `.venv-jaxley`, which has JAX.
//!
//! Needs numpy, scipy, pytest and NEURON in `.venv`, and pytest in `.venv-jaxley` (both made by `.ci/run`);
//! `#[ignore]`d for a plain `cargo test`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// `rall/` with the package's Python files and the extension module as `_rall.abi3.so`, in a folder of
/// `name` (one per test: the tests run in parallel).
fn assemble_package(name: &str) -> PathBuf {
    let deps = std::env::current_exe()
        .expect("test binary path")
        .parent()
        .expect("deps folder")
        .to_path_buf();
    let extension = ["lib_rall.so", "lib_rall.dylib"]
        .iter()
        .map(|name| deps.join(name))
        .find(|p| p.exists())
        .expect("cargo builds the rall-python dev-dependency's extension module next to this test");
    let site = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let package = site.join("rall");
    let _ = std::fs::remove_dir_all(&site);
    std::fs::create_dir_all(&package).unwrap();
    for entry in std::fs::read_dir(repo("python/rall")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "py") {
            std::fs::copy(&path, package.join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::copy(&extension, package.join("_rall.abi3.so")).unwrap();
    site
}

/// The interpreter `variable` names, else `default` (a path in the repository).
fn python_from(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo(default))
}

/// Runs pytest on `tests` (a folder of `python/`) with `python`, which must import `modules` besides numpy
/// and pytest, and the assembled package; panics with the report unless every test passed.
fn pytest(python: &Path, modules: &str, tests: &str, site: &Path) {
    let ready = Command::new(python)
        .args(["-c", &format!("import numpy, pytest, {modules}")])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ready,
        "{tests} needs numpy, pytest and {modules} in {} (run `bash .ci/run` once to make it)",
        python.display()
    );
    let output = Command::new(python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(repo(tests))
        .env("PYTHONPATH", site)
        .env("RALL_CLI", env!("CARGO_BIN_EXE_rall"))
        .output()
        .expect("runs pytest");
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{tests}:\n{report}{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "{tests}: the pytest suite failed (report above)"
    );
    // Every test ran: none skipped for a missing tool.
    let summary = report.lines().last().unwrap_or_default();
    assert!(
        summary.contains("passed") && !summary.contains("skipped") && !summary.contains("failed"),
        "{tests}: {summary}"
    );
}

#[test]
#[ignore = "needs numpy, scipy, pytest and NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn python_package_passes_its_pytest_suite() {
    let python = python_from("RALL_PYTHON", ".venv/bin/python");
    pytest(
        &python,
        "scipy, neuron",
        "python/tests",
        &assemble_package("python-package"),
    );
}

#[test]
#[ignore = "needs JAX and pytest in .venv-jaxley: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn jax_wrapper_passes_its_tests() {
    let python = python_from("RALL_JAX_PYTHON", ".venv-jaxley/bin/python");
    pytest(
        &python,
        "jax",
        "python/tests_jax",
        &assemble_package("python-package-jax"),
    );
}
