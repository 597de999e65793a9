//! The workgroup tree reduction the reduction kernels write inline
//! (`shaders/dot_partial.wgsl`, `update_xr.wgsl`, `reduce_*.wgsl`): a
//! "workgroup" here is an array of its invocations' sums.

use crate::gpu::abi::REDUCE_WG;

/// The workgroup tree reduction of the kernels: halves until one value is left.
pub(super) fn tree(sums: &mut [f32; REDUCE_WG]) -> f32 {
    let mut w = REDUCE_WG / 2;
    while w > 0 {
        for li in 0..w {
            sums[li] += sums[li + w];
        }
        w >>= 1;
    }
    sums[0]
}
