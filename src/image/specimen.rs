//! The scene side of an image specimen (`specimen.shape = "image"`):
//! [`Scene::resolve_image`], run when a scene is loaded, reads the image's
//! header, takes the voxel size from it (or checks the scene's
//! `voxel.size` against it) and makes the box the image's extent; and
//! [`voxelize_image`], the voxelize step of an image specimen: the image
//! read, calibrated, reduced to its largest face-connected component and
//! summarised, with load cases as for a box.

use super::{to_grid, Calibration, ImageError, IMAGE_LATTICE, SPACING_RTOL};
use crate::grid::VoxelCounts;
use crate::report::VoxelReport;
use crate::scene::{invalid, CalibrationKind, Exponent, Fill, Scene, SceneError, Shape};
use crate::voxelize::{keep_largest_component, VoxelError, Voxelization};
use std::path::PathBuf;
use std::time::Instant;

impl Scene {
    /// The image file of an image specimen, relative paths taken from the
    /// scene file's folder.
    pub fn image_path(&self) -> Option<PathBuf> {
        (self.specimen.shape == Shape::Image)
            .then(|| self.specimen.path.as_ref().map(|p| self.base_dir.join(p)))
            .flatten()
    }

    /// Run when a scene is loaded, before it is validated. An image
    /// specimen: reads the image's header; the voxel size is the file's,
    /// or the scene's `voxel.size` where the file states none (both given
    /// and different: an error naming both); the box (`specimen.size`) is
    /// the image's extent. Any other specimen: `voxel.size` and `[lattice]`
    /// are required.
    pub fn resolve_image(&mut self) -> Result<(), SceneError> {
        if self.specimen.shape != Shape::Image {
            if self.voxel.size.is_nan() {
                return Err(invalid(
                    "voxel.size",
                    "(missing)",
                    "the voxel edge h in mm is required (only an image specimen takes it from the file)",
                ));
            }
            if self.lattice.omitted {
                return Err(invalid(
                    "lattice",
                    "(missing)",
                    "a [lattice] table is required (only an image specimen goes without: the image is the geometry)",
                ));
            }
            return Ok(());
        }
        if let Some(size) = self.specimen.size {
            return Err(invalid(
                "specimen.size",
                format!("{size:?}"),
                "an image specimen's box is the image's extent: remove specimen.size",
            ));
        }
        let Some(path) = self.image_path() else {
            return Err(invalid(
                "specimen.path",
                "(missing)",
                "the path of the image (an NRRD file, a TIFF file, a folder or a glob of TIFF slices) is required",
            ));
        };
        let info = super::probe(&path)?;
        let scene_h = (!self.voxel.size.is_nan()).then_some(self.voxel.size);
        let h = match (info.spacing, scene_h) {
            (Some(file), Some(scene)) if (file - scene).abs() > SPACING_RTOL * file => {
                return Err(ImageError::VoxelSizeMismatch { path, file, scene }.into())
            }
            // Equal within the tolerance: the scene's value, as written.
            (_, Some(scene)) => scene,
            (Some(file), None) => file,
            (None, None) => return Err(ImageError::MissingVoxelSize { path }.into()),
        };
        self.voxel.size = h;
        self.specimen.size = Some(info.dims.map(|n| n as f64 * h));
        Ok(())
    }

    /// The calibration of an image specimen from `[image]` (validated).
    pub fn calibration(&self) -> Option<Calibration> {
        let spec = self.image.as_ref()?;
        Some(match spec.calibration {
            CalibrationKind::Threshold => Calibration::Threshold(spec.threshold?),
            CalibrationKind::Ramp => {
                let [g0, g1] = spec.ramp?;
                Calibration::Ramp(g0, g1)
            }
        })
    }

    /// Checks the keys of an image specimen: `[image]` with its
    /// calibration, no lattice, no features. Other shapes: no `[image]`.
    pub(crate) fn validate_image(&self) -> Result<(), SceneError> {
        let sp = &self.specimen;
        if sp.shape != Shape::Image {
            if self.image.is_some() {
                return Err(invalid(
                    "image",
                    "(given)",
                    format!(
                        "only specimen.shape = \"image\" takes an [image] table, not \"{:?}\"",
                        sp.shape
                    )
                    .to_lowercase(),
                ));
            }
            return Ok(());
        }
        let Some(spec) = &self.image else {
            return Err(invalid(
                "image.calibration",
                "(missing)",
                "an image specimen needs [image] calibration = \"threshold\" (with threshold = g) or \"ramp\" (with ramp = [g0, g1])",
            ));
        };
        match (spec.calibration, spec.threshold, spec.ramp) {
            (CalibrationKind::Threshold, Some(_), None) => {}
            (CalibrationKind::Ramp, None, Some([g0, g1])) => {
                if g0 == g1 {
                    return Err(invalid(
                        "image.ramp",
                        format!("[{g0}, {g1}]"),
                        "allowed: two different grey values [g0, g1], g0 → φ = 0 and g1 → φ = 1",
                    ));
                }
            }
            (CalibrationKind::Threshold, ..) => {
                return Err(invalid(
                    "image.threshold",
                    format!("{:?} (ramp = {:?})", spec.threshold, spec.ramp),
                    "calibration = \"threshold\" takes threshold = g (grey ≥ g is solid) and no ramp",
                ))
            }
            (CalibrationKind::Ramp, ..) => {
                return Err(invalid(
                    "image.ramp",
                    format!("{:?} (threshold = {:?})", spec.ramp, spec.threshold),
                    "calibration = \"ramp\" takes ramp = [g0, g1] (g0 → φ = 0, g1 → φ = 1) and no threshold",
                ))
            }
        }
        self.validate_image_voxel_keys(spec.calibration)?;
        let l = &self.lattice;
        if l.kind != crate::lattice::LatticeKind::Solid
            || l.cell.is_some()
            || l.strut.is_some()
            || l.porosity.is_some()
            || l.level.is_some()
        {
            return Err(invalid(
                "lattice",
                format!("kind = \"{}\"", l.kind.name()),
                "an image specimen takes no lattice (the image is the geometry): omit [lattice] or give kind = \"solid\" alone",
            ));
        }
        if l.origin != [0.0; 3] || self.writes("lattice.origin") {
            return Err(invalid(
                "lattice.origin",
                format!("{:?}", l.origin),
                "an image specimen has no lattice to tile (the image is the geometry): leave lattice.origin out",
            ));
        }
        for (key, given) in [
            ("specimen.end_plates", sp.end_plates != 0.0),
            ("specimen.wall", sp.wall != 0.0),
            ("specimen.holes", !sp.holes.is_empty()),
        ] {
            if given {
                return Err(invalid(
                    key,
                    "(given)",
                    "an image specimen takes no end plates, wall or holes: the image is the geometry",
                ));
            }
        }
        Ok(())
    }
}

impl Scene {
    /// The `[voxel]` keys the file (or an override) writes that do not
    /// apply to an image of `calibration`, refused naming the key, its
    /// value, the calibration and what is allowed; a key left out takes
    /// its default and is never refused. A threshold image's voxels are
    /// solid or void (φ = 0 or 1: binary fill, whatever `voxel.fill`'s
    /// default says), so it takes no `voxel.fill = "fraction"`, no
    /// fraction threshold and no fraction exponent; a ramp image's voxels
    /// carry their solid fractions, so it takes no `voxel.fill = "binary"`.
    fn validate_image_voxel_keys(&self, calibration: CalibrationKind) -> Result<(), SceneError> {
        let v = &self.voxel;
        match calibration {
            CalibrationKind::Threshold => {
                let binary =
                    "image.calibration = \"threshold\" makes each voxel solid or void (grey ≥ \
                              image.threshold: φ = 0 or 1, binary fill)";
                let fractions =
                    "for solid fractions from the grey values use image.calibration = \"ramp\" \
                                 with ramp = [g0, g1]";
                if v.fill == Fill::Fraction && self.writes("voxel.fill") {
                    return Err(invalid(
                        "voxel.fill",
                        "\"fraction\"",
                        format!(
                            "{binary}: there is no partial volume to carry; allowed: voxel.fill = \"binary\" \
                             or leave it out; {fractions}"
                        ),
                    ));
                }
                let t = v.fraction_threshold;
                if t != crate::voxelize::fraction::DEFAULT_THRESHOLD
                    || self.writes("voxel.fraction_threshold")
                {
                    return Err(invalid(
                        "voxel.fraction_threshold",
                        t,
                        format!(
                            "it applies to solid fractions, and {binary}; allowed: leave voxel.fraction_threshold \
                             out (set image.threshold instead); {fractions}"
                        ),
                    ));
                }
                if self.writes("voxel.fraction_exponent") {
                    return Err(invalid(
                        "voxel.fraction_exponent",
                        match v.fraction_exponent {
                            Exponent::Auto => "\"auto\"".to_string(),
                            Exponent::Value(p) => p.to_string(),
                        },
                        format!(
                            "it weights solid fractions (φ^p), and {binary}; allowed: leave \
                             voxel.fraction_exponent out; {fractions}"
                        ),
                    ));
                }
            }
            CalibrationKind::Ramp => {
                if v.fill == Fill::Binary {
                    return Err(invalid(
                        "voxel.fill",
                        "\"binary\"",
                        "image.calibration = \"ramp\" gives each voxel its solid fraction φ from its grey \
                         value (fraction fill); allowed: voxel.fill = \"fraction\" or leave it out; for \
                         binary voxels use image.calibration = \"threshold\" with threshold = g",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The voxelize step of an image specimen: reads the image, turns grey
/// values into solid fractions by the scene's calibration, keeps the
/// largest face-connected component and reports the measured porosity
/// `1 − Σφ / voxels`: the voxelization and its report (the pipeline's
/// voxelize step makes them a specimen, in an error type of its own that
/// holds scene and voxel errors).
pub fn voxelize_image<E>(scene: &Scene) -> Result<(Voxelization, VoxelReport), E>
where
    E: From<SceneError> + From<VoxelError>,
{
    let start = Instant::now();
    let path = scene
        .image_path()
        .expect("validated: an image specimen has a path");
    let calibration = scene
        .calibration()
        .expect("validated: an image specimen has a calibration");
    let image = super::read(&path).map_err(SceneError::from)?;
    if image.info.dims != scene.dims() {
        return Err(SceneError::from(ImageError::Dimensions {
            path,
            problem: format!(
                "the image is {:?} voxels now, {:?} when the scene was loaded",
                image.info.dims,
                scene.dims()
            ),
        })
        .into());
    }
    let h = scene.voxel.size;
    let mut grid = to_grid(&image, h, calibration, scene.voxel.fraction_threshold);
    // The grey range, for the message of an image with no solid voxel.
    let (min, max) = image
        .samples
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &g| {
            (lo.min(g), hi.max(g))
        });
    drop(image);
    let sampled = grid.solid_count();
    let kept = keep_largest_component(&mut grid);
    if kept == 0 {
        return Err(VoxelError::EmptyImage {
            total: grid.voxel_count(),
            path: path.display().to_string(),
            calibration: match calibration {
                Calibration::Threshold(t) => format!("image.threshold = {t}"),
                Calibration::Ramp(g0, g1) => format!("image.ramp = [{g0}, {g1}]"),
            },
            min,
            max,
        }
        .into());
    }
    if let Some(f) = &mut grid.fraction {
        for (p, &s) in f.iter_mut().zip(&grid.solid) {
            if s == 0 {
                *p = 0.0;
            }
        }
    }
    let counts = VoxelCounts {
        total: grid.voxel_count(),
        solid: kept,
        removed: sampled - kept,
    };
    let mut warnings = Vec::new();
    if counts.removed > 0 {
        warnings.push(format!(
            "{} solid voxels not face-connected to the largest component were removed",
            counts.removed
        ));
    }
    let report = VoxelReport {
        name: scene.name.clone(),
        lattice: IMAGE_LATTICE.to_string(),
        dims: grid.dims,
        voxel_size: h,
        // A ramp calibration gives solid fractions, a threshold binary voxels.
        fill: if grid.fraction.is_some() {
            "fraction"
        } else {
            "binary"
        }
        .to_string(),
        fraction_exponent: None,
        total_voxels: counts.total,
        solid_voxels: counts.solid,
        removed_voxels: counts.removed,
        envelope_voxels: counts.total,
        stl_degenerate_triangles: None,
        porosity_measured: 1.0 - grid.solid_volume() / counts.total as f64,
        // An image has no design porosity (JSON: null).
        porosity_nominal: f64::NAN,
        porosity_nominal_closed_form: false,
        cell: None,
        strut_diameter: None,
        level: None,
        pore_size: None,
        d_over_h: None,
        voxelize_seconds: start.elapsed().as_secs_f64(),
        warnings,
    };
    let vox = Voxelization {
        grid,
        counts,
        seconds: report.voxelize_seconds,
    };
    Ok((vox, report))
}
