//! `voxfe converge --compare-fill`: the same study once per voxel fill
//! (binary, then fraction) on the same voxel sizes, so that both
//! sequences can be compared and plotted on one chart.

use super::run::prepare;
use super::{run_levels, ConvergeError, ConvergeReport};
use crate::report::RunReport;
use crate::scene::{Fill, Scene};

/// The fills `--compare-fill` runs, in this order.
pub const COMPARE_FILLS: [Fill; 2] = [Fill::Binary, Fill::Fraction];

/// The overrides of the scene a fill comparison starts from: `set` with
/// `voxel.fill=fraction` (its fraction leg, where every key,
/// `voxel.fraction_exponent` included, applies). An override of
/// `voxel.fill` in `set` is an error: the comparison sets the fill itself.
pub fn compare_fill_overrides(set: &[String]) -> Result<Vec<String>, ConvergeError> {
    if let Some(s) = set.iter().find(|s| {
        s.split_once('=')
            .is_some_and(|(k, _)| k.trim() == "voxel.fill")
    }) {
        return Err(ConvergeError::FillConflict { set: s.clone() });
    }
    let mut leg = set.to_vec();
    leg.push("voxel.fill=fraction".into());
    Ok(leg)
}

/// `voxfe converge --compare-fill`: the study of [`super::run`] once per
/// fill of [`COMPARE_FILLS`] on the same voxel sizes (planned from the
/// scene's h, which the fill does not change). `fraction` is the fraction
/// leg (the scene loaded with [`compare_fill_overrides`]); the binary leg
/// is the same scene with `voxel.fill = "binary"` and no fraction exponent
/// (which has no meaning for binary voxels, and is refused there). Both
/// fills' levels are checked before the first solve. `on_level(fill, i,
/// report)` after each solve.
pub fn run_fills(
    fraction: &Scene,
    levels: usize,
    ratio: f64,
    quantities: &[String],
    mut on_level: impl FnMut(Fill, usize, &RunReport),
) -> Result<Vec<(Fill, ConvergeReport)>, ConvergeError> {
    let prepared = COMPARE_FILLS
        .iter()
        .map(|&fill| {
            let leg = match fill {
                Fill::Fraction => fraction.clone(),
                Fill::Binary => fraction.with_settings(&[
                    crate::scene::Setting::new("voxel.fill", fill.name()),
                    crate::scene::Setting::new("voxel.fraction_exponent", 1),
                ])?,
            };
            prepare(&leg, levels, ratio, quantities).map(|p| (fill, p))
        })
        .collect::<Result<Vec<_>, _>>()?;
    prepared
        .into_iter()
        .map(|(fill, (scenes, notes, names))| {
            run_levels(&scenes, notes, &names, ratio, |i, r| on_level(fill, i, r))
                .map(|r| (fill, r))
        })
        .collect()
}
