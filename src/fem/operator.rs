//! Operators y = A·x over the active nodes, all of them given by their
//! rows of 3×3 blocks: the matrix-free stiffness K of the voxel grid
//! ([`StencilRows`]), the constrained operator P K P + (I − P) of any such
//! rows ([`Constrained`], in [`crate::fem::constrained`]) and the stored
//! coarse multigrid levels. One gather per row ([`apply_rows`]) is the
//! action of every one of them.
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
//! [`Constrained`]: crate::fem::constrained::Constrained

use crate::fem::hex8::ElementMatrix;
use crate::fem::mesh::ActiveMesh;
use rayon::prelude::*;

/// A row-major 3×3 block.
pub type Block = [f64; 9];

/// y = A·x (MFEM's `Mult`).
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

/// A block-sparse operator given row by row: node `a`'s row is a list of
/// 3×3 blocks, one per neighbour.
pub trait BlockRows: Sync {
    /// Number of nodes (rows of blocks).
    fn nodes(&self) -> usize;
    /// Calls `f(d, m, block)` for every structurally non-zero block of row
    /// `a`, in increasing stencil entry d = (dx+1) + 3(dy+1) + 9(dz+1), m the
    /// neighbour's index.
    fn row(&self, a: usize, f: impl FnMut(usize, usize, &Block));

    /// The 3×3 diagonal block of row `a` (zero where there is none).
    fn diagonal_block(&self, a: usize) -> Block {
        let mut diag = [0.0; 9];
        self.row(a, |d, _, b| {
            if d == 13 {
                diag = *b;
            }
        });
        diag
    }

    /// The diagonal of the operator, 3 values per node.
    fn diagonal(&self) -> Vec<f64> {
        let mut out = vec![0.0; 3 * self.nodes()];
        out.par_chunks_mut(3 * CHUNK_NODES)
            .enumerate()
            .for_each(|(ci, out)| {
                for (k, dn) in out.chunks_mut(3).enumerate() {
                    let blk = self.diagonal_block(ci * CHUNK_NODES + k);
                    for c in 0..3 {
                        dn[c] = blk[4 * c];
                    }
                }
            });
        out
    }
}

/// acc += b·x for a 3×3 block b.
#[inline(always)]
pub fn mul_add(acc: &mut [f64; 3], b: &Block, x: &[f64]) {
    acc[0] += b[0] * x[0] + b[1] * x[1] + b[2] * x[2];
    acc[1] += b[3] * x[0] + b[4] * x[1] + b[5] * x[2];
    acc[2] += b[6] * x[0] + b[7] * x[1] + b[8] * x[2];
}

/// y = A·x for block rows A: one gather per node, [`CHUNK_NODES`] nodes per
/// parallel task.
pub fn apply_rows<R: BlockRows + ?Sized>(rows: &R, x: &[f64], y: &mut [f64]) {
    let len = 3 * rows.nodes();
    assert_eq!(x.len(), len, "x has the wrong length");
    assert_eq!(y.len(), len, "y has the wrong length");
    y.par_chunks_mut(3 * CHUNK_NODES)
        .enumerate()
        .for_each(|(ci, out)| {
            for (k, yn) in out.chunks_mut(3).enumerate() {
                let mut acc = [0.0f64; 3];
                rows.row(ci * CHUNK_NODES + k, |_, m, b| {
                    mul_add(&mut acc, b, &x[3 * m..3 * m + 3])
                });
                yn.copy_from_slice(&acc);
            }
        });
}

/// Nodes per parallel task.
pub const CHUNK_NODES: usize = 2048;

/// The 27-point 3×3-block stencils of all 256 occupancy patterns.
#[derive(Debug, Clone)]
pub struct StencilTable {
    /// `blocks[27·P + d]`, row-major 3×3.
    pub blocks: Vec<Block>,
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
    pub fn diagonal_block(&self, p: u8) -> &Block {
        &self.blocks[27 * p as usize + 13]
    }
}

/// The unconstrained stiffness K of an [`ActiveMesh`], matrix-free: its rows
/// come from the [`StencilTable`] of each node's occupancy pattern.
pub struct StencilRows<'a> {
    mesh: &'a ActiveMesh,
    table: &'a StencilTable,
    offsets: [isize; 27],
}

impl<'a> StencilRows<'a> {
    /// K of `mesh` with element stencils `table`.
    pub fn new(mesh: &'a ActiveMesh, table: &'a StencilTable) -> StencilRows<'a> {
        StencilRows {
            mesh,
            table,
            offsets: mesh.neighbour_offsets(),
        }
    }

    /// The mesh the rows are over.
    pub fn mesh(&self) -> &'a ActiveMesh {
        self.mesh
    }
}

impl BlockRows for StencilRows<'_> {
    fn nodes(&self) -> usize {
        self.mesh.len()
    }

    #[inline(always)]
    fn row(&self, a: usize, mut f: impl FnMut(usize, usize, &Block)) {
        let mesh = self.mesh;
        let id = mesh.nodes[a] as isize;
        let p = mesh.pattern[a] as usize;
        let blocks = &self.table.blocks[27 * p..27 * p + 27];
        let mut bits = self.table.neighbours[p];
        while bits != 0 {
            let d = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let m = mesh.node_map[(id + self.offsets[d]) as usize] as usize;
            f(d, m, &blocks[d]);
        }
    }

    fn diagonal_block(&self, a: usize) -> Block {
        *self.table.diagonal_block(self.mesh.pattern[a])
    }
}

impl LinearOperator for StencilRows<'_> {
    fn len(&self) -> usize {
        3 * self.mesh.len()
    }

    fn apply(&self, x: &[f64], y: &mut [f64]) {
        apply_rows(self, x, y)
    }
}
