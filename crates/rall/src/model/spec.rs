//! The model file's schema: TOML text in, typed tables with source spans out (no semantics yet).

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// A file with several cells under `[[cell]]`. A file with one cell is a
/// [`CellSpec`] at the top level, with its `[simulation]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiCellFile {
    pub simulation: Spanned<SimulationSpec>,
    /// The user's NMODL files, relative to the model file.
    #[serde(default)]
    pub mod_files: Vec<Spanned<String>>,
    /// Parameters whose sensitivities `rall grad` co-simulates (the same on every cell).
    #[serde(default)]
    pub parameter: Vec<ParameterToml>,
    /// What `rall fit` fits.
    pub fit: Option<Spanned<FitToml>>,
    /// Online homeostatic control of every cell.
    pub homeostasis: Option<Spanned<HomeostasisToml>>,
    /// Cells; with `[[population]]` entries they are templates, instantiated by the populations.
    pub cell: Vec<CellSpec>,
    /// A network: populations of template cells, artificial spike sources, and connections.
    #[serde(default)]
    pub population: Vec<Spanned<PopulationToml>>,
    #[serde(default)]
    pub spike_source: Vec<Spanned<SpikeSourceToml>>,
    #[serde(default)]
    pub connection: Vec<Spanned<ConnectionToml>>,
    #[serde(default)]
    pub gap_junction: Vec<Spanned<GapJunctionToml>>,
}

/// Gap junctions between cells of populations, paired by a connection rule: each pair is coupled by two point
/// processes (`gap` by default), one at each end, each reading the other end's voltage through its POINTER.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GapJunctionToml {
    pub from: Spanned<String>,
    pub to: Spanned<String>,
    pub rule: Option<Spanned<String>>,
    pub probability: Option<f64>,
    pub indegree: Option<usize>,
    #[serde(default)]
    pub offset: usize,
    #[serde(default)]
    pub pairs: Vec<[usize; 2]>,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The location on both cells (a locset expression naming one location), or `from_at` and `to_at`.
    pub at: Option<Spanned<String>>,
    pub from_at: Option<Spanned<String>>,
    pub to_at: Option<Spanned<String>>,
    /// The junction's conductance [µS] (the mechanism's parameter `g`).
    pub g: f64,
    /// The point process at each end (default `gap`, the catalogue's) and its POINTER (default `vgap`).
    #[serde(default = "default_gap_mechanism")]
    pub mechanism: Spanned<String>,
    #[serde(default = "default_gap_pointer")]
    pub pointer: String,
}

fn default_gap_mechanism() -> Spanned<String> {
    Spanned::new(0..0, "gap".into())
}

fn default_gap_pointer() -> String {
    "vgap".into()
}

/// `count` copies of a `[[cell]]` template, named `name[i]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationToml {
    pub name: String,
    pub cell: Spanned<String>,
    /// 1 when absent.
    pub count: Option<Spanned<usize>>,
}

/// A `count` key's value (1 when absent) and where to point at it (the table when absent).
pub(super) fn count_of(
    count: &Option<Spanned<usize>>,
    table: std::ops::Range<usize>,
) -> (usize, std::ops::Range<usize>) {
    count.as_ref().map_or((1, table), |c| (*c.get_ref(), c.span()))
}

/// `count` artificial spike sources named `name[i]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpikeSourceToml {
    pub name: String,
    /// "poisson", "regular", "NetStim", "times" (or "VecStim") or "file".
    pub kind: Spanned<String>,
    /// 1 when absent.
    pub count: Option<Spanned<usize>>,
    /// Poisson rate [Hz].
    pub rate: Option<f64>,
    /// Regular spacing; NetStim's mean interval [ms] (default 10).
    pub interval: Option<f64>,
    /// [ms], default 0 (NetStim: 50, as NEURON's).
    pub start: Option<f64>,
    /// NetStim: the number of spikes (default 10).
    pub number: Option<f64>,
    /// NetStim: the fraction of each interval that is random, in [0, 1] (default 0).
    pub noise: Option<f64>,
    /// [ms], default: the end of the run.
    pub stop: Option<f64>,
    /// Poisson and noisy NetStim: source `i` uses seed `seed + i`.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// "times": spike times [ms].
    #[serde(default)]
    pub times: Vec<f64>,
    /// "file": a CSV of spike times (or `t,gid` rows, source `i` taking gid `i`).
    pub file: Option<Spanned<String>>,
}

/// Connections from a population or source group to a population, by a rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionToml {
    pub from: Spanned<String>,
    pub to: Spanned<String>,
    /// "all-to-all" (default, with `probability`), "fixed-indegree" (`indegree`), "one-to-one" (`offset`), "list" (`pairs`).
    pub rule: Option<Spanned<String>>,
    pub probability: Option<f64>,
    pub indegree: Option<usize>,
    #[serde(default)]
    pub offset: usize,
    #[serde(default)]
    pub pairs: Vec<[usize; 2]>,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Keep connections from a cell to itself (default false).
    #[serde(default)]
    pub allow_self: bool,
    /// Index of the target template's `[[synapse]]` (default 0).
    #[serde(default)]
    pub synapse: usize,
    /// Index of the source template's `[[detector]]` location (default 0).
    #[serde(default)]
    pub detector: usize,
    pub weight: f64,
    /// [ms]
    pub delay: f64,
    /// A point process that adjusts each connection's weight (PyNN's STDP and Tsodyks-Markram mechanisms).
    pub adjuster: Option<Spanned<AdjusterToml>>,
}

/// `adjuster = { mechanism = "StdwaSA", parameters = { ... } }` on a connection (see
/// [`crate::network::WeightAdjuster`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjusterToml {
    pub mechanism: Spanned<String>,
    #[serde(default)]
    pub parameters: std::collections::BTreeMap<String, f64>,
    /// The POINTER that holds the weight (default `wsyn`, as in PyNN's files).
    #[serde(default = "default_weight_pointer")]
    pub pointer: String,
    /// Postsynaptic spikes reach the adjuster too (default true: PyNN's STDP rules).
    #[serde(default = "default_true")]
    pub post_spikes: bool,
    /// The part of the delay spent in the dendrite (default 1, PyNN's).
    #[serde(default = "default_one")]
    pub dendritic_delay_fraction: f64,
}

fn default_weight_pointer() -> String {
    "wsyn".into()
}

fn default_true() -> bool {
    true
}

fn default_one() -> f64 {
    1.0
}

/// A spike detector: a spike whenever the membrane potential at `at` rises above `threshold` [mV]; or, with
/// `synapse = k`, every `net_event` of the point process of `[[synapse]]` k (an ARTIFICIAL_CELL's spikes).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorSpec {
    pub at: Option<Spanned<String>>,
    pub threshold: Option<f64>,
    pub synapse: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSpec {
    /// [ms]
    pub t_stop: f64,
    /// [ms]
    #[serde(default = "default_dt")]
    pub dt: f64,
    /// [ms]; defaults to dt.
    pub sample_interval: Option<f64>,
    #[serde(default)]
    pub integrator: Option<Spanned<String>>,
    /// [°C], default 6.3 as in NEURON.
    #[serde(default = "default_celsius")]
    pub celsius: f64,
    /// Forgetting rate of the sensitivities [1/ms] (0: exact sensitivities).
    #[serde(default)]
    pub forgetting: f64,
    /// Seed of the random streams (NMODL `normrand`); cell `i` draws from its own stream derived from it.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The membrane conductance of NMODL currents: "exact" (∂i/∂v, the default) or "neuron" (NEURON's
    /// difference quotient over 0.001 mV, to step as NEURON does where a current is nonlinear in v).
    #[serde(default)]
    pub conductance: Option<Spanned<String>>,
}

fn default_celsius() -> f64 {
    6.3
}

fn default_dt() -> f64 {
    0.025
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellSpec {
    /// Only at the top level of a single-cell file.
    #[serde(default)]
    pub simulation: Option<Spanned<SimulationSpec>>,
    /// Only at the top level of a single-cell file: the user's NMODL files, relative to the model file.
    #[serde(default)]
    pub mod_files: Vec<Spanned<String>>,
    /// Only at the top level: parameters whose sensitivities `rall grad` co-simulates.
    #[serde(default)]
    pub parameter: Vec<ParameterToml>,
    /// Only at the top level: what `rall fit` fits.
    #[serde(default)]
    pub fit: Option<Spanned<FitToml>>,
    /// Only at the top level of a single-cell file.
    #[serde(default)]
    pub homeostasis: Option<Spanned<HomeostasisToml>>,
    #[serde(default)]
    pub name: Option<String>,
    pub morphology: Spanned<MorphologySpec>,
    #[serde(default)]
    pub labels: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub discretization: Option<Spanned<DiscretizationSpec>>,
    #[serde(default)]
    pub cable: Option<Spanned<CableSpec>>,
    #[serde(default)]
    pub mechanism: Vec<MechanismSpec>,
    #[serde(default)]
    pub stimulus: Vec<StimulusSpec>,
    #[serde(default)]
    pub synapse: Vec<SynapseSpec>,
    #[serde(default)]
    pub ion: Vec<IonSpec>,
    #[serde(default)]
    pub probe: Vec<ProbeSpec>,
    #[serde(default)]
    pub detector: Vec<Spanned<DetectorSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MorphologySpec {
    /// Path of an SWC or Neurolucida ASC file (by its extension), relative to the model file.
    pub file: Option<Spanned<String>>,
    /// The older spelling of `file` for SWC files.
    pub swc: Option<Spanned<String>>,
    /// BluePyOpt's axon replacement: the axon becomes a stub of two cylinders at the soma's end.
    pub replace_axon: Option<Spanned<AxonStubSpec>>,
    /// A region (expression or predefined label): every branch that lies wholly in it is deleted with its
    /// subtree, before the axon is replaced.
    pub delete: Option<Spanned<String>>,
    /// Hand-built cylinders, in order; parents come first.
    #[serde(default)]
    pub cylinder: Vec<Spanned<CylinderSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxonStubSpec {
    /// Total stub length [µm] (BluePyOpt's `axon_stub_length`, default 60).
    pub length: Option<f64>,
    /// [µm]: the original axon's sections are read as `1 + 2 int(L / nseg_frequency)` segments when their
    /// diameters are taken (default 40).
    pub nseg_frequency: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CylinderSpec {
    /// Index of the parent cylinder; none for the first.
    pub parent: Option<usize>,
    /// Attachment position on the parent, in [0, 1].
    #[serde(default = "one")]
    pub at: f64,
    /// [µm]
    pub length: f64,
    /// [µm]
    pub diameter: f64,
    #[serde(default = "dendrite_tag")]
    pub tag: i32,
}

fn one() -> f64 {
    1.0
}

fn dendrite_tag() -> i32 {
    3
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscretizationSpec {
    pub policy: Spanned<String>,
    pub per_branch: Option<usize>,
    /// [µm]
    pub max_extent: Option<f64>,
    pub d_lambda: Option<f64>,
    /// [Hz]
    pub frequency: Option<f64>,
    /// [µm], for `odd-per-length`.
    pub length: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CableSpec {
    /// [µF/cm²]
    pub cm: Option<f64>,
    /// [Ω·cm]
    pub ra: Option<f64>,
    /// [mV]
    pub v_init: Option<f64>,
    #[serde(default)]
    pub region: Vec<Spanned<CableRegionSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CableRegionSpec {
    pub region: Spanned<String>,
    pub cm: Option<f64>,
    pub ra: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MechanismSpec {
    pub name: Spanned<String>,
    #[serde(default = "everywhere")]
    pub region: Spanned<String>,
    #[serde(default)]
    pub parameters: BTreeMap<Spanned<String>, f64>,
    /// Parameters that vary along the cell: name = expression of `distance` (µm), multiplying the value.
    #[serde(default)]
    pub scale: BTreeMap<Spanned<String>, Spanned<String>>,
    /// A locset label or expression of one location that `distance` is measured from (default: the root).
    pub distance_from: Option<Spanned<String>>,
}

fn everywhere() -> Spanned<String> {
    Spanned::new(0..0, "(all)".to_string())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StimulusSpec {
    pub at: Spanned<String>,
    /// [ms]
    #[serde(default)]
    pub delay: f64,
    /// [ms]; with a waveform, the default is the whole run.
    pub duration: Option<f64>,
    /// [nA]; with a waveform, the default is 1 (the waveform's values in nA).
    pub amplitude: Option<f64>,
    /// `[[t (ms), value], ...]`, increasing times: the time course the amplitude is multiplied by.
    pub waveform: Option<Spanned<Vec<[f64; 2]>>>,
    /// A CSV of `t,value` rows (a header line allowed), relative to the model file: the same, from a file.
    pub waveform_file: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    pub name: String,
    pub at: Spanned<String>,
    /// `mechanism.variable` (e.g. "hh.m"); the membrane potential when absent.
    #[serde(default)]
    pub variable: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynapseSpec {
    pub at: Spanned<String>,
    /// A POINT_PROCESS of the catalogue or of `mod_files`, e.g. "ExpSyn".
    pub mechanism: Spanned<String>,
    #[serde(default)]
    pub parameters: BTreeMap<Spanned<String>, f64>,
    /// Delivery times of input events [ms].
    #[serde(default)]
    pub events: Vec<f64>,
    /// Weight of each event (µS for ExpSyn and Exp2Syn).
    #[serde(default)]
    pub weight: f64,
    /// What the mechanism's POINTERs read: `{ vgap = { at = "(location 1 0.5)" } }`, with `cell = "name"` for
    /// a voltage of another [[cell]].
    #[serde(default)]
    pub pointers: BTreeMap<Spanned<String>, PointerSpec>,
}

/// The membrane potential a POINTER reads: at the one location of `at`, on this cell or on the [[cell]] `cell`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointerSpec {
    pub at: Spanned<String>,
    pub cell: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IonSpec {
    /// Species, e.g. "na", "k", "ca".
    pub name: Spanned<String>,
    #[serde(default = "everywhere")]
    pub region: Spanned<String>,
    /// Reversal potential [mV].
    pub e: Option<f64>,
    /// Inner concentration [mM].
    pub ci: Option<f64>,
    /// Outer concentration [mM].
    pub co: Option<f64>,
    pub valence: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterToml {
    /// `mechanism.parameter`, `cm`, `ra`, `stimulus[i].amplitude` or `synapse[i].weight`.
    pub name: Spanned<String>,
    /// A region expression or label; the whole cell when absent.
    pub region: Option<Spanned<String>>,
    /// "value" (default), "multiplier" or "log".
    pub scale: Option<Spanned<String>>,
    /// A short name for outputs, e.g. "w".
    pub label: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitToml {
    /// "adam" (default), "lbfgs", "levenberg-marquardt" or "cmaes".
    pub optimizer: Option<Spanned<String>>,
    /// Iterations (Adam, L-BFGS) or generations (CMA-ES).
    #[serde(default = "default_iterations")]
    pub iterations: usize,
    /// "multiplier" (default), "log" or "sigmoid" (to the bounds): the variable the optimiser moves.
    pub space: Option<Spanned<String>>,
    pub learning_rate: Option<f64>,
    /// Adam's moment decay rates (defaults 0.9 and 0.999).
    pub beta1: Option<f64>,
    pub beta2: Option<f64>,
    /// Adam's learning rate is multiplied by this after every step.
    pub decay: Option<f64>,
    /// Adam's ε (default 1e-8): gradients much smaller than it move their parameter by less than the
    /// learning rate, so parameters the loss hardly sees stay put.
    pub epsilon: Option<f64>,
    /// Adam: a fraction of the largest RMS gradient added to ε (default 0).
    pub relative_epsilon: Option<f64>,
    /// Adam: clip the gradient to this L2 norm.
    pub clip: Option<f64>,
    /// Levenberg-Marquardt's first damping (default 1e-2).
    pub damping: Option<f64>,
    /// CMA-ES population and initial step.
    pub population: Option<usize>,
    pub step: Option<f64>,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// A CSV of target traces (t, probe columns); without it the target is simulated at the `truth` multipliers.
    pub target: Option<Spanned<String>>,
    /// Loss windows `[start, end, weight]` [ms].
    #[serde(default)]
    pub windows: Vec<Vec<f64>>,
    /// Curriculum over simulated time: `[first t_stop (ms), iterations to reach the full t_stop]`.
    pub curriculum: Option<Vec<f64>>,
    pub parameter: Vec<FitParameterToml>,
    /// Stimulus protocols, each with its own stimuli and target; their losses are summed.
    #[serde(default)]
    pub protocol: Vec<Spanned<FitProtocolToml>>,
}

/// One `[[fit.protocol]]`: the model's `[[stimulus]]` entries replaced by these, its own target and weight.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitProtocolToml {
    pub name: Option<String>,
    /// Replaces the model's stimuli for this protocol (none: no current clamp).
    #[serde(default)]
    pub stimulus: Vec<StimulusSpec>,
    /// A target CSV; without it the protocol is simulated at the `truth` multipliers.
    pub target: Option<Spanned<String>>,
    /// Weight of this protocol's loss (default 1).
    pub weight: Option<f64>,
    /// Simulated time of this protocol [ms] (default: [simulation] t_stop).
    pub t_stop: Option<f64>,
    /// Loss windows of this protocol (default: [fit] windows).
    pub windows: Option<Vec<Vec<f64>>>,
}

fn default_iterations() -> usize {
    100
}

fn default_seed() -> u64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitParameterToml {
    pub name: Spanned<String>,
    pub region: Option<Spanned<String>>,
    /// Start of the search, as a multiplier of the model's value (default 1).
    pub start: Option<f64>,
    /// The multiplier that makes the synthetic target (when there is no target file).
    pub truth: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub label: Option<String>,
}

/// `[homeostasis]`: online control of parameters toward a target firing rate (docs/homeostasis.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HomeostasisToml {
    /// `mechanism.state` read as the rate [Hz], e.g. "hh_rate.f".
    pub sensor: Spanned<String>,
    /// `mechanism.state` whose sensitivities steer, e.g. "lowpass_v.g".
    pub direction: Spanned<String>,
    /// Where sensor and direction are read (one location).
    pub at: Spanned<String>,
    /// Target rate [Hz].
    pub target: f64,
    /// α [1/ms].
    pub learning_rate: f64,
    /// λ [1/ms], the leak of the running gradient.
    pub forgetting: f64,
    /// Largest L2 norm of the update vector (default 1; 0 turns clipping off).
    pub clip: Option<f64>,
    /// Steps between updates (default 1).
    pub every: Option<usize>,
    pub parameter: Vec<HomeostasisParameterToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HomeostasisParameterToml {
    pub name: Spanned<String>,
    pub region: Option<Spanned<String>>,
    /// Bounds of the multiplier (defaults 0 and unbounded).
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub label: Option<String>,
}
