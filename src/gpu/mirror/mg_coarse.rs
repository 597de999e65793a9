//! Mirror of `shaders/mg_coarse.wgsl`.

use crate::gpu::abi::MgParams;

/// `shaders/mg_coarse.wgsl`: x = A⁻¹ b with the dense inverse (`prm.n`
/// rows of `prm.cols` columns, from row `prm.node_base` of x).
pub fn mg_coarse_solve(prm: &MgParams, inverse: &[f32], b: &[f32], x: &mut [f32]) {
    let cols = prm.cols as usize;
    for row in 0..prm.n as usize {
        let mut acc = 0.0f32;
        for j in 0..cols {
            acc += inverse[row * cols + j] * b[j];
        }
        x[prm.node_base as usize + row] = acc;
    }
}
