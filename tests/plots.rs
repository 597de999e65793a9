//! The figures checked from their files: the stress slice's colour bar
//! (decoded PNG pixels), its title, units and colour range (the PNG's text
//! chunks), the modulus–density plot's log-axis ticks and its straight fit
//! lines (the SVG), the convergence plot from h = 0 with its fitted curve,
//! band and units, the polar plots' radius labels, the marks of cases with
//! a wide error band, and the Gibson–Ashby fit text of `summary.md`.
mod common;

use common::png_text;

use std::path::Path;

use voxfe::grid::VoxelGrid;
use voxfe::plot::{slice_png, Axis, SliceText};
use voxfe::study::sweep::{case_row, summary, write_plots, Case, Manifest, Row, RunFields};

/// Compression rows of one lattice kind: `(porosity, E_eff/E_s)`.
fn rows(points: &[(f64, f64)]) -> Vec<Row> {
    points
        .iter()
        .enumerate()
        .map(|(index, &(porosity, relative))| {
            let case = Case {
                index,
                settings: vec![("lattice.porosity".into(), porosity.to_string())],
            };
            let mut run = RunFields::default();
            run.voxel.lattice = "rhombic-dodecahedron".into();
            run.voxel.porosity_measured = porosity;
            run.solve.e_eff = Some(relative * 186_000.0);
            run.solve.converged = true;
            run.material_e = 186_000.0;
            case_row(&case, Ok(run))
        })
        .collect()
}

fn manifest(total: usize) -> Manifest {
    Manifest {
        scene: "s.toml".into(),
        scene_hash: "0".into(),
        set: vec![],
        variations: vec![],
        total,
        shard: None,
        provenance: None,
    }
}

/// The value of attribute `name` in the tag `tag` (`name="…"`).
fn attr<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(&tag[start..start + tag[start..].find('"')?])
}

/// The SVG's `<text>` elements: (x, y, anchor, text).
fn texts(svg: &str) -> Vec<(f64, f64, String, String)> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let (tag, rest) = t.split_once('>')?;
            let body = rest.split("</text>").next()?.trim().to_string();
            Some((
                attr(tag, "x")?.parse().ok()?,
                attr(tag, "y")?.parse().ok()?,
                attr(tag, "text-anchor").unwrap_or("start").to_string(),
                body,
            ))
        })
        .collect()
}

/// The points of every `<polyline>` with stroke width `width`.
fn polylines(svg: &str, width: &str) -> Vec<Vec<(f64, f64)>> {
    svg.split("<polyline")
        .skip(1)
        .filter_map(|t| {
            let tag = t.split('>').next()?;
            if attr(tag, "stroke-width")? != width {
                return None;
            }
            Some(
                attr(tag, "points")?
                    .split_whitespace()
                    .map(|p| {
                        let (x, y) = p.split_once(',').unwrap();
                        (x.parse().unwrap(), y.parse().unwrap())
                    })
                    .collect(),
            )
        })
        .collect()
}

/// Least-squares slope of `b` against `a`.
fn slope(pairs: &[(f64, f64)]) -> f64 {
    let m = pairs.len() as f64;
    let (ma, mb) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / m,
        pairs.iter().map(|p| p.1).sum::<f64>() / m,
    );
    let sab: f64 = pairs.iter().map(|p| (p.0 - ma) * (p.1 - mb)).sum();
    let saa: f64 = pairs.iter().map(|p| (p.0 - ma).powi(2)).sum();
    sab / saa
}

#[test]
fn modulus_density_plot_has_ticks_under_a_decade_and_a_straight_fit() {
    let dir = tempfile::tempdir().unwrap();
    // ρ from 0.15 to 0.30: no power of ten on the x axis.
    let pts = [(0.85, 0.012), (0.8, 0.02), (0.75, 0.031), (0.7, 0.045)];
    write_plots(dir.path(), &rows(&pts), &["lattice.porosity"]).unwrap();
    let svg = std::fs::read_to_string(dir.path().join("modulus-density.svg")).unwrap();
    let numbers = |anchor: &str| -> Vec<(f64, f64, f64)> {
        texts(&svg)
            .into_iter()
            .filter(|t| t.2 == anchor)
            .filter_map(|(x, y, _, body)| Some((x, y, body.parse::<f64>().ok()?)))
            .collect()
    };
    // Tick labels: x ones centred under the axis, y ones right-aligned.
    let x_ticks = numbers("middle");
    let y_ticks = numbers("end");
    assert!(x_ticks.len() >= 3, "x tick labels: {x_ticks:?}\n{svg}");
    assert!(y_ticks.len() >= 3, "y tick labels: {y_ticks:?}");
    assert!(
        x_ticks.iter().any(|t| (t.2 - 0.2).abs() < 1e-9),
        "no tick at ρ = 0.2: {x_ticks:?}"
    );
    // Pixels per unit of ln value, from the tick labels' positions.
    let ax = slope(&x_ticks.iter().map(|t| (t.2.ln(), t.0)).collect::<Vec<_>>());
    let ay = slope(&y_ticks.iter().map(|t| (t.2.ln(), t.1)).collect::<Vec<_>>());
    // The fit line: the longest polyline of stroke width 2 (the legend's
    // sample line is short).
    let length = |l: &Vec<(f64, f64)>| {
        let (a, b) = (l[0], l[l.len() - 1]);
        (b.0 - a.0).hypot(b.1 - a.1)
    };
    let fit = polylines(&svg, "2")
        .into_iter()
        .max_by(|a, b| length(a).total_cmp(&length(b)))
        .expect("a fit line");
    let (a, b) = (fit[0], fit[fit.len() - 1]);
    assert!(length(&fit) > 200.0, "fit line too short: {fit:?}");
    // Straight on log–log axes: every point on the chord (to a pixel).
    for p in &fit {
        let d = ((b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0)).abs() / length(&fit);
        assert!(
            d <= 1.0,
            "fit point {p:?} is {d:.2} px off the straight line {fit:?}"
        );
    }
    // And its slope in ln–ln units is the fitted exponent n.
    let rho: Vec<(f64, f64)> = pts.iter().map(|&(p, e)| (1.0 - p, e)).collect();
    let n = voxfe::fit::fit_gibson_ashby(&rho).unwrap().n;
    let drawn = ((b.1 - a.1) / ay) / ((b.0 - a.0) / ax);
    assert!(
        (drawn - n).abs() < 0.02 * n,
        "drawn exponent {drawn:.4}, fitted {n:.4}"
    );
}

#[test]
fn log_ticks_are_round_values_inside_the_range() {
    use voxfe::plot::log_ticks;
    let close = |got: Vec<f64>, want: &[f64]| {
        assert!(
            got.len() == want.len() && got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-12 * w),
            "{got:?} != {want:?}"
        )
    };
    // Under a decade: evenly spaced round values.
    close(log_ticks(0.12, 0.39), &[0.15, 0.2, 0.25, 0.3, 0.35]);
    close(log_ticks(1.3, 2.4), &[1.4, 1.6, 1.8, 2.0, 2.2, 2.4]);
    // One to two decades: 1, 2, 5.
    close(log_ticks(0.05, 0.7), &[0.05, 0.1, 0.2, 0.5]);
    // Two decades with only two powers of ten inside: 1, 2, 5 again.
    close(
        log_ticks(0.002, 0.9),
        &[0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
    );
    // Three decades or more: powers of ten.
    close(log_ticks(0.001, 2.0), &[0.001, 0.01, 0.1, 1.0]);
    assert!(log_ticks(0.0, 1.0).is_empty() && log_ticks(2.0, 1.0).is_empty());
}

fn slice_text(field: &str, unit: &str) -> SliceText {
    SliceText {
        scene: "bar (bar.toml)".into(),
        load: "three point bending over 60 mm: δ = 0.01 mm (δ/Lz = 0.1 %), F = 123 N".into(),
        field: field.into(),
        unit: unit.into(),
    }
}

#[test]
fn stress_slice_png_has_a_colour_bar() {
    let grid = common::rd_grid(0.15);
    let values: Vec<f32> = (0..grid.solid.len()).map(|i| i as f32).collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slice.png");
    let text = slice_text("von Mises stress (MPa)", "MPa");
    slice_png(&path, &grid, &values, Axis::Y, Some(0.8), &text).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    // A column of the colour bar: a vertical run of coloured (not grey,
    // not white) pixels whose green channel (monotone in viridis) falls
    // from top to bottom, over most of the plot's height.
    let coloured = |p: &image::Rgb<u8>| {
        let (lo, hi) = (p.0.iter().min().unwrap(), p.0.iter().max().unwrap());
        hi - lo > 40
    };
    let ramp = |x: u32| -> (u32, u8, u8) {
        let (mut best, mut run, mut top, mut best_span) = (0, 0, 0u8, (0u8, 0u8));
        for y in 0..h {
            let p = img.get_pixel(x, y);
            let continues = run > 0 && coloured(p) && p.0[1] <= img.get_pixel(x, y - 1).0[1];
            if continues {
                run += 1;
            } else if coloured(p) {
                run = 1;
                top = p.0[1];
            } else {
                run = 0;
            }
            if run > best {
                best = run;
                best_span = (top, p.0[1]);
            }
        }
        (best, best_span.0, best_span.1)
    };
    // Only the strip right of the slice itself.
    let strip = voxfe::plot::COLOUR_BAR_STRIP;
    let bar: Vec<u32> = (w - strip..w)
        .filter(|&x| {
            let (run, top, bottom) = ramp(x);
            run > h / 2 && top > 200 && bottom < 40
        })
        .collect();
    assert!(
        bar.len() >= 10,
        "no colour bar in the right strip of the {w}×{h} slice: columns {bar:?}"
    );
    // Top of the bar yellow (the maximum), bottom dark purple (zero).
    let x = bar[bar.len() / 2];
    let column: Vec<[u8; 3]> = (0..h)
        .map(|y| img.get_pixel(x, y).0)
        .filter(|p| p.iter().max().unwrap() - p.iter().min().unwrap() > 40)
        .collect();
    let (top, bottom) = (column[0], column[column.len() - 1]);
    assert!(top[0] > 200 && top[1] > 200 && top[2] < 100, "top {top:?}");
    assert!(
        bottom[0] < 100 && bottom[1] < 40 && bottom[2] > 60,
        "bottom {bottom:?}"
    );
}

#[test]
fn summary_has_no_fit_quality_through_two_points_and_a_ci_of_n_with_more() {
    let two = rows(&[(0.8, 0.02), (0.7, 0.045)]);
    let s = summary(&manifest(2), &two);
    let line = s
        .lines()
        .find(|l| l.starts_with("| rhombic-dodecahedron | "))
        .unwrap_or_else(|| panic!("no fit row:\n{s}"));
    assert!(line.contains("no fit quality"), "{line}");
    assert!(
        !line.contains("1.00000"),
        "a two-point fit shows an R²: {line}"
    );

    let four = rows(&[(0.85, 0.012), (0.8, 0.02), (0.75, 0.031), (0.7, 0.045)]);
    let s = summary(&manifest(4), &four);
    assert!(
        s.contains("| lattice | C | n | n 95 % CI | R² | cases |"),
        "{s}"
    );
    let line = s
        .lines()
        .find(|l| l.starts_with("| rhombic-dodecahedron | "))
        .unwrap();
    let cells: Vec<&str> = line.split('|').map(str::trim).collect();
    let n: f64 = cells[3].parse().unwrap();
    let ci: Vec<f64> = cells[4]
        .trim_matches(|c| c == '[' || c == ']')
        .split(", ")
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(ci[0] < n && n < ci[1] && ci[1] - ci[0] < 1.0, "{line}");
    // The plot's legend says the same.
    let dir = tempfile::tempdir().unwrap();
    write_plots(dir.path(), &two, &[]).unwrap();
    let svg = std::fs::read_to_string(dir.path().join("modulus-density.svg")).unwrap();
    assert!(svg.contains("no fit quality (2 points)") && !svg.contains("R² 1.000"));
}

/// The slice says what it shows in its text chunks: the scene, the load,
/// the voxel size, the field with its unit, the plane (the mid-plane of an
/// even number of layers is their boundary, both layers' mean drawn) and
/// the percentile colour range with the extremes.
#[test]
fn slice_png_text_names_scene_load_field_unit_plane_and_range() {
    let (nx, ny, nz) = (20, 4, 6);
    let grid = VoxelGrid::full([nx, ny, nz], 0.5);
    // Value x index + 100·(y index): the mid-plane y = 1 mm is the
    // boundary of layers 1 and 2, their mean 150 + x index.
    let mut values: Vec<f32> = (0..nx * ny * nz)
        .map(|v| (v % nx) as f32 + 100.0 * ((v / nx) % ny) as f32)
        .collect();
    // One contact peak on the plane's layers: it stays out of the colour
    // range (1st–99th percentile) and is reported as the maximum.
    values[(nx - 1) + nx * (1 + ny * 2)] = 1.0e6;
    values[(nx - 1) + nx * (2 + ny * 2)] = 1.0e6;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slice.png");
    slice_png(
        &path,
        &grid,
        &values,
        Axis::Y,
        None,
        &slice_text("effective strain EES (mm/mm)", "mm/mm"),
    )
    .unwrap();
    let t = png_text(&path);
    let title = &t["Title"];
    for part in [
        "effective strain EES (mm/mm)",
        "bar (bar.toml)",
        "three point bending over 60 mm",
        "δ = 0.01 mm",
        "F = 123 N",
        "h = 0.5 mm",
        "y = 1 mm (the boundary of layers 1 and 2: their mean)",
    ] {
        assert!(title.contains(part), "no '{part}' in the title: {title}");
    }
    assert_eq!(t["Field"], "effective strain EES (mm/mm)");
    assert_eq!(t["Unit"], "mm/mm");
    let range = &t["Colour range"];
    assert!(
        range.starts_with("colour range: 1st–99th percentile of the plane's solid voxels"),
        "{range}"
    );
    assert!(
        range.contains("min 150 mm/mm, max 1.000e6 mm/mm"),
        "{range}"
    );
    // The top of the range is far below the peak.
    let top: f64 = range
        .split(" to ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no range in {range}"));
    assert!((160.0..=170.0).contains(&top), "{range}");

    // An odd number of layers: the middle one, at its centre.
    let grid = VoxelGrid::full([nx, 5, nz], 0.5);
    let values = vec![1.0f32; nx * 5 * nz];
    slice_png(
        &path,
        &grid,
        &values,
        Axis::Y,
        None,
        &slice_text("σ (MPa)", "MPa"),
    )
    .unwrap();
    let title = &png_text(&path)["Title"];
    assert!(
        title.contains("y = 1.25 mm (layer 2, centre 1.25 mm)"),
        "{title}"
    );
}

/// The docs' convergence study drawn from its JSON: x from h = 0, the
/// fitted curve q∞ + C·hᵖ down to h = 0, the Richardson band with its
/// unit, and the legend's band sample dashed as the line drawn.
#[test]
fn convergence_plot_starts_at_h_0_with_the_fit_band_and_units() {
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/convergence-rd-compression.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("conv");
    let files = voxfe::study::converge::plot::write_plot_of_json(&stem, &json).unwrap();
    let svg = std::fs::read_to_string(&files[1]).unwrap();
    let t = texts(&svg);
    let has = |s: &str| t.iter().any(|x| x.3.contains(s));
    for s in [
        "voxel size h (mm)",
        "E_eff (MPa)",
        "Convergence in the voxel size: rd-compression (compression)",
        "fraction fill: Richardson E_eff∞ = 2789.4 ± 1227.4 MPa",
        "fraction fill: fit E_eff(h) = E_eff∞ + C·h^p",
        "binary fill (not monotone)",
    ] {
        assert!(has(s), "no '{s}' in the SVG's text: {t:?}");
    }
    let text = png_text(&files[0]);
    assert!(
        text["Title"].starts_with("Convergence in the voxel size"),
        "{text:?}"
    );
    assert_eq!(text["x axis"], "voxel size h (mm)");
    assert_eq!(text["y axis"], "E_eff (MPa)");
    assert!(text["Legend"].contains("± 1227.4 MPa"), "{text:?}");
    // The study's provenance rides along.
    assert!(text.contains_key("scene_hash"), "{text:?}");
    // x axis from 0: the leftmost x tick label is "0".
    let x_ticks: Vec<(f64, f64)> = t
        .iter()
        .filter(|x| x.2 == "middle")
        .filter_map(|x| Some((x.0, x.3.parse::<f64>().ok()?)))
        .collect();
    let left = x_ticks
        .iter()
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .expect("x tick labels");
    assert_eq!(left.1, 0.0, "x ticks {x_ticks:?}");
    // The fit: a long polyline of width 2 starting at h = 0.
    let fit = polylines(&svg, "2")
        .into_iter()
        .max_by_key(|l| l.len())
        .expect("a fit curve");
    assert!(fit.len() > 30, "{fit:?}");
    assert!(
        (fit[0].0 - left.0).abs() < 2.0,
        "fit starts at {:?}, h = 0 at x = {}",
        fit[0],
        left.0
    );
    // Also where no fit reaches h = 0 (neither fill asymptotic).
    let p2: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/convergence-rd-compression-p2.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let files = voxfe::study::converge::plot::write_plot_of_json(&stem, &p2).unwrap();
    let t2 = texts(&std::fs::read_to_string(&files[1]).unwrap());
    let left2 = t2
        .iter()
        .filter(|x| x.2 == "middle")
        .filter_map(|x| Some((x.0, x.3.parse::<f64>().ok()?)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .expect("x tick labels");
    assert_eq!(left2.1, 0.0, "p2 x ticks start at {left2:?}");
    // The legend's band sample: two dashes of 9 px on one line, a gap of 6.
    let dashes: Vec<Vec<(f64, f64)>> = polylines(&svg, "2")
        .into_iter()
        .filter(|l| l.len() == 2 && l[0].1 == l[1].1 && (l[1].0 - l[0].0 - 9.0).abs() < 0.5)
        .collect();
    assert!(
        dashes
            .windows(2)
            .any(|d| d[0][0].1 == d[1][0].1 && (d[1][0].0 - d[0][1].0 - 6.0).abs() < 0.5),
        "no dashed legend sample: {dashes:?}"
    );
}

/// The polar plots label distances from the origin: no negative tick.
#[test]
fn polar_plot_has_no_negative_radius_labels() {
    use voxfe::homogenize::polar::plot_directional;
    use voxfe::homogenize::tensor::Stiffness;
    let dir = tempfile::tempdir().unwrap();
    let c = Stiffness::isotropic(2000.0, 0.3);
    let files = plot_directional(&dir.path().join("d"), &[("cell", &c)], "E(d)").unwrap();
    let svg = std::fs::read_to_string(&files[1]).unwrap();
    let numbers: Vec<String> = texts(&svg)
        .into_iter()
        .map(|t| t.3)
        .filter(|s| s.trim_start_matches(['-', '−']).parse::<f64>().is_ok())
        .collect();
    assert!(numbers.len() >= 12, "{numbers:?}");
    assert!(
        numbers.iter().all(|n| !n.starts_with(['-', '−'])),
        "negative radius labels: {numbers:?}"
    );
    assert!(numbers.iter().any(|n| n == "2000"), "{numbers:?}");
    let text = png_text(&files[0]);
    assert_eq!(text["Title"], "E(d)");
    assert!(text["Axes"].contains("E along x (MPa)"), "{text:?}");
}

/// A case whose error band is above the threshold is marked in the
/// summary's status and band cells and ringed in the plot, with the
/// legend entry; one within is plainly "ok".
#[test]
fn cases_with_a_wide_band_are_marked_in_the_summary_and_the_plot() {
    let mut four = rows(&[(0.85, 0.012), (0.8, 0.02), (0.75, 0.031), (0.7, 0.045)]);
    for (i, r) in four.iter_mut().enumerate() {
        let run = r.run.as_mut().unwrap();
        run.accuracy.e_eff_error_estimate = Some(if i == 2 { 0.06 } else { 0.01 });
        run.accuracy.summary.exponent_source = Some("auto".into());
    }
    let s = summary(&manifest(4), &four);
    let status = |case: usize| {
        let line = s
            .lines()
            .find(|l| l.starts_with(&format!("| {case} |")))
            .unwrap_or_else(|| panic!("no case {case}:\n{s}"));
        line.split('|').map(str::trim).nth(3).unwrap().to_string()
    };
    assert_eq!(status(1), "ok", "{s}");
    assert_eq!(status(2), "ok, ⚠ band > 3 %", "{s}");
    assert!(s.contains("| ⚠ ± 6.00 % |"), "{s}");
    let dir = tempfile::tempdir().unwrap();
    write_plots(dir.path(), &four, &[]).unwrap();
    let svg = std::fs::read_to_string(dir.path().join("modulus-density.svg")).unwrap();
    assert!(
        texts(&svg)
            .iter()
            .any(|t| t.3 == "error band above 3 % or no estimate"),
        "no mark legend"
    );
    // One ring (radius 9) for the one marked case.
    assert_eq!(svg.matches("r=\"9\"").count(), 1, "rings");
    let text = png_text(&dir.path().join("modulus-density.png"));
    assert!(text["y axis"].contains("E_eff / E_s (–)"), "{text:?}");
    assert!(text["Legend"].contains("error band above 3 %"), "{text:?}");
}

/// The convergence figures of `docs/` are this code's drawing of the
/// studies' JSON next to them (docs/validation.md gives the commands that
/// made the JSON); `VOXFE_BLESS=1 cargo test --release --test plots`
/// redraws them.
#[test]
fn docs_convergence_figures_are_drawn_from_their_json() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let bless = std::env::var("VOXFE_BLESS").is_ok_and(|v| v == "1");
    for stem in [
        "convergence-rd-compression",
        "convergence-rd-compression-p2",
    ] {
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(docs.join(stem).with_extension("json")).unwrap(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let files = voxfe::study::converge::plot::write_plot_of_json(&dir.path().join(stem), &json)
            .unwrap();
        if bless {
            for f in &files {
                std::fs::copy(f, docs.join(f.file_name().unwrap())).unwrap();
            }
            continue;
        }
        let fresh = std::fs::read_to_string(&files[1]).unwrap();
        let committed = std::fs::read_to_string(docs.join(stem).with_extension("svg")).unwrap();
        assert!(
            fresh == committed,
            "docs/{stem}.svg is not this code's drawing of docs/{stem}.json; run \
             `VOXFE_BLESS=1 cargo test --release --test plots` and commit the result"
        );
    }
}
