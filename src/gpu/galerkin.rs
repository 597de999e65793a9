//! The multigrid hierarchy built on the device ([`GpuMultigrid::on_device`]):
//! the host only marks the coarse node sets (a linear pass over u32 node
//! ids, [`crate::fem::multigrid::coarse_node_sets`]), factors the coarsest
//! operator (at most [`COARSEST_NODES`] nodes: a dense matrix of at most
//! 1200² f64, 11.5 MB) and runs the power iterations' scalar products; no
//! f64 block of any level is held on the host.
//!
//! Kernels (their table in `mg_kernels.rs`, CPU mirrors in
//! `mirror/mg_galerkin_*.rs`):
//!
//! - `galerkin_fine` (`mg_galerkin_fine.wgsl`): the first coarse level,
//!   the exact Pᵀ A P of the constrained fine operator for trilinear P,
//!   summed over the fine voxels of the node's support (φ_e-weighted
//!   element blocks, [`weighted_element`] where a voxel has no fixed dof),
//!   with the fixed dofs' identity rows as [`crate::fem::constrained`] puts
//!   them;
//! - `galerkin_stencil` (`mg_galerkin_stencil.wgsl`): each deeper level
//!   from the 27-block stencils of the one above.
//!
//!   Both run one thread per (coarse node, stencil entry), entry-major, so
//!   a workgroup shares its loop bounds and weights and each thread sums
//!   one 3×3 block in registers;
//! - `fine_inverse_diagonal`, `stencil_inverse_diagonal`
//!   (`mg_galerkin_diag.wgsl`): the smoothers' inverse 3×3 diagonal
//!   blocks, with singular blocks reported as the host reports them
//!   ([`MultigridError::SingularBlock`]).
//!
//! λ_max of each smoother comes from the power iteration of the CPU
//! hierarchy ([`power_iteration`]: same start vector and steps), each step
//! w = D⁻¹A v run on the device with the V-cycle's own kernels and the
//! scalar products summed in f64 on the host.

use super::abi::{GalerkinParams, MgParams, NO_NODE, WG_NODES};
use super::context::{read_buffer, GpuContext};
use super::error::GpuError;
use super::kernels::pipeline;
use super::mg_buffers::{
    encode_op, per_chunk, Alloc, FineBuffers, Hierarchy, LevelBuffers, Pipelines,
};
use super::mg_kernels::{
    galerkin_layout, GalerkinKernel, MgKernel, MgOp, MgVec, GALERKIN_PIPELINES,
};
use super::multigrid::GpuMultigrid;
use super::plan::hierarchy::plan_hierarchy;
use super::plan::levels::{LevelChunk, LevelShape, Span};
use crate::fem::mesh::ActiveMesh;
use crate::fem::multigrid::CHEBYSHEV_DEGREE;
use crate::fem::multigrid::{
    coarse_node_sets, factor_coarsest, power_iteration, Multigrid, MultigridError, NodeSet,
    COARSEST_NODES,
};
use crate::fem::operator::StencilTable;
use crate::fem::SolveError;
use bytemuck::Zeroable;
use wgpu::util::DeviceExt;

/// The parameters of a kernel from level `fine` (node grid size) to
/// `coarse` over `n` threads.
pub fn galerkin_params(
    n: usize,
    fill: bool,
    fine: [usize; 3],
    coarse: [usize; 3],
) -> GalerkinParams {
    GalerkinParams {
        n: n as u32,
        fill: fill as u32,
        fsx: fine[0] as u32,
        fsy: fine[1] as u32,
        fsz: fine[2] as u32,
        csx: coarse[0] as u32,
        csy: coarse[1] as u32,
        csz: coarse[2] as u32,
        ..GalerkinParams::zeroed()
    }
}

/// The weighted element blocks `galerkin_fine` reads for a voxel without
/// fixed dofs: Σ_a w(r + a) K_e[a, b] for each voxel offset r from 2I (−2..1
/// per axis) and corner b, w the trilinear weight of the corner at offset
/// r + a; block 8((rx + 2) + 4(ry + 2) + 16(rz + 2)) + b, row-major f32
/// (summed in f64 from `element`, the table's 3×3 blocks 8a + b).
pub fn weighted_element(element: &[[f64; 9]]) -> Vec<f32> {
    let axis = |o: i64| match o {
        0 => 1.0,
        1 | -1 => 0.5,
        _ => 0.0,
    };
    let bit = |a: usize, k: usize| ((a >> k) & 1) as i64;
    let mut out = Vec::with_capacity(64 * 8 * 9);
    for slot in 0..64 {
        let r = [slot % 4, (slot / 4) % 4, slot / 16].map(|c| c as i64 - 2);
        for b in 0..8 {
            let mut t = [0.0f64; 9];
            for a in 0..8 {
                let w: f64 = (0..3).map(|k| axis(r[k] + bit(a, k))).product();
                for (t, e) in t.iter_mut().zip(&element[8 * a + b]) {
                    *t += w * e;
                }
            }
            out.extend(t.iter().map(|&v| v as f32));
        }
    }
    out
}

/// One dispatch of a hierarchy kernel: the kernel, its parameters and its
/// bindings 1.. (binding index, the range of a buffer bound).
type Dispatch<'b> = (
    GalerkinKernel,
    GalerkinParams,
    Vec<(u32, wgpu::BindingResource<'b>)>,
);

/// Runs the hierarchy kernels: `dispatches` in order, in one pass.
fn run_galerkin(ctx: &GpuContext, dispatches: &[Dispatch]) -> Result<(), GpuError> {
    let device = &ctx.device;
    let mut pipelines = Vec::new();
    for (kernel, file, entry, bindings) in GALERKIN_PIPELINES {
        if dispatches.iter().any(|d| d.0 == kernel) {
            pipelines.push((
                kernel,
                pipeline(ctx, file, entry, &galerkin_layout(bindings))?,
            ));
        }
    }
    let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("voxfe hierarchy"),
    });
    {
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("hierarchy"),
            timestamp_writes: None,
        });
        for (kernel, params, bindings) in dispatches {
            let pipeline = &pipelines.iter().find(|p| p.0 == *kernel).unwrap().1;
            let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("hierarchy params"),
                contents: bytemuck::bytes_of(params),
                usage: wgpu::BufferUsages::UNIFORM,
            });
            let entries: Vec<wgpu::BindGroupEntry> =
                std::iter::once((0, uniform.as_entire_binding()))
                    .chain(bindings.iter().cloned())
                    .map(|(binding, resource)| wgpu::BindGroupEntry { binding, resource })
                    .collect();
            let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("hierarchy"),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            });
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &group, &[]);
            // One thread per (coarse node, entry), or per node.
            let threads = match kernel {
                GalerkinKernel::Fine | GalerkinKernel::Stencil => 27 * params.n,
                _ => params.n,
            };
            let (gx, gy) = ctx.dispatch_size(threads.div_ceil(WG_NODES));
            pass.dispatch_workgroups(gx, gy, 1);
        }
    }
    ctx.queue.submit([enc.finish()]);
    ctx.check()
}

/// The dense coarsest operator of a stored level (f32 blocks and their
/// neighbours), factored as the CPU factors its own, and inverted:
/// row-major f32.
fn coarsest_inverse(blocks: &[f32], nbrs: &[u32], n: usize) -> Result<Vec<f32>, GpuError> {
    let mut a = nalgebra::DMatrix::<f64>::zeros(3 * n, 3 * n);
    for i in 0..n {
        for d in 0..27 {
            let j = nbrs[27 * i + d];
            if j == NO_NODE {
                continue;
            }
            let b = &blocks[(27 * i + d) * 9..(27 * i + d) * 9 + 9];
            for r in 0..3 {
                for s in 0..3 {
                    a[(3 * i + r, 3 * j as usize + s)] += b[3 * r + s] as f64;
                }
            }
        }
    }
    let inv = factor_coarsest(a).map_err(SolveError::from)?.inverse();
    let m = inv.nrows();
    Ok((0..m * m).map(|k| inv[(k / m, k % m)] as f32).collect())
}

impl GpuMultigrid {
    /// Builds the hierarchy of the constrained operator of `mesh` on the
    /// device (see the module doc) and records its V-cycle against the
    /// fine level's buffers. A mesh of at most [`COARSEST_NODES`] nodes
    /// (one level: a dense solve) is built on the host.
    pub fn on_device(
        ctx: &GpuContext,
        mesh: &ActiveMesh,
        table: &StencilTable,
        fixed: &[u8],
        fine: &FineBuffers,
    ) -> Result<GpuMultigrid, GpuError> {
        let fine_size = mesh.dims.map(|d| d + 1);
        let sets = coarse_node_sets(fine_size, &mesh.nodes);
        if sets.is_empty() || mesh.len() <= COARSEST_NODES {
            let mg = Multigrid::new(mesh, table, fixed).map_err(SolveError::from)?;
            return GpuMultigrid::new(ctx, &mg, fine);
        }
        let depth = sets.len() + 1;
        let mut nodes = vec![mesh.len()];
        nodes.extend(sets.iter().map(|s| s.ids.len()));
        let mut shapes = vec![LevelShape {
            ids: &mesh.nodes,
            size: fine_size,
            map_len: mesh.node_map.len(),
        }];
        shapes.extend(sets.iter().map(|s| LevelShape {
            ids: &s.ids,
            size: s.size,
            map_len: s.map.len(),
        }));
        let fill = mesh.has_fractions();
        let plan = plan_hierarchy(ctx, &shapes, fine.chunks, fill, false)?;
        let bytes = plan.bytes;
        let scope = ctx.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let alloc = Alloc {
            device: &ctx.device,
        };
        let mut levels = vec![LevelBuffers {
            n: nodes[0],
            vecs: alloc.vectors(0, nodes[0], fine),
            ids: fine.nodes.clone(),
            map: fine.node_map.clone(),
            inv_diag: Some(alloc.empty("multigrid inverse diagonal blocks", 36 * nodes[0] as u64)),
            stencil: None,
        }];
        for (k, set) in sets.iter().enumerate() {
            let (l, n) = (k + 1, set.ids.len());
            levels.push(LevelBuffers {
                n,
                vecs: alloc.vectors(l, n, fine),
                ids: alloc.init("multigrid node ids", bytemuck::cast_slice(&set.ids)),
                map: alloc.init("multigrid node map", bytemuck::cast_slice(&set.map)),
                inv_diag: (l + 1 < depth)
                    .then(|| alloc.empty("multigrid inverse diagonal blocks", 36 * n as u64)),
                stencil: Some((
                    alloc.empty("multigrid stencil blocks", 4 * 27 * 9 * n as u64),
                    alloc.empty("multigrid stencil neighbours", 4 * 27 * n as u64),
                )),
            });
        }
        let nc = 3 * nodes[depth - 1] as u64;
        let inverse = alloc.empty("coarsest inverse", 4 * nc * nc);
        let weighted = alloc.init(
            "weighted element blocks",
            bytemuck::cast_slice(&weighted_element(&table.element)),
        );
        let singular = alloc.init(
            "singular blocks",
            bytemuck::cast_slice(&vec![NO_NODE; depth - 1]),
        );
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(GpuError::OutOfMemory {
                bytes,
                message: e.to_string(),
            });
        }
        let mut sizes = vec![fine_size];
        sizes.extend(sets.iter().map(|s| s.size));
        let chunks = &plan.chunks;
        build_levels(
            ctx, &levels, chunks, &sizes, fill, fine, &weighted, &singular,
        )?;
        // Singular diagonal blocks, the lowest level first (as the host checks).
        let least: Vec<u32> = read_buffer(ctx, &singular)?;
        if let Some((l, &node)) = least.iter().enumerate().find(|(_, &a)| a != NO_NODE) {
            let ids: &[u32] = if l == 0 {
                &mesh.nodes
            } else {
                &sets[l - 1].ids
            };
            let e = MultigridError::SingularBlock {
                level: l,
                node: node as usize,
                grid_id: ids[node as usize],
            };
            return Err(SolveError::from(e).into());
        }
        let coarsest = &levels[depth - 1];
        let (blocks, nbrs) = coarsest.stencil.as_ref().expect("a stored level");
        let blocks: Vec<f32> = read_buffer(ctx, blocks)?;
        let nbrs: Vec<u32> = read_buffer(ctx, nbrs)?;
        let inv = coarsest_inverse(&blocks, &nbrs, coarsest.n)?;
        ctx.queue
            .write_buffer(&inverse, 0, bytemuck::cast_slice(&inv));
        let h = Hierarchy {
            levels,
            sizes,
            inverse,
            bytes,
            // Built from a box mesh only (`GpuPcg::with_device_multigrid`
            // takes a periodic mesh's hierarchy from the host).
            periodic: false,
            chunks: plan.chunks,
            rows: plan.rows,
            coarse_degree: CHEBYSHEV_DEGREE,
        };
        let pipelines = Pipelines::new(ctx)?;
        let lambdas = lambda_max(ctx, &h, &pipelines, fine)?;
        let mg = Self::record(ctx, h, &pipelines, &lambdas, fine);
        ctx.check()?;
        Ok(mg)
    }
}

/// Dispatches the stencils of every coarse level and the inverse diagonal
/// blocks of every smoothed level into `levels`, once per chunk of the
/// level written (`chunks`).
#[allow(clippy::too_many_arguments)]
fn build_levels(
    ctx: &GpuContext,
    levels: &[LevelBuffers],
    chunks: &[Vec<LevelChunk>],
    sizes: &[[usize; 3]],
    fill: bool,
    fine: &FineBuffers,
    weighted: &wgpu::Buffer,
    singular: &wgpu::Buffer,
) -> Result<(), GpuError> {
    let depth = levels.len();
    let whole = |b: &wgpu::Buffer| Span {
        base: 0,
        end: (b.size() / 4) as u32,
    };
    let mut dispatches = Vec::new();
    for l in 1..depth {
        let (c, f) = (&levels[l], &levels[l - 1]);
        let (blocks, nbrs) = c.stencil.as_ref().expect("a stored level");
        for ch in &chunks[l] {
            let (win, fmap) = ch.fine.expect("a finer level");
            let params = GalerkinParams {
                fine_win_base: win.base,
                fine_map_base: fmap.base,
                coarse_map_base: ch.same.1.base,
                ..galerkin_params(ch.own.len() as usize, fill, sizes[l - 1], sizes[l])
            };
            let mut bindings = vec![
                (1, ch.own.bind(&c.ids, 4)),
                (2, ch.same.1.bind(&c.map, 4)),
                (3, fmap.bind(&f.map, 4)),
            ];
            let kernel = match &f.stencil {
                None => {
                    // Binary fill: the 32 unused bytes of phi, whole.
                    let phi = if fill { win } else { whole(fine.phi) };
                    bindings.extend([
                        (4, win.bind(fine.flags, 4)),
                        (5, phi.bind(fine.phi, if fill { 32 } else { 4 })),
                        (6, fine.element.as_entire_binding()),
                        (9, weighted.as_entire_binding()),
                    ]);
                    GalerkinKernel::Fine
                }
                Some((fb, fnb)) => {
                    bindings.extend([(4, win.bind(fb, 972)), (5, win.bind(fnb, 108))]);
                    GalerkinKernel::Stencil
                }
            };
            bindings.extend([(7, ch.own.bind(blocks, 972)), (8, ch.own.bind(nbrs, 108))]);
            dispatches.push((kernel, params, bindings));
        }
    }
    for (l, lv) in levels.iter().enumerate() {
        let Some(inv) = &lv.inv_diag else { continue };
        for ch in &chunks[l] {
            let own = ch.own;
            let params = GalerkinParams {
                slot: l as u32,
                node_base: own.base,
                ..galerkin_params(own.len() as usize, fill, sizes[l], sizes[l])
            };
            let (kernel, mut bindings) = match &lv.stencil {
                None => {
                    let phi = if fill {
                        own.bind(fine.phi, 32)
                    } else {
                        fine.phi.as_entire_binding()
                    };
                    (
                        GalerkinKernel::FineInverseDiagonal,
                        vec![
                            (1, own.bind(fine.flags, 4)),
                            (2, phi),
                            (3, fine.element.as_entire_binding()),
                        ],
                    )
                }
                Some((blocks, _)) => (
                    GalerkinKernel::StencilInverseDiagonal,
                    vec![(4, own.bind(blocks, 972))],
                ),
            };
            bindings.extend([(5, own.bind(inv, 36)), (6, singular.as_entire_binding())]);
            dispatches.push((kernel, params, bindings));
        }
    }
    run_galerkin(ctx, &dispatches)
}

/// λ_max of D⁻¹A on every smoothed level of `h`: [`power_iteration`] with
/// each step w = D⁻¹A v on the device (`apply`, then a Chebyshev step from
/// zero with c2 = 1 reading A v as its right-hand side).
fn lambda_max(
    ctx: &GpuContext,
    h: &Hierarchy,
    pipelines: &Pipelines,
    fine: &FineBuffers,
) -> Result<Vec<f64>, GpuError> {
    let depth = h.levels.len();
    let mut lambdas = vec![0.0; depth];
    for (l, lambda) in lambdas.iter_mut().enumerate().take(depth - 1) {
        let lv = &h.levels[l];
        let params = MgParams {
            n: lv.n as u32,
            ..MgParams::zeroed()
        };
        let apply = MgOp {
            kernel: if l == 0 {
                MgKernel::FineApply
            } else {
                MgKernel::Apply
            },
            level: l,
            params,
            input: MgVec::X,
            chunk: 0,
        };
        let jacobi = MgOp {
            kernel: MgKernel::Chebyshev,
            params: MgParams {
                mode: 0,
                c1: 0.0,
                c2: 1.0,
                ..params
            },
            ..apply
        };
        // w = D⁻¹ A v: every chunk's A v before any chunk's D⁻¹.
        let mut ops = Vec::new();
        for (op, b) in [(apply, None), (jacobi, Some(MgVec::Q))] {
            for op in per_chunk(&op, h) {
                ops.push(encode_op(ctx, h, pipelines, fine, &op, b));
            }
        }
        let mut failed = None;
        let mut step = |v: &[f64], w: &mut [f64]| {
            if failed.is_some() {
                return;
            }
            let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            ctx.queue
                .write_buffer(lv.vec(MgVec::X), 0, bytemuck::cast_slice(&v32));
            let mut enc = ctx
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("voxfe power iteration"),
                });
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("power iteration"),
                    timestamp_writes: None,
                });
                for (pipeline, group, groups) in &ops {
                    pass.set_pipeline(pipeline);
                    pass.set_bind_group(0, group, &[]);
                    let (gx, gy) = ctx.dispatch_size(*groups);
                    pass.dispatch_workgroups(gx, gy, 1);
                }
            }
            ctx.queue.submit([enc.finish()]);
            match read_buffer::<f32>(ctx, lv.vec(MgVec::X)) {
                Ok(x) => w.iter_mut().zip(&x).for_each(|(w, &x)| *w = x as f64),
                Err(e) => failed = Some(e),
            }
        };
        *lambda = power_iteration(3 * lv.n, &mut step);
        if let Some(e) = failed {
            return Err(e);
        }
        ctx.check()?;
    }
    Ok(lambdas)
}

/// The node sets the device hierarchy of `mesh` is built on (for tests and
/// reports): [`coarse_node_sets`] of its node grid.
pub fn node_sets(mesh: &ActiveMesh) -> Vec<NodeSet> {
    coarse_node_sets(mesh.dims.map(|d| d + 1), &mesh.nodes)
}
