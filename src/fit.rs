//! The Gibson–Ashby relation `E/E_s = C·ρ^n` (ρ relative density), fitted
//! by least squares on `ln(E/E_s) = ln C + n ln ρ`; R² is that of the
//! log–log fit.

use serde::Serialize;

/// A fitted Gibson–Ashby relation `E/E_s = C·ρ^n`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GibsonAshby {
    pub c: f64,
    pub n: f64,
    /// Coefficient of determination of the log–log fit.
    pub r2: f64,
    pub points: usize,
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
    let r2 = if syy > 0.0 { 1.0 - ss_res / syy } else { 1.0 };
    Some(GibsonAshby {
        c: ln_c.exp(),
        n,
        r2,
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
        assert_relative_eq!(f.r2, 1.0, epsilon = 1e-12);
        assert!(fit_gibson_ashby(&pts[..1]).is_none());
    }
}
