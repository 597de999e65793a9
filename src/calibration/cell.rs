//! One periodic lattice cell at n voxels per side, voxelized once (its
//! solid fractions φₑ), whose axial modulus is solved for any exponent p
//! with one unit-strain column ([`PeriodicAxial`]): what the reference and
//! the search at h are made of.

use std::time::Instant;

pub use super::accuracy::CellSolve;
use super::CalibrationError;
use crate::grid::VoxelGrid;
use crate::homogenize::solve::PeriodicAxial;
use crate::lattice::LatticeKind;
use crate::material::YoungPoisson;
use crate::pipeline::solver::Solver;
use crate::pipeline::voxelize::{is_resolution_warning, voxelize_specimen};
use crate::scene::{Backend, Scene, Setting};

/// A periodic cell of a scene's lattice at n voxels per side.
pub struct Cell {
    pub n: usize,
    /// Voxel size of the cell, mm (M/n).
    h: f64,
    grid: VoxelGrid,
    material: YoungPoisson,
    solver: Solver,
    /// Strut diameter over voxel size (strut lattices).
    pub d_over_h: Option<f64>,
    /// The voxelization's warnings but the D/h one, and the solver's
    /// fallbacks.
    pub notices: Vec<String>,
    /// Voxelization time, s.
    pub voxelize_seconds: f64,
}

impl Cell {
    /// The lattice cell of `scene` (its kind, porosity or strut, origin,
    /// material, element and solver settings) at `n` voxels per side, with
    /// fraction fill. Errors when `scene` has no lattice.
    pub fn new(scene: &Scene, n: usize) -> Result<Cell, CalibrationError> {
        if scene.lattice.kind == LatticeKind::Solid {
            return Err(CalibrationError::NoLattice);
        }
        let t = Instant::now();
        let m = scene.lattice()?.cell();
        // One cell of the lattice at M/n: the voxel size is set with the
        // cell (the scene's own h need not divide M: a level of a
        // convergence study is sized to the specimen).
        let cell = scene.with_cells_and(
            1,
            &[
                Setting::new("voxel.size", m / n as f64),
                Setting::new("voxel.fill", "fraction"),
                Setting::new("voxel.fraction_exponent", 1.0),
            ],
        )?;
        let specimen = voxelize_specimen(&cell)?;
        let notices = specimen
            .report
            .warnings
            .iter()
            .filter(|w| !is_resolution_warning(w))
            .cloned()
            .collect();
        Ok(Cell {
            n,
            h: m / n as f64,
            material: cell.material()?,
            // On the CPU whatever the run's backend: a calibration is then
            // the same on every machine, and one cache entry serves them
            // all (a cell is small; its solve is a fraction of the run's).
            solver: Solver::new(&cell.solver).on(Backend::Cpu),
            d_over_h: specimen.report.d_over_h,
            grid: specimen.vox.grid,
            notices,
            voxelize_seconds: t.elapsed().as_secs_f64(),
        })
    }

    /// Voxel size of the cell, mm.
    pub fn h(&self) -> f64 {
        self.h
    }

    /// E/E_s of the cell with stiffness weights φₑ^p. A solve that does
    /// not converge is an error naming the cell and its residual.
    pub fn modulus(&mut self, p: f64) -> Result<CellSolve, CalibrationError> {
        self.grid.fraction_exponent = p;
        let out = self.solver.solve(&PeriodicAxial {
            grid: &self.grid,
            material: self.material,
        })?;
        for n in self.solver.notices() {
            if !self.notices.contains(n) {
                self.notices.push(n.clone());
            }
        }
        if !out.solve.converged {
            return Err(CalibrationError::NotConverged {
                n: self.n,
                p,
                residual: out.solve.relative_residual,
                iterations: out.solve.iterations,
            });
        }
        Ok(CellSolve {
            n: self.n,
            exponent: p,
            e_rel: out.e / self.material.e,
            iterations: out.solve.iterations,
            seconds: out.seconds,
        })
    }
}
