//! `voxfe design` and `voxfe converge`: the searches and studies that run
//! a scene many times, what they print, and their exit status (3 when a
//! level did not converge). `voxfe design` on a periodic scene targets
//! E_h and prints the homogenized report of the design.

use super::*;

pub(crate) fn cmd_design(
    path: &Path,
    opts: &voxfe::study::design::DesignOptions,
    backend: Option<Backend>,
    json: bool,
    set: &[String],
    study: Option<(usize, f64)>,
) -> Result<ExitCode, CliError> {
    if let Some((levels, ratio)) = study {
        voxfe::study::design::check_study(path, set, levels, ratio)?;
    }
    if Scene::load(path, set)?.load_case().is_periodic() {
        return design_periodic(path, opts, backend, json, set);
    }
    let on_solve = |n: usize, phi: f64, report: &voxfe::report::RunReport, e: f64| {
        info(format_args!(
            "solve {n}: porosity {phi:.5} (D = {:.4} mm) -> E_eff = {e:.1} MPa",
            report.voxel.strut_diameter.unwrap_or(f64::NAN)
        ))
    };
    let (design, report) = voxfe::study::design::run(path, set, opts, backend, on_solve)?;
    let solves = design.probes.len();
    let mut m = report.to_json();
    m.insert("target_modulus".into(), opts.target.into());
    m.insert("solves".into(), solves.into());
    // The design's own scene: the base scene with its porosity found.
    let mut design_set = set.to_vec();
    design_set.push(format!("lattice.porosity={}", design.porosity));
    if let Some(p) = scene_provenance(path, &design_set) {
        let p = p.with_backend(&report.solve.backend, &report.solve.adapter);
        m.insert("provenance".into(), p.to_json());
    }
    if !json {
        let v = &report.voxel;
        println!(
            "target E_eff      {:.1} MPa (within {} %)",
            opts.target,
            100.0 * opts.tolerance
        );
        println!(
            "reached E_eff     {:.1} MPa ({:+.2} %) at h = {} mm",
            design.e_eff,
            100.0 * (design.e_eff / opts.target - 1.0),
            v.voxel_size
        );
        if let Some(d) = v.strut_diameter {
            println!("strut diameter D  {d:.4} mm");
        }
        if let Some(t) = v.level {
            println!("gyroid level      {t:.4}");
        }
        println!(
            "porosity          {:.4} measured, {:.4} nominal",
            v.porosity_measured, v.porosity_nominal
        );
        if let Some(p) = v.pore_size {
            println!("pore size         {p:.4} mm");
        }
        println!("solves            {solves}");
    }
    let Some(study) = study else {
        if json {
            println!("{}", serde_json::Value::Object(m));
        }
        return Ok(ExitCode::SUCCESS);
    };
    let conv =
        voxfe::study::design::converged(path, set, design.porosity, study, backend, on_level)?;
    if json {
        let mut c = serde_json::Map::new();
        c.insert("design".into(), m.into());
        print_study(&conv, true, Some(c));
    } else {
        println!("\nconvergence study at the design (E_eff):");
        print_study(&conv, false, None);
    }
    Ok(study_exit(&conv))
}

/// `voxfe design` on a periodic scene: the porosity whose E_h (1/S33 of
/// C^H) hits the target, printed with the homogenized report of the design
/// (as `voxfe homogenize` prints it; `--json`: its JSON object with
/// `target_modulus`, `solves` and the design's provenance).
fn design_periodic(
    path: &Path,
    opts: &voxfe::study::design::DesignOptions,
    backend: Option<Backend>,
    json: bool,
    set: &[String],
) -> Result<ExitCode, CliError> {
    use voxfe::homogenize::run::HomogenizeReport;
    let on_solve = |n: usize, phi: f64, report: &HomogenizeReport, e: f64| {
        info(format_args!(
            "solve {n}: porosity {phi:.5} (D = {:.4} mm) -> E_h = {e:.1} MPa",
            report.voxel.strut_diameter.unwrap_or(f64::NAN)
        ))
    };
    let (design, report) = voxfe::study::design::periodic::run(path, set, opts, backend, on_solve)?;
    for w in report.voxel.warnings.iter().chain(&report.notices) {
        eprintln!("warning: {w}");
    }
    let solves = design.probes.len();
    let mut design_set = set.to_vec();
    design_set.push(format!("lattice.porosity={}", design.porosity));
    if json {
        let mut v = serde_json::to_value(&report).expect("a report serializes");
        v["voigt_order"] = serde_json::json!(voxfe::homogenize::tensor::VOIGT_ORDER);
        v["target_modulus"] = opts.target.into();
        v["e_h"] = design.e_eff.into();
        v["porosity"] = design.porosity.into();
        v["solves"] = solves.into();
        if let Some(p) = scene_provenance(path, &design_set) {
            let r = &report.result;
            v["provenance"] = p.with_backend(&r.backend, &r.adapter).to_json();
        }
        println!("{v}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "target E_h        {:.1} MPa (within {} %; E_h = 1/S33 of C^H, along z)",
        opts.target,
        100.0 * opts.tolerance
    );
    println!(
        "reached E_h       {:.1} MPa ({:+.2} %) at porosity {} (nominal)",
        design.e_eff,
        100.0 * (design.e_eff / opts.target - 1.0),
        design.porosity
    );
    println!("solves            {solves}\n");
    print!("{}", homogenize::text(&report));
    Ok(ExitCode::SUCCESS)
}

/// A study's label on the chart: the fill, with its stiffness exponent
/// when that is not Voigt's 1 ("fraction φ^2").
fn fill_label(voxel: &voxfe::report::VoxelReport) -> String {
    match voxel.fraction_exponent {
        Some(p) if p != 1.0 => format!("{} φ^{p}", voxel.fill),
        _ => voxel.fill.to_string(),
    }
}

/// `voxfe converge`: the study (or, with `--compare-fill`, one per fill),
/// printed, and with `--plot` drawn; exit status 3 when a level did not
/// converge.
#[allow(clippy::too_many_arguments)]
pub(crate) fn cmd_converge(
    path: &Path,
    study: &Study,
    quantities: &[String],
    backend: Option<Backend>,
    json: bool,
    set: &[String],
    plot: Option<&Path>,
    compare_fill: bool,
) -> Result<ExitCode, CliError> {
    // The scene as the fraction leg of --compare-fill reads it (every key,
    // voxel.fraction_exponent included, applies there).
    let mut leg = set.to_vec();
    if compare_fill {
        leg.push("voxel.fill=fraction".into());
    }
    let modulus = match plot {
        Some(stem) => Some(voxfe::study::converge::check_plot(
            path, &leg, stem, quantities,
        )?),
        None => None,
    };
    let reports: Vec<(String, voxfe::study::converge::ConvergeReport)> = if compare_fill {
        voxfe::study::converge::run_fills(
            path,
            set,
            study.levels,
            study.ratio,
            quantities,
            backend,
            |fill, i, r| on_level_of(&format!("{} fill, level {i}", fill.name()), r),
        )?
        .into_iter()
        .map(|(_, r)| (fill_label(&r.finest.voxel), r))
        .collect()
    } else {
        let r = voxfe::study::converge::run(
            path,
            set,
            study.levels,
            study.ratio,
            quantities,
            backend,
            on_level,
        )?;
        vec![(format!("{} fill", fill_label(&r.finest.voxel)), r)]
    };
    let provenance = scene_provenance(path, set).or_else(|| scene_provenance_as(path, &leg, set));
    let mut written = Vec::new();
    if let (Some(stem), Some(modulus)) = (plot, modulus) {
        let labels: Vec<String> = reports
            .iter()
            .map(|(l, _)| match compare_fill {
                true => format!("{l} fill"),
                false => l.clone(),
            })
            .collect();
        let studies: Vec<(&str, &voxfe::study::converge::ConvergeReport)> = labels
            .iter()
            .zip(&reports)
            .map(|(l, (_, r))| (l.as_str(), r))
            .collect();
        written =
            voxfe::study::converge::plot::write_plot(stem, &studies, modulus, provenance.as_ref())
                .map_err(voxfe::study::converge::ConvergeError::from)?;
    }
    let mut extra = serde_json::Map::new();
    if let Some(p) = &provenance {
        extra.insert("provenance".into(), p.to_json());
    }
    if plot.is_some() {
        let files: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        extra.insert("plot".into(), files.into());
    }
    if compare_fill {
        if json {
            let fills: serde_json::Map<String, serde_json::Value> = reports
                .iter()
                .map(|(_, r)| (r.finest.voxel.fill.to_string(), r.to_json().into()))
                .collect();
            extra.insert("compare_fill".into(), true.into());
            extra.insert("fills".into(), fills.into());
            println!("{}", serde_json::Value::Object(extra));
        } else {
            for (label, r) in &reports {
                println!("{label} fill:");
                print_study(r, false, None);
                println!();
            }
        }
    } else {
        print_study(&reports[0].1, json, Some(extra));
    }
    if !json {
        for f in &written {
            println!("wrote {}", f.display());
        }
    }
    let mut code = ExitCode::SUCCESS;
    for (_, r) in reports.iter().filter(|(_, r)| !r.converged) {
        code = study_exit(r);
    }
    Ok(code)
}

/// The provenance of the scene at `path` with the overrides `set` (already
/// loaded once by the command, so it loads again).
fn scene_provenance(path: &Path, set: &[String]) -> Option<Provenance> {
    scene_provenance_as(path, set, set)
}

/// [`scene_provenance`] of the scene loaded with `load`, recording the
/// user's overrides `set` (a --compare-fill study whose exponent only its
/// fraction leg can take).
fn scene_provenance_as(path: &Path, load: &[String], set: &[String]) -> Option<Provenance> {
    let scene = Scene::load(path, load).ok()?;
    Some(Provenance::of_scene(path, &scene, set))
}

/// Prints a level of a study as it finishes, with its warnings.
fn on_level(i: usize, r: &voxfe::report::RunReport) {
    on_level_of(&format!("level {i}"), r)
}

/// [`on_level`] for a level named `what`.
fn on_level_of(what: &str, r: &voxfe::report::RunReport) {
    for w in r.voxel.warnings.iter().chain(&r.notices) {
        eprintln!("warning: {what}: {w}");
    }
    info(format_args!(
        "{what}: h = {} mm, {} unknowns, {} iterations, {:.1} s",
        r.voxel.voxel_size, r.solve.unknowns, r.solve.iterations, r.solve.solve_seconds
    ));
}

/// Prints a study as text or as JSON (`extra`: fields added first).
fn print_study(
    report: &voxfe::study::converge::ConvergeReport,
    json: bool,
    extra: Option<serde_json::Map<String, serde_json::Value>>,
) {
    if json {
        let mut m = extra.unwrap_or_default();
        m.extend(report.to_json());
        println!("{}", serde_json::Value::Object(m));
    } else {
        print!("{report}");
    }
}

/// 0, or 3 (with an error line) when a level of the study did not converge.
fn study_exit(report: &voxfe::study::converge::ConvergeReport) -> ExitCode {
    if report.converged {
        return ExitCode::SUCCESS;
    }
    let l = report.levels.last().expect("a level was solved");
    eprintln!(
        "error: level {} (h = {} mm) did not converge: relative residual {:.3e} after {} iterations; no estimate",
        report.levels.len(),
        l.voxel_size,
        l.relative_residual,
        l.iterations
    );
    ExitCode::from(EXIT_NOT_CONVERGED)
}
