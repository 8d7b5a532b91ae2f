//! Connection rules: a rule and the gid ranges of the source and target populations in, explicit
//! `(source gid, target gid)` pairs out (seeded, so the same seed gives the same network).

use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::ops::Range;

/// How the cells of two populations are connected.
#[derive(Clone, Debug, PartialEq)]
pub enum ConnectionRule {
    /// Source `i` to target `(i + offset) mod n` (a ring with offset 1 when both are one population).
    OneToOne { offset: usize },
    /// Every source to every target, each pair with `probability`.
    AllToAll { probability: f64, seed: u64 },
    /// Every target gets `indegree` distinct sources, drawn uniformly.
    FixedIndegree { indegree: usize, seed: u64 },
    /// Explicit `(source index, target index)` pairs within the populations.
    List(Vec<(usize, usize)>),
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RuleError {
    #[error("one-to-one needs populations of equal size (from {from}, to {to})")]
    Sizes { from: usize, to: usize },
    #[error("fixed in-degree {indegree} needs at least that many candidate sources per target ({candidates})")]
    Indegree { indegree: usize, candidates: usize },
    #[error("probability must lie in [0, 1] (got {0})")]
    Probability(f64),
    #[error("pair {index}: ({from_index}, {to_index}) is outside the populations (sizes {from} and {to})")]
    Pair {
        index: usize,
        from_index: usize,
        to_index: usize,
        from: usize,
        to: usize,
    },
}

/// The pairs of a rule; `allow_self` keeps connections of a cell to itself when the populations are the same.
pub fn expand(
    rule: &ConnectionRule,
    from: Range<usize>,
    to: Range<usize>,
    allow_self: bool,
) -> Result<Vec<(usize, usize)>, RuleError> {
    let (nf, nt) = (from.len(), to.len());
    let keep = |s: usize, t: usize| allow_self || s != t;
    let mut pairs = Vec::new();
    match rule {
        ConnectionRule::OneToOne { offset } => {
            if nf != nt {
                return Err(RuleError::Sizes { from: nf, to: nt });
            }
            for i in 0..nf {
                let (s, t) = (from.start + i, to.start + (i + offset) % nt);
                if keep(s, t) {
                    pairs.push((s, t));
                }
            }
        }
        ConnectionRule::AllToAll { probability, seed } => {
            if !(0.0..=1.0).contains(probability) {
                return Err(RuleError::Probability(*probability));
            }
            let mut rng = ChaCha8Rng::seed_from_u64(*seed);
            for t in to.clone() {
                for s in from.clone() {
                    if keep(s, t) && (*probability >= 1.0 || rng.random::<f64>() < *probability) {
                        pairs.push((s, t));
                    }
                }
            }
        }
        ConnectionRule::FixedIndegree { indegree, seed } => {
            let mut rng = ChaCha8Rng::seed_from_u64(*seed);
            for t in to.clone() {
                let candidates: Vec<usize> = from.clone().filter(|&s| keep(s, t)).collect();
                if *indegree > candidates.len() {
                    return Err(RuleError::Indegree {
                        indegree: *indegree,
                        candidates: candidates.len(),
                    });
                }
                let mut chosen: Vec<usize> = sample(&mut rng, candidates.len(), *indegree)
                    .into_iter()
                    .map(|k| candidates[k])
                    .collect();
                chosen.sort_unstable();
                pairs.extend(chosen.into_iter().map(|s| (s, t)));
            }
        }
        ConnectionRule::List(list) => {
            for (index, &(s, t)) in list.iter().enumerate() {
                if s >= nf || t >= nt {
                    return Err(RuleError::Pair {
                        index,
                        from_index: s,
                        to_index: t,
                        from: nf,
                        to: nt,
                    });
                }
                pairs.push((from.start + s, to.start + t));
            }
        }
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_give_the_pairs_they_promise() {
        let ring = expand(&ConnectionRule::OneToOne { offset: 1 }, 0..4, 0..4, false).unwrap();
        assert_eq!(ring, vec![(0, 1), (1, 2), (2, 3), (3, 0)]);
        let all = expand(
            &ConnectionRule::AllToAll {
                probability: 1.0,
                seed: 1,
            },
            0..3,
            0..3,
            false,
        )
        .unwrap();
        assert_eq!(all.len(), 6);
        assert!(all.iter().all(|(s, t)| s != t));
        let k = expand(
            &ConnectionRule::FixedIndegree { indegree: 5, seed: 7 },
            0..10,
            0..10,
            false,
        )
        .unwrap();
        for t in 0..10 {
            let mut sources: Vec<usize> = k.iter().filter(|p| p.1 == t).map(|p| p.0).collect();
            assert_eq!(sources.len(), 5);
            assert!(!sources.contains(&t));
            sources.dedup();
            assert_eq!(sources.len(), 5, "distinct sources");
        }
        let again = expand(
            &ConnectionRule::FixedIndegree { indegree: 5, seed: 7 },
            0..10,
            0..10,
            false,
        )
        .unwrap();
        assert_eq!(k, again, "seeded");
        // About half of 100 x 100 pairs at probability 0.5.
        let half = expand(
            &ConnectionRule::AllToAll {
                probability: 0.5,
                seed: 3,
            },
            0..100,
            100..200,
            true,
        )
        .unwrap();
        assert!((half.len() as f64 - 5000.0).abs() < 4.0 * 50.0, "{}", half.len());
        assert!(matches!(
            expand(&ConnectionRule::List(vec![(0, 5)]), 0..2, 0..2, true),
            Err(RuleError::Pair { .. })
        ));
    }
}
