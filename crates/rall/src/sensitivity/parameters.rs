//! Parameter resolution: names such as `hh.gnabar` on `soma`, `cm`, `ra`, `stimulus[0].amplitude` or
//! `synapse[1].weight` in, per-CV and per-instance seeds `d(value)/dθ` for each lane out.

use super::cable_tangents::SensitivitySetup;
use crate::Cell;
use crate::cell::{CellError, CellLayout, lower_cell};
use crate::discretize::{CvKind, PaintedScalar, link_span};
use crate::labels::Region;
use crate::mechanism::{Catalogue, ParameterSeed};

/// How a lane's θ relates to the parameter's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transform {
    /// θ is the value itself.
    #[default]
    Value,
    /// θ multiplies the value (the gradient is with respect to a multiplier at 1).
    Multiplier,
    /// θ = ln(value).
    Log,
}

/// One parameter to differentiate.
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterSpec {
    /// `mechanism.parameter`, `cm`, `ra`, `stimulus[i].amplitude` or `synapse[i].weight` (`[*]`: all of them).
    pub name: String,
    /// Where the parameter is taken (region expression or label); `(all)` when absent.
    pub region: Option<String>,
    pub transform: Transform,
    /// A short name for outputs (e.g. `w`); by default `name@region`.
    pub alias: Option<String>,
}

impl ParameterSpec {
    pub fn new(name: &str, region: Option<&str>, transform: Transform) -> Self {
        Self {
            name: name.into(),
            region: region.map(String::from),
            transform,
            alias: None,
        }
    }

    /// Parses `NAME[@REGION][:value|multiplier|log]`, e.g. `hh.gnabar@soma:multiplier` (the command line's
    /// `--param` and the Python package's parameter names).
    pub fn parse(text: &str) -> Result<Self, String> {
        const SCALES: [&str; 3] = ["value", "multiplier", "log"];
        let (rest, scale) = match text.rsplit_once(':') {
            Some((r, s)) if SCALES.contains(&s) => (r, s),
            // A word after the last `:` is a scale (a region never ends in one).
            Some((_, s)) if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                return Err(format!(
                    "`{text}`: unknown scale `{s}`{}; expected value, multiplier or log",
                    crate::suggest::did_you_mean(s, SCALES)
                ));
            }
            _ => (text, "value"),
        };
        let (name, region) = match rest.split_once('@') {
            Some((n, r)) => (n, Some(r)),
            None => (rest, None),
        };
        if name.is_empty() {
            return Err(format!("`{text}`: expected NAME[@REGION][:value|multiplier|log]"));
        }
        let transform = match scale {
            "multiplier" => Transform::Multiplier,
            "log" => Transform::Log,
            _ => Transform::Value,
        };
        Ok(Self::new(name, region, transform))
    }

    /// The lane's name in outputs: `hh.gnabar@soma`, `cm`, ...
    pub fn label(&self) -> String {
        match (&self.alias, &self.region) {
            (Some(a), _) => a.clone(),
            (None, Some(r)) => format!("{}@{r}", self.name),
            (None, None) => self.name.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SensitivityError {
    #[error("{0}")]
    Cell(#[from] CellError),
    #[error("parameter `{name}`: {message}")]
    Parameter { name: String, message: String },
}

fn bad(spec: &ParameterSpec, message: impl Into<String>) -> SensitivityError {
    SensitivityError::Parameter {
        name: spec.name.clone(),
        message: message.into(),
    }
}

/// `name[index].field`, or `name[*].field` (every one: index `usize::MAX`).
fn indexed<'a>(name: &'a str, prefix: &str) -> Option<(usize, &'a str)> {
    let rest = name.strip_prefix(prefix)?.strip_prefix('[')?;
    let (index, field) = rest.split_once("].")?;
    if index == "*" {
        return Some((usize::MAX, field));
    }
    Some((index.parse().ok()?, field))
}

/// The indices `index` selects among `count` (all of them for `*`).
fn selected(index: usize, count: usize) -> std::ops::Range<usize> {
    if index == usize::MAX {
        0..count
    } else {
        index..index + 1
    }
}

/// Seeds for every parameter of `specs`, one lane each, on one cell and its layout.
pub fn resolve_parameters(
    cell: &Cell,
    layout: &CellLayout,
    catalogue: &Catalogue,
    specs: &[ParameterSpec],
) -> Result<SensitivitySetup, SensitivityError> {
    let mut setup = SensitivitySetup::default();
    let m = &cell.morphology;
    let g = &layout.geometry;
    for (lane, spec) in specs.iter().enumerate() {
        setup.names.push(spec.label());
        let region = cell.region(spec.region.as_deref().unwrap_or("(all)"))?;
        let scaled = |value: f64| if spec.transform == Transform::Value { 1.0 } else { value };
        if let Some((index, field)) = indexed(&spec.name, "stimulus") {
            if field != "amplitude" {
                return Err(bad(
                    spec,
                    "a stimulus parameter is `stimulus[i].amplitude` or `stimulus[*].amplitude`",
                ));
            }
            let clamps = &cell.decor.clamps;
            if index != usize::MAX && index >= clamps.len() {
                return Err(bad(spec, format!("there are {} stimuli", clamps.len())));
            }
            for index in selected(index, clamps.len()) {
                let first: usize = clamps[..index].iter().map(|c| c.locset.locations.len()).sum();
                for k in first..first + clamps[index].locset.locations.len() {
                    setup.stimulus.push((lane, k, scaled(clamps[index].amplitude_na)));
                }
            }
        } else if let Some((index, field)) = indexed(&spec.name, "synapse") {
            if field != "weight" {
                return Err(bad(
                    spec,
                    "a synapse parameter is `synapse[i].weight` or `synapse[*].weight`",
                ));
            }
            let synapses = &cell.decor.synapses;
            if index != usize::MAX && index >= synapses.len() {
                return Err(bad(spec, format!("there are {} synapses", synapses.len())));
            }
            for index in selected(index, synapses.len()) {
                setup.weight.push((lane, index, scaled(synapses[index].weight)));
            }
        } else if spec.name == "cm" {
            let cm = &cell.decor.cable.cm_uf_per_cm2;
            for cv in (0..g.len()).filter(|&cv| g.kind[cv] == CvKind::Membrane) {
                let (b, (p0, p1)) = (g.branch[cv], g.extent[cv]);
                let mut d = 0.0;
                m.for_each_piece(b, p0, p1, &cuts(cm, &region, b), |piece| {
                    if region.contains(b, piece.mid_pos) {
                        d += 1e-5 * piece.area_um2() * scaled(cm.at(b, piece.mid_pos));
                    }
                });
                if d != 0.0 {
                    setup.capacitance.push((lane, cv, d));
                }
            }
        } else if spec.name == "ra" {
            let ra = &cell.decor.cable.ra_ohm_cm;
            for cv in 0..g.len() {
                let Some((b, from, to)) = link_span(g, cv) else {
                    continue;
                };
                let mut d_resistance = 0.0;
                m.for_each_piece(b, from, to, &cuts(ra, &region, b), |piece| {
                    if region.contains(b, piece.mid_pos) {
                        d_resistance += piece.resistance_mohm(scaled(ra.at(b, piece.mid_pos)));
                    }
                });
                if d_resistance != 0.0 {
                    let conductance = layout.properties.axial_conductance_us[cv];
                    setup.axial.push((lane, cv, -conductance * conductance * d_resistance));
                }
            }
        } else if let Some((mechanism, parameter)) = spec.name.split_once('.') {
            let index = catalogue
                .parameter_index(mechanism, parameter)
                .map_err(|e| bad(spec, e))?;
            let Some(mech) = layout.mechanisms.iter().position(|l| l.mechanism == mechanism) else {
                return Err(bad(spec, format!("`{mechanism}` is not placed on this cell")));
            };
            let l = &layout.mechanisms[mech];
            let mut seeds = Vec::new();
            for (instance, &cv) in l.cv.iter().enumerate() {
                let (p0, p1) = g.extent[cv];
                let (inside, whole) = if p1 > p0 {
                    let covered = region.covered_length(g.branch[cv], p0, p1);
                    (covered > 0.0, covered >= (p1 - p0) * (1.0 - 1e-9))
                } else {
                    (region.contains(g.branch[cv], p0), true)
                };
                if inside && !whole && setup.partly_covered.last() != Some(&lane) {
                    setup.partly_covered.push(lane);
                }
                if inside {
                    seeds.push(ParameterSeed {
                        parameter: parameter.into(),
                        instance,
                        lane,
                        value: scaled(l.parameters[instance][index]),
                    });
                }
            }
            if seeds.is_empty() {
                return Err(bad(
                    spec,
                    format!(
                        "`{mechanism}` is not placed on the region `{}`",
                        spec.region.as_deref().unwrap_or("(all)")
                    ),
                ));
            }
            setup.mechanism_seeds.push((mech, seeds));
        } else {
            return Err(bad(
                spec,
                "expected `mechanism.parameter`, `cm`, `ra`, `stimulus[i].amplitude` or `synapse[i].weight`",
            ));
        }
    }
    Ok(setup)
}

fn cuts(painted: &PaintedScalar, region: &Region, branch: usize) -> Vec<f64> {
    let mut c = painted.cuts(branch);
    c.extend(region.boundaries_on(branch));
    c.sort_by(f64::total_cmp);
    c.dedup();
    c
}

/// A copy of `cell` with the parameter of `spec` multiplied by `factor` (for finite differences and fitting).
/// A mechanism painted across the region's boundary is split there.
pub fn perturbed(
    cell: &Cell,
    catalogue: &Catalogue,
    spec: &ParameterSpec,
    factor: f64,
) -> Result<Cell, SensitivityError> {
    let mut out = cell.clone();
    let region = cell.region(spec.region.as_deref().unwrap_or("(all)"))?;
    if let Some((index, _)) = indexed(&spec.name, "stimulus") {
        if index != usize::MAX && index >= cell.decor.clamps.len() {
            return Err(bad(spec, "no such stimulus"));
        }
        for i in selected(index, cell.decor.clamps.len()) {
            out.decor.clamps[i].amplitude_na *= factor;
        }
    } else if let Some((index, _)) = indexed(&spec.name, "synapse") {
        if index != usize::MAX && index >= cell.decor.synapses.len() {
            return Err(bad(spec, "no such synapse"));
        }
        for i in selected(index, cell.decor.synapses.len()) {
            out.decor.synapses[i].weight *= factor;
        }
    } else if spec.name == "cm" || spec.name == "ra" {
        let painted = if spec.name == "cm" {
            &mut out.decor.cable.cm_uf_per_cm2
        } else {
            &mut out.decor.cable.ra_ohm_cm
        };
        scale_within(painted, &region, factor, &cell.morphology);
    } else if let Some((mechanism, parameter)) = spec.name.split_once('.') {
        let default = catalogue
            .parameters(mechanism)
            .ok()
            .and_then(|ps| ps.into_iter().find(|p| p.name == parameter).map(|p| p.default));
        let mut touched = false;
        let mut paints = Vec::with_capacity(out.decor.paints.len() + 1);
        for paint in std::mem::take(&mut out.decor.paints) {
            let overlap = paint.region.intersection(&region);
            if paint.mechanism != mechanism || overlap.cables.is_empty() {
                paints.push(paint);
                continue;
            }
            let value = paint
                .parameters
                .iter()
                .find(|(n, _)| n == parameter)
                .map(|(_, v)| *v)
                .or(default);
            let value = value.ok_or_else(|| bad(spec, "unknown parameter (user mechanisms need the value painted)"))?;
            // The painting is split at the region's boundary; the part inside gets the scaled value.
            let outside = paint.region.intersection(&region.complement(&cell.morphology));
            if !outside.cables.is_empty() {
                paints.push(crate::cell::MechanismPaint {
                    region: outside,
                    ..paint.clone()
                });
            }
            let mut inside = crate::cell::MechanismPaint {
                region: overlap,
                ..paint
            };
            inside.parameters.retain(|(n, _)| n != parameter);
            inside.parameters.push((parameter.into(), value * factor));
            paints.push(inside);
            touched = true;
        }
        out.decor.paints = paints;
        if !touched {
            return Err(bad(spec, "the mechanism is not painted on the region"));
        }
    } else {
        return Err(bad(spec, "unknown parameter"));
    }
    Ok(out)
}

/// Multiplies a painted scalar by `factor` inside `region`, keeping the layers' precedence.
fn scale_within(painted: &mut PaintedScalar, region: &Region, factor: f64, morphology: &crate::morphology::Morphology) {
    let mut covered = Region::default();
    for (r, _) in &painted.layers {
        covered = covered.union(r);
    }
    let mut added = vec![(
        region.intersection(&covered.complement(morphology)),
        painted.default * factor,
    )];
    for (r, v) in &painted.layers {
        added.push((r.intersection(region), v * factor));
    }
    painted
        .layers
        .extend(added.into_iter().filter(|(r, _)| !r.cables.is_empty()));
}

/// Lowers a cell and resolves its parameters in one go.
pub fn setup_for(
    cell: &Cell,
    catalogue: &Catalogue,
    specs: &[ParameterSpec],
) -> Result<SensitivitySetup, SensitivityError> {
    let layout = lower_cell(cell, catalogue)?;
    resolve_parameters(cell, &layout, catalogue, specs)
}
