//! The run's mesh as an Abaqus input deck (`.inp`), so that a result can
//! be re-checked in another FE code (Abaqus, CalculiX `ccx`; the tests run
//! CalculiX on it: `tests/calculix.rs`). Units: mm, N, MPa.
//!
//! - `*NODE` (set `ALL_NODES`): the solver's active nodes, numbered from 1
//!   in the solver's order (node `n + 1` is active node `n`);
//! - `*ELEMENT, TYPE=C3D8I` (set `ALL_ELEMENTS`): the solid voxels, numbered
//!   from 1 in voxel-id order, nodes in Abaqus order (the bottom face
//!   counter-clockwise seen from +z, then the top: [`super::HEX_ORDER`]);
//!   C3D8I is the hexahedron with incompatible modes, as the solver's
//!   default `solver.element = "incompatible"`; `C3D8` (full integration)
//!   for `"hex8"`;
//! - `*MATERIAL`/`*ELASTIC` (and `*PLASTIC` for a plastic run:
//!   [`PlasticDeck`]) and `*SOLID SECTION`: with binary fill one
//!   material `SOLID` (E, ν) on every element; with fraction fill one
//!   material per distinct stiffness weight wₑ = φₑ^p (p the run's
//!   resolved `voxel.fraction_exponent`), of modulus E·wₑ, the elements
//!   of each in set `FILL_0001`, `FILL_0002`, … (increasing w, a `**`
//!   comment giving φ and w of each): the solver's φₑ^p·Kₑ exactly. A
//!   lattice has at most 257 distinct φ (256 sub-samples per voxel); were
//!   there more than [`MAX_MATERIALS`] (a grey-value image), the weights
//!   are grouped into that many bins of equal ratio and each bin's modulus
//!   is E times the mean weight of its elements, which moves an element's
//!   modulus by at most half a bin's ratio (stated in the deck's comments);
//! - `*NSET, NSET=LOADED`: the loaded nodes, whose z reactions sum to the
//!   reaction force (the RF total's z component is −F: F > 0 in
//!   compression);
//! - `*STEP`/`*STATIC` with `*BOUNDARY`: the load case's constraints
//!   exactly as the solver applies them ([`crate::fem::load::Constraints`]:
//!   one line `node, dof, dof, value` per prescribed degree of freedom, the
//!   displacement −δ on loaded dofs and 0 on supports);
//! - output: `*NODE PRINT, NSET=LOADED, TOTALS=YES` of RF (its total is the
//!   reaction force), and field output U, RF, S, E.
//!
//! Every real number is written in at most [`FIELD`] characters, the
//! fixed field CalculiX reads: the shortest representation that reads
//! back as the same f64 where it fits, otherwise scientific notation with
//! as many digits as fit (at least 13 significant: within 5e-13 relative).
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

/// Characters of a data field CalculiX reads (numbers longer than this are
/// refused or cut).
pub const FIELD: usize = 20;

/// Most materials of a fraction-fill deck: one per distinct stiffness
/// weight up to this count, bins of equal ratio beyond it.
pub const MAX_MATERIALS: usize = 4096;

/// `x` in at most [`FIELD`] characters: Rust's shortest round-trip
/// scientific form where it fits (it reads back as `x` exactly), otherwise
/// the most digits that fit (12 after the point at worst, as in
/// `-1.234567890123e-300`: within 5e-13 relative).
pub fn number(x: f64) -> String {
    let shortest = format!("{x:e}");
    if shortest.len() <= FIELD {
        return shortest;
    }
    (0..16)
        .rev()
        .map(|digits| format!("{x:.digits$e}"))
        .find(|t| t.len() <= FIELD)
        .expect("12 digits after the point always fit in 20 characters")
}

/// One material of the deck: its name, the stiffness weight of its
/// elements (E·weight is its modulus), the solid fraction they carry (the
/// range of φ of a bin) and its elements (numbers from 1).
struct Group {
    name: String,
    weight: f64,
    phi: (f64, f64),
    elements: Vec<usize>,
}

/// The materials of a fraction-fill grid: one per distinct weight wₑ
/// (increasing), or, past [`MAX_MATERIALS`] distinct weights, one per bin
/// of equal ratio in w with the mean weight of its elements; and the
/// largest relative change of an element's modulus (0 when exact).
fn fraction_groups(hex: &HexMesh, grid: &crate::grid::VoxelGrid) -> (Vec<Group>, f64) {
    let mut by_weight: std::collections::BTreeMap<u64, Group> = Default::default();
    for (e, &v) in hex.voxels.iter().enumerate() {
        let (phi, w) = (grid.phi(v), grid.weight(v));
        let g = by_weight.entry(w.to_bits()).or_insert_with(|| Group {
            name: String::new(),
            weight: w,
            phi: (phi, phi),
            elements: Vec::new(),
        });
        g.phi = (g.phi.0.min(phi), g.phi.1.max(phi));
        g.elements.push(e + 1);
    }
    // Positive weights: their bit patterns order as the values do.
    let exact: Vec<Group> = by_weight.into_values().collect();
    let (mut groups, error) = if exact.len() <= MAX_MATERIALS {
        (exact, 0.0)
    } else {
        let (lo, hi) = (exact[0].weight, exact[exact.len() - 1].weight);
        let step = (hi / lo).ln() / MAX_MATERIALS as f64;
        let mut bins: Vec<Option<Group>> = (0..MAX_MATERIALS).map(|_| None).collect();
        let mut sums = vec![0.0; MAX_MATERIALS];
        for g in exact {
            let b = (((g.weight / lo).ln() / step) as usize).min(MAX_MATERIALS - 1);
            sums[b] += g.weight * g.elements.len() as f64;
            match &mut bins[b] {
                Some(bin) => {
                    bin.phi = (bin.phi.0.min(g.phi.0), bin.phi.1.max(g.phi.1));
                    bin.elements.extend(g.elements);
                }
                slot => *slot = Some(g),
            }
        }
        let groups = bins
            .into_iter()
            .zip(sums)
            .filter_map(|(bin, sum)| {
                bin.map(|mut g| {
                    g.elements.sort_unstable();
                    g.weight = sum / g.elements.len() as f64;
                    g
                })
            })
            .collect();
        (groups, step.exp() - 1.0)
    };
    for (k, g) in groups.iter_mut().enumerate() {
        g.name = format!("FILL_{:04}", k + 1);
    }
    (groups, error)
}

/// The model a deck holds: a grid under a load case, of one material, with
/// one element; elastic, or elastoplastic when `plastic` is given.
pub struct DeckModel<'a> {
    /// The scene's name and load case, for the heading.
    pub name: &'a str,
    pub load_case: &'a str,
    pub grid: &'a crate::grid::VoxelGrid,
    pub load: &'a crate::fem::load::LoadCase,
    pub material: crate::material::YoungPoisson,
    pub element: Element,
    pub plastic: Option<PlasticDeck>,
    /// A `**` line after the provenance, e.g. how the element compares.
    pub note: Option<&'a str>,
}

/// The elastoplastic part of a deck (`voxfe plastic --inp`): J2 with
/// linear isotropic hardening as `*PLASTIC` (σ_y at plastic strain 0,
/// σ_y + H at 1), each fraction-fill material's yield strength and
/// hardening scaled by its weight w as the solver scales them, and a
/// `*STATIC` step of `increments` equal increments (CalculiX and Abaqus may
/// cut them back, as voxfe does) to the final apparent strain δ/Lz.
#[derive(Debug, Clone, Copy)]
pub struct PlasticDeck {
    pub yield_strength: f64,
    pub hardening: f64,
    pub strain: f64,
    pub increments: usize,
}

/// Writes the deck of `report`'s grid, material and load case.
pub fn write_run(
    report: &RunReport,
    provenance: Option<&Provenance>,
    path: &Path,
) -> Result<(), ExportError> {
    let model = DeckModel {
        name: &report.voxel.name,
        load_case: report.load_case,
        grid: &report.grid,
        load: &report.load,
        material: report.material,
        element: report.solve.element,
        plastic: None,
        note: None,
    };
    write_model(&model, provenance, path)
}

/// Writes the deck of `model`.
pub fn write_model(
    model: &DeckModel,
    provenance: Option<&Provenance>,
    path: &Path,
) -> Result<(), ExportError> {
    let grid = model.grid;
    let hex = HexMesh::new(grid)?;
    let bc = model.load.constraints(&hex.mesh)?;
    let m = model.material;
    // The prescribed displacements: the load case's δ, or scaled to the
    // plastic run's final strain.
    let scale = model
        .plastic
        .map_or(1.0, |p| p.strain * grid.size()[2] / bc.delta);
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
    if let Some(note) = model.note {
        let _ = writeln!(s, "** {note}");
    }
    let _ = writeln!(s, "*HEADING");
    let _ = writeln!(
        s,
        "voxfe scene {}: {}, delta = {:e} mm{}",
        model.name,
        model.load_case,
        bc.delta * scale,
        if model.plastic.is_some() {
            ", J2 plasticity"
        } else {
            ""
        }
    );
    let _ = writeln!(s, "*NODE, NSET=ALL_NODES");
    for n in 0..hex.mesh.len() {
        let [x, y, z] = hex.position(n).map(number);
        let _ = writeln!(s, "{}, {x}, {y}, {z}", n + 1);
    }
    let element_type = match model.element {
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
    let elastic = |s: &mut String, name: &str, elset: &str, weight: f64| {
        let _ = writeln!(s, "*MATERIAL, NAME={name}");
        let _ = writeln!(s, "*ELASTIC");
        let _ = writeln!(s, "{}, {}", number(m.e * weight), number(m.nu));
        if let Some(p) = model.plastic {
            let _ = writeln!(s, "*PLASTIC");
            let _ = writeln!(s, "{}, 0.0", number(p.yield_strength * weight));
            let _ = writeln!(
                s,
                "{}, 1.0",
                number((p.yield_strength + p.hardening) * weight)
            );
        }
        let _ = writeln!(s, "*SOLID SECTION, ELSET={elset}, MATERIAL={name}");
        let _ = writeln!(s, ",");
    };
    if grid.fraction.is_none() {
        elastic(&mut s, "SOLID", "ALL_ELEMENTS", 1.0);
    } else {
        let (groups, error) = fraction_groups(&hex, grid);
        let p = grid.fraction_exponent;
        if error == 0.0 {
            let _ = writeln!(
                s,
                "** Fraction fill: one material per distinct stiffness weight w = phi^p, p = {p}, modulus E*w (exact)"
            );
        } else {
            let _ = writeln!(
                s,
                "** Fraction fill: more than {MAX_MATERIALS} distinct weights w = phi^p, p = {p}: {} bins of equal ratio in w, modulus E * (mean w of the bin); an element's modulus is moved by at most {:.2e} relative",
                groups.len(),
                error / 2.0
            );
        }
        for g in &groups {
            let _ = writeln!(
                s,
                "** {}: phi {} to {}, w = {}, {} elements",
                g.name,
                g.phi.0,
                g.phi.1,
                g.weight,
                g.elements.len()
            );
            let _ = writeln!(s, "*ELSET, ELSET={}", g.name);
            set_lines(&mut s, g.elements.iter().copied());
            elastic(&mut s, &g.name, &g.name, g.weight);
        }
    }
    let _ = writeln!(s, "*STEP");
    let _ = writeln!(s, "*STATIC");
    if let Some(p) = model.plastic {
        let step = 1.0 / p.increments as f64;
        let _ = writeln!(
            s,
            "{}, 1.0, {}, {}",
            number(step),
            number(step / 64.0),
            number(step)
        );
    }
    let _ = writeln!(s, "*BOUNDARY");
    let mut values = vec![0.0; 3 * hex.mesh.len()];
    for &(dof, v) in &bc.values {
        values[dof] = v * scale;
    }
    for (n, &f) in bc.fixed.iter().enumerate() {
        for c in 0..3 {
            if f & (1 << c) != 0 {
                let _ = writeln!(
                    s,
                    "{}, {}, {}, {}",
                    n + 1,
                    c + 1,
                    c + 1,
                    number(values[3 * n + c])
                );
            }
        }
    }
    let _ = writeln!(s, "*NODE PRINT, NSET=LOADED, TOTALS=YES");
    let _ = writeln!(s, "RF");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::VoxelGrid;

    #[test]
    fn numbers_fit_the_field_and_read_back_within_5e_13() {
        let cases = [
            0.0,
            0.3,
            3.0000000000000004e-1,
            -0.1 - 0.2,
            1.0 / 3.0,
            -2.0 / 3.0 * 1e-300,
            -f64::MIN_POSITIVE,
            -1.2345678901234567e300,
            9.876543210987654e-200,
            1e-5 * 7.0,
            123456.789,
        ];
        for x in cases {
            let s = number(x);
            assert!(s.len() <= FIELD, "{x}: {s}");
            let back: f64 = s.parse().unwrap();
            assert!((back - x).abs() <= 5e-13 * x.abs(), "{x}: {s} → {back}");
        }
        // Shortest round-trip where it fits.
        assert_eq!(number(0.3), "3e-1");
        assert_eq!(number(-0.001), "-1e-3");
        assert_eq!(number(3.0000000000000004e-1), "3.000000000000000e-1");
    }

    /// A `n`³ grid of voxels of 0.1 mm, all solid, with fractions `phi`.
    fn grid(n: usize, phi: impl Fn(usize) -> f32, exponent: f64) -> VoxelGrid {
        let mut g = VoxelGrid::full([n, n, n], 0.1);
        g.fraction = Some((0..n * n * n).map(phi).collect());
        g.fraction_exponent = exponent;
        g
    }

    #[test]
    fn one_material_per_distinct_weight_and_bins_past_the_limit() {
        let g = grid(4, |v| [1.0, 0.5, 0.25][v % 3], 2.0);
        let hex = HexMesh::new(&g).unwrap();
        let (groups, error) = fraction_groups(&hex, &g);
        assert_eq!(error, 0.0);
        let w: Vec<f64> = groups.iter().map(|g| g.weight).collect();
        assert_eq!(w, [0.0625, 0.25, 1.0]);
        assert_eq!(groups[0].name, "FILL_0001");
        assert_eq!(groups[2].elements[..3], [1, 4, 7]);
        assert_eq!(groups.iter().map(|g| g.elements.len()).sum::<usize>(), 64);

        // 17³ = 4913 distinct weights: binned, each element's modulus
        // within the stated bound of its own.
        let n = 17;
        let phi = |v: usize| 0.02 + 0.98 * v as f32 / (n * n * n) as f32;
        let g = grid(n, phi, 1.7);
        let hex = HexMesh::new(&g).unwrap();
        let (groups, error) = fraction_groups(&hex, &g);
        assert!(groups.len() <= MAX_MATERIALS && groups.len() > MAX_MATERIALS / 2);
        assert!(error > 0.0 && error < 2e-3, "{error}");
        let mut seen = 0;
        for grp in &groups {
            for &e in &grp.elements {
                let w = g.weight(hex.voxels[e - 1]);
                assert!((grp.weight / w - 1.0).abs() <= error, "{e}");
                seen += 1;
            }
        }
        assert_eq!(seen, n * n * n);
    }
}
