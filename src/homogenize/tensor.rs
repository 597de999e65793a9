//! The homogenized stiffness tensor in Voigt notation and what is derived
//! from it alone: compliance, engineering constants, symmetry and cubic
//! anisotropy, and the [`Homogenized`] summary a run reports.
//!
//! Voigt order 11, 22, 33, 23, 13, 12 (index 0..6), engineering shear
//! strains (γ_ij = 2ε_ij), stresses and moduli in MPa: σ = C·ε with
//! ε = (ε11, ε22, ε33, γ23, γ13, γ12), and ε = S·σ with S = C⁻¹.
//!
//! Key formulas (spec, "Periodic homogenization"):
//!
//! ```text
//! symmetry error   ‖C − Cᵀ‖_F / ‖C‖_F
//! E_i = 1/S_ii (i = 1, 2, 3)    G_23 = 1/S_44   G_13 = 1/S_55   G_12 = 1/S_66
//! ν_ij = −S_ji/S_ii  = −ε_j/ε_i under uniaxial stress along i
//! cubic projection P(C): C11 = C22 = C33, C12 = C13 = C23 (and transposes),
//!                  C44 = C55 = C66 each the mean of their group, the rest 0
//! cubic deviation  ‖C − P(C)‖_F / ‖C‖_F
//! Zener ratio      A = 2·P44 / (P11 − P12)   (1 for an isotropic C)
//! ```
//!
//! P(C) is the average of C over the 48 symmetries of the cube (signed
//! permutations of the axes, which act on Voigt matrices as orthogonal
//! congruences), hence also the orthogonal (Frobenius) projection on the
//! cubic matrices, and positive definite when C is: P11 > P12 and P44 > 0,
//! so A is finite and positive for every C that has a compliance.
//!
//! The fourth-order tensors: C_ijkl = C_mn exactly (engineering shears
//! make no factors), while S_ijkl = S_mn · ½ per shear index m or n (1, ½
//! or ¼), so that ε_ij = S_ijkl σ_kl. The directional modulus from S is in
//! [`super::directional`].

use nalgebra::Matrix6;
use serde::Serialize;

/// The Voigt order of the rows and columns, as stated in every output.
pub const VOIGT_ORDER: [&str; 6] = ["11", "22", "33", "23", "13", "12"];

/// Below this ratio of the smallest to the largest eigenvalue of the
/// symmetric part of C, C is treated as singular: its inverse would carry
/// no correct digit worth reporting.
pub const SINGULAR_RATIO: f64 = 1e-12;

/// A fourth-order tensor of 3×3×3×3 components, `t[i][j][k][l]`.
pub type Tensor4 = [[[[f64; 3]; 3]; 3]; 3];

/// Voigt index of the tensor index pair (i, j), i, j in 0..3.
pub const fn voigt_index(i: usize, j: usize) -> usize {
    if i == j {
        i
    } else {
        6 - i - j
    }
}

/// A 6×6 stiffness matrix C^H, MPa, row-major in [`VOIGT_ORDER`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stiffness(pub [[f64; 6]; 6]);

/// A 6×6 compliance matrix S = C⁻¹, 1/MPa, row-major in [`VOIGT_ORDER`]
/// (engineering shear strains: ε = S·σ).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Compliance(pub [[f64; 6]; 6]);

/// Why no compliance (and nothing derived from it) exists for a stiffness.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TensorError {
    /// An entry of C is NaN or infinite.
    #[error("stiffness C[{row}][{col}] = {value} is not finite: every entry of C must be a finite number (MPa)")]
    NonFinite { row: usize, col: usize, value: f64 },
    /// The symmetric part of C has a zero eigenvalue (relative to the
    /// largest, below [`SINGULAR_RATIO`]): a deformation mode costs no
    /// energy, e.g. a cell whose solid does not connect across it.
    #[error("stiffness C is singular: smallest eigenvalue {min_eigenvalue} MPa against largest {max_eigenvalue} MPa (ratio below {SINGULAR_RATIO}); allowed: a positive definite C (a cell whose solid carries every strain)")]
    Singular {
        min_eigenvalue: f64,
        max_eigenvalue: f64,
    },
    /// The symmetric part of C has a negative eigenvalue: some strain
    /// would release energy, which no elastic solid does.
    #[error("stiffness C is not positive definite: smallest eigenvalue {min_eigenvalue} MPa < 0; allowed: a positive definite C")]
    NotPositiveDefinite { min_eigenvalue: f64 },
    /// A direction for the directional modulus is zero or not finite.
    #[error("direction ({}, {}, {}) has no length: allowed: a finite, non-zero vector", .0[0], .0[1], .0[2])]
    BadDirection([f64; 3]),
}

fn frobenius(a: &[[f64; 6]; 6]) -> f64 {
    a.iter().flatten().map(|v| v * v).sum::<f64>().sqrt()
}

impl Stiffness {
    fn matrix(&self) -> Matrix6<f64> {
        Matrix6::from_fn(|i, j| self.0[i][j])
    }

    /// The isotropic stiffness of Young's modulus `e` (MPa) and Poisson's
    /// ratio `nu`: C11 = λ + 2μ, C12 = λ, C44 = μ.
    pub fn isotropic(e: f64, nu: f64) -> Stiffness {
        let l = crate::material::LameParameters::from(crate::material::YoungPoisson { e, nu });
        Stiffness::cubic(l.lambda + 2.0 * l.mu, l.lambda, l.mu)
    }

    /// The cubic stiffness of C11, C12 and C44 (MPa), axes along the cube.
    pub fn cubic(c11: f64, c12: f64, c44: f64) -> Stiffness {
        Stiffness(std::array::from_fn(|i| {
            std::array::from_fn(|j| match (i < 3 && j < 3, i == j) {
                (true, true) => c11,
                (true, false) => c12,
                (false, true) => c44,
                (false, false) => 0.0,
            })
        }))
    }

    /// ‖C − Cᵀ‖_F / ‖C‖_F (0 for a zero C).
    pub fn symmetry_error(&self) -> f64 {
        let c = &self.0;
        let mut d = [[0.0; 6]; 6];
        for (i, row) in d.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = c[i][j] - c[j][i];
            }
        }
        let n = frobenius(c);
        if n > 0.0 {
            frobenius(&d) / n
        } else {
            0.0
        }
    }

    /// (C + Cᵀ)/2.
    pub fn symmetrized(&self) -> Stiffness {
        let c = &self.0;
        Stiffness(std::array::from_fn(|i| {
            std::array::from_fn(|j| 0.5 * (c[i][j] + c[j][i]))
        }))
    }

    fn check_finite(&self) -> Result<(), TensorError> {
        for (row, r) in self.0.iter().enumerate() {
            for (col, &value) in r.iter().enumerate() {
                if !value.is_finite() {
                    return Err(TensorError::NonFinite { row, col, value });
                }
            }
        }
        Ok(())
    }

    /// The smallest and largest eigenvalue of the symmetric part of C
    /// (whose sign decides whether εᵀCε > 0 for every ε).
    pub fn eigenvalue_range(&self) -> Result<(f64, f64), TensorError> {
        self.check_finite()?;
        let ev = self.symmetrized().matrix().symmetric_eigen().eigenvalues;
        Ok(ev
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            }))
    }

    /// Checks that C is finite and its symmetric part positive definite
    /// (smallest eigenvalue above [`SINGULAR_RATIO`] × the largest). An
    /// eigenvalue within ± that bound of 0 is singular (rounding decides
    /// its sign), one below it not positive definite.
    pub fn check_positive_definite(&self) -> Result<(), TensorError> {
        self.positive_definite_range().map(|_| ())
    }

    /// [`Stiffness::check_positive_definite`], returning the eigenvalue
    /// range when it passes.
    fn positive_definite_range(&self) -> Result<(f64, f64), TensorError> {
        let (min, max) = self.eigenvalue_range()?;
        if min < -SINGULAR_RATIO * max.abs() {
            Err(TensorError::NotPositiveDefinite {
                min_eigenvalue: min,
            })
        } else if min <= SINGULAR_RATIO * max {
            Err(TensorError::Singular {
                min_eigenvalue: min,
                max_eigenvalue: max,
            })
        } else {
            Ok((min, max))
        }
    }

    /// Whether [`Stiffness::check_positive_definite`] passes.
    pub fn is_positive_definite(&self) -> bool {
        self.check_positive_definite().is_ok()
    }

    /// S = C⁻¹ (of C as given; a C whose symmetric part is positive
    /// definite is invertible). Errors: non-finite, singular or not
    /// positive definite C, with the smallest eigenvalue.
    pub fn compliance(&self) -> Result<Compliance, TensorError> {
        let (min, max) = self.positive_definite_range()?;
        // Only an exactly zero pivot fails here (positive definite
        // matrices are invertible).
        let inv = self.matrix().try_inverse().ok_or(TensorError::Singular {
            min_eigenvalue: min,
            max_eigenvalue: max,
        })?;
        Ok(Compliance(std::array::from_fn(|i| {
            std::array::from_fn(|j| inv[(i, j)])
        })))
    }

    /// The projection P(C) on cubic symmetry (module doc).
    pub fn cubic_projection(&self) -> Stiffness {
        let c = &self.0;
        let diag: f64 = (0..3).map(|i| c[i][i]).sum();
        let shear: f64 = (3..6).map(|i| c[i][i]).sum();
        let off: f64 = (0..3)
            .flat_map(|i| (0..3).filter(move |&j| j != i).map(move |j| c[i][j]))
            .sum();
        Stiffness::cubic(diag / 3.0, off / 6.0, shear / 3.0)
    }

    /// ‖C − P(C)‖_F / ‖C‖_F: 0 for a cubic C (0 for a zero C).
    pub fn cubic_deviation(&self) -> f64 {
        let p = self.cubic_projection();
        let d: [[f64; 6]; 6] =
            std::array::from_fn(|i| std::array::from_fn(|j| self.0[i][j] - p.0[i][j]));
        let n = frobenius(&self.0);
        if n > 0.0 {
            frobenius(&d) / n
        } else {
            0.0
        }
    }

    /// The Zener ratio A = 2·P44/(P11 − P12) of the cubic projection P(C).
    /// Errors as [`Stiffness::compliance`] (then P11 − P12 may vanish).
    pub fn zener_ratio(&self) -> Result<f64, TensorError> {
        self.check_positive_definite()?;
        let p = self.cubic_projection().0;
        Ok(2.0 * p[3][3] / (p[0][0] - p[0][1]))
    }

    /// The fourth-order tensor C_ijkl = C_mn (m = voigt(i, j),
    /// n = voigt(k, l)).
    pub fn tensor(&self) -> Tensor4 {
        tensor4(&self.0, |_, _| 1.0)
    }

    /// The Voigt matrix of a fourth-order stiffness tensor (its
    /// components C_iijj, C_ii23, … read directly).
    pub fn from_tensor(t: &Tensor4) -> Stiffness {
        const PAIRS: [(usize, usize); 6] = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)];
        Stiffness(std::array::from_fn(|m| {
            std::array::from_fn(|n| {
                let ((i, j), (k, l)) = (PAIRS[m], PAIRS[n]);
                t[i][j][k][l]
            })
        }))
    }

    /// The material turned by the rotation matrix `r`:
    /// C'_ijkl = r_ia r_jb r_kc r_ld C_abcd, so that the rotated material
    /// along r·d behaves as this one along d.
    pub fn rotated(&self, r: &[[f64; 3]; 3]) -> Stiffness {
        let c = self.tensor();
        let mut out = [[[[0.0; 3]; 3]; 3]; 3];
        // Four successive one-index transforms, each a fixed-order sum.
        let mut t = c;
        for slot in 0..4 {
            for (i, a) in out.iter_mut().enumerate() {
                for (j, b) in a.iter_mut().enumerate() {
                    for (k, cc) in b.iter_mut().enumerate() {
                        for (l, v) in cc.iter_mut().enumerate() {
                            let idx = [i, j, k, l];
                            *v = (0..3)
                                .map(|p| {
                                    let mut src = idx;
                                    src[slot] = p;
                                    r[idx[slot]][p] * t[src[0]][src[1]][src[2]][src[3]]
                                })
                                .sum();
                        }
                    }
                }
            }
            t = out;
        }
        Stiffness::from_tensor(&t)
    }
}

/// The 3×3×3×3 tensor of a Voigt matrix `v`, component (ijkl) =
/// `v[m][n]·factor(m, n)`.
fn tensor4(v: &[[f64; 6]; 6], factor: impl Fn(usize, usize) -> f64) -> Tensor4 {
    std::array::from_fn(|i| {
        std::array::from_fn(|j| {
            std::array::from_fn(|k| {
                std::array::from_fn(|l| {
                    let (m, n) = (voigt_index(i, j), voigt_index(k, l));
                    v[m][n] * factor(m, n)
                })
            })
        })
    })
}

/// The engineering constants of a compliance S (module doc): moduli in
/// MPa, `nu_ij = −S_ji/S_ii` = −ε_j/ε_i under uniaxial stress along i.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EngineeringConstants {
    pub e1: f64,
    pub e2: f64,
    pub e3: f64,
    pub g23: f64,
    pub g13: f64,
    pub g12: f64,
    pub nu12: f64,
    pub nu13: f64,
    pub nu21: f64,
    pub nu23: f64,
    pub nu31: f64,
    pub nu32: f64,
}

impl Compliance {
    /// The fourth-order tensor S_ijkl = S_mn · ½ per shear index (m or n
    /// ≥ 3): factors 1, ½, ¼, since γ = 2ε for the shears.
    pub fn tensor(&self) -> Tensor4 {
        let half = |m: usize| if m < 3 { 1.0 } else { 0.5 };
        tensor4(&self.0, |m, n| half(m) * half(n))
    }

    /// E_i, G_ij and ν_ij (module doc).
    pub fn engineering_constants(&self) -> EngineeringConstants {
        let s = &self.0;
        let nu = |i: usize, j: usize| -s[j][i] / s[i][i];
        EngineeringConstants {
            e1: 1.0 / s[0][0],
            e2: 1.0 / s[1][1],
            e3: 1.0 / s[2][2],
            g23: 1.0 / s[3][3],
            g13: 1.0 / s[4][4],
            g12: 1.0 / s[5][5],
            nu12: nu(0, 1),
            nu13: nu(0, 2),
            nu21: nu(1, 0),
            nu23: nu(1, 2),
            nu31: nu(2, 0),
            nu32: nu(2, 1),
        }
    }
}

/// The smallest and largest directional modulus (MPa) and their unit
/// directions
/// ([`Compliance::extremes`], in [`super::directional`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Extremes {
    pub e_min: f64,
    pub d_min: [f64; 3],
    pub e_max: f64,
    pub d_max: [f64; 3],
}

/// What a periodic homogenization reports about its C^H (JSON-ready).
///
/// `c` is C as computed; everything else is derived from its symmetric
/// part (C + Cᵀ)/2, whose asymmetry `symmetry_error` says how far the
/// solves were from the exact (symmetric) C^H.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Homogenized {
    /// ["11", "22", "33", "23", "13", "12"], engineering shear strains.
    pub voigt_order: [&'static str; 6],
    /// C^H, MPa, six rows in `voigt_order`.
    pub c: [[f64; 6]; 6],
    /// ‖C − Cᵀ‖_F/‖C‖_F.
    pub symmetry_error: f64,
    /// S = ((C + Cᵀ)/2)⁻¹, 1/MPa.
    pub s: [[f64; 6]; 6],
    pub engineering: EngineeringConstants,
    /// 2·P44/(P11 − P12) of the cubic projection P.
    pub zener_ratio: f64,
    /// ‖C − P(C)‖_F/‖C‖_F.
    pub cubic_deviation: f64,
    /// Smallest directional Young's modulus, MPa, and its direction.
    pub e_min: f64,
    pub d_min: [f64; 3],
    /// Largest directional Young's modulus, MPa, and its direction.
    pub e_max: f64,
    pub d_max: [f64; 3],
    /// e_max / e_min (1 for an isotropic C).
    pub e_max_over_min: f64,
    /// The homogenized modulus along z, 1/S33, MPa.
    pub e_h: f64,
}

impl Homogenized {
    /// The summary of `c`; errors when C has no compliance (non-finite,
    /// singular or not positive definite).
    pub fn new(c: &Stiffness) -> Result<Homogenized, TensorError> {
        c.check_finite()?;
        let sym = c.symmetrized();
        let s = sym.compliance()?.0;
        // The inverse of a symmetric C, symmetric to the last digit.
        let s = Compliance(std::array::from_fn(|i| {
            std::array::from_fn(|j| 0.5 * (s[i][j] + s[j][i]))
        }));
        let Extremes {
            e_min,
            d_min,
            e_max,
            d_max,
        } = s.extremes();
        let engineering = s.engineering_constants();
        Ok(Homogenized {
            voigt_order: VOIGT_ORDER,
            c: c.0,
            symmetry_error: c.symmetry_error(),
            s: s.0,
            engineering,
            zener_ratio: sym.zener_ratio()?,
            cubic_deviation: sym.cubic_deviation(),
            e_min,
            d_min,
            e_max,
            d_max,
            e_max_over_min: e_max / e_min,
            e_h: engineering.e3,
        })
    }
}
