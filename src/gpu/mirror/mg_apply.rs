//! Mirror of `shaders/mg_apply.wgsl`.

use crate::gpu::abi::{MgParams, NO_NODE};

/// `shaders/mg_apply.wgsl`: y = A_l x with 27 blocks per node (`blocks`,
/// `nbrs` and `y` the dispatch's nodes, `x` from node `prm.win_base` on).
pub fn mg_apply(prm: &MgParams, blocks: &[f32], nbrs: &[u32], x: &[f32], y: &mut [f32]) {
    for a in 0..prm.n as usize {
        let mut acc = [0.0f32; 3];
        for d in 0..27 {
            let m = nbrs[27 * a + d];
            if m == NO_NODE {
                continue;
            }
            let m = (m - prm.win_base) as usize;
            let b = (27 * a + d) * 9;
            for (r, v) in acc.iter_mut().enumerate() {
                *v += blocks[b + 3 * r] * x[3 * m]
                    + blocks[b + 3 * r + 1] * x[3 * m + 1]
                    + blocks[b + 3 * r + 2] * x[3 * m + 2];
            }
        }
        y[3 * a..3 * a + 3].copy_from_slice(&acc);
    }
}
