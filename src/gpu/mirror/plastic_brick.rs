//! Mirror of `shaders/shared/plastic_brick.wgsl`: the strains of a brick's
//! 8 Gauss points, the mean-dilatation shift and w·Σ_g B_gᵀσ_g, in f64
//! (`plastic_update`) or f32 (`plastic_tangent`), with ∇N_a at point g
//! given by `grad(g, a, i)`; and what the two kernels' mirrors share
//! besides: [`grad`] and the per-node gather [`gather_node`].

use crate::gpu::abi::{NO_NODE, PLASTIC_GRADS};
use std::ops::{Add, Div, Mul, Sub};

/// The precision of a plastic kernel (the WGSL `Real`): f32 or f64.
pub trait Real:
    Copy + Default + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self>
{
    fn of(v: f32) -> Self;
}

impl Real for f32 {
    fn of(v: f32) -> f32 {
        v
    }
}

impl Real for f64 {
    fn of(v: f32) -> f64 {
        v as f64
    }
}

/// `brick_strains`: engineering strains of the 8 points, 6 each.
pub fn brick_strains<R: Real>(grad: impl Fn(usize, usize, usize) -> R, ue: &[R; 24]) -> [R; 48] {
    let mut eps = [R::default(); 48];
    for g in 0..8 {
        let mut s = [R::default(); 6];
        for a in 0..8 {
            let (g0, g1, g2) = (grad(g, a, 0), grad(g, a, 1), grad(g, a, 2));
            let (u0, u1, u2) = (ue[3 * a], ue[3 * a + 1], ue[3 * a + 2]);
            s[0] = s[0] + g0 * u0;
            s[1] = s[1] + g1 * u1;
            s[2] = s[2] + g2 * u2;
            s[3] = s[3] + (g1 * u0 + g0 * u1);
            s[4] = s[4] + (g2 * u1 + g1 * u2);
            s[5] = s[5] + (g2 * u0 + g0 * u2);
        }
        eps[6 * g..6 * g + 6].copy_from_slice(&s);
    }
    eps
}

/// `mean_dilatation`: each point's trace/3 replaced by the mean's.
pub fn mean_dilatation<R: Real>(v: &mut [R; 48]) {
    let mut mean = R::default();
    for g in 0..8 {
        mean = mean + (v[6 * g] + v[6 * g + 1] + v[6 * g + 2]);
    }
    mean = mean / R::of(8.0);
    for g in 0..8 {
        let shift = (mean - (v[6 * g] + v[6 * g + 1] + v[6 * g + 2])) / R::of(3.0);
        for i in 0..3 {
            v[6 * g + i] = v[6 * g + i] + shift;
        }
    }
}

/// `brick_forces`: w·Σ_g B_gᵀ σ_g, 24 values.
pub fn brick_forces<R: Real>(
    grad: impl Fn(usize, usize, usize) -> R,
    stress: &[R; 48],
    w: R,
) -> [R; 24] {
    let mut fe = [R::default(); 24];
    for g in 0..8 {
        let s = &stress[6 * g..6 * g + 6];
        for a in 0..8 {
            let (g0, g1, g2) = (grad(g, a, 0), grad(g, a, 1), grad(g, a, 2));
            fe[3 * a] = fe[3 * a] + w * (s[0] * g0 + s[3] * g1 + s[5] * g2);
            fe[3 * a + 1] = fe[3 * a + 1] + w * (s[3] * g0 + s[1] * g1 + s[4] * g2);
            fe[3 * a + 2] = fe[3 * a + 2] + w * (s[5] * g0 + s[4] * g1 + s[2] * g2);
        }
    }
    fe
}

/// The kernels' `grad(g, a, i)`: ∇N_a at Gauss point g from `constants`.
pub fn grad<R: Real>(constants: &[R], g: usize, a: usize, i: usize) -> R {
    constants[PLASTIC_GRADS + 24 * g + 3 * a + i]
}

/// The per-node gather of `plastic_force` and `tangent_gather`: node n's
/// entries of the bricks around it (`node_bricks`, pattern-bit order) in
/// `values` (24 per brick).
pub fn gather_node<R: Real>(node_bricks: &[u32], values: &[R], n: usize) -> [R; 3] {
    let mut acc = [R::default(); 3];
    for c in 0..8 {
        let e = node_bricks[8 * n + c];
        if e == NO_NODE {
            continue;
        }
        let b = 24 * e as usize + 3 * (7 - c);
        for q in 0..3 {
            acc[q] = acc[q] + values[b + q];
        }
    }
    acc
}
