//! [`GpuPcg`]: the buffers, pipelines and bind groups of one problem on the
//! device, the kernels it runs, and the state of its reliable updates
//! ([`Reliable`]). Its [`PcgBackend`] implementation (the kernels of one
//! iteration) is in `iteration.rs`, the reliable updates themselves in
//! `reliable.rs`.

use super::abi::{GpuParams, SCALARS};
use super::context::{read_buffer, GpuContext};
use super::error::GpuError;
use super::kernels::{pipeline, Kernel, Slot, KERNEL_LIST, SLOTS};
use super::mg_buffers::FineBuffers;
use super::multigrid::GpuMultigrid;
use super::plan::chunks::{plan_chunks_with, Chunk};
use super::reliable_device::DeviceReliable;
#[cfg(doc)]
use crate::fem::cg::PcgBackend;
use crate::fem::mesh::ActiveMesh;
use crate::fem::operator::StencilTable;
use crate::fem::problem::FineOperator;
use bytemuck::Pod;
use wgpu::util::DeviceExt;

/// Where the multigrid hierarchy of a [`GpuPcg`] comes from.
enum Hierarchy<'m, 'a> {
    /// Built on the host ([`crate::fem::multigrid::Multigrid`]), uploaded.
    Host(&'m crate::fem::multigrid::Multigrid<'a>),
    /// Built on the device.
    Device,
}

/// Where the high-precision solution and right-hand side are kept.
pub(super) enum Store<'p> {
    Device(DeviceReliable),
    Host {
        op: Box<FineOperator<'p>>,
        b: Vec<f64>,
        x: Vec<f64>,
    },
}

/// Reliable updates (mixed-precision CG): the solution is accumulated in
/// high precision and, whenever the f32 recursive residual has dropped by
/// [`RELIABLE_DROP`](super::RELIABLE_DROP) since the last update (or reached the stop level), the
/// device's r is replaced by the true residual b − A x computed in high
/// precision, keeping the search direction p. CG then converges as in f64
/// while all iterations run in f32 on the device.
pub(super) struct Reliable<'p> {
    pub(super) store: Store<'p>,
    /// ‖r‖² at the last update.
    pub(super) rr_last: f64,
    /// ‖r‖² at which the solver will stop.
    pub(super) rr_stop: f64,
    pub(super) updates: usize,
    /// Wall time spent in updates, s.
    pub(super) seconds: f64,
    /// Why a device path asked for was not used, if one was not.
    pub(super) fallback: Option<String>,
}

/// Jacobi-PCG state of one problem on the device.
pub struct GpuPcg<'c> {
    pub(super) ctx: &'c GpuContext,
    /// The whole mesh's parameters (equal to the only chunk's when the
    /// vectors fit in one binding).
    pub params: GpuParams,
    /// The chunks each per-node kernel is dispatched over.
    pub chunks: Vec<Chunk>,
    buffers: Vec<wgpu::Buffer>,
    /// Per kernel: its pipeline and one bind group per chunk (one in all
    /// for the global reductions); `None` for the multigrid kernels of a
    /// Jacobi solver.
    pipelines: Vec<Option<(wgpu::ComputePipeline, Vec<wgpu::BindGroup>)>>,
    /// Kernels recorded by `step` and not yet submitted.
    pub(super) pending: Vec<Kernel>,
    pub(super) reliable: Option<Reliable<'c>>,
    /// CG restarts at reliable updates (see [`RESTART_DRIFT`](super::reliable::RESTART_DRIFT)).
    pub(super) restarts: usize,
    /// The multigrid preconditioner, when there is one.
    pub(super) multigrid: Option<GpuMultigrid>,
    /// Bytes of the solver's own buffers on the device (the multigrid's
    /// hierarchy not included: [`GpuMultigrid::bytes`]).
    pub bytes: u64,
    /// Dispatches that take `apply_k`'s place in the iteration (q = A p
    /// for another operator: the plastic tangent, `super::plastic`).
    apply: Option<Vec<Dispatch>>,
}

/// A compiled kernel with its bind group and workgroup count.
pub(super) type Dispatch = (wgpu::ComputePipeline, wgpu::BindGroup, u32);

/// Encodes `dispatches` into `pass`.
pub(super) fn encode(ctx: &GpuContext, pass: &mut wgpu::ComputePass, dispatches: &[Dispatch]) {
    for (pipeline, group, groups) in dispatches {
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, group, &[]);
        let (gx, gy) = ctx.dispatch_size(*groups);
        pass.dispatch_workgroups(gx, gy, 1);
    }
}

impl<'c> GpuPcg<'c> {
    /// Uploads the mesh, the stencils and the constraints, and builds the
    /// pipelines of Jacobi-PCG.
    pub fn new(
        ctx: &'c GpuContext,
        mesh: &ActiveMesh,
        table: &StencilTable,
        fixed: &[u8],
    ) -> Result<GpuPcg<'c>, GpuError> {
        Self::build(ctx, mesh, table, fixed, None)
    }

    /// As [`GpuPcg::new`], preconditioned with one V-cycle of the hierarchy
    /// `mg` (built on the host for the same problem) on the device.
    pub fn with_multigrid(
        ctx: &'c GpuContext,
        mesh: &ActiveMesh,
        table: &StencilTable,
        fixed: &[u8],
        mg: &crate::fem::multigrid::Multigrid,
    ) -> Result<GpuPcg<'c>, GpuError> {
        Self::build(ctx, mesh, table, fixed, Some(Hierarchy::Host(mg)))
    }

    /// As [`GpuPcg::new`], preconditioned with one V-cycle of a hierarchy
    /// built on the device ([`GpuMultigrid::on_device`]). The
    /// device Galerkin kernels know box meshes only: a periodic mesh's
    /// hierarchy is built on the host ([`crate::fem::multigrid::Multigrid::periodic`]).
    pub fn with_device_multigrid(
        ctx: &'c GpuContext,
        mesh: &ActiveMesh,
        table: &StencilTable,
        fixed: &[u8],
    ) -> Result<GpuPcg<'c>, GpuError> {
        if mesh.periodic {
            let mg = crate::fem::multigrid::Multigrid::periodic(mesh, table, fixed)
                .map_err(crate::fem::SolveError::from)?;
            return Self::with_multigrid(ctx, mesh, table, fixed, &mg);
        }
        Self::build(ctx, mesh, table, fixed, Some(Hierarchy::Device))
    }

    fn build(
        ctx: &'c GpuContext,
        mesh: &ActiveMesh,
        table: &StencilTable,
        fixed: &[u8],
        mg: Option<Hierarchy>,
    ) -> Result<GpuPcg<'c>, GpuError> {
        let n = mesh.len() as u32;
        let n_dofs = 3 * n;
        let lim = &ctx.limits;
        // Under multigrid the chunks also bind the fine level's 36 B of
        // inverse diagonal blocks per node.
        let own_bytes = if mg.is_some() { 36 } else { 12 };
        let chunks = plan_chunks_with(
            mesh,
            lim.max_storage_buffer_binding_size,
            lim.min_storage_buffer_offset_alignment as u64,
            own_bytes,
        )?;
        let params = GpuParams {
            n_nodes: n,
            n_dofs,
            chunk_partials: chunks[0].params.n_partials,
            partial_base: 0,
            node_base: 0,
            win_base: 0,
            map_base: 0,
            ..chunks[0].params
        };
        let flags: Vec<u32> = mesh
            .pattern
            .iter()
            .zip(fixed)
            .map(|(&p, &f)| p as u32 | (f as u32) << 8)
            .collect();
        let stencil: Vec<f32> = table.blocks.iter().flatten().map(|&v| v as f32).collect();
        let element: Vec<f32> = table.element.iter().flatten().map(|&v| v as f32).collect();
        // Sub-voxel fill: the corner fractions; binary: 32 unused bytes.
        let phi: Vec<f32> = match &mesh.phi {
            Some(phi) => phi.iter().flatten().copied().collect(),
            None => vec![0.0; 8],
        };
        let vec_bytes = 4 * n_dofs as u64;
        let sizes: [(Slot, &'static str, u64); 15] = [
            (Slot::Nodes, "active node ids", 4 * n as u64),
            (Slot::Flags, "node flags", 4 * n as u64),
            (
                Slot::NodeMap,
                "grid node map",
                4 * mesh.node_map.len() as u64,
            ),
            (Slot::Stencil, "stencil table", 4 * stencil.len() as u64),
            (Slot::Neighbours, "stencil neighbours", 4 * 256),
            (Slot::X, "x", vec_bytes),
            (Slot::R, "r", vec_bytes),
            (Slot::P, "p", vec_bytes),
            (Slot::Q, "q", vec_bytes),
            (Slot::InvDiag, "inverse diagonal", vec_bytes),
            (Slot::Partials, "partial sums", 8 * params.n_partials as u64),
            (Slot::Scalars, "CG scalars", 4 * SCALARS as u64),
            (Slot::Z, "z", if mg.is_some() { vec_bytes } else { 4 }),
            (Slot::Phi, "corner fractions", 4 * phi.len() as u64),
            (Slot::Element, "element stiffness", 4 * element.len() as u64),
        ];
        for &(slot, name, bytes) in &sizes {
            // Per-node buffers are bound in chunks; the others whole.
            let chunked = matches!(
                slot,
                Slot::Nodes
                    | Slot::Flags
                    | Slot::NodeMap
                    | Slot::X
                    | Slot::R
                    | Slot::P
                    | Slot::Q
                    | Slot::InvDiag
                    | Slot::Z
                    | Slot::Phi
            );
            if !chunked {
                ctx.fits_binding(name, bytes)?;
            }
            ctx.fits_buffer(name, bytes)?;
        }
        let total: u64 = sizes.iter().map(|s| s.2).sum();
        let device = &ctx.device;
        let scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let usage = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC;
        let init = |name: &str, bytes: &[u8]| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(name),
                contents: bytes,
                usage,
            })
        };
        let mut buffers = Vec::with_capacity(12);
        for &(slot, name, bytes) in &sizes {
            let b = match slot {
                Slot::Nodes => init(name, bytemuck::cast_slice(&mesh.nodes)),
                Slot::Flags => init(name, bytemuck::cast_slice(&flags)),
                Slot::NodeMap => init(name, bytemuck::cast_slice(&mesh.node_map)),
                Slot::Stencil => init(name, bytemuck::cast_slice(&stencil)),
                Slot::Neighbours => init(name, bytemuck::cast_slice(&table.neighbours)),
                Slot::Phi => init(name, bytemuck::cast_slice(&phi)),
                Slot::Element => init(name, bytemuck::cast_slice(&element)),
                _ => device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(name),
                    size: bytes.max(4),
                    usage,
                    mapped_at_creation: false,
                }),
            };
            buffers.push(b);
        }
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(GpuError::OutOfMemory {
                bytes: total,
                message: e.to_string(),
            });
        }
        let uniforms: Vec<wgpu::Buffer> = chunks
            .iter()
            .map(|c| {
                device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("params"),
                    contents: bytemuck::bytes_of(&c.params),
                    usage: wgpu::BufferUsages::UNIFORM,
                })
            })
            .collect();
        let mut pipelines = Vec::new();
        for kernel in KERNEL_LIST {
            if kernel.is_multigrid() && mg.is_none() {
                pipelines.push(None);
                continue;
            }
            let spec = kernel.spec();
            let (entry, slots) = (spec.entry, spec.bindings);
            let pipeline = pipeline(ctx, spec.file, entry, &kernel.layout())?;
            let layout = pipeline.get_bind_group_layout(0);
            let used = if kernel.is_global() { 1 } else { chunks.len() };
            let groups = chunks[..used]
                .iter()
                .zip(&uniforms)
                .map(|(chunk, uniform)| {
                    let mut entries = vec![wgpu::BindGroupEntry {
                        binding: 0,
                        resource: uniform.as_entire_binding(),
                    }];
                    for (k, &(slot, view, _)) in slots.iter().enumerate() {
                        let idx = SLOTS.iter().position(|s| *s == slot).unwrap();
                        let buffer = &buffers[idx];
                        entries.push(wgpu::BindGroupEntry {
                            binding: k as u32 + 1,
                            resource: chunk.binding(buffer, view, Some(slot)),
                        });
                    }
                    device.create_bind_group(&wgpu::BindGroupDescriptor {
                        label: Some(entry),
                        layout: &layout,
                        entries: &entries,
                    })
                })
                .collect();
            pipelines.push(Some((pipeline, groups)));
        }
        ctx.check()?;
        let mut gpu = GpuPcg {
            ctx,
            params,
            chunks,
            buffers,
            pipelines,
            pending: Vec::new(),
            reliable: None,
            restarts: 0,
            multigrid: None,
            bytes: total,
            apply: None,
        };
        gpu.run(&[Kernel::JacobiDiag])?;
        if let Some(mg) = mg {
            let apply_k = &gpu.kernel(Kernel::ApplyK).0;
            let fine = FineBuffers {
                uniforms: &uniforms,
                chunks: &gpu.chunks,
                nodes: gpu.buffer(Slot::Nodes),
                flags: gpu.buffer(Slot::Flags),
                node_map: gpu.buffer(Slot::NodeMap),
                stencil: gpu.buffer(Slot::Stencil),
                neighbours: gpu.buffer(Slot::Neighbours),
                phi: gpu.buffer(Slot::Phi),
                element: gpu.buffer(Slot::Element),
                apply_k,
                r: gpu.buffer(Slot::R),
                z: gpu.buffer(Slot::Z),
            };
            let device_mg = match mg {
                Hierarchy::Host(mg) => GpuMultigrid::new(ctx, mg, &fine)?,
                Hierarchy::Device => GpuMultigrid::on_device(ctx, mesh, table, fixed, &fine)?,
            };
            gpu.multigrid = Some(device_mg);
        }
        Ok(gpu)
    }

    /// The pipeline and bind groups of `kernel`.
    fn kernel(&self, kernel: Kernel) -> &(wgpu::ComputePipeline, Vec<wgpu::BindGroup>) {
        self.pipelines[KERNEL_LIST
            .iter()
            .position(|x| *x == kernel)
            .expect("a kernel")]
        .as_ref()
        .expect("the kernel is built for this preconditioner")
    }

    /// The device multigrid, when the solver has one.
    pub fn multigrid(&self) -> Option<&GpuMultigrid> {
        self.multigrid.as_ref()
    }

    /// Runs dispatches `range` of the V-cycle alone (tests).
    pub fn run_multigrid_ops(&self, range: std::ops::Range<usize>) -> Result<(), GpuError> {
        let mg = self.multigrid.as_ref().expect("a multigrid solver");
        let mut enc = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("voxfe multigrid"),
            });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("multigrid"),
                timestamp_writes: None,
            });
            mg.encode(self.ctx, &mut pass, range);
        }
        self.ctx.queue.submit([enc.finish()]);
        self.ctx.check()
    }

    pub(super) fn buffer(&self, slot: Slot) -> &wgpu::Buffer {
        &self.buffers[SLOTS.iter().position(|s| *s == slot).unwrap()]
    }

    /// Encodes `kernels` in order in one compute pass and submits them.
    pub fn run(&self, kernels: &[Kernel]) -> Result<(), GpuError> {
        let mut enc = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("voxfe"),
            });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("pcg"),
                timestamp_writes: None,
            });
            for &k in kernels {
                if let (Kernel::ApplyK, Some(apply)) = (k, &self.apply) {
                    encode(self.ctx, &mut pass, apply);
                    continue;
                }
                if k == Kernel::VCycle {
                    let mg = self.multigrid.as_ref().expect("a multigrid solver");
                    mg.encode(self.ctx, &mut pass, 0..mg.ops.len());
                    continue;
                }
                let (pipeline, groups) = self.kernel(k);
                pass.set_pipeline(pipeline);
                for (group, chunk) in groups.iter().zip(&self.chunks) {
                    pass.set_bind_group(0, group, &[]);
                    let (gx, gy) = self.ctx.dispatch_size(k.groups(&chunk.params));
                    pass.dispatch_workgroups(gx, gy, 1);
                }
            }
        }
        self.ctx.queue.submit([enc.finish()]);
        self.ctx.check()
    }

    /// Writes f32 (or u32, as bits) data into a buffer.
    pub fn write<T: Pod>(&self, slot: Slot, data: &[T]) {
        self.ctx
            .queue
            .write_buffer(self.buffer(slot), 0, bytemuck::cast_slice(data));
    }

    /// Reads a whole buffer back.
    pub fn read<T: Pod>(&self, slot: Slot) -> Result<Vec<T>, GpuError> {
        read_buffer(self.ctx, self.buffer(slot))
    }

    /// Runs `apply` (dispatches reading p and writing q) wherever the
    /// iteration runs `apply_k`: the PCG then solves with that operator,
    /// preconditioned as before. Reliable updates (which recompute b − A x
    /// with the stencil) must not be enabled with it.
    pub(super) fn replace_apply(
        &mut self,
        apply: Vec<(wgpu::ComputePipeline, wgpu::BindGroup, u32)>,
    ) {
        self.apply = Some(apply);
    }

    /// Sets the right-hand side (r = b) for the next [`PcgBackend::start`].
    pub fn set_rhs(&self, b: &[f64]) {
        let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
        self.write(Slot::R, &b32);
    }
}

impl<'c> GpuPcg<'c> {
    /// Submits the recorded iterations.
    pub(super) fn flush(&mut self) -> Result<(), GpuError> {
        if !self.pending.is_empty() {
            let k = std::mem::take(&mut self.pending);
            self.run(&k)?;
        }
        Ok(())
    }
}
