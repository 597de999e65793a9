//! The pipeline step that voxelizes a scene: builds its lattice, envelope
//! and features, samples the implant at voxel centres (`voxel.fill =
//! "binary"`) or takes each voxel's solid fraction (`"fraction"`), keeps the
//! largest component, and summarises the result (a [`VoxelReport`], what
//! `voxfe voxelize` prints). Its warnings: struts under [`MIN_D_OVER_H`]
//! voxels across, removed voxels, and a lattice whose measured porosity
//! (over the voxels where the lattice alone decides: not in end plates,
//! wall or holes) is more than [`MAX_POROSITY_DEVIATION`] from nominal.

use crate::calibration::accuracy::Resolved;
use crate::grid::VoxelGrid;
use crate::implant::{Envelope, Implant};
use crate::lattice::Lattice;
use crate::report::VoxelReport;
use crate::scene::{Exponent, Fill, Scene, SceneError};
use crate::voxelize::{voxelize, voxelize_fraction, VoxelError, Voxelization};

/// Below this strut diameter over voxel size the modulus of binary voxels
/// or Voigt-scaled fraction fill (p = 1) is not to be trusted: binary
/// voxels are within 5 % of a body-fitted reference only from D/h ≈ 12
/// (spec, "Resolution and the error of a result"), and Voigt-scaled
/// sub-voxel fill measured no better; both warn, with what is known of
/// their error at the run's D/h ([`crate::calibration::known_error_binary`],
/// [`crate::calibration::known_error_hand`]). A hand-set p > 1 warns from
/// [`MIN_D_OVER_H_WEIGHTED`]; a calibrated exponent (`"auto"`) does not
/// warn: its error band replaces the warning.
pub const MIN_D_OVER_H: f64 = 12.0;

/// Below this D/h the modulus with φ^p-weighted fractional voxels
/// (`voxel.fill = "fraction"`, `voxel.fraction_exponent = p > 1` set by
/// hand) is not to be trusted without a study: with p = 2, on periodic
/// cells of six strut lattices (RD, BCC, octet at 70–88 %; kelvin,
/// diamond, FCC at 80 %) it was within ±5 % of the converged modulus from
/// D/h ≈ 6 and within −7 % … +8 % from D/h ≈ 4 (docs/validation.md,
/// "Calibrated fraction exponent").
pub const MIN_D_OVER_H_WEIGHTED: f64 = 6.0;

/// The D/h below which a run of `scene`'s settings warns, and what the
/// warning says is known of the error at `d_over_h` and which settings fix
/// it (the same statement as the run's [`crate::calibration::Accuracy`]);
/// `None` for a calibrated exponent (`"auto"`), whose error band replaces
/// the warning.
pub fn resolution_threshold(scene: &Scene, d_over_h: Option<f64>) -> Option<(f64, String)> {
    use crate::calibration::accuracy::{known_error_binary, known_error_hand};
    match (scene.voxel.fill, scene.voxel.fraction_exponent) {
        (Fill::Binary, _) => Some((MIN_D_OVER_H, known_error_binary(d_over_h))),
        (Fill::Fraction, Exponent::Value(p)) => Some((
            if p > 1.0 {
                MIN_D_OVER_H_WEIGHTED
            } else {
                MIN_D_OVER_H
            },
            known_error_hand(p, d_over_h),
        )),
        (Fill::Fraction, Exponent::Auto) => None,
    }
}

/// How the warning of struts under [`MIN_D_OVER_H`] voxels across begins;
/// see [`is_resolution_warning`].
const RESOLUTION_WARNING_START: &str = "D/h = ";

/// Whether warning `w` is the one of struts under [`MIN_D_OVER_H`] voxels
/// across, which a calibrated exponent's error band
/// ([`voxelize_resolved`]) and `voxfe run --error-from` (the
/// discretization error a convergence study of the scene gives) replace.
pub fn is_resolution_warning(w: &str) -> bool {
    w.starts_with(RESOLUTION_WARNING_START)
}

/// Largest difference between the measured porosity of the lattice and its
/// nominal porosity, as a fraction (5 percentage points), beyond which a
/// voxelization warns: the voxel part is then not the lattice asked for.
pub const MAX_POROSITY_DEVIATION: f64 = 0.05;

/// Why a voxelization run failed.
#[derive(Debug, thiserror::Error)]
pub enum VoxelizeError {
    #[error(transparent)]
    Scene(#[from] SceneError),
    #[error(transparent)]
    Voxel(#[from] VoxelError),
}

/// A scene's specimen, built once per run: the lattice, the envelope and
/// its voxel mask, the voxelized implant and its report. Later steps (the
/// implant-compression load case) take the envelope from here rather than
/// building it again.
#[derive(Debug)]
pub struct Specimen {
    pub lattice: Lattice,
    pub envelope: Envelope,
    /// The envelope sampled at voxel centres; `None` for a box, which fills
    /// the grid.
    pub envelope_mask: Option<VoxelGrid>,
    pub vox: Voxelization,
    pub report: VoxelReport,
}

/// Builds the lattice and envelope of a scene and voxelizes the specimen.
pub fn voxelize_specimen(scene: &Scene) -> Result<Specimen, VoxelizeError> {
    let mut specimen = if scene.specimen.shape == crate::scene::Shape::Image {
        let (vox, report) = crate::image::specimen::voxelize_image::<VoxelizeError>(scene)?;
        Specimen {
            lattice: scene.lattice()?,
            envelope: Envelope::Box {
                size: scene.box_size(),
            },
            envelope_mask: None,
            vox,
            report,
        }
    } else {
        voxelize_shapes(scene)?
    };
    // "auto" is resolved before a solve ([`crate::calibration::resolve`]);
    // voxels alone (`voxfe voxelize`) do not depend on it, and report none.
    let p = scene.voxel.fraction_exponent.value();
    specimen.vox.grid.fraction_exponent = p.unwrap_or(1.0);
    specimen.report.fraction_exponent = p.filter(|_| specimen.vox.grid.fraction.is_some());
    Ok(specimen)
}

/// [`voxelize_specimen`] of a scene whose exponent is resolved
/// ([`crate::calibration::resolve`]): a calibrated exponent's error band
/// replaces the D/h warning, which the resolved scene (its exponent now a
/// number) would give as for a hand-set one.
pub fn voxelize_resolved(resolved: &Resolved) -> Result<Specimen, VoxelizeError> {
    let mut specimen = voxelize_specimen(&resolved.scene)?;
    if resolved.accuracy.exponent_source == "auto" {
        specimen
            .report
            .warnings
            .retain(|w| !is_resolution_warning(w));
    }
    Ok(specimen)
}

/// [`voxelize_specimen`] for a specimen made of shapes (not an image).
fn voxelize_shapes(scene: &Scene) -> Result<Specimen, VoxelizeError> {
    let lattice = scene.lattice()?;
    let h = scene.voxel.size;
    let implant = Implant {
        lattice: &lattice,
        envelope: scene.envelope()?,
        features: scene.features(),
    };
    let inside = |p| implant.contains(p);
    let vox = match scene.voxel.fill {
        // A periodic cell keeps its largest component with faces wrapped.
        _ if super::kind::SceneKind::is_periodic(scene) => {
            let threshold =
                (scene.voxel.fill == Fill::Fraction).then_some(scene.voxel.fraction_threshold);
            crate::voxelize::voxelize_periodic(scene.dims(), h, threshold, inside)?
        }
        Fill::Binary => voxelize(scene.dims(), h, inside)?,
        Fill::Fraction => {
            voxelize_fraction(scene.dims(), h, scene.voxel.fraction_threshold, inside)?
        }
    };
    // The lattice's own porosity: over the voxels where only the lattice
    // decides (not the end plates, wall or holes).
    let lattice_counts =
        if implant.has_features() || !matches!(implant.envelope, Envelope::Box { .. }) {
            crate::voxelize::count_in_region(&vox.grid, |p| implant.in_lattice_region(p))
        } else {
            (vox.counts.total, vox.grid.solid_volume())
        };
    let envelope = implant.envelope;
    let envelope_mask = match &envelope {
        Envelope::Box { .. } => None,
        envelope => Some(crate::voxelize::sample(scene.dims(), h, |p| {
            envelope.contains(p)
        })),
    };
    let envelope_voxels = envelope_mask
        .as_ref()
        .map_or(vox.counts.total, VoxelGrid::solid_count);
    let mut report = voxel_report(scene, &lattice, &vox, envelope_voxels);
    if let Some(w) = porosity_warning(&report, lattice_counts) {
        report.warnings.push(w);
    }
    if let Envelope::Mesh {
        degenerate,
        warnings,
        ..
    } = &envelope
    {
        report.warnings.extend(warnings.iter().cloned());
        report.stl_degenerate_triangles = Some(*degenerate);
        if *degenerate > 0 {
            report.warnings.push(format!(
                "{degenerate} degenerate (zero-area) STL triangles were ignored"
            ));
        }
    }
    Ok(Specimen {
        lattice,
        envelope,
        envelope_mask,
        vox,
        report,
    })
}

/// [`voxelize_specimen`] without the envelope: the lattice, the
/// voxelization and its report.
pub fn voxelize_scene(
    scene: &Scene,
) -> Result<(Lattice, Voxelization, VoxelReport), VoxelizeError> {
    let s = voxelize_specimen(scene)?;
    Ok((s.lattice, s.vox, s.report))
}

/// The warning when the measured porosity of the lattice (over `(region
/// voxels, solid volume among them)`) is more than
/// [`MAX_POROSITY_DEVIATION`] from the nominal one.
fn porosity_warning(report: &VoxelReport, (region, solid): (usize, f64)) -> Option<String> {
    let nominal = report.porosity_nominal;
    if region == 0 {
        return Some(format!(
            "no voxel is left to the lattice (nominal porosity {nominal:.4}): end plates, wall and holes cover the whole envelope"
        ));
    }
    let measured = 1.0 - solid / region as f64;
    let off = (measured - nominal).abs();
    (off > MAX_POROSITY_DEVIATION).then(|| {
        format!(
            "the lattice's measured porosity {measured:.4} is {:.1} percentage points from its nominal {nominal:.4} \
             (more than {:.0} points): the voxel part is not the lattice asked for; \
             use a smaller voxel.size (D/h ≥ {MIN_D_OVER_H}, several voxels per cell)",
            100.0 * off,
            100.0 * MAX_POROSITY_DEVIATION
        )
    })
}

fn voxel_report(
    scene: &Scene,
    lattice: &Lattice,
    vox: &Voxelization,
    envelope_voxels: usize,
) -> VoxelReport {
    let h = scene.voxel.size;
    let is_solid = matches!(lattice.kind(), crate::lattice::LatticeKind::Solid);
    let strut = lattice.strut_diameter().filter(|_| !is_solid);
    let d_over_h = strut.map(|d| d / h);
    let mut warnings = Vec::new();
    if let (Some(r), Some(d), Some((min, known))) =
        (d_over_h, strut, resolution_threshold(scene, d_over_h))
    {
        // A tolerance so that D/h = 12 computed as 11.999… does not warn.
        if r < min * (1.0 - 1e-9) {
            warnings.push(format!(
                "{RESOLUTION_WARNING_START}{r:.2} < {min}: {} voxels do not resolve the strut diameter D = {d:.4} mm at h = {h} mm: \
                 {known}; or use voxel.size ≤ {:.4} mm, or `voxfe converge SCENE --json > STUDY.json` and \
                 `voxfe run SCENE --error-from STUDY.json` for an error estimate",
                scene.voxel.fill.name(),
                d / min
            ));
        }
    }
    if vox.counts.removed > 0 {
        warnings.push(format!(
            "{} solid voxels not face-connected to the largest component were removed",
            vox.counts.removed
        ));
    }
    VoxelReport {
        name: scene.name.clone(),
        lattice: lattice.kind().name().to_string(),
        dims: vox.grid.dims,
        voxel_size: h,
        total_voxels: vox.counts.total,
        solid_voxels: vox.counts.solid,
        removed_voxels: vox.counts.removed,
        envelope_voxels,
        stl_degenerate_triangles: None,
        fill: scene.voxel.fill.name().to_string(),
        fraction_exponent: None,
        porosity_measured: 1.0 - vox.grid.solid_volume() / envelope_voxels as f64,
        porosity_nominal: lattice.nominal_porosity(),
        porosity_nominal_closed_form: lattice.nominal_is_closed_form(),
        cell: (!is_solid).then(|| lattice.cell()),
        strut_diameter: strut,
        level: lattice.level(),
        pore_size: lattice.pore_size(),
        d_over_h,
        voxelize_seconds: vox.seconds,
        warnings,
    }
}
