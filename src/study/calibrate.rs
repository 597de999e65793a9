//! `voxfe calibrate`: the verbose view of what `voxel.fraction_exponent =
//! "auto"` does for a scene (module [`crate::calibration`], which every
//! run, sweep, design and convergence study calls): the lattice's
//! reference (shipped, cached or computed, with its cells and its
//! uncertainty), the search's trials at the scene's h, the calibrated p,
//! the terms of the error band, and how to pin p by hand.
//!
//! Nothing is computed here that a run would not compute: the view is
//! [`calibration::resolve_with_progress`] of the scene with the default
//! fill and exponent (`"fraction"`, `"auto"`), so the p printed is the p a
//! run of the scene with the defaults uses, and the calibration it makes is
//! cached for those runs.

use serde::Serialize;

use crate::calibration::cache::Cache;
use crate::calibration::cell::CellSolve;
use crate::calibration::{self, Accuracy, Calibrated, CalibrationError, SEARCH_TOLERANCE};
use crate::scene::{Exponent, Fill, Scene, Setting};

/// What `voxfe calibrate` shows.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationView {
    pub lattice: &'static str,
    /// Cell side M, mm.
    pub cell: f64,
    pub porosity_nominal: f64,
    /// The scene's voxel size h, mm.
    pub voxel_size: f64,
    pub d_over_h: Option<f64>,
    pub element: &'static str,
    /// The scene's own `voxel.fill` and `voxel.fraction_exponent` when they
    /// are not the defaults (the view shows what the defaults do).
    pub scene_setting: Option<String>,
    /// The calibration, its band and its cache use, as a run carries it.
    pub accuracy: Accuracy,
    /// The `--set` arguments that pin the calibrated p by hand.
    pub pin: String,
    /// Warnings and fallbacks of the cells, each once.
    pub notices: Vec<String>,
}

impl CalibrationView {
    /// The calibration (always present: the view calibrates).
    pub fn calibrated(&self) -> &Calibrated {
        self.accuracy
            .calibration
            .as_ref()
            .expect("the view calibrates")
    }
}

/// Calibrates the exponent of `scene`'s lattice at its voxel size as a run
/// with the defaults would ([`calibration::resolve_with_progress`] with
/// `cache`), telling `progress` each cell solved (none when the cache
/// holds the calibration).
pub fn calibrate(
    scene: &Scene,
    cache: &Cache,
    progress: &mut dyn FnMut(&CellSolve),
) -> Result<CalibrationView, CalibrationError> {
    let v = &scene.voxel;
    let scene_setting = match (v.fill, v.fraction_exponent) {
        (Fill::Fraction, Exponent::Auto) => None,
        (Fill::Binary, _) => Some("voxel.fill = \"binary\"".to_string()),
        (Fill::Fraction, Exponent::Value(p)) => Some(format!("voxel.fraction_exponent = {p}")),
    };
    // Before the defaults are set: a scene with no lattice (an image, whose
    // calibration may take no fraction fill) is refused for what it is.
    if scene.lattice.kind == crate::lattice::LatticeKind::Solid || scene.lattice.omitted {
        return Err(CalibrationError::NoLattice);
    }
    let defaults = scene.with_settings(&[
        Setting::new("voxel.fill", Fill::Fraction.name()),
        Setting::new("voxel.fraction_exponent", "auto"),
    ])?;
    let lattice = defaults.lattice()?;
    let resolved = calibration::resolve_with_progress(&defaults, cache, progress)?;
    let accuracy = resolved.accuracy;
    let c = accuracy
        .calibration
        .as_ref()
        .ok_or(CalibrationError::NoLattice)?;
    let element = defaults.solver.element.name();
    let mut pin = format!(
        "--set voxel.fill=fraction --set voxel.fraction_exponent={}",
        c.exponent
    );
    if element != "incompatible" {
        pin.push_str(&format!(" --set solver.element={element}"));
    }
    Ok(CalibrationView {
        lattice: defaults.lattice.kind.name(),
        cell: lattice.cell(),
        porosity_nominal: lattice.nominal_porosity(),
        voxel_size: defaults.voxel.size,
        d_over_h: lattice.strut_diameter().map(|d| d / defaults.voxel.size),
        element,
        scene_setting,
        pin,
        notices: resolved.notices,
        accuracy,
    })
}

/// The view as `voxfe calibrate` prints it.
impl std::fmt::Display for CalibrationView {
    fn fmt(&self, s: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = self.calibrated();
        let a = &self.accuracy;
        let r = &c.reference;
        let pct = |x: f64| format!("{:.2} %", 100.0 * x);
        let signed = |x: f64| format!("{:+.2} %", 100.0 * x);
        writeln!(
            s,
            "lattice          {} (M = {} mm, {:.2} % nominal porosity), {} element",
            self.lattice,
            self.cell,
            100.0 * self.porosity_nominal,
            self.element
        )?;
        writeln!(
            s,
            "voxel size       {} mm = M/{}{}",
            self.voxel_size,
            c.n,
            self.d_over_h
                .map_or(String::new(), |d| format!(", D/h = {d:.2}"))
        )?;
        if let Some(set) = &self.scene_setting {
            writeln!(
                s,
                "note             the scene sets {set}; shown is what the defaults (voxel.fill = \"fraction\", voxel.fraction_exponent = \"auto\") do"
            )?;
        }
        let source = match c.reference_source.as_str() {
            "shipped" => format!(
                "shipped table, interpolation error {}",
                pct(c.interpolation_error)
            ),
            "cache" => "read from the cache".to_string(),
            _ => "computed now, and cached".to_string(),
        };
        writeln!(
            s,
            "reference        E_ref/E_s = {:.6} ± {} ({source}; {})",
            r.e_rel,
            pct(r.uncertainty),
            match r.from.as_str() {
                "richardson" => "Richardson",
                _ => "the finest cell: the sequence is not asymptotic",
            },
        )?;
        if !r.cells.is_empty() {
            let cells: Vec<String> = r
                .cells
                .iter()
                .map(|x| format!("M/{} {:.6}", x.n, x.e_rel))
                .collect();
            writeln!(
                s,
                "                 φ^{} cells {}",
                calibration::reference::REFERENCE_EXPONENT,
                cells.join(", ")
            )?;
        }
        writeln!(s, "                 {}", r.statement)?;
        let tried: Vec<String> = c
            .trials
            .iter()
            .map(|t| format!("{} → {}", t.exponent, signed(t.e_rel / r.e_rel - 1.0)))
            .collect();
        writeln!(s, "trials at M/{:<4} {}", c.n, tried.join(", "))?;
        writeln!(
            s,
            "exponent         p = {} ({} of the reference at M/{}, tolerance {}; p = 2 gives {})",
            c.exponent,
            signed(c.relative_miss),
            c.n,
            pct(SEARCH_TOLERANCE),
            signed(c.relative_miss_p2)
        )?;
        if let Some(t) = &a.terms {
            let mut terms = vec![format!("reference {}", pct(t.reference))];
            if t.interpolation > 0.0 {
                terms.push(format!("interpolation {}", pct(t.interpolation)));
            }
            terms.push(format!("search {}", pct(t.search)));
            terms.push(if t.specimen > 0.0 {
                format!("specimen {}", pct(t.specimen))
            } else {
                "specimen 0 (a periodic cell)".to_string()
            });
            writeln!(
                s,
                "error band       ± {} of the lattice modulus: {}",
                pct(t.total()),
                terms.join(" + ")
            )?;
        }
        let cache = match a.cache {
            Some("hit") => "hit: the calibration was read from the cache, no cell solved",
            Some("miss") => "miss: calibrated now and stored",
            _ => "bypassed (no_cache=true, or VOXFE_NO_CACHE): nothing read or stored",
        };
        writeln!(s, "cache            {cache}")?;
        writeln!(
            s,
            "apply            nothing to apply: voxel.fraction_exponent = \"auto\" (the default) makes this calibration in every run at this h"
        )?;
        writeln!(
            s,
            "pin p by hand    {} (a run with p set by hand states no error band)",
            self.pin
        )?;
        writeln!(s, "time             {:.1} s", a.seconds.unwrap_or(0.0))
    }
}
