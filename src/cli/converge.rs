//! `voxfe converge`: the study of a scene over refined voxel sizes (or,
//! with `--compare-fill`, one per fill), printed, and with `--plot` drawn;
//! exit status 3 when a level did not converge.

use std::path::PathBuf;

use super::{info, load_scene, CliError, Study, EXIT_NOT_CONVERGED};
use voxfe::provenance::Provenance;
use voxfe::report::RunReport;
use voxfe::study::converge::{self, ConvergeReport, Studies};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Scene file (TOML).
    scene: PathBuf,
    #[command(flatten)]
    study: Study,
    /// A field of `voxfe run --json` to converge (repeatable; default:
    /// e_eff, e_flex, or stiffness and apparent_modulus, by load case).
    #[arg(long, value_name = "NAME")]
    quantity: Vec<String>,
    #[command(flatten)]
    device: super::Device,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    overrides: super::Overrides,
    /// Draw the modulus against h as STEM.png and STEM.svg, with the
    /// Richardson value and its error band where the sequence is
    /// asymptotic.
    #[arg(long, value_name = "STEM")]
    plot: Option<PathBuf>,
    /// Run the study twice on the same voxel sizes, voxel.fill =
    /// "binary" then "fraction", and report (and plot) both.
    #[arg(long)]
    compare_fill: bool,
}

/// `voxfe converge`: the study (or, with `--compare-fill`, one per fill),
/// printed, and with `--plot` drawn; exit status 3 when a level did not
/// converge.
pub(crate) fn run(a: Args) -> Result<u8, CliError> {
    // --compare-fill: the scene as its fraction leg reads it (every key,
    // voxel.fraction_exponent included, applies there).
    let overrides = super::Overrides {
        set: if a.compare_fill {
            converge::compare_fill_overrides(&a.overrides.set)?
        } else {
            a.overrides.set.clone()
        },
    };
    let scene = load_scene(&a.scene, &overrides, Some(&a.device))?;
    let modulus = match &a.plot {
        Some(stem) => Some(converge::check_plot(&scene, stem, &a.quantity)?),
        None => None,
    };
    super::outputs::Outputs::default()
        .stem("--plot", a.plot.as_deref(), &["png", "svg"])
        .check(&super::outputs::scene_inputs(&scene))?;
    let (levels, ratio) = (a.study.levels, a.study.ratio);
    let provenance = Provenance::of_scene(&scene);
    let mut studies = if a.compare_fill {
        let reports = converge::run_fills(&scene, levels, ratio, &a.quantity, |fill, i, r| {
            on_level_of(&format!("{} fill, level {i}", fill.name()), r)
        })?;
        Studies::fills(reports, provenance)
    } else {
        let r = converge::run(&scene, levels, ratio, &a.quantity, on_level)?;
        Studies::one(r, provenance)
    };
    if let (Some(stem), Some(modulus)) = (&a.plot, modulus) {
        studies.plot(stem, modulus)?;
    }
    if a.json {
        println!("{}", studies.to_json());
    } else {
        print!("{studies}");
    }
    for file in studies.plot.iter().flatten() {
        info(format_args!("wrote {}", file.display()));
    }
    let mut code = 0;
    for (_, r) in studies.studies.iter().filter(|(_, r)| !r.converged) {
        code = study_exit(r);
    }
    Ok(code)
}

/// Prints a level of a study as it finishes, with its warnings.
pub(crate) fn on_level(i: usize, r: &RunReport) {
    on_level_of(&format!("level {i}"), r)
}

/// [`on_level`] for a level named `what`.
fn on_level_of(what: &str, r: &RunReport) {
    for w in r.voxel.warnings.iter().chain(&r.notices) {
        eprintln!("warning: {what}: {w}");
    }
    info(format_args!(
        "{what}: h = {} mm, {} unknowns, {} iterations, {:.1} s",
        r.voxel.voxel_size, r.solve.unknowns, r.solve.iterations, r.solve.solve_seconds
    ));
}

/// 0, or 3 (with an error line) when a level of the study did not converge.
pub(crate) fn study_exit(report: &ConvergeReport) -> u8 {
    if report.converged {
        return 0;
    }
    let l = report.levels.last().expect("a level was solved");
    eprintln!(
        "error: level {} (h = {} mm) did not converge: relative residual {:.3e} after {} iterations; no estimate",
        report.levels.len(),
        l.voxel_size,
        l.relative_residual,
        l.iterations
    );
    EXIT_NOT_CONVERGED
}
