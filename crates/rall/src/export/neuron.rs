//! NEURON export: a [`Cell`] and run options in, the JSON that `validation/neuron/run_neuron.py` builds the same model from.
//!
//! Each branch becomes a section with the branch's 3D points and `nseg` equal
//! to its number of CVs, so NEURON's discretisation is rall's. Mechanisms and
//! cable properties must be uniform on each branch.

use crate::Cell;
use crate::RunOptions;
use crate::cell::{CellError, PointerTarget};
use crate::discretize::CvPolicy;
use crate::engine::Integrator;
use crate::mechanism::Catalogue;
use serde_json::{Value, json};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Cell(#[from] CellError),
    #[error("NEURON export: {0}")]
    NotUniform(String),
}

/// The runner's JSON for one cell; `mod_dir` names a folder of `.mod` files for NEURON to compile.
pub fn neuron_json(
    cell: &Cell,
    options: &RunOptions,
    catalogue: &Catalogue,
    mod_dir: Option<&Path>,
) -> Result<Value, ExportError> {
    if matches!(cell.policy, CvPolicy::PerSegment) {
        return Err(ExportError::NotUniform(
            "the per-segment CV policy has no NEURON equivalent (nseg is uniform)".into(),
        ));
    }
    let layout = crate::cell::lower_cell(cell, catalogue)?;
    let m = &cell.morphology;
    let cable = &cell.decor.cable;
    let mut sections = Vec::new();
    for (b, branch) in m.branches.iter().enumerate() {
        let mut points = Vec::new();
        let first = &m.segments[branch.segments.start];
        points.push(json!([
            first.prox.x,
            first.prox.y,
            first.prox.z,
            2.0 * first.prox_radius_um
        ]));
        for s in branch.segments.clone() {
            let seg = &m.segments[s];
            points.push(json!([seg.dist.x, seg.dist.y, seg.dist.z, 2.0 * seg.dist_radius_um]));
        }
        let (parent, parent_x) = match branch.attachment {
            Some(a) => (json!(a.parent), a.pos),
            // Further root branches hang from the root's 0 end, which is rall's root junction.
            None if b > 0 => (json!(0), 0.0),
            None => (Value::Null, 1.0),
        };
        let uniform = |what: &str, p: &crate::discretize::PaintedScalar| -> Result<f64, ExportError> {
            let v = p.at(b, 0.5);
            if p.cuts(b).iter().any(|&c| c > 0.0 && c < 1.0) {
                return Err(ExportError::NotUniform(format!("{what} changes within branch {b}")));
            }
            Ok(v)
        };
        let mut mechanisms = Vec::new();
        for paint in &cell.decor.paints {
            let covered = paint.region.covered_length(b, 0.0, 1.0);
            if covered <= 0.0 {
                continue;
            }
            if covered < 1.0 - 1e-12 {
                return Err(ExportError::NotUniform(format!(
                    "`{}` covers only part of branch {b}",
                    paint.mechanism
                )));
            }
            let params: serde_json::Map<String, Value> =
                paint.parameters.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            let mut entry = json!({"name": paint.mechanism, "params": params});
            if !paint.scale.is_empty() {
                // The runner evaluates the expressions itself, at NEURON's own distances from the origin.
                let defaults = catalogue.parameters(&paint.mechanism).map_err(CellError::Mechanism)?;
                let scale: serde_json::Map<String, Value> = paint
                    .scale
                    .iter()
                    .map(|(k, e)| {
                        let base = paint
                            .parameters
                            .iter()
                            .find(|(n, _)| n == k)
                            .map(|(_, v)| *v)
                            .or_else(|| defaults.iter().find(|p| &p.name == k).map(|p| p.default));
                        (k.clone(), json!({"expression": e.text, "value": base}))
                    })
                    .collect();
                entry["scale"] = Value::Object(scale);
                entry["scale_origin"] = match paint.scale_origin {
                    Some(o) => json!({"section": o.branch, "x": o.pos}),
                    None => json!({"section": 0, "x": 0.0}),
                };
            }
            mechanisms.push(entry);
        }
        let mut ions = serde_json::Map::new();
        for setting in &cell.decor.ions {
            let covered = setting.region.covered_length(b, 0.0, 1.0);
            if covered <= 0.0 {
                continue;
            }
            if covered < 1.0 - 1e-12 {
                return Err(ExportError::NotUniform(format!(
                    "ion `{}` settings cover only part of branch {b}",
                    setting.species
                )));
            }
            let entry = ions.entry(setting.species.clone()).or_insert_with(|| json!({}));
            for (key, value) in [("e", setting.e_mv), ("ci", setting.ci_mm), ("co", setting.co_mm)] {
                if let Some(v) = value {
                    entry[key] = json!(v);
                }
            }
        }
        sections.push(json!({
            "ions": ions,
            "name": format!("b{b}"),
            "parent": parent,
            "parent_x": parent_x,
            "nseg": layout.geometry.branch_cvs[b].len(),
            "points": points,
            "cm": uniform("cm", &cable.cm_uf_per_cm2)?,
            "Ra": uniform("Ra", &cable.ra_ohm_cm)?,
            "mechanisms": mechanisms,
        }));
    }
    let mut iclamps = Vec::new();
    for c in &cell.decor.clamps {
        for l in &c.locset.locations {
            // JSON has no infinity: a clamp for the whole run lasts 1e9 ms.
            let mut clamp = json!({"section": l.branch, "x": l.pos, "delay": c.delay_ms, "dur": c.duration_ms.min(1e9), "amp": c.amplitude_na});
            if let Some(w) = &c.waveform {
                // NEURON plays amp × waveform into IClamp.amp with interpolation (Vector.play, continuous).
                clamp["waveform"] = json!(
                    w.points
                        .iter()
                        .map(|(t, v)| [*t, c.amplitude_na * v])
                        .collect::<Vec<_>>()
                );
            }
            iclamps.push(clamp);
        }
    }
    // Synapses, numbered per mechanism in placement order as the layout numbers instances.
    let mut synapses = Vec::new();
    let mut synapse_of: Vec<(String, usize)> = Vec::new();
    for syn in &cell.decor.synapses {
        let params: serde_json::Map<String, Value> =
            syn.parameters.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        for l in &syn.locset.locations {
            let instance = synapse_of.iter().filter(|(m, _)| *m == syn.mechanism).count();
            synapse_of.push((syn.mechanism.clone(), instance));
            let pointers: Vec<Value> = syn
                .pointers
                .iter()
                .map(|p| match &p.target {
                    PointerTarget::Voltage(at) => json!({"name": p.pointer, "section": at.branch, "x": at.pos}),
                    PointerTarget::OtherCell { cell, at } => {
                        json!({"name": p.pointer, "section": at.branch, "x": at.pos, "cell": cell})
                    }
                    // Bound by run_network.py to the NetCon's weight (`setpointer wa.wsyn, nc.weight`).
                    PointerTarget::ConnectionWeight { connection, weight } => {
                        json!({"name": p.pointer, "connection": connection, "weight": weight})
                    }
                })
                .collect();
            synapses.push(json!({
                "section": l.branch, "x": l.pos, "mechanism": syn.mechanism, "params": params,
                "events": syn.events_ms, "weight": syn.weight, "pointers": pointers,
            }));
        }
    }
    // Probes are laid out in the order of their locations.
    let locations = cell
        .decor
        .probes
        .iter()
        .flat_map(|p| p.locset.locations.iter().map(move |l| (p, l)));
    let (mut probes, mut synapse_probes) = (Vec::new(), Vec::new());
    for ((p, l), laid) in locations.zip(&layout.probes) {
        match (&p.variable, &laid.variable) {
            (None, _) => probes.push(json!({"name": laid.name, "section": l.branch, "x": l.pos})),
            (Some((mechanism, var)), Some((_, instance, _))) => {
                if catalogue.is_density(mechanism).unwrap_or(false) {
                    // NEURON names a density mechanism's range variable `var_mech`, except ion variables.
                    let ion_variable = catalogue.get(mechanism).is_ok_and(|c| {
                        c.info
                            .ions
                            .iter()
                            .any(|u| u.read.contains(var) || u.write.contains(var))
                    });
                    let name = if ion_variable {
                        var.clone()
                    } else {
                        format!("{var}_{mechanism}")
                    };
                    probes.push(json!({"name": laid.name, "section": l.branch, "x": l.pos, "variable": name}));
                    continue;
                }
                let index = synapse_of
                    .iter()
                    .position(|(m, k)| m == mechanism && k == instance)
                    .ok_or_else(|| {
                        ExportError::NotUniform(format!("probe `{}`: no synapse `{mechanism}` there", laid.name))
                    })?;
                synapse_probes.push(json!({"name": laid.name, "synapse": index, "variable": var}));
            }
            _ => {}
        }
    }
    Ok(json!({
        "tstop": options.t_stop_ms,
        "dt": options.dt_ms,
        "sample_interval": options.sample_interval_ms,
        "celsius": options.celsius,
        "v_init": cable.v_init_mv,
        "secondorder": if options.integrator == Integrator::CrankNicolson { 2 } else { 0 },
        "mod_dir": mod_dir.map(|d| d.display().to_string()),
        "usetable": false,
        "sections": sections,
        "iclamps": iclamps,
        "synapses": synapses,
        "probes": probes,
        "synapse_probes": synapse_probes,
    }))
}

/// The runner's JSON for cells simulated side by side (`{"cells": [...]}`, each cell as [`neuron_json`]
/// describes it, with its `name`): POINTERs may read another cell's voltage (gap junctions between cells).
pub fn neuron_cells_json(
    cells: &[(String, Cell)],
    options: &RunOptions,
    catalogue: &Catalogue,
    mod_dir: Option<&Path>,
) -> Result<Value, ExportError> {
    let mut out = Vec::new();
    for (name, cell) in cells {
        let mut description = neuron_json(cell, options, catalogue, mod_dir)?;
        description["name"] = json!(name);
        out.push(description);
    }
    Ok(json!({ "cells": out }))
}
