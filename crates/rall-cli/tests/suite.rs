//! Every integration test of the `rall` command in one test binary, a module per file of this folder: one
//! build and link instead of one per file, and the tests of all files share the test threads.

// The comparison helpers of the library's tests (the NEURON runner, CSV columns, NaN-aware maxima).
mod cli;
#[path = "../../rall/tests/common/mod.rs"]
mod common;
mod example_plots;
mod fit_neuron_target;
mod jaxley_agreement;
mod nmodl_files;
mod npy_output;
mod python_package;

/// A file in this folder that is not a module above would be compiled by nothing (`autotests = false`).
#[test]
fn every_test_file_is_a_module_of_the_suite() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let suite = std::fs::read_to_string(folder.join("suite.rs")).unwrap();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(module) = name.strip_suffix(".rs")
            && module != "suite"
            && !suite.lines().any(|l| l == format!("mod {module};"))
        {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "tests/suite.rs does not include {missing:?}");
}
