//! `voxfe homogenize` (and `voxfe run` on a periodic scene): C^H of a
//! periodic lattice cell, printed as text or one JSON object with the
//! provenance; exit 3 when a solve did not converge.

use std::path::{Path, PathBuf};

use super::{info, CliError, EXIT_NOT_CONVERGED};
use voxfe::homogenize::run::homogenize;
use voxfe::scene::{Scene, SceneError};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Scene file (TOML); its lattice, material, voxel and solver keys
    /// are used, its specimen becomes N×N×N whole cells.
    scene: PathBuf,
    /// Cells per axis (default: the scene's size when its load.case is
    /// "periodic", else 1).
    #[arg(long, value_name = "N")]
    cells: Option<usize>,
    /// Write the directional Young's modulus E(d) in the xy, yz and zx
    /// planes as STEM.png and STEM.svg.
    #[arg(long, value_name = "STEM")]
    plot: Option<PathBuf>,
    #[command(flatten)]
    device: super::Device,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    overrides: super::Overrides,
}

/// `voxfe homogenize SCENE [--cells N]`: the scene as a periodic cell of
/// N×N×N lattice cells (default: the scene's own size when it is periodic
/// already, else 1), whatever its load case.
pub(crate) fn run(a: Args) -> Result<u8, CliError> {
    let scene =
        Scene::load_as_periodic(&a.scene, &a.overrides.set, a.cells).map_err(|e| match e {
            SceneError::Invalid { key: "cells", .. } => CliError::flag("--cells", e),
            e => e.into(),
        })?;
    let scene = a.device.apply(scene);
    super::outputs::Outputs::default()
        .stem("--plot", a.plot.as_deref(), &["png", "svg"])
        .check(&super::outputs::scene_inputs(&scene))?;
    homogenize_one(&scene, a.json, false, a.plot.as_deref())
}

/// Homogenizes the periodic `scene` and prints it (`several`: one of
/// several scenes, a blank line first); returns the exit status (3 when a
/// solve did not converge).
pub(crate) fn homogenize_one(
    scene: &Scene,
    json: bool,
    several: bool,
    plot: Option<&Path>,
) -> Result<u8, CliError> {
    let report = homogenize(scene).map_err(|source| CliError::Homogenize {
        path: scene.path().to_path_buf(),
        source,
    })?;
    let r = &report.result;
    for w in report.voxel.warnings.iter().chain(&report.notices) {
        eprintln!("warning: {w}");
    }
    if json {
        println!("{}", report.to_json());
    } else {
        if several {
            println!();
        }
        print!("{report}");
    }
    if !r.converged {
        eprintln!(
            "error: scene '{}' did not converge (tolerance {:.1e}): {}",
            scene.path().display(),
            r.tolerance,
            r.unconverged()
        );
        return Ok(EXIT_NOT_CONVERGED);
    }
    if let Some(stem) = plot {
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        for f in report.plot(stem, &scene.name, &report.provenance)? {
            info(format_args!("wrote {}", f.display()));
        }
    }
    Ok(0)
}
