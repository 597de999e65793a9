//! The discretization error of one run from a convergence study of the same
//! specimen (`voxfe run --error-from STUDY.json`).
//!
//! # Which study fits which run
//!
//! A study (`voxfe converge --json`) carries `study_hash`: the hash
//! ([`crate::provenance::scene_hash`], FNV-1a 64) of the canonical scene TOML
//! (as in [`crate::provenance`]) with the keys that do not define the
//! discretized problem except through h removed: [`IGNORED_KEYS`]
//! (`voxel.size` itself, the memory cap, the backend and adapter, which
//! agree to 1e-7, the name and the `[sweep]` table). A run takes the study
//! only when its own scene gives the same hash: same lattice, specimen,
//! material, fill, element, load and solver tolerance. A `--compare-fill`
//! study holds one study per fill; the one with the run's hash is taken.
//!
//! # The estimate
//!
//! From the study's Richardson value E∞ (only from a study in its
//! asymptotic range) and the run's own modulus E_h at its voxel size h:
//!
//! ```text
//! relative error = |E_h − E∞| / |E∞|
//! ```
//!
//! At a voxel size of the study E_h is that level's value bit for bit, so
//! this is the study's own error at h. The fitted model E(h) = E∞ + C·hᵖ
//! (C = (E₃ − E∞)/h₃ᵖ from the finest level) gives `model_relative` =
//! |C|·hᵖ/|E∞| as a cross-check, and `in_range` says whether h lies within
//! the study's three finest voxel sizes (outside, E∞ is still the study's,
//! but the model is extrapolated). The uncertainty of E∞ itself is the
//! study's error estimate of its finest solve, `extrapolation_uncertainty`
//! (relative): an error below it is not resolved.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::modulus_quantity;
use crate::scene::Scene;

/// Keys of the canonical scene left out of [`study_hash`] (table.key).
pub const IGNORED_KEYS: [&str; 6] = [
    "name",
    "voxel.size",
    "voxel.max_memory_mb",
    "solver.backend",
    "solver.adapter",
    "sweep",
];

/// Why a study file cannot give a run's error.
#[derive(Debug, thiserror::Error)]
pub enum ErrorFromError {
    #[error("error_from='{path}': cannot read it: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("error_from='{path}': not the JSON record of a convergence study (voxfe converge --json) ({why})")]
    NotAStudy { path: String, why: String },
    #[error("error_from='{path}': the study is of another scene (study_hash {found}; this run's scene, voxel size aside, is {expected}); allowed: the convergence study (voxfe converge SCENE --json) of this scene, with the same overrides except voxel.size")]
    OtherScene {
        path: String,
        found: String,
        expected: String,
    },
    #[error("error_from='{path}': the study has no levels of {quantity}, the modulus of this load case ({case})")]
    NoQuantity {
        path: String,
        quantity: String,
        case: String,
    },
    /// A periodic scene: its C^H has no convergence study to take an
    /// error from (`voxfe converge` does not take periodic scenes).
    #[error("error_from='{path}': the scene is periodic (load.case = \"periodic\"), and a convergence study does not take periodic scenes; allowed: error_from with a loaded specimen (C^H reports its calibrated error band)")]
    Periodic { path: String },
}

/// The hash that ties a study to the runs it applies to: the canonical
/// scene TOML without [`IGNORED_KEYS`] (see the module doc).
pub fn study_hash(scene: &Scene) -> String {
    let canonical = crate::provenance::canonical_toml(scene);
    let mut v: toml::Table = toml::from_str(&canonical).expect("canonical TOML parses");
    for key in IGNORED_KEYS {
        match key.split_once('.') {
            Some((table, k)) => {
                if let Some(toml::Value::Table(t)) = v.get_mut(table) {
                    t.remove(k);
                }
            }
            None => {
                v.remove(key);
            }
        }
    }
    crate::provenance::scene_hash(toml::to_string(&v).expect("serializes").as_bytes())
}

/// A study read from `voxfe converge --json`, the one whose `study_hash`
/// is the run's: its file, its hash, the quantity's values per level and
/// its estimate (as the JSON holds them).
#[derive(Debug, Clone)]
pub struct StudyFile {
    pub path: PathBuf,
    pub study_hash: String,
    /// The study object (a plain study, or one fill of a compare study).
    study: Value,
}

impl StudyFile {
    /// Reads `path` and takes its study whose hash is `scene`'s: the file
    /// itself, or one of `fills` (`voxfe converge --compare-fill --json`).
    pub fn load(path: &Path, scene: &Scene) -> Result<StudyFile, ErrorFromError> {
        let p = path.display().to_string();
        if scene.load_case().is_periodic() {
            return Err(ErrorFromError::Periodic { path: p });
        }
        let text = std::fs::read_to_string(path).map_err(|error| ErrorFromError::Read {
            path: p.clone(),
            error,
        })?;
        let not = |why: &str| ErrorFromError::NotAStudy {
            path: p.clone(),
            why: why.into(),
        };
        let v: Value = serde_json::from_str(&text).map_err(|e| not(&e.to_string()))?;
        let studies: Vec<&Value> = match v.get("fills") {
            Some(Value::Object(f)) => f.values().collect(),
            _ => vec![&v],
        };
        let expected = study_hash(scene);
        let mut found = Vec::new();
        for s in studies {
            let Some(h) = s.get("study_hash").and_then(Value::as_str) else {
                return Err(not("no study_hash"));
            };
            if s.get("levels").and_then(Value::as_array).is_none() {
                return Err(not("no levels"));
            }
            if h == expected {
                return Ok(StudyFile {
                    path: path.to_path_buf(),
                    study_hash: h.to_string(),
                    study: s.clone(),
                });
            }
            found.push(h.to_string());
        }
        Err(ErrorFromError::OtherScene {
            path: p,
            found: found.join(", "),
            expected,
        })
    }

    /// The discretization error of `report`, a run of `scene`, from this
    /// study. Where the study gives an estimate, it replaces the run's own:
    /// the error band of the report's [`crate::calibration::Accuracy`]
    /// becomes the study's relative error and its statement the study's
    /// (the exponent's source is kept), and the D/h warning is dropped.
    pub fn apply(
        &self,
        scene: &Scene,
        report: &mut crate::report::RunReport,
    ) -> Result<DiscretizationError, ErrorFromError> {
        let q = modulus_quantity(&scene.load_case());
        let value = report.to_json().get(q).and_then(Value::as_f64);
        let d = self.error_at(scene, scene.voxel.size, value)?;
        if let Some(relative) = d.relative {
            report
                .voxel
                .warnings
                .retain(|w| !crate::pipeline::voxelize::is_resolution_warning(w));
            let a = &mut report.accuracy;
            a.error_estimate = Some(relative);
            // The calibration's terms no longer add up to the band.
            a.terms = None;
            a.statement = d.statement.clone();
        }
        Ok(d)
    }

    /// The estimated discretization error of the modulus `value` of a run of
    /// the study's scene at voxel size `h` (module doc). `value` `None`:
    /// the run gave none (did not converge).
    pub fn error_at(
        &self,
        scene: &Scene,
        h: f64,
        value: Option<f64>,
    ) -> Result<DiscretizationError, ErrorFromError> {
        let case = scene.load_case();
        let quantity = modulus_quantity(&case);
        let no_quantity = || ErrorFromError::NoQuantity {
            path: self.path.display().to_string(),
            quantity: quantity.into(),
            case: case.name().to_string(),
        };
        let levels: Vec<(f64, f64)> = self.study["levels"]
            .as_array()
            .expect("checked in load")
            .iter()
            .filter_map(|l| Some((l["voxel_size"].as_f64()?, l[quantity].as_f64()?)))
            .collect();
        let est = self
            .study
            .get("quantities")
            .and_then(|q| q.get(quantity))
            .ok_or_else(no_quantity)?;
        if levels.len() < 3 {
            return Err(no_quantity());
        }
        let finest = &levels[levels.len() - 3..];
        let (h_fine, f_fine) = finest[2];
        let h_coarse = finest[0].0;
        let num = |k: &str| est.get(k).and_then(Value::as_f64);
        let asymptotic = est.get("asymptotic").and_then(Value::as_bool) == Some(true);
        let mut out = DiscretizationError {
            quantity,
            relative: None,
            absolute: None,
            model_relative: None,
            extrapolated: None,
            order: num("order"),
            extrapolation_uncertainty: None,
            h,
            study_h: [h_fine, h_coarse],
            in_range: h >= h_fine * (1.0 - 1e-12) && h <= h_coarse * (1.0 + 1e-12),
            source: self.path.display().to_string(),
            study_hash: self.study_hash.clone(),
            statement: String::new(),
        };
        let e_inf = match (asymptotic, num("extrapolated")) {
            (true, Some(e)) => e,
            _ => {
                out.statement = format!(
                    "no estimate: the study '{}' of {quantity} is not in its asymptotic range ({})",
                    out.source,
                    est.get("statement")
                        .and_then(Value::as_str)
                        .unwrap_or("no extrapolation")
                );
                return Ok(out);
            }
        };
        out.extrapolated = Some(e_inf);
        out.extrapolation_uncertainty = num("error_estimate").map(|e| e / e_inf.abs());
        if let Some(p) = out.order {
            let c = (f_fine - e_inf) / h_fine.powf(p);
            out.model_relative = Some((c * h.powf(p) / e_inf).abs());
        } else {
            // Flat: every level agrees with E∞.
            out.model_relative = Some(0.0);
        }
        let Some(v) = value else {
            out.statement = format!("no estimate: this run gave no {quantity}");
            return Ok(out);
        };
        let abs = (v - e_inf).abs();
        out.absolute = Some(abs);
        out.relative = Some(abs / e_inf.abs());
        out.statement = format!(
            "estimated discretization error of {quantity} at h = {h} mm: {:.2} % ({:+.4} against the \
             study's Richardson E∞ = {e_inf:.4}{}; study '{}'{})",
            100.0 * abs / e_inf.abs(),
            v - e_inf,
            out.order
                .map_or(String::new(), |p| format!(", observed order {p:.2}")),
            out.source,
            if out.in_range {
                String::new()
            } else {
                format!(
                    ", h outside its finest sizes {h_fine:.5}–{h_coarse:.5} mm: E∞ is the study's, the model is extrapolated"
                )
            }
        );
        Ok(out)
    }
}

/// The estimated discretization error of a run's modulus (JSON
/// `discretization_error`; module doc).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscretizationError {
    /// The modulus it is of (`e_eff`, `e_flex`, `apparent_modulus`).
    pub quantity: &'static str,
    /// |E_h − E∞| / |E∞| (`None`: the study gives no E∞ or the run no E_h).
    pub relative: Option<f64>,
    /// |E_h − E∞|.
    pub absolute: Option<f64>,
    /// |C|·hᵖ / |E∞| of the fitted E(h) = E∞ + C·hᵖ.
    pub model_relative: Option<f64>,
    /// The study's Richardson value E∞.
    pub extrapolated: Option<f64>,
    /// The study's observed order p.
    pub order: Option<f64>,
    /// The study's error estimate of its finest solve over |E∞|.
    pub extrapolation_uncertainty: Option<f64>,
    /// The run's voxel size.
    pub h: f64,
    /// The finest and coarsest of the study's three finest voxel sizes.
    pub study_h: [f64; 2],
    /// h within `study_h`.
    pub in_range: bool,
    /// The study file.
    pub source: String,
    pub study_hash: String,
    /// One sentence: the estimate and where it comes from, or why none.
    pub statement: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene(extra: &[&str]) -> Scene {
        let text = r#"
name = "a"
[lattice]
kind = "rhombic-dodecahedron"
cell = 1.5
porosity = 0.7
[specimen]
shape = "box"
size = [3.0, 3.0, 3.0]
[voxel]
size = 0.1
"#;
        let set: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        Scene::parse(text, Path::new("a.toml"), &set).unwrap()
    }

    #[test]
    fn the_hash_ignores_h_backend_and_name_but_not_the_specimen() {
        let base = study_hash(&scene(&[]));
        for same in [
            "voxel.size=0.05",
            "solver.backend=cpu",
            "name=b",
            "voxel.max_memory_mb=100",
        ] {
            assert_eq!(study_hash(&scene(&[same])), base, "{same}");
        }
        for other in [
            "voxel.fill=binary",
            "lattice.porosity=0.8",
            "solver.tolerance=1e-7",
            "specimen.size=[3.0,3.0,1.5]",
        ] {
            assert_ne!(study_hash(&scene(&[other])), base, "{other}");
        }
    }
}
