//! CPU mirrors of the WGSL kernels: the same names, inputs and loop shapes
//! as `shaders/*.wgsl`, in f32, so each kernel can be checked against its
//! mirror on random input (`tests/gpu.rs`). A "workgroup" here is a plain
//! loop over its invocations; tree reductions add in the same order.
// Index loops are kept on purpose: they read like the shaders' loops.
#![allow(clippy::needless_range_loop)]

use super::GpuParams;

/// Scalar slots, as in `shaders/shared/params.wgsl`.
pub const RHO: usize = 0;
pub const PQ: usize = 1;
pub const ALPHA: usize = 2;
pub const BETA: usize = 3;
pub const RR: usize = 4;
pub const RHO_NEW: usize = 5;
pub const BREAKDOWN: usize = 6;
/// Number of scalar slots.
pub const SCALARS: usize = 8;

/// Threads of a reduction workgroup and elements per thread.
pub const REDUCE_WG: usize = 256;
pub const REDUCE_PER_THREAD: usize = 4;

/// `shaders/apply_k.wgsl`: (A x)_n = Σ_d S_d (x̃_m − x̃_n) over the
/// off-centre stencil blocks (x̃: x with fixed dofs zeroed), x_n on fixed dofs.
///
/// The slices are the bindings of one chunk: `nodes` and `y` start at
/// `params.node_base`, `flags` and `x` at `params.win_base`, `node_map` at
/// `params.map_base` (all 0 when the mesh is one chunk).
#[allow(clippy::too_many_arguments)]
pub fn apply_k(
    params: &GpuParams,
    nodes: &[u32],
    flags: &[u32],
    node_map: &[u32],
    stencil: &[f32],
    neighbours: &[u32],
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
        let mut bits = neighbours[p] & !(1 << 13);
        while bits != 0 {
            let d = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let (dx, dy, dz) = (
                (d % 3) as i64 - 1,
                ((d / 3) % 3) as i64 - 1,
                (d / 9) as i64 - 1,
            );
            let m = node_map[(id + dx + sx * dy + sxy * dz) as usize - params.map_base as usize]
                as usize
                - win_base;
            let fm = flags[m] >> 8;
            let mut u = [x[3 * m], x[3 * m + 1], x[3 * m + 2]];
            for (c, uc) in u.iter_mut().enumerate() {
                if fm & (1 << c) != 0 {
                    *uc = 0.0;
                }
                *uc -= un[c];
            }
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

/// `shaders/jacobi_diag.wgsl`: `flags` and `inv_diag` are the chunk's.
pub fn jacobi_diag(params: &GpuParams, flags: &[u32], stencil: &[f32], inv_diag: &mut [f32]) {
    for n in 0..params.n_nodes as usize {
        let f = flags[n];
        let centre = ((f & 0xff) as usize * 27 + 13) * 9;
        for c in 0..3 {
            inv_diag[3 * n + c] = if (f >> 8) & (1 << c) == 0 {
                1.0 / stencil[centre + 4 * c]
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
