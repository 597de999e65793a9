//! `voxfe converge --compare-fill`: the same study once per voxel fill
//! (binary, then fraction) on the same voxel sizes, so that both
//! sequences can be compared and plotted on one chart.

use std::path::Path;

use super::run::prepare;
use super::{run_levels, ConvergeError, ConvergeReport};
use crate::report::RunReport;
use crate::scene::{Backend, Fill};

/// The fills `--compare-fill` runs, in this order.
pub const COMPARE_FILLS: [Fill; 2] = [Fill::Binary, Fill::Fraction];

/// `voxfe converge --compare-fill`: the study of [`run`] once per fill of
/// [`COMPARE_FILLS`] on the same voxel sizes (planned from the scene's
/// h, which the fill does not change; `voxel.fraction_exponent` in `set`
/// applies to the fraction leg only). Both fills' levels are checked
/// before the first solve; an override of `voxel.fill` in `set` is an
/// error. `on_level(fill, i, report)` after each solve.
#[allow(clippy::too_many_arguments)]
pub fn run_fills(
    path: &Path,
    set: &[String],
    levels: usize,
    ratio: f64,
    quantities: &[String],
    backend: Option<Backend>,
    mut on_level: impl FnMut(Fill, usize, &RunReport),
) -> Result<Vec<(Fill, ConvergeReport)>, ConvergeError> {
    if let Some(s) = set.iter().find(|s| {
        s.split_once('=')
            .is_some_and(|(k, _)| k.trim() == "voxel.fill")
    }) {
        return Err(ConvergeError::FillConflict { set: s.clone() });
    }
    let prepared = COMPARE_FILLS
        .iter()
        .map(|&fill| {
            let mut set = set.to_vec();
            set.push(format!("voxel.fill={}", fill.name()));
            // A fraction exponent given for the fraction leg has no
            // meaning for binary voxels (and is refused there).
            if fill == Fill::Binary {
                set.push("voxel.fraction_exponent=1".to_string());
            }
            prepare(path, &set, levels, ratio, quantities).map(|p| (fill, p))
        })
        .collect::<Result<Vec<_>, _>>()?;
    prepared
        .into_iter()
        .map(|(fill, (scenes, notes, names))| {
            run_levels(&scenes, notes, &names, ratio, backend, |i, r| {
                on_level(fill, i, r)
            })
            .map(|r| (fill, r))
        })
        .collect()
}
