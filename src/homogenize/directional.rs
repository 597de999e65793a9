//! The directional Young's modulus of a compliance, its extremes over all
//! directions and its cuts in the coordinate planes.
//!
//! For a unit direction d, uniaxial stress σ = d⊗d gives the strain
//! ε = S : σ, and the modulus along d is
//!
//! ```text
//! E(d) = 1 / (Σ_ijkl d_i d_j d_k d_l S_ijkl)
//! ```
//!
//! with the fourth-order S_ijkl of [`Compliance::tensor`] (the Voigt
//! entries times ½ per shear index, since S acts on engineering shears).
//! E(d) = E(−d), so directions are reported with their last non-zero
//! component positive.
//!
//! [`Compliance::extremes`] searches the whole sphere deterministically:
//! the 13 axes of the cube families ⟨100⟩, ⟨110⟩, ⟨111⟩ and a Fibonacci
//! lattice of [`SPHERE_POINTS`] points on the half sphere (spacing about
//! 0.04 rad); the [`REFINED_SEEDS`] best of them for each extreme are
//! refined by a pattern search on the sphere (moves along eight tangent
//! directions, the step halved when none improves, down to 1e-9 rad). An
//! extreme that an exact axis attains is reported along that axis (later
//! candidates replace it only when better by more than 1e-13 relative).

use super::tensor::{Compliance, Extremes, Tensor4, TensorError};

/// Points of the Fibonacci lattice on the half sphere that seed the search.
pub const SPHERE_POINTS: usize = 4096;
/// Seeds refined by the local search, for the minimum and for the maximum.
pub const REFINED_SEEDS: usize = 64;

/// First step of the local search, rad: about the lattice spacing.
const INITIAL_STEP: f64 = 0.05;
/// The local search stops when its step falls below this, rad.
const MIN_STEP: f64 = 1e-9;
/// A move is taken only if it improves 1/E by more than this, relative
/// (below it rounding, not the function, decides).
const MOVE_TOLERANCE: f64 = 1e-15;
/// A later refined seed replaces the best so far only if better by more
/// than this, relative: exact axes, seeded first, win ties.
const TIE_TOLERANCE: f64 = 1e-13;

/// A coordinate plane for a polar cut of E(d).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plane {
    /// d = (cos θ, sin θ, 0): θ from x towards y.
    Xy,
    /// d = (0, cos θ, sin θ): θ from y towards z.
    Yz,
    /// d = (sin θ, 0, cos θ): θ from z towards x.
    Zx,
}

impl Plane {
    pub const ALL: [Plane; 3] = [Plane::Xy, Plane::Yz, Plane::Zx];

    /// "xy plane", "yz plane", "zx plane".
    pub fn label(self) -> &'static str {
        match self {
            Plane::Xy => "xy plane",
            Plane::Yz => "yz plane",
            Plane::Zx => "zx plane",
        }
    }

    /// The axes along θ = 0 and θ = 90°.
    pub fn axes(self) -> (&'static str, &'static str) {
        match self {
            Plane::Xy => ("x", "y"),
            Plane::Yz => ("y", "z"),
            Plane::Zx => ("z", "x"),
        }
    }

    /// The unit direction at angle `theta` (rad) in the plane.
    pub fn direction(self, theta: f64) -> [f64; 3] {
        let (s, c) = theta.sin_cos();
        match self {
            Plane::Xy => [c, s, 0.0],
            Plane::Yz => [0.0, c, s],
            Plane::Zx => [s, 0.0, c],
        }
    }
}

/// Σ t_ijkl d_i d_j d_k d_l, in a fixed order.
fn quartic(t: &Tensor4, d: [f64; 3]) -> f64 {
    let mut q = 0.0;
    for (i, ti) in t.iter().enumerate() {
        for (j, tj) in ti.iter().enumerate() {
            for (k, tk) in tj.iter().enumerate() {
                for (l, v) in tk.iter().enumerate() {
                    q += v * d[i] * d[j] * d[k] * d[l];
                }
            }
        }
    }
    q
}

fn norm(d: [f64; 3]) -> f64 {
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

fn scaled(d: [f64; 3], s: f64) -> [f64; 3] {
    [d[0] * s, d[1] * s, d[2] * s]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// `d` normalized, its last component above 1e-12 (in magnitude) made
/// positive.
fn canonical(d: [f64; 3]) -> [f64; 3] {
    let u = scaled(d, 1.0 / norm(d));
    let sign = u
        .iter()
        .rev()
        .find(|v| v.abs() > 1e-12)
        .map_or(1.0, |v| v.signum());
    scaled(u, sign)
}

/// The 13 axes of ⟨100⟩, ⟨110⟩ and ⟨111⟩ (one of each ± pair), unit.
fn cube_axes() -> Vec<[f64; 3]> {
    let mut axes = vec![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
        for s in [1.0, -1.0] {
            let mut d = [0.0; 3];
            d[a] = 1.0;
            d[b] = s;
            axes.push(d);
        }
    }
    for (y, z) in [(1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0)] {
        axes.push([1.0, y, z]);
    }
    axes.into_iter().map(|d| scaled(d, 1.0 / norm(d))).collect()
}

/// `n` points of a Fibonacci lattice on the half sphere z > 0.
fn fibonacci_half_sphere(n: usize) -> Vec<[f64; 3]> {
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    (0..n)
        .map(|k| {
            let z = (k as f64 + 0.5) / n as f64;
            let r = (1.0 - z * z).sqrt();
            let (s, c) = (k as f64 * golden).sin_cos();
            [r * c, r * s, z]
        })
        .collect()
}

/// Two unit vectors that complete the unit `d` to an orthonormal basis.
fn tangent_basis(d: [f64; 3]) -> ([f64; 3], [f64; 3]) {
    let least = (0..3)
        .min_by(|&a, &b| d[a].abs().total_cmp(&d[b].abs()))
        .unwrap_or(0);
    let mut e = [0.0; 3];
    e[least] = 1.0;
    let t1 = cross(e, d);
    let t1 = scaled(t1, 1.0 / norm(t1));
    (t1, cross(d, t1))
}

/// Pattern search from the unit `d` for the largest `sign`·(1/E):
/// returns the direction and its 1/E.
fn refine(t: &Tensor4, d: [f64; 3], sign: f64) -> ([f64; 3], f64) {
    let f = |d: [f64; 3]| sign * quartic(t, d);
    let h = std::f64::consts::FRAC_1_SQRT_2;
    let moves = [
        (1.0, 0.0),
        (-1.0, 0.0),
        (0.0, 1.0),
        (0.0, -1.0),
        (h, h),
        (h, -h),
        (-h, h),
        (-h, -h),
    ];
    let (mut d, mut best) = (d, f(d));
    let mut step = INITIAL_STEP;
    // Each level moves at most about π/step times; a bound for safety.
    let mut budget = 200_000;
    while step > MIN_STEP && budget > 0 {
        let (t1, t2) = tangent_basis(d);
        let (s, c) = step.sin_cos();
        let mut next: Option<([f64; 3], f64)> = None;
        for &(a, b) in &moves {
            let cand: [f64; 3] = std::array::from_fn(|i| c * d[i] + s * (a * t1[i] + b * t2[i]));
            let cand = scaled(cand, 1.0 / norm(cand));
            let v = f(cand);
            budget -= 1;
            if v > best + MOVE_TOLERANCE * best.abs() && next.is_none_or(|(_, w)| v > w) {
                next = Some((cand, v));
            }
        }
        match next {
            Some((cand, v)) => (d, best) = (cand, v),
            None => step *= 0.5,
        }
    }
    (d, sign * best)
}

impl Compliance {
    /// E(d), MPa, along the direction of `d` (any length but zero).
    pub fn directional(&self, d: [f64; 3]) -> Result<f64, TensorError> {
        let n = norm(d);
        if !(n.is_finite() && n > 0.0) {
            return Err(TensorError::BadDirection(d));
        }
        Ok(1.0 / quartic(&self.tensor(), scaled(d, 1.0 / n)))
    }

    /// E(θ) in `plane` at the `n` angles θ_k = 2πk/n: `(θ rad, E MPa)`.
    pub fn polar_cut(&self, plane: Plane, n: usize) -> Vec<(f64, f64)> {
        let t = self.tensor();
        (0..n)
            .map(|k| {
                let theta = std::f64::consts::TAU * k as f64 / n as f64;
                (theta, 1.0 / quartic(&t, plane.direction(theta)))
            })
            .collect()
    }

    /// The smallest and largest E(d) over all directions (module doc).
    /// S must be positive definite (a [`super::tensor::Stiffness::compliance`]
    /// is), so that 1/E > 0 everywhere.
    pub fn extremes(&self) -> Extremes {
        let t = self.tensor();
        let seeds: Vec<[f64; 3]> = cube_axes()
            .into_iter()
            .chain(fibonacci_half_sphere(SPHERE_POINTS))
            .collect();
        let q: Vec<f64> = seeds.iter().map(|&d| quartic(&t, d)).collect();
        // sign +1: the largest 1/E (E_min); −1: the smallest (E_max).
        let search = |sign: f64| -> ([f64; 3], f64) {
            let mut order: Vec<usize> = (0..seeds.len()).collect();
            // Stable: equal values keep the seed order.
            order.sort_by(|&a, &b| (sign * q[b]).total_cmp(&(sign * q[a])));
            let mut best: Option<([f64; 3], f64)> = None;
            for &i in order.iter().take(REFINED_SEEDS) {
                let (d, v) = refine(&t, seeds[i], sign);
                let better = best.is_none_or(|(_, w)| sign * (v - w) > TIE_TOLERANCE * w.abs());
                if better {
                    best = Some((d, v));
                }
            }
            let (d, v) = best.expect("REFINED_SEEDS > 0");
            (canonical(d), 1.0 / v)
        };
        let (d_min, e_min) = search(1.0);
        let (d_max, e_max) = search(-1.0);
        Extremes {
            e_min,
            d_min,
            e_max,
            d_max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::homogenize::tensor::Stiffness;

    /// 1/E from the Voigt quadratic form σᵀ S σ with σ = d⊗d in Voigt
    /// (no shear factors on a stress), independent of the tensor.
    fn inverse_e_voigt(s: &Compliance, d: [f64; 3]) -> f64 {
        let sigma = [
            d[0] * d[0],
            d[1] * d[1],
            d[2] * d[2],
            d[1] * d[2],
            d[0] * d[2],
            d[0] * d[1],
        ];
        (0..6)
            .flat_map(|m| (0..6).map(move |n| (m, n)))
            .map(|(m, n)| sigma[m] * s.0[m][n] * sigma[n])
            .sum()
    }

    #[test]
    fn tensor_contraction_equals_voigt_quadratic_form() {
        // A fully anisotropic S: a positive definite C with every entry set.
        let c = Stiffness(std::array::from_fn(|i| {
            std::array::from_fn(|j| {
                if i == j {
                    100.0 + 10.0 * i as f64
                } else {
                    5.0 + (i + j) as f64
                }
            })
        }));
        let s = c.compliance().unwrap();
        for d in fibonacci_half_sphere(50) {
            let e = s.directional(d).unwrap();
            let want = 1.0 / inverse_e_voigt(&s, d);
            assert!((e - want).abs() < 1e-12 * want, "{d:?}: {e} vs {want}");
        }
    }

    #[test]
    fn seeds_cover_the_half_sphere() {
        let seeds = fibonacci_half_sphere(SPHERE_POINTS);
        // Every probe direction has a seed within 0.05 rad (up to sign).
        for probe in fibonacci_half_sphere(997) {
            let cos = seeds
                .iter()
                .map(|s| (s[0] * probe[0] + s[1] * probe[1] + s[2] * probe[2]).abs())
                .fold(0.0, f64::max);
            assert!(cos > 0.05f64.cos(), "{probe:?}: nearest cos {cos}");
        }
        assert_eq!(cube_axes().len(), 13);
        for a in cube_axes() {
            assert!((norm(a) - 1.0).abs() < 1e-15);
        }
    }

    #[test]
    fn canonical_direction_sign() {
        assert_eq!(canonical([0.0, 0.0, -2.0]), [0.0, 0.0, 1.0]);
        assert_eq!(canonical([-1.0, 0.0, 0.0]), [1.0, 0.0, 0.0]);
        let d = canonical([1.0, -1.0, 0.0]);
        assert!(d[1] > 0.0 && d[0] < 0.0);
    }

    #[test]
    fn zero_direction_is_an_error() {
        let s = Stiffness::isotropic(100.0, 0.3).compliance().unwrap();
        assert!(matches!(
            s.directional([0.0; 3]),
            Err(TensorError::BadDirection(_))
        ));
        assert!(s.directional([f64::NAN, 0.0, 1.0]).is_err());
    }
}
