//! CPU mirrors of the WGSL kernels: the same names, inputs and loop shapes
//! as `shaders/*.wgsl`, in f32, so each kernel can be checked against its
//! mirror on random input (`tests/gpu.rs`). A "workgroup" here is a plain
//! loop over its invocations; tree reductions add in the same order.
// Index loops are kept on purpose: they read like the shaders' loops.
#![allow(clippy::needless_range_loop)]

use super::multigrid::{MgParams, NO_NODE};
use super::GpuParams;

/// Scalar slots, as in `shaders/shared/params.wgsl` (`gpu::wgsl_checks`
/// compares every constant here with its WGSL twin).
pub const RHO: usize = 0;
pub const PQ: usize = 1;
pub const ALPHA: usize = 2;
pub const BETA: usize = 3;
pub const RR: usize = 4;
pub const RHO_NEW: usize = 5;
pub const BREAKDOWN: usize = 6;
/// Number of scalar slots.
pub const SCALARS: usize = 8;

/// Threads of a reduction workgroup and elements per thread, as in
/// `shaders/shared/params.wgsl`.
pub const REDUCE_WG: usize = 256;
pub const REDUCE_PER_THREAD: usize = 4;

/// The off-centre neighbours set in a node's 27-bit stencil mask `bits`
/// (bit d = 9·(dz+1) + 3·(dy+1) + (dx+1); the centre, bit 13, is left
/// out), lowest d first, each as (d, [dx, dy, dz]): the order `apply_k`
/// visits them in.
pub(crate) fn stencil_neighbours(bits: u32) -> impl Iterator<Item = (usize, [i64; 3])> {
    let mut bits = bits & !(1 << 13);
    std::iter::from_fn(move || {
        if bits == 0 {
            return None;
        }
        let d = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        Some((
            d,
            [
                (d % 3) as i64 - 1,
                ((d / 3) % 3) as i64 - 1,
                (d / 9) as i64 - 1,
            ],
        ))
    })
}

/// Grid offset (each −1, 0 or 1), from a node at corner `c` of a voxel, of
/// the node at the voxel's corner `b`; `None` when that is the node itself
/// (`c` and `b` opposite). The sub-voxel-fill rows of `apply_k` and of the
/// reliable-update residual walk the 8 voxels' corners with it.
pub(crate) fn corner_offset(c: usize, b: usize) -> Option<[i64; 3]> {
    let o = [0, 1, 2].map(|a| ((c >> a) & 1) + ((b >> a) & 1));
    (o != [1, 1, 1]).then(|| o.map(|v| v as i64 - 1))
}

/// `shaders/apply_k.wgsl`: (A x)_n = Σ_d S_d (x̃_m − x̃_n) over the
/// off-centre stencil blocks (x̃: x with fixed dofs zeroed), x_n on fixed dofs.
///
/// With `params.fill = 1` (sub-voxel fill) the row is summed element by
/// element, Σ_c φ_c Σ_b Ke[7 − c, b] (x̃_m − x̃_n), from `fill`'s corner
/// fractions and element blocks.
///
/// The slices are the bindings of one chunk: `nodes`, `y` and `fill.phi`
/// start at `params.node_base`, `flags` and `x` at `params.win_base`,
/// `node_map` at `params.map_base` (all 0 when the mesh is one chunk).
#[allow(clippy::too_many_arguments)]
pub fn apply_k(
    params: &GpuParams,
    nodes: &[u32],
    flags: &[u32],
    node_map: &[u32],
    stencil: &[f32],
    neighbours: &[u32],
    fill: &FillBindings,
    x: &[f32],
    y: &mut [f32],
) {
    let sx = params.sx as i64;
    let sxy = (params.sx * params.sy) as i64;
    let (node_base, win_base) = (params.node_base as usize, params.win_base as usize);
    for k in 0..params.n_nodes as usize {
        // Index of the node in the window bindings.
        let n = node_base + k - win_base;
        let id = nodes[k] as i64;
        let f = flags[n];
        let p = (f & 0xff) as usize;
        let fixed = f >> 8;
        let mut un = [x[3 * n], x[3 * n + 1], x[3 * n + 2]];
        for (c, uc) in un.iter_mut().enumerate() {
            if fixed & (1 << c) != 0 {
                *uc = 0.0;
            }
        }
        let mut acc = [0.0f32; 3];
        // x̃_m − x̃_n at window index m.
        let difference = |m: usize| {
            let fm = flags[m] >> 8;
            let mut u = [x[3 * m], x[3 * m + 1], x[3 * m + 2]];
            for (c, uc) in u.iter_mut().enumerate() {
                if fm & (1 << c) != 0 {
                    *uc = 0.0;
                }
                *uc -= un[c];
            }
            u
        };
        let window =
            |off: i64| node_map[(id + off) as usize - params.map_base as usize] as usize - win_base;
        if params.fill != 0 {
            for c in 0..8 {
                if p & (1 << c) == 0 {
                    continue;
                }
                let w = fill.phi[8 * k + c];
                let a = 7 - c;
                for b in 0..8 {
                    let Some([ox, oy, oz]) = corner_offset(c, b) else {
                        continue;
                    };
                    let u = difference(window(ox + sx * oy + sxy * oz));
                    let e = (8 * a + b) * 9;
                    let el = &fill.element[e..e + 9];
                    for (r, ar) in acc.iter_mut().enumerate() {
                        let t = el[3 * r] * u[0] + el[3 * r + 1] * u[1] + el[3 * r + 2] * u[2];
                        *ar += w * t;
                    }
                }
            }
        }
        let bits = if params.fill != 0 { 0 } else { neighbours[p] };
        for (d, [dx, dy, dz]) in stencil_neighbours(bits) {
            let u = difference(window(dx + sx * dy + sxy * dz));
            let b = (p * 27 + d) * 9;
            for (r, a) in acc.iter_mut().enumerate() {
                *a += stencil[b + 3 * r] * u[0]
                    + stencil[b + 3 * r + 1] * u[1]
                    + stencil[b + 3 * r + 2] * u[2];
            }
        }
        for (c, a) in acc.iter_mut().enumerate() {
            if fixed & (1 << c) != 0 {
                *a = x[3 * n + c];
            }
        }
        y[3 * k..3 * k + 3].copy_from_slice(&acc);
    }
}

/// The sub-voxel fill bindings of `apply_k` and `jacobi_diag`: the chunk's
/// corner fractions (8 a node; unused when `params.fill` is 0) and the 64
/// element blocks (`[8a + b][9]`).
pub struct FillBindings<'a> {
    pub phi: &'a [f32],
    pub element: &'a [f32],
}

/// `shaders/jacobi_diag.wgsl`: `flags`, `fill.phi` and `inv_diag` are the
/// chunk's.
pub fn jacobi_diag(
    params: &GpuParams,
    flags: &[u32],
    stencil: &[f32],
    fill: &FillBindings,
    inv_diag: &mut [f32],
) {
    for n in 0..params.n_nodes as usize {
        let f = flags[n];
        let p = (f & 0xff) as usize;
        let centre = (p * 27 + 13) * 9;
        for c in 0..3 {
            inv_diag[3 * n + c] = if (f >> 8) & (1 << c) == 0 {
                let s = if params.fill == 0 {
                    stencil[centre + 4 * c]
                } else {
                    (0..8).filter(|q| p & (1 << q) != 0).fold(0.0f32, |s, q| {
                        s + fill.phi[8 * n + q] * fill.element[9 * (7 - q) * 9 + 4 * c]
                    })
                };
                1.0 / s
            } else {
                1.0
            };
        }
    }
}

/// The workgroup tree reduction of the kernels: halves until one value is left.
fn tree(sums: &mut [f32; REDUCE_WG]) -> f32 {
    let mut w = REDUCE_WG / 2;
    while w > 0 {
        for li in 0..w {
            sums[li] += sums[li + w];
        }
        w >>= 1;
    }
    sums[0]
}

/// `shaders/dot_partial.wgsl`: `a` and `b` are the chunk's, `partials` the whole.
pub fn dot_partial(params: &GpuParams, a: &[f32], b: &[f32], partials: &mut [f32]) {
    for g in 0..params.chunk_partials as usize {
        let base = g * REDUCE_WG * REDUCE_PER_THREAD;
        let mut sums = [0.0f32; REDUCE_WG];
        for (li, s) in sums.iter_mut().enumerate() {
            for k in 0..REDUCE_PER_THREAD {
                let i = base + k * REDUCE_WG + li;
                if i < params.n_dofs as usize {
                    *s += a[i] * b[i];
                }
            }
        }
        partials[params.partial_base as usize + g] = tree(&mut sums);
    }
}

/// `shaders/reduce_alpha.wgsl`.
pub fn reduce_alpha(params: &GpuParams, partials: &[f32], scalars: &mut [f32]) {
    let mut sums = [0.0f32; REDUCE_WG];
    for (li, s) in sums.iter_mut().enumerate() {
        let mut i = li;
        while i < params.n_partials as usize {
            *s += partials[i];
            i += REDUCE_WG;
        }
    }
    let pq = tree(&mut sums);
    scalars[PQ] = pq;
    if pq > 0.0 && scalars[BREAKDOWN] == 0.0 {
        scalars[ALPHA] = scalars[RHO] / pq;
    } else {
        scalars[ALPHA] = 0.0;
        scalars[BREAKDOWN] = 1.0;
    }
}

/// `shaders/update_xr.wgsl`: the vectors are the chunk's, `partials` the whole.
#[allow(clippy::too_many_arguments)]
pub fn update_xr(
    params: &GpuParams,
    scalars: &[f32],
    p: &[f32],
    q: &[f32],
    inv_diag: &[f32],
    x: &mut [f32],
    r: &mut [f32],
    partials: &mut [f32],
) {
    let alpha = scalars[ALPHA];
    for g in 0..params.chunk_partials as usize {
        let base = g * REDUCE_WG * REDUCE_PER_THREAD;
        let mut rz_sums = [0.0f32; REDUCE_WG];
        let mut rr_sums = [0.0f32; REDUCE_WG];
        for li in 0..REDUCE_WG {
            for k in 0..REDUCE_PER_THREAD {
                let i = base + k * REDUCE_WG + li;
                if i < params.n_dofs as usize {
                    x[i] += alpha * p[i];
                    let ri = r[i] - alpha * q[i];
                    r[i] = ri;
                    rz_sums[li] += ri * ri * inv_diag[i];
                    rr_sums[li] += ri * ri;
                }
            }
        }
        let pg = params.partial_base as usize + g;
        partials[2 * pg] = tree(&mut rz_sums);
        partials[2 * pg + 1] = tree(&mut rr_sums);
    }
}

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

/// `shaders/update_p.wgsl`.
pub fn update_p(params: &GpuParams, scalars: &[f32], r: &[f32], inv_diag: &[f32], p: &mut [f32]) {
    for i in 0..params.n_dofs as usize {
        p[i] = inv_diag[i] * r[i] + scalars[BETA] * p[i];
    }
}

/// `shaders/dot_partial.wgsl`, entry point `dot_pair`: partial sums of a·b
/// and a·a, in pairs like `update_xr`'s.
pub fn dot_pair(params: &GpuParams, a: &[f32], b: &[f32], partials: &mut [f32]) {
    for g in 0..params.chunk_partials as usize {
        let base = g * REDUCE_WG * REDUCE_PER_THREAD;
        let mut ab = [0.0f32; REDUCE_WG];
        let mut aa = [0.0f32; REDUCE_WG];
        for li in 0..REDUCE_WG {
            for k in 0..REDUCE_PER_THREAD {
                let i = base + k * REDUCE_WG + li;
                if i < params.n_dofs as usize {
                    ab[li] += a[i] * b[i];
                    aa[li] += a[i] * a[i];
                }
            }
        }
        let pg = params.partial_base as usize + g;
        partials[2 * pg] = tree(&mut ab);
        partials[2 * pg + 1] = tree(&mut aa);
    }
}

/// `shaders/update_pz.wgsl`.
pub fn update_pz(params: &GpuParams, scalars: &[f32], z: &[f32], p: &mut [f32]) {
    for i in 0..params.n_dofs as usize {
        p[i] = z[i] + scalars[BETA] * p[i];
    }
}

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

/// `shaders/mg_smooth.wgsl`, entry point `chebyshev`.
#[allow(clippy::too_many_arguments)]
pub fn mg_chebyshev(
    prm: &MgParams,
    b: &[f32],
    q: &[f32],
    inv_diag: &[f32],
    r: &mut [f32],
    d: &mut [f32],
    x: &mut [f32],
) {
    for a in 0..prm.n as usize {
        let mut ra = [0.0f32; 3];
        for c in 0..3 {
            let i = 3 * a + c;
            let v = match prm.mode {
                0 => b[i],
                1 => b[i] - q[i],
                _ => r[i] - q[i],
            };
            r[i] = v;
            ra[c] = v;
        }
        let k = 9 * a;
        for c in 0..3 {
            let i = 3 * a + c;
            let z = inv_diag[k + 3 * c] * ra[0]
                + inv_diag[k + 3 * c + 1] * ra[1]
                + inv_diag[k + 3 * c + 2] * ra[2];
            let mut dn = prm.c2 * z;
            if prm.mode == 2 {
                dn += prm.c1 * d[i];
            }
            d[i] = dn;
            x[i] = if prm.mode == 0 { dn } else { x[i] + dn };
        }
    }
}

/// `shaders/mg_smooth.wgsl`, entry point `residual`: r = b − q.
pub fn mg_residual(prm: &MgParams, b: &[f32], q: &[f32], r: &mut [f32]) {
    for i in 0..3 * prm.n as usize {
        r[i] = b[i] - q[i];
    }
}

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

/// The mirrors of the hierarchy-building kernels (`shaders/mg_galerkin_*.wgsl`).
pub use super::galerkin_mirror::{
    mg_fine_inverse_diagonal, mg_galerkin_fine, mg_galerkin_stencil, mg_stencil_inverse_diagonal,
};
