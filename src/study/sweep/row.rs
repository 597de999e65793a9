//! The results row of one sweep case: its index, its varied keys with their
//! values, its status and every field of `voxfe run --json`, as a typed
//! [`Row`] that reads and writes itself as the flat JSON object of a line of
//! `results.jsonl` (the columns of `results.csv`).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::homogenized::HomogenizedFields;
use super::Case;
use crate::fem::Preconditioner;
use crate::provenance::Provenance;
use crate::report::RunReport;
use crate::report::VoxelReport;

/// Whether a case gave its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The solve converged.
    Ok,
    /// The scene did not load, the run failed, or the solve did not converge.
    Failed,
}

impl Status {
    /// `ok` or `failed`, as written in the results.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
        }
    }
}

/// Every field of `voxfe run --json` ([`RunReport::to_json`]), in its
/// order: the voxelization report, the solve result, the load case and the
/// modulus of the solid. `Default` is an empty run (zeros, no values), for
/// synthetic rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFields {
    pub name: String,
    pub lattice: String,
    pub dims: [usize; 3],
    #[serde(deserialize_with = "nan_if_null")]
    pub voxel_size: f64,
    pub total_voxels: usize,
    pub solid_voxels: usize,
    pub removed_voxels: usize,
    pub envelope_voxels: usize,
    /// `voxel.fill`; rows written before the key existed were binary.
    #[serde(default = "binary_fill")]
    pub fill: String,
    #[serde(deserialize_with = "nan_if_null")]
    pub porosity_measured: f64,
    pub stl_degenerate_triangles: Option<usize>,
    #[serde(deserialize_with = "nan_if_null")]
    pub porosity_nominal: f64,
    pub porosity_nominal_closed_form: bool,
    pub cell: Option<f64>,
    pub strut_diameter: Option<f64>,
    pub level: Option<f64>,
    pub pore_size: Option<f64>,
    pub d_over_h: Option<f64>,
    #[serde(deserialize_with = "nan_if_null")]
    pub voxelize_seconds: f64,
    pub warnings: Vec<String>,
    pub converged: bool,
    pub e_eff: Option<f64>,
    pub e_flex: Option<f64>,
    pub flexural_stress_per_newton: Option<f64>,
    pub reaction_force: Option<f64>,
    pub stiffness: Option<f64>,
    pub apparent_modulus: Option<f64>,
    pub peak_von_mises_per_newton: Option<f64>,
    #[serde(deserialize_with = "nan_if_null")]
    pub delta: f64,
    pub contact_width: Option<f64>,
    pub active_nodes: usize,
    pub unknowns: usize,
    pub iterations: usize,
    #[serde(deserialize_with = "nan_if_null")]
    pub relative_residual: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub tolerance: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub solve_seconds: f64,
    /// Absent from results written before the timing breakdown.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub setup_seconds: f64,
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub iterations_seconds: f64,
    #[serde(default)]
    pub device_bytes: Option<u64>,
    /// Absent from results written before reliable updates on the device.
    #[serde(default)]
    pub reliable_updates: Option<String>,
    /// Absent from results written before the fallback's reason was kept.
    #[serde(default)]
    pub reliable_fallback: Option<String>,
    #[serde(default)]
    pub reliable_update_count: Option<usize>,
    #[serde(default)]
    pub reliable_update_seconds: Option<f64>,
    pub backend: String,
    pub adapter: String,
    pub peak_von_mises_per_nominal: Option<f64>,
    /// Absent from results written before the strength estimates.
    #[serde(default)]
    pub von_mises_percentile_per_newton: Option<f64>,
    #[serde(default)]
    pub ees_percentile_per_newton: Option<f64>,
    pub preconditioner: Preconditioner,
    /// Absent from results written before the element choice: hex8.
    #[serde(default)]
    pub element: crate::fem::hex8::Element,
    pub multigrid_levels: Option<Vec<usize>>,
    pub multigrid_bytes: Option<usize>,
    pub load_case: String,
    #[serde(deserialize_with = "nan_if_null")]
    pub material_e: f64,
    /// The strength estimates ([`crate::strength`]) and their material
    /// strength; absent from results written before them.
    #[serde(default)]
    pub yield_strength: Option<f64>,
    #[serde(default)]
    pub critical_strain: Option<f64>,
    #[serde(default)]
    pub critical_volume_percent: Option<f64>,
    #[serde(default)]
    pub yield_percentile: Option<f64>,
    #[serde(default)]
    pub yield_load: Option<f64>,
    #[serde(default)]
    pub yield_stress: Option<f64>,
    #[serde(default)]
    pub flexural_strength: Option<f64>,
    #[serde(default)]
    pub failure_load: Option<f64>,
    #[serde(default)]
    pub failure_stress: Option<f64>,
    /// `[sweep] converge` only (absent from other rows, and from
    /// `voxfe run --json`): the Richardson-extrapolated modulus of the load
    /// case (E_eff, E_f or the implant's apparent modulus) from the case's
    /// three finest grids; the other fields are then the finest solve's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_extrapolated: Option<f64>,
    /// `[sweep] converge`: the error estimate of the finest solve,
    /// |E_fine − E∞| (absent when there is no extrapolation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_error_estimate: Option<f64>,
    /// `[sweep] converge`: the observed order p.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<f64>,
    /// `[sweep] converge`: whether the three finest values are in the
    /// asymptotic range (monotone, p within [0.5, 4]); present in every row
    /// of a converge sweep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asymptotic: Option<bool>,
    /// Periodic cases only (absent from other rows): the columns of C^H
    /// ([`HomogenizedFields`]: `e_h`, `zener_ratio`, `e_max_over_min` …,
    /// `c11` … `c66`), flat in the row.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub homogenized: Option<HomogenizedFields>,
}

fn nan() -> f64 {
    f64::NAN
}

/// JSON has no NaN or infinity: serde_json writes them as `null`, read
/// back here as NaN.
fn nan_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

impl From<&RunReport> for RunFields {
    fn from(r: &RunReport) -> RunFields {
        let s = &r.solve;
        RunFields {
            converged: s.converged,
            e_eff: s.e_eff,
            e_flex: s.e_flex,
            flexural_stress_per_newton: s.flexural_stress_per_newton,
            reaction_force: s.reaction_force,
            stiffness: s.stiffness,
            apparent_modulus: s.apparent_modulus,
            peak_von_mises_per_newton: s.peak_von_mises_per_newton,
            delta: s.delta,
            contact_width: s.contact_width,
            active_nodes: s.active_nodes,
            unknowns: s.unknowns,
            iterations: s.iterations,
            relative_residual: s.relative_residual,
            tolerance: s.tolerance,
            solve_seconds: s.solve_seconds,
            setup_seconds: s.setup_seconds,
            iterations_seconds: s.iterations_seconds,
            device_bytes: s.gpu.as_ref().map(|g| g.device_bytes),
            reliable_updates: s.gpu.as_ref().and_then(|g| g.reliable_updates.clone()),
            reliable_fallback: s.gpu.as_ref().and_then(|g| g.reliable_fallback.clone()),
            reliable_update_count: s.gpu.as_ref().map(|g| g.reliable_update_count),
            reliable_update_seconds: s.gpu.as_ref().map(|g| g.reliable_update_seconds),
            backend: s.backend.clone(),
            adapter: s.adapter.clone(),
            peak_von_mises_per_nominal: s.peak_von_mises_per_nominal,
            von_mises_percentile_per_newton: s.von_mises_percentile_per_newton,
            ees_percentile_per_newton: s.ees_percentile_per_newton,
            preconditioner: s.preconditioner,
            element: s.element,
            multigrid_levels: s.multigrid_levels.clone(),
            multigrid_bytes: s.multigrid_bytes,
            yield_strength: r.strength_params.yield_strength,
            critical_strain: Some(r.strength_params.critical_strain),
            yield_load: r.strength.yield_load,
            yield_stress: r.strength.yield_stress,
            flexural_strength: r.strength.flexural_strength,
            failure_load: r.strength.failure_load,
            failure_stress: r.strength.failure_stress,
            ..RunFields::from_voxel(&r.voxel, r.load_case, r.material_e)
        }
    }
}

fn binary_fill() -> String {
    "binary".into()
}

impl RunFields {
    /// The fields of the finest solve of a convergence study with the
    /// study's columns for the load case's modulus `quantity`.
    pub fn from_study(study: &crate::study::converge::ConvergeReport, quantity: &str) -> RunFields {
        let e = study.estimate(quantity);
        RunFields {
            e_extrapolated: e.and_then(|e| e.extrapolated),
            e_error_estimate: e.and_then(|e| e.error_estimate),
            order: e.and_then(|e| e.order),
            asymptotic: Some(e.is_some_and(|e| e.asymptotic)),
            ..RunFields::from(&study.finest)
        }
    }

    /// The fields of a run whose solve failed after the voxelization: the
    /// voxelization's report (`removed_voxels`, `d_over_h`, the warnings …),
    /// the load case and the material; the solve's fields empty (`null`,
    /// zero counts, not converged).
    pub fn from_voxel(v: &VoxelReport, load_case: &str, material_e: f64) -> RunFields {
        RunFields {
            name: v.name.clone(),
            lattice: v.lattice.to_string(),
            dims: v.dims,
            voxel_size: v.voxel_size,
            total_voxels: v.total_voxels,
            solid_voxels: v.solid_voxels,
            removed_voxels: v.removed_voxels,
            envelope_voxels: v.envelope_voxels,
            fill: v.fill.to_string(),
            porosity_measured: v.porosity_measured,
            stl_degenerate_triangles: v.stl_degenerate_triangles,
            porosity_nominal: v.porosity_nominal,
            porosity_nominal_closed_form: v.porosity_nominal_closed_form,
            cell: v.cell,
            strut_diameter: v.strut_diameter,
            level: v.level,
            pore_size: v.pore_size,
            d_over_h: v.d_over_h,
            voxelize_seconds: v.voxelize_seconds,
            warnings: v.warnings.clone(),
            converged: false,
            delta: f64::NAN,
            relative_residual: f64::NAN,
            tolerance: f64::NAN,
            solve_seconds: f64::NAN,
            setup_seconds: f64::NAN,
            iterations_seconds: f64::NAN,
            load_case: load_case.to_string(),
            material_e,
            critical_volume_percent: Some(crate::strength::CRITICAL_VOLUME_PERCENT),
            yield_percentile: Some(crate::strength::YIELD_PERCENTILE),
            ..Default::default()
        }
    }
}

/// One row of results: the case index, its varied keys, `status`, `error`
/// (the reason, for failed cases) and, when the case ran, every field of
/// `voxfe run --json`.
///
/// As JSON (a line of `results.jsonl`) the fields are flat and in that
/// order: `case`, the varied keys, `status`, `error`, then the run fields,
/// a run field whose name is already taken left out, then the object
/// `provenance` (when known).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub case: usize,
    /// The varied keys with their values as JSON (a number or boolean when
    /// the value reads as one), in the order of the variations.
    pub settings: Vec<(String, Value)>,
    pub status: Status,
    /// Why the case failed; `None` when it succeeded.
    pub error: Option<String>,
    /// The run's fields; `None` when the scene did not load or the run
    /// failed before a solve result.
    pub run: Option<RunFields>,
    /// What produced the row (`None` when the case's scene did not load,
    /// and in rows written before it was recorded).
    pub provenance: Option<Provenance>,
}

impl Row {
    /// The value of varied key `key`.
    pub fn setting(&self, key: &str) -> Option<&Value> {
        self.settings.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether the case succeeded.
    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// The flat JSON object of a results line.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("case".into(), self.case.into());
        for (k, v) in &self.settings {
            m.insert(k.clone(), v.clone());
        }
        m.insert("status".into(), self.status.as_str().into());
        m.insert(
            "error".into(),
            self.error.clone().map_or(Value::Null, Value::from),
        );
        if let Some(run) = &self.run {
            let Value::Object(fields) = serde_json::to_value(run).expect("serializes") else {
                unreachable!("a struct serializes to an object")
            };
            for (k, v) in fields {
                m.entry(k).or_insert(v);
            }
        }
        if let Some(p) = &self.provenance {
            m.insert("provenance".into(), p.to_json());
        }
        m
    }

    /// Reads the flat JSON object written by [`Row::to_json`]: the varied
    /// keys are those between `case` and `status`.
    pub fn from_json(m: Map<String, Value>) -> Result<Row, String> {
        let mut fields = m.into_iter();
        let case = match fields.next() {
            Some((k, v)) if k == "case" => v
                .as_u64()
                .ok_or_else(|| format!("case index {v} is not a whole number"))?
                as usize,
            _ => return Err("no case index (the first field must be \"case\")".into()),
        };
        let mut settings = Vec::new();
        let status = loop {
            match fields.next() {
                Some((k, v)) if k == "status" => {
                    break serde_json::from_value::<Status>(v)
                        .map_err(|e| format!("status: {e}"))?
                }
                Some(kv) => settings.push(kv),
                None => return Err(format!("case {case} has no status")),
            }
        };
        let error = match fields.next() {
            Some((k, Value::Null)) if k == "error" => None,
            Some((k, Value::String(e))) if k == "error" => Some(e),
            _ => return Err(format!("case {case}: no error field after the status")),
        };
        let mut rest: Map<String, Value> = fields.collect();
        let provenance = rest
            .remove("provenance")
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| format!("case {case}: provenance: {e}"))?;
        let run = if rest.is_empty() {
            None
        } else {
            // A run field left out for a varied key of the same name.
            for (k, v) in &settings {
                rest.entry(k.clone()).or_insert_with(|| v.clone());
            }
            Some(
                serde_json::from_value(Value::Object(rest))
                    .map_err(|e| format!("case {case}: {e}"))?,
            )
        };
        Ok(Row {
            case,
            settings,
            status,
            error,
            run,
            provenance,
        })
    }
}

impl Serialize for Row {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Row {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Row, D::Error> {
        Row::from_json(Map::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// The outcome of one case as a results row: `ok` when the solve converged.
pub fn case_row(case: &Case, result: Result<RunFields, String>) -> Row {
    let settings = case
        .settings
        .iter()
        .map(|(k, v)| (k.clone(), parse_value(v)))
        .collect();
    let (status, error, run) = match result {
        Ok(run) if run.converged => (Status::Ok, None, Some(run)),
        Ok(run) => {
            let error = format!(
                "did not converge: relative residual {:.3e}",
                run.relative_residual
            );
            (Status::Failed, Some(error), Some(run))
        }
        Err(e) => (Status::Failed, Some(e), None),
    };
    Row {
        case: case.index,
        settings,
        status,
        error,
        run,
        provenance: None,
    }
}

/// A case that failed with `error`; `run` holds what it got to (the
/// voxelization's fields when the failure came after it).
pub fn failed_row(case: &Case, error: String, run: Option<RunFields>) -> Row {
    Row {
        status: Status::Failed,
        error: Some(error),
        run,
        ..case_row(case, Err(String::new()))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> Case {
        Case {
            index: 4,
            settings: vec![
                ("lattice.kind".into(), "bcc".into()),
                ("lattice.porosity".into(), "0.70".into()),
                ("solver.check".into(), "true".into()),
            ],
        }
    }

    #[test]
    fn rows_read_back_as_written() {
        let run = RunFields {
            name: "s".into(),
            lattice: "bcc".into(),
            dims: [1, 2, 3],
            converged: true,
            e_eff: Some(12.5),
            relative_residual: f64::NAN,
            ..Default::default()
        };
        let ok = case_row(&case(), Ok(run.clone()));
        let m = ok.to_json();
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(
            keys[..7],
            [
                "case",
                "lattice.kind",
                "lattice.porosity",
                "solver.check",
                "status",
                "error",
                "name"
            ]
        );
        assert_eq!(m["lattice.porosity"], 0.7);
        assert_eq!(m["solver.check"], true);
        assert_eq!(m["relative_residual"], Value::Null);
        let back = Row::from_json(m).unwrap();
        assert_eq!(back.settings, ok.settings);
        assert!(back.run.as_ref().unwrap().relative_residual.is_nan());
        assert_eq!(back.to_json(), ok.to_json());

        let failed = case_row(&case(), Err("no load path".into()));
        let text = serde_json::to_string(&failed).unwrap();
        assert_eq!(
            text,
            r#"{"case":4,"lattice.kind":"bcc","lattice.porosity":0.7,"solver.check":true,"status":"failed","error":"no load path"}"#
        );
        assert_eq!(serde_json::from_str::<Row>(&text).unwrap(), failed);

        let slow = case_row(
            &case(),
            Ok(RunFields {
                converged: false,
                relative_residual: 2e-3,
                ..run
            }),
        );
        assert_eq!(slow.status, Status::Failed);
        assert_eq!(
            slow.error.as_deref(),
            Some("did not converge: relative residual 2.000e-3")
        );
    }

    #[test]
    fn run_fields_are_the_fields_of_run_json_in_order() {
        let scene = crate::scene::Scene::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/rd-compression.toml"),
            &[
                "specimen.size=[3.0, 3.0, 3.0]".into(),
                "voxel.size=0.1".into(),
            ],
        )
        .unwrap();
        let report = crate::pipeline::run_scene(&scene, crate::scene::Backend::Cpu).unwrap();
        assert_eq!(
            serde_json::to_string(&RunFields::from(&report)).unwrap(),
            Value::Object(report.to_json()).to_string()
        );
    }
}
