//! NEURON export of a network: a [`Network`] and run options in, the JSON that
//! `validation/neuron/run_network.py` builds the same network from (cells as [`neuron_json`] describes them,
//! spike detectors, NetCons, and the spike trains of the artificial sources).

use super::{ExportError, neuron_json};
use crate::RunOptions;
use crate::mechanism::Catalogue;
use crate::network::Network;
use serde_json::{Value, json};
use std::path::Path;

pub fn neuron_network_json(
    network: &Network,
    options: &RunOptions,
    catalogue: &Catalogue,
    mod_dir: Option<&Path>,
) -> Result<Value, ExportError> {
    network.check().map_err(|e| ExportError::NotUniform(e.to_string()))?;
    let network = &network
        .with_weight_adjusters()
        .map_err(|e| ExportError::NotUniform(e.to_string()))?;
    let mut cells = Vec::new();
    // Per cell: the JSON synapse indices (one per location) of each synapse placement.
    let mut synapse_indices: Vec<Vec<Vec<usize>>> = Vec::new();
    for (name, cell) in &network.cells {
        let mut description = neuron_json(cell, options, catalogue, mod_dir)?;
        let mut next = 0;
        let placements: Vec<Vec<usize>> = cell
            .decor
            .synapses
            .iter()
            .map(|s| {
                let indices: Vec<usize> = (next..next + s.locset.locations.len()).collect();
                next += s.locset.locations.len();
                indices
            })
            .collect();
        // Threshold detectors, then the point processes whose net_event spikes are the cell's (by synapse index).
        let mut detectors: Vec<Value> = cell
            .decor
            .detector_locations()
            .map(|(l, threshold)| json!({"section": l.branch, "x": l.pos, "threshold": threshold}))
            .collect();
        for &s in &cell.decor.event_detectors {
            detectors.extend(placements[s].iter().map(|k| json!({ "synapse": k })));
        }
        description["detectors"] = json!(detectors);
        description["name"] = json!(name);
        synapse_indices.push(placements);
        cells.push(description);
    }
    let connections: Vec<Value> = network
        .connections
        .iter()
        .map(|c| {
            json!({
                "source": c.source, "detector": c.detector, "target": c.target,
                "synapses": synapse_indices[c.target][c.synapse], "weight": c.weight, "delay": c.delay_ms,
            })
        })
        .collect();
    let sources: Vec<Value> = network
        .sources
        .iter()
        .map(|(name, s)| json!({"name": name, "times": s.times(options.t_stop_ms)}))
        .collect();
    Ok(json!({
        "tstop": options.t_stop_ms,
        "dt": options.dt_ms,
        "celsius": options.celsius,
        "mod_dir": mod_dir.map(|d| d.display().to_string()),
        "cells": cells,
        "sources": sources,
        "connections": connections,
    }))
}
