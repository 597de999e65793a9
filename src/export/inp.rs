//! The run's mesh as an Abaqus input deck (`.inp`), so that a result can
//! be re-checked in a commercial FE code. Units: mm, N, MPa.
//!
//! - `*NODE` (set `ALL_NODES`): the solver's active nodes, numbered from 1
//!   in the solver's order (node `n + 1` is active node `n`);
//! - `*ELEMENT, TYPE=C3D8I` (set `ALL_ELEMENTS`): the solid voxels, numbered
//!   from 1 in voxel-id order, nodes in Abaqus order (the bottom face
//!   counter-clockwise seen from +z, then the top: [`super::HEX_ORDER`]);
//!   C3D8I is Abaqus' hexahedron with incompatible modes, as the solver's
//!   default `solver.element = "incompatible"`; `C3D8` (full integration)
//!   for `"hex8"`;
//! - `*MATERIAL`/`*ELASTIC` and `*SOLID SECTION`: with binary fill one
//!   material `SOLID` (E, ν) on every element; with fraction fill the
//!   elements are grouped by φₑ rounded to the nearest 0.01 (sets
//!   `PHI_001` … `PHI_100`), each with its material of modulus
//!   E·φ (Voigt scaling, as the solver's φₑ·Kₑ; the rounding changes an
//!   element's modulus by at most 0.5 % of E);
//! - `*NSET, NSET=LOADED`: the loaded nodes, whose z reactions sum to the
//!   reaction force (Abaqus' RF3 total is −F: F > 0 in compression);
//! - `*STEP`/`*STATIC` with `*BOUNDARY`: the load case's constraints
//!   exactly as the solver applies them ([`crate::fem::load::Constraints`]:
//!   one line `node, dof, dof, value` per prescribed degree of freedom, the
//!   displacement −δ on loaded dofs and 0 on supports);
//! - output: `*NODE PRINT, NSET=LOADED, TOTALS=YES` of RF3, and field
//!   output U, RF, S, E.
//!
//! The provenance heads the deck as `**` comments. [`read_inp`] parses the
//! keywords written here back, for the tests.

use std::fmt::Write as _;
use std::path::Path;

use super::{io_error, ExportError, HexMesh};
use crate::fem::hex8::Element;
use crate::provenance::Provenance;
use crate::report::RunReport;

/// Entries per data line of a set (Abaqus reads at most 16).
const PER_LINE: usize = 16;

/// Writes the deck of `report`'s grid, material and load case.
pub fn write_run(
    report: &RunReport,
    provenance: Option<&Provenance>,
    path: &Path,
) -> Result<(), ExportError> {
    let grid = &report.grid;
    let hex = HexMesh::new(grid)?;
    let bc = report.load.constraints(&hex.mesh)?;
    let m = report.material;
    let mut s = String::new();
    let _ = writeln!(s, "** Abaqus input deck written by voxfe: units mm, N, MPa");
    if let Some(p) = provenance {
        for (k, v) in p.pairs() {
            for (i, line) in v.lines().enumerate() {
                let key = if i == 0 { k } else { "" };
                let _ = writeln!(s, "** {key:>15}: {line}");
            }
        }
    }
    let _ = writeln!(s, "*HEADING");
    let _ = writeln!(
        s,
        "voxfe scene {}: {}, delta = {:e} mm",
        report.voxel.name, report.load_case, bc.delta
    );
    let _ = writeln!(s, "*NODE, NSET=ALL_NODES");
    for n in 0..hex.mesh.len() {
        let [x, y, z] = hex.position(n);
        let _ = writeln!(s, "{}, {x:e}, {y:e}, {z:e}", n + 1);
    }
    let element_type = match report.solve.element {
        Element::Hex8 => "C3D8",
        Element::Incompatible => "C3D8I",
    };
    let _ = writeln!(s, "*ELEMENT, TYPE={element_type}, ELSET=ALL_ELEMENTS");
    for (e, cell) in hex.cells.iter().enumerate() {
        let nodes: Vec<String> = cell.iter().map(|&n| (n + 1).to_string()).collect();
        let _ = writeln!(s, "{}, {}", e + 1, nodes.join(", "));
    }
    let _ = writeln!(s, "*NSET, NSET=LOADED");
    set_lines(&mut s, bc.loaded.iter().map(|&n| n + 1));
    // Sections: one material, or one per φ bin.
    let groups: Vec<(String, f64, Vec<usize>)> = match &grid.fraction {
        None => vec![("SOLID".to_string(), 1.0, (1..=hex.cells.len()).collect())],
        Some(_) => {
            let mut bins: Vec<Vec<usize>> = vec![Vec::new(); 101];
            for (e, &v) in hex.voxels.iter().enumerate() {
                let bin = (grid.phi(v) * 100.0).round().clamp(0.0, 100.0) as usize;
                bins[bin].push(e + 1);
            }
            bins.into_iter()
                .enumerate()
                .filter(|(_, els)| !els.is_empty())
                .map(|(b, els)| (format!("PHI_{b:03}"), b as f64 / 100.0, els))
                .collect()
        }
    };
    for (name, phi, elements) in &groups {
        if grid.fraction.is_some() {
            let _ = writeln!(s, "*ELSET, ELSET={name}");
            set_lines(&mut s, elements.iter().copied());
        }
        let _ = writeln!(s, "*MATERIAL, NAME={name}");
        let _ = writeln!(s, "*ELASTIC");
        let _ = writeln!(s, "{:e}, {:e}", m.e * grid.weight_of(*phi), m.nu);
        let elset = if grid.fraction.is_some() {
            name.as_str()
        } else {
            "ALL_ELEMENTS"
        };
        let _ = writeln!(s, "*SOLID SECTION, ELSET={elset}, MATERIAL={name}");
        let _ = writeln!(s, ",");
    }
    let _ = writeln!(s, "*STEP");
    let _ = writeln!(s, "*STATIC");
    let _ = writeln!(s, "*BOUNDARY");
    let mut values = vec![0.0; 3 * hex.mesh.len()];
    for &(dof, v) in &bc.values {
        values[dof] = v;
    }
    for (n, &f) in bc.fixed.iter().enumerate() {
        for c in 0..3 {
            if f & (1 << c) != 0 {
                let _ = writeln!(
                    s,
                    "{}, {}, {}, {:e}",
                    n + 1,
                    c + 1,
                    c + 1,
                    values[3 * n + c]
                );
            }
        }
    }
    let _ = writeln!(s, "*NODE PRINT, NSET=LOADED, TOTALS=YES");
    let _ = writeln!(s, "RF3");
    let _ = writeln!(s, "*OUTPUT, FIELD");
    let _ = writeln!(s, "*NODE OUTPUT");
    let _ = writeln!(s, "U, RF");
    let _ = writeln!(s, "*ELEMENT OUTPUT");
    let _ = writeln!(s, "S, E");
    let _ = writeln!(s, "*END STEP");
    std::fs::write(path, s).map_err(io_error(path))
}

/// The data lines of a node or element set, [`PER_LINE`] to a line.
fn set_lines(s: &mut String, ids: impl Iterator<Item = usize>) {
    let ids: Vec<String> = ids.map(|i| i.to_string()).collect();
    for chunk in ids.chunks(PER_LINE) {
        let _ = writeln!(s, "{}", chunk.join(", "));
    }
}

/// What [`read_inp`] found in a deck.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InpDeck {
    /// `(number, x, y, z)`.
    pub nodes: Vec<(usize, [f64; 3])>,
    /// The `TYPE=` of each `*ELEMENT` block.
    pub element_types: Vec<String>,
    /// `(number, nodes)`.
    pub elements: Vec<(usize, Vec<usize>)>,
    /// `(name, members)` of every `*NSET` and `*ELSET`.
    pub sets: Vec<(String, Vec<usize>)>,
    /// `(name, E, ν)`.
    pub materials: Vec<(String, f64, f64)>,
    /// `(elset, material)`.
    pub sections: Vec<(String, String)>,
    /// `(node, first dof, last dof, value)`.
    pub boundary: Vec<(usize, usize, usize, f64)>,
    /// Whether a `*STATIC` step is there.
    pub static_step: bool,
    /// The variables of `*NODE PRINT` with its set.
    pub node_print: Option<(String, String)>,
}

impl InpDeck {
    /// The members of set `name`.
    pub fn set(&self, name: &str) -> Option<&[usize]> {
        self.sets
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// Parses the keywords [`write_run`] writes (comments skipped).
pub fn read_inp(path: &Path) -> Result<InpDeck, ExportError> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    let bad = |line: usize, why: &str| ExportError::Parse {
        what: "Abaqus input",
        why: format!("line {}: {why}", line + 1),
    };
    let param = |kw: &str, key: &str| -> Option<String> {
        kw.split(',').skip(1).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case(key)
                .then(|| v.trim().to_string())
        })
    };
    let mut deck = InpDeck::default();
    let mut keyword = String::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("**") || line.trim().is_empty() {
            continue;
        }
        if line.starts_with('*') {
            keyword = line.to_ascii_uppercase();
            let name = keyword.split(',').next().unwrap_or_default().trim();
            match name {
                "*ELEMENT" => deck
                    .element_types
                    .push(param(&keyword, "TYPE").unwrap_or_default()),
                "*NSET" | "*ELSET" => {
                    let key = &name[1..];
                    let set = param(&keyword, key).ok_or_else(|| bad(i, "a set without name"))?;
                    deck.sets.push((set, Vec::new()));
                }
                "*MATERIAL" => {
                    let m = param(&keyword, "NAME").ok_or_else(|| bad(i, "no NAME"))?;
                    deck.materials.push((m, f64::NAN, f64::NAN));
                }
                "*SOLID SECTION" => deck.sections.push((
                    param(&keyword, "ELSET").unwrap_or_default(),
                    param(&keyword, "MATERIAL").unwrap_or_default(),
                )),
                "*STATIC" => deck.static_step = true,
                _ => {}
            }
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let num = |k: usize| -> Result<f64, ExportError> {
            fields
                .get(k)
                .and_then(|f| f.parse::<f64>().ok())
                .ok_or_else(|| bad(i, "expected a number"))
        };
        let int = |k: usize| num(k).map(|x| x as usize);
        let name = keyword.split(',').next().unwrap_or_default().trim();
        match name {
            "*NODE" => deck.nodes.push((int(0)?, [num(1)?, num(2)?, num(3)?])),
            "*ELEMENT" => {
                let nodes = (1..fields.len()).map(int).collect::<Result<_, _>>()?;
                deck.elements.push((int(0)?, nodes));
            }
            "*NSET" | "*ELSET" => {
                let set = &mut deck.sets.last_mut().expect("opened by its keyword").1;
                for k in 0..fields.len() {
                    set.push(int(k)?);
                }
            }
            "*ELASTIC" => {
                let m = deck
                    .materials
                    .last_mut()
                    .ok_or_else(|| bad(i, "*ELASTIC outside a *MATERIAL"))?;
                (m.1, m.2) = (num(0)?, num(1)?);
            }
            "*BOUNDARY" => deck
                .boundary
                .push((int(0)?, int(1)?, int(2)?, num(3).unwrap_or(0.0))),
            "*NODE PRINT" => {
                deck.node_print = Some((param(&keyword, "NSET").unwrap_or_default(), line.into()))
            }
            _ => {}
        }
    }
    Ok(deck)
}
