//! Homeostatic control (docs/homeostasis.md): a rate sensor, a direction signal with co-simulated
//! sensitivities and the controlled parameters in; every `every` steps the leaky running gradient
//!
//!   G_k' = (f - f_target) · ∂g/∂m_k - λ G_k
//!
//! and the clipped, unit-free update `m_k' = -α clip(G)_k` of the multipliers `m_k = θ_k / θ_k0` out.
//! `f` is the sensor (a mechanism state, e.g. `hh_rate.f`), `g` the direction signal (e.g. `lowpass_v.g`)
//! whose sensitivities to the multipliers the engine co-simulates exactly; only `G` forgets.

use crate::Cell;
use crate::mechanism::{Catalogue, Mechanism};
use crate::sensitivity::{ParameterSpec, SensitivitySetup, Transform};

/// What the model file's `[homeostasis]` table says.
#[derive(Clone, Debug, PartialEq)]
pub struct HomeostasisSpec {
    /// `(mechanism, state)` read as the firing rate [Hz].
    pub sensor: (String, String),
    /// `(mechanism, state)` whose sensitivities give the direction.
    pub direction: (String, String),
    /// Where sensor and direction are read (a locset with one location).
    pub at: String,
    pub target_hz: f64,
    /// The controlled parameters (as multipliers of their initial values), with bounds on the multiplier.
    pub parameters: Vec<(ParameterSpec, f64, f64)>,
    /// α [1/ms].
    pub learning_rate_per_ms: f64,
    /// λ [1/ms], the leak of the running gradient.
    pub forgetting_per_ms: f64,
    /// Largest L2 norm of the update vector (`None`: no clipping).
    pub clip: Option<f64>,
    /// Steps between updates (the update integrates over them).
    pub every: usize,
}

impl HomeostasisSpec {
    /// Column names of a controller's samples: the sensor, each multiplier and each running gradient.
    pub fn column_names(&self) -> Vec<String> {
        let labels: Vec<String> = self.parameters.iter().map(|(p, _, _)| p.label()).collect();
        let mut names = vec!["homeostasis.rate".to_string()];
        names.extend(labels.iter().map(|l| format!("homeostasis.m[{l}]")));
        names.extend(labels.iter().map(|l| format!("homeostasis.G[{l}]")));
        names
    }

    /// The controlled parameters as multiplier lanes (the sensitivities the controller needs).
    pub fn multiplier_specs(&self) -> Vec<ParameterSpec> {
        self.parameters
            .iter()
            .map(|(p, _, _)| ParameterSpec {
                transform: Transform::Multiplier,
                ..p.clone()
            })
            .collect()
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum HomeostasisError {
    #[error("homeostasis: {0}")]
    Setup(String),
}

/// A controller resolved on one cell: where to read and which parameters to write.
#[derive(Clone, Debug)]
pub struct Homeostasis {
    pub spec: HomeostasisSpec,
    /// Multiplier lanes of the controlled parameters, for the engine's sensitivities.
    pub sensitivities: SensitivitySetup,
    sensor: (usize, usize, String),
    direction: (usize, usize, String),
}

impl Homeostasis {
    /// Resolves the spec on a cell: the sensor and direction instances at `at`, one multiplier lane per parameter.
    pub fn new(spec: &HomeostasisSpec, cell: &Cell, catalogue: &Catalogue) -> Result<Self, HomeostasisError> {
        let fail = |m: String| HomeostasisError::Setup(m);
        let layout = crate::cell::lower_cell(cell, catalogue).map_err(|e| fail(e.to_string()))?;
        let locset = cell.locset(&spec.at).map_err(|e| fail(e.to_string()))?;
        let [location] = locset.locations.as_slice() else {
            return Err(fail(format!(
                "`at = \"{}\"` must name one location (it names {})",
                spec.at,
                locset.locations.len()
            )));
        };
        let cv = layout.geometry.cv_at_location(&cell.morphology, *location);
        let resolve = |(m, v): &(String, String), what: &str| {
            crate::cell::resolve_variable(&layout.mechanisms, catalogue, m, v, cv, what)
                .map_err(|e| fail(e.to_string()))
        };
        let sensor = resolve(&spec.sensor, "sensor")?;
        let direction = resolve(&spec.direction, "direction")?;
        let specs = spec.multiplier_specs();
        let sensitivities = crate::sensitivity::resolve_parameters(cell, &layout, catalogue, &specs)
            .map_err(|e| fail(e.to_string()))?;
        if !sensitivities.capacitance.is_empty()
            || !sensitivities.axial.is_empty()
            || !sensitivities.stimulus.is_empty()
            || !sensitivities.weight.is_empty()
        {
            return Err(fail("only mechanism parameters can be controlled".into()));
        }
        Ok(Self {
            spec: spec.clone(),
            sensitivities,
            sensor,
            direction,
        })
    }
}

impl Homeostasis {
    /// The same controller for a cell whose mechanisms' instances start at `first_instance` (per mechanism)
    /// among a cell group's.
    pub fn shifted(mut self, first_instance: &[usize]) -> Self {
        self.sensor.1 += first_instance[self.sensor.0];
        self.direction.1 += first_instance[self.direction.0];
        for (m, seeds) in &mut self.sensitivities.mechanism_seeds {
            for seed in seeds {
                seed.instance += first_instance[*m];
            }
        }
        self
    }
}

/// Where a controller reads and writes in its cell's mechanisms, resolved once: no names are compared while
/// the simulation runs.
#[derive(Clone, Debug)]
struct Slots {
    /// `(mechanism, slot, instance)` of the sensor and of the direction variable; `None` where the mechanism
    /// has no such variable (read as NaN and as a zero gradient).
    sensor: Option<(usize, usize, usize)>,
    direction: Option<(usize, usize, usize)>,
    /// `(mechanism, slot, instance, lane, initial value)` of every controlled parameter's instances.
    parameters: Vec<(usize, usize, usize, usize, f64)>,
}

/// The running state of one cell's controller.
#[derive(Clone, Debug)]
pub struct HomeostasisController {
    setup: Homeostasis,
    slots: Slots,
    /// Multipliers `m_k` and running gradients `G_k`.
    pub multipliers: Vec<f64>,
    pub gradient: Vec<f64>,
    steps: usize,
    /// The last sensor reading [Hz].
    pub rate_hz: f64,
}

impl HomeostasisController {
    /// The controller of `setup` over the cell's `mechanisms`, each controlled parameter checked to be a
    /// PARAMETER its mechanism can set (and set to its initial value).
    pub fn new(setup: Homeostasis, mechanisms: &mut [Box<dyn Mechanism>]) -> Result<Self, String> {
        let n = setup.spec.parameters.len();
        let variable =
            |(m, instance, name): &(usize, usize, String)| mechanisms[*m].slot(name).map(|slot| (*m, slot, *instance));
        let (sensor, direction) = (variable(&setup.sensor), variable(&setup.direction));
        let mut parameters = Vec::new();
        for (m, seeds) in &setup.sensitivities.mechanism_seeds {
            for s in seeds {
                mechanisms[*m].set_parameter(&s.parameter, s.instance, s.value)?;
                let slot = mechanisms[*m]
                    .slot(&s.parameter)
                    .ok_or_else(|| format!("`{}` has no slot for `{}`", mechanisms[*m].name(), s.parameter))?;
                parameters.push((*m, slot, s.instance, s.lane, s.value));
            }
        }
        Ok(Self {
            setup,
            slots: Slots {
                sensor,
                direction,
                parameters,
            },
            multipliers: vec![1.0; n],
            gradient: vec![0.0; n],
            steps: 0,
            rate_hz: 0.0,
        })
    }

    pub fn spec(&self) -> &HomeostasisSpec {
        &self.setup.spec
    }

    /// Restores the parameters' initial values and clears the running gradient.
    pub fn reset(&mut self, mechanisms: &mut [Box<dyn Mechanism>]) {
        self.multipliers.fill(1.0);
        self.gradient.fill(0.0);
        self.steps = 0;
        self.write(mechanisms)
    }

    /// After each step: accumulates the running gradient, and every `every` steps moves the multipliers.
    pub fn after_step(&mut self, mechanisms: &mut [Box<dyn Mechanism>], dt_ms: f64) {
        let spec = &self.setup.spec;
        let f = self
            .slots
            .sensor
            .map_or(f64::NAN, |(m, slot, instance)| mechanisms[m].value_at(slot, instance));
        self.rate_hz = f;
        let error = f - spec.target_hz;
        let decay = (-spec.forgetting_per_ms * dt_ms).exp();
        for (lane, g) in self.gradient.iter_mut().enumerate() {
            let dg = self.slots.direction.map_or(0.0, |(m, slot, instance)| {
                mechanisms[m].tangent_at(slot, instance, lane)
            });
            *g = decay * *g + dt_ms * error * dg;
        }
        self.steps += 1;
        if !self.steps.is_multiple_of(spec.every.max(1)) {
            return;
        }
        let norm = self.gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
        let scale = match spec.clip {
            Some(c) if norm > c => c / norm,
            _ => 1.0,
        };
        let span = dt_ms * spec.every.max(1) as f64;
        for ((m, g), (_, lower, upper)) in self.multipliers.iter_mut().zip(&self.gradient).zip(&spec.parameters) {
            *m = (*m - span * spec.learning_rate_per_ms * scale * g).clamp(*lower, *upper);
        }
        self.write(mechanisms)
    }

    /// Writes `m_k · θ_k0` into every instance of each controlled parameter.
    fn write(&self, mechanisms: &mut [Box<dyn Mechanism>]) {
        for &(m, slot, instance, lane, value) in &self.slots.parameters {
            mechanisms[m].set_parameter_at(slot, instance, self.multipliers[lane] * value);
        }
    }

    /// Column names of [`HomeostasisController::sample`]: the sensor, each multiplier and each running gradient.
    pub fn column_names(&self) -> Vec<String> {
        self.setup.spec.column_names()
    }

    pub fn sample(&self, out: &mut Vec<f64>) {
        out.push(self.rate_hz);
        out.extend_from_slice(&self.multipliers);
        out.extend_from_slice(&self.gradient);
    }
}
