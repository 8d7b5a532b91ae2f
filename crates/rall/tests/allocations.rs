//! The time loop allocates nothing: a counting global allocator (this test binary's) counts the allocations
//! the test's own thread makes while a warmed-up cell steps, with a KINETIC channel solved implicitly,
//! calcium written by a mechanism (Nernst), an hh channel, a synapse receiving events and a voltage probe,
//! without and with sensitivities.

use rall::engine::{CellIntegrator, Integrator};
use rall::sensitivity::{ParameterSpec, Transform, setup_for};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting the allocations (and reallocations) of each thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: a thread being torn down has no counter any more.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Allocations during steps 400-2400 (10-60 ms, the synapse's events at 15, 25 and 26 ms among them) of the
/// cell, after 400 steps (with an event at 5 ms) that size every buffer.
fn allocations_while_stepping(with_sensitivities: bool) -> u64 {
    let (cell, catalogue) = crate::common::kinetic_calcium_synapse_cell(&[5.0, 15.0, 25.0, 26.0]);
    let layout = rall::cell::lower_cell(&cell, &catalogue).unwrap();
    let mut integrator = CellIntegrator::new(&layout, &catalogue).unwrap();
    if with_sensitivities {
        let specs: Vec<ParameterSpec> = ["kinetic_k.gbar", "cahigh.gbar", "hh.gnabar", "synapse[0].weight"]
            .iter()
            .map(|name| ParameterSpec::new(name, None, Transform::Multiplier))
            .collect();
        integrator
            .enable_sensitivities(setup_for(&cell, &catalogue, &specs).unwrap())
            .unwrap();
    }
    integrator.initialise().unwrap();
    let mut samples = Vec::with_capacity(1 << 16);
    for _ in 0..400 {
        integrator.step(0.025, Integrator::BackwardEuler).unwrap();
        integrator.sample_probes(&mut samples);
    }
    let before = allocations();
    for _ in 0..2000 {
        integrator.step(0.025, Integrator::BackwardEuler).unwrap();
        integrator.sample_probes(&mut samples);
        integrator.sample_probe_tangents(&mut samples);
    }
    allocations() - before
}

#[test]
fn stepping_a_cell_allocates_nothing() {
    let plain = allocations_while_stepping(false);
    let with_sensitivities = allocations_while_stepping(true);
    println!("allocations in 2000 steps: {plain} plain, {with_sensitivities} with 4 sensitivities");
    // Measured: 0 and 0 (before: 6423 and 18447, a Newton error message formatted at every step, dense
    // solve buffers, an event's arguments, a scratch shared by two tapes shrinking and growing again).
    assert_eq!((plain, with_sensitivities), (0, 0));
}
