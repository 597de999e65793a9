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

/// `weight` of `mg_galerkin_row.wgsl`.
fn weight(o: [i64; 3]) -> f32 {
    axis_weight(o[0]) * axis_weight(o[1]) * axis_weight(o[2])
}

fn add(a: [i64; 3], b: [i64; 3]) -> [i64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

/// `Entry` of `mg_galerkin_row.wgsl`: thread k's coarse node, its
/// coordinates, its entry d and the entry's offset D.
struct Entry {
    ca: usize,
    ci: [i64; 3],
    d: usize,
    off: [i64; 3],
}

fn entry_of(gp: &GalerkinParams, coarse_ids: &[u32], k: usize) -> Entry {
    let (d, ca) = (k / gp.n as usize, k % gp.n as usize);
    let id = coarse_ids[ca];
    Entry {
        ca,
        ci: [
            (id % gp.csx) as i64,
            ((id / gp.csx) % gp.csy) as i64,
            (id / (gp.csx * gp.csy)) as i64,
        ],
        d,
        off: [
            (d % 3) as i64 - 1,
            ((d / 3) % 3) as i64 - 1,
            (d / 9) as i64 - 1,
        ],
    }
}

fn fine_index(gp: &GalerkinParams, fine_map: &[u32], f: [i64; 3]) -> u32 {
    let size = [gp.fsx, gp.fsy, gp.fsz];
    if (0..3).any(|k| f[k] < 0 || f[k] >= size[k] as i64) {
        return NO_NODE;
    }
    let id = f[0] as usize + gp.fsx as usize * (f[1] as usize + gp.fsy as usize * f[2] as usize);
    fine_map[id - gp.fine_map_base as usize]
}

/// A global active index of the finer level as an index into its window.
fn local(gp: &GalerkinParams, i: u32) -> usize {
    (i - gp.fine_win_base) as usize
}

/// `write_entry` of `mg_galerkin_row.wgsl`: block e.d of coarse node e.ca
/// and its neighbour (the coarse node at offset D when the block is not
/// zero).
fn write_entry(
    gp: &GalerkinParams,
    coarse_map: &[u32],
    e: &Entry,
    t: &[f32; 9],
    blocks: &mut [f32],
    nbrs: &mut [u32],
) {
    let b = (27 * e.ca + e.d) * 9;
    blocks[b..b + 9].copy_from_slice(t);
    let c = add(e.ci, e.off);
    let size = [gp.csx, gp.csy, gp.csz];
    let inside = (0..3).all(|k| c[k] >= 0 && c[k] < size[k] as i64);
    nbrs[27 * e.ca + e.d] = if t.iter().any(|&v| v != 0.0) && inside {
        let id =
            c[0] as usize + gp.csx as usize * (c[1] as usize + gp.csy as usize * c[2] as usize);
        coarse_map[id - gp.coarse_map_base as usize]
    } else {
        NO_NODE
    };
}

fn corner(a: usize) -> [i64; 3] {
    [(a & 1) as i64, ((a >> 1) & 1) as i64, ((a >> 2) & 1) as i64]
}

/// Per axis, lo..=hi clamped to `bounds`.
fn range(lo: i64, hi: i64, bounds: (i64, i64)) -> std::ops::RangeInclusive<i64> {
    lo.max(bounds.0)..=hi.min(bounds.1)
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

/// `write_inverse` of `shaders/mg_galerkin_diag.wgsl`: the adjugate over
/// the determinant; the node is marked singular (the least such index in
/// `singular`) when the determinant is 0 or an entry is not finite.
fn write_inverse(
    gp: &GalerkinParams,
    a: usize,
    b: &[f32; 9],
    inv_diag: &mut [f32],
    singular: &mut u32,
) {
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
        *singular = (*singular).min(gp.node_base + a as u32);
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
        write_inverse(gp, a, &b, inv_diag, singular);
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
        write_inverse(gp, a, &b, inv_diag, singular);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inversion_gives_the_inverse_and_marks_the_least_singular_block() {
        // [[2, 1, 0], [1, 2, 0], [0, 0, 4]]⁻¹ = [[2, −1, 0], [−1, 2, 0], [0, 0, 3/4]] / 3.
        let spd = [2.0, 1.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 4.0];
        let mut inv = vec![0.0f32; 27];
        let mut singular = NO_NODE;
        let gp = GalerkinParams {
            n: 3,
            ..bytemuck::Zeroable::zeroed()
        };
        write_inverse(&gp, 2, &spd, &mut inv, &mut singular);
        let want = [2.0, -1.0, 0.0, -1.0, 2.0, 0.0, 0.0, 0.0, 0.75].map(|v: f32| v / 3.0);
        for (g, w) in inv[18..].iter().zip(&want) {
            assert!((g - w).abs() < 1e-7, "{g} {w}");
        }
        assert_eq!(singular, NO_NODE);
        // A dof without stiffness (a zero row) is singular; the least node is kept.
        let zero_row = [0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 4.0];
        write_inverse(&gp, 1, &zero_row, &mut inv, &mut singular);
        write_inverse(&gp, 0, &zero_row, &mut inv, &mut singular);
        write_inverse(&gp, 2, &zero_row, &mut inv, &mut singular);
        assert_eq!(singular, 0);
    }
}
