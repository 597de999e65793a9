//! The solid voxels as a VTK XML UnstructuredGrid (`.vtu`) of hexahedra
//! (`VTK_HEXAHEDRON` = 12, nodes in [`super::HEX_ORDER`]), which meshio,
//! ParaView and FE pre-processors read (meshio cannot read ImageData).
//!
//! Points are the solver's active nodes (mm), cells the solid voxels in
//! voxel-id order. Arrays are inline base64 binary (`format="binary"`,
//! `header_type="UInt64"`: each array is base64 of its byte count as a
//! little-endian u64 followed by its little-endian values):
//!
//! - point data `displacement` (3 components, mm);
//! - cell data `stress` (6 components, MPa), `strain` (6 components,
//!   tensor: ε_xy = γ_xy/2), both in the order `xx yy zz xy yz zx` (what
//!   ParaView takes for a symmetric tensor; field data `tensor_order` says
//!   so), `von_mises` (MPa), and `solid_fraction` φₑ with fraction fill.
//!   Stress and strain are those at the voxel centre
//!   ([`super::tensors::voxel_tensors`]);
//! - field data: `converged` (1 or 0, as the `.vti`), and the provenance
//!   strings, each as a `UInt8` array of its UTF-8 bytes (meshio reads no
//!   VTK `String` array; `bytes(mesh.field_data["commit"]).decode()`).
//!
//! [`read_vtu`] parses back what this module writes, for the tests.

use std::fmt::Write as _;
use std::path::Path;

use super::tensors::voxel_tensors;
use super::{io_error, ExportError, HexMesh};
use crate::grid::VoxelGrid;
use crate::provenance::Provenance;
use crate::report::RunReport;
use crate::vtk::{attr, field_data_xml, parse_field_data, xml_escape, Array, ArrayData};

/// VTK's cell type of a linear hexahedron.
pub const VTK_HEXAHEDRON: u8 = 12;

/// What field data `tensor_order` says.
pub const TENSOR_ORDER: &str =
    "stress and strain: 6 components xx yy zz xy yz zx (strain as tensor components, e_xy = gamma_xy/2)";

/// Writes the run's mesh with its displacement, stress, strain, von Mises
/// stress (and φ with fraction fill), `converged` and `provenance`.
pub fn write_run(
    report: &RunReport,
    provenance: Option<&Provenance>,
    path: &Path,
) -> Result<(), ExportError> {
    let grid = &report.grid;
    let hex = HexMesh::new(grid)?;
    let t = voxel_tensors(grid, &hex.mesh, report.material, &report.solve.displacement);
    let flat = |v: &[[f64; 6]], shear: f64| -> Vec<f64> {
        v.iter()
            .flat_map(|s| [s[0], s[1], s[2], shear * s[3], shear * s[4], shear * s[5]])
            .collect()
    };
    let point = vec![array(
        "displacement",
        3,
        ArrayData::F64(report.solve.displacement.clone()),
    )];
    let mut cell = vec![
        array("stress", 6, ArrayData::F64(flat(&t.stress, 1.0))),
        array("strain", 6, ArrayData::F64(flat(&t.strain, 0.5))),
        array("von_mises", 1, ArrayData::F64(t.von_mises())),
    ];
    cell.extend(fraction(grid, &hex));
    let ints = vec![("converged".to_string(), report.solve.converged as i32)];
    let mut strings = vec![("tensor_order".to_string(), TENSOR_ORDER.to_string())];
    strings.extend(provenance_strings(provenance));
    write(path, &hex, &point, &cell, &ints, &strings)
}

/// Writes an elastoplastic run's mesh (`voxfe plastic --vtu`): point data
/// `displacement` at the last converged step (3 per active node, mm, in
/// the order of [`crate::fem::mesh::ActiveMesh::new`]), cell data
/// `equivalent_plastic_strain` (ᾱ averaged over each voxel's 8 points;
/// `voxel_alpha` holds one per grid voxel) and `solid_fraction` with
/// fraction fill; field data `converged` and the provenance.
pub fn write_plastic(
    grid: &VoxelGrid,
    displacement: &[f64],
    voxel_alpha: &[f64],
    converged: bool,
    provenance: Option<&Provenance>,
    path: &Path,
) -> Result<(), ExportError> {
    let hex = HexMesh::new(grid)?;
    if displacement.len() != 3 * hex.mesh.len() || voxel_alpha.len() != grid.voxel_count() {
        return Err(ExportError::Mismatch(format!(
            "{} displacement values for {} active nodes and {} plastic strains for {} voxels",
            displacement.len(),
            hex.mesh.len(),
            voxel_alpha.len(),
            grid.voxel_count()
        )));
    }
    let point = vec![array(
        "displacement",
        3,
        ArrayData::F64(displacement.to_vec()),
    )];
    let alpha = hex.voxels.iter().map(|&v| voxel_alpha[v]).collect();
    let mut cell = vec![array("equivalent_plastic_strain", 1, ArrayData::F64(alpha))];
    cell.extend(fraction(grid, &hex));
    let ints = vec![("converged".to_string(), converged as i32)];
    write(
        path,
        &hex,
        &point,
        &cell,
        &ints,
        &provenance_strings(provenance),
    )
}

/// Writes the mesh of `grid`'s solid voxels alone (`voxfe voxelize
/// --vtu`): φ with fraction fill, and the provenance.
pub fn write_mesh(
    grid: &VoxelGrid,
    provenance: Option<&Provenance>,
    path: &Path,
) -> Result<(), ExportError> {
    let hex = HexMesh::new(grid)?;
    let cell: Vec<Array> = fraction(grid, &hex).into_iter().collect();
    write(path, &hex, &[], &cell, &[], &provenance_strings(provenance))
}

fn array(name: &str, components: usize, data: ArrayData) -> Array {
    Array {
        name: name.into(),
        components,
        data,
    }
}

fn provenance_strings(p: Option<&Provenance>) -> Vec<(String, String)> {
    p.map(|p| {
        p.pairs()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    })
    .unwrap_or_default()
}

/// `solid_fraction` per cell, with fraction fill.
fn fraction(grid: &VoxelGrid, hex: &HexMesh) -> Option<Array> {
    grid.fraction.as_ref()?;
    let phi = hex.voxels.iter().map(|&v| grid.phi(v)).collect();
    Some(array("solid_fraction", 1, ArrayData::F64(phi)))
}

/// One inline base64 `DataArray` element.
fn data_array(xml: &mut String, indent: &str, a: &Array) {
    let bytes = a.data.bytes();
    let mut blob = (bytes.len() as u64).to_le_bytes().to_vec();
    blob.extend_from_slice(&bytes);
    let _ = writeln!(
        xml,
        "{indent}<DataArray type=\"{}\" Name=\"{}\" NumberOfComponents=\"{}\" format=\"binary\">{}</DataArray>",
        a.data.vtk_type(),
        xml_escape(&a.name),
        a.components,
        base64(&blob)
    );
}

fn write(
    path: &Path,
    hex: &HexMesh,
    point: &[Array],
    cell: &[Array],
    ints: &[(String, i32)],
    strings: &[(String, String)],
) -> Result<(), ExportError> {
    let (np, nc) = (hex.mesh.len(), hex.cells.len());
    let mut xml = String::from("<?xml version=\"1.0\"?>\n");
    xml.push_str("<VTKFile type=\"UnstructuredGrid\" version=\"1.0\" byte_order=\"LittleEndian\" header_type=\"UInt64\">\n");
    xml.push_str("  <UnstructuredGrid>\n");
    xml.push_str(&field_data_xml(ints, strings, true));
    let _ = writeln!(
        xml,
        "    <Piece NumberOfPoints=\"{np}\" NumberOfCells=\"{nc}\">"
    );
    xml.push_str("      <PointData>\n");
    for a in point {
        data_array(&mut xml, "        ", a);
    }
    xml.push_str("      </PointData>\n      <CellData>\n");
    for a in cell {
        data_array(&mut xml, "        ", a);
    }
    xml.push_str("      </CellData>\n      <Points>\n");
    let coords = (0..np).flat_map(|n| hex.position(n)).collect();
    data_array(
        &mut xml,
        "        ",
        &array("Points", 3, ArrayData::F64(coords)),
    );
    xml.push_str("      </Points>\n      <Cells>\n");
    let connectivity = hex.cells.iter().flatten().map(|&n| n as i64).collect();
    let offsets = (1..=nc as i64).map(|e| 8 * e).collect();
    for a in [
        array("connectivity", 1, ArrayData::I64(connectivity)),
        array("offsets", 1, ArrayData::I64(offsets)),
        array("types", 1, ArrayData::U8(vec![VTK_HEXAHEDRON; nc])),
    ] {
        data_array(&mut xml, "        ", &a);
    }
    xml.push_str("      </Cells>\n    </Piece>\n  </UnstructuredGrid>\n</VTKFile>\n");
    std::fs::write(path, xml).map_err(io_error(path))
}

/// What [`read_vtu`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct VtuContents {
    pub points: Vec<[f64; 3]>,
    /// Node indices of each cell (8 for a hexahedron).
    pub cells: Vec<Vec<usize>>,
    pub types: Vec<u8>,
    pub point: Vec<Array>,
    pub cell: Vec<Array>,
    pub field: Vec<(String, i32)>,
    pub strings: Vec<(String, String)>,
}

impl VtuContents {
    /// The cell array `name`.
    pub fn cell_array(&self, name: &str) -> Option<&Array> {
        self.cell.iter().find(|a| a.name == name)
    }

    /// The point array `name`.
    pub fn point_array(&self, name: &str) -> Option<&Array> {
        self.point.iter().find(|a| a.name == name)
    }

    /// The field-data string `name`.
    pub fn string(&self, name: &str) -> Option<&str> {
        self.strings
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a `.vtu` written by this module (inline base64, UInt64 headers).
pub fn read_vtu(path: &Path) -> Result<VtuContents, ExportError> {
    let bad = |why: String| ExportError::Parse { what: "VTU", why };
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    if !text.contains("type=\"UnstructuredGrid\"") || !text.contains("header_type=\"UInt64\"") {
        return Err(bad("not an UnstructuredGrid with UInt64 headers".into()));
    }
    let (field, strings) = parse_field_data(&text).map_err(|e| bad(e.to_string()))?;
    let mut section = "";
    let (mut point, mut cell, mut geometry) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines() {
        let l = line.trim_start();
        for tag in ["FieldData", "PointData", "CellData", "Points", "Cells"] {
            if l.starts_with(&format!("<{tag}")) {
                section = tag;
            }
        }
        if !l.starts_with("<DataArray") || section == "FieldData" {
            continue;
        }
        let ty = attr(l, "type").ok_or_else(|| bad("DataArray without type".into()))?;
        let name = attr(l, "Name").ok_or_else(|| bad("DataArray without Name".into()))?;
        let components = attr(l, "NumberOfComponents")
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        let b64 = l
            .split_once('>')
            .and_then(|(_, rest)| rest.split('<').next())
            .unwrap_or_default();
        let blob = unbase64(b64.trim()).ok_or_else(|| bad(format!("'{name}': bad base64")))?;
        let n = blob
            .get(..8)
            .map(|h| u64::from_le_bytes(h.try_into().unwrap()) as usize)
            .ok_or_else(|| bad(format!("'{name}': no header")))?;
        let raw = blob
            .get(8..8 + n)
            .ok_or_else(|| bad(format!("'{name}': shorter than its header says")))?;
        let data = ArrayData::from_bytes(&ty, raw).map_err(|e| bad(e.to_string()))?;
        let a = array(&name, components, data);
        match section {
            "PointData" => point.push(a),
            "CellData" => cell.push(a),
            _ => geometry.push(a),
        }
    }
    let get = |name: &str| {
        geometry
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| bad(format!("no {name} array")))
    };
    let coords = get("Points")?.data.to_f64();
    let points = coords.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
    let connectivity = get("connectivity")?.data.to_f64();
    let offsets = get("offsets")?.data.to_f64();
    let mut cells = Vec::new();
    let mut start = 0usize;
    for &end in &offsets {
        let end = end as usize;
        let nodes = connectivity
            .get(start..end)
            .ok_or_else(|| bad("offsets past the connectivity".into()))?;
        cells.push(nodes.iter().map(|&n| n as usize).collect());
        start = end;
    }
    let types = match &get("types")?.data {
        ArrayData::U8(t) => t.clone(),
        _ => return Err(bad("types is not UInt8".into())),
    };
    Ok(VtuContents {
        points,
        cells,
        types,
        point,
        cell,
        field,
        strings,
    })
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648, with `=` padding).
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if k <= chunk.len() {
                out.push(B64[(n >> shift & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64; `None` for a character outside the alphabet
/// or a length that is not a multiple of 4.
pub fn unbase64(text: &str) -> Option<Vec<u8>> {
    let t = text.as_bytes();
    if t.len() % 4 != 0 {
        return None;
    }
    let value = |c: u8| B64.iter().position(|&x| x == c).map(|p| p as u32);
    let mut out = Vec::with_capacity(t.len() / 4 * 3);
    for q in t.chunks(4) {
        let pad = q.iter().rev().take_while(|&&c| c == b'=').count();
        let mut n = 0u32;
        for &c in &q[..4 - pad] {
            n = n << 6 | value(c)?;
        }
        n <<= 6 * pad as u32;
        out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
            assert_eq!(unbase64(coded).unwrap(), plain.as_bytes());
        }
        assert!(unbase64("Zm9").is_none());
        assert!(unbase64("Zm9*").is_none());
    }
}
