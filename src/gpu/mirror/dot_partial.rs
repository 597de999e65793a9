//! Mirror of `shaders/dot_partial.wgsl`: entry points `dot_partial` and
//! `dot_pair`.

use super::workgroup::tree;
use crate::gpu::abi::{GpuParams, REDUCE_PER_THREAD, REDUCE_WG};

/// `shaders/dot_partial.wgsl`: `a` and `b` are the chunk's, `partials` the whole.
pub fn dot_partial(params: &GpuParams, a: &[f32], b: &[f32], partials: &mut [f32]) {
    for g in 0..params.chunk_partials as usize {
        let base = g * REDUCE_WG * REDUCE_PER_THREAD;
        let mut sums = [0.0f32; REDUCE_WG];
        for (li, s) in sums.iter_mut().enumerate() {
            for k in 0..REDUCE_PER_THREAD {
                let i = base + k * REDUCE_WG + li;
                if i < params.n_dofs as usize {
                    *s += a[i] * b[i];
                }
            }
        }
        partials[params.partial_base as usize + g] = tree(&mut sums);
    }
}

/// `shaders/dot_partial.wgsl`, entry point `dot_pair`: partial sums of a·b
/// and a·a, in pairs like `update_xr`'s.
pub fn dot_pair(params: &GpuParams, a: &[f32], b: &[f32], partials: &mut [f32]) {
    for g in 0..params.chunk_partials as usize {
        let base = g * REDUCE_WG * REDUCE_PER_THREAD;
        let mut ab = [0.0f32; REDUCE_WG];
        let mut aa = [0.0f32; REDUCE_WG];
        for li in 0..REDUCE_WG {
            for k in 0..REDUCE_PER_THREAD {
                let i = base + k * REDUCE_WG + li;
                if i < params.n_dofs as usize {
                    ab[li] += a[i] * b[i];
                    aa[li] += a[i] * a[i];
                }
            }
        }
        let pg = params.partial_base as usize + g;
        partials[2 * pg] = tree(&mut ab);
        partials[2 * pg + 1] = tree(&mut aa);
    }
}
