//! VTK XML ImageData (`.vti`) output that ParaView opens.
//!
//! The grid is written as an image of `nx × ny × nz` cells with spacing `h`
//! and origin 0; per-voxel quantities are cell data, per-node quantities
//! (displacements) are point data. Arrays are stored as raw little-endian
//! appended binary data (`header_type="UInt64"`), so a 16.8 M voxel mask is
//! a 16.8 MB file rather than a text dump.
//!
//! Whole-file values (whether the solve converged) are `FieldData`: one
//! ASCII `Int32` tuple each.
//!
//! [`read_vti`] parses back what [`VtiWriter`] writes; the tests use it to
//! prove that a written file holds what was meant.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

/// Element type and data of one array.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayData {
    U8(Vec<u8>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl ArrayData {
    fn vtk_type(&self) -> &'static str {
        match self {
            ArrayData::U8(_) => "UInt8",
            ArrayData::F32(_) => "Float32",
            ArrayData::F64(_) => "Float64",
        }
    }

    fn len(&self) -> usize {
        match self {
            ArrayData::U8(v) => v.len(),
            ArrayData::F32(v) => v.len(),
            ArrayData::F64(v) => v.len(),
        }
    }

    fn bytes(&self) -> Vec<u8> {
        match self {
            ArrayData::U8(v) => v.clone(),
            ArrayData::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ArrayData::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }
}

/// One named array with its number of components (1 for scalars, 3 for vectors).
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub name: String,
    pub components: usize,
    pub data: ArrayData,
}

/// Builder of a `.vti` file.
#[derive(Debug, Clone)]
pub struct VtiWriter {
    dims: [usize; 3],
    spacing: f64,
    cell: Vec<Array>,
    point: Vec<Array>,
    field: Vec<(String, i32)>,
}

/// Why a `.vti` file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum VtkError {
    #[error("VTK array '{name}' has {len} values, expected {expected} ({what})")]
    Length {
        name: String,
        len: usize,
        expected: usize,
        what: &'static str,
    },
    #[error("cannot write VTK file '{path}': {error}")]
    Io { path: String, error: std::io::Error },
    #[error("not a voxfe VTK ImageData file: {0}")]
    Parse(String),
}

impl VtiWriter {
    /// A writer for a grid of `dims` cells of edge `spacing`.
    pub fn new(dims: [usize; 3], spacing: f64) -> VtiWriter {
        VtiWriter {
            dims,
            spacing,
            cell: Vec::new(),
            point: Vec::new(),
            field: Vec::new(),
        }
    }

    /// Adds a whole-file value (VTK field data, one `Int32` tuple), e.g.
    /// `converged` = 0 or 1.
    pub fn field_data(mut self, name: &str, value: i32) -> Self {
        self.field.push((name.into(), value));
        self
    }

    /// Adds a per-voxel array (`nx·ny·nz·components` values, voxel-id order).
    pub fn cell_array(
        mut self,
        name: &str,
        components: usize,
        data: ArrayData,
    ) -> Result<Self, VtkError> {
        let expected = self.dims.iter().product::<usize>() * components;
        check(name, data.len(), expected, "one per voxel and component")?;
        self.cell.push(Array {
            name: name.into(),
            components,
            data,
        });
        Ok(self)
    }

    /// Adds a per-node array (`(nx+1)(ny+1)(nz+1)·components` values, node-id order).
    pub fn point_array(
        mut self,
        name: &str,
        components: usize,
        data: ArrayData,
    ) -> Result<Self, VtkError> {
        let expected = self.dims.iter().map(|d| d + 1).product::<usize>() * components;
        check(
            name,
            data.len(),
            expected,
            "one per grid node and component",
        )?;
        self.point.push(Array {
            name: name.into(),
            components,
            data,
        });
        Ok(self)
    }

    /// Writes the file.
    pub fn write(&self, path: &Path) -> Result<(), VtkError> {
        let io = |error| VtkError::Io {
            path: path.display().to_string(),
            error,
        };
        let [nx, ny, nz] = self.dims;
        let h = self.spacing;
        let mut xml = String::new();
        let mut blobs = Vec::new();
        let mut offset = 0usize;
        let _ = writeln!(xml, "<?xml version=\"1.0\"?>");
        let _ = writeln!(
            xml,
            "<VTKFile type=\"ImageData\" version=\"1.0\" byte_order=\"LittleEndian\" header_type=\"UInt64\">"
        );
        let _ = writeln!(
            xml,
            "  <ImageData WholeExtent=\"0 {nx} 0 {ny} 0 {nz}\" Origin=\"0 0 0\" Spacing=\"{h} {h} {h}\">"
        );
        if !self.field.is_empty() {
            let _ = writeln!(xml, "    <FieldData>");
            for (name, value) in &self.field {
                let _ = writeln!(
                    xml,
                    "      <DataArray type=\"Int32\" Name=\"{name}\" NumberOfTuples=\"1\" format=\"ascii\">{value}</DataArray>"
                );
            }
            let _ = writeln!(xml, "    </FieldData>");
        }
        let _ = writeln!(xml, "    <Piece Extent=\"0 {nx} 0 {ny} 0 {nz}\">");
        for (tag, arrays) in [("PointData", &self.point), ("CellData", &self.cell)] {
            let _ = writeln!(xml, "      <{tag}>");
            for a in arrays {
                let _ = writeln!(
                    xml,
                    "        <DataArray type=\"{}\" Name=\"{}\" NumberOfComponents=\"{}\" format=\"appended\" offset=\"{offset}\"/>",
                    a.data.vtk_type(),
                    a.name,
                    a.components
                );
                let bytes = a.data.bytes();
                offset += 8 + bytes.len();
                blobs.push(bytes);
            }
            let _ = writeln!(xml, "      </{tag}>");
        }
        let _ = writeln!(xml, "    </Piece>");
        let _ = writeln!(xml, "  </ImageData>");
        let _ = write!(xml, "  <AppendedData encoding=\"raw\">\n   _");
        let file = std::fs::File::create(path).map_err(io)?;
        let mut w = std::io::BufWriter::new(file);
        w.write_all(xml.as_bytes()).map_err(io)?;
        for b in &blobs {
            w.write_all(&(b.len() as u64).to_le_bytes()).map_err(io)?;
            w.write_all(b).map_err(io)?;
        }
        w.write_all(b"\n  </AppendedData>\n</VTKFile>\n")
            .map_err(io)?;
        w.flush().map_err(io)
    }
}

fn check(name: &str, len: usize, expected: usize, what: &'static str) -> Result<(), VtkError> {
    if len == expected {
        Ok(())
    } else {
        Err(VtkError::Length {
            name: name.into(),
            len,
            expected,
            what,
        })
    }
}

/// What [`read_vti`] found in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct VtiContents {
    pub dims: [usize; 3],
    pub spacing: f64,
    pub cell: Vec<Array>,
    pub point: Vec<Array>,
    /// Field data: whole-file `Int32` values.
    pub field: Vec<(String, i32)>,
}

/// Parses a `.vti` file written by [`VtiWriter`] (raw appended data).
pub fn read_vti(path: &Path) -> Result<VtiContents, VtkError> {
    let bytes = std::fs::read(path).map_err(|error| VtkError::Io {
        path: path.display().to_string(),
        error,
    })?;
    let parse = |m: &str| VtkError::Parse(m.to_string());
    let marker = b"<AppendedData encoding=\"raw\">";
    let at = find(&bytes, marker).ok_or_else(|| parse("no raw AppendedData"))?;
    let underscore = at
        + bytes[at..]
            .iter()
            .position(|&b| b == b'_')
            .ok_or_else(|| parse("no '_'"))?;
    let header = std::str::from_utf8(&bytes[..at]).map_err(|_| parse("header is not UTF-8"))?;
    let data = &bytes[underscore + 1..];
    if !header.contains("type=\"ImageData\"") || !header.contains("header_type=\"UInt64\"") {
        return Err(parse("not an ImageData file with UInt64 headers"));
    }
    let attr = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = start + tag[start..].find('"')?;
        Some(tag[start..end].to_string())
    };
    let image = header
        .lines()
        .find(|l| l.trim_start().starts_with("<ImageData"))
        .ok_or_else(|| parse("no ImageData element"))?;
    let extent: Vec<usize> = attr(image, "WholeExtent")
        .ok_or_else(|| parse("no WholeExtent"))?
        .split_whitespace()
        .map(|s| s.parse().map_err(|_| parse("bad WholeExtent")))
        .collect::<Result<_, _>>()?;
    if extent.len() != 6 {
        return Err(parse("WholeExtent needs 6 numbers"));
    }
    let dims = [
        extent[1] - extent[0],
        extent[3] - extent[2],
        extent[5] - extent[4],
    ];
    let spacing: f64 = attr(image, "Spacing")
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .ok_or_else(|| parse("bad Spacing"))?;
    let mut out = VtiContents {
        dims,
        spacing,
        cell: Vec::new(),
        point: Vec::new(),
        field: Vec::new(),
    };
    let mut in_cell = false;
    let mut in_field = false;
    for line in header.lines() {
        let l = line.trim_start();
        if l.starts_with("<FieldData") {
            in_field = true;
        } else if l.starts_with("</FieldData") {
            in_field = false;
        } else if in_field && l.starts_with("<DataArray") {
            let name = attr(l, "Name").ok_or_else(|| parse("DataArray without Name"))?;
            let value = l
                .split_once('>')
                .and_then(|(_, rest)| rest.split('<').next())
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| parse(&format!("field data '{name}' is not one integer")))?;
            out.field.push((name, value));
        } else if l.starts_with("<CellData") {
            in_cell = true;
        } else if l.starts_with("<PointData") {
            in_cell = false;
        } else if l.starts_with("<DataArray") {
            let ty = attr(l, "type").ok_or_else(|| parse("DataArray without type"))?;
            let name = attr(l, "Name").ok_or_else(|| parse("DataArray without Name"))?;
            let components: usize = attr(l, "NumberOfComponents")
                .and_then(|s| s.parse().ok())
                .unwrap_or(1);
            let offset: usize = attr(l, "offset")
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| parse("DataArray without offset"))?;
            let len_bytes = data
                .get(offset..offset + 8)
                .ok_or_else(|| parse("offset past the end"))?;
            let n = u64::from_le_bytes(len_bytes.try_into().unwrap()) as usize;
            let raw = data
                .get(offset + 8..offset + 8 + n)
                .ok_or_else(|| parse("array past the end"))?;
            let array = match ty.as_str() {
                "UInt8" => ArrayData::U8(raw.to_vec()),
                "Float32" => ArrayData::F32(
                    raw.chunks_exact(4)
                        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                        .collect(),
                ),
                "Float64" => ArrayData::F64(
                    raw.chunks_exact(8)
                        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                        .collect(),
                ),
                other => return Err(parse(&format!("unsupported type {other}"))),
            };
            let a = Array {
                name,
                components,
                data: array,
            };
            if in_cell {
                out.cell.push(a);
            } else {
                out.point.push(a);
            }
        }
    }
    Ok(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Writes the solid mask of `grid` (cell array `solid`, 0 or 1) as VTK
/// ImageData: what `voxfe voxelize --vti` writes.
pub fn write_solid_mask(grid: &crate::grid::VoxelGrid, path: &Path) -> Result<(), VtkError> {
    VtiWriter::new(grid.dims, grid.h)
        .cell_array("solid", 1, ArrayData::U8(grid.solid.clone()))?
        .write(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.vti");
        let mask: Vec<u8> = (0..24).map(|i| (i % 3 == 0) as u8).collect();
        let disp: Vec<f32> = (0..(4 * 3 * 5 * 3)).map(|i| i as f32 * 0.5).collect();
        VtiWriter::new([3, 2, 4], 0.25)
            .field_data("converged", 0)
            .cell_array("solid", 1, ArrayData::U8(mask.clone()))
            .unwrap()
            .point_array("displacement", 3, ArrayData::F32(disp.clone()))
            .unwrap()
            .write(&path)
            .unwrap();
        let c = read_vti(&path).unwrap();
        assert_eq!(c.dims, [3, 2, 4]);
        assert_eq!(c.spacing, 0.25);
        assert_eq!(c.cell[0].data, ArrayData::U8(mask));
        assert_eq!(c.point[0].data, ArrayData::F32(disp));
        assert_eq!(c.point[0].components, 3);
        assert_eq!(c.field, [("converged".to_string(), 0)]);
    }

    #[test]
    fn wrong_length_is_an_error() {
        let e = VtiWriter::new([2, 2, 2], 1.0)
            .cell_array("solid", 1, ArrayData::U8(vec![0; 7]))
            .unwrap_err();
        assert!(e.to_string().contains("has 7 values, expected 8"));
    }
}
