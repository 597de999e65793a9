//! WGSL sources: one file per kernel in `shaders/`, code they share in
//! `shaders/shared/`, joined by a one-line `#import` expander.

/// Shared WGSL files, by import path.
const SHARED: &[(&str, &str)] = &[
    (
        "shared/params.wgsl",
        include_str!("../../shaders/shared/params.wgsl"),
    ),
    (
        "shared/mg_params.wgsl",
        include_str!("../../shaders/shared/mg_params.wgsl"),
    ),
    (
        "shared/mg_galerkin_params.wgsl",
        include_str!("../../shaders/shared/mg_galerkin_params.wgsl"),
    ),
    (
        "shared/mg_galerkin_row.wgsl",
        include_str!("../../shaders/shared/mg_galerkin_row.wgsl"),
    ),
    (
        "shared/reliable_body.wgsl",
        include_str!("../../shaders/shared/reliable_body.wgsl"),
    ),
    (
        "shared/plastic_params.wgsl",
        include_str!("../../shaders/shared/plastic_params.wgsl"),
    ),
    (
        "shared/plastic_brick.wgsl",
        include_str!("../../shaders/shared/plastic_brick.wgsl"),
    ),
];

/// Every kernel: (file, entry points).
pub const KERNELS: &[(&str, &str, &[&str])] = &[
    (
        "apply_k.wgsl",
        include_str!("../../shaders/apply_k.wgsl"),
        &["apply_k"],
    ),
    (
        "jacobi_diag.wgsl",
        include_str!("../../shaders/jacobi_diag.wgsl"),
        &["jacobi_diag"],
    ),
    (
        "dot_partial.wgsl",
        include_str!("../../shaders/dot_partial.wgsl"),
        &["dot_partial", "dot_pair"],
    ),
    (
        "reduce_alpha.wgsl",
        include_str!("../../shaders/reduce_alpha.wgsl"),
        &["reduce_alpha"],
    ),
    (
        "update_xr.wgsl",
        include_str!("../../shaders/update_xr.wgsl"),
        &["update_xr"],
    ),
    (
        "reduce_beta.wgsl",
        include_str!("../../shaders/reduce_beta.wgsl"),
        &["reduce_beta", "reduce_start"],
    ),
    (
        "update_p.wgsl",
        include_str!("../../shaders/update_p.wgsl"),
        &["update_p"],
    ),
    (
        "update_pz.wgsl",
        include_str!("../../shaders/update_pz.wgsl"),
        &["update_pz"],
    ),
    (
        "mg_apply.wgsl",
        include_str!("../../shaders/mg_apply.wgsl"),
        &["mg_apply"],
    ),
    (
        "mg_smooth.wgsl",
        include_str!("../../shaders/mg_smooth.wgsl"),
        &["chebyshev", "residual"],
    ),
    (
        "mg_transfer.wgsl",
        include_str!("../../shaders/mg_transfer.wgsl"),
        &["restrict_residual", "prolong_add"],
    ),
    (
        "mg_coarse.wgsl",
        include_str!("../../shaders/mg_coarse.wgsl"),
        &["coarse_solve"],
    ),
    (
        "mg_galerkin_fine.wgsl",
        include_str!("../../shaders/mg_galerkin_fine.wgsl"),
        &["galerkin_fine"],
    ),
    (
        "mg_galerkin_stencil.wgsl",
        include_str!("../../shaders/mg_galerkin_stencil.wgsl"),
        &["galerkin_stencil"],
    ),
    (
        "mg_galerkin_diag.wgsl",
        include_str!("../../shaders/mg_galerkin_diag.wgsl"),
        &["fine_inverse_diagonal", "stencil_inverse_diagonal"],
    ),
    (
        "reliable_f64.wgsl",
        include_str!("../../shaders/reliable_f64.wgsl"),
        &["accumulate", "residual", "reduce_rr"],
    ),
    (
        "reliable_ds.wgsl",
        include_str!("../../shaders/reliable_ds.wgsl"),
        &["accumulate", "residual", "reduce_rr"],
    ),
    (
        "plastic_update.wgsl",
        include_str!("../../shaders/plastic_update.wgsl"),
        &["plastic_update", "plastic_force"],
    ),
    (
        "plastic_tangent.wgsl",
        include_str!("../../shaders/plastic_tangent.wgsl"),
        &["tangent_brick", "tangent_gather"],
    ),
];

/// The source of kernel file `name` with its `#import` lines expanded.
pub fn source(name: &str) -> Option<String> {
    let (_, text, _) = KERNELS.iter().find(|k| k.0 == name)?;
    Some(expand(text))
}

fn expand(text: &str) -> String {
    text.lines()
        .map(|line| match line.trim().strip_prefix("#import ") {
            Some(path) => SHARED
                .iter()
                .find(|s| s.0 == path.trim())
                .map(|s| s.1.to_string())
                .unwrap_or_else(|| panic!("unknown WGSL import {path}")),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses and validates a WGSL source with naga (no adapter needed); f64
/// is allowed (`reliable_f64.wgsl` and `plastic_update.wgsl` use it, on
/// adapters with `SHADER_F64`).
pub fn validate(name: &str, source: &str) -> Result<(), String> {
    let module = naga::front::wgsl::parse_str(source)
        .map_err(|e| format!("{name}: {}", e.emit_to_string(source)))?;
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::FLOAT64,
    )
    .validate(&module)
    .map_err(|e| format!("{name}: {e:?}"))?;
    Ok(())
}
