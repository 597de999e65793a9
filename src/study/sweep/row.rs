//! The results row of one sweep case: its index, its varied keys with their
//! values, its status and every field of `voxfe run --json`, as a typed
//! [`Row`] that reads and writes itself as the flat JSON object of a line of
//! `results.jsonl` (the columns of `results.csv`).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::homogenized::HomogenizedFields;
use super::Case;
use crate::provenance::Provenance;
use crate::report::{RunRecord, RunReport, VoxelReport};

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

/// Every field of `voxfe run --json` ([`RunRecord`], in its order), then
/// the columns a study adds: a convergence study's extrapolation and a
/// periodic case's C^H. `Default` is an empty run (zeros, no values), for
/// synthetic rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFields {
    /// The run's record: the voxelization, the solve, the load case, the
    /// solid's modulus and the strength estimates.
    #[serde(flatten)]
    pub record: RunRecord,
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
    /// `[sweep] plastic` only (absent from other rows): the case's
    /// elastoplastic curve (`PlasticFields`), flat in the row.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub plastic: Option<PlasticFields>,
    /// Periodic cases only (absent from other rows): the columns of C^H
    /// ([`HomogenizedFields`]: `e_h`, `zener_ratio`, `e_max_over_min` …,
    /// `c11` … `c66`), flat in the row.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub homogenized: Option<HomogenizedFields>,
}

/// What a sweep row reports of its case's elastoplastic curve
/// (`[sweep] plastic`; the fields of `voxfe plastic --json` by the same
/// names, `plastic_` before the solve's own).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlasticFields {
    /// σ_0.2, MPa (`None`: not reached by the final strain).
    pub yield_stress_offset: Option<f64>,
    pub yield_strain_offset: Option<f64>,
    /// The limit of a levelled curve, MPa (σ_f in bending).
    pub limit_stress: Option<f64>,
    pub first_maximum_stress: Option<f64>,
    /// The curve's initial slope, MPa.
    pub plastic_elastic_modulus: f64,
    pub plastic_element: String,
    pub plastic_steps: usize,
    pub plastic_newton_per_increment: f64,
    pub plastic_seconds: f64,
}

impl From<&crate::plastic::run::PlasticReport> for PlasticFields {
    fn from(r: &crate::plastic::run::PlasticReport) -> PlasticFields {
        PlasticFields {
            yield_stress_offset: r.offset.map(|o| o.stress),
            yield_strain_offset: r.offset.map(|o| o.strain),
            limit_stress: r.limit.map(|l| l.1),
            first_maximum_stress: r.first_maximum.map(|m| m.1),
            plastic_elastic_modulus: r.solution.elastic_modulus,
            plastic_element: r.element().to_string(),
            plastic_steps: r.solution.points.len(),
            plastic_newton_per_increment: r.newton_per_increment(),
            plastic_seconds: r.solution.setup_seconds + r.solution.solve_seconds,
        }
    }
}

impl std::ops::Deref for RunFields {
    type Target = RunRecord;
    fn deref(&self) -> &RunRecord {
        &self.record
    }
}

impl std::ops::DerefMut for RunFields {
    fn deref_mut(&mut self) -> &mut RunRecord {
        &mut self.record
    }
}

impl From<RunRecord> for RunFields {
    fn from(record: RunRecord) -> RunFields {
        RunFields {
            record,
            ..Default::default()
        }
    }
}

impl From<&RunReport> for RunFields {
    fn from(r: &RunReport) -> RunFields {
        r.record().into()
    }
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

    /// The fields of a run whose solve failed after the voxelization
    /// ([`RunRecord::unsolved`]).
    pub fn from_voxel(v: &VoxelReport, load_case: &str, material_e: f64) -> RunFields {
        RunRecord::unsolved(v, load_case, material_e).into()
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
                // Every field, `fraction_exponent` included: with "auto" it
                // is the exponent the case was calibrated to.
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
        Ok(run) if run.solve.converged => (Status::Ok, None, Some(run)),
        Ok(run) => {
            let error = format!(
                "did not converge: relative residual {:.3e}",
                run.solve.relative_residual
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
        let mut run = RunFields::default();
        run.voxel.name = "s".into();
        run.voxel.lattice = "bcc".into();
        run.voxel.dims = [1, 2, 3];
        run.solve.converged = true;
        run.solve.e_eff = Some(12.5);
        run.solve.relative_residual = f64::NAN;
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
        assert!(back.run.as_ref().unwrap().solve.relative_residual.is_nan());
        assert_eq!(back.to_json(), ok.to_json());

        let failed = case_row(&case(), Err("no load path".into()));
        let text = serde_json::to_string(&failed).unwrap();
        assert_eq!(
            text,
            r#"{"case":4,"lattice.kind":"bcc","lattice.porosity":0.7,"solver.check":true,"status":"failed","error":"no load path"}"#
        );
        assert_eq!(serde_json::from_str::<Row>(&text).unwrap(), failed);

        let mut slow = run;
        slow.solve.converged = false;
        slow.solve.relative_residual = 2e-3;
        let slow = case_row(&case(), Ok(slow));
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
        let report = crate::pipeline::run(&scene.with_backend(crate::scene::Backend::Cpu)).unwrap();
        // The run's JSON ends with its provenance; a row has its own (the
        // sweep's case), written beside these fields.
        let mut run = report.to_json();
        assert!(run.shift_remove("provenance").is_some());
        assert_eq!(
            serde_json::to_string(&RunFields::from(&report)).unwrap(),
            Value::Object(run).to_string()
        );
    }
}
