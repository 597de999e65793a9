// Second pass of ρ' = r·D⁻¹r and ‖r‖², then β = ρ'/ρ and ρ = ρ' on the
// device. `reduce_start` does the same for the first iteration (β = 0).
// CPU mirror: src/gpu/mirror/reduce_beta.rs `reduce_beta`.
#import shared/params.wgsl

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> scalars: array<f32>;

var<workgroup> rz_sums: array<f32, REDUCE_WG>;
var<workgroup> rr_sums: array<f32, REDUCE_WG>;

fn reduce(li: u32) {
    var rz = 0.0;
    var rr = 0.0;
    for (var i = li; i < params.n_partials; i = i + REDUCE_WG) {
        rz = rz + partials[2u * i];
        rr = rr + partials[2u * i + 1u];
    }
    rz_sums[li] = rz;
    rr_sums[li] = rr;
    workgroupBarrier();
    for (var w = REDUCE_WG / 2u; w > 0u; w = w >> 1u) {
        if (li < w) {
            rz_sums[li] = rz_sums[li] + rz_sums[li + w];
            rr_sums[li] = rr_sums[li] + rr_sums[li + w];
        }
        workgroupBarrier();
    }
}

@compute @workgroup_size(REDUCE_WG)
fn reduce_beta(@builtin(local_invocation_index) li: u32) {
    reduce(li);
    if (li == 0u) {
        let rho_new = rz_sums[0];
        scalars[RHO_NEW] = rho_new;
        scalars[RR] = rr_sums[0];
        if (scalars[RHO] != 0.0) {
            scalars[BETA] = rho_new / scalars[RHO];
        } else {
            scalars[BETA] = 0.0;
        }
        scalars[RHO] = rho_new;
    }
}

@compute @workgroup_size(REDUCE_WG)
fn reduce_start(@builtin(local_invocation_index) li: u32) {
    reduce(li);
    if (li == 0u) {
        scalars[RHO_NEW] = rz_sums[0];
        scalars[RHO] = rz_sums[0];
        scalars[RR] = rr_sums[0];
        scalars[BETA] = 0.0;
        scalars[ALPHA] = 0.0;
        scalars[BREAKDOWN] = 0.0;
    }
}
