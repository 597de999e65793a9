//! Sweeps: the product of scene variations, sharded over machines, with
//! results as CSV / JSON Lines and Gibson–Ashby fits.
//!
//! A sweep is a base scene plus `--vary KEY=VALUES` arguments. `VALUES` is a
//! comma-separated list (`bcc,octet,diamond`) or a numeric range
//! `start:stop:count` with both ends included (`0.70:0.88:7`). The cases are
//! the Cartesian product of the variations, the first `--vary` varying
//! slowest; case `i` of `n` is the same on every machine, so `--shard I/N`
//! (run the cases with `i % N == I`) and [`merge`] give back the unsharded
//! sweep row for row.
//!
//! The Gibson–Ashby relation `E_eff/E_s = C·ρ^n` (ρ relative density) is
//! fitted by least squares on `ln(E_eff/E_s) = ln C + n ln ρ`; R² is that of
//! the log–log fit ([`fit_gibson_ashby`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::Path;

/// Why a sweep could not be set up or its results read.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("--vary '{arg}': {why}; expected KEY=a,b,c or KEY=start:stop:count, e.g. lattice.porosity=0.70:0.88:7")]
    BadVary { arg: String, why: String },
    #[error("--shard '{arg}': expected I/N with 0 ≤ I < N, e.g. 0/4")]
    BadShard { arg: String },
    #[error("cannot {what} '{path}': {source}")]
    Io {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("'{path}' line {line}: {why}")]
    BadResults {
        path: String,
        line: usize,
        why: String,
    },
    #[error("shards do not fit together: {0}")]
    Mismatch(String),
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
}

/// One `--vary` argument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variation {
    pub key: String,
    /// Values as `--set` would take them.
    pub values: Vec<String>,
}

impl Variation {
    /// Parses `KEY=a,b,c` or `KEY=start:stop:count`.
    pub fn parse(arg: &str) -> Result<Variation, SweepError> {
        let bad = |why: &str| SweepError::BadVary {
            arg: arg.to_string(),
            why: why.to_string(),
        };
        let (key, spec) = arg.split_once('=').ok_or_else(|| bad("no '='"))?;
        let key = key.trim();
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(bad("empty key"));
        }
        let spec = spec.trim();
        let values = if !spec.starts_with('[') && spec.split(':').count() == 3 {
            let parts: Vec<&str> = spec.split(':').collect();
            let start: f64 = parts[0]
                .trim()
                .parse()
                .map_err(|_| bad("start is not a number"))?;
            let stop: f64 = parts[1]
                .trim()
                .parse()
                .map_err(|_| bad("stop is not a number"))?;
            let count: usize = parts[2]
                .trim()
                .parse()
                .map_err(|_| bad("count is not a whole number"))?;
            if count == 0 || !start.is_finite() || !stop.is_finite() {
                return Err(bad("count must be at least 1 and the ends finite"));
            }
            if count == 1 && start != stop {
                return Err(bad("a range of one value needs start = stop"));
            }
            (0..count)
                .map(|i| {
                    let t = if count == 1 {
                        0.0
                    } else {
                        i as f64 / (count - 1) as f64
                    };
                    // Round away the last-bit noise of the interpolation so the
                    // value reads as it would be typed (0.73, not 0.7299999…).
                    let v = start + (stop - start) * t;
                    format!("{}", (v * 1e12).round() / 1e12)
                })
                .collect()
        } else {
            let values: Vec<String> = spec.split(',').map(|v| v.trim().to_string()).collect();
            if values.iter().any(String::is_empty) {
                return Err(bad("empty value in the list"));
            }
            values
        };
        Ok(Variation {
            key: key.to_string(),
            values,
        })
    }
}

/// One case of a sweep: its index and its `key=value` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub index: usize,
    pub settings: Vec<(String, String)>,
}

impl Case {
    /// The settings as `--set` arguments.
    pub fn set_args(&self) -> Vec<String> {
        self.settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }
}

/// The Cartesian product of the variations, the first varying slowest.
pub fn cases(variations: &[Variation]) -> Vec<Case> {
    let total: usize = variations.iter().map(|v| v.values.len()).product();
    (0..total)
        .map(|index| {
            let mut rest = index;
            let mut settings = vec![(String::new(), String::new()); variations.len()];
            for (slot, v) in settings.iter_mut().zip(variations).rev() {
                let n = v.values.len();
                *slot = (v.key.clone(), v.values[rest % n].clone());
                rest /= n;
            }
            Case { index, settings }
        })
        .collect()
}

/// `--shard I/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Parses `I/N`.
    pub fn parse(arg: &str) -> Result<Shard, SweepError> {
        let bad = || SweepError::BadShard {
            arg: arg.to_string(),
        };
        let (i, n) = arg.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether case `index` belongs to this shard.
    pub fn owns(&self, index: usize) -> bool {
        index % self.count == self.index
    }
}

/// A fitted Gibson–Ashby relation `E/E_s = C·ρ^n`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GibsonAshby {
    pub c: f64,
    pub n: f64,
    /// Coefficient of determination of the log–log fit.
    pub r2: f64,
    pub points: usize,
}

/// Least-squares fit of `ln y = ln C + n ln ρ` over `(ρ, y)` pairs with
/// `ρ, y > 0`. `None` with fewer than two distinct densities.
pub fn fit_gibson_ashby(points: &[(f64, f64)]) -> Option<GibsonAshby> {
    let logs: Vec<(f64, f64)> = points
        .iter()
        .filter(|(r, y)| *r > 0.0 && *y > 0.0 && r.is_finite() && y.is_finite())
        .map(|(r, y)| (r.ln(), y.ln()))
        .collect();
    let m = logs.len() as f64;
    if logs.len() < 2 {
        return None;
    }
    let mx = logs.iter().map(|p| p.0).sum::<f64>() / m;
    let my = logs.iter().map(|p| p.1).sum::<f64>() / m;
    let sxx: f64 = logs.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = logs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = logs.iter().map(|p| (p.1 - my).powi(2)).sum();
    if sxx <= 1e-300 {
        return None;
    }
    let n = sxy / sxx;
    let ln_c = my - n * mx;
    let ss_res: f64 = logs.iter().map(|p| (p.1 - ln_c - n * p.0).powi(2)).sum();
    let r2 = if syy > 0.0 { 1.0 - ss_res / syy } else { 1.0 };
    Some(GibsonAshby {
        c: ln_c.exp(),
        n,
        r2,
        points: logs.len(),
    })
}

/// One row of results: the case index, its varied keys, `status` ("ok" or
/// "failed"), `error` (the reason, for failed cases) and every field of
/// `voxfe run --json`.
pub type Row = Map<String, Value>;

/// Writes rows as JSON Lines.
pub fn write_jsonl(path: &Path, rows: &[Row]) -> Result<(), SweepError> {
    let mut text = String::new();
    for r in rows {
        text.push_str(&serde_json::to_string(r).expect("rows serialize"));
        text.push('\n');
    }
    std::fs::write(path, text).map_err(|source| io("write", path, source))
}

/// Reads rows written by [`write_jsonl`].
pub fn read_jsonl(path: &Path) -> Result<Vec<Row>, SweepError> {
    let text = std::fs::read_to_string(path).map_err(|source| io("read", path, source))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(bad_results(path, n, "not a JSON object".into())),
            Err(e) => Err(bad_results(path, n, e.to_string())),
        })
        .collect()
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

fn io(what: &'static str, path: &Path, source: std::io::Error) -> SweepError {
    SweepError::Io {
        what,
        path: path.display().to_string(),
        source,
    }
}

fn bad_results(path: &Path, line: usize, why: String) -> SweepError {
    SweepError::BadResults {
        path: path.display().to_string(),
        line: line + 1,
        why,
    }
}

/// Combines the rows of several shards: sorted by case index, each index
/// exactly once, `0..total` all present.
pub fn merge_rows(shards: Vec<Vec<Row>>, total: usize) -> Result<Vec<Row>, SweepError> {
    let mut rows: Vec<Row> = shards.into_iter().flatten().collect();
    let index = |r: &Row| r.get("case").and_then(Value::as_u64).map(|i| i as usize);
    if let Some(r) = rows.iter().find(|r| index(r).is_none()) {
        return Err(SweepError::Mismatch(format!(
            "a row has no case index: {}",
            Value::Object(r.clone())
        )));
    }
    rows.sort_by_key(|r| index(r).unwrap());
    for (expected, r) in rows.iter().enumerate() {
        let got = index(r).unwrap();
        if got != expected {
            return Err(SweepError::Mismatch(if got < expected {
                format!("case {got} appears twice")
            } else {
                format!("case {expected} is missing")
            }));
        }
    }
    if rows.len() != total {
        return Err(SweepError::Mismatch(format!(
            "{} cases found, the sweep has {total}",
            rows.len()
        )));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn ranges_and_lists() {
        let v = Variation::parse("lattice.porosity=0.70:0.88:7").unwrap();
        assert_eq!(
            v.values,
            ["0.7", "0.73", "0.76", "0.79", "0.82", "0.85", "0.88"]
        );
        let v = Variation::parse("lattice.kind=bcc, octet,diamond").unwrap();
        assert_eq!(v.values, ["bcc", "octet", "diamond"]);
        assert!(Variation::parse("lattice.porosity=0.7:0.8:0").is_err());
        assert!(Variation::parse("lattice.porosity").is_err());
        assert!(Variation::parse("=1,2").is_err());
        assert!(Variation::parse("a=1,,2").is_err());
    }

    #[test]
    fn product_first_varies_slowest() {
        let v = [
            Variation::parse("a=1,2").unwrap(),
            Variation::parse("b=x,y,z").unwrap(),
        ];
        let c = cases(&v);
        assert_eq!(c.len(), 6);
        assert_eq!(c[0].set_args(), ["a=1", "b=x"]);
        assert_eq!(c[2].set_args(), ["a=1", "b=z"]);
        assert_eq!(c[3].set_args(), ["a=2", "b=x"]);
        assert_eq!(c[5].index, 5);
    }

    #[test]
    fn shards_partition_the_cases() {
        assert!(Shard::parse("2/2").is_err());
        assert!(Shard::parse("0/0").is_err());
        let s: Vec<Shard> = (0..3)
            .map(|i| Shard::parse(&format!("{i}/3")).unwrap())
            .collect();
        for case in 0..10 {
            assert_eq!(s.iter().filter(|s| s.owns(case)).count(), 1);
        }
    }

    #[test]
    fn fit_recovers_c_and_n_from_synthetic_data() {
        let (c, n) = (0.37, 2.13);
        let pts: Vec<(f64, f64)> = [0.12, 0.15, 0.2, 0.25, 0.3]
            .iter()
            .map(|&r: &f64| (r, c * r.powf(n)))
            .collect();
        let f = fit_gibson_ashby(&pts).unwrap();
        assert_relative_eq!(f.c, c, max_relative = 1e-6);
        assert_relative_eq!(f.n, n, max_relative = 1e-6);
        assert_relative_eq!(f.r2, 1.0, epsilon = 1e-12);
        assert!(fit_gibson_ashby(&pts[..1]).is_none());
    }

    #[test]
    fn merge_checks_every_case_once() {
        let row = |i: u64| {
            let mut m = Row::new();
            m.insert("case".into(), i.into());
            m
        };
        let merged = merge_rows(vec![vec![row(0), row(2)], vec![row(1)]], 3).unwrap();
        assert_eq!(
            merged
                .iter()
                .map(|r| r["case"].as_u64().unwrap())
                .collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(merge_rows(vec![vec![row(0), row(2)]], 3)
            .unwrap_err()
            .to_string()
            .contains("case 1 is missing"));
        assert!(merge_rows(vec![vec![row(0), row(0), row(1)]], 2)
            .unwrap_err()
            .to_string()
            .contains("twice"));
    }

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

/// What a sweep directory says about itself (`sweep.json`), so that shards
/// can be checked against each other before they are merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub scene: String,
    pub set: Vec<String>,
    pub variations: Vec<Variation>,
    pub total: usize,
    pub shard: Option<Shard>,
}

/// The outcome of one case as a results row.
pub fn case_row(case: &Case, result: Result<Row, String>) -> Row {
    let mut row = Row::new();
    row.insert("case".into(), case.index.into());
    for (k, v) in &case.settings {
        row.insert(k.clone(), parse_value(v));
    }
    match result {
        Ok(fields) => {
            let converged = fields
                .get("converged")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            row.insert(
                "status".into(),
                if converged { "ok" } else { "failed" }.into(),
            );
            let error = if converged {
                Value::Null
            } else {
                let res = fields
                    .get("relative_residual")
                    .and_then(Value::as_f64)
                    .unwrap_or(f64::NAN);
                format!("did not converge: relative residual {res:.3e}").into()
            };
            row.insert("error".into(), error);
            for (k, v) in fields {
                row.entry(k).or_insert(v);
            }
        }
        Err(e) => {
            row.insert("status".into(), "failed".into());
            row.insert("error".into(), e.into());
        }
    }
    row
}

/// A `--set` value as JSON: a number or boolean when it reads as one.
fn parse_value(v: &str) -> Value {
    if let Ok(x) = v.parse::<f64>() {
        serde_json::Number::from_f64(x).map_or_else(|| v.into(), Value::Number)
    } else if let Ok(b) = v.parse::<bool>() {
        b.into()
    } else {
        v.into()
    }
}

/// Writes `sweep.json`, `results.jsonl`, `results.csv`, the plots (PNG and
/// SVG, see [`crate::plot::sweep_plots`]) and `summary.md`.
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
    let plots = crate::plot::sweep_plots(dir, rows, &keys)?;
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

/// Reads the shards in `dirs` and combines them.
pub fn merge(dirs: &[std::path::PathBuf]) -> Result<(Manifest, Vec<Row>), SweepError> {
    let mut manifest: Option<Manifest> = None;
    let mut shards = Vec::new();
    for d in dirs {
        let m = d.join("sweep.json");
        let text = std::fs::read_to_string(&m).map_err(|source| io("read", &m, source))?;
        let mine: Manifest =
            serde_json::from_str(&text).map_err(|e| bad_results(&m, 0, e.to_string()))?;
        if let Some(first) = &manifest {
            if first.scene != mine.scene
                || first.set != mine.set
                || first.variations != mine.variations
            {
                return Err(SweepError::Mismatch(format!(
                    "'{}' is a different sweep (scene, --set or --vary differ)",
                    d.display()
                )));
            }
        } else {
            manifest = Some(mine);
        }
        shards.push(read_jsonl(&d.join("results.jsonl"))?);
    }
    let mut manifest =
        manifest.ok_or_else(|| SweepError::Mismatch("no directories to merge".into()))?;
    let rows = merge_rows(shards, manifest.total)?;
    manifest.shard = None;
    Ok((manifest, rows))
}
