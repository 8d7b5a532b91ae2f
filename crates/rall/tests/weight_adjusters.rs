//! Weight adjusters on network connections, without NEURON: how `Network::with_weight_adjusters` wires them
//! (PyNN 0.13's `Connection._setup_plasticity`, read from its source: delays `d·(1 − f) − 1e-9` and `d·f`,
//! weights +1 and −1), what the adjusted weight does to the synapse (a hand-counted sum of steps), and the
//! model file's errors. The comparison with NEURON running PyNN's own adjusters is `plasticity_neuron.rs`.

use rall::Simulation;
use rall::mechanism::Catalogue;
use rall::model::{Model, parse_model};
use rall::network::plasticity::ADJUSTER_LEAD_MS;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hebb_adjuster.mod");

/// One hh point cell driven by a regular source through a plastic connection (`adjuster` TOML), probing the
/// synapse's conductance and the adjuster's count.
fn model(adjuster: &str) -> Result<Model, String> {
    let text = format!(
        r#"
mod_files = ["{FIXTURE}"]
[simulation]
t_stop = 100.0
dt = 0.025
[[cell]]
name = "point"
[cell.morphology]
cylinder = [{{ length = 20.0, diameter = 20.0, tag = 1 }}]
[[cell.mechanism]]
name = "pas"
[[cell.synapse]]
at = "(location 0 0.5)"
mechanism = "ExpSyn"
parameters = {{ tau = 2.0, e = 0.0 }}
[[cell.detector]]
at = "(location 0 0.5)"
threshold = -10.0
[[cell.probe]]
name = "g"
at = "(location 0 0.5)"
variable = "ExpSyn.g"
[[population]]
name = "post"
cell = "point"
count = 1
[[spike_source]]
name = "pre"
kind = "times"
times = [10.0, 30.0, 50.0]
[[connection]]
from = "pre"
to = "post"
weight = 0.001
delay = 2.0
adjuster = {adjuster}
"#
    );
    parse_model(&text, "adjusted.toml", std::path::Path::new("."), &Catalogue::default()).map_err(|e| e.to_string())
}

#[test]
fn adjusters_are_wired_with_pynns_delays_and_weights() {
    let m = model(r#"{ mechanism = "HebbAdjuster", dendritic_delay_fraction = 0.25 }"#).unwrap();
    let network = m.network.as_ref().unwrap();
    let wired = network.with_weight_adjusters().unwrap();
    // The connection itself, then pre → adjuster and post → adjuster.
    assert_eq!(wired.connections.len(), 3);
    let (pre, post) = (wired.connections[1], wired.connections[2]);
    assert_eq!((pre.source, pre.target, pre.weight), (1, 0, 1.0));
    assert_eq!(pre.delay_ms, 2.0 * 0.75 - ADJUSTER_LEAD_MS);
    assert_eq!(
        (post.source, post.target, post.weight, post.delay_ms),
        (0, 0, -1.0, 0.5)
    );
    // The adjuster sits on the target cell, its POINTER bound to connection 0's weight.
    let cell = &wired.cells[0].1;
    assert_eq!(cell.decor.synapses.len(), 2);
    assert_eq!(cell.decor.synapses[1].mechanism, "HebbAdjuster");
    assert!(wired.adjusters.is_empty() && wired.connections.iter().all(|c| c.adjuster.is_none()));
}

#[test]
fn each_presynaptic_spike_raises_the_weight_the_synapse_then_uses() {
    // ExpSyn's conductance jumps by the weight at each event: 0.001, then 0.001 + step, then + 2 steps (the
    // adjuster acts 1e-9 ms before the synapse; the cell never spikes, so no postsynaptic events).
    let step = 0.0002;
    let m = model(&format!(
        r#"{{ mechanism = "HebbAdjuster", parameters = {{ step = {step} }} }}"#
    ))
    .unwrap();
    let mut sim = Simulation::network(m.network.as_ref().unwrap(), &m.catalogue).unwrap();
    let traces = sim.run(&m.options, |_| {}).unwrap();
    let g = traces.column("g").unwrap();
    let jump = |t_ms: f64| {
        let k = (t_ms / 0.025).round() as usize;
        g[k + 1] - g[k - 1] * (-0.05f64 / 2.0).exp()
    };
    let jumps = [jump(12.0), jump(32.0), jump(52.0)];
    // The event's weight enters during the step after it and has decayed over one step by the next sample.
    let decay = (-0.025f64 / 2.0).exp();
    let expected = [1.0, 2.0, 3.0].map(|k| (0.001 + k * step) * decay);
    let worst = jumps
        .iter()
        .zip(expected)
        .map(|(j, e)| ((j - e) / e).abs())
        .fold(0.0, f64::max);
    println!("conductance jumps {jumps:?}, expected {expected:?}: {worst:.1e} relative");
    // Measured: 1.6e-16 relative (round-off); limit 60x.
    assert!(worst < 1e-14, "jumps {jumps:?}, expected {expected:?}");
}

#[test]
fn an_adjuster_without_the_pointer_or_with_an_unknown_parameter_is_a_located_error() {
    let e = model(r#"{ mechanism = "HebbAdjuster", pointer = "w" }"#).unwrap_err();
    assert!(e.contains("adjusted.toml:") && e.contains("has no POINTER `w`"), "{e}");
    let e = model(r#"{ mechanism = "HebbAdjuster", parameters = { stpe = 1.0 } }"#).unwrap_err();
    assert!(e.contains("did you mean `step`"), "{e}");
    let e = model(r#"{ mechanism = "ExpSyn" }"#).unwrap_err();
    assert!(e.contains("has no POINTER `wsyn`"), "{e}");
}
