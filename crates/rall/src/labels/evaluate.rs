//! Label evaluation: expressions and a morphology in, normalised cable lists and location lists out.

use super::dictionary::LabelDictionary;
use super::expression::{Label, LabelError, LocsetExpr, RegionExpr};
use crate::morphology::{BranchId, Morphology};
use rand::{Rng, SeedableRng};

/// An interval `[prox, dist]` of one branch, positions in `[0, 1]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cable {
    pub branch: BranchId,
    pub prox: f64,
    pub dist: f64,
}

/// A point on a branch, position in `[0, 1]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Location {
    pub branch: BranchId,
    pub pos: f64,
}

/// A set of cables, sorted by branch and position, non-overlapping, none of zero length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Region {
    pub cables: Vec<Cable>,
}

/// A list of locations (duplicates allowed, in the order the expression produced them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Locset {
    pub locations: Vec<Location>,
}

impl Region {
    /// Sorts, merges touching or overlapping cables, and drops empty ones.
    pub fn normalised(mut cables: Vec<Cable>) -> Self {
        cables.retain(|c| c.dist > c.prox);
        cables.sort_by(|a, b| (a.branch, a.prox).partial_cmp(&(b.branch, b.prox)).unwrap());
        let mut merged: Vec<Cable> = Vec::with_capacity(cables.len());
        for c in cables {
            match merged.last_mut() {
                Some(m) if m.branch == c.branch && c.prox <= m.dist => m.dist = m.dist.max(c.dist),
                _ => merged.push(c),
            }
        }
        Self { cables: merged }
    }

    pub fn all(morphology: &Morphology) -> Self {
        Self {
            cables: (0..morphology.branches.len())
                .map(|b| Cable {
                    branch: b,
                    prox: 0.0,
                    dist: 1.0,
                })
                .collect(),
        }
    }

    pub fn union(&self, other: &Region) -> Region {
        Region::normalised(self.cables.iter().chain(&other.cables).copied().collect())
    }

    pub fn intersection(&self, other: &Region) -> Region {
        let mut out = Vec::new();
        for a in &self.cables {
            for b in other.cables.iter().filter(|b| b.branch == a.branch) {
                out.push(Cable {
                    branch: a.branch,
                    prox: a.prox.max(b.prox),
                    dist: a.dist.min(b.dist),
                });
            }
        }
        Region::normalised(out)
    }

    pub fn complement(&self, morphology: &Morphology) -> Region {
        let mut out = Vec::new();
        for branch in 0..morphology.branches.len() {
            let mut start = 0.0;
            for c in self.cables.iter().filter(|c| c.branch == branch) {
                out.push(Cable {
                    branch,
                    prox: start,
                    dist: c.prox,
                });
                start = c.dist;
            }
            out.push(Cable {
                branch,
                prox: start,
                dist: 1.0,
            });
        }
        Region::normalised(out)
    }

    /// Fraction of the interval `[p0, p1]` of `branch` covered by this region, by length.
    pub fn covered_length(&self, branch: BranchId, p0: f64, p1: f64) -> f64 {
        self.cables
            .iter()
            .filter(|c| c.branch == branch)
            .map(|c| (c.dist.min(p1) - c.prox.max(p0)).max(0.0))
            .sum()
    }

    /// Whether a position lies in the region (interval ends included).
    pub fn contains(&self, branch: BranchId, pos: f64) -> bool {
        self.cables
            .iter()
            .any(|c| c.branch == branch && c.prox <= pos && pos <= c.dist)
    }

    /// All cable end positions on `branch`, for cutting integrals at region boundaries.
    pub fn boundaries_on(&self, branch: BranchId) -> impl Iterator<Item = f64> + '_ {
        self.cables
            .iter()
            .filter(move |c| c.branch == branch)
            .flat_map(|c| [c.prox, c.dist])
    }
}

/// Evaluates labels against one morphology, resolving names through a dictionary.
pub struct Evaluator<'a> {
    pub morphology: &'a Morphology,
    pub dictionary: &'a LabelDictionary,
    pub(super) resolving: std::cell::RefCell<Vec<String>>,
}

impl Evaluator<'_> {
    fn check_branch(&self, branch: BranchId) -> Result<(), LabelError> {
        let n = self.morphology.branches.len();
        if branch < n {
            Ok(())
        } else {
            Err(LabelError::whole(format!(
                "branch {branch} does not exist (the morphology has branches 0 to {})",
                n - 1
            )))
        }
    }

    pub fn region(&self, expr: &RegionExpr) -> Result<Region, LabelError> {
        let m = self.morphology;
        Ok(match expr {
            RegionExpr::All => Region::all(m),
            RegionExpr::Nil => Region::default(),
            RegionExpr::Tag(tag) => {
                let mut cables = Vec::new();
                for (b, branch) in m.branches.iter().enumerate() {
                    let total = branch.length_um();
                    for (k, s) in branch.segments.clone().enumerate() {
                        if m.segments[s].tag == *tag {
                            let (p0, p1) = (branch.cumulative_um[k] / total, branch.cumulative_um[k + 1] / total);
                            cables.push(Cable {
                                branch: b,
                                prox: p0,
                                dist: p1,
                            });
                        }
                    }
                }
                Region::normalised(cables)
            }
            RegionExpr::Branch(b) => {
                self.check_branch(*b)?;
                Region {
                    cables: vec![Cable {
                        branch: *b,
                        prox: 0.0,
                        dist: 1.0,
                    }],
                }
            }
            RegionExpr::Cable(c) => {
                self.check_branch(c.branch)?;
                Region::normalised(vec![*c])
            }
            RegionExpr::Named(name) => match self.named(name)? {
                Resolved::Region(r) => r,
                Resolved::Locset(_) => {
                    return Err(LabelError::whole(format!(
                        "`{name}` is a locset, but a region is expected"
                    )));
                }
            },
            RegionExpr::Join(parts) => {
                let mut cables = Vec::new();
                for p in parts {
                    cables.extend(self.region(p)?.cables);
                }
                Region::normalised(cables)
            }
            RegionExpr::Intersect(parts) => {
                let mut acc = self.region(&parts[0])?;
                for p in &parts[1..] {
                    acc = acc.intersection(&self.region(p)?);
                }
                acc
            }
            RegionExpr::Complement(r) => self.region(r)?.complement(m),
            RegionExpr::Difference(a, b) => self.region(a)?.intersection(&self.region(b)?.complement(m)),
            RegionExpr::DistalInterval(start, distance) => {
                let mut cables = Vec::new();
                for loc in self.locset(start)?.locations {
                    self.walk_distal(loc.branch, loc.pos, *distance, &mut cables);
                }
                Region::normalised(cables)
            }
            RegionExpr::ProximalInterval(end, distance) => {
                let mut cables = Vec::new();
                for loc in self.locset(end)?.locations {
                    self.walk_proximal(loc.branch, loc.pos, *distance, &mut cables);
                }
                Region::normalised(cables)
            }
        })
    }

    fn walk_distal(&self, branch: BranchId, pos: f64, distance: f64, out: &mut Vec<Cable>) {
        let b = &self.morphology.branches[branch];
        let length = b.length_um();
        let reach = (pos + distance / length).min(1.0);
        out.push(Cable {
            branch,
            prox: pos,
            dist: reach,
        });
        for &child in &b.children {
            let at = self.morphology.branches[child].attachment.map_or(0.0, |a| a.pos);
            let left = distance - (at - pos) * length;
            if at >= pos && left > 0.0 {
                self.walk_distal(child, 0.0, left, out);
            }
        }
    }

    fn walk_proximal(&self, branch: BranchId, pos: f64, distance: f64, out: &mut Vec<Cable>) {
        let b = &self.morphology.branches[branch];
        let length = b.length_um();
        out.push(Cable {
            branch,
            prox: (pos - distance / length).max(0.0),
            dist: pos,
        });
        let left = distance - pos * length;
        if let (Some(a), true) = (b.attachment, left > 0.0) {
            self.walk_proximal(a.parent, a.pos, left, out);
        }
    }

    pub fn locset(&self, expr: &LocsetExpr) -> Result<Locset, LabelError> {
        let m = self.morphology;
        Ok(match expr {
            LocsetExpr::Root => Locset {
                locations: vec![Location { branch: 0, pos: 0.0 }],
            },
            LocsetExpr::Terminal => Locset {
                locations: m
                    .terminal_branches()
                    .map(|b| Location { branch: b, pos: 1.0 })
                    .collect(),
            },
            LocsetExpr::Location(l) => {
                self.check_branch(l.branch)?;
                Locset { locations: vec![*l] }
            }
            LocsetExpr::Named(name) => match self.named(name)? {
                Resolved::Locset(l) => l,
                Resolved::Region(_) => {
                    return Err(LabelError::whole(format!(
                        "`{name}` is a region, but a locset is expected"
                    )));
                }
            },
            LocsetExpr::Join(parts) => {
                let mut locations = Vec::new();
                for p in parts {
                    locations.extend(self.locset(p)?.locations);
                }
                Locset { locations }
            }
            LocsetExpr::OnBranches(pos) => Locset {
                locations: (0..m.branches.len())
                    .map(|b| Location { branch: b, pos: *pos })
                    .collect(),
            },
            LocsetExpr::Uniform {
                region,
                first,
                last,
                seed,
            } => {
                let region = self.region(region)?;
                let lengths: Vec<f64> = region
                    .cables
                    .iter()
                    .map(|c| (c.dist - c.prox) * m.branches[c.branch].length_um())
                    .collect();
                let total: f64 = lengths.iter().sum();
                if total <= 0.0 {
                    return Ok(Locset::default());
                }
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(*seed);
                let mut locations = Vec::new();
                for i in 0..=*last {
                    let mut target = rng.random::<f64>() * total;
                    if i < *first {
                        continue;
                    }
                    for (c, len) in region.cables.iter().zip(&lengths) {
                        if target <= *len {
                            locations.push(Location {
                                branch: c.branch,
                                pos: c.prox + (c.dist - c.prox) * target / len,
                            });
                            break;
                        }
                        target -= len;
                    }
                }
                Locset { locations }
            }
        })
    }

    fn named(&self, name: &str) -> Result<Resolved, LabelError> {
        if self.resolving.borrow().iter().any(|n| n == name) {
            let chain = self.resolving.borrow().join(" -> ");
            return Err(LabelError::whole(format!(
                "label `{name}` refers to itself ({chain} -> {name})"
            )));
        }
        if self.resolving.borrow().len() >= super::sexpr::MAX_LABEL_DEPTH {
            return Err(LabelError::whole(format!(
                "label `{name}`: labels refer to labels more than {} deep",
                super::sexpr::MAX_LABEL_DEPTH
            )));
        }
        let label = self.dictionary.get(name).ok_or_else(|| {
            LabelError::whole(format!(
                "no label named `{name}`{}",
                crate::suggest::did_you_mean(name, self.dictionary.names())
            ))
        })?;
        self.resolving.borrow_mut().push(name.to_string());
        let result = match label {
            Label::Region(r) => self.region(r).map(Resolved::Region),
            Label::Locset(l) => self.locset(l).map(Resolved::Locset),
            Label::Name(other) => self.named(other),
        };
        self.resolving.borrow_mut().pop();
        result
    }
}

pub(super) enum Resolved {
    Region(Region),
    Locset(Locset),
}
