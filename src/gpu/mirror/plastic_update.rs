//! Mirror of `shaders/plastic_update.wgsl`: `plastic_update` (one brick)
//! and `plastic_force` (one node), in f64, over the kernels' arrays.

use super::plastic_brick::{brick_forces, brick_strains, gather_node, grad, mean_dilatation};
use crate::gpu::abi::PlasticParams;

/// The read-only arrays of `plastic_update`.
pub struct UpdateBindings<'a> {
    /// 8 active indices per brick.
    pub brick_nodes: &'a [u32],
    /// K, G, σ_y, H, √(3/2), three unused, the gradients.
    pub constants: &'a [f64],
    /// wₑ·det J per brick.
    pub scale: &'a [f64],
    /// 3 per active node.
    pub u: &'a [f64],
    /// 7 per point.
    pub old_state: &'a [f64],
}

/// `plastic_update` for every brick: writes `trial_state` (7 per point),
/// `tangent` (8 per point), `forces` (24 per brick); returns the yielding
/// points.
pub fn plastic_update(
    params: &PlasticParams,
    b: &UpdateBindings,
    trial_state: &mut [f64],
    tangent: &mut [f32],
    forces: &mut [f64],
) -> u32 {
    let mut yielding = 0;
    let c = b.constants;
    let (bulk, shear, yield_strength, hardening, root) = (c[0], c[1], c[2], c[3], c[4]);
    for e in 0..params.n_bricks as usize {
        let mut ue = [0.0; 24];
        for a in 0..8 {
            let n = b.brick_nodes[8 * e + a] as usize;
            for q in 0..3 {
                ue[3 * a + q] = b.u[3 * n + q];
            }
        }
        let grad = |g, a, i| grad(c, g, a, i);
        let mut eps = brick_strains(grad, &ue);
        if params.mean_dilatation != 0 {
            mean_dilatation(&mut eps);
        }
        let mut stress = [0.0; 48];
        let mut count = 0;
        for g in 0..8 {
            let pt = 8 * e + g;
            let old = &b.old_state[7 * pt..7 * pt + 7];
            let mut ee = [0.0; 6];
            for i in 0..6 {
                ee[i] = eps[6 * g + i] - old[i];
            }
            let alpha = old[6];
            let tr = ee[0] + ee[1] + ee[2];
            let mut s = [0.0; 6];
            for i in 0..3 {
                s[i] = 2.0 * shear * (ee[i] - tr / 3.0);
                s[i + 3] = shear * ee[i + 3];
            }
            let norm = (s[0] * s[0]
                + s[1] * s[1]
                + s[2] * s[2]
                + 2.0 * (s[3] * s[3] + s[4] * s[4] + s[5] * s[5]))
                .sqrt();
            let q = root * norm;
            let f = q - (yield_strength + hardening * alpha);
            let p = bulk * tr;
            let t = &mut tangent[8 * pt..8 * pt + 8];
            let trial = &mut trial_state[7 * pt..7 * pt + 7];
            if f <= 0.0 || norm == 0.0 {
                for i in 0..6 {
                    stress[6 * g + i] = s[i];
                    trial[i] = old[i];
                    t[2 + i] = 0.0;
                }
                for i in 0..3 {
                    stress[6 * g + i] += p;
                }
                trial[6] = alpha;
                t[0] = (2.0 * shear) as f32;
                t[1] = 0.0;
                continue;
            }
            count += 1;
            let dgamma = f / (3.0 * shear + hardening);
            let shrink = 1.0 - 3.0 * shear * dgamma / q;
            let flow = root * dgamma;
            for i in 0..6 {
                let ni = s[i] / norm;
                stress[6 * g + i] = shrink * s[i];
                let eng = if i >= 3 { 2.0 } else { 1.0 };
                trial[i] = old[i] + flow * eng * ni;
                t[2 + i] = ni as f32;
            }
            for i in 0..3 {
                stress[6 * g + i] += p;
            }
            trial[6] = alpha + dgamma;
            t[0] = (2.0 * shear * shrink) as f32;
            t[1] = (6.0 * shear * shear * (dgamma / q - 1.0 / (3.0 * shear + hardening))) as f32;
        }
        yielding += count;
        if params.mean_dilatation != 0 {
            mean_dilatation(&mut stress);
        }
        let fe = brick_forces(grad, &stress, b.scale[e]);
        forces[24 * e..24 * e + 24].copy_from_slice(&fe);
    }
    yielding
}

/// `plastic_force` for every node: `force` (3 per node) from the bricks'
/// `forces`.
pub fn plastic_force(
    params: &PlasticParams,
    node_bricks: &[u32],
    forces: &[f64],
    force: &mut [f64],
) {
    for n in 0..params.n_nodes as usize {
        force[3 * n..3 * n + 3].copy_from_slice(&gather_node(node_bricks, forces, n));
    }
}
