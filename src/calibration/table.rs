//! The shipped references: [`super::reference::compute_reference`] of the
//! seven lattices over the porosities users design in, computed once by
//! `benches/references.sh`, smoothed by `benches/smooth_references.py` (a
//! weighted cubic in log–log through the computed points: their scatter,
//! Richardson here and the finest cell there, would otherwise be jitter in
//! porosity; a point's uncertainty is twice that scatter's rms) and
//! committed as `src/calibration/references.json`;
//! between two tabulated porosities the reference is interpolated linearly
//! in log E over log(1 − porosity) (Gibson–Ashby's power law is a line
//! there), with the interpolation error measured on held-out porosities and
//! stored beside each lattice's points.

use serde::{Deserialize, Serialize};

use super::reference::{Reference, ReferenceKey};

/// The table as committed.
const SHIPPED: &str = include_str!("references.json");

/// One tabulated reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub porosity: f64,
    /// E_ref / E_s.
    pub e_rel: f64,
    /// Relative uncertainty of `e_rel`.
    pub uncertainty: f64,
    /// "richardson" or "finest".
    pub from: String,
}

/// The points of one lattice (the file also keeps each computed value
/// beside the fit, and the fit's scatter; serde ignores them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatticePoints {
    pub lattice: String,
    /// The largest relative error of the interpolation measured on
    /// held-out porosities (against their own computed references).
    pub interpolation_error: f64,
    /// By porosity, increasing.
    pub points: Vec<Point>,
}

/// The shipped table: one element and ν.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub format: u32,
    pub element: String,
    pub nu: f64,
    /// How the table was made and its error measured.
    #[serde(default)]
    pub note: String,
    pub lattices: Vec<LatticePoints>,
}

/// A reference read from the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Interpolated {
    pub reference: Reference,
    /// The lattice's measured interpolation error (0 on a tabulated point).
    pub interpolation_error: f64,
}

impl Table {
    /// The committed table (empty when none is committed yet).
    pub fn shipped() -> Table {
        serde_json::from_str(SHIPPED).expect("src/calibration/references.json is a table")
    }

    /// The reference of `key` when the table covers it: the same element
    /// and ν, and a porosity inside the tabulated range.
    pub fn lookup(&self, key: &ReferenceKey) -> Option<Interpolated> {
        if key.element != self.element || (key.nu - self.nu).abs() > 1e-9 {
            return None;
        }
        let l = self.lattices.iter().find(|l| l.lattice == key.lattice)?;
        let phi = key.porosity;
        let pts = &l.points;
        let i = pts
            .windows(2)
            .position(|w| w[0].porosity <= phi && phi <= w[1].porosity)?;
        let (a, b) = (&pts[i], &pts[i + 1]);
        let exact = |p: &Point| (p.porosity - phi).abs() < 1e-9;
        if let Some(p) = [a, b].into_iter().find(|p| exact(p)) {
            return Some(Interpolated {
                reference: reference_of(p.e_rel, p.uncertainty, &p.from),
                interpolation_error: 0.0,
            });
        }
        let x = |phi: f64| (1.0 - phi).ln();
        let t = (x(phi) - x(a.porosity)) / (x(b.porosity) - x(a.porosity));
        let e = (a.e_rel.ln() + t * (b.e_rel.ln() - a.e_rel.ln())).exp();
        let from = if a.from == "richardson" && b.from == "richardson" {
            "richardson"
        } else {
            "finest"
        };
        Some(Interpolated {
            reference: reference_of(e, a.uncertainty.max(b.uncertainty), from),
            interpolation_error: l.interpolation_error,
        })
    }
}

fn reference_of(e_rel: f64, uncertainty: f64, from: &str) -> Reference {
    Reference {
        e_rel,
        uncertainty,
        from: from.to_string(),
        cells: Vec::new(),
        statement: "interpolated from the shipped references (src/calibration/references.json)"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let pt = |porosity: f64, e_rel: f64| Point {
            porosity,
            e_rel,
            uncertainty: 0.002,
            from: "richardson".into(),
        };
        Table {
            format: 1,
            element: "incompatible".into(),
            nu: 0.34,
            note: String::new(),
            lattices: vec![LatticePoints {
                lattice: "bcc".into(),
                interpolation_error: 0.004,
                // E/E_s = (1 − φ)²: a line in log–log.
                points: vec![pt(0.5, 0.25), pt(0.6, 0.16), pt(0.8, 0.04)],
            }],
        }
    }

    fn key(porosity: f64) -> ReferenceKey {
        ReferenceKey {
            lattice: "bcc".into(),
            porosity,
            element: "incompatible".into(),
            nu: 0.34,
        }
    }

    /// A power law is interpolated exactly; a tabulated point carries no
    /// interpolation error; outside the range, another element or ν, or
    /// another lattice, the table has nothing.
    #[test]
    fn interpolates_in_log_log_inside_its_range_only() {
        let t = table();
        let got = t.lookup(&key(0.7)).unwrap();
        assert!((got.reference.e_rel / 0.09 - 1.0).abs() < 1e-12);
        assert_eq!(got.interpolation_error, 0.004);
        assert_eq!(t.lookup(&key(0.6)).unwrap().interpolation_error, 0.0);
        assert!(t.lookup(&key(0.45)).is_none());
        assert!(t.lookup(&key(0.85)).is_none());
        let mut k = key(0.7);
        k.nu = 0.37;
        assert!(t.lookup(&k).is_none());
        k = key(0.7);
        k.element = "hex8".into();
        assert!(t.lookup(&k).is_none());
        k = key(0.7);
        k.lattice = "octet".into();
        assert!(t.lookup(&k).is_none());
    }

    /// The committed table parses and each lattice's points increase in
    /// porosity with a decreasing modulus.
    #[test]
    fn the_shipped_table_is_ordered() {
        let t = Table::shipped();
        for l in &t.lattices {
            for w in l.points.windows(2) {
                assert!(w[0].porosity < w[1].porosity, "{}", l.lattice);
                assert!(w[0].e_rel > w[1].e_rel, "{}", l.lattice);
            }
        }
    }
}
