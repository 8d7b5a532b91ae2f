//! Cell description (the decor): a morphology plus what the user painted and placed on it, in label terms.
//!
//! [`Cell`] is what a user builds (by hand or from a model file); [`lower_cell`]
//! turns it into the [`CellLayout`] the engine runs: CVs, their properties,
//! mechanism instances per CV, stimuli and probes resolved to CV indices.

mod lower;
mod summary;

pub use lower::{CellLayout, ProbeLayout, StimulusLayout, lower_cell};
pub use summary::{RegionSummary, summarise_regions};

use crate::discretize::{CableProperties, CvPolicy};
use crate::labels::{LabelDictionary, LabelError, Locset, Region};
use crate::morphology::Morphology;

/// A density mechanism painted on a region with parameter overrides.
#[derive(Clone, Debug, PartialEq)]
pub struct MechanismPaint {
    pub region: Region,
    pub mechanism: String,
    pub parameters: Vec<(String, f64)>,
}

/// A current clamp (NEURON's IClamp) at every location of a locset.
#[derive(Clone, Debug, PartialEq)]
pub struct CurrentClamp {
    pub locset: Locset,
    /// [ms]
    pub delay_ms: f64,
    /// [ms]
    pub duration_ms: f64,
    /// Positive depolarises [nA].
    pub amplitude_na: f64,
}

/// A membrane-potential probe at every location of a locset.
#[derive(Clone, Debug, PartialEq)]
pub struct VoltageProbe {
    pub name: String,
    pub locset: Locset,
}

/// What is painted and placed on a cell, with regions and locsets already evaluated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decor {
    pub cable: CableProperties,
    pub paints: Vec<MechanismPaint>,
    pub clamps: Vec<CurrentClamp>,
    pub probes: Vec<VoltageProbe>,
}

/// A cell as the user describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub morphology: Morphology,
    pub labels: LabelDictionary,
    pub decor: Decor,
    pub policy: CvPolicy,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CellError {
    #[error("in `{text}`: {source}")]
    Label { text: String, source: LabelError },
    #[error("{0}")]
    Mechanism(String),
    #[error(
        "mechanism `{mechanism}` is painted twice on overlapping regions (paint it once per region, or on disjoint regions)"
    )]
    OverlappingPaint { mechanism: String },
    #[error("`{what}` selects no location on this morphology")]
    EmptyLocset { what: String },
}

impl Cell {
    pub fn new(morphology: Morphology) -> Self {
        Self {
            morphology,
            labels: LabelDictionary::default(),
            decor: Decor::default(),
            policy: CvPolicy::default(),
        }
    }

    pub fn region(&self, text: &str) -> Result<Region, CellError> {
        self.labels
            .region(&self.morphology, text)
            .map_err(|source| CellError::Label {
                text: text.into(),
                source,
            })
    }

    pub fn locset(&self, text: &str) -> Result<Locset, CellError> {
        let l = self
            .labels
            .locset(&self.morphology, text)
            .map_err(|source| CellError::Label {
                text: text.into(),
                source,
            })?;
        if l.locations.is_empty() {
            return Err(CellError::EmptyLocset { what: text.into() });
        }
        Ok(l)
    }

    /// Paints a density mechanism with parameter overrides on a region.
    pub fn paint(&mut self, region: &str, mechanism: &str, parameters: &[(&str, f64)]) -> Result<&mut Self, CellError> {
        let region = self.region(region)?;
        let parameters = parameters.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        self.decor.paints.push(MechanismPaint {
            region,
            mechanism: mechanism.into(),
            parameters,
        });
        Ok(self)
    }

    /// Sets the specific capacitance [µF/cm²] on a region.
    pub fn set_cm(&mut self, region: &str, cm_uf_per_cm2: f64) -> Result<&mut Self, CellError> {
        let region = self.region(region)?;
        self.decor.cable.cm_uf_per_cm2.layers.push((region, cm_uf_per_cm2));
        Ok(self)
    }

    /// Sets the axial resistivity [Ω·cm] on a region.
    pub fn set_ra(&mut self, region: &str, ra_ohm_cm: f64) -> Result<&mut Self, CellError> {
        let region = self.region(region)?;
        self.decor.cable.ra_ohm_cm.layers.push((region, ra_ohm_cm));
        Ok(self)
    }

    pub fn place_current_clamp(
        &mut self,
        locset: &str,
        delay_ms: f64,
        duration_ms: f64,
        amplitude_na: f64,
    ) -> Result<&mut Self, CellError> {
        let locset = self.locset(locset)?;
        self.decor.clamps.push(CurrentClamp {
            locset,
            delay_ms,
            duration_ms,
            amplitude_na,
        });
        Ok(self)
    }

    pub fn probe_voltage(&mut self, name: &str, locset: &str) -> Result<&mut Self, CellError> {
        let locset = self.locset(locset)?;
        self.decor.probes.push(VoltageProbe {
            name: name.into(),
            locset,
        });
        Ok(self)
    }
}
