//! Load cases (see `shared/spec/conventions.md`, "Load cases").

use std::sync::Arc;

use serde::Serialize;

use crate::grid::VoxelGrid;

/// Platen contact in uniaxial compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Platens {
    /// Only u_z is prescribed on the loaded faces (plus two rigid-body nodes).
    Frictionless,
    /// u_x = u_y = 0 on every loaded-face node as well.
    Bonded,
}

/// A load case with its lengths resolved (mm).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadCase {
    /// Uniaxial compression along z between platens at z = 0 and z = Lz.
    Compression { platens: Platens },
    /// Three-point bending of a bar along x: support span S, contact width c.
    ThreePointBending { span: f64, contact: f64 },
    /// Compression of an implant between its endplates: the bottommost and
    /// topmost active node of every (x, y) column, where that node lies on
    /// the envelope's bottom (top) surface, within one voxel layer (see
    /// [`EnvelopeColumns`]). `footprint_area` (mm²) and `height` (mm) of the
    /// envelope give the apparent modulus k·H/A.
    ImplantCompression {
        platens: Platens,
        footprint_area: f64,
        height: f64,
        /// The envelope's surfaces; `None` loads every column's extreme nodes.
        #[serde(skip)]
        envelope: Option<Arc<EnvelopeColumns>>,
    },
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
