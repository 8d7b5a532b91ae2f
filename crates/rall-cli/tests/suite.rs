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
    common::suite_files::check_every_test_file_is_a_module(env!("CARGO_MANIFEST_DIR"));
}
