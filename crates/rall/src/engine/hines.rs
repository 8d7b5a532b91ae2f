//! Hines solver: a symmetric tree matrix (diagonal, parent couplings) and right-hand sides in, solutions out in O(N).
//!
//! The factorisation is kept, so many right-hand sides (the voltage and,
//! later, every parameter's sensitivity) are solved with one elimination.

/// A symmetric matrix whose sparsity is a tree: row `i` couples only to
/// `parent[i] < i` (row 0 is the root). Fill `diagonal` and `coupling`
/// (the off-diagonal entry between `i` and its parent), then [`factor`] and
/// [`solve_in_place`] as often as needed.
///
/// [`factor`]: HinesMatrix::factor
/// [`solve_in_place`]: HinesMatrix::solve_in_place
/// Right-hand sides solved together ([`HinesMatrix::solve_many`]) are stored in rows of whole blocks of this
/// many lanes (one 512-bit vector of f64) when there are more than four (see [`lane_stride`]).
pub const LANE_BLOCK: usize = 8;

#[derive(Clone, Debug)]
pub struct HinesMatrix {
    parent: Vec<usize>,
    pub diagonal: Vec<f64>,
    pub coupling: Vec<f64>,
    /// `1 / pivot` of each row after elimination.
    inverse_pivot: Vec<f64>,
    /// `coupling[i] / pivot[i]`: the multiplier that eliminates row `i` from its parent.
    multiplier: Vec<f64>,
    /// Rows other than the root, deepest first and by decreasing index within a depth: the elimination
    /// order. Rows of one depth are independent, so the processor overlaps their divisions instead of waiting
    /// for each branch's chain; every parent still receives its children in decreasing index order, so the
    /// results are bit for bit those of eliminating rows `n-1, ..., 1` in turn.
    elimination_order: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SolveError {
    #[error("the cable matrix has a non-positive pivot {value} at row {index}")]
    NonPositivePivot { index: usize, value: f64 },
}

impl HinesMatrix {
    /// `parent[0]` is ignored; every other `parent[i]` must be smaller than `i`.
    pub fn new(parent: Vec<usize>) -> Self {
        assert!(
            parent.iter().enumerate().skip(1).all(|(i, &p)| p < i),
            "Hines ordering needs parents before children"
        );
        let n = parent.len();
        let mut depth = vec![0usize; n];
        for i in 1..n {
            depth[i] = depth[parent[i]] + 1;
        }
        let mut elimination_order: Vec<usize> = (1..n).collect();
        elimination_order.sort_by(|&a, &b| depth[b].cmp(&depth[a]).then(b.cmp(&a)));
        Self {
            parent,
            diagonal: vec![0.0; n],
            coupling: vec![0.0; n],
            inverse_pivot: vec![0.0; n],
            multiplier: vec![0.0; n],
            elimination_order,
        }
    }

    pub fn len(&self) -> usize {
        self.parent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    pub fn parent(&self) -> &[usize] {
        &self.parent
    }

    /// Eliminates from the leaves to the root and stores the factors.
    pub fn factor(&mut self) -> Result<(), SolveError> {
        self.eliminate(None)
    }

    /// Factors and solves `A x = rhs` in one sweep (overwriting `rhs` with
    /// `x`); the factors stay for further right-hand sides.
    pub fn factor_and_solve(&mut self, rhs: &mut [f64]) -> Result<(), SolveError> {
        self.eliminate(Some(&mut *rhs))?;
        self.back_substitute(rhs);
        Ok(())
    }

    fn eliminate(&mut self, mut rhs: Option<&mut [f64]>) -> Result<(), SolveError> {
        let pivot = &mut self.inverse_pivot;
        pivot.copy_from_slice(&self.diagonal);
        for &i in &self.elimination_order {
            let p = self.parent[i];
            if !(pivot[i] > 0.0) {
                return Err(SolveError::NonPositivePivot {
                    index: i,
                    value: pivot[i],
                });
            }
            let inverse = 1.0 / pivot[i];
            pivot[i] = inverse;
            let m = self.coupling[i] * inverse;
            self.multiplier[i] = m;
            pivot[p] -= m * self.coupling[i];
            if let Some(b) = rhs.as_deref_mut() {
                b[p] -= m * b[i];
            }
        }
        if !(pivot[0] > 0.0) {
            return Err(SolveError::NonPositivePivot {
                index: 0,
                value: pivot[0],
            });
        }
        pivot[0] = 1.0 / pivot[0];
        Ok(())
    }

    /// Rows from the root outwards (the elimination order reversed: shallowest first), each from its parent.
    fn back_substitute(&self, rhs: &mut [f64]) {
        rhs[0] *= self.inverse_pivot[0];
        for &i in self.elimination_order.iter().rev() {
            rhs[i] = (rhs[i] - self.coupling[i] * rhs[self.parent[i]]) * self.inverse_pivot[i];
        }
    }

    /// Solves `A x = rhs` with the stored factors, overwriting `rhs` with `x`.
    pub fn solve_in_place(&self, rhs: &mut [f64]) {
        for &i in &self.elimination_order {
            rhs[self.parent[i]] -= self.multiplier[i] * rhs[i];
        }
        self.back_substitute(rhs);
    }

    /// Solves `A X = B` for right-hand sides stored node-major with a row stride of `stride`
    /// (`rhs[node * stride + lane]`, `stride` from [`lane_stride`]) with the stored factors. The lanes are
    /// independent and every row is whole blocks, so the inner loops are fixed-width vector code; padding lanes
    /// that hold zeros stay zero.
    pub fn solve_many(&self, rhs: &mut [f64], stride: usize) {
        match stride {
            0 => {}
            1 => self.solve_blocks::<1>(rhs, stride),
            2 => self.solve_blocks::<2>(rhs, stride),
            4 => self.solve_blocks::<4>(rhs, stride),
            _ => self.solve_blocks::<LANE_BLOCK>(rhs, stride),
        }
    }

    fn solve_blocks<const B: usize>(&self, rhs: &mut [f64], stride: usize) {
        let n = self.parent.len();
        if n == 0 {
            return;
        }
        assert!(
            stride.is_multiple_of(B) && rhs.len() >= n * stride,
            "node-major rows of whole lane blocks"
        );
        for i in (1..n).rev() {
            let p = self.parent[i];
            let m = self.multiplier[i];
            let (head, tail) = rhs.split_at_mut(i * stride);
            let row_p = &mut head[p * stride..(p + 1) * stride];
            for (x, y) in row_p.chunks_exact_mut(B).zip(tail[..stride].chunks_exact(B)) {
                // A copy of the child's block: the compiler then knows it does not overlap the parent's.
                let y: [f64; B] = y.try_into().expect("whole blocks");
                for k in 0..B {
                    x[k] -= m * y[k];
                }
            }
        }
        let inverse = self.inverse_pivot[0];
        rhs[..stride].iter_mut().for_each(|x| *x *= inverse);
        for i in 1..n {
            let p = self.parent[i];
            let (c, inv) = (self.coupling[i], self.inverse_pivot[i]);
            let (head, tail) = rhs.split_at_mut(i * stride);
            let row_p = &head[p * stride..(p + 1) * stride];
            for (x, y) in tail[..stride].chunks_exact_mut(B).zip(row_p.chunks_exact(B)) {
                let y: [f64; B] = y.try_into().expect("whole blocks");
                for k in 0..B {
                    x[k] = (x[k] - c * y[k]) * inv;
                }
            }
        }
    }
}

/// The row stride [`HinesMatrix::solve_many`] takes for `lanes` right-hand sides: 1, 2 or 4 lanes as they are
/// (one block of that width), more in whole blocks of [`LANE_BLOCK`].
pub fn lane_stride(lanes: usize) -> usize {
    match lanes {
        0..=2 => lanes,
        3..=4 => 4,
        _ => lanes.next_multiple_of(LANE_BLOCK),
    }
}
