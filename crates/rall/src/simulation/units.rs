//! What the time loop advances, cells alone or cells in groups, in: their steps, samples, spikes and events
//! out in the cells' terms. Cell groups are built here from the cells' layouts (see [`crate::engine::CellGroup`]).

use crate::cell::CellLayout;
use crate::engine::{CellGroup, CellIntegrator, EngineError, GroupKind, Integrator};
use crate::mechanism::Catalogue;
use crate::network::Spike;
use std::ops::Range;

/// A group holds cells of one kind up to about this many CVs, so that its columns stay in the caches; a kind
/// with more is split into several groups (and into at least one per thread).
const GROUP_CVS: usize = 4096;

/// One piece of work of a step: a cell alone, or a group of cells.
pub(super) enum Unit<'a> {
    /// A cell (its index in the simulation) and its integrator.
    Cell(usize, &'a mut CellIntegrator),
    Group(&'a mut CellGroup),
}

impl Unit<'_> {
    pub(super) fn start(&mut self, celsius: f64) -> Result<(), (usize, EngineError)> {
        match self {
            Unit::Cell(c, cell) => {
                cell.set_celsius(celsius);
                cell.initialise().map_err(|e| (*c, e))
            }
            Unit::Group(group) => {
                group.set_celsius(celsius);
                group.initialise()
            }
        }
    }

    pub(super) fn step(&mut self, dt_ms: f64, integrator: Integrator) -> Result<(), (usize, EngineError)> {
        match self {
            Unit::Cell(c, cell) => cell.step(dt_ms, integrator).map_err(|e| (*c, e)),
            Unit::Group(group) => group.step(dt_ms, integrator),
        }
    }

    /// Appends the probes (then their tangents) to `out` and a controller's columns to `control`.
    pub(super) fn sample(&self, out: &mut Vec<f64>, control: &mut Vec<f64>) {
        match self {
            Unit::Cell(_, cell) => {
                cell.sample_probes(out);
                cell.sample_probe_tangents(out);
                if let Some(c) = cell.controller() {
                    c.sample(control);
                }
            }
            Unit::Group(group) => group.sample(out, control),
        }
    }

    /// Moves the spikes detected since the last call into `into`, each with its cell's gid.
    pub(super) fn take_spikes(&mut self, into: &mut Vec<Spike>) {
        match self {
            Unit::Cell(gid, cell) => into.extend(cell.take_spikes().into_iter().map(|(detector, t_ms)| Spike {
                t_ms,
                gid: *gid,
                detector,
            })),
            Unit::Group(group) => {
                into.extend(
                    group
                        .take_spikes()
                        .map(|(gid, detector, t_ms)| Spike { t_ms, gid, detector }),
                )
            }
        }
    }

    pub(super) fn push_connection_event(
        &mut self,
        cell: usize,
        (synapse, t_ms, weight, connection): crate::network::exchange::Delivery,
    ) -> Result<(), (usize, EngineError)> {
        match self {
            Unit::Cell(c, integrator) => integrator
                .push_connection_event(synapse, connection, t_ms, weight)
                .map_err(|e| (*c, e)),
            Unit::Group(group) => group.push_connection_event(cell, synapse, connection, t_ms, weight),
        }
    }

    /// The simulation's indices of the unit's cells.
    pub(super) fn cells(&self) -> Vec<usize> {
        match self {
            Unit::Cell(c, _) => vec![*c],
            Unit::Group(group) => group.cells().collect(),
        }
    }

    /// The integrator of a cell that runs alone.
    pub(super) fn cell_mut(&mut self) -> Option<&mut CellIntegrator> {
        match self {
            Unit::Cell(_, cell) => Some(cell),
            Unit::Group(_) => None,
        }
    }
}

/// The cells in groups, or `None` when no two cells share a kind: cells of one [`GroupKind`] in groups of up
/// to [`GROUP_CVS`] CVs (at least `threads` groups of a kind that has that many cells), every other cell in a
/// group of its own. Groups are listed by their first cell.
pub(super) fn build_groups(
    layouts: &[CellLayout],
    catalogue: &Catalogue,
    threads: usize,
) -> Result<Option<Vec<CellGroup>>, (usize, EngineError)> {
    let mut kinds: Vec<(Option<GroupKind>, Vec<usize>)> = Vec::new();
    for (c, layout) in layouts.iter().enumerate() {
        let kind = GroupKind::of(layout);
        match kinds.iter_mut().find(|(k, _)| kind.is_some() && *k == kind) {
            Some((_, cells)) => cells.push(c),
            None => kinds.push((kind, vec![c])),
        }
    }
    if kinds.iter().all(|(_, cells)| cells.len() < 2) {
        return Ok(None);
    }
    let mut groups = Vec::new();
    for (_, cells) in &kinds {
        let cvs: usize = cells.iter().map(|&c| layouts[c].geometry.len()).sum();
        let count = cvs.div_ceil(GROUP_CVS).max(threads).clamp(1, cells.len());
        for share in shares(cells.len(), count) {
            let members: Vec<(usize, &CellLayout)> = cells[share].iter().map(|&c| (c, &layouts[c])).collect();
            groups.push(CellGroup::new(&members, catalogue)?);
        }
    }
    groups.sort_by_key(|g| g.cells().next());
    Ok(Some(groups))
}

/// `n` items in `count` contiguous ranges whose sizes differ by at most one.
fn shares(n: usize, count: usize) -> impl Iterator<Item = Range<usize>> {
    (0..count).map(move |k| k * n / count..(k + 1) * n / count)
}
