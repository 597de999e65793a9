//! The plastic solve's device work ([`GpuPlastic`]): the J2 stress update
//! and internal forces (`shaders/plastic_update.wgsl`, f64) and the
//! constrained consistent tangent as the operator of the device PCG
//! (`shaders/plastic_tangent.wgsl`, f32), over plain arrays
//! ([`PlasticInput`]); `crate::plastic` drives Newton's method on the host.
//!
//! - [`GpuPlastic::internal_force`]: u (f64) up, the update of every
//!   Gauss point from the converged states into the trial states and
//!   tangents (which stay on the device), f_int (f64) and the number of
//!   yielding points back.
//! - [`GpuPlastic::solve_tangent`]: PCG on the device ([`GpuPcg`], Jacobi
//!   or the elastic multigrid V-cycle of the linear solver as the
//!   preconditioner) with the two tangent kernels in place of `apply_k`;
//!   f32, without reliable updates (a Newton step is solved to η = 0.1
//!   of its residual, well within f32).
//! - [`GpuPlastic::commit`]: the trial states become the converged ones (a
//!   copy on the device); [`GpuPlastic::states`] reads them back.
//!
//! Every buffer is bound whole: a mesh whose vectors the PCG must split
//! into chunks, or a buffer over the binding limit, is a
//! [`GpuError::TooLarge`]. The update needs f64 in shaders
//! (`SHADER_F64`); an adapter without it is a [`GpuError::Unsupported`].
//!
//! Device memory per brick (solid voxel): 8 node ids, w·det J in f64 and
//! f32, two states of 7 f64 and a tangent of 8 f32 per point, 24 forces
//! in f64 and 24 products in f32: 1 388 B; per active node 8 brick ids
//! and 3 f64 each of u and f_int (80 B); on top of the PCG's.

use super::abi::{PlasticParams, NO_NODE, PLASTIC_GRADS, WG_NODES};
use super::context::{read_buffer, GpuContext};
use super::error::GpuError;
use super::kernels::{pipeline, storage_entry, uniform_entry, Access, Slot};
use super::pcg::{encode, Dispatch, GpuPcg};
use crate::fem::cg::{pcg, PcgStats};
use crate::fem::mesh::ActiveMesh;
use crate::fem::operator::StencilTable;
use crate::fem::options::{Preconditioner, SolverOptions};
use wgpu::util::DeviceExt;

/// The bricks of a plastic solve as plain arrays (what
/// `crate::plastic::elements::Bricks` holds), and its material.
pub struct PlasticInput<'a> {
    /// Active index of local node a of brick e: `brick_nodes[e][a]`.
    pub brick_nodes: &'a [[u32; 8]],
    /// wₑ·det J of each brick.
    pub scale: &'a [f64],
    /// Per active node, the brick of its voxel at each pattern bit c (the
    /// node is local corner 7 − c of it), or [`NO_NODE`].
    pub node_bricks: &'a [[u32; 8]],
    /// ∇N_a at Gauss point g: `grads[g][a]`.
    pub grads: &'a [[[f64; 3]; 8]; 8],
    /// Bulk modulus K, shear modulus G, yield strength σ_y, hardening H.
    pub material: [f64; 4],
    /// B̄ (mean dilatation) or the plain B.
    pub mean_dilatation: bool,
}

impl PlasticInput<'_> {
    /// The f64 `constants` of `plastic_update.wgsl`: K, G, σ_y, H, √(3/2),
    /// three zeros, the gradients.
    pub fn constants(&self) -> Vec<f64> {
        let [k, g, sy, h] = self.material;
        let mut c = vec![k, g, sy, h, 1.5f64.sqrt(), 0.0, 0.0, 0.0];
        debug_assert_eq!(c.len(), PLASTIC_GRADS);
        c.extend(self.grads.iter().flatten().flatten());
        c
    }

    /// The f32 `constants` of `plastic_tangent.wgsl`: K, seven zeros, the
    /// gradients.
    pub fn constants32(&self) -> Vec<f32> {
        let mut c = vec![0.0f32; PLASTIC_GRADS];
        c[0] = self.material[0] as f32;
        c.extend(self.grads.iter().flatten().flatten().map(|&v| v as f32));
        c
    }

    /// The kernels' uniform parameters.
    pub fn params(&self) -> PlasticParams {
        PlasticParams {
            n_bricks: self.brick_nodes.len() as u32,
            n_nodes: self.node_bricks.len() as u32,
            mean_dilatation: self.mean_dilatation as u32,
            _pad: 0,
        }
    }
}

/// The buffers the plastic kernels bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Buf {
    BrickNodes,
    Constants,
    Constants32,
    Scale,
    Scale32,
    U,
    OldState,
    TrialState,
    Tangent,
    Forces,
    Yielding,
    NodeBricks,
    Force,
    Products,
    /// One of the PCG's buffers (flags, p as x, q as y).
    Pcg(Slot),
}

impl Buf {
    /// Bytes of one element (the layout entry's `min_binding_size`).
    fn min_bytes(self) -> u64 {
        match self {
            Buf::Constants | Buf::Scale | Buf::U | Buf::OldState | Buf::TrialState => 8,
            Buf::Forces | Buf::Force => 8,
            _ => 4,
        }
    }
}

/// A binding: its number, the buffer, the access.
pub(crate) type Row = (u32, Buf, Access);

use Access::{Read, ReadWrite};

const UPDATE: &[Row] = &[
    (1, Buf::BrickNodes, Read),
    (2, Buf::Constants, Read),
    (3, Buf::Scale, Read),
    (4, Buf::U, Read),
    (5, Buf::OldState, Read),
    (6, Buf::TrialState, ReadWrite),
    (7, Buf::Tangent, ReadWrite),
    (8, Buf::Forces, ReadWrite),
    (9, Buf::Yielding, ReadWrite),
];

const FORCE: &[Row] = &[
    (8, Buf::Forces, ReadWrite),
    (10, Buf::NodeBricks, Read),
    (11, Buf::Force, ReadWrite),
];

const TANGENT_BRICK: &[Row] = &[
    (1, Buf::BrickNodes, Read),
    (2, Buf::Constants32, Read),
    (3, Buf::Scale32, Read),
    (4, Buf::Pcg(Slot::Flags), Read),
    (5, Buf::Pcg(Slot::P), Read),
    (6, Buf::Tangent, Read),
    (7, Buf::Products, ReadWrite),
];

const TANGENT_GATHER: &[Row] = &[
    (4, Buf::Pcg(Slot::Flags), Read),
    (5, Buf::Pcg(Slot::P), Read),
    (7, Buf::Products, ReadWrite),
    (8, Buf::NodeBricks, Read),
    (9, Buf::Pcg(Slot::Q), ReadWrite),
];

/// Whether a kernel runs one thread per brick or per active node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Over {
    Bricks,
    Nodes,
}

/// The kernels: (file, entry point, threads, bindings); workgroups of
/// [`WG_NODES`].
pub(crate) const PIPELINES: [(&str, &str, Over, &[Row]); 4] = [
    (
        "plastic_update.wgsl",
        "plastic_update",
        Over::Bricks,
        UPDATE,
    ),
    ("plastic_update.wgsl", "plastic_force", Over::Nodes, FORCE),
    (
        "plastic_tangent.wgsl",
        "tangent_brick",
        Over::Bricks,
        TANGENT_BRICK,
    ),
    (
        "plastic_tangent.wgsl",
        "tangent_gather",
        Over::Nodes,
        TANGENT_GATHER,
    ),
];

/// The bind-group layout of a table: binding 0 the uniform [`PlasticParams`].
pub(crate) fn layout(rows: &[Row]) -> Vec<wgpu::BindGroupLayoutEntry> {
    std::iter::once(uniform_entry(std::mem::size_of::<PlasticParams>() as u64))
        .chain(
            rows.iter()
                .map(|&(binding, buf, access)| storage_entry(binding, access, buf.min_bytes())),
        )
        .collect()
}

/// The plastic solve's state and kernels on the device, with the PCG whose
/// operator is the tangent.
pub struct GpuPlastic<'c> {
    ctx: &'c GpuContext,
    pcg: GpuPcg<'c>,
    buffers: Vec<(Buf, wgpu::Buffer)>,
    /// `plastic_update`, `plastic_force`.
    update: [Dispatch; 2],
    /// `tangent_brick`, `tangent_gather` (also handed to the PCG).
    tangent: [Dispatch; 2],
    n_dofs: usize,
    /// Bytes of the plastic buffers (the PCG's and its hierarchy's not
    /// included: [`GpuPlastic::pcg_bytes`]).
    pub bytes: u64,
}

impl<'c> GpuPlastic<'c> {
    /// Uploads the bricks of `input` over `mesh` (the elastic problem's,
    /// with its stencil `table` and constraints `fixed`, from which the
    /// preconditioner is built) with every point elastic and at rest.
    pub fn new(
        ctx: &'c GpuContext,
        mesh: &ActiveMesh,
        table: &StencilTable,
        fixed: &[u8],
        input: &PlasticInput,
        preconditioner: Preconditioner,
    ) -> Result<GpuPlastic<'c>, GpuError> {
        if !ctx.has_f64() {
            return Err(GpuError::Unsupported {
                adapter: ctx.adapter_name(),
                what: "the plastic stress update runs in f64 on the device (SHADER_F64)",
            });
        }
        let mut pcg = match preconditioner {
            Preconditioner::Jacobi => GpuPcg::new(ctx, mesh, table, fixed)?,
            Preconditioner::Multigrid => GpuPcg::with_device_multigrid(ctx, mesh, table, fixed)?,
        };
        if pcg.chunks.len() > 1 {
            return Err(GpuError::TooLarge {
                name: "plastic solve's vectors",
                bytes: 12 * mesh.len() as u64,
                limit: ctx.limits.max_storage_buffer_binding_size,
                what:
                    "max_storage_buffer_binding_size: the plastic kernels bind every vector whole",
            });
        }
        let params = input.params();
        let (nb, nn) = (params.n_bricks as u64, params.n_nodes as u64);
        let points = 8 * nb;
        let scale32: Vec<f32> = input.scale.iter().map(|&v| v as f32).collect();
        // Every point elastic: a = 2G, b = 0, N = 0.
        let mut tangent0 = vec![0.0f32; 8 * points as usize];
        for t in tangent0.chunks_mut(8) {
            t[0] = (2.0 * input.material[1]) as f32;
        }
        let sizes: [(Buf, &'static str, u64); 14] = [
            (Buf::BrickNodes, "brick nodes", 32 * nb),
            (Buf::Constants, "plastic constants", 8 * 200),
            (Buf::Constants32, "plastic constants (f32)", 4 * 200),
            (Buf::Scale, "brick weights", 8 * nb),
            (Buf::Scale32, "brick weights (f32)", 4 * nb),
            (Buf::U, "displacement (f64)", 24 * nn),
            (Buf::OldState, "converged plastic states", 56 * points),
            (Buf::TrialState, "trial plastic states", 56 * points),
            (Buf::Tangent, "point tangents", 32 * points),
            (Buf::Forces, "brick forces", 192 * nb),
            (Buf::Yielding, "yielding points", 4),
            (Buf::NodeBricks, "node bricks", 32 * nn),
            (Buf::Force, "internal forces", 24 * nn),
            (Buf::Products, "brick tangent products", 96 * nb),
        ];
        for &(_, name, bytes) in &sizes {
            ctx.fits_binding(name, bytes)?;
            ctx.fits_buffer(name, bytes)?;
        }
        let bytes: u64 = sizes.iter().map(|s| s.2).sum();
        let device = &ctx.device;
        let scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let init = |name: &str, contents: &[u8]| ctx.storage_init(name, contents);
        let zeroed = |name: &str, size: u64| ctx.storage_zeroed(name, size);
        let buffers: Vec<(Buf, wgpu::Buffer)> = sizes
            .iter()
            .map(|&(buf, name, size)| {
                let b = match buf {
                    Buf::BrickNodes => init(name, bytemuck::cast_slice(input.brick_nodes)),
                    Buf::Constants => init(name, bytemuck::cast_slice(&input.constants())),
                    Buf::Constants32 => init(name, bytemuck::cast_slice(&input.constants32())),
                    Buf::Scale => init(name, bytemuck::cast_slice(input.scale)),
                    Buf::Scale32 => init(name, bytemuck::cast_slice(&scale32)),
                    Buf::NodeBricks => init(name, bytemuck::cast_slice(input.node_bricks)),
                    Buf::Tangent => init(name, bytemuck::cast_slice(&tangent0)),
                    // Zeroed by wgpu: the states at rest.
                    _ => zeroed(name, size),
                };
                (buf, b)
            })
            .collect();
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(GpuError::OutOfMemory {
                bytes,
                message: e.to_string(),
            });
        }
        let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("plastic params"),
            contents: bytemuck::bytes_of(&params),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let find = |buf: Buf| -> &wgpu::Buffer {
            match buf {
                Buf::Pcg(slot) => pcg.buffer(slot),
                _ => {
                    &buffers
                        .iter()
                        .find(|b| b.0 == buf)
                        .expect("a plastic buffer")
                        .1
                }
            }
        };
        let mut dispatches = Vec::with_capacity(4);
        for (file, entry, over, rows) in PIPELINES {
            let pipeline = pipeline(ctx, file, entry, &layout(rows))?;
            let mut entries = vec![wgpu::BindGroupEntry {
                binding: 0,
                resource: uniform.as_entire_binding(),
            }];
            for &(binding, buf, _) in rows {
                entries.push(wgpu::BindGroupEntry {
                    binding,
                    resource: find(buf).as_entire_binding(),
                });
            }
            let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(entry),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            });
            let threads = match over {
                Over::Bricks => params.n_bricks,
                Over::Nodes => params.n_nodes,
            };
            dispatches.push((pipeline, group, threads.div_ceil(WG_NODES)));
        }
        ctx.check()?;
        let mut it = dispatches.into_iter();
        let mut next = || it.next().expect("four kernels");
        let update = [next(), next()];
        let tangent = [next(), next()];
        pcg.replace_apply(tangent.to_vec());
        Ok(GpuPlastic {
            ctx,
            pcg,
            buffers,
            update,
            tangent,
            n_dofs: 3 * mesh.len(),
            bytes,
        })
    }

    fn buffer(&self, buf: Buf) -> &wgpu::Buffer {
        match buf {
            Buf::Pcg(slot) => self.pcg.buffer(slot),
            _ => {
                &self
                    .buffers
                    .iter()
                    .find(|b| b.0 == buf)
                    .expect("a plastic buffer")
                    .1
            }
        }
    }

    /// Bytes of the PCG's buffers and of its multigrid hierarchy.
    pub fn pcg_bytes(&self) -> u64 {
        self.pcg.bytes + self.pcg.multigrid().map_or(0, |m| m.bytes)
    }

    /// Records `dispatches` into one compute pass and submits it.
    fn run(&self, dispatches: &[Dispatch]) -> Result<(), GpuError> {
        let mut enc = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("voxfe plastic"),
            });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("plastic"),
                timestamp_writes: None,
            });
            encode(self.ctx, &mut pass, dispatches);
        }
        self.ctx.queue.submit([enc.finish()]);
        self.ctx.check()
    }

    /// The internal forces at `u` (3 per active node) from the converged
    /// states, and the number of yielding points; every point's trial
    /// state and tangent stay on the device.
    pub fn internal_force(&self, u: &[f64]) -> Result<(Vec<f64>, usize), GpuError> {
        let q = &self.ctx.queue;
        q.write_buffer(self.buffer(Buf::U), 0, bytemuck::cast_slice(u));
        q.write_buffer(self.buffer(Buf::Yielding), 0, bytemuck::bytes_of(&0u32));
        self.run(&self.update)?;
        let mut force: Vec<f64> = read_buffer(self.ctx, self.buffer(Buf::Force))?;
        force.truncate(self.n_dofs);
        let yielding: Vec<u32> = read_buffer(self.ctx, self.buffer(Buf::Yielding))?;
        Ok((force, yielding[0] as usize))
    }

    /// PCG on the constrained tangent of the last [`GpuPlastic::internal_force`]
    /// for the right-hand side `b`, to `opts.tolerance` (relative) within
    /// `opts.max_iterations`.
    pub fn solve_tangent(
        &mut self,
        b: &[f64],
        opts: &SolverOptions,
    ) -> Result<(Vec<f64>, PcgStats), GpuError> {
        self.pcg.set_rhs(b);
        let stats = pcg(&mut self.pcg, opts)?;
        Ok((self.pcg.solution()?, stats))
    }

    /// y = A x with the tangent kernels alone (the PCG's p and q; tests).
    pub fn apply_tangent(&self, x: &[f64]) -> Result<Vec<f64>, GpuError> {
        self.pcg
            .write(Slot::P, &x.iter().map(|&v| v as f32).collect::<Vec<_>>());
        self.run(&self.tangent)?;
        let y: Vec<f32> = self.pcg.read(Slot::Q)?;
        Ok(y.iter().map(|&v| v as f64).collect())
    }

    /// The trial states become the converged ones.
    pub fn commit(&self) -> Result<(), GpuError> {
        let (from, to) = (self.buffer(Buf::TrialState), self.buffer(Buf::OldState));
        let mut enc = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("voxfe plastic commit"),
            });
        enc.copy_buffer_to_buffer(from, 0, to, 0, from.size());
        self.ctx.queue.submit([enc.finish()]);
        self.ctx.check()
    }

    /// The converged states, 7 values a point (plastic strain, ᾱ).
    pub fn states(&self) -> Result<Vec<f64>, GpuError> {
        read_buffer(self.ctx, self.buffer(Buf::OldState))
    }

    /// The trial states and the tangents of the last update (tests).
    pub fn trial(&self) -> Result<(Vec<f64>, Vec<f32>), GpuError> {
        Ok((
            read_buffer(self.ctx, self.buffer(Buf::TrialState))?,
            read_buffer(self.ctx, self.buffer(Buf::Tangent))?,
        ))
    }

    /// Sets the converged states (7 values a point; tests).
    pub fn set_states(&self, states: &[f64]) {
        self.ctx
            .queue
            .write_buffer(self.buffer(Buf::OldState), 0, bytemuck::cast_slice(states));
    }
}

/// `NO_NODE`, the "no brick" of [`PlasticInput::node_bricks`].
pub const NO_BRICK: u32 = NO_NODE;
