//! The strain and stress tensors at the centre of every solid voxel of a
//! run ([`voxel_tensors`]), as the `.vtu` export writes them ([`super::vtu`]).

use crate::fem::hex8;
use crate::fem::mesh::ActiveMesh;
use crate::grid::VoxelGrid;
use crate::material::YoungPoisson;
use rayon::prelude::*;

/// Strain and stress at the centre of every solid voxel, in voxel-id
/// order ([`voxel_tensors`]).
#[derive(Debug, Clone, PartialEq)]
pub struct VoxelTensors {
    /// The solid voxels' ids, increasing.
    pub voxels: Vec<usize>,
    /// Strain, Voigt order `εxx, εyy, εzz, γxy, γyz, γzx` (engineering
    /// shears γ = 2ε).
    pub strain: Vec<[f64; 6]>,
    /// Stress, MPa, Voigt order `σxx, σyy, σzz, τxy, τyz, τzx`: the
    /// element's stress φₑ·D·ε (φₑ = 1 with binary fill), consistent with
    /// its stiffness φₑ·Kₑ.
    pub stress: Vec<[f64; 6]>,
}

impl VoxelTensors {
    /// Von Mises stress of every solid voxel, MPa.
    pub fn von_mises(&self) -> Vec<f64> {
        self.stress
            .iter()
            .map(|s| hex8::von_mises(&nalgebra::SVector::from(*s)))
            .collect()
    }
}

/// Strain ε = B(0)·uₑ and stress φₑ·D·ε at the centre of every solid voxel
/// of `grid`, from the displacement `u` (3 per active node of `mesh`, as
/// the solver numbers them).
pub fn voxel_tensors(
    grid: &VoxelGrid,
    mesh: &ActiveMesh,
    material: YoungPoisson,
    u: &[f64],
) -> VoxelTensors {
    let [nx, ny, _] = grid.dims;
    let b = hex8::strain_displacement([0.0; 3], grid.h);
    let d = material.elasticity_matrix();
    let voxels: Vec<usize> = (0..grid.voxel_count())
        .filter(|&v| grid.solid[v] != 0)
        .collect();
    let (strain, stress) = voxels
        .par_iter()
        .map(|&v| {
            let (i, j, k) = (v % nx, (v / nx) % ny, v / (nx * ny));
            let ue = crate::strength::element_displacement(grid, mesh, u, [i, j, k]);
            let eps = b * ue;
            let sigma = d * eps * grid.weight(v);
            let arr = |x: nalgebra::SVector<f64, 6>| std::array::from_fn(|r| x[r]);
            (arr(eps), arr(sigma))
        })
        .unzip();
    VoxelTensors {
        voxels,
        strain,
        stress,
    }
}
