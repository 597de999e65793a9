//! The trilinear brick's gradients at its 2×2×2 Gauss points by sum
//! factorization: a shape function is a product of one linear factor per
//! axis, so ∂/∂x at the points is a difference along x followed by the
//! two-point interpolations along y and z, each a pass over 4 pairs of
//! the 8 values. 9 such gradients (3 components × 3 directions) take
//! about 500 flops where B at each point takes about 1 150 (8 points × 8
//! nodes × 18); the transpose (Bᵀσ) is the same passes backwards.
//!
//! Nodes and points are both numbered a = aₓ + 2a_y + 4a_z
//! ([`crate::fem::hex8::corner`]); point bit 1 is the Gauss coordinate
//! +1/√3, node bit 1 the corner at +1.

use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub};

/// The arithmetic of the brick passes: f64, or f32 for the Newton steps'
/// tangent apply (twice the lanes a register holds).
pub trait Real:
    Copy
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + std::iter::Sum
    + Send
    + Sync
{
    /// `v` rounded to this type.
    fn of(v: f64) -> Self;
    /// This value as f64 (exact).
    fn wide(self) -> f64;
}

impl Real for f64 {
    #[inline(always)]
    fn of(v: f64) -> f64 {
        v
    }
    #[inline(always)]
    fn wide(self) -> f64 {
        self
    }
}

impl Real for f32 {
    #[inline(always)]
    fn of(v: f64) -> f32 {
        v as f32
    }
    #[inline(always)]
    fn wide(self) -> f64 {
        self as f64
    }
}

/// The 4 pairs of indices along each axis: (i, i + 2ᴬ) with bit A of i
/// clear.
const PAIRS: [[[usize; 2]; 4]; 3] = [
    [[0, 1], [2, 3], [4, 5], [6, 7]],
    [[0, 2], [1, 3], [4, 6], [5, 7]],
    [[0, 4], [1, 5], [2, 6], [3, 7]],
];

/// The factors of a cube of edge h: the interpolation weights of the two
/// Gauss points along an axis, p = (1 + 1/√3)/2 at the nearer corner and
/// q = (1 − 1/√3)/2 at the farther one, and 1/h, the derivative of the
/// linear factor. The passes run in the arithmetic `T` they are given,
/// with the factors rounded to it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Factors {
    p: f64,
    q: f64,
    inv_h: f64,
}

impl Factors {
    /// The factors of a voxel of edge `h` (mm).
    pub(super) fn new(h: f64) -> Factors {
        let g0 = 1.0 / 3f64.sqrt();
        Factors {
            p: 0.5 * (1.0 + g0),
            q: 0.5 * (1.0 - g0),
            inv_h: 1.0 / h,
        }
    }

    /// `[∂v/∂x, ∂v/∂y, ∂v/∂z]` at the 8 Gauss points of the field whose
    /// values at the nodes are `v`.
    #[inline(always)]
    pub(super) fn gradient<T: Real>(&self, v: &[T; 8]) -> [[T; 8]; 3] {
        let mut gx = *v;
        self.difference::<T, 0>(&mut gx);
        self.interpolate::<T, 1>(&mut gx);
        self.interpolate::<T, 2>(&mut gx);
        let mut gy = *v;
        self.difference::<T, 1>(&mut gy);
        self.interpolate::<T, 0>(&mut gy);
        self.interpolate::<T, 2>(&mut gy);
        let mut gz = *v;
        self.difference::<T, 2>(&mut gz);
        self.interpolate::<T, 0>(&mut gz);
        self.interpolate::<T, 1>(&mut gz);
        [gx, gy, gz]
    }

    /// The transpose of [`Factors::gradient`]: per node a,
    /// Σ_d Σ_g s\[d\]\[g\] ∂N_a/∂x_d(ξ_g).
    #[inline(always)]
    pub(super) fn divergence<T: Real>(&self, s: &[[T; 8]; 3]) -> [T; 8] {
        let mut fx = s[0];
        self.interpolate::<T, 2>(&mut fx);
        self.interpolate::<T, 1>(&mut fx);
        self.difference_transposed::<T, 0>(&mut fx);
        let mut fy = s[1];
        self.interpolate::<T, 2>(&mut fy);
        self.interpolate::<T, 0>(&mut fy);
        self.difference_transposed::<T, 1>(&mut fy);
        let mut fz = s[2];
        self.interpolate::<T, 1>(&mut fz);
        self.interpolate::<T, 0>(&mut fz);
        self.difference_transposed::<T, 2>(&mut fz);
        std::array::from_fn(|a| fx[a] + fy[a] + fz[a])
    }

    /// Along axis `A`: both points take the derivative (v₁ − v₀)/h of the
    /// linear factor.
    #[inline(always)]
    fn difference<T: Real, const A: usize>(&self, v: &mut [T; 8]) {
        let inv_h = T::of(self.inv_h);
        for [i, j] in PAIRS[A] {
            let d = (v[j] - v[i]) * inv_h;
            v[i] = d;
            v[j] = d;
        }
    }

    /// The transpose of [`Factors::difference`]: node 1 takes (s₀ + s₁)/h
    /// and node 0 its negative.
    #[inline(always)]
    fn difference_transposed<T: Real, const A: usize>(&self, v: &mut [T; 8]) {
        let inv_h = T::of(self.inv_h);
        for [i, j] in PAIRS[A] {
            let s = (v[i] + v[j]) * inv_h;
            v[i] = -s;
            v[j] = s;
        }
    }

    /// Along axis `A`: the values at the two points from those at the two
    /// corners (a symmetric 2 × 2, its own transpose).
    #[inline(always)]
    fn interpolate<T: Real, const A: usize>(&self, v: &mut [T; 8]) {
        let (p, q) = (T::of(self.p), T::of(self.q));
        for [i, j] in PAIRS[A] {
            let (a, b) = (v[i], v[j]);
            v[i] = p * a + q * b;
            v[j] = q * a + p * b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fem::hex8::shape_gradients;
    use crate::plastic::elements::gauss_point;

    /// Values with no pattern, the same every run.
    fn values(seed: u64) -> [f64; 8] {
        let mut x = seed;
        std::array::from_fn(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
    }

    #[test]
    fn the_factorized_gradient_is_the_shape_functions_gradient() {
        let h = 0.07;
        let f = Factors::new(h);
        for seed in 1..20 {
            let v = values(seed);
            let got = f.gradient(&v);
            for g in 0..8 {
                let grads = shape_gradients(gauss_point(g), h);
                for (d, got) in got.iter().enumerate() {
                    let want: f64 = (0..8).map(|a| grads[a][d] * v[a]).sum();
                    approx::assert_relative_eq!(
                        got[g],
                        want,
                        epsilon = 1e-12,
                        max_relative = 1e-12
                    );
                }
            }
        }
    }

    #[test]
    fn the_divergence_is_the_gradients_transpose() {
        let h = 0.3;
        let f = Factors::new(h);
        for seed in 1..20 {
            let s = [values(seed), values(seed + 100), values(seed + 200)];
            let got = f.divergence(&s);
            for a in 0..8 {
                let want: f64 = (0..8)
                    .map(|g| {
                        let grads = shape_gradients(gauss_point(g), h);
                        (0..3).map(|d| s[d][g] * grads[a][d]).sum::<f64>()
                    })
                    .sum();
                approx::assert_relative_eq!(got[a], want, epsilon = 1e-12, max_relative = 1e-12);
            }
        }
    }
}
