//! Mirror of `shaders/reduce_alpha.wgsl`.

use super::workgroup::tree;
use crate::gpu::abi::{GpuParams, ALPHA, BREAKDOWN, PQ, REDUCE_WG, RHO};

/// `shaders/reduce_alpha.wgsl`.
pub fn reduce_alpha(params: &GpuParams, partials: &[f32], scalars: &mut [f32]) {
    let mut sums = [0.0f32; REDUCE_WG];
    for (li, s) in sums.iter_mut().enumerate() {
        let mut i = li;
        while i < params.n_partials as usize {
            *s += partials[i];
            i += REDUCE_WG;
        }
    }
    let pq = tree(&mut sums);
    scalars[PQ] = pq;
    if pq > 0.0 && scalars[BREAKDOWN] == 0.0 {
        scalars[ALPHA] = scalars[RHO] / pq;
    } else {
        scalars[ALPHA] = 0.0;
        scalars[BREAKDOWN] = 1.0;
    }
}
