//! What a run's accuracy is made of, as plain data: the error band's
//! terms, the calibration as cached, the reference and the cells it came
//! from, and the statements of runs that cannot estimate their error. A
//! leaf: the report and the voxelizer use these types without depending on
//! the calibration that produces them.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::scene::Scene;

/// What the cell at h cannot see: the specimen's cut struts and its
/// alignment to the grid. Measured (issue 25) against independent
/// body-fitted references on 1 and 2×2×2 RD cells at 80 % and 73.92 % in
/// compression, M/30 and M/20: the calibrated specimens were within
/// −0.5 … +1.7 % (docs/validation.md, "Error band").
pub const SPECIMEN_EFFECT: f64 = 0.017;

/// One cell solved: its size, the exponent and E, relative to the solid's
/// modulus E_s (E scales out of a linear problem).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CellSolve {
    /// Voxels per cell side.
    pub n: usize,
    pub exponent: f64,
    /// E_h / E_s of the cell (1/S33 under cubic symmetry).
    pub e_rel: f64,
    /// Iterations of the solve.
    pub iterations: usize,
    /// Wall time of the solve, s.
    pub seconds: f64,
}

/// A reference modulus and its uncertainty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// E_ref / E_s.
    pub e_rel: f64,
    /// Relative uncertainty of `e_rel` (a fraction).
    pub uncertainty: f64,
    /// "richardson" (the extrapolated value) or "finest" (the sequence was
    /// not asymptotic: the finest cell).
    pub from: String,
    /// The cells it was computed from, coarse to fine (empty for a value
    /// interpolated from the shipped table).
    pub cells: Vec<CellSolve>,
    /// The verdict of the Richardson estimate.
    pub statement: String,
}

/// The terms of an error band, each relative (a fraction), summed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ErrorTerms {
    /// The reference's own uncertainty.
    pub reference: f64,
    /// The shipped table's interpolation error (0 for a computed reference).
    pub interpolation: f64,
    /// The search's miss at h: |E_h(p)/E_ref − 1|.
    pub search: f64,
    /// The specimen effect ([`SPECIMEN_EFFECT`]; 0 for a periodic cell).
    pub specimen: f64,
}

impl ErrorTerms {
    /// The band: the sum of the terms.
    pub fn total(&self) -> f64 {
        self.reference + self.interpolation + self.search + self.specimen
    }
}

/// The calibration of one lattice at one h, as cached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibrated {
    /// The calibrated exponent p.
    pub exponent: f64,
    /// Voxels per cell side of the cell at h.
    pub n: usize,
    pub reference: Reference,
    /// Where the reference came from: "shipped", "cache" or "computed".
    pub reference_source: String,
    /// The interpolation error of a shipped reference (else 0).
    pub interpolation_error: f64,
    /// The cells at h tried, in order.
    pub trials: Vec<CellSolve>,
    /// E_h(p)/E_ref − 1 of the best trial.
    pub relative_miss: f64,
    /// E_h(2)/E_ref − 1: what the calibration corrects.
    pub relative_miss_p2: f64,
}

/// How a run's exponent was set and what error its lattice result carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accuracy {
    /// How the exponent was set: "auto" (calibrated), "hand" (set in the
    /// scene), "binary" (binary voxels), "image" (an image has no cell),
    /// "none" (not a lattice).
    pub exponent_source: &'static str,
    /// The exponent the run used (fraction fill).
    pub exponent: Option<f64>,
    /// Estimated relative error of the lattice modulus (a fraction): the
    /// band printed as "± x %". `None` when the run cannot estimate it.
    pub error_estimate: Option<f64>,
    pub terms: Option<ErrorTerms>,
    /// One sentence: what the band is made of, or how large the error is
    /// known to be at this D/h and which settings fix it.
    pub statement: String,
    /// The calibration ("auto").
    pub calibration: Option<Calibrated>,
    /// "hit" (read from the cache), "miss" (computed and stored) or
    /// "bypassed" ("auto").
    pub cache: Option<&'static str>,
    /// Wall time of the calibration, s ("auto").
    pub seconds: Option<f64>,
}

/// A scene with its exponent set, and the accuracy of its result.
#[derive(Debug)]
pub struct Resolved<'a> {
    pub scene: Cow<'a, Scene>,
    pub accuracy: Accuracy,
    /// The calibration's warnings and fallbacks.
    pub notices: Vec<String>,
}

/// What to set for a calibrated modulus with its band.
const FIX: &str = "leave voxel.fill and voxel.fraction_exponent at their defaults (\"fraction\", \"auto\") for a calibrated modulus with its error band";

fn dh(d_over_h: Option<f64>) -> String {
    d_over_h.map_or("this h".into(), |d| format!("D/h = {d:.1}"))
}

/// How large the error of binary voxels is known to be at `d_over_h`.
pub fn known_error_binary(d_over_h: Option<f64>) -> String {
    match d_over_h {
        Some(d) if d >= 12.0 => format!(
            "binary voxels at {}: within about 5 % of body-fitted references from D/h ≈ 12 (docs/model.md, 'Resolution and the error of a result'); {FIX}",
            dh(d_over_h)
        ),
        _ => format!(
            "binary voxels at {}: error not estimated; measured +10 % … +70 % too stiff on RD cells at D/h 3–5 (+47 % on the shipped specimen), erratic in h and porosity (docs/validation.md, 'Error band'); {FIX}",
            dh(d_over_h)
        ),
    }
}

/// How large the error of an exponent set by hand is known to be.
pub fn known_error_hand(p: f64, d_over_h: Option<f64>) -> String {
    if p == 1.0 {
        format!(
            "fraction fill with p = 1 (Voigt) at {}: error not estimated; measured +43 % … +87 % too stiff on RD cells at D/h 3–5 (docs/validation.md, 'Error band'); {FIX}",
            dh(d_over_h)
        )
    } else {
        format!(
            "fraction fill with p = {p} set by hand at {}: error not estimated; p = 2 measured +2 % … +13 % on RD cells at D/h 3–5 and −10 % … +8 % across the seven lattices at D/h 4–6 (docs/validation.md, 'Error band'); {FIX}",
            dh(d_over_h)
        )
    }
}

/// An image's: no cell to calibrate on.
pub fn known_error_image(p: f64) -> String {
    format!(
        "an image has no lattice cell to calibrate on: p = {p}, error not estimated; `voxfe converge SCENE --json > STUDY.json` and `voxfe run SCENE --error-from STUDY.json` estimate it"
    )
}
