//! `voxfe calibrate`: the fraction exponent of a scene's lattice at its
//! voxel size, from periodic cells ([`voxfe::study::calibrate`]),
//! printed as text or one JSON object with the provenance.

use super::*;
use voxfe::study::calibrate::{calibrate, CalibrateOptions, Calibration, CellSolve};

/// `voxfe calibrate SCENE`: runs the calibration and prints it, with the
/// `--set` line that applies it.
pub(crate) fn cmd_calibrate(
    path: &Path,
    backend: Option<Backend>,
    opts: &CalibrateOptions,
    json: bool,
    set: &[String],
) -> Result<ExitCode, CliError> {
    let scene = Scene::load_as_periodic(path, set, Some(1))?;
    let provenance = Provenance::of_scene(path, &scene, set);
    let progress = |c: &CellSolve| {
        info(format_args!(
            "cell M/{} (h = {:.6} mm), p = {}: E_h = {:.1} MPa ({:.1} s)",
            c.n, c.voxel_size, c.exponent, c.e_h, c.seconds
        ))
    };
    let cal =
        calibrate(path, set, backend, opts, progress).map_err(|source| CliError::Calibrate {
            path: path.to_path_buf(),
            source,
        })?;
    for w in &cal.notices {
        eprintln!("warning: {w}");
    }
    if json {
        let mut v = serde_json::to_value(&cal).expect("a calibration serializes");
        v["provenance"] = provenance.to_json();
        println!("{v}");
    } else {
        print!("{}", text(&cal));
    }
    Ok(ExitCode::SUCCESS)
}

/// The calibration as text.
fn text(c: &Calibration) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let pct = |x: f64| format!("{:+.2} %", 100.0 * x);
    let _ = writeln!(
        s,
        "lattice          {} (M = {} mm{}), {} element",
        c.lattice,
        c.cell,
        c.porosity_nominal.map_or(String::new(), |p| format!(
            ", {:.1} % nominal porosity",
            100.0 * p
        )),
        c.element
    );
    let _ = writeln!(
        s,
        "voxel size       {} mm = M/{}{}",
        c.voxel_size,
        c.n,
        c.d_over_h
            .map_or(String::new(), |d| format!(", D/h = {d:.2}"))
    );
    let cells: Vec<String> = c
        .reference_cells
        .iter()
        .map(|r| format!("M/{} {:.1}", r.n, r.e_h))
        .collect();
    let _ = writeln!(
        s,
        "reference E_h    {:.1} MPa ({}; φ² cells {} MPa)",
        c.reference,
        match c.reference_from {
            "richardson" => "Richardson",
            _ => "the finest cell: the sequence is not asymptotic",
        },
        cells.join(", ")
    );
    let _ = writeln!(s, "                 {}", c.reference_estimate.statement);
    let tried: Vec<String> = c
        .trials
        .iter()
        .map(|t| format!("{} → {}", t.exponent, pct(t.e_h / c.reference - 1.0)))
        .collect();
    let _ = writeln!(s, "trials at M/{}   {}", c.n, tried.join(", "));
    let _ = writeln!(
        s,
        "exponent         p = {} (E_h {:.1} MPa at M/{}, {} of the reference; p = 2 gives {})",
        c.exponent,
        c.e_h,
        c.n,
        pct(c.relative_miss),
        pct(c.relative_miss_p2)
    );
    let _ = writeln!(
        s,
        "apply with       --set voxel.fill=fraction --set voxel.fraction_exponent={}{}",
        c.exponent,
        if c.element == "hex8" {
            String::new()
        } else {
            format!(" --set solver.element={}", c.element)
        }
    );
    let _ = writeln!(s, "time             {:.1} s", c.seconds);
    s
}
