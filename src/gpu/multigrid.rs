//! The multigrid V-cycle on the device: z = M⁻¹ r for the GPU PCG.
//!
//! The hierarchy (node sets, Galerkin PᵀAP stencils, block-Jacobi
//! inverses, λ_max, the coarsest inverse) is built on the device
//! ([`GpuMultigrid::on_device`], [`super::galerkin`]: what `solve_gpu`
//! uses), or built on the host ([`crate::fem::multigrid`]) and uploaded in
//! f32 ([`GpuMultigrid::new`]: the reference the device build is tested
//! against). Buffers and bind groups: `mg_buffers.rs`; the kernel table:
//! `mg_kernels.rs`. The cycle itself is a fixed list of dispatches
//! ([`MgOp`]), recorded into the same compute pass as the CG
//! kernels, so a preconditioned iteration needs no round trip to the host:
//!
//! - `apply_k` (the fine level, matrix-free, with the constraints) or
//!   `mg_apply` (a stored level: 27 blocks per node);
//! - `chebyshev` and `residual` (`mg_smooth.wgsl`): Chebyshev steps on
//!   block-Jacobi D⁻¹A with the schedule of
//!   [`crate::fem::multigrid::chebyshev_steps`] to the degree of
//!   [`crate::fem::multigrid::level_degree`], the CPU's (1 on the
//!   finest level, the hierarchy's coarse degree, 3 unless set, on the
//!   others);
//! - `restrict_residual` and `prolong_add` (`mg_transfer.wgsl`): Pᵀ and P,
//!   trilinear, as gathers (no atomics);
//! - `coarse_solve` (`mg_coarse.wgsl`): a dense matrix–vector product with
//!   the inverse of the coarsest operator.
//!
//! Each op is dispatched once per chunk of the level its threads run over
//! ([`super::plan::levels`]: bindings that fit
//! `max_storage_buffer_binding_size`; one chunk when the level fits).
//! Every kernel has a CPU mirror in [`super::mirror`]. The cycle is the
//! CPU's cycle in f32: smoothing from zero, residual, restriction, the
//! coarser cycle, prolongation, smoothing again.
//!
//! Memory on the device: per level 5 vectors of 3 f32 per node (the finest
//! shares b and x with the CG's r and z, so 3), 36 B of inverse diagonal
//! block per node, and for stored levels 972 B of stencil blocks (27
//! row-major 3×3 f32 blocks) and 108 B of neighbours per node, plus the
//! node ids and node maps.

use super::abi::MgParams;
use super::context::{read_buffer, GpuContext};
use super::error::GpuError;
use super::mg_buffers::{
    encode_op, per_chunk, Alloc, FineBuffers, Hierarchy, LevelBuffers, Pipelines,
};
use super::mg_kernels::{MgKernel, MgOp, MgVec};
use super::plan::hierarchy::plan_hierarchy;
use super::plan::levels::LevelShape;
use crate::fem::multigrid::{chebyshev_steps, level_degree, Multigrid};
use bytemuck::Zeroable;

/// The device hierarchy and the recorded V-cycle.
pub struct GpuMultigrid {
    levels: Vec<LevelBuffers>,
    inverse: wgpu::Buffer,
    /// The dispatches of one V-cycle, in order, one per chunk.
    pub ops: Vec<MgOp>,
    encoded: Vec<(wgpu::ComputePipeline, wgpu::BindGroup, u32)>,
    /// Active nodes per level, finest first.
    pub nodes: Vec<usize>,
    /// Chunks per level (each over bindings that fit
    /// `max_storage_buffer_binding_size`; 1: bound whole), finest first,
    /// and the row chunks of the coarsest inverse.
    pub chunks: Vec<usize>,
    pub inverse_chunks: usize,
    /// Device bytes of the hierarchy (everything but the CG's own buffers).
    pub bytes: u64,
    /// λ_max of D⁻¹A per smoothed level (0 for the coarsest).
    pub lambdas: Vec<f64>,
}

/// A stored level's stencil as read back: 27 row-major 3×3 blocks per
/// node (f32) and the neighbour of each.
pub type StencilData = (Vec<f32>, Vec<u32>);

fn f32s(v: impl IntoIterator<Item = f64>) -> Vec<f32> {
    v.into_iter().map(|x| x as f32).collect()
}

/// The V-cycle of a hierarchy (nodes, node grid sizes and λ_max per level)
/// as dispatches: the CPU's cycle ([`Multigrid::apply`]) step by step.
fn plan_ops(
    nodes: &[usize],
    sizes: &[[usize; 3]],
    lambdas: &[f64],
    coarse_degree: usize,
    periodic: bool,
) -> Vec<MgOp> {
    let depth = nodes.len();
    let op = |kernel, level: usize, params: MgParams, input| MgOp {
        kernel,
        level,
        params,
        input,
        chunk: 0,
    };
    let base = |n: usize| MgParams {
        n: n as u32,
        ..MgParams::zeroed()
    };
    let apply = |l: usize| {
        op(
            if l == 0 {
                MgKernel::FineApply
            } else {
                MgKernel::Apply
            },
            l,
            base(nodes[l]),
            MgVec::X,
        )
    };
    // Chebyshev on level l; `first_mode` 0 (from zero) or 1 (from x).
    let smooth = |l: usize, first_mode: u32, ops: &mut Vec<MgOp>| {
        let cheb = |mode: u32, (c1, c2): (f64, f64)| {
            let params = MgParams {
                mode,
                c1: c1 as f32,
                c2: c2 as f32,
                ..base(nodes[l])
            };
            op(MgKernel::Chebyshev, l, params, MgVec::X)
        };
        let steps = &chebyshev_steps(lambdas[l])[..level_degree(l, coarse_degree)];
        if first_mode == 1 {
            ops.push(apply(l));
        }
        ops.push(cheb(first_mode, steps[0]));
        for &s in &steps[1..] {
            ops.push(MgOp {
                input: MgVec::D,
                ..apply(l)
            });
            ops.push(cheb(2, s));
        }
    };
    // A transfer between level l and l + 1 over `n` threads.
    let transfer = |kernel, l: usize, n: usize| {
        let params = MgParams {
            fsx: sizes[l][0] as u32,
            fsy: sizes[l][1] as u32,
            fsz: sizes[l][2] as u32,
            csx: sizes[l + 1][0] as u32,
            csy: sizes[l + 1][1] as u32,
            csz: sizes[l + 1][2] as u32,
            periodic: periodic as u32,
            ..base(n)
        };
        op(kernel, l, params, MgVec::X)
    };
    let mut ops = Vec::new();
    // Down: pre-smoothing from zero, residual, restriction.
    for l in 0..depth - 1 {
        smooth(l, 0, &mut ops);
        ops.push(apply(l));
        ops.push(op(MgKernel::Residual, l, base(nodes[l]), MgVec::X));
        ops.push(transfer(MgKernel::Restrict, l, nodes[l + 1]));
    }
    let coarsest = depth - 1;
    let rows = base(3 * nodes[coarsest]);
    ops.push(op(MgKernel::CoarseSolve, coarsest, rows, MgVec::X));
    // Up: prolongation, post-smoothing.
    for l in (0..depth - 1).rev() {
        ops.push(transfer(MgKernel::Prolong, l, nodes[l]));
        smooth(l, 1, &mut ops);
    }
    ops
}

impl GpuMultigrid {
    /// Uploads the hierarchy `mg` (built on the host) and records its
    /// V-cycle against the fine level's buffers.
    pub fn new(
        ctx: &GpuContext,
        mg: &Multigrid,
        fine: &FineBuffers,
    ) -> Result<GpuMultigrid, GpuError> {
        let depth = mg.depth();
        let views: Vec<_> = (0..depth).map(|l| mg.level(l)).collect();
        let nodes: Vec<usize> = views.iter().map(|v| v.ids.len()).collect();
        let lambdas: Vec<f64> = views
            .iter()
            .map(|v| v.smoother.map_or(0.0, |s| s.1))
            .collect();
        let shapes: Vec<LevelShape> = views
            .iter()
            .map(|v| LevelShape {
                ids: v.ids,
                size: v.size,
                map_len: v.map.len(),
            })
            .collect();
        let fill = fine.chunks[0].params.fill == 1;
        let plan = plan_hierarchy(ctx, &shapes, fine.chunks, fill, mg.is_periodic())?;
        let bytes = plan.bytes;
        let scope = ctx.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let alloc = Alloc {
            device: &ctx.device,
        };
        let mut levels = Vec::with_capacity(depth);
        for (l, v) in views.iter().enumerate() {
            let n = nodes[l];
            // A periodic fine level's transfers use its unpadded node grid
            // (the mesh's own ids are on the padded one).
            let (ids, map) = if l == 0 && !mg.is_periodic() {
                (fine.nodes.clone(), fine.node_map.clone())
            } else {
                (
                    alloc.init("multigrid node ids", bytemuck::cast_slice(v.ids)),
                    alloc.init("multigrid node map", bytemuck::cast_slice(v.map)),
                )
            };
            let inv_diag = v.smoother.map(|(inv, _)| {
                alloc.init(
                    "multigrid inverse diagonal blocks",
                    bytemuck::cast_slice(inv),
                )
            });
            let stencil = v.stencil.as_ref().map(|(blocks, nbrs)| {
                (
                    alloc.init(
                        "multigrid stencil blocks",
                        bytemuck::cast_slice(blocks.as_slice()),
                    ),
                    alloc.init("multigrid stencil neighbours", bytemuck::cast_slice(nbrs)),
                )
            });
            levels.push(LevelBuffers {
                n,
                vecs: alloc.vectors(l, n, fine),
                ids,
                map,
                inv_diag,
                stencil,
            });
        }
        let inverse = alloc.init(
            "coarsest inverse",
            bytemuck::cast_slice(&f32s(mg.coarsest_inverse())),
        );
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(GpuError::OutOfMemory {
                bytes,
                message: e.to_string(),
            });
        }
        let hierarchy = Hierarchy {
            levels,
            sizes: views.iter().map(|v| v.size).collect(),
            inverse,
            bytes,
            periodic: mg.is_periodic(),
            chunks: plan.chunks,
            rows: plan.rows,
            coarse_degree: mg.coarse_degree(),
        };
        let pipelines = Pipelines::new(ctx)?;
        let mg = Self::record(ctx, hierarchy, &pipelines, &lambdas, fine);
        ctx.check()?;
        Ok(mg)
    }

    /// Records the V-cycle of `h` with the smoothers' `lambdas` (λ_max per
    /// level) against the fine level's buffers.
    pub(super) fn record(
        ctx: &GpuContext,
        h: Hierarchy,
        pipelines: &Pipelines,
        lambdas: &[f64],
        fine: &FineBuffers,
    ) -> GpuMultigrid {
        let nodes: Vec<usize> = h.levels.iter().map(|l| l.n).collect();
        let ops: Vec<MgOp> = plan_ops(&nodes, &h.sizes, lambdas, h.coarse_degree, h.periodic)
            .iter()
            .flat_map(|op| per_chunk(op, &h))
            .collect();
        let encoded = ops
            .iter()
            .map(|op| encode_op(ctx, &h, pipelines, fine, op, None))
            .collect();
        GpuMultigrid {
            chunks: h.chunks.iter().map(|c| c.len()).collect(),
            inverse_chunks: h.rows.len(),
            levels: h.levels,
            inverse: h.inverse,
            ops,
            encoded,
            nodes,
            bytes: h.bytes,
            lambdas: lambdas.to_vec(),
        }
    }
    /// Records dispatches `range` of the V-cycle into `pass`.
    pub fn encode(
        &self,
        ctx: &GpuContext,
        pass: &mut wgpu::ComputePass,
        range: std::ops::Range<usize>,
    ) {
        for (pipeline, group, groups) in &self.encoded[range] {
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, group, &[]);
            let (gx, gy) = ctx.dispatch_size(*groups);
            pass.dispatch_workgroups(gx, gy, 1);
        }
    }

    /// Writes vector `v` of level `l`.
    pub fn write(&self, ctx: &GpuContext, l: usize, v: MgVec, data: &[f32]) {
        ctx.queue
            .write_buffer(self.levels[l].vec(v), 0, bytemuck::cast_slice(data));
    }

    /// Reads vector `v` of level `l` (3 values per node).
    pub fn read(&self, ctx: &GpuContext, l: usize, v: MgVec) -> Result<Vec<f32>, GpuError> {
        let mut out: Vec<f32> = read_buffer(ctx, self.levels[l].vec(v))?;
        out.truncate(3 * self.levels[l].n);
        Ok(out)
    }

    /// The stencil of stored level `l` as on the device: 27 row-major 3×3
    /// blocks per node (f32) and their neighbours; `None` for the finest.
    pub fn stencil(&self, ctx: &GpuContext, l: usize) -> Result<Option<StencilData>, GpuError> {
        let Some((blocks, nbrs)) = &self.levels[l].stencil else {
            return Ok(None);
        };
        Ok(Some((read_buffer(ctx, blocks)?, read_buffer(ctx, nbrs)?)))
    }

    /// The inverse diagonal blocks of smoothed level `l` (9 f32 a node).
    pub fn inverse_diagonal(&self, ctx: &GpuContext, l: usize) -> Result<Vec<f32>, GpuError> {
        let inv = self.levels[l].inv_diag.as_ref().expect("a smoothed level");
        read_buffer(ctx, inv)
    }

    /// The coarsest inverse as uploaded (row-major f32).
    pub fn coarsest_inverse(&self, ctx: &GpuContext) -> Result<Vec<f32>, GpuError> {
        read_buffer(ctx, &self.inverse)
    }
}
