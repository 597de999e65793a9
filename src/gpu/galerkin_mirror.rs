//! CPU mirrors of the kernels that build the multigrid hierarchy on the
//! device (`shaders/mg_galerkin_*.wgsl`): the same names, inputs and loop
//! shapes, in f32, re-exported from [`super::mirror`]. Each is checked
//! against its kernel and against the host hierarchy of
//! [`crate::fem::multigrid`] in `tests/gpu_galerkin.rs`.
// Index loops are kept on purpose: they read like the shaders' loops.
#![allow(clippy::needless_range_loop)]

use super::galerkin::GalerkinParams;
use super::multigrid::NO_NODE;

/// Trilinear weight of a fine node at offset `o` from coarse node 2I.
fn axis_weight(o: i64) -> f32 {
    match o {
        0 => 1.0,
        1 | -1 => 0.5,
        _ => 0.0,
    }
}

fn coarse_coords(gp: &GalerkinParams, id: u32) -> [i64; 3] {
    [
        (id % gp.csx) as i64,
        ((id / gp.csx) % gp.csy) as i64,
        (id / (gp.csx * gp.csy)) as i64,
    ]
}

fn fine_index(gp: &GalerkinParams, fine_map: &[u32], f: [i64; 3]) -> u32 {
    let size = [gp.fsx, gp.fsy, gp.fsz];
    if (0..3).any(|k| f[k] < 0 || f[k] >= size[k] as i64) {
        return NO_NODE;
    }
    fine_map[f[0] as usize + gp.fsx as usize * (f[1] as usize + gp.fsy as usize * f[2] as usize)]
}

/// `scatter` of `mg_galerkin_row.wgsl`: w·blk into the entries of the
/// coarse parents of the fine node at offset `o` from 2I.
fn scatter(acc: &mut [f32; 243], o: [i64; 3], w: f32, blk: &[f32; 9]) {
    let parent = |o: i64, t: i64| -> (i64, f32) {
        if o % 2 == 0 {
            (o / 2, if t == 0 { 1.0 } else { 0.0 })
        } else {
            ((o - 1) / 2 + t, 0.5)
        }
    };
    for tz in 0..2 {
        let (oz, wz) = parent(o[2], tz);
        if wz == 0.0 {
            continue;
        }
        for ty in 0..2 {
            let (oy, wy) = parent(o[1], ty);
            if wy == 0.0 {
                continue;
            }
            for tx in 0..2 {
                let (ox, wx) = parent(o[0], tx);
                if wx == 0.0 {
                    continue;
                }
                let d = ((ox + 1) + 3 * (oy + 1) + 9 * (oz + 1)) as usize;
                let ww = w * wx * wy * wz;
                for k in 0..9 {
                    acc[9 * d + k] += ww * blk[k];
                }
            }
        }
    }
}

/// `write_row` of `mg_galerkin_row.wgsl`: the blocks of coarse node `ca`
/// and the neighbour of each non-zero one.
fn write_row(
    gp: &GalerkinParams,
    coarse_map: &[u32],
    ca: usize,
    ci: [i64; 3],
    acc: &[f32; 243],
    blocks: &mut [f32],
    nbrs: &mut [u32],
) {
    let size = [gp.csx, gp.csy, gp.csz];
    for d in 0..27 {
        let blk = &acc[9 * d..9 * d + 9];
        blocks[(27 * ca + d) * 9..(27 * ca + d) * 9 + 9].copy_from_slice(blk);
        let c = [
            ci[0] + (d % 3) as i64 - 1,
            ci[1] + ((d / 3) % 3) as i64 - 1,
            ci[2] + (d / 9) as i64 - 1,
        ];
        let inside = (0..3).all(|k| c[k] >= 0 && c[k] < size[k] as i64);
        nbrs[27 * ca + d] = if blk.iter().any(|&v| v != 0.0) && inside {
            coarse_map[c[0] as usize
                + gp.csx as usize * (c[1] as usize + gp.csy as usize * c[2] as usize)]
        } else {
            NO_NODE
        };
    }
}

/// `shaders/mg_galerkin_fine.wgsl`: the 27 blocks of each coarse node of
/// the first coarse level, Pᵀ A P from the fine voxels (`flags`: pattern |
/// fixed dofs << 8 per fine node; `phi`, 8 per node, read when
/// `gp.fill = 1`; `element`: 64 row-major 3×3 blocks).
#[allow(clippy::too_many_arguments)]
pub fn mg_galerkin_fine(
    gp: &GalerkinParams,
    coarse_ids: &[u32],
    coarse_map: &[u32],
    fine_map: &[u32],
    flags: &[u32],
    phi: &[f32],
    element: &[f32],
    blocks: &mut [f32],
    nbrs: &mut [u32],
) {
    for ca in 0..gp.n as usize {
        let ci = coarse_coords(gp, coarse_ids[ca]);
        let mut acc = [0.0f32; 243];
        for rz in -2..=1i64 {
            for ry in -2..=1i64 {
                for rx in -2..=1i64 {
                    let [vx, vy, vz] = [2 * ci[0] + rx, 2 * ci[1] + ry, 2 * ci[2] + rz];
                    let top = fine_index(gp, fine_map, [vx + 1, vy + 1, vz + 1]);
                    if vx < 0 || vy < 0 || vz < 0 || top == NO_NODE {
                        continue;
                    }
                    let top = top as usize;
                    if flags[top] & 1 == 0 {
                        continue;
                    }
                    let phi_e = if gp.fill == 1 { phi[8 * top] } else { 1.0 };
                    let bits =
                        |a: usize| [(a & 1) as i64, ((a >> 1) & 1) as i64, ((a >> 2) & 1) as i64];
                    let corner = |a: usize| {
                        let c = bits(a);
                        [vx + c[0], vy + c[1], vz + c[2]]
                    };
                    let mut wa = [0.0f32; 8];
                    let mut fixed = [0u32; 8];
                    for a in 0..8 {
                        let c = bits(a);
                        wa[a] = axis_weight(rx + c[0])
                            * axis_weight(ry + c[1])
                            * axis_weight(rz + c[2]);
                        fixed[a] = flags[fine_index(gp, fine_map, corner(a)) as usize] >> 8;
                    }
                    for b in 0..8 {
                        let mut t = [0.0f32; 9];
                        for a in 0..8 {
                            if wa[a] == 0.0 {
                                continue;
                            }
                            let e = (8 * a + b) * 9;
                            for r in 0..3 {
                                if fixed[a] & (1 << r) != 0 {
                                    continue;
                                }
                                for s in 0..3 {
                                    t[3 * r + s] += wa[a] * element[e + 3 * r + s];
                                }
                            }
                        }
                        for r in 0..3 {
                            for s in 0..3 {
                                if fixed[b] & (1 << s) != 0 {
                                    t[3 * r + s] = 0.0;
                                }
                            }
                        }
                        let c = bits(b);
                        scatter(&mut acc, [rx + c[0], ry + c[1], rz + c[2]], phi_e, &t);
                    }
                }
            }
        }
        for dz in -1..=1i64 {
            for dy in -1..=1i64 {
                for dx in -1..=1i64 {
                    let f = [2 * ci[0] + dx, 2 * ci[1] + dy, 2 * ci[2] + dz];
                    let i = fine_index(gp, fine_map, f);
                    if i == NO_NODE {
                        continue;
                    }
                    let fi = flags[i as usize] >> 8;
                    if fi == 0 {
                        continue;
                    }
                    let mut t = [0.0f32; 9];
                    for r in 0..3 {
                        if fi & (1 << r) != 0 {
                            t[4 * r] = 1.0;
                        }
                    }
                    let w = axis_weight(dx) * axis_weight(dy) * axis_weight(dz);
                    scatter(&mut acc, [dx, dy, dz], w, &t);
                }
            }
        }
        write_row(gp, coarse_map, ca, ci, &acc, blocks, nbrs);
    }
}

/// `shaders/mg_galerkin_stencil.wgsl`: the 27 blocks of each coarse node
/// of level l + 1 from the stored blocks and neighbours of level l.
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
    for ca in 0..gp.n as usize {
        let ci = coarse_coords(gp, coarse_ids[ca]);
        let mut acc = [0.0f32; 243];
        for dz in -1..=1i64 {
            for dy in -1..=1i64 {
                for dx in -1..=1i64 {
                    let f = [2 * ci[0] + dx, 2 * ci[1] + dy, 2 * ci[2] + dz];
                    let i = fine_index(gp, fine_map, f);
                    if i == NO_NODE {
                        continue;
                    }
                    let i = i as usize;
                    let wi = axis_weight(dx) * axis_weight(dy) * axis_weight(dz);
                    for e in 0..27 {
                        if fine_nbrs[27 * i + e] == NO_NODE {
                            continue;
                        }
                        let mut t = [0.0f32; 9];
                        t.copy_from_slice(&fine_blocks[(27 * i + e) * 9..(27 * i + e) * 9 + 9]);
                        let o = [
                            dx + (e % 3) as i64 - 1,
                            dy + ((e / 3) % 3) as i64 - 1,
                            dz + (e / 9) as i64 - 1,
                        ];
                        scatter(&mut acc, o, wi, &t);
                    }
                }
            }
        }
        write_row(gp, coarse_map, ca, ci, &acc, blocks, nbrs);
    }
}

/// `write_inverse` of `shaders/mg_galerkin_diag.wgsl`: the adjugate over
/// the determinant; the node is marked singular (the least such index in
/// `singular`) when the determinant is 0 or an entry is not finite.
fn write_inverse(a: usize, b: &[f32; 9], inv_diag: &mut [f32], singular: &mut u32) {
    let c00 = b[4] * b[8] - b[5] * b[7];
    let c01 = b[5] * b[6] - b[3] * b[8];
    let c02 = b[3] * b[7] - b[4] * b[6];
    let det = b[0] * c00 + b[1] * c01 + b[2] * c02;
    let inv = [
        c00,
        b[2] * b[7] - b[1] * b[8],
        b[1] * b[5] - b[2] * b[4],
        c01,
        b[0] * b[8] - b[2] * b[6],
        b[2] * b[3] - b[0] * b[5],
        c02,
        b[1] * b[6] - b[0] * b[7],
        b[0] * b[4] - b[1] * b[3],
    ];
    let mut ok = det != 0.0;
    for k in 0..9 {
        let v = inv[k] / det;
        ok = ok && v.is_finite();
        inv_diag[9 * a + k] = v;
    }
    if !ok {
        *singular = (*singular).min(a as u32);
    }
}

/// `fine_inverse_diagonal` of `shaders/mg_galerkin_diag.wgsl`.
pub fn mg_fine_inverse_diagonal(
    gp: &GalerkinParams,
    flags: &[u32],
    phi: &[f32],
    element: &[f32],
    inv_diag: &mut [f32],
    singular: &mut u32,
) {
    for a in 0..gp.n as usize {
        let p = flags[a] & 0xff;
        let fixed = flags[a] >> 8;
        let mut b = [0.0f32; 9];
        for c in 0..8 {
            if p & (1 << c) == 0 {
                continue;
            }
            let w = if gp.fill == 1 { phi[8 * a + c] } else { 1.0 };
            let e = (8 * (7 - c) + (7 - c)) * 9;
            for k in 0..9 {
                b[k] += w * element[e + k];
            }
        }
        for r in 0..3 {
            for s in 0..3 {
                if fixed & ((1 << r) | (1 << s)) != 0 {
                    b[3 * r + s] = if r == s { 1.0 } else { 0.0 };
                }
            }
        }
        write_inverse(a, &b, inv_diag, singular);
    }
}

/// `stencil_inverse_diagonal` of `shaders/mg_galerkin_diag.wgsl`.
pub fn mg_stencil_inverse_diagonal(
    gp: &GalerkinParams,
    level_blocks: &[f32],
    inv_diag: &mut [f32],
    singular: &mut u32,
) {
    for a in 0..gp.n as usize {
        let mut b = [0.0f32; 9];
        b.copy_from_slice(&level_blocks[(27 * a + 13) * 9..(27 * a + 13) * 9 + 9]);
        write_inverse(a, &b, inv_diag, singular);
    }
}
