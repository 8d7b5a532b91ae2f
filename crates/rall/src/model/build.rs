//! Model building: parsed model-file tables in, checked [`Cell`]s and [`RunOptions`] out, every error located in the file.

use super::spec::{CellSpec, DiscretizationSpec, MultiCellFile, SimulationSpec};
use crate::cell::{Cell, CellError, MechanismPaint, Probe};
use crate::discretize::CvPolicy;
use crate::engine::Integrator;
use crate::labels::LabelError;
use crate::mechanism::Catalogue;
use crate::simulation::RunOptions;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A model file, read and checked: its cells and how to run them.
#[derive(Clone, Debug)]
pub struct Model {
    pub cells: Vec<(String, Cell)>,
    pub options: RunOptions,
    pub file: PathBuf,
    /// The catalogue the cells were checked against: the given one plus the file's `mod_files`.
    pub catalogue: Catalogue,
    /// Parameters whose sensitivities `rall grad` co-simulates, from `[[parameter]]`.
    pub parameters: Vec<crate::sensitivity::ParameterSpec>,
    /// Forgetting rate of the sensitivities [1/ms], from `[simulation] forgetting`.
    pub forgetting_per_ms: f64,
    /// What `rall fit` fits, from `[fit]`.
    pub fit: Option<FitSpec>,
    /// The network, when the file has `[[population]]` entries (its cells are `cells`).
    pub network: Option<crate::network::Network>,
    /// Online homeostatic control of every cell, from `[homeostasis]`.
    pub homeostasis: Option<crate::control::HomeostasisSpec>,
    /// What the file asks for that runs but may not be what was meant (a parameter outside the range its
    /// NMODL file declares), each with its file and line; the command line prints them.
    pub warnings: Vec<ModelError>,
}

/// The `[fit]` table, checked.
#[derive(Clone, Debug)]
pub struct FitSpec {
    pub optimizer: Optimizer,
    pub iterations: usize,
    pub space: crate::fit::Space,
    pub parameters: Vec<crate::fit::FitParameter>,
    /// Multipliers for synthetic targets, one per parameter (for protocols without a target file).
    pub truth: Option<Vec<f64>>,
    /// The stimulus protocols whose losses are summed (the model as written when there is no `[[fit.protocol]]`).
    pub protocols: Vec<ProtocolSpec>,
    /// `(first t_stop [ms], iterations)` of a curriculum over simulated time.
    pub curriculum: Option<(f64, usize)>,
}

/// One stimulus protocol of a fit, checked.
#[derive(Clone, Debug)]
pub struct ProtocolSpec {
    pub name: String,
    /// The model's cells with this protocol's stimuli.
    pub cells: Vec<(String, Cell)>,
    /// A target CSV, resolved against the model file's folder.
    pub target: Option<PathBuf>,
    pub windows: Vec<crate::fit::Window>,
    pub weight: f64,
    pub t_stop_ms: Option<f64>,
}

#[derive(Clone, Debug)]
pub enum Optimizer {
    Adam(crate::fit::AdamSettings),
    Lbfgs(crate::fit::LbfgsSettings),
    LevenbergMarquardt(crate::fit::LevenbergMarquardtSettings),
    Cmaes(crate::fit::CmaesSettings),
}

/// A problem in a model file, with its place when known.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{file}{}: {message}", place.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
pub struct ModelError {
    pub file: String,
    /// 1-based line and column.
    pub place: Option<(usize, usize)>,
    pub message: String,
}

/// Reads a model file; relative paths inside it are taken from its folder.
pub fn load_model(path: &Path, catalogue: &Catalogue) -> Result<Model, ModelError> {
    let text = crate::read_text(path).map_err(|e| ModelError {
        file: path.display().to_string(),
        place: None,
        message: format!("cannot read the model file: {e}"),
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut model = parse_model(&text, &path.display().to_string(), base, catalogue)?;
    model.file = path.to_path_buf();
    Ok(model)
}

/// Parses model text; `file` names it in errors and `base` resolves relative paths.
pub fn parse_model(text: &str, file: &str, base: &Path, catalogue: &Catalogue) -> Result<Model, ModelError> {
    let mut catalogue = catalogue.clone();
    let ctx = Context {
        text,
        file,
        base,
        catalogue: &catalogue,
        warnings: Default::default(),
    };
    let table: toml::Table = toml::from_str(text).map_err(|e| ctx.toml_error(e))?;
    let mut network_spec = None;
    let homeostasis_spec;
    let (simulation, mod_files, parameter_specs, fit_spec, mut specs) = if table.contains_key("cell") {
        let multi: MultiCellFile = toml::from_str(text).map_err(|e| ctx.toml_error(e))?;
        network_spec = Some((
            multi.population,
            multi.spike_source,
            multi.connection,
            multi.gap_junction,
        ));
        homeostasis_spec = multi.homeostasis;
        (
            multi.simulation,
            multi.mod_files,
            multi.parameter,
            multi.fit,
            multi.cell,
        )
    } else {
        let mut single: CellSpec = toml::from_str(text).map_err(|e| ctx.toml_error(e))?;
        let simulation = single
            .simulation
            .take()
            .ok_or_else(|| ctx.error(None, "missing the [simulation] table (t_stop, dt, ...)"))?;
        let mod_files = std::mem::take(&mut single.mod_files);
        let parameters = std::mem::take(&mut single.parameter);
        let fit = single.fit.take();
        homeostasis_spec = single.homeostasis.take();
        (simulation, mod_files, parameters, fit, vec![single])
    };
    let options = ctx.run_options(&simulation)?;
    let neuron_conductance = ctx.neuron_conductance(&simulation)?;
    catalogue.set_neuron_conductance(neuron_conductance);
    let mut failure = None;
    for m in &mod_files {
        if let Err(e) = catalogue.add_file(&base.join(m.get_ref())) {
            failure = Some((m.span(), e.to_string()));
            break;
        }
    }
    if let Some((span, message)) = failure {
        let ctx = Context {
            text,
            file,
            base,
            catalogue: &catalogue,
            warnings: Default::default(),
        };
        return Err(ctx.error(Some(span), &message));
    }
    let ctx = Context {
        text,
        file,
        base,
        catalogue: &catalogue,
        warnings: Default::default(),
    };
    let mut cells = Vec::with_capacity(specs.len());
    let count = specs.len();
    for (index, spec) in specs.iter_mut().enumerate() {
        if let Some(s) = &spec.simulation {
            return Err(ctx.error(
                Some(s.span()),
                "[simulation] belongs at the top level, not inside a [[cell]]",
            ));
        }
        if let Some(h) = &spec.homeostasis {
            return Err(ctx.error(
                Some(h.span()),
                "[homeostasis] belongs at the top level, not inside a [[cell]]",
            ));
        }
        if let Some(m) = spec.mod_files.first() {
            return Err(ctx.error(
                Some(m.span()),
                "mod_files belongs at the top level, not inside a [[cell]]",
            ));
        }
        let name = spec.name.clone().unwrap_or_else(|| {
            if count == 1 {
                String::new()
            } else {
                format!("cell{index}")
            }
        });
        if cells.iter().any(|(n, _)| n == &name) {
            return Err(ctx.error(Some(spec.morphology.span()), &format!("two cells are named `{name}`")));
        }
        cells.push((name, ctx.cell(spec)?));
    }
    ctx.bind_pointers_between_cells(&specs, &mut cells)?;
    let mut network = match network_spec {
        Some((populations, sources, connections, gap_junctions)) if !populations.is_empty() => {
            if let Some(c) = specs
                .iter()
                .flat_map(|s| &s.synapse)
                .flat_map(|s| s.pointers.values())
                .find_map(|p| p.cell.as_ref())
            {
                return Err(ctx.error(
                    Some(c.span()),
                    "POINTERs to another cell work between [[cell]]s simulated side by side, not yet within populations",
                ));
            }
            let network = ctx.network(
                &cells,
                &populations,
                &sources,
                &connections,
                &gap_junctions,
                options.t_stop_ms,
            )?;
            cells = network.cells.clone();
            Some(network)
        }
        Some((_, sources, connections, gaps)) if !sources.is_empty() || !connections.is_empty() || !gaps.is_empty() => {
            return Err(ctx.error(
                None,
                "spike sources, connections and gap junctions need [[population]] entries",
            ));
        }
        _ => None,
    };
    let seed = simulation.get_ref().seed;
    for (index, (_, cell)) in cells.iter_mut().enumerate() {
        cell.decor.noise_seed = crate::cell::mix_seed(seed, index as u64);
    }
    if let Some(network) = &mut network {
        for (index, (_, cell)) in network.cells.iter_mut().enumerate() {
            cell.decor.noise_seed = crate::cell::mix_seed(seed, index as u64);
        }
    }
    let parameters = ctx.parameters(&parameter_specs, &cells)?;
    let forgetting_per_ms = simulation.get_ref().forgetting;
    if !(forgetting_per_ms >= 0.0) {
        return Err(ctx.error(Some(simulation.span()), "simulation.forgetting must not be negative"));
    }
    let fit = fit_spec.as_ref().map(|f| ctx.fit(f, &cells)).transpose()?;
    let homeostasis = homeostasis_spec
        .as_ref()
        .map(|h| ctx.homeostasis(h, &cells))
        .transpose()?;
    let warnings = ctx.warnings.take();
    Ok(Model {
        cells,
        options,
        file: PathBuf::from(file),
        catalogue,
        parameters,
        forgetting_per_ms,
        fit,
        network,
        homeostasis,
        warnings,
    })
}

pub(super) struct Context<'a> {
    text: &'a str,
    file: &'a str,
    pub(super) base: &'a Path,
    pub(super) catalogue: &'a Catalogue,
    /// What the file asks for that runs but may not be what was meant, each at its place.
    warnings: std::cell::RefCell<Vec<ModelError>>,
}

impl Context<'_> {
    fn place(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        (line, column)
    }

    /// Records a warning at `span` (see [`Model::warnings`]).
    pub(super) fn warn(&self, span: Option<Range<usize>>, message: &str) {
        let warning = self.error(span, message);
        self.warnings.borrow_mut().push(warning);
    }

    pub(super) fn error(&self, span: Option<Range<usize>>, message: &str) -> ModelError {
        // A default value has the empty span 0..0 and no place in the file.
        let place = span.filter(|s| !s.is_empty()).map(|s| self.place(s.start));
        ModelError {
            file: self.file.into(),
            place,
            message: message.into(),
        }
    }

    fn toml_error(&self, e: toml::de::Error) -> ModelError {
        self.error(e.span(), e.message().trim())
    }

    /// A label error inside a quoted label at `span`: points at the column within the label.
    pub(super) fn label_error(&self, span: Range<usize>, e: &LabelError) -> ModelError {
        let mut err = self.error(Some(span.clone()), &e.to_string());
        if let (Some((line, column)), true) = (err.place, e.column > 0 && !span.is_empty()) {
            err.place = Some((line, column + e.column));
        }
        err
    }

    pub(super) fn cell_error(&self, span: Range<usize>, e: CellError) -> ModelError {
        match e {
            CellError::Label { source, .. } => self.label_error(span, &source),
            other => self.error(Some(span), &other.to_string()),
        }
    }

    /// Where `key = ...` is written inside the table at `table` (the table itself when the key is not
    /// written, e.g. a default).
    fn key_span(&self, table: Range<usize>, key: &str) -> Range<usize> {
        let text = &self.text[table.start.min(self.text.len())..table.end.min(self.text.len())];
        let mut offset = table.start;
        for line in text.split_inclusive('\n') {
            let trimmed = line.trim_start();
            if let Some(rest) = trimmed.strip_prefix(key)
                && rest.trim_start().starts_with('=')
            {
                let start = offset + (line.len() - trimmed.len());
                return start..start + key.len();
            }
            offset += line.len();
        }
        table
    }

    fn run_options(&self, s: &Spanned<SimulationSpec>) -> Result<RunOptions, ModelError> {
        let spec = s.get_ref();
        let bad = |key: &str, m: &str| Err(self.error(Some(self.key_span(s.span(), key)), m));
        if !(spec.dt > 0.0 && spec.dt.is_finite()) {
            return bad(
                "dt",
                &format!(
                    "simulation.dt must be a positive, finite number of ms, found {}",
                    spec.dt
                ),
            );
        }
        if !(spec.t_stop >= 0.0 && spec.t_stop.is_finite()) {
            return bad(
                "t_stop",
                &format!(
                    "simulation.t_stop must be a finite, non-negative number of ms, found {}",
                    spec.t_stop
                ),
            );
        }
        // A run of this many steps would not end in any useful time.
        const MOST_STEPS: f64 = 1e12;
        if spec.t_stop / spec.dt > MOST_STEPS {
            return bad(
                "dt",
                &format!(
                    "t_stop / dt = {:.3e} steps is more than rall takes ({MOST_STEPS:e}); raise dt or shorten t_stop",
                    spec.t_stop / spec.dt
                ),
            );
        }
        if !spec.celsius.is_finite() {
            return bad(
                "celsius",
                &format!(
                    "simulation.celsius must be a finite temperature in °C, found {}",
                    spec.celsius
                ),
            );
        }
        let sample_interval_ms = spec.sample_interval.unwrap_or(spec.dt);
        if !(sample_interval_ms > 0.0 && sample_interval_ms.is_finite()) {
            return bad(
                "sample_interval",
                &format!(
                    "simulation.sample_interval must be a positive, finite number of ms, found {sample_interval_ms}"
                ),
            );
        }
        let integrator = match spec.integrator.as_ref().map(|i| (i.get_ref().as_str(), i.span())) {
            None | Some(("backward-euler", _)) => Integrator::BackwardEuler,
            Some(("crank-nicolson", _)) => Integrator::CrankNicolson,
            Some((other, span)) => {
                let hint = crate::suggest::did_you_mean(other, ["backward-euler", "crank-nicolson"]);
                return Err(self.error(
                    Some(span),
                    &format!("unknown integrator `{other}`{hint}; use `backward-euler` or `crank-nicolson`"),
                ));
            }
        };
        Ok(RunOptions {
            t_stop_ms: spec.t_stop,
            dt_ms: spec.dt,
            sample_interval_ms,
            integrator,
            celsius: spec.celsius,
        })
    }

    /// `[simulation] conductance`: whether NMODL currents use NEURON's difference-quotient conductance.
    fn neuron_conductance(&self, simulation: &Spanned<SimulationSpec>) -> Result<bool, ModelError> {
        match simulation
            .get_ref()
            .conductance
            .as_ref()
            .map(|c| (c.get_ref().as_str(), c.span()))
        {
            None | Some(("exact", _)) => Ok(false),
            Some(("neuron", _)) => Ok(true),
            Some((other, span)) => {
                let hint = crate::suggest::did_you_mean(other, ["exact", "neuron"]);
                Err(self.error(
                    Some(span),
                    &format!(
                        "unknown conductance `{other}`{hint}; use `exact` (∂i/∂v) or `neuron` (NEURON's \
                         difference quotient over 0.001 mV)"
                    ),
                ))
            }
        }
    }

    fn cell(&self, spec: &CellSpec) -> Result<Cell, ModelError> {
        let mut cell = Cell::new(self.morphology(&spec.morphology)?);
        for (name, text) in &spec.labels {
            cell.labels
                .define(name, text.get_ref())
                .map_err(|e| self.label_error(text.span(), &e))?;
        }
        if let Some(d) = &spec.discretization {
            cell.policy = self.policy(d)?;
        }
        if let Some(cable) = &spec.cable {
            // Positive, finite cable constants, each refused at its key (a bad one would surface only as a
            // failing solve at t = 0).
            let check = |table: Range<usize>, key: &str, value: Option<f64>, what: &str| match value {
                Some(x) if !(x > 0.0 && x.is_finite()) => Err(self.error(
                    Some(self.key_span(table, key)),
                    &format!("cable.{key} must be a positive, finite {what}, found {x}"),
                )),
                _ => Ok(()),
            };
            let (table, c_spec) = (cable.span(), cable.get_ref());
            check(table.clone(), "cm", c_spec.cm, "capacitance in µF/cm²")?;
            check(table.clone(), "ra", c_spec.ra, "axial resistivity in Ω·cm")?;
            if let Some(v) = c_spec.v_init.filter(|v| !v.is_finite()) {
                let message = format!("cable.v_init must be a finite voltage in mV, found {v}");
                return Err(self.error(Some(self.key_span(table, "v_init")), &message));
            }
            let c = &mut cell.decor.cable;
            c.cm_uf_per_cm2.default = c_spec.cm.unwrap_or(c.cm_uf_per_cm2.default);
            c.ra_ohm_cm.default = c_spec.ra.unwrap_or(c.ra_ohm_cm.default);
            c.v_init_mv = c_spec.v_init.unwrap_or(c.v_init_mv);
            for spanned in &c_spec.region {
                let r = spanned.get_ref();
                check(spanned.span(), "cm", r.cm, "capacitance in µF/cm²")?;
                check(spanned.span(), "ra", r.ra, "axial resistivity in Ω·cm")?;
                let span = r.region.span();
                if let Some(cm) = r.cm {
                    cell.set_cm(r.region.get_ref(), cm)
                        .map_err(|e| self.cell_error(span.clone(), e))?;
                }
                if let Some(ra) = r.ra {
                    cell.set_ra(r.region.get_ref(), ra)
                        .map_err(|e| self.cell_error(span.clone(), e))?;
                }
            }
        }
        // The CVs counted before anything is allocated and their geometry checked, each error at the CV
        // rule or the morphology it comes from (a failing cable solve at t = 0 would have no place).
        if let Err(e) = cell.discretise() {
            let span = match (&e, &spec.discretization) {
                (CellError::TooManyCvs { .. }, Some(d)) => d.get_ref().policy.span(),
                _ => spec.morphology.span(),
            };
            return Err(self.cell_error(span, e));
        }
        for m in &spec.mechanism {
            self.catalogue
                .get(m.name.get_ref())
                .map_err(|e| self.error(Some(m.name.span()), &e))?;
            let mut parameters = Vec::new();
            for (key, value) in &m.parameters {
                self.catalogue
                    .parameter_index(m.name.get_ref(), key.get_ref())
                    .map_err(|e| self.error(Some(key.span()), &e))?;
                if let Some(w) = self
                    .catalogue
                    .outside_declared_range(m.name.get_ref(), key.get_ref(), *value)
                {
                    self.warn(Some(key.span()), &w);
                }
                parameters.push((key.get_ref().clone(), *value));
            }
            let region = cell
                .region(m.region.get_ref())
                .map_err(|e| self.cell_error(m.region.span(), e))?;
            let mut scale = Vec::new();
            for (key, text) in &m.scale {
                self.catalogue
                    .parameter_index(m.name.get_ref(), key.get_ref())
                    .map_err(|e| self.error(Some(key.span()), &e))?;
                let expr = crate::cell::ScaleExpr::parse(text.get_ref()).map_err(|e| {
                    // Point at the character inside the string (after its opening quote).
                    let at = text.span().start + e.column;
                    self.error(
                        Some(at..at + 1),
                        &format!("in the scale expression `{}`: {}", text.get_ref(), e.message),
                    )
                })?;
                scale.push((key.get_ref().clone(), expr));
            }
            let scale_origin = match &m.distance_from {
                Some(o) => Some(
                    cell.one_location(o.get_ref())
                        .map_err(|e| self.cell_error(o.span(), e))?,
                ),
                None => None,
            };
            let paint = MechanismPaint {
                region,
                mechanism: m.name.get_ref().clone(),
                parameters,
                scale,
                scale_origin,
            };
            let clash = cell
                .decor
                .paints
                .iter()
                .any(|p| p.mechanism == paint.mechanism && !p.region.intersection(&paint.region).cables.is_empty());
            if clash {
                let message = CellError::OverlappingPaint {
                    mechanism: paint.mechanism.clone(),
                }
                .to_string();
                return Err(self.error(Some(m.name.span()), &message));
            }
            cell.decor.paints.push(paint);
        }
        for s in &spec.stimulus {
            let clamp = self.clamp(&cell, s)?;
            cell.decor.clamps.push(clamp);
        }
        for syn in &spec.synapse {
            let name = syn.mechanism.get_ref();
            let density = self
                .catalogue
                .is_density(name)
                .map_err(|e| self.error(Some(syn.mechanism.span()), &e))?;
            if density {
                let message = format!("`{name}` is a density mechanism: paint it with [[mechanism]], not [[synapse]]");
                return Err(self.error(Some(syn.mechanism.span()), &message));
            }
            let mut parameters = Vec::new();
            for (key, value) in &syn.parameters {
                self.catalogue
                    .parameter_index(name, key.get_ref())
                    .map_err(|e| self.error(Some(key.span()), &e))?;
                if let Some(w) = self.catalogue.outside_declared_range(name, key.get_ref(), *value) {
                    self.warn(Some(key.span()), &w);
                }
                parameters.push((key.get_ref().clone(), *value));
            }
            if syn.events.iter().any(|t| !t.is_finite()) || !syn.weight.is_finite() {
                return Err(self.error(Some(syn.at.span()), "synapse events and weight must be finite numbers"));
            }
            let locset = cell
                .locset(syn.at.get_ref())
                .map_err(|e| self.cell_error(syn.at.span(), e))?;
            cell.decor.synapses.push(crate::cell::SynapsePlacement {
                locset,
                mechanism: name.clone(),
                parameters,
                events_ms: syn.events.clone(),
                weight: syn.weight,
                pointers: Vec::new(),
            });
            self.check_pointer_names(syn)?;
            for (pointer, target) in syn.pointers.iter().filter(|(_, t)| t.cell.is_none()) {
                cell.bind_pointer(pointer.get_ref(), target.at.get_ref(), None)
                    .map_err(|e| self.cell_error(target.at.span(), e))?;
            }
        }
        for ion in &spec.ion {
            let region = cell
                .region(ion.region.get_ref())
                .map_err(|e| self.cell_error(ion.region.span(), e))?;
            let values = [ion.e, ion.ci, ion.co, ion.valence];
            if values.iter().flatten().any(|v| !v.is_finite())
                || ion.ci.is_some_and(|c| c <= 0.0)
                || ion.co.is_some_and(|c| c <= 0.0)
            {
                return Err(self.error(
                    Some(ion.name.span()),
                    "ion values must be finite, concentrations positive",
                ));
            }
            if ion.valence == Some(0.0) {
                return Err(self.error(
                    Some(ion.name.span()),
                    "valence 0: an uncharged species has no Nernst potential and carries no current; give the \
                     ion's charge (e.g. 2 for ca, -1 for cl)",
                ));
            }
            cell.decor.ions.push(crate::cell::IonSetting {
                species: ion.name.get_ref().clone(),
                region,
                e_mv: ion.e,
                ci_mm: ion.ci,
                co_mm: ion.co,
                valence: ion.valence,
            });
        }
        for p in &spec.probe {
            if cell.decor.probes.iter().any(|q| q.name == p.name) {
                return Err(self.error(Some(p.at.span()), &format!("two probes are named `{}`", p.name)));
            }
            let locset = cell
                .locset(p.at.get_ref())
                .map_err(|e| self.cell_error(p.at.span(), e))?;
            let variable = match &p.variable {
                None => None,
                Some(v) => match v.get_ref().split_once('.') {
                    Some((mechanism, var)) => {
                        let ir = &self
                            .catalogue
                            .get(mechanism)
                            .map_err(|e| self.error(Some(v.span()), &e))?
                            .ir;
                        if ir.slot(var).is_none() {
                            let names: Vec<&str> = ir.slots.iter().map(|s| s.name.as_str()).collect();
                            let hint = crate::suggest::did_you_mean(var, names.iter().copied());
                            return Err(
                                self.error(Some(v.span()), &format!("`{mechanism}` has no variable `{var}`{hint}"))
                            );
                        }
                        Some((mechanism.to_string(), var.to_string()))
                    }
                    None => return Err(self.error(Some(v.span()), "expected `mechanism.variable`, e.g. \"hh.m\"")),
                },
            };
            cell.decor.probes.push(Probe {
                name: p.name.clone(),
                locset,
                variable,
            });
        }
        for spanned in &spec.detector {
            let d = spanned.get_ref();
            let (at, threshold) = match (&d.at, d.threshold, d.synapse) {
                (None, None, Some(k)) if k < cell.decor.synapses.len() => {
                    cell.decor.event_detectors.push(k);
                    continue;
                }
                (None, None, Some(k)) => {
                    let message = format!(
                        "the detector names [[synapse]] {k}, but the cell has {} synapse placements",
                        cell.decor.synapses.len()
                    );
                    return Err(self.error(Some(spanned.span()), &message));
                }
                (Some(at), Some(threshold), None) => (at, threshold),
                _ => {
                    let message = "a detector takes `at` and `threshold` (a voltage crossing), or `synapse` alone \
                                   (the net_event spikes of that point process)";
                    return Err(self.error(Some(spanned.span()), message));
                }
            };
            let locset = cell.locset(at.get_ref()).map_err(|e| self.cell_error(at.span(), e))?;
            if !threshold.is_finite() {
                return Err(self.error(Some(at.span()), "a detector needs a finite threshold [mV]"));
            }
            cell.decor.detectors.push(crate::cell::SpikeDetector {
                locset,
                threshold_mv: threshold,
            });
        }
        Ok(cell)
    }

    fn policy(&self, d: &Spanned<DiscretizationSpec>) -> Result<CvPolicy, ModelError> {
        let spec = d.get_ref();
        let need = |what: &str| {
            self.error(
                Some(spec.policy.span()),
                &format!("policy `{}` needs `{what}`", spec.policy.get_ref()),
            )
        };
        Ok(match spec.policy.get_ref().as_str() {
            "fixed-per-branch" => CvPolicy::FixedPerBranch(
                spec.per_branch
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| need("per_branch ≥ 1 (CVs on every branch)"))?,
            ),
            "max-extent" => CvPolicy::MaxExtent(
                spec.max_extent
                    .filter(|e| *e > 0.0)
                    .ok_or_else(|| need("max_extent > 0 (µm)"))?,
            ),
            "per-segment" => CvPolicy::PerSegment,
            "odd-per-length" => CvPolicy::OddPerLength(
                spec.length
                    .filter(|l| *l > 0.0)
                    .ok_or_else(|| need("length > 0 (µm)"))?,
            ),
            "d-lambda" => {
                let positive = |key: &str, value: f64, unit: &str| {
                    if value > 0.0 && value.is_finite() {
                        Ok(value)
                    } else {
                        Err(self.error(
                            Some(self.key_span(d.span(), key)),
                            &format!("discretization.{key} must be a positive, finite number{unit}, found {value}"),
                        ))
                    }
                };
                CvPolicy::DLambda {
                    d_lambda: positive("d_lambda", spec.d_lambda.unwrap_or(0.1), " (a fraction of λ)")?,
                    frequency_hz: positive("frequency", spec.frequency.unwrap_or(100.0), " of Hz")?,
                }
            }
            other => {
                let known = [
                    "fixed-per-branch",
                    "max-extent",
                    "per-segment",
                    "d-lambda",
                    "odd-per-length",
                ];
                let hint = crate::suggest::did_you_mean(other, known);
                return Err(self.error(
                    Some(spec.policy.span()),
                    &format!("unknown CV policy `{other}`{hint}; use one of {}", known.join(", ")),
                ));
            }
        })
    }
}
