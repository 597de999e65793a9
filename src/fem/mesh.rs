//! The active-node layout shared by the CPU and GPU solvers.
//!
//! Only *active* nodes (corners of at least one solid voxel) carry unknowns.
//! They are numbered compactly in grid-node-id order; each has three
//! degrees of freedom `3n + c`. For every active node the mesh keeps its
//! grid node id, and an 8-bit *occupancy pattern*: bit `c = cx + 2cy + 4cz`
//! is set when the voxel `(i − 1 + cx, j − 1 + cy, k − 1 + cz)` is solid.
//! The pattern is all the operator needs to know about the geometry around
//! a node (see [`crate::fem::operator`]).
//!
//! With sub-voxel fill (`VoxelGrid::fraction`) each active node also keeps
//! the solid fractions φ of its 8 voxels, indexed like the pattern bits
//! ([`ActiveMesh::phi`]; 0 where the voxel is void).
//!
//! Memory: 4 bytes per grid node (the map) plus 5 bytes per active node,
//! and 32 more per active node with sub-voxel fill.

use crate::grid::VoxelGrid;
use rayon::prelude::*;

/// Marks a grid node that carries no unknowns.
pub const INACTIVE: u32 = u32::MAX;

/// Active nodes of a voxel grid.
#[derive(Debug, Clone)]
pub struct ActiveMesh {
    /// Voxel counts `[nx, ny, nz]`.
    pub dims: [usize; 3],
    /// Voxel edge h, mm.
    pub h: f64,
    /// Grid node id of each active node, increasing.
    pub nodes: Vec<u32>,
    /// Active index of each grid node, or [`INACTIVE`].
    pub node_map: Vec<u32>,
    /// Occupancy pattern of the 8 voxels around each active node.
    pub pattern: Vec<u8>,
    /// Sub-voxel fill: φ of the 8 voxels around each active node, entry c
    /// for pattern bit c. `None` under binary fill.
    pub phi: Option<Vec<[f32; 8]>>,
}

/// Why a mesh could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MeshError {
    #[error("the grid has {nodes} nodes, more than the solver's 32-bit node ids allow ({max})")]
    TooLarge { nodes: usize, max: usize },
    #[error("the grid has no solid voxel")]
    Empty,
}

impl ActiveMesh {
    /// Finds the active nodes of `grid`.
    pub fn new(grid: &VoxelGrid) -> Result<ActiveMesh, MeshError> {
        let total = grid.node_count();
        if total >= INACTIVE as usize {
            return Err(MeshError::TooLarge {
                nodes: total,
                max: INACTIVE as usize - 1,
            });
        }
        let [nx, ny, _] = grid.dims;
        let (sx, sy) = (nx + 1, ny + 1);
        // Pattern of every grid node, one z-layer of nodes per task.
        let mut all = vec![0u8; total];
        all.par_chunks_mut(sx * sy)
            .enumerate()
            .for_each(|(k, layer)| {
                for j in 0..sy {
                    for i in 0..sx {
                        let mut p = 0u8;
                        for c in 0..8 {
                            let (cx, cy, cz) = (c & 1, (c >> 1) & 1, (c >> 2) & 1);
                            if grid.is_solid_signed(
                                i as isize - 1 + cx as isize,
                                j as isize - 1 + cy as isize,
                                k as isize - 1 + cz as isize,
                            ) {
                                p |= 1 << c;
                            }
                        }
                        layer[i + sx * j] = p;
                    }
                }
            });
        let mut node_map = vec![INACTIVE; total];
        let mut nodes = Vec::new();
        let mut pattern = Vec::new();
        for (id, &p) in all.iter().enumerate() {
            if p != 0 {
                node_map[id] = nodes.len() as u32;
                nodes.push(id as u32);
                pattern.push(p);
            }
        }
        if nodes.is_empty() {
            return Err(MeshError::Empty);
        }
        let phi = grid
            .fraction
            .as_ref()
            .map(|f| corner_fractions(grid, f, &nodes));
        Ok(ActiveMesh {
            dims: grid.dims,
            h: grid.h,
            nodes,
            node_map,
            pattern,
            phi,
        })
    }

    /// Whether the mesh carries sub-voxel fractions.
    pub fn has_fractions(&self) -> bool {
        self.phi.is_some()
    }

    /// Number of active nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are no active nodes (never true for a built mesh).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Grid coordinates `(i, j, k)` of active node `n`.
    pub fn coords(&self, n: usize) -> [usize; 3] {
        let id = self.nodes[n] as usize;
        let (sx, sy) = (self.dims[0] + 1, self.dims[1] + 1);
        [id % sx, (id / sx) % sy, id / (sx * sy)]
    }

    /// Position of active node `n`, mm.
    pub fn position(&self, n: usize) -> [f64; 3] {
        self.coords(n).map(|c| c as f64 * self.h)
    }

    /// Grid-id offset of the neighbour at `d ∈ {−1, 0, 1}³`, indexed
    /// `d = (dx+1) + 3(dy+1) + 9(dz+1)`.
    pub fn neighbour_offsets(&self) -> [isize; 27] {
        let (sx, sy) = ((self.dims[0] + 1) as isize, (self.dims[1] + 1) as isize);
        let mut o = [0isize; 27];
        for (d, od) in o.iter_mut().enumerate() {
            let (dx, dy, dz) = (
                (d % 3) as isize - 1,
                ((d / 3) % 3) as isize - 1,
                (d / 9) as isize - 1,
            );
            *od = dx + sx * (dy + sy * dz);
        }
        o
    }

    /// Bytes held by the mesh.
    pub fn bytes(&self) -> usize {
        self.nodes.len() * (5 + if self.has_fractions() { 32 } else { 0 }) + self.node_map.len() * 4
    }
}

/// φ of the 8 voxels around each active node (entry c = cx + 2cy + 4cz is
/// voxel `(i − 1 + cx, j − 1 + cy, k − 1 + cz)`; 0 outside the grid).
fn corner_fractions(grid: &VoxelGrid, fraction: &[f32], nodes: &[u32]) -> Vec<[f32; 8]> {
    let [nx, ny, _] = grid.dims;
    let (sx, sy) = (nx + 1, ny + 1);
    nodes
        .par_iter()
        .map(|&id| {
            let id = id as usize;
            let (i, j, k) = (id % sx, (id / sx) % sy, id / (sx * sy));
            let mut w = [0f32; 8];
            for (c, wc) in w.iter_mut().enumerate() {
                let (vi, vj, vk) = (
                    i as isize - 1 + (c & 1) as isize,
                    j as isize - 1 + ((c >> 1) & 1) as isize,
                    k as isize - 1 + ((c >> 2) & 1) as isize,
                );
                if grid.is_solid_signed(vi, vj, vk) {
                    *wc = fraction[grid.voxel_id(vi as usize, vj as usize, vk as usize)];
                }
            }
            w
        })
        .collect()
}
