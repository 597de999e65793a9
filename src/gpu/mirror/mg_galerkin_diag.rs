//! Mirror of `shaders/mg_galerkin_diag.wgsl`: entry points
//! `fine_inverse_diagonal` and `stencil_inverse_diagonal`.

use crate::gpu::abi::GalerkinParams;
#[cfg(test)]
use crate::gpu::abi::NO_NODE;

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
