//! Named labels: `name = "expression"` pairs in, region and locset evaluation by name out.

use super::evaluate::{Evaluator, Locset, Region};
use super::expression::{Label, LabelError, LocsetExpr, RegionExpr, parse_label};
use crate::morphology::Morphology;
use std::collections::BTreeMap;

/// Labels defined by the user, looked up by name; `soma`, `axon`, `dend` and
/// `apic` are predefined as the SWC tags 1 to 4 unless the user redefines them.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelDictionary {
    labels: BTreeMap<String, Label>,
}

impl Default for LabelDictionary {
    fn default() -> Self {
        let mut labels = BTreeMap::new();
        for (name, tag) in [("soma", 1), ("axon", 2), ("dend", 3), ("apic", 4)] {
            labels.insert(name.to_string(), Label::Region(RegionExpr::Tag(tag)));
        }
        labels.insert("all".to_string(), Label::Region(RegionExpr::All));
        Self { labels }
    }
}

impl LabelDictionary {
    /// Parses and defines (or redefines) a label.
    pub fn define(&mut self, name: &str, expression: &str) -> Result<(), LabelError> {
        let label = parse_label(expression)?;
        self.labels.insert(name.to_string(), label);
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&Label> {
        self.labels.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.labels.keys().map(String::as_str)
    }

    fn evaluator<'a>(&'a self, morphology: &'a Morphology) -> Evaluator<'a> {
        Evaluator {
            morphology,
            dictionary: self,
            resolving: Default::default(),
        }
    }

    /// Evaluates a region given as an expression or a label name.
    pub fn region(&self, morphology: &Morphology, text: &str) -> Result<Region, LabelError> {
        let ev = self.evaluator(morphology);
        match parse_label(text)? {
            Label::Region(r) => ev.region(&r),
            Label::Name(n) => ev.region(&RegionExpr::Named(n)),
            Label::Locset(_) => Err(LabelError::whole(format!(
                "`{text}` is a locset, but a region is expected"
            ))),
        }
    }

    /// Evaluates a locset given as an expression or a label name.
    pub fn locset(&self, morphology: &Morphology, text: &str) -> Result<Locset, LabelError> {
        let ev = self.evaluator(morphology);
        match parse_label(text)? {
            Label::Locset(l) => ev.locset(&l),
            Label::Name(n) => ev.locset(&LocsetExpr::Named(n)),
            Label::Region(_) => Err(LabelError::whole(format!(
                "`{text}` is a region, but a locset is expected"
            ))),
        }
    }
}
