//! Strength estimates from the linear solution (`shared/spec/conventions.md`,
//! "Strength estimates (linear)").
//!
//! Per solid voxel, at its centre: the strain ε = B(0)·uₑ (Voigt, with
//! engineering shears), the tissue stress σ = D·ε (the stress of the solid
//! itself, whatever its fill fraction φₑ), the strain energy density
//! SED = ½ σ·ε, the effective (energy-equivalent) strain
//! EES = √(2·SED/E_s) and the von Mises stress ([`VoxelFields`]).
//!
//! Two estimates, both standard in micro-FE and both *estimates* for the
//! ideal geometry in a linear solution, not a measured strength of an
//! as-built part:
//!
//! - **Pistoia failure load** F_fail = F·ε_c / EES_p: the load at which the
//!   critical volume (2 % of the solid) reaches the critical strain
//!   ε_c = 0.007. This is the definition and these are the defaults of
//!   Numerics88's n88tools `pistoia.py` (`--critical_volume 2.0`,
//!   `--critical_strain 0.007`): it sorts the elements' EES in increasing
//!   order and takes `ees[int(n·(100 − v)/100)]`; [`weighted_percentile`]
//!   is that rule with each voxel weighted by its solid volume φₑ·h³, and
//!   gives n88tools' element for binary voxels.
//! - **First yield** F_y = F·σ_y / σ_vM,q: the load at which the von Mises
//!   stress of the q-th volume percentile (q = 99 %) reaches the yield
//!   strength σ_y; the percentile avoids the voxel-corner singularity that
//!   makes the peak change with h. The peak is reported beside it, never as
//!   the strength.
//!
//! Each load case turns the two loads into its apparent quantities
//! (`crate::fem::load`): yield stress and failure stress in compression,
//! flexural strength in bending, failure load and stress over the footprint
//! for an implant.

use crate::fem::hex8;
use crate::fem::mesh::ActiveMesh;
use crate::grid::VoxelGrid;
use crate::material::YoungPoisson;
use rayon::prelude::*;
use serde::Serialize;

/// Critical strain ε_c of the Pistoia criterion, n88tools' default.
pub const DEFAULT_CRITICAL_STRAIN: f64 = 0.007;
/// Critical volume of the Pistoia criterion, percent of the solid volume,
/// n88tools' default: EES is taken at the 98th volume percentile.
pub const CRITICAL_VOLUME_PERCENT: f64 = 2.0;
/// The volume percentile of the von Mises stress that sets first yield.
pub const YIELD_PERCENTILE: f64 = 99.0;

/// Smallest critical strain a scene may give (0.01 %).
pub const CRITICAL_STRAIN_MIN: f64 = 1e-4;
/// Largest critical strain a scene may give (20 %: far past any
/// linear-elastic estimate).
pub const CRITICAL_STRAIN_MAX: f64 = 0.2;
/// Smallest yield strength a scene may give, MPa (1 kPa, as `E_MIN`).
pub const YIELD_STRENGTH_MIN: f64 = 1e-3;
/// Largest yield strength a scene may give, MPa (10 GPa, above any metal:
/// a larger value is a unit slip, Pa for MPa).
pub const YIELD_STRENGTH_MAX: f64 = 1e4;

/// D/h from which a lattice's strength estimates are taken as near their
/// converged value: measured (docs/validation.md, "Strength estimates") the
/// first-yield estimate of one 80 % RD cell settled only near M/80, D/h ≈ 12.
pub const STRENGTH_MIN_D_OVER_H: f64 = 12.0;

/// What was measured of the strength estimates' convergence in h.
const STRENGTH_MEASURED: &str = "measured on one 80 % RD cell, the first-yield stress with p = 2 went 1.67 → 2.32 MPa (+39 %) from M/20 to M/80, settling only near M/80 (D/h ≈ 12), and binary and calibrated fraction fill differed by a factor 1.75 at M/30 (docs/validation.md, 'Strength estimates')";

/// The study that gives the strength estimates' error at a run's h.
const STRENGTH_STUDY: &str = "`voxfe converge SCENE --quantity yield_load --quantity failure_load`";

/// How far the strength estimates (first yield, Pistoia) of a run are known
/// to be from converged, at its strut diameter over voxel size `d_over_h`
/// (`None`: no strut diameter) with its exponent from `exponent_source`
/// ([`crate::calibration::Accuracy::exponent_source`]). They converge in h
/// much more slowly than the modulus, so below [`STRENGTH_MIN_D_OVER_H`]
/// they are "not converged at this h"; no D/h makes them a converged
/// number without a study.
pub fn strength_error_statement(d_over_h: Option<f64>, exponent_source: &str) -> String {
    match (d_over_h, exponent_source) {
        (Some(d), _) if d < STRENGTH_MIN_D_OVER_H * (1.0 - 1e-9) => format!(
            "not converged at this h (D/h = {d:.1}): {STRENGTH_MEASURED}; refine to D/h ≥ {STRENGTH_MIN_D_OVER_H} (voxel.size ≤ D/{STRENGTH_MIN_D_OVER_H}) or run a convergence study ({STRENGTH_STUDY})"
        ),
        (Some(d), _) => format!(
            "D/h = {d:.1} ≥ {STRENGTH_MIN_D_OVER_H}, where the first-yield estimate of one 80 % RD cell settled (p = 2: 1.67 → 2.32 MPa from M/20 to M/80, its change shrinking only near M/80, D/h ≈ 12; docs/validation.md, 'Strength estimates'); its error at this h is not estimated: {STRENGTH_STUDY} gives it"
        ),
        (None, "none") => format!(
            "not a lattice: no D/h rule; on the solid 80 × 10 × 10 mm bar in bending the flexural strength went 122.65 → 127.95 → 127.97 MPa at h = 1, 0.5, 0.25 mm (docs/validation.md, 'Strength estimates'); its error at this h is not estimated: {STRENGTH_STUDY} gives it"
        ),
        (None, "image") => format!(
            "an image has no strut diameter, so how far its strength estimates are from converged is not known; they converge much more slowly in h than the modulus ({STRENGTH_MEASURED}); run a convergence study ({STRENGTH_STUDY})"
        ),
        (None, _) => format!(
            "the lattice has no strut diameter, so how far its strength estimates are from converged is not known; they converge much more slowly in h than the modulus ({STRENGTH_MEASURED}); run a convergence study ({STRENGTH_STUDY})"
        ),
    }
}

/// Per-voxel fields at the voxel centres, voxel-id order, 0 for void.
#[derive(Debug, Clone, PartialEq)]
pub struct VoxelFields {
    /// Von Mises stress of the tissue, MPa.
    pub von_mises: Vec<f64>,
    /// Strain energy density ½ σ·ε of the tissue, MPa (mJ/mm³).
    pub sed: Vec<f64>,
    /// Effective strain √(2·SED/E_s).
    pub ees: Vec<f64>,
}

/// The 24 displacements of voxel `(i, j, k)`'s corners (hex8 local node
/// order) from `u`, 3 per active node of `mesh` as the solver numbers them.
pub fn element_displacement(
    grid: &VoxelGrid,
    mesh: &ActiveMesh,
    u: &[f64],
    [i, j, k]: [usize; 3],
) -> nalgebra::SVector<f64, 24> {
    let mut ue = nalgebra::SVector::<f64, 24>::zeros();
    for a in 0..8 {
        let c = hex8::corner(a);
        let node = mesh.node_map[grid.node_id(i + c[0], j + c[1], k + c[2])] as usize;
        for comp in 0..3 {
            ue[3 * a + comp] = u[3 * node + comp];
        }
    }
    ue
}

impl VoxelFields {
    /// The fields of the nodal displacement `u` (3 per active node of
    /// `mesh`) on `grid` of `material`.
    pub fn new(grid: &VoxelGrid, material: YoungPoisson, mesh: &ActiveMesh, u: &[f64]) -> Self {
        let [nx, ny, _] = grid.dims;
        let b = hex8::strain_displacement([0.0; 3], grid.h);
        // σ = (D·B)·uₑ, the product the von Mises field was always taken
        // with (so its bits do not change).
        let db = material.elasticity_matrix() * b;
        let n = grid.voxel_count();
        let mut cells = vec![[0.0f64; 3]; n];
        cells.par_chunks_mut(nx).enumerate().for_each(|(row, out)| {
            let (j, k) = (row % ny, row / ny);
            for (i, cell) in out.iter_mut().enumerate() {
                if !grid.is_solid(i, j, k) {
                    continue;
                }
                let ue = element_displacement(grid, mesh, u, [i, j, k]);
                let strain = b * ue;
                let stress = db * ue;
                let sed = 0.5 * stress.dot(&strain);
                *cell = [
                    hex8::von_mises(&stress),
                    sed,
                    (2.0 * sed.max(0.0) / material.e).sqrt(),
                ];
            }
        });
        VoxelFields {
            von_mises: cells.iter().map(|c| c[0]).collect(),
            sed: cells.iter().map(|c| c[1]).collect(),
            ees: cells.iter().map(|c| c[2]).collect(),
        }
    }

    /// The largest von Mises stress, MPa.
    pub fn peak_von_mises(&self) -> f64 {
        self.von_mises.iter().fold(0.0, |a, &b| a.max(b))
    }

    /// The percentiles of the estimates: EES at the critical volume and the
    /// von Mises stress at [`YIELD_PERCENTILE`], by solid volume.
    pub fn percentiles(&self, grid: &VoxelGrid) -> Percentiles {
        let weights: Vec<f64> = (0..grid.voxel_count()).map(|v| grid.phi(v)).collect();
        let solid = |v: &usize| grid.solid[*v] != 0;
        let of = |field: &[f64], p: f64| {
            let (values, w): (Vec<f64>, Vec<f64>) = (0..field.len())
                .filter(solid)
                .map(|v| (field[v], weights[v]))
                .unzip();
            weighted_percentile(&values, &w, p).ok()
        };
        Percentiles {
            ees: of(&self.ees, 100.0 - CRITICAL_VOLUME_PERCENT),
            von_mises: of(&self.von_mises, YIELD_PERCENTILE),
        }
    }
}

/// EES at the critical volume and von Mises stress at the yield percentile,
/// at the solved load; `None` without solid (or with zero solid volume).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Percentiles {
    pub ees: Option<f64>,
    pub von_mises: Option<f64>,
}

/// Why a percentile could not be taken.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PercentileError {
    #[error("percentile {p}: allowed: 0 < p < 100")]
    OutOfRange { p: f64 },
    #[error("{values} values but {weights} weights")]
    Lengths { values: usize, weights: usize },
    #[error(
        "the weights sum to {total}: allowed: finite, non-negative weights with a positive sum"
    )]
    NoWeight { total: f64 },
}

/// The `p`-th percentile (0 < p < 100) of `values` weighted by `weights`:
/// with the pairs sorted by value (ties by weight, both by `total_cmp`, so
/// that any permutation of the pairs gives the same bits), the first value
/// whose cumulative weight exceeds W·p/100, W the total weight. With equal
/// weights it is n88tools' `x[int(n·p/100)]` of the sorted values.
pub fn weighted_percentile(
    values: &[f64],
    weights: &[f64],
    p: f64,
) -> Result<f64, PercentileError> {
    if !(p > 0.0 && p < 100.0) {
        return Err(PercentileError::OutOfRange { p });
    }
    if values.len() != weights.len() {
        return Err(PercentileError::Lengths {
            values: values.len(),
            weights: weights.len(),
        });
    }
    let mut pairs: Vec<(f64, f64)> = values
        .iter()
        .copied()
        .zip(weights.iter().copied())
        .collect();
    pairs.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let total: f64 = pairs.iter().map(|q| q.1).sum();
    if !(total.is_finite() && total > 0.0) || pairs.iter().any(|q| q.1.is_nan() || q.1 < 0.0) {
        return Err(PercentileError::NoWeight { total });
    }
    // n88tools: int(n·(100 − v)/100), the product taken first.
    let threshold = total * p / 100.0;
    let mut cumulative = 0.0;
    for &(value, weight) in &pairs {
        cumulative += weight;
        if cumulative > threshold {
            return Ok(value);
        }
    }
    // Rounding left the sum at the threshold: the largest value.
    Ok(pairs.last().expect("a positive total has a pair").0)
}

/// The material strength of the estimates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StrengthParams {
    /// Yield strength σ_y of the solid, MPa (`None`: a material given by E
    /// and nu without `material.yield_strength`; no first-yield estimate).
    pub yield_strength: Option<f64>,
    /// Critical strain ε_c of the Pistoia criterion.
    pub critical_strain: f64,
}

/// The two loads of a solve, N; `None` where the estimate is not made.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StrengthLoads {
    /// First yield F_y = σ_y / (σ_vM,q per newton).
    pub yield_load: Option<f64>,
    /// Pistoia F_fail = ε_c / (EES_p per newton).
    pub failure_load: Option<f64>,
}

impl StrengthParams {
    /// The loads of a solve from its percentiles per newton of load
    /// (`von_mises`: σ_vM,q/F in MPa/N, `ees`: EES_p/F in 1/N); a missing
    /// or zero percentile (no strain in the solid) gives no load.
    pub fn loads(&self, von_mises: Option<f64>, ees: Option<f64>) -> StrengthLoads {
        let positive = |v: Option<f64>| v.filter(|&x| x > 0.0 && x.is_finite());
        StrengthLoads {
            yield_load: self
                .yield_strength
                .zip(positive(von_mises))
                .map(|(sy, vm)| sy / vm),
            failure_load: positive(ees).map(|e| self.critical_strain / e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_weights_give_n88tools_element() {
        // n = 200: int(200·98/100) = 196, the 197th smallest.
        let values: Vec<f64> = (0..200).map(|i| ((i * 37) % 200) as f64).collect();
        let w = vec![1.0; 200];
        assert_eq!(weighted_percentile(&values, &w, 98.0).unwrap(), 196.0);
        assert_eq!(weighted_percentile(&values, &w, 99.0).unwrap(), 198.0);
        // n = 150: int(150·0.98) = 147.
        let w = vec![1.0; 150];
        let v: Vec<f64> = (0..150).map(f64::from).collect();
        assert_eq!(weighted_percentile(&v, &w, 98.0).unwrap(), 147.0);
    }

    #[test]
    fn percentiles_are_weighted_by_volume() {
        // Value 1 with weight 0.97, value 2 with 0.03: 97 % of the volume
        // lies at 1, so the 98th percentile is 2, the 96th is 1.
        let v = [2.0, 1.0];
        let w = [0.03, 0.97];
        assert_eq!(weighted_percentile(&v, &w, 98.0).unwrap(), 2.0);
        assert_eq!(weighted_percentile(&v, &w, 96.0).unwrap(), 1.0);
        // Counted per voxel instead it would be 2 at any p ≥ 50.
        assert_eq!(weighted_percentile(&v, &[1.0, 1.0], 60.0).unwrap(), 2.0);
        // A void-like zero weight never wins.
        assert_eq!(
            weighted_percentile(&[5.0, 1.0], &[0.0, 1.0], 99.0).unwrap(),
            1.0
        );
    }

    #[test]
    fn percentiles_do_not_depend_on_voxel_order() {
        // Pseudo-random values with many ties and weights in (0, 1].
        let n = 1000;
        let mut s = 12345u64;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 33) as f64 / (1u64 << 31) as f64
        };
        let v: Vec<f64> = (0..n).map(|_| (next() * 50.0).floor()).collect();
        let w: Vec<f64> = (0..n).map(|_| 0.05 + 0.95 * next()).collect();
        let perm: Vec<usize> = (0..n).map(|i| (i * 389 + 17) % n).collect();
        let pv: Vec<f64> = perm.iter().map(|&i| v[i]).collect();
        let pw: Vec<f64> = perm.iter().map(|&i| w[i]).collect();
        for p in [1.0, 50.0, 98.0, 99.0, 99.9] {
            let a = weighted_percentile(&v, &w, p).unwrap();
            let b = weighted_percentile(&pv, &pw, p).unwrap();
            assert_eq!(a.to_bits(), b.to_bits(), "p = {p}");
        }
        // And the weighting matters here: not the unweighted value.
        let ones = vec![1.0; n];
        let a = weighted_percentile(&v, &w, 30.0).unwrap();
        let u = weighted_percentile(&v, &ones, 30.0).unwrap();
        let by_hand = {
            let mut pairs: Vec<_> = v.iter().zip(&w).collect();
            pairs.sort_by(|a, b| a.0.total_cmp(b.0));
            let total: f64 = w.iter().sum();
            let mut c = 0.0;
            *pairs
                .iter()
                .find(|p| {
                    c += p.1;
                    c > 0.3 * total
                })
                .unwrap()
                .0
        };
        assert_eq!(a, by_hand);
        assert!(a.is_finite() && u.is_finite());
    }

    #[test]
    fn bad_percentiles_and_weights_are_errors() {
        for p in [0.0, 100.0, -1.0, f64::NAN] {
            let e = weighted_percentile(&[1.0], &[1.0], p).unwrap_err();
            assert!(e.to_string().contains("0 < p < 100"), "{e}");
        }
        assert!(weighted_percentile(&[1.0], &[0.0], 50.0).is_err());
        assert!(weighted_percentile(&[], &[], 50.0).is_err());
        assert!(weighted_percentile(&[1.0], &[1.0, 2.0], 50.0).is_err());
    }

    #[test]
    fn each_load_case_names_its_strength() {
        use crate::fem::load::{LoadCase, Platens};
        let params = StrengthParams {
            yield_strength: Some(100.0),
            critical_strain: 0.007,
        };
        // σ_vM,q = 0.5 MPa/N, EES_p = 1e-5 /N: F_y = 200 N, F_fail = 700 N.
        let loads = params.loads(Some(0.5), Some(1e-5));
        assert_eq!(loads.yield_load, Some(200.0));
        assert!((loads.failure_load.unwrap() - 700.0).abs() < 1e-9);
        let size = [4.0, 5.0, 10.0];
        let c = LoadCase::Compression {
            platens: Platens::Frictionless,
        }
        .strength(&loads, size);
        assert_eq!(c.yield_stress, Some(10.0));
        assert!((c.failure_stress.unwrap() - 35.0).abs() < 1e-9);
        assert_eq!(c.flexural_strength, None);
        let b = LoadCase::ThreePointBending {
            span: 8.0,
            contact: 1.0,
        }
        .strength(&loads, size);
        // 3·F·S/(2·w·t²) = 3·200·8/(2·5·100) = 4.8 MPa.
        assert!((b.flexural_strength.unwrap() - 4.8).abs() < 1e-12);
        assert_eq!(b.yield_stress, None);
        let i = LoadCase::ImplantCompression {
            platens: Platens::Frictionless,
            footprint_area: 14.0,
            height: 10.0,
            envelope: None,
        }
        .strength(&loads, size);
        assert!((i.failure_stress.unwrap() - 50.0).abs() < 1e-9);
        assert_eq!((i.yield_stress, i.flexural_strength), (None, None));
        // No yield strength, or no strain: no estimate.
        let none = StrengthParams {
            yield_strength: None,
            ..params
        };
        assert_eq!(none.loads(Some(0.5), Some(0.0)), StrengthLoads::default());
    }

    #[test]
    fn strength_statements_say_not_converged_below_twelve() {
        let low = strength_error_statement(Some(4.56), "auto");
        assert!(
            low.starts_with("not converged at this h (D/h = 4.6): "),
            "{low}"
        );
        for said in [
            "1.67 → 2.32 MPa",
            "+39 %",
            "1.75",
            "D/h ≥ 12",
            "voxfe converge",
        ] {
            assert!(low.contains(said), "{said}: {low}");
        }
        // The same below 12 whatever the fill: never a converged number.
        for source in ["binary", "hand", "auto"] {
            assert!(strength_error_statement(Some(11.9), source).starts_with("not converged"));
        }
        let high = strength_error_statement(Some(12.3), "auto");
        assert!(high.starts_with("D/h = 12.3 ≥ 12"), "{high}");
        assert!(
            high.contains("not estimated") && high.contains("voxfe converge"),
            "{high}"
        );
        // 12 computed as 11.999… counts as 12.
        assert!(strength_error_statement(Some(12.0 - 1e-12), "auto").starts_with("D/h = 12.0"));
        let solid = strength_error_statement(None, "none");
        assert!(
            solid.starts_with("not a lattice") && solid.contains("127.97"),
            "{solid}"
        );
        let image = strength_error_statement(None, "image");
        assert!(
            image.starts_with("an image") && image.contains("1.67 → 2.32"),
            "{image}"
        );
        assert!(strength_error_statement(None, "auto").contains("no strut diameter"));
    }
}
