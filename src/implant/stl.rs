//! STL meshes: reading (binary and ASCII), checking that they are closed,
//! voxelizing them column by column, and writing them (binary STL; a
//! cylinder envelope for `voxfe export-stl`: [`export_cylinder`]).
//!
//! # Voxelization
//!
//! A voxel is inside the mesh when its centre is (centre sampling, as for
//! every solid in voxfe). Rather than testing every voxel against every
//! triangle, each triangle is rasterised once onto the (x, y) columns whose
//! centres it covers; the vertical ray through a column centre crosses it at
//! one z, with the sign of the triangle's normal z. Sorting the crossings of
//! a column and summing their signs gives the winding number along the
//! column, and the voxels whose centre has a non-zero winding number are
//! inside. Cost: O(triangles + columns·crossings + voxels).
//!
//! The test "does the column centre lie in the triangle's (x, y) projection"
//! is made **watertight**: each edge function is evaluated with the edge's
//! endpoints in a canonical order, so the two triangles that share an edge
//! compute exactly opposite values, and a centre lying exactly on a shared
//! edge (or vertex) is counted by exactly one of them (a top-left rule).
//! A box or a cylinder given as STL therefore voxelizes to the same grid as
//! the analytic shape, even where face diagonals pass through voxel centres.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::Envelope;

/// A triangle mesh in mm.
#[derive(Debug, Clone, PartialEq)]
pub struct Mesh {
    pub triangles: Vec<[[f64; 3]; 3]>,
    /// Triangles of zero area dropped while reading.
    pub degenerate: usize,
    /// What was accepted with a warning while reading (e.g. bytes after
    /// a binary file's last triangle), each naming the file.
    pub warnings: Vec<String>,
}

/// Why an STL file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StlError {
    #[error("specimen.path = '{path}': cannot read: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("specimen.path = '{path}': not an STL file: {why}")]
    NotStl { path: String, why: String },
    #[error(
        "specimen.path = '{path}': the mesh has no triangles (allowed: a closed triangle mesh)"
    )]
    Empty { path: String },
    #[error("specimen.path = '{path}': the mesh is not closed: {open_edges} edges are not shared by exactly two triangles (allowed: a closed, watertight mesh)")]
    Open { path: String, open_edges: usize },
}

impl Mesh {
    /// Reads a binary or ASCII STL file, drops degenerate triangles and
    /// checks that what is left is closed.
    pub fn read(path: &Path) -> Result<Mesh, StlError> {
        let name = crate::text::path(path);
        let bytes = std::fs::read(path).map_err(|error| StlError::Read {
            path: name.clone(),
            error,
        })?;
        let (raw, trailing) = parse(&bytes).map_err(|why| StlError::NotStl {
            path: name.clone(),
            why,
        })?;
        let mut mesh = Mesh::from_triangles(raw, &name)?;
        if trailing > 0 {
            mesh.warnings.push(format!(
                "specimen.path = '{name}': {trailing} bytes after the {} triangles the binary STL header counts were ignored",
                mesh.triangles.len() + mesh.degenerate
            ));
        }
        Ok(mesh)
    }

    /// Builds a mesh from raw triangles (dropping degenerate ones) and checks it.
    pub fn from_triangles(raw: Vec<[[f64; 3]; 3]>, name: &str) -> Result<Mesh, StlError> {
        let total = raw.len();
        let triangles: Vec<_> = raw.into_iter().filter(|t| area2(t) > 0.0).collect();
        let degenerate = total - triangles.len();
        if triangles.is_empty() {
            return Err(StlError::Empty {
                path: name.to_string(),
            });
        }
        let open_edges = open_edges(&triangles);
        if open_edges > 0 {
            return Err(StlError::Open {
                path: name.to_string(),
                open_edges,
            });
        }
        Ok(Mesh {
            triangles,
            degenerate,
            warnings: Vec::new(),
        })
    }

    /// Applies `p ↦ R·(s·p) + t` with R = Rz·Ry·Rx (angles in degrees).
    pub fn transform(&mut self, scale: f64, rotate_deg: [f64; 3], translate: [f64; 3]) {
        let [ax, ay, az] = rotate_deg.map(f64::to_radians);
        let rot = |p: [f64; 3]| {
            let (s, c) = ax.sin_cos();
            let p = [p[0], c * p[1] - s * p[2], s * p[1] + c * p[2]];
            let (s, c) = ay.sin_cos();
            let p = [c * p[0] + s * p[2], p[1], -s * p[0] + c * p[2]];
            let (s, c) = az.sin_cos();
            [c * p[0] - s * p[1], s * p[0] + c * p[1], p[2]]
        };
        for t in &mut self.triangles {
            for v in t.iter_mut() {
                let r = rot(v.map(|c| c * scale));
                *v = [
                    r[0] + translate[0],
                    r[1] + translate[1],
                    r[2] + translate[2],
                ];
            }
        }
    }

    /// Axis-aligned bounding box `(min, max)`.
    pub fn bounds(&self) -> ([f64; 3], [f64; 3]) {
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for v in self.triangles.iter().flatten() {
            for c in 0..3 {
                lo[c] = lo[c].min(v[c]);
                hi[c] = hi[c].max(v[c]);
            }
        }
        (lo, hi)
    }

    /// Inside mask of a `dims` grid of edge `h` (1 byte per voxel, voxel-id
    /// order), by winding numbers along z columns.
    pub fn voxelize(&self, dims: [usize; 3], h: f64) -> Vec<u8> {
        self.voxelize_columns(dims, h).0
    }

    /// The inside mask, and per (i, j) column the lowest and highest z at
    /// which the column's centre line crosses the mesh (NaN: no crossing).
    pub fn voxelize_columns(&self, dims: [usize; 3], h: f64) -> (Vec<u8>, Vec<f64>, Vec<f64>) {
        let [nx, ny, nz] = dims;
        // crossings[column] = (z, ±1)
        let mut crossings: Vec<Vec<(f64, i32)>> = vec![Vec::new(); nx * ny];
        for t in &self.triangles {
            let (a, b, c) = (t[0], t[1], t[2]);
            // Signed doubled area of the (x, y) projection: its sign is the normal's z sign.
            let det = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
            if det == 0.0 {
                continue; // vertical triangle: no column crosses it transversally
            }
            let sign = if det > 0.0 { 1 } else { -1 };
            let lo_x = a[0].min(b[0]).min(c[0]);
            let hi_x = a[0].max(b[0]).max(c[0]);
            let lo_y = a[1].min(b[1]).min(c[1]);
            let hi_y = a[1].max(b[1]).max(c[1]);
            let i0 = ((lo_x / h - 0.5).ceil().max(0.0)) as usize;
            let i1 = ((hi_x / h - 0.5).floor()).min(nx as f64 - 1.0);
            let j0 = ((lo_y / h - 0.5).ceil().max(0.0)) as usize;
            let j1 = ((hi_y / h - 0.5).floor()).min(ny as f64 - 1.0);
            if i1 < 0.0 || j1 < 0.0 {
                continue;
            }
            for j in j0..=j1 as usize {
                let y = (j as f64 + 0.5) * h;
                for i in i0..=i1 as usize {
                    let x = (i as f64 + 0.5) * h;
                    let p = [x, y];
                    let w = [
                        edge(b, c, p, sign),
                        edge(c, a, p, sign),
                        edge(a, b, p, sign),
                    ];
                    if w.iter().all(|&e| e) {
                        // Barycentric z of the crossing.
                        let l0 = orient(b, c, p) / det;
                        let l1 = orient(c, a, p) / det;
                        let l2 = 1.0 - l0 - l1;
                        let z = l0 * a[2] + l1 * b[2] + l2 * c[2];
                        crossings[i + nx * j].push((z, sign));
                    }
                }
            }
        }
        let mut mask = vec![0u8; nx * ny * nz];
        let mut bottom = vec![f64::NAN; nx * ny];
        let mut top = vec![f64::NAN; nx * ny];
        for (col, cr) in crossings.iter_mut().enumerate() {
            if cr.is_empty() {
                continue;
            }
            cr.sort_by(|x, y| x.0.total_cmp(&y.0));
            bottom[col] = cr[0].0;
            top[col] = cr[cr.len() - 1].0;
            let (i, j) = (col % nx, col / nx);
            let mut winding = 0;
            let mut next = 0;
            for k in 0..nz {
                let z = (k as f64 + 0.5) * h;
                while next < cr.len() && cr[next].0 <= z {
                    winding += cr[next].1;
                    next += 1;
                }
                if winding != 0 {
                    mask[i + nx * (j + ny * k)] = 1;
                }
            }
        }
        (mask, bottom, top)
    }
}

/// Twice the area of a triangle.
fn area2(t: &[[f64; 3]; 3]) -> f64 {
    let u = [t[1][0] - t[0][0], t[1][1] - t[0][1], t[1][2] - t[0][2]];
    let v = [t[2][0] - t[0][0], t[2][1] - t[0][1], t[2][2] - t[0][2]];
    let c = [
        u[1] * v[2] - u[2] * v[1],
        u[2] * v[0] - u[0] * v[2],
        u[0] * v[1] - u[1] * v[0],
    ];
    (c[0] * c[0] + c[1] * c[1] + c[2] * c[2]).sqrt()
}

/// (b − a) × (p − a) in the plane.
fn orient(a: [f64; 3], b: [f64; 3], p: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
}

/// Whether p is on the inner side of the directed edge a→b of a triangle
/// of orientation `sign`.
///
/// The edge function is evaluated with the endpoints in lexicographic order,
/// so the two triangles sharing an edge get bit-identical values of opposite
/// sense. A point exactly on an edge is treated as if moved to p + (ε, ε²),
/// ε → 0⁺ (simulation of simplicity): the perturbed point lies on no line
/// through two vertices, so it is inside exactly one triangle of any
/// watertight projection, shared edges and vertices included.
fn edge(a: [f64; 3], b: [f64; 3], p: [f64; 2], sign: i32) -> bool {
    let forward = (a[0], a[1]) < (b[0], b[1]);
    let (lo, hi) = if forward { (a, b) } else { (b, a) };
    let mut e = orient(lo, hi, p);
    if e == 0.0 {
        // d/dε of (hi − lo) × (p + (ε, ε²) − lo) is −dy; if dy = 0 the ε² term dx decides.
        let (dx, dy) = (hi[0] - lo[0], hi[1] - lo[1]);
        e = if dy != 0.0 { -dy } else { dx };
    }
    let e_dir = if forward { e } else { -e };
    (e_dir > 0.0) == (sign > 0)
}

/// Number of edges not shared by exactly two triangles (vertices matched
/// exactly, as STL writers repeat them bit for bit).
fn open_edges(triangles: &[[[f64; 3]; 3]]) -> usize {
    let key = |v: [f64; 3]| v.map(f64::to_bits);
    let mut count: HashMap<([u64; 3], [u64; 3]), i32> = HashMap::new();
    for t in triangles {
        for e in 0..3 {
            let (a, b) = (key(t[e]), key(t[(e + 1) % 3]));
            let k = if a < b { (a, b) } else { (b, a) };
            *count.entry(k).or_insert(0) += 1;
        }
    }
    count.values().filter(|&&n| n != 2).count()
}

/// A triangle's three vertices.
type Triangle = [[f64; 3]; 3];

/// Parses binary or ASCII STL: the triangles, and the bytes after a
/// binary file's last counted triangle (0 for ASCII).
fn parse(bytes: &[u8]) -> Result<(Vec<Triangle>, usize), String> {
    if bytes.len() >= 84 {
        let n = u32::from_le_bytes(bytes[80..84].try_into().unwrap()) as usize;
        let size = 84 + 50 * n;
        // Binary: the size its triangle count gives, or more (padding or
        // metadata some exporters append, ignored with a warning) unless
        // the file reads as ASCII STL text.
        let ascii = bytes.starts_with(b"solid") && std::str::from_utf8(bytes).is_ok();
        if bytes.len() == size || (bytes.len() > size && !ascii) {
            let triangles = (0..n)
                .map(|t| {
                    let at = 84 + 50 * t + 12;
                    let f = |k: usize| {
                        f32::from_le_bytes(bytes[at + 4 * k..at + 4 * k + 4].try_into().unwrap())
                            as f64
                    };
                    [[f(0), f(1), f(2)], [f(3), f(4), f(5)], [f(6), f(7), f(8)]]
                })
                .collect();
            return Ok((triangles, bytes.len() - size));
        }
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        "neither binary STL (shorter than the 84 + 50 × n bytes its header's triangle count n needs) nor ASCII text".to_string()
    })?;
    if !text.trim_start().starts_with("solid") {
        return Err("ASCII STL must start with 'solid'".into());
    }
    let mut tris = Vec::new();
    let mut verts = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut w = line.split_whitespace();
        match w.next() {
            Some("vertex") => {
                let v: Vec<f64> = w
                    .map(|s| s.parse::<f64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| format!("line {}: bad vertex", n + 1))?;
                if v.len() != 3 {
                    return Err(format!("line {}: a vertex needs 3 numbers", n + 1));
                }
                verts.push([v[0], v[1], v[2]]);
            }
            Some("endfacet") => {
                if verts.len() != 3 {
                    return Err(format!(
                        "line {}: a facet needs 3 vertices, found {}",
                        n + 1,
                        verts.len()
                    ));
                }
                tris.push([verts[0], verts[1], verts[2]]);
                verts.clear();
            }
            _ => {}
        }
    }
    Ok((tris, 0))
}

/// Writes a binary STL (used to make test and scene meshes).
pub fn write_binary(path: &Path, triangles: &[[[f64; 3]; 3]]) -> std::io::Result<()> {
    let mut out = vec![0u8; 80];
    out[..22].copy_from_slice(b"voxfe binary STL mesh ");
    out.extend_from_slice(&(triangles.len() as u32).to_le_bytes());
    for t in triangles {
        let u = [t[1][0] - t[0][0], t[1][1] - t[0][1], t[1][2] - t[0][2]];
        let v = [t[2][0] - t[0][0], t[2][1] - t[0][1], t[2][2] - t[0][2]];
        let n = [
            u[1] * v[2] - u[2] * v[1],
            u[2] * v[0] - u[0] * v[2],
            u[0] * v[1] - u[1] * v[0],
        ];
        let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt().max(1e-300);
        for c in n.iter().map(|c| c / len).chain(t.iter().flatten().copied()) {
            out.extend_from_slice(&(c as f32).to_le_bytes());
        }
        out.extend_from_slice(&[0, 0]);
    }
    std::fs::write(path, out)
}

/// A closed triangulated box `[lo, hi]` with outward normals.
pub fn box_mesh(lo: [f64; 3], hi: [f64; 3]) -> Vec<[[f64; 3]; 3]> {
    let p = |i: usize| {
        [
            if i & 1 == 0 { lo[0] } else { hi[0] },
            if i & 2 == 0 { lo[1] } else { hi[1] },
            if i & 4 == 0 { lo[2] } else { hi[2] },
        ]
    };
    // Each face as a quad of corner ids, counter-clockwise seen from outside.
    let faces = [
        [0, 2, 3, 1],
        [4, 5, 7, 6],
        [0, 1, 5, 4],
        [2, 6, 7, 3],
        [0, 4, 6, 2],
        [1, 3, 7, 5],
    ];
    faces
        .iter()
        .flat_map(|f| [[p(f[0]), p(f[1]), p(f[2])], [p(f[0]), p(f[2]), p(f[3])]])
        .collect()
}

/// A closed triangulated cylinder along z: base centre `c`, radius `r`,
/// height `height`, `segments` facets around.
pub fn cylinder_mesh(c: [f64; 3], r: f64, height: f64, segments: usize) -> Vec<[[f64; 3]; 3]> {
    wedged_cylinder_mesh(c, r, height, 0.0, segments)
}

/// A cylinder whose top face is tilted by `wedge_deg` about the x axis
/// through the top centre: z_top = c_z + height + (y − c_y)·tan θ.
pub fn wedged_cylinder_mesh(
    c: [f64; 3],
    r: f64,
    height: f64,
    wedge_deg: f64,
    segments: usize,
) -> Vec<[[f64; 3]; 3]> {
    let slope = wedge_deg.to_radians().tan();
    let ring = |k: usize, bottom: bool| {
        let a = std::f64::consts::TAU * (k % segments) as f64 / segments as f64;
        let (x, y) = (c[0] + r * a.cos(), c[1] + r * a.sin());
        let z = if bottom {
            c[2]
        } else {
            c[2] + height + (y - c[1]) * slope
        };
        [x, y, z]
    };
    let (z0, z1) = (true, false);
    let mut t = Vec::new();
    for k in 0..segments {
        let (a0, a1, b0, b1) = (ring(k, z0), ring(k + 1, z0), ring(k, z1), ring(k + 1, z1));
        t.push([a0, a1, b1]);
        t.push([a0, b1, b0]);
        t.push([[c[0], c[1], c[2]], a1, a0]);
        t.push([[c[0], c[1], c[2] + height], b0, b1]);
    }
    t
}

/// Why `voxfe export-stl` could not write an envelope.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Only cylinder envelopes are exported; `shape` is the scene's
    /// `specimen.shape` as written in the message.
    #[error("specimen.shape = {shape}: export-stl writes cylinder envelopes only")]
    NotCylinder { shape: String },
    #[error("segments={segments}: allowed: at least 3")]
    TooFewSegments { segments: usize },
    #[error("writing {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Writes a cylinder envelope as a binary STL mesh with `segments` facets
/// around the circumference (axis at (R, R), base at z = 0, top tilted by
/// the wedge, as [`Envelope::Cylinder`] is voxelized); returns the number
/// of triangles written.
pub fn export_cylinder(
    envelope: &Envelope,
    out: &Path,
    segments: usize,
) -> Result<usize, ExportError> {
    let &Envelope::Cylinder {
        diameter,
        height,
        wedge_deg,
    } = envelope
    else {
        return Err(ExportError::NotCylinder {
            shape: match envelope {
                Envelope::Box { .. } => "Box",
                Envelope::Mesh { .. } => "Stl",
                Envelope::Cylinder { .. } => unreachable!("matched above"),
            }
            .to_string(),
        });
    };
    if segments < 3 {
        return Err(ExportError::TooFewSegments { segments });
    }
    let r = diameter / 2.0;
    let mesh = wedged_cylinder_mesh([r, r, 0.0], r, height, wedge_deg, segments);
    write_binary(out, &mesh).map_err(|source| ExportError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(mesh.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary STL of `triangles` (normals zero).
    fn binary(triangles: &[[[f32; 3]; 3]]) -> Vec<u8> {
        let mut b = vec![0u8; 80];
        b.extend((triangles.len() as u32).to_le_bytes());
        for t in triangles {
            b.extend([0u8; 12]);
            for v in t.iter().flatten() {
                b.extend(v.to_le_bytes());
            }
            b.extend([0u8; 2]);
        }
        b
    }

    #[test]
    fn binary_stl_with_trailing_bytes_is_read_and_the_bytes_counted() {
        let t = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        let exact = binary(&[t, t]);
        assert_eq!(
            parse(&exact).unwrap(),
            (vec![t.map(|v| v.map(f64::from)); 2], 0)
        );
        let mut padded = exact.clone();
        padded.extend(b"\0\0\0exporter metadata");
        let (tris, trailing) = parse(&padded).unwrap();
        assert_eq!((tris.len(), trailing), (2, 20));
        // Short of its count: not binary (nor text).
        let err = parse(&exact[..exact.len() - 1]).unwrap_err();
        assert!(err.contains("shorter than"), "{err}");
        // ASCII text longer than its first bytes as a count would give
        // stays ASCII.
        let text = "solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\nendloop\nendfacet\nendsolid x\n";
        assert_eq!(parse(text.as_bytes()).unwrap().0.len(), 1);
    }
}
