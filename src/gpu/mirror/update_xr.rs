//! Mirror of `shaders/update_xr.wgsl`.

use super::workgroup::tree;
use crate::gpu::abi::{GpuParams, ALPHA, REDUCE_PER_THREAD, REDUCE_WG};

/// `shaders/update_xr.wgsl`: the vectors are the chunk's, `partials` the whole.
#[allow(clippy::too_many_arguments)]
pub fn update_xr(
    params: &GpuParams,
    scalars: &[f32],
    p: &[f32],
    q: &[f32],
    inv_diag: &[f32],
    x: &mut [f32],
    r: &mut [f32],
    partials: &mut [f32],
) {
    let alpha = scalars[ALPHA];
    for g in 0..params.chunk_partials as usize {
        let base = g * REDUCE_WG * REDUCE_PER_THREAD;
        let mut rz_sums = [0.0f32; REDUCE_WG];
        let mut rr_sums = [0.0f32; REDUCE_WG];
        for li in 0..REDUCE_WG {
            for k in 0..REDUCE_PER_THREAD {
                let i = base + k * REDUCE_WG + li;
                if i < params.n_dofs as usize {
                    x[i] += alpha * p[i];
                    let ri = r[i] - alpha * q[i];
                    r[i] = ri;
                    rz_sums[li] += ri * ri * inv_diag[i];
                    rr_sums[li] += ri * ri;
                }
            }
        }
        let pg = params.partial_base as usize + g;
        partials[2 * pg] = tree(&mut rz_sums);
        partials[2 * pg + 1] = tree(&mut rr_sums);
    }
}
