//! `voxfe references` (hidden; `benches/references.sh` builds
//! `src/calibration/references.json` with it): the reference modulus
//! E_ref/E_s of one periodic cell of a lattice at each porosity given
//! ([`voxfe::calibration::reference::compute_reference`]), in tantalum
//! (ν = 0.34) with the incompatible element on the CPU at tolerance 1e-6:
//! what the shipped table holds. One line per porosity, text or JSON
//! {lattice, porosity, e_rel, uncertainty, from, cells, statement,
//! seconds}.

use std::path::Path;
use std::time::Instant;

use super::{info, CliError};
use voxfe::calibration::cell::CellSolve;
use voxfe::calibration::reference::compute_reference;
use voxfe::scene::Scene;

/// Side of the cell, mm (M scales out of E_ref/E_s).
const CELL: f64 = 1.5;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Lattice kind (lattice.kind): rhombic-dodecahedron, bcc, fcc, octet,
    /// diamond, kelvin or gyroid.
    #[arg(long, value_name = "KIND")]
    lattice: String,
    /// Nominal porosity (lattice.porosity; repeatable).
    #[arg(long, value_name = "P", required = true)]
    porosity: Vec<f64>,
    /// Print one JSON object per porosity instead of text.
    #[arg(long)]
    json: bool,
}

/// The scene of the reference of `kind` at `porosity`: one periodic cell
/// in tantalum, incompatible element, CPU, tolerance 1e-6, through the
/// scene parser (every check of a scene applies: an unknown kind or an
/// unreachable porosity is the scene's own error).
pub(crate) fn reference_scene(kind: &str, porosity: f64) -> Result<Scene, CliError> {
    let text = format!(
        r#"name = "reference"

[material]
preset = "tantalum"

[lattice]
kind = {kind}
cell = {CELL}
porosity = {porosity}

[specimen]
shape = "box"
size = [{CELL}, {CELL}, {CELL}]

[voxel]
size = {h}
fill = "fraction"

[load]
case = "periodic"

[solver]
backend = "cpu"
element = "incompatible"
tolerance = 1e-6
"#,
        kind = toml::Value::String(kind.to_string()),
        h = CELL / 30.0,
    );
    Ok(Scene::parse(&text, Path::new("<references>"), &[])?)
}

/// `voxfe references --lattice KIND --porosity P …`: the reference of each
/// porosity, printed as it is computed.
pub(crate) fn run(a: Args) -> Result<u8, CliError> {
    // Every scene first: a bad porosity fails before any solve.
    let scenes = a
        .porosity
        .iter()
        .map(|&p| reference_scene(&a.lattice, p))
        .collect::<Result<Vec<_>, _>>()?;
    for (scene, &porosity) in scenes.iter().zip(&a.porosity) {
        let start = Instant::now();
        let mut notices = Vec::new();
        let progress = |c: &CellSolve| {
            info(format_args!(
                "{} {porosity}: cell M/{}: E/E_s = {:.6e} ({} iterations, {:.1} s)",
                a.lattice, c.n, c.e_rel, c.iterations, c.seconds
            ))
        };
        let r = compute_reference(scene, &mut notices, progress)?;
        for w in &notices {
            eprintln!("warning: {w}");
        }
        let seconds = start.elapsed().as_secs_f64();
        if a.json {
            println!(
                "{}",
                serde_json::json!({
                    "lattice": a.lattice,
                    "porosity": porosity,
                    "e_rel": r.e_rel,
                    "uncertainty": r.uncertainty,
                    "from": r.from,
                    "cells": r.cells,
                    "statement": r.statement,
                    "seconds": seconds,
                })
            );
        } else {
            println!(
                "{} {porosity}: E_ref/E_s = {:.6e} ± {:.2} % ({}; {:.1} s)",
                a.lattice,
                r.e_rel,
                100.0 * r.uncertainty,
                r.from,
                seconds
            );
        }
    }
    Ok(0)
}
