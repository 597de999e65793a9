//! As-built calibration (`voxfe fit`): the ideal geometry is stiffer than
//! a printed part; a knockdown model fitted to the user's own tests maps
//! the simulated value of a specimen to the measured one (spec, "As-built
//! calibration to measured tests").
//!
//! [`data`] reads the tests (a CSV file, one row a specimen), [`simulate`]
//! solves each tested specimen as the scene prints it (the scene with the
//! specimen's lattice, cell, porosity or strut and size): through the
//! sweep's case runner ([`crate::study::sweep::Plan`]), one specimen after
//! another, each solve on all cores or the GPU, the fraction exponent's
//! calibration cached. For the `strut-offset` model each specimen is also
//! solved with its strut D + δ on a grid of offsets (fractions of the
//! thinnest specimen's strut, [`DEFAULT_OFFSETS`]), which [`model`]
//! interpolates in log–log. [`fit_tests`] fits each model to the modulus
//! and, where the tests give it, to the yield strength (from the
//! first-yield estimate of the same linear solve: an elastic proxy until an
//! elastoplastic yield exists), compares them by leave-one-out error and
//! chooses one; [`report`] prints the table, the JSON and the plots.

pub mod data;
pub mod model;
pub mod report;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::provenance::Provenance;
use crate::scene::{Scene, SceneError};
use crate::study::sweep::{plan, SweepError};
use data::{DataError, Size, Specimen, Tests};
use model::{AsBuilt, ModelFit, ModelKind, SimPoint};

/// The offsets δ simulated for the `strut-offset` model, as fractions of
/// the thinnest tested specimen's strut diameter.
pub const DEFAULT_OFFSETS: [f64; 5] = [-0.3, -0.15, 0.0, 0.15, 0.3];

/// Why a fit could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("tests '{tests}' specimen '{specimen}' (row {row}): its scene does not load")]
    Scene {
        tests: String,
        specimen: String,
        row: usize,
        #[source]
        source: Box<SceneError>,
    },
    #[error(transparent)]
    Sweep(Box<SweepError>),
    #[error("tests '{tests}' specimen '{specimen}' (row {row}): the solve failed: {why}")]
    Solve {
        tests: String,
        specimen: String,
        row: usize,
        why: String,
    },
    #[error("offsets={0}: allowed: at least three distinct fractions of the thinnest strut, each in (-0.9, 1), 0 among them")]
    BadOffsets(String),
    #[error("tests '{tests}': no model could be fitted to the modulus: {why}")]
    NoModel { tests: String, why: String },
    #[error("scene '{scene}': voxfe fit needs a lattice in compression (load.case = \"compression\"), as the specimens were tested")]
    NotCompression { scene: String },
}

impl From<SweepError> for FitError {
    fn from(e: SweepError) -> FitError {
        FitError::Sweep(Box::new(e))
    }
}

impl FitError {
    /// Whether the input is at fault (exit status 2) rather than a solve.
    pub fn is_bad_input(&self) -> bool {
        match self {
            FitError::Solve { .. } => false,
            FitError::Sweep(e) => e.is_bad_input(),
            _ => true,
        }
    }
}

/// One tested specimen as simulated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Simulated {
    pub specimen: Specimen,
    /// The scene keys that make the scene this specimen (`--set` form).
    pub settings: Vec<String>,
    /// Nominal porosity of the simulated lattice.
    pub porosity: f64,
    /// Strut diameter D, mm (strut lattices).
    pub strut: Option<f64>,
    /// E_eff of the ideal geometry, MPa.
    pub e_eff: f64,
    /// Its relative error band (the calibration's), where known.
    pub e_eff_error_estimate: Option<f64>,
    /// The apparent first-yield stress of the same solve, MPa.
    pub yield_stress: Option<f64>,
    /// The solves with the strut D + δ: (δ mm, E_eff, first-yield stress).
    pub offsets: Vec<(f64, f64, Option<f64>)>,
}

impl Simulated {
    /// The modulus's point for the models.
    pub fn modulus_point(&self) -> SimPoint {
        SimPoint {
            rho: 1.0 - self.porosity,
            ideal: self.e_eff,
            strut: self.strut,
            offsets: self.offsets.iter().map(|o| (o.0, o.1)).collect(),
        }
    }

    /// The yield strength's point (`None` without a first-yield estimate).
    pub fn yield_point(&self) -> Option<SimPoint> {
        Some(SimPoint {
            rho: 1.0 - self.porosity,
            ideal: self.yield_stress?,
            strut: self.strut,
            offsets: self
                .offsets
                .iter()
                .filter_map(|o| Some((o.0, o.2?)))
                .collect(),
        })
    }
}

/// The scene `base` as the tested specimen `s` was printed: its lattice
/// kind, cell, porosity (or strut) and cube, as `--set` arguments (the
/// scene's own where the tests do not say).
pub fn specimen_settings(base: &Scene, s: &Specimen) -> Vec<String> {
    let mut set = Vec::new();
    if let Some(k) = s.lattice {
        set.push(format!("lattice.kind={}", k.name()));
    }
    if let Some(m) = s.cell {
        set.push(format!("lattice.cell={m}"));
    }
    match s.size {
        Size::Porosity(p) => set.push(format!("lattice.porosity={p}")),
        Size::Strut(d) => set.push(format!("lattice.strut={d}")),
    }
    let cell = s.cell.or(base.lattice.cell);
    let side = s.side.or_else(|| Some(s.cells? as f64 * cell?));
    if let Some(l) = side {
        set.push(format!("specimen.size=[{l}, {l}, {l}]"));
    }
    set
}

/// Solves every specimen of `tests` as the scene `base` prints it, and,
/// with `offsets` (fractions of the thinnest strut; empty: none), each
/// specimen with its strut D + δ. `on_solve(line)` after each solve. A
/// solve that fails ends the fit (naming the specimen).
///
/// `jobs` specimens are solved at once (at least 1), each solve's own
/// loops sharing the one thread pool; the results are the same for any
/// `jobs` (every reduction of a solve is in a fixed order), only the order
/// of the `on_solve` lines changes. Peak memory grows with `jobs`: up to
/// `jobs` specimens' grids and solvers at once.
pub fn simulate(
    base: &Scene,
    tests: &Tests,
    offsets: &[f64],
    jobs: usize,
    on_solve: impl Fn(&str) + Sync,
) -> Result<Vec<Simulated>, FitError> {
    if base.load_case().name() != "compression" {
        return Err(FitError::NotCompression {
            scene: base.path().display().to_string(),
        });
    }
    if !offsets.is_empty()
        && (offsets.len() < 3
            || !offsets.contains(&0.0)
            || offsets.iter().any(|f| !(*f > -0.9 && *f < 1.0)))
    {
        return Err(FitError::BadOffsets(
            offsets
                .iter()
                .map(f64::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ));
    }
    let base = base.without_as_built();
    let file = tests.path.display().to_string();
    let mut scenes = Vec::new();
    for (i, s) in tests.specimens.iter().enumerate() {
        let settings = specimen_settings(&base, s);
        let parsed: Result<Vec<_>, _> = settings
            .iter()
            .map(|a| crate::scene::Setting::parse(a))
            .collect();
        let scene = parsed
            .and_then(|p| base.with_settings(&p))
            .and_then(|sc| sc.lattice().map(|l| (sc, l)))
            .map_err(|source| FitError::Scene {
                tests: file.clone(),
                specimen: s.name.clone(),
                row: i + 1,
                source: Box::new(source),
            })?;
        scenes.push((settings, scene));
    }
    let thinnest = scenes
        .iter()
        .filter_map(|(_, (_, l))| l.strut_diameter())
        .fold(f64::INFINITY, f64::min);
    let deltas: Vec<f64> = if thinnest.is_finite() {
        offsets.iter().map(|f| f * thinnest).collect()
    } else {
        Vec::new()
    };
    let specimen = |i: usize,
                    settings: &[String],
                    scene: &Scene,
                    lattice: &crate::lattice::Lattice,
                    s: &Specimen|
     -> Result<Simulated, FitError> {
        let failed = |why: String| FitError::Solve {
            tests: file.clone(),
            specimen: s.name.clone(),
            row: i + 1,
            why,
        };
        let strut = lattice.strut_diameter();
        // δ = 0 first (the ideal specimen), then the other offsets whose
        // strut the lattice takes.
        let mut values: Vec<String> = Vec::new();
        let mut kept: Vec<f64> = Vec::new();
        let case_scene = |d: f64| {
            scene
                .with_setting("lattice.strut", d)
                .and_then(|s| s.lattice())
        };
        match strut {
            Some(d) => {
                for &dl in std::iter::once(&0.0).chain(deltas.iter().filter(|x| **x != 0.0)) {
                    if dl == 0.0 || (d + dl > 0.0 && case_scene(d + dl).is_ok()) {
                        values.push(format!("{}", d + dl));
                        kept.push(dl);
                    }
                }
            }
            None => {
                values.push(format!("{}", lattice.nominal_porosity()));
                kept.push(0.0);
            }
        }
        let key = if strut.is_some() {
            "lattice.strut"
        } else {
            "lattice.porosity"
        };
        let vary = [format!("{key}={}", values.join(","))];
        let plan = plan(scene, &vary, None)?;
        let rows = plan.run(&[], |case, _, outcome| {
            let e = outcome.row.run.as_ref().and_then(|r| r.solve.e_eff);
            on_solve(&format!(
                "specimen {} ({}/{}), δ = {:+.4} mm: {}",
                s.name,
                i + 1,
                tests.specimens.len(),
                kept[case.index],
                match (e, &outcome.row.error) {
                    (_, Some(err)) => format!("failed: {err}"),
                    (Some(e), None) => format!("E_eff = {e:.1} MPa"),
                    (None, None) => "no modulus".into(),
                }
            ));
            Ok::<(), FitError>(())
        })?;
        let mut offs = Vec::new();
        let mut ideal = None;
        for (row, dl) in rows.iter().zip(&kept) {
            let run = match (&row.error, &row.run) {
                (None, Some(run)) => run,
                (e, _) => return Err(failed(e.clone().unwrap_or_else(|| "no result".to_string()))),
            };
            let e = run
                .solve
                .e_eff
                .ok_or_else(|| failed("no E_eff".to_string()))?;
            let y = run.strength.yield_stress;
            if *dl == 0.0 {
                ideal = Some((e, run.accuracy.e_eff_error_estimate, y));
            }
            offs.push((*dl, e, y));
        }
        let (e_eff, band, yield_stress) = ideal.expect("δ = 0 is solved first");
        offs.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(Simulated {
            specimen: s.clone(),
            settings: settings.to_vec(),
            porosity: lattice.nominal_porosity(),
            strut,
            e_eff,
            e_eff_error_estimate: band,
            yield_stress,
            offsets: if strut.is_some() && kept.len() >= 3 {
                offs
            } else {
                Vec::new()
            },
        })
    };
    let items: Vec<_> = scenes.iter().zip(&tests.specimens).enumerate().collect();
    let mut out = Vec::with_capacity(items.len());
    // In waves of `jobs`, kept in the tests' order; the first failure (in
    // that order) ends the fit.
    for wave in items.chunks(jobs.max(1)) {
        let solved: Vec<Result<Simulated, FitError>> = wave
            .par_iter()
            .map(|(i, ((settings, (scene, lattice)), s))| specimen(*i, settings, scene, lattice, s))
            .collect();
        for r in solved {
            out.push(r?);
        }
    }
    Ok(out)
}

/// The fits of one quantity (the modulus or the yield strength).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantityFit {
    /// `modulus` or `yield_strength`.
    pub quantity: String,
    /// The specimens fitted (indices into the tests; all of them for the
    /// modulus, those with a measured yield strength for the yield).
    pub specimens: Vec<usize>,
    pub simulated: Vec<f64>,
    pub measured: Vec<f64>,
    pub models: Vec<ModelFit>,
    /// The models not fitted, and why.
    pub refused: Vec<String>,
    /// The model chosen (its name) and why.
    pub chosen: ModelKind,
    pub why: String,
    /// The chosen model as the scene's `[as_built]` applies it.
    pub as_built: AsBuilt,
}

impl QuantityFit {
    /// The chosen model's fit.
    pub fn chosen_fit(&self) -> &ModelFit {
        self.models
            .iter()
            .find(|m| m.model == self.chosen)
            .expect("the chosen model was fitted")
    }

    /// A model's fit by kind.
    pub fn model(&self, kind: ModelKind) -> Option<&ModelFit> {
        self.models.iter().find(|m| m.model == kind)
    }
}

/// Fits `models` to the points `sims` and the `measured` values.
fn fit_quantity(
    quantity: &str,
    specimens: Vec<usize>,
    sims: &[SimPoint],
    measured: Vec<f64>,
    models: &[ModelKind],
    porosity_range: (f64, f64),
) -> Result<QuantityFit, String> {
    let mut fits = Vec::new();
    let mut refused = Vec::new();
    for &m in models {
        match model::fit(m, sims, &measured) {
            Ok(f) => fits.push(f),
            Err(e) => refused.push(e.to_string()),
        }
    }
    let (i, why) = model::choose(&fits).ok_or_else(|| refused.join("; "))?;
    let chosen = fits[i].model;
    let as_built = fits[i].as_built(Some(porosity_range));
    Ok(QuantityFit {
        quantity: quantity.into(),
        specimens,
        simulated: sims.iter().map(|s| s.ideal).collect(),
        measured,
        models: fits,
        refused,
        chosen,
        why,
        as_built,
    })
}

/// A whole fit: the tests, their simulations, the fits of the modulus and
/// of the yield strength, and what produced them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitReport {
    pub scene: String,
    pub tests: String,
    /// The offsets δ simulated, mm.
    pub offsets_mm: Vec<f64>,
    pub simulated: Vec<Simulated>,
    /// The tested porosities, (min, max).
    pub porosity_range: (f64, f64),
    pub modulus: QuantityFit,
    /// `None` when the tests give no yield strength (or too few).
    pub yield_strength: Option<QuantityFit>,
    /// Why there is no yield fit (when there is none).
    pub yield_note: String,
    /// The chosen model of the modulus: what `[as_built] from` reads.
    pub as_built: AsBuilt,
    pub provenance: Option<Provenance>,
}

/// What the intervals are.
pub const INTERVALS: &str = "95 % profile-likelihood intervals (SSE ≤ SSE_min·(1 + t²/(n − p)); for constant and power-law exactly the t interval)";

/// What the yield fit is.
pub const YIELD_PROXY: &str = "the simulated yield is the first-yield estimate of the linear solve (von Mises at the 99th percentile reaching σ_y): an elastic proxy, not an elastoplastic yield strength";

/// Fits `models` to the simulated specimens `sims` of `tests`.
pub fn fit_tests(
    scene: &Scene,
    tests: &Tests,
    sims: Vec<Simulated>,
    models: &[ModelKind],
) -> Result<FitReport, FitError> {
    let file = tests.path.display().to_string();
    let porosity_range = sims.iter().fold((1.0f64, 0.0f64), |(lo, hi), s| {
        (lo.min(s.porosity), hi.max(s.porosity))
    });
    let points: Vec<SimPoint> = sims.iter().map(Simulated::modulus_point).collect();
    let measured: Vec<f64> = sims.iter().map(|s| s.specimen.modulus).collect();
    let modulus = fit_quantity(
        "modulus",
        (0..sims.len()).collect(),
        &points,
        measured,
        models,
        porosity_range,
    )
    .map_err(|why| FitError::NoModel {
        tests: file.clone(),
        why,
    })?;
    let with_yield: Vec<usize> = (0..sims.len())
        .filter(|&i| sims[i].specimen.yield_strength.is_some() && sims[i].yield_stress.is_some())
        .collect();
    let (yield_strength, yield_note) = if with_yield.is_empty() {
        (None, "the tests give no yield strength".to_string())
    } else {
        let pts: Vec<SimPoint> = with_yield
            .iter()
            .filter_map(|&i| sims[i].yield_point())
            .collect();
        let meas: Vec<f64> = with_yield
            .iter()
            .map(|&i| sims[i].specimen.yield_strength.expect("filtered"))
            .collect();
        match fit_quantity(
            "yield_strength",
            with_yield.clone(),
            &pts,
            meas,
            models,
            porosity_range,
        ) {
            Ok(f) => (Some(f), YIELD_PROXY.to_string()),
            Err(why) => (None, format!("no yield fit: {why}")),
        }
    };
    let deltas = sims
        .iter()
        .find(|s| !s.offsets.is_empty())
        .map(|s| s.offsets.iter().map(|o| o.0).collect())
        .unwrap_or_default();
    Ok(FitReport {
        scene: scene.path().display().to_string(),
        tests: file,
        offsets_mm: deltas,
        porosity_range,
        as_built: modulus.as_built,
        modulus,
        yield_strength,
        yield_note,
        simulated: sims,
        provenance: Some(Provenance::of_scene(scene)),
    })
}
