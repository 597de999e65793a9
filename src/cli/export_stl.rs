//! `voxfe export-stl`: the envelope of a cylinder scene as a binary STL.

use std::path::PathBuf;

use super::{load_scene, CliError};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Scene file (TOML) with specimen.shape = "cylinder".
    scene: PathBuf,
    /// STL file to write.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Facets around the circumference.
    #[arg(long, default_value_t = 720)]
    segments: usize,
    #[command(flatten)]
    overrides: super::Overrides,
}

pub(crate) fn run(a: Args) -> Result<u8, CliError> {
    let scene = load_scene(&a.scene, &a.overrides, None)?;
    super::outputs::Outputs::default()
        .file("--out", Some(&a.out), &["stl"])
        .check(&super::outputs::scene_inputs(&scene))?;
    let triangles =
        voxfe::implant::stl::export_cylinder(&scene.cylinder_envelope()?, &a.out, a.segments)?;
    super::info(format_args!(
        "wrote {triangles} triangles to {}",
        a.out.display()
    ));
    Ok(0)
}
