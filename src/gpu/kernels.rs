//! The binding and kernel table: the buffers of a problem ([`Slot`]), the
//! PCG kernels ([`Kernel`]) with their WGSL file, entry point, workgroup
//! size ([`WG_NODES`], [`WG_DOFS`], [`WG_REDUCE`], from [`super::abi`]) and bindings (how each
//! slot is bound per chunk, [`View`], and whether the kernel only reads
//! it, [`Access`]); the bind-group layouts spelled out from the table
//! ([`Kernel::layout`], [`uniform_entry`], [`storage_entry`]), the
//! workgroups each dispatch needs ([`Kernel::groups`]), and [`pipeline`],
//! which compiles one entry point against its layout. `gpu::wgsl_checks`
//! compares the table with the WGSL.

use super::abi::{GpuParams, SCALARS, WG_DOFS, WG_NODES, WG_REDUCE};
use super::context::GpuContext;
use super::error::GpuError;
use super::shaders;

/// How a kernel binds a buffer for one chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    /// The whole buffer.
    Whole,
    /// The chunk's nodes (bytes per node).
    Own(u64),
    /// The chunk's neighbour window (bytes per node), or for the node map
    /// its window of grid ids.
    Window(u64),
}

/// The buffers of one problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    Nodes,
    Flags,
    NodeMap,
    Stencil,
    Neighbours,
    X,
    R,
    P,
    Q,
    InvDiag,
    Partials,
    Scalars,
    /// z = M⁻¹ r (multigrid only).
    Z,
    /// Sub-voxel fill: φ of the 8 voxels around each node (8 f32 a node;
    /// 32 bytes, unused, under binary fill).
    Phi,
    /// The element stiffness as 64 3×3 blocks, `[8a + b][9]` f32.
    Element,
}

pub(super) const SLOTS: [Slot; 15] = [
    Slot::Nodes,
    Slot::Flags,
    Slot::NodeMap,
    Slot::Stencil,
    Slot::Neighbours,
    Slot::X,
    Slot::R,
    Slot::P,
    Slot::Q,
    Slot::InvDiag,
    Slot::Partials,
    Slot::Scalars,
    Slot::Z,
    Slot::Phi,
    Slot::Element,
];

impl Slot {
    /// The smallest binding of the buffer a kernel may be given, its layout
    /// entry's `min_binding_size`.
    pub(crate) fn min_bytes(self) -> u64 {
        match self {
            // Every occupancy pattern's 27 blocks of 3×3 f32.
            Slot::Stencil => 4 * 256 * 27 * 9,
            // One mask per occupancy pattern.
            Slot::Neighbours => 4 * 256,
            Slot::Scalars => 4 * SCALARS as u64,
            // 64 blocks of 3×3 f32.
            Slot::Element => 4 * 64 * 9,
            // One element: an empty chunk still binds 4 bytes.
            _ => 4,
        }
    }
}

/// The kernels (entry points).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    ApplyK,
    JacobiDiag,
    DotPartial,
    ReduceAlpha,
    UpdateXr,
    ReduceBeta,
    ReduceStart,
    UpdateP,
    /// Multigrid: partial sums of r·z and r·r.
    DotPair,
    /// Multigrid: p = z + βp.
    UpdatePz,
    /// Multigrid: the dispatches of one V-cycle, z = M⁻¹ r
    /// ([`GpuMultigrid`](super::multigrid::GpuMultigrid)).
    VCycle,
}

pub(super) const KERNEL_LIST: [Kernel; 10] = [
    Kernel::ApplyK,
    Kernel::JacobiDiag,
    Kernel::DotPartial,
    Kernel::ReduceAlpha,
    Kernel::UpdateXr,
    Kernel::ReduceBeta,
    Kernel::ReduceStart,
    Kernel::UpdateP,
    Kernel::DotPair,
    Kernel::UpdatePz,
];

/// How a kernel uses a storage buffer: `var<storage, read>` or
/// `var<storage, read_write>` in its WGSL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    ReadWrite,
}

/// One row of the kernel table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KernelSpec {
    /// The WGSL file in `shaders/`.
    pub file: &'static str,
    /// The entry point.
    pub entry: &'static str,
    /// Its `@workgroup_size` (x; y and z are 1).
    pub workgroup_size: u32,
    /// Bindings 1.. in order: the buffer, how it is bound per chunk, and
    /// how the kernel uses it. Binding 0 is the uniform [`GpuParams`].
    pub bindings: &'static [(Slot, View, Access)],
}

impl Kernel {
    /// The kernel's row of the table.
    pub(super) fn spec(self) -> KernelSpec {
        use Access::*;
        use Slot::*;
        use View::*;
        const V: u64 = 12;
        let (file, entry, workgroup_size, bindings): (_, _, _, &'static [_]) = match self {
            Kernel::ApplyK => (
                "apply_k.wgsl",
                "apply_k",
                WG_NODES,
                &[
                    (Nodes, Own(4), Read),      // 1 nodes: grid id of each node of the chunk
                    (Flags, Window(4), Read),   // 2 flags: pattern | fixed dofs
                    (NodeMap, Window(4), Read), // 3 node_map: active index per grid id
                    (Stencil, Whole, Read),     // 4 stencil: [pattern][27][9]
                    (Neighbours, Whole, Read),  // 5 neighbours: non-zero blocks per pattern
                    (P, Window(V), Read),       // 6 x: the vector applied to
                    (Q, Own(V), ReadWrite),     // 7 y = A x
                    (Phi, Own(32), Read),       // 8 phi: 8 corner fractions per node
                    (Element, Whole, Read),     // 9 element: [8a + b][9]
                ],
            ),
            Kernel::JacobiDiag => (
                "jacobi_diag.wgsl",
                "jacobi_diag",
                WG_NODES,
                &[
                    (Flags, Own(4), Read),        // 1 flags
                    (Stencil, Whole, Read),       // 2 stencil
                    (InvDiag, Own(V), ReadWrite), // 3 inv_diag = 1 / diag(A)
                    (Phi, Own(32), Read),         // 4 phi
                    (Element, Whole, Read),       // 5 element
                ],
            ),
            Kernel::DotPartial => (
                "dot_partial.wgsl",
                "dot_partial",
                WG_REDUCE,
                &[
                    (P, Own(V), Read),            // 1 a
                    (Q, Own(V), Read),            // 2 b
                    (Partials, Whole, ReadWrite), // 3 partials of a·b
                ],
            ),
            Kernel::ReduceAlpha => (
                "reduce_alpha.wgsl",
                "reduce_alpha",
                WG_REDUCE,
                &[
                    (Partials, Whole, Read),     // 1 partials of p·q
                    (Scalars, Whole, ReadWrite), // 2 scalars: PQ, ALPHA, BREAKDOWN
                ],
            ),
            Kernel::UpdateXr => (
                "update_xr.wgsl",
                "update_xr",
                WG_REDUCE,
                &[
                    (Scalars, Whole, Read),       // 1 scalars: ALPHA
                    (P, Own(V), Read),            // 2 p
                    (Q, Own(V), Read),            // 3 q
                    (InvDiag, Own(V), Read),      // 4 inv_diag
                    (X, Own(V), ReadWrite),       // 5 x += α p
                    (R, Own(V), ReadWrite),       // 6 r −= α q
                    (Partials, Whole, ReadWrite), // 7 partials of r·D⁻¹r and r·r
                ],
            ),
            Kernel::ReduceBeta => (
                "reduce_beta.wgsl",
                "reduce_beta",
                WG_REDUCE,
                &[
                    (Partials, Whole, Read),     // 1 partials of r·z and r·r
                    (Scalars, Whole, ReadWrite), // 2 scalars: RHO, RHO_NEW, RR, BETA
                ],
            ),
            Kernel::ReduceStart => (
                "reduce_beta.wgsl",
                "reduce_start",
                WG_REDUCE,
                &[
                    (Partials, Whole, Read),     // 1 partials of r·z and r·r
                    (Scalars, Whole, ReadWrite), // 2 scalars: all reset
                ],
            ),
            Kernel::UpdateP => (
                "update_p.wgsl",
                "update_p",
                WG_DOFS,
                &[
                    (Scalars, Whole, Read),  // 1 scalars: BETA
                    (R, Own(V), Read),       // 2 r
                    (InvDiag, Own(V), Read), // 3 inv_diag
                    (P, Own(V), ReadWrite),  // 4 p = D⁻¹ r + β p
                ],
            ),
            Kernel::DotPair => (
                "dot_partial.wgsl",
                "dot_pair",
                WG_REDUCE,
                &[
                    (R, Own(V), Read),            // 1 a = r
                    (Z, Own(V), Read),            // 2 b = z
                    (Partials, Whole, ReadWrite), // 3 partials of r·z and r·r
                ],
            ),
            Kernel::UpdatePz => (
                "update_pz.wgsl",
                "update_pz",
                WG_DOFS,
                &[
                    (Scalars, Whole, Read), // 1 scalars: BETA
                    (Z, Own(V), Read),      // 2 z
                    (P, Own(V), ReadWrite), // 3 p = z + β p
                ],
            ),
            Kernel::VCycle => unreachable!("the V-cycle is a list of dispatches, not one kernel"),
        };
        KernelSpec {
            file,
            entry,
            workgroup_size,
            bindings,
        }
    }

    /// The kernel's bind-group layout: binding 0 the uniform [`GpuParams`],
    /// then one storage entry per row of its bindings.
    pub(crate) fn layout(self) -> Vec<wgpu::BindGroupLayoutEntry> {
        let spec = self.spec();
        let storage = spec
            .bindings
            .iter()
            .enumerate()
            .map(|(k, &(slot, _, access))| storage_entry(k as u32 + 1, access, slot.min_bytes()));
        std::iter::once(uniform_entry(std::mem::size_of::<GpuParams>() as u64))
            .chain(storage)
            .collect()
    }

    /// Whether the kernel is only built for the multigrid iteration.
    pub(super) fn is_multigrid(self) -> bool {
        matches!(self, Kernel::DotPair | Kernel::UpdatePz | Kernel::VCycle)
    }

    /// Whether the kernel runs once over the whole mesh (the second
    /// reduction passes) rather than once per chunk.
    pub(super) fn is_global(self) -> bool {
        matches!(
            self,
            Kernel::ReduceAlpha | Kernel::ReduceBeta | Kernel::ReduceStart
        )
    }

    /// Workgroups of a kernel's dispatch over the chunk with parameters
    /// `p`: one thread per node ([`WG_NODES`] a workgroup) or per dof
    /// ([`WG_DOFS`]), one workgroup per partial sum for the first reduction
    /// passes and one for the second.
    pub(crate) fn groups(self, p: &GpuParams) -> u32 {
        match self {
            Kernel::ApplyK | Kernel::JacobiDiag => p.n_nodes.div_ceil(self.spec().workgroup_size),
            Kernel::DotPartial | Kernel::UpdateXr | Kernel::DotPair => p.chunk_partials,
            Kernel::ReduceAlpha | Kernel::ReduceBeta | Kernel::ReduceStart | Kernel::VCycle => 1,
            Kernel::UpdateP | Kernel::UpdatePz => p.n_dofs.div_ceil(self.spec().workgroup_size),
        }
    }
}

/// The layout entry of binding 0, the uniform parameters (`bytes` long).
pub(crate) fn uniform_entry(bytes: u64) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding: 0,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: false,
            min_binding_size: wgpu::BufferSize::new(bytes),
        },
        count: None,
    }
}

/// The layout entry of a storage buffer at `binding`, at least `min_bytes` long.
pub(crate) fn storage_entry(
    binding: u32,
    access: Access,
    min_bytes: u64,
) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage {
                read_only: access == Access::Read,
            },
            has_dynamic_offset: false,
            min_binding_size: wgpu::BufferSize::new(min_bytes),
        },
        count: None,
    }
}

/// Compiles entry point `entry` of kernel file `file` with the bind-group
/// layout `entries` (group 0).
pub(crate) fn pipeline(
    ctx: &GpuContext,
    file: &str,
    entry: &str,
    entries: &[wgpu::BindGroupLayoutEntry],
) -> Result<wgpu::ComputePipeline, GpuError> {
    let device = &ctx.device;
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let source = shaders::source(file).expect("every kernel file is listed");
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(file),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let group = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(entry),
        entries,
    });
    let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(entry),
        bind_group_layouts: &[Some(&group)],
        immediate_size: 0,
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(entry),
        layout: Some(&layout),
        module: &module,
        entry_point: Some(entry),
        compilation_options: Default::default(),
        cache: None,
    });
    if let Some(e) = pollster::block_on(scope.pop()) {
        return Err(GpuError::ShaderCompile {
            name: format!("{file}::{entry}"),
            message: e.to_string(),
        });
    }
    Ok(pipeline)
}
