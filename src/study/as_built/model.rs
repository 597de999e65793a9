//! The knockdown models of as-built calibration and their fits (spec,
//! "As-built calibration to measured tests"): a model maps the simulated
//! value of a specimen (its ideal geometry) to the measured one.
//!
//! - `constant`: y = k·s;
//! - `power-law`: y = k·ρ^m·s (ρ the specimen's relative density, 1 − porosity);
//! - `strut-offset`: y = k·s(D + δ): the printed strut carries load as a
//!   strut of diameter D + δ, s(D + δ) the simulated value of the specimen
//!   with that strut. It is simulated on a grid of offsets per specimen and
//!   interpolated in log–log (a least-squares quadratic of ln s against
//!   ln(D + δ) through the grid, [`OffsetCurve`]); δ is then found by a
//!   1-D search over the offsets every specimen's grid covers.
//!
//! Each fit is least squares on ln values (k's logarithm is linear, so for
//! each δ it is the mean residual). The 95 % interval of each parameter is
//! the profile-likelihood interval of a least-squares fit: the values
//! whose best fit (the other parameter re-optimized) has
//! `SSE ≤ SSE_min·(1 + t²/(n − p))`, t the Student quantile
//! ([`crate::fit::t_975`]) at n − p degrees of freedom; for the two
//! linear models (`constant`, `power-law`) this is exactly the usual
//! t interval `â ± t·se`, which is what they compute. Models are compared
//! by leave-one-out (LOO) prediction: each specimen predicted by the model
//! fitted to the others. A fit needs at least p + 2 specimens (p
//! parameters): one degree of freedom left for the error and one for LOO.
//!
//! This file is a leaf (nothing of the scene or the pipeline): the scene's
//! `[as_built]` section reads an [`AsBuilt`] model, and the pipeline
//! applies it.

use serde::{Deserialize, Serialize};

use crate::fit::t_975;

/// The knockdown models, simplest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    Constant,
    PowerLaw,
    StrutOffset,
}

impl ModelKind {
    pub const ALL: [ModelKind; 3] = [
        ModelKind::Constant,
        ModelKind::PowerLaw,
        ModelKind::StrutOffset,
    ];

    /// The name the scene and the JSON give it.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Constant => "constant",
            ModelKind::PowerLaw => "power-law",
            ModelKind::StrutOffset => "strut-offset",
        }
    }

    /// The model by name.
    pub fn from_name(name: &str) -> Option<ModelKind> {
        ModelKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The formula, for the reports.
    pub fn formula(self) -> &'static str {
        match self {
            ModelKind::Constant => "k·s",
            ModelKind::PowerLaw => "k·ρ^m·s",
            ModelKind::StrutOffset => "k·s(D + δ)",
        }
    }

    /// The number of parameters p.
    pub fn parameters(self) -> usize {
        match self {
            ModelKind::Constant => 1,
            ModelKind::PowerLaw | ModelKind::StrutOffset => 2,
        }
    }

    /// The fewest specimens a fit takes: p + 2.
    pub fn min_specimens(self) -> usize {
        self.parameters() + 2
    }
}

/// A fitted (or given) knockdown model: what the scene's `[as_built]`
/// holds and what the run applies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AsBuilt {
    pub model: ModelKind,
    /// The factor k.
    pub k: f64,
    /// `power-law`: the exponent m of ρ (0 otherwise).
    #[serde(default)]
    pub m: f64,
    /// `strut-offset`: δ, mm (0 otherwise).
    #[serde(default)]
    pub strut_offset: f64,
    /// The fit's leave-one-out rms prediction error of ln E (≈ relative;
    /// 0 when not known): widens the band of every as-built value.
    #[serde(default)]
    pub loo_error: f64,
    /// The porosities of the tests the model was fitted to, (min, max):
    /// a prediction outside is an extrapolation (warned with the distance).
    #[serde(default)]
    pub porosity_range: Option<(f64, f64)>,
}

impl AsBuilt {
    /// The as-built value of a specimen whose ideal simulated value is
    /// `ideal` at relative density `rho`; for `strut-offset`, `offset` is
    /// the simulated value with the strut D + δ (the ideal is not used).
    pub fn apply(&self, ideal: f64, rho: f64, offset: Option<f64>) -> f64 {
        match self.model {
            ModelKind::Constant => self.k * ideal,
            ModelKind::PowerLaw => self.k * rho.powf(self.m) * ideal,
            ModelKind::StrutOffset => self.k * offset.unwrap_or(f64::NAN),
        }
    }

    /// The relative band of an as-built value whose ideal value has the
    /// relative band `ideal_band`: the two in quadrature with the fit's
    /// leave-one-out error.
    pub fn band(&self, ideal_band: Option<f64>) -> f64 {
        ideal_band.unwrap_or(0.0).hypot(self.loo_error)
    }

    /// How far `porosity` lies outside the tested range (`None`: inside,
    /// or no range known), as (the nearest tested end, the distance).
    pub fn extrapolation(&self, porosity: f64) -> Option<(f64, f64)> {
        let (lo, hi) = self.porosity_range?;
        if porosity < lo - 1e-9 {
            Some((lo, lo - porosity))
        } else if porosity > hi + 1e-9 {
            Some((hi, porosity - hi))
        } else {
            None
        }
    }

    /// "power-law k = 0.21, m = -0.4 (LOO error 9.1 %)".
    pub fn describe(&self) -> String {
        let p = match self.model {
            ModelKind::Constant => format!("k = {:.4}", self.k),
            ModelKind::PowerLaw => format!("k = {:.4}, m = {:.4}", self.k, self.m),
            ModelKind::StrutOffset => {
                format!("k = {:.4}, δ = {:+.4} mm", self.k, self.strut_offset)
            }
        };
        format!(
            "{} {p} (leave-one-out error {:.1} %)",
            self.model.name(),
            100.0 * self.loo_error
        )
    }
}

/// The simulated values of one tested specimen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimPoint {
    /// Relative density ρ = 1 − porosity of the specimen.
    pub rho: f64,
    /// The simulated value at the specimen's geometry.
    pub ideal: f64,
    /// The strut diameter D of the specimen, mm (`None`: not a strut
    /// lattice; no `strut-offset` fit).
    pub strut: Option<f64>,
    /// (δ, simulated value at D + δ) over the grid of offsets, δ = 0
    /// included (empty: no `strut-offset` fit).
    pub offsets: Vec<(f64, f64)>,
}

/// ln s(D + δ) of one specimen, interpolated in log–log over its grid of
/// offsets: the least-squares quadratic of ln s against ln(D + δ).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OffsetCurve {
    d: f64,
    c: [f64; 3],
    /// The offsets simulated, (lowest, highest).
    pub range: (f64, f64),
}

impl OffsetCurve {
    /// The curve of `p` (`None` without a strut or with fewer than three
    /// offsets with a positive value).
    pub fn of(p: &SimPoint) -> Option<OffsetCurve> {
        let d = p.strut?;
        let pts: Vec<(f64, f64)> = p
            .offsets
            .iter()
            .filter(|(dl, v)| *v > 0.0 && v.is_finite() && d + dl > 0.0)
            .map(|&(dl, v)| ((d + dl).ln(), v.ln()))
            .collect();
        if pts.len() < 3 {
            return None;
        }
        let c = quadratic_fit(&pts)?;
        let lo = p.offsets.iter().map(|o| o.0).fold(f64::INFINITY, f64::min);
        let hi = p.offsets.iter().map(|o| o.0).fold(-f64::INFINITY, f64::max);
        Some(OffsetCurve {
            d,
            c,
            range: (lo, hi),
        })
    }

    /// ln s(D + δ).
    pub fn ln_value(&self, delta: f64) -> f64 {
        let x = (self.d + delta).ln();
        self.c[0] + self.c[1] * x + self.c[2] * x * x
    }
}

/// Least squares `y = c0 + c1 x + c2 x²` (centered for conditioning).
fn quadratic_fit(pts: &[(f64, f64)]) -> Option<[f64; 3]> {
    let n = pts.len() as f64;
    let xm = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let mut a = nalgebra::Matrix3::<f64>::zeros();
    let mut b = nalgebra::Vector3::<f64>::zeros();
    for &(x, y) in pts {
        let u = x - xm;
        let row = nalgebra::Vector3::new(1.0, u, u * u);
        a += row * row.transpose();
        b += row * y;
    }
    let c = a.lu().solve(&b)?;
    // Back from u = x − xm to x.
    Some([
        c[0] - c[1] * xm + c[2] * xm * xm,
        c[1] - 2.0 * c[2] * xm,
        c[2],
    ])
}

/// One fitted parameter with its 95 % interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// `k`, `m` or `strut_offset`.
    pub name: String,
    pub value: f64,
    /// The 95 % profile-likelihood interval, (low, high).
    pub ci95: (f64, f64),
    /// Whether an end of the interval is where the simulated offsets end
    /// (the true end lies beyond: simulate a wider grid).
    #[serde(default)]
    pub censored: bool,
}

/// One model fitted to the tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFit {
    pub model: ModelKind,
    pub params: Vec<Param>,
    /// The fitted value of each specimen.
    pub fitted: Vec<f64>,
    /// Each specimen's leave-one-out prediction: the model fitted to the
    /// others.
    pub loo: Vec<f64>,
    /// rms of ln(fitted/measured).
    pub rms_log: f64,
    /// rms of ln(LOO/measured): the model's prediction error (≈ relative).
    pub loo_rms_log: f64,
    /// rms of LOO/measured − 1.
    pub loo_rms_relative: f64,
    /// The residual degrees of freedom n − p.
    pub dof: usize,
}

impl ModelFit {
    /// The model as the scene applies it.
    pub fn as_built(&self, porosity_range: Option<(f64, f64)>) -> AsBuilt {
        let get = |n: &str| {
            self.params
                .iter()
                .find(|p| p.name == n)
                .map_or(0.0, |p| p.value)
        };
        AsBuilt {
            model: self.model,
            k: get("k"),
            m: get("m"),
            strut_offset: get("strut_offset"),
            loo_error: self.loo_rms_log,
            porosity_range,
        }
    }
}

/// Why a model was not fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitRefused {
    #[error("{model}: {n} specimens, allowed: at least {need} (its {p} parameters + 2: one degree of freedom for the error, one for leave-one-out)")]
    TooFew {
        model: &'static str,
        n: usize,
        need: usize,
        p: usize,
    },
    #[error("strut-offset: {0}")]
    NoOffsets(String),
    #[error("{model}: the fit is degenerate ({why})")]
    Degenerate { model: &'static str, why: String },
}

/// Fits `model` to the measured values `measured` of the specimens `sims`
/// (same order, all positive), with its intervals and its leave-one-out
/// predictions.
pub fn fit(model: ModelKind, sims: &[SimPoint], measured: &[f64]) -> Result<ModelFit, FitRefused> {
    let n = sims.len();
    let p = model.parameters();
    if n < model.min_specimens() {
        return Err(FitRefused::TooFew {
            model: model.name(),
            n,
            need: model.min_specimens(),
            p,
        });
    }
    let y: Vec<f64> = measured.iter().map(|v| v.ln()).collect();
    let problem = Problem::new(model, sims)?;
    let all: Vec<usize> = (0..n).collect();
    let est = problem.estimate(&all, &y)?;
    let fitted: Vec<f64> = (0..n).map(|i| problem.predict(i, &est).exp()).collect();
    let mut loo = Vec::with_capacity(n);
    for i in 0..n {
        let rest: Vec<usize> = (0..n).filter(|&j| j != i).collect();
        let e = problem.estimate(&rest, &y)?;
        loo.push(problem.predict(i, &e).exp());
    }
    let rms = |v: &[f64]| {
        (v.iter()
            .zip(&y)
            .map(|(a, y)| (a.ln() - y).powi(2))
            .sum::<f64>()
            / n as f64)
            .sqrt()
    };
    let loo_rms_relative = (loo
        .iter()
        .zip(measured)
        .map(|(a, m)| (a / m - 1.0).powi(2))
        .sum::<f64>()
        / n as f64)
        .sqrt();
    let params = problem.intervals(&all, &y, &est)?;
    Ok(ModelFit {
        model,
        params,
        rms_log: rms(&fitted),
        loo_rms_log: rms(&loo),
        loo_rms_relative,
        fitted,
        loo,
        dof: n - p,
    })
}

/// The estimate of a model: ln k, and m or δ.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Estimate {
    ln_k: f64,
    second: f64,
    sse: f64,
}

/// A model over the specimens, ready to fit any subset.
struct Problem<'a> {
    model: ModelKind,
    sims: &'a [SimPoint],
    curves: Vec<OffsetCurve>,
    /// The offsets every specimen's grid covers.
    delta_range: (f64, f64),
}

impl<'a> Problem<'a> {
    fn new(model: ModelKind, sims: &'a [SimPoint]) -> Result<Problem<'a>, FitRefused> {
        let mut curves = Vec::new();
        let mut delta_range = (f64::NEG_INFINITY, f64::INFINITY);
        if model == ModelKind::StrutOffset {
            for (i, s) in sims.iter().enumerate() {
                let c = OffsetCurve::of(s).ok_or_else(|| {
                    FitRefused::NoOffsets(format!(
                        "specimen {} has no strut diameter or fewer than three simulated offsets (a strut lattice is needed)",
                        i + 1
                    ))
                })?;
                delta_range = (delta_range.0.max(c.range.0), delta_range.1.min(c.range.1));
                curves.push(c);
            }
            if delta_range.0 >= delta_range.1 {
                return Err(FitRefused::NoOffsets(
                    "the specimens' grids of offsets have no common range".into(),
                ));
            }
        }
        Ok(Problem {
            model,
            sims,
            curves,
            delta_range,
        })
    }

    /// ln of the model's value of specimen `i` without k.
    fn base(&self, i: usize, second: f64) -> f64 {
        let s = &self.sims[i];
        match self.model {
            ModelKind::Constant => s.ideal.ln(),
            ModelKind::PowerLaw => s.ideal.ln() + second * s.rho.ln(),
            ModelKind::StrutOffset => self.curves[i].ln_value(second),
        }
    }

    fn predict(&self, i: usize, e: &Estimate) -> f64 {
        e.ln_k + self.base(i, e.second)
    }

    /// The best ln k for `second` over `idx` and its SSE.
    fn profile_k(&self, idx: &[usize], y: &[f64], second: f64) -> (f64, f64) {
        let r: Vec<f64> = idx.iter().map(|&i| y[i] - self.base(i, second)).collect();
        let mean = r.iter().sum::<f64>() / r.len() as f64;
        (mean, r.iter().map(|v| (v - mean).powi(2)).sum())
    }

    /// The SSE with ln k fixed, minimized over the second parameter (δ).
    fn profile_fixed_k(&self, idx: &[usize], y: &[f64], ln_k: f64) -> f64 {
        let sse = |d: f64| {
            idx.iter()
                .map(|&i| (y[i] - ln_k - self.base(i, d)).powi(2))
                .sum::<f64>()
        };
        minimize_1d(self.delta_range, sse).1
    }

    fn estimate(&self, idx: &[usize], y: &[f64]) -> Result<Estimate, FitRefused> {
        match self.model {
            ModelKind::Constant => {
                let (ln_k, sse) = self.profile_k(idx, y, 0.0);
                Ok(Estimate {
                    ln_k,
                    second: 0.0,
                    sse,
                })
            }
            ModelKind::PowerLaw => {
                let (m, ln_k, sse, _) = self.power_ols(idx, y)?;
                Ok(Estimate {
                    ln_k,
                    second: m,
                    sse,
                })
            }
            ModelKind::StrutOffset => {
                let (d, sse) = minimize_1d(self.delta_range, |d| self.profile_k(idx, y, d).1);
                Ok(Estimate {
                    ln_k: self.profile_k(idx, y, d).0,
                    second: d,
                    sse,
                })
            }
        }
    }

    /// OLS of r = y − ln s on (1, ln ρ): (m, ln k, SSE, (s_xx, mean ln ρ)).
    #[allow(clippy::type_complexity)]
    fn power_ols(
        &self,
        idx: &[usize],
        y: &[f64],
    ) -> Result<(f64, f64, f64, (f64, f64)), FitRefused> {
        let pts: Vec<(f64, f64)> = idx
            .iter()
            .map(|&i| (self.sims[i].rho.ln(), y[i] - self.sims[i].ideal.ln()))
            .collect();
        let n = pts.len() as f64;
        let xm = pts.iter().map(|p| p.0).sum::<f64>() / n;
        let rm = pts.iter().map(|p| p.1).sum::<f64>() / n;
        let sxx: f64 = pts.iter().map(|p| (p.0 - xm).powi(2)).sum();
        if sxx <= 1e-12 {
            return Err(FitRefused::Degenerate {
                model: "power-law",
                why: "all specimens have the same relative density: m is not determined".into(),
            });
        }
        let m = pts.iter().map(|p| (p.0 - xm) * (p.1 - rm)).sum::<f64>() / sxx;
        let ln_k = rm - m * xm;
        let sse = pts.iter().map(|p| (p.1 - ln_k - m * p.0).powi(2)).sum();
        Ok((m, ln_k, sse, (sxx, xm)))
    }

    /// The parameters with their 95 % intervals.
    fn intervals(&self, idx: &[usize], y: &[f64], e: &Estimate) -> Result<Vec<Param>, FitRefused> {
        let n = idx.len();
        let dof = n - self.model.parameters();
        let t = t_975(dof);
        let s2 = e.sse / dof as f64;
        let param = |name: &str, value: f64, ci95: (f64, f64), censored: bool| Param {
            name: name.into(),
            value,
            ci95,
            censored,
        };
        Ok(match self.model {
            ModelKind::Constant => {
                let half = t * (s2 / n as f64).sqrt();
                vec![param(
                    "k",
                    e.ln_k.exp(),
                    ((e.ln_k - half).exp(), (e.ln_k + half).exp()),
                    false,
                )]
            }
            ModelKind::PowerLaw => {
                let (m, ln_k, _, (sxx, xm)) = self.power_ols(idx, y)?;
                let se_m = (s2 / sxx).sqrt();
                let se_a = (s2 * (1.0 / n as f64 + xm * xm / sxx)).sqrt();
                vec![
                    param(
                        "k",
                        ln_k.exp(),
                        ((ln_k - t * se_a).exp(), (ln_k + t * se_a).exp()),
                        false,
                    ),
                    param("m", m, (m - t * se_m, m + t * se_m), false),
                ]
            }
            ModelKind::StrutOffset => {
                let limit = e.sse * (1.0 + t * t / dof as f64);
                // A perfect fit has no spread: give it a floor.
                let limit = limit.max(e.sse + 1e-12);
                let sse_d = |d: f64| self.profile_k(idx, y, d).1;
                let (lo, lo_c) = crossing(e.second, self.delta_range.0, limit, sse_d);
                let (hi, hi_c) = crossing(e.second, self.delta_range.1, limit, sse_d);
                let sse_k = |a: f64| self.profile_fixed_k(idx, y, a);
                // ln k: expand outward until the profile passes the limit.
                let k_end = |dir: f64| {
                    let mut step = 0.05;
                    let mut far = e.ln_k + dir * step;
                    while sse_k(far) <= limit && step < 50.0 {
                        step *= 2.0;
                        far = e.ln_k + dir * step;
                    }
                    crossing(e.ln_k, far, limit, sse_k)
                };
                let (klo, c1) = k_end(-1.0);
                let (khi, c2) = k_end(1.0);
                vec![
                    param("k", e.ln_k.exp(), (klo.exp(), khi.exp()), c1 || c2),
                    param("strut_offset", e.second, (lo, hi), lo_c || hi_c),
                ]
            }
        })
    }
}

/// The minimum of `f` on `[lo, hi]`: a scan of 64 points, then golden
/// section around the best. Returns (x, f(x)).
fn minimize_1d(range: (f64, f64), f: impl Fn(f64) -> f64) -> (f64, f64) {
    let (lo, hi) = range;
    const N: usize = 64;
    let step = (hi - lo) / N as f64;
    let (mut best, mut fb) = (lo, f(lo));
    for j in 1..=N {
        let x = lo + step * j as f64;
        let v = f(x);
        if v < fb {
            best = x;
            fb = v;
        }
    }
    let (mut a, mut b) = ((best - step).max(lo), (best + step).min(hi));
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..60 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    let x = 0.5 * (a + b);
    let v = f(x);
    if v < fb {
        (x, v)
    } else {
        (best, fb)
    }
}

/// Where `f` (≤ `limit` at `from`) rises through `limit` between `from`
/// and `to`, by bisection; `(to, true)` when it never does (the interval is
/// censored at `to`).
fn crossing(from: f64, to: f64, limit: f64, f: impl Fn(f64) -> f64) -> (f64, bool) {
    if f(to) <= limit {
        return (to, true);
    }
    let (mut inside, mut outside) = (from, to);
    for _ in 0..60 {
        let mid = 0.5 * (inside + outside);
        if f(mid) <= limit {
            inside = mid;
        } else {
            outside = mid;
        }
    }
    (0.5 * (inside + outside), false)
}

/// The model chosen among the fits: the lowest leave-one-out rms error of
/// ln value; a model with more parameters must beat a simpler one by at
/// least [`PARSIMONY`] of the simpler one's error to be chosen over it.
/// Returns the index into `fits` and the reason, in words.
pub fn choose(fits: &[ModelFit]) -> Option<(usize, String)> {
    let mut best: Option<usize> = None;
    for (i, f) in fits.iter().enumerate() {
        best = Some(match best {
            None => i,
            Some(b) => {
                let fb = &fits[b];
                let better = if f.model.parameters() > fb.model.parameters() {
                    f.loo_rms_log < (1.0 - PARSIMONY) * fb.loo_rms_log
                } else if f.model.parameters() < fb.model.parameters() {
                    f.loo_rms_log <= fb.loo_rms_log / (1.0 - PARSIMONY)
                } else {
                    f.loo_rms_log < fb.loo_rms_log
                };
                if better {
                    i
                } else {
                    b
                }
            }
        });
    }
    let b = best?;
    let f = &fits[b];
    let others: Vec<String> = fits
        .iter()
        .filter(|o| o.model != f.model)
        .map(|o| format!("{} {:.1} %", o.model.name(), 100.0 * o.loo_rms_log))
        .collect();
    let why = format!(
        "{} has the lowest leave-one-out rms error of ln value, {:.1} %{} (a model with more parameters must beat a simpler one by {:.0} % of its error)",
        f.model.name(),
        100.0 * f.loo_rms_log,
        if others.is_empty() {
            String::new()
        } else {
            format!(" (vs {})", others.join(", "))
        },
        100.0 * PARSIMONY
    );
    Some((b, why))
}

/// The margin by which a model with more parameters must lower the
/// leave-one-out error of a simpler one to be chosen (10 %).
pub const PARSIMONY: f64 = 0.10;

#[cfg(test)]
mod tests {
    use super::*;

    fn sims(rhos: &[f64]) -> Vec<SimPoint> {
        rhos.iter()
            .map(|&rho| {
                let d = 0.6 * rho.sqrt();
                // s(D) ∝ D^4 (a bending-dominated lattice).
                let s = |dd: f64| 1e5 * dd.powi(4);
                SimPoint {
                    rho,
                    ideal: s(d),
                    strut: Some(d),
                    offsets: [-0.04, -0.02, 0.0, 0.02, 0.04]
                        .iter()
                        .map(|&dl| (dl, s(d + dl)))
                        .collect(),
                }
            })
            .collect()
    }

    #[test]
    fn exact_data_is_recovered_by_each_model() {
        let s = sims(&[0.12, 0.15, 0.2, 0.28, 0.4, 0.55]);
        let constant: Vec<f64> = s.iter().map(|p| 0.2 * p.ideal).collect();
        let f = fit(ModelKind::Constant, &s, &constant).unwrap();
        assert!((f.params[0].value - 0.2).abs() < 1e-9, "{f:?}");
        assert!(f.loo_rms_log < 1e-9);
        let power: Vec<f64> = s.iter().map(|p| 0.3 * p.rho.powf(0.5) * p.ideal).collect();
        let f = fit(ModelKind::PowerLaw, &s, &power).unwrap();
        assert!((f.params[0].value - 0.3).abs() < 1e-9 && (f.params[1].value - 0.5).abs() < 1e-9);
        let offset: Vec<f64> = s
            .iter()
            .map(|p| 0.7 * 1e5 * (p.strut.unwrap() - 0.02).powi(4))
            .collect();
        let f = fit(ModelKind::StrutOffset, &s, &offset).unwrap();
        assert!((f.params[1].value + 0.02).abs() < 1e-5, "{:?}", f.params);
        assert!((f.params[0].value - 0.7).abs() < 1e-3, "{:?}", f.params);
        let (i, why) = choose(&[
            fit(ModelKind::Constant, &s, &offset).unwrap(),
            fit(ModelKind::PowerLaw, &s, &offset).unwrap(),
            f,
        ])
        .unwrap();
        assert_eq!(i, 2, "{why}");
    }

    #[test]
    fn too_few_specimens_are_refused_per_model() {
        let s = sims(&[0.12, 0.2, 0.3]);
        let y: Vec<f64> = s.iter().map(|p| p.ideal).collect();
        assert!(fit(ModelKind::Constant, &s, &y).is_ok());
        let e = fit(ModelKind::PowerLaw, &s, &y).unwrap_err();
        assert!(e.to_string().contains("at least 4"), "{e}");
    }

    #[test]
    fn the_t_interval_matches_the_profile_for_a_linear_model() {
        // Constant model: the profile interval of ln k is mean ± t·s/√n.
        let s = sims(&[0.1, 0.2, 0.3, 0.4]);
        let noise = [0.05, -0.03, 0.01, -0.02];
        let y: Vec<f64> = s
            .iter()
            .zip(noise)
            .map(|(p, e)| 0.5 * p.ideal * f64::exp(e))
            .collect();
        let f = fit(ModelKind::Constant, &s, &y).unwrap();
        let mean: f64 = noise.iter().sum::<f64>() / 4.0;
        let sd = (noise.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
        let half = t_975(3) * sd / 2.0;
        let (lo, hi) = f.params[0].ci95;
        assert!((lo.ln() - (0.5f64.ln() + mean - half)).abs() < 1e-12);
        assert!((hi.ln() - (0.5f64.ln() + mean + half)).abs() < 1e-12);
    }
}
