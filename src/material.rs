//! Isotropic linear-elastic materials.
//!
//! A material is given by Young's modulus `E` (MPa) and Poisson's ratio `ν`
//! ([`YoungPoisson`]). The element formulas use the Lamé parameters
//! ([`LameParameters`]):
//!
//! ```text
//! λ = E ν / ((1 + ν)(1 − 2ν)),    μ = E / (2 (1 + ν))
//! ```
//!
//! and the stress–strain law in Voigt notation
//! `σ = D ε`, `ε = (εxx, εyy, εzz, γxy, γyz, γzx)` with engineering shear
//! strains, `D = λ·m mᵀ + μ·diag(2, 2, 2, 1, 1, 1)`, `m = (1, 1, 1, 0, 0, 0)`.
//!
//! Scenes may give E in [`E_MIN`, `E_MAX`] MPa (1 kPa to 1.2 TPa) and ν in
//! [`NU_MIN`, `NU_MAX`]; the constants say why.

use serde::{Deserialize, Serialize};

/// Young's modulus (MPa) and Poisson's ratio.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct YoungPoisson {
    /// Young's modulus E, MPa.
    pub e: f64,
    /// Poisson's ratio ν, dimensionless, −1 < ν < 0.5 (scenes: [`NU_MIN`],
    /// [`NU_MAX`]).
    pub nu: f64,
}

/// Lamé parameters λ and μ (MPa).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LameParameters {
    pub lambda: f64,
    pub mu: f64,
}

impl From<YoungPoisson> for LameParameters {
    fn from(m: YoungPoisson) -> Self {
        LameParameters {
            lambda: m.e * m.nu / ((1.0 + m.nu) * (1.0 - 2.0 * m.nu)),
            mu: m.e / (2.0 * (1.0 + m.nu)),
        }
    }
}

impl From<LameParameters> for YoungPoisson {
    fn from(l: LameParameters) -> Self {
        let e = l.mu * (3.0 * l.lambda + 2.0 * l.mu) / (l.lambda + l.mu);
        let nu = l.lambda / (2.0 * (l.lambda + l.mu));
        YoungPoisson { e, nu }
    }
}

/// Smallest Young's modulus a scene may give, MPa: 1 kPa, the softest
/// solids (hydrogels) one could print as a lattice.
pub const E_MIN: f64 = 1e-3;
/// Largest Young's modulus a scene may give, MPa: 1.2 TPa, diamond, the
/// stiffest bulk solid. Outside [`E_MIN`, `E_MAX`] a value is almost surely
/// a unit slip (Pa or GPa for MPa), and far outside it the element
/// stiffness under- or overflows the solvers' floating point (1e-308
/// "converged" in 0 iterations, 1e200 looked like a mechanism).
pub const E_MAX: f64 = 1.2e6;
/// Smallest Poisson's ratio a scene may give: below it the shear modulus
/// exceeds the bulk modulus over 40-fold (μ/K → ∞ as ν → −1).
pub const NU_MIN: f64 = -0.9;
/// Largest Poisson's ratio a scene may give: above it the bulk modulus
/// exceeds the shear modulus about 50-fold (K/μ → ∞ as ν → 0.5), and the
/// fully integrated trilinear voxel elements lock (report too stiff a part).
pub const NU_MAX: f64 = 0.49;

/// Named material presets: `(name, E in MPa, ν, yield strength σ_y in
/// MPa, description)`.
///
/// E and ν are typical handbook figures for the bulk (fully dense) metal.
/// σ_y is the 0.2 % offset yield strength the implant-material standard
/// guarantees as a minimum (see each constant): a design estimate should
/// not rest on a typical value the part may not reach. Printed and
/// heat-treated lattice metal is often stronger than that minimum; the
/// scene key `material.yield_strength` gives a measured value instead.
pub const PRESETS: &[(&str, f64, f64, f64, &str)] = &[
    (
        "tantalum",
        186_000.0,
        0.34,
        TANTALUM_YIELD,
        "unalloyed tantalum",
    ),
    (
        "ti6al4v",
        110_000.0,
        0.34,
        TI6AL4V_YIELD,
        "Ti-6Al-4V (grade 5 / ELI grade 23)",
    ),
    (
        "titanium",
        105_000.0,
        0.37,
        TITANIUM_YIELD,
        "commercially pure titanium, grade 2",
    ),
    (
        "cocr",
        210_000.0,
        0.30,
        COCR_YIELD,
        "cobalt-chromium-molybdenum (ASTM F75)",
    ),
    (
        "ss316l",
        193_000.0,
        0.30,
        SS316L_YIELD,
        "316L stainless steel",
    ),
];

/// Unalloyed tantalum, MPa: 103 MPa (15 ksi), the minimum 0.2 % yield
/// strength of *annealed* unalloyed tantalum (UNS R05200/R05400) in
/// ASTM F560 (the surgical-implant specification, which takes the mill
/// product values of ASTM B365/B708). Annealed is the condition of the
/// lowest guaranteed strength and the one a stress-relieved or hot
/// isostatically pressed printed part comes closest to; cold-worked
/// tantalum, and laser-powder-bed tantalum as built, are stronger.
pub const TANTALUM_YIELD: f64 = 103.0;
/// Ti-6Al-4V, MPa: 795 MPa, the minimum yield strength of Ti-6Al-4V ELI
/// (grade 23) in ASTM F136 (wrought) and ASTM F3001 (powder-bed fusion);
/// grade 5 (ASTM F1472, 860 MPa) is stronger, so the ELI figure holds for
/// both grades the preset names.
pub const TI6AL4V_YIELD: f64 = 795.0;
/// Commercially pure titanium grade 2, MPa: 275 MPa, the minimum yield
/// strength of grade 2 in ASTM F67.
pub const TITANIUM_YIELD: f64 = 275.0;
/// Cast cobalt-chromium-molybdenum, MPa: 450 MPa, the minimum yield
/// strength of ASTM F75 castings.
pub const COCR_YIELD: f64 = 450.0;
/// 316L stainless steel, MPa: 190 MPa, the minimum yield strength of
/// annealed bar to ASTM F138 (the lowest condition it lists).
pub const SS316L_YIELD: f64 = 190.0;

impl YoungPoisson {
    /// The yield strength σ_y (MPa) of the preset of that name, if any.
    pub fn preset_yield_strength(name: &str) -> Option<f64> {
        PRESETS.iter().find(|p| p.0 == name).map(|p| p.3)
    }

    /// The preset of that name, if any.
    pub fn preset(name: &str) -> Option<YoungPoisson> {
        PRESETS
            .iter()
            .find(|p| p.0 == name)
            .map(|p| YoungPoisson { e: p.1, nu: p.2 })
    }

    /// Tantalum, the default material of the spec: E = 186 000 MPa, ν = 0.34.
    pub fn tantalum() -> YoungPoisson {
        YoungPoisson {
            e: 186_000.0,
            nu: 0.34,
        }
    }

    /// The 6×6 Voigt elasticity matrix D (see the module docs).
    pub fn elasticity_matrix(&self) -> nalgebra::SMatrix<f64, 6, 6> {
        let LameParameters { lambda, mu } = (*self).into();
        let mut d = nalgebra::SMatrix::<f64, 6, 6>::zeros();
        for i in 0..3 {
            for j in 0..3 {
                d[(i, j)] = lambda;
            }
            d[(i, i)] += 2.0 * mu;
            d[(i + 3, i + 3)] = mu;
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn presets_lie_in_the_allowed_range() {
        for p in PRESETS {
            assert!((E_MIN..=E_MAX).contains(&p.1), "{}", p.0);
            assert!((NU_MIN..=NU_MAX).contains(&p.2), "{}", p.0);
            let yield_range =
                crate::strength::YIELD_STRENGTH_MIN..=crate::strength::YIELD_STRENGTH_MAX;
            assert!(yield_range.contains(&p.3), "{}", p.0);
            // Below E/100 (ε_y < 1 %): a metal's elastic limit.
            assert!(p.3 < p.1 / 100.0, "{}", p.0);
        }
    }

    #[test]
    fn lame_round_trip() {
        let m = YoungPoisson::tantalum();
        let back: YoungPoisson = LameParameters::from(m).into();
        assert_relative_eq!(back.e, m.e, max_relative = 1e-14);
        assert_relative_eq!(back.nu, m.nu, max_relative = 1e-14);
    }
}
