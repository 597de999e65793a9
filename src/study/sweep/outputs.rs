//! The files a sweep writes: `sweep.json`, `results.jsonl`, `results.csv`,
//! the plots (the series a sweep draws, built from its rows) and
//! `summary.md`; [`ResultsWriter`] appends the rows as the cases finish.

use serde_json::{Map, Value};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::band::{self, band, Band, BAND_THRESHOLD, MARK};
use super::homogenized::{self, cell};
use super::plots::{by_lattice, finite, relative_modulus, relative_strength};
use super::{io, Manifest, Row, RunFields, SweepError};

/// The plots a sweep may write (without extension; each as PNG and SVG).
const PLOTS: [&str; 4] = [
    "modulus-density",
    "strength-density",
    "flexural-modulus",
    "stiffness",
];

/// Every file voxfe writes in a sweep's directory: what `--force` clears.
pub const OWN_FILES: [&str; 12] = [
    "sweep.json",
    "results.jsonl",
    "results.csv",
    "summary.md",
    "modulus-density.png",
    "modulus-density.svg",
    "strength-density.png",
    "strength-density.svg",
    "flexural-modulus.png",
    "flexural-modulus.svg",
    "stiffness.png",
    "stiffness.svg",
];

/// The columns of `results.csv`, known before the first solve: `case`, the
/// varied keys, `status`, `error`, then every run field (those of
/// `voxfe run --json`) whose name is not a varied key, then the provenance
/// columns [`crate::provenance::CSV_COLUMNS`] (`voxfe_version`, `commit`,
/// `scene_hash`, `scene_file_hash`).
pub fn columns(keys: &[&str]) -> Vec<String> {
    let Value::Object(run) = serde_json::to_value(RunFields::default()).expect("serializes") else {
        unreachable!("a struct serializes to an object")
    };
    let mut c = vec!["case".to_string()];
    c.extend(keys.iter().map(|k| k.to_string()));
    c.extend(["status".to_string(), "error".to_string()]);
    for k in run.keys() {
        if !c.contains(k) {
            c.push(k.clone());
        }
    }
    for k in crate::provenance::CSV_COLUMNS {
        if !c.iter().any(|x| x == k) {
            c.push(k.to_string());
        }
    }
    c
}

/// One CSV line of `row` under `columns`; a column the row lacks is read
/// from its `provenance` object.
fn csv_line(columns: &[String], row: &Map<String, Value>) -> String {
    let provenance = row.get("provenance");
    let mut line = columns
        .iter()
        .map(|c| match row.get(c).or_else(|| provenance?.get(c)) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => csv_field(s),
            Some(v) => csv_field(&v.to_string()),
        })
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// Appends the rows of a running sweep to `results.jsonl` and
/// `results.csv`, each row written through to the files as its case
/// finishes, so that an interrupted sweep keeps its rows.
#[derive(Debug)]
pub struct ResultsWriter {
    jsonl: (PathBuf, std::fs::File),
    csv: (PathBuf, std::fs::File),
    columns: Vec<String>,
    /// Every row written, for a rewrite of `results.csv` under a wider
    /// header when a row brings a field the header lacks (the columns of
    /// a `[sweep] converge` study).
    rows: Vec<Map<String, Value>>,
}

impl ResultsWriter {
    /// (Re)writes both files in `dir` with the stable CSV header of the
    /// varied `keys` and the rows `done` (each whole, through a temporary
    /// file: an interruption leaves the old rows or the new), then opens
    /// them to append.
    pub fn create(dir: &Path, keys: &[&str], done: &[Row]) -> Result<ResultsWriter, SweepError> {
        let mut columns = columns(keys);
        let rows: Vec<Map<String, Value>> = done.iter().map(Row::to_json).collect();
        widen(&mut columns, &rows);
        let mut jsonl = String::new();
        for r in done {
            jsonl.push_str(&serde_json::to_string(r).expect("rows serialize"));
            jsonl.push('\n');
        }
        Ok(ResultsWriter {
            jsonl: open_append(&dir.join("results.jsonl"), &jsonl)?,
            csv: open_append(&dir.join("results.csv"), &csv_text(&columns, &rows))?,
            columns,
            rows,
        })
    }

    /// Appends `row` to both files and flushes them. A row with a field
    /// the CSV header lacks rewrites `results.csv` under the wider header.
    pub fn append(&mut self, row: &Row) -> Result<(), SweepError> {
        let mut json = serde_json::to_string(row).expect("rows serialize");
        json.push('\n');
        let map = row.to_json();
        let csv = csv_line(&self.columns, &map);
        self.rows.push(map);
        if widen(&mut self.columns, &self.rows[self.rows.len() - 1..]) {
            let path = self.csv.0.clone();
            self.csv = open_append(&path, &csv_text(&self.columns, &self.rows))?;
            let (p, f) = &mut self.jsonl;
            return f
                .write_all(json.as_bytes())
                .and_then(|_| f.flush())
                .map_err(|source| io("write", p, source));
        }
        for ((p, f), text) in [(&mut self.jsonl, json), (&mut self.csv, csv)] {
            f.write_all(text.as_bytes())
                .and_then(|_| f.flush())
                .map_err(|source| io("write", p, source))?;
        }
        Ok(())
    }
}

/// Writes `text` to `path` whole, then opens it to append.
fn open_append(path: &Path, text: &str) -> Result<(PathBuf, std::fs::File), SweepError> {
    write_whole(path, text)?;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map(|f| (path.to_path_buf(), f))
        .map_err(|source| io("write", path, source))
}

/// Adds to `columns` every field of `rows` not among them, in the order
/// first seen; whether any was added.
fn widen(columns: &mut Vec<String>, rows: &[Map<String, Value>]) -> bool {
    let before = columns.len();
    for r in rows {
        // The provenance object is spread over its own columns.
        for k in r.keys().filter(|k| *k != "provenance") {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    columns.len() > before
}

/// The CSV text of `rows` under the header `columns`.
fn csv_text(columns: &[String], rows: &[Map<String, Value>]) -> String {
    let mut text = columns
        .iter()
        .map(|c| csv_field(c))
        .collect::<Vec<_>>()
        .join(",");
    text.push('\n');
    for r in rows {
        text.push_str(&csv_line(columns, r));
    }
    text
}

/// Writes `text` to `path` through a temporary file renamed over it, so
/// that an interruption leaves the old file or the new one.
fn write_whole(path: &Path, text: &str) -> Result<(), SweepError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(|source| io("write", &tmp, source))?;
    std::fs::rename(&tmp, path).map_err(|source| io("write", path, source))
}
use crate::fit::fit_gibson_ashby;

/// Writes rows as JSON Lines.
pub fn write_jsonl(path: &Path, rows: &[Row]) -> Result<(), SweepError> {
    let mut text = String::new();
    for r in rows {
        text.push_str(&serde_json::to_string(r).expect("rows serialize"));
        text.push('\n');
    }
    write_whole(path, &text)
}

/// Writes rows as CSV: the [`columns`] of the first row's varied keys
/// (then any other field seen in a row, in the order first seen); nested
/// values (arrays) as their JSON text.
pub fn write_csv(path: &Path, rows: &[Row]) -> Result<(), SweepError> {
    let keys: Vec<&str> = rows
        .first()
        .map(|r| r.settings.iter().map(|(k, _)| k.as_str()).collect())
        .unwrap_or_default();
    let mut columns = columns(&keys);
    let rows: Vec<Map<String, Value>> = rows.iter().map(Row::to_json).collect();
    widen(&mut columns, &rows);
    write_whole(path, &csv_text(&columns, &rows))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes `sweep.json`, `results.jsonl`, `results.csv`, the plots (PNG and
/// SVG, see [`super::plots::write_plots`]; a plot of an earlier sweep that this one does
/// not draw is removed) and `summary.md`.
pub fn write_outputs(dir: &Path, manifest: &Manifest, rows: &[Row]) -> Result<(), SweepError> {
    std::fs::create_dir_all(dir).map_err(|source| io("create", dir, source))?;
    let m = dir.join("sweep.json");
    write_whole(
        &m,
        &serde_json::to_string_pretty(manifest).expect("manifest serializes"),
    )?;
    write_jsonl(&dir.join("results.jsonl"), rows)?;
    write_csv(&dir.join("results.csv"), rows)?;
    let keys: Vec<&str> = manifest.variations.iter().map(|v| v.key.as_str()).collect();
    let plots = super::plots::write_plots(dir, rows, &keys)?;
    if let Some(p) = &manifest.provenance {
        for png in plots
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "png"))
        {
            crate::provenance::add_png_text(png, &p.pairs()).map_err(|e| SweepError::Io {
                what: "add provenance to",
                path: png.display().to_string(),
                error: std::io::Error::other(e.to_string()),
            })?;
        }
    }
    for name in PLOTS {
        for ext in ["png", "svg"] {
            let p = dir.join(format!("{name}.{ext}"));
            if p.is_file() && !plots.contains(&p) {
                std::fs::remove_file(&p).map_err(|source| io("remove", &p, source))?;
            }
        }
    }
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
    write_whole(&dir.join("summary.md"), &text)
}

/// The modulus a row reports, with its name and unit.
fn modulus(row: &Row) -> Option<(&'static str, f64)> {
    let run = row.run.as_ref()?;
    [
        (run.solve.e_eff, "E_eff (MPa)"),
        (run.homogenized.as_ref().map(|h| h.e_h), "E_h (MPa)"),
        (run.solve.e_flex, "E_f (MPa)"),
        (run.solve.stiffness, "k (N/mm)"),
    ]
    .into_iter()
    .find_map(|(v, label)| Some((label, finite(v)?)))
}

/// The strength estimate a row reports, with its name and unit.
fn strength(row: &Row) -> Option<(&'static str, f64)> {
    let run = row.run.as_ref()?;
    [
        (run.strength.yield_stress, "σ_y,app (MPa)"),
        (run.strength.flexural_strength, "σ_f,y (MPa)"),
        (run.strength.failure_load, "F_fail (N)"),
    ]
    .into_iter()
    .find_map(|(v, label)| Some((label, finite(v)?)))
}

/// The rows of a Gibson–Ashby table, one per lattice kind with a fit of
/// `point` over its rows.
fn fit_table(rows: &[Row], point: fn(&Row) -> Option<(f64, f64)>) -> String {
    let mut fits = String::new();
    for (kind, rs) in by_lattice(rows.iter()) {
        let pts: Vec<(f64, f64)> = rs.into_iter().filter_map(point).collect();
        if let Some(f) = fit_gibson_ashby(&pts) {
            // R² and n's interval only with a residual degree of freedom.
            let (r2, ci) = match f.quality {
                Some(q) => (
                    format!("{:.5}", q.r2),
                    format!("[{:.4}, {:.4}]", q.n_ci95.0, q.n_ci95.1),
                ),
                None => ("–".to_string(), "no fit quality (< 3 points)".to_string()),
            };
            fits.push_str(&format!(
                "| {kind} | {:.4} | {:.4} | {ci} | {r2} | {} |\n",
                f.c, f.n, f.points
            ));
        }
    }
    if fits.is_empty() {
        return fits;
    }
    format!("| lattice | C | n | n 95 % CI | R² | cases |\n| --- | --- | --- | --- | --- | --- |\n{fits}")
}

/// `summary.md`: every case, then a Gibson–Ashby fit per lattice kind of
/// the modulus and of the first-yield strength estimate.
pub fn summary(manifest: &Manifest, rows: &[Row]) -> String {
    let keys: Vec<&str> = manifest.variations.iter().map(|v| v.key.as_str()).collect();
    let mut s = format!("# Sweep of {}\n\n{} cases", manifest.scene, manifest.total);
    let failed = rows.iter().filter(|r| !r.is_ok()).count();
    s.push_str(&format!(", {failed} failed.\n\n"));
    s.push_str(&format!(
        "| case | {} | status | modulus | error band | strength (estimate) | porosity measured | iterations |\n",
        keys.join(" | ")
    ));
    s.push_str(&format!("|{}\n", " --- |".repeat(keys.len() + 7)));
    let mut marked = 0;
    let labelled = |v: Option<(&str, f64)>| v.map(|(l, v)| format!("{l} = {v:.2}"));
    for r in rows {
        let m = labelled(modulus(r)).unwrap_or_else(|| r.error.clone().unwrap_or_default());
        let strength = labelled(strength(r)).unwrap_or_default();
        let band = band(r);
        marked += usize::from(band.as_ref().is_some_and(Band::is_marked));
        // A case that ran but is marked is not plainly "ok".
        let status = match &band {
            Some(Band::Above(_)) => format!(
                "{}, {MARK} band > {:.0} %",
                r.status.as_str(),
                100.0 * BAND_THRESHOLD
            ),
            Some(Band::NoEstimate(_)) => format!("{}, {MARK} no band", r.status.as_str()),
            _ => r.status.as_str().to_string(),
        };
        let band = band.map(|b| b.cell()).unwrap_or_default();
        let varied: Vec<String> = keys.iter().map(|k| cell(r.setting(k))).collect();
        let porosity = r
            .run
            .as_ref()
            .and_then(|run| finite(Some(run.voxel.porosity_measured)))
            .map(|p| format!("{p:.4}"))
            .unwrap_or_default();
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.case,
            varied.join(" | "),
            status,
            m,
            band,
            strength,
            porosity,
            r.run
                .as_ref()
                .map(|run| run.solve.iterations.to_string())
                .unwrap_or_default()
        ));
    }
    if marked > 0 {
        s.push_str(&format!(
            "\n{MARK} {marked} of {} cases: {} (threshold {:.0} %). The band comes with the calibrated \
             exponent (voxel.fill = \"fraction\", voxel.fraction_exponent = \"auto\", the defaults); binary \
             voxels, an exponent set by hand or an image have none (each run states the known error at its D/h). \
             A finer voxel.size narrows a band.\n",
            rows.len(),
            band::legend(),
            100.0 * BAND_THRESHOLD
        ));
    }
    // Gibson–Ashby per lattice kind, over the compression cases that succeeded.
    let fits = fit_table(rows, relative_modulus);
    if !fits.is_empty() {
        s.push_str("\n## Gibson–Ashby fits: E_eff / E_s = C · ρ^n (ρ = 1 − measured porosity)\n\n");
        s.push_str(&fits);
    }
    let fits = fit_table(rows, homogenized::relative_e_h);
    if !fits.is_empty() {
        s.push_str(
            "\n## Gibson–Ashby fits on the homogenized modulus: E_h / E_s = C · ρ^n \
             (E_h = 1/S33 of C^H, along z; ρ = 1 − measured porosity)\n\n",
        );
        s.push_str(&fits);
    }
    s.push_str(&homogenized::summary_table(rows, &keys));
    let fits = fit_table(rows, relative_strength);
    if !fits.is_empty() {
        s.push_str(
            "\n## Strength fits: σ_y,app / σ_y = C · ρ^n (first yield at the 99 % volume percentile of von Mises)\n\n\
             Estimates from a linear solution of the ideal geometry, not a measured strength of an as-built part.\n\n",
        );
        s.push_str(&fits);
    }
    let fits = fit_table(rows, super::plots::relative_offset_yield);
    if !fits.is_empty() {
        s.push_str(
            "\n## Offset yield fits: σ_0.2 / σ_y = C · ρ^n (`[sweep] plastic`: the elastoplastic J2 curve of each case, ISO 13314 offset 0.002)\n\n\
             From the ideal geometry at each case's voxel size (docs/plastic.md: what is and is not validated).\n\n",
        );
        s.push_str(&fits);
    }
    if let Some(p) = &manifest.provenance {
        s.push('\n');
        s.push_str(&p.markdown());
        let commits = row_commits(rows);
        if commits.len() > 1 {
            s.push_str(&format!(
                "- rows come from builds of {} commits: {}\n",
                commits.len(),
                commits.join(", ")
            ));
        }
    }
    s
}

/// The distinct commits of the builds that produced `rows`, in order of
/// appearance.
pub fn row_commits(rows: &[Row]) -> Vec<String> {
    let mut commits: Vec<String> = Vec::new();
    for p in rows.iter().filter_map(|r| r.provenance.as_ref()) {
        if !commits.contains(&p.commit) {
            commits.push(p.commit.clone());
        }
    }
    commits
}

#[cfg(test)]
mod tests {
    use super::super::{case_row, Case, RunFields};
    use super::*;

    #[test]
    fn csv_quotes_and_unions_columns() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        let case = |index| Case {
            index,
            settings: vec![("lattice.kind".into(), "bcc".into())],
        };
        let a = case_row(&case(0), Err("bad, \"very\"".into()));
        let mut run = RunFields::default();
        run.voxel.dims = [1, 2, 3];
        run.solve.converged = true;
        let b = case_row(&case(1), Ok(run));
        write_csv(&p, &[a, b]).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("case,lattice.kind,status,error,name,lattice,dims,voxel_size,"),
            "{text}"
        );
        let columns = lines[0].split(',').count();
        assert_eq!(
            lines[1],
            format!(
                "0,bcc,failed,\"bad, \"\"very\"\"\"{}",
                ",".repeat(columns - 4)
            )
        );
        assert!(
            lines[2].starts_with("1,bcc,ok,,,,\"[1,2,3]\",0.0,"),
            "{text}"
        );
    }

    /// The strength fit recovers an exact power law σ/σ_y = 0.3·ρ^1.5 from
    /// rows whose yield stress follows it, and draws its own plot.
    #[test]
    fn strength_is_fitted_beside_the_modulus_with_its_own_plot() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<Row> = [0.15, 0.2, 0.3, 0.45]
            .iter()
            .enumerate()
            .map(|(i, &rho): (usize, &f64)| {
                let mut run = RunFields::default();
                run.voxel.lattice = "bcc".into();
                run.voxel.porosity_measured = 1.0 - rho;
                run.solve.converged = true;
                run.solve.e_eff = Some(1000.0 * 0.8 * rho.powi(2));
                run.material_e = 1000.0;
                run.criteria.yield_strength = Some(200.0);
                run.strength.yield_stress = Some(200.0 * 0.3 * rho.powf(1.5));
                let case = Case {
                    index: i,
                    settings: vec![],
                };
                case_row(&case, Ok(run))
            })
            .collect();
        let manifest = Manifest {
            scene: "s.toml".into(),
            scene_hash: String::new(),
            set: vec![],
            variations: vec![],
            total: rows.len(),
            shard: None,
            provenance: None,
        };
        let text = summary(&manifest, &rows);
        let part = text.split("## Strength fits").nth(1).expect(&text);
        assert!(part.contains("| bcc | 0.3000 | 1.5000 |"), "{text}");
        assert!(part.contains("not a measured strength"), "{text}");
        let modulus = text.split("## Gibson").nth(1).unwrap();
        assert!(modulus.contains("| bcc | 0.8000 | 2.0000 |"), "{text}");
        // ρ = 0.45: 200 · 0.3 · 0.45^1.5 = 18.11 MPa in the strength column.
        assert!(text.contains("| σ_y,app (MPa) = 18.11 |"), "{text}");
        let written = super::super::plots::write_plots(dir.path(), &rows, &[]).unwrap();
        assert!(written.contains(&dir.path().join("strength-density.png")));
        let svg = std::fs::read_to_string(dir.path().join("strength-density.svg")).unwrap();
        assert!(
            svg.contains("σ_y,app / σ_y") && svg.contains("0.300·ρ^1.50"),
            "{svg:.300}"
        );
    }
}
