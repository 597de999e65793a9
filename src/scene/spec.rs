//! The serde types of a scene file's tables (`[material]`, `[lattice]`,
//! `[specimen]`, `[image]`, `[voxel]`, `[solver]`, `[sweep]`; `[load]` is in
//! `load.rs`) and their defaults. Unknown keys are rejected.

use crate::lattice::LatticeKind;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[sweep]`: `vary = ["lattice.porosity=0.45:0.88:8", ...]`, each entry
/// as `voxfe sweep --vary` takes it; `converge = { levels = 3, ratio = 1.5 }`
/// runs each case as a convergence study (`voxfe converge`); `plastic =
/// true` also runs each case's elastoplastic curve (`voxfe plastic`, its
/// `[plastic]` table) and reports σ_0.2, the limit and the first maximum.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    #[serde(default)]
    pub vary: Vec<String>,
    pub converge: Option<ConvergeSpec>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub plastic: bool,
}

/// `[sweep] converge`: the levels of each case's convergence study.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvergeSpec {
    /// Number of grids, at least 3; the scene's voxel.size the coarsest.
    #[serde(default = "default_levels")]
    pub levels: usize,
    /// Refinement ratio between levels, above 1.
    #[serde(default = "default_ratio")]
    pub ratio: f64,
}

fn default_levels() -> usize {
    3
}
fn default_ratio() -> f64 {
    1.5
}

/// `[material]`: a preset, or `E` (MPa) and `nu`; the strength of the
/// solid for the strength estimates (`crate::strength`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialSpec {
    pub preset: Option<String>,
    #[serde(rename = "E")]
    pub e: Option<f64>,
    pub nu: Option<f64>,
    /// Yield strength σ_y of the solid, MPa (default: the preset's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yield_strength: Option<f64>,
    /// Critical strain ε_c of the Pistoia criterion (default 0.007).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub critical_strain: Option<f64>,
    /// Linear isotropic hardening modulus H of the plastic solve
    /// (`voxfe plastic`), MPa (default 0: perfectly plastic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hardening: Option<f64>,
}

/// `[lattice]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatticeSpec {
    pub kind: LatticeKind,
    /// Cubic cell side M, mm (not needed for `solid`).
    pub cell: Option<f64>,
    /// Strut diameter D, mm.
    pub strut: Option<f64>,
    /// Nominal porosity, from which D (or the gyroid level) is solved.
    pub porosity: Option<f64>,
    /// Gyroid level t, −1.5 < t < 1.5.
    pub level: Option<f64>,
    /// Origin of the tiling, mm (default: the box's min corner).
    #[serde(default)]
    pub origin: [f64; 3],
    /// The scene has no `[lattice]` table (allowed for an image specimen
    /// only; not a key).
    #[serde(skip)]
    pub omitted: bool,
}

impl LatticeSpec {
    /// The lattice of a scene without a `[lattice]` table: solid, marked
    /// [`LatticeSpec::omitted`].
    pub fn omitted() -> LatticeSpec {
        LatticeSpec {
            kind: LatticeKind::Solid,
            cell: None,
            strut: None,
            porosity: None,
            level: None,
            origin: [0.0; 3],
            omitted: true,
        }
    }
}

/// Specimen envelope shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// The grid box `[0, size]`.
    Box,
    /// A cylinder along z (diameter, height, optional wedge).
    Cylinder,
    /// A closed STL mesh (path, transform) inside the grid box `size`.
    Stl,
    /// A grey-level 3D image (path; `[image]` calibration): the box is the
    /// image's extent.
    Image,
}

/// `[specimen]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecimenSpec {
    pub shape: Shape,
    /// Box and STL: the grid box `[Lx, Ly, Lz]`, mm.
    pub size: Option<[f64; 3]>,
    /// Cylinder: diameter Ø, mm.
    pub diameter: Option<f64>,
    /// Cylinder: height H at the axis, mm.
    pub height: Option<f64>,
    /// Cylinder: tilt of the top face about the x axis, degrees.
    #[serde(default)]
    pub wedge: f64,
    /// STL: path to the mesh; image: path to the image file, folder or glob
    /// of slices; relative to the scene file.
    pub path: Option<PathBuf>,
    /// STL: scale factor applied first.
    #[serde(default = "one")]
    pub scale: f64,
    /// STL: rotation angles about x, then y, then z, degrees.
    #[serde(default)]
    pub rotate: [f64; 3],
    /// STL: translation applied last, mm.
    #[serde(default)]
    pub translate: [f64; 3],
    /// Solid plates on the bottom and top faces, thickness in mm.
    #[serde(default)]
    pub end_plates: f64,
    /// Solid outer wall, thickness in mm.
    #[serde(default)]
    pub wall: f64,
    /// Holes subtracted after everything else.
    #[serde(default)]
    pub holes: Vec<HoleSpec>,
}

fn one() -> f64 {
    1.0
}

/// `[[specimen.holes]]`: a cylindrical hole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoleSpec {
    /// A point on the axis where the hole starts, mm.
    pub position: [f64; 3],
    /// Direction of the axis (need not be unit length).
    pub direction: [f64; 3],
    pub diameter: f64,
    /// Length along the direction; absent: a through hole.
    pub depth: Option<f64>,
}

/// `[image]` calibration kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CalibrationKind {
    /// Grey ≥ `threshold` is solid: binary fill.
    Threshold,
    /// φ = (grey − g0)/(g1 − g0) clamped to [0, 1], `ramp = [g0, g1]`.
    Ramp,
}

/// `[image]`: from grey value to solid fraction (image specimens only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSpec {
    pub calibration: CalibrationKind,
    /// Threshold: the grey value g from which a voxel is solid.
    pub threshold: Option<f64>,
    /// Ramp: `[g0, g1]`, g0 → φ = 0, g1 → φ = 1.
    pub ramp: Option<[f64; 2]>,
}

/// Default cap on the estimated peak memory of a run, MiB.
pub const DEFAULT_MAX_MEMORY_MB: f64 = 16384.0;

/// `[voxel]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoxelSpec {
    /// Voxel edge h, mm (NaN until resolved when absent: an image specimen
    /// takes it from its file; every other scene must give it).
    #[serde(default = "unset_size")]
    pub size: f64,
    /// Cap on the estimated peak memory of a run, MiB.
    #[serde(default = "default_max_memory")]
    pub max_memory_mb: f64,
    /// Binary (centre-sampled) voxels or sub-voxel solid fractions φₑ.
    #[serde(default)]
    pub fill: Fill,
    /// φ below which a voxel is void (`fill = "fraction"`, and images with a
    /// ramp calibration).
    #[serde(default = "default_fraction_threshold")]
    pub fraction_threshold: f64,
    /// Exponent p of the stiffness weight φₑ^p (`fill = "fraction"` only):
    /// `"auto"` (calibrated for the lattice at h, the default) or a number
    /// (1 is the spec's Voigt scaling).
    #[serde(default)]
    pub fraction_exponent: Exponent,
}

fn default_max_memory() -> f64 {
    DEFAULT_MAX_MEMORY_MB
}

fn unset_size() -> f64 {
    f64::NAN
}

impl Default for VoxelSpec {
    /// No `[voxel]` table: the size unset, the default memory cap.
    fn default() -> Self {
        VoxelSpec {
            size: unset_size(),
            max_memory_mb: default_max_memory(),
            fill: Fill::default(),
            fraction_threshold: default_fraction_threshold(),
            fraction_exponent: Exponent::default(),
        }
    }
}

fn default_fraction_threshold() -> f64 {
    crate::voxelize::fraction::DEFAULT_THRESHOLD
}

/// `voxel.fill`: how a voxel's solid content is taken (spec, "Sub-voxel
/// solid fraction").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fill {
    /// A voxel is solid when its centre is (φ ∈ {0, 1}): the classic voxel
    /// model, kept for comparison with other voxel codes.
    Binary,
    /// Each voxel carries its volume fraction φₑ inside the solid (the
    /// spec's default).
    #[default]
    Fraction,
}

impl Fill {
    /// The name as the scene spells it.
    pub fn name(self) -> &'static str {
        match self {
            Fill::Binary => "binary",
            Fill::Fraction => "fraction",
        }
    }
}

/// `voxel.fraction_exponent`: the exponent p of a fractional voxel's
/// stiffness φₑ^p·Kₑ (spec, "Sub-voxel solid fraction").
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Exponent {
    /// Calibrated for the run's lattice at its voxel size so that one
    /// periodic cell at h has the lattice's converged modulus
    /// ([`crate::calibration`]); a specimen with no lattice cell (an image,
    /// a solid) uses 1.
    #[default]
    Auto,
    /// Set by hand (1 ≤ p ≤ 4; 1 is Voigt scaling).
    Value(f64),
}

impl Exponent {
    /// The exponent set by hand, `None` for `"auto"`.
    pub fn value(self) -> Option<f64> {
        match self {
            Exponent::Auto => None,
            Exponent::Value(p) => Some(p),
        }
    }

    /// Whether the exponent is `"auto"`.
    pub fn is_auto(self) -> bool {
        self == Exponent::Auto
    }
}

impl std::fmt::Display for Exponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exponent::Auto => f.write_str("auto"),
            Exponent::Value(p) => write!(f, "{p}"),
        }
    }
}

impl From<f64> for Exponent {
    fn from(p: f64) -> Exponent {
        Exponent::Value(p)
    }
}

impl Serialize for Exponent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Exponent::Auto => s.serialize_str("auto"),
            Exponent::Value(p) => s.serialize_f64(*p),
        }
    }
}

impl<'de> Deserialize<'de> for Exponent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Exponent, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Exponent;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"auto\" or a number 1 ≤ p ≤ 4")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Exponent, E> {
                match v {
                    "auto" => Ok(Exponent::Auto),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Exponent, E> {
                Ok(Exponent::Value(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Exponent, E> {
                Ok(Exponent::Value(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Exponent, E> {
                Ok(Exponent::Value(v as f64))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Which solver runs a scene.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// The best GPU adapter, else the CPU solver.
    #[default]
    Auto,
    Gpu,
    Cpu,
}

impl Backend {
    /// The name a scene gives it (`auto`, `gpu`, `cpu`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Gpu => "gpu",
            Backend::Cpu => "cpu",
        }
    }
}

/// `[solver]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolverSpec {
    #[serde(default)]
    pub backend: Backend,
    /// Substring of the adapter name to use (GPU backends).
    pub adapter: Option<String>,
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    #[serde(default = "default_max_iterations")]
    pub max_iterations: u64,
    /// GPU: read the residual back every this many iterations.
    #[serde(default = "default_check_every")]
    pub check_every: u64,
    /// `multigrid` (default) or `jacobi`, on both backends.
    #[serde(default)]
    pub preconditioner: crate::fem::Preconditioner,
    /// `hex8` (default, the spec's trilinear brick) or `incompatible`
    /// (with Wilson's incompatible modes, free of bending locking).
    #[serde(default)]
    pub element: crate::fem::hex8::Element,
}

impl SolverSpec {
    /// The solver options of both backends.
    pub fn options(&self) -> crate::fem::SolverOptions {
        crate::fem::SolverOptions {
            tolerance: self.tolerance,
            max_iterations: self.max_iterations as usize,
            check_every: self.check_every as usize,
            preconditioner: self.preconditioner,
            element: self.element,
        }
    }
}

fn default_tolerance() -> f64 {
    1e-6
}
fn default_max_iterations() -> u64 {
    20000
}
fn default_check_every() -> u64 {
    25
}

impl Default for SolverSpec {
    fn default() -> Self {
        SolverSpec {
            backend: Backend::Auto,
            adapter: None,
            tolerance: default_tolerance(),
            max_iterations: default_max_iterations(),
            preconditioner: Default::default(),
            element: Default::default(),
            check_every: default_check_every(),
        }
    }
}

/// `[as_built]`: the knockdown model of the printing process, fitted to
/// measured tests by `voxfe fit`: `from = "fit.json"` (the fit's JSON,
/// relative to the scene file), or the model inline: `model` and its
/// parameters `k`, `m` (power-law), `strut_offset` (mm, strut-offset),
/// with `loo_error` (the fit's leave-one-out error, a fraction) and the
/// tested `porosity_range`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsBuiltSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub m: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strut_offset: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loo_error: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub porosity_range: Option<[f64; 2]>,
}
