//! Mirror of `shaders/apply_k.wgsl`: the node-gather operator, and the
//! walk over a node's stencil neighbours and voxel corners that the
//! reliable-update residual (`reliable_body.rs`) shares with it.

use crate::gpu::abi::GpuParams;

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
