//! The solid voxels of a mesh as 8-node bricks with 2×2×2 Gauss points:
//! the internal forces f(u) of the J2 material and the action of the
//! consistent tangent, element by element, matrix-free.
//!
//! Every solid voxel e carries the stiffness weight wₑ = φₑᵖ of the linear
//! solver ([`crate::grid::VoxelGrid::weight`]; 1 under binary fill). The
//! rule for a partial voxel is that it is a scaled copy of a full one: its
//! stress is wₑ times the J2 stress of the full material at the voxel's
//! strain, so its stiffness and its yield strength (and hardening) are
//! both scaled by wₑ, and its plastic state is the full material's.
//!
//! ```text
//! fₑ = wₑ Σ_g B̄ᵀ(ξg) σ(B̄(ξg) uₑ) det J,   Kₑᵀ x = wₑ Σ_g B̄ᵀ C_g B̄ x det J.
//! ```
//!
//! B̄ is the mean-dilatation strain matrix ([`Bricks::mean_dilatation`]):
//! B with its volumetric part replaced by the voxel's mean, so that
//! isochoric plastic flow does not lock the brick; a uniform strain is
//! still exact. With the plain B and no plastic strain the tangent is
//! wₑ·Kₑ, the linear solver's hex8 stiffness exactly.
//!
//! Each pass computes the 24 values of every voxel in parallel into a
//! buffer, then gathers them per node (the 8 voxels around it), so no two
//! tasks write the same entry and the sums do not depend on the thread
//! count. A brick's quantities are held by component, its 8 points side
//! by side, so that each step of a pass is one operation on 8 lanes;
//! the passes run in f64, and a Newton step's tangent apply in f32
//! ([`Assembly::apply_constrained_single`]). Memory: 24 f64 per solid
//! voxel for the forces' buffer and 24 f32 for the tangent apply's, 8
//! node indices, and the per-point state.

mod factors;

use factors::{Factors, Real};
use rayon::prelude::*;

use crate::fem::hex8::{corner, shape_gradients};
use crate::fem::mesh::{ActiveMesh, INACTIVE};
use crate::fem::multigrid::BlockMatrix;
use crate::grid::VoxelGrid;
use crate::plastic::material::{PackedTangent, State, J2};

/// Natural coordinates of Gauss point g: ±1/√3 with the corner offsets of
/// local node g.
pub fn gauss_point(g: usize) -> [f64; 3] {
    let gp = 1.0 / 3f64.sqrt();
    corner(g).map(|c| gp * (2.0 * c as f64 - 1.0))
}

/// The solid voxels of a mesh: their nodes (active indices), weights and
/// the shape-function gradients shared by all of them.
pub struct Bricks {
    /// Active index of local node a of voxel e: `nodes[e][a]`.
    pub nodes: Vec<[u32; 8]>,
    /// Stiffness weight wₑ = φₑᵖ.
    pub weight: Vec<f64>,
    /// Grid voxel id of each brick.
    pub voxel: Vec<u32>,
    /// Brick index of each grid voxel, or `INACTIVE`.
    pub brick_of: Vec<u32>,
    /// `grads[g][a]`: ∇N_a at Gauss point g (mm⁻¹).
    pub grads: [[[f64; 3]; 8]; 8],
    /// The same gradients as tensor-product factors.
    factors: Factors,
    /// det J of a voxel, mm³ (Gauss weights are 1).
    pub det_j: f64,
    /// Mean dilatation (B̄, Hughes 1980): every point takes the voxel's
    /// mean volumetric strain, and the forces its mean pressure.
    pub mean_dilatation: bool,
}

impl Bricks {
    /// The solid voxels of `grid`, numbered in voxel-id order, over the
    /// active nodes of `mesh` (built from the same grid), with the plain
    /// 2×2×2 B or, `mean_dilatation`, with B̄.
    pub fn new(grid: &VoxelGrid, mesh: &ActiveMesh, mean_dilatation: bool) -> Bricks {
        let [nx, ny, nz] = grid.dims;
        let mut nodes = Vec::new();
        let mut weight = Vec::new();
        let mut voxel = Vec::new();
        let mut brick_of = vec![INACTIVE; grid.voxel_count()];
        for k in 0..nz {
            for j in 0..ny {
                for i in 0..nx {
                    let v = grid.voxel_id(i, j, k);
                    if grid.solid[v] == 0 {
                        continue;
                    }
                    let ids: [u32; 8] = std::array::from_fn(|a| {
                        let c = corner(a);
                        let id = grid.node_id(i + c[0], j + c[1], k + c[2]);
                        mesh.node_map[id]
                    });
                    debug_assert!(ids.iter().all(|&n| n != INACTIVE));
                    brick_of[v] = nodes.len() as u32;
                    nodes.push(ids);
                    weight.push(grid.weight(v));
                    voxel.push(v as u32);
                }
            }
        }
        let h = grid.h;
        Bricks {
            nodes,
            weight,
            voxel,
            brick_of,
            grads: std::array::from_fn(|g| shape_gradients(gauss_point(g), h)),
            factors: Factors::new(h),
            det_j: (h / 2.0).powi(3),
            mean_dilatation,
        }
    }

    /// Number of solid voxels.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The element displacements of brick e by component: `[c][a]` is
    /// component c at local node a; with `fixed`, zero on the dofs it
    /// marks (bit c of a node's byte), as P x is.
    #[inline(always)]
    fn gather<T: Real>(&self, e: usize, u: &[f64], fixed: Option<&[u8]>) -> [[T; 8]; 3] {
        let mut out = [[T::default(); 8]; 3];
        for (a, &n) in self.nodes[e].iter().enumerate() {
            let n = n as usize;
            let v = &u[3 * n..3 * n + 3];
            out[0][a] = T::of(v[0]);
            out[1][a] = T::of(v[1]);
            out[2][a] = T::of(v[2]);
            if let Some(fixed) = fixed {
                let f = fixed[n];
                if f != 0 {
                    for (c, o) in out.iter_mut().enumerate() {
                        if f & (1 << c) != 0 {
                            o[a] = T::default();
                        }
                    }
                }
            }
        }
        out
    }

    /// The strains of the 8 points (`[c][g]`: Voigt component c at point
    /// g), with B̄ the voxel's mean volumetric strain in each: ε̄_g = ε_g +
    /// (tr ε̄ − tr ε_g)/3 · m. The gradients are sum-factorized
    /// (`elements/factors.rs`): 9 gradients of three passes each over the
    /// 8 nodal values, where B at each point takes 8 nodes × 18 flops.
    /// Each quantity is held as its 8 points' values side by side, so that
    /// every step is one operation on 8 lanes.
    #[inline(always)]
    pub fn strains<T: Real>(&self, ue: &[[T; 8]; 3]) -> [[T; 8]; 6] {
        // grad[c][d][g] = ∂u_c/∂x_d at point g.
        let grad: [[[T; 8]; 3]; 3] = std::array::from_fn(|c| self.factors.gradient(&ue[c]));
        let zero = [T::default(); 8];
        let mut e = [grad[0][0], grad[1][1], grad[2][2], zero, zero, zero];
        for g in 0..8 {
            e[3][g] = grad[0][1][g] + grad[1][0][g];
            e[4][g] = grad[1][2][g] + grad[2][1][g];
            e[5][g] = grad[0][2][g] + grad[2][0][g];
        }
        if self.mean_dilatation {
            shift_to_mean_trace(&mut e);
        }
        e
    }

    /// fₑ += scale·Σ_g B̄ᵀ(ξg) σ_g (`s[c][g]`): with B̄, Σ_g Bᵀ(σ_g − p_g m +
    /// p̄ m), p the pressure tr σ/3 and p̄ its mean over the points. Bᵀ is
    /// the transpose of [`Bricks::strains`]' factorized passes.
    #[inline(always)]
    fn add_all_bt<T: Real>(&self, s: &mut [[T; 8]; 6], scale: T, fe: &mut [T; 24]) {
        if self.mean_dilatation {
            shift_to_mean_trace(s);
        }
        // σ_cd in Voigt order: row c of the symmetric stress.
        const ENTRY: [[usize; 3]; 3] = [[0, 3, 5], [3, 1, 4], [5, 4, 2]];
        for (c, entry) in ENTRY.iter().enumerate() {
            let f = self.factors.divergence(&entry.map(|k| s[k]));
            for (a, fa) in f.iter().enumerate() {
                fe[3 * a + c] += scale * *fa;
            }
        }
    }

    /// y_n = Σ over the solid voxels around node n of their entries for
    /// n's local corner; with `identity` (the fixed dofs and x), y = x on
    /// the fixed dofs instead, as (I − P) x is.
    fn gather_nodes<T: Real>(
        &self,
        mesh: &ActiveMesh,
        grid: &VoxelGrid,
        buffer: &[[T; 24]],
        identity: Option<(&[u8], &[f64])>,
        y: &mut [f64],
    ) {
        y.par_chunks_mut(3).enumerate().for_each(|(n, yn)| {
            let mut acc = [0.0; 3];
            self.around(mesh, grid, n, |e, a| {
                for q in 0..3 {
                    acc[q] += buffer[e][3 * a + q].wide();
                }
            });
            if let Some((fixed, x)) = identity {
                for (q, v) in acc.iter_mut().enumerate() {
                    if fixed[n] & (1 << q) != 0 {
                        *v = x[3 * n + q];
                    }
                }
            }
            yn.copy_from_slice(&acc);
        });
    }

    /// Calls `f(e, a)` for every solid voxel e around active node `n`, a
    /// the node's local corner in it, in pattern-bit order.
    #[inline(always)]
    pub(crate) fn around(
        &self,
        mesh: &ActiveMesh,
        grid: &VoxelGrid,
        n: usize,
        mut f: impl FnMut(usize, usize),
    ) {
        let [i, j, k] = mesh.coords(n);
        let p = mesh.pattern[n];
        for c in 0..8 {
            if p & (1 << c) == 0 {
                continue;
            }
            let o = corner(c);
            let v = grid.voxel_id(i + o[0] - 1, j + o[1] - 1, k + o[2] - 1);
            f(self.brick_of[v] as usize, 7 - c);
        }
    }
}

/// What the J2 update gives at every Gauss point of every brick for one
/// displacement: the internal forces and the tangent of each point.
pub struct Evaluated {
    /// f_int, 3 per active node.
    pub force: Vec<f64>,
    /// Number of Gauss points yielding in this step.
    pub plastic_points: usize,
}

/// The bricks with their material: f(u) and Kᵀ.
pub struct Assembly<'a> {
    pub grid: &'a VoxelGrid,
    pub mesh: &'a ActiveMesh,
    pub bricks: &'a Bricks,
    pub material: J2,
}

impl Assembly<'_> {
    /// Internal forces at `u` from the converged states `old` (8 per
    /// brick); writes each point's trial state and tangent into `trial`
    /// and `tangent`.
    pub fn internal_force(
        &self,
        u: &[f64],
        old: &[State],
        trial: &mut [State],
        tangent: &mut [PackedTangent],
        buffer: &mut Vec<[f64; 24]>,
    ) -> Evaluated {
        let b = self.bricks;
        buffer.resize(b.len(), [0.0; 24]);
        let plastic: usize = buffer
            .par_chunks_mut(BRICK_CHUNK)
            .zip(trial.par_chunks_mut(8 * BRICK_CHUNK))
            .zip(tangent.par_chunks_mut(8 * BRICK_CHUNK))
            .enumerate()
            .map(|(c, ((out, tr), tg))| {
                with_avx2(|| self.force_chunk(c * BRICK_CHUNK, u, old, out, tr, tg))
            })
            .sum();
        let mut force = vec![0.0; 3 * self.mesh.len()];
        b.gather_nodes(self.mesh, self.grid, buffer, None, &mut force);
        Evaluated {
            force,
            plastic_points: plastic,
        }
    }

    /// The forces of the bricks `first..first + out.len()` into `out`, their
    /// points' trial states and tangents into `trial` and `tangent`; the
    /// number of points yielding.
    #[inline(always)]
    fn force_chunk(
        &self,
        first: usize,
        u: &[f64],
        old: &[State],
        out: &mut [[f64; 24]],
        trial: &mut [State],
        tangent: &mut [PackedTangent],
    ) -> usize {
        let b = self.bricks;
        let mut count = 0;
        for (i, ((fe, tr), tg)) in out
            .iter_mut()
            .zip(trial.chunks_mut(8))
            .zip(tangent.chunks_mut(8))
            .enumerate()
        {
            let e = first + i;
            *fe = [0.0; 24];
            let eps = b.strains(&b.gather(e, u, None));
            let mut stress = [[0.0; 8]; 6];
            for g in 0..8 {
                let mut strain = [0.0; 6];
                for c in 0..6 {
                    strain[c] = eps[c][g];
                }
                let up = self.material.update(&strain, &old[8 * e + g]);
                tr[g] = up.state;
                tg[g] = up.tangent.into();
                count += up.plastic as usize;
                for (s, v) in stress.iter_mut().zip(up.stress) {
                    s[g] = v;
                }
            }
            b.add_all_bt(&mut stress, b.weight[e] * b.det_j, fe);
        }
        count
    }

    /// y = Kᵀ x, the tangent of the points' `tangent`s (8 per brick).
    pub fn apply_tangent(
        &self,
        tangent: &[PackedTangent],
        x: &[f64],
        y: &mut [f64],
        buffer: &mut Vec<[f64; 24]>,
    ) {
        self.apply_with(|p| wide(&tangent[p]), None, x, y, buffer)
    }

    /// y = K x with every point elastic (no per-point tangents stored).
    pub fn apply_elastic(&self, x: &[f64], y: &mut [f64], buffer: &mut Vec<[f64; 24]>) {
        let elastic = self.elastic_point();
        self.apply_with(|_| elastic, None, x, y, buffer)
    }

    /// y = A x, A = P Kᵀ P + (I − P) the tangent of the points' `tangent`s
    /// (`None`: every point elastic) constrained on the dofs `fixed` marks
    /// (bit c of a node's byte): the same values as masking x, applying
    /// and setting y = x there, in the passes of the apply itself.
    pub fn apply_constrained(
        &self,
        tangent: Option<&[PackedTangent]>,
        fixed: &[u8],
        x: &[f64],
        y: &mut [f64],
        buffer: &mut Vec<[f64; 24]>,
    ) {
        match tangent {
            Some(t) => self.apply_with(|p| wide(&t[p]), Some(fixed), x, y, buffer),
            None => {
                let elastic = self.elastic_point();
                self.apply_with(|_| elastic, Some(fixed), x, y, buffer)
            }
        }
    }

    /// [`Assembly::apply_constrained`] of the points' `tangent`s with the
    /// brick passes in f32 (x rounded to f32 as it is gathered, each node's
    /// sum over its bricks in f64): what every PCG iteration of a Newton
    /// step applies. The tangents are stored in f32 already, and a step is
    /// solved to η = 0.1 of its residual, where the f32 product's rounding
    /// (about 10⁻⁶ of the result) does not show; the device applies the
    /// same in f32 (`shaders/plastic_tangent.wgsl`). The elastic solve (to
    /// 10⁻⁹) and the forces stay f64.
    pub fn apply_constrained_single(
        &self,
        tangent: &[PackedTangent],
        fixed: &[u8],
        x: &[f64],
        y: &mut [f64],
        buffer: &mut Vec<[f32; 24]>,
    ) {
        self.apply_with(|p| tangent[p].parts(), Some(fixed), x, y, buffer)
    }

    /// The elastic point's tangent (a = 2G, b = 0, N = 0).
    fn elastic_point(&self) -> Point<f64> {
        let t = self.material.elastic_tangent();
        (t.a, t.b, t.n)
    }

    /// y = Kᵀ x in the arithmetic `T` with the tangent of point p
    /// `point(p)`, constrained by `fixed` ([`Assembly::apply_constrained`])
    /// if given.
    #[inline(always)]
    fn apply_with<T: Real>(
        &self,
        point: impl Fn(usize) -> Point<T> + Sync,
        fixed: Option<&[u8]>,
        x: &[f64],
        y: &mut [f64],
        buffer: &mut Vec<[T; 24]>,
    ) {
        let b = self.bricks;
        buffer.resize(b.len(), [T::default(); 24]);
        buffer
            .par_chunks_mut(BRICK_CHUNK)
            .enumerate()
            .for_each(|(c, out)| {
                with_avx2(|| self.tangent_chunk(&point, fixed, c * BRICK_CHUNK, x, out))
            });
        b.gather_nodes(self.mesh, self.grid, buffer, fixed.map(|f| (f, x)), y);
    }

    /// Kₑᵀ xₑ of the bricks `first..first + out.len()` into `out`.
    #[inline(always)]
    fn tangent_chunk<T: Real>(
        &self,
        point: &impl Fn(usize) -> Point<T>,
        fixed: Option<&[u8]>,
        first: usize,
        x: &[f64],
        out: &mut [[T; 24]],
    ) {
        for (i, fe) in out.iter_mut().enumerate() {
            let e = first + i;
            *fe = [T::default(); 24];
            let xe = self.bricks.gather(e, x, fixed);
            self.brick_tangent(point, e, &xe, fe);
        }
    }

    /// fₑ += Kₑᵀ xₑ of brick e: its points' tangents (`point(8e + g)`) on
    /// the strains of the element displacements `xe` (`[c][a]`), every
    /// quantity by component with its 8 points side by side. The
    /// arithmetic of [`crate::plastic::material::Tangent::apply`] at each
    /// point.
    #[inline(always)]
    fn brick_tangent<T: Real>(
        &self,
        point: &impl Fn(usize) -> Point<T>,
        e: usize,
        xe: &[[T; 8]; 3],
        fe: &mut [T; 24],
    ) {
        let b = self.bricks;
        let k = T::of(self.material.moduli().0);
        let (half, third) = (T::of(0.5), T::of(3.0));
        let de = b.strains(xe);
        let zero = [T::default(); 8];
        let (mut a, mut bb, mut n) = (zero, zero, [zero; 6]);
        for g in 0..8 {
            let (pa, pb, pn) = point(8 * e + g);
            a[g] = pa;
            bb[g] = pb;
            for i in 0..6 {
                n[i][g] = pn[i];
            }
        }
        let mut tr = zero;
        let mut nd = zero;
        for g in 0..8 {
            tr[g] = de[0][g] + de[1][g] + de[2][g];
            nd[g] = n[0][g] * de[0][g]
                + n[1][g] * de[1][g]
                + n[2][g] * de[2][g]
                + n[3][g] * de[3][g]
                + n[4][g] * de[4][g]
                + n[5][g] * de[5][g];
        }
        let mut ds = [zero; 6];
        for i in 0..3 {
            for g in 0..8 {
                ds[i][g] = k * tr[g] + a[g] * (de[i][g] - tr[g] / third) + bb[g] * n[i][g] * nd[g];
            }
        }
        for i in 3..6 {
            for g in 0..8 {
                ds[i][g] = half * a[g] * de[i][g] + bb[g] * n[i][g] * nd[g];
            }
        }
        b.add_all_bt(&mut ds, T::of(b.weight[e] * b.det_j), fe);
    }
}

/// A point's tangent (a, b, N) in the arithmetic of a brick pass.
type Point<T> = (T, T, [T; 6]);

/// A stored tangent in f64 ([`PackedTangent::unpack`]: its f32 values,
/// exactly).
#[inline(always)]
fn wide(t: &PackedTangent) -> Point<f64> {
    let t = t.unpack();
    (t.a, t.b, t.n)
}

/// Bricks a task of the tangent apply takes.
const BRICK_CHUNK: usize = 512;

/// `f()` compiled for AVX2 where the processor has it, inlined into a
/// function that enables it: the same operations in the same order (no
/// fused multiply-add), so the same bits, 4 f64 or 8 f32 lanes at a time.
#[inline(always)]
fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        unsafe fn run<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        // SAFETY: the processor has AVX2, checked just above.
        return unsafe { run(f) };
    }
    f()
}

/// Every point's trace (of components 0..3) replaced by the mean over the
/// 8 points: v += (mean − tr v)/3 on each normal component.
#[inline(always)]
fn shift_to_mean_trace<T: Real>(v: &mut [[T; 8]; 6]) {
    let tr: [T; 8] = std::array::from_fn(|g| v[0][g] + v[1][g] + v[2][g]);
    let mean = tr.iter().copied().sum::<T>() / T::of(8.0);
    for c in v.iter_mut().take(3) {
        for g in 0..8 {
            c[g] += (mean - tr[g]) / T::of(3.0);
        }
    }
}

impl Assembly<'_> {
    /// The tangent Kᵀ of the points' `tangent`s assembled into node rows
    /// (27 blocks of 3×3 per active node, unconstrained), what a multigrid
    /// hierarchy on the tangent is built from
    /// ([`crate::fem::multigrid::Multigrid::with_rows`]). Column (a, q) of
    /// a brick is its apply to the unit displacement of local node a's dof
    /// q, so the blocks are the apply's own; they are entered as rows,
    /// which is the same matrix because the consistent J2 tangent (and B̄
    /// over it) is symmetric. Each node sums the ≤ 8 bricks around it in a
    /// fixed order (reproducible for any thread count), in f64, and stores
    /// f32: 1 080 B per active node.
    pub fn tangent_rows(&self, tangent: &[PackedTangent]) -> BlockMatrix {
        let b = self.bricks;
        let n = self.mesh.len();
        let mut blocks = vec![[0.0f32; 9]; 27 * n];
        let mut neighbours = vec![u32::MAX; 27 * n];
        blocks
            .par_chunks_mut(27)
            .zip(neighbours.par_chunks_mut(27))
            .enumerate()
            .for_each(|(node, (out, nb))| {
                let mut acc = [[0.0f64; 9]; 27];
                b.around(self.mesh, self.grid, node, |e, a| {
                    let oa = corner(a);
                    for q in 0..3 {
                        let mut ue = [[0.0; 8]; 3];
                        ue[q][a] = 1.0;
                        let mut fe = [0.0; 24];
                        self.brick_tangent(&|p| wide(&tangent[p]), e, &ue, &mut fe);
                        for (m, &node_m) in b.nodes[e].iter().enumerate() {
                            let om = corner(m);
                            let d = (om[0] + 1 - oa[0])
                                + 3 * (om[1] + 1 - oa[1])
                                + 9 * (om[2] + 1 - oa[2]);
                            nb[d] = node_m;
                            // Row q, column r, stored by columns (Block32).
                            for r in 0..3 {
                                acc[d][3 * r + q] += fe[3 * m + r];
                            }
                        }
                    }
                });
                for (o, a) in out.iter_mut().zip(&acc) {
                    *o = a.map(|v| v as f32);
                }
            });
        BlockMatrix { blocks, neighbours }
    }
}

#[cfg(test)]
mod tests;
