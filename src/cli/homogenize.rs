//! `voxfe homogenize` (and `voxfe run` on a periodic scene): C^H of a
//! periodic lattice cell, printed as text or one JSON object with the
//! provenance; exit 3 when a solve did not converge.

use super::*;
use voxfe::homogenize::run::{homogenize_scene, HomogenizeReport};
use voxfe::homogenize::tensor::VOIGT_ORDER;

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
        let mut v = serde_json::to_value(&report).expect("a report serializes");
        v["voigt_order"] = serde_json::json!(VOIGT_ORDER);
        v["provenance"] = provenance.to_json();
        println!("{v}");
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
    use std::fmt::Write as _;
    let r = &report.result;
    let mut s = format!("{}\n", report.voxel);
    let [a, b, c] = report.cells;
    let _ = writeln!(
        s,
        "load case        periodic homogenization, {a}×{b}×{c} cells"
    );
    if r.converged {
        let _ = writeln!(
            s,
            "C^H (MPa)        Voigt order {}, engineering shear strains",
            VOIGT_ORDER.join(" ")
        );
        for row in &r.stiffness.0 {
            let cells: Vec<String> = row.iter().map(|v| format!("{v:>12.1}")).collect();
            let _ = writeln!(s, "  {}", cells.join(""));
        }
    } else {
        let _ = writeln!(s, "C^H              not reported: a solve did not converge");
    }
    if let Some(d) = &report.derived {
        let e = &d.engineering;
        let _ = writeln!(
            s,
            "symmetry error   {:.2e} (‖C − Cᵀ‖/‖C‖)",
            d.symmetry_error
        );
        let _ = writeln!(s, "E_h              {:.1} MPa (1/S33, along z)", d.e_h);
        let _ = writeln!(
            s,
            "E1 E2 E3         {:.1} {:.1} {:.1} MPa",
            e.e1, e.e2, e.e3
        );
        let _ = writeln!(
            s,
            "G23 G13 G12      {:.1} {:.1} {:.1} MPa",
            e.g23, e.g13, e.g12
        );
        let _ = writeln!(
            s,
            "ν12 ν23 ν31      {:.4} {:.4} {:.4}",
            e.nu12, e.nu23, e.nu31
        );
        let _ = writeln!(
            s,
            "Zener ratio      {:.4} (cubic projection; deviation from cubic {:.2e})",
            d.zener_ratio, d.cubic_deviation
        );
        let dir = |v: [f64; 3]| format!("[{:.3}, {:.3}, {:.3}]", v[0], v[1], v[2]);
        let _ = writeln!(
            s,
            "E(d) min / max   {:.1} MPa along {} / {:.1} MPa along {} (ratio {:.3})",
            d.e_min,
            dir(d.d_min),
            d.e_max,
            dir(d.d_max),
            d.e_max_over_min
        );
    }
    let _ = writeln!(s, "solid fraction   {:.4}", r.solid_fraction);
    let solves: Vec<String> = r
        .columns
        .iter()
        .map(|c| {
            format!(
                "{} {} it {:.1e}",
                c.strain, c.iterations, c.relative_residual
            )
        })
        .collect();
    let _ = writeln!(s, "solves           {}", solves.join(", "));
    let _ = writeln!(
        s,
        "unknowns         {} ({} active nodes), {} element, {} preconditioner{}",
        r.unknowns,
        r.active_nodes,
        r.element.name(),
        match r.preconditioner {
            voxfe::fem::Preconditioner::Multigrid => "multigrid",
            voxfe::fem::Preconditioner::Jacobi => "jacobi",
        },
        r.multigrid_levels
            .as_ref()
            .map_or(String::new(), |l| format!(" ({} levels)", l.len()))
    );
    let _ = writeln!(
        s,
        "solve time       {:.2} s (set-up {:.2} s) on {} ({})",
        r.solve_seconds, r.setup_seconds, r.backend, r.adapter
    );
    s
}
