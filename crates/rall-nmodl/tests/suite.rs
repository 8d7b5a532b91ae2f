//! Every integration test of the NMODL front end in one test binary, a module per file of this folder.

mod compiled_backend;
mod passes;
mod procedural;

// The check below, shared with the other crates' suites.
#[path = "../../rall/tests/common/suite_files.rs"]
mod suite_files;

/// A file in this folder that is not a module above would be compiled by nothing (`autotests = false`).
#[test]
fn every_test_file_is_a_module_of_the_suite() {
    suite_files::check_every_test_file_is_a_module(env!("CARGO_MANIFEST_DIR"));
}
