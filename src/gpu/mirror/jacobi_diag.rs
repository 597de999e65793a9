//! Mirror of `shaders/jacobi_diag.wgsl`.

use super::apply_k::FillBindings;
use crate::gpu::abi::GpuParams;

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
