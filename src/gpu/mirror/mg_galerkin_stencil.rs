//! Mirror of `shaders/mg_galerkin_stencil.wgsl`.

use super::mg_galerkin_row::{add, entry_of, fine_index, local, range, weight, write_entry};
use crate::gpu::abi::{GalerkinParams, NO_NODE};

/// `shaders/mg_galerkin_stencil.wgsl`: the blocks of level l + 1 from the
/// stored blocks and neighbours of level l, one (coarse node, entry) per
/// thread.
#[allow(clippy::too_many_arguments)]
pub fn mg_galerkin_stencil(
    gp: &GalerkinParams,
    coarse_ids: &[u32],
    coarse_map: &[u32],
    fine_map: &[u32],
    fine_blocks: &[f32],
    fine_nbrs: &[u32],
    blocks: &mut [f32],
    nbrs: &mut [u32],
) {
    for k in 0..27 * gp.n as usize {
        let en = entry_of(gp, coarse_ids, k);
        let two_d = en.off.map(|o| 2 * o);
        let mut acc = [0.0f32; 9];
        for az in -1..=1i64 {
            for ay in -1..=1i64 {
                for ax in -1..=1i64 {
                    let a = [ax, ay, az];
                    let i = fine_index(gp, fine_map, add(en.ci.map(|c| 2 * c), a));
                    if i == NO_NODE {
                        continue;
                    }
                    let i = local(gp, i);
                    let wa = weight(a);
                    for ez in range(two_d[2] - 1 - az, two_d[2] + 1 - az, (-1, 1)) {
                        for ey in range(two_d[1] - 1 - ay, two_d[1] + 1 - ay, (-1, 1)) {
                            for ex in range(two_d[0] - 1 - ax, two_d[0] + 1 - ax, (-1, 1)) {
                                let e = ((ex + 1) + 3 * (ey + 1) + 9 * (ez + 1)) as usize;
                                if fine_nbrs[27 * i + e] == NO_NODE {
                                    continue;
                                }
                                let o =
                                    [ax + ex - two_d[0], ay + ey - two_d[1], az + ez - two_d[2]];
                                let w = wa * weight(o);
                                let b = (27 * i + e) * 9;
                                for (acc, v) in acc.iter_mut().zip(&fine_blocks[b..b + 9]) {
                                    *acc += w * v;
                                }
                            }
                        }
                    }
                }
            }
        }
        write_entry(gp, coarse_map, &en, &acc, blocks, nbrs);
    }
}
