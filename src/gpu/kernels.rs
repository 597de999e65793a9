//! The binding and kernel table: the buffers of a problem ([`Slot`]), the
//! PCG kernels ([`Kernel`]) with their WGSL file, entry point and bindings
//! (how each slot is bound per chunk, [`View`]), the workgroups each
//! dispatch needs ([`Kernel::groups`]), and [`pipeline`], which compiles one
//! entry point.

use super::{shaders, GpuContext, GpuError, GpuParams};

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
}

pub(super) const SLOTS: [Slot; 13] = [
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
];

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

impl Kernel {
    /// (WGSL file, entry point, bindings 1.. as slots and views; binding 0
    /// is the uniform).
    pub(super) fn spec(self) -> (&'static str, &'static str, &'static [(Slot, View)]) {
        use Slot::*;
        use View::*;
        const V: u64 = 12;
        match self {
            Kernel::ApplyK => (
                "apply_k.wgsl",
                "apply_k",
                &[
                    (Nodes, Own(4)),
                    (Flags, Window(4)),
                    (NodeMap, Window(4)),
                    (Stencil, Whole),
                    (Neighbours, Whole),
                    (P, Window(V)),
                    (Q, Own(V)),
                ],
            ),
            Kernel::JacobiDiag => (
                "jacobi_diag.wgsl",
                "jacobi_diag",
                &[(Flags, Own(4)), (Stencil, Whole), (InvDiag, Own(V))],
            ),
            Kernel::DotPartial => (
                "dot_partial.wgsl",
                "dot_partial",
                &[(P, Own(V)), (Q, Own(V)), (Partials, Whole)],
            ),
            Kernel::ReduceAlpha => (
                "reduce_alpha.wgsl",
                "reduce_alpha",
                &[(Partials, Whole), (Scalars, Whole)],
            ),
            Kernel::UpdateXr => (
                "update_xr.wgsl",
                "update_xr",
                &[
                    (Scalars, Whole),
                    (P, Own(V)),
                    (Q, Own(V)),
                    (InvDiag, Own(V)),
                    (X, Own(V)),
                    (R, Own(V)),
                    (Partials, Whole),
                ],
            ),
            Kernel::ReduceBeta => (
                "reduce_beta.wgsl",
                "reduce_beta",
                &[(Partials, Whole), (Scalars, Whole)],
            ),
            Kernel::ReduceStart => (
                "reduce_beta.wgsl",
                "reduce_start",
                &[(Partials, Whole), (Scalars, Whole)],
            ),
            Kernel::UpdateP => (
                "update_p.wgsl",
                "update_p",
                &[
                    (Scalars, Whole),
                    (R, Own(V)),
                    (InvDiag, Own(V)),
                    (P, Own(V)),
                ],
            ),
            Kernel::DotPair => (
                "dot_partial.wgsl",
                "dot_pair",
                &[(R, Own(V)), (Z, Own(V)), (Partials, Whole)],
            ),
            Kernel::UpdatePz => (
                "update_pz.wgsl",
                "update_pz",
                &[(Scalars, Whole), (Z, Own(V)), (P, Own(V))],
            ),
            Kernel::VCycle => unreachable!("the V-cycle is a list of dispatches, not one kernel"),
        }
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

    /// Workgroups of a kernel's dispatch over the chunk with parameters `p`.
    pub(crate) fn groups(self, p: &GpuParams) -> u32 {
        match self {
            Kernel::ApplyK | Kernel::JacobiDiag => p.n_nodes.div_ceil(64),
            Kernel::DotPartial | Kernel::UpdateXr | Kernel::DotPair => p.chunk_partials,
            Kernel::ReduceAlpha | Kernel::ReduceBeta | Kernel::ReduceStart | Kernel::VCycle => 1,
            Kernel::UpdateP | Kernel::UpdatePz => p.n_dofs.div_ceil(256),
        }
    }
}

/// Compiles entry point `entry` of kernel file `file`.
pub(crate) fn pipeline(
    ctx: &GpuContext,
    file: &str,
    entry: &str,
) -> Result<wgpu::ComputePipeline, GpuError> {
    let device = &ctx.device;
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let source = shaders::source(file).expect("every kernel file is listed");
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(file),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(entry),
        layout: None,
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
