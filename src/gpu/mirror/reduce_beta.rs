//! Mirror of `shaders/reduce_beta.wgsl`: entry points `reduce_beta` and
//! `reduce_start`.

use super::workgroup::tree;
use crate::gpu::abi::{GpuParams, ALPHA, BETA, BREAKDOWN, REDUCE_WG, RHO, RHO_NEW, RR};

fn reduce_pairs(params: &GpuParams, partials: &[f32]) -> (f32, f32) {
    let mut rz = [0.0f32; REDUCE_WG];
    let mut rr = [0.0f32; REDUCE_WG];
    for li in 0..REDUCE_WG {
        let mut i = li;
        while i < params.n_partials as usize {
            rz[li] += partials[2 * i];
            rr[li] += partials[2 * i + 1];
            i += REDUCE_WG;
        }
    }
    (tree(&mut rz), tree(&mut rr))
}

/// `shaders/reduce_beta.wgsl`, entry point `reduce_beta`.
pub fn reduce_beta(params: &GpuParams, partials: &[f32], scalars: &mut [f32]) {
    let (rho_new, rr) = reduce_pairs(params, partials);
    scalars[RHO_NEW] = rho_new;
    scalars[RR] = rr;
    scalars[BETA] = if scalars[RHO] != 0.0 {
        rho_new / scalars[RHO]
    } else {
        0.0
    };
    scalars[RHO] = rho_new;
}

/// `shaders/reduce_beta.wgsl`, entry point `reduce_start`.
pub fn reduce_start(params: &GpuParams, partials: &[f32], scalars: &mut [f32]) {
    let (rho, rr) = reduce_pairs(params, partials);
    scalars[RHO_NEW] = rho;
    scalars[RHO] = rho;
    scalars[RR] = rr;
    scalars[BETA] = 0.0;
    scalars[ALPHA] = 0.0;
    scalars[BREAKDOWN] = 0.0;
}
