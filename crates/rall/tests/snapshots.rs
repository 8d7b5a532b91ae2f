//! A cell's state saved (`CellIntegrator::snapshot`) and restored (`CellIntegrator::restore`): the steps taken
//! from a restored snapshot repeat the steps first taken from it, to the bit (voltages, sensitivities,
//! spikes, the synapse's queued events, the noise stream), as the adjoint's checkpoints will need; the
//! reference is the run that never went back.

use rall::cell::SpikeDetector;
use rall::engine::{CellIntegrator, Integrator};
use rall::sensitivity::{ParameterSpec, Transform, setup_for};

const DT_MS: f64 = 0.025;

/// Steps `steps` times; every step's voltages and voltage sensitivities, and the spikes detected.
fn step(cell: &mut CellIntegrator, steps: usize) -> (Vec<f64>, Vec<(usize, f64)>) {
    let mut samples = Vec::new();
    for _ in 0..steps {
        cell.step(DT_MS, Integrator::BackwardEuler).unwrap();
        samples.extend_from_slice(cell.voltages_mv());
        samples.extend_from_slice(cell.voltage_tangents().unwrap_or_default());
    }
    (samples, cell.take_spikes())
}

#[test]
fn stepping_on_from_a_restored_snapshot_repeats_the_steps_to_the_bit() {
    // Events at 5 ms (before the snapshot at 10 ms), at 12 and 30 ms (queued when it is taken), noise on the
    // soma (a seeded stream that must rewind too) and a spike detector.
    let (mut cell, catalogue) = crate::common::kinetic_calcium_synapse_cell(&[5.0, 12.0, 30.0, 31.0]);
    cell.paint("soma", "ou_drive", &[("sigma", 0.7), ("gain", 0.05)])
        .unwrap();
    cell.decor.detectors.push(SpikeDetector {
        locset: cell.locset("(location 0 0.5)").unwrap(),
        threshold_mv: -10.0,
    });
    let layout = rall::cell::lower_cell(&cell, &catalogue).unwrap();
    let mut integrator = CellIntegrator::new(&layout, &catalogue).unwrap();
    let specs = [
        ParameterSpec::new("hh.gnabar", None, Transform::Multiplier),
        ParameterSpec::new("cahigh.gbar", None, Transform::Multiplier),
        ParameterSpec::new("synapse[0].weight", None, Transform::Value),
    ];
    integrator
        .enable_sensitivities(setup_for(&cell, &catalogue, &specs).unwrap())
        .unwrap();
    integrator.initialise().unwrap();
    let _ = step(&mut integrator, 400);
    let snapshot = integrator.snapshot();
    let first = step(&mut integrator, 2000);
    integrator.restore(&snapshot);
    assert_eq!(integrator.t_ms(), 10.0, "the restored cell's clock");
    let again = step(&mut integrator, 2000);
    // Restored a second time, after a run that went further: the snapshot is not consumed.
    let _ = step(&mut integrator, 400);
    integrator.restore(&snapshot);
    let third = step(&mut integrator, 2000);
    // The steps did something worth repeating: spikes from the noise-driven, synapse-driven cell.
    assert!(!first.1.is_empty(), "no spikes between 10 and 60 ms");
    assert_eq!(first.0.len(), 2000 * 4 * layout.geometry.len());
    assert!(first == again && first == third, "the repeated steps differ");
    println!(
        "restored at 10 ms: 2000 steps, {} spikes and {} values repeated to the bit, twice",
        first.1.len(),
        first.0.len()
    );
}
