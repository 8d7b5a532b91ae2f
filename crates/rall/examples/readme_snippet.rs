//! The README's Rust snippet as a program `cargo test` compiles (tests/readme_snippet.rs checks that the README
//! still shows these lines): the C4A cell, passive, current-clamped, simulated with the default options.
//! Run from the repository root: `cargo run --release -p rall --example readme_snippet`.

use rall::{Cell, RunOptions, Simulation, mechanism::Catalogue, morphology::load_swc};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut cell = Cell::new(load_swc("examples/data/C4A.swc".as_ref())?);
    cell.paint("(all)", "pas", &[("g", 5e-5), ("e", -60.0)])?;
    cell.place_current_clamp("(location 0 0.5)", 10.0, 50.0, 0.05)?;
    cell.probe_voltage("soma", "(location 0 0.5)")?;
    let traces = Simulation::single(&cell, &Catalogue::default())?.run(&RunOptions::default(), |_| {})?;
    let soma = &traces.values[0];
    let peak = soma.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    println!("{} samples of the soma; its peak {peak:.3} mV", soma.len());
    Ok(())
}
