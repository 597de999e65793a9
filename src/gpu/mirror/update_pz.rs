//! Mirror of `shaders/update_pz.wgsl`.

use crate::gpu::abi::{GpuParams, BETA};

/// `shaders/update_pz.wgsl`.
pub fn update_pz(params: &GpuParams, scalars: &[f32], z: &[f32], p: &mut [f32]) {
    for i in 0..params.n_dofs as usize {
        p[i] = z[i] + scalars[BETA] * p[i];
    }
}
