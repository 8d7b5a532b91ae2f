//! `rall import bluepyopt` on BluePyOpt 1.14.26's own example folders (fetched into a cache outside the
//! repository by `validation/corpus/fetch.sh`), against BluePyOpt's cells in NEURON
//! (`validation/neuron/l5pc_bluepyopt.py`, `validation/neuron/tc_bluepyopt.py`): the imported L5PC under the
//! Step1 and bAP protocols (the bAP's dendritic recordings at 660 and 800 µm where BluePyOpt puts them),
//! and the imported model against the hand-written `examples/l5pc/l5pc_step3.toml`.
//! `#[ignore]`d for a plain `cargo test` (needs the corpus, NEURON and BluePyOpt; `.ci/run` has them).

use crate::common;

use crate::common::neuron::{Csv, crossings};
use crate::common::{corpus, max_or_nan, python, repo_path, run_tool};
use rall::import::{ImportOptions, import_bluepyopt};
use rall::mechanism::Catalogue;
use rall::model::{Model, load_model};
use std::path::{Path, PathBuf};

fn l5pc_folder() -> PathBuf {
    corpus().join("bluepyopt-1.14.26/examples/l5pc")
}

/// Imports `folder` under `options` into a scratch model file and loads it.
fn imported(folder: &Path, options: &ImportOptions, tag: &str) -> Model {
    let dir = std::env::temp_dir().join(format!("rall-import-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = import_bluepyopt(folder, options, &dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("model.toml");
    std::fs::write(&path, &text).unwrap();
    load_model(&path, &Catalogue::default()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn protocol(name: &str) -> ImportOptions {
    ImportOptions {
        protocol: Some(name.into()),
        ..Default::default()
    }
}

/// The imported Step3 model runs exactly as the hand-written model file, which is checked against
/// BluePyOpt's cell in NEURON in `l5pc_bluepyopt.rs`.
#[test]
#[ignore = "needs the corpus: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn the_imported_l5pc_runs_as_the_hand_written_model_file() {
    run_tool(Path::new("bash"), "examples/l5pc/fetch.sh", &[]);
    let mut ours = imported(&l5pc_folder(), &protocol("Step3"), "step3");
    let mut hand = load_model(&repo_path("examples/l5pc/l5pc_step3.toml"), &Catalogue::default()).unwrap();
    for m in [&mut ours, &mut hand] {
        m.options.t_stop_ms = 800.0; // through the first spikes of the step at 700 ms
    }
    let run = |m: &Model| {
        rall::Simulation::single(&m.cells[0].1, &m.catalogue)
            .unwrap()
            .run(&m.options, |_| {})
            .unwrap()
    };
    let (a, b) = (run(&ours), run(&hand));
    let (va, vb) = (a.column("soma").unwrap(), b.column("soma").unwrap());
    let spikes = crossings(&a.time_ms, va, -20.0).len();
    let worst = max_or_nan(va.iter().zip(vb).map(|(x, y)| (x - y).abs()));
    println!("imported L5PC vs examples/l5pc/l5pc_step3.toml over 800 ms ({spikes} spikes): {worst:.1e} mV");
    assert!(spikes > 0, "the step should make the cell fire");
    // Measured: 0 (the same cell, the same floating-point operations); limit: round-off.
    assert!(worst <= 1e-9, "{worst} mV");
}

/// The imported model under BluePyOpt's Step1 (3 s) and bAP (600 ms, recordings at 660 and 800 µm from the
/// soma in the apical tree) protocols against BluePyOpt's own `l5pc_model` cell in NEURON.
#[test]
#[ignore = "needs NEURON and BluePyOpt in .venv and the corpus: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn the_imported_l5pc_runs_bluepyopts_step1_and_bap_protocols_as_in_neuron() {
    run_tool(Path::new("bash"), "validation/neuron/install_bluepyopt.sh", &[]);
    let folder = l5pc_folder();
    let out_dir = std::env::temp_dir().join(format!("rall-import-l5pc-neuron-{}", std::process::id()));
    let args = [
        folder.as_os_str(),
        out_dir.as_os_str(),
        "Step1".as_ref(),
        "bAP".as_ref(),
    ];
    run_tool(&python(), "validation/neuron/l5pc_bluepyopt.py", &args);
    let mut report = Vec::new();
    for (name, probes) in [("Step1", &["soma"][..]), ("bAP", &["soma", "dend1", "dend2"][..])] {
        let neuron = Csv::read(&out_dir.join(format!("{name}.csv")));
        let mut model = imported(&folder, &protocol(name), name);
        model.options.sample_interval_ms = model.options.dt_ms;
        let started = std::time::Instant::now();
        let traces = rall::Simulation::single(&model.cells[0].1, &model.catalogue)
            .unwrap()
            .run(&model.options, |_| {})
            .unwrap();
        let wall = started.elapsed().as_secs_f64();
        for probe in probes {
            let (ours, theirs) = (traces.column(probe).unwrap(), neuron.column(probe));
            assert_eq!(ours.len(), theirs.len(), "{name} {probe}: samples");
            let threshold = if *probe == "soma" { -20.0 } else { -55.0 };
            let (s_ours, s_theirs) = (
                crossings(&traces.time_ms, ours, threshold),
                crossings(neuron.column("t"), theirs, threshold),
            );
            assert_eq!(
                s_ours.len(),
                s_theirs.len(),
                "{name} {probe}: spikes {s_ours:?} vs {s_theirs:?}"
            );
            let spike_time = max_or_nan(s_ours.iter().zip(&s_theirs).map(|(a, b)| (a - b).abs()));
            let v = max_or_nan(ours.iter().zip(theirs).map(|(a, b)| (a - b).abs()));
            println!(
                "{name} {probe}: {} crossings of {threshold} mV within {spike_time:.1e} ms, voltage within {v:.1e} mV \
                 (rall {wall:.1} s)",
                s_ours.len()
            );
            report.push((name, *probe, s_ours.len(), spike_time, v));
        }
    }
    let step1_spikes = report[0].2;
    assert!(
        step1_spikes > 5,
        "Step1 should make the soma fire ({step1_spikes} spikes)"
    );
    let spike_time = max_or_nan(report.iter().map(|r| r.3));
    let bap_dendrite = max_or_nan(report.iter().filter(|r| r.1 != "soma").map(|r| r.4));
    // Measured: spike times within 6.4e-6 ms (Step1: 14 spikes in 3 s; bAP: soma 1.1e-8 ms, dendrites
    // 4.6e-7 ms), the bAP's dendritic voltages within 6.5e-6 mV at 660 µm and 5.1e-6 mV at 800 µm (the
    // issue asks for spike times within 0.05 ms). Limits 47x, 46x.
    assert!(spike_time < 3e-4, "spike times differ by {spike_time} ms");
    assert!(
        bap_dendrite < 3e-4,
        "bAP dendritic voltages differ by {bap_dendrite} mV"
    );
}

/// The thalamocortical example (recipe layout), e-type cAD_ltb with the optimised model of row 62 (the
/// example notebook's), the Step_200 protocol's first 1000 ms (the burst from rest, the holding current and
/// 200 ms of the step): rall's run of the imported model, and NEURON running rall's export of it, against
/// BluePyOpt's own cell in NEURON.
#[test]
#[ignore = "needs NEURON and BluePyOpt in .venv and the corpus: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn the_imported_thalamocortical_cell_runs_as_bluepyopts_in_neuron() {
    run_tool(Path::new("bash"), "validation/neuron/install_bluepyopt.sh", &[]);
    let folder = corpus().join("bluepyopt-1.14.26/examples/thalamocortical-cell");
    let csv = std::env::temp_dir().join(format!("rall-import-tc-{}.csv", std::process::id()));
    let t_stop = 1000.0;
    let args = [
        folder.as_os_str(),
        "cAD_ltb".as_ref(),
        "62".as_ref(),
        "Step_200".as_ref(),
        csv.as_os_str(),
        "--tstop".as_ref(),
        "1000".as_ref(),
    ];
    run_tool(&python(), "validation/neuron/tc_bluepyopt.py", &args);
    let neuron = Csv::read(&csv);
    let options = ImportOptions {
        protocol: Some("Step_200".into()),
        etype: Some("cAD_ltb".into()),
        row: Some(62),
        params: None,
    };
    let mut model = imported(&folder, &options, "tc");
    model.options.t_stop_ms = t_stop;
    model.options.sample_interval_ms = model.options.dt_ms;
    let cell = &model.cells[0].1;
    let traces = rall::Simulation::single(cell, &model.catalogue)
        .unwrap()
        .run(&model.options, |_| {})
        .unwrap();
    let export = common::neuron::run_cell(
        &python(),
        cell,
        &model.options,
        &model.catalogue,
        Some(&folder.join("mechanisms")),
        "tc-export",
    );
    let theirs = crossings(neuron.column("t"), neuron.column("soma"), -20.0);
    let mut worst = Vec::new();
    for (what, t, v) in [
        ("rall", &traces.time_ms[..], traces.column("soma").unwrap()),
        ("rall's export in NEURON", export.column("t"), export.column("soma")),
    ] {
        let ours = crossings(t, v, -20.0);
        assert_eq!(
            ours.len(),
            theirs.len(),
            "{what}: spikes {ours:?} vs BluePyOpt's {theirs:?}"
        );
        let spike_time = max_or_nan(ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()));
        let at_10 = (v[400] - neuron.column("soma")[400]).abs();
        println!(
            "thalamocortical cAD_ltb, Step_200, {t_stop} ms, {what}: {} spikes within {spike_time:.1e} ms of \
             BluePyOpt's; voltage at 10 ms within {at_10:.1e} mV",
            ours.len()
        );
        worst.push(spike_time);
    }
    // Measured: rall 1.8e-5 ms, rall's export in NEURON 1.6e-6 ms over 7 spikes (the burst from rest and
    // the step); limits 56x, 63x. (Before concentration writers advanced first, as NEURON's
    // nrn_writes_conc orders them: rall 0.15 ms, the export still 1.6e-6 ms.)
    assert!(worst[0] < 1e-3 && worst[1] < 1e-4, "spike times {worst:?} ms");
}
