//! Strut sets in quarter units, their binned distance field, and the
//! sampled solid fractions of one cell.

use super::{LatticeKind, SOLID_FRACTION_SAMPLES};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

/// A strut as two endpoints in quarter units (M/4).
pub(super) type QStrut = [[i32; 3]; 2];

/// Generates the struts of each kind (possibly repeating some modulo the
/// period; [`cell_struts_quarter`] removes those).
fn raw_struts(kind: LatticeKind) -> Vec<QStrut> {
    let mut out = Vec::new();
    let add = |out: &mut Vec<QStrut>, a: [i32; 3], d: [i32; 3]| {
        out.push([a, [a[0] + d[0], a[1] + d[1], a[2] + d[2]]])
    };
    let signs = |out: &mut Vec<[i32; 3]>| {
        for s in 0..8 {
            out.push([
                if s & 1 == 0 { -1 } else { 1 },
                if s & 2 == 0 { -1 } else { 1 },
                if s & 4 == 0 { -1 } else { 1 },
            ]);
        }
    };
    let mut s8 = Vec::new();
    signs(&mut s8);
    // FCC sites of the cell, quarter units.
    let fcc: [[i32; 3]; 4] = [[0, 0, 0], [0, 2, 2], [2, 0, 2], [2, 2, 0]];
    // The 12 nearest-neighbour vectors of the FCC lattice.
    let mut nn12 = Vec::new();
    for axis in 0..3 {
        for s in [[2, 2], [2, -2], [-2, 2], [-2, -2]] {
            let mut v = [0; 3];
            v[(axis + 1) % 3] = s[0];
            v[(axis + 2) % 3] = s[1];
            nn12.push(v);
        }
    }
    match kind {
        LatticeKind::RhombicDodecahedron => {
            for p in [1, 3].iter().flat_map(|&x| {
                [1, 3]
                    .iter()
                    .flat_map(move |&y| [1, 3].iter().map(move |&z| [x, y, z]))
            }) {
                for s in &s8 {
                    let q = [p[0] + s[0], p[1] + s[1], p[2] + s[2]];
                    if (q[0] + q[1] + q[2]).rem_euclid(4) == 2 {
                        add(&mut out, p, *s);
                    }
                }
            }
        }
        LatticeKind::Bcc => {
            for s in &s8 {
                add(&mut out, [2, 2, 2], [2 * s[0], 2 * s[1], 2 * s[2]]);
            }
        }
        LatticeKind::Octet | LatticeKind::Fcc => {
            for n in fcc {
                for v in &nn12 {
                    let q = [n[0] + v[0], n[1] + v[1], n[2] + v[2]];
                    // FCC keeps the face diagonals only: both ends on one cube-face plane.
                    let on_face = (0..3).any(|c| n[c] == q[c] && n[c].rem_euclid(4) == 0);
                    if kind == LatticeKind::Octet || on_face {
                        add(&mut out, n, *v);
                    }
                }
            }
        }
        LatticeKind::Diamond => {
            for f in fcc {
                let atom = [f[0] + 1, f[1] + 1, f[2] + 1];
                for s in [[-1, -1, -1], [-1, 1, 1], [1, -1, 1], [1, 1, -1]] {
                    add(&mut out, atom, s);
                }
            }
        }
        LatticeKind::Kelvin => {
            // Truncated octahedra around the BCC sites: vertices are the
            // permutations of (0, ±1, ±2); edges join vertices √2 apart.
            let mut verts: Vec<[i32; 3]> = Vec::new();
            for perm in [
                [0, 1, 2],
                [0, 2, 1],
                [1, 0, 2],
                [1, 2, 0],
                [2, 0, 1],
                [2, 1, 0],
            ] {
                for s1 in [-1, 1] {
                    for s2 in [-1, 1] {
                        let base = [0, s1, 2 * s2];
                        verts.push([base[perm[0]], base[perm[1]], base[perm[2]]]);
                    }
                }
            }
            for centre in [[0, 0, 0], [2, 2, 2]] {
                for (i, a) in verts.iter().enumerate() {
                    for b in &verts[i + 1..] {
                        let d2: i32 = (0..3).map(|c| (a[c] - b[c]).pow(2)).sum();
                        if d2 == 2 {
                            let pa = [a[0] + centre[0], a[1] + centre[1], a[2] + centre[2]];
                            add(&mut out, pa, [b[0] - a[0], b[1] - a[1], b[2] - a[2]]);
                        }
                    }
                }
            }
        }
        LatticeKind::Gyroid | LatticeKind::Solid => {}
    }
    out
}

/// Orders the endpoints and translates the strut by whole cells so that its
/// first endpoint lies in [0, 4)³.
fn canonical(s: QStrut) -> QStrut {
    let [a, b] = if s[0] <= s[1] { s } else { [s[1], s[0]] };
    let shift = a.map(|c| c.div_euclid(4) * 4);
    [
        [a[0] - shift[0], a[1] - shift[1], a[2] - shift[2]],
        [b[0] - shift[0], b[1] - shift[1], b[2] - shift[2]],
    ]
}

/// The struts of one cell, each once modulo the period, in quarter units.
pub(super) fn cell_struts_quarter(kind: LatticeKind) -> Vec<QStrut> {
    raw_struts(kind)
        .into_iter()
        .map(canonical)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The cell's struts and their copies in the 26 neighbouring cells, in
/// units of M (the unit cell is [0, 1]³).
pub(super) fn tiled_struts(kind: LatticeKind) -> Vec<[[f64; 3]; 2]> {
    let base = cell_struts_quarter(kind);
    let mut out = Vec::new();
    for dz in -1..=1 {
        for dy in -1..=1 {
            for dx in -1..=1 {
                for s in &base {
                    let t = [dx * 4, dy * 4, dz * 4];
                    out.push(s.map(|e| [0, 1, 2].map(|c| (e[c] + t[c]) as f64 / 4.0)));
                }
            }
        }
    }
    out
}

/// Bins per axis of the unit cell.
const BINS: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Segment {
    a: [f64; 3],
    d: [f64; 3],
    inv_dd: f64,
}

impl Segment {
    #[inline]
    fn dist2(&self, p: [f64; 3]) -> f64 {
        let w = [p[0] - self.a[0], p[1] - self.a[1], p[2] - self.a[2]];
        let t = ((w[0] * self.d[0] + w[1] * self.d[1] + w[2] * self.d[2]) * self.inv_dd)
            .clamp(0.0, 1.0);
        let e = [
            w[0] - t * self.d[0],
            w[1] - t * self.d[1],
            w[2] - t * self.d[2],
        ];
        e[0] * e[0] + e[1] * e[1] + e[2] * e[2]
    }
}

/// Segments binned over the unit cell: bin b lists every segment that comes
/// within `reach` of some point of the bin.
#[derive(Debug, Clone)]
pub(super) struct StrutField {
    segments: Vec<Segment>,
    /// Bin b's segments are `index[start[b]..start[b + 1]]`.
    start: Vec<u32>,
    index: Vec<u16>,
}

impl StrutField {
    /// Bins `struts` (unit-cell coordinates) for queries of radius up to `reach`.
    pub(super) fn new(struts: &[[[f64; 3]; 2]], reach: f64) -> StrutField {
        let segments: Vec<Segment> = struts
            .iter()
            .map(|s| {
                let d = [s[1][0] - s[0][0], s[1][1] - s[0][1], s[1][2] - s[0][2]];
                let dd = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                Segment {
                    a: s[0],
                    d,
                    inv_dd: 1.0 / dd,
                }
            })
            // Only segments that can reach the unit cell.
            .filter(|s| s.dist2([0.5; 3]).sqrt() <= reach + 0.5 * 3f64.sqrt() + 1e-12)
            .collect();
        let half_diag = 0.5 * 3f64.sqrt() / BINS as f64;
        let mut start = Vec::with_capacity(BINS.pow(3) + 1);
        let mut index = Vec::new();
        for b in 0..BINS.pow(3) {
            start.push(index.len() as u32);
            let c = [b % BINS, (b / BINS) % BINS, b / (BINS * BINS)]
                .map(|i| (i as f64 + 0.5) / BINS as f64);
            let mut near: Vec<(f64, u16)> = segments
                .iter()
                .enumerate()
                .map(|(i, s)| (s.dist2(c).sqrt(), i as u16))
                .filter(|(d, _)| *d <= reach + half_diag + 1e-12)
                .collect();
            // Nearest first: a hit, if any, comes early.
            near.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
            index.extend(near.into_iter().map(|(_, i)| i));
        }
        start.push(index.len() as u32);
        StrutField {
            segments,
            start,
            index,
        }
    }

    #[inline]
    fn bin(u: [f64; 3]) -> usize {
        let i = |x: f64| ((x * BINS as f64) as usize).min(BINS - 1);
        i(u[0]) + BINS * (i(u[1]) + BINS * i(u[2]))
    }

    /// Whether some segment lies within √r2 of `u` (u in [0, 1)³, r2 no
    /// larger than the reach² the field was built for).
    #[inline]
    pub(super) fn within(&self, u: [f64; 3], r2: f64) -> bool {
        let b = Self::bin(u);
        let ids = &self.index[self.start[b] as usize..self.start[b + 1] as usize];
        ids.iter()
            .any(|&i| self.segments[i as usize].dist2(u) <= r2)
    }

    /// Squared distance from `u` to the nearest segment, or `cap2` when none
    /// is nearer than the field's reach.
    pub(super) fn min_dist2(&self, u: [f64; 3], cap2: f64) -> f64 {
        let b = Self::bin(u);
        self.index[self.start[b] as usize..self.start[b + 1] as usize]
            .iter()
            .map(|&i| self.segments[i as usize].dist2(u))
            .fold(cap2, f64::min)
    }
}

/// The i-th point of the R₃ low-discrepancy sequence in [0, 1)³.
pub(crate) fn r3_point(i: usize) -> [f64; 3] {
    // g is the real root of x⁴ = x + 1 (the "plastic" generalisation of φ).
    const G: f64 = 1.220_744_084_605_759_5;
    let a = [1.0 / G, 1.0 / (G * G), 1.0 / (G * G * G)];
    let n = i as f64;
    a.map(|ai| (0.5 + ai * n).fract())
}

/// Sorted samples of a scalar field over one cell.
#[derive(Debug)]
pub(super) struct Samples {
    sorted: Vec<f64>,
}

impl Samples {
    fn new(f: impl Fn([f64; 3]) -> f64 + Sync) -> Samples {
        let mut sorted: Vec<f64> = (0..SOLID_FRACTION_SAMPLES)
            .into_par_iter()
            .map(|i| f(r3_point(i)))
            .collect();
        sorted.par_sort_unstable_by(f64::total_cmp);
        Samples { sorted }
    }

    /// Fraction of samples ≤ `v`.
    pub(super) fn fraction_within(&self, v: f64) -> f64 {
        self.sorted.partition_point(|&x| x <= v) as f64 / self.sorted.len() as f64
    }

    /// A value v with `fraction_within(v)` = `fraction` to 1/samples.
    pub(super) fn radius_for_fraction(&self, fraction: f64) -> f64 {
        let n = self.sorted.len();
        let k = ((fraction * n as f64).round() as usize).clamp(1, n - 1);
        0.5 * (self.sorted[k - 1] + self.sorted[k])
    }
}

/// Samples per lattice kind and distance cap (the cap's bits: samples
/// capped at different distances differ).
type Cache = Mutex<HashMap<(LatticeKind, u64), Arc<Samples>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Distance-to-nearest-strut samples of a strut lattice, capped at `cap`
/// (units of M), computed once per kind, cap and process.
pub(super) fn cached_distance_samples(kind: LatticeKind, cap: f64) -> Arc<Samples> {
    cached((kind, cap.to_bits()), || {
        let field = StrutField::new(&tiled_struts(kind), cap);
        let cap2 = cap * cap;
        Samples::new(|u| field.min_dist2(u, cap2).sqrt())
    })
}

fn cached(key: (LatticeKind, u64), make: impl FnOnce() -> Samples) -> Arc<Samples> {
    if let Some(s) = cache().lock().unwrap().get(&key) {
        return s.clone();
    }
    let s = Arc::new(make());
    cache().lock().unwrap().entry(key).or_insert(s).clone()
}

/// The gyroid level function at phases (X, Y, Z).
#[inline]
pub(super) fn gyroid(x: f64, y: f64, z: f64) -> f64 {
    let (sx, cx) = x.sin_cos();
    let (sy, cy) = y.sin_cos();
    let (sz, cz) = z.sin_cos();
    sx * cy + sy * cz + sz * cx
}

fn gyroid_samples() -> Arc<Samples> {
    cached((LatticeKind::Gyroid, 0), || {
        let tau = std::f64::consts::TAU;
        Samples::new(|u| gyroid(u[0] * tau, u[1] * tau, u[2] * tau))
    })
}

/// Solid fraction of the gyroid at level t.
pub(super) fn gyroid_solid_fraction(t: f64) -> f64 {
    gyroid_samples().fraction_within(t)
}

/// Gyroid level with the given solid fraction.
pub(super) fn gyroid_level_for_solid_fraction(fraction: f64) -> f64 {
    gyroid_samples().radius_for_fraction(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_cached_per_cap() {
        // Capped at 0.05 M every sample is ≤ 0.05, so all lie within 0.1;
        // capped at 0.3 M the BCC cell has points farther than 0.1 M from
        // every strut. One cache entry per kind would return the first.
        let small = cached_distance_samples(LatticeKind::Bcc, 0.05);
        let large = cached_distance_samples(LatticeKind::Bcc, 0.3);
        assert_eq!(small.fraction_within(0.1), 1.0);
        assert!(large.fraction_within(0.1) < 1.0);
    }
}
