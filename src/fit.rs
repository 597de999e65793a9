//! The Gibson–Ashby relation `E/E_s = C·ρ^n` (ρ relative density), fitted
//! by least squares on `ln(E/E_s) = ln C + n ln ρ`. The same fit serves the
//! strength, `σ/σ_y = C·ρ^n` with the apparent first-yield stress
//! ([`crate::strength`]) over the yield strength of the solid.
//!
//! Fit quality needs residual degrees of freedom: through two points the
//! line is exact and R² = 1 says nothing, so with fewer than three points
//! [`GibsonAshby::quality`] is `None`. With three or more, it holds R² of
//! the log–log fit and the 95 % confidence interval of n,
//! `n ± t(0.975, m−2) · s_n` with `s_n² = (SS_res/(m−2)) / S_xx` (the
//! standard error of an ordinary least-squares slope) and `t` the Student
//! t quantile from [`t_975`].

use serde::Serialize;

/// A fitted Gibson–Ashby relation `E/E_s = C·ρ^n`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GibsonAshby {
    pub c: f64,
    pub n: f64,
    /// R² and the confidence interval of n; `None` with fewer than three
    /// points (no residual degree of freedom: no measure of quality).
    pub quality: Option<FitQuality>,
    pub points: usize,
}

/// How well a fit with at least three points describes them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FitQuality {
    /// Coefficient of determination of the log–log fit.
    pub r2: f64,
    /// 95 % confidence interval of the exponent n, `(low, high)`.
    pub n_ci95: (f64, f64),
}

impl GibsonAshby {
    /// "R² 0.998, n 95 % CI [2.01, 2.25]", or "no fit quality (2 points)"
    /// (`digits`: decimals of n's bounds).
    pub fn quality_text(&self, digits: usize) -> String {
        match &self.quality {
            Some(q) => format!(
                "R² {:.3}, n 95 % CI [{:.digits$}, {:.digits$}]",
                q.r2, q.n_ci95.0, q.n_ci95.1
            ),
            None => format!("no fit quality ({} points)", self.points),
        }
    }
}

/// The 0.975 quantile of Student's t distribution with `dof` degrees of
/// freedom (≥ 1): the two-sided 95 % critical value. Exact to the three
/// decimals of the usual tables for 1–30 (a table), then the
/// Cornish–Fisher expansion about the normal quantile 1.959964 (error
/// below 1e-4 past 30).
pub fn t_975(dof: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    assert!(dof >= 1, "t quantile needs at least one degree of freedom");
    if dof <= TABLE.len() {
        return TABLE[dof - 1];
    }
    let (z, v) = (1.959_963_984_540_054_f64, dof as f64);
    z + (z.powi(3) + z) / (4.0 * v)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / (384.0 * v.powi(3))
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
    let quality = (logs.len() >= 3).then(|| {
        let dof = logs.len() - 2;
        let se_n = (ss_res / dof as f64 / sxx).sqrt();
        let half = t_975(dof) * se_n;
        FitQuality {
            r2: if syy > 0.0 { 1.0 - ss_res / syy } else { 1.0 },
            n_ci95: (n - half, n + half),
        }
    });
    Some(GibsonAshby {
        c: ln_c.exp(),
        n,
        quality,
        points: logs.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

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
        let q = f.quality.unwrap();
        assert_relative_eq!(q.r2, 1.0, epsilon = 1e-12);
        assert!((q.n_ci95.1 - q.n_ci95.0).abs() < 1e-6, "{q:?}");
        assert!(fit_gibson_ashby(&pts[..1]).is_none());
    }

    #[test]
    fn two_points_have_no_fit_quality() {
        let f = fit_gibson_ashby(&[(0.2, 0.02), (0.3, 0.05)]).unwrap();
        assert!(f.quality.is_none(), "{f:?}");
        assert_eq!(f.quality_text(2), "no fit quality (2 points)");
        assert!(!f.quality_text(2).contains("R²"));
    }

    #[test]
    fn confidence_interval_of_n_matches_a_hand_computed_regression() {
        // ln ρ = x, ln y = 2x + e with residuals e = (+0.05, −0.1, +0.05):
        // x = ln(0.1, 0.2, 0.4) are evenly spaced by ln 2, so the fit line
        // passes through the mean and the residual pattern is orthogonal
        // to x: n = 2 exactly, SS_res = 0.015, S_xx = 2 (ln 2)², dof = 1.
        let e = [0.05, -0.1, 0.05];
        let pts: Vec<(f64, f64)> = [0.1f64, 0.2, 0.4]
            .iter()
            .zip(e)
            .map(|(&r, e)| (r, (2.0 * r.ln() + e).exp()))
            .collect();
        let f = fit_gibson_ashby(&pts).unwrap();
        assert_relative_eq!(f.n, 2.0, epsilon = 1e-12);
        let se = (0.015f64 / 1.0 / (2.0 * 2f64.ln().powi(2))).sqrt();
        let q = f.quality.unwrap();
        assert_relative_eq!(q.n_ci95.0, 2.0 - 12.706 * se, epsilon = 1e-9);
        assert_relative_eq!(q.n_ci95.1, 2.0 + 12.706 * se, epsilon = 1e-9);
        let text = f.quality_text(2);
        assert!(
            text.starts_with("R² ") && text.contains("n 95 % CI ["),
            "{text}"
        );
    }

    #[test]
    fn t_quantile_table_and_expansion_agree_with_reference_values() {
        assert_eq!(t_975(1), 12.706);
        assert_eq!(t_975(10), 2.228);
        assert_eq!(t_975(30), 2.042);
        // Reference: 40 → 2.0211, 60 → 2.0003, 120 → 1.9799, ∞ → 1.9600.
        for (dof, t) in [(40, 2.0211), (60, 2.0003), (120, 1.9799), (100_000, 1.9600)] {
            assert!((t_975(dof) - t).abs() < 2e-4, "dof {dof}: {}", t_975(dof));
        }
        // Decreasing with the degrees of freedom, across the table's end.
        assert!((1..200).all(|d| t_975(d) > t_975(d + 1)));
    }
}
