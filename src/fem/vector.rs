//! Deterministic parallel vector kernels of the CPU solver.
//!
//! Vectors are cut into chunks of [`CHUNK`] values (3 per node,
//! [`CHUNK_NODES`] nodes); a reduction sums each chunk in order and then the
//! chunk sums in chunk order, so every result is the same whatever the
//! thread count or scheduling.

use crate::fem::operator::CHUNK_NODES;
use rayon::prelude::*;

/// Values per parallel chunk.
pub const CHUNK: usize = 3 * CHUNK_NODES;

/// Sums per-chunk partial sums in chunk order.
pub fn ordered_sum<I: IndexedParallelIterator<Item = f64>>(parts: I) -> f64 {
    parts.collect::<Vec<f64>>().iter().sum()
}

/// a·b.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    ordered_sum(
        a.par_chunks(CHUNK)
            .zip(b.par_chunks(CHUNK))
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum()),
    )
}

/// a·a.
pub fn norm_sq(a: &[f64]) -> f64 {
    ordered_sum(a.par_chunks(CHUNK).map(|a| a.iter().map(|v| v * v).sum()))
}

/// The residual r = b − A·x and ‖r‖², summed as [`norm_sq`] does: the
/// true residual of every backend's stop rule and of the reported result.
pub fn residual(
    a: &impl crate::fem::operator::LinearOperator,
    b: &[f64],
    x: &[f64],
) -> (Vec<f64>, f64) {
    let mut r = vec![0.0; b.len()];
    let rr = residual_into(a, b, x, &mut r);
    (r, rr)
}

/// [`residual`] written into `r`; returns ‖r‖².
pub fn residual_into(
    a: &impl crate::fem::operator::LinearOperator,
    b: &[f64],
    x: &[f64],
    r: &mut [f64],
) -> f64 {
    a.apply(x, r);
    r.par_chunks_mut(CHUNK)
        .zip(b.par_chunks(CHUNK))
        .for_each(|(r, b)| {
            for (r, b) in r.iter_mut().zip(b) {
                *r = b - *r;
            }
        });
    norm_sq(r)
}
