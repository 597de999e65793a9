//! The reference of a lattice: the converged modulus E_ref/E_s of one
//! periodic cell, which depends on the lattice kind, its porosity, the
//! element and ν, not on h (E scales out). Computed from three cells with
//! φ² fill on fixed grids fine enough for the lattice (n₀, 1.5·n₀, 2·n₀
//! voxels per cell with n₀ giving [`REFERENCE_D_OVER_H`] voxels across the
//! strut or wall) and Richardson's extrapolation of the three.

use serde::{Deserialize, Serialize};

pub use super::accuracy::Reference;
use super::cell::{Cell, CellSolve};
use super::CalibrationError;
use crate::lattice::{Lattice, LatticeKind};
use crate::scene::Scene;
use crate::study::converge::estimate;

/// Voxels across the strut (or the gyroid's wall) on the coarsest
/// reference cell.
pub const REFERENCE_D_OVER_H: f64 = 6.0;

/// Bounds of n₀, voxels per cell side of the coarsest reference cell.
pub const REFERENCE_N: (usize, usize) = (24, 80);

/// The exponent of the reference cells (the best single p measured on the
/// seven lattices, docs/validation.md, "Calibrated fraction exponent").
pub const REFERENCE_EXPONENT: f64 = 2.0;

/// What a reference is known by: the geometry of the cell (kind and
/// nominal porosity; M scales out), the element and ν.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceKey {
    pub lattice: String,
    /// Nominal porosity, rounded to 1e-6.
    pub porosity: f64,
    pub element: String,
    /// Poisson's ratio, rounded to 1e-6.
    pub nu: f64,
}

impl ReferenceKey {
    /// The key of `scene`'s lattice.
    pub fn of(scene: &Scene, lattice: &Lattice) -> Result<ReferenceKey, CalibrationError> {
        let round = |x: f64| (x * 1e6).round() / 1e6;
        Ok(ReferenceKey {
            lattice: lattice.kind().name().to_string(),
            porosity: round(lattice.nominal_porosity()),
            element: scene.solver.element.name().to_string(),
            nu: round(scene.material()?.nu),
        })
    }
}

/// The feature size of a lattice over its cell: D/M for strut lattices;
/// for the gyroid the mean wall thickness (1 − porosity)·M / (A/V·M), its
/// surface per volume being ≈ 3.09/M.
pub fn feature_over_cell(lattice: &Lattice) -> f64 {
    match (lattice.kind(), lattice.strut_diameter()) {
        (_, Some(d)) => d / lattice.cell(),
        _ => (1.0 - lattice.nominal_porosity()) / 3.09,
    }
}

/// The three reference grids of `lattice`, voxels per cell side.
pub fn reference_levels(lattice: &Lattice) -> [usize; 3] {
    let n0 = (REFERENCE_D_OVER_H / feature_over_cell(lattice))
        .ceil()
        .clamp(REFERENCE_N.0 as f64, REFERENCE_N.1 as f64) as usize;
    [n0, (1.5 * n0 as f64).round() as usize, 2 * n0]
}

/// Computes the reference of `scene`'s lattice: three cells at
/// [`reference_levels`] with φ² fill, each one unit-strain solve.
/// `progress` is told each cell.
pub fn compute_reference(
    scene: &Scene,
    notices: &mut Vec<String>,
    mut progress: impl FnMut(&CellSolve),
) -> Result<Reference, CalibrationError> {
    if scene.lattice.kind == LatticeKind::Solid {
        return Err(CalibrationError::NoLattice);
    }
    let lattice = scene.lattice()?;
    let levels = reference_levels(&lattice);
    let mut cells = Vec::with_capacity(3);
    for n in levels {
        let mut cell = Cell::new(scene, n)?;
        let c = cell.modulus(REFERENCE_EXPONENT)?;
        progress(&c);
        for w in cell.notices {
            if !notices.contains(&w) {
                notices.push(w);
            }
        }
        cells.push(c);
    }
    let h = levels.map(|n| 1.0 / n as f64);
    let f = [0, 1, 2].map(|i| cells[i].e_rel);
    let est = estimate(h, f, 10.0 * scene.solver.tolerance);
    Ok(match est.extrapolated {
        // Half the extrapolation's correction: the extrapolated value is
        // closer than the finest cell, by how much Richardson's estimate
        // cannot say.
        Some(e) if est.asymptotic => Reference {
            e_rel: e,
            uncertainty: 0.5 * ((f[2] - e) / e).abs(),
            from: "richardson".into(),
            cells,
            statement: est.statement,
        },
        // Not asymptotic: the finest cell, as uncertain as twice its last
        // step (the tail of a first-order sequence at ratio 4/3 is 3 steps;
        // the sequences measured converge faster).
        _ => Reference {
            e_rel: f[2],
            uncertainty: 2.0 * ((f[2] - f[1]) / f[2]).abs(),
            from: "finest".into(),
            cells,
            statement: est.statement,
        },
    })
}
