//! The buffers of the device multigrid before its V-cycle is recorded:
//! size checks against the binding limit ([`check_sizes`]), allocation
//! ([`Alloc`]), the level buffers of a hierarchy ([`Hierarchy`]), whether
//! uploaded from the host ([`GpuMultigrid::new`]) or built on the device
//! ([`GpuMultigrid::on_device`]), the compiled kernels ([`Pipelines`]) and
//! the bind group of one dispatch ([`encode_op`]).

use super::kernels::{pipeline, WG_NODES};
#[cfg(doc)]
use super::multigrid::GpuMultigrid;
use super::multigrid::{layout, FineBuffers, LevelBuffers, MgKernel, MgOp, MgVec, PIPELINES, VECS};
use super::{GpuContext, GpuError};
use wgpu::util::DeviceExt;

/// The sizes of a hierarchy's buffers (nodes and node-map lengths per
/// level, finest first) against the binding limit: their total bytes, or a
/// typed error before anything is allocated.
pub(super) fn check_sizes(limit: u64, nodes: &[usize], maps: &[usize]) -> Result<u64, GpuError> {
    let depth = nodes.len();
    let nc = 3 * nodes[depth - 1] as u64;
    let mut bytes = 0;
    let mut check = |name: &'static str, b: u64| -> Result<(), GpuError> {
        if b > limit {
            return Err(GpuError::TooLarge {
                name,
                bytes: b,
                limit,
                what: "max_storage_buffer_binding_size: the GPU multigrid binds its buffers whole; solver.preconditioner = \"jacobi\" splits vectors into chunks",
            });
        }
        bytes += b;
        Ok(())
    };
    check("coarsest inverse", 4 * nc * nc)?;
    for l in 0..depth {
        let n = nodes[l] as u64;
        let vectors = if l == 0 { 3 } else { 5 };
        for _ in 0..vectors {
            check("multigrid vector", 12 * n)?;
        }
        if l > 0 {
            check("multigrid node ids", 4 * n)?;
            check("multigrid node map", 4 * maps[l] as u64)?;
            check("multigrid stencil blocks", 4 * 27 * 9 * n)?;
            check("multigrid stencil neighbours", 4 * 27 * n)?;
        }
        if l + 1 < depth {
            check("multigrid inverse diagonal blocks", 36 * n)?;
        }
    }
    Ok(bytes)
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

/// One dispatch `op` on the buffers of `h`: its pipeline, bind group and
/// workgroups. `chebyshev_b`: a buffer bound as a Chebyshev step's b
/// instead of the level's (the power iteration binds q).
pub(super) fn encode_op(
    ctx: &GpuContext,
    h: &Hierarchy,
    pipelines: &Pipelines,
    fine: &FineBuffers,
    op: &MgOp,
    chebyshev_b: Option<MgVec>,
) -> (wgpu::ComputePipeline, wgpu::BindGroup, u32) {
    let device = &ctx.device;
    let (levels, inverse) = (&h.levels, &h.inverse);
    let lv = &levels[op.level];
    let pipeline = match op.kernel {
        MgKernel::FineApply => fine.apply_k.clone(),
        k => pipelines.0.iter().find(|p| p.0 == k).unwrap().1.clone(),
    };
    let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("multigrid params"),
        contents: bytemuck::bytes_of(&op.params),
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let next = levels.get(op.level + 1);
    let mut bindings: Vec<(u32, &wgpu::Buffer)> = match op.kernel {
        MgKernel::FineApply => vec![
            (0, fine.params),
            (1, fine.nodes),
            (2, fine.flags),
            (3, fine.node_map),
            (4, fine.stencil),
            (5, fine.neighbours),
            (6, lv.vec(op.input)),
            (7, lv.vec(MgVec::Q)),
            (8, fine.phi),
            (9, fine.element),
        ],
        MgKernel::Apply => {
            let (blocks, nbrs) = lv.stencil.as_ref().expect("a stored level");
            vec![
                (0, &uniform),
                (1, blocks),
                (2, nbrs),
                (3, lv.vec(op.input)),
                (4, lv.vec(MgVec::Q)),
            ]
        }
        MgKernel::Chebyshev => vec![
            (0, &uniform),
            (1, lv.vec(MgVec::B)),
            (2, lv.vec(MgVec::Q)),
            (3, lv.inv_diag.as_ref().expect("a smoothed level")),
            (4, lv.vec(MgVec::R)),
            (5, lv.vec(MgVec::D)),
            (6, lv.vec(MgVec::X)),
        ],
        MgKernel::Residual => vec![
            (0, &uniform),
            (1, lv.vec(MgVec::B)),
            (2, lv.vec(MgVec::Q)),
            (4, lv.vec(MgVec::R)),
        ],
        MgKernel::Restrict => {
            let c = next.expect("a coarser level");
            vec![
                (0, &uniform),
                (1, &c.ids),
                (2, &lv.map),
                (3, lv.vec(MgVec::R)),
                (4, c.vec(MgVec::B)),
            ]
        }
        MgKernel::Prolong => {
            let c = next.expect("a coarser level");
            vec![
                (0, &uniform),
                (1, &lv.ids),
                (2, &c.map),
                (3, c.vec(MgVec::X)),
                (4, lv.vec(MgVec::X)),
            ]
        }
        MgKernel::CoarseSolve => vec![
            (0, &uniform),
            (1, inverse),
            (2, lv.vec(MgVec::B)),
            (3, lv.vec(MgVec::X)),
        ],
    };
    if let (MgKernel::Chebyshev, Some(v)) = (op.kernel, chebyshev_b) {
        bindings[1].1 = lv.vec(v);
    }
    let entries: Vec<wgpu::BindGroupEntry> = bindings
        .iter()
        .map(|&(binding, buffer)| wgpu::BindGroupEntry {
            binding,
            resource: buffer.as_entire_binding(),
        })
        .collect();
    let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("multigrid"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    });
    // One thread per node (per row for the coarse solve).
    (pipeline, group, op.params.n.div_ceil(WG_NODES))
}
