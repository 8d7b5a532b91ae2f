//! The mechanism catalogue: built-in `.mod` files and the user's in, compiled mechanisms with their parameters and instances out.

use super::ions::IonPool;
use super::nmodl::NmodlMechanism;
use super::procedural::ProceduralMechanism;
use super::{Mechanism, MechanismLayout};
use crate::suggest::did_you_mean;
use rall_nmodl::ast::MechanismKind;
use rall_nmodl::ir::{MechanismIr, SlotKind};
use rall_nmodl::{Compiled, compile};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The `.mod` files of `mechanisms/`, compiled into the binary.
const BUILT_IN: [(&str, &str); 11] = [
    ("hh.mod", include_str!("../../../../mechanisms/hh.mod")),
    ("pas.mod", include_str!("../../../../mechanisms/pas.mod")),
    ("expsyn.mod", include_str!("../../../../mechanisms/expsyn.mod")),
    ("exp2syn.mod", include_str!("../../../../mechanisms/exp2syn.mod")),
    ("io_soma.mod", include_str!("../../../../mechanisms/io_soma.mod")),
    ("io_dend.mod", include_str!("../../../../mechanisms/io_dend.mod")),
    ("io_axon.mod", include_str!("../../../../mechanisms/io_axon.mod")),
    ("hh_rate.mod", include_str!("../../../../mechanisms/hh_rate.mod")),
    ("ou_drive.mod", include_str!("../../../../mechanisms/ou_drive.mod")),
    ("gap.mod", include_str!("../../../../mechanisms/gap.mod")),
    ("lowpass_v.mod", include_str!("../../../../mechanisms/lowpass_v.mod")),
];

fn built_in() -> &'static [Arc<Compiled>] {
    static CELL: OnceLock<Vec<Arc<Compiled>>> = OnceLock::new();
    CELL.get_or_init(|| {
        BUILT_IN
            .iter()
            .map(|(name, text)| {
                let compiled = compile(&format!("mechanisms/{name}"), text).unwrap_or_else(|(source, d)| {
                    panic!(
                        "built-in mechanism failed to compile:\n{}",
                        rall_nmodl::diagnostics::render_all(&d, &source)
                    )
                });
                Arc::new(compiled)
            })
            .collect()
    })
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CatalogueError {
    #[error("{path}: cannot read: {message}")]
    Io { path: String, message: String },
    /// The rendered diagnostics (file:line:col, caret, notes).
    #[error("{0}")]
    Diagnostics(String),
    #[error("{path}: defines `{name}`, which the catalogue already has")]
    Duplicate { path: String, name: String },
}

/// A parameter of a mechanism, with its unit and default.
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterInfo {
    pub name: String,
    pub unit: Option<String>,
    pub default: f64,
    /// The range `<lower, upper>` the NMODL file declares, if any (NEURON does not enforce it either).
    pub bounds: Option<(f64, f64)>,
}

/// A sort key of [`Catalogue::neuron_order`]: concentration writers first (the last registered first),
/// then the others in registration order (built-ins, then user files by name).
pub type NeuronOrder<'a> = (u8, std::cmp::Reverse<(u8, &'a str)>, (u8, &'a str));

/// The mechanisms rall can place: the built-in catalogue plus the user's files.
#[derive(Clone, Debug)]
pub struct Catalogue {
    mechanisms: Vec<Arc<Compiled>>,
    /// The file name of each mechanism added from a user's file, by mechanism name.
    user_files: std::collections::BTreeMap<String, String>,
    /// Instances use NEURON's difference-quotient conductance instead of the exact ∂i/∂v.
    neuron_conductance: bool,
}

impl Default for Catalogue {
    fn default() -> Self {
        Self {
            mechanisms: built_in().to_vec(),
            user_files: Default::default(),
            neuron_conductance: false,
        }
    }
}

impl Catalogue {
    /// Compiles a user's `.mod` file and adds its mechanism; returns the mechanism's name.
    pub fn add_file(&mut self, path: &Path) -> Result<String, CatalogueError> {
        let display = path.display().to_string();
        let text = crate::read_text(path).map_err(|e| CatalogueError::Io {
            path: display.clone(),
            message: e.to_string(),
        })?;
        let compiled = compile(&display, &text)
            .map_err(|(source, d)| CatalogueError::Diagnostics(rall_nmodl::diagnostics::render_all(&d, &source)))?;
        let name = compiled.info.name.clone();
        let file_name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.user_files.insert(name.clone(), file_name);
        if let Some(i) = self.mechanisms.iter().position(|m| m.info.name == name) {
            if built_in().iter().any(|b| Arc::ptr_eq(b, &self.mechanisms[i])) {
                // A user's file may replace a built-in mechanism of the same name.
                self.mechanisms[i] = Arc::new(compiled);
                return Ok(name);
            }
            return Err(CatalogueError::Duplicate { path: display, name });
        }
        self.mechanisms.push(Arc::new(compiled));
        Ok(name)
    }

    /// Where NEURON runs a mechanism among the others in each step: its built-in mechanisms first, then
    /// the user's in the byte order of their file names (the order `nrnivmodl` registers them), except that
    /// a mechanism that writes an ion concentration is moved ahead of all of them as it registers
    /// (NEURON's `nrn_writes_conc`), so such writers come first, the last registered first. States advance
    /// in this order, so a mechanism reading a concentration another one writes (SK_E2 reading
    /// CaDynamics_E2's or TC_cad's `cai`) sees the value NEURON's would: the one written in the same step.
    pub fn neuron_order(&self, name: &str) -> NeuronOrder<'_> {
        let registered = match self.user_files.get(name) {
            Some(file) => (1, file.as_str()),
            None => (0, ""),
        };
        let writes_concentration = self.get(name).is_ok_and(|c| {
            c.info.ions.iter().any(|i| {
                i.write
                    .iter()
                    .any(|w| matches!(w.strip_prefix(i.ion.as_str()), Some("i" | "o")))
            })
        });
        if writes_concentration {
            (0, std::cmp::Reverse(registered), (0, ""))
        } else {
            (1, std::cmp::Reverse((0, "")), registered)
        }
    }

    /// Whether instances made from now on use NEURON's conductance `(i(v + 0.001) - i(v)) / 0.001` for every
    /// NMODL current ([`MechanismIr::use_neuron_conductance`]) instead of the exact ∂i/∂v: for checking rall
    /// against NEURON to round-off where a current is nonlinear in v. Sensitivities stay exact for the
    /// scheme run (the quotient's own derivatives).
    pub fn set_neuron_conductance(&mut self, on: bool) {
        self.neuron_conductance = on;
    }

    pub fn neuron_conductance(&self) -> bool {
        self.neuron_conductance
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.mechanisms.iter().map(|m| m.info.name.as_str())
    }

    /// The compiled mechanism, or an error message with a suggestion.
    pub fn get(&self, name: &str) -> Result<&Compiled, String> {
        self.mechanisms
            .iter()
            .find(|m| m.info.name == name)
            .map(|m| m.as_ref())
            .ok_or_else(|| {
                format!(
                    "unknown mechanism `{name}`{} (the catalogue has: {})",
                    did_you_mean(name, self.names()),
                    self.names().collect::<Vec<_>>().join(", ")
                )
            })
    }

    pub fn is_density(&self, name: &str) -> Result<bool, String> {
        Ok(self.get(name)?.info.kind == MechanismKind::Density)
    }

    /// Parameters in the order [`MechanismLayout::parameters`] uses.
    pub fn parameters(&self, name: &str) -> Result<Vec<ParameterInfo>, String> {
        Ok(parameters_of(&self.get(name)?.ir))
    }

    /// Position of a parameter, or an error message with a suggestion.
    pub fn parameter_index(&self, mechanism: &str, parameter: &str) -> Result<usize, String> {
        let parameters = self.parameters(mechanism)?;
        parameters.iter().position(|p| p.name == parameter).ok_or_else(|| {
            let known: Vec<&str> = parameters.iter().map(|p| p.name.as_str()).collect();
            format!(
                "mechanism `{mechanism}` has no parameter `{parameter}`{} (parameters: {})",
                did_you_mean(parameter, known.iter().copied()),
                known.join(", ")
            )
        })
    }

    /// A warning when `value` lies outside the range `<lower, upper>` the mechanism's file declares for
    /// `parameter` (rall runs it, as NEURON does).
    /// Without a declared range, a negative value of a conductance density (a unit of S/cm², mho/cm² or
    /// their multiples) is warned about too.
    pub fn outside_declared_range(&self, mechanism: &str, parameter: &str, value: f64) -> Option<String> {
        let parameters = self.parameters(mechanism).ok()?;
        let info = parameters.iter().find(|p| p.name == parameter)?;
        let file = &self.get(mechanism).ok()?.source.name;
        let Some((lower, upper)) = info.bounds else {
            let unit = info.unit.as_deref().unwrap_or("").replace(' ', "").to_ascii_lowercase();
            let conductance_density = ["s/cm2", "mho/cm2"].iter().any(|u| unit.ends_with(u));
            return (conductance_density && value < 0.0).then(|| {
                format!(
                    "`{mechanism}.{parameter}` = {value} is a negative conductance density ({}, in {file}); \
                     rall runs it, but a negative conductance is unphysical: check the sign",
                    info.unit.as_deref().unwrap_or("")
                )
            });
        };
        let compact = |x: f64| {
            if x != 0.0 && !(1e-3..1e5).contains(&x.abs()) {
                format!("{x:e}")
            } else {
                format!("{x}")
            }
        };
        (!(lower..=upper).contains(&value)).then(|| {
            let (lower, upper) = (compact(lower), compact(upper));
            format!(
                "`{mechanism}.{parameter}` = {value} is outside the range <{lower}, {upper}> that {file} declares; \
                 rall runs it as NEURON would, but check the value (a sign or unit slip?)"
            )
        })
    }

    /// Builds an instance over the CVs of `layout`; `diam_um` is indexed by CV.
    pub fn instantiate(
        &self,
        layout: &MechanismLayout,
        diam_um: &[f64],
        ions: &mut IonPool,
        cvs: usize,
    ) -> Result<Box<dyn Mechanism>, String> {
        let compiled = self
            .mechanisms
            .iter()
            .find(|m| m.info.name == layout.mechanism)
            .ok_or_else(|| self.get(&layout.mechanism).unwrap_err())?;
        if compiled.ir.procedural.is_some() {
            let ir = Arc::new(compiled.ir.clone());
            return Ok(Box::new(ProceduralMechanism::new(ir, layout, diam_um)));
        }
        let mut ir = compiled.ir.clone();
        if self.neuron_conductance {
            ir.use_neuron_conductance();
        }
        let ir = Arc::new(ir);
        Ok(Box::new(NmodlMechanism::new(ir, layout, diam_um, ions, cvs)))
    }
}

fn parameters_of(ir: &MechanismIr) -> Vec<ParameterInfo> {
    ir.slots_where(|k| *k == SlotKind::Parameter)
        .map(|(_, s)| ParameterInfo {
            name: s.name.clone(),
            unit: s.unit.clone(),
            default: s.default,
            bounds: s.bounds,
        })
        .collect()
}
