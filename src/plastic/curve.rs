//! What a stress–strain curve reports: the offset yield strength σ_0.2,
//! the first maximum and the limit (the plateau of a levelled curve).
//!
//! - σ_0.2 (ISO 13314, compressive offset yield strength): where the curve,
//!   piecewise linear through (0, 0) and its points, first meets the line of
//!   slope E_eff through ε = 0.002, `σ = E_eff (ε − 0.002)`; found on the
//!   first segment where `σ − E_eff (ε − 0.002)` changes sign from positive
//!   to zero or below, by linear interpolation. `None` when the curve ends
//!   above the line (the offset strain was not reached).
//! - First maximum: the highest stress before the curve first falls more
//!   than [`MAXIMUM_DROP`] below its running maximum; `None` when it never
//!   does (a curve still rising, or a plateau, at the final strain).

/// The relative drop below the running maximum that marks a first maximum.
pub const MAXIMUM_DROP: f64 = 0.005;

/// The offset strain of σ_0.2.
pub const OFFSET: f64 = 0.002;

/// A point (strain, stress) where the curve meets the offset line.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Offset {
    pub strain: f64,
    pub stress: f64,
}

/// σ_0.2 of the curve `points` (strain, stress), increasing in strain,
/// for elastic slope `modulus`.
pub fn offset_yield(points: &[(f64, f64)], modulus: f64) -> Option<Offset> {
    let g = |(e, s): (f64, f64)| s - modulus * (e - OFFSET);
    let mut prev = (0.0, 0.0);
    for &p in points {
        let (g0, g1) = (g(prev), g(p));
        if g0 > 0.0 && g1 <= 0.0 {
            let x = g0 / (g0 - g1);
            return Some(Offset {
                strain: prev.0 + x * (p.0 - prev.0),
                stress: prev.1 + x * (p.1 - prev.1),
            });
        }
        prev = p;
    }
    None
}

/// The slope of the curve's last segment over the elastic slope below
/// which the curve has levelled off: its highest point is the limit load.
pub const PLATEAU_SLOPE: f64 = 0.01;

/// The limit (strain, stress) of `points` for elastic slope `modulus`: the
/// highest point of a curve whose last segment rises at less than
/// [`PLATEAU_SLOPE`] of `modulus` (a plateau, or a curve that fell after
/// its maximum); `None` for a curve still rising faster, or fewer than two
/// points. For three-point bending the stress is σ_f: at the limit load it
/// is the flexural strength of the plastic hinge.
pub fn limit(points: &[(f64, f64)], modulus: f64) -> Option<(f64, f64)> {
    let [.., a, b] = points else {
        return None;
    };
    let slope = (b.1 - a.1) / (b.0 - a.0);
    (slope < PLATEAU_SLOPE * modulus).then(|| {
        points.iter().copied().fold(
            (0.0, f64::NEG_INFINITY),
            |m, p| if p.1 > m.1 { p } else { m },
        )
    })
}

/// The first maximum (strain, stress) of `points`.
pub fn first_maximum(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let mut best: Option<(f64, f64)> = None;
    for &(e, s) in points {
        match best {
            Some((_, m)) if s < m * (1.0 - MAXIMUM_DROP) => return best,
            Some((_, m)) if s <= m => {}
            _ => best = Some((e, s)),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_the_highest_point_of_a_levelled_curve_only() {
        let e = 1000.0;
        // Perfectly plastic: σ_y = 1 from ε = 0.001.
        let flat: Vec<(f64, f64)> = (1..=8)
            .map(|i| i as f64 * 5e-4)
            .map(|x| (x, (e * x).min(1.0)))
            .collect();
        assert_eq!(limit(&flat, e), Some((1e-3, 1.0)));
        // Hardening at 2 % of E: still rising.
        let rising: Vec<(f64, f64)> = flat
            .iter()
            .map(|&(x, s)| (x, s + 0.02 * e * (x - 1e-3).max(0.0)))
            .collect();
        assert_eq!(limit(&rising, e), None);
        // Softening after a maximum: the maximum.
        let soft = [(1e-3, 1.0), (2e-3, 1.2), (3e-3, 1.1)];
        assert_eq!(limit(&soft, e), Some((2e-3, 1.2)));
        assert_eq!(limit(&soft[..1], e), None);
    }

    #[test]
    fn offset_yield_of_a_bilinear_curve_is_exact_on_its_hardening_branch() {
        // E = 1000, σ_y = 1 at ε = 0.001, then slope 100: the line
        // 1000(ε − 0.002) meets 1 + 100(ε − 0.001) at ε = 0.0029/0.9.
        let curve: Vec<(f64, f64)> = (1..=40)
            .map(|i| {
                let e = i as f64 * 2.5e-4;
                (
                    e,
                    if e <= 1e-3 {
                        1000.0 * e
                    } else {
                        1.0 + 100.0 * (e - 1e-3)
                    },
                )
            })
            .collect();
        let o = offset_yield(&curve, 1000.0).unwrap();
        let e = 0.0029 / 0.9;
        assert!((o.strain - e).abs() < 1e-12, "{o:?}");
        assert!((o.stress - (1.0 + 100.0 * (e - 1e-3))).abs() < 1e-12);
        // A curve that ends before the offset line is crossed has none.
        assert_eq!(offset_yield(&curve[..4], 1000.0), None);
    }

    #[test]
    fn first_maximum_needs_a_drop_and_a_plateau_has_none() {
        let rising = [(0.1, 1.0), (0.2, 2.0), (0.3, 2.0), (0.4, 2.0 - 1e-6)];
        assert_eq!(first_maximum(&rising), None);
        let peaked = [(0.1, 1.0), (0.2, 3.0), (0.3, 2.99), (0.4, 2.5), (0.5, 4.0)];
        assert_eq!(first_maximum(&peaked), Some((0.2, 3.0)));
    }
}
