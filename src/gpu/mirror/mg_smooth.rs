//! Mirror of `shaders/mg_smooth.wgsl`: entry points `chebyshev` and
//! `residual`.

use crate::gpu::abi::MgParams;

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
