//! Soma outlines: a closed contour of points in, the 21-point centroid NEURON's Import3d makes of it out.
//!
//! Import3d turns a traced soma outline into an unbranched soma along the
//! outline's principal axis: the outline is resampled at 101 points evenly
//! spaced in its xy arc length, the major axis is the eigenvector of the
//! largest eigenvalue of the points' scatter matrix, and 21 points evenly
//! spaced along it carry the width of the outline across the axis (measured
//! along the in-plane second axis). rall does the same steps in the same
//! order, so a soma read here has NEURON's 3D points.

use super::tree::Point3;

/// Why an outline gives no centroid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContourError {
    #[error("a soma contour needs at least 3 points, found {0}")]
    TooFewPoints(usize),
    #[error("the soma contour has no extent across its major axis (its points lie on a line)")]
    Degenerate,
}

/// A soma's centroid: points along the major axis with their diameters [µm].
pub fn contour_centroid(outline: &[Point3]) -> Result<Vec<(Point3, f64)>, ContourError> {
    if outline.len() < 3 {
        return Err(ContourError::TooFewPoints(outline.len()));
    }
    let (samples, mean) = resample_evenly(outline);
    let centred: Vec<[f64; 3]> = samples
        .iter()
        .map(|p| [p[0] - mean[0], p[1] - mean[1], p[2] - mean[2]])
        .collect();
    let mut scatter = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in i..3 {
            scatter[i][j] = centred.iter().map(|p| p[i] * p[j]).sum();
            scatter[j][i] = scatter[i][j];
        }
    }
    let (values, vectors) = symmetric_eigen(scatter);
    let max_ind = first_index(&values, |a, b| a > b);
    let min_ind = first_index(&values, |a, b| a < b);
    let mut major = [vectors[0][max_ind], vectors[1][max_ind], vectors[2][max_ind]];
    // Import3d points the major axis so that its largest component is positive.
    let largest = first_index(&major.map(f64::abs), |a, b| a > b);
    if major[largest] < 0.0 {
        major = major.map(|c| -c);
    }
    let middle = 3usize.saturating_sub(min_ind + max_ind).min(2);
    let mut minor = [vectors[0][middle], vectors[1][middle], 0.0];
    let norm = |v: &[f64; 3]| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    let minor_mag = norm(&minor);
    if minor_mag / (norm(&major) + 1e-100) < 1e-6 {
        return Err(ContourError::Degenerate);
    }
    minor = minor.map(|c| c / minor_mag);
    let dot = |a: &[f64; 3], b: &[f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let along: Vec<f64> = centred.iter().map(|p| dot(p, &major)).collect();
    let across: Vec<f64> = centred.iter().map(|p| dot(p, &minor)).collect();

    // Split the outline at its two extreme points along the axis into two sides.
    let imax = first_index(&along, |a, b| a > b);
    let rotate = |v: &[f64]| -> Vec<f64> { v[imax..].iter().chain(&v[..imax]).copied().collect() };
    let (along, across) = (rotate(&along), rotate(&across));
    let imin = first_index(&along, |a, b| a < b);
    let (mut side2, mut across2) = (along[imin..].to_vec(), across[imin..].to_vec());
    let (mut side1, mut across1): (Vec<f64>, Vec<f64>) = (
        along[..imin].iter().rev().copied().collect(),
        across[..imin].iter().rev().copied().collect(),
    );
    keep_increasing(&mut side1, &mut across1);
    keep_increasing(&mut side2, &mut across2);
    let mut all: Vec<f64> = side1.iter().chain(&side2).copied().collect();
    if all.len() < 4 {
        return Err(ContourError::Degenerate);
    }
    all.sort_by(f64::total_cmp);
    let (start, stop) = (all[1], all[all.len() - 2]);
    let step = (stop - start) / 20.0;
    let grid = indgen(start, stop, step);
    if grid.len() < 2 {
        return Err(ContourError::Degenerate);
    }
    let width1 = interpolate(&grid, &side1, &across1);
    let width2 = interpolate(&grid, &side2, &across2);
    let mut points: Vec<(Point3, f64)> = grid
        .iter()
        .zip(width1.iter().zip(&width2))
        .map(|(&t, (a, b))| {
            let p = Point3::new(major[0] * t + mean[0], major[1] * t + mean[1], major[2] * t + mean[2]);
            (p, (a - b).abs())
        })
        .collect();
    // Import3d avoids zero diameters at the ends by averaging with the neighbour.
    let n = points.len();
    points[0].1 = (points[0].1 + points[1].1) / 2.0;
    points[n - 1].1 = (points[n - 1].1 + points[n - 2].1) / 2.0;
    Ok(points)
}

/// The outline (taken open, from its first to its last point) at 101 points evenly spaced in xy arc
/// length, and their mean: Import3d's `contourcenter`.
pub fn resample_evenly(outline: &[Point3]) -> (Vec<[f64; 3]>, [f64; 3]) {
    let mut perimeter = vec![0.0; outline.len()];
    for i in 1..outline.len() {
        let (a, b) = (&outline[i - 1], &outline[i]);
        perimeter[i] = perimeter[i - 1] + (b.x - a.x).hypot(b.y - a.y);
    }
    let step = perimeter[outline.len() - 1] / 100.0;
    let at: Vec<f64> = (0..=100).map(|k| k as f64 * step).collect();
    let coordinate = |c: fn(&Point3) -> f64| {
        let values: Vec<f64> = outline.iter().map(c).collect();
        interpolate(&at, &perimeter, &values)
    };
    let (x, y, z) = (coordinate(|p| p.x), coordinate(|p| p.y), coordinate(|p| p.z));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let samples = (0..at.len()).map(|k| [x[k], y[k], z[k]]).collect();
    (samples, [mean(&x), mean(&y), mean(&z)])
}

/// Piecewise-linear `ys(xs)` at `at`, held constant outside `xs`; steps where `xs` does not increase are
/// skipped (NEURON's `Vector.interpolate`).
fn interpolate(at: &[f64], xs: &[f64], ys: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(at.len());
    let mut id = 0;
    while id < at.len() && at[id] <= xs[0] {
        out.push(ys[0]);
        id += 1;
    }
    for is in 1..xs.len() {
        if id >= at.len() {
            break;
        }
        if xs[is] <= xs[is - 1] {
            continue;
        }
        while id < at.len() && at[id] <= xs[is] {
            let theta = (at[id] - xs[is - 1]) / (xs[is] - xs[is - 1]);
            out.push((1.0 - theta) * ys[is - 1] + theta * ys[is]);
            id += 1;
        }
    }
    while out.len() < at.len() {
        out.push(ys[ys.len() - 1]);
    }
    out
}

/// Drops points (from the far end back) that do not increase along the axis, keeping one side convex.
fn keep_increasing(along: &mut Vec<f64>, across: &mut Vec<f64>) {
    let mut j = along.len().saturating_sub(1);
    while j > 0 {
        if along[j] <= along[j - 1] {
            along.remove(j);
            across.remove(j);
            if j != along.len() {
                j += 1;
            }
        }
        j -= 1;
    }
}

/// `start, start + step, ...` up to `stop` (NEURON's `Vector.indgen(start, stop, step)`).
fn indgen(start: f64, stop: f64, step: f64) -> Vec<f64> {
    if !(step > 0.0) || !step.is_finite() {
        return vec![start];
    }
    let n = ((stop - start) / step + 1e-9).floor() as usize + 1;
    (0..n.min(1_000)).map(|k| start + k as f64 * step).collect()
}

/// Index of the first element that wins every comparison `better(candidate, best)`.
fn first_index(values: &[f64], better: impl Fn(f64, f64) -> bool) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if better(v, values[best]) {
            best = i;
        }
    }
    best
}

/// Eigenvalues and eigenvectors (as columns) of a symmetric 3×3 matrix, by cyclic Jacobi rotations.
fn symmetric_eigen(mut a: [[f64; 3]; 3]) -> ([f64; 3], [[f64; 3]; 3]) {
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _sweep in 0..64 {
        let off = a[0][1].powi(2) + a[0][2].powi(2) + a[1][2].powi(2);
        let scale = a[0][0].powi(2) + a[1][1].powi(2) + a[2][2].powi(2);
        if off <= 1e-30 * scale || off == 0.0 {
            break;
        }
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            if a[p][q] == 0.0 {
                continue;
            }
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let t = if theta == 0.0 { 1.0 } else { t };
            let c = 1.0 / (t * t + 1.0).sqrt();
            let s = t * c;
            for row in a.iter_mut() {
                let (akp, akq) = (row[p], row[q]);
                row[p] = c * akp - s * akq;
                row[q] = s * akp + c * akq;
            }
            let (row_p, row_q) = (a[p], a[q]);
            for k in 0..3 {
                a[p][k] = c * row_p[k] - s * row_q[k];
                a[q][k] = s * row_p[k] + c * row_q[k];
            }
            for row in v.iter_mut() {
                let (vkp, vkq) = (row[p], row[q]);
                row[p] = c * vkp - s * vkq;
                row[q] = s * vkp + c * vkq;
            }
        }
    }
    ([a[0][0], a[1][1], a[2][2]], v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_diagonalises_a_symmetric_matrix() {
        let m = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 1.0]];
        let (values, vectors) = symmetric_eigen(m);
        for k in 0..3 {
            for i in 0..3 {
                let mv: f64 = (0..3).map(|j| m[i][j] * vectors[j][k]).sum();
                // Measured: 1e-15; limit 100x.
                assert!((mv - values[k] * vectors[i][k]).abs() < 1e-13);
            }
        }
        // The trace is the sum of the eigenvalues.
        assert!((values.iter().sum::<f64>() - 8.0).abs() < 1e-13);
    }

    #[test]
    fn an_ellipse_becomes_a_soma_along_its_long_axis() {
        // An ellipse with semi-axes 10 (along x) and 4 µm: the centroid runs along x and is 8 µm wide at
        // its middle.
        let outline: Vec<Point3> = (0..60)
            .map(|k| {
                let t = k as f64 / 60.0 * std::f64::consts::TAU;
                Point3::new(10.0 * t.cos(), 4.0 * t.sin(), 0.0)
            })
            .collect();
        let points = contour_centroid(&outline).unwrap();
        assert_eq!(points.len(), 21);
        for (p, _) in &points {
            assert!(p.y.abs() < 0.05 && p.z == 0.0, "{p:?}");
        }
        let (middle, d) = points[10];
        assert!(middle.x.abs() < 0.05);
        // The outline's chords are shorter than the ellipse: within 1% (60 points).
        assert!((d - 8.0).abs() < 0.08, "{d}");
    }
}
