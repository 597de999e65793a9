//! Load cases (see `shared/spec/conventions.md`, "Load cases").

use serde::Serialize;

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
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadCase {
    /// Uniaxial compression along z between platens at z = 0 and z = Lz.
    Compression { platens: Platens },
    /// Three-point bending of a bar along x: support span S, contact width c.
    ThreePointBending { span: f64, contact: f64 },
    /// Compression of an implant between its endplates: the bottommost and
    /// topmost active node of every (x, y) column. `footprint_area` (mm²)
    /// and `height` (mm) of the envelope give the apparent modulus k·H/A.
    ImplantCompression {
        platens: Platens,
        footprint_area: f64,
        height: f64,
    },
}
