//! Mirror of `shaders/shared/mg_galerkin_row.wgsl` (and `axis_weight` of
//! `shaders/shared/mg_galerkin_params.wgsl`): what the two Galerkin
//! kernels share, one (coarse node, stencil entry) per thread.

use crate::gpu::abi::{GalerkinParams, NO_NODE};

/// Trilinear weight of a fine node at offset `o` from coarse node 2I.
fn axis_weight(o: i64) -> f32 {
    match o {
        0 => 1.0,
        1 | -1 => 0.5,
        _ => 0.0,
    }
}

/// `weight` of `mg_galerkin_row.wgsl`.
pub(super) fn weight(o: [i64; 3]) -> f32 {
    axis_weight(o[0]) * axis_weight(o[1]) * axis_weight(o[2])
}

pub(super) fn add(a: [i64; 3], b: [i64; 3]) -> [i64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

/// `Entry` of `mg_galerkin_row.wgsl`: thread k's coarse node, its
/// coordinates, its entry d and the entry's offset D.
pub(super) struct Entry {
    pub(super) ca: usize,
    pub(super) ci: [i64; 3],
    pub(super) d: usize,
    pub(super) off: [i64; 3],
}

pub(super) fn entry_of(gp: &GalerkinParams, coarse_ids: &[u32], k: usize) -> Entry {
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

pub(super) fn fine_index(gp: &GalerkinParams, fine_map: &[u32], f: [i64; 3]) -> u32 {
    let size = [gp.fsx, gp.fsy, gp.fsz];
    if (0..3).any(|k| f[k] < 0 || f[k] >= size[k] as i64) {
        return NO_NODE;
    }
    let id = f[0] as usize + gp.fsx as usize * (f[1] as usize + gp.fsy as usize * f[2] as usize);
    fine_map[id - gp.fine_map_base as usize]
}

/// A global active index of the finer level as an index into its window.
pub(super) fn local(gp: &GalerkinParams, i: u32) -> usize {
    (i - gp.fine_win_base) as usize
}

/// `write_entry` of `mg_galerkin_row.wgsl`: block e.d of coarse node e.ca
/// and its neighbour (the coarse node at offset D when the block is not
/// zero).
pub(super) fn write_entry(
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

/// Per axis, lo..=hi clamped to `bounds`.
pub(super) fn range(lo: i64, hi: i64, bounds: (i64, i64)) -> std::ops::RangeInclusive<i64> {
    lo.max(bounds.0)..=hi.min(bounds.1)
}
