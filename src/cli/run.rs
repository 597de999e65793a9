//! `voxfe voxelize`, `voxfe run` (one scene or several, each reported, the
//! exit status the worst) and `voxfe export-stl`: the commands of single
//! scenes, what they print and which files they write.

use super::*;

pub(crate) fn cmd_voxelize(
    path: &Path,
    json: bool,
    vti: Option<&Path>,
    image: Option<&Path>,
    vtu: Option<&Path>,
    set: &[String],
) -> Result<ExitCode, CliError> {
    let scene = Scene::load(path, set)?;
    if let Some(file) = vtu {
        voxfe::fields::check_writable("--vtu", file)?;
    }
    let provenance = Provenance::of_scene(path, &scene, set);
    let (_, vox, report) = voxelize_scene(&scene)?;
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(file) = vti {
        voxfe::vtk::write_solid_mask(&vox.grid, Some(&provenance), file)?;
    }
    if let Some(file) = vtu {
        voxfe::export::vtu::write_mesh(&vox.grid, Some(&provenance), file)
            .map_err(FieldError::from)?;
    }
    if let Some(file) = image {
        let what = format!(
            "voxfe {} voxelize: scene '{}', grey = 255*phi",
            env!("CARGO_PKG_VERSION"),
            scene.name
        );
        voxfe::image::write(&vox.grid, file, &what)?;
    }
    if json {
        let Ok(serde_json::Value::Object(mut m)) = serde_json::to_value(&report) else {
            unreachable!("a struct serializes to an object")
        };
        m.insert("provenance".into(), provenance.to_json());
        println!("{}", serde_json::Value::Object(m));
    } else {
        println!("{report}");
        for file in [vti, image, vtu].into_iter().flatten() {
            println!("wrote            {}", file.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// How bad an exit status is, to report the worst of several scenes: a
/// failure (1) over bad input (2) over a solve that did not converge (3)
/// over success (0).
fn severity(code: u8) -> u8 {
    match code {
        0 => 0,
        EXIT_NOT_CONVERGED => 1,
        EXIT_BAD_INPUT => 2,
        _ => 3,
    }
}

/// Runs each scene in turn and reports each; a scene that fails is
/// reported as an error naming its file and the next one still runs. The
/// exit status is the worst of the scenes' ([`severity`]).
pub(crate) fn cmd_run(
    paths: &[PathBuf],
    backend: Option<Backend>,
    adapter: Option<String>,
    json: bool,
    fields: &FieldOutput,
    set: &[String],
    error_from: Option<&Path>,
) -> Result<ExitCode, CliError> {
    fields.check_scene_count(paths.len())?;
    let one = |path: &Path, adapter: Option<String>, several: bool| {
        let opts = RunOpts {
            backend,
            adapter,
            json,
            fields,
            set,
            error_from,
            several,
        };
        run_one(path, &opts)
    };
    if paths.len() == 1 {
        return one(&paths[0], adapter, false).map(ExitCode::from);
    }
    let mut worst = 0u8;
    for path in paths {
        let code = match one(path, adapter.clone(), true) {
            Ok(code) => code,
            Err(e) => {
                let code = exit_status(&e);
                let text = format!("{:#}", anyhow::Error::new(e));
                let named = path.display().to_string();
                if text.contains(&named) {
                    eprintln!("error: {text}");
                } else {
                    eprintln!("error: scene '{named}': {text}");
                }
                code
            }
        };
        if severity(code) > severity(worst) {
            worst = code;
        }
    }
    Ok(ExitCode::from(worst))
}

/// The options of one scene of `voxfe run`.
struct RunOpts<'a> {
    backend: Option<Backend>,
    adapter: Option<String>,
    json: bool,
    fields: &'a FieldOutput,
    set: &'a [String],
    /// `--error-from`: a convergence study of the scene.
    error_from: Option<&'a Path>,
    /// One of several scenes (a blank line before its text).
    several: bool,
}

/// Runs one scene of `voxfe run`: prints its result (with the
/// discretization error from `--error-from`'s study, which is checked to be
/// of this scene before the solve), then writes its field files (a field
/// file that cannot be written is an error after the result, which is
/// already on stdout). Returns the exit status.
fn run_one(path: &Path, o: &RunOpts) -> Result<u8, CliError> {
    let (json, fields, set) = (o.json, o.fields, o.set);
    let mut scene = Scene::load(path, set)?;
    if let Some(a) = &o.adapter {
        scene.solver.adapter = Some(a.clone());
    }
    if scene.load_case().is_periodic() {
        fields.check_periodic()?;
        return super::homogenize_one(path, &scene, o.backend, json, set, o.several, None);
    }
    fields.check(&scene)?;
    let study = match o.error_from {
        Some(f) => Some(voxfe::study::converge::error::StudyFile::load(f, &scene)?),
        None => None,
    };
    let backend = o.backend.unwrap_or(scene.solver.backend);
    let provenance = Provenance::of_scene(path, &scene, set);
    let mut report = run_scene(&scene, backend).map_err(|source| CliError::Run {
        path: path.to_path_buf(),
        source,
    })?;
    let provenance = provenance.with_backend(&report.solve.backend, &report.solve.adapter);
    let discretization = match &study {
        Some(s) => {
            let q = voxfe::study::converge::modulus_quantity(&scene.load_case());
            let value = report.to_json().get(q).and_then(serde_json::Value::as_f64);
            Some(s.error_at(&scene, scene.voxel.size, value)?)
        }
        None => None,
    };
    if let Some(d) = &discretization {
        if d.relative.is_some() {
            // The study's estimate replaces the D/h rule of thumb.
            report
                .voxel
                .warnings
                .retain(|w| !voxfe::pipeline::voxelize::is_resolution_warning(w));
        } else {
            eprintln!("warning: {}", d.statement);
        }
    }
    for w in report.voxel.warnings.iter().chain(&report.notices) {
        eprintln!("warning: {w}");
    }
    if json {
        let mut m = report.to_json();
        if let Some(d) = &discretization {
            m.insert(
                "discretization_error".into(),
                serde_json::to_value(d).expect("serializes"),
            );
        }
        m.insert("provenance".into(), provenance.to_json());
        println!("{}", serde_json::Value::Object(m));
    } else {
        if o.several {
            println!();
        }
        println!("{report}");
        if let Some(d) = discretization.as_ref().filter(|d| d.relative.is_some()) {
            println!("discretization   {}", d.statement);
        }
    }
    let mut code = 0;
    if !report.solve.converged {
        eprintln!(
            "error: scene '{}' did not converge: relative residual {:.3e} after {} iterations (tolerance {:.1e})",
            path.display(),
            report.solve.relative_residual,
            report.solve.iterations,
            report.solve.tolerance
        );
        code = EXIT_NOT_CONVERGED;
    }
    // Whatever goes wrong writing the fields, the result is out already.
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let fields = FieldOutput {
        provenance: Some(provenance),
        ..fields.clone()
    };
    fields.write(&report, |file| {
        info(format_args!("wrote {}", file.display()))
    })?;
    Ok(code)
}

pub(crate) fn cmd_export_stl(
    path: &Path,
    out: &Path,
    segments: usize,
    set: &[String],
) -> Result<ExitCode, CliError> {
    let scene = Scene::load(path, set)?;
    let triangles =
        voxfe::implant::stl::export_cylinder(&scene.cylinder_envelope()?, out, segments)?;
    println!("wrote {triangles} triangles to {}", out.display());
    Ok(ExitCode::SUCCESS)
}
