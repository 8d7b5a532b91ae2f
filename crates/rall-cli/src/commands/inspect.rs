//! `rall inspect`: a model file in, a morphology and discretisation summary per cell out.

use rall::cell::{lower_cell, summarise_regions};
use rall::discretize::CvKind;
use rall::mechanism::Catalogue;
use rall::model::load_model;
use std::path::Path;

pub fn inspect(path: &Path, list_branches: bool) -> Result<(), String> {
    let model = load_model(path, &Catalogue::default()).map_err(|e| e.to_string())?;
    for warning in &model.warnings {
        eprintln!("warning: {warning}");
    }
    let o = &model.options;
    out!(
        "model {}: t_stop {} ms, dt {} ms, {}",
        path.display(),
        o.t_stop_ms,
        o.dt_ms,
        o.integrator
    );
    for (name, cell) in &model.cells {
        let layout =
            lower_cell(cell, &model.catalogue).map_err(|e| format!("{}: cell `{name}`: {e}", path.display()))?;
        let m = &cell.morphology;
        let g = &layout.geometry;
        let membrane = g.kind.iter().filter(|k| **k == CvKind::Membrane).count();
        let label = if name.is_empty() {
            String::from("cell")
        } else {
            format!("cell `{name}`")
        };
        out!("{label}:");
        out!(
            "  morphology: {} branches, {} segments, length {:.1} µm, area {:.1} µm²",
            m.branches.len(),
            m.segments.len(),
            m.total_length_um(),
            m.total_area_um2()
        );
        out!(
            "  CV policy {}: {membrane} membrane CVs and {} zero-area junctions",
            cell.policy,
            g.len() - membrane
        );
        let cap: f64 = layout.properties.capacitance_nf.iter().sum();
        out!("  total capacitance {:.4} nF, v_init {} mV", cap, layout.v_init_mv);
        out!(
            "  {:<16} {:>6} {:>14} {:>14}",
            "region",
            "CVs",
            "length [µm]",
            "area [µm²]"
        );
        for r in summarise_regions(cell, &layout) {
            out!(
                "  {:<16} {:>6} {:>14.1} {:>14.1}",
                r.name,
                r.cvs,
                r.length_um,
                r.area_um2
            );
        }
        for mech in &layout.mechanisms {
            let area: f64 = mech.area_um2.iter().sum();
            out!(
                "  mechanism {:<8} on {:>5} CVs, {:.1} µm²",
                mech.mechanism,
                mech.cv.len(),
                area
            );
        }
        out!(
            "  {} stimuli, probes: {}",
            layout.stimuli.len(),
            layout
                .probes
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if list_branches {
            print_branches(m);
        }
    }
    Ok(())
}

fn print_branches(m: &rall::morphology::Morphology) {
    out!(
        "  {:>6} {:>14} {:>4} {:>9} {:>12} {:>8}",
        "branch",
        "attached to",
        "tag",
        "length",
        "distal end",
        "children"
    );
    let mut distance = vec![0.0; m.branches.len()];
    for (b, branch) in m.branches.iter().enumerate() {
        let start = branch.attachment.map_or(0.0, |a| {
            distance[a.parent] - (1.0 - a.pos) * m.branches[a.parent].length_um()
        });
        distance[b] = start + branch.length_um();
        let parent = branch
            .attachment
            .map_or("root".to_string(), |a| format!("{} at {}", a.parent, a.pos));
        let tag = m.branch_tag(b);
        out!(
            "  {b:>6} {parent:>14} {tag:>4} {:>9.1} {:>12.1} {:>8}",
            branch.length_um(),
            distance[b],
            branch.children.len()
        );
    }
}
