//! Grey-level 3D images as specimens (the path to as-built, CT-scanned
//! parts): reading an NRRD file ([`nrrd`]) or a stack of TIFF slices
//! ([`tiff`]) into a [`GreyImage`], turning grey values into solid
//! fractions by a [`Calibration`] ([`to_grid`]), and writing a voxel grid
//! back as a grey image ([`write`](fn@write), `voxfe voxelize --image`).
//!
//! Conventions (see the spec's "Sub-voxel solid fraction"):
//! - sample `(i, j, k)` of an image is voxel `(i, j, k)`: NRRD's first
//!   (fastest) axis is x; a TIFF slice's column is x, its row y (row 0, the
//!   top of the picture, is j = 0), and slice k is z;
//! - voxels are cubes: an image whose spacings differ is refused;
//! - a threshold `g` makes grey ≥ g solid (φ = 1); a ramp `[g0, g1]` gives
//!   φ = (grey − g0)/(g1 − g0) clamped to [0, 1], and a voxel is solid when
//!   φ > 0 and φ ≥ `voxel.fraction_threshold` (default 0.01); then the largest face-connected component is kept, as
//!   for every specimen;
//! - the calibration is the image's fill: a scene that writes a `[voxel]`
//!   key that does not apply to it (`fill = "fraction"`, a fraction
//!   threshold or exponent on a threshold image; `fill = "binary"` on a
//!   ramp) is refused naming the key; the defaults are never refused.
//!
//! [`specimen`] holds the scene side: the `[image]` keys resolved when a
//! scene is loaded and the voxelization of an image specimen.

pub mod nrrd;
pub mod specimen;
pub mod tiff;

use crate::grid::VoxelGrid;
use std::path::{Path, PathBuf};

/// The `lattice` name an image specimen reports.
pub const IMAGE_LATTICE: &str = "image";

/// Largest relative difference between two voxel spacings (or a file's and
/// the scene's voxel size) that still counts as equal: spacings are stored
/// as decimal text or rationals.
pub const SPACING_RTOL: f64 = 1e-6;

/// Why an image could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot read image '{}': {error}", crate::text::path(path))]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A malformed header or tag.
    #[error(
        "image '{}': {}",
        crate::text::path(path),
        crate::text::escape(problem)
    )]
    Format { path: PathBuf, problem: String },
    /// A sample type, encoding or layout voxfe does not read.
    #[error(
        "image '{}': {what} {} is not supported; allowed: {allowed}",
        crate::text::path(path),
        crate::text::escape(value)
    )]
    Unsupported {
        path: PathBuf,
        what: &'static str,
        value: String,
        allowed: &'static str,
    },
    /// Fewer data bytes than the header's sizes need.
    #[error("image '{}': truncated data: the sizes {dims:?} of {bytes_per_sample}-byte samples need {expected} bytes, the data holds {found}", crate::text::path(path))]
    Truncated {
        path: PathBuf,
        dims: [usize; 3],
        bytes_per_sample: usize,
        expected: u64,
        found: u64,
    },
    /// Dimensions that are not a 3D image, or that disagree (between
    /// slices, or between the header and the data).
    #[error(
        "image '{}': wrong dimensions: {}",
        crate::text::path(path),
        crate::text::escape(problem)
    )]
    Dimensions { path: PathBuf, problem: String },
    #[error("image '{}': the voxel spacings {spacing:?} mm differ: voxfe's voxels are cubes; resample the image to cubic voxels", crate::text::path(path))]
    NonCubic { path: PathBuf, spacing: [f64; 3] },
    #[error(
        "image '{}' does not state its voxel size: give voxel.size (mm) in the scene",
        crate::text::path(path)
    )]
    MissingVoxelSize { path: PathBuf },
    #[error("image '{}' has voxels of {file} mm but the scene gives voxel.size = {scene} mm: give one of them, or make them equal", crate::text::path(path))]
    VoxelSizeMismatch {
        path: PathBuf,
        file: f64,
        scene: f64,
    },
    /// NaN or infinite samples (a float image): no grey value, so no
    /// solid fraction; refused rather than read as void.
    #[error("image '{}': {count} samples are not finite numbers (NaN or ±inf; the first at voxel {first:?}, x fastest); allowed: finite grey values: replace them (by the void grey value, e.g. 0) before voxelizing", crate::text::path(path))]
    NonFinite {
        path: PathBuf,
        count: usize,
        first: [usize; 3],
    },
    #[error("cannot write image '{}': {error}", crate::text::path(path))]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl ImageError {
    /// Whether the failure is the input's (exit status 2): everything but
    /// a file that cannot be written.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, ImageError::Write { .. })
    }
}

/// The sample type of an image file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleType {
    U8,
    U16,
    I16,
    F32,
}

impl SampleType {
    /// Bytes per sample.
    pub fn bytes(self) -> usize {
        match self {
            SampleType::U8 => 1,
            SampleType::U16 | SampleType::I16 => 2,
            SampleType::F32 => 4,
        }
    }

    /// The NRRD name.
    pub fn name(self) -> &'static str {
        match self {
            SampleType::U8 => "uint8",
            SampleType::U16 => "uint16",
            SampleType::I16 => "int16",
            SampleType::F32 => "float",
        }
    }
}

/// What an image's header says, without its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageInfo {
    /// Sample counts `[nx, ny, nz]`.
    pub dims: [usize; 3],
    /// Cubic voxel edge from the file, mm (`None`: the file does not say).
    pub spacing: Option<f64>,
    pub sample_type: SampleType,
}

/// A grey-level 3D image: its header and its samples, x fastest
/// (linear id `i + nx·(j + ny·k)`, as [`VoxelGrid`]).
#[derive(Debug, Clone, PartialEq)]
pub struct GreyImage {
    pub info: ImageInfo,
    /// Grey values as f32 (exact for 8- and 16-bit samples).
    pub samples: Vec<f32>,
}

/// How an image file is stored, from its path.
enum Source {
    Nrrd,
    /// A folder of single-page slices, or a glob of them.
    TiffSlices(Vec<PathBuf>),
    /// One (multi-page) TIFF file.
    TiffFile,
}

fn source(path: &Path) -> Result<Source, ImageError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.contains(['*', '?']) {
        let dir = path.parent().unwrap_or(Path::new("."));
        return tiff::glob(dir, &name, path).map(Source::TiffSlices);
    }
    if path.is_dir() {
        return tiff::glob(path, "*", path).map(Source::TiffSlices);
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "nrrd" | "nhdr" => Ok(Source::Nrrd),
        "tif" | "tiff" => Ok(Source::TiffFile),
        _ => Err(ImageError::Unsupported {
            path: path.to_path_buf(),
            what: "file type",
            value: format!("'.{ext}'"),
            allowed: "an NRRD file (.nrrd, or a .nhdr header with a detached data file), a multi-page TIFF \
                      (.tif, .tiff), a folder of single-page TIFF slices, or a glob of them (slices/z*.tif)",
        }),
    }
}

/// Reads the header of the image at `path` (an NRRD file, a TIFF file, a
/// folder or a glob of TIFF slices): its dimensions, voxel size and sample
/// type. Cheap: no samples are decoded.
pub fn probe(path: &Path) -> Result<ImageInfo, ImageError> {
    match source(path)? {
        Source::Nrrd => nrrd::read_header(path).map(|h| h.info),
        Source::TiffSlices(files) => tiff::probe_slices(path, &files),
        Source::TiffFile => tiff::probe_file(path),
    }
}

/// Reads the image at `path` (see [`probe`]).
/// A float image's NaN or infinite samples are refused
/// ([`ImageError::NonFinite`]).
pub fn read(path: &Path) -> Result<GreyImage, ImageError> {
    let image = match source(path)? {
        Source::Nrrd => nrrd::read(path),
        Source::TiffSlices(files) => tiff::read_slices(path, &files),
        Source::TiffFile => tiff::read_file(path),
    }?;
    finite(path, image)
}

/// `image` if every sample is finite, else [`ImageError::NonFinite`] with
/// the count and the first such voxel.
fn finite(path: &Path, image: GreyImage) -> Result<GreyImage, ImageError> {
    let count = image.samples.iter().filter(|g| !g.is_finite()).count();
    match image.samples.iter().position(|g| !g.is_finite()) {
        None => Ok(image),
        Some(i) => {
            let [nx, ny, _] = image.info.dims;
            Err(ImageError::NonFinite {
                path: path.to_path_buf(),
                count,
                first: [i % nx, (i / nx) % ny, i / (nx * ny)],
            })
        }
    }
}

/// The description `voxfe voxelize --image` writes into the image of the
/// scene named `scene_name`.
pub fn written_by(scene_name: &str) -> String {
    format!(
        "voxfe {} voxelize: scene '{scene_name}', grey = 255*phi",
        env!("CARGO_PKG_VERSION")
    )
}

/// Writes `grid` as a uint8 grey image, 255·φ per voxel (0/255 under binary
/// fill), with its voxel size: NRRD for `.nrrd`, a multi-page TIFF for
/// `.tif`/`.tiff`.
pub fn write(grid: &VoxelGrid, path: &Path, what: &str) -> Result<(), ImageError> {
    let grey: Vec<u8> = (0..grid.voxel_count())
        .map(|v| (255.0 * grid.phi(v).clamp(0.0, 1.0)).round() as u8)
        .collect();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "nrrd" => nrrd::write_u8(path, grid.dims, grid.h, &grey, what),
        "tif" | "tiff" => tiff::write_u8(path, grid.dims, grid.h, &grey),
        _ => Err(ImageError::Unsupported {
            path: path.to_path_buf(),
            what: "output file type",
            value: format!("'.{ext}'"),
            allowed: ".nrrd (gzip-encoded NRRD) or .tif / .tiff (a multi-page TIFF stack)",
        }),
    }
}

/// From grey value to solid fraction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Calibration {
    /// Grey ≥ g is solid (φ = 1), the rest void: binary fill.
    Threshold(f64),
    /// φ = (grey − g0)/(g1 − g0), clamped to [0, 1]: fractional fill.
    Ramp(f64, f64),
}

impl Calibration {
    /// Solid fraction of grey value `g`.
    pub fn phi(self, g: f32) -> f32 {
        match self {
            Calibration::Threshold(t) => f32::from(g as f64 >= t),
            Calibration::Ramp(g0, g1) => (((g as f64 - g0) / (g1 - g0)).clamp(0.0, 1.0)) as f32,
        }
    }
}

/// The voxel grid of `image` at voxel size `h` under `calibration`, before
/// the component search: `solid` is φ > 0 and φ ≥ `threshold` (the scene's
/// `voxel.fraction_threshold`; a threshold calibration's φ is 0 or 1), and
/// a ramp sets `fraction` (0 on void voxels).
pub fn to_grid(image: &GreyImage, h: f64, calibration: Calibration, threshold: f64) -> VoxelGrid {
    let mut grid = VoxelGrid::empty(image.info.dims, h);
    let t = threshold as f32;
    let kept = |p: f32| p > 0.0 && p >= t;
    let phi: Vec<f32> = image.samples.iter().map(|&g| calibration.phi(g)).collect();
    for (s, &p) in grid.solid.iter_mut().zip(&phi) {
        *s = u8::from(kept(p));
    }
    if let Calibration::Ramp(..) = calibration {
        grid.fraction = Some(phi.iter().map(|&p| if kept(p) { p } else { 0.0 }).collect());
    }
    grid
}

/// The one voxel size of three spacings, or [`ImageError::NonCubic`].
fn cubic(path: &Path, spacing: [f64; 3]) -> Result<f64, ImageError> {
    let h = spacing[0];
    if spacing
        .iter()
        .any(|&s| !(s.is_finite() && s > 0.0) || (s - h).abs() > SPACING_RTOL * h)
    {
        if spacing.iter().all(|&s| s.is_finite() && s > 0.0) {
            return Err(ImageError::NonCubic {
                path: path.to_path_buf(),
                spacing,
            });
        }
        return Err(ImageError::Format {
            path: path.to_path_buf(),
            problem: format!("voxel spacings {spacing:?}: allowed: positive lengths"),
        });
    }
    Ok(h)
}

/// Millimetres per unit of a length unit's name, as image files spell it.
fn mm_per_unit(unit: &str) -> Option<f64> {
    match unit.trim().trim_matches('"').to_ascii_lowercase().as_str() {
        "mm" | "millimeter" | "millimetre" => Some(1.0),
        "um" | "µm" | "μm" | "micron" | "microns" | "micrometer" | "micrometre" | "\\u00b5m" => {
            Some(1e-3)
        }
        "cm" => Some(10.0),
        "m" | "meter" | "metre" => Some(1e3),
        _ => None,
    }
}
