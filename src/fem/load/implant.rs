//! Compression of an implant between its endplates.
//!
//! The platens press on the bottommost and topmost active node of every
//! (x, y) node column, where that node lies on the envelope's bottom (top)
//! surface, within one voxel layer ([`EnvelopeColumns`]): a wedged face
//! steps by one layer between neighbouring columns, and where a screw hole
//! breaks through an end plate its floor is not loaded as if the vertebra
//! reached into the hole. The platen conditions are those of
//! [`super::compression`] (frictionless or bonded), δ = 0.001·Lz.
//!
//! Reported: the axial stiffness k = F/δ (N/mm) and the apparent modulus
//! k·H/A with the envelope's footprint area A and height H; nominal stress
//! F/A. Strength: the first-yield and Pistoia failure loads, and the
//! failure load's stress over the footprint F_fail/A.

use super::{
    compression, on_face, BcError, Constraints, Faces, Platens, Quantities, StrengthQuantities,
};
use crate::grid::VoxelGrid;
use crate::strength::StrengthLoads;

/// The endplate constraints of an implant (`envelope`: its surfaces;
/// `None` loads every column's extreme nodes).
pub(crate) fn constraints(
    faces: &Faces,
    platens: Platens,
    envelope: Option<&EnvelopeColumns>,
) -> Result<Constraints, BcError> {
    let (bottom, top) = endplates(faces, envelope);
    let bottom = on_face(bottom, "envelope's bottom surface", "the lower platen")?;
    let top = on_face(top, "envelope's top surface", "the upper platen")?;
    compression::platen_constraints(faces, platens, bottom, top)
}

/// The bottommost and topmost active node of every (x, y) column that lies
/// on the envelope's bottom (top) surface, each list sorted.
fn endplates(faces: &Faces, envelope: Option<&EnvelopeColumns>) -> (Vec<usize>, Vec<usize>) {
    let mesh = faces.mesh;
    let [nx, ny, _] = mesh.dims;
    let columns = (nx + 1) * (ny + 1);
    let mut low = vec![usize::MAX; columns];
    let mut high = vec![usize::MAX; columns];
    for a in 0..mesh.len() {
        // Active nodes come in grid-id order: z increases last.
        let col = mesh.nodes[a] as usize % columns;
        if low[col] == usize::MAX {
            low[col] = a;
        }
        high[col] = a;
    }
    let layer = |a: usize| mesh.coords(a)[2] as u32;
    let mut bottom = Vec::new();
    let mut top = Vec::new();
    for col in 0..columns {
        let (lo, hi) = (low[col], high[col]);
        if lo == usize::MAX || lo == hi {
            continue;
        }
        match envelope {
            Some(env) => {
                // Within one layer of the surface: a wedged face steps by
                // one layer between neighbouring columns.
                if layer(lo) <= env.low[col].saturating_add(1) {
                    bottom.push(lo);
                }
                if layer(hi) + 1 >= env.high[col] {
                    top.push(hi);
                }
            }
            None => {
                bottom.push(lo);
                top.push(hi);
            }
        }
    }
    bottom.sort_unstable();
    top.sort_unstable();
    (bottom, top)
}

/// k = F/δ, the apparent modulus k·H/A and the nominal stress F/A.
pub fn quantities(force: f64, delta: f64, footprint_area: f64, height: f64) -> Quantities {
    let stiffness = force / delta;
    Quantities {
        stiffness: Some(stiffness),
        apparent_modulus: Some(stiffness * height / footprint_area),
        nominal_stress: force / footprint_area,
        ..Default::default()
    }
}

/// The first-yield and failure loads, and the failure load over the
/// footprint area A (mm²).
pub fn strength(loads: &StrengthLoads, footprint_area: f64) -> StrengthQuantities {
    StrengthQuantities {
        yield_load: loads.yield_load,
        failure_load: loads.failure_load,
        failure_stress: loads.failure_load.map(|f| f / footprint_area),
        ..Default::default()
    }
}

/// Per node column (i, j), the lowest and highest node layer of the
/// envelope's voxels that touch it: where a rigid platen pressed on the
/// envelope's bottom and top faces can touch the solid.
///
/// A column's bottommost (topmost) active node bears on the platen only when
/// it lies within one layer of the envelope's bottom (top) surface there.
/// Without that test a column that only meets a strut half-way up — or an
/// end plate whose lattice fell apart at a coarse voxel size — would be
/// squeezed through its own thickness, a load path that does not exist.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvelopeColumns {
    /// Node dimensions in x and y: columns are `i + (nx + 1)·j`.
    pub columns: [usize; 2],
    /// Lowest envelope node layer per column (`u32::MAX`: no envelope).
    pub low: Vec<u32>,
    /// Highest envelope node layer per column (0 where there is none).
    pub high: Vec<u32>,
}

impl EnvelopeColumns {
    /// The columns of the envelope `mask` (solid = inside the envelope).
    pub fn from_mask(mask: &VoxelGrid) -> EnvelopeColumns {
        let [nx, ny, nz] = mask.dims;
        let columns = [nx + 1, ny + 1];
        let mut low = vec![u32::MAX; columns[0] * columns[1]];
        let mut high = vec![0u32; columns[0] * columns[1]];
        for j in 0..ny {
            for i in 0..nx {
                let Some(k0) = (0..nz).find(|&k| mask.is_solid(i, j, k)) else {
                    continue;
                };
                let k1 = (0..nz).rev().find(|&k| mask.is_solid(i, j, k)).unwrap() + 1;
                for (di, dj) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let c = (i + di) + columns[0] * (j + dj);
                    low[c] = low[c].min(k0 as u32);
                    high[c] = high[c].max(k1 as u32);
                }
            }
        }
        EnvelopeColumns { columns, low, high }
    }
}
