//! The memory model: a conservative estimate of a run's peak memory, checked
//! against `voxel.max_memory_mb` by validation.

use super::Scene;

/// Upper estimate of the CPU solver's bytes per active node, used by
/// [`Scene::estimated_bytes`] (measured figure in README).
pub const BYTES_PER_ACTIVE_NODE: f64 = 250.0;

/// Upper estimate of the multigrid hierarchy's bytes per fine active node
/// (measured 560–680 B in README, set-up included).
pub const MULTIGRID_BYTES_PER_ACTIVE_NODE: f64 = 800.0;

impl Scene {
    /// Conservative estimate of the peak memory of a run, bytes: the mask,
    /// the node map, the CPU solver's vectors and, with multigrid, the
    /// hierarchy, as if every node were active.
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
        voxels * 1.0 + nodes * (4.0 + per_node)
    }
}
