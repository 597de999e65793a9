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
//!
//! # Periodic meshes
//!
//! For periodic homogenization ([`ActiveMesh::periodic`]) the node grid
//! wraps: node `(i, j, k)`, `0 ≤ i < nx`, is also the node at `i + nx`, so
//! there are `nx·ny·nz` nodes and the voxel `(i − 1, …)` of node 0 is voxel
//! `nx − 1`. The mesh then numbers its grid ids on a *padded* node grid of
//! `(nx + 2)·(ny + 2)·(nz + 2)` ids, node `(i, j, k)` at padded coordinates
//! `(i + 1, j + 1, k + 1)`, and the one-node ghost layer on every side maps
//! to the active index of the node it wraps to. A neighbour is then, as for
//! a box, the grid id plus a fixed offset ([`ActiveMesh::neighbour_offsets`]),
//! so the stencil operator and the `apply_k` kernel need no wrap of their own.

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
    /// Sub-voxel fill: the stiffness weight wₑ = φₑ^p of the 8 voxels
    /// around each active node (φₑ itself when p = 1), entry c for pattern
    /// bit c. `None` under binary fill.
    pub phi: Option<Vec<[f32; 8]>>,
    /// Whether the node grid wraps (see the module doc); `nodes` and
    /// `node_map` are then on the padded node grid.
    pub periodic: bool,
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
        ActiveMesh::build(grid, false)
    }

    /// The active nodes of `grid` with its node grid wrapped in x, y and z
    /// (periodic homogenization; see the module doc).
    pub fn periodic(grid: &VoxelGrid) -> Result<ActiveMesh, MeshError> {
        ActiveMesh::build(grid, true)
    }

    fn build(grid: &VoxelGrid, periodic: bool) -> Result<ActiveMesh, MeshError> {
        let [sx, sy, sz] = node_grid(grid.dims, periodic);
        let total = sx * sy * sz;
        if total >= INACTIVE as usize {
            return Err(MeshError::TooLarge {
                nodes: total,
                max: INACTIVE as usize - 1,
            });
        }
        // The grid id of node (i, j, k) (0 ≤ i < nx for a periodic grid).
        let pad = periodic as usize;
        let id_of = |i: usize, j: usize, k: usize| (i + pad) + sx * ((j + pad) + sy * (k + pad));
        let [nx, ny, nz] = grid.dims;
        let owned = if periodic {
            [nx, ny, nz]
        } else {
            [nx + 1, ny + 1, nz + 1]
        };
        // Pattern of every node, one z-layer of nodes per task.
        let mut all = vec![0u8; owned[0] * owned[1] * owned[2]];
        all.par_chunks_mut(owned[0] * owned[1])
            .enumerate()
            .for_each(|(k, layer)| {
                for j in 0..owned[1] {
                    for i in 0..owned[0] {
                        let mut p = 0u8;
                        for c in 0..8 {
                            if corner_voxel(grid, [i, j, k], c, periodic).is_some() {
                                p |= 1 << c;
                            }
                        }
                        layer[i + owned[0] * j] = p;
                    }
                }
            });
        let mut node_map = vec![INACTIVE; total];
        let mut nodes = Vec::new();
        let mut pattern = Vec::new();
        for (o, &p) in all.iter().enumerate() {
            if p != 0 {
                let (i, j, k) = (
                    o % owned[0],
                    (o / owned[0]) % owned[1],
                    o / (owned[0] * owned[1]),
                );
                let id = id_of(i, j, k);
                node_map[id] = nodes.len() as u32;
                nodes.push(id as u32);
                pattern.push(p);
            }
        }
        if nodes.is_empty() {
            return Err(MeshError::Empty);
        }
        if periodic {
            // The ghost layer: each padded id outside the owned block maps
            // to the node it wraps to.
            let dims = [nx as isize, ny as isize, nz as isize];
            for kz in 0..sz {
                for jy in 0..sy {
                    for ix in 0..sx {
                        let c = [ix, jy, kz];
                        if (0..3).all(|a| c[a] >= 1 && c[a] <= grid.dims[a]) {
                            continue;
                        }
                        let w = [0, 1, 2].map(|a| (c[a] as isize - 1).rem_euclid(dims[a]) as usize);
                        node_map[ix + sx * (jy + sy * kz)] = node_map[id_of(w[0], w[1], w[2])];
                    }
                }
            }
        }
        let mut mesh = ActiveMesh {
            dims: grid.dims,
            h: grid.h,
            nodes,
            node_map,
            pattern,
            phi: None,
            periodic,
        };
        mesh.phi = grid
            .fraction
            .as_ref()
            .map(|f| corner_fractions(grid, f, &mesh));
        Ok(mesh)
    }

    /// Size of the node grid the ids of `nodes` and `node_map` are on:
    /// `dims + 1` for a box, `dims + 2` (padded) for a periodic mesh.
    pub fn node_grid(&self) -> [usize; 3] {
        node_grid(self.dims, self.periodic)
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

    /// Grid coordinates `(i, j, k)` of active node `n` (for a periodic
    /// mesh, `0 ≤ i < nx`: the padding taken off).
    pub fn coords(&self, n: usize) -> [usize; 3] {
        let id = self.nodes[n] as usize;
        let [sx, sy, _] = self.node_grid();
        let pad = self.periodic as usize;
        [id % sx - pad, (id / sx) % sy - pad, id / (sx * sy) - pad]
    }

    /// Position of active node `n`, mm.
    pub fn position(&self, n: usize) -> [f64; 3] {
        self.coords(n).map(|c| c as f64 * self.h)
    }

    /// Grid-id offset of the neighbour at `d ∈ {−1, 0, 1}³`, indexed
    /// `d = (dx+1) + 3(dy+1) + 9(dz+1)`.
    pub fn neighbour_offsets(&self) -> [isize; 27] {
        let [sx, sy, _] = self.node_grid().map(|s| s as isize);
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

/// The node grid of voxel counts `dims`: `dims + 1`, or `dims + 2` padded
/// when periodic.
fn node_grid(dims: [usize; 3], periodic: bool) -> [usize; 3] {
    dims.map(|d| d + 1 + periodic as usize)
}

/// The solid voxel at corner `c = cx + 2cy + 4cz` of node `(i, j, k)`:
/// voxel `(i − 1 + cx, j − 1 + cy, k − 1 + cz)`, wrapped when `periodic`;
/// `None` when it is void or outside the grid.
fn corner_voxel(grid: &VoxelGrid, node: [usize; 3], c: usize, periodic: bool) -> Option<usize> {
    let mut v = [0usize; 3];
    for a in 0..3 {
        let x = node[a] as isize - 1 + ((c >> a) & 1) as isize;
        let n = grid.dims[a] as isize;
        v[a] = if periodic {
            x.rem_euclid(n) as usize
        } else if (0..n).contains(&x) {
            x as usize
        } else {
            return None;
        };
    }
    let id = grid.voxel_id(v[0], v[1], v[2]);
    (grid.solid[id] != 0).then_some(id)
}

/// φ of the 8 voxels around each active node (entry c = cx + 2cy + 4cz is
/// voxel `(i − 1 + cx, j − 1 + cy, k − 1 + cz)`; 0 outside the grid).
fn corner_fractions(grid: &VoxelGrid, fraction: &[f32], mesh: &ActiveMesh) -> Vec<[f32; 8]> {
    (0..mesh.len())
        .into_par_iter()
        .map(|n| {
            let node = mesh.coords(n);
            let mut w = [0f32; 8];
            for (c, wc) in w.iter_mut().enumerate() {
                if let Some(v) = corner_voxel(grid, node, c, mesh.periodic) {
                    *wc = grid.weight_of(fraction[v] as f64) as f32;
                }
            }
            w
        })
        .collect()
}
