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
//! - Smoother: Chebyshev on D⁻¹A (D the 3×3 diagonal blocks) over
//!   [λ_max/10, 1.1·λ_max], λ_max estimated by power iteration, of degree
//!   [`FINE_CHEBYSHEV_DEGREE`] on the finest level and [`CHEBYSHEV_DEGREE`]
//!   on the others ([`smoothing_degree`]; a hierarchy may smooth its coarse
//!   levels at a lower degree, [`Multigrid::with_coarse_degree`]); the same
//!   polynomial before and after the coarse correction, so the V-cycle is
//!   symmetric positive definite.
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
//!
//! Files: `levels.rs` (node sets, interpolation, stored and finest levels,
//! the Galerkin product, the coarsest factor), `smoother.rs` (block Jacobi,
//! λ_max, the Chebyshev schedule), `transfer.rs` (P and Pᵀ between two
//! levels as lists made once); this module holds the hierarchy
//! ([`Multigrid`]) and its V-cycle.

#[cfg(target_arch = "x86_64")]
mod avx;
mod batch;
mod levels;
mod smoother;
#[cfg(test)]
mod tests;
mod transfer;

use std::borrow::Cow;

use crate::fem::constrained::Constrained;
use crate::fem::mesh::ActiveMesh;
use crate::fem::operator::{BlockRows, LinearOperator, StencilRows, StencilTable};
use crate::fem::precond::Preconditioner;
use levels::{coarse_nodes, factor_shifted, galerkin, Fine, Level, Nodes, Rows};
pub use levels::{transposed, Block32, BlockMatrix};
use rayon::prelude::*;
use smoother::{chebyshev_direction, lambda_max, stored, Smoother};
pub use smoother::{chebyshev_steps, power_iteration};
use std::sync::Mutex;
use transfer::Transfer;

/// Chebyshev smoothing steps per pre- or post-smoothing on the coarse
/// levels.
pub const CHEBYSHEV_DEGREE: usize = 3;
/// Chebyshev smoothing steps per pre- or post-smoothing on the finest
/// level: one (damped block Jacobi, the degree-1 Chebyshev polynomial of
/// the same interval). The finest level's applies cost most of a cycle
/// and its smoothing buys least: on the shipped scene degree 1 takes 18
/// iterations against degree 3's 17, in 1/1.46 of the iteration time
/// (docs/performance.md, "Fine-level smoothing").
pub const FINE_CHEBYSHEV_DEGREE: usize = 1;

/// The Chebyshev degree of level `l` (0: finest): its smoothing steps are
/// the first that many of [`chebyshev_steps`] (a Chebyshev iteration's
/// first k steps are its degree-k polynomial). The CPU and the GPU cycles
/// both smooth so.
pub fn smoothing_degree(l: usize) -> usize {
    level_degree(l, CHEBYSHEV_DEGREE)
}

/// The Chebyshev degree of level `l` in a hierarchy whose coarse levels
/// smooth with degree `coarse` ([`Multigrid::with_coarse_degree`]).
pub fn level_degree(l: usize, coarse: usize) -> usize {
    if l == 0 {
        FINE_CHEBYSHEV_DEGREE
    } else {
        coarse
    }
}
/// `$f::<K>(…)` with the column count `$k` (1 ..= [`MAX_BATCH`]) as the
/// constant K: a level's loops over a node's columns, unrolled.
macro_rules! for_columns {
    ($k:expr, $f:ident($($a:expr),*)) => {
        match $k {
            1 => $f::<1>($($a),*),
            2 => $f::<2>($($a),*),
            3 => $f::<3>($($a),*),
            4 => $f::<4>($($a),*),
            5 => $f::<5>($($a),*),
            6 => $f::<6>($($a),*),
            k => panic!("{k} columns: at most {} at once", $crate::fem::multigrid::MAX_BATCH),
        }
    };
}
pub(crate) use for_columns;

/// The most right-hand sides one batched V-cycle takes
/// ([`Multigrid::apply_many`]): a periodic cell's six unit strains.
pub const MAX_BATCH: usize = 6;

/// A level with at most this many nodes is solved directly.
pub const COARSEST_NODES: usize = 400;
/// The most nodes of a coarsest level that could not coarsen further (a
/// thin periodic grid) that is still factored densely (≈ 1 GB of f64).
pub const MAX_COARSEST_NODES: usize = 4000;

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
    /// A periodic grid too thin along one axis to coarsen further left a
    /// coarsest level too large to factor densely.
    #[error("multigrid: the periodic grid stops coarsening at {nodes} nodes (node grid {size:?}: an axis under 6 nodes cannot coarsen), more than the {max} a dense coarsest solve allows; use solver.preconditioner = \"jacobi\" or more voxels along the thin axis")]
    CoarsestTooLarge {
        nodes: usize,
        size: [usize; 3],
        max: usize,
    },
}

/// The nodes of one coarse level, without its blocks: what the device
/// builds its hierarchy on ([`coarse_node_sets`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSet {
    /// Node grid size per axis.
    pub size: [usize; 3],
    /// Grid id of each active node, increasing.
    pub ids: Vec<u32>,
    /// Active index of each grid id, or `u32::MAX`.
    pub map: Vec<u32>,
}

/// The node sets of the coarse levels that [`Multigrid::new`] makes under
/// the fine nodes `ids` on a node grid of `size` (the same rule: coarsen
/// while a level has more than [`COARSEST_NODES`] nodes, at most 12 coarse
/// levels, and only while a level shrinks). Linear in the nodes; no blocks.
pub fn coarse_node_sets(size: [usize; 3], ids: &[u32]) -> Vec<NodeSet> {
    let mut out: Vec<Nodes<'static>> = Vec::new();
    // Box grids only: a periodic mesh's hierarchy is built on the host.
    let fine = Nodes {
        size,
        ids: Cow::Borrowed(ids),
        map: Cow::Borrowed(&[]),
        periodic: false,
    };
    loop {
        let nodes = out.last().unwrap_or(&fine);
        let n = nodes.len();
        if n <= COARSEST_NODES || out.len() >= 12 {
            break;
        }
        let coarse = coarse_nodes(nodes);
        if coarse.len() >= n {
            break;
        }
        out.push(coarse);
    }
    out.into_iter()
        .map(|l| NodeSet {
            size: l.size,
            ids: l.ids.into_owned(),
            map: l.map.into_owned(),
        })
        .collect()
}

/// The Cholesky factor of a coarsest operator, shifted as the CPU
/// hierarchy shifts its own (see the module doc).
pub fn factor_coarsest(
    a: nalgebra::DMatrix<f64>,
) -> Result<nalgebra::Cholesky<f64, nalgebra::Dyn>, MultigridError> {
    factor_shifted(a)
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
    /// 3(dy+1) + 9(dz+1); a copy, the host stores them by columns,
    /// [`Block32`]) and the neighbour of each (`u32::MAX`: none or a zero
    /// block). `None` for the finest (matrix-free) level.
    pub stencil: Option<(Vec<[f32; 9]>, &'l [u32])>,
    /// Smoothed levels: the inverse 3×3 diagonal blocks and λ_max of D⁻¹A.
    /// `None` for the coarsest level.
    pub smoother: Option<(&'l [[f32; 9]], f64)>,
}

/// The multigrid preconditioner of one problem, over the finest level's
/// rows `R`: the stencil table's (matrix-free, the linear solver's) or
/// any other [`BlockRows`] ([`Multigrid::with_rows`]).
pub struct Multigrid<'a, R = StencilRows<'a>> {
    fine: Fine<'a, R>,
    levels: Vec<Level>,
    smoothers: Vec<Smoother>,
    coarse: Option<nalgebra::Cholesky<f64, nalgebra::Dyn>>,
    /// P and Pᵀ between level l and l + 1, for each smoothed level l.
    transfers: Vec<Transfer>,
    /// The V-cycle's vectors of every smoothed level, made once: a cycle
    /// that allocated them had the kernel fault in (and, on freeing, shoot
    /// down) their pages on every call, 14 % of a solve's CPU time.
    work: Vec<Mutex<Work>>,
    /// The batched V-cycle's vectors ([`Multigrid::apply_many`]), made on
    /// its first call, for [`MAX_BATCH`] columns.
    batch: Mutex<Option<batch::BatchWork>>,
    /// The coarse levels' Chebyshev degree ([`Multigrid::with_coarse_degree`]).
    coarse_degree: usize,
}

/// One level's vectors of a V-cycle: the residual (the smoother's, and
/// the cycle's between the smoothings), the smoother's step d and A·d, and
/// the coarse right-hand side and correction.
struct Work {
    r: Vec<f64>,
    ad: Vec<f64>,
    d: Vec<f64>,
    rc: Vec<f64>,
    xc: Vec<f64>,
}

impl Work {
    /// `n` values on the level, `nc` on the one below.
    fn new(n: usize, nc: usize) -> Work {
        Work {
            r: vec![0.0; n],
            ad: vec![0.0; n],
            d: vec![0.0; n],
            rc: vec![0.0; nc],
            xc: vec![0.0; nc],
        }
    }

    /// Bytes held.
    fn bytes(&self) -> usize {
        8 * (self.r.len() + self.ad.len() + self.d.len() + self.rc.len() + self.xc.len())
    }
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
        if mesh.periodic {
            return Self::periodic(mesh, table, fixed);
        }
        let nodes = Nodes {
            size: mesh.dims.map(|d| d + 1),
            ids: Cow::Borrowed(&mesh.nodes),
            map: Cow::Borrowed(&mesh.node_map),
            periodic: false,
        };
        Self::build(StencilRows::new(mesh, table), fixed, nodes)
    }

    /// The hierarchy of a periodic mesh ([`ActiveMesh::periodic`]): every
    /// level's node grid wraps, a grid of n nodes per axis coarsens to
    /// ⌈n/2⌉, and coarsening stops before a level would have fewer than 3
    /// nodes along an axis (so a stencil offset names one neighbour).
    pub fn periodic(
        mesh: &'a ActiveMesh,
        table: &'a StencilTable,
        fixed: &'a [u8],
    ) -> Result<Multigrid<'a>, MultigridError> {
        assert!(mesh.periodic, "Multigrid::periodic needs a periodic mesh");
        // The finest level's nodes on the unpadded n-grid.
        let size = mesh.dims;
        let ids: Vec<u32> = (0..mesh.len())
            .map(|a| {
                let c = mesh.coords(a);
                (c[0] + size[0] * (c[1] + size[1] * c[2])) as u32
            })
            .collect();
        let mut map = vec![u32::MAX; size.iter().product()];
        for (a, &id) in ids.iter().enumerate() {
            map[id as usize] = a as u32;
        }
        let nodes = Nodes {
            size,
            ids: Cow::Owned(ids),
            map: Cow::Owned(map),
            periodic: true,
        };
        Self::build(StencilRows::new(mesh, table), fixed, nodes)
    }
}

impl<'a, R: BlockRows> Multigrid<'a, R> {
    /// Builds the hierarchy of a box mesh (not periodic) whose finest
    /// operator is `rows` (over the nodes of `mesh`), constrained by
    /// `fixed`: the same levels, smoothers and coarsest solve as
    /// [`Multigrid::new`] builds on the stencil table's rows.
    pub fn with_rows(
        mesh: &'a ActiveMesh,
        rows: R,
        fixed: &'a [u8],
    ) -> Result<Multigrid<'a, R>, MultigridError> {
        assert!(!mesh.periodic, "Multigrid::with_rows takes a box mesh");
        assert_eq!(rows.nodes(), mesh.len(), "one row per active node");
        let nodes = Nodes {
            size: mesh.dims.map(|d| d + 1),
            ids: Cow::Borrowed(&mesh.nodes),
            map: Cow::Borrowed(&mesh.node_map),
            periodic: false,
        };
        Self::build(rows, fixed, nodes)
    }

    fn build(
        rows: R,
        fixed: &'a [u8],
        nodes: Nodes<'a>,
    ) -> Result<Multigrid<'a, R>, MultigridError> {
        let fine = Fine {
            op: Constrained::new(rows, fixed),
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
            if rows.nodes().periodic && rows.nodes().size.iter().any(|&s| s < 6) {
                break;
            }
            let coarse = coarse_nodes(rows.nodes());
            if coarse.len() >= n {
                break;
            }
            let level = galerkin(&rows, coarse);
            levels.push(level);
        }
        if let Some(last) = levels.last() {
            let (n, size) = (last.nodes.len(), last.nodes.size);
            if last.nodes.periodic && n > MAX_COARSEST_NODES {
                return Err(MultigridError::CoarsestTooLarge {
                    nodes: n,
                    size,
                    max: MAX_COARSEST_NODES,
                });
            }
        } else if fine.nodes.periodic && fine.nodes.len() > MAX_COARSEST_NODES {
            return Err(MultigridError::CoarsestTooLarge {
                nodes: fine.nodes.len(),
                size: fine.nodes.size,
                max: MAX_COARSEST_NODES,
            });
        }
        let mut mg = Multigrid {
            fine,
            levels,
            smoothers: Vec::new(),
            coarse: None,
            transfers: Vec::new(),
            work: Vec::new(),
            batch: Mutex::new(None),
            coarse_degree: CHEBYSHEV_DEGREE,
        };
        // Smoothers for every level but the coarsest.
        let depth = mg.levels.len();
        for l in 0..depth {
            let rows = mg.rows(l);
            let inv_diag = stored(rows.inverse_diagonal(l)?);
            let lambda = lambda_max(&|x, y| mg.apply_level(l, x, y, 1), &inv_diag);
            mg.smoothers.push(Smoother {
                inv_diag,
                lambda_max: lambda,
            });
        }
        mg.coarse = Some(mg.factor_coarsest()?);
        mg.transfers = (0..depth)
            .map(|l| Transfer::new(mg.nodes(l), mg.nodes(l + 1)))
            .collect();
        mg.work = (0..depth)
            .map(|l| Mutex::new(Work::new(3 * mg.nodes(l).len(), 3 * mg.nodes(l + 1).len())))
            .collect();
        Ok(mg)
    }

    /// The same hierarchy smoothing its coarse levels (all but the finest)
    /// with the Chebyshev polynomial of `degree` (1 ..= [`CHEBYSHEV_DEGREE`])
    /// in place of [`smoothing_degree`]'s: a cheaper V-cycle, for a solve
    /// whose iterations its coarse smoothing buys little (the plastic
    /// Newton steps, [`crate::plastic::solve`]).
    pub fn with_coarse_degree(mut self, degree: usize) -> Self {
        assert!(
            (1..=CHEBYSHEV_DEGREE).contains(&degree),
            "a coarse Chebyshev degree of 1 to {CHEBYSHEV_DEGREE}, not {degree}"
        );
        self.coarse_degree = degree;
        self
    }

    /// The Chebyshev degree of the levels below the finest.
    pub fn coarse_degree(&self) -> usize {
        self.coarse_degree
    }

    fn rows(&self, l: usize) -> Rows<'_, 'a, R> {
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

    /// y = A_l x on `k` columns stored node by node (value c of column j
    /// at node a is x\[3(k·a + j) + c\]); the finest level takes one.
    fn apply_level(&self, l: usize, x: &[f64], y: &mut [f64], k: usize) {
        if l == 0 {
            assert_eq!(k, 1, "the finest level takes one column");
            self.fine.op.apply(x, y);
        } else {
            self.levels[l - 1].matrix.apply_many(x, y, k);
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

    /// Whether the node grids wrap ([`Multigrid::periodic`]).
    pub fn is_periodic(&self) -> bool {
        self.fine.nodes.periodic
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
                let s = &self.levels[l - 1].matrix;
                (
                    s.blocks.iter().map(levels::transposed).collect(),
                    &s.neighbours[..],
                )
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
        let mut bytes: usize = self
            .levels
            .iter()
            .map(|l| l.matrix.bytes() + l.nodes.map.len() * 4 + l.nodes.ids.len() * 4)
            .sum();
        bytes += self
            .work
            .iter()
            .map(|w| w.lock().unwrap_or_else(|e| e.into_inner()).bytes())
            .sum::<usize>();
        bytes += self
            .smoothers
            .iter()
            .map(|s| s.inv_diag.len() * std::mem::size_of::<smoother::InvBlock>())
            .sum::<usize>();
        bytes += self.transfers.iter().map(Transfer::bytes).sum::<usize>();
        let batch = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        bytes += batch.as_ref().map_or(0, batch::BatchWork::bytes);
        let nc = 3 * nodes.last().copied().unwrap_or(0);
        bytes += nc * nc * 8;
        HierarchyInfo { nodes, bytes }
    }

    /// Chebyshev smoothing of A_l x = b (`k` columns) from the current x;
    /// `from_zero`: x is zero, so its residual is b (no apply: A·0 = 0).
    fn smooth(&self, l: usize, x: &mut [f64], b: &[f64], from_zero: bool, w: &mut Work, k: usize) {
        let s = &self.smoothers[l];
        let steps = &chebyshev_steps(s.lambda_max)[..level_degree(l, self.coarse_degree)];
        let n = x.len();
        let (r, ad, d) = (&mut w.r[..n], &mut w.ad[..n], &mut w.d[..n]);
        if from_zero {
            r.copy_from_slice(b);
        } else {
            self.apply_level(l, x, r, k);
            r.par_iter_mut().zip(b).for_each(|(r, b)| *r = b - *r);
        }
        chebyshev_direction(&s.inv_diag, r, d, None, steps[0].1, k);
        x.par_iter_mut().zip(&*d).for_each(|(x, d)| *x += d);
        for &(c1, c2) in &steps[1..] {
            self.apply_level(l, d, ad, k);
            r.par_iter_mut().zip(&*ad).for_each(|(r, a)| *r -= a);
            chebyshev_direction(&s.inv_diag, r, d, Some(c1), c2, k);
            x.par_iter_mut().zip(&*d).for_each(|(x, d)| *x += d);
        }
    }

    /// r_c = Pᵀ r, into `out`: r holds `k` columns node by node; `out`
    /// holds `kc` (≥ k) and gets them as its columns `first`, `first` + 1,
    /// …. Each column sums as one column alone does.
    fn restrict(&self, l: usize, r: &[f64], k: usize, out: &mut [f64], kc: usize, first: usize) {
        for_columns!(k, restrict_columns(&self.transfers[l], r, out, kc, first))
    }

    /// x += P x_c: x holds `k` columns node by node, x_c holds `kc` (≥ k)
    /// of which x takes columns `first`, `first` + 1, ….
    fn prolong_add(&self, l: usize, xc: &[f64], kc: usize, first: usize, x: &mut [f64], k: usize) {
        for_columns!(k, prolong_columns(&self.transfers[l], xc, kc, first, x))
    }

    /// x = A⁻¹ b on the coarsest level, column by column.
    fn solve_coarsest(&self, b: &[f64], x: &mut [f64], k: usize) {
        let c = self.coarse.as_ref().expect("factored");
        let n = b.len() / k;
        for j in 0..k {
            let column = (0..n).map(|i| b[k * 3 * (i / 3) + 3 * j + i % 3]);
            let v = c.solve(&nalgebra::DVector::from_iterator(n, column));
            for (i, v) in v.iter().enumerate() {
                x[k * 3 * (i / 3) + 3 * j + i % 3] = *v;
            }
        }
    }

    /// x = one V-cycle from zero on A_l x = b.
    fn cycle(&self, l: usize, b: &[f64], x: &mut [f64]) {
        if l == self.levels.len() {
            return self.solve_coarsest(b, x, 1);
        }
        // Uncontended: a cycle holds each level's vectors once, finest
        // first; concurrent cycles on one hierarchy wait for each other.
        let mut guard = self.work[l].lock().unwrap_or_else(|e| e.into_inner());
        self.level_step(l, b, x, &mut guard, 1, |rc, xc| self.cycle(l + 1, rc, xc));
    }

    /// One level of a V-cycle on `k` columns from x = 0: pre-smoothing,
    /// the residual restricted, `coarse` for the correction, the
    /// correction prolonged and post-smoothing.
    fn level_step(
        &self,
        l: usize,
        b: &[f64],
        x: &mut [f64],
        w: &mut Work,
        k: usize,
        coarse: impl FnOnce(&[f64], &mut [f64]),
    ) {
        let (n, nc) = (x.len(), 3 * k * self.nodes(l + 1).len());
        x.fill(0.0);
        self.smooth(l, x, b, true, w, k);
        self.apply_level(l, x, &mut w.r[..n], k);
        w.r[..n]
            .par_iter_mut()
            .zip(b)
            .for_each(|(r, b)| *r = b - *r);
        self.restrict(l, &w.r[..n], k, &mut w.rc[..nc], k, 0);
        coarse(&w.rc[..nc], &mut w.xc[..nc]);
        self.prolong_add(l, &w.xc[..nc], k, 0, x, k);
        self.smooth(l, x, b, false, w, k);
    }
}

/// [`Multigrid::restrict`] on `K` columns.
fn restrict_columns<const K: usize>(
    t: &Transfer,
    r: &[f64],
    out: &mut [f64],
    kc: usize,
    first: usize,
) {
    out.par_chunks_mut(3 * kc).enumerate().for_each(|(ca, o)| {
        let mut acc = [[0.0f64; 3]; K];
        for (i, w) in t.support(ca) {
            for (j, acc) in acc.iter_mut().enumerate() {
                for c in 0..3 {
                    acc[c] += w * r[3 * (K * i + j) + c];
                }
            }
        }
        for (o, acc) in o[3 * first..3 * (first + K)].chunks_exact_mut(3).zip(acc) {
            o.copy_from_slice(&acc);
        }
    });
}

/// [`Multigrid::prolong_add`] on `K` columns.
fn prolong_columns<const K: usize>(
    t: &Transfer,
    xc: &[f64],
    kc: usize,
    first: usize,
    x: &mut [f64],
) {
    x.par_chunks_mut(3 * K).enumerate().for_each(|(i, xi)| {
        for (p, w) in t.parents(i) {
            for (j, xi) in xi.chunks_exact_mut(3).enumerate() {
                for c in 0..3 {
                    xi[c] += w * xc[3 * (kc * p + first + j) + c];
                }
            }
        }
    });
}

impl<R: BlockRows> Preconditioner for Multigrid<'_, R> {
    /// z = M⁻¹ r: one V-cycle from zero.
    fn apply(&self, r: &[f64], z: &mut [f64]) {
        self.cycle(0, r, z);
    }

    /// The columns' V-cycles together ([`Multigrid::apply_many`]), then
    /// r_j·z_j as [`Preconditioner::apply_dot`] sums it.
    fn apply_dot_many(&self, rs: &[&[f64]], zs: &mut [&mut [f64]]) -> Vec<f64> {
        self.apply_many(rs, zs);
        rs.iter()
            .zip(zs.iter())
            .map(|(r, z)| crate::fem::vector::dot(r, z))
            .collect()
    }
}
