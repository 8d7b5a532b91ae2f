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
    /// The time course the amplitude is multiplied by (a step when `None`).
    pub waveform: Option<super::Waveform>,
}

impl StimulusLayout {
    /// The factor the amplitude is multiplied by at `t_ms`: 0 outside the clamp's interval, the waveform's
    /// value (1 for a step) inside.
    pub fn shape_at(&self, t_ms: f64) -> f64 {
        super::clamp_shape(self.delay_ms, self.duration_ms, self.waveform.as_ref(), t_ms)
    }
}

/// An input event for one instance of a point-process mechanism.
#[derive(Clone, Debug, PartialEq)]
pub struct EventLayout {
    /// Index into [`CellLayout::mechanisms`].
    pub mechanism: usize,
    /// Instance within that mechanism.
    pub instance: usize,
    /// [ms]
    pub t_ms: f64,
    pub weight: f64,
    /// Index of the synapse placement in the decor this event came from.
    pub source: usize,
}

/// A probe resolved to one CV (and, for a mechanism variable, to one instance).
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeLayout {
    pub name: String,
    pub cv: CvIndex,
    /// `(index into CellLayout::mechanisms, instance, variable)` for a mechanism variable.
    pub variable: Option<(usize, usize, String)>,
    /// The unit of what it records: `mV` for the voltage, the `.mod` file's unit of a variable (empty when
    /// the file gives none).
    pub unit: String,
}

/// A POINTER of one point-process instance and what it reads.
#[derive(Clone, Debug, PartialEq)]
pub struct PointerLayout {
    /// Index into [`CellLayout::mechanisms`], and the instance.
    pub mechanism: usize,
    pub instance: usize,
    pub pointer: String,
    pub source: PointerSource,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PointerSource {
    /// The membrane potential of a CV of this cell.
    Voltage(CvIndex),
    /// The membrane potential at a location of another cell, resolved when the simulation is built.
    OtherCell { cell: String, at: crate::labels::Location },
    /// The weight of a network connection, held by the POINTER (see [`crate::cell::PointerTarget`]).
    ConnectionWeight { connection: usize, weight: f64 },
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
    /// Input events of point processes, sorted by time.
    pub events: Vec<EventLayout>,
    /// Ion settings with the membrane CVs they apply to, in order (later ones win).
    pub ions: Vec<(crate::cell::IonSetting, Vec<CvIndex>)>,
    pub probes: Vec<ProbeLayout>,
    /// The `(mechanism, instance)` pairs of each synapse placement: where an event sent to it goes.
    pub synapse_targets: Vec<Vec<(usize, usize)>>,
    /// Spike detectors: the CV and threshold [mV] of each location of each detector.
    pub detectors: Vec<(CvIndex, f64)>,
    /// POINTER bindings of the point processes.
    pub pointers: Vec<PointerLayout>,
    /// `(mechanism, instance)` of each `net_event` detector (numbered after `detectors`).
    pub event_detectors: Vec<(usize, usize)>,
    /// Seed of the cell's random streams.
    pub noise_seed: u64,
}

impl Cell {
    /// The number of CVs its CV policy gives the cell, as a float so that an absurd policy or morphology
    /// (a branch of 1e12 µm, a `d_lambda` of 1e-300) is counted without allocating anything.
    pub fn cv_count(&self) -> f64 {
        let (m, cable) = (&self.morphology, &self.decor.cable);
        (0..m.branches.len())
            .map(|b| {
                self.policy
                    .cv_count(m, b, |pos| (cable.ra_ohm_cm.at(b, pos), cable.cm_uf_per_cm2.at(b, pos)))
            })
            .sum()
    }

    /// The CV tree and its electrical properties, refused when there would be more than
    /// [`crate::limits::max_cvs`] CVs
    /// (checked before anything is allocated) or when a CV's capacitance or axial conductance is degenerate.
    pub fn discretise(&self) -> Result<(CvGeometry, CvProperties), CellError> {
        let count = self.cv_count();
        let limit = crate::limits::max_cvs();
        if !(count <= limit as f64) {
            return Err(CellError::TooManyCvs { count, limit });
        }
        let (m, cable) = (&self.morphology, &self.decor.cable);
        let boundaries: Vec<Vec<f64>> = (0..m.branches.len())
            .map(|b| {
                self.policy
                    .boundaries(m, b, |pos| (cable.ra_ohm_cm.at(b, pos), cable.cm_uf_per_cm2.at(b, pos)))
            })
            .collect();
        let geometry = CvGeometry::new(m, &boundaries);
        let properties = CvProperties::new(m, &geometry, cable);
        check_cv_properties(&geometry, &properties)?;
        Ok((geometry, properties))
    }
}

/// Every CV's capacitance finite and every link to a parent a finite, positive conductance: a diameter of
/// 1e-300 or 1e300 µm would otherwise surface only as a failing cable solve at t = 0, without a place.
fn check_cv_properties(geometry: &CvGeometry, properties: &CvProperties) -> Result<(), CellError> {
    for cv in 0..geometry.len() {
        let capacitance = properties.capacitance_nf[cv];
        let axial = properties.axial_conductance_us[cv];
        let bad = if !(capacitance >= 0.0 && capacitance.is_finite()) {
            Some(("membrane capacitance [nF]", capacitance))
        } else if geometry.parent[cv].is_some() && !(axial > 0.0 && axial.is_finite()) {
            Some(("axial conductance to its parent [µS]", axial))
        } else {
            None
        };
        if let Some((what, value)) = bad {
            let (from, to) = geometry.extent[cv];
            return Err(CellError::DegenerateCv {
                branch: geometry.branch[cv],
                from,
                to,
                what,
                value,
            });
        }
    }
    Ok(())
}

/// Discretises a cell and resolves its decor to CVs.
pub fn lower_cell(cell: &Cell, catalogue: &Catalogue) -> Result<CellLayout, CellError> {
    let m = &cell.morphology;
    let cable = &cell.decor.cable;
    let (geometry, properties) = cell.discretise()?;

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
        let scaled: Vec<(usize, &super::ScaleExpr)> = paint
            .scale
            .iter()
            .map(|(name, e)| {
                catalogue
                    .parameter_index(&paint.mechanism, name)
                    .map(|k| (k, e))
                    .map_err(CellError::Mechanism)
            })
            .collect::<Result<_, _>>()?;
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
                let mut here = values.clone();
                if !scaled.is_empty() {
                    let centre = (branch, 0.5 * (p0 + p1));
                    let distance = match paint.scale_origin {
                        Some(o) => super::path_between_um(m, (o.branch, o.pos), centre),
                        None => super::path_from_root_um(m, centre.0, centre.1),
                    };
                    for &(k, e) in &scaled {
                        here[k] *= e.at(distance);
                    }
                }
                layout.cv.push(cv);
                layout.area_um2.push(area);
                layout.parameters.push(here);
            }
        }
    }

    // Painted mechanisms advance in NEURON's order, whatever the order of the paints.
    mechanisms.sort_by(|a, b| {
        catalogue
            .neuron_order(&a.mechanism)
            .cmp(&catalogue.neuron_order(&b.mechanism))
    });

    let mut events = Vec::new();
    let mut synapse_targets = Vec::new();
    let mut pointers = Vec::new();
    for (source, synapse) in cell.decor.synapses.iter().enumerate() {
        if catalogue.is_density(&synapse.mechanism).map_err(CellError::Mechanism)? {
            return Err(CellError::Mechanism(format!(
                "`{}` is a density mechanism: paint it on a region",
                synapse.mechanism
            )));
        }
        let mut values: Vec<f64> = catalogue
            .parameters(&synapse.mechanism)
            .map_err(CellError::Mechanism)?
            .iter()
            .map(|p| p.default)
            .collect();
        for (name, value) in &synapse.parameters {
            values[catalogue
                .parameter_index(&synapse.mechanism, name)
                .map_err(CellError::Mechanism)?] = *value;
        }
        let index = match mechanisms.iter().position(|l| l.mechanism == synapse.mechanism) {
            Some(i) => i,
            None => {
                mechanisms.push(MechanismLayout {
                    mechanism: synapse.mechanism.clone(),
                    cv: vec![],
                    area_um2: vec![],
                    parameters: vec![],
                });
                mechanisms.len() - 1
            }
        };
        let mut targets = Vec::new();
        for l in &synapse.locset.locations {
            let layout = &mut mechanisms[index];
            let cv = geometry.cv_at_location(m, *l);
            layout.cv.push(cv);
            layout.area_um2.push(properties.area_um2[cv]);
            layout.parameters.push(values.clone());
            let instance = layout.cv.len() - 1;
            targets.push((index, instance));
            for b in &synapse.pointers {
                let source = match &b.target {
                    crate::cell::PointerTarget::Voltage(at) => PointerSource::Voltage(geometry.cv_at_location(m, *at)),
                    crate::cell::PointerTarget::OtherCell { cell, at } => PointerSource::OtherCell {
                        cell: cell.clone(),
                        at: *at,
                    },
                    crate::cell::PointerTarget::ConnectionWeight { connection, weight } => {
                        PointerSource::ConnectionWeight {
                            connection: *connection,
                            weight: *weight,
                        }
                    }
                };
                pointers.push(PointerLayout {
                    mechanism: index,
                    instance,
                    pointer: b.pointer.clone(),
                    source,
                });
            }
            for &t_ms in &synapse.events_ms {
                events.push(EventLayout {
                    mechanism: index,
                    instance,
                    t_ms,
                    weight: synapse.weight,
                    source,
                });
            }
        }
        synapse_targets.push(targets);
    }
    events.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    let detectors = cell
        .decor
        .detector_locations()
        .map(|(l, threshold)| (geometry.cv_at_location(m, l), threshold))
        .collect();

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
                waveform: c.waveform.clone(),
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
            let cv = geometry.cv_at_location(m, l);
            let (variable, unit) = match &p.variable {
                None => (None, "mV".to_string()),
                Some((mechanism, var)) => {
                    let resolved = resolve_variable(&mechanisms, catalogue, mechanism, var, cv, &name)?;
                    (Some(resolved), variable_unit(catalogue, mechanism, var))
                }
            };
            probes.push(ProbeLayout {
                name,
                cv,
                variable,
                unit,
            });
        }
    }

    let ions = cell
        .decor
        .ions
        .iter()
        .map(|setting| {
            let cvs = (0..geometry.len())
                .filter(|&cv| geometry.kind[cv] == CvKind::Membrane)
                .filter(|&cv| {
                    setting
                        .region
                        .covered_length(geometry.branch[cv], geometry.extent[cv].0, geometry.extent[cv].1)
                        > 0.0
                })
                .collect();
            (setting.clone(), cvs)
        })
        .collect();

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
        events,
        ions,
        probes,
        event_detectors: cell
            .decor
            .event_detectors
            .iter()
            .flat_map(|&s| synapse_targets[s].iter().copied())
            .collect(),
        synapse_targets,
        detectors,
        pointers,
        noise_seed: cell.decor.noise_seed,
    })
}

/// The mechanism instance at `cv` that holds `variable`, for a probe.
/// The unit a mechanism's `.mod` file gives a variable (empty when it gives none).
fn variable_unit(catalogue: &Catalogue, mechanism: &str, variable: &str) -> String {
    let Ok(compiled) = catalogue.get(mechanism) else {
        return String::new();
    };
    let ir = &compiled.ir;
    ir.slot(variable)
        .and_then(|s| ir.slots[s as usize].unit.clone())
        .unwrap_or_default()
}

pub(crate) fn resolve_variable(
    mechanisms: &[MechanismLayout],
    catalogue: &Catalogue,
    mechanism: &str,
    variable: &str,
    cv: CvIndex,
    probe: &str,
) -> Result<(usize, usize, String), CellError> {
    let ir = &catalogue.get(mechanism).map_err(CellError::Mechanism)?.ir;
    if ir.slot(variable).is_none() {
        let names: Vec<&str> = ir.slots.iter().map(|s| s.name.as_str()).collect();
        let hint = crate::suggest::did_you_mean(variable, names.iter().copied());
        return Err(CellError::Mechanism(format!(
            "probe `{probe}`: `{mechanism}` has no variable `{variable}`{hint}"
        )));
    }
    let index = mechanisms.iter().position(|l| l.mechanism == mechanism);
    let instance = index.and_then(|i| mechanisms[i].cv.iter().position(|&c| c == cv));
    match (index, instance) {
        (Some(i), Some(k)) => Ok((i, k, variable.to_string())),
        _ => Err(CellError::Mechanism(format!(
            "probe `{probe}`: there is no `{mechanism}` at CV {cv}"
        ))),
    }
}
