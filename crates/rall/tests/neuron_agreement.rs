//! Agreement with NEURON: the same cells (exported with identical geometry and
//! discretisation) simulated by NEURON through `validation/neuron/run_neuron.py`
//! and by rall; spike times, voltages, oscillation phase and amplitude, synaptic
//! conductances and concentrations are compared, each at a tolerance 10-100x what
//! rall achieves (the measured value is written beside each assertion).
//!
//! Needs NEURON (`pip install neuron`) in `.venv/` (made by `.ci/run`) or
//! `RALL_PYTHON`: the tests are `#[ignore]`d for a plain `cargo test` and run by
//! `.ci/run` with `--include-ignored`.

use crate::common;

use crate::common::neuron::{Agreement, Csv, agreement, neuron_share, peaks, run_cell, worst_agreement};
use crate::common::{max_or_nan, python, repo_path};
use rall::engine::Integrator;
use rall::mechanism::Catalogue;
use rall::model::load_model;
use rall::zoo::hh_tree;
use rall::{Cell, RunOptions, Simulation, Traces};

fn run_rall(cell: &Cell, catalogue: &Catalogue, options: &RunOptions) -> Traces {
    let mut sim = Simulation::single(cell, catalogue).unwrap();
    sim.run(options, |_| {}).unwrap()
}

/// rall and NEURON on the same cell and options; every probe compared.
fn both(cell: &Cell, options: &RunOptions, tag: &str) -> (Traces, Csv, Agreement) {
    let catalogue = Catalogue::default();
    let traces = run_rall(cell, &catalogue, options);
    let neuron = run_cell(&python(), cell, options, &catalogue, None, tag);
    let worst = worst_agreement(&traces, &neuron);
    (traces, neuron, worst)
}

fn one_second() -> RunOptions {
    RunOptions {
        t_stop_ms: 1000.0,
        dt_ms: 0.025,
        sample_interval_ms: 0.025,
        ..Default::default()
    }
}

#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn hh_ball_and_stick_spikes_like_neuron() {
    let (_, _, a) = both(&hh_tree(1, 0.2), &one_second(), "ball");
    assert!(a.spikes > 20, "the cell should fire repetitively ({} spikes)", a.spikes);
    // Measured (NEURON 9.0.2): spike times 2.6e-10 ms, voltages 6.8e-8 mV at most; limits 38x and 74x.
    assert!(a.spike_time_ms < 1e-8, "spike-time difference {} ms", a.spike_time_ms);
    assert!(a.max < 5e-6, "largest voltage difference {} mV", a.max);
}

#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn hh_soma_with_ten_dendrites_spikes_like_neuron() {
    let (_, _, a) = both(&hh_tree(10, 1.0), &one_second(), "tree");
    assert!(a.spikes > 20, "the cell should fire repetitively ({} spikes)", a.spikes);
    // Measured: spike times 1.0e-10 ms, voltages 2.6e-8 mV at most; limits 100x and 77x.
    assert!(a.spike_time_ms < 1e-8, "spike-time difference {} ms", a.spike_time_ms);
    assert!(a.max < 2e-6, "largest voltage difference {} mV", a.max);
}

/// Crank-Nicolson (NEURON's `secondorder = 2`) with active channels: the hh tree for 1 s.
#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn hh_tree_with_crank_nicolson_spikes_like_neuron_with_secondorder_2() {
    let options = RunOptions {
        integrator: Integrator::CrankNicolson,
        ..one_second()
    };
    let (traces, _, a) = both(&hh_tree(10, 1.0), &options, "tree-cn");
    assert!(a.spikes > 20, "the cell should fire repetitively ({} spikes)", a.spikes);
    // The scheme must differ from backward Euler, or this test would not test it.
    let euler = run_rall(&hh_tree(10, 1.0), &Catalogue::default(), &one_second());
    let moved = max_or_nan(
        traces.values[0]
            .iter()
            .zip(&euler.values[0])
            .map(|(a, b)| (a - b).abs()),
    );
    assert!(
        moved > 1.0,
        "Crank-Nicolson and backward Euler differ by only {moved} mV"
    );
    // Measured: spike times 2.1e-11 ms, voltages 5.7e-9 mV at most; limits 48x and 88x.
    assert!(a.spike_time_ms < 1e-9, "spike-time difference {} ms", a.spike_time_ms);
    assert!(a.max < 5e-7, "largest voltage difference {} mV", a.max);
}

/// The inferior-olive cell oscillates below threshold (no spikes to compare), so besides the voltages the
/// oscillation's phase (the times of its peaks) and amplitude (peak-to-trough) are compared cycle by cycle.
#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn inferior_olive_cell_on_c4a_oscillates_like_neuron() {
    let model = load_model(&repo_path("examples/io_c4a.toml"), &Catalogue::default()).unwrap();
    let cell = &model.cells[0].1;
    let options = RunOptions {
        sample_interval_ms: 0.025,
        ..model.options
    };
    let traces = run_rall(cell, &Catalogue::default(), &options);
    let neuron = run_cell(
        &python(),
        cell,
        &options,
        &Catalogue::default(),
        Some(&repo_path("mechanisms")),
        "io",
    );
    let a = worst_agreement(&traces, &neuron);
    // Measured: voltages 1.7e-7 mV at most; limit 58x.
    assert!(a.max < 1e-5, "largest voltage difference {} mV", a.max);
    let t = &traces.time_ms;
    let (ours, theirs) = (traces.column("soma").unwrap(), neuron.column("soma"));
    let late = |v: &[f64]| -> Vec<(f64, f64)> { peaks(t, v).into_iter().filter(|p| p.0 > 200.0).collect() };
    let (p_ours, p_theirs) = (late(ours), late(theirs));
    assert!(p_ours.len() >= 4, "{} oscillation peaks after 200 ms", p_ours.len());
    assert_eq!(
        p_ours.len(),
        p_theirs.len(),
        "peaks: rall {p_ours:?}, NEURON {p_theirs:?}"
    );
    let phase = max_or_nan(p_ours.iter().zip(&p_theirs).map(|(a, b)| (a.0 - b.0).abs()));
    let amplitude = |v: &[f64]| {
        let tail = &v[v.len() / 2..];
        tail.iter().copied().fold(f64::NEG_INFINITY, f64::max) - tail.iter().copied().fold(f64::INFINITY, f64::min)
    };
    let (swing, swing_neuron) = (amplitude(ours), amplitude(theirs));
    let period = (p_ours.last().unwrap().0 - p_ours[0].0) / (p_ours.len() - 1) as f64;
    println!(
        "inferior olive: {} peaks, period {period:.2} ms, largest peak-time difference {phase:.2e} ms, peak-to-peak {swing:.4} mV (NEURON {:+.2e} mV)",
        p_ours.len(),
        swing_neuron - swing
    );
    assert!(
        swing > 3.0,
        "peak-to-peak {swing} mV in the second half: nothing to agree on"
    );
    // Measured: 4 peaks 180.69 ms apart; peak times 7.3e-7 ms, peak-to-peak 2.1e-7 mV apart; limits 69x and 48x.
    assert!(phase < 5e-5, "peak times differ by {phase} ms");
    assert!(
        (swing - swing_neuron).abs() < 1e-5,
        "peak-to-peak {swing} vs {swing_neuron} mV"
    );
}

/// ExpSyn and Exp2Syn driven by input events, on the grid and off it (an event is delivered at the start
/// of the step whose start is nearest, ties going to the earlier step, in both simulators): voltages in
/// mV, conductances in µS, each against NEURON in its own unit.
#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn synapses_with_events_on_and_off_the_step_grid_match_neuron() {
    let mut cell = hh_tree(1, 0.0);
    cell.place_synapse(
        "(location 1 0.5)",
        "ExpSyn",
        &[("tau", 2.0), ("e", 0.0)],
        &[50.0, 120.5, 121.0, 300.0],
        0.01,
    )
    .unwrap();
    // Off the grid of dt = 0.025 ms: 200.0101 and 250.0062 go to the step starting before them,
    // 400.0138 and 450.0237 to the one after.
    cell.place_synapse(
        "(location 0 0.5)",
        "Exp2Syn",
        &[("tau1", 0.5), ("tau2", 5.0)],
        &[200.0101, 250.0062, 400.0138, 450.0237],
        0.005,
    )
    .unwrap();
    cell.probe_variable("g_exp", "(location 1 0.5)", "ExpSyn.g").unwrap();
    cell.probe_variable("g_exp2", "(location 0 0.5)", "Exp2Syn.g").unwrap();
    let options = RunOptions {
        t_stop_ms: 500.0,
        ..one_second()
    };
    let traces = run_rall(&cell, &Catalogue::default(), &options);
    let neuron = run_cell(&python(), &cell, &options, &Catalogue::default(), None, "synapses");
    let (soma, dend) = (
        agreement("soma", &traces, &neuron),
        agreement("dend_tip", &traces, &neuron),
    );
    let (g1, g2) = (
        agreement("g_exp", &traces, &neuron),
        agreement("g_exp2", &traces, &neuron),
    );
    assert!(
        soma.spikes >= 2,
        "the synaptic input should make the cell fire ({} spikes)",
        soma.spikes
    );
    // Measured: spike times 4.0e-13 ms, voltages 8.5e-11 mV; limits 50x and 59x.
    for v in [soma, dend] {
        assert!(v.spike_time_ms < 2e-11 && v.max < 5e-9, "{v:?}");
    }
    // Measured: the conductances (peaks 1.8e-2 and 5e-3 µS) agree to 6.9e-18 µS (round-off); limit 72x.
    let peak = |name: &str| max_or_nan(traces.column(name).unwrap().iter().map(|g| g.abs()));
    println!(
        "g_exp peaks at {:.3e} µS, g_exp2 at {:.3e} µS",
        peak("g_exp"),
        peak("g_exp2")
    );
    assert!(peak("g_exp") > 5e-3 && peak("g_exp2") > 1e-3);
    assert!(
        g1.max < 5e-16 && g2.max < 5e-16,
        "conductances differ by {g1:?}, {g2:?} µS"
    );
}

/// NEURON's own demo calcium channel (cachan1.mod, GHK, reads cai and cao) with and without a calcium shell
/// that writes cai (tests/fixtures/cadecay.mod), so that NEURON's ion bookkeeping is compared: the shell with
/// the default concentrations and with cao set (4 mM, twice the default: a larger GHK influx); the channel
/// alone with cai and cao set (a fixed concentration the channel only reads).
#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn calcium_written_by_a_mechanism_and_set_concentrations_match_neuron() {
    let python = python();
    let share = neuron_share(&python);
    // A fixed folder: run_neuron.py caches the compiled mechanisms by the folder's path.
    let dir = std::env::temp_dir().join("rall-calcium-mods");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(share.join("nrn/demo/release/cachan1.mod"), dir.join("cachan1.mod")).unwrap();
    std::fs::copy(
        repo_path("crates/rall/tests/fixtures/cadecay.mod"),
        dir.join("cadecay.mod"),
    )
    .unwrap();
    let mut catalogue = Catalogue::default();
    catalogue.add_file(&dir.join("cachan1.mod")).unwrap();
    catalogue.add_file(&dir.join("cadecay.mod")).unwrap();

    let mut channel = hh_tree(0, 0.3);
    channel.paint("(all)", "cachan1", &[("imax", 0.002)]).unwrap();
    channel
        .probe_variable("ica", "(location 0 0.5)", "cachan1.ica")
        .unwrap();
    let mut shell = channel.clone();
    shell.paint("(all)", "cadecay", &[("tau", 50.0)]).unwrap();
    shell.probe_variable("cai", "(location 0 0.5)", "cadecay.cai").unwrap();
    let with_concentrations = |cell: &Cell, ci: Option<f64>, co: f64| {
        let mut cell = cell.clone();
        cell.decor.ions.push(rall::cell::IonSetting {
            species: "ca".into(),
            region: cell.region("(all)").unwrap(),
            e_mv: None,
            ci_mm: ci,
            co_mm: Some(co),
            valence: None,
        });
        cell
    };
    let options = RunOptions {
        t_stop_ms: 300.0,
        celsius: 16.0,
        ..one_second()
    };
    let cases = [
        ("shell", shell.clone()),
        ("shell, cao 4 mM", with_concentrations(&shell, None, 4.0)),
        ("channel", channel.clone()),
        (
            "channel, cai 1e-3 mM, cao 4 mM",
            with_concentrations(&channel, Some(1e-3), 4.0),
        ),
    ];
    let mut peak_currents = Vec::new();
    for (k, (tag, cell)) in cases.iter().enumerate() {
        let traces = run_rall(cell, &catalogue, &options);
        let neuron = run_cell(&python, cell, &options, &catalogue, Some(&dir), &format!("calcium-{k}"));
        let v = agreement("soma", &traces, &neuron);
        // From the first step on: at t = 0 NEURON reports the current finitialize computed, rall reports 0
        // (its currents are first evaluated in the first step).
        let (ours, theirs) = (traces.column("ica").unwrap(), neuron.column("ica"));
        let ica = max_or_nan(ours.iter().zip(theirs).skip(1).map(|(a, b)| (a - b).abs()));
        let peak_ica = max_or_nan(traces.column("ica").unwrap().iter().map(|i| i.abs()));
        println!("calcium ({tag}): peak |ica| {peak_ica:.3e} mA/cm²");
        assert!(v.spikes >= 3, "{tag}: {} spikes", v.spikes);
        println!("calcium ({tag}): ica differs by {ica:.2e} mA/cm² at most");
        // Measured: spike times 5.9e-9 ms, voltages 1.4e-6 mV, ica 8.7e-9 of its peak; limits 51x, 73x, 57x.
        assert!(v.spike_time_ms < 3e-7 && v.max < 1e-4, "{tag}: {v:?}");
        assert!(ica < 5e-7 * peak_ica, "{tag}: ica differs by {ica} mA/cm²");
        if traces.names.iter().any(|n| n == "cai") {
            let ca = agreement("cai", &traces, &neuron);
            let peak = max_or_nan(traces.column("cai").unwrap().iter().copied());
            assert!(peak > 1e-4, "{tag}: calcium should accumulate (peak {peak})");
            // Measured: 2.7e-13 mM, 3.3e-10 of its peak of 8.1e-4 mM; limit 60x.
            assert!(ca.max < 2e-8 * peak, "{tag}: cai differs by {} mM", ca.max);
        }
        peak_currents.push(peak_ica);
    }
    // The settings took effect: each changes the peak calcium current against the same cell without them.
    println!(
        "peak |ica| changed by {:+.2}% (shell, cao) and {:+.2}% (channel, cai and cao)",
        100.0 * (peak_currents[1] / peak_currents[0] - 1.0),
        100.0 * (peak_currents[3] / peak_currents[2] - 1.0)
    );
    for (set, unset) in [(1, 0), (3, 2)] {
        assert!(
            (peak_currents[set] / peak_currents[unset] - 1.0).abs() > 0.02,
            "{peak_currents:?}"
        );
    }
}

#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn ion_reversal_potentials_set_on_a_region_match_neuron() {
    let mut cell = hh_tree(1, 0.2);
    cell.set_ion_reversal("soma", "na", 60.0).unwrap();
    cell.set_ion_reversal("dend", "k", -85.0).unwrap();
    let options = RunOptions {
        t_stop_ms: 300.0,
        ..one_second()
    };
    let (traces, _, a) = both(&cell, &options, "ions");
    let baseline = run_rall(&hh_tree(1, 0.2), &Catalogue::default(), &options);
    let moved = max_or_nan(
        traces.values[0]
            .iter()
            .zip(&baseline.values[0])
            .map(|(a, b)| (a - b).abs()),
    );
    assert!(
        moved > 1.0,
        "the settings should change the trace (max change {moved} mV)"
    );
    assert!(a.spikes > 3, "{} spikes", a.spikes);
    // Measured: spike times 6.8e-11 ms, voltages 2.0e-8 mV; limits 73x and 50x.
    assert!(a.spike_time_ms < 5e-9 && a.max < 1e-6, "{a:?}");
}

/// BluePyOpt's discretisation rule `nseg = 1 + 2 int(L/40)` (rall's `odd-per-length` policy) on C4A: NEURON
/// applies the rule itself to its own section lengths (the exported JSON carries the rule, not rall's
/// counts), so the comparison sees any difference in the CVs the rule gives.
#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn the_odd_per_length_rule_gives_neurons_cvs_on_c4a() {
    let model = load_model(&repo_path("examples/c4a_passive.toml"), &Catalogue::default()).unwrap();
    let mut cell = model.cells[0].1.clone();
    cell.policy = rall::discretize::CvPolicy::OddPerLength(40.0);
    let options = RunOptions {
        sample_interval_ms: 0.025,
        ..model.options
    };
    let traces = run_rall(&cell, &Catalogue::default(), &options);
    let mut json = rall::export::neuron_json(&cell, &options, &Catalogue::default(), None).unwrap();
    let counts: Vec<u64> = json["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["nseg"].as_u64().unwrap())
        .collect();
    for section in json["sections"].as_array_mut().unwrap() {
        section.as_object_mut().unwrap().remove("nseg");
    }
    json["nseg_rule"] = serde_json::json!({"odd_per_length": 40.0});
    let neuron = common::neuron::run_json(&python(), &json, "odd-per-length");
    let a = worst_agreement(&traces, &neuron);
    let cvs: u64 = counts.iter().sum();
    println!(
        "odd-per-length 40 µm on C4A: {cvs} CVs over {} branches, {} with more than one",
        counts.len(),
        counts.iter().filter(|&&n| n > 1).count()
    );
    assert!(
        counts.iter().any(|&n| n >= 5),
        "the rule should give some branches several CVs: {counts:?}"
    );
    // Measured: 1.1e-6 mV (the far tip, under its pulse); limit 45x. (Halving the rule's length in NEURON
    // alone gives 0.24 mV.)
    assert!(a.max < 5e-5, "largest voltage difference {} mV", a.max);
}

/// Scaled paints: gNa falling and gK rising with the path distance from the soma's centre over the hh tree;
/// NEURON evaluates the same expressions itself at its own `h.distance` of every segment.
#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn conductances_that_vary_with_distance_match_neuron() {
    let mut cell = hh_tree(10, 1.0);
    let paint = &mut cell.decor.paints[0];
    paint.scale = vec![
        (
            "gnabar".into(),
            rall::cell::ScaleExpr::parse("exp(-distance / 400)").unwrap(),
        ),
        (
            "gkbar".into(),
            rall::cell::ScaleExpr::parse("1 + (distance > 100) * 0.5").unwrap(),
        ),
    ];
    paint.scale_origin = Some(rall::labels::Location { branch: 0, pos: 0.5 });
    let (traces, _, a) = both(&cell, &one_second(), "scaled");
    let (plain, _, _) = both(&hh_tree(10, 1.0), &one_second(), "unscaled");
    let moved = max_or_nan(
        traces.values[1]
            .iter()
            .zip(&plain.values[1])
            .map(|(a, b)| (a - b).abs()),
    );
    assert!(
        moved > 10.0,
        "the profiles should change the dendrite's trace (by {moved} mV)"
    );
    assert!(a.spikes > 20, "{} spikes", a.spikes);
    // Measured: spike times 1.5e-10 ms, voltages 2.5e-8 mV (70 spikes; 76 without the profiles); limits 67x, 80x.
    assert!(a.spike_time_ms < 1e-8 && a.max < 2e-6, "{a:?}");
}

/// NEURON's single-electrode voltage clamp, its own svclmp.mod from the wheel (a PROCEDURE solved after the
/// voltage update, `at_time`, an ELECTRODE_CURRENT): an hh soma stepped from -65 to -20 mV and back; the
/// clamp current in nA and the soma voltage against NEURON's SEClamp.
#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn neurons_voltage_clamp_runs_as_in_neuron() {
    let python = python();
    let mut catalogue = Catalogue::default();
    catalogue
        .add_file(&neuron_share(&python).join("modfile/svclmp.mod"))
        .unwrap();
    let mut cell = hh_tree(0, 0.0);
    let steps = [
        ("dur1", 10.0),
        ("amp1", -65.0),
        ("dur2", 20.0),
        ("amp2", -20.0),
        ("dur3", 10.0),
        ("amp3", -65.0),
        ("rs", 0.01),
    ];
    cell.place_synapse("(location 0 0.5)", "SEClamp", &steps, &[], 0.0)
        .unwrap();
    cell.probe_variable("i", "(location 0 0.5)", "SEClamp.i").unwrap();
    let options = RunOptions {
        t_stop_ms: 50.0,
        ..one_second()
    };
    let traces = run_rall(&cell, &catalogue, &options);
    let neuron = run_cell(&python, &cell, &options, &catalogue, None, "seclamp");
    let (v, i) = (agreement("soma", &traces, &neuron), agreement("i", &traces, &neuron));
    let peak = max_or_nan(traces.column("i").unwrap().iter().map(|x| x.abs()));
    let clamped = traces.column("soma").unwrap()[(25.0 / 0.025) as usize];
    println!(
        "SEClamp: soma at {clamped:.4} mV during the -20 mV step, peak |i| {peak:.3} nA; v within {:.1e} mV, i within {:.1e} nA",
        v.max, i.max
    );
    assert!(
        (clamped + 20.0).abs() < 0.5,
        "the clamp should hold the soma near -20 mV ({clamped})"
    );
    assert!(peak > 1.0, "the clamp should pass current (peak {peak} nA)");
    // Measured: v 1.6e-10 mV, i 1.6e-8 nA (of a 22.9 nA peak); limits 62x each.
    assert!(v.max < 1e-8 && i.max < 1e-6, "v {v:?}, i {i:?}");
}

/// A current clamp with a waveform (a ramp up, a plateau, a triangle; played in NEURON by `Vector.play` with
/// interpolation into IClamp.amp) on the hh ball-and-stick.
#[test]
#[ignore = "needs NEURON in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn a_current_clamp_with_a_waveform_matches_neurons_played_vector() {
    let mut cell = hh_tree(1, 0.0);
    let clamp = &mut cell.decor.clamps[0];
    clamp.amplitude_na = 0.3;
    clamp.waveform = Some(rall::cell::Waveform {
        points: vec![
            (0.0, 0.0),
            (20.0, 0.0),
            (120.0, 1.0),
            (200.0, 1.0),
            (230.0, 0.2),
            (260.0, 1.2),
            (300.0, 0.0),
        ],
    });
    let options = RunOptions {
        t_stop_ms: 350.0,
        ..one_second()
    };
    let (_, _, a) = both(&cell, &options, "waveform");
    assert!(a.spikes >= 3, "{} spikes", a.spikes);
    // Measured: spike times 2.6e-10 ms, voltages 6.5e-8 mV (12 spikes); limits 39x and 76x.
    assert!(a.spike_time_ms < 1e-8 && a.max < 5e-6, "{a:?}");
}
