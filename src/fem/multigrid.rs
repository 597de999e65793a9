//! Geometric multigrid on the voxel grid, used as the CG preconditioner
//! (the hierarchy and the CPU cycle; [`crate::gpu::multigrid`] runs the same
//! cycle on the device). One V-cycle is M⁻¹.
//!
//! - Levels coarsen the node grid 2×2×2: coarse node I sits on fine node 2I.
//!   P is trilinear interpolation (weights 1 and ½ per axis); restriction is
//!   Pᵀ.
//! - Coarse operators are Galerkin, A_{l+1} = Pᵀ A_l P, stored per coarse
//!   node as a 27-point stencil of 3×3 blocks. They stay faithful where thin
//!   struts vanish on the coarse grid: a coarse node exists wherever any
//!   active fine node lies in its support, and carries exactly the energy of
//!   the interpolated fine fields. The finest level is never stored: its
//!   rows come from the 256-pattern stencil table ([`StencilTable`]) with the
//!   constraints applied (A = P K P + (I − P)).
//! - Smoother: Chebyshev of degree [`CHEBYSHEV_DEGREE`] on D⁻¹A (D the 3×3
//!   diagonal blocks) over [λ_max/10, 1.1·λ_max], λ_max estimated by power
//!   iteration; the same polynomial before and after the coarse correction,
//!   so the V-cycle is symmetric positive definite.
//! - Coarsest level (≤ [`COARSEST_NODES`] nodes): dense Cholesky (nalgebra).
//!
//! Constrained fine dofs have identity rows and columns in A, so they pass
//! through Pᵀ A P as positive contributions: the coarse operators stay
//! symmetric positive (semi-)definite. A coarsest operator that is only
//! semi-definite (interpolations that coincide on the active fine nodes)
//! gets a diagonal shift of 10⁻¹² of its largest diagonal entry before
//! Cholesky, grown a hundredfold at a time up to 10⁻²; past that, or with
//! a non-finite entry, the hierarchy is an error
//! ([`MultigridError::CoarsestNotPositive`]), as is a singular 3×3
//! diagonal block of a smoother ([`MultigridError::SingularBlock`]).

use std::borrow::Cow;

use crate::fem::constrained::Constrained;
use crate::fem::mesh::ActiveMesh;
use crate::fem::operator::{
    apply_rows, mul_add, Block, BlockRows, LinearOperator, StencilRows, StencilTable,
};
use crate::fem::precond::Preconditioner;
use rayon::prelude::*;

/// Chebyshev smoothing steps per pre- or post-smoothing.
pub const CHEBYSHEV_DEGREE: usize = 3;
/// A level with at most this many nodes is solved directly.
pub const COARSEST_NODES: usize = 400;

/// Offset of stencil entry d = (dx+1) + 3(dy+1) + 9(dz+1).
fn offset(d: usize) -> [isize; 3] {
    [
        (d % 3) as isize - 1,
        ((d / 3) % 3) as isize - 1,
        (d / 9) as isize - 1,
    ]
}

fn stencil_index(o: [isize; 3]) -> usize {
    ((o[0] + 1) + 3 * (o[1] + 1) + 9 * (o[2] + 1)) as usize
}

/// Why a hierarchy could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MultigridError {
    /// A node's 3×3 diagonal block has no inverse: some of its degrees of
    /// freedom carry no stiffness on that level.
    #[error("multigrid: the 3×3 diagonal block of node {node} (grid node id {grid_id}) on level {level} is singular: its degrees of freedom carry no stiffness (a mechanism, or solver.preconditioner = \"jacobi\" to bypass the hierarchy)")]
    SingularBlock {
        level: usize,
        node: usize,
        grid_id: u32,
    },
    /// The coarsest operator could not be factored, even shifted.
    #[error("multigrid: the coarsest operator ({dofs} unknowns, largest diagonal entry {scale:e}) is not positive definite: Cholesky failed with diagonal shifts up to {shift:e}")]
    CoarsestNotPositive { dofs: usize, scale: f64, shift: f64 },
}

/// Inverse of a symmetric positive definite 3×3 block, `None` when it is
/// singular.
fn invert(b: &Block) -> Option<Block> {
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
const COARSEST_SHIFTS: usize = 7;

/// Cholesky of a symmetric matrix, shifted as [`COARSEST_SHIFTS`] says
/// where it is only semi-definite; bounded, and an error for a matrix with
/// non-finite entries or one that no shift makes positive definite.
fn factor_shifted(
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
struct Nodes<'a> {
    /// Node grid size per axis.
    size: [usize; 3],
    /// Grid id of each active node, increasing.
    ids: Cow<'a, [u32]>,
    /// Active index of each grid id, or `u32::MAX`.
    map: Cow<'a, [u32]>,
}

impl Nodes<'_> {
    fn coords(&self, a: usize) -> [isize; 3] {
        let id = self.ids[a] as usize;
        let (sx, sy) = (self.size[0], self.size[1]);
        [
            (id % sx) as isize,
            ((id / sx) % sy) as isize,
            (id / (sx * sy)) as isize,
        ]
    }

    fn index(&self, c: [isize; 3]) -> Option<usize> {
        if (0..3).any(|k| c[k] < 0 || c[k] as usize >= self.size[k]) {
            return None;
        }
        let id = c[0] as usize + self.size[0] * (c[1] as usize + self.size[1] * c[2] as usize);
        let a = self.map[id];
        (a != u32::MAX).then_some(a as usize)
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

/// Interpolation weights of fine coordinate `f` from coarse coordinates:
/// (coarse, weight) for one axis.
fn parents(f: isize) -> [(isize, f64); 2] {
    if f % 2 == 0 {
        [(f / 2, 1.0), (f / 2, 0.0)]
    } else {
        [((f - 1) / 2, 0.5), ((f + 1) / 2, 0.5)]
    }
}

/// A stored (coarse) level: its nodes and 27 blocks per node.
struct Level {
    nodes: Nodes<'static>,
    blocks: Vec<Block>,
    /// Per node and stencil entry, the neighbour's index, or `u32::MAX`
    /// where there is none or the block is zero.
    neighbours: Vec<u32>,
}

impl BlockRows for Level {
    fn nodes(&self) -> usize {
        self.nodes.len()
    }

    fn row(&self, a: usize, mut f: impl FnMut(usize, usize, &Block)) {
        for d in 0..27 {
            let m = self.neighbours[27 * a + d];
            if m != u32::MAX {
                f(d, m as usize, &self.blocks[27 * a + d]);
            }
        }
    }
}

/// The finest level: the constrained operator's matrix-free rows
/// ([`Constrained`] over the stencil table) on the mesh's node grid.
struct Fine<'a> {
    op: Constrained<'a, StencilRows<'a>>,
    nodes: Nodes<'a>,
}

/// Rows of a level, fine (matrix-free) or stored.
enum Rows<'l, 'a> {
    Fine(&'l Fine<'a>),
    Stored(&'l Level),
}

impl Rows<'_, '_> {
    fn nodes(&self) -> &Nodes<'_> {
        match self {
            Rows::Fine(f) => &f.nodes,
            Rows::Stored(l) => &l.nodes,
        }
    }

    fn row(&self, a: usize, f: impl FnMut(usize, usize, &Block)) {
        match self {
            Rows::Fine(fine) => fine.op.row(a, f),
            Rows::Stored(l) => l.row(a, f),
        }
    }

    /// The inverse diagonal blocks of level `level`.
    fn inverse_diagonal(&self, level: usize) -> Result<Vec<Block>, MultigridError> {
        (0..self.nodes().len())
            .into_par_iter()
            .map(|a| {
                let diag = match self {
                    Rows::Fine(fine) => fine.op.diagonal_block(a),
                    Rows::Stored(l) => l.diagonal_block(a),
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
fn coarse_nodes(fine: &Nodes) -> Nodes<'static> {
    let size = fine.size.map(|s| (s - 1).div_ceil(2) + 1);
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
    }
}

/// The fine nodes in the support of coarse node `ci`, with their weights.
fn support(fine: &Nodes, ci: [isize; 3]) -> Vec<(usize, f64)> {
    let mut out = Vec::with_capacity(27);
    for dz in -1..=1isize {
        for dy in -1..=1isize {
            for dx in -1..=1isize {
                let f = [2 * ci[0] + dx, 2 * ci[1] + dy, 2 * ci[2] + dz];
                if let Some(i) = fine.index(f) {
                    let w = [dx, dy, dz]
                        .iter()
                        .map(|&e| if e == 0 { 1.0 } else { 0.5 })
                        .product::<f64>();
                    out.push((i, w));
                }
            }
        }
    }
    out
}

/// A_{l+1} = Pᵀ A_l P.
fn galerkin(rows: &Rows, coarse: Nodes<'static>) -> Level {
    let fine = rows.nodes();
    // Sized once: no growth (and no transient copy) of the largest array.
    let mut blocks: Vec<Block> = vec![[0.0; 9]; 27 * coarse.len()];
    blocks.par_chunks_mut(27).enumerate().for_each(|(ca, acc)| {
        let ci = coarse.coords(ca);
        for (i, wi) in support(fine, ci) {
            rows.row(i, |_, j, b| {
                let fj = fine.coords(j);
                for (x, wx) in parents(fj[0]) {
                    for (y, wy) in parents(fj[1]) {
                        for (z, wz) in parents(fj[2]) {
                            let w = wi * wx * wy * wz;
                            if w == 0.0 {
                                continue;
                            }
                            let dj = [x - ci[0], y - ci[1], z - ci[2]];
                            let slot = &mut acc[stencil_index(dj)];
                            for k in 0..9 {
                                slot[k] += w * b[k];
                            }
                        }
                    }
                }
            });
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
        blocks,
        neighbours,
    }
}

/// Smoothing data of one level.
struct Smoother {
    inv_diag: Vec<Block>,
    lambda_max: f64,
}

fn block_jacobi(inv_diag: &[Block], r: &[f64], z: &mut [f64]) {
    z.par_chunks_mut(3)
        .zip(r.par_chunks(3))
        .zip(inv_diag.par_iter())
        .for_each(|((z, r), b)| {
            let mut acc = [0.0; 3];
            mul_add(&mut acc, b, r);
            z.copy_from_slice(&acc);
        });
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    crate::fem::ordered_sum(
        a.par_chunks(4096)
            .zip(b.par_chunks(4096))
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum()),
    )
}

/// λ_max of D⁻¹A by power iteration (deterministic start vector).
fn lambda_max(apply: &dyn Fn(&[f64], &mut [f64]), inv_diag: &[Block]) -> f64 {
    let n = 3 * inv_diag.len();
    let mut v: Vec<f64> = (0..n)
        .map(|i| 1.0 + ((i * 7919) % 17) as f64 / 17.0)
        .collect();
    let (mut av, mut w) = (vec![0.0; n], vec![0.0; n]);
    let mut lambda = 1.0;
    for _ in 0..12 {
        let norm = dot(&v, &v).sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        apply(&v, &mut av);
        block_jacobi(inv_diag, &av, &mut w);
        lambda = dot(&v, &w);
        std::mem::swap(&mut v, &mut w);
    }
    // Power iteration converges from below; 10 % margin.
    1.1 * lambda.abs().max(1e-300)
}

/// The Chebyshev schedule of a smoother with estimate `lambda_max`: per
/// step k, (c1, c2) in d_k = c1·d_{k−1} + c2·D⁻¹r_k, x += d_k (c1 = 0 for
/// the first step). The interval is [λ_max/10, λ_max]. The CPU and GPU
/// smoothers share it.
pub fn chebyshev_steps(lambda_max: f64) -> [(f64, f64); CHEBYSHEV_DEGREE] {
    let (lmax, lmin) = (lambda_max, lambda_max / 10.0);
    let theta = (lmax + lmin) / 2.0;
    let delta = (lmax - lmin) / 2.0;
    let sigma = theta / delta;
    let mut out = [(0.0, 1.0 / theta); CHEBYSHEV_DEGREE];
    let mut rho_old = 1.0 / sigma;
    for step in out.iter_mut().skip(1) {
        let rho = 1.0 / (2.0 * sigma - rho_old);
        *step = (rho * rho_old, 2.0 * rho / delta);
        rho_old = rho;
    }
    out
}

/// One level of a hierarchy as the GPU uploads it (f64; the GPU converts).
pub struct LevelView<'l> {
    /// Node grid size per axis.
    pub size: [usize; 3],
    /// Grid id of each active node, increasing.
    pub ids: &'l [u32],
    /// Active index of each grid id, or `u32::MAX`.
    pub map: &'l [u32],
    /// Stored levels: 27 row-major 3×3 blocks per node (entry d = (dx+1) +
    /// 3(dy+1) + 9(dz+1)) and the neighbour of each (`u32::MAX`: none or a
    /// zero block). `None` for the finest (matrix-free) level.
    pub stencil: Option<(&'l [[f64; 9]], &'l [u32])>,
    /// Smoothed levels: the inverse 3×3 diagonal blocks and λ_max of D⁻¹A.
    /// `None` for the coarsest level.
    pub smoother: Option<(&'l [[f64; 9]], f64)>,
}

/// The multigrid preconditioner of one problem.
pub struct Multigrid<'a> {
    fine: Fine<'a>,
    levels: Vec<Level>,
    smoothers: Vec<Smoother>,
    coarse: Option<nalgebra::Cholesky<f64, nalgebra::Dyn>>,
}

/// Sizes of a hierarchy, for reports.
#[derive(Debug, Clone, PartialEq)]
pub struct HierarchyInfo {
    /// Active nodes per level, finest first.
    pub nodes: Vec<usize>,
    /// Bytes held by the coarse levels, smoothers and the coarsest factor.
    pub bytes: usize,
}

impl<'a> Multigrid<'a> {
    /// Builds the hierarchy for the constrained operator of `mesh`.
    pub fn new(
        mesh: &'a ActiveMesh,
        table: &'a StencilTable,
        fixed: &'a [u8],
    ) -> Result<Multigrid<'a>, MultigridError> {
        let nodes = Nodes {
            size: mesh.dims.map(|d| d + 1),
            ids: Cow::Borrowed(&mesh.nodes),
            map: Cow::Borrowed(&mesh.node_map),
        };
        let fine = Fine {
            op: Constrained::new(StencilRows::new(mesh, table), fixed),
            nodes,
        };
        let mut levels: Vec<Level> = Vec::new();
        loop {
            let rows = match levels.last() {
                None => Rows::Fine(&fine),
                Some(l) => Rows::Stored(l),
            };
            let n = rows.nodes().len();
            if n <= COARSEST_NODES || levels.len() >= 12 {
                break;
            }
            let coarse = coarse_nodes(rows.nodes());
            if coarse.len() >= n {
                break;
            }
            let level = galerkin(&rows, coarse);
            levels.push(level);
        }
        let mut mg = Multigrid {
            fine,
            levels,
            smoothers: Vec::new(),
            coarse: None,
        };
        // Smoothers for every level but the coarsest.
        let depth = mg.levels.len();
        for l in 0..depth {
            let rows = mg.rows(l);
            let inv_diag = rows.inverse_diagonal(l)?;
            let lambda = lambda_max(&|x, y| mg.apply_level(l, x, y), &inv_diag);
            mg.smoothers.push(Smoother {
                inv_diag,
                lambda_max: lambda,
            });
        }
        mg.coarse = Some(mg.factor_coarsest()?);
        Ok(mg)
    }

    fn rows(&self, l: usize) -> Rows<'_, 'a> {
        if l == 0 {
            Rows::Fine(&self.fine)
        } else {
            Rows::Stored(&self.levels[l - 1])
        }
    }

    fn nodes(&self, l: usize) -> &Nodes<'_> {
        if l == 0 {
            &self.fine.nodes
        } else {
            &self.levels[l - 1].nodes
        }
    }

    fn apply_level(&self, l: usize, x: &[f64], y: &mut [f64]) {
        if l == 0 {
            self.fine.op.apply(x, y);
        } else {
            apply_rows(&self.levels[l - 1], x, y);
        }
    }

    fn factor_coarsest(&self) -> Result<nalgebra::Cholesky<f64, nalgebra::Dyn>, MultigridError> {
        let l = self.levels.len();
        let rows = self.rows(l);
        let nodes = rows.nodes();
        let n = 3 * nodes.len();
        let mut a = nalgebra::DMatrix::<f64>::zeros(n, n);
        for i in 0..nodes.len() {
            rows.row(i, |_, j, b| {
                for r in 0..3 {
                    for s in 0..3 {
                        a[(3 * i + r, 3 * j + s)] += b[3 * r + s];
                    }
                }
            });
        }
        factor_shifted(a)
    }

    /// Number of levels, the finest and the coarsest included.
    pub fn depth(&self) -> usize {
        self.levels.len() + 1
    }

    /// Level `l` (0: finest) as the GPU uploads it.
    pub fn level(&self, l: usize) -> LevelView<'_> {
        let nodes = self.nodes(l);
        LevelView {
            size: nodes.size,
            ids: &nodes.ids,
            map: &nodes.map,
            stencil: (l > 0).then(|| {
                let s = &self.levels[l - 1];
                (&s.blocks[..], &s.neighbours[..])
            }),
            smoother: self
                .smoothers
                .get(l)
                .map(|s| (&s.inv_diag[..], s.lambda_max)),
        }
    }

    /// The inverse of the coarsest operator (as factored), dense, row-major.
    pub fn coarsest_inverse(&self) -> Vec<f64> {
        let inv = self.coarse.as_ref().expect("factored").inverse();
        let n = inv.nrows();
        let mut out = Vec::with_capacity(n * n);
        for r in 0..n {
            for c in 0..n {
                out.push(inv[(r, c)]);
            }
        }
        out
    }

    /// Active nodes per level and the memory of the hierarchy.
    pub fn info(&self) -> HierarchyInfo {
        let mut nodes = vec![self.fine.nodes.len()];
        nodes.extend(self.levels.iter().map(|l| l.nodes.len()));
        let block = std::mem::size_of::<Block>();
        let mut bytes: usize = self
            .levels
            .iter()
            .map(|l| l.blocks.len() * block + l.nodes.map.len() * 4 + l.nodes.ids.len() * 4)
            .sum();
        bytes += self
            .smoothers
            .iter()
            .map(|s| s.inv_diag.len() * block)
            .sum::<usize>();
        let nc = 3 * nodes.last().copied().unwrap_or(0);
        bytes += nc * nc * 8;
        HierarchyInfo { nodes, bytes }
    }

    /// Chebyshev smoothing of A_l x = b from the current x.
    fn smooth(&self, l: usize, x: &mut [f64], b: &[f64]) {
        let s = &self.smoothers[l];
        let steps = chebyshev_steps(s.lambda_max);
        let n = x.len();
        let mut r = vec![0.0; n];
        let mut ad = vec![0.0; n];
        let mut z = vec![0.0; n];
        self.apply_level(l, x, &mut r);
        r.par_iter_mut().zip(b).for_each(|(r, b)| *r = b - *r);
        block_jacobi(&s.inv_diag, &r, &mut z);
        let mut d: Vec<f64> = z.iter().map(|v| steps[0].1 * v).collect();
        x.par_iter_mut().zip(&d).for_each(|(x, d)| *x += d);
        for &(c1, c2) in &steps[1..] {
            self.apply_level(l, &d, &mut ad);
            r.par_iter_mut().zip(&ad).for_each(|(r, a)| *r -= a);
            block_jacobi(&s.inv_diag, &r, &mut z);
            d.par_iter_mut()
                .zip(&z)
                .for_each(|(d, z)| *d = c1 * *d + c2 * z);
            x.par_iter_mut().zip(&d).for_each(|(x, d)| *x += d);
        }
    }

    /// r_c = Pᵀ r.
    fn restrict(&self, l: usize, r: &[f64]) -> Vec<f64> {
        let (fine, coarse) = (self.nodes(l), self.nodes(l + 1));
        let mut out = vec![0.0; 3 * coarse.len()];
        out.par_chunks_mut(3).enumerate().for_each(|(ca, o)| {
            for (i, w) in support(fine, coarse.coords(ca)) {
                for c in 0..3 {
                    o[c] += w * r[3 * i + c];
                }
            }
        });
        out
    }

    /// x += P x_c.
    fn prolong_add(&self, l: usize, xc: &[f64], x: &mut [f64]) {
        let (fine, coarse) = (self.nodes(l), self.nodes(l + 1));
        x.par_chunks_mut(3).enumerate().for_each(|(i, xi)| {
            let f = fine.coords(i);
            for (cx, wx) in parents(f[0]) {
                for (cy, wy) in parents(f[1]) {
                    for (cz, wz) in parents(f[2]) {
                        let w = wx * wy * wz;
                        if w == 0.0 {
                            continue;
                        }
                        if let Some(j) = coarse.index([cx, cy, cz]) {
                            for c in 0..3 {
                                xi[c] += w * xc[3 * j + c];
                            }
                        }
                    }
                }
            }
        });
    }

    fn cycle(&self, l: usize, b: &[f64]) -> Vec<f64> {
        if l == self.levels.len() {
            let c = self.coarse.as_ref().expect("factored");
            let v = c.solve(&nalgebra::DVector::from_column_slice(b));
            return v.as_slice().to_vec();
        }
        let mut x = vec![0.0; b.len()];
        self.smooth(l, &mut x, b);
        let mut r = vec![0.0; b.len()];
        self.apply_level(l, &x, &mut r);
        r.par_iter_mut().zip(b).for_each(|(r, b)| *r = b - *r);
        let rc = self.restrict(l, &r);
        let xc = self.cycle(l + 1, &rc);
        self.prolong_add(l, &xc, &mut x);
        self.smooth(l, &mut x, b);
        x
    }
}

impl Preconditioner for Multigrid<'_> {
    /// z = M⁻¹ r: one V-cycle from zero.
    fn apply(&self, r: &[f64], z: &mut [f64]) {
        let x = self.cycle(0, r);
        z.copy_from_slice(&x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fem::hex8::element_stiffness;
    use crate::grid::VoxelGrid;
    use crate::material::YoungPoisson;

    /// A 28×22×18 grid, about 70 % solid (deterministic pattern), with the
    /// bottom layer's nodes fixed: more than one level below the fine one.
    fn problem() -> (ActiveMesh, StencilTable, Vec<u8>) {
        let mut grid = VoxelGrid::empty([28, 22, 18], 0.1);
        for (v, s) in grid.solid.iter_mut().enumerate() {
            *s = ((v * 2_654_435_761usize) % 10 < 7) as u8;
        }
        let mesh = ActiveMesh::new(&grid).unwrap();
        let table = StencilTable::new(&element_stiffness(YoungPoisson::tantalum(), 0.1));
        let fixed = (0..mesh.len())
            .map(|a| if mesh.coords(a)[2] == 0 { 7 } else { 0 })
            .collect();
        (mesh, table, fixed)
    }

    fn random(n: usize, seed: usize) -> Vec<f64> {
        (0..n)
            .map(|i| (((i + seed) * 2_246_822_519usize) % 1000) as f64 / 500.0 - 1.0)
            .collect()
    }

    fn max_rel(a: &[f64], b: &[f64]) -> f64 {
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        a.iter()
            .zip(b)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs() / scale))
    }

    #[test]
    fn coarse_operators_are_galerkin_products() {
        let (mesh, table, fixed) = problem();
        let mg = Multigrid::new(&mesh, &table, &fixed).unwrap();
        assert!(mg.levels.len() >= 2, "{:?}", mg.info());
        // Every stored level: A_{l+1} x = Pᵀ A_l P x.
        for l in 0..mg.levels.len() {
            let nf = 3 * mg.nodes(l).len();
            let nc = 3 * mg.nodes(l + 1).len();
            let xc = random(nc, l);
            let mut px = vec![0.0; nf];
            mg.prolong_add(l, &xc, &mut px);
            let mut apx = vec![0.0; nf];
            mg.apply_level(l, &px, &mut apx);
            let galerkin = mg.restrict(l, &apx);
            let mut stored = vec![0.0; nc];
            mg.apply_level(l + 1, &xc, &mut stored);
            assert!(max_rel(&stored, &galerkin) < 1e-12, "level {}", l + 1);
        }
    }

    #[test]
    fn fine_rows_are_the_constrained_operator() {
        let (mesh, table, fixed) = problem();
        let mg = Multigrid::new(&mesh, &table, &fixed).unwrap();
        let x = random(3 * mesh.len(), 3);
        let mut y = vec![0.0; x.len()];
        mg.apply_level(0, &x, &mut y);
        let rows = mg.rows(0);
        let mut z = vec![0.0; x.len()];
        for a in 0..mesh.len() {
            let c = mg.fine.nodes.coords(a);
            let mut acc = [0.0; 3];
            rows.row(a, |d, m, b| {
                let o = offset(d);
                let at = [c[0] + o[0], c[1] + o[1], c[2] + o[2]];
                assert_eq!(mg.fine.nodes.index(at), Some(m));
                mul_add(&mut acc, b, &x[3 * m..3 * m + 3]);
            });
            z[3 * a..3 * a + 3].copy_from_slice(&acc);
        }
        assert!(max_rel(&z, &y) < 1e-12);
    }

    #[test]
    fn a_singular_block_has_no_inverse() {
        assert_eq!(invert(&[0.0; 9]), None);
        let mut rank2 = [0.0; 9];
        rank2[0] = 1.0;
        rank2[4] = 1.0;
        assert_eq!(invert(&rank2), None);
        let id = [1.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 4.0];
        assert_eq!(
            invert(&id),
            Some([1.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.25])
        );
    }

    #[test]
    fn the_coarsest_factorisation_is_bounded() {
        // Semi-definite: factored after a small shift.
        let semi = nalgebra::DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 1.0]);
        assert!(factor_shifted(semi).is_ok());
        // NaN entries used to loop forever; an indefinite matrix is refused
        // after the last shift.
        let nan = nalgebra::DMatrix::from_row_slice(2, 2, &[f64::NAN, 0.0, 0.0, 1.0]);
        assert!(matches!(
            factor_shifted(nan),
            Err(MultigridError::CoarsestNotPositive { dofs: 2, .. })
        ));
        let indefinite = nalgebra::DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, -1.0]);
        match factor_shifted(indefinite) {
            Err(MultigridError::CoarsestNotPositive { shift, scale, .. }) => {
                assert_eq!(scale, 1.0);
                assert!((shift - 1e-2).abs() < 1e-12, "{shift}");
            }
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn the_v_cycle_is_symmetric_positive_definite() {
        let (mesh, table, fixed) = problem();
        let mg = Multigrid::new(&mesh, &table, &fixed).unwrap();
        let n = 3 * mesh.len();
        let (x, y) = (random(n, 5), random(n, 9));
        let (mut mx, mut my) = (vec![0.0; n], vec![0.0; n]);
        mg.apply(&x, &mut mx);
        mg.apply(&y, &mut my);
        let (a, b) = (dot(&y, &mx), dot(&x, &my));
        assert!((a - b).abs() <= 1e-9 * a.abs().max(b.abs()), "{a} vs {b}");
        assert!(dot(&x, &mx) > 0.0 && dot(&y, &my) > 0.0);
    }
}
