//! The scene's `[plastic]` table (`voxfe plastic`): the final apparent
//! strain and the number of increments. Checked by
//! [`PlasticSpec::check`], which names the key of a bad value.

use serde::{Deserialize, Serialize};

/// Default final apparent strain of `[plastic] strain`.
pub const DEFAULT_STRAIN: f64 = 0.02;
/// Default number of increments of `[plastic] increments`.
pub const DEFAULT_INCREMENTS: usize = 20;
/// Default `[plastic] tolerance`: on the shipped scene at h = 0.1 every
/// point of the curve solved to it is within 4.7e-6 of the one solved to
/// 1e-6, for 2.3× fewer PCG iterations (docs/plastic.md).
pub const DEFAULT_TOLERANCE: f64 = 1e-4;
/// The range of `[plastic] tolerance`.
pub const TOLERANCE_RANGE: (f64, f64) = (1e-10, 1e-2);
/// Default `[plastic] growth`: steps past σ_0.2 up to 4 nominal ones.
pub const DEFAULT_GROWTH: usize = 4;
/// Largest `[plastic] growth`.
pub const GROWTH_MAX: usize = 64;
/// Largest final strain: beyond it small strain is no model of the part.
pub const STRAIN_MAX: f64 = 0.2;
/// Largest hardening modulus H as a multiple of E (above E the "plastic"
/// branch is stiffer than half the elastic one: a unit slip).
pub const HARDENING_MAX_OVER_E: f64 = 1.0;

/// `[plastic]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlasticSpec {
    /// Final apparent strain δ/Lz (compression) or deflection over height
    /// (bending), 0 < strain ≤ 0.2.
    #[serde(default = "default_strain")]
    pub strain: f64,
    /// Number of equal displacement increments, at least 1.
    #[serde(default = "default_increments")]
    pub increments: usize,
    /// The element: hex8 with mean dilatation (B̄, true, the default) or
    /// the plain 2×2×2 hex8 (false), which matches the linear solver's
    /// hex8 stiffness but locks under isochoric plastic flow.
    #[serde(default = "default_mean_dilatation")]
    pub mean_dilatation: bool,
    /// Newton's force-residual tolerance of every increment: converged when
    /// ‖R‖₂ ≤ tolerance·‖f_int‖₂. 1e-10 ≤ tolerance ≤ 1e-2.
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    /// Past σ_0.2 (once the curve has met its offset line) steps grow to at
    /// most this many times the nominal strain/increments, doubling after
    /// each step that converged in few Newton steps; 1 keeps every step
    /// equal. 1 ≤ growth ≤ 64.
    #[serde(default = "default_growth")]
    pub growth: usize,
    /// Multigrid only: Newton steps with yielding points are preconditioned
    /// by a hierarchy built on their tangent (true: on the shipped scene
    /// 1.23× fewer PCG iterations and 5 % less wall time, for 1.6 kB more
    /// per active node) rather than the elastic one (false, the default).
    #[serde(default = "default_tangent_multigrid")]
    pub tangent_multigrid: bool,
}

fn default_tangent_multigrid() -> bool {
    false
}

fn default_tolerance() -> f64 {
    DEFAULT_TOLERANCE
}

fn default_growth() -> usize {
    DEFAULT_GROWTH
}

fn default_mean_dilatation() -> bool {
    true
}

fn default_strain() -> f64 {
    DEFAULT_STRAIN
}

fn default_increments() -> usize {
    DEFAULT_INCREMENTS
}

impl Default for PlasticSpec {
    fn default() -> Self {
        PlasticSpec {
            strain: DEFAULT_STRAIN,
            increments: DEFAULT_INCREMENTS,
            mean_dilatation: true,
            tolerance: DEFAULT_TOLERANCE,
            growth: DEFAULT_GROWTH,
            tangent_multigrid: false,
        }
    }
}

/// A bad `[plastic]` or hardening value: the key, the value and what is
/// allowed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key} = {value}: {allowed}")]
pub struct PlasticInputError {
    pub key: &'static str,
    pub value: String,
    pub allowed: String,
}

impl PlasticSpec {
    /// Checks the table.
    pub fn check(&self) -> Result<(), PlasticInputError> {
        if !(self.strain > 0.0 && self.strain <= STRAIN_MAX) {
            return Err(PlasticInputError {
                key: "plastic.strain",
                value: format!("{:?}", self.strain),
                allowed: format!(
                    "allowed: 0 < strain ≤ {STRAIN_MAX}, the final apparent strain (not percent)"
                ),
            });
        }
        if self.increments < 1 {
            return Err(PlasticInputError {
                key: "plastic.increments",
                value: self.increments.to_string(),
                allowed: "allowed: at least 1".into(),
            });
        }
        let (lo, hi) = TOLERANCE_RANGE;
        if !(self.tolerance >= lo && self.tolerance <= hi) {
            return Err(PlasticInputError {
                key: "plastic.tolerance",
                value: format!("{:?}", self.tolerance),
                allowed: format!("allowed: {lo:e} ≤ tolerance ≤ {hi:e}, Newton's force residual ‖R‖/‖f_int‖ of every increment"),
            });
        }
        if !(1..=GROWTH_MAX).contains(&self.growth) {
            return Err(PlasticInputError {
                key: "plastic.growth",
                value: self.growth.to_string(),
                allowed: format!("allowed: 1 ≤ growth ≤ {GROWTH_MAX}, the largest step past σ_0.2 as a multiple of strain/increments (1: equal steps)"),
            });
        }
        Ok(())
    }
}

/// Checks a hardening modulus H (MPa) against Young's modulus `e`.
pub fn check_hardening(h: f64, e: f64) -> Result<(), PlasticInputError> {
    if !(h >= 0.0 && h <= HARDENING_MAX_OVER_E * e) {
        return Err(PlasticInputError {
            key: "material.hardening",
            value: format!("{h:?}"),
            allowed: format!(
                "allowed: 0 ≤ hardening ≤ {HARDENING_MAX_OVER_E}·E = {} MPa (the linear hardening modulus in MPa; 0 is perfectly plastic)",
                HARDENING_MAX_OVER_E * e
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_name_their_key() {
        for (spec, key) in [
            (
                PlasticSpec {
                    strain: 0.0,
                    increments: 20,
                    mean_dilatation: true,
                    ..PlasticSpec::default()
                },
                "plastic.strain",
            ),
            (
                PlasticSpec {
                    strain: 0.25,
                    increments: 20,
                    mean_dilatation: true,
                    ..PlasticSpec::default()
                },
                "plastic.strain",
            ),
            (
                PlasticSpec {
                    strain: 0.02,
                    increments: 0,
                    mean_dilatation: true,
                    ..PlasticSpec::default()
                },
                "plastic.increments",
            ),
            (
                PlasticSpec {
                    tolerance: 0.0,
                    ..PlasticSpec::default()
                },
                "plastic.tolerance",
            ),
            (
                PlasticSpec {
                    tolerance: 0.1,
                    ..PlasticSpec::default()
                },
                "plastic.tolerance",
            ),
            (
                PlasticSpec {
                    growth: 0,
                    ..PlasticSpec::default()
                },
                "plastic.growth",
            ),
            (
                PlasticSpec {
                    growth: 65,
                    ..PlasticSpec::default()
                },
                "plastic.growth",
            ),
        ] {
            assert_eq!(spec.check().unwrap_err().key, key);
        }
        assert!(PlasticSpec::default().check().is_ok());
        assert_eq!(
            check_hardening(-1.0, 1e5).unwrap_err().key,
            "material.hardening"
        );
        assert!(check_hardening(2e5, 1e5).is_err());
        assert!(check_hardening(1e3, 1e5).is_ok());
    }
}
