//! Mirror of `shaders/update_p.wgsl`.

use crate::gpu::abi::{GpuParams, BETA};

/// `shaders/update_p.wgsl`.
pub fn update_p(params: &GpuParams, scalars: &[f32], r: &[f32], inv_diag: &[f32], p: &mut [f32]) {
    for i in 0..params.n_dofs as usize {
        p[i] = inv_diag[i] * r[i] + scalars[BETA] * p[i];
    }
}
