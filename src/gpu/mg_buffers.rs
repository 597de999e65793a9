//! The buffers of the device multigrid before its V-cycle is recorded
//! (their chunks and sizes are planned in [`super::plan::hierarchy`]): the
//! fine level's, lent by the PCG ([`FineBuffers`]), allocation
//! ([`Alloc`]), the level buffers of a hierarchy ([`LevelBuffers`],
//! [`Hierarchy`]), whether uploaded from the host
//! ([`GpuMultigrid::new`](super::multigrid::GpuMultigrid::new)) or built on
//! the device (`GpuMultigrid::on_device`, `galerkin.rs`), the compiled
//! kernels ([`Pipelines`]) and the dispatches of one op per chunk
//! ([`per_chunk`]) and the bind group of one dispatch ([`encode_op`]).

use super::abi::{MgParams, WG_NODES};
use super::context::GpuContext;
use super::error::GpuError;
use super::kernels::{pipeline, Kernel, Slot};
use super::mg_kernels::{layout, MgKernel, MgOp, MgVec, PIPELINES, VECS};
use super::plan::chunks::Chunk;
use super::plan::levels::{LevelChunk, Span};
use wgpu::util::DeviceExt;

/// The fine level's buffers and the `apply_k` pipeline, owned by the PCG.
pub struct FineBuffers<'a> {
    /// The CG's chunks and their uniform parameters.
    pub uniforms: &'a [wgpu::Buffer],
    pub chunks: &'a [Chunk],
    pub nodes: &'a wgpu::Buffer,
    pub flags: &'a wgpu::Buffer,
    pub node_map: &'a wgpu::Buffer,
    pub stencil: &'a wgpu::Buffer,
    pub neighbours: &'a wgpu::Buffer,
    /// Corner fractions (sub-voxel fill) and element blocks.
    pub phi: &'a wgpu::Buffer,
    pub element: &'a wgpu::Buffer,
    pub apply_k: &'a wgpu::ComputePipeline,
    /// The CG's r (the cycle's right-hand side) and z (its result).
    pub r: &'a wgpu::Buffer,
    pub z: &'a wgpu::Buffer,
}

pub(super) struct LevelBuffers {
    pub(super) n: usize,
    pub(super) vecs: Vec<wgpu::Buffer>,
    pub(super) ids: wgpu::Buffer,
    pub(super) map: wgpu::Buffer,
    pub(super) inv_diag: Option<wgpu::Buffer>,
    pub(super) stencil: Option<(wgpu::Buffer, wgpu::Buffer)>,
}

impl LevelBuffers {
    pub(super) fn vec(&self, v: MgVec) -> &wgpu::Buffer {
        &self.vecs[VECS.iter().position(|x| *x == v).unwrap()]
    }
}

/// Storage buffers of the hierarchy: initialised from host data, or empty.
pub(super) struct Alloc<'d> {
    pub(super) device: &'d wgpu::Device,
}

impl Alloc<'_> {
    const USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
        .union(wgpu::BufferUsages::COPY_DST)
        .union(wgpu::BufferUsages::COPY_SRC);

    pub(super) fn init(&self, name: &str, contents: &[u8]) -> wgpu::Buffer {
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(name),
                contents,
                usage: Self::USAGE,
            })
    }

    pub(super) fn empty(&self, name: &str, size: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(name),
            size: size.max(4),
            usage: Self::USAGE,
            mapped_at_creation: false,
        })
    }

    /// The five vectors of level `l` with `n` nodes (the finest shares b
    /// and x with the CG's r and z).
    pub(super) fn vectors(&self, l: usize, n: usize, fine: &FineBuffers) -> Vec<wgpu::Buffer> {
        VECS.iter()
            .map(|&w| match (l, w) {
                (0, MgVec::B) => fine.r.clone(),
                (0, MgVec::X) => fine.z.clone(),
                _ => self.empty("multigrid vector", 12 * n as u64),
            })
            .collect()
    }
}

/// The buffers of a hierarchy before its V-cycle is recorded.
pub(super) struct Hierarchy {
    pub(super) levels: Vec<LevelBuffers>,
    /// Node grid size per level.
    pub(super) sizes: Vec<[usize; 3]>,
    /// The coarsest inverse, row-major f32.
    pub(super) inverse: wgpu::Buffer,
    /// Device bytes of all of it.
    pub(super) bytes: u64,
    /// Whether the node grids wrap (periodic homogenization).
    pub(super) periodic: bool,
    /// The chunks of each level and the row chunks of the coarsest
    /// inverse ([`plan_hierarchy`](super::plan::hierarchy::plan_hierarchy)).
    pub(super) chunks: Vec<Vec<LevelChunk>>,
    pub(super) rows: Vec<Span>,
    /// The Chebyshev degree of the levels below the finest
    /// ([`crate::fem::multigrid::Multigrid::coarse_degree`]).
    pub(super) coarse_degree: usize,
}

/// The compiled multigrid kernels (the rows of [`PIPELINES`]).
pub(super) struct Pipelines(Vec<(MgKernel, wgpu::ComputePipeline)>);

impl Pipelines {
    pub(super) fn new(ctx: &GpuContext) -> Result<Pipelines, GpuError> {
        let mut out = Vec::new();
        for (kernel, file, entry, bindings) in PIPELINES {
            out.push((kernel, pipeline(ctx, file, entry, &layout(bindings))?));
        }
        Ok(Pipelines(out))
    }
}

/// The dispatches of `op` (a whole level's), one per chunk of the level
/// its threads run over (the coarser one for a restriction, the row
/// chunks for the coarse solve), each with its chunk's bases.
pub(super) fn per_chunk(op: &MgOp, h: &Hierarchy) -> Vec<MgOp> {
    if op.kernel == MgKernel::CoarseSolve {
        return h
            .rows
            .iter()
            .enumerate()
            .map(|(k, r)| MgOp {
                chunk: k,
                params: MgParams {
                    n: r.len() as u32,
                    node_base: r.base,
                    cols: op.params.n,
                    ..op.params
                },
                ..*op
            })
            .collect();
    }
    let level = op.level + (op.kernel == MgKernel::Restrict) as usize;
    h.chunks[level]
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let (win, map) = match op.kernel {
                MgKernel::Restrict => c.fine.expect("a finer level"),
                MgKernel::Prolong => c.coarse.expect("a coarser level"),
                _ => c.same,
            };
            MgOp {
                chunk: k,
                params: MgParams {
                    n: c.own.len() as u32,
                    node_base: c.own.base,
                    win_base: win.base,
                    map_base: map.base,
                    ..op.params
                },
                ..*op
            }
        })
        .collect()
}

/// One dispatch `op` (of one chunk, [`per_chunk`]) on the buffers of `h`:
/// its pipeline, bind group and workgroups. `chebyshev_b`: a buffer bound
/// as a Chebyshev step's b instead of the level's (the power iteration
/// binds q).
pub(super) fn encode_op(
    ctx: &GpuContext,
    h: &Hierarchy,
    pipelines: &Pipelines,
    fine: &FineBuffers,
    op: &MgOp,
    chebyshev_b: Option<MgVec>,
) -> (wgpu::ComputePipeline, wgpu::BindGroup, u32) {
    use wgpu::BindingResource;
    let device = &ctx.device;
    let (levels, inverse) = (&h.levels, &h.inverse);
    let lv = &levels[op.level];
    let pipeline = match op.kernel {
        MgKernel::FineApply => fine.apply_k.clone(),
        k => pipelines.0.iter().find(|p| p.0 == k).unwrap().1.clone(),
    };
    let uniform = match op.kernel {
        MgKernel::FineApply => fine.uniforms[op.chunk].clone(),
        _ => device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("multigrid params"),
            contents: bytemuck::bytes_of(&op.params),
            usage: wgpu::BufferUsages::UNIFORM,
        }),
    };
    let next = levels.get(op.level + 1);
    let chunk = |l: usize| &h.chunks[l][op.chunk];
    let b_vec = chebyshev_b.unwrap_or(MgVec::B);
    let mut bindings: Vec<(u32, BindingResource)> = match op.kernel {
        MgKernel::FineApply => {
            let c = &fine.chunks[op.chunk];
            Kernel::ApplyK
                .spec()
                .bindings
                .iter()
                .enumerate()
                .map(|(k, &(slot, view, _))| {
                    let buffer = match slot {
                        Slot::Nodes => fine.nodes,
                        Slot::Flags => fine.flags,
                        Slot::NodeMap => fine.node_map,
                        Slot::Stencil => fine.stencil,
                        Slot::Neighbours => fine.neighbours,
                        Slot::P => lv.vec(op.input),
                        Slot::Q => lv.vec(MgVec::Q),
                        Slot::Phi => fine.phi,
                        Slot::Element => fine.element,
                        s => unreachable!("apply_k binds no {s:?}"),
                    };
                    (k as u32 + 1, c.binding(buffer, view, Some(slot)))
                })
                .collect()
        }
        MgKernel::Apply => {
            let c = chunk(op.level);
            let (blocks, nbrs) = lv.stencil.as_ref().expect("a stored level");
            vec![
                (1, c.own.bind(blocks, 972)),
                (2, c.own.bind(nbrs, 108)),
                (3, c.same.0.bind(lv.vec(op.input), 12)),
                (4, c.own.bind(lv.vec(MgVec::Q), 12)),
            ]
        }
        MgKernel::Chebyshev => {
            let own = chunk(op.level).own;
            let inv_diag = lv.inv_diag.as_ref().expect("a smoothed level");
            vec![
                (1, own.bind(lv.vec(b_vec), 12)),
                (2, own.bind(lv.vec(MgVec::Q), 12)),
                (3, own.bind(inv_diag, 36)),
                (4, own.bind(lv.vec(MgVec::R), 12)),
                (5, own.bind(lv.vec(MgVec::D), 12)),
                (6, own.bind(lv.vec(MgVec::X), 12)),
            ]
        }
        MgKernel::Residual => {
            let own = chunk(op.level).own;
            vec![
                (1, own.bind(lv.vec(MgVec::B), 12)),
                (2, own.bind(lv.vec(MgVec::Q), 12)),
                (4, own.bind(lv.vec(MgVec::R), 12)),
            ]
        }
        MgKernel::Restrict => {
            let (cl, c) = (next.expect("a coarser level"), chunk(op.level + 1));
            let (win, map) = c.fine.expect("a finer level");
            vec![
                (1, c.own.bind(&cl.ids, 4)),
                (2, map.bind(&lv.map, 4)),
                (3, win.bind(lv.vec(MgVec::R), 12)),
                (4, c.own.bind(cl.vec(MgVec::B), 12)),
            ]
        }
        MgKernel::Prolong => {
            let (cl, c) = (next.expect("a coarser level"), chunk(op.level));
            let (win, map) = c.coarse.expect("a coarser level");
            vec![
                (1, c.own.bind(&lv.ids, 4)),
                (2, map.bind(&cl.map, 4)),
                (3, win.bind(cl.vec(MgVec::X), 12)),
                (4, c.own.bind(lv.vec(MgVec::X), 12)),
            ]
        }
        MgKernel::CoarseSolve => {
            let rows = h.rows[op.chunk];
            vec![
                (1, rows.bind(inverse, 4 * op.params.cols as u64)),
                (2, lv.vec(MgVec::B).as_entire_binding()),
                (3, lv.vec(MgVec::X).as_entire_binding()),
            ]
        }
    };
    bindings.insert(0, (0, uniform.as_entire_binding()));
    let entries: Vec<wgpu::BindGroupEntry> = bindings
        .into_iter()
        .map(|(binding, resource)| wgpu::BindGroupEntry { binding, resource })
        .collect();
    let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("multigrid"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    });
    // One thread per node (per row for the coarse solve).
    let groups = match op.kernel {
        MgKernel::FineApply => Kernel::ApplyK.groups(&fine.chunks[op.chunk].params),
        _ => op.params.n.div_ceil(WG_NODES),
    };
    (pipeline, group, groups)
}
