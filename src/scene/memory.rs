//! The memory model: a conservative estimate of a run's peak memory, checked
//! against `voxel.max_memory_mb` by validation.

use super::Scene;

/// Upper estimate of the CPU solver's bytes per active node, used by
/// [`Scene::estimated_bytes`] (measured figure in docs/performance.md).
pub const BYTES_PER_ACTIVE_NODE: f64 = 250.0;

/// Upper estimate of the multigrid hierarchy's bytes per fine active node,
/// set-up included: `multigrid_bytes` measures 360–400 B since the coarse
/// levels are stored in f32, and a whole run's peak RSS 555 B per active
/// node (classic model, h = 0.025) to ≈ 600 B (fraction fill and the
/// incompatible brick, h = 0.05), both under this plus
/// [`BYTES_PER_ACTIVE_NODE`] (docs/performance.md). 800 B before the f32
/// levels.
pub const MULTIGRID_BYTES_PER_ACTIVE_NODE: f64 = 500.0;

/// Sub-voxel fill (`voxel.fill = "fraction"`): the grid's φ per voxel
/// (f32, 4 B), and, as if every voxel were partial, the fine apply's
/// corner node and element product of a partial voxel (4 + 192 B;
/// `crate::fem::operator`). The half-voxel point lattice of the sampling
/// (8 B per voxel) is freed before the solve.
pub const FRACTION_BYTES_PER_VOXEL: f64 = 4.0 + 196.0;

/// Sub-voxel fill: the mesh's 8 corner fractions per active node (f32),
/// on the host and, for the GPU, on the device; and the fine apply's mask
/// of partial voxels and product slot (1 + 4 B).
pub const FRACTION_BYTES_PER_ACTIVE_NODE: f64 = 32.0 + 5.0;

impl Scene {
    /// Conservative estimate of the peak memory of a run, bytes: the mask,
    /// the node map, the CPU solver's vectors and, with multigrid, the
    /// hierarchy, as if every node were active; with sub-voxel fill also
    /// the fractions (per voxel and per node).
    pub fn estimated_bytes(&self) -> f64 {
        self.estimated_bytes_with(self.solver.preconditioner)
    }

    /// [`Scene::estimated_bytes`] with preconditioner `p`.
    pub fn estimated_bytes_with(&self, p: crate::fem::Preconditioner) -> f64 {
        // In f64, so that no grid size overflows the products.
        let [nx, ny, nz] = self.dims().map(|n| n as f64);
        let voxels = nx * ny * nz;
        let nodes = (nx + 1.0) * (ny + 1.0) * (nz + 1.0);
        let per_node = match p {
            crate::fem::Preconditioner::Jacobi => BYTES_PER_ACTIVE_NODE,
            crate::fem::Preconditioner::Multigrid => {
                BYTES_PER_ACTIVE_NODE + MULTIGRID_BYTES_PER_ACTIVE_NODE
            }
        };
        let (fraction_voxel, fraction_node) = match self.voxel.fill {
            super::Fill::Binary => (0.0, 0.0),
            super::Fill::Fraction => (FRACTION_BYTES_PER_VOXEL, FRACTION_BYTES_PER_ACTIVE_NODE),
        };
        voxels * (1.0 + fraction_voxel) + nodes * (4.0 + per_node + fraction_node)
    }
}

#[cfg(test)]
mod tests {
    use crate::scene::{Fill, Scene};
    use std::path::Path;

    #[test]
    fn fraction_fill_counts_its_fractions() {
        let toml = "name = \"m\"\n[specimen]\nshape = \"box\"\nsize = [2.0, 2.0, 2.0]\n[voxel]\nsize = 0.1\n[lattice]\nkind = \"solid\"\n";
        let mut s = Scene::parse(toml, Path::new("m.toml"), &[]).unwrap();
        s.voxel.fill = Fill::Binary;
        let binary = s.estimated_bytes();
        s.voxel.fill = Fill::Fraction;
        // 20³ voxels × 200 B and 21³ nodes × 37 B.
        assert_eq!(s.estimated_bytes() - binary, 8000.0 * 200.0 + 9261.0 * 37.0);
    }
}
