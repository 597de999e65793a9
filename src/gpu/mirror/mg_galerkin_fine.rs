//! Mirror of `shaders/mg_galerkin_fine.wgsl`.

use super::mg_galerkin_row::{add, entry_of, fine_index, local, range, weight, write_entry};
use crate::gpu::abi::{GalerkinParams, NO_NODE};

fn corner(a: usize) -> [i64; 3] {
    [(a & 1) as i64, ((a >> 1) & 1) as i64, ((a >> 2) & 1) as i64]
}

/// `shaders/mg_galerkin_fine.wgsl`: the blocks of the first coarse level,
/// Pᵀ A P from the fine voxels, one (coarse node, entry) per thread
/// (`flags`: pattern | fixed dofs << 8 per fine node; `phi`, 8 per node,
/// read when `gp.fill = 1`; `element`: 64 row-major 3×3 blocks;
/// `weighted`: [`crate::gpu::galerkin::weighted_element`]).
#[allow(clippy::too_many_arguments)]
pub fn mg_galerkin_fine(
    gp: &GalerkinParams,
    coarse_ids: &[u32],
    coarse_map: &[u32],
    fine_map: &[u32],
    flags: &[u32],
    phi: &[f32],
    element: &[f32],
    weighted: &[f32],
    blocks: &mut [f32],
    nbrs: &mut [u32],
) {
    for k in 0..27 * gp.n as usize {
        let en = entry_of(gp, coarse_ids, k);
        let two_d = en.off.map(|o| 2 * o);
        let mut acc = [0.0f32; 9];
        for rz in range(two_d[2] - 2, two_d[2] + 1, (-2, 1)) {
            for ry in range(two_d[1] - 2, two_d[1] + 1, (-2, 1)) {
                for rx in range(two_d[0] - 2, two_d[0] + 1, (-2, 1)) {
                    let r = [rx, ry, rz];
                    let v = add(en.ci.map(|c| 2 * c), r);
                    if v.iter().any(|&c| c < 0) {
                        continue;
                    }
                    let top = fine_index(gp, fine_map, add(v, [1, 1, 1]));
                    if top == NO_NODE || flags[local(gp, top)] & 1 == 0 {
                        continue;
                    }
                    let top = local(gp, top);
                    let phi_e = if gp.fill == 1 { phi[8 * top] } else { 1.0 };
                    let fixed = |a: usize| {
                        flags[local(gp, fine_index(gp, fine_map, add(v, corner(a))))] >> 8
                    };
                    let any_fixed = (0..8).fold(0, |f, a| f | fixed(a));
                    let slot = ((rx + 2) + 4 * (ry + 2) + 16 * (rz + 2)) as usize;
                    for b in 0..8 {
                        let rb = add(r, corner(b));
                        let wb = weight([rb[0] - two_d[0], rb[1] - two_d[1], rb[2] - two_d[2]]);
                        if wb == 0.0 {
                            continue;
                        }
                        let mut t = [0.0f32; 9];
                        if any_fixed == 0 {
                            let q = (8 * slot + b) * 9;
                            t.copy_from_slice(&weighted[q..q + 9]);
                        } else {
                            for a in 0..8 {
                                let wa = weight(add(r, corner(a)));
                                if wa == 0.0 {
                                    continue;
                                }
                                let fa = fixed(a);
                                let e = (8 * a + b) * 9;
                                for row in 0..3 {
                                    let keep = if fa & (1 << row) != 0 { 0.0 } else { 1.0 };
                                    for c in 0..3 {
                                        t[3 * row + c] += (wa * keep) * element[e + 3 * row + c];
                                    }
                                }
                            }
                            let fb = fixed(b);
                            for row in 0..3 {
                                for c in 0..3 {
                                    if fb & (1 << c) != 0 {
                                        t[3 * row + c] *= 0.0;
                                    }
                                }
                            }
                        }
                        let w = phi_e * wb;
                        for (acc, t) in acc.iter_mut().zip(&t) {
                            *acc += w * t;
                        }
                    }
                }
            }
        }
        for oz in range(two_d[2] - 1, two_d[2] + 1, (-1, 1)) {
            for oy in range(two_d[1] - 1, two_d[1] + 1, (-1, 1)) {
                for ox in range(two_d[0] - 1, two_d[0] + 1, (-1, 1)) {
                    let o = [ox, oy, oz];
                    let i = fine_index(gp, fine_map, add(en.ci.map(|c| 2 * c), o));
                    if i == NO_NODE {
                        continue;
                    }
                    let fi = flags[local(gp, i)] >> 8;
                    let w = weight(o) * weight([ox - two_d[0], oy - two_d[1], oz - two_d[2]]);
                    for row in 0..3 {
                        if fi & (1 << row) != 0 {
                            acc[4 * row] += w;
                        }
                    }
                }
            }
        }
        write_entry(gp, coarse_map, &en, &acc, blocks, nbrs);
    }
}
