//! The levels of the multigrid hierarchy: node sets on each level's node
//! grid ([`Nodes`]), trilinear interpolation weights ([`parents`],
//! [`for_support`]), the stored coarse levels ([`Level`]: 27 blocks per node),
//! the matrix-free finest level ([`Fine`]), the Galerkin product that makes
//! one level from the one above ([`galerkin`]), and the dense factor of the
//! coarsest ([`factor_shifted`]).

use std::borrow::Cow;

use super::{for_columns, MultigridError};
use crate::fem::constrained::Constrained;
use crate::fem::operator::{apply_rows, rows_one_by_one, Block, BlockRows, Pass, CHUNK_NODES};
use rayon::prelude::*;

/// Offset of stencil entry d = (dx+1) + 3(dy+1) + 9(dz+1).
pub(super) fn offset(d: usize) -> [isize; 3] {
    [
        (d % 3) as isize - 1,
        ((d / 3) % 3) as isize - 1,
        (d / 9) as isize - 1,
    ]
}

pub(super) fn stencil_index(o: [isize; 3]) -> usize {
    ((o[0] + 1) + 3 * (o[1] + 1) + 9 * (o[2] + 1)) as usize
}

/// Inverse of a symmetric positive definite 3×3 block, `None` when it is
/// singular.
pub(super) fn invert(b: &Block) -> Option<Block> {
    let inv = nalgebra::Matrix3::from_row_slice(b).try_inverse()?;
    let mut out = [0.0; 9];
    for r in 0..3 {
        for c in 0..3 {
            out[3 * r + c] = inv[(r, c)];
        }
    }
    out.iter().all(|v| v.is_finite()).then_some(out)
}

/// Diagonal shifts tried on the coarsest operator: 0, then 10⁻¹² times its
/// largest diagonal entry, growing a hundredfold up to 10⁻² (beyond that
/// the coarse correction would be meaningless).
pub(super) const COARSEST_SHIFTS: usize = 7;

/// Cholesky of a symmetric matrix, shifted as [`COARSEST_SHIFTS`] says
/// where it is only semi-definite; bounded, and an error for a matrix with
/// non-finite entries or one that no shift makes positive definite.
pub(super) fn factor_shifted(
    a: nalgebra::DMatrix<f64>,
) -> Result<nalgebra::Cholesky<f64, nalgebra::Dyn>, MultigridError> {
    let n = a.nrows();
    let scale = (0..n).map(|i| a[(i, i)]).fold(0.0f64, f64::max);
    let mut shift = 0.0;
    let mut tried = 0.0;
    if a.iter().all(|v| v.is_finite()) {
        for _ in 0..COARSEST_SHIFTS {
            let mut m = a.clone();
            for i in 0..n {
                m[(i, i)] += shift;
            }
            if let Some(c) = nalgebra::Cholesky::new(m) {
                return Ok(c);
            }
            tried = shift;
            shift = if shift == 0.0 {
                1e-12 * scale
            } else {
                shift * 100.0
            };
        }
    }
    Err(MultigridError::CoarsestNotPositive {
        dofs: n,
        scale,
        shift: tried,
    })
}

/// The nodes of one level on its node grid (the finest borrows the mesh's).
#[derive(Debug, Clone)]
pub(super) struct Nodes<'a> {
    /// Node grid size per axis.
    pub(super) size: [usize; 3],
    /// Grid id of each active node, increasing.
    pub(super) ids: Cow<'a, [u32]>,
    /// Active index of each grid id, or `u32::MAX`.
    pub(super) map: Cow<'a, [u32]>,
    /// Whether the node grid wraps (periodic homogenization): coordinates
    /// are taken modulo `size`.
    pub(super) periodic: bool,
}

impl Nodes<'_> {
    pub(super) fn coords(&self, a: usize) -> [isize; 3] {
        let id = self.ids[a] as usize;
        let (sx, sy) = (self.size[0], self.size[1]);
        [
            (id % sx) as isize,
            ((id / sx) % sy) as isize,
            (id / (sx * sy)) as isize,
        ]
    }

    pub(super) fn index(&self, c: [isize; 3]) -> Option<usize> {
        let c = self.wrap(c);
        if (0..3).any(|k| c[k] < 0 || c[k] as usize >= self.size[k]) {
            return None;
        }
        let id = c[0] as usize + self.size[0] * (c[1] as usize + self.size[1] * c[2] as usize);
        let a = self.map[id];
        (a != u32::MAX).then_some(a as usize)
    }

    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    /// `c` taken modulo the grid size on a periodic grid (unchanged on a
    /// box).
    pub(super) fn wrap(&self, c: [isize; 3]) -> [isize; 3] {
        if self.periodic {
            [0, 1, 2].map(|k| c[k].rem_euclid(self.size[k] as isize))
        } else {
            c
        }
    }

    /// The stencil offset along axis `k` from coarse coordinate `from` to
    /// `to` on this grid: their difference, wrapped into {−1, 0, 1} on a
    /// periodic grid (every periodic level has at least 3 nodes per axis).
    #[inline(always)]
    pub(super) fn offset_along(&self, k: usize, from: isize, to: isize) -> isize {
        let d = to - from;
        if self.periodic {
            let n = self.size[k] as isize;
            let w = d.rem_euclid(n);
            if w > n / 2 {
                w - n
            } else {
                w
            }
        } else {
            d
        }
    }

    /// The coarse grid size of this grid: a box of s nodes keeps the nodes
    /// 0, 2, …, ⌈(s−1)/2⌉·2; a periodic grid of n nodes has ⌈n/2⌉ (for odd
    /// n the last coarse interval spans one fine interval).
    pub(super) fn coarse_size(&self) -> [usize; 3] {
        if self.periodic {
            self.size.map(|s| s.div_ceil(2))
        } else {
            self.size.map(|s| (s - 1).div_ceil(2) + 1)
        }
    }
}

/// Interpolation weights of fine coordinate `f` from coarse coordinates:
/// (coarse, weight) for one axis.
pub(super) fn parents(f: isize) -> [(isize, f64); 2] {
    if f % 2 == 0 {
        [(f / 2, 1.0), (f / 2, 0.0)]
    } else {
        [((f - 1) / 2, 0.5), ((f + 1) / 2, 0.5)]
    }
}

/// A stored block: a Galerkin block summed in f64, stored in f32, by
/// columns: entry 3j + r is row r of column j, so that a column's three
/// rows are consecutive (the apply's vector loop loads one column into one
/// register, `BlockRows::rows_times`).
pub type Block32 = [f32; 9];

/// A block by columns from one by rows, or back (the transpose of a 3×3
/// laid out either way).
pub fn transposed<T: Copy>(b: &[T; 9]) -> [T; 9] {
    std::array::from_fn(|k| b[3 * (k % 3) + k / 3])
}

/// 27 blocks of 3×3 per node in single precision, with the neighbour each
/// multiplies (summed in f64, rounded once when stored; the apply reads
/// them into f64 sums): 1 080 B per node with the neighbour indices,
/// against 2 052 B in f64. What a stored level holds, and what an
/// assembled finest level is made of (the plastic tangent,
/// [`crate::plastic::elements::Assembly::tangent_rows`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BlockMatrix {
    /// Per node, 27 blocks by columns ([`Block32`]), entry d = (dx+1) +
    /// 3(dy+1) + 9(dz+1).
    pub blocks: Vec<Block32>,
    /// Per node and stencil entry, the neighbour's index, or `u32::MAX`
    /// where there is none or the block is zero.
    pub neighbours: Vec<u32>,
}

impl BlockMatrix {
    /// Bytes held: the blocks and the neighbour indices.
    pub fn bytes(&self) -> usize {
        self.blocks.len() * std::mem::size_of::<Block32>() + self.neighbours.len() * 4
    }
}

impl BlockMatrix {
    /// y = A·x on `k` ≤ [`MAX_BATCH`](super::MAX_BATCH) columns stored node by node (value c
    /// of column j at node a is x\[3(k·a + j) + c\]): each block is read
    /// and widened once for all k, and each column is summed as
    /// [`BlockRows::row_times`] sums one column alone (the same bits).
    pub fn apply_many(&self, x: &[f64], y: &mut [f64], k: usize) {
        if k == 1 {
            return apply_rows(self, x, y);
        }
        for_columns!(k, columns_times(self, x, y))
    }
}

/// [`BlockMatrix::apply_many`] on `K` columns.
fn columns_times<const K: usize>(matrix: &BlockMatrix, x: &[f64], y: &mut [f64]) {
    assert_eq!(x.len(), 3 * K * matrix.nodes(), "x has the wrong length");
    assert_eq!(y.len(), x.len(), "y has the wrong length");
    y.par_chunks_mut(3 * K * CHUNK_NODES)
        .enumerate()
        .for_each(|(ci, out)| {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx") {
                // SAFETY: the processor has AVX, checked just above.
                unsafe { matrix.columns_times_avx::<K>(ci * CHUNK_NODES, x, out) };
                return;
            }
            for (o, a) in out.chunks_exact_mut(3 * K).zip(ci * CHUNK_NODES..) {
                let blocks = &matrix.blocks[27 * a..27 * a + 27];
                let neighbours = &matrix.neighbours[27 * a..27 * a + 27];
                let mut acc = [[0.0f64; 3]; K];
                for (b, &m) in blocks.iter().zip(neighbours) {
                    if m != u32::MAX {
                        let m = m as usize;
                        let b = b.map(f64::from);
                        let xm = &x[3 * K * m..3 * K * (m + 1)];
                        for (acc, xm) in acc.iter_mut().zip(xm.chunks_exact(3)) {
                            acc[0] += b[0] * xm[0] + b[3] * xm[1] + b[6] * xm[2];
                            acc[1] += b[1] * xm[0] + b[4] * xm[1] + b[7] * xm[2];
                            acc[2] += b[2] * xm[0] + b[5] * xm[1] + b[8] * xm[2];
                        }
                    }
                }
                for (o, acc) in o.chunks_exact_mut(3).zip(acc) {
                    o.copy_from_slice(&acc);
                }
            }
        });
}

impl BlockRows for BlockMatrix {
    fn nodes(&self) -> usize {
        self.neighbours.len() / 27
    }

    fn row(&self, a: usize, mut f: impl FnMut(usize, usize, &Block)) {
        for d in 0..27 {
            let m = self.neighbours[27 * a + d];
            if m != u32::MAX {
                f(
                    d,
                    m as usize,
                    &transposed(&self.blocks[27 * a + d]).map(f64::from),
                );
            }
        }
    }

    /// [`BlockRows::row`]'s sum with the accumulators in registers.
    #[inline(always)]
    fn row_times(&self, a: usize, x: &[f64], _pass: &Pass) -> [f64; 3] {
        let blocks: &[Block32; 27] = self.blocks[27 * a..27 * a + 27]
            .try_into()
            .expect("27 blocks a node");
        let neighbours: &[u32; 27] = self.neighbours[27 * a..27 * a + 27]
            .try_into()
            .expect("27 neighbours a node");
        let (mut a0, mut a1, mut a2) = (0.0f64, 0.0f64, 0.0f64);
        for (b, &m) in blocks.iter().zip(neighbours) {
            if m != u32::MAX {
                let m = m as usize;
                let xm: &[f64; 3] = x[3 * m..3 * m + 3].try_into().expect("3 dofs a node");
                let b = b.map(f64::from);
                a0 += b[0] * xm[0] + b[3] * xm[1] + b[6] * xm[2];
                a1 += b[1] * xm[0] + b[4] * xm[1] + b[7] * xm[2];
                a2 += b[2] * xm[0] + b[5] * xm[1] + b[8] * xm[2];
            }
        }
        [a0, a1, a2]
    }

    /// With AVX (detected at run time), a block's three rows are the lanes
    /// of one 256-bit register: the same multiplies and adds in the same
    /// order, so the same bits (`src/fem/multigrid/avx.rs`).
    #[inline(always)]
    fn rows_times(&self, start: usize, x: &[f64], pass: &Pass, out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the processor has AVX, checked just above.
            unsafe { self.rows_times_avx(start, x, out) };
            return;
        }
        rows_one_by_one(self, start, x, pass, out)
    }
}

/// A stored (coarse) level: its nodes and its blocks. The level is a
/// preconditioner's operator inside an f64 PCG, as on the device.
pub(super) struct Level {
    pub(super) nodes: Nodes<'static>,
    pub(super) matrix: BlockMatrix,
}

/// The finest level: the constrained operator's rows ([`Constrained`]
/// over the stencil table, matrix-free, or over assembled rows) on the
/// mesh's node grid.
pub(super) struct Fine<'a, R> {
    pub(super) op: Constrained<'a, R>,
    pub(super) nodes: Nodes<'a>,
}

/// Rows of a level, fine (matrix-free) or stored.
pub(super) enum Rows<'l, 'a, R> {
    Fine(&'l Fine<'a, R>),
    Stored(&'l Level),
}

impl<R: BlockRows> Rows<'_, '_, R> {
    pub(super) fn nodes(&self) -> &Nodes<'_> {
        match self {
            Rows::Fine(f) => &f.nodes,
            Rows::Stored(l) => &l.nodes,
        }
    }

    pub(super) fn row(&self, a: usize, f: impl FnMut(usize, usize, &Block)) {
        match self {
            Rows::Fine(fine) => fine.op.row(a, f),
            Rows::Stored(l) => l.matrix.row(a, f),
        }
    }

    /// The inverse diagonal blocks of level `level`.
    pub(super) fn inverse_diagonal(&self, level: usize) -> Result<Vec<Block>, MultigridError> {
        (0..self.nodes().len())
            .into_par_iter()
            .map(|a| {
                let diag = match self {
                    Rows::Fine(fine) => fine.op.diagonal_block(a),
                    Rows::Stored(l) => l.matrix.diagonal_block(a),
                };
                invert(&diag).ok_or(MultigridError::SingularBlock {
                    level,
                    node: a,
                    grid_id: self.nodes().ids[a],
                })
            })
            .collect()
    }
}

/// The coarse node set of `fine`: every coarse node with an active fine
/// node in its support.
pub(super) fn coarse_nodes(fine: &Nodes) -> Nodes<'static> {
    let size = fine.coarse_size();
    let wrap = |x: isize, k: usize| {
        if fine.periodic {
            x.rem_euclid(size[k] as isize)
        } else {
            x
        }
    };
    let mut mark = vec![false; size.iter().product()];
    for a in 0..fine.len() {
        let c = fine.coords(a);
        let px = parents(c[0]);
        let py = parents(c[1]);
        let pz = parents(c[2]);
        for (x, wx) in px {
            for (y, wy) in py {
                for (z, wz) in pz {
                    if wx * wy * wz > 0.0 {
                        let (x, y, z) = (wrap(x, 0), wrap(y, 1), wrap(z, 2));
                        let id = x as usize + size[0] * (y as usize + size[1] * z as usize);
                        mark[id] = true;
                    }
                }
            }
        }
    }
    let ids: Vec<u32> = (0..mark.len())
        .filter(|&i| mark[i])
        .map(|i| i as u32)
        .collect();
    let mut map = vec![u32::MAX; mark.len()];
    for (a, &id) in ids.iter().enumerate() {
        map[id as usize] = a as u32;
    }
    Nodes {
        size,
        ids: Cow::Owned(ids),
        map: Cow::Owned(map),
        periodic: fine.periodic,
    }
}

/// Calls `f(i, w)` for each fine node i in the support of coarse node `ci`
/// with its weight w, x fastest, with no allocation (a restriction runs it
/// once per coarse node): the weights per axis are found once, 9 in all.
/// On a periodic grid a weight is the one [`parents`] gives the wrapped
/// fine node, so that restriction is exactly Pᵀ also where an odd grid's
/// last coarse interval spans one fine interval.
#[inline(always)]
pub(super) fn for_support(fine: &Nodes, ci: [isize; 3], mut f: impl FnMut(usize, f64)) {
    let coarse = fine.coarse_size();
    // The weight of coarse coordinate c among the parents of fine f, axis k.
    let weight = |f: isize, c: isize, k: usize| -> f64 {
        if !fine.periodic {
            return if f == 2 * c { 1.0 } else { 0.5 };
        }
        let n = coarse[k] as isize;
        parents(f.rem_euclid(fine.size[k] as isize))
            .iter()
            .filter(|(p, _)| p.rem_euclid(n) == c.rem_euclid(n))
            .map(|&(_, w)| w)
            .sum()
    };
    let axis: [[f64; 3]; 3] = std::array::from_fn(|k| {
        std::array::from_fn(|o| weight(2 * ci[k] + o as isize - 1, ci[k], k))
    });
    for (oz, wz) in axis[2].iter().enumerate() {
        for (oy, wy) in axis[1].iter().enumerate() {
            for (ox, wx) in axis[0].iter().enumerate() {
                let at = [
                    2 * ci[0] + ox as isize - 1,
                    2 * ci[1] + oy as isize - 1,
                    2 * ci[2] + oz as isize - 1,
                ];
                if let Some(i) = fine.index(at) {
                    // The product in the order (1·wx)·wy·wz of the
                    // per-node loop it replaces: the same bits.
                    let w = wx * wy * wz;
                    if w != 0.0 {
                        f(i, w);
                    }
                }
            }
        }
    }
}

/// A_{l+1} = Pᵀ A_l P.
pub(super) fn galerkin<R: BlockRows>(rows: &Rows<R>, coarse: Nodes<'static>) -> Level {
    let fine = rows.nodes();
    // Sized once: no growth (and no transient copy) of the largest array;
    // each node's 27 blocks summed in f64 and stored in f32.
    let mut blocks: Vec<Block32> = vec![[0.0; 9]; 27 * coarse.len()];
    blocks.par_chunks_mut(27).enumerate().for_each(|(ca, out)| {
        let mut acc = [[0.0f64; 9]; 27];
        let ci = coarse.coords(ca);
        for_support(fine, ci, |i, wi| {
            rows.row(i, |_, j, b| {
                // The parents of fine node j per axis, as offsets from ci.
                let fj = fine.coords(j);
                let [px, py, pz] = [0, 1, 2]
                    .map(|k| parents(fj[k]).map(|(p, w)| (coarse.offset_along(k, ci[k], p), w)));
                for (dx, wx) in px {
                    for (dy, wy) in py {
                        for (dz, wz) in pz {
                            let w = wi * wx * wy * wz;
                            if w == 0.0 {
                                continue;
                            }
                            let slot = &mut acc[stencil_index([dx, dy, dz])];
                            for k in 0..9 {
                                slot[k] += w * b[k];
                            }
                        }
                    }
                }
            });
        });
        for (o, a) in out.iter_mut().zip(&acc) {
            *o = transposed(a).map(|v| v as f32);
        }
    });
    let neighbours = (0..coarse.len())
        .into_par_iter()
        .flat_map_iter(|a| {
            let c = coarse.coords(a);
            let blocks = &blocks;
            let coarse = &coarse;
            (0..27).map(move |d| {
                let o = offset(d);
                match coarse.index([c[0] + o[0], c[1] + o[1], c[2] + o[2]]) {
                    Some(m) if blocks[27 * a + d].iter().any(|&v| v != 0.0) => m as u32,
                    _ => u32::MAX,
                }
            })
        })
        .collect();
    Level {
        nodes: coarse,
        matrix: BlockMatrix { blocks, neighbours },
    }
}
