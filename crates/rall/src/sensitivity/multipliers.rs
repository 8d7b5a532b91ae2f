//! Parameters set on a built cell: a [`SensitivitySetup`] resolved with [`Transform::Multiplier`] (its seeds
//! are the parameters' base values) and one multiplier per lane in, the values to give mechanism parameters
//! and stimulus amplitudes out. Fitting sets these on simulations it built once instead of rebuilding a
//! cell for every new point.
//!
//! [`Transform::Multiplier`]: super::Transform::Multiplier

use super::SensitivitySetup;
use std::collections::BTreeMap;

/// New values for what the multipliers scale.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParameterValues {
    /// `(mechanism index in the layout, PARAMETER name, instance, value)`.
    pub mechanism: Vec<(usize, String, usize, f64)>,
    /// `(stimulus index in the layout, amplitude [nA])`.
    pub stimulus: Vec<(usize, f64)>,
}

/// A lane whose parameter is fixed when the cell is built, so multipliers cannot be set on a built cell.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("parameter `{name}` is built into the cell's matrix or its connections; the cell is rebuilt to change it")]
pub struct BuiltIn {
    pub name: String,
}

impl SensitivitySetup {
    /// Whether one value is scaled by several lanes (`hh.gnabar` and `hh.gnabar@soma`): a lane's seed is then
    /// the product of the others' multipliers with the base value, and changes with them.
    pub fn lanes_overlap(&self) -> bool {
        let mut seen = std::collections::BTreeSet::new();
        let mechanism = self
            .mechanism_seeds
            .iter()
            .flat_map(|(m, seeds)| seeds.iter().map(move |s| (*m, s.parameter.as_str(), s.instance)));
        let stimulus = self.stimulus.iter().map(|&(_, k, _)| (usize::MAX, "", k));
        !mechanism.chain(stimulus).all(|place| seen.insert(place))
    }

    /// The values at `multipliers` (one per lane); lanes that scale the same value multiply, as successive
    /// [`perturbed`](super::perturbed) cells do. A CV that the parameter's region covers only in part is
    /// scaled whole, as its seed is.
    pub fn values_at(&self, multipliers: &[f64]) -> Result<ParameterValues, BuiltIn> {
        let built_in = self
            .capacitance
            .iter()
            .chain(&self.axial)
            .chain(&self.weight)
            .map(|&(lane, _, _)| lane)
            .next();
        if let Some(lane) = built_in {
            return Err(BuiltIn {
                name: self.names[lane].clone(),
            });
        }
        let mut mechanism: BTreeMap<(usize, &str, usize), f64> = BTreeMap::new();
        for (m, seeds) in &self.mechanism_seeds {
            for seed in seeds {
                let value = mechanism
                    .entry((*m, seed.parameter.as_str(), seed.instance))
                    .or_insert(seed.value);
                *value *= multipliers[seed.lane];
            }
        }
        let mut stimulus: BTreeMap<usize, f64> = BTreeMap::new();
        for &(lane, k, base) in &self.stimulus {
            *stimulus.entry(k).or_insert(base) *= multipliers[lane];
        }
        Ok(ParameterValues {
            mechanism: mechanism
                .into_iter()
                .map(|((m, parameter, instance), value)| (m, parameter.to_string(), instance, value))
                .collect(),
            stimulus: stimulus.into_iter().collect(),
        })
    }
}
