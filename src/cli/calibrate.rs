//! `voxfe calibrate`: the fraction exponent of a scene's lattice at its
//! voxel size, from periodic cells ([`voxfe::study::calibrate`]),
//! printed as text or one JSON object with the provenance.

use std::path::PathBuf;

use super::{info, solve_on, CliError};
use voxfe::provenance::Provenance;
use voxfe::scene::{Backend, Scene};
use voxfe::study::calibrate::{calibrate, CalibrateError, CalibrateOptions, CellSolve};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Scene file (TOML); its lattice, material, voxel size and solver
    /// keys are used (its specimen is not).
    scene: PathBuf,
    /// Solver backend (overrides solver.backend).
    #[arg(long, value_enum)]
    backend: Option<Backend>,
    /// Relative distance from the reference at which the search stops.
    #[arg(long, default_value_t = CalibrateOptions::default().tolerance)]
    tolerance: f64,
    /// Most cells at h solved by the search.
    #[arg(long, default_value_t = CalibrateOptions::default().max_trials)]
    max_trials: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Override a scene key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

/// `voxfe calibrate SCENE`: runs the calibration on the scene made one
/// periodic cell and prints it.
pub(crate) fn run(a: Args) -> Result<u8, CliError> {
    let opts = CalibrateOptions {
        tolerance: a.tolerance,
        max_trials: a.max_trials,
        ..Default::default()
    };
    let scene = solve_on(
        Scene::load_as_periodic(&a.scene, &a.set, Some(1))?,
        a.backend,
        None,
    );
    let provenance = Provenance::of_scene(&scene);
    let progress = |c: &CellSolve| {
        info(format_args!(
            "cell M/{} (h = {:.6} mm), p = {}: E_h = {:.1} MPa ({:.1} s)",
            c.n, c.voxel_size, c.exponent, c.e_h, c.seconds
        ))
    };
    let cal = calibrate(&scene, &opts, progress).map_err(|source| {
        let flag = match &source {
            CalibrateError::BadOption {
                option: "tolerance",
                ..
            } => Some("--tolerance"),
            CalibrateError::BadOption { .. } | CalibrateError::NoConvergence { .. } => {
                Some("--max-trials")
            }
            _ => None,
        };
        let e = CliError::Calibrate {
            path: a.scene.clone(),
            source,
        };
        match flag {
            Some(flag) => CliError::flag(flag, e),
            None => e,
        }
    })?;
    for w in &cal.notices {
        eprintln!("warning: {w}");
    }
    if a.json {
        println!("{}", provenance.add_to(&cal));
    } else {
        print!("{cal}");
    }
    Ok(0)
}
