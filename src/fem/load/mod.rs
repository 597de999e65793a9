//! Load cases (`shared/spec/conventions.md`, "Load cases"): each case has
//! one home, a module that holds its boundary conditions, its reported
//! quantities with their formulas, and its defaults:
//!
//! - [`compression`]: uniaxial compression between platens,
//!   E_eff = (F / (Lx·Ly)) / (δ / Lz);
//! - [`bending`]: three-point bending of a bar along x,
//!   E_f = F·S³ / (4·w·t³·δ), σ_f = 3·F·S / (2·w·t²);
//! - [`implant`]: compression of an implant between its endplates,
//!   k = F/δ and the apparent modulus k·H/A.
//!
//! Each case also names its strength quantities ([`StrengthQuantities`])
//! from the first-yield and Pistoia loads of [`crate::strength`]: yield and
//! failure stress on the gross section in compression, the flexural
//! strength σ_f(F_y) in bending, the failure load and its stress over the
//! footprint for an implant.
//!
//! A periodic cell ([`LoadCase::Periodic`]) is the fourth case a scene
//! names: it is homogenized ([`crate::homogenize`]), not loaded, so it
//! imposes no constraints here and reports none of these quantities.
//!
//! This module holds what they share: the [`LoadCase`] type, the one type
//! of a load from the scene's `[load]` (`crate::scene::Scene::load_case`,
//! which fills in the defaults) to the solver, its name, the
//! [`Constraints`] it imposes on a mesh and the [`Quantities`] it reports
//! from the reaction force.

pub mod bending;
pub mod compression;
pub mod implant;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::fem::mesh::ActiveMesh;
pub use implant::EnvelopeColumns;

/// Platen contact in uniaxial and implant compression (`load.platens`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Platens {
    /// Only u_z is prescribed on the loaded faces (plus two rigid-body nodes).
    #[default]
    Frictionless,
    /// u_x = u_y = 0 on every loaded-face node as well.
    Bonded,
}

/// A load case with its defaults and lengths resolved (mm).
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
    /// Periodic homogenization of whole lattice cells: C^H under six unit
    /// strains (spec, "Periodic homogenization"); no constraints of this
    /// module.
    Periodic,
}

/// Prescribed displacements and the loaded nodes.
#[derive(Debug, Clone)]
pub struct Constraints {
    /// Per active node, bit c set when dof 3n + c is prescribed.
    pub fixed: Vec<u8>,
    /// Prescribed non-zero values `(dof, value)`; other fixed dofs are 0.
    pub values: Vec<(usize, f64)>,
    /// Nodes whose z reactions sum to the reaction force (u_z = −δ).
    pub loaded: Vec<usize>,
    /// Applied displacement δ, mm.
    pub delta: f64,
    /// Three-point bending: x-extent of the loading strip's nodes, mm.
    pub contact_width: Option<f64>,
}

impl Constraints {
    /// Number of prescribed degrees of freedom.
    pub fn fixed_count(&self) -> usize {
        self.fixed.iter().map(|f| f.count_ones() as usize).sum()
    }
}

/// Why boundary conditions could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BcError {
    #[error("no load path: no active node lies on the {face} ({what}); the solid kept after removing disconnected voxels does not reach it (check lattice.origin, the specimen size, and whether the voxel size resolves the struts: see removed_voxels and D/h)")]
    NoLoadPath {
        face: &'static str,
        what: &'static str,
    },
    #[error("a periodic cell (load.case = \"periodic\") is homogenized, not loaded: it has no boundary conditions of a load case")]
    Periodic,
    #[error("the rigid-body nodes nearest (Lx/2, Ly/2, 0) and (Lx, Ly/2, 0) coincide (node {node}): the bottom face has too few active nodes to hold the specimen")]
    RigidBodyNodes { node: usize },
}

/// What a load case reports from its reaction force F (N); each field is
/// `None` where the case does not define it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Quantities {
    /// Compression: effective modulus, MPa.
    pub e_eff: Option<f64>,
    /// Three-point bending: flexural modulus, MPa.
    pub e_flex: Option<f64>,
    /// Three-point bending: σ_f per newton of load, MPa/N.
    pub flexural_stress_per_newton: Option<f64>,
    /// Implant compression: axial stiffness k = F/δ, N/mm.
    pub stiffness: Option<f64>,
    /// Implant compression: apparent modulus k·H/A, MPa.
    pub apparent_modulus: Option<f64>,
    /// The nominal stress at load F, MPa: F/(Lx·Ly), σ_f, or F over the
    /// implant's footprint.
    pub nominal_stress: f64,
}

/// The strength quantities of a load case from the estimated loads
/// ([`crate::strength::StrengthLoads`]); each `None` where the case does not
/// define it or the estimate was not made (a solve that did not converge,
/// no yield strength).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct StrengthQuantities {
    /// First-yield load F_y, N.
    pub yield_load: Option<f64>,
    /// Compression: apparent yield stress F_y/(Lx·Ly), MPa.
    pub yield_stress: Option<f64>,
    /// Three-point bending: flexural strength 3·F_y·S/(2·w·t²), MPa.
    pub flexural_strength: Option<f64>,
    /// Pistoia failure load F_fail, N.
    pub failure_load: Option<f64>,
    /// The nominal stress at F_fail: F_fail/(Lx·Ly) in compression,
    /// 3·F_fail·S/(2·w·t²) in bending, F_fail/A over an implant's
    /// footprint, MPa.
    pub failure_stress: Option<f64>,
}

/// Bits of the fixed-dof flags.
pub(crate) const X: u8 = 1;
pub(crate) const Y: u8 = 2;
pub(crate) const Z: u8 = 4;

impl LoadCase {
    /// The scene's names of the cases (`load.case`), in the order of the
    /// variants.
    pub const NAMES: [&'static str; 4] = [
        "compression",
        "three-point-bending",
        "implant-compression",
        "periodic",
    ];

    /// The scene's name of the case (`load.case`, the JSON `load_case`).
    pub fn name(&self) -> &'static str {
        let i = match self {
            LoadCase::Compression { .. } => 0,
            LoadCase::ThreePointBending { .. } => 1,
            LoadCase::ImplantCompression { .. } => 2,
            LoadCase::Periodic => 3,
        };
        Self::NAMES[i]
    }

    /// Whether the case is a periodic cell (homogenized, not loaded).
    pub fn is_periodic(&self) -> bool {
        matches!(self, LoadCase::Periodic)
    }

    /// The boundary conditions of the case on `mesh`; a periodic cell has
    /// none ([`BcError::Periodic`]).
    pub fn constraints(&self, mesh: &ActiveMesh) -> Result<Constraints, BcError> {
        let faces = Faces::new(mesh);
        match self {
            LoadCase::Periodic => Err(BcError::Periodic),
            &LoadCase::Compression { platens } => compression::constraints(&faces, platens),
            &LoadCase::ThreePointBending { span, contact } => {
                bending::constraints(&faces, span, contact)
            }
            LoadCase::ImplantCompression {
                platens, envelope, ..
            } => implant::constraints(&faces, *platens, envelope.as_deref()),
        }
    }

    /// The reported quantities for reaction `force` (N) at displacement
    /// `delta` (mm) on a specimen box of `size` (mm); none of a periodic
    /// cell (its nominal stress NaN).
    pub fn quantities(&self, force: f64, delta: f64, size: [f64; 3]) -> Quantities {
        match self {
            LoadCase::Periodic => Quantities {
                nominal_stress: f64::NAN,
                ..Quantities::default()
            },
            LoadCase::Compression { .. } => compression::quantities(force, delta, size),
            &LoadCase::ThreePointBending { span, .. } => {
                bending::quantities(force, delta, size, span)
            }
            &LoadCase::ImplantCompression {
                footprint_area,
                height,
                ..
            } => implant::quantities(force, delta, footprint_area, height),
        }
    }
}

impl LoadCase {
    /// The strength quantities at the estimated `loads` on a specimen box
    /// of `size` (mm); none of a periodic cell.
    pub fn strength(
        &self,
        loads: &crate::strength::StrengthLoads,
        size: [f64; 3],
    ) -> StrengthQuantities {
        match self {
            LoadCase::Periodic => StrengthQuantities::default(),
            LoadCase::Compression { .. } => compression::strength(loads, size),
            &LoadCase::ThreePointBending { span, .. } => bending::strength(loads, size, span),
            &LoadCase::ImplantCompression { footprint_area, .. } => {
                implant::strength(loads, footprint_area)
            }
        }
    }
}

/// Applies `load` on `mesh`.
pub fn constraints(mesh: &ActiveMesh, load: &LoadCase) -> Result<Constraints, BcError> {
    load.constraints(mesh)
}

/// The specimen box of a mesh and the node look-ups the cases share.
pub(crate) struct Faces<'m> {
    pub mesh: &'m ActiveMesh,
    /// Box size Lx, Ly, Lz, mm.
    pub size: [f64; 3],
}

impl<'m> Faces<'m> {
    fn new(mesh: &'m ActiveMesh) -> Faces<'m> {
        let [nx, ny, nz] = mesh.dims;
        let h = mesh.h;
        Faces {
            mesh,
            size: [nx as f64 * h, ny as f64 * h, nz as f64 * h],
        }
    }

    /// Active nodes on node layer z = k, in increasing order.
    pub fn on_layer(&self, k: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.mesh.len()).filter(move |&a| self.mesh.coords(a)[2] == k)
    }

    /// The node of `set` nearest `target` (Euclidean; ties: the smallest
    /// node id, i.e. the smallest active index).
    pub fn nearest(&self, set: &[usize], target: [f64; 3]) -> Option<usize> {
        set.iter().copied().min_by(|&a, &b| {
            let da = dist2(self.mesh.position(a), target);
            let db = dist2(self.mesh.position(b), target);
            da.total_cmp(&db).then(a.cmp(&b))
        })
    }
}

/// `nodes`, or [`BcError::NoLoadPath`] naming the face and what should
/// have pressed on it when there are none.
pub(crate) fn on_face(
    nodes: Vec<usize>,
    face: &'static str,
    what: &'static str,
) -> Result<Vec<usize>, BcError> {
    if nodes.is_empty() {
        Err(BcError::NoLoadPath { face, what })
    } else {
        Ok(nodes)
    }
}

fn dist2(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|c| (a[c] - b[c]).powi(2)).sum()
}
