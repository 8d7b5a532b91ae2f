//! The mechanism catalogue: mechanism names in, metadata (parameters, units, defaults) and instances out.

use super::{Mechanism, MechanismLayout, Passive};
use crate::suggest::did_you_mean;

/// A parameter of a mechanism, with its unit and default.
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterInfo {
    pub name: &'static str,
    pub unit: &'static str,
    pub default: f64,
}

/// What the catalogue knows of a mechanism before it is placed.
#[derive(Clone, Debug, PartialEq)]
pub struct MechanismInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub parameters: Vec<ParameterInfo>,
}

impl MechanismInfo {
    /// Position of a parameter, or an error message with a suggestion.
    pub fn parameter_index(&self, name: &str) -> Result<usize, String> {
        self.parameters.iter().position(|p| p.name == name).ok_or_else(|| {
            let known: Vec<&str> = self.parameters.iter().map(|p| p.name).collect();
            format!(
                "mechanism `{}` has no parameter `{name}`{} (parameters: {})",
                self.name,
                did_you_mean(name, known.iter().copied()),
                known.join(", ")
            )
        })
    }
}

/// The mechanisms rall can place.
#[derive(Clone, Debug)]
pub struct Catalogue {
    mechanisms: Vec<MechanismInfo>,
}

impl Default for Catalogue {
    fn default() -> Self {
        Self {
            mechanisms: vec![Passive::info()],
        }
    }
}

impl Catalogue {
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.mechanisms.iter().map(|m| m.name)
    }

    /// Metadata of a mechanism, or an error message with a suggestion.
    pub fn info(&self, name: &str) -> Result<&MechanismInfo, String> {
        self.mechanisms.iter().find(|m| m.name == name).ok_or_else(|| {
            format!(
                "unknown mechanism `{name}`{} (the catalogue has: {})",
                did_you_mean(name, self.names()),
                self.names().collect::<Vec<_>>().join(", ")
            )
        })
    }

    /// Builds an instance over the CVs of `layout`.
    pub fn instantiate(&self, layout: &MechanismLayout) -> Result<Box<dyn Mechanism>, String> {
        self.info(&layout.mechanism)?;
        match layout.mechanism.as_str() {
            "pas" => Ok(Box::new(Passive::new(layout))),
            other => Err(format!("mechanism `{other}` has no implementation")),
        }
    }
}
