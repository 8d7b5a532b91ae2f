//! Every integration test of the rall library in one test binary, a module per file of this folder: one
//! build and link instead of one per file, and the tests of all files share the test threads.

mod algebraic_neuron;
mod allocations;
mod asc_import3d;
mod built_model;
mod cell_groups;
mod common;
mod corpus_events;
mod corpus_every_file;
mod corpus_neuron;
mod cv_geometry;
mod engine_time_stepping;
mod fitting;
mod fuzz_readers;
mod gap_junctions;
mod gradients;
mod hines;
mod homeostasis;
mod import_bluepyopt;
mod l5pc_bluepyopt;
mod labels;
mod model_file;
mod netstim;
mod network_neuron;
mod neuroml_neuron;
mod neuron_agreement;
mod plasticity_neuron;
mod procedural_generators;
mod rallpacks;
mod readme_snippet;
mod scaled_paints;
mod snapshots;
mod swc_errors;
mod swc_import3d;
mod synapses;
mod weight_adjusters;

/// A file in this folder that is not a module above would be compiled by nothing (`autotests = false`).
#[test]
fn every_test_file_is_a_module_of_the_suite() {
    common::suite_files::check_every_test_file_is_a_module(env!("CARGO_MANIFEST_DIR"));
}
