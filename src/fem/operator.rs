//! The matrix-free stiffness operator y = K·x over the active nodes.
//!
//! # Gather per node
//!
//! Row block n of K is the sum, over the (up to 8) solid voxels around node
//! n, of the element stiffness rows of n's local corner in each voxel:
//!
//! ```text
//! (K x)_n = Σ_{solid voxels e ∋ n} Σ_{b = 0..8} Ke[a_n(e), b] · x_{m(e, b)}
//! ```
//!
//! Every solid voxel has the same `Ke` ([`crate::fem::hex8`]), so the sum
//! depends only on the node's 8-bit occupancy pattern P
//! ([`crate::fem::mesh`]): grouping terms by neighbour offset
//! `d ∈ {−1, 0, 1}³` gives a 27-point stencil of 3×3 blocks
//!
//! ```text
//! S[P][d] = Σ_{c ∈ P} Ke[a(c), d − c + 1],   a(c) = (1 − cx) + 2(1 − cy) + 4(1 − cz),
//! ```
//!
//! (terms with `d − c + 1 ∉ {0, 1}³` absent). [`StencilTable`] holds S for
//! all 256 patterns (≈ 0.5 MB, cache resident), so one node costs at most
//! 27 × 9 multiply-adds and no element is ever assembled. Each output is
//! written by one task only: no atomics, and the result does not depend on
//! the thread count.
//!
//! # Constraints
//!
//! With `fixed` degrees of freedom the operator is MFEM's constrained
//! operator `P K P + (I − P)` (P zeroes the fixed dofs): symmetric, and
//! positive definite on a grid with a load path.

use crate::fem::hex8::ElementMatrix;
use crate::fem::mesh::ActiveMesh;
use rayon::prelude::*;

/// y = A·x.
pub trait LinearOperator: Sync {
    /// Length of x and y.
    fn len(&self) -> usize;
    /// Whether the operator is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// y = A·x.
    fn apply(&self, x: &[f64], y: &mut [f64]);
}

/// Nodes per parallel task.
pub const CHUNK_NODES: usize = 2048;

/// The 27-point 3×3-block stencils of all 256 occupancy patterns.
#[derive(Debug, Clone)]
pub struct StencilTable {
    /// `blocks[27·P + d]`, row-major 3×3.
    pub blocks: Vec<[f64; 9]>,
    /// Bit d set when `S[P][d]` is not structurally zero.
    pub neighbours: Vec<u32>,
}

impl StencilTable {
    /// Builds the table from the element stiffness matrix.
    pub fn new(ke: &ElementMatrix) -> StencilTable {
        let mut blocks = vec![[0.0; 9]; 256 * 27];
        let mut neighbours = vec![0u32; 256];
        for p in 0..256usize {
            for c in 0..8 {
                if p & (1 << c) == 0 {
                    continue;
                }
                let cc = [c & 1, (c >> 1) & 1, (c >> 2) & 1];
                let a = (1 - cc[0]) + 2 * (1 - cc[1]) + 4 * (1 - cc[2]);
                for b in 0..8 {
                    let bb = [b & 1, (b >> 1) & 1, (b >> 2) & 1];
                    // offset d = c + b − 1 per axis, in {−1, 0, 1}
                    let d = (cc[0] + bb[0]) + 3 * (cc[1] + bb[1]) + 9 * (cc[2] + bb[2]);
                    neighbours[p] |= 1 << d;
                    let blk = &mut blocks[27 * p + d];
                    for r in 0..3 {
                        for s in 0..3 {
                            blk[3 * r + s] += ke[(3 * a + r, 3 * b + s)];
                        }
                    }
                }
            }
        }
        StencilTable { blocks, neighbours }
    }

    /// The 3×3 diagonal block of a node with pattern p.
    pub fn diagonal_block(&self, p: u8) -> &[f64; 9] {
        &self.blocks[27 * p as usize + 13]
    }
}

/// The CPU matrix-free operator over an [`ActiveMesh`].
pub struct CpuOperator<'a> {
    mesh: &'a ActiveMesh,
    table: &'a StencilTable,
    offsets: [isize; 27],
    /// Per active node, bit c set when dof 3n + c is fixed; `None`: unconstrained K.
    fixed: Option<&'a [u8]>,
}

impl<'a> CpuOperator<'a> {
    /// The operator K (no constraints) or, with `fixed`, P K P + (I − P).
    pub fn new(
        mesh: &'a ActiveMesh,
        table: &'a StencilTable,
        fixed: Option<&'a [u8]>,
    ) -> CpuOperator<'a> {
        CpuOperator {
            mesh,
            table,
            offsets: mesh.neighbour_offsets(),
            fixed,
        }
    }

    /// Row block of node n applied to x.
    #[inline(always)]
    fn row(&self, n: usize, x: &[f64]) -> [f64; 3] {
        let mesh = self.mesh;
        let id = mesh.nodes[n] as isize;
        let p = mesh.pattern[n] as usize;
        let blocks = &self.table.blocks[27 * p..27 * p + 27];
        let mut acc = [0.0f64; 3];
        let mut bits = self.table.neighbours[p];
        while bits != 0 {
            let d = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let m = mesh.node_map[(id + self.offsets[d]) as usize] as usize;
            let xm = &x[3 * m..3 * m + 3];
            let mut u = [xm[0], xm[1], xm[2]];
            if let Some(fixed) = self.fixed {
                let f = fixed[m];
                if f != 0 {
                    for (c, uc) in u.iter_mut().enumerate() {
                        if f & (1 << c) != 0 {
                            *uc = 0.0;
                        }
                    }
                }
            }
            let b = &blocks[d];
            acc[0] += b[0] * u[0] + b[1] * u[1] + b[2] * u[2];
            acc[1] += b[3] * u[0] + b[4] * u[1] + b[5] * u[2];
            acc[2] += b[6] * u[0] + b[7] * u[1] + b[8] * u[2];
        }
        if let Some(fixed) = self.fixed {
            let f = fixed[n];
            for (c, a) in acc.iter_mut().enumerate() {
                if f & (1 << c) != 0 {
                    *a = x[3 * n + c];
                }
            }
        }
        acc
    }

    /// The diagonal of the operator (1 on fixed dofs).
    pub fn diagonal(&self) -> Vec<f64> {
        let mut d = vec![0.0; 3 * self.mesh.len()];
        d.par_chunks_mut(3 * CHUNK_NODES)
            .enumerate()
            .for_each(|(ci, out)| {
                for (k, dn) in out.chunks_mut(3).enumerate() {
                    let n = ci * CHUNK_NODES + k;
                    let blk = self.table.diagonal_block(self.mesh.pattern[n]);
                    let f = self.fixed.map_or(0, |f| f[n]);
                    for c in 0..3 {
                        dn[c] = if f & (1 << c) != 0 { 1.0 } else { blk[4 * c] };
                    }
                }
            });
        d
    }
}

impl LinearOperator for CpuOperator<'_> {
    fn len(&self) -> usize {
        3 * self.mesh.len()
    }

    fn apply(&self, x: &[f64], y: &mut [f64]) {
        assert_eq!(x.len(), self.len(), "x has the wrong length");
        assert_eq!(y.len(), self.len(), "y has the wrong length");
        y.par_chunks_mut(3 * CHUNK_NODES)
            .enumerate()
            .for_each(|(ci, out)| {
                for (k, yn) in out.chunks_mut(3).enumerate() {
                    let r = self.row(ci * CHUNK_NODES + k, x);
                    yn.copy_from_slice(&r);
                }
            });
    }
}
