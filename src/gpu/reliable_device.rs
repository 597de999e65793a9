//! Reliable updates on the device ([`DeviceReliable`]): the high-precision
//! solution x_hi and right-hand side b in device buffers (f64 where the
//! adapter has `SHADER_F64`, else double-single), and the kernels of
//! `shaders/shared/reliable_body.wgsl` that add the f32 solution into x_hi,
//! compute the true residual r = b − A·x_hi into the CG's f32 r, and reduce
//! ‖r‖², of which only the 8 bytes come back; their binding table
//! ([`PIPELINES`]). The solution is read back once, at the end.
//!
//! x_hi and b take 8 bytes a value, 24 a node: the kernels are dispatched
//! over their own chunks, planned ([`plan_chunks`]) at half the binding
//! limit so that the 24-byte windows fit where the f32 ones (12 bytes) do.

use super::abi::{Ds, GpuParams, WG_DOFS, WG_NODES, WG_REDUCE};
use super::context::{read_buffer, GpuContext};
use super::error::GpuError;
use super::kernels::{pipeline, storage_entry, uniform_entry, Access, Slot, View};
use super::plan::chunks::{plan_chunks, Chunk};
use crate::fem::problem::FineOperator;
use wgpu::util::DeviceExt;

/// The buffers the reliable-update kernels bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Buf {
    /// One of the solver's own buffers.
    Pcg(Slot),
    /// The high-precision solution.
    XHi,
    /// The right-hand side in `Hi`.
    B,
    /// Partial ‖r‖², one per workgroup of `residual`.
    Partials,
    /// The stencil table in `Hi`.
    Stencil,
    /// The element blocks in `Hi`.
    Element,
    /// ‖r‖² of the whole mesh.
    Total,
}

impl Buf {
    /// The layout entry's `min_binding_size`.
    fn min_bytes(self) -> u64 {
        match self {
            Buf::Stencil => 8 * 256 * 27 * 9,
            Buf::Element => 8 * 64 * 9,
            Buf::Pcg(slot) => slot.min_bytes(),
            _ => 8,
        }
    }
}

/// A binding: its number, the buffer, how it is bound per chunk, the access.
pub(crate) type Row = (u32, Buf, View, Access);

const ACCUMULATE: &[Row] = &[
    (12, Buf::Pcg(Slot::X), View::Own(12), Access::ReadWrite), // x, zeroed
    (13, Buf::XHi, View::Own(24), Access::ReadWrite),          // x_acc += x
];

const RESIDUAL: &[Row] = &[
    (1, Buf::Pcg(Slot::Nodes), View::Own(4), Access::Read),
    (2, Buf::Pcg(Slot::Flags), View::Window(4), Access::Read),
    (3, Buf::Pcg(Slot::NodeMap), View::Window(4), Access::Read),
    (4, Buf::Stencil, View::Whole, Access::Read),
    (5, Buf::Pcg(Slot::Neighbours), View::Whole, Access::Read),
    (6, Buf::XHi, View::Window(24), Access::Read),
    (7, Buf::B, View::Own(24), Access::Read),
    (8, Buf::Pcg(Slot::R), View::Own(12), Access::ReadWrite),
    (9, Buf::Partials, View::Whole, Access::ReadWrite),
    (10, Buf::Pcg(Slot::Phi), View::Own(32), Access::Read),
    (11, Buf::Element, View::Whole, Access::Read),
];

const REDUCE: &[Row] = &[
    (9, Buf::Partials, View::Whole, Access::ReadWrite),
    (14, Buf::Total, View::Whole, Access::ReadWrite),
];

/// The kernels, in the order of an update: (entry point, workgroup size,
/// bindings). Each is in both `reliable_f64.wgsl` and `reliable_ds.wgsl`.
pub(crate) const PIPELINES: [(&str, u32, &[Row]); 3] = [
    ("accumulate", WG_DOFS, ACCUMULATE),
    ("residual", WG_NODES, RESIDUAL),
    ("reduce_rr", WG_REDUCE, REDUCE),
];

/// The kernel files of the two precisions.
pub(crate) const FILES: [&str; 2] = ["reliable_f64.wgsl", "reliable_ds.wgsl"];

/// The bind-group layout of a table: binding 0 the uniform [`GpuParams`].
pub(crate) fn layout(rows: &[Row]) -> Vec<wgpu::BindGroupLayoutEntry> {
    std::iter::once(uniform_entry(std::mem::size_of::<GpuParams>() as u64))
        .chain(
            rows.iter()
                .map(|&(binding, buf, _, access)| storage_entry(binding, access, buf.min_bytes())),
        )
        .collect()
}

/// x_hi, b and the true residual on the device.
pub(super) struct DeviceReliable {
    /// f64 (else double-single).
    f64: bool,
    /// The chunks the per-node kernels are dispatched over.
    chunks: Vec<Chunk>,
    x_hi: wgpu::Buffer,
    total: wgpu::Buffer,
    /// Per kernel of [`PIPELINES`]: its pipeline and bind groups (one per
    /// chunk; one for `reduce_rr`).
    kernels: Vec<(wgpu::ComputePipeline, Vec<wgpu::BindGroup>)>,
    /// Bytes of its buffers on the device.
    pub(super) bytes: u64,
    /// Dofs of the whole mesh (the length of the solution).
    n_dofs: usize,
}

/// `values` as the 8-byte `Hi` of the precision: f64, or the nearest
/// double-single ([`Ds::from_f64`]).
fn hi_bytes(values: &[f64], f64: bool) -> Vec<u8> {
    if f64 {
        bytemuck::cast_slice(values).to_vec()
    } else {
        let ds: Vec<Ds> = values.iter().map(|&v| Ds::from_f64(v)).collect();
        bytemuck::cast_slice(&ds).to_vec()
    }
}

impl DeviceReliable {
    /// Uploads b and the operator of `op` in f64 (`f64`) or double-single
    /// and builds the kernels for the solver on `ctx` whose mesh `op` is,
    /// with the whole mesh's `params` and its buffers (`buffer`).
    pub(super) fn new<'b>(
        ctx: &GpuContext,
        params: &GpuParams,
        buffer: impl Fn(Slot) -> &'b wgpu::Buffer,
        op: &FineOperator,
        b: &[f64],
        f64: bool,
    ) -> Result<DeviceReliable, GpuError> {
        let (mesh, table) = (op.inner().mesh(), op.inner().table());
        let lim = &ctx.limits;
        let chunks = plan_chunks(
            mesh,
            lim.max_storage_buffer_binding_size / 2,
            lim.min_storage_buffer_offset_alignment as u64,
        )?;
        let n = mesh.len() as u64;
        let partials = n.div_ceil(WG_NODES as u64);
        let stencil: Vec<f64> = table.blocks.iter().flatten().copied().collect();
        let element: Vec<f64> = table.element.iter().flatten().copied().collect();
        // Bound whole: the tables and the partial sums.
        let whole = [
            ("high-precision stencil table", 8 * stencil.len() as u64),
            ("high-precision element blocks", 8 * element.len() as u64),
            ("partial ‖r‖²", 8 * partials),
        ];
        for (name, bytes) in whole {
            ctx.fits_binding(name, bytes)?;
        }
        let sizes = [("x_hi", 24 * n), ("b (high precision)", 24 * n)];
        for (name, bytes) in sizes {
            ctx.fits_buffer(name, bytes)?;
        }
        let device = &ctx.device;
        let scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let init = |name: &str, contents: &[u8]| ctx.storage_init(name, contents);
        let zeroed = |name: &str, size: u64| ctx.storage_zeroed(name, size);
        let x_hi = zeroed("x_hi", 24 * n);
        let b_hi = init("b (high precision)", &hi_bytes(b, f64));
        let partial_buf = zeroed("partial ‖r‖²", 8 * partials);
        let stencil_buf = init("stencil (high precision)", &hi_bytes(&stencil, f64));
        let element_buf = init("element (high precision)", &hi_bytes(&element, f64));
        let total = zeroed("‖r‖²", 8);
        let bytes = 48 * n + 8 * partials + 8 * (stencil.len() + element.len()) as u64 + 8;
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(GpuError::OutOfMemory {
                bytes,
                message: e.to_string(),
            });
        }
        let uniform = |p: &GpuParams| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("reliable params"),
                contents: bytemuck::bytes_of(p),
                usage: wgpu::BufferUsages::UNIFORM,
            })
        };
        let uniforms: Vec<wgpu::Buffer> = chunks.iter().map(|c| uniform(&c.params)).collect();
        let global = uniform(params);
        let whole = Chunk {
            params: *params,
            win_end: 0,
            map_end: 0,
        };
        let file = FILES[if f64 { 0 } else { 1 }];
        let mut kernels = Vec::with_capacity(PIPELINES.len());
        for (entry, _, rows) in PIPELINES {
            let pipeline = pipeline(ctx, file, entry, &layout(rows))?;
            let group_layout = pipeline.get_bind_group_layout(0);
            let targets: Vec<(&Chunk, &wgpu::Buffer)> = if entry == "reduce_rr" {
                vec![(&whole, &global)]
            } else {
                chunks.iter().zip(&uniforms).collect()
            };
            let groups = targets
                .into_iter()
                .map(|(chunk, uniform)| {
                    let mut entries = vec![wgpu::BindGroupEntry {
                        binding: 0,
                        resource: uniform.as_entire_binding(),
                    }];
                    for &(binding, buf, view, _) in rows {
                        let buffer = match buf {
                            Buf::Pcg(slot) => buffer(slot),
                            Buf::XHi => &x_hi,
                            Buf::B => &b_hi,
                            Buf::Partials => &partial_buf,
                            Buf::Stencil => &stencil_buf,
                            Buf::Element => &element_buf,
                            Buf::Total => &total,
                        };
                        let slot = match buf {
                            Buf::Pcg(slot) => Some(slot),
                            _ => None,
                        };
                        entries.push(wgpu::BindGroupEntry {
                            binding,
                            resource: chunk.binding(buffer, view, slot),
                        });
                    }
                    device.create_bind_group(&wgpu::BindGroupDescriptor {
                        label: Some(entry),
                        layout: &group_layout,
                        entries: &entries,
                    })
                })
                .collect();
            kernels.push((pipeline, groups));
        }
        ctx.check()?;
        Ok(DeviceReliable {
            f64,
            chunks,
            x_hi,
            total,
            kernels,
            bytes,
            n_dofs: 3 * params.n_nodes as usize,
        })
    }

    /// Whether the values are f64 (else double-single).
    pub(super) fn is_f64(&self) -> bool {
        self.f64
    }

    /// Encodes the first `count` kernels of [`PIPELINES`] and submits them.
    fn run(&self, ctx: &GpuContext, count: usize) -> Result<(), GpuError> {
        let mut enc = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("voxfe reliable update"),
            });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("reliable update"),
                timestamp_writes: None,
            });
            for ((pipeline, groups), (entry, wg, _)) in
                self.kernels.iter().zip(PIPELINES).take(count)
            {
                pass.set_pipeline(pipeline);
                for (group, chunk) in groups.iter().zip(&self.chunks) {
                    pass.set_bind_group(0, group, &[]);
                    let groups = match entry {
                        "accumulate" => chunk.params.n_dofs.div_ceil(wg),
                        "residual" => chunk.params.n_nodes.div_ceil(wg),
                        _ => 1,
                    };
                    let (gx, gy) = ctx.dispatch_size(groups);
                    pass.dispatch_workgroups(gx, gy, 1);
                }
            }
        }
        ctx.queue.submit([enc.finish()]);
        ctx.check()
    }

    /// `buffer`'s `Hi` values as f64.
    fn read(&self, ctx: &GpuContext, buffer: &wgpu::Buffer) -> Result<Vec<f64>, GpuError> {
        Ok(if self.f64 {
            read_buffer::<f64>(ctx, buffer)?
        } else {
            read_buffer::<Ds>(ctx, buffer)?
                .iter()
                .map(|v| v.value())
                .collect()
        })
    }

    /// x_hi += x, x = 0, r = b − A·x_hi (into the solver's f32 r); returns
    /// the true ‖r‖², the only value read back.
    pub(super) fn update(&self, ctx: &GpuContext) -> Result<f64, GpuError> {
        self.run(ctx, PIPELINES.len())?;
        Ok(self.read(ctx, &self.total)?[0])
    }

    /// x_hi += x, x = 0, and x_hi read back: the solution.
    pub(super) fn solution(&self, ctx: &GpuContext) -> Result<Vec<f64>, GpuError> {
        self.run(ctx, 1)?;
        let mut x = self.read(ctx, &self.x_hi)?;
        x.truncate(self.n_dofs);
        Ok(x)
    }
}
