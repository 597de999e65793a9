//! Deterministic parallel vector kernels of the CPU solver.
//!
//! Vectors are cut into chunks of [`CHUNK`] values (3 per node,
//! [`CHUNK_NODES`] nodes); a reduction sums each chunk in order and then the
//! chunk sums in chunk order, so every result is the same whatever the
//! thread count or scheduling.

use rayon::prelude::*;

/// Nodes per parallel chunk of the CPU kernels (the operator's applies and
/// these vector kernels cut vectors alike).
pub const CHUNK_NODES: usize = 2048;

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
