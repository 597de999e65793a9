//! Mirror of `shaders/plastic_tangent.wgsl`: `tangent_brick` (one brick)
//! and `tangent_gather` (one node), in f32, over the kernels' arrays.

use crate::gpu::abi::{PlasticParams, NO_NODE, PLASTIC_GRADS};

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

fn grad(c: &[f32], g: usize, a: usize, i: usize) -> f32 {
    c[PLASTIC_GRADS + 24 * g + 3 * a + i]
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
        let mut de = [0.0f32; 48];
        let mut mean = 0.0f32;
        for g in 0..8 {
            let mut s = [0.0f32; 6];
            for a in 0..8 {
                let (g0, g1, g2) = (grad(c, g, a, 0), grad(c, g, a, 1), grad(c, g, a, 2));
                let (u0, u1, u2) = (xe[3 * a], xe[3 * a + 1], xe[3 * a + 2]);
                s[0] += g0 * u0;
                s[1] += g1 * u1;
                s[2] += g2 * u2;
                s[3] += g1 * u0 + g0 * u1;
                s[4] += g2 * u1 + g1 * u2;
                s[5] += g2 * u0 + g0 * u2;
            }
            de[6 * g..6 * g + 6].copy_from_slice(&s);
            mean += s[0] + s[1] + s[2];
        }
        if params.mean_dilatation != 0 {
            mean /= 8.0;
            for g in 0..8 {
                let shift = (mean - (de[6 * g] + de[6 * g + 1] + de[6 * g + 2])) / 3.0;
                for i in 0..3 {
                    de[6 * g + i] += shift;
                }
            }
        }
        let mut ds = [0.0f32; 48];
        let mut sm = 0.0f32;
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
            sm += ds[6 * g] + ds[6 * g + 1] + ds[6 * g + 2];
        }
        if params.mean_dilatation != 0 {
            sm /= 8.0;
            for g in 0..8 {
                let shift = (sm - (ds[6 * g] + ds[6 * g + 1] + ds[6 * g + 2])) / 3.0;
                for i in 0..3 {
                    ds[6 * g + i] += shift;
                }
            }
        }
        let w = b.scale[e];
        let mut fe = [0.0f32; 24];
        for g in 0..8 {
            let s = &ds[6 * g..6 * g + 6];
            for a in 0..8 {
                let (g0, g1, g2) = (grad(c, g, a, 0), grad(c, g, a, 1), grad(c, g, a, 2));
                fe[3 * a] += w * (s[0] * g0 + s[3] * g1 + s[5] * g2);
                fe[3 * a + 1] += w * (s[3] * g0 + s[1] * g1 + s[4] * g2);
                fe[3 * a + 2] += w * (s[5] * g0 + s[4] * g1 + s[2] * g2);
            }
        }
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
        let mut acc = [0.0f32; 3];
        for c in 0..8 {
            let e = node_bricks[8 * n + c];
            if e == NO_NODE {
                continue;
            }
            let b = 24 * e as usize + 3 * (7 - c);
            for q in 0..3 {
                acc[q] += products[b + q];
            }
        }
        let fixed = flags[n] >> 8;
        for q in 0..3 {
            if fixed & (1 << q) != 0 {
                acc[q] = x[3 * n + q];
            }
        }
        y[3 * n..3 * n + 3].copy_from_slice(&acc);
    }
}
