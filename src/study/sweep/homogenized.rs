//! Sweep rows of periodic cases (`load.case = "periodic"`): the columns a
//! homogenized case adds to its row ([`HomogenizedFields`]: E_h, the Zener
//! ratio, the anisotropy ratio E_max/E_min, the symmetry error and the 21
//! upper-triangle components of C^H), the row of a
//! [`HomogenizeReport`], and what the summary and the modulus–density
//! plot take from them (E_h / E_s against ρ, the table of C^H per case).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::{Row, RunFields};
use crate::fem::SolveResult;
use crate::homogenize::run::HomogenizeReport;
use crate::homogenize::tensor::Homogenized;

/// The derived quantities of C^H as flat row columns, in this order:
/// `e_h` (1/S33, MPa), `zener_ratio`, `e_max_over_min`, `e_min`, `e_max`
/// (MPa), `symmetry_error`, `cubic_deviation`, then `c11 c12 … c16 c22 …
/// c66`, the upper triangle of the symmetric part (C + Cᵀ)/2 of C^H in MPa
/// (the C every derived quantity is computed from; Voigt indices 1…6 = 11,
/// 22, 33, 23, 13, 12, engineering shears), then `e_h_error_estimate`
/// (the relative error band of E_h; absent from rows written before it).
/// A NaN reads and writes as `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct HomogenizedFields {
    pub e_h: f64,
    pub zener_ratio: f64,
    pub e_max_over_min: f64,
    pub e_min: f64,
    pub e_max: f64,
    pub symmetry_error: f64,
    pub cubic_deviation: f64,
    /// (C + Cᵀ)/2 of C^H, MPa (symmetric: the row holds its upper triangle).
    pub c: [[f64; 6]; 6],
    /// The relative error band of E_h (the calibration's, exponent
    /// `"auto"`); `None` where the run cannot estimate it.
    pub e_h_error_estimate: Option<f64>,
}

/// The column of E_h's error band.
const BAND: &str = "e_h_error_estimate";

/// The scalar columns, in order.
const SCALARS: [&str; 7] = [
    "e_h",
    "zener_ratio",
    "e_max_over_min",
    "e_min",
    "e_max",
    "symmetry_error",
    "cubic_deviation",
];

/// `(column, i, j)` of the upper triangle of C^H, row by row: `c11` …
/// `c66` (Voigt indices from 1).
fn components() -> impl Iterator<Item = (String, usize, usize)> {
    (0..6).flat_map(|i| (i..6).map(move |j| (format!("c{}{}", i + 1, j + 1), i, j)))
}

impl HomogenizedFields {
    /// The columns of the derived quantities of C^H.
    pub fn of(d: &Homogenized) -> HomogenizedFields {
        HomogenizedFields {
            e_h: d.e_h,
            zener_ratio: d.zener_ratio,
            e_max_over_min: d.e_max_over_min,
            e_min: d.e_min,
            e_max: d.e_max,
            symmetry_error: d.symmetry_error,
            cubic_deviation: d.cubic_deviation,
            c: std::array::from_fn(|i| std::array::from_fn(|j| (d.c[i][j] + d.c[j][i]) / 2.0)),
            e_h_error_estimate: None,
        }
    }

    fn scalars(&self) -> [f64; 7] {
        [
            self.e_h,
            self.zener_ratio,
            self.e_max_over_min,
            self.e_min,
            self.e_max,
            self.symmetry_error,
            self.cubic_deviation,
        ]
    }
}

impl Serialize for HomogenizedFields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(SCALARS.len() + 22))?;
        for (k, v) in SCALARS.iter().zip(self.scalars()) {
            m.serialize_entry(k, &v)?;
        }
        for (k, i, j) in components() {
            m.serialize_entry(&k, &self.c[i][j])?;
        }
        m.serialize_entry(BAND, &self.e_h_error_estimate)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for HomogenizedFields {
    /// Reads the columns from a row's fields (every other field ignored);
    /// an error when one is missing or not a number (or `null`), so that
    /// a row without them reads as `None` (`#[serde(flatten)]`).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<HomogenizedFields, D::Error> {
        let m = Map::<String, Value>::deserialize(d)?;
        let get = |k: &str| -> Result<f64, D::Error> {
            match m.get(k) {
                Some(Value::Null) => Ok(f64::NAN),
                Some(v) => v
                    .as_f64()
                    .ok_or_else(|| serde::de::Error::custom(format!("{k}: {v} is not a number"))),
                None => Err(serde::de::Error::custom(format!("no {k}"))),
            }
        };
        let mut s = [0.0; 7];
        for (v, k) in s.iter_mut().zip(SCALARS) {
            *v = get(k)?;
        }
        let mut c = [[0.0; 6]; 6];
        for (k, i, j) in components() {
            c[i][j] = get(&k)?;
            c[j][i] = c[i][j];
        }
        let [e_h, zener_ratio, e_max_over_min, e_min, e_max, symmetry_error, cubic_deviation] = s;
        Ok(HomogenizedFields {
            e_h_error_estimate: m.get(BAND).and_then(Value::as_f64),
            e_h,
            zener_ratio,
            e_max_over_min,
            e_min,
            e_max,
            symmetry_error,
            cubic_deviation,
            c,
        })
    }
}

impl RunFields {
    /// The row of a homogenized periodic case: the voxelization's fields,
    /// `converged` when all six solves did, the largest iteration count and
    /// relative residual of the six, the timings and the backend, load
    /// case `periodic`, and the columns of C^H ([`HomogenizedFields`])
    /// when it was reported. No E_eff and no strength estimate.
    pub fn from_homogenized(r: &HomogenizeReport) -> RunFields {
        let h = &r.result;
        let worst = |f: fn(&crate::homogenize::solve::ColumnSolve) -> f64| {
            h.columns.iter().map(f).fold(f64::NAN, f64::max)
        };
        let mut run = RunFields::from_voxel(&r.voxel, "periodic", r.material.e);
        run.solve = SolveResult {
            converged: h.converged,
            active_nodes: h.active_nodes,
            unknowns: h.unknowns,
            iterations: h.columns.iter().map(|c| c.iterations).max().unwrap_or(0),
            relative_residual: worst(|c| c.relative_residual),
            tolerance: h.tolerance,
            solve_seconds: h.solve_seconds,
            setup_seconds: h.setup_seconds,
            iterations_seconds: h.solve_seconds - h.setup_seconds,
            backend: h.backend.clone(),
            adapter: h.adapter.clone(),
            preconditioner: h.preconditioner,
            element: h.element,
            multigrid_levels: h.multigrid_levels.clone(),
            ..std::mem::take(&mut run.solve)
        };
        run.criteria = Default::default();
        run.homogenized = r.derived.as_ref().map(|d| HomogenizedFields {
            e_h_error_estimate: r.accuracy.error_estimate,
            ..HomogenizedFields::of(d)
        });
        run
    }
}

/// The homogenized columns of a row that has them.
pub(super) fn fields(row: &Row) -> Option<&HomogenizedFields> {
    row.run.as_ref()?.homogenized.as_ref()
}

/// `(ρ, E_h/E_s)` of a homogenized row, ρ = 1 − measured porosity.
pub(super) fn relative_e_h(row: &Row) -> Option<(f64, f64)> {
    let run = row.run.as_ref()?;
    let e_h = fields(row)?.e_h;
    let rho = 1.0 - run.voxel.porosity_measured;
    let y = e_h / run.material_e;
    (rho.is_finite() && y.is_finite()).then_some((rho, y))
}

/// A value as a Markdown table cell (of this table and of the sweep's
/// summary): strings bare, `null` empty.
pub(super) fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(v)) => v.clone(),
        Some(v) => v.to_string(),
    }
}

/// The table of the homogenized cases of `rows` for `summary.md`: per
/// case C11, C12, C44, E_h, the Zener ratio and E_max/E_min; empty when
/// no row has them.
pub(super) fn summary_table(rows: &[Row], keys: &[&str]) -> String {
    let mut t = String::new();
    for r in rows {
        let Some(h) = fields(r) else { continue };
        let varied: Vec<String> = keys.iter().map(|k| cell(r.setting(k))).collect();
        t.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.4} | {:.4} |\n",
            r.case,
            varied.join(" | "),
            h.c[0][0],
            h.c[0][1],
            h.c[3][3],
            h.e_h,
            h.zener_ratio,
            h.e_max_over_min
        ));
    }
    if t.is_empty() {
        return t;
    }
    format!(
        "\n## Homogenized stiffness C^H (MPa; Voigt 1…6 = 11 22 33 23 13 12)\n\n\
         E_h = 1/S33, the homogenized modulus along z; Zener ratio of the cubic projection; \
         E_max/E_min over all directions (the anisotropy ratio).\n\n\
         | case | {} | C11 | C12 | C44 | E_h (MPa) | Zener ratio | E_max/E_min |\n|{}\n{t}",
        keys.join(" | "),
        " --- |".repeat(keys.len() + 7)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The columns read back bit for bit, NaN as `null`; a row without
    /// them reads as `None`.
    #[test]
    fn columns_round_trip() {
        let mut c = [[0.0; 6]; 6];
        for (n, (_, i, j)) in components().enumerate() {
            c[i][j] = 1000.0 + n as f64 / 3.0;
            c[j][i] = c[i][j];
        }
        let h = HomogenizedFields {
            e_h: 1234.5678,
            zener_ratio: 1.75,
            e_max_over_min: 1.6,
            e_min: 1000.0,
            e_max: 1600.0,
            symmetry_error: f64::NAN,
            cubic_deviation: 1e-4,
            c,
            e_h_error_estimate: Some(0.021),
        };
        let run = RunFields {
            homogenized: Some(h.clone()),
            ..Default::default()
        };
        let v = serde_json::to_value(&run).unwrap();
        assert_eq!(v["c16"], c[0][5]);
        assert_eq!(v["c66"], c[5][5]);
        assert_eq!(v["symmetry_error"], Value::Null);
        assert!(v.get("c61").is_none());
        assert_eq!(v["e_h_error_estimate"], 0.021);
        let back: RunFields = serde_json::from_value(v).unwrap();
        let b = back.homogenized.unwrap();
        assert_eq!((b.e_h, b.c), (h.e_h, h.c));
        assert_eq!(b.e_h_error_estimate, Some(0.021));
        assert!(b.symmetry_error.is_nan());
        let plain = serde_json::to_value(RunFields::default()).unwrap();
        assert!(plain.get("e_h").is_none());
        let back: RunFields = serde_json::from_value(plain).unwrap();
        assert!(back.homogenized.is_none());
    }
}
