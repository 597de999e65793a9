// The J2 stress update at the 2×2×2 Gauss points of every solid voxel (a
// brick) and the internal forces, in f64 (adapters with SHADER_F64): the
// host's src/plastic/material.rs `J2::update` and src/plastic/elements.rs
// `Assembly::internal_force`, term for term.
// - plastic_update, one thread per brick: the element displacements, the
//   strains of the 8 points (with B̄ each takes the brick's mean volumetric
//   strain), the radial return from the converged state, each point's trial
//   state and compact tangent (f32, for plastic_tangent.wgsl), and
//   w·det J·Σ_g B̄ᵀσ_g into the brick's 24 forces; the yielding points
//   counted.
// - plastic_force, one thread per active node: the forces of the ≤ 8 bricks
//   around it, in pattern-bit order (no atomics: the sums do not depend on
//   the schedule).
// CPU mirror: src/gpu/mirror/plastic_update.rs.
#import shared/params.wgsl
#import shared/plastic_params.wgsl
#import shared/plastic_brick.wgsl

alias Real = f64;

@group(0) @binding(0) var<uniform> params: PlasticParams;
// Active index of local node a of brick e: brick_nodes[8e + a].
@group(0) @binding(1) var<storage, read> brick_nodes: array<u32>;
// K, G, σ_y, H, √(3/2), three unused, then the gradients from GRADS.
@group(0) @binding(2) var<storage, read> constants: array<f64>;
// w_e · det J of each brick.
@group(0) @binding(3) var<storage, read> scale: array<f64>;
// Displacement, 3 per active node.
@group(0) @binding(4) var<storage, read> u: array<f64>;
// Converged state of point 8e + g: plastic strain (6, engineering shears),
// then the equivalent plastic strain: 7 values.
@group(0) @binding(5) var<storage, read> old_state: array<f64>;
@group(0) @binding(6) var<storage, read_write> trial_state: array<f64>;
// Compact tangent of point 8e + g: a, b, then N (6): 8 values.
@group(0) @binding(7) var<storage, read_write> tangent: array<f32>;
// The 24 forces of each brick.
@group(0) @binding(8) var<storage, read_write> forces: array<f64>;
// Points yielding in this update (zeroed by the host before it).
@group(0) @binding(9) var<storage, read_write> yielding: atomic<u32>;
// Per active node, the brick of each of its 8 voxels (pattern bit c), or
// NO_BRICK; the node is local corner 7 − c of it.
@group(0) @binding(10) var<storage, read> node_bricks: array<u32>;
// Internal forces, 3 per active node.
@group(0) @binding(11) var<storage, read_write> force: array<f64>;

fn grad(g: u32, a: u32, i: u32) -> f64 {
    return constants[GRADS + 24u * g + 3u * a + i];
}

@compute @workgroup_size(WG_NODES)
fn plastic_update(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = linear_group(wg, num) * WG_NODES + li;
    if (e >= params.n_bricks) {
        return;
    }
    let bulk = constants[0];
    let shear = constants[1];
    let yield_strength = constants[2];
    let hardening = constants[3];
    let root = constants[4];
    var ue: array<Real, 24>;
    for (var a = 0u; a < 8u; a = a + 1u) {
        let n = brick_nodes[8u * e + a];
        for (var q = 0u; q < 3u; q = q + 1u) {
            ue[3u * a + q] = u[3u * n + q];
        }
    }
    var eps = brick_strains(ue);
    if (params.mean_dilatation != 0u) {
        eps = mean_dilatation(eps);
    }
    // Radial return at each point (src/plastic/material.rs).
    var stress: array<Real, 48>;
    var count = 0u;
    for (var g = 0u; g < 8u; g = g + 1u) {
        let pt = 8u * e + g;
        var ee: array<f64, 6>;
        for (var i = 0u; i < 6u; i = i + 1u) {
            ee[i] = eps[6u * g + i] - old_state[7u * pt + i];
        }
        let alpha = old_state[7u * pt + 6u];
        let tr = ee[0] + ee[1] + ee[2];
        var s: array<f64, 6>;
        for (var i = 0u; i < 3u; i = i + 1u) {
            s[i] = 2.0lf * shear * (ee[i] - tr / 3.0lf);
            s[i + 3u] = shear * ee[i + 3u];
        }
        let norm = sqrt(s[0] * s[0] + s[1] * s[1] + s[2] * s[2]
            + 2.0lf * (s[3] * s[3] + s[4] * s[4] + s[5] * s[5]));
        let q = root * norm;
        let f = q - (yield_strength + hardening * alpha);
        let p = bulk * tr;
        if (f <= 0.0lf || norm == 0.0lf) {
            for (var i = 0u; i < 6u; i = i + 1u) {
                stress[6u * g + i] = s[i];
                trial_state[7u * pt + i] = old_state[7u * pt + i];
                tangent[8u * pt + 2u + i] = 0.0;
            }
            for (var i = 0u; i < 3u; i = i + 1u) {
                stress[6u * g + i] = stress[6u * g + i] + p;
            }
            trial_state[7u * pt + 6u] = alpha;
            tangent[8u * pt] = f32(2.0lf * shear);
            tangent[8u * pt + 1u] = 0.0;
            continue;
        }
        count = count + 1u;
        let dgamma = f / (3.0lf * shear + hardening);
        let shrink = 1.0lf - 3.0lf * shear * dgamma / q;
        let flow = root * dgamma;
        for (var i = 0u; i < 6u; i = i + 1u) {
            let ni = s[i] / norm;
            stress[6u * g + i] = shrink * s[i];
            // Engineering shears: twice the tensor component.
            var eng = 1.0lf;
            if (i >= 3u) {
                eng = 2.0lf;
            }
            trial_state[7u * pt + i] = old_state[7u * pt + i] + flow * eng * ni;
            tangent[8u * pt + 2u + i] = f32(ni);
        }
        for (var i = 0u; i < 3u; i = i + 1u) {
            stress[6u * g + i] = stress[6u * g + i] + p;
        }
        trial_state[7u * pt + 6u] = alpha + dgamma;
        tangent[8u * pt] = f32(2.0lf * shear * shrink);
        tangent[8u * pt + 1u] = f32(6.0lf * shear * shear * (dgamma / q - 1.0lf / (3.0lf * shear + hardening)));
    }
    if (count > 0u) {
        atomicAdd(&yielding, count);
    }
    // B̄ᵀ: each point's pressure replaced by the brick's mean.
    if (params.mean_dilatation != 0u) {
        stress = mean_dilatation(stress);
    }
    let fe = brick_forces(stress, scale[e]);
    for (var i = 0u; i < 24u; i = i + 1u) {
        forces[24u * e + i] = fe[i];
    }
}

@compute @workgroup_size(WG_NODES)
fn plastic_force(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let n = linear_group(wg, num) * WG_NODES + li;
    if (n >= params.n_nodes) {
        return;
    }
    var acc = vec3<f64>(0.0lf, 0.0lf, 0.0lf);
    for (var c = 0u; c < 8u; c = c + 1u) {
        let e = node_bricks[8u * n + c];
        if (e == NO_BRICK) {
            continue;
        }
        let b = 24u * e + 3u * (7u - c);
        acc = acc + vec3<f64>(forces[b], forces[b + 1u], forces[b + 2u]);
    }
    force[3u * n] = acc.x;
    force[3u * n + 1u] = acc.y;
    force[3u * n + 2u] = acc.z;
}
