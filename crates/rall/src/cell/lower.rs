//! Lowering: a [`Cell`] (decor in label terms) and a catalogue in, the [`CellLayout`] the engine runs out.

use super::{Cell, CellError};
use crate::discretize::{CvGeometry, CvIndex, CvKind, CvProperties};
use crate::mechanism::{Catalogue, MechanismLayout};

/// A current clamp resolved to one CV.
#[derive(Clone, Debug, PartialEq)]
pub struct StimulusLayout {
    pub cv: CvIndex,
    pub delay_ms: f64,
    pub duration_ms: f64,
    pub amplitude_na: f64,
}

/// A voltage probe resolved to one CV.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeLayout {
    pub name: String,
    pub cv: CvIndex,
}

/// Everything the engine needs to simulate one cell, in CV terms.
#[derive(Clone, Debug, PartialEq)]
pub struct CellLayout {
    pub geometry: CvGeometry,
    pub properties: CvProperties,
    /// Mean diameter of each CV [µm] (0 for junctions).
    pub diam_um: Vec<f64>,
    /// [mV]
    pub v_init_mv: f64,
    pub mechanisms: Vec<MechanismLayout>,
    pub stimuli: Vec<StimulusLayout>,
    pub probes: Vec<ProbeLayout>,
}

/// Discretises a cell and resolves its decor to CVs.
pub fn lower_cell(cell: &Cell, catalogue: &Catalogue) -> Result<CellLayout, CellError> {
    let m = &cell.morphology;
    let cable = &cell.decor.cable;
    let boundaries: Vec<Vec<f64>> = (0..m.branches.len())
        .map(|b| {
            cell.policy
                .boundaries(m, b, |pos| (cable.ra_ohm_cm.at(b, pos), cable.cm_uf_per_cm2.at(b, pos)))
        })
        .collect();
    let geometry = CvGeometry::new(m, &boundaries);
    let properties = CvProperties::new(m, &geometry, cable);

    let mut mechanisms: Vec<MechanismLayout> = Vec::new();
    for (index, paint) in cell.decor.paints.iter().enumerate() {
        if !catalogue.is_density(&paint.mechanism).map_err(CellError::Mechanism)? {
            return Err(CellError::Mechanism(format!(
                "`{}` is a POINT_PROCESS: place it at locations, it cannot be painted",
                paint.mechanism
            )));
        }
        let mut values: Vec<f64> = catalogue
            .parameters(&paint.mechanism)
            .map_err(CellError::Mechanism)?
            .iter()
            .map(|p| p.default)
            .collect();
        for (name, value) in &paint.parameters {
            values[catalogue
                .parameter_index(&paint.mechanism, name)
                .map_err(CellError::Mechanism)?] = *value;
        }
        let earlier = cell.decor.paints[..index]
            .iter()
            .filter(|p| p.mechanism == paint.mechanism);
        if earlier
            .into_iter()
            .any(|p| !p.region.intersection(&paint.region).cables.is_empty())
        {
            return Err(CellError::OverlappingPaint {
                mechanism: paint.mechanism.clone(),
            });
        }
        let layout = match mechanisms.iter().position(|l| l.mechanism == paint.mechanism) {
            Some(i) => &mut mechanisms[i],
            None => {
                mechanisms.push(MechanismLayout {
                    mechanism: paint.mechanism.clone(),
                    cv: vec![],
                    area_um2: vec![],
                    parameters: vec![],
                });
                mechanisms.last_mut().unwrap()
            }
        };
        for cv in (0..geometry.len()).filter(|&cv| geometry.kind[cv] == CvKind::Membrane) {
            let (branch, (p0, p1)) = (geometry.branch[cv], geometry.extent[cv]);
            let area: f64 = paint
                .region
                .cables
                .iter()
                .filter(|c| c.branch == branch && c.dist > p0 && c.prox < p1)
                .map(|c| m.lateral_area_um2(branch, c.prox.max(p0), c.dist.min(p1)))
                .sum();
            if area > 0.0 {
                layout.cv.push(cv);
                layout.area_um2.push(area);
                layout.parameters.push(values.clone());
            }
        }
    }

    let stimuli = cell
        .decor
        .clamps
        .iter()
        .flat_map(|c| {
            c.locset.locations.iter().map(|&l| StimulusLayout {
                cv: geometry.cv_at_location(m, l),
                delay_ms: c.delay_ms,
                duration_ms: c.duration_ms,
                amplitude_na: c.amplitude_na,
            })
        })
        .collect();

    let mut probes = Vec::new();
    for p in &cell.decor.probes {
        let many = p.locset.locations.len() > 1;
        for (k, &l) in p.locset.locations.iter().enumerate() {
            let name = if many {
                format!("{}[{k}]", p.name)
            } else {
                p.name.clone()
            };
            probes.push(ProbeLayout {
                name,
                cv: geometry.cv_at_location(m, l),
            });
        }
    }

    // The mean diameter of each CV, as NMODL's `diam` [µm]: area / (π length).
    let diam_um = (0..geometry.len())
        .map(|cv| {
            let (p0, p1) = geometry.extent[cv];
            let length = (p1 - p0) * m.branches[geometry.branch[cv]].length_um();
            if length > 0.0 {
                properties.area_um2[cv] / (std::f64::consts::PI * length)
            } else {
                0.0
            }
        })
        .collect();
    Ok(CellLayout {
        geometry,
        properties,
        diam_um,
        v_init_mv: cable.v_init_mv,
        mechanisms,
        stimuli,
        probes,
    })
}
