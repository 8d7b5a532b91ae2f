//! Standard test cells: parameters in, ready-to-run [`Cell`]s out, shared by tests, benchmarks and examples.

use crate::Cell;
use crate::discretize::CvPolicy;
use crate::morphology::{Attachment, MorphologyBuilder, Point3};

/// Rallpack 1's cable: 1 mm long, 1 µm thick, 1000 CVs, Ra 100 Ω·cm, cm 1 µF/cm²,
/// starting at -65 mV, with 0.1 nA into x = 0 from t = 0 and probes `x0` and `x1` at both ends.
/// `membrane` is painted everywhere: `("pas", …)` for Rallpack 1, `("hh", …)` for Rallpack 3.
pub fn rallpack_cable(mechanism: &str, parameters: &[(&str, f64)]) -> Cell {
    let mut b = MorphologyBuilder::new();
    b.add_cylinder(None, Point3::new(0.0, 0.0, 0.0), 1000.0, 0.5, 3)
        .expect("a valid cylinder");
    let mut cell = Cell::new(b.finish().expect("one branch"));
    cell.policy = CvPolicy::FixedPerBranch(1000);
    cell.decor.cable.ra_ohm_cm.default = 100.0;
    cell.decor.cable.cm_uf_per_cm2.default = 1.0;
    cell.decor.cable.v_init_mv = -65.0;
    let valid = "labels and names in this function are valid";
    cell.paint("(all)", mechanism, parameters).expect(valid);
    cell.place_current_clamp("(location 0 0)", 0.0, 1e9, 0.1).expect(valid);
    cell.probe_voltage("x0", "(location 0 0)").expect(valid);
    cell.probe_voltage("x1", "(location 0 1)").expect(valid);
    cell
}

/// A one-CV soma (20 µm long, 20 µm thick) with `dendrites` dendrites (200 µm x 1 µm, 10 CVs each)
/// at its distal end, NEURON's `hh` everywhere, Ra 100 Ω·cm, a current clamp of `amplitude_na`
/// into the soma from 10 ms for 980 ms, and probes `soma`, `dend_mid` and `dend_tip` (on dendrite 1).
pub fn hh_tree(dendrites: usize, amplitude_na: f64) -> Cell {
    let mut b = MorphologyBuilder::new();
    let soma = b
        .add_cylinder(None, Point3::new(0.0, 0.0, 0.0), 20.0, 10.0, 1)
        .expect("a valid soma");
    for _ in 0..dendrites {
        let at = Some(Attachment { parent: soma, pos: 1.0 });
        b.add_cylinder(at, Point3::new(20.0, 0.0, 0.0), 200.0, 0.5, 3)
            .expect("a valid dendrite");
    }
    let mut cell = Cell::new(b.finish().expect("a soma"));
    cell.policy = CvPolicy::MaxExtent(20.0);
    cell.decor.cable.ra_ohm_cm.default = 100.0;
    cell.decor.cable.v_init_mv = -65.0;
    let valid = "labels and names in this function are valid";
    cell.paint("(all)", "hh", &[]).expect(valid);
    cell.place_current_clamp("(location 0 0.5)", 10.0, 980.0, amplitude_na)
        .expect(valid);
    cell.probe_voltage("soma", "(location 0 0.5)").expect(valid);
    if dendrites > 0 {
        cell.probe_voltage("dend_tip", "(location 1 1)").expect(valid);
        cell.probe_voltage("dend_mid", "(location 1 0.55)").expect(valid);
    }
    cell
}

/// The twelve conductances of the inferior-olive model (`docs/models/inferior-olive.md`), as
/// `(mechanism.parameter, region)` in the order of its table, for `examples/io_c4a.toml`.
pub const IO_CONDUCTANCES: [(&str, &str); 12] = [
    ("io_soma.g_CaL", "soma"),
    ("io_dend.g_h", "dend"),
    ("io_dend.g_K_Ca", "dend"),
    ("io_dend.g_ld", "dend"),
    ("io_axon.g_la", "axon"),
    ("io_soma.g_ls", "soma"),
    ("io_soma.g_Na_s", "soma"),
    ("io_soma.g_Kdr_s", "soma"),
    ("io_soma.g_K_s", "soma"),
    ("io_dend.g_CaH", "dend"),
    ("io_axon.g_Na_a", "axon"),
    ("io_axon.g_K_a", "axon"),
];
