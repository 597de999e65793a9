//! `voxfe design`: the porosity (strut diameter) whose modulus hits a
//! target, printed as text or one JSON object; with `--converged`, the
//! convergence study at the design (exit 3 when a level did not
//! converge). On a periodic scene the target is E_h and the homogenized
//! report of the design is printed.

use std::path::PathBuf;

use super::converge::{on_level, study_exit};
use super::{info, load_scene, CliError, Study};
use voxfe::homogenize::run::HomogenizeReport;
use voxfe::report::RunReport;
use voxfe::study::design::DesignOptions;

#[derive(clap::Args)]
pub(crate) struct Args {
    scene: PathBuf,
    /// Target effective modulus E_eff, MPa (e.g. 3500 for cancellous bone).
    #[arg(long, value_name = "MPA")]
    target_modulus: f64,
    /// Relative tolerance on E_eff.
    #[arg(long, default_value_t = 0.01)]
    tolerance: f64,
    /// Nominal porosities searched, densest first.
    #[arg(long, value_name = "MIN:MAX", default_value = "0.30:0.95", value_parser = parse_range)]
    porosity_range: (f64, f64),
    /// At most this many solves (at least 1).
    #[arg(long, default_value_t = 24)]
    max_solves: usize,
    #[command(flatten)]
    device: super::Device,
    /// Print the final design as one JSON object (`voxfe run --json` fields plus `solves`).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    overrides: super::Overrides,
    /// Also run `voxfe converge` at the design found and report its
    /// modulus with the error estimate (--levels, --ratio).
    #[arg(long)]
    converged: bool,
    #[command(flatten)]
    study: Study,
}

/// `--porosity-range MIN:MAX`.
fn parse_range(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s
        .split_once(':')
        .ok_or_else(|| format!("'{s}': expected MIN:MAX, e.g. 0.30:0.95"))?;
    let num = |v: &str| {
        v.trim()
            .parse::<f64>()
            .map_err(|_| format!("'{v}' is not a number"))
    };
    Ok((num(a)?, num(b)?))
}

pub(crate) fn run(a: Args) -> Result<u8, CliError> {
    let opts = DesignOptions {
        target: a.target_modulus,
        tolerance: a.tolerance,
        porosity_range: a.porosity_range,
        max_solves: a.max_solves,
        ..Default::default()
    };
    let study = a.converged.then_some((a.study.levels, a.study.ratio));
    let scene = load_scene(&a.scene, &a.overrides, Some(&a.device))?;
    if let Some((levels, ratio)) = study {
        voxfe::study::design::check_study(&scene, levels, ratio)?;
    }
    if scene.load_case().is_periodic() {
        let on_solve = |n: usize, phi: f64, report: &HomogenizeReport, e: f64| {
            info(format_args!(
                "solve {n}: porosity {phi:.5} (D = {:.4} mm) -> E_h = {e:.1} MPa",
                report.voxel.strut_diameter.unwrap_or(f64::NAN)
            ))
        };
        let designed = voxfe::study::design::periodic::run(&scene, &opts, on_solve)?;
        let report = &designed.report;
        for w in report.voxel.warnings.iter().chain(&report.notices) {
            eprintln!("warning: {w}");
        }
        if a.json {
            println!("{}", designed.to_json());
        } else {
            print!("{designed}");
        }
        return Ok(0);
    }
    if scene.as_built.is_some() {
        info(format_args!(
            "the scene has an [as_built] fit: the design targets E_eff as built"
        ));
    }
    let on_solve = |n: usize, phi: f64, report: &RunReport, e: f64| {
        let what = if report.as_built.e_eff_as_built.is_some() {
            "E_eff as built"
        } else {
            "E_eff"
        };
        info(format_args!(
            "solve {n}: porosity {phi:.5} (D = {:.4} mm) -> {what} = {e:.1} MPa",
            report.voxel.strut_diameter.unwrap_or(f64::NAN)
        ))
    };
    let designed = voxfe::study::design::run(&scene, &opts, on_solve)?;
    let Some(study) = study else {
        if a.json {
            println!("{}", serde_json::Value::Object(designed.to_json()));
        } else {
            print!("{designed}");
        }
        return Ok(0);
    };
    if !a.json {
        print!("{designed}");
    }
    let conv = voxfe::study::design::converged(&designed.scene, study, on_level)?;
    if a.json {
        println!("{}", designed.with_study_json(&conv));
    } else {
        println!("\nconvergence study at the design (E_eff):");
        print!("{conv}");
    }
    Ok(study_exit(&conv))
}
