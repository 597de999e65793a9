//! Scene files: what to simulate, in TOML.
//!
//! One [`Scene::load`] reads a scene, applies `--set key=value` overrides and
//! validates every key; unknown keys are rejected. The keys (docs/scene-keys.md holds the
//! full reference):
//!
//! ```toml
//! name = "rd-80"
//! [material]            # preset = "tantalum" | "ti6al4v" | "titanium" | "cocr" | "ss316l", or E (MPa) and nu
//! preset = "tantalum"
//! yield_strength = 103.0 # σ_y, MPa (default: the preset's); critical_strain = 0.007 (Pistoia)
//! [lattice]
//! kind = "rhombic-dodecahedron"   # bcc, fcc, octet, diamond, kelvin, gyroid, solid
//! cell = 1.5            # cubic cell side M, mm
//! strut = 0.35          # strut diameter D, mm — or porosity = 0.80 (nominal) — gyroid: level = t or porosity
//! origin = [0.0, 0.0, 0.0]
//! [specimen]
//! shape = "box"         # cylinder, stl, or image (path = "scan.nrrd" and an [image] table; no lattice)
//! size = [4.5, 4.5, 4.5]   # mm
//! [image]               # image specimens only (crate::image)
//! calibration = "threshold"  # threshold = g, or "ramp" with ramp = [g0, g1]
//! [voxel]
//! size = 0.05           # h, mm
//! max_memory_mb = 16384 # cap on the estimated peak memory of a run
//! [load]
//! case = "compression"  # or "three-point-bending" (span, contact), "implant-compression", "periodic"
//! platens = "frictionless"  # or "bonded"
//! [as_built]           # optional: a knockdown fitted to tests (voxfe fit)
//! from = "fit.json"     # or model = "constant" | "power-law" | "strut-offset", k, m, strut_offset
//! [sweep]
//! vary = ["lattice.porosity=0.70:0.88:7"]
//! converge = { levels = 3, ratio = 1.5 }   # optional: each case as a convergence study
//! [solver]
//! backend = "auto"      # auto | gpu | cpu
//! tolerance = 1e-6
//! max_iterations = 20000
//! preconditioner = "multigrid"  # or "jacobi"
//! element = "hex8"            # or "incompatible" (Wilson's modes)
//! ```
//!
//! Every check names the key, the value and what is allowed
//! ([`SceneError::Invalid`]; a NaN or infinite number anywhere,
//! [`SceneError::NotFinite`], by its full key path).
//!
//! This file holds [`Scene`], its loading and [`SceneError`]; the rest of
//! the scene lives next to it: `spec.rs` the serde types of each table,
//! `edit.rs` the `key=value` overrides and the typed edits of a loaded
//! scene, `validate.rs` the checks,
//! `build.rs` the material, grid, envelope, features and lattice built from
//! a scene, `memory.rs` the estimated peak memory, and `load.rs` the
//! `[load]` table and the load case it names with its defaults
//! ([`Scene::load_case`], a [`crate::fem::load::LoadCase`]).

mod as_built;
mod build;
mod edit;
mod load;
mod memory;
mod periodic;
mod spec;
mod validate;

pub use edit::{loads, Origin, Setting};
pub use load::LoadSpec;
pub use memory::{BYTES_PER_ACTIVE_NODE, MULTIGRID_BYTES_PER_ACTIVE_NODE};
pub use spec::{
    AsBuiltSpec, Backend, CalibrationKind, ConvergeSpec, Exponent, Fill, HoleSpec, ImageSpec,
    LatticeSpec, MaterialSpec, Shape, SolverSpec, SpecimenSpec, SweepSpec, VoxelSpec,
    DEFAULT_MAX_MEMORY_MB,
};

use crate::implant::stl::StlError;
use crate::lattice::LatticeError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Why a scene could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SceneError {
    #[error("cannot read scene file '{}': {error}", crate::text::path(path))]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Malformed TOML or a key of the wrong type or name; toml's message
    /// carries the line and column.
    #[error(
        "scene '{}': {}",
        crate::text::path(path),
        crate::text::escape(message)
    )]
    Toml { path: PathBuf, message: String },
    /// A `--set` argument (or an edit) that is not `key=value`.
    #[error("set='{arg}': expected key=value with a dotted key, e.g. lattice.porosity=0.85")]
    BadOverride { arg: String },
    /// A value outside what is allowed.
    #[error("{key} = {}: {allowed}", crate::text::escape(value))]
    Invalid {
        key: &'static str,
        value: String,
        allowed: String,
    },
    /// A float that is NaN or infinite, named by its full path
    /// (`specimen.holes[0].position[2]`).
    #[error("{key} = {value}: allowed: a finite number (not nan or inf)")]
    NotFinite { key: String, value: f64 },
    #[error(transparent)]
    Lattice(#[from] LatticeError),
    #[error(transparent)]
    Stl(#[from] StlError),
    #[error(transparent)]
    Image(#[from] crate::image::ImageError),
}

/// A [`SceneError::Invalid`] naming `key`, `value` and what is allowed.
pub(crate) fn invalid(
    key: &'static str,
    value: impl std::fmt::Display,
    allowed: impl Into<String>,
) -> SceneError {
    SceneError::Invalid {
        key,
        value: value.to_string(),
        allowed: allowed.into(),
    }
}

/// A whole scene, as read from its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    /// Name used in reports.
    pub name: String,
    #[serde(default)]
    pub material: MaterialSpec,
    /// Absent only for an image specimen ([`LatticeSpec::omitted`]).
    #[serde(default = "LatticeSpec::omitted")]
    pub lattice: LatticeSpec,
    pub specimen: SpecimenSpec,
    /// `[image]`: the calibration of an image specimen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageSpec>,
    /// Absent only for an image specimen (its voxel size is the file's).
    #[serde(default)]
    pub voxel: VoxelSpec,
    #[serde(default)]
    pub load: LoadSpec,
    #[serde(default)]
    pub solver: SolverSpec,
    /// `[sweep]`: the variations `voxfe sweep` runs when no `--vary` is given.
    #[serde(default)]
    pub sweep: SweepSpec,
    /// `[plastic]`: the elastoplastic solve of `voxfe plastic`
    /// ([`crate::plastic::spec`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plastic: Option<crate::plastic::spec::PlasticSpec>,
    /// `[as_built]`: the knockdown model fitted to tests of the process
    /// (`voxfe fit`), applied to every modulus the scene gives
    /// ([`Scene::as_built_model`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_built: Option<AsBuiltSpec>,
    /// Folder of the scene file, for relative paths (not a key).
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// Where the scene came from (not a key): what typed edits
    /// ([`Scene::with_settings`] …) and provenance start from.
    #[serde(skip)]
    pub origin: Origin,
}

impl Scene {
    /// Reads, overrides (`key=value` strings, [`Setting::parse`]) and
    /// validates a scene. The only read of a scene file: a command loads
    /// its scene once and hands it on ([`loads`] counts the reads).
    pub fn load(path: &Path, overrides: &[String]) -> Result<Scene, SceneError> {
        edit::count_load();
        let text = std::fs::read_to_string(path).map_err(|error| SceneError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Scene::parse(&text, path, overrides)
    }

    /// Parses scene text (`path` only names it in errors).
    pub fn parse(text: &str, path: &Path, overrides: &[String]) -> Result<Scene, SceneError> {
        let toml_err = |e: toml::de::Error| SceneError::Toml {
            path: path.to_path_buf(),
            message: with_line_col(text, &e),
        };
        let table: toml::Table = toml::from_str(text).map_err(toml_err)?;
        let mut origin = Origin::new(path, text, table);
        if overrides.is_empty() {
            // Deserialized from the text, for the line and column of a
            // key of the wrong type.
            let scene: Scene = toml::from_str(text).map_err(toml_err)?;
            return scene.finish(origin);
        }
        for arg in overrides {
            Setting::parse(arg)?.apply(&mut origin.table)?;
            origin.overrides.push(arg.clone());
        }
        Scene::from_origin(origin)
    }
}

/// toml's message already names line and column; make sure the first line says so too.
fn with_line_col(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().to_string();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {col}: {msg}")
        }
        None => msg,
    }
}
