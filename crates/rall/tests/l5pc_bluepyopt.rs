//! BluePyOpt's L5PC cell as BluePyOpt builds it in NEURON, against rall's reading of the same files: the
//! morphology (C060114A7.asc read by rall, axon replaced by rall's `replace_axon`, discretised with
//! BluePyOpt's `nseg = 1 + 2 int(L / 40)`) section by section against the cell BluePyOpt 1.14.26's own
//! `l5pc_model.create()` instantiates (`validation/neuron/l5pc_bluepyopt.py --sections`).
//! `#[ignore]`d for a plain `cargo test` (needs NEURON and BluePyOpt in `.venv` and the corpus).

use crate::common::neuron::{crossings, neuron_section_names, run_cell};
use crate::common::{corpus, max_or_nan, python, repo_path, run_tool};
use rall::discretize::CvPolicy;
use rall::morphology::{AxonStub, load_asc};
use serde_json::Value;
use std::path::Path;

#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn l5pc_morphology_with_the_axon_replaced_is_bluepyopts() {
    let l5pc = corpus().join("bluepyopt-1.14.26/examples/l5pc");
    run_tool(Path::new("bash"), "validation/neuron/install_bluepyopt.sh", &[]);
    let json = std::env::temp_dir().join(format!("rall-l5pc-sections-{}.json", std::process::id()));
    let out_dir = std::env::temp_dir().join(format!("rall-l5pc-{}", std::process::id()));
    let args = [
        l5pc.as_os_str(),
        out_dir.as_os_str(),
        "--sections".as_ref(),
        json.as_os_str(),
    ];
    run_tool(&python(), "validation/neuron/l5pc_bluepyopt.py", &args);
    let neuron: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let sections = neuron["sections"].as_array().unwrap();

    let read = load_asc(&l5pc.join("morphology/C060114A7.asc")).unwrap();
    let replaced = read.replace_axon(&AxonStub::default()).unwrap();
    let m = &replaced.morphology;
    let names = neuron_section_names(m);
    assert_eq!(
        sections.len(),
        m.branches.len(),
        "sections in BluePyOpt's cell and branches in rall's"
    );
    let policy = CvPolicy::OddPerLength(40.0);
    let (mut length, mut area, mut diameter) = (Vec::new(), Vec::new(), Vec::new());
    for s in sections {
        let name = s["name"].as_str().unwrap();
        let b = names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("{name}: no such rall branch"));
        let l = s["L"].as_f64().unwrap();
        length.push((m.branches[b].length_um() - l).abs() / l);
        let a = s["area"].as_f64().unwrap();
        area.push((m.lateral_area_um2(b, 0.0, 1.0) - a).abs() / a);
        let nseg = policy.boundaries(m, b, |_| (100.0, 1.0)).len() - 1;
        assert_eq!(nseg as u64, s["nseg"].as_u64().unwrap(), "{name}: nseg");
        match (m.branches[b].attachment, s["parent"].as_str()) {
            (Some(at), Some(parent)) => {
                assert_eq!(names[at.parent], parent, "{name}: parent");
                assert_eq!(
                    at.pos,
                    s["parent_x"].as_f64().unwrap(),
                    "{name}: position on the parent"
                );
            }
            (None, None) => {}
            (ours, theirs) => panic!("{name}: parent {ours:?} in rall, {theirs:?} in BluePyOpt"),
        }
        if name.starts_with("axon") {
            let d = s["segments"][0]["diam"].as_f64().unwrap();
            diameter.push((m.mean_diameter_um(b, 0.0, 1.0) - d).abs() / d);
        }
    }
    let (l, a, d) = (max_or_nan(length), max_or_nan(area), max_or_nan(diameter));
    println!(
        "L5PC, axon replaced: {} sections; lengths within {l:.1e}, areas {a:.1e}, stub diameters {:?} µm within {d:.1e} of BluePyOpt's",
        sections.len(),
        replaced.diameters_um
    );
    // Measured: 199 sections (their count, parents and nseg are checked equal above), stub diameters 1.38 and
    // 0.92 µm. NEURON's 32-bit 3D points bound the agreement (see asc_import3d.rs). Measured: lengths 7.4e-6, areas
    // 7.4e-6, stub diameters 1.8e-8 (BluePyOpt reads them from 32-bit points); limits 14x, 14x, 56x.
    assert!(l < 1e-4 && a < 1e-4, "lengths {l}, areas {a}");
    assert!(d < 1e-6, "stub diameters {d}");
}

/// The model file `examples/l5pc/l5pc_step3.toml` (BluePyOpt's original morphology, .mod files and release
/// parameters, read by rall) is BluePyOpt's cell: exported from rall and run in NEURON, and run by rall, it
/// fires as the cell BluePyOpt's own `l5pc_model` builds, under the Step3 protocol (3 s, 32 spikes).
#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn l5pc_model_file_is_bluepyopts_cell_in_neuron() {
    let l5pc = corpus().join("bluepyopt-1.14.26/examples/l5pc");
    run_tool(Path::new("bash"), "examples/l5pc/fetch.sh", &[]);
    run_tool(Path::new("bash"), "validation/neuron/install_bluepyopt.sh", &[]);
    let out_dir = std::env::temp_dir().join(format!("rall-l5pc-step3-{}", std::process::id()));
    let args = [l5pc.as_os_str(), out_dir.as_os_str(), "Step3".as_ref()];
    run_tool(&python(), "validation/neuron/l5pc_bluepyopt.py", &args);
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join("Step3.json")).unwrap()).unwrap();
    let theirs: Vec<f64> = reference["recordings"]["soma"]["spike_times"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_f64().unwrap())
        .collect();

    let catalogue = rall::mechanism::Catalogue::default();
    let mut model = rall::model::load_model(&repo_path("examples/l5pc/l5pc_step3.toml"), &catalogue).unwrap();
    model.options.sample_interval_ms = model.options.dt_ms;
    let cell = &model.cells[0].1;
    let mechanisms = repo_path("examples/l5pc/bluepyopt/mechanisms");
    let csv = run_cell(
        &python(),
        cell,
        &model.options,
        &model.catalogue,
        Some(&mechanisms),
        "l5pc-step3",
    );
    let ours = crossings(csv.column("t"), csv.column("soma"), -20.0);
    assert_eq!(
        ours.len(),
        theirs.len(),
        "spikes: rall's export {ours:?}, BluePyOpt {theirs:?}"
    );
    let worst = max_or_nan(ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()));
    println!(
        "L5PC Step3: rall's model file in NEURON fires {} spikes, BluePyOpt's cell {}; spike times within {worst:.1e} ms",
        ours.len(),
        theirs.len()
    );
    // Measured: 2.8e-4 ms over 3 s (NEURON's 32-bit 3D points of BluePyOpt's cell against rall's 64-bit
    // geometry); limit 36x.
    assert!(worst < 1e-2, "spike times differ by {worst} ms");

    // rall's own run of the model file.
    let started = std::time::Instant::now();
    let mut sim = rall::Simulation::single(cell, &model.catalogue).unwrap();
    let traces = sim.run(&model.options, |_| {}).unwrap();
    let wall = started.elapsed().as_secs_f64();
    let rall_spikes = crossings(&traces.time_ms, traces.column("soma").unwrap(), -20.0);
    let against_export = max_or_nan(rall_spikes.iter().zip(&ours).map(|(a, b)| (a - b).abs()));
    let against_bluepyopt = max_or_nan(rall_spikes.iter().zip(&theirs).map(|(a, b)| (a - b).abs()));
    println!(
        "L5PC Step3 run by rall: {} spikes in {wall:.1} s (BluePyOpt's NEURON run: {:.1} s); spike times within {against_export:.1e} ms of NEURON running rall's export, {against_bluepyopt:.1e} ms of BluePyOpt's cell",
        rall_spikes.len(),
        reference["wall_seconds"]["run"].as_f64().unwrap()
    );
    assert_eq!(
        rall_spikes.len(),
        theirs.len(),
        "rall {rall_spikes:?}, BluePyOpt {theirs:?}"
    );
    // Measured: 9.4e-5 ms from BluePyOpt's cell, 1.9e-4 ms from NEURON running rall's export, over 32
    // spikes in 3 s; limits 53x. (Before rall advanced mechanisms in NEURON's order, SK_E2 read the
    // previous step's cai here: 31 spikes, 0.4 ms late by 2.6 s.)
    assert!(
        against_bluepyopt < 5e-3,
        "rall against BluePyOpt: {against_bluepyopt} ms"
    );
    assert!(
        against_export < 1e-2,
        "rall against its export in NEURON: {against_export} ms"
    );
}
