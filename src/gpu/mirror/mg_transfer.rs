//! Mirror of `shaders/mg_transfer.wgsl`: entry points `restrict_residual`
//! and `prolong_add`.

use crate::gpu::abi::{MgParams, NO_NODE};

fn grid_coords(id: u32, sx: u32, sy: u32) -> [i64; 3] {
    [
        (id % sx) as i64,
        ((id / sx) % sy) as i64,
        (id / (sx * sy)) as i64,
    ]
}

/// `shaders/mg_transfer.wgsl`, entry point `restrict_residual`: dst = Pᵀ src
/// (`ids`: coarse grid ids, `map`: the fine node map from grid id
/// `prm.map_base` on, `src` from node `prm.win_base` on).
pub fn mg_restrict(prm: &MgParams, ids: &[u32], map: &[u32], src: &[f32], dst: &mut [f32]) {
    let fs = [prm.fsx as i64, prm.fsy as i64, prm.fsz as i64];
    for a in 0..prm.n as usize {
        let c = grid_coords(ids[a], prm.csx, prm.csy);
        let mut acc = [0.0f32; 3];
        for dz in -1..=1i64 {
            for dy in -1..=1i64 {
                for dx in -1..=1i64 {
                    let mut f = [2 * c[0] + dx, 2 * c[1] + dy, 2 * c[2] + dz];
                    let mut w = 1.0f32;
                    if prm.periodic == 1 {
                        let cs = [prm.csx as i64, prm.csy as i64, prm.csz as i64];
                        f = [0, 1, 2].map(|k| f[k].rem_euclid(fs[k]));
                        w = (0..3).map(|k| parent_weight(f[k], c[k], cs[k])).product();
                        if w == 0.0 {
                            continue;
                        }
                    } else {
                        if (0..3).any(|k| f[k] < 0 || f[k] >= fs[k]) {
                            continue;
                        }
                        for o in [dx, dy, dz] {
                            if o != 0 {
                                w *= 0.5;
                            }
                        }
                    }
                    let id = (f[0] + fs[0] * (f[1] + fs[1] * f[2])) as usize;
                    let i = map[id - prm.map_base as usize];
                    if i == NO_NODE {
                        continue;
                    }
                    let i = (i - prm.win_base) as usize;
                    for k in 0..3 {
                        acc[k] += w * src[3 * i + k];
                    }
                }
            }
        }
        dst[3 * a..3 * a + 3].copy_from_slice(&acc);
    }
}

/// `parent_weight` of `shaders/mg_transfer.wgsl`: the weight of coarse
/// coordinate `c` among the parents of wrapped fine coordinate `f`.
fn parent_weight(f: i64, c: i64, nc: i64) -> f32 {
    if f % 2 == 0 {
        return if f / 2 == c { 1.0 } else { 0.0 };
    }
    let mut w = 0.0;
    if (f - 1) / 2 == c {
        w += 0.5;
    }
    if ((f + 1) / 2).rem_euclid(nc) == c {
        w += 0.5;
    }
    w
}

/// `shaders/mg_transfer.wgsl`, entry point `prolong_add`: dst += P src
/// (`ids`: fine grid ids, `map`: the coarse node map from grid id
/// `prm.map_base` on, `src` from node `prm.win_base` on).
pub fn mg_prolong(prm: &MgParams, ids: &[u32], map: &[u32], src: &[f32], dst: &mut [f32]) {
    let (csx, csy) = (prm.csx as i64, prm.csy as i64);
    for i in 0..prm.n as usize {
        let f = grid_coords(ids[i], prm.fsx, prm.fsy);
        let lo = f.map(|v| v / 2);
        let two = f.map(|v| v % 2);
        let mut acc = [0.0f32; 3];
        for ix in 0..=two[0] {
            for iy in 0..=two[1] {
                for iz in 0..=two[2] {
                    let mut c = [lo[0] + ix, lo[1] + iy, lo[2] + iz];
                    if prm.periodic == 1 {
                        let cs = [csx, csy, prm.csz as i64];
                        c = [0, 1, 2].map(|k| c[k].rem_euclid(cs[k]));
                    }
                    let id = (c[0] + csx * (c[1] + csy * c[2])) as usize;
                    let j = map[id - prm.map_base as usize];
                    if j == NO_NODE {
                        continue;
                    }
                    let j = (j - prm.win_base) as usize;
                    let mut w = 1.0f32;
                    for t in two {
                        if t == 1 {
                            w *= 0.5;
                        }
                    }
                    for k in 0..3 {
                        acc[k] += w * src[3 * j + k];
                    }
                }
            }
        }
        for k in 0..3 {
            dst[3 * i + k] += acc[k];
        }
    }
}
