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
//! # Sub-voxel fill
//!
//! With per-voxel solid fractions (spec, "Sub-voxel solid fraction") voxel
//! e's stiffness is φₑ·Ke, and a node's stencil is no longer a function of
//! its pattern alone:
//!
//! ```text
//! S_n[d] = Σ_{c ∈ P} φ_c · Ke[a(c), d − c + 1]
//! ```
//!
//! A node whose solid voxels all have φ = 1 reads the table. For a node
//! next to a voxel with φ ≠ 1, [`BlockRows::row`] builds the 27 blocks on
//! the fly ([`fraction_stencil`]: c ascending, then b, the table's order,
//! so φ = 1 gives the table's blocks bit for bit); this is what the
//! multigrid's Galerkin product and the constrained rows read. The apply
//! ([`BlockRows::row_times`]) does not build them. It first makes each
//! partial voxel's weighted element product wₑ·Ke·xₑ once ([`Pass`], a
//! dense 24×24 product), then writes a node's row as the table row of its
//! full voxels' pattern plus its corner of each partial voxel's product:
//!
//! ```text
//! (K x)_n = S[P_full]·x + Σ_{c ∈ P, w_c ≠ 1} (w_c·Ke·x_e(c))[a(c)]
//! ```
//!
//! The same flops as multiplying a partial voxel's 8 blocks at each of its
//! 8 nodes, but dense (vectorized) and with 3 loads per node and voxel in
//! the row pass. Equal to the built rows to round-off. The binary path (no
//! fractions) is unchanged.
//!
//! [`Constrained`]: crate::fem::constrained::Constrained

#[cfg(target_arch = "x86_64")]
mod avx;
mod partial;

use crate::fem::hex8::ElementMatrix;
use crate::fem::mesh::ActiveMesh;
use partial::PartialVoxels;
pub use partial::Pass;
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
    /// y = A·x and x·y, summed as [`crate::fem::vector::dot`] sums it (an
    /// operator may fuse the two).
    fn apply_dot(&self, x: &[f64], y: &mut [f64]) -> f64 {
        self.apply(x, y);
        crate::fem::vector::dot(x, y)
    }
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

    /// What an apply computes from x once, before any of its rows (the
    /// element products of [`StencilRows`]' partial voxels); nothing by
    /// default.
    fn pass(&self, _x: &[f64]) -> Pass {
        Pass::default()
    }

    /// `chunk(start, out, pass)` for every chunk of [`CHUNK_NODES`] rows of
    /// y, in parallel (`out` the chunk's values, `start` its first row),
    /// with `pass` holding what [`BlockRows::pass`] gives for x, at least
    /// for the rows of the chunk; the results in chunk order. By default
    /// one pass before all chunks; an implementation may make its pass
    /// piecewise, just before the chunks that read it (the same values).
    fn for_chunks<T: Send>(
        &self,
        x: &[f64],
        y: &mut [f64],
        chunk: impl Fn(usize, &mut [f64], &Pass) -> T + Sync,
    ) -> Vec<T> {
        chunks_after_pass(self, x, y, chunk)
    }

    /// Row `a` applied to x, with `pass` what [`BlockRows::pass`] gave for
    /// the same x: Σ over the row's blocks, in [`BlockRows::row`]'s order,
    /// of [`mul_add`] (an implementation may run the same sum in a tighter
    /// loop with the same bits, or, where it says so, the same row summed
    /// in another order).
    #[inline(always)]
    fn row_times(&self, a: usize, x: &[f64], _pass: &Pass) -> [f64; 3] {
        let mut acc = [0.0f64; 3];
        self.row(a, |_, m, b| mul_add(&mut acc, b, &x[3 * m..3 * m + 3]));
        acc
    }

    /// Rows `start..` of A·x into `out`, 3 values a row, as many rows as
    /// `out` holds: [`BlockRows::row_times`] row after row (an
    /// implementation may run the same rows in a loop compiled for the
    /// processor, with the same bits).
    #[inline(always)]
    fn rows_times(&self, start: usize, x: &[f64], pass: &Pass, out: &mut [f64]) {
        rows_one_by_one(self, start, x, pass, out)
    }

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

/// Rows `start..` of A·x into `out` by [`BlockRows::row_times`], row
/// after row: what [`BlockRows::rows_times`] does unless an implementation
/// compiles its loop for the processor.
#[inline(always)]
pub fn rows_one_by_one<R: BlockRows + ?Sized>(
    rows: &R,
    start: usize,
    x: &[f64],
    pass: &Pass,
    out: &mut [f64],
) {
    for (k, yn) in out.chunks_exact_mut(3).enumerate() {
        yn.copy_from_slice(&rows.row_times(start + k, x, pass));
    }
}

/// [`BlockRows::for_chunks`] with one pass before all chunks.
pub fn chunks_after_pass<R: BlockRows + ?Sized, T: Send>(
    rows: &R,
    x: &[f64],
    y: &mut [f64],
    chunk: impl Fn(usize, &mut [f64], &Pass) -> T + Sync,
) -> Vec<T> {
    let pass = rows.pass(x);
    y.par_chunks_mut(3 * CHUNK_NODES)
        .enumerate()
        .map(|(ci, out)| chunk(ci * CHUNK_NODES, out, &pass))
        .collect()
}

/// y = A·x for block rows A: one gather per node, [`CHUNK_NODES`] nodes per
/// parallel task.
pub fn apply_rows<R: BlockRows + ?Sized>(rows: &R, x: &[f64], y: &mut [f64]) {
    let len = 3 * rows.nodes();
    assert_eq!(x.len(), len, "x has the wrong length");
    assert_eq!(y.len(), len, "y has the wrong length");
    rows.for_chunks(x, y, |start, out, pass| {
        rows.rows_times(start, x, pass, out)
    });
}

pub use crate::fem::vector::CHUNK_NODES;

/// The 27-point 3×3-block stencils of all 256 occupancy patterns.
#[derive(Debug, Clone)]
pub struct StencilTable {
    /// `blocks[27·P + d]`, row-major 3×3.
    pub blocks: Vec<Block>,
    /// Bit d set when `S[P][d]` is not structurally zero.
    pub neighbours: Vec<u32>,
    /// The element stiffness as 3×3 blocks, `element[8·a + b]` = Ke rows
    /// 3a.., columns 3b.. (what a sub-voxel stencil is summed from).
    pub element: Vec<Block>,
    /// The element stiffness by columns, `columns[j][i]` = Ke\[i\]\[j\] (the
    /// element products of partial voxels).
    pub columns: Vec<[f64; 24]>,
    /// `blocks` padded for the apply's vector loop: `lanes[27·P + d]` holds
    /// block row r at 4r..4r + 3 (columns 0, 1, 2 and a zero), so one
    /// 4-wide fused multiply-add takes a row against a node's three values
    /// (and the next node's first, times the zero).
    pub lanes: Vec<[f64; 12]>,
}

/// Local corner a(c) = (1 − cx) + 2(1 − cy) + 4(1 − cz) of a node in the
/// voxel at its pattern bit c, and the stencil entry d of that voxel's
/// corner b: d = (cx + bx) + 3(cy + by) + 9(cz + bz).
#[inline(always)]
pub(super) fn corner_entry(c: usize, b: usize) -> (usize, usize) {
    let d = ((c & 1) + (b & 1))
        + 3 * (((c >> 1) & 1) + ((b >> 1) & 1))
        + 9 * (((c >> 2) & 1) + ((b >> 2) & 1));
    (7 - c, d)
}

/// The 27 blocks of a node with pattern `p` whose voxels have solid
/// fractions `phi` (entry c for pattern bit c): Σ_{c ∈ p} φ_c·Ke[a(c), b]
/// into entry d(c, b), in the order of [`StencilTable::new`] (c ascending,
/// then b), so φ = 1 reproduces the table bit for bit.
pub fn fraction_stencil(element: &[Block], p: u8, phi: &[f32; 8], out: &mut [Block; 27]) {
    *out = [[0.0; 9]; 27];
    for (c, &w) in phi.iter().enumerate() {
        if p & (1 << c) == 0 {
            continue;
        }
        let w = w as f64;
        for b in 0..8 {
            let (a, d) = corner_entry(c, b);
            let ke = &element[8 * a + b];
            let blk = &mut out[d];
            for r in 0..9 {
                blk[r] += w * ke[r];
            }
        }
    }
}

impl StencilTable {
    /// Builds the table from the element stiffness matrix.
    pub fn new(ke: &ElementMatrix) -> StencilTable {
        let mut element = vec![[0.0; 9]; 64];
        for a in 0..8 {
            for b in 0..8 {
                for r in 0..3 {
                    for s in 0..3 {
                        element[8 * a + b][3 * r + s] = ke[(3 * a + r, 3 * b + s)];
                    }
                }
            }
        }
        let mut blocks = vec![[0.0; 9]; 256 * 27];
        let mut neighbours = vec![0u32; 256];
        for p in 0..256usize {
            for c in 0..8 {
                if p & (1 << c) == 0 {
                    continue;
                }
                for b in 0..8 {
                    // offset d = c + b − 1 per axis, in {−1, 0, 1}
                    let (a, d) = corner_entry(c, b);
                    neighbours[p] |= 1 << d;
                    let blk = &mut blocks[27 * p + d];
                    for r in 0..9 {
                        blk[r] += element[8 * a + b][r];
                    }
                }
            }
        }
        let columns = (0..24)
            .map(|j| std::array::from_fn(|i| ke[(i, j)]))
            .collect();
        let lanes = blocks
            .iter()
            .map(|b| {
                std::array::from_fn(|k| {
                    if k % 4 == 3 {
                        0.0
                    } else {
                        b[3 * (k / 4) + k % 4]
                    }
                })
            })
            .collect();
        StencilTable {
            blocks,
            neighbours,
            element,
            columns,
            lanes,
        }
    }

    /// The 3×3 diagonal block of a node with pattern p.
    pub fn diagonal_block(&self, p: u8) -> &Block {
        &self.blocks[27 * p as usize + 13]
    }
}

/// The unconstrained stiffness K of an [`ActiveMesh`], matrix-free: its rows
/// come from the [`StencilTable`] of each node's occupancy pattern, or, at
/// a node next to a voxel with φ < 1 (sub-voxel fill), from
/// [`fraction_stencil`] ([`BlockRows::row`]) or the partial voxels'
/// element products ([`BlockRows::row_times`]; the module doc).
pub struct StencilRows<'a> {
    mesh: &'a ActiveMesh,
    table: &'a StencilTable,
    offsets: [isize; 27],
    /// Node-grid ids per row along x (`node_grid()[0]`).
    row_ids: u32,
    partial: Option<PartialVoxels>,
}

impl<'a> StencilRows<'a> {
    /// K of `mesh` with element stencils `table`.
    pub fn new(mesh: &'a ActiveMesh, table: &'a StencilTable) -> StencilRows<'a> {
        StencilRows {
            mesh,
            table,
            offsets: mesh.neighbour_offsets(),
            row_ids: mesh.node_grid()[0] as u32,
            partial: PartialVoxels::new(mesh),
        }
    }

    /// The mesh the rows are over.
    pub fn mesh(&self) -> &'a ActiveMesh {
        self.mesh
    }

    /// The stencil table of the rows.
    pub fn table(&self) -> &'a StencilTable {
        self.table
    }

    /// Number of voxels with a weight ≠ 1 (zero under binary fill).
    pub fn partial_voxels(&self) -> usize {
        self.partial.as_ref().map_or(0, |p| p.corner.len())
    }
}

impl BlockRows for StencilRows<'_> {
    fn nodes(&self) -> usize {
        self.mesh.len()
    }

    #[inline(always)]
    fn row(&self, a: usize, f: impl FnMut(usize, usize, &Block)) {
        let p = self.mesh.pattern[a] as usize;
        match self.partial_phi(a) {
            Some(phi) => {
                let mut own = [[0.0; 9]; 27];
                fraction_stencil(&self.table.element, p as u8, phi, &mut own);
                self.emit(a, &own, f)
            }
            None => self.emit(a, &self.table.blocks[27 * p..27 * p + 27], f),
        }
    }

    /// With partial voxels on a box (not periodic) mesh, the element
    /// products made piecewise, just before the chunks that read them, so
    /// that the rows read them from cache (`chunks_with_products`, in
    /// operator/partial.rs).
    fn for_chunks<T: Send>(
        &self,
        x: &[f64],
        y: &mut [f64],
        chunk: impl Fn(usize, &mut [f64], &Pass) -> T + Sync,
    ) -> Vec<T> {
        match &self.partial {
            Some(partial) if !self.mesh.periodic && !self.mesh.is_empty() => {
                self.chunks_with_products(partial, x, y, chunk)
            }
            _ => chunks_after_pass(self, x, y, chunk),
        }
    }

    /// The partial voxels' element products w·Ke·xₑ, one task per
    /// [`CHUNK_NODES`] voxels.
    fn pass(&self, x: &[f64]) -> Pass {
        match &self.partial {
            Some(partial) => self.element_pass(partial, x),
            None => Pass::default(),
        }
    }

    /// The table row of the node's pattern in one loop with the sums in
    /// registers; at a node next to partial voxels, the table row of its
    /// full voxels plus its corner of each partial voxel's product (the
    /// same row as [`BlockRows::row`]'s computed blocks, summed in another
    /// order: equal to round-off, not to the bit).
    #[inline(always)]
    fn row_times(&self, a: usize, x: &[f64], pass: &Pass) -> [f64; 3] {
        self.row_times_with::<false>(a, x, pass)
    }

    #[inline(always)]
    fn rows_times(&self, start: usize, x: &[f64], pass: &Pass, out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the processor has AVX and FMA, checked just above.
            unsafe { self.rows_times_avx(start, x, pass, out) };
            return;
        }
        rows_one_by_one(self, start, x, pass, out)
    }

    fn diagonal_block(&self, a: usize) -> Block {
        let p = self.mesh.pattern[a];
        match self.partial_phi(a) {
            Some(phi) => {
                let mut diag = [0.0; 9];
                for (c, &w) in phi.iter().enumerate() {
                    if p & (1 << c) != 0 {
                        let ke = &self.table.element[9 * (7 - c)];
                        for r in 0..9 {
                            diag[r] += w as f64 * ke[r];
                        }
                    }
                }
                diag
            }
            None => *self.table.diagonal_block(p),
        }
    }
}

impl StencilRows<'_> {
    /// [`BlockRows::row_times`], its table rows by
    /// [`StencilRows::table_row_times_avx`] when `AVX` (which only a
    /// function compiled for AVX may ask), else by
    /// [`StencilRows::table_row_times`].
    #[inline(always)]
    fn row_times_with<const AVX: bool>(&self, a: usize, x: &[f64], pass: &Pass) -> [f64; 3] {
        let p = self.mesh.pattern[a];
        let mask = self.partial_mask(a);
        if mask == 0 {
            return self.table_row::<AVX>(a, p as usize, x);
        }
        let partial = self
            .partial
            .as_ref()
            .expect("a mask comes with partial voxels");
        let products = &pass.products[..];
        let [mut a0, mut a1, mut a2] = self.table_row::<AVX>(a, (p & !mask) as usize, x);
        let id = self.mesh.nodes[a] as isize;
        let mut bits = mask;
        while bits != 0 {
            let c = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            // The voxel's corner 0 is this node's neighbour at entry d, and
            // this node is the voxel's corner `own`.
            let (own, d) = corner_entry(c, 0);
            let m = self.mesh.node_map[(id + self.offsets[d]) as usize] as usize;
            let at = 24 * (partial.slot[m] as usize - pass.first_slot) + 3 * own;
            let v: &[f64; 3] = products[at..at + 3].try_into().expect("3 values a corner");
            a0 += v[0];
            a1 += v[1];
            a2 += v[2];
        }
        [a0, a1, a2]
    }

    /// The table row of pattern `p` at node `a` applied to x: by
    /// [`StencilRows::table_row_times_avx`] when `AVX`, else by
    /// [`StencilRows::table_row_times`].
    #[inline(always)]
    fn table_row<const AVX: bool>(&self, a: usize, p: usize, x: &[f64]) -> [f64; 3] {
        #[cfg(target_arch = "x86_64")]
        if AVX {
            // SAFETY: `AVX` is asked only by `rows_times_avx`, which runs
            // where the processor has AVX.
            return unsafe { self.table_row_times_avx(a, p, x) };
        }
        self.table_row_times(a, p, x)
    }

    /// The table row of pattern `p` at node `a` applied to x, in one loop
    /// with the sums in registers: per row r of the node and column j, a
    /// sum over the blocks (in stencil order) of fused multiply-adds
    /// s_rj = b_rj·x_j + s_rj, and y_r = (s_r0 + s_r1) + (s_r2 + 0): the
    /// order of a processor that holds a block row and a node's values in
    /// one 4-wide register ([`StencilTable::lanes`]), so the same bits as
    /// [`StencilRows::table_row_times_avx`]. The same row as [`mul_add`]
    /// block by block, summed in another order: equal to round-off. (On a
    /// processor without fused multiply-add, `f64::mul_add` is computed in
    /// software: the same bits, many times slower.)
    #[inline(always)]
    fn table_row_times(&self, a: usize, p: usize, x: &[f64]) -> [f64; 3] {
        let mesh = self.mesh;
        let lanes: &[[f64; 12]; 27] = self.table.lanes[27 * p..27 * p + 27]
            .try_into()
            .expect("27 blocks a pattern");
        let id = mesh.nodes[a] as isize;
        let mut acc = [[0.0f64; 3]; 3];
        let mut bits = self.table.neighbours[p];
        while bits != 0 {
            let d = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let m = mesh.node_map[(id + self.offsets[d]) as usize] as usize;
            let xm: &[f64; 3] = x[3 * m..3 * m + 3].try_into().expect("3 dofs a node");
            let c = &lanes[d];
            for (r, acc) in acc.iter_mut().enumerate() {
                for (j, acc) in acc.iter_mut().enumerate() {
                    *acc = c[4 * r + j].mul_add(xm[j], *acc);
                }
            }
        }
        acc.map(|s| (s[0] + s[1]) + (s[2] + 0.0))
    }

    /// Calls `f(d, m, blocks[d])` for the structurally non-zero entries of
    /// node `a`'s pattern.
    #[inline(always)]
    fn emit(&self, a: usize, blocks: &[Block], mut f: impl FnMut(usize, usize, &Block)) {
        let mesh = self.mesh;
        let id = mesh.nodes[a] as isize;
        let mut bits = self.table.neighbours[mesh.pattern[a] as usize];
        while bits != 0 {
            let d = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let m = mesh.node_map[(id + self.offsets[d]) as usize] as usize;
            f(d, m, &blocks[d]);
        }
    }

    /// The fractions around node `a` when one of its solid voxels has
    /// φ ≠ 1 (its row is then computed), else `None` (the table's row).
    #[inline(always)]
    fn partial_phi(&self, a: usize) -> Option<&[f32; 8]> {
        (self.partial_mask(a) != 0)
            .then(|| &self.mesh.phi.as_ref().expect("a mask comes with fractions")[a])
    }

    /// The solid voxels of node `a` whose weight is not 1 (bit c for
    /// pattern bit c).
    #[inline(always)]
    fn partial_mask(&self, a: usize) -> u8 {
        self.partial.as_ref().map_or(0, |p| p.mask[a])
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

/// The residual r = b − A·x and ‖r‖², summed as [`norm_sq`](crate::fem::vector::norm_sq) does: the
/// true residual of every backend's stop rule and of the reported result.
pub fn residual(a: &impl LinearOperator, b: &[f64], x: &[f64]) -> (Vec<f64>, f64) {
    let mut r = vec![0.0; b.len()];
    let rr = residual_into(a, b, x, &mut r);
    (r, rr)
}

/// [`residual`] written into `r`; returns ‖r‖².
pub fn residual_into(a: &impl LinearOperator, b: &[f64], x: &[f64], r: &mut [f64]) -> f64 {
    a.apply(x, r);
    r.par_chunks_mut(crate::fem::vector::CHUNK)
        .zip(b.par_chunks(crate::fem::vector::CHUNK))
        .for_each(|(r, b)| {
            for (r, b) in r.iter_mut().zip(b) {
                *r = b - *r;
            }
        });
    crate::fem::vector::norm_sq(r)
}

#[cfg(test)]
mod tests;
