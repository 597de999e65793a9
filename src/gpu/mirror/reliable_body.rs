//! Mirror of `shaders/shared/reliable_body.wgsl`, the reliable-update
//! kernels of `shaders/reliable_f64.wgsl` and `shaders/reliable_ds.wgsl`:
//! the same loops, written once over the number type [`Hi`], which is
//! `f64` (`reliable_f64.rs`) or the double-single [`Ds`]
//! (`reliable_ds.rs`) with the WGSL's operations step for step.

use super::apply_k::{corner_offset, stencil_neighbours};
#[cfg(doc)]
use crate::gpu::abi::Ds;
use crate::gpu::abi::{GpuParams, WG_NODES, WG_REDUCE};
use bytemuck::Pod;

/// The high-precision number of the reliable-update kernels: `Hi` of the
/// WGSL. Stored in 8 bytes either way.
pub trait Hi: Pod + Default + std::fmt::Debug {
    fn of(v: f32) -> Self;
    /// The nearest `Hi` to an f64 (what the host uploads).
    fn of_f64(v: f64) -> Self;
    fn add(self, b: Self) -> Self;
    fn sub(self, b: Self) -> Self;
    fn mul(self, b: Self) -> Self;
    /// The nearest f32 (`hi_round`).
    fn round(self) -> f32;
    /// The value as f64 (what the host reads back).
    fn value(self) -> f64;
}

/// `accumulate`: x_acc += x, x = 0 over the chunk's dofs (both slices
/// start at `params.node_base`).
pub fn accumulate<H: Hi>(params: &GpuParams, x: &mut [f32], x_acc: &mut [H]) {
    for i in 0..params.n_dofs as usize {
        x_acc[i] = x_acc[i].add(H::of(x[i]));
        x[i] = 0.0;
    }
}

/// The bindings of [`residual`] that are not the chunk's vectors: the mesh
/// and the operator (`stencil` and `element` in `Hi`).
pub struct ResidualMesh<'a, H> {
    pub nodes: &'a [u32],
    pub flags: &'a [u32],
    pub node_map: &'a [u32],
    pub stencil: &'a [H],
    pub neighbours: &'a [u32],
    pub phi: &'a [f32],
    pub element: &'a [H],
}

/// Row `r` of the 3×3 block `blk` times `u` (`hi_row`).
fn row<H: Hi>(blk: &[H], r: usize, u: &[H; 3]) -> H {
    blk[3 * r]
        .mul(u[0])
        .add(blk[3 * r + 1].mul(u[1]))
        .add(blk[3 * r + 2].mul(u[2]))
}

/// `residual`: r = b − A·x_hi in `H` (A as [`apply_k`](fn@super::apply_k)),
/// `r` rounded to f32, and one partial ‖r‖² per [`WG_NODES`] nodes (a
/// tree, as the workgroup sums) written at `node_base / WG_NODES` on.
///
/// Slices are one chunk's bindings: `mesh.nodes`, `b`, `r` and `mesh.phi`
/// from `params.node_base`, `mesh.flags` and `x_hi` from `params.win_base`,
/// `mesh.node_map` from `params.map_base`; `partials` whole.
pub fn residual<H: Hi>(
    params: &GpuParams,
    mesh: &ResidualMesh<H>,
    x_hi: &[H],
    b: &[H],
    r: &mut [f32],
    partials: &mut [H],
) {
    let sx = params.sx as i64;
    let sxy = (params.sx * params.sy) as i64;
    let (node_base, win_base) = (params.node_base as usize, params.win_base as usize);
    let n_nodes = params.n_nodes as usize;
    let wg = WG_NODES as usize;
    for g in 0..n_nodes.div_ceil(wg) {
        let mut node_rr = vec![H::default(); wg];
        for li in 0..wg {
            let k = g * wg + li;
            if k >= n_nodes {
                continue;
            }
            let n = node_base + k - win_base;
            let id = mesh.nodes[k] as i64;
            let f = mesh.flags[n];
            let p = (f & 0xff) as usize;
            let fixed = f >> 8;
            let mut un = [H::default(); 3];
            for c in 0..3 {
                if fixed & (1 << c) == 0 {
                    un[c] = x_hi[3 * n + c];
                }
            }
            let difference = |m: usize| {
                let fm = mesh.flags[m] >> 8;
                let mut u = [H::default(); 3];
                for c in 0..3 {
                    let v = if fm & (1 << c) != 0 {
                        H::default()
                    } else {
                        x_hi[3 * m + c]
                    };
                    u[c] = v.sub(un[c]);
                }
                u
            };
            let window = |off: i64| {
                mesh.node_map[(id + off) as usize - params.map_base as usize] as usize - win_base
            };
            let mut acc = [H::default(); 3];
            if params.fill == 0 {
                for (d, [dx, dy, dz]) in stencil_neighbours(mesh.neighbours[p]) {
                    let u = difference(window(dx + sx * dy + sxy * dz));
                    let s = (p * 27 + d) * 9;
                    for c in 0..3 {
                        acc[c] = acc[c].add(row(&mesh.stencil[s..s + 9], c, &u));
                    }
                }
            } else {
                for c in 0..8 {
                    if p & (1 << c) == 0 {
                        continue;
                    }
                    let w = H::of(mesh.phi[8 * k + c]);
                    let a = 7 - c;
                    for e in 0..8 {
                        let Some([ox, oy, oz]) = corner_offset(c, e) else {
                            continue;
                        };
                        let u = difference(window(ox + sx * oy + sxy * oz));
                        let s = (8 * a + e) * 9;
                        for j in 0..3 {
                            acc[j] = acc[j].add(w.mul(row(&mesh.element[s..s + 9], j, &u)));
                        }
                    }
                }
            }
            let mut rr = H::default();
            for c in 0..3 {
                let y = if fixed & (1 << c) != 0 {
                    x_hi[3 * n + c]
                } else {
                    acc[c]
                };
                let rc = b[3 * k + c].sub(y);
                r[3 * k + c] = rc.round();
                rr = rr.add(rc.mul(rc));
            }
            node_rr[li] = rr;
        }
        let mut w = wg / 2;
        while w > 0 {
            for li in 0..w {
                node_rr[li] = node_rr[li].add(node_rr[li + w]);
            }
            w /= 2;
        }
        partials[node_base / wg + g] = node_rr[0];
    }
}

/// `reduce_rr`: ‖r‖² of the whole mesh (`params` the whole mesh's) from
/// [`residual`]'s partials, in the kernel's order.
pub fn reduce_rr<H: Hi>(params: &GpuParams, partials: &[H]) -> H {
    let wg = WG_REDUCE as usize;
    let count = (params.n_nodes as usize).div_ceil(WG_NODES as usize);
    let mut sums = vec![H::default(); wg];
    for li in 0..wg {
        let mut i = li;
        while i < count {
            sums[li] = sums[li].add(partials[i]);
            i += wg;
        }
    }
    let mut w = wg / 2;
    while w > 0 {
        for li in 0..w {
            sums[li] = sums[li].add(sums[li + w]);
        }
        w /= 2;
    }
    sums[0]
}
