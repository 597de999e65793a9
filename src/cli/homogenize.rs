//! `voxfe homogenize` (and `voxfe run` on a periodic scene): C^H of a
//! periodic lattice cell, printed as text or one JSON object with the
//! provenance; exit 3 when a solve did not converge.

use super::*;
use voxfe::homogenize::run::{homogenize_scene, HomogenizeReport};

/// `voxfe homogenize SCENE [--cells N]`: the scene as a periodic cell of
/// N×N×N lattice cells (default: the scene's own size when it is periodic
/// already, else 1), whatever its load case.
pub(crate) fn cmd_homogenize(
    path: &Path,
    cells: Option<usize>,
    plot: Option<&Path>,
    backend: Option<Backend>,
    adapter: Option<String>,
    json: bool,
    set: &[String],
) -> Result<ExitCode, CliError> {
    let mut scene = Scene::load_as_periodic(path, set, cells)?;
    if let Some(a) = adapter {
        scene.solver.adapter = Some(a);
    }
    if let Some(stem) = plot {
        voxfe::fields::check_writable("--plot", &stem.with_extension("png"))?;
    }
    homogenize_one(path, &scene, backend, json, set, false, plot).map(ExitCode::from)
}

/// Homogenizes the periodic `scene` (read from `path`) and prints it;
/// returns the exit status (3 when a solve did not converge).
pub(crate) fn homogenize_one(
    path: &Path,
    scene: &Scene,
    backend: Option<Backend>,
    json: bool,
    set: &[String],
    several: bool,
    plot: Option<&Path>,
) -> Result<u8, CliError> {
    let backend = backend.unwrap_or(scene.solver.backend);
    let provenance = Provenance::of_scene(path, scene, set);
    let report = homogenize_scene(scene, backend).map_err(|source| CliError::Homogenize {
        path: path.to_path_buf(),
        source,
    })?;
    let r = &report.result;
    let provenance = provenance.with_backend(&r.backend, &r.adapter);
    for w in report.voxel.warnings.iter().chain(&report.notices) {
        eprintln!("warning: {w}");
    }
    if json {
        let mut m = report.to_json();
        m.insert("provenance".into(), provenance.to_json());
        println!("{}", serde_json::Value::Object(m));
    } else {
        if several {
            println!();
        }
        print!("{}", text(&report));
    }
    if !r.converged {
        let worst = r.unconverged();
        eprintln!(
            "error: scene '{}' did not converge (tolerance {:.1e}): {worst}",
            path.display(),
            r.tolerance
        );
        return Ok(EXIT_NOT_CONVERGED);
    }
    if let Some(stem) = plot {
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        let title = format!(
            "Directional Young's modulus of {} ({}, {:.1} % porous)",
            scene.name,
            report.voxel.lattice,
            100.0 * report.voxel.porosity_measured
        );
        let label = report.voxel.lattice.to_string();
        let files = voxfe::homogenize::polar::plot_directional(
            stem,
            &[(label.as_str(), &r.stiffness)],
            &title,
        )?;
        for f in &files {
            if f.extension().is_some_and(|e| e == "png") {
                voxfe::provenance::add_png_text(f, &provenance.pairs())
                    .map_err(FieldError::from)?;
            }
            info(format_args!("wrote {}", f.display()));
        }
    }
    Ok(0)
}

/// The text report: the voxelization, C^H and how it was solved.
pub(crate) fn text(report: &HomogenizeReport) -> String {
    report.to_string()
}
