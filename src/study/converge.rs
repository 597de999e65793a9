//! Convergence in the voxel size: the observed order, a Richardson-
//! extrapolated value and an error estimate of the finest solve, from a
//! quantity solved on a sequence of grids h₁ > h₂ > h₃ (`voxfe converge`).
//!
//! # Model
//!
//! Near its limit a discretized quantity behaves as f(h) = f∞ + C·hᵖ. Three
//! solves (coarse to fine, ratios r₂₁ = h₁/h₂ and r₃₂ = h₂/h₃, not
//! necessarily equal) fix the three unknowns: with ε₂₁ = f₂ − f₁ and
//! ε₃₂ = f₃ − f₂,
//!
//! ```text
//! ε₂₁ / ε₃₂ = g(p) = r₃₂ᵖ · (r₂₁ᵖ − 1) / (r₃₂ᵖ − 1)
//! ```
//!
//! g is strictly increasing in p (d ln g/dp = a/(1 − e^{−ap}) − b/(e^{bp} − 1)
//! with a = ln r₂₁, b = ln r₃₂; the first term exceeds 1/p, the second does
//! not), from ln r₂₁ / ln r₃₂ at p → 0 (1 for equal ratios) to ∞, so p is
//! found by bisection ([`observed_order`]); for equal ratios r it is
//! ln(ε₂₁/ε₃₂)/ln r. Then (Richardson)
//!
//! ```text
//! f∞ = f₃ + ε₃₂ / (r₃₂ᵖ − 1),   error of the finest solve |f₃ − f∞|,
//! GCI_fine = Fs · |ε₃₂ / f₃| / (r₃₂ᵖ − 1),   Fs = 1.25
//! ```
//!
//! (Roache's grid convergence index with the safety factor of three-grid
//! studies; Celik et al. 2008, J. Fluids Eng. 130, 078001.)
//!
//! # When the estimate is not to be trusted
//!
//! The model holds only in the asymptotic range. [`estimate`] says plainly
//! when the three finest values are not there: differences of opposite
//! sign (not monotone: no order, no extrapolation; the spread of the three
//! is given instead), differences that grow as h shrinks (p ≤ 0: diverging),
//! or an order outside [`ORDER_BAND`] (extrapolated, but flagged). Binary
//! voxels of a lattice are often not monotone at D/h < 12 (the spec's
//! resolution section); sub-voxel fill is meant to be.
//!
//! # Voxel sizes
//!
//! A voxel size must divide the specimen (nx = Lx/h whole to 1e-9):
//! [`plan_sizes`] picks, for each level i, the admissible h nearest to
//! h₀/rⁱ (in ln h), finer than the level before; lengths that should also
//! be whole (the half contact width c/2 of three-point bending) are kept
//! whole when an admissible h within √r of the target allows it, else a
//! note says why not.
//!
//! The scene-level runner (levels solved through the pipeline, the report
//! printed by `voxfe converge`) is in `converge/run.rs`; the plot of a
//! study (`--plot`) in `converge/plot.rs`; both fills' studies
//! (`--compare-fill`) in `converge/compare.rs`; a run's discretization error
//! from a study of its scene (`voxfe run --error-from`) in
//! `converge/error.rs`.

mod compare;
pub mod error;
pub mod plot;
mod run;

pub use compare::{compare_fill_overrides, run_fills, Studies, COMPARE_FILLS};
pub use plot::check_plot;
pub use run::{
    default_quantities, level_scenes, modulus_quantity, quantity_names, run, run_levels,
    ConvergeError, ConvergeReport, Level, QuantityStudy,
};

use serde::Serialize;

/// Roache's safety factor for a three-grid study.
pub const SAFETY_FACTOR: f64 = 1.25;

/// Observed orders accepted as in the asymptotic range. Trilinear
/// elements converge with p = 2 in energy for smooth geometry; a voxelized
/// surface gives p ≈ 1; an order far outside this band comes from noise
/// (aliasing of the voxelized geometry), not from the model.
pub const ORDER_BAND: (f64, f64) = (0.5, 4.0);

/// Largest order the bisection resolves; above it the finest difference is
/// treated as no change at all.
pub const MAX_ORDER: f64 = 16.0;

/// Relative size (to the largest |f|) under which a difference is rounding.
pub const FLAT: f64 = 1e-12;

/// Why no order came out of three values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NoOrder {
    /// The two differences have opposite signs (or the coarser is zero).
    NotMonotone,
    /// The differences grow as h shrinks: p ≤ 0.
    Diverging,
    /// The finest difference is too small for any order up to
    /// [`MAX_ORDER`] (or zero).
    AboveMax,
    /// All three values agree to rounding.
    Flat,
}

/// The observed order p of three values `f` at sizes `h`, coarse to fine
/// (h₁ > h₂ > h₃ > 0), by bisection on the strictly increasing g(p) of the
/// module doc (60 halvings of [0, [`MAX_ORDER`]]). Differences under
/// `noise` relative to the largest |f| count as zero.
pub fn observed_order(h: [f64; 3], f: [f64; 3], noise: f64) -> Result<f64, NoOrder> {
    let scale = f.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let e21 = f[1] - f[0];
    let e32 = f[2] - f[1];
    let flat = |e: f64| e.abs() <= noise * scale;
    if flat(e21) && flat(e32) {
        return Err(NoOrder::Flat);
    }
    if flat(e21) || e21.signum() != e32.signum() && !flat(e32) {
        return Err(NoOrder::NotMonotone);
    }
    if flat(e32) {
        return Err(NoOrder::AboveMax);
    }
    let (a, b) = ((h[0] / h[1]).ln(), (h[1] / h[2]).ln());
    // ln g(p) − ln(ε₂₁/ε₃₂), increasing in p.
    let target = (e21 / e32).ln();
    let ln_g = |p: f64| b * p + (a * p).exp_m1().ln() - (b * p).exp_m1().ln();
    if target <= (a / b).ln() {
        return Err(NoOrder::Diverging);
    }
    if target >= ln_g(MAX_ORDER) {
        return Err(NoOrder::AboveMax);
    }
    let (mut lo, mut hi) = (0.0, MAX_ORDER);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if ln_g(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(0.5 * (lo + hi))
}

/// The convergence estimate of one quantity from its three finest values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// Observed order p (`None`: not monotone, diverging, flat or above
    /// [`MAX_ORDER`]).
    pub order: Option<f64>,
    /// Richardson-extrapolated value f∞.
    pub extrapolated: Option<f64>,
    /// Error estimate of the finest solve, |f₃ − f∞|.
    pub error_estimate: Option<f64>,
    /// `error_estimate / |f₃|`.
    pub relative_error: Option<f64>,
    /// Roache's GCI of the finest grid (relative, safety factor 1.25).
    pub gci_fine: Option<f64>,
    /// Both differences of one sign.
    pub monotone: bool,
    /// Monotone with an order inside [`ORDER_BAND`] (or flat).
    pub asymptotic: bool,
    /// max − min of the three values.
    pub spread: f64,
    /// One plain sentence: the verdict and why.
    pub statement: String,
}

/// [`observed_order`], Richardson extrapolation and the error estimates of
/// the finest of three values `f` at sizes `h` (coarse to fine), with the
/// verdict on the asymptotic range; differences under `noise` relative to
/// the largest |f| (rounding: [`FLAT`]; an iterative solve: a multiple of
/// its tolerance) count as zero.
pub fn estimate(h: [f64; 3], f: [f64; 3], noise: f64) -> Estimate {
    let spread = f.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - f.iter().copied().fold(f64::INFINITY, f64::min);
    let none = |monotone: bool, statement: String| Estimate {
        order: None,
        extrapolated: None,
        error_estimate: None,
        relative_error: None,
        gci_fine: None,
        monotone,
        asymptotic: false,
        spread,
        statement,
    };
    let diffs = format!(
        "differences {:+.4e} then {:+.4e} from coarse to fine",
        f[1] - f[0],
        f[2] - f[1]
    );
    match observed_order(h, f, noise) {
        Err(NoOrder::Flat) => Estimate {
            order: None,
            extrapolated: Some(f[2]),
            error_estimate: Some(0.0),
            relative_error: Some(0.0),
            gci_fine: Some(0.0),
            monotone: true,
            asymptotic: true,
            spread,
            statement: format!(
                "converged: the three finest values agree to {noise:.0e} (relative; rounding or \
                 the solver's tolerance); no order"
            ),
        },
        Err(NoOrder::NotMonotone) => none(
            false,
            format!(
                "not in the asymptotic range: the sequence is not monotone ({diffs}); no order or \
                 extrapolation, the three finest values spread over {spread:.4e}; refine further"
            ),
        ),
        Err(NoOrder::Diverging) => none(
            true,
            format!(
                "not in the asymptotic range: the differences do not shrink with h ({diffs}: \
                 order p ≤ 0); no extrapolation"
            ),
        ),
        Err(NoOrder::AboveMax) => none(
            true,
            format!(
                "not in the asymptotic range: the finest difference is too small for an order up \
                 to {MAX_ORDER} ({diffs}); no extrapolation"
            ),
        ),
        Ok(p) => {
            let r32 = h[1] / h[2];
            let denom = r32.powf(p) - 1.0;
            let e32 = f[2] - f[1];
            let extrapolated = f[2] + e32 / denom;
            let error = (e32 / denom).abs();
            let asymptotic = (ORDER_BAND.0..=ORDER_BAND.1).contains(&p);
            let statement = if asymptotic {
                format!(
                    "in the asymptotic range: monotone, observed order p = {p:.3} within [{}, {}]",
                    ORDER_BAND.0, ORDER_BAND.1
                )
            } else {
                format!(
                    "not in the asymptotic range: monotone, but the observed order p = {p:.3} is \
                     outside [{}, {}]; the extrapolation and error estimate are unreliable",
                    ORDER_BAND.0, ORDER_BAND.1
                )
            };
            Estimate {
                order: Some(p),
                extrapolated: Some(extrapolated),
                error_estimate: Some(error),
                relative_error: Some(error / f[2].abs()),
                gci_fine: Some(SAFETY_FACTOR * (e32 / f[2]).abs() / denom),
                monotone: true,
                asymptotic,
                spread,
                statement,
            }
        }
    }
}

/// Why no voxel sizes could be planned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("levels={0}: allowed: 3 to {MAX_LEVELS} (an order and an extrapolation need three solves; each level has about ratio³ times the voxels of the one before)")]
    BadLevels(usize),
    /// A finest level beyond any grid (checked before any size is planned).
    #[error("levels={levels} ratio={ratio}: the finest level would be h ≈ {finest:.3e} mm, {per_axis:.3e} voxels along the specimen's {length} mm; allowed: at most {MAX_VOXELS_PER_AXIS} voxels per axis: fewer levels or a smaller ratio")]
    TooFine {
        levels: usize,
        ratio: f64,
        finest: f64,
        per_axis: f64,
        length: f64,
    },
    #[error("ratio={0}: allowed: a refinement ratio above 1 (e.g. 1.5 or 2)")]
    BadRatio(f64),
    #[error("level {level}: no voxel size within a factor 2 of h = {target} mm divides the specimen ({lengths} mm) into whole voxels and is finer than level {prev} (h = {prev_h} mm); try another ratio or voxel.size")]
    NoAdmissible {
        level: usize,
        target: f64,
        lengths: String,
        prev: usize,
        prev_h: f64,
    },
}

/// Most levels of a convergence study.
pub const MAX_LEVELS: usize = 8;

/// Most voxels along one axis at a study's finest level: far beyond any
/// grid that fits in memory (checked before the sizes are planned, so that
/// planning itself stays bounded; the memory cap then judges each level).
pub const MAX_VOXELS_PER_AXIS: f64 = 1.0e5;

/// Voxel sizes of a convergence study: `levels` sizes from `h0` (the
/// scene's, level 1), each the admissible h nearest to h0/ratioⁱ in ln h and
/// finer than the one before. Admissible: every length of `whole` a whole
/// number of voxels (to 1e-9 relative, as the scene's check). Lengths of
/// `prefer` are kept whole too when some admissible h within √ratio of the
/// target allows it; otherwise a note says why not. Returns the sizes and
/// the notes.
pub fn plan_sizes(
    h0: f64,
    whole: &[f64],
    prefer: &[(&str, f64)],
    levels: usize,
    ratio: f64,
) -> Result<(Vec<f64>, Vec<String>), PlanError> {
    if !(3..=MAX_LEVELS).contains(&levels) {
        return Err(PlanError::BadLevels(levels));
    }
    if !(ratio.is_finite() && ratio > 1.0) {
        return Err(PlanError::BadRatio(ratio));
    }
    let length = whole.iter().copied().fold(0.0, f64::max);
    let finest = h0 / ratio.powi(levels as i32 - 1);
    let per_axis = length / finest;
    if per_axis.is_nan() || per_axis > MAX_VOXELS_PER_AXIS {
        return Err(PlanError::TooFine {
            levels,
            ratio,
            finest,
            per_axis,
            length,
        });
    }
    let is_whole = |l: f64, h: f64| {
        let n = l / h;
        (n - n.round()).abs() <= 1e-9 * n && n.round() >= 1.0
    };
    let l_ref = whole[0];
    let mut sizes = vec![h0];
    let mut notes = Vec::new();
    for (name, l) in prefer {
        if !is_whole(*l, h0) {
            notes.push(format!(
                "level 1: {name} = {l} mm is not a whole number of voxels of h = {h0} mm (the scene's voxel size)"
            ));
        }
    }
    for level in 1..levels {
        let target = h0 / ratio.powi(level as i32);
        let prev = sizes[level - 1];
        let n_prev = (l_ref / prev).round() as u64;
        let n_lo = ((l_ref / target / 2.0).floor() as u64).max(n_prev + 1);
        let n_hi = (2.0 * l_ref / target).ceil() as u64;
        let admissible: Vec<f64> = (n_lo..=n_hi)
            .map(|n| l_ref / n as f64)
            .filter(|&h| h < prev && whole.iter().all(|&l| is_whole(l, h)))
            .collect();
        let dist = |h: &f64| (h / target).ln().abs();
        let nearest =
            |hs: &mut dyn Iterator<Item = f64>| hs.min_by(|a, b| dist(a).total_cmp(&dist(b)));
        let Some(any) = nearest(&mut admissible.iter().copied()) else {
            return Err(PlanError::NoAdmissible {
                level: level + 1,
                target,
                lengths: format!("{whole:?}"),
                prev: level,
                prev_h: prev,
            });
        };
        let within = ratio.sqrt().ln();
        let kept = nearest(
            &mut admissible
                .iter()
                .copied()
                .filter(|h| prefer.iter().all(|(_, l)| is_whole(*l, *h)) && dist(h) <= within),
        );
        let h = match kept {
            Some(h) => h,
            None => {
                for (name, l) in prefer {
                    notes.push(format!(
                        "level {}: {name} = {l} mm is not a whole number of voxels at h = {any} mm: \
                         no admissible h within a factor √{ratio} of {target} mm makes it whole, so \
                         the strip's width moves in steps of h (reported per level)",
                        level + 1
                    ));
                }
                any
            }
        };
        sizes.push(h);
    }
    Ok((sizes, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f∞ + C·hᵖ at each h.
    fn seq(h: [f64; 3], f_inf: f64, c: f64, p: f64) -> [f64; 3] {
        h.map(|h| f_inf + c * h.powf(p))
    }

    #[test]
    fn equal_ratios_recover_order_and_limit() {
        let h = [0.1, 0.05, 0.025];
        for (p, c) in [(1.0, 300.0), (2.0, -5e4), (0.7, 80.0), (3.5, 1e6)] {
            let f = seq(h, 3000.0, c, p);
            let e = estimate(h, f, FLAT);
            assert!((e.order.unwrap() - p).abs() < 1e-9, "p {p}: {e:?}");
            assert!((e.extrapolated.unwrap() - 3000.0).abs() < 1e-8, "{e:?}");
            // Closed form: |f₃ − f∞| = |C|·h₃ᵖ.
            let exact = c.abs() * 0.025f64.powf(p);
            assert!((e.error_estimate.unwrap() / exact - 1.0).abs() < 1e-7);
            assert!(e.asymptotic && e.monotone, "{}", e.statement);
            // Equal ratios: p = ln(ε₂₁/ε₃₂)/ln 2.
            let direct = ((f[1] - f[0]) / (f[2] - f[1])).ln() / 2f64.ln();
            assert!((e.order.unwrap() - direct).abs() < 1e-9);
            let gci = 1.25 * ((f[2] - f[1]) / f[2]).abs() / (2f64.powf(p) - 1.0);
            assert!((e.gci_fine.unwrap() - gci).abs() < 1e-12);
        }
    }

    #[test]
    fn unequal_ratios_recover_order_and_limit() {
        // Ratios 1.5 then 1.2 (as admissible sizes give), and 3 then 1.25.
        for h in [[0.075, 0.05, 0.05 / 1.2], [0.3, 0.1, 0.08]] {
            for p in [0.6, 1.0, 1.7, 2.0, 3.9] {
                let f = seq(h, 4200.0, 900.0, p);
                let e = estimate(h, f, FLAT);
                assert!((e.order.unwrap() - p).abs() < 1e-8, "{h:?} p {p}: {e:?}");
                assert!((e.extrapolated.unwrap() - 4200.0).abs() < 1e-7);
                let exact = 900.0 * h[2].powf(p);
                assert!((e.error_estimate.unwrap() - exact).abs() < 1e-7 * exact);
            }
        }
    }

    #[test]
    fn non_monotone_sequences_get_no_order_and_say_so() {
        // The issue's binary RD values at h = 0.075, 0.05, 0.0375.
        let e = estimate([0.075, 0.05, 0.0375], [4178.0, 4542.0, 4153.0], FLAT);
        assert_eq!(e.order, None);
        assert_eq!(e.extrapolated, None);
        assert!(!e.monotone && !e.asymptotic);
        assert!((e.spread - 389.0).abs() < 1e-9);
        assert!(e.statement.contains("not monotone"), "{}", e.statement);
    }

    #[test]
    fn orders_outside_the_band_are_flagged_not_trusted() {
        let h = [0.1, 0.05, 0.025];
        let low = estimate(h, seq(h, 10.0, 1.0, 0.3), FLAT);
        assert!((low.order.unwrap() - 0.3).abs() < 1e-9);
        assert!(low.monotone && !low.asymptotic, "{}", low.statement);
        assert!(low.statement.contains("outside [0.5, 4]"));
        let high = estimate(h, seq(h, 10.0, 1e6, 6.0), FLAT);
        assert!(!high.asymptotic && (high.order.unwrap() - 6.0).abs() < 1e-8);
        // Differences growing as h shrinks: p < 0.
        let div = estimate(h, [10.0, 11.0, 13.0], FLAT);
        assert_eq!(
            observed_order(h, [10.0, 11.0, 13.0], FLAT),
            Err(NoOrder::Diverging)
        );
        assert!(div.monotone && !div.asymptotic && div.extrapolated.is_none());
        // Flat: converged.
        let flat = estimate(h, [5.0, 5.0, 5.0], FLAT);
        assert!(flat.asymptotic && flat.extrapolated == Some(5.0));
        // Differences within a solver's noise (1e-5 relative) are flat too,
        // though they alternate in sign.
        let noisy = estimate(h, [5.0, 5.0 + 2e-5, 5.0 - 1e-5], 1e-5);
        assert!(noisy.asymptotic && noisy.error_estimate == Some(0.0));
        assert!(!estimate(h, [5.0, 5.0 + 2e-5, 5.0 - 1e-5], FLAT).monotone);
        // Only the finest difference zero: above any order.
        assert_eq!(
            observed_order(h, [4.0, 5.0, 5.0], FLAT),
            Err(NoOrder::AboveMax)
        );
    }

    #[test]
    fn sizes_divide_the_box_and_follow_the_ratio() {
        let (h, notes) = plan_sizes(0.075, &[4.5, 4.5, 4.5], &[], 3, 1.5).unwrap();
        assert_eq!(h.len(), 3);
        assert_eq!(h[0], 0.075);
        assert!((h[1] - 0.05).abs() < 1e-15 && (h[2] - 4.5 / 135.0).abs() < 1e-15);
        assert!(notes.is_empty());
        // 3 × 2 × 1.2: h must divide 0.2 (the gcd); the nearest to
        // 0.1/1.5 = 0.0667 is 0.2/3.
        let (h, _) = plan_sizes(0.1, &[3.0, 2.0, 1.2], &[], 4, 1.5).unwrap();
        for w in h.windows(2) {
            assert!(w[1] < w[0]);
        }
        for &s in &h {
            for l in [3.0, 2.0, 1.2] {
                let n: f64 = l / s;
                assert!((n - n.round()).abs() < 1e-9 * n, "{l}/{s}");
            }
        }
        assert!((h[1] - 0.2 / 3.0).abs() < 1e-15, "{h:?}");
    }

    #[test]
    fn half_contact_kept_whole_or_noted() {
        // Bar 80 × 10 × 10, c/2 = 0.5, h0 = 0.5, ratio 2: 0.25 and 0.125
        // divide the bar and c/2.
        let (h, notes) = plan_sizes(0.5, &[80.0, 10.0, 10.0], &[("c/2", 0.5)], 3, 2.0).unwrap();
        assert_eq!(h, vec![0.5, 0.25, 0.125]);
        assert!(notes.is_empty());
        // c/2 = 0.3 needs h | 0.1: none within √2 of 0.25, so 0.25 with a
        // note (and a note for level 1, where 0.3/0.5 is not whole).
        let (h, notes) = plan_sizes(0.5, &[80.0, 10.0, 10.0], &[("c/2", 0.3)], 3, 2.0).unwrap();
        assert!((h[1] - 0.25).abs() < 1e-15, "{h:?}");
        assert!(
            !notes.is_empty() && notes[0].contains("c/2 = 0.3"),
            "{notes:?}"
        );
    }

    #[test]
    fn bad_levels_ratio_and_incommensurate_boxes_are_errors() {
        assert_eq!(
            plan_sizes(0.1, &[1.0], &[], 2, 1.5),
            Err(PlanError::BadLevels(2))
        );
        assert_eq!(
            plan_sizes(0.1, &[1.0], &[], 3, 1.0),
            Err(PlanError::BadRatio(1.0))
        );
        // 40 levels (which once planned without end) and a finest level of
        // 10⁹ voxels per axis are refused before any size is planned.
        assert_eq!(
            plan_sizes(0.1, &[1.0], &[], 40, 1.5),
            Err(PlanError::BadLevels(40))
        );
        let e = plan_sizes(0.1, &[1.0], &[], 4, 1000.0).unwrap_err();
        assert!(matches!(e, PlanError::TooFine { levels: 4, .. }), "{e}");
        assert!(
            e.to_string().contains("at most 100000 voxels per axis"),
            "{e}"
        );
        // 1 and √2 share no voxel size.
        let e = plan_sizes(1.0 / 7.0, &[1.0, 2f64.sqrt() * 1e3], &[], 3, 1.5).unwrap_err();
        assert!(matches!(e, PlanError::NoAdmissible { level: 2, .. }), "{e}");
    }
}
