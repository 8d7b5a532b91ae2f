//! The Hines tree solver against a dense LU solve with partial pivoting, on random trees; its many-lane solve
//! against its one-lane solve.
#![allow(clippy::needless_range_loop)] // dense elimination reads clearest with explicit indices

use proptest::prelude::*;
use rall::engine::HinesMatrix;

/// Dense Gaussian elimination with partial pivoting, the independent reference.
fn dense_solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for k in 0..n {
        let p = (k..n).max_by(|&i, &j| a[i][k].abs().total_cmp(&a[j][k].abs())).unwrap();
        a.swap(k, p);
        b.swap(k, p);
        for i in k + 1..n {
            let f = a[i][k] / a[k][k];
            for j in k..n {
                a[i][j] -= f * a[k][j];
            }
            b[i] -= f * b[k];
        }
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|j| a[i][j] * x[j]).sum();
        x[i] = (b[i] - s) / a[i][i];
    }
    x
}

/// A random tree (parents before children), cable-like: diagonal = capacitive
/// term (zero for some junction-like rows) + sum of link conductances.
fn random_system() -> impl Strategy<Value = (Vec<usize>, Vec<f64>, Vec<f64>, Vec<f64>)> {
    (2usize..80).prop_flat_map(|n| {
        let parents = (1..n).map(|i| 0..i).collect::<Vec<_>>();
        (
            parents,
            prop::collection::vec(1e-3f64..1e3, n),
            prop::collection::vec(prop_oneof![Just(0.0), 1e-4f64..10.0], n),
            prop::collection::vec(-1e3f64..1e3, n),
        )
            .prop_map(|(p, g, c, b)| {
                let mut parent = vec![0];
                parent.extend(p);
                let mut c = c;
                c[0] = c[0].max(1e-3); // at least one row with a capacitive term
                (parent, g, c, b)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn hines_matches_dense_lu_on_random_trees((parent, g, c, b) in random_system()) {
        let n = parent.len();
        let mut m = HinesMatrix::new(parent.clone());
        for i in 0..n {
            m.diagonal[i] += c[i];
        }
        for i in 1..n {
            m.coupling[i] = -g[i];
            m.diagonal[i] += g[i];
            m.diagonal[parent[i]] += g[i];
        }
        // One sweep that factors and solves gives the same as the dense solve.
        let mut fused = m.clone();
        let mut x = b.clone();
        fused.factor_and_solve(&mut x).unwrap();
        let reference = dense_solve_tree(&parent, &g, &c, &b);
        let scale = reference.iter().fold(1e-12f64, |a, v| a.max(v.abs()));
        for (xi, ri) in x.iter().zip(&reference) {
            prop_assert!((xi - ri).abs() <= 1e-9 * scale, "{} vs {}", xi, ri);
        }
        m.factor().unwrap();
        // The factorisation is reused: several right-hand sides solve with it.
        for rhs in [b.clone(), b.iter().map(|x| 2.0 * x + 1.0).collect()] {
            let mut x = rhs.clone();
            m.solve_in_place(&mut x);
            let reference = dense_solve_tree(&parent, &g, &c, &rhs);
            let scale = reference.iter().fold(1e-12f64, |a, v| a.max(v.abs()));
            for (xi, ri) in x.iter().zip(&reference) {
                prop_assert!((xi - ri).abs() <= 1e-9 * scale, "{} vs {}", xi, ri);
            }
        }
        // Many right-hand sides at once (node-major rows of 1, 2, 4, 8 or 16 lanes, the strides
        // `lane_stride` gives; lane k holds (k + 1) b - k): each lane as the single solve, to the bit.
        for lanes in [1, 2, 3, 4, 5, 8, 13] {
            let stride = rall::engine::lane_stride(lanes);
            prop_assert!(stride >= lanes);
            let mut many = vec![0.0; n * stride];
            for i in 0..n {
                for k in 0..lanes {
                    many[i * stride + k] = (k + 1) as f64 * b[i] - k as f64;
                }
            }
            m.solve_many(&mut many, stride);
            for k in 0..lanes {
                let mut one: Vec<f64> = b.iter().map(|x| (k + 1) as f64 * x - k as f64).collect();
                m.solve_in_place(&mut one);
                for i in 0..n {
                    prop_assert_eq!(many[i * stride + k].to_bits(), one[i].to_bits(), "lanes {} lane {}", lanes, k);
                }
            }
            for i in 0..n {
                prop_assert!(many[i * stride + lanes..(i + 1) * stride].iter().all(|&x| x == 0.0), "padding");
            }
        }
    }
}

/// The same tree system written out densely and solved by LU.
fn dense_solve_tree(parent: &[usize], g: &[f64], c: &[f64], b: &[f64]) -> Vec<f64> {
    let n = parent.len();
    let mut dense = vec![vec![0.0; n]; n];
    for i in 0..n {
        dense[i][i] += c[i];
    }
    for i in 1..n {
        let p = parent[i];
        dense[i][i] += g[i];
        dense[p][p] += g[i];
        dense[i][p] -= g[i];
        dense[p][i] -= g[i];
    }
    dense_solve(dense, b.to_vec())
}

#[test]
fn a_singular_matrix_reports_the_row_instead_of_dividing_by_zero() {
    let mut m = HinesMatrix::new(vec![0, 0]);
    m.diagonal = vec![1.0, 1.0];
    m.coupling = vec![0.0, -1.0];
    assert!(matches!(
        m.factor(),
        Err(rall::engine::SolveError::NonPositivePivot { index: 0, .. })
    ));
}
