//! `voxfe fit SCENE --tests FILE.csv`: simulates each tested specimen as
//! the scene prints it, fits the knockdown models to the measured values
//! and prints the table (or `--json`); `--out DIR` also writes `fit.json`
//! (what a scene's `[as_built] from` reads), `fit.txt` and the plots.

use std::path::PathBuf;

use super::{info, load_scene, CliError};
use voxfe::study::as_built::model::ModelKind;
use voxfe::study::as_built::{self, DEFAULT_OFFSETS};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The scene the specimens were printed as (lattice, material, voxel
    /// size, compression); each row of the tests sets its own lattice
    /// size and cube.
    scene: PathBuf,
    /// The tests: a CSV file, one row a specimen (docs/guide.md,
    /// "As-built calibration").
    #[arg(long, value_name = "FILE.csv")]
    tests: PathBuf,
    /// The models fitted (comma-separated): constant, power-law, strut-offset.
    #[arg(long, value_delimiter = ',', default_value = "constant,power-law,strut-offset", value_parser = parse_model)]
    models: Vec<ModelKind>,
    /// The strut offsets δ simulated for strut-offset, as fractions of the
    /// thinnest specimen's strut (0 among them).
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        value_name = "FRACTIONS"
    )]
    offsets: Option<Vec<f64>>,
    /// Specimens solved at once. Default: all the CPU's threads when the
    /// solves run on the CPU (results do not change, peak memory grows up
    /// to this many specimens'), 1 on a GPU.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    jobs: Option<u32>,
    /// Print the fit as one JSON object (with the provenance) instead of text.
    #[arg(long)]
    json: bool,
    /// Also write fit.json, fit.txt, parity.png/.svg and
    /// modulus-porosity.png/.svg into this folder.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    device: super::Device,
    #[command(flatten)]
    overrides: super::Overrides,
}

fn parse_model(s: &str) -> Result<ModelKind, String> {
    ModelKind::from_name(s.trim()).ok_or_else(|| {
        format!(
            "'{s}': allowed: {}",
            ModelKind::ALL.map(ModelKind::name).join(", ")
        )
    })
}

pub(crate) fn run(a: Args) -> Result<u8, CliError> {
    let scene = load_scene(&a.scene, &a.overrides, Some(&a.device))?;
    let tests = as_built::data::read(&a.tests).map_err(as_built::FitError::from)?;
    let offsets: Vec<f64> = if a.models.contains(&ModelKind::StrutOffset) {
        a.offsets
            .clone()
            .unwrap_or_else(|| DEFAULT_OFFSETS.to_vec())
    } else {
        Vec::new()
    };
    let jobs = a.jobs.map_or_else(
        || {
            if voxfe::pipeline::solver::Solver::new(&scene.solver).runs_on_cpu() {
                rayon::current_num_threads()
            } else {
                1
            }
        },
        |n| n as usize,
    );
    info(format_args!(
        "{} specimens, {} at once (--jobs)",
        tests.specimens.len(),
        jobs.min(tests.specimens.len())
    ));
    let sims = as_built::simulate(&scene, &tests, &offsets, jobs, |line| {
        info(format_args!("{line}"))
    })?;
    let report = as_built::fit_tests(&scene, &tests, sims, &a.models)?;
    let json = report.to_json();
    if a.json {
        println!("{json}");
    } else {
        print!("{report}");
    }
    if let Some(dir) = &a.out {
        let write = |name: &str, text: String| {
            let path = dir.join(name);
            std::fs::create_dir_all(dir)
                .and_then(|_| std::fs::write(&path, text))
                .map_err(|e| CliError::Write {
                    path: path.clone(),
                    error: e.to_string(),
                })
        };
        write("fit.json", format!("{json:#}\n"))?;
        write("fit.txt", report.to_string())?;
        let files = as_built::report::write_plots(&report, dir)?;
        if let Some(p) = &report.provenance {
            for f in files
                .iter()
                .filter(|f| f.extension().is_some_and(|e| e == "png"))
            {
                let _ = voxfe::provenance::add_png_text(f, &p.pairs());
            }
        }
        info(format_args!(
            "wrote {} (fit.json: use it with [as_built] from = \"{}\")",
            dir.display(),
            dir.join("fit.json").display()
        ));
    }
    Ok(0)
}
