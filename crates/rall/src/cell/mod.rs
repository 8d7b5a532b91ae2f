//! Cell description (the decor): a morphology plus what the user painted and placed on it, in label terms.
//!
//! [`Cell`] is what a user builds (by hand or from a model file); [`lower_cell`]
//! turns it into the [`CellLayout`] the engine runs: CVs, their properties,
//! mechanism instances per CV, stimuli and probes resolved to CV indices.

mod lower;
mod scale;
mod summary;

pub(crate) use lower::resolve_variable;
pub use lower::{CellLayout, EventLayout, PointerLayout, PointerSource, ProbeLayout, StimulusLayout, lower_cell};
pub use scale::{ScaleError, ScaleExpr, path_between_um, path_from_root_um};
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
    /// Parameters that vary along the cell: each CV gets the painted value times the expression at the path
    /// distance from `scale_origin` (the root when `None`) to its centre.
    pub scale: Vec<(String, ScaleExpr)>,
    pub scale_origin: Option<crate::labels::Location>,
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
    /// A waveform the amplitude is multiplied by: `(t [ms], value)` points, linear in between, holding the
    /// first and last values outside them (NEURON's `Vector.play` with interpolation); `None`: a step.
    pub waveform: Option<Waveform>,
}

impl CurrentClamp {
    /// The current it injects at `t_ms` [nA] at each of its locations.
    pub fn current_at(&self, t_ms: f64) -> f64 {
        self.amplitude_na * clamp_shape(self.delay_ms, self.duration_ms, self.waveform.as_ref(), t_ms)
    }
}

/// The factor a clamp's amplitude is multiplied by at `t_ms`: 0 outside `[delay, delay + duration)`, the
/// waveform's value (1 for a step) inside.
pub(crate) fn clamp_shape(delay_ms: f64, duration_ms: f64, waveform: Option<&Waveform>, t_ms: f64) -> f64 {
    if !(t_ms >= delay_ms && t_ms < delay_ms + duration_ms) {
        return 0.0;
    }
    waveform.map_or(1.0, |w| w.at(t_ms))
}

/// A piecewise-linear time course: times [ms] (increasing) and values.
#[derive(Clone, Debug, PartialEq)]
pub struct Waveform {
    pub points: Vec<(f64, f64)>,
}

impl Waveform {
    /// The value at `t_ms`: linear between points, the first or last value outside them.
    pub fn at(&self, t_ms: f64) -> f64 {
        let p = &self.points;
        let k = p.partition_point(|(t, _)| *t <= t_ms);
        if k == 0 {
            return p[0].1;
        }
        if k == p.len() {
            return p[p.len() - 1].1;
        }
        let ((t0, v0), (t1, v1)) = (p[k - 1], p[k]);
        v0 + (v1 - v0) * (t_ms - t0) / (t1 - t0)
    }
}

/// A probe at every location of a locset: the membrane potential, or a mechanism's variable.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub name: String,
    pub locset: Locset,
    /// `Some(("hh", "m"))` for a mechanism's state, parameter or assigned variable; `None` for the voltage.
    pub variable: Option<(String, String)>,
}

/// A point process (e.g. a synapse) at every location of a locset, driven by scheduled input events.
#[derive(Clone, Debug, PartialEq)]
pub struct SynapsePlacement {
    pub locset: Locset,
    pub mechanism: String,
    pub parameters: Vec<(String, f64)>,
    /// Delivery times of input events [ms].
    pub events_ms: Vec<f64>,
    /// The weight passed to NET_RECEIVE (µS for ExpSyn and Exp2Syn).
    pub weight: f64,
    /// What each of the mechanism's POINTERs reads (NEURON's `setpointer`), the same for every location.
    pub pointers: Vec<PointerBinding>,
}

/// A POINTER of a placed point process and the variable it reads.
#[derive(Clone, Debug, PartialEq)]
pub struct PointerBinding {
    /// The POINTER's name in the mechanism (e.g. `vgap`).
    pub pointer: String,
    pub target: PointerTarget,
}

/// The variable a POINTER reads: a membrane potential, read at the same moments as the mechanism's own `v`
/// (NEURON reads through the pointer when the mechanism's kernels run).
#[derive(Clone, Debug, PartialEq)]
pub enum PointerTarget {
    /// The membrane potential at a location of this cell [mV].
    Voltage(crate::labels::Location),
    /// The membrane potential at a location of another cell of the simulation, named as in
    /// [`crate::Simulation::new`] (a gap junction between cells) [mV].
    OtherCell { cell: String, at: crate::labels::Location },
    /// The weight of network connection `connection` (its index in the network), which this point process
    /// adjusts (PyNN's weight adjusters, bound in NEURON by `setpointer wa.wsyn, netcon.weight`): the POINTER
    /// holds the weight, starting at `weight` at every initialisation, and the connection's events read it
    /// when they are delivered.
    ConnectionWeight { connection: usize, weight: f64 },
}

/// Initial ion values on a region (NEURON's defaults elsewhere: see `mechanism::ions`).
#[derive(Clone, Debug, PartialEq)]
pub struct IonSetting {
    pub species: String,
    pub region: Region,
    /// Reversal potential [mV] (recomputed by Nernst if a mechanism writes the concentrations).
    pub e_mv: Option<f64>,
    /// Inner and outer concentrations [mM].
    pub ci_mm: Option<f64>,
    pub co_mm: Option<f64>,
    pub valence: Option<f64>,
}

/// A spike detector (NEURON's NetCon source, Arbor's threshold detector): a spike is emitted at the end of every
/// step in which the membrane potential at the location rises above the threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct SpikeDetector {
    pub locset: Locset,
    /// [mV]
    pub threshold_mv: f64,
}

/// What is painted and placed on a cell, with regions and locsets already evaluated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decor {
    pub cable: CableProperties,
    pub paints: Vec<MechanismPaint>,
    pub clamps: Vec<CurrentClamp>,
    pub synapses: Vec<SynapsePlacement>,
    pub ions: Vec<IonSetting>,
    pub probes: Vec<Probe>,
    /// Spike detectors, numbered in the order of their locations.
    pub detectors: Vec<SpikeDetector>,
    /// Synapse placements whose point processes' `net_event` spikes are the cell's spikes (an ARTIFICIAL_CELL,
    /// or PyNN's Izhikevich): detectors numbered after the threshold detectors, one per location.
    pub event_detectors: Vec<usize>,
    /// Seed of the cell's random streams (NMODL's `normrand`); cells with different seeds draw independently.
    pub noise_seed: u64,
}

impl Decor {
    /// The number of detectors: threshold detector locations, then `net_event` sources.
    pub fn detector_count(&self) -> usize {
        let events: usize = self
            .event_detectors
            .iter()
            .map(|&s| self.synapses[s].locset.locations.len())
            .sum();
        self.detector_locations().count() + events
    }

    /// Every detector location with its threshold [mV], in detector numbering order.
    pub fn detector_locations(&self) -> impl Iterator<Item = (crate::labels::Location, f64)> + '_ {
        self.detectors
            .iter()
            .flat_map(|d| d.locset.locations.iter().map(move |&l| (l, d.threshold_mv)))
    }
}

/// A well-mixed seed from a base seed and an index (splitmix64), for independent streams per cell or mechanism.
pub fn mix_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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
        "the discretisation gives {count:.3e} CVs; rall allows at most {limit} per cell (check branch lengths and \
         the CV policy; the environment variable RALL_MAX_CVS raises the limit)"
    )]
    TooManyCvs { count: f64, limit: usize },
    #[error(
        "the CV on branch {branch} from {from:.3} to {to:.3} has {what} {value:e}; check the diameters there (a \
         diameter far outside 0.01-10000 µm, or zero, makes the cable equation unsolvable)"
    )]
    DegenerateCv {
        branch: usize,
        from: f64,
        to: f64,
        what: &'static str,
        value: f64,
    },
    #[error(
        "mechanism `{mechanism}` is painted twice on overlapping regions (paint it once per region, or on disjoint regions)"
    )]
    OverlappingPaint { mechanism: String },
    #[error("`{what}` selects no location on this morphology")]
    EmptyLocset { what: String },
    #[error("`{what}` selects {count} locations; one is needed here")]
    NotOneLocation { what: String, count: usize },
    #[error("in the scale expression `{text}`: {source}")]
    Scale { text: String, source: ScaleError },
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
            scale: Vec::new(),
            scale_origin: None,
        });
        Ok(self)
    }

    /// Paints a density mechanism whose parameters `scale` vary along the cell: at each CV, the painted value
    /// (or the default) times the expression (see [`ScaleExpr`]) at the path distance from `origin` (a locset
    /// of one location; the root when `None`).
    pub fn paint_scaled(
        &mut self,
        region: &str,
        mechanism: &str,
        parameters: &[(&str, f64)],
        scale: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Result<&mut Self, CellError> {
        let scale = scale
            .iter()
            .map(|(name, text)| {
                ScaleExpr::parse(text)
                    .map(|e| (name.to_string(), e))
                    .map_err(|source| CellError::Scale {
                        text: text.to_string(),
                        source,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let scale_origin = match origin {
            Some(text) => Some(self.one_location(text)?),
            None => None,
        };
        self.paint(region, mechanism, parameters)?;
        let paint = self.decor.paints.last_mut().expect("just painted");
        (paint.scale, paint.scale_origin) = (scale, scale_origin);
        Ok(self)
    }

    /// The single location of a locset, or an error.
    pub fn one_location(&self, text: &str) -> Result<crate::labels::Location, CellError> {
        let l = self.locset(text)?;
        match l.locations.as_slice() {
            [one] => Ok(*one),
            _ => Err(CellError::NotOneLocation {
                what: text.into(),
                count: l.locations.len(),
            }),
        }
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
            waveform: None,
        });
        Ok(self)
    }

    /// Sets an ion's initial reversal potential [mV] on a region.
    pub fn set_ion_reversal(&mut self, region: &str, species: &str, e_mv: f64) -> Result<&mut Self, CellError> {
        let region = self.region(region)?;
        let setting = IonSetting {
            species: species.into(),
            region,
            e_mv: Some(e_mv),
            ci_mm: None,
            co_mm: None,
            valence: None,
        };
        self.decor.ions.push(setting);
        Ok(self)
    }

    /// Places a point process at every location of a locset, with input events at the given times.
    pub fn place_synapse(
        &mut self,
        locset: &str,
        mechanism: &str,
        parameters: &[(&str, f64)],
        events_ms: &[f64],
        weight: f64,
    ) -> Result<&mut Self, CellError> {
        let locset = self.locset(locset)?;
        let parameters = parameters.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        let events_ms = events_ms.to_vec();
        self.decor.synapses.push(SynapsePlacement {
            locset,
            mechanism: mechanism.into(),
            parameters,
            events_ms,
            weight,
            pointers: Vec::new(),
        });
        Ok(self)
    }

    /// Binds POINTER `pointer` of the last placed point process to the membrane potential at the one location
    /// of `locset` on this cell, or on the cell named `cell` of the simulation (a gap junction between cells).
    pub fn bind_pointer(&mut self, pointer: &str, locset: &str, cell: Option<&str>) -> Result<&mut Self, CellError> {
        let at = self.locset(locset)?;
        let [at] = at.locations[..] else {
            return Err(CellError::Mechanism(format!(
                "POINTER `{pointer}`: `{locset}` names {} locations; a POINTER reads one",
                at.locations.len()
            )));
        };
        let Some(synapse) = self.decor.synapses.last_mut() else {
            return Err(CellError::Mechanism(format!(
                "POINTER `{pointer}`: place a point process before binding its POINTERs"
            )));
        };
        let target = match cell {
            None => PointerTarget::Voltage(at),
            Some(cell) => PointerTarget::OtherCell {
                cell: cell.to_string(),
                at,
            },
        };
        synapse.pointers.push(PointerBinding {
            pointer: pointer.to_string(),
            target,
        });
        Ok(self)
    }

    pub fn probe_voltage(&mut self, name: &str, locset: &str) -> Result<&mut Self, CellError> {
        let locset = self.locset(locset)?;
        self.decor.probes.push(Probe {
            name: name.into(),
            locset,
            variable: None,
        });
        Ok(self)
    }

    /// Probes a mechanism's variable, named `mechanism.variable` (e.g. `hh.m`, `ExpSyn.g`).
    pub fn probe_variable(&mut self, name: &str, locset: &str, variable: &str) -> Result<&mut Self, CellError> {
        let locset = self.locset(locset)?;
        let (mechanism, var) = variable.split_once('.').ok_or_else(|| {
            CellError::Mechanism(format!(
                "probe variable `{variable}`: expected `mechanism.variable`, e.g. `hh.m`"
            ))
        })?;
        self.decor.probes.push(Probe {
            name: name.into(),
            locset,
            variable: Some((mechanism.into(), var.into())),
        });
        Ok(self)
    }
}
