//! The files a sweep writes: `sweep.json`, `results.jsonl`, `results.csv`,
//! the plots (the series a sweep draws, built from its rows) and
//! `summary.md`.

use serde_json::Value;
use std::path::{Path, PathBuf};

use super::{io, Manifest, Row, SweepError};
use crate::fit::fit_gibson_ashby;
use crate::plot::{png_and_svg, Chart, PlotError, PowerLaw, Series};

/// Writes rows as JSON Lines.
pub fn write_jsonl(path: &Path, rows: &[Row]) -> Result<(), SweepError> {
    let mut text = String::new();
    for r in rows {
        text.push_str(&serde_json::to_string(r).expect("rows serialize"));
        text.push('\n');
    }
    std::fs::write(path, text).map_err(|source| io("write", path, source))
}

/// Writes rows as CSV: one column per field seen in any row, in the order
/// first seen; nested values (arrays) as their JSON text.
pub fn write_csv(path: &Path, rows: &[Row]) -> Result<(), SweepError> {
    let mut columns: Vec<String> = Vec::new();
    for r in rows {
        for k in r.keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let mut text = columns
        .iter()
        .map(|c| csv_field(c))
        .collect::<Vec<_>>()
        .join(",");
    text.push('\n');
    for r in rows {
        let line: Vec<String> = columns
            .iter()
            .map(|c| match r.get(c) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => csv_field(s),
                Some(v) => csv_field(&v.to_string()),
            })
            .collect();
        text.push_str(&line.join(","));
        text.push('\n');
    }
    std::fs::write(path, text).map_err(|source| io("write", path, source))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes `sweep.json`, `results.jsonl`, `results.csv`, the plots (PNG and
/// SVG, see [`write_plots`]) and `summary.md`.
pub fn write_outputs(dir: &Path, manifest: &Manifest, rows: &[Row]) -> Result<(), SweepError> {
    std::fs::create_dir_all(dir).map_err(|source| io("create", dir, source))?;
    let m = dir.join("sweep.json");
    std::fs::write(
        &m,
        serde_json::to_string_pretty(manifest).expect("manifest serializes"),
    )
    .map_err(|source| io("write", &m, source))?;
    write_jsonl(&dir.join("results.jsonl"), rows)?;
    write_csv(&dir.join("results.csv"), rows)?;
    let keys: Vec<&str> = manifest.variations.iter().map(|v| v.key.as_str()).collect();
    let plots = write_plots(dir, rows, &keys)?;
    let mut text = summary(manifest, rows);
    if !plots.is_empty() {
        text.push_str("\n## Plots\n\n");
        for p in plots
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "png"))
        {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            text.push_str(&format!("![{name}]({name}) (also as SVG)\n\n"));
        }
    }
    let s = dir.join("summary.md");
    std::fs::write(&s, text).map_err(|source| io("write", &s, source))
}

/// The modulus a row reports, with its name and unit.
fn modulus(row: &Row) -> Option<(&'static str, f64)> {
    for (key, label) in [
        ("e_eff", "E_eff (MPa)"),
        ("e_flex", "E_f (MPa)"),
        ("stiffness", "k (N/mm)"),
    ] {
        if let Some(v) = row.get(key).and_then(Value::as_f64) {
            return Some((label, v));
        }
    }
    None
}

/// `summary.md`: every case, then a Gibson–Ashby fit per lattice kind.
pub fn summary(manifest: &Manifest, rows: &[Row]) -> String {
    let keys: Vec<&str> = manifest.variations.iter().map(|v| v.key.as_str()).collect();
    let mut s = format!("# Sweep of {}\n\n{} cases", manifest.scene, manifest.total);
    let failed = rows
        .iter()
        .filter(|r| r.get("status").and_then(Value::as_str) != Some("ok"))
        .count();
    s.push_str(&format!(", {failed} failed.\n\n"));
    s.push_str(&format!(
        "| case | {} | status | modulus | porosity measured | iterations |\n",
        keys.join(" | ")
    ));
    s.push_str(&format!("|{}\n", " --- |".repeat(keys.len() + 5)));
    for r in rows {
        let cell = |k: &str| match r.get(k) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(v)) => v.clone(),
            Some(v) => v.to_string(),
        };
        let m = modulus(r)
            .map(|(l, v)| format!("{l} = {v:.2}"))
            .unwrap_or_else(|| cell("error"));
        let varied: Vec<String> = keys.iter().map(|k| cell(k)).collect();
        let porosity = r
            .get("porosity_measured")
            .and_then(Value::as_f64)
            .map(|p| format!("{p:.4}"))
            .unwrap_or_default();
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            cell("case"),
            varied.join(" | "),
            cell("status"),
            m,
            porosity,
            cell("iterations")
        ));
    }
    // Gibson–Ashby per lattice kind, over the compression cases that succeeded.
    let mut kinds: Vec<String> = Vec::new();
    for r in rows {
        if let Some(k) = r.get("lattice").and_then(Value::as_str) {
            if !kinds.iter().any(|x| x == k) {
                kinds.push(k.to_string());
            }
        }
    }
    let mut fits = String::new();
    for kind in &kinds {
        let pts: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.get("lattice").and_then(Value::as_str) == Some(kind))
            .filter_map(|r| {
                let rho = 1.0 - r.get("porosity_measured")?.as_f64()?;
                let e = r.get("e_eff")?.as_f64()?;
                let es = r.get("material_e")?.as_f64()?;
                Some((rho, e / es))
            })
            .collect();
        if let Some(f) = fit_gibson_ashby(&pts) {
            fits.push_str(&format!(
                "| {kind} | {:.4} | {:.4} | {:.5} | {} |\n",
                f.c, f.n, f.r2, f.points
            ));
        }
    }
    if !fits.is_empty() {
        s.push_str("\n## Gibson–Ashby fits: E_eff / E_s = C · ρ^n (ρ = 1 − measured porosity)\n\n");
        s.push_str("| lattice | C | n | R² | cases |\n| --- | --- | --- | --- | --- |\n");
        s.push_str(&fits);
    }
    s
}

/// The rows that succeeded, grouped by lattice kind (in order of appearance).
fn by_lattice(rows: &[Row]) -> Vec<(String, Vec<&Row>)> {
    let mut groups: Vec<(String, Vec<&Row>)> = Vec::new();
    for r in rows {
        if r.get("status").and_then(Value::as_str) != Some("ok") {
            continue;
        }
        let kind = r
            .get("lattice")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        match groups.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, v)) => v.push(r),
            None => groups.push((kind, vec![r])),
        }
    }
    groups
}

fn num(r: &Row, key: &str) -> Option<f64> {
    r.get(key).and_then(Value::as_f64).filter(|v| v.is_finite())
}

/// The plots of a sweep, written to `dir`; returns the files written.
///
/// - Compression (`e_eff`): `modulus-density`, log–log E_eff/E_s against
///   relative density per lattice kind, with the Gibson–Ashby fits.
/// - Three-point bending (`e_flex`): `flexural-modulus`, E_f against
///   measured porosity per lattice kind.
/// - Implant compression (`stiffness`): `stiffness`, k against the first
///   varied key.
pub fn write_plots(dir: &Path, rows: &[Row], varied: &[&str]) -> Result<Vec<PathBuf>, PlotError> {
    let groups = by_lattice(rows);
    let mut written = Vec::new();
    let size = (900, 640);
    // E_eff/E_s against ρ.
    let series: Vec<Series> = groups
        .iter()
        .map(|(kind, rs)| {
            let pts = rs
                .iter()
                .filter_map(|r| {
                    let rho = 1.0 - num(r, "porosity_measured")?;
                    Some((rho, num(r, "e_eff")? / num(r, "material_e")?))
                })
                .filter(|&(x, y)| x > 0.0 && y > 0.0)
                .collect();
            Series {
                label: kind.clone(),
                points: pts,
            }
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    if !series.is_empty() {
        let fits: Vec<Option<PowerLaw>> = series
            .iter()
            .map(|s| {
                let f = fit_gibson_ashby(&s.points)?;
                Some(PowerLaw {
                    label: format!("{}: {:.3}·ρ^{:.2} (R² {:.3})", s.label, f.c, f.n, f.r2),
                    c: f.c,
                    n: f.n,
                    x_limits: (1e-3, 1.0),
                })
            })
            .collect();
        let chart = Chart {
            title: "Effective modulus against relative density",
            x_desc: "relative density ρ = 1 − measured porosity (–)",
            y_desc: "E_eff / E_s (–)",
            log: true,
            series: &series,
            fits: &fits,
            join: false,
        };
        written.extend(png_and_svg(&dir.join("modulus-density"), size, &chart)?);
    }
    // E_f against porosity.
    let series: Vec<Series> = groups
        .iter()
        .map(|(kind, rs)| {
            let mut pts: Vec<(f64, f64)> = rs
                .iter()
                .filter_map(|r| Some((100.0 * num(r, "porosity_measured")?, num(r, "e_flex")?)))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series {
                label: kind.clone(),
                points: pts,
            }
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    if !series.is_empty() {
        let chart = Chart {
            title: "Flexural modulus (three-point bending)",
            x_desc: "measured porosity (%)",
            y_desc: "E_f (MPa)",
            log: false,
            series: &series,
            fits: &[],
            join: true,
        };
        written.extend(png_and_svg(&dir.join("flexural-modulus"), size, &chart)?);
    }
    // Implant stiffness against the first numeric varied key.
    let key = varied.iter().find(|k| {
        rows.iter()
            .any(|r| num(r, k).is_some() && num(r, "stiffness").is_some())
    });
    if let Some(key) = key {
        let series: Vec<Series> = groups
            .iter()
            .map(|(kind, rs)| {
                let mut pts: Vec<(f64, f64)> = rs
                    .iter()
                    .filter_map(|r| Some((num(r, key)?, num(r, "stiffness")?)))
                    .collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                Series {
                    label: kind.clone(),
                    points: pts,
                }
            })
            .filter(|s| !s.points.is_empty())
            .collect();
        let x_desc = format!("{key}{}", unit_of(key));
        let chart = Chart {
            title: "Implant axial stiffness",
            x_desc: &x_desc,
            y_desc: "k (N/mm)",
            log: false,
            series: &series,
            fits: &[],
            join: true,
        };
        written.extend(png_and_svg(&dir.join("stiffness"), size, &chart)?);
    }
    Ok(written)
}

/// The unit of a scene key, for axis labels.
fn unit_of(key: &str) -> &'static str {
    match key.rsplit('.').next().unwrap_or("") {
        "porosity" => " (–)",
        "wedge" => " (°)",
        "preset" | "kind" | "platens" | "case" | "backend" | "shape" => "",
        "e" => " (MPa)",
        "nu" => " (–)",
        _ => " (mm)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_unions_columns() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        let mut a = Row::new();
        a.insert("case".into(), 0.into());
        a.insert("error".into(), "bad, \"very\"".into());
        let mut b = Row::new();
        b.insert("case".into(), 1.into());
        b.insert("dims".into(), serde_json::json!([1, 2, 3]));
        write_csv(&p, &[a, b]).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            "case,error,dims\n0,\"bad, \"\"very\"\"\",\n1,,\"[1,2,3]\"\n"
        );
    }
}
