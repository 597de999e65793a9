//! Smoothing on one level: block Jacobi (3×3 diagonal blocks), λ_max of
//! D⁻¹A by power iteration, and the Chebyshev schedule the CPU and GPU
//! smoothers share.

use super::CHEBYSHEV_DEGREE;
use crate::fem::operator::{mul_add, Block};
use rayon::prelude::*;

/// An inverse diagonal block, inverted in f64 and stored in f32 (as on
/// the device).
pub type InvBlock = [f32; 9];

/// Smoothing data of one level.
pub(super) struct Smoother {
    pub(super) inv_diag: Vec<InvBlock>,
    pub(super) lambda_max: f64,
}

/// The inverse diagonal blocks stored in f32.
pub(super) fn stored(inv_diag: Vec<Block>) -> Vec<InvBlock> {
    inv_diag.par_iter().map(|b| b.map(|v| v as f32)).collect()
}

/// z = D⁻¹ r.
pub(super) fn block_jacobi(inv_diag: &[InvBlock], r: &[f64], z: &mut [f64]) {
    z.par_chunks_mut(3)
        .zip(r.par_chunks(3))
        .zip(inv_diag.par_iter())
        .for_each(|((z, r), b)| z.copy_from_slice(&inv_times(b, r)));
}

/// One node's D⁻¹r: its f32 block read into f64 sums.
#[inline(always)]
fn inv_times(b: &InvBlock, r: &[f64]) -> [f64; 3] {
    let mut acc = [0.0; 3];
    mul_add(&mut acc, &b.map(f64::from), r);
    acc
}

/// One Chebyshev step's direction, d = c1·d + c2·D⁻¹r (d = c2·D⁻¹r for
/// the first, `c1 = None`), with D⁻¹r summed as [`block_jacobi`] sums it
/// and not stored; on `k` columns stored node by node.
pub(super) fn chebyshev_direction(
    inv_diag: &[InvBlock],
    r: &[f64],
    d: &mut [f64],
    c1: Option<f64>,
    c2: f64,
    k: usize,
) {
    super::for_columns!(k, chebyshev_columns(inv_diag, r, d, c1, c2))
}

/// [`chebyshev_direction`] on `K` columns.
fn chebyshev_columns<const K: usize>(
    inv_diag: &[InvBlock],
    r: &[f64],
    d: &mut [f64],
    c1: Option<f64>,
    c2: f64,
) {
    d.par_chunks_mut(3 * K)
        .zip(r.par_chunks(3 * K))
        .zip(inv_diag.par_iter())
        .for_each(|((d, r), b)| {
            for (d, r) in d.chunks_exact_mut(3).zip(r.chunks_exact(3)) {
                for (d, z) in d.iter_mut().zip(inv_times(b, r)) {
                    *d = match c1 {
                        Some(c1) => c1 * *d + c2 * z,
                        None => c2 * z,
                    };
                }
            }
        });
}

pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    crate::fem::ordered_sum(
        a.par_chunks(4096)
            .zip(b.par_chunks(4096))
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum()),
    )
}

/// λ_max of D⁻¹A by power iteration (deterministic start vector).
pub(super) fn lambda_max(apply: &dyn Fn(&[f64], &mut [f64]), inv_diag: &[InvBlock]) -> f64 {
    let mut av = vec![0.0; 3 * inv_diag.len()];
    power_iteration(3 * inv_diag.len(), &mut |v, w| {
        apply(v, &mut av);
        block_jacobi(inv_diag, &av, w);
    })
}

/// λ_max of D⁻¹A by power iteration on `n` unknowns, `step` writing
/// w = D⁻¹A v: the start vector, the 12 steps and the 10 % margin of the
/// CPU hierarchy, for the device-built one too
/// ([`crate::gpu::galerkin`]).
pub fn power_iteration(n: usize, step: &mut dyn FnMut(&[f64], &mut [f64])) -> f64 {
    let mut v: Vec<f64> = (0..n)
        .map(|i| 1.0 + ((i * 7919) % 17) as f64 / 17.0)
        .collect();
    let mut w = vec![0.0; n];
    let mut lambda = 1.0;
    for _ in 0..12 {
        let norm = dot(&v, &v).sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        step(&v, &mut w);
        lambda = dot(&v, &w);
        std::mem::swap(&mut v, &mut w);
    }
    // Power iteration converges from below; 10 % margin.
    1.1 * lambda.abs().max(1e-300)
}

/// The Chebyshev schedule of a smoother with estimate `lambda_max`: per
/// step k, (c1, c2) in d_k = c1·d_{k−1} + c2·D⁻¹r_k, x += d_k (c1 = 0 for
/// the first step). The interval is [λ_max/10, λ_max]. The CPU and GPU
/// smoothers share it.
pub fn chebyshev_steps(lambda_max: f64) -> [(f64, f64); CHEBYSHEV_DEGREE] {
    let (lmax, lmin) = (lambda_max, lambda_max / 10.0);
    let theta = (lmax + lmin) / 2.0;
    let delta = (lmax - lmin) / 2.0;
    let sigma = theta / delta;
    let mut out = [(0.0, 1.0 / theta); CHEBYSHEV_DEGREE];
    let mut rho_old = 1.0 / sigma;
    for step in out.iter_mut().skip(1) {
        let rho = 1.0 / (2.0 * sigma - rho_old);
        *step = (rho * rho_old, 2.0 * rho / delta);
        rho_old = rho;
    }
    out
}
