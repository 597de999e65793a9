//! Mirror of `shaders/plastic_tangent.wgsl`: `tangent_brick` (one brick)
//! and `tangent_gather` (one node), in f32, over the kernels' arrays.

use super::plastic_brick::{brick_forces, brick_strains, gather_node, grad, mean_dilatation};
use crate::gpu::abi::PlasticParams;

/// The read-only arrays of `tangent_brick`.
pub struct TangentBindings<'a> {
    /// 8 active indices per brick.
    pub brick_nodes: &'a [u32],
    /// K, seven unused, the gradients.
    pub constants: &'a [f32],
    /// wₑ·det J per brick.
    pub scale: &'a [f32],
    /// Pattern | fixed dofs << 8, per active node.
    pub flags: &'a [u32],
    /// 3 per active node.
    pub x: &'a [f32],
    /// 8 per point: a, b, N.
    pub tangent: &'a [f32],
}

/// `tangent_brick` for every brick: `products`, 24 per brick.
pub fn tangent_brick(params: &PlasticParams, b: &TangentBindings, products: &mut [f32]) {
    let c = b.constants;
    let bulk = c[0];
    for e in 0..params.n_bricks as usize {
        let mut xe = [0.0f32; 24];
        for a in 0..8 {
            let n = b.brick_nodes[8 * e + a] as usize;
            let fixed = b.flags[n] >> 8;
            for q in 0..3 {
                xe[3 * a + q] = if fixed & (1 << q) != 0 {
                    0.0
                } else {
                    b.x[3 * n + q]
                };
            }
        }
        let grad = |g, a, i| grad(c, g, a, i);
        let mut de = brick_strains(grad, &xe);
        if params.mean_dilatation != 0 {
            mean_dilatation(&mut de);
        }
        let mut ds = [0.0f32; 48];
        for g in 0..8 {
            let t = &b.tangent[8 * (8 * e + g)..8 * (8 * e + g) + 8];
            let d = &de[6 * g..6 * g + 6];
            let tr = d[0] + d[1] + d[2];
            let mut nd = 0.0f32;
            for i in 0..6 {
                nd += t[2 + i] * d[i];
            }
            for i in 0..3 {
                ds[6 * g + i] = bulk * tr + t[0] * (d[i] - tr / 3.0) + t[1] * t[2 + i] * nd;
                ds[6 * g + i + 3] = 0.5 * t[0] * d[i + 3] + t[1] * t[5 + i] * nd;
            }
        }
        if params.mean_dilatation != 0 {
            mean_dilatation(&mut ds);
        }
        let fe = brick_forces(grad, &ds, b.scale[e]);
        products[24 * e..24 * e + 24].copy_from_slice(&fe);
    }
}

/// `tangent_gather` for every node: y (3 per node) from the bricks'
/// `products`, x itself on the fixed dofs.
pub fn tangent_gather(
    params: &PlasticParams,
    flags: &[u32],
    x: &[f32],
    products: &[f32],
    node_bricks: &[u32],
    y: &mut [f32],
) {
    for n in 0..params.n_nodes as usize {
        let mut acc = gather_node(node_bricks, products, n);
        let fixed = flags[n] >> 8;
        for q in 0..3 {
            if fixed & (1 << q) != 0 {
                acc[q] = x[3 * n + q];
            }
        }
        y[3 * n..3 * n + 3].copy_from_slice(&acc);
    }
}
