//! `voxfe calibrate`: the verbose view of the calibration that
//! `voxel.fraction_exponent = "auto"` makes for a scene's lattice at its
//! voxel size ([`voxfe::study::calibrate`]), printed as text or one JSON
//! object with the provenance.

use std::path::PathBuf;

use super::{info, load_scene, CliError};
use voxfe::calibration::cell::CellSolve;
use voxfe::provenance::Provenance;
use voxfe::study::calibrate::calibrate;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Scene file (TOML); its lattice, material, element, voxel size and
    /// load case (for the band's specimen term) are used.
    scene: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    overrides: super::Overrides,
}

/// `voxfe calibrate SCENE`: calibrates as a run with the defaults would
/// (through the same cache: `VOXFE_CACHE_DIR`, `VOXFE_NO_CACHE`) and
/// prints what it found.
pub(crate) fn run(a: Args) -> Result<u8, CliError> {
    let scene = load_scene(&a.scene, &a.overrides, None)?;
    let provenance = Provenance::of_scene(&scene);
    let mut progress = |c: &CellSolve| {
        info(format_args!(
            "cell M/{}, p = {}: E/E_s = {:.6} ({} iterations, {:.1} s)",
            c.n, c.exponent, c.e_rel, c.iterations, c.seconds
        ))
    };
    let view = calibrate(&scene, voxfe::calibration::process_cache(), &mut progress).map_err(
        |source| CliError::Calibrate {
            path: a.scene.clone(),
            source,
        },
    )?;
    for w in &view.notices {
        eprintln!("warning: {w}");
    }
    if a.json {
        println!("{}", provenance.add_to(&view));
    } else {
        // The view names the cache switch as the library does.
        let command = <crate::Cli as clap::CommandFactory>::command();
        print!("{}", super::with_flags(&view.to_string(), &command));
    }
    Ok(0)
}
