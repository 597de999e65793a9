//! The test data of `voxfe fit`: a CSV file, one row a tested specimen.
//!
//! Lines starting with `#` are comments (the source of the data goes
//! there). The header names the columns, in any order (case and spaces
//! around names ignored); the unit is in the name:
//!
//! | column | meaning | |
//! |---|---|---|
//! | `specimen` | a name | optional (default: the row number) |
//! | `lattice` | lattice kind, as `lattice.kind` | optional (default: the scene's) |
//! | `cell_mm` | cell side M, mm | optional (default: the scene's) |
//! | `porosity` or `porosity_pct` | as built, a fraction (0, 1) or percent (0, 100) | one of these or `strut_mm` |
//! | `strut_mm` | strut diameter D as built, mm | |
//! | `cells` or `size_mm` | cells per axis of the cube, or its side in mm | optional (default: the scene's specimen) |
//! | `modulus_gpa` or `modulus_mpa` | measured elastic modulus | exactly one |
//! | `yield_mpa` | measured yield (0.2 % offset) strength, MPa | optional, may be empty |
//! | `standard` | the test standard (e.g. ISO 13314) | optional |
//!
//! A bad file is refused naming the file, the row (and its line) and the
//! column ([`DataError`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::lattice::LatticeKind;
use crate::text::escape;

/// How a specimen's lattice is sized.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Size {
    /// Porosity as built, a fraction.
    Porosity(f64),
    /// Strut diameter as built, mm.
    Strut(f64),
}

/// One tested specimen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Specimen {
    pub name: String,
    pub lattice: Option<LatticeKind>,
    pub cell: Option<f64>,
    pub size: Size,
    /// Cells per axis of the cube (`None`: `side`, or the scene's specimen).
    pub cells: Option<usize>,
    /// Side of the cube, mm (`None`: `cells`, or the scene's specimen).
    pub side: Option<f64>,
    /// Measured modulus, MPa.
    pub modulus: f64,
    /// Measured yield strength, MPa.
    pub yield_strength: Option<f64>,
    pub standard: Option<String>,
}

/// A test file read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tests {
    pub path: PathBuf,
    pub specimens: Vec<Specimen>,
    /// The unit the file gave the modulus in: `GPa` or `MPa`.
    pub modulus_unit: String,
}

/// Why a test file was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    #[error("tests '{}': cannot read: {why}", escape(path))]
    Read { path: String, why: String },
    #[error("tests '{}': header: {}", escape(path), escape(why))]
    Header { path: String, why: String },
    #[error(
        "tests '{}' row {row} (line {line}), column '{}': value '{}': {}",
        escape(path),
        escape(column),
        escape(value),
        escape(allowed)
    )]
    Cell {
        path: String,
        row: usize,
        line: u64,
        column: String,
        value: String,
        allowed: String,
    },
    #[error("tests '{}' row {row} (line {line}): {}", escape(path), escape(why))]
    Row {
        path: String,
        row: usize,
        line: u64,
        why: String,
    },
    #[error("tests '{}': no specimen rows", escape(path))]
    Empty { path: String },
}

/// The columns a file may have.
const KNOWN: [&str; 12] = [
    "specimen",
    "lattice",
    "cell_mm",
    "porosity",
    "porosity_pct",
    "strut_mm",
    "cells",
    "size_mm",
    "modulus_gpa",
    "modulus_mpa",
    "yield_mpa",
    "standard",
];

/// Reads the test file at `path`.
pub fn read(path: &Path) -> Result<Tests, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::Read {
        path: path.display().to_string(),
        why: e.to_string(),
    })?;
    parse(&text, path)
}

/// Parses test-file text (`path` names it in errors).
pub fn parse(text: &str, path: &Path) -> Result<Tests, DataError> {
    let file = path.display().to_string();
    // A spreadsheet's UTF-8 byte-order mark is not part of the first name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let header_err = |why: String| DataError::Header {
        path: file.clone(),
        why,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| header_err(e.to_string()))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    for (i, h) in header.iter().enumerate() {
        if !KNOWN.contains(&h.as_str()) {
            return Err(header_err(format!(
                "column {} '{h}' is not known; allowed: {} (the unit in the name)",
                i + 1,
                KNOWN.join(", ")
            )));
        }
        if header[..i].contains(h) {
            return Err(header_err(format!("column '{h}' is given twice")));
        }
    }
    let col = |name: &str| header.iter().position(|h| h == name);
    let one_of = |names: &[&str], required: bool| -> Result<Option<usize>, DataError> {
        let found: Vec<&str> = names.iter().copied().filter(|n| col(n).is_some()).collect();
        match found.len() {
            0 if required => Err(header_err(format!(
                "no column {}: one is required",
                names
                    .iter()
                    .map(|n| format!("'{n}'"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))),
            0 => Ok(None),
            1 => Ok(col(found[0])),
            _ => Err(header_err(format!(
                "columns {} say the same thing: give one",
                found.join(" and ")
            ))),
        }
    };
    let modulus = one_of(&["modulus_gpa", "modulus_mpa"], true)?.expect("required");
    let gpa = header[modulus] == "modulus_gpa";
    let size_col = one_of(&["porosity", "porosity_pct", "strut_mm"], true)?.expect("required");
    let extent = one_of(&["cells", "size_mm"], false)?;
    let mut specimens = Vec::new();
    for (r, record) in rdr.records().enumerate() {
        let row = r + 1;
        let record = record.map_err(|e| DataError::Read {
            path: file.clone(),
            why: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != header.len() {
            return Err(DataError::Row {
                path: file.clone(),
                row,
                line,
                why: format!(
                    "{} fields, the header has {} columns ({})",
                    record.len(),
                    header.len(),
                    header.join(", ")
                ),
            });
        }
        let cell_err = |c: usize, allowed: &str| DataError::Cell {
            path: file.clone(),
            row,
            line,
            column: header[c].clone(),
            value: record[c].to_string(),
            allowed: allowed.to_string(),
        };
        let text_at = |name: &str| col(name).map(|c| record[c].to_string());
        let number = |c: usize, allowed: &str, ok: &dyn Fn(f64) -> bool| {
            let v: f64 = record[c]
                .parse()
                .map_err(|_| cell_err(c, &format!("not a number; allowed: {allowed}")))?;
            if v.is_finite() && ok(v) {
                Ok(v)
            } else {
                Err(cell_err(c, &format!("allowed: {allowed}")))
            }
        };
        let optional = |name: &str, allowed: &str, ok: &dyn Fn(f64) -> bool| match col(name) {
            Some(c) if !record[c].is_empty() => number(c, allowed, ok).map(Some),
            _ => Ok(None),
        };
        let positive = |v: f64| v > 0.0;
        let m = number(
            modulus,
            if gpa {
                "a positive modulus in GPa"
            } else {
                "a positive modulus in MPa"
            },
            &positive,
        )?;
        let size = match header[size_col].as_str() {
            "porosity" => Size::Porosity(number(
                size_col,
                "a porosity as a fraction, 0 < porosity < 1 (percent: name the column porosity_pct)",
                &|v| v > 0.0 && v < 1.0,
            )?),
            "porosity_pct" => Size::Porosity(
                number(
                    size_col,
                    "a porosity in percent, 0 < porosity_pct < 100",
                    &|v| v > 0.0 && v < 100.0,
                )? / 100.0,
            ),
            _ => Size::Strut(number(size_col, "a positive strut diameter in mm", &positive)?),
        };
        let lattice = match col("lattice") {
            Some(c) if !record[c].is_empty() => Some(
                serde_json::from_value::<LatticeKind>(serde_json::Value::String(
                    record[c].to_string(),
                ))
                .map_err(|_| {
                    cell_err(
                        c,
                        &format!(
                            "allowed: {}",
                            LatticeKind::ALL
                                .iter()
                                .map(|k| k.name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?,
            ),
            _ => None,
        };
        let (cells, side) = match extent {
            Some(c) if header[c] == "cells" && !record[c].is_empty() => {
                let n = number(c, "a whole number of cells per axis, at least 1", &|v| {
                    v >= 1.0 && v.fract() == 0.0
                })?;
                (Some(n as usize), None)
            }
            Some(c) if !record[c].is_empty() => (
                None,
                Some(number(c, "a positive cube side in mm", &positive)?),
            ),
            _ => (None, None),
        };
        specimens.push(Specimen {
            name: text_at("specimen")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| format!("{row}")),
            lattice,
            cell: optional("cell_mm", "a positive cell side in mm", &positive)?,
            size,
            cells,
            side,
            modulus: if gpa { 1000.0 * m } else { m },
            yield_strength: optional("yield_mpa", "a positive strength in MPa", &positive)?,
            standard: text_at("standard").filter(|s| !s.is_empty()),
        });
    }
    if specimens.is_empty() {
        return Err(DataError::Empty { path: file });
    }
    Ok(Tests {
        path: path.to_path_buf(),
        specimens,
        modulus_unit: if gpa { "GPa" } else { "MPa" }.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Tests, DataError> {
        parse(text, Path::new("t.csv"))
    }

    #[test]
    fn a_good_file_reads_in_mpa() {
        let t = p("\u{feff}# source\nspecimen,porosity_pct,cells,modulus_gpa,yield_mpa\nA, 45.5, 3, 4.71, 33.46\nB,73.9,3,1.28,\n").unwrap();
        assert_eq!(t.specimens.len(), 2);
        let a = &t.specimens[0];
        assert!((a.modulus - 4710.0).abs() < 1e-9);
        assert!(
            (a.size == Size::Porosity(0.455))
                || matches!(a.size, Size::Porosity(x) if (x - 0.455).abs() < 1e-12)
        );
        assert_eq!(a.cells, Some(3));
        assert_eq!(t.specimens[1].yield_strength, None);
    }

    #[test]
    fn bad_cells_name_row_line_and_column() {
        let e = p("porosity,modulus_mpa\n0.5,100\n0.7,-3\n").unwrap_err();
        let s = e.to_string();
        assert!(
            s.contains("row 2")
                && s.contains("line 3")
                && s.contains("'modulus_mpa'")
                && s.contains("'-3'"),
            "{s}"
        );
        let s = p("porosity,modulus_mpa\n1.2,100\n")
            .unwrap_err()
            .to_string();
        assert!(
            s.contains("column 'porosity'") && s.contains("0 < porosity < 1"),
            "{s}"
        );
        let s = p("porosity,modulus_mpa\nabc,100\n")
            .unwrap_err()
            .to_string();
        assert!(s.contains("not a number"), "{s}");
        let s = p("porosity,yield_mpa\n0.5,100\n").unwrap_err().to_string();
        assert!(s.contains("modulus_gpa") && s.contains("required"), "{s}");
        let s = p("porosity,modulus,x\n").unwrap_err().to_string();
        assert!(s.contains("'modulus' is not known"), "{s}");
        let s = p("porosity,modulus_mpa\n0.5\n").unwrap_err().to_string();
        assert!(s.contains("row 1") && s.contains("1 fields"), "{s}");
    }
}
