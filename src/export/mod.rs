//! A run's solid voxels as a mesh for other FE codes: [`HexMesh`], the
//! hexahedral mesh both writers share (points = the solver's active nodes,
//! cells = the solid voxels), and the writers, [`vtu`] (VTK XML
//! UnstructuredGrid with displacement, stress and strain, for meshio and
//! ParaView) and [`inp`] (an Abaqus input deck with material, the load
//! case's boundary conditions and a static step); [`tensors`] the strain and
//! stress at the voxel centres that `vtu` writes.

pub mod inp;
pub mod tensors;
pub mod vtu;

use std::path::Path;

use crate::fem::hex8;
use crate::fem::load::BcError;
use crate::fem::mesh::{ActiveMesh, MeshError};
use crate::grid::VoxelGrid;

/// Why a mesh could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Mesh(#[from] MeshError),
    #[error(transparent)]
    Bc(#[from] BcError),
    #[error("cannot write '{path}': {error}")]
    Io {
        path: String,
        #[source]
        error: std::io::Error,
    },
    #[error("not a voxfe {what} file: {why}")]
    Parse { what: &'static str, why: String },
    /// The fields do not fit the mesh (a defect, not the user's input).
    #[error("the fields do not fit the mesh: {0}")]
    Mismatch(String),
}

pub(crate) fn io_error(path: &Path) -> impl Fn(std::io::Error) -> ExportError + '_ {
    move |error| ExportError::Io {
        path: path.display().to_string(),
        error,
    }
}

/// The corner of a voxel at each position of a hexahedron's node list, as
/// VTK (`VTK_HEXAHEDRON`) and Abaqus (`C3D8`) both order them: the bottom
/// face (z = 0) counter-clockwise seen from +z, then the top face above
/// it. Entries are hex8 local node numbers `ax + 2·ay + 4·az`.
pub const HEX_ORDER: [usize; 8] = [0, 1, 3, 2, 4, 5, 7, 6];

/// The solid voxels of a grid as hexahedra on the solver's active nodes.
#[derive(Debug, Clone)]
pub struct HexMesh {
    /// The active nodes, numbered as the solver numbers them.
    pub mesh: ActiveMesh,
    /// The solid voxels' ids, increasing (cell `e` is voxel `voxels[e]`).
    pub voxels: Vec<usize>,
    /// Active-node indices of each cell, in [`HEX_ORDER`].
    pub cells: Vec<[u32; 8]>,
}

impl HexMesh {
    /// The hexahedral mesh of `grid`'s solid voxels.
    pub fn new(grid: &VoxelGrid) -> Result<HexMesh, MeshError> {
        let mesh = ActiveMesh::new(grid)?;
        let [nx, ny, _] = grid.dims;
        let voxels: Vec<usize> = (0..grid.voxel_count())
            .filter(|&v| grid.solid[v] != 0)
            .collect();
        let cells = voxels
            .iter()
            .map(|&v| {
                let (i, j, k) = (v % nx, (v / nx) % ny, v / (nx * ny));
                HEX_ORDER.map(|a| {
                    let c = hex8::corner(a);
                    mesh.node_map[grid.node_id(i + c[0], j + c[1], k + c[2])]
                })
            })
            .collect();
        Ok(HexMesh {
            mesh,
            voxels,
            cells,
        })
    }

    /// Position of active node `n`, mm.
    pub fn position(&self, n: usize) -> [f64; 3] {
        self.mesh.position(n)
    }
}

/// The signed volume of a hexahedron with corners `p` in [`HEX_ORDER`]
/// (positive for the right node order): the sum of the six tetrahedra
/// of its diagonal split.
pub fn hex_volume(p: &[[f64; 3]; 8]) -> f64 {
    let sub = |a: [f64; 3], b: [f64; 3]| [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    let tet = |a: [f64; 3], b: [f64; 3], c: [f64; 3], d: [f64; 3]| {
        let (u, v, w) = (sub(b, a), sub(c, a), sub(d, a));
        (u[0] * (v[1] * w[2] - v[2] * w[1]) - u[1] * (v[0] * w[2] - v[2] * w[0])
            + u[2] * (v[0] * w[1] - v[1] * w[0]))
            / 6.0
    };
    // The 0–6 diagonal split into six tetrahedra (VTK node order).
    [
        (1, 2, 6),
        (2, 3, 6),
        (3, 7, 6),
        (7, 4, 6),
        (4, 5, 6),
        (5, 1, 6),
    ]
    .iter()
    .map(|&(a, b, c)| tet(p[0], p[a], p[b], p[c]))
    .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_cube_in_vtk_order_has_volume_one_and_reversed_minus_one() {
        let p = HEX_ORDER.map(|a| hex8::corner(a).map(|c| c as f64));
        assert!((hex_volume(&p) - 1.0).abs() < 1e-12, "{}", hex_volume(&p));
        let mut q = p;
        q.swap(1, 3);
        q.swap(5, 7);
        assert!((hex_volume(&q) + 1.0).abs() < 1e-12);
    }
}
