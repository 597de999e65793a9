//! Scene → fem load case: the scene's [`LoadCase`] with its defaults
//! ([`Scene::load_case`]) gets the implant's envelope columns.

use std::sync::Arc;

use super::voxelize::Specimen;
use crate::fem::load::{EnvelopeColumns, LoadCase};
use crate::scene::{Scene, SceneError};

/// The fem load case of a voxelized scene. Implant compression takes its
/// endplate surfaces from the specimen's envelope mask (built once, by the
/// voxelize step).
/// A periodic scene has no load case of this kind (it is homogenized:
/// [`crate::homogenize`]) and is an error naming `load.case`.
pub fn specimen_load_case(scene: &Scene, specimen: &Specimen) -> Result<LoadCase, SceneError> {
    let columns = || -> Result<EnvelopeColumns, SceneError> {
        Ok(match &specimen.envelope_mask {
            Some(mask) => EnvelopeColumns::from_mask(mask),
            // A box fills the grid; sampled as for any other envelope.
            None => EnvelopeColumns::from_mask(&crate::voxelize::sample(
                scene.dims(),
                scene.voxel.size,
                |p| specimen.envelope.contains(p),
            )),
        })
    };
    load_case_with(scene, columns)
}

/// The fem load case of a scene on its own. Implant compression builds and
/// samples the envelope for its endplate surfaces (an STL envelope is read
/// here); a run uses [`specimen_load_case`] instead.
pub fn load_case(scene: &Scene) -> Result<LoadCase, SceneError> {
    load_case_with(scene, || envelope_columns(scene))
}

/// The scene's load case ([`Scene::load_case`]), with the envelope
/// columns (implant compression only) from `columns`.
fn load_case_with<E: From<SceneError>>(
    scene: &Scene,
    columns: impl FnOnce() -> Result<EnvelopeColumns, E>,
) -> Result<LoadCase, E> {
    Ok(match scene.load_case() {
        LoadCase::Periodic => {
            return Err(crate::scene::invalid(
                "load.case",
                "\"periodic\"",
                "a periodic cell is homogenized, not loaded: run it with `voxfe run`, `voxfe homogenize`, \
                 `voxfe sweep` or `voxfe design`; converge takes compression, three-point-bending and implant-compression",
            )
            .into())
        }
        LoadCase::ImplantCompression {
            platens,
            footprint_area,
            height,
            ..
        } => LoadCase::ImplantCompression {
            platens,
            footprint_area,
            height,
            envelope: Some(Arc::new(columns()?)),
        },
        case => case,
    })
}

/// The envelope's bottom and top surfaces per node column.
fn envelope_columns(scene: &Scene) -> Result<EnvelopeColumns, SceneError> {
    let envelope = scene.envelope()?;
    let mask = crate::voxelize::sample(scene.dims(), scene.voxel.size, |p| envelope.contains(p));
    Ok(EnvelopeColumns::from_mask(&mask))
}
