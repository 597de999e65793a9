//! The device multigrid's plan before anything is allocated: every
//! buffer of the hierarchy checked against `max_buffer_size`, and the
//! chunks of its levels and of the coarsest inverse
//! ([`plan_hierarchy`]).

use super::chunks::Chunk;
use super::levels::{plan_levels, row_chunks, LevelChunk, LevelShape, Span};
use crate::gpu::context::GpuContext;
use crate::gpu::error::GpuError;

/// The chunks of a hierarchy and its device bytes, before anything is
/// allocated: the levels' `shapes` (finest first) split over bindings of
/// the adapter's `max_storage_buffer_binding_size` ([`plan_levels`],
/// [`row_chunks`]), every buffer checked against `max_buffer_size`.
pub(crate) fn plan_hierarchy(
    ctx: &GpuContext,
    shapes: &[LevelShape],
    fine_chunks: &[Chunk],
    fill: bool,
    periodic: bool,
) -> Result<Plan, GpuError> {
    let lim = &ctx.limits;
    let (limit, align) = (
        lim.max_storage_buffer_binding_size,
        lim.min_storage_buffer_offset_alignment as u64,
    );
    let depth = shapes.len();
    let nc = 3 * shapes[depth - 1].ids.len() as u64;
    let mut bytes = 0;
    let mut check = |name: &'static str, b: u64| -> Result<(), GpuError> {
        ctx.fits_buffer(name, b)?;
        bytes += b;
        Ok(())
    };
    check("coarsest inverse", 4 * nc * nc)?;
    for (l, shape) in shapes.iter().enumerate() {
        let n = shape.ids.len() as u64;
        let vectors = if l == 0 { 3 } else { 5 };
        for _ in 0..vectors {
            check("multigrid vector", 12 * n)?;
        }
        if l > 0 || periodic {
            check("multigrid node ids", 4 * n)?;
            check("multigrid node map", 4 * shape.map_len as u64)?;
        }
        if l > 0 {
            check("multigrid stencil blocks", 4 * 27 * 9 * n)?;
            check("multigrid stencil neighbours", 4 * 27 * n)?;
        }
        if l + 1 < depth {
            check("multigrid inverse diagonal blocks", 36 * n)?;
        }
    }
    Ok(Plan {
        chunks: plan_levels(shapes, fine_chunks, fill, periodic, limit, align)?,
        rows: row_chunks(nc as usize, limit, align)?,
        bytes,
    })
}

/// What [`plan_hierarchy`] gives.
pub(crate) struct Plan {
    /// The chunks of each level, finest first.
    pub(crate) chunks: Vec<Vec<LevelChunk>>,
    /// The row chunks of the coarsest inverse.
    pub(crate) rows: Vec<Span>,
    /// Device bytes of every buffer of the hierarchy.
    pub(crate) bytes: u64,
}
