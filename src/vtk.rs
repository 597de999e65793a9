//! VTK XML ImageData (`.vti`) output that ParaView opens.
//!
//! The grid is written as an image of `nx × ny × nz` cells with spacing `h`
//! and origin 0; per-voxel quantities are cell data, per-node quantities
//! (displacements) are point data. Arrays are stored as raw little-endian
//! appended binary data (`header_type="UInt64"`), so a 16.8 M voxel mask is
//! a 16.8 MB file rather than a text dump.
//!
//! Whole-file values are `FieldData`: integers (whether the solve
//! converged) as one ASCII `Int32` tuple each, strings (the provenance,
//! [`crate::provenance::Provenance::pairs`]) as one ASCII `String` tuple
//! each (VTK's ASCII form: the string's byte values, then 0).
//!
//! [`read_vti`] parses back what [`VtiWriter`] writes; the tests use it to
//! prove that a written file holds what was meant. The appended-data and
//! field-data pieces ([`Appended`], [`field_data_xml`], [`read_appended`])
//! are shared with the unstructured-grid writer of `crate::export::vtu`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

/// Element type and data of one array.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayData {
    U8(Vec<u8>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    I64(Vec<i64>),
}

impl ArrayData {
    /// The VTK type name of the values (`UInt8`, `Float32` …).
    pub fn vtk_type(&self) -> &'static str {
        match self {
            ArrayData::U8(_) => "UInt8",
            ArrayData::F32(_) => "Float32",
            ArrayData::F64(_) => "Float64",
            ArrayData::I64(_) => "Int64",
        }
    }

    /// Values of VTK type `ty` from their little-endian bytes.
    pub fn from_bytes(ty: &str, raw: &[u8]) -> Result<ArrayData, VtkError> {
        Ok(match ty {
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
            "Int64" => ArrayData::I64(
                raw.chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            other => return Err(VtkError::Parse(format!("unsupported type {other}"))),
        })
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            ArrayData::U8(v) => v.len(),
            ArrayData::F32(v) => v.len(),
            ArrayData::F64(v) => v.len(),
            ArrayData::I64(v) => v.len(),
        }
    }

    /// Whether there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as f64 (every type converts exactly but i64 beyond 2⁵³).
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            ArrayData::U8(v) => v.iter().map(|&x| x as f64).collect(),
            ArrayData::F32(v) => v.iter().map(|&x| x as f64).collect(),
            ArrayData::F64(v) => v.clone(),
            ArrayData::I64(v) => v.iter().map(|&x| x as f64).collect(),
        }
    }

    /// The values as little-endian bytes.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            ArrayData::U8(v) => v.clone(),
            ArrayData::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ArrayData::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ArrayData::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
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
    strings: Vec<(String, String)>,
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
            strings: Vec::new(),
        }
    }

    /// Adds a whole-file value (VTK field data, one `Int32` tuple), e.g.
    /// `converged` = 0 or 1.
    pub fn field_data(mut self, name: &str, value: i32) -> Self {
        self.field.push((name.into(), value));
        self
    }

    /// Adds a whole-file string (VTK field data, one `String` tuple).
    pub fn field_string(mut self, name: &str, value: &str) -> Self {
        self.strings.push((name.into(), value.into()));
        self
    }

    /// Adds every field of `p` as a field-data string
    /// ([`crate::provenance::Provenance::pairs`]).
    pub fn provenance(mut self, p: &crate::provenance::Provenance) -> Self {
        for (name, value) in p.pairs() {
            self = self.field_string(name, &value);
        }
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
        let [nx, ny, nz] = self.dims;
        let h = self.spacing;
        let mut a = Appended::new("ImageData");
        let _ = writeln!(
            a.xml,
            "  <ImageData WholeExtent=\"0 {nx} 0 {ny} 0 {nz}\" Origin=\"0 0 0\" Spacing=\"{h} {h} {h}\">"
        );
        a.xml
            .push_str(&field_data_xml(&self.field, &self.strings, false));
        let _ = writeln!(a.xml, "    <Piece Extent=\"0 {nx} 0 {ny} 0 {nz}\">");
        for (tag, arrays) in [("PointData", &self.point), ("CellData", &self.cell)] {
            let _ = writeln!(a.xml, "      <{tag}>");
            for array in arrays {
                a.array("        ", array);
            }
            let _ = writeln!(a.xml, "      </{tag}>");
        }
        let _ = writeln!(a.xml, "    </Piece>");
        let _ = writeln!(a.xml, "  </ImageData>");
        a.write(path)
    }
}

/// A VTK XML file with raw appended data (`header_type="UInt64"`) being
/// built: its XML so far, and the appended blobs the `DataArray`s point at.
#[derive(Debug)]
pub struct Appended {
    pub xml: String,
    blobs: Vec<Vec<u8>>,
    offset: usize,
}

impl Appended {
    /// The XML declaration and the `VTKFile` element of data set `kind`.
    pub fn new(kind: &str) -> Appended {
        let mut xml = String::from("<?xml version=\"1.0\"?>\n");
        let _ = writeln!(
            xml,
            "<VTKFile type=\"{kind}\" version=\"1.0\" byte_order=\"LittleEndian\" header_type=\"UInt64\">"
        );
        Appended {
            xml,
            blobs: Vec::new(),
            offset: 0,
        }
    }

    /// A `DataArray` element (indented by `indent`) whose values go to the
    /// appended data.
    pub fn array(&mut self, indent: &str, a: &Array) {
        let _ = writeln!(
            self.xml,
            "{indent}<DataArray type=\"{}\" Name=\"{}\" NumberOfComponents=\"{}\" format=\"appended\" offset=\"{}\"/>",
            a.data.vtk_type(),
            xml_escape(&a.name),
            a.components,
            self.offset
        );
        let bytes = a.data.bytes();
        self.offset += 8 + bytes.len();
        self.blobs.push(bytes);
    }

    /// Closes the XML (the caller has closed its data set element) and
    /// writes it with the appended data to `path`.
    pub fn write(mut self, path: &Path) -> Result<(), VtkError> {
        let io = |error| VtkError::Io {
            path: path.display().to_string(),
            error,
        };
        let _ = write!(self.xml, "  <AppendedData encoding=\"raw\">\n   _");
        let file = std::fs::File::create(path).map_err(io)?;
        let mut w = std::io::BufWriter::new(file);
        w.write_all(self.xml.as_bytes()).map_err(io)?;
        for b in &self.blobs {
            w.write_all(&(b.len() as u64).to_le_bytes()).map_err(io)?;
            w.write_all(b).map_err(io)?;
        }
        w.write_all(b"\n  </AppendedData>\n</VTKFile>\n")
            .map_err(io)?;
        w.flush().map_err(io)
    }
}

/// The `FieldData` element of whole-file integers and strings (empty when
/// there are none). Strings are VTK `String` arrays (ParaView), or with
/// `strings_as_bytes` `UInt8` arrays of their UTF-8 bytes, one tuple per
/// byte (what meshio, which has no `String` type, reads).
pub fn field_data_xml(
    ints: &[(String, i32)],
    strings: &[(String, String)],
    strings_as_bytes: bool,
) -> String {
    if ints.is_empty() && strings.is_empty() {
        return String::new();
    }
    let mut xml = String::from("    <FieldData>\n");
    for (name, value) in ints {
        let _ = writeln!(
            xml,
            "      <DataArray type=\"Int32\" Name=\"{}\" NumberOfTuples=\"1\" format=\"ascii\">{value}</DataArray>",
            xml_escape(name)
        );
    }
    for (name, value) in strings {
        let (ty, tuples, end) = if strings_as_bytes {
            ("UInt8", value.len(), None)
        } else {
            ("String", 1, Some(0))
        };
        let codes: Vec<String> = value.bytes().chain(end).map(|b| b.to_string()).collect();
        let _ = writeln!(
            xml,
            "      <DataArray type=\"{ty}\" Name=\"{}\" NumberOfTuples=\"{tuples}\" format=\"ascii\">{}</DataArray>",
            xml_escape(name),
            // A space, not nothing, for an empty string: meshio reads an
            // element without text as None.
            if codes.is_empty() { " ".to_string() } else { codes.join(" ") }
        );
    }
    xml.push_str("    </FieldData>\n");
    xml
}

/// `s` with the characters XML reserves in attributes escaped.
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
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
    /// Field data: whole-file strings.
    pub strings: Vec<(String, String)>,
}

/// A VTK XML file with raw appended data, read: its XML up to the
/// appended data, and the bytes after the `_` marker.
#[derive(Debug)]
pub struct AppendedFile {
    pub header: String,
    pub data: Vec<u8>,
}

/// The value of attribute `name` in the XML tag `tag`.
pub fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = start + tag[start..].find('"')?;
    Some(
        tag[start..end]
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// Reads a file of `kind` (`ImageData`, `UnstructuredGrid`) written with
/// raw appended data and UInt64 headers ([`Appended`]).
pub fn read_appended(path: &Path, kind: &str) -> Result<AppendedFile, VtkError> {
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
    if !header.contains(&format!("type=\"{kind}\"")) || !header.contains("header_type=\"UInt64\"") {
        return Err(parse(&format!("not a {kind} file with UInt64 headers")));
    }
    Ok(AppendedFile {
        header: header.to_string(),
        data: bytes[underscore + 1..].to_vec(),
    })
}

impl AppendedFile {
    /// The appended `DataArray` of the XML tag `tag`.
    pub fn array(&self, tag: &str) -> Result<Array, VtkError> {
        let parse = |m: &str| VtkError::Parse(m.to_string());
        let ty = attr(tag, "type").ok_or_else(|| parse("DataArray without type"))?;
        let name = attr(tag, "Name").ok_or_else(|| parse("DataArray without Name"))?;
        let components: usize = attr(tag, "NumberOfComponents")
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        let offset: usize = attr(tag, "offset")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| parse("DataArray without offset"))?;
        let len_bytes = self
            .data
            .get(offset..offset + 8)
            .ok_or_else(|| parse("offset past the end"))?;
        let n = u64::from_le_bytes(len_bytes.try_into().unwrap()) as usize;
        let raw = self
            .data
            .get(offset + 8..offset + 8 + n)
            .ok_or_else(|| parse("array past the end"))?;
        let data = ArrayData::from_bytes(&ty, raw)?;
        Ok(Array {
            name,
            components,
            data,
        })
    }
}

/// Field data as read: integers, then strings, each with its name.
pub type FieldValues = (Vec<(String, i32)>, Vec<(String, String)>);

/// Whole-file integers and strings (`String` or `UInt8` arrays): the
/// `FieldData` of a VTK XML header.
pub fn parse_field_data(header: &str) -> Result<FieldValues, VtkError> {
    let parse = |m: String| VtkError::Parse(m);
    let (mut ints, mut strings) = (Vec::new(), Vec::new());
    let mut inside = false;
    for line in header.lines() {
        let l = line.trim_start();
        if l.starts_with("<FieldData") {
            inside = true;
        } else if l.starts_with("</FieldData") {
            inside = false;
        } else if inside && l.starts_with("<DataArray") {
            let name = attr(l, "Name").ok_or_else(|| parse("DataArray without Name".into()))?;
            let text = l
                .split_once('>')
                .and_then(|(_, rest)| rest.split('<').next())
                .unwrap_or_default();
            let ty = attr(l, "type");
            if matches!(ty.as_deref(), Some("String" | "UInt8")) {
                let codes: Vec<u8> = text
                    .split_whitespace()
                    .map(|c| c.parse::<u8>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| parse(format!("field data '{name}' is not byte codes")))?;
                let end = codes.iter().position(|&b| b == 0).unwrap_or(codes.len());
                let value = String::from_utf8(codes[..end].to_vec())
                    .map_err(|_| parse(format!("field data '{name}' is not UTF-8")))?;
                strings.push((name, value));
            } else {
                let value = text
                    .trim()
                    .parse()
                    .map_err(|_| parse(format!("field data '{name}' is not one integer")))?;
                ints.push((name, value));
            }
        }
    }
    Ok((ints, strings))
}

/// Parses a `.vti` file written by [`VtiWriter`] (raw appended data).
pub fn read_vti(path: &Path) -> Result<VtiContents, VtkError> {
    let file = read_appended(path, "ImageData")?;
    let parse = |m: &str| VtkError::Parse(m.to_string());
    let image = file
        .header
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
    let (field, strings) = parse_field_data(&file.header)?;
    let mut out = VtiContents {
        dims,
        spacing,
        cell: Vec::new(),
        point: Vec::new(),
        field,
        strings,
    };
    let mut in_cell = false;
    let mut in_field = false;
    for line in file.header.lines() {
        let l = line.trim_start();
        if l.starts_with("<FieldData") {
            in_field = true;
        } else if l.starts_with("</FieldData") {
            in_field = false;
        } else if l.starts_with("<CellData") {
            in_cell = true;
        } else if l.starts_with("<PointData") {
            in_cell = false;
        } else if !in_field && l.starts_with("<DataArray") {
            let a = file.array(l)?;
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
/// ImageData, with the provenance strings when given: what `voxfe
/// voxelize --vti` writes.
pub fn write_solid_mask(
    grid: &crate::grid::VoxelGrid,
    provenance: Option<&crate::provenance::Provenance>,
    path: &Path,
) -> Result<(), VtkError> {
    let mut w = VtiWriter::new(grid.dims, grid.h);
    if let Some(p) = provenance {
        w = w.provenance(p);
    }
    w.cell_array("solid", 1, ArrayData::U8(grid.solid.clone()))?
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
            .field_string("commit", "abc \"x\" <é>")
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
        assert_eq!(
            c.strings,
            [("commit".to_string(), "abc \"x\" <é>".to_string())]
        );
    }

    #[test]
    fn wrong_length_is_an_error() {
        let e = VtiWriter::new([2, 2, 2], 1.0)
            .cell_array("solid", 1, ArrayData::U8(vec![0; 7]))
            .unwrap_err();
        assert!(e.to_string().contains("has 7 values, expected 8"));
    }
}
